/*
 * Running the convolution algorithms that src/conv.c chooses, on operands it has checked:
 * im2col and GEMM (one product per chunk of images and group through the internal GEMM, which
 * picks clnn's own kernels on CPU devices and CLBlast elsewhere), the implicit products over a
 * padded grid of the input (CPU devices, stride 1; kernels/conv.cl describes the grid), the 1x1
 * products on the input itself, and the direct kernels (kernels/conv.cl). All on the context's
 * in-order queue.
 *
 * im2col, per chunk of `count` images and group g (Kg = C/G KH KW rows of columns per group,
 * P = OH OW, the chunk's columns J = count P long; col, Y and dY live in the workspace):
 *   forward          Y_g [Og, J]   = W_g [Og, Kg] col_g [Kg, J], then y = f(Y + b) into NCHW
 *                    (no bias, no activation, CPU devices: the products write y's planes)
 *   backward data    dY = the chunk of dy as [O, J]; col_g [Kg, J] = W_g^T dY_g, then col2im
 *                    (a gather) into dx
 *   backward weight  dY as above; dW_g [Og, Kg] += dY_g [Og, J] colT_g [J, Kg], colT the
 *                    columns transposed (rows of C KH KW), so no product transposes an operand
 * Long products (N or K = J) instead of one short one per image: clnn_gemm_nn16 on CPU devices
 * wants N >= 32 and gains with N, and a launch costs tens of microseconds there.
 * 1x1, stride 1, no padding: per image n and group g, on x's (or dx's) planes directly:
 *   y_n,g [Og, P] = W_g x_n,g [Cg, P];  dx_n,g = W_g^T dy_n,g;  dW_g += dy_n,g x_n,g^T.
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

/* A chunk of images: count images from n0. */
typedef struct conv_chunk {
    size_t n0, count;
} conv_chunk;

/* The chunks of a batch, in order: *c starts as {0, 0}; returns 0 after the last. */
static int next_chunk(const conv_geom *g, size_t chunk, conv_chunk *c)
{
    c->n0 += c->count;
    if (c->n0 >= g->N)
        return 0;
    c->count = g->N - c->n0 < chunk ? g->N - c->n0 : chunk;
    return 1;
}

/* im2col (or its transposed form, im2col_t) of a chunk of x into ws from offset 0. */
static clnn_status run_im2col(clnn_context *ctx, cl_kernel kernel, int transposed,
                              const conv_geom *g, const conv_plan *plan, cl_mem x, cl_mem ws,
                              const conv_chunk *c)
{
    cl_uint16 geometry = geometry_arg(g);
    cl_uint n0 = (cl_uint)c->n0, count = (cl_uint)c->count;
    if (transposed)
        return clnn_run_kernel_1d(ctx, kernel, "clnn_conv_im2col_t", c->count * g->OH * g->OW,
                                  CLNN_ARGS(CLNN_ARG(x), CLNN_ARG(ws), CLNN_ARG(geometry),
                                            CLNN_ARG(n0), CLNN_ARG(count)));
    size_t run = plan->im2col_rows, blocks = (g->OH + run - 1) / run;
    cl_uint urun = (cl_uint)run;
    return clnn_run_kernel_1d(ctx, kernel, "clnn_conv_im2col",
                              g->C * g->KH * g->KW * c->count * blocks,
                              CLNN_ARGS(CLNN_ARG(x), CLNN_ARG(ws), CLNN_ARG(geometry),
                                        CLNN_ARG(n0), CLNN_ARG(count), CLNN_ARG(urun)));
}

/* dY [O, count P] at ws + off from the chunk's planes of dy. */
static clnn_status run_gather(clnn_context *ctx, cl_kernel kernel, const conv_geom *g, cl_mem dy,
                              cl_mem ws, size_t off, const conv_chunk *c)
{
    cl_uint uoff = (cl_uint)off, K = (cl_uint)g->O, P = (cl_uint)(g->OH * g->OW);
    cl_uint n0 = (cl_uint)c->n0, count = (cl_uint)c->count;
    return clnn_run_kernel_1d(ctx, kernel, "clnn_conv_gather", c->count * g->O,
                              CLNN_ARGS(CLNN_ARG(dy), CLNN_ARG(ws), CLNN_ARG(uoff), CLNN_ARG(K),
                                        CLNN_ARG(P), CLNN_ARG(n0), CLNN_ARG(count)));
}

/* The work-group size of clnn_conv_grid (one size for every shape: POCL compiles a kernel per
 * local size). */
#define GRID_LOCAL 16

/* The grid (kernels/conv.cl) of `channels` planes height x width of src for chunk c, into ws
 * from offset 0. */
