/*
 * Training steps of whole models. mlp.train_step: the MLP engine's default model (784-512-256-10,
 * ReLU, batch norm, Adam, batch 256, inputs from the host). network.train_step: a network with a
 * residual block (784 -> 512 ReLU -> [512, batch norm + ReLU] + identity -> 10, Adam, batch 256),
 * inputs and int32 labels already on the device. Milliseconds per step, and GFLOP/s counting only
 * the GEMMs (forward, and both backward products except the input gradient of the first layer),
 * which dominate the step.
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

typedef struct network_args {
    clnn_network *net;
    clnn_tensor *x, *labels;
} network_args;

static clnn_status do_network_step(void *p)
{
    network_args *a = p;
    return clnn_network_train_step_tensors(a->net, a->x, a->labels, NULL);
}

static int bench_network(bench_run *run)
{
    const size_t batch = 256, in = 784, width = 512, out = 10;
    if (!bench_selected(run, "network.train_step"))
        return 0;
    network_args args = {NULL, NULL, NULL};
    clnn_activation_desc relu;
    clnn_activation_desc_init(&relu, CLNN_ACTIVATION_RELU);
    clnn_network_spec *spec = NULL;
    clnn_status status = clnn_network_spec_create(&spec, 1, &in);
    if (status == CLNN_SUCCESS)
        status = clnn_network_spec_add_dense(spec, width, &relu);
    if (status == CLNN_SUCCESS)
        status = clnn_network_spec_begin_residual(spec);
    if (status == CLNN_SUCCESS)
        status = clnn_network_spec_add_dense(spec, width, NULL);
    if (status == CLNN_SUCCESS)
        status = clnn_network_spec_add_batch_norm(spec, &relu);
    if (status == CLNN_SUCCESS)
        status = clnn_network_spec_end_residual(spec, CLNN_RESIDUAL_IDENTITY, NULL);
    if (status == CLNN_SUCCESS)
        status = clnn_network_spec_add_dense(spec, out, NULL);
    if (status == CLNN_SUCCESS)
        status = clnn_network_create(run->ctx, spec, NULL, batch, &args.net);
    size_t x_dims[2] = {batch, in};
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_create(run->ctx, 2, x_dims, &args.x);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_create_int32(run->ctx, 1, &batch, &args.labels);
    float *x = malloc(batch * in * sizeof *x);
    int32_t *labels = malloc(batch * sizeof *labels);
    if (status == CLNN_SUCCESS && (!x || !labels))
        status = CLNN_ERR_HOST_MEMORY;
    if (status == CLNN_SUCCESS) {
        uint64_t state = 54321;
        for (size_t i = 0; i < batch * in; ++i) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            x[i] = (float)((double)(state >> 11) * 0x1.0p-53 * 2.0 - 1.0);
        }
        for (size_t i = 0; i < batch; ++i)
            labels[i] = (int32_t)(i % out);
        status = clnn_tensor_upload(args.x, x, batch * in);
    }
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_upload_int32(args.labels, labels, batch);
    bench_stats stats;
    if (status == CLNN_SUCCESS)
        status = bench_measure(run, do_network_step, &args, &stats);
    if (status == CLNN_SUCCESS) {
        double b = (double)batch;
        double flops = 2.0 * (2.0 * b * in * width) + 3.0 * (2.0 * b * width * width) +
                       3.0 * (2.0 * b * width * out);
        bench_report(run, "mlp", "network.train_step", "784-512-[512]+-10 b256 device inputs", 0,
                     flops, &stats);
    } else {
        bench_error(run, "network.train_step", status);
    }
    clnn_network_destroy(args.net);
    clnn_network_spec_destroy(spec);
    clnn_tensor_destroy(args.x);
    clnn_tensor_destroy(args.labels);
    free(x);
    free(labels);
    return status == CLNN_SUCCESS ? 0 : 1;
}

int bench_suite_mlp(bench_run *run)
{
    int failures = bench_network(run);
    static const size_t widths[] = {784, 512, 256, 10};
    const size_t layers = sizeof widths / sizeof widths[0] - 1;
    mlp_args args = {NULL, NULL, NULL, 256};
    if (!bench_selected(run, "mlp.train_step"))
        return failures;
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
    return failures + (status == CLNN_SUCCESS ? 0 : 1);
}
