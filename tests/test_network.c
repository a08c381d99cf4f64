/*
 * Tests of the network engine (src/network.c, src/layer*.c): whole-network gradients against
 * central finite differences of the double-precision reference (tests/ref/network_ref.c) for
 * residual blocks with identity and projection skips, nested blocks, 2-D and NCHW activations,
 * and convolutional networks (grouped, depthwise, dilated and strided convolutions, both
 * poolings, a strided 1x1 projection); training steps against the reference; inputs from device tensors; exact resume
 * from checkpoints and the rejection of damaged or mismatched files; warm-ups that change
 * nothing; the programs a network builds ahead (clnn_network_build_programs); and bad specs.
 */
#include "clnn_test.h"
#include "network_ref.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static clnn_activation_desc act(clnn_activation kind)
{
    clnn_activation_desc d;
    clnn_activation_desc_init(&d, kind);
    return d;
}

/* The networks under test, built into a fresh spec. */
typedef enum net_kind {
    NET_IDENTITY,
    NET_PROJECTION_FIRST,
    NET_NCHW,
    NET_NESTED,
    NET_CNN,
    NET_CNN_GROUPS
} net_kind;

static clnn_network_spec *make_spec(net_kind kind, clnn_loss_kind *loss)
{
    clnn_network_spec *s = NULL;
    /* tanh only, and ReLU where a residual block ends (kernels of the shared program): every
     * activation is checked by test_activation, and each further kind is two more programs to
     * compile per kernel form (minutes on llvmpipe). */
    clnn_activation_desc tanh_ = act(CLNN_ACTIVATION_TANH);
    switch (kind) {
    case NET_IDENTITY: /* dense, then a residual block with batch norm, identity skip, tanh */
        CLNN_ASSERT_OK(clnn_network_spec_create(&s, 1, (size_t[]){7}));
        CLNN_ASSERT_OK(clnn_network_spec_add_dense(s, 6, &tanh_));
        CLNN_ASSERT_OK(clnn_network_spec_begin_residual(s));
        CLNN_ASSERT_OK(clnn_network_spec_add_dense(s, 6, NULL));
        CLNN_ASSERT_OK(clnn_network_spec_add_batch_norm(s, &tanh_));
        CLNN_ASSERT_OK(clnn_network_spec_end_residual(s, CLNN_RESIDUAL_IDENTITY, &tanh_));
        CLNN_ASSERT_OK(clnn_network_spec_add_dense(s, 5, NULL));
        *loss = CLNN_LOSS_CROSS_ENTROPY;
        break;
    case NET_PROJECTION_FIRST: { /* a projected block as the first layer, then PReLU */
        CLNN_ASSERT_OK(clnn_network_spec_create(&s, 1, (size_t[]){5}));
        CLNN_ASSERT_OK(clnn_network_spec_begin_residual(s));
        CLNN_ASSERT_OK(clnn_network_spec_add_dense(s, 6, &tanh_));
        CLNN_ASSERT_OK(clnn_network_spec_add_dense(s, 4, NULL));
        CLNN_ASSERT_OK(clnn_network_spec_end_residual(s, CLNN_RESIDUAL_PROJECTION, NULL));
        clnn_layer_spec prelu;
        CLNN_ASSERT_OK(clnn_layer_spec_init(&prelu, CLNN_LAYER_PRELU));
        prelu.prelu_per_channel = 1;
        CLNN_ASSERT_OK(clnn_network_spec_add(s, &prelu));
        CLNN_ASSERT_OK(clnn_network_spec_add_dense(s, 3, NULL));
        *loss = CLNN_LOSS_MSE;
        break;
    }
    case NET_NCHW: { /* NCHW: batch norm per channel, a block whose body starts with batch norm */
        CLNN_ASSERT_OK(clnn_network_spec_create(&s, 3, (size_t[]){3, 4, 5}));
        CLNN_ASSERT_OK(clnn_network_spec_add_batch_norm(s, &tanh_));
        CLNN_ASSERT_OK(clnn_network_spec_begin_residual(s));
        CLNN_ASSERT_OK(clnn_network_spec_add_batch_norm(s, &tanh_));
        CLNN_ASSERT_OK(clnn_network_spec_add_activation(s, &tanh_));
        CLNN_ASSERT_OK(clnn_network_spec_end_residual(s, CLNN_RESIDUAL_IDENTITY, NULL));
        clnn_layer_spec prelu;
        CLNN_ASSERT_OK(clnn_layer_spec_init(&prelu, CLNN_LAYER_PRELU));
        prelu.prelu_per_channel = 1;
        CLNN_ASSERT_OK(clnn_network_spec_add(s, &prelu));
        CLNN_ASSERT_OK(clnn_network_spec_add_flatten(s));
        CLNN_ASSERT_OK(clnn_network_spec_add_dense(s, 4, NULL));
        *loss = CLNN_LOSS_CROSS_ENTROPY;
        break;
    }
    case NET_NESTED: /* a block inside a block, binary cross-entropy */ {
        /* The inner block ends in ReLU (its own kernels, kernels/core.cl), adding its skip's
         * share into a gradient the outer block has started. */
        clnn_activation_desc relu = act(CLNN_ACTIVATION_RELU);
        CLNN_ASSERT_OK(clnn_network_spec_create(&s, 1, (size_t[]){6}));
        CLNN_ASSERT_OK(clnn_network_spec_add_dense(s, 6, &tanh_));
        CLNN_ASSERT_OK(clnn_network_spec_begin_residual(s));
        CLNN_ASSERT_OK(clnn_network_spec_begin_residual(s));
        CLNN_ASSERT_OK(clnn_network_spec_add_dense(s, 6, &tanh_));
        CLNN_ASSERT_OK(clnn_network_spec_end_residual(s, CLNN_RESIDUAL_IDENTITY, &relu));
        CLNN_ASSERT_OK(clnn_network_spec_add_dense(s, 6, NULL));
        CLNN_ASSERT_OK(clnn_network_spec_end_residual(s, CLNN_RESIDUAL_IDENTITY, &tanh_));
        CLNN_ASSERT_OK(clnn_network_spec_add_dense(s, 3, NULL));
        *loss = CLNN_LOSS_BCE_WITH_LOGITS;
        break;
    }
    case NET_CNN: {
        /* A small residual CNN on 2x5x4 images: a convolution with bias and tanh, overlapping
         * max pooling, a block whose body halves the image (stride 2) with batch norm, so the
         * skip is a strided 1x1 convolution, ending in ReLU (kernels/core.cl's pair, not
         * activation.cl), then global average pooling and the classifier.
         * Images stay under 32 pixels, so that the products stay in the small GEMM kernels:
         * the CPU forms' blocked kernel takes 45 s to compile on llvmpipe, and test_conv
         * covers it at full size. */
        size_t in[3] = {2, 5, 4};
        CLNN_ASSERT_OK(clnn_network_spec_parse("conv3k3p1:tanh,maxpool3s1p1,"
                                               "res[conv4k3s2p1nb,bn:tanh,conv4k1]proj:relu,gap,"
                                               "dense3",
                                               3, in, &s));
        *loss = CLNN_LOSS_CROSS_ENTROPY;
        break;
    }
    case NET_CNN_GROUPS: {
        /* Grouped, depthwise and dilated convolutions, a non-square kernel, average pooling
         * with padding left out of the divisor, an identity block on 4-D activations, flatten. */
        size_t in[3] = {4, 4, 3};
        CLNN_ASSERT_OK(clnn_network_spec_parse("conv4k3x2p1g2:tanh,res[conv4k3p1g4nb,bn:tanh,"
                                               "conv4k3p2d2]:tanh,avgpool3s2p1ex,flatten,dense3",
                                               3, in, &s));
        *loss = CLNN_LOSS_MSE;
        break;
    }
    }
    return s;
}

