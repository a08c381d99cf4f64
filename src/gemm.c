/*
 * The GEMM every dense layer uses: CLBlastSgemm in row-major layout on the context's in-order
 * queue. Before the first GEMM on a device, the tuned parameters clnn has for it are applied
 * (src/tuning.c). CLBlast's status codes are mapped to clnn statuses, the code kept in the message.
 */
#include "gemm.h"

#include <clblast_c.h>

typedef struct blas_code_name {
    int code;
    const char *name;
} blas_code_name;

static const blas_code_name blas_names[] = {
    {CLBlastSuccess, "CLBlastSuccess"},
    {CLBlastOpenCLCompilerNotAvailable, "CLBlastOpenCLCompilerNotAvailable"},
    {CLBlastTempBufferAllocFailure, "CLBlastTempBufferAllocFailure"},
    {CLBlastOpenCLOutOfResources, "CLBlastOpenCLOutOfResources"},
    {CLBlastOpenCLOutOfHostMemory, "CLBlastOpenCLOutOfHostMemory"},
    {CLBlastOpenCLBuildProgramFailure, "CLBlastOpenCLBuildProgramFailure"},
    {CLBlastInvalidValue, "CLBlastInvalidValue"},
    {CLBlastInvalidCommandQueue, "CLBlastInvalidCommandQueue"},
    {CLBlastInvalidMemObject, "CLBlastInvalidMemObject"},
    {CLBlastInvalidBinary, "CLBlastInvalidBinary"},
    {CLBlastInvalidBuildOptions, "CLBlastInvalidBuildOptions"},
    {CLBlastInvalidProgram, "CLBlastInvalidProgram"},
    {CLBlastInvalidProgramExecutable, "CLBlastInvalidProgramExecutable"},
    {CLBlastInvalidKernelName, "CLBlastInvalidKernelName"},
    {CLBlastInvalidKernelDefinition, "CLBlastInvalidKernelDefinition"},
    {CLBlastInvalidKernel, "CLBlastInvalidKernel"},
    {CLBlastInvalidArgIndex, "CLBlastInvalidArgIndex"},
    {CLBlastInvalidArgValue, "CLBlastInvalidArgValue"},
    {CLBlastInvalidArgSize, "CLBlastInvalidArgSize"},
    {CLBlastInvalidKernelArgs, "CLBlastInvalidKernelArgs"},
    {CLBlastInvalidLocalNumDimensions, "CLBlastInvalidLocalNumDimensions"},
    {CLBlastInvalidLocalThreadsTotal, "CLBlastInvalidLocalThreadsTotal"},
    {CLBlastInvalidLocalThreadsDim, "CLBlastInvalidLocalThreadsDim"},
    {CLBlastInvalidGlobalOffset, "CLBlastInvalidGlobalOffset"},
    {CLBlastInvalidEventWaitList, "CLBlastInvalidEventWaitList"},
    {CLBlastInvalidEvent, "CLBlastInvalidEvent"},
    {CLBlastInvalidOperation, "CLBlastInvalidOperation"},
    {CLBlastInvalidBufferSize, "CLBlastInvalidBufferSize"},
    {CLBlastInvalidGlobalWorkSize, "CLBlastInvalidGlobalWorkSize"},
    {CLBlastNotImplemented, "CLBlastNotImplemented"},
    {CLBlastInvalidMatrixA, "CLBlastInvalidMatrixA"},
    {CLBlastInvalidMatrixB, "CLBlastInvalidMatrixB"},
    {CLBlastInvalidMatrixC, "CLBlastInvalidMatrixC"},
    {CLBlastInvalidVectorX, "CLBlastInvalidVectorX"},
    {CLBlastInvalidVectorY, "CLBlastInvalidVectorY"},
    {CLBlastInvalidDimension, "CLBlastInvalidDimension"},
    {CLBlastInvalidLeadDimA, "CLBlastInvalidLeadDimA"},
    {CLBlastInvalidLeadDimB, "CLBlastInvalidLeadDimB"},
    {CLBlastInvalidLeadDimC, "CLBlastInvalidLeadDimC"},
    {CLBlastInvalidIncrementX, "CLBlastInvalidIncrementX"},
    {CLBlastInvalidIncrementY, "CLBlastInvalidIncrementY"},
    {CLBlastInsufficientMemoryA, "CLBlastInsufficientMemoryA"},
    {CLBlastInsufficientMemoryB, "CLBlastInsufficientMemoryB"},
    {CLBlastInsufficientMemoryC, "CLBlastInsufficientMemoryC"},
    {CLBlastInsufficientMemoryX, "CLBlastInsufficientMemoryX"},
    {CLBlastInsufficientMemoryY, "CLBlastInsufficientMemoryY"},
    {CLBlastInsufficientMemoryTemp, "CLBlastInsufficientMemoryTemp"},
    {CLBlastInvalidBatchCount, "CLBlastInvalidBatchCount"},
    {CLBlastInvalidOverrideKernel, "CLBlastInvalidOverrideKernel"},
    {CLBlastMissingOverrideParameter, "CLBlastMissingOverrideParameter"},
    {CLBlastInvalidLocalMemUsage, "CLBlastInvalidLocalMemUsage"},
    {CLBlastNoHalfPrecision, "CLBlastNoHalfPrecision"},
    {CLBlastNoDoublePrecision, "CLBlastNoDoublePrecision"},
    {CLBlastInvalidVectorScalar, "CLBlastInvalidVectorScalar"},
    {CLBlastInsufficientMemoryScalar, "CLBlastInsufficientMemoryScalar"},
    {CLBlastDatabaseError, "CLBlastDatabaseError"},
    {CLBlastUnknownError, "CLBlastUnknownError"},
    {CLBlastUnexpectedError, "CLBlastUnexpectedError"},
};

