/*
 * Batch norm and layer norm on every device against the double-precision references in
 * tests/ref/norm_ref.c: fresh random data (also a mean of 1e4 with a spread of 1e-2), odd sizes
 * (2, 3 and 1000003 values per channel; 1, 3 and 65536 channels), poisoned outputs, running
 * statistics after several steps, backward passes (the reference itself checked by central finite
 * differences), accumulation, in-place use and argument errors.
 */
#include "clnn_test.h"
#include "activation_ref.h"
#include "norm_ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EPS 1e-5
#define MOMENTUM 0.1f

/* Normal data with the given offset and spread. */
static void fill(float *x, size_t n, double offset, double spread)
{
    for (size_t i = 0; i < n; ++i)
        x[i] = (float)(offset + spread * clnn_test_normal());
}

static double max_abs(const double *v, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; ++i)
        m = fmax(m, fabs(v[i]));
    return m;
}

/* Tolerances, justified:
 * - save_invstd, running_var: the variance is accumulated in float by Welford/Chan on values
 *   shifted by a sample of the channel, whose error is a few ulp of the variance, whatever the
 *   mean: rtol 2e-5 leaves room for channels of a million values.
 * - y: (x - K) is exact and the residual mean is good to a few ulp of the spread, so y is good
 *   to a few ulp of max|y| (atol) on top of the scale's error (rtol 2e-5).
 * - mean: rounding to float near |offset|, plus 1e-5 of the spread: the shifted means of up to
 *   4096 slices are merged in sequence, each merge rounding at the size of the shift (~σ).
 * - dx: float sums over up to 1e6 values (sequential partials over a few hundred, then a tree):
 *   5e-5 of the scale of dx, max|dy| * max|gamma * invstd| (with 2 values per channel dx is
 *   nearly 0 and only that scale is meaningful). dgamma, dbeta: sums of signed terms, judged against the sum of their
 *   magnitudes (2e-5 of it). */
