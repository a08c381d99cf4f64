/*
 * Softmax, log-softmax, MSE, BCE with logits and cross-entropy on every device against the
 * double-precision references in tests/ref/loss_ref.c: fresh random data (large logits too), odd
 * sizes (C = 1, 3, 65536), poisoned outputs, gradients (the references checked by central
 * finite differences), label smoothing, ignore_index, labels out of range, argument errors.
 */
#include "clnn_test.h"
#include "loss_ref.h"

#include <math.h>
#include <stdlib.h>

static double *to_double(const float *x, size_t n)
{
    double *d = clnn_test_alloc(n * sizeof *d);
    for (size_t i = 0; i < n; ++i)
        d[i] = x[i];
    return d;
}

/* Softmax / log-softmax: exp and log in float are good to a few ulp and the row sums to about
 * C * eps relative, so 1e-5 relative (2e-5 for C = 65536) plus a tiny absolute floor for outputs
 * near 0. log_softmax values are compared with atol 1e-5 * (1 + |max logit|) as they are
 * differences of the logits. */
static clnn_tensor *label_buffer(const int *labels, size_t n);

static void check_softmax(size_t N, size_t C, double range)
{
    size_t n = N * C, dims[2] = {N, C};
    float *x = clnn_test_alloc(n * sizeof *x), *dy = clnn_test_alloc(n * sizeof *dy),
          *out = clnn_test_alloc(n * sizeof *out);
    double *ref = clnn_test_alloc(n * sizeof *ref);
    clnn_test_fill_uniform(x, n, -range, range);
    clnn_test_fill_uniform(dy, n, -1, 1);
    double rtol = C > 1000 ? 2e-5 : 1e-5;
    for (int log_mode = 0; log_mode < 2; ++log_mode) {
        clnn_tensor *tx = clnn_test_tensor(2, dims, x), *ty = clnn_test_tensor(2, dims, NULL);
        clnn_tensor *tdy = clnn_test_tensor(2, dims, dy), *tdx = clnn_test_tensor(2, dims, NULL);
        CLNN_ASSERT_OK(log_mode ? clnn_log_softmax_forward(clnn_test_ctx, tx, ty)
                                : clnn_softmax_forward(clnn_test_ctx, tx, ty));
        loss_ref_softmax(x, N, C, log_mode, ref);
        clnn_test_download(ty, out, n);
        clnn_test_assert_close(log_mode ? "log_softmax" : "softmax", out, ref, n, rtol,
                               log_mode ? 1e-5 * (1 + range) : 1e-30);
        /* Backward from the device's y (the reference takes the same y). */
        CLNN_ASSERT_OK(log_mode ? clnn_log_softmax_backward(clnn_test_ctx, ty, tdy, tdy)
                                : clnn_softmax_backward(clnn_test_ctx, ty, tdy, tdy));
        loss_ref_softmax_backward(out, dy, N, C, log_mode, ref);
        clnn_test_download(tdy, out, n);
        double scale = 0;
        for (size_t i = 0; i < n; ++i)
            scale = fmax(scale, fabs(ref[i]));
        clnn_test_assert_close(log_mode ? "log_softmax backward" : "softmax backward", out, ref, n,
                               rtol, 1e-5 * scale + 1e-30);
        /* In place forward. */
        CLNN_ASSERT_OK(log_mode ? clnn_log_softmax_forward(clnn_test_ctx, tx, tx)
                                : clnn_softmax_forward(clnn_test_ctx, tx, tx));
        loss_ref_softmax(x, N, C, log_mode, ref);
        clnn_test_download(tx, out, n);
        clnn_test_assert_close("softmax in place", out, ref, n, rtol,
                               log_mode ? 1e-5 * (1 + range) : 1e-30);
        clnn_tensor_destroy(tx), clnn_tensor_destroy(ty), clnn_tensor_destroy(tdy),
            clnn_tensor_destroy(tdx);
    }
    free(x), free(dy), free(out), free(ref);
}