const char *clnn_blas_status_name(int code)
{
    for (size_t i = 0; i < sizeof blas_names / sizeof blas_names[0]; ++i)
        if (blas_names[i].code == code)
            return blas_names[i].name;
    return "unknown CLBlast status";
}

clnn_status clnn_blas_error(clnn_context *ctx, int code, const char *what)
{
    clnn_status status;
    switch (code) {
    case CLBlastTempBufferAllocFailure: /* CL_MEM_OBJECT_ALLOCATION_FAILURE */
    case CLBlastOpenCLOutOfResources:
    case CLBlastInsufficientMemoryTemp:
    case CLBlastInvalidLocalMemUsage:
        status = CLNN_ERR_DEVICE_MEMORY;
        break;
    case CLBlastOpenCLOutOfHostMemory:
        status = CLNN_ERR_HOST_MEMORY;
        break;
    default:
        status = CLNN_ERR_BLAS;
        break;
    }
    return clnn_error(ctx, status, "%s failed: CLBlast %s (%d)", what, clnn_blas_status_name(code),
                      code);
}

/* Products with a dimension at most this small go to clnn's own kernels (kernels/dense.cl):
 * CLBlast's per-call padding, transposition and temporary buffers would cost far more than the
 * arithmetic (a 256x10x256 product: ~0.25 ms through CLBlast on a 2-core CPU). C = A B^T (the
 * dense forward) goes there at every size on CPU devices: its dot-product kernel beats CLBlast's
 * tuned Xgemm on POCL's CPU device at all the shapes clnn-bench measures (256..2048, the MLP's
 * layers); on GPUs, whose memory wants coalesced tiles, CLBlast keeps the large ones. */
#define SMALL_GEMM_DIM 16

/* Launches one of this file's 2-D kernels, which need no particular work-group size and check
 * their indices against the shape. In the CPU forms every launch of a kernel takes one local size,
 * the global size rounded up to it: POCL compiles a kernel again for every local size it is
 * launched with (about 0.2-0.5 s each), and left to choose, it derives one from the global size,
 * so each layer width and each new batch size (the last partial batch, an evaluation batch) cost
 * a compile. In the GPU forms the driver chooses. */
