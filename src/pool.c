/*
 * 2-D pooling (include/clnn/pool.h, kernels/pool.cl): argument checks and kernel launches for
 * max and average pooling and global average pooling. Every check runs before anything is
 * queued. Here the layout is decided: the general kernels take a run of one row per work-item
 * (one output or column tile on GPU forms, the whole row on CPU forms; the backward passes are
 * gathers over the covering windows), and 2x2 stride-2 max pooling takes its own kernels on CPU
 * forms. Each kernel is launched with its own work-group size whatever the shape, so POCL
 * compiles each kernel once.
 */
#include "internal.h"

#include <stdio.h>

static const char *const kind_names[] = {"max", "average"};
_Static_assert(sizeof(kind_names) / sizeof(kind_names[0]) == CLNN_POOL_KIND_COUNT,
               "kind_names must name every clnn_pool_kind");

/* The largest padded input side: window bounds must fit in the kernels' int arithmetic. */
#define POOL_MAX_PADDED ((size_t)0x7fffffff)

const char *clnn_pool_kind_name(clnn_pool_kind kind)
{
    if ((int)kind < 0 || kind >= CLNN_POOL_KIND_COUNT)
        return "unknown";
    return kind_names[kind];
}

clnn_status clnn_pool2d_desc_init(clnn_pool2d_desc *desc, clnn_pool_kind kind, size_t kernel_h,
                                  size_t kernel_w)
{
    static const char *fn = "clnn_pool2d_desc_init";
    if (!desc)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "%s: desc is NULL", fn);
    if ((int)kind < 0 || kind >= CLNN_POOL_KIND_COUNT)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: kind is %d; it must be a clnn_pool_kind value", fn, (int)kind);
    if (kernel_h == 0 || kernel_w == 0)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: the kernel is %zux%zu; both sizes must be at least 1", fn, kernel_h,
                          kernel_w);
    desc->kind = kind;
    desc->kernel[0] = kernel_h;
    desc->kernel[1] = kernel_w;
    desc->stride[0] = kernel_h;
    desc->stride[1] = kernel_w;
    desc->padding[0] = 0;
    desc->padding[1] = 0;
    desc->count_include_pad = 1;
    return CLNN_SUCCESS;
}

/* ---- geometry -------------------------------------------------------------------------------- */

/* A checked pooling on one input size, as the kernels take it. */
typedef struct pool_geom {
    cl_uint H, W, OH, OW, kh, kw, sh, sw, ph, pw;
    size_t out_h, out_w;
} pool_geom;

static const char *const axis_names[2] = {"height", "width"};

/* The descriptor alone: kind, kernel, stride, padding, count_include_pad. */
static clnn_status check_desc(clnn_context *ctx, const clnn_pool2d_desc *desc, const char *fn)
{
    if (!desc)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: desc is NULL", fn);
    if ((int)desc->kind < 0 || desc->kind >= CLNN_POOL_KIND_COUNT)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: desc->kind is %d; it must be a clnn_pool_kind value", fn,
                          (int)desc->kind);
    if (desc->kernel[0] == 0 || desc->kernel[1] == 0)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: the kernel is %zux%zu; both sizes must be at least 1", fn,
                          desc->kernel[0], desc->kernel[1]);
    if (desc->stride[0] == 0 || desc->stride[1] == 0)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: the stride is %zux%zu; both must be at least 1", fn, desc->stride[0],
                          desc->stride[1]);
    if (desc->kind == CLNN_POOL_AVERAGE && desc->count_include_pad != 0 &&
        desc->count_include_pad != 1)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: desc->count_include_pad is %d; it must be 0 or 1", fn,
                          desc->count_include_pad);
    for (int a = 0; a < 2; ++a)
        if (desc->padding[a] > desc->kernel[a] / 2)
            return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                              "%s: the %s padding is %zu; it must be at most half the kernel "
                              "(%zu / 2 = %zu)",
                              fn, axis_names[a], desc->padding[a], desc->kernel[a],
                              desc->kernel[a] / 2);
    return CLNN_SUCCESS;
}

