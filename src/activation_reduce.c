/*
 * The activation ops that carry a parameter and so reduce over rows in their backward: fused
 * bias + activation (y = f(x + bias), dbias the column sums of dz) and PReLU (dweight the sums per
 * channel). Argument checks and the launches of kernels/activation.cl: a first stage writes
 * partial sums (on CPUs one work-item per range of rows), a second sums them per column with
 * compensation. The elementwise activations are src/activation.c.
 */
#include "activation_common.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static size_t pow2_floor(size_t v)
{
    size_t p = 1;
    while (p * 2 <= v)
        p *= 2;
    return p;
}

static size_t pow2_ceil(size_t v)
{
    size_t p = 1;
    while (p < v)
        p *= 2;
    return p;
}

/* ---- fused bias + activation ----------------------------------------------------------------- */

static clnn_status check_matrix(clnn_context *ctx, const char *fn, const clnn_tensor *t,
                                const char *name)
{
    if (t->ndim != 2) {
        char a[96];
        clnn_format_shape(a, sizeof a, t->ndim, t->dims);
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "%s: %s is %s; it must be 2-D (rows, cols)", fn, name, a);
    }
    return CLNN_SUCCESS;
}

static clnn_status check_bias(clnn_context *ctx, const char *fn, const clnn_tensor *b,
                              const char *name, size_t cols)
{
    if (b->ndim != 1 || b->dims[0] != cols) {
        char a[96];
        clnn_format_shape(a, sizeof a, b->ndim, b->dims);
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "%s: %s is %s; it must be 1-D of length cols = %zu", fn, name, a, cols);
    }
    return CLNN_SUCCESS;
}

/* Work-group size along a row of `cols` elements: the kernel's size, halved while the group
 * would still cover the row (small rows waste fewer work-items). */
static size_t row_group_size(size_t wg, size_t cols)
{
    while (wg % 2 == 0 && wg / 2 >= cols)
        wg /= 2;
    return wg;
}

/* The local size of the CPU forms' 16-wide row kernels (bias + activation, PReLU): one for every
 * row length, the rows' items rounded up to it (the kernels leave the items past a row's end
 * idle), since POCL compiles a kernel again for every local size it is launched with. 32 items
 * cover a 512-float row. */
static size_t cpu_row_group(size_t kernel_limit)
{
    return kernel_limit < 32 ? kernel_limit : 32;
}

/* The largest work-group the kernel allows, up to `cap`, kept a multiple of its preferred
 * multiple: the row-streaming kernels (a barrier per row) gain from wide groups on CPUs. */
static size_t wide_group_size(clnn_context *ctx, cl_kernel kernel, size_t cap)
{
    size_t limit = 0, multiple = 0;
    if (clGetKernelWorkGroupInfo(kernel, ctx->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof limit,
                                 &limit, NULL) != CL_SUCCESS ||
        limit == 0)
        return clnn_kernel_group_size(ctx, kernel);
    if (clGetKernelWorkGroupInfo(kernel, ctx->device, CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE,
                                 sizeof multiple, &multiple, NULL) != CL_SUCCESS ||
        multiple == 0)
        multiple = 1;
    size_t size = pow2_floor(limit < cap ? limit : cap);
    if (size >= multiple && size % multiple != 0)
        size -= size % multiple;
    return size;
}

/* Work-items per compute unit of the CPU forms (bias backward, PReLU backward). */
#define ACT_CPU_ITEMS_PER_CU 4
/* Most rows per work-item of the CPU rows forms: each partial sum adds at most this many terms
 * in sequence before the compensated column sum. */
#define ACT_CPU_MAX_ROWS 256

/* The compensated column sums of stage 2: dst[j] = [beta dst[j] +] sum of partials[q * cols + j]
 * over q < parts (clnn_activation_column_sum). */
static clnn_status column_sum_launch(clnn_context *ctx, cl_kernel k_sum, cl_mem partials,
                                     size_t parts, size_t cols, cl_mem dst, float beta)
{
    size_t sx = row_group_size(wide_group_size(ctx, k_sum, 1024), cols);
    size_t global[2] = {round_up(cols, sx), 1}, local[2] = {sx, 1};
    cl_uint parts_u = (cl_uint)parts, cols_u = (cl_uint)cols;
    cl_float b = beta;
    return clnn_run_kernel(ctx, k_sum, "clnn_activation_column_sum", 2, global, local,
                           CLNN_ARGS(CLNN_ARG(partials), CLNN_ARG(parts_u), CLNN_ARG(cols_u),
                                     CLNN_ARG(dst), CLNN_ARG(b)));
}