static void check_bn_case(size_t N, size_t C, size_t S, double offset, double spread,
                          int affine, int steps)
{
    size_t count = N * C * S;
    size_t dims4[4] = {N, C, S, 1}, dims2[2] = {N, C};
    int ndim = S == 1 ? 2 : (S % 2 ? 3 : 4);
    size_t *dims = S == 1 ? dims2 : dims4;
    if (ndim == 4) { /* (N, C, 2, S/2) */
        dims4[2] = 2;
        dims4[3] = S / 2;
    }
    float *x = clnn_test_alloc(count * sizeof *x), *out = clnn_test_alloc(count * sizeof *out);
    float *dy = clnn_test_alloc(count * sizeof *dy);
    double *y_ref = clnn_test_alloc(count * sizeof *y_ref);
    float *gamma = clnn_test_alloc(C * sizeof *gamma), *beta = clnn_test_alloc(C * sizeof *beta);
    float *vec = clnn_test_alloc(C * sizeof *vec);
    double *mean = clnn_test_alloc(C * sizeof *mean), *invstd = clnn_test_alloc(C * sizeof *invstd),
           *varu = clnn_test_alloc(C * sizeof *varu), *rm = clnn_test_alloc(C * sizeof *rm),
           *rv = clnn_test_alloc(C * sizeof *rv), *dg = clnn_test_alloc(C * sizeof *dg),
           *db = clnn_test_alloc(C * sizeof *db);
    fill(gamma, C, 1.0, 0.5);
    fill(beta, C, 0.0, 0.5);
    for (size_t c = 0; c < C; ++c) {
        vec[c] = (float)clnn_test_uniform(-1, 1);
        rm[c] = vec[c];
    }
    clnn_tensor *tx = clnn_test_tensor(ndim, dims, NULL), *ty = clnn_test_tensor(ndim, dims, NULL);
    clnn_tensor *tg = affine ? clnn_test_tensor_1d(C, gamma) : NULL;
    clnn_tensor *tb = affine ? clnn_test_tensor_1d(C, beta) : NULL;
    clnn_tensor *trm = clnn_test_tensor_1d(C, vec);
    for (size_t c = 0; c < C; ++c) {
        vec[c] = (float)clnn_test_uniform(0.5, 2);
        rv[c] = vec[c];
    }
    clnn_tensor *trv = clnn_test_tensor_1d(C, vec);
    clnn_tensor *tsm = clnn_test_tensor_1d(C, NULL), *tsi = clnn_test_tensor_1d(C, NULL);
    const float *g = affine ? gamma : NULL, *b = affine ? beta : NULL;
    double y_atol = 0, mean_atol = 4 * ldexp(fabs(offset) + 4 * spread, -24) + 1e-5 * spread;

    for (int step = 0; step < steps; ++step) {
        fill(x, count, offset, spread);
        CLNN_ASSERT_OK(clnn_tensor_upload(tx, x, count));
        clnn_test_poison(ty);
        clnn_test_poison(tsm);
        clnn_test_poison(tsi);
        CLNN_ASSERT_OK(clnn_batch_norm_forward_training(clnn_test_ctx, tx, tg, tb, trm, trv,
                                                        MOMENTUM, (float)EPS, ty, tsm, tsi));
        norm_ref_bn_train(x, N, C, S, g, b, EPS, y_ref, mean, invstd, varu);
        y_atol = 1e-6 * max_abs(y_ref, count);
        clnn_test_download(ty, out, count);
        clnn_test_assert_close("bn y", out, y_ref, count, 2e-5, y_atol);
        clnn_test_download(tsm, vec, C);
        clnn_test_assert_close("bn save_mean", vec, mean, C, 1e-6, mean_atol);
        clnn_test_download(tsi, vec, C);
        clnn_test_assert_close("bn save_invstd", vec, invstd, C, 2e-5, 0);
        for (size_t c = 0; c < C; ++c) {
            rm[c] = (1 - MOMENTUM) * rm[c] + MOMENTUM * mean[c];
            rv[c] = (1 - MOMENTUM) * rv[c] + MOMENTUM * varu[c];
        }
        clnn_test_download(trm, vec, C);
        clnn_test_assert_close("bn running_mean", vec, rm, C, 1e-6, mean_atol);
        clnn_test_download(trv, vec, C);
        clnn_test_assert_close("bn running_var", vec, rv, C, 2e-5, 1e-7);
    }

    /* Backward on the last step's input. */
    fill(dy, count, 0.0, 1.0);
    clnn_tensor *tdy = clnn_test_tensor(ndim, dims, dy), *tdx = clnn_test_tensor(ndim, dims, NULL);
    clnn_tensor *tdg = clnn_test_tensor_1d(C, NULL), *tdb = clnn_test_tensor_1d(C, NULL);
    CLNN_ASSERT_OK(clnn_batch_norm_backward(clnn_test_ctx, tx, tdy, tg, tsm, tsi, tdx, tdg, tdb,
                                            0.0f));
    norm_ref_bn_backward(x, dy, N, C, S, g, EPS, y_ref, dg, db);
    clnn_test_download(tdx, out, count);
    double dscale = 0;
    for (size_t c = 0; c < C; ++c)
        dscale = fmax(dscale, fabs((affine ? gamma[c] : 1.0) * invstd[c]));
    double dymax = 0;
    for (size_t i = 0; i < count; ++i)
        dymax = fmax(dymax, fabs(dy[i]));
    dscale *= dymax;
    clnn_test_assert_close("bn dx", out, y_ref, count, 5e-5, 5e-5 * dscale);
    /* Sum of |terms| per channel bounds the rounding of dgamma and dbeta: about sqrt(M) for
     * unit normal dy. */
    double mag = sqrt((double)(N * S)) * 4;
    clnn_test_download(tdg, vec, C);
    clnn_test_assert_close("bn dgamma", vec, dg, C, 2e-5, 2e-5 * mag);
    clnn_test_download(tdb, vec, C);
    clnn_test_assert_close("bn dbeta", vec, db, C, 2e-5, 2e-5 * mag);

    /* Accumulation (param_beta = 1) and in-place dx = dy. */
    CLNN_ASSERT_OK(clnn_batch_norm_backward(clnn_test_ctx, tx, tdy, tg, tsm, tsi, tdy, tdg, tdb,
                                            1.0f));
    clnn_test_download(tdy, out, count);
    clnn_test_assert_close("bn dx in place", out, y_ref, count, 5e-5, 5e-5 * dscale);
    for (size_t c = 0; c < C; ++c) {
        dg[c] *= 2;
        db[c] *= 2;
    }
    clnn_test_download(tdg, vec, C);
    clnn_test_assert_close("bn dgamma accumulated", vec, dg, C, 2e-5, 4e-5 * mag);
    clnn_test_download(tdb, vec, C);
    clnn_test_assert_close("bn dbeta accumulated", vec, db, C, 2e-5, 4e-5 * mag);

    /* Inference from the running statistics, in place. */
    float *rmf = clnn_test_alloc(C * sizeof *rmf), *rvf = clnn_test_alloc(C * sizeof *rvf);
    clnn_test_download(trm, rmf, C);
    clnn_test_download(trv, rvf, C);
    CLNN_ASSERT_OK(clnn_batch_norm_forward_inference(clnn_test_ctx, tx, tg, tb, trm, trv,
                                                     (float)EPS, tx));
    norm_ref_bn_infer(x, N, C, S, g, b, rmf, rvf, EPS, y_ref);
    clnn_test_download(tx, out, count);
    /* Here x - running_mean is not exact for a large offset: one ulp of the offset times the
     * scale bounds the error. */
    double infer_atol = 1e-6 * max_abs(y_ref, count) + 2 * ldexp(fabs(offset), -24) * 1.0 /
                                                           sqrt(EPS) * 2.5;
    clnn_test_assert_close("bn inference", out, y_ref, count, 2e-5,
                           offset != 0 ? infer_atol : 1e-6 * max_abs(y_ref, count));

    clnn_tensor *all[] = {tx, ty, tg, tb, trm, trv, tsm, tsi, tdy, tdx, tdg, tdb};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        clnn_tensor_destroy(all[i]);
    free(x), free(out), free(dy), free(y_ref), free(gamma), free(beta), free(vec), free(mean);
    free(invstd), free(varu), free(rm), free(rv), free(dg), free(db), free(rmf), free(rvf);
}

static void test_bn_odd_sizes(void **state)
{
    (void)state;
    /* 2 and 3 values per channel, in 2-D and 4-D; both reduction forms. */
    check_bn_case(2, 7, 1, 0, 1, 1, 3);
    check_bn_case(1, 4, 2, 0, 1, 1, 3);
    check_bn_case(3, 5, 1, 0.5, 2, 0, 3);
    check_bn_case(1, 3, 3, 0, 1, 1, 3);
    check_bn_case(64, 37, 1, 0, 1, 1, 3);
    check_bn_case(4, 6, 63, 1, 1, 1, 3);   /* planes form, S odd: (N, C, L) */
    check_bn_case(3, 2, 2000, 0, 1, 1, 3); /* planes form, several slices per channel */
    check_bn_case(5, 3, 24, 0, 3, 0, 3);   /* serial form with S > 1 */
}

