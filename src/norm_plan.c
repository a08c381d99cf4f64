/*
 * How batch norm's reductions are laid out for a shape and device (kernels/norm.cl): whether a CPU
 * takes the resident forms (a work-item owns whole channels), and otherwise the plan of stage 1 of
 * the two-stage reduction (its form, the slices per channel and the launch geometry), the geometry
 * of the elementwise passes, and the scratch buffers the plan needs. src/norm.c runs batch norm
 * by these plans.
 */
#include "norm_internal.h"

/* Positions per channel and sample from which the "planes" form (a work-group per channel slice)
 * beats the "serial" form (a work-item per channel slice). */
#define NORM_PLANES_MIN_S 32

/* ---- the resident forms of batch norm (CPUs) -------------------------------------------------- */

/* Least positions per plane of the resident planes form: shorter planes would share cache lines
 * between channels owned by work-items on different cores. */
#define BN_RESIDENT_MIN_S 16

size_t clnn_bn_resident_items(const clnn_context *ctx, const bn_shape *v)
{
    if (!ctx->profile.blocked_kernels) /* the CPU forms, not on rusticl */
        return 0;
    size_t items;
    if (v->S == 1 && v->C % 16 == 0)
        items = v->C / 16;
    else if (v->S >= BN_RESIDENT_MIN_S)
        items = v->C;
    else
        return 0;
    return items >= BN_RESIDENT_ITEMS_PER_CU * (size_t)compute_units(ctx) ? items : 0;
}

/* Most blocks of 16 features per work-item of the resident cols form (its private arrays). */
#define BN_RESIDENT_CHUNKS 32

size_t clnn_bn_resident_chunks(const clnn_context *ctx, const bn_shape *v)
{
    size_t chunks = v->C / 16 / (BN_RESIDENT_ITEMS_PER_CU * (size_t)compute_units(ctx));
    return chunks < 1 ? 1 : chunks > BN_RESIDENT_CHUNKS ? BN_RESIDENT_CHUNKS : chunks;
}

/* ---- the reduction plan of batch-norm stage 1 ------------------------------------------------ */

/* Values a work-item sums between two Chan merges (the stats kernels' blocks). */
#define NORM_BLOCK 64

