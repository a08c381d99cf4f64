/*
 * Pooling on every device and kernel form against the double-precision references in
 * tests/ref/pool_ref.c (whose backward passes are first checked by central finite differences):
 * max and average pooling (count_include_pad 1 and 0) on square and non-square kernels, images
 * and strides, overlapping windows (stride < kernel), stride > kernel, padding up to half the
 * kernel, 1x1 images, batch 1; inputs of random floats, of a few integers (ties: the first in
 * scan order must win and take the gradient), with NaN and -inf; backward with beta 0 over a
 * NaN-poisoned dx and beta 1; global average pooling over 1x1, odd and large planes. Outputs are
 * poisoned before every run (NaN; indices -12345).
 */
#include "clnn_test.h"
#include "pool_ref.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Unit roundoff of float. */
#define U 0x1p-24

/* How test inputs are drawn. */
enum data_mode {
    DATA_RANDOM, /* uniform in [-1, 1): no ties */
    DATA_TIES,   /* integers in [-2, 2] and a few -inf: many ties within windows */
    DATA_NAN,    /* uniform, with about 1 in 12 elements NaN */
};

static void fill_data(float *x, size_t n, enum data_mode mode)
{
    for (size_t i = 0; i < n; ++i) {
        double u = clnn_test_uniform(0, 1);
        switch (mode) {
        case DATA_RANDOM:
            x[i] = (float)clnn_test_uniform(-1, 1);
            break;
        case DATA_TIES:
            x[i] = u < 0.05 ? -INFINITY : (float)floor(clnn_test_uniform(-2, 3));
            break;
        case DATA_NAN:
            x[i] = u < 1.0 / 12 ? NAN : (float)clnn_test_uniform(-1, 1);
            break;
        }
    }
}

static double *to_double(const float *x, size_t n)
{
    double *d = clnn_test_alloc(n * sizeof *d);
    for (size_t i = 0; i < n; ++i)
        d[i] = x[i];
    return d;
}

static double max_abs_f(const float *v, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; ++i)
        if (isfinite(v[i]))
            m = fmax(m, fabs(v[i]));
    return m;
}

static clnn_tensor *int32_tensor(const size_t dims[4])
{
    clnn_tensor *t = NULL;
    CLNN_ASSERT_OK(clnn_tensor_create_int32(clnn_test_ctx, 4, dims, &t));
    return t;
}

/* Fills an int32 tensor with -12345, an index no pooling writes. */
static void poison_int32(clnn_tensor *t, size_t n)
{
    int32_t *p = clnn_test_alloc(n * sizeof *p);
    for (size_t i = 0; i < n; ++i)
        p[i] = -12345;
    CLNN_ASSERT_OK(clnn_tensor_upload_int32(t, p, n));
    free(p);
}

/* One pooling geometry, described once for both tiers. */
typedef struct pool_case {
    size_t N, C, H, W, kh, kw, sh, sw, ph, pw;
} pool_case;

/* Outputs whose windows can cover one input element along an axis, at most: ceil(k / s). */
static size_t covers(size_t k, size_t s)
{
    return (k + s - 1) / s;
}

/* Runs one case in one kind and data mode: forward (with indices for max), then backward with
 * beta 0 over a NaN-poisoned dx and with beta 1 over random values.
 *
 * Tolerances (u = 2^-24; OpenCL 1.2 allows float division 2.5 ulp, at most 5 u relative):
 * - max forward: a selection, exact; indices equal.
 * - average forward: a float sum of at most m = kh*kw terms then a division: the sum errs by at
 *   most (m - 1) u times the sum of |terms|, which over the divisor is at most max|x| (the divisor
 *   is at least the number of terms); the division adds 5 u: atol (m + 6) u max|x|.
 * - backward: each dx is a float sum of at most c = ceil(kh/sh) * ceil(kw/sw) terms (dy, or dy
 *   over a divisor: 5 u each), then beta * dx + sum (two roundings): at most
 *   (c + 8) u (c max|dy| + |beta| max|dx|). A misrouted or dropped term errs by a whole |dy|. */
