/* The shared test helper (see clnn_test.h). */
#define _GNU_SOURCE
#include "clnn_test.h"

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/lsan_interface.h>
#define CLNN_TEST_ASAN 1
#endif
#endif

clnn_context *clnn_test_ctx;
clnn_device_info clnn_test_device;
clnn_device_profile clnn_test_profile;
int clnn_test_small_tier;

static uint64_t seed, state[2];
static int seeded;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t clnn_test_seed(void)
{
    if (!seeded) {
        const char *env = getenv("CLNN_TEST_SEED");
        seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
        uint64_t x = seed;
        state[0] = splitmix64(&x);
        state[1] = splitmix64(&x);
        seeded = 1;
        printf("[  SEED    ] CLNN_TEST_SEED=%llu reproduces this run's random data\n",
               (unsigned long long)seed);
    }
    return seed;
}

uint64_t clnn_test_random_u64(void)
{
    clnn_test_seed();
    /* xoroshiro128+ */
    uint64_t s0 = state[0], s1 = state[1], r = s0 + s1;
    s1 ^= s0;
    state[0] = ((s0 << 24) | (s0 >> 40)) ^ s1 ^ (s1 << 16);
    state[1] = (s1 << 37) | (s1 >> 27);
    return r;
}

double clnn_test_uniform(double lo, double hi)
{
    double u = (double)(clnn_test_random_u64() >> 11) * 0x1.0p-53;
    return lo + (hi - lo) * u;
}

double clnn_test_normal(void)
{
    double u1 = 1.0 - clnn_test_uniform(0.0, 1.0); /* (0, 1] : log never sees 0 */
    double u2 = clnn_test_uniform(0.0, 1.0);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void clnn_test_fill_uniform(float *x, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; ++i)
        x[i] = (float)clnn_test_uniform(lo, hi);
}

void clnn_test_check_status(clnn_status got, clnn_status expected, const char *call,
                            const char *file, int line)
{
    if (got != expected)
        fail_msg("%s:%d: %s returned %s, expected %s; message: %s", file, line, call,
                 clnn_status_string(got), clnn_status_string(expected),
                 clnn_context_last_error(NULL));
}

void *clnn_test_alloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p)
        fail_msg("out of host memory allocating %zu bytes", bytes);
    return p;
}

void clnn_test_poison(clnn_tensor *t)
{
    CLNN_ASSERT_OK(clnn_tensor_fill(t, NAN));
}

clnn_tensor *clnn_test_tensor(int ndim, const size_t *dims, const float *data)
{
    clnn_tensor *t = NULL;
    CLNN_ASSERT_OK(clnn_tensor_create(clnn_test_ctx, ndim, dims, &t));
    if (data) {
        size_t count;
        CLNN_ASSERT_OK(clnn_tensor_get_count(t, &count));
        CLNN_ASSERT_OK(clnn_tensor_upload(t, data, count));
    } else {
        clnn_test_poison(t);
    }
    return t;
}

clnn_tensor *clnn_test_tensor_1d(size_t n, const float *data)
{
    return clnn_test_tensor(1, &n, data);
}

void clnn_test_download(const clnn_tensor *t, float *host, size_t n)
{
    CLNN_ASSERT_OK(clnn_tensor_download(t, host, n));
}

static int same_special(double got, double ref)
{
    if (isnan(ref))
        return isnan(got);
    if (isinf(ref))
        return got == ref;
    return 0;
}

static void compare(const char *what, const float *got, const double *refd, const float *reff,
                    size_t n, double rtol, double atol)
{
    if (!clnn_test_profile.denormals && atol < CLNN_TEST_FTZ_ATOL)
        atol = CLNN_TEST_FTZ_ATOL;
    size_t bad = n, bad_count = 0;
    double worst = 0.0;
    size_t worst_index = 0;
    for (size_t i = 0; i < n; ++i) {
        double g = got[i], r = refd ? refd[i] : reff[i];
        int ok;
        if (!isfinite(g) || !isfinite(r))
            ok = same_special(g, r);
        else
            ok = fabs(g - r) <= atol + rtol * fabs(r);
        if (!ok) {
            if (bad == n)
                bad = i;
            ++bad_count;
        }
        if (isfinite(g) && isfinite(r)) {
            double rel = fabs(g - r) / (fabs(r) > atol ? fabs(r) : (atol > 0 ? atol : 1e-300));
            if (rel > worst) {
                worst = rel;
                worst_index = i;
            }
        }
    }
    if (bad_count) {
        double r = refd ? refd[bad] : reff[bad];
        fail_msg("%s on %s: %zu of %zu elements out of tolerance (rtol %g, atol %g); first at "
                 "[%zu]: got %.9g, expected %.17g; largest relative error %.3g at [%zu]",
                 what, clnn_test_device.device_name, bad_count, n, rtol, atol, bad,
                 (double)got[bad], r, worst, worst_index);
    }
}

void clnn_test_assert_close(const char *what, const float *got, const double *ref, size_t n,
                            double rtol, double atol)
{
    compare(what, got, ref, NULL, n, rtol, atol);
}

void clnn_test_assert_close_f(const char *what, const float *got, const float *ref, size_t n,
                              double rtol, double atol)
{
    compare(what, got, NULL, ref, n, rtol, atol);
}

void clnn_test_make_temp_dir(char *path, size_t size)
{
    const char *base = getenv("TMPDIR");
    snprintf(path, size, "%s/clnn-test-XXXXXX", base && base[0] ? base : "/tmp");
    if (!mkdtemp(path))
        fail_msg("cannot create a temporary directory under %s", base ? base : "/tmp");
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

void clnn_test_remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

long clnn_test_dead_pid(void)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return (long)pid;
}