/* A network of `kind` with random parameters, and its reference holding the same values. */
typedef struct fixture {
    clnn_network *net;
    clnn_network_spec *spec;
    network_ref ref;
    clnn_layer_spec records[64];
    clnn_tensor *params[64], *grads[64];
    size_t in_size, out_size;
} fixture;

static void fixture_make(fixture *f, net_kind kind, size_t max_batch,
                         const clnn_optimizer_options *optimizer)
{
    memset(f, 0, sizeof *f);
    clnn_network_options options;
    CLNN_ASSERT_OK(clnn_network_options_init(&options));
    f->spec = make_spec(kind, &options.loss);
    options.seed = clnn_test_random_u64();
    if (optimizer)
        options.train.optimizer = *optimizer;
    CLNN_ASSERT_OK(clnn_network_create(clnn_test_ctx, f->spec, &options, max_batch, &f->net));

    size_t count = 0;
    CLNN_ASSERT_OK(clnn_network_spec_get_layer_count(f->spec, &count));
    assert_true(count <= 64);
    for (size_t i = 0; i < count; ++i)
        CLNN_ASSERT_OK(clnn_network_spec_get_layer(f->spec, i, &f->records[i]));
    int in_ndim = 0, out_ndim = 0;
    size_t in_dims[3] = {1, 1, 1}, out_dims[3] = {1, 1, 1};
    CLNN_ASSERT_OK(clnn_network_get_shapes(f->net, &in_ndim, in_dims, &out_ndim, out_dims, NULL));
    f->in_size = in_dims[0] * in_dims[1] * in_dims[2];
    f->out_size = out_dims[0] * out_dims[1] * out_dims[2];
    f->ref.records = f->records;
    f->ref.count = count;
    f->ref.in_ndim = in_ndim;
    memcpy(f->ref.in_dims, in_dims, sizeof in_dims);
    f->ref.loss = options.loss;

    size_t n = 0;
    CLNN_ASSERT_OK(clnn_network_get_parameters(f->net, f->params, f->grads, 64, &n));
    f->ref.param_count = n;
    f->ref.params = clnn_test_alloc(n * sizeof *f->ref.params);
    f->ref.param_sizes = clnn_test_alloc(n * sizeof *f->ref.param_sizes);
    /* Parameters drawn fresh so that no value sits at its initial constant (gamma 1, bias 0). */
    for (size_t p = 0; p < n; ++p) {
        size_t size = 0;
        CLNN_ASSERT_OK(clnn_tensor_get_count(f->params[p], &size));
        float *v = clnn_test_alloc(size * sizeof *v);
        clnn_test_fill_uniform(v, size, -0.8, 0.8);
        CLNN_ASSERT_OK(clnn_tensor_upload(f->params[p], v, size));
        f->ref.param_sizes[p] = size;
        f->ref.params[p] = clnn_test_alloc(size * sizeof(double));
        for (size_t i = 0; i < size; ++i)
            f->ref.params[p][i] = v[i];
        free(v);
    }
}

static void fixture_free(fixture *f)
{
    for (size_t p = 0; p < f->ref.param_count; ++p)
        free(f->ref.params[p]);
    free(f->ref.params);
    free(f->ref.param_sizes);
    clnn_network_destroy(f->net);
    clnn_network_spec_destroy(f->spec);
}

/* Inputs and targets for a batch: labels for cross-entropy, else targets in [0, 1]. */
static void make_batch(const fixture *f, size_t batch, float *x, double *xd, void *y)
{
    clnn_test_fill_uniform(x, batch * f->in_size, -1.5, 1.5);
    for (size_t i = 0; i < batch * f->in_size; ++i)
        xd[i] = x[i];
    if (f->ref.loss == CLNN_LOSS_CROSS_ENTROPY) {
        int32_t *labels = y;
        for (size_t i = 0; i < batch; ++i)
            labels[i] = (int32_t)(clnn_test_random_u64() % f->out_size);
    } else {
        clnn_test_fill_uniform(y, batch * f->out_size, 0.0, 1.0);
    }
}

/* Gradients of every parameter tensor against the reference's finite differences. Tolerance:
 * float32 forward and backward passes through up to eight layers, with batch-norm backward
 * subtracting means (cancellation relative to the tensor's largest entry), give errors of a
 * few 1e-6 of the largest gradient on POCL; devices whose exp and tanh are a few ulp off add
 * as much. 2e-4 of the tensor's largest entry, plus 2e-3 relative, keeps a wide margin, while a
 * missing skip contribution or a wrong layer is off by the gradient's own size. */
