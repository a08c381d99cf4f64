/*
 * Tests of the activation family on every device: each function forward and backward (from x,
 * from y, accumulating) against the double-precision reference over several input ranges and the
 * special values, the reference's derivatives against central differences, in-place use, the
 * fused bias + activation with its column-sum gradient, PReLU with its slope gradient, sizes 1, 7,
 * 1000003 and 16M, and every error path (with outputs checked untouched).
 */
#include "clnn_test.h"

#include "activation_ref.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Smallest magnitude compared relatively: subnormal results carry few significant bits, so
 * below this an absolute error of a few subnormal steps is allowed. Devices that flush
 * subnormals to zero (CL_FP_DENORM absent) get CLNN_TEST_FTZ_ATOL instead: there an intermediate
 * below FLT_MIN may become 0 before a factor up to ~100 scales it (mish near x = -87). */
static int has_denormals(void)
{
    return clnn_test_profile.denormals;
}

static double tiny_atol(void)
{
    return has_denormals() ? 8.0 * FLT_TRUE_MIN : CLNN_TEST_FTZ_ATOL;
}

/* ---- the descriptors under test ------------------------------------------------------------- */

static clnn_activation_desc make_desc(clnn_activation kind)
{
    clnn_activation_desc d;
    CLNN_ASSERT_OK(clnn_activation_desc_init(&d, kind));
    return d;
}

/* Every kind with PyTorch's defaults, then non-default parameters (exactly representable, so
 * the reference sees the same values as the device). */
static size_t all_descs(clnn_activation_desc *out)
{
    size_t n = 0;
    for (int k = 0; k < CLNN_ACTIVATION_COUNT; ++k)
        out[n++] = make_desc((clnn_activation)k);
    clnn_activation_desc d;
    d = make_desc(CLNN_ACTIVATION_LEAKY_RELU), d.negative_slope = 0.25f, out[n++] = d;
    d = make_desc(CLNN_ACTIVATION_LEAKY_RELU), d.negative_slope = -0.5f, out[n++] = d;
    d = make_desc(CLNN_ACTIVATION_ELU), d.alpha = 0.5f, out[n++] = d;
    d = make_desc(CLNN_ACTIVATION_CELU), d.alpha = 2.0f, out[n++] = d;
    d = make_desc(CLNN_ACTIVATION_HARDTANH), d.min_val = -2.0f, d.max_val = 0.5f, out[n++] = d;
    d = make_desc(CLNN_ACTIVATION_SWISH), d.beta = 1.5f, out[n++] = d;
    d = make_desc(CLNN_ACTIVATION_SOFTPLUS), d.beta = 2.0f, d.threshold = 10.0f, out[n++] = d;
    return n;
}
#define MAX_DESCS 32

/* Per-kind relative tolerances for |x| < 1, |x| < 10 and beyond (and the special values), forward
 * and derivative, measured on POCL and justified:
 * - piecewise-linear kinds: one or two roundings (x * slope, (x + 3) / 6): 1e-6.
 * - sigmoid, tanh, elu, selu, celu, softplus, softsign, silu, mish: exp/expm1/log1p/tanh within a
 *   few ulp plus a few roundings; measured <= 3.2e-7; 1e-6 (16 ulp). Beyond |x| = 10 results
 *   formed from subnormal intermediates (silu(-90) = -90 * 1e-39) keep fewer bits: 4e-6.
 * - gelu: e^(-x^2/2) with its exponent kept exact times a fitted Mills ratio (3.2e-8): worst
 *   4.5e-7 in a float simulation of the kernel over 4M points of [-20, 20] and 4M random floats:
 *   1e-6, and 4e-6 beyond 10 where Phi is subnormal-sized.
 * - gelu_tanh: its exp argument 2u = 2k x (1 + c x^2) is rounded in float, which moves
 *   exp(2u) by |2u| * 2^-24 relative (~90 ulp at x = -10): the function's own sensitivity to
 *   rounding its argument; 2e-5 beyond |x| = 1.
 * - swish with beta = 1.5: beta x is rounded likewise: 1e-5 beyond |x| = 10.
 * grad_atol covers the zero crossings of the derivatives (gelu' at -0.75, silu' at -1.28, mish'
 * at -1.19, hardswish' at -1.5), where the relative error of a difference of O(1) terms is
 * unbounded (4e-7: a few ulp of the O(1) terms, times |dy| <= 2); it applies to |x| < 10 only,
 * so tiny tails stay checked relatively. */
typedef struct tol {
    double fwd[3], grad[3]; /* |x| < 1, |x| < 10, beyond */
    double grad_atol;
} tol;

static tol tolerance(const clnn_activation_desc *d)
{
    switch (d->kind) {
    case CLNN_ACTIVATION_IDENTITY:
    case CLNN_ACTIVATION_RELU:
    case CLNN_ACTIVATION_RELU6:
    case CLNN_ACTIVATION_HARDTANH:
    case CLNN_ACTIVATION_LEAKY_RELU:
    case CLNN_ACTIVATION_HARDSIGMOID:
        return (tol){{1e-6, 1e-6, 1e-6}, {1e-6, 1e-6, 1e-6}, 0.0};
    case CLNN_ACTIVATION_HARDSWISH:
        return (tol){{1e-6, 1e-6, 1e-6}, {1e-6, 1e-6, 1e-6}, 4e-7};
    case CLNN_ACTIVATION_GELU_TANH:
        return (tol){{2e-6, 2e-5, 2e-5}, {2e-6, 2e-5, 2e-5}, 4e-7};
    case CLNN_ACTIVATION_SWISH:
        return (tol){{1e-6, 2e-6, 1e-5}, {1e-6, 2e-6, 1e-5}, 4e-7};
    case CLNN_ACTIVATION_GELU:
    case CLNN_ACTIVATION_SILU:
    case CLNN_ACTIVATION_MISH:
        return (tol){{1e-6, 1e-6, 4e-6}, {1e-6, 2e-6, 4e-6}, 4e-7};
    default:
        return (tol){{1e-6, 1e-6, 4e-6}, {1e-6, 1e-6, 4e-6}, 0.0};
    }
}

/* A reference value beyond FLT_MAX is Inf in float (selu(FLT_MAX) overflows, as it must). */
static void round_overflow(double *ref, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        if (fabs(ref[i]) > FLT_MAX && isfinite(ref[i]))
            ref[i] = copysign(INFINITY, ref[i]);
}

/* ---- inputs: segments of different ranges ----------------------------------------------------- */

