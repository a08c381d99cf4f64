/*
 * Benchmarks of the activation family at 16M floats: every kind's forward (read x, write y),
 * backward (read x and dy, write dx) and, where offered, backward from the output; the fused
 * bias + activation on a 4096 x 4096 matrix (forward, backward with db); PReLU with one slope per
 * channel on 64 x 64 x 64 x 64. Bytes are the minimum each op moves; the harness prints them as a
 * fraction of the copy bandwidth measured in the same run.
 */
#include "bench_suites.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct act_args {
    clnn_context *ctx;
    clnn_activation_desc desc;
    clnn_tensor *x, *y, *dy, *dx, *b, *db, *w, *dw;
} act_args;

static clnn_status do_forward(void *p)
{
    act_args *a = p;
    return clnn_activation_forward(a->ctx, &a->desc, a->x, a->y);
}

static clnn_status do_backward(void *p)
{
    act_args *a = p;
    return clnn_activation_backward(a->ctx, &a->desc, a->x, a->dy, 0.0f, a->dx);
}

static clnn_status do_backward_from_output(void *p)
{
    act_args *a = p;
    return clnn_activation_backward_from_output(a->ctx, &a->desc, a->y, a->dy, 0.0f, a->dx);
}

static clnn_status do_bias_forward(void *p)
{
    act_args *a = p;
    return clnn_bias_activation_forward(a->ctx, &a->desc, a->x, a->b, NULL, a->y);
}

static clnn_status do_bias_backward(void *p)
{
    act_args *a = p;
    return clnn_bias_activation_backward(a->ctx, &a->desc, a->x, CLNN_ACTIVATION_SAVED_INPUT, NULL,
                                         a->dy, 0.0f, a->dx, 0.0f, a->db);
}

static clnn_status do_prelu_forward(void *p)
{
    act_args *a = p;
    return clnn_prelu_forward(a->ctx, a->x, a->w, a->y);
}

static clnn_status do_prelu_backward(void *p)
{
    act_args *a = p;
    return clnn_prelu_backward(a->ctx, a->x, a->w, a->dy, 0.0f, a->dx, 0.0f, a->dw);
}

/* PReLU with one slope per feature of (N, C) input; the bias vectors serve as slopes. */
static clnn_status do_prelu_rows_forward(void *p)
{
    act_args *a = p;
    return clnn_prelu_forward(a->ctx, a->x, a->b, a->y);
}

static clnn_status do_prelu_rows_backward(void *p)
{
    act_args *a = p;
    return clnn_prelu_backward(a->ctx, a->x, a->b, a->dy, 0.0f, a->dx, 0.0f, a->db);
}

static void measure(bench_run *run, const char *name, const char *shape, bench_op op,
                    act_args *args, double bytes)
{
    if (!bench_selected(run, name))
        return;
    bench_stats stats;
    clnn_status status = bench_measure(run, op, args, &stats);
    if (status != CLNN_SUCCESS)
        bench_error(run, name, status);
    else
        bench_report(run, "activation", name, shape, bytes, 0, &stats);
}

