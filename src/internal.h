/*
 * What the library's own files share and users never see: the context and tensor structures,
 * error reporting, kernel lookup and launch helpers, and argument checks used by every op.
 * Everything here has hidden visibility.
 */
#ifndef CLNN_INTERNAL_H
#define CLNN_INTERNAL_H

#include "clnn.h"

#include <stdarg.h>

#define CLNN_MESSAGE_SIZE 1024

typedef struct clnn_program_entry clnn_program_entry;
typedef struct clnn_kernel_entry clnn_kernel_entry;

/* The slots of a context's scratch pool (src/scratch.c). An op that needs two intermediate
 * buffers at once takes two different slots; what a slot holds is valid only during the call that
 * wrote it (the next op may overwrite it), so a result the host reads back is read, blocking,
 * before the call returns. */
typedef enum clnn_scratch_slot {
    CLNN_SCRATCH_PARTIALS,     /* a reduction's first-stage partial results, per-row losses */
    CLNN_SCRATCH_COEFFICIENTS, /* batch norm's per-channel coefficients, layer norm's residuals */
    CLNN_SCRATCH_INFO,         /* a few status words (cross-entropy's label check) */
    CLNN_SCRATCH_RESULT,       /* a scalar the host reads back (a global norm, a loss) */
    CLNN_SCRATCH_GEMM,         /* clnn_gemm's transposed operand (clnn_gemm_prepare) */
    CLNN_SCRATCH_GEMM_SLICES,  /* the partial products of a product split along K (src/gemm.c) */
    CLNN_SCRATCH_CONV,         /* a convolution's columns when the caller passes no workspace */
    CLNN_SCRATCH_SLOT_COUNT
} clnn_scratch_slot;

struct clnn_context {
    cl_platform_id platform;
    cl_device_id device;
    cl_context cl_ctx;
    cl_command_queue queue;
    clnn_device_info info;
    /* How kernels are laid out for this device (src/profile.c), and the build options that tell
     * the kernels (" -DCLNN_CPU_FORMS -DCLNN_USE_PREFETCH" or less). */
    clnn_device_profile profile;
    char profile_options[64];

    /* Program cache: in memory for this context, and on disk when cache.enabled. */
    clnn_cache_stats cache;
    char kernel_dir[512]; /* "" : embedded kernels */
    clnn_program_entry *programs;
    size_t program_count;
    clnn_kernel_entry *kernels;
    size_t kernel_count;

    /* CLNN_GEMM=clblast at creation: every product through CLBlast, none through clnn's own
     * GEMM kernels (comparison, and the tests of the CLBlast path on CPU devices). */
    int gemm_clblast_only;
    /* The scratch pool (src/scratch.c): one grow-only buffer per slot, NULL until needed. */
    cl_mem scratch[CLNN_SCRATCH_SLOT_COUNT];
    size_t scratch_bytes[CLNN_SCRATCH_SLOT_COUNT];

    char *build_log;
    char last_error[CLNN_MESSAGE_SIZE];
};

struct clnn_tensor {
    clnn_context *ctx;
    cl_mem buffer;
    int ndim;
    size_t dims[CLNN_MAX_DIMS];
    size_t count;
    size_t capacity; /* elements the buffer holds (>= count) */
    clnn_dtype dtype;
};

/* 1 when the context's ops take their CPU forms (the device profile decides; never test the
 * device type in an op). */
static inline int clnn_cpu_forms(const clnn_context *ctx)
{
    return ctx->profile.forms == CLNN_KERNEL_FORMS_CPU;
}

/* Describes an OpenCL device (src/device.c). */
void clnn_describe_device(cl_platform_id platform, cl_device_id device, clnn_device_info *info);
/* Chooses the device a selector names (NULL or "": the first GPU, else the first CPU), recording a
 * message that names the selector and lists the devices when none matches. */
clnn_status clnn_select_device(const char *selector, clnn_device_info *info);

/* 1 when needle occurs in haystack, letters compared without case ("" occurs everywhere). */
int clnn_contains_ignoring_case(const char *haystack, const char *needle);

/* Makes the device profile of info with the requested forms (AUTO: CLNN_KERNEL_FORMS, else the
 * profile's choice), and the build options that pass it to the kernels. */
clnn_status clnn_profile_create(const clnn_device_info *info, clnn_kernel_forms requested,
                                clnn_device_profile *profile, char *build_options, size_t size);

/* Sets a tensor's leading dimension to rows, between 1 and what its buffer holds, so that a model
 * can run a smaller batch through buffers allocated once for the largest. */
clnn_status clnn_tensor_set_rows(clnn_tensor *t, size_t rows);