static const float special_values[] = {
    0.0f, -0.0f, FLT_TRUE_MIN, -FLT_TRUE_MIN, 1e-40f, -1e-40f, FLT_MIN, -FLT_MIN, 1e-30f,
    -1e-30f, 1e-10f, -1e-10f, 0.5f, -0.5f, 1.0f, -1.0f, 2.0f, -2.0f, 3.0f, -3.0f,
    2.9999998f, -2.9999998f, 3.0000002f, -3.0000002f, 6.0f, -6.0f, 5.9999995f, 6.0000005f,
    10.0f, -10.0f, 20.0f, -20.0f, 30.0f, -30.0f, 88.0f, -88.0f, 89.0f, -89.0f, 100.0f, -100.0f,
    104.0f, -104.0f, 1e4f, -1e4f, 1e10f, -1e10f, 1e20f, -1e20f, 1e30f, -1e30f, FLT_MAX,
    -FLT_MAX, INFINITY, -INFINITY, NAN, -NAN,
};
#define SPECIAL_COUNT (sizeof special_values / sizeof special_values[0])

/* Segment s of n elements: [begin, end). Segment 0: the special values (when they fit), 1:
 * |x| < 1, 2: |x| < 10, 3: |x| < 100, 4: huge, magnitudes log-uniform in [100, 3e38]. */
#define SEGMENTS 5
static void segment_bounds(size_t n, size_t bounds[SEGMENTS + 1])
{
    size_t special = n >= 4 * SPECIAL_COUNT ? SPECIAL_COUNT : 0;
    bounds[0] = 0;
    bounds[1] = special;
    size_t rest = n - special;
    for (int s = 2; s <= SEGMENTS; ++s)
        bounds[s] = special + rest * (size_t)(s - 1) / 4;
}

static void fill_inputs(float *x, size_t n)
{
    size_t b[SEGMENTS + 1];
    segment_bounds(n, b);
    for (size_t i = b[0]; i < b[1]; ++i)
        x[i] = special_values[i];
    clnn_test_fill_uniform(x + b[1], b[2] - b[1], -1.0, 1.0);
    clnn_test_fill_uniform(x + b[2], b[3] - b[2], -10.0, 10.0);
    clnn_test_fill_uniform(x + b[3], b[4] - b[3], -100.0, 100.0);
    for (size_t i = b[4]; i < b[5]; ++i) {
        double m = exp(clnn_test_uniform(log(100.0), log(3e38)));
        x[i] = (float)(clnn_test_random_u64() & 1 ? m : -m);
    }
}

static const char *segment_name(int s)
{
    static const char *names[] = {"special values", "|x| < 1", "|x| < 10", "|x| < 100", "huge"};
    return names[s];
}

/* got[i] within atol + rtol |ref[i]|; NaN only where ref is NaN, Inf only where ref is the same
 * Inf (as clnn_test_assert_close). */
static int close_enough(double g, double r, double rtol, double atol)
{
    if (!isfinite(g) || !isfinite(r))
        return isnan(r) ? isnan(g) : g == r;
    return fabs(g - r) <= atol + rtol * fabs(r);
}

/* Compares got with ref segment by segment with the kind's tolerances; x gives each element's
 * argument (the derivative's zero-crossing allowance applies where |x| < 10 only). */
static void compare_segments(const char *what, const clnn_activation_desc *d, const float *x,
                             const float *got, double *ref, size_t n, int is_grad)
{
    tol t = tolerance(d);
    size_t b[SEGMENTS + 1];
    segment_bounds(n, b);
    round_overflow(ref, n);
    double tiny = tiny_atol();
    for (int s = 0; s < SEGMENTS; ++s) {
        /* segments 1, 2: |x| < 1, < 10; the special values mix every range */
        int level = s == 1 ? 0 : s == 2 ? 1 : 2;
        double rtol = is_grad ? t.grad[level] : t.fwd[level];
        size_t bad = 0, first = 0;
        for (size_t i = b[s]; i < b[s + 1]; ++i) {
            /* Subnormal intermediates (Phi(-14), tanh(softplus(-100))) carry an absolute error
             * of a subnormal step, which the product with x scales by |x|. */
            double ax = fabs((double)x[i]);
            double scale = ax < 1.0 ? 1.0 : ax > 1e3 ? 1e3 : ax;
            /* gelu_tanh' = s (1 + x (1 - s) 2u'): s's error grows by |x| 2u' ~ 0.22 |x|^3 */
            if (is_grad && d->kind == CLNN_ACTIVATION_GELU_TANH)
                scale *= 1.0 + 0.22 * scale * scale;
            double atol = tiny * scale;
            if (is_grad && ax < 10.0 && t.grad_atol > atol)
                atol = t.grad_atol;
            if (!close_enough(got[i], ref[i], rtol, atol) && bad++ == 0)
                first = i;
        }
        if (bad)
            fail_msg("%s %s [%s, n=%zu] on %s: %zu of %zu out of tolerance (rtol %g); first at "
                     "x = %.9g: got %.9g, expected %.17g",
                     clnn_activation_name(d->kind), what, segment_name(s), n,
                     clnn_test_device.device_name, bad, b[s + 1] - b[s], rtol, (double)x[first],
                     (double)got[first], ref[first]);
    }
}

/* ---- elementwise forward and backward -------------------------------------------------------- */

static void check_elementwise(const clnn_activation_desc *d, size_t n)
{
    float *x = clnn_test_alloc(n * sizeof *x), *dy = clnn_test_alloc(n * sizeof *dy);
    float *y = clnn_test_alloc(n * sizeof *y), *dx = clnn_test_alloc(n * sizeof *dx);
    float *dx0 = clnn_test_alloc(n * sizeof *dx0), *g = clnn_test_alloc(n * sizeof *g);
    double *ref = clnn_test_alloc(n * sizeof *ref);
    fill_inputs(x, n);
    clnn_test_fill_uniform(dy, n, -2.0, 2.0);
    clnn_test_fill_uniform(dx0, n, -2.0, 2.0);
    clnn_tensor *tx = clnn_test_tensor_1d(n, x), *tdy = clnn_test_tensor_1d(n, dy);
    clnn_tensor *ty = clnn_test_tensor_1d(n, NULL), *tdx = clnn_test_tensor_1d(n, NULL);

    CLNN_ASSERT_OK(clnn_activation_forward(clnn_test_ctx, d, tx, ty));
    clnn_test_download(ty, y, n);
    for (size_t i = 0; i < n; ++i)
        ref[i] = clnn_ref_activation_forward(d, x[i]);
    compare_segments("forward", d, x, y, ref, n, 0);

    /* beta = 0: dx is poisoned with NaN and must not be read. */
    CLNN_ASSERT_OK(clnn_activation_backward(clnn_test_ctx, d, tx, tdy, 0.0f, tdx));
    clnn_test_download(tdx, g, n);
    for (size_t i = 0; i < n; ++i)
        ref[i] = (double)dy[i] * clnn_ref_activation_grad(d, x[i]);
    compare_segments("backward", d, x, g, ref, n, 1);

    /* beta = 0.5 accumulates: dx = 0.5 dx0 + g, one fused rounding of the device's own g. */
    CLNN_ASSERT_OK(clnn_tensor_upload(tdx, dx0, n));
    CLNN_ASSERT_OK(clnn_activation_backward(clnn_test_ctx, d, tx, tdy, 0.5f, tdx));
    clnn_test_download(tdx, dx, n);
    for (size_t i = 0; i < n; ++i)
        ref[i] = 0.5 * dx0[i] + (double)g[i];
    clnn_test_assert_close("backward with beta = 0.5", dx, ref, n, 1.2e-7, tiny_atol());

    if (clnn_activation_has_output_backward(d->kind) &&
        !(d->kind == CLNN_ACTIVATION_LEAKY_RELU && d->negative_slope < 0)) {
        clnn_test_poison(tdx);
        CLNN_ASSERT_OK(clnn_activation_backward_from_output(clnn_test_ctx, d, ty, tdy, 0.0f, tdx));
        clnn_test_download(tdx, dx, n);
        /* From the float y the device produced: y (1 - y) etc. are exact up to one rounding. */
        for (size_t i = 0; i < n; ++i)
            ref[i] = (double)dy[i] * clnn_ref_activation_grad_from_output(d, y[i]);
        char label[96];
        snprintf(label, sizeof label, "%s backward from output (n=%zu)",
                 clnn_activation_name(d->kind), n);
        clnn_test_assert_close(label, dx, ref, n, 4e-7, tiny_atol());
        /* and where x > 0 or y is not saturated, the same as the backward from x */
    }
    clnn_tensor_destroy(tx), clnn_tensor_destroy(tdy), clnn_tensor_destroy(ty),
        clnn_tensor_destroy(tdx);
    free(x), free(dy), free(y), free(dx), free(dx0), free(g), free(ref);
}

