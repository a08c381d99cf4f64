/*
 * The MLP engine: layers built from a spec, a training step (forward, loss, backward, clipping,
 * optimiser), inference, gradient-health diagnostics and checkpoints. Every device buffer is
 * allocated at creation for the largest batch; a smaller batch runs through the same buffers
 * (clnn_tensor_set_rows), so a step allocates nothing.
 *
 * Hidden layer l, for a batch X_l of in_l features:
 *     with batch norm:     a = X_l W^T + b,  h = f(batch_norm(a))   (one fused pass after the GEMM)
 *     without:             z = X_l W^T + b,  h = f(z)               (bias and f fused likewise)
 *     d = dropout(h)                         (only when p > 0)
 * h is the layer's output before dropout.
 * The output layer is dense only; its outputs are the logits (or values for MSE).
 */
#include "gemm.h"
#include "internal.h"
#include "serialize.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct mlp_layer {
    size_t in, out;
    int hidden;                     /* 0 for the output layer */
    clnn_activation_desc activation;
    int batch_norm;
    float dropout;
    uint64_t dropout_seed;

    clnn_tensor *w, *b, *dw, *db;   /* parameters and gradients */
    clnn_tensor *gamma, *beta, *dgamma, *dbeta, *running_mean, *running_var, *save_mean,
        *save_invstd;               /* batch norm */
    clnn_tensor *a, *z, *h, *d;     /* activations (batch x out) */
    clnn_tensor *g_out, *g_z, *g_a; /* gradients of d (or h), z, a */
    clnn_tensor *w_before, *w_diff; /* health: the weights before a step */
    /* host copies for the health statistics (out floats each) */
    float *column_mean, *column_m2, *column_nonzero;
    clnn_tensor *stats_mean, *stats_m2, *stats_nonzero;
} mlp_layer;

struct clnn_mlp {
    clnn_context *ctx;
    clnn_mlp_spec spec;
    clnn_mlp_train_options train;
    size_t max_batch, batch;
    size_t layer_count; /* hidden + 1 */
    mlp_layer *layers;
    clnn_tensor *x;       /* batch x inputs */
    clnn_tensor *targets; /* MSE: batch x outputs */
    cl_mem labels;        /* cross-entropy: max_batch int32 */
    clnn_tensor *loss;    /* 1 element on the device */
    clnn_tensor **params, **grads;
    size_t param_count;
    clnn_optimizer *optimizer;
    uint64_t step;        /* training steps run, skipped ones included (dropout masks) */
    float *host_outputs;  /* max_batch x outputs */
};

static const char *const loss_names[] = {"cross_entropy", "mse"};
_Static_assert(sizeof(loss_names) / sizeof(loss_names[0]) == CLNN_MLP_LOSS_COUNT,
               "loss_names must name every clnn_mlp_loss");

const char *clnn_mlp_loss_name(clnn_mlp_loss loss)
{
    if ((int)loss < 0 || loss >= CLNN_MLP_LOSS_COUNT)
        return "unknown";
    return loss_names[loss];
}

/* A well-mixed 64-bit value of (seed, salt, index): independent streams per layer and purpose. */
static uint64_t derive_seed(uint64_t seed, uint64_t salt, uint64_t index)
{
    uint64_t z = seed ^ (salt * 0x9e3779b97f4a7c15ull) ^ ((index + 1) * 0xd1b54a32d192ed03ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* ---- specs ------------------------------------------------------------------------------------- */

clnn_status clnn_mlp_spec_init(clnn_mlp_spec *spec, size_t inputs, size_t outputs)
{
    if (!spec)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_mlp_spec_init: spec is NULL");
    if (inputs == 0 || outputs == 0)
        return clnn_error(NULL, CLNN_ERR_INVALID_SHAPE,
                          "clnn_mlp_spec_init: inputs (%zu) and outputs (%zu) must be at least 1",
                          inputs, outputs);
    if (inputs > CLNN_MAX_ELEMENTS || outputs > CLNN_MAX_ELEMENTS)
        return clnn_error(NULL, CLNN_ERR_SIZE_OVERFLOW,
                          "clnn_mlp_spec_init: inputs (%zu) and outputs (%zu) must be at most %zu",
                          inputs, outputs, CLNN_MAX_ELEMENTS);
    clnn_init_params weight_init;
    clnn_status status = clnn_init_params_default(CLNN_INIT_KAIMING_NORMAL, &weight_init);
    if (status != CLNN_SUCCESS)
        return status;
    memset(spec, 0, sizeof *spec);
    spec->inputs = inputs;
    spec->outputs = outputs;
    spec->loss = CLNN_MLP_LOSS_CROSS_ENTROPY;
    spec->weight_init = weight_init;
    spec->weight_init.nonlinearity = CLNN_NONLINEARITY_RELU;
    spec->batch_norm_momentum = 0.1f;
    spec->batch_norm_eps = 1e-5f;
    return CLNN_SUCCESS;
}

clnn_status clnn_mlp_spec_add_layer(clnn_mlp_spec *spec, size_t width, clnn_activation activation,
                                    int batch_norm, float dropout)
{
    if (!spec)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_mlp_spec_add_layer: spec is NULL");
    if (spec->hidden_count >= CLNN_MLP_MAX_HIDDEN)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "the spec already holds %d hidden layers, the most it can",
                          CLNN_MLP_MAX_HIDDEN);
    if (width == 0)
        return clnn_error(NULL, CLNN_ERR_INVALID_SHAPE, "clnn_mlp_spec_add_layer: width is 0");
    if (width > CLNN_MAX_ELEMENTS)
        return clnn_error(NULL, CLNN_ERR_SIZE_OVERFLOW,
                          "clnn_mlp_spec_add_layer: width %zu is above %zu", width,
                          CLNN_MAX_ELEMENTS);
    if (!(dropout >= 0.0f && dropout < 1.0f))
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_mlp_spec_add_layer: dropout is %g; it must be in [0, 1)",
                          (double)dropout);
    clnn_mlp_layer_spec layer;
    memset(&layer, 0, sizeof layer);
    clnn_status status = clnn_activation_desc_init(&layer.activation, activation);
    if (status != CLNN_SUCCESS)
        return status;
    layer.width = width;
    layer.batch_norm = batch_norm != 0;
    layer.dropout = dropout;
    spec->hidden[spec->hidden_count++] = layer;
    return CLNN_SUCCESS;
}

static clnn_status check_spec(clnn_context *ctx, const clnn_mlp_spec *spec)
{
    if (spec->inputs == 0 || spec->outputs == 0)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE, "spec: inputs (%zu) and outputs (%zu) must "
                          "be at least 1", spec->inputs, spec->outputs);
    if (spec->hidden_count > CLNN_MLP_MAX_HIDDEN)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "spec: hidden_count is %zu; at most %d",
                          spec->hidden_count, CLNN_MLP_MAX_HIDDEN);
    if ((int)spec->loss < 0 || spec->loss >= CLNN_MLP_LOSS_COUNT)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "spec: unknown loss %d", (int)spec->loss);
    if (!(spec->batch_norm_momentum >= 0.0f && spec->batch_norm_momentum <= 1.0f))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "spec: batch_norm_momentum is %g; it must be in [0, 1]",
                          (double)spec->batch_norm_momentum);
    if (!(spec->batch_norm_eps > 0.0f) || !isfinite(spec->batch_norm_eps))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "spec: batch_norm_eps is %g; it must be positive and finite",
                          (double)spec->batch_norm_eps);
    for (size_t l = 0; l < spec->hidden_count; ++l) {
        const clnn_mlp_layer_spec *layer = &spec->hidden[l];
        if (layer->width == 0)
            return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE, "spec: hidden layer %zu has width 0",
                              l);
        if (!(layer->dropout >= 0.0f && layer->dropout < 1.0f))
            return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                              "spec: hidden layer %zu has dropout %g; it must be in [0, 1)", l,
                              (double)layer->dropout);
        clnn_status status = clnn_activation_desc_check(&layer->activation);
        if (status != CLNN_SUCCESS)
            return clnn_error(ctx, status, "spec: hidden layer %zu: %s", l,
                              clnn_context_last_error(NULL));
    }
    return CLNN_SUCCESS;
}

