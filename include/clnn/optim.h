/*
 * clnn optimisers (SGD, RMSprop, Adam, AdamW, Adagrad) and learning-rate schedules.
 * Included by <clnn.h>.
 *
 * The update rules and defaults are those of torch.optim (single-tensor, maximize=False). An
 * optimiser is created over a list of parameter tensors, owns its state tensors, and updates every
 * parameter with one fused kernel per tensor per step:
 *
 *     clnn_optimizer_options o;
 *     clnn_optimizer_options_init(&o, CLNN_OPTIMIZER_ADAM);   // torch defaults
 *     o.lr = 3e-4f;
 *     clnn_optimizer *opt;
 *     clnn_optimizer_create(ctx, &o, params, n_params, &opt);
 *     for (step = 0; ...; ++step) {
 *         ...                                                 // forward, backward into grads
 *         double lr;
 *         clnn_lr_schedule_value(&schedule, step, &lr);
 *         clnn_optimizer_set_lr(opt, lr);
 *         if (clnn_clip_by_global_norm(grads, n_params, 1.0f, CLNN_NORM_L2, &norm) ==
 *             CLNN_ERR_NON_FINITE)
 *             continue;                                       // skip the step, nothing changed
 *         clnn_optimizer_step(opt, grads, n_params);
 *     }
 *     clnn_optimizer_destroy(opt);
 *
 * Per-step values (the learning rate, Adam's bias corrections, Adagrad's decayed rate) are kernel
 * arguments: no program is ever rebuilt for a step.
 */
