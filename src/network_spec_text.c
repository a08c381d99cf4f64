/*
 * Network specs from text: the compact layer strings that clnn-train's --layers takes (the
 * grammar is in include/clnn/network.h, at clnn_network_spec_parse). The text may come from
 * anyone, so the parser reads it strictly: every character is accounted for, numbers are
 * bounded before they are multiplied, and an error names the item and character at fault.
 * Each parsed layer goes through clnn_network_spec_add(), which checks it against its input
 * shape as it does for records built in code.
 */
#include "network_internal.h"

#include <stdlib.h>
#include <string.h>

#define TEXT_MAX 4096
#define NUMBER_MAX 1000000000u /* bounds every size before it is used */

typedef struct parser {
    const char *text;
    const char *at;
    size_t item; /* 1-based, counting every layer and residual block */
    clnn_network_spec *spec;
} parser;

static clnn_status fail(const parser *ps, const char *what)
{
    return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                      "clnn_network_spec_parse: item %zu, character %zu: %s", ps->item,
                      (size_t)(ps->at - ps->text) + 1, what);
}

static int take(parser *ps, const char *word)
{
    size_t n = strlen(word);
    if (strncmp(ps->at, word, n) != 0)
        return 0;
    ps->at += n;
    return 1;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A decimal number of at most NUMBER_MAX; 0 when there is none or it is too large. */
static int number(parser *ps, size_t *value)
{
    if (!is_digit(*ps->at))
        return 0;
    size_t v = 0;
    while (is_digit(*ps->at)) {
        v = v * 10 + (size_t)(*ps->at - '0');
        ps->at++;
        if (v > NUMBER_MAX)
            return 0;
    }
    *value = v;
    return 1;
}

/* "N" (both axes) or "NxM" (height, width). */
static int pair(parser *ps, size_t value[2])
{
    if (!number(ps, &value[0]))
        return 0;
    value[1] = value[0];
    if (*ps->at == 'x') {
        ps->at++;
        return number(ps, &value[1]);
    }
    return 1;
}

/* An activation name: lower-case letters, digits and '_'. */
static clnn_status activation_name(parser *ps, clnn_activation_desc *desc)
{
    char name[32];
    size_t n = 0;
    const char *start = ps->at;
    while ((*ps->at >= 'a' && *ps->at <= 'z') || is_digit(*ps->at) || *ps->at == '_') {
        if (n + 1 >= sizeof name) {
            ps->at = start;
            return fail(ps, "activation name too long");
        }
        name[n++] = *ps->at++;
    }
    name[n] = '\0';
    clnn_activation kind;
    if (n == 0 || clnn_activation_from_name(name, &kind) != CLNN_SUCCESS) {
        ps->at = start;
        return fail(ps, "unknown layer or activation name");
    }
    return clnn_activation_desc_init(desc, kind);
}

static clnn_status conv_options(parser *ps, clnn_layer_spec *layer)
{
    if (!number(ps, &layer->units) || !take(ps, "k") || !pair(ps, layer->conv.kernel))
        return fail(ps, "a convolution reads conv<channels>k<kernel>");
    int seen[5] = {0};
    for (;;) {
        int which;
        int ok;
        if (take(ps, "s"))
            which = 0, ok = pair(ps, layer->conv.stride);
        else if (take(ps, "p"))
            which = 1, ok = pair(ps, layer->conv.padding);
        else if (take(ps, "d"))
            which = 2, ok = pair(ps, layer->conv.dilation);
        else if (take(ps, "g"))
            which = 3, ok = number(ps, &layer->conv.groups);
        else if (take(ps, "nb"))
            which = 4, ok = 1, layer->bias = 0;
        else
            return CLNN_SUCCESS;
        if (!ok)
            return fail(ps, "a convolution option needs a number of at most 10^9");
        if (seen[which]++)
            return fail(ps, "a convolution option is given twice");
    }
}

static clnn_status pool_options(parser *ps, clnn_layer_spec *layer, clnn_pool_kind kind)
{
    size_t kernel[2];
    if (!pair(ps, kernel))
        return fail(ps, "pooling reads maxpool<kernel> or avgpool<kernel>");
    clnn_pool2d_desc_init(&layer->pool, kind, kernel[0], kernel[1]);
    int seen[3] = {0};
    for (;;) {
        int which;
        int ok;
        if (take(ps, "s"))
            which = 0, ok = pair(ps, layer->pool.stride);
        else if (take(ps, "p"))
            which = 1, ok = pair(ps, layer->pool.padding);
        else if (kind == CLNN_POOL_AVERAGE && take(ps, "ex"))
            which = 2, ok = 1, layer->pool.count_include_pad = 0;
        else
            return CLNN_SUCCESS;
        if (!ok)
            return fail(ps, "a pooling option needs a number of at most 10^9");
        if (seen[which]++)
            return fail(ps, "a pooling option is given twice");
    }
}

/* Adds one record, naming the item when the spec refuses it. */
static clnn_status add(parser *ps, const clnn_layer_spec *layer)
{
    clnn_status status = clnn_network_spec_add(ps->spec, layer);
    if (status == CLNN_SUCCESS)
        return status;
    char reason[256];
    strncpy(reason, clnn_context_last_error(NULL), sizeof reason - 1);
    reason[sizeof reason - 1] = '\0';
    return clnn_error(NULL, status, "clnn_network_spec_parse: item %zu: %s", ps->item, reason);
}

/* One item up to (not including) the ',' or ']' or end that follows it. */
static clnn_status item(parser *ps, int *opens)
{
    clnn_layer_spec layer;
    int may_activate = 1;
    clnn_status status = CLNN_SUCCESS;
    if (take(ps, "res[")) {
        clnn_layer_spec_init(&layer, CLNN_LAYER_RESIDUAL_BEGIN);
        *opens = 1;
        return add(ps, &layer);
    }
    if (take(ps, "dense")) {
        clnn_layer_spec_init(&layer, CLNN_LAYER_DENSE);
        if (!number(ps, &layer.units))
            return fail(ps, "a dense layer reads dense<units>");
    } else if (take(ps, "conv")) {
        clnn_layer_spec_init(&layer, CLNN_LAYER_CONV2D);
        status = conv_options(ps, &layer);
    } else if (take(ps, "bn")) {
        clnn_layer_spec_init(&layer, CLNN_LAYER_BATCH_NORM);
    } else if (take(ps, "maxpool")) {
        clnn_layer_spec_init(&layer, CLNN_LAYER_POOL2D);
        status = pool_options(ps, &layer, CLNN_POOL_MAX);
        may_activate = 0;
    } else if (take(ps, "avgpool")) {
        clnn_layer_spec_init(&layer, CLNN_LAYER_POOL2D);
        status = pool_options(ps, &layer, CLNN_POOL_AVERAGE);
        may_activate = 0;
    } else if (take(ps, "gap")) {
        clnn_layer_spec_init(&layer, CLNN_LAYER_GLOBAL_AVG_POOL);
        may_activate = 0;
    } else if (take(ps, "flatten")) {
        clnn_layer_spec_init(&layer, CLNN_LAYER_FLATTEN);
        may_activate = 0;
    } else if (take(ps, "dropout")) {
        clnn_layer_spec_init(&layer, CLNN_LAYER_DROPOUT);
        char *end = NULL;
        if (!is_digit(*ps->at))
            return fail(ps, "dropout reads dropout<p>, 0 <= p < 1");
        double p = strtod(ps->at, &end);
        ps->at = end;
        layer.dropout = (float)p;
        may_activate = 0;
    } else if (take(ps, "preluc")) {
        clnn_layer_spec_init(&layer, CLNN_LAYER_PRELU);
        layer.prelu_per_channel = 1;
        may_activate = 0;
    } else if (take(ps, "prelu")) {
        clnn_layer_spec_init(&layer, CLNN_LAYER_PRELU);
        may_activate = 0;
    } else {
        clnn_layer_spec_init(&layer, CLNN_LAYER_ACTIVATION);
        status = activation_name(ps, &layer.activation);
        may_activate = 0;
    }
    if (status != CLNN_SUCCESS)
        return status;
    if (*ps->at == ':') {
        if (!may_activate)
            return fail(ps, "this layer takes no activation");
        ps->at++;
        status = activation_name(ps, &layer.activation);
        if (status != CLNN_SUCCESS)
            return status;
    }
    return add(ps, &layer);
}

/* Closes the innermost block at a ']': "proj" and ":activation" may follow. */
static clnn_status close_block(parser *ps)
{
    clnn_layer_spec layer;
    clnn_layer_spec_init(&layer, CLNN_LAYER_RESIDUAL_END);
    if (take(ps, "proj"))
        layer.skip = CLNN_RESIDUAL_PROJECTION;
    if (*ps->at == ':') {
        ps->at++;
        clnn_status status = activation_name(ps, &layer.activation);
        if (status != CLNN_SUCCESS)
            return status;
    }
    return add(ps, &layer);
}

static clnn_status parse(parser *ps)
{
    int depth = 0;
    for (;;) {
        ps->item++;
        int opens = 0;
        clnn_status status = item(ps, &opens);
        if (status != CLNN_SUCCESS)
            return status;
        if (opens) {
            depth++;
            continue; /* the block's first item follows directly */
        }
        while (*ps->at == ']') {
            if (depth == 0)
                return fail(ps, "']' without an open res[");
            ps->at++;
            status = close_block(ps);
            if (status != CLNN_SUCCESS)
                return status;
            depth--;
        }
        if (*ps->at == '\0')
            break;
        if (*ps->at != ',')
            return fail(ps, "expected ',' between layers");
        ps->at++;
    }
    if (depth > 0)
        return fail(ps, "a res[ block is not closed");
    return CLNN_SUCCESS;
}

clnn_status clnn_network_spec_parse(const char *text, int ndim, const size_t *dims,
                                    clnn_network_spec **spec)
{
    if (!text || !spec)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_network_spec_parse: %s is NULL",
                          text ? "spec" : "text");
    size_t length = strnlen(text, TEXT_MAX + 1);
    if (length > TEXT_MAX)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_network_spec_parse: the text is longer than %d characters",
                          TEXT_MAX);
    if (length == 0)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_network_spec_parse: the text names no layer");
    clnn_network_spec *made = NULL;
    clnn_status status = clnn_network_spec_create(&made, ndim, dims);
    if (status != CLNN_SUCCESS)
        return status;
    parser ps = {.text = text, .at = text, .spec = made};
    status = parse(&ps);
    if (status != CLNN_SUCCESS) {
        clnn_network_spec_destroy(made);
        return status;
    }
    *spec = made;
    return CLNN_SUCCESS;
}
