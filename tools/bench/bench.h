/*
 * The clnn-bench harness. A suite (tools/bench/suite_<family>.c) times operations with
 * bench_measure() and reports them with bench_report(), which prints the time, the achieved
 * bandwidth or FLOP rate, and the fraction of the device's copy bandwidth measured at the start
 * of the same run (or of a peak the suite measured, such as OpenBLAS's SGEMM).
 */
#ifndef CLNN_BENCH_H
#define CLNN_BENCH_H

#include "tool_common.h"

#include <stdio.h>

typedef struct bench_run {
    clnn_context *ctx;
    clnn_device_info device;
    int warmup;          /* untimed runs before timing (kernel builds, first-launch compiles) */
    int reps;            /* timed runs; the median is reported */
    const char *filter;  /* only benchmarks whose name contains this (NULL: all) */
    double copy_gbps;    /* clnn_tensor_copy bandwidth measured at the start of this run */
    size_t copy_floats;  /* floats copied for that figure */
    FILE *csv;           /* NULL: no CSV */
    FILE *json;          /* NULL: no JSON */
    int json_rows;
    int failures;        /* benchmarks that could not run */
    const char *device_selector; /* --device (NULL: clnn's default), for a second context */
    const char *against; /* --against: another build of libclnn to time in pairs (conv suite) */
} bench_run;

typedef struct bench_suite {
    const char *name;
    int (*run)(bench_run *run);
} bench_suite;

typedef struct bench_stats {
    double median_s, min_s, max_s; /* seconds per run */
    int reps;
} bench_stats;

/* Runs op(arg) run->warmup times, then run->reps times each followed by clnn_context_finish,
 * timing each. Returns the first failing status (after recording it in run->failures). */
typedef clnn_status (*bench_op)(void *arg);
clnn_status bench_measure(bench_run *run, bench_op op, void *arg, bench_stats *stats);

/* As bench_measure, but each timed run enqueues op(arg) `queued` times back to back before one
 * clnn_context_finish, and reports the time per op: the throughput of work issued as a training
 * step issues it, where bench_measure's figure includes one launch-to-finish round trip. */
clnn_status bench_measure_queued(bench_run *run, bench_op op, void *arg, int queued,
                                 bench_stats *stats);

/* 1 when the benchmark `name` passes the --filter. */
int bench_selected(const bench_run *run, const char *name);

/* Prints one row. bytes: minimum bytes the op must move (0: not memory-bound); flops: floating
 * point operations (0: none reported). */
void bench_report(bench_run *run, const char *suite, const char *name, const char *shape,
                  double bytes, double flops, const bench_stats *stats);

/* Prints a row for a peer measured outside clnn (OpenBLAS, ...), with the same columns. */
void bench_report_peer(bench_run *run, const char *suite, const char *name, const char *shape,
                       double bytes, double flops, double seconds);

/* Records and prints that a benchmark could not run. */
void bench_error(bench_run *run, const char *name, clnn_status status);

#endif
