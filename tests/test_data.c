/*
 * Tests of the host-side data layer: IDX files read back exactly (every type, plain and gzip'd,
 * detected by content), every kind of malformed file rejected with the right status and a message
 * naming the file, a fuzz loop of random truncations and byte flips (run it under the sanitizer
 * build: it proves the reader never reads out of bounds), the real Fashion-MNIST test set when it
 * is installed, normalisation against a double reference, the documented shuffle, and batch
 * gathering. Nothing here uses a device, so the group runs once, not once per device.
 */
#define _POSIX_C_SOURCE 200809L
#include "clnn_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char temp_dir[512];

static int group_setup(void **state)
{
    (void)state;
    clnn_test_make_temp_dir(temp_dir, sizeof temp_dir);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    clnn_test_remove_tree(temp_dir);
    return 0;
}

/* ---- building files by hand, independently of the library's writer --------------------------- */

typedef struct bytes {
    unsigned char *p;
    size_t n, cap;
} bytes;

static void put(bytes *b, const void *data, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    if (n)
        memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void put_byte(bytes *b, unsigned v)
{
    unsigned char c = (unsigned char)v;
    put(b, &c, 1);
}

static void put_be(bytes *b, uint64_t v, size_t size)
{
    for (size_t i = 0; i < size; ++i)
        put_byte(b, (unsigned)(v >> (8 * (size - 1 - i))) & 0xff);
}

static void put_le(bytes *b, uint64_t v, size_t size)
{
    for (size_t i = 0; i < size; ++i)
        put_byte(b, (unsigned)(v >> (8 * i)) & 0xff);
}

/* An IDX header: magic, type, rank, sizes. */
static void put_idx_header(bytes *b, unsigned type, int ndim, const uint32_t *dims)
{
    put_byte(b, 0);
    put_byte(b, 0);
    put_byte(b, type);
    put_byte(b, (unsigned)ndim);
    for (int i = 0; i < ndim; ++i)
        put_be(b, dims[i], 4);
}

static uint32_t crc32_ref(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; ++i) {
        c ^= p[i];
        for (int k = 0; k < 8; ++k)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c ^ 0xffffffffu;
}

/* A gzip member holding `in` in stored (uncompressed) deflate blocks (RFC 1951 3.2.4, RFC 1952):
 * a gzip file built without zlib, so the reader is not only tested against its own writer. */
static bytes gzip_stored(const bytes *in)
{
    bytes out = {0};
    static const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
    put(&out, header, sizeof header);
    size_t pos = 0;
    do {
        size_t len = in->n - pos > 65535 ? 65535 : in->n - pos;
        put_byte(&out, pos + len == in->n ? 1 : 0); /* BFINAL, BTYPE 00, padding */
        put_le(&out, len, 2);
        put_le(&out, ~len & 0xffff, 2);
        put(&out, len ? in->p + pos : NULL, len);
        pos += len;
    } while (pos < in->n);
    put_le(&out, crc32_ref(in->p, in->n), 4);
    put_le(&out, in->n & 0xffffffffu, 4);
    return out;
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (n)
        assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static bytes read_whole(const char *path)
{
    bytes b = {0};
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char buf[4096];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0)
        put(&b, buf, k);
    fclose(f);
    return b;
}

static void temp_path(char *path, size_t size, const char *name)
{
    snprintf(path, size, "%s/%s", temp_dir, name);
}

static void expect_message_names(const char *what)
{
    const char *msg = clnn_context_last_error(NULL);
    if (!strstr(msg, what))
        fail_msg("the message \"%s\" does not name \"%s\"", msg, what);
}

/* ---- exact read-back ------------------------------------------------------------------------- */

static const unsigned idx_types[] = {0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E};

/* A value of the type for element i (negative and large ones included), as the bits to store. */
static uint64_t sample_bits(unsigned type, size_t i)
{
    double v = ((double)i - 5.0) * 37.25;
    switch (type) {
    case 0x08:
        return (uint64_t)((i * 37 + 3) % 256);
    case 0x09:
        return (uint8_t)(int8_t)((int)(i * 29 % 256) - 128);
    case 0x0B:
        return (uint16_t)(int16_t)((int)(i * 7919 % 65536) - 32768);
    case 0x0C:
        return (uint32_t)(int32_t)((int64_t)(i * 2654435761u % 4294967296u) - 2147483648LL);
    case 0x0D: {
        float f = (float)v;
        uint32_t u;
        memcpy(&u, &f, 4);
        return u;
    }
    default: {
        uint64_t u;
        memcpy(&u, &v, 8);
        return u;
    }
    }
}

static void check_elements(const clnn_idx *idx, unsigned type, size_t count)
{
    size_t size = clnn_idx_type_size((clnn_idx_type)type);
    for (size_t i = 0; i < count; ++i) {
        uint64_t want = sample_bits(type, i), got = 0;
        const unsigned char *e = (const unsigned char *)idx->data + i * size;
        if (size == 1)
            got = e[0];
        else if (size == 2) {
            uint16_t w;
            memcpy(&w, e, 2);
            got = w;
        } else if (size == 4) {
            uint32_t w;
            memcpy(&w, e, 4);
            got = w;
        } else {
            memcpy(&got, e, 8);
        }
        if (got != want)
            fail_msg("type 0x%02x element %zu: got bits %llx, want %llx", type, i,
                     (unsigned long long)got, (unsigned long long)want);
    }
}

static void test_idx_read_back_exactly(void **state)
{
    (void)state;
    static const uint32_t shapes[3][3] = {{11, 1, 1}, {3, 5, 1}, {2, 3, 4}};
    for (size_t t = 0; t < sizeof idx_types / sizeof idx_types[0]; ++t) {
        unsigned type = idx_types[t];
        size_t size = clnn_idx_type_size((clnn_idx_type)type);
        for (int ndim = 1; ndim <= 3; ++ndim) {
            const uint32_t *dims = shapes[ndim - 1];
            size_t count = 1;
            for (int d = 0; d < ndim; ++d)
                count *= dims[d];
            bytes file = {0};
            put_idx_header(&file, type, ndim, dims);
            for (size_t i = 0; i < count; ++i)
                put_be(&file, sample_bits(type, i), size);
            bytes gz = gzip_stored(&file);

            /* Plain under a .gz name and gzip under a plain name: content decides. */
            char plain[600], zipped[600], mine[600], mine_gz[600];
            temp_path(plain, sizeof plain, "plain.gz");
            temp_path(zipped, sizeof zipped, "stored-gzip-idx");
            temp_path(mine, sizeof mine, "written-idx");
            temp_path(mine_gz, sizeof mine_gz, "written-idx.gz");
            write_file(plain, file.p, file.n);
            write_file(zipped, gz.p, gz.n);
            const char *paths[2] = {plain, zipped};
            for (int k = 0; k < 2; ++k) {
                clnn_idx idx;
                CLNN_ASSERT_OK(clnn_idx_read(paths[k], &idx));
                assert_int_equal(idx.type, type);
                assert_int_equal(idx.ndim, ndim);
                for (int d = 0; d < CLNN_IDX_MAX_DIMS; ++d)
                    assert_int_equal(idx.dims[d], d < ndim ? dims[d] : 1);
                assert_int_equal(idx.count, count);
                assert_int_equal(idx.element_size, size);
                check_elements(&idx, type, count);

                /* The writer reproduces the hand-made file byte for byte, and its gzip output
                 * (real deflate) reads back the same. */
                if (k == 0) {
                    CLNN_ASSERT_OK(clnn_idx_write(mine, &idx, 0));
                    bytes again = read_whole(mine);
                    assert_int_equal(again.n, file.n);
                    assert_memory_equal(again.p, file.p, file.n);
                    free(again.p);
                    CLNN_ASSERT_OK(clnn_idx_write(mine_gz, &idx, 1));
                    bytes z = read_whole(mine_gz);
                    assert_true(z.n > 2 && z.p[0] == 0x1f && z.p[1] == 0x8b);
                    free(z.p);
                    clnn_idx back;
                    CLNN_ASSERT_OK(clnn_idx_read(mine_gz, &back));
                    assert_int_equal(back.count, count);
                    check_elements(&back, type, count);
                    clnn_idx_release(&back);
                }
                clnn_idx_release(&idx);
                assert_null(idx.data);
                CLNN_ASSERT_OK(clnn_idx_release(&idx)); /* twice is harmless */
            }
            free(file.p);
            free(gz.p);
        }
    }
    /* A stored gzip of more than one deflate block (70000 bytes > 65535). */
    bytes file = {0};
    uint32_t dims[2] = {70, 1000};
    put_idx_header(&file, 0x08, 2, dims);
    for (size_t i = 0; i < 70000; ++i)
        put_byte(&file, (unsigned)((i * 37 + 3) % 256));
    bytes gz = gzip_stored(&file);
    char path[600];
    temp_path(path, sizeof path, "multi-block");
    write_file(path, gz.p, gz.n);
    clnn_idx idx;
    CLNN_ASSERT_OK(clnn_idx_read(path, &idx));
    check_elements(&idx, 0x08, 70000);
    clnn_idx_release(&idx);
    free(file.p);
    free(gz.p);
}

/* ---- malformed files ------------------------------------------------------------------------- */

/* Reads `file` (plain, then wrapped in a valid stored gzip unless plain_only) and expects `want`
 * with a message naming the file and containing `words`; the output must be left untouched. */
static void expect_rejected(const char *name, const bytes *file, clnn_status want,
                            const char *words, int plain_only)
{
    for (int zip = 0; zip < (plain_only ? 1 : 2); ++zip) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s%s", temp_dir, name, zip ? "-gz" : "");
        if (zip) {
            bytes gz = gzip_stored(file);
            write_file(path, gz.p, gz.n);
            free(gz.p);
        } else {
            write_file(path, file->p, file->n);
        }
        clnn_idx idx, before;
        memset(&idx, 0xa5, sizeof idx);
        before = idx;
        clnn_status status = clnn_idx_read(path, &idx);
        if (status != want)
            fail_msg("%s (%s): got %s, want %s; message: %s", name, zip ? "gzip" : "plain",
                     clnn_status_string(status), clnn_status_string(want),
                     clnn_context_last_error(NULL));
        assert_memory_equal(&idx, &before, sizeof idx);
        expect_message_names(path);
        expect_message_names(words);
    }
}