/* The output size along one axis: floor((in + 2 p - k) / s) + 1, which must be >= 1. */
static clnn_status axis_output(clnn_context *ctx, const char *fn, int a, size_t in, size_t k,
                               size_t s, size_t p, size_t *out)
{
    if (in == 0)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE, "%s: the input %s is 0", fn, axis_names[a]);
    if (in > POOL_MAX_PADDED || p > (POOL_MAX_PADDED - in) / 2)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "%s: the padded input %s %zu + 2 * %zu exceeds %zu", fn, axis_names[a],
                          in, p, POOL_MAX_PADDED);
    size_t padded = in + 2 * p;
    if (k > padded)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "%s: the output %s would be <= 0: the kernel %s %zu exceeds the padded "
                          "input %s %zu + 2 * %zu = %zu",
                          fn, axis_names[a], axis_names[a], k, axis_names[a], in, p, padded);
    *out = (padded - k) / s + 1;
    return CLNN_SUCCESS;
}

/* Checks desc on an in_h x in_w input and fills g. */
static clnn_status resolve(clnn_context *ctx, const clnn_pool2d_desc *desc, size_t in_h,
                           size_t in_w, const char *fn, pool_geom *g)
{
    clnn_status status = check_desc(ctx, desc, fn);
    if (status == CLNN_SUCCESS)
        status = axis_output(ctx, fn, 0, in_h, desc->kernel[0], desc->stride[0], desc->padding[0],
                             &g->out_h);
    if (status == CLNN_SUCCESS)
        status = axis_output(ctx, fn, 1, in_w, desc->kernel[1], desc->stride[1], desc->padding[1],
                             &g->out_w);
    if (status != CLNN_SUCCESS)
        return status;
    /* Everything below fits in 31 bits now; a stride beyond the padded size selects the same
     * windows as the padded size (one output), so the kernels get that. */
    size_t padded_h = in_h + 2 * desc->padding[0], padded_w = in_w + 2 * desc->padding[1];
    g->H = (cl_uint)in_h;
    g->W = (cl_uint)in_w;
    g->OH = (cl_uint)g->out_h;
    g->OW = (cl_uint)g->out_w;
    g->kh = (cl_uint)desc->kernel[0];
    g->kw = (cl_uint)desc->kernel[1];
    g->sh = (cl_uint)(desc->stride[0] < padded_h ? desc->stride[0] : padded_h);
    g->sw = (cl_uint)(desc->stride[1] < padded_w ? desc->stride[1] : padded_w);
    g->ph = (cl_uint)desc->padding[0];
    g->pw = (cl_uint)desc->padding[1];
    return CLNN_SUCCESS;
}

clnn_status clnn_pool2d_output_size(const clnn_pool2d_desc *desc, size_t in_h, size_t in_w,
                                    size_t *out_h, size_t *out_w)
{
    static const char *fn = "clnn_pool2d_output_size";
    if (!out_h || !out_w)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn,
                          !out_h ? "out_h" : "out_w");
    pool_geom g;
    clnn_status status = resolve(NULL, desc, in_h, in_w, fn, &g);
    if (status != CLNN_SUCCESS)
        return status;
    *out_h = g.out_h;
    *out_w = g.out_w;
    return CLNN_SUCCESS;
}

/* ---- tensor checks --------------------------------------------------------------------------- */

/* t is 4-D; names its shape otherwise. */
static clnn_status check_rank4(clnn_context *ctx, const clnn_tensor *t, const char *name,
                               const char *fn)
{
    if (t->ndim == 4)
        return CLNN_SUCCESS;
    char shape[64];
    clnn_format_shape(shape, sizeof shape, t->ndim, t->dims);
    return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE, "%s: %s is %s; [N, C, H, W] (4-D) expected", fn,
                      name, shape);
}

/* t has exactly the shape dims (4-D); `why` says where the expected shape comes from. */
static clnn_status check_dims(clnn_context *ctx, const clnn_tensor *t, const char *name,
                              const size_t dims[4], const char *why, const char *fn)
{
    if (t->ndim == 4 && t->dims[0] == dims[0] && t->dims[1] == dims[1] && t->dims[2] == dims[2] &&
        t->dims[3] == dims[3])
        return CLNN_SUCCESS;
    char got[64], want[64];
    clnn_format_shape(got, sizeof got, t->ndim, t->dims);
    clnn_format_shape(want, sizeof want, 4, dims);
    return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE, "%s: %s is %s; %s expected (%s)", fn, name, got,
                      want, why);
}

/* Where an expected shape comes from, for messages: "3x3 max pooling (stride 2x2, padding 1x1)
 * of x 2x3x8x8". */