static void run_case(const pool_case *pc, clnn_pool_kind kind, int cip, enum data_mode mode)
{
    pool_ref_geom g;
    pool_ref_geom_init(&g, pc->N, pc->C, pc->H, pc->W, pc->kh, pc->kw, pc->sh, pc->sw, pc->ph,
                       pc->pw);
    g.count_include_pad = cip;
    clnn_pool2d_desc desc;
    CLNN_ASSERT_OK(clnn_pool2d_desc_init(&desc, kind, pc->kh, pc->kw));
    desc.stride[0] = pc->sh, desc.stride[1] = pc->sw;
    desc.padding[0] = pc->ph, desc.padding[1] = pc->pw;
    desc.count_include_pad = cip;
    size_t oh, ow;
    CLNN_ASSERT_OK(clnn_pool2d_output_size(&desc, pc->H, pc->W, &oh, &ow));
    assert_int_equal(oh, g.OH);
    assert_int_equal(ow, g.OW);

    size_t n_in = g.N * g.C * g.H * g.W, n_out = g.N * g.C * g.OH * g.OW;
    size_t in_dims[4] = {g.N, g.C, g.H, g.W}, out_dims[4] = {g.N, g.C, g.OH, g.OW};
    size_t n_most = n_in > n_out ? n_in : n_out; /* a 1x1 image can have 2x2 outputs */
    float *x = clnn_test_alloc(n_in * sizeof *x), *got = clnn_test_alloc(n_most * sizeof *got);
    float *dy = clnn_test_alloc(n_out * sizeof *dy), *dx0 = clnn_test_alloc(n_in * sizeof *dx0);
    double *y_ref = clnn_test_alloc(n_out * sizeof *y_ref);
    double *dx_ref = clnn_test_alloc(n_in * sizeof *dx_ref);
    int32_t *idx_ref = clnn_test_alloc(n_out * sizeof *idx_ref);
    int32_t *idx = clnn_test_alloc(n_out * sizeof *idx);
    fill_data(x, n_in, mode);
    /* Gradients in the tie mode are small integers too, so their sums are exact. */
    fill_data(dy, n_out, mode == DATA_TIES ? DATA_TIES : DATA_RANDOM);
    for (size_t i = 0; i < n_out; ++i)
        if (!isfinite(dy[i]))
            dy[i] = 3.0f;
    fill_data(dx0, n_in, DATA_RANDOM);
    double *xd = to_double(x, n_in), *dyd = to_double(dy, n_out);

    clnn_tensor *tx = clnn_test_tensor(4, in_dims, x), *ty = clnn_test_tensor(4, out_dims, NULL);
    clnn_tensor *tdy = clnn_test_tensor(4, out_dims, dy), *tdx = clnn_test_tensor(4, in_dims, NULL);
    clnn_tensor *tidx = kind == CLNN_POOL_MAX ? int32_tensor(out_dims) : NULL;
    if (tidx)
        poison_int32(tidx, n_out);

    char what[160];
    snprintf(what, sizeof what,
             "%s cip %d mode %d: %zux%zux%zux%zu, kernel %zux%zu, stride "
             "%zux%zu, padding %zux%zu",
             clnn_pool_kind_name(kind), cip, (int)mode, g.N, g.C, g.H, g.W, g.kh, g.kw, g.sh, g.sw,
             g.ph, g.pw);

    /* Forward. */
    CLNN_ASSERT_OK(clnn_pool2d_forward(clnn_test_ctx, &desc, tx, ty, tidx));
    clnn_test_download(ty, got, n_out);
    if (kind == CLNN_POOL_MAX) {
        pool_ref_max_forward(xd, &g, y_ref, idx_ref);
        clnn_test_assert_close(what, got, y_ref, n_out, 0, 0);
        CLNN_ASSERT_OK(clnn_tensor_download_int32(tidx, idx, n_out));
        for (size_t i = 0; i < n_out; ++i)
            if (idx[i] != idx_ref[i])
                fail_msg("%s on %s: index [%zu] is %d, expected %d", what,
                         clnn_test_device.device_name, i, (int)idx[i], (int)idx_ref[i]);
    } else {
        pool_ref_avg_forward(xd, &g, y_ref);
        clnn_test_assert_close(what, got, y_ref, n_out, 0,
                               (double)(g.kh * g.kw + 6) * U * max_abs_f(x, n_in));
    }

    /* Backward: beta 0 over NaN (dx must not be read), then beta 1 over random values. */
    if (kind == CLNN_POOL_MAX)
        pool_ref_max_backward(dyd, idx_ref, &g, dx_ref);
    else
        pool_ref_avg_backward(dyd, &g, dx_ref);
    double c = (double)(covers(g.kh, g.sh) * covers(g.kw, g.sw));
    double dymax = max_abs_f(dy, n_out), dx0max = max_abs_f(dx0, n_in);
    clnn_test_poison(tdx);
    CLNN_ASSERT_OK(clnn_pool2d_backward(clnn_test_ctx, &desc, tdy, tidx, 0.0f, tdx));
    clnn_test_download(tdx, got, n_in);
    snprintf(what + strlen(what), sizeof what - strlen(what), " backward");
    clnn_test_assert_close(what, got, dx_ref, n_in, 0, (c + 8) * U * c * dymax);
    CLNN_ASSERT_OK(clnn_tensor_upload(tdx, dx0, n_in));
    CLNN_ASSERT_OK(clnn_pool2d_backward(clnn_test_ctx, &desc, tdy, tidx, 1.0f, tdx));
    clnn_test_download(tdx, got, n_in);
    for (size_t i = 0; i < n_in; ++i)
        dx_ref[i] += dx0[i];
    snprintf(what + strlen(what), sizeof what - strlen(what), " beta 1");
    clnn_test_assert_close(what, got, dx_ref, n_in, 0, (c + 8) * U * (c * dymax + dx0max));

    clnn_tensor *all[] = {tx, ty, tdy, tdx, tidx};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        clnn_tensor_destroy(all[i]);
    free(x), free(got), free(dy), free(dx0), free(y_ref), free(dx_ref), free(idx_ref), free(idx);
    free(xd), free(dyd);
}

