/*
 * Kernel programs: sources (embedded, or read from a directory for kernel development) with their
 * #include "..." lines expanded, lazy builds once per context, an on-disk cache of compiled
 * binaries, and kernel lookup (launching them: src/launch.c).
 *
 * Programs: the kernel files built without an activation option make one shared program
 * (shared_files below), so that a model's first step pays for one build, not one per family. A
 * file built for an activation (-DCLNN_ACTIVATION=<kind>, kind not the identity) is a program of
 * its own, as is norm.cl, which models nearly always fuse with an activation.
 *
 * Cache entries are keyed by platform, device, driver version, device version, build options and
 * a hash of the expanded source. Each entry stores its full key and a zlib crc32 of its contents:
 * an entry that is truncated, corrupt, or written for another key is rejected and rebuilt, never
 * trusted. Entries are written to a temporary file, flushed to disk and renamed into place, so a
 * reader (another process included) sees either the whole entry or none.
 */
#include "internal.h"
#include "program.h"
#include "serialize.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

struct clnn_program_entry {
    char *file;
    char *options;
    cl_program program;
};

struct clnn_kernel_entry {
    size_t program;
    char *name;
    cl_kernel kernel;
};

#define CACHE_MAGIC "CLNNPRG1"
#define CACHE_MAGIC_SIZE 8
#define CACHE_MAX_ENTRY_BYTES ((size_t)512 << 20)
#define MAX_INCLUDE_DEPTH 8

/* ---- a growable string ----------------------------------------------------------------------- */

typedef struct text {
    char *data;
    size_t length, capacity;
} text;

static int text_append(text *t, const char *s, size_t n)
{
    if (t->length + n + 1 > t->capacity) {
        size_t capacity = t->capacity ? t->capacity : 4096;
        while (capacity < t->length + n + 1)
            capacity *= 2;
        char *data = realloc(t->data, capacity);
        if (!data)
            return -1;
        t->data = data;
        t->capacity = capacity;
    }
    memcpy(t->data + t->length, s, n);
    t->length += n;
    t->data[t->length] = '\0';
    return 0;
}

static int text_printf(text *t, const char *format, ...) __attribute__((format(printf, 2, 3)));
static int text_printf(text *t, const char *format, ...)
{
    char buf[1024];
    va_list args;
    va_start(args, format);
    int n = vsnprintf(buf, sizeof buf, format, args);
    va_end(args);
    if (n < 0 || (size_t)n >= sizeof buf)
        return -1;
    return text_append(t, buf, (size_t)n);
}

static char *duplicate(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* ---- sources ----------------------------------------------------------------------------------- */

/* Reads a whole file into a NUL-terminated buffer; *info (when not NULL) receives the status of
 * the file that was read. Returns 0, or -1 with errno set. */
static int read_file(const char *path, size_t max_bytes, char **data, size_t *length,
                     struct stat *info)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || (size_t)st.st_size > max_bytes) {
        fclose(f);
        errno = EFBIG;
        return -1;
    }
    size_t size = (size_t)st.st_size;
    char *buf = malloc(size + 1);
    if (!buf) {
        fclose(f);
        errno = ENOMEM;
        return -1;
    }
    size_t got = fread(buf, 1, size, f);
    fclose(f);
    if (got != size) {
        free(buf);
        errno = EIO;
        return -1;
    }
    buf[size] = '\0';
    *data = buf;
    *length = size;
    if (info)
        *info = st;
    return 0;
}