/* The bias backward on CPUs: clnn_activation_bias_backward_rows (a group of one work-item per
 * range of rows, eight rows side by side with float16 loads) into partial column sums, then
 * clnn_activation_column_sum. */
static clnn_status bias_backward_rows(clnn_context *ctx, const clnn_activation_desc *desc,
                                      cl_kernel k_sum, const clnn_tensor *saved,
                                      clnn_activation_saved what, const clnn_tensor *bias,
                                      const clnn_tensor *dy, float beta, clnn_tensor *dx,
                                      float bias_beta, clnn_tensor *dbias)
{
    cl_kernel k;
    clnn_status s = get_kernel(ctx, desc, "clnn_activation_bias_backward_rows", &k);
    if (s != CLNN_SUCCESS)
        return s;
    size_t rows = saved->dims[0], cols = saved->dims[1], per;
    size_t parts = clnn_split_rows(ctx, rows, ACT_CPU_ITEMS_PER_CU, ACT_CPU_MAX_ROWS, &per);
    size_t parts_most = clnn_split_rows_bound(ctx, rows, ACT_CPU_ITEMS_PER_CU, ACT_CPU_MAX_ROWS);
    cl_mem partials;
    s = clnn_scratch_get(ctx, CLNN_SCRATCH_PARTIALS, parts_most * cols * sizeof(cl_float),
                         "bias gradient partial sums", &partials);
    if (s != CLNN_SUCCESS)
        return s;
    cl_mem bbuf = bias ? bias->buffer : dbias->buffer;
    cl_int has_b = bias != NULL, from_y = what == CLNN_ACTIVATION_SAVED_OUTPUT;
    cl_uint r = (cl_uint)rows, c = (cl_uint)cols, per_u = (cl_uint)per;
    cl_float b1 = beta;
    cl_float4 p = clnn_activation_kernel_params(desc);
    s = clnn_run_kernel_single(ctx, k, "clnn_activation_bias_backward_rows", parts,
                               CLNN_ARGS(CLNN_ARG(saved->buffer), CLNN_ARG(bbuf),
                                         CLNN_ARG(has_b), CLNN_ARG(from_y), CLNN_ARG(dy->buffer),
                                         CLNN_ARG(dx->buffer), CLNN_ARG(b1), CLNN_ARG(partials),
                                         CLNN_ARG(r), CLNN_ARG(c), CLNN_ARG(per_u), CLNN_ARG(p)));
    if (s == CLNN_SUCCESS)
        s = column_sum_launch(ctx, k_sum, partials, parts, cols, dbias->buffer, bias_beta);
    return s;
}

/* Bias gradient as column sums in two stages: clnn_activation_bias_backward sums row blocks into
 * a partial-sum buffer (or db directly when one block suffices), clnn_activation_column_sum adds
 * the blocks up. Blocks are chosen so that about 8 work-groups per compute unit (at least 64)
 * run, each block at least 16 rows. */
