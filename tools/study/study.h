/*
 * The computation behind clnn-study, shared by the program and by tests/test_study.c: the grid of
 * initialisation schemes as clnn_init_params, one combination (activation x initialisation x
 * batch norm) probed forward and backward on a batch of real data through the MLP engine's
 * gradient-health diagnostics, an optional short training run, the summary and verdict of a
 * combination, and the CSV and Markdown writers. Nothing here prints except the writers, which
 * write where they are told.
 */
#ifndef CLNN_STUDY_H
#define CLNN_STUDY_H

#include <clnn.h>

#include <stdio.h>

/* The initialisation schemes of the study. Each maps to a clnn_init_params by study_init_params();
 * the library computes fan_in and fan_out per layer from the weight's shape [out, in]. */
typedef enum study_init {
    STUDY_INIT_SMALL_NORMAL, /* N(0, 0.01^2): the "small random numbers" of early practice */
    STUDY_INIT_OLD_UNIFORM,  /* U(-1/sqrt(fan_in), 1/sqrt(fan_in)): nn.Linear's default, which is
                                kaiming_uniform(a = sqrt(5), leaky_relu, fan_in): gain
                                sqrt(2 / (1 + 5)) = 1/sqrt(3), bound sqrt(3) * gain / sqrt(fan_in)
                                = 1/sqrt(fan_in), variance 1 / (3 fan_in) */
    STUDY_INIT_XAVIER,       /* xavier_uniform, gain 1 (Glorot & Bengio 2010 as published):
                                variance 2 / (fan_in + fan_out) */
    STUDY_INIT_KAIMING,      /* kaiming_normal, fan_in, gain of the activation (study_gain):
                                variance gain^2 / fan_in (He et al. 2015) */
    STUDY_INIT_LECUN,        /* lecun_normal: variance 1 / fan_in (LeCun et al. 1998; Klambauer
                                et al. 2017 for SELU) */
    STUDY_INIT_ORTHOGONAL,   /* orthogonal (Saxe et al. 2014) times the activation's gain */
    STUDY_INIT_COUNT
} study_init;

/* "small_normal", "old_uniform", "xavier", "kaiming", "lecun", "orthogonal"; "unknown". */
const char *study_init_name(study_init init);
/* Parses a name of study_init_name(); returns 0 on success, -1 for an unknown name. */
int study_init_parse(const char *name, study_init *init);
/* Parses an activation name as clnn_activation_name() writes it; 0 on success, -1 if unknown. */
int study_activation_parse(const char *name, clnn_activation *activation);

/* The activations of the default grid, in the order of the report. */
#define STUDY_ACTIVATION_COUNT 8
extern const clnn_activation study_activations[STUDY_ACTIVATION_COUNT];

/*
 * The gain the study gives Kaiming and orthogonal initialisation for an activation: PyTorch's
 * calculate_gain where it knows the activation (relu sqrt(2), leaky_relu sqrt(2 / (1 + 0.01^2)),
 * tanh 5/3, selu 3/4, sigmoid 1), and 1 (calculate_gain's "linear") for elu, gelu and silu, which
 * calculate_gain does not know. Returns 1 for any other activation.
 */
float study_gain(clnn_activation activation);

/* The weight initialisation of a combination (seed 0: the MLP derives each layer's stream from
 * its own seed). Returns CLNN_ERR_INVALID_ARGUMENT for an unknown scheme. */
clnn_status study_init_params(study_init init, clnn_activation activation,
                              clnn_init_params *params);

/* One combination of the grid and the network it is measured on. */
typedef struct study_config {
    size_t inputs;  /* features per sample (784 for Fashion-MNIST) */
    size_t outputs; /* classes (10) */
    size_t depth;   /* hidden layers, 1 .. CLNN_MLP_MAX_HIDDEN */
    size_t width;   /* units per hidden layer */
    clnn_activation activation;
    study_init init;
    int batch_norm; /* non-zero: batch normalisation before every hidden activation */
    uint64_t seed;  /* initial weights */
} study_config;

#define STUDY_MAX_LAYERS (CLNN_MLP_MAX_HIDDEN + 1)

/* What the probe measures: index 0 .. depth - 1 are the hidden layers, index depth the output
 * layer (its "activation" is the logits). */
typedef struct study_probe {
    size_t layers; /* depth + 1 */
    double act_mean[STUDY_MAX_LAYERS];
    double act_std[STUDY_MAX_LAYERS];
    double dead_fraction[STUDY_MAX_LAYERS];
    double weight_norm[STUDY_MAX_LAYERS];
    double grad_norm[STUDY_MAX_LAYERS];  /* L2 norm of the weight gradient */
    double saturation[STUDY_MAX_LAYERS]; /* study_saturation() of the layer; NaN if unbounded */
    double loss;                         /* the batch's loss at initialisation */
} study_probe;

/* How the optional short training runs. */
typedef struct study_train_options {
    size_t steps; /* 0: no training */
    size_t batch; /* samples per step */
    clnn_optimizer_options optimizer;
    uint64_t shuffle_seed; /* the order of the training samples (the same for every combination) */
} study_train_options;

/* The data a combination is measured and trained on (borrowed). */
typedef struct study_data {
    const float *probe_x;      /* probe_batch x inputs, normalised */
    const int32_t *probe_y;    /* probe_batch labels */
    size_t probe_batch;        /* >= 2 */
    const clnn_dataset *train; /* training samples (normalised), NULL when not training */
    const clnn_dataset *eval;  /* held-out samples evaluated after training, NULL: none */
} study_data;

