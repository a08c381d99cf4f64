/*
 * Dense layers: forward and the three backward products against the double-precision reference
 * on odd shapes, with and without bias, overwriting (poisoned outputs) and accumulating (beta);
 * argument, shape and context errors leave outputs untouched; GEMM tuning data is parsed strictly,
 * matched to exactly one device, found in the user directory, and keeps results correct when
 * applied (indirect and direct CLBlast kernels, and the shipped data for this device).
 */
#define _GNU_SOURCE
#include "clnn_test.h"
#include "dense_ref.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CLNN_KERNEL_SOURCE_DIR
#error "CLNN_KERNEL_SOURCE_DIR names the source tree's kernels/ (set by tests/CMakeLists.txt)"
#endif

typedef struct shape {
    size_t batch, in, out;
} shape;

/* Odd shapes that are multiples of no work-group or tile size, the MLP's first and last layers,
 * and a shape large enough for CLBlast's indirect GEMM under its default routine choice. Which
 * kernel runs a product is decided in src/gemm.c. On CPU devices every product runs clnn's own
 * kernels: {7, 13, 5}, {19, 300, 3}, {6, 70, 90} and {256, 256, 10} give clnn_gemm_small_*
 * every edge case (partial 4- and 8-wide blocks, K not a multiple of 16, K = 3), and the backward
 * products with in >= 32 run clnn_gemm_nn16 with right edges of 1, 2, 6, 12, 16 and 27 columns,
 * partial 8-row blocks, and K in several 256-step launches (8x300x300 with beta too, 256x784x512,
 * 512x520x520 with a last launch of 8 steps); 512x520x520's forward product is large enough to
 * go through the transposition (clnn_transpose16 with partial 16x16 blocks, then
 * clnn_gemm_nn16). The weight gradients of 512x32x8 (one 8 x 32 block over K = 512) and
 * 2100x290x64 (72 blocks over K = 2100, a right edge of 2 and a short last slice) are split
 * along K in clnn_gemm_nn16, those of 512x9x32 (2 slices) and 3000x9x32 (11 slices, the last
 * shorter) in clnn_gemm_small_nn; clnn_gemm_sum_slices adds the slices into C. test_clblast_path
 * runs them all through CLBlast as well. On GPUs the large products run CLBlast. */
static const shape full_shapes[] = {
    {1, 1, 1},    {7, 13, 5},  {33, 65, 17},   {100, 130, 70},  {37, 59, 23},  {8, 300, 300},
    {19, 300, 3}, {6, 70, 90}, {256, 256, 10}, {256, 784, 512}, {512, 520, 520}, {512, 32, 8},
    {2100, 290, 64}, {512, 9, 32},  {3000, 9, 32},
};
/* The small tier: every edge above (partial blocks, K = 3, K over 256, a 10-wide output, right
 * edges of the nn16 kernel) at under a million multiply-adds per product. */
static const shape small_shapes[] = {
    {1, 1, 1}, {7, 13, 5}, {33, 65, 17}, {37, 59, 23}, {8, 300, 300}, {19, 300, 3}, {6, 70, 90},
    {40, 256, 10}, {512, 32, 8}, {512, 9, 32},
};
#define SHAPES CLNN_TEST_SHAPE(full_shapes, small_shapes)
#define SHAPE_COUNT                                                                                \
    CLNN_TEST_SHAPE(sizeof full_shapes / sizeof full_shapes[0],                                    \
                    sizeof small_shapes / sizeof small_shapes[0])

static float *random_array(size_t n)
{
    float *p = clnn_test_alloc(n * sizeof *p);
    clnn_test_fill_uniform(p, n, -1.0, 1.0);
    return p;
}

static clnn_tensor *matrix(size_t rows, size_t cols, const float *data)
{
    size_t dims[2] = {rows, cols};
    return clnn_test_tensor(2, dims, data);
}

/* Tolerance of a float32 sum of `terms` products: whatever the order of the additions (CLBlast's
 * tiles, FMA or not), the rounding error of a sum of n rounded products is at most
 * gamma_(n+1) = (n+1) u / (1 - (n+1) u) times the sum of the magnitudes of the terms (Higham,
 * Accuracy and Stability, 3.1), u = 2^-24; +2 covers the rounding of beta * c and of the bias
 * addition done in a separate kernel. The largest magnitude sum bounds every element. A wrong
 * index or a missing term gives errors of the order of the terms themselves, far above this. */
static void assert_gemm_close(const char *what, const float *got, const double *ref,
                              const double *absum, size_t n, size_t terms)
{
    double max_absum = 0.0;
    for (size_t i = 0; i < n; ++i)
        max_absum = fmax(max_absum, absum[i]);
    double u = 0x1.0p-24, nu = (double)(terms + 3) * u;
    double atol = nu / (1.0 - nu) * max_absum + 1e-30;
    clnn_test_assert_close(what, got, ref, n, 0.0, atol);
}

/* ---- forward ------------------------------------------------------------------------------- */

