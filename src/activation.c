/*
 * Activation functions: names and descriptors, their checks, and the launches of the elementwise
 * kernels in kernels/activation.cl (forward, and backward from the input or the output). Each
 * kind is its own program variant, built once per context with -DCLNN_ACTIVATION=<kind>. The ops
 * that carry a parameter and reduce over rows in their backward (fused bias + activation, PReLU)
 * are src/activation_reduce.c.
 */
#include "activation_common.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>


static const char *const activation_names[] = {
    "identity", "sigmoid",   "tanh",      "relu",     "relu6",       "hardtanh",  "leaky_relu",
    "elu",      "selu",      "celu",      "gelu",     "gelu_tanh",   "silu",      "swish",
    "softplus", "mish",      "hardsigmoid", "hardswish", "softsign",
};
_Static_assert(sizeof activation_names / sizeof activation_names[0] == CLNN_ACTIVATION_COUNT,
               "activation_names must name every clnn_activation");
_Static_assert(CLNN_ACTIVATION_SOFTSIGN == 18 && CLNN_ACTIVATION_GELU == 10,
               "clnn_activation numbers are fixed: kernels/activation.h uses them");

const char *clnn_activation_name(clnn_activation kind)
{
    if ((unsigned)kind >= CLNN_ACTIVATION_COUNT)
        return "unknown";
    return activation_names[kind];
}

clnn_status clnn_activation_from_name(const char *name, clnn_activation *kind)
{
    if (!name || !kind)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_activation_from_name: %s is NULL",
                          name ? "kind" : "name");
    for (int i = 0; i < CLNN_ACTIVATION_COUNT; ++i) {
        if (!strcasecmp(name, activation_names[i])) {
            *kind = (clnn_activation)i;
            return CLNN_SUCCESS;
        }
    }
    if (!strcasecmp(name, "none") || !strcasecmp(name, "linear")) {
        *kind = CLNN_ACTIVATION_IDENTITY;
        return CLNN_SUCCESS;
    }
    if (!strcasecmp(name, "gelu-tanh")) {
        *kind = CLNN_ACTIVATION_GELU_TANH;
        return CLNN_SUCCESS;
    }
    char list[512] = "";
    size_t used = 0;
    for (int i = 0; i < CLNN_ACTIVATION_COUNT && used < sizeof list; ++i) {
        int n = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                         activation_names[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                      "unknown activation '%.64s'; valid names: %s", name, list);
}

clnn_status clnn_activation_desc_init(clnn_activation_desc *desc, clnn_activation kind)
{
    if (!desc)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_activation_desc_init: desc is NULL");
    if ((unsigned)kind >= CLNN_ACTIVATION_COUNT)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_activation_desc_init: unknown activation kind %d", (int)kind);
    desc->kind = kind;
    desc->negative_slope = 0.01f;
    desc->alpha = 1.0f;
    desc->min_val = -1.0f;
    desc->max_val = 1.0f;
    desc->beta = 1.0f;
    desc->threshold = 20.0f;
    return CLNN_SUCCESS;
}

static clnn_status bad_param(clnn_context *ctx, const char *function, const clnn_activation_desc *d,
                             const char *field, float value, const char *need)
{
    return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: %s has %s = %g; it must be %s", function,
                      activation_names[d->kind], field, (double)value, need);
}

static clnn_status validate(clnn_context *ctx, const clnn_activation_desc *d, const char *function)
{
    if (!d)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: desc is NULL", function);
    if ((unsigned)d->kind >= CLNN_ACTIVATION_COUNT)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s: unknown activation kind %d",
                          function, (int)d->kind);
    switch (d->kind) {
    case CLNN_ACTIVATION_LEAKY_RELU:
        if (!isfinite(d->negative_slope))
            return bad_param(ctx, function, d, "negative_slope", d->negative_slope, "finite");
        break;
    case CLNN_ACTIVATION_ELU:
        if (!isfinite(d->alpha))
            return bad_param(ctx, function, d, "alpha", d->alpha, "finite");
        break;
    case CLNN_ACTIVATION_CELU:
        if (!isfinite(d->alpha) || d->alpha == 0.0f)
            return bad_param(ctx, function, d, "alpha", d->alpha, "finite and not 0");
        break;
    case CLNN_ACTIVATION_HARDTANH:
        if (!isfinite(d->min_val))
            return bad_param(ctx, function, d, "min_val", d->min_val, "finite");
        if (!isfinite(d->max_val) || !(d->max_val > d->min_val))
            return bad_param(ctx, function, d, "max_val", d->max_val,
                             "finite and greater than min_val");
        break;
    case CLNN_ACTIVATION_SWISH:
        if (!isfinite(d->beta))
            return bad_param(ctx, function, d, "beta", d->beta, "finite");
        break;
    case CLNN_ACTIVATION_SOFTPLUS:
        if (!isfinite(d->beta) || d->beta == 0.0f)
            return bad_param(ctx, function, d, "beta", d->beta, "finite and not 0");
        if (isnan(d->threshold))
            return bad_param(ctx, function, d, "threshold", d->threshold, "a number");
        break;
    default:
        break;
    }
    return CLNN_SUCCESS;
}

