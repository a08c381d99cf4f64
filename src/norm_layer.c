/*
 * Layer normalisation over the last dimension of x (kernels/norm.cl): argument checks and kernel
 * launches. The forward normalises each row in one work-group (on CPUs a few work-items per row,
 * each a contiguous chunk); the backward writes dx and each row's mean residual, then reduces
 * dgamma and dbeta over the rows in two stages as batch norm does (src/norm.c), or on CPUs with
 * enough rows in one pass over a few row ranges per compute unit.
 */
#include "norm_internal.h"

/* Least values per work-item of layer norm's forward on CPUs. */
#define LN_CPU_CHUNK 1024

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