/* Shapes for which CPU devices take the resident forms (kernels/norm.cl: a work-item owns whole
 * channels; chosen with at least 4 work-items per compute unit, so up to 64 compute units here);
 * other devices, and rusticl's CPU forms (quirk no-blocked-kernels), take the sliced forms. */
static void test_bn_resident(void **state)
{
    (void)state;
    check_bn_case(CLNN_TEST_SHAPE(24, 3), 4096, 1, 0, 1, 1, 3);    /* cols: 256 blocks of 16 features */
    check_bn_case(7, 1120, 1, 0, 1, 1, 2);     /* cols: 70 blocks, a shorter last work-item */
    check_bn_case(3, 4096, 1, 0.5, 2, 0, 3);   /* cols, 3 rows, no affine */
    check_bn_case(130, 1024, 1, 1e4, 1e-2, 1, 2); /* cols, large mean, 3 blocks of rows */
    check_bn_case(3, 256, 49, 0, 1, 1, 3);     /* planes: 7x7, odd plane length */
    check_bn_case(2, 256, CLNN_TEST_SHAPE(600, 60), -1e4, 1e-2, 1, 2); /* planes, large mean, runs of 256 + tail */
    check_bn_case(5, 256, 17, 1, 3, 0, 3);     /* planes, shortest plane, no affine */
}

static void test_bn_large_mean(void **state)
{
    (void)state;
    check_bn_case(64, 37, 1, 1e4, 1e-2, 1, 3);
    check_bn_case(4, 6, 64, 1e4, 1e-2, 1, 3);
    check_bn_case(CLNN_TEST_SHAPE(100003, 4099), 3, 1, 1e4, 1e-2, 1, 2);
    check_bn_case(2, 3, CLNN_TEST_SHAPE(50000, 2003), -1e4, 1e-2, 1, 2);
}

static void test_bn_extreme_shapes(void **state)
{
    (void)state;
    const size_t big = CLNN_TEST_SHAPE(1000003, 10007);
    check_bn_case(2, CLNN_TEST_SHAPE(65536, 4099), 1, 0, 1, 1, 2); /* 65536 channels of 2 */
    check_bn_case(big, 1, 1, 0, 1, 1, 2); /* one feature of 1000003 samples */
    check_bn_case(1, 1, big, 3, 2, 1, 2); /* one channel, 1000003 positions */
}

/* The reference backward against central differences of the reference forward. */
static void test_bn_reference_gradients(void **state)
{
    (void)state;
    const size_t N = 3, C = 2, S = 5, n = N * C * S;
    float xf[30], dyf[30], gf[2], bf[2];
    double x[30], w[30], g[2], b[2], dx[30], dg[2], db[2];
    for (size_t i = 0; i < n; ++i) {
        xf[i] = (float)clnn_test_normal();
        dyf[i] = (float)clnn_test_normal();
        x[i] = xf[i];
        w[i] = dyf[i];
    }
    for (size_t c = 0; c < C; ++c) {
        gf[c] = (float)clnn_test_uniform(0.5, 2);
        bf[c] = (float)clnn_test_uniform(-1, 1);
        g[c] = gf[c];
        b[c] = bf[c];
    }
    norm_ref_bn_backward(xf, dyf, N, C, S, gf, EPS, dx, dg, db);
    const double h = 1e-5;
    /* Central differences in double: error O(h^2) + O(1e-16 / h), far below 1e-6. */
    for (size_t i = 0; i < n; ++i) {
        double save = x[i];
        x[i] = save + h;
        double up = norm_ref_bn_objective(x, w, N, C, S, g, b, EPS);
        x[i] = save - h;
        double down = norm_ref_bn_objective(x, w, N, C, S, g, b, EPS);
        x[i] = save;
        assert_true(fabs((up - down) / (2 * h) - dx[i]) < 1e-6 * (1 + fabs(dx[i])));
    }
    for (size_t c = 0; c < C; ++c) {
        double save = g[c];
        g[c] = save + h;
        double up = norm_ref_bn_objective(x, w, N, C, S, g, b, EPS);
        g[c] = save - h;
        double down = norm_ref_bn_objective(x, w, N, C, S, g, b, EPS);
        g[c] = save;
        assert_true(fabs((up - down) / (2 * h) - dg[c]) < 1e-6 * (1 + fabs(dg[c])));
        save = b[c];
        b[c] = save + h;
        up = norm_ref_bn_objective(x, w, N, C, S, g, b, EPS);
        b[c] = save - h;
        down = norm_ref_bn_objective(x, w, N, C, S, g, b, EPS);
        b[c] = save;
        assert_true(fabs((up - down) / (2 * h) - db[c]) < 1e-6 * (1 + fabs(db[c])));
    }
    /* The same for layer norm (4 rows of 7). */
    const size_t R = 4, D = 7;
    float lg[7], lb[7];
    double lgd[7], lbd[7], ldx[28], ldg[7], ldb[7];
    for (size_t j = 0; j < D; ++j) {
        lg[j] = (float)clnn_test_uniform(0.5, 2);
        lb[j] = (float)clnn_test_uniform(-1, 1);
        lgd[j] = lg[j];
        lbd[j] = lb[j];
    }
    norm_ref_ln_backward(xf, dyf, R, D, lg, EPS, ldx, ldg, ldb);
    for (size_t i = 0; i < R * D; ++i) {
        double save = x[i];
        x[i] = save + h;
        double up = norm_ref_ln_objective(x, w, R, D, lgd, lbd, EPS);
        x[i] = save - h;
        double down = norm_ref_ln_objective(x, w, R, D, lgd, lbd, EPS);
        x[i] = save;
        assert_true(fabs((up - down) / (2 * h) - ldx[i]) < 1e-6 * (1 + fabs(ldx[i])));
    }
    for (size_t j = 0; j < D; ++j) {
        double save = lgd[j];
        lgd[j] = save + h;
        double up = norm_ref_ln_objective(x, w, R, D, lgd, lbd, EPS);
        lgd[j] = save - h;
        double down = norm_ref_ln_objective(x, w, R, D, lgd, lbd, EPS);
        lgd[j] = save;
        assert_true(fabs((up - down) / (2 * h) - ldg[j]) < 1e-6 * (1 + fabs(ldg[j])));
        save = lbd[j];
        lbd[j] = save + h;
        up = norm_ref_ln_objective(x, w, R, D, lgd, lbd, EPS);
        lbd[j] = save - h;
        down = norm_ref_ln_objective(x, w, R, D, lgd, lbd, EPS);
        lbd[j] = save;
        assert_true(fabs((up - down) / (2 * h) - ldb[j]) < 1e-6 * (1 + fabs(ldb[j])));
    }
}

