/*
 * Dense-layer GEMMs: the products of an MLP training step (batch 256, layers 784-512-256-10:
 * forward y = x W^T, dx = dy W, dweight = dy^T x) and square products 256..2048, in GFLOP/s,
 * each beside OpenBLAS's cblas_sgemm with the same transposes on the host CPU in the same run
 * (when clnn-bench was built with OpenBLAS; 2 threads), with the ratio clnn / OpenBLAS.
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
} dense_case;

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
/* The same product on the host with OpenBLAS, median seconds of reps after one warm-up. */
static double openblas_seconds(const dense_case *c, int reps, float *x, float *w, float *y)
{
    int b = (int)c->batch, in = (int)c->in, out = (int)c->out;
    double times[64];
    if (reps > 64)
        reps = 64;
    for (int r = -1; r < reps; ++r) {
        double t0 = tool_now();
        if (c->kind == FORWARD)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, out, in, 1.0f, x, in, w, in,
                        0.0f, y, out);
        else if (c->kind == BACKWARD_DATA)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, b, in, out, 1.0f, y, out, w,
                        in, 0.0f, x, in);
        else
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, b, 1.0f, y, out, x, in,
                        0.0f, w, in);
        if (r >= 0)
            times[r] = tool_now() - t0;
    }
    return tool_median(times, reps);
}
#endif

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
    bench_stats stats;
    if (status == CLNN_SUCCESS)
        status = bench_measure(&local, run_case, &a, &stats);
    run->failures = local.failures;
    int failed = 0;
    if (status != CLNN_SUCCESS) {
        bench_error(run, name, status);
        failed = 1;
    } else {
        bench_report(run, "dense", name, shape, 0, flops, &stats);
#ifdef CLNN_BENCH_OPENBLAS
        if (!with_bias) {
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
                double s = openblas_seconds(c, local.reps, hx, hw, hy);
                char peer[80];
                snprintf(peer, sizeof peer, "%s.openblas", c->name);
                bench_report_peer(run, "dense", peer, shape, 0, flops, s);
                printf("%-34s %-18s %10s %8s %9s %7s %9.2f\n", "  ratio clnn/OpenBLAS", shape,
                       "", "", "", "", s / stats.median_s);
            }
            free(hx), free(hw), free(hy);
        }
#endif
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
        {"dense.fwd.784-512", FORWARD, 256, 784, 512},
        {"dense.fwd.512-256", FORWARD, 256, 512, 256},
        {"dense.fwd.256-10", FORWARD, 256, 256, 10},
        {"dense.bwd_data.784-512", BACKWARD_DATA, 256, 784, 512},
        {"dense.bwd_data.512-256", BACKWARD_DATA, 256, 512, 256},
        {"dense.bwd_data.256-10", BACKWARD_DATA, 256, 256, 10},
        {"dense.bwd_weight.784-512", BACKWARD_WEIGHT, 256, 784, 512},
        {"dense.bwd_weight.512-256", BACKWARD_WEIGHT, 256, 512, 256},
        {"dense.bwd_weight.256-10", BACKWARD_WEIGHT, 256, 256, 10},
        {"dense.square.256", FORWARD, 256, 256, 256},
        {"dense.square.512", FORWARD, 512, 512, 512},
        {"dense.square.1024", FORWARD, 1024, 1024, 1024},
        {"dense.square.2048", FORWARD, 2048, 2048, 2048},
        /* no arithmetic to speak of: the cost of one launch and clFinish, the floor under every
         * row above (and why the 256-10 products cannot approach OpenBLAS's microseconds) */
        {"dense.launch_floor", FORWARD, 1, 1, 1},
    };
    int failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i)
        failures += bench_one(run, &cases[i], 0);
    failures += bench_one(run, &cases[0], 1); /* the bias epilogue's cost */
    return failures ? 1 : 0;
}
