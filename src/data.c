/*
 * Host-side datasets of float features and int32 labels: loading them from IDX files (the format
 * itself is src/data_idx.c), slices, per-feature normalisation and scaling, per-epoch shuffling
 * and batch gathering. Every function checks the dataset it is given, so that a released or
 * inconsistent one is an error rather than a crash.
 */
#include "data_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- datasets -------------------------------------------------------------------------------- */

const char *clnn_data_default_dir(void)
{
    const char *env = getenv("CLNN_DATA_DIR");
    return env && env[0] ? env : CLNN_DATA_DEFAULT_DIR;
}

/* Element i of an IDX array as a double (exact for every IDX type but float64, which is itself). */
static double idx_value(const clnn_idx *idx, size_t i)
{
    switch (idx->type) {
    case CLNN_IDX_UINT8:
        return ((const uint8_t *)idx->data)[i];
    case CLNN_IDX_INT8:
        return ((const int8_t *)idx->data)[i];
    case CLNN_IDX_INT16:
        return ((const int16_t *)idx->data)[i];
    case CLNN_IDX_INT32:
        return ((const int32_t *)idx->data)[i];
    case CLNN_IDX_FLOAT32:
        return ((const float *)idx->data)[i];
    case CLNN_IDX_FLOAT64:
        return ((const double *)idx->data)[i];
    }
    return 0.0;
}

/* Converts the images and labels into a dataset; raises the errors that need both files. */
static clnn_status make_dataset(const clnn_idx *images, const char *images_path,
                                const clnn_idx *labels, const char *labels_path, int classes,
                                clnn_dataset *out)
{
    if (images->ndim < 2)
        return clnn_error(NULL, CLNN_ERR_FORMAT,
                          "%s: images have rank 1 (%zu values); expected N x rows x cols, or N x "
                          "features",
                          images_path, images->dims[0]);
    if (labels->ndim != 1)
        return clnn_error(NULL, CLNN_ERR_FORMAT,
                          "%s: labels have rank %d; expected a rank-1 list of N labels",
                          labels_path, labels->ndim);
    if (labels->type == CLNN_IDX_FLOAT32 || labels->type == CLNN_IDX_FLOAT64)
        return clnn_error(NULL, CLNN_ERR_FORMAT,
                          "%s: labels are %s; expected integers (uint8, int8, int16 or int32)",
                          labels_path, clnn_idx_type_name(labels->type));
    size_t n = images->dims[0];
    if (labels->dims[0] != n)
        return clnn_error(NULL, CLNN_ERR_MISMATCH, "%s holds %zu samples but %s holds %zu labels",
                          images_path, n, labels_path, labels->dims[0]);
    size_t features = images->count / n;

    /* Labels first: they are small, and an error there allocates nothing. */
    int32_t largest = 0;
    for (size_t i = 0; i < n; ++i) {
        double v = idx_value(labels, i);
        if (v < 0 || (classes > 0 && v >= classes))
            return clnn_error(NULL, CLNN_ERR_OUT_OF_RANGE,
                              "%s: label of sample %zu is %.0f, outside 0 .. %d", labels_path, i, v,
                              classes > 0 ? classes - 1 : INT32_MAX);
        if (v > largest)
            largest = (int32_t)v;
    }
    if (classes == 0) {
        if (largest == INT32_MAX)
            return clnn_error(NULL, CLNN_ERR_OUT_OF_RANGE,
                              "%s: largest label %d leaves no room for a class count", labels_path,
                              (int)largest);
        classes = largest + 1;
    }
    if (images->type == CLNN_IDX_FLOAT32 || images->type == CLNN_IDX_FLOAT64) {
        for (size_t i = 0; i < images->count; ++i) {
            double v = idx_value(images, i);
            /* A finite double beyond float range would become Inf, so it counts as well. */
            if (!isfinite(v) || !isfinite((float)v))
                return clnn_error(NULL, CLNN_ERR_NON_FINITE,
                                  "%s: sample %zu, feature %zu is %g; samples must be finite "
                                  "floats",
                                  images_path, i / features, i % features, v);
        }
    }

    float *x = malloc(images->count * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        return clnn_error(NULL, CLNN_ERR_HOST_MEMORY, "cannot allocate a dataset of %zu x %zu", n,
                          features);
    }
    if (images->type == CLNN_IDX_UINT8) {
        const uint8_t *src = images->data;
        for (size_t i = 0; i < images->count; ++i)
            x[i] = (float)src[i];
    } else {
        for (size_t i = 0; i < images->count; ++i)
            x[i] = (float)idx_value(images, i);
    }
    for (size_t i = 0; i < n; ++i)
        y[i] = (int32_t)idx_value(labels, i);

    memset(out, 0, sizeof *out);
    out->count = n;
    out->features = features;
    out->sample_ndim = images->ndim - 1;
    for (int d = 0; d < CLNN_IDX_MAX_DIMS - 1; ++d)
        out->sample_dims[d] = images->dims[d + 1];
    out->classes = classes;
    out->x = x;
    out->y = y;
    return CLNN_SUCCESS;
}