/* Build the programs of batch norm fused with act (NULL: none; src/norm.c) and of the
 * activation kernels for desc (src/activation.c; the identity's are the shared program's) ahead
 * of their first use (clnn_network_build_programs). */
clnn_status clnn_batch_norm_build(clnn_context *ctx, const clnn_activation_desc *act);
clnn_status clnn_activation_build(clnn_context *ctx, const clnn_activation_desc *desc);

/* Launches the optimiser's kernel for every parameter with a zero learning rate and no weight
 * decay, on gradients that must all be zero, without counting a step: on an optimiser that has
 * not stepped yet (its state still zero) nothing changes, and a driver that compiles kernels at
 * their first launch has compiled the update's (src/optim.c; clnn_network_warm_up). */
clnn_status clnn_optimizer_warm_up(clnn_optimizer *optimizer, clnn_tensor *const *zero_grads);

/* Zeroes the whole of a buffer (queued; no kernel: nothing to compile). The network
 * engine starts every buffer it makes at zero (src/network.c), so that a pass that reads one
 * before anything wrote it (clnn_network_warm_up's backward) reads defined values. */
clnn_status clnn_buffer_zero(clnn_context *ctx, cl_mem buffer, const char *what);

/* ---- errors ---------------------------------------------------------------------------------- */

