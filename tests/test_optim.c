/*
 * Tests of the optimisers and learning-rate schedules: 100 steps of every option combination that
 * changes the math, with fresh random gradients each step and a learning rate changed between
 * steps, against the double-precision reference (tests/ref/optim_ref.c); checkpoint round trips;
 * hyper-parameter and argument validation; schedules against their closed forms.
 */
#include "clnn_test.h"
#include "optim_ref.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TENSORS 3
static const size_t sizes[TENSORS][2] = {{1, 1}, {1, 7}, {33, 31}}; /* 1, 7 and 1023 elements */

static size_t size_of(int k)
{
    return sizes[k][0] * sizes[k][1];
}

typedef struct config {
    const char *name;
    clnn_optimizer_kind kind;
    double lr, weight_decay, momentum, dampening, alpha, beta1, beta2, lr_decay, init_acc;
    int nesterov, centered, amsgrad;
} config;

/* Every option that changes the math, alone and combined. Zero fields keep the defaults of
 * clnn_optimizer_options_init except where noted (momentum, weight decay are 0 by default). */
static const config configs[] = {
    {.name = "sgd", .kind = CLNN_OPTIMIZER_SGD, .lr = 0.05},
    {.name = "sgd wd", .kind = CLNN_OPTIMIZER_SGD, .lr = 0.05, .weight_decay = 0.1},
    {.name = "sgd momentum",
     .kind = CLNN_OPTIMIZER_SGD,
     .lr = 0.05,
     .weight_decay = 0,
     .momentum = 0.9},
    {.name = "sgd momentum dampening",
     .kind = CLNN_OPTIMIZER_SGD,
     .lr = 0.05,
     .weight_decay = 0,
     .momentum = 0.9,
     .dampening = 0.3},
    {.name = "sgd momentum dampening wd",
     .kind = CLNN_OPTIMIZER_SGD,
     .lr = 0.05,
     .weight_decay = 0.05,
     .momentum = 0.8,
     .dampening = 0.5},
    {.name = "sgd nesterov",
     .kind = CLNN_OPTIMIZER_SGD,
     .lr = 0.05,
     .weight_decay = 0,
     .momentum = 0.9,
     .nesterov = 1},
    {.name = "sgd nesterov wd",
     .kind = CLNN_OPTIMIZER_SGD,
     .lr = 0.05,
     .weight_decay = 0.1,
     .momentum = 0.7,
     .nesterov = 1},
    {.name = "rmsprop", .kind = CLNN_OPTIMIZER_RMSPROP, .lr = 0.01},
    {.name = "rmsprop alpha wd",
     .kind = CLNN_OPTIMIZER_RMSPROP,
     .lr = 0.01,
     .weight_decay = 0.1,
     .alpha = 0.9},
    {.name = "rmsprop centered", .kind = CLNN_OPTIMIZER_RMSPROP, .lr = 0.01, .centered = 1},
    {.name = "rmsprop momentum",
     .kind = CLNN_OPTIMIZER_RMSPROP,
     .lr = 0.01,
     .weight_decay = 0,
     .momentum = 0.9},
    {.name = "rmsprop centered momentum wd",
     .kind = CLNN_OPTIMIZER_RMSPROP,
     .lr = 0.01,
     .weight_decay = 0.05,
     .momentum = 0.5,
     .centered = 1},
    {.name = "adam", .kind = CLNN_OPTIMIZER_ADAM, .lr = 0.01},
    {.name = "adam betas wd",
     .kind = CLNN_OPTIMIZER_ADAM,
     .lr = 0.01,
     .weight_decay = 0.1,
     .beta1 = 0.5,
     .beta2 = 0.9},
    {.name = "adam beta1=0",
     .kind = CLNN_OPTIMIZER_ADAM,
     .lr = 0.01,
     .beta1 = -1}, /* -1: set to 0 */
    {.name = "adam amsgrad", .kind = CLNN_OPTIMIZER_ADAM, .lr = 0.01, .amsgrad = 1},
    {.name = "adam amsgrad wd",
     .kind = CLNN_OPTIMIZER_ADAM,
     .lr = 0.01,
     .weight_decay = 0.1,
     .amsgrad = 1},
    {.name = "adamw", .kind = CLNN_OPTIMIZER_ADAMW, .lr = 0.01},
    {.name = "adamw wd=0.1 amsgrad",
     .kind = CLNN_OPTIMIZER_ADAMW,
     .lr = 0.01,
     .weight_decay = 0.1,
     .amsgrad = 1},
    {.name = "adagrad", .kind = CLNN_OPTIMIZER_ADAGRAD, .lr = 0.1},
    {.name = "adagrad lr_decay wd init",
     .kind = CLNN_OPTIMIZER_ADAGRAD,
     .lr = 0.1,
     .weight_decay = 0.05,
     .lr_decay = 0.01,
     .init_acc = 0.1},
};