static clnn_status run_grid(clnn_context *ctx, cl_kernel kernel, cl_mem src, size_t channels,
                            size_t height, size_t width, const conv_grid *grid, cl_mem ws,
                            const conv_chunk *c)
{
    size_t rows = c->count * grid->img_rows + grid->guard_rows;
    cl_uint C = (cl_uint)channels, H = (cl_uint)height, W = (cl_uint)width;
    cl_uint ph = (cl_uint)grid->pad_h, pw = (cl_uint)grid->pad_w, n0 = (cl_uint)c->n0;
    cl_uint count = (cl_uint)c->count, urows = (cl_uint)rows;
    /* Work-groups of GRID_LOCAL image planes: a first layer's one channel (129 planes a batch)
     * then still spreads over the cores, where the kernel's group size put it in one group. */
    size_t items = channels * (c->count + 1), local = GRID_LOCAL;
    size_t global = (items + local - 1) / local * local;
    const size_t *local_size = clnn_kernel_group_size(ctx, kernel) >= local ? &local : NULL;
    return clnn_run_kernel(ctx, kernel, "clnn_conv_grid", 1, &global, local_size,
                           CLNN_ARGS(CLNN_ARG(src), CLNN_ARG(ws), CLNN_ARG(C), CLNN_ARG(H),
                                     CLNN_ARG(W), CLNN_ARG(ph), CLNN_ARG(pw), CLNN_ARG(n0),
                                     CLNN_ARG(count), CLNN_ARG(urows)));
}

/* The work-group size of the implicit products (clnn_gemm_nn16's; POCL compiles a kernel per
 * local size, so every shape takes the same one). */
#define IMPLICIT_LOCAL 32

/* A of one implicit product, read from the weight w as a_base, a_m, a_c and a_t describe
 * (kernels/conv.cl, clnn_conv_pack_a), packed into ws at `off`: M rows (rounded up to blocks of
 * eight) of K = Cin KH KW. */
typedef struct implicit_a {
    size_t base, m, c;
    int t;
} implicit_a;

static clnn_status pack_a(clnn_context *ctx, cl_kernel kernel, const conv_geom *g, size_t M,
                          size_t Cin, cl_mem w, const implicit_a *a, cl_mem ws, size_t off)
{
    size_t taps = g->KH * g->KW, K = Cin * taps;
    cl_uint a_base = (cl_uint)a->base, a_m = (cl_uint)a->m, a_c = (cl_uint)a->c;
    cl_int a_t = a->t;
    cl_uint uM = (cl_uint)M, uK = (cl_uint)K, utaps = (cl_uint)taps, uoff = (cl_uint)off;
    return clnn_run_kernel_1d(ctx, kernel, "clnn_conv_pack_a", (M + 7) / 8 * K,
                              CLNN_ARGS(CLNN_ARG(w), CLNN_ARG(a_base), CLNN_ARG(a_m), CLNN_ARG(a_c),
                                        CLNN_ARG(a_t), CLNN_ARG(uM), CLNN_ARG(uK), CLNN_ARG(utaps),
                                        CLNN_ARG(ws), CLNN_ARG(uoff)));
}

/* One implicit product (clnn_conv_implicit): out's planes (M channels of OH x OW an image,
 * out_img floats apart, from out_off) = beta out + A B over the chunk's grid in ws (Cin
 * planes), A packed in ws at a_off (pack_a). */
static clnn_status run_implicit(clnn_context *ctx, cl_kernel kernel, const conv_geom *g, size_t M,
                                size_t Cin, size_t a_off, const conv_grid *grid, cl_mem ws,
                                const conv_chunk *c, cl_mem out, size_t out_off, size_t out_img,
                                size_t OH, size_t OW, float beta)
{
    size_t Q = conv_grid_positions(grid, c->count);
    size_t items = (M + 7) / 8 * ((Q + 31) / 32);
    size_t local = IMPLICIT_LOCAL, global = (items + local - 1) / local * local;
    const size_t *local_size = clnn_kernel_group_size(ctx, kernel) >= local ? &local : NULL;
    cl_uint uM = (cl_uint)M, uQ = (cl_uint)Q, uCin = (cl_uint)Cin, KH = (cl_uint)g->KH;
    cl_uint KW = (cl_uint)g->KW, dh = (cl_uint)g->dh, dw = (cl_uint)g->dw;
    cl_uint ua_off = (cl_uint)a_off;
    cl_uint plane = (cl_uint)conv_grid_plane(grid, c->count), Wp = (cl_uint)grid->Wp;
    cl_uint img_rows = (cl_uint)grid->img_rows, uout_off = (cl_uint)out_off;
    cl_uint uout_img = (cl_uint)out_img, uOH = (cl_uint)OH, uOW = (cl_uint)OW;
    cl_float b = beta;
    return clnn_run_kernel(ctx, kernel, "clnn_conv_implicit", 1, &global, local_size,
                           CLNN_ARGS(CLNN_ARG(uM), CLNN_ARG(uQ), CLNN_ARG(uCin), CLNN_ARG(KH),
                                     CLNN_ARG(KW), CLNN_ARG(dh), CLNN_ARG(dw), CLNN_ARG(ws),
                                     CLNN_ARG(ua_off), CLNN_ARG(ws), CLNN_ARG(plane), CLNN_ARG(Wp),
                                     CLNN_ARG(img_rows), CLNN_ARG(out), CLNN_ARG(uout_off),
                                     CLNN_ARG(uout_img), CLNN_ARG(uOH), CLNN_ARG(uOW),
                                     CLNN_ARG(b)));
}

