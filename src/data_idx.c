/*
 * The IDX file format (MNIST's): the reader and writer, plain or gzip through zlib. The reader
 * treats every file as hostile: each size is checked before it is used, allocations are bounded
 * by what the file can hold, and the data is read in chunks into a buffer that grows only as bytes
 * arrive, so a lying header costs neither a crash nor a huge allocation. Datasets built from IDX
 * files are src/data.c.
 */
#include "data_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

/* ---- IDX types ------------------------------------------------------------------------------- */

size_t clnn_idx_type_size(clnn_idx_type type)
{
    switch (type) {
    case CLNN_IDX_UINT8:
    case CLNN_IDX_INT8:
        return 1;
    case CLNN_IDX_INT16:
        return 2;
    case CLNN_IDX_INT32:
    case CLNN_IDX_FLOAT32:
        return 4;
    case CLNN_IDX_FLOAT64:
        return 8;
    }
    return 0;
}

const char *clnn_idx_type_name(clnn_idx_type type)
{
    switch (type) {
    case CLNN_IDX_UINT8:
        return "uint8";
    case CLNN_IDX_INT8:
        return "int8";
    case CLNN_IDX_INT16:
        return "int16";
    case CLNN_IDX_INT32:
        return "int32";
    case CLNN_IDX_FLOAT32:
        return "float32";
    case CLNN_IDX_FLOAT64:
        return "float64";
    }
    return "unknown";
}

/* ---- reading: one interface over a plain FILE and a gzFile ----------------------------------- */

/* The largest factor by which deflate can expand: each 258-byte match costs at least 2 bits, so
 * one compressed byte yields at most 1032 bytes (zlib's FAQ). */
#define DEFLATE_MAX_RATIO 1032u
/* Bytes asked of the file per read, and the first size of the data buffer. */
#define READ_CHUNK ((size_t)1 << 20)

typedef struct idx_source {
    const char *path;
    FILE *file;       /* plain file, or NULL */
    gzFile gz;        /* gzip file, or NULL */
    size_t file_size; /* bytes on disk (always a regular file) */
    size_t offset;    /* decoded bytes consumed so far */
} idx_source;

static void source_close(idx_source *src)
{
    if (src->file)
        fclose(src->file);
    if (src->gz)
        gzclose_r(src->gz);
    src->file = NULL;
    src->gz = NULL;
}

static clnn_status source_open(idx_source *src, const char *path)
{
    memset(src, 0, sizeof *src);
    src->path = path;
    FILE *f = fopen(path, "rb");
    if (!f)
        return clnn_error(NULL, CLNN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    /* Only regular files: their size bounds what the header may declare, checked before any
     * allocation, and the gzip sniff below can rewind them. */
    struct stat st;
    int statted = fstat(fileno(f), &st) == 0;
    if (!statted || !S_ISREG(st.st_mode)) {
        int dir = statted && S_ISDIR(st.st_mode);
        fclose(f);
        return clnn_error(NULL, CLNN_ERR_IO, "%s: %s", path,
                          dir ? "is a directory, not a file" : "is not a regular file");
    }
    src->file_size = (uint64_t)st.st_size > SIZE_MAX ? SIZE_MAX : (size_t)st.st_size;
    unsigned char magic[2];
    size_t got = fread(magic, 1, 2, f);
    if (got < 2 && ferror(f)) {
        int error = errno;
        fclose(f);
        return clnn_error(NULL, CLNN_ERR_IO, "%s: cannot read: %s", path, strerror(error));
    }
    if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        /* gzip by content: reopen through zlib (from the same descriptor, so the file read is
         * the one examined). */
        int fd = dup(fileno(f)), error = errno;
        fclose(f);
        if (fd < 0)
            return clnn_error(NULL, CLNN_ERR_IO, "%s: cannot reopen: %s", path, strerror(error));
        if (lseek(fd, 0, SEEK_SET) != 0) {
            error = errno;
            close(fd);
            return clnn_error(NULL, CLNN_ERR_IO, "%s: cannot seek: %s", path, strerror(error));
        }
        src->gz = gzdopen(fd, "rb");
        if (!src->gz) {
            close(fd);
            return clnn_error(NULL, CLNN_ERR_HOST_MEMORY, "%s: zlib could not open the file", path);
        }
        gzbuffer(src->gz, 1u << 17);
        return CLNN_SUCCESS;
    }
    rewind(f);
    src->file = f;
    return CLNN_SUCCESS;
}

