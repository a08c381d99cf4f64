/*
 * Batch normalisation and layer normalisation: argument checks, the choice of reduction strategy
 * for the shape and device, and kernel launches (kernels/norm.cl).
 *
 * Batch-norm statistics are reduced in two stages (partial slices, then a per-channel merge) so
 * that one code path serves C = 65536 channels of 2 values and one channel of millions: the host
 * picks the number of slices P so that about NORM_GROUPS_PER_CU work-groups per compute unit run
 * in stage 1. The partial results and the per-channel coefficients live in two slots of the
 * context's scratch pool (src/scratch.c), sized by bounds that never shrink as the batch grows, so
 * that once the largest batch has run, smaller ones create no buffer.
 */
#include "activation_internal.h"
#include "internal.h"

#include <math.h>
#include <string.h>

/* Work-groups per compute unit that stage 1 aims for. */
#define NORM_GROUPS_PER_CU 8
/* Positions per channel and sample from which the "planes" form (a work-group per channel slice)
 * beats the "serial" form (a work-item per channel slice). */
#define NORM_PLANES_MIN_S 32
/* Least values each work-item reduces before the host splits a channel further. */
#define NORM_MIN_PER_ITEM 16
/* Most slices per channel (bounds the scratch buffer and stage 2's serial merge). */
#define NORM_MAX_SLICES 4096

#define BN_RUNNING 1u
#define BN_GAMMA 2u
#define BN_BETA 4u
#define BN_DGAMMA 8u
#define BN_DBETA 16u
#define LN_SAVE 32u
#define DX_WRITE 64u

static size_t div_up(size_t a, size_t b)
{
    return (a + b - 1) / b;
}

static size_t round_up(size_t a, size_t b)
{
    return div_up(a, b) * b;
}

static clnn_status scratch_buffer(clnn_context *ctx, clnn_scratch_slot slot, size_t floats,
                                  cl_mem *out)
{
    return clnn_scratch_get(ctx, slot, floats * sizeof(float), "normalisation scratch", out);
}

/* x viewed as (N, C, S). */
typedef struct bn_shape {
    size_t N, C, S, M;
} bn_shape;

static clnn_status bn_view(clnn_context *ctx, const clnn_tensor *x, const char *function,
                           bn_shape *v)
{
    if (x->ndim < 2) {
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "%s: x has rank %d; batch norm needs (N, C), (N, C, L) or (N, C, H, W)",
                          function, x->ndim);
    }
    v->N = x->dims[0];
    v->C = x->dims[1];
    v->S = 1;
    for (int i = 2; i < x->ndim; ++i)
        v->S *= x->dims[i];
    v->M = v->N * v->S;
    return CLNN_SUCCESS;
}

