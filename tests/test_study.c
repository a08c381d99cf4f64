/*
 * Tests of clnn-study (tools/study, compiled into this program): the study must reproduce what
 * the literature reports about deep networks at initialisation, on every device. Each test probes
 * an MLP of DEPTH hidden layers of WIDTH units forward (training mode) and backward on one batch
 * of real Fashion-MNIST test images (per-pixel standardised; synthetic N(0, 1) features when the
 * dataset is not installed, which the theory below treats the same way), and checks a bound that
 * the theory predicts, stating the bound and its reason in a comment and in the failure message.
 *
 * Statistics at finite width: the variance a layer passes on fluctuates around the mean-field
 * value, and the log of a ReLU network's activation norm performs a random walk whose variance
 * grows as 5 * sum(1 / width) over the layers (Hanin & Rolnick 2018, "How to start training"),
 * with a drift of about -1 / width per layer. At 29 layers of 128 units: a standard deviation of
 * about 0.53 in log(std) and a drift of -0.23 between layer 1 and layer 30. The geometric mean
 * factor per layer, (std_L / std_1)^(1/29), thus carries an error of about 0.018 in its log. The
 * bounds below are set several of these deviations away from the prediction, and far from the
 * competing hypotheses. The weights come from a fixed seed, so a run is reproducible; the bounds
 * do not rely on the seed's luck.
 *
 * Also here: the study's own arithmetic (init parameters and their derivations, the saturation
 * bound, the verdict) on the host.
 */
#include "clnn_test.h"
#include "study.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { DEPTH = 30, WIDTH = 128, BATCH = 128, INPUTS = 784, CLASSES = 10 };

/* ---- data ---------------------------------------------------------------------------------- */

static float probe_x[BATCH * INPUTS];
static int32_t probe_y[BATCH];
static int data_ready;

/* The first BATCH images of the Fashion-MNIST test set, standardised per pixel with statistics of
 * the whole test set; N(0, 1) features with random labels when the dataset is absent. */
static void load_data(void)
{
    if (data_ready)
        return;
    clnn_dataset test;
    if (clnn_dataset_load_idx_dir(NULL, "test", CLASSES, &test) == CLNN_SUCCESS) {
        float *mean = clnn_test_alloc(test.features * sizeof *mean);
        float *std = clnn_test_alloc(test.features * sizeof *std);
        size_t rows = 0;
        CLNN_ASSERT_OK(clnn_dataset_feature_stats(&test, CLNN_DATA_STD_EPSILON_PIXELS, mean, std,
                                                  test.features));
        CLNN_ASSERT_OK(clnn_dataset_normalize(&test, mean, std, test.features));
        assert_int_equal(test.features, INPUTS);
        CLNN_ASSERT_OK(
            clnn_dataset_gather(&test, NULL, test.count, 0, BATCH, probe_x, probe_y, &rows));
        assert_int_equal(rows, BATCH);
        free(mean);
        free(std);
        clnn_dataset_release(&test);
    } else {
        printf("[   NOTE   ] Fashion-MNIST not found (%s): synthetic N(0, 1) inputs\n",
               clnn_context_last_error(NULL));
        for (size_t i = 0; i < (size_t)BATCH * INPUTS; ++i)
            probe_x[i] = (float)clnn_test_normal();
        for (size_t i = 0; i < BATCH; ++i)
            probe_y[i] = (int32_t)(clnn_test_random_u64() % CLASSES);
    }
    data_ready = 1;
}

