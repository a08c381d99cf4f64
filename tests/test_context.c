/*
 * Contexts and devices: both constructors, every selector form, the device listing, the
 * self-check, status strings, and the error paths (NULL arguments, unknown devices, an
 * out-of-order queue, no OpenCL platform at all).
 */
#define _GNU_SOURCE
#include "clnn_test.h"

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void test_status_strings(void **state)
{
    (void)state;
    for (int i = 0; i < CLNN_STATUS_COUNT; ++i) {
        const char *s = clnn_status_string((clnn_status)i);
        assert_non_null(s);
        assert_true(strncmp(s, "CLNN_", 5) == 0);
        for (int j = 0; j < i; ++j)
            assert_string_not_equal(s, clnn_status_string((clnn_status)j));
    }
    assert_string_equal(clnn_status_string(CLNN_STATUS_COUNT), "unknown clnn status");
    assert_string_equal(clnn_status_string((clnn_status)-1), "unknown clnn status");
    assert_int_equal(CLNN_SUCCESS, 0);
    assert_non_null(clnn_version_string());
}

static void test_device_listing(void **state)
{
    (void)state;
    size_t count = 0;
    CLNN_ASSERT_OK(clnn_device_count(&count));
    assert_true(count >= 1);
    for (size_t i = 0; i < count; ++i) {
        clnn_device_info info;
        CLNN_ASSERT_OK(clnn_device_get_info(i, &info));
        assert_int_equal(info.index, i);
        assert_true(info.device_name[0] != '\0');
        assert_true(info.platform_name[0] != '\0');
        assert_true(info.compute_units >= 1);
        assert_true(info.max_work_group_size >= 1);
        assert_true(info.global_mem_bytes > 0);
        assert_true(strstr(info.opencl_c_version, "OpenCL C") != NULL);
    }
    clnn_device_info info;
    memset(&info, 0x5a, sizeof info);
    CLNN_ASSERT_STATUS(clnn_device_get_info(count, &info), CLNN_ERR_NO_DEVICE);
    assert_int_equal(((unsigned char *)&info)[0], 0x5a); /* untouched on error */
    CLNN_ASSERT_STATUS(clnn_device_count(NULL), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_device_get_info(0, NULL), CLNN_ERR_INVALID_ARGUMENT);
}

/* Default options naming the device under test; pair (32 bytes) holds its "P:D" selector. */
static clnn_context_options device_options(char *pair)
{
    snprintf(pair, 32, "%u:%u", clnn_test_device.platform_index, clnn_test_device.device_index);
    clnn_context_options options;
    clnn_context_options_init(&options);
    options.device = pair;
    return options;
}

/* Every selector form picks the device under test. */
static void test_selectors(void **state)
{
    (void)state;
    char pair[32], flat[32];
    snprintf(pair, sizeof pair, "%u:%u", clnn_test_device.platform_index,
             clnn_test_device.device_index);
    snprintf(flat, sizeof flat, "%zu", clnn_test_device.index);
    const char *selectors[] = {pair, flat, clnn_test_device.device_name};
    for (size_t i = 0; i < sizeof selectors / sizeof selectors[0]; ++i) {
        clnn_context_options options;
        CLNN_ASSERT_OK(clnn_context_options_init(&options));
        options.device = selectors[i];
        clnn_context *ctx = NULL;
        CLNN_ASSERT_OK(clnn_context_create(&ctx, &options));
        clnn_device_info info;
        CLNN_ASSERT_OK(clnn_context_get_device_info(ctx, &info));
        assert_int_equal(info.index, clnn_test_device.index);
        assert_string_equal(info.device_name, clnn_test_device.device_name);
        CLNN_ASSERT_OK(clnn_context_destroy(ctx));
    }

    /* CLNN_DEVICE chooses the device when the options do not. */
    char *saved = getenv("CLNN_DEVICE") ? strdup(getenv("CLNN_DEVICE")) : NULL;
    setenv("CLNN_DEVICE", pair, 1);
    clnn_context *from_env = NULL;
    clnn_status env_status = clnn_context_create(&from_env, NULL);
    if (saved)
        setenv("CLNN_DEVICE", saved, 1);
    else
        unsetenv("CLNN_DEVICE");
    free(saved);
    CLNN_ASSERT_OK(env_status);
    clnn_device_info env_info;
    CLNN_ASSERT_OK(clnn_context_get_device_info(from_env, &env_info));
    assert_int_equal(env_info.index, clnn_test_device.index);
    clnn_context_destroy(from_env);

    /* A case-insensitive part of the name works too. */
    char upper[8] = {0};
    for (int i = 0; i < 4 && clnn_test_device.platform_name[i]; ++i)
        upper[i] = (char)((clnn_test_device.platform_name[i] >= 'a' &&
                           clnn_test_device.platform_name[i] <= 'z')
                              ? clnn_test_device.platform_name[i] - 32
                              : clnn_test_device.platform_name[i]);
    clnn_context_options options;
    clnn_context_options_init(&options);
    options.device = upper;
    clnn_context *ctx = NULL;
    CLNN_ASSERT_OK(clnn_context_create(&ctx, &options));
    clnn_context_destroy(ctx);
}