#define CPU_LOCAL_X 16
#define CPU_LOCAL_Y 8
static clnn_status run_2d(clnn_context *ctx, cl_kernel kernel, const char *name,
                          const size_t *global, size_t arg_count, const clnn_kernel_arg *args)
{
    if (!clnn_cpu_forms(ctx) || clnn_kernel_group_size(ctx, kernel) < CPU_LOCAL_X * CPU_LOCAL_Y)
        return clnn_run_kernel(ctx, kernel, name, 2, global, NULL, arg_count, args);
    size_t local[2] = {CPU_LOCAL_X, CPU_LOCAL_Y};
    size_t rounded[2] = {(global[0] + CPU_LOCAL_X - 1) / CPU_LOCAL_X * CPU_LOCAL_X,
                         (global[1] + CPU_LOCAL_Y - 1) / CPU_LOCAL_Y * CPU_LOCAL_Y};
    return clnn_run_kernel(ctx, kernel, name, 2, rounded, local, arg_count, args);
}

/* Products of few work-items over a long K (the convolutions' weight gradients: 64 x 288 over the
 * pixels of a chunk of images is 72 of clnn_gemm_nn16's blocks, three work-groups of 32 on two
 * cores; the first layer's 32 x 9 is 16 of clnn_gemm_small_nn's) leave cores idle. In the CPU
 * forms such a product is split along K into slices of one launch, each summing its part of K
 * into a partial product of its own (alpha 1, beta 0); clnn_gemm_sum_slices then adds the
 * partials, in order, into C with alpha and beta. Slices are added until the launch has
 * SPLIT_GROUPS_PER_CU groups of 32 work-items per compute unit, each slice at least
 * SPLIT_MIN_STEPS of K. On the default CNN (batch 128, POCL, 2 cores) the 32 -> 64 weight gradient
 * went from 9.1 to 6.2 ms per step, the 64 -> 64 ones from 7.3 to 4.9 ms, and the first layer's
 * from 4.7 to 2.5 ms (16 slices): about 10% of the step. */
#define SPLIT_GROUPS_PER_CU 4
#define SPLIT_MIN_STEPS 256
#define SPLIT_MAX_SLICES 16

/* How many K slices a product of `items` work-items over k steps takes (1: not split). */
static size_t k_slices(const clnn_context *ctx, size_t items, size_t k)
{
    size_t target = SPLIT_GROUPS_PER_CU * 32 * (size_t)ctx->info.compute_units;
    if (!clnn_cpu_forms(ctx) || items >= target || k < 2 * SPLIT_MIN_STEPS)
        return 1;
    size_t slices = (target + items - 1) / items;
    if (slices > k / SPLIT_MIN_STEPS)
        slices = k / SPLIT_MIN_STEPS;
    return slices < SPLIT_MAX_SLICES ? slices : SPLIT_MAX_SLICES;
}

/* The scratch buffer of the partial products: slices x m x n floats, contiguous. */
static clnn_status slice_buffer(clnn_context *ctx, size_t slices, size_t m, size_t n, cl_mem *out)
{
    return clnn_scratch_get(ctx, CLNN_SCRATCH_GEMM_SLICES, slices * m * n * sizeof(cl_float),
                            "the K slices of a product", out);
}

clnn_status clnn_gemm_sum_slices(clnn_context *ctx, size_t m, size_t n, size_t slices,
                                 cl_mem partials, size_t p_off, float alpha, float beta, cl_mem c,
                                 size_t c_off, size_t c_row, size_t c_col)
{
    static const char name[] = "clnn_gemm_sum_slices";
    cl_kernel kernel;
    clnn_status status = clnn_get_kernel(ctx, "dense.cl", NULL, name, &kernel);
    if (status != CLNN_SUCCESS)
        return status;
    cl_uint um = (cl_uint)m, un = (cl_uint)n, uslices = (cl_uint)slices;
    cl_uint up_off = (cl_uint)p_off, stride = (cl_uint)(m * n), uc_off = (cl_uint)c_off;
    cl_uint uc_row = (cl_uint)c_row, uc_col = (cl_uint)c_col;
    cl_float ualpha = alpha, ubeta = beta;
    return clnn_run_kernel_1d(ctx, kernel, name, m * n,
                              CLNN_ARGS(CLNN_ARG(um), CLNN_ARG(un), CLNN_ARG(uslices),
                                        CLNN_ARG(partials), CLNN_ARG(up_off), CLNN_ARG(stride),
                                        CLNN_ARG(ualpha), CLNN_ARG(ubeta), CLNN_ARG(c),
                                        CLNN_ARG(uc_off), CLNN_ARG(uc_row), CLNN_ARG(uc_col)));
}

