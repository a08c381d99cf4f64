/*
 * Status codes, OpenCL error names, the per-context and per-thread error message, and the argument
 * checks every public function uses to say precisely what was wrong.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const status_strings[] = {
    "CLNN_SUCCESS: success",
    "CLNN_ERR_INVALID_ARGUMENT: invalid argument",
    "CLNN_ERR_INVALID_SHAPE: invalid or mismatched tensor shape",
    "CLNN_ERR_SIZE_OVERFLOW: size overflows",
    "CLNN_ERR_CONTEXT_MISMATCH: objects from different contexts",
    "CLNN_ERR_NO_PLATFORM: no OpenCL platform installed",
    "CLNN_ERR_NO_DEVICE: no matching OpenCL device",
    "CLNN_ERR_HOST_MEMORY: out of host memory",
    "CLNN_ERR_DEVICE_MEMORY: out of device memory or resources",
    "CLNN_ERR_OPENCL: OpenCL call failed",
    "CLNN_ERR_BUILD: kernel build failed",
    "CLNN_ERR_KERNEL_SOURCE: kernel source missing or unreadable",
    "CLNN_ERR_IO: file input/output failed",
    "CLNN_ERR_CORRUPT: file corrupt or truncated",
    "CLNN_ERR_FORMAT: unrecognised file format or version",
    "CLNN_ERR_MISMATCH: data does not match its destination",
    "CLNN_ERR_NON_FINITE: non-finite value",
    "CLNN_ERR_OUT_OF_RANGE: index or label out of range",
    "CLNN_ERR_BLAS: CLBlast call failed",
    "CLNN_ERR_UNSUPPORTED: not supported by this device or object",
};
_Static_assert(sizeof(status_strings) / sizeof(status_strings[0]) == CLNN_STATUS_COUNT,
               "status_strings must name every clnn_status");

const char *clnn_status_string(clnn_status status)
{
    if ((int)status < 0 || status >= CLNN_STATUS_COUNT)
        return "unknown clnn status";
    return status_strings[status];
}

const char *clnn_version_string(void)
{
    return CLNN_VERSION_STRING;
}

/* The message of the last error on this thread, for calls made without a context. */
static _Thread_local char thread_error[CLNN_MESSAGE_SIZE];

clnn_status clnn_error(clnn_context *ctx, clnn_status status, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(thread_error, sizeof thread_error, format, args);
    va_end(args);
    if (ctx)
        memcpy(ctx->last_error, thread_error, sizeof thread_error);
    return status;
}

const char *clnn_context_last_error(const clnn_context *ctx)
{
    return ctx ? ctx->last_error : thread_error;
}

const char *clnn_cl_error_name(cl_int code)
{
    switch (code) {
#define NAME(c)                                                                                    \
    case c:                                                                                        \
        return #c
        NAME(CL_SUCCESS);
        NAME(CL_DEVICE_NOT_FOUND);
        NAME(CL_DEVICE_NOT_AVAILABLE);
        NAME(CL_COMPILER_NOT_AVAILABLE);
        NAME(CL_MEM_OBJECT_ALLOCATION_FAILURE);
        NAME(CL_OUT_OF_RESOURCES);
        NAME(CL_OUT_OF_HOST_MEMORY);
        NAME(CL_PROFILING_INFO_NOT_AVAILABLE);
        NAME(CL_MEM_COPY_OVERLAP);
        NAME(CL_IMAGE_FORMAT_MISMATCH);
        NAME(CL_IMAGE_FORMAT_NOT_SUPPORTED);
        NAME(CL_BUILD_PROGRAM_FAILURE);
        NAME(CL_MAP_FAILURE);
        NAME(CL_MISALIGNED_SUB_BUFFER_OFFSET);
        NAME(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST);
        NAME(CL_COMPILE_PROGRAM_FAILURE);
        NAME(CL_LINKER_NOT_AVAILABLE);
        NAME(CL_LINK_PROGRAM_FAILURE);
        NAME(CL_DEVICE_PARTITION_FAILED);
        NAME(CL_KERNEL_ARG_INFO_NOT_AVAILABLE);
        NAME(CL_INVALID_VALUE);
        NAME(CL_INVALID_DEVICE_TYPE);
        NAME(CL_INVALID_PLATFORM);
        NAME(CL_INVALID_DEVICE);
        NAME(CL_INVALID_CONTEXT);
        NAME(CL_INVALID_QUEUE_PROPERTIES);
        NAME(CL_INVALID_COMMAND_QUEUE);
        NAME(CL_INVALID_HOST_PTR);
        NAME(CL_INVALID_MEM_OBJECT);
        NAME(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR);
        NAME(CL_INVALID_IMAGE_SIZE);
        NAME(CL_INVALID_SAMPLER);
        NAME(CL_INVALID_BINARY);
        NAME(CL_INVALID_BUILD_OPTIONS);
        NAME(CL_INVALID_PROGRAM);
        NAME(CL_INVALID_PROGRAM_EXECUTABLE);
        NAME(CL_INVALID_KERNEL_NAME);
        NAME(CL_INVALID_KERNEL_DEFINITION);
        NAME(CL_INVALID_KERNEL);
        NAME(CL_INVALID_ARG_INDEX);
        NAME(CL_INVALID_ARG_VALUE);
        NAME(CL_INVALID_ARG_SIZE);
        NAME(CL_INVALID_KERNEL_ARGS);
        NAME(CL_INVALID_WORK_DIMENSION);
        NAME(CL_INVALID_WORK_GROUP_SIZE);
        NAME(CL_INVALID_WORK_ITEM_SIZE);
        NAME(CL_INVALID_GLOBAL_OFFSET);
        NAME(CL_INVALID_EVENT_WAIT_LIST);
        NAME(CL_INVALID_EVENT);
        NAME(CL_INVALID_OPERATION);
        NAME(CL_INVALID_GL_OBJECT);
        NAME(CL_INVALID_BUFFER_SIZE);
        NAME(CL_INVALID_MIP_LEVEL);
        NAME(CL_INVALID_GLOBAL_WORK_SIZE);
        NAME(CL_INVALID_PROPERTY);
        NAME(CL_INVALID_IMAGE_DESCRIPTOR);
        NAME(CL_INVALID_COMPILER_OPTIONS);
        NAME(CL_INVALID_LINKER_OPTIONS);
        NAME(CL_INVALID_DEVICE_PARTITION_COUNT);
#undef NAME
    case -1001:
        return "CL_PLATFORM_NOT_FOUND_KHR";
    default:
        return "unknown OpenCL error";
    }
}

