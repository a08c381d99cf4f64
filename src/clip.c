/*
 * Gradient clipping: clamp by value, global norm (L2 or infinity) of a list of tensors reduced on
 * the device, and clip_grad_norm_'s scaling, which is skipped, leaving every tensor untouched,
 * when the norm is not finite or needs no clipping. See kernels/clip.cl for the reduction.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>

/* float4 elements each work-item of the first stage sums per lane, at most: bounds the
 * sequential part of the float accumulation (the rest is a tree). */
#define NORM_ITEMS_PER_THREAD 16u

const char *clnn_norm_type_string(clnn_norm_type type)
{
    switch (type) {
    case CLNN_NORM_L2:
        return "l2";
    case CLNN_NORM_INF:
        return "inf";
    default:
        return "unknown";
    }
}

/* Checks a tensor list: not NULL, count >= 1, every tensor of the first one's context, no tensor
 * twice (it would be counted twice in the norm and scaled twice). Sets *ctx. */
static clnn_status check_list(clnn_tensor *const *tensors, size_t count, const char *function,
                              clnn_context **ctx)
{
    if (!tensors)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "%s: tensors is NULL", function);
    if (count == 0)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "%s: count is 0", function);
    if (!tensors[0])
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "%s: tensors[0] is NULL", function);
    clnn_context *c = tensors[0]->ctx;
    for (size_t i = 0; i < count; ++i) {
        if (!tensors[i])
            return clnn_error(c, CLNN_ERR_INVALID_ARGUMENT, "%s: tensors[%zu] is NULL", function,
                              i);
        if (tensors[i]->ctx != c)
            return clnn_error(c, CLNN_ERR_CONTEXT_MISMATCH,
                              "%s: tensors[%zu] belongs to another context than tensors[0]",
                              function, i);
        for (size_t j = 0; j < i; ++j)
            if (tensors[j] == tensors[i])
                return clnn_error(c, CLNN_ERR_INVALID_ARGUMENT,
                                  "%s: tensors[%zu] and tensors[%zu] are the same tensor", function,
                                  j, i);
    }
    *ctx = c;
    return CLNN_SUCCESS;
}

static clnn_status run_elementwise(clnn_context *ctx, clnn_tensor *const *tensors, size_t count,
                                   const char *name, float value)
{
    cl_kernel kernel;
    clnn_status status = clnn_get_kernel(ctx, "clip.cl", NULL, name, &kernel);
    for (size_t i = 0; status == CLNN_SUCCESS && i < count; ++i) {
        cl_uint n = (cl_uint)tensors[i]->count;
        status = clnn_run_kernel_1d(
            ctx, kernel, name, (tensors[i]->count + 3) / 4,
            CLNN_ARGS(CLNN_ARG(tensors[i]->buffer), CLNN_ARG(n), CLNN_ARG(value)));
    }
    return status;
}

clnn_status clnn_clip_by_value(clnn_tensor *const *tensors, size_t count, float clip_value)
{
    clnn_context *ctx;
    clnn_status status = check_list(tensors, count, "clnn_clip_by_value", &ctx);
    if (status != CLNN_SUCCESS)
        return status;
    if (!(clip_value >= 0.0f))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_clip_by_value: clip_value is %g; it must be >= 0",
                          (double)clip_value);
    return run_elementwise(ctx, tensors, count, "clnn_clip_value", clip_value);
}

/* The work-group size for a reduction kernel: the queried size, reduced until its float4 scratch
 * fits in the device's local memory (half of it, leaving room for the implementation). */
static size_t reduction_group_size(clnn_context *ctx, cl_kernel kernel)
{
    size_t local = clnn_kernel_group_size(ctx, kernel);
    while (local > 1 && local * 4 * sizeof(cl_float) > ctx->info.local_mem_bytes / 2)
        local /= 2;
    return local;
}

/* Queues the two reduction stages and reads the final float4 back (blocking: the scratch slot it
 * lands in is the next op's); combines it into the norm. */
