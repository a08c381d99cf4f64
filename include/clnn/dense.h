/*
 * clnn dense (fully connected) layers, forward and backward, as SGEMMs on the context's queue, and
 * the GEMM tuning data clnn applies to CLBlast for the devices it knows. Included by <clnn.h>.
 * clnn's own GEMM kernels run the products with a dimension of 16 or less everywhere and every
 * product on CPU devices (faster there than CLBlast, tuned or not); CLBlast runs the others.
 * The environment variable CLNN_GEMM=clblast, read when a context is created, sends every product
 * of that context through CLBlast.
 *
 * A layer of PyTorch's nn.Linear shape, weight W [out, in], optional bias b [out]:
 *
 *     clnn_dense_forward(ctx, x, w, b, y);                  // y = x W^T + b
 *     clnn_dense_backward_data(ctx, dy, w, 0.0f, dx);       // dx = dy W
 *     clnn_dense_backward_weight(ctx, dy, x, 0.0f, dw);     // dw = dy^T x
 *     clnn_dense_backward_bias(ctx, dy, 0.0f, db);          // db = column sums of dy
 *
 * CLBlast ships no GEMM parameters for many devices (CPUs under POCL among them) and then runs
 * generic ones several times slower than the device allows. On the first CLBlast GEMM in a
 * process on a device, clnn looks for tuned parameters made for exactly that device: first in the
 * user tuning directory (clnn_tuning_directory(), written by the clnn-tune program), then in the
 * data shipped with clnn (data/tuning/ in the source tree), and applies the first match through
 * CLBlast's parameter-override API. Setting the environment variable CLNN_TUNING=off disables this.
 */
