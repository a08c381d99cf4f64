/*
 * Device tensors of floats (and of int32 class labels): allocation, wrapping a caller's buffer,
 * host transfers, fill, copy and shape changes. Shapes are validated here once, and by each op
 * against its operands.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static clnn_status new_tensor(clnn_context *ctx, int ndim, const size_t *dims, size_t count,
                              cl_mem buffer, clnn_tensor **out)
{
    clnn_tensor *t = calloc(1, sizeof *t);
    if (!t)
        return clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory creating a tensor");
    t->ctx = ctx;
    t->buffer = buffer;
    t->ndim = ndim;
    for (int i = 0; i < CLNN_MAX_DIMS; ++i)
        t->dims[i] = i < ndim ? dims[i] : 1;
    t->count = count;
    t->capacity = count;
    *out = t;
    return CLNN_SUCCESS;
}

clnn_status clnn_tensor_create(clnn_context *ctx, int ndim, const size_t *dims,
                               clnn_tensor **tensor)
{
    clnn_status status = clnn_check_context(ctx, "clnn_tensor_create");
    if (status != CLNN_SUCCESS)
        return status;
    if (!tensor)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "clnn_tensor_create: tensor is NULL");
    size_t count;
    status = clnn_check_shape(ctx, ndim, dims, &count);
    if (status != CLNN_SUCCESS)
        return status;
    size_t bytes = count * sizeof(float);
    if (bytes > ctx->info.max_alloc_bytes)
        return clnn_error(ctx, CLNN_ERR_DEVICE_MEMORY,
                          "a tensor of %zu bytes exceeds the device's largest allocation (%llu)",
                          bytes, (unsigned long long)ctx->info.max_alloc_bytes);
    cl_int err;
    cl_mem buffer = clCreateBuffer(ctx->cl_ctx, CL_MEM_READ_WRITE, bytes, NULL, &err);
    if (err != CL_SUCCESS)
        return clnn_cl_error(ctx, err, "clCreateBuffer");
    status = new_tensor(ctx, ndim, dims, count, buffer, tensor);
    if (status != CLNN_SUCCESS)
        clReleaseMemObject(buffer);
    return status;
}

clnn_status clnn_tensor_wrap(clnn_context *ctx, cl_mem buffer, int ndim, const size_t *dims,
                             clnn_tensor **tensor)
{
    clnn_status status = clnn_check_context(ctx, "clnn_tensor_wrap");
    if (status != CLNN_SUCCESS)
        return status;
    if (!tensor || !buffer)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "clnn_tensor_wrap: %s is NULL",
                          tensor ? "buffer" : "tensor");
    size_t count;
    status = clnn_check_shape(ctx, ndim, dims, &count);
    if (status != CLNN_SUCCESS)
        return status;
    cl_context owner;
    size_t size;
    CLNN_CL_CHECK(ctx, clGetMemObjectInfo(buffer, CL_MEM_CONTEXT, sizeof owner, &owner, NULL),
                  "clGetMemObjectInfo(CL_MEM_CONTEXT) on the wrapped buffer");
    CLNN_CL_CHECK(ctx, clGetMemObjectInfo(buffer, CL_MEM_SIZE, sizeof size, &size, NULL),
                  "clGetMemObjectInfo(CL_MEM_SIZE) on the wrapped buffer");
    if (owner != ctx->cl_ctx)
        return clnn_error(ctx, CLNN_ERR_CONTEXT_MISMATCH,
                          "the wrapped buffer belongs to another OpenCL context");
    if (size / sizeof(float) < count)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "the wrapped buffer holds %zu bytes; the shape needs %zu", size,
                          count * sizeof(float));
    CLNN_CL_CHECK(ctx, clRetainMemObject(buffer), "clRetainMemObject");
    status = new_tensor(ctx, ndim, dims, count, buffer, tensor);
    if (status != CLNN_SUCCESS)
        clReleaseMemObject(buffer);
    return status;
}

clnn_status clnn_tensor_destroy(clnn_tensor *tensor)
{
    if (!tensor)
        return CLNN_SUCCESS;
    /* For a wrapped buffer this releases clnn's own reference only. */
    clReleaseMemObject(tensor->buffer);
    free(tensor);
    return CLNN_SUCCESS;
}

static clnn_status check_transfer(const clnn_tensor *tensor, const void *host, size_t count,
                                  clnn_dtype dtype, const char *function)
{
    if (!tensor)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "%s: tensor is NULL", function);
    if (tensor->dtype != dtype)
        return clnn_error(tensor->ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: the tensor holds %s",
                          function, tensor->dtype == CLNN_DTYPE_INT32 ? "int32 values" : "floats");
    if (!host)
        return clnn_error(tensor->ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: host is NULL", function);
    if (count != tensor->count)
        return clnn_error(tensor->ctx, CLNN_ERR_INVALID_SHAPE,
                          "%s: count is %zu but the tensor holds %zu elements", function, count,
                          tensor->count);
    return CLNN_SUCCESS;
}