static void test_bad_selectors(void **state)
{
    (void)state;
    const char *bad[] = {"no-such-device-anywhere", "99:0", "0:99", "12345"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        clnn_context_options options;
        clnn_context_options_init(&options);
        options.device = bad[i];
        clnn_context *ctx = (clnn_context *)0x1;
        CLNN_ASSERT_STATUS(clnn_context_create(&ctx, &options), CLNN_ERR_NO_DEVICE);
        assert_ptr_equal(ctx, (clnn_context *)0x1); /* untouched */
        const char *message = clnn_context_last_error(NULL);
        assert_non_null(strstr(message, bad[i]));
        /* The message lists the devices there are. */
        assert_non_null(strstr(message, clnn_test_device.device_name));
    }
}

static void test_null_arguments(void **state)
{
    (void)state;
    CLNN_ASSERT_STATUS(clnn_context_create(NULL, NULL), CLNN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(clnn_context_last_error(NULL), "ctx is NULL"));
    clnn_context *ctx = NULL;
    CLNN_ASSERT_STATUS(clnn_context_create_with_queue(&ctx, NULL), CLNN_ERR_INVALID_ARGUMENT);
    assert_null(ctx);
    CLNN_ASSERT_STATUS(clnn_context_create_with_queue(NULL, NULL), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_context_options_init(NULL), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_OK(clnn_context_destroy(NULL));
    CLNN_ASSERT_STATUS(clnn_context_finish(NULL), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_context_self_check(NULL), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_context_build_programs(NULL), CLNN_ERR_INVALID_ARGUMENT);
    clnn_device_info info;
    CLNN_ASSERT_STATUS(clnn_context_get_device_info(NULL, &info), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_context_get_device_info(clnn_test_ctx, NULL),
                       CLNN_ERR_INVALID_ARGUMENT);
    cl_command_queue queue;
    CLNN_ASSERT_STATUS(clnn_context_get_queue(NULL, &queue), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_context_get_queue(clnn_test_ctx, NULL), CLNN_ERR_INVALID_ARGUMENT);
    clnn_cache_stats stats;
    CLNN_ASSERT_STATUS(clnn_context_get_cache_stats(NULL, &stats), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_context_get_cache_stats(clnn_test_ctx, NULL),
                       CLNN_ERR_INVALID_ARGUMENT);
    assert_string_equal(clnn_context_build_log(NULL), "");
}

static void test_self_check(void **state)
{
    (void)state;
    CLNN_ASSERT_OK(clnn_context_self_check(clnn_test_ctx));
    CLNN_ASSERT_OK(clnn_context_finish(clnn_test_ctx));
}

/* A context on the caller's queue works, and leaves the caller's objects as it found them. */
static void test_create_with_queue(void **state)
{
    (void)state;
    cl_int err;
    cl_device_id device = clnn_test_device.device;
    cl_context cl_ctx = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    assert_int_equal(err, CL_SUCCESS);
    cl_command_queue queue = clCreateCommandQueue(cl_ctx, device, 0, &err);
    assert_int_equal(err, CL_SUCCESS);
    clnn_context *ctx = NULL;
    CLNN_ASSERT_OK(clnn_context_create_with_queue(&ctx, queue));
    cl_command_queue got;
    CLNN_ASSERT_OK(clnn_context_get_queue(ctx, &got));
    assert_ptr_equal(got, queue);
    clnn_device_info info;
    CLNN_ASSERT_OK(clnn_context_get_device_info(ctx, &info));
    assert_string_equal(info.device_name, clnn_test_device.device_name);
    assert_int_equal(info.index, clnn_test_device.index);

    /* Work on the caller's queue, through a buffer the caller owns. */
    enum { N = 1001 };
    float in[N], out[N];
    clnn_test_fill_uniform(in, N, -10, 10);
    cl_mem buffer = clCreateBuffer(cl_ctx, CL_MEM_READ_WRITE, sizeof in, NULL, &err);
    assert_int_equal(err, CL_SUCCESS);
    size_t n = N;
    clnn_tensor *wrapped = NULL, *copy = NULL;
    CLNN_ASSERT_OK(clnn_tensor_wrap(ctx, buffer, 1, &n, &wrapped));
    CLNN_ASSERT_OK(clnn_tensor_create(ctx, 1, &n, &copy));
    CLNN_ASSERT_OK(clnn_tensor_upload(wrapped, in, N));
    CLNN_ASSERT_OK(clnn_tensor_copy(copy, wrapped));
    CLNN_ASSERT_OK(clnn_tensor_download(copy, out, N));
    assert_memory_equal(in, out, sizeof in);
    CLNN_ASSERT_OK(clnn_context_self_check(ctx));
    CLNN_ASSERT_OK(clnn_tensor_destroy(wrapped));
    CLNN_ASSERT_OK(clnn_tensor_destroy(copy));
    CLNN_ASSERT_OK(clnn_context_destroy(ctx));

    /* The caller's queue and buffer are still the caller's, and still work. (OpenCL reference
     * counts are documented as stale the moment they are read, so they are not compared.) */
    memset(out, 0, sizeof out);
    assert_int_equal(clEnqueueReadBuffer(queue, buffer, CL_TRUE, 0, sizeof out, out, 0, NULL, NULL),
                     CL_SUCCESS);
    assert_memory_equal(in, out, sizeof in);
    assert_int_equal(clReleaseMemObject(buffer), CL_SUCCESS);
    assert_int_equal(clReleaseCommandQueue(queue), CL_SUCCESS);
    assert_int_equal(clReleaseContext(cl_ctx), CL_SUCCESS);
}

static void test_out_of_order_queue_rejected(void **state)
{
    (void)state;
    cl_command_queue_properties supported = 0;
    clGetDeviceInfo(clnn_test_device.device, CL_DEVICE_QUEUE_PROPERTIES, sizeof supported,
                    &supported, NULL);
    if (!(supported & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE))
        skip();
    cl_int err;
    cl_device_id device = clnn_test_device.device;
    cl_context cl_ctx = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    assert_int_equal(err, CL_SUCCESS);
    cl_command_queue queue =
        clCreateCommandQueue(cl_ctx, device, CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, &err);
    assert_int_equal(err, CL_SUCCESS);
    clnn_context *ctx = NULL;
    CLNN_ASSERT_STATUS(clnn_context_create_with_queue(&ctx, queue), CLNN_ERR_UNSUPPORTED);
    assert_null(ctx);
    clReleaseCommandQueue(queue);
    clReleaseContext(cl_ctx);
}

static void test_profiling_option(void **state)
{
    (void)state;
    char pair[32];
    clnn_context_options options = device_options(pair);
    options.enable_profiling = 1;
    clnn_context *ctx = NULL;
    CLNN_ASSERT_OK(clnn_context_create(&ctx, &options));
    cl_command_queue queue;
    CLNN_ASSERT_OK(clnn_context_get_queue(ctx, &queue));
    cl_command_queue_properties properties = 0;
    clGetCommandQueueInfo(queue, CL_QUEUE_PROPERTIES, sizeof properties, &properties, NULL);
    assert_true(properties & CL_QUEUE_PROFILING_ENABLE);
    clnn_context_destroy(ctx);
}

/* The disk cache of built programs follows the device profile (off on POCL, whose own cache keeps
 * them: quirk no-binary-cache), and CLNN_BINARY_CACHE overrides it either way. */
static void test_binary_cache_choice(void **state)
{
    (void)state;
    char dir[512];
    clnn_test_make_temp_dir(dir, sizeof dir);
    char pair[32];
    clnn_context_options options = device_options(pair);
    options.cache_dir = dir;
    const char *settings[] = {NULL, "on", "off", "auto"};
    int pocl = strstr(clnn_test_device.platform_name, "Portable Computing Language") != NULL;
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; ++i) {
        if (settings[i])
            setenv("CLNN_BINARY_CACHE", settings[i], 1);
        else
            unsetenv("CLNN_BINARY_CACHE");
        int expected = settings[i] && strcmp(settings[i], "on") == 0    ? 1
                       : settings[i] && strcmp(settings[i], "off") == 0 ? 0
                                                                        : !pocl;
        clnn_context *ctx = NULL;
        CLNN_ASSERT_OK(clnn_context_create(&ctx, &options));
        clnn_device_profile profile;
        clnn_cache_stats stats;
        CLNN_ASSERT_OK(clnn_context_get_profile(ctx, &profile));
        CLNN_ASSERT_OK(clnn_context_get_cache_stats(ctx, &stats));
        assert_int_equal(profile.binary_cache, expected);
        assert_int_equal(stats.enabled, expected);
        assert_int_equal(strstr(profile.quirks, "no-binary-cache") != NULL, pocl);
        if (!expected)
            assert_non_null(strstr(stats.note, "disk cache off"));
        /* Programs build and run either way. */
        CLNN_ASSERT_OK(clnn_context_self_check(ctx));
        clnn_context_destroy(ctx);
    }
    setenv("CLNN_BINARY_CACHE", "sometimes", 1);
    clnn_context *ctx = NULL;
    CLNN_ASSERT_STATUS(clnn_context_create(&ctx, &options), CLNN_ERR_INVALID_ARGUMENT);
    assert_null(ctx);
    assert_non_null(strstr(clnn_context_last_error(NULL), "CLNN_BINARY_CACHE"));
    unsetenv("CLNN_BINARY_CACHE");
    clnn_test_remove_tree(dir);
}

