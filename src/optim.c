/*
 * Optimisers (torch.optim's SGD, RMSprop, Adam, AdamW, Adagrad) and learning-rate schedules.
 * The optimiser validates its hyper-parameters as PyTorch does, owns one state tensor per slot
 * and parameter, and per step computes the step-dependent scalars in double on the host and
 * launches one fused kernel per parameter (kernels/optim.cl).
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Kernel flags, as in kernels/optim.cl. */
#define OPT_WEIGHT_DECAY 1u
#define OPT_MOMENTUM 2u
#define OPT_NESTEROV 4u
#define OPT_FIRST 8u
#define OPT_CENTERED 16u
#define OPT_AMSGRAD 32u
#define OPT_DECOUPLED 64u

#define MAX_SLOTS 3

/* What a state slot holds; its name is PyTorch's state_dict key. */
typedef enum state_role {
    ROLE_MOMENTUM, /* momentum_buffer */
    ROLE_SQUARE_AVG,
    ROLE_GRAD_AVG,
    ROLE_EXP_AVG,
    ROLE_EXP_AVG_SQ,
    ROLE_MAX_EXP_AVG_SQ,
    ROLE_SUM,
    ROLE_COUNT
} state_role;

static const char *const role_names[] = {
    "momentum_buffer", "square_avg", "grad_avg", "exp_avg", "exp_avg_sq", "max_exp_avg_sq", "sum",
};
_Static_assert(sizeof role_names / sizeof role_names[0] == ROLE_COUNT, "one name per role");

static const char *const kind_names[] = {"sgd", "rmsprop", "adam", "adamw", "adagrad"};
_Static_assert(sizeof kind_names / sizeof kind_names[0] == CLNN_OPTIMIZER_KIND_COUNT,
               "one name per optimiser kind");

struct clnn_optimizer {
    clnn_context *ctx;
    clnn_optimizer_options options;
    uint64_t step;
    size_t count;
    clnn_tensor **params; /* borrowed */
    size_t slots;
    state_role roles[MAX_SLOTS];
    int slot_of[ROLE_COUNT]; /* slot index of a role, -1 when absent */
    clnn_tensor **state;     /* state[param * slots + slot], owned */
    cl_kernel kernel;        /* owned by the context's kernel cache */
    const char *kernel_name;
};

const char *clnn_optimizer_kind_string(clnn_optimizer_kind kind)
{
    return (unsigned)kind < CLNN_OPTIMIZER_KIND_COUNT ? kind_names[kind] : "unknown";
}

clnn_status clnn_optimizer_options_init(clnn_optimizer_options *options, clnn_optimizer_kind kind)
{
    if (!options)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_optimizer_options_init: options is NULL");
    if ((unsigned)kind >= CLNN_OPTIMIZER_KIND_COUNT)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_optimizer_options_init: unknown optimiser kind %d", (int)kind);
    memset(options, 0, sizeof *options);
    options->kind = kind;
    options->alpha = 0.99;
    options->beta1 = 0.9;
    options->beta2 = 0.999;
    switch (kind) {
    case CLNN_OPTIMIZER_SGD:
        options->lr = 1e-3;
        break;
    case CLNN_OPTIMIZER_RMSPROP:
        options->lr = 1e-2;
        options->eps = 1e-8;
        break;
    case CLNN_OPTIMIZER_ADAM:
        options->lr = 1e-3;
        options->eps = 1e-8;
        break;
    case CLNN_OPTIMIZER_ADAMW:
        options->lr = 1e-3;
        options->eps = 1e-8;
        options->weight_decay = 1e-2;
        break;
    default: /* CLNN_OPTIMIZER_ADAGRAD */
        options->lr = 1e-2;
        options->eps = 1e-10;
        break;
    }
    return CLNN_SUCCESS;
}

/* value >= 0 and finite (NaN fails). */
static clnn_status check_nonnegative(clnn_context *ctx, double value, const char *name)
{
    if (!(value >= 0.0) || !isfinite(value))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "optimiser option %s is %g; it must be finite and >= 0", name, value);
    return CLNN_SUCCESS;
}