static void run_forward(const shape *s, int with_bias)
{
    float *x = random_array(s->batch * s->in), *w = random_array(s->out * s->in);
    float *b = with_bias ? random_array(s->out) : NULL;
    float *y = clnn_test_alloc(s->batch * s->out * sizeof *y);
    double *ref = clnn_test_alloc(s->batch * s->out * sizeof *ref);
    double *absum = clnn_test_alloc(s->batch * s->out * sizeof *absum);
    clnn_tensor *tx = matrix(s->batch, s->in, x), *tw = matrix(s->out, s->in, w);
    clnn_tensor *tb = b ? clnn_test_tensor_1d(s->out, b) : NULL;
    clnn_tensor *ty = matrix(s->batch, s->out, NULL); /* poisoned */
    CLNN_ASSERT_OK(clnn_dense_forward(clnn_test_ctx, tx, tw, tb, ty));
    clnn_test_download(ty, y, s->batch * s->out);
    dense_ref_forward(x, w, b, s->batch, s->in, s->out, ref, absum);
    char what[96];
    snprintf(what, sizeof what, "forward %zux%zux%zu %s bias", s->batch, s->in, s->out,
             b ? "with" : "without");
    assert_gemm_close(what, y, ref, absum, s->batch * s->out, s->in);
    clnn_tensor_destroy(tx);
    clnn_tensor_destroy(tw);
    clnn_tensor_destroy(tb);
    clnn_tensor_destroy(ty);
    free(x), free(w), free(b), free(y), free(ref), free(absum);
}

static void test_forward(void **state)
{
    (void)state;
    for (size_t i = 0; i < SHAPE_COUNT; ++i) {
        run_forward(&SHAPES[i], 1);
        if (SHAPES[i].batch * SHAPES[i].in * SHAPES[i].out < 1000000)
            run_forward(&SHAPES[i], 0);
    }
}

/* ---- backward ------------------------------------------------------------------------------ */

/* One backward product on shape s with the given beta: beta == 0 poisons the output first (it
 * must not be read), else it starts from random values. which: 0 dx, 1 dweight, 2 dbias. */
static void run_backward(const shape *s, int which, float beta)
{
    size_t rows = which == 0 ? s->batch : s->out, cols = which == 2 ? 1 : s->in;
    size_t n = which == 2 ? s->out : rows * cols;
    float *dy = random_array(s->batch * s->out), *x = random_array(s->batch * s->in);
    float *w = random_array(s->out * s->in), *out0 = random_array(n);
    float *got = clnn_test_alloc(n * sizeof *got);
    double *ref = clnn_test_alloc(n * sizeof *ref), *absum = clnn_test_alloc(n * sizeof *absum);
    clnn_tensor *tdy = matrix(s->batch, s->out, dy), *tx = matrix(s->batch, s->in, x);
    clnn_tensor *tw = matrix(s->out, s->in, w);
    clnn_tensor *tout = which == 2 ? clnn_test_tensor_1d(n, beta != 0.0f ? out0 : NULL)
                                   : matrix(rows, cols, beta != 0.0f ? out0 : NULL);
    char what[96];
    size_t terms;
    const char *names[] = {"backward_data", "backward_weight", "backward_bias"};
    snprintf(what, sizeof what, "%s %zux%zux%zu beta %g", names[which], s->batch, s->in, s->out,
             (double)beta);
    if (which == 0) {
        CLNN_ASSERT_OK(clnn_dense_backward_data(clnn_test_ctx, tdy, tw, beta, tout));
        dense_ref_backward_data(dy, w, s->batch, s->in, s->out, beta, out0, ref, absum);
        terms = s->out;
    } else if (which == 1) {
        CLNN_ASSERT_OK(clnn_dense_backward_weight(clnn_test_ctx, tdy, tx, beta, tout));
        dense_ref_backward_weight(dy, x, s->batch, s->in, s->out, beta, out0, ref, absum);
        terms = s->batch;
    } else {
        CLNN_ASSERT_OK(clnn_dense_backward_bias(clnn_test_ctx, tdy, beta, tout));
        dense_ref_backward_bias(dy, s->batch, s->out, beta, out0, ref, absum);
        terms = s->batch;
    }
    clnn_test_download(tout, got, n);
    assert_gemm_close(what, got, ref, absum, n, terms);
    clnn_tensor_destroy(tdy);
    clnn_tensor_destroy(tx);
    clnn_tensor_destroy(tw);
    clnn_tensor_destroy(tout);
    free(dy), free(x), free(w), free(out0), free(got), free(ref), free(absum);
}

static void test_backward(void **state)
{
    (void)state;
    for (size_t i = 0; i < SHAPE_COUNT; ++i)
        for (int which = 0; which < 3; ++which) {
            run_backward(&SHAPES[i], which, 0.0f);
            if (SHAPES[i].batch * SHAPES[i].in * SHAPES[i].out < 1000000) {
                run_backward(&SHAPES[i], which, 1.0f);
                run_backward(&SHAPES[i], which, 0.5f);
            }
        }
}

/* A second context on the test's device with CLNN_GEMM=clblast (every product through CLBlast),
 * made the tests' context until clblast_context_end(). */
static clnn_context *clblast_context_begin(void)
{
    char *previous = getenv("CLNN_GEMM") ? strdup(getenv("CLNN_GEMM")) : NULL;
    setenv("CLNN_GEMM", "clblast", 1);
    char selector[32];
    snprintf(selector, sizeof selector, "%u:%u", clnn_test_device.platform_index,
             clnn_test_device.device_index);
    clnn_context_options options;
    clnn_context_options_init(&options);
    options.device = selector;
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
    return tests_context;
}

static void clblast_context_end(clnn_context *tests_context)
{
    clnn_context_destroy(clnn_test_ctx);
    clnn_test_ctx = tests_context;
}

/* Every shape's products through CLBlast (on CPU devices the other tests run clnn's kernels).
 * The context it makes takes the device's own kernel forms, whichever forms the group runs in,
 * and CLBlast's kernels do not depend on them: it runs in the group of the device's own forms
 * only (on Oclgrind the other group's run took 33 s to repeat it). */