/* Records a formatted message on ctx (when not NULL) and on this thread, and returns status. */
clnn_status clnn_error(clnn_context *ctx, clnn_status status, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Maps an OpenCL error code to a status (memory errors to CLNN_ERR_DEVICE_MEMORY) and records
 * "<what> failed: CL_NAME (code)". */
clnn_status clnn_cl_error(clnn_context *ctx, cl_int code, const char *what);

/* The symbolic name of an OpenCL error code ("CL_INVALID_VALUE"). */
const char *clnn_cl_error_name(cl_int code);

/* Shorthand for the common pattern: on a failed OpenCL call, record it and return. */
#define CLNN_CL_CHECK(ctx, call, what)                                                             \
    do {                                                                                           \
        cl_int clnn_cl_code_ = (call);                                                             \
        if (clnn_cl_code_ != CL_SUCCESS)                                                           \
            return clnn_cl_error((ctx), clnn_cl_code_, (what));                                    \
    } while (0)

/* ---- argument checks (each records a message naming the argument) ---------------------------- */

/* ctx is not NULL. */
clnn_status clnn_check_context(const clnn_context *ctx, const char *function);
/* t is not NULL, belongs to ctx and holds floats. */
clnn_status clnn_check_tensor(clnn_context *ctx, const clnn_tensor *t, const char *name);
/* t is not NULL, belongs to ctx and holds int32 values (labels). */
clnn_status clnn_check_int32_tensor(clnn_context *ctx, const clnn_tensor *t, const char *name);
/* t and u have the same rank and sizes. */
clnn_status clnn_check_same_shape(clnn_context *ctx, const clnn_tensor *t, const char *t_name,
                                  const clnn_tensor *u, const char *u_name);
/* p is not NULL. */
clnn_status clnn_check_pointer(clnn_context *ctx, const void *p, const char *name);
/* value is finite (not NaN or Inf). */
clnn_status clnn_check_finite(clnn_context *ctx, float value, const char *name);
/* Validates a shape and returns its element count in *count. */
clnn_status clnn_check_shape(clnn_context *ctx, int ndim, const size_t *dims, size_t *count);
/* Writes "AxBxC" into buf. */
void clnn_format_shape(char *buf, size_t size, int ndim, const size_t *dims);

/* ---- kernels --------------------------------------------------------------------------------- */

/* Builds (or takes from the cache) the program that kernels/<file>'s kernels with `options` come
 * from, as clnn_get_kernel() would at its first use. */
clnn_status clnn_build_program(clnn_context *ctx, const char *file, const char *options);

/* Returns the kernel `name` from kernels/<file> built with `options` (extra build options, e.g.
 * "-DACTIVATION=3"; NULL for none). Programs and kernels are built once per context and kept. */
clnn_status clnn_get_kernel(clnn_context *ctx, const char *file, const char *options,
                            const char *name, cl_kernel *kernel);

/* A kernel argument: its size and address (NULL address: __local memory of that size). */
typedef struct clnn_kernel_arg {
    size_t size;
    const void *value;
} clnn_kernel_arg;
#define CLNN_ARG(v) ((clnn_kernel_arg){sizeof(v), &(v)})
#define CLNN_LOCAL_ARG(bytes) ((clnn_kernel_arg){(bytes), NULL})
/* Expands to "count, array" for clnn_run_kernel's last two parameters. */
#define CLNN_ARGS(...)                                                                             \
    (sizeof((clnn_kernel_arg[]){__VA_ARGS__}) / sizeof(clnn_kernel_arg)),                          \
        ((const clnn_kernel_arg[]){__VA_ARGS__})

/* Sets the arguments and enqueues an NDRange of work_dim dimensions. local may be NULL. */
clnn_status clnn_run_kernel(clnn_context *ctx, cl_kernel kernel, const char *name,
                            cl_uint work_dim, const size_t *global, const size_t *local,
                            size_t arg_count, const clnn_kernel_arg *args);

/* The work-group size to use for a 1-D launch of kernel: the kernel's own limit on this device,
 * capped at 256 and rounded down to a multiple of its preferred multiple. */
size_t clnn_kernel_group_size(clnn_context *ctx, cl_kernel kernel);

/* Enqueues kernel over `items` work-items in 1-D, rounding the global size up to a whole number
 * of work-groups (kernels must check their index against their element count). */
clnn_status clnn_run_kernel_1d(clnn_context *ctx, cl_kernel kernel, const char *name,
                               size_t items, size_t arg_count, const clnn_kernel_arg *args);

/* Launches `items` work-groups of one work-item each (1-D): the CPU forms of kernels whose
 * work-items own whole rows or channels and vectorise by hand. */
clnn_status clnn_run_kernel_single(clnn_context *ctx, cl_kernel kernel, const char *name,
                                   size_t items, size_t arg_count, const clnn_kernel_arg *args);

/* Splits `rows` rows (rows >= 1) among about items_per_cu work-items per compute unit, each
 * taking at most max_rows (0: no limit): returns the work-items, *per the rows each. */
size_t clnn_split_rows(const clnn_context *ctx, size_t rows, size_t items_per_cu, size_t max_rows,
                       size_t *per);

/* At least the work-items clnn_split_rows returns for these arguments, and never less for more
 * rows: what a scratch buffer indexed by those work-items is sized by, so that a smaller batch
 * never needs more scratch than the largest (clnn_split_rows's own count is not monotonic: 8 rows
 * in 4 parts, 9 rows in 3 of 3). */
size_t clnn_split_rows_bound(const clnn_context *ctx, size_t rows, size_t items_per_cu,
                             size_t max_rows);

/* The smallest power of two >= v, capped at cap (cap need not be a power of two): local sizes
 * for tree reductions. */
size_t clnn_pow2_ceil_capped(size_t v, size_t cap);

/* The local size of a one-work-group tree reduction over n values (the kernel loops over them
 * with the group's stride): in the CPU forms the kernel's group size whatever n is, since POCL
 * compiles a kernel again for every local size it is launched with (a new batch size would stall
 * for it); in the GPU forms the smallest power of two >= n within that size. */
size_t clnn_reduction_group_size(clnn_context *ctx, cl_kernel kernel, size_t n);

/* The same for a reduction over few values that finishes an op (a batch's labels or row losses,
 * the partial sums of a norm): 1 in the CPU forms, one work-item looping over all n, which a CPU
 * runs as fast as a group's items one after another; POCL 3.1 compiles such a kernel for one
 * work-item in 0.4-0.7 of the time it takes for 256 with their barriers, a cost that the first
 * training step of every process pays (ce_finish 0.09 -> 0.04 s, the norm's final stage
 * 0.15 -> 0.06 s). In the GPU forms as clnn_reduction_group_size. */
size_t clnn_single_group_size(clnn_context *ctx, cl_kernel kernel, size_t n);

/* ---- the scratch pool (src/scratch.c) --------------------------------------------------------- */

/* The buffer of `slot`, holding at least `bytes` (at least 1): the slot's own when large enough,
 * else a new one that replaces it (the old is released; commands queued with it still finish).
 * The context owns it: callers never release it. `what` names the use in error messages. */
clnn_status clnn_scratch_get(clnn_context *ctx, clnn_scratch_slot slot, size_t bytes,
                             const char *what, cl_mem *out);

/* Grows `slot` to hold at least `bytes` now, so that later requests up to that size create no
 * buffer (0 bytes: nothing to do). */
clnn_status clnn_scratch_reserve(clnn_context *ctx, clnn_scratch_slot slot, size_t bytes,
                                 const char *what);

/* Releases every slot's buffer (context destruction). */
void clnn_scratch_release(clnn_context *ctx);

/* clnn_init for the network's weights: on devices given the CPU forms, the host twin
 * (clnn_init_host, bit-identical) and an upload, so that a network without dropout needs no
 * init.cl program there (one program build and one work-group compile fewer in a first run on
 * POCL); elsewhere the device kernels. */
clnn_status clnn_init_weights(clnn_tensor *tensor, const clnn_init_params *params);

/* Frees every program and kernel of a context (context destruction). */
void clnn_release_programs(clnn_context *ctx);

#endif /* CLNN_INTERNAL_H */