/* Layer norm: forward, backward with and without affine, in place. Tolerances as batch norm's. */
static void check_ln_case(size_t R, size_t D, double offset, double spread, int affine)
{
    size_t count = R * D, dims[2] = {R, D};
    float *x = clnn_test_alloc(count * sizeof *x), *dy = clnn_test_alloc(count * sizeof *dy),
          *out = clnn_test_alloc(count * sizeof *out);
    float *gamma = clnn_test_alloc(D * sizeof *gamma), *beta = clnn_test_alloc(D * sizeof *beta),
          *vec = clnn_test_alloc((R > D ? R : D) * sizeof *vec);
    double *ref = clnn_test_alloc(count * sizeof *ref), *mean = clnn_test_alloc(R * sizeof *mean),
           *invstd = clnn_test_alloc(R * sizeof *invstd), *dg = clnn_test_alloc(D * sizeof *dg),
           *db = clnn_test_alloc(D * sizeof *db);
    fill(x, count, offset, spread);
    fill(dy, count, 0, 1);
    fill(gamma, D, 1, 0.5);
    fill(beta, D, 0, 0.5);
    const float *g = affine ? gamma : NULL, *b = affine ? beta : NULL;
    clnn_tensor *tx = clnn_test_tensor(2, dims, x), *ty = clnn_test_tensor(2, dims, NULL);
    clnn_tensor *tg = affine ? clnn_test_tensor_1d(D, gamma) : NULL;
    clnn_tensor *tb = affine ? clnn_test_tensor_1d(D, beta) : NULL;
    clnn_tensor *tm = clnn_test_tensor_1d(R, NULL), *ti = clnn_test_tensor_1d(R, NULL);
    CLNN_ASSERT_OK(clnn_layer_norm_forward(clnn_test_ctx, tx, tg, tb, (float)EPS, ty, tm, ti));
    norm_ref_ln_forward(x, R, D, g, b, EPS, ref, mean, invstd);
    clnn_test_download(ty, out, count);
    clnn_test_assert_close("ln y", out, ref, count, 2e-5, 1e-6 * max_abs(ref, count));
    clnn_test_download(ti, vec, R);
    clnn_test_assert_close("ln save_invstd", vec, invstd, R, 2e-5, 0);
    clnn_test_download(tm, vec, R);
    clnn_test_assert_close("ln save_mean", vec, mean, R, 1e-6,
                           4 * ldexp(fabs(offset) + 4 * spread, -24) + 1e-5 * spread);

    clnn_tensor *tdy = clnn_test_tensor(2, dims, dy), *tdx = clnn_test_tensor(2, dims, NULL);
    clnn_tensor *tdg = clnn_test_tensor_1d(D, NULL), *tdb = clnn_test_tensor_1d(D, NULL);
    CLNN_ASSERT_OK(clnn_layer_norm_backward(clnn_test_ctx, tx, tdy, tg, tm, ti, tdx, tdg, tdb,
                                            0.0f));
    norm_ref_ln_backward(x, dy, R, D, g, EPS, ref, dg, db);
    clnn_test_download(tdx, out, count);
    clnn_test_assert_close("ln dx", out, ref, count, 5e-5, 5e-5 * max_abs(ref, count));
    double mag = 4 * sqrt((double)R);
    clnn_test_download(tdg, vec, D);
    clnn_test_assert_close("ln dgamma", vec, dg, D, 2e-5, 2e-5 * mag);
    clnn_test_download(tdb, vec, D);
    clnn_test_assert_close("ln dbeta", vec, db, D, 2e-5, 2e-5 * mag);
    /* In place dx = dy, accumulating the parameter gradients. */
    CLNN_ASSERT_OK(clnn_layer_norm_backward(clnn_test_ctx, tx, tdy, tg, tm, ti, tdy, tdg, tdb,
                                            1.0f));
    clnn_test_download(tdy, out, count);
    clnn_test_assert_close("ln dx in place", out, ref, count, 5e-5, 5e-5 * max_abs(ref, count));
    for (size_t j = 0; j < D; ++j)
        dg[j] *= 2;
    clnn_test_download(tdg, vec, D);
    clnn_test_assert_close("ln dgamma accumulated", vec, dg, D, 2e-5, 4e-5 * mag);

    clnn_tensor *all[] = {tx, ty, tg, tb, tm, ti, tdy, tdx, tdg, tdb};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        clnn_tensor_destroy(all[i]);
    free(x), free(dy), free(out), free(gamma), free(beta), free(vec), free(ref), free(mean);
    free(invstd), free(dg), free(db);
}

