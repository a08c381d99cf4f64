/*
 * clnn-tune: finds CLBlast GEMM parameters for one device and saves them where clnn finds them
 * (clnn_tuning_directory(), or --output). A short search, not CLBlast's exhaustive tuners: it
 * times the dense-layer GEMMs of an MLP training step (batch 256, layers 784-512-256-10: forward,
 * dx and dweight products) plus a 512^3 product, first under CLBlast's defaults, then for each
 * candidate Xgemm configuration (all GEMMs forced through the indirect kernel), then for a few
 * direct/indirect thresholds (XGEMM_MIN_INDIRECT_SIZE) with the best Xgemm. Each new parameter
 * set makes CLBlast recompile its kernels (seconds on POCL).
 */
#include "tool_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: clnn-tune [--device SELECTOR] [--candidates N] [--output PATH] [--dry-run]\n"
            "  Tunes CLBlast's SGEMM for one device and saves the parameters for clnn.\n"
            "  --device SELECTOR  the device (P:D, an index, or part of a name; default as clnn)\n"
            "  --candidates N     Xgemm configurations to time (default 12, at most %d)\n"
            "  --output PATH      the file to write (default: the user tuning directory)\n"
            "  --dry-run          search and print, write nothing\n",
            64);
}

/* Xgemm parameters in the order of names[] below. */
enum { P_GEMMK, P_KREG, P_KWG, P_KWI, P_MDIMA, P_MDIMC, P_MWG, P_NDIMB, P_NDIMC, P_NWG, P_SA,
       P_SB, P_STRM, P_STRN, P_VWM, P_VWN, P_COUNT };
static const char *const names[P_COUNT] = {"GEMMK", "KREG",  "KWG", "KWI", "MDIMA", "MDIMC",
                                           "MWG",   "NDIMB", "NDIMC", "NWG", "SA",  "SB",
                                           "STRM",  "STRN",  "VWM", "VWN"};

typedef struct workload {
    clnn_context *ctx;
    clnn_tensor *x[3], *w[3], *y[3], *dy[3], *dx[3], *dw[3];
    clnn_tensor *a, *b, *c; /* 512 x 512 */
} workload;

static const size_t layer_sizes[4] = {784, 512, 256, 10};
enum { BATCH = 256, SQUARE = 512 };

static clnn_status make_matrix(clnn_context *ctx, size_t rows, size_t cols, clnn_tensor **t)
{
    size_t dims[2] = {rows, cols};
    clnn_status status = clnn_tensor_create(ctx, 2, dims, t);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_fill(*t, 0.01f);
    return status;
}

static clnn_status workload_create(workload *wl)
{
    clnn_status status = CLNN_SUCCESS;
    for (int l = 0; l < 3 && status == CLNN_SUCCESS; ++l) {
        size_t in = layer_sizes[l], out = layer_sizes[l + 1];
        status = make_matrix(wl->ctx, BATCH, in, &wl->x[l]);
        if (status == CLNN_SUCCESS)
            status = make_matrix(wl->ctx, out, in, &wl->w[l]);
        if (status == CLNN_SUCCESS)
            status = make_matrix(wl->ctx, BATCH, out, &wl->y[l]);
        if (status == CLNN_SUCCESS)
            status = make_matrix(wl->ctx, BATCH, out, &wl->dy[l]);
        if (status == CLNN_SUCCESS)
            status = make_matrix(wl->ctx, BATCH, in, &wl->dx[l]);
        if (status == CLNN_SUCCESS)
            status = make_matrix(wl->ctx, out, in, &wl->dw[l]);
    }
    if (status == CLNN_SUCCESS)
        status = make_matrix(wl->ctx, SQUARE, SQUARE, &wl->a);
    if (status == CLNN_SUCCESS)
        status = make_matrix(wl->ctx, SQUARE, SQUARE, &wl->b);
    if (status == CLNN_SUCCESS)
        status = make_matrix(wl->ctx, SQUARE, SQUARE, &wl->c);
    return status;
}