/* Reads up to n decoded bytes; *got is how many came. Errors other than a short read (end of
 * data) are raised here: an I/O error, or a damaged gzip stream. */
static clnn_status source_read(idx_source *src, void *buf, size_t n, size_t *got)
{
    unsigned char *p = buf;
    size_t total = 0;
    while (total < n) {
        size_t want = n - total;
        if (want > READ_CHUNK)
            want = READ_CHUNK;
        size_t r;
        if (src->gz) {
            int k = gzread(src->gz, p + total, (unsigned)want);
            if (k < 0) {
                int code = 0;
                const char *msg = gzerror(src->gz, &code);
                if (code == Z_ERRNO)
                    return clnn_error(NULL, CLNN_ERR_IO, "%s: cannot read: %s", src->path,
                                      strerror(errno));
                if (code == Z_MEM_ERROR)
                    return clnn_error(NULL, CLNN_ERR_HOST_MEMORY, "%s: zlib is out of memory",
                                      src->path);
                return clnn_error(NULL, CLNN_ERR_CORRUPT,
                                  "%s: the gzip stream is damaged after %zu decompressed bytes "
                                  "(zlib: %s)",
                                  src->path, src->offset + total, msg ? msg : "error");
            }
            r = (size_t)k;
        } else {
            r = fread(p + total, 1, want, src->file);
            if (r < want && ferror(src->file))
                return clnn_error(NULL, CLNN_ERR_IO, "%s: cannot read: %s", src->path,
                                  strerror(errno));
        }
        total += r;
        if (r < want)
            break;
    }
    src->offset += total;
    *got = total;
    return CLNN_SUCCESS;
}

/* Reads exactly n bytes of `what`, or fails with a truncation message. */
static clnn_status source_read_exact(idx_source *src, void *buf, size_t n, const char *what)
{
    size_t start = src->offset, got = 0;
    clnn_status status = source_read(src, buf, n, &got);
    if (status != CLNN_SUCCESS)
        return status;
    if (got < n)
        return clnn_error(NULL, CLNN_ERR_CORRUPT,
                          "%s: truncated: the %s needs %zu bytes at offset %zu, the %s ends "
                          "after %zu",
                          src->path, what, n, start, src->gz ? "gzip stream" : "file", got);
    return CLNN_SUCCESS;
}

/* Decodes n big-endian elements of `size` bytes in place into host order. */
static void big_endian_to_host(unsigned char *data, size_t n, size_t size)
{
    if (size == 1)
        return;
    for (size_t i = 0; i < n; ++i) {
        unsigned char *e = data + i * size;
        uint64_t v = 0;
        for (size_t b = 0; b < size; ++b)
            v = (v << 8) | e[b];
        if (size == 2) {
            uint16_t w = (uint16_t)v;
            memcpy(e, &w, 2);
        } else if (size == 4) {
            uint32_t w = (uint32_t)v;
            memcpy(e, &w, 4);
        } else {
            memcpy(e, &v, 8);
        }
    }
}