static void test_every_kind(void **state)
{
    (void)state;
    clnn_activation_desc descs[MAX_DESCS];
    size_t count = all_descs(descs);
    /* Every kind with its defaults on 1, 7 and 1000003 elements; the non-default parameters on
     * 7 and 100003 (the same kernels, so fewer elements keep the run short). */
    const size_t sizes[] = {1, 7, CLNN_TEST_SHAPE(1000003, 4099), CLNN_TEST_SHAPE(100003, 1031)};
    for (size_t i = 0; i < count; ++i)
        for (size_t s = i < CLNN_ACTIVATION_COUNT ? 0 : 1; s < 4; ++s)
            if (!(s == 2 && i >= CLNN_ACTIVATION_COUNT) && !(s == 3 && i < CLNN_ACTIVATION_COUNT))
                check_elementwise(&descs[i], sizes[s]);
}

/* The values the issue names, checked explicitly. */
static void test_named_values(void **state)
{
    (void)state;
    static const struct {
        clnn_activation kind;
        float x;
    } cases[] = {
        {CLNN_ACTIVATION_SIGMOID, -100.0f}, {CLNN_ACTIVATION_SOFTPLUS, 100.0f},
        {CLNN_ACTIVATION_GELU, -30.0f},     {CLNN_ACTIVATION_SILU, -1e4f},
        {CLNN_ACTIVATION_MISH, -1e4f},      {CLNN_ACTIVATION_GELU_TANH, -30.0f},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        clnn_activation_desc d = make_desc(cases[i].kind);
        float in[2] = {cases[i].x, NAN}, out[2], grad[2];
        clnn_tensor *x = clnn_test_tensor_1d(2, in), *y = clnn_test_tensor_1d(2, NULL);
        clnn_tensor *dx = clnn_test_tensor_1d(2, NULL);
        CLNN_ASSERT_OK(clnn_activation_forward(clnn_test_ctx, &d, x, y));
        CLNN_ASSERT_OK(clnn_activation_backward(clnn_test_ctx, &d, x, x, 0.0f, dx));
        clnn_test_download(y, out, 2);
        clnn_test_download(dx, grad, 2);
        if (!isfinite(out[0]) || !isfinite(grad[0]))
            fail_msg("%s(%g) = %g, gradient %g: not finite", clnn_activation_name(d.kind),
                     (double)in[0], (double)out[0], (double)grad[0]);
        if (!isnan(out[1]) || !isnan(grad[1]))
            fail_msg("%s(NaN) = %g, gradient %g: NaN must give NaN", clnn_activation_name(d.kind),
                     (double)out[1], (double)grad[1]);
        if (cases[i].kind == CLNN_ACTIVATION_SIGMOID && has_denormals() && !(out[0] > 0.0f))
            fail_msg("sigmoid(-100) = %g; it must be a tiny positive number", (double)out[0]);
        if (cases[i].kind == CLNN_ACTIVATION_SOFTPLUS && out[0] != 100.0f)
            fail_msg("softplus(100) = %.9g; it must be 100", (double)out[0]);
        if ((cases[i].kind == CLNN_ACTIVATION_GELU || cases[i].kind == CLNN_ACTIVATION_GELU_TANH) &&
            fabsf(out[0]) > 1e-30f)
            fail_msg("gelu(-30) = %g; it must be -0 or tiny", (double)out[0]);
        clnn_tensor_destroy(x), clnn_tensor_destroy(y), clnn_tensor_destroy(dx);
    }
}

/* Error of got against the exact value r in units in the last place of float at r: 2^-149 in the
 * subnormal range, 2^104 from FLT_MAX on, with +Inf (and any r beyond) counted as 2^128, the next
 * power of two past FLT_MAX, so a result at the overflow threshold is judged by its distance like
 * any other. */
static double ulp_error(float got, double r)
{
    double top = ldexp(1.0, 128);
    double g = isinf(got) && got > 0 ? top : (double)got;
    r = fmin(r, top);
    double a = fabs(r) < FLT_MIN ? FLT_MIN : fabs(r) > FLT_MAX ? FLT_MAX : fabs(r);
    int e;
    frexp(a, &e); /* a in [2^(e-1), 2^e) */
    return fabs(g - r) / ldexp(1.0, e - 24);
}

/* The kernels' own e^x (clnn_act_exp in activation_impl.h, which every transcendental kind is
 * built on), read through two kernel paths that return it unchanged: elu'(x) = alpha e^x with
 * alpha = 1 gives e^x for x <= 0, and celu'(x) = e^(x / alpha) with alpha = -1 gives e^-x for
 * x <= 0 (x / -1 and 1 * e are exact). The inputs sweep every 257th float magnitude from 0 to
 * 150 (1.1M values a side: every binade, the overflow threshold near 88.72, the whole subnormal
 * output range below -87.3 and the underflow to 0 below -103.97) plus the special values.
 * Asserted: at most 2 ulp (measured 1.01 on POCL) against the double-precision exp everywhere
 * (Inf counted as 2^128), +Inf for +Inf and from 89 on, 0 for -Inf, NaN for NaN. */