/* t is a tensor of ctx holding exactly n elements (any shape). */
static clnn_status check_vector(clnn_context *ctx, const clnn_tensor *t, const char *name,
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

static clnn_status check_optional_vector(clnn_context *ctx, const clnn_tensor *t,
                                         const char *name, size_t n, const char *what,
                                         const char *function)
{
    return t ? check_vector(ctx, t, name, n, what, function) : CLNN_SUCCESS;
}

static clnn_status check_same(clnn_context *ctx, const clnn_tensor *t, const char *name,
                              const clnn_tensor *x, const char *x_name)
{
    clnn_status status = clnn_check_tensor(ctx, t, name);
    if (status == CLNN_SUCCESS)
        status = clnn_check_same_shape(ctx, t, name, x, x_name);
    return status;
}

static cl_uint compute_units(const clnn_context *ctx)
{
    return ctx->info.compute_units ? ctx->info.compute_units : 1;
}

/* ---- the resident forms of batch norm (CPUs) -------------------------------------------------- */

/* Work-items per compute unit from which batch norm on a CPU takes the resident forms of
 * kernels/norm.cl (a work-item owns whole channels and re-reads them from its core's cache): with
 * fewer, equal shares of whole channels would leave cores idle, and the sliced forms split the
 * channels instead. */
#define BN_RESIDENT_ITEMS_PER_CU 4
/* Least positions per plane of the resident planes form: shorter planes would share cache lines
 * between channels owned by work-items on different cores. */
#define BN_RESIDENT_MIN_S 16

/* Work-items of the resident form for this shape and device: blocks of 16 features (S = 1, C a
 * multiple of 16) or channels (S >= BN_RESIDENT_MIN_S); 0 where the sliced forms serve. */
static size_t bn_resident_items(const clnn_context *ctx, const bn_shape *v)
{
    if (!clnn_cpu_forms(ctx))
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

/* Blocks of 16 features per work-item of the resident cols form: as many as leave
 * BN_RESIDENT_ITEMS_PER_CU work-items per compute unit, so that each row segment a work-item
 * reads is long (up to 2 KiB: whole cache lines in sequence for the prefetchers). */
static size_t bn_resident_chunks(const clnn_context *ctx, const bn_shape *v)
{
    size_t chunks = v->C / 16 / (BN_RESIDENT_ITEMS_PER_CU * (size_t)compute_units(ctx));
    return chunks < 1 ? 1 : chunks > BN_RESIDENT_CHUNKS ? BN_RESIDENT_CHUNKS : chunks;
}

/* ---- the reduction plan of batch-norm stage 1 ------------------------------------------------ */

/* Values a work-item sums between two Chan merges (the stats kernels' blocks). */
#define NORM_BLOCK 64
/* Work-group size of the planes form on CPUs: few work-items, each walking long contiguous runs
 * (a CPU runs a group's items one after another). */
#define NORM_CPU_GROUP 16
/* Least values per work-item of layer norm's forward on CPUs. */
#define LN_CPU_CHUNK 1024

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

/* One plan serves the forward statistics and the backward reduction (both kernels of a form
 * have the same shape); gs is the smaller of their queried work-group sizes. */
static void bn_make_plan(clnn_context *ctx, const bn_shape *v, size_t gs_serial,
                         size_t gs_planes, size_t gs_cols, bn_plan *plan)
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

/* Launch geometry of the elementwise passes: the planes form (S > 1) takes pargs, the cols form
 * (S = 1) cargs. */
static clnn_status bn_run_apply(clnn_context *ctx, const bn_shape *v, cl_kernel k_planes,
                                const char *planes_name, size_t pcount,
                                const clnn_kernel_arg *pargs, cl_kernel k_cols,
                                const char *cols_name, size_t ccount,
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

/* Two scratch buffers: stage-1 partial results (3 floats per channel and slice, sized for
 * plan->P_most slices) and coef_floats per-channel coefficients. */
static clnn_status bn_scratch(clnn_context *ctx, const bn_shape *v, const bn_plan *plan,
                              size_t coef_floats, cl_mem *part, cl_mem *coef)
{
    clnn_status status = scratch_buffer(ctx, CLNN_SCRATCH_PARTIALS, 3 * v->C * plan->P_most, part);
    if (status == CLNN_SUCCESS)
        status = scratch_buffer(ctx, CLNN_SCRATCH_COEFFICIENTS, coef_floats, coef);
    return status;
}

/* ---- batch norm ---------------------------------------------------------------------------- */

/* The activation of a fused call: NULL or identity means plain batch norm (the program built
 * without options); otherwise the descriptor is checked and gives the build options and the
 * kernels' float4 parameters. */
typedef struct bn_act {
    char options[CLNN_ACTIVATION_OPTIONS_SIZE];
    const char *opts; /* options or NULL */
    cl_float4 p;
} bn_act;

static clnn_status bn_act_init(clnn_context *ctx, const clnn_activation_desc *desc,
                               const char *fn, bn_act *a)
{
    memset(a, 0, sizeof *a);
    if (!desc)
        return CLNN_SUCCESS;
    clnn_status status = clnn_activation_check_desc(ctx, desc, fn);
    if (status != CLNN_SUCCESS)
        return status;
    if (desc->kind == CLNN_ACTIVATION_IDENTITY)
        return CLNN_SUCCESS;
    clnn_activation_build_options(desc, a->options, sizeof a->options);
    a->opts = a->options;
    a->p = clnn_activation_kernel_params(desc);
    return CLNN_SUCCESS;
}

/* Gets the named kernels of norm.cl built for a->opts. */
static clnn_status bn_kernels(clnn_context *ctx, const bn_act *a, size_t n,
                              const char *const *names, cl_kernel *k)
{
    clnn_status status = CLNN_SUCCESS;
    for (size_t i = 0; i < n && status == CLNN_SUCCESS; ++i)
        status = clnn_get_kernel(ctx, "norm.cl", a->opts, names[i], &k[i]);
    return status;
}

/* Stage 1 of the forward statistics into part (3 * C * plan->P floats). */
static clnn_status bn_run_stats(clnn_context *ctx, const bn_shape *v, const bn_plan *plan,
                                cl_kernel k_serial, cl_kernel k_planes, cl_kernel k_cols,
                                cl_mem x, cl_mem part)
{
    cl_uint C = (cl_uint)v->C, S = (cl_uint)v->S, N = (cl_uint)v->N;
    cl_uint rows = plan->rows, Ps = plan->Ps, schunk = plan->schunk, blk = plan->blk;
    cl_uint run = plan->run;
    if (plan->cols)
        return clnn_run_kernel(ctx, k_cols, "bn_stats_cols16", 2, plan->global, plan->local,
                               CLNN_ARGS(CLNN_ARG(x), CLNN_ARG(part), CLNN_ARG(C), CLNN_ARG(N),
                                         CLNN_ARG(rows), CLNN_ARG(blk)));
    if (plan->planes)
        return clnn_run_kernel(ctx, k_planes, "bn_stats_planes", 2, plan->global, plan->local,
                               CLNN_ARGS(CLNN_ARG(x), CLNN_ARG(part), CLNN_ARG(C), CLNN_ARG(S),
                                         CLNN_ARG(N), CLNN_ARG(rows), CLNN_ARG(Ps),
                                         CLNN_ARG(schunk), CLNN_ARG(run), CLNN_ARG(blk),
                                         CLNN_LOCAL_ARG(3 * plan->local[0] * sizeof(float))));
    return clnn_run_kernel(ctx, k_serial, "bn_stats_serial", 2, plan->global, plan->local,
                           CLNN_ARGS(CLNN_ARG(x), CLNN_ARG(part), CLNN_ARG(C), CLNN_ARG(S),
                                     CLNN_ARG(N), CLNN_ARG(rows), CLNN_ARG(blk)));
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

static clnn_status bn_forward_training(clnn_context *ctx, const char *fn,
                                       const clnn_activation_desc *act, const clnn_tensor *x,
                                       const clnn_tensor *gamma, const clnn_tensor *beta,
                                       clnn_tensor *running_mean, clnn_tensor *running_var,
                                       float momentum, float eps, clnn_tensor *y,
                                       clnn_tensor *save_mean, clnn_tensor *save_invstd)
{
    clnn_status status = clnn_check_context(ctx, fn);
    if (status != CLNN_SUCCESS)
        return status;
    bn_act a;
    if ((status = bn_act_init(ctx, act, fn, &a)) != CLNN_SUCCESS)
        return status;
    if ((status = clnn_check_tensor(ctx, x, "x")) != CLNN_SUCCESS)
        return status;
    bn_shape v = {0, 0, 0, 0};
    if ((status = bn_view(ctx, x, fn, &v)) != CLNN_SUCCESS)
        return status;
    if (v.M < 2)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "%s: each channel of x has %zu value; training needs at least 2", fn,
                          v.M);
    if ((status = check_same(ctx, y, "y", x, "x")) != CLNN_SUCCESS ||
        (status = check_optional_vector(ctx, gamma, "gamma", v.C, "one per channel", fn)) != CLNN_SUCCESS ||
        (status = check_optional_vector(ctx, beta, "beta", v.C, "one per channel", fn)) != CLNN_SUCCESS ||
        (status = check_vector(ctx, save_mean, "save_mean", v.C, "one per channel", fn)) != CLNN_SUCCESS ||
        (status = check_vector(ctx, save_invstd, "save_invstd", v.C, "one per channel", fn)) != CLNN_SUCCESS)
        return status;
    if (!running_mean != !running_var)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: running_mean and running_var must both be given or both be NULL",
                          fn);
    if (running_mean &&
        ((status = check_vector(ctx, running_mean, "running_mean", v.C, "one per channel", fn)) != CLNN_SUCCESS ||
         (status = check_vector(ctx, running_var, "running_var", v.C, "one per channel", fn)) != CLNN_SUCCESS))
        return status;
    if (!(momentum >= 0.0f && momentum <= 1.0f))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: momentum is %g; it must be in [0, 1]",
                          fn, (double)momentum);
    if (!(eps >= 0.0f) || !isfinite(eps))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: eps is %g; it must be finite and >= 0", fn, (double)eps);
    if (save_mean == save_invstd)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: save_mean and save_invstd must be different tensors", fn);

    cl_uint C = (cl_uint)v.C, S = (cl_uint)v.S, N = (cl_uint)v.N;
    cl_uint flags = (running_mean ? BN_RUNNING : 0) | (gamma ? BN_GAMMA : 0) | (beta ? BN_BETA : 0);
    /* Absent buffers are replaced by one the kernels never touch under these flags. */
    cl_mem rm = running_mean ? running_mean->buffer : save_mean->buffer;
    cl_mem rv = running_var ? running_var->buffer : save_mean->buffer;
    cl_mem g = gamma ? gamma->buffer : save_mean->buffer;
    cl_mem b = beta ? beta->buffer : save_mean->buffer;

    size_t items = bn_resident_items(ctx, &v);
    if (items) {
        const char *name = S == 1 ? "bn_forward_resident_cols" : "bn_forward_resident_planes";
        cl_kernel kr;
        if ((status = bn_kernels(ctx, &a, 1, &name, &kr)) != CLNN_SUCCESS)
            return status;
        if (S == 1) {
            cl_uint chunks = (cl_uint)bn_resident_chunks(ctx, &v);
            return clnn_run_kernel_single(
                ctx, kr, name, div_up(items, chunks),
                CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(y->buffer), CLNN_ARG(C), CLNN_ARG(N),
                          CLNN_ARG(chunks), CLNN_ARG(eps), CLNN_ARG(momentum), CLNN_ARG(flags), CLNN_ARG(rm),
                          CLNN_ARG(rv), CLNN_ARG(g), CLNN_ARG(b), CLNN_ARG(save_mean->buffer),
                          CLNN_ARG(save_invstd->buffer), CLNN_ARG(a.p)));
        }
        return clnn_run_kernel_single(
            ctx, kr, name, items,
            CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(y->buffer), CLNN_ARG(C), CLNN_ARG(S),
                      CLNN_ARG(N), CLNN_ARG(eps), CLNN_ARG(momentum), CLNN_ARG(flags),
                      CLNN_ARG(rm), CLNN_ARG(rv), CLNN_ARG(g), CLNN_ARG(b),
                      CLNN_ARG(save_mean->buffer), CLNN_ARG(save_invstd->buffer),
                      CLNN_ARG(a.p)));
    }

    static const char *const names[] = {"bn_stats_serial", "bn_stats_planes", "bn_finalize",
                                        "bn_apply_planes", "bn_apply_cols",   "bn_stats_cols16"};
    cl_kernel k[6];
    if ((status = bn_kernels(ctx, &a, 6, names, k)) != CLNN_SUCCESS)
        return status;

    bn_plan plan;
    bn_make_plan(ctx, &v, clnn_kernel_group_size(ctx, k[0]), clnn_kernel_group_size(ctx, k[1]),
                 clnn_kernel_group_size(ctx, k[5]), &plan);
    cl_mem part, coef;
    if ((status = bn_scratch(ctx, &v, &plan, 4 * v.C, &part, &coef)) != CLNN_SUCCESS)
        return status;

    cl_uint P = (cl_uint)plan.P;
    status = bn_run_stats(ctx, &v, &plan, k[0], k[1], k[5], x->buffer, part);
    if (status == CLNN_SUCCESS) {
        status = clnn_run_kernel_1d(
            ctx, k[2], "bn_finalize", v.C,
            CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(part), CLNN_ARG(P), CLNN_ARG(C), CLNN_ARG(S),
                      CLNN_ARG(eps), CLNN_ARG(momentum),
                      CLNN_ARG(flags), CLNN_ARG(rm), CLNN_ARG(rv), CLNN_ARG(g), CLNN_ARG(b),
                      CLNN_ARG(save_mean->buffer), CLNN_ARG(save_invstd->buffer),
                      CLNN_ARG(coef)));
    }
    if (status == CLNN_SUCCESS) {
        status = bn_run_apply(ctx, &v, k[3], "bn_apply_planes",
                              CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(y->buffer), CLNN_ARG(coef),
                                        CLNN_ARG(C), CLNN_ARG(S), CLNN_ARG(a.p)),
                              k[4], "bn_apply_cols",
                              CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(y->buffer), CLNN_ARG(coef),
                                        CLNN_ARG(C), CLNN_ARG(N), CLNN_ARG(a.p)));
    }
    return status;
}