static clnn_status bias_backward_launch(clnn_context *ctx, const clnn_activation_desc *desc,
                                        cl_kernel k, const clnn_tensor *saved,
                                        clnn_activation_saved what, const clnn_tensor *bias,
                                        const clnn_tensor *dy, float beta, clnn_tensor *dx,
                                        float bias_beta, clnn_tensor *dbias)
{
    cl_kernel ks;
    clnn_status s = get_kernel(ctx, desc, "clnn_activation_column_sum", &ks);
    if (s != CLNN_SUCCESS)
        return s;
    size_t rows = saved->dims[0], cols = saved->dims[1];
    if (clnn_cpu_forms(ctx))
        return bias_backward_rows(ctx, desc, ks, saved, what, bias, dy, beta, dx, bias_beta,
                                  dbias);
    size_t lx = row_group_size(wide_group_size(ctx, k, 1024), cols);
    size_t col_groups = (cols + lx - 1) / lx;
    size_t target = 8 * (size_t)ctx->info.compute_units;
    if (target < 64)
        target = 64;
    size_t blocks = (target + col_groups - 1) / col_groups;
    size_t max_blocks = (rows + 15) / 16;
    if (blocks > max_blocks)
        blocks = max_blocks;
    if (blocks < 1)
        blocks = 1;
    /* Whole rows per block leave at most `blocks` blocks; this count never falls as rows grow. */
    size_t blocks_most = blocks;
    size_t per = (rows + blocks - 1) / blocks;
    blocks = (rows + per - 1) / per;
    int direct = blocks == 1;
    cl_mem partials = NULL;
    if (!direct) {
        s = clnn_scratch_get(ctx, CLNN_SCRATCH_PARTIALS, blocks_most * cols * sizeof(cl_float),
                             "bias gradient partial sums", &partials);
        if (s != CLNN_SUCCESS)
            return s;
    }
    size_t local[2] = {lx, 1};
    size_t global[2] = {col_groups * lx, blocks};
    cl_mem bbuf = bias ? bias->buffer : dbias->buffer;
    cl_mem out = direct ? dbias->buffer : partials;
    cl_int has_b = bias != NULL, from_y = what == CLNN_ACTIVATION_SAVED_OUTPUT, direct_arg = direct;
    cl_uint r = (cl_uint)rows, c = (cl_uint)cols, per_arg = (cl_uint)per;
    cl_float b1 = beta, b2 = bias_beta;
    cl_float4 p = clnn_activation_kernel_params(desc);
    s = clnn_run_kernel(ctx, k, "clnn_activation_bias_backward", 2, global, local,
                        CLNN_ARGS(CLNN_ARG(saved->buffer), CLNN_ARG(bbuf), CLNN_ARG(has_b),
                                  CLNN_ARG(from_y), CLNN_ARG(dy->buffer), CLNN_ARG(dx->buffer),
                                  CLNN_ARG(b1), CLNN_ARG(out), CLNN_ARG(direct_arg), CLNN_ARG(b2),
                                  CLNN_ARG(r), CLNN_ARG(c), CLNN_ARG(per_arg), CLNN_ARG(p)));
    if (s == CLNN_SUCCESS && !direct)
        s = column_sum_launch(ctx, ks, partials, blocks, cols, dbias->buffer, bias_beta);
    return s;
}

clnn_status clnn_bias_activation_forward(clnn_context *ctx, const clnn_activation_desc *desc,
                                         const clnn_tensor *x, const clnn_tensor *bias,
                                         clnn_tensor *z, clnn_tensor *y)
{
    static const char fn[] = "clnn_bias_activation_forward";
    clnn_status s = clnn_check_context(ctx, fn);
    if (s == CLNN_SUCCESS)
        s = clnn_activation_check_desc(ctx, desc, fn);
    if (s == CLNN_SUCCESS)
        s = check_tensor(ctx, fn, x, "x");
    if (s == CLNN_SUCCESS)
        s = check_tensor(ctx, fn, bias, "bias");
    if (s == CLNN_SUCCESS)
        s = check_tensor(ctx, fn, y, "y");
    if (s == CLNN_SUCCESS && z)
        s = check_tensor(ctx, fn, z, "z");
    if (s == CLNN_SUCCESS)
        s = check_matrix(ctx, fn, x, "x");
    if (s == CLNN_SUCCESS)
        s = check_bias(ctx, fn, bias, "bias", x->dims[1]);
    if (s == CLNN_SUCCESS)
        s = check_same_shape(ctx, fn, x, "x", y, "y");
    if (s == CLNN_SUCCESS && z)
        s = check_same_shape(ctx, fn, x, "x", z, "z");
    if (s == CLNN_SUCCESS && z)
        s = check_not_aliased(ctx, fn, z, "z", y, "y");
    if (s == CLNN_SUCCESS)
        s = check_not_aliased(ctx, fn, y, "y", bias, "bias");
    if (s == CLNN_SUCCESS && z)
        s = check_not_aliased(ctx, fn, z, "z", bias, "bias");
    if (s != CLNN_SUCCESS)
        return s;
    /* CPU forms: 16 columns per work-item (clnn_activation_bias_forward16), plus one per row for
     * a remainder; GPU forms: one element per work-item. */
    int cpu = clnn_cpu_forms(ctx);
    const char *name = cpu ? "clnn_activation_bias_forward16" : "clnn_activation_bias_forward";
    cl_kernel k;
    if ((s = get_kernel(ctx, desc, name, &k)) != CLNN_SUCCESS)
        return s;
    size_t rows = x->dims[0], cols = x->dims[1];
    size_t items = cpu ? cols / 16 + (cols % 16 != 0) : cols;
    size_t lx = clnn_kernel_group_size(ctx, k);
    if (cpu) /* one local size for every width (see cpu_row_group) */
        lx = cpu_row_group(lx);
    else
        lx = row_group_size(lx, items);
    size_t local[2] = {lx, 1};
    size_t global[2] = {round_up(items, lx), rows};
    cl_mem zbuf = z ? z->buffer : y->buffer;
    cl_int store_z = z != NULL;
    cl_uint r = (cl_uint)rows, c = (cl_uint)cols;
    cl_float4 p = clnn_activation_kernel_params(desc);
    return clnn_run_kernel(ctx, k, name, 2, global, local,
                           CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(bias->buffer), CLNN_ARG(zbuf),
                                     CLNN_ARG(store_z), CLNN_ARG(y->buffer), CLNN_ARG(r),
                                     CLNN_ARG(c), CLNN_ARG(p)));
}