static clnn_optimizer_options options_of(const config *c)
{
    clnn_optimizer_options o;
    clnn_optimizer_options_init(&o, c->kind);
    o.lr = c->lr;
    if (c->weight_decay != 0.0)
        o.weight_decay = c->weight_decay;
    o.momentum = c->momentum;
    o.dampening = c->dampening;
    o.nesterov = c->nesterov;
    o.centered = c->centered;
    o.amsgrad = c->amsgrad;
    if (c->alpha != 0.0)
        o.alpha = c->alpha;
    if (c->beta1 != 0.0)
        o.beta1 = c->beta1 < 0.0 ? 0.0 : c->beta1;
    if (c->beta2 != 0.0)
        o.beta2 = c->beta2;
    o.lr_decay = c->lr_decay;
    o.initial_accumulator_value = c->init_acc;
    return o;
}

static void fill_normal(float *x, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        x[i] = (float)clnn_test_normal();
}

/* Per-array comparison: |got - ref| <= 1e-5 * |ref| + 1e-6 * scale, scale = max(1, max |ref|).
 * The relative part is the 1e-5. The absolute part is for elements that pass near zero
 * (a parameter crossing 0, a decayed momentum): initial parameters and gradients are N(0, 1), so
 * every value is computed from operands of magnitude ~1 (or of the array's own scale, such as
 * Adagrad's growing sum), and float rounding leaves an element that cancels towards 0 with an
 * absolute error of a few ulps of that scale per step: 100 steps of 0.5 ulp (6e-8) random-walk to
 * ~6e-7, and 1e-6 is that with some margin. */
static void compare(const char *what, const float *got, const double *ref, size_t n)
{
    double scale = 1.0;
    for (size_t i = 0; i < n; ++i)
        scale = fmax(scale, fabs(ref[i]));
    /* RMSprop's momentum buffer sums d / (sqrt(s) + eps), terms up to 1 / sqrt(1 - alpha) = 10
     * in magnitude, so its absolute error is that of operands of ~10: 2.1e-6 after 12 steps on
     * POCL (GPU forms), 1.7e-6 on llvmpipe. Hence 1e-5 (the same margin at that scale). */
    clnn_test_assert_close(what, got, ref, n, 1e-5, 1e-5 * scale);
}

/* With L2 weight decay added to the gradient (all but AdamW), d = g + wd p is formed in float on
 * the device: where it cancels to near 0 its rounding error (an ulp of wd p, ~1e-8) is a large
 * part of d, and the normalised steps of Adam, RMSprop and Adagrad, d / (sqrt(v) + eps), then
 * differ from the double reference by up to the whole step: one element in 1023 drawn with
 * |d| ~ 3e-8 took a first Adam step of 0.77 lr on the device against 0.78 lr in double, 1e-4 off
 * after 12 steps (seed 122635997686668, "adam amsgrad wd", GPU forms on basic, Oclgrind and
 * llvmpipe). PyTorch in float32 has the same sensitivity; such an input has no float answer to
 * compare with a double one, so the gradient is moved 0.01 away where |g + wd p| < 1e-4 (p the
 * reference's, within 1e-6 of the device's). */
static void away_from_cancellation(const clnn_optimizer_options *o, float *g, const double *p,
                                   size_t n)
{
    if (o->weight_decay == 0.0 || o->kind == CLNN_OPTIMIZER_ADAMW)
        return;
    for (size_t i = 0; i < n; ++i) {
        double d = (double)g[i] + o->weight_decay * p[i];
        if (fabs(d) < 1e-4)
            g[i] += d < 0.0 ? -0.01f : 0.01f;
    }
}

/* Runs 100 steps of one configuration on the device and the reference; the learning rate follows
 * a cosine schedule set before each step, so it is a per-step argument. */
