/*
 * Benchmarks of pooling on the default CNN's shapes (batch 128): 2x2 max pooling of its two
 * stages (forward with the arg-max indices, and the backward gather), 3x3 stride-2 average
 * pooling with padding (overlapping windows), and global average pooling. Pooling moves data and
 * barely computes, so each figure is in bytes (inputs read, outputs and indices written) beside
 * the copy bandwidth measured in the same run.
 */
#include "bench_suites.h"

#include <stdio.h>

typedef struct pool_args {
    clnn_context *ctx;
    clnn_pool2d_desc desc;
    clnn_tensor *x, *y, *dy, *dx, *indices;
} pool_args;

static clnn_status do_forward(void *p)
{
    pool_args *a = p;
    return clnn_pool2d_forward(a->ctx, &a->desc, a->x, a->y, a->indices);
}

static clnn_status do_backward(void *p)
{
    pool_args *a = p;
    return clnn_pool2d_backward(a->ctx, &a->desc, a->dy, a->indices, 0.0f,
                                a->dx);
}

static clnn_status do_gap_forward(void *p)
{
    pool_args *a = p;
    return clnn_global_avg_pool_forward(a->ctx, a->x, a->y);
}

static clnn_status do_gap_backward(void *p)
{
    pool_args *a = p;
    return clnn_global_avg_pool_backward(a->ctx, a->dy, 0.0f, a->dx);
}

static void release(pool_args *a)
{
    clnn_tensor *all[] = {a->x, a->y, a->dy, a->dx, a->indices};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        clnn_tensor_destroy(all[i]);
}

/* Tensors for pooling N x C x H x W with `desc` (global average when desc is NULL). */
static clnn_status make(clnn_context *ctx, const clnn_pool2d_desc *desc, size_t N, size_t C,
                        size_t H, size_t W, pool_args *a, size_t *out_count)
{
    size_t oh = 1, ow = 1;
    clnn_status status = desc ? clnn_pool2d_output_size(desc, H, W, &oh, &ow) : CLNN_SUCCESS;
    size_t in[4] = {N, C, H, W}, out[4] = {N, C, oh, ow};
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_create(ctx, 4, in, &a->x);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_create(ctx, 4, in, &a->dx);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_create(ctx, 4, out, &a->y);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_create(ctx, 4, out, &a->dy);
    if (status == CLNN_SUCCESS && desc && desc->kind == CLNN_POOL_MAX)
        status = clnn_tensor_create_int32(ctx, 4, out, &a->indices);
    /* Random values, as activations are: with a constant, every comparison of max pooling goes
     * the same way, which hid a branchy kernel's mispredictions (0.5 ms here, 1.3-1.9 ms in
     * training). */
    clnn_tensor *filled[] = {a->x, a->dy};
    for (size_t i = 0; status == CLNN_SUCCESS && i < 2; ++i)
        status = clnn_init_uniform(filled[i], -1.0f, 1.0f, 1 + i);
    a->ctx = ctx;
    if (desc)
        a->desc = *desc;
    *out_count = N * C * oh * ow;
    return status;
}

int bench_suite_pool(bench_run *run)
{
    static const struct {
        const char *name;
        clnn_pool_kind kind; /* CLNN_POOL_KIND_COUNT: global average */
        size_t k, s, p, N, C, H, W;
    } shapes[] = {
        {"pool.max2", CLNN_POOL_MAX, 2, 2, 0, 128, 32, 28, 28},
        {"pool.max2", CLNN_POOL_MAX, 2, 2, 0, 128, 64, 14, 14},
        {"pool.avg3s2p1", CLNN_POOL_AVERAGE, 3, 2, 1, 128, 64, 14, 14},
        {"pool.global_avg", CLNN_POOL_KIND_COUNT, 0, 0, 0, 128, 64, 7, 7},
    };
    int failed = 0;
    for (size_t i = 0; !failed && i < sizeof shapes / sizeof shapes[0]; ++i) {
        if (!bench_selected(run, shapes[i].name))
            continue;
        int global = shapes[i].kind == CLNN_POOL_KIND_COUNT;
        clnn_pool2d_desc desc;
        if (!global) {
            clnn_pool2d_desc_init(&desc, shapes[i].kind, shapes[i].k, shapes[i].k);
            desc.stride[0] = desc.stride[1] = shapes[i].s;
            desc.padding[0] = desc.padding[1] = shapes[i].p;
        }
        pool_args a = {0};
        size_t out = 0, in = shapes[i].N * shapes[i].C * shapes[i].H * shapes[i].W;
        clnn_status status = make(run->ctx, global ? NULL : &desc, shapes[i].N, shapes[i].C,
                                  shapes[i].H, shapes[i].W, &a, &out);
        char shape[64], name[64];
        snprintf(shape, sizeof shape, "%zux%zux%zux%zu", shapes[i].N, shapes[i].C, shapes[i].H,
                 shapes[i].W);
        /* Bytes: x read and y written forward; dy read and dx written backward (max: the indices
         * too, 4 bytes each way). */
        double index_bytes = a.indices ? 4.0 * (double)out : 0.0;
        const struct {
            const char *pass;
            bench_op op;
            double bytes;
        } passes[] = {
            {"fwd", global ? do_gap_forward : do_forward, 4.0 * (double)(in + out) + index_bytes},
            {"bwd", global ? do_gap_backward : do_backward, 4.0 * (double)(in + out) + index_bytes},
        };
        for (size_t p = 0; status == CLNN_SUCCESS && p < 2; ++p) {
            bench_stats stats;
            snprintf(name, sizeof name, "%s.%s", shapes[i].name, passes[p].pass);
            status = bench_measure(run, passes[p].op, &a, &stats);
            if (status == CLNN_SUCCESS)
                bench_report(run, "pool", name, shape, passes[p].bytes, 0, &stats);
        }
        if (status != CLNN_SUCCESS)
            bench_error(run, shapes[i].name, status), failed = 1;
        release(&a);
    }
    return failed;
}