/* A blocking copy between the host and the tensor's buffer (4 bytes per element, floats or
 * int32), after checking the tensor's type and the count. */
static clnn_status transfer(const clnn_tensor *tensor, const void *host_in, void *host_out,
                            size_t count, clnn_dtype dtype, const char *function)
{
    clnn_status status =
        check_transfer(tensor, host_in ? host_in : host_out, count, dtype, function);
    if (status != CLNN_SUCCESS)
        return status;
    cl_command_queue queue = tensor->ctx->queue;
    size_t bytes = count * sizeof(float);
    if (host_in)
        CLNN_CL_CHECK(tensor->ctx,
                      clEnqueueWriteBuffer(queue, tensor->buffer, CL_TRUE, 0, bytes, host_in, 0,
                                           NULL, NULL),
                      "clEnqueueWriteBuffer");
    else
        CLNN_CL_CHECK(tensor->ctx,
                      clEnqueueReadBuffer(queue, tensor->buffer, CL_TRUE, 0, bytes, host_out, 0,
                                          NULL, NULL),
                      "clEnqueueReadBuffer");
    return CLNN_SUCCESS;
}

clnn_status clnn_tensor_upload(clnn_tensor *tensor, const float *host, size_t count)
{
    return transfer(tensor, host, NULL, count, CLNN_DTYPE_FLOAT32, "clnn_tensor_upload");
}

clnn_status clnn_tensor_download(const clnn_tensor *tensor, float *host, size_t count)
{
    return transfer(tensor, NULL, host, count, CLNN_DTYPE_FLOAT32, "clnn_tensor_download");
}

clnn_status clnn_tensor_create_int32(clnn_context *ctx, int ndim, const size_t *dims,
                                     clnn_tensor **tensor)
{
    clnn_status status = clnn_check_context(ctx, "clnn_tensor_create_int32");
    if (status != CLNN_SUCCESS)
        return status;
    if (!tensor)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_tensor_create_int32: tensor is NULL");
    clnn_tensor *made = NULL;
    status = clnn_tensor_create(ctx, ndim, dims, &made);
    if (status != CLNN_SUCCESS)
        return status;
    made->dtype = CLNN_DTYPE_INT32; /* 4 bytes per element, as floats */
    *tensor = made;
    return CLNN_SUCCESS;
}

clnn_status clnn_tensor_upload_int32(clnn_tensor *tensor, const int32_t *host, size_t count)
{
    return transfer(tensor, host, NULL, count, CLNN_DTYPE_INT32, "clnn_tensor_upload_int32");
}

clnn_status clnn_tensor_download_int32(const clnn_tensor *tensor, int32_t *host, size_t count)
{
    return transfer(tensor, NULL, host, count, CLNN_DTYPE_INT32, "clnn_tensor_download_int32");
}

clnn_status clnn_tensor_get_dtype(const clnn_tensor *tensor, clnn_dtype *dtype)
{
    if (!tensor || !dtype)
        return clnn_error(tensor ? tensor->ctx : NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_tensor_get_dtype: %s is NULL", tensor ? "dtype" : "tensor");
    *dtype = tensor->dtype;
    return CLNN_SUCCESS;
}

clnn_status clnn_tensor_fill(clnn_tensor *tensor, float value)
{
    if (!tensor)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_tensor_fill: tensor is NULL");
    clnn_status checked = clnn_check_tensor(tensor->ctx, tensor, "tensor");
    if (checked != CLNN_SUCCESS)
        return checked;
    /* CPU devices fill on the host side of the queue (POCL: a memory fill, no kernel): one
     * compile fewer before a model's first step. GPU forms keep clnn_fill, which some drivers
     * run far faster than clEnqueueFillBuffer. */
    if (clnn_cpu_forms(tensor->ctx)) {
        cl_float pattern = value;
        cl_int err = clEnqueueFillBuffer(tensor->ctx->queue, tensor->buffer, &pattern,
                                         sizeof pattern, 0,
                                         tensor->count * sizeof(cl_float), 0, NULL, NULL);
        return err == CL_SUCCESS ? CLNN_SUCCESS
                                 : clnn_cl_error(tensor->ctx, err, "clEnqueueFillBuffer");
    }
    cl_kernel kernel;
    clnn_status status = clnn_get_kernel(tensor->ctx, "core.cl", NULL, "clnn_fill", &kernel);
    if (status != CLNN_SUCCESS)
        return status;
    cl_uint n = (cl_uint)tensor->count;
    return clnn_run_kernel_1d(tensor->ctx, kernel, "clnn_fill", (tensor->count + 3) / 4,
                              CLNN_ARGS(CLNN_ARG(tensor->buffer), CLNN_ARG(value), CLNN_ARG(n)));
}

clnn_status clnn_tensor_copy(clnn_tensor *dst, const clnn_tensor *src)
{
    if (!dst)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_tensor_copy: dst is NULL");
    clnn_context *ctx = dst->ctx;
    clnn_status status = clnn_check_tensor(ctx, dst, "dst");
    if (status == CLNN_SUCCESS)
        status = clnn_check_tensor(ctx, src, "src");
    if (status != CLNN_SUCCESS)
        return status;
    if (dst->count != src->count)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "clnn_tensor_copy: dst holds %zu elements and src %zu", dst->count,
                          src->count);
    if (dst == src)
        return CLNN_SUCCESS;
    /* CPU devices: clnn_copy16, 16 floats per work-item and one work-item for the remainder. */
    int cpu = clnn_cpu_forms(ctx);
    const char *name = cpu ? "clnn_copy16" : "clnn_copy";
    cl_kernel kernel;
    status = clnn_get_kernel(ctx, "core.cl", NULL, name, &kernel);
    if (status != CLNN_SUCCESS)
        return status;
    cl_uint n = (cl_uint)src->count;
    size_t items = cpu ? src->count / 16 + 1 : (src->count + 3) / 4;
    return clnn_run_kernel_1d(ctx, kernel, name, items,
                              CLNN_ARGS(CLNN_ARG(dst->buffer), CLNN_ARG(src->buffer), CLNN_ARG(n)));
}