static void run_config(const config *c)
{
    const int steps = CLNN_TEST_SHAPE(100, 12); /* small tier: fewer launches */
    clnn_optimizer_options o = options_of(c);
    clnn_tensor *params[TENSORS], *grads[TENSORS];
    float *host_p[TENSORS], *host_g[TENSORS], *got = clnn_test_alloc(1023 * sizeof(float));
    double *ref_p[TENSORS], *ref_g = clnn_test_alloc(1023 * sizeof(double));
    optim_ref_state ref_s[TENSORS];
    for (int k = 0; k < TENSORS; ++k) {
        size_t n = size_of(k);
        host_p[k] = clnn_test_alloc(n * sizeof(float));
        host_g[k] = clnn_test_alloc(n * sizeof(float));
        ref_p[k] = clnn_test_alloc(n * sizeof(double));
        fill_normal(host_p[k], n);
        for (size_t i = 0; i < n; ++i)
            ref_p[k][i] = host_p[k][i];
        params[k] = clnn_test_tensor(2, sizes[k], host_p[k]);
        grads[k] = clnn_test_tensor(2, sizes[k], NULL);
        assert_int_equal(optim_ref_state_init(&ref_s[k], n, &o), 0);
    }
    clnn_optimizer *opt = NULL;
    CLNN_ASSERT_OK(clnn_optimizer_create(clnn_test_ctx, &o, params, TENSORS, &opt));
    clnn_lr_schedule schedule;
    CLNN_ASSERT_OK(clnn_lr_schedule_init(&schedule, CLNN_LR_COSINE, c->lr));
    schedule.t_max = (uint64_t)steps;
    schedule.eta_min = 0.1 * c->lr;
    clnn_cache_stats before, after;

    for (int step = 0; step < steps; ++step) {
        double lr;
        CLNN_ASSERT_OK(clnn_lr_schedule_value(&schedule, (uint64_t)step, &lr));
        CLNN_ASSERT_OK(clnn_optimizer_set_lr(opt, lr));
        o.lr = lr;
        for (int k = 0; k < TENSORS; ++k) {
            fill_normal(host_g[k], size_of(k));
            away_from_cancellation(&o, host_g[k], ref_p[k], size_of(k));
            CLNN_ASSERT_OK(clnn_tensor_upload(grads[k], host_g[k], size_of(k)));
            for (size_t i = 0; i < size_of(k); ++i)
                ref_g[i] = host_g[k][i];
            optim_ref_step(&o, (uint64_t)step, ref_p[k], ref_g, size_of(k), &ref_s[k]);
        }
        CLNN_ASSERT_OK(clnn_optimizer_step(opt, grads, TENSORS));
        if (step == 1)
            CLNN_ASSERT_OK(clnn_context_get_cache_stats(clnn_test_ctx, &before));
    }
    /* Per-step values are kernel arguments: no program was built after the first steps. */
    CLNN_ASSERT_OK(clnn_context_get_cache_stats(clnn_test_ctx, &after));
    assert_int_equal(before.programs_built, after.programs_built);
    uint64_t taken;
    CLNN_ASSERT_OK(clnn_optimizer_get_step(opt, &taken));
    assert_int_equal(taken, (uint64_t)steps);

    size_t slots;
    CLNN_ASSERT_OK(clnn_optimizer_state_count(opt, &slots));
    for (int k = 0; k < TENSORS; ++k) {
        char what[160];
        clnn_test_download(params[k], got, size_of(k));
        snprintf(what, sizeof what, "%s: parameter %d after %d steps", c->name, k, steps);
        compare(what, got, ref_p[k], size_of(k));
        for (size_t s = 0; s < slots; ++s) {
            const char *name;
            clnn_tensor *state;
            CLNN_ASSERT_OK(clnn_optimizer_state_name(opt, s, &name));
            CLNN_ASSERT_OK(clnn_optimizer_get_state(opt, (size_t)k, s, &state));
            clnn_test_download(state, got, size_of(k));
            snprintf(what, sizeof what, "%s: %s of parameter %d", c->name, name, k);
            const double *ref = optim_ref_state_get(&ref_s[k], name);
            assert_non_null(ref);
            compare(what, got, ref, size_of(k));
        }
    }
    clnn_optimizer_destroy(opt);
    for (int k = 0; k < TENSORS; ++k) {
        clnn_tensor_destroy(params[k]);
        clnn_tensor_destroy(grads[k]);
        optim_ref_state_free(&ref_s[k]);
        free(host_p[k]);
        free(host_g[k]);
        free(ref_p[k]);
    }
    free(got);
    free(ref_g);
}

static void test_against_reference(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof configs / sizeof configs[0]; ++c)
        run_config(&configs[c]);
}

