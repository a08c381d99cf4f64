/*
 * clnn-bench: times clnn's kernels on one device. It first measures the device's copy bandwidth
 * (clnn_tensor_copy: float4 per work-item, 16 floats with prefetch on CPUs), then runs each
 * suite, printing every figure beside that limit.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "bench.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_suites.h"
#include "bench_suite_table.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: clnn-bench [options]\n"
            "  --device SELECTOR   device (P:D, an index, or part of a name; default CLNN_DEVICE,\n"
            "                      else the first GPU, else the first CPU)\n"
            "  --suite NAME[,..]   only these suites (default: all); --list names them\n"
            "  --filter TEXT       only benchmarks whose name contains TEXT\n"
            "  --reps N            timed repetitions, median reported (default 10)\n"
            "  --warmup N          untimed runs first (default 2)\n"
            "  --copy-size FLOATS  floats in the copy-bandwidth measurement (default 16777216)\n"
            "  --against LIB       conv suite: time each pass in pairs with another build of\n"
            "                      libclnn (LIB, a libclnn.so path), alternating in this process,\n"
            "                      and print the median ratio of the pairs instead of oneDNN\n"
            "  --csv FILE          also write rows as CSV\n"
            "  --json FILE         also write rows as JSON\n"
            "  --list              list the suites and exit\n");
}

/* POCL's pthread device runs work-groups on worker threads that sleep between commands. On the
 * 2-vCPU VM Linux often wakes both on one vCPU and leaves them there for the length of a launch,
 * so that a process times every pass at one core's speed for many launches in a row
 * (bench/README); in training the workers stay busy and spread. POCL_AFFINITY=1 makes POCL pin
 * its worker i to CPU i. clnn-bench sets it before its first OpenCL call, unless the environment
 * sets it or sizes POCL's pool, and only where this process may run on every online CPU, numbered
 * 0 .. n-1 (some POCL versions abort when a pin fails). Returns what it did, for the header. */
static const char *pin_pocl_workers(void)
{
    if (getenv("POCL_AFFINITY"))
        return "POCL_AFFINITY as the environment sets it";
    if (getenv("POCL_MAX_PTHREAD_COUNT") || getenv("POCL_CPU_MAX_CU_COUNT"))
        return "POCL's workers not pinned (the environment sizes its pool)";
    cpu_set_t allowed;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int every = online >= 1 && online <= CPU_SETSIZE &&
                sched_getaffinity(0, sizeof allowed, &allowed) == 0 &&
                CPU_COUNT(&allowed) == online;
    for (long i = 0; every && i < online; ++i)
        every = CPU_ISSET((int)i, &allowed);
    if (!every || setenv("POCL_AFFINITY", "1", 0) != 0)
        return "POCL's workers not pinned (this process may not run on every CPU)";
    return "POCL_AFFINITY=1 (set by clnn-bench: POCL's workers pinned, one a CPU)";
}

static int parse_int(const char *s, int min, int max, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

static int suite_chosen(const char *list, const char *name)
{
    if (!list)
        return 1;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        p += len + (comma ? 1 : 0);
    }
    return 0;
}

