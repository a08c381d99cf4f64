/* Helpers shared by the clnn programs (see tool_common.h). */
#define _POSIX_C_SOURCE 200809L
#include "tool_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

double tool_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void tool_sleep(double seconds)
{
    struct timespec ts = {(time_t)seconds, (long)(1e9 * (seconds - (double)(time_t)seconds))};
    while (nanosleep(&ts, &ts) != 0)
        ; /* interrupted by a signal: sleep the rest */
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double tool_median(double *values, int n)
{
    qsort(values, (size_t)n, sizeof *values, compare_doubles);
    return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

clnn_status tool_copy_bandwidth(clnn_context *ctx, size_t count, int reps, double *gbps)
{
    clnn_tensor *a = NULL, *b = NULL;
    double times[64];
    if (reps < 1)
        reps = 1;
    if (reps > 64)
        reps = 64;
    clnn_status status = clnn_tensor_create(ctx, 1, &count, &a);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_create(ctx, 1, &count, &b);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_fill(a, 1.0f);
    /* Warm-up: build, first launch, first touch of the pages, clock ramp-up. */
    for (int w = 0; status == CLNN_SUCCESS && w < 3; ++w)
        status = clnn_tensor_copy(b, a);
    if (status == CLNN_SUCCESS)
        status = clnn_context_finish(ctx);
    for (int r = 0; status == CLNN_SUCCESS && r < reps; ++r) {
        double t0 = tool_now();
        status = clnn_tensor_copy(b, a);
        if (status == CLNN_SUCCESS)
            status = clnn_context_finish(ctx);
        times[r] = tool_now() - t0;
    }
    if (status == CLNN_SUCCESS)
        *gbps = 2.0 * (double)count * sizeof(float) / tool_median(times, reps) * 1e-9;
    clnn_tensor_destroy(a);
    clnn_tensor_destroy(b);
    return status;
}

int tool_fail(const char *what, clnn_status status, const clnn_context *ctx)
{
    fprintf(stderr, "clnn: %s: %s: %s\n", what, clnn_status_string(status),
            clnn_context_last_error(ctx));
    return 1;
}
