/*
 * Running the convolution algorithms that src/conv.c chooses, on operands it has checked:
 * im2col and GEMM (one product per image and group through the internal GEMM, which picks clnn's
 * own kernels on CPU devices and CLBlast elsewhere), the 1x1 products on the input itself, and
 * the direct kernels (kernels/conv.cl). All on the context's in-order queue.
 *
 * The GEMMs, per image n and group g (Kg = C/G KH KW rows of columns per group, P = OH OW):
 *   forward          y_n,g [Og, P]  = W_g [Og, Kg] col_n,g [Kg, P]
 *   backward data    col_n,g [Kg, P] = W_g^T dy_n,g [Og, P], then col2im (a gather) into dx
 *   backward weight  dW_g [Og, Kg]  = sum over n of dy_n,g [Og, P] col_n,g^T
 * where col_n is image n's slice of the chunk's columns (rows of length chunk P), or, for the
 * 1x1 algorithm, image n's planes of x (or dx) themselves (rows of length P).
 */
#include "conv_internal.h"
#include "gemm.h"

/* The geometry as conv.cl's uint16 argument (its conv_unpack reads the lanes in this order). */
static cl_uint16 geometry_arg(const conv_geom *g)
{
    cl_uint16 v;
    const size_t lanes[16] = {g->C,  g->H,  g->W,  g->O,  g->KH, g->KW, g->OH, g->OW,
                              g->sh, g->sw, g->ph, g->pw, g->dh, g->dw, g->Og, 0};
    for (int i = 0; i < 16; ++i)
        v.s[i] = (cl_uint)lanes[i];
    return v;
}

/* A view of the GEMMs' column operand: image n's group-g rows start at
 * off(n, g) = g Kg ld + base + (n - n0) step, rows ld floats apart. */
typedef struct col_view {
    cl_mem buffer;
    size_t ld, step, group_rows;
} col_view;

static size_t col_offset(const col_view *v, size_t n_in_chunk, size_t g)
{
    return g * v->group_rows * v->ld + n_in_chunk * v->step;
}

/* The columns of images n0 .. n0 + count - 1: the workspace filled by im2col, or x's planes. */
static clnn_status chunk_columns(clnn_context *ctx, cl_kernel im2col, const conv_geom *g,
                                 const conv_plan *plan, cl_mem x, cl_mem cols, size_t n0,
                                 size_t count, int fill, col_view *v)
{
    size_t P = g->OH * g->OW;
    if (plan->algo == CONV_ALGO_1X1) {
        /* x[n][c][p]: rows of P, image n at n C P, group g's channels from g Cg. */
        v->buffer = x, v->ld = P, v->step = g->C * P, v->group_rows = g->Cg;
        return CLNN_SUCCESS;
    }
    v->buffer = cols, v->ld = count * P, v->step = P, v->group_rows = g->Cg * g->KH * g->KW;
    if (!fill)
        return CLNN_SUCCESS;
    cl_uint16 geometry = geometry_arg(g);
    cl_uint un0 = (cl_uint)n0, ucount = (cl_uint)count;
    return clnn_run_kernel_1d(ctx, im2col, "clnn_conv_im2col", g->C * g->KH * g->KW * count * P,
                              CLNN_ARGS(CLNN_ARG(x), CLNN_ARG(cols), CLNN_ARG(geometry),
                                        CLNN_ARG(un0), CLNN_ARG(ucount)));
}

/* Image n of a chunk from n0 in the 1x1 view is at n itself (x's planes), else at n - n0. */
static size_t in_view(const conv_plan *plan, size_t n, size_t n0)
{
    return plan->algo == CONV_ALGO_1X1 ? n : n - n0;
}

/* Images per pass: a chunk for im2col, every image for the 1x1 products. */
static size_t pass_images(const conv_geom *g, const conv_plan *plan)
{
    return plan->algo == CONV_ALGO_IM2COL ? plan->chunk : g->N;
}

/* ---- forward --------------------------------------------------------------------------------- */

/* y = f(y + b) over all of y, unless there is nothing to apply. */
static clnn_status epilogue(clnn_context *ctx, cl_kernel kernel, const conv_geom *g,
                            const clnn_tensor *b, const conv_act *act, clnn_tensor *y)
{
    if (!b && act->identity)
        return CLNN_SUCCESS;
    cl_int has_b = b != NULL;
    cl_mem bias = b ? b->buffer : y->buffer; /* not read without a bias */
    cl_uint O = (cl_uint)g->O, P = (cl_uint)(g->OH * g->OW), n = (cl_uint)(g->N * g->O * P);
    return clnn_run_kernel_1d(ctx, kernel, "clnn_conv_bias_activation", n,
                              CLNN_ARGS(CLNN_ARG(y->buffer), CLNN_ARG(bias), CLNN_ARG(has_b),
                                        CLNN_ARG(O), CLNN_ARG(P), CLNN_ARG(n), CLNN_ARG(act->p)));
}