static void test_ln(void **state)
{
    (void)state;
    check_ln_case(1, 1, 0, 1, 1);
    check_ln_case(7, 3, 0, 1, 1);
    check_ln_case(CLNN_TEST_SHAPE(33, 9), 1000, 2, 3, 0);
    check_ln_case(CLNN_TEST_SHAPE(16, 3), 4096, 1e4, 1e-2, 1);
    check_ln_case(2, CLNN_TEST_SHAPE(1000003, 10007), -1e4, 1e-2, 1);
    check_ln_case(CLNN_TEST_SHAPE(65536, 4099), 2, 0, 1, 1);
    check_ln_case(300, 37, 0.5, 2, 1); /* CPUs: rows form with a partial last range */
}

static void test_errors(void **state)
{
    (void)state;
    size_t d2[2] = {4, 3}, d1 = 3;
    clnn_tensor *x = clnn_test_tensor(2, d2, NULL), *y = clnn_test_tensor(2, d2, NULL);
    clnn_tensor *v3 = clnn_test_tensor_1d(d1, NULL), *w3 = clnn_test_tensor_1d(d1, NULL);
    clnn_tensor *v4 = clnn_test_tensor_1d(4, NULL), *one = clnn_test_tensor_1d(1, NULL);
    clnn_test_poison(y);
    CLNN_ASSERT_STATUS(clnn_batch_norm_forward_training(NULL, x, NULL, NULL, NULL, NULL, 0.1f,
                                                        1e-5f, y, v3, w3),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_batch_norm_forward_training(clnn_test_ctx, x, v4, NULL, NULL, NULL,
                                                        0.1f, 1e-5f, y, v3, w3),
                       CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_batch_norm_forward_training(clnn_test_ctx, x, NULL, NULL, v3, NULL,
                                                        0.1f, 1e-5f, y, v3, w3),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_batch_norm_forward_training(clnn_test_ctx, x, NULL, NULL, NULL, NULL,
                                                        1.5f, 1e-5f, y, v3, w3),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_batch_norm_forward_training(clnn_test_ctx, x, NULL, NULL, NULL, NULL,
                                                        0.1f, NAN, y, v3, w3),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_batch_norm_forward_training(clnn_test_ctx, x, NULL, NULL, NULL, NULL,
                                                        0.1f, 1e-5f, v3, v3, w3),
                       CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_batch_norm_forward_training(clnn_test_ctx, one, NULL, NULL, NULL,
                                                        NULL, 0.1f, 1e-5f, one, one, one),
                       CLNN_ERR_INVALID_SHAPE); /* rank 1 */
    size_t d11[2] = {1, 3};
    clnn_tensor *x1 = clnn_test_tensor(2, d11, NULL);
    CLNN_ASSERT_STATUS(clnn_batch_norm_forward_training(clnn_test_ctx, x1, NULL, NULL, NULL, NULL,
                                                        0.1f, 1e-5f, x1, v3, w3),
                       CLNN_ERR_INVALID_SHAPE); /* one value per channel */
    CLNN_ASSERT_STATUS(clnn_batch_norm_backward(clnn_test_ctx, x, y, NULL, v3, w3, x, NULL, NULL,
                                                0.0f),
                       CLNN_ERR_INVALID_ARGUMENT); /* dx == x */
    CLNN_ASSERT_STATUS(clnn_batch_norm_backward(clnn_test_ctx, x, y, NULL, v3, w3, NULL, v3, w3,
                                                INFINITY),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_batch_norm_forward_inference(clnn_test_ctx, x, NULL, NULL, v4, w3,
                                                         1e-5f, y),
                       CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_layer_norm_forward(clnn_test_ctx, x, NULL, v4, 1e-5f, y, NULL, NULL),
                       CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_layer_norm_forward(clnn_test_ctx, x, NULL, NULL, 1e-5f, y, v4, NULL),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_layer_norm_backward(clnn_test_ctx, x, y, NULL, v3, v4, NULL, NULL,
                                                NULL, 0.0f),
                       CLNN_ERR_INVALID_SHAPE); /* save_mean has one per row: 4 */
    /* Nothing was written. */
    float out[12];
    clnn_test_download(y, out, 12);
    for (int i = 0; i < 12; ++i)
        assert_true(isnan(out[i]));
    clnn_tensor *all[] = {x, y, v3, w3, v4, one, x1};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        clnn_tensor_destroy(all[i]);
}


/* ---- fused batch norm + activation ------------------------------------------------------------ */

static int z_near_kink(const clnn_activation_desc *act, const double *z, size_t n, double dist)
{
    for (size_t i = 0; i < n; ++i)
        if (clnn_ref_activation_near_kink(act, z[i], dist))
            return 1;
    return 0;
}

/* y = f(BN(x)) training and inference forward, and the fused backward, against the reference
 * composed with the activation reference. Tolerances, justified:
 * - y: z = BN(x) carries the plain batch norm's error (2e-5 relative + 1e-6 of max|z|, see
 *   check_bn_case); every kind tested has |f'| <= 1.13 and f itself is good to a few ulp, so
 *   |y - y_ref| <= 1.13 * that + 1e-6 * max|y|: rtol 2e-5 on y, atol 3e-5 * max|z| + 1e-6.
 * - dx, dgamma, dbeta: as plain batch norm (g = dy * f'(z) is dy scaled by at most 1.13), with
 *   the error of f'(z) from z's error (|f''| <= 1 for these kinds) folded into the same 5e-5.
 *   Where z lies within 1e-4 * max|z| of a kink (relu, leaky_relu at 0) the device's z may fall
 *   on the other side, so dy is 0 there: f' is a convention at the kink itself. */
