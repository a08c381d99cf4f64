/*
 * 2-D convolution: forward (bias and activation fused), gradients with respect to the input, the
 * weight and the bias, against the double-precision reference (tests/ref/conv_ref.c, itself
 * checked by central differences here) on shapes that reach every algorithm and edge: odd sizes,
 * 1x1 images, kernels larger than the unpadded input, strides larger than the kernel,
 * non-square kernels and images, dilation, groups, depthwise (with a channel multiplier), a batch
 * of one, the 1x1 path; outputs poisoned with NaN before each call; beta 0 over NaN, beta 1 and
 * 0.5 accumulating; the caller's workspace and the scratch pool, and a workspace sized for a
 * larger batch than the call's.
 */
#define _GNU_SOURCE /* setenv, strdup */
#include "clnn_test.h"
#include "activation_ref.h"
#include "conv_ref.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct conv_case {
    const char *name;
    conv_ref_shape s;
} conv_case;

/* {N, C, H, W, O, KH, KW, sh, sw, ph, pw, dh, dw, G}. The small tier keeps every edge at a few
 * thousand multiply-adds per op (Oclgrind and llvmpipe), with output planes below 32 elements
 * and at most 16 output channels, so that its products run clnn_gemm_small_* only: llvmpipe
 * takes about 45 s to compile clnn_gemm_nn16 (the CPU forms' product for n >= 32), and CLBlast's
 * kernels (the GPU forms' product when no dimension is <= 16) cost as much; test_dense runs
 * both there. The full tier adds larger
 * products (clnn_gemm_nn16's blocks and edges on CPU devices, CLBlast on GPUs) and, on CPU
 * devices, im2col in several chunks with a partial last one (stride 2: 147456 floats of columns
 * and 32768 of products per image, chunks of 5 images in the 4 MiB of src/conv.c; one input
 * channel at stride 2: 9 + 32 rows of 4096, chunks of 6) and the implicit algorithm in chunks
 * (64 grid planes of 49 x 49 per image: chunks of 6 and 1; one input channel: its data gradient
 * on 32 planes of 65 x 65, chunks of 7 and 1). Which algorithm runs: groups = C > 1 gives the
 * direct kernels, 1x1 with stride 1 and no padding the products on x; on CPU devices, stride 1
 * with one group and padding within the kernel's reach the implicit products (odd sizes, kernel
 * larger than the input, batch 1 and the "implicit" cases: dilation with a non-square kernel,
 * unequal padding, a weight gradient over positions in two or more parts, and 3x3 kernels with
 * dilation (2, 1), whose taps are unrolled, and (1, 2), which takes the general loop, on 10
 * outputs and 9 inputs, a partial second block of packed weight rows), with kernels of
 * their own for at most 32 weights per output channel on rows of at least 16 outputs (the "few
 * weights" cases: rows of 16, 18, 19 and 20, a 3x5 kernel, dilation, three channels, and 17
 * images of rows of 17 with 9 outputs, so that a part of the weight gradient sums several images
 * and a block of eight output channels is followed by one of one); the rest
 * im2col. On CPU devices the im2col weight gradient of C/G KH KW <= 32
 * weights per output channel, where the output plane has at least as many pixels, takes
 * clnn_conv_backward_weight_few (stride larger than the kernel: planes of 12, no full run of 16;
 * dilation 2; groups 2 (full tier: blocks of 4 and 1 channels); one input channel; 1x1 stride
 * 2). Without a bias or activation (test_shapes: every odd case) the CPU forms' im2col forward
 * products write y's planes themselves where a plane holds at least 32 pixels ("planes of 35, no
 * bias" in both tiers: blocks across two images; dilation 2, groups 2 in the full tier). The
 * implicit kernels run only in the CPU forms and not on rusticl (quirk no-blocked-kernels: their
 * creation and first launches took about 3 minutes there), where these cases take im2col. */
