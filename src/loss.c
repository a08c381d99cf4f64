/*
 * Softmax, log-softmax and losses: argument checks and kernel launches (kernels/loss.cl).
 * Row-wise ops run one work-group per row; reductions to a scalar run in two stages whose
 * partial results live in the context's scratch pool (src/scratch.c); what the host reads back
 * from it is read before the call returns.
 */
#include "internal.h"

#include <math.h>

#define LOSS_MSE 0u
#define LOSS_BCE 1u
#define PW_NONE_OUT 1u
#define PW_GRAD 2u
#define PW_PARTIAL 4u
/* Work-groups per compute unit of the pointwise losses' first stage. */
#define LOSS_GROUPS_PER_CU 8
/* Work-group size of the row kernels on CPU devices. */
#define LOSS_CPU_ROW_GROUP 16

const char *clnn_reduction_name(clnn_reduction reduction)
{
    static const char *names[] = {"none", "mean", "sum"};
    _Static_assert(sizeof names / sizeof names[0] == CLNN_REDUCTION_COUNT, "reduction names");
    return (unsigned)reduction < CLNN_REDUCTION_COUNT ? names[reduction] : "unknown";
}

static clnn_status scratch_buffer(clnn_context *ctx, clnn_scratch_slot slot, size_t bytes,
                                  cl_mem *out)
{
    return clnn_scratch_get(ctx, slot, bytes, "loss scratch", out);
}

static clnn_status check_same(clnn_context *ctx, const clnn_tensor *t, const char *name,
                              const clnn_tensor *x, const char *x_name)
{
    clnn_status status = clnn_check_tensor(ctx, t, name);
    if (status == CLNN_SUCCESS)
        status = clnn_check_same_shape(ctx, t, name, x, x_name);
    return status;
}

static clnn_status check_rows(clnn_context *ctx, const clnn_tensor *x, const char *name,
                              const char *fn)
{
    clnn_status status = clnn_check_tensor(ctx, x, name);
    if (status == CLNN_SUCCESS && x->ndim != 2)
        status = clnn_error(ctx, CLNN_ERR_INVALID_SHAPE, "%s: %s has rank %d; it must be (N, C)",
                            fn, name, x->ndim);
    return status;
}

/* One work-group per row of (N, C). */
static clnn_status run_rows(clnn_context *ctx, cl_kernel k, const char *name, size_t N, size_t C,
                            size_t scratch_floats_per_item, size_t arg_count,
                            clnn_kernel_arg *args)
{
    size_t L = clnn_pow2_ceil_capped(C, clnn_kernel_group_size(ctx, k));
    /* On CPUs a work-group runs as loops between barriers: a smaller group means fewer barriers
     * per row and the row still fills the vector lanes. */
    if (clnn_cpu_forms(ctx) && L > LOSS_CPU_ROW_GROUP)
        L = LOSS_CPU_ROW_GROUP;
    size_t global = N * L;
    args[arg_count - 1] = CLNN_LOCAL_ARG(scratch_floats_per_item * L * sizeof(float));
    return clnn_run_kernel(ctx, k, name, 1, &global, &L, arg_count, args);
}

/* Work-items per compute unit of the CPU row forms (kernels/loss.cl: a group of one work-item
 * per range of rows). */
#define LOSS_CPU_ITEMS_PER_CU 8


/* ---- softmax ---------------------------------------------------------------------------------- */