/* The product through clnn_gemm_small_nn (B not transposed) or clnn_gemm_small_nt (A not
 * transposed, B transposed); both transposed is left to CLBlast. */
static clnn_status gemm_small(clnn_context *ctx, int trans_a, int trans_b, size_t m, size_t n,
                              size_t k, float alpha, cl_mem a, size_t a_off, size_t lda, cl_mem b,
                              size_t b_off, size_t ldb, float beta, cl_mem c, size_t c_off,
                              size_t ldc)
{
    const char *name = trans_b ? "clnn_gemm_small_nt" : "clnn_gemm_small_nn";
    cl_kernel kernel;
    clnn_status status = clnn_get_kernel(ctx, "dense.cl", NULL, name, &kernel);
    if (status != CLNN_SUCCESS)
        return status;
    cl_uint um = (cl_uint)m, un = (cl_uint)n, uk = (cl_uint)k, ulda = (cl_uint)lda;
    cl_uint uldb = (cl_uint)ldb, uldc = (cl_uint)ldc;
    cl_uint ua_off = (cl_uint)a_off, ub_off = (cl_uint)b_off, uc_off = (cl_uint)c_off;
    cl_float ualpha = alpha, ubeta = beta;
    if (trans_b) {
        size_t global[2] = {(n + 3) / 4, (m + 3) / 4};
        return run_2d(ctx, kernel, name, global,
                      CLNN_ARGS(CLNN_ARG(um), CLNN_ARG(un), CLNN_ARG(uk), CLNN_ARG(ualpha),
                                CLNN_ARG(a), CLNN_ARG(ua_off), CLNN_ARG(ulda), CLNN_ARG(b),
                                CLNN_ARG(ub_off), CLNN_ARG(uldb), CLNN_ARG(ubeta), CLNN_ARG(c),
                                CLNN_ARG(uc_off), CLNN_ARG(uldc)));
    }
    /* Element strides of A(m, k) in its row-major storage. */
    cl_uint a_m = trans_a ? 1u : ulda, a_k = trans_a ? ulda : 1u;
    size_t m_blocks = (m + 3) / 4, n_blocks = (n + 7) / 8;
    size_t slices = k_slices(ctx, m_blocks * n_blocks, k);
    cl_mem out = c;
    if (slices > 1) {
        if ((status = slice_buffer(ctx, slices, m, n, &out)) != CLNN_SUCCESS)
            return status;
        uc_off = 0, uldc = un, ualpha = 1.0f, ubeta = 0.0f;
    }
    cl_uint um_blocks = (cl_uint)m_blocks, uslices = (cl_uint)slices;
    cl_uint k_slice = (cl_uint)((k + slices - 1) / slices), c_slice = (cl_uint)(m * n);
    size_t global[2] = {n_blocks, m_blocks * slices};
    status = run_2d(ctx, kernel, name, global,
                    CLNN_ARGS(CLNN_ARG(um), CLNN_ARG(un), CLNN_ARG(uk), CLNN_ARG(ualpha),
                              CLNN_ARG(a), CLNN_ARG(ua_off), CLNN_ARG(a_m), CLNN_ARG(a_k),
                              CLNN_ARG(b), CLNN_ARG(ub_off), CLNN_ARG(uldb), CLNN_ARG(ubeta),
                              CLNN_ARG(out), CLNN_ARG(uc_off), CLNN_ARG(uldc),
                              CLNN_ARG(um_blocks), CLNN_ARG(uslices), CLNN_ARG(k_slice),
                              CLNN_ARG(c_slice)));
    if (status == CLNN_SUCCESS && slices > 1)
        status = clnn_gemm_sum_slices(ctx, m, n, slices, out, 0, alpha, beta, c, c_off, ldc, 1);
    return status;
}

/* clnn_gemm_nn16's blocking for the caches (a CPU BLAS's kc and mc): K is done in launches of
 * NN16_K_CHUNK steps (C accumulated: beta for the first, 1 after; longer for products of fewer
 * rows than a tile, below), and in each launch the
 * work-items walk C in tiles of NN16_TILE_ROWS rows, so a tile's A rows (256 x 256 floats,
 * 256 KiB) stay in L2 while B's 32-column panels (32 KiB) pass through L1. Chosen by measurement
 * on POCL's CPU device (kc 128..512, tiles 128..512): without them 1024^3 and 2048^3 ran at 0.3
 * of OpenBLAS, B being re-read from memory for every 8 rows of C. */