/* The state slots each configuration exposes, with PyTorch's state_dict names. */
static void test_state_slots(void **state)
{
    (void)state;
    static const struct {
        config c;
        const char *names[3];
    } cases[] = {
        {{.name = "", .kind = CLNN_OPTIMIZER_SGD, .lr = 0.1}, {NULL}},
        {{.name = "", .kind = CLNN_OPTIMIZER_SGD, .lr = 0.1, .weight_decay = 0, .momentum = 0.9},
         {"momentum_buffer"}},
        {{.name = "", .kind = CLNN_OPTIMIZER_RMSPROP, .lr = 0.1}, {"square_avg"}},
        {{.name = "",
          .kind = CLNN_OPTIMIZER_RMSPROP,
          .lr = 0.1,
          .weight_decay = 0,
          .momentum = 0.9,
          .centered = 1},
         {"square_avg", "momentum_buffer", "grad_avg"}},
        {{.name = "", .kind = CLNN_OPTIMIZER_ADAM, .lr = 0.1}, {"exp_avg", "exp_avg_sq"}},
        {{.name = "", .kind = CLNN_OPTIMIZER_ADAMW, .lr = 0.1, .amsgrad = 1},
         {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}},
        {{.name = "", .kind = CLNN_OPTIMIZER_ADAGRAD, .lr = 0.1, .init_acc = 0.25}, {"sum"}},
    };
    size_t n = 5;
    clnn_tensor *p = clnn_test_tensor_1d(n, NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        clnn_optimizer_options o = options_of(&cases[i].c);
        clnn_optimizer *opt;
        CLNN_ASSERT_OK(clnn_optimizer_create(clnn_test_ctx, &o, &p, 1, &opt));
        size_t count, expected = 0, slot;
        while (expected < 3 && cases[i].names[expected])
            ++expected;
        CLNN_ASSERT_OK(clnn_optimizer_state_count(opt, &count));
        assert_int_equal(count, expected);
        for (size_t s = 0; s < count; ++s) {
            const char *name;
            clnn_tensor *t;
            float values[5];
            CLNN_ASSERT_OK(clnn_optimizer_state_name(opt, s, &name));
            assert_string_equal(name, cases[i].names[s]);
            CLNN_ASSERT_OK(clnn_optimizer_find_state(opt, name, &slot));
            assert_int_equal(slot, s);
            CLNN_ASSERT_OK(clnn_optimizer_get_state(opt, 0, s, &t));
            clnn_test_download(t, values, n);
            /* Initial values: zeros, Adagrad's sum initial_accumulator_value. */
            for (size_t e = 0; e < n; ++e)
                assert_true(values[e] == (float)(!strcmp(name, "sum") ? 0.25 : 0.0));
        }
        const char *name = "x";
        clnn_tensor *t = NULL;
        CLNN_ASSERT_STATUS(clnn_optimizer_state_name(opt, count, &name), CLNN_ERR_OUT_OF_RANGE);
        assert_string_equal(name, "x");
        CLNN_ASSERT_STATUS(clnn_optimizer_get_state(opt, 1, 0, &t), CLNN_ERR_OUT_OF_RANGE);
        CLNN_ASSERT_STATUS(clnn_optimizer_get_state(opt, 0, count, &t), CLNN_ERR_OUT_OF_RANGE);
        assert_null(t);
        CLNN_ASSERT_STATUS(clnn_optimizer_find_state(opt, "nonexistent", &slot),
                           CLNN_ERR_OUT_OF_RANGE);
        clnn_optimizer_destroy(opt);
    }
    clnn_tensor_destroy(p);
}

/* Checkpoint round trip: optimiser B, restored from A's step count and state after 7 steps,
 * continues bit for bit as A does. */
static void test_checkpoint_round_trip(void **state)
{
    (void)state;
    static const config cases[] = {
        {.name = "sgd nesterov",
         .kind = CLNN_OPTIMIZER_SGD,
         .lr = 0.05,
         .weight_decay = 0.01,
         .momentum = 0.9,
         .nesterov = 1},
        {.name = "rmsprop centered momentum",
         .kind = CLNN_OPTIMIZER_RMSPROP,
         .lr = 0.01,
         .weight_decay = 0,
         .momentum = 0.5,
         .centered = 1},
        {.name = "adam amsgrad", .kind = CLNN_OPTIMIZER_ADAM, .lr = 0.01, .amsgrad = 1},
        {.name = "adamw", .kind = CLNN_OPTIMIZER_ADAMW, .lr = 0.01},
        {.name = "adagrad", .kind = CLNN_OPTIMIZER_ADAGRAD, .lr = 0.1, .lr_decay = 0.1},
    };
    const size_t n = 1023;
    const size_t dims[2] = {33, 31};
    float *p0 = clnn_test_alloc(n * sizeof(float)), *g = clnn_test_alloc(n * sizeof(float));
    float *a = clnn_test_alloc(n * sizeof(float)), *b = clnn_test_alloc(n * sizeof(float));
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
        clnn_optimizer_options o = options_of(&cases[c]);
        fill_normal(p0, n);
        clnn_tensor *pa = clnn_test_tensor(2, dims, p0), *grad = clnn_test_tensor(2, dims, NULL);
        clnn_optimizer *A, *B;
        CLNN_ASSERT_OK(clnn_optimizer_create(clnn_test_ctx, &o, &pa, 1, &A));
        for (int s = 0; s < 7; ++s) {
            fill_normal(g, n);
            CLNN_ASSERT_OK(clnn_tensor_upload(grad, g, n));
            CLNN_ASSERT_OK(clnn_optimizer_step(A, &grad, 1));
        }
        /* Checkpoint: parameter, step count and every state tensor, through host memory. */
        uint64_t step;
        size_t slots;
        CLNN_ASSERT_OK(clnn_optimizer_get_step(A, &step));
        CLNN_ASSERT_OK(clnn_optimizer_state_count(A, &slots));
        float *saved = clnn_test_alloc((slots + 1) * n * sizeof(float));
        clnn_test_download(pa, saved, n);
        for (size_t s = 0; s < slots; ++s) {
            clnn_tensor *t;
            CLNN_ASSERT_OK(clnn_optimizer_get_state(A, 0, s, &t));
            clnn_test_download(t, saved + (s + 1) * n, n);
        }
        /* Restore into a fresh optimiser over a fresh parameter. */
        clnn_tensor *pb = clnn_test_tensor(2, dims, saved);
        CLNN_ASSERT_OK(clnn_optimizer_create(clnn_test_ctx, &o, &pb, 1, &B));
        CLNN_ASSERT_OK(clnn_optimizer_set_step(B, step));
        for (size_t s = 0; s < slots; ++s) {
            clnn_tensor *t;
            CLNN_ASSERT_OK(clnn_optimizer_get_state(B, 0, s, &t));
            CLNN_ASSERT_OK(clnn_tensor_upload(t, saved + (s + 1) * n, n));
        }
        for (int s = 0; s < 5; ++s) {
            fill_normal(g, n);
            CLNN_ASSERT_OK(clnn_tensor_upload(grad, g, n));
            CLNN_ASSERT_OK(clnn_optimizer_step(A, &grad, 1));
            CLNN_ASSERT_OK(clnn_optimizer_step(B, &grad, 1));
        }
        clnn_test_download(pa, a, n);
        clnn_test_download(pb, b, n);
        assert_memory_equal(a, b, n * sizeof(float));
        for (size_t s = 0; s < slots; ++s) {
            clnn_tensor *ta, *tb;
            CLNN_ASSERT_OK(clnn_optimizer_get_state(A, 0, s, &ta));
            CLNN_ASSERT_OK(clnn_optimizer_get_state(B, 0, s, &tb));
            clnn_test_download(ta, a, n);
            clnn_test_download(tb, b, n);
            assert_memory_equal(a, b, n * sizeof(float));
        }
        free(saved);
        clnn_optimizer_destroy(A);
        clnn_optimizer_destroy(B);
        clnn_tensor_destroy(pa);
        clnn_tensor_destroy(pb);
        clnn_tensor_destroy(grad);
    }
    free(p0);
    free(g);
    free(a);
    free(b);
}