static clnn_status check_beta(clnn_context *ctx, double value, const char *name)
{
    if (!(value >= 0.0 && value < 1.0))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "optimiser option %s is %g; it must be in [0, 1)", name, value);
    return CLNN_SUCCESS;
}

/* The checks torch.optim's constructors make, plus finiteness of everything the kind uses. */
static clnn_status check_options(clnn_context *ctx, const clnn_optimizer_options *o)
{
#define CHECK(call)                                                                                \
    do {                                                                                           \
        clnn_status s_ = (call);                                                                   \
        if (s_ != CLNN_SUCCESS)                                                                    \
            return s_;                                                                             \
    } while (0)
    if ((unsigned)o->kind >= CLNN_OPTIMIZER_KIND_COUNT)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "unknown optimiser kind %d",
                          (int)o->kind);
    CHECK(check_nonnegative(ctx, o->lr, "lr"));
    CHECK(check_nonnegative(ctx, o->weight_decay, "weight_decay"));
    switch (o->kind) {
    case CLNN_OPTIMIZER_SGD:
        CHECK(check_nonnegative(ctx, o->momentum, "momentum"));
        if (!isfinite(o->dampening))
            return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                              "optimiser option dampening is %g; it must be finite", o->dampening);
        if (o->nesterov && (o->momentum <= 0.0 || o->dampening != 0.0))
            return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                              "Nesterov momentum needs momentum > 0 and dampening 0 "
                              "(momentum %g, dampening %g)",
                              o->momentum, o->dampening);
        break;
    case CLNN_OPTIMIZER_RMSPROP:
        CHECK(check_nonnegative(ctx, o->eps, "eps"));
        CHECK(check_nonnegative(ctx, o->momentum, "momentum"));
        CHECK(check_nonnegative(ctx, o->alpha, "alpha"));
        break;
    case CLNN_OPTIMIZER_ADAM:
    case CLNN_OPTIMIZER_ADAMW:
        CHECK(check_nonnegative(ctx, o->eps, "eps"));
        CHECK(check_beta(ctx, o->beta1, "beta1"));
        CHECK(check_beta(ctx, o->beta2, "beta2"));
        break;
    default: /* CLNN_OPTIMIZER_ADAGRAD */
        CHECK(check_nonnegative(ctx, o->eps, "eps"));
        CHECK(check_nonnegative(ctx, o->lr_decay, "lr_decay"));
        CHECK(check_nonnegative(ctx, o->initial_accumulator_value, "initial_accumulator_value"));
        break;
    }
    return CLNN_SUCCESS;
#undef CHECK
}

/* The state slots of a configuration, in PyTorch's state_dict order, and the kernel. */
static void plan_slots(clnn_optimizer *opt)
{
    const clnn_optimizer_options *o = &opt->options;
    size_t n = 0;
    switch (o->kind) {
    case CLNN_OPTIMIZER_SGD:
        if (o->momentum != 0.0)
            opt->roles[n++] = ROLE_MOMENTUM;
        opt->kernel_name = "clnn_sgd_step";
        break;
    case CLNN_OPTIMIZER_RMSPROP:
        opt->roles[n++] = ROLE_SQUARE_AVG;
        if (o->momentum > 0.0)
            opt->roles[n++] = ROLE_MOMENTUM;
        if (o->centered)
            opt->roles[n++] = ROLE_GRAD_AVG;
        opt->kernel_name = "clnn_rmsprop_step";
        break;
    case CLNN_OPTIMIZER_ADAM:
    case CLNN_OPTIMIZER_ADAMW:
        opt->roles[n++] = ROLE_EXP_AVG;
        opt->roles[n++] = ROLE_EXP_AVG_SQ;
        if (o->amsgrad)
            opt->roles[n++] = ROLE_MAX_EXP_AVG_SQ;
        opt->kernel_name = "clnn_adam_step";
        break;
    default:
        opt->roles[n++] = ROLE_SUM;
        opt->kernel_name = "clnn_adagrad_step";
        break;
    }
    opt->slots = n;
    for (int r = 0; r < ROLE_COUNT; ++r)
        opt->slot_of[r] = -1;
    for (size_t s = 0; s < n; ++s)
        opt->slot_of[opt->roles[s]] = (int)s;
}