static void test_exp_sweep(void **state)
{
    (void)state;
    const uint32_t top = 0x43160000u; /* bits of 150.0f */
    const uint32_t step = CLNN_TEST_SHAPE(257, 32771); /* small tier: 34k values, every binade */
    static const float extra[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, FLT_MAX, -FLT_MAX,
                                  88.72283f, -88.72283f, 88.72284f, -88.72284f, 103.972076f,
                                  -103.972076f, 103.97208f, -103.97208f, 104.0f, -104.0f,
                                  87.33654f, -87.33654f, 1e-30f, -1e-30f, FLT_TRUE_MIN};
    const size_t nextra = sizeof extra / sizeof extra[0];
    const size_t n = top / step + 1 + nextra;
    float *x = clnn_test_alloc(n * sizeof *x), *ones = clnn_test_alloc(n * sizeof *ones);
    float *got = clnn_test_alloc(n * sizeof *got);
    for (size_t i = 0; i + nextra < n; ++i) {
        uint32_t bits = (uint32_t)i * step;
        float m;
        memcpy(&m, &bits, sizeof m);
        x[i] = -m; /* elu and celu take the exponential branch for x <= 0 */
    }
    for (size_t i = 0; i < nextra; ++i)
        x[n - nextra + i] = extra[i];
    for (size_t i = 0; i < n; ++i)
        ones[i] = 1.0f;
    clnn_tensor *tx = clnn_test_tensor_1d(n, x), *tones = clnn_test_tensor_1d(n, ones);
    clnn_tensor *tdx = clnn_test_tensor_1d(n, NULL);
    for (int pass = 0; pass < 2; ++pass) {
        clnn_activation_desc d = make_desc(pass == 0 ? CLNN_ACTIVATION_ELU : CLNN_ACTIVATION_CELU);
        d.alpha = pass == 0 ? 1.0f : -1.0f;
        clnn_test_poison(tdx);
        CLNN_ASSERT_OK(clnn_activation_backward(clnn_test_ctx, &d, tx, tones, 0.0f, tdx));
        clnn_test_download(tdx, got, n);
        double worst = 0.0;
        size_t at = 0;
        for (size_t i = 0; i < n; ++i) {
            if (!(x[i] <= 0.0f) && !isnan(x[i]))
                continue; /* the linear branch, checked by test_every_kind */
            double arg = pass == 0 ? (double)x[i] : -(double)x[i];
            double r = exp(arg);
            int ok;
            double err = 0.0;
            if (isnan(arg))
                ok = isnan(got[i]);
            else if (isinf(arg))
                ok = arg > 0 ? isinf(got[i]) && got[i] > 0 : got[i] == 0.0f;
            else if (arg >= 89.0)
                ok = isinf(got[i]) && got[i] > 0;
            else
                ok = !isnan(got[i]) && (err = ulp_error(got[i], r)) <= 2.0;
            if (!ok)
                fail_msg("exp(%.9g) via %s backward on %s = %.9g, expected %.17g (%.3g ulp)", arg,
                         clnn_activation_name(d.kind), clnn_test_device.device_name,
                         (double)got[i], r, err);
            if (err > worst)
                worst = err, at = i;
        }
        print_message("exp via %s backward on %s: max error %.3f ulp at x = %.9g\n",
                      clnn_activation_name(d.kind), clnn_test_device.device_name, worst,
                      pass == 0 ? (double)x[at] : -(double)x[at]);
    }
    clnn_tensor_destroy(tx), clnn_tensor_destroy(tones), clnn_tensor_destroy(tdx);
    free(x), free(ones), free(got);
}

/* The reference's derivatives against central differences of the reference, away from kinks;
 * this is what makes the reference (and so the device check) trustworthy. */
static void test_reference_finite_differences(void **state)
{
    (void)state;
    clnn_activation_desc descs[MAX_DESCS];
    size_t count = all_descs(descs);
    for (size_t k = 0; k < count; ++k) {
        const clnn_activation_desc *d = &descs[k];
        for (int i = 0; i < 2000; ++i) {
            double range = i < 1000 ? 4.0 : 25.0;
            double x = clnn_test_uniform(-range, range);
            double h = 1e-5 * fmax(1.0, fabs(x));
            if (clnn_ref_activation_near_kink(d, x, 4 * h))
                continue;
            double fd = (clnn_ref_activation_forward(d, x + h) -
                         clnn_ref_activation_forward(d, x - h)) / (2 * h);
            double g = clnn_ref_activation_grad(d, x);
            /* truncation h^2 f'''/6 < 1e-9, cancellation eps |f| / h < 1e-9 for |f| < 25 */
            if (!(fabs(fd - g) <= 1e-7 * (1.0 + fabs(g)) + 1e-8))
                fail_msg("%s: reference derivative at %.17g is %.17g, central difference %.17g",
                         clnn_activation_name(d->kind), x, g, fd);
            if (clnn_activation_has_output_backward(d->kind) &&
                !(d->kind == CLNN_ACTIVATION_LEAKY_RELU && d->negative_slope < 0)) {
                double gy = clnn_ref_activation_grad_from_output(d, clnn_ref_activation_forward(d, x));
                if (!(fabs(gy - g) <= 1e-9 * (1.0 + fabs(g))))
                    fail_msg("%s: derivative from the output at %.17g is %.17g, from x %.17g",
                             clnn_activation_name(d->kind), x, gy, g);
            }
        }
    }
}

/* y == x and dx == dy, on sizes 7, 1000003 and 16M. */
static void check_in_place(clnn_activation kind, size_t n, int from_output)
{
    clnn_activation_desc d = make_desc(kind);
    float *x = clnn_test_alloc(n * sizeof *x), *dy = clnn_test_alloc(n * sizeof *dy);
    float *out = clnn_test_alloc(n * sizeof *out);
    double *ref = clnn_test_alloc(n * sizeof *ref);
    fill_inputs(x, n);
    clnn_test_fill_uniform(dy, n, -1.0, 1.0);
    clnn_tensor *t = clnn_test_tensor_1d(n, x), *g = clnn_test_tensor_1d(n, dy);
    CLNN_ASSERT_OK(clnn_activation_forward(clnn_test_ctx, &d, t, t));
    clnn_test_download(t, out, n);
    for (size_t i = 0; i < n; ++i)
        ref[i] = clnn_ref_activation_forward(&d, x[i]);
    compare_segments("forward in place", &d, x, out, ref, n, 0);
    if (from_output) {
        /* t now holds y */
        CLNN_ASSERT_OK(clnn_activation_backward_from_output(clnn_test_ctx, &d, t, g, 0.0f, g));
        for (size_t i = 0; i < n; ++i)
            ref[i] = (double)dy[i] * clnn_ref_activation_grad_from_output(&d, out[i]);
        clnn_test_download(g, out, n);
        clnn_test_assert_close("backward from output in place", out, ref, n, 4e-7, tiny_atol());
    } else {
        CLNN_ASSERT_OK(clnn_tensor_upload(t, x, n));
        CLNN_ASSERT_OK(clnn_activation_backward(clnn_test_ctx, &d, t, g, 0.0f, g));
        for (size_t i = 0; i < n; ++i)
            ref[i] = (double)dy[i] * clnn_ref_activation_grad(&d, x[i]);
        clnn_test_download(g, out, n);
        compare_segments("backward in place", &d, x, out, ref, n, 1);
    }
    clnn_tensor_destroy(t), clnn_tensor_destroy(g);
    free(x), free(dy), free(out), free(ref);
}