static void describe(const clnn_pool2d_desc *desc, const clnn_tensor *in, const char *in_name,
                     char *buf, size_t size)
{
    char shape[64];
    clnn_format_shape(shape, sizeof shape, in->ndim, in->dims);
    snprintf(buf, size, "%zux%zu %s pooling (stride %zux%zu, padding %zux%zu) of %s %s",
             desc->kernel[0], desc->kernel[1], clnn_pool_kind_name(desc->kind), desc->stride[0],
             desc->stride[1], desc->padding[0], desc->padding[1], in_name, shape);
}

/* Two tensors that must not share a buffer. */
static clnn_status check_apart(clnn_context *ctx, const clnn_tensor *out, const char *out_name,
                               const clnn_tensor *in, const char *in_name, const char *fn)
{
    if (out && in && out->buffer == in->buffer)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: %s and %s share one buffer; %s must be a separate tensor", fn,
                          out_name, in_name, out_name);
    return CLNN_SUCCESS;
}

/* ---- max and average pooling ----------------------------------------------------------------- */

/* Whether the 2x2-stride-2 max kernels run this pooling: the CPU forms, max pooling with a 2x2
 * kernel, stride 2 and no padding (their rows are vectorised loops; see pool.cl). */
static int max2_form(const clnn_context *ctx, const clnn_pool2d_desc *desc)
{
    return clnn_cpu_forms(ctx) && desc->kind == CLNN_POOL_MAX && desc->kernel[0] == 2 &&
           desc->kernel[1] == 2 && desc->stride[0] == 2 && desc->stride[1] == 2 &&
           desc->padding[0] == 0 && desc->padding[1] == 0;
}


clnn_status clnn_pool2d_forward(clnn_context *ctx, const clnn_pool2d_desc *desc,
                                const clnn_tensor *x, clnn_tensor *y, clnn_tensor *indices)
{
    static const char *fn = "clnn_pool2d_forward";
    clnn_status status = clnn_check_context(ctx, fn);
    if (status == CLNN_SUCCESS)
        status = check_desc(ctx, desc, fn);
    if (status == CLNN_SUCCESS)
        status = clnn_check_tensor(ctx, x, "x");
    if (status == CLNN_SUCCESS)
        status = clnn_check_tensor(ctx, y, "y");
    if (status == CLNN_SUCCESS && indices) {
        if (desc->kind != CLNN_POOL_MAX)
            return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                              "%s: indices must be NULL for %s pooling (only max pooling has "
                              "them)",
                              fn, clnn_pool_kind_name(desc->kind));
        status = clnn_check_int32_tensor(ctx, indices, "indices");
    }
    if (status == CLNN_SUCCESS)
        status = check_rank4(ctx, x, "x", fn);
    pool_geom g;
    if (status == CLNN_SUCCESS)
        status = resolve(ctx, desc, x->dims[2], x->dims[3], fn, &g);
    if (status != CLNN_SUCCESS)
        return status;
    char why[192];
    describe(desc, x, "x", why, sizeof why);
    size_t out[4] = {x->dims[0], x->dims[1], g.out_h, g.out_w};
    if ((status = check_dims(ctx, y, "y", out, why, fn)) != CLNN_SUCCESS ||
        (indices && (status = check_dims(ctx, indices, "indices", out, why, fn)) != CLNN_SUCCESS) ||
        (status = check_apart(ctx, y, "y", x, "x", fn)) != CLNN_SUCCESS ||
        (status = check_apart(ctx, indices, "indices", x, "x", fn)) != CLNN_SUCCESS ||
        (status = check_apart(ctx, indices, "indices", y, "y", fn)) != CLNN_SUCCESS)
        return status;

    int max = desc->kind == CLNN_POOL_MAX, max2 = max2_form(ctx, desc);
    const char *name = max2 ? "pool_max2_forward" : max ? "pool_max_forward" : "pool_avg_forward";
    cl_kernel k;
    if ((status = clnn_get_kernel(ctx, "pool.cl", NULL, name, &k)) != CLNN_SUCCESS)
        return status;
    if (max2) {
        cl_uint write = indices != NULL, rows = (cl_uint)(y->count / g.out_w);
        cl_mem idx = indices ? indices->buffer : y->buffer; /* not written without write */
        return clnn_run_kernel_1d(ctx, k, name, rows,
                                  CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(y->buffer), CLNN_ARG(idx),
                                            CLNN_ARG(write), CLNN_ARG(rows), CLNN_ARG(g.H),
                                            CLNN_ARG(g.W), CLNN_ARG(g.OH), CLNN_ARG(g.OW)));
    }
    /* A run of outputs of one output row per work-item, see pool.cl: the whole row on CPU
     * forms, one output on GPU forms. */
    size_t run = clnn_cpu_forms(ctx) ? g.out_w : 1;
    size_t runs = (g.out_w + run - 1) / run, items = y->count / g.out_w * runs;
    cl_uint n = (cl_uint)items, nruns = (cl_uint)runs, nrun = (cl_uint)run;
    if (max) {
        cl_uint write = indices != NULL;
        cl_mem idx = indices ? indices->buffer : y->buffer; /* not written without write */
        return clnn_run_kernel_1d(
            ctx, k, name, items,
            CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(y->buffer), CLNN_ARG(idx), CLNN_ARG(write),
                      CLNN_ARG(n), CLNN_ARG(nruns), CLNN_ARG(nrun), CLNN_ARG(g.H), CLNN_ARG(g.W),
                      CLNN_ARG(g.OH), CLNN_ARG(g.OW), CLNN_ARG(g.kh), CLNN_ARG(g.kw),
                      CLNN_ARG(g.sh), CLNN_ARG(g.sw), CLNN_ARG(g.ph), CLNN_ARG(g.pw)));
    }
    cl_uint include_pad = desc->count_include_pad != 0;
    return clnn_run_kernel_1d(
        ctx, k, name, items,
        CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(y->buffer), CLNN_ARG(include_pad), CLNN_ARG(n),
                  CLNN_ARG(nruns), CLNN_ARG(nrun), CLNN_ARG(g.H), CLNN_ARG(g.W), CLNN_ARG(g.OH),
                  CLNN_ARG(g.OW), CLNN_ARG(g.kh), CLNN_ARG(g.kw), CLNN_ARG(g.sh), CLNN_ARG(g.sw),
                  CLNN_ARG(g.ph), CLNN_ARG(g.pw)));
}

