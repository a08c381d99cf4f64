/*
 * clnn-study: how activation, initialisation and batch normalisation decide whether a deep network
 * learns. For every combination of the grid it builds a deep MLP (default 30 hidden layers of 256
 * units) on Fashion-MNIST, probes one batch forward and backward (the MLP engine's gradient-health
 * diagnostics: activation statistics and weight-gradient norms per layer), optionally trains it
 * for a short fixed budget, and writes CSV files, a Markdown summary with a verdict per
 * combination, and SVG figures. docs/study.md explains the output of a default run.
 */
#define _POSIX_C_SOURCE 200809L
#include "study.h"
#include "svg.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

typedef struct options {
    const char *device;
    const char *data_dir;
    const char *out_dir;
    size_t depth, width, probe_batch;
    clnn_activation activations[CLNN_ACTIVATION_COUNT];
    size_t activation_count;
    study_init inits[STUDY_INIT_COUNT];
    size_t init_count;
    int bn_off, bn_on;
    size_t train_steps, train_batch, eval_count;
    clnn_optimizer_kind optimizer;
    double lr, momentum;
    int lr_set;
    uint64_t seed;
    study_thresholds thresholds;
    int quiet;
} options;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: clnn-study [options]\n"
            "  Probes deep MLPs for every activation x initialisation x batch-norm combination on\n"
            "  a batch of Fashion-MNIST, optionally trains each briefly, and writes CSV, Markdown\n"
            "  and SVG results. See docs/study.md.\n"
            "\n"
            "  --device SELECTOR    OpenCL device (P:D, an index, or part of a name; default:\n"
            "                       $CLNN_DEVICE, else the first GPU, else the first CPU)\n"
            "  --data DIR           Fashion-MNIST (IDX files; default %s)\n"
            "  --out DIR            where results go (default study-out): study.md,\n"
            "                       study-summary.csv, study-layers.csv, study-train.csv,\n"
            "                       figures/*.svg\n"
            "  --depth N            hidden layers, 2 .. %d (default 30)\n"
            "  --width N            units per hidden layer (default 256)\n"
            "  --batch N            samples in the probe batch, >= 2 (default 256)\n"
            "  --activations LIST   comma-separated (default sigmoid,tanh,relu,leaky_relu,elu,\n"
            "                       selu,gelu,silu)\n"
            "  --inits LIST         comma-separated from small_normal, old_uniform, xavier,\n"
            "                       kaiming, lecun, orthogonal (default all)\n"
            "  --batch-norm MODE    off, on or both (default both)\n"
            "  --train STEPS        also train each combination for STEPS steps (default 0: probe\n"
            "                       only)\n"
            "  --train-batch N      samples per training step (default 128)\n"
            "  --optimizer NAME     sgd (momentum 0.9) or adam (default sgd)\n"
            "  --lr X               learning rate (default 0.01 for sgd, 0.001 for adam)\n"
            "  --momentum X         SGD momentum (default 0.9)\n"
            "  --eval N             held-out test samples evaluated after training (default 2000;\n"
            "                       0: none)\n"
            "  --seed N             initial weights and sample order (default 0)\n"
            "  --vanishing X        verdict threshold for ratios (default 1e-3)\n"
            "  --exploding X        verdict threshold for ratios (default 1e3)\n"
            "  --saturation X       verdict threshold for E[u^2] of sigmoid/tanh (default 0.905)\n"
            "  --quiet              no line per combination\n",
            CLNN_DATA_DEFAULT_DIR, CLNN_MLP_MAX_HIDDEN);
}

static int bad_value(const char *option, const char *value, const char *valid)
{
    fprintf(stderr, "clnn-study: invalid %s '%s': expected %s\n", option, value, valid);
    return 2;
}