/* 1 when a * b is at most CLNN_MAX_ELEMENTS (then any product with sizeof(float) fits too). */
static int product_fits(size_t a, size_t b)
{
    return a <= CLNN_MAX_ELEMENTS && b <= CLNN_MAX_ELEMENTS &&
           (a == 0 || b <= CLNN_MAX_ELEMENTS / a);
}

/* Every size the model allocates from: the weights (out x in) and the batch-sized activations
 * (max_batch x width) of each layer, the input batch and the outputs. Checked before anything
 * is allocated, so no size product below can wrap. */
static clnn_status check_sizes(clnn_context *ctx, const clnn_mlp_spec *spec, size_t max_batch)
{
    if (!product_fits(max_batch, spec->inputs))
        return clnn_error(ctx, CLNN_ERR_SIZE_OVERFLOW,
                          "clnn_mlp_create: inputs (%zu) x max_batch (%zu) is above %zu elements",
                          spec->inputs, max_batch, CLNN_MAX_ELEMENTS);
    size_t in = spec->inputs;
    for (size_t l = 0; l <= spec->hidden_count; ++l) {
        int hidden = l < spec->hidden_count;
        size_t out = hidden ? spec->hidden[l].width : spec->outputs;
        if (!product_fits(out, in) || !product_fits(max_batch, out)) {
            char layer[48];
            if (hidden)
                snprintf(layer, sizeof layer, "hidden layer %zu (width %zu)", l, out);
            else
                snprintf(layer, sizeof layer, "the output layer (outputs %zu)", out);
            return clnn_error(ctx, CLNN_ERR_SIZE_OVERFLOW,
                              "clnn_mlp_create: %s: its %zu x %zu weights or max_batch (%zu) x "
                              "%zu activations are above %zu elements",
                              layer, out, in, max_batch, out, CLNN_MAX_ELEMENTS);
        }
        in = out;
    }
    return CLNN_SUCCESS;
}

clnn_status clnn_mlp_train_options_init(clnn_mlp_train_options *options)
{
    if (!options)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_mlp_train_options_init: options is NULL");
    memset(options, 0, sizeof *options);
    options->skip_non_finite = 1;
    return clnn_optimizer_options_init(&options->optimizer, CLNN_OPTIMIZER_ADAM);
}

clnn_status clnn_mlp_health_options_init(clnn_mlp_health_options *options)
{
    if (!options)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_mlp_health_options_init: options is NULL");
    options->vanishing_ratio = 1e-3f;
    options->exploding_norm = 1e3f;
    return CLNN_SUCCESS;
}

/* ---- creation ---------------------------------------------------------------------------------- */

static void destroy_layer(mlp_layer *layer)
{
    clnn_tensor **tensors[] = {
        &layer->w,     &layer->b,         &layer->dw,           &layer->db,
        &layer->gamma, &layer->beta,      &layer->dgamma,       &layer->dbeta,
        &layer->running_mean, &layer->running_var, &layer->save_mean, &layer->save_invstd,
        &layer->a,     &layer->z,         &layer->h,            &layer->d,
        &layer->g_out, &layer->g_z,       &layer->g_a,          &layer->w_before,
        &layer->w_diff, &layer->stats_mean, &layer->stats_m2,   &layer->stats_nonzero,
    };
    for (size_t i = 0; i < sizeof tensors / sizeof tensors[0]; ++i) {
        clnn_tensor_destroy(*tensors[i]);
        *tensors[i] = NULL;
    }
    free(layer->column_mean);
    free(layer->column_m2);
    free(layer->column_nonzero);
}

clnn_status clnn_mlp_destroy(clnn_mlp *mlp)
{
    if (!mlp)
        return CLNN_SUCCESS;
    clnn_context_finish(mlp->ctx);
    for (size_t l = 0; mlp->layers && l < mlp->layer_count; ++l)
        destroy_layer(&mlp->layers[l]);
    free(mlp->layers);
    clnn_optimizer_destroy(mlp->optimizer);
    clnn_tensor_destroy(mlp->x);
    clnn_tensor_destroy(mlp->targets);
    clnn_tensor_destroy(mlp->loss);
    if (mlp->labels)
        clReleaseMemObject(mlp->labels);
    free(mlp->params);
    free(mlp->grads);
    free(mlp->host_outputs);
    free(mlp);
    return CLNN_SUCCESS;
}

/* Creates a tensor of 1 or 2 dimensions (rows == 0: 1-D of cols). */
static clnn_status make(clnn_context *ctx, size_t rows, size_t cols, clnn_tensor **t)
{
    size_t dims[2] = {rows, cols};
    if (rows == 0)
        return clnn_tensor_create(ctx, 1, &cols, t);
    return clnn_tensor_create(ctx, 2, dims, t);
}

static clnn_status create_layer(clnn_mlp *mlp, size_t index, size_t in, size_t out)
{
    clnn_context *ctx = mlp->ctx;
    mlp_layer *layer = &mlp->layers[index];
    const size_t batch = mlp->max_batch;
    layer->in = in;
    layer->out = out;
    layer->hidden = index < mlp->spec.hidden_count;
    if (layer->hidden) {
        const clnn_mlp_layer_spec *s = &mlp->spec.hidden[index];
        layer->activation = s->activation;
        layer->batch_norm = s->batch_norm;
        layer->dropout = s->dropout;
        layer->dropout_seed = derive_seed(mlp->spec.seed, 2, index);
    }
    clnn_status status = CLNN_SUCCESS;
#define MAKE(rows, cols, field)                                                                    \
    do {                                                                                           \
        if (status == CLNN_SUCCESS)                                                                \
            status = make(ctx, (rows), (cols), &layer->field);                                     \
    } while (0)
    MAKE(out, in, w);
    MAKE(0, out, b);
    MAKE(out, in, dw);
    MAKE(0, out, db);
    MAKE(out, in, w_before);
    MAKE(out, in, w_diff);
    if (!(layer->hidden && layer->batch_norm)) {
        MAKE(batch, out, z); /* hidden: activation input; output layer: the outputs */
        MAKE(batch, out, g_z);
    }
    if (layer->hidden) {
        MAKE(batch, out, h);
        MAKE(batch, out, g_out);
        MAKE(0, out, stats_mean);
        MAKE(0, out, stats_m2);
        MAKE(0, out, stats_nonzero);
        if (layer->dropout > 0.0f)
            MAKE(batch, out, d);
        if (layer->batch_norm) {
            MAKE(batch, out, a);
            MAKE(batch, out, g_a);
            MAKE(0, out, gamma);
            MAKE(0, out, beta);
            MAKE(0, out, dgamma);
            MAKE(0, out, dbeta);
            MAKE(0, out, running_mean);
            MAKE(0, out, running_var);
            MAKE(0, out, save_mean);
            MAKE(0, out, save_invstd);
        }
        layer->column_mean = malloc(out * sizeof(float));
        layer->column_m2 = malloc(out * sizeof(float));
        layer->column_nonzero = malloc(out * sizeof(float));
        if (status == CLNN_SUCCESS &&
            (!layer->column_mean || !layer->column_m2 || !layer->column_nonzero))
            status = clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory creating the MLP");
    }
#undef MAKE
    if (status != CLNN_SUCCESS)
        return status;

    /* Initial values: weights from the scheme with this layer's stream, biases 0, batch norm
     * gamma 1 and beta 0, running mean 0 and variance 1 (as PyTorch). */
    clnn_init_params init = mlp->spec.weight_init;
    init.seed = derive_seed(mlp->spec.seed, 1, index);
    status = clnn_init(layer->w, &init);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_fill(layer->b, 0.0f);
    if (status == CLNN_SUCCESS && layer->batch_norm) {
        status = clnn_tensor_fill(layer->gamma, 1.0f);
        if (status == CLNN_SUCCESS)
            status = clnn_tensor_fill(layer->beta, 0.0f);
        if (status == CLNN_SUCCESS)
            status = clnn_tensor_fill(layer->running_mean, 0.0f);
        if (status == CLNN_SUCCESS)
            status = clnn_tensor_fill(layer->running_var, 1.0f);
    }
    return status;
}