static void test_in_place(void **state)
{
    (void)state;
    check_in_place(CLNN_ACTIVATION_RELU, 7, 0);
    check_in_place(CLNN_ACTIVATION_MISH, CLNN_TEST_SHAPE(1000003, 4099), 0);
    check_in_place(CLNN_ACTIVATION_TANH, CLNN_TEST_SHAPE(1000003, 4099), 1);
}

static void test_16m(void **state)
{
    (void)state;
    /* 16M elements: the launch geometry at scale (the functions are checked at 1000003); the
     * small tier's 256K still takes many work-groups. */
    const size_t n = CLNN_TEST_SHAPE((size_t)1 << 24, (size_t)1 << 18);
    check_in_place(CLNN_ACTIVATION_RELU, n, 0);
    check_in_place(CLNN_ACTIVATION_SIGMOID, n, 1);
}

/* ---- fused bias + activation ----------------------------------------------------------------- */

static void check_bias_activation(const clnn_activation_desc *d, size_t rows, size_t cols,
                                  clnn_activation_saved what, int recompute, int accumulate)
{
    size_t n = rows * cols, dims[2] = {rows, cols};
    float *x = clnn_test_alloc(n * sizeof *x), *dy = clnn_test_alloc(n * sizeof *dy);
    float *b = clnn_test_alloc(cols * sizeof *b), *y = clnn_test_alloc(n * sizeof *y);
    float *z = clnn_test_alloc(n * sizeof *z), *dx = clnn_test_alloc(n * sizeof *dx);
    float *dx0 = clnn_test_alloc(n * sizeof *dx0), *db = clnn_test_alloc(cols * sizeof *db);
    float *db0 = clnn_test_alloc(cols * sizeof *db0);
    double *ref = clnn_test_alloc(n * sizeof *ref), *dbr = clnn_test_alloc(cols * sizeof *dbr);
    double *dba = clnn_test_alloc(cols * sizeof *dba);
    clnn_test_fill_uniform(x, n, -6.0, 6.0);
    clnn_test_fill_uniform(b, cols, -2.0, 2.0);
    clnn_test_fill_uniform(dy, n, -1.0, 1.0);
    clnn_test_fill_uniform(dx0, n, -1.0, 1.0);
    clnn_test_fill_uniform(db0, cols, -1.0, 1.0);
    clnn_tensor *tx = clnn_test_tensor(2, dims, x), *tb = clnn_test_tensor_1d(cols, b);
    clnn_tensor *tz = clnn_test_tensor(2, dims, NULL), *ty = clnn_test_tensor(2, dims, NULL);
    clnn_tensor *tdy = clnn_test_tensor(2, dims, dy);
    clnn_tensor *tdx = clnn_test_tensor(2, dims, accumulate ? dx0 : NULL);
    clnn_tensor *tdb = clnn_test_tensor_1d(cols, accumulate ? db0 : NULL);

    CLNN_ASSERT_OK(clnn_bias_activation_forward(clnn_test_ctx, d, tx, tb, tz, ty));
    clnn_test_download(tz, z, n);
    clnn_test_download(ty, y, n);
    for (size_t i = 0; i < n; ++i)
        ref[i] = (double)(x[i] + b[i % cols]); /* the float sum the device forms */
    clnn_test_assert_close("bias + activation: z = x + b", z, ref, n, 0.0, 0.0);
    for (size_t i = 0; i < n; ++i)
        ref[i] = clnn_ref_activation_forward(d, z[i]);
    clnn_test_assert_close("bias + activation forward", y, ref, n, tolerance(d).fwd[1], tiny_atol());

    const clnn_tensor *saved = what == CLNN_ACTIVATION_SAVED_OUTPUT ? ty : recompute ? tx : tz;
    float beta = accumulate ? 0.5f : 0.0f, bias_beta = accumulate ? 2.0f : 0.0f;
    CLNN_ASSERT_OK(clnn_bias_activation_backward(clnn_test_ctx, d, saved, what,
                                                 recompute ? tb : NULL, tdy, beta, tdx,
                                                 bias_beta, tdb));
    clnn_test_download(tdx, dx, n);
    clnn_test_download(tdb, db, cols);
    for (size_t c = 0; c < cols; ++c)
        dbr[c] = dba[c] = 0.0;
    for (size_t i = 0; i < n; ++i) {
        double gr = what == CLNN_ACTIVATION_SAVED_OUTPUT
                        ? clnn_ref_activation_grad_from_output(d, y[i])
                        : clnn_ref_activation_grad(d, z[i]);
        double gi = dy[i] * gr;
        ref[i] = beta * (double)dx0[i] + gi;
        dbr[i % cols] += gi;
        dba[i % cols] += fabs(gi);
    }
    /* dx: the derivative's tolerance plus one rounding of the accumulation; absolute error
     * allowed at the derivative's zero crossings and, with beta, around cancellation. */
    clnn_test_assert_close("bias + activation backward dx", dx, ref, n, tolerance(d).grad[1] + 1.2e-7,
                           tolerance(d).grad_atol + (accumulate ? 1e-7 : tiny_atol()));
    /* db: a float sum of `rows` terms; its error is bounded by about
     * (rows / lanes + log2 lanes) ulp of the sum of |terms|; 1e-5 of that sum covers 100000 rows
     * on any work-group shape (random-walk error is far smaller). Each term also carries the
     * derivative's own error, allowed exactly as in the dx check above: the relative tolerance,
     * and the absolute one at the derivative's zero crossings (with one row, db is one term). */
    for (size_t c = 0; c < cols; ++c) {
        double want = bias_beta * (double)db0[c] + dbr[c];
        double allowed = (1e-5 + tolerance(d).grad[1]) * (dba[c] + fabs(bias_beta * db0[c])) +
                         (double)rows * tolerance(d).grad_atol + 1e-30;
        if (!(fabs(db[c] - want) <= allowed))
            fail_msg("%s bias backward (%zu x %zu): db[%zu] = %.9g, expected %.9g (allowed %.3g)",
                     clnn_activation_name(d->kind), rows, cols, c, (double)db[c], want, allowed);
    }
    clnn_tensor_destroy(tx), clnn_tensor_destroy(tb), clnn_tensor_destroy(tz),
        clnn_tensor_destroy(ty), clnn_tensor_destroy(tdy), clnn_tensor_destroy(tdx),
        clnn_tensor_destroy(tdb);
    free(x), free(dy), free(b), free(y), free(z), free(dx), free(dx0), free(db), free(db0);
    free(ref), free(dbr), free(dba);
}

