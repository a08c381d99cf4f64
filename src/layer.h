/*
 * The internal layer interface of the network engine (src/network.c): what one layer kind
 * provides, and the sequence of layers that both a network and a residual block's body are.
 *
 * A layer is set up once, for the shape flowing into it and the network's largest batch: it
 * computes its output shape and allocates its parameters, their gradients and whatever it saves
 * between forward and backward. Its output tensor belongs to the sequence (the next layer reads
 * it, backward reads it again). Gradients flow through the network's workspace: per nesting
 * level, two buffers used in turn (a layer's output gradient and its input gradient are never
 * the same buffer) and, inside residual bodies, one for layers that cannot accumulate into their
 * input gradient.
 *
 * Adding a kind: one file (src/layer_<kind>.c) that defines a clnn_layer_kind, and one line in
 * the table of src/layer.c. docs/network.md walks through it.
 */
#ifndef CLNN_LAYER_H
#define CLNN_LAYER_H

#include "internal.h"

#define CLNN_LAYER_MAX_PARAMS 4
#define CLNN_LAYER_MAX_STATE 2

typedef struct clnn_layer clnn_layer;
typedef struct clnn_sequence clnn_sequence;

/* A shape without the batch: (F) or (C, H, W). */
typedef struct clnn_shape {
    int ndim;
    size_t dims[3];
} clnn_shape;

/* Elements of one sample of a shape. */
size_t clnn_shape_size(const clnn_shape *shape);

/* What a forward or backward pass is doing. */
typedef struct clnn_pass {
    int training;       /* batch statistics and dropout */
    int update_running; /* move batch norm's running statistics (training steps do, probes not) */
    uint64_t step;      /* the network's step: dropout masks */
    int reversed;       /* warm-up only (clnn_network_warm_up): sequences walk their layers in
                           the other order, so the values computed mean nothing */
} clnn_pass;

/* Values every layer's setup may need from the network. */
typedef struct clnn_layer_env {
    clnn_context *ctx;
    size_t max_batch;
    int depth;                 /* residual nesting of the layer (0: top level) */
    const clnn_init_params *weight_init;
    uint64_t seed;
    size_t dense_ordinal;      /* dense layers before this one (weight streams) */
    size_t dropout_ordinal;    /* dropout layers before this one */
    int dropout_since_dense;   /* a dropout layer follows the last dense layer already */
    /* The ops' scratch (convolution columns), one buffer the layers share since they run one at
     * a time: the sizing pass raises scratch_floats to what the layers need at scratch_batch
     * samples (0: sizing without a device, as spec checks do, skips it); the creation pass hands
     * every layer the tensor made of that size (NULL when none is needed). */
    size_t scratch_batch;
    size_t scratch_floats;
    clnn_tensor *scratch;
} clnn_layer_env;

typedef struct clnn_layer_kind {
    clnn_layer_type type;
    /* Checks a spec record against the input shape and gives the output shape (no allocation). */
    clnn_status (*check)(clnn_context *ctx, const clnn_layer_spec *spec, const clnn_shape *in,
                         clnn_shape *out);
    /* Allocates the layer for env->max_batch and sets its initial parameter values. */
    clnn_status (*setup)(clnn_layer *layer, const clnn_layer_env *env);
    /* y = layer(x); x and y are (batch, in) and (batch, out). */
    clnn_status (*forward)(clnn_layer *layer, const clnn_pass *pass, const clnn_tensor *x,
                           clnn_tensor *y);
    /* From dy (which the layer may overwrite): dx = dx_beta * dx + dL/dx when dx is given (NULL
     * for the network's first layer), and the parameter gradients (overwritten). Layers whose
     * accumulates_dx is 0 are only called with dx_beta 0. */
    clnn_status (*backward)(clnn_layer *layer, const clnn_pass *pass, const clnn_tensor *x,
                            const clnn_tensor *y, clnn_tensor *dy, clnn_tensor *dx,
                            float dx_beta);
    /* Points the layer's own batch-sized tensors at `batch` rows (NULL: it has none). */
    clnn_status (*set_batch)(clnn_layer *layer, size_t batch);
    /* Frees what setup made beyond params, grads and state (NULL: nothing). */
    void (*destroy)(clnn_layer *layer);
    /* The ops' scratch the layer needs at `batch` samples, in floats (NULL: none). Called in
     * the sizing pass after check, with the layer's spec and shapes set. */
    clnn_status (*scratch_floats)(const clnn_layer *layer, size_t batch, size_t *floats);
    int accumulates_dx;
} clnn_layer_kind;

struct clnn_layer {
    const clnn_layer_kind *kind;
    clnn_layer_spec spec;
    clnn_context *ctx;
    clnn_shape in, out;
    /* Parameters and gradients in checkpoint order; running statistics (checkpointed, not
     * trained). Set up by the kind, freed by the sequence. */
    clnn_tensor *params[CLNN_LAYER_MAX_PARAMS], *grads[CLNN_LAYER_MAX_PARAMS];
    size_t param_count;
    clnn_tensor *state[CLNN_LAYER_MAX_STATE];
    size_t state_count;
    uint64_t seed; /* dropout's mask stream (set by clnn_sequence_build) */
    void *impl;    /* the kind's own data */
};

/* Advances env's counters past a layer just set up (in checkpoint order), and gives a dropout
 * layer its mask stream: weight and mask streams depend on the layer's place only. */
void clnn_layer_env_note(clnn_layer_env *env, clnn_layer *layer);