clnn_status clnn_mlp_create(clnn_context *ctx, const clnn_mlp_spec *spec,
                            const clnn_mlp_train_options *train, size_t max_batch,
                            clnn_mlp **out)
{
    clnn_status status = clnn_check_context(ctx, "clnn_mlp_create");
    if (status != CLNN_SUCCESS)
        return status;
    if (!spec || !out)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "clnn_mlp_create: %s is NULL",
                          spec ? "mlp" : "spec");
    status = check_spec(ctx, spec);
    if (status != CLNN_SUCCESS)
        return status;
    if (max_batch == 0 || max_batch > CLNN_MAX_ELEMENTS)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_mlp_create: max_batch is %zu; it must be at least 1", max_batch);
    status = check_sizes(ctx, spec, max_batch);
    if (status != CLNN_SUCCESS)
        return status;
    if (train && !(train->clip_norm >= 0.0f))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "train options: clip_norm is %g; it must be >= 0 (0: no clipping)",
                          (double)train->clip_norm);

    clnn_mlp *mlp = calloc(1, sizeof *mlp);
    if (!mlp)
        return clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory creating the MLP");
    mlp->ctx = ctx;
    mlp->spec = *spec;
    if (train)
        mlp->train = *train;
    else
        clnn_mlp_train_options_init(&mlp->train);
    mlp->max_batch = mlp->batch = max_batch;
    mlp->layer_count = spec->hidden_count + 1;
    mlp->layers = calloc(mlp->layer_count, sizeof *mlp->layers);
    mlp->params = calloc(4 * mlp->layer_count, sizeof *mlp->params);
    mlp->grads = calloc(4 * mlp->layer_count, sizeof *mlp->grads);
    mlp->host_outputs = malloc(max_batch * spec->outputs * sizeof(float));
    if (!mlp->layers || !mlp->params || !mlp->grads || !mlp->host_outputs) {
        clnn_mlp_destroy(mlp);
        return clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory creating the MLP");
    }

    size_t in = spec->inputs;
    for (size_t l = 0; status == CLNN_SUCCESS && l < mlp->layer_count; ++l) {
        size_t width = l < spec->hidden_count ? spec->hidden[l].width : spec->outputs;
        status = create_layer(mlp, l, in, width);
        /* what the layer's forward product needs beyond its tensors, allocated now rather than
         * in the first training step */
        if (status == CLNN_SUCCESS)
            status = clnn_gemm_prepare(ctx, 0, 1, max_batch, width, in);
        in = width;
    }
    if (status == CLNN_SUCCESS)
        status = make(ctx, max_batch, spec->inputs, &mlp->x);
    if (status == CLNN_SUCCESS)
        status = make(ctx, 0, 1, &mlp->loss);
    if (status == CLNN_SUCCESS && spec->loss == CLNN_MLP_LOSS_MSE)
        status = make(ctx, max_batch, spec->outputs, &mlp->targets);
    if (status == CLNN_SUCCESS && spec->loss == CLNN_MLP_LOSS_CROSS_ENTROPY) {
        cl_int err;
        mlp->labels = clCreateBuffer(ctx->cl_ctx, CL_MEM_READ_ONLY, max_batch * sizeof(cl_int),
                                     NULL, &err);
        if (err != CL_SUCCESS) {
            mlp->labels = NULL;
            status = clnn_cl_error(ctx, err, "clCreateBuffer(labels)");
        }
    }
    /* Parameters in a fixed order (checkpoints rely on it): per layer W, b, [gamma, beta]. */
    for (size_t l = 0; status == CLNN_SUCCESS && l < mlp->layer_count; ++l) {
        mlp_layer *layer = &mlp->layers[l];
        mlp->params[mlp->param_count] = layer->w;
        mlp->grads[mlp->param_count++] = layer->dw;
        mlp->params[mlp->param_count] = layer->b;
        mlp->grads[mlp->param_count++] = layer->db;
        if (layer->batch_norm) {
            mlp->params[mlp->param_count] = layer->gamma;
            mlp->grads[mlp->param_count++] = layer->dgamma;
            mlp->params[mlp->param_count] = layer->beta;
            mlp->grads[mlp->param_count++] = layer->dbeta;
        }
    }
    if (status == CLNN_SUCCESS)
        status = clnn_optimizer_create(ctx, &mlp->train.optimizer, mlp->params, mlp->param_count,
                                       &mlp->optimizer);
    if (status != CLNN_SUCCESS) {
        clnn_mlp_destroy(mlp);
        return status;
    }
    *out = mlp;
    return CLNN_SUCCESS;
}