clnn_status clnn_pool2d_backward(clnn_context *ctx, const clnn_pool2d_desc *desc,
                                 const clnn_tensor *dy, const clnn_tensor *indices, float beta,
                                 clnn_tensor *dx)
{
    static const char *fn = "clnn_pool2d_backward";
    clnn_status status = clnn_check_context(ctx, fn);
    if (status == CLNN_SUCCESS)
        status = check_desc(ctx, desc, fn);
    if (status == CLNN_SUCCESS)
        status = clnn_check_tensor(ctx, dy, "dy");
    if (status == CLNN_SUCCESS)
        status = clnn_check_tensor(ctx, dx, "dx");
    if (status != CLNN_SUCCESS)
        return status;
    int max = desc->kind == CLNN_POOL_MAX;
    if (max && !indices)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: indices is NULL; max pooling's backward needs the indices its "
                          "forward wrote",
                          fn);
    if (!max && indices)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: indices must be NULL for %s pooling (only max pooling has them)", fn,
                          clnn_pool_kind_name(desc->kind));
    if ((indices && (status = clnn_check_int32_tensor(ctx, indices, "indices")) != CLNN_SUCCESS) ||
        (status = clnn_check_finite(ctx, beta, "beta")) != CLNN_SUCCESS ||
        (status = check_rank4(ctx, dx, "dx", fn)) != CLNN_SUCCESS)
        return status;
    pool_geom g;
    if ((status = resolve(ctx, desc, dx->dims[2], dx->dims[3], fn, &g)) != CLNN_SUCCESS)
        return status;
    char why[192];
    describe(desc, dx, "dx", why, sizeof why);
    size_t out[4] = {dx->dims[0], dx->dims[1], g.out_h, g.out_w};
    if ((status = check_dims(ctx, dy, "dy", out, why, fn)) != CLNN_SUCCESS ||
        (indices && (status = check_dims(ctx, indices, "indices", out, why, fn)) != CLNN_SUCCESS) ||
        (status = check_apart(ctx, dx, "dx", dy, "dy", fn)) != CLNN_SUCCESS ||
        (status = check_apart(ctx, dx, "dx", indices, "indices", fn)) != CLNN_SUCCESS)
        return status;

    int max2 = max2_form(ctx, desc);
    const char *name = max2 ? "pool_max2_backward" : max ? "pool_max_backward" : "pool_avg_backward";
    cl_kernel k;
    if ((status = clnn_get_kernel(ctx, "pool.cl", NULL, name, &k)) != CLNN_SUCCESS)
        return status;
    cl_float b = beta;
    if (max2) {
        cl_uint rows = (cl_uint)(dy->count / g.out_w);
        return clnn_run_kernel_1d(
            ctx, k, name, rows,
            CLNN_ARGS(CLNN_ARG(dy->buffer), CLNN_ARG(indices->buffer), CLNN_ARG(dx->buffer),
                      CLNN_ARG(b), CLNN_ARG(rows), CLNN_ARG(g.H), CLNN_ARG(g.W), CLNN_ARG(g.OH),
                      CLNN_ARG(g.OW)));
    }
    /* A run of column tiles (sw columns each) of one input row per work-item, see pool.cl: the
     * whole row on CPU forms, one tile on GPU forms. */
    size_t tiles = ((size_t)g.W - 1 + g.pw) / g.sw + 1;
    size_t run = clnn_cpu_forms(ctx) ? tiles : 1;
    size_t runs = (tiles + run - 1) / run, items = dx->count / g.W * runs;
    if (items > CL_UINT_MAX || tiles > CL_UINT_MAX)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "%s: dx %zux%zux%zux%zu with padding %zu needs %zu work-items of %zu "
                          "column tiles; at most %u fit",
                          fn, dx->dims[0], dx->dims[1], dx->dims[2], dx->dims[3],
                          desc->padding[1], items, tiles, (unsigned)CL_UINT_MAX);
    cl_uint n = (cl_uint)items, nruns = (cl_uint)runs, nrun = (cl_uint)run, t = (cl_uint)tiles;
    if (max)
        return clnn_run_kernel_1d(
            ctx, k, name, items,
            CLNN_ARGS(CLNN_ARG(dy->buffer), CLNN_ARG(indices->buffer), CLNN_ARG(dx->buffer),
                      CLNN_ARG(b), CLNN_ARG(n), CLNN_ARG(nruns), CLNN_ARG(nrun), CLNN_ARG(t),
                      CLNN_ARG(g.H), CLNN_ARG(g.W), CLNN_ARG(g.OH), CLNN_ARG(g.OW),
                      CLNN_ARG(g.kh), CLNN_ARG(g.kw), CLNN_ARG(g.sh), CLNN_ARG(g.sw),
                      CLNN_ARG(g.ph), CLNN_ARG(g.pw)));
    cl_uint include_pad = desc->count_include_pad != 0;
    return clnn_run_kernel_1d(
        ctx, k, name, items,
        CLNN_ARGS(CLNN_ARG(dy->buffer), CLNN_ARG(dx->buffer), CLNN_ARG(b), CLNN_ARG(include_pad),
                  CLNN_ARG(n), CLNN_ARG(nruns), CLNN_ARG(nrun), CLNN_ARG(t), CLNN_ARG(g.H),
                  CLNN_ARG(g.W), CLNN_ARG(g.OH), CLNN_ARG(g.OW), CLNN_ARG(g.kh), CLNN_ARG(g.kw),
                  CLNN_ARG(g.sh), CLNN_ARG(g.sw), CLNN_ARG(g.ph), CLNN_ARG(g.pw)));
}