#ifndef CLNN_DENSE_H
#define CLNN_DENSE_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup dense Dense layers and GEMM tuning
 * @{ */

/**
 * @brief Forward pass of a dense layer: y = x W^T + b, that is
 * y[i][o] = sum_k x[i][k] * w[o][k] + b[o].
 * @param ctx (input) the context of every tensor.
 * @param x (input) [batch, in].
 * @param weight (input) [out, in] (PyTorch's Linear layout).
 * @param bias (input) [out], or NULL for no bias.
 * @param y (output) [batch, out]; must not share its buffer with x, weight or bias.
 * @return CLNN_ERR_INVALID_SHAPE when the shapes disagree, CLNN_ERR_BLAS when CLBlast fails (the
 *         message holds CLBlast's code).
 */
CLNN_API clnn_status clnn_dense_forward(clnn_context *ctx, const clnn_tensor *x,
                                        const clnn_tensor *weight, const clnn_tensor *bias,
                                        clnn_tensor *y);

/**
 * @brief Gradient with respect to the input: dx = beta * dx + dy W.
 * @param dy (input) [batch, out], the gradient of the loss with respect to y.
 * @param weight (input) [out, in].
 * @param beta (input) finite; 0 overwrites dx without reading it (so NaN in dx does not spread),
 *        1 accumulates.
 * @param dx (input/output) [batch, in].
 */
CLNN_API clnn_status clnn_dense_backward_data(clnn_context *ctx, const clnn_tensor *dy,
                                              const clnn_tensor *weight, float beta,
                                              clnn_tensor *dx);

/**
 * @brief Gradient with respect to the weight: dweight = beta * dweight + dy^T x.
 * @param dy (input) [batch, out].
 * @param x (input) [batch, in], the layer's forward input.
 * @param beta (input) finite; 0 overwrites dweight without reading it, 1 accumulates.
 * @param dweight (input/output) [out, in].
 */
CLNN_API clnn_status clnn_dense_backward_weight(clnn_context *ctx, const clnn_tensor *dy,
                                                const clnn_tensor *x, float beta,
                                                clnn_tensor *dweight);

/**
 * @brief Gradient with respect to the bias: dbias[o] = beta * dbias[o] + sum_i dy[i][o].
 * @param dy (input) [batch, out].
 * @param beta (input) finite; 0 overwrites dbias without reading it, 1 accumulates.
 * @param dbias (input/output) [out].
 */
CLNN_API clnn_status clnn_dense_backward_bias(clnn_context *ctx, const clnn_tensor *dy,
                                              float beta, clnn_tensor *dbias);

/**
 * @brief The whole backward pass of a dense layer: the three calls above, each output optional.
 * Every argument is checked before anything is queued.
 * @param x (input) [batch, in], the forward input (needed when dweight is given).
 * @param weight (input) [out, in] (needed when dx is given).
 * @param dy (input) [batch, out].
 * @param dx (output) [batch, in], overwritten; NULL to skip (the first layer of a network).
 * @param dweight (input/output) [out, in]: beta * dweight + dy^T x; NULL to skip.
 * @param dbias (input/output) [out]: beta * dbias + column sums of dy; NULL to skip.
 * @param beta (input) finite; applies to dweight and dbias (gradient accumulation).
 */
CLNN_API clnn_status clnn_dense_backward(clnn_context *ctx, const clnn_tensor *x,
                                         const clnn_tensor *weight, const clnn_tensor *dy,
                                         clnn_tensor *dx, clnn_tensor *dweight,
                                         clnn_tensor *dbias, float beta);

/* ---------------------------------------------------------------------------------------------
 * GEMM tuning data
 *
 * A tuning file is text, one item per line; '#' starts a comment line:
 *
 *     clnn-tuning 1
 *     platform Portable Computing Language
 *     vendor GenuineIntel
 *     device pthread-skylake-avx512-Intel(R) Xeon(R) Processor
 *     driver 3.1+debian
 *     compute-units 2
 *     kernel Xgemm GEMMK=0 KREG=1 KWG=16 ...
 *     kernel GemmRoutine XGEMM_MIN_INDIRECT_SIZE=512
 *
 * The first five items name the device: its platform name, device vendor, device name, driver
 * version and compute-unit count, each compared exactly with what OpenCL reports. Parameters
 * tuned on one device are applied to that device only; a different CPU model, core count, driver
 * version or OpenCL driver (POCL's pthread and basic devices are distinct) is a different device.
 * Each kernel line holds a CLBlast kernel name and every one of its parameters, as
 * CLBlastOverrideParameters() needs them (single precision). clnn refuses, wherever it first
 * sees them (parsing, clnn_tuning_set_kernel, formatting, applying), a kernel name CLBlast does
 * not know, a kernel whose parameters are all 0, and a zero tile, thread or vector size of
 * Xgemm or XgemmDirect. Identity values are taken as written, without surrounding spaces; one
 * that holds a carriage return is refused. clnn_tuning_format() writes exactly the records
 * clnn_tuning_parse() reads back unchanged, and refuses every other.
 * ------------------------------------------------------------------------------------------- */

#define CLNN_TUNING_MAX_KERNELS 8
#define CLNN_TUNING_MAX_PARAMETERS 24
#define CLNN_TUNING_NAME_SIZE 40

/** One CLBlast kernel's parameters. */
typedef struct clnn_tuning_kernel {
    char name[CLNN_TUNING_NAME_SIZE]; /**< "Xgemm", "XgemmDirect", "GemmRoutine", ... */
    size_t parameter_count;
    char parameter_names[CLNN_TUNING_MAX_PARAMETERS][CLNN_TUNING_NAME_SIZE];
    size_t parameter_values[CLNN_TUNING_MAX_PARAMETERS];
} clnn_tuning_kernel;

/** Tuned CLBlast parameters and the identity of the device they were tuned on. */
typedef struct clnn_tuning {
    char platform_name[128];
    char device_vendor[128];
    char device_name[128];
    char driver_version[64];
    cl_uint compute_units;
    size_t kernel_count;
    clnn_tuning_kernel kernels[CLNN_TUNING_MAX_KERNELS];
} clnn_tuning;

/**
 * @brief Starts a tuning record for a device: its identity, no kernels.
 * @param tuning (output) the record.
 * @param device (input) the device, as clnn_context_get_device_info() describes it.
 */
CLNN_API clnn_status clnn_tuning_init(clnn_tuning *tuning, const clnn_device_info *device);

/**
 * @brief Adds (or replaces) one kernel's parameters in a tuning record.
 * @param name (input) CLBlast kernel name, letters, digits and '_' only.
 * @param count (input) 1 to CLNN_TUNING_MAX_PARAMETERS.
 * @param names (input) parameter names, same character set.
 * @param values (input) their values.
 */
CLNN_API clnn_status clnn_tuning_set_kernel(clnn_tuning *tuning, const char *name, size_t count,
                                            const char *const *names, const size_t *values);

/**
 * @brief Parses the text of a tuning file (format above).
 * @param text (input) NUL-terminated file contents.
 * @param tuning (output) the record; unchanged on failure.
 * @return CLNN_ERR_FORMAT naming the line at fault (a missing or unknown item, a repeated item,
 *         a malformed parameter, an unsupported version); the message is clnn_context_last_error(NULL).
 */
CLNN_API clnn_status clnn_tuning_parse(const char *text, clnn_tuning *tuning);

/**
 * @brief Writes a tuning record as the text clnn_tuning_parse() reads.
 * @param buffer (output) receives the NUL-terminated text; may be NULL when size is 0.
 * @param size (input) bytes available in buffer.
 * @param length (output) the text's length without the NUL; may be NULL.
 * @return CLNN_ERR_INVALID_ARGUMENT when the text (length + 1 bytes) does not fit.
 */
CLNN_API clnn_status clnn_tuning_format(const clnn_tuning *tuning, char *buffer, size_t size,
                                        size_t *length);

/** @brief Reads and parses a tuning file; CLNN_ERR_IO when it cannot be read. */
CLNN_API clnn_status clnn_tuning_load(const char *path, clnn_tuning *tuning);

/** @brief Writes a tuning file atomically (a temporary file, fsync, rename). */
CLNN_API clnn_status clnn_tuning_save(const clnn_tuning *tuning, const char *path);

/**
 * @brief Tells whether a tuning record was made for @p device (every identity item equal).
 * @param matches (output) 1 when it was, else 0.
 */
CLNN_API clnn_status clnn_tuning_matches(const clnn_tuning *tuning, const clnn_device_info *device,
                                         int *matches);

/**
 * @brief Applies a tuning record to the context's device through CLBlastOverrideParameters.
 * It stays in force for every context on that device in this process (CLBlast keeps one set per
 * device), and the automatic lookup will not replace it. The next GEMM recompiles CLBlast's
 * kernels.
 * @return CLNN_ERR_MISMATCH when the record was made for another device (nothing is applied),
 *         CLNN_ERR_BLAS when CLBlast rejects a kernel's parameters (message: kernel and code).
 */
CLNN_API clnn_status clnn_tuning_apply(clnn_context *ctx, const clnn_tuning *tuning);

/**
 * @brief The user tuning directory, searched before the shipped data and written by clnn-tune:
 * $CLNN_TUNING_DIR, else $XDG_CONFIG_HOME/clnn/tuning, else ~/.config/clnn/tuning.
 * @return CLNN_ERR_IO when no directory can be named (no HOME); CLNN_ERR_INVALID_ARGUMENT when
 *         it does not fit in size bytes.
 */
CLNN_API clnn_status clnn_tuning_directory(char *path, size_t size);

/**
 * @brief Applies the tuning for the context's device now if not done yet (as the first GEMM
 * would), and describes what is in force: "user file PATH", "shipped data NAME", "applied by the
 * program", or "none (CLBlast defaults)", followed by any file that was skipped and why.
 * @param description (output) NUL-terminated, truncated to size.
 */
CLNN_API clnn_status clnn_tuning_describe(clnn_context *ctx, char *description, size_t size);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CLNN_DENSE_H */