/* Every kind, count_include_pad both ways for average, every data mode. */
static void run_all(const pool_case *pc)
{
    for (int mode = DATA_RANDOM; mode <= DATA_NAN; ++mode) {
        run_case(pc, CLNN_POOL_MAX, 1, (enum data_mode)mode);
        run_case(pc, CLNN_POOL_AVERAGE, 1, (enum data_mode)mode);
        if (pc->ph || pc->pw)
            run_case(pc, CLNN_POOL_AVERAGE, 0, (enum data_mode)mode);
    }
}

/* ---- the references' backward passes by central differences ---------------------------------- */

/* Max pooling is piecewise linear: inputs spaced 1e-2 apart (a shuffled ramp) keep every window's
 * maximum where it is under a step of 1e-6, so the differences are exact up to rounding. */
static void test_reference_gradients(void **state)
{
    (void)state;
    enum { N = 1, C = 2, H = 5, W = 6, n = N * C * H * W };
    const double h = 1e-6;
    double x[n], dx[n], xp[n];
    for (size_t i = 0; i < n; ++i)
        x[i] = 0.01 * (double)i - 0.3;
    for (size_t i = n - 1; i > 0; --i) { /* Fisher-Yates */
        size_t j = (size_t)clnn_test_uniform(0, (double)(i + 1));
        double t = x[i];
        x[i] = x[j];
        x[j] = t;
    }
    const size_t geoms[][6] = {{3, 3, 2, 2, 1, 1}, {2, 3, 1, 2, 1, 0}, {2, 2, 3, 3, 0, 1}};
    for (size_t k = 0; k < sizeof geoms / sizeof geoms[0]; ++k) {
        for (int variant = 0; variant < 3; ++variant) { /* max, avg cip 1, avg cip 0 */
            pool_ref_geom g;
            pool_ref_geom_init(&g, N, C, H, W, geoms[k][0], geoms[k][1], geoms[k][2], geoms[k][3],
                               geoms[k][4], geoms[k][5]);
            g.count_include_pad = variant != 2;
            size_t m = N * C * g.OH * g.OW;
            double *w = clnn_test_alloc(m * sizeof *w), *y = clnn_test_alloc(m * sizeof *y);
            int32_t *idx = clnn_test_alloc(m * sizeof *idx);
            for (size_t i = 0; i < m; ++i)
                w[i] = clnn_test_normal();
            if (variant == 0) {
                pool_ref_max_forward(x, &g, y, idx);
                pool_ref_max_backward(w, idx, &g, dx);
            } else {
                pool_ref_avg_backward(w, &g, dx);
            }
            for (size_t i = 0; i < n; ++i) {
                double obj[2];
                for (int side = 0; side < 2; ++side) {
                    memcpy(xp, x, sizeof xp);
                    xp[i] += side ? -h : h;
                    if (variant == 0)
                        pool_ref_max_forward(xp, &g, y, NULL);
                    else
                        pool_ref_avg_forward(xp, &g, y);
                    obj[side] = 0;
                    for (size_t o = 0; o < m; ++o)
                        obj[side] += w[o] * y[o];
                }
                double fd = (obj[0] - obj[1]) / (2 * h);
                if (fabs(fd - dx[i]) > 1e-7 * (1 + fabs(dx[i])))
                    fail_msg("geometry %zu variant %d: d/dx[%zu] is %.12g by differences, %.12g "
                             "by the reference backward",
                             k, variant, i, fd, dx[i]);
            }
            free(w), free(y), free(idx);
        }
    }
    /* Global average: linear, dx = dy / HW exactly. */
    double gx[12], gy[2], gw[2] = {0.7, -1.3}, gdx[12];
    for (size_t i = 0; i < 12; ++i)
        gx[i] = clnn_test_normal();
    pool_ref_gap_backward(gw, 2, 6, gdx);
    for (size_t i = 0; i < 12; ++i) {
        double obj[2];
        for (int side = 0; side < 2; ++side) {
            double save = gx[i];
            gx[i] += side ? -h : h;
            pool_ref_gap_forward(gx, 2, 6, gy);
            gx[i] = save;
            obj[side] = gw[0] * gy[0] + gw[1] * gy[1];
        }
        assert_true(fabs((obj[0] - obj[1]) / (2 * h) - gdx[i]) < 1e-8);
    }
}