static clnn_status softmax_fwd(clnn_context *ctx, const clnn_tensor *x, clnn_tensor *y,
                               cl_uint log_mode, const char *fn)
{
    clnn_status status = clnn_check_context(ctx, fn);
    if (status != CLNN_SUCCESS || (status = check_rows(ctx, x, "x", fn)) != CLNN_SUCCESS ||
        (status = check_same(ctx, y, "y", x, "x")) != CLNN_SUCCESS)
        return status;
    cl_kernel k;
    cl_uint C = (cl_uint)x->dims[1];
    if (clnn_cpu_forms(ctx)) {
        if ((status = clnn_get_kernel(ctx, "loss.cl", NULL, "softmax_forward_rows", &k)) != CLNN_SUCCESS)
            return status;
        size_t per;
        size_t items = clnn_split_rows(ctx, x->dims[0], LOSS_CPU_ITEMS_PER_CU, 0, &per);
        cl_uint N = (cl_uint)x->dims[0], per_u = (cl_uint)per;
        return clnn_run_kernel_single(ctx, k, "softmax_forward_rows", items,
                            CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(y->buffer), CLNN_ARG(C),
                                      CLNN_ARG(log_mode), CLNN_ARG(N), CLNN_ARG(per_u)));
    }
    if ((status = clnn_get_kernel(ctx, "loss.cl", NULL, "softmax_forward", &k)) != CLNN_SUCCESS)
        return status;
    clnn_kernel_arg args[] = {CLNN_ARG(x->buffer), CLNN_ARG(y->buffer), CLNN_ARG(C),
                              CLNN_ARG(log_mode), CLNN_LOCAL_ARG(0)};
    return run_rows(ctx, k, "softmax_forward", x->dims[0], x->dims[1], 1, 5, args);
}

static clnn_status softmax_bwd(clnn_context *ctx, const clnn_tensor *y, const clnn_tensor *dy,
                               clnn_tensor *dx, cl_uint log_mode, const char *fn)
{
    clnn_status status = clnn_check_context(ctx, fn);
    if (status != CLNN_SUCCESS || (status = check_rows(ctx, y, "y", fn)) != CLNN_SUCCESS ||
        (status = check_same(ctx, dy, "dy", y, "y")) != CLNN_SUCCESS ||
        (status = check_same(ctx, dx, "dx", y, "y")) != CLNN_SUCCESS)
        return status;
    if (dx == y)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: dx must not be y (dx may be dy)",
                          fn);
    cl_kernel k;
    cl_uint C = (cl_uint)y->dims[1];
    if (clnn_cpu_forms(ctx)) {
        if ((status = clnn_get_kernel(ctx, "loss.cl", NULL, "softmax_backward_rows", &k)) != CLNN_SUCCESS)
            return status;
        size_t per;
        size_t items = clnn_split_rows(ctx, y->dims[0], LOSS_CPU_ITEMS_PER_CU, 0, &per);
        cl_uint N = (cl_uint)y->dims[0], per_u = (cl_uint)per;
        return clnn_run_kernel_single(ctx, k, "softmax_backward_rows", items,
                            CLNN_ARGS(CLNN_ARG(y->buffer), CLNN_ARG(dy->buffer),
                                      CLNN_ARG(dx->buffer), CLNN_ARG(C), CLNN_ARG(log_mode),
                                      CLNN_ARG(N), CLNN_ARG(per_u)));
    }
    if ((status = clnn_get_kernel(ctx, "loss.cl", NULL, "softmax_backward", &k)) != CLNN_SUCCESS)
        return status;
    clnn_kernel_arg args[] = {CLNN_ARG(y->buffer), CLNN_ARG(dy->buffer), CLNN_ARG(dx->buffer),
                              CLNN_ARG(C), CLNN_ARG(log_mode), CLNN_LOCAL_ARG(0)};
    return run_rows(ctx, k, "softmax_backward", y->dims[0], y->dims[1], 1, 6, args);
}

clnn_status clnn_softmax_forward(clnn_context *ctx, const clnn_tensor *x, clnn_tensor *y)
{
    return softmax_fwd(ctx, x, y, 0, "clnn_softmax_forward");
}

clnn_status clnn_log_softmax_forward(clnn_context *ctx, const clnn_tensor *x, clnn_tensor *y)
{
    return softmax_fwd(ctx, x, y, 1, "clnn_log_softmax_forward");
}

clnn_status clnn_softmax_backward(clnn_context *ctx, const clnn_tensor *y, const clnn_tensor *dy,
                                  clnn_tensor *dx)
{
    return softmax_bwd(ctx, y, dy, dx, 0, "clnn_softmax_backward");
}

clnn_status clnn_log_softmax_backward(clnn_context *ctx, const clnn_tensor *y,
                                      const clnn_tensor *dy, clnn_tensor *dx)
{
    return softmax_bwd(ctx, y, dy, dx, 1, "clnn_log_softmax_backward");
}