int bench_suite_activation(bench_run *run)
{
    const size_t n = (size_t)1 << 24;
    const double f = sizeof(float);
    size_t dims2[2] = {4096, 4096}, dims4[4] = {64, 64, 64, 64}, cols = 4096, channels = 64;
    act_args a = {run->ctx, {0}, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    clnn_status status = clnn_tensor_create(run->ctx, 1, &n, &a.x);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_create(run->ctx, 1, &n, &a.y);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_create(run->ctx, 1, &n, &a.dy);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_create(run->ctx, 1, &n, &a.dx);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_create(run->ctx, 1, &cols, &a.b);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_create(run->ctx, 1, &cols, &a.db);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_create(run->ctx, 1, &channels, &a.w);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_create(run->ctx, 1, &channels, &a.dw);
    /* Inputs of both signs, so every branch is taken (constant data would favour none). */
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_fill(a.dy, 0.25f);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_fill(a.b, -0.5f);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_fill(a.w, 0.25f);
    if (status == CLNN_SUCCESS) {
        float *host = malloc(n * sizeof *host);
        if (!host) {
            status = CLNN_ERR_HOST_MEMORY;
        } else {
            uint64_t s = 0x9e3779b97f4a7c15ull;
            for (size_t i = 0; i < n; ++i) {
                s = s * 6364136223846793005ull + 1442695040888963407ull;
                host[i] = (float)((double)(s >> 40) / (double)(1ull << 24) * 16.0 - 8.0);
            }
            status = clnn_tensor_upload(a.x, host, n);
            free(host);
        }
    }
    if (status != CLNN_SUCCESS) {
        bench_error(run, "activation setup", status);
        goto done;
    }

    char name[96];
    for (int k = 0; k < CLNN_ACTIVATION_COUNT; ++k) {
        clnn_activation_desc_init(&a.desc, (clnn_activation)k);
        const char *kind = clnn_activation_name((clnn_activation)k);
        snprintf(name, sizeof name, "activation.%s.forward", kind);
        measure(run, name, "16M", do_forward, &a, 2 * n * f);
        snprintf(name, sizeof name, "activation.%s.backward", kind);
        measure(run, name, "16M", do_backward, &a, 3 * n * f);
        if (clnn_activation_has_output_backward((clnn_activation)k)) {
            /* y must hold this kind's output */
            if ((status = clnn_activation_forward(run->ctx, &a.desc, a.x, a.y)) != CLNN_SUCCESS) {
                bench_error(run, kind, status);
                continue;
            }
            snprintf(name, sizeof name, "activation.%s.backward_from_output", kind);
            measure(run, name, "16M", do_backward_from_output, &a, 3 * n * f);
        }
    }

    /* Fused bias + activation on 4096 x 4096 (relu and gelu): forward reads x and b, writes y;
     * backward reads z and dy, writes dx and db. */
    static const clnn_activation bias_kinds[] = {CLNN_ACTIVATION_RELU, CLNN_ACTIVATION_GELU};
    for (size_t i = 0; i < 2; ++i) {
        clnn_activation_desc_init(&a.desc, bias_kinds[i]);
        if ((status = clnn_tensor_reshape(a.x, 2, dims2)) != CLNN_SUCCESS ||
            (status = clnn_tensor_reshape(a.y, 2, dims2)) != CLNN_SUCCESS ||
            (status = clnn_tensor_reshape(a.dy, 2, dims2)) != CLNN_SUCCESS ||
            (status = clnn_tensor_reshape(a.dx, 2, dims2)) != CLNN_SUCCESS) {
            bench_error(run, "activation reshape", status);
            goto done;
        }
        const char *kind = clnn_activation_name(bias_kinds[i]);
        snprintf(name, sizeof name, "activation.bias_%s.forward", kind);
        measure(run, name, "4096x4096", do_bias_forward, &a, (2.0 * n + cols) * f);
        snprintf(name, sizeof name, "activation.bias_%s.backward", kind);
        measure(run, name, "4096x4096", do_bias_backward, &a, (3.0 * n + cols) * f);
    }
    /* PReLU on the same (N, C) matrix, a slope per feature. */
    measure(run, "activation.prelu.forward", "4096x4096", do_prelu_rows_forward, &a,
            (2.0 * n + cols) * f);
    measure(run, "activation.prelu.backward", "4096x4096", do_prelu_rows_backward, &a,
            (3.0 * n + 2.0 * cols) * f);

    /* PReLU, 64 channels on 64 x 64 x 64 x 64. */
    if ((status = clnn_tensor_reshape(a.x, 4, dims4)) != CLNN_SUCCESS ||
        (status = clnn_tensor_reshape(a.y, 4, dims4)) != CLNN_SUCCESS ||
        (status = clnn_tensor_reshape(a.dy, 4, dims4)) != CLNN_SUCCESS ||
        (status = clnn_tensor_reshape(a.dx, 4, dims4)) != CLNN_SUCCESS) {
        bench_error(run, "activation reshape", status);
        goto done;
    }
    measure(run, "activation.prelu.forward", "64x64x64x64", do_prelu_forward, &a, 2.0 * n * f);
    measure(run, "activation.prelu.backward", "64x64x64x64", do_prelu_backward, &a, 3.0 * n * f);
    status = CLNN_SUCCESS;

done:
    clnn_tensor_destroy(a.x), clnn_tensor_destroy(a.y), clnn_tensor_destroy(a.dy),
        clnn_tensor_destroy(a.dx), clnn_tensor_destroy(a.b), clnn_tensor_destroy(a.db),
        clnn_tensor_destroy(a.w), clnn_tensor_destroy(a.dw);
    return status == CLNN_SUCCESS ? 0 : 1;
}
