/*
 * The compiled-program cache: a miss then a hit, corrupt, truncated and foreign entries rejected
 * and rebuilt, an unwritable directory that only disables caching, "off", two processes writing
 * the same entries at once, kernel sources read from a directory, a build failure with its
 * compiler log, and the shared program built ahead of use (clnn_context_build_programs).
 */
#define _GNU_SOURCE
#include "clnn_test.h"

#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* A context on the device under test with the given cache and kernel directories. */
static clnn_context *make_context(const char *cache_dir, const char *kernel_dir)
{
    clnn_context_options options;
    clnn_context_options_init(&options);
    char pair[32];
    snprintf(pair, sizeof pair, "%u:%u", clnn_test_device.platform_index,
             clnn_test_device.device_index);
    options.device = pair;
    options.cache_dir = cache_dir;
    options.kernel_dir = kernel_dir;
    clnn_context *ctx = NULL;
    CLNN_ASSERT_OK(clnn_context_create(&ctx, &options));
    return ctx;
}

/* Builds the core program in a fresh context and returns its cache counters. */
static clnn_cache_stats build_once(const char *cache_dir)
{
    clnn_context *ctx = make_context(cache_dir, NULL);
    CLNN_ASSERT_OK(clnn_context_self_check(ctx));
    clnn_cache_stats stats;
    CLNN_ASSERT_OK(clnn_context_get_cache_stats(ctx, &stats));
    clnn_context_destroy(ctx);
    return stats;
}

/* Lists the cache entries (*.clbin) of dir; returns how many, and fails on leftover temp files. */
static int list_entries(const char *dir, char names[][512], int max)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strstr(e->d_name, ".tmp"))
            fail_msg("temporary file %s left in the cache", e->d_name);
        size_t len = strlen(e->d_name);
        if (len > 6 && strcmp(e->d_name + len - 6, ".clbin") == 0 && n < max)
            snprintf(names[n++], 512, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    return n;
}

static void test_miss_then_hit(void **state)
{
    (void)state;
    char dir[256];
    clnn_test_make_temp_dir(dir, sizeof dir);
    clnn_cache_stats cold = build_once(dir);
    assert_true(cold.enabled);
    assert_string_equal(cold.directory, dir);
    assert_int_equal(cold.programs_built, 1);
    assert_int_equal(cold.disk_misses, 1);
    assert_int_equal(cold.disk_hits, 0);
    assert_int_equal(cold.disk_writes, 1);
    assert_int_equal(cold.disk_write_errors, 0);
    char names[8][512];
    assert_int_equal(list_entries(dir, names, 8), 1);

    clnn_cache_stats warm = build_once(dir);
    assert_int_equal(warm.programs_built, 0);
    assert_int_equal(warm.disk_hits, 1);
    assert_int_equal(warm.disk_misses, 0);
    assert_int_equal(warm.disk_rejected, 0);
    assert_int_equal(warm.disk_writes, 0);

    /* Within one context a program is built once, however often it is used. */
    clnn_context *ctx = make_context(dir, NULL);
    for (int i = 0; i < 3; ++i)
        CLNN_ASSERT_OK(clnn_context_self_check(ctx));
    clnn_cache_stats stats;
    clnn_context_get_cache_stats(ctx, &stats);
    assert_int_equal(stats.disk_hits + stats.programs_built, 1);
    clnn_context_destroy(ctx);
    clnn_test_remove_tree(dir);
}

/* clnn_context_build_programs builds the shared program once; the ops whose kernels it holds
 * (the self check's core.cl, clip.cl) then build nothing more. */