/* ---- device cases ---------------------------------------------------------------------------- */

/* PyTorch's output sizes and the divisor of count_include_pad near the edges. */
static void test_geometry(void **state)
{
    (void)state;
    clnn_pool2d_desc d;
    CLNN_ASSERT_OK(clnn_pool2d_desc_init(&d, CLNN_POOL_MAX, 3, 2));
    assert_int_equal(d.stride[0], 3);
    assert_int_equal(d.stride[1], 2);
    assert_int_equal(d.padding[0] + d.padding[1], 0);
    assert_int_equal(d.count_include_pad, 1);
    size_t oh = 0, ow = 0;
    CLNN_ASSERT_OK(clnn_pool2d_output_size(&d, 7, 7, &oh, &ow)); /* floor mode */
    assert_int_equal(oh, 2);
    assert_int_equal(ow, 3);
    d.stride[0] = d.stride[1] = 2;
    d.kernel[1] = 3;
    d.padding[0] = d.padding[1] = 1;
    CLNN_ASSERT_OK(clnn_pool2d_output_size(&d, 7, 8, &oh, &ow)); /* (7+2-3)/2+1, (8+2-3)/2+1 */
    assert_int_equal(oh, 4);
    assert_int_equal(ow, 4);
    d.stride[0] = (size_t)1 << 40; /* one window; the kernels get a stride that fits */
    CLNN_ASSERT_OK(clnn_pool2d_output_size(&d, 7, 8, &oh, &ow));
    assert_int_equal(oh, 1);
    assert_string_equal(clnn_pool_kind_name(CLNN_POOL_MAX), "max");
    assert_string_equal(clnn_pool_kind_name(CLNN_POOL_AVERAGE), "average");
    assert_string_equal(clnn_pool_kind_name(CLNN_POOL_KIND_COUNT), "unknown");
    /* avg_pool2d(ones(1, 1, 3, 3), 3, 2, 1): 4/9 everywhere with count_include_pad, 1 without. */
    pool_ref_geom g;
    pool_ref_geom_init(&g, 1, 1, 3, 3, 3, 3, 2, 2, 1, 1);
    double ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, y[4];
    pool_ref_avg_forward(ones, &g, y);
    for (int i = 0; i < 4; ++i)
        assert_true(fabs(y[i] - 4.0 / 9.0) < 1e-15);
    g.count_include_pad = 0;
    pool_ref_avg_forward(ones, &g, y);
    for (int i = 0; i < 4; ++i)
        assert_true(y[i] == 1.0);
}

