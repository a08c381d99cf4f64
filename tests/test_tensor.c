/*
 * Tensors: round trips of every rank and awkward sizes, fill, copy, reshape, wrapping a caller's
 * buffer, and every error path (bad shapes, overflow, count mismatches, NULL pointers, tensors
 * from another context), checking that a failed call leaves its outputs untouched.
 */
#include "clnn_test.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void round_trip(int ndim, const size_t *dims)
{
    size_t n = 1;
    for (int i = 0; i < ndim; ++i)
        n *= dims[i];
    float *in = clnn_test_alloc(n * sizeof *in), *out = clnn_test_alloc(n * sizeof *out);
    clnn_test_fill_uniform(in, n, -1e6, 1e6);
    clnn_tensor *t = clnn_test_tensor(ndim, dims, in);
    memset(out, 0xff, n * sizeof *out);
    clnn_test_download(t, out, n);
    assert_memory_equal(in, out, n * sizeof *in);

    int got_ndim;
    size_t got_dims[CLNN_MAX_DIMS], count;
    CLNN_ASSERT_OK(clnn_tensor_get_shape(t, &got_ndim, got_dims));
    CLNN_ASSERT_OK(clnn_tensor_get_count(t, &count));
    assert_int_equal(got_ndim, ndim);
    assert_int_equal(count, n);
    for (int i = 0; i < CLNN_MAX_DIMS; ++i)
        assert_int_equal(got_dims[i], i < ndim ? dims[i] : 1);
    clnn_context *owner;
    CLNN_ASSERT_OK(clnn_tensor_get_context(t, &owner));
    assert_ptr_equal(owner, clnn_test_ctx);
    cl_mem buffer;
    CLNN_ASSERT_OK(clnn_tensor_get_buffer(t, &buffer));
    assert_non_null(buffer);
    clnn_tensor_destroy(t);
    free(in);
    free(out);
}

static void test_round_trips(void **state)
{
    (void)state;
    const size_t one[] = {1}, seven[] = {7}, big[] = {CLNN_TEST_SHAPE(1000003, 10007)};
    const size_t two[] = {13, 17}, three[] = {3, 5, 7}, four[] = {2, 3, 5, 7};
    round_trip(1, one);
    round_trip(1, seven);
    round_trip(1, big);
    round_trip(2, two);
    round_trip(3, three);
    round_trip(4, four);
}

static void test_fill_and_copy(void **state)
{
    (void)state;
    const size_t big = CLNN_TEST_SHAPE(1000003, 10007);
    const size_t sizes[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 255, 256, 257, big};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; ++s) {
        size_t n = sizes[s];
        float *in = clnn_test_alloc(n * sizeof *in), *out = clnn_test_alloc(n * sizeof *out);
        clnn_test_fill_uniform(in, n, -100, 100);

        clnn_tensor *t = clnn_test_tensor_1d(n, NULL); /* poisoned */
        CLNN_ASSERT_OK(clnn_tensor_fill(t, 2.5f));
        clnn_test_download(t, out, n);
        for (size_t i = 0; i < n; ++i)
            assert_true(out[i] == 2.5f);

        clnn_tensor *src = clnn_test_tensor_1d(n, in);
        clnn_test_poison(t);
        CLNN_ASSERT_OK(clnn_tensor_copy(t, src));
        clnn_test_download(t, out, n);
        assert_memory_equal(in, out, n * sizeof *in);
        CLNN_ASSERT_OK(clnn_tensor_copy(t, t)); /* a no-op */

        /* Copy between shapes with the same element count. */
        if (n == big) {
            size_t d2[2] = {big, 1};
            clnn_tensor *u = clnn_test_tensor(2, d2, NULL);
            CLNN_ASSERT_OK(clnn_tensor_copy(u, src));
            clnn_test_download(u, out, n);
            assert_memory_equal(in, out, n * sizeof *in);
            clnn_tensor_destroy(u);
        }
        clnn_tensor_destroy(t);
        clnn_tensor_destroy(src);
        free(in);
        free(out);
    }
    /* Special values survive fill and copy bit for bit, in whole vectors and the remainder
     * (37 = 2 x 16 + 5; a NaN with a payload too). */
    const float special[7] = {NAN, INFINITY, -INFINITY, -0.0f, 1e-45f, 3.4028235e38f, -NAN};
    float specials[37], out[37];
    for (size_t i = 0; i < 37; ++i)
        specials[i] = special[i % 7];
    uint32_t payload = 0x7fa00001u; /* a signalling NaN: a float load and store keep it */
    memcpy(&specials[20], &payload, sizeof payload);
    clnn_tensor *a = clnn_test_tensor_1d(37, specials), *b = clnn_test_tensor_1d(37, NULL);
    CLNN_ASSERT_OK(clnn_tensor_copy(b, a));
    clnn_test_download(b, out, 37);
    assert_memory_equal(specials, out, sizeof out);
    clnn_tensor_destroy(a);
    clnn_tensor_destroy(b);
}

