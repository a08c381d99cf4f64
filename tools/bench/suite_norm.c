/* Benchmarks of batch norm (training forward and backward) and layer norm. Bytes are the minimum
 * an op must move: forward reads x and writes y; backward reads x and dy and writes dx; the
 * per-channel (or per-row) vectors read and written are counted too. */
#include "bench_suites.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct norm_args {
    clnn_context *ctx;
    clnn_tensor *x, *y, *dy, *dx, *gamma, *beta, *rm, *rv, *sm, *si, *dg, *db;
} norm_args;

static clnn_status bn_fwd(void *p)
{
    norm_args *a = p;
    return clnn_batch_norm_forward_training(a->ctx, a->x, a->gamma, a->beta, a->rm, a->rv, 0.1f,
                                            1e-5f, a->y, a->sm, a->si);
}

static clnn_status bn_bwd(void *p)
{
    norm_args *a = p;
    return clnn_batch_norm_backward(a->ctx, a->x, a->dy, a->gamma, a->sm, a->si, a->dx, a->dg,
                                    a->db, 0.0f);
}

static clnn_status ln_fwd(void *p)
{
    norm_args *a = p;
    return clnn_layer_norm_forward(a->ctx, a->x, a->gamma, a->beta, 1e-5f, a->y, a->sm, a->si);
}

static clnn_status ln_bwd(void *p)
{
    norm_args *a = p;
    return clnn_layer_norm_backward(a->ctx, a->x, a->dy, a->gamma, a->sm, a->si, a->dx, a->dg,
                                    a->db, 0.0f);
}

static void destroy(norm_args *a)
{
    clnn_tensor *all[] = {a->x, a->y, a->dy, a->dx, a->gamma, a->beta,
                          a->rm, a->rv, a->sm, a->si, a->dg, a->db};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        clnn_tensor_destroy(all[i]);
}

/* vec: length of the parameter vectors (C or D); stat: length of the saved statistics. */
static clnn_status setup(clnn_context *ctx, int ndim, const size_t *dims, size_t vec, size_t stat,
                         norm_args *a)
{
    a->ctx = ctx;
    clnn_status s = CLNN_SUCCESS;
    clnn_tensor **big[] = {&a->x, &a->y, &a->dy, &a->dx};
    clnn_tensor **v[] = {&a->gamma, &a->beta, &a->rm, &a->rv, &a->dg, &a->db};
    clnn_tensor **st[] = {&a->sm, &a->si};
    for (size_t i = 0; i < 4 && s == CLNN_SUCCESS; ++i)
        if ((s = clnn_tensor_create(ctx, ndim, dims, big[i])) == CLNN_SUCCESS)
            s = clnn_tensor_fill(*big[i], 0.5f + 0.25f * (float)i);
    for (size_t i = 0; i < 6 && s == CLNN_SUCCESS; ++i)
        if ((s = clnn_tensor_create(ctx, 1, &vec, v[i])) == CLNN_SUCCESS)
            s = clnn_tensor_fill(*v[i], 1.0f);
    for (size_t i = 0; i < 2 && s == CLNN_SUCCESS; ++i)
        if ((s = clnn_tensor_create(ctx, 1, &stat, st[i])) == CLNN_SUCCESS)
            s = clnn_tensor_fill(*st[i], 1.0f);
    return s;
}

int bench_suite_norm(bench_run *run)
{
    static const struct {
        const char *name, *shape;
        int ndim, ln;
        size_t dims[4];
    } shapes[] = {
        {"bn", "256x4096", 2, 0, {256, 4096, 1, 1}},
        {"bn", "64x64x56x56", 4, 0, {64, 64, 56, 56}},
        {"ln", "256x4096", 2, 1, {256, 4096, 1, 1}},
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; ++i) {
        size_t count = 1;
        for (int d = 0; d < shapes[i].ndim; ++d)
            count *= shapes[i].dims[d];
        size_t vec = shapes[i].ln ? shapes[i].dims[shapes[i].ndim - 1] : shapes[i].dims[1];
        size_t stat = shapes[i].ln ? count / vec : vec;
        char fname[64], bname[64];
        snprintf(fname, sizeof fname, "%s.forward_training", shapes[i].name);
        snprintf(bname, sizeof bname, "%s.backward", shapes[i].name);
        if (shapes[i].ln)
            snprintf(fname, sizeof fname, "%s.forward", shapes[i].name);
        if (!bench_selected(run, fname) && !bench_selected(run, bname))
            continue;
        norm_args a = {0};
        clnn_status s = setup(run->ctx, shapes[i].ndim, shapes[i].dims, vec, stat, &a);
        if (s != CLNN_SUCCESS) {
            bench_error(run, fname, s);
            destroy(&a);
            failed = 1;
            continue;
        }
        const double f = sizeof(float);
        /* forward: x, y; gamma, beta (+ running stats read and written for bn); saved stats. */
        double fwd_bytes = 2.0 * count * f + (shapes[i].ln ? 2.0 * vec : 6.0 * vec) * f +
                           2.0 * stat * f;
        /* backward: x, dy, dx; gamma, dgamma, dbeta; saved stats. */
        double bwd_bytes = 3.0 * count * f + 3.0 * vec * f + 2.0 * stat * f;
        bench_stats st;
        if (bench_selected(run, fname)) {
            s = bench_measure(run, shapes[i].ln ? ln_fwd : bn_fwd, &a, &st);
            if (s != CLNN_SUCCESS) {
                bench_error(run, fname, s);
                failed = 1;
            } else {
                bench_report(run, "norm", fname, shapes[i].shape, fwd_bytes, 0, &st);
            }
        }
        if (bench_selected(run, bname)) {
            s = bench_measure(run, shapes[i].ln ? ln_bwd : bn_bwd, &a, &st);
            if (s != CLNN_SUCCESS) {
                bench_error(run, bname, s);
                failed = 1;
            } else {
                bench_report(run, "norm", bname, shapes[i].shape, bwd_bytes, 0, &st);
            }
        }
        destroy(&a);
    }
    return failed;
}