static uint32_t load_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Reads the header into *idx (data NULL) and checks every size before anything is allocated. */
static clnn_status read_header(idx_source *src, clnn_idx *idx, size_t *data_bytes)
{
    unsigned char head[4];
    clnn_status status = source_read_exact(src, head, 4, "IDX header (magic, type, rank)");
    if (status != CLNN_SUCCESS)
        return status;
    const char *path = src->path;
    if (head[0] != 0 || head[1] != 0)
        return clnn_error(NULL, CLNN_ERR_FORMAT,
                          "%s: not an IDX file: it starts with %02x %02x, the IDX magic is 00 00 "
                          "(and gzip's 1f 8b)",
                          path, head[0], head[1]);
    clnn_idx_type type = (clnn_idx_type)head[2];
    size_t size = clnn_idx_type_size(type);
    if (size == 0)
        return clnn_error(NULL, CLNN_ERR_FORMAT,
                          "%s: unsupported IDX element type 0x%02x; the format defines 0x08 "
                          "uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64",
                          path, head[2]);
    int ndim = head[3];
    if (ndim < 1 || ndim > CLNN_IDX_MAX_DIMS)
        return clnn_error(NULL, CLNN_ERR_FORMAT, "%s: IDX rank is %d; clnn reads ranks 1 to %d",
                          path, ndim, CLNN_IDX_MAX_DIMS);
    unsigned char raw[4 * CLNN_IDX_MAX_DIMS];
    status = source_read_exact(src, raw, 4 * (size_t)ndim, "IDX dimension list");
    if (status != CLNN_SUCCESS)
        return status;

    memset(idx, 0, sizeof *idx);
    idx->type = type;
    idx->ndim = ndim;
    idx->element_size = size;
    size_t count = 1;
    for (int i = 0; i < CLNN_IDX_MAX_DIMS; ++i)
        idx->dims[i] = 1;
    for (int i = 0; i < ndim; ++i) {
        uint32_t d = load_be32(raw + 4 * i);
        if (d == 0)
            return clnn_error(NULL, CLNN_ERR_FORMAT, "%s: IDX dimension %d is 0", path, i);
        /* count <= CLNN_MAX_ELEMENTS < 2^31 and d < 2^32, so the product fits in 64 bits. */
        uint64_t next = (uint64_t)count * d;
        if (next > CLNN_MAX_ELEMENTS) {
            char shape[128] = "";
            size_t used = 0;
            for (int k = 0; k < ndim && used < sizeof shape; ++k) {
                int w = snprintf(shape + used, sizeof shape - used, k ? "x%u" : "%u",
                                 (unsigned)load_be32(raw + 4 * k));
                if (w < 0)
                    break;
                used += (size_t)w;
            }
            return clnn_error(NULL, CLNN_ERR_FORMAT,
                              "%s: IDX shape %s has more than %zu elements, the most clnn reads",
                              path, shape, CLNN_MAX_ELEMENTS);
        }
        idx->dims[i] = d;
        count = (size_t)next;
    }
    idx->count = count;
    /* count <= 2^31 - 1 and size <= 8: no overflow on 64-bit size_t; guard 32-bit hosts. */
    if (count > SIZE_MAX / size)
        return clnn_error(NULL, CLNN_ERR_FORMAT, "%s: %zu %s elements do not fit in memory", path,
                          count, clnn_idx_type_name(type));
    size_t bytes = count * size, header = 4 + 4 * (size_t)ndim;
    if (src->gz) {
        /* A gzip file of S bytes cannot decompress to more than S * 1032 bytes. */
        uint64_t most = (uint64_t)src->file_size * DEFLATE_MAX_RATIO;
        if ((uint64_t)bytes + header > most)
            return clnn_error(NULL, CLNN_ERR_CORRUPT,
                              "%s: truncated or corrupt: the header declares %zu bytes of %s "
                              "data, more than a %zu-byte gzip file can decompress to",
                              path, bytes, clnn_idx_type_name(type), src->file_size);
    } else if (src->file_size < header || bytes > src->file_size - header) {
        return clnn_error(NULL, CLNN_ERR_CORRUPT,
                          "%s: truncated: the header declares %zu bytes of %s data, the file "
                          "holds %zu after the %zu-byte header",
                          path, bytes, clnn_idx_type_name(type),
                          src->file_size > header ? src->file_size - header : 0, header);
    }
    *data_bytes = bytes;
    return CLNN_SUCCESS;
}