/* The CPU forms compute their 16-lane activation math lane by lane on rusticl (quirk
 * lanewise-math) and nowhere else, and use their register-blocked kernels everywhere but there
 * (quirk no-blocked-kernels); the GPU forms do neither. What each choice runs is checked by the
 * op tests, whose CPU forms take the one path on llvmpipe and the other on POCL and Oclgrind,
 * against the same references. */
static void test_rusticl_quirks(void **state)
{
    (void)state;
    int rusticl = strstr(clnn_test_device.platform_name, "rusticl") != NULL;
    const clnn_kernel_forms forms[] = {CLNN_KERNEL_FORMS_CPU, CLNN_KERNEL_FORMS_GPU};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; ++i) {
        char pair[32];
        clnn_context_options options = device_options(pair);
        options.kernel_forms = forms[i];
        clnn_context *ctx = NULL;
        CLNN_ASSERT_OK(clnn_context_create(&ctx, &options));
        clnn_device_profile profile;
        CLNN_ASSERT_OK(clnn_context_get_profile(ctx, &profile));
        assert_int_equal(strstr(profile.quirks, "lanewise-math") != NULL, rusticl);
        assert_int_equal(profile.lanewise_math, rusticl && forms[i] == CLNN_KERNEL_FORMS_CPU);
        assert_int_equal(strstr(profile.quirks, "no-blocked-kernels") != NULL, rusticl);
        assert_int_equal(profile.blocked_kernels, !rusticl && forms[i] == CLNN_KERNEL_FORMS_CPU);
        CLNN_ASSERT_OK(clnn_context_self_check(ctx));
        clnn_context_destroy(ctx);
    }
}

