/*
 * Weight initialisation (torch.nn.init) on the Philox4x32-10 stream.
 *
 * Every scheme is first resolved on the host into a plan: a constant, or one of three
 * distributions (uniform, normal, truncated normal) with float parameters computed in double from
 * the fans and gains, or an orthogonal matrix. The device kernels (kernels/init.cl) and the host
 * twin (clnn_init_host) both run the plan through kernels/philox.h, so the results agree bit for
 * bit. Orthogonal matrices are made on the host with LAPACK (QR of a Gaussian matrix drawn from
 * the same normal stream) and uploaded. The one-call forms named after torch.nn.init's functions
 * (clnn_init_xavier_uniform...) are src/init_torch.c; dropout, on the same stream, is
 * src/init_dropout.c.
 */
#include "internal.h"
#include "philox.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- names ----------------------------------------------------------------------------------- */

static const char *const nonlinearity_names[] = {"linear", "conv", "sigmoid", "tanh",
                                                 "relu", "leaky_relu", "selu"};
_Static_assert(sizeof nonlinearity_names / sizeof nonlinearity_names[0] ==
                   CLNN_NONLINEARITY_COUNT,
               "one name per nonlinearity");

static const char *const init_names[] = {
    "zeros",          "ones",          "constant",        "uniform",
    "normal",         "trunc_normal",  "xavier_uniform",  "xavier_normal",
    "kaiming_uniform", "kaiming_normal", "lecun_uniform", "lecun_normal",
    "orthogonal"};
_Static_assert(sizeof init_names / sizeof init_names[0] == CLNN_INIT_KIND_COUNT,
               "one name per init kind");

const char *clnn_nonlinearity_name(clnn_nonlinearity nonlinearity)
{
    return (unsigned)nonlinearity < CLNN_NONLINEARITY_COUNT ? nonlinearity_names[nonlinearity]
                                                            : "unknown";
}

const char *clnn_init_kind_name(clnn_init_kind kind)
{
    return (unsigned)kind < CLNN_INIT_KIND_COUNT ? init_names[kind] : "unknown";
}

/* ---- gains and fans -------------------------------------------------------------------------- */

/* The gain in double (kept in double for the bounds computed from it). */
static clnn_status gain_of(clnn_context *ctx, clnn_nonlinearity nl, float param, double *gain)
{
    switch (nl) {
    case CLNN_NONLINEARITY_LINEAR:
    case CLNN_NONLINEARITY_CONV:
    case CLNN_NONLINEARITY_SIGMOID:
        *gain = 1.0;
        return CLNN_SUCCESS;
    case CLNN_NONLINEARITY_TANH:
        *gain = 5.0 / 3.0;
        return CLNN_SUCCESS;
    case CLNN_NONLINEARITY_RELU:
        *gain = sqrt(2.0);
        return CLNN_SUCCESS;
    case CLNN_NONLINEARITY_LEAKY_RELU:
        if (!isfinite(param))
            return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                              "leaky_relu gain: the negative slope (param) is %g; it must be finite",
                              (double)param);
        *gain = sqrt(2.0 / (1.0 + (double)param * (double)param));
        return CLNN_SUCCESS;
    case CLNN_NONLINEARITY_SELU:
        *gain = 0.75;
        return CLNN_SUCCESS;
    default:
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "nonlinearity %d is not a clnn_nonlinearity (0 .. %d)", (int)nl,
                          CLNN_NONLINEARITY_COUNT - 1);
    }
}

clnn_status clnn_calculate_gain(clnn_nonlinearity nonlinearity, float param, float *gain)
{
    if (!gain)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_calculate_gain: gain is NULL");
    double g = 1.0;
    clnn_status status = gain_of(NULL, nonlinearity, param, &g);
    if (status == CLNN_SUCCESS)
        *gain = (float)g;
    return status;
}

static clnn_status fans_of(clnn_context *ctx, int ndim, const size_t *dims, size_t *fan_in,
                           size_t *fan_out)
{
    size_t count;
    clnn_status status = clnn_check_shape(ctx, ndim, dims, &count);
    if (status != CLNN_SUCCESS)
        return status;
    if (ndim < 2) {
        char s[96];
        clnn_format_shape(s, sizeof s, ndim, dims);
        return clnn_error(ctx, CLNN_ERR_INVALID_SHAPE,
                          "fan_in and fan_out need at least 2 dimensions ([out, in, ...]); the "
                          "shape is %s",
                          s);
    }
    size_t receptive = 1;
    for (int i = 2; i < ndim; ++i)
        receptive *= dims[i]; /* cannot overflow: the whole product was checked */
    if (fan_in)
        *fan_in = dims[1] * receptive;
    if (fan_out)
        *fan_out = dims[0] * receptive;
    return CLNN_SUCCESS;
}

