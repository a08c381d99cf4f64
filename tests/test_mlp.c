/*
 * The MLP engine: whole-model gradients against a double-precision reference (itself checked by
 * finite differences), training steps against the reference, learning on a synthetic problem,
 * partial batches, agreement across devices (bit-identical initial weights), health
 * diagnostics, checkpoints (round trip, exact resume, truncation and bit-flip fuzzing, foreign
 * and mismatched files) and argument errors.
 */
#include "clnn_test.h"
#include "mlp_ref.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

/* A small model: 6 inputs, hidden 5 (tanh, batch norm), hidden 4 (leaky_relu), 3 outputs. */
static void small_spec(clnn_mlp_spec *spec, clnn_mlp_loss loss, uint64_t seed)
{
    CLNN_ASSERT_OK(clnn_mlp_spec_init(spec, 6, 3));
    CLNN_ASSERT_OK(clnn_mlp_spec_add_layer(spec, 5, CLNN_ACTIVATION_TANH, 1, 0.0f));
    CLNN_ASSERT_OK(clnn_mlp_spec_add_layer(spec, 4, CLNN_ACTIVATION_LEAKY_RELU, 0, 0.0f));
    spec->loss = loss;
    spec->seed = seed;
}

static void small_ref(mlp_ref *m, int mse)
{
    memset(m, 0, sizeof *m);
    m->layer_count = 3;
    size_t in[3] = {6, 5, 4}, out[3] = {5, 4, 3};
    memcpy(m->in, in, sizeof in);
    memcpy(m->out, out, sizeof out);
    m->activation[0] = MLP_REF_TANH;
    m->activation[1] = MLP_REF_LEAKY_RELU;
    m->batch_norm[0] = 1;
    m->mse = mse;
    m->eps = 1e-5;
    m->momentum = 0.1;
    assert_int_equal(mlp_ref_init(m), 0);
}

static clnn_mlp *make_mlp(const clnn_mlp_spec *spec, const clnn_mlp_train_options *train,
                          size_t max_batch)
{
    clnn_mlp *mlp = NULL;
    CLNN_ASSERT_OK(clnn_mlp_create(clnn_test_ctx, spec, train, max_batch, &mlp));
    return mlp;
}

/* Copies the model's parameters (or gradients) into the reference's layout. */
static void read_tensors(clnn_mlp *mlp, int gradients, double **out, const size_t *sizes)
{
    clnn_tensor *params[32], *grads[32];
    size_t count = 0;
    CLNN_ASSERT_OK(clnn_mlp_get_parameters(mlp, params, grads, 32, &count));
    for (size_t i = 0; i < count; ++i) {
        float *host = clnn_test_alloc(sizes[i] * sizeof *host);
        clnn_test_download(gradients ? grads[i] : params[i], host, sizes[i]);
        for (size_t j = 0; j < sizes[i]; ++j)
            out[i][j] = host[j];
        free(host);
    }
}

/* Random parameters (so batch norm's gamma and beta are not trivial), set in both models. */
static void randomise(clnn_mlp *mlp, mlp_ref *m)
{
    clnn_tensor *params[32];
    size_t count = 0;
    CLNN_ASSERT_OK(clnn_mlp_get_parameters(mlp, params, NULL, 32, &count));
    assert_int_equal(count, m->param_count);
    for (size_t i = 0; i < count; ++i) {
        float *host = clnn_test_alloc(m->param_size[i] * sizeof *host);
        for (size_t j = 0; j < m->param_size[i]; ++j) {
            host[j] = (float)clnn_test_uniform(-0.8, 0.8);
            m->params[i][j] = host[j];
        }
        CLNN_ASSERT_OK(clnn_tensor_upload(params[i], host, m->param_size[i]));
        free(host);
    }
}

static void random_batch(float *x, double *xd, int32_t *labels, float *targets, size_t batch)
{
    for (size_t i = 0; i < batch * 6; ++i) {
        x[i] = (float)clnn_test_normal();
        xd[i] = x[i];
    }
    for (size_t i = 0; i < batch; ++i)
        labels[i] = (int32_t)(clnn_test_random_u64() % 3);
    for (size_t i = 0; targets && i < batch * 3; ++i)
        targets[i] = (float)clnn_test_uniform(-1, 1);
}

/* The reference's gradient equals its central finite differences (h = 1e-6 in double: the
 * truncation error is O(h^2) ~ 1e-12 and rounding ~ 1e-16/h ~ 1e-10 relative to the loss), so
 * the reference can be trusted below. Kinks of leaky_relu are met with probability ~0. */
static void check_reference_by_finite_differences(mlp_ref *m, const double *x, const void *y,
                                                  size_t batch)
{
    double *grads[32];
    for (size_t i = 0; i < m->param_count; ++i)
        grads[i] = clnn_test_alloc(m->param_size[i] * sizeof(double));
    mlp_ref_loss(m, x, y, batch, grads, 0);
    const double h = 1e-6;
    for (size_t i = 0; i < m->param_count; ++i)
        for (size_t j = 0; j < m->param_size[i]; ++j) {
            double saved = m->params[i][j];
            m->params[i][j] = saved + h;
            double up = mlp_ref_loss(m, x, y, batch, NULL, 0);
            m->params[i][j] = saved - h;
            double down = mlp_ref_loss(m, x, y, batch, NULL, 0);
            m->params[i][j] = saved;
            double fd = (up - down) / (2 * h);
            if (fabs(fd - grads[i][j]) > 1e-7 + 1e-5 * fabs(fd))
                fail_msg("reference gradient of parameter %zu[%zu] is %.12g; finite "
                         "differences give %.12g",
                         i, j, grads[i][j], fd);
        }
    for (size_t i = 0; i < m->param_count; ++i)
        free(grads[i]);
}