clnn_status clnn_dataset_load_idx(const char *images_path, const char *labels_path, int classes,
                                  clnn_dataset *dataset)
{
    if (!images_path || !labels_path || !dataset)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_dataset_load_idx: %s is NULL",
                          !images_path   ? "images_path"
                          : !labels_path ? "labels_path"
                                         : "dataset");
    if (classes < 0)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_dataset_load_idx: classes is %d; it must be >= 1, or 0 to infer "
                          "it",
                          classes);
    clnn_idx images, labels;
    clnn_status status = clnn_idx_read(images_path, &images);
    if (status != CLNN_SUCCESS)
        return status;
    status = clnn_idx_read(labels_path, &labels);
    if (status != CLNN_SUCCESS) {
        clnn_idx_release(&images);
        return status;
    }
    clnn_dataset result;
    status = make_dataset(&images, images_path, &labels, labels_path, classes, &result);
    clnn_idx_release(&images);
    clnn_idx_release(&labels);
    if (status == CLNN_SUCCESS)
        *dataset = result;
    return status;
}

/* Finds the first existing file among the MNIST spellings of `stem` ("train-images", "idx3");
 * on failure raises CLNN_ERR_IO listing what was tried. */
static clnn_status find_split_file(const char *dir, const char *prefix, const char *kind,
                                   const char *idx, char *path, size_t size)
{
    static const char *const patterns[] = {"%s/%s-%s-%s-ubyte", "%s/%s-%s-%s-ubyte.gz",
                                           "%s/%s-%s.%s-ubyte", "%s/%s-%s.%s-ubyte.gz"};
    char tried[1024] = "";
    size_t used = 0;
    for (size_t p = 0; p < sizeof patterns / sizeof patterns[0]; ++p) {
        int n = snprintf(path, size, patterns[p], dir, prefix, kind, idx);
        if (n < 0 || (size_t)n >= size)
            return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                              "clnn_dataset_load_idx_dir: the path of directory %s is too long",
                              dir);
        struct stat st;
        if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode))
            return CLNN_SUCCESS;
        const char *name = strrchr(path, '/') + 1;
        int w = snprintf(tried + used, sizeof tried - used, "%s%s", p ? ", " : "", name);
        if (w > 0 && (size_t)w < sizeof tried - used)
            used += (size_t)w;
    }
    return clnn_error(NULL, CLNN_ERR_IO, "no %s %s file in %s (tried %s)", prefix, kind, dir,
                      tried);
}

clnn_status clnn_dataset_load_idx_dir(const char *dir, const char *split, int classes,
                                      clnn_dataset *dataset)
{
    if (!split || !dataset)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_dataset_load_idx_dir: %s is NULL",
                          !split ? "split" : "dataset");
    const char *prefix;
    if (strcmp(split, "train") == 0)
        prefix = "train";
    else if (strcmp(split, "test") == 0 || strcmp(split, "t10k") == 0)
        prefix = "t10k";
    else
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_dataset_load_idx_dir: split is \"%s\"; it must be \"train\", "
                          "\"test\" or \"t10k\"",
                          split);
    if (!dir)
        dir = clnn_data_default_dir();
    char images[4096], labels[4096];
    clnn_status status = find_split_file(dir, prefix, "images", "idx3", images, sizeof images);
    if (status == CLNN_SUCCESS)
        status = find_split_file(dir, prefix, "labels", "idx1", labels, sizeof labels);
    if (status != CLNN_SUCCESS)
        return status;
    return clnn_dataset_load_idx(images, labels, classes, dataset);
}

/* Checks that a dataset is usable: non-NULL, arrays present, sizes sane. */
static clnn_status check_dataset(const clnn_dataset *d, const char *function, const char *name)
{
    if (!d)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", function, name);
    if (d->count == 0 || d->features == 0 || !d->x || !d->y ||
        d->count > CLNN_MAX_ELEMENTS / d->features)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: %s is empty, released or inconsistent (%zu samples of %zu "
                          "features)",
                          function, name, d->count, d->features);
    return CLNN_SUCCESS;
}