static void test_clblast_path(void **state)
{
    (void)state;
    if (clnn_test_profile.forms != clnn_test_profile.native_forms)
        skip();
    clnn_context *tests_context = clblast_context_begin();
    for (size_t i = 0; i < SHAPE_COUNT; ++i) {
        run_forward(&SHAPES[i], 1);
        for (int which = 0; which < 2; ++which) {
            run_backward(&SHAPES[i], which, 0.0f);
            if (SHAPES[i].batch * SHAPES[i].in * SHAPES[i].out < 1000000)
                run_backward(&SHAPES[i], which, 0.5f);
        }
    }
    clblast_context_end(tests_context);
}

/* clnn_dense_backward: the three products together, dx skipped, accumulating dweight/dbias. */
static void test_backward_combined(void **state)
{
    (void)state;
    const shape s = {9, 21, 6};
    float *dy = random_array(s.batch * s.out), *x = random_array(s.batch * s.in);
    float *w = random_array(s.out * s.in), *dw0 = random_array(s.out * s.in);
    float *db0 = random_array(s.out);
    float *got = clnn_test_alloc(s.batch * s.in * sizeof *got);
    double *ref = clnn_test_alloc(s.batch * s.in * sizeof *ref);
    double *absum = clnn_test_alloc(s.batch * s.in * sizeof *absum);
    clnn_tensor *tdy = matrix(s.batch, s.out, dy), *tx = matrix(s.batch, s.in, x);
    clnn_tensor *tw = matrix(s.out, s.in, w), *tdx = matrix(s.batch, s.in, NULL);
    clnn_tensor *tdw = matrix(s.out, s.in, dw0), *tdb = clnn_test_tensor_1d(s.out, db0);

    CLNN_ASSERT_OK(clnn_dense_backward(clnn_test_ctx, tx, tw, tdy, tdx, tdw, tdb, 1.0f));
    clnn_test_download(tdx, got, s.batch * s.in);
    dense_ref_backward_data(dy, w, s.batch, s.in, s.out, 0.0, NULL, ref, absum);
    assert_gemm_close("combined dx", got, ref, absum, s.batch * s.in, s.out);
    clnn_test_download(tdw, got, s.out * s.in);
    dense_ref_backward_weight(dy, x, s.batch, s.in, s.out, 1.0, dw0, ref, absum);
    assert_gemm_close("combined dweight (accumulated)", got, ref, absum, s.out * s.in, s.batch);
    clnn_test_download(tdb, got, s.out);
    dense_ref_backward_bias(dy, s.batch, s.out, 1.0, db0, ref, absum);
    assert_gemm_close("combined dbias (accumulated)", got, ref, absum, s.out, s.batch);

    /* First layer: no dx, weight not needed; overwrite the parameter gradients. */
    CLNN_ASSERT_OK(clnn_dense_backward(clnn_test_ctx, tx, NULL, tdy, NULL, tdw, tdb, 0.0f));
    clnn_test_download(tdw, got, s.out * s.in);
    dense_ref_backward_weight(dy, x, s.batch, s.in, s.out, 0.0, NULL, ref, absum);
    assert_gemm_close("combined dweight (overwritten)", got, ref, absum, s.out * s.in, s.batch);
    clnn_test_download(tdb, got, s.out);
    dense_ref_backward_bias(dy, s.batch, s.out, 0.0, NULL, ref, absum);
    assert_gemm_close("combined dbias (overwritten)", got, ref, absum, s.out, s.batch);

    clnn_tensor_destroy(tdy), clnn_tensor_destroy(tx), clnn_tensor_destroy(tw);
    clnn_tensor_destroy(tdx), clnn_tensor_destroy(tdw), clnn_tensor_destroy(tdb);
    free(dy), free(x), free(w), free(dw0), free(db0), free(got), free(ref), free(absum);
}

/* The reference's backward against central differences of its forward. The layer is linear in
 * each argument, so the difference quotient is exact up to double rounding: the step is the
 * float-rounded one actually taken. L = sum_ij g[i][j] y[i][j]. */
static double ref_loss(const float *x, const float *w, const float *b, const float *g,
                       const shape *s, double *y)
{
    dense_ref_forward(x, w, b, s->batch, s->in, s->out, y, NULL);
    double l = 0.0;
    for (size_t i = 0; i < s->batch * s->out; ++i)
        l += (double)g[i] * y[i];
    return l;
}

static void fd_check(const char *what, float *p, size_t n, const double *analytic, float *x,
                     float *w, float *b, const float *g, const shape *s, double *y)
{
    for (size_t i = 0; i < n; ++i) {
        float keep = p[i];
        p[i] = keep + 0.01f;
        double hi = (double)p[i], lp = ref_loss(x, w, b, g, s, y);
        p[i] = keep - 0.01f;
        double lo = (double)p[i], lm = ref_loss(x, w, b, g, s, y);
        p[i] = keep;
        double fd = (lp - lm) / (hi - lo);
        if (fabs(fd - analytic[i]) > 1e-9 * (1.0 + fabs(fd)))
            fail_msg("%s[%zu]: reference gradient %.12g, finite difference %.12g", what, i,
                     analytic[i], fd);
    }
}

static void test_reference_gradients(void **state)
{
    (void)state;
    const shape s = {3, 4, 5};
    float *x = random_array(s.batch * s.in), *w = random_array(s.out * s.in);
    float *b = random_array(s.out), *g = random_array(s.batch * s.out);
    double y[15], dx[12], dw[20], db[5];
    dense_ref_backward_data(g, w, s.batch, s.in, s.out, 0.0, NULL, dx, NULL);
    dense_ref_backward_weight(g, x, s.batch, s.in, s.out, 0.0, NULL, dw, NULL);
    dense_ref_backward_bias(g, s.batch, s.out, 0.0, NULL, db, NULL);
    fd_check("dx", x, s.batch * s.in, dx, x, w, b, g, &s, y);
    fd_check("dweight", w, s.out * s.in, dw, x, w, b, g, &s, y);
    fd_check("dbias", b, s.out, db, x, w, b, g, &s, y);
    free(x), free(w), free(b), free(g);
}