static void check_gradients(fixture *f, size_t batch)
{
    float *x = clnn_test_alloc(batch * f->in_size * sizeof *x);
    double *xd = clnn_test_alloc(batch * f->in_size * sizeof *xd);
    float *y = clnn_test_alloc(batch * f->out_size * sizeof *y);
    make_batch(f, batch, x, xd, y);

    clnn_network_health health;
    clnn_layer_health layers[16];
    CLNN_ASSERT_OK(clnn_network_probe_health(f->net, x, y, batch, NULL, &health, layers, 16));
    double ref_loss = network_ref_loss(&f->ref, xd, batch, y);
    float loss = health.loss;
    clnn_test_assert_close("loss", &loss, &ref_loss, 1, 1e-5, 1e-6);

    size_t n = f->ref.param_count;
    double **ref_grads = clnn_test_alloc(n * sizeof *ref_grads);
    for (size_t p = 0; p < n; ++p)
        ref_grads[p] = clnn_test_alloc(f->ref.param_sizes[p] * sizeof(double));
    /* A step of 1e-7 rather than 1e-5: a difference across a kink of ReLU, PReLU or a max
     * (an input within the step of one) is off by the kink's share, which at 1e-5 put one
     * gradient in about 50 draws 0.4% off; in double the smaller step costs about 1e-9. */
    network_ref_gradients(&f->ref, xd, batch, y, 1e-7, ref_grads);
    for (size_t p = 0; p < n; ++p) {
        size_t size = f->ref.param_sizes[p];
        float *got = clnn_test_alloc(size * sizeof *got);
        clnn_test_download(f->grads[p], got, size);
        double largest = 0.0;
        for (size_t i = 0; i < size; ++i)
            largest = fmax(largest, fabs(ref_grads[p][i]));
        char what[64];
        snprintf(what, sizeof what, "gradient of parameter tensor %zu", p);
        clnn_test_assert_close(what, got, ref_grads[p], size, 2e-3, 2e-4 * largest + 1e-7);
        free(got);
        free(ref_grads[p]);
    }
    free(ref_grads);
    free(x);
    free(xd);
    free(y);
}

/* Each network at a batch below its largest (the workspace views at fewer rows). */
static void gradient_case(net_kind kind, size_t batch)
{
    fixture f;
    fixture_make(&f, kind, batch + 3, NULL);
    check_gradients(&f, batch);
    fixture_free(&f);
}

static void test_gradients_identity_block(void **state)
{
    (void)state;
    gradient_case(NET_IDENTITY, 9);
}

static void test_gradients_projection_block_first(void **state)
{
    (void)state;
    gradient_case(NET_PROJECTION_FIRST, 6);
}

static void test_gradients_nchw(void **state)
{
    (void)state;
    gradient_case(NET_NCHW, 5);
}

static void test_gradients_nested_blocks(void **state)
{
    (void)state;
    gradient_case(NET_NESTED, 4);
}

static void test_gradients_residual_cnn(void **state)
{
    (void)state;
    gradient_case(NET_CNN, 3);
}

static void test_gradients_grouped_cnn(void **state)
{
    (void)state;
    gradient_case(NET_CNN_GROUPS, 2);
}

/* Three SGD steps against the reference stepped with its own finite-difference gradients, the
 * rate from a schedule (StepLR, gamma 0.5 each step: 0.1, 0.05, 0.025). */
static void test_training_matches_reference(void **state)
{
    (void)state;
    clnn_optimizer_options sgd;
    CLNN_ASSERT_OK(clnn_optimizer_options_init(&sgd, CLNN_OPTIMIZER_SGD));
    sgd.lr = 0.1;
    fixture f;
    fixture_make(&f, NET_IDENTITY, 8, &sgd);
    clnn_lr_schedule schedule;
    CLNN_ASSERT_OK(clnn_lr_schedule_init(&schedule, CLNN_LR_STEP, 0.1));
    schedule.gamma = 0.5;
    CLNN_ASSERT_OK(clnn_network_set_lr_schedule(f.net, &schedule));
    const size_t batch = 8;
    float x[8 * 7];
    double xd[8 * 7];
    int32_t y[8];
    size_t n = f.ref.param_count;
    double **g = clnn_test_alloc(n * sizeof *g);
    for (size_t p = 0; p < n; ++p)
        g[p] = clnn_test_alloc(f.ref.param_sizes[p] * sizeof(double));
    for (int step = 0; step < 3; ++step) {
        make_batch(&f, batch, x, xd, y);
        clnn_step_info info;
        CLNN_ASSERT_OK(clnn_network_train_step(f.net, x, y, batch, &info));
        assert_int_equal(info.skipped, 0);
        network_ref_gradients(&f.ref, xd, batch, y, 1e-5, g);
        double lr = 0.1 * pow(0.5, step);
        for (size_t p = 0; p < n; ++p)
            for (size_t i = 0; i < f.ref.param_sizes[p]; ++i)
                f.ref.params[p][i] -= lr * g[p][i];
    }
    uint64_t steps = 0;
    CLNN_ASSERT_OK(clnn_network_get_step(f.net, &steps));
    assert_int_equal(steps, 3);
    /* Parameters of about 1 after three steps of 0.1 x gradients that match to the tolerance of
     * check_gradients: 1e-4 absolute leaves a wide margin. */
    for (size_t p = 0; p < n; ++p) {
        size_t size = f.ref.param_sizes[p];
        float *got = clnn_test_alloc(size * sizeof *got);
        clnn_test_download(f.params[p], got, size);
        clnn_test_assert_close("parameters after three steps", got, f.ref.params[p], size, 1e-4,
                               1e-4);
        free(got);
        free(g[p]);
    }
    free(g);
    fixture_free(&f);
}

