/*
 * Dense-layer GEMMs: the products of an MLP training step (batch 256, layers 784-512-256-10:
 * forward y = x W^T, dx = dy W, dweight = dy^T x) and square products 256..2048, in GFLOP/s,
 * each beside OpenBLAS's cblas_sgemm with the same transposes on the host CPU in the same run
 * (when clnn-bench was built with OpenBLAS; 2 threads), with the ratio clnn / OpenBLAS. Each
 * product is timed from launch to clFinish; the small ones also as ".queued" rows, many products
 * per clFinish as a training step issues them (DENSE_QUEUED below).
 * The row "dense.tuning" says which CLBlast parameters are in force (CLNN_TUNING=off: defaults).
 */
#include "bench_suites.h"

#include <stdlib.h>
#include <string.h>

#ifdef CLNN_BENCH_OPENBLAS
#include <cblas.h>
#endif

typedef enum gemm_kind { FORWARD, BACKWARD_DATA, BACKWARD_WEIGHT } gemm_kind;

typedef struct dense_case {
    const char *name;
    gemm_kind kind;
    size_t batch, in, out;
    int queued; /* > 0: also a row for this many products per clFinish (see DENSE_QUEUED) */
} dense_case;

/* Products per clFinish in the ".queued" rows. The small products (256-10: 1.3 MFLOP, a few
 * microseconds of arithmetic) are bounded by one launch-to-finish round trip on POCL when
 * timed one by one; a training step issues them back to back on the in-order queue and waits
 * once, so these rows time that: DENSE_QUEUED products, one clFinish, time per product. The
 * OpenBLAS peer is timed the same way (DENSE_QUEUED calls in a row). */
#define DENSE_QUEUED 50

/* Seconds the suite waits after each OpenBLAS measurement. OpenBLAS's idle worker threads keep
 * polling (sched_yield) for about 2^28 cycles after a call (its THREAD_TIMEOUT; the environment's
 * OPENBLAS_THREAD_TIMEOUT changes it) before they sleep: measured, a whole core's worth of CPU
 * time for 0.1 s after one 512^3 call. On a 2-core machine that held a core while the next clnn
 * product was timed (square 1024 read 20-21 ms in such runs, 10-13 ms with the wait). */
#define OPENBLAS_PARK_SECONDS 0.3

typedef struct dense_args {
    clnn_context *ctx;
    gemm_kind kind;
    clnn_tensor *x, *w, *y; /* forward: x [b,in], w [out,in], y [b,out] */
    clnn_tensor *bias;
} dense_args;

static clnn_status run_case(void *p)
{
    dense_args *a = p;
    switch (a->kind) {
    case FORWARD:
        return clnn_dense_forward(a->ctx, a->x, a->w, a->bias, a->y);
    case BACKWARD_DATA: /* dx (x's shape) = dy (y's shape) W */
        return clnn_dense_backward_data(a->ctx, a->y, a->w, 0.0f, a->x);
    default: /* dW (w's shape) = dy^T x */
        return clnn_dense_backward_weight(a->ctx, a->y, a->x, 0.0f, a->w);
    }
}

#ifdef CLNN_BENCH_OPENBLAS
/* The same product on the host with OpenBLAS, median seconds per call of reps (each `calls`
 * calls in a row) after one warm-up. */
static double openblas_seconds(const dense_case *c, int reps, int calls, float *x, float *w,
                               float *y)
{
    int b = (int)c->batch, in = (int)c->in, out = (int)c->out;
    double times[64];
    if (reps > 64)
        reps = 64;
    for (int r = -1; r < reps; ++r) {
        double t0 = tool_now();
        for (int q = 0; q < calls; ++q) {
            if (c->kind == FORWARD)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, out, in, 1.0f, x, in, w,
                            in, 0.0f, y, out);
            else if (c->kind == BACKWARD_DATA)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, b, in, out, 1.0f, y, out,
                            w, in, 0.0f, x, in);
            else
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, b, 1.0f, y, out, x,
                            in, 0.0f, w, in);
        }
        if (r >= 0)
            times[r] = (tool_now() - t0) / calls;
    }
    return tool_median(times, reps);
}
#endif

/* Times the product (queued products per clFinish) and reports it as `name`, followed, when
 * peer is set and clnn-bench has OpenBLAS, by OpenBLAS's figure (queued calls in a row) and the
 * ratio. Returns 1 if the product failed. */
static int measure_and_report(bench_run *run, bench_run *local, const dense_case *c,
                              dense_args *a, const char *name, const char *shape, double flops,
                              int queued, int peer)
{
    bench_stats stats;
    clnn_status status = bench_measure_queued(local, run_case, a, queued, &stats);
    run->failures = local->failures;
    if (status != CLNN_SUCCESS) {
        bench_error(run, name, status);
        return 1;
    }
    bench_report(run, "dense", name, shape, 0, flops, &stats);
#ifdef CLNN_BENCH_OPENBLAS
    if (peer) {
        float *hx = malloc(c->batch * c->in * sizeof *hx);
        float *hw = malloc(c->out * c->in * sizeof *hw);
        float *hy = malloc(c->batch * c->out * sizeof *hy);
        if (hx && hw && hy) {
            for (size_t i = 0; i < c->batch * c->in; ++i)
                hx[i] = 0.01f;
            for (size_t i = 0; i < c->out * c->in; ++i)
                hw[i] = 0.01f;
            for (size_t i = 0; i < c->batch * c->out; ++i)
                hy[i] = 0.01f;
            double s = openblas_seconds(c, local->reps, queued, hx, hw, hy);
            tool_sleep(OPENBLAS_PARK_SECONDS);
            char peer_name[96];
            snprintf(peer_name, sizeof peer_name, "%s.openblas", name);
            bench_report_peer(run, "dense", peer_name, shape, 0, flops, s);
            printf("%-34s %-18s %10s %8s %9s %7s %9.2f\n", "  ratio clnn/OpenBLAS", shape, "", "",
                   "", "", s / stats.median_s);
        }
        free(hx), free(hw), free(hy);
    }
#else
    (void)c, (void)queued, (void)peer;
#endif
    return 0;
}

