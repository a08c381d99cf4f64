/*
 * 2-D convolution, PyTorch's F.conv2d on NCHW tensors: the descriptor, the output size, the
 * argument checks of every public function, and the choice of algorithm (conv_plan_make, the one
 * place that decides, from the device profile and the shape). src/conv_run.c runs the algorithms
 * (kernels/conv.cl and the internal GEMM). Every check runs before anything is queued, so a bad
 * argument leaves every tensor as it was.
 */
#include "conv_internal.h"

#include <math.h>
#include <string.h>

/* The workspace of one im2col pass (a chunk's columns and its products' side, Y or dY) is kept
 * near this size: a chunk of images is as many as fit, and at least one. On CPU devices it then
 * stays in the cache between im2col, the products and the pass that moves Y to y (or dy to dY),
 * while the products' N = chunk OH OW stays long; GPUs want more work per launch. */
#define CPU_CHUNK_FLOATS ((size_t)1 << 20) /* 4 MiB */
#define GPU_CHUNK_FLOATS ((size_t)1 << 22) /* 16 MiB */

/* ---- the choice of algorithm ---------------------------------------------------------------- */

/* Work-items per compute unit that the implicit weight gradient aims at: a chunk's grid positions
 * are cut into as many parts as that takes (their sums are added in later, in order), and into
 * parts of at most IMPLICIT_MAX_PART_POSITIONS, so that the rows of dy^T a column block of
 * work-items reads in turn (2048 x 32 floats, 256 KiB) stay in a core's L2 cache between them
 * (paired launches on POCL at 7x7: 0.92 of the pass's time with one part). A part keeps at
 * least IMPLICIT_MIN_PART_POSITIONS positions. */
#define IMPLICIT_WEIGHT_ITEMS_PER_CU 8
#define IMPLICIT_MAX_PART_POSITIONS 2048
#define IMPLICIT_MIN_PART_POSITIONS 512

/* a b in *r when it stays within CLNN_MAX_ELEMENTS (so every index the kernels form is exact). */
static int product_fits(size_t a, size_t b, size_t *r)
{
    if (a != 0 && b > CLNN_MAX_ELEMENTS / a)
        return 0;
    *r = a * b;
    return 1;
}

/* Images per chunk: as many as `budget` floats hold at per_image each, at least one, at most n. */
static size_t chunk_of(size_t budget, size_t per_image, size_t n)
{
    size_t chunk = budget / per_image;
    return chunk < 1 ? 1 : chunk > n ? n : chunk;
}

/* The grid of planes height x width padded by pad_h, pad_w for the taps of g (kernels/conv.cl):
 * guard rows for the taps below the last image ((KH - 1) dh rows) and for a block of 32
 * positions plus the last tap's column offset. 0 when a size would pass CLNN_MAX_ELEMENTS. */
static int grid_make(const conv_geom *g, size_t height, size_t width, size_t pad_h, size_t pad_w,
                     conv_grid *grid)
{
    grid->Wp = width + pad_w;
    grid->img_rows = height + pad_h;
    grid->pad_h = pad_h, grid->pad_w = pad_w;
    grid->guard_rows = (g->KH - 1) * g->dh + (32 + (g->KW - 1) * g->dw + grid->Wp - 1) / grid->Wp;
    size_t positions;
    return grid->Wp <= CLNN_MAX_ELEMENTS && grid->img_rows <= CLNN_MAX_ELEMENTS &&
           grid->guard_rows <= CLNN_MAX_ELEMENTS &&
           product_fits(grid->img_rows + grid->guard_rows, grid->Wp, &positions);
}

/* The implicit algorithm (kernels/conv.cl) for g on CPU devices, when it applies: the profile's
 * blocked kernels (not on rusticl), one group, stride 1 and padding within the dilated kernel's
 * reach (the grid's shared padding). Fills the plan's grids, chunk and workspace:
 *   forward          x's grid, the packed weight             C planes + O8 C KH KW
 *   backward data    dy's grid (padding (K - 1) d - p), ditto O planes + C8 O KH KW
 *   backward weight  x's grid, dy^T on it, the parts' sums   C planes + rows O + parts Kg O
 * (O8, C8: rounded up to a multiple of 8).
 * With few weights per output channel (Kg = C KH KW <= CONV_FEW_ROWS, a first layer) the forward
 * and the weight gradient take kernels of their own over x's grid (products with a K of Kg would
 * store as much as they sum, and the weight gradient would have a block or two of rows); their
 * work-items lay out the grids they read themselves, each in a region of its own (forward: an
 * image's C planes with their guard rows; weight gradient: a part's images, likewise, + parts O
 * Kg for the sums). Each pass's chunk of images is sized, as im2col's, to keep its data near the
 * cache budget. Returns 0 where the algorithm does not apply or a size would not fit (the plan's
 * other fields untouched). */