static void check_bn_act_case(const clnn_activation_desc *act_or_null, size_t N, size_t C,
                              size_t S, double offset, double spread)
{
    clnn_activation_desc identity;
    CLNN_ASSERT_OK(clnn_activation_desc_init(&identity, CLNN_ACTIVATION_IDENTITY));
    const clnn_activation_desc *act = act_or_null ? act_or_null : &identity; /* reference */
    size_t count = N * C * S;
    size_t dims4[4] = {N, C, 2, S / 2}, dims2[2] = {N, C};
    int ndim = S == 1 ? 2 : 4;
    size_t *dims = S == 1 ? dims2 : dims4;
    float *x = clnn_test_alloc(count * sizeof *x), *out = clnn_test_alloc(count * sizeof *out);
    float *dy = clnn_test_alloc(count * sizeof *dy);
    double *z = clnn_test_alloc(count * sizeof *z), *ref = clnn_test_alloc(count * sizeof *ref);
    float *gamma = clnn_test_alloc(C * sizeof *gamma), *beta = clnn_test_alloc(C * sizeof *beta);
    float *vec = clnn_test_alloc(C * sizeof *vec), *ones = clnn_test_alloc(C * sizeof *ones);
    double *mean = clnn_test_alloc(C * sizeof *mean), *invstd = clnn_test_alloc(C * sizeof *invstd),
           *varu = clnn_test_alloc(C * sizeof *varu), *dg = clnn_test_alloc(C * sizeof *dg),
           *db = clnn_test_alloc(C * sizeof *db);
    fill(x, count, offset, spread);
    fill(gamma, C, 1.0, 0.5);
    fill(beta, C, 0.0, 0.5);
    for (size_t c = 0; c < C; ++c)
        ones[c] = 1.0f;
    clnn_tensor *tx = clnn_test_tensor(ndim, dims, x), *ty = clnn_test_tensor(ndim, dims, NULL);
    clnn_tensor *tg = clnn_test_tensor_1d(C, gamma), *tb = clnn_test_tensor_1d(C, beta);
    clnn_tensor *tsm = clnn_test_tensor_1d(C, NULL), *tsi = clnn_test_tensor_1d(C, NULL);
    clnn_tensor *trm = clnn_test_tensor_1d(C, NULL), *trv = clnn_test_tensor_1d(C, ones);
    CLNN_ASSERT_OK(clnn_tensor_fill(trm, 0.0f));

    CLNN_ASSERT_OK(clnn_batch_norm_activation_forward_training(
        clnn_test_ctx, act_or_null, tx, tg, tb, trm, trv, MOMENTUM, (float)EPS, ty, tsm, tsi));
    norm_ref_bn_train(x, N, C, S, gamma, beta, EPS, z, mean, invstd, varu);
    double zmax = max_abs(z, count);
    for (size_t i = 0; i < count; ++i)
        ref[i] = clnn_ref_activation_forward(act, z[i]);
    clnn_test_download(ty, out, count);
    clnn_test_assert_close("bn+act y", out, ref, count, 2e-5,
                           3e-5 * zmax + 1e-6 * max_abs(ref, count) + 1e-6);
    clnn_test_download(tsi, vec, C);
    clnn_test_assert_close("bn+act save_invstd", vec, invstd, C, 2e-5, 0);

    /* Backward, dy = 0 next to kinks. */
    fill(dy, count, 0.0, 1.0);
    for (size_t i = 0; i < count; ++i)
        if (clnn_ref_activation_near_kink(act, z[i], 1e-4 * zmax))
            dy[i] = 0.0f;
    clnn_tensor *tdy = clnn_test_tensor(ndim, dims, dy), *tdx = clnn_test_tensor(ndim, dims, NULL);
    clnn_tensor *tdg = clnn_test_tensor_1d(C, NULL), *tdb = clnn_test_tensor_1d(C, NULL);
    CLNN_ASSERT_OK(clnn_batch_norm_activation_backward(clnn_test_ctx, act_or_null, tx, tdy, tg, tb, tsm,
                                                       tsi, tdx, tdg, tdb, 0.0f));
    norm_ref_bn_act_backward(x, dy, N, C, S, gamma, beta, EPS, act, ref, dg, db);
    double dscale = 0;
    for (size_t c = 0; c < C; ++c)
        dscale = fmax(dscale, fabs(gamma[c] * invstd[c]));
    for (size_t i = 0; i < count; ++i)
        out[i] = fabsf(dy[i]);
    double dymax = 0;
    for (size_t i = 0; i < count; ++i)
        dymax = fmax(dymax, out[i]);
    dscale *= dymax * 1.13;
    clnn_test_download(tdx, out, count);
    clnn_test_assert_close("bn+act dx", out, ref, count, 5e-5, 5e-5 * dscale);
    double mag = sqrt((double)(N * S)) * 4 * 1.13;
    clnn_test_download(tdg, vec, C);
    clnn_test_assert_close("bn+act dgamma", vec, dg, C, 2e-5, 2e-5 * mag);
    clnn_test_download(tdb, vec, C);
    clnn_test_assert_close("bn+act dbeta", vec, db, C, 2e-5, 2e-5 * mag);
    /* In place (dx = dy), accumulating. */
    CLNN_ASSERT_OK(clnn_batch_norm_activation_backward(clnn_test_ctx, act_or_null, tx, tdy, tg, tb, tsm,
                                                       tsi, tdy, tdg, tdb, 1.0f));
    clnn_test_download(tdy, out, count);
    clnn_test_assert_close("bn+act dx in place", out, ref, count, 5e-5, 5e-5 * dscale);
    for (size_t c = 0; c < C; ++c)
        db[c] *= 2;
    clnn_test_download(tdb, vec, C);
    clnn_test_assert_close("bn+act dbeta accumulated", vec, db, C, 2e-5, 4e-5 * mag);

    /* Inference from fixed running statistics (mean 0.25, var 1.5 for small offsets). */
    if (offset == 0) {
        float *rm = clnn_test_alloc(C * sizeof *rm), *rv = clnn_test_alloc(C * sizeof *rv);
        for (size_t c = 0; c < C; ++c) {
            rm[c] = 0.25f;
            rv[c] = 1.5f;
        }
        CLNN_ASSERT_OK(clnn_tensor_upload(trm, rm, C));
        CLNN_ASSERT_OK(clnn_tensor_upload(trv, rv, C));
        clnn_test_poison(ty);
        CLNN_ASSERT_OK(clnn_batch_norm_activation_forward_inference(
            clnn_test_ctx, act_or_null, tx, tg, tb, trm, trv, (float)EPS, ty));
        norm_ref_bn_infer(x, N, C, S, gamma, beta, rm, rv, EPS, z);
        zmax = max_abs(z, count);
        for (size_t i = 0; i < count; ++i)
            ref[i] = clnn_ref_activation_forward(act, z[i]);
        clnn_test_download(ty, out, count);
        clnn_test_assert_close("bn+act inference", out, ref, count, 2e-5,
                               3e-5 * zmax + 1e-6 * max_abs(ref, count) + 1e-6);
        free(rm), free(rv);
    }

    clnn_tensor *all[] = {tx, ty, tg, tb, tsm, tsi, trm, trv, tdy, tdx, tdg, tdb};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        clnn_tensor_destroy(all[i]);
    free(x), free(out), free(dy), free(z), free(ref), free(gamma), free(beta), free(vec);
    free(ones), free(mean), free(invstd), free(varu), free(dg), free(db);
}