/* The table of kinds (src/layer.c); NULL for RESIDUAL_END, which only closes a block. */
const clnn_layer_kind *clnn_layer_kind_of(clnn_layer_type type);

/* Frees what a layer holds: the kind's own data, parameters, gradients and state. */
void clnn_layer_release(clnn_layer *layer);

/* Kinds, one file each. */
extern const clnn_layer_kind clnn_layer_dense;
extern const clnn_layer_kind clnn_layer_batch_norm;
extern const clnn_layer_kind clnn_layer_activation;
extern const clnn_layer_kind clnn_layer_prelu;
extern const clnn_layer_kind clnn_layer_dropout;
extern const clnn_layer_kind clnn_layer_flatten;
extern const clnn_layer_kind clnn_layer_residual;
extern const clnn_layer_kind clnn_layer_conv2d;
extern const clnn_layer_kind clnn_layer_pool2d;
extern const clnn_layer_kind clnn_layer_global_avg_pool;

/* Raises env->scratch_floats to what `layer` (spec and shapes set) needs, when sizing with a
 * device. */
clnn_status clnn_layer_need_scratch(clnn_layer_env *env, const clnn_layer *layer);

/* ---- sequences: a network, or a residual block's body ------------------------------------ */

/* The workspace buffers of one nesting level. */
typedef struct clnn_workspace_level {
    cl_mem turn[2];
    cl_mem accumulate;
    size_t floats; /* what each holds */
} clnn_workspace_level;

struct clnn_sequence {
    clnn_context *ctx;
    size_t count;
    clnn_layer *layers;
    clnn_tensor **outputs; /* count, batch-sized: layer i's y */
    /* Per layer, the gradient tensors of its output and input: views of the workspace (the last
     * layer's output gradient and the first layer's input gradient come from the caller). */
    clnn_tensor **grad_out, **grad_in, **grad_tmp;
    int depth;
};

/* Builds a sequence from spec records [first, end) (residual records nested inside) for inputs
 * of shape `in`; *out is the shape it produces. env->dense_ordinal advances over its dense
 * layers. workspace holds CLNN_NETWORK_MAX_DEPTH + 1 levels whose `floats` the first call
 * (sizing, with create 0) raises to what each level needs; the second (create 1) makes the
 * layers and views. */
clnn_status clnn_sequence_build(clnn_sequence *seq, const clnn_layer_spec *spec, size_t first,
                                size_t end, const clnn_shape *in, clnn_layer_env *env,
                                clnn_workspace_level *workspace, int create, clnn_shape *out);

/* Connects the sequence's gradients: its last layer's output gradient is dy (batch, out), its
 * first layer's input gradient dx (batch, in) or NULL. Views of dy and dx are not made: the
 * caller's tensors are used. */
void clnn_sequence_bind(clnn_sequence *seq, clnn_tensor *dy, clnn_tensor *dx);

void clnn_sequence_destroy(clnn_sequence *seq);
clnn_status clnn_sequence_set_batch(clnn_sequence *seq, size_t batch);
clnn_status clnn_sequence_forward(clnn_sequence *seq, const clnn_pass *pass,
                                  const clnn_tensor *x);
/* Backward from the bound dy into the bound dx (dx_beta: accumulate into it). */
clnn_status clnn_sequence_backward(clnn_sequence *seq, const clnn_pass *pass,
                                   const clnn_tensor *x, float dx_beta);
/* The sequence's output: its last layer's. */
clnn_tensor *clnn_sequence_output(const clnn_sequence *seq);

/* Visits every layer of the sequence and of nested residual bodies (a block's body, then the
 * block's own projection), in checkpoint order. */
typedef void (*clnn_layer_visit)(clnn_layer *layer, void *arg);
void clnn_sequence_visit(clnn_sequence *seq, clnn_layer_visit visit, void *arg);

/* Builds a residual block (src/layer_residual.c) from records [begin, close]: its BEGIN, body
 * and END; clnn_sequence_build's create and workspace as there. */
clnn_status clnn_residual_setup(clnn_layer *layer, const clnn_layer_spec *spec, size_t begin,
                                size_t close, clnn_layer_env *env, clnn_workspace_level *workspace,
                                int create, clnn_shape *out);

/* Gives every dropout layer its mask stream of `seed` again (a checkpoint's seed adopted). */
void clnn_sequence_reseed(clnn_sequence *seq, uint64_t seed);

/* The residual block's body (for the visit). */
clnn_sequence *clnn_residual_body(clnn_layer *layer);
clnn_layer *clnn_residual_projection(clnn_layer *layer);
/* The activation after the block's sum. */
const clnn_activation_desc *clnn_residual_end_activation(const clnn_layer *layer);

/* ---- helpers for kinds ------------------------------------------------------------------- */

/* A tensor of shape (batch, shape) (batch 0: the shape alone). */
clnn_status clnn_layer_tensor(clnn_context *ctx, size_t batch, const clnn_shape *shape,
                              clnn_tensor **t);
/* A view of `buffer` with shape (batch, shape). */
clnn_status clnn_layer_view(clnn_context *ctx, cl_mem buffer, size_t batch,
                            const clnn_shape *shape, clnn_tensor **t);
/* A well-mixed 64-bit value of (seed, salt, index): independent streams per layer and purpose. */
uint64_t clnn_derive_seed(uint64_t seed, uint64_t salt, uint64_t index);

/* y = a + b elementwise (same element counts; y may be a or b). */
clnn_status clnn_add_tensors(clnn_context *ctx, const clnn_tensor *a, const clnn_tensor *b,
                             clnn_tensor *y);

#endif /* CLNN_LAYER_H */