clnn_status clnn_tensor_reshape(clnn_tensor *tensor, int ndim, const size_t *dims)
{
    if (!tensor)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_tensor_reshape: tensor is NULL");
    size_t count;
    clnn_status status = clnn_check_shape(tensor->ctx, ndim, dims, &count);
    if (status != CLNN_SUCCESS)
        return status;
    if (count != tensor->count)
        return clnn_error(tensor->ctx, CLNN_ERR_INVALID_SHAPE,
                          "clnn_tensor_reshape: the new shape has %zu elements, the tensor %zu",
                          count, tensor->count);
    tensor->ndim = ndim;
    for (int i = 0; i < CLNN_MAX_DIMS; ++i)
        tensor->dims[i] = i < ndim ? dims[i] : 1;
    return CLNN_SUCCESS;
}

clnn_status clnn_tensor_set_rows(clnn_tensor *t, size_t rows)
{
    size_t row_elements = t->count / t->dims[0];
    if (rows == 0 || rows > t->capacity / row_elements)
        return clnn_error(t->ctx, CLNN_ERR_INVALID_SHAPE,
                          "%zu rows requested of a buffer that holds %zu", rows,
                          t->capacity / row_elements);
    t->dims[0] = rows;
    t->count = rows * row_elements;
    return CLNN_SUCCESS;
}

clnn_status clnn_tensor_get_shape(const clnn_tensor *tensor, int *ndim, size_t *dims)
{
    if (!tensor || !ndim || !dims)
        return clnn_error(tensor ? tensor->ctx : NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_tensor_get_shape: %s is NULL",
                          !tensor ? "tensor" : !ndim ? "ndim" : "dims");
    *ndim = tensor->ndim;
    memcpy(dims, tensor->dims, sizeof tensor->dims);
    return CLNN_SUCCESS;
}

clnn_status clnn_tensor_get_count(const clnn_tensor *tensor, size_t *count)
{
    if (!tensor || !count)
        return clnn_error(tensor ? tensor->ctx : NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_tensor_get_count: %s is NULL", tensor ? "count" : "tensor");
    *count = tensor->count;
    return CLNN_SUCCESS;
}

clnn_status clnn_tensor_get_buffer(const clnn_tensor *tensor, cl_mem *buffer)
{
    if (!tensor || !buffer)
        return clnn_error(tensor ? tensor->ctx : NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_tensor_get_buffer: %s is NULL", tensor ? "buffer" : "tensor");
    *buffer = tensor->buffer;
    return CLNN_SUCCESS;
}

clnn_status clnn_tensor_get_context(const clnn_tensor *tensor, clnn_context **ctx)
{
    if (!tensor || !ctx)
        return clnn_error(tensor ? tensor->ctx : NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_tensor_get_context: %s is NULL", tensor ? "ctx" : "tensor");
    *ctx = tensor->ctx;
    return CLNN_SUCCESS;
}

clnn_status clnn_buffer_zero(clnn_context *ctx, cl_mem buffer, const char *what)
{
    size_t bytes = 0;
    cl_int err = clGetMemObjectInfo(buffer, CL_MEM_SIZE, sizeof bytes, &bytes, NULL);
    cl_uint zero = 0;
    /* clEnqueueFillBuffer: queued, no kernel and no host copy (a blocking write of host zeros
     * added about 0.05 s to the CNN's creation). Oclgrind 21.10's uninitialised-value checker
     * takes filled memory for uninitialised; it is off for the test programs that make networks
     * (tests/CMakeLists.txt). Every buffer here holds whole 4-byte elements. */
    if (err == CL_SUCCESS)
        err = clEnqueueFillBuffer(ctx->queue, buffer, &zero, sizeof zero, 0,
                                  bytes / sizeof zero * sizeof zero, 0, NULL, NULL);
    if (err == CL_SUCCESS)
        return CLNN_SUCCESS;
    char call[96];
    snprintf(call, sizeof call, "clEnqueueFillBuffer(zeroing %s)", what);
    return clnn_cl_error(ctx, err, call);
}