/* Device-tensor inputs (int32 labels) train exactly as host inputs do, and predict alike. */
static void test_device_tensor_inputs(void **state)
{
    (void)state;
    clnn_network_spec *spec = NULL;
    clnn_loss_kind loss;
    spec = make_spec(NET_NCHW, &loss);
    clnn_network_options options;
    CLNN_ASSERT_OK(clnn_network_options_init(&options));
    options.loss = loss;
    options.seed = clnn_test_random_u64();
    clnn_network *host = NULL, *device = NULL;
    CLNN_ASSERT_OK(clnn_network_create(clnn_test_ctx, spec, &options, 6, &host));
    CLNN_ASSERT_OK(clnn_network_create(clnn_test_ctx, spec, &options, 6, &device));
    const size_t batch = 5, in = 3 * 4 * 5;
    float x[6 * 60];
    int32_t y[6];
    clnn_tensor *tx = NULL, *ty = NULL, *out = NULL;
    CLNN_ASSERT_OK(clnn_tensor_create(clnn_test_ctx, 4, (size_t[]){batch, 3, 4, 5}, &tx));
    CLNN_ASSERT_OK(clnn_tensor_create_int32(clnn_test_ctx, 1, &batch, &ty));
    CLNN_ASSERT_OK(clnn_tensor_create(clnn_test_ctx, 2, (size_t[]){batch, 4}, &out));
    clnn_dtype dtype;
    CLNN_ASSERT_OK(clnn_tensor_get_dtype(ty, &dtype));
    assert_int_equal(dtype, CLNN_DTYPE_INT32);
    for (int step = 0; step < 2; ++step) {
        clnn_test_fill_uniform(x, batch * in, -1.0, 1.0);
        for (size_t i = 0; i < batch; ++i)
            y[i] = (int32_t)(clnn_test_random_u64() % 4);
        CLNN_ASSERT_OK(clnn_tensor_upload(tx, x, batch * in));
        CLNN_ASSERT_OK(clnn_tensor_upload_int32(ty, y, batch));
        int32_t back[6];
        CLNN_ASSERT_OK(clnn_tensor_download_int32(ty, back, batch));
        assert_memory_equal(back, y, batch * sizeof *y);
        clnn_step_info a, b;
        CLNN_ASSERT_OK(clnn_network_train_step(host, x, y, batch, &a));
        CLNN_ASSERT_OK(clnn_network_train_step_tensors(device, tx, ty, &b));
        assert_memory_equal(&a.loss, &b.loss, sizeof a.loss);
    }
    /* The same kernels on the same data: the same bits. */
    clnn_tensor *pa[16], *pb[16];
    size_t na = 0, nb = 0;
    CLNN_ASSERT_OK(clnn_network_get_parameters(host, pa, NULL, 16, &na));
    CLNN_ASSERT_OK(clnn_network_get_parameters(device, pb, NULL, 16, &nb));
    assert_int_equal(na, nb);
    for (size_t p = 0; p < na; ++p) {
        size_t size = 0;
        CLNN_ASSERT_OK(clnn_tensor_get_count(pa[p], &size));
        float *va = clnn_test_alloc(size * sizeof *va), *vb = clnn_test_alloc(size * sizeof *vb);
        clnn_test_download(pa[p], va, size);
        clnn_test_download(pb[p], vb, size);
        assert_memory_equal(va, vb, size * sizeof *va);
        free(va);
        free(vb);
    }
    float predicted[6 * 4], from_tensor[6 * 4];
    CLNN_ASSERT_OK(clnn_network_predict(host, x, batch, predicted));
    clnn_test_poison(out);
    CLNN_ASSERT_OK(clnn_network_predict_tensors(device, tx, out));
    clnn_test_download(out, from_tensor, batch * 4);
    assert_memory_equal(predicted, from_tensor, batch * 4 * sizeof(float));
    /* A float tensor where labels belong, and labels for another batch, are refused. */
    CLNN_ASSERT_STATUS(clnn_network_train_step_tensors(device, tx, out, NULL),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_tensor_upload(ty, x, batch), CLNN_ERR_INVALID_ARGUMENT);
    clnn_tensor_destroy(tx);
    clnn_tensor_destroy(ty);
    clnn_tensor_destroy(out);
    clnn_network_destroy(host);
    clnn_network_destroy(device);
    clnn_network_spec_destroy(spec);
}

/* Parameters, running statistics and optimiser state of a network, as bytes. */
static size_t snapshot(clnn_network *net, float *out, size_t capacity)
{
    clnn_tensor *params[32];
    size_t count = 0, used = 0;
    CLNN_ASSERT_OK(clnn_network_get_parameters(net, params, NULL, 32, &count));
    for (size_t p = 0; p < count; ++p) {
        size_t size = 0;
        CLNN_ASSERT_OK(clnn_tensor_get_count(params[p], &size));
        assert_true(used + size <= capacity);
        clnn_test_download(params[p], out + used, size);
        used += size;
    }
    return used;
}

/* Dropout, batch norm and a residual block; Adam. */
static clnn_network *resumable(clnn_network_spec **spec, uint64_t seed)
{
    clnn_activation_desc tanh_ = act(CLNN_ACTIVATION_TANH); /* see make_spec */
    CLNN_ASSERT_OK(clnn_network_spec_create(spec, 1, (size_t[]){8}));
    CLNN_ASSERT_OK(clnn_network_spec_add_dense(*spec, 16, &tanh_));
    CLNN_ASSERT_OK(clnn_network_spec_add_dropout(*spec, 0.3f));
    CLNN_ASSERT_OK(clnn_network_spec_begin_residual(*spec));
    CLNN_ASSERT_OK(clnn_network_spec_add_dense(*spec, 16, NULL));
    CLNN_ASSERT_OK(clnn_network_spec_add_batch_norm(*spec, &tanh_));
    CLNN_ASSERT_OK(clnn_network_spec_add_dropout(*spec, 0.2f));
    CLNN_ASSERT_OK(clnn_network_spec_end_residual(*spec, CLNN_RESIDUAL_IDENTITY, NULL));
    CLNN_ASSERT_OK(clnn_network_spec_add_dense(*spec, 4, NULL));
    clnn_network_options options;
    CLNN_ASSERT_OK(clnn_network_options_init(&options));
    options.seed = seed;
    clnn_network *net = NULL;
    CLNN_ASSERT_OK(clnn_network_create(clnn_test_ctx, *spec, &options, 10, &net));
    return net;
}