/* The training run of a combination. */
typedef struct study_train_result {
    size_t steps;
    float *loss;          /* steps values, the loss of each step's batch before its update (NaN
                             when the step was skipped as non-finite); owned, free() it */
    size_t skipped;       /* steps skipped because their gradients were not finite */
    double final_loss;    /* mean training loss over the last max(1, steps / 10) steps */
    double eval_loss;     /* mean loss on the held-out samples (inference mode); NaN: none */
    double eval_accuracy; /* fraction of held-out samples classified correctly; NaN: none */
    double seconds;       /* wall time of the training steps */
    study_probe after;    /* the probe batch again after training (forward and backward, no
                             update): what training did to the statistics, saturation included */
} study_train_result;

/*
 * Builds the combination's MLP, probes it forward (training mode) and backward on the probe batch
 * without updating it, and, when @p train is not NULL and asks for steps, trains it for
 * train->steps steps and evaluates it on data->eval. @p result may be NULL when not training.
 * Returns the first failing clnn status (the context's message says why); on failure nothing is
 * allocated in @p result.
 */
clnn_status study_run(clnn_context *ctx, const study_config *config, const study_data *data,
                      const study_train_options *train, study_probe *probe,
                      study_train_result *result);

/* Frees the loss curve of a result. */
void study_train_result_release(study_train_result *result);

/*
 * Saturation of a bounded activation, from the mean m and standard deviation s of its outputs
 * over every element of the layer. The output y is mapped onto u in [-1, 1] (u = y for tanh,
 * u = 2y - 1 for sigmoid), and S = E[u^2] = (m_u)^2 + s_u^2 (m_u = m, s_u = s for tanh;
 * m_u = 2m - 1, s_u = 2s for sigmoid). Since u^2 <= 1, the fraction p of outputs with |u| >= t
 * obeys E[u^2] <= p + (1 - p) t^2, so p >= (S - t^2) / (1 - t^2): S measures, through the two
 * statistics the health report has, how much of the layer sits near its limits. Returns NaN for an
 * activation that is not bounded on both sides (relu, elu, ...).
 */
double study_saturation(clnn_activation activation, double mean, double std);
/* The lower bound (S - t^2) / (1 - t^2) above, clamped to [0, 1], for t in [0, 1). */
double study_saturated_fraction_bound(double saturation, double t);

/* The thresholds of the verdict (see study_summarize). */
typedef struct study_thresholds {
    double vanishing;  /* a ratio below this is vanishing (default 1e-3) */
    double exploding;  /* a ratio above this is exploding (default 1e3) */
    double saturation; /* S at or above this is saturated (default 0.905: with t = 0.9, at
                          least half the outputs lie within 10% of the range of a limit) */
} study_thresholds;

void study_thresholds_default(study_thresholds *thresholds);

typedef enum study_verdict {
    STUDY_HEALTHY,
    STUDY_VANISHING,
    STUDY_EXPLODING,
    STUDY_SATURATED,
    STUDY_VERDICT_COUNT
} study_verdict;

/* "healthy", "vanishing", "exploding", "saturated". */
const char *study_verdict_name(study_verdict verdict);

/* The summary of a probe. Ratios compare the last hidden layer with the first, along the
 * direction the signal travels: activations forward (std of hidden layer L over hidden layer 1),
 * gradients backward (weight-gradient norm of hidden layer 1, which backpropagation reaches last,
 * over that of hidden layer L, which it reaches first). Below 1, the signal shrank on its way. */
typedef struct study_summary {
    double act_ratio;         /* act_std[L-1] / act_std[0] */
    double grad_ratio;        /* grad_norm[0] / grad_norm[L-1] */
    double act_factor;        /* act_ratio^(1/(L-1)): the geometric mean per-layer factor */
    double grad_factor;       /* grad_ratio^(1/(L-1)) */
    double max_saturation;    /* the largest saturation over the hidden layers; NaN: unbounded */
    double max_dead_fraction; /* the largest dead fraction over the hidden layers */
    study_verdict verdict;
    char reason[160]; /* which measurement decided the verdict */
} study_summary;

/*
 * The verdict, in this order of precedence:
 * - exploding: a non-finite statistic or norm;
 * - vanishing: a hidden layer whose activation std or weight-gradient norm is exactly 0 (every
 *   unit dead, or underflow: the ratios are then 0 or undefined);
 * - exploding: act_ratio or grad_ratio above thresholds->exploding;
 * - saturated: a bounded activation (sigmoid, tanh) whose hidden layers reach saturation
 *   S >= thresholds->saturation (most outputs pinned near a limit: their derivative is near 0);
 * - vanishing: act_ratio or grad_ratio below thresholds->vanishing;
 * - healthy otherwise.
 */
void study_summarize(const study_probe *probe, const study_thresholds *thresholds,
                     study_summary *summary);

/* The geometric mean of act_std[i + 1] / act_std[i] over hidden layers from .. to - 1 (that is,
 * (act_std[to] / act_std[from])^(1 / (to - from))); NaN if a value is not positive. */
double study_geometric_factor(const double *values, size_t from, size_t to);

/* ---- writers ------------------------------------------------------------------------------- */

/* One finished combination, as the writers see it. */
typedef struct study_entry {
    study_config config;
    study_probe probe;
    study_summary summary;
    int trained; /* non-zero when train holds a run */
    study_train_result train;
    study_summary after; /* study_summarize() of train.after when trained */
} study_entry;

/* CSV with a header: one row per combination and layer (probe statistics). */
void study_write_layers_csv(FILE *out, const study_entry *entries, size_t count);
/* CSV with a header: one row per combination and training step (loss). */
void study_write_train_csv(FILE *out, const study_entry *entries, size_t count);
/* CSV with a header: one row per combination (summary, verdict, training results). */
void study_write_summary_csv(FILE *out, const study_entry *entries, size_t count);
/* A Markdown table: one row per combination. */
void study_write_summary_markdown(FILE *out, const study_entry *entries, size_t count);

#endif
