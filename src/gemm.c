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

clnn_status clnn_gemm(clnn_context *ctx, const char *what, int trans_a, int trans_b, size_t m,
                      size_t n, size_t k, float alpha, cl_mem a, size_t lda, cl_mem b, size_t ldb,
                      float beta, cl_mem c, size_t ldc)
{
    clnn_tuning_ensure(ctx);
    cl_command_queue queue = ctx->queue;
    /* No event is requested: the queue is in order, and later clnn work waits on it. */
    CLBlastStatusCode code = CLBlastSgemm(
        CLBlastLayoutRowMajor, trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
        trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, alpha, a, 0, lda, b, 0, ldb,
        beta, c, 0, ldc, &queue, NULL);
    if (code != CLBlastSuccess)
        return clnn_blas_error(ctx, code, what);
    return CLNN_SUCCESS;
}
