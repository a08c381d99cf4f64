/* Benchmarks of the core tensor operations: copy (the reference kernel), fill, host transfers. */
#include "bench_suites.h"

#include <stdlib.h>

typedef struct core_args {
    clnn_tensor *a, *b;
    float *host;
    size_t count;
} core_args;

static clnn_status do_copy(void *p)
{
    core_args *a = p;
    return clnn_tensor_copy(a->b, a->a);
}

static clnn_status do_fill(void *p)
{
    core_args *a = p;
    return clnn_tensor_fill(a->b, 0.5f);
}

static clnn_status do_upload(void *p)
{
    core_args *a = p;
    return clnn_tensor_upload(a->a, a->host, a->count);
}

static clnn_status do_download(void *p)
{
    core_args *a = p;
    return clnn_tensor_download(a->a, a->host, a->count);
}

int bench_suite_core(bench_run *run)
{
    core_args args = {NULL, NULL, NULL, (size_t)1 << 24};
    const double bytes = (double)args.count * sizeof(float);
    static const struct {
        const char *name;
        bench_op op;
        double bytes_factor;
    } cases[] = {
        {"core.copy", do_copy, 2.0},
        {"core.fill", do_fill, 1.0},
        {"core.upload", do_upload, 1.0},
        {"core.download", do_download, 1.0},
    };
    clnn_status status = clnn_tensor_create(run->ctx, 1, &args.count, &args.a);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_create(run->ctx, 1, &args.count, &args.b);
    if (status == CLNN_SUCCESS && !(args.host = calloc(args.count, sizeof(float))))
        status = CLNN_ERR_HOST_MEMORY;
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_fill(args.a, 1.0f);
    if (status != CLNN_SUCCESS) {
        bench_error(run, "core setup", status);
    } else {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
            if (!bench_selected(run, cases[i].name))
                continue;
            bench_stats stats;
            status = bench_measure(run, cases[i].op, &args, &stats);
            if (status != CLNN_SUCCESS)
                bench_error(run, cases[i].name, status);
            else
                bench_report(run, "core", cases[i].name, "16M", cases[i].bytes_factor * bytes, 0,
                             &stats);
        }
    }
    free(args.host);
    clnn_tensor_destroy(args.a);
    clnn_tensor_destroy(args.b);
    return status == CLNN_SUCCESS ? 0 : 1;
}