/* ---- forward --------------------------------------------------------------------------------- */

/* y = f(y + b) over all of y (the 1x1 algorithm's epilogue), unless there is nothing to apply. */
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

static clnn_status forward_direct(clnn_context *ctx, cl_kernel kernel, const conv_geom *g,
                                  const clnn_tensor *x, const clnn_tensor *w, const clnn_tensor *b,
                                  const conv_act *act, clnn_tensor *y)
{
    cl_uint16 geometry = geometry_arg(g);
    cl_int has_b = b != NULL;
    cl_mem bias = b ? b->buffer : y->buffer; /* not read without a bias */
    cl_uint N = (cl_uint)g->N;
    return clnn_run_kernel_1d(ctx, kernel, "clnn_conv_direct_forward", g->N * g->O * g->OH * g->OW,
                              CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(w->buffer), CLNN_ARG(bias),
                                        CLNN_ARG(has_b), CLNN_ARG(y->buffer), CLNN_ARG(geometry),
                                        CLNN_ARG(N), CLNN_ARG(act->p)));
}

static clnn_status forward_1x1(clnn_context *ctx, cl_kernel kernel, const conv_geom *g,
                               const clnn_tensor *x, const clnn_tensor *w, const clnn_tensor *b,
                               const conv_act *act, clnn_tensor *y)
{
    size_t P = g->OH * g->OW;
    clnn_status status = CLNN_SUCCESS;
    for (size_t n = 0; n < g->N && status == CLNN_SUCCESS; ++n)
        for (size_t k = 0; k < g->G && status == CLNN_SUCCESS; ++k)
            status = clnn_gemm_offset(ctx, "clnn_conv2d_forward: y = W x (CLBlastSgemm)", 0, 0,
                                      g->Og, P, g->Cg, 1.0f, w->buffer, k * g->Og * g->Cg, g->Cg,
                                      x->buffer, (n * g->C + k * g->Cg) * P, P, 0.0f, y->buffer,
                                      (n * g->O + k * g->Og) * P, P);
    if (status == CLNN_SUCCESS)
        status = epilogue(ctx, kernel, g, b, act, y);
    return status;
}

static clnn_status forward_im2col(clnn_context *ctx, cl_kernel im2col, cl_kernel scatter,
                                  const conv_geom *g, const conv_plan *plan, const clnn_tensor *x,
                                  const clnn_tensor *w, const clnn_tensor *b, const conv_act *act,
                                  clnn_tensor *y, cl_mem ws)
{
    size_t P = g->OH * g->OW, Kg = g->Cg * g->KH * g->KW, off = plan->col_floats;
    cl_int has_b = b != NULL;
    cl_mem bias = b ? b->buffer : y->buffer; /* not read without a bias */
    cl_uint uoff = (cl_uint)off, O = (cl_uint)g->O, uP = (cl_uint)P;
    clnn_status status = CLNN_SUCCESS;
    conv_chunk c = {0, 0};
    while (status == CLNN_SUCCESS && next_chunk(g, plan->chunk, &c)) {
        size_t J = c.count * P;
        status = run_im2col(ctx, im2col, 0, g, plan, x->buffer, ws, &c);
        /* Nothing to add or apply, on a CPU device: the products write y's planes themselves
         * (clnn_gemm_images), no Y and no scatter pass. */
        if (!b && act->identity && clnn_gemm_images_ok(ctx, J, P)) {
            for (size_t k = 0; k < g->G && status == CLNN_SUCCESS; ++k)
                status = clnn_gemm_images(ctx, g->Og, J, Kg, 1.0f, w->buffer, k * g->Og * Kg, Kg,
                                          ws, k * Kg * J, J, 0.0f, y->buffer,
                                          (c.n0 * g->O + k * g->Og) * P, P, g->O * P);
            continue;
        }
        for (size_t k = 0; k < g->G && status == CLNN_SUCCESS; ++k)
            status = clnn_gemm_offset(ctx, "clnn_conv2d_forward: Y = W col (CLBlastSgemm)", 0, 0,
                                      g->Og, J, Kg, 1.0f, w->buffer, k * g->Og * Kg, Kg, ws,
                                      k * Kg * J, J, 0.0f, ws, off + k * g->Og * J, J);
        cl_uint n0 = (cl_uint)c.n0, count = (cl_uint)c.count;
        if (status == CLNN_SUCCESS)
            status = clnn_run_kernel_1d(ctx, scatter, "clnn_conv_scatter", c.count * g->O,
                                        CLNN_ARGS(CLNN_ARG(ws), CLNN_ARG(uoff), CLNN_ARG(bias),
                                                  CLNN_ARG(has_b), CLNN_ARG(y->buffer), CLNN_ARG(O),
                                                  CLNN_ARG(uP), CLNN_ARG(n0), CLNN_ARG(count),
                                                  CLNN_ARG(act->p)));
    }
    return status;
}