static int plan_implicit(clnn_context *ctx, const conv_geom *g, size_t budget, conv_plan *plan)
{
    size_t taps = g->KH * g->KW, Kg = g->Cg * taps;
    if (ctx->gemm_clblast_only || !ctx->profile.blocked_kernels || g->G != 1 || g->sh != 1 ||
        g->sw != 1 || g->ph > (g->KH - 1) * g->dh || g->pw > (g->KW - 1) * g->dw)
        return 0;
    int few = Kg <= CONV_FEW_ROWS;
    if (few && g->OW < 16)
        return 0; /* its kernels take rows of at least 16 outputs */
    conv_grid xg, dg;
    if (!grid_make(g, g->H, g->W, g->ph, g->pw, &xg) ||
        !grid_make(g, g->OH, g->OW, (g->KH - 1) * g->dh - g->ph, (g->KW - 1) * g->dw - g->pw, &dg))
        return 0;
    /* Each pass's chunk from its floats per image (the parts' sums are small beside them). */
    size_t fwd_image, weight_image, data_image;
    if (!product_fits(g->C, conv_grid_positions(&xg, 1), &fwd_image) ||
        !product_fits(few ? g->C : g->C + g->O, conv_grid_positions(&xg, 1), &weight_image) ||
        !product_fits(g->O, conv_grid_positions(&dg, 1), &data_image))
        return 0;
    size_t fwd_chunk = chunk_of(budget, fwd_image, g->N);
    size_t weight_chunk = chunk_of(budget, weight_image, g->N);
    size_t data_chunk = chunk_of(budget, data_image, g->N);
    /* The weight gradient's work-items: few, a part of the chunk's images each; else blocks of
     * 8 x 32 of dW^T, each part a range of positions. */
    size_t cus = ctx->info.compute_units ? ctx->info.compute_units : 1, parts, most;
    if (few) {
        parts = CONV_FEW_ITEMS_PER_CU * cus;
        most = weight_chunk;
    } else {
        size_t blocks = (Kg + 7) / 8 * ((g->O + 31) / 32);
        size_t positions = conv_grid_positions(&xg, weight_chunk);
        size_t short_parts =
            (positions + IMPLICIT_MAX_PART_POSITIONS - 1) / IMPLICIT_MAX_PART_POSITIONS;
        parts = (IMPLICIT_WEIGHT_ITEMS_PER_CU * cus + blocks - 1) / blocks;
        parts = parts > short_parts ? parts : short_parts;
        most = positions / IMPLICIT_MIN_PART_POSITIONS;
    }
    parts = parts > most ? most : parts;
    parts = parts < 1 ? 1 : parts;
    /* The grids: the products' of a chunk's images; the few kernels' laid out by each
     * work-item in a region of its own, of C planes whose rows are an image's (forward) or a
     * part's images' (weight gradient: part_rows), then the guard rows. */
    size_t fwd_planes, x_planes, dy_planes, t_floats = 0, sums, part_rows = 0;
    if (few) {
        size_t per = (weight_chunk + parts - 1) / parts, part_plane;
        if (!product_fits(per, xg.img_rows, &part_rows) ||
            (part_rows += xg.guard_rows) > CLNN_MAX_ELEMENTS ||
            !product_fits(part_rows, xg.Wp, &part_plane) ||
            !product_fits(parts * g->C, part_plane, &x_planes) ||
            !product_fits(fwd_chunk * g->C, conv_grid_plane(&xg, 1), &fwd_planes))
            return 0;
    } else if (!product_fits(g->C, conv_grid_plane(&xg, fwd_chunk), &fwd_planes) ||
               !product_fits(g->C, conv_grid_plane(&xg, weight_chunk), &x_planes) ||
               !product_fits(conv_grid_t_rows(&xg, weight_chunk, g->O), g->O, &t_floats))
        return 0;
    if (!product_fits(g->O, conv_grid_plane(&dg, data_chunk), &dy_planes) ||
        !product_fits(parts * Kg, g->O, &sums))
        return 0;
    /* The products' packed weights, rows rounded up to blocks of eight: forward O x C KH KW
     * (not few), data gradient C x O KH KW, each after its pass's grid. */
    size_t fwd_packed = 0, data_packed;
    if ((!few && !product_fits((g->O + 7) / 8 * 8, Kg, &fwd_packed)) ||
        !product_fits((g->C + 7) / 8 * 8, g->O * taps, &data_packed))
        return 0;
    size_t weight = x_planes + t_floats + sums, fwd = fwd_planes + fwd_packed;
    size_t data = dy_planes + data_packed;
    if (weight > CLNN_MAX_ELEMENTS || fwd > CLNN_MAX_ELEMENTS || data > CLNN_MAX_ELEMENTS)
        return 0;
    plan->algo = CONV_ALGO_IMPLICIT;
    plan->x_grid = xg, plan->dy_grid = dg;
    plan->implicit_few = few;
    plan->fwd_chunk = fwd_chunk, plan->weight_chunk = weight_chunk, plan->data_chunk = data_chunk;
    plan->weight_parts = parts;
    plan->few_part_rows = part_rows;
    plan->fwd_packed = fwd_planes, plan->data_packed = dy_planes;
    size_t most_floats = weight > data ? weight : data;
    plan->workspace = most_floats > fwd ? most_floats : fwd;
    return 1;
}