clnn_status clnn_calculate_fan(int ndim, const size_t *dims, size_t *fan_in, size_t *fan_out)
{
    size_t in = 0, out = 0;
    clnn_status status = fans_of(NULL, ndim, dims, &in, &out);
    if (status != CLNN_SUCCESS)
        return status;
    if (fan_in)
        *fan_in = in;
    if (fan_out)
        *fan_out = out;
    return CLNN_SUCCESS;
}

/* ---- parameters ------------------------------------------------------------------------------ */

clnn_status clnn_init_params_default(clnn_init_kind kind, clnn_init_params *params)
{
    if (!params)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_init_params_default: params is NULL");
    if ((unsigned)kind >= CLNN_INIT_KIND_COUNT)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT,
                          "clnn_init_params_default: kind %d is not a clnn_init_kind (0 .. %d)",
                          (int)kind, CLNN_INIT_KIND_COUNT - 1);
    memset(params, 0, sizeof *params);
    params->kind = kind;
    params->value = 0.0f;
    params->a = kind == CLNN_INIT_TRUNC_NORMAL ? -2.0f : 0.0f;
    params->b = kind == CLNN_INIT_TRUNC_NORMAL ? 2.0f : 1.0f;
    params->mean = 0.0f;
    params->std = 1.0f;
    params->gain = 1.0f;
    params->slope = 0.0f;
    params->mode = CLNN_FAN_IN;
    params->nonlinearity = CLNN_NONLINEARITY_LEAKY_RELU;
    return CLNN_SUCCESS;
}

/* ---- plans ----------------------------------------------------------------------------------- */

typedef enum plan_kind { PLAN_CONSTANT, PLAN_UNIFORM, PLAN_NORMAL, PLAN_TRUNC, PLAN_ORTHOGONAL } plan_kind;

typedef struct init_plan {
    plan_kind kind;
    clnn_u32 k0, k1;
    float value;            /* CONSTANT */
    float lo, width, hi;    /* UNIFORM: lo + width * u, clamped to [lo, hi] */
    float mean, std;        /* NORMAL, TRUNC */
    float pl, pw, zlo, zhi, sign, a, b; /* TRUNC */
    float gain;             /* ORTHOGONAL */
    size_t rows, cols;      /* ORTHOGONAL */
} init_plan;

static clnn_status check_finite_param(clnn_context *ctx, const char *scheme, const char *name,
                                      float value)
{
    if (!isfinite(value))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s init: %s is %g; it must be finite",
                          scheme, name, (double)value);
    return CLNN_SUCCESS;
}

/* U(lo, hi) in float from double bounds, or a constant when they coincide. */
static clnn_status plan_uniform(clnn_context *ctx, const char *scheme, double lo, double hi,
                                init_plan *plan)
{
    float a = (float)lo, b = (float)hi, width = (float)(hi - lo);
    if (!isfinite(a) || !isfinite(b) || !isfinite(width))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "%s init: the bounds [%g, %g] overflow float", scheme, lo, hi);
    if (a == b) {
        plan->kind = PLAN_CONSTANT;
        plan->value = a;
        return CLNN_SUCCESS;
    }
    plan->kind = PLAN_UNIFORM;
    plan->lo = a;
    plan->width = width;
    plan->hi = nextafterf(b, a); /* results stay below b, as U[a, b) */
    return CLNN_SUCCESS;
}

static void plan_normal(double mean, double std, init_plan *plan)
{
    plan->kind = PLAN_NORMAL;
    plan->mean = (float)mean;
    plan->std = (float)std;
}

/* Phi(z), the standard normal CDF, in double. */
static double normal_cdf(double z)
{
    return 0.5 * erfc(-z / sqrt(2.0));
}