static int parse_size(const char *s, size_t lo, size_t hi, size_t *out)
{
    unsigned long long v;
    char tail;
    if (sscanf(s, "%llu%c", &v, &tail) != 1 || v < lo || v > hi)
        return -1;
    *out = (size_t)v;
    return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

static int parse_options(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->out_dir = "study-out";
    o->depth = 30;
    o->width = 256;
    o->probe_batch = 256;
    o->activation_count = STUDY_ACTIVATION_COUNT;
    memcpy(o->activations, study_activations, sizeof study_activations);
    o->init_count = STUDY_INIT_COUNT;
    for (int i = 0; i < STUDY_INIT_COUNT; ++i)
        o->inits[i] = (study_init)i;
    o->bn_off = o->bn_on = 1;
    o->train_batch = 128;
    o->eval_count = 2000;
    o->optimizer = CLNN_OPTIMIZER_SGD;
    o->momentum = 0.9;
    study_thresholds_default(&o->thresholds);

    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strcmp(a, "--quiet") == 0) {
            o->quiet = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "clnn-study: unknown option or missing value: '%s'\n", a);
            usage(stderr);
            return 2;
        }
        const char *v = argv[++i];
        if (strcmp(a, "--device") == 0) {
            o->device = v;
        } else if (strcmp(a, "--data") == 0) {
            o->data_dir = v;
        } else if (strcmp(a, "--out") == 0) {
            o->out_dir = v;
        } else if (strcmp(a, "--depth") == 0) {
            if (parse_size(v, 2, CLNN_MLP_MAX_HIDDEN, &o->depth))
                return bad_value(a, v, "an integer from 2 to 64");
        } else if (strcmp(a, "--width") == 0) {
            if (parse_size(v, 1, 1 << 16, &o->width))
                return bad_value(a, v, "an integer from 1 to 65536");
        } else if (strcmp(a, "--batch") == 0) {
            if (parse_size(v, 2, 1 << 16, &o->probe_batch))
                return bad_value(a, v, "an integer from 2 to 65536");
        } else if (strcmp(a, "--train") == 0) {
            if (parse_size(v, 0, 1000000, &o->train_steps))
                return bad_value(a, v, "an integer from 0 to 1000000");
        } else if (strcmp(a, "--train-batch") == 0) {
            if (parse_size(v, 2, 1 << 16, &o->train_batch))
                return bad_value(a, v, "an integer from 2 to 65536");
        } else if (strcmp(a, "--eval") == 0) {
            if (parse_size(v, 0, 10000, &o->eval_count))
                return bad_value(a, v, "an integer from 0 to 10000 (the test set's size)");
        } else if (strcmp(a, "--seed") == 0) {
            size_t s;
            if (parse_size(v, 0, SIZE_MAX, &s))
                return bad_value(a, v, "a non-negative integer");
            o->seed = s;
        } else if (strcmp(a, "--lr") == 0) {
            if (parse_double(v, 0.0, 1e3, &o->lr))
                return bad_value(a, v, "a number from 0 to 1000");
            o->lr_set = 1;
        } else if (strcmp(a, "--momentum") == 0) {
            if (parse_double(v, 0.0, 0.999999, &o->momentum))
                return bad_value(a, v, "a number in [0, 1)");
        } else if (strcmp(a, "--vanishing") == 0) {
            if (parse_double(v, 1e-300, 1.0, &o->thresholds.vanishing))
                return bad_value(a, v, "a number in (0, 1]");
        } else if (strcmp(a, "--exploding") == 0) {
            if (parse_double(v, 1.0, 1e300, &o->thresholds.exploding))
                return bad_value(a, v, "a number >= 1");
        } else if (strcmp(a, "--saturation") == 0) {
            if (parse_double(v, 0.0, 1.0, &o->thresholds.saturation))
                return bad_value(a, v, "a number in [0, 1]");
        } else if (strcmp(a, "--optimizer") == 0) {
            if (strcmp(v, "sgd") == 0)
                o->optimizer = CLNN_OPTIMIZER_SGD;
            else if (strcmp(v, "adam") == 0)
                o->optimizer = CLNN_OPTIMIZER_ADAM;
            else
                return bad_value(a, v, "sgd or adam");
        } else if (strcmp(a, "--batch-norm") == 0) {
            if (strcmp(v, "off") == 0)
                o->bn_on = 0, o->bn_off = 1;
            else if (strcmp(v, "on") == 0)
                o->bn_on = 1, o->bn_off = 0;
            else if (strcmp(v, "both") == 0)
                o->bn_on = 1, o->bn_off = 1;
            else
                return bad_value(a, v, "off, on or both");
        } else if (strcmp(a, "--activations") == 0 || strcmp(a, "--inits") == 0) {
            const int acts = a[2] == 'a';
            char list[512];
            if (strlen(v) >= sizeof list)
                return bad_value(a, "...", "a shorter list");
            strcpy(list, v);
            size_t n = 0;
            char *save = NULL;
            for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                if (acts) {
                    clnn_activation act;
                    if (study_activation_parse(tok, &act) || n >= CLNN_ACTIVATION_COUNT)
                        return bad_value(a, tok,
                                         "activation names such as sigmoid, tanh, relu, "
                                         "leaky_relu, elu, selu, gelu, silu");
                    o->activations[n++] = act;
                } else {
                    study_init init;
                    if (study_init_parse(tok, &init) || n >= STUDY_INIT_COUNT)
                        return bad_value(a, tok,
                                         "small_normal, old_uniform, xavier, kaiming, "
                                         "lecun or orthogonal");
                    o->inits[n++] = init;
                }
            }
            if (n == 0)
                return bad_value(a, v, "a non-empty list");
            if (acts)
                o->activation_count = n;
            else
                o->init_count = n;
        } else {
            fprintf(stderr, "clnn-study: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!o->lr_set)
        o->lr = o->optimizer == CLNN_OPTIMIZER_SGD ? 0.01 : 0.001;
    return 0;
}

/* ---- output files -------------------------------------------------------------------------- */

static int make_dir(const char *path)
{
    if (mkdir(path, 0777) == 0 || errno == EEXIST)
        return 0;
    fprintf(stderr, "clnn-study: cannot create directory '%s': %s\n", path, strerror(errno));
    return -1;
}

static FILE *open_out(const char *dir, const char *name, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "clnn-study: cannot write '%s': %s\n", path, strerror(errno));
    return f;
}