clnn_status clnn_batch_norm_forward_training(clnn_context *ctx, const clnn_tensor *x,
                                             const clnn_tensor *gamma, const clnn_tensor *beta,
                                             clnn_tensor *running_mean, clnn_tensor *running_var,
                                             float momentum, float eps, clnn_tensor *y,
                                             clnn_tensor *save_mean, clnn_tensor *save_invstd)
{
    return bn_forward_training(ctx, "clnn_batch_norm_forward_training", NULL, x, gamma, beta,
                               running_mean, running_var, momentum, eps, y, save_mean,
                               save_invstd);
}

clnn_status clnn_batch_norm_activation_forward_training(
    clnn_context *ctx, const clnn_activation_desc *act, const clnn_tensor *x,
    const clnn_tensor *gamma, const clnn_tensor *beta, clnn_tensor *running_mean,
    clnn_tensor *running_var, float momentum, float eps, clnn_tensor *y, clnn_tensor *save_mean,
    clnn_tensor *save_invstd)
{
    return bn_forward_training(ctx, "clnn_batch_norm_activation_forward_training", act, x, gamma,
                               beta, running_mean, running_var, momentum, eps, y, save_mean,
                               save_invstd);
}

static clnn_status bn_forward_inference(clnn_context *ctx, const char *fn,
                                        const clnn_activation_desc *act, const clnn_tensor *x,
                                        const clnn_tensor *gamma, const clnn_tensor *beta,
                                        const clnn_tensor *running_mean,
                                        const clnn_tensor *running_var, float eps, clnn_tensor *y)
{
    clnn_status status = clnn_check_context(ctx, fn);
    if (status != CLNN_SUCCESS)
        return status;
    bn_act a;
    if ((status = bn_act_init(ctx, act, fn, &a)) != CLNN_SUCCESS)
        return status;
    if ((status = clnn_check_tensor(ctx, x, "x")) != CLNN_SUCCESS)
        return status;
    bn_shape v = {0, 0, 0, 0};
    if ((status = bn_view(ctx, x, fn, &v)) != CLNN_SUCCESS ||
        (status = check_same(ctx, y, "y", x, "x")) != CLNN_SUCCESS ||
        (status = check_optional_vector(ctx, gamma, "gamma", v.C, "one per channel", fn)) != CLNN_SUCCESS ||
        (status = check_optional_vector(ctx, beta, "beta", v.C, "one per channel", fn)) != CLNN_SUCCESS ||
        (status = check_vector(ctx, running_mean, "running_mean", v.C, "one per channel", fn)) != CLNN_SUCCESS ||
        (status = check_vector(ctx, running_var, "running_var", v.C, "one per channel", fn)) != CLNN_SUCCESS)
        return status;
    if (!(eps >= 0.0f) || !isfinite(eps))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: eps is %g; it must be finite and >= 0", fn, (double)eps);

    static const char *const names[] = {"bn_coef_inference", "bn_apply_planes", "bn_apply_cols"};
    cl_kernel k[3];
    if ((status = bn_kernels(ctx, &a, 3, names, k)) != CLNN_SUCCESS)
        return status;
    cl_mem coef;
    if ((status = scratch_buffer(ctx, CLNN_SCRATCH_COEFFICIENTS, 4 * v.C, &coef)) != CLNN_SUCCESS)
        return status;
    cl_uint C = (cl_uint)v.C, S = (cl_uint)v.S, N = (cl_uint)v.N;
    cl_uint flags = (gamma ? BN_GAMMA : 0) | (beta ? BN_BETA : 0);
    cl_mem g = gamma ? gamma->buffer : running_mean->buffer;
    cl_mem b = beta ? beta->buffer : running_mean->buffer;
    status = clnn_run_kernel_1d(ctx, k[0], "bn_coef_inference", v.C,
                                CLNN_ARGS(CLNN_ARG(running_mean->buffer),
                                          CLNN_ARG(running_var->buffer), CLNN_ARG(g), CLNN_ARG(b),
                                          CLNN_ARG(flags), CLNN_ARG(eps), CLNN_ARG(C),
                                          CLNN_ARG(coef)));
    if (status == CLNN_SUCCESS)
        status = bn_run_apply(ctx, &v, k[1], "bn_apply_planes",
                              CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(y->buffer), CLNN_ARG(coef),
                                        CLNN_ARG(C), CLNN_ARG(S), CLNN_ARG(a.p)),
                              k[2], "bn_apply_cols",
                              CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(y->buffer), CLNN_ARG(coef),
                                        CLNN_ARG(C), CLNN_ARG(N), CLNN_ARG(a.p)));
    return status;
}