clnn_status clnn_bias_activation_backward(clnn_context *ctx, const clnn_activation_desc *desc,
                                          const clnn_tensor *saved, clnn_activation_saved what,
                                          const clnn_tensor *bias, const clnn_tensor *dy,
                                          float beta, clnn_tensor *dx, float bias_beta,
                                          clnn_tensor *dbias)
{
    static const char fn[] = "clnn_bias_activation_backward";
    clnn_status s = clnn_check_context(ctx, fn);
    if (s == CLNN_SUCCESS)
        s = clnn_activation_check_desc(ctx, desc, fn);
    if (s == CLNN_SUCCESS && (unsigned)what >= CLNN_ACTIVATION_SAVED_COUNT)
        s = clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: unknown clnn_activation_saved %d", fn,
                       (int)what);
    if (s == CLNN_SUCCESS && what == CLNN_ACTIVATION_SAVED_OUTPUT)
        s = clnn_activation_check_output_backward(ctx, fn, desc);
    if (s == CLNN_SUCCESS && what == CLNN_ACTIVATION_SAVED_OUTPUT && bias)
        s = clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                       "%s: bias must be NULL when saved is the output y", fn);
    if (s == CLNN_SUCCESS)
        s = check_tensor(ctx, fn, saved, "saved");
    if (s == CLNN_SUCCESS && bias)
        s = check_tensor(ctx, fn, bias, "bias");
    if (s == CLNN_SUCCESS)
        s = check_tensor(ctx, fn, dy, "dy");
    if (s == CLNN_SUCCESS)
        s = check_tensor(ctx, fn, dx, "dx");
    if (s == CLNN_SUCCESS)
        s = check_tensor(ctx, fn, dbias, "dbias");
    if (s == CLNN_SUCCESS)
        s = check_matrix(ctx, fn, saved, "saved");
    if (s == CLNN_SUCCESS)
        s = check_same_shape(ctx, fn, saved, "saved", dy, "dy");
    if (s == CLNN_SUCCESS)
        s = check_same_shape(ctx, fn, saved, "saved", dx, "dx");
    if (s == CLNN_SUCCESS && bias)
        s = check_bias(ctx, fn, bias, "bias", saved->dims[1]);
    if (s == CLNN_SUCCESS)
        s = check_bias(ctx, fn, dbias, "dbias", saved->dims[1]);
    if (s == CLNN_SUCCESS)
        s = check_beta(ctx, fn, beta, "beta");
    if (s == CLNN_SUCCESS)
        s = check_beta(ctx, fn, bias_beta, "bias_beta");
    if (s == CLNN_SUCCESS)
        s = check_not_aliased(ctx, fn, dbias, "dbias", saved, "saved");
    if (s == CLNN_SUCCESS)
        s = check_not_aliased(ctx, fn, dbias, "dbias", dy, "dy");
    if (s == CLNN_SUCCESS)
        s = check_not_aliased(ctx, fn, dbias, "dbias", dx, "dx");
    if (s == CLNN_SUCCESS)
        s = check_not_aliased(ctx, fn, dbias, "dbias", bias, "bias");
    if (s == CLNN_SUCCESS)
        s = check_not_aliased(ctx, fn, dx, "dx", bias, "bias");
    cl_kernel k;
    if (s == CLNN_SUCCESS)
        s = get_kernel(ctx, desc, "clnn_activation_bias_backward", &k);
    if (s != CLNN_SUCCESS)
        return s;

    return bias_backward_launch(ctx, desc, k, saved, what, bias, dy, beta, dx, bias_beta, dbias);
}

