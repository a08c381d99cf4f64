/*
 * Tests of inverted dropout on every device: the mask equals the host's (clnn_dropout_mask_host)
 * and the test's own Philox, the kept fraction is 1 - p within 6 standard errors, kept elements
 * are exactly x / (1 - p) (one float multiply, as PyTorch), p = 0 and p = 1 are exact, inference
 * is the identity, backward reuses the forward mask (no storage), beta accumulation, in-place use
 * and the error paths.
 */
#include "clnn_test.h"
#include "init_ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Not a multiple of 4 or 16: exercises the tails. */
static size_t big_size(void)
{
    return CLNN_TEST_SHAPE(1000003, 4099);
}

static float *random_data(size_t n, double lo, double hi)
{
    float *x = clnn_test_alloc(n * sizeof *x);
    clnn_test_fill_uniform(x, n, lo, hi);
    return x;
}

static float scale_of(float p)
{
    return p < 1.0f ? (float)(1.0 / (1.0 - (double)p)) : 0.0f;
}

/* The keep decision of element i from the test's own Philox (domain 1, the step in counter words
 * 2-3): kept when the top 24 bits >= round(p * 2^24). */
static unsigned char *ref_mask(size_t n, float p, uint64_t seed, uint64_t step)
{
    unsigned char *keep = clnn_test_alloc(n);
    uint32_t threshold = (uint32_t)llround((double)p * 16777216.0);
    for (uint32_t b = 0; b < (n + 3) / 4; ++b) {
        uint32_t w[4];
        init_ref_stream(seed, 1, step, b, w);
        for (uint32_t j = 0; j < 4 && 4 * b + j < n; ++j)
            keep[4 * b + j] = (w[j] >> 8) >= threshold;
    }
    return keep;
}

static void test_forward_mask_scale_and_fraction(void **state)
{
    const size_t big = big_size();
    (void)state;
    static const float ps[] = {0.1f, 0.3f, 0.5f, 0.9f};
    float *x = random_data(big, -4, 4);
    float *y = clnn_test_alloc(big * sizeof *y);
    unsigned char *host = clnn_test_alloc(big);
    clnn_tensor *tx = clnn_test_tensor_1d(big, x);
    for (size_t k = 0; k < sizeof ps / sizeof ps[0]; ++k) {
        float p = ps[k];
        uint64_t seed = clnn_test_random_u64(), step = clnn_test_random_u64();
        clnn_tensor *ty = clnn_test_tensor_1d(big, NULL); /* poisoned */
        CLNN_ASSERT_OK(clnn_dropout_forward(tx, ty, p, 1, seed, step));
        clnn_test_download(ty, y, big);
        unsigned char *ref = ref_mask(big, p, seed, step);
        CLNN_ASSERT_OK(clnn_dropout_mask_host(big, p, seed, step, host));
        assert_memory_equal(host, ref, big);
        const float scale = scale_of(p);
        size_t kept = 0;
        for (size_t i = 0; i < big; ++i) {
            float want = ref[i] ? x[i] * scale : 0.0f; /* bit-exact: one rounding, both sides */
            if (memcmp(&y[i], &want, sizeof want) != 0)
                fail_msg("p = %g: y[%zu] = %.9g, expected %.9g (mask %d)", (double)p, i,
                         (double)y[i], (double)want, ref[i]);
            kept += ref[i];
        }
        /* Binomial(n, 1 - p): 6 standard errors sqrt(p (1 - p) / n) */
        double frac = (double)kept / (double)big, se = sqrt(p * (1.0 - p) / (double)big);
        if (fabs(frac - (1.0 - p)) > 6 * se)
            fail_msg("p = %g: kept fraction %.6f, expected %.6f +- %.2g", (double)p, frac,
                     1.0 - p, 6 * se);
        free(ref);
        clnn_tensor_destroy(ty);
    }
    free(x);
    free(y);
    free(host);
    clnn_tensor_destroy(tx);
}

static void test_steps_and_seeds_change_the_mask(void **state)
{
    (void)state;
    const size_t n = 4096;
    unsigned char *a = clnn_test_alloc(n), *b = clnn_test_alloc(n), *c = clnn_test_alloc(n);
    uint64_t seed = clnn_test_random_u64();
    CLNN_ASSERT_OK(clnn_dropout_mask_host(n, 0.5f, seed, 7, a));
    CLNN_ASSERT_OK(clnn_dropout_mask_host(n, 0.5f, seed, 8, b));
    CLNN_ASSERT_OK(clnn_dropout_mask_host(n, 0.5f, seed + 1, 7, c));
    size_t same_ab = 0, same_ac = 0;
    for (size_t i = 0; i < n; ++i)
        same_ab += a[i] == b[i], same_ac += a[i] == c[i];
    /* independent masks agree on half the elements: 2048 +- 6 * 32 */
    assert_true(same_ab > 1856 && same_ab < 2240);
    assert_true(same_ac > 1856 && same_ac < 2240);
    /* the step's high word matters too */
    CLNN_ASSERT_OK(clnn_dropout_mask_host(n, 0.5f, seed, 7 + (1ull << 32), b));
    assert_memory_not_equal(a, b, n);
    free(a);
    free(b);
    free(c);
}