static void act_desc(clnn_activation_desc *d, clnn_activation kind)
{
    CLNN_ASSERT_OK(clnn_activation_desc_init(d, kind));
    if (kind == CLNN_ACTIVATION_LEAKY_RELU)
        d->negative_slope = 0.2f;
}

static const clnn_activation fused_kinds[] = {CLNN_ACTIVATION_RELU, CLNN_ACTIVATION_LEAKY_RELU,
                                              CLNN_ACTIVATION_TANH, CLNN_ACTIVATION_SILU,
                                              CLNN_ACTIVATION_GELU};

/* The small tier fuses the first four kinds (GELU is fused by test_activation's bias forms):
 * rusticl 22.3 compiled the CPU forms' float16 batch-norm kernels with GELU fused in about ten
 * minutes (bn_backward_resident_cols alone 239 s, in its NIR passes; with tanh 13 s). Those
 * kernels no longer run there, and its GELU is computed lane by lane (quirks no-blocked-kernels
 * and lanewise-math, src/profile.c); GELU has not been timed there since. */
static void test_bn_activation(void **state)
{
    (void)state;
    const size_t kinds = sizeof fused_kinds / sizeof fused_kinds[0] - CLNN_TEST_SHAPE(0, 1);
    for (size_t k = 0; k < kinds; ++k) {
        clnn_activation_desc act;
        act_desc(&act, fused_kinds[k]);
        check_bn_act_case(&act, 64, 37, 1, 0, 1);   /* 2-D */
        check_bn_act_case(&act, 3, 5, 64, 0.5, 2);  /* 4-D, planes form */
        check_bn_act_case(&act, 5, 1024, 1, 0, 1);  /* 2-D, resident cols form on CPUs */
        check_bn_act_case(&act, 2, 256, 20, 0, 1);  /* 4-D, resident planes form on CPUs */
    }
    clnn_activation_desc act;
    act_desc(&act, CLNN_ACTIVATION_SILU);
    check_bn_act_case(&act, 2, 3, 10, 0, 1); /* 4-D, serial form, 20 values per channel */
    act_desc(&act, CLNN_TEST_SHAPE(CLNN_ACTIVATION_GELU, CLNN_ACTIVATION_TANH));
    check_bn_act_case(&act, 256, 9, 1, 1e4, 1e-2); /* large mean: z needs the exact mean */
    check_bn_act_case(&act, 4, 3, 128, -1e4, 1e-2);
    act_desc(&act, CLNN_ACTIVATION_RELU);
    check_bn_act_case(&act, 2, 2, CLNN_TEST_SHAPE(50000, 2002), 1e4, 1e-2); /* S even */
    check_bn_act_case(&act, CLNN_TEST_SHAPE(70, 9), 1024, 1, -1e4, 1e-2); /* resident forms, large mean */
    check_bn_act_case(&act, 2, 256, CLNN_TEST_SHAPE(300, 30), 1e4, 1e-2);
    /* NULL and identity are plain batch norm. */
    check_bn_act_case(NULL, 16, 5, 8, 0, 1);
    act_desc(&act, CLNN_ACTIVATION_IDENTITY);
    check_bn_act_case(&act, 16, 5, 1, 0, 1);
}

/* The composed reference's backward against central differences of its forward, away from
 * kinks (a channel with a z within 1e-3 of a kink is skipped: h * invstd * gamma < 1e-4). */
