/*
 * Tests of gradient clipping: global L2 and infinity norms against the double-precision reference
 * on odd sizes and lists of mixed sizes, values far outside float's square range, clipping and
 * its skipped cases (norm below max_norm, non-finite norm), clipping by value, argument errors.
 */
#include "clnn_test.h"
#include "clip_ref.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A list of tensors with host copies. */
typedef struct list {
    size_t count;
    size_t n[8];
    float *host[8];
    clnn_tensor *t[8];
} list;

static void list_make(list *l, size_t count, const size_t *n, double scale)
{
    memset(l, 0, sizeof *l);
    l->count = count;
    for (size_t k = 0; k < count; ++k) {
        l->n[k] = n[k];
        l->host[k] = clnn_test_alloc(n[k] * sizeof(float));
        for (size_t i = 0; i < n[k]; ++i)
            l->host[k][i] = (float)(scale * clnn_test_normal());
        l->t[k] = clnn_test_tensor_1d(n[k], l->host[k]);
    }
}

static void list_upload(list *l)
{
    for (size_t k = 0; k < l->count; ++k)
        CLNN_ASSERT_OK(clnn_tensor_upload(l->t[k], l->host[k], l->n[k]));
}

static void list_free(list *l)
{
    for (size_t k = 0; k < l->count; ++k) {
        clnn_tensor_destroy(l->t[k]);
        free(l->host[k]);
    }
}

/* Every tensor of l holds exactly its host copy (bitwise, NaN payloads included). */
static void assert_unchanged(const list *l, const char *what)
{
    for (size_t k = 0; k < l->count; ++k) {
        float *got = clnn_test_alloc(l->n[k] * sizeof(float));
        clnn_test_download(l->t[k], got, l->n[k]);
        if (memcmp(got, l->host[k], l->n[k] * sizeof(float)) != 0)
            fail_msg("%s: tensor %zu was modified", what, k);
        free(got);
    }
}

static double ref_norm(const list *l, clnn_norm_type type)
{
    return clip_ref_global_norm((const float *const *)l->host, l->n, l->count,
                                type == CLNN_NORM_INF);
}

/* The L2 norm is summed in float: at most 16 terms per lane sequentially, then trees of
 * log2(work-group size) and log2(partials) levels, each adding up to 0.5 ulp relative error of
 * the partial sum (all terms are positive, so no cancellation): below 40 * 6e-8 = 2.4e-6 for the
 * sum of squares, half that for its square root, plus the final rounding to float. 1e-5 leaves a
 * factor of 4. The infinity norm is a max of exact values: it must be exact. */
static void check_norm(const list *l, clnn_norm_type type, const char *what)
{
    float got = -1.0f;
    CLNN_ASSERT_OK(clnn_global_norm(l->t, l->count, type, &got));
    double ref = ref_norm(l, type);
    clnn_test_assert_close(what, &got, &ref, 1, type == CLNN_NORM_L2 ? 1e-5 : 0.0,
                           type == CLNN_NORM_L2 ? 0.0 : 0.0);
    if (type == CLNN_NORM_INF && got != (float)ref)
        fail_msg("%s: infinity norm %.9g, expected exactly %.9g", what, (double)got, ref);
    assert_unchanged(l, what);
}