/* The implicit forward: per chunk, x's grid, then y's planes = W times the shifted grid; the
 * bias and activation after, over all of y (as the 1x1 algorithm). */
static clnn_status forward_implicit(clnn_context *ctx, cl_kernel epilogue_kernel,
                                    const conv_geom *g, const conv_plan *plan,
                                    const clnn_tensor *x, const clnn_tensor *w,
                                    const clnn_tensor *b, const conv_act *act, clnn_tensor *y,
                                    cl_mem ws)
{
    const char *name = plan->implicit_few ? "clnn_conv_few_forward" : "clnn_conv_implicit";
    cl_kernel grid = NULL, product = NULL, pack = NULL;
    clnn_status status = clnn_get_kernel(ctx, "conv.cl", NULL, name, &product);
    if (status == CLNN_SUCCESS && !plan->implicit_few)
        status = clnn_get_kernel(ctx, "conv.cl", NULL, "clnn_conv_grid", &grid);
    if (status == CLNN_SUCCESS && !plan->implicit_few)
        status = clnn_get_kernel(ctx, "conv.cl", NULL, "clnn_conv_pack_a", &pack);
    const conv_grid *xg = &plan->x_grid;
    size_t P = g->OH * g->OW, taps = g->KH * g->KW;
    implicit_a a = {0, g->C * taps, taps, 1};
    if (status == CLNN_SUCCESS && !plan->implicit_few)
        status = pack_a(ctx, pack, g, g->O, g->C, w->buffer, &a, ws, plan->fwd_packed);
    cl_uint16 geometry = geometry_arg(g);
    cl_uint image_rows = (cl_uint)(xg->img_rows + xg->guard_rows);
    conv_chunk c = {0, 0};
    while (status == CLNN_SUCCESS && next_chunk(g, plan->fwd_chunk, &c)) {
        if (!plan->implicit_few) {
            status = run_grid(ctx, grid, x->buffer, g->C, g->H, g->W, xg, ws, &c);
            if (status == CLNN_SUCCESS)
                status = run_implicit(ctx, product, g, g->O, g->C, plan->fwd_packed, xg, ws, &c,
                                      y->buffer, c.n0 * g->O * P, g->O * P, g->OH, g->OW, 0.0f);
            continue;
        }
        /* A work-item per image, laying out its grid itself (local size 1: the images spread
         * over the cores one by one). */
        cl_uint n0 = (cl_uint)c.n0, count = (cl_uint)c.count;
        status = clnn_run_kernel_single(
            ctx, product, name, c.count,
            CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(ws), CLNN_ARG(image_rows), CLNN_ARG(w->buffer),
                      CLNN_ARG(y->buffer), CLNN_ARG(geometry), CLNN_ARG(n0), CLNN_ARG(count)));
    }
    if (status == CLNN_SUCCESS)
        status = epilogue(ctx, epilogue_kernel, g, b, act, y);
    return status;
}

clnn_status clnn_conv_run_forward(clnn_context *ctx, const conv_geom *g, const conv_plan *plan,
                                  const clnn_tensor *x, const clnn_tensor *w, const clnn_tensor *b,
                                  const conv_act *act, clnn_tensor *y, cl_mem ws)
{
    cl_kernel im2col = NULL, kernel = NULL;
    const char *name = plan->algo == CONV_ALGO_DIRECT   ? "clnn_conv_direct_forward"
                       : plan->algo == CONV_ALGO_IM2COL ? "clnn_conv_scatter"
                                                        : "clnn_conv_bias_activation";
    clnn_status status = clnn_get_kernel(ctx, "conv.cl", act->opts, name, &kernel);
    if (status == CLNN_SUCCESS && plan->algo == CONV_ALGO_IM2COL)
        status = clnn_get_kernel(ctx, "conv.cl", NULL, "clnn_conv_im2col", &im2col);
    if (status != CLNN_SUCCESS)
        return status;
    switch (plan->algo) {
    case CONV_ALGO_DIRECT:
        return forward_direct(ctx, kernel, g, x, w, b, act, y);
    case CONV_ALGO_1X1:
        return forward_1x1(ctx, kernel, g, x, w, b, act, y);
    case CONV_ALGO_IMPLICIT:
        return forward_implicit(ctx, kernel, g, plan, x, w, b, act, y, ws);
    default:
        return forward_im2col(ctx, im2col, kernel, g, plan, x, w, b, act, y, ws);
    }
}

/* ---- backward -------------------------------------------------------------------------------- */