static void check_gradients(clnn_mlp_loss loss)
{
    enum { B = 16 };
    clnn_mlp_spec spec;
    small_spec(&spec, loss, 7);
    clnn_mlp *mlp = make_mlp(&spec, NULL, B);
    mlp_ref m;
    small_ref(&m, loss == CLNN_MLP_LOSS_MSE);
    randomise(mlp, &m);

    float x[B * 6], targets[B * 3];
    double xd[B * 6];
    int32_t labels[B];
    random_batch(x, xd, labels, targets, B);
    const void *y = loss == CLNN_MLP_LOSS_MSE ? (const void *)targets : (const void *)labels;
    check_reference_by_finite_differences(&m, xd, y, B);

    double *ref_grads[32], *got[32];
    for (size_t i = 0; i < m.param_count; ++i) {
        ref_grads[i] = clnn_test_alloc(m.param_size[i] * sizeof(double));
        got[i] = clnn_test_alloc(m.param_size[i] * sizeof(double));
    }
    double ref_loss = mlp_ref_loss(&m, xd, y, B, ref_grads, 0);
    clnn_mlp_health health;
    CLNN_ASSERT_OK(clnn_mlp_probe_health(mlp, x, y, B, NULL, &health));
    /* float forward and backward through 3 layers and batch norm of 16 samples: errors of a few
     * hundred ulp relative to the largest gradient of a tensor; atol scaled accordingly. */
    assert_true(fabs(health.loss - ref_loss) <= 1e-5 + 1e-5 * fabs(ref_loss));
    read_tensors(mlp, 1, got, m.param_size);
    for (size_t i = 0; i < m.param_count; ++i) {
        double scale = 0;
        for (size_t j = 0; j < m.param_size[i]; ++j)
            scale = fmax(scale, fabs(ref_grads[i][j]));
        float *gf = clnn_test_alloc(m.param_size[i] * sizeof *gf);
        for (size_t j = 0; j < m.param_size[i]; ++j)
            gf[j] = (float)got[i][j];
        char what[64];
        snprintf(what, sizeof what, "gradient of parameter tensor %zu", i);
        clnn_test_assert_close(what, gf, ref_grads[i], m.param_size[i], 1e-4, 1e-5 * scale + 1e-7);
        free(gf);
        free(ref_grads[i]);
        free(got[i]);
    }
    mlp_ref_free(&m);
    clnn_mlp_destroy(mlp);
}

static void test_gradients_cross_entropy(void **state)
{
    (void)state;
    check_gradients(CLNN_MLP_LOSS_CROSS_ENTROPY);
}

static void test_gradients_mse(void **state)
{
    (void)state;
    check_gradients(CLNN_MLP_LOSS_MSE);
}

/* Five SGD steps (fresh batches, the last one partial) against the reference: parameters and
 * batch-norm behaviour follow it to float accuracy. */
static void test_training_matches_reference(void **state)
{
    (void)state;
    enum { B = 12, STEPS = 5 };
    clnn_mlp_spec spec;
    small_spec(&spec, CLNN_MLP_LOSS_CROSS_ENTROPY, 3);
    clnn_mlp_train_options train;
    CLNN_ASSERT_OK(clnn_mlp_train_options_init(&train));
    CLNN_ASSERT_OK(clnn_optimizer_options_init(&train.optimizer, CLNN_OPTIMIZER_SGD));
    train.optimizer.lr = 0.1;
    clnn_mlp *mlp = make_mlp(&spec, &train, B);
    mlp_ref m;
    small_ref(&m, 0);
    randomise(mlp, &m);
    for (int s = 0; s < STEPS; ++s) {
        size_t batch = s == STEPS - 1 ? 5 : B;
        float x[B * 6];
        double xd[B * 6];
        int32_t labels[B];
        random_batch(x, xd, labels, NULL, batch);
        double ref_loss = mlp_ref_sgd_step(&m, xd, labels, batch, 0.1);
        clnn_mlp_step_info info;
        CLNN_ASSERT_OK(clnn_mlp_train_step(mlp, x, labels, batch, &info));
        assert_false(info.skipped);
        if (fabs(info.loss - ref_loss) > 1e-5 + 1e-5 * fabs(ref_loss))
            fail_msg("step %d: loss %.9g, reference %.12g", s, (double)info.loss, ref_loss);
    }
    double *got[32];
    for (size_t i = 0; i < m.param_count; ++i)
        got[i] = clnn_test_alloc(m.param_size[i] * sizeof(double));
    read_tensors(mlp, 0, got, m.param_size);
    for (size_t i = 0; i < m.param_count; ++i) {
        float *pf = clnn_test_alloc(m.param_size[i] * sizeof *pf);
        for (size_t j = 0; j < m.param_size[i]; ++j)
            pf[j] = (float)got[i][j];
        /* Five steps of float arithmetic on values of order 1: 1e-5 relative plus 1e-6. */
        clnn_test_assert_close("parameters after 5 SGD steps", pf, m.params[i], m.param_size[i],
                               1e-5, 1e-6);
        free(pf);
        free(got[i]);
    }
    mlp_ref_free(&m);
    clnn_mlp_destroy(mlp);
}

/* Gaussian blobs of 4 classes in 10 dimensions: Adam must learn them. */
static void test_learns_synthetic_problem(void **state)
{
    (void)state;
    enum { N_MAX = 512, D = 10, K = 4, B = 64 };
    /* The small tier takes half the samples (each launch costs milliseconds in a simulator). */
    const int N = CLNN_TEST_SHAPE(N_MAX, N_MAX / 2);
    float *x = clnn_test_alloc(N * D * sizeof *x);
    int32_t labels[N_MAX];
    double centres[K][D];
    for (int k = 0; k < K; ++k)
        for (int d = 0; d < D; ++d)
            centres[k][d] = 2.0 * clnn_test_normal();
    for (int i = 0; i < N; ++i) {
        labels[i] = i % K;
        for (int d = 0; d < D; ++d)
            x[i * D + d] = (float)(centres[i % K][d] + clnn_test_normal());
    }
    clnn_mlp_spec spec;
    CLNN_ASSERT_OK(clnn_mlp_spec_init(&spec, D, K));
    CLNN_ASSERT_OK(clnn_mlp_spec_add_layer(&spec, 32, CLNN_ACTIVATION_RELU, 1, 0.1f));
    CLNN_ASSERT_OK(clnn_mlp_spec_add_layer(&spec, 16, CLNN_ACTIVATION_GELU, 0, 0.0f));
    /* The small tier takes 24 steps at a learning rate of 1e-2 instead of 200 at Adam's default
     * 1e-3. */
    const int epochs = CLNN_TEST_SHAPE(25, 6);
    clnn_mlp_train_options train;
    CLNN_ASSERT_OK(clnn_mlp_train_options_init(&train));
    train.optimizer.lr = CLNN_TEST_SHAPE(1e-3f, 1e-2f);
    clnn_mlp *mlp = make_mlp(&spec, &train, B);
    /* Loss and accuracy over all N samples, in batches of B. */
    double before = 0, after = 0;
    size_t correct = 0;
    for (int start = 0; start < N; start += B) {
        double sum = 0;
        CLNN_ASSERT_OK(clnn_mlp_evaluate(mlp, x + start * D, labels + start, B, &sum, NULL));
        before += sum;
    }
    for (int epoch = 0; epoch < epochs; ++epoch)
        for (int start = 0; start < N; start += B)
            CLNN_ASSERT_OK(clnn_mlp_train_step(mlp, x + start * D, labels + start, B, NULL));
    for (int start = 0; start < N; start += B) {
        double sum = 0;
        size_t right = 0;
        CLNN_ASSERT_OK(clnn_mlp_evaluate(mlp, x + start * D, labels + start, B, &sum, &right));
        after += sum;
        correct += right;
    }
    /* Centres 2 N(0, 1) apart per dimension in 10 dimensions are about 9 standard deviations
     * apart: the classes are separable, and 200 Adam steps (or 24 at a ten times larger rate on
     * half the samples: at worst 96% and a loss ratio of 0.03 over 80 seeds) reach well above 95%
     * on any draw seen; 85% leaves room for unlucky draws of nearby centres while chance is 25%. */
    if (!(after < 0.3 * before) || correct < 0.85 * N)
        fail_msg("loss %.4f -> %.4f, %zu of %d correct: the model did not learn", before / N,
                 after / N, correct, N);
    free(x);
    clnn_mlp_destroy(mlp);
}