static int close_out(FILE *f, const char *path)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        fprintf(stderr, "clnn-study: error writing '%s'\n", path);
        return -1;
    }
    return 0;
}

/* Okabe & Ito's colour-blind-safe palette, one colour per initialisation. */
static const char *const init_colors[STUDY_INIT_COUNT] = {"#D55E00", "#E69F00", "#009E73",
                                                          "#0072B2", "#CC79A7", "#000000"};

/* Floor of the log axes: values below it (and exact zeros) are drawn on it. */
#define PLOT_FLOOR 1e-12

static int write_probe_figure(const char *path, const options *o, clnn_activation act,
                              const study_entry *entries, size_t count)
{
    svg_series act_series[2 * STUDY_INIT_COUNT], grad_series[2 * STUDY_INIT_COUNT];
    static double layer_x[CLNN_MLP_MAX_HIDDEN];
    for (size_t i = 0; i < CLNN_MLP_MAX_HIDDEN; ++i)
        layer_x[i] = (double)(i + 1);
    size_t n = 0;
    for (size_t e = 0; e < count; ++e) {
        const study_entry *en = &entries[e];
        if (en->config.activation != act || n >= 2 * STUDY_INIT_COUNT)
            continue;
        svg_series s = {layer_x, en->probe.act_std, o->depth, init_colors[en->config.init],
                        en->config.batch_norm};
        act_series[n] = s;
        s.y = en->probe.grad_norm;
        grad_series[n] = s;
        ++n;
    }
    if (n == 0)
        return 0;
    svg_panel panels[2] = {{"activation std per layer", "hidden layer",
                            "std of the layer's outputs (log)", 1, PLOT_FLOOR, NAN, NAN, act_series,
                            n},
                           {"weight-gradient norm per layer", "hidden layer", "||dL/dW|| (log)", 1,
                            PLOT_FLOOR, NAN, NAN, grad_series, n}};
    svg_legend_entry legend[STUDY_INIT_COUNT + 2];
    size_t nl = 0;
    for (size_t i = 0; i < o->init_count; ++i) {
        svg_legend_entry l = {init_colors[o->inits[i]], 0, study_init_name(o->inits[i])};
        legend[nl++] = l;
    }
    if (o->bn_off) {
        svg_legend_entry l = {"#777777", 0, "solid: no batch norm"};
        legend[nl++] = l;
    }
    if (o->bn_on) {
        svg_legend_entry l = {"#777777", 1, "dashed: batch norm"};
        legend[nl++] = l;
    }
    char title[160], caption[256];
    snprintf(title, sizeof title, "%s: %zu hidden layers of %zu units, one batch of %zu samples",
             clnn_activation_name(act), o->depth, o->width, o->probe_batch);
    snprintf(caption, sizeof caption,
             "At initialisation, forward (training mode) and backward without update. Values "
             "below %.0e are drawn at %.0e.",
             PLOT_FLOOR, PLOT_FLOOR);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "clnn-study: cannot write '%s': %s\n", path, strerror(errno));
        return -1;
    }
    svg_write_figure(f, title, caption, panels, 2, legend, nl);
    return close_out(f, path);
}