static clnn_status plan_trunc(clnn_context *ctx, float mean, float std, float a, float b,
                              init_plan *plan)
{
    static const char *scheme = "trunc_normal";
    clnn_status status;
    if ((status = check_finite_param(ctx, scheme, "mean", mean)) != CLNN_SUCCESS ||
        (status = check_finite_param(ctx, scheme, "std", std)) != CLNN_SUCCESS ||
        (status = check_finite_param(ctx, scheme, "a", a)) != CLNN_SUCCESS ||
        (status = check_finite_param(ctx, scheme, "b", b)) != CLNN_SUCCESS)
        return status;
    if (!(std > 0.0f))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "trunc_normal init: std is %g; it must be > 0", (double)std);
    if (!(a < b))
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "trunc_normal init: the bounds a = %g, b = %g need a < b", (double)a,
                          (double)b);
    double alpha = ((double)a - mean) / std, beta = ((double)b - mean) / std;
    /* Sample the mirror image of an interval that lies mostly above the mean, so that the CDF
     * values stay in the lower half where floats resolve the tail. */
    double sign = alpha + beta > 0.0 ? -1.0 : 1.0;
    double zlo = sign > 0 ? alpha : -beta, zhi = sign > 0 ? beta : -alpha;
    double pl = normal_cdf(zlo), ph = normal_cdf(zhi);
    plan->kind = PLAN_TRUNC;
    plan->mean = mean;
    plan->std = std;
    plan->a = a;
    plan->b = b;
    plan->sign = (float)sign;
    plan->zlo = (float)zlo;
    plan->zhi = (float)zhi;
    plan->pl = (float)pl;
    plan->pw = (float)(ph - pl);
    return CLNN_SUCCESS;
}