/* Finds one kernel source file: in ctx->kernel_dir when set, else among the embedded copies. */
static clnn_status load_source_file(clnn_context *ctx, const char *file, char **data,
                                    size_t *length)
{
    if (ctx->kernel_dir[0]) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", ctx->kernel_dir, file);
        if (read_file(path, (size_t)16 << 20, data, length, NULL) != 0)
            return clnn_error(ctx, CLNN_ERR_KERNEL_SOURCE, "cannot read kernel source %s: %s",
                              path, strerror(errno));
        return CLNN_SUCCESS;
    }
    for (const clnn_embedded_kernel *k = clnn_embedded_kernels; k->name; ++k) {
        if (strcmp(k->name, file) == 0) {
            *data = malloc(k->length + 1);
            if (!*data)
                return clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory loading %s", file);
            memcpy(*data, k->data, k->length + 1);
            *length = k->length;
            return CLNN_SUCCESS;
        }
    }
    return clnn_error(ctx, CLNN_ERR_KERNEL_SOURCE, "kernel source %s is not embedded in clnn",
                      file);
}

/* If line is `#include "name"`, copies name into out and returns 1. */
static int parse_include(const char *line, size_t length, char *out, size_t size)
{
    const char *p = line, *end = line + length;
    while (p < end && (*p == ' ' || *p == '\t'))
        ++p;
    if (p == end || *p++ != '#')
        return 0;
    while (p < end && (*p == ' ' || *p == '\t'))
        ++p;
    if ((size_t)(end - p) < 7 || strncmp(p, "include", 7) != 0)
        return 0;
    p += 7;
    while (p < end && (*p == ' ' || *p == '\t'))
        ++p;
    if (p == end || *p++ != '"')
        return 0;
    const char *q = memchr(p, '"', (size_t)(end - p));
    if (!q || (size_t)(q - p) >= size || q == p)
        return 0;
    memcpy(out, p, (size_t)(q - p));
    out[q - p] = '\0';
    return 1;
}

/* Appends file to out with its #include "..." lines replaced by the files they name, so a program
 * is one self-contained source whatever the OpenCL implementation's include handling. */
static clnn_status expand_source(clnn_context *ctx, const char *file, int depth, text *out)
{
    if (depth > MAX_INCLUDE_DEPTH)
        return clnn_error(ctx, CLNN_ERR_KERNEL_SOURCE,
                          "kernel includes nest deeper than %d levels at %s", MAX_INCLUDE_DEPTH,
                          file);
    char *src;
    size_t length;
    clnn_status status = load_source_file(ctx, file, &src, &length);
    if (status != CLNN_SUCCESS)
        return status;

    int line_number = 1;
    const char *p = src, *end = src + length;
    if (text_printf(out, "#line 1 \"%s\"\n", file) != 0)
        goto out_of_memory;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        char include[128];
        if (parse_include(p, n, include, sizeof include)) {
            status = expand_source(ctx, include, depth + 1, out);
            if (status != CLNN_SUCCESS) {
                free(src);
                return status;
            }
            if (text_printf(out, "#line %d \"%s\"\n", line_number + 1, file) != 0)
                goto out_of_memory;
        } else if (text_append(out, p, n) != 0) {
            goto out_of_memory;
        }
        p += n;
        ++line_number;
    }
    if (length && src[length - 1] != '\n' && text_append(out, "\n", 1) != 0)
        goto out_of_memory;
    free(src);
    return CLNN_SUCCESS;

out_of_memory:
    free(src);
    return clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory expanding kernel source %s", file);
}

/* The files of the shared program, in this order. Measured on POCL 3.1's CPU device, where a
 * build costs about 0.1 s before its first kernel: these ten files build in 0.47 s as one program
 * and in 1.3 s as ten; the default MLP's first step needs six of them. norm.cl (24 kernels, 0.26 s
 * alone) is left out: batch norm is nearly always built fused with an activation, as its own
 * program, so its identity build would mostly be paid for nothing. */
static const char *const shared_files[] = {"core.cl", "dense.cl", "activation.cl", "loss.cl",
                                           "optim.cl", "clip.cl", "init.cl", "diag.cl",
                                           "pool.cl", "conv.cl"};

/* The program name of the shared program (never a file name: it has spaces). */
#define SHARED_PROGRAM "the shared program"

/* The program that holds file's kernels built with options: the shared one, or file's own. */
static const char *program_of(const char *file, const char *options)
{
    if (options[0])
        return file;
    for (size_t i = 0; i < sizeof shared_files / sizeof *shared_files; ++i)
        if (strcmp(shared_files[i], file) == 0)
            return SHARED_PROGRAM;
    return file;
}