static const conv_case small_cases[] = {
    {"odd sizes 3x3 pad 1", {3, 5, 3, 9, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1}},
    {"1x1 images, 3x3 pad 1", {2, 3, 1, 1, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1}},
    {"kernel larger than the input", {2, 2, 3, 2, 3, 5, 4, 1, 1, 2, 2, 1, 1, 1}},
    {"stride larger than the kernel", {2, 3, 11, 10, 4, 2, 2, 3, 4, 0, 0, 1, 1, 1}},
    {"non-square 3x5, stride (2, 1), pad (1, 2)", {2, 4, 6, 9, 5, 3, 5, 2, 1, 1, 2, 1, 1, 1}},
    {"dilation 2", {2, 3, 5, 6, 4, 3, 3, 1, 1, 2, 2, 2, 2, 1}},
    {"dilation (2, 1), stride 2", {2, 3, 10, 7, 2, 2, 3, 2, 2, 1, 0, 2, 1, 1}},
    {"groups 2", {2, 6, 5, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 2}},
    {"depthwise 3x3", {2, 5, 8, 7, 5, 3, 3, 1, 1, 1, 1, 1, 1, 5}},
    {"depthwise x2, stride 2, dilation 2", {2, 3, 9, 9, 6, 3, 3, 2, 2, 2, 1, 2, 2, 3}},
    {"one input channel (im2col)", {2, 1, 8, 6, 4, 3, 2, 1, 1, 1, 0, 1, 1, 1}},
    {"batch 1", {1, 4, 6, 6, 3, 3, 3, 1, 1, 0, 0, 1, 1, 1}},
    {"1x1 fast path", {3, 8, 5, 5, 6, 1, 1, 1, 1, 0, 0, 1, 1, 1}},
    {"1x1 groups 2", {2, 8, 4, 5, 6, 1, 1, 1, 1, 0, 0, 1, 1, 2}},
    {"1x1 stride 2 (im2col)", {2, 4, 7, 7, 3, 1, 1, 2, 2, 0, 0, 1, 1, 1}},
    {"planes of 35, no bias", {2, 2, 5, 7, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1}},
    {"implicit: 3x5, dilation (2, 1), pad (1, 2)", {2, 4, 6, 9, 5, 3, 5, 1, 1, 1, 2, 2, 1, 1}},
    {"implicit: pad (0, 1)", {3, 4, 5, 7, 6, 3, 3, 1, 1, 0, 1, 1, 1, 1}},
    {"implicit: weight gradient in parts", {4, 4, 16, 16, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1}},
    {"implicit: 3x3, dilation (2, 1), 10 outputs", {2, 4, 7, 6, 10, 3, 3, 1, 1, 2, 1, 2, 1, 1}},
    {"implicit: 3x3, dilation (1, 2), 9 inputs", {2, 9, 6, 7, 3, 3, 3, 1, 1, 1, 2, 1, 2, 1}},
    {"few weights: rows of 19", {2, 1, 5, 19, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1}},
    {"few weights: 3 channels, dilation (2, 1)", {2, 3, 6, 20, 5, 3, 3, 1, 1, 2, 1, 2, 1, 1}},
    {"few weights: 3x5, rows of 18", {2, 1, 4, 18, 2, 3, 5, 1, 1, 1, 2, 1, 1, 1}},
    {"few weights: several images a part", {17, 1, 2, 17, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1}},
};
static const conv_case full_cases[] = {
    {"odd sizes 3x3 pad 1", {3, 5, 7, 9, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1}},
    {"1x1 images, 3x3 pad 1", {2, 3, 1, 1, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1}},
    {"kernel larger than the input", {2, 2, 3, 2, 3, 5, 4, 1, 1, 2, 2, 1, 1, 1}},
    {"stride larger than the kernel", {2, 3, 11, 10, 4, 2, 2, 3, 4, 0, 0, 1, 1, 1}},
    {"non-square 3x5, stride (2, 1), pad (1, 2)", {3, 6, 15, 37, 9, 3, 5, 2, 1, 1, 2, 1, 1, 1}},
    {"dilation 2", {2, 3, 9, 8, 4, 3, 3, 1, 1, 2, 2, 2, 2, 1}},
    {"dilation (2, 1), stride 2", {2, 3, 10, 7, 2, 2, 3, 2, 2, 1, 0, 2, 1, 1}},
    {"groups 2", {3, 12, 17, 19, 10, 3, 3, 1, 1, 1, 1, 1, 1, 2}},
    {"depthwise 3x3", {4, 16, 19, 23, 16, 3, 3, 1, 1, 1, 1, 1, 1, 16}},
    {"depthwise x2, stride 2, dilation 2", {2, 3, 9, 9, 6, 3, 3, 2, 2, 2, 1, 2, 2, 3}},
    {"one input channel (im2col)", {2, 1, 8, 6, 4, 3, 2, 1, 1, 1, 0, 1, 1, 1}},
    {"batch 1", {1, 4, 6, 6, 3, 3, 3, 1, 1, 0, 0, 1, 1, 1}},
    {"1x1 fast path", {5, 40, 9, 11, 36, 1, 1, 1, 1, 0, 0, 1, 1, 1}},
    {"1x1 groups 2", {2, 8, 4, 5, 6, 1, 1, 1, 1, 0, 0, 1, 1, 2}},
    {"1x1 stride 2 (im2col)", {2, 4, 7, 7, 3, 1, 1, 2, 2, 0, 0, 1, 1, 1}},
    {"im2col in chunks", {8, 16, 64, 64, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1}},
    {"one input channel in chunks", {8, 1, 64, 64, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1}},
    {"planes of 35, no bias", {2, 2, 5, 7, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1}},
    {"implicit: 3x5, dilation (2, 1), pad (1, 2)", {2, 4, 6, 9, 5, 3, 5, 1, 1, 1, 2, 2, 1, 1}},
    {"implicit: pad (0, 1)", {3, 4, 5, 7, 6, 3, 3, 1, 1, 0, 1, 1, 1, 1}},
    {"implicit: weight gradient in parts", {4, 4, 16, 16, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1}},
    {"implicit: 3x3, dilation (2, 1), 10 outputs", {2, 4, 7, 6, 10, 3, 3, 1, 1, 2, 1, 2, 1, 1}},
    {"implicit: 3x3, dilation (1, 2), 9 inputs", {2, 9, 6, 7, 3, 3, 3, 1, 1, 1, 2, 1, 2, 1}},
    {"implicit in chunks", {7, 48, 48, 48, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1}},
    {"few weights: rows of 19", {2, 1, 5, 19, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1}},
    {"few weights: 3 channels, dilation (2, 1)", {2, 3, 6, 20, 5, 3, 3, 1, 1, 2, 1, 2, 1, 1}},
    {"few weights: 3x5, rows of 18", {2, 1, 4, 18, 2, 3, 5, 1, 1, 1, 2, 1, 1, 1}},
    {"few weights: several images a part", {17, 1, 2, 17, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1}},
    {"few weights: rows of 16", {3, 2, 16, 16, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1}},
    {"few weights, stride 2 (im2col) in chunks", {8, 1, 128, 128, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1}},
};
#define CASES CLNN_TEST_SHAPE(full_cases, small_cases)
#define CASE_COUNT                                                                                 \
    CLNN_TEST_SHAPE(sizeof full_cases / sizeof full_cases[0],                                      \
                    sizeof small_cases / sizeof small_cases[0])

