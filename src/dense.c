/*
 * Dense (fully connected) layers, PyTorch's Linear: y = x W^T + b with W [out, in]. The products
 * are SGEMMs on the context's queue (src/gemm.c: clnn's own kernels for skinny products and, on
 * CPU devices, for every product; CLBlast for the others); the bias is added over y by the
 * activation family's bias + identity kernel, and the bias gradient is a column-sum kernel.
 */
#include "gemm.h"

#include <string.h>

/* t is a tensor of ctx with rank 2. */
static clnn_status check_matrix(clnn_context *ctx, const char *function, const clnn_tensor *t,
                                const char *name)
{
    clnn_status status = clnn_check_tensor(ctx, t, name);
    if (status != CLNN_SUCCESS)
        return status;
    if (t->ndim != 2) {
        char shape[64];
        clnn_format_shape(shape, sizeof shape, t->ndim, t->dims);
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE, "%s: %s must be 2-D, it is %s", function,
                          name, shape);
    }
    return CLNN_SUCCESS;
}

/* rows x cols of t equal the expected ones. */
static clnn_status check_dims(clnn_context *ctx, const char *function, const clnn_tensor *t,
                              const char *name, size_t rows, size_t cols, const char *why)
{
    if (t->dims[0] == rows && t->dims[1] == cols)
        return CLNN_SUCCESS;
    return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE, "%s: %s is %zux%zu, expected %zux%zu (%s)",
                      function, name, t->dims[0], t->dims[1], rows, cols, why);
}

static clnn_status check_bias(clnn_context *ctx, const char *function, const clnn_tensor *b,
                              const char *name, size_t out)
{
    clnn_status status = clnn_check_tensor(ctx, b, name);
    if (status != CLNN_SUCCESS)
        return status;
    if (b->ndim != 1 || b->count != out) {
        char shape[64];
        clnn_format_shape(shape, sizeof shape, b->ndim, b->dims);
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE, "%s: %s is %s, expected %zu (out_features)",
                          function, name, shape, out);
    }
    return CLNN_SUCCESS;
}

/* An output must not share its buffer with an input the same call reads. */
static clnn_status check_distinct(clnn_context *ctx, const char *function, const clnn_tensor *out,
                                  const char *out_name, const clnn_tensor *in,
                                  const char *in_name)
{
    if (in && out->buffer == in->buffer)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: %s and %s share one buffer",
                          function, out_name, in_name);
    return CLNN_SUCCESS;
}

static clnn_status check_beta(clnn_context *ctx, const char *function, float beta)
{
    if (beta != beta || beta - beta != 0.0f)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: beta is not finite (%g)", function,
                          (double)beta);
    return CLNN_SUCCESS;
}

/* ---- forward ----------------------------------------------------------------------------------- */

static clnn_status check_forward(clnn_context *ctx, const clnn_tensor *x, const clnn_tensor *w,
                                 const clnn_tensor *b, const clnn_tensor *y)
{
    static const char fn[] = "clnn_dense_forward";
    clnn_status status = clnn_check_context(ctx, fn);
    if (status == CLNN_SUCCESS)
        status = check_matrix(ctx, fn, x, "x");
    if (status == CLNN_SUCCESS)
        status = check_matrix(ctx, fn, w, "weight");
    if (status == CLNN_SUCCESS)
        status = check_matrix(ctx, fn, y, "y");
    if (status != CLNN_SUCCESS)
        return status;
    if (x->dims[1] != w->dims[1])
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "%s: x is %zux%zu and weight is %zux%zu: in_features differ (%zu vs %zu)",
                          fn, x->dims[0], x->dims[1], w->dims[0], w->dims[1], x->dims[1],
                          w->dims[1]);
    status = check_dims(ctx, fn, y, "y", x->dims[0], w->dims[0], "batch x out_features");
    if (status == CLNN_SUCCESS && b)
        status = check_bias(ctx, fn, b, "bias", w->dims[0]);
    if (status == CLNN_SUCCESS)
        status = check_distinct(ctx, fn, y, "y", x, "x");
    if (status == CLNN_SUCCESS)
        status = check_distinct(ctx, fn, y, "y", w, "weight");
    if (status == CLNN_SUCCESS)
        status = check_distinct(ctx, fn, y, "y", b, "bias");
    return status;
}

/* The forward epilogue over y: + bias, in place, by the bias + identity kernels of the activation
 * family (16 columns per work-item on CPUs). */
static clnn_status dense_epilogue(clnn_context *ctx, const clnn_tensor *b, clnn_tensor *y)
{
    if (!b)
        return CLNN_SUCCESS;
    clnn_activation_desc identity;
    clnn_status status = clnn_activation_desc_init(&identity, CLNN_ACTIVATION_IDENTITY);
    if (status == CLNN_SUCCESS)
        status = clnn_bias_activation_forward(ctx, &identity, y, b, NULL, y);
    return status;
}

