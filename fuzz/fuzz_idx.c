/*
 * libFuzzer target: clnn_idx_read on a plain file. Whatever the bytes, the reader returns a status
 * (never crashes, never reads or allocates past what the header and file size allow), and what it
 * accepts is consistent: the element count is the product of the sizes, the data is there.
 */
#define _GNU_SOURCE
#include "fuzz_common.h"

#include <clnn.h>

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfd(data, size, path, sizeof path);
    clnn_idx idx;
    memset(&idx, 0x5a, sizeof idx);
    clnn_idx before = idx;
    clnn_status status = clnn_idx_read(path, &idx);
    if (status == CLNN_SUCCESS) {
        size_t count = 1;
        FUZZ_REQUIRE(idx.ndim >= 1 && idx.ndim <= CLNN_IDX_MAX_DIMS);
        for (int i = 0; i < idx.ndim; ++i)
            count *= idx.dims[i];
        FUZZ_REQUIRE(count == idx.count && idx.count <= CLNN_MAX_ELEMENTS);
        FUZZ_REQUIRE(idx.element_size == clnn_idx_type_size(idx.type));
        FUZZ_REQUIRE(idx.data != NULL);
        /* every element is readable (ASan checks the bounds) */
        volatile unsigned char sink = 0;
        const unsigned char *bytes = idx.data;
        for (size_t i = 0; i < idx.count * idx.element_size; ++i)
            sink ^= bytes[i];
        (void)sink;
        clnn_idx_release(&idx);
    } else {
        FUZZ_REQUIRE(memcmp(&idx, &before, sizeof idx) == 0); /* unchanged on failure */
        FUZZ_REQUIRE(clnn_context_last_error(NULL)[0] != '\0');
    }
    close(fd);
    return 0;
}