static void test_build_programs(void **state)
{
    (void)state;
    char dir[256];
    clnn_test_make_temp_dir(dir, sizeof dir);
    clnn_context *ctx = make_context(dir, NULL);
    CLNN_ASSERT_OK(clnn_context_build_programs(ctx));
    CLNN_ASSERT_OK(clnn_context_build_programs(ctx));
    clnn_cache_stats stats;
    CLNN_ASSERT_OK(clnn_context_get_cache_stats(ctx, &stats));
    assert_int_equal(stats.programs_built, 1);
    CLNN_ASSERT_OK(clnn_context_self_check(ctx));
    /* clip.cl's kernel, from the same program. */
    float v[4] = {-3.0f, -0.5f, 0.5f, 3.0f}, got[4];
    size_t n = 4;
    clnn_tensor *t = NULL;
    CLNN_ASSERT_OK(clnn_tensor_create(ctx, 1, &n, &t));
    CLNN_ASSERT_OK(clnn_tensor_upload(t, v, n));
    CLNN_ASSERT_OK(clnn_clip_by_value(&t, 1, 1.0f));
    CLNN_ASSERT_OK(clnn_tensor_download(t, got, n));
    assert_true(got[0] == -1.0f && got[1] == -0.5f && got[2] == 0.5f && got[3] == 1.0f);
    CLNN_ASSERT_OK(clnn_context_get_cache_stats(ctx, &stats));
    assert_int_equal(stats.programs_built + stats.disk_hits, 1);
    clnn_tensor_destroy(t);
    clnn_context_destroy(ctx);
    clnn_test_remove_tree(dir);
}

typedef void (*damage_fn)(const char *path);

static void flip_middle_byte(const char *path)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, size / 2, SEEK_SET);
    int c = fgetc(f);
    fseek(f, size / 2, SEEK_SET);
    fputc(c ^ 0x10, f);
    fclose(f);
}

static void truncate_half(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size / 2), 0);
}

static void truncate_to_nothing(const char *path)
{
    assert_int_equal(truncate(path, 0), 0);
}

static void replace_with_foreign(const char *path)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("this is not a clnn program cache entry\n", f);
    fclose(f);
}

/* Damages the first cache entry; the next build must reject it, rebuild, and rewrite it. */
static void check_damage(damage_fn damage)
{
    char dir[256];
    clnn_test_make_temp_dir(dir, sizeof dir);
    build_once(dir);
    char names[8][512];
    assert_int_equal(list_entries(dir, names, 8), 1);
    damage(names[0]);

    clnn_cache_stats after = build_once(dir);
    assert_int_equal(after.disk_rejected, 1);
    assert_int_equal(after.disk_hits, 0);
    assert_int_equal(after.programs_built, 1);
    assert_int_equal(after.disk_writes, 1);

    clnn_cache_stats again = build_once(dir); /* the rewritten entry is good */
    assert_int_equal(again.disk_hits, 1);
    assert_int_equal(again.programs_built, 0);
    clnn_test_remove_tree(dir);
}

static void test_corrupt_entry(void **state)
{
    (void)state;
    check_damage(flip_middle_byte);
}

static void test_truncated_entry(void **state)
{
    (void)state;
    check_damage(truncate_half);
    check_damage(truncate_to_nothing);
}

static void test_foreign_entry(void **state)
{
    (void)state;
    check_damage(replace_with_foreign);
}