#define NN16_K_CHUNK 256
#define NN16_TILE_ROWS 256

/* C = op(A) B through clnn_gemm_nn16 (CPU devices, B not transposed, n >= 32): 8 x 32 blocks of
 * C per work-item, the dense backward products (dx = dy W, dW = dy^T x). On POCL's CPU device it
 * runs them at 0.6-0.9 of OpenBLAS where CLBlast's tuned Xgemm reached 0.16-0.48. img_cols > 0:
 * C's columns are images' planes (clnn_gemm_images; ldc is then img_cols), never split along K. */
static clnn_status gemm_nn16(clnn_context *ctx, int trans_a, size_t m, size_t n, size_t k,
                             float alpha, cl_mem a, size_t a_off, size_t lda, cl_mem b,
                             size_t b_off, size_t ldb, float beta, cl_mem c, size_t c_off,
                             size_t ldc, size_t img_cols, size_t img_stride)
{
    static const char name[] = "clnn_gemm_nn16";
    cl_kernel kernel;
    clnn_status status = clnn_get_kernel(ctx, "dense.cl", NULL, name, &kernel);
    if (status != CLNN_SUCCESS)
        return status;
    /* A product of fewer rows than a tile is one tile of its own height (rounded to 8), so no
     * work-item slot goes idle, and it takes a longer K chunk for the same A block in L2 (64
     * rows: 1024 steps): short, wide-K products (the convolutions' weight gradients, K = a chunk
     * of images' pixels) then take a few launches, not one per 256 steps. Both gained 13-17% on
     * the default CNN's products. */
    size_t tile_rows = m < NN16_TILE_ROWS ? (m + 7) / 8 * 8 : NN16_TILE_ROWS;
    size_t kc = NN16_K_CHUNK * (NN16_TILE_ROWS / tile_rows);
    /* With at most two column blocks each row of A is read at most twice whatever the K chunk,
     * so chunks would only add launches (the convolutions' transposed weight gradients, 288 x 64
     * over a chunk's 3640 pixels: 15 launches, not 1): K is taken whole. */
    if (n <= 64)
        kc = k;
    size_t tiles = (m + tile_rows - 1) / tile_rows;
    size_t items = tiles * (tile_rows / 8) * ((n + 31) / 32);
    /* One local size for every shape (as run_2d, for the same reason): the global size is
     * rounded up to it, and the work-items past the last tile return at once. */
    size_t local[2] = {32, 1};
    size_t global[2] = {(items + local[0] - 1) / local[0] * local[0], 1};
    const size_t *local_size = clnn_kernel_group_size(ctx, kernel) >= local[0] ? local : NULL;

    /* Split along K (above k_slices): each launch covers up to slices K chunks, a chunk a
     * slice. */
    size_t slices = img_cols ? 1 : k_slices(ctx, items, k);
    cl_mem out = c;
    size_t out_off = c_off, out_ld = ldc;
    if (slices > 1) {
        if ((status = slice_buffer(ctx, slices, m, n, &out)) != CLNN_SUCCESS)
            return status;
        out_off = 0, out_ld = n;
    }
    global[1] = slices;
    cl_uint um = (cl_uint)m, un = (cl_uint)n, uldb = (cl_uint)ldb;
    cl_uint uldc = (cl_uint)out_ld, utile = (cl_uint)tile_rows;
    cl_uint ua_off = (cl_uint)a_off, ub_off = (cl_uint)b_off, uc_off = (cl_uint)out_off;
    cl_uint a_m = trans_a ? 1u : (cl_uint)lda, a_k = trans_a ? (cl_uint)lda : 1u;
    cl_uint c_slice = (cl_uint)(m * n), uimg_cols = (cl_uint)img_cols;
    cl_uint uimg_stride = (cl_uint)img_stride;
    cl_float ualpha = slices > 1 ? 1.0f : alpha;
    size_t k0 = 0;
    do { /* at least one launch: k == 0 still scales C by beta */
        /* This launch: [k0, k0 + span), slice s of it [k0 + s * per, k0 + (s + 1) * per). */
        size_t span = k - k0 < slices * kc ? k - k0 : slices * kc;
        size_t per = (span + slices - 1) / slices;
        cl_uint kb = (cl_uint)k0, ke = (cl_uint)(k0 + span), k_slice = (cl_uint)per;
        cl_float ubeta = k0 > 0 ? 1.0f : slices > 1 ? 0.0f : beta;
        status = clnn_run_kernel(
            ctx, kernel, name, 2, global, local_size,
            CLNN_ARGS(CLNN_ARG(um), CLNN_ARG(un), CLNN_ARG(kb), CLNN_ARG(ke), CLNN_ARG(k_slice),
                      CLNN_ARG(ualpha), CLNN_ARG(a), CLNN_ARG(ua_off), CLNN_ARG(a_m),
                      CLNN_ARG(a_k), CLNN_ARG(b), CLNN_ARG(ub_off), CLNN_ARG(uldb),
                      CLNN_ARG(ubeta), CLNN_ARG(out), CLNN_ARG(uc_off), CLNN_ARG(uldc),
                      CLNN_ARG(c_slice), CLNN_ARG(utile), CLNN_ARG(uimg_cols),
                      CLNN_ARG(uimg_stride)));
        k0 += span;
    } while (status == CLNN_SUCCESS && k0 < k);
    if (status == CLNN_SUCCESS && slices > 1)
        status = clnn_gemm_sum_slices(ctx, m, n, slices, out, 0, alpha, beta, c, c_off, ldc, 1);
    return status;
}

