/*
 * Philox4x32-10 as a public function, on the host and on a device (the raw 32-bit words, for
 * known-answer tests and for checking that a device agrees with the host).
 */
#include "internal.h"
#include "philox.h"

#include <string.h>

clnn_status clnn_philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4])
{
    if (!counter || !key || !out)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_philox4x32_10: %s is NULL",
                          !counter ? "counter" : !key ? "key" : "out");
    clnn_u32 c[4] = {counter[0], counter[1], counter[2], counter[3]};
    clnn_philox4x32_10_block(c, key[0], key[1]);
    memcpy(out, c, sizeof c);
    return CLNN_SUCCESS;
}

clnn_status clnn_philox4x32_10_device(clnn_context *ctx, const uint32_t key[2],
                                      const uint32_t *counters, size_t blocks, uint32_t *out)
{
    clnn_status status = clnn_check_context(ctx, "clnn_philox4x32_10_device");
    if (status != CLNN_SUCCESS)
        return status;
    if ((status = clnn_check_pointer(ctx, key, "key")) != CLNN_SUCCESS ||
        (status = clnn_check_pointer(ctx, counters, "counters")) != CLNN_SUCCESS ||
        (status = clnn_check_pointer(ctx, out, "out")) != CLNN_SUCCESS)
        return status;
    if (blocks == 0 || blocks > CLNN_MAX_ELEMENTS / 4)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_philox4x32_10_device: blocks = %zu, must be 1 .. %zu", blocks,
                          (size_t)(CLNN_MAX_ELEMENTS / 4));
    cl_kernel kernel;
    if ((status = clnn_get_kernel(ctx, "init.cl", NULL, "clnn_philox_raw", &kernel)) !=
        CLNN_SUCCESS)
        return status;

    const size_t bytes = blocks * 4 * sizeof(uint32_t);
    cl_int err;
    cl_mem in_buf = clCreateBuffer(ctx->cl_ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, bytes,
                                   (void *)counters, &err);
    if (err != CL_SUCCESS)
        return clnn_cl_error(ctx, err, "clCreateBuffer(counters)");
    cl_mem out_buf = clCreateBuffer(ctx->cl_ctx, CL_MEM_WRITE_ONLY, bytes, NULL, &err);
    if (err != CL_SUCCESS) {
        status = clnn_cl_error(ctx, err, "clCreateBuffer(out)");
        goto cleanup;
    }
    cl_uint n = (cl_uint)blocks, k0 = key[0], k1 = key[1];
    status = clnn_run_kernel_1d(ctx, kernel, "clnn_philox_raw", blocks,
                                CLNN_ARGS(CLNN_ARG(out_buf), CLNN_ARG(in_buf), CLNN_ARG(n),
                                          CLNN_ARG(k0), CLNN_ARG(k1)));
    if (status == CLNN_SUCCESS) {
        err = clEnqueueReadBuffer(ctx->queue, out_buf, CL_TRUE, 0, bytes, out, 0, NULL, NULL);
        if (err != CL_SUCCESS)
            status = clnn_cl_error(ctx, err, "clEnqueueReadBuffer(philox out)");
    }
cleanup:
    if (out_buf)
        clReleaseMemObject(out_buf);
    clReleaseMemObject(in_buf);
    return status;
}
