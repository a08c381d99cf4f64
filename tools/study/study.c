/*
 * clnn-study's computation: initialisation schemes, one combination probed and trained through
 * the MLP engine, the verdict, and the CSV/Markdown writers. See study.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "study.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const clnn_activation study_activations[STUDY_ACTIVATION_COUNT] = {
    CLNN_ACTIVATION_SIGMOID, CLNN_ACTIVATION_TANH, CLNN_ACTIVATION_RELU, CLNN_ACTIVATION_LEAKY_RELU,
    CLNN_ACTIVATION_ELU,     CLNN_ACTIVATION_SELU, CLNN_ACTIVATION_GELU, CLNN_ACTIVATION_SILU};

static const char *const init_names[STUDY_INIT_COUNT] = {
    "small_normal", "old_uniform", "xavier", "kaiming", "lecun", "orthogonal"};

const char *study_init_name(study_init init)
{
    return (unsigned)init < STUDY_INIT_COUNT ? init_names[init] : "unknown";
}

int study_init_parse(const char *name, study_init *init)
{
    for (int i = 0; i < STUDY_INIT_COUNT; ++i)
        if (strcmp(name, init_names[i]) == 0) {
            *init = (study_init)i;
            return 0;
        }
    return -1;
}

int study_activation_parse(const char *name, clnn_activation *activation)
{
    for (int i = 0; i < (int)CLNN_ACTIVATION_COUNT; ++i)
        if (strcmp(name, clnn_activation_name((clnn_activation)i)) == 0) {
            *activation = (clnn_activation)i;
            return 0;
        }
    return -1;
}

float study_gain(clnn_activation activation)
{
    clnn_nonlinearity nl;
    switch (activation) {
    case CLNN_ACTIVATION_RELU:
        nl = CLNN_NONLINEARITY_RELU;
        break;
    case CLNN_ACTIVATION_LEAKY_RELU:
        nl = CLNN_NONLINEARITY_LEAKY_RELU;
        break;
    case CLNN_ACTIVATION_TANH:
        nl = CLNN_NONLINEARITY_TANH;
        break;
    case CLNN_ACTIVATION_SELU:
        nl = CLNN_NONLINEARITY_SELU;
        break;
    case CLNN_ACTIVATION_SIGMOID:
        nl = CLNN_NONLINEARITY_SIGMOID;
        break;
    default:
        return 1.0f; /* elu, gelu, silu: calculate_gain("linear") */
    }
    float gain = 1.0f;
    if (clnn_calculate_gain(nl, CLNN_LEAKY_RELU_DEFAULT_SLOPE, &gain) != CLNN_SUCCESS)
        return 1.0f;
    return gain;
}