int main(int argc, char **argv)
{
    bench_run run = {0};
    run.warmup = 2;
    run.reps = 10;
    run.copy_floats = (size_t)1 << 24;
    const char *device = NULL, *suites = NULL, *csv = NULL, *json = NULL;

    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int n;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--list")) {
            for (const bench_suite *s = bench_suites; s->name; ++s)
                printf("%s\n", s->name);
            return 0;
        } else if (v && !strcmp(a, "--device")) {
            device = v, ++i;
        } else if (v && !strcmp(a, "--suite")) {
            suites = v, ++i;
        } else if (v && !strcmp(a, "--filter")) {
            run.filter = v, ++i;
        } else if (v && !strcmp(a, "--csv")) {
            csv = v, ++i;
        } else if (v && !strcmp(a, "--against")) {
            run.against = v, ++i;
        } else if (v && !strcmp(a, "--json")) {
            json = v, ++i;
        } else if (v && !strcmp(a, "--reps") && parse_int(v, 1, 1000, &n) == 0) {
            run.reps = n, ++i;
        } else if (v && !strcmp(a, "--warmup") && parse_int(v, 0, 100, &n) == 0) {
            run.warmup = n, ++i;
        } else if (v && !strcmp(a, "--copy-size") && parse_int(v, 4, 0x7fffffff, &n) == 0) {
            run.copy_floats = (size_t)n, ++i;
        } else {
            fprintf(stderr, "clnn-bench: bad argument '%s'%s\n", a,
                    v ? "" : " (or its value is missing)");
            usage(stderr);
            return 2;
        }
    }
    if (suites) {
        for (const char *p = suites; *p;) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            int known = 0;
            for (const bench_suite *s = bench_suites; s->name; ++s)
                known |= strlen(s->name) == len && strncmp(s->name, p, len) == 0;
            if (!known) {
                fprintf(stderr, "clnn-bench: unknown suite '%.*s'; --list names them\n", (int)len,
                        p);
                return 2;
            }
            p += len + (comma ? 1 : 0);
        }
    }

    const char *pinning = pin_pocl_workers();
    clnn_context_options options;
    clnn_context_options_init(&options);
    options.device = device;
    run.device_selector = device;
    clnn_status status = clnn_context_create(&run.ctx, &options);
    if (status != CLNN_SUCCESS)
        return tool_fail("creating the context", status, NULL);
    clnn_context_get_device_info(run.ctx, &run.device);

    if (csv && !(run.csv = fopen(csv, "w"))) {
        fprintf(stderr, "clnn-bench: cannot write %s\n", csv);
        clnn_context_destroy(run.ctx);
        return 1;
    }
    if (json && !(run.json = fopen(json, "w"))) {
        fprintf(stderr, "clnn-bench: cannot write %s\n", json);
        if (run.csv)
            fclose(run.csv);
        clnn_context_destroy(run.ctx);
        return 1;
    }

    /* The reference every ratio divides by: at least 15 timed copies, so that one slow run does
     * not skew the whole table. */
    status = tool_copy_bandwidth(run.ctx, run.copy_floats, run.reps < 15 ? 15 : run.reps,
                                 &run.copy_gbps);
    if (status != CLNN_SUCCESS)
        return tool_fail("measuring copy bandwidth", status, run.ctx);
    printf("clnn %s bench on %s (%s)\n", clnn_version_string(), run.device.device_name,
           run.device.platform_name);
    printf("copy bandwidth: %.1f GB/s (clnn_tensor_copy of %zu floats, bytes read + written)\n",
           run.copy_gbps, run.copy_floats);
    if (strstr(run.device.platform_name, "Portable Computing Language"))
        printf("%s\n", pinning);
    printf("warm-up %d, median of %d runs; 'of copy' is GB/s over the copy bandwidth\n\n",
           run.warmup, run.reps);
    printf("%-34s %-18s %10s %8s %9s %7s %9s\n", "benchmark", "shape", "median ms", "spread",
           "GB/s", "of copy", "GFLOP/s");
    if (run.csv)
        fprintf(run.csv, "suite,name,shape,median_s,min_s,max_s,reps,bytes,gbps,"
                         "fraction_of_copy,gflops\n");
    if (run.json)
        fprintf(run.json,
                "{\"device\": \"%s\", \"platform\": \"%s\", \"copy_gbps\": %.6g, "
                "\"rows\": [\n",
                run.device.device_name, run.device.platform_name, run.copy_gbps);

    for (const bench_suite *s = bench_suites; s->name; ++s) {
        if (suite_chosen(suites, s->name))
            s->run(&run);
    }

    if (run.json) {
        fprintf(run.json, "\n]}\n");
        fclose(run.json);
    }
    if (run.csv)
        fclose(run.csv);
    clnn_context_destroy(run.ctx);
    return run.failures ? 1 : 0;
}