static void test_pool_2x2(void **state)
{
    (void)state;
    pool_case a = {CLNN_TEST_SHAPE(4, 2),
                   CLNN_TEST_SHAPE(16, 3),
                   CLNN_TEST_SHAPE(32, 8),
                   CLNN_TEST_SHAPE(32, 8),
                   2,
                   2,
                   2,
                   2,
                   0,
                   0};
    run_all(&a);
    pool_case odd = {1, 3, 9, 7, 2, 2, 2, 2, 0, 0}; /* batch 1; odd sizes drop a row and column */
    run_all(&odd);
    /* Rows of 6 and 11 outputs: the CPU kernel's last group of four overlaps the one before. */
    pool_case six = {2, 3, 12, 13, 2, 2, 2, 2, 0, 0};
    run_all(&six);
    pool_case eleven = {1, 2, 4, 22, 2, 2, 2, 2, 0, 0};
    run_all(&eleven);
}

static void test_pool_overlap(void **state)
{
    (void)state;
    /* 3x3 stride 2 padding 1 (ResNet's stem), odd and even images. */
    pool_case a = {CLNN_TEST_SHAPE(3, 2),
                   CLNN_TEST_SHAPE(8, 2),
                   CLNN_TEST_SHAPE(28, 7),
                   CLNN_TEST_SHAPE(27, 8),
                   3,
                   3,
                   2,
                   2,
                   1,
                   1};
    run_all(&a);
    pool_case dense = {2, 2, 6, 7, 3, 3, 1, 1, 1, 1}; /* stride 1: 9 windows per element */
    run_all(&dense);
    pool_case wide = {1, 2, 7, 9, 5, 5, 1, 2, 2, 2}; /* padding = kernel / 2 */
    run_all(&wide);
}

static void test_pool_non_square(void **state)
{
    (void)state;
    pool_case a = {2, CLNN_TEST_SHAPE(5, 2), 5, 11, 3, 2, 1, 2, 1, 0};
    run_all(&a);
    pool_case b = {CLNN_TEST_SHAPE(3, 1), 2, 13, 6, 2, 4, 2, 1, 0, 2};
    run_all(&b);
    pool_case row = {2, 3, 1, 17, 1, 3, 1, 2, 0, 1}; /* 1-row images, 1-D pooling */
    run_all(&row);
}

