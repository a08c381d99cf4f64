/*
 * libFuzzer target: the checkpoint loader (clnn_mlp_load) on a small model on POCL's CPU device.
 * Random bytes rarely get past the container's crc32, so an input that does not start with the
 * magic "CLNNCKPT" is sealed first: all but its first byte becomes the payload of a container
 * with the right magic, length and crc32, and version 1 (the MLP format) when that first byte is
 * 1, else version 2 (the network format), which sends the fuzzer into the payload's own parsing
 * (model structure, initialisation record, optimiser, tensor counts, user bytes). The seed corpus
 * holds real checkpoints of this model in both formats (CLNN_FUZZ_WRITE_SEED=DIR writes format 2
 * ones; plain and sealed are format 1, written before the MLP was built on the network engine). Properties: a
 * status for every input, and a model left exactly as it was on failure.
 */
#define _GNU_SOURCE
#include "fuzz_common.h"

#include <clnn.h>

#include <string.h>
#include <zlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { BATCH = 4, INPUTS = 5, OUTPUTS = 3 };

static clnn_context *ctx;
static clnn_mlp *mlp;
static float original[4096], current[4096];

static size_t snapshot(float *out)
{
    clnn_tensor *params[16];
    size_t count = 0, used = 0;
    FUZZ_REQUIRE(clnn_mlp_get_parameters(mlp, params, NULL, 16, &count) == CLNN_SUCCESS);
    for (size_t i = 0; i < count; ++i) {
        size_t n = 0;
        clnn_tensor_get_count(params[i], &n);
        FUZZ_REQUIRE(used + n <= 4096);
        FUZZ_REQUIRE(clnn_tensor_download(params[i], out + used, n) == CLNN_SUCCESS);
        used += n;
    }
    return used;
}

/* Writes DIR/plain (as saved) and DIR/sealed (a byte, then its payload). */
static void write_seeds(const char *dir)
{
    float x[BATCH * INPUTS];
    int32_t labels[BATCH] = {0, 1, 2, 1};
    for (size_t i = 0; i < BATCH * INPUTS; ++i)
        x[i] = (float)((int)(i % 7) - 3) / 3.0f;
    FUZZ_REQUIRE(clnn_mlp_train_step(mlp, x, labels, BATCH, NULL) == CLNN_SUCCESS);
    char path[1024], sealed[1024];
    snprintf(path, sizeof path, "%s/plain2", dir);
    FUZZ_REQUIRE(clnn_mlp_save(mlp, path, "epoch 1", 8) == CLNN_SUCCESS);
    FILE *f = fopen(path, "rb");
    FUZZ_REQUIRE(f != NULL);
    static unsigned char file[1 << 16];
    size_t n = fread(file, 1, sizeof file, f);
    fclose(f);
    FUZZ_REQUIRE(n > 24 && n < sizeof file);
    snprintf(sealed, sizeof sealed, "%s/sealed2", dir);
    f = fopen(sealed, "wb");
    FUZZ_REQUIRE(f != NULL);
    fputc(2, f); /* seal: magic, version 2, length and crc32 are made by the target */
    fwrite(file + 20, 1, n - 24, f);
    fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_load_opencl();
    clnn_context_options options;
    clnn_context_options_init(&options);
    options.device = "basic"; /* POCL's basic driver: kernels run on the calling thread */
    if (clnn_context_create(&ctx, &options) != CLNN_SUCCESS)
        FUZZ_REQUIRE(clnn_context_create(&ctx, NULL) == CLNN_SUCCESS);
    clnn_mlp_spec spec;
    FUZZ_REQUIRE(clnn_mlp_spec_init(&spec, INPUTS, OUTPUTS) == CLNN_SUCCESS);
    FUZZ_REQUIRE(clnn_mlp_spec_add_layer(&spec, 4, CLNN_ACTIVATION_TANH, 1, 0.0f) == CLNN_SUCCESS);
    FUZZ_REQUIRE(clnn_mlp_spec_add_layer(&spec, 3, CLNN_ACTIVATION_RELU, 0, 0.25f) == CLNN_SUCCESS);
    spec.seed = 7;
    FUZZ_REQUIRE(clnn_mlp_create(ctx, &spec, NULL, BATCH, &mlp) == CLNN_SUCCESS);
    const char *seed_dir = getenv("CLNN_FUZZ_WRITE_SEED");
    if (seed_dir)
        write_seeds(seed_dir);
    snapshot(original);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *file = NULL;
    size_t file_size = size;
    if (size >= 1 && !(size >= 8 && memcmp(data, "CLNNCKPT", 8) == 0)) {
        size_t payload = size - 1;
        file_size = 20 + payload + 4;
        file = malloc(file_size);
        FUZZ_REQUIRE(file != NULL);
        memcpy(file, "CLNNCKPT", 8);
        file[8] = data[0] == 1 ? 1 : 2, file[9] = file[10] = file[11] = 0;
        for (int i = 0; i < 8; ++i)
            file[12 + i] = (unsigned char)((uint64_t)payload >> (8 * i));
        memcpy(file + 20, data + 1, payload);
        uint32_t crc = (uint32_t)crc32(0L, file, (uInt)(20 + payload));
        for (int i = 0; i < 4; ++i)
            file[20 + payload + i] = (unsigned char)(crc >> (8 * i));
        data = file;
    }
    char path[64];
    int fd = fuzz_memfd(data, file_size, path, sizeof path);
    char user[64];
    size_t user_size = 12345;
    uint64_t step_before = 0, step_after = 0;
    clnn_mlp_get_step(mlp, &step_before);
    clnn_status status = clnn_mlp_load(mlp, path, user, sizeof user, &user_size);
    close(fd);
    if (status != CLNN_SUCCESS) {
        FUZZ_REQUIRE(user_size == 12345);
        clnn_mlp_get_step(mlp, &step_after);
        FUZZ_REQUIRE(step_after == step_before);
        size_t n = snapshot(current);
        FUZZ_REQUIRE(memcmp(current, original, n * sizeof(float)) == 0);
    } else {
        FUZZ_REQUIRE(user_size <= sizeof user);
        snapshot(original); /* the model now holds the file's values */
    }
    free(file);
    return 0;
}