clnn_status clnn_conv_run_backward_data(clnn_context *ctx, const conv_geom *g,
                                        const conv_plan *plan, const clnn_tensor *dy,
                                        const clnn_tensor *w, float beta, clnn_tensor *dx,
                                        cl_mem ws)
{
    cl_uint16 geometry = geometry_arg(g);
    cl_float b = beta;
    cl_kernel kernel = NULL, gather = NULL;
    size_t P = g->OH * g->OW, Kg = g->Cg * g->KH * g->KW;
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
    if (plan->algo == CONV_ALGO_IMPLICIT) {
        /* The weight transposed and turned round, packed; then per chunk, dy's grid, and dx's
         * planes = beta dx + that weight times the shifted grid (kernels/conv.cl). */
        cl_kernel grid = NULL, pack = NULL;
        status = clnn_get_kernel(ctx, "conv.cl", NULL, "clnn_conv_grid", &grid);
        if (status == CLNN_SUCCESS)
            status = clnn_get_kernel(ctx, "conv.cl", NULL, "clnn_conv_implicit", &kernel);
        if (status == CLNN_SUCCESS)
            status = clnn_get_kernel(ctx, "conv.cl", NULL, "clnn_conv_pack_a", &pack);
        size_t taps = g->KH * g->KW, HW = g->H * g->W;
        implicit_a a = {taps - 1, taps, g->C * taps, -1};
        if (status == CLNN_SUCCESS)
            status = pack_a(ctx, pack, g, g->C, g->O, w->buffer, &a, ws, plan->data_packed);
        conv_chunk c = {0, 0};
        while (status == CLNN_SUCCESS && next_chunk(g, plan->data_chunk, &c)) {
            status = run_grid(ctx, grid, dy->buffer, g->O, g->OH, g->OW, &plan->dy_grid, ws, &c);
            if (status == CLNN_SUCCESS)
                status =
                    run_implicit(ctx, kernel, g, g->C, g->O, plan->data_packed, &plan->dy_grid, ws,
                                 &c, dx->buffer, c.n0 * g->C * HW, g->C * HW, g->H, g->W, beta);
        }
        return status;
    }
    if (plan->algo == CONV_ALGO_1X1) {
        /* The products write dx's planes with beta. */
        for (size_t n = 0; n < g->N && status == CLNN_SUCCESS; ++n)
            for (size_t k = 0; k < g->G && status == CLNN_SUCCESS; ++k)
                status = clnn_gemm_offset(
                    ctx, "clnn_conv2d_backward_data: dx = W^T dy (CLBlastSgemm)", 1, 0, g->Cg, P,
                    g->Og, 1.0f, w->buffer, k * g->Og * g->Cg, g->Cg, dy->buffer,
                    (n * g->O + k * g->Og) * P, P, beta, dx->buffer, (n * g->C + k * g->Cg) * P, P);
        return status;
    }
    const char *col2im = plan->col2im_planes ? "clnn_conv_col2im_planes" : "clnn_conv_col2im";
    status = clnn_get_kernel(ctx, "conv.cl", NULL, col2im, &kernel);
    if (status == CLNN_SUCCESS)
        status = clnn_get_kernel(ctx, "conv.cl", NULL, "clnn_conv_gather", &gather);
    size_t off = plan->col_floats;
    conv_chunk c = {0, 0};
    while (status == CLNN_SUCCESS && next_chunk(g, plan->chunk, &c)) {
        size_t J = c.count * P;
        status = run_gather(ctx, gather, g, dy->buffer, ws, off, &c);
        /* The products write the columns (beta 0), which col2im adds into dx with beta. */
        for (size_t k = 0; k < g->G && status == CLNN_SUCCESS; ++k)
            status = clnn_gemm_offset(ctx, "clnn_conv2d_backward_data: col = W^T dY (CLBlastSgemm)",
                                      1, 0, Kg, J, g->Og, 1.0f, w->buffer, k * g->Og * Kg, Kg, ws,
                                      off + k * g->Og * J, J, 0.0f, ws, k * Kg * J, J);
        cl_uint n0 = (cl_uint)c.n0, count = (cl_uint)c.count;
        size_t items = plan->col2im_planes ? c.count * g->C : c.count * g->C * g->H;
        if (status == CLNN_SUCCESS)
            status = clnn_run_kernel_1d(ctx, kernel, col2im, items,
                                        CLNN_ARGS(CLNN_ARG(ws), CLNN_ARG(dx->buffer),
                                                  CLNN_ARG(geometry), CLNN_ARG(n0),
                                                  CLNN_ARG(count), CLNN_ARG(b)));
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

/* The weight gradient by clnn_conv_backward_weight_few (plan->weight_few): per chunk, im2col
 * into the workspace, the kernel's partial sums after the columns, then dW = beta dW (first
 * chunk; 1 after) + the sum of the parts. */
static clnn_status backward_weight_few(clnn_context *ctx, const conv_geom *g,
                                       const conv_plan *plan, const clnn_tensor *dy,
                                       const clnn_tensor *x, float beta, clnn_tensor *dw,
                                       cl_mem ws)
{
    static const char name[] = "clnn_conv_backward_weight_few";
    cl_kernel im2col = NULL, kernel = NULL;
    clnn_status status = clnn_get_kernel(ctx, "conv.cl", NULL, "clnn_conv_im2col", &im2col);
    if (status == CLNN_SUCCESS)
        status = clnn_get_kernel(ctx, "conv.cl", NULL, name, &kernel);
    cl_uint16 geometry = geometry_arg(g);
    size_t R = g->Cg * g->KH * g->KW, blocks = g->G * ((g->Og + 3) / 4), off = plan->col_floats;
    size_t cus = ctx->info.compute_units ? ctx->info.compute_units : 1;
    size_t target = CONV_FEW_ITEMS_PER_CU * cus;
    cl_uint uoff = (cl_uint)off;
    conv_chunk c = {0, 0};
    while (status == CLNN_SUCCESS && next_chunk(g, plan->chunk, &c)) {
        size_t parts = (target + blocks - 1) / blocks;
        parts = parts > c.count ? c.count : parts;
        cl_uint n0 = (cl_uint)c.n0, count = (cl_uint)c.count, uparts = (cl_uint)parts;
        status = run_im2col(ctx, im2col, 0, g, plan, x->buffer, ws, &c);
        if (status == CLNN_SUCCESS)
            status = clnn_run_kernel_single(
                ctx, kernel, name, blocks * parts,
                CLNN_ARGS(CLNN_ARG(dy->buffer), CLNN_ARG(ws), CLNN_ARG(ws), CLNN_ARG(uoff),
                          CLNN_ARG(geometry), CLNN_ARG(n0), CLNN_ARG(count), CLNN_ARG(uparts)));
        if (status == CLNN_SUCCESS)
            status = clnn_gemm_sum_slices(ctx, g->O, R, parts, ws, off, 1.0f,
                                          c.n0 == 0 ? beta : 1.0f, dw->buffer, 0, R, 1);
    }
    return status;
}

/* The weight gradient by transposed products (plan->weight_t): per chunk, im2col and dY^T into
 * the workspace, then per group T_g [Kg, Og] (+)= col_g [Kg, J] dYT_g [J, Og] (beta 0 for the
 * first chunk); at the end dW_g = beta dW_g + T_g^T. */
static clnn_status backward_weight_t(clnn_context *ctx, const conv_geom *g, const conv_plan *plan,
                                     const clnn_tensor *dy, const clnn_tensor *x, float beta,
                                     clnn_tensor *dw, cl_mem ws)
{
    static const char name[] = "clnn_conv_gather_t";
    cl_kernel im2col = NULL, gather = NULL;
    clnn_status status = clnn_get_kernel(ctx, "conv.cl", NULL, "clnn_conv_im2col", &im2col);
    if (status == CLNN_SUCCESS)
        status = clnn_get_kernel(ctx, "conv.cl", NULL, name, &gather);
    size_t P = g->OH * g->OW, Kg = g->Cg * g->KH * g->KW, off = plan->col_floats;
    size_t t_off = off + plan->chunk * g->O * P;
    cl_uint uoff = (cl_uint)off, O = (cl_uint)g->O, uP = (cl_uint)P;
    conv_chunk c = {0, 0};
    while (status == CLNN_SUCCESS && next_chunk(g, plan->chunk, &c)) {
        size_t J = c.count * P;
        cl_uint n0 = (cl_uint)c.n0, count = (cl_uint)c.count;
        status = run_im2col(ctx, im2col, 0, g, plan, x->buffer, ws, &c);
        if (status == CLNN_SUCCESS)
            status = clnn_run_kernel_1d(ctx, gather, name, J,
                                        CLNN_ARGS(CLNN_ARG(dy->buffer), CLNN_ARG(ws),
                                                  CLNN_ARG(uoff), CLNN_ARG(O), CLNN_ARG(uP),
                                                  CLNN_ARG(n0), CLNN_ARG(count)));
        for (size_t k = 0; k < g->G && status == CLNN_SUCCESS; ++k)
            status = clnn_gemm_offset(
                ctx, "clnn_conv2d_backward_weight: dweight^T = col dY^T (CLBlastSgemm)", 0, 0, Kg,
                g->Og, J, 1.0f, ws, k * Kg * J, J, ws, off + k * g->Og, g->O,
                c.n0 == 0 ? 0.0f : 1.0f, ws, t_off + k * Kg * g->Og, g->Og);
    }
    for (size_t k = 0; k < g->G && status == CLNN_SUCCESS; ++k)
        status = clnn_gemm_sum_slices(ctx, Kg, g->Og, 1, ws, t_off + k * Kg * g->Og, 1.0f, beta,
                                      dw->buffer, k * g->Og * Kg, 1, Kg);
    return status;
}

/* The weight gradient of few weights per output channel (plan->implicit_few): per chunk,
 * clnn_conv_few_weight's partial sums (each part lays out its images' grid itself, in its region
 * of the workspace), then dW = beta dW (first chunk; 1 after) + the sum of the parts, in order. */
static clnn_status backward_weight_implicit_few(clnn_context *ctx, const conv_geom *g,
                                                const conv_plan *plan, const clnn_tensor *dy,
                                                const clnn_tensor *x, float beta,
                                                clnn_tensor *dw, cl_mem ws)
{
    static const char name[] = "clnn_conv_few_weight";
    cl_kernel kernel = NULL;
    clnn_status status = clnn_get_kernel(ctx, "conv.cl", NULL, name, &kernel);
    cl_uint16 geometry = geometry_arg(g);
    size_t R = g->C * g->KH * g->KW;
    size_t off = plan->weight_parts * g->C * plan->few_part_rows * plan->x_grid.Wp;
    cl_uint uoff = (cl_uint)off, part_rows = (cl_uint)plan->few_part_rows;
    conv_chunk c = {0, 0};
    while (status == CLNN_SUCCESS && next_chunk(g, plan->weight_chunk, &c)) {
        size_t parts = plan->weight_parts < c.count ? plan->weight_parts : c.count;
        cl_uint n0 = (cl_uint)c.n0, count = (cl_uint)c.count, uparts = (cl_uint)parts;
        status = clnn_run_kernel_single(ctx, kernel, name, parts,
                                        CLNN_ARGS(CLNN_ARG(dy->buffer), CLNN_ARG(x->buffer),
                                                  CLNN_ARG(ws), CLNN_ARG(part_rows),
                                                  CLNN_ARG(uoff), CLNN_ARG(geometry),
                                                  CLNN_ARG(n0), CLNN_ARG(count), CLNN_ARG(uparts)));
        if (status == CLNN_SUCCESS)
            status = clnn_gemm_sum_slices(ctx, g->O, R, parts, ws, off, 1.0f,
                                          c.n0 == 0 ? beta : 1.0f, dw->buffer, 0, R, 1);
    }
    return status;
}

/* The implicit weight gradient: per chunk, x's grid and dy^T on the same positions
 * (clnn_conv_grid_t) into the workspace, then per part T_s (+)= the shifted grid rows times dy^T
 * (clnn_conv_implicit_weight, beta 0 for the first chunk); at the end dW = beta dW + (sum of the
 * parts)^T. Few weights per output channel: backward_weight_implicit_few. */
static clnn_status backward_weight_implicit(clnn_context *ctx, const conv_geom *g,
                                            const conv_plan *plan, const clnn_tensor *dy,
                                            const clnn_tensor *x, float beta, clnn_tensor *dw,
                                            cl_mem ws)
{
    if (plan->implicit_few)
        return backward_weight_implicit_few(ctx, g, plan, dy, x, beta, dw, ws);
    static const char name[] = "clnn_conv_implicit_weight";
    cl_kernel grid = NULL, grid_t = NULL, product = NULL;
    clnn_status status = clnn_get_kernel(ctx, "conv.cl", NULL, "clnn_conv_grid", &grid);
    if (status == CLNN_SUCCESS)
        status = clnn_get_kernel(ctx, "conv.cl", NULL, "clnn_conv_grid_t", &grid_t);
    if (status == CLNN_SUCCESS)
        status = clnn_get_kernel(ctx, "conv.cl", NULL, name, &product);
    const conv_grid *xg = &plan->x_grid;
    size_t Kg = g->C * g->KH * g->KW, parts = plan->weight_parts;
    size_t b_off = g->C * conv_grid_plane(xg, plan->weight_chunk);
    size_t t_off = b_off + conv_grid_t_rows(xg, plan->weight_chunk, g->O) * g->O;
    size_t items = (Kg + 7) / 8 * ((g->O + 31) / 32);
    cl_uint M = (cl_uint)Kg, N = (cl_uint)g->O, KH = (cl_uint)g->KH, KW = (cl_uint)g->KW;
    cl_uint dh = (cl_uint)g->dh, dw_ = (cl_uint)g->dw, Wp = (cl_uint)xg->Wp;
    cl_uint OH = (cl_uint)g->OH, OW = (cl_uint)g->OW, img_rows = (cl_uint)xg->img_rows;
    cl_uint ub_off = (cl_uint)b_off, ut_off = (cl_uint)t_off;
    conv_chunk c = {0, 0};
    while (status == CLNN_SUCCESS && next_chunk(g, plan->weight_chunk, &c)) {
        size_t Q = conv_grid_positions(xg, c.count), rows = conv_grid_t_rows(xg, c.count, g->O);
        cl_uint n0 = (cl_uint)c.n0, count = (cl_uint)c.count, urows = (cl_uint)rows;
        cl_uint uQ = (cl_uint)Q, q_part = (cl_uint)((Q + parts - 1) / parts);
        cl_uint plane = (cl_uint)conv_grid_plane(xg, c.count);
        cl_float b = c.n0 == 0 ? 0.0f : 1.0f;
        status = run_grid(ctx, grid, x->buffer, g->C, g->H, g->W, xg, ws, &c);
        if (status == CLNN_SUCCESS)
            status = clnn_run_kernel_1d(ctx, grid_t, "clnn_conv_grid_t", rows,
                                        CLNN_ARGS(CLNN_ARG(dy->buffer), CLNN_ARG(ws),
                                                  CLNN_ARG(ub_off), CLNN_ARG(N), CLNN_ARG(OH),
                                                  CLNN_ARG(OW), CLNN_ARG(Wp), CLNN_ARG(img_rows),
                                                  CLNN_ARG(n0), CLNN_ARG(count), CLNN_ARG(urows)));
        /* A work-item per block (local size 1): few blocks, each a long sum, spread evenly. */
        size_t global[2] = {items, parts}, local[2] = {1, 1};
        if (status == CLNN_SUCCESS)
            status = clnn_run_kernel(
                ctx, product, name, 2, global, local,
                CLNN_ARGS(CLNN_ARG(M), CLNN_ARG(N), CLNN_ARG(uQ), CLNN_ARG(q_part), CLNN_ARG(KH),
                          CLNN_ARG(KW), CLNN_ARG(dh), CLNN_ARG(dw_), CLNN_ARG(ws), CLNN_ARG(plane),
                          CLNN_ARG(Wp), CLNN_ARG(ws), CLNN_ARG(ub_off), CLNN_ARG(b), CLNN_ARG(ws),
                          CLNN_ARG(ut_off)));
    }
    if (status == CLNN_SUCCESS)
        status = clnn_gemm_sum_slices(ctx, Kg, g->O, parts, ws, t_off, 1.0f, beta, dw->buffer, 0,
                                      1, Kg);
    return status;
}

clnn_status clnn_conv_run_backward_weight(clnn_context *ctx, const conv_geom *g,
                                          const conv_plan *plan, const clnn_tensor *dy,
                                          const clnn_tensor *x, float beta, clnn_tensor *dw,
                                          cl_mem ws)
{
    size_t P = g->OH * g->OW, Kg = g->Cg * g->KH * g->KW;
    cl_kernel kernel = NULL, gather = NULL;
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
    if (plan->algo == CONV_ALGO_1X1) {
        /* beta for the first image's product, then accumulate. */
        for (size_t n = 0; n < g->N && status == CLNN_SUCCESS; ++n)
            for (size_t k = 0; k < g->G && status == CLNN_SUCCESS; ++k)
                status = clnn_gemm_offset(
                    ctx, "clnn_conv2d_backward_weight: dweight = dy x^T (CLBlastSgemm)", 0, 1,
                    g->Og, g->Cg, P, 1.0f, dy->buffer, (n * g->O + k * g->Og) * P, P, x->buffer,
                    (n * g->C + k * g->Cg) * P, P, n == 0 ? beta : 1.0f, dw->buffer,
                    k * g->Og * g->Cg, g->Cg);
        return status;
    }
    if (plan->algo == CONV_ALGO_IMPLICIT)
        return backward_weight_implicit(ctx, g, plan, dy, x, beta, dw, ws);
    if (plan->weight_few)
        return backward_weight_few(ctx, g, plan, dy, x, beta, dw, ws);
    if (plan->weight_t)
        return backward_weight_t(ctx, g, plan, dy, x, beta, dw, ws);
    status = clnn_get_kernel(ctx, "conv.cl", NULL, "clnn_conv_im2col_t", &kernel);
    if (status == CLNN_SUCCESS)
        status = clnn_get_kernel(ctx, "conv.cl", NULL, "clnn_conv_gather", &gather);
    size_t off = plan->col_floats, rows = g->C * g->KH * g->KW;
    conv_chunk c = {0, 0};
    while (status == CLNN_SUCCESS && next_chunk(g, plan->chunk, &c)) {
        size_t J = c.count * P;
        status = run_im2col(ctx, kernel, 1, g, plan, x->buffer, ws, &c);
        if (status == CLNN_SUCCESS)
            status = run_gather(ctx, gather, g, dy->buffer, ws, off, &c);
        /* beta for the first chunk's product, then accumulate. */
        for (size_t k = 0; k < g->G && status == CLNN_SUCCESS; ++k)
            status = clnn_gemm_offset(
                ctx, "clnn_conv2d_backward_weight: dweight = dY colT (CLBlastSgemm)", 0, 0, g->Og,
                Kg, J, 1.0f, ws, off + k * g->Og * J, J, ws, k * Kg, rows, c.n0 == 0 ? beta : 1.0f,
                dw->buffer, k * g->Og * Kg, Kg);
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