static void test_pool_stride_over_kernel(void **state)
{
    (void)state;
    pool_case a = {2, 3, 10, 13, 2, 2, 3, 4, 0, 0}; /* skipped rows and columns get 0 */
    run_all(&a);
    pool_case b = {1, 2, 9, 9, 3, 2, 5, 3, 1, 1};
    run_all(&b);
    pool_case one = {2, 2, 5, 4, 2, 2, 100, 100, 0, 0}; /* one window per plane */
    run_all(&one);
}

static void test_pool_tiny(void **state)
{
    (void)state;
    pool_case a = {2, 3, 1, 1, 3, 3, 1, 1, 1, 1}; /* 1x1 image inside a 3x3 window */
    run_all(&a);
    pool_case b = {1, 2, 1, 1, 2, 2, 1, 1, 1, 1}; /* 2x2 outputs of one element */
    run_all(&b);
    pool_case c = {3, 2, 2, 3, 1, 1, 1, 1, 0, 0}; /* 1x1 kernel: the identity */
    run_all(&c);
    pool_case d = {2, 2, 7, 5, 7, 5, 1, 1, 0, 0}; /* the whole plane */
    run_all(&d);
}

/* Ties routed to the first element in scan order, spelled out: a 1x1x2x4 input of equal values
 * with 2x2 windows, stride 2 and 1. */
static void test_pool_ties_explicit(void **state)
{
    (void)state;
    size_t in_dims[4] = {1, 1, 2, 4}, out2[4] = {1, 1, 1, 2}, out1[4] = {1, 1, 1, 3};
    const float x[8] = {1, 5, 5, 2, 5, 5, 2, 5};
    clnn_tensor *tx = clnn_test_tensor(4, in_dims, x), *ty = clnn_test_tensor(4, out1, NULL);
    clnn_tensor *tdx = clnn_test_tensor(4, in_dims, NULL);
    clnn_tensor *tidx = int32_tensor(out1);
    clnn_pool2d_desc d;
    CLNN_ASSERT_OK(clnn_pool2d_desc_init(&d, CLNN_POOL_MAX, 2, 2));
    d.stride[1] = 1; /* windows at columns 0, 1, 2 */
    poison_int32(tidx, 3);
    CLNN_ASSERT_OK(clnn_pool2d_forward(clnn_test_ctx, &d, tx, ty, tidx));
    int32_t idx[3];
    CLNN_ASSERT_OK(clnn_tensor_download_int32(tidx, idx, 3));
    assert_int_equal(idx[0], 1); /* 5 at (0, 1) before (1, 0) and (1, 1) */
    assert_int_equal(idx[1], 1);
    assert_int_equal(idx[2], 2); /* (0, 2) before (1, 3) */
    const float dy[3] = {1, 10, 100};
    clnn_tensor *tdy = clnn_test_tensor(4, out1, dy);
    CLNN_ASSERT_OK(clnn_pool2d_backward(clnn_test_ctx, &d, tdy, tidx, 0.0f, tdx));
    float dx[8];
    clnn_test_download(tdx, dx, 8);
    const float want[8] = {0, 11, 100, 0, 0, 0, 0, 0};
    for (int i = 0; i < 8; ++i)
        assert_true(dx[i] == want[i]);
    /* A NaN anywhere in a window is its maximum; the last NaN gives the index (PyTorch). */
    const float xn[8] = {NAN, 9, 1, 2, 3, NAN, 4, 5};
    CLNN_ASSERT_OK(clnn_tensor_upload(tx, xn, 8));
    CLNN_ASSERT_OK(clnn_pool2d_forward(clnn_test_ctx, &d, tx, ty, tidx));
    float y[3];
    clnn_test_download(ty, y, 3);
    CLNN_ASSERT_OK(clnn_tensor_download_int32(tidx, idx, 3));
    assert_true(isnan(y[0]) && isnan(y[1]) && y[2] == 5.0f);
    assert_int_equal(idx[0], 5);
    assert_int_equal(idx[1], 5);
    assert_int_equal(idx[2], 7);
    /* Without indices (no backward follows): the same maxima. */
    clnn_tensor_destroy(ty);
    ty = clnn_test_tensor(4, out2, NULL);
    d.stride[1] = 2;
    const float xa[8] = {-INFINITY, -INFINITY, 1, 2, -INFINITY, -INFINITY, 3, 2};
    CLNN_ASSERT_OK(clnn_tensor_upload(tx, xa, 8));
    CLNN_ASSERT_OK(clnn_pool2d_forward(clnn_test_ctx, &d, tx, ty, NULL));
    clnn_test_download(ty, y, 2);
    assert_true(y[0] == -INFINITY && y[1] == 3.0f);
    clnn_tensor *all[] = {tx, ty, tdx, tidx, tdy};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        clnn_tensor_destroy(all[i]);
}

