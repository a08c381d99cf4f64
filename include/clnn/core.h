/*
 * clnn core API: status codes, device listing, contexts (device + queue + program cache) and
 * float32 device tensors. Every other part of clnn builds on these. Include <clnn.h>, which
 * includes this header and every op family.
 */
#ifndef CLNN_CORE_H
#define CLNN_CORE_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <stddef.h>
#include <stdint.h>

#if defined(CLNN_STATIC) || !defined(CLNN_BUILDING_LIBRARY)
#define CLNN_API
#else
#define CLNN_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup core Status, devices, contexts and tensors
 * @{ */

/** Result of every public clnn function. CLNN_SUCCESS is 0; clnn_status_string() names each. */
typedef enum clnn_status {
    CLNN_SUCCESS = 0,           /**< the call did what it was asked */
    CLNN_ERR_INVALID_ARGUMENT,  /**< a NULL pointer, unknown enum value or parameter out of range */
    CLNN_ERR_INVALID_SHAPE,     /**< a rank or dimension out of range, or shapes that disagree */
    CLNN_ERR_SIZE_OVERFLOW,     /**< a size whose element or byte count overflows */
    CLNN_ERR_CONTEXT_MISMATCH,  /**< tensors or objects from different contexts mixed in a call */
    CLNN_ERR_NO_PLATFORM,       /**< no OpenCL platform is installed (install POCL for the CPU) */
    CLNN_ERR_NO_DEVICE,         /**< no device matches the selector, or the platform has none */
    CLNN_ERR_HOST_MEMORY,       /**< a host allocation failed */
    CLNN_ERR_DEVICE_MEMORY,     /**< the device could not allocate a buffer or resources */
    CLNN_ERR_OPENCL,            /**< an OpenCL call failed; the message names the call and code */
    CLNN_ERR_BUILD,             /**< a kernel program failed to build; see clnn_context_build_log() */
    CLNN_ERR_KERNEL_SOURCE,     /**< a kernel source file is missing or unreadable */
    CLNN_ERR_IO,                /**< a file could not be opened, read or written */
    CLNN_ERR_CORRUPT,           /**< a file failed its checksum or is truncated */
    CLNN_ERR_FORMAT,            /**< a file is not in the expected format or version */
    CLNN_ERR_MISMATCH,          /**< a file or state does not match the object it is loaded into */
    CLNN_ERR_NON_FINITE,        /**< a NaN or Inf was found where a finite value is required */
    CLNN_ERR_OUT_OF_RANGE,      /**< an index or label outside its valid range */
    CLNN_ERR_BLAS,              /**< CLBlast reported an error; the message holds its code */
    CLNN_ERR_UNSUPPORTED,       /**< the device or object lacks a capability the call needs */
    CLNN_STATUS_COUNT
} clnn_status;

/**
 * @brief Names a status code ("CLNN_ERR_INVALID_SHAPE: ...").
 * @param status (input) any value; unknown values give "unknown clnn status".
 * @return a static string, never NULL.
 */
CLNN_API const char *clnn_status_string(clnn_status status);

/** @brief The library version, "MAJOR.MINOR.PATCH" (static string). */
CLNN_API const char *clnn_version_string(void);

/** The largest number of elements a tensor may hold (2^31 - 1, 8 GiB of floats). Kernels index
 * with 32-bit arithmetic, which is fastest on GPUs and safe below this bound. */
#define CLNN_MAX_ELEMENTS ((size_t)0x7fffffff)
/** The largest rank of a tensor. */
#define CLNN_MAX_DIMS 4

/* ---------------------------------------------------------------------------------------------
 * Devices
 * ------------------------------------------------------------------------------------------- */

/** Kind of an OpenCL device. */
typedef enum clnn_device_type {
    CLNN_DEVICE_TYPE_CPU,
    CLNN_DEVICE_TYPE_GPU,
    CLNN_DEVICE_TYPE_ACCELERATOR,
    CLNN_DEVICE_TYPE_OTHER,
    CLNN_DEVICE_TYPE_COUNT
} clnn_device_type;

/** What clnn knows of one OpenCL device. Strings are NUL-terminated and truncated to fit. */
typedef struct clnn_device_info {
    size_t index;                 /**< flat index over all platforms, as clnn_device_count() */
    unsigned platform_index;      /**< platform position in clGetPlatformIDs order */
    unsigned device_index;        /**< device position within its platform */
    clnn_device_type type;
    char platform_name[128];
    char platform_vendor[128];
    char device_name[128];
    char device_vendor[128];
    char driver_version[64];
    char device_version[64];      /**< "OpenCL 1.2 ..." */
    char opencl_c_version[64];    /**< "OpenCL C 1.2 ..." */
    cl_uint compute_units;
    cl_uint max_clock_mhz;
    cl_ulong global_mem_bytes;
    cl_ulong local_mem_bytes;
    cl_ulong max_alloc_bytes;
    size_t max_work_group_size;
    int fp64;                     /**< 1 when the device supports double precision */
    cl_platform_id platform;
    cl_device_id device;
} clnn_device_info;

/** @brief The name of a device type ("CPU", "GPU", ...), a static string. */
CLNN_API const char *clnn_device_type_string(clnn_device_type type);

/**
 * @brief Counts the OpenCL devices of every platform.
 * @param count (output) number of devices; 0 is not an error when platforms exist.
 * @return CLNN_ERR_NO_PLATFORM when no OpenCL platform is installed.
 */
CLNN_API clnn_status clnn_device_count(size_t *count);

/**
 * @brief Describes device number @p index (0 .. clnn_device_count() - 1).
 * @param index (input) flat device index.
 * @param info (output) the device's properties.
 */
CLNN_API clnn_status clnn_device_get_info(size_t index, clnn_device_info *info);

/** How kernels are laid out for a device. Every op has both forms and both give correct results
 * on every device; the device profile picks the faster one, and an override runs either form
 * anywhere (testing, or a device the profile misjudges). */
typedef enum clnn_kernel_forms {
    CLNN_KERNEL_FORMS_AUTO, /**< chosen by the device profile: CPU forms on CPU devices, else GPU */
    CLNN_KERNEL_FORMS_CPU,  /**< work-items own rows or long runs with wide vectors, groups of one
                                 where a work-item reduces: what CPU cores run fastest */
    CLNN_KERNEL_FORMS_GPU,  /**< one element per work-item (coalesced), local-memory tree
                                 reductions: what GPUs run fastest */
    CLNN_KERNEL_FORMS_COUNT
} clnn_kernel_forms;

/** @brief The name of a kernel form ("auto", "cpu", "gpu"), a static string. */
CLNN_API const char *clnn_kernel_forms_string(clnn_kernel_forms forms);

/** What clnn decided for a context's device: the one place where kernel layouts are chosen, from
 * queried capabilities and the table of known driver quirks (src/profile.c). */
typedef struct clnn_device_profile {
    clnn_kernel_forms forms;     /**< the forms in use: CLNN_KERNEL_FORMS_CPU or _GPU */
    clnn_kernel_forms native_forms; /**< the forms the profile chooses for this device */
    int forms_overridden;        /**< 1 when forms came from the option or CLNN_KERNEL_FORMS */
    int prefetch;                /**< 1 when the CPU forms request cache lines ahead */
    int denormals;               /**< 1 when float keeps subnormal values (CL_FP_DENORM); 0: the
                                      device may flush them, and results below FLT_MIN, to zero */
    int fp64;                    /**< 1 when the device supports double precision */
    cl_uint vector_width_float;  /**< CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT */
    size_t max_work_group_size;  /**< CL_DEVICE_MAX_WORK_GROUP_SIZE */
    cl_ulong local_mem_bytes;    /**< CL_DEVICE_LOCAL_MEM_SIZE */
    char quirks[256];            /**< the driver quirks applied, comma-separated ("" for none) */
    int binary_cache;            /**< 1 when built programs are kept in clnn's disk cache; 0 where
                                      the driver keeps its own and asking it for binaries costs
                                      more than it saves (POCL: quirk "no-binary-cache").
                                      CLNN_BINARY_CACHE=on or off overrides the choice */
    int lanewise_math;           /**< 1 when the CPU forms compute their 16-lane activation math
                                      one lane at a time, where the driver compiles float16 math
                                      very slowly (Mesa rusticl: quirk "lanewise-math") */
    int blocked_kernels;         /**< 1 when the CPU forms use their largest register-blocked
                                      kernels (implicit convolutions, batch norm's resident
                                      forms); 0 in the GPU forms and where the driver takes
                                      minutes to compile them (Mesa rusticl: quirk
                                      "no-blocked-kernels") */
} clnn_device_profile;

/* ---------------------------------------------------------------------------------------------
 * Contexts
 * ------------------------------------------------------------------------------------------- */

/** A device, its in-order command queue and the kernel programs built for it. A context must not
 * be used from two threads at once; use one context per thread. */
typedef struct clnn_context clnn_context;

/** Options for clnn_context_create(); clnn_context_options_init() sets the defaults. */
typedef struct clnn_context_options {
    /** Device selector: "P:D" (platform and device index), "N" (flat index), or a
     * case-insensitive substring of the platform or device name or vendor ("pocl", "nvidia",
     * "pthread"). NULL: the CLNN_DEVICE environment variable, else the first GPU, else the first
     * CPU, else the first device. */
    const char *device;
    /** Directory of the compiled-program cache. NULL: $CLNN_CACHE_DIR, else $XDG_CACHE_HOME/clnn,
     * else ~/.cache/clnn. "off" (here or in $CLNN_CACHE_DIR) disables the disk cache.
     * Compiled programs are native code on some drivers, so the directory is a trust boundary:
     * clnn creates it (and any missing parent) with mode 0700, and does not use a directory
     * that another user owns or can write, nor one under a directory that a user other than
     * root owns, or that others can write without the sticky bit (as /tmp has); it then builds
     * every program, with the reason in clnn_cache_stats::note. An entry file that another
     * user owns or can write is refused and rebuilt the same way. */
    const char *cache_dir;
    /** Directory to read kernel sources from instead of the embedded copies (kernel
     * development). NULL: $CLNN_KERNEL_DIR, else the embedded kernels. */
    const char *kernel_dir;
    /** Non-zero: create the queue with CL_QUEUE_PROFILING_ENABLE. */
    int enable_profiling;
    /** How kernels are laid out (see clnn_kernel_forms). CLNN_KERNEL_FORMS_AUTO (the default,
     * 0): the CLNN_KERNEL_FORMS environment variable ("cpu", "gpu" or "auto"), else the device
     * profile's choice. */
    clnn_kernel_forms kernel_forms;
} clnn_context_options;

/** @brief Sets @p options to the defaults (every field NULL or 0). */
CLNN_API clnn_status clnn_context_options_init(clnn_context_options *options);

/**
 * @brief Creates a context on the device chosen by @p options (see clnn_context_options).
 * @param ctx (output) the new context; unchanged on failure.
 * @param options (input) NULL for the defaults.
 * @return CLNN_ERR_NO_PLATFORM when no OpenCL platform exists, CLNN_ERR_NO_DEVICE when the
 *         selector matches nothing (the message lists the devices).
 */
CLNN_API clnn_status clnn_context_create(clnn_context **ctx, const clnn_context_options *options);

/**
 * @brief Creates a context on the caller's existing in-order command queue. The queue and its
 * OpenCL context are retained for the clnn context's lifetime and released by
 * clnn_context_destroy() only as far as clnn retained them: the caller still owns, and releases,
 * its own references. Cache and kernel directories and the kernel forms come from the environment as for
 * defaults.
 * @param ctx (output) the new context; unchanged on failure.
 * @param queue (input) an in-order command queue (out-of-order queues give CLNN_ERR_UNSUPPORTED).
 */
CLNN_API clnn_status clnn_context_create_with_queue(clnn_context **ctx, cl_command_queue queue);

/** @brief Waits for queued work, then releases everything the context created. NULL is allowed. */
CLNN_API clnn_status clnn_context_destroy(clnn_context *ctx);

/**
 * @brief The detailed message of the last error raised on @p ctx, naming the argument or shape at
 * fault. With NULL: the last message of any clnn call on this thread (for calls that had no
 * context, such as clnn_context_create). Successful calls leave the message as it was.
 * @return a string owned by clnn, valid until the next clnn call on that context or thread.
 */
CLNN_API const char *clnn_context_last_error(const clnn_context *ctx);

/** @brief The full compiler log of the last kernel build on @p ctx ("" when none). */
CLNN_API const char *clnn_context_build_log(const clnn_context *ctx);

/** @brief The context's device profile: the kernel forms in use and why. */
CLNN_API clnn_status clnn_context_get_profile(const clnn_context *ctx,
                                              clnn_device_profile *profile);

/** @brief Describes the context's device. */
CLNN_API clnn_status clnn_context_get_device_info(const clnn_context *ctx, clnn_device_info *info);

/** @brief The context's command queue (not retained for the caller). */
CLNN_API clnn_status clnn_context_get_queue(const clnn_context *ctx, cl_command_queue *queue);

/** @brief Blocks until every operation queued on the context has finished. */
CLNN_API clnn_status clnn_context_finish(clnn_context *ctx);

/**
 * @brief Builds and runs a small known-answer kernel on the device and checks the result exactly.
 * @return CLNN_SUCCESS when the device computed the right answer, CLNN_ERR_MISMATCH when not.
 */
CLNN_API clnn_status clnn_context_self_check(clnn_context *ctx);

/**
 * @brief Builds (or loads from the caches) the library's shared kernel program now, instead of at
 * the first operation that needs it: the kernels of every family except batch norm, and those
 * built for an activation other than the identity, which stay separate programs built at first
 * use. A first build can take a second or more (POCL 3.1 on a 2-core CPU: about 0.9 s, its
 * compiler's start-up included), so a program can call this while another of its threads loads
 * data, as clnn-train does. Calling it again does nothing.
 * @return CLNN_SUCCESS, or CLNN_ERR_BUILD / CLNN_ERR_KERNEL_SOURCE with the message naming the
 * program (and clnn_context_build_log() holding the compiler's log).
 */
CLNN_API clnn_status clnn_context_build_programs(clnn_context *ctx);

/** Counters of the compiled-program cache of one context. */
typedef struct clnn_cache_stats {
    int enabled;                    /**< 1 when the disk cache is in use */
    char directory[512];            /**< the cache directory ("" when disabled) */
    unsigned long programs_built;   /**< programs compiled from source */
    unsigned long disk_hits;        /**< programs loaded from a valid cache entry */
    unsigned long disk_misses;      /**< lookups that found no entry */
    unsigned long disk_rejected;    /**< entries found corrupt, truncated or foreign, and rebuilt */
    unsigned long disk_writes;      /**< entries written */
    unsigned long disk_write_errors;/**< entries that could not be written (caching goes on) */
    /** Why the disk cache is off or the last entry was refused ("" when neither): the cache is a
     * trust boundary (see clnn_context_options::cache_dir). */
    char note[256];
} clnn_cache_stats;

/** @brief Reads the context's program-cache counters. */
CLNN_API clnn_status clnn_context_get_cache_stats(const clnn_context *ctx, clnn_cache_stats *stats);

/* ---------------------------------------------------------------------------------------------
 * Tensors
 * ------------------------------------------------------------------------------------------- */

/** A float32 tensor in device memory, 1 to 4 dimensions, row-major (NCHW for 4-D). */
typedef struct clnn_tensor clnn_tensor;

/**
 * @brief Allocates an uninitialised tensor of shape dims[0] x ... x dims[ndim-1].
 * @param ctx (input) the context whose device holds the tensor.
 * @param ndim (input) 1 to CLNN_MAX_DIMS.
 * @param dims (input) ndim sizes, each at least 1; at most CLNN_MAX_ELEMENTS elements in all.
 * @param tensor (output) the new tensor; unchanged on failure.
 */
CLNN_API clnn_status clnn_tensor_create(clnn_context *ctx, int ndim, const size_t *dims,
                                        clnn_tensor **tensor);

/**
 * @brief Makes a tensor over the caller's buffer, which must belong to the context's OpenCL
 * context and hold at least the shape's bytes. clnn retains the buffer while the tensor lives and
 * releases only its own reference; the caller's reference stays the caller's.
 */
CLNN_API clnn_status clnn_tensor_wrap(clnn_context *ctx, cl_mem buffer, int ndim,
                                      const size_t *dims, clnn_tensor **tensor);

/** @brief Frees the tensor (and its buffer, unless wrapped). NULL is allowed. */
CLNN_API clnn_status clnn_tensor_destroy(clnn_tensor *tensor);

/** @brief Copies @p count floats (which must equal the tensor's element count) from the host;
 * returns when the host array may be reused. */
CLNN_API clnn_status clnn_tensor_upload(clnn_tensor *tensor, const float *host, size_t count);

/** @brief Copies the tensor's @p count floats (which must equal its element count) to the host,
 * after all queued work that writes it; returns when the data is there. */
CLNN_API clnn_status clnn_tensor_download(const clnn_tensor *tensor, float *host, size_t count);

/** @brief Sets every element to @p value (queued). */
CLNN_API clnn_status clnn_tensor_fill(clnn_tensor *tensor, float value);

/** @brief Copies @p src into @p dst (same element count, same context; queued). */
CLNN_API clnn_status clnn_tensor_copy(clnn_tensor *dst, const clnn_tensor *src);

/** @brief Gives the tensor a new shape with the same element count; the data is unchanged. */
CLNN_API clnn_status clnn_tensor_reshape(clnn_tensor *tensor, int ndim, const size_t *dims);

/**
 * @brief Reads a tensor's shape.
 * @param ndim (output) its rank.
 * @param dims (output) CLNN_MAX_DIMS entries: the sizes, then 1 for dimensions past the rank.
 */
CLNN_API clnn_status clnn_tensor_get_shape(const clnn_tensor *tensor, int *ndim, size_t *dims);

/** @brief The tensor's number of elements. */
CLNN_API clnn_status clnn_tensor_get_count(const clnn_tensor *tensor, size_t *count);

/** @brief The tensor's OpenCL buffer (not retained for the caller). */
CLNN_API clnn_status clnn_tensor_get_buffer(const clnn_tensor *tensor, cl_mem *buffer);

/** @brief The context the tensor belongs to. */
CLNN_API clnn_status clnn_tensor_get_context(const clnn_tensor *tensor, clnn_context **ctx);

/** The element type of a tensor. Ops take float32 tensors; int32 ones hold class labels. */
typedef enum clnn_dtype {
    CLNN_DTYPE_FLOAT32, /**< every tensor made by clnn_tensor_create() or wrapped */
    CLNN_DTYPE_INT32,   /**< made by clnn_tensor_create_int32(): class labels */
    CLNN_DTYPE_COUNT
} clnn_dtype;

/** @brief Creates an int32 tensor (class labels for the losses and the network engine); float
 * ops refuse it with CLNN_ERR_INVALID_ARGUMENT. */
CLNN_API clnn_status clnn_tensor_create_int32(clnn_context *ctx, int ndim, const size_t *dims,
                                              clnn_tensor **tensor);

/** @brief Copies @p count int32 values (the tensor's element count) from the host into an int32
 * tensor; returns when the host array may be reused. */
CLNN_API clnn_status clnn_tensor_upload_int32(clnn_tensor *tensor, const int32_t *host,
                                              size_t count);

/** @brief Copies an int32 tensor's @p count values (its element count) to the host. */
CLNN_API clnn_status clnn_tensor_download_int32(const clnn_tensor *tensor, int32_t *host,
                                                size_t count);

/** @brief The tensor's element type. */
CLNN_API clnn_status clnn_tensor_get_dtype(const clnn_tensor *tensor, clnn_dtype *dtype);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CLNN_CORE_H */