clnn_status clnn_batch_norm_forward_inference(clnn_context *ctx, const clnn_tensor *x,
                                              const clnn_tensor *gamma, const clnn_tensor *beta,
                                              const clnn_tensor *running_mean,
                                              const clnn_tensor *running_var, float eps,
                                              clnn_tensor *y)
{
    return bn_forward_inference(ctx, "clnn_batch_norm_forward_inference", NULL, x, gamma, beta,
                                running_mean, running_var, eps, y);
}

clnn_status clnn_batch_norm_activation_forward_inference(
    clnn_context *ctx, const clnn_activation_desc *act, const clnn_tensor *x,
    const clnn_tensor *gamma, const clnn_tensor *beta, const clnn_tensor *running_mean,
    const clnn_tensor *running_var, float eps, clnn_tensor *y)
{
    return bn_forward_inference(ctx, "clnn_batch_norm_activation_forward_inference", act, x,
                                gamma, beta, running_mean, running_var, eps, y);
}

static clnn_status check_param_beta(clnn_context *ctx, float param_beta, const char *fn)
{
    if (!isfinite(param_beta))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: param_beta is %g; it must be finite",
                          fn, (double)param_beta);
    return CLNN_SUCCESS;
}

static clnn_status bn_backward(clnn_context *ctx, const char *fn, const clnn_activation_desc *act,
                               const clnn_tensor *x, const clnn_tensor *dy,
                               const clnn_tensor *gamma, const clnn_tensor *beta,
                               const clnn_tensor *save_mean, const clnn_tensor *save_invstd,
                               clnn_tensor *dx, clnn_tensor *dgamma, clnn_tensor *dbeta,
                               float param_beta)
{
    clnn_status status = clnn_check_context(ctx, fn);
    if (status != CLNN_SUCCESS)
        return status;
    bn_act a;
    if ((status = bn_act_init(ctx, act, fn, &a)) != CLNN_SUCCESS)
        return status;
    if ((status = clnn_check_tensor(ctx, x, "x")) != CLNN_SUCCESS)
        return status;
    bn_shape v = {0, 0, 0, 0};
    if ((status = bn_view(ctx, x, fn, &v)) != CLNN_SUCCESS ||
        (status = check_same(ctx, dy, "dy", x, "x")) != CLNN_SUCCESS ||
        (dx && (status = check_same(ctx, dx, "dx", x, "x")) != CLNN_SUCCESS) ||
        (status = check_optional_vector(ctx, gamma, "gamma", v.C, "one per channel", fn)) != CLNN_SUCCESS ||
        (status = check_optional_vector(ctx, beta, "beta", v.C, "one per channel", fn)) != CLNN_SUCCESS ||
        (status = check_vector(ctx, save_mean, "save_mean", v.C, "one per channel", fn)) != CLNN_SUCCESS ||
        (status = check_vector(ctx, save_invstd, "save_invstd", v.C, "one per channel", fn)) != CLNN_SUCCESS ||
        (status = check_optional_vector(ctx, dgamma, "dgamma", v.C, "one per channel", fn)) != CLNN_SUCCESS ||
        (status = check_optional_vector(ctx, dbeta, "dbeta", v.C, "one per channel", fn)) != CLNN_SUCCESS ||
        (status = check_param_beta(ctx, param_beta, fn)) != CLNN_SUCCESS)
        return status;
    if (dx && dx == x)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: dx must not be x (x is read after dx is written); dx may be dy", fn);
    if (dgamma && dgamma == dbeta)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: dgamma and dbeta must be different tensors", fn);
    if (!dx && !dgamma && !dbeta)
        return CLNN_SUCCESS;

    cl_uint gflags = (gamma ? BN_GAMMA : 0) | (beta ? BN_BETA : 0);
    cl_mem g = gamma ? gamma->buffer : save_mean->buffer;
    cl_mem b = beta ? beta->buffer : save_mean->buffer;
    size_t items = bn_resident_items(ctx, &v);
    if (items) {
        cl_uint C = (cl_uint)v.C, S = (cl_uint)v.S, N = (cl_uint)v.N;
        cl_uint flags = gflags | (dgamma ? BN_DGAMMA : 0) | (dbeta ? BN_DBETA : 0) |
                        (dx ? DX_WRITE : 0);
        /* Absent outputs are replaced by a buffer never written without its flag. */
        cl_mem out_dx = dx ? dx->buffer : dy->buffer;
        cl_mem dg = dgamma ? dgamma->buffer : dy->buffer;
        cl_mem db = dbeta ? dbeta->buffer : dy->buffer;
        const char *name = S == 1 ? "bn_backward_resident_cols" : "bn_backward_resident_planes";
        cl_kernel kr;
        if ((status = bn_kernels(ctx, &a, 1, &name, &kr)) != CLNN_SUCCESS)
            return status;
        if (S == 1) {
            cl_uint chunks = (cl_uint)bn_resident_chunks(ctx, &v);
            return clnn_run_kernel_single(
                ctx, kr, name, div_up(items, chunks),
                CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(dy->buffer), CLNN_ARG(out_dx),
                          CLNN_ARG(save_mean->buffer), CLNN_ARG(save_invstd->buffer), CLNN_ARG(g),
                          CLNN_ARG(b), CLNN_ARG(dg), CLNN_ARG(db), CLNN_ARG(C), CLNN_ARG(N),
                          CLNN_ARG(chunks), CLNN_ARG(flags), CLNN_ARG(param_beta),
                          CLNN_ARG(a.p)));
        }
        return clnn_run_kernel_single(
            ctx, kr, name, items,
            CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(dy->buffer), CLNN_ARG(out_dx),
                      CLNN_ARG(save_mean->buffer), CLNN_ARG(save_invstd->buffer), CLNN_ARG(g),
                      CLNN_ARG(b), CLNN_ARG(dg), CLNN_ARG(db), CLNN_ARG(C), CLNN_ARG(S),
                      CLNN_ARG(N), CLNN_ARG(flags), CLNN_ARG(param_beta), CLNN_ARG(a.p)));
    }

    static const char *const names[] = {"bn_bwd_reduce_serial", "bn_bwd_reduce_planes",
                                        "bn_bwd_finalize",      "bn_bwd_apply_planes",
                                        "bn_bwd_apply_cols",    "bn_bwd_reduce_cols16",
                                        "bn_stats_serial",      "bn_stats_planes",
                                        "bn_bwd_prep",          "bn_stats_cols16"};
    int fused = a.opts != NULL;
    cl_kernel k[10];
    if ((status = bn_kernels(ctx, &a, fused ? 10 : 6, names, k)) != CLNN_SUCCESS)
        return status;

    bn_plan plan;
    size_t gs_serial = clnn_kernel_group_size(ctx, k[0]);
    size_t gs_planes = clnn_kernel_group_size(ctx, k[1]);
    size_t gs_cols = clnn_kernel_group_size(ctx, k[5]);
    if (fused) {
        gs_serial = min_size(gs_serial, clnn_kernel_group_size(ctx, k[6]));
        gs_planes = min_size(gs_planes, clnn_kernel_group_size(ctx, k[7]));
        gs_cols = min_size(gs_cols, clnn_kernel_group_size(ctx, k[9]));
    }
    bn_make_plan(ctx, &v, gs_serial, gs_planes, gs_cols, &plan);
    cl_mem part, coef;
    /* coef holds the 6 per-channel coefficients of dx, and before them (fused) the 4 of z. */
    if ((status = bn_scratch(ctx, &v, &plan, 6 * v.C, &part, &coef)) != CLNN_SUCCESS)
        return status;
    cl_uint C = (cl_uint)v.C, S = (cl_uint)v.S, N = (cl_uint)v.N;
    cl_uint P = (cl_uint)plan.P, rows = plan.rows, Ps = plan.Ps, schunk = plan.schunk;
    cl_uint run = plan.run;
    cl_mem pre = save_mean->buffer; /* plain: only K = save_mean is read */
    if (fused) {
        /* z needs the exact mean: reduce x as the forward does, then pre = [K | d | a | beta]. */
        status = bn_run_stats(ctx, &v, &plan, k[6], k[7], k[9], x->buffer, part);
        if (status == CLNN_SUCCESS)
            status = clnn_run_kernel_1d(
                ctx, k[8], "bn_bwd_prep", v.C,
                CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(part), CLNN_ARG(P), CLNN_ARG(C),
                          CLNN_ARG(S), CLNN_ARG(save_mean->buffer), CLNN_ARG(save_invstd->buffer),
                          CLNN_ARG(g), CLNN_ARG(b), CLNN_ARG(gflags), CLNN_ARG(coef)));
        pre = coef;
    }
    if (status == CLNN_SUCCESS) {
        if (plan.cols)
            status = clnn_run_kernel(
                ctx, k[5], "bn_bwd_reduce_cols16", 2, plan.global, plan.local,
                CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(dy->buffer), CLNN_ARG(pre),
                          CLNN_ARG(part), CLNN_ARG(C), CLNN_ARG(N), CLNN_ARG(rows),
                          CLNN_ARG(a.p)));
        else if (plan.planes)
            status = clnn_run_kernel(
                ctx, k[1], "bn_bwd_reduce_planes", 2, plan.global, plan.local,
                CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(dy->buffer), CLNN_ARG(pre),
                          CLNN_ARG(part), CLNN_ARG(C), CLNN_ARG(S), CLNN_ARG(N), CLNN_ARG(rows),
                          CLNN_ARG(Ps), CLNN_ARG(schunk), CLNN_ARG(run), CLNN_ARG(a.p),
                          CLNN_LOCAL_ARG(4 * plan.local[0] * sizeof(float))));
        else
            status = clnn_run_kernel(
                ctx, k[0], "bn_bwd_reduce_serial", 2, plan.global, plan.local,
                CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(dy->buffer), CLNN_ARG(pre),
                          CLNN_ARG(part), CLNN_ARG(C), CLNN_ARG(S), CLNN_ARG(N), CLNN_ARG(rows),
                          CLNN_ARG(a.p)));
    }
    if (status == CLNN_SUCCESS) {
        cl_uint flags = gflags | (dgamma ? BN_DGAMMA : 0) | (dbeta ? BN_DBETA : 0);
        cl_mem dg = dgamma ? dgamma->buffer : part; /* never written without its flag */
        cl_mem db = dbeta ? dbeta->buffer : part;
        cl_float Mf = (cl_float)v.M;
        status = clnn_run_kernel_1d(
            ctx, k[2], "bn_bwd_finalize", v.C,
            CLNN_ARGS(CLNN_ARG(part), CLNN_ARG(P), CLNN_ARG(C), CLNN_ARG(Mf),
                      CLNN_ARG(save_mean->buffer), CLNN_ARG(save_invstd->buffer), CLNN_ARG(g),
                      CLNN_ARG(b), CLNN_ARG(dg), CLNN_ARG(db), CLNN_ARG(flags),
                      CLNN_ARG(param_beta), CLNN_ARG(coef)));
    }
    if (status == CLNN_SUCCESS && dx)
        status = bn_run_apply(ctx, &v, k[3], "bn_bwd_apply_planes",
                              CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(dy->buffer),
                                        CLNN_ARG(dx->buffer), CLNN_ARG(coef), CLNN_ARG(C),
                                        CLNN_ARG(S), CLNN_ARG(a.p)),
                              k[4], "bn_bwd_apply_cols",
                              CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(dy->buffer),
                                        CLNN_ARG(dx->buffer), CLNN_ARG(coef), CLNN_ARG(C),
                                        CLNN_ARG(N), CLNN_ARG(a.p)));
    return status;
}

