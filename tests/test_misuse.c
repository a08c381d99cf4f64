/*
 * Misuse of the whole public API: every function of include/clnn/ is called with NULL, zero, huge
 * and mismatched arguments, and must return the documented status with a message, leave every
 * output alone, and not crash (the sanitizer build runs this too). Each function's cases are
 * listed under MISUSE(function, ...); tests/check_misuse.sh fails when a function declared with
 * CLNN_API has none, so a new public function needs its misuse cases here.
 */
#define _GNU_SOURCE /* setenv, strdup */
#include "clnn_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Checks one call's status and message. fn names the function for tests/check_misuse.sh. */
#define MISUSE(fn, call, expected) misuse_check(#fn, #call, (call), (expected), __LINE__)
/* A call that returns a value rather than a status (a name, a size): the expression must hold. */
#define MISUSE_VALUE(fn, condition) misuse_value(#fn, #condition, (condition) != 0, __LINE__)

static void misuse_check(const char *fn, const char *text, clnn_status got, clnn_status expected,
                         int line)
{
    const char *message = clnn_context_last_error(NULL);
    if (got != expected)
        fail_msg("line %d: %s: %s returned %s, expected %s; message: %s", line, fn, text,
                 clnn_status_string(got), clnn_status_string(expected), message);
    if (got != CLNN_SUCCESS && (!message || !message[0]))
        fail_msg("line %d: %s: %s failed without a message", line, fn, text);
}

static void misuse_value(const char *fn, const char *text, int holds, int line)
{
    if (!holds)
        fail_msg("line %d: %s: %s does not hold", line, fn, text);
}

/* ---- fixtures: tensors that every failed call must leave as they are ---------------------------
 */

#define SENTINEL 7.25f
enum { FIXTURES = 10 };
static clnn_tensor *t34, *t34b, *t43, *t33, *t12, *v4, *v3, *v1, *t2x3x4, *foreign_t;
static clnn_context *other_ctx;
static const size_t huge_dims[2] = {SIZE_MAX, 2};

static clnn_tensor *sentinel_tensor(clnn_context *ctx, int ndim, const size_t *dims)
{
    clnn_tensor *t = NULL;
    CLNN_ASSERT_OK(clnn_tensor_create(ctx, ndim, dims, &t));
    CLNN_ASSERT_OK(clnn_tensor_fill(t, SENTINEL));
    return t;
}

static void make_fixtures(void)
{
    size_t d34[2] = {3, 4}, d43[2] = {4, 3}, d33[2] = {3, 3}, d12 = 12, d4 = 4, d3 = 3, d1 = 1,
           d234[3] = {2, 3, 4};
    clnn_context *ctx = clnn_test_ctx;
    t34 = sentinel_tensor(ctx, 2, d34);
    t34b = sentinel_tensor(ctx, 2, d34);
    t43 = sentinel_tensor(ctx, 2, d43);
    t33 = sentinel_tensor(ctx, 2, d33);
    t12 = sentinel_tensor(ctx, 1, &d12);
    v4 = sentinel_tensor(ctx, 1, &d4);
    v3 = sentinel_tensor(ctx, 1, &d3);
    v1 = sentinel_tensor(ctx, 1, &d1);
    t2x3x4 = sentinel_tensor(ctx, 3, d234);
    clnn_context_options options;
    clnn_context_options_init(&options);
    char selector[32];
    snprintf(selector, sizeof selector, "%zu", clnn_test_device.index);
    options.device = selector;
    CLNN_ASSERT_OK(clnn_context_create(&other_ctx, &options));
    foreign_t = sentinel_tensor(other_ctx, 2, d34);
}

/* Every fixture still holds the sentinel everywhere, then they are freed. */
static void check_and_free_fixtures(void)
{
    clnn_tensor *all[FIXTURES] = {t34, t34b, t43, t33, t12, v4, v3, v1, t2x3x4, foreign_t};
    for (size_t i = 0; i < FIXTURES; ++i) {
        size_t n = 0;
        CLNN_ASSERT_OK(clnn_tensor_get_count(all[i], &n));
        float *host = clnn_test_alloc(n * sizeof *host);
        CLNN_ASSERT_OK(clnn_tensor_download(all[i], host, n));
        for (size_t j = 0; j < n; ++j)
            if (host[j] != SENTINEL)
                fail_msg("fixture %zu element %zu was changed to %g by a failed call", i, j,
                         (double)host[j]);
        free(host);
        clnn_tensor_destroy(all[i]);
    }
    clnn_context_destroy(other_ctx);
    other_ctx = NULL;
}

static int setup(void **state)
{
    (void)state;
    make_fixtures();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    check_and_free_fixtures();
    return 0;
}

#define BAD CLNN_ERR_INVALID_ARGUMENT
#define SHAPE CLNN_ERR_INVALID_SHAPE
#define FOREIGN CLNN_ERR_CONTEXT_MISMATCH
#define OVERFLOW CLNN_ERR_SIZE_OVERFLOW

/* ---- core.h ------------------------------------------------------------------------------------
 */

static void test_core(void **state)
{
    (void)state;
    clnn_context *ctx = clnn_test_ctx;
    MISUSE_VALUE(clnn_status_string, strstr(clnn_status_string((clnn_status)-1), "unknown"));
    MISUSE_VALUE(clnn_status_string, strstr(clnn_status_string(CLNN_STATUS_COUNT), "unknown"));
    MISUSE_VALUE(clnn_version_string, clnn_version_string()[0] != '\0');
    MISUSE_VALUE(clnn_device_type_string, clnn_device_type_string((clnn_device_type)99) != NULL);
    MISUSE(clnn_device_count, clnn_device_count(NULL), BAD);
    clnn_device_info info;
    memset(&info, 0x5a, sizeof info);
    clnn_device_info untouched = info;
    MISUSE(clnn_device_get_info, clnn_device_get_info(0, NULL), BAD);
    MISUSE(clnn_device_get_info, clnn_device_get_info(SIZE_MAX, &info), CLNN_ERR_NO_DEVICE);
    assert_memory_equal(&info, &untouched, sizeof info);
    MISUSE(clnn_context_options_init, clnn_context_options_init(NULL), BAD);

    clnn_context *made = (clnn_context *)0x1;
    MISUSE(clnn_context_create, clnn_context_create(NULL, NULL), BAD);
    clnn_context_options options;
    clnn_context_options_init(&options);
    options.device = "no such device anywhere";
    MISUSE(clnn_context_create, clnn_context_create(&made, &options), CLNN_ERR_NO_DEVICE);
    options.device = "999:999";
    MISUSE(clnn_context_create, clnn_context_create(&made, &options), CLNN_ERR_NO_DEVICE);
    assert_ptr_equal(made, (clnn_context *)0x1);
    MISUSE(clnn_context_create_with_queue, clnn_context_create_with_queue(NULL, NULL), BAD);
    MISUSE(clnn_context_create_with_queue, clnn_context_create_with_queue(&made, NULL), BAD);
    assert_ptr_equal(made, (clnn_context *)0x1);
    MISUSE(clnn_context_destroy, clnn_context_destroy(NULL), CLNN_SUCCESS);
    MISUSE_VALUE(clnn_context_last_error, clnn_context_last_error(NULL) != NULL);
    MISUSE_VALUE(clnn_context_build_log, strcmp(clnn_context_build_log(NULL), "") == 0);
    MISUSE(clnn_context_get_device_info, clnn_context_get_device_info(NULL, &info), BAD);
    MISUSE(clnn_context_get_device_info, clnn_context_get_device_info(ctx, NULL), BAD);
    assert_memory_equal(&info, &untouched, sizeof info);
    cl_command_queue queue = (cl_command_queue)0x1;
    MISUSE(clnn_context_get_queue, clnn_context_get_queue(NULL, &queue), BAD);
    MISUSE(clnn_context_get_queue, clnn_context_get_queue(ctx, NULL), BAD);
    assert_ptr_equal(queue, (cl_command_queue)0x1);
    MISUSE(clnn_context_finish, clnn_context_finish(NULL), BAD);
    MISUSE(clnn_context_self_check, clnn_context_self_check(NULL), BAD);
    MISUSE(clnn_context_build_programs, clnn_context_build_programs(NULL), BAD);
    clnn_cache_stats stats;
    MISUSE(clnn_context_get_cache_stats, clnn_context_get_cache_stats(NULL, &stats), BAD);
    MISUSE(clnn_context_get_cache_stats, clnn_context_get_cache_stats(ctx, NULL), BAD);
    MISUSE_VALUE(clnn_kernel_forms_string,
                 strcmp(clnn_kernel_forms_string((clnn_kernel_forms)99), "unknown") == 0);
    MISUSE_VALUE(clnn_kernel_forms_string,
                 strcmp(clnn_kernel_forms_string(CLNN_KERNEL_FORMS_COUNT), "unknown") == 0);
    clnn_device_profile profile;
    memset(&profile, 0x5a, sizeof profile);
    clnn_device_profile profile_untouched = profile;
    MISUSE(clnn_context_get_profile, clnn_context_get_profile(NULL, &profile), BAD);
    MISUSE(clnn_context_get_profile, clnn_context_get_profile(ctx, NULL), BAD);
    assert_memory_equal(&profile, &profile_untouched, sizeof profile);
    /* Kernel forms out of range, in the option and in CLNN_KERNEL_FORMS. */
    clnn_context_options_init(&options);
    options.kernel_forms = (clnn_kernel_forms)7;
    MISUSE(clnn_context_create, clnn_context_create(&made, &options), BAD);
    options.kernel_forms = CLNN_KERNEL_FORMS_AUTO;
    char *previous = getenv("CLNN_KERNEL_FORMS") ? strdup(getenv("CLNN_KERNEL_FORMS")) : NULL;
    setenv("CLNN_KERNEL_FORMS", "fpga", 1);
    MISUSE(clnn_context_create, clnn_context_create(&made, &options), BAD);
    if (previous)
        setenv("CLNN_KERNEL_FORMS", previous, 1);
    else
        unsetenv("CLNN_KERNEL_FORMS");
    free(previous);
    assert_ptr_equal(made, (clnn_context *)0x1);

    clnn_tensor *t = (clnn_tensor *)0x1;
    size_t dims[4] = {3, 4, 1, 1}, zero[2] = {3, 0};
    MISUSE(clnn_tensor_create, clnn_tensor_create(NULL, 2, dims, &t), BAD);
    MISUSE(clnn_tensor_create, clnn_tensor_create(ctx, 2, NULL, &t), BAD);
    MISUSE(clnn_tensor_create, clnn_tensor_create(ctx, 2, dims, NULL), BAD);
    MISUSE(clnn_tensor_create, clnn_tensor_create(ctx, 0, dims, &t), SHAPE);
    MISUSE(clnn_tensor_create, clnn_tensor_create(ctx, 5, dims, &t), SHAPE);
    MISUSE(clnn_tensor_create, clnn_tensor_create(ctx, -1, dims, &t), SHAPE);
    MISUSE(clnn_tensor_create, clnn_tensor_create(ctx, 2, zero, &t), SHAPE);
    MISUSE(clnn_tensor_create, clnn_tensor_create(ctx, 2, huge_dims, &t), OVERFLOW);
    assert_ptr_equal(t, (clnn_tensor *)0x1);
    cl_mem buffer = NULL;
    CLNN_ASSERT_OK(clnn_tensor_get_buffer(t34, &buffer));
    MISUSE(clnn_tensor_wrap, clnn_tensor_wrap(NULL, buffer, 2, dims, &t), BAD);
    MISUSE(clnn_tensor_wrap, clnn_tensor_wrap(ctx, NULL, 2, dims, &t), BAD);
    MISUSE(clnn_tensor_wrap, clnn_tensor_wrap(ctx, buffer, 2, dims, NULL), BAD);
    MISUSE(clnn_tensor_wrap, clnn_tensor_wrap(ctx, buffer, 2, huge_dims, &t), OVERFLOW);
    size_t bigger[2] = {30, 40}; /* more than the buffer holds */
    MISUSE(clnn_tensor_wrap, clnn_tensor_wrap(ctx, buffer, 2, bigger, &t), SHAPE);
    MISUSE(clnn_tensor_wrap, clnn_tensor_wrap(other_ctx, buffer, 2, dims, &t), FOREIGN);
    assert_ptr_equal(t, (clnn_tensor *)0x1);
    MISUSE(clnn_tensor_destroy, clnn_tensor_destroy(NULL), CLNN_SUCCESS);

    float host[12];
    for (int i = 0; i < 12; ++i)
        host[i] = -1.0f;
    MISUSE(clnn_tensor_upload, clnn_tensor_upload(NULL, host, 12), BAD);
    MISUSE(clnn_tensor_upload, clnn_tensor_upload(t34, NULL, 12), BAD);
    MISUSE(clnn_tensor_upload, clnn_tensor_upload(t34, host, 11), SHAPE);
    MISUSE(clnn_tensor_upload, clnn_tensor_upload(t34, host, SIZE_MAX), SHAPE);
    MISUSE(clnn_tensor_download, clnn_tensor_download(NULL, host, 12), BAD);
    MISUSE(clnn_tensor_download, clnn_tensor_download(t34, NULL, 12), BAD);
    MISUSE(clnn_tensor_download, clnn_tensor_download(t34, host, 13), SHAPE);
    for (int i = 0; i < 12; ++i)
        assert_true(host[i] == -1.0f);
    MISUSE(clnn_tensor_fill, clnn_tensor_fill(NULL, 0.0f), BAD);
    MISUSE(clnn_tensor_copy, clnn_tensor_copy(NULL, t34), BAD);
    MISUSE(clnn_tensor_copy, clnn_tensor_copy(t34, NULL), BAD);
    MISUSE(clnn_tensor_copy, clnn_tensor_copy(t34, v4), SHAPE);
    MISUSE(clnn_tensor_copy, clnn_tensor_copy(t34, foreign_t), FOREIGN);
    MISUSE(clnn_tensor_reshape, clnn_tensor_reshape(NULL, 2, dims), BAD);
    MISUSE(clnn_tensor_reshape, clnn_tensor_reshape(t34, 2, NULL), BAD);
    MISUSE(clnn_tensor_reshape, clnn_tensor_reshape(t34, 9, dims), SHAPE);
    size_t wrong[2] = {5, 5};
    MISUSE(clnn_tensor_reshape, clnn_tensor_reshape(t34, 2, wrong), SHAPE);
    MISUSE(clnn_tensor_reshape, clnn_tensor_reshape(t34, 2, huge_dims), OVERFLOW);
    int ndim = -7;
    size_t shape[4] = {9, 9, 9, 9};
    MISUSE(clnn_tensor_get_shape, clnn_tensor_get_shape(NULL, &ndim, shape), BAD);
    MISUSE(clnn_tensor_get_shape, clnn_tensor_get_shape(t34, NULL, shape), BAD);
    MISUSE(clnn_tensor_get_shape, clnn_tensor_get_shape(t34, &ndim, NULL), BAD);
    assert_int_equal(ndim, -7);
    assert_int_equal(shape[0], 9);
    CLNN_ASSERT_OK(clnn_tensor_get_shape(t34, &ndim, shape)); /* still 3 x 4 */
    assert_int_equal(ndim, 2);
    assert_int_equal(shape[0], 3);
    size_t count = 777;
    MISUSE(clnn_tensor_get_count, clnn_tensor_get_count(NULL, &count), BAD);
    MISUSE(clnn_tensor_get_count, clnn_tensor_get_count(t34, NULL), BAD);
    assert_int_equal(count, 777);
    MISUSE(clnn_tensor_get_buffer, clnn_tensor_get_buffer(NULL, &buffer), BAD);
    MISUSE(clnn_tensor_get_buffer, clnn_tensor_get_buffer(t34, NULL), BAD);
    clnn_context *owner = (clnn_context *)0x1;
    MISUSE(clnn_tensor_get_context, clnn_tensor_get_context(NULL, &owner), BAD);
    MISUSE(clnn_tensor_get_context, clnn_tensor_get_context(t34, NULL), BAD);
    assert_ptr_equal(owner, (clnn_context *)0x1);
}

/* ---- activation.h
 * -------------------------------------------------------------------------------- */

