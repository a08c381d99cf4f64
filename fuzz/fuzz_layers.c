/*
 * libFuzzer target: the network layer-text parser (clnn_network_spec_parse), which reads what a
 * user types after clnn-train --cnn-layers. Properties: it never crashes or reads past the text;
 * on failure it leaves the output pointer alone and says why; on success the same text parses
 * to the same records again, every record is one clnn_network_spec_add accepts, and the output
 * shape is what the records give.
 */
#define _GNU_SOURCE
#include "fuzz_common.h"

#include <clnn.h>

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    FUZZ_REQUIRE(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    /* Images (the default CNN's input) and feature vectors. */
    static const size_t image[3] = {1, 28, 28}, features[1] = {20};
    for (int input = 0; input < 2; ++input) {
        int ndim = input == 0 ? 3 : 1;
        const size_t *dims = input == 0 ? image : features;
        clnn_network_spec *spec = (clnn_network_spec *)&spec; /* a sentinel: must stay */
        clnn_status status = clnn_network_spec_parse(text, ndim, dims, &spec);
        if (status != CLNN_SUCCESS) {
            FUZZ_REQUIRE(spec == (clnn_network_spec *)&spec);
            FUZZ_REQUIRE(clnn_context_last_error(NULL)[0] != '\0');
            continue;
        }
        clnn_network_spec *again = NULL, *rebuilt = NULL;
        FUZZ_REQUIRE(clnn_network_spec_parse(text, ndim, dims, &again) == CLNN_SUCCESS);
        FUZZ_REQUIRE(clnn_network_spec_create(&rebuilt, ndim, dims) == CLNN_SUCCESS);
        size_t count = 0, count_again = 0;
        FUZZ_REQUIRE(clnn_network_spec_get_layer_count(spec, &count) == CLNN_SUCCESS);
        FUZZ_REQUIRE(clnn_network_spec_get_layer_count(again, &count_again) == CLNN_SUCCESS);
        FUZZ_REQUIRE(count == count_again && count > 0);
        for (size_t i = 0; i < count; ++i) {
            clnn_layer_spec a, b;
            FUZZ_REQUIRE(clnn_network_spec_get_layer(spec, i, &a) == CLNN_SUCCESS);
            FUZZ_REQUIRE(clnn_network_spec_get_layer(again, i, &b) == CLNN_SUCCESS);
            FUZZ_REQUIRE(memcmp(&a, &b, sizeof a) == 0);
            FUZZ_REQUIRE(clnn_network_spec_add(rebuilt, &a) == CLNN_SUCCESS);
        }
        int n1 = 0, n2 = 0;
        size_t d1[3] = {0}, d2[3] = {0};
        FUZZ_REQUIRE(clnn_network_spec_get_output_shape(spec, &n1, d1) == CLNN_SUCCESS);
        FUZZ_REQUIRE(clnn_network_spec_get_output_shape(rebuilt, &n2, d2) == CLNN_SUCCESS);
        FUZZ_REQUIRE(n1 == n2 && memcmp(d1, d2, sizeof d1) == 0);
        clnn_network_spec_destroy(spec);
        clnn_network_spec_destroy(again);
        clnn_network_spec_destroy(rebuilt);
    }
    free(text);
    return 0;
}