/* ---- global average pooling ------------------------------------------------------------------ */

/* y (or dy) holds one value per plane of x (or dx): [N, C] or [N, C, 1, 1]. */
static clnn_status check_pooled(clnn_context *ctx, const clnn_tensor *y, const char *y_name,
                                const clnn_tensor *x, const char *x_name, const char *fn)
{
    int ok = (y->ndim == 2 || (y->ndim == 4 && y->dims[2] == 1 && y->dims[3] == 1)) &&
             y->dims[0] == x->dims[0] && y->dims[1] == x->dims[1];
    if (ok)
        return CLNN_SUCCESS;
    char ys[64], xs[64];
    clnn_format_shape(ys, sizeof ys, y->ndim, y->dims);
    clnn_format_shape(xs, sizeof xs, x->ndim, x->dims);
    return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                      "%s: %s is %s; %zux%zu or %zux%zux1x1 expected (one value per plane of %s "
                      "%s)",
                      fn, y_name, ys, x->dims[0], x->dims[1], x->dims[0], x->dims[1], x_name, xs);
}

/* Planes per compute unit from which the CPU forms give each plane one work-item. */
#define GAP_PLANES_PER_CU 1

clnn_status clnn_global_avg_pool_forward(clnn_context *ctx, const clnn_tensor *x, clnn_tensor *y)
{
    static const char *fn = "clnn_global_avg_pool_forward";
    clnn_status status = clnn_check_context(ctx, fn);
    if (status != CLNN_SUCCESS || (status = clnn_check_tensor(ctx, x, "x")) != CLNN_SUCCESS ||
        (status = clnn_check_tensor(ctx, y, "y")) != CLNN_SUCCESS ||
        (status = check_rank4(ctx, x, "x", fn)) != CLNN_SUCCESS ||
        (status = check_pooled(ctx, y, "y", x, "x", fn)) != CLNN_SUCCESS ||
        (status = check_apart(ctx, y, "y", x, "x", fn)) != CLNN_SUCCESS)
        return status;
    size_t planes = y->count;
    cl_uint HW = (cl_uint)(x->dims[2] * x->dims[3]), planes_u = (cl_uint)planes;
    size_t cus = ctx->info.compute_units ? ctx->info.compute_units : 1;
    cl_kernel k;
    /* CPU forms: a core sums whole planes in order while there are planes for every core; a few
     * large planes are spread over a work-group instead (one local size: the kernel's). */
    if (clnn_cpu_forms(ctx) && planes >= GAP_PLANES_PER_CU * cus) {
        if ((status = clnn_get_kernel(ctx, "pool.cl", NULL, "gap_forward_plane", &k)) !=
            CLNN_SUCCESS)
            return status;
        return clnn_run_kernel_single(
            ctx, k, "gap_forward_plane", planes,
            CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(y->buffer), CLNN_ARG(planes_u), CLNN_ARG(HW)));
    }
    if ((status = clnn_get_kernel(ctx, "pool.cl", NULL, "gap_forward_group", &k)) != CLNN_SUCCESS)
        return status;
    size_t local = clnn_reduction_group_size(ctx, k, HW);
    while (local > 1 && local * sizeof(cl_float) > ctx->info.local_mem_bytes / 2)
        local /= 2;
    size_t global = planes * local;
    return clnn_run_kernel(ctx, k, "gap_forward_group", 1, &global, &local,
                           CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(y->buffer), CLNN_ARG(HW),
                                     CLNN_LOCAL_ARG(local * sizeof(cl_float))));
}