/* Decides how the convolution g runs on ctx's device, and how much workspace that takes:
 *  - several groups of one input channel each (depthwise, with or without a channel
 *    multiplier): direct kernels; per group the products would have K = KH KW and M = O / groups,
 *    too small to pay;
 *  - a 1x1 kernel with stride 1 and no padding: the input planes are already the GEMM's columns,
 *    so one product per image and group, no copy, no workspace;
 *  - on CPU devices, stride 1 with one group and padding within the kernel's reach: the
 *    implicit algorithm (plan_implicit), products over a padded grid of the input, no columns
 *    (few weights per output channel: kernels of their own, for rows of at least 16 outputs);
 *  - everything else, a one-channel input too (its products have K = KH KW but M = O and
 *    N = chunk OH OW, long enough; the direct kernel ran the default CNN's first layer at
 *    0.8 GFLOP/s): im2col and GEMM, a chunk of images at a time (sized by the device profile,
 *    at least one image), one product per chunk and group; on CPU devices, the weight gradient
 *    of few weights per output channel (C/G KH KW <= CONV_FEW_ROWS) by a kernel of its own.
 * A smaller batch never gets a larger chunk, so the workspace for N images serves fewer. */
static clnn_status conv_plan_make(clnn_context *ctx, const char *fn, const conv_geom *g,
                                  conv_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    if (g->Cg == 1 && g->G > 1) {
        plan->algo = CONV_ALGO_DIRECT;
        return CLNN_SUCCESS;
    }
    if (g->KH == 1 && g->KW == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0) {
        plan->algo = CONV_ALGO_1X1;
        return CLNN_SUCCESS;
    }
    size_t budget = clnn_cpu_forms(ctx) ? CPU_CHUNK_FLOATS : GPU_CHUNK_FLOATS;
    if (clnn_cpu_forms(ctx) && plan_implicit(ctx, g, budget, plan))
        return CLNN_SUCCESS;
    plan->algo = CONV_ALGO_IM2COL;
    /* rows, O and P each below 2^31 (checked), so rows + O and the products below fit. */
    size_t rows = g->C * g->KH * g->KW, P = g->OH * g->OW, per_image = rows + g->O;
    if (per_image > CLNN_MAX_ELEMENTS / P)
        return clnn_error(ctx, CLNN_ERR_SIZE_OVERFLOW,
                          "%s: one image's columns and outputs ((%zu + %zu) x %zu = (C KH KW + "
                          "O) x OH OW) exceed %zu elements",
                          fn, rows, g->O, P, CLNN_MAX_ELEMENTS);
    size_t chunk = budget / (per_image * P);
    plan->chunk = chunk < 1 ? 1 : chunk > g->N ? g->N : chunk;
    /* im2col and col2im take a work-item per plane on CPU devices (the index arithmetic once
     * per plane, long contiguous loops: with a work-item per row they took 3-4 times the time of
     * their bytes), a row elsewhere (more work-items, neighbours closer). */
    int cpu = clnn_cpu_forms(ctx);
    plan->im2col_rows = cpu ? g->OH : 1;
    plan->col2im_planes = cpu;
    /* Few weights per output channel (a first layer): the weight gradient reads dy and the
     * columns where they lie (see conv.cl); its partial sums fit where dY would go, as their
     * parts * O * R floats never exceed chunk * O * P when R <= P. */
    size_t few_rows = g->Cg * g->KH * g->KW;
    plan->weight_few = cpu && few_rows <= CONV_FEW_ROWS && few_rows <= P;
    /* The other weight gradients on CPU devices: dW_g^T [C/G KH KW, O/G] = col_g dY_g^T, the
     * columns in the forward's layout and dY moved to [pixels, O] (clnn_conv_gather_t), then
     * added transposed into dW. The transposed columns the plain product dW_g = dY_g colT_g
     * takes cost 1.5 times the forward's im2col (rows of C KH KW floats a pixel, written a few
     * at a time), where dY^T moves O floats a pixel. The sum over the chunks lives after dY. */
    plan->weight_t = cpu && !plan->weight_few;
    plan->wt_floats = plan->weight_t ? g->O * few_rows : 0;
    plan->col_floats = plan->chunk * rows * P;
    plan->workspace = plan->chunk * per_image * P + plan->wt_floats;
    return CLNN_SUCCESS;
}