static void test_checkpoint_resume_is_exact(void **state)
{
    (void)state;
    char dir[512], path[600], bad[600];
    clnn_test_make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/net.ckpt", dir);
    snprintf(bad, sizeof bad, "%s/bad.ckpt", dir);
    float x[5][10 * 8];
    int32_t y[5][10];
    for (int s = 0; s < 5; ++s) {
        clnn_test_fill_uniform(x[s], 10 * 8, -1.0, 1.0);
        for (int i = 0; i < 10; ++i)
            y[s][i] = (int32_t)(clnn_test_random_u64() % 4);
    }
    clnn_network_spec *spec = NULL, *spec2 = NULL;
    clnn_network *a = resumable(&spec, clnn_test_random_u64());
    for (int s = 0; s < 3; ++s)
        CLNN_ASSERT_OK(clnn_network_train_step(a, x[s], y[s], s == 2 ? 7 : 10, NULL));
    CLNN_ASSERT_OK(clnn_network_save(a, path, "epoch 1", 7));
    for (int s = 3; s < 5; ++s)
        CLNN_ASSERT_OK(clnn_network_train_step(a, x[s], y[s], 10, NULL));

    clnn_network *b = resumable(&spec2, 7); /* another seed: the file's is adopted */
    char user[16];
    size_t user_size = 0;
    CLNN_ASSERT_OK(clnn_network_load(b, path, user, sizeof user, &user_size));
    assert_int_equal(user_size, 7);
    assert_memory_equal(user, "epoch 1", 7);
    for (int s = 3; s < 5; ++s)
        CLNN_ASSERT_OK(clnn_network_train_step(b, x[s], y[s], 10, NULL));
    static float va[4096], vb[4096];
    size_t na = snapshot(a, va, 4096), nb = snapshot(b, vb, 4096);
    assert_int_equal(na, nb);
    assert_memory_equal(va, vb, na * sizeof *va);

    /* Damaged, truncated, foreign-version and mismatched files leave the network untouched. */
    FILE *in = fopen(path, "rb");
    assert_non_null(in);
    static unsigned char bytes[1 << 16];
    size_t length = fread(bytes, 1, sizeof bytes, in);
    fclose(in);
    assert_true(length > 200 && length < sizeof bytes);
    size_t before = snapshot(b, va, 4096);
    struct {
        size_t at, length;
        int flip;
        clnn_status expected;
    } damage[] = {{length / 2, length, 1, CLNN_ERR_CORRUPT},
                  {0, length - 9, 0, CLNN_ERR_CORRUPT},
                  {0, 30, 0, CLNN_ERR_CORRUPT}};
    for (size_t d = 0; d < sizeof damage / sizeof damage[0]; ++d) {
        FILE *out = fopen(bad, "wb");
        assert_non_null(out);
        unsigned char keep = bytes[damage[d].at];
        if (damage[d].flip)
            bytes[damage[d].at] ^= 0x10;
        fwrite(bytes, 1, damage[d].length, out);
        fclose(out);
        bytes[damage[d].at] = keep;
        clnn_status got = clnn_network_load(b, bad, NULL, 0, NULL);
        assert_int_not_equal(got, CLNN_SUCCESS);
        snapshot(b, vb, 4096);
        assert_memory_equal(va, vb, before * sizeof *va);
    }
    /* The MLP format (1) is read only into MLPs. */
    CLNN_ASSERT_STATUS(clnn_network_load(b, CLNN_TEST_DATA_DIR "/mlp_v1.ckpt", NULL, 0, NULL),
                       CLNN_ERR_FORMAT);
    /* Another network: mismatch. */
    clnn_network_spec *other_spec = NULL;
    CLNN_ASSERT_OK(clnn_network_spec_create(&other_spec, 1, (size_t[]){8}));
    CLNN_ASSERT_OK(clnn_network_spec_add_dense(other_spec, 4, NULL));
    clnn_network *other = NULL;
    CLNN_ASSERT_OK(clnn_network_create(clnn_test_ctx, other_spec, NULL, 4, &other));
    CLNN_ASSERT_STATUS(clnn_network_load(other, path, NULL, 0, NULL), CLNN_ERR_MISMATCH);
    uint64_t steps = 1;
    CLNN_ASSERT_OK(clnn_network_get_step(other, &steps));
    assert_int_equal(steps, 0);
    clnn_network_destroy(other);
    clnn_network_spec_destroy(other_spec);
    clnn_network_destroy(a);
    clnn_network_destroy(b);
    clnn_network_spec_destroy(spec);
    clnn_network_spec_destroy(spec2);
    clnn_test_remove_tree(dir);
}

/* Health: one entry per top-level layer, weights measured for dense layers only. */
static void test_health(void **state)
{
    (void)state;
    fixture f;
    fixture_make(&f, NET_IDENTITY, 8, NULL);
    float x[8 * 7], y[8];
    double xd[8 * 7];
    make_batch(&f, 8, x, xd, y);
    clnn_network_health health;
    clnn_layer_health layers[8];
    clnn_step_info info;
    CLNN_ASSERT_OK(clnn_network_train_step_health(f.net, x, y, 8, NULL, &info, &health, layers,
                                                  8));
    assert_int_equal(health.layer_count, 3);
    assert_int_equal(layers[0].type, CLNN_LAYER_DENSE);
    assert_int_equal(layers[1].type, CLNN_LAYER_RESIDUAL_BEGIN);
    assert_true(layers[0].has_weight && !layers[1].has_weight && layers[2].has_weight);
    assert_true(layers[0].weight_norm > 0.0f && layers[0].update_ratio > 0.0f);
    assert_true(layers[1].activation_std > 0.0f);
    assert_true(isfinite(health.grad_norm_ratio) && health.grad_norm_ratio > 0.0f);
    assert_true(fabsf(health.loss - info.loss) <= 1e-6f * fabsf(info.loss));
    CLNN_ASSERT_STATUS(clnn_network_train_step_health(f.net, x, y, 8, NULL, &info, &health,
                                                      layers, 2),
                       CLNN_ERR_INVALID_ARGUMENT);
    fixture_free(&f);
}

/* A CNN's health: convolution weights are measured like dense ones; and its checkpoint restores
 * parameters, running statistics and optimiser state exactly, so the next step is the same. */