/* A program as build errors name it: "kernels/F", or the shared program with its files listed
 * (some compilers, Oclgrind's, ignore the #line markers that name the file of a line). */
static void program_title(const char *program, char *out, size_t size)
{
    if (strcmp(program, SHARED_PROGRAM) != 0) {
        snprintf(out, size, "kernels/%s", program);
        return;
    }
    size_t used = (size_t)snprintf(out, size, "%s (kernels/", SHARED_PROGRAM);
    for (size_t i = 0; i < sizeof shared_files / sizeof *shared_files && used < size; ++i)
        used += (size_t)snprintf(out + used, size - used, "%s%s", i ? ", " : "", shared_files[i]);
    if (used < size)
        snprintf(out + used, size - used, ")");
}

/* The source of a program (see program_of): its files, expanded, one after another. */
static clnn_status program_source(clnn_context *ctx, const char *program, text *out)
{
    if (strcmp(program, SHARED_PROGRAM) != 0)
        return expand_source(ctx, program, 0, out);
    clnn_status status = CLNN_SUCCESS;
    for (size_t i = 0; status == CLNN_SUCCESS && i < sizeof shared_files / sizeof *shared_files;
         ++i)
        status = expand_source(ctx, shared_files[i], 0, out);
    return status;
}

/* ---- the disk cache -------------------------------------------------------------------------- */

static uint64_t fnv1a64(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; ++i) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* The key names everything the compiled binary depends on. */
static int cache_key(const clnn_context *ctx, const char *options, const text *source, text *key)
{
    unsigned long crc = crc32(0L, (const Bytef *)source->data, (uInt)source->length);
    return text_printf(key,
                       "clnn program cache v1\nplatform=%s\nplatform_vendor=%s\ndevice=%s\n"
                       "driver=%s\ndevice_version=%s\noptions=%s\nsource_length=%zu\n"
                       "source_fnv1a64=%016llx\nsource_crc32=%08lx\n",
                       ctx->info.platform_name, ctx->info.platform_vendor, ctx->info.device_name,
                       ctx->info.driver_version, ctx->info.device_version, options, source->length,
                       (unsigned long long)fnv1a64(source->data, source->length), crc);
}

static void cache_path(const clnn_context *ctx, const text *key, char *path, size_t size)
{
    snprintf(path, size, "%s/%016llx.clbin", ctx->cache.directory,
             (unsigned long long)fnv1a64(key->data, key->length));
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; ++i)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; ++i)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

enum { CACHE_HIT, CACHE_MISSING, CACHE_REJECTED };

/* Entry layout (little-endian): magic[8], key length u32, binary length u64, key, binary,
 * crc32 u32 of every byte before it. Returns CACHE_HIT with *binary pointing into *entry, or
 * CACHE_REJECTED with a note when another user owns or can write the file (its binary would be
 * loaded, native code on some drivers, so only this user's own entries are used). */
static int cache_read(const char *path, const text *key, unsigned char **entry,
                      const unsigned char **binary, size_t *binary_length, char *note,
                      size_t note_size)
{
    char *data;
    size_t length;
    struct stat st;
    if (read_file(path, CACHE_MAX_ENTRY_BYTES, &data, &length, &st) != 0)
        return errno == ENOENT ? CACHE_MISSING : CACHE_REJECTED;
    if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
        snprintf(note, note_size, "cache entry %s refused and rebuilt: %s", path,
                 st.st_uid != geteuid() ? "owned by another user" : "writable by other users");
        free(data);
        return CACHE_REJECTED;
    }
    if (!clnn_cache_entry_parse((const unsigned char *)data, length, key->data, key->length,
                                binary, binary_length)) {
        free(data);
        return CACHE_REJECTED;
    }
    *entry = (unsigned char *)data;
    return CACHE_HIT;
}