clnn_status clnn_optimizer_destroy(clnn_optimizer *optimizer)
{
    if (!optimizer)
        return CLNN_SUCCESS;
    if (optimizer->state)
        for (size_t i = 0; i < optimizer->count * optimizer->slots; ++i)
            clnn_tensor_destroy(optimizer->state[i]);
    free(optimizer->state);
    free(optimizer->params);
    free(optimizer);
    return CLNN_SUCCESS;
}

clnn_status clnn_optimizer_create(clnn_context *ctx, const clnn_optimizer_options *options,
                                  clnn_tensor *const *params, size_t count,
                                  clnn_optimizer **optimizer)
{
    clnn_status status = clnn_check_context(ctx, "clnn_optimizer_create");
    if (status != CLNN_SUCCESS)
        return status;
    if (!options || !params || !optimizer)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "clnn_optimizer_create: %s is NULL",
                          !options  ? "options"
                          : !params ? "params"
                                    : "optimizer");
    if (count == 0)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_optimizer_create: count is 0; an optimiser needs parameters");
    for (size_t i = 0; i < count; ++i) {
        char name[32];
        snprintf(name, sizeof name, "params[%zu]", i);
        status = clnn_check_tensor(ctx, params[i], name);
        if (status != CLNN_SUCCESS)
            return status;
        for (size_t j = 0; j < i; ++j)
            if (params[j] == params[i])
                return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                                  "clnn_optimizer_create: params[%zu] and params[%zu] are the "
                                  "same tensor",
                                  j, i);
    }
    status = check_options(ctx, options);
    if (status != CLNN_SUCCESS)
        return status;

    clnn_optimizer *opt = calloc(1, sizeof *opt);
    if (!opt)
        return clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory creating an optimiser");
    opt->ctx = ctx;
    opt->options = *options;
    opt->count = count;
    plan_slots(opt);
    opt->params = malloc(count * sizeof *opt->params);
    opt->state = opt->slots ? calloc(count * opt->slots, sizeof *opt->state) : NULL;
    if (!opt->params || (opt->slots && !opt->state)) {
        clnn_optimizer_destroy(opt);
        return clnn_error(ctx, CLNN_ERR_HOST_MEMORY, "out of memory creating an optimiser");
    }
    memcpy(opt->params, params, count * sizeof *params);

    status = clnn_get_kernel(ctx, "optim.cl", NULL, opt->kernel_name, &opt->kernel);
    for (size_t i = 0; status == CLNN_SUCCESS && i < count; ++i) {
        for (size_t s = 0; status == CLNN_SUCCESS && s < opt->slots; ++s) {
            clnn_tensor **t = &opt->state[i * opt->slots + s];
            status = clnn_tensor_create(ctx, params[i]->ndim, params[i]->dims, t);
            if (status == CLNN_SUCCESS)
                status = clnn_tensor_fill(*t, opt->roles[s] == ROLE_SUM
                                                  ? (float)options->initial_accumulator_value
                                                  : 0.0f);
        }
    }
    if (status != CLNN_SUCCESS) {
        clnn_optimizer_destroy(opt);
        return status;
    }
    *optimizer = opt;
    return CLNN_SUCCESS;
}

/* The state buffer of a role for parameter i, NULL when the configuration has none. */
static cl_mem state_buffer(const clnn_optimizer *opt, size_t i, state_role role)
{
    int s = opt->slot_of[role];
    return s < 0 ? NULL : opt->state[i * opt->slots + (size_t)s]->buffer;
}