static void test_cnn_health_and_checkpoint(void **state)
{
    (void)state;
    fixture f;
    fixture_make(&f, NET_CNN, 4, NULL);
    float x[4 * 40];
    double xd[4 * 40];
    int32_t y[4];
    make_batch(&f, 4, x, xd, y);
    clnn_network_health health;
    clnn_layer_health layers[8];
    clnn_step_info info;
    CLNN_ASSERT_OK(clnn_network_train_step_health(f.net, x, y, 4, NULL, &info, &health, layers,
                                                  8));
    assert_int_equal(health.layer_count, 5);
    assert_int_equal(layers[0].type, CLNN_LAYER_CONV2D);
    assert_int_equal(layers[1].type, CLNN_LAYER_POOL2D);
    assert_int_equal(layers[3].type, CLNN_LAYER_GLOBAL_AVG_POOL);
    assert_true(layers[0].has_weight && !layers[1].has_weight && layers[4].has_weight);
    /* The block ends in ReLU before global average pooling: in about one draw in 30 every one
     * of its outputs is negative for every sample, the network then passes no gradient at all,
     * and the convolution's gradient and update are 0, correctly. */
    int block_alive = layers[2].activation_std > 0.0f;
    assert_true(layers[0].weight_norm > 0.0f);
    assert_true(block_alive ? layers[0].update_ratio > 0.0f : layers[0].update_ratio == 0.0f);
    assert_true(isfinite(layers[0].weight_grad_norm) &&
                (layers[0].weight_grad_norm > 0.0f) == block_alive);

    char dir[512], path[600];
    clnn_test_make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/cnn.ckpt", dir);
    CLNN_ASSERT_OK(clnn_network_save(f.net, path, NULL, 0));
    clnn_network *b = NULL;
    clnn_network_options options;
    CLNN_ASSERT_OK(clnn_network_options_init(&options));
    options.seed = 12345; /* another initialisation: everything must come from the file */
    CLNN_ASSERT_OK(clnn_network_create(clnn_test_ctx, f.spec, &options, 4, &b));
    CLNN_ASSERT_OK(clnn_network_load(b, path, NULL, 0, NULL));
    clnn_step_info info_a, info_b;
    CLNN_ASSERT_OK(clnn_network_train_step(f.net, x, y, 4, &info_a));
    CLNN_ASSERT_OK(clnn_network_train_step(b, x, y, 4, &info_b));
    assert_memory_equal(&info_a.loss, &info_b.loss, sizeof info_a.loss);
    static float pa[4096], pb[4096];
    size_t na = snapshot(f.net, pa, 4096), nb = snapshot(b, pb, 4096);
    assert_int_equal(na, nb);
    assert_memory_equal(pa, pb, na * sizeof(float));
    /* The same geometry spelled out loads; average pooling where max was is refused. */
    clnn_network_spec *other_spec = NULL;
    size_t in[3] = {2, 5, 4};
    CLNN_ASSERT_OK(clnn_network_spec_parse("conv3k3p1s1x1:tanh,maxpool3s1p1,"
                                           "res[conv4k3s2p1nb,bn:tanh,conv4k1]proj:relu,gap,dense3",
                                           3, in, &other_spec));
    clnn_network *same = NULL;
    CLNN_ASSERT_OK(clnn_network_create(clnn_test_ctx, other_spec, NULL, 4, &same));
    CLNN_ASSERT_OK(clnn_network_load(same, path, NULL, 0, NULL)); /* s1x1 is the default */
    clnn_network_destroy(same);
    clnn_network_spec_destroy(other_spec);
    CLNN_ASSERT_OK(clnn_network_spec_parse("conv3k3p1d1:tanh,avgpool3s1p1,"
                                           "res[conv4k3s2p1nb,bn:tanh,conv4k1]proj:relu,gap,dense3",
                                           3, in, &other_spec));
    CLNN_ASSERT_OK(clnn_network_create(clnn_test_ctx, other_spec, NULL, 4, &same));
    CLNN_ASSERT_STATUS(clnn_network_load(same, path, NULL, 0, NULL), CLNN_ERR_MISMATCH);
    clnn_network_destroy(same);
    clnn_network_spec_destroy(other_spec);
    clnn_network_destroy(b);
    clnn_test_remove_tree(dir);
    fixture_free(&f);
}

/* Two networks of one spec and options: a warmed up in every way (before its first step and
 * after one), b not; both train the same batches. Warming up changes nothing, so their losses,
 * parameters and evaluations (running statistics) agree bit for bit. */
static void warm_up_case(const clnn_network_spec *spec, const clnn_network_options *options,
                         size_t in_size, size_t out_size, int labels)
{
    enum { BATCH = 6 };
    clnn_network *a = NULL, *b = NULL;
    CLNN_ASSERT_OK(clnn_network_create(clnn_test_ctx, spec, options, BATCH, &a));
    CLNN_ASSERT_OK(clnn_network_create(clnn_test_ctx, spec, options, BATCH, &b));
    static float x[2][BATCH * 72], targets[2][BATCH * 3];
    int32_t y[2][BATCH];
    assert_true(in_size <= 72 && out_size <= 3);
    for (int s = 0; s < 2; ++s) {
        clnn_test_fill_uniform(x[s], BATCH * in_size, -2.0, 2.0);
        clnn_test_fill_uniform(targets[s], BATCH * out_size, -1.0, 1.0);
        for (int i = 0; i < BATCH; ++i)
            y[s][i] = (int32_t)(clnn_test_random_u64() % out_size);
    }
    const unsigned F = CLNN_WARM_UP_FORWARD, B = CLNN_WARM_UP_BACKWARD,
                   R = CLNN_WARM_UP_REVERSED;
    const unsigned ways[] = {F | B | R, B | R, B, F, F | R, F | B};
    static float pa[4096], pb[4096];
    for (int s = 0; s < 2; ++s) {
        for (size_t w = 0; w < sizeof ways / sizeof ways[0]; ++w)
            CLNN_ASSERT_OK(clnn_network_warm_up(a, w % 2 ? BATCH : 4, ways[w]));
        uint64_t step = 99;
        CLNN_ASSERT_OK(clnn_network_get_step(a, &step));
        assert_int_equal(step, (uint64_t)s);
        const void *target = labels ? (const void *)y[s] : (const void *)targets[s];
        clnn_step_info info_a, info_b;
        CLNN_ASSERT_OK(clnn_network_train_step(a, x[s], target, BATCH, &info_a));
        CLNN_ASSERT_OK(clnn_network_train_step(b, x[s], target, BATCH, &info_b));
        assert_true(isfinite(info_a.loss));
        assert_memory_equal(&info_a.loss, &info_b.loss, sizeof info_a.loss);
        size_t na = snapshot(a, pa, 4096), nb = snapshot(b, pb, 4096);
        assert_int_equal(na, nb);
        assert_memory_equal(pa, pb, na * sizeof(float));
        double loss_a = 0, loss_b = 0;
        CLNN_ASSERT_OK(clnn_network_evaluate(a, x[s], target, BATCH, &loss_a, NULL));
        CLNN_ASSERT_OK(clnn_network_evaluate(b, x[s], target, BATCH, &loss_b, NULL));
        assert_memory_equal(&loss_a, &loss_b, sizeof loss_a);
    }
    clnn_network_destroy(a);
    clnn_network_destroy(b);
}