static void test_bn_activation_reference_gradients(void **state)
{
    (void)state;
    enum { N = 3, C = 2, S = 5, n = N * C * S };
    const double h = 1e-5;
    for (size_t k = 0; k < sizeof fused_kinds / sizeof fused_kinds[0]; ++k) {
        clnn_activation_desc act;
        act_desc(&act, fused_kinds[k]);
        float xf[n], dyf[n], gf[C], bf[C];
        double x[n], w[n], g[C], b[C], z[n], mean[C], is[C], vu[C], dx[n], dg[C], db[C];
        for (size_t i = 0; i < n; ++i) {
            xf[i] = (float)clnn_test_normal();
            dyf[i] = (float)clnn_test_normal();
            x[i] = xf[i];
            w[i] = dyf[i];
        }
        for (size_t c = 0; c < C; ++c) {
            gf[c] = (float)clnn_test_uniform(0.5, 2);
            bf[c] = (float)clnn_test_uniform(-1, 1);
            g[c] = gf[c];
            b[c] = bf[c];
        }
        norm_ref_bn_train(xf, N, C, S, gf, bf, EPS, z, mean, is, vu);
        norm_ref_bn_act_backward(xf, dyf, N, C, S, gf, bf, EPS, &act, dx, dg, db);
        int skip[C];
        for (size_t c = 0; c < C; ++c) {
            skip[c] = 0;
            for (size_t nn = 0; nn < N; ++nn)
                skip[c] |= z_near_kink(&act, z + (nn * C + c) * S, S, 1e-3);
        }
        for (size_t i = 0; i < n; ++i) {
            if (skip[(i / S) % C])
                continue;
            double save = x[i];
            x[i] = save + h;
            double up = norm_ref_bn_act_objective(x, w, N, C, S, g, b, EPS, &act);
            x[i] = save - h;
            double down = norm_ref_bn_act_objective(x, w, N, C, S, g, b, EPS, &act);
            x[i] = save;
            assert_true(fabs((up - down) / (2 * h) - dx[i]) < 1e-6 * (1 + fabs(dx[i])));
        }
        for (size_t c = 0; c < C; ++c) {
            if (skip[c])
                continue;
            double save = g[c];
            g[c] = save + h;
            double up = norm_ref_bn_act_objective(x, w, N, C, S, g, b, EPS, &act);
            g[c] = save - h;
            double down = norm_ref_bn_act_objective(x, w, N, C, S, g, b, EPS, &act);
            g[c] = save;
            assert_true(fabs((up - down) / (2 * h) - dg[c]) < 1e-6 * (1 + fabs(dg[c])));
            save = b[c];
            b[c] = save + h;
            up = norm_ref_bn_act_objective(x, w, N, C, S, g, b, EPS, &act);
            b[c] = save - h;
            down = norm_ref_bn_act_objective(x, w, N, C, S, g, b, EPS, &act);
            b[c] = save;
            assert_true(fabs((up - down) / (2 * h) - db[c]) < 1e-6 * (1 + fabs(db[c])));
        }
    }
}

static void test_bn_activation_errors(void **state)
{
    (void)state;
    size_t d2[2] = {4, 3};
    clnn_tensor *x = clnn_test_tensor(2, d2, NULL), *y = clnn_test_tensor(2, d2, NULL);
    clnn_tensor *v3 = clnn_test_tensor_1d(3, NULL), *w3 = clnn_test_tensor_1d(3, NULL);
    clnn_tensor *v4 = clnn_test_tensor_1d(4, NULL);
    CLNN_ASSERT_OK(clnn_tensor_fill(x, 1.0f));
    clnn_test_poison(y);
    clnn_test_poison(v3);
    clnn_test_poison(w3);
    clnn_activation_desc bad;
    act_desc(&bad, CLNN_ACTIVATION_CELU);
    bad.alpha = 0.0f; /* celu needs alpha != 0 */
    CLNN_ASSERT_STATUS(clnn_batch_norm_activation_forward_training(
                           clnn_test_ctx, &bad, x, NULL, NULL, NULL, NULL, 0.1f, 1e-5f, y, v3, w3),
                       CLNN_ERR_INVALID_ARGUMENT);
    bad.kind = CLNN_ACTIVATION_COUNT;
    CLNN_ASSERT_STATUS(clnn_batch_norm_activation_forward_inference(clnn_test_ctx, &bad, x, NULL,
                                                                    NULL, v3, w3, 1e-5f, y),
                       CLNN_ERR_INVALID_ARGUMENT);
    clnn_activation_desc relu;
    act_desc(&relu, CLNN_ACTIVATION_RELU);
    CLNN_ASSERT_STATUS(clnn_batch_norm_activation_backward(clnn_test_ctx, &relu, x, x, NULL, v4,
                                                           v3, w3, y, NULL, NULL, 0.0f),
                       CLNN_ERR_INVALID_SHAPE); /* beta of 4 for 3 channels */
    CLNN_ASSERT_STATUS(clnn_batch_norm_activation_backward(clnn_test_ctx, &bad, x, x, NULL, NULL,
                                                           v3, w3, y, NULL, NULL, 0.0f),
                       CLNN_ERR_INVALID_ARGUMENT);
    float out[12];
    clnn_test_download(y, out, 12);
    for (int i = 0; i < 12; ++i)
        assert_true(isnan(out[i]));
    clnn_test_download(v3, out, 3);
    for (int i = 0; i < 3; ++i)
        assert_true(isnan(out[i]));
    clnn_tensor *all[] = {x, y, v3, w3, v4};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        clnn_tensor_destroy(all[i]);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_bn_reference_gradients),
    cmocka_unit_test(test_bn_odd_sizes),
    cmocka_unit_test(test_bn_large_mean),
    cmocka_unit_test(test_bn_extreme_shapes),
    cmocka_unit_test(test_bn_resident),
    cmocka_unit_test(test_ln),
    cmocka_unit_test(test_errors),
    cmocka_unit_test(test_bn_activation_reference_gradients),
    cmocka_unit_test(test_bn_activation),
    cmocka_unit_test(test_bn_activation_errors),
};

CLNN_TEST_MAIN("norm", tests)
