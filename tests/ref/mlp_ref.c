/* The double-precision reference MLP (see mlp_ref.h). Written for clarity, not speed. */
#include "mlp_ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int mlp_ref_init(mlp_ref *m)
{
    m->param_count = 0;
    for (size_t l = 0; l < m->layer_count; ++l) {
        size_t sizes[4] = {m->out[l] * m->in[l], m->out[l], m->out[l], m->out[l]};
        size_t n = m->batch_norm[l] ? 4 : 2;
        for (size_t i = 0; i < n; ++i) {
            m->param_size[m->param_count] = sizes[i];
            m->params[m->param_count] = calloc(sizes[i], sizeof(double));
            if (!m->params[m->param_count])
                return -1;
            m->param_count++;
        }
        m->running_mean[l] = calloc(m->out[l], sizeof(double));
        m->running_var[l] = calloc(m->out[l], sizeof(double));
        if (!m->running_mean[l] || !m->running_var[l])
            return -1;
        for (size_t j = 0; j < m->out[l]; ++j)
            m->running_var[l][j] = 1.0;
    }
    return 0;
}

void mlp_ref_free(mlp_ref *m)
{
    for (size_t i = 0; i < m->param_count; ++i)
        free(m->params[i]);
    for (size_t l = 0; l < m->layer_count; ++l) {
        free(m->running_mean[l]);
        free(m->running_var[l]);
    }
}

static double act(mlp_ref_activation a, double z)
{
    switch (a) {
    case MLP_REF_RELU:
        return z > 0 ? z : 0;
    case MLP_REF_LEAKY_RELU:
        return z > 0 ? z : 0.01 * z;
    case MLP_REF_TANH:
        return tanh(z);
    case MLP_REF_SIGMOID:
        return 1.0 / (1.0 + exp(-z));
    default:
        return z;
    }
}

static double act_derivative(mlp_ref_activation a, double z)
{
    switch (a) {
    case MLP_REF_RELU:
        return z > 0 ? 1 : 0;
    case MLP_REF_LEAKY_RELU:
        return z > 0 ? 1 : 0.01;
    case MLP_REF_TANH:
        return 1 - tanh(z) * tanh(z);
    case MLP_REF_SIGMOID: {
        double s = 1.0 / (1.0 + exp(-z));
        return s * (1 - s);
    }
    default:
        return 1;
    }
}