static void test_activation(void **state)
{
    (void)state;
    clnn_context *ctx = clnn_test_ctx;
    MISUSE_VALUE(clnn_activation_name,
                 strcmp(clnn_activation_name((clnn_activation)-1), "unknown") == 0);
    MISUSE_VALUE(clnn_activation_name,
                 strcmp(clnn_activation_name(CLNN_ACTIVATION_COUNT), "unknown") == 0);
    clnn_activation kind = (clnn_activation)77;
    MISUSE(clnn_activation_from_name, clnn_activation_from_name(NULL, &kind), BAD);
    MISUSE(clnn_activation_from_name, clnn_activation_from_name("relu", NULL), BAD);
    MISUSE(clnn_activation_from_name, clnn_activation_from_name("", &kind), BAD);
    MISUSE(clnn_activation_from_name, clnn_activation_from_name("no-such", &kind), BAD);
    assert_int_equal(kind, 77);
    clnn_activation_desc desc, relu;
    memset(&desc, 0x5a, sizeof desc);
    clnn_activation_desc untouched = desc;
    MISUSE(clnn_activation_desc_init, clnn_activation_desc_init(NULL, CLNN_ACTIVATION_RELU), BAD);
    MISUSE(clnn_activation_desc_init, clnn_activation_desc_init(&desc, CLNN_ACTIVATION_COUNT), BAD);
    MISUSE(clnn_activation_desc_init, clnn_activation_desc_init(&desc, (clnn_activation)-1), BAD);
    assert_memory_equal(&desc, &untouched, sizeof desc);
    MISUSE(clnn_activation_desc_check, clnn_activation_desc_check(NULL), BAD);
    MISUSE(clnn_activation_desc_check, clnn_activation_desc_check(&desc), BAD); /* garbage */
    MISUSE_VALUE(clnn_activation_has_output_backward,
                 clnn_activation_has_output_backward(CLNN_ACTIVATION_COUNT) == 0);
    CLNN_ASSERT_OK(clnn_activation_desc_init(&relu, CLNN_ACTIVATION_RELU));
    clnn_activation_desc nan_slope;
    CLNN_ASSERT_OK(clnn_activation_desc_init(&nan_slope, CLNN_ACTIVATION_LEAKY_RELU));
    nan_slope.negative_slope = NAN;

    MISUSE(clnn_activation_forward, clnn_activation_forward(NULL, &relu, t34, t34b), BAD);
    MISUSE(clnn_activation_forward, clnn_activation_forward(ctx, NULL, t34, t34b), BAD);
    MISUSE(clnn_activation_forward, clnn_activation_forward(ctx, &relu, NULL, t34b), BAD);
    MISUSE(clnn_activation_forward, clnn_activation_forward(ctx, &relu, t34, NULL), BAD);
    MISUSE(clnn_activation_forward, clnn_activation_forward(ctx, &nan_slope, t34, t34b), BAD);
    MISUSE(clnn_activation_forward, clnn_activation_forward(ctx, &relu, t34, t43), SHAPE);
    MISUSE(clnn_activation_forward, clnn_activation_forward(ctx, &relu, foreign_t, t34b), FOREIGN);
    MISUSE(clnn_activation_backward, clnn_activation_backward(NULL, &relu, t34, t34, 0, t34b), BAD);
    MISUSE(clnn_activation_backward, clnn_activation_backward(ctx, NULL, t34, t34, 0, t34b), BAD);
    MISUSE(clnn_activation_backward, clnn_activation_backward(ctx, &relu, t34, NULL, 0, t34b), BAD);
    MISUSE(clnn_activation_backward, clnn_activation_backward(ctx, &relu, t34, t34, NAN, t34b),
           BAD);
    MISUSE(clnn_activation_backward, clnn_activation_backward(ctx, &relu, t34, t43, 0, t34b),
           SHAPE);
    MISUSE(clnn_activation_backward, clnn_activation_backward(ctx, &relu, t34, foreign_t, 0, t34b),
           FOREIGN);
    MISUSE(clnn_activation_backward_from_output,
           clnn_activation_backward_from_output(NULL, &relu, t34, t34, 0, t34b), BAD);
    MISUSE(clnn_activation_backward_from_output,
           clnn_activation_backward_from_output(ctx, &relu, t34, t34, 0, NULL), BAD);
    MISUSE(clnn_activation_backward_from_output,
           clnn_activation_backward_from_output(ctx, &relu, t34, t12, 0, t34b), SHAPE);
    MISUSE(clnn_bias_activation_forward,
           clnn_bias_activation_forward(NULL, &relu, t34, v4, NULL, t34b), BAD);
    MISUSE(clnn_bias_activation_forward,
           clnn_bias_activation_forward(ctx, &relu, t34, NULL, NULL, t34b), BAD);
    MISUSE(clnn_bias_activation_forward,
           clnn_bias_activation_forward(ctx, &relu, t34, v3, NULL, t34b), SHAPE);
    MISUSE(clnn_bias_activation_forward,
           clnn_bias_activation_forward(ctx, &relu, t12, v4, NULL, t12), SHAPE);
    MISUSE(clnn_bias_activation_forward,
           clnn_bias_activation_forward(ctx, &relu, t34, v4, NULL, foreign_t), FOREIGN);
    MISUSE(clnn_bias_activation_backward,
           clnn_bias_activation_backward(NULL, &relu, t34, CLNN_ACTIVATION_SAVED_INPUT, NULL, t34,
                                         0, t34b, 0, v4),
           BAD);
    MISUSE(clnn_bias_activation_backward,
           clnn_bias_activation_backward(ctx, &relu, t34, CLNN_ACTIVATION_SAVED_COUNT, NULL, t34, 0,
                                         t34b, 0, v4),
           BAD);
    MISUSE(clnn_bias_activation_backward,
           clnn_bias_activation_backward(ctx, &relu, t34, CLNN_ACTIVATION_SAVED_INPUT, NULL, t34,
                                         INFINITY, t34b, 0, v4),
           BAD);
    MISUSE(clnn_bias_activation_backward,
           clnn_bias_activation_backward(ctx, &relu, t34, CLNN_ACTIVATION_SAVED_INPUT, NULL, t34, 0,
                                         t34b, 0, v3),
           SHAPE);
    MISUSE(clnn_bias_activation_backward,
           clnn_bias_activation_backward(ctx, &relu, t34, CLNN_ACTIVATION_SAVED_INPUT, NULL, t34, 0,
                                         NULL, 0, NULL),
           BAD);
    MISUSE(clnn_prelu_forward, clnn_prelu_forward(NULL, t34, v4, t34b), BAD);
    MISUSE(clnn_prelu_forward, clnn_prelu_forward(ctx, t34, NULL, t34b), BAD);
    MISUSE(clnn_prelu_forward, clnn_prelu_forward(ctx, t34, v3, t34b), SHAPE);
    MISUSE(clnn_prelu_forward, clnn_prelu_forward(ctx, t34, v4, foreign_t), FOREIGN);
    MISUSE(clnn_prelu_backward, clnn_prelu_backward(NULL, t34, v4, t34, 0, t34b, 0, v4), BAD);
    MISUSE(clnn_prelu_backward, clnn_prelu_backward(ctx, t34, v4, t34, NAN, t34b, 0, v4), BAD);
    MISUSE(clnn_prelu_backward, clnn_prelu_backward(ctx, t34, v4, t43, 0, t34b, 0, v4), SHAPE);
    MISUSE(clnn_prelu_backward, clnn_prelu_backward(ctx, t34, v4, t34, 0, NULL, 0, NULL), BAD);
}

/* ---- clip.h
 * -------------------------------------------------------------------------------------- */

static void test_clip(void **state)
{
    (void)state;
    clnn_tensor *list[2] = {t34, foreign_t}, *with_null[2] = {t34, NULL};
    float norm = 123.0f;
    MISUSE_VALUE(clnn_norm_type_string, clnn_norm_type_string((clnn_norm_type)99) != NULL);
    MISUSE(clnn_clip_by_value, clnn_clip_by_value(NULL, 1, 1.0f), BAD);
    MISUSE(clnn_clip_by_value, clnn_clip_by_value(list, 0, 1.0f), BAD);
    MISUSE(clnn_clip_by_value, clnn_clip_by_value(with_null, 2, 1.0f), BAD);
    MISUSE(clnn_clip_by_value, clnn_clip_by_value(list, 1, NAN), BAD);
    MISUSE(clnn_clip_by_value, clnn_clip_by_value(list, 1, -1.0f), BAD);
    MISUSE(clnn_clip_by_value, clnn_clip_by_value(list, 2, 1.0f), FOREIGN);
    MISUSE(clnn_global_norm, clnn_global_norm(NULL, 1, CLNN_NORM_L2, &norm), BAD);
    MISUSE(clnn_global_norm, clnn_global_norm(list, 1, CLNN_NORM_L2, NULL), BAD);
    MISUSE(clnn_global_norm, clnn_global_norm(list, 0, CLNN_NORM_L2, &norm), BAD);
    MISUSE(clnn_global_norm, clnn_global_norm(list, 1, (clnn_norm_type)99, &norm), BAD);
    MISUSE(clnn_global_norm, clnn_global_norm(list, 2, CLNN_NORM_L2, &norm), FOREIGN);
    MISUSE(clnn_clip_by_global_norm, clnn_clip_by_global_norm(NULL, 1, 1.0f, CLNN_NORM_L2, &norm),
           BAD);
    MISUSE(clnn_clip_by_global_norm, clnn_clip_by_global_norm(list, 1, NAN, CLNN_NORM_L2, &norm),
           BAD);
    MISUSE(clnn_clip_by_global_norm, clnn_clip_by_global_norm(list, 1, -2.0f, CLNN_NORM_L2, &norm),
           BAD);
    MISUSE(clnn_clip_by_global_norm,
           clnn_clip_by_global_norm(with_null, 2, 1.0f, CLNN_NORM_L2, &norm), BAD);
    MISUSE(clnn_clip_by_global_norm, clnn_clip_by_global_norm(list, 2, 1.0f, CLNN_NORM_L2, &norm),
           FOREIGN);
    assert_true(norm == 123.0f);
}

/* ---- norm.h
 * -------------------------------------------------------------------------------------- */

static void test_norm(void **state)
{
    (void)state;
    clnn_context *ctx = clnn_test_ctx;
    clnn_activation_desc relu;
    CLNN_ASSERT_OK(clnn_activation_desc_init(&relu, CLNN_ACTIVATION_RELU));
    /* x is 3 x 4 (4 channels); per-channel vectors v4; v3 is the wrong length */
    MISUSE(clnn_batch_norm_forward_training,
           clnn_batch_norm_forward_training(NULL, t34, v4, v4, NULL, NULL, 0.1f, 1e-5f, t34b, NULL,
                                            NULL),
           BAD);
    MISUSE(clnn_batch_norm_forward_training,
           clnn_batch_norm_forward_training(ctx, NULL, v4, v4, NULL, NULL, 0.1f, 1e-5f, t34b, NULL,
                                            NULL),
           BAD);
    MISUSE(clnn_batch_norm_forward_training,
           clnn_batch_norm_forward_training(ctx, t34, v3, v4, NULL, NULL, 0.1f, 1e-5f, t34b, NULL,
                                            NULL),
           SHAPE);
    MISUSE(clnn_batch_norm_forward_training,
           clnn_batch_norm_forward_training(ctx, t34, v4, v4, NULL, NULL, NAN, 1e-5f, t34b, NULL,
                                            NULL),
           BAD);
    MISUSE(clnn_batch_norm_forward_training,
           clnn_batch_norm_forward_training(ctx, t34, v4, v4, NULL, NULL, 0.1f, -1.0f, t34b, NULL,
                                            NULL),
           BAD);
    MISUSE(clnn_batch_norm_forward_training,
           clnn_batch_norm_forward_training(ctx, t34, v4, v4, NULL, NULL, 0.1f, 1e-5f, foreign_t,
                                            NULL, NULL),
           FOREIGN);
    MISUSE(clnn_batch_norm_forward_inference,
           clnn_batch_norm_forward_inference(NULL, t34, v4, v4, v4, v4, 1e-5f, t34b), BAD);
    MISUSE(clnn_batch_norm_forward_inference,
           clnn_batch_norm_forward_inference(ctx, t34, v4, v4, NULL, v4, 1e-5f, t34b), BAD);
    MISUSE(clnn_batch_norm_forward_inference,
           clnn_batch_norm_forward_inference(ctx, t34, v4, v4, v3, v4, 1e-5f, t34b), SHAPE);
    MISUSE(clnn_batch_norm_forward_inference,
           clnn_batch_norm_forward_inference(ctx, t34, v4, v4, v4, v4, INFINITY, t34b), BAD);
    MISUSE(clnn_batch_norm_backward,
           clnn_batch_norm_backward(NULL, t34, t34, v4, v4, v4, t34b, v4, v4, 0.0f), BAD);
    MISUSE(clnn_batch_norm_backward,
           clnn_batch_norm_backward(ctx, t34, NULL, v4, v4, v4, t34b, v4, v4, 0.0f), BAD);
    MISUSE(clnn_batch_norm_backward,
           clnn_batch_norm_backward(ctx, t34, t43, v4, v4, v4, t34b, v4, v4, 0.0f), SHAPE);
    MISUSE(clnn_batch_norm_backward,
           clnn_batch_norm_backward(ctx, t34, t34, v4, v4, v4, t34b, v4, v4, NAN), BAD);
    MISUSE(clnn_batch_norm_activation_forward_training,
           clnn_batch_norm_activation_forward_training(NULL, &relu, t34, v4, v4, NULL, NULL, 0.1f,
                                                       1e-5f, t34b, NULL, NULL),
           BAD);
    MISUSE(clnn_batch_norm_activation_forward_training,
           clnn_batch_norm_activation_forward_training(ctx, NULL, t34, v4, v4, NULL, NULL, 0.1f,
                                                       1e-5f, t34b, NULL, NULL),
           BAD);
    MISUSE(clnn_batch_norm_activation_forward_training,
           clnn_batch_norm_activation_forward_training(ctx, &relu, t34, v4, v3, NULL, NULL, 0.1f,
                                                       1e-5f, t34b, NULL, NULL),
           SHAPE);
    MISUSE(
        clnn_batch_norm_activation_forward_inference,
        clnn_batch_norm_activation_forward_inference(NULL, &relu, t34, v4, v4, v4, v4, 1e-5f, t34b),
        BAD);
    MISUSE(
        clnn_batch_norm_activation_forward_inference,
        clnn_batch_norm_activation_forward_inference(ctx, &relu, t34, v4, v4, v4, v4, -1.0f, t34b),
        BAD);
    MISUSE(clnn_batch_norm_activation_backward,
           clnn_batch_norm_activation_backward(NULL, &relu, t34, t34, v4, v4, v4, v4, t34b, v4, v4,
                                               0.0f),
           BAD);
    MISUSE(clnn_batch_norm_activation_backward,
           clnn_batch_norm_activation_backward(ctx, &relu, t34, t34, v4, v4, v4, v3, t34b, v4, v4,
                                               0.0f),
           SHAPE);
    /* layer norm over the last dimension of 3 x 4: vectors of 4, statistics of 3 */
    MISUSE(clnn_layer_norm_forward, clnn_layer_norm_forward(NULL, t34, v4, v4, 1e-5f, t34b, v3, v3),
           BAD);
    MISUSE(clnn_layer_norm_forward, clnn_layer_norm_forward(ctx, t34, v4, v4, 1e-5f, NULL, v3, v3),
           BAD);
    MISUSE(clnn_layer_norm_forward, clnn_layer_norm_forward(ctx, t34, v3, v4, 1e-5f, t34b, v3, v3),
           SHAPE);
    MISUSE(clnn_layer_norm_forward, clnn_layer_norm_forward(ctx, t34, v4, v4, NAN, t34b, v3, v3),
           BAD);
    MISUSE(clnn_layer_norm_backward,
           clnn_layer_norm_backward(NULL, t34, t34, v4, v3, v3, t34b, v4, v4, 0.0f), BAD);
    MISUSE(clnn_layer_norm_backward,
           clnn_layer_norm_backward(ctx, t34, t43, v4, v3, v3, t34b, v4, v4, 0.0f), SHAPE);
    MISUSE(clnn_layer_norm_backward,
           clnn_layer_norm_backward(ctx, t34, t34, v4, v3, v3, t34b, v4, v4, INFINITY), BAD);
}

/* ---- loss.h
 * -------------------------------------------------------------------------------------- */