/* Sets the kernel's arguments for parameter i and queues it. */
static clnn_status launch(clnn_optimizer *opt, size_t i, const clnn_tensor *grad)
{
    const clnn_optimizer_options *o = &opt->options;
    clnn_context *ctx = opt->ctx;
    cl_mem p = opt->params[i]->buffer, g = grad->buffer;
    cl_uint n = (cl_uint)opt->params[i]->count;
    size_t items = (opt->params[i]->count + 3) / 4;
    double t = (double)opt->step + 1.0; /* PyTorch increments its step before using it */
    cl_uint flags = o->weight_decay != 0.0 ? OPT_WEIGHT_DECAY : 0u;
    cl_float lr = (cl_float)o->lr, wd = (cl_float)o->weight_decay, eps = (cl_float)o->eps;

    switch (o->kind) {
    case CLNN_OPTIMIZER_SGD: {
        cl_mem buf = state_buffer(opt, i, ROLE_MOMENTUM);
        cl_float momentum = (cl_float)o->momentum;
        cl_float one_minus_dampening = (cl_float)(1.0 - o->dampening);
        if (buf)
            flags |= OPT_MOMENTUM | (o->nesterov ? OPT_NESTEROV : 0u) |
                     (opt->step == 0 ? OPT_FIRST : 0u);
        return clnn_run_kernel_1d(ctx, opt->kernel, opt->kernel_name, items,
                                  CLNN_ARGS(CLNN_ARG(p), CLNN_ARG(g), CLNN_ARG(buf), CLNN_ARG(n),
                                            CLNN_ARG(lr), CLNN_ARG(wd), CLNN_ARG(momentum),
                                            CLNN_ARG(one_minus_dampening), CLNN_ARG(flags)));
    }
    case CLNN_OPTIMIZER_RMSPROP: {
        cl_mem sq = state_buffer(opt, i, ROLE_SQUARE_AVG);
        cl_mem buf = state_buffer(opt, i, ROLE_MOMENTUM);
        cl_mem ga = state_buffer(opt, i, ROLE_GRAD_AVG);
        cl_float alpha = (cl_float)o->alpha, one_minus_alpha = (cl_float)(1.0 - o->alpha);
        cl_float momentum = (cl_float)o->momentum;
        flags |= (buf ? OPT_MOMENTUM : 0u) | (ga ? OPT_CENTERED : 0u);
        return clnn_run_kernel_1d(ctx, opt->kernel, opt->kernel_name, items,
                                  CLNN_ARGS(CLNN_ARG(p), CLNN_ARG(g), CLNN_ARG(sq), CLNN_ARG(buf),
                                            CLNN_ARG(ga), CLNN_ARG(n), CLNN_ARG(lr), CLNN_ARG(wd),
                                            CLNN_ARG(alpha), CLNN_ARG(one_minus_alpha),
                                            CLNN_ARG(eps), CLNN_ARG(momentum), CLNN_ARG(flags)));
    }
    case CLNN_OPTIMIZER_ADAM:
    case CLNN_OPTIMIZER_ADAMW: {
        cl_mem m = state_buffer(opt, i, ROLE_EXP_AVG);
        cl_mem v = state_buffer(opt, i, ROLE_EXP_AVG_SQ);
        cl_mem vmax = state_buffer(opt, i, ROLE_MAX_EXP_AVG_SQ);
        cl_float decay = 1.0f;
        if (o->kind == CLNN_OPTIMIZER_ADAMW) {
            /* Decoupled: param.mul_(1 - lr * weight_decay) always, no L2 term. */
            flags = OPT_DECOUPLED;
            decay = (cl_float)(1.0 - o->lr * o->weight_decay);
        }
        if (vmax)
            flags |= OPT_AMSGRAD;
        double bc1 = 1.0 - pow(o->beta1, t), bc2 = 1.0 - pow(o->beta2, t);
        cl_float one_minus_beta1 = (cl_float)(1.0 - o->beta1), beta2 = (cl_float)o->beta2;
        cl_float one_minus_beta2 = (cl_float)(1.0 - o->beta2);
        cl_float step_size = (cl_float)(o->lr / bc1), bc2_sqrt = (cl_float)sqrt(bc2);
        return clnn_run_kernel_1d(
            ctx, opt->kernel, opt->kernel_name, items,
            CLNN_ARGS(CLNN_ARG(p), CLNN_ARG(g), CLNN_ARG(m), CLNN_ARG(v), CLNN_ARG(vmax),
                      CLNN_ARG(n), CLNN_ARG(decay), CLNN_ARG(wd), CLNN_ARG(one_minus_beta1),
                      CLNN_ARG(beta2), CLNN_ARG(one_minus_beta2), CLNN_ARG(step_size),
                      CLNN_ARG(bc2_sqrt), CLNN_ARG(eps), CLNN_ARG(flags)));
    }
    default: { /* CLNN_OPTIMIZER_ADAGRAD */
        cl_mem sum = state_buffer(opt, i, ROLE_SUM);
        cl_float clr = (cl_float)(o->lr / (1.0 + (t - 1.0) * o->lr_decay));
        return clnn_run_kernel_1d(ctx, opt->kernel, opt->kernel_name, items,
                                  CLNN_ARGS(CLNN_ARG(p), CLNN_ARG(g), CLNN_ARG(sum), CLNN_ARG(n),
                                            CLNN_ARG(clr), CLNN_ARG(wd), CLNN_ARG(eps),
                                            CLNN_ARG(flags)));
    }
    }
}