int clnn_cache_entry_parse(const unsigned char *p, size_t length, const char *key,
                           size_t key_size, const unsigned char **binary, size_t *binary_length)
{
    const size_t header = CACHE_MAGIC_SIZE + 4 + 8;
    if (length < header + 4 || memcmp(p, CACHE_MAGIC, CACHE_MAGIC_SIZE) != 0)
        return 0;
    uint64_t key_length = get_u32(p + CACHE_MAGIC_SIZE);
    uint64_t bin_length = get_u64(p + CACHE_MAGIC_SIZE + 4);
    if (key_length > length || bin_length > length ||
        header + key_length + bin_length + 4 != length)
        return 0;
    size_t body = header + (size_t)key_length + (size_t)bin_length;
    if (crc32(0L, p, (uInt)body) != get_u32(p + body))
        return 0;
    if (key_length != key_size || memcmp(p + header, key, key_size) != 0 || bin_length == 0)
        return 0;
    *binary = p + header + key_length;
    *binary_length = (size_t)bin_length;
    return 1;
}

static atomic_ulong temp_counter;

/* Writes an entry atomically: temporary file, fsync, rename. Returns 0 on success. */
static int cache_write(const char *path, const text *key, const unsigned char *binary,
                       size_t binary_length)
{
    const size_t header = CACHE_MAGIC_SIZE + 4 + 8;
    size_t body = header + key->length + binary_length;
    unsigned char *entry = malloc(body + 4);
    if (!entry)
        return -1;
    memcpy(entry, CACHE_MAGIC, CACHE_MAGIC_SIZE);
    put_u32(entry + CACHE_MAGIC_SIZE, (uint32_t)key->length);
    put_u64(entry + CACHE_MAGIC_SIZE + 4, binary_length);
    memcpy(entry + header, key->data, key->length);
    memcpy(entry + header + key->length, binary, binary_length);
    put_u32(entry + body, (uint32_t)crc32(0L, entry, (uInt)body));

    char temp[1100];
    snprintf(temp, sizeof temp, "%s.%ld.%lu.tmp", path, (long)getpid(),
             atomic_fetch_add(&temp_counter, 1));
    int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int ok = fd >= 0;
    ok = ok && clnn_write_all(fd, entry, body + 4) == 0;
    ok = ok && fsync(fd) == 0;
    if (fd >= 0)
        ok = (close(fd) == 0) && ok;
    ok = ok && rename(temp, path) == 0;
    if (!ok && fd >= 0)
        unlink(temp);
    free(entry);
    return ok ? 0 : -1;
}

/* ---- building ---------------------------------------------------------------------------------- */

static void keep_build_log(clnn_context *ctx, cl_program program)
{
    size_t size = 0;
    if (clGetProgramBuildInfo(program, ctx->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &size) !=
            CL_SUCCESS ||
        size == 0)
        return;
    char *log = malloc(size + 1);
    if (!log)
        return;
    if (clGetProgramBuildInfo(program, ctx->device, CL_PROGRAM_BUILD_LOG, size, log, NULL) !=
        CL_SUCCESS) {
        free(log);
        return;
    }
    log[size] = '\0';
    free(ctx->build_log);
    ctx->build_log = log;
}

const char *clnn_context_build_log(const clnn_context *ctx)
{
    return ctx && ctx->build_log ? ctx->build_log : "";
}

/* Builds from a cached binary; returns NULL (and counts a rejection) when it does not take. */
static cl_program build_from_binary(clnn_context *ctx, const char *options,
                                    const unsigned char *binary, size_t length)
{
    cl_int err, binary_status;
    cl_program program = clCreateProgramWithBinary(ctx->cl_ctx, 1, &ctx->device, &length, &binary,
                                                   &binary_status, &err);
    if (err == CL_SUCCESS && binary_status == CL_SUCCESS &&
        clBuildProgram(program, 1, &ctx->device, options, NULL, NULL) == CL_SUCCESS)
        return program;
    if (err == CL_SUCCESS)
        clReleaseProgram(program);
    ctx->cache.disk_rejected++;
    return NULL;
}