static void test_idx_malformed(void **state)
{
    (void)state;
    uint32_t dims3[3] = {2, 3, 4};
    bytes b = {0};

    expect_rejected("empty", &b, CLNN_ERR_CORRUPT, "truncated", 0);
    put_byte(&b, 0);
    put_byte(&b, 0);
    put_byte(&b, 8);
    expect_rejected("three-bytes", &b, CLNN_ERR_CORRUPT, "truncated", 0);
    b.n = 0;

    put_idx_header(&b, 0x08, 3, dims3);
    for (int i = 0; i < 24; ++i)
        put_byte(&b, (unsigned)i);
    b.p[0] = 1;
    expect_rejected("bad-magic", &b, CLNN_ERR_FORMAT, "not an IDX file", 0);
    b.p[0] = 0;
    b.p[1] = 8;
    expect_rejected("bad-magic-2", &b, CLNN_ERR_FORMAT, "not an IDX file", 0);
    b.p[1] = 0;
    b.p[2] = 0x0A;
    expect_rejected("bad-type", &b, CLNN_ERR_FORMAT, "unsupported IDX element type 0x0a", 0);
    b.p[2] = 0x08;
    b.p[3] = 0;
    expect_rejected("rank-0", &b, CLNN_ERR_FORMAT, "rank is 0", 0);
    b.p[3] = 9;
    expect_rejected("rank-9", &b, CLNN_ERR_FORMAT, "rank is 9", 0);
    b.p[3] = 3;
    b.p[4 + 7] = 0; /* dims[1] = 0 */
    expect_rejected("zero-size", &b, CLNN_ERR_FORMAT, "dimension 1 is 0", 0);
    b.p[4 + 7] = 3;

    /* Sizes whose product overflows 32 and 64 bits, or passes the element cap. */
    bytes big = {0};
    uint32_t huge[3] = {0xffffffffu, 0xffffffffu, 0xffffffffu};
    put_idx_header(&big, 0x0E, 3, huge);
    expect_rejected("overflow", &big, CLNN_ERR_FORMAT, "more than", 0);
    big.n = 0;
    uint32_t over_cap[2] = {65536, 32768}; /* 2^31 elements */
    put_idx_header(&big, 0x08, 2, over_cap);
    expect_rejected("over-cap", &big, CLNN_ERR_FORMAT, "65536x32768", 0);
    /* Plausible sizes, but far more than the file holds: refused before allocating. */
    big.n = 0;
    uint32_t lots[3] = {60000, 28, 28};
    put_idx_header(&big, 0x0C, 3, lots);
    for (int i = 0; i < 100; ++i)
        put_byte(&big, 7);
    expect_rejected("more-than-file", &big, CLNN_ERR_CORRUPT, "truncated", 0);
    free(big.p);

    /* Truncated inside the dimension list, and inside the data. */
    bytes cut = {0};
    put(&cut, b.p, 9);
    expect_rejected("cut-dims", &cut, CLNN_ERR_CORRUPT, "dimension list", 0);
    cut.n = 0;
    put(&cut, b.p, b.n - 5);
    expect_rejected("cut-data", &cut, CLNN_ERR_CORRUPT, "truncated", 0);
    /* Trailing bytes after the declared data are rejected. */
    cut.n = 0;
    put(&cut, b.p, b.n);
    put_byte(&cut, 0);
    put_byte(&cut, 1);
    expect_rejected("trailing", &cut, CLNN_ERR_FORMAT, "trailing data", 0);
    free(cut.p);

    /* Damaged gzip streams: wrong CRC, wrong length, cut inside deflate data and inside the
     * trailer, a bad block type. */
    bytes gz = gzip_stored(&b);
    struct {
        const char *name;
        size_t keep; /* bytes kept */
        size_t flip; /* byte to xor with 0x40, or SIZE_MAX */
        const char *words;
    } damage[] = {
        {"gz-crc", gz.n, gz.n - 6, "zlib"},
        {"gz-length", gz.n, gz.n - 2, "zlib"},
        {"gz-cut-deflate", 20, SIZE_MAX, "truncated"},
        {"gz-cut-trailer", gz.n - 3, SIZE_MAX, "gzip"},
        {"gz-bad-block", gz.n, 10, "zlib"},
    };
    for (size_t d = 0; d < sizeof damage / sizeof damage[0]; ++d) {
        bytes bad = {0};
        put(&bad, gz.p, damage[d].keep);
        if (damage[d].flip != SIZE_MAX)
            bad.p[damage[d].flip] ^= 0x40;
        /* A flip in the block header (byte 10) turns stored into an invalid type 3 block. */
        if (damage[d].flip == 10)
            bad.p[10] = 0x07;
        expect_rejected(damage[d].name, &bad, CLNN_ERR_CORRUPT, damage[d].words, 1);
        free(bad.p);
    }
    free(gz.p);
    free(b.p);

    /* Missing file, a directory, NULL arguments. */
    clnn_idx idx;
    char path[600];
    temp_path(path, sizeof path, "does-not-exist");
    CLNN_ASSERT_STATUS(clnn_idx_read(path, &idx), CLNN_ERR_IO);
    expect_message_names(path);
    CLNN_ASSERT_STATUS(clnn_idx_read(temp_dir, &idx), CLNN_ERR_IO);
    expect_message_names("directory");
    CLNN_ASSERT_STATUS(clnn_idx_read("/dev/null", &idx), CLNN_ERR_IO);
    expect_message_names("not a regular file");
    CLNN_ASSERT_STATUS(clnn_idx_read(NULL, &idx), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_idx_read(path, NULL), CLNN_ERR_INVALID_ARGUMENT);
}

