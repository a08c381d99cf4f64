/* Benchmarks of the losses: cross-entropy (loss and gradient in one pass) on (4096, 1000), with
 * the loss left on the device; softmax forward and backward on the same shape. Bytes: logits read,
 * gradient written, labels read; softmax backward reads y and dy and writes dx. */
#include "bench_suites.h"

#include <stdlib.h>

typedef struct loss_args {
    clnn_context *ctx;
    clnn_tensor *z, *dz, *y, *loss;
    clnn_tensor *labels;
} loss_args;

static clnn_status ce(void *p)
{
    loss_args *a = p;
    return clnn_cross_entropy(a->ctx, a->z, a->labels, NULL, a->loss, a->dz);
}

static clnn_status softmax(void *p)
{
    loss_args *a = p;
    return clnn_softmax_forward(a->ctx, a->z, a->dz);
}

/* dx (dz) from the softmax y of the logits and an upstream gradient (the logits themselves). */
static clnn_status softmax_backward(void *p)
{
    loss_args *a = p;
    return clnn_softmax_backward(a->ctx, a->y, a->z, a->dz);
}

int bench_suite_loss(bench_run *run)
{
    const size_t N = 4096, C = 1000, dims[2] = {N, C}, one = 1;
    loss_args a = {run->ctx, NULL, NULL, NULL, NULL, NULL};
    int32_t *labels = malloc(N * sizeof *labels);
    float *z = malloc(N * C * sizeof *z);
    clnn_status s = labels && z ? CLNN_SUCCESS : CLNN_ERR_HOST_MEMORY;
    if (s == CLNN_SUCCESS) {
        for (size_t i = 0; i < N; ++i)
            labels[i] = (int32_t)((i * 7919u) % C);
        for (size_t i = 0; i < N * C; ++i)
            z[i] = (float)((i * 2654435761u) % 1000u) / 100.0f - 5.0f;
        s = clnn_tensor_create_int32(run->ctx, 1, &N, &a.labels);
    }
    if (s == CLNN_SUCCESS)
        s = clnn_tensor_upload_int32(a.labels, labels, N);
    if (s == CLNN_SUCCESS)
        s = clnn_tensor_create(run->ctx, 2, dims, &a.z);
    if (s == CLNN_SUCCESS)
        s = clnn_tensor_create(run->ctx, 2, dims, &a.dz);
    if (s == CLNN_SUCCESS)
        s = clnn_tensor_create(run->ctx, 2, dims, &a.y);
    if (s == CLNN_SUCCESS)
        s = clnn_tensor_create(run->ctx, 1, &one, &a.loss);
    if (s == CLNN_SUCCESS)
        s = clnn_tensor_upload(a.z, z, N * C);
    if (s == CLNN_SUCCESS)
        s = clnn_softmax_forward(run->ctx, a.z, a.y);
    int failed = 0;
    if (s != CLNN_SUCCESS) {
        bench_error(run, "loss setup", s);
        failed = 1;
    } else {
        bench_stats st;
        const double bytes = 2.0 * N * C * sizeof(float) + N * sizeof(cl_int);
        if (bench_selected(run, "loss.cross_entropy")) {
            if ((s = bench_measure(run, ce, &a, &st)) != CLNN_SUCCESS) {
                bench_error(run, "loss.cross_entropy", s);
                failed = 1;
            } else {
                bench_report(run, "loss", "loss.cross_entropy", "4096x1000", bytes, 0, &st);
            }
        }
        if (bench_selected(run, "loss.softmax")) {
            if ((s = bench_measure(run, softmax, &a, &st)) != CLNN_SUCCESS) {
                bench_error(run, "loss.softmax", s);
                failed = 1;
            } else {
                bench_report(run, "loss", "loss.softmax", "4096x1000",
                             2.0 * N * C * sizeof(float), 0, &st);
            }
        }
        if (bench_selected(run, "loss.softmax_backward")) {
            if ((s = bench_measure(run, softmax_backward, &a, &st)) != CLNN_SUCCESS) {
                bench_error(run, "loss.softmax_backward", s);
                failed = 1;
            } else {
                bench_report(run, "loss", "loss.softmax_backward", "4096x1000",
                             3.0 * N * C * sizeof(float), 0, &st);
            }
        }
    }
    clnn_tensor_destroy(a.labels);
    clnn_tensor_destroy(a.z), clnn_tensor_destroy(a.dz), clnn_tensor_destroy(a.y);
    clnn_tensor_destroy(a.loss);
    free(labels), free(z);
    return failed;
}