/* ---- descriptor and output size -------------------------------------------------------------- */

clnn_status clnn_conv2d_desc_init(clnn_conv2d_desc *desc, size_t kernel_h, size_t kernel_w)
{
    if (!desc)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_conv2d_desc_init: desc is NULL");
    if (kernel_h == 0 || kernel_w == 0)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_conv2d_desc_init: the kernel is %zux%zu; sizes must be >= 1",
                          kernel_h, kernel_w);
    memset(desc, 0, sizeof *desc);
    desc->kernel[0] = kernel_h;
    desc->kernel[1] = kernel_w;
    desc->stride[0] = desc->stride[1] = 1;
    desc->dilation[0] = desc->dilation[1] = 1;
    desc->groups = 1;
    return CLNN_SUCCESS;
}

/* desc is not NULL, its counts are >= 1, and no field exceeds CLNN_MAX_ELEMENTS (so that sums and
 * products of two fields below cannot overflow a size_t). */
static clnn_status check_desc(clnn_context *ctx, const char *fn, const clnn_conv2d_desc *d)
{
    if (!d)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: desc is NULL", fn);
    static const char *const axes[2] = {"height", "width"};
    for (int a = 0; a < 2; ++a) {
        if (d->kernel[a] == 0 || d->stride[a] == 0 || d->dilation[a] == 0)
            return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                              "%s: along the %s, kernel %zu, stride %zu, dilation %zu; each must "
                              "be >= 1",
                              fn, axes[a], d->kernel[a], d->stride[a], d->dilation[a]);
        if (d->kernel[a] > CLNN_MAX_ELEMENTS || d->stride[a] > CLNN_MAX_ELEMENTS ||
            d->dilation[a] > CLNN_MAX_ELEMENTS || d->padding[a] > CLNN_MAX_ELEMENTS)
            return clnn_error(ctx, CLNN_ERR_SIZE_OVERFLOW,
                              "%s: along the %s, kernel %zu, stride %zu, padding %zu, dilation "
                              "%zu: each must be at most %zu",
                              fn, axes[a], d->kernel[a], d->stride[a], d->padding[a],
                              d->dilation[a], CLNN_MAX_ELEMENTS);
    }
    if (d->groups == 0)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: groups is 0; it must be >= 1", fn);
    return CLNN_SUCCESS;
}

/* The output size along one axis; desc already checked. */
static clnn_status axis_output(clnn_context *ctx, const char *fn, const clnn_conv2d_desc *d, int a,
                               size_t in, size_t *out)
{
    static const char *const axes[2] = {"height", "width"};
    if (in == 0 || in > CLNN_MAX_ELEMENTS)
        return clnn_error(ctx, in ? CLNN_ERR_SIZE_OVERFLOW : CLNN_ERR_INVALID_SHAPE,
                          "%s: the input %s is %zu; it must be 1 to %zu", fn, axes[a], in,
                          CLNN_MAX_ELEMENTS);
    size_t padded = in + 2 * d->padding[a], extent = d->dilation[a] * (d->kernel[a] - 1) + 1;
    if (padded > CLNN_MAX_ELEMENTS)
        return clnn_error(ctx, CLNN_ERR_SIZE_OVERFLOW,
                          "%s: the padded input %s (%zu + 2 x %zu) exceeds %zu", fn, axes[a], in,
                          d->padding[a], CLNN_MAX_ELEMENTS);
    if (extent > padded)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "%s: along the %s the dilated kernel spans %zu (kernel %zu, dilation "
                          "%zu) but the padded input only %zu (%zu + 2 x %zu): no output",
                          fn, axes[a], extent, d->kernel[a], d->dilation[a], padded, in,
                          d->padding[a]);
    *out = (padded - extent) / d->stride[a] + 1;
    return CLNN_SUCCESS;
}