/* ---- errors -------------------------------------------------------------------------------- */

static void assert_untouched(const clnn_tensor *t, size_t n, float value)
{
    float *host = clnn_test_alloc(n * sizeof *host);
    clnn_test_download(t, host, n);
    for (size_t i = 0; i < n; ++i)
        if (host[i] != value)
            fail_msg("an output was modified by a failed call: [%zu] = %g, was %g", i,
                     (double)host[i], (double)value);
    free(host);
}

static void test_errors(void **state)
{
    (void)state;
    clnn_context *ctx = clnn_test_ctx;
    clnn_tensor *x = matrix(4, 3, NULL), *w = matrix(5, 3, NULL), *b = clnn_test_tensor_1d(5, NULL);
    clnn_tensor *y = matrix(4, 5, NULL), *dy = matrix(4, 5, NULL), *dx = matrix(4, 3, NULL);
    clnn_tensor *dw = matrix(5, 3, NULL), *db = clnn_test_tensor_1d(5, NULL);
    clnn_tensor *w_bad = matrix(5, 4, NULL), *y_bad = matrix(4, 6, NULL);
    clnn_tensor *b_bad = clnn_test_tensor_1d(6, NULL), *vec = clnn_test_tensor_1d(12, NULL);
    clnn_tensor *dx_bad = matrix(3, 3, NULL), *x_bad = matrix(3, 3, NULL);
    CLNN_ASSERT_OK(clnn_tensor_fill(x, 1.0f));
    CLNN_ASSERT_OK(clnn_tensor_fill(w, 1.0f));
    CLNN_ASSERT_OK(clnn_tensor_fill(b, 1.0f));
    CLNN_ASSERT_OK(clnn_tensor_fill(dy, 1.0f));
    for (clnn_tensor **t = (clnn_tensor *[]){y, dx, dw, db, NULL}; *t; ++t)
        CLNN_ASSERT_OK(clnn_tensor_fill(*t, 7.0f));

    /* forward */
    CLNN_ASSERT_STATUS(clnn_dense_forward(NULL, x, w, b, y), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dense_forward(ctx, NULL, w, b, y), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dense_forward(ctx, x, NULL, b, y), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dense_forward(ctx, x, w, b, NULL), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dense_forward(ctx, x, w_bad, b, y), CLNN_ERR_INVALID_SHAPE);
    assert_non_null(strstr(clnn_context_last_error(ctx), "in_features"));
    CLNN_ASSERT_STATUS(clnn_dense_forward(ctx, x, w, b, y_bad), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_dense_forward(ctx, x, w, b_bad, y), CLNN_ERR_INVALID_SHAPE);
    assert_non_null(strstr(clnn_context_last_error(ctx), "bias"));
    CLNN_ASSERT_STATUS(clnn_dense_forward(ctx, vec, w, b, y), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_dense_forward(ctx, x, w, b, x_bad), CLNN_ERR_INVALID_SHAPE);

    /* y over the weight's own buffer (15 floats) */
    cl_mem xbuf;
    CLNN_ASSERT_OK(clnn_tensor_get_buffer(w, &xbuf));
    clnn_tensor *alias = NULL;
    size_t adims[2] = {2, 5};
    CLNN_ASSERT_OK(clnn_tensor_wrap(ctx, xbuf, 2, adims, &alias));
    clnn_tensor *x2 = matrix(2, 3, NULL);
    CLNN_ASSERT_OK(clnn_tensor_fill(x2, 1.0f));
    CLNN_ASSERT_STATUS(clnn_dense_forward(ctx, x2, w, b, alias), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dense_forward(ctx, x2, w, alias, alias), CLNN_ERR_INVALID_SHAPE);

    /* backward */
    CLNN_ASSERT_STATUS(clnn_dense_backward_data(ctx, dy, w_bad, 0.0f, dx), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_dense_backward_data(ctx, dy, w, 0.0f, dx_bad), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_dense_backward_data(ctx, dy, w, NAN, dx), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dense_backward_data(ctx, dy, w, INFINITY, dx),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dense_backward_weight(ctx, dy, x_bad, 0.0f, dw),
                       CLNN_ERR_INVALID_SHAPE);
    assert_non_null(strstr(clnn_context_last_error(ctx), "batch"));
    CLNN_ASSERT_STATUS(clnn_dense_backward_weight(ctx, dy, x, 0.0f, w_bad),
                       CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_dense_backward_weight(ctx, dy, x, -INFINITY, dw),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dense_backward_weight(ctx, dy, x, 0.0f, NULL),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dense_backward_bias(ctx, dy, 0.0f, b_bad), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_dense_backward_bias(ctx, vec, 0.0f, db), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_dense_backward_bias(ctx, dy, NAN, db), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dense_backward(ctx, x, w, dy, NULL, NULL, NULL, 0.0f),
                       CLNN_ERR_INVALID_ARGUMENT);
    /* A bad last output fails the whole call before the first product is queued. */
    CLNN_ASSERT_STATUS(clnn_dense_backward(ctx, x, w, dy, dx, dw, b_bad, 0.0f),
                       CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_dense_backward(ctx, x, w, dy, dx, dw, db, NAN),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dense_backward(ctx, x, w, dy, dx, dx, db, 0.0f),
                       CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_dense_backward(ctx, x, NULL, dy, dx, NULL, NULL, 0.0f),
                       CLNN_ERR_INVALID_ARGUMENT);

    /* tensors of another context on the same device */
    clnn_context *other = NULL;
    clnn_context_options options;
    clnn_context_options_init(&options);
    char selector[32];
    snprintf(selector, sizeof selector, "%u:%u", clnn_test_device.platform_index,
             clnn_test_device.device_index);
    options.device = selector;
    CLNN_ASSERT_OK(clnn_context_create(&other, &options));
    clnn_tensor *foreign = NULL;
    size_t fdims[2] = {5, 3};
    CLNN_ASSERT_OK(clnn_tensor_create(other, 2, fdims, &foreign));
    CLNN_ASSERT_STATUS(clnn_dense_forward(ctx, x, foreign, b, y), CLNN_ERR_CONTEXT_MISMATCH);
    CLNN_ASSERT_STATUS(clnn_dense_backward_data(ctx, dy, foreign, 0.0f, dx),
                       CLNN_ERR_CONTEXT_MISMATCH);
    CLNN_ASSERT_STATUS(clnn_dense_backward_weight(ctx, dy, x, 0.0f, foreign),
                       CLNN_ERR_CONTEXT_MISMATCH);
    CLNN_ASSERT_STATUS(clnn_dense_backward_weight(other, dy, x, 0.0f, foreign),
                       CLNN_ERR_CONTEXT_MISMATCH);
    CLNN_ASSERT_STATUS(clnn_dense_backward(ctx, x, w, dy, dx, foreign, db, 0.0f),
                       CLNN_ERR_CONTEXT_MISMATCH);

    assert_untouched(y, 20, 7.0f);
    assert_untouched(dx, 12, 7.0f);
    assert_untouched(dw, 15, 7.0f);
    assert_untouched(db, 5, 7.0f);
    assert_untouched(x, 12, 1.0f);

    clnn_tensor_destroy(foreign);
    clnn_context_destroy(other);
    for (clnn_tensor **t = (clnn_tensor *[]){x, w, b, y, dy, dx, dw, db, w_bad, y_bad, b_bad, vec,
                                             dx_bad, x_bad, alias, x2, NULL};
         *t; ++t)
        clnn_tensor_destroy(*t);
}