static void probe(clnn_activation act, study_init init, int batch_norm, size_t depth,
                  study_probe *out)
{
    load_data();
    study_config config = {INPUTS, CLASSES, depth, WIDTH, act, init, batch_norm, 1234};
    /* The small tier probes 32 of the samples: 4096 values per layer still estimate a std to
     * about 1%, below the finite-width fluctuations the bounds allow for. */
    study_data data = {probe_x, probe_y, CLNN_TEST_SHAPE(BATCH, 32), NULL, NULL};
    CLNN_ASSERT_OK(study_run(clnn_test_ctx, &config, &data, NULL, out, NULL));
    assert_int_equal(out->layers, depth + 1);
    for (size_t i = 0; i < out->layers; ++i)
        if (!isfinite(out->act_std[i]) || !isfinite(out->grad_norm[i]))
            fail_msg("%s/%s/bn %d: layer %zu has a non-finite std %g or gradient norm %g",
                     clnn_activation_name(act), study_init_name(init), batch_norm, i + 1,
                     out->act_std[i], out->grad_norm[i]);
}

static void print_profile(const char *what, const study_probe *p)
{
    printf("[   INFO   ] %s: act std", what);
    for (size_t i = 0; i + 1 < p->layers; i += 3)
        printf(" %.3g", p->act_std[i]);
    printf(" | grad");
    for (size_t i = 0; i + 1 < p->layers; i += 3)
        printf(" %.3g", p->grad_norm[i]);
    printf("\n");
}

/* ---- Glorot & Bengio (2010) ---------------------------------------------------------------- */

/*
 * tanh with Xavier (variance 1 / n for square layers, gain 1): the mean-field recursion
 * q_{l+1} = E[tanh(sqrt(q_l) z)^2], z ~ N(0, 1), has no geometric decay: since
 * tanh(x)^2 ~ x^2 - 2x^4/3 for small x, q falls only like 1/l. From layer 1 (std 0.70) to layer
 * 30 it predicts std 0.13, a ratio of 0.19. Bound: every layer's std within [1/10, 1] of layer
 * 1's: a factor of a few, nothing like the collapse of the next test.
 */
static void test_tanh_xavier_keeps_std(void **state)
{
    (void)state;
    study_probe p;
    probe(CLNN_ACTIVATION_TANH, STUDY_INIT_XAVIER, 0, DEPTH, &p);
    print_profile("tanh/xavier", &p);
    for (size_t i = 1; i < DEPTH; ++i) {
        double r = p.act_std[i] / p.act_std[0];
        if (!(r >= 0.1 && r <= 1.0))
            fail_msg("tanh + xavier: layer %zu std / layer 1 std = %g, expected within "
                     "[0.1, 1] (Glorot & Bengio 2010: Xavier keeps tanh activations within a "
                     "factor of a few; mean field predicts 0.19 at layer 30)",
                     i + 1, r);
    }
}

/*
 * N(0, 0.01^2) weights: each layer multiplies the signal by sqrt(n) * 0.01 = 0.113 (n = 128) times
 * the activation's slope at 0 (tanh 1, sigmoid 1/4), so over 29 layers it shrinks by 1e-27 or
 * more. For tanh, outputs are centred, and the std (over every output) collapses: bound std_L /
 * std_1 < 1e-6. For sigmoid, the outputs pin at 1/2 and the std over all outputs keeps the spread
 * of the units' constant offsets (sigmoid(0.5 * sum_j w_ij), std about 0.014), but the signal that
 * depends on the input is gone; it shows in the backward pass, where each layer multiplies the
 * gradient by 0.113 * 1/4: bound grad_1 / grad_L < 1e-6, and std below 0.05 (sigmoid's output
 * std for a unit-variance input is 0.21).
 */