static void test_idx_write_arguments(void **state)
{
    (void)state;
    uint8_t data[6] = {1, 2, 3, 4, 5, 6};
    clnn_idx idx = {CLNN_IDX_UINT8, 2, {2, 3, 1, 1, 1, 1, 1, 1}, 6, 1, data};
    char path[600];
    temp_path(path, sizeof path, "w");
    CLNN_ASSERT_STATUS(clnn_idx_write(NULL, &idx, 0), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_idx_write(path, NULL, 0), CLNN_ERR_INVALID_ARGUMENT);
    idx.count = 5;
    CLNN_ASSERT_STATUS(clnn_idx_write(path, &idx, 0), CLNN_ERR_INVALID_ARGUMENT);
    idx.count = 6;
    idx.type = (clnn_idx_type)0x0A;
    CLNN_ASSERT_STATUS(clnn_idx_write(path, &idx, 0), CLNN_ERR_INVALID_ARGUMENT);
    idx.type = CLNN_IDX_UINT8;
    idx.ndim = 0;
    CLNN_ASSERT_STATUS(clnn_idx_write(path, &idx, 1), CLNN_ERR_INVALID_ARGUMENT);
    idx.ndim = 2;
    idx.data = NULL;
    CLNN_ASSERT_STATUS(clnn_idx_write(path, &idx, 1), CLNN_ERR_INVALID_ARGUMENT);
    idx.data = data;
    char bad[700];
    snprintf(bad, sizeof bad, "%s/no-such-dir/x", temp_dir);
    CLNN_ASSERT_STATUS(clnn_idx_write(bad, &idx, 0), CLNN_ERR_IO);
    CLNN_ASSERT_STATUS(clnn_idx_write(bad, &idx, 1), CLNN_ERR_IO);
    assert_int_equal(clnn_idx_type_size((clnn_idx_type)0x0A), 0);
}

/* ---- datasets -------------------------------------------------------------------------------- */

/* Writes N images of rows x cols (type uint8 unless `type`) and N labels with the given values. */
static void write_pair(const char *images, const char *labels, unsigned type, uint32_t n,
                       uint32_t rows, uint32_t cols, const int32_t *label_values,
                       uint32_t label_count, unsigned label_type, int gzip_images)
{
    bytes im = {0}, lb = {0};
    uint32_t dims[3] = {n, rows, cols};
    put_idx_header(&im, type, 3, dims);
    size_t size = clnn_idx_type_size((clnn_idx_type)type);
    for (size_t i = 0; i < (size_t)n * rows * cols; ++i) {
        uint64_t v = (i * 7 + 1) % 256;
        if (type == 0x0D) {
            float f = (float)v;
            uint32_t u;
            memcpy(&u, &f, 4);
            v = u;
        }
        put_be(&im, v, size);
    }
    put_idx_header(&lb, label_type, 1, &label_count);
    size_t lsize = clnn_idx_type_size((clnn_idx_type)label_type);
    for (uint32_t i = 0; i < label_count; ++i)
        put_be(&lb, (uint64_t)(int64_t)label_values[i], lsize);
    if (gzip_images) {
        bytes gz = gzip_stored(&im);
        write_file(images, gz.p, gz.n);
        free(gz.p);
    } else {
        write_file(images, im.p, im.n);
    }
    write_file(labels, lb.p, lb.n);
    free(im.p);
    free(lb.p);
}

