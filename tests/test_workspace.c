/*
 * A training step creates no OpenCL buffer. clCreateBuffer and clReleaseMemObject are interposed
 * here (this program's definitions come first in symbol lookup; they count and forward to the
 * real ones found with dlsym(RTLD_NEXT)), and every test first proves that the count moves when a
 * tensor is created, so that none can pass without counting. Then: an MLP (batch norm, dropout,
 * GELU and ReLU, clipping) trained once at its largest batch creates no buffer in further steps,
 * partial batches, evaluation or a health step, for cross-entropy and MSE; each op family that
 * needs scratch memory creates none when called again at the same shape; and a context made on
 * another context's queue keeps its own scratch pool and releases it when destroyed.
 */
#define _GNU_SOURCE
#include "clnn_test.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the interposed OpenCL calls --------------------------------------------------------------- */

static size_t buffers_created;
static size_t buffers_released;

typedef cl_mem(CL_API_CALL *create_buffer_fn)(cl_context, cl_mem_flags, size_t, void *,
                                              cl_int *);
typedef cl_int(CL_API_CALL *release_mem_fn)(cl_mem);

/* The project builds with hidden visibility: the definitions below must be exported (with
 * -rdynamic, tests/CMakeLists.txt) for libclnn's calls to reach them. */
#define EXPORTED __attribute__((visibility("default")))