static int write_train_figure(const char *path, const options *o, clnn_activation act,
                              const study_entry *entries, size_t count)
{
    svg_series series[2 * STUDY_INIT_COUNT];
    double *buffers[2 * STUDY_INIT_COUNT];
    size_t n = 0;
    const size_t steps = o->train_steps;
    /* A centred moving average over `window` steps: single-batch losses are noisy. */
    const size_t window = steps / 25 > 1 ? steps / 25 : 1;
    double *x = malloc(steps * sizeof *x);
    int rc = -1;
    if (!x)
        return -1;
    for (size_t s = 0; s < steps; ++s)
        x[s] = (double)(s + 1);
    for (size_t e = 0; e < count; ++e) {
        const study_entry *en = &entries[e];
        if (en->config.activation != act || !en->trained || n >= 2 * STUDY_INIT_COUNT)
            continue;
        double *y = malloc(steps * sizeof *y);
        if (!y)
            goto done;
        for (size_t s = 0; s < steps; ++s) {
            size_t lo = s >= window / 2 ? s - window / 2 : 0;
            size_t hi = lo + window <= steps ? lo + window : steps;
            double sum = 0.0;
            for (size_t k = lo; k < hi; ++k)
                sum += en->train.loss[k];
            y[s] = sum / (double)(hi - lo);
        }
        buffers[n] = y;
        svg_series se = {x, y, steps, init_colors[en->config.init], en->config.batch_norm};
        series[n++] = se;
    }
    if (n == 0) {
        rc = 0;
        goto done;
    }
    char title[200], caption[256], ylabel[96];
    snprintf(title, sizeof title, "%s: training loss, %zu hidden layers of %zu units",
             clnn_activation_name(act), o->depth, o->width);
    snprintf(caption, sizeof caption,
             "%s, lr %g%s, batch %zu, %zu steps. Chance level: ln 10 = 2.303. NaN steps (skipped) "
             "break the line.",
             clnn_optimizer_kind_string(o->optimizer), o->lr,
             o->optimizer == CLNN_OPTIMIZER_SGD ? ", momentum 0.9" : "", o->train_batch, steps);
    if (window > 1)
        snprintf(ylabel, sizeof ylabel, "cross-entropy (mean of %zu steps)", window);
    else
        snprintf(ylabel, sizeof ylabel, "cross-entropy of each step's batch");
    svg_panel panel = {"training loss", "step", ylabel, 0, 0.0, 0.0, 2.5, series, n};
    svg_legend_entry legend[STUDY_INIT_COUNT + 2];
    size_t nl = 0;
    for (size_t i = 0; i < o->init_count; ++i) {
        svg_legend_entry l = {init_colors[o->inits[i]], 0, study_init_name(o->inits[i])};
        legend[nl++] = l;
    }
    if (o->bn_off) {
        svg_legend_entry l = {"#777777", 0, "solid: no batch norm"};
        legend[nl++] = l;
    }
    if (o->bn_on) {
        svg_legend_entry l = {"#777777", 1, "dashed: batch norm"};
        legend[nl++] = l;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "clnn-study: cannot write '%s': %s\n", path, strerror(errno));
        goto done;
    }
    svg_write_figure(f, title, caption, &panel, 1, legend, nl);
    rc = close_out(f, path);