static void test_bias_activation(void **state)
{
    (void)state;
    const size_t shapes[][2] = {{1, 1},   {1, 7},   {7, 1},  {3, 5}, {33, 10}, {9, 23},
                                {CLNN_TEST_SHAPE(257, 19), 1000},
                                {CLNN_TEST_SHAPE(100003, 1003), 5},
                                {CLNN_TEST_SHAPE(64, 9), 4096}};
    clnn_activation_desc relu = make_desc(CLNN_ACTIVATION_RELU);
    clnn_activation_desc gelu = make_desc(CLNN_ACTIVATION_GELU);
    clnn_activation_desc tanh_d = make_desc(CLNN_ACTIVATION_TANH);
    clnn_activation_desc ident = make_desc(CLNN_ACTIVATION_IDENTITY);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s) {
        size_t r = shapes[s][0], c = shapes[s][1];
        check_bias_activation(&relu, r, c, CLNN_ACTIVATION_SAVED_INPUT, 0, s % 2);
        check_bias_activation(&gelu, r, c, CLNN_ACTIVATION_SAVED_INPUT, 1, (s + 1) % 2);
        check_bias_activation(&tanh_d, r, c, CLNN_ACTIVATION_SAVED_OUTPUT, 0, s % 2);
    }
    check_bias_activation(&ident, CLNN_TEST_SHAPE(1000, 100), 37, CLNN_ACTIVATION_SAVED_OUTPUT, 0, 1);
}

/* ---- PReLU ------------------------------------------------------------------------------------ */

static void check_prelu(int ndim, const size_t *dims, int single, int accumulate, int skip)
{
    size_t n = 1;
    for (int i = 0; i < ndim; ++i)
        n *= dims[i];
    size_t channels = single ? 1 : dims[1];
    size_t outer = single ? 1 : dims[0], inner = single ? n : n / (dims[0] * dims[1]);
    float *x = clnn_test_alloc(n * sizeof *x), *dy = clnn_test_alloc(n * sizeof *dy);
    float *w = clnn_test_alloc(channels * sizeof *w), *out = clnn_test_alloc(n * sizeof *out);
    float *dx0 = clnn_test_alloc(n * sizeof *dx0), *dw0 = clnn_test_alloc(channels * sizeof *dw0);
    float *dw = clnn_test_alloc(channels * sizeof *dw);
    double *ref = clnn_test_alloc(n * sizeof *ref), *dwr = clnn_test_alloc(channels * sizeof *dwr);
    double *dwa = clnn_test_alloc(channels * sizeof *dwa);
    clnn_test_fill_uniform(x, n, -3.0, 3.0);
    x[0] = 0.0f; /* x = 0 takes the slope branch, as PyTorch */
    clnn_test_fill_uniform(w, channels, -0.5, 0.5);
    clnn_test_fill_uniform(dy, n, -1.0, 1.0);
    clnn_test_fill_uniform(dx0, n, -1.0, 1.0);
    clnn_test_fill_uniform(dw0, channels, -1.0, 1.0);
    clnn_tensor *tx = clnn_test_tensor(ndim, dims, x), *tw = clnn_test_tensor_1d(channels, w);
    clnn_tensor *ty = clnn_test_tensor(ndim, dims, NULL), *tdy = clnn_test_tensor(ndim, dims, dy);
    clnn_tensor *tdx = clnn_test_tensor(ndim, dims, accumulate ? dx0 : NULL);
    clnn_tensor *tdw = clnn_test_tensor_1d(channels, accumulate ? dw0 : NULL);

    CLNN_ASSERT_OK(clnn_prelu_forward(clnn_test_ctx, tx, tw, ty));
    clnn_test_download(ty, out, n);
    clnn_ref_prelu_forward(x, w, outer, channels, inner, ref);
    clnn_test_assert_close("prelu forward", out, ref, n, 1e-7, 0.0);

    float beta = accumulate ? 0.5f : 0.0f, wbeta = accumulate ? 1.0f : 0.0f;
    CLNN_ASSERT_OK(clnn_prelu_backward(clnn_test_ctx, tx, tw, tdy, beta, skip == 1 ? NULL : tdx,
                                       wbeta, skip == 2 ? NULL : tdw));
    clnn_ref_prelu_backward(x, w, dy, outer, channels, inner, ref, dwr, dwa);
    if (skip != 1) {
        clnn_test_download(tdx, out, n);
        for (size_t i = 0; i < n; ++i)
            ref[i] += beta * (double)dx0[i];
        clnn_test_assert_close("prelu backward dx", out, ref, n, 2.4e-7, 1e-7);
    }
    if (skip != 2) {
        clnn_test_download(tdw, dw, channels);
        for (size_t c = 0; c < channels; ++c) {
            double want = wbeta * (double)dw0[c] + dwr[c];
            double allowed = 1e-5 * (dwa[c] + fabs(dw0[c])) + 1e-30;
            if (!(fabs(dw[c] - want) <= allowed))
                fail_msg("prelu dweight[%zu] (n=%zu, %zu channels) = %.9g, expected %.9g", c, n,
                         channels, (double)dw[c], want);
        }
    } else {
        /* dweight not requested: the tensor stays untouched */
        clnn_test_download(tdw, dw, channels);
        for (size_t c = 0; c < channels; ++c)
            if (accumulate ? dw[c] != dw0[c] : !isnan(dw[c]))
                fail_msg("prelu backward wrote dweight although it was not passed");
    }
    clnn_tensor_destroy(tx), clnn_tensor_destroy(tw), clnn_tensor_destroy(ty),
        clnn_tensor_destroy(tdy), clnn_tensor_destroy(tdx), clnn_tensor_destroy(tdw);
    free(x), free(dy), free(w), free(out), free(dx0), free(dw0), free(dw), free(ref), free(dwr),
        free(dwa);
}