clnn_status clnn_conv_run_forward(clnn_context *ctx, const conv_geom *g, const conv_plan *plan,
                                  const clnn_tensor *x, const clnn_tensor *w, const clnn_tensor *b,
                                  const conv_act *act, clnn_tensor *y, cl_mem cols)
{
    cl_kernel im2col = NULL, kernel = NULL;
    const char *name =
        plan->algo == CONV_ALGO_DIRECT ? "clnn_conv_direct_forward" : "clnn_conv_bias_activation";
    clnn_status status = clnn_get_kernel(ctx, "conv.cl", act->opts, name, &kernel);
    if (status == CLNN_SUCCESS && plan->algo == CONV_ALGO_IM2COL)
        status = clnn_get_kernel(ctx, "conv.cl", NULL, "clnn_conv_im2col", &im2col);
    if (status != CLNN_SUCCESS)
        return status;
    if (plan->algo == CONV_ALGO_DIRECT) {
        cl_uint16 geometry = geometry_arg(g);
        cl_int has_b = b != NULL;
        cl_mem bias = b ? b->buffer : y->buffer; /* not read without a bias */
        cl_uint N = (cl_uint)g->N;
        return clnn_run_kernel_1d(ctx, kernel, name, g->N * g->O * g->OH * g->OW,
                                  CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(w->buffer),
                                            CLNN_ARG(bias), CLNN_ARG(has_b), CLNN_ARG(y->buffer),
                                            CLNN_ARG(geometry), CLNN_ARG(N), CLNN_ARG(act->p)));
    }
    size_t P = g->OH * g->OW, step = pass_images(g, plan);
    for (size_t n0 = 0; n0 < g->N && status == CLNN_SUCCESS; n0 += step) {
        size_t count = g->N - n0 < step ? g->N - n0 : step;
        col_view v;
        status = chunk_columns(ctx, im2col, g, plan, x->buffer, cols, n0, count, 1, &v);
        for (size_t n = n0; n < n0 + count && status == CLNN_SUCCESS; ++n)
            for (size_t k = 0; k < g->G && status == CLNN_SUCCESS; ++k)
                status = clnn_gemm_offset(ctx, "clnn_conv2d_forward: y = W col (CLBlastSgemm)", 0,
                                          0, g->Og, P, v.group_rows, 1.0f, w->buffer,
                                          k * g->Og * v.group_rows, v.group_rows, v.buffer,
                                          col_offset(&v, in_view(plan, n, n0), k), v.ld, 0.0f,
                                          y->buffer, (n * g->O + k * g->Og) * P, P);
    }
    if (status == CLNN_SUCCESS)
        status = epilogue(ctx, kernel, g, b, act, y);
    return status;
}

/* ---- backward -------------------------------------------------------------------------------- */

clnn_status clnn_conv_run_backward_data(clnn_context *ctx, const conv_geom *g,
                                        const conv_plan *plan, const clnn_tensor *dy,
                                        const clnn_tensor *w, float beta, clnn_tensor *dx,
                                        cl_mem cols)
{
    cl_uint16 geometry = geometry_arg(g);
    cl_float b = beta;
    cl_kernel kernel = NULL;
    if (plan->algo == CONV_ALGO_DIRECT) {
        static const char name[] = "clnn_conv_direct_backward_data";
        clnn_status status = clnn_get_kernel(ctx, "conv.cl", NULL, name, &kernel);
        cl_uint N = (cl_uint)g->N;
        if (status == CLNN_SUCCESS)
            status = clnn_run_kernel_1d(ctx, kernel, name, g->N * g->C * g->H * g->W,
                                        CLNN_ARGS(CLNN_ARG(dy->buffer), CLNN_ARG(w->buffer),
                                                  CLNN_ARG(dx->buffer), CLNN_ARG(geometry),
                                                  CLNN_ARG(N), CLNN_ARG(b)));
        return status;
    }
    clnn_status status = CLNN_SUCCESS;
    if (plan->algo == CONV_ALGO_IM2COL)
        status = clnn_get_kernel(ctx, "conv.cl", NULL, "clnn_conv_col2im", &kernel);
    size_t P = g->OH * g->OW, step = pass_images(g, plan);
    /* The 1x1 products write dx's planes with beta; the others write the columns (beta 0),
     * which col2im adds into dx with beta. */
    float gemm_beta = plan->algo == CONV_ALGO_1X1 ? beta : 0.0f;
    for (size_t n0 = 0; n0 < g->N && status == CLNN_SUCCESS; n0 += step) {
        size_t count = g->N - n0 < step ? g->N - n0 : step;
        col_view v;
        status = chunk_columns(ctx, NULL, g, plan, dx->buffer, cols, n0, count, 0, &v);
        for (size_t n = n0; n < n0 + count && status == CLNN_SUCCESS; ++n)
            for (size_t k = 0; k < g->G && status == CLNN_SUCCESS; ++k)
                status = clnn_gemm_offset(
                    ctx, "clnn_conv2d_backward_data: col = W^T dy (CLBlastSgemm)", 1, 0,
                    v.group_rows, P, g->Og, 1.0f, w->buffer, k * g->Og * v.group_rows, v.group_rows,
                    dy->buffer, (n * g->O + k * g->Og) * P, P, gemm_beta, v.buffer,
                    col_offset(&v, in_view(plan, n, n0), k), v.ld);
        if (status == CLNN_SUCCESS && plan->algo == CONV_ALGO_IM2COL) {
            cl_uint un0 = (cl_uint)n0, ucount = (cl_uint)count;
            status = clnn_run_kernel_1d(ctx, kernel, "clnn_conv_col2im", count * g->C * g->H * g->W,
                                        CLNN_ARGS(CLNN_ARG(cols), CLNN_ARG(dx->buffer),
                                                  CLNN_ARG(geometry), CLNN_ARG(un0),
                                                  CLNN_ARG(ucount), CLNN_ARG(b)));
        }
    }
    return status;
}

