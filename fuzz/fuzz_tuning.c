/*
 * libFuzzer target: the GEMM tuning-file reader (clnn_tuning_load, clnn_tuning_parse) and its
 * writer. Properties: the reader never crashes and leaves the record alone on failure; the file
 * reader and the text parser agree; and the reader and the writer accept the same language:
 * every record the reader accepts is written by clnn_tuning_format and read back identical.
 */
#define _GNU_SOURCE
#include "fuzz_common.h"

#include <clnn.h>

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static clnn_tuning parsed, loaded, again, before;
    char *text = malloc(size + 1);
    FUZZ_REQUIRE(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';

    memset(&parsed, 0x5a, sizeof parsed);
    before = parsed;
    clnn_status status = clnn_tuning_parse(text, &parsed);
    if (status != CLNN_SUCCESS)
        FUZZ_REQUIRE(memcmp(&parsed, &before, sizeof parsed) == 0);

    /* The file reader: the same verdict and record, unless the bytes hold a NUL (refused). */
    char path[64];
    int fd = fuzz_memfd(data, size, path, sizeof path);
    memset(&loaded, 0x5a, sizeof loaded);
    clnn_status load_status = clnn_tuning_load(path, &loaded);
    close(fd);
    if (memchr(data, '\0', size) == NULL) {
        FUZZ_REQUIRE(load_status == status);
        if (status == CLNN_SUCCESS)
            FUZZ_REQUIRE(memcmp(&loaded, &parsed, sizeof parsed) == 0);
    } else {
        FUZZ_REQUIRE(load_status != CLNN_SUCCESS);
    }

    if (status == CLNN_SUCCESS) {
        size_t length = 0;
        FUZZ_REQUIRE(clnn_tuning_format(&parsed, NULL, 0, &length) != CLNN_SUCCESS);
        char *written = malloc(length + 1);
        FUZZ_REQUIRE(written != NULL);
        FUZZ_REQUIRE(clnn_tuning_format(&parsed, written, length + 1, NULL) == CLNN_SUCCESS);
        memset(&again, 0, sizeof again);
        FUZZ_REQUIRE(clnn_tuning_parse(written, &again) == CLNN_SUCCESS);
        /* parsed records are zero beyond their contents, so whole structures compare */
        FUZZ_REQUIRE(memcmp(&again, &parsed, sizeof parsed) == 0);
        free(written);
    }
    free(text);
    return 0;
}