clnn_status clnn_global_avg_pool_backward(clnn_context *ctx, const clnn_tensor *dy, float beta,
                                          clnn_tensor *dx)
{
    static const char *fn = "clnn_global_avg_pool_backward";
    clnn_status status = clnn_check_context(ctx, fn);
    if (status != CLNN_SUCCESS || (status = clnn_check_tensor(ctx, dy, "dy")) != CLNN_SUCCESS ||
        (status = clnn_check_tensor(ctx, dx, "dx")) != CLNN_SUCCESS ||
        (status = clnn_check_finite(ctx, beta, "beta")) != CLNN_SUCCESS ||
        (status = check_rank4(ctx, dx, "dx", fn)) != CLNN_SUCCESS ||
        (status = check_pooled(ctx, dy, "dy", dx, "dx", fn)) != CLNN_SUCCESS ||
        (status = check_apart(ctx, dx, "dx", dy, "dy", fn)) != CLNN_SUCCESS)
        return status;
    cl_kernel k;
    if ((status = clnn_get_kernel(ctx, "pool.cl", NULL, "gap_backward", &k)) != CLNN_SUCCESS)
        return status;
    cl_uint HW = (cl_uint)(dx->dims[2] * dx->dims[3]), total = (cl_uint)dx->count;
    cl_float b = beta;
    return clnn_run_kernel_1d(ctx, k, "gap_backward", dx->count,
                              CLNN_ARGS(CLNN_ARG(dy->buffer), CLNN_ARG(dx->buffer), CLNN_ARG(b),
                                        CLNN_ARG(total), CLNN_ARG(HW)));
}