/* Launches a conv.cl reduction kernel: one work-group per output element, `terms` terms each. */
static clnn_status run_reduction(clnn_context *ctx, cl_kernel kernel, const char *name,
                                 size_t outputs, size_t terms, size_t arg_count,
                                 const clnn_kernel_arg *args)
{
    size_t local = clnn_reduction_group_size(ctx, kernel, terms);
    size_t global = outputs * local;
    clnn_kernel_arg all[8];
    for (size_t i = 0; i < arg_count; ++i)
        all[i] = args[i];
    all[arg_count] = CLNN_LOCAL_ARG(local * sizeof(cl_float));
    return clnn_run_kernel(ctx, kernel, name, 1, &global, &local, arg_count + 1, all);
}

clnn_status clnn_conv_run_backward_weight(clnn_context *ctx, const conv_geom *g,
                                          const conv_plan *plan, const clnn_tensor *dy,
                                          const clnn_tensor *x, float beta, clnn_tensor *dw,
                                          cl_mem cols)
{
    size_t P = g->OH * g->OW;
    cl_kernel kernel = NULL;
    if (plan->algo == CONV_ALGO_DIRECT) {
        static const char name[] = "clnn_conv_direct_backward_weight";
        clnn_status status = clnn_get_kernel(ctx, "conv.cl", NULL, name, &kernel);
        cl_uint16 geometry = geometry_arg(g);
        cl_uint N = (cl_uint)g->N;
        cl_float b = beta;
        if (status == CLNN_SUCCESS)
            status = run_reduction(ctx, kernel, name, g->O * g->KH * g->KW, g->N * P,
                                   CLNN_ARGS(CLNN_ARG(dy->buffer), CLNN_ARG(x->buffer),
                                             CLNN_ARG(dw->buffer), CLNN_ARG(geometry), CLNN_ARG(N),
                                             CLNN_ARG(b)));
        return status;
    }
    clnn_status status = CLNN_SUCCESS;
    if (plan->algo == CONV_ALGO_IM2COL)
        status = clnn_get_kernel(ctx, "conv.cl", NULL, "clnn_conv_im2col", &kernel);
    size_t step = pass_images(g, plan);
    for (size_t n0 = 0; n0 < g->N && status == CLNN_SUCCESS; n0 += step) {
        size_t count = g->N - n0 < step ? g->N - n0 : step;
        col_view v;
        status = chunk_columns(ctx, kernel, g, plan, x->buffer, cols, n0, count, 1, &v);
        /* beta for the first image's product, then accumulate. */
        for (size_t n = n0; n < n0 + count && status == CLNN_SUCCESS; ++n)
            for (size_t k = 0; k < g->G && status == CLNN_SUCCESS; ++k)
                status = clnn_gemm_offset(
                    ctx, "clnn_conv2d_backward_weight: dweight = dy col^T (CLBlastSgemm)", 0, 1,
                    g->Og, v.group_rows, P, 1.0f, dy->buffer, (n * g->O + k * g->Og) * P, P,
                    v.buffer, col_offset(&v, in_view(plan, n, n0), k), v.ld, n == 0 ? beta : 1.0f,
                    dw->buffer, k * g->Og * v.group_rows, v.group_rows);
    }
    return status;
}

clnn_status clnn_conv_run_backward_bias(clnn_context *ctx, const clnn_tensor *dy, float beta,
                                        clnn_tensor *db)
{
    static const char name[] = "clnn_conv_backward_bias";
    cl_kernel kernel;
    clnn_status status = clnn_get_kernel(ctx, "conv.cl", NULL, name, &kernel);
    cl_uint O = (cl_uint)dy->dims[1], P = (cl_uint)(dy->dims[2] * dy->dims[3]);
    cl_uint N = (cl_uint)dy->dims[0];
    cl_float b = beta;
    if (status == CLNN_SUCCESS)
        status = run_reduction(ctx, kernel, name, O, (size_t)N * P,
                               CLNN_ARGS(CLNN_ARG(dy->buffer), CLNN_ARG(db->buffer), CLNN_ARG(O),
                                         CLNN_ARG(P), CLNN_ARG(N), CLNN_ARG(b)));
    return status;
}
