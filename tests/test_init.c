/*
 * Tests of the Philox4x32-10 stream and weight initialisation, on every device: Random123's
 * known-answer vectors on the host and the device; every scheme's device output bit-identical to
 * the host twin (clnn_init_host) and independent of the tensor's size; the float transforms
 * against double-precision libm from the same Philox words; sample mean and standard deviation of
 * 1M-element tensors within 6 standard errors of the distribution's; bounds; orthogonality and
 * the QR sign convention; gains, fans and every error path.
 */
#include "clnn_test.h"
#include "init_ref.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Random123's tests/kat_vectors, the three philox4x32 10 lines: counter, key, expected. */
static const uint32_t kat[3][10] = {
    {0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x6627e8d5,
     0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
    {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
     0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
    {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
     0x94fdcceb, 0x5001e420, 0x24126ea1},
};

static void test_philox_known_answers_host(void **state)
{
    (void)state;
    for (int v = 0; v < 3; ++v) {
        uint32_t out[4], ref[4];
        CLNN_ASSERT_OK(clnn_philox4x32_10(kat[v], kat[v] + 4, out));
        init_ref_philox(kat[v], kat[v] + 4, ref);
        for (int j = 0; j < 4; ++j) {
            assert_int_equal(out[j], kat[v][6 + j]);
            assert_int_equal(ref[j], kat[v][6 + j]); /* the test's own Philox agrees too */
        }
    }
    /* out may alias counter */
    uint32_t io[4] = {kat[2][0], kat[2][1], kat[2][2], kat[2][3]};
    CLNN_ASSERT_OK(clnn_philox4x32_10(io, kat[2] + 4, io));
    assert_int_equal(io[0], kat[2][6]);
    CLNN_ASSERT_STATUS(clnn_philox4x32_10(NULL, kat[0], io), CLNN_ERR_INVALID_ARGUMENT);
}

static void test_philox_known_answers_device(void **state)
{
    (void)state;
    for (int v = 0; v < 3; ++v) {
        uint32_t out[4] = {0};
        CLNN_ASSERT_OK(clnn_philox4x32_10_device(clnn_test_ctx, kat[v] + 4, kat[v], 1, out));
        for (int j = 0; j < 4; ++j)
            assert_int_equal(out[j], kat[v][6 + j]);
    }
    /* 4097 random counters under a random key against the host (more than one work-group) */
    enum { blocks = 4097 };
    uint32_t *ctr = clnn_test_alloc(blocks * 4 * sizeof *ctr);
    uint32_t *out = clnn_test_alloc(blocks * 4 * sizeof *out);
    uint32_t key[2] = {(uint32_t)clnn_test_random_u64(), (uint32_t)clnn_test_random_u64()};
    for (size_t i = 0; i < blocks * 4; ++i)
        ctr[i] = (uint32_t)clnn_test_random_u64();
    CLNN_ASSERT_OK(clnn_philox4x32_10_device(clnn_test_ctx, key, ctr, blocks, out));
    for (size_t b = 0; b < blocks; ++b) {
        uint32_t ref[4];
        init_ref_philox(ctr + 4 * b, key, ref);
        if (memcmp(ref, out + 4 * b, sizeof ref) != 0)
            fail_msg("device Philox differs from the host at block %zu", b);
    }
    CLNN_ASSERT_STATUS(clnn_philox4x32_10_device(clnn_test_ctx, key, ctr, 0, out),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_philox4x32_10_device(NULL, key, ctr, 1, out),
                       CLNN_ERR_INVALID_ARGUMENT);
    free(ctr);
    free(out);
}

/* ---- helpers --------------------------------------------------------------------------------- */

static size_t count_of(int ndim, const size_t *dims)
{
    size_t n = 1;
    for (int i = 0; i < ndim; ++i)
        n *= dims[i];
    return n;
}

/* Runs params on the device (poisoned tensor) and on the host; asserts the bits are equal and
 * returns the device's values (caller frees). */
static float *init_both(int ndim, const size_t *dims, const clnn_init_params *p)
{
    size_t n = count_of(ndim, dims);
    clnn_tensor *t = clnn_test_tensor(ndim, dims, NULL);
    float *dev = clnn_test_alloc(n * sizeof *dev), *host = clnn_test_alloc(n * sizeof *host);
    CLNN_ASSERT_OK(clnn_init(t, p));
    clnn_test_download(t, dev, n);
    CLNN_ASSERT_OK(clnn_init_host(ndim, dims, p, host));
    for (size_t i = 0; i < n; ++i)
        if (memcmp(&dev[i], &host[i], sizeof(float)) != 0)
            fail_msg("%s: device %.9g (0x%08x) and host %.9g differ at element %zu of %zu",
                     clnn_init_kind_name(p->kind), (double)dev[i],
                     (unsigned)((union { float f; uint32_t u; }){dev[i]}).u, (double)host[i], i, n);
    free(host);
    clnn_tensor_destroy(t);
    return dev;
}

/* ---- bit-identical, shape-independent ------------------------------------------------------ */

static void test_same_seed_bit_identical_and_prefix_stable(void **state)
{
    (void)state;
    static const clnn_init_kind kinds[] = {CLNN_INIT_UNIFORM, CLNN_INIT_NORMAL,
                                           CLNN_INIT_TRUNC_NORMAL};
    const size_t big = CLNN_TEST_SHAPE(1000003, 4099), small[] = {1, 2, 3, 5, 13};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; ++k) {
        clnn_init_params p;
        CLNN_ASSERT_OK(clnn_init_params_default(kinds[k], &p));
        p.seed = clnn_test_random_u64();
        float *full = init_both(1, &big, &p);
        /* element i depends only on (seed, i): every shorter tensor is a prefix */
        for (size_t s = 0; s < sizeof small / sizeof small[0]; ++s) {
            float *part = init_both(1, &small[s], &p);
            assert_memory_equal(part, full, small[s] * sizeof(float));
            free(part);
        }
        /* a different seed gives a different tensor */
        p.seed ^= 1;
        float *other = init_both(1, &small[4], &p);
        assert_memory_not_equal(other, full, small[4] * sizeof(float));
        free(other);
        for (size_t i = 0; i < big; ++i)
            if (!isfinite(full[i]))
                fail_msg("%s: element %zu is %g", clnn_init_kind_name(kinds[k]), i,
                         (double)full[i]);
        free(full);
    }
}

/* The float transforms against double precision from the same Philox words (the test's own
 * Philox): uniform exact; Box-Muller within 1e-6 absolute + 1e-6 relative (the fitted log,
 * sqrt and sin/cos are each within ~1.2e-7 relative or 9e-8 absolute, a few float roundings
 * more in the products). */
static void test_transforms_match_double_reference(void **state)
{
    (void)state;
    const size_t n = CLNN_TEST_SHAPE(1 << 20, 1 << 14);
    uint64_t seed = clnn_test_random_u64();
    clnn_init_params p;
    CLNN_ASSERT_OK(clnn_init_params_default(CLNN_INIT_UNIFORM, &p));
    p.seed = seed;
    float *u = init_both(1, &n, &p);
    CLNN_ASSERT_OK(clnn_init_params_default(CLNN_INIT_NORMAL, &p));
    p.seed = seed;
    float *z = init_both(1, &n, &p);
    double *zref = clnn_test_alloc(n * sizeof *zref);
    for (uint32_t b = 0; b < n / 4; ++b) {
        uint32_t w[4];
        init_ref_stream(seed, 0, 0, b, w);
        for (int j = 0; j < 4; ++j)
            if (u[4 * b + j] != (float)((double)(w[j] >> 8) / 16777216.0))
                fail_msg("uniform element %u is %.9g, not (word >> 8) * 2^-24", 4 * b + j,
                         (double)u[4 * b + j]);
        init_ref_normal2(w[0], w[1], &zref[4 * b], &zref[4 * b + 1]);
        init_ref_normal2(w[2], w[3], &zref[4 * b + 2], &zref[4 * b + 3]);
    }
    clnn_test_assert_close("Box-Muller normal", z, zref, n, 1e-6, 1e-6);
    free(u);
    free(z);
    free(zref);
}

/* ---- statistics ------------------------------------------------------------------------------ */

typedef struct stat_case {
    const char *what;
    clnn_init_params p;
    int ndim;
    size_t dims[4];
    init_ref_moments m; /* of the distribution */
    int bounded;        /* 1: [lo, hi); 2: [lo, hi] */
    double lo, hi;
} stat_case;

/* Sample mean within 6 standard errors sigma/sqrt(n); sample std within 6 standard errors of
 * the std estimator, sqrt((mu4 - sigma^4) / (4 n sigma^2)) (delta method). A false failure has
 * probability ~2e-9 per check. */
static void check_stats(const stat_case *c, const float *x, size_t n)
{
    double mean, std;
    init_ref_sample_stats(x, n, &mean, &std);
    double sigma = sqrt(c->m.var);
    double se_mean = sigma / sqrt((double)n);
    double se_std = sqrt((c->m.m4 - c->m.var * c->m.var) / (4.0 * (double)n * c->m.var));
    if (fabs(mean - c->m.mean) > 6 * se_mean)
        fail_msg("%s: sample mean %.6g, expected %.6g +- %.3g (6 SE)", c->what, mean, c->m.mean,
                 6 * se_mean);
    if (fabs(std - sigma) > 6 * se_std)
        fail_msg("%s: sample std %.6g, expected %.6g +- %.3g (6 SE)", c->what, std, sigma,
                 6 * se_std);
    if (c->bounded)
        for (size_t i = 0; i < n; ++i)
            if (!(x[i] >= c->lo && (c->bounded == 2 ? x[i] <= c->hi : x[i] < c->hi)))
                fail_msg("%s: element %zu = %.9g is outside [%g, %g%c", c->what, i, (double)x[i],
                         c->lo, c->hi, c->bounded == 2 ? ']' : ')');
}

static stat_case make_case(const char *what, clnn_init_kind kind, int ndim, size_t d0, size_t d1,
                           size_t d2, size_t d3)
{
    stat_case c;
    memset(&c, 0, sizeof c);
    c.what = what;
    clnn_init_params_default(kind, &c.p);
    c.p.seed = clnn_test_random_u64();
    c.ndim = ndim;
    c.dims[0] = d0, c.dims[1] = d1, c.dims[2] = d2, c.dims[3] = d3;
    return c;
}

static void uniform_case(stat_case *c, double bound)
{
    c->m = init_ref_uniform_moments(-bound, bound);
    c->bounded = 1, c->lo = -bound * (1 + 1e-7), c->hi = bound * (1 + 1e-7);
}

static void test_statistics_of_every_scheme(void **state)
{
    (void)state;
    stat_case cases[16];
    int k = 0;
    stat_case *c;

    c = &cases[k++];
    *c = make_case("uniform(-0.5, 2)", CLNN_INIT_UNIFORM, 2, CLNN_TEST_SHAPE(1000, 5), 1000, 1, 1);
    c->p.a = -0.5f, c->p.b = 2.0f;
    c->m = init_ref_uniform_moments(-0.5, 2.0);
    c->bounded = 1, c->lo = -0.5, c->hi = 2.0;

    c = &cases[k++];
    *c = make_case("normal(0.3, 2.5)", CLNN_INIT_NORMAL, 1, CLNN_TEST_SHAPE(1 << 20, 1 << 10), 1, 1, 1);
    c->p.mean = 0.3f, c->p.std = 2.5f;
    c->m = init_ref_normal_moments(0.3f, 2.5);

    /* truncated: straddling the mean, upper tail (mirrored internally), lower tail */
    static const float trunc[3][4] = {{0.5f, 1.5f, -1.0f, 3.0f},
                                      {0.0f, 1.0f, 2.0f, 4.0f},
                                      {1.0f, 0.5f, -1.5f, 0.2f}};
    static const char *trunc_names[3] = {"trunc_normal(0.5, 1.5, -1, 3)",
                                         "trunc_normal(0, 1, 2, 4)",
                                         "trunc_normal(1, 0.5, -1.5, 0.2)"};
    for (int t = 0; t < 3; ++t) {
        c = &cases[k++];
        *c = make_case(trunc_names[t], CLNN_INIT_TRUNC_NORMAL, 1, CLNN_TEST_SHAPE(1 << 20, 1 << 10), 1, 1, 1);
        c->p.mean = trunc[t][0], c->p.std = trunc[t][1], c->p.a = trunc[t][2],
        c->p.b = trunc[t][3];
        c->m = init_ref_trunc_normal_moments(trunc[t][0], trunc[t][1], trunc[t][2], trunc[t][3]);
        c->bounded = 2, c->lo = trunc[t][2], c->hi = trunc[t][3];
    }

    /* fan-based schemes on [out = 500, in = 2000]: fan_in 2000, fan_out 500 (small tier: 10, 100) */
    const size_t fan_out = CLNN_TEST_SHAPE(500, 10), fan_in = CLNN_TEST_SHAPE(2000, 100);
    const double fi = (double)fan_in, fo = (double)fan_out;
    c = &cases[k++];
    *c = make_case("xavier_uniform(gain 5/3)", CLNN_INIT_XAVIER_UNIFORM, 2, fan_out, fan_in, 1, 1);
    c->p.gain = 5.0f / 3.0f;
    uniform_case(c, (5.0 / 3.0) * sqrt(6.0 / (fi + fo))); /* Glorot & Bengio eq. 16 */

    c = &cases[k++];
    *c = make_case("xavier_normal(gain 1)", CLNN_INIT_XAVIER_NORMAL, 2, fan_out, fan_in, 1, 1);
    c->m = init_ref_normal_moments(0, sqrt(2.0 / (fi + fo)));

    c = &cases[k++];
    *c = make_case("kaiming_uniform(a 0, fan_in, leaky_relu)", CLNN_INIT_KAIMING_UNIFORM, 2, fan_out,
                   fan_in, 1, 1);
    uniform_case(c, sqrt(3.0) * sqrt(2.0) / sqrt(fi)); /* He et al.: std = sqrt(2 / fan_in) */

    c = &cases[k++];
    *c = make_case("kaiming_normal(fan_out, relu)", CLNN_INIT_KAIMING_NORMAL, 2, fan_out, fan_in, 1, 1);
    c->p.mode = CLNN_FAN_OUT, c->p.nonlinearity = CLNN_NONLINEARITY_RELU;
    c->m = init_ref_normal_moments(0, sqrt(2.0 / fo));

    c = &cases[k++];
    *c = make_case("kaiming_normal(a 0.2, fan_in, leaky_relu)", CLNN_INIT_KAIMING_NORMAL, 2, fan_out,
                   fan_in, 1, 1);
    c->p.slope = 0.2f;
    c->m = init_ref_normal_moments(0, sqrt(2.0 / (1.0 + 0.2 * 0.2)) / sqrt(fi));

    /* 4-D weights [out = 256, in = 128, 5, 5] (small tier: [16, 8, 5, 5], as the 2-D cases
     * are cut: 819,200 elements took about a minute of each form on Oclgrind) */
    const size_t out4 = CLNN_TEST_SHAPE(256, 16), in4 = CLNN_TEST_SHAPE(128, 8);
    c = &cases[k++];
    *c = make_case("kaiming_uniform 4-D (fan_out, tanh)", CLNN_INIT_KAIMING_UNIFORM, 4, out4, in4,
                   5, 5);
    c->p.mode = CLNN_FAN_OUT, c->p.nonlinearity = CLNN_NONLINEARITY_TANH;
    uniform_case(c, sqrt(3.0) * (5.0 / 3.0) / sqrt((double)out4 * 25)); /* fan_out = out 5 5 */

    c = &cases[k++];
    *c = make_case("kaiming_normal 4-D (fan_in, selu)", CLNN_INIT_KAIMING_NORMAL, 4, out4, in4, 5,
                   5);
    c->p.nonlinearity = CLNN_NONLINEARITY_SELU;
    c->m = init_ref_normal_moments(0, 0.75 / sqrt((double)in4 * 25)); /* fan_in = in 5 5 */

    c = &cases[k++];
    *c = make_case("lecun_uniform", CLNN_INIT_LECUN_UNIFORM, 2, fan_out, fan_in, 1, 1);
    uniform_case(c, sqrt(3.0 / fi));

    c = &cases[k++];
    *c = make_case("lecun_normal", CLNN_INIT_LECUN_NORMAL, 2, fan_out, fan_in, 1, 1);
    c->m = init_ref_normal_moments(0, 1.0 / sqrt(fi));

    for (int i = 0; i < k; ++i) {
        size_t n = count_of(cases[i].ndim, cases[i].dims);
        float *x = init_both(cases[i].ndim, cases[i].dims, &cases[i].p);
        check_stats(&cases[i], x, n);
        free(x);
    }
}

static void test_constants(void **state)
{
    (void)state;
    const size_t dims[2] = {3, 7};
    float x[21];
    clnn_tensor *t = clnn_test_tensor(2, dims, NULL);
    CLNN_ASSERT_OK(clnn_init_zeros(t));
    clnn_test_download(t, x, 21);
    for (int i = 0; i < 21; ++i)
        assert_true(x[i] == 0.0f && !signbit(x[i]));
    CLNN_ASSERT_OK(clnn_init_ones(t));
    clnn_test_download(t, x, 21);
    for (int i = 0; i < 21; ++i)
        assert_true(x[i] == 1.0f);
    CLNN_ASSERT_OK(clnn_init_constant(t, -0.375f));
    clnn_test_download(t, x, 21);
    for (int i = 0; i < 21; ++i)
        assert_true(x[i] == -0.375f);
    /* uniform(a, a) is the constant a, as torch's uniform_(a, a) */
    CLNN_ASSERT_OK(clnn_init_uniform(t, 2.5f, 2.5f, 1));
    clnn_test_download(t, x, 21);
    for (int i = 0; i < 21; ++i)
        assert_true(x[i] == 2.5f);
    clnn_tensor_destroy(t);
}

/* ---- orthogonal ------------------------------------------------------------------------------ */

static void check_orthogonal(int ndim, const size_t *dims, float gain)
{
    clnn_init_params p;
    CLNN_ASSERT_OK(clnn_init_params_default(CLNN_INIT_ORTHOGONAL, &p));
    p.gain = gain;
    p.seed = clnn_test_random_u64();
    float *w = init_both(ndim, dims, &p);
    size_t rows = dims[0], n = count_of(ndim, dims), cols = n / rows;
    int tall = rows >= cols;
    size_t mm = tall ? rows : cols, nn = tall ? cols : rows;
    /* Gram matrix of the orthonormal direction: W^T W (tall) or W W^T (wide) = gain^2 I.
     * Tolerance 1e-4 (the issue's): Q is computed in double and rounded to float (relative
     * 6e-8 per entry), so each Gram entry is off by about sqrt(mm) * 6e-8 * gain^2. */
    double worst = 0;
    for (size_t i = 0; i < nn; ++i)
        for (size_t j = 0; j < nn; ++j) {
            double s = 0;
            for (size_t r = 0; r < mm; ++r) {
                double a = tall ? w[r * cols + i] : w[i * cols + r];
                double b = tall ? w[r * cols + j] : w[j * cols + r];
                s += a * b;
            }
            double e = fabs(s - (i == j ? (double)gain * gain : 0.0));
            if (e > worst)
                worst = e;
        }
    if (worst > 1e-4)
        fail_msg("orthogonal %zux%zu gain %g: |Gram - gain^2 I| reaches %.3g", rows, cols,
                 (double)gain, worst);
    /* PyTorch's construction: W/gain is Q (or Q^T) of the QR of the seed's Gaussian matrix A
     * (rows x cols, or its transpose when wide) with diag(R) made positive: R = Q^T B must be
     * upper triangular with a positive diagonal. */
    clnn_init_params np;
    CLNN_ASSERT_OK(clnn_init_params_default(CLNN_INIT_NORMAL, &np));
    np.seed = p.seed;
    float *a = clnn_test_alloc(n * sizeof *a);
    CLNN_ASSERT_OK(clnn_init_host(1, &n, &np, a));
    for (size_t i = 0; i < nn; ++i)
        for (size_t j = 0; j < nn; ++j) {
            double r = 0; /* R[i][j] = sum_k Q[k][i] B[k][j] */
            for (size_t kk = 0; kk < mm; ++kk) {
                double q = (tall ? w[kk * cols + i] : w[i * cols + kk]) / gain;
                double b = tall ? a[kk * cols + j] : a[j * cols + kk];
                r += q * b;
            }
            if (i > j && fabs(r) > 1e-3)
                fail_msg("orthogonal %zux%zu: R[%zu][%zu] = %g below the diagonal", rows, cols, i,
                         j, r);
            if (i == j && !(r > 0))
                fail_msg("orthogonal %zux%zu: R[%zu][%zu] = %g, the sign was not corrected",
                         rows, cols, i, i, r);
        }
    free(a);
    free(w);
}

static void test_orthogonal_square_tall_wide(void **state)
{
    (void)state;
    const size_t square[2] = {64, 64}, tall[2] = {96, 40}, wide[2] = {24, 100},
                 conv[4] = {16, 4, 3, 3}, conv_tall[4] = {50, 2, 2, 2};
    check_orthogonal(2, square, 1.0f);
    check_orthogonal(2, tall, 1.7f);
    check_orthogonal(2, wide, 0.5f);
    check_orthogonal(4, conv, 1.41421356f); /* 16 x 36, wide */
    check_orthogonal(4, conv_tall, 1.0f);   /* 50 x 8, tall */
}

/* ---- gains and fans -------------------------------------------------------------------------- */

static void test_gains_and_fans(void **state)
{
    (void)state;
    /* torch.nn.init.calculate_gain's table */
    const struct {
        clnn_nonlinearity nl;
        float param;
        double gain;
    } gains[] = {
        {CLNN_NONLINEARITY_LINEAR, 0, 1.0},        {CLNN_NONLINEARITY_CONV, 0, 1.0},
        {CLNN_NONLINEARITY_SIGMOID, 0, 1.0},       {CLNN_NONLINEARITY_TANH, 0, 5.0 / 3.0},
        {CLNN_NONLINEARITY_RELU, 0, sqrt(2.0)},    {CLNN_NONLINEARITY_SELU, 0, 0.75},
        {CLNN_NONLINEARITY_LEAKY_RELU, 0.01f, sqrt(2.0 / (1.0 + 0.01f * (double)0.01f))},
        {CLNN_NONLINEARITY_LEAKY_RELU, 0.0f, sqrt(2.0)},
        {CLNN_NONLINEARITY_LEAKY_RELU, -3.0f, sqrt(2.0 / 10.0)},
    };
    for (size_t i = 0; i < sizeof gains / sizeof gains[0]; ++i) {
        float g = 0;
        CLNN_ASSERT_OK(clnn_calculate_gain(gains[i].nl, gains[i].param, &g));
        assert_true(g == (float)gains[i].gain);
    }
    float g = 7;
    CLNN_ASSERT_STATUS(clnn_calculate_gain(CLNN_NONLINEARITY_LEAKY_RELU, NAN, &g),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_calculate_gain(CLNN_NONLINEARITY_COUNT, 0, &g),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_calculate_gain(CLNN_NONLINEARITY_RELU, 0, NULL),
                       CLNN_ERR_INVALID_ARGUMENT);
    assert_true(g == 7);
    assert_string_equal(clnn_nonlinearity_name(CLNN_NONLINEARITY_LEAKY_RELU), "leaky_relu");
    assert_string_equal(clnn_init_kind_name(CLNN_INIT_KAIMING_NORMAL), "kaiming_normal");
    assert_string_equal(clnn_init_kind_name(CLNN_INIT_KIND_COUNT), "unknown");

    size_t in = 0, out = 0;
    const size_t linear[2] = {10, 784}, conv[4] = {64, 3, 5, 7}, conv1d[3] = {8, 4, 9};
    CLNN_ASSERT_OK(clnn_calculate_fan(2, linear, &in, &out));
    assert_int_equal(in, 784);
    assert_int_equal(out, 10);
    CLNN_ASSERT_OK(clnn_calculate_fan(4, conv, &in, &out));
    assert_int_equal(in, 3 * 5 * 7);
    assert_int_equal(out, 64 * 5 * 7);
    CLNN_ASSERT_OK(clnn_calculate_fan(3, conv1d, &in, NULL));
    assert_int_equal(in, 36);
    in = out = 99;
    CLNN_ASSERT_STATUS(clnn_calculate_fan(1, linear, &in, &out), CLNN_ERR_INVALID_SHAPE);
    const size_t zero[2] = {0, 3};
    CLNN_ASSERT_STATUS(clnn_calculate_fan(2, zero, &in, &out), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_calculate_fan(2, NULL, &in, &out), CLNN_ERR_INVALID_ARGUMENT);
    assert_int_equal(in, 99);
    assert_int_equal(out, 99);
}

/* ---- errors ---------------------------------------------------------------------------------- */

/* The tensor must still hold its poison after a rejected call. */
static void assert_untouched(clnn_tensor *t, size_t n)
{
    float *x = clnn_test_alloc(n * sizeof *x);
    clnn_test_download(t, x, n);
    for (size_t i = 0; i < n; ++i)
        if (!isnan(x[i]))
            fail_msg("a rejected init wrote element %zu (%g)", i, (double)x[i]);
    free(x);
}

static void test_errors(void **state)
{
    (void)state;
    const size_t d2[2] = {4, 6}, d1 = 24;
    clnn_tensor *t = clnn_test_tensor(2, d2, NULL), *v = clnn_test_tensor_1d(d1, NULL);
    CLNN_ASSERT_STATUS(clnn_init(NULL, NULL), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_init(t, NULL), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_init_uniform(t, 1.0f, 0.0f, 1), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_init_uniform(t, NAN, 1.0f, 1), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_init_uniform(t, -3e38f, 3e38f, 1), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_init_normal(t, 0.0f, -1.0f, 1), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_init_normal(t, INFINITY, 1.0f, 1), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_init_trunc_normal(t, 0, 1, 2, 2, 1), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_init_trunc_normal(t, 0, 0, -2, 2, 1), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_init_trunc_normal(t, 0, 1, -INFINITY, 2, 1),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_init_constant(t, NAN), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_init_xavier_uniform(t, -1.0f, 1), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_init_xavier_normal(t, NAN, 1), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_init_kaiming_uniform(t, 0, CLNN_FAN_MODE_COUNT,
                                                 CLNN_NONLINEARITY_RELU, 1),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_init_kaiming_normal(t, 0, CLNN_FAN_IN, CLNN_NONLINEARITY_COUNT, 1),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_init_kaiming_normal(t, NAN, CLNN_FAN_IN,
                                                CLNN_NONLINEARITY_LEAKY_RELU, 1),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_init_orthogonal(t, INFINITY, 1), CLNN_ERR_INVALID_ARGUMENT);
    /* fan-based schemes and orthogonal need 2 dimensions */
    CLNN_ASSERT_STATUS(clnn_init_kaiming_uniform(v, 0, CLNN_FAN_IN, CLNN_NONLINEARITY_RELU, 1),
                       CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_init_xavier_normal(v, 1, 1), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_init_lecun_normal(v, 1), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_init_orthogonal(v, 1, 1), CLNN_ERR_INVALID_SHAPE);
    clnn_init_params p;
    CLNN_ASSERT_STATUS(clnn_init_params_default(CLNN_INIT_KIND_COUNT, &p),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_init_params_default(CLNN_INIT_ONES, NULL), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_OK(clnn_init_params_default(CLNN_INIT_ONES, &p));
    p.kind = CLNN_INIT_KIND_COUNT;
    CLNN_ASSERT_STATUS(clnn_init(t, &p), CLNN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(clnn_context_last_error(clnn_test_ctx), "kind"));
    assert_untouched(t, 24);
    assert_untouched(v, 24);

    /* the host twin validates the same way and leaves out alone */
    float out[24];
    for (int i = 0; i < 24; ++i)
        out[i] = -7;
    CLNN_ASSERT_OK(clnn_init_params_default(CLNN_INIT_KAIMING_NORMAL, &p));
    CLNN_ASSERT_STATUS(clnn_init_host(1, &d1, &p, out), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_init_host(2, d2, NULL, out), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_init_host(2, d2, &p, NULL), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_init_host(0, d2, &p, out), CLNN_ERR_INVALID_SHAPE);
    for (int i = 0; i < 24; ++i)
        assert_true(out[i] == -7);
    clnn_tensor_destroy(t);
    clnn_tensor_destroy(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_philox_known_answers_host),
        cmocka_unit_test(test_philox_known_answers_device),
        cmocka_unit_test(test_same_seed_bit_identical_and_prefix_stable),
        cmocka_unit_test(test_transforms_match_double_reference),
        cmocka_unit_test(test_statistics_of_every_scheme),
        cmocka_unit_test(test_constants),
        cmocka_unit_test(test_orthogonal_square_tall_wide),
        cmocka_unit_test(test_gains_and_fans),
        cmocka_unit_test(test_errors),
    };
    return clnn_test_main("init", tests, sizeof tests / sizeof tests[0]);
}