clnn_status clnn_conv2d_output_size(const clnn_conv2d_desc *desc, size_t in_h, size_t in_w,
                                    size_t *out_h, size_t *out_w)
{
    static const char fn[] = "clnn_conv2d_output_size";
    clnn_status status = check_desc(NULL, fn, desc);
    if (status == CLNN_SUCCESS && (!out_h || !out_w))
        status = clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn,
                            out_h ? "out_w" : "out_h");
    size_t oh = 0, ow = 0;
    if (status == CLNN_SUCCESS)
        status = axis_output(NULL, fn, desc, 0, in_h, &oh);
    if (status == CLNN_SUCCESS)
        status = axis_output(NULL, fn, desc, 1, in_w, &ow);
    if (status == CLNN_SUCCESS)
        *out_h = oh, *out_w = ow;
    return status;
}

/* ---- geometry from shapes -------------------------------------------------------------------- */

/* The geometry of input x_dims (N, C, H, W) and weight w_dims (O, C / groups, KH, KW), both shapes
 * already valid (non-zero, within CLNN_MAX_ELEMENTS); the output must fit a tensor too. */
static clnn_status make_geometry(clnn_context *ctx, const char *fn, const clnn_conv2d_desc *d,
                                 const size_t *x, const size_t *w, conv_geom *g)
{
    memset(g, 0, sizeof *g);
    if (w[2] != d->kernel[0] || w[3] != d->kernel[1])
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "%s: the weight is %zux%zux%zux%zu but the kernel is %zux%zu", fn, w[0],
                          w[1], w[2], w[3], d->kernel[0], d->kernel[1]);
    if (x[1] % d->groups != 0 || w[0] % d->groups != 0)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "%s: %zu input and %zu output channels do not divide into %zu groups", fn,
                          x[1], w[0], d->groups);
    if (w[1] != x[1] / d->groups)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "%s: the weight is %zux%zux%zux%zu; with %zu input channels in %zu "
                          "groups its second size must be %zu",
                          fn, w[0], w[1], w[2], w[3], x[1], d->groups, x[1] / d->groups);
    clnn_status status = axis_output(ctx, fn, d, 0, x[2], &g->OH);
    if (status == CLNN_SUCCESS)
        status = axis_output(ctx, fn, d, 1, x[3], &g->OW);
    if (status != CLNN_SUCCESS)
        return status;
    size_t y_dims[4] = {x[0], w[0], g->OH, g->OW}, count;
    if (g->OH > CLNN_MAX_ELEMENTS / g->OW ||
        clnn_check_shape(ctx, 4, y_dims, &count) != CLNN_SUCCESS)
        return clnn_error(ctx, CLNN_ERR_SIZE_OVERFLOW,
                          "%s: the output, %zux%zux%zux%zu, exceeds %zu elements", fn, x[0], w[0],
                          g->OH, g->OW, CLNN_MAX_ELEMENTS);
    g->N = x[0], g->C = x[1], g->H = x[2], g->W = x[3];
    g->O = w[0], g->KH = w[2], g->KW = w[3];
    g->sh = d->stride[0], g->sw = d->stride[1];
    g->ph = d->padding[0], g->pw = d->padding[1];
    g->dh = d->dilation[0], g->dw = d->dilation[1];
    g->G = d->groups, g->Cg = g->C / g->G, g->Og = g->O / g->G;
    return CLNN_SUCCESS;
}

clnn_status clnn_conv2d_workspace_size(clnn_context *ctx, const clnn_conv2d_desc *desc,
                                       const size_t x_dims[4], const size_t w_dims[4],
                                       size_t *floats)
{
    static const char fn[] = "clnn_conv2d_workspace_size";
    clnn_status status = clnn_check_context(ctx, fn);
    if (status != CLNN_SUCCESS)
        return status;
    if (!x_dims || !w_dims || !floats)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn,
                          !x_dims   ? "x_dims"
                          : !w_dims ? "w_dims"
                                    : "floats");
    size_t count;
    conv_geom g;
    conv_plan plan;
    status = check_desc(ctx, fn, desc);
    if (status == CLNN_SUCCESS)
        status = clnn_check_shape(ctx, 4, x_dims, &count);
    if (status == CLNN_SUCCESS)
        status = clnn_check_shape(ctx, 4, w_dims, &count);
    if (status == CLNN_SUCCESS)
        status = make_geometry(ctx, fn, desc, x_dims, w_dims, &g);
    if (status == CLNN_SUCCESS)
        status = conv_plan_make(ctx, fn, &g, &plan);
    if (status == CLNN_SUCCESS)
        *floats = plan.workspace;
    return status;
}