clnn_status study_init_params(study_init init, clnn_activation activation, clnn_init_params *params)
{
    clnn_status status;
    switch (init) {
    case STUDY_INIT_SMALL_NORMAL:
        status = clnn_init_params_default(CLNN_INIT_NORMAL, params);
        params->mean = 0.0f;
        params->std = 0.01f;
        break;
    case STUDY_INIT_OLD_UNIFORM:
        /* nn.Linear's reset_parameters: kaiming_uniform_(w, a=sqrt(5)) with PyTorch's defaults
         * (fan_in, leaky_relu), whose bound works out to 1/sqrt(fan_in). */
        status = clnn_init_params_default(CLNN_INIT_KAIMING_UNIFORM, params);
        params->slope = sqrtf(5.0f);
        params->mode = CLNN_FAN_IN;
        params->nonlinearity = CLNN_NONLINEARITY_LEAKY_RELU;
        break;
    case STUDY_INIT_XAVIER:
        status = clnn_init_params_default(CLNN_INIT_XAVIER_UNIFORM, params);
        params->gain = 1.0f;
        break;
    case STUDY_INIT_KAIMING:
        /* The activation's gain through calculate_gain's own names (study_gain documents the
         * mapping; elu, gelu and silu use "linear", gain 1). */
        status = clnn_init_params_default(CLNN_INIT_KAIMING_NORMAL, params);
        params->mode = CLNN_FAN_IN;
        switch (activation) {
        case CLNN_ACTIVATION_RELU:
            params->nonlinearity = CLNN_NONLINEARITY_RELU;
            break;
        case CLNN_ACTIVATION_LEAKY_RELU:
            params->nonlinearity = CLNN_NONLINEARITY_LEAKY_RELU;
            params->slope = CLNN_LEAKY_RELU_DEFAULT_SLOPE;
            break;
        case CLNN_ACTIVATION_TANH:
            params->nonlinearity = CLNN_NONLINEARITY_TANH;
            break;
        case CLNN_ACTIVATION_SELU:
            params->nonlinearity = CLNN_NONLINEARITY_SELU;
            break;
        case CLNN_ACTIVATION_SIGMOID:
            params->nonlinearity = CLNN_NONLINEARITY_SIGMOID;
            break;
        default:
            params->nonlinearity = CLNN_NONLINEARITY_LINEAR;
            break;
        }
        break;
    case STUDY_INIT_LECUN:
        status = clnn_init_params_default(CLNN_INIT_LECUN_NORMAL, params);
        break;
    case STUDY_INIT_ORTHOGONAL:
        status = clnn_init_params_default(CLNN_INIT_ORTHOGONAL, params);
        params->gain = study_gain(activation);
        break;
    default:
        return CLNN_ERR_INVALID_ARGUMENT;
    }
    params->seed = 0;
    return status;
}

/* ---- saturation and verdict ---------------------------------------------------------------- */

double study_saturation(clnn_activation activation, double mean, double std)
{
    double mu, su;
    if (activation == CLNN_ACTIVATION_TANH) {
        mu = mean;
        su = std;
    } else if (activation == CLNN_ACTIVATION_SIGMOID) {
        mu = 2.0 * mean - 1.0;
        su = 2.0 * std;
    } else {
        return NAN;
    }
    return mu * mu + su * su;
}

double study_saturated_fraction_bound(double saturation, double t)
{
    double p = (saturation - t * t) / (1.0 - t * t);
    return p < 0.0 ? 0.0 : p > 1.0 ? 1.0 : p;
}

void study_thresholds_default(study_thresholds *thresholds)
{
    thresholds->vanishing = 1e-3;
    thresholds->exploding = 1e3;
    /* t = 0.9: a bound p >= 1/2 needs S >= 0.81 + 0.5 * 0.19 = 0.905. */
    thresholds->saturation = 0.905;
}

static const char *const verdict_names[STUDY_VERDICT_COUNT] = {"healthy", "vanishing", "exploding",
                                                               "saturated"};

const char *study_verdict_name(study_verdict verdict)
{
    return (unsigned)verdict < STUDY_VERDICT_COUNT ? verdict_names[verdict] : "unknown";
}

double study_geometric_factor(const double *values, size_t from, size_t to)
{
    if (to <= from || !(values[from] > 0.0) || !(values[to] > 0.0) || !isfinite(values[from]) ||
        !isfinite(values[to]))
        return NAN;
    return exp((log(values[to]) - log(values[from])) / (double)(to - from));
}