clnn_status clnn_activation_desc_check(const clnn_activation_desc *desc)
{
    return validate(NULL, desc, "clnn_activation_desc_check");
}

clnn_status clnn_activation_check_desc(clnn_context *ctx, const clnn_activation_desc *desc,
                                       const char *function)
{
    return validate(ctx, desc, function);
}

int clnn_activation_has_output_backward(clnn_activation kind)
{
    switch (kind) {
    case CLNN_ACTIVATION_IDENTITY:
    case CLNN_ACTIVATION_SIGMOID:
    case CLNN_ACTIVATION_TANH:
    case CLNN_ACTIVATION_RELU:
    case CLNN_ACTIVATION_LEAKY_RELU:
    case CLNN_ACTIVATION_ELU:
        return 1;
    default:
        return 0;
    }
}

clnn_status clnn_activation_build(clnn_context *ctx, const clnn_activation_desc *desc)
{
    char options[CLNN_ACTIVATION_OPTIONS_SIZE];
    clnn_activation_build_options(desc, options, sizeof options);
    if (!options[0]) /* the identity: the shared program's kernels, built on their own */
        return CLNN_SUCCESS;
    return clnn_build_program(ctx, "activation.cl", options);
}

void clnn_activation_build_options(const clnn_activation_desc *desc, char *options, size_t size)
{
    if (desc->kind == CLNN_ACTIVATION_IDENTITY)
        snprintf(options, size, "%s", "");
    else
        snprintf(options, size, "-DCLNN_ACTIVATION=%d", (int)desc->kind);
}

cl_float4 clnn_activation_kernel_params(const clnn_activation_desc *d)
{
    cl_float4 p;
    memset(&p, 0, sizeof p);
    switch (d->kind) {
    case CLNN_ACTIVATION_LEAKY_RELU:
        p.s[0] = d->negative_slope;
        break;
    case CLNN_ACTIVATION_ELU:
    case CLNN_ACTIVATION_CELU:
        p.s[0] = d->alpha;
        break;
    case CLNN_ACTIVATION_HARDTANH:
        p.s[0] = d->min_val;
        p.s[1] = d->max_val;
        break;
    case CLNN_ACTIVATION_SWISH:
        p.s[0] = d->beta;
        break;
    case CLNN_ACTIVATION_SOFTPLUS:
        p.s[0] = d->beta;
        p.s[1] = d->threshold;
        p.s[2] = 1.0f / d->beta; /* a product in the kernel, not a division per element */
        break;
    default:
        break;
    }
    return p;
}

/* ---- the backward from the output ------------------------------------------------------------ */

clnn_status clnn_activation_check_output_backward(clnn_context *ctx, const char *function,
                                                  const clnn_activation_desc *desc)
{
    if (!clnn_activation_has_output_backward(desc->kind))
        return clnn_error(ctx, CLNN_ERR_UNSUPPORTED,
                          "%s: %s has no backward from its output; keep its input instead "
                          "(identity, sigmoid, tanh, relu, leaky_relu and elu have one)",
                          function, activation_names[desc->kind]);
    if (desc->kind == CLNN_ACTIVATION_LEAKY_RELU && !(desc->negative_slope >= 0.0f))
        return clnn_error(ctx, CLNN_ERR_UNSUPPORTED,
                          "%s: leaky_relu with negative_slope %g < 0 has no backward from its "
                          "output (y > 0 no longer tells x > 0)",
                          function, (double)desc->negative_slope);
    if (desc->kind == CLNN_ACTIVATION_ELU && !(desc->alpha >= 0.0f))
        return clnn_error(ctx, CLNN_ERR_UNSUPPORTED,
                          "%s: elu with alpha %g < 0 has no backward from its output",
                          function, (double)desc->alpha);
    return CLNN_SUCCESS;
}

/* ---- elementwise ----------------------------------------------------------------------------- */

/* Launches an elementwise kernel of the CPU forms (kernels/activation.cl: n / 16 work-items of
 * 16 elements and one for the remainder). */
static clnn_status run_elementwise16(clnn_context *ctx, cl_kernel k, const char *name, size_t n,
                                     size_t count, const clnn_kernel_arg *args)
{
    size_t items = n / 16 + 1, local = clnn_kernel_group_size(ctx, k);
    local = local < ACT_CPU_GROUP ? local : ACT_CPU_GROUP;
    size_t global = round_up(items, local);
    return clnn_run_kernel(ctx, k, name, 1, &global, &local, count, args);
}