clnn_status clnn_cl_error(clnn_context *ctx, cl_int code, const char *what)
{
    clnn_status status = CLNN_ERR_OPENCL;
    if (code == CL_MEM_OBJECT_ALLOCATION_FAILURE || code == CL_OUT_OF_RESOURCES ||
        code == CL_INVALID_BUFFER_SIZE)
        status = CLNN_ERR_DEVICE_MEMORY;
    else if (code == CL_OUT_OF_HOST_MEMORY)
        status = CLNN_ERR_HOST_MEMORY;
    return clnn_error(ctx, status, "%s failed: %s (%d)", what, clnn_cl_error_name(code), (int)code);
}

clnn_status clnn_check_context(const clnn_context *ctx, const char *function)
{
    if (!ctx)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "%s: ctx is NULL", function);
    return CLNN_SUCCESS;
}

clnn_status clnn_check_pointer(clnn_context *ctx, const void *p, const char *name)
{
    if (!p)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s is NULL", name);
    return CLNN_SUCCESS;
}

clnn_status clnn_check_finite(clnn_context *ctx, float value, const char *name)
{
    if (!isfinite(value))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s is %g; it must be finite", name,
                          (double)value);
    return CLNN_SUCCESS;
}

static clnn_status check_typed(clnn_context *ctx, const clnn_tensor *t, const char *name,
                               clnn_dtype dtype)
{
    if (!t)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "tensor %s is NULL", name);
    if (ctx && t->ctx != ctx)
        return clnn_error(ctx, CLNN_ERR_CONTEXT_MISMATCH,
                          "tensor %s belongs to another clnn context", name);
    if (t->dtype != dtype)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "tensor %s holds %s; %s expected", name,
                          t->dtype == CLNN_DTYPE_INT32 ? "int32 values" : "floats",
                          dtype == CLNN_DTYPE_INT32 ? "int32 values" : "floats");
    return CLNN_SUCCESS;
}

clnn_status clnn_check_tensor(clnn_context *ctx, const clnn_tensor *t, const char *name)
{
    return check_typed(ctx, t, name, CLNN_DTYPE_FLOAT32);
}

clnn_status clnn_check_int32_tensor(clnn_context *ctx, const clnn_tensor *t, const char *name)
{
    return check_typed(ctx, t, name, CLNN_DTYPE_INT32);
}

void clnn_format_shape(char *buf, size_t size, int ndim, const size_t *dims)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < ndim && used < size; ++i) {
        int n = snprintf(buf + used, size - used, i ? "x%zu" : "%zu", dims[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

clnn_status clnn_check_same_shape(clnn_context *ctx, const clnn_tensor *t, const char *t_name,
                                  const clnn_tensor *u, const char *u_name)
{
    int same = t->ndim == u->ndim;
    for (int i = 0; same && i < t->ndim; ++i)
        same = t->dims[i] == u->dims[i];
    if (!same) {
        char a[96], b[96];
        clnn_format_shape(a, sizeof a, t->ndim, t->dims);
        clnn_format_shape(b, sizeof b, u->ndim, u->dims);
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "shapes of %s (%s) and %s (%s) must be equal", t_name, a, u_name, b);
    }
    return CLNN_SUCCESS;
}

clnn_status clnn_check_shape(clnn_context *ctx, int ndim, const size_t *dims, size_t *count)
{
    if (ndim < 1 || ndim > CLNN_MAX_DIMS)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE, "ndim is %d; it must be 1 to %d", ndim,
                          CLNN_MAX_DIMS);
    if (!dims)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "dims is NULL");
    size_t n = 1;
    for (int i = 0; i < ndim; ++i) {
        if (dims[i] == 0)
            return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE, "dims[%d] is 0; sizes must be >= 1", i);
        if (dims[i] > CLNN_MAX_ELEMENTS || n > CLNN_MAX_ELEMENTS / dims[i]) {
            char s[96];
            clnn_format_shape(s, sizeof s, ndim, dims);
            return clnn_error(ctx, CLNN_ERR_SIZE_OVERFLOW,
                              "shape %s has more than %zu elements (the most a tensor holds)", s,
                              CLNN_MAX_ELEMENTS);
        }
        n *= dims[i];
    }
    *count = n;
    return CLNN_SUCCESS;
}