/* The backward gather is deterministic: two runs agree bit for bit. */
static void test_pool_deterministic(void **state)
{
    (void)state;
    size_t in_dims[4] = {2, 3, 11, 9}, out_dims[4] = {2, 3, 6, 5}, n = 2 * 3 * 11 * 9;
    float *dy = clnn_test_alloc(2 * 3 * 6 * 5 * sizeof *dy);
    float *a = clnn_test_alloc(n * sizeof *a), *b = clnn_test_alloc(n * sizeof *b);
    clnn_test_fill_uniform(dy, 2 * 3 * 6 * 5, -1, 1);
    clnn_tensor *tdy = clnn_test_tensor(4, out_dims, dy), *tdx = clnn_test_tensor(4, in_dims, NULL);
    clnn_pool2d_desc d;
    CLNN_ASSERT_OK(clnn_pool2d_desc_init(&d, CLNN_POOL_AVERAGE, 3, 3));
    d.stride[0] = d.stride[1] = 2;
    d.padding[0] = d.padding[1] = 1;
    CLNN_ASSERT_OK(clnn_pool2d_backward(clnn_test_ctx, &d, tdy, NULL, 0.0f, tdx));
    clnn_test_download(tdx, a, n);
    clnn_test_poison(tdx);
    CLNN_ASSERT_OK(clnn_pool2d_backward(clnn_test_ctx, &d, tdy, NULL, 0.0f, tdx));
    clnn_test_download(tdx, b, n);
    assert_memory_equal(a, b, n * sizeof *a);
    clnn_tensor_destroy(tdy);
    clnn_tensor_destroy(tdx);
    free(dy), free(a), free(b);
}

/* Global average pooling over planes of H x W, y 2-D or 4-D.
 * Tolerances (float division may err by 2.5 ulp, 5 u relative, in OpenCL 1.2): on integer
 * inputs in [1, 4] every partial sum is exact (below 2^24), so the mean is one division: rtol 5 u
 * (a dropped element changes the mean by at least 1 / HW relative to a mean of at most 4, far
 * more for the planes here). On random floats any summation order errs by at most (HW - 1) u
 * sum|x|, so the mean by (HW + 4) u max|x|. Backward: dy / HW (5 u), then beta * dx + g (two
 * roundings): 8 u (|g| + |beta dx|). */
