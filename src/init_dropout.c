/*
 * Inverted dropout on the Philox4x32-10 stream of src/init.c (kernels/init.cl): forward, backward
 * and the host twin of the mask. Each element's keep decision is drawn from (seed, step, element)
 * alone, so the backward recomputes the mask instead of storing it, and clnn_dropout_mask_host
 * gives the same mask bit for bit.
 */
#include "internal.h"
#include "philox.h"

#include <math.h>


/* threshold = round(p * 2^24): element kept when its 24-bit word >= threshold. scale = 1/(1-p)
 * (0 for p = 1: nothing is kept, and nothing is divided by zero). */
static clnn_status dropout_params(clnn_context *ctx, const char *fn, float p, cl_uint *threshold,
                                  float *scale)
{
    if (!(p >= 0.0f && p <= 1.0f))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: p is %g; it must be a probability in [0, 1]", fn, (double)p);
    *threshold = (cl_uint)llround((double)p * 16777216.0);
    *scale = p < 1.0f ? (float)(1.0 / (1.0 - (double)p)) : 0.0f;
    return CLNN_SUCCESS;
}

/* out = beta * out + (keep ? v * scale : 0) with the masks of (seed, step): kernels/init.cl's
 * clnn_dropout, 32 elements (eight Philox blocks) per work-item. */
static clnn_status run_dropout(const clnn_tensor *v, clnn_tensor *out, uint64_t seed,
                               uint64_t step, cl_uint threshold, float scale, float beta)
{
    cl_kernel kernel;
    clnn_status status = clnn_get_kernel(v->ctx, "init.cl", NULL, "clnn_dropout", &kernel);
    if (status != CLNN_SUCCESS)
        return status;
    cl_uint n = (cl_uint)v->count, k0 = CLNN_SEED_LO(seed), k1 = CLNN_SEED_HI(seed),
            s0 = CLNN_SEED_LO(step), s1 = CLNN_SEED_HI(step);
    return clnn_run_kernel_1d(v->ctx, kernel, "clnn_dropout", (v->count + 31) / 32,
                              CLNN_ARGS(CLNN_ARG(v->buffer), CLNN_ARG(out->buffer), CLNN_ARG(n),
                                        CLNN_ARG(k0), CLNN_ARG(k1), CLNN_ARG(s0), CLNN_ARG(s1),
                                        CLNN_ARG(threshold), CLNN_ARG(scale), CLNN_ARG(beta)));
}

clnn_status clnn_dropout_forward(const clnn_tensor *x, clnn_tensor *y, float p, int training,
                                 uint64_t seed, uint64_t step)
{
    if (!x)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_dropout_forward: x is NULL");
    clnn_context *ctx = x->ctx;
    clnn_status status;
    if ((status = clnn_check_tensor(ctx, y, "y")) != CLNN_SUCCESS ||
        (status = clnn_check_same_shape(ctx, x, "x", y, "y")) != CLNN_SUCCESS)
        return status;
    cl_uint threshold = 0;
    float scale = 1.0f;
    if ((status = dropout_params(ctx, "clnn_dropout_forward", p, &threshold, &scale)) !=
        CLNN_SUCCESS)
        return status;
    if (!training || threshold == 0) /* identity: inference, or nothing dropped (scale 1) */
        return clnn_tensor_copy(y, x);
    return run_dropout(x, y, seed, step, threshold, scale, 0.0f);
}

clnn_status clnn_dropout_backward(const clnn_tensor *dy, clnn_tensor *dx, float p, int training,
                                  uint64_t seed, uint64_t step, float beta)
{
    if (!dy)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_dropout_backward: dy is NULL");
    clnn_context *ctx = dy->ctx;
    clnn_status status;
    if ((status = clnn_check_tensor(ctx, dx, "dx")) != CLNN_SUCCESS ||
        (status = clnn_check_same_shape(ctx, dy, "dy", dx, "dx")) != CLNN_SUCCESS ||
        (status = clnn_check_finite(ctx, beta, "beta")) != CLNN_SUCCESS)
        return status;
    cl_uint threshold = 0;
    float scale = 1.0f;
    if ((status = dropout_params(ctx, "clnn_dropout_backward", p, &threshold, &scale)) !=
        CLNN_SUCCESS)
        return status;
    cl_uint n = (cl_uint)dy->count;
    size_t items = (dy->count + 3) / 4;
    cl_kernel kernel;
    if (!training || threshold == 0) {
        if (beta == 0.0f)
            return clnn_tensor_copy(dx, dy);
        if ((status = clnn_get_kernel(ctx, "init.cl", NULL, "clnn_dropout_identity_backward",
                                      &kernel)) != CLNN_SUCCESS)
            return status;
        return clnn_run_kernel_1d(ctx, kernel, "clnn_dropout_identity_backward", items,
                                  CLNN_ARGS(CLNN_ARG(dy->buffer), CLNN_ARG(dx->buffer),
                                            CLNN_ARG(n), CLNN_ARG(beta)));
    }
    return run_dropout(dy, dx, seed, step, threshold, scale, beta);
}

clnn_status clnn_dropout_mask_host(size_t count, float p, uint64_t seed, uint64_t step,
                                   unsigned char *keep)
{
    if (!keep)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_dropout_mask_host: keep is NULL");
    if (count == 0 || count > CLNN_MAX_ELEMENTS)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_dropout_mask_host: count is %zu; it must be 1 .. %zu", count,
                          CLNN_MAX_ELEMENTS);
    cl_uint threshold = 0;
    float scale = 1.0f;
    clnn_status status = dropout_params(NULL, "clnn_dropout_mask_host", p, &threshold, &scale);
    if (status != CLNN_SUCCESS)
        return status;
    for (size_t blk = 0; blk < (count + 3) / 4; ++blk) {
        clnn_u32 r[4];
        clnn_rng_block(r, (clnn_u32)blk, CLNN_RNG_DOMAIN_DROPOUT, CLNN_SEED_LO(step),
                       CLNN_SEED_HI(step), CLNN_SEED_LO(seed), CLNN_SEED_HI(seed));
        for (size_t j = 0; j < 4 && 4 * blk + j < count; ++j)
            keep[4 * blk + j] = (unsigned char)clnn_rng_keep(r[j], threshold);
    }
    return CLNN_SUCCESS;
}