/* Reads `bytes` bytes of element data into a buffer that grows as data arrives. */
static clnn_status read_data(idx_source *src, size_t bytes, unsigned char **out)
{
    size_t capacity = bytes < READ_CHUNK ? bytes : READ_CHUNK, filled = 0;
    unsigned char *buf = malloc(capacity);
    if (!buf)
        return clnn_error(NULL, CLNN_ERR_HOST_MEMORY, "%s: cannot allocate %zu bytes", src->path,
                          capacity);
    while (filled < bytes) {
        if (filled == capacity) {
            size_t grown = capacity > bytes / 2 ? bytes : capacity * 2;
            unsigned char *bigger = realloc(buf, grown);
            if (!bigger) {
                free(buf);
                return clnn_error(NULL, CLNN_ERR_HOST_MEMORY, "%s: cannot allocate %zu bytes",
                                  src->path, grown);
            }
            buf = bigger;
            capacity = grown;
        }
        size_t want = capacity - filled, got = 0;
        clnn_status status = source_read(src, buf + filled, want, &got);
        if (status != CLNN_SUCCESS) {
            free(buf);
            return status;
        }
        filled += got;
        if (got < want) { /* capacity <= bytes, so the data ended early */
            free(buf);
            return clnn_error(NULL, CLNN_ERR_CORRUPT,
                              "%s: truncated: the header declares %zu bytes of data, the %s ends "
                              "after %zu",
                              src->path, bytes, src->gz ? "gzip stream" : "file", filled);
        }
    }
    /* One more byte: there must be none. For gzip this read also reaches the end of the stream,
     * where zlib checks the CRC and length. */
    unsigned char extra;
    size_t got = 0;
    clnn_status status = source_read(src, &extra, 1, &got);
    if (status == CLNN_SUCCESS && got != 0)
        status = clnn_error(NULL, CLNN_ERR_FORMAT,
                            "%s: trailing data: the file goes on after the %zu data bytes its "
                            "header declares",
                            src->path, bytes);
    if (status == CLNN_SUCCESS && src->gz) {
        int code = 0;
        const char *msg = gzerror(src->gz, &code);
        if (code != Z_OK)
            status = clnn_error(NULL, CLNN_ERR_CORRUPT,
                                "%s: truncated or damaged gzip stream after the data (zlib: %s)",
                                src->path, msg ? msg : "error");
    }
    if (status != CLNN_SUCCESS) {
        free(buf);
        return status;
    }
    *out = buf;
    return CLNN_SUCCESS;
}

clnn_status clnn_idx_read(const char *path, clnn_idx *idx)
{
    if (!path)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_idx_read: path is NULL");
    if (!idx)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_idx_read: idx is NULL");
    idx_source src;
    clnn_status status = source_open(&src, path);
    if (status != CLNN_SUCCESS)
        return status;
    clnn_idx result;
    size_t bytes = 0;
    unsigned char *data = NULL;
    status = read_header(&src, &result, &bytes);
    if (status == CLNN_SUCCESS)
        status = read_data(&src, bytes, &data);
    if (status == CLNN_SUCCESS && src.gz) {
        int rc = gzclose_r(src.gz);
        src.gz = NULL;
        if (rc != Z_OK) {
            free(data);
            status = clnn_error(NULL, rc == Z_ERRNO ? CLNN_ERR_IO : CLNN_ERR_CORRUPT,
                                "%s: closing the gzip stream failed (zlib code %d)", path, rc);
        }
    }
    source_close(&src);
    if (status != CLNN_SUCCESS)
        return status;
    big_endian_to_host(data, result.count, result.element_size);
    result.data = data;
    *idx = result;
    return CLNN_SUCCESS;
}

clnn_status clnn_idx_release(clnn_idx *idx)
{
    if (idx) {
        free(idx->data);
        memset(idx, 0, sizeof *idx);
    }
    return CLNN_SUCCESS;
}

/* ---- writing --------------------------------------------------------------------------------- */

typedef struct idx_sink {
    FILE *file;
    gzFile gz;
} idx_sink;