double mlp_ref_loss(mlp_ref *m, const double *x, const void *y, size_t batch, double **grads,
                    int update_running)
{
    const size_t L = m->layer_count;
    double *input[MLP_REF_MAX_LAYERS + 1], *a[MLP_REF_MAX_LAYERS], *xhat[MLP_REF_MAX_LAYERS],
        *z[MLP_REF_MAX_LAYERS], *invstd[MLP_REF_MAX_LAYERS];
    input[0] = (double *)x;
    size_t p = 0;
    size_t first_param[MLP_REF_MAX_LAYERS];
    for (size_t l = 0; l < L; ++l) {
        const size_t in = m->in[l], out = m->out[l];
        first_param[l] = p;
        const double *W = m->params[p], *b = m->params[p + 1];
        a[l] = calloc(batch * out, sizeof(double));
        xhat[l] = calloc(batch * out, sizeof(double));
        z[l] = calloc(batch * out, sizeof(double));
        invstd[l] = calloc(out, sizeof(double));
        input[l + 1] = calloc(batch * out, sizeof(double));
        for (size_t i = 0; i < batch; ++i)
            for (size_t j = 0; j < out; ++j) {
                double s = b[j];
                for (size_t k = 0; k < in; ++k)
                    s += input[l][i * in + k] * W[j * in + k];
                a[l][i * out + j] = s;
            }
        int last = l + 1 == L;
        if (!last && m->batch_norm[l]) {
            const double *gamma = m->params[p + 2], *beta = m->params[p + 3];
            for (size_t j = 0; j < out; ++j) {
                double mean = 0, var = 0;
                for (size_t i = 0; i < batch; ++i)
                    mean += a[l][i * out + j];
                mean /= (double)batch;
                for (size_t i = 0; i < batch; ++i)
                    var += (a[l][i * out + j] - mean) * (a[l][i * out + j] - mean);
                invstd[l][j] = 1.0 / sqrt(var / (double)batch + m->eps);
                for (size_t i = 0; i < batch; ++i) {
                    xhat[l][i * out + j] = (a[l][i * out + j] - mean) * invstd[l][j];
                    z[l][i * out + j] = gamma[j] * xhat[l][i * out + j] + beta[j];
                }
                if (update_running) {
                    m->running_mean[l][j] =
                        (1 - m->momentum) * m->running_mean[l][j] + m->momentum * mean;
                    m->running_var[l][j] = (1 - m->momentum) * m->running_var[l][j] +
                                           m->momentum * var / (double)(batch - 1);
                }
            }
        } else {
            memcpy(z[l], a[l], batch * out * sizeof(double));
        }
        for (size_t i = 0; i < batch * out; ++i)
            input[l + 1][i] = last ? z[l][i] : act(m->activation[l], z[l][i]);
        p += m->batch_norm[l] && !last ? 4 : 2;
    }

    /* Loss and its gradient with respect to the outputs. */
    const size_t C = m->out[L - 1];
    const double *out = input[L];
    double *g = calloc(batch * C, sizeof(double));
    double loss = 0;
    for (size_t i = 0; i < batch; ++i) {
        if (m->mse) {
            const float *t = (const float *)y + i * C;
            for (size_t j = 0; j < C; ++j) {
                double e = out[i * C + j] - t[j];
                loss += e * e;
                g[i * C + j] = 2 * e / (double)(batch * C);
            }
        } else {
            int32_t label = ((const int32_t *)y)[i];
            double max = out[i * C];
            for (size_t j = 1; j < C; ++j)
                max = fmax(max, out[i * C + j]);
            double sum = 0;
            for (size_t j = 0; j < C; ++j)
                sum += exp(out[i * C + j] - max);
            loss += log(sum) + max - out[i * C + (size_t)label];
            for (size_t j = 0; j < C; ++j)
                g[i * C + j] = (exp(out[i * C + j] - max) / sum - (j == (size_t)label)) /
                               (double)batch;
        }
    }
    loss /= m->mse ? (double)(batch * C) : (double)batch;

    if (grads) {
        /* g: gradient of the current layer's output; walk back. */
        for (size_t l = L; l-- > 0;) {
            const size_t in = m->in[l], outw = m->out[l];
            int last = l + 1 == L;
            size_t q = first_param[l];
            double *gz = calloc(batch * outw, sizeof(double));
            for (size_t i = 0; i < batch * outw; ++i)
                gz[i] = last ? g[i] : g[i] * act_derivative(m->activation[l], z[l][i]);
            double *ga = gz;
            if (!last && m->batch_norm[l]) {
                const double *gamma = m->params[q + 2];
                ga = calloc(batch * outw, sizeof(double));
                for (size_t j = 0; j < outw; ++j) {
                    double sum_g = 0, sum_gx = 0;
                    for (size_t i = 0; i < batch; ++i) {
                        sum_g += gz[i * outw + j];
                        sum_gx += gz[i * outw + j] * xhat[l][i * outw + j];
                    }
                    grads[q + 2][j] = sum_gx;
                    grads[q + 3][j] = sum_g;
                    for (size_t i = 0; i < batch; ++i)
                        ga[i * outw + j] =
                            gamma[j] * invstd[l][j] / (double)batch *
                            ((double)batch * gz[i * outw + j] - sum_g -
                             xhat[l][i * outw + j] * sum_gx);
                }
            }
            const double *W = m->params[q];
            for (size_t j = 0; j < outw; ++j) {
                double sb = 0;
                for (size_t i = 0; i < batch; ++i)
                    sb += ga[i * outw + j];
                grads[q + 1][j] = sb;
                for (size_t k = 0; k < in; ++k) {
                    double sw = 0;
                    for (size_t i = 0; i < batch; ++i)
                        sw += ga[i * outw + j] * input[l][i * in + k];
                    grads[q][j * in + k] = sw;
                }
            }
            double *gin = calloc(batch * in, sizeof(double));
            for (size_t i = 0; i < batch; ++i)
                for (size_t k = 0; k < in; ++k) {
                    double s = 0;
                    for (size_t j = 0; j < outw; ++j)
                        s += ga[i * outw + j] * W[j * in + k];
                    gin[i * in + k] = s;
                }
            if (ga != gz)
                free(ga);
            free(gz);
            free(g);
            g = gin;
        }
    }
    free(g);
    for (size_t l = 0; l < L; ++l) {
        free(a[l]);
        free(xhat[l]);
        free(z[l]);
        free(invstd[l]);
        free(input[l + 1]);
    }
    return loss;
}

double mlp_ref_sgd_step(mlp_ref *m, const double *x, const void *y, size_t batch, double lr)
{
    double *grads[4 * MLP_REF_MAX_LAYERS];
    for (size_t i = 0; i < m->param_count; ++i)
        grads[i] = calloc(m->param_size[i], sizeof(double));
    double loss = mlp_ref_loss(m, x, y, batch, grads, 1);
    for (size_t i = 0; i < m->param_count; ++i) {
        for (size_t j = 0; j < m->param_size[i]; ++j)
            m->params[i][j] -= lr * grads[i][j];
        free(grads[i]);
    }
    return loss;
}