static float *random_array(size_t n)
{
    float *p = clnn_test_alloc(n * sizeof *p);
    clnn_test_fill_uniform(p, n, -1.0, 1.0);
    return p;
}

static clnn_tensor *tensor4(size_t a, size_t b, size_t c, size_t d, const float *data)
{
    size_t dims[4] = {a, b, c, d};
    return clnn_test_tensor(4, dims, data);
}

static void make_desc(const conv_ref_shape *s, clnn_conv2d_desc *d)
{
    CLNN_ASSERT_OK(clnn_conv2d_desc_init(d, s->KH, s->KW));
    d->stride[0] = s->sh, d->stride[1] = s->sw;
    d->padding[0] = s->ph, d->padding[1] = s->pw;
    d->dilation[0] = s->dh, d->dilation[1] = s->dw;
    d->groups = s->G;
}

/* Error bound of a float32 sum of `terms` products (any order, FMA or not), as in test_dense:
 * gamma_(n) = n u / (1 - n u) times the sum of the magnitudes of the terms (Higham, 3.1),
 * u = 2^-24. n counts the terms plus the extra roundings the algorithms add: the products of
 * the weight gradient accumulated through C (one per chunk of images, at most N), clnn_gemm_nn16's
 * K chunks, beta * old, the bias added in the epilogue: `terms + extra`. The activation, applied
 * to the rounded sum, moves it by at most its Lipschitz constant (1 for identity, relu and
 * tanh) times that bound, plus its own evaluation error (1e-6 relative: test_activation's bound
 * for tanh). Each element is checked against its own bound; NaN or Inf never passes (the
 * references are finite). A wrong index or a missing term errs by the size of a term, far
 * above this. */