/* C = A B^T on CPU devices for products of at least NT_TRANSPOSE_WORK multiply-adds: B^T into
 * the context's GEMM buffer, then clnn_gemm_nn16. Below that clnn_gemm_small_nt's dot products
 * win (the MLP's forward products, 256x512x784 among them, at 0.7-0.8 of OpenBLAS); above it they
 * fall to 0.4 (each work-item streams 8 rows of length K through L2) while the transposed route
 * runs 512^3 at 0.6-0.95 and 1024^3, 2048^3 at 0.53-0.59; the transposition costs one pass over
 * B. */
#define NT_TRANSPOSE_WORK ((size_t)1 << 27)

/* The transposed operand's leading dimension: n, padded by 16 floats so that its rows are not
 * 2^k floats apart (rows 4 KiB apart share an L1 set; 1024^3 ran at half speed in some runs). */
static size_t transposed_ld(size_t n)
{
    return n + 16;
}

static int nt_by_transpose(const clnn_context *ctx, int trans_a, int trans_b, size_t m, size_t n,
                           size_t k)
{
    return !ctx->gemm_clblast_only && clnn_cpu_forms(ctx) && !trans_a &&
           trans_b && n >= 32 && m * n * k >= NT_TRANSPOSE_WORK;
}

clnn_status clnn_gemm_prepare(clnn_context *ctx, int trans_a, int trans_b, size_t m, size_t n,
                              size_t k)
{
    size_t bytes =
        nt_by_transpose(ctx, trans_a, trans_b, m, n, k) ? transposed_ld(n) * k * sizeof(cl_float) : 0;
    return clnn_scratch_reserve(ctx, CLNN_SCRATCH_GEMM, bytes, "the transposed GEMM operand");
}
/* B^T (B stored [n, k]) into the scratch pool's GEMM slot by clnn_transpose16, then C = A B^T as A (B^T)
 * by clnn_gemm_nn16; both on the context's in-order queue. */
