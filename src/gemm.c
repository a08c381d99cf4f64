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

/* The product through clnn_gemm_small_nn (B not transposed) or clnn_gemm_small_nt (A not
 * transposed, B transposed); both transposed is left to CLBlast. The driver picks the
 * work-group size (the kernels need no particular one). */
static clnn_status gemm_small(clnn_context *ctx, int trans_a, int trans_b, size_t m, size_t n,
                              size_t k, float alpha, cl_mem a, size_t lda, cl_mem b, size_t ldb,
                              float beta, cl_mem c, size_t ldc)
{
    const char *name = trans_b ? "clnn_gemm_small_nt" : "clnn_gemm_small_nn";
    cl_kernel kernel;
    clnn_status status = clnn_get_kernel(ctx, "dense.cl", NULL, name, &kernel);
    if (status != CLNN_SUCCESS)
        return status;
    cl_uint um = (cl_uint)m, un = (cl_uint)n, uk = (cl_uint)k, ulda = (cl_uint)lda;
    cl_uint uldb = (cl_uint)ldb, uldc = (cl_uint)ldc;
    cl_float ualpha = alpha, ubeta = beta;
    if (trans_b) {
        size_t global[2] = {(n + 3) / 4, (m + 3) / 4};
        return clnn_run_kernel(ctx, kernel, name, 2, global, NULL,
                               CLNN_ARGS(CLNN_ARG(um), CLNN_ARG(un), CLNN_ARG(uk), CLNN_ARG(ualpha),
                                         CLNN_ARG(a), CLNN_ARG(ulda), CLNN_ARG(b), CLNN_ARG(uldb),
                                         CLNN_ARG(ubeta), CLNN_ARG(c), CLNN_ARG(uldc)));
    }
    /* Element strides of A(m, k) in its row-major storage. */
    cl_uint a_m = trans_a ? 1u : ulda, a_k = trans_a ? ulda : 1u;
    size_t global[2] = {(n + 7) / 8, (m + 3) / 4};
    return clnn_run_kernel(ctx, kernel, name, 2, global, NULL,
                           CLNN_ARGS(CLNN_ARG(um), CLNN_ARG(un), CLNN_ARG(uk), CLNN_ARG(ualpha),
                                     CLNN_ARG(a), CLNN_ARG(a_m), CLNN_ARG(a_k), CLNN_ARG(b),
                                     CLNN_ARG(uldb), CLNN_ARG(ubeta), CLNN_ARG(c), CLNN_ARG(uldc)));
}

/* C = op(A) B through clnn_gemm_nn16 (CPU devices, B not transposed, n >= 32): 8 x 32 blocks of
 * C per work-item, the dense backward products (dx = dy W, dW = dy^T x). On POCL's CPU device it
 * runs them at 0.6-0.96 of OpenBLAS where CLBlast's tuned Xgemm reached 0.16-0.48. */
static clnn_status gemm_nn16(clnn_context *ctx, int trans_a, size_t m, size_t n, size_t k,
                             float alpha, cl_mem a, size_t lda, cl_mem b, size_t ldb, float beta,
                             cl_mem c, size_t ldc)
{
    static const char name[] = "clnn_gemm_nn16";
    cl_kernel kernel;
    clnn_status status = clnn_get_kernel(ctx, "dense.cl", NULL, name, &kernel);
    if (status != CLNN_SUCCESS)
        return status;
    cl_uint um = (cl_uint)m, un = (cl_uint)n, uk = (cl_uint)k, uldb = (cl_uint)ldb;
    cl_uint uldc = (cl_uint)ldc;
    cl_uint a_m = trans_a ? 1u : (cl_uint)lda, a_k = trans_a ? (cl_uint)lda : 1u;
    cl_float ualpha = alpha, ubeta = beta;
    size_t global[2] = {(n + 31) / 32, (m + 7) / 8};
    return clnn_run_kernel(ctx, kernel, name, 2, global, NULL,
                           CLNN_ARGS(CLNN_ARG(um), CLNN_ARG(un), CLNN_ARG(uk), CLNN_ARG(ualpha),
                                     CLNN_ARG(a), CLNN_ARG(a_m), CLNN_ARG(a_k), CLNN_ARG(b),
                                     CLNN_ARG(uldb), CLNN_ARG(ubeta), CLNN_ARG(c), CLNN_ARG(uldc)));
}

clnn_status clnn_gemm(clnn_context *ctx, const char *what, int trans_a, int trans_b, size_t m,
                      size_t n, size_t k, float alpha, cl_mem a, size_t lda, cl_mem b, size_t ldb,
                      float beta, cl_mem c, size_t ldc)
{
    int own = !ctx->gemm_clblast_only;
    int cpu = ctx->info.type == CLNN_DEVICE_TYPE_CPU;
    if (own && cpu && !trans_b && n >= 32)
        return gemm_nn16(ctx, trans_a, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    int skinny = m <= SMALL_GEMM_DIM || n <= SMALL_GEMM_DIM || k <= SMALL_GEMM_DIM;
    int cpu_nt = cpu && !trans_a && trans_b;
    if (own && (skinny || cpu_nt) && !(trans_a && trans_b))
        return gemm_small(ctx, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    clnn_tuning_ensure(ctx);
    cl_command_queue queue = ctx->queue;
    /* No event is requested: the queue is in order, and later clnn work waits on it. */
    CLBlastStatusCode code =
        CLBlastSgemm(CLBlastLayoutRowMajor, trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
                     trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, alpha, a, 0, lda,
                     b, 0, ldb, beta, c, 0, ldc, &queue, NULL);
    if (code != CLBlastSuccess)
        return clnn_blas_error(ctx, code, what);
    return CLNN_SUCCESS;
}
