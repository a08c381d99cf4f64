/*
 * What the normalisation files share (src/norm.c: batch norm; norm_plan.c: how batch norm's
 * reduction is laid out for a shape and device; norm_layer.c: layer norm): the flag bits the
 * kernels of kernels/norm.cl take, the bounds of the two-stage reductions, the argument checks,
 * and batch norm's view of x and its reduction plan. Hidden from users.
 */
#ifndef CLNN_NORM_INTERNAL_H
#define CLNN_NORM_INTERNAL_H

#include "internal.h"

#include <math.h>

/* Work-groups per compute unit that stage 1 aims for. */
#define NORM_GROUPS_PER_CU 8
/* Least values each work-item reduces before the host splits a channel further. */
#define NORM_MIN_PER_ITEM 16
/* Most slices per channel (bounds the scratch buffer and stage 2's serial merge). */
#define NORM_MAX_SLICES 4096
/* Work-group size of the planes form on CPUs: few work-items, each walking long contiguous runs
 * (a CPU runs a group's items one after another). */
#define NORM_CPU_GROUP 16
/* Work-items per compute unit from which batch norm on a CPU takes the resident forms of
 * kernels/norm.cl (a work-item owns whole channels and re-reads them from its core's cache): with
 * fewer, equal shares of whole channels would leave cores idle, and the sliced forms split the
 * channels instead. */
#define BN_RESIDENT_ITEMS_PER_CU 4

#define BN_RUNNING 1u
#define BN_GAMMA 2u
#define BN_BETA 4u
#define BN_DGAMMA 8u
#define BN_DBETA 16u
#define LN_SAVE 32u
#define DX_WRITE 64u

static inline size_t div_up(size_t a, size_t b)
{
    return (a + b - 1) / b;
}

static inline size_t round_up(size_t a, size_t b)
{
    return div_up(a, b) * b;
}

static inline clnn_status scratch_buffer(clnn_context *ctx, clnn_scratch_slot slot, size_t floats,
                                         cl_mem *out)
{
    return clnn_scratch_get(ctx, slot, floats * sizeof(float), "normalisation scratch", out);
}

/* t is a tensor of ctx holding exactly n elements (any shape). */
static inline clnn_status check_vector(clnn_context *ctx, const clnn_tensor *t, const char *name,
                                       size_t n, const char *what, const char *function)
{
    clnn_status status = clnn_check_tensor(ctx, t, name);
    if (status != CLNN_SUCCESS)
        return status;
    if (t->count != n)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE, "%s: %s holds %zu elements; it must hold %zu (%s)",
                          function, name, t->count, n, what);
    return CLNN_SUCCESS;
}

static inline clnn_status check_optional_vector(clnn_context *ctx, const clnn_tensor *t,
                                                const char *name, size_t n, const char *what,
                                                const char *function)
{
    return t ? check_vector(ctx, t, name, n, what, function) : CLNN_SUCCESS;
}

static inline clnn_status check_same(clnn_context *ctx, const clnn_tensor *t, const char *name,
                                     const clnn_tensor *x, const char *x_name)
{
    clnn_status status = clnn_check_tensor(ctx, t, name);
    if (status == CLNN_SUCCESS)
        status = clnn_check_same_shape(ctx, t, name, x, x_name);
    return status;
}

static inline clnn_status check_param_beta(clnn_context *ctx, float param_beta, const char *fn)
{
    if (!isfinite(param_beta))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: param_beta is %g; it must be finite",
                          fn, (double)param_beta);
    return CLNN_SUCCESS;
}

static inline cl_uint compute_units(const clnn_context *ctx)
{
    return ctx->info.compute_units ? ctx->info.compute_units : 1;
}

/* ---- batch norm's reduction plan (src/norm_plan.c) ------------------------------------------- */

/* x viewed as (N, C, S). */
typedef struct bn_shape {
    size_t N, C, S, M;
} bn_shape;

typedef struct bn_plan {
    int planes;       /* 1: planes form, 0: serial or column form */
    int cols;         /* 1: column form (S = 1 on CPUs: 16 features per work-item) */
    size_t P;         /* slices per channel (stage 2 merges this many) */
    size_t P_most;    /* >= P, and never less for a larger N: sizes the scratch buffer */
    cl_uint rows;     /* samples per slice */
    cl_uint Ps;       /* planes: position slices per sample slice (P = Pn * Ps) */
    cl_uint schunk;   /* planes: positions per slice */
    cl_uint blk;      /* samples per block of the stats kernels */
    cl_uint run;      /* planes: consecutive positions per work-item run */
    size_t global[2], local[2];
} bn_plan;

/* Work-items of the resident form for this shape and device: blocks of 16 features (S = 1, C a
 * multiple of 16) or channels (S >= BN_RESIDENT_MIN_S); 0 where the sliced forms serve. */
size_t clnn_bn_resident_items(const clnn_context *ctx, const bn_shape *v);

/* Blocks of 16 features per work-item of the resident cols form: as many as leave
 * BN_RESIDENT_ITEMS_PER_CU work-items per compute unit, so that each row segment a work-item
 * reads is long (up to 2 KiB: whole cache lines in sequence for the prefetchers). */
size_t clnn_bn_resident_chunks(const clnn_context *ctx, const bn_shape *v);

/* One plan serves the forward statistics and the backward reduction (both kernels of a form
 * have the same shape); gs is the smaller of their queried work-group sizes. */
void clnn_bn_make_plan(clnn_context *ctx, const bn_shape *v, size_t gs_serial, size_t gs_planes,
                       size_t gs_cols, bn_plan *plan);

/* Launch geometry of the elementwise passes: the planes form (S > 1) takes pargs, the cols form
 * (S = 1) cargs. */
clnn_status clnn_bn_run_apply(clnn_context *ctx, const bn_shape *v, cl_kernel k_planes,
                              const char *planes_name, size_t pcount, const clnn_kernel_arg *pargs,
                              cl_kernel k_cols, const char *cols_name, size_t ccount,
                              const clnn_kernel_arg *cargs);

/* Two scratch buffers: stage-1 partial results (3 floats per channel and slice, sized for
 * plan->P_most slices) and coef_floats per-channel coefficients. */
clnn_status clnn_bn_scratch(clnn_context *ctx, const bn_shape *v, const bn_plan *plan,
                            size_t coef_floats, cl_mem *part, cl_mem *coef);

#endif /* CLNN_NORM_INTERNAL_H */