/* ---- PReLU ------------------------------------------------------------------------------------ */

/* x as (outer, channels, inner) for the slopes in weight. */
typedef struct prelu_layout {
    size_t outer, channels, inner;
} prelu_layout;

static clnn_status check_prelu_weight(clnn_context *ctx, const char *fn, const clnn_tensor *x,
                                      const clnn_tensor *w, const char *name, prelu_layout *l)
{
    size_t channels = x->ndim >= 2 ? x->dims[1] : 1;
    if (w->ndim != 1 || (w->dims[0] != 1 && w->dims[0] != channels)) {
        char a[96], b[96];
        clnn_format_shape(a, sizeof a, w->ndim, w->dims);
        clnn_format_shape(b, sizeof b, x->ndim, x->dims);
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "%s: %s is %s; for x of shape %s it must be 1-D of length 1 or %zu "
                          "(x's dimension 1)",
                          fn, name, a, b, channels);
    }
    if (w->dims[0] == 1) {
        l->outer = 1, l->channels = 1, l->inner = x->count;
    } else {
        l->outer = x->dims[0], l->channels = channels;
        l->inner = x->count / (l->outer * channels);
    }
    return CLNN_SUCCESS;
}

clnn_status clnn_prelu_forward(clnn_context *ctx, const clnn_tensor *x, const clnn_tensor *weight,
                               clnn_tensor *y)
{
    static const char fn[] = "clnn_prelu_forward";
    static const clnn_activation_desc identity = {CLNN_ACTIVATION_IDENTITY, 0, 0, 0, 0, 0, 0};
    prelu_layout l;
    clnn_status s = clnn_check_context(ctx, fn);
    if (s == CLNN_SUCCESS)
        s = check_tensor(ctx, fn, x, "x");
    if (s == CLNN_SUCCESS)
        s = check_tensor(ctx, fn, weight, "weight");
    if (s == CLNN_SUCCESS)
        s = check_tensor(ctx, fn, y, "y");
    if (s == CLNN_SUCCESS)
        s = check_same_shape(ctx, fn, x, "x", y, "y");
    if (s == CLNN_SUCCESS)
        s = check_prelu_weight(ctx, fn, x, weight, "weight", &l);
    if (s == CLNN_SUCCESS)
        s = check_not_aliased(ctx, fn, y, "y", weight, "weight");
    cl_kernel k;
    if (s != CLNN_SUCCESS)
        return s;
    int rows_form = l.inner == 1 && l.channels > 1;
    cl_uint inner = (cl_uint)l.inner, channels = (cl_uint)l.channels;
    if (clnn_cpu_forms(ctx)) {
        /* 16 elements per work-item, plus one per plane (or row) for a remainder. */
        static const char name16[] = "clnn_prelu_forward16";
        if ((s = get_kernel(ctx, &identity, name16, &k)) != CLNN_SUCCESS)
            return s;
        size_t len = rows_form ? l.channels : l.inner;
        size_t segments = rows_form ? l.outer : l.outer * l.channels;
        size_t items = len / 16 + (len % 16 != 0);
        size_t lx = cpu_row_group(clnn_kernel_group_size(ctx, k));
        size_t local[2] = {lx, 1}, global[2] = {round_up(items, lx), segments};
        cl_uint len_u = (cl_uint)len;
        cl_int rows = rows_form;
        return clnn_run_kernel(ctx, k, name16, 2, global, local,
                               CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(weight->buffer),
                                         CLNN_ARG(y->buffer), CLNN_ARG(len_u), CLNN_ARG(channels),
                                         CLNN_ARG(rows)));
    }
    const char *name = rows_form ? "clnn_prelu_forward_rows" : "clnn_prelu_forward";
    if ((s = get_kernel(ctx, &identity, name, &k)) != CLNN_SUCCESS)
        return s;
    if (rows_form) {
        size_t lx = row_group_size(clnn_kernel_group_size(ctx, k), l.channels);
        size_t local[2] = {lx, 1}, global[2] = {round_up(l.channels, lx), l.outer};
        return clnn_run_kernel(ctx, k, name, 2, global, local,
                               CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(weight->buffer),
                                         CLNN_ARG(y->buffer), CLNN_ARG(channels)));
    }
    size_t chunks = (l.inner + 3) / 4;
    size_t wg = clnn_kernel_group_size(ctx, k);
    size_t lx = pow2_ceil(chunks) < wg ? pow2_ceil(chunks) : wg;
    size_t local[3] = {lx, 1, 1};
    size_t global[3] = {round_up(chunks, lx), l.channels, l.outer};
    return clnn_run_kernel(ctx, k, "clnn_prelu_forward", 3, global, local,
                           CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(weight->buffer),
                                     CLNN_ARG(y->buffer), CLNN_ARG(inner), CLNN_ARG(channels)));
}