static clnn_status device_norm(clnn_context *ctx, clnn_tensor *const *tensors, size_t count,
                               clnn_norm_type type, float *total_norm)
{
    cl_kernel partial, final;
    clnn_status status = clnn_get_kernel(ctx, "clip.cl", NULL, "clnn_norm_partial", &partial);
    if (status == CLNN_SUCCESS)
        status = clnn_get_kernel(ctx, "clip.cl", NULL, "clnn_norm_final", &final);
    if (status != CLNN_SUCCESS)
        return status;
    size_t local = reduction_group_size(ctx, partial);
    /* The final stage over the partials: one work-item in the CPU forms, for the reason given
     * at clnn_single_group_size (src/internal.h). */
    size_t local_final = clnn_cpu_forms(ctx) ? 1 : reduction_group_size(ctx, final);
    size_t per_group = local * NORM_ITEMS_PER_THREAD; /* float4s a work-group covers */

    /* One partial per work-group of every tensor. */
    size_t total_groups = 0;
    for (size_t i = 0; i < count; ++i) {
        size_t n4 = (tensors[i]->count + 3) / 4;
        total_groups += (n4 + per_group - 1) / per_group;
    }
    if (total_groups > (size_t)CL_UINT_MAX - 1)
        return clnn_error(ctx, CLNN_ERR_SIZE_OVERFLOW, "the norm of %zu tensors needs %zu partials",
                          count, total_groups);
    cl_mem partials;
    status = clnn_scratch_get(ctx, CLNN_SCRATCH_PARTIALS, total_groups * 4 * sizeof(cl_float),
                              "norm partials", &partials);
    if (status != CLNN_SUCCESS)
        return status;

    cl_uint kind = (cl_uint)type;
    cl_uint first = 0;
    for (size_t i = 0; status == CLNN_SUCCESS && i < count; ++i) {
        size_t n4 = (tensors[i]->count + 3) / 4;
        size_t groups = (n4 + per_group - 1) / per_group;
        size_t global = groups * local;
        cl_uint n = (cl_uint)tensors[i]->count, per_item = NORM_ITEMS_PER_THREAD;
        status =
            clnn_run_kernel(ctx, partial, "clnn_norm_partial", 1, &global, &local,
                            CLNN_ARGS(CLNN_ARG(tensors[i]->buffer), CLNN_ARG(n), CLNN_ARG(per_item),
                                      CLNN_ARG(partials), CLNN_ARG(first), CLNN_ARG(kind),
                                      CLNN_LOCAL_ARG(local * 4 * sizeof(cl_float))));
        first += (cl_uint)groups;
    }
    cl_float result[4];
    cl_mem result_buf = NULL;
    if (status == CLNN_SUCCESS)
        status = clnn_scratch_get(ctx, CLNN_SCRATCH_RESULT, sizeof result, "norm result",
                                  &result_buf);
    if (status == CLNN_SUCCESS) {
        cl_uint partial_count = (cl_uint)total_groups;
        size_t global = local_final;
        status = clnn_run_kernel(ctx, final, "clnn_norm_final", 1, &global, &local_final,
                                 CLNN_ARGS(CLNN_ARG(partials), CLNN_ARG(partial_count),
                                           CLNN_ARG(kind), CLNN_ARG(result_buf),
                                           CLNN_LOCAL_ARG(local_final * 4 * sizeof(cl_float))));
    }
    if (status == CLNN_SUCCESS) {
        cl_int err = clEnqueueReadBuffer(ctx->queue, result_buf, CL_TRUE, 0, sizeof result,
                                         result, 0, NULL, NULL);
        if (err != CL_SUCCESS)
            status = clnn_cl_error(ctx, err, "clEnqueueReadBuffer (norm result)");
    }
    if (status != CLNN_SUCCESS)
        return status;

    if (type == CLNN_NORM_L2) {
        /* The scaled sum s * 2^(2e), formed in double, where it cannot overflow. */
        double ss = ldexp((double)result[0], 2 * (int)result[1]);
        *total_norm = (float)sqrt(ss);
    } else {
        *total_norm = result[1] != 0.0f ? NAN : result[0];
    }
    return CLNN_SUCCESS;
}

static clnn_status check_norm_type(clnn_context *ctx, clnn_norm_type type, const char *function)
{
    if ((unsigned)type >= CLNN_NORM_TYPE_COUNT)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: unknown norm type %d", function,
                          (int)type);
    return CLNN_SUCCESS;
}

clnn_status clnn_global_norm(clnn_tensor *const *tensors, size_t count, clnn_norm_type type,
                             float *total_norm)
{
    clnn_context *ctx;
    clnn_status status = check_list(tensors, count, "clnn_global_norm", &ctx);
    if (status == CLNN_SUCCESS)
        status = check_norm_type(ctx, type, "clnn_global_norm");
    if (status == CLNN_SUCCESS)
        status = clnn_check_pointer(ctx, total_norm, "total_norm");
    if (status != CLNN_SUCCESS)
        return status;
    return device_norm(ctx, tensors, count, type, total_norm);
}

clnn_status clnn_clip_by_global_norm(clnn_tensor *const *tensors, size_t count, float max_norm,
                                     clnn_norm_type type, float *total_norm)
{
    clnn_context *ctx;
    clnn_status status = check_list(tensors, count, "clnn_clip_by_global_norm", &ctx);
    if (status == CLNN_SUCCESS)
        status = check_norm_type(ctx, type, "clnn_clip_by_global_norm");
    if (status == CLNN_SUCCESS)
        status = clnn_check_pointer(ctx, total_norm, "total_norm");
    if (status == CLNN_SUCCESS && !(max_norm >= 0.0f))
        status = clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                            "clnn_clip_by_global_norm: max_norm is %g; it must be >= 0",
                            (double)max_norm);
    if (status != CLNN_SUCCESS)
        return status;
    float norm;
    status = device_norm(ctx, tensors, count, type, &norm);
    if (status != CLNN_SUCCESS)
        return status;
    *total_norm = norm;
    if (!isfinite(norm))
        return clnn_error(ctx, CLNN_ERR_NON_FINITE,
                          "clnn_clip_by_global_norm: the total %s norm is %g; no tensor was "
                          "changed",
                          clnn_norm_type_string(type), (double)norm);
    /* clip_coef = max_norm / (total_norm + 1e-6), clamped to 1, in float as PyTorch computes it;
     * a factor of 1 changes nothing, so no kernel runs. */
    float coef = max_norm / (norm + 1e-6f);
    if (!(coef < 1.0f))
        return CLNN_SUCCESS;
    return run_elementwise(ctx, tensors, count, "clnn_clip_scale", coef);
}