/* ---- argument checks ------------------------------------------------------------------------- */

/* t is a float tensor of ctx with rank `rank`. */
static clnn_status check_rank(clnn_context *ctx, const char *fn, const clnn_tensor *t,
                              const char *name, int rank, const char *layout)
{
    clnn_status status = clnn_check_tensor(ctx, t, name);
    if (status != CLNN_SUCCESS)
        return status;
    if (t->ndim != rank) {
        char shape[64];
        clnn_format_shape(shape, sizeof shape, t->ndim, t->dims);
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE, "%s: %s is %s; it must be %d-D (%s)", fn,
                          name, shape, rank, layout);
    }
    return CLNN_SUCCESS;
}

/* t (rank 4) is exactly N x K x A x B. */
static clnn_status check_dims4(clnn_context *ctx, const char *fn, const clnn_tensor *t,
                               const char *name, size_t n, size_t k, size_t a, size_t b,
                               const char *why)
{
    if (t->dims[0] == n && t->dims[1] == k && t->dims[2] == a && t->dims[3] == b)
        return CLNN_SUCCESS;
    return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                      "%s: %s is %zux%zux%zux%zu, expected "
                      "%zux%zux%zux%zu (%s)",
                      fn, name, t->dims[0], t->dims[1], t->dims[2], t->dims[3], n, k, a, b, why);
}

/* An output must not share memory with a tensor the same call reads (or another output). */
static clnn_status check_distinct(clnn_context *ctx, const char *fn, const clnn_tensor *out,
                                  const char *out_name, const clnn_tensor *in, const char *in_name)
{
    if (out && in && (out == in || out->buffer == in->buffer))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: %s and %s share one buffer", fn,
                          out_name, in_name);
    return CLNN_SUCCESS;
}

static clnn_status check_beta(clnn_context *ctx, const char *fn, float beta)
{
    if (!isfinite(beta))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: beta is %g; it must be finite", fn,
                          (double)beta);
    return CLNN_SUCCESS;
}

/* The caller's workspace (NULL: the scratch pool) holds at least `floats` floats and shares no
 * buffer with the call's tensors (a NULL-terminated list). */
static clnn_status check_workspace(clnn_context *ctx, const char *fn, const clnn_tensor *ws,
                                   size_t floats, const clnn_tensor *const *operands,
                                   const char *const *names)
{
    if (!ws)
        return CLNN_SUCCESS;
    clnn_status status = clnn_check_tensor(ctx, ws, "workspace");
    if (status != CLNN_SUCCESS)
        return status;
    if (ws->count < floats)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "%s: the workspace holds %zu floats; this call needs %zu "
                          "(clnn_conv2d_workspace_size)",
                          fn, ws->count, floats);
    for (size_t i = 0; operands[i]; ++i) {
        status = check_distinct(ctx, fn, ws, "workspace", operands[i], names[i]);
        if (status != CLNN_SUCCESS)
            return status;
    }
    return CLNN_SUCCESS;
}

/* The buffer the columns go in: the caller's workspace, or the context's scratch slot. */
static clnn_status columns(clnn_context *ctx, const conv_plan *plan, clnn_tensor *ws, cl_mem *cols)
{
    *cols = NULL;
    if (plan->workspace == 0)
        return CLNN_SUCCESS;
    if (ws) {
        *cols = ws->buffer;
        return CLNN_SUCCESS;
    }
    return clnn_scratch_get(ctx, CLNN_SCRATCH_CONV, plan->workspace * sizeof(cl_float),
                            "the convolution's columns and products", cols);
}

/* Geometry and plan from x and weight tensors (both checked to be 4-D float tensors of ctx). */
static clnn_status plan_from(clnn_context *ctx, const char *fn, const clnn_conv2d_desc *desc,
                             const clnn_tensor *x, const clnn_tensor *w, conv_geom *g,
                             conv_plan *plan)
{
    clnn_status status = make_geometry(ctx, fn, desc, x->dims, w->dims, g);
    if (status == CLNN_SUCCESS)
        status = conv_plan_make(ctx, fn, g, plan);
    return status;
}