/* dw[c] = [beta dw[c] +] the sum of partials[c * parts .. c * parts + parts) (clnn_prelu_reduce,
 * a work-group per channel). */
static clnn_status prelu_reduce_launch(clnn_context *ctx, cl_kernel k_reduce, cl_mem partials,
                                       size_t parts, size_t channels, cl_mem dw, float beta)
{
    size_t wr = clnn_kernel_group_size(ctx, k_reduce);
    size_t local = pow2_ceil(parts) < wr ? pow2_ceil(parts) : wr;
    size_t global = local * channels;
    cl_uint parts_u = (cl_uint)parts;
    cl_float b = beta;
    return clnn_run_kernel(ctx, k_reduce, "clnn_prelu_reduce", 1, &global, &local,
                           CLNN_ARGS(CLNN_ARG(partials), CLNN_ARG(parts_u), CLNN_ARG(dw),
                                     CLNN_ARG(b), CLNN_LOCAL_ARG(local * sizeof(cl_float))));
}

/* Least elements per work-item of the planes form of the PReLU backward on CPUs. */
#define PRELU_CPU_MIN_CHUNK 4096

/* The PReLU backward on CPUs (kernels/activation.cl): groups of one work-item walking contiguous
 * memory with float8 loads; x of shape (outer, channels) takes the rows form, long planes
 * (inner >= 16, or one slope) the planes form. Partial slope gradients go to a scratch buffer,
 * added up by clnn_activation_column_sum (rows) or clnn_prelu_reduce (planes). */
