/*
 * Benchmarks of the optimiser steps on one tensor of 10M parameters. Bytes: the parameter, the
 * gradient and every state tensor the step uses, each read once, and the parameter and state
 * written once (4 bytes each): plain SGD 12, SGD with momentum, RMSprop and Adagrad 20, Adam and
 * AdamW 28 bytes per parameter. The first step (untimed warm-up) is the only one that skips
 * reading SGD's momentum buffer.
 */
#include "bench_suites.h"

#include <stdio.h>

typedef struct optim_args {
    clnn_optimizer *opt;
    clnn_tensor *grad;
} optim_args;

static clnn_status do_step(void *p)
{
    optim_args *a = p;
    return clnn_optimizer_step(a->opt, &a->grad, 1);
}

int bench_suite_optim(bench_run *run)
{
    const size_t n = 10000000;
    static const struct {
        const char *name;
        clnn_optimizer_kind kind;
        double momentum;
        int centered, amsgrad;
        int floats_moved; /* per parameter: reads + writes */
    } cases[] = {
        {"optim.sgd", CLNN_OPTIMIZER_SGD, 0.0, 0, 0, 3},
        {"optim.sgd_momentum", CLNN_OPTIMIZER_SGD, 0.9, 0, 0, 5},
        {"optim.rmsprop", CLNN_OPTIMIZER_RMSPROP, 0.0, 0, 0, 5},
        {"optim.rmsprop_centered_momentum", CLNN_OPTIMIZER_RMSPROP, 0.9, 1, 0, 9},
        {"optim.adam", CLNN_OPTIMIZER_ADAM, 0.0, 0, 0, 7},
        {"optim.adam_amsgrad", CLNN_OPTIMIZER_ADAM, 0.0, 0, 1, 9},
        {"optim.adamw", CLNN_OPTIMIZER_ADAMW, 0.0, 0, 0, 7},
        {"optim.adagrad", CLNN_OPTIMIZER_ADAGRAD, 0.0, 0, 0, 5},
    };
    clnn_tensor *param = NULL, *grad = NULL;
    clnn_status status = clnn_tensor_create(run->ctx, 1, &n, &param);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_create(run->ctx, 1, &n, &grad);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_fill(param, 0.5f);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_fill(grad, 1e-3f);
    if (status != CLNN_SUCCESS) {
        bench_error(run, "optim setup", status);
        clnn_tensor_destroy(param);
        clnn_tensor_destroy(grad);
        return 1;
    }
    int failed = 0;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
        if (!bench_selected(run, cases[c].name))
            continue;
        clnn_optimizer_options o;
        clnn_optimizer_options_init(&o, cases[c].kind);
        o.momentum = cases[c].momentum;
        o.centered = cases[c].centered;
        o.amsgrad = cases[c].amsgrad;
        optim_args args = {NULL, grad};
        bench_stats stats;
        status = clnn_optimizer_create(run->ctx, &o, &param, 1, &args.opt);
        if (status == CLNN_SUCCESS)
            status = bench_measure(run, do_step, &args, &stats);
        if (status == CLNN_SUCCESS)
            bench_report(run, "optim", cases[c].name, "10M",
                         (double)cases[c].floats_moved * (double)n * sizeof(float), 0, &stats);
        else
            bench_error(run, cases[c].name, status), failed = 1;
        clnn_optimizer_destroy(args.opt);
    }
    clnn_tensor_destroy(param);
    clnn_tensor_destroy(grad);
    return failed;
}