static void test_softmax(void **state)
{
    (void)state;
    check_softmax(5, 1, 3);
    check_softmax(7, 3, 3);
    check_softmax(CLNN_TEST_SHAPE(64, 9), 1000, 10);
    check_softmax(3, CLNN_TEST_SHAPE(65536, 4099), 5);
    check_softmax(16, 33, 80); /* logits whose exp overflows float without the max shift */
}

/* Rows of large logits (near +-1000, where ulp is 6.1e-5): log_softmax is (x - max) - log(sum),
 * whose x - max is exact, so y keeps the usual per-element tolerance (1e-5 relative, 1e-6
 * absolute: y is about -log C +- 10 here) and so do dx and the cross-entropy built on the same
 * sums. Computed as x - (max + log(sum)), y was off by ~4e-5. */
static void test_large_logits(void **state)
{
    (void)state;
    const size_t N = 6, C = 37, n = N * C, dims[2] = {N, C};
    float *x = clnn_test_alloc(n * sizeof *x), *dy = clnn_test_alloc(n * sizeof *dy),
          *out = clnn_test_alloc(n * sizeof *out);
    double *ref = clnn_test_alloc(n * sizeof *ref);
    int labels[6];
    for (size_t r = 0; r < N; ++r) {
        double offset = r % 2 ? -1000.0 : 1000.0 + 3.0 * (double)r;
        for (size_t j = 0; j < C; ++j)
            x[r * C + j] = (float)(offset + clnn_test_uniform(-5, 5));
        labels[r] = (int)(clnn_test_random_u64() % C);
    }
    clnn_test_fill_uniform(dy, n, -1, 1);
    clnn_tensor *tx = clnn_test_tensor(2, dims, x), *ty = clnn_test_tensor(2, dims, NULL);
    clnn_tensor *tdy = clnn_test_tensor(2, dims, dy);
    CLNN_ASSERT_OK(clnn_log_softmax_forward(clnn_test_ctx, tx, ty));
    loss_ref_softmax(x, N, C, 1, ref);
    clnn_test_download(ty, out, n);
    clnn_test_assert_close("log_softmax of logits near 1000", out, ref, n, 1e-5, 1e-6);
    CLNN_ASSERT_OK(clnn_log_softmax_backward(clnn_test_ctx, ty, tdy, tdy));
    loss_ref_softmax_backward(out, dy, N, C, 1, ref);
    clnn_test_download(tdy, out, n);
    clnn_test_assert_close("log_softmax backward near 1000", out, ref, n, 1e-5, 1e-6);

    double *xd = to_double(x, n);
    double ref_loss = loss_ref_cross_entropy(xd, labels, N, C, 1, 0.1, -100, ref);
    clnn_tensor *tl = clnn_test_tensor_1d(1, NULL), *td = clnn_test_tensor(2, dims, NULL);
    clnn_tensor *lb = label_buffer(labels, N);
    clnn_cross_entropy_options opt;
    CLNN_ASSERT_OK(clnn_cross_entropy_options_init(&opt));
    opt.label_smoothing = 0.1f;
    CLNN_ASSERT_OK(clnn_cross_entropy(clnn_test_ctx, tx, lb, &opt, tl, td));
    float loss;
    clnn_test_download(tl, &loss, 1);
    clnn_test_assert_close("cross_entropy loss near 1000", &loss, &ref_loss, 1, 1e-5, 1e-6);
    clnn_test_download(td, out, n);
    clnn_test_assert_close("cross_entropy grad near 1000", out, ref, n, 1e-5, 1e-6 / (double)N);
    clnn_tensor_destroy(lb);
    clnn_tensor_destroy(tx), clnn_tensor_destroy(ty), clnn_tensor_destroy(tdy);
    clnn_tensor_destroy(tl), clnn_tensor_destroy(td);
    free(x), free(dy), free(out), free(ref), free(xd);
}