#ifndef CLNN_OPTIM_H
#define CLNN_OPTIM_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup optim Optimisers and learning-rate schedules
 * @{ */

/** The update rule (g: the gradient after L2 weight decay g + wd*p where the rule has it). */
typedef enum clnn_optimizer_kind {
    CLNN_OPTIMIZER_SGD,     /**< b = momentum*b + (1-dampening)*g (b = g on the first step);
                                 p -= lr * (nesterov ? g + momentum*b : b), or lr*g without momentum */
    CLNN_OPTIMIZER_RMSPROP, /**< s = alpha*s + (1-alpha)*g^2; a = sqrt(s - centered ? ga^2 : 0) +
                               eps; p -= lr*g/a, or with momentum b = momentum*b + g/a, p -= lr*b */
    CLNN_OPTIMIZER_ADAM,    /**< m = lerp(m, g, 1-beta1); v = beta2*v + (1-beta2)*g^2;
                                 p -= lr/(1-beta1^t) * m / (sqrt(v)/sqrt(1-beta2^t) + eps) */
    CLNN_OPTIMIZER_ADAMW,   /**< p *= 1 - lr*weight_decay, then Adam without L2 decay */
    CLNN_OPTIMIZER_ADAGRAD, /**< s += g^2; p -= lr/(1+(t-1)*lr_decay) * g / (sqrt(s) + eps) */
    CLNN_OPTIMIZER_KIND_COUNT
} clnn_optimizer_kind;

/** The name of an optimiser kind ("sgd", "rmsprop", "adam", "adamw", "adagrad"); "unknown" for
 * values out of range. */
CLNN_API const char *clnn_optimizer_kind_string(clnn_optimizer_kind kind);

/** Hyper-parameters, in double as PyTorch's Python floats are: the host computes the per-step
 * factors (bias corrections, decayed rates) in double and hands them to the kernels in float.
 * Fields a kind does not use are ignored. clnn_optimizer_options_init() sets
 * torch.optim's defaults for a kind. */
typedef struct clnn_optimizer_options {
    clnn_optimizer_kind kind;
    double lr;           /**< learning rate, >= 0 (SGD 1e-3, RMSprop 1e-2, Adam(W) 1e-3,
                              Adagrad 1e-2) */
    double weight_decay; /**< >= 0; L2 (added to the gradient) except AdamW's decoupled decay
                             (AdamW 1e-2, others 0) */
    double momentum;     /**< SGD, RMSprop: >= 0 (default 0) */
    double dampening;    /**< SGD: finite (default 0) */
    int nesterov;        /**< SGD: non-zero for Nesterov momentum; needs momentum > 0 and
                              dampening == 0 */
    double alpha;        /**< RMSprop: smoothing constant, >= 0 (default 0.99) */
    int centered;        /**< RMSprop: non-zero to normalise by the estimated variance */
    double eps;          /**< >= 0: RMSprop 1e-8, Adam(W) 1e-8, Adagrad 1e-10 */
    double beta1;        /**< Adam(W): in [0, 1) (default 0.9) */
    double beta2;        /**< Adam(W): in [0, 1) (default 0.999) */
    int amsgrad;         /**< Adam(W): non-zero to use the running maximum of v */
    double lr_decay;     /**< Adagrad: >= 0 (default 0) */
    double initial_accumulator_value; /**< Adagrad: >= 0 (default 0) */
} clnn_optimizer_options;

/**
 * @brief Sets @p options to torch.optim's defaults for @p kind.
 * @param options (output) the defaults.
 * @param kind (input) the optimiser.
 * @return CLNN_ERR_INVALID_ARGUMENT for a NULL pointer or an unknown kind.
 */
CLNN_API clnn_status clnn_optimizer_options_init(clnn_optimizer_options *options,
                                                 clnn_optimizer_kind kind);

/** An optimiser over a fixed list of parameter tensors; it owns its state tensors. */
typedef struct clnn_optimizer clnn_optimizer;

/**
 * @brief Creates an optimiser over @p count parameter tensors, checking the hyper-parameters as
 * torch.optim does (lr >= 0, eps >= 0, betas in [0, 1), nesterov needs momentum > 0 and dampening
 * 0, every value finite). State tensors are allocated and initialised (zeros; Adagrad's sum to
 * initial_accumulator_value); the step count is 0.
 * @param ctx (input) the context of every parameter.
 * @param options (input) the hyper-parameters (copied).
 * @param params (input) @p count distinct parameter tensors of @p ctx. They are borrowed: they
 *        must outlive the optimiser, which updates them in place.
 * @param count (input) at least 1.
 * @param optimizer (output) the new optimiser; unchanged on failure.
 */
CLNN_API clnn_status clnn_optimizer_create(clnn_context *ctx, const clnn_optimizer_options *options,
                                           clnn_tensor *const *params, size_t count,
                                           clnn_optimizer **optimizer);

/** @brief Frees the optimiser and its state tensors (not the parameters). NULL is allowed. */
CLNN_API clnn_status clnn_optimizer_destroy(clnn_optimizer *optimizer);

/**
 * @brief Queues one update of every parameter: one fused kernel per parameter tensor that reads
 * the parameter, its gradient and its state once and writes the parameter and state once. Then
 * the step count goes up by 1.
 * @param optimizer (input/output) the optimiser.
 * @param grads (input) @p count gradients, grads[i] with the shape of parameter i; none may be a
 *        parameter tensor. Non-finite gradients are not checked for here (see
 *        clnn_clip_by_global_norm(), which reports them so a step can be skipped).
 * @param count (input) the optimiser's parameter count.
 * @return CLNN_ERR_INVALID_SHAPE for a count or shape that disagrees; on any argument error
 *         nothing is queued and the step count is unchanged.
 */
CLNN_API clnn_status clnn_optimizer_step(clnn_optimizer *optimizer, clnn_tensor *const *grads,
                                         size_t count);

/** @brief Sets the learning rate used from the next step on (>= 0 and finite). */
CLNN_API clnn_status clnn_optimizer_set_lr(clnn_optimizer *optimizer, double lr);

/** @brief Reads the current learning rate. */
CLNN_API clnn_status clnn_optimizer_get_lr(const clnn_optimizer *optimizer, double *lr);

/** @brief Reads the hyper-parameters (with the current learning rate). */
CLNN_API clnn_status clnn_optimizer_get_options(const clnn_optimizer *optimizer,
                                                clnn_optimizer_options *options);

/** @brief The number of steps taken (or set by clnn_optimizer_set_step()). */
CLNN_API clnn_status clnn_optimizer_get_step(const clnn_optimizer *optimizer, uint64_t *step);

/**
 * @brief Sets the step count, to restore a checkpoint together with the state tensors. The count
 * drives the bias corrections (Adam, AdamW), Adagrad's lr decay, and SGD's first-step rule (at
 * step 0 the momentum buffer is set to the gradient, as PyTorch does when it has none).
 * @param step (input) below 2^53 (exactly representable in a double).
 */
CLNN_API clnn_status clnn_optimizer_set_step(clnn_optimizer *optimizer, uint64_t step);

/** @brief The number of parameter tensors. */
CLNN_API clnn_status clnn_optimizer_param_count(const clnn_optimizer *optimizer, size_t *count);

/**
 * @brief The number of state tensors each parameter has: SGD 1 with momentum, else 0; RMSprop
 * 1 + (momentum > 0) + centered; Adam and AdamW 2 + amsgrad; Adagrad 1.
 */
CLNN_API clnn_status clnn_optimizer_state_count(const clnn_optimizer *optimizer, size_t *count);

/**
 * @brief The name of state slot @p slot, as in torch.optim's state_dict: "momentum_buffer"
 * (SGD, RMSprop), "square_avg", "grad_avg" (RMSprop), "exp_avg", "exp_avg_sq",
 * "max_exp_avg_sq" (Adam, AdamW), "sum" (Adagrad).
 * @param name (output) a static string.
 * @return CLNN_ERR_OUT_OF_RANGE when slot >= clnn_optimizer_state_count().
 */
CLNN_API clnn_status clnn_optimizer_state_name(const clnn_optimizer *optimizer, size_t slot,
                                               const char **name);

/**
 * @brief Finds the slot of the state named @p name.
 * @return CLNN_ERR_OUT_OF_RANGE when this optimiser has no such state.
 */
CLNN_API clnn_status clnn_optimizer_find_state(const clnn_optimizer *optimizer, const char *name,
                                               size_t *slot);

/**
 * @brief The state tensor @p slot of parameter @p param, owned by the optimiser (same shape as
 * the parameter). Read it with clnn_tensor_download() to checkpoint, write it with
 * clnn_tensor_upload() (or any op) to restore; with clnn_optimizer_set_step() this restores an
 * optimiser exactly. Do not destroy or reshape it.
 * @return CLNN_ERR_OUT_OF_RANGE for a parameter index or slot out of range.
 */
CLNN_API clnn_status clnn_optimizer_get_state(const clnn_optimizer *optimizer, size_t param,
                                              size_t slot, clnn_tensor **state);

/* ---------------------------------------------------------------------------------------------
 * Learning-rate schedules (host computation only)
 * ------------------------------------------------------------------------------------------- */

/** The main schedule; t is the number of steps taken (PyTorch's last_epoch when stepped once per
 * optimiser step). */
typedef enum clnn_lr_schedule_kind {
    CLNN_LR_CONSTANT, /**< base_lr */
    CLNN_LR_STEP,     /**< base_lr * gamma^floor(t / step_size)  (StepLR) */
    CLNN_LR_COSINE,   /**< eta_min + (base_lr - eta_min) * (1 + cos(pi * t / t_max)) / 2
                           (CosineAnnealingLR's closed form, which keeps oscillating past t_max) */
    CLNN_LR_SCHEDULE_KIND_COUNT
} clnn_lr_schedule_kind;

/** How a linear warm-up combines with the main schedule. */
typedef enum clnn_lr_warmup_mode {
    /** lr(t) = w(t) * main(t), w(t) = f0 + (1 - f0) * min(t, N) / N: the product of LinearLR's
     * closed form (start_factor f0, end_factor 1, total_iters N) and the main schedule. */
    CLNN_LR_WARMUP_MULTIPLY,
    /** lr(t) = base_lr * w(t) for t < N, then main(t - N): warm-up first, then the main schedule
     * from its start (SequentialLR with milestone N). */
    CLNN_LR_WARMUP_THEN,
    CLNN_LR_WARMUP_MODE_COUNT
} clnn_lr_warmup_mode;

/** A schedule: plain data, set up with clnn_lr_schedule_init() then adjusted. */
typedef struct clnn_lr_schedule {
    clnn_lr_schedule_kind kind;
    double base_lr;             /**< >= 0 */
    uint64_t step_size;         /**< CLNN_LR_STEP: >= 1 */
    double gamma;               /**< CLNN_LR_STEP: >= 0 (default 0.1) */
    uint64_t t_max;             /**< CLNN_LR_COSINE: >= 1 */
    double eta_min;             /**< CLNN_LR_COSINE: finite (default 0) */
    uint64_t warmup_steps;      /**< N: 0 for no warm-up */
    double warmup_start_factor; /**< f0, in (0, 1] as LinearLR requires (default 1/3) */
    clnn_lr_warmup_mode warmup_mode;
} clnn_lr_schedule;

/**
 * @brief Sets a schedule of @p kind with PyTorch's defaults (gamma 0.1, step_size 1, t_max 1,
 * eta_min 0, no warm-up, start factor 1/3, multiplicative warm-up).
 */
CLNN_API clnn_status clnn_lr_schedule_init(clnn_lr_schedule *schedule, clnn_lr_schedule_kind kind,
                                           double base_lr);

/**
 * @brief The learning rate after @p step steps (the one to use for step number step + 1).
 * @param lr (output) the rate.
 * @return CLNN_ERR_INVALID_ARGUMENT when a field is out of range (named in the message).
 */
CLNN_API clnn_status clnn_lr_schedule_value(const clnn_lr_schedule *schedule, uint64_t step,
                                            double *lr);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CLNN_OPTIM_H */