clnn_status clnn_batch_norm_backward(clnn_context *ctx, const clnn_tensor *x, const clnn_tensor *dy,
                                     const clnn_tensor *gamma, const clnn_tensor *save_mean,
                                     const clnn_tensor *save_invstd, clnn_tensor *dx,
                                     clnn_tensor *dgamma, clnn_tensor *dbeta, float param_beta)
{
    return bn_backward(ctx, "clnn_batch_norm_backward", NULL, x, dy, gamma, NULL, save_mean,
                       save_invstd, dx, dgamma, dbeta, param_beta);
}

clnn_status clnn_batch_norm_activation_backward(
    clnn_context *ctx, const clnn_activation_desc *act, const clnn_tensor *x,
    const clnn_tensor *dy, const clnn_tensor *gamma, const clnn_tensor *beta,
    const clnn_tensor *save_mean, const clnn_tensor *save_invstd, clnn_tensor *dx,
    clnn_tensor *dgamma, clnn_tensor *dbeta, float param_beta)
{
    return bn_backward(ctx, "clnn_batch_norm_activation_backward", act, x, dy, gamma, beta,
                       save_mean, save_invstd, dx, dgamma, dbeta, param_beta);
}

/* ---- layer norm ---------------------------------------------------------------------------- */

/* x viewed as R rows of D. */
static void ln_view(const clnn_tensor *x, size_t *R, size_t *D)
{
    *D = x->dims[x->ndim - 1];
    *R = x->count / *D;
}