done:
    for (size_t i = 0; i < n; ++i)
        free(buffers[i]);
    free(x);
    return rc;
}

/* A grid of the verdicts: one row per activation, one column per initialisation and batch norm. */
static int write_verdict_figure(const char *path, const options *o, const study_entry *entries,
                                size_t count)
{
    static const char *const fill[STUDY_VERDICT_COUNT] = {"#b7e1a1", "#9ecae1", "#fc9272",
                                                          "#fdd49e"};
    const int cell_w = 92, cell_h = 26, left = 96, top = 92;
    const int bn_modes = o->bn_off + o->bn_on;
    const int cols = (int)o->init_count * bn_modes;
    const int width = left + cols * cell_w + 16;
    const int height = top + (int)o->activation_count * cell_h + 56;
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "clnn-study: cannot write '%s': %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
            "version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            "font-family=\"Helvetica, Arial, sans-serif\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            width, height, width, height);
    fprintf(f,
            "<text x=\"12\" y=\"24\" font-size=\"16\" font-weight=\"bold\">Verdict at "
            "initialisation: %zu hidden layers of %zu units</text>\n",
            o->depth, o->width);
    for (int c = 0; c < cols; ++c) {
        const study_init init = o->inits[c / bn_modes];
        const int bn = bn_modes == 2 ? c % 2 : o->bn_on;
        const int x = left + c * cell_w + cell_w / 2;
        if (c % bn_modes == 0)
            fprintf(f,
                    "<text x=\"%d\" y=\"52\" font-size=\"12\" font-weight=\"bold\" "
                    "text-anchor=\"middle\">%s</text>\n",
                    left + c * cell_w + bn_modes * cell_w / 2, study_init_name(init));
        fprintf(f, "<text x=\"%d\" y=\"78\" font-size=\"11\" text-anchor=\"middle\">%s</text>\n", x,
                bn ? "batch norm" : "plain");
    }
    for (size_t r = 0; r < o->activation_count; ++r) {
        const int y = top + (int)r * cell_h;
        fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"end\">%s</text>\n",
                left - 8, y + 17, clnn_activation_name(o->activations[r]));
        for (int c = 0; c < cols; ++c) {
            const study_init init = o->inits[c / bn_modes];
            const int bn = bn_modes == 2 ? c % 2 : o->bn_on;
            const study_entry *en = NULL;
            for (size_t e = 0; e < count; ++e)
                if (entries[e].config.activation == o->activations[r] &&
                    entries[e].config.init == init && entries[e].config.batch_norm == bn)
                    en = &entries[e];
            if (!en)
                continue;
            const study_verdict v = en->summary.verdict;
            fprintf(f,
                    "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" "
                    "stroke=\"white\" stroke-width=\"2\"/>\n",
                    left + c * cell_w, y, cell_w, cell_h, fill[v]);
            fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%s",
                    left + c * cell_w + cell_w / 2, y + 17, study_verdict_name(v));
            if (en->trained)
                fprintf(f, " %.0f%%", 100.0 * en->train.eval_accuracy);
            fputs("</text>\n", f);
        }
    }
    fprintf(f,
            "<text x=\"12\" y=\"%d\" font-size=\"11\" fill=\"#444\">Verdict from the "
            "change of activation std and gradient norm between the first and the last hidden "
            "layer (vanishing below %g, exploding above %g) "
            "and the saturation of sigmoid/tanh (E[u^2] &gt;= %g)%s.</text>\n",
            height - 24, o->thresholds.vanishing, o->thresholds.exploding, o->thresholds.saturation,
            o->train_steps ? "; with the held-out accuracy after the short training" : "");
    fputs("</svg>\n", f);
    return close_out(f, path);
}

