/*
 * Benchmarks of gradient clipping over 10M elements: the global norm alone (reads 4 bytes per
 * element; includes the transfer of the result to the host), over one tensor and over ten of 1M,
 * and clipping that scales at every call (norm, then read and write: 12 bytes per element), and
 * clipping by value (8 bytes per element).
 */
#include "bench_suites.h"

typedef struct clip_args {
    clnn_tensor *t[10];
    size_t count;
    clnn_norm_type type;
    float max_norm;
} clip_args;

static clnn_status do_norm(void *p)
{
    clip_args *a = p;
    float norm;
    return clnn_global_norm(a->t, a->count, a->type, &norm);
}

/* Halves max_norm at every call, so every call clips (the norm always exceeds it). */
static clnn_status do_clip_norm(void *p)
{
    clip_args *a = p;
    float norm;
    clnn_status status = clnn_clip_by_global_norm(a->t, a->count, a->max_norm, a->type, &norm);
    a->max_norm *= 0.5f;
    return status;
}

static clnn_status do_clip_value(void *p)
{
    clip_args *a = p;
    return clnn_clip_by_value(a->t, a->count, 0.5f);
}

int bench_suite_clip(bench_run *run)
{
    const size_t n = 10000000, part = n / 10;
    clip_args one = {{NULL}, 1, CLNN_NORM_L2, 100.0f}, ten = {{NULL}, 10, CLNN_NORM_L2, 100.0f};
    clnn_status status = clnn_tensor_create(run->ctx, 1, &n, &one.t[0]);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_fill(one.t[0], 0.25f);
    for (size_t k = 0; status == CLNN_SUCCESS && k < 10; ++k) {
        status = clnn_tensor_create(run->ctx, 1, &part, &ten.t[k]);
        if (status == CLNN_SUCCESS)
            status = clnn_tensor_fill(ten.t[k], 0.25f);
    }
    static const struct {
        const char *name;
        int list_of_ten;
        clnn_norm_type type;
        bench_op op;
        double bytes_per_element;
    } cases[] = {
        {"clip.global_norm_l2", 0, CLNN_NORM_L2, do_norm, 4},
        {"clip.global_norm_inf", 0, CLNN_NORM_INF, do_norm, 4},
        {"clip.global_norm_l2", 1, CLNN_NORM_L2, do_norm, 4},
        {"clip.clip_grad_norm_l2", 0, CLNN_NORM_L2, do_clip_norm, 12},
        {"clip.clip_grad_norm_l2", 1, CLNN_NORM_L2, do_clip_norm, 12},
        {"clip.clip_value", 0, CLNN_NORM_L2, do_clip_value, 8},
    };
    int failed = 0;
    if (status != CLNN_SUCCESS) {
        bench_error(run, "clip setup", status);
        failed = 1;
    }
    for (size_t c = 0; !failed && c < sizeof cases / sizeof cases[0]; ++c) {
        if (!bench_selected(run, cases[c].name))
            continue;
        clip_args *a = cases[c].list_of_ten ? &ten : &one;
        a->type = cases[c].type;
        bench_stats stats;
        status = bench_measure(run, cases[c].op, a, &stats);
        if (status == CLNN_SUCCESS)
            bench_report(run, "clip", cases[c].name, cases[c].list_of_ten ? "10x1M" : "10M",
                         cases[c].bytes_per_element * (double)n, 0, &stats);
        else
            bench_error(run, cases[c].name, status), failed = 1;
    }
    clnn_tensor_destroy(one.t[0]);
    for (size_t k = 0; k < 10; ++k)
        clnn_tensor_destroy(ten.t[k]);
    return failed;
}