static void test_prelu(void **state)
{
    (void)state;
    size_t d1[1] = {7}, d1b[1] = {CLNN_TEST_SHAPE(1000003, 4099)}, d2[2] = {5, 3};
    size_t d2b[2] = {CLNN_TEST_SHAPE(1000, 70), 300}, d1c[1] = {1};
    size_t d4[4] = {4, 3, 5, 7}, d4b[4] = {CLNN_TEST_SHAPE(8, 2), 16, CLNN_TEST_SHAPE(64, 9), 65};
    check_prelu(1, d1c, 1, 0, 0);
    check_prelu(1, d1, 1, 0, 0);
    check_prelu(1, d1b, 1, 1, 0);
    check_prelu(2, d2, 0, 0, 0);
    check_prelu(2, d2b, 0, 1, 0);
    check_prelu(2, d2b, 1, 0, 0);
    check_prelu(4, d4, 0, 1, 0);
    check_prelu(4, d4b, 0, 0, 0);
    check_prelu(4, d4b, 1, 1, 0);
    check_prelu(4, d4, 0, 0, 1); /* dx skipped */
    check_prelu(4, d4b, 0, 1, 2); /* dweight skipped */
    /* CPU devices take a rows form for (N, C), a planes form for long planes and the general
     * form otherwise (planes of 2..15 elements): each with plane segments that end mid-vector. */
    size_t d3[3] = {6, 4, 3}, d2c[2] = {CLNN_TEST_SHAPE(3001, 301), 19}, d3b[3] = {3, 5, 17};
    size_t d2d[2] = {21, 64};
    check_prelu(2, d2d, 0, 1, 0);
    check_prelu(3, d3, 0, 1, 0);
    check_prelu(2, d2c, 0, 1, 0);
    check_prelu(2, d2c, 0, 0, 2);
    check_prelu(3, d3b, 0, 0, 0);
    check_prelu(3, d3b, 0, 1, 1);
}

/* ---- names, descriptors and errors ------------------------------------------------------------- */

static void test_names(void **state)
{
    (void)state;
    for (int k = 0; k < CLNN_ACTIVATION_COUNT; ++k) {
        clnn_activation parsed = CLNN_ACTIVATION_COUNT;
        CLNN_ASSERT_OK(clnn_activation_from_name(clnn_activation_name((clnn_activation)k), &parsed));
        assert_int_equal(parsed, k);
    }
    clnn_activation parsed = CLNN_ACTIVATION_RELU;
    CLNN_ASSERT_OK(clnn_activation_from_name("LeAkY_ReLU", &parsed));
    assert_int_equal(parsed, CLNN_ACTIVATION_LEAKY_RELU);
    CLNN_ASSERT_OK(clnn_activation_from_name("none", &parsed));
    assert_int_equal(parsed, CLNN_ACTIVATION_IDENTITY);
    parsed = CLNN_ACTIVATION_TANH;
    CLNN_ASSERT_STATUS(clnn_activation_from_name("relu7", &parsed), CLNN_ERR_INVALID_ARGUMENT);
    assert_int_equal(parsed, CLNN_ACTIVATION_TANH);
    assert_non_null(strstr(clnn_context_last_error(NULL), "softsign"));
    CLNN_ASSERT_STATUS(clnn_activation_from_name(NULL, &parsed), CLNN_ERR_INVALID_ARGUMENT);
    assert_string_equal(clnn_activation_name(CLNN_ACTIVATION_COUNT), "unknown");
    assert_string_equal(clnn_activation_name(CLNN_ACTIVATION_GELU_TANH), "gelu_tanh");

    clnn_activation_desc d;
    CLNN_ASSERT_OK(clnn_activation_desc_init(&d, CLNN_ACTIVATION_SOFTPLUS));
    assert_true(d.beta == 1.0f && d.threshold == 20.0f && d.negative_slope == 0.01f &&
                d.alpha == 1.0f && d.min_val == -1.0f && d.max_val == 1.0f);
    CLNN_ASSERT_STATUS(clnn_activation_desc_init(&d, CLNN_ACTIVATION_COUNT),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_activation_desc_init(NULL, CLNN_ACTIVATION_RELU),
                       CLNN_ERR_INVALID_ARGUMENT);
}