static void write_markdown(FILE *f, const options *o, const clnn_device_info *dev,
                           const study_entry *entries, size_t count, double seconds)
{
    fprintf(f, "# clnn-study results\n\n");
    fprintf(f, "- device: %s (%s)\n", dev->device_name, dev->platform_name);
    fprintf(f,
            "- network: 784 inputs, %zu hidden layers of %zu units, 10 outputs "
            "(cross-entropy); biases 0, batch-norm gamma 1, beta 0\n",
            o->depth, o->width);
    fprintf(f,
            "- probe: one batch of %zu Fashion-MNIST training samples (per-pixel "
            "standardised), forward in training mode and backward, no update\n",
            o->probe_batch);
    if (o->train_steps)
        fprintf(f,
                "- training: %zu steps of %zu samples, %s lr %g%s; final loss = mean of the "
                "last %zu steps; accuracy on the first %zu test samples\n",
                o->train_steps, o->train_batch, clnn_optimizer_kind_string(o->optimizer), o->lr,
                o->optimizer == CLNN_OPTIMIZER_SGD ? " momentum 0.9" : "",
                o->train_steps / 10 > 0 ? o->train_steps / 10 : 1, o->eval_count);
    fprintf(f, "- seed %llu; total time %.1f s\n\n", (unsigned long long)o->seed, seconds);
    fprintf(f,
            "Ratios compare hidden layer %zu with hidden layer 1 in the direction the signal "
            "travels: activation std of layer %zu over layer 1 (forward), weight-gradient norm "
            "of layer 1 over layer %zu (backward). \"per layer\" is the geometric mean factor "
            "per layer, ratio^(1/%zu). Verdict thresholds: vanishing below %g, exploding above "
            "%g, saturated when E[u^2] >= %g for sigmoid/tanh (u: the output mapped onto "
            "[-1, 1]).\n\n",
            o->depth, o->depth, o->depth, o->depth - 1, o->thresholds.vanishing,
            o->thresholds.exploding, o->thresholds.saturation);
    study_write_summary_markdown(f, entries, count);
}