clnn_status clnn_dense_forward(clnn_context *ctx, const clnn_tensor *x, const clnn_tensor *weight,
                               const clnn_tensor *bias, clnn_tensor *y)
{
    clnn_status status = check_forward(ctx, x, weight, bias, y);
    if (status != CLNN_SUCCESS)
        return status;
    size_t batch = x->dims[0], in = x->dims[1], out = weight->dims[0];
    /* y[batch, out] = x[batch, in] * W[out, in]^T */
    status = clnn_gemm(ctx, "clnn_dense_forward: y = x W^T (CLBlastSgemm)", 0, 1, batch, out, in,
                       1.0f, x->buffer, in, weight->buffer, in, 0.0f, y->buffer, out);
    if (status == CLNN_SUCCESS)
        status = dense_epilogue(ctx, bias, y);
    return status;
}

/* ---- backward ---------------------------------------------------------------------------------- */

static clnn_status check_backward_data(clnn_context *ctx, const char *fn, const clnn_tensor *dy,
                                       const clnn_tensor *w, const clnn_tensor *dx)
{
    clnn_status status = check_matrix(ctx, fn, dy, "dy");
    if (status == CLNN_SUCCESS)
        status = check_matrix(ctx, fn, w, "weight");
    if (status == CLNN_SUCCESS)
        status = check_matrix(ctx, fn, dx, "dx");
    if (status != CLNN_SUCCESS)
        return status;
    if (dy->dims[1] != w->dims[0])
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "%s: dy is %zux%zu and weight is %zux%zu: out_features differ (%zu vs "
                          "%zu)", fn, dy->dims[0], dy->dims[1], w->dims[0], w->dims[1],
                          dy->dims[1], w->dims[0]);
    status = check_dims(ctx, fn, dx, "dx", dy->dims[0], w->dims[1], "batch x in_features");
    if (status == CLNN_SUCCESS)
        status = check_distinct(ctx, fn, dx, "dx", dy, "dy");
    if (status == CLNN_SUCCESS)
        status = check_distinct(ctx, fn, dx, "dx", w, "weight");
    return status;
}

static clnn_status check_backward_weight(clnn_context *ctx, const char *fn, const clnn_tensor *dy,
                                         const clnn_tensor *x, const clnn_tensor *dw)
{
    clnn_status status = check_matrix(ctx, fn, dy, "dy");
    if (status == CLNN_SUCCESS)
        status = check_matrix(ctx, fn, x, "x");
    if (status == CLNN_SUCCESS)
        status = check_matrix(ctx, fn, dw, "dweight");
    if (status != CLNN_SUCCESS)
        return status;
    if (dy->dims[0] != x->dims[0])
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "%s: dy is %zux%zu and x is %zux%zu: batch sizes differ (%zu vs %zu)",
                          fn, dy->dims[0], dy->dims[1], x->dims[0], x->dims[1], dy->dims[0],
                          x->dims[0]);
    status = check_dims(ctx, fn, dw, "dweight", dy->dims[1], x->dims[1],
                        "out_features x in_features");
    if (status == CLNN_SUCCESS)
        status = check_distinct(ctx, fn, dw, "dweight", dy, "dy");
    if (status == CLNN_SUCCESS)
        status = check_distinct(ctx, fn, dw, "dweight", x, "x");
    return status;
}

static clnn_status check_backward_bias(clnn_context *ctx, const char *fn, const clnn_tensor *dy,
                                       const clnn_tensor *db)
{
    clnn_status status = check_matrix(ctx, fn, dy, "dy");
    if (status == CLNN_SUCCESS)
        status = check_bias(ctx, fn, db, "dbias", dy->dims[1]);
    if (status == CLNN_SUCCESS)
        status = check_distinct(ctx, fn, db, "dbias", dy, "dy");
    return status;
}

static clnn_status run_backward_data(clnn_context *ctx, const clnn_tensor *dy,
                                     const clnn_tensor *w, float beta, clnn_tensor *dx)
{
    size_t batch = dy->dims[0], out = dy->dims[1], in = w->dims[1];
    /* dx[batch, in] = beta dx + dy[batch, out] * W[out, in] */
    return clnn_gemm(ctx, "clnn_dense_backward_data: dx = dy W (CLBlastSgemm)", 0, 0, batch, in,
                     out, 1.0f, dy->buffer, out, w->buffer, in, beta, dx->buffer, in);
}

static clnn_status run_backward_weight(clnn_context *ctx, const clnn_tensor *dy,
                                       const clnn_tensor *x, float beta, clnn_tensor *dw)
{
    size_t batch = dy->dims[0], out = dy->dims[1], in = x->dims[1];
    /* dW[out, in] = beta dW + dy[batch, out]^T * x[batch, in] */
    return clnn_gemm(ctx, "clnn_dense_backward_weight: dweight = dy^T x (CLBlastSgemm)", 1, 0, out,
                     in, batch, 1.0f, dy->buffer, out, x->buffer, in, beta, dw->buffer, in);
}