static clnn_status prelu_backward_cpu(clnn_context *ctx, const prelu_layout *l,
                                      const clnn_tensor *x, const clnn_tensor *weight,
                                      const clnn_tensor *dy, float beta, clnn_tensor *dx,
                                      float weight_beta, clnn_tensor *dweight, cl_kernel k_reduce)
{
    static const clnn_activation_desc identity = {CLNN_ACTIVATION_IDENTITY, 0, 0, 0, 0, 0, 0};
    int rows_form = l->inner == 1 && l->channels > 1;
    const char *name = rows_form ? "clnn_prelu_backward_rows" : "clnn_prelu_backward_planes";
    cl_kernel k, k_sum = NULL;
    clnn_status s = get_kernel(ctx, &identity, name, &k);
    if (s == CLNN_SUCCESS && rows_form)
        s = get_kernel(ctx, &identity, "clnn_activation_column_sum", &k_sum);
    if (s != CLNN_SUCCESS)
        return s;
    /* parts_most >= parts, and never less for a longer x (sizes the scratch buffer). */
    size_t parts, per, parts_most;
    if (rows_form) { /* parts = work-items, per = rows each */
        parts = clnn_split_rows(ctx, l->outer, ACT_CPU_ITEMS_PER_CU, ACT_CPU_MAX_ROWS, &per);
        parts_most = clnn_split_rows_bound(ctx, l->outer, ACT_CPU_ITEMS_PER_CU, ACT_CPU_MAX_ROWS);
    } else { /* parts per channel, per = elements each */
        size_t len = l->outer * l->inner;
        size_t items = ACT_CPU_ITEMS_PER_CU * (size_t)ctx->info.compute_units;
        parts = (items + l->channels - 1) / l->channels;
        size_t max_parts = (len + PRELU_CPU_MIN_CHUNK - 1) / PRELU_CPU_MIN_CHUNK;
        parts = parts > max_parts ? max_parts : parts < 1 ? 1 : parts;
        parts_most = parts;
        per = (len + parts - 1) / parts;
        parts = (len + per - 1) / per;
    }
    cl_mem partials;
    s = clnn_scratch_get(ctx, CLNN_SCRATCH_PARTIALS, parts_most * l->channels * sizeof(cl_float),
                         "PReLU partial sums", &partials);
    if (s != CLNN_SUCCESS)
        return s;
    cl_mem dxbuf = dx ? dx->buffer : dy->buffer; /* not written without write_dx */
    cl_int write_dx = dx != NULL;
    cl_float b1 = beta;
    cl_uint channels = (cl_uint)l->channels, per_u = (cl_uint)per;
    if (rows_form) {
        cl_uint outer = (cl_uint)l->outer;
        s = clnn_run_kernel_single(ctx, k, name, parts,
                                   CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(weight->buffer),
                                             CLNN_ARG(dy->buffer), CLNN_ARG(dxbuf),
                                             CLNN_ARG(write_dx), CLNN_ARG(b1), CLNN_ARG(partials),
                                             CLNN_ARG(outer), CLNN_ARG(channels),
                                             CLNN_ARG(per_u)));
        if (s == CLNN_SUCCESS && dweight)
            s = column_sum_launch(ctx, k_sum, partials, parts, l->channels, dweight->buffer,
                                  weight_beta);
    } else {
        cl_uint inner = (cl_uint)l->inner, len = (cl_uint)(l->outer * l->inner);
        size_t global[2] = {parts, l->channels}, local[2] = {1, 1};
        s = clnn_run_kernel(ctx, k, name, 2, global, local,
                            CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(weight->buffer),
                                      CLNN_ARG(dy->buffer), CLNN_ARG(dxbuf), CLNN_ARG(write_dx),
                                      CLNN_ARG(b1), CLNN_ARG(partials), CLNN_ARG(inner),
                                      CLNN_ARG(channels), CLNN_ARG(len), CLNN_ARG(per_u)));
        if (s == CLNN_SUCCESS && dweight)
            s = prelu_reduce_launch(ctx, k_reduce, partials, parts, l->channels, dweight->buffer,
                                    weight_beta);
    }
    return s;
}