/* The first device's results, compared on the others. */
static float first_weights[6 * 5];
static float first_losses[4];
static int have_first;

static void test_agrees_across_devices(void **state)
{
    (void)state;
    enum { B = 8 };
    clnn_mlp_spec spec;
    small_spec(&spec, CLNN_MLP_LOSS_CROSS_ENTROPY, 11);
    clnn_mlp *mlp = make_mlp(&spec, NULL, B);
    clnn_tensor *params[32];
    size_t count;
    CLNN_ASSERT_OK(clnn_mlp_get_parameters(mlp, params, NULL, 32, &count));
    float weights[6 * 5], losses[4];
    clnn_test_download(params[0], weights, 30);
    /* Fixed data (not the per-run random stream), so every device sees the same batch. */
    float x[B * 6];
    int32_t labels[B];
    for (int i = 0; i < B * 6; ++i)
        x[i] = (float)sin(0.7 * i);
    for (int i = 0; i < B; ++i)
        labels[i] = i % 3;
    for (int s = 0; s < 4; ++s) {
        clnn_mlp_step_info info;
        CLNN_ASSERT_OK(clnn_mlp_train_step(mlp, x, labels, B, &info));
        losses[s] = info.loss;
    }
    if (!have_first) {
        memcpy(first_weights, weights, sizeof weights);
        memcpy(first_losses, losses, sizeof losses);
        have_first = 1;
    } else {
        assert_memory_equal(first_weights, weights, sizeof weights); /* bit-identical init */
        /* Different drivers may order reductions differently: float tolerance. */
        clnn_test_assert_close_f("losses of 4 Adam steps vs the first device", losses,
                                 first_losses, 4, 1e-4, 1e-6);
    }
    clnn_mlp_destroy(mlp);
}

/* A smaller batch through a model built for larger ones equals a model built for that size, bit
 * for bit; and batch sizes can go up and down between steps. */
static void test_partial_batch(void **state)
{
    (void)state;
    clnn_mlp_spec spec;
    small_spec(&spec, CLNN_MLP_LOSS_CROSS_ENTROPY, 5);
    clnn_mlp *big = make_mlp(&spec, NULL, 32), *exact = make_mlp(&spec, NULL, 7);
    float x[32 * 6];
    double xd[32 * 6];
    int32_t labels[32];
    random_batch(x, xd, labels, NULL, 32);
    for (int s = 0; s < 2; ++s) {
        clnn_mlp_step_info a, b;
        CLNN_ASSERT_OK(clnn_mlp_train_step(big, x, labels, 7, &a));
        CLNN_ASSERT_OK(clnn_mlp_train_step(exact, x, labels, 7, &b));
        assert_memory_equal(&a.loss, &b.loss, sizeof a.loss);
    }
    float pa[7 * 3], pb[7 * 3];
    CLNN_ASSERT_OK(clnn_mlp_predict(big, x, 7, pa));
    CLNN_ASSERT_OK(clnn_mlp_predict(exact, x, 7, pb));
    assert_memory_equal(pa, pb, sizeof pa);
    clnn_mlp_step_info info;
    CLNN_ASSERT_OK(clnn_mlp_train_step(big, x, labels, 32, &info));
    assert_true(isfinite(info.loss));
    CLNN_ASSERT_OK(clnn_mlp_train_step(big, x, labels, 2, &info));
    assert_true(isfinite(info.loss));
    CLNN_ASSERT_STATUS(clnn_mlp_train_step(exact, x, labels, 8, NULL), CLNN_ERR_INVALID_SHAPE);
    clnn_mlp_destroy(big);
    clnn_mlp_destroy(exact);
}

/* Health statistics of a one-layer ReLU model equal those computed on the host. */
static void test_health_statistics(void **state)
{
    (void)state;
    enum { B = 10, IN = 3, H = 4 };
    clnn_mlp_spec spec;
    CLNN_ASSERT_OK(clnn_mlp_spec_init(&spec, IN, 2));
    CLNN_ASSERT_OK(clnn_mlp_spec_add_layer(&spec, H, CLNN_ACTIVATION_RELU, 0, 0.0f));
    clnn_mlp *mlp = make_mlp(&spec, NULL, B);
    clnn_tensor *params[8];
    size_t count;
    CLNN_ASSERT_OK(clnn_mlp_get_parameters(mlp, params, NULL, 8, &count));
    /* Unit 3 gets weights 0 and bias -1: always dead. */
    float w[H * IN], b[H] = {0.1f, -0.2f, 0.3f, -1.0f};
    for (int i = 0; i < H * IN; ++i)
        w[i] = i >= 3 * IN ? 0.0f : (float)clnn_test_uniform(-1, 1);
    CLNN_ASSERT_OK(clnn_tensor_upload(params[0], w, H * IN));
    CLNN_ASSERT_OK(clnn_tensor_upload(params[1], b, H));
    float x[B * IN];
    int32_t labels[B];
    for (int i = 0; i < B * IN; ++i)
        x[i] = (float)clnn_test_normal();
    for (int i = 0; i < B; ++i)
        labels[i] = i % 2;
    clnn_mlp_health health;
    CLNN_ASSERT_OK(clnn_mlp_probe_health(mlp, x, labels, B, NULL, &health));
    double sum = 0, sq = 0;
    int dead[H] = {1, 1, 1, 1};
    for (int i = 0; i < B; ++i)
        for (int j = 0; j < H; ++j) {
            double z = b[j];
            for (int k = 0; k < IN; ++k)
                z += (double)x[i * IN + k] * w[j * IN + k];
            double h = z > 0 ? z : 0;
            sum += h;
            sq += h * h;
            if (h != 0)
                dead[j] = 0;
        }
    double mean = sum / (B * H), std = sqrt(sq / (B * H) - mean * mean);
    int dead_count = dead[0] + dead[1] + dead[2] + dead[3];
    assert_int_equal(health.layer_count, 2);
    assert_true(fabs(health.layers[0].activation_mean - mean) < 1e-5);
    assert_true(fabs(health.layers[0].activation_std - std) < 1e-5);
    assert_true(fabs(health.layers[0].dead_fraction - dead_count / 4.0) < 1e-6);
    assert_true(dead_count >= 1);
    double wn = 0;
    for (int i = 0; i < H * IN; ++i)
        wn += (double)w[i] * w[i];
    assert_true(fabs(health.layers[0].weight_norm - sqrt(wn)) < 1e-5 * sqrt(wn));
    assert_true(health.layers[0].update_ratio == 0.0f);
    assert_true(isfinite(health.layers[1].weight_grad_norm));

    /* A step with health: update ratios become positive. */
    clnn_mlp_step_info info;
    CLNN_ASSERT_OK(clnn_mlp_train_step_health(mlp, x, labels, B, NULL, &info, &health));
    assert_true(health.layers[0].update_ratio > 0.0f);
    assert_true(health.layers[1].update_ratio > 0.0f);
    clnn_mlp_destroy(mlp);
}