static void expect_dataset_rejected(const char *images, const char *labels, int classes,
                                    clnn_status want, const char *words)
{
    clnn_dataset d, before;
    memset(&d, 0x5a, sizeof d);
    before = d;
    clnn_status status = clnn_dataset_load_idx(images, labels, classes, &d);
    if (status != want)
        fail_msg("got %s, want %s; message: %s", clnn_status_string(status),
                 clnn_status_string(want), clnn_context_last_error(NULL));
    assert_memory_equal(&d, &before, sizeof d);
    expect_message_names(words);
}

static void test_dataset_load(void **state)
{
    (void)state;
    char images[600], labels[600];
    temp_path(images, sizeof images, "images");
    temp_path(labels, sizeof labels, "labels");
    const int32_t y[5] = {2, 0, 1, 2, 1};
    write_pair(images, labels, 0x08, 5, 3, 4, y, 5, 0x08, 1);

    clnn_dataset d;
    CLNN_ASSERT_OK(clnn_dataset_load_idx(images, labels, 3, &d));
    assert_int_equal(d.count, 5);
    assert_int_equal(d.features, 12);
    assert_int_equal(d.sample_ndim, 2);
    assert_int_equal(d.sample_dims[0], 3);
    assert_int_equal(d.sample_dims[1], 4);
    assert_int_equal(d.sample_dims[2], 1);
    assert_int_equal(d.classes, 3);
    for (size_t i = 0; i < 60; ++i)
        assert_true(d.x[i] == (float)((i * 7 + 1) % 256));
    for (size_t i = 0; i < 5; ++i)
        assert_int_equal(d.y[i], y[i]);
    clnn_dataset_release(&d);
    assert_null(d.x);
    CLNN_ASSERT_OK(clnn_dataset_release(&d));
    CLNN_ASSERT_OK(clnn_dataset_release(NULL));

    /* classes 0: inferred from the largest label. */
    CLNN_ASSERT_OK(clnn_dataset_load_idx(images, labels, 0, &d));
    assert_int_equal(d.classes, 3);
    clnn_dataset_release(&d);

    /* Labels out of range for a declared class count, and negative ones. */
    expect_dataset_rejected(images, labels, 2, CLNN_ERR_OUT_OF_RANGE, "sample 0 is 2");
    const int32_t negative[5] = {0, 1, -1, 0, 1};
    write_pair(images, labels, 0x08, 5, 3, 4, negative, 5, 0x09, 0);
    expect_dataset_rejected(images, labels, 3, CLNN_ERR_OUT_OF_RANGE, "sample 2 is -1");
    expect_dataset_rejected(images, labels, 0, CLNN_ERR_OUT_OF_RANGE, labels);
    /* Int16 labels are fine. */
    write_pair(images, labels, 0x08, 5, 3, 4, y, 5, 0x0B, 0);
    CLNN_ASSERT_OK(clnn_dataset_load_idx(images, labels, 3, &d));
    clnn_dataset_release(&d);

    /* Counts that disagree. */
    write_pair(images, labels, 0x08, 5, 3, 4, y, 4, 0x08, 0);
    expect_dataset_rejected(images, labels, 3, CLNN_ERR_MISMATCH, "holds 5 samples");

    /* Float labels, labels of rank 2, images of rank 1. */
    write_pair(images, labels, 0x08, 5, 3, 4, y, 5, 0x0D, 0);
    expect_dataset_rejected(images, labels, 3, CLNN_ERR_FORMAT, "float32");
    expect_dataset_rejected(images, images, 3, CLNN_ERR_FORMAT, "rank 3");
    expect_dataset_rejected(labels, labels, 3, CLNN_ERR_FORMAT, "rank 1");

    /* Float images: converted; a NaN among them is refused. */
    write_pair(images, labels, 0x0D, 5, 3, 4, y, 5, 0x08, 0);
    CLNN_ASSERT_OK(clnn_dataset_load_idx(images, labels, 3, &d));
    assert_true(d.x[59] == (float)((59 * 7 + 1) % 256));
    clnn_dataset_release(&d);
    bytes im = read_whole(images);
    memcpy(im.p + 16 + 4 * 13, "\x7f\xc0\x00\x00", 4); /* element 13: NaN */
    write_file(images, im.p, im.n);
    free(im.p);
    expect_dataset_rejected(images, labels, 3, CLNN_ERR_NON_FINITE, "sample 1, feature 1");

    /* A reader error on either file passes through. */
    char missing[600];
    temp_path(missing, sizeof missing, "missing");
    expect_dataset_rejected(missing, labels, 3, CLNN_ERR_IO, missing);
    write_pair(images, labels, 0x08, 5, 3, 4, y, 5, 0x08, 0);
    expect_dataset_rejected(images, missing, 3, CLNN_ERR_IO, missing);

    CLNN_ASSERT_STATUS(clnn_dataset_load_idx(NULL, labels, 3, &d), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dataset_load_idx(images, labels, -1, &d), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dataset_load_idx(images, labels, 3, NULL), CLNN_ERR_INVALID_ARGUMENT);
}