void study_summarize(const study_probe *probe, const study_thresholds *thresholds, study_summary *s)
{
    const size_t hidden = probe->layers - 1;
    const size_t last = hidden - 1;
    memset(s, 0, sizeof *s);
    s->act_ratio = probe->act_std[last] / probe->act_std[0];
    s->grad_ratio = probe->grad_norm[0] / probe->grad_norm[last];
    s->act_factor = hidden > 1 ? study_geometric_factor(probe->act_std, 0, last) : 1.0;
    s->grad_factor = NAN;
    if (hidden > 1 && probe->grad_norm[0] > 0.0 && probe->grad_norm[last] > 0.0)
        s->grad_factor = pow(s->grad_ratio, 1.0 / (double)last);
    s->max_saturation = NAN;
    s->max_dead_fraction = 0.0;

    int finite = isfinite(probe->loss);
    int zero = 0;
    size_t zero_layer = 0, sat_layer = 0;
    for (size_t i = 0; i < probe->layers; ++i) {
        finite = finite && isfinite(probe->act_mean[i]) && isfinite(probe->act_std[i]) &&
                 isfinite(probe->grad_norm[i]) && isfinite(probe->weight_norm[i]);
        if (i < hidden) {
            if (!zero && (probe->act_std[i] == 0.0 || probe->grad_norm[i] == 0.0)) {
                zero = 1;
                zero_layer = i;
            }
            if (probe->dead_fraction[i] > s->max_dead_fraction)
                s->max_dead_fraction = probe->dead_fraction[i];
            if (isfinite(probe->saturation[i]) &&
                (isnan(s->max_saturation) || probe->saturation[i] > s->max_saturation)) {
                s->max_saturation = probe->saturation[i];
                sat_layer = i;
            }
        }
    }

    if (!finite) {
        s->verdict = STUDY_EXPLODING;
        snprintf(s->reason, sizeof s->reason, "a statistic or norm is not finite");
    } else if (zero) {
        s->verdict = STUDY_VANISHING;
        snprintf(s->reason, sizeof s->reason, "layer %zu: activation std or gradient is 0",
                 zero_layer + 1);
    } else if (s->act_ratio > thresholds->exploding) {
        s->verdict = STUDY_EXPLODING;
        snprintf(s->reason, sizeof s->reason, "activation std grew %.3g-fold (> %.3g)",
                 s->act_ratio, thresholds->exploding);
    } else if (s->grad_ratio > thresholds->exploding) {
        s->verdict = STUDY_EXPLODING;
        snprintf(s->reason, sizeof s->reason, "gradient norm grew %.3g-fold backward (> %.3g)",
                 s->grad_ratio, thresholds->exploding);
    } else if (isfinite(s->max_saturation) && s->max_saturation >= thresholds->saturation) {
        s->verdict = STUDY_SATURATED;
        snprintf(s->reason, sizeof s->reason,
                 "layer %zu: E[u^2] = %.3f >= %.3f, >= %.0f%% of outputs within 10%% of a limit",
                 sat_layer + 1, s->max_saturation, thresholds->saturation,
                 100.0 * study_saturated_fraction_bound(s->max_saturation, 0.9));
    } else if (s->act_ratio < thresholds->vanishing) {
        s->verdict = STUDY_VANISHING;
        snprintf(s->reason, sizeof s->reason, "activation std fell to %.3g of layer 1's (< %.3g)",
                 s->act_ratio, thresholds->vanishing);
    } else if (s->grad_ratio < thresholds->vanishing) {
        s->verdict = STUDY_VANISHING;
        snprintf(s->reason, sizeof s->reason, "gradient norm fell to %.3g backward (< %.3g)",
                 s->grad_ratio, thresholds->vanishing);
    } else {
        s->verdict = STUDY_HEALTHY;
        snprintf(s->reason, sizeof s->reason, "ratios within [%.3g, %.3g]", thresholds->vanishing,
                 thresholds->exploding);
    }
}

/* ---- one combination ----------------------------------------------------------------------- */

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void study_train_result_release(study_train_result *result)
{
    if (result) {
        free(result->loss);
        result->loss = NULL;
    }
}

static void fill_probe(const clnn_mlp_health *health, clnn_activation activation,
                       study_probe *probe);

