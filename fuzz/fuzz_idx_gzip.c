/*
 * libFuzzer target: clnn_idx_read on gzip'd files. An input that already starts with gzip's magic
 * (1f 8b) is read as it is, which explores damaged streams; any other input is gzip-compressed
 * first, so the fuzzer also explores IDX headers and data behind a valid gzip stream (and the
 * 1032x inflation bound the reader checks).
 */
#define _GNU_SOURCE
#include "fuzz_common.h"

#include <clnn.h>

#include <string.h>
#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* gzip-compresses data (a gzip header and trailer, through deflateInit2's windowBits + 16). */
static unsigned char *gzip_bytes(const uint8_t *data, size_t size, size_t *out_size)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    FUZZ_REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    size_t capacity = deflateBound(&z, (uLong)size) + 32;
    unsigned char *out = malloc(capacity);
    FUZZ_REQUIRE(out != NULL);
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)size;
    z.next_out = out;
    z.avail_out = (uInt)capacity;
    FUZZ_REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    *out_size = capacity - z.avail_out;
    deflateEnd(&z);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *packed = NULL;
    size_t packed_size = size;
    if (!(size >= 2 && data[0] == 0x1f && data[1] == 0x8b)) {
        packed = gzip_bytes(data, size, &packed_size);
        data = packed;
    }
    char path[64];
    int fd = fuzz_memfd(data, packed_size, path, sizeof path);
    clnn_idx idx;
    memset(&idx, 0x5a, sizeof idx);
    clnn_idx before = idx;
    clnn_status status = clnn_idx_read(path, &idx);
    if (status == CLNN_SUCCESS) {
        size_t count = 1;
        for (int i = 0; i < idx.ndim; ++i)
            count *= idx.dims[i];
        FUZZ_REQUIRE(idx.ndim >= 1 && idx.ndim <= CLNN_IDX_MAX_DIMS && count == idx.count);
        FUZZ_REQUIRE(idx.element_size == clnn_idx_type_size(idx.type) && idx.data != NULL);
        clnn_idx_release(&idx);
    } else {
        FUZZ_REQUIRE(memcmp(&idx, &before, sizeof idx) == 0);
    }
    close(fd);
    free(packed);
    return 0;
}