static void assert_conv_close(const char *what, const float *got, const double *ref,
                              const double *absum, size_t n, size_t terms, double act_rtol)
{
    double u = 0x1.0p-24, nu = (double)terms * u;
    double gamma = nu / (1.0 - nu);
    double floor_atol = clnn_test_profile.denormals ? 1e-30 : CLNN_TEST_FTZ_ATOL;
    for (size_t i = 0; i < n; ++i) {
        double tol = gamma * absum[i] + act_rtol * fabs(ref[i]) + floor_atol;
        if (!isfinite(got[i]) || fabs((double)got[i] - ref[i]) > tol)
            fail_msg("%s on %s: element %zu is %.9g, expected %.9g (tolerance %.3g, sum of "
                     "|terms| %.3g)",
                     what, clnn_test_device.device_name, i, (double)got[i], ref[i], tol, absum[i]);
    }
}

/* How one run treats its outputs and workspace. */
typedef struct run_opts {
    float beta;                      /* backward betas (0: outputs poisoned with NaN) */
    int bias;                        /* forward with a bias */
    const clnn_activation_desc *act; /* forward activation, NULL for none */
    int workspace;                   /* pass a workspace tensor (else the scratch pool) */
    size_t workspace_batch;          /* the batch it is sized for (>= the case's) */
} run_opts;