static void test_small_normal_collapses(void **state)
{
    (void)state;
    study_probe p;
    probe(CLNN_ACTIVATION_TANH, STUDY_INIT_SMALL_NORMAL, 0, DEPTH, &p);
    print_profile("tanh/small_normal", &p);
    double r = p.act_std[DEPTH - 1] / p.act_std[0];
    if (!(r < 1e-6))
        fail_msg("tanh + N(0, 0.01^2): std_L / std_1 = %g, expected < 1e-6 (each layer scales "
                 "by about 0.113: the activations collapse to 0, Glorot & Bengio 2010)",
                 r);
    /* The weight gradient of layer l is delta_l h_{l-1}^T: delta shrinks by 0.113 per layer
     * towards the input while h shrinks by 0.113 per layer towards the output, so every layer's
     * weight gradient is about 0.113^29 ~ 1e-27 times an O(1) loss gradient and their ratio stays
     * near 1. Bound: every hidden layer's weight-gradient norm below 1e-12 (healthy networks here
     * have norms of 0.1 to 10). */
    for (size_t i = 0; i < DEPTH; ++i)
        if (!(p.grad_norm[i] < 1e-12))
            fail_msg("tanh + N(0, 0.01^2): layer %zu weight-gradient norm %g, expected < 1e-12 "
                     "(delta and input both scaled by about 0.113 per layer: 1e-27)",
                     i + 1, p.grad_norm[i]);

    probe(CLNN_ACTIVATION_SIGMOID, STUDY_INIT_SMALL_NORMAL, 0, DEPTH, &p);
    print_profile("sigmoid/small_normal", &p);
    double g = p.grad_norm[0] / p.grad_norm[DEPTH - 1];
    if (!(g < 1e-6))
        fail_msg("sigmoid + N(0, 0.01^2): grad_1 / grad_L = %g, expected < 1e-6 (each layer "
                 "scales the gradient by about 0.113 / 4)",
                 g);
    if (!(p.act_std[DEPTH - 1] < 0.05))
        fail_msg("sigmoid + N(0, 0.01^2): last layer std %g, expected < 0.05 (outputs pinned "
                 "near 1/2)",
                 p.act_std[DEPTH - 1]);
}

/* ---- He et al. (2015) ---------------------------------------------------------------------- */

/*
 * ReLU halves the second moment (E[relu(z)^2] = var(z) / 2), and Kaiming's variance 2 / fan_in
 * doubles it back: the std is constant in expectation. Bounds: the geometric mean factor per
 * layer within [0.9, 1.11] (a log error of 0.105 * 29 = 3.05 over the stack: 5 standard
 * deviations of the random walk described at the top, drift included), and every layer within
 * [1/8, 8] of layer 1 (3.7 standard deviations); against Xavier's 4e-5.
 */
static void test_relu_kaiming_constant(void **state)
{
    (void)state;
    study_probe p;
    probe(CLNN_ACTIVATION_RELU, STUDY_INIT_KAIMING, 0, DEPTH, &p);
    print_profile("relu/kaiming", &p);
    double f = study_geometric_factor(p.act_std, 0, DEPTH - 1);
    if (!(f >= 0.9 && f <= 1.0 / 0.9))
        fail_msg("relu + kaiming: per-layer std factor %g, expected within [0.9, 1.11] (He et "
                 "al. 2015: variance 2 / fan_in preserves the std through ReLU layers)",
                 f);
    for (size_t i = 1; i < DEPTH; ++i) {
        double r = p.act_std[i] / p.act_std[0];
        if (!(r >= 0.125 && r <= 8.0))
            fail_msg("relu + kaiming: layer %zu std / layer 1 std = %g, expected within "
                     "[1/8, 8] (constant in expectation; finite-width random walk)",
                     i + 1, r);
    }
    /* Backward, the same argument with fan_out (= fan_in here): the weight gradient, the outer
     * product of a constant-scale input and a constant-scale delta, keeps its norm. */
    double gf = pow(p.grad_norm[0] / p.grad_norm[DEPTH - 1], 1.0 / (DEPTH - 1));
    if (!(gf >= 0.9 && gf <= 1.0 / 0.9))
        fail_msg("relu + kaiming: per-layer gradient factor %g, expected within [0.9, 1.11]", gf);
}

