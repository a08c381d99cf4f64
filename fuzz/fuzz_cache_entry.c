/*
 * libFuzzer target: the program-cache entry reader (clnn_cache_entry_parse, what a context runs on
 * each file it finds in the cache before handing the binary to the OpenCL driver). Random bytes
 * rarely get past the crc32, so inputs whose first byte is odd are made consistent first: the
 * magic, the lengths and the crc32 are set from the rest, and the key the entry holds is the key
 * asked for. Properties: no crash or overread; an accepted entry's binary lies inside the input
 * and is not empty; a consistent entry is accepted exactly when its binary is not empty.
 */
#define _GNU_SOURCE
#include "fuzz_common.h"
#include "program.h"

#include <string.h>
#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER 20 /* magic[8], key length u32, binary length u64 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int fix = data[0] & 1;
    size_t key_length = data[1];
    data += 2, size -= 2;
    unsigned char *entry;
    size_t length;
    const char *key = "clnn program cache v1\nplatform=fuzz\n";
    size_t key_size = strlen(key);
    if (fix) {
        if (key_length > size)
            key_length = size;
        size_t binary = size - key_length;
        length = HEADER + size + 4;
        entry = malloc(length);
        FUZZ_REQUIRE(entry != NULL);
        memcpy(entry, "CLNNPRG1", 8);
        for (int i = 0; i < 4; ++i)
            entry[8 + i] = (unsigned char)(key_length >> (8 * i));
        for (int i = 0; i < 8; ++i)
            entry[12 + i] = (unsigned char)((uint64_t)binary >> (8 * i));
        memcpy(entry + HEADER, data, size);
        uint32_t crc = (uint32_t)crc32(0L, entry, (uInt)(HEADER + size));
        for (int i = 0; i < 4; ++i)
            entry[HEADER + size + i] = (unsigned char)(crc >> (8 * i));
        key = (const char *)entry + HEADER; /* the key it holds is the key asked for */
        key_size = key_length;
    } else {
        length = size;
        entry = malloc(length ? length : 1);
        FUZZ_REQUIRE(entry != NULL);
        memcpy(entry, data, size);
    }
    const unsigned char *binary = NULL;
    size_t binary_length = 0;
    int ok = clnn_cache_entry_parse(entry, length, key, key_size, &binary, &binary_length);
    if (ok) {
        FUZZ_REQUIRE(binary >= entry && binary_length > 0 &&
                     binary_length <= length - (size_t)(binary - entry));
    }
    if (fix)
        FUZZ_REQUIRE(ok == (size - key_length > 0));
    free(entry);
    return 0;
}