/* Resolves params for a tensor of shape (ndim, dims) into a plan. ctx may be NULL (host twin). */
static clnn_status make_plan(clnn_context *ctx, int ndim, const size_t *dims,
                             const clnn_init_params *p, init_plan *plan)
{
    size_t count;
    clnn_status status = clnn_check_shape(ctx, ndim, dims, &count);
    if (status != CLNN_SUCCESS)
        return status;
    if (!p)
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "init: params is NULL");
    memset(plan, 0, sizeof *plan);
    plan->k0 = CLNN_SEED_LO(p->seed);
    plan->k1 = CLNN_SEED_HI(p->seed);
    const char *scheme = clnn_init_kind_name(p->kind);
    size_t fan_in = 0, fan_out = 0;
    switch (p->kind) {
    case CLNN_INIT_XAVIER_UNIFORM:
    case CLNN_INIT_XAVIER_NORMAL:
    case CLNN_INIT_KAIMING_UNIFORM:
    case CLNN_INIT_KAIMING_NORMAL:
    case CLNN_INIT_LECUN_UNIFORM:
    case CLNN_INIT_LECUN_NORMAL:
    case CLNN_INIT_ORTHOGONAL:
        if ((status = fans_of(ctx, ndim, dims, &fan_in, &fan_out)) != CLNN_SUCCESS)
            return status;
        break;
    default:
        break;
    }

    switch (p->kind) {
    case CLNN_INIT_ZEROS:
    case CLNN_INIT_ONES:
        plan->kind = PLAN_CONSTANT;
        plan->value = p->kind == CLNN_INIT_ONES ? 1.0f : 0.0f;
        return CLNN_SUCCESS;
    case CLNN_INIT_CONSTANT:
        if ((status = check_finite_param(ctx, scheme, "value", p->value)) != CLNN_SUCCESS)
            return status;
        plan->kind = PLAN_CONSTANT;
        plan->value = p->value;
        return CLNN_SUCCESS;
    case CLNN_INIT_UNIFORM:
        if ((status = check_finite_param(ctx, scheme, "a", p->a)) != CLNN_SUCCESS ||
            (status = check_finite_param(ctx, scheme, "b", p->b)) != CLNN_SUCCESS)
            return status;
        if (!(p->a <= p->b))
            return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                              "uniform init: the bounds a = %g, b = %g need a <= b", (double)p->a,
                              (double)p->b);
        return plan_uniform(ctx, scheme, p->a, p->b, plan);
    case CLNN_INIT_NORMAL:
        if ((status = check_finite_param(ctx, scheme, "mean", p->mean)) != CLNN_SUCCESS ||
            (status = check_finite_param(ctx, scheme, "std", p->std)) != CLNN_SUCCESS)
            return status;
        if (p->std < 0.0f)
            return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                              "normal init: std is %g; it must be >= 0", (double)p->std);
        plan_normal(p->mean, p->std, plan);
        return CLNN_SUCCESS;
    case CLNN_INIT_TRUNC_NORMAL:
        return plan_trunc(ctx, p->mean, p->std, p->a, p->b, plan);
    case CLNN_INIT_XAVIER_UNIFORM:
    case CLNN_INIT_XAVIER_NORMAL: {
        if ((status = check_finite_param(ctx, scheme, "gain", p->gain)) != CLNN_SUCCESS)
            return status;
        if (p->gain < 0.0f)
            return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT, "%s init: gain is %g; it must be >= 0",
                              scheme, (double)p->gain);
        /* Glorot & Bengio (2010), eq. 16: Var = 2 / (fan_in + fan_out) */
        double std = p->gain * sqrt(2.0 / ((double)fan_in + (double)fan_out));
        if (p->kind == CLNN_INIT_XAVIER_NORMAL) {
            plan_normal(0.0, std, plan);
            return CLNN_SUCCESS;
        }
        double bound = sqrt(3.0) * std;
        return plan_uniform(ctx, scheme, -bound, bound, plan);
    }
    case CLNN_INIT_KAIMING_UNIFORM:
    case CLNN_INIT_KAIMING_NORMAL: {
        if ((unsigned)p->mode >= CLNN_FAN_MODE_COUNT)
            return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                              "%s init: mode %d is not a clnn_fan_mode", scheme, (int)p->mode);
        double gain = 1.0;
        if ((status = gain_of(ctx, p->nonlinearity, p->slope, &gain)) != CLNN_SUCCESS)
            return status;
        /* He et al. (2015), eq. 10: Var = gain^2 / fan, gain^2 = 2 / (1 + a^2) for PReLU/ReLU */
        double fan = (double)(p->mode == CLNN_FAN_IN ? fan_in : fan_out);
        double std = gain / sqrt(fan);
        if (p->kind == CLNN_INIT_KAIMING_NORMAL) {
            plan_normal(0.0, std, plan);
            return CLNN_SUCCESS;
        }
        double bound = sqrt(3.0) * std;
        return plan_uniform(ctx, scheme, -bound, bound, plan);
    }
    case CLNN_INIT_LECUN_UNIFORM:
    case CLNN_INIT_LECUN_NORMAL: {
        /* LeCun et al. (1998), Klambauer et al. (2017): Var = 1 / fan_in */
        double std = 1.0 / sqrt((double)fan_in);
        if (p->kind == CLNN_INIT_LECUN_NORMAL) {
            plan_normal(0.0, std, plan);
            return CLNN_SUCCESS;
        }
        double bound = sqrt(3.0) * std;
        return plan_uniform(ctx, scheme, -bound, bound, plan);
    }
    case CLNN_INIT_ORTHOGONAL:
        if ((status = check_finite_param(ctx, scheme, "gain", p->gain)) != CLNN_SUCCESS)
            return status;
        plan->kind = PLAN_ORTHOGONAL;
        plan->gain = p->gain;
        plan->rows = dims[0];
        plan->cols = count / dims[0];
        return CLNN_SUCCESS;
    default:
        return clnn_error(ctx, CLNN_ERR_INVALID_ARGUMENT,
                          "init: kind %d is not a clnn_init_kind (0 .. %d)", (int)p->kind,
                          CLNN_INIT_KIND_COUNT - 1);
    }
}

/* ---- the host twin --------------------------------------------------------------------------- */

/* Fills out[0 .. count) from a random plan (UNIFORM, NORMAL or TRUNC), as the kernels do. */
static void host_fill(const init_plan *plan, size_t count, float *out)
{
    size_t blocks = (count + 3) / 4;
    for (size_t blk = 0; blk < blocks; ++blk) {
        float v[4];
        clnn_u32 b = (clnn_u32)blk;
        switch (plan->kind) {
        case PLAN_UNIFORM:
            clnn_rng_uniform_block(b, plan->k0, plan->k1, plan->lo, plan->width, plan->hi, v);
            break;
        case PLAN_NORMAL:
            clnn_rng_normal_block(b, plan->k0, plan->k1, plan->mean, plan->std, v);
            break;
        default:
            clnn_rng_trunc_normal_block(b, plan->k0, plan->k1, plan->pl, plan->pw, plan->zlo,
                                        plan->zhi, plan->sign, plan->mean, plan->std, plan->a,
                                        plan->b, v);
            break;
        }
        size_t left = count - 4 * blk;
        memcpy(out + 4 * blk, v, (left < 4 ? left : 4) * sizeof(float));
    }
}