static clnn_status act_init(clnn_context *ctx, const char *fn, const clnn_activation_desc *desc,
                            conv_act *a)
{
    memset(a, 0, sizeof *a);
    a->identity = 1;
    if (!desc)
        return CLNN_SUCCESS;
    clnn_status status = clnn_activation_check_desc(ctx, desc, fn);
    if (status != CLNN_SUCCESS || desc->kind == CLNN_ACTIVATION_IDENTITY)
        return status;
    clnn_activation_build_options(desc, a->options, sizeof a->options);
    a->opts = a->options;
    a->p = clnn_activation_kernel_params(desc);
    a->identity = 0;
    return CLNN_SUCCESS;
}

/* ---- the public functions -------------------------------------------------------------------- */

clnn_status clnn_conv2d_forward(clnn_context *ctx, const clnn_conv2d_desc *desc,
                                const clnn_tensor *x, const clnn_tensor *weight,
                                const clnn_tensor *bias, const clnn_activation_desc *activation,
                                clnn_tensor *y, clnn_tensor *workspace)
{
    static const char fn[] = "clnn_conv2d_forward";
    clnn_status status = clnn_check_context(ctx, fn);
    conv_geom g;
    conv_plan plan;
    conv_act act;
    if (status == CLNN_SUCCESS)
        status = check_desc(ctx, fn, desc);
    if (status == CLNN_SUCCESS)
        status = check_rank(ctx, fn, x, "x", 4, "N, C, H, W");
    if (status == CLNN_SUCCESS)
        status = check_rank(ctx, fn, weight, "weight", 4, "O, C / groups, KH, KW");
    if (status == CLNN_SUCCESS)
        status = check_rank(ctx, fn, y, "y", 4, "N, O, OH, OW");
    if (status == CLNN_SUCCESS && bias)
        status = check_rank(ctx, fn, bias, "bias", 1, "O");
    if (status == CLNN_SUCCESS)
        status = plan_from(ctx, fn, desc, x, weight, &g, &plan);
    if (status == CLNN_SUCCESS)
        status = check_dims4(ctx, fn, y, "y", g.N, g.O, g.OH, g.OW, "N, O, OH, OW");
    if (status == CLNN_SUCCESS && bias && bias->count != g.O)
        status = clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                            "%s: bias holds %zu values; the weight has %zu output channels", fn,
                            bias->count, g.O);
    if (status == CLNN_SUCCESS)
        status = check_distinct(ctx, fn, y, "y", x, "x");
    if (status == CLNN_SUCCESS)
        status = check_distinct(ctx, fn, y, "y", weight, "weight");
    if (status == CLNN_SUCCESS)
        status = check_distinct(ctx, fn, y, "y", bias, "bias");
    if (status == CLNN_SUCCESS) {
        const clnn_tensor *operands[] = {x, weight, y, bias, NULL};
        const char *names[] = {"x", "weight", "y", "bias"};
        status = check_workspace(ctx, fn, workspace, plan.workspace, operands, names);
    }
    if (status == CLNN_SUCCESS)
        status = act_init(ctx, fn, activation, &act);
    cl_mem cols = NULL;
    if (status == CLNN_SUCCESS)
        status = columns(ctx, &plan, workspace, &cols);
    if (status == CLNN_SUCCESS)
        status = clnn_conv_run_forward(ctx, &g, &plan, x, weight, bias, &act, y, cols);
    return status;
}

clnn_status clnn_conv2d_backward_data(clnn_context *ctx, const clnn_conv2d_desc *desc,
                                      const clnn_tensor *dy, const clnn_tensor *weight, float beta,
                                      clnn_tensor *dx, clnn_tensor *workspace)
{
    static const char fn[] = "clnn_conv2d_backward_data";
    clnn_status status = clnn_check_context(ctx, fn);
    conv_geom g;
    conv_plan plan;
    if (status == CLNN_SUCCESS)
        status = check_desc(ctx, fn, desc);
    if (status == CLNN_SUCCESS)
        status = check_rank(ctx, fn, dy, "dy", 4, "N, O, OH, OW");
    if (status == CLNN_SUCCESS)
        status = check_rank(ctx, fn, weight, "weight", 4, "O, C / groups, KH, KW");
    if (status == CLNN_SUCCESS)
        status = check_rank(ctx, fn, dx, "dx", 4, "N, C, H, W");
    if (status == CLNN_SUCCESS)
        status = plan_from(ctx, fn, desc, dx, weight, &g, &plan);
    if (status == CLNN_SUCCESS)
        status = check_dims4(ctx, fn, dy, "dy", g.N, g.O, g.OH, g.OW,
                             "N and C of dx, O of the weight, the output size of dx's H x W");
    if (status == CLNN_SUCCESS)
        status = check_beta(ctx, fn, beta);
    if (status == CLNN_SUCCESS)
        status = check_distinct(ctx, fn, dx, "dx", dy, "dy");
    if (status == CLNN_SUCCESS)
        status = check_distinct(ctx, fn, dx, "dx", weight, "weight");
    if (status == CLNN_SUCCESS) {
        const clnn_tensor *operands[] = {dy, weight, dx, NULL};
        const char *names[] = {"dy", "weight", "dx"};
        status = check_workspace(ctx, fn, workspace, plan.workspace, operands, names);
    }
    cl_mem cols = NULL;
    if (status == CLNN_SUCCESS)
        status = columns(ctx, &plan, workspace, &cols);
    if (status == CLNN_SUCCESS)
        status = clnn_conv_run_backward_data(ctx, &g, &plan, dy, weight, beta, dx, cols);
    return status;
}

