/*
 * Shared test helper. clnn_test_main() runs a cmocka group once per OpenCL device (all devices, or
 * those named in CLNN_TEST_DEVICES, comma-separated selectors) and per kernel form (CPU and GPU
 * forms, or those named in CLNN_TEST_FORMS: "cpu", "gpu" or "cpu,gpu"), with clnn_test_ctx set to
 * a context on that device in that form. Helpers draw seeded random data (CLNN_TEST_SEED
 * reproduces a run), poison outputs, and compare results with double-precision references,
 * failing on any NaN or Inf that the reference does not also have.
 *
 * Shape tiers: CLNN_TEST_TIER=small (set by the test matrix for simulators and slow devices)
 * makes every test take the smaller shapes it declares with CLNN_TEST_SHAPE(full, small); each
 * case still runs, on shapes that keep its edges (remainders, multiples of the vector width).
 * CLNN_TEST_TIER=native takes the full shapes in the forms the device profile chooses for the
 * device and the small ones in the other forms (the GPU forms on a CPU).
 */
#ifndef CLNN_TEST_H
#define CLNN_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <clnn.h>

/* The context of the device under test, its description and its profile (the forms under test). */
extern clnn_context *clnn_test_ctx;
extern clnn_device_info clnn_test_device;
extern clnn_device_profile clnn_test_profile;

/* 1 in the small shape tier (for the group under way: see CLNN_TEST_TIER). */
extern int clnn_test_small_tier;
/* A size (or count of repetitions) declared for both tiers: full, or small in the small tier. */
#define CLNN_TEST_SHAPE(full, small) (clnn_test_small_tier ? (small) : (full))

/* Loads the OpenCL implementations (the first clGetPlatformIDs) with LeakSanitizer's tracking
 * off, as clnn_test_main does first: some ICDs keep allocations from their initialisers for the
 * life of the process. Child processes that skip clnn_test_main call it themselves. */
void clnn_test_load_opencl(void);

/* Runs tests on every selected device; returns the number of failures (0: all passed). */
int clnn_test_main(const char *suite, const struct CMUnitTest *tests, size_t count);
#define CLNN_TEST_MAIN(suite, tests)                                                               \
    int main(void)                                                                                 \
    {                                                                                              \
        return clnn_test_main((suite), (tests), sizeof(tests) / sizeof((tests)[0]));               \
    }

/* Fails the test with the status name and the context's message unless call succeeds. */
#define CLNN_ASSERT_OK(call) clnn_test_check_status((call), CLNN_SUCCESS, #call, __FILE__, __LINE__)
/* Fails the test unless call returns `expected`. */
#define CLNN_ASSERT_STATUS(call, expected)                                                         \
    clnn_test_check_status((call), (expected), #call, __FILE__, __LINE__)
void clnn_test_check_status(clnn_status got, clnn_status expected, const char *call,
                            const char *file, int line);

/* ---- random data (seeded per process; the seed is printed) ---------------------------------- */
uint64_t clnn_test_seed(void);
uint64_t clnn_test_random_u64(void);
double clnn_test_uniform(double lo, double hi);  /* [lo, hi) */
double clnn_test_normal(void);                   /* N(0, 1) */
void clnn_test_fill_uniform(float *x, size_t n, double lo, double hi);

/* ---- tensors on clnn_test_ctx (each fails the test on error) -------------------------------- */
/* Creates a tensor; with data, uploads it, else poisons it. */
clnn_tensor *clnn_test_tensor(int ndim, const size_t *dims, const float *data);
clnn_tensor *clnn_test_tensor_1d(size_t n, const float *data);
/* Fills with NaN, so that an element a kernel fails to write fails the comparison. */
void clnn_test_poison(clnn_tensor *t);
void clnn_test_download(const clnn_tensor *t, float *host, size_t n);
/* malloc that fails the test when it returns NULL. */
void *clnn_test_alloc(size_t bytes);

/* ---- comparison -------------------------------------------------------------------------------- */
/* Passes when every got[i] is within atol + rtol * |ref[i]| of ref[i]. A NaN or Inf in got passes
 * only where ref holds the same (NaN where NaN, the same signed Inf). On a device that flushes
 * subnormals (no CL_FP_DENORM, which OpenCL allows), atol is at least CLNN_TEST_FTZ_ATOL. Reports
 * the first failure and the largest relative error. */
/* The absolute tolerance floor on devices that flush subnormals: an intermediate below FLT_MIN
 * (1.2e-38) may become 0, and the ops scale such intermediates by factors up to ~1e3 (mish's x
 * times softplus(x) near x = -87: 1.1e-36 expected, 0 on rusticl/llvmpipe). */
#define CLNN_TEST_FTZ_ATOL 1e-34
void clnn_test_assert_close(const char *what, const float *got, const double *ref, size_t n,
                            double rtol, double atol);
/* Same for float references. */
void clnn_test_assert_close_f(const char *what, const float *got, const float *ref, size_t n,
                              double rtol, double atol);

/* A fresh directory under the build's temporary area (or /tmp); the caller removes it. */
void clnn_test_make_temp_dir(char *path, size_t size);
/* Removes a directory tree made by clnn_test_make_temp_dir. */
void clnn_test_remove_tree(const char *path);
/* A pid that no process has now: a child that has exited and been reaped. */
long clnn_test_dead_pid(void);
/* Creates dir/name holding a few bytes, last modified age_seconds ago (stale temp files). */
void clnn_test_make_aged_file(const char *dir, const char *name, int age_seconds);

#endif