static void workload_destroy(workload *wl)
{
    for (int l = 0; l < 3; ++l) {
        clnn_tensor_destroy(wl->x[l]), clnn_tensor_destroy(wl->w[l]);
        clnn_tensor_destroy(wl->y[l]), clnn_tensor_destroy(wl->dy[l]);
        clnn_tensor_destroy(wl->dx[l]), clnn_tensor_destroy(wl->dw[l]);
    }
    clnn_tensor_destroy(wl->a), clnn_tensor_destroy(wl->b), clnn_tensor_destroy(wl->c);
}

/* One pass: every GEMM of an MLP step, and the square product (as a dense forward). */
static clnn_status workload_run(workload *wl)
{
    clnn_status status = CLNN_SUCCESS;
    for (int l = 0; l < 3 && status == CLNN_SUCCESS; ++l) {
        status = clnn_dense_forward(wl->ctx, wl->x[l], wl->w[l], NULL, wl->y[l]);
        if (status == CLNN_SUCCESS)
            status = clnn_dense_backward_data(wl->ctx, wl->dy[l], wl->w[l], 0.0f, wl->dx[l]);
        if (status == CLNN_SUCCESS)
            status = clnn_dense_backward_weight(wl->ctx, wl->dy[l], wl->x[l], 0.0f, wl->dw[l]);
    }
    if (status == CLNN_SUCCESS)
        status = clnn_dense_forward(wl->ctx, wl->a, wl->b, NULL, wl->c);
    if (status == CLNN_SUCCESS)
        status = clnn_context_finish(wl->ctx);
    return status;
}

static double workload_flops(void)
{
    double f = 2.0 * SQUARE * SQUARE * SQUARE;
    for (int l = 0; l < 3; ++l)
        f += 3 * 2.0 * BATCH * (double)layer_sizes[l] * (double)layer_sizes[l + 1];
    return f;
}

/* Median seconds of 3 passes after one untimed pass (which compiles); < 0 when it fails. */
static double workload_time(workload *wl)
{
    if (workload_run(wl) != CLNN_SUCCESS)
        return -1.0;
    double t[3];
    for (int r = 0; r < 3; ++r) {
        double start = tool_now();
        if (workload_run(wl) != CLNN_SUCCESS)
            return -1.0;
        t[r] = tool_now() - start;
    }
    return tool_median(t, 3);
}

static clnn_status set_routine(clnn_tuning *t, size_t min_indirect)
{
    const char *name[] = {"XGEMM_MIN_INDIRECT_SIZE"};
    return clnn_tuning_set_kernel(t, "GemmRoutine", 1, name, &min_indirect);
}

/* Candidate Xgemm configurations: the best of a partial CLBlast tuning run on an AVX-512 CPU
 * under POCL (128x128 tiles, 8-wide M vectors) first, then variations of tile, thread-grid and
 * vector sizes that satisfy Xgemm's divisibility rules. Deterministic order. */
