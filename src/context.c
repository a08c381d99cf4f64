/*
 * Contexts: opening the device chosen by src/device.c, creating the in-order queue (or adopting
 * the caller's), setting up the compiled-program cache directory (a trust boundary) and the kernel
 * directory, and the context's accessors and self-check.
 */
#define _XOPEN_SOURCE 700 /* realpath, S_ISVTX */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- cache and kernel directories -------------------------------------------------------------- */

/* Creates path and its missing parents, private to this user (0700). */
static int make_directories(const char *path)
{
    char buf[512];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return -1;
    for (char *p = buf + 1; *p; ++p) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return -1;
    struct stat st;
    return stat(buf, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

/* Whether this user alone controls the cache directory: it and every directory above it
 * (symbolic links resolved) must be owned by this user or root, the directory itself by this
 * user, and none writable by others, except a parent with the sticky bit (/tmp), where others
 * can add entries but not rename or remove this user's. Sets note when not. */
static int trusted_directory(const char *path, char *note, size_t size)
{
    char real[PATH_MAX];
    if (!realpath(path, real)) {
        snprintf(note, size, "disk cache off: cannot resolve %.180s: %s", path, strerror(errno));
        return 0;
    }
    uid_t me = geteuid();
    for (int top = 1;; top = 0) {
        struct stat st;
        if (stat(real, &st) != 0) {
            snprintf(note, size, "disk cache off: cannot stat %.180s: %s", real, strerror(errno));
            return 0;
        }
        if (st.st_uid != me && (top || st.st_uid != 0)) {
            snprintf(note, size, "disk cache off: %.180s is owned by user %ld, not by this user",
                     real, (long)st.st_uid);
            return 0;
        }
        if ((st.st_mode & (S_IWGRP | S_IWOTH)) && (top || !(st.st_mode & S_ISVTX))) {
            snprintf(note, size, "disk cache off: %.180s is writable by other users (mode %04o)",
                     real, (unsigned)(st.st_mode & 07777));
            return 0;
        }
        char *slash = strrchr(real, '/');
        if (!slash || real[1] == '\0')
            return 1;
        slash[slash == real ? 1 : 0] = '\0';
    }
}

/* Chooses and creates the cache directory; any failure only disables the disk cache. */
static void setup_cache(clnn_context *ctx, const char *option)
{
    const char *dir = option ? option : getenv("CLNN_CACHE_DIR");
    char path[512] = "";
    ctx->cache.enabled = 0;
    ctx->cache.directory[0] = '\0';
    ctx->cache.note[0] = '\0';
    if (dir && strcmp(dir, "off") == 0)
        return;
    if (!ctx->profile.binary_cache) {
        const char *env = getenv("CLNN_BINARY_CACHE");
        snprintf(ctx->cache.note, sizeof ctx->cache.note, "%s",
                 env && strcmp(env, "off") == 0
                     ? "disk cache off: CLNN_BINARY_CACHE=off"
                     : "disk cache off: the driver keeps built programs in its own cache, and "
                       "asking it for binaries costs more than it saves (quirk no-binary-cache; "
                       "CLNN_BINARY_CACHE=on forces the disk cache)");
        return;
    }
    if (dir && dir[0]) {
        snprintf(path, sizeof path, "%s", dir);
    } else {
        const char *xdg = getenv("XDG_CACHE_HOME");
        const char *home = getenv("HOME");
        if (xdg && xdg[0] == '/')
            snprintf(path, sizeof path, "%s/clnn", xdg);
        else if (home && home[0])
            snprintf(path, sizeof path, "%s/.cache/clnn", home);
        else
            return;
    }
    if (make_directories(path) != 0) {
        snprintf(ctx->cache.note, sizeof ctx->cache.note, "disk cache off: cannot create %.200s",
                 path);
        return;
    }
    if (!trusted_directory(path, ctx->cache.note, sizeof ctx->cache.note))
        return;
    snprintf(ctx->cache.directory, sizeof ctx->cache.directory, "%s", path);
    ctx->cache.enabled = 1;
}

static void setup_kernel_dir(clnn_context *ctx, const char *option)
{
    const char *dir = option ? option : getenv("CLNN_KERNEL_DIR");
#ifdef CLNN_KERNELS_FROM_SOURCE_DIR
    if (!dir || !dir[0])
        dir = CLNN_KERNEL_SOURCE_DIR;
#endif
    snprintf(ctx->kernel_dir, sizeof ctx->kernel_dir, "%s", dir ? dir : "");
}

static void setup_gemm(clnn_context *ctx)
{
    const char *mode = getenv("CLNN_GEMM");
    ctx->gemm_clblast_only = mode && strcmp(mode, "clblast") == 0;
}

/* ---- contexts ---------------------------------------------------------------------------------- */

clnn_status clnn_context_options_init(clnn_context_options *options)
{
    if (!options)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_context_options_init: options is NULL");
    memset(options, 0, sizeof *options);
    return CLNN_SUCCESS;
}

clnn_status clnn_context_create(clnn_context **out, const clnn_context_options *options)
{
    if (!out)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_context_create: ctx is NULL");
    clnn_context_options defaults;
    clnn_context_options_init(&defaults);
    if (!options)
        options = &defaults;

    const char *selector = options->device ? options->device : getenv("CLNN_DEVICE");
    clnn_device_info info;
    clnn_status status = clnn_select_device(selector, &info);
    if (status != CLNN_SUCCESS)
        return status;

    clnn_device_profile profile;
    char profile_options[sizeof ((clnn_context *)0)->profile_options];
    status = clnn_profile_create(&info, options->kernel_forms, &profile, profile_options,
                                 sizeof profile_options);
    if (status != CLNN_SUCCESS)
        return status;

    clnn_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return clnn_error(NULL, CLNN_ERR_HOST_MEMORY, "out of memory creating a context");
    ctx->info = info;
    ctx->profile = profile;
    memcpy(ctx->profile_options, profile_options, sizeof profile_options);
    ctx->platform = info.platform;
    ctx->device = info.device;

    cl_int err;
    cl_context_properties properties[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)info.platform,
                                          0};
    ctx->cl_ctx = clCreateContext(properties, 1, &ctx->device, NULL, NULL, &err);
    if (err != CL_SUCCESS) {
        status = clnn_cl_error(NULL, err, "clCreateContext");
        free(ctx);
        return status;
    }
    cl_command_queue_properties queue_properties =
        options->enable_profiling ? CL_QUEUE_PROFILING_ENABLE : 0;
    ctx->queue = clCreateCommandQueue(ctx->cl_ctx, ctx->device, queue_properties, &err);
    if (err != CL_SUCCESS) {
        status = clnn_cl_error(NULL, err, "clCreateCommandQueue");
        clReleaseContext(ctx->cl_ctx);
        free(ctx);
        return status;
    }
    setup_cache(ctx, options->cache_dir);
    setup_kernel_dir(ctx, options->kernel_dir);
    setup_gemm(ctx);
    *out = ctx;
    return CLNN_SUCCESS;
}

clnn_status clnn_context_create_with_queue(clnn_context **out, cl_command_queue queue)
{
    if (!out)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_context_create_with_queue: ctx is NULL");
    if (!queue)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_context_create_with_queue: queue is NULL");
    cl_device_id device;
    cl_context cl_ctx;
    cl_platform_id platform;
    cl_command_queue_properties properties;
    cl_int err = clGetCommandQueueInfo(queue, CL_QUEUE_DEVICE, sizeof device, &device, NULL);
    if (err == CL_SUCCESS)
        err = clGetCommandQueueInfo(queue, CL_QUEUE_CONTEXT, sizeof cl_ctx, &cl_ctx, NULL);
    if (err == CL_SUCCESS)
        err = clGetCommandQueueInfo(queue, CL_QUEUE_PROPERTIES, sizeof properties, &properties,
                                    NULL);
    if (err == CL_SUCCESS)
        err = clGetDeviceInfo(device, CL_DEVICE_PLATFORM, sizeof platform, &platform, NULL);
    if (err != CL_SUCCESS)
        return clnn_cl_error(NULL, err, "reading the caller's command queue");
    if (properties & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE)
        return clnn_error(NULL, CLNN_ERR_UNSUPPORTED,
                          "the caller's queue executes out of order; clnn needs an in-order queue");

    clnn_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return clnn_error(NULL, CLNN_ERR_HOST_MEMORY, "out of memory creating a context");
    clnn_describe_device(platform, device, &ctx->info);
    clnn_status status = clnn_profile_create(&ctx->info, CLNN_KERNEL_FORMS_AUTO, &ctx->profile,
                                             ctx->profile_options, sizeof ctx->profile_options);
    if (status != CLNN_SUCCESS) {
        free(ctx);
        return status;
    }
    /* The flat index and positions are found by matching the device in the enumeration. */
    size_t count = 0;
    if (clnn_device_count(&count) == CLNN_SUCCESS) {
        for (size_t i = 0; i < count; ++i) {
            clnn_device_info other;
            if (clnn_device_get_info(i, &other) == CLNN_SUCCESS && other.device == device) {
                ctx->info.index = other.index;
                ctx->info.platform_index = other.platform_index;
                ctx->info.device_index = other.device_index;
                break;
            }
        }
    }
    ctx->platform = platform;
    ctx->device = device;
    ctx->cl_ctx = cl_ctx;
    ctx->queue = queue;
    clRetainContext(cl_ctx);
    clRetainCommandQueue(queue);
    setup_cache(ctx, NULL);
    setup_kernel_dir(ctx, NULL);
    setup_gemm(ctx);
    *out = ctx;
    return CLNN_SUCCESS;
}

clnn_status clnn_context_destroy(clnn_context *ctx)
{
    if (!ctx)
        return CLNN_SUCCESS;
    clFinish(ctx->queue);
    clnn_scratch_release(ctx);
    clnn_release_programs(ctx);
    clReleaseCommandQueue(ctx->queue);
    clReleaseContext(ctx->cl_ctx);
    free(ctx);
    return CLNN_SUCCESS;
}

clnn_status clnn_context_get_device_info(const clnn_context *ctx, clnn_device_info *info)
{
    clnn_status status = clnn_check_context(ctx, "clnn_context_get_device_info");
    if (status != CLNN_SUCCESS)
        return status;
    if (!info)
        return clnn_error((clnn_context *)ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_context_get_device_info: info is NULL");
    *info = ctx->info;
    return CLNN_SUCCESS;
}

clnn_status clnn_context_get_queue(const clnn_context *ctx, cl_command_queue *queue)
{
    clnn_status status = clnn_check_context(ctx, "clnn_context_get_queue");
    if (status != CLNN_SUCCESS)
        return status;
    if (!queue)
        return clnn_error((clnn_context *)ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_context_get_queue: queue is NULL");
    *queue = ctx->queue;
    return CLNN_SUCCESS;
}

clnn_status clnn_context_get_cache_stats(const clnn_context *ctx, clnn_cache_stats *stats)
{
    clnn_status status = clnn_check_context(ctx, "clnn_context_get_cache_stats");
    if (status != CLNN_SUCCESS)
        return status;
    if (!stats)
        return clnn_error((clnn_context *)ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_context_get_cache_stats: stats is NULL");
    *stats = ctx->cache;
    return CLNN_SUCCESS;
}

clnn_status clnn_context_finish(clnn_context *ctx)
{
    clnn_status status = clnn_check_context(ctx, "clnn_context_finish");
    if (status != CLNN_SUCCESS)
        return status;
    CLNN_CL_CHECK(ctx, clFinish(ctx->queue), "clFinish");
    return CLNN_SUCCESS;
}

clnn_status clnn_context_self_check(clnn_context *ctx)
{
    clnn_status status = clnn_check_context(ctx, "clnn_context_self_check");
    if (status != CLNN_SUCCESS)
        return status;

    /* y[i] = x[i] * x[i] + i with x[i] = i % 1024 - 512: every value is an integer below 2^24,
     * so float arithmetic is exact and the answer is known bit for bit. */
    enum { N = 4099 }; /* not a multiple of any work-group size */
    float *host = malloc(2 * N * sizeof *host);
    if (!host)
        return clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory in the self-check");
    float *x = host, *y = host + N;
    for (int i = 0; i < N; ++i)
        x[i] = (float)(i % 1024 - 512);

    clnn_tensor *tx = NULL, *ty = NULL;
    size_t dims[1] = {N};
    cl_kernel kernel;
    status = clnn_tensor_create(ctx, 1, dims, &tx);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_create(ctx, 1, dims, &ty);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_upload(tx, x, N);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_fill(ty, -1.0f);
    if (status == CLNN_SUCCESS)
        status = clnn_get_kernel(ctx, "core.cl", NULL, "clnn_self_check", &kernel);
    if (status == CLNN_SUCCESS) {
        cl_uint n = N;
        status = clnn_run_kernel_1d(ctx, kernel, "clnn_self_check", N,
                                    CLNN_ARGS(CLNN_ARG(ty->buffer), CLNN_ARG(tx->buffer),
                                              CLNN_ARG(n)));
    }
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_download(ty, y, N);
    for (int i = 0; status == CLNN_SUCCESS && i < N; ++i) {
        float expected = x[i] * x[i] + (float)i;
        if (y[i] != expected)
            status = clnn_error(ctx, CLNN_ERR_MISMATCH,
                                "self-check on %s: y[%d] = %.9g, expected %.9g",
                                ctx->info.device_name, i, (double)y[i], (double)expected);
    }
    clnn_tensor_destroy(tx);
    clnn_tensor_destroy(ty);
    free(host);
    return status;
}