static void run_case(const conv_case *cc, const run_opts *opt)
{
    const conv_ref_shape *s = &cc->s;
    clnn_context *ctx = clnn_test_ctx;
    size_t oh, ow, xc, wc, yc;
    conv_ref_sizes(s, &oh, &ow, &xc, &wc, &yc);
    size_t cg = s->C / s->G, og = s->O / s->G;
    clnn_conv2d_desc desc;
    make_desc(s, &desc);
    size_t check_oh = 0, check_ow = 0;
    CLNN_ASSERT_OK(clnn_conv2d_output_size(&desc, s->H, s->W, &check_oh, &check_ow));
    assert_int_equal(check_oh, oh);
    assert_int_equal(check_ow, ow);

    float *x = random_array(xc), *w = random_array(wc), *b = random_array(s->O);
    float *dy = random_array(yc), *dx0 = random_array(xc), *dw0 = random_array(wc);
    float *db0 = random_array(s->O);
    size_t most = xc > yc ? xc : yc;
    most = most > wc ? most : wc;
    float *got = clnn_test_alloc(most * sizeof *got);
    double *ref = clnn_test_alloc(most * sizeof *ref),
           *absum = clnn_test_alloc(most * sizeof *absum);

    clnn_tensor *tx = tensor4(s->N, s->C, s->H, s->W, x);
    clnn_tensor *tw = tensor4(s->O, cg, s->KH, s->KW, w);
    clnn_tensor *tb = opt->bias ? clnn_test_tensor_1d(s->O, b) : NULL;
    clnn_tensor *tdy = tensor4(s->N, s->O, oh, ow, dy);
    int acc = opt->beta != 0.0f;
    clnn_tensor *ty = tensor4(s->N, s->O, oh, ow, NULL); /* poisoned */
    clnn_tensor *tdx = tensor4(s->N, s->C, s->H, s->W, acc ? dx0 : NULL);
    clnn_tensor *tdw = tensor4(s->O, cg, s->KH, s->KW, acc ? dw0 : NULL);
    clnn_tensor *tdb = clnn_test_tensor_1d(s->O, acc ? db0 : NULL);
    clnn_tensor *tws = NULL;
    if (opt->workspace) {
        size_t wb = opt->workspace_batch > s->N ? opt->workspace_batch : s->N;
        size_t x_dims[4] = {wb, s->C, s->H, s->W}, w_dims[4] = {s->O, cg, s->KH, s->KW};
        size_t floats = 0;
        CLNN_ASSERT_OK(clnn_conv2d_workspace_size(ctx, &desc, x_dims, w_dims, &floats));
        size_t here = 0;
        x_dims[0] = s->N;
        CLNN_ASSERT_OK(clnn_conv2d_workspace_size(ctx, &desc, x_dims, w_dims, &here));
        assert_true(here <= floats); /* a smaller batch never needs more */
        tws = clnn_test_tensor_1d(floats ? floats : 1, NULL);
    }
    char what[160];
    const char *act_name = opt->act ? clnn_activation_name(opt->act->kind) : "none";

    /* forward */
    CLNN_ASSERT_OK(clnn_conv2d_forward(ctx, &desc, tx, tw, tb, opt->act, ty, tws));
    clnn_test_download(ty, got, yc);
    conv_ref_forward(s, x, w, tb ? b : NULL, ref, absum);
    if (opt->act)
        for (size_t i = 0; i < yc; ++i)
            ref[i] = clnn_ref_activation_forward(opt->act, ref[i]);
    snprintf(what, sizeof what, "%s: forward (bias %d, activation %s, workspace %d)", cc->name,
             opt->bias, act_name, opt->workspace);
    assert_conv_close(what, got, ref, absum, yc, cg * s->KH * s->KW + 2, opt->act ? 1e-6 : 0.0);

    /* gradients */
    CLNN_ASSERT_OK(clnn_conv2d_backward_data(ctx, &desc, tdy, tw, opt->beta, tdx, tws));
    clnn_test_download(tdx, got, xc);
    conv_ref_backward_data(s, dy, w, opt->beta, dx0, ref, absum);
    snprintf(what, sizeof what, "%s: backward_data (beta %g, workspace %d)", cc->name,
             (double)opt->beta, opt->workspace);
    assert_conv_close(what, got, ref, absum, xc, og * s->KH * s->KW + 2, 0.0);

    CLNN_ASSERT_OK(clnn_conv2d_backward_weight(ctx, &desc, tdy, tx, opt->beta, tdw, tws));
    clnn_test_download(tdw, got, wc);
    conv_ref_backward_weight(s, dy, x, opt->beta, dw0, ref, absum);
    snprintf(what, sizeof what, "%s: backward_weight (beta %g, workspace %d)", cc->name,
             (double)opt->beta, opt->workspace);
    size_t terms = s->N * oh * ow;
    assert_conv_close(what, got, ref, absum, wc, terms + s->N + terms / 256 + 2, 0.0);

    CLNN_ASSERT_OK(clnn_conv2d_backward_bias(ctx, tdy, opt->beta, tdb));
    clnn_test_download(tdb, got, s->O);
    conv_ref_backward_bias(s, dy, opt->beta, db0, ref, absum);
    snprintf(what, sizeof what, "%s: backward_bias (beta %g)", cc->name, (double)opt->beta);
    assert_conv_close(what, got, ref, absum, s->O, terms + 2, 0.0);

    clnn_tensor *all[] = {tx, tw, tb, tdy, ty, tdx, tdw, tdb, tws};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        clnn_tensor_destroy(all[i]);
    free(x), free(w), free(b), free(dy), free(dx0), free(dw0), free(db0);
    free(got), free(ref), free(absum);
}

/* ---- the cases --------------------------------------------------------------------------------
 */

/* Every case: bias or not, workspace or the pool, alternating; beta 0 over NaN. */
static void test_shapes(void **state)
{
    (void)state;
    for (size_t i = 0; i < CASE_COUNT; ++i) {
        run_opts opt = {0.0f, (int)(i % 2 == 0), NULL, (int)(i % 2 == 1), 0};
        run_case(&CASES[i], &opt);
    }
}