clnn_status clnn_prelu_backward(clnn_context *ctx, const clnn_tensor *x, const clnn_tensor *weight,
                                const clnn_tensor *dy, float beta, clnn_tensor *dx,
                                float weight_beta, clnn_tensor *dweight)
{
    static const char fn[] = "clnn_prelu_backward";
    static const clnn_activation_desc identity = {CLNN_ACTIVATION_IDENTITY, 0, 0, 0, 0, 0, 0};
    prelu_layout l;
    clnn_status s = clnn_check_context(ctx, fn);
    if (s == CLNN_SUCCESS && !dx && !dweight)
        s = clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: dx and dweight are both NULL", fn);
    if (s == CLNN_SUCCESS)
        s = check_tensor(ctx, fn, x, "x");
    if (s == CLNN_SUCCESS)
        s = check_tensor(ctx, fn, weight, "weight");
    if (s == CLNN_SUCCESS)
        s = check_tensor(ctx, fn, dy, "dy");
    if (s == CLNN_SUCCESS && dx)
        s = check_tensor(ctx, fn, dx, "dx");
    if (s == CLNN_SUCCESS && dweight)
        s = check_tensor(ctx, fn, dweight, "dweight");
    if (s == CLNN_SUCCESS)
        s = check_same_shape(ctx, fn, x, "x", dy, "dy");
    if (s == CLNN_SUCCESS && dx)
        s = check_same_shape(ctx, fn, x, "x", dx, "dx");
    if (s == CLNN_SUCCESS)
        s = check_prelu_weight(ctx, fn, x, weight, "weight", &l);
    if (s == CLNN_SUCCESS && dweight)
        s = check_same_shape(ctx, fn, weight, "weight", dweight, "dweight");
    if (s == CLNN_SUCCESS)
        s = check_beta(ctx, fn, beta, "beta");
    if (s == CLNN_SUCCESS)
        s = check_beta(ctx, fn, weight_beta, "weight_beta");
    if (s == CLNN_SUCCESS && dx)
        s = check_not_aliased(ctx, fn, dx, "dx", weight, "weight");
    if (s == CLNN_SUCCESS && dweight) {
        const clnn_tensor *others[] = {x, weight, dy, dx};
        const char *names[] = {"x", "weight", "dy", "dx"};
        for (int i = 0; i < 4 && s == CLNN_SUCCESS; ++i)
            s = check_not_aliased(ctx, fn, dweight, "dweight", others[i], names[i]);
    }
    cl_kernel k, kr = NULL;
    if (s == CLNN_SUCCESS)
        s = get_kernel(ctx, &identity, "clnn_prelu_backward", &k);
    if (s == CLNN_SUCCESS)
        s = get_kernel(ctx, &identity, "clnn_prelu_reduce", &kr);
    if (s != CLNN_SUCCESS)
        return s;

    if (clnn_cpu_forms(ctx) && (l.inner == 1 || l.inner >= 16 || l.channels == 1))
        return prelu_backward_cpu(ctx, &l, x, weight, dy, beta, dx, weight_beta, dweight, kr);

    /* Split each channel's len elements into `parts` work-groups so that about 8 groups per
     * compute unit (at least 64) run, each work-item taking at least 4 elements. */
    size_t wg = clnn_kernel_group_size(ctx, k);
    size_t len = l.outer * l.inner;
    size_t target = 8 * (size_t)ctx->info.compute_units;
    if (target < 64)
        target = 64;
    size_t parts = (target + l.channels - 1) / l.channels;
    size_t max_parts = (len + 4 * wg - 1) / (4 * wg);
    if (parts > max_parts)
        parts = max_parts;
    if (parts < 1)
        parts = 1;
    size_t parts_most = parts; /* never less for a longer x; whole chunks leave at most this */
    size_t chunk = (len + parts - 1) / parts;
    parts = (len + chunk - 1) / chunk;

    /* Direct: one group per channel writes dweight itself. Otherwise partial sums go to a scratch
     * buffer and clnn_prelu_reduce adds them up. Without dweight the sums go to scratch too. */
    int direct = parts == 1 && dweight != NULL;
    cl_mem scratch = NULL;
    if (!direct) {
        s = clnn_scratch_get(ctx, CLNN_SCRATCH_PARTIALS, l.channels * parts_most * sizeof(cl_float),
                             "PReLU partial sums", &scratch);
        if (s != CLNN_SUCCESS)
            return s;
    }
    cl_mem dxbuf = dx ? dx->buffer : dy->buffer;
    cl_mem out = direct ? dweight->buffer : scratch;
    cl_int write_dx = dx != NULL, direct_arg = direct;
    cl_float b1 = beta, b2 = weight_beta;
    cl_uint inner = (cl_uint)l.inner, channels = (cl_uint)l.channels, len_arg = (cl_uint)len,
            chunk_arg = (cl_uint)chunk;
    size_t local[2] = {wg, 1};
    size_t global[2] = {wg * parts, l.channels};
    s = clnn_run_kernel(ctx, k, "clnn_prelu_backward", 2, global, local,
                        CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(weight->buffer),
                                  CLNN_ARG(dy->buffer), CLNN_ARG(dxbuf), CLNN_ARG(write_dx),
                                  CLNN_ARG(b1), CLNN_ARG(out), CLNN_ARG(direct_arg), CLNN_ARG(b2),
                                  CLNN_ARG(inner), CLNN_ARG(channels), CLNN_ARG(len_arg),
                                  CLNN_ARG(chunk_arg), CLNN_LOCAL_ARG(wg * sizeof(cl_float))));
    if (s == CLNN_SUCCESS && !direct && dweight)
        s = prelu_reduce_launch(ctx, kr, scratch, parts, l.channels, dweight->buffer, weight_beta);
    return s;
}