clnn_status clnn_layer_norm_forward(clnn_context *ctx, const clnn_tensor *x,
                                    const clnn_tensor *gamma, const clnn_tensor *beta, float eps,
                                    clnn_tensor *y, clnn_tensor *save_mean,
                                    clnn_tensor *save_invstd)
{
    static const char *fn = "clnn_layer_norm_forward";
    clnn_status status = clnn_check_context(ctx, fn);
    if (status != CLNN_SUCCESS)
        return status;
    if ((status = clnn_check_tensor(ctx, x, "x")) != CLNN_SUCCESS)
        return status;
    size_t R, D;
    ln_view(x, &R, &D);
    if ((status = check_same(ctx, y, "y", x, "x")) != CLNN_SUCCESS ||
        (status = check_optional_vector(ctx, gamma, "gamma", D, "the last dimension of x", fn)) != CLNN_SUCCESS ||
        (status = check_optional_vector(ctx, beta, "beta", D, "the last dimension of x", fn)) != CLNN_SUCCESS ||
        (status = check_optional_vector(ctx, save_mean, "save_mean", R, "one per row of x", fn)) != CLNN_SUCCESS ||
        (status = check_optional_vector(ctx, save_invstd, "save_invstd", R, "one per row of x", fn)) != CLNN_SUCCESS)
        return status;
    if (!save_mean != !save_invstd)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: save_mean and save_invstd must both be given or both be NULL", fn);
    if (save_mean && save_mean == save_invstd)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: save_mean and save_invstd must be different tensors", fn);
    if (!(eps >= 0.0f) || !isfinite(eps))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: eps is %g; it must be finite and >= 0", fn, (double)eps);
    int cpu = clnn_cpu_forms(ctx);
    const char *name = cpu ? "ln_forward_chunks" : "ln_forward";
    cl_kernel k;
    if ((status = clnn_get_kernel(ctx, "norm.cl", NULL, name, &k)) != CLNN_SUCCESS)
        return status;
    cl_uint flags = (gamma ? BN_GAMMA : 0) | (beta ? BN_BETA : 0) | (save_mean ? LN_SAVE : 0);
    cl_mem g = gamma ? gamma->buffer : x->buffer, b = beta ? beta->buffer : x->buffer;
    cl_mem sm = save_mean ? save_mean->buffer : x->buffer;
    cl_mem si = save_invstd ? save_invstd->buffer : x->buffer;
    cl_uint Du = (cl_uint)D;
    size_t L = clnn_kernel_group_size(ctx, k);
    if (cpu) {
        /* A few work-items per row, each a contiguous chunk (a multiple of 16 values) of at
         * least LN_CPU_CHUNK values, so that long rows still spread over the compute units. */
        size_t want = div_up(D, LN_CPU_CHUNK);
        L = want < L ? want : L;
        L = L > NORM_CPU_GROUP ? NORM_CPU_GROUP : L < 1 ? 1 : L;
        size_t chunk = round_up(div_up(D, L), 16);
        L = div_up(D, chunk);
        size_t global = R * L;
        cl_uint chunk_u = (cl_uint)chunk;
        return clnn_run_kernel(ctx, k, name, 1, &global, &L,
                               CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(y->buffer), CLNN_ARG(g),
                                         CLNN_ARG(b), CLNN_ARG(flags), CLNN_ARG(sm), CLNN_ARG(si),
                                         CLNN_ARG(Du), CLNN_ARG(eps), CLNN_ARG(chunk_u),
                                         CLNN_LOCAL_ARG(3 * L * sizeof(float))));
    }
    L = clnn_pow2_ceil_capped(D, L);
    size_t global = R * L;
    return clnn_run_kernel(ctx, k, name, 1, &global, &L,
                           CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(y->buffer), CLNN_ARG(g),
                                     CLNN_ARG(b), CLNN_ARG(flags), CLNN_ARG(sm), CLNN_ARG(si),
                                     CLNN_ARG(Du), CLNN_ARG(eps),
                                     CLNN_LOCAL_ARG(3 * L * sizeof(float))));
}

