/*
 * What the two convolution files share: src/conv.c checks the arguments and chooses the
 * algorithm (conv_plan_make, the one place that decides), src/conv_run.c runs it. Hidden from
 * users.
 */
#ifndef CLNN_CONV_INTERNAL_H
#define CLNN_CONV_INTERNAL_H

#include "activation_internal.h"

/* A convolution's sizes: x [N, C, H, W], weight [O, Cg, KH, KW], y [N, O, OH, OW], G groups of
 * Cg = C / G input and Og = O / G output channels. Every product of sizes used as an index stays
 * below CLNN_MAX_ELEMENTS (conv.c checks it), so the kernels' 32-bit indices are exact. */
typedef struct conv_geom {
    size_t N, C, H, W, O, KH, KW, OH, OW;
    size_t sh, sw, ph, pw, dh, dw;
    size_t G, Cg, Og;
} conv_geom;

typedef enum conv_algo {
    CONV_ALGO_IM2COL, /* columns of a chunk of images, then one GEMM per chunk and group */
    CONV_ALGO_1X1,    /* 1x1, stride 1, no padding: the input is its own columns */
    CONV_ALGO_DIRECT, /* one input channel per group (depthwise): direct kernels */
    CONV_ALGO_IMPLICIT, /* stride 1, CPU devices: products over a padded grid (no columns) */
} conv_algo;

/* The implicit algorithm's zero-padded grid of a chunk's input planes (kernels/conv.cl,
 * clnn_conv_grid): rows of Wp = width + pad_w floats, img_rows = height + pad_h rows an image,
 * guard_rows zero rows after the images so that the products' reads stay inside a plane. */
typedef struct conv_grid {
    size_t Wp, img_rows, pad_h, pad_w, guard_rows;
} conv_grid;

/* The im2col workspace holds, for one chunk of images, the columns (chunk OH OW x C KH KW
 * floats, from offset 0) and the products' side in the chunk's layout, Y or dY [O, chunk OH OW]
 * (from offset col_floats). */
/* The most weights per output channel (C/G KH KW) that clnn_conv_backward_weight_few takes; the
 * kernel's CONV_FEW_ROWS (kernels/conv.cl) is the same number. */
#define CONV_FEW_ROWS 32

/* Work-items per compute unit that the weight gradients of few weights per output channel aim
 * at: the images of a chunk are cut into as many parts as that takes (each part's partial sums
 * are added later, in order). */
#define CONV_FEW_ITEMS_PER_CU 16

typedef struct conv_plan {
    conv_algo algo;
    size_t chunk;      /* images per pass (CONV_ALGO_IM2COL), else 0 (implicit: below) */
    size_t im2col_rows; /* im2col's output rows per work-item */
    int col2im_planes;  /* col2im a plane per work-item (clnn_conv_col2im_planes), else a row */
    int weight_few;     /* the weight gradient by clnn_conv_backward_weight_few, else products */
    int weight_t;       /* its products transposed, dW^T = col dY^T (clnn_conv_gather_t) */
    size_t wt_floats;   /* the transposed products' sum, O C/G KH KW floats (weight_t), else 0 */
    size_t col_floats; /* the columns: chunk * C KH KW * OH OW floats, else 0 */
    conv_grid x_grid;  /* CONV_ALGO_IMPLICIT: x's grid (forward, weight gradient) */
    conv_grid dy_grid; /* CONV_ALGO_IMPLICIT: dy's grid (backward data) */
    size_t fwd_chunk, data_chunk, weight_chunk; /* CONV_ALGO_IMPLICIT: images per pass */
    int implicit_few;  /* CONV_ALGO_IMPLICIT, C KH KW <= CONV_FEW_ROWS: forward and weight
                        * gradient by clnn_conv_few_forward and clnn_conv_few_weight */
    size_t weight_parts; /* CONV_ALGO_IMPLICIT: the weight gradient's positions (few: a chunk's
                          * images) in at most this many parts */
    size_t few_part_rows; /* implicit_few: a weight-gradient part's grid rows a channel */
    size_t fwd_packed;   /* CONV_ALGO_IMPLICIT: where the forward's packed weight starts in the
                          * workspace, after the largest chunk's grid (not few: few has none) */
    size_t data_packed;  /* and the data gradient's (clnn_conv_pack_a in kernels/conv.cl) */
    size_t workspace;  /* im2col: col_floats + chunk * O * OH OW + wt_floats floats; implicit:
                        * the largest of its three passes (conv_plan_make); else 0 */
} conv_plan;

/* A chunk of `count` images' grid: its positions (count img_rows Wp) and the floats of one
 * channel's plane. */
static inline size_t conv_grid_positions(const conv_grid *grid, size_t count)
{
    return count * grid->img_rows * grid->Wp;
}

static inline size_t conv_grid_plane(const conv_grid *grid, size_t count)
{
    return (count * grid->img_rows + grid->guard_rows) * grid->Wp;
}

/* The rows of dY^T [positions, O] the weight gradient's product reads: its blocks of 32 columns
 * read up to 31 floats past a row's O (conv.cl, clnn_conv_implicit_weight). */
static inline size_t conv_grid_t_rows(const conv_grid *grid, size_t count, size_t O)
{
    return conv_grid_positions(grid, count) + (31 + O) / O;
}

/* The activation applied by the forward: the build options of conv.cl's activation kernels
 * (NULL for the identity, which is the build without options) and their parameters. */
typedef struct conv_act {
    char options[CLNN_ACTIVATION_OPTIONS_SIZE];
    const char *opts;
    cl_float4 p;
    int identity;
} conv_act;

/* conv_run.c: the algorithm of `plan` on operands already checked; ws is the workspace's buffer
 * (NULL when plan->workspace is 0). Each gets its kernels before it queues anything. */
clnn_status clnn_conv_run_forward(clnn_context *ctx, const conv_geom *g, const conv_plan *plan,
                                  const clnn_tensor *x, const clnn_tensor *w, const clnn_tensor *b,
                                  const conv_act *act, clnn_tensor *y, cl_mem ws);
clnn_status clnn_conv_run_backward_data(clnn_context *ctx, const conv_geom *g,
                                        const conv_plan *plan, const clnn_tensor *dy,
                                        const clnn_tensor *w, float beta, clnn_tensor *dx,
                                        cl_mem ws);
clnn_status clnn_conv_run_backward_weight(clnn_context *ctx, const conv_geom *g,
                                          const conv_plan *plan, const clnn_tensor *dy,
                                          const clnn_tensor *x, float beta, clnn_tensor *dw,
                                          cl_mem ws);
clnn_status clnn_conv_run_backward_bias(clnn_context *ctx, const clnn_tensor *dy, float beta,
                                        clnn_tensor *db);

#endif /* CLNN_CONV_INTERNAL_H */