static void run_gap(size_t N, size_t C, size_t H, size_t W, int y4d)
{
    size_t planes = N * C, HW = H * W, n = planes * HW;
    size_t x_dims[4] = {N, C, H, W}, y_dims[4] = {N, C, 1, 1};
    float *x = clnn_test_alloc(n * sizeof *x), *got = clnn_test_alloc(n * sizeof *got);
    float *dy = clnn_test_alloc(planes * sizeof *dy), *dx0 = clnn_test_alloc(n * sizeof *dx0);
    double *ref = clnn_test_alloc(n * sizeof *ref);
    clnn_tensor *tx = clnn_test_tensor(4, x_dims, NULL),
                *ty = clnn_test_tensor(y4d ? 4 : 2, y_dims, NULL);
    clnn_tensor *tdx = clnn_test_tensor(4, x_dims, NULL);
    for (int integers = 0; integers < 2; ++integers) {
        for (size_t i = 0; i < n; ++i)
            x[i] =
                integers ? (float)floor(clnn_test_uniform(1, 5)) : (float)clnn_test_uniform(-1, 1);
        double *xd = to_double(x, n);
        CLNN_ASSERT_OK(clnn_tensor_upload(tx, x, n));
        clnn_test_poison(ty);
        CLNN_ASSERT_OK(clnn_global_avg_pool_forward(clnn_test_ctx, tx, ty));
        pool_ref_gap_forward(xd, planes, HW, ref);
        clnn_test_download(ty, got, planes);
        char what[96];
        snprintf(what, sizeof what, "global average %zux%zux%zux%zu%s", N, C, H, W,
                 integers ? " (integers)" : "");
        if (integers)
            clnn_test_assert_close(what, got, ref, planes, 5 * U, 0);
        else
            clnn_test_assert_close(what, got, ref, planes, 0,
                                   (double)(HW + 4) * U * max_abs_f(x, n));
        free(xd);
    }
    clnn_test_fill_uniform(dy, planes, -1, 1);
    clnn_test_fill_uniform(dx0, n, -1, 1);
    clnn_tensor *tdy = clnn_test_tensor(y4d ? 4 : 2, y_dims, dy);
    double *dyd = to_double(dy, planes);
    pool_ref_gap_backward(dyd, planes, HW, ref);
    clnn_test_poison(tdx);
    CLNN_ASSERT_OK(clnn_global_avg_pool_backward(clnn_test_ctx, tdy, 0.0f, tdx));
    clnn_test_download(tdx, got, n);
    clnn_test_assert_close("global average backward", got, ref, n, 5 * U, 0);
    CLNN_ASSERT_OK(clnn_tensor_upload(tdx, dx0, n));
    CLNN_ASSERT_OK(clnn_global_avg_pool_backward(clnn_test_ctx, tdy, 1.0f, tdx));
    clnn_test_download(tdx, got, n);
    for (size_t i = 0; i < n; ++i)
        ref[i] += dx0[i];
    clnn_test_assert_close("global average backward, beta 1", got, ref, n, 0,
                           8 * U * (max_abs_f(dy, planes) / (double)HW + max_abs_f(dx0, n)));
    clnn_tensor *all[] = {tx, ty, tdx, tdy};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        clnn_tensor_destroy(all[i]);
    free(x), free(got), free(dy), free(dx0), free(ref), free(dyd);
}

static void test_global_avg(void **state)
{
    (void)state;
    run_gap(3, 4, 1, 1, 1);                                          /* 1x1 planes: the copy */
    run_gap(2, 5, 7, 9, 0);                                          /* odd planes */
    run_gap(1, 3, 13, 1, 1);                                         /* a column */
    run_gap(CLNN_TEST_SHAPE(8, 2), CLNN_TEST_SHAPE(64, 8), 7, 7, 0); /* ResNet's head */
    /* One and two large planes: fewer planes than CPU cores take the work-group form there. */
    run_gap(1, 1, CLNN_TEST_SHAPE(300, 45), CLNN_TEST_SHAPE(301, 47), 1);
    run_gap(1, 2, CLNN_TEST_SHAPE(129, 33), 31, 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_reference_gradients),
    cmocka_unit_test(test_geometry),
    cmocka_unit_test(test_pool_2x2),
    cmocka_unit_test(test_pool_overlap),
    cmocka_unit_test(test_pool_non_square),
    cmocka_unit_test(test_pool_stride_over_kernel),
    cmocka_unit_test(test_pool_tiny),
    cmocka_unit_test(test_pool_ties_explicit),
    cmocka_unit_test(test_pool_deterministic),
    cmocka_unit_test(test_global_avg),
};

CLNN_TEST_MAIN("pool", tests)