/* dgamma / dbeta of layer norm: column sums over rows, the serial form of the batch-norm
 * reduction, then a per-column merge. */
static clnn_status ln_params(clnn_context *ctx, cl_kernel k_part, cl_kernel k_final,
                             const clnn_tensor *x, const clnn_tensor *dy,
                             const clnn_tensor *save_mean, const clnn_tensor *save_invstd,
                             cl_mem resid, size_t R, size_t D, clnn_tensor *dgamma,
                             clnn_tensor *dbeta, float param_beta)
{
    clnn_status status;
    cl_uint Du = (cl_uint)D, Ru = (cl_uint)R;
    size_t gs = clnn_kernel_group_size(ctx, k_part);
    size_t l0 = clnn_pow2_ceil_capped(D, gs), l1 = gs / l0 ? gs / l0 : 1;
    size_t P = div_up(NORM_GROUPS_PER_CU * compute_units(ctx) * gs, D);
    size_t cap = div_up(R, NORM_MIN_PER_ITEM);
    P = P > cap ? cap : P;
    P = P > NORM_MAX_SLICES ? NORM_MAX_SLICES : P < 1 ? 1 : P;
    /* At least the slices below, and never less for more rows (as bn_make_plan's serial form). */
    size_t P_most = round_up(P, l1);
    size_t rows = div_up(R, P);
    P = div_up(R, rows);
    if (l1 > P)
        l1 = clnn_pow2_ceil_capped(P, l1);
    P = round_up(P, l1);
    cl_mem part;
    if ((status = scratch_buffer(ctx, CLNN_SCRATCH_PARTIALS, 2 * D * P_most, &part)) != CLNN_SUCCESS)
        return status;
    size_t local[2] = {l0, l1}, global[2] = {round_up(D, l0), P};
    cl_uint rows_u = (cl_uint)rows, Pu = (cl_uint)P;
    status = clnn_run_kernel(ctx, k_part, "ln_param_partial", 2, global, local,
                             CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(dy->buffer),
                                       CLNN_ARG(save_mean->buffer),
                                       CLNN_ARG(save_invstd->buffer), CLNN_ARG(resid),
                                       CLNN_ARG(part), CLNN_ARG(Ru), CLNN_ARG(Du),
                                       CLNN_ARG(rows_u)));
    if (status == CLNN_SUCCESS) {
        cl_uint flags = (dgamma ? BN_DGAMMA : 0) | (dbeta ? BN_DBETA : 0);
        cl_mem dg = dgamma ? dgamma->buffer : part, db = dbeta ? dbeta->buffer : part;
        status = clnn_run_kernel_1d(ctx, k_final, "ln_param_finalize", D,
                                    CLNN_ARGS(CLNN_ARG(part), CLNN_ARG(Pu), CLNN_ARG(Du),
                                              CLNN_ARG(dg), CLNN_ARG(db), CLNN_ARG(flags),
                                              CLNN_ARG(param_beta)));
    }
    return status;
}

/* Layer norm's backward on CPUs: ln_backward_rows (norm.cl) with a few row ranges per compute
 * unit, then ln_param_finalize over their partial column sums. g is gamma's buffer or a dummy. */
static clnn_status ln_backward_rows(clnn_context *ctx, const clnn_tensor *x, const clnn_tensor *dy,
                                    cl_mem g, int has_gamma, const clnn_tensor *save_mean,
                                    const clnn_tensor *save_invstd, clnn_tensor *dx,
                                    clnn_tensor *dgamma, clnn_tensor *dbeta, float param_beta,
                                    size_t R, size_t D, cl_kernel k_final)
{
    cl_kernel k;
    clnn_status status = clnn_get_kernel(ctx, "norm.cl", NULL, "ln_backward_rows", &k);
    if (status != CLNN_SUCCESS)
        return status;
    size_t rows;
    size_t W = clnn_split_rows(ctx, R, BN_RESIDENT_ITEMS_PER_CU, 0, &rows);
    int params = dgamma || dbeta;
    size_t W_most = clnn_split_rows_bound(ctx, R, BN_RESIDENT_ITEMS_PER_CU, 0);
    cl_mem part;
    if ((status = scratch_buffer(ctx, CLNN_SCRATCH_PARTIALS, params ? 2 * D * W_most : 1, &part)) !=
        CLNN_SUCCESS)
        return status;
    cl_uint flags = (has_gamma ? BN_GAMMA : 0) | (dx ? DX_WRITE : 0) |
                    (dgamma ? BN_DGAMMA : 0) | (dbeta ? BN_DBETA : 0);
    cl_uint Ru = (cl_uint)R, Du = (cl_uint)D, rows_u = (cl_uint)rows, Wu = (cl_uint)W;
    cl_mem out = dx ? dx->buffer : dy->buffer; /* not written without DX_WRITE */
    status = clnn_run_kernel_single(ctx, k, "ln_backward_rows", W,
                                    CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(dy->buffer),
                                              CLNN_ARG(g), CLNN_ARG(flags),
                                              CLNN_ARG(save_mean->buffer),
                                              CLNN_ARG(save_invstd->buffer), CLNN_ARG(out),
                                              CLNN_ARG(part), CLNN_ARG(Ru), CLNN_ARG(Du),
                                              CLNN_ARG(rows_u)));
    if (status == CLNN_SUCCESS && params) {
        cl_mem dg = dgamma ? dgamma->buffer : part, db = dbeta ? dbeta->buffer : part;
        status = clnn_run_kernel_1d(ctx, k_final, "ln_param_finalize", D,
                                    CLNN_ARGS(CLNN_ARG(part), CLNN_ARG(Wu), CLNN_ARG(Du),
                                              CLNN_ARG(dg), CLNN_ARG(db), CLNN_ARG(flags),
                                              CLNN_ARG(param_beta)));
    }
    return status;
}