/* A cache directory that cannot be created only disables the cache. */
static void test_unwritable_directory(void **state)
{
    (void)state;
    char dir[256], blocked[512];
    clnn_test_make_temp_dir(dir, sizeof dir);
    snprintf(blocked, sizeof blocked, "%s/file", dir);
    FILE *f = fopen(blocked, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(blocked, sizeof blocked, "%s/file/cache", dir); /* under a regular file */
    clnn_cache_stats stats = build_once(blocked);
    assert_false(stats.enabled);
    assert_int_equal(stats.programs_built, 1);
    assert_int_equal(stats.disk_writes, 0);

    clnn_cache_stats off = build_once("off");
    assert_false(off.enabled);
    assert_int_equal(off.programs_built, 1);
    clnn_test_remove_tree(dir);
}

/* A directory whose entries cannot be written (replaced by a directory of the same name): the
 * build succeeds and the failed write is counted. */
static void test_failed_write(void **state)
{
    (void)state;
    char dir[256];
    clnn_test_make_temp_dir(dir, sizeof dir);
    build_once(dir);
    char names[8][512];
    assert_int_equal(list_entries(dir, names, 8), 1);
    assert_int_equal(unlink(names[0]), 0);
    assert_int_equal(mkdir(names[0], 0755), 0); /* rename onto a directory fails */
    clnn_cache_stats stats = build_once(dir);
    assert_int_equal(stats.programs_built, 1);
    assert_int_equal(stats.disk_write_errors, 1);
    clnn_test_remove_tree(dir);
}

/* Copies the directory tree at from to to (cp -a; to must not exist yet); a tree that is missing
 * copies nothing. */
static void copy_tree(const char *from, const char *to)
{
    struct stat st;
    if (stat(from, &st) != 0)
        return;
    char *argv[] = {"cp", "-a", (char *)from, (char *)to, NULL};
    pid_t pid;
    assert_int_equal(posix_spawnp(&pid, "cp", NULL, NULL, argv, environ), 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Two processes build into an empty cache at once; every entry left is whole and usable. */
static void test_concurrent_writers(void **state)
{
    (void)state;
    char dir[256];
    clnn_test_make_temp_dir(dir, sizeof dir);
    char cache_env[320], child_env[] = "CLNN_TEST_CHILD=cache-build", device_env[64];
    snprintf(cache_env, sizeof cache_env, "CLNN_CACHE_DIR=%s", dir);
    snprintf(device_env, sizeof device_env, "CLNN_DEVICE=%u:%u", clnn_test_device.platform_index,
             clnn_test_device.device_index);
    char *envp[256];
    size_t n = 0;
    for (char **e = environ; *e && n < 250; ++e)
        if (strncmp(*e, "CLNN_CACHE_DIR=", 15) && strncmp(*e, "CLNN_TEST_CHILD=", 16) &&
            strncmp(*e, "CLNN_DEVICE=", 12))
            envp[n++] = *e;
    envp[n++] = cache_env;
    envp[n++] = child_env;
    envp[n++] = device_env;
    envp[n] = NULL;
    char *argv[] = {"/proc/self/exe", NULL};

    /* Each child gets its own POCL kernel cache: POCL's cache is not safe for processes that
     * build at once (pocl/pocl#1480), and it is clnn's cache under test here. Each starts as a
     * copy of this process's, which test_build_programs has filled with the shared program's
     * kernels: otherwise each child compiled all of them again for the binaries clnn's cache
     * asks for (about 20 s a form; test_cache@basic took 315 s under the sanitizers). */
    char pocl_env[2][320];
    const char *own_pocl = getenv("POCL_CACHE_DIR");
    for (int i = 0; i < 2; ++i) {
        snprintf(pocl_env[i], sizeof pocl_env[i], "POCL_CACHE_DIR=%s/pocl-%d", dir, i);
        if (own_pocl && own_pocl[0])
            copy_tree(own_pocl, pocl_env[i] + strlen("POCL_CACHE_DIR="));
    }
    char *child_envp[2][260];
    for (int i = 0; i < 2; ++i) {
        size_t m = 0;
        for (size_t k = 0; k < n; ++k)
            if (strncmp(envp[k], "POCL_CACHE_DIR=", 15) != 0)
                child_envp[i][m++] = envp[k];
        child_envp[i][m++] = pocl_env[i];
        child_envp[i][m] = NULL;
    }

    for (int round = 0; round < 2; ++round) {
        pid_t pids[2];
        for (int i = 0; i < 2; ++i)
            assert_int_equal(
                posix_spawn(&pids[i], "/proc/self/exe", NULL, NULL, argv, child_envp[i]), 0);
        for (int i = 0; i < 2; ++i) {
            int status = 0;
            assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
            assert_true(WIFEXITED(status));
            assert_int_equal(WEXITSTATUS(status), 0);
        }
        char names[8][512];
        assert_int_equal(list_entries(dir, names, 8), 1);
        clnn_cache_stats stats = build_once(dir);
        assert_int_equal(stats.disk_hits, 1);
        assert_int_equal(stats.disk_rejected, 0);
    }
    clnn_test_remove_tree(dir);
}

/* The child of test_concurrent_writers: build and check, exit 0 on success. */
static int cache_build_child(void)
{
    clnn_test_load_opencl();
    clnn_context *ctx = NULL;
    if (clnn_context_create(&ctx, NULL) != CLNN_SUCCESS)
        return 1;
    int ok = clnn_context_self_check(ctx) == CLNN_SUCCESS;
    clnn_context_destroy(ctx);
    return ok ? 0 : 2;
}

/* Temporary entries of writers killed before their rename are removed by the next write, for any
 * entry; a live writer's, a fresh one and other names stay. */
static void test_stale_temp_files(void **state)
{
    (void)state;
    char dir[256];
    clnn_test_make_temp_dir(dir, sizeof dir);
    build_once(dir);
    char names[8][512];
    assert_int_equal(list_entries(dir, names, 8), 1);
    assert_int_equal(unlink(names[0]), 0); /* so that the next build writes again */
    long dead = clnn_test_dead_pid(), alive = (long)getppid();
    char stale[2][96], kept[4][96];
    snprintf(stale[0], 96, "%s.%ld.0.tmp", strrchr(names[0], '/') + 1, dead);
    snprintf(stale[1], 96, "0123456789abcdef.clbin.%ld.5.tmp", dead);
    snprintf(kept[0], 96, "0123456789abcdef.clbin.%ld.6.tmp", alive);
    snprintf(kept[1], 96, "0123456789ABCDEF.clbin.%ld.7.tmp", dead);
    snprintf(kept[2], 96, "notes.%ld.0.tmp", dead);
    snprintf(kept[3], 96, "0123456789abcdef.clbin.%ld.8.tmp", dead);
    for (int i = 0; i < 2; ++i)
        clnn_test_make_aged_file(dir, stale[i], 600);
    for (int i = 0; i < 4; ++i)
        clnn_test_make_aged_file(dir, kept[i], i == 3 ? 0 : 600);
    clnn_cache_stats stats = build_once(dir);
    assert_int_equal(stats.disk_writes, 1);
    for (int i = 0; i < 6; ++i) {
        const char *name = i < 2 ? stale[i] : kept[i - 2];
        char path[700];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if ((access(path, F_OK) == 0) != (i >= 2))
            fail_msg("%s was %s", name, i < 2 ? "kept" : "removed");
        if (i >= 2)
            unlink(path);
    }
    assert_int_equal(list_entries(dir, names, 8), 1);
    clnn_test_remove_tree(dir);
}

/* The cache directory is a trust boundary: clnn creates it private, and neither reads entries
 * from a directory that another user owns or can write (nor under such a parent, unless sticky),
 * nor trusts an entry file another user owns or can write. It builds instead and says why. */
static void test_untrusted_cache(void **state)
{
    (void)state;
    char dir[256], parent[320], cache[400];
    clnn_test_make_temp_dir(dir, sizeof dir);
    snprintf(parent, sizeof parent, "%s/new", dir);
    snprintf(cache, sizeof cache, "%s/new/cache", dir);
    clnn_cache_stats stats = build_once(cache);
    assert_true(stats.enabled);
    assert_string_equal(stats.note, "");
    struct stat st;
    assert_int_equal(stat(cache, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(stat(parent, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    char names[8][512];
    assert_int_equal(list_entries(cache, names, 8), 1);
    assert_int_equal(stat(names[0], &st), 0);
    assert_int_equal(st.st_mode & 0077, 0);

    /* a directory others can write: no disk cache at all, and a note that says why */
    assert_int_equal(chmod(cache, 0777), 0);
    stats = build_once(cache);
    assert_false(stats.enabled);
    assert_int_equal(stats.programs_built, 1);
    assert_int_equal(stats.disk_hits, 0);
    assert_non_null(strstr(stats.note, cache));
    assert_non_null(strstr(stats.note, "writable"));
    assert_int_equal(chmod(cache, 0700), 0);

    /* a parent others can write without the sticky bit (as /tmp has) */
    assert_int_equal(chmod(parent, 0777), 0);
    stats = build_once(cache);
    assert_false(stats.enabled);
    assert_non_null(strstr(stats.note, parent));
    assert_int_equal(chmod(parent, 01777), 0);
    stats = build_once(cache);
    assert_true(stats.enabled);
    assert_int_equal(stats.disk_hits, 1);
    assert_int_equal(chmod(parent, 0700), 0);

    /* an entry others can write is not loaded; it is rebuilt and rewritten private */
    assert_int_equal(chmod(names[0], 0666), 0);
    stats = build_once(cache);
    assert_int_equal(stats.disk_hits, 0);
    assert_int_equal(stats.disk_rejected, 1);
    assert_int_equal(stats.programs_built, 1);
    assert_non_null(strstr(stats.note, "writable"));
    assert_int_equal(stat(names[0], &st), 0);
    assert_int_equal(st.st_mode & 0077, 0);
    stats = build_once(cache);
    assert_int_equal(stats.disk_hits, 1);

    /* files and directories owned by another user (root can make them) */
    if (geteuid() == 0) {
        assert_int_equal(chown(names[0], 65534, 65534), 0);
        stats = build_once(cache);
        assert_int_equal(stats.disk_hits, 0);
        assert_int_equal(stats.disk_rejected, 1);
        assert_non_null(strstr(stats.note, "owned by"));
        assert_int_equal(chown(cache, 65534, 65534), 0);
        stats = build_once(cache);
        assert_false(stats.enabled);
        assert_non_null(strstr(stats.note, "owned by"));
    }
    clnn_test_remove_tree(dir);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void copy_file(const char *from, const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", from, name);
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, in);
    fclose(in);
    assert_true(n < sizeof text - 1); /* the whole file */
    text[n] = '\0';
    write_file(dir, name, text);
}

/* Kernels read from a directory at run time; a missing file and a build error are reported. */
static void test_kernel_directory_and_build_failure(void **state)
{
    (void)state;
    clnn_context *ctx = make_context("off", CLNN_KERNEL_SOURCE_DIR);
    CLNN_ASSERT_OK(clnn_context_self_check(ctx));
    clnn_context_destroy(ctx);

    char dir[256];
    clnn_test_make_temp_dir(dir, sizeof dir);
    ctx = make_context("off", dir); /* an empty directory */
    CLNN_ASSERT_STATUS(clnn_context_self_check(ctx), CLNN_ERR_KERNEL_SOURCE);
    assert_non_null(strstr(clnn_context_last_error(ctx), "core.cl"));
    clnn_context_destroy(ctx);

    /* Every source, then a broken core.cl: the shared program that holds it fails to build. */
    DIR *sources = opendir(CLNN_KERNEL_SOURCE_DIR);
    assert_non_null(sources);
    for (struct dirent *e; (e = readdir(sources)) != NULL;)
        if (e->d_name[0] != '.')
            copy_file(CLNN_KERNEL_SOURCE_DIR, dir, e->d_name);
    closedir(sources);
    write_file(dir, "core.cl",
               "#include \"common.h\"\n"
               "__kernel void clnn_self_check(__global float *y) { y[0] = undeclared_name; }\n");
    ctx = make_context("off", dir);
    CLNN_ASSERT_STATUS(clnn_context_self_check(ctx), CLNN_ERR_BUILD);
    assert_non_null(strstr(clnn_context_last_error(ctx), "core.cl"));
    const char *log = clnn_context_build_log(ctx);
    assert_non_null(strstr(log, "undeclared_name"));
    /* The context stays usable for what does not need the broken program. */
    float v[3] = {1, 2, 3};
    size_t n = 3;
    clnn_tensor *t = NULL;
    CLNN_ASSERT_OK(clnn_tensor_create(ctx, 1, &n, &t));
    CLNN_ASSERT_OK(clnn_tensor_upload(t, v, 3));
    clnn_tensor_destroy(t);
    clnn_context_destroy(ctx);

    /* Includes nest, and a missing include is named. */
    write_file(dir, "core.cl", "#include \"missing.h\"\n");
    ctx = make_context("off", dir);
    CLNN_ASSERT_STATUS(clnn_context_self_check(ctx), CLNN_ERR_KERNEL_SOURCE);
    assert_non_null(strstr(clnn_context_last_error(ctx), "missing.h"));
    clnn_context_destroy(ctx);
    clnn_test_remove_tree(dir);
}

int main(void)
{
    /* The disk cache on every device, POCL's too (its profile leaves it off: test_context checks
     * that), so that its code runs everywhere, the sanitizer run on POCL included. */
    setenv("CLNN_BINARY_CACHE", "on", 1);
    const char *child = getenv("CLNN_TEST_CHILD");
    if (child && strcmp(child, "cache-build") == 0)
        return cache_build_child();

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_programs),
        cmocka_unit_test(test_miss_then_hit),
        cmocka_unit_test(test_corrupt_entry),
        cmocka_unit_test(test_truncated_entry),
        cmocka_unit_test(test_foreign_entry),
        cmocka_unit_test(test_unwritable_directory),
        cmocka_unit_test(test_failed_write),
        cmocka_unit_test(test_concurrent_writers),
        cmocka_unit_test(test_stale_temp_files),
        cmocka_unit_test(test_untrusted_cache),
        cmocka_unit_test(test_kernel_directory_and_build_failure),
    };
    return clnn_test_main("cache", tests, sizeof tests / sizeof tests[0]);
}