/* A cache entry's name: 16 lowercase hex digits and ".clbin" (cache_path). */
static int cache_stem(const char *stem, size_t length, const void *arg)
{
    (void)arg;
    if (length != 16 + 6 || memcmp(stem + 16, ".clbin", 6) != 0)
        return 0;
    for (size_t i = 0; i < 16; ++i)
        if (!((stem[i] >= '0' && stem[i] <= '9') || (stem[i] >= 'a' && stem[i] <= 'f')))
            return 0;
    return 1;
}

static void save_binary(clnn_context *ctx, cl_program program, const char *path, const text *key)
{
    /* Temporary files of writers killed before their rename, for any entry. */
    clnn_remove_stale_temps(ctx->cache.directory, cache_stem, NULL);
    size_t length = 0;
    unsigned char *binary = NULL;
    int ok = clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof length, &length, NULL) ==
                 CL_SUCCESS &&
             length > 0 && (binary = malloc(length)) != NULL &&
             clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof binary, &binary, NULL) ==
                 CL_SUCCESS &&
             cache_write(path, key, binary, length) == 0;
    free(binary);
    if (ok)
        ctx->cache.disk_writes++;
    else
        ctx->cache.disk_write_errors++;
}

/* Builds the program named `file` (see program_of): a kernel file, or the shared program. */
static clnn_status build_program(clnn_context *ctx, const char *file, const char *extra_options,
                                 cl_program *out)
{
    clnn_status status = CLNN_SUCCESS;
    text source = {0}, options = {0}, key = {0};
    cl_program program = NULL;
    char path[1024] = "";

    status = program_source(ctx, file, &source);
    if (status != CLNN_SUCCESS)
        goto cleanup;
    /* The device profile's options (src/profile.c): the CPU forms' helpers, their prefetch. */
    if (text_printf(&options, "-cl-std=CL1.2%s%s%s", ctx->profile_options,
                    extra_options[0] ? " " : "",
                    extra_options) != 0) {
        status = clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "build options for %s too long", file);
        goto cleanup;
    }

    if (ctx->cache.enabled) {
        if (cache_key(ctx, options.data, &source, &key) != 0) {
            status = clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory building %s", file);
            goto cleanup;
        }
        cache_path(ctx, &key, path, sizeof path);
        unsigned char *entry = NULL;
        const unsigned char *binary;
        size_t length;
        int found = cache_read(path, &key, &entry, &binary, &length, ctx->cache.note,
                               sizeof ctx->cache.note);
        if (found == CACHE_HIT) {
            program = build_from_binary(ctx, options.data, binary, length);
            free(entry);
            if (program) {
                ctx->cache.disk_hits++;
                goto done;
            }
        } else if (found == CACHE_MISSING) {
            ctx->cache.disk_misses++;
        } else {
            ctx->cache.disk_rejected++;
        }
    }

    cl_int err;
    const char *src = source.data;
    program = clCreateProgramWithSource(ctx->cl_ctx, 1, &src, &source.length, &err);
    if (err != CL_SUCCESS) {
        status = clnn_cl_error(ctx, err, "clCreateProgramWithSource");
        program = NULL;
        goto cleanup;
    }
    err = clBuildProgram(program, 1, &ctx->device, options.data, NULL, NULL);
    keep_build_log(ctx, program);
    if (err != CL_SUCCESS) {
        char title[256];
        program_title(file, title, sizeof title);
        status = clnn_error(ctx, CLNN_ERR_BUILD,
                            "building %s with \"%s\" for %s failed (%s); the compiler log is in "
                            "clnn_context_build_log(): %.400s",
                            title, options.data, ctx->info.device_name, clnn_cl_error_name(err),
                            clnn_context_build_log(ctx));
        clReleaseProgram(program);
        program = NULL;
        goto cleanup;
    }
    ctx->cache.programs_built++;
    if (ctx->cache.enabled)
        save_binary(ctx, program, path, &key);

done:
    *out = program;