/* Warming up (clnn_network_warm_up) leaves nothing changed, whatever is warmed and in which
 * order: a CNN with batch norm, pooling, a residual block, dropout and clipping under Adam with
 * L2 weight decay (which would move its state if the decay were applied), and an MLP on MSE
 * under SGD with momentum; and bad arguments are refused. */
static void test_warm_up_changes_nothing(void **state)
{
    (void)state;
    clnn_network_spec *spec = NULL;
    size_t in[3] = {2, 5, 5}; /* planes under 32: the simulators' products (see test_conv.c) */
    CLNN_ASSERT_OK(clnn_network_spec_parse("conv4k3p1nb,bn:relu,maxpool2,"
                                           "res[conv4k3p1nb,bn:relu,conv4k3p1nb,bn]:relu,"
                                           "flatten,dropout0.3,dense3",
                                           3, in, &spec));
    clnn_network_options options;
    CLNN_ASSERT_OK(clnn_network_options_init(&options));
    options.seed = clnn_test_random_u64();
    options.train.optimizer.weight_decay = 0.1;
    options.train.clip_norm = 0.5f;
    warm_up_case(spec, &options, 50, 3, 1);

    clnn_network *net = NULL;
    CLNN_ASSERT_OK(clnn_network_create(clnn_test_ctx, spec, &options, 6, &net));
    const unsigned both = CLNN_WARM_UP_FORWARD | CLNN_WARM_UP_BACKWARD;
    CLNN_ASSERT_STATUS(clnn_network_warm_up(NULL, 6, both), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_network_warm_up(net, 0, both), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_network_warm_up(net, 7, both), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_network_warm_up(net, 1, both), CLNN_ERR_INVALID_SHAPE); /* BN */
    CLNN_ASSERT_STATUS(clnn_network_warm_up(net, 6, 0), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_network_warm_up(net, 6, CLNN_WARM_UP_REVERSED),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_network_warm_up(net, 6, both | 8u), CLNN_ERR_INVALID_ARGUMENT);
    clnn_network_destroy(net);
    clnn_network_spec_destroy(spec);

    clnn_activation_desc tanh_ = act(CLNN_ACTIVATION_TANH);
    CLNN_ASSERT_OK(clnn_network_spec_create(&spec, 1, (size_t[]){9}));
    CLNN_ASSERT_OK(clnn_network_spec_add_dense(spec, 7, &tanh_));
    CLNN_ASSERT_OK(clnn_network_spec_add_dense(spec, 2, NULL));
    CLNN_ASSERT_OK(clnn_network_options_init(&options));
    options.seed = clnn_test_random_u64();
    options.loss = CLNN_LOSS_MSE;
    CLNN_ASSERT_OK(clnn_optimizer_options_init(&options.train.optimizer, CLNN_OPTIMIZER_SGD));
    options.train.optimizer.lr = 0.1;
    options.train.optimizer.momentum = 0.9;
    options.train.optimizer.weight_decay = 0.01;
    warm_up_case(spec, &options, 9, 2, 0);
    clnn_network_spec_destroy(spec);
}

/* A network's programs built ahead (clnn_network_build_programs): its activations' and batch
 * norm's (creating it builds only the shared one, which its optimiser's kernel comes from); after
 * the call a training step and an evaluation build nothing more. */
static void test_network_build_programs(void **state)
{
    (void)state;
    char dir[256];
    clnn_test_make_temp_dir(dir, sizeof dir);
    /* A context of its own, on the device and forms under test, with an empty program cache. */
    clnn_context_options context_options;
    clnn_context_options_init(&context_options);
    char pair[32];
    snprintf(pair, sizeof pair, "%u:%u", clnn_test_device.platform_index,
             clnn_test_device.device_index);
    context_options.device = pair;
    context_options.cache_dir = dir;
    context_options.kernel_forms = clnn_test_profile.forms;
    clnn_context *ctx = NULL;
    CLNN_ASSERT_OK(clnn_context_create(&ctx, &context_options));
    /* Programs: shared, norm.cl for ReLU (both batch norms), activation.cl for tanh, elu (twice)
     * and sigmoid (the residual sum's). */
    clnn_network_spec *spec = NULL;
    size_t in[3] = {2, 5, 5}; /* planes under 32: the simulators' products (see test_conv.c) */
    CLNN_ASSERT_OK(clnn_network_spec_parse("conv4k3p1:tanh,bn:relu,maxpool2,"
                                           "res[conv4k3p1nb,bn,conv8k3p1:elu]proj:sigmoid,"
                                           "flatten,dense8:elu,dense3",
                                           3, in, &spec));
    clnn_network *net = NULL;
    CLNN_ASSERT_OK(clnn_network_create(ctx, spec, NULL, 4, &net));
    clnn_cache_stats stats;
    CLNN_ASSERT_OK(clnn_context_get_cache_stats(ctx, &stats));
    assert_int_equal(stats.programs_built + stats.disk_hits, 1);
    CLNN_ASSERT_OK(clnn_network_build_programs(net));
    CLNN_ASSERT_OK(clnn_network_build_programs(net));
    CLNN_ASSERT_OK(clnn_context_get_cache_stats(ctx, &stats));
    assert_int_equal(stats.programs_built + stats.disk_hits, 5);
    float x[4 * 50];
    int32_t y[4] = {0, 2, 1, 2};
    clnn_test_fill_uniform(x, 4 * 50, -1.0, 1.0);
    clnn_step_info info;
    CLNN_ASSERT_OK(clnn_network_train_step(net, x, y, 4, &info));
    double loss = 0;
    CLNN_ASSERT_OK(clnn_network_evaluate(net, x, y, 4, &loss, NULL));
    assert_true(isfinite(info.loss) && isfinite(loss));
    CLNN_ASSERT_OK(clnn_context_get_cache_stats(ctx, &stats));
    assert_int_equal(stats.programs_built + stats.disk_hits, 5);
    CLNN_ASSERT_STATUS(clnn_network_build_programs(NULL), CLNN_ERR_INVALID_ARGUMENT);
    clnn_network_destroy(net);
    clnn_network_spec_destroy(spec);
    clnn_context_destroy(ctx);
    clnn_test_remove_tree(dir);
}