/* The defaults of torch.optim. */
static void test_defaults(void **state)
{
    (void)state;
    clnn_optimizer_options o;
    CLNN_ASSERT_OK(clnn_optimizer_options_init(&o, CLNN_OPTIMIZER_SGD));
    assert_true(o.lr == 1e-3 && o.momentum == 0.0 && o.dampening == 0.0 && !o.nesterov &&
                o.weight_decay == 0.0);
    CLNN_ASSERT_OK(clnn_optimizer_options_init(&o, CLNN_OPTIMIZER_RMSPROP));
    assert_true(o.lr == 1e-2 && o.alpha == 0.99 && o.eps == 1e-8 && o.momentum == 0.0 &&
                !o.centered && o.weight_decay == 0.0);
    CLNN_ASSERT_OK(clnn_optimizer_options_init(&o, CLNN_OPTIMIZER_ADAM));
    assert_true(o.lr == 1e-3 && o.beta1 == 0.9 && o.beta2 == 0.999 && o.eps == 1e-8 &&
                o.weight_decay == 0.0 && !o.amsgrad);
    CLNN_ASSERT_OK(clnn_optimizer_options_init(&o, CLNN_OPTIMIZER_ADAMW));
    assert_true(o.lr == 1e-3 && o.beta1 == 0.9 && o.beta2 == 0.999 && o.eps == 1e-8 &&
                o.weight_decay == 1e-2 && !o.amsgrad);
    CLNN_ASSERT_OK(clnn_optimizer_options_init(&o, CLNN_OPTIMIZER_ADAGRAD));
    assert_true(o.lr == 1e-2 && o.lr_decay == 0.0 && o.weight_decay == 0.0 &&
                o.initial_accumulator_value == 0.0 && o.eps == 1e-10);
    CLNN_ASSERT_STATUS(clnn_optimizer_options_init(&o, CLNN_OPTIMIZER_KIND_COUNT),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_optimizer_options_init(NULL, CLNN_OPTIMIZER_SGD),
                       CLNN_ERR_INVALID_ARGUMENT);
    assert_string_equal(clnn_optimizer_kind_string(CLNN_OPTIMIZER_ADAMW), "adamw");
    assert_string_equal(clnn_optimizer_kind_string(CLNN_OPTIMIZER_KIND_COUNT), "unknown");
}