/* The orthogonal matrix of a plan into out (rows * cols floats), computed in double with LAPACK
 * from the seed's N(0, 1) stream. As torch.nn.init.orthogonal_: A = normal(rows, cols); when
 * rows < cols, factor A^T instead; Q (reduced QR) with column j times sign(R_jj); transposed back;
 * times gain. */
static clnn_status host_orthogonal(clnn_context *ctx, const init_plan *plan, float *out)
{
    size_t rows = plan->rows, cols = plan->cols, count = rows * cols;
    int wide = rows < cols;
    size_t m = wide ? cols : rows, n = wide ? rows : cols; /* m >= n */
    if (m > (size_t)INT32_MAX)
        return clnn_error(ctx, CLNN_ERR_SIZE_OVERFLOW,
                          "orthogonal init: a %zu x %zu matrix exceeds LAPACK's int sizes", rows,
                          cols);
    float *z = malloc(count * sizeof *z);
    double *q = malloc(count * sizeof *q);
    double *tau = malloc(n * sizeof *tau);
    signed char *flip = malloc(n);
    clnn_status status = CLNN_SUCCESS;
    if (!z || !q || !tau || !flip) {
        status = clnn_error(ctx, CLNN_ERR_HOST_MEMORY,
                            "orthogonal init: out of host memory for a %zu x %zu matrix", rows,
                            cols);
        goto cleanup;
    }
    init_plan normal = *plan;
    plan_normal(0.0, 1.0, &normal);
    host_fill(&normal, count, z);
    /* B (m x n, row-major) = A or A^T, A[r][c] = z[r * cols + c] */
    for (size_t r = 0; r < rows; ++r)
        for (size_t c = 0; c < cols; ++c)
            q[wide ? c * rows + r : r * cols + c] = z[r * cols + c];
    lapack_int info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (lapack_int)m, (lapack_int)n, q,
                                     (lapack_int)n, tau);
    if (info == 0) {
        for (size_t j = 0; j < n; ++j)
            flip[j] = q[j * n + j] < 0.0;
        info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (lapack_int)m, (lapack_int)n, (lapack_int)n, q,
                              (lapack_int)n, tau);
    }
    if (info != 0) {
        status = clnn_error(ctx,
                            info == LAPACK_WORK_MEMORY_ERROR || info == LAPACK_TRANSPOSE_MEMORY_ERROR
                                ? CLNN_ERR_HOST_MEMORY
                                : CLNN_ERR_INVALID_ARGUMENT,
                            "orthogonal init: LAPACK's QR of a %zu x %zu matrix failed (info %d)",
                            m, n, (int)info);
        goto cleanup;
    }
    for (size_t i = 0; i < m; ++i)
        for (size_t j = 0; j < n; ++j) {
            double v = (flip[j] ? -q[i * n + j] : q[i * n + j]) * plan->gain;
            /* Q is m x n; W = Q (rows x cols) or Q^T when wide */
            if (wide)
                out[j * cols + i] = (float)v;
            else
                out[i * cols + j] = (float)v;
        }
cleanup:
    free(z);
    free(q);
    free(tau);
    free(flip);
    return status;
}

/* Runs a plan on the host into out (count floats). */
static clnn_status host_run(clnn_context *ctx, const init_plan *plan, size_t count, float *out)
{
    switch (plan->kind) {
    case PLAN_CONSTANT:
        for (size_t i = 0; i < count; ++i)
            out[i] = plan->value;
        return CLNN_SUCCESS;
    case PLAN_ORTHOGONAL:
        return host_orthogonal(ctx, plan, out);
    default:
        host_fill(plan, count, out);
        return CLNN_SUCCESS;
    }
}