static clnn_status run_backward_bias(clnn_context *ctx, const clnn_tensor *dy, float beta,
                                     clnn_tensor *db)
{
    cl_kernel kernel;
    clnn_status status =
        clnn_get_kernel(ctx, "dense.cl", NULL, "clnn_dense_column_sum", &kernel);
    if (status != CLNN_SUCCESS)
        return status;
    cl_uint rows = (cl_uint)dy->dims[0], cols = (cl_uint)dy->dims[1];
    cl_float b = beta;
    return clnn_run_kernel_1d(ctx, kernel, "clnn_dense_column_sum", cols,
                              CLNN_ARGS(CLNN_ARG(db->buffer), CLNN_ARG(dy->buffer),
                                        CLNN_ARG(rows), CLNN_ARG(cols), CLNN_ARG(b)));
}

clnn_status clnn_dense_backward_data(clnn_context *ctx, const clnn_tensor *dy,
                                     const clnn_tensor *weight, float beta, clnn_tensor *dx)
{
    static const char fn[] = "clnn_dense_backward_data";
    clnn_status status = clnn_check_context(ctx, fn);
    if (status == CLNN_SUCCESS)
        status = check_backward_data(ctx, fn, dy, weight, dx);
    if (status == CLNN_SUCCESS)
        status = check_beta(ctx, fn, beta);
    if (status == CLNN_SUCCESS)
        status = run_backward_data(ctx, dy, weight, beta, dx);
    return status;
}

clnn_status clnn_dense_backward_weight(clnn_context *ctx, const clnn_tensor *dy,
                                       const clnn_tensor *x, float beta, clnn_tensor *dweight)
{
    static const char fn[] = "clnn_dense_backward_weight";
    clnn_status status = clnn_check_context(ctx, fn);
    if (status == CLNN_SUCCESS)
        status = check_backward_weight(ctx, fn, dy, x, dweight);
    if (status == CLNN_SUCCESS)
        status = check_beta(ctx, fn, beta);
    if (status == CLNN_SUCCESS)
        status = run_backward_weight(ctx, dy, x, beta, dweight);
    return status;
}

clnn_status clnn_dense_backward_bias(clnn_context *ctx, const clnn_tensor *dy, float beta,
                                     clnn_tensor *dbias)
{
    static const char fn[] = "clnn_dense_backward_bias";
    clnn_status status = clnn_check_context(ctx, fn);
    if (status == CLNN_SUCCESS)
        status = check_backward_bias(ctx, fn, dy, dbias);
    if (status == CLNN_SUCCESS)
        status = check_beta(ctx, fn, beta);
    if (status == CLNN_SUCCESS)
        status = run_backward_bias(ctx, dy, beta, dbias);
    return status;
}

clnn_status clnn_dense_backward(clnn_context *ctx, const clnn_tensor *x, const clnn_tensor *weight,
                                const clnn_tensor *dy, clnn_tensor *dx, clnn_tensor *dweight,
                                clnn_tensor *dbias, float beta)
{
    static const char fn[] = "clnn_dense_backward";
    clnn_status status = clnn_check_context(ctx, fn);
    if (status == CLNN_SUCCESS && !dx && !dweight && !dbias)
        status = clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                            "%s: dx, dweight and dbias are all NULL: nothing to compute", fn);
    if (status == CLNN_SUCCESS && dx)
        status = check_backward_data(ctx, fn, dy, weight, dx);
    if (status == CLNN_SUCCESS && dweight)
        status = check_backward_weight(ctx, fn, dy, x, dweight);
    if (status == CLNN_SUCCESS && dbias)
        status = check_backward_bias(ctx, fn, dy, dbias);
    if (status == CLNN_SUCCESS)
        status = check_beta(ctx, fn, beta);
    /* The outputs must be distinct buffers too. */
    if (status == CLNN_SUCCESS && dx && dweight)
        status = check_distinct(ctx, fn, dx, "dx", dweight, "dweight");
    if (status == CLNN_SUCCESS && dx && dbias)
        status = check_distinct(ctx, fn, dx, "dx", dbias, "dbias");
    if (status == CLNN_SUCCESS && dweight && dbias)
        status = check_distinct(ctx, fn, dweight, "dweight", dbias, "dbias");
    if (status == CLNN_SUCCESS && dx && dweight)
        status = check_distinct(ctx, fn, dx, "dx", x, "x");
    if (status == CLNN_SUCCESS && dweight && dx)
        status = check_distinct(ctx, fn, dweight, "dweight", weight, "weight");
    if (status == CLNN_SUCCESS && dweight)
        status = run_backward_weight(ctx, dy, x, beta, dweight);
    if (status == CLNN_SUCCESS && dbias)
        status = run_backward_bias(ctx, dy, beta, dbias);
    if (status == CLNN_SUCCESS && dx)
        status = run_backward_data(ctx, dy, weight, 0.0f, dx);
    return status;
}