static void test_norms_odd_sizes(void **state)
{
    (void)state;
    const size_t big = CLNN_TEST_SHAPE(1000003, 4099);
    const struct {
        size_t count, n[5];
    } cases[] = {
        {1, {1}}, {1, {7}}, {1, {big}}, {5, {1, 7, big, 4096, 33}}, {3, {2, 3, 5}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
        list l;
        list_make(&l, cases[c].count, cases[c].n, 1.0);
        char what[96];
        snprintf(what, sizeof what, "L2 norm, case %zu", c);
        check_norm(&l, CLNN_NORM_L2, what);
        snprintf(what, sizeof what, "inf norm, case %zu", c);
        check_norm(&l, CLNN_NORM_INF, what);
        list_free(&l);
    }
}

/* Values whose squares overflow (1e25: 1e50 > FLT_MAX) or underflow (1e-30) in float, alone
 * and mixed with ordinary ones: the scaled accumulation keeps the L2 norm right. */
static void test_norm_extreme_ranges(void **state)
{
    (void)state;
    const size_t n[3] = {1000, 7, 4099};
    const double scales[] = {1e25, 1e-30, 1e35};
    for (size_t s = 0; s < sizeof scales / sizeof scales[0]; ++s) {
        list l;
        list_make(&l, 3, n, scales[s]);
        char what[96];
        snprintf(what, sizeof what, "L2 norm of values ~%g", scales[s]);
        check_norm(&l, CLNN_NORM_L2, what);
        snprintf(what, sizeof what, "inf norm of values ~%g", scales[s]);
        check_norm(&l, CLNN_NORM_INF, what);
        list_free(&l);
    }
    /* Mixed: one tensor of huge values, one of tiny, one ordinary. */
    list l;
    list_make(&l, 3, n, 1.0);
    for (size_t i = 0; i < n[0]; ++i)
        l.host[0][i] *= 1e20f;
    for (size_t i = 0; i < n[1]; ++i)
        l.host[1][i] *= 1e-25f;
    list_upload(&l);
    check_norm(&l, CLNN_NORM_L2, "L2 norm of mixed ranges");
    /* The norm of values near FLT_MAX overflows float itself: +Inf, reported as not finite. */
    for (size_t i = 0; i < n[2]; ++i)
        l.host[2][i] = 3e38f;
    list_upload(&l);
    float norm = 0.0f;
    CLNN_ASSERT_OK(clnn_global_norm(l.t, l.count, CLNN_NORM_L2, &norm));
    assert_true(isinf(norm) && norm > 0.0f);
    CLNN_ASSERT_STATUS(clnn_clip_by_global_norm(l.t, l.count, 1.0f, CLNN_NORM_L2, &norm),
                       CLNN_ERR_NON_FINITE);
    assert_unchanged(&l, "overflowing norm");
    list_free(&l);
}

/* clip_grad_norm_: scale by max_norm / (norm + 1e-6) when that is below 1. */
static void test_clip_scales(void **state)
{
    (void)state;
    const size_t n[4] = {1, 7, CLNN_TEST_SHAPE(1000003, 4099), 513};
    for (int type = 0; type < CLNN_NORM_TYPE_COUNT; ++type) {
        list l;
        list_make(&l, 4, n, 0.5);
        double ref = ref_norm(&l, (clnn_norm_type)type);
        float max_norm = (float)(ref / 3.0), norm = -1.0f;
        CLNN_ASSERT_OK(
            clnn_clip_by_global_norm(l.t, l.count, max_norm, (clnn_norm_type)type, &norm));
        double r = ref;
        clnn_test_assert_close("total norm returned by clip", &norm, &r, 1,
                               type == CLNN_NORM_L2 ? 1e-5 : 0.0, 0.0);
        /* The device multiplies by the float coefficient computed from the returned norm, as
         * PyTorch does; an IEEE float product is correctly rounded, so the result is exact. */
        float coef = max_norm / (norm + 1e-6f);
        for (size_t k = 0; k < l.count; ++k) {
            float *got = clnn_test_alloc(n[k] * sizeof(float));
            float *want = clnn_test_alloc(n[k] * sizeof(float));
            for (size_t i = 0; i < n[k]; ++i)
                want[i] = l.host[k][i] * coef;
            clnn_test_download(l.t[k], got, n[k]);
            clnn_test_assert_close_f("clipped tensor", got, want, n[k], 0.0, 0.0);
            free(got);
            free(want);
        }
        /* After clipping, the norm is max_norm (to the 1e-6 and float rounding). */
        float after;
        CLNN_ASSERT_OK(clnn_global_norm(l.t, l.count, (clnn_norm_type)type, &after));
        assert_float_equal(after, max_norm, 1e-5 * max_norm);
        list_free(&l);
    }
}

/* A norm at or below max_norm changes nothing, bitwise; max_norm 0 zeroes everything. */
static void test_clip_no_op_and_zero(void **state)
{
    (void)state;
    const size_t n[3] = {7, 1000, 33};
    list l;
    list_make(&l, 3, n, 1.0);
    float norm;
    double ref = ref_norm(&l, CLNN_NORM_L2);
    CLNN_ASSERT_OK(clnn_clip_by_global_norm(l.t, l.count, (float)(ref * 2.0), CLNN_NORM_L2, &norm));
    assert_unchanged(&l, "max_norm above the norm");
    CLNN_ASSERT_OK(clnn_clip_by_global_norm(l.t, l.count, INFINITY, CLNN_NORM_INF, &norm));
    assert_unchanged(&l, "max_norm +Inf");
    /* All-zero gradients: norm 0, nothing to clip. */
    for (size_t k = 0; k < l.count; ++k)
        memset(l.host[k], 0, n[k] * sizeof(float));
    list_upload(&l);
    CLNN_ASSERT_OK(clnn_clip_by_global_norm(l.t, l.count, 1.0f, CLNN_NORM_L2, &norm));
    assert_true(norm == 0.0f);
    assert_unchanged(&l, "zero gradients");
    /* max_norm 0: the coefficient is 0 and every element becomes 0. */
    for (size_t k = 0; k < l.count; ++k)
        for (size_t i = 0; i < n[k]; ++i)
            l.host[k][i] = (float)clnn_test_normal();
    list_upload(&l);
    CLNN_ASSERT_OK(clnn_clip_by_global_norm(l.t, l.count, 0.0f, CLNN_NORM_L2, &norm));
    assert_true(norm > 0.0f);
    for (size_t k = 0; k < l.count; ++k) {
        float got[1000];
        clnn_test_download(l.t[k], got, n[k]);
        for (size_t i = 0; i < n[k]; ++i)
            assert_true(got[i] == 0.0f);
    }
    list_free(&l);
}

/* A NaN or Inf anywhere: CLNN_ERR_NON_FINITE, the norm returned, every tensor bitwise untouched. */
static void test_non_finite(void **state)
{
    (void)state;
    const size_t n[3] = {CLNN_TEST_SHAPE(1000003, 4099), 7, 1};
    const struct {
        size_t tensor, index;
        float value;
        int expect_nan_l2, expect_nan_inf;
    } cases[] = {
        {0, n[0] - 4, NAN, 1, 1}, /* NaN late in the big tensor */
        {1, 3, INFINITY, 0, 0},  /* +Inf: norm +Inf */
        {2, 0, -INFINITY, 0, 0}, /* -Inf: norm +Inf */
        {0, 0, INFINITY, 1, 1},  /* and a NaN added below */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
        for (int type = 0; type < CLNN_NORM_TYPE_COUNT; ++type) {
            list l;
            list_make(&l, 3, n, 1.0);
            l.host[cases[c].tensor][cases[c].index] = cases[c].value;
            if (c == 3)
                l.host[1][6] = NAN;
            list_upload(&l);
            float norm = 0.0f;
            CLNN_ASSERT_STATUS(
                clnn_clip_by_global_norm(l.t, l.count, 0.5f, (clnn_norm_type)type, &norm),
                CLNN_ERR_NON_FINITE);
            int want_nan = type == CLNN_NORM_L2 ? cases[c].expect_nan_l2 : cases[c].expect_nan_inf;
            if (want_nan)
                assert_true(isnan(norm));
            else
                assert_true(isinf(norm) && norm > 0.0f);
            assert_unchanged(&l, "non-finite gradients");
            /* The norm alone reports the value with success. */
            float again = 0.0f;
            CLNN_ASSERT_OK(clnn_global_norm(l.t, l.count, (clnn_norm_type)type, &again));
            assert_true(want_nan ? isnan(again) : again == norm);
            list_free(&l);
        }
    }
}

/* clamp(x, -c, c), NaN kept, odd sizes; c = 0 and c = +Inf. */
static void test_clip_by_value(void **state)
{
    (void)state;
    const size_t n[3] = {1, 7, CLNN_TEST_SHAPE(100003, 1031)};
    const float values[] = {0.5f, 0.0f, INFINITY, 2.5f};
    for (size_t v = 0; v < sizeof values / sizeof values[0]; ++v) {
        list l;
        list_make(&l, 3, n, 1.5);
        l.host[1][2] = NAN;
        l.host[2][5] = -INFINITY;
        l.host[2][6] = INFINITY;
        list_upload(&l);
        float c = values[v];
        CLNN_ASSERT_OK(clnn_clip_by_value(l.t, l.count, c));
        for (size_t k = 0; k < l.count; ++k) {
            float *got = clnn_test_alloc(n[k] * sizeof(float));
            float *want = clnn_test_alloc(n[k] * sizeof(float));
            for (size_t i = 0; i < n[k]; ++i) {
                float x = l.host[k][i];
                want[i] = x < -c ? -c : x > c ? c : x;
            }
            clnn_test_download(l.t[k], got, n[k]);
            clnn_test_assert_close_f("clip by value", got, want, n[k], 0.0, 0.0);
            free(got);
            free(want);
        }
        list_free(&l);
    }
}

static void test_argument_errors(void **state)
{
    (void)state;
    const size_t n[2] = {5, 9};
    list l;
    list_make(&l, 2, n, 1.0);
    float norm = 42.0f;
    clnn_tensor *twice[2] = {l.t[0], l.t[0]}, *with_null[2] = {l.t[0], NULL};
    CLNN_ASSERT_STATUS(clnn_global_norm(NULL, 1, CLNN_NORM_L2, &norm), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_global_norm(l.t, 0, CLNN_NORM_L2, &norm), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_global_norm(l.t, 2, CLNN_NORM_TYPE_COUNT, &norm),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_global_norm(l.t, 2, CLNN_NORM_L2, NULL), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_global_norm(twice, 2, CLNN_NORM_L2, &norm), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_global_norm(with_null, 2, CLNN_NORM_L2, &norm),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_clip_by_global_norm(l.t, 2, -1.0f, CLNN_NORM_L2, &norm),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_clip_by_global_norm(l.t, 2, NAN, CLNN_NORM_L2, &norm),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_clip_by_global_norm(twice, 2, 1.0f, CLNN_NORM_INF, &norm),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_clip_by_global_norm(l.t, 2, 1.0f, (clnn_norm_type)-1, &norm),
                       CLNN_ERR_INVALID_ARGUMENT);
    assert_true(norm == 42.0f);
    CLNN_ASSERT_STATUS(clnn_clip_by_value(l.t, 2, -0.5f), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_clip_by_value(l.t, 2, NAN), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_clip_by_value(twice, 2, 1.0f), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_clip_by_value(NULL, 2, 1.0f), CLNN_ERR_INVALID_ARGUMENT);
    assert_unchanged(&l, "argument errors");
    assert_string_equal(clnn_norm_type_string(CLNN_NORM_INF), "inf");
    assert_string_equal(clnn_norm_type_string(CLNN_NORM_TYPE_COUNT), "unknown");
    list_free(&l);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_norms_odd_sizes), cmocka_unit_test(test_norm_extreme_ranges),
    cmocka_unit_test(test_clip_scales),     cmocka_unit_test(test_clip_no_op_and_zero),
    cmocka_unit_test(test_non_finite),      cmocka_unit_test(test_clip_by_value),
    cmocka_unit_test(test_argument_errors),
};

CLNN_TEST_MAIN("clip", tests)