static clnn_tensor *label_buffer(const int *labels, size_t n)
{
    clnn_tensor *t = NULL;
    CLNN_ASSERT_OK(clnn_tensor_create_int32(clnn_test_ctx, 1, &n, &t));
    CLNN_ASSERT_OK(clnn_tensor_upload_int32(t, (const int32_t *)labels, n));
    return t;
}

/* Cross-entropy: the loss is a sum of row terms computed with a float log-sum-exp (a few ulp of
 * lse each), so 1e-5 relative; the gradient (softmax - q) / count to 1e-5 of 1/count. */
static void check_ce(size_t N, size_t C, int mean, double smoothing, int with_ignore)
{
    size_t n = N * C, dims[2] = {N, C};
    float *z = clnn_test_alloc(n * sizeof *z), *out = clnn_test_alloc(n * sizeof *out);
    int *labels = clnn_test_alloc(N * sizeof *labels);
    clnn_test_fill_uniform(z, n, -8, 8);
    for (size_t r = 0; r < N; ++r)
        labels[r] = with_ignore && r % 3 == 1 ? -100 : (int)(clnn_test_random_u64() % C);
    double *zd = to_double(z, n), *ref = clnn_test_alloc(n * sizeof *ref);
    double ref_loss = loss_ref_cross_entropy(zd, labels, N, C, mean, smoothing, -100, ref);
    clnn_tensor *tz = clnn_test_tensor(2, dims, z), *td = clnn_test_tensor(2, dims, NULL);
    clnn_tensor *tl = clnn_test_tensor_1d(1, NULL);
    clnn_tensor *lb = label_buffer(labels, N);
    clnn_cross_entropy_options opt;
    CLNN_ASSERT_OK(clnn_cross_entropy_options_init(&opt));
    opt.reduction = mean ? CLNN_REDUCTION_MEAN : CLNN_REDUCTION_SUM;
    opt.label_smoothing = (float)smoothing;
    CLNN_ASSERT_OK(clnn_cross_entropy(clnn_test_ctx, tz, lb, &opt, tl, td));
    float loss;
    clnn_test_download(tl, &loss, 1);
    clnn_test_assert_close("cross_entropy loss", &loss, &ref_loss, 1, 1e-5, 0);
    clnn_test_download(td, out, n);
    size_t count = 0;
    for (size_t r = 0; r < N; ++r)
        count += labels[r] != -100;
    clnn_test_assert_close("cross_entropy grad", out, ref, n, 1e-5,
                           1e-6 / (mean ? (double)count : 1.0));
    /* Host variant, no gradient. */
    float host = NAN;
    CLNN_ASSERT_OK(clnn_cross_entropy_host(clnn_test_ctx, tz, lb, &opt, &host, NULL));
    clnn_test_assert_close("cross_entropy_host loss", &host, &ref_loss, 1, 1e-5, 0);
    clnn_tensor_destroy(lb);
    clnn_tensor_destroy(tz), clnn_tensor_destroy(td), clnn_tensor_destroy(tl);
    free(z), free(out), free(labels), free(zd), free(ref);
}

static void test_cross_entropy(void **state)
{
    (void)state;
    check_ce(1, 1, 1, 0, 0);
    check_ce(7, 3, 1, 0, 0);
    check_ce(7, 3, 0, 0.1, 1);
    check_ce(CLNN_TEST_SHAPE(300, 21), 1000, 1, 0.2, 1);
    check_ce(300, 10, 0, 0, 1);
    check_ce(2, CLNN_TEST_SHAPE(65536, 4099), 1, 0.05, 0);
}