/* Bad specs: each refused where it happens, with the spec unchanged. */
static void test_spec_errors(void **state)
{
    (void)state;
    clnn_network_spec *s = NULL;
    CLNN_ASSERT_STATUS(clnn_network_spec_create(&s, 2, (size_t[]){3, 4}), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_network_spec_create(&s, 1, (size_t[]){0}), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_OK(clnn_network_spec_create(&s, 3, (size_t[]){2, 3, 3}));
    CLNN_ASSERT_STATUS(clnn_network_spec_add_dense(s, 4, NULL), CLNN_ERR_INVALID_SHAPE);
    assert_non_null(strstr(clnn_context_last_error(NULL), "flatten"));
    CLNN_ASSERT_OK(clnn_network_spec_add_flatten(s));
    CLNN_ASSERT_STATUS(clnn_network_spec_add_dense(s, 0, NULL), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_network_spec_add_dropout(s, 1.0f), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_network_spec_add_dropout(s, NAN), CLNN_ERR_INVALID_ARGUMENT);
    clnn_layer_spec unknown;
    CLNN_ASSERT_OK(clnn_layer_spec_init(&unknown, CLNN_LAYER_DENSE));
    unknown.type = CLNN_LAYER_TYPE_COUNT;
    CLNN_ASSERT_STATUS(clnn_network_spec_add(s, &unknown), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_network_spec_end_residual(s, CLNN_RESIDUAL_IDENTITY, NULL),
                       CLNN_ERR_INVALID_ARGUMENT); /* no block open */
    CLNN_ASSERT_OK(clnn_network_spec_begin_residual(s));
    CLNN_ASSERT_STATUS(clnn_network_spec_end_residual(s, CLNN_RESIDUAL_IDENTITY, NULL),
                       CLNN_ERR_INVALID_ARGUMENT); /* empty body */
    CLNN_ASSERT_OK(clnn_network_spec_add_dense(s, 5, NULL));
    CLNN_ASSERT_STATUS(clnn_network_spec_end_residual(s, CLNN_RESIDUAL_IDENTITY, NULL),
                       CLNN_ERR_INVALID_SHAPE); /* 18 features in, 5 out */
    assert_non_null(strstr(clnn_context_last_error(NULL), "projection"));
    size_t count = 0;
    CLNN_ASSERT_OK(clnn_network_spec_get_layer_count(s, &count));
    assert_int_equal(count, 3); /* flatten, begin, dense */
    /* An open block cannot be built. */
    clnn_network *net = NULL;
    CLNN_ASSERT_STATUS(clnn_network_create(clnn_test_ctx, s, NULL, 4, &net),
                       CLNN_ERR_INVALID_ARGUMENT);
    assert_null(net);
    CLNN_ASSERT_OK(clnn_network_spec_end_residual(s, CLNN_RESIDUAL_PROJECTION, NULL));
    int ndim = 0;
    size_t dims[3];
    CLNN_ASSERT_OK(clnn_network_spec_get_output_shape(s, &ndim, dims));
    assert_int_equal(ndim, 1);
    assert_int_equal(dims[0], 5);
    CLNN_ASSERT_OK(clnn_network_create(clnn_test_ctx, s, NULL, 4, &net));
    /* Labels out of range and batches too large are refused before anything runs. */
    float x[4 * 18] = {0};
    int32_t labels[4] = {0, 1, 5, 2};
    CLNN_ASSERT_STATUS(clnn_network_train_step(net, x, labels, 4, NULL), CLNN_ERR_OUT_OF_RANGE);
    CLNN_ASSERT_STATUS(clnn_network_train_step(net, x, labels, 5, NULL), CLNN_ERR_INVALID_SHAPE);
    clnn_network_destroy(net);
    clnn_network_spec_destroy(s);

    /* A projection cannot turn 4-D activations into 2-D ones, nor make an image larger (no
     * 1x1 stride does); cross-entropy needs 2-D outputs. */
    CLNN_ASSERT_OK(clnn_network_spec_create(&s, 3, (size_t[]){2, 3, 3}));
    CLNN_ASSERT_OK(clnn_network_spec_begin_residual(s));
    CLNN_ASSERT_OK(clnn_network_spec_add_flatten(s));
    CLNN_ASSERT_STATUS(clnn_network_spec_end_residual(s, CLNN_RESIDUAL_PROJECTION, NULL),
                       CLNN_ERR_INVALID_SHAPE);
    clnn_network_spec_destroy(s);
    s = NULL;
    CLNN_ASSERT_STATUS(clnn_network_spec_parse("res[conv2k1p1]proj", 3, (size_t[]){2, 2, 2}, &s),
                       CLNN_ERR_INVALID_SHAPE);
    assert_null(s);
    CLNN_ASSERT_OK(clnn_network_spec_parse("res[bn]proj", 3, (size_t[]){2, 3, 3}, &s));
    CLNN_ASSERT_STATUS(clnn_network_create(clnn_test_ctx, s, NULL, 4, &net),
                       CLNN_ERR_INVALID_SHAPE);
    clnn_network_spec_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradients_identity_block),
        cmocka_unit_test(test_gradients_projection_block_first),
        cmocka_unit_test(test_gradients_nchw),
        cmocka_unit_test(test_gradients_nested_blocks),
        cmocka_unit_test(test_gradients_residual_cnn),
        cmocka_unit_test(test_gradients_grouped_cnn),
        cmocka_unit_test(test_training_matches_reference),
        cmocka_unit_test(test_device_tensor_inputs),
        cmocka_unit_test(test_checkpoint_resume_is_exact),
        cmocka_unit_test(test_health),
        cmocka_unit_test(test_cnn_health_and_checkpoint),
        cmocka_unit_test(test_warm_up_changes_nothing),
        cmocka_unit_test(test_network_build_programs),
        cmocka_unit_test(test_spec_errors),
    };
    return clnn_test_main("network", tests, sizeof tests / sizeof tests[0]);
}