/* Invalid hyper-parameters are refused as torch.optim refuses them, and nothing is created. */
static void test_invalid_options(void **state)
{
    (void)state;
    clnn_tensor *p = clnn_test_tensor_1d(4, NULL);
    clnn_optimizer *sentinel = (clnn_optimizer *)&sentinel, *opt = sentinel;
    struct {
        clnn_optimizer_kind kind;
        const char *field;
        double value;
    } bad[] = {
        {CLNN_OPTIMIZER_SGD, "lr", -0.1},
        {CLNN_OPTIMIZER_SGD, "lr", NAN},
        {CLNN_OPTIMIZER_SGD, "lr", INFINITY},
        {CLNN_OPTIMIZER_SGD, "momentum", -0.5},
        {CLNN_OPTIMIZER_SGD, "weight_decay", -1e-4},
        {CLNN_OPTIMIZER_SGD, "dampening", NAN},
        {CLNN_OPTIMIZER_SGD, "nesterov_no_momentum", 0},
        {CLNN_OPTIMIZER_SGD, "nesterov_dampening", 0.1},
        {CLNN_OPTIMIZER_RMSPROP, "eps", -1e-8},
        {CLNN_OPTIMIZER_RMSPROP, "alpha", -0.1},
        {CLNN_OPTIMIZER_RMSPROP, "momentum", -0.1},
        {CLNN_OPTIMIZER_ADAM, "beta1", 1.0},
        {CLNN_OPTIMIZER_ADAM, "beta1", -0.1},
        {CLNN_OPTIMIZER_ADAM, "beta2", 1.0},
        {CLNN_OPTIMIZER_ADAM, "beta2", NAN},
        {CLNN_OPTIMIZER_ADAMW, "eps", -1.0},
        {CLNN_OPTIMIZER_ADAMW, "weight_decay", -0.01},
        {CLNN_OPTIMIZER_ADAGRAD, "lr_decay", -0.1},
        {CLNN_OPTIMIZER_ADAGRAD, "initial_accumulator_value", -0.1},
        {CLNN_OPTIMIZER_ADAGRAD, "eps", NAN},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        clnn_optimizer_options o;
        CLNN_ASSERT_OK(clnn_optimizer_options_init(&o, bad[i].kind));
        const char *f = bad[i].field;
        if (!strcmp(f, "lr"))
            o.lr = bad[i].value;
        else if (!strcmp(f, "momentum"))
            o.momentum = bad[i].value;
        else if (!strcmp(f, "weight_decay"))
            o.weight_decay = bad[i].value;
        else if (!strcmp(f, "dampening"))
            o.dampening = bad[i].value;
        else if (!strcmp(f, "nesterov_no_momentum"))
            o.nesterov = 1;
        else if (!strcmp(f, "nesterov_dampening"))
            o.nesterov = 1, o.momentum = 0.9, o.dampening = bad[i].value;
        else if (!strcmp(f, "eps"))
            o.eps = bad[i].value;
        else if (!strcmp(f, "alpha"))
            o.alpha = bad[i].value;
        else if (!strcmp(f, "beta1"))
            o.beta1 = bad[i].value;
        else if (!strcmp(f, "beta2"))
            o.beta2 = bad[i].value;
        else if (!strcmp(f, "lr_decay"))
            o.lr_decay = bad[i].value;
        else
            o.initial_accumulator_value = bad[i].value;
        CLNN_ASSERT_STATUS(clnn_optimizer_create(clnn_test_ctx, &o, &p, 1, &opt),
                           CLNN_ERR_INVALID_ARGUMENT);
        assert_ptr_equal(opt, sentinel);
    }
    /* Valid edge values: lr 0, beta 0, eps 0, nesterov with momentum and no dampening. */
    clnn_optimizer_options o;
    CLNN_ASSERT_OK(clnn_optimizer_options_init(&o, CLNN_OPTIMIZER_SGD));
    o.lr = 0.0, o.momentum = 0.9, o.nesterov = 1;
    CLNN_ASSERT_OK(clnn_optimizer_create(clnn_test_ctx, &o, &p, 1, &opt));
    clnn_optimizer_destroy(opt);
    CLNN_ASSERT_OK(clnn_optimizer_options_init(&o, CLNN_OPTIMIZER_ADAM));
    o.beta1 = 0.0, o.beta2 = 0.0, o.eps = 0.0;
    CLNN_ASSERT_OK(clnn_optimizer_create(clnn_test_ctx, &o, &p, 1, &opt));
    clnn_optimizer_destroy(opt);

    /* Argument errors of creation. */
    opt = sentinel;
    clnn_tensor *twice[2] = {p, p}, *with_null[2] = {p, NULL};
    CLNN_ASSERT_STATUS(clnn_optimizer_create(clnn_test_ctx, &o, twice, 2, &opt),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_optimizer_create(clnn_test_ctx, &o, with_null, 2, &opt),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_optimizer_create(clnn_test_ctx, &o, &p, 0, &opt),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_optimizer_create(clnn_test_ctx, NULL, &p, 1, &opt),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_optimizer_create(clnn_test_ctx, &o, NULL, 1, &opt),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_optimizer_create(clnn_test_ctx, &o, &p, 1, NULL),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_optimizer_create(NULL, &o, &p, 1, &opt), CLNN_ERR_INVALID_ARGUMENT);
    o.kind = CLNN_OPTIMIZER_KIND_COUNT;
    CLNN_ASSERT_STATUS(clnn_optimizer_create(clnn_test_ctx, &o, &p, 1, &opt),
                       CLNN_ERR_INVALID_ARGUMENT);
    assert_ptr_equal(opt, sentinel);
    clnn_tensor_destroy(p);
}