static void test_dataset_load_dir(void **state)
{
    (void)state;
    char dir[600], images[700], labels[700];
    temp_path(dir, sizeof dir, "mnist");
    assert_int_equal(mkdir(dir, 0700), 0);
    const int32_t y[4] = {9, 0, 3, 9};
    /* gzip'd images under the .gz name, plain labels under the plain name. */
    snprintf(images, sizeof images, "%s/train-images-idx3-ubyte.gz", dir);
    snprintf(labels, sizeof labels, "%s/train-labels-idx1-ubyte", dir);
    write_pair(images, labels, 0x08, 4, 2, 2, y, 4, 0x08, 1);
    /* The test split in the dotted spelling. */
    snprintf(images, sizeof images, "%s/t10k-images.idx3-ubyte", dir);
    snprintf(labels, sizeof labels, "%s/t10k-labels.idx1-ubyte.gz", dir);
    write_pair(images, labels, 0x08, 4, 2, 2, y, 4, 0x08, 0);

    clnn_dataset d;
    CLNN_ASSERT_OK(clnn_dataset_load_idx_dir(dir, "train", 10, &d));
    assert_int_equal(d.count, 4);
    assert_int_equal(d.features, 4);
    assert_int_equal(d.y[0], 9);
    clnn_dataset_release(&d);
    CLNN_ASSERT_OK(clnn_dataset_load_idx_dir(dir, "test", 10, &d));
    clnn_dataset_release(&d);
    CLNN_ASSERT_OK(clnn_dataset_load_idx_dir(dir, "t10k", 10, &d));
    clnn_dataset_release(&d);
    CLNN_ASSERT_STATUS(clnn_dataset_load_idx_dir(dir, "train", 9, &d), CLNN_ERR_OUT_OF_RANGE);

    CLNN_ASSERT_STATUS(clnn_dataset_load_idx_dir(temp_dir, "train", 10, &d), CLNN_ERR_IO);
    expect_message_names("train-images-idx3-ubyte.gz");
    expect_message_names(temp_dir);
    CLNN_ASSERT_STATUS(clnn_dataset_load_idx_dir(dir, "validation", 10, &d),
                       CLNN_ERR_INVALID_ARGUMENT);
    expect_message_names("validation");
    CLNN_ASSERT_STATUS(clnn_dataset_load_idx_dir(dir, NULL, 10, &d), CLNN_ERR_INVALID_ARGUMENT);

    /* The default directory and its override. */
    const char *saved = getenv("CLNN_DATA_DIR");
    char *copy = saved ? strdup(saved) : NULL;
    unsetenv("CLNN_DATA_DIR");
    assert_string_equal(clnn_data_default_dir(), CLNN_DATA_DEFAULT_DIR);
    assert_string_equal(CLNN_DATA_DEFAULT_DIR, "/usr/share/datasets/fashion-mnist");
    setenv("CLNN_DATA_DIR", dir, 1);
    assert_string_equal(clnn_data_default_dir(), dir);
    CLNN_ASSERT_OK(clnn_dataset_load_idx_dir(NULL, "train", 10, &d));
    clnn_dataset_release(&d);
    if (copy)
        setenv("CLNN_DATA_DIR", copy, 1);
    else
        unsetenv("CLNN_DATA_DIR");
    free(copy);
}

/* ---- fuzzing --------------------------------------------------------------------------------- */

/* Mutates a copy of `valid`: a random truncation, 1 to 4 random byte changes, or both. */
static bytes mutate(const bytes *valid)
{
    bytes m = {0};
    put(&m, valid->p, valid->n);
    uint64_t kind = clnn_test_random_u64() % 3;
    if (kind != 1)
        m.n = (size_t)(clnn_test_random_u64() % valid->n);
    if (kind != 0 && m.n > 0) {
        int flips = 1 + (int)(clnn_test_random_u64() % 4);
        for (int f = 0; f < flips; ++f) {
            /* Favour the header, where one bit changes the meaning of everything after it. */
            size_t limit = (clnn_test_random_u64() & 1) && m.n > 32 ? 32 : m.n;
            size_t at = (size_t)(clnn_test_random_u64() % limit);
            m.p[at] ^= (unsigned char)(1 + clnn_test_random_u64() % 255);
        }
    }
    return m;
}

static void fuzz_one(const char *path, const bytes *valid, int iterations, int *accepted)
{
    for (int it = 0; it < iterations; ++it) {
        bytes m = mutate(valid);
        write_file(path, m.p, m.n);
        clnn_idx idx;
        clnn_status status = clnn_idx_read(path, &idx);
        if (status == CLNN_SUCCESS) {
            /* A mutation the format cannot detect (a flipped data byte in a plain file):
             * the result must still be self-consistent. */
            size_t count = 1;
            for (int d = 0; d < idx.ndim; ++d)
                count *= idx.dims[d];
            assert_int_equal(count, idx.count);
            assert_true(m.n >= 4 + 4 * (size_t)idx.ndim);
            ++*accepted;
            clnn_idx_release(&idx);
        } else if (status != CLNN_ERR_FORMAT && status != CLNN_ERR_CORRUPT) {
            fail_msg("iteration %d: unexpected %s: %s", it, clnn_status_string(status),
                     clnn_context_last_error(NULL));
        } else {
            expect_message_names(path);
        }
        free(m.p);
    }
}

static void test_fuzz(void **state)
{
    (void)state;
    /* A small valid file with multi-byte elements, so flips can land in any part. */
    bytes valid = {0};
    uint32_t dims[3] = {6, 5, 4};
    put_idx_header(&valid, 0x0B, 3, dims);
    for (size_t i = 0; i < 120; ++i)
        put_be(&valid, sample_bits(0x0B, i), 2);
    char plain[600], written[600], gzpath[600];
    temp_path(plain, sizeof plain, "fuzz-plain");
    temp_path(written, sizeof written, "fuzz-source.gz");
    temp_path(gzpath, sizeof gzpath, "fuzz-gz");

    /* The gzip variant is real deflate data from zlib (through the writer). */
    write_file(plain, valid.p, valid.n);
    clnn_idx src;
    CLNN_ASSERT_OK(clnn_idx_read(plain, &src));
    CLNN_ASSERT_OK(clnn_idx_write(written, &src, 1));
    clnn_idx_release(&src);
    bytes gz = read_whole(written);
    bytes stored = gzip_stored(&valid);

    int accepted_plain = 0, accepted_gz = 0, accepted_stored = 0;
    fuzz_one(plain, &valid, 400, &accepted_plain);
    fuzz_one(gzpath, &gz, 400, &accepted_gz);
    fuzz_one(gzpath, &stored, 200, &accepted_stored);
    /* Most plain mutations are caught (truncation and header flips); byte flips in the data
     * cannot be. The gzip CRC catches nearly everything. */
    assert_true(accepted_plain < 400);
    assert_true(accepted_gz < 40);

    /* Datasets: a mutated labels file against valid images: counts, types and labels go wrong
     * in every way; statuses must stay within the documented set. */
    char images[600], labels[600];
    temp_path(images, sizeof images, "fuzz-images");
    temp_path(labels, sizeof labels, "fuzz-labels");
    int32_t y[6] = {0, 1, 2, 3, 4, 5};
    write_pair(images, labels, 0x08, 6, 2, 2, y, 6, 0x08, 0);
    bytes lab = read_whole(labels);
    for (int it = 0; it < 200; ++it) {
        bytes m = mutate(&lab);
        write_file(labels, m.p, m.n);
        clnn_dataset d;
        clnn_status status = clnn_dataset_load_idx(images, labels, 6, &d);
        if (status == CLNN_SUCCESS)
            clnn_dataset_release(&d);
        else if (status != CLNN_ERR_FORMAT && status != CLNN_ERR_CORRUPT &&
                 status != CLNN_ERR_MISMATCH && status != CLNN_ERR_OUT_OF_RANGE)
            fail_msg("dataset iteration %d: unexpected %s: %s", it, clnn_status_string(status),
                     clnn_context_last_error(NULL));
        free(m.p);
    }
    free(lab.p);
    free(valid.p);
    free(gz.p);
    free(stored.p);
}