int main(int argc, char **argv)
{
    options o;
    int rc = parse_options(argc, argv, &o);
    if (rc)
        return rc;

    struct timespec ts0;
    clock_gettime(CLOCK_MONOTONIC, &ts0);

    clnn_context *ctx = NULL;
    clnn_context_options co;
    clnn_context_options_init(&co);
    co.device = o.device;
    clnn_status status = clnn_context_create(&ctx, &co);
    if (status != CLNN_SUCCESS) {
        fprintf(stderr, "clnn-study: no device: %s: %s\n", clnn_status_string(status),
                clnn_context_last_error(NULL));
        return 1;
    }
    clnn_device_info dev;
    clnn_context_get_device_info(ctx, &dev);

    clnn_dataset train = {0}, test = {0};
    float *mean = NULL, *std = NULL, *probe_x = NULL;
    int32_t *probe_y = NULL;
    size_t *perm = NULL;
    study_entry *entries = NULL;
    size_t done = 0;
    rc = 1;

    status = clnn_dataset_load_idx_dir(o.data_dir, "train", 10, &train);
    if (status != CLNN_SUCCESS) {
        fprintf(stderr, "clnn-study: %s\n", clnn_context_last_error(NULL));
        goto cleanup;
    }
    mean = malloc(train.features * sizeof *mean);
    std = malloc(train.features * sizeof *std);
    probe_x = malloc(o.probe_batch * train.features * sizeof *probe_x);
    probe_y = malloc(o.probe_batch * sizeof *probe_y);
    perm = malloc(train.count * sizeof *perm);
    if (!mean || !std || !probe_x || !probe_y || !perm) {
        fprintf(stderr, "clnn-study: out of memory\n");
        goto cleanup;
    }
    if (o.probe_batch > train.count || (o.train_steps && o.train_batch > train.count)) {
        fprintf(stderr, "clnn-study: batch larger than the training set (%zu samples)\n",
                train.count);
        goto cleanup;
    }
    size_t rows;
    if (clnn_dataset_feature_stats(&train, CLNN_DATA_STD_EPSILON_PIXELS, mean, std,
                                   train.features) != CLNN_SUCCESS ||
        clnn_dataset_normalize(&train, mean, std, train.features) != CLNN_SUCCESS ||
        clnn_shuffle_permutation(o.seed, 0, train.count, perm) != CLNN_SUCCESS ||
        clnn_dataset_gather(&train, perm, train.count, 0, o.probe_batch, probe_x, probe_y, &rows) !=
            CLNN_SUCCESS) {
        fprintf(stderr, "clnn-study: %s\n", clnn_context_last_error(NULL));
        goto cleanup;
    }
    if (o.train_steps && o.eval_count) {
        clnn_dataset full = {0};
        if (clnn_dataset_load_idx_dir(o.data_dir, "test", 10, &full) != CLNN_SUCCESS ||
            clnn_dataset_slice(&full, 0, o.eval_count < full.count ? o.eval_count : full.count,
                               &test) != CLNN_SUCCESS ||
            clnn_dataset_normalize(&test, mean, std, test.features) != CLNN_SUCCESS) {
            fprintf(stderr, "clnn-study: %s\n", clnn_context_last_error(NULL));
            clnn_dataset_release(&full);
            goto cleanup;
        }
        clnn_dataset_release(&full);
    }

    const size_t total = o.activation_count * o.init_count * (size_t)(o.bn_off + o.bn_on);
    entries = calloc(total, sizeof *entries);
    if (!entries) {
        fprintf(stderr, "clnn-study: out of memory\n");
        goto cleanup;
    }
    study_data data = {probe_x, probe_y, o.probe_batch, o.train_steps ? &train : NULL,
                       test.count ? &test : NULL};
    study_train_options topt;
    memset(&topt, 0, sizeof topt);
    topt.steps = o.train_steps;
    topt.batch = o.train_batch;
    topt.shuffle_seed = o.seed + 1;
    clnn_optimizer_options_init(&topt.optimizer, o.optimizer);
    topt.optimizer.lr = o.lr;
    if (o.optimizer == CLNN_OPTIMIZER_SGD)
        topt.optimizer.momentum = o.momentum;

    printf(
        "clnn-study on %s: %zu combinations, %zu hidden layers of %zu units, probe batch %zu%s\n",
        dev.device_name, total, o.depth, o.width, o.probe_batch,
        o.train_steps ? ", with training" : "");
    fflush(stdout);
    for (size_t a = 0; a < o.activation_count; ++a)
        for (size_t i = 0; i < o.init_count; ++i)
            for (int bn = 0; bn < 2; ++bn) {
                if ((bn == 0 && !o.bn_off) || (bn == 1 && !o.bn_on))
                    continue;
                study_entry *en = &entries[done];
                en->config.inputs = train.features;
                en->config.outputs = 10;
                en->config.depth = o.depth;
                en->config.width = o.width;
                en->config.activation = o.activations[a];
                en->config.init = o.inits[i];
                en->config.batch_norm = bn;
                en->config.seed = o.seed;
                struct timespec c0, c1;
                clock_gettime(CLOCK_MONOTONIC, &c0);
                status = study_run(ctx, &en->config, &data, &topt, &en->probe, &en->train);
                clock_gettime(CLOCK_MONOTONIC, &c1);
                if (status != CLNN_SUCCESS) {
                    fprintf(stderr, "clnn-study: %s %s batch norm %s: %s: %s\n",
                            clnn_activation_name(en->config.activation),
                            study_init_name(en->config.init), bn ? "on" : "off",
                            clnn_status_string(status), clnn_context_last_error(ctx));
                    goto cleanup;
                }
                en->trained = o.train_steps > 0;
                study_summarize(&en->probe, &o.thresholds, &en->summary);
                if (en->trained)
                    study_summarize(&en->train.after, &o.thresholds, &en->after);
                ++done;
                if (!o.quiet) {
                    printf("[%3zu/%zu] %-10s %-12s bn %-3s  act L/1 %9.3g  grad 1/L %9.3g  %-9s",
                           done, total, clnn_activation_name(en->config.activation),
                           study_init_name(en->config.init), bn ? "on" : "off",
                           en->summary.act_ratio, en->summary.grad_ratio,
                           study_verdict_name(en->summary.verdict));
                    if (en->trained)
                        printf("  loss %.3f -> %.3f  acc %5.1f%%  then %s", en->probe.loss,
                               en->train.final_loss, 100.0 * en->train.eval_accuracy,
                               study_verdict_name(en->after.verdict));
                    printf("  %.2f s\n", (double)(c1.tv_sec - c0.tv_sec) +
                                             1e-9 * (double)(c1.tv_nsec - c0.tv_nsec));
                    fflush(stdout);
                }
            }

    struct timespec ts1;
    clock_gettime(CLOCK_MONOTONIC, &ts1);
    const double seconds =
        (double)(ts1.tv_sec - ts0.tv_sec) + 1e-9 * (double)(ts1.tv_nsec - ts0.tv_nsec);

    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/figures", o.out_dir);
    if (make_dir(o.out_dir) || make_dir(dir))
        goto cleanup;
    FILE *f;
    if (!(f = open_out(o.out_dir, "study-layers.csv", path, sizeof path)))
        goto cleanup;
    study_write_layers_csv(f, entries, done);
    if (close_out(f, path))
        goto cleanup;
    if (!(f = open_out(o.out_dir, "study-summary.csv", path, sizeof path)))
        goto cleanup;
    study_write_summary_csv(f, entries, done);
    if (close_out(f, path))
        goto cleanup;
    if (o.train_steps) {
        if (!(f = open_out(o.out_dir, "study-train.csv", path, sizeof path)))
            goto cleanup;
        study_write_train_csv(f, entries, done);
        if (close_out(f, path))
            goto cleanup;
    }
    if (!(f = open_out(o.out_dir, "study.md", path, sizeof path)))
        goto cleanup;
    write_markdown(f, &o, &dev, entries, done, seconds);
    if (close_out(f, path))
        goto cleanup;
    for (size_t a = 0; a < o.activation_count; ++a) {
        const char *name = clnn_activation_name(o.activations[a]);
        snprintf(path, sizeof path, "%s/probe-%s.svg", dir, name);
        if (write_probe_figure(path, &o, o.activations[a], entries, done))
            goto cleanup;
        if (o.train_steps) {
            snprintf(path, sizeof path, "%s/train-%s.svg", dir, name);
            if (write_train_figure(path, &o, o.activations[a], entries, done))
                goto cleanup;
        }
    }
    snprintf(path, sizeof path, "%s/verdicts.svg", dir);
    if (write_verdict_figure(path, &o, entries, done))
        goto cleanup;
    printf("wrote %s/study.md, study-summary.csv, study-layers.csv%s and %s/*.svg in %.1f s\n",
           o.out_dir, o.train_steps ? ", study-train.csv" : "", dir, seconds);
    rc = 0;

cleanup:
    for (size_t e = 0; entries && e < done; ++e)
        study_train_result_release(&entries[e].train);
    free(entries);
    free(perm);
    free(probe_x);
    free(probe_y);
    free(mean);
    free(std);
    clnn_dataset_release(&train);
    clnn_dataset_release(&test);
    clnn_context_destroy(ctx);
    return rc;
}
