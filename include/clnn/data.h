/*
 * clnn host-side data: a reader (and writer) for the IDX format of MNIST and Fashion-MNIST, plain
 * or gzip'd; a dataset of float features and int32 labels loaded from an images/labels pair;
 * normalisation; reproducible per-epoch shuffling; and gathering of batches for upload. Nothing
 * here touches a device, so no function takes a context: errors are reported through the calling
 * thread's message, clnn_context_last_error(NULL). Included by <clnn.h>.
 *
 *     clnn_dataset train, test;
 *     if (clnn_dataset_load_idx_dir(clnn_data_default_dir(), "train", 10, &train) != CLNN_SUCCESS)
 *         fprintf(stderr, "clnn: %s\n", clnn_context_last_error(NULL));
 *     ...
 *     clnn_shuffle_permutation(seed, epoch, train.count, perm);
 *     for (size_t start = 0; start < train.count; start += batch) {
 *         clnn_dataset_gather(&train, perm, train.count, start, batch, xb, yb, &rows);
 *         ...                             // upload rows x train.features floats and rows labels
 *     }
 *     clnn_dataset_release(&train);
 */
#ifndef CLNN_DATA_H
#define CLNN_DATA_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup data Datasets: IDX files, normalisation, shuffling and batches (host only)
 * @{ */

/* ---------------------------------------------------------------------------------------------
 * IDX files
 *
 * Layout: two zero bytes, a type byte, a rank byte (ndim), ndim big-endian uint32 sizes, then the
 * elements in row-major order, big-endian. A file that starts with the gzip magic 1f 8b is
 * decompressed on the fly, whatever its name; any other file is read as is.
 *
 * What the reader accepts, and what it rejects with a message naming the file and the problem:
 * - CLNN_ERR_IO: the file cannot be opened or read, or is not a regular file (a directory, a
 *   pipe: the reader needs the file's size to bound what a header may declare).
 * - CLNN_ERR_FORMAT: wrong magic (first two bytes not zero), a type byte that is not one of
 *   clnn_idx_type, ndim 0 or above CLNN_IDX_MAX_DIMS, a size of 0, more than CLNN_MAX_ELEMENTS
 *   elements (this also catches products that overflow), checked before anything is allocated;
 *   data continuing past the last element the header declares (trailing bytes are rejected, not
 *   ignored: they mean the header and the data disagree). Bytes after the end of a gzip stream
 *   that are not another gzip member are skipped by zlib, and so by clnn.
 * - CLNN_ERR_CORRUPT: the file ends before the header or the data does (truncated), including a
 *   header that declares more data than the file can hold, detected before allocating: a plain
 *   file must hold it all, and a gzip file cannot inflate to more than 1032 times its size (the
 *   deflate limit). Data is read incrementally, so memory grows only with bytes actually read.
 *   Also a damaged gzip stream (bad deflate data, CRC or length check).
 * ------------------------------------------------------------------------------------------- */

/** Element types of an IDX file; each value is the type byte of the format. */
typedef enum clnn_idx_type {
    CLNN_IDX_UINT8 = 0x08,   /**< unsigned byte */
    CLNN_IDX_INT8 = 0x09,    /**< signed byte */
    CLNN_IDX_INT16 = 0x0B,   /**< short, 2 bytes big-endian */
    CLNN_IDX_INT32 = 0x0C,   /**< int, 4 bytes big-endian */
    CLNN_IDX_FLOAT32 = 0x0D, /**< IEEE float, 4 bytes big-endian */
    CLNN_IDX_FLOAT64 = 0x0E  /**< IEEE double, 8 bytes big-endian */
} clnn_idx_type;

/** The largest rank clnn reads from an IDX file (the format allows 255; datasets use 1 to 4). */
#define CLNN_IDX_MAX_DIMS 8

/** An IDX array in host memory, elements in host byte order. */
typedef struct clnn_idx {
    clnn_idx_type type;
    int ndim;                       /**< 1 to CLNN_IDX_MAX_DIMS */
    size_t dims[CLNN_IDX_MAX_DIMS]; /**< sizes, then 1 past ndim */
    size_t count;                   /**< number of elements, the product of the sizes */
    size_t element_size;            /**< bytes per element (1, 2, 4 or 8) */
    void *data;                     /**< count elements of the type: uint8_t, int8_t, int16_t,
                                         int32_t, float or double; owned, see clnn_idx_release() */
} clnn_idx;

/** @brief Bytes per element of an IDX type (1, 2, 4 or 8), or 0 for a value that is not one. */
CLNN_API size_t clnn_idx_type_size(clnn_idx_type type);

/**
 * @brief Reads an IDX file, plain or gzip'd (detected by content), into host memory.
 * @param path (input) the file.
 * @param idx (output) the array; release it with clnn_idx_release(). Unchanged on failure.
 * @return CLNN_ERR_IO, CLNN_ERR_FORMAT or CLNN_ERR_CORRUPT as listed above, CLNN_ERR_HOST_MEMORY;
 *         the message names the file and the problem.
 */
CLNN_API clnn_status clnn_idx_read(const char *path, clnn_idx *idx);

/**
 * @brief Writes an IDX file (to make slices of a dataset, or test files).
 * @param path (input) the file, created or replaced.
 * @param idx (input) the array: a valid type, ndim 1 to CLNN_IDX_MAX_DIMS, sizes >= 1 whose
 *        product is idx->count, and data.
 * @param gzip (input) non-zero: gzip-compress (zlib level 6); 0: plain.
 * @return CLNN_ERR_INVALID_ARGUMENT for a bad array, CLNN_ERR_IO when writing fails (a partial
 *         file is removed).
 */
CLNN_API clnn_status clnn_idx_write(const char *path, const clnn_idx *idx, int gzip);

/** @brief Frees the array's data and zeroes it. NULL, or an already released array, is allowed. */
CLNN_API clnn_status clnn_idx_release(clnn_idx *idx);

/* ---------------------------------------------------------------------------------------------
 * Datasets
 * ------------------------------------------------------------------------------------------- */

/** The directory of Debian's dataset-fashion-mnist package. */
#define CLNN_DATA_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"

/** @brief The default data directory: $CLNN_DATA_DIR when set and not empty, else
 * CLNN_DATA_DEFAULT_DIR. A string valid until the environment changes. */
CLNN_API const char *clnn_data_default_dir(void);

/** Samples and their labels in host memory. */
typedef struct clnn_dataset {
    size_t count;                              /**< number of samples, N */
    size_t features;                           /**< floats per sample (rows x cols for images) */
    int sample_ndim;                           /**< rank of one sample in the file (2 for images) */
    size_t sample_dims[CLNN_IDX_MAX_DIMS - 1]; /**< its sizes (rows, cols), then 1 */
    int classes;                               /**< labels lie in 0 .. classes - 1 */
    float *x;                                  /**< N x features, row-major; owned */
    int32_t *y;                                /**< N labels; owned */
} clnn_dataset;

/**
 * @brief Loads samples and labels from a pair of IDX files (each plain or gzip'd).
 *
 * Images: an IDX array of rank >= 2, N x d1 x ... (uint8 for MNIST); each sample becomes
 * d1 x ... floats holding the stored values unchanged (0 .. 255 for bytes; see
 * clnn_dataset_normalize() and clnn_dataset_scale()). Any element type is accepted; float
 * values must be finite. Labels: a rank-1 array of N integers (uint8, int8, int16 or int32).
 *
 * @param images_path (input) the images file.
 * @param labels_path (input) the labels file.
 * @param classes (input) the number of classes: every label must lie in 0 .. classes - 1.
 *        0: infer it as the largest label + 1 (labels must still be >= 0).
 * @param dataset (output) the dataset; release it with clnn_dataset_release(). Unchanged on
 *        failure.
 * @return the reader's codes (see clnn_idx_read()); CLNN_ERR_FORMAT for images of rank 1, labels
 *         of rank > 1 or of a floating type; CLNN_ERR_MISMATCH when the files hold different
 *         numbers of samples; CLNN_ERR_OUT_OF_RANGE for a label outside 0 .. classes - 1 (the
 *         message gives the sample index and the value); CLNN_ERR_NON_FINITE for a NaN or Inf
 *         sample; CLNN_ERR_INVALID_ARGUMENT for a NULL pointer or classes < 0.
 */
CLNN_API clnn_status clnn_dataset_load_idx(const char *images_path, const char *labels_path,
                                           int classes, clnn_dataset *dataset);

/**
 * @brief Loads one split of a directory in the MNIST layout.
 *
 * For split "train" it looks for train-images-idx3-ubyte and train-labels-idx1-ubyte, for
 * "test" (or "t10k") t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte; each name is tried as
 * is, with ".gz", then with a dot before "idx" (train-images.idx3-ubyte, some mirrors' spelling)
 * with and without ".gz". The first that exists is read, and its content, not its name, says
 * whether it is compressed.
 * @param dir (input) the directory; NULL for clnn_data_default_dir().
 * @param split (input) "train", "test" or "t10k".
 * @param classes (input) as for clnn_dataset_load_idx() (10 for MNIST and Fashion-MNIST).
 * @param dataset (output) the dataset; unchanged on failure.
 * @return CLNN_ERR_IO naming the directory and the names tried when a file is missing;
 *         CLNN_ERR_INVALID_ARGUMENT for an unknown split; else as clnn_dataset_load_idx().
 */
CLNN_API clnn_status clnn_dataset_load_idx_dir(const char *dir, const char *split, int classes,
                                               clnn_dataset *dataset);

/**
 * @brief Makes a new dataset of samples start .. start + count - 1 of @p src (a copy).
 * @return CLNN_ERR_OUT_OF_RANGE when the range does not lie inside src; @p dst unchanged on
 *         failure.
 */
CLNN_API clnn_status clnn_dataset_slice(const clnn_dataset *src, size_t start, size_t count,
                                        clnn_dataset *dst);

/** @brief Frees a dataset's arrays and zeroes it. NULL, or a released dataset, is allowed. */
CLNN_API clnn_status clnn_dataset_release(clnn_dataset *dataset);

/* ---------------------------------------------------------------------------------------------
 * Normalisation
 * ------------------------------------------------------------------------------------------- */

/** Divisor of the fixed scaling of 8-bit pixels, x / 255, which maps 0 .. 255 to 0 .. 1. */
#define CLNN_DATA_PIXEL_SCALE 255.0f

/** A default for the epsilon of clnn_dataset_feature_stats() on raw 8-bit pixels (0 .. 255): a
 * pixel whose values over the training set spread by less than one grey level is treated as
 * constant, centred but not magnified. For data scaled to 0 .. 1 first, use 1/255. */
#define CLNN_DATA_STD_EPSILON_PIXELS 1.0f

/**
 * @brief Per-feature mean and standard deviation over a (training) dataset, computed in double.
 *
 * mean[j] = (1/N) sum_i x[i][j];  std[j] = max(sqrt((1/N) sum_i (x[i][j] - mean[j])^2), epsilon)
 * (the population deviation, as torch.std(unbiased=False)). The floor @p epsilon keeps features
 * that are (nearly) constant in the training set, such as the border pixels of Fashion-MNIST,
 * from being divided by zero or magnified without bound: a feature with a spread below epsilon
 * is only centred, then divided by epsilon.
 * @param dataset (input) the samples (usually the training set).
 * @param epsilon (input) the floor of the deviation, finite and > 0, in the features' units
 *        (CLNN_DATA_STD_EPSILON_PIXELS for raw pixels).
 * @param mean (output) dataset->features means.
 * @param std (output) dataset->features deviations, each >= epsilon.
 * @param features (input) the length of mean and std; must equal dataset->features.
 */
CLNN_API clnn_status clnn_dataset_feature_stats(const clnn_dataset *dataset, float epsilon,
                                                float *mean, float *std, size_t features);

/**
 * @brief Standardises every sample in place: x[i][j] = (x[i][j] - mean[j]) / std[j]. Apply the
 * training set's statistics to both the training and the test set.
 * @param mean (input), @param std (input) dataset->features values; std must be > 0 and finite.
 * @param features (input) their length; must equal dataset->features.
 */
CLNN_API clnn_status clnn_dataset_normalize(clnn_dataset *dataset, const float *mean,
                                            const float *std, size_t features);

/**
 * @brief The fixed scaling: x = x / divisor for every value (CLNN_DATA_PIXEL_SCALE gives x/255,
 * the documented alternative to per-feature statistics).
 * @param divisor (input) finite and non-zero.
 */
CLNN_API clnn_status clnn_dataset_scale(clnn_dataset *dataset, float divisor);

/* ---------------------------------------------------------------------------------------------
 * Shuffling and batches
 * ------------------------------------------------------------------------------------------- */

/**
 * @brief The sample order of one epoch: a permutation of 0 .. n - 1 that depends only on
 * (seed, epoch, n), on every platform.
 *
 * Generator: xoshiro256** (Blackman and Vigna) whose four state words are the first four outputs
 * of splitmix64 started at seed ^ (epoch * 0x9E3779B97F4A7C15) + 0xD1B54A32D192ED03
 * (64-bit wrap-around arithmetic; splitmix64 maps distinct counters to distinct outputs, so the
 * state is never all zero). Fisher-Yates: perm = identity; for
 * i = n - 1 down to 1, j = uniform(i + 1), swap perm[i] and perm[j], where uniform(m) draws r
 * until r >= (2^64 - m) mod m and returns r mod m (unbiased).
 * @param seed (input) the run's seed. @param epoch (input) the epoch number.
 * @param n (input) the number of samples (0 allowed: nothing is written).
 * @param perm (output) n indices.
 * @return CLNN_ERR_SIZE_OVERFLOW when n indices could not fit in memory (n x sizeof(size_t)
 *         overflows); nothing is written then.
 */
CLNN_API clnn_status clnn_shuffle_permutation(uint64_t seed, uint64_t epoch, size_t n,
                                              size_t *perm);

/**
 * @brief Copies the samples perm[start], perm[start + 1], ... (at most batch_size of them, fewer
 * for the last, partial batch) into contiguous host buffers ready for upload.
 * @param dataset (input) the samples.
 * @param perm (input) sample indices, each < dataset->count (NULL: the identity order).
 * @param perm_count (input) the number of entries of perm (with NULL perm: at most
 *        dataset->count).
 * @param start (input) the first position in perm, < perm_count.
 * @param batch_size (input) >= 1.
 * @param x (output) room for batch_size x dataset->features floats; the first rows x features
 *        are written.
 * @param y (output) room for batch_size labels, or NULL when labels are not wanted.
 * @param rows (output) the number of samples copied: min(batch_size, perm_count - start).
 * @return CLNN_ERR_OUT_OF_RANGE for start >= perm_count or an index >= dataset->count (nothing
 *         is written then).
 */
CLNN_API clnn_status clnn_dataset_gather(const clnn_dataset *dataset, const size_t *perm,
                                         size_t perm_count, size_t start, size_t batch_size,
                                         float *x, int32_t *y, size_t *rows);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CLNN_DATA_H */