/* ---- the real data --------------------------------------------------------------------------- */

static void test_fashion_mnist(void **state)
{
    (void)state;
    struct stat st;
    if (stat(CLNN_DATA_DEFAULT_DIR, &st) != 0) {
        print_message("%s is absent (Debian package dataset-fashion-mnist): skipped\n",
                      CLNN_DATA_DEFAULT_DIR);
        skip();
    }
    clnn_dataset d;
    CLNN_ASSERT_OK(clnn_dataset_load_idx_dir(CLNN_DATA_DEFAULT_DIR, "test", 10, &d));
    assert_int_equal(d.count, 10000);
    assert_int_equal(d.features, 784);
    assert_int_equal(d.sample_ndim, 2);
    assert_int_equal(d.sample_dims[0], 28);
    assert_int_equal(d.sample_dims[1], 28);
    assert_int_equal(d.classes, 10);
    size_t per_class[10] = {0};
    for (size_t i = 0; i < d.count; ++i) {
        assert_true(d.y[i] >= 0 && d.y[i] < 10);
        ++per_class[d.y[i]];
    }
    for (int c = 0; c < 10; ++c)
        assert_int_equal(per_class[c], 1000);
    float lo = 255, hi = 0;
    for (size_t i = 0; i < d.count * d.features; ++i) {
        assert_true(d.x[i] == floorf(d.x[i]));
        lo = fminf(lo, d.x[i]);
        hi = fmaxf(hi, d.x[i]);
    }
    assert_true(lo == 0 && hi == 255);

    /* Per-pixel statistics of real data (constant border pixels included) against double. */
    float *mean = clnn_test_alloc(784 * sizeof *mean), *sd = clnn_test_alloc(784 * sizeof *sd);
    CLNN_ASSERT_OK(clnn_dataset_feature_stats(&d, CLNN_DATA_STD_EPSILON_PIXELS, mean, sd, 784));
    double *ref_mean = clnn_test_alloc(784 * sizeof *ref_mean);
    double *ref_sd = clnn_test_alloc(784 * sizeof *ref_sd);
    for (size_t j = 0; j < 784; ++j) {
        double s = 0, q = 0;
        for (size_t i = 0; i < d.count; ++i)
            s += d.x[i * 784 + j];
        s /= (double)d.count;
        for (size_t i = 0; i < d.count; ++i)
            q += (d.x[i * 784 + j] - s) * (d.x[i * 784 + j] - s);
        ref_mean[j] = s;
        ref_sd[j] = fmax(sqrt(q / (double)d.count), CLNN_DATA_STD_EPSILON_PIXELS);
    }
    /* Both are computed in double and rounded once to float: within 1 ulp (2^-23 relative). */
    clnn_test_assert_close("mean", mean, ref_mean, 784, 1.2e-7, 0);
    clnn_test_assert_close("std", sd, ref_sd, 784, 1.2e-7, 0);
    free(mean);
    free(sd);
    free(ref_mean);
    free(ref_sd);
    clnn_dataset_release(&d);
}

/* ---- normalisation --------------------------------------------------------------------------- */

static clnn_dataset random_dataset(size_t n, size_t f)
{
    clnn_dataset d = {0};
    d.count = n;
    d.features = f;
    d.sample_ndim = 1;
    d.sample_dims[0] = f;
    d.classes = 10;
    d.x = clnn_test_alloc(n * f * sizeof *d.x);
    d.y = clnn_test_alloc(n * sizeof *d.y);
    for (size_t i = 0; i < n; ++i) {
        for (size_t j = 0; j < f; ++j)
            d.x[i * f + j] = (float)clnn_test_uniform(-50, 200) * (float)(j + 1);
        d.y[i] = (int32_t)(clnn_test_random_u64() % 10);
    }
    return d;
}