/* ---- tuning data --------------------------------------------------------------------------- */

/* Parameters valid on any OpenCL 1.2 device (no local memory, 128 work-items), non-default. */
static const char *const xgemm_names[] = {"GEMMK", "KREG", "KWG",  "KWI",  "MDIMA", "MDIMC",
                                          "MWG",   "NDIMB", "NDIMC", "NWG", "SA",   "SB",
                                          "STRM",  "STRN", "VWM",  "VWN"};
static const size_t xgemm_values[] = {0, 1, 16, 2, 16, 8, 64, 16, 16, 64, 0, 0, 1, 1, 4, 4};
static const char *const direct_names[] = {"KWID", "MDIMAD", "MDIMCD", "NDIMBD", "NDIMCD",
                                           "PADA", "PADB",   "VWMD",   "VWND",   "WGD"};
static const size_t direct_values[] = {2, 8, 8, 8, 8, 1, 1, 2, 2, 32};

static void make_tuning(clnn_tuning *t, size_t min_indirect, int xgemm, int direct)
{
    CLNN_ASSERT_OK(clnn_tuning_init(t, &clnn_test_device));
    const char *routine_name[] = {"XGEMM_MIN_INDIRECT_SIZE"};
    CLNN_ASSERT_OK(clnn_tuning_set_kernel(t, "GemmRoutine", 1, routine_name, &min_indirect));
    if (xgemm)
        CLNN_ASSERT_OK(clnn_tuning_set_kernel(t, "Xgemm", 16, xgemm_names, xgemm_values));
    if (direct)
        CLNN_ASSERT_OK(clnn_tuning_set_kernel(t, "XgemmDirect", 10, direct_names, direct_values));
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* Runs first on each device, before any GEMM: the user directory's file for this device is found
 * and applied; a malformed file and another device's file are passed over. Every later test then
 * runs with those parameters (tuned Xgemm for large shapes, CLBlast's direct kernel for small).
 * CLBlast's parameters belong to the device for the whole process, so when the group runs again
 * on the same device (the other kernel forms), the parameters are there already and stay. */
static void test_tuning_user_directory(void **state)
{
    (void)state;
    const char *mode = getenv("CLNN_TUNING");
    if (mode && strcmp(mode, "off") == 0)
        skip();
    static cl_device_id tuned[64];
    static size_t tuned_count;
    int again = 0;
    for (size_t i = 0; i < tuned_count; ++i)
        again |= tuned[i] == clnn_test_device.device;
    if (again) {
        char applied[8192];
        CLNN_ASSERT_OK(clnn_tuning_describe(clnn_test_ctx, applied, sizeof applied));
        printf("[  TUNING  ] %s\n", applied);
        assert_non_null(strstr(applied, "applied by the program"));
        return;
    }
    if (tuned_count < 64)
        tuned[tuned_count++] = clnn_test_device.device;
    char dir[512], path[700], text[8192];
    clnn_test_make_temp_dir(dir, sizeof dir);
    clnn_tuning t;
    make_tuning(&t, 64, 1, 0);
    clnn_tuning other = t;
    snprintf(other.device_name, sizeof other.device_name, "%s", "some other device");
    snprintf(path, sizeof path, "%s/a-malformed.txt", dir);
    write_file(path, "clnn-tuning 2\n");
    snprintf(path, sizeof path, "%s/b-other.txt", dir);
    CLNN_ASSERT_OK(clnn_tuning_save(&other, path));
    snprintf(path, sizeof path, "%s/c-this.txt", dir);
    CLNN_ASSERT_OK(clnn_tuning_save(&t, path));
    snprintf(path, sizeof path, "%s/d-ignored.json", dir);
    write_file(path, "{}");

    char *previous = getenv("CLNN_TUNING_DIR") ? strdup(getenv("CLNN_TUNING_DIR")) : NULL;
    setenv("CLNN_TUNING_DIR", dir, 1);
    CLNN_ASSERT_OK(clnn_tuning_describe(clnn_test_ctx, text, sizeof text));
    if (previous)
        setenv("CLNN_TUNING_DIR", previous, 1);
    else
        unsetenv("CLNN_TUNING_DIR");
    free(previous);
    clnn_test_remove_tree(dir);
    printf("[  TUNING  ] %s\n", text);
    assert_non_null(strstr(text, "user file"));
    assert_non_null(strstr(text, "c-this.txt"));
    assert_non_null(strstr(text, "a-malformed.txt"));
    assert_null(strstr(text, "b-other.txt"));
    assert_null(strstr(text, "d-ignored"));
}

static void test_tuning_parse(void **state)
{
    (void)state;
    static const char good[] = "# comment\n"
                               "clnn-tuning 1\r\n"
                               "platform Portable Computing Language\n"
                               "vendor GenuineIntel\n"
                               "  device pthread-x86 Some CPU  \n"
                               "\n"
                               "driver 3.1+debian\n"
                               "compute-units 2\n"
                               "kernel Xgemm KWG=16 MWG=128\n"
                               "kernel GemmRoutine XGEMM_MIN_INDIRECT_SIZE=384\n";
    clnn_tuning t;
    CLNN_ASSERT_OK(clnn_tuning_parse(good, &t));
    assert_string_equal(t.platform_name, "Portable Computing Language");
    assert_string_equal(t.device_name, "pthread-x86 Some CPU");
    assert_string_equal(t.driver_version, "3.1+debian");
    assert_int_equal(t.compute_units, 2);
    assert_int_equal(t.kernel_count, 2);
    assert_string_equal(t.kernels[0].name, "Xgemm");
    assert_int_equal(t.kernels[0].parameter_count, 2);
    assert_string_equal(t.kernels[0].parameter_names[1], "MWG");
    assert_int_equal(t.kernels[0].parameter_values[1], 128);
    assert_int_equal(t.kernels[1].parameter_values[0], 384);

    /* format -> parse gives the same record */
    char text[4096];
    size_t length = 0;
    CLNN_ASSERT_OK(clnn_tuning_format(&t, text, sizeof text, &length));
    assert_int_equal(length, strlen(text));
    clnn_tuning u;
    CLNN_ASSERT_OK(clnn_tuning_parse(text, &u));
    assert_string_equal(u.device_vendor, t.device_vendor);
    assert_int_equal(u.kernel_count, t.kernel_count);
    for (size_t i = 0; i < t.kernel_count; ++i) {
        assert_string_equal(u.kernels[i].name, t.kernels[i].name);
        assert_int_equal(u.kernels[i].parameter_count, t.kernels[i].parameter_count);
        for (size_t j = 0; j < t.kernels[i].parameter_count; ++j) {
            assert_string_equal(u.kernels[i].parameter_names[j], t.kernels[i].parameter_names[j]);
            assert_int_equal(u.kernels[i].parameter_values[j], t.kernels[i].parameter_values[j]);
        }
    }
    CLNN_ASSERT_STATUS(clnn_tuning_format(&t, text, 10, &length), CLNN_ERR_INVALID_ARGUMENT);
    assert_true(length > 10);

    static const char head[] = "clnn-tuning 1\nplatform P\nvendor V\ndevice D\ndriver 1\n";
    static const char *const bad[] = {
        "",
        "# only a comment\n",
        "platform P\n",
        "clnn-tuning 2\nplatform P\n",
        "clnn-tuning\n",
        "clnn-tuning 1\nplatform P\nvendor V\ndevice D\ndriver 1\nkernel Xgemm KWG=16\n",
        "%scompute-units 2\n",
        "%scompute-units 0\nkernel Xgemm KWG=16\n",
        "%scompute-units two\nkernel Xgemm KWG=16\n",
        "%scompute-units 2\ncompute-units 2\nkernel Xgemm KWG=16\n",
        "%scompute-units 2\ndevice E\nkernel Xgemm KWG=16\n",
        "%scompute-units 2\ncolour blue\nkernel Xgemm KWG=16\n",
        "%scompute-units 2\nkernel Xgemm\n",
        "%scompute-units 2\nkernel\n",
        "%scompute-units 2\nkernel X-gemm KWG=16\n",
        "%scompute-units 2\nkernel Xgemm KWG\n",
        "%scompute-units 2\nkernel Xgemm KWG=\n",
        "%scompute-units 2\nkernel Xgemm KWG=-1\n",
        "%scompute-units 2\nkernel Xgemm KWG=1.5\n",
        "%scompute-units 2\nkernel Xgemm KWG=99999999999999999999999\n",
        "%scompute-units 2\nkernel Xgemm KWG=16 KWG=32\n",
        "%scompute-units 2\nkernel Xgemm K.W=16\n",
        "%scompute-units 2\nkernel Xgemm KWG=16\nkernel Xgemm KWG=16\n",
        /* a carriage return inside a value: the writer cannot write it back */
        "clnn-tuning 1\nplatform a\rb\nvendor V\ndevice D\ndriver 1\ncompute-units 2\nkernel Xgemm KWG=16\n",
        /* a kernel CLBlast does not know (CLBlast would print an error of its own) */
        "%scompute-units 2\nkernel NoSuchKernel WGS=64\n",
        "%scompute-units 2\nkernel Xgemmdirect WGD=32\n",
        /* parameters that cannot be a configuration: all zero, or a zero tile size */
        "%scompute-units 2\nkernel Xgemm KWG=0 MWG=0 NWG=0\n",
        "%scompute-units 2\nkernel GemmRoutine XGEMM_MIN_INDIRECT_SIZE=0\n",
        "%scompute-units 2\nkernel Xgemm GEMMK=0 MWG=0\n",
        "%scompute-units 2\nkernel XgemmDirect WGD=0 KWID=2\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        char buf[512];
        snprintf(buf, sizeof buf, bad[i], head);
        memset(&u, 0x5a, sizeof u);
        clnn_tuning before = u;
        clnn_status status = clnn_tuning_parse(buf, &u);
        if (status != CLNN_ERR_FORMAT)
            fail_msg("malformed tuning text %zu gave %s, expected CLNN_ERR_FORMAT:\n%s", i,
                     clnn_status_string(status), buf);
        assert_true(strlen(clnn_context_last_error(NULL)) > 0);
        assert_memory_equal(&u, &before, sizeof u);
    }
    /* a device name longer than the record holds */
    char longer[512];
    snprintf(longer, sizeof longer, "clnn-tuning 1\ndevice %0200d\n", 0);
    CLNN_ASSERT_STATUS(clnn_tuning_parse(longer, &u), CLNN_ERR_FORMAT);
    assert_non_null(strstr(clnn_context_last_error(NULL), "line 2"));
    CLNN_ASSERT_STATUS(clnn_tuning_parse(NULL, &u), CLNN_ERR_INVALID_ARGUMENT);

    /* The writer refuses exactly the records whose text the reader would refuse or read back
     * differently; the records it accepts read back equal. */
    for (int which = 0; which < 13; ++which) {
        clnn_tuning r = t;
        switch (which) {
        case 0: snprintf(r.platform_name, sizeof r.platform_name, " leading"); break;
        case 1: snprintf(r.device_vendor, sizeof r.device_vendor, "trailing\t"); break;
        case 2: r.device_name[0] = '\0'; break;
        case 3: snprintf(r.driver_version, sizeof r.driver_version, "a\rb"); break;
        case 4: snprintf(r.driver_version, sizeof r.driver_version, "a\nkernel Xgemm KWG=1"); break;
        case 5: r.compute_units = 0; break;
        case 6: r.kernel_count = 0; break;
        case 7: snprintf(r.kernels[0].name, sizeof r.kernels[0].name, "X-gemm"); break;
        case 8: snprintf(r.kernels[0].name, sizeof r.kernels[0].name, "NoSuchKernel"); break;
        case 9: r.kernels[1] = r.kernels[0]; break; /* Xgemm twice */
        case 10: snprintf(r.kernels[0].parameter_names[1], CLNN_TUNING_NAME_SIZE, "KWG"); break;
        case 11: r.kernels[0].parameter_values[0] = r.kernels[0].parameter_values[1] = 0; break;
        default: r.kernels[0].parameter_count = 0; break;
        }
        memset(text, 0x5a, sizeof text);
        clnn_status status = clnn_tuning_format(&r, text, sizeof text, NULL);
        if (status != CLNN_ERR_INVALID_ARGUMENT)
            fail_msg("record %d: clnn_tuning_format gave %s, expected CLNN_ERR_INVALID_ARGUMENT",
                     which, clnn_status_string(status));
        assert_int_equal((unsigned char)text[0], 0x5a);
    }
    static const char *const odd[] = {"a  b", "#hash", "x=y z", "\v", "tab\tinside"};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; ++i) {
        clnn_tuning r = t, back;
        snprintf(r.device_name, sizeof r.device_name, "%s", odd[i]);
        r.kernels[0].parameter_values[0] = SIZE_MAX;
        CLNN_ASSERT_OK(clnn_tuning_format(&r, text, sizeof text, NULL));
        CLNN_ASSERT_OK(clnn_tuning_parse(text, &back));
        assert_string_equal(back.device_name, r.device_name);
        assert_int_equal(back.kernels[0].parameter_values[0], SIZE_MAX);
    }

    /* files: save, load, missing, NUL byte */
    char dir[512], path[700];
    clnn_test_make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/t.txt", dir);
    CLNN_ASSERT_OK(clnn_tuning_save(&t, path));
    CLNN_ASSERT_OK(clnn_tuning_load(path, &u));
    assert_string_equal(u.device_name, t.device_name);
    snprintf(path, sizeof path, "%s/missing.txt", dir);
    CLNN_ASSERT_STATUS(clnn_tuning_load(path, &u), CLNN_ERR_IO);
    snprintf(path, sizeof path, "%s/nul.txt", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite("clnn-tuning 1\n\0x", 1, 16, f);
    fclose(f);
    CLNN_ASSERT_STATUS(clnn_tuning_load(path, &u), CLNN_ERR_FORMAT);
    clnn_test_remove_tree(dir);
}

/* Only the exact device matches, and applying another device's data is refused. */
static void test_tuning_match(void **state)
{
    (void)state;
    clnn_tuning t;
    make_tuning(&t, 64, 1, 0);
    int matches = -1;
    CLNN_ASSERT_OK(clnn_tuning_matches(&t, &clnn_test_device, &matches));
    assert_int_equal(matches, 1);
    for (int field = 0; field < 5; ++field) {
        clnn_tuning o = t;
        switch (field) {
        case 0: strcat(o.platform_name, "x"); break;
        case 1: strcat(o.device_vendor, "x"); break;
        case 2: o.device_name[0] = o.device_name[0] == 'b' ? 'p' : 'b'; break;
        case 3: strcat(o.driver_version, ".1"); break;
        default: o.compute_units += 1; break;
        }
        CLNN_ASSERT_OK(clnn_tuning_matches(&o, &clnn_test_device, &matches));
        if (matches != 0)
            fail_msg("tuning data with identity field %d changed matched the device", field);
        CLNN_ASSERT_STATUS(clnn_tuning_apply(clnn_test_ctx, &o), CLNN_ERR_MISMATCH);
    }
    /* A kernel CLBlast does not know, or parameters all 0, are refused by clnn itself, before
     * CLBlast sees them (CLBlast prints an error of its own to stderr for an unknown kernel). */
    clnn_tuning u;
    CLNN_ASSERT_OK(clnn_tuning_init(&u, &clnn_test_device));
    const char *name[] = {"WGS"};
    size_t value = 64;
    CLNN_ASSERT_STATUS(clnn_tuning_set_kernel(&u, "NoSuchKernel", 1, name, &value),
                       CLNN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(clnn_context_last_error(NULL), "NoSuchKernel"));
    const char *routine[] = {"XGEMM_MIN_INDIRECT_SIZE"};
    value = 0;
    CLNN_ASSERT_STATUS(clnn_tuning_set_kernel(&u, "GemmRoutine", 1, routine, &value),
                       CLNN_ERR_INVALID_ARGUMENT);
    assert_int_equal(u.kernel_count, 0);
    make_tuning(&u, 64, 1, 0);
    clnn_tuning unknown = u, zero = u;
    snprintf(unknown.kernels[1].name, sizeof unknown.kernels[1].name, "NoSuchKernel");
    CLNN_ASSERT_STATUS(clnn_tuning_apply(clnn_test_ctx, &unknown), CLNN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(clnn_context_last_error(clnn_test_ctx), "NoSuchKernel"));
    for (size_t j = 0; j < zero.kernels[1].parameter_count; ++j)
        zero.kernels[1].parameter_values[j] = 0;
    CLNN_ASSERT_STATUS(clnn_tuning_apply(clnn_test_ctx, &zero), CLNN_ERR_INVALID_ARGUMENT);
    /* parameters CLBlast's kernel does not take are still CLBlast's to refuse, silently */
    clnn_tuning missing = u;
    snprintf(missing.kernels[1].parameter_names[0], CLNN_TUNING_NAME_SIZE, "NOT_A_PARAMETER");
    CLNN_ASSERT_STATUS(clnn_tuning_apply(clnn_test_ctx, &missing), CLNN_ERR_BLAS);
    assert_non_null(strstr(clnn_context_last_error(clnn_test_ctx), "CLBlast"));
}

static void run_all_products(void)
{
    const shape few[] = {{1, 1, 1}, {7, 13, 5}, {CLNN_TEST_SHAPE(100, 20), 130, 70}, {64, 96, 32}};
    for (size_t i = 0; i < sizeof few / sizeof few[0]; ++i) {
        run_forward(&few[i], 1);
        for (int which = 0; which < 2; ++which) {
            run_backward(&few[i], which, 0.0f);
            run_backward(&few[i], which, 0.5f);
        }
    }
}

/* Applied tuning keeps every product correct (through a CLBlast-only context). The indirect Xgemm
 * kernel with non-default parameters, odd shapes padded, has been checked by test_clblast_path
 * under test_tuning_user_directory's file (100x130x70 and larger go indirect); here everything
 * goes through XgemmDirect with non-default parameters, then through the data shipped for this
 * device, when there is some. Each parameter set costs a CLBlast compile on a cold POCL cache, so
 * the sets are few. */
static void test_tuned_results(void **state)
{
    (void)state;
    clnn_context *tests_context = clblast_context_begin();
    clnn_tuning t;
    make_tuning(&t, 100000, 0, 1);
    CLNN_ASSERT_OK(clnn_tuning_apply(clnn_test_ctx, &t));
    run_all_products();

    char description[256];
    CLNN_ASSERT_OK(clnn_tuning_describe(clnn_test_ctx, description, sizeof description));
    assert_string_equal(description, "applied by the program");

    /* every .txt in data/tuning of the source tree parses; the one for this device is applied */
    char dir[700];
    snprintf(dir, sizeof dir, "%s/../data/tuning", CLNN_KERNEL_SOURCE_DIR);
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".txt") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        CLNN_ASSERT_OK(clnn_tuning_load(path, &t));
        int matches;
        CLNN_ASSERT_OK(clnn_tuning_matches(&t, &clnn_test_device, &matches));
        if (!matches)
            continue;
        printf("[  TUNING  ] checking shipped %s\n", e->d_name);
        CLNN_ASSERT_OK(clnn_tuning_apply(clnn_test_ctx, &t));
        run_all_products();
    }
    closedir(d);
    clblast_context_end(tests_context);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_tuning_user_directory),
    cmocka_unit_test(test_reference_gradients),
    cmocka_unit_test(test_forward),
    cmocka_unit_test(test_backward),
    cmocka_unit_test(test_backward_combined),
    cmocka_unit_test(test_clblast_path),
    cmocka_unit_test(test_errors),
    cmocka_unit_test(test_tuning_parse),
    cmocka_unit_test(test_tuning_match),
    cmocka_unit_test(test_tuned_results),
};

CLNN_TEST_MAIN("dense", tests)