/*
 * With Xavier's variance 1 / n (square layers, gain 1), ReLU halves the second moment at every
 * layer, so the std shrinks by 1/sqrt(2) per layer and by 2^-14.5 = 4e-5 over 29 layers. Bounds:
 * the geometric mean factor within [0.8, 1.25] / sqrt(2) = [0.566, 0.884], which excludes both 1
 * (Kaiming) and 1/sqrt(6) = 0.41 (the old uniform init, variance 1 / (3 n)), with a margin of
 * 0.22 in log per layer, 6.5 over the stack: 12 standard deviations of the random walk; and
 * std_L / std_1 < 1e-3: vanished.
 */
static void test_relu_xavier_halves(void **state)
{
    (void)state;
    study_probe p;
    probe(CLNN_ACTIVATION_RELU, STUDY_INIT_XAVIER, 0, DEPTH, &p);
    print_profile("relu/xavier", &p);
    const double expect = 1.0 / sqrt(2.0);
    double f = study_geometric_factor(p.act_std, 0, DEPTH - 1);
    if (!(f >= 0.8 * expect && f <= 1.25 * expect))
        fail_msg("relu + xavier: per-layer std factor %g, expected within [%g, %g] around "
                 "1/sqrt(2) (He et al. 2015: ReLU halves the variance Xavier preserves)",
                 f, 0.8 * expect, 1.25 * expect);
    double r = p.act_std[DEPTH - 1] / p.act_std[0];
    if (!(r < 1e-3))
        fail_msg("relu + xavier: std_L / std_1 = %g, expected < 1e-3 (2^-14.5 = 4e-5)", r);
}

/* ---- Klambauer et al. (2017) --------------------------------------------------------------- */

/*
 * SELU with LeCun normal weights (variance 1 / fan_in) has an attracting fixed point at mean 0,
 * variance 1: fluctuations do not accumulate. Bounds: every hidden layer's std within
 * [0.75, 1.33] (a per-layer fluctuation of about 0.06 in log std at width 128: 4.6 of them) and
 * |mean| < 0.4 (the mean over a layer fluctuates by about 1 / sqrt(128) = 0.09).
 */
static void test_selu_lecun_unit_variance(void **state)
{
    (void)state;
    study_probe p;
    probe(CLNN_ACTIVATION_SELU, STUDY_INIT_LECUN, 0, DEPTH, &p);
    print_profile("selu/lecun", &p);
    for (size_t i = 0; i < DEPTH; ++i) {
        if (!(p.act_std[i] >= 0.75 && p.act_std[i] <= 1.0 / 0.75))
            fail_msg("selu + lecun: layer %zu std %g, expected within [0.75, 1.33] (Klambauer "
                     "et al. 2017: SELU's fixed point at unit variance attracts)",
                     i + 1, p.act_std[i]);
        if (!(fabs(p.act_mean[i]) < 0.4))
            fail_msg("selu + lecun: layer %zu mean %g, expected |mean| < 0.4 (fixed point at 0)",
                     i + 1, p.act_mean[i]);
    }
}

/* ---- batch normalisation ------------------------------------------------------------------- */

/* The std of f(Z), Z ~ N(0, 1), in double by Simpson's rule on [-12, 12]. */
static double std_of_activation(clnn_activation act)
{
    const int n = 24001;
    const double a = -12.0, h = 24.0 / (n - 1);
    double s1 = 0.0, s2 = 0.0;
    for (int i = 0; i < n; ++i) {
        const double x = a + h * i;
        const double w = (i == 0 || i == n - 1 ? 1.0
                          : i % 2              ? 4.0
                                               : 2.0) *
                         h / 3.0 * exp(-0.5 * x * x) / sqrt(2.0 * 3.14159265358979323846);
        double y;
        switch (act) {
        case CLNN_ACTIVATION_SIGMOID:
            y = 1.0 / (1.0 + exp(-x));
            break;
        case CLNN_ACTIVATION_TANH:
            y = tanh(x);
            break;
        case CLNN_ACTIVATION_RELU:
            y = x > 0 ? x : 0.0;
            break;
        case CLNN_ACTIVATION_LEAKY_RELU:
            y = x > 0 ? x : 0.01 * x;
            break;
        case CLNN_ACTIVATION_ELU:
            y = x > 0 ? x : expm1(x);
            break;
        case CLNN_ACTIVATION_SELU:
            y = 1.0507009873554804934193349852946 *
                (x > 0 ? x : 1.6732632423543772848170429916717 * expm1(x));
            break;
        case CLNN_ACTIVATION_GELU:
            y = 0.5 * x * erfc(-x / sqrt(2.0));
            break;
        case CLNN_ACTIVATION_SILU:
            y = x / (1.0 + exp(-x));
            break;
        default:
            fail_msg("no reference for activation %d", (int)act);
            return NAN;
        }
        s1 += w * y;
        s2 += w * y * y;
    }
    return sqrt(s2 - s1 * s1);
}

