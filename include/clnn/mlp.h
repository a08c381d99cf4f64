/*
 * clnn MLP engine: a multi-layer perceptron built from a spec (hidden layers with activation,
 * optional batch normalisation and dropout), trained with forward, loss, backward, optional
 * gradient clipping and an optimiser step, every buffer allocated once at creation. Checkpoints
 * save and restore everything needed to resume training bit for bit, and gradient-health
 * diagnostics report, per layer, what the activations and gradients are doing.
 * Included by <clnn.h>.
 */
#ifndef CLNN_MLP_H
#define CLNN_MLP_H

#include "core.h"
#include "activation.h"
#include "init.h"
#include "optim.h"
#include "network.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup mlp MLP engine
 * @{ */

/** The most hidden layers a spec may hold. */
#define CLNN_MLP_MAX_HIDDEN 64

/** The loss an MLP is trained with. */
typedef enum clnn_mlp_loss {
    CLNN_MLP_LOSS_CROSS_ENTROPY, /**< softmax cross-entropy of the outputs (logits) against int32
                                      class labels, mean over the batch */
    CLNN_MLP_LOSS_MSE,           /**< mean squared error of the outputs against float targets
                                      (batch x outputs), mean over every element */
    CLNN_MLP_LOSS_COUNT
} clnn_mlp_loss;

/** @brief The name of a loss ("cross_entropy", "mse"), a static string. */
CLNN_API const char *clnn_mlp_loss_name(clnn_mlp_loss loss);

/** One hidden layer: Linear(width) -> [BatchNorm1d] -> activation -> [Dropout]. */
typedef struct clnn_mlp_layer_spec {
    size_t width;                   /**< units, >= 1 */
    clnn_activation_desc activation;/**< the activation and its parameters */
    int batch_norm;                 /**< non-zero: batch normalisation before the activation */
    float dropout;                  /**< probability of zeroing a unit in training, [0, 1) */
} clnn_mlp_layer_spec;

/** What an MLP is. clnn_mlp_spec_init() sets the defaults. */
typedef struct clnn_mlp_spec {
    size_t inputs;                  /**< features per sample, >= 1 */
    size_t outputs;                 /**< classes (cross-entropy) or target values (MSE), >= 1 */
    size_t hidden_count;            /**< 0 .. CLNN_MLP_MAX_HIDDEN */
    clnn_mlp_layer_spec hidden[CLNN_MLP_MAX_HIDDEN];
    clnn_mlp_loss loss;             /**< default cross-entropy */
    clnn_init_params weight_init;   /**< scheme for every weight matrix (default: Kaiming normal,
                                         fan_in, ReLU gain); its seed is ignored: each layer's
                                         stream derives from @ref seed. Biases start at 0, batch
                                         norm at gamma 1, beta 0. */
    uint64_t seed;                  /**< initial weights and dropout masks */
    float batch_norm_momentum;      /**< running statistics momentum (default 0.1) */
    float batch_norm_eps;           /**< default 1e-5 */
} clnn_mlp_spec;

/** @brief Sets a spec with no hidden layer, cross-entropy, Kaiming-normal weights, seed 0, and
 * PyTorch's batch-norm defaults. Add layers with clnn_mlp_spec_add_layer().
 * @return CLNN_ERR_INVALID_SHAPE when @p inputs or @p outputs is 0, CLNN_ERR_SIZE_OVERFLOW above
 *         CLNN_MAX_ELEMENTS; @p spec is unchanged then. */
CLNN_API clnn_status clnn_mlp_spec_init(clnn_mlp_spec *spec, size_t inputs, size_t outputs);

/** @brief Appends a hidden layer of @p width units (>= 1) with the activation's PyTorch defaults
 * and a @p dropout probability in [0, 1). Values outside are refused here, @p spec unchanged. */
CLNN_API clnn_status clnn_mlp_spec_add_layer(clnn_mlp_spec *spec, size_t width,
                                             clnn_activation activation, int batch_norm,
                                             float dropout);

/** How an MLP is trained: the network engine's options (optimiser, clipping, non-finite skip). */
typedef clnn_train_options clnn_mlp_train_options;

/** @brief Sets Adam (torch.optim defaults), no clipping, non-finite steps skipped. */
CLNN_API clnn_status clnn_mlp_train_options_init(clnn_mlp_train_options *options);

/** A multi-layer perceptron with its parameters, gradients, optimiser state and workspace. */
typedef struct clnn_mlp clnn_mlp;

/**
 * @brief Builds an MLP, allocating every buffer for batches of up to @p max_batch samples, and
 * initialises its parameters from the spec's seed (bit-identical on every device).
 * @param ctx (input) the context.
 * @param spec (input) the model; checked in full (sizes, activation parameters, dropout range).
 * @param train (input) optimiser and clipping; NULL for clnn_mlp_train_options_init()'s.
 * @param max_batch (input) the largest batch, >= 1 (batch norm needs batches of >= 2 to train).
 * @param mlp (output) the new model; unchanged on failure.
 * @return CLNN_ERR_SIZE_OVERFLOW when a layer's weights (width x inputs) or activations
 *         (max_batch x width) would exceed CLNN_MAX_ELEMENTS; the message names the layer.
 */
CLNN_API clnn_status clnn_mlp_create(clnn_context *ctx, const clnn_mlp_spec *spec,
                                     const clnn_mlp_train_options *train, size_t max_batch,
                                     clnn_mlp **mlp);

/** @brief Frees the model and everything it allocated. NULL is allowed. */
CLNN_API clnn_status clnn_mlp_destroy(clnn_mlp *mlp);

/** @brief The network this MLP is built as (include/clnn/network.h): every network function
 * applies to it (training from device tensors, schedules, per-layer health, checkpoints, which it
 * also reads in format 1). It stays the MLP's, destroyed with it. */
CLNN_API clnn_status clnn_mlp_get_network(const clnn_mlp *mlp, clnn_network **network);

/** @brief Copies the model's spec. */
CLNN_API clnn_status clnn_mlp_get_spec(const clnn_mlp *mlp, clnn_mlp_spec *spec);

/** @brief The number of trainable parameters (weights, biases, batch-norm gamma and beta). */
CLNN_API clnn_status clnn_mlp_parameter_count(const clnn_mlp *mlp, size_t *count);

/**
 * @brief The model's parameter tensors and their gradients, in checkpoint order: per layer the
 * weight [out, in], the bias [out], then batch norm's gamma and beta [out]. The tensors stay the
 * model's; reading them (or writing parameters between steps) is allowed.
 * @param params (output) @p capacity entries, or NULL.
 * @param grads (output) @p capacity entries, or NULL (gradients of the last backward pass).
 * @param count (output) the number of parameter tensors.
 */
CLNN_API clnn_status clnn_mlp_get_parameters(const clnn_mlp *mlp, clnn_tensor **params,
                                             clnn_tensor **grads, size_t capacity,
                                             size_t *count);

/** @brief Training steps run so far, skipped ones included (dropout masks follow it); restored
 * by clnn_mlp_load(). */
CLNN_API clnn_status clnn_mlp_get_step(const clnn_mlp *mlp, uint64_t *step);

/** @brief Sets the learning rate from the next step on (schedules call this each step). */
CLNN_API clnn_status clnn_mlp_set_lr(clnn_mlp *mlp, double lr);

/** What one training step reports (the network engine's clnn_step_info). */
typedef clnn_step_info clnn_mlp_step_info;

/**
 * @brief One training step on a batch: forward in training mode (batch statistics, dropout),
 * loss, backward, optional clipping, optimiser step.
 * @param x (input) batch x inputs floats, row-major, on the host (uploaded).
 * @param y (input) int32 class labels (batch of them) for cross-entropy, or batch x outputs
 *        float targets for MSE.
 * @param batch (input) 1 .. max_batch (2 or more with batch norm).
 * @param info (output) NULL: nothing is read back and the call returns as soon as the work is
 *        queued (unless the non-finite check needs the norm); else the loss is read back (waits).
 * @return CLNN_ERR_OUT_OF_RANGE for a label outside [0, outputs); nothing is updated then.
 */
CLNN_API clnn_status clnn_mlp_train_step(clnn_mlp *mlp, const float *x, const void *y,
                                         size_t batch, clnn_mlp_step_info *info);

/**
 * @brief Inference on a batch (running statistics, no dropout): the summed loss and, for
 * cross-entropy, the number of correct arg-max predictions. Waits for the results.
 * @param loss_sum (output) the loss summed over the batch's samples (NULL: not wanted).
 * @param correct (output) correct predictions (NULL: not wanted; 0 for MSE).
 */
CLNN_API clnn_status clnn_mlp_evaluate(clnn_mlp *mlp, const float *x, const void *y,
                                       size_t batch, double *loss_sum, size_t *correct);

/** @brief Inference outputs (logits or values), batch x outputs floats to the host. */
CLNN_API clnn_status clnn_mlp_predict(clnn_mlp *mlp, const float *x, size_t batch,
                                      float *outputs);

/* ---- gradient-health diagnostics --------------------------------------------------------- */

/** One layer's health (hidden layers first, the output layer last). */
typedef struct clnn_mlp_layer_health {
    float activation_mean;  /**< mean of the layer's output over the batch */
    float activation_std;   /**< standard deviation of the layer's output over the batch */
    float dead_fraction;    /**< units whose output is zero for every sample (ReLU family) */
    float weight_norm;      /**< L2 norm of the weight matrix before the update */
    float weight_grad_norm; /**< L2 norm of the weight gradient */
    float update_ratio;     /**< ||W_after - W_before|| / ||W_before|| (0 when no step ran) */
} clnn_mlp_layer_health;

/** Thresholds of the vanishing and exploding flags (the network engine's clnn_health_options). */
typedef clnn_health_options clnn_mlp_health_options;

/** The model's health on one batch. */
typedef struct clnn_mlp_health {
    size_t layer_count; /**< hidden layers + 1 */
    clnn_mlp_layer_health layers[CLNN_MLP_MAX_HIDDEN + 1];
    float loss;
    float grad_norm_ratio; /**< first layer's weight-gradient norm over the last layer's */
    int vanishing;         /**< grad_norm_ratio below options.vanishing_ratio */
    int exploding;         /**< a weight-gradient norm above options.exploding_norm, or NaN/Inf */
} clnn_mlp_health;

/** @brief Sets the default thresholds. */
CLNN_API clnn_status clnn_mlp_health_options_init(clnn_mlp_health_options *options);

/**
 * @brief A training step (as clnn_mlp_train_step) that also measures the model's health on the
 * device: activation statistics, dead units, weight and gradient norms, and update ratios. Costs
 * a copy of the weights and a few small reads; call it every so often, not every step.
 * @param options (input) NULL for the defaults.
 */
CLNN_API clnn_status clnn_mlp_train_step_health(clnn_mlp *mlp, const float *x, const void *y,
                                                size_t batch,
                                                const clnn_mlp_health_options *options,
                                                clnn_mlp_step_info *info, clnn_mlp_health *health);

/**
 * @brief Forward (training mode) and backward on a batch without updating anything (batch-norm
 * running statistics included), reporting the health (update ratios are 0). For studies of how
 * initialisation and activation shape gradients.
 */
CLNN_API clnn_status clnn_mlp_probe_health(clnn_mlp *mlp, const float *x, const void *y,
                                           size_t batch, const clnn_mlp_health_options *options,
                                           clnn_mlp_health *health);

/* ---- checkpoints --------------------------------------------------------------------------- */

/**
 * @brief Saves the spec, parameters, batch-norm running statistics, optimiser state, step count
 * and the caller's own @p user bytes (a trainer's epoch and position, say) to a versioned file
 * with a crc32. The file is written to a temporary name, flushed to disk and renamed, so a crash
 * or a full disk never leaves a damaged file in place of a good one.
 * @param user (input) up to 64 KiB of caller data, or NULL with @p user_size 0.
 */
CLNN_API clnn_status clnn_mlp_save(clnn_mlp *mlp, const char *path, const void *user,
                                   size_t user_size);

/**
 * @brief Restores a model saved by clnn_mlp_save() into @p mlp, whose structure (sizes,
 * activations and their parameters, batch norm and its momentum and eps, dropout, loss) and
 * optimiser kind must match the file's. The model adopts the file's seed and initialisation
 * record, so dropout masks continue as they would have. The whole file is read and checked first: a truncated, corrupt,
 * foreign-format or mismatched file returns a clear status (CLNN_ERR_CORRUPT, CLNN_ERR_FORMAT,
 * CLNN_ERR_MISMATCH, CLNN_ERR_IO) and leaves the model untouched.
 * @param user (output) receives the saved user bytes (NULL: not wanted).
 * @param user_capacity (input) bytes available at @p user.
 * @param user_size (output) the saved user bytes' size (NULL: not wanted).
 */
CLNN_API clnn_status clnn_mlp_load(clnn_mlp *mlp, const char *path, void *user,
                                   size_t user_capacity, size_t *user_size);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CLNN_MLP_H */
