/*
 * Launching kernels: setting arguments and enqueueing NDRanges on the context's queue, the
 * work-group sizes queried from each kernel, and the row splits and power-of-two local sizes that
 * the CPU forms and tree reductions use. src/program.c builds and finds the kernels.
 */
#include "internal.h"

#include <stdio.h>

/* ---- launching --------------------------------------------------------------------------------- */

size_t clnn_pow2_ceil_capped(size_t v, size_t cap)
{
    size_t p = 1;
    while (p < v && p < cap)
        p <<= 1;
    return p < cap ? p : cap;
}

size_t clnn_kernel_group_size(clnn_context *ctx, cl_kernel kernel)
{
    size_t limit = 0, multiple = 0;
    if (clGetKernelWorkGroupInfo(kernel, ctx->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof limit,
                                 &limit, NULL) != CL_SUCCESS ||
        limit == 0)
        limit = 1;
    if (clGetKernelWorkGroupInfo(kernel, ctx->device, CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE,
                                 sizeof multiple, &multiple, NULL) != CL_SUCCESS ||
        multiple == 0)
        multiple = 1;
    size_t size = limit < 256 ? limit : 256;
    if (size >= multiple)
        size -= size % multiple;
    return size;
}

clnn_status clnn_run_kernel(clnn_context *ctx, cl_kernel kernel, const char *name,
                            cl_uint work_dim, const size_t *global, const size_t *local,
                            size_t arg_count, const clnn_kernel_arg *args)
{
    for (size_t i = 0; i < arg_count; ++i) {
        cl_int err = clSetKernelArg(kernel, (cl_uint)i, args[i].size, args[i].value);
        if (err != CL_SUCCESS) {
            char what[160];
            snprintf(what, sizeof what, "clSetKernelArg(%s, argument %zu)", name, i);
            return clnn_cl_error(ctx, err, what);
        }
    }
    cl_int err =
        clEnqueueNDRangeKernel(ctx->queue, kernel, work_dim, NULL, global, local, 0, NULL, NULL);
    if (err != CL_SUCCESS) {
        char what[160];
        snprintf(what, sizeof what, "clEnqueueNDRangeKernel(%s)", name);
        return clnn_cl_error(ctx, err, what);
    }
    return CLNN_SUCCESS;
}

clnn_status clnn_run_kernel_single(clnn_context *ctx, cl_kernel kernel, const char *name,
                                   size_t items, size_t arg_count, const clnn_kernel_arg *args)
{
    size_t local = 1;
    return clnn_run_kernel(ctx, kernel, name, 1, &items, &local, arg_count, args);
}

size_t clnn_split_rows_bound(const clnn_context *ctx, size_t rows, size_t items_per_cu,
                             size_t max_rows)
{
    size_t parts = items_per_cu * (ctx->info.compute_units ? ctx->info.compute_units : 1);
    if (max_rows && rows / parts > max_rows)
        parts = (rows + max_rows - 1) / max_rows;
    if (parts > rows)
        parts = rows;
    return parts;
}

size_t clnn_split_rows(const clnn_context *ctx, size_t rows, size_t items_per_cu, size_t max_rows,
                       size_t *per)
{
    /* Whole rows per part leave at most the bound's parts, maybe fewer. */
    size_t parts = clnn_split_rows_bound(ctx, rows, items_per_cu, max_rows);
    *per = (rows + parts - 1) / parts;
    return (rows + *per - 1) / *per;
}

clnn_status clnn_run_kernel_1d(clnn_context *ctx, cl_kernel kernel, const char *name,
                               size_t items, size_t arg_count, const clnn_kernel_arg *args)
{
    size_t local = clnn_kernel_group_size(ctx, kernel);
    size_t global = (items + local - 1) / local * local;
    if (global == 0)
        global = local;
    return clnn_run_kernel(ctx, kernel, name, 1, &global, &local, arg_count, args);
}

size_t clnn_reduction_group_size(clnn_context *ctx, cl_kernel kernel, size_t n)
{
    size_t limit = clnn_kernel_group_size(ctx, kernel);
    return clnn_cpu_forms(ctx) ? limit : clnn_pow2_ceil_capped(n, limit);
}

size_t clnn_single_group_size(clnn_context *ctx, cl_kernel kernel, size_t n)
{
    return clnn_cpu_forms(ctx) ? 1 : clnn_reduction_group_size(ctx, kernel, n);
}
