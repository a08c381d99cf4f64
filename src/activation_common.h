/*
 * What the activation files share (src/activation.c: descriptors and elementwise activations;
 * activation_reduce.c: fused bias + activation and PReLU): the argument checks, kernel lookup and
 * launch helpers of their ops. Unlike activation_internal.h, which other op families include,
 * only these two files include it. Hidden from users.
 */
#ifndef CLNN_ACTIVATION_COMMON_H
#define CLNN_ACTIVATION_COMMON_H

#include "activation_internal.h"

#include <math.h>

/* Work-group size of the CPU elementwise kernels (16 elements per work-item): the scheduling
 * grain, 1024 elements. */
#define ACT_CPU_GROUP 64

/* ---- argument checks ------------------------------------------------------------------------- */

static inline clnn_status check_tensor(clnn_context *ctx, const char *function,
                                       const clnn_tensor *t, const char *name)
{
    if (!t)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: tensor %s is NULL", function, name);
    if (t->ctx != ctx)
        return clnn_error(ctx, CLNN_ERR_CONTEXT_MISMATCH,
                          "%s: tensor %s belongs to another clnn context", function, name);
    return CLNN_SUCCESS;
}

static inline clnn_status check_same_shape(clnn_context *ctx, const char *function,
                                           const clnn_tensor *t, const char *t_name,
                                           const clnn_tensor *u, const char *u_name)
{
    int same = t->ndim == u->ndim;
    for (int i = 0; same && i < t->ndim; ++i)
        same = t->dims[i] == u->dims[i];
    if (same)
        return CLNN_SUCCESS;
    char a[96], b[96];
    clnn_format_shape(a, sizeof a, t->ndim, t->dims);
    clnn_format_shape(b, sizeof b, u->ndim, u->dims);
    return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE, "%s: %s is %s but %s is %s; they must be equal",
                      function, u_name, b, t_name, a);
}

static inline clnn_status check_beta(clnn_context *ctx, const char *function, float beta,
                                     const char *name)
{
    if (!isfinite(beta))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: %s is %g; it must be finite",
                          function, name, (double)beta);
    return CLNN_SUCCESS;
}

/* Two tensors over the same memory (same object, or wrapping the same cl_mem). */
static inline int same_memory(const clnn_tensor *a, const clnn_tensor *b)
{
    return a && b && (a == b || a->buffer == b->buffer);
}

static inline clnn_status check_not_aliased(clnn_context *ctx, const char *function,
                                            const clnn_tensor *out, const char *out_name,
                                            const clnn_tensor *in, const char *in_name)
{
    if (same_memory(out, in))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: %s must not share memory with %s",
                          function, out_name, in_name);
    return CLNN_SUCCESS;
}

static inline clnn_status get_kernel(clnn_context *ctx, const clnn_activation_desc *desc,
                                     const char *name, cl_kernel *kernel)
{
    char options[CLNN_ACTIVATION_OPTIONS_SIZE];
    clnn_activation_build_options(desc, options, sizeof options);
    return clnn_get_kernel(ctx, "activation.cl", options, name, kernel);
}

static inline size_t round_up(size_t v, size_t m)
{
    return (v + m - 1) / m * m;
}

/* Checks that y determines f' for these parameters (the backward from the output y): the kind
 * has such a backward, and its parameters keep y telling the sign of x. */
clnn_status clnn_activation_check_output_backward(clnn_context *ctx, const char *function,
                                                  const clnn_activation_desc *desc);

#endif /* CLNN_ACTIVATION_COMMON_H */