/* The next definition of `name` after this program's (the ICD loader's), or NULL. */
static void *next_symbol(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

EXPORTED CL_API_ENTRY cl_mem CL_API_CALL clCreateBuffer(cl_context context, cl_mem_flags flags, size_t size,
                                               void *host_ptr, cl_int *errcode_ret)
{
    static create_buffer_fn real;
    if (!real) {
        void *symbol = next_symbol("clCreateBuffer");
        memcpy(&real, &symbol, sizeof real); /* ISO C has no cast from void * to a function */
    }
    if (!real) {
        if (errcode_ret)
            *errcode_ret = CL_OUT_OF_HOST_MEMORY;
        return NULL;
    }
    cl_mem buffer = real(context, flags, size, host_ptr, errcode_ret);
    if (buffer)
        ++buffers_created;
    return buffer;
}

EXPORTED CL_API_ENTRY cl_int CL_API_CALL clReleaseMemObject(cl_mem memobj)
{
    static release_mem_fn real;
    if (!real) {
        void *symbol = next_symbol("clReleaseMemObject");
        memcpy(&real, &symbol, sizeof real);
    }
    if (!real)
        return CL_INVALID_MEM_OBJECT;
    cl_int err = real(memobj);
    if (err == CL_SUCCESS)
        ++buffers_released;
    return err;
}

/* Fails the test unless both interposed calls count what clnn does: a tensor created and
 * destroyed through the library must move each counter by one. Otherwise the library's calls
 * bypass these definitions and every "no buffer created" below would pass vacuously. */
static void require_counting(void)
{
    size_t created = buffers_created, released = buffers_released;
    clnn_tensor *t = NULL;
    size_t n = 3;
    CLNN_ASSERT_OK(clnn_tensor_create(clnn_test_ctx, 1, &n, &t));
    if (buffers_created != created + 1)
        fail_msg("clCreateBuffer is not interposed: creating a tensor moved the count by %zu, "
                 "not 1 (is libclnn linked so that the program's definition wins?)",
                 buffers_created - created);
    CLNN_ASSERT_OK(clnn_tensor_destroy(t));
    if (buffers_released != released + 1)
        fail_msg("clReleaseMemObject is not interposed: destroying a tensor moved the count by "
                 "%zu, not 1", buffers_released - released);
}

/* Fails unless no buffer was created since `before` was read; names the call. */
static void assert_none_created(size_t before, const char *what)
{
    if (buffers_created != before)
        fail_msg("%s created %zu OpenCL buffer(s)", what, buffers_created - before);
}

static void test_interposition(void **state)
{
    (void)state;
    require_counting();
}

/* ---- a fresh context ------------------------------------------------------------------------ */

/* The group's context has a scratch pool grown by the tests before, which could hold what a
 * smaller batch needs although the largest batch did not. Tests of "nothing after the largest
 * batch" run on a context of their own (same device and forms), made here as clnn_test_ctx and
 * destroyed by the teardown, which restores the group's. */
static clnn_context *group_ctx;

static int fresh_context(void **state)
{
    (void)state;
    clnn_context_options options;
    clnn_context_options_init(&options);
    char selector[32];
    snprintf(selector, sizeof selector, "%u:%u", clnn_test_device.platform_index,
             clnn_test_device.device_index);
    options.device = selector;
    options.kernel_forms = clnn_test_profile.forms;
    clnn_context *ctx = NULL;
    if (clnn_context_create(&ctx, &options) != CLNN_SUCCESS) {
        fprintf(stderr, "creating a context on %s: %s\n", selector,
                clnn_context_last_error(NULL));
        return -1;
    }
    group_ctx = clnn_test_ctx;
    clnn_test_ctx = ctx;
    return 0;
}

static int group_context(void **state)
{
    (void)state;
    clnn_context_destroy(clnn_test_ctx);
    clnn_test_ctx = group_ctx;
    return 0;
}

/* ---- the MLP ---------------------------------------------------------------------------------- */

/* Random class labels and random float targets, for whichever loss the model has. */
static void fill_targets(size_t batch, size_t outputs, int *labels, float *targets)
{
    for (size_t i = 0; i < batch; ++i)
        labels[i] = (int)(clnn_test_random_u64() % outputs);
    clnn_test_fill_uniform(targets, batch * outputs, -1.0, 1.0);
}

/* Builds the model, runs one step at max_batch, then more steps (full, partial, the smallest batch
 * norm allows), evaluation, prediction and health steps, asserting that none creates a buffer. */
static void check_mlp(clnn_mlp_loss loss)
{
    require_counting();
    size_t inputs = CLNN_TEST_SHAPE(40, 12), outputs = CLNN_TEST_SHAPE(10, 5);
    size_t max_batch = CLNN_TEST_SHAPE(64, 24), partial = CLNN_TEST_SHAPE(37, 13);
    clnn_mlp_spec spec;
    CLNN_ASSERT_OK(clnn_mlp_spec_init(&spec, inputs, outputs));
    CLNN_ASSERT_OK(
        clnn_mlp_spec_add_layer(&spec, CLNN_TEST_SHAPE(48, 20), CLNN_ACTIVATION_GELU, 1, 0.0f));
    CLNN_ASSERT_OK(
        clnn_mlp_spec_add_layer(&spec, CLNN_TEST_SHAPE(32, 17), CLNN_ACTIVATION_RELU, 0, 0.25f));
    spec.loss = loss;
    spec.seed = clnn_test_random_u64();
    clnn_mlp_train_options train;
    CLNN_ASSERT_OK(clnn_mlp_train_options_init(&train));
    train.clip_norm = 0.5f; /* small enough that clipping scales */
    clnn_mlp *mlp = NULL;
    CLNN_ASSERT_OK(clnn_mlp_create(clnn_test_ctx, &spec, &train, max_batch, &mlp));

    float *x = clnn_test_alloc(max_batch * inputs * sizeof(float));
    float *targets = clnn_test_alloc(max_batch * outputs * sizeof(float));
    float *out = clnn_test_alloc(max_batch * outputs * sizeof(float));
    int *labels = clnn_test_alloc(max_batch * sizeof(int));
    clnn_test_fill_uniform(x, max_batch * inputs, -2.0, 2.0);
    fill_targets(max_batch, outputs, labels, targets);
    const void *y = loss == CLNN_MLP_LOSS_MSE ? (const void *)targets : (const void *)labels;

    clnn_mlp_step_info info;
    CLNN_ASSERT_OK(clnn_mlp_train_step(mlp, x, y, max_batch, &info));
    if (!(info.grad_norm > train.clip_norm))
        fail_msg("the gradient norm %g does not exceed clip_norm %g: clipping did not scale",
                 (double)info.grad_norm, (double)train.clip_norm);
    size_t before = buffers_created;

    clnn_mlp_health health;
    double loss_sum;
    size_t correct;
    CLNN_ASSERT_OK(clnn_mlp_train_step(mlp, x, y, max_batch, NULL));
    CLNN_ASSERT_OK(clnn_mlp_train_step(mlp, x, y, partial, &info));
    CLNN_ASSERT_OK(clnn_mlp_train_step(mlp, x, y, 2, &info));
    CLNN_ASSERT_OK(clnn_mlp_train_step(mlp, x, y, max_batch - 1, &info));
    CLNN_ASSERT_OK(clnn_mlp_evaluate(mlp, x, y, max_batch, &loss_sum, &correct));
    CLNN_ASSERT_OK(clnn_mlp_evaluate(mlp, x, y, partial, &loss_sum, &correct));
    CLNN_ASSERT_OK(clnn_mlp_evaluate(mlp, x, y, 1, &loss_sum, NULL));
    CLNN_ASSERT_OK(clnn_mlp_predict(mlp, x, partial, out));
    CLNN_ASSERT_OK(clnn_mlp_train_step_health(mlp, x, y, partial, NULL, &info, &health));
    CLNN_ASSERT_OK(clnn_mlp_train_step_health(mlp, x, y, max_batch, NULL, &info, &health));
    CLNN_ASSERT_OK(clnn_mlp_train_step(mlp, x, y, partial, NULL));
    CLNN_ASSERT_OK(clnn_context_finish(clnn_test_ctx));
    assert_none_created(before, "training steps after the first at max_batch");

    CLNN_ASSERT_OK(clnn_mlp_destroy(mlp));
    free(x), free(targets), free(out), free(labels);
}

static void test_mlp_cross_entropy(void **state)
{
    (void)state;
    check_mlp(CLNN_MLP_LOSS_CROSS_ENTROPY);
}

static void test_mlp_mse(void **state)
{
    (void)state;
    check_mlp(CLNN_MLP_LOSS_MSE);
}

/* A residual CNN (convolutions through the network's shared scratch, batch norm on NCHW, max
 * and average pooling, a strided 1x1 projection): no buffer after the first step at max_batch. */
static void test_cnn(void **state)
{
    (void)state;
    require_counting();
    size_t side = CLNN_TEST_SHAPE(12, 8), classes = 5;
    size_t max_batch = CLNN_TEST_SHAPE(48, 12), partial = CLNN_TEST_SHAPE(29, 7);
    size_t in[3] = {1, side, side}, inputs = side * side;
    clnn_network_spec *spec = NULL;
    CLNN_ASSERT_OK(clnn_network_spec_parse("conv8k3p1nb,bn:relu,maxpool2,res[conv8k3p1nb,bn:relu,"
                                           "conv8k3p1nb,bn]:relu,res[conv16k3s2p1nb,bn:relu,"
                                           "conv16k3p1]proj:relu,avgpool2,gap,dense5",
                                           3, in, &spec));
    clnn_network_options options;
    CLNN_ASSERT_OK(clnn_network_options_init(&options));
    options.seed = clnn_test_random_u64();
    clnn_network *net = NULL;
    CLNN_ASSERT_OK(clnn_network_create(clnn_test_ctx, spec, &options, max_batch, &net));
    float *x = clnn_test_alloc(max_batch * inputs * sizeof(float));
    float *out = clnn_test_alloc(max_batch * classes * sizeof(float));
    int32_t *labels = clnn_test_alloc(max_batch * sizeof(int32_t));
    clnn_test_fill_uniform(x, max_batch * inputs, -2.0, 2.0);
    for (size_t i = 0; i < max_batch; ++i)
        labels[i] = (int32_t)(i % classes);

    CLNN_ASSERT_OK(clnn_network_train_step(net, x, labels, max_batch, NULL));
    CLNN_ASSERT_OK(clnn_context_finish(clnn_test_ctx));
    size_t before = buffers_created;
    clnn_step_info info;
    clnn_network_health health;
    clnn_layer_health layers[16];
    double loss_sum;
    size_t correct;
    CLNN_ASSERT_OK(clnn_network_train_step(net, x, labels, partial, &info));
    CLNN_ASSERT_OK(clnn_network_train_step(net, x, labels, 2, &info));
    CLNN_ASSERT_OK(clnn_network_evaluate(net, x, labels, max_batch, &loss_sum, &correct));
    CLNN_ASSERT_OK(clnn_network_evaluate(net, x, labels, 1, &loss_sum, &correct));
    CLNN_ASSERT_OK(clnn_network_predict(net, x, partial, out));
    CLNN_ASSERT_OK(clnn_network_train_step_health(net, x, labels, partial, NULL, &info, &health,
                                                  layers, 16));
    CLNN_ASSERT_OK(clnn_network_train_step(net, x, labels, max_batch, &info));
    CLNN_ASSERT_OK(clnn_context_finish(clnn_test_ctx));
    assert_none_created(before, "CNN steps after the first at max_batch");
    clnn_network_destroy(net);
    clnn_network_spec_destroy(spec);
    free(x), free(out), free(labels);
}

/* ---- the op families that need scratch memory ------------------------------------------------- */

/* A tensor of uniform values in [-1, 1): (rows, cols), or 1-D of cols when rows is 0. */
static clnn_tensor *random_tensor(size_t rows, size_t cols)
{
    size_t dims[2] = {rows, cols};
    size_t n = (rows ? rows : 1) * cols;
    float *h = clnn_test_alloc(n * sizeof(float));
    clnn_test_fill_uniform(h, n, -1.0, 1.0);
    clnn_tensor *t = clnn_test_tensor(rows ? 2 : 1, rows ? dims : &cols, h);
    free(h);
    return t;
}

static void test_batch_norm(void **state)
{
    (void)state;
    require_counting();
    /* (N, C) as the MLP uses it, and (N, C, S) for the planes form. */
    size_t shapes[2][3] = {{CLNN_TEST_SHAPE(300, 40), CLNN_TEST_SHAPE(24, 6), 1},
                           {CLNN_TEST_SHAPE(8, 4), 3, CLNN_TEST_SHAPE(100, 40)}};
    clnn_activation_desc gelu;
    CLNN_ASSERT_OK(clnn_activation_desc_init(&gelu, CLNN_ACTIVATION_GELU));
    for (int s = 0; s < 2; ++s) {
        size_t N = shapes[s][0], C = shapes[s][1], S = shapes[s][2];
        size_t dims[3] = {N, C, S};
        int ndim = S == 1 ? 2 : 3;
        size_t n = N * C * S;
        float *h = clnn_test_alloc(n * sizeof(float));
        clnn_test_fill_uniform(h, n, -1.0, 1.0);
        clnn_tensor *x = clnn_test_tensor(ndim, dims, h), *dy = clnn_test_tensor(ndim, dims, h);
        clnn_tensor *y = clnn_test_tensor(ndim, dims, NULL), *dx = clnn_test_tensor(ndim, dims, NULL);
        free(h);
        clnn_tensor *gamma = random_tensor(0, C), *beta = random_tensor(0, C);
        clnn_tensor *rm = random_tensor(0, C), *rv = random_tensor(0, C);
        clnn_tensor *mean = random_tensor(0, C), *invstd = random_tensor(0, C);
        clnn_tensor *dgamma = random_tensor(0, C), *dbeta = random_tensor(0, C);
        CLNN_ASSERT_OK(clnn_tensor_fill(rv, 1.0f));
        size_t before = 0;
        for (int pass = 0; pass < 2; ++pass) {
            if (pass == 1)
                before = buffers_created;
            CLNN_ASSERT_OK(clnn_batch_norm_forward_training(clnn_test_ctx, x, gamma, beta, rm, rv,
                                                            0.1f, 1e-5f, y, mean, invstd));
            CLNN_ASSERT_OK(clnn_batch_norm_backward(clnn_test_ctx, x, dy, gamma, mean, invstd, dx,
                                                    dgamma, dbeta, 0.0f));
            CLNN_ASSERT_OK(clnn_batch_norm_activation_forward_training(
                clnn_test_ctx, &gelu, x, gamma, beta, rm, rv, 0.1f, 1e-5f, y, mean, invstd));
            CLNN_ASSERT_OK(clnn_batch_norm_activation_backward(
                clnn_test_ctx, &gelu, x, dy, gamma, beta, mean, invstd, dx, dgamma, dbeta, 0.0f));
            CLNN_ASSERT_OK(clnn_batch_norm_forward_inference(clnn_test_ctx, x, gamma, beta, rm, rv,
                                                             1e-5f, y));
        }
        assert_none_created(before, "batch norm's second calls");
        clnn_tensor *all[] = {x, dy, y, dx, gamma, beta, rm, rv, mean, invstd, dgamma, dbeta};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
            clnn_tensor_destroy(all[i]);
    }
}

/* Every smaller batch after the largest: the slices a batch is reduced in are not monotonic in
 * the batch (8 rows in 4 slices of 2, 9 in 3 of 3), so the scratch must be sized by a bound that
 * is. Batch norm (its column, serial and resident forms) and the bias reduction, at each batch
 * from the largest down to 2. */
static void test_smaller_batches(void **state)
{
    (void)state;
    require_counting();
    size_t max_batch = CLNN_TEST_SHAPE(300, 40), C = CLNN_TEST_SHAPE(40, 6);
    clnn_activation_desc relu;
    CLNN_ASSERT_OK(clnn_activation_desc_init(&relu, CLNN_ACTIVATION_RELU));
    clnn_tensor *gamma = random_tensor(0, C), *beta = random_tensor(0, C);
    clnn_tensor *rm = random_tensor(0, C), *rv = random_tensor(0, C);
    clnn_tensor *mean = random_tensor(0, C), *invstd = random_tensor(0, C);
    clnn_tensor *dgamma = random_tensor(0, C), *dbeta = random_tensor(0, C);
    CLNN_ASSERT_OK(clnn_tensor_fill(rv, 1.0f));
    size_t created = 0; /* by the ops, after the largest batch */
    for (size_t N = max_batch; N >= 2; --N) {
        clnn_tensor *x = random_tensor(N, C), *dy = random_tensor(N, C);
        clnn_tensor *y = random_tensor(N, C), *dx = random_tensor(N, C);
        size_t before = buffers_created;
        CLNN_ASSERT_OK(clnn_batch_norm_forward_training(clnn_test_ctx, x, gamma, beta, rm, rv,
                                                        0.1f, 1e-5f, y, mean, invstd));
        CLNN_ASSERT_OK(clnn_batch_norm_backward(clnn_test_ctx, x, dy, gamma, mean, invstd, dx,
                                                dgamma, dbeta, 0.0f));
        CLNN_ASSERT_OK(clnn_bias_activation_backward(clnn_test_ctx, &relu, x,
                                                     CLNN_ACTIVATION_SAVED_INPUT, NULL, dy, 0.0f,
                                                     dx, 0.0f, dbeta));
        if (N < max_batch)
            created += buffers_created - before;
        clnn_tensor_destroy(x), clnn_tensor_destroy(dy), clnn_tensor_destroy(y);
        clnn_tensor_destroy(dx);
    }
    if (created)
        fail_msg("batches below %zu created %zu OpenCL buffer(s)", max_batch, created);
    clnn_tensor *all[] = {gamma, beta, rm, rv, mean, invstd, dgamma, dbeta};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        clnn_tensor_destroy(all[i]);
}

static void test_bias_activation_backward(void **state)
{
    (void)state;
    require_counting();
    size_t rows = CLNN_TEST_SHAPE(1000, 70), cols = CLNN_TEST_SHAPE(48, 20);
    clnn_activation_desc relu;
    CLNN_ASSERT_OK(clnn_activation_desc_init(&relu, CLNN_ACTIVATION_RELU));
    clnn_tensor *z = random_tensor(rows, cols), *dy = random_tensor(rows, cols);
    clnn_tensor *dx = random_tensor(rows, cols), *db = random_tensor(0, cols);
    size_t before = 0;
    for (int pass = 0; pass < 2; ++pass) {
        if (pass == 1)
            before = buffers_created;
        CLNN_ASSERT_OK(clnn_bias_activation_backward(clnn_test_ctx, &relu, z,
                                                     CLNN_ACTIVATION_SAVED_INPUT, NULL, dy, 0.0f,
                                                     dx, 0.0f, db));
        CLNN_ASSERT_OK(clnn_dense_backward_bias(clnn_test_ctx, dy, 0.0f, db));
    }
    assert_none_created(before, "the bias + activation backward's second call");
    clnn_tensor_destroy(z), clnn_tensor_destroy(dy), clnn_tensor_destroy(dx);
    clnn_tensor_destroy(db);
}

static void test_prelu_backward(void **state)
{
    (void)state;
    require_counting();
    /* One slope per channel of (N, C) (rows form), of (N, C, S) (planes form), and one slope. */
    size_t N = CLNN_TEST_SHAPE(600, 40), C = 3, S = CLNN_TEST_SHAPE(64, 20);
    size_t dims2[2] = {N, C}, dims3[3] = {N, C, S}, one = 1;
    for (int form = 0; form < 3; ++form) {
        int ndim = form == 1 ? 3 : 2;
        const size_t *dims = form == 1 ? dims3 : dims2;
        size_t n = form == 1 ? N * C * S : N * C;
        float *h = clnn_test_alloc(n * sizeof(float));
        clnn_test_fill_uniform(h, n, -1.0, 1.0);
        clnn_tensor *x = clnn_test_tensor(ndim, dims, h), *dy = clnn_test_tensor(ndim, dims, h);
        clnn_tensor *dx = clnn_test_tensor(ndim, dims, NULL);
        free(h);
        size_t slopes = form == 2 ? one : C;
        clnn_tensor *w = random_tensor(0, slopes), *dw = random_tensor(0, slopes);
        size_t before = 0;
        for (int pass = 0; pass < 2; ++pass) {
            if (pass == 1)
                before = buffers_created;
            CLNN_ASSERT_OK(clnn_prelu_backward(clnn_test_ctx, x, w, dy, 0.0f, dx, 0.0f, dw));
            CLNN_ASSERT_OK(clnn_prelu_backward(clnn_test_ctx, x, w, dy, 0.0f, NULL, 0.0f, dw));
        }
        assert_none_created(before, "the PReLU backward's second call");
        clnn_tensor_destroy(x), clnn_tensor_destroy(dy), clnn_tensor_destroy(dx);
        clnn_tensor_destroy(w), clnn_tensor_destroy(dw);
    }
}

static void test_clip(void **state)
{
    (void)state;
    require_counting();
    clnn_tensor *t[3] = {random_tensor(0, CLNN_TEST_SHAPE(100000, 3000)), random_tensor(0, 7),
                         random_tensor(CLNN_TEST_SHAPE(64, 16), 33)};
    float norm = 0.0f;
    size_t before = 0;
    for (int pass = 0; pass < 2; ++pass) {
        if (pass == 1)
            before = buffers_created;
        CLNN_ASSERT_OK(clnn_clip_by_global_norm(t, 3, 1.0f, CLNN_NORM_L2, &norm));
        CLNN_ASSERT_OK(clnn_global_norm(t, 3, CLNN_NORM_INF, &norm));
    }
    assert_none_created(before, "clipping's second call");
    for (int i = 0; i < 3; ++i)
        clnn_tensor_destroy(t[i]);
}

static clnn_tensor *label_buffer(const int *labels, size_t n)
{
    clnn_tensor *t = NULL;
    CLNN_ASSERT_OK(clnn_tensor_create_int32(clnn_test_ctx, 1, &n, &t));
    CLNN_ASSERT_OK(clnn_tensor_upload_int32(t, (const int32_t *)labels, n));
    return t;
}

static void test_losses(void **state)
{
    (void)state;
    require_counting();
    size_t N = CLNN_TEST_SHAPE(500, 30), C = CLNN_TEST_SHAPE(10, 5);
    int *labels = clnn_test_alloc(N * sizeof(int));
    for (size_t i = 0; i < N; ++i)
        labels[i] = (int)(clnn_test_random_u64() % C);
    clnn_tensor *lb = label_buffer(labels, N);
    clnn_tensor *z = random_tensor(N, C), *t = random_tensor(N, C), *dz = random_tensor(N, C);
    clnn_tensor *loss = random_tensor(0, 1);
    float host_loss;
    size_t before = 0;
    for (int pass = 0; pass < 2; ++pass) {
        if (pass == 1)
            before = buffers_created;
        CLNN_ASSERT_OK(clnn_cross_entropy(clnn_test_ctx, z, lb, NULL, loss, dz));
        CLNN_ASSERT_OK(clnn_cross_entropy_host(clnn_test_ctx, z, lb, NULL, &host_loss, dz));
        CLNN_ASSERT_OK(clnn_cross_entropy_check_labels(clnn_test_ctx, lb, C, -100));
        CLNN_ASSERT_OK(clnn_mse_loss(clnn_test_ctx, z, t, CLNN_REDUCTION_MEAN, loss, dz));
        CLNN_ASSERT_OK(clnn_bce_with_logits_loss(clnn_test_ctx, z, t, CLNN_REDUCTION_SUM, loss,
                                                 NULL));
    }
    assert_none_created(before, "the losses' second calls");
    clnn_tensor_destroy(z), clnn_tensor_destroy(t), clnn_tensor_destroy(dz);
    clnn_tensor_destroy(loss);
    clnn_tensor_destroy(lb);
    free(labels);
}

/* The dense layer: y = x W^T takes the transposed-operand path on CPU forms at the full shape
 * (2^27 multiply-adds and more); the backward takes dy^T x and the bias reduction. */
static void test_dense(void **state)
{
    (void)state;
    require_counting();
    size_t batch = CLNN_TEST_SHAPE(512, 20), in = CLNN_TEST_SHAPE(512, 24),
           out = CLNN_TEST_SHAPE(512, 36);
    clnn_tensor *x = random_tensor(batch, in), *w = random_tensor(out, in);
    clnn_tensor *b = random_tensor(0, out), *y = random_tensor(batch, out);
    clnn_tensor *dx = random_tensor(batch, in), *dw = random_tensor(out, in);
    clnn_tensor *db = random_tensor(0, out);
    size_t before = 0;
    for (int pass = 0; pass < 2; ++pass) {
        if (pass == 1)
            before = buffers_created;
        CLNN_ASSERT_OK(clnn_dense_forward(clnn_test_ctx, x, w, b, y));
        CLNN_ASSERT_OK(clnn_dense_backward(clnn_test_ctx, x, w, y, dx, dw, db, 0.0f));
    }
    CLNN_ASSERT_OK(clnn_context_finish(clnn_test_ctx));
    assert_none_created(before, "the dense layer's second calls");
    clnn_tensor *all[] = {x, w, b, y, dx, dw, db};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        clnn_tensor_destroy(all[i]);
}

/* A context made on the test context's queue has a pool of its own: it creates its scratch on
 * first use, none on the second, and releases all of it when destroyed, leaving the test
 * context's pool working. */
static void test_context_on_shared_queue(void **state)
{
    (void)state;
    require_counting();
    cl_command_queue q;
    CLNN_ASSERT_OK(clnn_context_get_queue(clnn_test_ctx, &q));
    size_t created = buffers_created, released = buffers_released;
    clnn_context *ctx = NULL;
    CLNN_ASSERT_OK(clnn_context_create_with_queue(&ctx, q));
    clnn_tensor *t = NULL;
    size_t n = 5000;
    CLNN_ASSERT_OK(clnn_tensor_create(ctx, 1, &n, &t));
    CLNN_ASSERT_OK(clnn_tensor_fill(t, 2.0f));
    float norm = 0.0f;
    CLNN_ASSERT_OK(clnn_global_norm(&t, 1, CLNN_NORM_L2, &norm));
    size_t before = buffers_created;
    if (before - created < 3)
        fail_msg("the new context created %zu buffers: expected its tensor and its own scratch",
                 before - created);
    CLNN_ASSERT_OK(clnn_global_norm(&t, 1, CLNN_NORM_L2, &norm));
    assert_none_created(before, "the shared-queue context's second norm");
    CLNN_ASSERT_OK(clnn_tensor_destroy(t));
    CLNN_ASSERT_OK(clnn_context_destroy(ctx));
    if (buffers_released - released != buffers_created - created)
        fail_msg("the shared-queue context created %zu buffers and released %zu",
                 buffers_created - created, buffers_released - released);
    clnn_tensor *u = random_tensor(0, 100);
    CLNN_ASSERT_OK(clnn_global_norm(&u, 1, CLNN_NORM_L2, &norm));
    clnn_tensor_destroy(u);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_interposition),
    cmocka_unit_test_setup_teardown(test_mlp_cross_entropy, fresh_context, group_context),
    cmocka_unit_test_setup_teardown(test_mlp_mse, fresh_context, group_context),
    cmocka_unit_test(test_batch_norm),
    cmocka_unit_test_setup_teardown(test_smaller_batches, fresh_context, group_context),
    cmocka_unit_test_setup_teardown(test_cnn, fresh_context, group_context),
    cmocka_unit_test(test_bias_activation_backward),
    cmocka_unit_test(test_prelu_backward),
    cmocka_unit_test(test_clip),
    cmocka_unit_test(test_losses),
    cmocka_unit_test(test_dense),
    cmocka_unit_test(test_context_on_shared_queue),
};

CLNN_TEST_MAIN("workspace", tests)