cleanup:
    free(source.data);
    free(options.data);
    free(key.data);
    return status;
}

/* ---- lookup ------------------------------------------------------------------------------------ */

static clnn_status get_program(clnn_context *ctx, const char *file, const char *options,
                               size_t *index)
{
    for (size_t i = 0; i < ctx->program_count; ++i) {
        if (strcmp(ctx->programs[i].file, file) == 0 &&
            strcmp(ctx->programs[i].options, options) == 0) {
            *index = i;
            return CLNN_SUCCESS;
        }
    }
    clnn_program_entry *grown =
        realloc(ctx->programs, (ctx->program_count + 1) * sizeof *ctx->programs);
    if (!grown)
        return clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory adding program %s", file);
    ctx->programs = grown;
    clnn_program_entry entry = {duplicate(file), duplicate(options), NULL};
    clnn_status status = CLNN_ERR_HOST_MEMORY;
    if (entry.file && entry.options)
        status = build_program(ctx, file, options, &entry.program);
    else
        clnn_error(ctx, status, "out of memory adding program %s", file);
    if (status != CLNN_SUCCESS) {
        free(entry.file);
        free(entry.options);
        return status;
    }
    ctx->programs[ctx->program_count] = entry;
    *index = ctx->program_count++;
    return CLNN_SUCCESS;
}

clnn_status clnn_get_kernel(clnn_context *ctx, const char *file, const char *options,
                            const char *name, cl_kernel *kernel)
{
    size_t program = 0;
    options = options ? options : "";
    clnn_status status = get_program(ctx, program_of(file, options), options, &program);
    if (status != CLNN_SUCCESS)
        return status;
    for (size_t i = 0; i < ctx->kernel_count; ++i) {
        if (ctx->kernels[i].program == program && strcmp(ctx->kernels[i].name, name) == 0) {
            *kernel = ctx->kernels[i].kernel;
            return CLNN_SUCCESS;
        }
    }
    clnn_kernel_entry *grown = realloc(ctx->kernels, (ctx->kernel_count + 1) * sizeof *grown);
    if (!grown)
        return clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory adding kernel %s", name);
    ctx->kernels = grown;
    clnn_kernel_entry entry = {program, duplicate(name), NULL};
    if (!entry.name)
        return clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory adding kernel %s", name);
    cl_int err;
    entry.kernel = clCreateKernel(ctx->programs[program].program, name, &err);
    if (err != CL_SUCCESS) {
        free(entry.name);
        char what[256];
        snprintf(what, sizeof what, "clCreateKernel(%s from kernels/%s)", name, file);
        return clnn_cl_error(ctx, err, what);
    }
    ctx->kernels[ctx->kernel_count++] = entry;
    *kernel = entry.kernel;
    return CLNN_SUCCESS;
}

clnn_status clnn_build_program(clnn_context *ctx, const char *file, const char *options)
{
    size_t program;
    options = options ? options : "";
    return get_program(ctx, program_of(file, options), options, &program);
}

clnn_status clnn_context_build_programs(clnn_context *ctx)
{
    clnn_status status = clnn_check_context(ctx, "clnn_context_build_programs");
    size_t program;
    if (status == CLNN_SUCCESS)
        status = get_program(ctx, SHARED_PROGRAM, "", &program);
    return status;
}

void clnn_release_programs(clnn_context *ctx)
{
    for (size_t i = 0; i < ctx->kernel_count; ++i) {
        clReleaseKernel(ctx->kernels[i].kernel);
        free(ctx->kernels[i].name);
    }
    for (size_t i = 0; i < ctx->program_count; ++i) {
        clReleaseProgram(ctx->programs[i].program);
        free(ctx->programs[i].file);
        free(ctx->programs[i].options);
    }
    free(ctx->kernels);
    free(ctx->programs);
    free(ctx->build_log);
    ctx->kernels = NULL;
    ctx->programs = NULL;
    ctx->build_log = NULL;
    ctx->kernel_count = ctx->program_count = 0;
}