clnn_status clnn_layer_norm_backward(clnn_context *ctx, const clnn_tensor *x, const clnn_tensor *dy,
                                     const clnn_tensor *gamma, const clnn_tensor *save_mean,
                                     const clnn_tensor *save_invstd, clnn_tensor *dx,
                                     clnn_tensor *dgamma, clnn_tensor *dbeta, float param_beta)
{
    static const char *fn = "clnn_layer_norm_backward";
    clnn_status status = clnn_check_context(ctx, fn);
    if (status != CLNN_SUCCESS)
        return status;
    if ((status = clnn_check_tensor(ctx, x, "x")) != CLNN_SUCCESS)
        return status;
    size_t R, D;
    ln_view(x, &R, &D);
    if ((status = check_same(ctx, dy, "dy", x, "x")) != CLNN_SUCCESS ||
        (dx && (status = check_same(ctx, dx, "dx", x, "x")) != CLNN_SUCCESS) ||
        (status = check_optional_vector(ctx, gamma, "gamma", D, "the last dimension of x", fn)) != CLNN_SUCCESS ||
        (status = check_vector(ctx, save_mean, "save_mean", R, "one per row of x", fn)) != CLNN_SUCCESS ||
        (status = check_vector(ctx, save_invstd, "save_invstd", R, "one per row of x", fn)) != CLNN_SUCCESS ||
        (status = check_optional_vector(ctx, dgamma, "dgamma", D, "the last dimension of x", fn)) != CLNN_SUCCESS ||
        (status = check_optional_vector(ctx, dbeta, "dbeta", D, "the last dimension of x", fn)) != CLNN_SUCCESS ||
        (status = check_param_beta(ctx, param_beta, fn)) != CLNN_SUCCESS)
        return status;
    if (dx && dx == x)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: dx must not be x (x is read after dx is written); dx may be dy", fn);
    if (dgamma && dgamma == dbeta)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: dgamma and dbeta must be different tensors", fn);
    cl_kernel k_dx, k_part, k_final;
    if ((status = clnn_get_kernel(ctx, "norm.cl", NULL, "ln_backward_dx", &k_dx)) != CLNN_SUCCESS ||
        (status = clnn_get_kernel(ctx, "norm.cl", NULL, "ln_param_partial", &k_part)) != CLNN_SUCCESS ||
        (status = clnn_get_kernel(ctx, "norm.cl", NULL, "ln_param_finalize", &k_final)) != CLNN_SUCCESS)
        return status;
    if (!dx && !dgamma && !dbeta)
        return CLNN_SUCCESS;
    cl_uint Du = (cl_uint)D;
    cl_mem g = gamma ? gamma->buffer : x->buffer;
    /* CPUs take the one-pass form when every core gets a few ranges of rows; with fewer rows
     * (a handful of long rows) the form below spreads the columns instead. */
    if (clnn_cpu_forms(ctx) &&
        R >= BN_RESIDENT_ITEMS_PER_CU * (size_t)compute_units(ctx))
        return ln_backward_rows(ctx, x, dy, g, gamma != NULL, save_mean, save_invstd, dx, dgamma,
                                dbeta, param_beta, R, D, k_final);
    /* ln_backward_dx also writes each row's mean residual d (see norm.cl), which the parameter
     * gradients need. It runs first; when dx is dy and parameter gradients are wanted, a first
     * run writes only d, so that dy is still intact for them. */
    cl_mem resid; /* ln_params takes the partial-results slot */
    if ((status = scratch_buffer(ctx, CLNN_SCRATCH_COEFFICIENTS, R, &resid)) != CLNN_SUCCESS)
        return status;
    size_t L = clnn_pow2_ceil_capped(D, clnn_kernel_group_size(ctx, k_dx));
    size_t global_dx = R * L;
    int want_params = dgamma || dbeta;
    int dx_last = dx && dx == dy && want_params;
    for (int pass = 0; pass < (dx_last ? 2 : 1) && status == CLNN_SUCCESS; ++pass) {
        int write_dx = dx && (!dx_last || pass == 1);
        cl_uint flags = (gamma ? BN_GAMMA : 0) | (write_dx ? DX_WRITE : 0);
        cl_mem out = dx ? dx->buffer : resid;
        status = clnn_run_kernel(ctx, k_dx, "ln_backward_dx", 1, &global_dx, &L,
                                 CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(dy->buffer), CLNN_ARG(g),
                                           CLNN_ARG(flags), CLNN_ARG(save_mean->buffer),
                                           CLNN_ARG(save_invstd->buffer), CLNN_ARG(out),
                                           CLNN_ARG(resid), CLNN_ARG(Du),
                                           CLNN_LOCAL_ARG(4 * L * sizeof(float))));
        if (pass == 0 && want_params && status == CLNN_SUCCESS)
            status = ln_params(ctx, k_part, k_final, x, dy, save_mean, save_invstd, resid, R, D,
                               dgamma, dbeta, param_beta);
    }
    return status;
}