static size_t candidates(size_t (*out)[P_COUNT], size_t max)
{
    static const size_t seed[P_COUNT] = {0, 1, 16, 2, 16, 8, 128, 32, 16, 128, 0, 0, 1, 1, 8, 4};
    size_t n = 0;
    memcpy(out[n++], seed, sizeof seed);
    static const size_t mwg[] = {128, 64, 32}, nwg[] = {128, 64, 32}, mdimc[] = {8, 16, 4},
                        ndimc[] = {16, 8, 4}, vwm[] = {8, 4, 2}, vwn[] = {4, 2, 8},
                        kwg[] = {32, 16};
    /* A fixed pseudo-random walk over the grid so that a small budget still spreads. */
    unsigned long long state = 0x9e3779b97f4a7c15ull;
    for (int tries = 0; n < max && tries < 20000; ++tries) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        unsigned r = (unsigned)(state >> 33);
        size_t c[P_COUNT];
        memcpy(c, seed, sizeof c);
        c[P_MWG] = mwg[r % 3];
        c[P_NWG] = nwg[(r / 3) % 3];
        c[P_MDIMC] = mdimc[(r / 9) % 3];
        c[P_NDIMC] = ndimc[(r / 27) % 3];
        c[P_VWM] = vwm[(r / 81) % 3];
        c[P_VWN] = vwn[(r / 243) % 3];
        c[P_KWG] = kwg[(r / 729) % 2];
        c[P_MDIMA] = c[P_MDIMC];
        c[P_NDIMB] = c[P_NDIMC];
        if (c[P_MWG] % (c[P_MDIMC] * c[P_VWM]) || c[P_NWG] % (c[P_NDIMC] * c[P_VWN]) ||
            c[P_KWG] % c[P_KWI] || c[P_MDIMC] * c[P_NDIMC] < 32 ||
            c[P_KWG] % ((c[P_MDIMC] * c[P_NDIMC]) / c[P_MDIMA]) ||
            c[P_KWG] % ((c[P_MDIMC] * c[P_NDIMC]) / c[P_NDIMB]))
            continue;
        int dup = 0;
        for (size_t i = 0; i < n && !dup; ++i)
            dup = memcmp(out[i], c, sizeof c) == 0;
        if (!dup)
            memcpy(out[n++], c, sizeof c);
    }
    return n;
}

static void print_params(const size_t *p)
{
    for (int i = 0; i < P_COUNT; ++i)
        printf(" %s=%zu", names[i], p[i]);
}