static void test_normalize(void **state)
{
    (void)state;
    const size_t n = 257, f = 13;
    clnn_dataset d = random_dataset(n, f);
    /* Feature 0 constant, feature 1 nearly constant (spread below epsilon). */
    for (size_t i = 0; i < n; ++i) {
        d.x[i * f + 0] = 42.0f;
        d.x[i * f + 1] = i == 7 ? 3.0f : 2.0f;
    }
    const float epsilon = 0.5f;
    float mean[13], sd[13];
    for (size_t j = 0; j < f; ++j)
        mean[j] = sd[j] = NAN;
    CLNN_ASSERT_OK(clnn_dataset_feature_stats(&d, epsilon, mean, sd, f));
    double ref_mean[13], ref_sd[13];
    for (size_t j = 0; j < f; ++j) {
        double s = 0, q = 0;
        for (size_t i = 0; i < n; ++i)
            s += d.x[i * f + j];
        s /= (double)n;
        for (size_t i = 0; i < n; ++i)
            q += (d.x[i * f + j] - s) * (d.x[i * f + j] - s);
        ref_mean[j] = s;
        ref_sd[j] = sqrt(q / (double)n);
        if (ref_sd[j] < epsilon)
            ref_sd[j] = epsilon;
    }
    assert_true(sd[0] == epsilon && sd[1] == epsilon); /* floors applied */
    /* Computed in double and rounded once to float: 1 ulp. Means near 0 could lose relative
     * accuracy to the summation order, hence the small absolute term (1e-6 of the data range). */
    clnn_test_assert_close("mean", mean, ref_mean, f, 1.2e-7, 1e-4);
    clnn_test_assert_close("std", sd, ref_sd, f, 1.2e-7, 0);

    /* Apply: compare with (x - mean) / std in double from the float statistics. The float
     * result has two roundings (subtract, divide): 2 ulps relative, plus an absolute term for
     * the cancellation in x - mean (1 ulp of |x| / std). */
    float *before = clnn_test_alloc(n * f * sizeof *before);
    memcpy(before, d.x, n * f * sizeof *before);
    double *ref = clnn_test_alloc(n * f * sizeof *ref);
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < f; ++j)
            ref[i * f + j] = ((double)before[i * f + j] - mean[j]) / sd[j];
    CLNN_ASSERT_OK(clnn_dataset_normalize(&d, mean, sd, f));
    clnn_test_assert_close("normalised", d.x, ref, n * f, 2.4e-7, 1e-5);
    /* The training set is now centred with unit deviation, except the floored features. */
    for (size_t j = 2; j < f; ++j) {
        double s = 0, q = 0;
        for (size_t i = 0; i < n; ++i)
            s += d.x[i * f + j];
        s /= (double)n;
        for (size_t i = 0; i < n; ++i)
            q += (d.x[i * f + j] - s) * (d.x[i * f + j] - s);
        assert_true(fabs(s) < 1e-5);
        assert_true(fabs(sqrt(q / (double)n) - 1) < 1e-5);
    }
    for (size_t i = 0; i < n; ++i)
        assert_true(d.x[i * f] == 0.0f);

    /* Errors leave everything untouched. */
    memcpy(before, d.x, n * f * sizeof *before);
    float saved_mean[13], saved_sd[13];
    memcpy(saved_mean, mean, sizeof mean);
    memcpy(saved_sd, sd, sizeof sd);
    CLNN_ASSERT_STATUS(clnn_dataset_feature_stats(&d, 0.0f, mean, sd, f),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dataset_feature_stats(&d, NAN, mean, sd, f), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dataset_feature_stats(&d, 1.0f, mean, sd, f - 1),
                       CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_dataset_feature_stats(&d, 1.0f, NULL, sd, f),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dataset_feature_stats(NULL, 1.0f, mean, sd, f),
                       CLNN_ERR_INVALID_ARGUMENT);
    assert_memory_equal(mean, saved_mean, sizeof mean);
    assert_memory_equal(sd, saved_sd, sizeof sd);
    sd[5] = 0.0f;
    CLNN_ASSERT_STATUS(clnn_dataset_normalize(&d, mean, sd, f), CLNN_ERR_INVALID_ARGUMENT);
    expect_message_names("std[5]");
    sd[5] = saved_sd[5];
    mean[12] = INFINITY;
    CLNN_ASSERT_STATUS(clnn_dataset_normalize(&d, mean, sd, f), CLNN_ERR_INVALID_ARGUMENT);
    expect_message_names("mean[12]");
    mean[12] = saved_mean[12];
    CLNN_ASSERT_STATUS(clnn_dataset_normalize(&d, mean, sd, 3), CLNN_ERR_INVALID_SHAPE);
    CLNN_ASSERT_STATUS(clnn_dataset_scale(&d, 0.0f), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dataset_scale(&d, INFINITY), CLNN_ERR_INVALID_ARGUMENT);
    assert_memory_equal(d.x, before, n * f * sizeof *before);

    /* A NaN in the data is reported, not propagated into the statistics. */
    d.x[5] = NAN;
    CLNN_ASSERT_STATUS(clnn_dataset_feature_stats(&d, 1.0f, mean, sd, f), CLNN_ERR_NON_FINITE);
    assert_memory_equal(mean, saved_mean, sizeof mean);

    /* Fixed scaling x / 255: one correctly rounded division, so within 1 ulp of the double. */
    for (size_t i = 0; i < n * f; ++i) {
        before[i] = (float)(clnn_test_random_u64() % 256);
        d.x[i] = before[i];
        ref[i] = before[i] / 255.0;
    }
    CLNN_ASSERT_OK(clnn_dataset_scale(&d, CLNN_DATA_PIXEL_SCALE));
    clnn_test_assert_close("x / 255", d.x, ref, n * f, 1.2e-7, 0);
    free(before);
    free(ref);
    clnn_dataset_release(&d);
}

/* ---- shuffling ------------------------------------------------------------------------------- */