clnn_status clnn_optimizer_step(clnn_optimizer *optimizer, clnn_tensor *const *grads, size_t count)
{
    if (!optimizer)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_optimizer_step: optimizer is NULL");
    clnn_context *ctx = optimizer->ctx;
    clnn_status status = clnn_check_pointer(ctx, grads, "grads");
    if (status != CLNN_SUCCESS)
        return status;
    if (count != optimizer->count)
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "clnn_optimizer_step: %zu gradients given for %zu parameters", count,
                          optimizer->count);
    for (size_t i = 0; i < count; ++i) {
        char name[32], pname[32];
        snprintf(name, sizeof name, "grads[%zu]", i);
        snprintf(pname, sizeof pname, "params[%zu]", i);
        status = clnn_check_tensor(ctx, grads[i], name);
        if (status == CLNN_SUCCESS)
            status = clnn_check_same_shape(ctx, grads[i], name, optimizer->params[i], pname);
        if (status != CLNN_SUCCESS)
            return status;
        for (size_t j = 0; j < count; ++j)
            if (grads[i] == optimizer->params[j])
                return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                                  "clnn_optimizer_step: grads[%zu] is params[%zu]", i, j);
    }
    for (size_t i = 0; i < count; ++i) {
        status = launch(optimizer, i, grads[i]);
        if (status != CLNN_SUCCESS)
            return status;
    }
    optimizer->step++;
    return CLNN_SUCCESS;
}

clnn_status clnn_optimizer_warm_up(clnn_optimizer *optimizer, clnn_tensor *const *zero_grads)
{
    /* With lr 0 and no weight decay every kind's update is p - 0 (AdamW's factor 1 - lr wd is
     * 1), and a zero gradient leaves state that is still zero at zero (Adam's averages, SGD's
     * momentum buffer, RMSprop's and Adagrad's sums). The kernel is the same one either way:
     * these are run-time arguments. */
    clnn_optimizer_options saved = optimizer->options;
    optimizer->options.lr = 0.0;
    optimizer->options.weight_decay = 0.0;
    clnn_status status = CLNN_SUCCESS;
    for (size_t i = 0; status == CLNN_SUCCESS && i < optimizer->count; ++i)
        status = launch(optimizer, i, zero_grads[i]);
    optimizer->options = saved;
    return status;
}

clnn_status clnn_optimizer_set_lr(clnn_optimizer *optimizer, double lr)
{
    if (!optimizer)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_optimizer_set_lr: optimizer is NULL");
    clnn_status status = check_nonnegative(optimizer->ctx, lr, "lr");
    if (status == CLNN_SUCCESS)
        optimizer->options.lr = lr;
    return status;
}