/* Step errors leave the parameters, the state and the step count as they were. */
static void test_step_errors(void **state)
{
    (void)state;
    float init[6] = {1, 2, 3, 4, 5, 6}, got[6];
    const size_t d23[2] = {2, 3}, d32[2] = {3, 2};
    clnn_tensor *p[2] = {clnn_test_tensor(2, d23, init), clnn_test_tensor_1d(6, init)};
    clnn_tensor *g_ok = clnn_test_tensor(2, d23, init), *g_bad = clnn_test_tensor(2, d32, init);
    clnn_tensor *g1 = clnn_test_tensor_1d(6, init);
    clnn_optimizer_options o;
    CLNN_ASSERT_OK(clnn_optimizer_options_init(&o, CLNN_OPTIMIZER_ADAM));
    clnn_optimizer *opt;
    CLNN_ASSERT_OK(clnn_optimizer_create(clnn_test_ctx, &o, p, 2, &opt));
    clnn_tensor *wrong_shape[2] = {g_bad, g1}, *aliased[2] = {g_ok, p[1]}, *swapped[2] = {p[1], g1},
                *with_null[2] = {g_ok, NULL}, *good[2] = {g_ok, g1};
    CLNN_ASSERT_STATUS(clnn_optimizer_step(opt, good, 1), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_optimizer_step(opt, good, 3), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_optimizer_step(opt, wrong_shape, 2), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_optimizer_step(opt, aliased, 2), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_optimizer_step(opt, swapped, 2), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_optimizer_step(opt, with_null, 2), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_optimizer_step(opt, NULL, 2), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_optimizer_step(NULL, good, 2), CLNN_ERR_INVALID_ARGUMENT);
    uint64_t step = 99;
    CLNN_ASSERT_OK(clnn_optimizer_get_step(opt, &step));
    assert_int_equal(step, 0);
    for (int k = 0; k < 2; ++k) {
        clnn_test_download(p[k], got, 6);
        assert_memory_equal(got, init, sizeof init);
        clnn_tensor *t;
        CLNN_ASSERT_OK(clnn_optimizer_get_state(opt, (size_t)k, 0, &t));
        clnn_test_download(t, got, 6);
        for (int i = 0; i < 6; ++i)
            assert_true(got[i] == 0.0f);
    }
    /* Learning rate and step count setters validate too. */
    double lr;
    CLNN_ASSERT_STATUS(clnn_optimizer_set_lr(opt, -1.0), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_optimizer_set_lr(opt, NAN), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_OK(clnn_optimizer_get_lr(opt, &lr));
    assert_true(lr == 1e-3);
    CLNN_ASSERT_OK(clnn_optimizer_set_lr(opt, 0.5));
    CLNN_ASSERT_OK(clnn_optimizer_get_lr(opt, &lr));
    assert_true(lr == 0.5);
    clnn_optimizer_options back;
    CLNN_ASSERT_OK(clnn_optimizer_get_options(opt, &back));
    assert_true(back.lr == 0.5 && back.kind == CLNN_OPTIMIZER_ADAM && back.beta2 == 0.999);
    CLNN_ASSERT_STATUS(clnn_optimizer_set_step(opt, (uint64_t)1 << 53), CLNN_ERR_INVALID_ARGUMENT);
    size_t count;
    CLNN_ASSERT_OK(clnn_optimizer_param_count(opt, &count));
    assert_int_equal(count, 2);
    CLNN_ASSERT_STATUS(clnn_optimizer_get_step(opt, NULL), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_OK(clnn_optimizer_destroy(NULL));
    clnn_optimizer_destroy(opt);
    clnn_tensor_destroy(p[0]);
    clnn_tensor_destroy(p[1]);
    clnn_tensor_destroy(g_ok);
    clnn_tensor_destroy(g_bad);
    clnn_tensor_destroy(g1);
}

static double value_at(const clnn_lr_schedule *s, uint64_t t)
{
    double lr = -1.0;
    CLNN_ASSERT_OK(clnn_lr_schedule_value(s, t, &lr));
    return lr;
}

/* Closed forms: StepLR, CosineAnnealingLR, LinearLR, and their compositions. The expected values
 * are written out independently of src/optim.c (exact decimal values where they exist). */
static void test_schedules(void **state)
{
    (void)state;
    const double pi = 3.14159265358979323846;
    clnn_lr_schedule s;
    CLNN_ASSERT_OK(clnn_lr_schedule_init(&s, CLNN_LR_CONSTANT, 0.3));
    assert_true(value_at(&s, 0) == 0.3 && value_at(&s, 12345) == 0.3);

    /* StepLR(step_size=30, gamma=0.1) from 0.05: 0.05 until 29, 0.005 from 30, ... */
    CLNN_ASSERT_OK(clnn_lr_schedule_init(&s, CLNN_LR_STEP, 0.05));
    s.step_size = 30;
    s.gamma = 0.1;
    for (uint64_t t = 0; t < 200; ++t)
        assert_float_equal(value_at(&s, t), 0.05 * pow(0.1, (double)(t / 30)), 1e-15);
    assert_true(value_at(&s, 29) == 0.05);
    assert_float_equal(value_at(&s, 30), 0.005, 1e-17);

    /* CosineAnnealingLR(T_max=50, eta_min=1e-4) from 0.1. */
    CLNN_ASSERT_OK(clnn_lr_schedule_init(&s, CLNN_LR_COSINE, 0.1));
    s.t_max = 50;
    s.eta_min = 1e-4;
    for (uint64_t t = 0; t <= 150; ++t) {
        double expected = 1e-4 + (0.1 - 1e-4) * (1.0 + cos(pi * (double)t / 50.0)) / 2.0;
        assert_float_equal(value_at(&s, t), expected, 1e-15);
    }
    assert_true(value_at(&s, 0) == 0.1);
    assert_float_equal(value_at(&s, 25), (0.1 + 1e-4) / 2, 1e-16);
    assert_float_equal(value_at(&s, 50), 1e-4, 1e-16);
    assert_float_equal(value_at(&s, 100), 0.1, 1e-16); /* the closed form oscillates past T_max */

    /* Linear warm-up from 0.25 over 4 steps, multiplying a step schedule (ChainedScheduler of the
     * closed forms): factors 0.25, 0.4375, 0.625, 0.8125, 1. */
    CLNN_ASSERT_OK(clnn_lr_schedule_init(&s, CLNN_LR_STEP, 1.0));
    s.step_size = 3;
    s.gamma = 0.5;
    s.warmup_steps = 4;
    s.warmup_start_factor = 0.25;
    const double mult[] = {0.25, 0.4375, 0.625, 0.8125 * 0.5, 0.5, 0.5, 0.25};
    for (uint64_t t = 0; t < 7; ++t)
        assert_float_equal(value_at(&s, t), mult[t], 1e-15);

    /* Warm-up then cosine (SequentialLR with milestone N): base*factor, then cosine from 0. */
    CLNN_ASSERT_OK(clnn_lr_schedule_init(&s, CLNN_LR_COSINE, 0.2));
    s.t_max = 10;
    s.warmup_steps = 5;
    s.warmup_start_factor = 0.1;
    s.warmup_mode = CLNN_LR_WARMUP_THEN;
    for (uint64_t t = 0; t < 5; ++t)
        assert_float_equal(value_at(&s, t), 0.2 * (0.1 + 0.9 * (double)t / 5.0), 1e-15);
    for (uint64_t t = 5; t < 30; ++t)
        assert_float_equal(value_at(&s, t), 0.2 * (1.0 + cos(pi * (double)(t - 5) / 10.0)) / 2.0,
                           1e-15);
    assert_true(value_at(&s, 5) == 0.2);

    /* Invalid fields. */
    double lr = 7.0;
    clnn_lr_schedule b;
    CLNN_ASSERT_OK(clnn_lr_schedule_init(&b, CLNN_LR_STEP, 0.1));
    b.step_size = 0;
    CLNN_ASSERT_STATUS(clnn_lr_schedule_value(&b, 1, &lr), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_OK(clnn_lr_schedule_init(&b, CLNN_LR_STEP, 0.1));
    b.gamma = -1.0;
    CLNN_ASSERT_STATUS(clnn_lr_schedule_value(&b, 1, &lr), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_OK(clnn_lr_schedule_init(&b, CLNN_LR_COSINE, 0.1));
    b.t_max = 0;
    CLNN_ASSERT_STATUS(clnn_lr_schedule_value(&b, 1, &lr), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_OK(clnn_lr_schedule_init(&b, CLNN_LR_COSINE, 0.1));
    b.warmup_steps = 3;
    b.warmup_start_factor = 0.0;
    CLNN_ASSERT_STATUS(clnn_lr_schedule_value(&b, 1, &lr), CLNN_ERR_INVALID_ARGUMENT);
    b.warmup_start_factor = 1.5;
    CLNN_ASSERT_STATUS(clnn_lr_schedule_value(&b, 1, &lr), CLNN_ERR_INVALID_ARGUMENT);
    assert_true(lr == 7.0);
    CLNN_ASSERT_STATUS(clnn_lr_schedule_init(&b, CLNN_LR_STEP, -0.1), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_lr_schedule_init(&b, CLNN_LR_SCHEDULE_KIND_COUNT, 0.1),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_lr_schedule_value(NULL, 1, &lr), CLNN_ERR_INVALID_ARGUMENT);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_defaults),          cmocka_unit_test(test_schedules),
    cmocka_unit_test(test_invalid_options),   cmocka_unit_test(test_step_errors),
    cmocka_unit_test(test_state_slots),       cmocka_unit_test(test_checkpoint_round_trip),
    cmocka_unit_test(test_against_reference),
};

CLNN_TEST_MAIN("optim", tests)