clnn_status clnn_dataset_slice(const clnn_dataset *src, size_t start, size_t count,
                               clnn_dataset *dst)
{
    clnn_status status = check_dataset(src, "clnn_dataset_slice", "src");
    if (status != CLNN_SUCCESS)
        return status;
    if (!dst)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_dataset_slice: dst is NULL");
    if (count == 0 || start >= src->count || count > src->count - start)
        return clnn_error(NULL, CLNN_ERR_OUT_OF_RANGE,
                          "clnn_dataset_slice: samples %zu .. %zu + %zu are not a non-empty range "
                          "inside the %zu samples of src",
                          start, start, count, src->count);
    float *x = malloc(count * src->features * sizeof *x);
    int32_t *y = malloc(count * sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        return clnn_error(NULL, CLNN_ERR_HOST_MEMORY,
                          "clnn_dataset_slice: cannot allocate %zu x "
                          "%zu floats",
                          count, src->features);
    }
    memcpy(x, src->x + start * src->features, count * src->features * sizeof *x);
    memcpy(y, src->y + start, count * sizeof *y);
    clnn_dataset result = *src;
    result.count = count;
    result.x = x;
    result.y = y;
    *dst = result;
    return CLNN_SUCCESS;
}

clnn_status clnn_dataset_release(clnn_dataset *dataset)
{
    if (dataset) {
        free(dataset->x);
        free(dataset->y);
        memset(dataset, 0, sizeof *dataset);
    }
    return CLNN_SUCCESS;
}

/* ---- normalisation --------------------------------------------------------------------------- */

clnn_status clnn_dataset_feature_stats(const clnn_dataset *dataset, float epsilon, float *mean,
                                       float *std, size_t features)
{
    const char *fn = "clnn_dataset_feature_stats";
    clnn_status status = check_dataset(dataset, fn, "dataset");
    if (status != CLNN_SUCCESS)
        return status;
    if (!mean || !std)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn,
                          !mean ? "mean" : "std");
    if (features != dataset->features)
        return clnn_error(NULL, CLNN_ERR_INVALID_SHAPE,
                          "%s: features is %zu but the dataset has %zu features per sample", fn,
                          features, dataset->features);
    if (!isfinite(epsilon) || !(epsilon > 0))
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: epsilon is %g; it must be finite and > 0", fn, (double)epsilon);
    double *sum = calloc(features, sizeof *sum), *sq = calloc(features, sizeof *sq);
    if (!sum || !sq) {
        free(sum);
        free(sq);
        return clnn_error(NULL, CLNN_ERR_HOST_MEMORY, "%s: cannot allocate %zu doubles", fn,
                          2 * features);
    }
    /* Two passes in double: the mean, then the squared deviations from it (no cancellation). */
    const size_t n = dataset->count;
    for (size_t i = 0; i < n; ++i) {
        const float *row = dataset->x + i * features;
        for (size_t j = 0; j < features; ++j)
            sum[j] += row[j];
    }
    for (size_t j = 0; j < features; ++j)
        sum[j] /= (double)n;
    for (size_t i = 0; i < n; ++i) {
        const float *row = dataset->x + i * features;
        for (size_t j = 0; j < features; ++j) {
            double d = row[j] - sum[j];
            sq[j] += d * d;
        }
    }
    int finite = 1;
    for (size_t j = 0; j < features; ++j)
        finite &= isfinite(sum[j]) && isfinite(sq[j]);
    if (!finite) {
        free(sum);
        free(sq);
        return clnn_error(NULL, CLNN_ERR_NON_FINITE,
                          "%s: the dataset holds NaN or Inf values, or values too large to "
                          "square",
                          fn);
    }
    for (size_t j = 0; j < features; ++j) {
        double s = sqrt(sq[j] / (double)n);
        mean[j] = (float)sum[j];
        std[j] = s > (double)epsilon ? (float)s : epsilon;
    }
    free(sum);
    free(sq);
    return CLNN_SUCCESS;
}

