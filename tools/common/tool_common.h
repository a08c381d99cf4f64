/*
 * Helpers shared by the clnn programs: a monotonic clock, the median of timings, and the device's
 * copy bandwidth measured with clnn_tensor_copy (clnn_copy, or clnn_copy16 on CPU devices).
 */
#ifndef CLNN_TOOL_COMMON_H
#define CLNN_TOOL_COMMON_H

#include <clnn.h>

/* Seconds on a monotonic clock. */
double tool_now(void);

/* Sleeps for `seconds` (>= 0) of wall-clock time. */
void tool_sleep(double seconds);

/* Sorts values (n >= 1) and returns their median. */
double tool_median(double *values, int n);

/* Copy bandwidth in GB/s (bytes read + written) of clnn_tensor_copy over `count` floats: one
 * warm-up copy (kernel build, first-launch compilation), then the median of `reps` timed copies. */
clnn_status tool_copy_bandwidth(clnn_context *ctx, size_t count, int reps, double *gbps);

/* Prints "clnn: <what>: <status>: <message>" to stderr and returns 1 (for `return tool_fail(...)`). */
int tool_fail(const char *what, clnn_status status, const clnn_context *ctx);

#endif