/* Runs this program again with OCL_ICD_VENDORS pointing at an empty directory, so the ICD loader
 * finds no platform; the child checks the status and message (see main). */
static void test_no_platform(void **state)
{
    (void)state;
    char dir[256];
    clnn_test_make_temp_dir(dir, sizeof dir);
    char vendors[300], child[64] = "CLNN_TEST_CHILD=no-platform";
    snprintf(vendors, sizeof vendors, "OCL_ICD_VENDORS=%s", dir);
    char *envp[256];
    size_t n = 0;
    for (char **e = environ; *e && n < 250; ++e)
        if (strncmp(*e, "OCL_ICD_VENDORS=", 16) != 0 && strncmp(*e, "CLNN_TEST_CHILD=", 16) != 0)
            envp[n++] = *e;
    envp[n++] = vendors;
    envp[n++] = child;
    envp[n] = NULL;
    char *argv[] = {"/proc/self/exe", NULL};
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, envp), 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    clnn_test_remove_tree(dir);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* The child half of test_no_platform: exit 0 when every call reports the missing platform. */
static int no_platform_child(void)
{
    size_t count = 7;
    clnn_context *ctx = NULL;
    if (clnn_device_count(&count) != CLNN_ERR_NO_PLATFORM || count != 7)
        return 1;
    if (clnn_context_create(&ctx, NULL) != CLNN_ERR_NO_PLATFORM || ctx != NULL)
        return 2;
    if (!strstr(clnn_context_last_error(NULL), "pocl-opencl-icd"))
        return 3;
    return 0;
}

int main(void)
{
    const char *child = getenv("CLNN_TEST_CHILD");
    if (child && strcmp(child, "no-platform") == 0)
        return no_platform_child();

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_strings),
        cmocka_unit_test(test_device_listing),
        cmocka_unit_test(test_selectors),
        cmocka_unit_test(test_bad_selectors),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_self_check),
        cmocka_unit_test(test_create_with_queue),
        cmocka_unit_test(test_out_of_order_queue_rejected),
        cmocka_unit_test(test_profiling_option),
        cmocka_unit_test(test_binary_cache_choice),
        cmocka_unit_test(test_rusticl_quirks),
        cmocka_unit_test(test_no_platform),
    };
    return clnn_test_main("context", tests, sizeof tests / sizeof tests[0]);
}