/* ---- pointwise losses ------------------------------------------------------------------------- */

static clnn_status pointwise(clnn_context *ctx, const clnn_tensor *x, const clnn_tensor *t,
                             clnn_reduction reduction, clnn_tensor *loss, clnn_tensor *dx,
                             cl_uint kind, const char *fn, const char *x_name, const char *dx_name)
{
    clnn_status status = clnn_check_context(ctx, fn);
    if (status != CLNN_SUCCESS || (status = clnn_check_tensor(ctx, x, x_name)) != CLNN_SUCCESS ||
        (status = check_same(ctx, t, "target", x, x_name)) != CLNN_SUCCESS)
        return status;
    if ((unsigned)reduction >= CLNN_REDUCTION_COUNT)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: reduction is %d; it must be none, mean or sum", fn, (int)reduction);
    if (loss) {
        if ((status = clnn_check_tensor(ctx, loss, "loss")) != CLNN_SUCCESS)
            return status;
        if (reduction == CLNN_REDUCTION_NONE) {
            if ((status = clnn_check_same_shape(ctx, loss, "loss", x, x_name)) != CLNN_SUCCESS)
                return status;
        } else if (loss->count != 1) {
            return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                              "%s: loss holds %zu elements; reduction %s needs 1", fn,
                              loss->count, clnn_reduction_name(reduction));
        }
        if (loss == x || loss == t || loss == dx)
            return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                              "%s: loss must not be the input, the target or the gradient", fn);
    }
    if (dx && (status = check_same(ctx, dx, dx_name, x, x_name)) != CLNN_SUCCESS)
        return status;
    if (dx && dx == t)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: %s must not be target", fn, dx_name);
    if (!loss && !dx)
        return CLNN_SUCCESS;
    cl_kernel k, k_sum;
    if ((status = clnn_get_kernel(ctx, "loss.cl", NULL, "pointwise_loss", &k)) != CLNN_SUCCESS ||
        (status = clnn_get_kernel(ctx, "loss.cl", NULL, "sum_partials", &k_sum)) != CLNN_SUCCESS)
        return status;
    int reduce = loss && reduction != CLNN_REDUCTION_NONE;
    cl_uint flags = (loss && !reduce ? PW_NONE_OUT : 0) | (dx ? PW_GRAD : 0) |
                    (reduce ? PW_PARTIAL : 0);
    size_t L = clnn_kernel_group_size(ctx, k);
    size_t cu = ctx->info.compute_units ? ctx->info.compute_units : 1;
    size_t G = (x->count + L - 1) / L;
    if (G > LOSS_GROUPS_PER_CU * cu)
        G = LOSS_GROUPS_PER_CU * cu;
    cl_mem part = NULL;
    if (reduce && (status = scratch_buffer(ctx, CLNN_SCRATCH_PARTIALS, G * sizeof(float), &part)) !=
                      CLNN_SUCCESS)
        return status;
    size_t global = G * L;
    cl_uint n = (cl_uint)x->count;
    cl_float grad_scale = reduction == CLNN_REDUCTION_MEAN ? (cl_float)(1.0 / (double)x->count) : 1.0f;
    cl_mem out = loss && !reduce ? loss->buffer : x->buffer; /* never written without the flag */
    cl_mem g = dx ? dx->buffer : x->buffer;
    cl_mem p = part ? part : x->buffer;
    status = clnn_run_kernel(ctx, k, "pointwise_loss", 1, &global, &L,
                             CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(t->buffer), CLNN_ARG(out),
                                       CLNN_ARG(g), CLNN_ARG(p), CLNN_ARG(n), CLNN_ARG(kind),
                                       CLNN_ARG(flags), CLNN_ARG(grad_scale),
                                       CLNN_LOCAL_ARG(L * sizeof(float))));
    if (status == CLNN_SUCCESS && reduce) {
        size_t L2 = clnn_pow2_ceil_capped(G, clnn_kernel_group_size(ctx, k_sum));
        cl_uint Gu = (cl_uint)G;
        cl_float scale = grad_scale;
        status = clnn_run_kernel(ctx, k_sum, "sum_partials", 1, &L2, &L2,
                                 CLNN_ARGS(CLNN_ARG(part), CLNN_ARG(Gu), CLNN_ARG(scale),
                                           CLNN_ARG(loss->buffer),
                                           CLNN_LOCAL_ARG(L2 * sizeof(float))));
    }
    return status;
}