static clnn_status gemm_nt_by_transpose(clnn_context *ctx, size_t m, size_t n, size_t k,
                                        float alpha, cl_mem a, size_t a_off, size_t lda, cl_mem b,
                                        size_t b_off, size_t ldb, float beta, cl_mem c,
                                        size_t c_off, size_t ldc)
{
    static const char name[] = "clnn_transpose16";
    cl_kernel kernel;
    clnn_status status = clnn_get_kernel(ctx, "dense.cl", NULL, name, &kernel);
    if (status != CLNN_SUCCESS)
        return status;
    size_t ld = transposed_ld(n);
    cl_mem bt;
    status = clnn_scratch_get(ctx, CLNN_SCRATCH_GEMM, ld * k * sizeof(cl_float),
                              "the transposed GEMM operand", &bt);
    if (status != CLNN_SUCCESS)
        return status;
    cl_uint rows = (cl_uint)n, cols = (cl_uint)k, lds = (cl_uint)ldb, ldd = (cl_uint)ld;
    cl_uint src_off = (cl_uint)b_off;
    size_t global[2] = {(k + 15) / 16, (n + 15) / 16};
    status = run_2d(ctx, kernel, name, global,
                    CLNN_ARGS(CLNN_ARG(rows), CLNN_ARG(cols), CLNN_ARG(b), CLNN_ARG(src_off),
                              CLNN_ARG(lds), CLNN_ARG(bt), CLNN_ARG(ldd)));
    if (status == CLNN_SUCCESS)
        status = gemm_nn16(ctx, 0, m, n, k, alpha, a, a_off, lda, bt, 0, ld, beta, c, c_off, ldc, 0,
                           0);
    return status;
}

clnn_status clnn_gemm(clnn_context *ctx, const char *what, int trans_a, int trans_b, size_t m,
                      size_t n, size_t k, float alpha, cl_mem a, size_t lda, cl_mem b, size_t ldb,
                      float beta, cl_mem c, size_t ldc)
{
    return clnn_gemm_offset(ctx, what, trans_a, trans_b, m, n, k, alpha, a, 0, lda, b, 0, ldb,
                            beta, c, 0, ldc);
}

clnn_status clnn_gemm_offset(clnn_context *ctx, const char *what, int trans_a, int trans_b,
                             size_t m, size_t n, size_t k, float alpha, cl_mem a, size_t a_off,
                             size_t lda, cl_mem b, size_t b_off, size_t ldb, float beta, cl_mem c,
                             size_t c_off, size_t ldc)
{
    int own = !ctx->gemm_clblast_only;
    int cpu = clnn_cpu_forms(ctx);
    if (own && cpu && !trans_b && n >= 32)
        return gemm_nn16(ctx, trans_a, m, n, k, alpha, a, a_off, lda, b, b_off, ldb, beta, c,
                         c_off, ldc, 0, 0);
    if (nt_by_transpose(ctx, trans_a, trans_b, m, n, k))
        return gemm_nt_by_transpose(ctx, m, n, k, alpha, a, a_off, lda, b, b_off, ldb, beta, c,
                                    c_off, ldc);
    int skinny = m <= SMALL_GEMM_DIM || n <= SMALL_GEMM_DIM || k <= SMALL_GEMM_DIM;
    int cpu_nt = cpu && !trans_a && trans_b;
    if (own && (skinny || cpu_nt) && !(trans_a && trans_b))
        return gemm_small(ctx, trans_a, trans_b, m, n, k, alpha, a, a_off, lda, b, b_off, ldb,
                          beta, c, c_off, ldc);
    clnn_tuning_ensure(ctx);
    cl_command_queue queue = ctx->queue;
    /* No event is requested: the queue is in order, and later clnn work waits on it. */
    CLBlastStatusCode code =
        CLBlastSgemm(CLBlastLayoutRowMajor, trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
                     trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, alpha, a, a_off,
                     lda, b, b_off, ldb, beta, c, c_off, ldc, &queue, NULL);
    if (code != CLBlastSuccess)
        return clnn_blas_error(ctx, code, what);
    return CLNN_SUCCESS;
}

int clnn_gemm_images_ok(const clnn_context *ctx, size_t n, size_t img_cols)
{
    return !ctx->gemm_clblast_only && clnn_cpu_forms(ctx) && n >= 32 && img_cols >= 32;
}

clnn_status clnn_gemm_images(clnn_context *ctx, size_t m, size_t n, size_t k, float alpha,
                             cl_mem a, size_t a_off, size_t lda, cl_mem b, size_t b_off,
                             size_t ldb, float beta, cl_mem c, size_t c_off, size_t img_cols,
                             size_t img_stride)
{
    return gemm_nn16(ctx, 0, m, n, k, alpha, a, a_off, lda, b, b_off, ldb, beta, c, c_off,
                     img_cols, img_cols, img_stride);
}