/*
 * Batch norm (gamma 1, beta 0) makes each unit's pre-activation zero-mean and unit-variance over
 * the batch whatever the weights' scale, so every layer's output std is that of f(Z) for a
 * standardised Z: the bad initialisations' collapse or growth is undone at every layer. For each
 * activation and each initialisation that is bad for some activation (N(0, 0.01^2), the old
 * uniform, Xavier), with batch norm: every hidden layer's std within [0.7, 1.4] of std(f(Z)),
 * Z ~ N(0, 1) (the reference by quadrature; the margin covers the pre-activations' departure from
 * a Gaussian shape, which batch norm does not correct), and the gradient does not vanish:
 * grad_1 / grad_L > 0.1. (It may grow towards the input: deep batch-normalised networks have
 * exploding gradients at initialisation, Yang et al. 2019, so no upper bound is a law here.)
 */
static void test_batch_norm_restores(void **state)
{
    (void)state;
    static const study_init bad[] = {STUDY_INIT_SMALL_NORMAL, STUDY_INIT_OLD_UNIFORM,
                                     STUDY_INIT_XAVIER};
    const size_t depth = 20; /* 20 layers suffice: without batch norm the same combinations
                                collapse by 1e-6 or more well before (checked here too). */
    for (size_t a = 0; a < STUDY_ACTIVATION_COUNT; ++a) {
        const clnn_activation act = study_activations[a];
        const double ref = std_of_activation(act);
        for (size_t b = 0; b < sizeof bad / sizeof bad[0]; ++b) {
            study_probe p;
            probe(act, bad[b], 1, depth, &p);
            for (size_t i = 0; i < depth; ++i) {
                double r = p.act_std[i] / ref;
                if (!(r >= 0.7 && r <= 1.4))
                    fail_msg("%s + %s + batch norm: layer %zu std %g, expected within "
                             "[0.7, 1.4] x %g = std(%s(Z)), Z ~ N(0, 1) (batch norm "
                             "standardises every pre-activation)",
                             clnn_activation_name(act), study_init_name(bad[b]), i + 1,
                             p.act_std[i], ref, clnn_activation_name(act));
            }
            double g = p.grad_norm[0] / p.grad_norm[depth - 1];
            if (!(g > 0.1))
                fail_msg("%s + %s + batch norm: grad_1 / grad_L = %g, expected > 0.1 (no "
                         "vanishing gradient)",
                         clnn_activation_name(act), study_init_name(bad[b]), g);
        }
    }
    /* The contrast: without batch norm, N(0, 0.01^2) collapses for every activation: the
     * activations (centred activations) or, for sigmoid, whose outputs pin at 1/2 with constant
     * per-unit offsets, the backward signal. */
    for (size_t a = 0; a < STUDY_ACTIVATION_COUNT; ++a) {
        study_probe p;
        probe(study_activations[a], STUDY_INIT_SMALL_NORMAL, 0, depth, &p);
        double r = p.act_std[depth - 1] / p.act_std[0];
        double g = p.grad_norm[0] / p.grad_norm[depth - 1];
        if (!(r < 1e-6 || g < 1e-6))
            fail_msg("%s + N(0, 0.01^2), no batch norm: std_L / std_1 = %g and grad_1 / grad_L "
                     "= %g, expected one below 1e-6 (collapse)",
                     clnn_activation_name(study_activations[a]), r, g);
    }
}