clnn_status clnn_mse_loss(clnn_context *ctx, const clnn_tensor *input, const clnn_tensor *target,
                          clnn_reduction reduction, clnn_tensor *loss, clnn_tensor *dinput)
{
    return pointwise(ctx, input, target, reduction, loss, dinput, LOSS_MSE, "clnn_mse_loss",
                     "input", "dinput");
}

clnn_status clnn_bce_with_logits_loss(clnn_context *ctx, const clnn_tensor *logits,
                                      const clnn_tensor *target, clnn_reduction reduction,
                                      clnn_tensor *loss, clnn_tensor *dlogits)
{
    return pointwise(ctx, logits, target, reduction, loss, dlogits, LOSS_BCE,
                     "clnn_bce_with_logits_loss", "logits", "dlogits");
}

/* ---- cross-entropy ---------------------------------------------------------------------------- */

clnn_status clnn_cross_entropy_options_init(clnn_cross_entropy_options *options)
{
    if (!options)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_cross_entropy_options_init: options is NULL");
    options->reduction = CLNN_REDUCTION_MEAN;
    options->label_smoothing = 0.0f;
    options->ignore_index = -100;
    return CLNN_SUCCESS;
}

/* labels is an int32 tensor of this context holding exactly n labels. */
static clnn_status check_labels_tensor(clnn_context *ctx, const clnn_tensor *labels, size_t n,
                                       const char *fn)
{
    clnn_status status = clnn_check_int32_tensor(ctx, labels, "labels");
    if (status != CLNN_SUCCESS)
        return clnn_error(ctx, status, "%s: %s", fn, clnn_context_last_error(ctx));
    if (labels->count != n)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "%s: labels holds %zu labels for %zu rows", fn, labels->count, n);
    return CLNN_SUCCESS;
}

/* Queues the label check into info (3 ints). */
static clnn_status queue_label_check(clnn_context *ctx, cl_kernel k, cl_mem labels, size_t n,
                                     size_t C, int ignore_index, cl_mem info)
{
    size_t L = clnn_single_group_size(ctx, k, n);
    cl_uint N = (cl_uint)n;
    cl_int Ci = (cl_int)C, ig = ignore_index;
    return clnn_run_kernel(ctx, k, "ce_check_labels", 1, &L, &L,
                           CLNN_ARGS(CLNN_ARG(labels), CLNN_ARG(N), CLNN_ARG(Ci), CLNN_ARG(ig),
                                     CLNN_ARG(info), CLNN_LOCAL_ARG(2 * L * sizeof(cl_int))));
}

static clnn_status read_label_check(clnn_context *ctx, cl_mem info, size_t n, size_t C,
                                    const char *fn)
{
    cl_int h[3];
    CLNN_CL_CHECK(ctx, clEnqueueReadBuffer(ctx->queue, info, CL_TRUE, 0, sizeof h, h, 0, NULL, NULL),
                  "clEnqueueReadBuffer (label check)");
    if ((size_t)h[1] < n)
        return clnn_error(ctx, CLNN_ERR_OUT_OF_RANGE,
                          "%s: labels[%d] is %d; class labels must be in [0, %zu) or equal "
                          "ignore_index", fn, h[1], h[2], C);
    return CLNN_SUCCESS;
}