static void test_cross_entropy_labels(void **state)
{
    (void)state;
    size_t dims[2] = {4, 5};
    float z[20];
    clnn_test_fill_uniform(z, 20, -1, 1);
    int bad[4] = {0, 4, 5, -100}, neg[4] = {0, -1, 2, 3}, ignored[4] = {-100, -100, -100, -100};
    clnn_tensor *tz = clnn_test_tensor(2, dims, z), *td = clnn_test_tensor(2, dims, NULL);
    clnn_tensor *tl = clnn_test_tensor_1d(1, NULL);
    clnn_tensor *lb = label_buffer(bad, 4), *ln = label_buffer(neg, 4), *li = label_buffer(ignored, 4);
    float loss = 7.0f, out[20];
    CLNN_ASSERT_STATUS(clnn_cross_entropy_host(clnn_test_ctx, tz, lb, NULL, &loss, td),
                       CLNN_ERR_OUT_OF_RANGE);
    assert_true(loss == 7.0f);
    clnn_test_download(td, out, 20);
    for (int i = 0; i < 20; ++i)
        assert_true(isnan(out[i])); /* still poisoned: nothing written */
    CLNN_ASSERT_STATUS(clnn_cross_entropy_check_labels(clnn_test_ctx, ln, 5, -100),
                       CLNN_ERR_OUT_OF_RANGE);
    CLNN_ASSERT_OK(clnn_cross_entropy_check_labels(clnn_test_ctx, li, 5, -100));
    /* The device variant cannot return the error without waiting: the loss becomes NaN. */
    CLNN_ASSERT_OK(clnn_cross_entropy(clnn_test_ctx, tz, lb, NULL, tl, td));
    clnn_test_download(tl, &loss, 1);
    assert_true(isnan(loss));
    clnn_test_download(td, out, 20);
    assert_true(isnan(out[10]) && !isnan(out[0]) && out[15] == 0.0f);
    /* Every row ignored: mean is 0/0 = NaN, as PyTorch; the gradient is 0. */
    CLNN_ASSERT_OK(clnn_cross_entropy(clnn_test_ctx, tz, li, NULL, tl, td));
    clnn_test_download(tl, &loss, 1);
    assert_true(isnan(loss));
    clnn_tensor_destroy(lb), clnn_tensor_destroy(ln), clnn_tensor_destroy(li);
    clnn_tensor_destroy(tz), clnn_tensor_destroy(td), clnn_tensor_destroy(tl);
}

/* MSE and BCE: per-element values to 1e-6 relative (BCE: exp/log1p in float, a few ulp, with an
 * absolute floor of 1e-6 for values near 0); reduced values to 1e-5 (float sums of up to 1e6
 * terms in a tree). Gradients to 1e-6 relative plus 1e-7 of the scale. */
static void check_pointwise(size_t n, int kind, double range)
{
    float *x = clnn_test_alloc(n * sizeof *x), *t = clnn_test_alloc(n * sizeof *t),
          *out = clnn_test_alloc(n * sizeof *out);
    clnn_test_fill_uniform(x, n, -range, range);
    clnn_test_fill_uniform(t, n, kind ? 0 : -range, 1);
    double *xd = to_double(x, n), *l = clnn_test_alloc(n * sizeof *l),
           *d = clnn_test_alloc(n * sizeof *d);
    double sum = loss_ref_pointwise(xd, t, n, kind, l, d);
    clnn_tensor *tx = clnn_test_tensor_1d(n, x), *tt = clnn_test_tensor_1d(n, t);
    clnn_tensor *tl = clnn_test_tensor_1d(n, NULL), *tdx = clnn_test_tensor_1d(n, NULL);
    clnn_tensor *ts = clnn_test_tensor_1d(1, NULL);
    const char *name = kind ? "bce" : "mse";
    for (int red = 0; red < CLNN_REDUCTION_COUNT; ++red) {
        clnn_test_poison(tdx);
        clnn_tensor *dest = red == CLNN_REDUCTION_NONE ? tl : ts;
        clnn_test_poison(dest);
        CLNN_ASSERT_OK(kind ? clnn_bce_with_logits_loss(clnn_test_ctx, tx, tt, red, dest, tdx)
                            : clnn_mse_loss(clnn_test_ctx, tx, tt, red, dest, tdx));
        double scale = red == CLNN_REDUCTION_MEAN ? 1.0 / (double)n : 1.0;
        if (red == CLNN_REDUCTION_NONE) {
            clnn_test_download(tl, out, n);
            clnn_test_assert_close(name, out, l, n, 2e-6, 1e-6);
        } else {
            float v;
            double want = sum * scale;
            clnn_test_download(ts, &v, 1);
            clnn_test_assert_close(name, &v, &want, 1, 1e-5, 0);
        }
        for (size_t i = 0; i < n; ++i)
            d[i] = d[i] * scale;
        clnn_test_download(tdx, out, n);
        clnn_test_assert_close(kind ? "bce grad" : "mse grad", out, d, n, 2e-6,
                               1e-7 * scale * (kind ? 1 : range));
        for (size_t i = 0; i < n; ++i)
            d[i] = d[i] / scale;
    }
    clnn_tensor_destroy(tx), clnn_tensor_destroy(tt), clnn_tensor_destroy(tl);
    clnn_tensor_destroy(tdx), clnn_tensor_destroy(ts);
    free(x), free(t), free(out), free(xd), free(l), free(d);
}