/* ---- the study's arithmetic (host) --------------------------------------------------------- */

/* Each scheme's weights, drawn on the host for a [256, 784] layer, have the variance the study's
 * documentation derives: within 3% (the standard error of a variance estimated from 200704
 * samples is sqrt(2 / 200704) = 0.3% for a normal, less for a uniform: 10 errors). */
static void test_init_params_derivations(void **state)
{
    (void)state;
    const size_t dims[2] = {256, 784};
    const size_t n = dims[0] * dims[1];
    float *w = clnn_test_alloc(n * sizeof *w);
    struct {
        study_init init;
        clnn_activation act;
        double variance;
        double bound; /* the largest |w| allowed (uniform), 0: none */
    } cases[] = {
        {STUDY_INIT_SMALL_NORMAL, CLNN_ACTIVATION_RELU, 1e-4, 0},
        /* kaiming_uniform(a = sqrt(5)): gain sqrt(2 / 6), bound sqrt(3) gain / sqrt(784) */
        {STUDY_INIT_OLD_UNIFORM, CLNN_ACTIVATION_RELU, 1.0 / (3.0 * 784), 1.0 / sqrt(784.0)},
        {STUDY_INIT_XAVIER, CLNN_ACTIVATION_TANH, 2.0 / (784 + 256), sqrt(6.0 / (784 + 256))},
        {STUDY_INIT_KAIMING, CLNN_ACTIVATION_RELU, 2.0 / 784, 0},
        {STUDY_INIT_KAIMING, CLNN_ACTIVATION_TANH, 25.0 / 9.0 / 784, 0},
        {STUDY_INIT_KAIMING, CLNN_ACTIVATION_SELU, 9.0 / 16.0 / 784, 0},
        {STUDY_INIT_KAIMING, CLNN_ACTIVATION_GELU, 1.0 / 784, 0},
        {STUDY_INIT_KAIMING, CLNN_ACTIVATION_LEAKY_RELU, 2.0 / (1.0 + 1e-4) / 784, 0},
        {STUDY_INIT_LECUN, CLNN_ACTIVATION_SELU, 1.0 / 784, 0},
        /* a wide [256, 784] orthogonal matrix has orthonormal rows: sum of squares = 256 gain^2 */
        {STUDY_INIT_ORTHOGONAL, CLNN_ACTIVATION_RELU, 2.0 * 256 / (double)(256 * 784), 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
        clnn_init_params params;
        CLNN_ASSERT_OK(study_init_params(cases[c].init, cases[c].act, &params));
        CLNN_ASSERT_OK(clnn_init_host(2, dims, &params, w));
        double s2 = 0.0, max = 0.0;
        for (size_t i = 0; i < n; ++i) {
            s2 += (double)w[i] * w[i];
            max = fabs(w[i]) > max ? fabs(w[i]) : max;
        }
        double var = s2 / (double)n;
        if (fabs(var / cases[c].variance - 1.0) > 0.03)
            fail_msg("%s for %s: variance %g, expected %g within 3%%",
                     study_init_name(cases[c].init), clnn_activation_name(cases[c].act), var,
                     cases[c].variance);
        if (cases[c].bound > 0 &&
            !(max <= cases[c].bound * (1 + 1e-6) && max > 0.99 * cases[c].bound))
            fail_msg("%s: max |w| %g, expected just below the bound %g",
                     study_init_name(cases[c].init), max, cases[c].bound);
    }
    free(w);
    clnn_init_params params;
    CLNN_ASSERT_STATUS(study_init_params(STUDY_INIT_COUNT, CLNN_ACTIVATION_RELU, &params),
                       CLNN_ERR_INVALID_ARGUMENT);
    study_init init;
    assert_int_equal(study_init_parse("kaiming", &init), 0);
    assert_int_equal(init, STUDY_INIT_KAIMING);
    assert_int_equal(study_init_parse("he", &init), -1);
}

/* The saturation measure and the verdict's precedence on hand-made probes. */
static void test_verdict(void **state)
{
    (void)state;
    /* S = m^2 + s^2 for tanh; sigmoid maps y to 2y - 1. */
    assert_true(fabs(study_saturation(CLNN_ACTIVATION_TANH, 0.1, 0.3) - 0.1) < 1e-12);
    assert_true(fabs(study_saturation(CLNN_ACTIVATION_SIGMOID, 0.5, 0.25) - 0.25) < 1e-12);
    assert_true(isnan(study_saturation(CLNN_ACTIVATION_RELU, 0.5, 0.25)));
    /* The bound is tight: half the mass at |u| = 1, half at |u| = t gives S = (1 + t^2) / 2. */
    assert_true(fabs(study_saturated_fraction_bound((1 + 0.81) / 2, 0.9) - 0.5) < 1e-12);
    assert_true(study_saturated_fraction_bound(0.1, 0.9) == 0.0);

    study_thresholds t;
    study_thresholds_default(&t);
    study_probe p;
    memset(&p, 0, sizeof p);
    p.layers = 11;
    for (size_t i = 0; i < p.layers; ++i) {
        p.act_std[i] = 1.0;
        p.grad_norm[i] = 1.0;
        p.weight_norm[i] = 1.0;
        p.saturation[i] = NAN;
    }
    study_summary s;
    study_summarize(&p, &t, &s);
    assert_int_equal(s.verdict, STUDY_HEALTHY);
    assert_true(fabs(s.act_factor - 1.0) < 1e-12);

    p.act_std[9] = 1e-4; /* last hidden layer */
    study_summarize(&p, &t, &s);
    assert_int_equal(s.verdict, STUDY_VANISHING);
    assert_true(fabs(s.act_factor - pow(1e-4, 1.0 / 9)) < 1e-12);
    p.act_std[9] = 1.0;
    p.grad_norm[0] = 1e-4; /* first layer: backward path shrank */
    study_summarize(&p, &t, &s);
    assert_int_equal(s.verdict, STUDY_VANISHING);
    p.grad_norm[0] = 1e4;
    study_summarize(&p, &t, &s);
    assert_int_equal(s.verdict, STUDY_EXPLODING);
    p.grad_norm[0] = 1.0;
    p.dead_fraction[3] = 1.0;
    p.act_std[3] = 0.0; /* every unit dead */
    study_summarize(&p, &t, &s);
    assert_int_equal(s.verdict, STUDY_VANISHING);
    assert_true(s.max_dead_fraction == 1.0);
    p.act_std[3] = 1.0;
    p.saturation[5] = 0.95; /* saturation outranks vanishing */
    p.act_std[9] = 1e-4;
    study_summarize(&p, &t, &s);
    assert_int_equal(s.verdict, STUDY_SATURATED);
    p.grad_norm[2] = NAN; /* non-finite outranks everything */
    study_summarize(&p, &t, &s);
    assert_int_equal(s.verdict, STUDY_EXPLODING);
    assert_string_equal(study_verdict_name(STUDY_SATURATED), "saturated");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_params_derivations),
        cmocka_unit_test(test_verdict),
        cmocka_unit_test(test_tanh_xavier_keeps_std),
        cmocka_unit_test(test_small_normal_collapses),
        cmocka_unit_test(test_relu_kaiming_constant),
        cmocka_unit_test(test_relu_xavier_halves),
        cmocka_unit_test(test_selu_lecun_unit_variance),
        cmocka_unit_test(test_batch_norm_restores),
    };
    return clnn_test_main("study", tests, sizeof tests / sizeof tests[0]);
}