clnn_status clnn_cross_entropy_check_labels(clnn_context *ctx, const clnn_tensor *labels,
                                            size_t num_classes, int ignore_index)
{
    static const char *fn = "clnn_cross_entropy_check_labels";
    clnn_status status = clnn_check_context(ctx, fn);
    if (status != CLNN_SUCCESS)
        return status;
    size_t n = labels ? labels->count : 0;
    if ((status = check_labels_tensor(ctx, labels, n, fn)) != CLNN_SUCCESS)
        return status;
    if (n == 0 || n > CLNN_MAX_ELEMENTS || num_classes == 0 || num_classes > 0x7fffffff)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "%s: n is %zu and num_classes %zu; both must be 1 to 2^31 - 1", fn, n,
                          num_classes);
    cl_kernel k;
    cl_mem info;
    if ((status = clnn_get_kernel(ctx, "loss.cl", NULL, "ce_check_labels", &k)) != CLNN_SUCCESS ||
        (status = scratch_buffer(ctx, CLNN_SCRATCH_INFO, 3 * sizeof(cl_int), &info)) != CLNN_SUCCESS)
        return status;
    status = queue_label_check(ctx, k, labels->buffer, n, num_classes, ignore_index, info);
    if (status == CLNN_SUCCESS)
        status = read_label_check(ctx, info, n, num_classes, fn);
    return status;
}