static void test_pointwise(void **state)
{
    (void)state;
    check_pointwise(1, 0, 2);
    check_pointwise(7, 1, 3);
    check_pointwise(CLNN_TEST_SHAPE(1000003, 10007), 0, 10);
    check_pointwise(CLNN_TEST_SHAPE(1000003, 10007), 1, 10);
    check_pointwise(1001, 1, 200); /* |logit| up to 200: exp(200) overflows float */
}

/* The references' gradients against central differences (double: O(h^2) + O(1e-16/h) error). */
static void test_reference_gradients(void **state)
{
    (void)state;
    const size_t N = 3, C = 4, n = N * C;
    double z[12], d[12];
    int labels[3] = {1, -100, 3};
    for (size_t i = 0; i < n; ++i)
        z[i] = clnn_test_uniform(-3, 3);
    loss_ref_cross_entropy(z, labels, N, C, 1, 0.1, -100, d);
    const double h = 1e-5;
    for (size_t i = 0; i < n; ++i) {
        double s = z[i];
        z[i] = s + h;
        double up = loss_ref_cross_entropy(z, labels, N, C, 1, 0.1, -100, NULL);
        z[i] = s - h;
        double down = loss_ref_cross_entropy(z, labels, N, C, 1, 0.1, -100, NULL);
        z[i] = s;
        assert_true(fabs((up - down) / (2 * h) - d[i]) < 1e-7);
    }
    float t[12];
    clnn_test_fill_uniform(t, n, 0, 1);
    for (int kind = 0; kind < 2; ++kind) {
        loss_ref_pointwise(z, t, n, kind, NULL, d);
        for (size_t i = 0; i < n; ++i) {
            double s = z[i];
            z[i] = s + h;
            double up = loss_ref_pointwise(z, t, n, kind, NULL, NULL);
            z[i] = s - h;
            double down = loss_ref_pointwise(z, t, n, kind, NULL, NULL);
            z[i] = s;
            assert_true(fabs((up - down) / (2 * h) - d[i]) < 1e-7);
        }
    }
    /* softmax backward: y = softmax(x), objective sum(w * y). */
    float xf[12], wf[12], yf[12];
    double y[12], dx[12], xs[12];
    clnn_test_fill_uniform(xf, n, -2, 2);
    clnn_test_fill_uniform(wf, n, -1, 1);
    for (int log_mode = 0; log_mode < 2; ++log_mode) {
        loss_ref_softmax(xf, N, C, log_mode, y);
        for (size_t i = 0; i < n; ++i)
            yf[i] = (float)y[i];
        loss_ref_softmax_backward(yf, wf, N, C, log_mode, dx);
        for (size_t i = 0; i < n; ++i) {
            float s = xf[i];
            double obj[2];
            for (int k = 0; k < 2; ++k) {
                /* float inputs: use a larger step; tolerance follows (float y rounding). */
                xf[i] = s + (k ? -1e-2f : 1e-2f);
                loss_ref_softmax(xf, N, C, log_mode, xs);
                obj[k] = 0;
                for (size_t j = 0; j < n; ++j)
                    obj[k] += wf[j] * xs[j];
            }
            double step = ((double)(s + 1e-2f) - (double)(s - 1e-2f));
            xf[i] = s;
            assert_true(fabs((obj[0] - obj[1]) / step - dx[i]) < 1e-3);
        }
    }
}