clnn_status clnn_init_host(int ndim, const size_t *dims, const clnn_init_params *params,
                           float *out)
{
    init_plan plan;
    clnn_status status = make_plan(NULL, ndim, dims, params, &plan);
    if (status != CLNN_SUCCESS)
        return status;
    if (!out)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_init_host: out is NULL");
    size_t count = 1;
    for (int i = 0; i < ndim; ++i)
        count *= dims[i];
    if (plan.kind != PLAN_ORTHOGONAL)
        return host_run(NULL, &plan, count, out);
    /* LAPACK can fail; write the caller's array only on success */
    float *tmp = malloc(count * sizeof *tmp);
    if (!tmp)
        return clnn_error(NULL, CLNN_ERR_HOST_MEMORY, "clnn_init_host: out of host memory");
    status = host_orthogonal(NULL, &plan, tmp);
    if (status == CLNN_SUCCESS)
        memcpy(out, tmp, count * sizeof *tmp);
    free(tmp);
    return status;
}

/* ---- the device ------------------------------------------------------------------------------ */

clnn_status clnn_init(clnn_tensor *tensor, const clnn_init_params *params)
{
    if (!tensor)
        return clnn_error(NULL, CLNN_ERR_INVALID_ARGUMENT, "clnn_init: tensor is NULL");
    clnn_context *ctx = tensor->ctx;
    init_plan plan;
    clnn_status status = make_plan(ctx, tensor->ndim, tensor->dims, params, &plan);
    if (status != CLNN_SUCCESS)
        return status;
    if (plan.kind == PLAN_CONSTANT)
        return clnn_tensor_fill(tensor, plan.value);
    if (plan.kind == PLAN_ORTHOGONAL) {
        float *w = malloc(tensor->count * sizeof *w);
        if (!w)
            return clnn_error(ctx, CLNN_ERR_HOST_MEMORY,
                              "orthogonal init: out of host memory for %zu floats", tensor->count);
        status = host_orthogonal(ctx, &plan, w);
        if (status == CLNN_SUCCESS)
            status = clnn_tensor_upload(tensor, w, tensor->count);
        free(w);
        return status;
    }

    static const char *const kernel_names[] = {NULL, "clnn_init_uniform", "clnn_init_normal",
                                               "clnn_init_trunc_normal"};
    const char *name = kernel_names[plan.kind];
    cl_kernel kernel;
    if ((status = clnn_get_kernel(ctx, "init.cl", NULL, name, &kernel)) != CLNN_SUCCESS)
        return status;
    cl_uint n = (cl_uint)tensor->count, k0 = plan.k0, k1 = plan.k1;
    size_t items = (tensor->count + 3) / 4;
    switch (plan.kind) {
    case PLAN_UNIFORM:
        return clnn_run_kernel_1d(ctx, kernel, name, items,
                                  CLNN_ARGS(CLNN_ARG(tensor->buffer), CLNN_ARG(n), CLNN_ARG(k0),
                                            CLNN_ARG(k1), CLNN_ARG(plan.lo), CLNN_ARG(plan.width),
                                            CLNN_ARG(plan.hi)));
    case PLAN_NORMAL:
        return clnn_run_kernel_1d(ctx, kernel, name, items,
                                  CLNN_ARGS(CLNN_ARG(tensor->buffer), CLNN_ARG(n), CLNN_ARG(k0),
                                            CLNN_ARG(k1), CLNN_ARG(plan.mean),
                                            CLNN_ARG(plan.std)));
    default:
        return clnn_run_kernel_1d(
            ctx, kernel, name, items,
            CLNN_ARGS(CLNN_ARG(tensor->buffer), CLNN_ARG(n), CLNN_ARG(k0), CLNN_ARG(k1),
                      CLNN_ARG(plan.pl), CLNN_ARG(plan.pw), CLNN_ARG(plan.zlo),
                      CLNN_ARG(plan.zhi), CLNN_ARG(plan.sign), CLNN_ARG(plan.mean),
                      CLNN_ARG(plan.std), CLNN_ARG(plan.a), CLNN_ARG(plan.b)));
    }
}

clnn_status clnn_init_weights(clnn_tensor *tensor, const clnn_init_params *params)
{
    if (!clnn_cpu_forms(tensor->ctx))
        return clnn_init(tensor, params);
    float *w = malloc(tensor->count * sizeof *w);
    if (!w)
        return clnn_error(tensor->ctx, CLNN_ERR_HOST_MEMORY,
                          "init: out of host memory for %zu floats", tensor->count);
    clnn_status status = clnn_init_host(tensor->ndim, tensor->dims, params, w);
    if (status == CLNN_SUCCESS)
        status = clnn_tensor_upload(tensor, w, tensor->count);
    free(w);
    return status;
}
