/* Benchmarks of the init family at 10M elements: random initialisation (bytes = 4 * n written,
 * nothing read) and dropout forward/backward (bytes = 8 * n: read one tensor, write one). */
#include "bench_suites.h"

typedef struct init_args {
    clnn_tensor *a, *b;
    clnn_init_params params;
    int dropout_backward;
} init_args;

static clnn_status do_init(void *p)
{
    init_args *a = p;
    return clnn_init(a->a, &a->params);
}

static clnn_status do_dropout(void *p)
{
    init_args *a = p;
    if (a->dropout_backward)
        return clnn_dropout_backward(a->a, a->b, 0.5f, 1, 42, 7, 0.0f);
    return clnn_dropout_forward(a->a, a->b, 0.5f, 1, 42, 7);
}

int bench_suite_init(bench_run *run)
{
    /* [2500, 4000]: 10M weights, fan_in 4000 */
    size_t dims[2] = {2500, 4000};
    const double n = (double)dims[0] * (double)dims[1];
    static const struct {
        const char *name;
        clnn_init_kind kind;
    } inits[] = {
        {"init.uniform", CLNN_INIT_UNIFORM},
        {"init.normal", CLNN_INIT_NORMAL},
        {"init.trunc_normal", CLNN_INIT_TRUNC_NORMAL},
        {"init.kaiming_uniform", CLNN_INIT_KAIMING_UNIFORM},
        {"init.kaiming_normal", CLNN_INIT_KAIMING_NORMAL},
    };
    init_args args = {0};
    clnn_status status = clnn_tensor_create(run->ctx, 2, dims, &args.a);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_create(run->ctx, 2, dims, &args.b);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_fill(args.a, 1.0f);
    if (status != CLNN_SUCCESS) {
        bench_error(run, "init setup", status);
        goto done;
    }
    for (size_t i = 0; i < sizeof inits / sizeof inits[0]; ++i) {
        if (!bench_selected(run, inits[i].name))
            continue;
        clnn_init_params_default(inits[i].kind, &args.params);
        args.params.seed = 1234;
        bench_stats stats;
        status = bench_measure(run, do_init, &args, &stats);
        if (status != CLNN_SUCCESS)
            bench_error(run, inits[i].name, status);
        else
            bench_report(run, "init", inits[i].name, "2500x4000", 4.0 * n, 0, &stats);
    }
    /* refill: the init runs above overwrote a */
    if ((status = clnn_tensor_fill(args.a, 1.0f)) != CLNN_SUCCESS) {
        bench_error(run, "init dropout setup", status);
        goto done;
    }
    static const char *const drop_names[2] = {"init.dropout_forward", "init.dropout_backward"};
    for (int back = 0; back < 2; ++back) {
        if (!bench_selected(run, drop_names[back]))
            continue;
        args.dropout_backward = back;
        bench_stats stats;
        status = bench_measure(run, do_dropout, &args, &stats);
        if (status != CLNN_SUCCESS)
            bench_error(run, drop_names[back], status);
        else
            bench_report(run, "init", drop_names[back], "2500x4000 p=0.5", 8.0 * n, 0, &stats);
    }
done:
    clnn_tensor_destroy(args.a);
    clnn_tensor_destroy(args.b);
    return status == CLNN_SUCCESS ? 0 : 1;
}