int main(int argc, char **argv)
{
    const char *device = NULL, *output = NULL;
    size_t budget = 12;
    int dry_run = 0;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) {
            device = argv[++i];
        } else if (strcmp(argv[i], "--candidates") == 0 && i + 1 < argc) {
            budget = strtoul(argv[++i], NULL, 10);
            if (budget < 1 || budget > 64) {
                usage(stderr);
                return 2;
            }
        } else if (strcmp(argv[i], "--output") == 0 && i + 1 < argc) {
            output = argv[++i];
        } else if (strcmp(argv[i], "--dry-run") == 0) {
            dry_run = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    /* The baseline is CLBlast's own defaults, not tuning found earlier. */
    setenv("CLNN_TUNING", "off", 1);

    clnn_context_options options;
    clnn_context_options_init(&options);
    options.device = device;
    workload wl;
    memset(&wl, 0, sizeof wl);
    clnn_status status = clnn_context_create(&wl.ctx, &options);
    if (status != CLNN_SUCCESS)
        return tool_fail("creating a context", status, NULL);
    clnn_device_info info;
    clnn_context_get_device_info(wl.ctx, &info);
    printf("clnn-tune: %s (%s, driver %s, %u compute units)\n", info.device_name,
           info.platform_name, info.driver_version, (unsigned)info.compute_units);
    status = workload_create(&wl);
    if (status != CLNN_SUCCESS) {
        int rc = tool_fail("allocating the workload", status, wl.ctx);
        workload_destroy(&wl);
        clnn_context_destroy(wl.ctx);
        return rc;
    }
    const double flops = workload_flops();
    double best = workload_time(&wl);
    if (best < 0) {
        int rc = tool_fail("running the GEMMs with CLBlast's defaults", CLNN_ERR_BLAS, wl.ctx);
        workload_destroy(&wl);
        clnn_context_destroy(wl.ctx);
        return rc;
    }
    const double baseline = best;
    printf("  CLBlast defaults: %.1f ms per pass (%.1f GFLOP/s)\n", best * 1e3,
           flops / best * 1e-9);

    size_t (*list)[P_COUNT] = calloc(64, sizeof *list);
    clnn_tuning *t = calloc(1, sizeof *t), *best_t = calloc(1, sizeof *best_t);
    if (!list || !t || !best_t) {
        free(list), free(t), free(best_t);
        workload_destroy(&wl);
        clnn_context_destroy(wl.ctx);
        return tool_fail("allocating", CLNN_ERR_HOST_MEMORY, NULL);
    }
    size_t count = candidates(list, budget);
    int have_best = 0;
    size_t best_index = 0;
    for (size_t i = 0; i < count; ++i) {
        clnn_tuning_init(t, &info);
        clnn_tuning_set_kernel(t, "Xgemm", P_COUNT, names, list[i]);
        set_routine(t, 1); /* every GEMM through Xgemm */
        double s = -1.0;
        if (clnn_tuning_apply(wl.ctx, t) == CLNN_SUCCESS)
            s = workload_time(&wl);
        printf("  Xgemm %2zu/%zu:", i + 1, count);
        print_params(list[i]);
        if (s < 0)
            printf(": failed (%s)\n", clnn_context_last_error(wl.ctx));
        else
            printf(": %.1f ms (%.1f GFLOP/s)\n", s * 1e3, flops / s * 1e-9);
        fflush(stdout);
        if (s > 0 && (!have_best || s < best)) {
            best = s;
            best_index = i;
            have_best = 1;
            *best_t = *t;
        }
    }
    if (have_best) {
        /* The direct kernel (CLBlast's default parameters) can win on small products. */
        static const size_t thresholds[] = {128, 256, 448};
        for (size_t i = 0; i < sizeof thresholds / sizeof thresholds[0]; ++i) {
            clnn_tuning_init(t, &info);
            clnn_tuning_set_kernel(t, "Xgemm", P_COUNT, names, list[best_index]);
            set_routine(t, thresholds[i]);
            double s = -1.0;
            if (clnn_tuning_apply(wl.ctx, t) == CLNN_SUCCESS)
                s = workload_time(&wl);
            printf("  XGEMM_MIN_INDIRECT_SIZE=%zu: ", thresholds[i]);
            if (s < 0)
                printf("failed (%s)\n", clnn_context_last_error(wl.ctx));
            else
                printf("%.1f ms (%.1f GFLOP/s)\n", s * 1e3, flops / s * 1e-9);
            fflush(stdout);
            if (s > 0 && s < best) {
                best = s;
                *best_t = *t;
            }
        }
    }
    int rc = 0;
    if (!have_best || best >= baseline) {
        printf("clnn-tune: nothing beat CLBlast's defaults; no file written\n");
    } else {
        printf("clnn-tune: best %.1f ms per pass, %.2fx CLBlast's defaults\n", best * 1e3,
               baseline / best);
        char path[1024], text[4096];
        clnn_tuning_format(best_t, text, sizeof text, NULL);
        fputs(text, stdout);
        if (!dry_run) {
            if (output) {
                snprintf(path, sizeof path, "%s", output);
            } else {
                char dir[768];
                status = clnn_tuning_directory(dir, sizeof dir);
                if (status == CLNN_SUCCESS) {
                    /* mkdir -p */
                    for (char *p = dir + 1; *p; ++p)
                        if (*p == '/') {
                            *p = '\0';
                            mkdir(dir, 0755);
                            *p = '/';
                        }
                    mkdir(dir, 0755);
                    char file[160];
                    size_t j = 0;
                    for (const char *c = info.device_name; *c && j + 16 < sizeof file; ++c)
                        file[j++] = ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                                     (*c >= '0' && *c <= '9') || *c == '-')
                                        ? *c
                                        : '_';
                    snprintf(file + j, sizeof file - j, "-%ucu.txt", (unsigned)info.compute_units);
                    snprintf(path, sizeof path, "%s/%s", dir, file);
                }
            }
            if (status == CLNN_SUCCESS)
                status = clnn_tuning_save(best_t, path);
            if (status != CLNN_SUCCESS)
                rc = tool_fail("saving the tuning", status, NULL);
            else
                printf("clnn-tune: wrote %s\n", path);
        }
    }
    free(list), free(t), free(best_t);
    workload_destroy(&wl);
    clnn_context_destroy(wl.ctx);
    return rc;
}