static void test_exact_p0_p1_and_inference(void **state)
{
    (void)state;
    const size_t n = 1001;
    float *x = random_data(n, -10, 10), *y = clnn_test_alloc(n * sizeof *y);
    x[3] = NAN, x[5] = INFINITY;
    clnn_tensor *tx = clnn_test_tensor_1d(n, x), *ty = clnn_test_tensor_1d(n, NULL);
    /* p = 0: y = x bit for bit (NaN and Inf pass through, as with no dropout at all) */
    CLNN_ASSERT_OK(clnn_dropout_forward(tx, ty, 0.0f, 1, 5, 6));
    clnn_test_download(ty, y, n);
    assert_memory_equal(x, y, n * sizeof *x);
    /* inference: identity for any p */
    clnn_test_poison(ty);
    CLNN_ASSERT_OK(clnn_dropout_forward(tx, ty, 0.7f, 0, 5, 6));
    clnn_test_download(ty, y, n);
    assert_memory_equal(x, y, n * sizeof *x);
    /* p = 1: everything dropped, exactly +0, no division by zero and no NaN from x = NaN/Inf */
    clnn_test_poison(ty);
    CLNN_ASSERT_OK(clnn_dropout_forward(tx, ty, 1.0f, 1, 5, 6));
    clnn_test_download(ty, y, n);
    for (size_t i = 0; i < n; ++i)
        assert_true(y[i] == 0.0f && !signbit(y[i]));
    /* backward at p = 1: zero gradient; at p = 0 and inference: dy */
    clnn_tensor *dx = clnn_test_tensor_1d(n, NULL);
    CLNN_ASSERT_OK(clnn_dropout_backward(tx, dx, 1.0f, 1, 5, 6, 0.0f));
    clnn_test_download(dx, y, n);
    for (size_t i = 0; i < n; ++i)
        assert_true(y[i] == 0.0f);
    clnn_test_poison(dx);
    CLNN_ASSERT_OK(clnn_dropout_backward(tx, dx, 0.0f, 1, 5, 6, 0.0f));
    clnn_test_download(dx, y, n);
    assert_memory_equal(x, y, n * sizeof *x);
    clnn_test_poison(dx);
    CLNN_ASSERT_OK(clnn_dropout_backward(tx, dx, 0.4f, 0, 5, 6, 0.0f));
    clnn_test_download(dx, y, n);
    assert_memory_equal(x, y, n * sizeof *x);
    free(x);
    free(y);
    clnn_tensor_destroy(tx);
    clnn_tensor_destroy(ty);
    clnn_tensor_destroy(dx);
}

/* Backward recomputes the forward mask: dx = dy * scale where y was kept, 0 elsewhere, and with
 * beta, beta * dx_old + that (two roundings, as the kernel: no fused multiply-add). */