/* The shared body of clnn_cross_entropy and clnn_cross_entropy_host. */
static clnn_status cross_entropy(clnn_context *ctx, const clnn_tensor *logits,
                                 const clnn_tensor *label_tensor,
                                 const clnn_cross_entropy_options *options, clnn_tensor *loss,
                                 float *host_loss, clnn_tensor *dlogits, const char *fn)
{
    clnn_status status = clnn_check_context(ctx, fn);
    if (status != CLNN_SUCCESS || (status = check_rows(ctx, logits, "logits", fn)) != CLNN_SUCCESS)
        return status;
    clnn_cross_entropy_options opt;
    clnn_cross_entropy_options_init(&opt);
    if (options)
        opt = *options;
    size_t N = logits->dims[0], C = logits->dims[1];
    if ((status = check_labels_tensor(ctx, label_tensor, N, fn)) != CLNN_SUCCESS)
        return status;
    cl_mem labels = label_tensor->buffer;
    if (opt.reduction != CLNN_REDUCTION_MEAN && opt.reduction != CLNN_REDUCTION_SUM)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: options->reduction is %s; cross-entropy reduces by mean or sum", fn,
                          clnn_reduction_name(opt.reduction));
    if (!(opt.label_smoothing >= 0.0f && opt.label_smoothing <= 1.0f))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: options->label_smoothing is %g; it must be in [0, 1]", fn,
                          (double)opt.label_smoothing);
    if (C > 0x7fffffff)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE, "%s: logits has more than 2^31 - 1 classes",
                          fn);
    if (loss) {
        if ((status = clnn_check_tensor(ctx, loss, "loss")) != CLNN_SUCCESS)
            return status;
        if (loss->count != 1)
            return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                              "%s: loss holds %zu elements; it must hold 1", fn, loss->count);
    }
    if (dlogits) {
        if ((status = check_same(ctx, dlogits, "dlogits", logits, "logits")) != CLNN_SUCCESS)
            return status;
        if (dlogits == logits)
            return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                              "%s: dlogits must not be logits (each row is read after it is written)",
                              fn);
        if (loss == dlogits)
            return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: loss must not be dlogits", fn);
    }
    cl_kernel k_check, k_rows, k_finish;
    if ((status = clnn_get_kernel(ctx, "loss.cl", NULL, "ce_check_labels", &k_check)) != CLNN_SUCCESS ||
        (status = clnn_get_kernel(ctx, "loss.cl", NULL, clnn_cpu_forms(ctx) ? "ce_rows_cpu" : "ce_rows",
                                  &k_rows)) != CLNN_SUCCESS ||
        (status = clnn_get_kernel(ctx, "loss.cl", NULL, "ce_finish", &k_finish)) != CLNN_SUCCESS)
        return status;
    /* Three scratch slots live at once: the label check's status words, the per-row losses and
     * (host variant) the loss the host reads back. */
    cl_mem info, rows, out = NULL;
    if ((status = scratch_buffer(ctx, CLNN_SCRATCH_INFO, 3 * sizeof(cl_int), &info)) != CLNN_SUCCESS ||
        (status = scratch_buffer(ctx, CLNN_SCRATCH_PARTIALS, N * sizeof(float), &rows)) != CLNN_SUCCESS ||
        (host_loss && (status = scratch_buffer(ctx, CLNN_SCRATCH_RESULT, sizeof(float), &out)) !=
                          CLNN_SUCCESS))
        return status;
    status = queue_label_check(ctx, k_check, labels, N, C, opt.ignore_index, info);
    /* The host variant checks the labels before anything of the caller's is written. */
    if (status == CLNN_SUCCESS && host_loss)
        status = read_label_check(ctx, info, N, C, fn);
    if (status == CLNN_SUCCESS) {
        cl_uint Cu = (cl_uint)C, flags = (dlogits ? 1u : 0u) |
                                         (opt.reduction == CLNN_REDUCTION_MEAN ? 2u : 0u);
        cl_int ig = opt.ignore_index;
        cl_float eps = opt.label_smoothing;
        cl_mem dl = dlogits ? dlogits->buffer : rows; /* never written without flag 1 */
        if (clnn_cpu_forms(ctx)) {
            size_t per;
            size_t items = clnn_split_rows(ctx, N, LOSS_CPU_ITEMS_PER_CU, 0, &per);
            cl_uint Nu = (cl_uint)N, per_u = (cl_uint)per;
            status = clnn_run_kernel_single(ctx, k_rows, "ce_rows_cpu", items,
                                  CLNN_ARGS(CLNN_ARG(logits->buffer), CLNN_ARG(labels),
                                            CLNN_ARG(info), CLNN_ARG(dl), CLNN_ARG(rows),
                                            CLNN_ARG(Cu), CLNN_ARG(ig), CLNN_ARG(eps),
                                            CLNN_ARG(flags), CLNN_ARG(Nu), CLNN_ARG(per_u)));
        } else {
            clnn_kernel_arg args[] = {CLNN_ARG(logits->buffer), CLNN_ARG(labels), CLNN_ARG(info),
                                      CLNN_ARG(dl), CLNN_ARG(rows), CLNN_ARG(Cu), CLNN_ARG(ig),
                                      CLNN_ARG(eps), CLNN_ARG(flags), CLNN_LOCAL_ARG(0)};
            status = run_rows(ctx, k_rows, "ce_rows", N, C, 4, 10, args);
        }
    }
    cl_mem dest = host_loss ? out : loss ? loss->buffer : NULL;
    if (status == CLNN_SUCCESS && dest) {
        size_t L = clnn_single_group_size(ctx, k_finish, N);
        cl_uint Nu = (cl_uint)N, mean = opt.reduction == CLNN_REDUCTION_MEAN;
        status = clnn_run_kernel(ctx, k_finish, "ce_finish", 1, &L, &L,
                                 CLNN_ARGS(CLNN_ARG(rows), CLNN_ARG(Nu), CLNN_ARG(info),
                                           CLNN_ARG(mean), CLNN_ARG(dest),
                                           CLNN_LOCAL_ARG(L * sizeof(float))));
    }
    if (status == CLNN_SUCCESS && host_loss) {
        float value;
        cl_int err = clEnqueueReadBuffer(ctx->queue, out, CL_TRUE, 0, sizeof value, &value, 0,
                                         NULL, NULL);
        if (err != CL_SUCCESS)
            status = clnn_cl_error(ctx, err, "clEnqueueReadBuffer (cross-entropy loss)");
        else
            *host_loss = value;
    }
    return status;
}

clnn_status clnn_cross_entropy(clnn_context *ctx, const clnn_tensor *logits,
                               const clnn_tensor *labels,
                               const clnn_cross_entropy_options *options, clnn_tensor *loss,
                               clnn_tensor *dlogits)
{
    return cross_entropy(ctx, logits, labels, options, loss, NULL, dlogits, "clnn_cross_entropy");
}

clnn_status clnn_cross_entropy_host(clnn_context *ctx, const clnn_tensor *logits,
                                    const clnn_tensor *labels,
                                    const clnn_cross_entropy_options *options, float *loss,
                                    clnn_tensor *dlogits)
{
    if (ctx && !loss)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "clnn_cross_entropy_host: loss is NULL");
    return cross_entropy(ctx, logits, labels, options, NULL, loss, dlogits,
                         "clnn_cross_entropy_host");
}
