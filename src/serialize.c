/* Checksummed, atomically written binary files (see serialize.h). */
#include "serialize.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define HEADER_BYTES (8 + 4 + 8)

void clnn_writer_bytes(clnn_writer *w, const void *p, size_t n)
{
    if (w->failed)
        return;
    if (w->length + n > w->capacity) {
        size_t capacity = w->capacity ? w->capacity : 4096;
        while (capacity < w->length + n)
            capacity *= 2;
        unsigned char *data = realloc(w->data, capacity);
        if (!data) {
            w->failed = 1;
            return;
        }
        w->data = data;
        w->capacity = capacity;
    }
    memcpy(w->data + w->length, p, n);
    w->length += n;
}

void clnn_writer_u32(clnn_writer *w, uint32_t v)
{
    unsigned char b[4];
    for (int i = 0; i < 4; ++i)
        b[i] = (unsigned char)(v >> (8 * i));
    clnn_writer_bytes(w, b, 4);
}

void clnn_writer_u64(clnn_writer *w, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; ++i)
        b[i] = (unsigned char)(v >> (8 * i));
    clnn_writer_bytes(w, b, 8);
}

void clnn_writer_f32(clnn_writer *w, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, 4);
    clnn_writer_u32(w, bits);
}

void clnn_writer_free(clnn_writer *w)
{
    free(w->data);
    memset(w, 0, sizeof *w);
}

int clnn_write_all(int fd, const void *data, size_t n)
{
    const unsigned char *p = data;
    while (n > 0) {
        ssize_t written = write(fd, p, n);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += written;
        n -= (size_t)written;
    }
    return 0;
}

static atomic_ulong temp_counter;

/* Reads 1 to 19 decimal digits without a leading zero; returns the end, or NULL. */
static const char *parse_decimal(const char *p, unsigned long long *value)
{
    const char *start = p;
    unsigned long long v = 0;
    while (*p >= '0' && *p <= '9' && p - start < 19)
        v = v * 10 + (unsigned long long)(*p++ - '0');
    if (p == start || (*start == '0' && p - start > 1) || (*p >= '0' && *p <= '9'))
        return NULL;
    *value = v;
    return p;
}

long clnn_temp_file_owner(const char *name, size_t stem_length)
{
    if (strnlen(name, stem_length + 1) <= stem_length || name[stem_length] != '.')
        return 0;
    unsigned long long pid, n;
    const char *p = parse_decimal(name + stem_length + 1, &pid);
    if (!p || *p != '.' || !(p = parse_decimal(p + 1, &n)) || strcmp(p, ".tmp") != 0)
        return 0;
    if (pid == 0 || pid > (unsigned long long)INT32_MAX)
        return 0;
    return (long)pid;
}

void clnn_remove_stale_temps(const char *dir, clnn_stem_test stem_ok, const void *arg)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    int dfd = dirfd(d);
    time_t now = time(NULL);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t length = strlen(e->d_name);
        if (length < 7 || strcmp(e->d_name + length - 4, ".tmp") != 0)
            continue;
        /* STEM is everything before the last two dot-separated fields. */
        const char *dot = e->d_name + length - 4;
        size_t fields = 0;
        while (dot > e->d_name && fields < 2)
            if (*--dot == '.')
                ++fields;
        if (fields < 2)
            continue;
        size_t stem_length = (size_t)(dot - e->d_name);
        long pid = clnn_temp_file_owner(e->d_name, stem_length);
        if (pid <= 0 || (pid_t)pid == getpid() || !stem_ok(e->d_name, stem_length, arg))
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* alive, or not ours to judge (EPERM: another user's live process) */
        struct stat st;
        if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
            now - st.st_mtime < CLNN_STALE_TEMP_SECONDS)
            continue;
        unlinkat(dfd, e->d_name, 0);
    }
    closedir(d);
}

/* A checkpoint's temporary files: STEM is the target's own file name. */
static int same_stem(const char *stem, size_t length, const void *arg)
{
    const char *base = arg;
    return strlen(base) == length && memcmp(stem, base, length) == 0;
}

clnn_status clnn_file_save(clnn_context *ctx, const char *path, const char magic[8],
                           uint32_t version, const clnn_writer *payload)
{
    if (payload->failed)
        return clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory serialising %s", path);
    unsigned char header[HEADER_BYTES];
    memcpy(header, magic, 8);
    for (int i = 0; i < 4; ++i)
        header[8 + i] = (unsigned char)(version >> (8 * i));
    for (int i = 0; i < 8; ++i)
        header[12 + i] = (unsigned char)((uint64_t)payload->length >> (8 * i));
    uLong crc = crc32(0L, header, HEADER_BYTES);
    /* crc32 takes uInt lengths: feed large payloads in pieces. */
    for (size_t done = 0; done < payload->length;) {
        size_t piece = payload->length - done < (1u << 30) ? payload->length - done : (1u << 30);
        crc = crc32(crc, payload->data + done, (uInt)piece);
        done += piece;
    }
    unsigned char trailer[4];
    for (int i = 0; i < 4; ++i)
        trailer[i] = (unsigned char)(crc >> (8 * i));

    char temp[4200];
    int n = snprintf(temp, sizeof temp, "%s.%ld.%lu.tmp", path, (long)getpid(),
                     atomic_fetch_add(&temp_counter, 1));
    if (n < 0 || (size_t)n >= sizeof temp)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "path too long: %s", path);
    char dir_copy[4200], base_copy[4200];
    snprintf(dir_copy, sizeof dir_copy, "%s", path);
    snprintf(base_copy, sizeof base_copy, "%s", path);
    clnn_remove_stale_temps(dirname(dir_copy), same_stem, basename(base_copy));
    int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return clnn_error(ctx, CLNN_ERR_IO, "cannot create %s: %s", temp, strerror(errno));
    int ok = clnn_write_all(fd, header, HEADER_BYTES) == 0 &&
             clnn_write_all(fd, payload->data ? payload->data : header, payload->length) == 0 &&
             clnn_write_all(fd, trailer, 4) == 0 && fsync(fd) == 0;
    int saved_errno = errno;
    if (close(fd) != 0 && ok) {
        ok = 0;
        saved_errno = errno;
    }
    if (ok && rename(temp, path) != 0) {
        ok = 0;
        saved_errno = errno;
    }
    if (!ok) {
        unlink(temp);
        return clnn_error(ctx, CLNN_ERR_IO, "cannot write %s: %s (the previous file, if any, is "
                          "unchanged)", path, strerror(saved_errno));
    }
    /* Make the rename itself durable. */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return CLNN_SUCCESS;
}