void clnn_test_make_aged_file(const char *dir, const char *name, int age_seconds)
{
    char path[1100];
    snprintf(path, sizeof path, "%.255s/%.800s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("partial", f);
    fclose(f);
    struct timespec times[2] = {{time(NULL) - age_seconds, 0}, {0, 0}};
    times[1] = times[0];
    assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
}

/* ---- running on every device -------------------------------------------------------------------
 */

static const char *selectors[64];
static size_t selector_count;

static int group_setup(void **state_unused)
{
    (void)state_unused;
    return 0;
}

/* Parses CLNN_TEST_FORMS into forms[] (default: both); returns how many, 0 on a bad value. */
static size_t test_forms(clnn_kernel_forms forms[2])
{
    const char *env = getenv("CLNN_TEST_FORMS");
    if (!env || !env[0])
        env = "cpu,gpu";
    size_t count = 0;
    char list[64];
    snprintf(list, sizeof list, "%s", env);
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        clnn_kernel_forms f = strcmp(tok, "cpu") == 0   ? CLNN_KERNEL_FORMS_CPU
                              : strcmp(tok, "gpu") == 0 ? CLNN_KERNEL_FORMS_GPU
                                                        : CLNN_KERNEL_FORMS_AUTO;
        if (f == CLNN_KERNEL_FORMS_AUTO || count == 2) {
            fprintf(stderr, "CLNN_TEST_FORMS is \"%s\"; it must be cpu, gpu or cpu,gpu\n", env);
            return 0;
        }
        forms[count++] = f;
    }
    return count;
}

/* The OpenCL ICD loader opens every installed implementation at the first clGetPlatformIDs, and
 * some (Mesa's Clover and Rusticl, installed beside POCL on many machines) keep allocations from
 * their library initialisers for the life of the process, some through code LeakSanitizer cannot
 * unwind (so no suppression names them). Under ASan that first call runs with leak tracking off;
 * clnn's own allocations are all made later. */
void clnn_test_load_opencl(void)
{
#ifdef CLNN_TEST_ASAN
    __lsan_disable();
#endif
    cl_uint platforms = 0;
    clGetPlatformIDs(0, NULL, &platforms);
#ifdef CLNN_TEST_ASAN
    __lsan_enable();
#endif
}

int clnn_test_main(const char *suite, const struct CMUnitTest *tests, size_t count)
{
    clnn_test_seed();
    clnn_test_load_opencl();
    /* CLNN_TEST_FILTER=test_bad_* runs only the tests whose names match (cmocka's pattern). */
    const char *filter = getenv("CLNN_TEST_FILTER");
    if (filter && filter[0])
        cmocka_set_test_filter(filter);
    const char *tier = getenv("CLNN_TEST_TIER");
    if (tier && tier[0] && strcmp(tier, "small") != 0 && strcmp(tier, "full") != 0 &&
        strcmp(tier, "native") != 0) {
        fprintf(stderr, "%s: CLNN_TEST_TIER is \"%s\"; it must be small, native or full\n",
                suite, tier);
        return 1;
    }
    int small_always = tier && strcmp(tier, "small") == 0;
    int small_foreign = tier && strcmp(tier, "native") == 0;
    clnn_kernel_forms forms[2];
    size_t form_count = test_forms(forms);
    if (form_count == 0)
        return 1;
    char names[64][32];
    char *list = NULL;
    const char *env = getenv("CLNN_TEST_DEVICES");
    if (env && env[0]) {
        list = strdup(env);
        for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok && selector_count < 64;
             tok = strtok_r(NULL, ",", &save))
            selectors[selector_count++] = tok;
    } else {
        size_t devices = 0;
        clnn_status status = clnn_device_count(&devices);
        if (status != CLNN_SUCCESS || devices == 0) {
            fprintf(stderr, "%s: no OpenCL device to test on: %s\n", suite,
                    clnn_context_last_error(NULL));
            return 1;
        }
        for (size_t i = 0; i < devices && i < 64; ++i) {
            snprintf(names[i], sizeof names[i], "%zu", i);
            selectors[selector_count++] = names[i];
        }
    }

    int failures = 0;
    for (size_t d = 0; d < selector_count; ++d) {
        for (size_t f = 0; f < form_count; ++f) {
            clnn_context_options options;
            clnn_context_options_init(&options);
            options.device = selectors[d];
            options.kernel_forms = forms[f];
            clnn_status status = clnn_context_create(&clnn_test_ctx, &options);
            if (status != CLNN_SUCCESS) {
                fprintf(stderr, "%s: cannot create a context on device '%s': %s: %s\n", suite,
                        selectors[d], clnn_status_string(status), clnn_context_last_error(NULL));
                ++failures;
                continue;
            }
            clnn_context_get_device_info(clnn_test_ctx, &clnn_test_device);
            clnn_context_get_profile(clnn_test_ctx, &clnn_test_profile);
            clnn_test_small_tier =
                small_always ||
                (small_foreign && clnn_test_profile.forms != clnn_test_profile.native_forms);
            char group[640];
            snprintf(group, sizeof group, "%s [%u:%u %s, %s forms, %s tier%s%s]", suite,
                     clnn_test_device.platform_index, clnn_test_device.device_index,
                     clnn_test_device.device_name,
                     clnn_kernel_forms_string(clnn_test_profile.forms),
                     clnn_test_small_tier ? "small" : "full",
                     clnn_test_profile.quirks[0] ? ", quirks " : "", clnn_test_profile.quirks);
            printf("[ DEVICE   ] %s\n", group);
            fflush(stdout);
            failures += _cmocka_run_group_tests(group, tests, count, group_setup, NULL);
            clnn_context_destroy(clnn_test_ctx);
            clnn_test_ctx = NULL;
        }
    }
    free(list);
    return failures;
}