/* Deep sigmoid with tiny weights vanishes (Glorot & Bengio 2010); the flag says so. A healthy
 * ReLU + Kaiming + batch-norm model is not flagged. */
static void test_vanishing_flag(void **state)
{
    (void)state;
    enum { B = 32, D = 16 };
    float x[B * D];
    int32_t labels[B];
    for (int i = 0; i < B * D; ++i)
        x[i] = (float)clnn_test_normal();
    for (int i = 0; i < B; ++i)
        labels[i] = i % 4;
    clnn_mlp_spec spec;
    CLNN_ASSERT_OK(clnn_mlp_spec_init(&spec, D, 4));
    for (int l = 0; l < 12; ++l)
        CLNN_ASSERT_OK(clnn_mlp_spec_add_layer(&spec, 32, CLNN_ACTIVATION_SIGMOID, 0, 0.0f));
    CLNN_ASSERT_OK(clnn_init_params_default(CLNN_INIT_NORMAL, &spec.weight_init));
    spec.weight_init.std = 0.01f;
    clnn_mlp *mlp = make_mlp(&spec, NULL, B);
    clnn_mlp_health health;
    CLNN_ASSERT_OK(clnn_mlp_probe_health(mlp, x, labels, B, NULL, &health));
    if (!health.vanishing)
        fail_msg("12 sigmoid layers with N(0, 0.01^2) weights: first/last gradient ratio %g "
                 "was not flagged as vanishing", (double)health.grad_norm_ratio);
    clnn_mlp_destroy(mlp);

    CLNN_ASSERT_OK(clnn_mlp_spec_init(&spec, D, 4));
    for (int l = 0; l < 12; ++l)
        CLNN_ASSERT_OK(clnn_mlp_spec_add_layer(&spec, 32, CLNN_ACTIVATION_RELU, 1, 0.0f));
    mlp = make_mlp(&spec, NULL, B);
    CLNN_ASSERT_OK(clnn_mlp_probe_health(mlp, x, labels, B, NULL, &health));
    if (health.vanishing || health.exploding)
        fail_msg("12 ReLU + batch-norm layers, Kaiming init: flagged (ratio %g)",
                 (double)health.grad_norm_ratio);
    clnn_mlp_destroy(mlp);
}

/* ---- checkpoints --------------------------------------------------------------------------- */

static char temp_dir[256];

static void checkpoint_path(char *path, size_t size, const char *name)
{
    if (!temp_dir[0])
        clnn_test_make_temp_dir(temp_dir, sizeof temp_dir);
    snprintf(path, size, "%s/%s", temp_dir, name);
}

/* All of a model's parameters as floats, for comparisons. */
static size_t snapshot(clnn_mlp *mlp, float *out, size_t capacity)
{
    clnn_tensor *params[32];
    size_t count, used = 0;
    CLNN_ASSERT_OK(clnn_mlp_get_parameters(mlp, params, NULL, 32, &count));
    for (size_t i = 0; i < count; ++i) {
        size_t n;
        CLNN_ASSERT_OK(clnn_tensor_get_count(params[i], &n));
        assert_true(used + n <= capacity);
        clnn_test_download(params[i], out + used, n);
        used += n;
    }
    return used;
}

static void fixed_batch(float *x, int32_t *labels, size_t batch, int salt)
{
    for (size_t i = 0; i < batch * 6; ++i)
        x[i] = (float)sin(0.37 * (double)(i + 1) * (salt + 1));
    for (size_t i = 0; i < batch; ++i)
        labels[i] = (int32_t)((i + (size_t)salt) % 3);
}

/* Training, saving, training on; a fresh model loaded from the file trains on identically. */
static void test_checkpoint_resume_is_exact(void **state)
{
    (void)state;
    enum { B = 8 };
    clnn_mlp_spec spec;
    small_spec(&spec, CLNN_MLP_LOSS_CROSS_ENTROPY, 21);
    spec.hidden[1].dropout = 0.25f; /* the dropout stream must resume too */
    clnn_mlp *a = make_mlp(&spec, NULL, B);
    float x[B * 6];
    int32_t labels[B];
    for (int s = 0; s < 3; ++s) {
        fixed_batch(x, labels, B, s);
        CLNN_ASSERT_OK(clnn_mlp_train_step(a, x, labels, B, NULL));
    }
    char path[512];
    checkpoint_path(path, sizeof path, "resume.ckpt");
    const char user[] = "epoch 3";
    CLNN_ASSERT_OK(clnn_mlp_save(a, path, user, sizeof user));
    float losses_a[3], losses_b[3];
    for (int s = 3; s < 6; ++s) {
        clnn_mlp_step_info info;
        fixed_batch(x, labels, B, s);
        CLNN_ASSERT_OK(clnn_mlp_train_step(a, x, labels, B, &info));
        losses_a[s - 3] = info.loss;
    }
    clnn_mlp *b = make_mlp(&spec, NULL, B);
    char got[32] = {0};
    size_t got_size = 0;
    CLNN_ASSERT_OK(clnn_mlp_load(b, path, got, sizeof got, &got_size));
    assert_int_equal(got_size, sizeof user);
    assert_string_equal(got, user);
    uint64_t step = 0;
    CLNN_ASSERT_OK(clnn_mlp_get_step(b, &step));
    assert_int_equal(step, 3);
    for (int s = 3; s < 6; ++s) {
        clnn_mlp_step_info info;
        fixed_batch(x, labels, B, s);
        CLNN_ASSERT_OK(clnn_mlp_train_step(b, x, labels, B, &info));
        losses_b[s - 3] = info.loss;
    }
    assert_memory_equal(losses_a, losses_b, sizeof losses_a);
    static float pa[4096], pb[4096];
    size_t n = snapshot(a, pa, 4096);
    assert_int_equal(snapshot(b, pb, 4096), n);
    assert_memory_equal(pa, pb, n * sizeof *pa);
    clnn_mlp_destroy(a);
    clnn_mlp_destroy(b);
}