clnn_status clnn_file_load(clnn_context *ctx, const char *path, const char magic[8],
                           size_t max_bytes, unsigned char **file, uint32_t *version,
                           clnn_reader *reader)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return clnn_error(ctx, CLNN_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        fclose(f);
        return clnn_error(ctx, CLNN_ERR_IO, "cannot stat %s: %s", path, strerror(errno));
    }
    size_t size = (size_t)st.st_size;
    if (st.st_size < 8) {
        fclose(f);
        return clnn_error(ctx, st.st_size == 0 ? CLNN_ERR_CORRUPT : CLNN_ERR_FORMAT,
                          "%s is %lld bytes: %s", path, (long long)st.st_size,
                          st.st_size == 0 ? "empty (truncated)" : "too short to be a clnn file");
    }
    if (size > max_bytes) {
        fclose(f);
        return clnn_error(ctx, CLNN_ERR_FORMAT, "%s is %zu bytes, more than the %zu expected", path,
                          size, max_bytes);
    }
    unsigned char *data = malloc(size);
    if (!data) {
        fclose(f);
        return clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory reading %s", path);
    }
    size_t got = fread(data, 1, size, f);
    fclose(f);
    if (got != size) {
        free(data);
        return clnn_error(ctx, CLNN_ERR_IO, "cannot read %s", path);
    }
    clnn_status status = CLNN_SUCCESS;
    if (memcmp(data, magic, 8) != 0) {
        status = clnn_error(ctx, CLNN_ERR_FORMAT, "%s is not a %.8s file (wrong magic)", path,
                            magic);
        goto fail;
    }
    if (size < HEADER_BYTES + 4) {
        status = clnn_error(ctx, CLNN_ERR_CORRUPT, "%s is truncated (%zu bytes)", path, size);
        goto fail;
    }
    uint64_t length = 0;
    for (int i = 0; i < 8; ++i)
        length |= (uint64_t)data[12 + i] << (8 * i);
    if (length != size - HEADER_BYTES - 4) {
        status = clnn_error(ctx, CLNN_ERR_CORRUPT,
                            "%s is truncated or padded: its header announces %llu payload bytes, "
                            "the file holds %zu",
                            path, (unsigned long long)length, size - HEADER_BYTES - 4);
        goto fail;
    }
    uLong crc = 0;
    for (size_t done = 0; done < size - 4;) {
        size_t piece = size - 4 - done < (1u << 30) ? size - 4 - done : (1u << 30);
        crc = crc32(crc, data + done, (uInt)piece);
        done += piece;
    }
    uint32_t stored = 0;
    for (int i = 0; i < 4; ++i)
        stored |= (uint32_t)data[size - 4 + i] << (8 * i);
    if ((uint32_t)crc != stored) {
        status = clnn_error(ctx, CLNN_ERR_CORRUPT, "%s is corrupt: checksum mismatch", path);
        goto fail;
    }
    *version = (uint32_t)data[8] | (uint32_t)data[9] << 8 | (uint32_t)data[10] << 16 |
               (uint32_t)data[11] << 24;
    reader->data = data + HEADER_BYTES;
    reader->length = (size_t)length;
    reader->position = 0;
    reader->failed = 0;
    *file = data;
    return CLNN_SUCCESS;
fail:
    free(data);
    return status;
}

int clnn_reader_bytes(clnn_reader *r, void *p, size_t n)
{
    if (r->failed || r->length - r->position < n) {
        r->failed = 1;
        return 0;
    }
    memcpy(p, r->data + r->position, n);
    r->position += n;
    return 1;
}

int clnn_reader_u32(clnn_reader *r, uint32_t *v)
{
    unsigned char b[4];
    if (!clnn_reader_bytes(r, b, 4))
        return 0;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return 1;
}

int clnn_reader_u64(clnn_reader *r, uint64_t *v)
{
    unsigned char b[8];
    if (!clnn_reader_bytes(r, b, 8))
        return 0;
    *v = 0;
    for (int i = 0; i < 8; ++i)
        *v |= (uint64_t)b[i] << (8 * i);
    return 1;
}

int clnn_reader_f32(clnn_reader *r, float *v)
{
    uint32_t bits;
    if (!clnn_reader_u32(r, &bits))
        return 0;
    memcpy(v, &bits, 4);
    return 1;
}