static void test_reshape(void **state)
{
    (void)state;
    size_t dims[2] = {6, 4}, good[3] = {2, 3, 4}, bad[2] = {5, 5};
    clnn_tensor *t = clnn_test_tensor(2, dims, NULL);
    CLNN_ASSERT_OK(clnn_tensor_reshape(t, 3, good));
    int ndim;
    size_t got[CLNN_MAX_DIMS];
    CLNN_ASSERT_OK(clnn_tensor_get_shape(t, &ndim, got));
    assert_int_equal(ndim, 3);
    assert_int_equal(got[2], 4);
    CLNN_ASSERT_STATUS(clnn_tensor_reshape(t, 2, bad), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_tensor_reshape(t, 0, good), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_tensor_reshape(NULL, 3, good), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_OK(clnn_tensor_get_shape(t, &ndim, got)); /* unchanged by the failures */
    assert_int_equal(ndim, 3);
    assert_int_equal(got[0], 2);
    clnn_tensor_destroy(t);
}

static void test_bad_shapes(void **state)
{
    (void)state;
    clnn_tensor *t = (clnn_tensor *)0x1;
    size_t dims[5] = {2, 3, 4, 5, 6};
    size_t zero[2] = {4, 0};
    size_t huge[2] = {(size_t)1 << 20, (size_t)1 << 20};
    size_t wraps[4] = {(size_t)1 << 32, (size_t)1 << 32, (size_t)1 << 32, 16};
    CLNN_ASSERT_STATUS(clnn_tensor_create(clnn_test_ctx, 0, dims, &t), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_tensor_create(clnn_test_ctx, 5, dims, &t), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_tensor_create(clnn_test_ctx, -1, dims, &t), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_tensor_create(clnn_test_ctx, 2, zero, &t), CLNN_ERR_INVALID_SHAPE);
    assert_non_null(strstr(clnn_context_last_error(clnn_test_ctx), "dims[1] is 0"));
    CLNN_ASSERT_STATUS(clnn_tensor_create(clnn_test_ctx, 2, huge, &t), CLNN_ERR_SIZE_OVERFLOW);
    CLNN_ASSERT_STATUS(clnn_tensor_create(clnn_test_ctx, 4, wraps, &t), CLNN_ERR_SIZE_OVERFLOW);
    CLNN_ASSERT_STATUS(clnn_tensor_create(clnn_test_ctx, 2, NULL, &t), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_tensor_create(clnn_test_ctx, 2, dims, NULL),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_tensor_create(NULL, 2, dims, &t), CLNN_ERR_INVALID_ARGUMENT);
    assert_ptr_equal(t, (clnn_tensor *)0x1); /* never written on failure */

    /* More bytes than the device can allocate in one buffer, when that is below the cap. */
    size_t limit = (size_t)(clnn_test_device.max_alloc_bytes / sizeof(float));
    if (limit < CLNN_MAX_ELEMENTS) {
        size_t too_big[1] = {limit + 1};
        CLNN_ASSERT_STATUS(clnn_tensor_create(clnn_test_ctx, 1, too_big, &t),
                           CLNN_ERR_DEVICE_MEMORY);
        assert_ptr_equal(t, (clnn_tensor *)0x1);
    }
}

static void test_transfer_errors(void **state)
{
    (void)state;
    float host[8] = {1, 2, 3, 4, 5, 6, 7, 8}, out[8];
    clnn_tensor *t = clnn_test_tensor_1d(8, host);
    CLNN_ASSERT_STATUS(clnn_tensor_upload(t, host, 7), CLNN_ERR_INVALID_SHAPE);
    assert_non_null(strstr(clnn_context_last_error(clnn_test_ctx), "count is 7"));
    CLNN_ASSERT_STATUS(clnn_tensor_upload(t, host, 9), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_tensor_upload(t, NULL, 8), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_tensor_upload(NULL, host, 8), CLNN_ERR_INVALID_ARGUMENT);
    memset(out, 0, sizeof out);
    CLNN_ASSERT_STATUS(clnn_tensor_download(t, out, 4), CLNN_ERR_INVALID_SHAPE);
    for (int i = 0; i < 8; ++i)
        assert_true(out[i] == 0.0f); /* nothing written on failure */
    CLNN_ASSERT_STATUS(clnn_tensor_download(t, NULL, 8), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_tensor_download(NULL, out, 8), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_tensor_fill(NULL, 1.0f), CLNN_ERR_INVALID_ARGUMENT);
    clnn_test_download(t, out, 8);
    assert_memory_equal(out, host, sizeof host); /* the tensor is untouched too */

    clnn_tensor *small = clnn_test_tensor_1d(4, NULL);
    CLNN_ASSERT_STATUS(clnn_tensor_copy(small, t), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_tensor_copy(NULL, t), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_tensor_copy(t, NULL), CLNN_ERR_INVALID_ARGUMENT);
    clnn_test_download(t, out, 8);
    assert_memory_equal(out, host, sizeof host);

    int ndim;
    size_t dims[CLNN_MAX_DIMS], count;
    cl_mem buffer;
    clnn_context *ctx;
    CLNN_ASSERT_STATUS(clnn_tensor_get_shape(NULL, &ndim, dims), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_tensor_get_shape(t, NULL, dims), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_tensor_get_count(t, NULL), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_tensor_get_count(NULL, &count), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_tensor_get_buffer(NULL, &buffer), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_tensor_get_context(NULL, &ctx), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_OK(clnn_tensor_destroy(NULL));
    clnn_tensor_destroy(small);
    clnn_tensor_destroy(t);
}

/* Tensors of two contexts never mix, even on the same device. */
static void test_context_mismatch(void **state)
{
    (void)state;
    clnn_context_options options;
    clnn_context_options_init(&options);
    char pair[32];
    snprintf(pair, sizeof pair, "%u:%u", clnn_test_device.platform_index,
             clnn_test_device.device_index);
    options.device = pair;
    clnn_context *other = NULL;
    CLNN_ASSERT_OK(clnn_context_create(&other, &options));
    size_t n = 16;
    float host[16] = {0};
    clnn_tensor *mine = clnn_test_tensor_1d(n, host), *theirs = NULL;
    CLNN_ASSERT_OK(clnn_tensor_create(other, 1, &n, &theirs));
    CLNN_ASSERT_STATUS(clnn_tensor_copy(mine, theirs), CLNN_ERR_CONTEXT_MISMATCH);
    CLNN_ASSERT_STATUS(clnn_tensor_copy(theirs, mine), CLNN_ERR_CONTEXT_MISMATCH);

    /* A buffer of another OpenCL context cannot be wrapped. */
    cl_mem buffer;
    CLNN_ASSERT_OK(clnn_tensor_get_buffer(theirs, &buffer));
    clnn_tensor *wrapped = (clnn_tensor *)0x1;
    CLNN_ASSERT_STATUS(clnn_tensor_wrap(clnn_test_ctx, buffer, 1, &n, &wrapped),
                       CLNN_ERR_CONTEXT_MISMATCH);
    assert_ptr_equal(wrapped, (clnn_tensor *)0x1);
    clnn_tensor_destroy(theirs);
    clnn_tensor_destroy(mine);
    clnn_context_destroy(other);
}

static void test_wrap(void **state)
{
    (void)state;
    size_t n = 1000, dims[2] = {10, 100}, too_many[2] = {10, 101};
    float in[1000], out[1000];
    clnn_test_fill_uniform(in, n, -1, 1);

    /* A buffer the caller owns: take it from a clnn tensor, which keeps its own reference. */
    clnn_tensor *owner = clnn_test_tensor_1d(n, in);
    cl_mem buffer;
    CLNN_ASSERT_OK(clnn_tensor_get_buffer(owner, &buffer));

    clnn_tensor *view = NULL;
    CLNN_ASSERT_OK(clnn_tensor_wrap(clnn_test_ctx, buffer, 2, dims, &view));
    clnn_test_download(view, out, n);
    assert_memory_equal(in, out, sizeof in);
    CLNN_ASSERT_OK(clnn_tensor_fill(view, -3.0f));
    CLNN_ASSERT_OK(clnn_tensor_destroy(view));
    clnn_test_download(owner, out, n); /* the buffer outlives the wrapper */
    for (size_t i = 0; i < n; ++i)
        assert_true(out[i] == -3.0f);

    clnn_tensor *bad = (clnn_tensor *)0x1;
    CLNN_ASSERT_STATUS(clnn_tensor_wrap(clnn_test_ctx, buffer, 2, too_many, &bad),
                       CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_tensor_wrap(clnn_test_ctx, NULL, 2, dims, &bad),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_tensor_wrap(clnn_test_ctx, buffer, 2, dims, NULL),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_tensor_wrap(NULL, buffer, 2, dims, &bad), CLNN_ERR_INVALID_ARGUMENT);
    assert_ptr_equal(bad, (clnn_tensor *)0x1);
    clnn_tensor_destroy(owner);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),      cmocka_unit_test(test_fill_and_copy),
        cmocka_unit_test(test_reshape),          cmocka_unit_test(test_bad_shapes),
        cmocka_unit_test(test_transfer_errors),  cmocka_unit_test(test_context_mismatch),
        cmocka_unit_test(test_wrap),
    };
    return clnn_test_main("tensor", tests, sizeof tests / sizeof tests[0]);
}
