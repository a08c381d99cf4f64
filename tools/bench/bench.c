/* The clnn-bench harness: timing with warm-up, and one report format for every suite. */
#include "bench.h"

#include <string.h>

#define MAX_REPS 1000

int bench_selected(const bench_run *run, const char *name)
{
    return !run->filter || strstr(name, run->filter) != NULL;
}

void bench_error(bench_run *run, const char *name, clnn_status status)
{
    run->failures++;
    fprintf(stderr, "clnn-bench: %s failed: %s: %s\n", name, clnn_status_string(status),
            clnn_context_last_error(run->ctx));
}

clnn_status bench_measure(bench_run *run, bench_op op, void *arg, bench_stats *stats)
{
    return bench_measure_queued(run, op, arg, 1, stats);
}

clnn_status bench_measure_queued(bench_run *run, bench_op op, void *arg, int queued,
                                 bench_stats *stats)
{
    static double times[MAX_REPS];
    int reps = run->reps < 1 ? 1 : run->reps > MAX_REPS ? MAX_REPS : run->reps;
    if (queued < 1)
        queued = 1;
    clnn_status status = CLNN_SUCCESS;
    for (int i = 0; status == CLNN_SUCCESS && i < run->warmup; ++i)
        status = op(arg);
    if (status == CLNN_SUCCESS)
        status = clnn_context_finish(run->ctx);
    for (int i = 0; status == CLNN_SUCCESS && i < reps; ++i) {
        double t0 = tool_now();
        for (int q = 0; status == CLNN_SUCCESS && q < queued; ++q)
            status = op(arg);
        if (status == CLNN_SUCCESS)
            status = clnn_context_finish(run->ctx);
        times[i] = (tool_now() - t0) / queued;
    }
    if (status != CLNN_SUCCESS)
        return status;
    stats->reps = reps;
    stats->median_s = tool_median(times, reps); /* sorts times */
    stats->min_s = times[0];
    stats->max_s = times[reps - 1];
    return CLNN_SUCCESS;
}

static void emit(bench_run *run, const char *suite, const char *name, const char *shape,
                 double bytes, double flops, double median, double min, double max, int reps)
{
    double gbps = bytes > 0 ? bytes / median * 1e-9 : 0.0;
    double fraction = bytes > 0 && run->copy_gbps > 0 ? gbps / run->copy_gbps : 0.0;
    double gflops = flops > 0 ? flops / median * 1e-9 : 0.0;
    double spread = median > 0 ? 100.0 * (max - min) / median : 0.0;

    printf("%-34s %-18s %10.3f %7.0f%% ", name, shape, median * 1e3, spread);
    if (bytes > 0)
        printf("%9.1f %7.2f ", gbps, fraction);
    else
        printf("%9s %7s ", "-", "-");
    if (flops > 0)
        printf("%9.1f\n", gflops);
    else
        printf("%9s\n", "-");
    fflush(stdout);

    if (run->csv)
        fprintf(run->csv, "%s,%s,\"%s\",%.9g,%.9g,%.9g,%d,%.6g,%.6g,%.6g,%.6g\n", suite, name,
                shape, median, min, max, reps, bytes, gbps, fraction, gflops);
    if (run->json)
        fprintf(run->json,
                "%s    {\"suite\": \"%s\", \"name\": \"%s\", \"shape\": \"%s\", "
                "\"median_s\": %.9g, \"min_s\": %.9g, \"max_s\": %.9g, \"reps\": %d, "
                "\"bytes\": %.6g, \"gbps\": %.6g, \"fraction_of_copy\": %.6g, \"gflops\": %.6g}",
                run->json_rows++ ? ",\n" : "", suite, name, shape, median, min, max, reps, bytes,
                gbps, fraction, gflops);
}

void bench_report(bench_run *run, const char *suite, const char *name, const char *shape,
                  double bytes, double flops, const bench_stats *stats)
{
    emit(run, suite, name, shape, bytes, flops, stats->median_s, stats->min_s, stats->max_s,
         stats->reps);
}

void bench_report_peer(bench_run *run, const char *suite, const char *name, const char *shape,
                       double bytes, double flops, double seconds)
{
    emit(run, suite, name, shape, bytes, flops, seconds, seconds, seconds, 1);
}