/* The generator exactly as data.h documents it, written independently of src/data.c. */
static uint64_t ref_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static uint64_t ref_xoshiro(uint64_t s[4])
{
#define ROTL(x, k) (((x) << (k)) | ((x) >> (64 - (k))))
    uint64_t result = ROTL(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = ROTL(s[3], 45);
#undef ROTL
    return result;
}

static void ref_permutation(uint64_t seed, uint64_t epoch, size_t n, size_t *perm)
{
    uint64_t x = (seed ^ (epoch * 0x9E3779B97F4A7C15u)) + 0xD1B54A32D192ED03u, s[4];
    for (int k = 0; k < 4; ++k)
        s[k] = ref_splitmix(&x);
    for (size_t i = 0; i < n; ++i)
        perm[i] = i;
    for (size_t i = n - 1; i >= 1 && n > 1; --i) {
        uint64_t m = i + 1, r;
        do
            r = ref_xoshiro(s);
        while (r < (UINT64_MAX - m + 1) % m);
        size_t j = (size_t)(r % m), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

static void test_shuffle(void **state)
{
    (void)state;
    enum { N = 1000 };
    size_t a[N], b[N], c[N], r[N];
    uint64_t seed = clnn_test_random_u64();
    CLNN_ASSERT_OK(clnn_shuffle_permutation(seed, 3, N, a));
    CLNN_ASSERT_OK(clnn_shuffle_permutation(seed, 3, N, b));
    assert_memory_equal(a, b, sizeof a);
    ref_permutation(seed, 3, N, r);
    assert_memory_equal(a, r, sizeof a);
    /* A permutation: each index exactly once. */
    unsigned char seen[N] = {0};
    for (size_t i = 0; i < N; ++i) {
        assert_true(a[i] < N);
        assert_int_equal(seen[a[i]], 0);
        seen[a[i]] = 1;
    }
    /* Another epoch, another seed: other orders (equal by chance with probability 1/1000!). */
    CLNN_ASSERT_OK(clnn_shuffle_permutation(seed, 4, N, b));
    CLNN_ASSERT_OK(clnn_shuffle_permutation(seed + 1, 3, N, c));
    assert_memory_not_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, sizeof a);
    /* Fixed (seed, epoch) pinned across versions: the first entries for seed 42, epoch 0. */
    ref_permutation(42, 0, N, r);
    CLNN_ASSERT_OK(clnn_shuffle_permutation(42, 0, N, a));
    assert_memory_equal(a, r, sizeof a);

    /* Uniformity: the 6 orders of 3 items over 6000 epochs each appear 1000 +- 150 times
     * (5 standard deviations of a binomial(6000, 1/6), sd = 28.9). */
    unsigned counts[6] = {0};
    for (uint64_t e = 0; e < 6000; ++e) {
        size_t p[3];
        CLNN_ASSERT_OK(clnn_shuffle_permutation(seed, e, 3, p));
        unsigned code = (unsigned)(p[0] * 2 + (p[1] > p[2]));
        ++counts[code];
    }
    for (int k = 0; k < 6; ++k)
        if (counts[k] < 850 || counts[k] > 1150)
            fail_msg("order %d appeared %u times in 6000 shuffles of 3", k, counts[k]);

    /* Edge sizes. */
    size_t one = 77;
    CLNN_ASSERT_OK(clnn_shuffle_permutation(seed, 0, 1, &one));
    assert_int_equal(one, 0);
    CLNN_ASSERT_OK(clnn_shuffle_permutation(seed, 0, 0, NULL));
    CLNN_ASSERT_STATUS(clnn_shuffle_permutation(seed, 0, 5, NULL), CLNN_ERR_INVALID_ARGUMENT);
}

/* ---- batches and slices ---------------------------------------------------------------------- */

static void test_gather(void **state)
{
    (void)state;
    const size_t n = 10, f = 3, batch = 4;
    clnn_dataset d = random_dataset(n, f);
    size_t perm[10];
    CLNN_ASSERT_OK(clnn_shuffle_permutation(clnn_test_random_u64(), 1, n, perm));
    float x[4 * 3];
    int32_t y[4];
    size_t covered = 0;
    unsigned char seen[10] = {0};
    size_t expected_rows[3] = {4, 4, 2};
    for (size_t start = 0, k = 0; start < n; start += batch, ++k) {
        for (size_t i = 0; i < batch * f; ++i)
            x[i] = NAN;
        for (size_t i = 0; i < batch; ++i)
            y[i] = -7;
        size_t rows = 0;
        CLNN_ASSERT_OK(clnn_dataset_gather(&d, perm, n, start, batch, x, y, &rows));
        assert_int_equal(rows, expected_rows[k]);
        for (size_t r = 0; r < rows; ++r) {
            size_t i = perm[start + r];
            assert_memory_equal(x + r * f, d.x + i * f, f * sizeof *x);
            assert_int_equal(y[r], d.y[i]);
            seen[i] = 1;
        }
        /* Past the last partial batch's rows nothing is written. */
        for (size_t r = rows; r < batch; ++r) {
            assert_true(isnan(x[r * f]));
            assert_int_equal(y[r], -7);
        }
        covered += rows;
    }
    assert_int_equal(covered, n);
    for (size_t i = 0; i < n; ++i)
        assert_int_equal(seen[i], 1);

    /* Identity order, no labels. */
    size_t rows = 0;
    CLNN_ASSERT_OK(clnn_dataset_gather(&d, NULL, n, 8, batch, x, NULL, &rows));
    assert_int_equal(rows, 2);
    assert_memory_equal(x, d.x + 8 * f, 2 * f * sizeof *x);

    /* Errors write nothing. */
    for (size_t i = 0; i < batch * f; ++i)
        x[i] = NAN;
    rows = 99;
    CLNN_ASSERT_STATUS(clnn_dataset_gather(&d, perm, n, n, batch, x, y, &rows),
                       CLNN_ERR_OUT_OF_RANGE);
    size_t bad[3] = {1, 10, 2};
    CLNN_ASSERT_STATUS(clnn_dataset_gather(&d, bad, 3, 0, batch, x, y, &rows),
                       CLNN_ERR_OUT_OF_RANGE);
    expect_message_names("perm[1] is 10");
    CLNN_ASSERT_STATUS(clnn_dataset_gather(&d, NULL, n + 1, 0, batch, x, y, &rows),
                       CLNN_ERR_OUT_OF_RANGE);
    CLNN_ASSERT_STATUS(clnn_dataset_gather(&d, perm, n, 0, 0, x, y, &rows),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dataset_gather(&d, perm, n, 0, batch, NULL, y, &rows),
                       CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dataset_gather(&d, perm, n, 0, batch, x, y, NULL),
                       CLNN_ERR_INVALID_ARGUMENT);
    assert_int_equal(rows, 99);
    for (size_t i = 0; i < batch * f; ++i)
        assert_true(isnan(x[i]));

    /* Slices copy a range; out-of-range slices are refused. */
    clnn_dataset s;
    CLNN_ASSERT_OK(clnn_dataset_slice(&d, 3, 5, &s));
    assert_int_equal(s.count, 5);
    assert_int_equal(s.features, f);
    assert_memory_equal(s.x, d.x + 3 * f, 5 * f * sizeof *s.x);
    assert_memory_equal(s.y, d.y + 3, 5 * sizeof *s.y);
    clnn_dataset_release(&s);
    CLNN_ASSERT_STATUS(clnn_dataset_slice(&d, 6, 5, &s), CLNN_ERR_OUT_OF_RANGE);
    CLNN_ASSERT_STATUS(clnn_dataset_slice(&d, 0, 0, &s), CLNN_ERR_OUT_OF_RANGE);
    clnn_dataset_release(&d);
    CLNN_ASSERT_STATUS(clnn_dataset_slice(&d, 0, 1, &s), CLNN_ERR_INVALID_ARGUMENT);
    CLNN_ASSERT_STATUS(clnn_dataset_gather(&d, NULL, 1, 0, 1, x, y, &rows),
                       CLNN_ERR_INVALID_ARGUMENT);
}

int main(void)
{
    clnn_test_seed();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idx_read_back_exactly),
        cmocka_unit_test(test_idx_malformed),
        cmocka_unit_test(test_idx_write_arguments),
        cmocka_unit_test(test_dataset_load),
        cmocka_unit_test(test_dataset_load_dir),
        cmocka_unit_test(test_fuzz),
        cmocka_unit_test(test_fashion_mnist),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_shuffle),
        cmocka_unit_test(test_gather),
    };
    return cmocka_run_group_tests_name("data", tests, group_setup, group_teardown);
}