static void test_loss(void **state)
{
    (void)state;
    clnn_context *ctx = clnn_test_ctx;
    MISUSE_VALUE(clnn_reduction_name, clnn_reduction_name((clnn_reduction)99) != NULL);
    MISUSE(clnn_softmax_forward, clnn_softmax_forward(NULL, t34, t34b), BAD);
    MISUSE(clnn_softmax_forward, clnn_softmax_forward(ctx, t34, NULL), BAD);
    MISUSE(clnn_softmax_forward, clnn_softmax_forward(ctx, t34, t43), SHAPE);
    MISUSE(clnn_softmax_forward, clnn_softmax_forward(ctx, t34, foreign_t), FOREIGN);
    MISUSE(clnn_softmax_backward, clnn_softmax_backward(NULL, t34, t34, t34b), BAD);
    MISUSE(clnn_softmax_backward, clnn_softmax_backward(ctx, t34, t43, t34b), SHAPE);
    MISUSE(clnn_log_softmax_forward, clnn_log_softmax_forward(NULL, t34, t34b), BAD);
    MISUSE(clnn_log_softmax_forward, clnn_log_softmax_forward(ctx, NULL, t34b), BAD);
    MISUSE(clnn_log_softmax_forward, clnn_log_softmax_forward(ctx, t34, t12), SHAPE);
    MISUSE(clnn_log_softmax_backward, clnn_log_softmax_backward(NULL, t34, t34, t34b), BAD);
    MISUSE(clnn_log_softmax_backward, clnn_log_softmax_backward(ctx, t34, t34, t43), SHAPE);
    MISUSE(clnn_mse_loss, clnn_mse_loss(NULL, t34, t34, CLNN_REDUCTION_MEAN, v1, t34b), BAD);
    MISUSE(clnn_mse_loss, clnn_mse_loss(ctx, t34, NULL, CLNN_REDUCTION_MEAN, v1, t34b), BAD);
    MISUSE(clnn_mse_loss, clnn_mse_loss(ctx, t34, t43, CLNN_REDUCTION_MEAN, v1, t34b), SHAPE);
    MISUSE(clnn_mse_loss, clnn_mse_loss(ctx, t34, t34, (clnn_reduction)99, v1, t34b), BAD);
    MISUSE(clnn_mse_loss, clnn_mse_loss(ctx, t34, t34, CLNN_REDUCTION_MEAN, v4, t34b), SHAPE);
    MISUSE(clnn_bce_with_logits_loss,
           clnn_bce_with_logits_loss(NULL, t34, t34, CLNN_REDUCTION_SUM, v1, t34b), BAD);
    MISUSE(clnn_bce_with_logits_loss,
           clnn_bce_with_logits_loss(ctx, t34, t12, CLNN_REDUCTION_SUM, v1, t34b), SHAPE);
    MISUSE(clnn_bce_with_logits_loss,
           clnn_bce_with_logits_loss(ctx, t34, t34, CLNN_REDUCTION_COUNT, v1, t34b), BAD);
    MISUSE(clnn_cross_entropy_options_init, clnn_cross_entropy_options_init(NULL), BAD);
    clnn_cross_entropy_options options;
    CLNN_ASSERT_OK(clnn_cross_entropy_options_init(&options));
    clnn_tensor *labels = NULL, *two_labels = NULL;
    size_t three = 3, two = 2;
    CLNN_ASSERT_OK(clnn_tensor_create_int32(ctx, 1, &three, &labels)); /* one label per row */
    CLNN_ASSERT_OK(clnn_tensor_upload_int32(labels, (const int32_t[]){0, 1, 3}, 3));
    CLNN_ASSERT_OK(clnn_tensor_create_int32(ctx, 1, &two, &two_labels));
    float loss = 99.0f;
    MISUSE(clnn_cross_entropy, clnn_cross_entropy(ctx, t34, v3, &options, v1, t34b), BAD);
    MISUSE(clnn_cross_entropy, clnn_cross_entropy(ctx, t34, two_labels, &options, v1, t34b),
           SHAPE);
    MISUSE(clnn_cross_entropy, clnn_cross_entropy(NULL, t34, labels, &options, v1, t34b), BAD);
    MISUSE(clnn_cross_entropy, clnn_cross_entropy(ctx, t34, NULL, &options, v1, t34b), BAD);
    MISUSE(clnn_cross_entropy, clnn_cross_entropy(ctx, NULL, labels, &options, v1, t34b), BAD);
    MISUSE(clnn_cross_entropy, clnn_cross_entropy(ctx, t34, labels, &options, v1, t43), SHAPE);
    clnn_cross_entropy_options none = options;
    none.reduction = CLNN_REDUCTION_COUNT;
    MISUSE(clnn_cross_entropy, clnn_cross_entropy(ctx, t34, labels, &none, v1, t34b), BAD);
    MISUSE(clnn_cross_entropy_host,
           clnn_cross_entropy_host(NULL, t34, labels, &options, &loss, t34b), BAD);
    MISUSE(clnn_cross_entropy_host, clnn_cross_entropy_host(ctx, t34, labels, &options, NULL, t34b),
           BAD);
    MISUSE(clnn_cross_entropy_host,
           clnn_cross_entropy_host(ctx, t34, labels, &options, &loss, foreign_t), FOREIGN);
    assert_true(loss == 99.0f);
    MISUSE(clnn_cross_entropy_check_labels,
           clnn_cross_entropy_check_labels(NULL, labels, 4, -100), BAD);
    MISUSE(clnn_cross_entropy_check_labels, clnn_cross_entropy_check_labels(ctx, NULL, 4, -100),
           BAD);
    MISUSE(clnn_cross_entropy_check_labels, clnn_cross_entropy_check_labels(ctx, v3, 4, -100),
           BAD); /* floats */
    MISUSE(clnn_cross_entropy_check_labels,
           clnn_cross_entropy_check_labels(ctx, labels, 0, -100), SHAPE);
    MISUSE(clnn_cross_entropy_check_labels,
           clnn_cross_entropy_check_labels(ctx, labels, SIZE_MAX, -100), SHAPE);
    MISUSE(clnn_cross_entropy_check_labels, clnn_cross_entropy_check_labels(ctx, labels, 3, -100),
           CLNN_ERR_OUT_OF_RANGE);
    clnn_tensor_destroy(labels);
    clnn_tensor_destroy(two_labels);
}

/* ---- dense.h
 * ------------------------------------------------------------------------------------- */

static void test_dense(void **state)
{
    (void)state;
    clnn_context *ctx = clnn_test_ctx;
    /* x 3 x 4, weight 3 x 4 (3 outputs from 4 inputs): y is 3 x 3 (none here: t43 is wrong) */
    MISUSE(clnn_dense_forward, clnn_dense_forward(NULL, t34, t34b, NULL, t43), BAD);
    MISUSE(clnn_dense_forward, clnn_dense_forward(ctx, NULL, t34b, NULL, t43), BAD);
    MISUSE(clnn_dense_forward, clnn_dense_forward(ctx, t34, NULL, NULL, t43), BAD);
    MISUSE(clnn_dense_forward, clnn_dense_forward(ctx, t34, t34b, NULL, NULL), BAD);
    MISUSE(clnn_dense_forward, clnn_dense_forward(ctx, t34, t34b, NULL, t43), SHAPE);
    MISUSE(clnn_dense_forward, clnn_dense_forward(ctx, t34, t43, NULL, t34b), SHAPE);
    MISUSE(clnn_dense_forward, clnn_dense_forward(ctx, t34, t34b, v4, t43), SHAPE);
    MISUSE(clnn_dense_forward, clnn_dense_forward(ctx, t34, foreign_t, NULL, t43), FOREIGN);
    MISUSE(clnn_dense_backward_data, clnn_dense_backward_data(NULL, t34, t34b, 0, t43), BAD);
    MISUSE(clnn_dense_backward_data, clnn_dense_backward_data(ctx, t34, t43, NAN, t33), BAD);
    MISUSE(clnn_dense_backward_data, clnn_dense_backward_data(ctx, t34, t43, 0, t12), SHAPE);
    MISUSE(clnn_dense_backward_weight, clnn_dense_backward_weight(NULL, t34, t34b, 0, t43), BAD);
    MISUSE(clnn_dense_backward_weight, clnn_dense_backward_weight(ctx, t34, t43, 0, t34b), SHAPE);
    MISUSE(clnn_dense_backward_weight, clnn_dense_backward_weight(ctx, t34, t33, INFINITY, t43),
           BAD);
    MISUSE(clnn_dense_backward_bias, clnn_dense_backward_bias(NULL, t34, 0, v4), BAD);
    MISUSE(clnn_dense_backward_bias, clnn_dense_backward_bias(ctx, t34, 0, NULL), BAD);
    MISUSE(clnn_dense_backward_bias, clnn_dense_backward_bias(ctx, t34, 0, v3), SHAPE);
    MISUSE(clnn_dense_backward_bias, clnn_dense_backward_bias(ctx, t34, NAN, v4), BAD);
    MISUSE(clnn_dense_backward, clnn_dense_backward(NULL, t34, t34b, t43, NULL, NULL, NULL, 0),
           BAD);
    MISUSE(clnn_dense_backward, clnn_dense_backward(ctx, t34, t34b, t43, NULL, NULL, NULL, 0),
           BAD); /* nothing to compute */
    MISUSE(clnn_dense_backward, clnn_dense_backward(ctx, t34, t34b, t43, t34b, NULL, NULL, 0),
           SHAPE);
    MISUSE(clnn_dense_backward, clnn_dense_backward(ctx, t33, t43, t34, t33, t43, v4, NAN), BAD);

    clnn_tuning tuning, untouched;
    memset(&tuning, 0x5a, sizeof tuning);
    untouched = tuning;
    MISUSE(clnn_tuning_init, clnn_tuning_init(NULL, &clnn_test_device), BAD);
    MISUSE(clnn_tuning_init, clnn_tuning_init(&tuning, NULL), BAD);
    assert_memory_equal(&tuning, &untouched, sizeof tuning);
    const char *names[2] = {"MWG", "MWG"};
    size_t values[2] = {16, 16};
    MISUSE(clnn_tuning_set_kernel, clnn_tuning_set_kernel(NULL, "Xgemm", 1, names, values), BAD);
    MISUSE(clnn_tuning_set_kernel, clnn_tuning_set_kernel(&tuning, NULL, 1, names, values), BAD);
    MISUSE(clnn_tuning_set_kernel, clnn_tuning_set_kernel(&tuning, "Xgemm", 1, NULL, values), BAD);
    MISUSE(clnn_tuning_set_kernel, clnn_tuning_set_kernel(&tuning, "Xgemm", 1, names, NULL), BAD);
    MISUSE(clnn_tuning_set_kernel, clnn_tuning_set_kernel(&tuning, "Xgemm", 0, names, values), BAD);
    MISUSE(clnn_tuning_set_kernel,
           clnn_tuning_set_kernel(&tuning, "Xgemm", SIZE_MAX, names, values), BAD);
    MISUSE(clnn_tuning_set_kernel, clnn_tuning_set_kernel(&tuning, "Xgemm", 2, names, values), BAD);
    MISUSE(clnn_tuning_set_kernel, clnn_tuning_set_kernel(&tuning, "", 1, names, values), BAD);
    assert_memory_equal(&tuning, &untouched, sizeof tuning);
    MISUSE(clnn_tuning_parse, clnn_tuning_parse(NULL, &tuning), BAD);
    MISUSE(clnn_tuning_parse, clnn_tuning_parse("clnn-tuning 1\n", NULL), BAD);
    MISUSE(clnn_tuning_parse, clnn_tuning_parse("", &tuning), CLNN_ERR_FORMAT);
    assert_memory_equal(&tuning, &untouched, sizeof tuning);
    char text[64];
    memset(text, 'q', sizeof text);
    size_t length = 777;
    MISUSE(clnn_tuning_format, clnn_tuning_format(NULL, text, sizeof text, &length), BAD);
    MISUSE(clnn_tuning_format, clnn_tuning_format(&tuning, NULL, 10, &length), BAD);
    MISUSE(clnn_tuning_format, clnn_tuning_format(&tuning, text, sizeof text, &length), BAD);
    assert_int_equal(length, 777);
    assert_int_equal(text[0], 'q');
    MISUSE(clnn_tuning_load, clnn_tuning_load(NULL, &tuning), BAD);
    MISUSE(clnn_tuning_load, clnn_tuning_load("/nonexistent/clnn/tuning.txt", NULL), BAD);
    MISUSE(clnn_tuning_load, clnn_tuning_load("/nonexistent/clnn/tuning.txt", &tuning),
           CLNN_ERR_IO);
    MISUSE(clnn_tuning_load, clnn_tuning_load("/", &tuning), CLNN_ERR_IO);
    assert_memory_equal(&tuning, &untouched, sizeof tuning);
    MISUSE(clnn_tuning_save, clnn_tuning_save(NULL, "/tmp/x.txt"), BAD);
    MISUSE(clnn_tuning_save, clnn_tuning_save(&tuning, NULL), BAD);
    MISUSE(clnn_tuning_save, clnn_tuning_save(&tuning, "/nonexistent/x.txt"), BAD); /* garbage */
    int matches = 5;
    MISUSE(clnn_tuning_matches, clnn_tuning_matches(NULL, &clnn_test_device, &matches), BAD);
    MISUSE(clnn_tuning_matches, clnn_tuning_matches(&tuning, NULL, &matches), BAD);
    MISUSE(clnn_tuning_matches, clnn_tuning_matches(&tuning, &clnn_test_device, NULL), BAD);
    assert_int_equal(matches, 5);
    MISUSE(clnn_tuning_apply, clnn_tuning_apply(NULL, &tuning), BAD);
    MISUSE(clnn_tuning_apply, clnn_tuning_apply(ctx, NULL), BAD);
    MISUSE(clnn_tuning_apply, clnn_tuning_apply(ctx, &tuning), BAD); /* garbage, refused */
    char path[4] = "xyz";
    MISUSE(clnn_tuning_directory, clnn_tuning_directory(NULL, 10), BAD);
    MISUSE(clnn_tuning_directory, clnn_tuning_directory(path, 0), BAD);
    MISUSE(clnn_tuning_directory, clnn_tuning_directory(path, sizeof path), BAD);
    MISUSE(clnn_tuning_describe, clnn_tuning_describe(NULL, text, sizeof text), BAD);
    MISUSE(clnn_tuning_describe, clnn_tuning_describe(ctx, NULL, 10), BAD);
    MISUSE(clnn_tuning_describe, clnn_tuning_describe(ctx, text, 0), BAD);
    assert_int_equal(text[0], 'q');
}

/* ---- init.h
 * -------------------------------------------------------------------------------------- */

static void test_init(void **state)
{
    (void)state;
    clnn_context *ctx = clnn_test_ctx;
    uint32_t counter[4] = {1, 2, 3, 4}, key[2] = {5, 6}, out[8] = {7, 7, 7, 7, 7, 7, 7, 7};
    MISUSE(clnn_philox4x32_10, clnn_philox4x32_10(NULL, key, out), BAD);
    MISUSE(clnn_philox4x32_10, clnn_philox4x32_10(counter, NULL, out), BAD);
    MISUSE(clnn_philox4x32_10, clnn_philox4x32_10(counter, key, NULL), BAD);
    MISUSE(clnn_philox4x32_10_device, clnn_philox4x32_10_device(NULL, key, counter, 1, out), BAD);
    MISUSE(clnn_philox4x32_10_device, clnn_philox4x32_10_device(ctx, NULL, counter, 1, out), BAD);
    MISUSE(clnn_philox4x32_10_device, clnn_philox4x32_10_device(ctx, key, NULL, 1, out), BAD);
    MISUSE(clnn_philox4x32_10_device, clnn_philox4x32_10_device(ctx, key, counter, 1, NULL), BAD);
    MISUSE(clnn_philox4x32_10_device, clnn_philox4x32_10_device(ctx, key, counter, 0, out), BAD);
    MISUSE(clnn_philox4x32_10_device,
           clnn_philox4x32_10_device(ctx, key, counter, SIZE_MAX / 2, out), BAD);
    for (int i = 0; i < 8; ++i)
        assert_int_equal(out[i], 7);
    MISUSE_VALUE(clnn_nonlinearity_name, clnn_nonlinearity_name((clnn_nonlinearity)-1) != NULL);
    float gain = 3.0f;
    MISUSE(clnn_calculate_gain, clnn_calculate_gain(CLNN_NONLINEARITY_RELU, 0, NULL), BAD);
    MISUSE(clnn_calculate_gain, clnn_calculate_gain(CLNN_NONLINEARITY_COUNT, 0, &gain), BAD);
    MISUSE(clnn_calculate_gain, clnn_calculate_gain(CLNN_NONLINEARITY_LEAKY_RELU, NAN, &gain), BAD);
    assert_true(gain == 3.0f);
    size_t d2[2] = {3, 4}, fan_in = 9, fan_out = 9;
    MISUSE(clnn_calculate_fan, clnn_calculate_fan(2, NULL, &fan_in, &fan_out), BAD);
    MISUSE(clnn_calculate_fan, clnn_calculate_fan(1, d2, &fan_in, &fan_out), SHAPE);
    MISUSE(clnn_calculate_fan, clnn_calculate_fan(9, d2, &fan_in, &fan_out), SHAPE);
    MISUSE(clnn_calculate_fan, clnn_calculate_fan(2, huge_dims, &fan_in, &fan_out), OVERFLOW);
    assert_int_equal(fan_in, 9);
    assert_int_equal(fan_out, 9);
    MISUSE_VALUE(clnn_init_kind_name, clnn_init_kind_name(CLNN_INIT_KIND_COUNT) != NULL);
    clnn_init_params params, good;
    memset(&params, 0x5a, sizeof params);
    clnn_init_params untouched = params;
    MISUSE(clnn_init_params_default, clnn_init_params_default(CLNN_INIT_ZEROS, NULL), BAD);
    MISUSE(clnn_init_params_default, clnn_init_params_default(CLNN_INIT_KIND_COUNT, &params), BAD);
    assert_memory_equal(&params, &untouched, sizeof params);
    CLNN_ASSERT_OK(clnn_init_params_default(CLNN_INIT_NORMAL, &good));
    clnn_init_params bad = good;
    bad.std = -1.0f;
    MISUSE(clnn_init, clnn_init(NULL, &good), BAD);
    MISUSE(clnn_init, clnn_init(t34, NULL), BAD);
    MISUSE(clnn_init, clnn_init(t34, &bad), BAD);
    MISUSE(clnn_init, clnn_init(t34, &params), BAD); /* garbage */
    float host[4] = {7, 7, 7, 7};
    MISUSE(clnn_init_host, clnn_init_host(2, d2, NULL, host), BAD);
    MISUSE(clnn_init_host, clnn_init_host(2, d2, &good, NULL), BAD);
    MISUSE(clnn_init_host, clnn_init_host(2, NULL, &good, host), BAD);
    MISUSE(clnn_init_host, clnn_init_host(0, d2, &good, host), SHAPE);
    MISUSE(clnn_init_host, clnn_init_host(2, huge_dims, &good, host), OVERFLOW);
    MISUSE(clnn_init_host, clnn_init_host(2, d2, &bad, host), BAD);
    assert_true(host[0] == 7 && host[3] == 7);
    MISUSE(clnn_init_zeros, clnn_init_zeros(NULL), BAD);
    MISUSE(clnn_init_ones, clnn_init_ones(NULL), BAD);
    MISUSE(clnn_init_constant, clnn_init_constant(NULL, 1.0f), BAD);
    MISUSE(clnn_init_constant, clnn_init_constant(t34, NAN), BAD);
    MISUSE(clnn_init_uniform, clnn_init_uniform(NULL, 0, 1, 1), BAD);
    MISUSE(clnn_init_uniform, clnn_init_uniform(t34, 1, 0, 1), BAD);
    MISUSE(clnn_init_uniform, clnn_init_uniform(t34, NAN, 1, 1), BAD);
    MISUSE(clnn_init_normal, clnn_init_normal(NULL, 0, 1, 1), BAD);
    MISUSE(clnn_init_normal, clnn_init_normal(t34, 0, -1, 1), BAD);
    MISUSE(clnn_init_normal, clnn_init_normal(t34, INFINITY, 1, 1), BAD);
    MISUSE(clnn_init_trunc_normal, clnn_init_trunc_normal(NULL, 0, 1, -2, 2, 1), BAD);
    MISUSE(clnn_init_trunc_normal, clnn_init_trunc_normal(t34, 0, 1, 2, -2, 1), BAD);
    MISUSE(clnn_init_trunc_normal, clnn_init_trunc_normal(t34, 0, NAN, -2, 2, 1), BAD);
    MISUSE(clnn_init_xavier_uniform, clnn_init_xavier_uniform(NULL, 1, 1), BAD);
    MISUSE(clnn_init_xavier_uniform, clnn_init_xavier_uniform(t34, NAN, 1), BAD);
    MISUSE(clnn_init_xavier_uniform, clnn_init_xavier_uniform(t12, 1, 1), SHAPE); /* 1-D */
    MISUSE(clnn_init_xavier_normal, clnn_init_xavier_normal(NULL, 1, 1), BAD);
    MISUSE(clnn_init_xavier_normal, clnn_init_xavier_normal(t34, -1, 1), BAD);
    MISUSE(clnn_init_kaiming_uniform,
           clnn_init_kaiming_uniform(NULL, 0, CLNN_FAN_IN, CLNN_NONLINEARITY_RELU, 1), BAD);
    MISUSE(clnn_init_kaiming_uniform,
           clnn_init_kaiming_uniform(t34, 0, CLNN_FAN_MODE_COUNT, CLNN_NONLINEARITY_RELU, 1), BAD);
    MISUSE(clnn_init_kaiming_uniform,
           clnn_init_kaiming_uniform(t34, 0, CLNN_FAN_IN, CLNN_NONLINEARITY_COUNT, 1), BAD);
    MISUSE(clnn_init_kaiming_normal,
           clnn_init_kaiming_normal(NULL, 0, CLNN_FAN_IN, CLNN_NONLINEARITY_RELU, 1), BAD);
    MISUSE(clnn_init_kaiming_normal,
           clnn_init_kaiming_normal(t34, NAN, CLNN_FAN_IN, CLNN_NONLINEARITY_LEAKY_RELU, 1), BAD);
    MISUSE(clnn_init_kaiming_normal,
           clnn_init_kaiming_normal(t12, 0, CLNN_FAN_IN, CLNN_NONLINEARITY_RELU, 1), SHAPE);
    MISUSE(clnn_init_lecun_uniform, clnn_init_lecun_uniform(NULL, 1), BAD);
    MISUSE(clnn_init_lecun_uniform, clnn_init_lecun_uniform(t12, 1), SHAPE);
    MISUSE(clnn_init_lecun_normal, clnn_init_lecun_normal(NULL, 1), BAD);
    MISUSE(clnn_init_lecun_normal, clnn_init_lecun_normal(t12, 1), SHAPE);
    MISUSE(clnn_init_orthogonal, clnn_init_orthogonal(NULL, 1, 1), BAD);
    MISUSE(clnn_init_orthogonal, clnn_init_orthogonal(t34, NAN, 1), BAD);
    MISUSE(clnn_init_orthogonal, clnn_init_orthogonal(t12, 1, 1), SHAPE);

    MISUSE(clnn_dropout_forward, clnn_dropout_forward(NULL, t34b, 0.5f, 1, 1, 0), BAD);
    MISUSE(clnn_dropout_forward, clnn_dropout_forward(t34, NULL, 0.5f, 1, 1, 0), BAD);
    MISUSE(clnn_dropout_forward, clnn_dropout_forward(t34, t34b, 1.5f, 1, 1, 0), BAD);
    MISUSE(clnn_dropout_forward, clnn_dropout_forward(t34, t34b, -0.5f, 1, 1, 0), BAD);
    MISUSE(clnn_dropout_forward, clnn_dropout_forward(t34, t34b, NAN, 1, 1, 0), BAD);
    MISUSE(clnn_dropout_forward, clnn_dropout_forward(t34, t43, 0.5f, 1, 1, 0), SHAPE);
    MISUSE(clnn_dropout_forward, clnn_dropout_forward(t34, foreign_t, 0.5f, 1, 1, 0), FOREIGN);
    MISUSE(clnn_dropout_backward, clnn_dropout_backward(NULL, t34b, 0.5f, 1, 1, 0, 0), BAD);
    MISUSE(clnn_dropout_backward, clnn_dropout_backward(t34, t34b, 2.0f, 1, 1, 0, 0), BAD);
    MISUSE(clnn_dropout_backward, clnn_dropout_backward(t34, t34b, 0.5f, 1, 1, 0, NAN), BAD);
    MISUSE(clnn_dropout_backward, clnn_dropout_backward(t34, t12, 0.5f, 1, 1, 0, 0), SHAPE);
    unsigned char keep[4] = {9, 9, 9, 9};
    MISUSE(clnn_dropout_mask_host, clnn_dropout_mask_host(4, 0.5f, 1, 0, NULL), BAD);
    MISUSE(clnn_dropout_mask_host, clnn_dropout_mask_host(4, 1.5f, 1, 0, keep), BAD);
    MISUSE(clnn_dropout_mask_host, clnn_dropout_mask_host(4, NAN, 1, 0, keep), BAD);
    assert_int_equal(keep[0], 9);
}