static void test_backward_matches_forward_mask(void **state)
{
    (void)state;
    const size_t n = big_size();
    const float p = 0.35f, scale = scale_of(p);
    uint64_t seed = clnn_test_random_u64(), step = 12345;
    float *x = random_data(n, 0.5, 2); /* nonzero, so y != 0 exactly where kept */
    float *dy = random_data(n, -3, 3), *dx0 = random_data(n, -1, 1);
    float *y = clnn_test_alloc(n * sizeof *y), *dx = clnn_test_alloc(n * sizeof *dx);
    clnn_tensor *tx = clnn_test_tensor_1d(n, x), *ty = clnn_test_tensor_1d(n, NULL);
    clnn_tensor *tdy = clnn_test_tensor_1d(n, dy), *tdx = clnn_test_tensor_1d(n, NULL);
    CLNN_ASSERT_OK(clnn_dropout_forward(tx, ty, p, 1, seed, step));
    CLNN_ASSERT_OK(clnn_dropout_backward(tdy, tdx, p, 1, seed, step, 0.0f)); /* dx poisoned */
    clnn_test_download(ty, y, n);
    clnn_test_download(tdx, dx, n);
    for (size_t i = 0; i < n; ++i) {
        float want = y[i] != 0.0f ? dy[i] * scale : 0.0f;
        if (memcmp(&dx[i], &want, sizeof want) != 0)
            fail_msg("dx[%zu] = %.9g, expected %.9g", i, (double)dx[i], (double)want);
    }
    /* accumulate: dx = 0.5 * dx0 + grad */
    CLNN_ASSERT_OK(clnn_tensor_upload(tdx, dx0, n));
    CLNN_ASSERT_OK(clnn_dropout_backward(tdy, tdx, p, 1, seed, step, 0.5f));
    clnn_test_download(tdx, dx, n);
    for (size_t i = 0; i < n; ++i) {
        float g = y[i] != 0.0f ? dy[i] * scale : 0.0f;
        float b = 0.5f * dx0[i];
        float want = b + g;
        if (memcmp(&dx[i], &want, sizeof want) != 0)
            fail_msg("accumulated dx[%zu] = %.9g, expected %.9g", i, (double)dx[i],
                     (double)want);
    }
    /* inference backward with beta = 1 */
    CLNN_ASSERT_OK(clnn_tensor_upload(tdx, dx0, n));
    CLNN_ASSERT_OK(clnn_dropout_backward(tdy, tdx, p, 0, seed, step, 1.0f));
    clnn_test_download(tdx, dx, n);
    for (size_t i = 0; i < n; ++i)
        assert_true(dx[i] == dx0[i] + dy[i]);
    /* in place: y = dropout(y) and dx = backward(dx) on the same tensors */
    CLNN_ASSERT_OK(clnn_tensor_upload(ty, x, n));
    CLNN_ASSERT_OK(clnn_dropout_forward(ty, ty, p, 1, seed, step));
    float *y2 = clnn_test_alloc(n * sizeof *y2);
    clnn_test_download(ty, y2, n);
    assert_memory_equal(y, y2, n * sizeof *y);
    CLNN_ASSERT_OK(clnn_tensor_upload(tdx, dy, n));
    CLNN_ASSERT_OK(clnn_dropout_backward(tdx, tdx, p, 1, seed, step, 0.0f));
    clnn_test_download(tdx, dx, n);
    for (size_t i = 0; i < n; ++i)
        assert_true(dx[i] == (y[i] != 0.0f ? dy[i] * scale : 0.0f));
    free(x), free(dy), free(dx0), free(y), free(dx), free(y2);
    clnn_tensor_destroy(tx);
    clnn_tensor_destroy(ty);
    clnn_tensor_destroy(tdy);
    clnn_tensor_destroy(tdx);
}

static void test_errors(void **state)
{
    (void)state;
    const size_t n = 10, m = 11;
    clnn_tensor *x = clnn_test_tensor_1d(n, NULL), *y = clnn_test_tensor_1d(n, NULL),
                *z = clnn_test_tensor_1d(m, NULL);
    CLNN_ASSERT_STATUS(clnn_dropout_forward(NULL, y, 0.5f, 1, 0, 0), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dropout_forward(x, NULL, 0.5f, 1, 0, 0), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dropout_forward(x, z, 0.5f, 1, 0, 0), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_dropout_forward(x, y, -0.1f, 1, 0, 0), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dropout_forward(x, y, 1.5f, 1, 0, 0), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dropout_forward(x, y, NAN, 0, 0, 0), CLNN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(clnn_context_last_error(clnn_test_ctx), "p is"));
    CLNN_ASSERT_STATUS(clnn_dropout_backward(x, z, 0.5f, 1, 0, 0, 0), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_dropout_backward(x, y, 0.5f, 1, 0, 0, NAN),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dropout_backward(NULL, y, 0.5f, 1, 0, 0, 0),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dropout_backward(x, y, 2.0f, 1, 0, 0, 0), CLNN_ERR_INVALID_ARGUMENT);
    unsigned char keep[4];
    CLNN_ASSERT_STATUS(clnn_dropout_mask_host(4, 0.5f, 0, 0, NULL), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dropout_mask_host(0, 0.5f, 0, 0, keep), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dropout_mask_host(4, -1.0f, 0, 0, keep), CLNN_ERR_INVALID_ARGUMENT);
    /* nothing written */
    float out[10];
    clnn_test_download(y, out, n);
    for (size_t i = 0; i < n; ++i)
        assert_true(isnan(out[i]));
    clnn_tensor_destroy(x);
    clnn_tensor_destroy(y);
    clnn_tensor_destroy(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_mask_scale_and_fraction),
        cmocka_unit_test(test_steps_and_seeds_change_the_mask),
        cmocka_unit_test(test_exact_p0_p1_and_inference),
        cmocka_unit_test(test_backward_matches_forward_mask),
        cmocka_unit_test(test_errors),
    };
    return clnn_test_main("dropout", tests, sizeof tests / sizeof tests[0]);
}