static void test_errors(void **state)
{
    (void)state;
    size_t d2[2] = {4, 3}, d3[3] = {2, 2, 3};
    clnn_tensor *x = clnn_test_tensor(2, d2, NULL), *y = clnn_test_tensor(2, d2, NULL);
    clnn_tensor *x3 = clnn_test_tensor(3, d3, NULL), *one = clnn_test_tensor_1d(1, NULL);
    clnn_tensor *two = clnn_test_tensor_1d(2, NULL);
    CLNN_ASSERT_STATUS(clnn_softmax_forward(NULL, x, y), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_softmax_forward(clnn_test_ctx, x3, x3), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_softmax_backward(clnn_test_ctx, x, y, x), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_mse_loss(clnn_test_ctx, x, y, CLNN_REDUCTION_MEAN, two, NULL),
                       CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_mse_loss(clnn_test_ctx, x, y, CLNN_REDUCTION_NONE, one, NULL),
                       CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_mse_loss(clnn_test_ctx, x, y, (clnn_reduction)7, one, NULL),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_bce_with_logits_loss(clnn_test_ctx, x, x3, CLNN_REDUCTION_SUM, one,
                                                 NULL),
                       CLNN_ERR_INVALID_SHAPE);
    int labels[4] = {0, 1, 2, 0};
    clnn_tensor *lb = label_buffer(labels, 4), *small = label_buffer(labels, 2);
    clnn_cross_entropy_options opt;
    CLNN_ASSERT_OK(clnn_cross_entropy_options_init(&opt));
    opt.reduction = CLNN_REDUCTION_NONE;
    CLNN_ASSERT_STATUS(clnn_cross_entropy(clnn_test_ctx, x, lb, &opt, one, y),
                       CLNN_ERR_INVALID_ARGUMENT);
    opt.reduction = CLNN_REDUCTION_MEAN;
    opt.label_smoothing = 1.5f;
    CLNN_ASSERT_STATUS(clnn_cross_entropy(clnn_test_ctx, x, lb, &opt, one, y),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_cross_entropy(clnn_test_ctx, x, small, NULL, one, y),
                       CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_cross_entropy(clnn_test_ctx, x, NULL, NULL, one, y),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_cross_entropy(clnn_test_ctx, x, lb, NULL, two, y),
                       CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_cross_entropy(clnn_test_ctx, x, lb, NULL, one, x),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_cross_entropy_host(clnn_test_ctx, x, lb, NULL, NULL, y),
                       CLNN_ERR_INVALID_ARGUMENT);
    float out[12];
    clnn_test_download(y, out, 12);
    for (int i = 0; i < 12; ++i)
        assert_true(isnan(out[i]));
    clnn_tensor_destroy(lb), clnn_tensor_destroy(small);
    clnn_tensor_destroy(x), clnn_tensor_destroy(y), clnn_tensor_destroy(x3);
    clnn_tensor_destroy(one), clnn_tensor_destroy(two);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_reference_gradients), cmocka_unit_test(test_softmax),
    cmocka_unit_test(test_large_logits),
    cmocka_unit_test(test_cross_entropy),       cmocka_unit_test(test_cross_entropy_labels),
    cmocka_unit_test(test_pointwise),           cmocka_unit_test(test_errors),
};

CLNN_TEST_MAIN("loss", tests)