clnn_status clnn_optimizer_get_lr(const clnn_optimizer *optimizer, double *lr)
{
    if (!optimizer || !lr)
        return clnn_error(optimizer ? optimizer->ctx : NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_optimizer_get_lr: %s is NULL", optimizer ? "lr" : "optimizer");
    *lr = optimizer->options.lr;
    return CLNN_SUCCESS;
}

clnn_status clnn_optimizer_get_options(const clnn_optimizer *optimizer,
                                       clnn_optimizer_options *options)
{
    if (!optimizer || !options)
        return clnn_error(optimizer ? optimizer->ctx : NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_optimizer_get_options: %s is NULL",
                          optimizer ? "options" : "optimizer");
    *options = optimizer->options;
    return CLNN_SUCCESS;
}

clnn_status clnn_optimizer_get_step(const clnn_optimizer *optimizer, uint64_t *step)
{
    if (!optimizer || !step)
        return clnn_error(optimizer ? optimizer->ctx : NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_optimizer_get_step: %s is NULL", optimizer ? "step" : "optimizer");
    *step = optimizer->step;
    return CLNN_SUCCESS;
}

clnn_status clnn_optimizer_set_step(clnn_optimizer *optimizer, uint64_t step)
{
    if (!optimizer)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_optimizer_set_step: optimizer is NULL");
    if (step >= ((uint64_t)1 << 53))
        return clnn_error(optimizer->ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_optimizer_set_step: step %llu is not below 2^53",
                          (unsigned long long)step);
    optimizer->step = step;
    return CLNN_SUCCESS;
}

clnn_status clnn_optimizer_param_count(const clnn_optimizer *optimizer, size_t *count)
{
    if (!optimizer || !count)
        return clnn_error(optimizer ? optimizer->ctx : NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_optimizer_param_count: %s is NULL",
                          optimizer ? "count" : "optimizer");
    *count = optimizer->count;
    return CLNN_SUCCESS;
}

clnn_status clnn_optimizer_state_count(const clnn_optimizer *optimizer, size_t *count)
{
    if (!optimizer || !count)
        return clnn_error(optimizer ? optimizer->ctx : NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_optimizer_state_count: %s is NULL",
                          optimizer ? "count" : "optimizer");
    *count = optimizer->slots;
    return CLNN_SUCCESS;
}

clnn_status clnn_optimizer_state_name(const clnn_optimizer *optimizer, size_t slot,
                                      const char **name)
{
    if (!optimizer || !name)
        return clnn_error(optimizer ? optimizer->ctx : NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_optimizer_state_name: %s is NULL",
                          optimizer ? "name" : "optimizer");
    if (slot >= optimizer->slots)
        return clnn_error(optimizer->ctx, CLNN_ERR_OUT_OF_RANGE,
                          "clnn_optimizer_state_name: slot %zu, but this %s has %zu state slots",
                          slot, kind_names[optimizer->options.kind], optimizer->slots);
    *name = role_names[optimizer->roles[slot]];
    return CLNN_SUCCESS;
}

clnn_status clnn_optimizer_find_state(const clnn_optimizer *optimizer, const char *name,
                                      size_t *slot)
{
    if (!optimizer || !name || !slot)
        return clnn_error(optimizer ? optimizer->ctx : NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_optimizer_find_state: %s is NULL",
                          !optimizer ? "optimizer"
                          : !name    ? "name"
                                     : "slot");
    for (size_t s = 0; s < optimizer->slots; ++s)
        if (!strcmp(role_names[optimizer->roles[s]], name)) {
            *slot = s;
            return CLNN_SUCCESS;
        }
    return clnn_error(optimizer->ctx, CLNN_ERR_OUT_OF_RANGE,
                      "clnn_optimizer_find_state: this %s optimiser has no state \"%s\"",
                      kind_names[optimizer->options.kind], name);
}

clnn_status clnn_optimizer_get_state(const clnn_optimizer *optimizer, size_t param, size_t slot,
                                     clnn_tensor **state)
{
    if (!optimizer || !state)
        return clnn_error(optimizer ? optimizer->ctx : NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_optimizer_get_state: %s is NULL",
                          optimizer ? "state" : "optimizer");
    if (param >= optimizer->count || slot >= optimizer->slots)
        return clnn_error(optimizer->ctx, CLNN_ERR_OUT_OF_RANGE,
                          "clnn_optimizer_get_state: param %zu slot %zu, but the optimiser has "
                          "%zu parameters and %zu state slots",
                          param, slot, optimizer->count, optimizer->slots);
    *state = optimizer->state[param * optimizer->slots + slot];
    return CLNN_SUCCESS;
}

/* ---- learning-rate schedules ------------------------------------------------------------------
 */

clnn_status clnn_lr_schedule_init(clnn_lr_schedule *schedule, clnn_lr_schedule_kind kind,
                                  double base_lr)
{
    if (!schedule)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_lr_schedule_init: schedule is NULL");
    if ((unsigned)kind >= CLNN_LR_SCHEDULE_KIND_COUNT)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_lr_schedule_init: unknown schedule kind %d", (int)kind);
    if (!(base_lr >= 0.0) || !isfinite(base_lr))
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_lr_schedule_init: base_lr is %g; it must be finite and >= 0",
                          base_lr);
    memset(schedule, 0, sizeof *schedule);
    schedule->kind = kind;
    schedule->base_lr = base_lr;
    schedule->step_size = 1;
    schedule->gamma = 0.1;
    schedule->t_max = 1;
    schedule->eta_min = 0.0;
    schedule->warmup_steps = 0;
    schedule->warmup_start_factor = 1.0 / 3.0;
    schedule->warmup_mode = CLNN_LR_WARMUP_MULTIPLY;
    return CLNN_SUCCESS;
}

static double main_schedule(const clnn_lr_schedule *s, uint64_t t)
{
    switch (s->kind) {
    case CLNN_LR_STEP:
        return s->base_lr * pow(s->gamma, (double)(t / s->step_size));
    case CLNN_LR_COSINE:
        /* t mod 2*t_max gives the same cosine and keeps the argument exact for huge t. */
        return s->eta_min + (s->base_lr - s->eta_min) *
                                (1.0 + cos(3.14159265358979323846 * (double)(t % (2 * s->t_max)) /
                                           (double)s->t_max)) /
                                2.0;
    default:
        return s->base_lr;
    }
}

clnn_status clnn_lr_schedule_value(const clnn_lr_schedule *schedule, uint64_t step, double *lr)
{
    if (!schedule || !lr)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_lr_schedule_value: %s is NULL",
                          schedule ? "lr" : "schedule");
    const clnn_lr_schedule *s = schedule;
    const char *bad = NULL;
    if ((unsigned)s->kind >= CLNN_LR_SCHEDULE_KIND_COUNT)
        bad = "kind (unknown)";
    else if (!(s->base_lr >= 0.0) || !isfinite(s->base_lr))
        bad = "base_lr (must be finite and >= 0)";
    else if (s->kind == CLNN_LR_STEP && s->step_size == 0)
        bad = "step_size (must be >= 1)";
    else if (s->kind == CLNN_LR_STEP && (!(s->gamma >= 0.0) || !isfinite(s->gamma)))
        bad = "gamma (must be finite and >= 0)";
    else if (s->kind == CLNN_LR_COSINE && (s->t_max == 0 || s->t_max > ((uint64_t)1 << 62)))
        bad = "t_max (must be in [1, 2^62])";
    else if (s->kind == CLNN_LR_COSINE && !isfinite(s->eta_min))
        bad = "eta_min (must be finite)";
    else if (s->warmup_steps > 0 &&
             !(s->warmup_start_factor > 0.0 && s->warmup_start_factor <= 1.0))
        bad = "warmup_start_factor (must be in (0, 1])";
    else if ((unsigned)s->warmup_mode >= CLNN_LR_WARMUP_MODE_COUNT)
        bad = "warmup_mode (unknown)";
    if (bad)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_lr_schedule_value: field %s", bad);

    double value;
    uint64_t n = s->warmup_steps;
    if (n == 0) {
        value = main_schedule(s, step);
    } else {
        /* LinearLR's closed form with end_factor 1: f0 + (1 - f0) * min(t, N) / N. */
        uint64_t w = step < n ? step : n;
        double factor =
            s->warmup_start_factor + (1.0 - s->warmup_start_factor) * (double)w / (double)n;
        if (s->warmup_mode == CLNN_LR_WARMUP_MULTIPLY)
            value = factor * main_schedule(s, step);
        else
            value = step < n ? s->base_lr * factor : main_schedule(s, step - n);
    }
    *lr = value;
    return CLNN_SUCCESS;
}