/* Bad descriptors, each rejected with nothing written. */
static void test_bad_parameters(void **state)
{
    (void)state;
    const size_t n = 9;
    float x[9], keep[9], out[9];
    clnn_test_fill_uniform(x, n, -1, 1);
    clnn_test_fill_uniform(keep, n, -1, 1);
    clnn_tensor *tx = clnn_test_tensor_1d(n, x), *ty = clnn_test_tensor_1d(n, keep);
    clnn_activation_desc bad[12];
    int nb = 0;
    bad[nb] = make_desc(CLNN_ACTIVATION_RELU), bad[nb++].kind = CLNN_ACTIVATION_COUNT;
    bad[nb] = make_desc(CLNN_ACTIVATION_RELU), bad[nb++].kind = (clnn_activation)-1;
    bad[nb] = make_desc(CLNN_ACTIVATION_LEAKY_RELU), bad[nb++].negative_slope = NAN;
    bad[nb] = make_desc(CLNN_ACTIVATION_ELU), bad[nb++].alpha = NAN;
    bad[nb] = make_desc(CLNN_ACTIVATION_CELU), bad[nb++].alpha = 0.0f;
    bad[nb] = make_desc(CLNN_ACTIVATION_HARDTANH), bad[nb++].min_val = 1.0f;
    bad[nb] = make_desc(CLNN_ACTIVATION_HARDTANH), bad[nb++].max_val = INFINITY;
    bad[nb] = make_desc(CLNN_ACTIVATION_SWISH), bad[nb++].beta = INFINITY;
    bad[nb] = make_desc(CLNN_ACTIVATION_SOFTPLUS), bad[nb++].beta = 0.0f;
    bad[nb] = make_desc(CLNN_ACTIVATION_SOFTPLUS), bad[nb++].threshold = NAN;
    for (int i = 0; i < nb; ++i) {
        CLNN_ASSERT_STATUS(clnn_activation_desc_check(&bad[i]), CLNN_ERR_INVALID_ARGUMENT);
        CLNN_ASSERT_STATUS(clnn_activation_forward(clnn_test_ctx, &bad[i], tx, ty),
                           CLNN_ERR_INVALID_ARGUMENT);
        CLNN_ASSERT_STATUS(clnn_activation_backward(clnn_test_ctx, &bad[i], tx, tx, 0.0f, ty),
                           CLNN_ERR_INVALID_ARGUMENT);
    }
    /* Parameters a kind does not read are not checked. */
    clnn_activation_desc ok = make_desc(CLNN_ACTIVATION_RELU);
    ok.alpha = NAN;
    CLNN_ASSERT_OK(clnn_activation_desc_check(&ok));
    clnn_test_download(ty, out, n);
    assert_memory_equal(out, keep, sizeof keep);
    clnn_tensor_destroy(tx), clnn_tensor_destroy(ty);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    const size_t n = 12;
    size_t d34[2] = {3, 4}, d43[2] = {4, 3};
    float x[12], keep[12], out[12], kb[4], outb[4];
    clnn_test_fill_uniform(x, n, -1, 1);
    clnn_test_fill_uniform(keep, n, -1, 1);
    clnn_test_fill_uniform(kb, 4, -1, 1);
    clnn_tensor *tx = clnn_test_tensor(2, d34, x), *ty = clnn_test_tensor(2, d34, keep);
    clnn_tensor *t43 = clnn_test_tensor(2, d43, x), *t1 = clnn_test_tensor_1d(n, x);
    clnn_tensor *b4 = clnn_test_tensor_1d(4, kb), *b3 = clnn_test_tensor_1d(3, kb);
    clnn_tensor *db = clnn_test_tensor_1d(4, kb);
    clnn_activation_desc relu = make_desc(CLNN_ACTIVATION_RELU);
    clnn_activation_desc gelu = make_desc(CLNN_ACTIVATION_GELU);
    clnn_activation_desc leaky = make_desc(CLNN_ACTIVATION_LEAKY_RELU);
    leaky.negative_slope = -0.1f;
    clnn_activation_desc elu = make_desc(CLNN_ACTIVATION_ELU);
    elu.alpha = -1.0f;
    clnn_context *ctx = clnn_test_ctx;

    CLNN_ASSERT_STATUS(clnn_activation_forward(NULL, &relu, tx, ty), CLNN_ERR_INVALID_ARGUMENT);
    /* A NULL context is refused before anything reads it (these three once crashed here). */
    CLNN_ASSERT_STATUS(clnn_activation_backward(NULL, &relu, tx, tx, 0.0f, ty),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_activation_backward_from_output(NULL, &relu, tx, tx, 0.0f, ty),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_bias_activation_forward(NULL, &relu, tx, b4, NULL, ty),
                       CLNN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(clnn_context_last_error(NULL), "ctx is NULL"));
    CLNN_ASSERT_STATUS(clnn_activation_forward(ctx, NULL, tx, ty), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_activation_forward(ctx, &relu, NULL, ty), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_activation_forward(ctx, &relu, tx, NULL), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_activation_forward(ctx, &relu, t43, ty), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_activation_forward(ctx, &relu, t1, ty), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_activation_backward(ctx, &relu, tx, t43, 0.0f, ty),
                       CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_activation_backward(ctx, &relu, tx, tx, NAN, ty),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_activation_backward(ctx, &relu, tx, tx, INFINITY, ty),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_activation_backward_from_output(ctx, &gelu, tx, tx, 0.0f, ty),
                       CLNN_ERR_UNSUPPORTED);
    CLNN_ASSERT_STATUS(clnn_activation_backward_from_output(ctx, &leaky, tx, tx, 0.0f, ty),
                       CLNN_ERR_UNSUPPORTED);
    CLNN_ASSERT_STATUS(clnn_activation_backward_from_output(ctx, &elu, tx, tx, 0.0f, ty),
                       CLNN_ERR_UNSUPPORTED);

    /* fused bias + activation */
    CLNN_ASSERT_STATUS(clnn_bias_activation_forward(ctx, &relu, tx, b3, NULL, ty),
                       CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_bias_activation_forward(ctx, &relu, t1, b4, NULL, t1),
                       CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_bias_activation_forward(ctx, &relu, tx, b4, ty, ty),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_bias_activation_forward(ctx, &relu, tx, NULL, NULL, ty),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_bias_activation_backward(ctx, &relu, tx, CLNN_ACTIVATION_SAVED_INPUT,
                                                     NULL, tx, 0.0f, ty, 0.0f, b3),
                       CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_bias_activation_backward(ctx, &relu, tx, CLNN_ACTIVATION_SAVED_OUTPUT,
                                                     b4, tx, 0.0f, ty, 0.0f, db),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_bias_activation_backward(ctx, &gelu, tx, CLNN_ACTIVATION_SAVED_OUTPUT,
                                                     NULL, tx, 0.0f, ty, 0.0f, db),
                       CLNN_ERR_UNSUPPORTED);
    CLNN_ASSERT_STATUS(clnn_bias_activation_backward(ctx, &relu, tx, CLNN_ACTIVATION_SAVED_COUNT,
                                                     NULL, tx, 0.0f, ty, 0.0f, db),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_bias_activation_backward(ctx, &relu, tx, CLNN_ACTIVATION_SAVED_INPUT,
                                                     NULL, tx, 0.0f, ty, NAN, db),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_bias_activation_backward(ctx, &relu, tx, CLNN_ACTIVATION_SAVED_INPUT,
                                                     NULL, t43, 0.0f, ty, 0.0f, db),
                       CLNN_ERR_INVALID_SHAPE);

    /* PReLU: weight and dweight of the wrong length, nothing to compute */
    CLNN_ASSERT_STATUS(clnn_prelu_forward(ctx, tx, b3, ty), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_prelu_forward(ctx, t1, b4, t1), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_prelu_backward(ctx, tx, b4, tx, 0.0f, ty, 0.0f, b3),
                       CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_prelu_backward(ctx, tx, b4, tx, 0.0f, NULL, 0.0f, NULL),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_prelu_backward(ctx, tx, b4, tx, 0.0f, ty, NAN, db),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_prelu_backward(ctx, tx, b4, tx, 0.0f, ty, 0.0f, b4),
                       CLNN_ERR_INVALID_ARGUMENT);

    /* A tensor from another context. */
    clnn_context_options options;
    clnn_context_options_init(&options);
    char selector[32];
    snprintf(selector, sizeof selector, "%zu", clnn_test_device.index);
    options.device = selector;
    clnn_context *other;
    CLNN_ASSERT_OK(clnn_context_create(&other, &options));
    clnn_tensor *foreign;
    CLNN_ASSERT_OK(clnn_tensor_create(other, 2, d34, &foreign));
    CLNN_ASSERT_STATUS(clnn_activation_forward(ctx, &relu, foreign, ty), CLNN_ERR_CONTEXT_MISMATCH);
    CLNN_ASSERT_STATUS(clnn_prelu_forward(ctx, tx, b4, foreign), CLNN_ERR_CONTEXT_MISMATCH);
    clnn_tensor_destroy(foreign);
    clnn_context_destroy(other);

    /* Nothing was written by any failed call. */
    clnn_test_download(ty, out, n);
    assert_memory_equal(out, keep, sizeof keep);
    clnn_test_download(db, outb, 4);
    assert_memory_equal(outb, kb, sizeof kb);
    clnn_test_download(b4, outb, 4);
    assert_memory_equal(outb, kb, sizeof kb);
    clnn_tensor_destroy(tx), clnn_tensor_destroy(ty), clnn_tensor_destroy(t43),
        clnn_tensor_destroy(t1), clnn_tensor_destroy(b4), clnn_tensor_destroy(b3),
        clnn_tensor_destroy(db);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_names),
    cmocka_unit_test(test_reference_finite_differences),
    cmocka_unit_test(test_named_values),
    cmocka_unit_test(test_exp_sweep),
    cmocka_unit_test(test_every_kind),
    cmocka_unit_test(test_in_place),
    cmocka_unit_test(test_16m),
    cmocka_unit_test(test_bias_activation),
    cmocka_unit_test(test_prelu),
    cmocka_unit_test(test_bad_parameters),
    cmocka_unit_test(test_bad_arguments),
};

CLNN_TEST_MAIN("activation", tests)