static int sink_write(idx_sink *sink, const void *p, size_t n)
{
    if (sink->gz) {
        const unsigned char *c = p;
        while (n > 0) {
            unsigned part = n > READ_CHUNK ? (unsigned)READ_CHUNK : (unsigned)n;
            if (gzwrite(sink->gz, c, part) != (int)part)
                return 0;
            c += part;
            n -= part;
        }
        return 1;
    }
    return fwrite(p, 1, n, sink->file) == n;
}

clnn_status clnn_idx_write(const char *path, const clnn_idx *idx, int gzip)
{
    if (!path)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_idx_write: path is NULL");
    if (!idx)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_idx_write: idx is NULL");
    size_t size = clnn_idx_type_size(idx->type);
    if (size == 0)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_idx_write: idx->type 0x%02x is not an IDX type", (int)idx->type);
    if (idx->ndim < 1 || idx->ndim > CLNN_IDX_MAX_DIMS)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_idx_write: idx->ndim is %d; it must be 1 to %d", idx->ndim,
                          CLNN_IDX_MAX_DIMS);
    size_t count = 1;
    for (int i = 0; i < idx->ndim; ++i) {
        if (idx->dims[i] == 0 || idx->dims[i] > UINT32_MAX ||
            count > CLNN_MAX_ELEMENTS / idx->dims[i])
            return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                              "clnn_idx_write: idx->dims[%d] is %zu; sizes must be 1 to 2^32 - 1 "
                              "with at most %zu elements in all",
                              i, idx->dims[i], CLNN_MAX_ELEMENTS);
        count *= idx->dims[i];
    }
    if (count != idx->count)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_idx_write: idx->count is %zu but the sizes multiply to %zu",
                          idx->count, count);
    if (!idx->data)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_idx_write: idx->data is NULL");

    idx_sink sink = {NULL, NULL};
    if (gzip)
        sink.gz = gzopen(path, "wb6");
    else
        sink.file = fopen(path, "wb");
    if (!sink.file && !sink.gz)
        return clnn_error(NULL, CLNN_ERR_IO, "%s: cannot create: %s", path, strerror(errno));

    unsigned char head[4 + 4 * CLNN_IDX_MAX_DIMS] = {0, 0, (unsigned char)idx->type,
                                                     (unsigned char)idx->ndim};
    for (int i = 0; i < idx->ndim; ++i) {
        uint32_t d = (uint32_t)idx->dims[i];
        head[4 + 4 * i] = (unsigned char)(d >> 24);
        head[5 + 4 * i] = (unsigned char)(d >> 16);
        head[6 + 4 * i] = (unsigned char)(d >> 8);
        head[7 + 4 * i] = (unsigned char)d;
    }
    int ok = sink_write(&sink, head, 4 + 4 * (size_t)idx->ndim);
    /* Elements go out big-endian, through a small buffer. */
    unsigned char buf[1 << 14];
    const unsigned char *src = idx->data;
    size_t per = sizeof buf / size;
    for (size_t i = 0; ok && i < count; i += per) {
        size_t n = count - i < per ? count - i : per;
        for (size_t k = 0; k < n; ++k) {
            const unsigned char *e = src + (i + k) * size;
            uint64_t v = 0;
            if (size == 1)
                v = e[0];
            else if (size == 2) {
                uint16_t w;
                memcpy(&w, e, 2);
                v = w;
            } else if (size == 4) {
                uint32_t w;
                memcpy(&w, e, 4);
                v = w;
            } else {
                memcpy(&v, e, 8);
            }
            for (size_t b = 0; b < size; ++b)
                buf[k * size + b] = (unsigned char)(v >> (8 * (size - 1 - b)));
        }
        ok = sink_write(&sink, buf, n * size);
    }
    int error = ok ? 0 : errno;
    int closed = sink.gz ? gzclose_w(sink.gz) == Z_OK : fclose(sink.file) == 0;
    if (!closed && ok)
        error = errno;
    if (!ok || !closed) {
        remove(path);
        return clnn_error(NULL, CLNN_ERR_IO, "%s: writing failed: %s", path,
                          error ? strerror(error) : "zlib error");
    }
    return CLNN_SUCCESS;
}