/* ---- optim.h
 * ------------------------------------------------------------------------------------- */

static void test_optim(void **state)
{
    (void)state;
    clnn_context *ctx = clnn_test_ctx;
    MISUSE_VALUE(clnn_optimizer_kind_string,
                 clnn_optimizer_kind_string((clnn_optimizer_kind)99) != NULL);
    clnn_optimizer_options options, untouched;
    memset(&options, 0x5a, sizeof options);
    untouched = options;
    MISUSE(clnn_optimizer_options_init, clnn_optimizer_options_init(NULL, CLNN_OPTIMIZER_SGD), BAD);
    MISUSE(clnn_optimizer_options_init,
           clnn_optimizer_options_init(&options, (clnn_optimizer_kind)99), BAD);
    assert_memory_equal(&options, &untouched, sizeof options);
    clnn_optimizer_options adam;
    CLNN_ASSERT_OK(clnn_optimizer_options_init(&adam, CLNN_OPTIMIZER_ADAM));
    clnn_optimizer_options bad = adam;
    bad.lr = NAN;
    clnn_tensor *params[2] = {t34, t34}, *one[1] = {t34}, *mixed[2] = {t34, foreign_t};
    clnn_optimizer *opt = (clnn_optimizer *)0x1;
    MISUSE(clnn_optimizer_create, clnn_optimizer_create(NULL, &adam, one, 1, &opt), BAD);
    MISUSE(clnn_optimizer_create, clnn_optimizer_create(ctx, NULL, one, 1, &opt), BAD);
    MISUSE(clnn_optimizer_create, clnn_optimizer_create(ctx, &adam, NULL, 1, &opt), BAD);
    MISUSE(clnn_optimizer_create, clnn_optimizer_create(ctx, &adam, one, 1, NULL), BAD);
    MISUSE(clnn_optimizer_create, clnn_optimizer_create(ctx, &adam, one, 0, &opt), BAD);
    MISUSE(clnn_optimizer_create, clnn_optimizer_create(ctx, &bad, one, 1, &opt), BAD);
    MISUSE(clnn_optimizer_create, clnn_optimizer_create(ctx, &adam, params, 2, &opt), BAD);
    MISUSE(clnn_optimizer_create, clnn_optimizer_create(ctx, &adam, mixed, 2, &opt), FOREIGN);
    MISUSE(clnn_optimizer_create, clnn_optimizer_create(ctx, &options, one, 1, &opt), BAD);
    assert_ptr_equal(opt, (clnn_optimizer *)0x1);
    MISUSE(clnn_optimizer_destroy, clnn_optimizer_destroy(NULL), CLNN_SUCCESS);

    /* A real optimiser over t34b, for the calls that need one; t34b is restored at the end. */
    clnn_tensor *p[1] = {t34b};
    CLNN_ASSERT_OK(clnn_optimizer_create(ctx, &adam, p, 1, &opt));
    clnn_tensor *grads2[2] = {t34, t34}, *wrong[1] = {t43}, *foreign[1] = {foreign_t};
    MISUSE(clnn_optimizer_step, clnn_optimizer_step(NULL, p, 1), BAD);
    MISUSE(clnn_optimizer_step, clnn_optimizer_step(opt, NULL, 1), BAD);
    MISUSE(clnn_optimizer_step, clnn_optimizer_step(opt, grads2, 2), SHAPE);
    MISUSE(clnn_optimizer_step, clnn_optimizer_step(opt, wrong, 1), SHAPE);
    MISUSE(clnn_optimizer_step, clnn_optimizer_step(opt, foreign, 1), FOREIGN);
    MISUSE(clnn_optimizer_set_lr, clnn_optimizer_set_lr(NULL, 0.1), BAD);
    MISUSE(clnn_optimizer_set_lr, clnn_optimizer_set_lr(opt, -0.1), BAD);
    MISUSE(clnn_optimizer_set_lr, clnn_optimizer_set_lr(opt, NAN), BAD);
    double lr = 5.0;
    MISUSE(clnn_optimizer_get_lr, clnn_optimizer_get_lr(NULL, &lr), BAD);
    MISUSE(clnn_optimizer_get_lr, clnn_optimizer_get_lr(opt, NULL), BAD);
    assert_true(lr == 5.0);
    MISUSE(clnn_optimizer_get_options, clnn_optimizer_get_options(NULL, &options), BAD);
    MISUSE(clnn_optimizer_get_options, clnn_optimizer_get_options(opt, NULL), BAD);
    uint64_t step = 5;
    MISUSE(clnn_optimizer_get_step, clnn_optimizer_get_step(NULL, &step), BAD);
    MISUSE(clnn_optimizer_get_step, clnn_optimizer_get_step(opt, NULL), BAD);
    MISUSE(clnn_optimizer_set_step, clnn_optimizer_set_step(NULL, 1), BAD);
    MISUSE(clnn_optimizer_set_step, clnn_optimizer_set_step(opt, UINT64_MAX), BAD);
    CLNN_ASSERT_OK(clnn_optimizer_get_step(opt, &step));
    assert_int_equal(step, 0);
    size_t count = 777;
    MISUSE(clnn_optimizer_param_count, clnn_optimizer_param_count(NULL, &count), BAD);
    MISUSE(clnn_optimizer_param_count, clnn_optimizer_param_count(opt, NULL), BAD);
    MISUSE(clnn_optimizer_state_count, clnn_optimizer_state_count(NULL, &count), BAD);
    MISUSE(clnn_optimizer_state_count, clnn_optimizer_state_count(opt, NULL), BAD);
    assert_int_equal(count, 777);
    const char *name = "kept";
    MISUSE(clnn_optimizer_state_name, clnn_optimizer_state_name(NULL, 0, &name), BAD);
    MISUSE(clnn_optimizer_state_name, clnn_optimizer_state_name(opt, 0, NULL), BAD);
    MISUSE(clnn_optimizer_state_name, clnn_optimizer_state_name(opt, SIZE_MAX, &name),
           CLNN_ERR_OUT_OF_RANGE);
    assert_string_equal(name, "kept");
    size_t slot = 777;
    MISUSE(clnn_optimizer_find_state, clnn_optimizer_find_state(NULL, "exp_avg", &slot), BAD);
    MISUSE(clnn_optimizer_find_state, clnn_optimizer_find_state(opt, NULL, &slot), BAD);
    MISUSE(clnn_optimizer_find_state, clnn_optimizer_find_state(opt, "exp_avg", NULL), BAD);
    MISUSE(clnn_optimizer_find_state, clnn_optimizer_find_state(opt, "no_such", &slot),
           CLNN_ERR_OUT_OF_RANGE);
    assert_int_equal(slot, 777);
    clnn_tensor *state_t = (clnn_tensor *)0x1;
    MISUSE(clnn_optimizer_get_state, clnn_optimizer_get_state(NULL, 0, 0, &state_t), BAD);
    MISUSE(clnn_optimizer_get_state, clnn_optimizer_get_state(opt, 0, 0, NULL), BAD);
    MISUSE(clnn_optimizer_get_state, clnn_optimizer_get_state(opt, 1, 0, &state_t),
           CLNN_ERR_OUT_OF_RANGE);
    MISUSE(clnn_optimizer_get_state, clnn_optimizer_get_state(opt, 0, SIZE_MAX, &state_t),
           CLNN_ERR_OUT_OF_RANGE);
    assert_ptr_equal(state_t, (clnn_tensor *)0x1);
    clnn_optimizer_destroy(opt);

    clnn_lr_schedule schedule, kept;
    memset(&schedule, 0x5a, sizeof schedule);
    kept = schedule;
    MISUSE(clnn_lr_schedule_init, clnn_lr_schedule_init(NULL, CLNN_LR_CONSTANT, 0.1), BAD);
    MISUSE(clnn_lr_schedule_init,
           clnn_lr_schedule_init(&schedule, CLNN_LR_SCHEDULE_KIND_COUNT, 0.1), BAD);
    MISUSE(clnn_lr_schedule_init, clnn_lr_schedule_init(&schedule, CLNN_LR_CONSTANT, -1.0), BAD);
    MISUSE(clnn_lr_schedule_init, clnn_lr_schedule_init(&schedule, CLNN_LR_CONSTANT, NAN), BAD);
    assert_memory_equal(&schedule, &kept, sizeof schedule);
    lr = 5.0;
    MISUSE(clnn_lr_schedule_value, clnn_lr_schedule_value(NULL, 0, &lr), BAD);
    CLNN_ASSERT_OK(clnn_lr_schedule_init(&schedule, CLNN_LR_COSINE, 0.1));
    MISUSE(clnn_lr_schedule_value, clnn_lr_schedule_value(&schedule, 0, NULL), BAD);
    schedule.t_max = 0;
    MISUSE(clnn_lr_schedule_value, clnn_lr_schedule_value(&schedule, 0, &lr), BAD);
    assert_true(lr == 5.0);
}

/* ---- data.h
 * -------------------------------------------------------------------------------------- */