static void write_bytes(const char *path, const unsigned char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static unsigned char *read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = clnn_test_alloc(*n);
    assert_int_equal(fread(data, 1, *n, f), *n);
    fclose(f);
    return data;
}

/* zlib's crc32 (reflected 0xedb88320), to reseal an edited checkpoint. */
static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; ++i) {
        c ^= p[i];
        for (int k = 0; k < 8; ++k)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

/* A well-formed checkpoint whose optimiser step the optimiser refuses (2^53 and above) is
 * refused before the model changes (found by fuzz/fuzz_checkpoint.c: the parameters were already
 * uploaded when clnn_optimizer_set_step failed). */
/* tests/data/mlp_v1.ckpt: a format 1 checkpoint written by clnn's MLP engine before it was built
 * on the network engine (commit e208221, POCL pthread): an MLP 3 -> 4 (tanh, batch norm, dropout
 * 0.25) -> 3 (SiLU) -> 2, seed 1234, Adam, three steps on the batch below, user bytes
 * "clnn-train v1". The outputs are what that engine predicted for the batch after the steps. */
static void test_checkpoint_format_1_loads(void **state)
{
    (void)state;
    clnn_mlp_spec spec;
    CLNN_ASSERT_OK(clnn_mlp_spec_init(&spec, 3, 2));
    CLNN_ASSERT_OK(clnn_mlp_spec_add_layer(&spec, 4, CLNN_ACTIVATION_TANH, 1, 0.25f));
    CLNN_ASSERT_OK(clnn_mlp_spec_add_layer(&spec, 3, CLNN_ACTIVATION_SILU, 0, 0.0f));
    spec.seed = 99; /* the file's seed is adopted */
    clnn_mlp *mlp = NULL;
    CLNN_ASSERT_OK(clnn_mlp_create(clnn_test_ctx, &spec, NULL, 4, &mlp));
    char user[32] = {0};
    size_t user_size = 0;
    CLNN_ASSERT_OK(clnn_mlp_load(mlp, CLNN_TEST_DATA_DIR "/mlp_v1.ckpt", user, sizeof user,
                                 &user_size));
    assert_int_equal(user_size, 13);
    assert_memory_equal(user, "clnn-train v1", 13);
    uint64_t step = 0;
    CLNN_ASSERT_OK(clnn_mlp_get_step(mlp, &step));
    assert_int_equal(step, 3);
    clnn_mlp_spec adopted;
    CLNN_ASSERT_OK(clnn_mlp_get_spec(mlp, &adopted));
    assert_int_equal(adopted.seed, 1234);
    float x[12], out[8];
    for (int i = 0; i < 12; ++i)
        x[i] = (float)((i * 7) % 11) / 5.0f - 1.0f;
    CLNN_ASSERT_OK(clnn_mlp_predict(mlp, x, 4, out));
    static const double expected[8] = {-0.0170013122, -0.10819263,  -0.923689365, 0.723240077,
                                       -0.98616612,   0.747609556, -1.03874111,  0.768571496};
    /* float32 inference through three layers on another device than the one that wrote the
     * expected values: a few ulp per op, far below 1e-4 of the outputs' size (about 1). */
    clnn_test_assert_close("format 1 checkpoint predictions", out, expected, 8, 1e-4, 1e-5);
    /* A model of another shape refuses it, untouched. */
    clnn_mlp_spec other = spec;
    other.hidden[1].width = 5;
    clnn_mlp *wrong = NULL;
    CLNN_ASSERT_OK(clnn_mlp_create(clnn_test_ctx, &other, NULL, 4, &wrong));
    CLNN_ASSERT_STATUS(clnn_mlp_load(wrong, CLNN_TEST_DATA_DIR "/mlp_v1.ckpt", NULL, 0, NULL),
                       CLNN_ERR_MISMATCH);
    CLNN_ASSERT_OK(clnn_mlp_get_step(wrong, &step));
    assert_int_equal(step, 0);
    clnn_mlp_destroy(wrong);
    clnn_mlp_destroy(mlp);
}

static void test_checkpoint_bad_optimizer_step(void **state)
{
    (void)state;
    enum { B = 4 };
    clnn_mlp_spec spec;
    small_spec(&spec, CLNN_MLP_LOSS_CROSS_ENTROPY, 12);
    clnn_mlp *mlp = make_mlp(&spec, NULL, B);
    float x[B * 6];
    int32_t labels[B];
    for (int s = 0; s < 3; ++s) {
        fixed_batch(x, labels, B, s);
        CLNN_ASSERT_OK(clnn_mlp_train_step(mlp, x, labels, B, NULL));
    }
    char path[512];
    checkpoint_path(path, sizeof path, "step.ckpt");
    CLNN_ASSERT_OK(clnn_mlp_save(mlp, path, NULL, 0));
    size_t size;
    unsigned char *file = read_bytes(path, &size);
    /* the model's step (3) and the optimiser's (3), side by side as u64s */
    static const unsigned char steps[16] = {3, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0};
    size_t at = 0;
    while (at + 16 <= size && memcmp(file + at, steps, 16) != 0)
        ++at;
    assert_true(at + 16 <= size);
    file[at + 8 + 6] = 0x20; /* the optimiser's step becomes 2^53 */
    uint32_t crc = crc32_of(file, size - 4);
    for (int i = 0; i < 4; ++i)
        file[size - 4 + i] = (unsigned char)(crc >> (8 * i));
    write_bytes(path, file, size);

    clnn_mlp_spec other = spec;
    other.seed = 13;
    clnn_mlp *target = make_mlp(&other, NULL, B);
    static float before[4096], after[4096];
    size_t n = snapshot(target, before, 4096);
    CLNN_ASSERT_STATUS(clnn_mlp_load(target, path, NULL, 0, NULL), CLNN_ERR_CORRUPT);
    assert_int_equal(snapshot(target, after, 4096), n);
    assert_memory_equal(before, after, n * sizeof *before);
    uint64_t step = 99;
    CLNN_ASSERT_OK(clnn_mlp_get_step(target, &step));
    assert_int_equal(step, 0);
    free(file);
    clnn_mlp_destroy(target);
    clnn_mlp_destroy(mlp);
}

/* Truncated, bit-flipped, foreign and mismatched files are refused with a clear status and the
 * model is left exactly as it was. */
static void test_checkpoint_rejects_damage(void **state)
{
    (void)state;
    enum { B = 4 };
    clnn_mlp_spec spec;
    small_spec(&spec, CLNN_MLP_LOSS_CROSS_ENTROPY, 9);
    clnn_mlp *mlp = make_mlp(&spec, NULL, B);
    char good[512], bad[512];
    checkpoint_path(good, sizeof good, "good.ckpt");
    checkpoint_path(bad, sizeof bad, "bad.ckpt");
    CLNN_ASSERT_OK(clnn_mlp_save(mlp, good, NULL, 0));
    size_t size;
    unsigned char *file = read_bytes(good, &size);

    /* A different model to load into, so an accidental load would show. */
    clnn_mlp_spec other = spec;
    other.seed = 10;
    clnn_mlp *target = make_mlp(&other, NULL, B);
    static float before[4096], after[4096];
    size_t n = snapshot(target, before, 4096);

    unsigned char *copy = clnn_test_alloc(size);
    for (int trial = 0; trial < 200; ++trial) {
        size_t length = size;
        memcpy(copy, file, size);
        if (trial % 2 == 0) {
            length = (size_t)(clnn_test_random_u64() % size); /* truncation */
        } else {
            /* One to three distinct bits: two draws of the same bit cancel and leave the file
             * intact, which the load then rightly accepts (CLNN_TEST_SEED=4408432957087 on
             * pthread and 122064767063411 on basic drew such trials). */
            int flips = 1 + (int)(clnn_test_random_u64() % 3);
            size_t bits[3];
            for (int f = 0; f < flips; ++f) {
                int fresh;
                do {
                    bits[f] = (size_t)(clnn_test_random_u64() % (8 * size));
                    fresh = 1;
                    for (int e = 0; e < f; ++e)
                        fresh = fresh && bits[e] != bits[f];
                } while (!fresh);
                copy[bits[f] / 8] ^= (unsigned char)(1u << (bits[f] % 8));
            }
        }
        write_bytes(bad, copy, length);
        clnn_status status = clnn_mlp_load(target, bad, NULL, 0, NULL);
        if (status != CLNN_ERR_CORRUPT && status != CLNN_ERR_FORMAT)
            fail_msg("trial %d (%s): load returned %s", trial,
                     trial % 2 ? "bit flips" : "truncation", clnn_status_string(status));
    }
    assert_int_equal(snapshot(target, after, 4096), n);
    assert_memory_equal(before, after, n * sizeof *before);

    /* A foreign file. */
    write_bytes(bad, (const unsigned char *)"PK\3\4 not a checkpoint at all", 28);
    CLNN_ASSERT_STATUS(clnn_mlp_load(target, bad, NULL, 0, NULL), CLNN_ERR_FORMAT);
    /* A missing one. */
    checkpoint_path(bad, sizeof bad, "missing/none.ckpt");
    CLNN_ASSERT_STATUS(clnn_mlp_load(target, bad, NULL, 0, NULL), CLNN_ERR_IO);
    /* Another model's checkpoint. */
    clnn_mlp_spec wider;
    CLNN_ASSERT_OK(clnn_mlp_spec_init(&wider, 6, 3));
    CLNN_ASSERT_OK(clnn_mlp_spec_add_layer(&wider, 7, CLNN_ACTIVATION_TANH, 1, 0.0f));
    clnn_mlp *w = make_mlp(&wider, NULL, B);
    CLNN_ASSERT_STATUS(clnn_mlp_load(w, good, NULL, 0, NULL), CLNN_ERR_MISMATCH);
    clnn_mlp_destroy(w);
    /* Another optimiser's. */
    clnn_mlp_train_options sgd;
    CLNN_ASSERT_OK(clnn_mlp_train_options_init(&sgd));
    CLNN_ASSERT_OK(clnn_optimizer_options_init(&sgd.optimizer, CLNN_OPTIMIZER_SGD));
    clnn_mlp *s = make_mlp(&spec, &sgd, B);
    CLNN_ASSERT_STATUS(clnn_mlp_load(s, good, NULL, 0, NULL), CLNN_ERR_MISMATCH);
    clnn_mlp_destroy(s);
    assert_int_equal(snapshot(target, after, 4096), n);
    assert_memory_equal(before, after, n * sizeof *before);

    /* A good file loads, and a user buffer too small is refused before anything changes. */
    const char user[] = "0123456789";
    CLNN_ASSERT_OK(clnn_mlp_save(mlp, good, user, sizeof user));
    char small[4];
    CLNN_ASSERT_STATUS(clnn_mlp_load(target, good, small, sizeof small, NULL),
                       CLNN_ERR_INVALID_ARGUMENT);
    assert_int_equal(snapshot(target, after, 4096), n);
    assert_memory_equal(before, after, n * sizeof *before);
    CLNN_ASSERT_OK(clnn_mlp_load(target, good, NULL, 0, NULL));

    /* Saving where it cannot be written fails and leaves the previous file intact. */
    char blocked[600];
    snprintf(blocked, sizeof blocked, "%s/no-such-dir/x.ckpt", temp_dir);
    CLNN_ASSERT_STATUS(clnn_mlp_save(mlp, blocked, NULL, 0), CLNN_ERR_IO);
    CLNN_ASSERT_OK(clnn_mlp_load(target, good, NULL, 0, NULL));
    free(copy);
    free(file);
    clnn_mlp_destroy(target);
    clnn_mlp_destroy(mlp);
}

static int file_exists(const char *dir, const char *name)
{
    char path[1100];
    snprintf(path, sizeof path, "%.255s/%.800s", dir, name);
    return access(path, F_OK) == 0;
}

/* The temporary files that writers killed before their rename left beside a checkpoint are
 * removed by the next save; a live writer's file, a fresh one, and every other name stay. */
static void test_checkpoint_cleans_stale_temp_files(void **state)
{
    (void)state;
    clnn_mlp_spec spec;
    small_spec(&spec, CLNN_MLP_LOSS_CROSS_ENTROPY, 5);
    clnn_mlp *mlp = make_mlp(&spec, NULL, 4);
    char path[512];
    checkpoint_path(path, sizeof path, "stale.ckpt");
    long dead = clnn_test_dead_pid(), alive = (long)getppid();
    struct {
        char name[96];
        int removed;
    } files[8];
    snprintf(files[0].name, 96, "stale.ckpt.%ld.0.tmp", dead), files[0].removed = 1;
    snprintf(files[1].name, 96, "stale.ckpt.%ld.17.tmp", dead), files[1].removed = 1;
    snprintf(files[2].name, 96, "stale.ckpt.%ld.1.tmp", alive), files[2].removed = 0;
    snprintf(files[3].name, 96, "stale.ckpt.%ld.2.tmp", (long)getpid()), files[3].removed = 0;
    snprintf(files[4].name, 96, "other.ckpt.%ld.0.tmp", dead), files[4].removed = 0;
    snprintf(files[5].name, 96, "stale.ckpt.%ld.x.tmp", dead), files[5].removed = 0;
    snprintf(files[6].name, 96, "stale.ckpt.%ld.0.tmp.keep", dead), files[6].removed = 0;
    snprintf(files[7].name, 96, "stale.ckpt.0%ld.0.tmp", dead), files[7].removed = 0;
    for (size_t i = 0; i < 8; ++i)
        clnn_test_make_aged_file(temp_dir, files[i].name, 600);
    char fresh[96];
    snprintf(fresh, sizeof fresh, "stale.ckpt.%ld.3.tmp", dead);
    /* a writer may be at work in another PID namespace */
    clnn_test_make_aged_file(temp_dir, fresh, 0);

    CLNN_ASSERT_OK(clnn_mlp_save(mlp, path, NULL, 0));
    for (size_t i = 0; i < 8; ++i)
        if (file_exists(temp_dir, files[i].name) == files[i].removed)
            fail_msg("%s was %s", files[i].name, files[i].removed ? "kept" : "removed");
    assert_true(file_exists(temp_dir, fresh));
    assert_true(file_exists(temp_dir, "stale.ckpt"));
    CLNN_ASSERT_OK(clnn_mlp_load(mlp, path, NULL, 0, NULL));
    clnn_mlp_destroy(mlp);
}

/* ---- errors --------------------------------------------------------------------------------- */

static void test_errors(void **state)
{
    (void)state;
    clnn_mlp_spec spec;
    small_spec(&spec, CLNN_MLP_LOSS_CROSS_ENTROPY, 1);
    clnn_mlp *mlp = (clnn_mlp *)0x1;
    CLNN_ASSERT_STATUS(clnn_mlp_create(NULL, &spec, NULL, 4, &mlp), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_mlp_create(clnn_test_ctx, NULL, NULL, 4, &mlp),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_mlp_create(clnn_test_ctx, &spec, NULL, 0, &mlp),
                       CLNN_ERR_INVALID_ARGUMENT);
    clnn_mlp_spec bad = spec;
    bad.hidden[0].width = 0;
    CLNN_ASSERT_STATUS(clnn_mlp_create(clnn_test_ctx, &bad, NULL, 4, &mlp), CLNN_ERR_INVALID_SHAPE);
    bad = spec;
    bad.hidden[1].dropout = 1.0f;
    CLNN_ASSERT_STATUS(clnn_mlp_create(clnn_test_ctx, &bad, NULL, 4, &mlp),
                       CLNN_ERR_INVALID_ARGUMENT);
    bad = spec;
    bad.hidden[1].activation.kind = CLNN_ACTIVATION_COUNT;
    CLNN_ASSERT_STATUS(clnn_mlp_create(clnn_test_ctx, &bad, NULL, 4, &mlp),
                       CLNN_ERR_INVALID_ARGUMENT);
    bad = spec;
    bad.batch_norm_eps = 0.0f;
    CLNN_ASSERT_STATUS(clnn_mlp_create(clnn_test_ctx, &bad, NULL, 4, &mlp),
                       CLNN_ERR_INVALID_ARGUMENT);
    clnn_mlp_train_options train;
    CLNN_ASSERT_OK(clnn_mlp_train_options_init(&train));
    train.optimizer.lr = -1.0;
    CLNN_ASSERT_STATUS(clnn_mlp_create(clnn_test_ctx, &spec, &train, 4, &mlp),
                       CLNN_ERR_INVALID_ARGUMENT);
    assert_ptr_equal(mlp, (clnn_mlp *)0x1);

    mlp = make_mlp(&spec, NULL, 4);
    float x[4 * 6] = {0};
    int32_t labels[4] = {0, 1, 2, 3}; /* 3 is out of range for 3 classes */
    static float before[4096], after[4096];
    size_t n = snapshot(mlp, before, 4096);
    CLNN_ASSERT_STATUS(clnn_mlp_train_step(mlp, x, labels, 4, NULL), CLNN_ERR_OUT_OF_RANGE);
    assert_non_null(strstr(clnn_context_last_error(clnn_test_ctx), "label 3"));
    labels[3] = -1;
    CLNN_ASSERT_STATUS(clnn_mlp_train_step(mlp, x, labels, 4, NULL), CLNN_ERR_OUT_OF_RANGE);
    labels[3] = 0;
    CLNN_ASSERT_STATUS(clnn_mlp_train_step(mlp, x, labels, 5, NULL), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_mlp_train_step(mlp, x, labels, 0, NULL), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_mlp_train_step(mlp, x, labels, 1, NULL), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_mlp_train_step(mlp, NULL, labels, 4, NULL), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_mlp_train_step(mlp, x, NULL, 4, NULL), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_mlp_train_step(NULL, x, labels, 4, NULL), CLNN_ERR_INVALID_ARGUMENT);
    assert_int_equal(snapshot(mlp, after, 4096), n);
    assert_memory_equal(before, after, n * sizeof *before); /* nothing was updated */
    uint64_t step = 99;
    CLNN_ASSERT_OK(clnn_mlp_get_step(mlp, &step));
    assert_int_equal(step, 0);
    float out[4 * 3];
    CLNN_ASSERT_OK(clnn_mlp_predict(mlp, x, 1, out)); /* inference takes a batch of one */
    CLNN_ASSERT_STATUS(clnn_mlp_predict(mlp, x, 1, NULL), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_mlp_save(mlp, NULL, NULL, 0), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_mlp_set_lr(mlp, -1.0), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_OK(clnn_mlp_destroy(NULL));
    clnn_mlp_destroy(mlp);
}

/* The spec functions refuse what the header does not allow, at once, leaving the spec as it was;
 * clnn_mlp_create refuses sizes whose products overflow, naming the layer, before allocating. */
static void test_spec_errors(void **state)
{
    (void)state;
    clnn_mlp_spec spec, before;
    memset(&spec, 0x5a, sizeof spec);
    before = spec;
    CLNN_ASSERT_STATUS(clnn_mlp_spec_init(&spec, 0, 3), CLNN_ERR_INVALID_SHAPE);
    assert_non_null(strstr(clnn_context_last_error(NULL), "inputs"));
    CLNN_ASSERT_STATUS(clnn_mlp_spec_init(&spec, 6, 0), CLNN_ERR_INVALID_SHAPE);
    assert_non_null(strstr(clnn_context_last_error(NULL), "outputs"));
    CLNN_ASSERT_STATUS(clnn_mlp_spec_init(&spec, SIZE_MAX, 3), CLNN_ERR_SIZE_OVERFLOW);
    assert_memory_equal(&spec, &before, sizeof spec);

    small_spec(&spec, CLNN_MLP_LOSS_CROSS_ENTROPY, 1);
    before = spec;
    CLNN_ASSERT_STATUS(clnn_mlp_spec_add_layer(&spec, 0, CLNN_ACTIVATION_RELU, 0, 0.0f),
                       CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_mlp_spec_add_layer(&spec, SIZE_MAX, CLNN_ACTIVATION_RELU, 0, 0.0f),
                       CLNN_ERR_SIZE_OVERFLOW);
    static const float bad_dropout[] = {1.0f, -0.5f, NAN, INFINITY};
    for (size_t i = 0; i < sizeof bad_dropout / sizeof bad_dropout[0]; ++i) {
        CLNN_ASSERT_STATUS(
            clnn_mlp_spec_add_layer(&spec, 4, CLNN_ACTIVATION_RELU, 0, bad_dropout[i]),
            CLNN_ERR_INVALID_ARGUMENT);
        assert_non_null(strstr(clnn_context_last_error(NULL), "dropout"));
    }
    assert_memory_equal(&spec, &before, sizeof spec);

    /* Sizes whose products overflow: size_t itself, or the most elements a tensor holds. */
    struct {
        size_t inputs, width, outputs, max_batch;
        const char *named;
    } sizes[] = {
        {6, SIZE_MAX, 3, 4, "hidden layer 0"},
        {6, SIZE_MAX / 4 + 2, 3, 4, "hidden layer 0"}, /* width * 4 bytes wraps to 4 */
        {6, (size_t)1 << 30, 3, 4, "hidden layer 0"},  /* 6 x 2^30 weights */
        {6, (size_t)1 << 12, 3, (size_t)1 << 20, "hidden layer 0"}, /* 2^20 x 2^12 outputs */
        {SIZE_MAX, 4, 3, 4, "inputs"},
        {6, 4, SIZE_MAX, 4, "outputs"},
        {6, 4, (size_t)1 << 30, 4, "outputs"},
        {(size_t)1 << 30, 4, 3, 4, "inputs"},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; ++i) {
        clnn_mlp_spec big = spec;
        big.inputs = sizes[i].inputs;
        big.outputs = sizes[i].outputs;
        big.hidden[0].width = sizes[i].width;
        clnn_mlp *mlp = (clnn_mlp *)0x1;
        clnn_status status = clnn_mlp_create(clnn_test_ctx, &big, NULL, sizes[i].max_batch, &mlp);
        const char *message = clnn_context_last_error(clnn_test_ctx);
        if (status != CLNN_ERR_SIZE_OVERFLOW || !strstr(message, sizes[i].named))
            fail_msg("sizes %zu: %s (%s); expected CLNN_ERR_SIZE_OVERFLOW naming %s", i,
                     clnn_status_string(status), message, sizes[i].named);
        assert_ptr_equal(mlp, (clnn_mlp *)0x1);
    }

    /* A bad clip_norm is reported with its value (the message once read the freed model). */
    clnn_mlp_train_options train;
    CLNN_ASSERT_OK(clnn_mlp_train_options_init(&train));
    static const float bad_clip[] = {-1.0f, NAN};
    static const char *const shown[] = {"clip_norm is -1", "clip_norm is nan"};
    for (size_t i = 0; i < 2; ++i) {
        train.clip_norm = bad_clip[i];
        clnn_mlp *mlp = (clnn_mlp *)0x1;
        CLNN_ASSERT_STATUS(clnn_mlp_create(clnn_test_ctx, &spec, &train, 4, &mlp),
                           CLNN_ERR_INVALID_ARGUMENT);
        assert_non_null(strstr(clnn_context_last_error(clnn_test_ctx), shown[i]));
        assert_ptr_equal(mlp, (clnn_mlp *)0x1);
    }
}

/* Health thresholds that are NaN or negative are refused before the step runs. */
static void test_health_options_errors(void **state)
{
    (void)state;
    clnn_mlp_spec spec;
    small_spec(&spec, CLNN_MLP_LOSS_CROSS_ENTROPY, 3);
    clnn_mlp *mlp = make_mlp(&spec, NULL, 4);
    float x[4 * 6];
    int32_t labels[4];
    fixed_batch(x, labels, 4, 0);
    static float before[4096], after[4096];
    size_t n = snapshot(mlp, before, 4096);
    clnn_mlp_health health;
    memset(&health, 0x5a, sizeof health);
    clnn_mlp_health untouched = health;
    static const float bad[][2] = {{NAN, 1e3f}, {-1e-3f, 1e3f}, {1e-3f, NAN}, {1e-3f, -1.0f}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        clnn_mlp_health_options options;
        CLNN_ASSERT_OK(clnn_mlp_health_options_init(&options));
        options.vanishing_ratio = bad[i][0];
        options.exploding_norm = bad[i][1];
        CLNN_ASSERT_STATUS(
            clnn_mlp_train_step_health(mlp, x, labels, 4, &options, NULL, &health),
            CLNN_ERR_INVALID_ARGUMENT);
        assert_non_null(strstr(clnn_context_last_error(clnn_test_ctx),
                               i < 2 ? "vanishing_ratio" : "exploding_norm"));
        CLNN_ASSERT_STATUS(clnn_mlp_probe_health(mlp, x, labels, 4, &options, &health),
                           CLNN_ERR_INVALID_ARGUMENT);
    }
    assert_memory_equal(&health, &untouched, sizeof health);
    uint64_t step = 99;
    CLNN_ASSERT_OK(clnn_mlp_get_step(mlp, &step));
    assert_int_equal(step, 0);
    assert_int_equal(snapshot(mlp, after, 4096), n);
    assert_memory_equal(before, after, n * sizeof *before);
    clnn_mlp_destroy(mlp);
}

static int remove_temp_dir(void **state)
{
    (void)state;
    if (temp_dir[0])
        clnn_test_remove_tree(temp_dir);
    temp_dir[0] = '\0';
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradients_cross_entropy),
        cmocka_unit_test(test_gradients_mse),
        cmocka_unit_test(test_training_matches_reference),
        cmocka_unit_test(test_learns_synthetic_problem),
        cmocka_unit_test(test_agrees_across_devices),
        cmocka_unit_test(test_partial_batch),
        cmocka_unit_test(test_health_statistics),
        cmocka_unit_test(test_vanishing_flag),
        cmocka_unit_test(test_checkpoint_resume_is_exact),
        cmocka_unit_test(test_checkpoint_rejects_damage),
        cmocka_unit_test(test_checkpoint_cleans_stale_temp_files),
        cmocka_unit_test(test_checkpoint_bad_optimizer_step),
        cmocka_unit_test(test_checkpoint_format_1_loads),
        cmocka_unit_test(test_spec_errors),
        cmocka_unit_test(test_health_options_errors),
        cmocka_unit_test_teardown(test_errors, remove_temp_dir),
    };
    return clnn_test_main("mlp", tests, sizeof tests / sizeof tests[0]);
}