/* Accumulation: beta 1 and 0.5 into random gradients, on one case per algorithm. */
static void test_beta(void **state)
{
    (void)state;
    static const size_t picks[] = {0, 4, 7, 8, 12}; /* implicit, im2col, groups, direct, 1x1 */
    for (size_t i = 0; i < sizeof picks / sizeof picks[0]; ++i) {
        run_opts one = {1.0f, 1, NULL, 1, 0}, half = {0.5f, 0, NULL, 0, 0};
        run_case(&CASES[picks[i]], &one);
        run_case(&CASES[picks[i]], &half);
    }
}

/* The fused activations, relu and a smooth one (tanh), on each algorithm, with and without bias. */
static void test_activation(void **state)
{
    (void)state;
    clnn_activation_desc relu, tanh_act;
    CLNN_ASSERT_OK(clnn_activation_desc_init(&relu, CLNN_ACTIVATION_RELU));
    CLNN_ASSERT_OK(clnn_activation_desc_init(&tanh_act, CLNN_ACTIVATION_TANH));
    static const size_t picks[] = {0, 4, 9, 13}; /* implicit, im2col, direct, 1x1 */
    for (size_t i = 0; i < sizeof picks / sizeof picks[0]; ++i) {
        run_opts r = {0.0f, 1, &relu, 0, 0}, t = {0.0f, (int)(i % 2), &tanh_act, 1, 0};
        run_case(&CASES[picks[i]], &r);
        run_case(&CASES[picks[i]], &t);
    }
}

/* A workspace sized for a larger batch than the call's serves it. */
static void test_workspace_batch(void **state)
{
    (void)state;
    static const size_t picks[] = {0, 4, 7}; /* implicit, im2col, groups */
    for (size_t i = 0; i < sizeof picks / sizeof picks[0]; ++i) {
        run_opts opt = {0.0f, 1, NULL, 1, CASES[picks[i]].s.N + 5};
        run_case(&CASES[picks[i]], &opt);
    }
    /* The sizes the API promises: 0 for the direct and 1x1 algorithms. */
    clnn_conv2d_desc d;
    size_t floats = 99;
    size_t x1[4] = {4, 8, 5, 5}, w1[4] = {6, 8, 1, 1};
    CLNN_ASSERT_OK(clnn_conv2d_desc_init(&d, 1, 1));
    CLNN_ASSERT_OK(clnn_conv2d_workspace_size(clnn_test_ctx, &d, x1, w1, &floats));
    assert_int_equal(floats, 0);
    size_t xd[4] = {4, 8, 5, 5}, wd[4] = {8, 1, 3, 3};
    CLNN_ASSERT_OK(clnn_conv2d_desc_init(&d, 3, 3));
    d.groups = 8;
    floats = 99;
    CLNN_ASSERT_OK(clnn_conv2d_workspace_size(clnn_test_ctx, &d, xd, wd, &floats));
    assert_int_equal(floats, 0);
}

/* Every product through CLBlast (CLNN_GEMM=clblast, as test_dense's test_clblast_path): the GEMM
 * of GPU devices, with its buffer offsets, which the GPU forms' small shapes here never reach
 * (they are skinny enough for clnn's own kernels). A second context on the test's device; in the
 * full tier only (CLBlast's compile takes minutes on the simulators). */
static void test_clblast_path(void **state)
{
    (void)state;
    if (clnn_test_small_tier)
        skip();
    char *previous = getenv("CLNN_GEMM") ? strdup(getenv("CLNN_GEMM")) : NULL;
    setenv("CLNN_GEMM", "clblast", 1);
    char selector[32];
    snprintf(selector, sizeof selector, "%u:%u", clnn_test_device.platform_index,
             clnn_test_device.device_index);
    clnn_context_options options;
    clnn_context_options_init(&options);
    options.device = selector;
    options.kernel_forms = clnn_test_profile.forms;
    clnn_context *ctx = NULL;
    clnn_status status = clnn_context_create(&ctx, &options);
    if (previous)
        setenv("CLNN_GEMM", previous, 1);
    else
        unsetenv("CLNN_GEMM");
    free(previous);
    CLNN_ASSERT_OK(status);
    clnn_context *tests_context = clnn_test_ctx;
    clnn_test_ctx = ctx;
    static const size_t picks[] = {4, 7, 12}; /* im2col, groups, 1x1 */
    for (size_t i = 0; i < sizeof picks / sizeof picks[0]; ++i) {
        run_opts zero = {0.0f, 1, NULL, 1, 0}, half = {0.5f, 0, NULL, 0, 0};
        run_case(&CASES[picks[i]], &zero);
        run_case(&CASES[picks[i]], &half);
    }
    clnn_test_ctx = tests_context;
    clnn_context_destroy(ctx);
}