clnn_status clnn_mlp_get_spec(const clnn_mlp *mlp, clnn_mlp_spec *spec)
{
    if (!mlp || !spec)
        return clnn_error(mlp ? mlp->ctx : NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_mlp_get_spec: %s is NULL", mlp ? "spec" : "mlp");
    *spec = mlp->spec;
    return CLNN_SUCCESS;
}

clnn_status clnn_mlp_parameter_count(const clnn_mlp *mlp, size_t *count)
{
    if (!mlp || !count)
        return clnn_error(mlp ? mlp->ctx : NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_mlp_parameter_count: %s is NULL", mlp ? "count" : "mlp");
    size_t n = 0;
    for (size_t i = 0; i < mlp->param_count; ++i)
        n += mlp->params[i]->count;
    *count = n;
    return CLNN_SUCCESS;
}

clnn_status clnn_mlp_get_step(const clnn_mlp *mlp, uint64_t *step)
{
    if (!mlp || !step)
        return clnn_error(mlp ? mlp->ctx : NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_mlp_get_step: %s is NULL", mlp ? "step" : "mlp");
    *step = mlp->step;
    return CLNN_SUCCESS;
}

clnn_status clnn_mlp_set_lr(clnn_mlp *mlp, double lr)
{
    if (!mlp)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_mlp_set_lr: mlp is NULL");
    return clnn_optimizer_set_lr(mlp->optimizer, lr);
}

clnn_status clnn_mlp_get_parameters(const clnn_mlp *mlp, clnn_tensor **params,
                                    clnn_tensor **grads, size_t capacity, size_t *count)
{
    if (!mlp || !count)
        return clnn_error(mlp ? mlp->ctx : NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_mlp_get_parameters: %s is NULL", mlp ? "count" : "mlp");
    *count = mlp->param_count;
    if ((params || grads) && capacity < mlp->param_count)
        return clnn_error(mlp->ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_mlp_get_parameters: capacity %zu is below the %zu tensors",
                          capacity, mlp->param_count);
    for (size_t i = 0; i < mlp->param_count; ++i) {
        if (params)
            params[i] = mlp->params[i];
        if (grads)
            grads[i] = mlp->grads[i];
    }
    return CLNN_SUCCESS;
}

/* ---- forward, backward, step ------------------------------------------------------------------ */

/* Points every batch-sized tensor at the first `batch` rows of its buffer. */
static clnn_status set_batch(clnn_mlp *mlp, size_t batch)
{
    if (batch == mlp->batch)
        return CLNN_SUCCESS;
    clnn_status status = clnn_tensor_set_rows(mlp->x, batch);
    if (status == CLNN_SUCCESS && mlp->targets)
        status = clnn_tensor_set_rows(mlp->targets, batch);
    for (size_t l = 0; status == CLNN_SUCCESS && l < mlp->layer_count; ++l) {
        mlp_layer *layer = &mlp->layers[l];
        clnn_tensor *rows[] = {layer->a, layer->z, layer->h, layer->d, layer->g_out, layer->g_z,
                               layer->g_a};
        for (size_t i = 0; status == CLNN_SUCCESS && i < sizeof rows / sizeof rows[0]; ++i)
            if (rows[i])
                status = clnn_tensor_set_rows(rows[i], batch);
    }
    if (status == CLNN_SUCCESS)
        mlp->batch = batch;
    return status;
}

/* Checks a batch's arguments and uploads x and the labels or targets. */
static clnn_status load_batch(clnn_mlp *mlp, const float *x, const void *y, size_t batch,
                              int training, const char *function)
{
    clnn_context *ctx = mlp->ctx;
    if (!x)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: x is NULL", function);
    if (batch == 0 || batch > mlp->max_batch)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "%s: batch is %zu; it must be 1 to %zu (the model's max_batch)",
                          function, batch, mlp->max_batch);
    if (training && batch < 2) {
        for (size_t l = 0; l < mlp->spec.hidden_count; ++l)
            if (mlp->layers[l].batch_norm)
                return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                                  "%s: batch norm needs at least 2 samples to train; batch is 1",
                                  function);
    }
    if (y && mlp->spec.loss == CLNN_MLP_LOSS_CROSS_ENTROPY) {
        const int32_t *labels = y;
        for (size_t i = 0; i < batch; ++i)
            if (labels[i] < 0 || (size_t)labels[i] >= mlp->spec.outputs)
                return clnn_error(ctx, CLNN_ERR_OUT_OF_RANGE,
                                  "%s: label %d of sample %zu is outside [0, %zu)", function,
                                  (int)labels[i], i, mlp->spec.outputs);
    }
    clnn_status status = set_batch(mlp, batch);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_upload(mlp->x, x, batch * mlp->spec.inputs);
    if (status == CLNN_SUCCESS && y) {
        if (mlp->spec.loss == CLNN_MLP_LOSS_CROSS_ENTROPY)
            CLNN_CL_CHECK(ctx,
                          clEnqueueWriteBuffer(ctx->queue, mlp->labels, CL_TRUE, 0,
                                               batch * sizeof(cl_int), y, 0, NULL, NULL),
                          "uploading labels");
        else
            status = clnn_tensor_upload(mlp->targets, y, batch * mlp->spec.outputs);
    }
    return status;
}

/* The input of layer l: the batch, or the previous layer's output (after dropout). */
static clnn_tensor *layer_input(clnn_mlp *mlp, size_t l)
{
    if (l == 0)
        return mlp->x;
    mlp_layer *previous = &mlp->layers[l - 1];
    return previous->d ? previous->d : previous->h;
}

/* training: batch statistics and dropout; update_running: move batch norm's running statistics
 * (training steps do, health probes do not). */
static clnn_status forward(clnn_mlp *mlp, int training, int update_running)
{
    clnn_context *ctx = mlp->ctx;
    clnn_status status = CLNN_SUCCESS;
    for (size_t l = 0; status == CLNN_SUCCESS && l < mlp->layer_count; ++l) {
        mlp_layer *layer = &mlp->layers[l];
        clnn_tensor *in = layer_input(mlp, l);
        if (!layer->hidden) {
            status = clnn_dense_forward(ctx, in, layer->w, layer->b, layer->z);
            break;
        }
        if (layer->batch_norm) {
            /* a = in W^T + b, then h = f(batch_norm(a)) in one fused pass. */
            status = clnn_dense_forward(ctx, in, layer->w, layer->b, layer->a);
            if (status == CLNN_SUCCESS && training)
                status = clnn_batch_norm_activation_forward_training(
                    ctx, &layer->activation, layer->a, layer->gamma, layer->beta,
                    update_running ? layer->running_mean : NULL,
                    update_running ? layer->running_var : NULL, mlp->spec.batch_norm_momentum,
                    mlp->spec.batch_norm_eps, layer->h, layer->save_mean, layer->save_invstd);
            else if (status == CLNN_SUCCESS)
                status = clnn_batch_norm_activation_forward_inference(
                    ctx, &layer->activation, layer->a, layer->gamma, layer->beta,
                    layer->running_mean, layer->running_var, mlp->spec.batch_norm_eps, layer->h);
        } else {
            /* z = in W^T + b and h = f(z) in one pass after the GEMM. */
            status = clnn_dense_forward(ctx, in, layer->w, NULL, layer->z);
            if (status == CLNN_SUCCESS)
                status = clnn_bias_activation_forward(ctx, &layer->activation, layer->z,
                                                      layer->b, layer->z, layer->h);
        }
        if (status == CLNN_SUCCESS && layer->d)
            status = clnn_dropout_forward(layer->h, layer->d, layer->dropout, training,
                                          layer->dropout_seed, mlp->step);
    }
    return status;
}

/* The loss of the last forward on the device (mlp->loss) and its gradient (output g_z). */
static clnn_status loss_and_gradient(clnn_mlp *mlp)
{
    mlp_layer *output = &mlp->layers[mlp->layer_count - 1];
    if (mlp->spec.loss == CLNN_MLP_LOSS_CROSS_ENTROPY) {
        clnn_cross_entropy_options options;
        clnn_cross_entropy_options_init(&options);
        return clnn_cross_entropy(mlp->ctx, output->z, mlp->labels, &options, mlp->loss,
                                  output->g_z);
    }
    return clnn_mse_loss(mlp->ctx, output->z, mlp->targets, CLNN_REDUCTION_MEAN, mlp->loss,
                         output->g_z);
}

static clnn_status backward(clnn_mlp *mlp)
{
    clnn_context *ctx = mlp->ctx;
    clnn_status status = CLNN_SUCCESS;
    for (size_t l = mlp->layer_count; status == CLNN_SUCCESS && l-- > 0;) {
        mlp_layer *layer = &mlp->layers[l];
        clnn_tensor *g_pre = NULL; /* gradient of the dense layer's output (a, or z without BN) */
        if (!layer->hidden) {
            g_pre = layer->g_z;
        } else {
            clnn_tensor *g_h = layer->g_out;
            if (layer->d) /* in place: g_out becomes the gradient of h */
                status = clnn_dropout_backward(layer->g_out, layer->g_out, layer->dropout, 1,
                                               layer->dropout_seed, mlp->step, 0.0f);
            if (status == CLNN_SUCCESS && layer->batch_norm) {
                /* Through the activation and batch norm in one fused backward. */
                status = clnn_batch_norm_activation_backward(
                    ctx, &layer->activation, layer->a, g_h, layer->gamma, layer->beta,
                    layer->save_mean, layer->save_invstd, layer->g_a, layer->dgamma, layer->dbeta,
                    0.0f);
                g_pre = layer->g_a;
            } else if (status == CLNN_SUCCESS) {
                status = clnn_activation_backward(ctx, &layer->activation, layer->z, g_h, 0.0f,
                                                  layer->g_z);
                g_pre = layer->g_z;
            }
        }
        clnn_tensor *g_in = l > 0 ? mlp->layers[l - 1].g_out : NULL;
        if (status == CLNN_SUCCESS)
            status = clnn_dense_backward(ctx, layer_input(mlp, l), layer->w, g_pre, g_in,
                                         layer->dw, layer->db, 0.0f);
    }
    return status;
}

/* Clipping and the non-finite check; *skip is set when the step must not be applied. */
static clnn_status clip_gradients(clnn_mlp *mlp, float *norm, int *skip)
{
    *norm = NAN;
    *skip = 0;
    if (mlp->train.clip_norm <= 0.0f && !mlp->train.skip_non_finite)
        return CLNN_SUCCESS;
    float max_norm = mlp->train.clip_norm > 0.0f ? mlp->train.clip_norm : INFINITY;
    clnn_status status = clnn_clip_by_global_norm(mlp->grads, mlp->param_count, max_norm,
                                                  CLNN_NORM_L2, norm);
    if (status == CLNN_ERR_NON_FINITE) {
        if (!mlp->train.skip_non_finite)
            return status;
        *skip = 1;
        return CLNN_SUCCESS;
    }
    return status;
}

static clnn_status read_loss(clnn_mlp *mlp, float *loss)
{
    return clnn_tensor_download(mlp->loss, loss, 1);
}

static clnn_status train_step(clnn_mlp *mlp, const float *x, const void *y, size_t batch,
                              clnn_mlp_step_info *info, const char *function)
{
    if (!y)
        return clnn_error(mlp->ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: y is NULL", function);
    clnn_status status = load_batch(mlp, x, y, batch, 1, function);
    if (status == CLNN_SUCCESS)
        status = forward(mlp, 1, 1);
    if (status == CLNN_SUCCESS)
        status = loss_and_gradient(mlp);
    if (status == CLNN_SUCCESS)
        status = backward(mlp);
    float norm = NAN;
    int skip = 0;
    if (status == CLNN_SUCCESS)
        status = clip_gradients(mlp, &norm, &skip);
    if (status == CLNN_SUCCESS && !skip)
        status = clnn_optimizer_step(mlp->optimizer, mlp->grads, mlp->param_count);
    if (status != CLNN_SUCCESS)
        return status;
    mlp->step++;
    if (info) {
        info->grad_norm = norm;
        info->skipped = skip;
        status = read_loss(mlp, &info->loss);
    }
    return status;
}

clnn_status clnn_mlp_train_step(clnn_mlp *mlp, const float *x, const void *y, size_t batch,
                                clnn_mlp_step_info *info)
{
    if (!mlp)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_mlp_train_step: mlp is NULL");
    return train_step(mlp, x, y, batch, info, "clnn_mlp_train_step");
}

/* Runs inference and copies the outputs of the batch to mlp->host_outputs. */
static clnn_status infer(clnn_mlp *mlp, const float *x, const void *y, size_t batch,
                         const char *function)
{
    clnn_status status = load_batch(mlp, x, y, batch, 0, function);
    if (status == CLNN_SUCCESS)
        status = forward(mlp, 0, 0);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_download(mlp->layers[mlp->layer_count - 1].z, mlp->host_outputs,
                                      batch * mlp->spec.outputs);
    return status;
}

clnn_status clnn_mlp_evaluate(clnn_mlp *mlp, const float *x, const void *y, size_t batch,
                              double *loss_sum, size_t *correct)
{
    if (!mlp)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_mlp_evaluate: mlp is NULL");
    if (!y)
        return clnn_error(mlp->ctx, CLNN_ERR_INVALID_ARGUMENT, "clnn_mlp_evaluate: y is NULL");
    clnn_status status = infer(mlp, x, y, batch, "clnn_mlp_evaluate");
    if (status != CLNN_SUCCESS)
        return status;
    /* The summed loss and the arg-max in double precision on the host: the outputs are small. */
    const size_t c = mlp->spec.outputs;
    double total = 0.0;
    size_t right = 0;
    for (size_t i = 0; i < batch; ++i) {
        const float *row = mlp->host_outputs + i * c;
        if (mlp->spec.loss == CLNN_MLP_LOSS_CROSS_ENTROPY) {
            int32_t label = ((const int32_t *)y)[i];
            size_t best = 0;
            double max = row[0];
            for (size_t j = 1; j < c; ++j)
                if (row[j] > max || isnan(max)) {
                    max = row[j];
                    best = j;
                }
            double sum = 0.0;
            for (size_t j = 0; j < c; ++j)
                sum += exp((double)row[j] - max);
            total += log(sum) + max - (double)row[label];
            right += best == (size_t)label;
        } else {
            const float *target = (const float *)y + i * c;
            for (size_t j = 0; j < c; ++j) {
                double e = (double)row[j] - (double)target[j];
                total += e * e / (double)c;
            }
        }
    }
    if (loss_sum)
        *loss_sum = total;
    if (correct)
        *correct = right;
    return CLNN_SUCCESS;
}

clnn_status clnn_mlp_predict(clnn_mlp *mlp, const float *x, size_t batch, float *outputs)
{
    if (!mlp)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_mlp_predict: mlp is NULL");
    if (!outputs)
        return clnn_error(mlp->ctx, CLNN_ERR_INVALID_ARGUMENT, "clnn_mlp_predict: outputs is NULL");
    clnn_status status = infer(mlp, x, NULL, batch, "clnn_mlp_predict");
    if (status == CLNN_SUCCESS)
        memcpy(outputs, mlp->host_outputs, batch * mlp->spec.outputs * sizeof(float));
    return status;
}

/* ---- gradient-health diagnostics ------------------------------------------------------------- */

static clnn_status tensor_norm(clnn_tensor *t, float *norm)
{
    clnn_tensor *list[1] = {t};
    return clnn_global_norm(list, 1, CLNN_NORM_L2, norm);
}

/* Activation statistics of hidden layer l's output h over the batch, combined from per-column
 * means and squared deviations (Chan et al.'s parallel formula, in double). */
static clnn_status activation_health(clnn_mlp *mlp, mlp_layer *layer, clnn_mlp_layer_health *out)
{
    clnn_context *ctx = mlp->ctx;
    cl_kernel kernel;
    clnn_status status = clnn_get_kernel(ctx, "diag.cl", NULL, "clnn_column_stats", &kernel);
    if (status != CLNN_SUCCESS)
        return status;
    cl_uint rows = (cl_uint)mlp->batch, cols = (cl_uint)layer->out;
    status = clnn_run_kernel_1d(ctx, kernel, "clnn_column_stats", layer->out,
                                CLNN_ARGS(CLNN_ARG(layer->h->buffer), CLNN_ARG(rows),
                                          CLNN_ARG(cols), CLNN_ARG(layer->stats_mean->buffer),
                                          CLNN_ARG(layer->stats_m2->buffer),
                                          CLNN_ARG(layer->stats_nonzero->buffer)));
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_download(layer->stats_mean, layer->column_mean, layer->out);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_download(layer->stats_m2, layer->column_m2, layer->out);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_download(layer->stats_nonzero, layer->column_nonzero, layer->out);
    if (status != CLNN_SUCCESS)
        return status;
    double n = (double)rows, mean = 0.0, m2 = 0.0, count = 0.0;
    size_t dead = 0;
    for (size_t j = 0; j < layer->out; ++j) {
        double column_mean = layer->column_mean[j], delta = column_mean - mean;
        double total = count + n;
        mean += delta * n / total;
        m2 += layer->column_m2[j] + delta * delta * count * n / total;
        count = total;
        dead += layer->column_nonzero[j] == 0.0f;
    }
    out->activation_mean = (float)mean;
    out->activation_std = (float)sqrt(m2 / count);
    out->dead_fraction = (float)dead / (float)layer->out;
    return CLNN_SUCCESS;
}

/* The thresholds must be numbers at or above 0 (exploding_norm may be +Inf: never by size). */
static clnn_status check_health_options(clnn_mlp *mlp, const clnn_mlp_health_options *options,
                                        const char *function)
{
    if (!options)
        return CLNN_SUCCESS;
    if (!(options->vanishing_ratio >= 0.0f) || isinf(options->vanishing_ratio))
        return clnn_error(mlp->ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: options->vanishing_ratio is %g; it must be finite and >= 0",
                          function, (double)options->vanishing_ratio);
    if (!(options->exploding_norm >= 0.0f))
        return clnn_error(mlp->ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s: options->exploding_norm is %g; it must be >= 0", function,
                          (double)options->exploding_norm);
    return CLNN_SUCCESS;
}

/* Health of the last forward/backward; with `stepped`, update ratios from w_before. */
static clnn_status measure_health(clnn_mlp *mlp, const clnn_mlp_health_options *options,
                                  int stepped, clnn_mlp_health *health)
{
    clnn_mlp_health_options defaults;
    if (!options) {
        clnn_mlp_health_options_init(&defaults);
        options = &defaults;
    }
    memset(health, 0, sizeof *health);
    health->layer_count = mlp->layer_count;
    clnn_status status = read_loss(mlp, &health->loss);
    for (size_t l = 0; status == CLNN_SUCCESS && l < mlp->layer_count; ++l) {
        mlp_layer *layer = &mlp->layers[l];
        clnn_mlp_layer_health *h = &health->layers[l];
        if (layer->hidden)
            status = activation_health(mlp, layer, h);
        if (status == CLNN_SUCCESS)
            status = tensor_norm(layer->dw, &h->weight_grad_norm);
        if (status == CLNN_SUCCESS)
            status = tensor_norm(stepped ? layer->w_before : layer->w, &h->weight_norm);
        if (status == CLNN_SUCCESS && stepped) {
            cl_kernel kernel;
            status = clnn_get_kernel(mlp->ctx, "diag.cl", NULL, "clnn_difference", &kernel);
            cl_uint n = (cl_uint)layer->w->count;
            if (status == CLNN_SUCCESS)
                status = clnn_run_kernel_1d(
                    mlp->ctx, kernel, "clnn_difference", (layer->w->count + 3) / 4,
                    CLNN_ARGS(CLNN_ARG(layer->w_diff->buffer), CLNN_ARG(layer->w->buffer),
                              CLNN_ARG(layer->w_before->buffer), CLNN_ARG(n)));
            float update = 0.0f;
            if (status == CLNN_SUCCESS)
                status = tensor_norm(layer->w_diff, &update);
            h->update_ratio = h->weight_norm > 0.0f ? update / h->weight_norm : 0.0f;
        }
        if (status == CLNN_SUCCESS &&
            (!isfinite(h->weight_grad_norm) || h->weight_grad_norm > options->exploding_norm))
            health->exploding = 1;
    }
    if (status != CLNN_SUCCESS)
        return status;
    float first = health->layers[0].weight_grad_norm;
    float last = health->layers[mlp->layer_count - 1].weight_grad_norm;
    health->grad_norm_ratio = last > 0.0f ? first / last : (first > 0.0f ? INFINITY : 1.0f);
    health->vanishing = health->grad_norm_ratio < options->vanishing_ratio;
    return CLNN_SUCCESS;
}

clnn_status clnn_mlp_train_step_health(clnn_mlp *mlp, const float *x, const void *y, size_t batch,
                                       const clnn_mlp_health_options *options,
                                       clnn_mlp_step_info *info, clnn_mlp_health *health)
{
    if (!mlp)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_mlp_train_step_health: mlp is NULL");
    if (!health)
        return clnn_error(mlp->ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_mlp_train_step_health: health is NULL");
    clnn_status status = check_health_options(mlp, options, "clnn_mlp_train_step_health");
    for (size_t l = 0; status == CLNN_SUCCESS && l < mlp->layer_count; ++l)
        status = clnn_tensor_copy(mlp->layers[l].w_before, mlp->layers[l].w);
    clnn_mlp_step_info local;
    if (status == CLNN_SUCCESS)
        status = train_step(mlp, x, y, batch, info ? info : &local, "clnn_mlp_train_step_health");
    if (status == CLNN_SUCCESS)
        status = measure_health(mlp, options, 1, health);
    return status;
}

clnn_status clnn_mlp_probe_health(clnn_mlp *mlp, const float *x, const void *y, size_t batch,
                                  const clnn_mlp_health_options *options, clnn_mlp_health *health)
{
    if (!mlp)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_mlp_probe_health: mlp is NULL");
    if (!health || !y)
        return clnn_error(mlp->ctx, CLNN_ERR_INVALID_ARGUMENT, "clnn_mlp_probe_health: %s is NULL",
                          health ? "y" : "health");
    /* Training-mode forward that leaves the running statistics as they are. */
    clnn_status status = check_health_options(mlp, options, "clnn_mlp_probe_health");
    if (status == CLNN_SUCCESS)
        status = load_batch(mlp, x, y, batch, 1, "clnn_mlp_probe_health");
    if (status == CLNN_SUCCESS)
        status = forward(mlp, 1, 0);
    if (status == CLNN_SUCCESS)
        status = loss_and_gradient(mlp);
    if (status == CLNN_SUCCESS)
        status = backward(mlp);
    if (status == CLNN_SUCCESS)
        status = measure_health(mlp, options, 0, health);
    return status;
}

/* ---- checkpoints ------------------------------------------------------------------------------- */

#define CHECKPOINT_MAGIC "CLNNCKPT"
#define CHECKPOINT_VERSION 1u
#define CHECKPOINT_MAX_USER ((size_t)64 << 10)

/* The model's structure: what a checkpoint must match to be loaded. */
static void write_structure(clnn_writer *w, const clnn_mlp_spec *s)
{
    clnn_writer_u64(w, s->inputs);
    clnn_writer_u64(w, s->outputs);
    clnn_writer_u64(w, s->hidden_count);
    for (size_t l = 0; l < s->hidden_count; ++l) {
        const clnn_mlp_layer_spec *h = &s->hidden[l];
        clnn_writer_u64(w, h->width);
        clnn_writer_u32(w, (uint32_t)h->activation.kind);
        clnn_writer_f32(w, h->activation.negative_slope);
        clnn_writer_f32(w, h->activation.alpha);
        clnn_writer_f32(w, h->activation.min_val);
        clnn_writer_f32(w, h->activation.max_val);
        clnn_writer_f32(w, h->activation.beta);
        clnn_writer_f32(w, h->activation.threshold);
        clnn_writer_u32(w, (uint32_t)h->batch_norm);
        clnn_writer_f32(w, h->dropout);
    }
    clnn_writer_u32(w, (uint32_t)s->loss);
    clnn_writer_f32(w, s->batch_norm_momentum);
    clnn_writer_f32(w, s->batch_norm_eps);
}

/* Where the weights came from: adopted by a model that loads the checkpoint (the seed also
 * drives the dropout masks, which must continue as they would have). */
static void write_origin(clnn_writer *w, const clnn_mlp_spec *s)
{
    const clnn_init_params *p = &s->weight_init;
    clnn_writer_u32(w, (uint32_t)p->kind);
    clnn_writer_u64(w, p->seed);
    clnn_writer_f32(w, p->value);
    clnn_writer_f32(w, p->a);
    clnn_writer_f32(w, p->b);
    clnn_writer_f32(w, p->mean);
    clnn_writer_f32(w, p->std);
    clnn_writer_f32(w, p->gain);
    clnn_writer_f32(w, p->slope);
    clnn_writer_u32(w, (uint32_t)p->mode);
    clnn_writer_u32(w, (uint32_t)p->nonlinearity);
    clnn_writer_u64(w, s->seed);
}

static int read_origin(clnn_reader *r, clnn_mlp_spec *s)
{
    clnn_init_params *p = &s->weight_init;
    uint32_t kind = 0, mode = 0, nonlinearity = 0;
    clnn_reader_u32(r, &kind);
    clnn_reader_u64(r, &p->seed);
    clnn_reader_f32(r, &p->value);
    clnn_reader_f32(r, &p->a);
    clnn_reader_f32(r, &p->b);
    clnn_reader_f32(r, &p->mean);
    clnn_reader_f32(r, &p->std);
    clnn_reader_f32(r, &p->gain);
    clnn_reader_f32(r, &p->slope);
    clnn_reader_u32(r, &mode);
    clnn_reader_u32(r, &nonlinearity);
    clnn_reader_u64(r, &s->seed);
    p->kind = (clnn_init_kind)kind;
    p->mode = (clnn_fan_mode)mode;
    p->nonlinearity = (clnn_nonlinearity)nonlinearity;
    return !r->failed && kind < CLNN_INIT_KIND_COUNT && nonlinearity < CLNN_NONLINEARITY_COUNT;
}

/* Every device tensor a checkpoint holds, in file order: parameters, then batch-norm running
 * statistics, then each parameter's optimiser state slots. */
static size_t checkpoint_tensors(clnn_mlp *mlp, clnn_tensor **out, size_t capacity)
{
    size_t n = 0;
    for (size_t i = 0; i < mlp->param_count; ++i)
        if (n < capacity)
            out[n++] = mlp->params[i];
    for (size_t l = 0; l < mlp->layer_count; ++l) {
        if (!mlp->layers[l].batch_norm)
            continue;
        if (n + 2 <= capacity) {
            out[n++] = mlp->layers[l].running_mean;
            out[n++] = mlp->layers[l].running_var;
        }
    }
    size_t slots = 0;
    clnn_optimizer_state_count(mlp->optimizer, &slots);
    for (size_t i = 0; i < mlp->param_count; ++i)
        for (size_t s = 0; s < slots; ++s) {
            clnn_tensor *state = NULL;
            if (clnn_optimizer_get_state(mlp->optimizer, i, s, &state) == CLNN_SUCCESS &&
                n < capacity)
                out[n++] = state;
        }
    return n;
}

clnn_status clnn_mlp_save(clnn_mlp *mlp, const char *path, const void *user, size_t user_size)
{
    if (!mlp)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_mlp_save: mlp is NULL");
    clnn_context *ctx = mlp->ctx;
    if (!path)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "clnn_mlp_save: path is NULL");
    if (user_size > CHECKPOINT_MAX_USER || (user_size && !user))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_mlp_save: user data must be at most %zu bytes (and not NULL)",
                          CHECKPOINT_MAX_USER);
    size_t capacity = mlp->param_count * 8 + 2 * mlp->layer_count;
    clnn_tensor **tensors = malloc(capacity * sizeof *tensors);
    if (!tensors)
        return clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory saving %s", path);
    size_t count = checkpoint_tensors(mlp, tensors, capacity);

    clnn_writer w = {0};
    clnn_optimizer_options options;
    uint64_t optimizer_step = 0;
    double lr = 0.0;
    clnn_status status = clnn_optimizer_get_options(mlp->optimizer, &options);
    if (status == CLNN_SUCCESS)
        status = clnn_optimizer_get_step(mlp->optimizer, &optimizer_step);
    if (status == CLNN_SUCCESS)
        status = clnn_optimizer_get_lr(mlp->optimizer, &lr);
    if (status == CLNN_SUCCESS) {
        write_structure(&w, &mlp->spec);
        write_origin(&w, &mlp->spec);
        clnn_writer_u32(&w, (uint32_t)options.kind);
        uint64_t lr_bits;
        memcpy(&lr_bits, &lr, 8);
        clnn_writer_u64(&w, lr_bits);
        clnn_writer_u64(&w, mlp->step);
        clnn_writer_u64(&w, optimizer_step);
        clnn_writer_u64(&w, count);
    }
    float *host = NULL;
    size_t host_size = 0;
    for (size_t i = 0; status == CLNN_SUCCESS && i < count; ++i) {
        size_t n = tensors[i]->count;
        if (n > host_size) {
            float *grown = realloc(host, n * sizeof *host);
            if (!grown) {
                status = clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory saving %s", path);
                break;
            }
            host = grown;
            host_size = n;
        }
        status = clnn_tensor_download(tensors[i], host, n);
        if (status != CLNN_SUCCESS)
            break;
        clnn_writer_u64(&w, n);
        for (size_t j = 0; j < n; ++j)
            clnn_writer_f32(&w, host[j]);
    }
    if (status == CLNN_SUCCESS) {
        clnn_writer_u64(&w, user_size);
        if (user_size)
            clnn_writer_bytes(&w, user, user_size);
        status = clnn_file_save(ctx, path, CHECKPOINT_MAGIC, CHECKPOINT_VERSION, &w);
    }
    clnn_writer_free(&w);
    free(host);
    free(tensors);
    return status;
}

/* Reads the model structure from the file and compares it with the model's. */
static clnn_status match_spec(clnn_mlp *mlp, clnn_reader *r, const char *path)
{
    clnn_writer expected = {0};
    write_structure(&expected, &mlp->spec);
    /* The spec's encoding is a pure function of its fields, so comparing the bytes compares the
     * fields; the first differing field is found by reading the file's spec alongside. */
    size_t length = expected.length;
    unsigned char *bytes = malloc(length ? length : 1);
    clnn_status status = CLNN_SUCCESS;
    if (!bytes || expected.failed)
        status = clnn_error(mlp->ctx, CLNN_ERR_HOST_MEMORY, "out of memory loading %s", path);
    else if (!clnn_reader_bytes(r, bytes, length))
        status = clnn_error(mlp->ctx, CLNN_ERR_MISMATCH,
                            "%s holds a model of another shape (its spec is shorter)", path);
    else if (memcmp(bytes, expected.data, length) != 0) {
        uint64_t inputs = 0, outputs = 0, hidden = 0;
        for (int i = 0; i < 8; ++i) {
            inputs |= (uint64_t)bytes[i] << (8 * i);
            outputs |= (uint64_t)bytes[8 + i] << (8 * i);
            hidden |= (uint64_t)bytes[16 + i] << (8 * i);
        }
        status = clnn_error(mlp->ctx, CLNN_ERR_MISMATCH,
                            "%s holds another model (%llu inputs, %llu hidden layers, %llu "
                            "outputs, or other layer settings) than this one (%zu, %zu, %zu)",
                            path, (unsigned long long)inputs, (unsigned long long)hidden,
                            (unsigned long long)outputs, mlp->spec.inputs,
                            mlp->spec.hidden_count, mlp->spec.outputs);
    }
    free(bytes);
    clnn_writer_free(&expected);
    return status;
}

clnn_status clnn_mlp_load(clnn_mlp *mlp, const char *path, void *user, size_t user_capacity,
                          size_t *user_size)
{
    if (!mlp)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_mlp_load: mlp is NULL");
    clnn_context *ctx = mlp->ctx;
    if (!path)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "clnn_mlp_load: path is NULL");
    size_t capacity = mlp->param_count * 8 + 2 * mlp->layer_count;
    clnn_tensor **tensors = malloc(capacity * sizeof *tensors);
    if (!tensors)
        return clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory loading %s", path);
    size_t count = checkpoint_tensors(mlp, tensors, capacity);
    size_t total = 0;
    for (size_t i = 0; i < count; ++i)
        total += tensors[i]->count;

    unsigned char *file = NULL;
    uint32_t version = 0;
    clnn_reader r;
    float *values = NULL;
    clnn_status status = clnn_file_load(ctx, path, CHECKPOINT_MAGIC,
                                        ((size_t)64 << 20) + total * 4 * 2 /* the values, with room for the spec */, &file,
                                        &version, &r);
    if (status != CLNN_SUCCESS)
        goto done;
    if (version != CHECKPOINT_VERSION) {
        status = clnn_error(ctx, CLNN_ERR_FORMAT,
                            "%s is a version %u checkpoint; this clnn reads version %u", path,
                            version, CHECKPOINT_VERSION);
        goto done;
    }
    status = match_spec(mlp, &r, path);
    if (status != CLNN_SUCCESS)
        goto done;
    clnn_mlp_spec origin = mlp->spec;
    if (!read_origin(&r, &origin)) {
        status = clnn_error(ctx, CLNN_ERR_CORRUPT, "%s: its initialisation record is invalid",
                            path);
        goto done;
    }

    clnn_optimizer_options options;
    clnn_optimizer_get_options(mlp->optimizer, &options);
    uint32_t kind = 0;
    uint64_t lr_bits = 0, step = 0, optimizer_step = 0, saved_count = 0, user_bytes = 0;
    clnn_reader_u32(&r, &kind);
    clnn_reader_u64(&r, &lr_bits);
    clnn_reader_u64(&r, &step);
    clnn_reader_u64(&r, &optimizer_step);
    clnn_reader_u64(&r, &saved_count);
    if (r.failed) {
        status = clnn_error(ctx, CLNN_ERR_CORRUPT, "%s ends inside its header", path);
        goto done;
    }
    if (optimizer_step >= ((uint64_t)1 << 53)) { /* what clnn_optimizer_set_step refuses */
        status = clnn_error(ctx, CLNN_ERR_CORRUPT,
                            "%s: its optimiser step %llu is not below 2^53", path,
                            (unsigned long long)optimizer_step);
        goto done;
    }
    if (kind != (uint32_t)options.kind || saved_count != count) {
        status = clnn_error(ctx, CLNN_ERR_MISMATCH,
                            "%s was saved with the %s optimiser (%llu state tensors); this model "
                            "uses %s (%zu)",
                            path, clnn_optimizer_kind_string((clnn_optimizer_kind)kind),
                            (unsigned long long)saved_count,
                            clnn_optimizer_kind_string(options.kind), count);
        goto done;
    }
    values = malloc((total ? total : 1) * sizeof *values);
    if (!values) {
        status = clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory loading %s", path);
        goto done;
    }
    size_t offset = 0;
    for (size_t i = 0; i < count; ++i) {
        uint64_t n = 0;
        if (!clnn_reader_u64(&r, &n))
            break;
        if (n != tensors[i]->count) {
            status = clnn_error(ctx, CLNN_ERR_MISMATCH,
                                "%s: tensor %zu holds %llu values; the model's holds %zu", path,
                                i, (unsigned long long)n, tensors[i]->count);
            goto done;
        }
        for (size_t j = 0; j < n; ++j)
            clnn_reader_f32(&r, &values[offset + j]);
        offset += (size_t)n;
    }
    clnn_reader_u64(&r, &user_bytes);
    if (r.failed || user_bytes > CHECKPOINT_MAX_USER || r.length - r.position != user_bytes) {
        status = clnn_error(ctx, CLNN_ERR_CORRUPT, "%s: its contents do not add up", path);
        goto done;
    }
    if (user && user_bytes > user_capacity) {
        status = clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                            "clnn_mlp_load: %s holds %llu user bytes; user_capacity is %zu", path,
                            (unsigned long long)user_bytes, user_capacity);
        goto done;
    }

    /* Everything is checked: now change the model. */
    offset = 0;
    for (size_t i = 0; status == CLNN_SUCCESS && i < count; ++i) {
        status = clnn_tensor_upload(tensors[i], values + offset, tensors[i]->count);
        offset += tensors[i]->count;
    }
    double lr;
    memcpy(&lr, &lr_bits, 8);
    if (status == CLNN_SUCCESS)
        status = clnn_optimizer_set_step(mlp->optimizer, optimizer_step);
    if (status == CLNN_SUCCESS && isfinite(lr) && lr >= 0.0)
        status = clnn_optimizer_set_lr(mlp->optimizer, lr);
    if (status == CLNN_SUCCESS) {
        mlp->step = step;
        mlp->spec.weight_init = origin.weight_init;
        mlp->spec.seed = origin.seed;
        for (size_t l = 0; l < mlp->spec.hidden_count; ++l)
            mlp->layers[l].dropout_seed = derive_seed(origin.seed, 2, l);
        if (user && user_bytes)
            memcpy(user, r.data + r.position, (size_t)user_bytes);
        if (user_size)
            *user_size = (size_t)user_bytes;
    }
done:
    free(values);
    free(file);
    free(tensors);
    return status;
}
