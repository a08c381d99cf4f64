/*
 * The MLP engine's training step on the default model (784-512-256-10, ReLU, batch norm, Adam,
 * batch 256): milliseconds per step, and GFLOP/s counting only the GEMMs (forward, and both
 * backward products except the input gradient of the first layer), which dominate the step.
 */
#include "bench_suites.h"

#include <stdlib.h>

typedef struct mlp_args {
    clnn_mlp *mlp;
    float *x;
    int32_t *labels;
    size_t batch;
} mlp_args;

static clnn_status do_step(void *p)
{
    mlp_args *a = p;
    return clnn_mlp_train_step(a->mlp, a->x, a->labels, a->batch, NULL);
}

int bench_suite_mlp(bench_run *run)
{
    static const size_t widths[] = {784, 512, 256, 10};
    const size_t layers = sizeof widths / sizeof widths[0] - 1;
    mlp_args args = {NULL, NULL, NULL, 256};
    if (!bench_selected(run, "mlp.train_step"))
        return 0;
    clnn_mlp_spec spec;
    clnn_status status = clnn_mlp_spec_init(&spec, widths[0], widths[layers]);
    for (size_t l = 1; status == CLNN_SUCCESS && l < layers; ++l)
        status = clnn_mlp_spec_add_layer(&spec, widths[l], CLNN_ACTIVATION_RELU, 1, 0.0f);
    if (status == CLNN_SUCCESS)
        status = clnn_mlp_create(run->ctx, &spec, NULL, args.batch, &args.mlp);
    args.x = malloc(args.batch * widths[0] * sizeof *args.x);
    args.labels = malloc(args.batch * sizeof *args.labels);
    if (status == CLNN_SUCCESS && (!args.x || !args.labels))
        status = CLNN_ERR_HOST_MEMORY;
    if (status == CLNN_SUCCESS) {
        uint64_t state = 12345;
        for (size_t i = 0; i < args.batch * widths[0]; ++i) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            args.x[i] = (float)((double)(state >> 11) * 0x1.0p-53 * 2.0 - 1.0);
        }
        for (size_t i = 0; i < args.batch; ++i)
            args.labels[i] = (int32_t)(i % widths[layers]);
    }
    bench_stats stats;
    if (status == CLNN_SUCCESS)
        status = bench_measure(run, do_step, &args, &stats);
    if (status == CLNN_SUCCESS) {
        double flops = 0;
        for (size_t l = 0; l < layers; ++l) {
            double gemm = 2.0 * (double)args.batch * (double)widths[l] * (double)widths[l + 1];
            flops += gemm * (l == 0 ? 2.0 : 3.0); /* forward, dW, and dX except for layer 0 */
        }
        bench_report(run, "mlp", "mlp.train_step", "784-512-256-10 b256", 0, flops, &stats);
    } else {
        bench_error(run, "mlp.train_step", status);
    }
    clnn_mlp_destroy(args.mlp);
    free(args.x);
    free(args.labels);
    return status == CLNN_SUCCESS ? 0 : 1;
}