static void test_data(void **state)
{
    (void)state;
    MISUSE_VALUE(clnn_idx_type_size, clnn_idx_type_size((clnn_idx_type)0x42) == 0);
    MISUSE_VALUE(clnn_data_default_dir, clnn_data_default_dir() != NULL);
    clnn_idx idx, untouched;
    memset(&idx, 0x5a, sizeof idx);
    untouched = idx;
    MISUSE(clnn_idx_read, clnn_idx_read(NULL, &idx), BAD);
    MISUSE(clnn_idx_read, clnn_idx_read("/nonexistent/x.idx", NULL), BAD);
    MISUSE(clnn_idx_read, clnn_idx_read("/nonexistent/x.idx", &idx), CLNN_ERR_IO);
    MISUSE(clnn_idx_read, clnn_idx_read("/", &idx), CLNN_ERR_IO);
    assert_memory_equal(&idx, &untouched, sizeof idx);
    unsigned char bytes[4] = {1, 2, 3, 4};
    clnn_idx good = {CLNN_IDX_UINT8, 1, {4, 1, 1, 1, 1, 1, 1, 1}, 4, 1, bytes};
    clnn_idx lying = good;
    lying.count = 5;
    clnn_idx huge = good;
    huge.dims[0] = SIZE_MAX;
    huge.count = SIZE_MAX;
    MISUSE(clnn_idx_write, clnn_idx_write(NULL, &good, 0), BAD);
    MISUSE(clnn_idx_write, clnn_idx_write("/nonexistent/x.idx", NULL, 0), BAD);
    MISUSE(clnn_idx_write, clnn_idx_write("/nonexistent/x.idx", &lying, 0), BAD);
    MISUSE(clnn_idx_write, clnn_idx_write("/nonexistent/x.idx", &huge, 0), BAD);
    MISUSE(clnn_idx_write, clnn_idx_write("/nonexistent/x.idx", &good, 0), CLNN_ERR_IO);
    MISUSE(clnn_idx_release, clnn_idx_release(NULL), CLNN_SUCCESS);

    clnn_dataset ds, kept;
    memset(&ds, 0x5a, sizeof ds);
    kept = ds;
    MISUSE(clnn_dataset_load_idx, clnn_dataset_load_idx(NULL, "l", 10, &ds), BAD);
    MISUSE(clnn_dataset_load_idx, clnn_dataset_load_idx("i", NULL, 10, &ds), BAD);
    MISUSE(clnn_dataset_load_idx, clnn_dataset_load_idx("i", "l", 10, NULL), BAD);
    MISUSE(clnn_dataset_load_idx,
           clnn_dataset_load_idx("/nonexistent/i", "/nonexistent/l", -1, &ds), BAD);
    MISUSE(clnn_dataset_load_idx,
           clnn_dataset_load_idx("/nonexistent/i", "/nonexistent/l", 10, &ds), CLNN_ERR_IO);
    /* (a NULL directory is the default one) */
    MISUSE(clnn_dataset_load_idx_dir,
           clnn_dataset_load_idx_dir("/nonexistent", "validation", 10, &ds), BAD);
    MISUSE(clnn_dataset_load_idx_dir, clnn_dataset_load_idx_dir("/nonexistent", NULL, 10, &ds),
           BAD);
    MISUSE(clnn_dataset_load_idx_dir, clnn_dataset_load_idx_dir("/nonexistent", "train", 10, NULL),
           BAD);
    MISUSE(clnn_dataset_load_idx_dir, clnn_dataset_load_idx_dir("/nonexistent", "train", 10, &ds),
           CLNN_ERR_IO);
    assert_memory_equal(&ds, &kept, sizeof ds);

    /* a small dataset of 4 samples of 3 features, built by hand */
    float x[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    int32_t y[4] = {0, 1, 2, 1};
    clnn_dataset small = {4, 3, 1, {3, 1, 1, 1, 1, 1, 1}, 3, x, y};
    MISUSE(clnn_dataset_slice, clnn_dataset_slice(NULL, 0, 1, &ds), BAD);
    MISUSE(clnn_dataset_slice, clnn_dataset_slice(&small, 0, 1, NULL), BAD);
    MISUSE(clnn_dataset_slice, clnn_dataset_slice(&small, 3, 2, &ds), CLNN_ERR_OUT_OF_RANGE);
    MISUSE(clnn_dataset_slice, clnn_dataset_slice(&small, SIZE_MAX, 2, &ds), CLNN_ERR_OUT_OF_RANGE);
    MISUSE(clnn_dataset_slice, clnn_dataset_slice(&small, 1, SIZE_MAX, &ds), CLNN_ERR_OUT_OF_RANGE);
    assert_memory_equal(&ds, &kept, sizeof ds);
    MISUSE(clnn_dataset_release, clnn_dataset_release(NULL), CLNN_SUCCESS);
    float mean[3] = {9, 9, 9}, std[3] = {9, 9, 9};
    MISUSE(clnn_dataset_feature_stats, clnn_dataset_feature_stats(NULL, 1e-3f, mean, std, 3), BAD);
    MISUSE(clnn_dataset_feature_stats, clnn_dataset_feature_stats(&small, 1e-3f, NULL, std, 3),
           BAD);
    MISUSE(clnn_dataset_feature_stats, clnn_dataset_feature_stats(&small, 0.0f, mean, std, 3), BAD);
    MISUSE(clnn_dataset_feature_stats, clnn_dataset_feature_stats(&small, NAN, mean, std, 3), BAD);
    MISUSE(clnn_dataset_feature_stats, clnn_dataset_feature_stats(&small, 1e-3f, mean, std, 2),
           SHAPE);
    assert_true(mean[0] == 9 && std[2] == 9);
    float zero_std[3] = {1, 0, 1};
    MISUSE(clnn_dataset_normalize, clnn_dataset_normalize(NULL, mean, std, 3), BAD);
    MISUSE(clnn_dataset_normalize, clnn_dataset_normalize(&small, NULL, std, 3), BAD);
    MISUSE(clnn_dataset_normalize, clnn_dataset_normalize(&small, mean, std, 4), SHAPE);
    MISUSE(clnn_dataset_normalize, clnn_dataset_normalize(&small, mean, zero_std, 3), BAD);
    MISUSE(clnn_dataset_scale, clnn_dataset_scale(NULL, 255.0f), BAD);
    MISUSE(clnn_dataset_scale, clnn_dataset_scale(&small, 0.0f), BAD);
    MISUSE(clnn_dataset_scale, clnn_dataset_scale(&small, NAN), BAD);
    for (int i = 0; i < 12; ++i)
        assert_true(x[i] == (float)i);
    size_t perm[4] = {9, 9, 9, 9};
    MISUSE(clnn_shuffle_permutation, clnn_shuffle_permutation(1, 0, 4, NULL), BAD);
    MISUSE(clnn_shuffle_permutation, clnn_shuffle_permutation(1, 0, SIZE_MAX, perm), OVERFLOW);
    assert_int_equal(perm[0], 9);
    size_t order[4] = {0, 1, 2, 3}, bad_order[4] = {0, 1, 2, 4}, rows = 99;
    float batch[12];
    int32_t labels[4];
    MISUSE(clnn_dataset_gather, clnn_dataset_gather(NULL, order, 4, 0, 2, batch, labels, &rows),
           BAD);
    MISUSE(clnn_dataset_gather, clnn_dataset_gather(&small, NULL, 5, 0, 2, batch, labels, &rows),
           CLNN_ERR_OUT_OF_RANGE); /* a NULL perm is the identity, of at most count */
    MISUSE(clnn_dataset_gather, clnn_dataset_gather(&small, order, 4, 0, 2, NULL, labels, &rows),
           BAD);
    MISUSE(clnn_dataset_gather, clnn_dataset_gather(&small, order, 4, 0, 0, batch, labels, &rows),
           BAD);
    MISUSE(clnn_dataset_gather, clnn_dataset_gather(&small, order, 4, 4, 2, batch, labels, &rows),
           CLNN_ERR_OUT_OF_RANGE);
    MISUSE(clnn_dataset_gather,
           clnn_dataset_gather(&small, bad_order, 4, 2, 2, batch, labels, &rows),
           CLNN_ERR_OUT_OF_RANGE);
    assert_int_equal(rows, 99);
}

/* ---- mlp.h
 * --------------------------------------------------------------------------------------- */

static void test_mlp(void **state)
{
    (void)state;
    clnn_context *ctx = clnn_test_ctx;
    MISUSE_VALUE(clnn_mlp_loss_name,
                 strcmp(clnn_mlp_loss_name(CLNN_MLP_LOSS_COUNT), "unknown") == 0);
    clnn_mlp_spec spec;
    MISUSE(clnn_mlp_spec_init, clnn_mlp_spec_init(NULL, 4, 3), BAD);
    MISUSE(clnn_mlp_spec_init, clnn_mlp_spec_init(&spec, 0, 3), SHAPE);
    MISUSE(clnn_mlp_spec_init, clnn_mlp_spec_init(&spec, 4, SIZE_MAX), OVERFLOW);
    CLNN_ASSERT_OK(clnn_mlp_spec_init(&spec, 4, 3));
    MISUSE(clnn_mlp_spec_add_layer, clnn_mlp_spec_add_layer(NULL, 5, CLNN_ACTIVATION_RELU, 0, 0.0f),
           BAD);
    MISUSE(clnn_mlp_spec_add_layer,
           clnn_mlp_spec_add_layer(&spec, 5, CLNN_ACTIVATION_COUNT, 0, 0.0f), BAD);
    MISUSE(clnn_mlp_spec_add_layer,
           clnn_mlp_spec_add_layer(&spec, 0, CLNN_ACTIVATION_RELU, 0, 0.0f), SHAPE);
    MISUSE(clnn_mlp_spec_add_layer, clnn_mlp_spec_add_layer(&spec, 5, CLNN_ACTIVATION_RELU, 0, NAN),
           BAD);
    assert_int_equal(spec.hidden_count, 0);
    CLNN_ASSERT_OK(clnn_mlp_spec_add_layer(&spec, 5, CLNN_ACTIVATION_RELU, 1, 0.0f));
    MISUSE(clnn_mlp_train_options_init, clnn_mlp_train_options_init(NULL), BAD);
    clnn_mlp_train_options train;
    CLNN_ASSERT_OK(clnn_mlp_train_options_init(&train));
    train.clip_norm = -1.0f;
    clnn_mlp *mlp = (clnn_mlp *)0x1;
    MISUSE(clnn_mlp_create, clnn_mlp_create(NULL, &spec, NULL, 4, &mlp), BAD);
    MISUSE(clnn_mlp_create, clnn_mlp_create(ctx, NULL, NULL, 4, &mlp), BAD);
    MISUSE(clnn_mlp_create, clnn_mlp_create(ctx, &spec, NULL, 4, NULL), BAD);
    MISUSE(clnn_mlp_create, clnn_mlp_create(ctx, &spec, NULL, 0, &mlp), BAD);
    MISUSE(clnn_mlp_create, clnn_mlp_create(ctx, &spec, NULL, SIZE_MAX, &mlp), BAD);
    MISUSE(clnn_mlp_create, clnn_mlp_create(ctx, &spec, &train, 4, &mlp), BAD);
    clnn_mlp_spec wide = spec;
    wide.hidden[0].width = SIZE_MAX;
    MISUSE(clnn_mlp_create, clnn_mlp_create(ctx, &wide, NULL, 4, &mlp), OVERFLOW);
    assert_ptr_equal(mlp, (clnn_mlp *)0x1);
    MISUSE(clnn_mlp_destroy, clnn_mlp_destroy(NULL), CLNN_SUCCESS);

    CLNN_ASSERT_OK(clnn_mlp_create(ctx, &spec, NULL, 4, &mlp));
    clnn_mlp_spec got;
    memset(&got, 0x5a, sizeof got);
    clnn_mlp_spec got_before = got;
    clnn_network *network = NULL;
    MISUSE(clnn_mlp_get_network, clnn_mlp_get_network(NULL, &network), BAD);
    MISUSE(clnn_mlp_get_network, clnn_mlp_get_network(mlp, NULL), BAD);
    assert_null(network);
    MISUSE(clnn_mlp_get_spec, clnn_mlp_get_spec(NULL, &got), BAD);
    MISUSE(clnn_mlp_get_spec, clnn_mlp_get_spec(mlp, NULL), BAD);
    assert_memory_equal(&got, &got_before, sizeof got);
    size_t count = 777;
    MISUSE(clnn_mlp_parameter_count, clnn_mlp_parameter_count(NULL, &count), BAD);
    MISUSE(clnn_mlp_parameter_count, clnn_mlp_parameter_count(mlp, NULL), BAD);
    clnn_tensor *params[1] = {NULL};
    MISUSE(clnn_mlp_get_parameters, clnn_mlp_get_parameters(NULL, params, NULL, 1, &count), BAD);
    MISUSE(clnn_mlp_get_parameters, clnn_mlp_get_parameters(mlp, params, NULL, 1, NULL), BAD);
    MISUSE(clnn_mlp_get_parameters, clnn_mlp_get_parameters(mlp, params, NULL, 1, &count), BAD);
    assert_null(params[0]);
    uint64_t step = 5;
    MISUSE(clnn_mlp_get_step, clnn_mlp_get_step(NULL, &step), BAD);
    MISUSE(clnn_mlp_get_step, clnn_mlp_get_step(mlp, NULL), BAD);
    MISUSE(clnn_mlp_set_lr, clnn_mlp_set_lr(NULL, 0.1), BAD);
    MISUSE(clnn_mlp_set_lr, clnn_mlp_set_lr(mlp, NAN), BAD);
    float x[5 * 4] = {0}, out[5 * 3];
    int32_t labels[5] = {0, 1, 2, 0, 1}, bad_labels[4] = {0, 1, 3, 0};
    clnn_mlp_step_info info;
    memset(&info, 0x5a, sizeof info);
    clnn_mlp_step_info info_before = info;
    MISUSE(clnn_mlp_train_step, clnn_mlp_train_step(NULL, x, labels, 4, &info), BAD);
    MISUSE(clnn_mlp_train_step, clnn_mlp_train_step(mlp, NULL, labels, 4, &info), BAD);
    MISUSE(clnn_mlp_train_step, clnn_mlp_train_step(mlp, x, NULL, 4, &info), BAD);
    MISUSE(clnn_mlp_train_step, clnn_mlp_train_step(mlp, x, labels, 5, &info), SHAPE);
    MISUSE(clnn_mlp_train_step, clnn_mlp_train_step(mlp, x, labels, SIZE_MAX, &info), SHAPE);
    MISUSE(clnn_mlp_train_step, clnn_mlp_train_step(mlp, x, labels, 1, &info), SHAPE);
    MISUSE(clnn_mlp_train_step, clnn_mlp_train_step(mlp, x, bad_labels, 4, &info),
           CLNN_ERR_OUT_OF_RANGE);
    assert_memory_equal(&info, &info_before, sizeof info);
    double loss = 5.0;
    size_t correct = 5;
    MISUSE(clnn_mlp_evaluate, clnn_mlp_evaluate(NULL, x, labels, 4, &loss, &correct), BAD);
    MISUSE(clnn_mlp_evaluate, clnn_mlp_evaluate(mlp, x, NULL, 4, &loss, &correct), BAD);
    MISUSE(clnn_mlp_evaluate, clnn_mlp_evaluate(mlp, x, labels, 0, &loss, &correct), SHAPE);
    MISUSE(clnn_mlp_evaluate, clnn_mlp_evaluate(mlp, x, bad_labels, 4, &loss, &correct),
           CLNN_ERR_OUT_OF_RANGE);
    assert_true(loss == 5.0 && correct == 5);
    out[0] = 42.0f;
    MISUSE(clnn_mlp_predict, clnn_mlp_predict(NULL, x, 4, out), BAD);
    MISUSE(clnn_mlp_predict, clnn_mlp_predict(mlp, x, 4, NULL), BAD);
    MISUSE(clnn_mlp_predict, clnn_mlp_predict(mlp, x, 5, out), SHAPE);
    assert_true(out[0] == 42.0f);
    MISUSE(clnn_mlp_health_options_init, clnn_mlp_health_options_init(NULL), BAD);
    clnn_mlp_health_options options;
    CLNN_ASSERT_OK(clnn_mlp_health_options_init(&options));
    options.exploding_norm = NAN;
    static clnn_mlp_health health;
    MISUSE(clnn_mlp_train_step_health,
           clnn_mlp_train_step_health(NULL, x, labels, 4, NULL, NULL, &health), BAD);
    MISUSE(clnn_mlp_train_step_health,
           clnn_mlp_train_step_health(mlp, x, labels, 4, NULL, NULL, NULL), BAD);
    MISUSE(clnn_mlp_train_step_health,
           clnn_mlp_train_step_health(mlp, x, labels, 4, &options, NULL, &health), BAD);
    MISUSE(clnn_mlp_train_step_health,
           clnn_mlp_train_step_health(mlp, x, labels, 9, NULL, NULL, &health), SHAPE);
    MISUSE(clnn_mlp_probe_health, clnn_mlp_probe_health(NULL, x, labels, 4, NULL, &health), BAD);
    MISUSE(clnn_mlp_probe_health, clnn_mlp_probe_health(mlp, x, NULL, 4, NULL, &health), BAD);
    MISUSE(clnn_mlp_probe_health, clnn_mlp_probe_health(mlp, x, labels, 4, &options, &health), BAD);
    CLNN_ASSERT_OK(clnn_mlp_get_step(mlp, &step));
    assert_int_equal(step, 0);
    MISUSE(clnn_mlp_save, clnn_mlp_save(NULL, "/tmp/x.ckpt", NULL, 0), BAD);
    MISUSE(clnn_mlp_save, clnn_mlp_save(mlp, NULL, NULL, 0), BAD);
    MISUSE(clnn_mlp_save, clnn_mlp_save(mlp, "/tmp/x.ckpt", NULL, 5), BAD);
    MISUSE(clnn_mlp_save, clnn_mlp_save(mlp, "/tmp/x.ckpt", x, SIZE_MAX), BAD);
    MISUSE(clnn_mlp_save, clnn_mlp_save(mlp, "/nonexistent/x.ckpt", NULL, 0), CLNN_ERR_IO);
    char user[8] = "kept";
    size_t user_size = 777;
    MISUSE(clnn_mlp_load, clnn_mlp_load(NULL, "/tmp/x.ckpt", user, sizeof user, &user_size), BAD);
    MISUSE(clnn_mlp_load, clnn_mlp_load(mlp, NULL, user, sizeof user, &user_size), BAD);
    MISUSE(clnn_mlp_load, clnn_mlp_load(mlp, "/nonexistent/x.ckpt", user, sizeof user, &user_size),
           CLNN_ERR_IO);
    MISUSE(clnn_mlp_load, clnn_mlp_load(mlp, "/", user, sizeof user, &user_size), CLNN_ERR_IO);
    assert_string_equal(user, "kept");
    assert_int_equal(user_size, 777);
    clnn_mlp_destroy(mlp);
}

/* ---- network.h and int32 tensors ------------------------------------------------------------
 */
static void test_network(void **state)
{
    (void)state;
    clnn_context *ctx = clnn_test_ctx;
    clnn_tensor *labels = NULL;
    size_t d4 = 4;
    MISUSE(clnn_tensor_create_int32, clnn_tensor_create_int32(NULL, 1, &d4, &labels), BAD);
    MISUSE(clnn_tensor_create_int32, clnn_tensor_create_int32(ctx, 1, &d4, NULL), BAD);
    MISUSE(clnn_tensor_create_int32, clnn_tensor_create_int32(ctx, 2, huge_dims, &labels),
           OVERFLOW);
    assert_null(labels);
    CLNN_ASSERT_OK(clnn_tensor_create_int32(ctx, 1, &d4, &labels));
    int32_t ints[4] = {0, 1, 2, 0};
    float floats[12];
    MISUSE(clnn_tensor_upload_int32, clnn_tensor_upload_int32(NULL, ints, 4), BAD);
    MISUSE(clnn_tensor_upload_int32, clnn_tensor_upload_int32(labels, NULL, 4), BAD);
    MISUSE(clnn_tensor_upload_int32, clnn_tensor_upload_int32(labels, ints, 5), SHAPE);
    MISUSE(clnn_tensor_upload_int32, clnn_tensor_upload_int32(v4, ints, 4), BAD); /* floats */
    MISUSE(clnn_tensor_download_int32, clnn_tensor_download_int32(NULL, ints, 4), BAD);
    MISUSE(clnn_tensor_download_int32, clnn_tensor_download_int32(labels, NULL, 4), BAD);
    MISUSE(clnn_tensor_download_int32, clnn_tensor_download_int32(v4, ints, 4), BAD);
    MISUSE(clnn_tensor_download, clnn_tensor_download(labels, floats, 4), BAD); /* int32 */
    MISUSE(clnn_tensor_fill, clnn_tensor_fill(labels, 1.0f), BAD);
    clnn_dtype dtype = CLNN_DTYPE_COUNT;
    MISUSE(clnn_tensor_get_dtype, clnn_tensor_get_dtype(NULL, &dtype), BAD);
    MISUSE(clnn_tensor_get_dtype, clnn_tensor_get_dtype(labels, NULL), BAD);
    assert_int_equal(dtype, CLNN_DTYPE_COUNT);
    MISUSE(clnn_activation_forward, clnn_activation_forward(ctx, NULL, labels, v4), BAD);

    MISUSE_VALUE(clnn_layer_type_name,
                 strcmp(clnn_layer_type_name(CLNN_LAYER_TYPE_COUNT), "unknown") == 0);
    MISUSE_VALUE(clnn_loss_kind_name, strcmp(clnn_loss_kind_name((clnn_loss_kind)-1), "unknown") == 0);
    clnn_layer_spec layer;
    MISUSE(clnn_layer_spec_init, clnn_layer_spec_init(NULL, CLNN_LAYER_DENSE), BAD);
    MISUSE(clnn_layer_spec_init, clnn_layer_spec_init(&layer, CLNN_LAYER_TYPE_COUNT), BAD);
    MISUSE(clnn_train_options_init, clnn_train_options_init(NULL), BAD);
    MISUSE(clnn_network_options_init, clnn_network_options_init(NULL), BAD);
    MISUSE(clnn_health_options_init, clnn_health_options_init(NULL), BAD);

    clnn_network_spec *spec = NULL;
    size_t d3 = 3, huge = SIZE_MAX;
    MISUSE(clnn_network_spec_create, clnn_network_spec_create(NULL, 1, &d3), BAD);
    MISUSE(clnn_network_spec_create, clnn_network_spec_create(&spec, 1, NULL), BAD);
    MISUSE(clnn_network_spec_create, clnn_network_spec_create(&spec, 4, huge_dims), SHAPE);
    MISUSE(clnn_network_spec_create, clnn_network_spec_create(&spec, 1, &huge), OVERFLOW);
    assert_null(spec);
    MISUSE(clnn_network_spec_destroy, clnn_network_spec_destroy(NULL), CLNN_SUCCESS);
    CLNN_ASSERT_OK(clnn_network_spec_create(&spec, 1, &d3));
    clnn_activation_desc bad_act;
    CLNN_ASSERT_OK(clnn_activation_desc_init(&bad_act, CLNN_ACTIVATION_ELU));
    bad_act.alpha = NAN;
    CLNN_ASSERT_OK(clnn_layer_spec_init(&layer, CLNN_LAYER_DENSE));
    MISUSE(clnn_network_spec_add, clnn_network_spec_add(NULL, &layer), BAD);
    MISUSE(clnn_network_spec_add, clnn_network_spec_add(spec, NULL), BAD);
    MISUSE(clnn_network_spec_add, clnn_network_spec_add(spec, &layer), SHAPE); /* 0 units */
    MISUSE(clnn_network_spec_add_dense, clnn_network_spec_add_dense(NULL, 4, NULL), BAD);
    MISUSE(clnn_network_spec_add_dense, clnn_network_spec_add_dense(spec, SIZE_MAX, NULL),
           OVERFLOW);
    MISUSE(clnn_network_spec_add_dense, clnn_network_spec_add_dense(spec, 4, &bad_act), BAD);
    MISUSE(clnn_network_spec_add_batch_norm, clnn_network_spec_add_batch_norm(NULL, NULL), BAD);
    MISUSE(clnn_network_spec_add_batch_norm, clnn_network_spec_add_batch_norm(spec, &bad_act),
           BAD);
    MISUSE(clnn_network_spec_add_activation, clnn_network_spec_add_activation(spec, NULL), BAD);
    MISUSE(clnn_network_spec_add_activation, clnn_network_spec_add_activation(NULL, &bad_act),
           BAD);
    MISUSE(clnn_network_spec_add_dropout, clnn_network_spec_add_dropout(NULL, 0.5f), BAD);
    MISUSE(clnn_network_spec_add_dropout, clnn_network_spec_add_dropout(spec, -0.5f), BAD);
    MISUSE(clnn_network_spec_add_flatten, clnn_network_spec_add_flatten(NULL), BAD);
    MISUSE(clnn_network_spec_begin_residual, clnn_network_spec_begin_residual(NULL), BAD);
    MISUSE(clnn_network_spec_end_residual,
           clnn_network_spec_end_residual(NULL, CLNN_RESIDUAL_IDENTITY, NULL), BAD);
    MISUSE(clnn_network_spec_end_residual,
           clnn_network_spec_end_residual(spec, CLNN_RESIDUAL_IDENTITY, NULL), BAD);
    /* Convolution and pooling layers: on 2-D activations, with geometry that does not fit, and
     * texts the parser must refuse. */
    MISUSE(clnn_network_spec_add_conv2d, clnn_network_spec_add_conv2d(NULL, 4, NULL, 1, NULL),
           BAD);
    MISUSE(clnn_network_spec_add_conv2d, clnn_network_spec_add_conv2d(spec, 4, NULL, 1, NULL),
           SHAPE); /* 2-D input */
    clnn_network_spec *img = NULL;
    size_t img_dims[3] = {2, 5, 5};
    CLNN_ASSERT_OK(clnn_network_spec_create(&img, 3, img_dims));
    MISUSE(clnn_network_spec_add_conv2d, clnn_network_spec_add_conv2d(img, 4, NULL, 2, NULL),
           BAD); /* bias flag */
    MISUSE(clnn_network_spec_add_conv2d, clnn_network_spec_add_conv2d(img, 0, NULL, 1, NULL),
           SHAPE);
    clnn_conv2d_desc conv;
    CLNN_ASSERT_OK(clnn_conv2d_desc_init(&conv, 7, 3)); /* taller than the image */
    MISUSE(clnn_network_spec_add_conv2d, clnn_network_spec_add_conv2d(img, 4, &conv, 1, NULL),
           SHAPE);
    CLNN_ASSERT_OK(clnn_conv2d_desc_init(&conv, 3, 3));
    conv.groups = 3; /* divides neither 2 inputs nor 4 outputs */
    MISUSE(clnn_network_spec_add_conv2d, clnn_network_spec_add_conv2d(img, 4, &conv, 1, NULL),
           SHAPE);
    MISUSE(clnn_network_spec_add_conv2d,
           clnn_network_spec_add_conv2d(img, 4, NULL, 1, &bad_act), BAD);
    clnn_pool2d_desc pool;
    CLNN_ASSERT_OK(clnn_pool2d_desc_init(&pool, CLNN_POOL_MAX, 2, 2));
    MISUSE(clnn_network_spec_add_pool2d, clnn_network_spec_add_pool2d(NULL, &pool), BAD);
    MISUSE(clnn_network_spec_add_pool2d, clnn_network_spec_add_pool2d(img, NULL), BAD);
    MISUSE(clnn_network_spec_add_pool2d, clnn_network_spec_add_pool2d(spec, &pool), SHAPE);
    pool.padding[0] = 2; /* over half the kernel */
    MISUSE(clnn_network_spec_add_pool2d, clnn_network_spec_add_pool2d(img, &pool), SHAPE);
    MISUSE(clnn_network_spec_add_global_avg_pool, clnn_network_spec_add_global_avg_pool(NULL),
           BAD);
    MISUSE(clnn_network_spec_add_global_avg_pool, clnn_network_spec_add_global_avg_pool(spec),
           SHAPE);
    size_t img_count = 99;
    CLNN_ASSERT_OK(clnn_network_spec_get_layer_count(img, &img_count));
    assert_int_equal(img_count, 0); /* nothing refused was added */
    clnn_network_spec_destroy(img);
    img = NULL;
    MISUSE(clnn_network_spec_parse, clnn_network_spec_parse(NULL, 3, img_dims, &img), BAD);
    MISUSE(clnn_network_spec_parse, clnn_network_spec_parse("gap", 3, img_dims, NULL), BAD);
    MISUSE(clnn_network_spec_parse, clnn_network_spec_parse("gap", 3, NULL, &img), BAD);
    MISUSE(clnn_network_spec_parse, clnn_network_spec_parse("gap", 2, img_dims, &img), SHAPE);
    const char *const bad_texts[] = {
        "", "gap,", ",gap", "conv4", "conv4k", "conv4k3s", "conv4k3s1s1", "conv4k3x", "dense",
        "res[gap", "gap]", "res[]", "maxpool2ex", "gap:relu", "relu:relu", "nosuchlayer",
        "conv4k3 ", "conv99999999999k3", "dropout", "dense4:nosuch", "res[conv2k3p1]:"};
    for (size_t t = 0; t < sizeof bad_texts / sizeof bad_texts[0]; ++t)
        MISUSE(clnn_network_spec_parse, clnn_network_spec_parse(bad_texts[t], 3, img_dims, &img),
               BAD);
    MISUSE(clnn_network_spec_parse, clnn_network_spec_parse("conv4k9", 3, img_dims, &img),
           SHAPE); /* fits the grammar, not the image */
    MISUSE(clnn_network_spec_parse, clnn_network_spec_parse("res[conv3k3p1]", 3, img_dims, &img),
           SHAPE); /* identity skip across a channel change */
    assert_null(img);
    char *long_text = malloc(5000);
    assert_non_null(long_text);
    memset(long_text, 'x', 4999);
    long_text[4999] = '\0';
    MISUSE(clnn_network_spec_parse, clnn_network_spec_parse(long_text, 3, img_dims, &img), BAD);
    free(long_text);
    assert_null(img);

    size_t count = 77;
    MISUSE(clnn_network_spec_get_layer_count, clnn_network_spec_get_layer_count(NULL, &count),
           BAD);
    MISUSE(clnn_network_spec_get_layer_count, clnn_network_spec_get_layer_count(spec, NULL), BAD);
    assert_int_equal(count, 77);
    MISUSE(clnn_network_spec_get_layer, clnn_network_spec_get_layer(NULL, 0, &layer), BAD);
    MISUSE(clnn_network_spec_get_layer, clnn_network_spec_get_layer(spec, 0, NULL), BAD);
    MISUSE(clnn_network_spec_get_layer, clnn_network_spec_get_layer(spec, 0, &layer),
           CLNN_ERR_OUT_OF_RANGE);
    int ndim = 9;
    size_t dims[3];
    MISUSE(clnn_network_spec_get_output_shape,
           clnn_network_spec_get_output_shape(NULL, &ndim, dims), BAD);
    MISUSE(clnn_network_spec_get_output_shape,
           clnn_network_spec_get_output_shape(spec, NULL, dims), BAD);
    assert_int_equal(ndim, 9);

    clnn_network *net = NULL;
    MISUSE(clnn_network_create, clnn_network_create(ctx, spec, NULL, 4, &net), BAD); /* empty */
    CLNN_ASSERT_OK(clnn_network_spec_add_dense(spec, 3, NULL));
    MISUSE(clnn_network_create, clnn_network_create(NULL, spec, NULL, 4, &net), BAD);
    MISUSE(clnn_network_create, clnn_network_create(ctx, NULL, NULL, 4, &net), BAD);
    MISUSE(clnn_network_create, clnn_network_create(ctx, spec, NULL, 4, NULL), BAD);
    MISUSE(clnn_network_create, clnn_network_create(ctx, spec, NULL, 0, &net), BAD);
    MISUSE(clnn_network_create, clnn_network_create(ctx, spec, NULL, SIZE_MAX, &net), BAD);
    clnn_network_options options;
    CLNN_ASSERT_OK(clnn_network_options_init(&options));
    options.train.clip_norm = NAN;
    MISUSE(clnn_network_create, clnn_network_create(ctx, spec, &options, 4, &net), BAD);
    CLNN_ASSERT_OK(clnn_network_options_init(&options));
    options.loss = CLNN_LOSS_KIND_COUNT;
    MISUSE(clnn_network_create, clnn_network_create(ctx, spec, &options, 4, &net), BAD);
    clnn_network_spec *wide = NULL;
    size_t wide_in = (size_t)1 << 30;
    CLNN_ASSERT_OK(clnn_network_spec_create(&wide, 1, &wide_in));
    CLNN_ASSERT_OK(clnn_network_spec_add_dropout(wide, 0.1f));
    MISUSE(clnn_network_create, clnn_network_create(ctx, wide, NULL, 4, &net), OVERFLOW);
    clnn_network_spec_destroy(wide);
    assert_null(net);
    MISUSE(clnn_network_destroy, clnn_network_destroy(NULL), CLNN_SUCCESS);
    CLNN_ASSERT_OK(clnn_network_create(ctx, spec, NULL, 4, &net));

    MISUSE(clnn_network_get_shapes, clnn_network_get_shapes(NULL, &ndim, dims, NULL, NULL, NULL),
           BAD);
    size_t total = 5;
    MISUSE(clnn_network_parameter_count, clnn_network_parameter_count(NULL, &total), BAD);
    MISUSE(clnn_network_parameter_count, clnn_network_parameter_count(net, NULL), BAD);
    assert_int_equal(total, 5);
    clnn_tensor *params[1] = {NULL};
    MISUSE(clnn_network_get_parameters, clnn_network_get_parameters(NULL, params, NULL, 1, &count),
           BAD);
    MISUSE(clnn_network_get_parameters, clnn_network_get_parameters(net, params, NULL, 1, NULL),
           BAD);
    MISUSE(clnn_network_get_parameters, clnn_network_get_parameters(net, params, NULL, 1, &count),
           BAD); /* two tensors */
    assert_null(params[0]);
    uint64_t step = 5;
    MISUSE(clnn_network_get_step, clnn_network_get_step(NULL, &step), BAD);
    MISUSE(clnn_network_get_step, clnn_network_get_step(net, NULL), BAD);
    MISUSE(clnn_network_set_lr, clnn_network_set_lr(NULL, 0.1), BAD);
    MISUSE(clnn_network_set_lr, clnn_network_set_lr(net, -1.0), BAD);
    clnn_lr_schedule schedule;
    CLNN_ASSERT_OK(clnn_lr_schedule_init(&schedule, CLNN_LR_STEP, 0.1));
    schedule.step_size = 0;
    MISUSE(clnn_network_set_lr_schedule, clnn_network_set_lr_schedule(NULL, &schedule), BAD);
    MISUSE(clnn_network_set_lr_schedule, clnn_network_set_lr_schedule(net, &schedule), BAD);

    MISUSE(clnn_network_build_programs, clnn_network_build_programs(NULL), BAD);
    const unsigned both = CLNN_WARM_UP_FORWARD | CLNN_WARM_UP_BACKWARD;
    MISUSE(clnn_network_warm_up, clnn_network_warm_up(NULL, 4, both), BAD);
    MISUSE(clnn_network_warm_up, clnn_network_warm_up(net, 0, both), SHAPE);
    MISUSE(clnn_network_warm_up, clnn_network_warm_up(net, 5, both), SHAPE);
    MISUSE(clnn_network_warm_up, clnn_network_warm_up(net, 4, 0), BAD);
    MISUSE(clnn_network_warm_up, clnn_network_warm_up(net, 4, CLNN_WARM_UP_REVERSED), BAD);
    MISUSE(clnn_network_warm_up, clnn_network_warm_up(net, 4, 16u), BAD);

    float x[5 * 3] = {0}, out[5 * 3];
    int32_t good[5] = {0, 1, 2, 0, 1}, bad_labels[4] = {0, 1, 3, 0};
    clnn_step_info info;
    memset(&info, 0x5a, sizeof info);
    clnn_step_info info_before = info;
    MISUSE(clnn_network_train_step, clnn_network_train_step(NULL, x, good, 4, &info), BAD);
    MISUSE(clnn_network_train_step, clnn_network_train_step(net, NULL, good, 4, &info), BAD);
    MISUSE(clnn_network_train_step, clnn_network_train_step(net, x, NULL, 4, &info), BAD);
    MISUSE(clnn_network_train_step, clnn_network_train_step(net, x, good, 5, &info), SHAPE);
    MISUSE(clnn_network_train_step, clnn_network_train_step(net, x, good, 0, &info), SHAPE);
    MISUSE(clnn_network_train_step, clnn_network_train_step(net, x, bad_labels, 4, &info),
           CLNN_ERR_OUT_OF_RANGE);
    MISUSE(clnn_network_train_step_tensors,
           clnn_network_train_step_tensors(NULL, t43, labels, &info), BAD);
    MISUSE(clnn_network_train_step_tensors,
           clnn_network_train_step_tensors(net, NULL, labels, &info), BAD);
    MISUSE(clnn_network_train_step_tensors,
           clnn_network_train_step_tensors(net, t34, labels, &info), SHAPE);
    MISUSE(clnn_network_train_step_tensors,
           clnn_network_train_step_tensors(net, t43, v4, &info), BAD); /* float labels */
    MISUSE(clnn_network_train_step_tensors,
           clnn_network_train_step_tensors(net, foreign_t, labels, &info), FOREIGN);
    assert_memory_equal(&info, &info_before, sizeof info);
    double loss = 5.0;
    size_t correct = 5;
    MISUSE(clnn_network_evaluate, clnn_network_evaluate(NULL, x, good, 4, &loss, &correct), BAD);
    MISUSE(clnn_network_evaluate, clnn_network_evaluate(net, x, NULL, 4, &loss, &correct), BAD);
    MISUSE(clnn_network_evaluate, clnn_network_evaluate(net, x, good, 0, &loss, &correct), SHAPE);
    MISUSE(clnn_network_evaluate,
           clnn_network_evaluate(net, x, bad_labels, 4, &loss, &correct), CLNN_ERR_OUT_OF_RANGE);
    assert_true(loss == 5.0 && correct == 5);
    out[0] = 42.0f;
    MISUSE(clnn_network_predict, clnn_network_predict(NULL, x, 4, out), BAD);
    MISUSE(clnn_network_predict, clnn_network_predict(net, x, 4, NULL), BAD);
    MISUSE(clnn_network_predict, clnn_network_predict(net, NULL, 4, out), BAD);
    MISUSE(clnn_network_predict, clnn_network_predict(net, x, 5, out), SHAPE);
    assert_true(out[0] == 42.0f);
    MISUSE(clnn_network_predict_tensors, clnn_network_predict_tensors(NULL, t43, t33), BAD);
    MISUSE(clnn_network_predict_tensors, clnn_network_predict_tensors(net, t43, NULL), BAD);
    MISUSE(clnn_network_predict_tensors, clnn_network_predict_tensors(net, t43, t34), SHAPE);
    MISUSE(clnn_network_predict_tensors, clnn_network_predict_tensors(net, t34, t33), SHAPE);
    MISUSE(clnn_network_predict_tensors, clnn_network_predict_tensors(net, t43, foreign_t),
           FOREIGN);

    clnn_health_options health_options;
    CLNN_ASSERT_OK(clnn_health_options_init(&health_options));
    health_options.vanishing_ratio = -1.0f;
    clnn_network_health health;
    clnn_layer_health layers[2];
    MISUSE(clnn_network_train_step_health,
           clnn_network_train_step_health(NULL, x, good, 4, NULL, NULL, &health, layers, 2), BAD);
    MISUSE(clnn_network_train_step_health,
           clnn_network_train_step_health(net, x, good, 4, NULL, NULL, NULL, layers, 2), BAD);
    MISUSE(clnn_network_train_step_health,
           clnn_network_train_step_health(net, x, good, 4, NULL, NULL, &health, layers, 0), BAD);
    MISUSE(clnn_network_train_step_health,
           clnn_network_train_step_health(net, x, good, 4, &health_options, NULL, &health, layers,
                                          2),
           BAD);
    MISUSE(clnn_network_probe_health,
           clnn_network_probe_health(NULL, x, good, 4, NULL, &health, layers, 2), BAD);
    MISUSE(clnn_network_probe_health,
           clnn_network_probe_health(net, x, NULL, 4, NULL, &health, layers, 2), BAD);
    MISUSE(clnn_network_probe_health,
           clnn_network_probe_health(net, x, good, 9, NULL, &health, layers, 2), SHAPE);
    CLNN_ASSERT_OK(clnn_network_get_step(net, &step));
    assert_int_equal(step, 0);
    MISUSE(clnn_network_save, clnn_network_save(NULL, "/tmp/x.ckpt", NULL, 0), BAD);
    MISUSE(clnn_network_save, clnn_network_save(net, NULL, NULL, 0), BAD);
    MISUSE(clnn_network_save, clnn_network_save(net, "/tmp/x.ckpt", NULL, 5), BAD);
    MISUSE(clnn_network_save, clnn_network_save(net, "/nonexistent/x.ckpt", NULL, 0),
           CLNN_ERR_IO);
    char user[8] = "kept";
    size_t user_size = 777;
    MISUSE(clnn_network_load, clnn_network_load(NULL, "/tmp/x.ckpt", user, 8, &user_size), BAD);
    MISUSE(clnn_network_load, clnn_network_load(net, NULL, user, 8, &user_size), BAD);
    MISUSE(clnn_network_load, clnn_network_load(net, "/nonexistent/x.ckpt", user, 8, &user_size),
           CLNN_ERR_IO);
    assert_string_equal(user, "kept");
    assert_int_equal(user_size, 777);
    clnn_network_destroy(net);
    clnn_network_spec_destroy(spec);
    clnn_tensor_destroy(labels);
}

/* ---- pooling (pool.h) -------------------------------------------------------------------------
 */

/* Elements of the largest tensor below. */
#define POOL_MOST 96

/* A 4-D tensor holding the sentinel, and an int32 one holding -7. */
static clnn_tensor *pool_tensor(clnn_context *ctx, size_t n, size_t c, size_t h, size_t w)
{
    size_t dims[4] = {n, c, h, w};
    return sentinel_tensor(ctx, 4, dims);
}

static clnn_tensor *pool_int32(size_t n, size_t c, size_t h, size_t w)
{
    size_t dims[4] = {n, c, h, w};
    clnn_tensor *t = NULL;
    CLNN_ASSERT_OK(clnn_tensor_create_int32(clnn_test_ctx, 4, dims, &t));
    int32_t values[POOL_MOST];
    assert_true(n * c * h * w <= POOL_MOST);
    for (size_t i = 0; i < POOL_MOST; ++i)
        values[i] = -7;
    CLNN_ASSERT_OK(clnn_tensor_upload_int32(t, values, n * c * h * w));
    return t;
}

/* Every element still holds what pool_tensor or pool_int32 put there; then frees t. */
static void pool_check_and_free(clnn_tensor *t)
{
    size_t n = 0;
    clnn_dtype dtype;
    CLNN_ASSERT_OK(clnn_tensor_get_count(t, &n));
    CLNN_ASSERT_OK(clnn_tensor_get_dtype(t, &dtype));
    assert_true(n <= POOL_MOST);
    float f[POOL_MOST];
    int32_t k[POOL_MOST];
    if (dtype == CLNN_DTYPE_INT32) {
        CLNN_ASSERT_OK(clnn_tensor_download_int32(t, k, n));
        for (size_t i = 0; i < n; ++i)
            assert_int_equal(k[i], -7);
    } else {
        CLNN_ASSERT_OK(clnn_tensor_download(t, f, n));
        for (size_t i = 0; i < n; ++i)
            assert_true(f[i] == SENTINEL);
    }
    clnn_tensor_destroy(t);
}

static void test_pool(void **state)
{
    (void)state;
    clnn_context *ctx = clnn_test_ctx;
    MISUSE_VALUE(clnn_pool_kind_name,
                 strcmp(clnn_pool_kind_name(CLNN_POOL_KIND_COUNT), "unknown") == 0);
    MISUSE_VALUE(clnn_pool_kind_name, strcmp(clnn_pool_kind_name((clnn_pool_kind)-1), "unknown") == 0);

    clnn_pool2d_desc d, before;
    memset(&d, 0x5a, sizeof d);
    before = d;
    MISUSE(clnn_pool2d_desc_init, clnn_pool2d_desc_init(NULL, CLNN_POOL_MAX, 2, 2), BAD);
    MISUSE(clnn_pool2d_desc_init, clnn_pool2d_desc_init(&d, CLNN_POOL_KIND_COUNT, 2, 2), BAD);
    MISUSE(clnn_pool2d_desc_init, clnn_pool2d_desc_init(&d, (clnn_pool_kind)-1, 2, 2), BAD);
    MISUSE(clnn_pool2d_desc_init, clnn_pool2d_desc_init(&d, CLNN_POOL_MAX, 0, 2), BAD);
    MISUSE(clnn_pool2d_desc_init, clnn_pool2d_desc_init(&d, CLNN_POOL_AVERAGE, 2, 0), BAD);
    assert_memory_equal(&d, &before, sizeof d);

    /* Geometry: 2x2 max pooling on 4x4 planes gives 2x2. */
    clnn_pool2d_desc max, avg, bad;
    CLNN_ASSERT_OK(clnn_pool2d_desc_init(&max, CLNN_POOL_MAX, 2, 2));
    CLNN_ASSERT_OK(clnn_pool2d_desc_init(&avg, CLNN_POOL_AVERAGE, 2, 2));
    size_t oh = 77, ow = 77;
    MISUSE(clnn_pool2d_output_size, clnn_pool2d_output_size(NULL, 4, 4, &oh, &ow), BAD);
    MISUSE(clnn_pool2d_output_size, clnn_pool2d_output_size(&max, 4, 4, NULL, &ow), BAD);
    MISUSE(clnn_pool2d_output_size, clnn_pool2d_output_size(&max, 4, 4, &oh, NULL), BAD);
    MISUSE(clnn_pool2d_output_size, clnn_pool2d_output_size(&max, 0, 4, &oh, &ow), SHAPE);
    MISUSE(clnn_pool2d_output_size, clnn_pool2d_output_size(&max, 4, 1, &oh, &ow), SHAPE);
    MISUSE(clnn_pool2d_output_size, clnn_pool2d_output_size(&max, SIZE_MAX, 4, &oh, &ow), SHAPE);
    bad = max;
    bad.kind = CLNN_POOL_KIND_COUNT;
    MISUSE(clnn_pool2d_output_size, clnn_pool2d_output_size(&bad, 4, 4, &oh, &ow), BAD);
    bad = max;
    bad.kernel[1] = 0;
    MISUSE(clnn_pool2d_output_size, clnn_pool2d_output_size(&bad, 4, 4, &oh, &ow), BAD);
    bad = max;
    bad.stride[0] = 0;
    MISUSE(clnn_pool2d_output_size, clnn_pool2d_output_size(&bad, 4, 4, &oh, &ow), BAD);
    bad = max;
    bad.padding[0] = 2; /* kernel 2: at most 1 */
    MISUSE(clnn_pool2d_output_size, clnn_pool2d_output_size(&bad, 4, 4, &oh, &ow), SHAPE);
    bad = max;
    bad.kernel[0] = bad.kernel[1] = SIZE_MAX;
    bad.padding[0] = bad.padding[1] = SIZE_MAX / 2; /* padded size overflows */
    MISUSE(clnn_pool2d_output_size, clnn_pool2d_output_size(&bad, 4, 4, &oh, &ow), SHAPE);
    bad = avg;
    bad.count_include_pad = 2;
    MISUSE(clnn_pool2d_output_size, clnn_pool2d_output_size(&bad, 4, 4, &oh, &ow), BAD);
    assert_true(oh == 77 && ow == 77);

    clnn_tensor *x = pool_tensor(ctx, 2, 3, 4, 4), *y = pool_tensor(ctx, 2, 3, 2, 2);
    clnn_tensor *y_wrong = pool_tensor(ctx, 2, 3, 3, 2), *same = pool_tensor(ctx, 2, 3, 4, 4);
    clnn_tensor *idx = pool_int32(2, 3, 2, 2), *idx_wrong = pool_int32(2, 2, 2, 2);
    clnn_tensor *idx_in = pool_int32(2, 3, 4, 4);
    clnn_tensor *foreign4 = pool_tensor(other_ctx, 2, 3, 2, 2);
    clnn_tensor *x11 = pool_tensor(ctx, 2, 3, 1, 1);
    clnn_pool2d_desc one; /* 1x1: output shape = input shape */
    CLNN_ASSERT_OK(clnn_pool2d_desc_init(&one, CLNN_POOL_MAX, 1, 1));

    MISUSE(clnn_pool2d_forward, clnn_pool2d_forward(NULL, &max, x, y, idx), BAD);
    MISUSE(clnn_pool2d_forward, clnn_pool2d_forward(ctx, NULL, x, y, idx), BAD);
    MISUSE(clnn_pool2d_forward, clnn_pool2d_forward(ctx, &max, NULL, y, idx), BAD);
    MISUSE(clnn_pool2d_forward, clnn_pool2d_forward(ctx, &max, x, NULL, idx), BAD);
    MISUSE(clnn_pool2d_forward, clnn_pool2d_forward(ctx, &max, idx_in, y, idx), BAD); /* int32 x */
    MISUSE(clnn_pool2d_forward, clnn_pool2d_forward(ctx, &max, x, y, y), BAD); /* float indices */
    MISUSE(clnn_pool2d_forward, clnn_pool2d_forward(ctx, &avg, x, y, idx), BAD); /* average */
    MISUSE(clnn_pool2d_forward, clnn_pool2d_forward(ctx, &max, t34, y, idx), SHAPE); /* 2-D x */
    MISUSE(clnn_pool2d_forward, clnn_pool2d_forward(ctx, &max, x, y_wrong, idx), SHAPE);
    MISUSE(clnn_pool2d_forward, clnn_pool2d_forward(ctx, &max, x, t34, NULL), SHAPE);
    MISUSE(clnn_pool2d_forward, clnn_pool2d_forward(ctx, &max, x, y, idx_wrong), SHAPE);
    MISUSE(clnn_pool2d_forward, clnn_pool2d_forward(ctx, &max, x, foreign4, idx), FOREIGN);
    MISUSE(clnn_pool2d_forward, clnn_pool2d_forward(ctx, &one, x, x, NULL), BAD); /* y is x */
    MISUSE(clnn_pool2d_forward, clnn_pool2d_forward(ctx, &max, x11, y, idx), SHAPE); /* 1x1 */
    bad = max;
    bad.padding[1] = 3;
    MISUSE(clnn_pool2d_forward, clnn_pool2d_forward(ctx, &bad, x, y, idx), SHAPE);
    bad = max;
    bad.kind = (clnn_pool_kind)7;
    MISUSE(clnn_pool2d_forward, clnn_pool2d_forward(ctx, &bad, x, y, NULL), BAD);
    bad = max;
    bad.stride[1] = 0;
    MISUSE(clnn_pool2d_forward, clnn_pool2d_forward(ctx, &bad, x, y, idx), BAD);
    bad = max;
    bad.kernel[0] = 5; /* output height <= 0 */
    MISUSE(clnn_pool2d_forward, clnn_pool2d_forward(ctx, &bad, x, y, idx), SHAPE);

    /* Backward: dy is y's shape, dx x's. */
    clnn_tensor *dy = y, *dx = x;
    MISUSE(clnn_pool2d_backward, clnn_pool2d_backward(NULL, &max, dy, idx, 0.0f, dx), BAD);
    MISUSE(clnn_pool2d_backward, clnn_pool2d_backward(ctx, NULL, dy, idx, 0.0f, dx), BAD);
    MISUSE(clnn_pool2d_backward, clnn_pool2d_backward(ctx, &max, NULL, idx, 0.0f, dx), BAD);
    MISUSE(clnn_pool2d_backward, clnn_pool2d_backward(ctx, &max, dy, idx, 0.0f, NULL), BAD);
    MISUSE(clnn_pool2d_backward, clnn_pool2d_backward(ctx, &max, dy, NULL, 0.0f, dx), BAD);
    MISUSE(clnn_pool2d_backward, clnn_pool2d_backward(ctx, &avg, dy, idx, 0.0f, dx), BAD);
    MISUSE(clnn_pool2d_backward, clnn_pool2d_backward(ctx, &max, dy, y_wrong, 0.0f, dx), BAD);
    MISUSE(clnn_pool2d_backward, clnn_pool2d_backward(ctx, &max, dy, idx, NAN, dx), BAD);
    MISUSE(clnn_pool2d_backward, clnn_pool2d_backward(ctx, &avg, dy, NULL, INFINITY, dx), BAD);
    MISUSE(clnn_pool2d_backward, clnn_pool2d_backward(ctx, &max, idx, idx, 0.0f, dx), BAD);
    MISUSE(clnn_pool2d_backward, clnn_pool2d_backward(ctx, &max, dy, idx, 0.0f, idx_in), BAD);
    MISUSE(clnn_pool2d_backward, clnn_pool2d_backward(ctx, &max, y_wrong, idx, 0.0f, dx), SHAPE);
    MISUSE(clnn_pool2d_backward, clnn_pool2d_backward(ctx, &max, dy, idx_wrong, 0.0f, dx), SHAPE);
    MISUSE(clnn_pool2d_backward, clnn_pool2d_backward(ctx, &avg, dy, NULL, 0.0f, t34), SHAPE);
    MISUSE(clnn_pool2d_backward, clnn_pool2d_backward(ctx, &avg, foreign4, NULL, 0.0f, dx),
           FOREIGN);
    MISUSE(clnn_pool2d_backward, clnn_pool2d_backward(ctx, &bad, dy, idx, 0.0f, dx), SHAPE);
    one.kind = CLNN_POOL_AVERAGE;
    MISUSE(clnn_pool2d_backward, clnn_pool2d_backward(ctx, &one, x, NULL, 1.0f, x), BAD); /* dx is dy */

    /* Global average pooling: y [2, 3] or [2, 3, 1, 1] for x [2, 3, 4, 4]. */
    size_t d23[2] = {2, 3}, d32[2] = {3, 2};
    clnn_tensor *g2 = sentinel_tensor(ctx, 2, d23), *g_wrong = sentinel_tensor(ctx, 2, d32);
    clnn_tensor *g_int = pool_int32(2, 3, 1, 1);
    MISUSE(clnn_global_avg_pool_forward, clnn_global_avg_pool_forward(NULL, x, g2), BAD);
    MISUSE(clnn_global_avg_pool_forward, clnn_global_avg_pool_forward(ctx, NULL, g2), BAD);
    MISUSE(clnn_global_avg_pool_forward, clnn_global_avg_pool_forward(ctx, x, NULL), BAD);
    MISUSE(clnn_global_avg_pool_forward, clnn_global_avg_pool_forward(ctx, x, g_int), BAD);
    MISUSE(clnn_global_avg_pool_forward, clnn_global_avg_pool_forward(ctx, idx_in, g2), BAD);
    MISUSE(clnn_global_avg_pool_forward, clnn_global_avg_pool_forward(ctx, t34, g2), SHAPE);
    MISUSE(clnn_global_avg_pool_forward, clnn_global_avg_pool_forward(ctx, x, g_wrong), SHAPE);
    MISUSE(clnn_global_avg_pool_forward, clnn_global_avg_pool_forward(ctx, x, y), SHAPE); /* 2x2 */
    MISUSE(clnn_global_avg_pool_forward, clnn_global_avg_pool_forward(ctx, x, t2x3x4), SHAPE);
    MISUSE(clnn_global_avg_pool_forward, clnn_global_avg_pool_forward(ctx, x11, x11), BAD);
    MISUSE(clnn_global_avg_pool_forward, clnn_global_avg_pool_forward(ctx, foreign_t, g2),
           FOREIGN);
    MISUSE(clnn_global_avg_pool_backward, clnn_global_avg_pool_backward(NULL, g2, 0.0f, x), BAD);
    MISUSE(clnn_global_avg_pool_backward, clnn_global_avg_pool_backward(ctx, NULL, 0.0f, x), BAD);
    MISUSE(clnn_global_avg_pool_backward, clnn_global_avg_pool_backward(ctx, g2, 0.0f, NULL), BAD);
    MISUSE(clnn_global_avg_pool_backward, clnn_global_avg_pool_backward(ctx, g2, NAN, x), BAD);
    MISUSE(clnn_global_avg_pool_backward, clnn_global_avg_pool_backward(ctx, g2, -INFINITY, x),
           BAD);
    MISUSE(clnn_global_avg_pool_backward, clnn_global_avg_pool_backward(ctx, g2, 0.0f, idx_in),
           BAD);
    MISUSE(clnn_global_avg_pool_backward, clnn_global_avg_pool_backward(ctx, g_wrong, 0.0f, x),
           SHAPE);
    MISUSE(clnn_global_avg_pool_backward, clnn_global_avg_pool_backward(ctx, g2, 0.0f, t34),
           SHAPE);
    MISUSE(clnn_global_avg_pool_backward, clnn_global_avg_pool_backward(ctx, x11, 1.0f, x11),
           BAD); /* dx is dy */
    MISUSE(clnn_global_avg_pool_backward,
           clnn_global_avg_pool_backward(ctx, g2, 0.0f, foreign4), FOREIGN);

    clnn_tensor *all[] = {x, y, y_wrong, same, idx, idx_wrong, idx_in, foreign4, x11, g2,
                          g_wrong, g_int};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        pool_check_and_free(all[i]);
}

/* ==== conv.h ======================================================================================
 * (its own section, last: other families' sections go above it) */

/* Every element of t still holds the sentinel; then t is freed. */
static void check_sentinel_and_free(clnn_tensor *t, const char *name)
{
    size_t n = 0;
    CLNN_ASSERT_OK(clnn_tensor_get_count(t, &n));
    float *host = clnn_test_alloc(n * sizeof *host);
    CLNN_ASSERT_OK(clnn_tensor_download(t, host, n));
    for (size_t j = 0; j < n; ++j)
        if (host[j] != SENTINEL)
            fail_msg("conv tensor %s element %zu was changed to %g by a failed call", name, j,
                     (double)host[j]);
    free(host);
    clnn_tensor_destroy(t);
}

static void test_conv(void **state)
{
    (void)state;
    clnn_context *ctx = clnn_test_ctx;
    clnn_conv2d_desc d, untouched;
    memset(&d, 0x5a, sizeof d);
    untouched = d;
    MISUSE(clnn_conv2d_desc_init, clnn_conv2d_desc_init(NULL, 3, 3), BAD);
    MISUSE(clnn_conv2d_desc_init, clnn_conv2d_desc_init(&d, 0, 3), BAD);
    MISUSE(clnn_conv2d_desc_init, clnn_conv2d_desc_init(&d, 3, 0), BAD);
    assert_memory_equal(&d, &untouched, sizeof d);

    /* 3x3, padding 1: x 2x3x5x5 and weight 3x3x3x3 give y 2x3x5x5 (the shape of x) */
    CLNN_ASSERT_OK(clnn_conv2d_desc_init(&d, 3, 3));
    d.padding[0] = d.padding[1] = 1;
    size_t oh = 777, ow = 777;
    MISUSE(clnn_conv2d_output_size, clnn_conv2d_output_size(NULL, 5, 5, &oh, &ow), BAD);
    MISUSE(clnn_conv2d_output_size, clnn_conv2d_output_size(&d, 5, 5, NULL, &ow), BAD);
    MISUSE(clnn_conv2d_output_size, clnn_conv2d_output_size(&d, 5, 5, &oh, NULL), BAD);
    MISUSE(clnn_conv2d_output_size, clnn_conv2d_output_size(&d, 0, 5, &oh, &ow), SHAPE);
    clnn_conv2d_desc bad = d;
    bad.stride[1] = 0;
    MISUSE(clnn_conv2d_output_size, clnn_conv2d_output_size(&bad, 5, 5, &oh, &ow), BAD);
    bad = d, bad.dilation[0] = 0;
    MISUSE(clnn_conv2d_output_size, clnn_conv2d_output_size(&bad, 5, 5, &oh, &ow), BAD);
    bad = d, bad.groups = 0;
    MISUSE(clnn_conv2d_output_size, clnn_conv2d_output_size(&bad, 5, 5, &oh, &ow), BAD);
    bad = d, bad.kernel[0] = 9; /* 9 > 5 + 2: no output */
    MISUSE(clnn_conv2d_output_size, clnn_conv2d_output_size(&bad, 5, 5, &oh, &ow), SHAPE);
    bad = d, bad.dilation[1] = 4; /* spans 9 */
    MISUSE(clnn_conv2d_output_size, clnn_conv2d_output_size(&bad, 5, 5, &oh, &ow), SHAPE);
    bad = d, bad.padding[0] = SIZE_MAX / 2;
    MISUSE(clnn_conv2d_output_size, clnn_conv2d_output_size(&bad, 5, 5, &oh, &ow), OVERFLOW);
    MISUSE(clnn_conv2d_output_size, clnn_conv2d_output_size(&d, SIZE_MAX, 5, &oh, &ow), OVERFLOW);
    assert_int_equal(oh, 777);
    assert_int_equal(ow, 777);

    size_t xd[4] = {2, 3, 5, 5}, wd[4] = {3, 3, 3, 3}, floats = 777;
    size_t wd_k[4] = {3, 3, 3, 2}, wd_c[4] = {3, 2, 3, 3}, huge4[4] = {SIZE_MAX, 3, 5, 5};
    /* Stride 2: im2col, 2^31.2 floats of columns. Stride 1: the CPU forms' implicit grid
     * (32768 planes of 257 x 256 floats, 2^31.005) does not fit either, nor do im2col's columns. */
    size_t xd_big[4] = {1, 16384, 256, 256}, wd_big[4] = {1, 16384, 3, 3};
    size_t xd_grid[4] = {1, 32768, 256, 255}, wd_grid[4] = {1, 32768, 3, 3};
    MISUSE(clnn_conv2d_workspace_size, clnn_conv2d_workspace_size(NULL, &d, xd, wd, &floats), BAD);
    MISUSE(clnn_conv2d_workspace_size, clnn_conv2d_workspace_size(ctx, NULL, xd, wd, &floats), BAD);
    MISUSE(clnn_conv2d_workspace_size, clnn_conv2d_workspace_size(ctx, &d, NULL, wd, &floats), BAD);
    MISUSE(clnn_conv2d_workspace_size, clnn_conv2d_workspace_size(ctx, &d, xd, NULL, &floats), BAD);
    MISUSE(clnn_conv2d_workspace_size, clnn_conv2d_workspace_size(ctx, &d, xd, wd, NULL), BAD);
    MISUSE(clnn_conv2d_workspace_size, clnn_conv2d_workspace_size(ctx, &d, xd, wd_k, &floats),
           SHAPE); /* weight 3x2 for a 3x3 kernel */
    MISUSE(clnn_conv2d_workspace_size, clnn_conv2d_workspace_size(ctx, &d, xd, wd_c, &floats),
           SHAPE); /* 2 input channels per group for 3 in 1 group */
    bad = d, bad.groups = 2;
    MISUSE(clnn_conv2d_workspace_size, clnn_conv2d_workspace_size(ctx, &bad, xd, wd, &floats),
           SHAPE); /* 3 channels in 2 groups */
    MISUSE(clnn_conv2d_workspace_size, clnn_conv2d_workspace_size(ctx, &d, huge4, wd, &floats),
           OVERFLOW);
    bad = d, bad.stride[0] = bad.stride[1] = 2;
    MISUSE(clnn_conv2d_workspace_size,
           clnn_conv2d_workspace_size(ctx, &bad, xd_big, wd_big, &floats), OVERFLOW);
    MISUSE(clnn_conv2d_workspace_size,
           clnn_conv2d_workspace_size(ctx, &d, xd_grid, wd_grid, &floats), OVERFLOW);
    assert_int_equal(floats, 777);

    clnn_tensor *x = sentinel_tensor(ctx, 4, xd), *w = sentinel_tensor(ctx, 4, wd);
    clnn_tensor *y = sentinel_tensor(ctx, 4, xd), *y2 = sentinel_tensor(ctx, 4, xd);
    clnn_tensor *w_k = sentinel_tensor(ctx, 4, wd_k);
    size_t ws_floats = 0, wd1[4] = {3, 3, 1, 1};
    CLNN_ASSERT_OK(clnn_conv2d_workspace_size(ctx, &d, xd, wd, &ws_floats));
    assert_true(ws_floats > 1); /* im2col */
    clnn_tensor *ws_small = sentinel_tensor(ctx, 1, (size_t[]){ws_floats - 1});
    clnn_tensor *ws = sentinel_tensor(ctx, 1, &ws_floats);
    clnn_tensor *labels = NULL;
    CLNN_ASSERT_OK(clnn_tensor_create_int32(ctx, 4, xd, &labels));
    /* A 1x1 convolution (no workspace needed) for the workspace's aliasing. */
    clnn_conv2d_desc d1;
    CLNN_ASSERT_OK(clnn_conv2d_desc_init(&d1, 1, 1));
    clnn_tensor *w1 = sentinel_tensor(ctx, 4, wd1);
    clnn_activation_desc act;
    CLNN_ASSERT_OK(clnn_activation_desc_init(&act, CLNN_ACTIVATION_HARDTANH));
    act.max_val = act.min_val; /* must exceed min_val */

    MISUSE(clnn_conv2d_forward, clnn_conv2d_forward(NULL, &d, x, w, NULL, NULL, y, NULL), BAD);
    MISUSE(clnn_conv2d_forward, clnn_conv2d_forward(ctx, NULL, x, w, NULL, NULL, y, NULL), BAD);
    MISUSE(clnn_conv2d_forward, clnn_conv2d_forward(ctx, &d, NULL, w, NULL, NULL, y, NULL), BAD);
    MISUSE(clnn_conv2d_forward, clnn_conv2d_forward(ctx, &d, x, NULL, NULL, NULL, y, NULL), BAD);
    MISUSE(clnn_conv2d_forward, clnn_conv2d_forward(ctx, &d, x, w, NULL, NULL, NULL, NULL), BAD);
    MISUSE(clnn_conv2d_forward, clnn_conv2d_forward(ctx, &d, labels, w, NULL, NULL, y, NULL),
           BAD); /* int32 */
    MISUSE(clnn_conv2d_forward, clnn_conv2d_forward(ctx, &d, x, foreign_t, NULL, NULL, y, NULL),
           FOREIGN);
    MISUSE(clnn_conv2d_forward, clnn_conv2d_forward(ctx, &d, t34, w, NULL, NULL, y, NULL),
           SHAPE); /* 2-D x */
    MISUSE(clnn_conv2d_forward, clnn_conv2d_forward(ctx, &d, x, w_k, NULL, NULL, y, NULL),
           SHAPE); /* weight against the kernel */
    MISUSE(clnn_conv2d_forward, clnn_conv2d_forward(ctx, &d, x, w, NULL, NULL, w, NULL),
           SHAPE); /* y of the wrong shape */
    MISUSE(clnn_conv2d_forward, clnn_conv2d_forward(ctx, &d, x, w, v4, NULL, y, NULL), SHAPE);
    MISUSE(clnn_conv2d_forward, clnn_conv2d_forward(ctx, &d, x, w, t34, NULL, y, NULL), SHAPE);
    MISUSE(clnn_conv2d_forward, clnn_conv2d_forward(ctx, &d, x, w, NULL, NULL, x, NULL),
           BAD); /* y is x */
    MISUSE(clnn_conv2d_forward, clnn_conv2d_forward(ctx, &d, x, w, NULL, &act, y, NULL), BAD);
    MISUSE(clnn_conv2d_forward, clnn_conv2d_forward(ctx, &d, x, w, v3, NULL, y, ws_small),
           SHAPE); /* workspace too small */
    MISUSE(clnn_conv2d_forward, clnn_conv2d_forward(ctx, &d, x, w, v3, NULL, y, labels), BAD);
    MISUSE(clnn_conv2d_forward, clnn_conv2d_forward(ctx, &d1, x, w1, v3, NULL, y, y), BAD);
    MISUSE(clnn_conv2d_forward, clnn_conv2d_forward(ctx, &d, x, w, v3, NULL, y, foreign_t),
           FOREIGN);
    bad = d, bad.groups = 2;
    MISUSE(clnn_conv2d_forward, clnn_conv2d_forward(ctx, &bad, x, w, NULL, NULL, y, NULL), SHAPE);
    bad = d, bad.stride[0] = 0;
    MISUSE(clnn_conv2d_forward, clnn_conv2d_forward(ctx, &bad, x, w, NULL, NULL, y, NULL), BAD);

    MISUSE(clnn_conv2d_backward_data, clnn_conv2d_backward_data(NULL, &d, y, w, 0, x, NULL), BAD);
    MISUSE(clnn_conv2d_backward_data, clnn_conv2d_backward_data(ctx, &d, y, w, 0, NULL, NULL),
           BAD);
    MISUSE(clnn_conv2d_backward_data, clnn_conv2d_backward_data(ctx, &d, y, w, NAN, y2, NULL),
           BAD);
    MISUSE(clnn_conv2d_backward_data, clnn_conv2d_backward_data(ctx, &d, y, w, 0, w, NULL),
           SHAPE); /* dy against dx's output size */
    MISUSE(clnn_conv2d_backward_data, clnn_conv2d_backward_data(ctx, &d, w, w_k, 0, y2, NULL),
           SHAPE);
    MISUSE(clnn_conv2d_backward_data, clnn_conv2d_backward_data(ctx, &d, y, w, 0, y, NULL),
           BAD); /* dx is dy */
    MISUSE(clnn_conv2d_backward_data, clnn_conv2d_backward_data(ctx, &d, y, w, 0, y2, ws_small),
           SHAPE);
    MISUSE(clnn_conv2d_backward_data, clnn_conv2d_backward_data(ctx, &d1, y, w1, 0, y2, y),
           BAD); /* the workspace is dy */

    MISUSE(clnn_conv2d_backward_weight,
           clnn_conv2d_backward_weight(NULL, &d, y, x, 0, w, NULL), BAD);
    MISUSE(clnn_conv2d_backward_weight,
           clnn_conv2d_backward_weight(ctx, &d, y, x, 0, NULL, NULL), BAD);
    MISUSE(clnn_conv2d_backward_weight,
           clnn_conv2d_backward_weight(ctx, &d, y, x, INFINITY, w, NULL), BAD);
    MISUSE(clnn_conv2d_backward_weight,
           clnn_conv2d_backward_weight(ctx, &d, y, x, 0, w_k, NULL), SHAPE);
    MISUSE(clnn_conv2d_backward_weight,
           clnn_conv2d_backward_weight(ctx, &d, w, x, 0, y2, NULL), SHAPE);
    MISUSE(clnn_conv2d_backward_weight,
           clnn_conv2d_backward_weight(ctx, &d, y, x, 0, w, labels), BAD);
    MISUSE(clnn_conv2d_backward_weight,
           clnn_conv2d_backward_weight(ctx, &d1, y, x, 0, w1, w1), BAD); /* workspace: dweight */

    MISUSE(clnn_conv2d_backward_bias, clnn_conv2d_backward_bias(NULL, y, 0, v3), BAD);
    MISUSE(clnn_conv2d_backward_bias, clnn_conv2d_backward_bias(ctx, NULL, 0, v3), BAD);
    MISUSE(clnn_conv2d_backward_bias, clnn_conv2d_backward_bias(ctx, y, 0, NULL), BAD);
    MISUSE(clnn_conv2d_backward_bias, clnn_conv2d_backward_bias(ctx, y, 0, v4), SHAPE);
    MISUSE(clnn_conv2d_backward_bias, clnn_conv2d_backward_bias(ctx, t34, 0, v3), SHAPE);
    MISUSE(clnn_conv2d_backward_bias, clnn_conv2d_backward_bias(ctx, y, NAN, v3), BAD);
    MISUSE(clnn_conv2d_backward_bias, clnn_conv2d_backward_bias(ctx, y, 0, foreign_t), FOREIGN);

    check_sentinel_and_free(x, "x");
    check_sentinel_and_free(w, "w");
    check_sentinel_and_free(y, "y");
    check_sentinel_and_free(y2, "y2");
    check_sentinel_and_free(w_k, "w_k");
    check_sentinel_and_free(w1, "w1");
    check_sentinel_and_free(ws_small, "ws_small");
    check_sentinel_and_free(ws, "ws");
    clnn_tensor_destroy(labels);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_core, setup, teardown),
        cmocka_unit_test_setup_teardown(test_activation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_norm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dense, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init, setup, teardown),
        cmocka_unit_test_setup_teardown(test_optim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mlp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_network, setup, teardown),
        /* pooling */
        cmocka_unit_test_setup_teardown(test_pool, setup, teardown),
        /* ---- conv ---- */
        cmocka_unit_test_setup_teardown(test_conv, setup, teardown),
    };
    return clnn_test_main("misuse", tests, sizeof tests / sizeof tests[0]);
}