static clnn_status train_and_evaluate(clnn_mlp *mlp, const study_config *config,
                                      const study_data *data, const study_train_options *train,
                                      size_t max_batch, study_train_result *result)
{
    const clnn_dataset *set = data->train;
    const size_t n = set->count;
    clnn_status status = CLNN_ERR_HOST_MEMORY;
    float *loss = malloc(train->steps * sizeof *loss);
    float *x = malloc(max_batch * config->inputs * sizeof *x);
    int32_t *y = malloc(max_batch * sizeof *y);
    size_t *perm = malloc(n * sizeof *perm);
    if (!loss || !x || !y || !perm)
        goto done;

    size_t skipped = 0, position = 0;
    uint64_t epoch = 0;
    status = clnn_shuffle_permutation(train->shuffle_seed, epoch, n, perm);
    const double t0 = now_seconds();
    for (size_t step = 0; status == CLNN_SUCCESS && step < train->steps; ++step) {
        if (position + train->batch > n) { /* a new epoch rather than a short batch */
            position = 0;
            status = clnn_shuffle_permutation(train->shuffle_seed, ++epoch, n, perm);
            if (status != CLNN_SUCCESS)
                break;
        }
        size_t rows;
        status = clnn_dataset_gather(set, perm, n, position, train->batch, x, y, &rows);
        if (status != CLNN_SUCCESS)
            break;
        position += rows;
        clnn_mlp_step_info info;
        status = clnn_mlp_train_step(mlp, x, y, rows, &info);
        if (status != CLNN_SUCCESS)
            break;
        loss[step] = info.skipped ? NAN : info.loss;
        skipped += info.skipped ? 1 : 0;
    }
    const double seconds = now_seconds() - t0;
    if (status != CLNN_SUCCESS)
        goto done;

    /* The final loss: the mean over the last tenth of the steps, which smooths the noise of single
     * batches; skipped (non-finite) steps count as NaN. */
    size_t tail = train->steps / 10 > 0 ? train->steps / 10 : 1;
    double sum = 0.0;
    for (size_t i = train->steps - tail; i < train->steps; ++i)
        sum += loss[i];
    double eval_loss = NAN, eval_accuracy = NAN;
    if (data->eval && data->eval->count > 0) {
        double loss_sum = 0.0;
        size_t correct = 0, seen = 0;
        for (size_t start = 0; start < data->eval->count; start += max_batch) {
            size_t rows;
            status = clnn_dataset_gather(data->eval, NULL, data->eval->count, start, max_batch, x,
                                         y, &rows);
            if (status != CLNN_SUCCESS)
                goto done;
            /* Batch norm in inference mode uses running statistics, defined for one sample too. */
            double l = 0.0;
            size_t c = 0;
            status = clnn_mlp_evaluate(mlp, x, y, rows, &l, &c);
            if (status != CLNN_SUCCESS)
                goto done;
            loss_sum += l;
            correct += c;
            seen += rows;
        }
        eval_loss = loss_sum / (double)seen;
        eval_accuracy = (double)correct / (double)seen;
    }

    clnn_mlp_health health;
    status =
        clnn_mlp_probe_health(mlp, data->probe_x, data->probe_y, data->probe_batch, NULL, &health);
    if (status != CLNN_SUCCESS)
        goto done;
    fill_probe(&health, config->activation, &result->after);
    result->steps = train->steps;
    result->loss = loss;
    loss = NULL;
    result->skipped = skipped;
    result->final_loss = sum / (double)tail;
    result->eval_loss = eval_loss;
    result->eval_accuracy = eval_accuracy;
    result->seconds = seconds;
done:
    free(loss);
    free(x);
    free(y);
    free(perm);
    return status;
}