clnn_status clnn_conv2d_backward_weight(clnn_context *ctx, const clnn_conv2d_desc *desc,
                                        const clnn_tensor *dy, const clnn_tensor *x, float beta,
                                        clnn_tensor *dweight, clnn_tensor *workspace)
{
    static const char fn[] = "clnn_conv2d_backward_weight";
    clnn_status status = clnn_check_context(ctx, fn);
    conv_geom g;
    conv_plan plan;
    if (status == CLNN_SUCCESS)
        status = check_desc(ctx, fn, desc);
    if (status == CLNN_SUCCESS)
        status = check_rank(ctx, fn, dy, "dy", 4, "N, O, OH, OW");
    if (status == CLNN_SUCCESS)
        status = check_rank(ctx, fn, x, "x", 4, "N, C, H, W");
    if (status == CLNN_SUCCESS)
        status = check_rank(ctx, fn, dweight, "dweight", 4, "O, C / groups, KH, KW");
    if (status == CLNN_SUCCESS)
        status = plan_from(ctx, fn, desc, x, dweight, &g, &plan);
    if (status == CLNN_SUCCESS)
        status = check_dims4(ctx, fn, dy, "dy", g.N, g.O, g.OH, g.OW,
                             "N of x, O of dweight, the output size of x's H x W");
    if (status == CLNN_SUCCESS)
        status = check_beta(ctx, fn, beta);
    if (status == CLNN_SUCCESS)
        status = check_distinct(ctx, fn, dweight, "dweight", dy, "dy");
    if (status == CLNN_SUCCESS)
        status = check_distinct(ctx, fn, dweight, "dweight", x, "x");
    if (status == CLNN_SUCCESS) {
        const clnn_tensor *operands[] = {dy, x, dweight, NULL};
        const char *names[] = {"dy", "x", "dweight"};
        status = check_workspace(ctx, fn, workspace, plan.workspace, operands, names);
    }
    cl_mem cols = NULL;
    if (status == CLNN_SUCCESS)
        status = columns(ctx, &plan, workspace, &cols);
    if (status == CLNN_SUCCESS)
        status = clnn_conv_run_backward_weight(ctx, &g, &plan, dy, x, beta, dweight, cols);
    return status;
}

clnn_status clnn_conv2d_backward_bias(clnn_context *ctx, const clnn_tensor *dy, float beta,
                                      clnn_tensor *dbias)
{
    static const char fn[] = "clnn_conv2d_backward_bias";
    clnn_status status = clnn_check_context(ctx, fn);
    if (status == CLNN_SUCCESS)
        status = check_rank(ctx, fn, dy, "dy", 4, "N, O, OH, OW");
    if (status == CLNN_SUCCESS)
        status = check_rank(ctx, fn, dbias, "dbias", 1, "O");
    if (status == CLNN_SUCCESS && dbias->count != dy->dims[1])
        status = clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                            "%s: dbias holds %zu values; dy has %zu channels (%zux%zux%zux%zu)", fn,
                            dbias->count, dy->dims[1], dy->dims[0], dy->dims[1], dy->dims[2],
                            dy->dims[3]);
    if (status == CLNN_SUCCESS)
        status = check_beta(ctx, fn, beta);
    if (status == CLNN_SUCCESS)
        status = check_distinct(ctx, fn, dbias, "dbias", dy, "dy");
    if (status == CLNN_SUCCESS)
        status = clnn_conv_run_backward_bias(ctx, dy, beta, dbias);
    return status;
}