clnn_status clnn_dataset_normalize(clnn_dataset *dataset, const float *mean, const float *std,
                                   size_t features)
{
    const char *fn = "clnn_dataset_normalize";
    clnn_status status = check_dataset(dataset, fn, "dataset");
    if (status != CLNN_SUCCESS)
        return status;
    if (!mean || !std)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn,
                          !mean ? "mean" : "std");
    if (features != dataset->features)
        return clnn_error(NULL, CLNN_ERR_INVALID_SHAPE,
                          "%s: features is %zu but the dataset has %zu features per sample", fn,
                          features, dataset->features);
    for (size_t j = 0; j < features; ++j) {
        if (!isfinite(mean[j]))
            return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                              "%s: mean[%zu] is %g; it must be "
                              "finite",
                              fn, j, (double)mean[j]);
        if (!isfinite(std[j]) || !(std[j] > 0))
            return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                              "%s: std[%zu] is %g; it must be finite and > 0", fn, j,
                              (double)std[j]);
    }
    for (size_t i = 0; i < dataset->count; ++i) {
        float *row = dataset->x + i * features;
        for (size_t j = 0; j < features; ++j)
            row[j] = (row[j] - mean[j]) / std[j];
    }
    return CLNN_SUCCESS;
}

clnn_status clnn_dataset_scale(clnn_dataset *dataset, float divisor)
{
    clnn_status status = check_dataset(dataset, "clnn_dataset_scale", "dataset");
    if (status != CLNN_SUCCESS)
        return status;
    if (!isfinite(divisor) || divisor == 0)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_dataset_scale: divisor is %g; it must be finite and non-zero",
                          (double)divisor);
    size_t total = dataset->count * dataset->features;
    for (size_t i = 0; i < total; ++i)
        dataset->x[i] /= divisor;
    return CLNN_SUCCESS;
}

/* ---- shuffling and batches ------------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** */
static uint64_t xoshiro_next(uint64_t s[4])
{
    uint64_t result = rotl64(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

/* Uniform in 0 .. m - 1 (m >= 1) without modulo bias: reject the lowest (2^64 mod m) values. */
static uint64_t uniform_below(uint64_t s[4], uint64_t m)
{
    uint64_t threshold = (0 - m) % m;
    for (;;) {
        uint64_t r = xoshiro_next(s);
        if (r >= threshold)
            return r % m;
    }
}

clnn_status clnn_shuffle_permutation(uint64_t seed, uint64_t epoch, size_t n, size_t *perm)
{
    if (!perm && n > 0)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_shuffle_permutation: perm is NULL");
    if (n > SIZE_MAX / sizeof *perm) /* no array can hold that many: a wrong n */
        return clnn_error(NULL, CLNN_ERR_SIZE_OVERFLOW,
                          "clnn_shuffle_permutation: n = %zu indices do not fit in memory", n);
    uint64_t sm = (seed ^ (epoch * 0x9E3779B97F4A7C15u)) + 0xD1B54A32D192ED03u, s[4];
    for (int k = 0; k < 4; ++k)
        s[k] = splitmix64(&sm);
    for (size_t i = 0; i < n; ++i)
        perm[i] = i;
    for (size_t i = n; i-- > 1;) {
        size_t j = (size_t)uniform_below(s, (uint64_t)i + 1);
        size_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    return CLNN_SUCCESS;
}

clnn_status clnn_dataset_gather(const clnn_dataset *dataset, const size_t *perm, size_t perm_count,
                                size_t start, size_t batch_size, float *x, int32_t *y, size_t *rows)
{
    const char *fn = "clnn_dataset_gather";
    clnn_status status = check_dataset(dataset, fn, "dataset");
    if (status != CLNN_SUCCESS)
        return status;
    if (!x || !rows)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn, !x ? "x" : "rows");
    if (batch_size == 0)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "%s: batch_size is 0", fn);
    if (!perm && perm_count > dataset->count)
        return clnn_error(NULL, CLNN_ERR_OUT_OF_RANGE,
                          "%s: perm is NULL (identity order) but perm_count %zu exceeds the %zu "
                          "samples",
                          fn, perm_count, dataset->count);
    if (start >= perm_count)
        return clnn_error(NULL, CLNN_ERR_OUT_OF_RANGE, "%s: start %zu is not below perm_count %zu",
                          fn, start, perm_count);
    size_t n = perm_count - start < batch_size ? perm_count - start : batch_size;
    if (perm) {
        for (size_t r = 0; r < n; ++r)
            if (perm[start + r] >= dataset->count)
                return clnn_error(NULL, CLNN_ERR_OUT_OF_RANGE,
                                  "%s: perm[%zu] is %zu, not below the %zu samples", fn, start + r,
                                  perm[start + r], dataset->count);
    }
    const size_t f = dataset->features;
    for (size_t r = 0; r < n; ++r) {
        size_t i = perm ? perm[start + r] : start + r;
        memcpy(x + r * f, dataset->x + i * f, f * sizeof *x);
        if (y)
            y[r] = dataset->y[i];
    }
    *rows = n;
    return CLNN_SUCCESS;
}