clnn_status study_run(clnn_context *ctx, const study_config *config, const study_data *data,
                      const study_train_options *train, study_probe *probe,
                      study_train_result *result)
{
    if (!ctx || !config || !data || !probe || !data->probe_x || !data->probe_y)
        return CLNN_ERR_INVALID_ARGUMENT;
    const int training = train && train->steps > 0;
    if (training && (!result || !data->train || data->train->count < train->batch ||
                     train->batch < 2 || data->train->features != config->inputs))
        return CLNN_ERR_INVALID_ARGUMENT;
    if (config->depth < 1 || config->depth > CLNN_MLP_MAX_HIDDEN)
        return CLNN_ERR_INVALID_ARGUMENT;

    clnn_mlp_spec spec;
    clnn_status status = clnn_mlp_spec_init(&spec, config->inputs, config->outputs);
    for (size_t i = 0; status == CLNN_SUCCESS && i < config->depth; ++i)
        status = clnn_mlp_spec_add_layer(&spec, config->width, config->activation,
                                         config->batch_norm, 0.0f);
    if (status != CLNN_SUCCESS)
        return status;
    status = study_init_params(config->init, config->activation, &spec.weight_init);
    if (status != CLNN_SUCCESS)
        return status;
    spec.seed = config->seed;

    clnn_mlp_train_options options;
    status = clnn_mlp_train_options_init(&options);
    if (status != CLNN_SUCCESS)
        return status;
    if (training)
        options.optimizer = train->optimizer;

    size_t max_batch = data->probe_batch;
    if (training && train->batch > max_batch)
        max_batch = train->batch;

    clnn_mlp *mlp = NULL;
    status = clnn_mlp_create(ctx, &spec, &options, max_batch, &mlp);
    if (status != CLNN_SUCCESS)
        return status;

    clnn_mlp_health health;
    status =
        clnn_mlp_probe_health(mlp, data->probe_x, data->probe_y, data->probe_batch, NULL, &health);
    if (status == CLNN_SUCCESS)
        fill_probe(&health, config->activation, probe);
    if (status == CLNN_SUCCESS && training)
        status = train_and_evaluate(mlp, config, data, train, max_batch, result);
    clnn_mlp_destroy(mlp);
    return status;
}

static void fill_probe(const clnn_mlp_health *health, clnn_activation activation,
                       study_probe *probe)
{
    memset(probe, 0, sizeof *probe);
    probe->layers = health->layer_count;
    probe->loss = health->loss;
    for (size_t i = 0; i < health->layer_count && i < STUDY_MAX_LAYERS; ++i) {
        const clnn_mlp_layer_health *h = &health->layers[i];
        probe->act_mean[i] = h->activation_mean;
        probe->act_std[i] = h->activation_std;
        probe->dead_fraction[i] = h->dead_fraction;
        probe->weight_norm[i] = h->weight_norm;
        probe->grad_norm[i] = h->weight_grad_norm;
        probe->saturation[i] =
            i + 1 < health->layer_count
                ? study_saturation(activation, h->activation_mean, h->activation_std)
                : NAN;
    }
}

/* ---- writers ------------------------------------------------------------------------------- */

static const char *bn_name(int batch_norm)
{
    return batch_norm ? "on" : "off";
}

void study_write_layers_csv(FILE *out, const study_entry *entries, size_t count)
{
    fprintf(out, "activation,init,batch_norm,depth,width,layer,kind,act_mean,act_std,"
                 "dead_fraction,saturation,weight_norm,weight_grad_norm\n");
    for (size_t e = 0; e < count; ++e) {
        const study_entry *en = &entries[e];
        const study_probe *p = &en->probe;
        for (size_t i = 0; i < p->layers; ++i)
            fprintf(out, "%s,%s,%s,%zu,%zu,%zu,%s,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g\n",
                    clnn_activation_name(en->config.activation), study_init_name(en->config.init),
                    bn_name(en->config.batch_norm), en->config.depth, en->config.width, i + 1,
                    i + 1 < p->layers ? "hidden" : "output", p->act_mean[i], p->act_std[i],
                    p->dead_fraction[i], p->saturation[i], p->weight_norm[i], p->grad_norm[i]);
    }
}

void study_write_train_csv(FILE *out, const study_entry *entries, size_t count)
{
    fprintf(out, "activation,init,batch_norm,step,loss\n");
    for (size_t e = 0; e < count; ++e) {
        const study_entry *en = &entries[e];
        if (!en->trained)
            continue;
        for (size_t s = 0; s < en->train.steps; ++s)
            fprintf(out, "%s,%s,%s,%zu,%.7g\n", clnn_activation_name(en->config.activation),
                    study_init_name(en->config.init), bn_name(en->config.batch_norm), s + 1,
                    en->train.loss[s]);
    }
}

