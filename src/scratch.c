/*
 * The context's scratch pool: one grow-only device buffer per named slot (src/internal.h,
 * clnn_scratch_slot), for the intermediate results an op keeps only while it runs (partial sums,
 * per-channel coefficients, a scalar the host reads back). An op takes the slot's buffer and
 * never releases it; the pool creates a buffer only when a request exceeds what the slot holds,
 * so once a training step has run at its largest batch, no later step creates one. The context
 * releases the buffers when it is destroyed.
 */
#include "internal.h"

#include <stdio.h>

clnn_status clnn_scratch_reserve(clnn_context *ctx, clnn_scratch_slot slot, size_t bytes,
                                 const char *what)
{
    if (bytes <= ctx->scratch_bytes[slot])
        return CLNN_SUCCESS;
    cl_int err;
    cl_mem buffer = clCreateBuffer(ctx->cl_ctx, CL_MEM_READ_WRITE, bytes, NULL, &err);
    if (err != CL_SUCCESS) {
        /* The slot keeps its smaller buffer: still valid for the requests it can hold. */
        char call[160];
        snprintf(call, sizeof call, "clCreateBuffer(%s, %zu bytes of scratch)", what, bytes);
        return clnn_cl_error(ctx, err, call);
    }
    /* Commands already queued with the old buffer keep it alive until they finish (the queue is
     * in order, and OpenCL deletes a released buffer only then). */
    if (ctx->scratch[slot])
        clReleaseMemObject(ctx->scratch[slot]);
    ctx->scratch[slot] = buffer;
    ctx->scratch_bytes[slot] = bytes;
    return CLNN_SUCCESS;
}

clnn_status clnn_scratch_get(clnn_context *ctx, clnn_scratch_slot slot, size_t bytes,
                             const char *what, cl_mem *out)
{
    *out = NULL;
    clnn_status status = clnn_scratch_reserve(ctx, slot, bytes ? bytes : 1, what);
    if (status == CLNN_SUCCESS)
        *out = ctx->scratch[slot];
    return status;
}

void clnn_scratch_release(clnn_context *ctx)
{
    for (int slot = 0; slot < CLNN_SCRATCH_SLOT_COUNT; ++slot) {
        if (ctx->scratch[slot])
            clReleaseMemObject(ctx->scratch[slot]);
        ctx->scratch[slot] = NULL;
        ctx->scratch_bytes[slot] = 0;
    }
}
