/*
 * Batch normalisation, plain and fused with an activation: argument checks and kernel launches
 * (kernels/norm.cl). How the reductions are laid out for the shape and device is src/norm_plan.c;
 * layer norm is src/norm_layer.c.
 *
 * Batch-norm statistics are reduced in two stages (partial slices, then a per-channel merge) so
 * that one code path serves C = 65536 channels of 2 values and one channel of millions: the host
 * picks the number of slices P so that about NORM_GROUPS_PER_CU work-groups per compute unit run
 * in stage 1. The partial results and the per-channel coefficients live in two slots of the
 * context's scratch pool (src/scratch.c), sized by bounds that never shrink as the batch grows, so
 * that once the largest batch has run, smaller ones create no buffer. On CPUs with enough channels
 * the resident forms run instead: a work-item owns whole channels and makes one pass.
 */
#include "activation_internal.h"
#include "norm_internal.h"

#include <math.h>
#include <string.h>

/* x viewed as (N, C, S). */
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

/* The activation of a fused call: the descriptor is checked and gives the build options and the
 * kernels' float4 parameters. NULL or the identity runs on the program built for ReLU with
 * p.s3 = 1, which makes the kernels' f the identity (see norm.cl): one program and one set of
 * compiled kernels serve a network's batch norms with and without ReLU. */
typedef struct bn_act {
    char options[CLNN_ACTIVATION_OPTIONS_SIZE];
    const char *opts; /* = options */
    cl_float4 p;
} bn_act;

static clnn_status bn_act_init(clnn_context *ctx, const clnn_activation_desc *desc,
                               const char *fn, bn_act *a)
{
    memset(a, 0, sizeof *a);
    clnn_status status = desc ? clnn_activation_check_desc(ctx, desc, fn) : CLNN_SUCCESS;
    if (status != CLNN_SUCCESS)
        return status;
    a->opts = a->options;
    if (!desc || desc->kind == CLNN_ACTIVATION_IDENTITY) {
        clnn_activation_desc relu;
        clnn_activation_desc_init(&relu, CLNN_ACTIVATION_RELU);
        clnn_activation_build_options(&relu, a->options, sizeof a->options);
        a->p.s[3] = 1.0f;
        return CLNN_SUCCESS;
    }
    clnn_activation_build_options(desc, a->options, sizeof a->options);
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

clnn_status clnn_batch_norm_build(clnn_context *ctx, const clnn_activation_desc *act)
{
    bn_act a;
    clnn_status status = bn_act_init(ctx, act, "clnn_batch_norm_build", &a);
    if (status == CLNN_SUCCESS)
        status = clnn_build_program(ctx, "norm.cl", a.opts);
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

    size_t items = clnn_bn_resident_items(ctx, &v);
    if (items) {
        const char *name = S == 1 ? "bn_forward_resident_cols" : "bn_forward_resident_planes";
        cl_kernel kr;
        if ((status = bn_kernels(ctx, &a, 1, &name, &kr)) != CLNN_SUCCESS)
            return status;
        if (S == 1) {
            cl_uint chunks = (cl_uint)clnn_bn_resident_chunks(ctx, &v);
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
    clnn_bn_make_plan(ctx, &v, clnn_kernel_group_size(ctx, k[0]), clnn_kernel_group_size(ctx, k[1]),
                      clnn_kernel_group_size(ctx, k[5]), &plan);
    cl_mem part, coef;
    if ((status = clnn_bn_scratch(ctx, &v, &plan, 4 * v.C, &part, &coef)) != CLNN_SUCCESS)
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
        status =
            clnn_bn_run_apply(ctx, &v, k[3], "bn_apply_planes",
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
        status =
            clnn_bn_run_apply(ctx, &v, k[1], "bn_apply_planes",
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
    size_t items = clnn_bn_resident_items(ctx, &v);
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
            cl_uint chunks = (cl_uint)clnn_bn_resident_chunks(ctx, &v);
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
    cl_kernel k[10];
    if ((status = bn_kernels(ctx, &a, 10, names, k)) != CLNN_SUCCESS)
        return status;

    bn_plan plan;
    size_t gs_serial = clnn_kernel_group_size(ctx, k[0]);
    size_t gs_planes = clnn_kernel_group_size(ctx, k[1]);
    size_t gs_cols = clnn_kernel_group_size(ctx, k[5]);
    gs_serial = min_size(gs_serial, clnn_kernel_group_size(ctx, k[6]));
    gs_planes = min_size(gs_planes, clnn_kernel_group_size(ctx, k[7]));
    gs_cols = min_size(gs_cols, clnn_kernel_group_size(ctx, k[9]));
    clnn_bn_make_plan(ctx, &v, gs_serial, gs_planes, gs_cols, &plan);
    cl_mem part, coef;
    /* coef holds the 6 per-channel coefficients of dx, and before them the 4 of z. */
    if ((status = clnn_bn_scratch(ctx, &v, &plan, 6 * v.C, &part, &coef)) != CLNN_SUCCESS)
        return status;
    cl_uint C = (cl_uint)v.C, S = (cl_uint)v.S, N = (cl_uint)v.N;
    cl_uint P = (cl_uint)plan.P, rows = plan.rows, Ps = plan.Ps, schunk = plan.schunk;
    cl_uint run = plan.run;
    /* z needs the exact mean: reduce x as the forward does, then pre = [K | d | a | beta]. */
    cl_mem pre = coef;
    status = bn_run_stats(ctx, &v, &plan, k[6], k[7], k[9], x->buffer, part);
    if (status == CLNN_SUCCESS)
        status = clnn_run_kernel_1d(
            ctx, k[8], "bn_bwd_prep", v.C,
            CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(part), CLNN_ARG(P), CLNN_ARG(C), CLNN_ARG(S),
                      CLNN_ARG(save_mean->buffer), CLNN_ARG(save_invstd->buffer), CLNN_ARG(g),
                      CLNN_ARG(b), CLNN_ARG(gflags), CLNN_ARG(coef)));
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
        status = clnn_bn_run_apply(
            ctx, &v, k[3], "bn_bwd_apply_planes",
            CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(dy->buffer), CLNN_ARG(dx->buffer),
                      CLNN_ARG(coef), CLNN_ARG(C), CLNN_ARG(S), CLNN_ARG(a.p)),
            k[4], "bn_bwd_apply_cols",
            CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(dy->buffer), CLNN_ARG(dx->buffer),
                      CLNN_ARG(coef), CLNN_ARG(C), CLNN_ARG(N), CLNN_ARG(a.p)));
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