void study_write_summary_csv(FILE *out, const study_entry *entries, size_t count)
{
    fprintf(out, "activation,init,batch_norm,act_std_first,act_std_last,act_ratio,act_factor,"
                 "grad_norm_first,grad_norm_last,grad_ratio,grad_factor,max_saturation,"
                 "max_dead_fraction,probe_loss,verdict,train_steps,final_loss,eval_loss,"
                 "eval_accuracy,skipped_steps,train_seconds,act_ratio_after,grad_ratio_after,"
                 "max_saturation_after,verdict_after\n");
    for (size_t e = 0; e < count; ++e) {
        const study_entry *en = &entries[e];
        const study_probe *p = &en->probe;
        const study_summary *s = &en->summary;
        const size_t last = p->layers - 2;
        fprintf(out, "%s,%s,%s,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%s",
                clnn_activation_name(en->config.activation), study_init_name(en->config.init),
                bn_name(en->config.batch_norm), p->act_std[0], p->act_std[last], s->act_ratio,
                s->act_factor, p->grad_norm[0], p->grad_norm[last], s->grad_ratio, s->grad_factor,
                s->max_saturation, s->max_dead_fraction, p->loss, study_verdict_name(s->verdict));
        if (en->trained)
            fprintf(out, ",%zu,%.6g,%.6g,%.6g,%zu,%.3f,%.6g,%.6g,%.6g,%s\n", en->train.steps,
                    en->train.final_loss, en->train.eval_loss, en->train.eval_accuracy,
                    en->train.skipped, en->train.seconds, en->after.act_ratio, en->after.grad_ratio,
                    en->after.max_saturation, study_verdict_name(en->after.verdict));
        else
            fprintf(out, ",0,,,,,,,,,\n");
    }
}

/* A ratio for a table: 3 significant digits, scientific outside [0.01, 1000). */
static void format_ratio(char *buf, size_t size, double v)
{
    if (!isfinite(v))
        snprintf(buf, size, "%s", isnan(v) ? "NaN" : v > 0 ? "Inf" : "-Inf");
    else if (v != 0.0 && (fabs(v) < 0.01 || fabs(v) >= 1000.0))
        snprintf(buf, size, "%.2e", v);
    else
        snprintf(buf, size, "%.3g", v);
}

void study_write_summary_markdown(FILE *out, const study_entry *entries, size_t count)
{
    int any_trained = 0;
    for (size_t e = 0; e < count; ++e)
        any_trained |= entries[e].trained;
    fprintf(out,
            "| activation | init | batch norm | act std L/1 | per layer | grad norm 1/L "
            "| per layer | verdict |%s\n",
            any_trained ? " loss at init | loss after training | held-out accuracy | verdict "
                          "after training |"
                        : "");
    fprintf(out, "|---|---|---|---:|---:|---:|---:|---|%s\n",
            any_trained ? "---:|---:|---:|---|" : "");
    for (size_t e = 0; e < count; ++e) {
        const study_entry *en = &entries[e];
        const study_summary *s = &en->summary;
        char ar[32], af[32], gr[32], gf[32];
        format_ratio(ar, sizeof ar, s->act_ratio);
        format_ratio(af, sizeof af, s->act_factor);
        format_ratio(gr, sizeof gr, s->grad_ratio);
        format_ratio(gf, sizeof gf, s->grad_factor);
        const char *v = study_verdict_name(s->verdict);
        fprintf(out, "| %s | %s | %s | %s | %s | %s | %s | %s%s%s |",
                clnn_activation_name(en->config.activation), study_init_name(en->config.init),
                bn_name(en->config.batch_norm), ar, af, gr, gf,
                s->verdict == STUDY_HEALTHY ? "" : "**", v,
                s->verdict == STUDY_HEALTHY ? "" : "**");
        if (any_trained) {
            if (en->trained)
                fprintf(out, " %.3f | %.3f | %.1f%% | %s |", en->probe.loss, en->train.final_loss,
                        100.0 * en->train.eval_accuracy, study_verdict_name(en->after.verdict));
            else
                fprintf(out, " %.3f | | | |", en->probe.loss);
        }
        fputc('\n', out);
    }
}