clnn_status clnn_activation_forward(clnn_context *ctx, const clnn_activation_desc *desc,
                                    const clnn_tensor *x, clnn_tensor *y)
{
    static const char fn[] = "clnn_activation_forward";
    clnn_status s = clnn_check_context(ctx, fn);
    if (s == CLNN_SUCCESS)
        s = validate(ctx, desc, fn);
    if (s == CLNN_SUCCESS)
        s = check_tensor(ctx, fn, x, "x");
    if (s == CLNN_SUCCESS)
        s = check_tensor(ctx, fn, y, "y");
    if (s == CLNN_SUCCESS)
        s = check_same_shape(ctx, fn, x, "x", y, "y");
    cl_kernel k;
    if (s == CLNN_SUCCESS)
        s = get_kernel(ctx, desc, "clnn_activation_forward", &k);
    if (s != CLNN_SUCCESS)
        return s;
    cl_uint n = (cl_uint)x->count;
    cl_float4 p = clnn_activation_kernel_params(desc);
    if (clnn_cpu_forms(ctx)) {
        if ((s = get_kernel(ctx, desc, "clnn_activation_forward16", &k)) != CLNN_SUCCESS)
            return s;
        return run_elementwise16(ctx, k, "clnn_activation_forward16", x->count,
                                 CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(y->buffer),
                                           CLNN_ARG(n), CLNN_ARG(p)));
    }
    return clnn_run_kernel_1d(ctx, k, "clnn_activation_forward", x->count,
                              CLNN_ARGS(CLNN_ARG(x->buffer), CLNN_ARG(y->buffer), CLNN_ARG(n),
                                        CLNN_ARG(p)));
}

static clnn_status elementwise_backward(clnn_context *ctx, const char *fn,
                                        const clnn_activation_desc *desc, const clnn_tensor *in,
                                        const char *in_name, const clnn_tensor *dy, float beta,
                                        clnn_tensor *dx, int from_y)
{
    clnn_status s = clnn_check_context(ctx, fn);
    if (s == CLNN_SUCCESS)
        s = validate(ctx, desc, fn);
    if (s == CLNN_SUCCESS && from_y)
        s = clnn_activation_check_output_backward(ctx, fn, desc);
    if (s == CLNN_SUCCESS)
        s = check_tensor(ctx, fn, in, in_name);
    if (s == CLNN_SUCCESS)
        s = check_tensor(ctx, fn, dy, "dy");
    if (s == CLNN_SUCCESS)
        s = check_tensor(ctx, fn, dx, "dx");
    if (s == CLNN_SUCCESS)
        s = check_same_shape(ctx, fn, in, in_name, dy, "dy");
    if (s == CLNN_SUCCESS)
        s = check_same_shape(ctx, fn, in, in_name, dx, "dx");
    if (s == CLNN_SUCCESS)
        s = check_beta(ctx, fn, beta, "beta");
    if (s != CLNN_SUCCESS)
        return s;
    int cpu = clnn_cpu_forms(ctx);
    const char *name = from_y ? (cpu ? "clnn_activation_backward_from_y16"
                                     : "clnn_activation_backward_from_y")
                              : (cpu ? "clnn_activation_backward16" : "clnn_activation_backward");
    cl_kernel k;
    if ((s = get_kernel(ctx, desc, name, &k)) != CLNN_SUCCESS)
        return s;
    cl_uint n = (cl_uint)in->count;
    cl_float b = beta;
    cl_float4 p = clnn_activation_kernel_params(desc);
    return (cpu ? run_elementwise16 : clnn_run_kernel_1d)(
        ctx, k, name, in->count,
                              CLNN_ARGS(CLNN_ARG(in->buffer), CLNN_ARG(dy->buffer),
                                        CLNN_ARG(dx->buffer), CLNN_ARG(n), CLNN_ARG(b),
                                        CLNN_ARG(p)));
}

clnn_status clnn_activation_backward(clnn_context *ctx, const clnn_activation_desc *desc,
                                     const clnn_tensor *x, const clnn_tensor *dy, float beta,
                                     clnn_tensor *dx)
{
    return elementwise_backward(ctx, "clnn_activation_backward", desc, x, "x", dy, beta, dx, 0);
}

clnn_status clnn_activation_backward_from_output(clnn_context *ctx,
                                                 const clnn_activation_desc *desc,
                                                 const clnn_tensor *y, const clnn_tensor *dy,
                                                 float beta, clnn_tensor *dx)
{
    return elementwise_backward(ctx, "clnn_activation_backward_from_output", desc, y, "y", dy,
                                beta, dx, 1);
}