static int bench_one(bench_run *run, const dense_case *c, int with_bias)
{
    char name[64], shape[48];
    snprintf(name, sizeof name, "%s%s", c->name, with_bias ? "+bias" : "");
    if (!bench_selected(run, name))
        return 0;
    /* Shapes as the GEMM sees them: M x N x K. */
    size_t m = c->kind == BACKWARD_WEIGHT ? c->out : c->batch;
    size_t n = c->kind == FORWARD ? c->out : c->in;
    size_t k = c->kind == FORWARD ? c->in : c->kind == BACKWARD_DATA ? c->out : c->batch;
    snprintf(shape, sizeof shape, "%zux%zux%zu", m, n, k);
    double flops = 2.0 * (double)m * (double)n * (double)k;

    dense_args a = {run->ctx, c->kind, NULL, NULL, NULL, NULL};
    size_t xd[2] = {c->batch, c->in}, wd[2] = {c->out, c->in}, yd[2] = {c->batch, c->out};
    clnn_status status = clnn_tensor_create(run->ctx, 2, xd, &a.x);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_create(run->ctx, 2, wd, &a.w);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_create(run->ctx, 2, yd, &a.y);
    if (status == CLNN_SUCCESS && with_bias)
        status = clnn_tensor_create(run->ctx, 1, &c->out, &a.bias);
    for (clnn_tensor **t = (clnn_tensor *[]){a.x, a.w, a.y, a.bias, NULL};
         status == CLNN_SUCCESS && *t; ++t)
        status = clnn_tensor_fill(*t, 0.01f);

    /* Bound the time of the large products: fewer repetitions above a GFLOP. */
    bench_run local = *run;
    if (flops > 1e9 && local.reps > 3)
        local.reps = 3;
    if (flops > 1e9 && local.warmup > 1)
        local.warmup = 1;
    int failed = 0;
    if (status == CLNN_SUCCESS)
        failed = measure_and_report(run, &local, c, &a, name, shape, flops, 1, !with_bias);
    if (status == CLNN_SUCCESS && !failed && c->queued > 0 && !with_bias) {
        snprintf(name + strlen(name), sizeof name - strlen(name), ".queued%d", c->queued);
        failed = measure_and_report(run, &local, c, &a, name, shape, flops, c->queued, 1);
    }
    if (status != CLNN_SUCCESS) {
        bench_error(run, name, status);
        failed = 1;
    }
    clnn_tensor_destroy(a.x), clnn_tensor_destroy(a.w), clnn_tensor_destroy(a.y);
    clnn_tensor_destroy(a.bias);
    return failed;
}

int bench_suite_dense(bench_run *run)
{
    char description[512];
    if (clnn_tuning_describe(run->ctx, description, sizeof description) == CLNN_SUCCESS)
        printf("dense.tuning: %s\n", description);
#ifdef CLNN_BENCH_OPENBLAS
    openblas_set_num_threads(2);
    printf("dense: OpenBLAS peer on the host CPU, 2 threads\n");
#else
    printf("dense: built without OpenBLAS: no peer figures\n");
#endif
    static const dense_case cases[] = {
        {"dense.fwd.784-512", FORWARD, 256, 784, 512, 0},
        {"dense.fwd.512-256", FORWARD, 256, 512, 256, 0},
        {"dense.fwd.256-10", FORWARD, 256, 256, 10, DENSE_QUEUED},
        {"dense.bwd_data.784-512", BACKWARD_DATA, 256, 784, 512, 0},
        {"dense.bwd_data.512-256", BACKWARD_DATA, 256, 512, 256, 0},
        {"dense.bwd_data.256-10", BACKWARD_DATA, 256, 256, 10, DENSE_QUEUED},
        {"dense.bwd_weight.784-512", BACKWARD_WEIGHT, 256, 784, 512, 0},
        {"dense.bwd_weight.512-256", BACKWARD_WEIGHT, 256, 512, 256, 0},
        {"dense.bwd_weight.256-10", BACKWARD_WEIGHT, 256, 256, 10, DENSE_QUEUED},
        {"dense.square.256", FORWARD, 256, 256, 256, 0},
        {"dense.square.512", FORWARD, 512, 512, 512, 0},
        {"dense.square.1024", FORWARD, 1024, 1024, 1024, 0},
        {"dense.square.2048", FORWARD, 2048, 2048, 2048, 0},
        /* no arithmetic to speak of: the cost of one launch and clFinish, the floor under every
         * row above (and why the 256-10 products timed one by one cannot approach OpenBLAS's
         * microseconds); its .queued row is the cost of one launch among many */
        {"dense.launch_floor", FORWARD, 1, 1, 1, DENSE_QUEUED},
    };
    int failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i)
        failures += bench_one(run, &cases[i], 0);
    failures += bench_one(run, &cases[0], 1); /* the bias epilogue's cost */
    return failures ? 1 : 0;
}