/* ---- the reference against central differences ---------------------------------------------- */

/* On a tiny grouped, strided, padded, dilated case, with every value a multiple of 1/64 in
 * [-1, 1] and steps of 1/64 (all exact in float): the loss L = sum of r * z, linear in each
 * input, has central differences equal to its derivatives up to double rounding, which the
 * reference's backward functions must give (dy = r). */
static double loss(const conv_ref_shape *s, const float *x, const float *w, const float *b,
                   const float *r, double *z, size_t yc)
{
    conv_ref_forward(s, x, w, b, z, NULL);
    double sum = 0.0;
    for (size_t i = 0; i < yc; ++i)
        sum += (double)r[i] * z[i];
    return sum;
}

static void fill_grid(float *p, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        p[i] = (float)((int)(clnn_test_random_u64() % 129) - 64) / 64.0f;
}

static void check_differences(const char *what, float *v, size_t n, const double *grad,
                              const conv_ref_shape *s, float *x, float *w, float *b, const float *r,
                              double *z, size_t yc)
{
    const float h = 1.0f / 64.0f;
    for (size_t i = 0; i < n; ++i) {
        float keep = v[i];
        v[i] = keep + h;
        double up = loss(s, x, w, b, r, z, yc);
        v[i] = keep - h;
        double down = loss(s, x, w, b, r, z, yc);
        v[i] = keep;
        double fd = (up - down) / (2.0 * (double)h);
        if (fabs(fd - grad[i]) > 1e-9 * (1.0 + fabs(fd)))
            fail_msg("reference %s[%zu]: adjoint %.12g, central difference %.12g", what, i, grad[i],
                     fd);
    }
}

static void test_reference(void **state)
{
    (void)state;
    const conv_ref_shape shapes[] = {
        {2, 4, 5, 6, 6, 3, 2, 2, 1, 1, 1, 1, 2, 2}, /* groups 2, stride, padding, dilation */
        {1, 3, 4, 4, 6, 2, 3, 1, 2, 1, 0, 1, 1, 3}, /* depthwise x2 */
    };
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; ++k) {
        const conv_ref_shape *s = &shapes[k];
        size_t oh, ow, xc, wc, yc;
        conv_ref_sizes(s, &oh, &ow, &xc, &wc, &yc);
        float *x = clnn_test_alloc(xc * sizeof *x), *w = clnn_test_alloc(wc * sizeof *w);
        float *b = clnn_test_alloc(s->O * sizeof *b), *r = clnn_test_alloc(yc * sizeof *r);
        fill_grid(x, xc), fill_grid(w, wc), fill_grid(b, s->O), fill_grid(r, yc);
        double *z = clnn_test_alloc(yc * sizeof *z), *dx = clnn_test_alloc(xc * sizeof *dx);
        double *dw = clnn_test_alloc(wc * sizeof *dw), *db = clnn_test_alloc(s->O * sizeof *db);
        conv_ref_backward_data(s, r, w, 0.0, NULL, dx, NULL);
        conv_ref_backward_weight(s, r, x, 0.0, NULL, dw, NULL);
        conv_ref_backward_bias(s, r, 0.0, NULL, db, NULL);
        check_differences("dx", x, xc, dx, s, x, w, b, r, z, yc);
        check_differences("dweight", w, wc, dw, s, x, w, b, r, z, yc);
        check_differences("dbias", b, s->O, db, s, x, w, b, r, z, yc);
        free(x), free(w), free(b), free(r), free(z), free(dx), free(dw), free(db);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference),
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_beta),
        cmocka_unit_test(test_activation),
        cmocka_unit_test(test_workspace_batch),
        cmocka_unit_test(test_clblast_path),
    };
    return clnn_test_main("conv", tests, sizeof tests / sizeof tests[0]);
}