void clnn_bn_make_plan(clnn_context *ctx, const bn_shape *v, size_t gs_serial, size_t gs_planes,
                       size_t gs_cols, bn_plan *plan)
{
    size_t cu = compute_units(ctx);
    plan->cols = 0;
    if (v->S == 1 && clnn_cpu_forms(ctx)) {
        /* Column form: a CPU runs a group's work-items one after another, so the group size
         * only sets the scheduling grain; slices of samples give every compute unit groups. */
        size_t items = div_up(v->C, 16);
        size_t gs = gs_cols < NORM_CPU_GROUP ? gs_cols : NORM_CPU_GROUP;
        size_t l0 = clnn_pow2_ceil_capped(items, gs ? gs : 1);
        if (l0 > items)
            l0 >>= 1;
        if (l0 < 1)
            l0 = 1;
        size_t P = div_up(NORM_GROUPS_PER_CU * cu, div_up(items, l0));
        size_t cap = div_up(v->N, NORM_MIN_PER_ITEM);
        P = P > cap ? cap : P;
        P = P > NORM_MAX_SLICES ? NORM_MAX_SLICES : P < 1 ? 1 : P;
        plan->P_most = P; /* whole rows per slice leave at most P slices */
        size_t rows = div_up(v->N, P);
        P = div_up(v->N, rows);
        plan->planes = 0;
        plan->cols = 1;
        plan->P = P;
        plan->rows = (cl_uint)rows;
        plan->Ps = 1;
        plan->run = 1;
        plan->schunk = 1;
        plan->blk = NORM_BLOCK;
        plan->local[0] = l0;
        plan->local[1] = 1;
        plan->global[0] = round_up(items, l0);
        plan->global[1] = P;
        return;
    }
    if (v->S >= NORM_PLANES_MIN_S) {
        size_t L = clnn_pow2_ceil_capped(v->S, gs_planes);
        if (L > v->S) /* pow2_at_most rounds up: keep every work-item busy */
            L >>= 1;
        int cpu = clnn_cpu_forms(ctx);
        if (cpu && L > NORM_CPU_GROUP)
            L = NORM_CPU_GROUP;
        if (L < 1)
            L = 1;
        size_t P = div_up(NORM_GROUPS_PER_CU * cu, v->C);
        size_t cap = div_up(v->M, L * NORM_MIN_PER_ITEM);
        if (P > cap)
            P = cap;
        if (P > NORM_MAX_SLICES)
            P = NORM_MAX_SLICES;
        if (P < 1)
            P = 1;
        /* Split samples first (whole planes per group), then positions: Pn * Ps slices, at
         * most Pn * div_up(P, Pn) < 2 P. */
        plan->P_most = 2 * P;
        size_t Pn = P < v->N ? P : v->N;
        size_t rows = div_up(v->N, Pn);
        Pn = div_up(v->N, rows);
        size_t Ps = div_up(P, Pn);
        size_t schunk = round_up(div_up(v->S, Ps), L);
        Ps = div_up(v->S, schunk);
        size_t per_row = div_up(schunk, L);
        size_t blk = NORM_BLOCK / per_row;
        plan->run = cpu ? (cl_uint)per_row : 1;
        plan->planes = 1;
        plan->P = Pn * Ps;
        plan->rows = (cl_uint)rows;
        plan->Ps = (cl_uint)Ps;
        plan->schunk = (cl_uint)schunk;
        plan->blk = (cl_uint)(blk < 1 ? 1 : blk);
        plan->local[0] = L;
        plan->local[1] = 1;
        plan->global[0] = plan->P * L;
        plan->global[1] = v->C;
    } else {
        size_t gs = gs_serial;
        size_t l0 = clnn_pow2_ceil_capped(v->C, gs);
        size_t l1 = gs / l0 ? gs / l0 : 1;
        size_t items = NORM_GROUPS_PER_CU * cu * gs;
        size_t P = div_up(items, v->C);
        size_t cap = div_up(v->N * v->S, NORM_MIN_PER_ITEM * v->S); /* >= 16 values per item */
        if (P > cap)
            P = cap;
        if (P > NORM_MAX_SLICES)
            P = NORM_MAX_SLICES;
        if (P < 1)
            P = 1;
        /* Whole rows per slice leave at most P slices; rounded up to a group of at most l1. */
        plan->P_most = round_up(P, l1);
        size_t rows = div_up(v->N, P);
        P = div_up(v->N, rows);
        if (l1 > P)
            l1 = clnn_pow2_ceil_capped(P, l1);
        /* Slices past N (from rounding P up to the group) reduce nothing and stage 2 skips
         * their empty results. */
        P = round_up(P, l1);
        size_t blk = NORM_BLOCK / v->S;
        plan->planes = 0;
        plan->P = P;
        plan->rows = (cl_uint)rows;
        plan->Ps = 1;
        plan->run = 1;
        plan->schunk = (cl_uint)v->S;
        plan->blk = (cl_uint)(blk < 1 ? 1 : blk);
        plan->local[0] = l0;
        plan->local[1] = l1;
        plan->global[0] = round_up(v->C, l0);
        plan->global[1] = P;
    }
}

clnn_status clnn_bn_run_apply(clnn_context *ctx, const bn_shape *v, cl_kernel k_planes,
                              const char *planes_name, size_t pcount, const clnn_kernel_arg *pargs,
                              cl_kernel k_cols, const char *cols_name, size_t ccount,
                              const clnn_kernel_arg *cargs)
{
    if (v->S > 1) {
        size_t gs = clnn_kernel_group_size(ctx, k_planes);
        size_t quads = div_up(v->S, 4);
        size_t l0 = clnn_pow2_ceil_capped(quads, gs);
        size_t l1 = clnn_pow2_ceil_capped(v->C, gs / l0 ? gs / l0 : 1);
        size_t local[3] = {l0, l1, 1};
        size_t global[3] = {round_up(quads, l0), round_up(v->C, l1), v->N};
        return clnn_run_kernel(ctx, k_planes, planes_name, 3, global, local, pcount, pargs);
    }
    size_t gs = clnn_kernel_group_size(ctx, k_cols);
    size_t quads = div_up(v->C, 4);
    size_t l0 = clnn_pow2_ceil_capped(quads, gs);
    size_t l1 = clnn_pow2_ceil_capped(v->N, gs / l0 ? gs / l0 : 1);
    size_t local[2] = {l0, l1};
    size_t global[2] = {round_up(quads, l0), round_up(v->N, l1)};
    return clnn_run_kernel(ctx, k_cols, cols_name, 2, global, local, ccount, cargs);
}

clnn_status clnn_bn_scratch(clnn_context *ctx, const bn_shape *v, const bn_plan *plan,
                            size_t coef_floats, cl_mem *part, cl_mem *coef)
{
    clnn_status status = scratch_buffer(ctx, CLNN_SCRATCH_PARTIALS, 3 * v->C * plan->P_most, part);
    if (status == CLNN_SUCCESS)
        status = scratch_buffer(ctx, CLNN_SCRATCH_COEFFICIENTS, coef_floats, coef);
    return status;
}
