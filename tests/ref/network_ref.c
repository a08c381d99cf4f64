/*
 * Double-precision network reference: a direct transcription of each layer's definition
 * (PyTorch's Linear, BatchNorm1d/2d in training mode with biased batch variance, PReLU, Flatten,
 * and y = f(body(x) + skip(x)) for residual blocks), one sample row after another.
 */
#include "network_ref.h"

#include "activation_ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct shape {
    int ndim;
    size_t dims[3];
} shape;

static size_t size_of(const shape *s)
{
    size_t n = 1;
    for (int i = 0; i < s->ndim; ++i)
        n *= s->dims[i];
    return n;
}

static size_t matching_end(const clnn_layer_spec *r, size_t begin, size_t end)
{
    int open = 0;
    for (size_t i = begin; i < end; ++i) {
        if (r[i].type == CLNN_LAYER_RESIDUAL_BEGIN)
            ++open;
        else if (r[i].type == CLNN_LAYER_RESIDUAL_END && --open == 0)
            return i;
    }
    return end;
}

static void apply(const clnn_activation_desc *a, double *x, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        x[i] = clnn_ref_activation_forward(a, x[i]);
}

static double *dense(const network_ref *net, size_t *param, const double *x, size_t batch,
                     size_t in, size_t out)
{
    const double *w = net->params[(*param)++], *b = net->params[(*param)++];
    double *y = malloc(batch * out * sizeof *y);
    for (size_t n = 0; n < batch; ++n)
        for (size_t o = 0; o < out; ++o) {
            double s = b[o];
            for (size_t i = 0; i < in; ++i)
                s += x[n * in + i] * w[o * in + i];
            y[n * out + o] = s;
        }
    return y;
}

/* Runs records [first, end) on x (batch x size(*s)); returns the output, *s its shape. */
static double *run(const network_ref *net, size_t first, size_t end, size_t *param,
                   const double *x, size_t batch, shape *s)
{
    size_t n_in = size_of(s);
    double *cur = malloc(batch * n_in * sizeof *cur);
    memcpy(cur, x, batch * n_in * sizeof *cur);
    for (size_t i = first; i < end; ++i) {
        const clnn_layer_spec *r = &net->records[i];
        size_t size = size_of(s);
        double *next = NULL;
        switch (r->type) {
        case CLNN_LAYER_DENSE:
            next = dense(net, param, cur, batch, size, r->units);
            apply(&r->activation, next, batch * r->units);
            s->ndim = 1;
            s->dims[0] = r->units;
            break;
        case CLNN_LAYER_BATCH_NORM: {
            const double *g = net->params[(*param)++], *b = net->params[(*param)++];
            size_t channels = s->dims[0], inner = size / channels;
            next = malloc(batch * size * sizeof *next);
            for (size_t c = 0; c < channels; ++c) {
                double mean = 0.0, var = 0.0, m = (double)(batch * inner);
                for (size_t n = 0; n < batch; ++n)
                    for (size_t k = 0; k < inner; ++k)
                        mean += cur[n * size + c * inner + k];
                mean /= m;
                for (size_t n = 0; n < batch; ++n)
                    for (size_t k = 0; k < inner; ++k) {
                        double d = cur[n * size + c * inner + k] - mean;
                        var += d * d;
                    }
                var /= m;
                double invstd = 1.0 / sqrt(var + (double)r->eps);
                for (size_t n = 0; n < batch; ++n)
                    for (size_t k = 0; k < inner; ++k) {
                        size_t at = n * size + c * inner + k;
                        next[at] = clnn_ref_activation_forward(
                            &r->activation, (cur[at] - mean) * invstd * g[c] + b[c]);
                    }
            }
            break;
        }
        case CLNN_LAYER_ACTIVATION:
            next = malloc(batch * size * sizeof *next);
            memcpy(next, cur, batch * size * sizeof *next);
            apply(&r->activation, next, batch * size);
            break;
        case CLNN_LAYER_PRELU: {
            const double *a = net->params[(*param)++];
            size_t channels = s->dims[0], inner = size / channels;
            next = malloc(batch * size * sizeof *next);
            for (size_t k = 0; k < batch * size; ++k) {
                double slope = r->prelu_per_channel ? a[(k % size) / inner] : a[0];
                next[k] = cur[k] > 0.0 ? cur[k] : slope * cur[k];
            }
            break;
        }
        case CLNN_LAYER_FLATTEN:
            next = malloc(batch * size * sizeof *next);
            memcpy(next, cur, batch * size * sizeof *next);
            s->ndim = 1;
            s->dims[0] = size;
            break;
        case CLNN_LAYER_RESIDUAL_BEGIN: {
            size_t close = matching_end(net->records, i, end);
            const clnn_layer_spec *e = &net->records[close];
            shape in_shape = *s;
            next = run(net, i + 1, close, param, cur, batch, s);
            size_t out = size_of(s);
            double *skip = cur;
            if (e->skip == CLNN_RESIDUAL_PROJECTION)
                skip = dense(net, param, cur, batch, size_of(&in_shape), out);
            for (size_t k = 0; k < batch * out; ++k)
                next[k] = clnn_ref_activation_forward(&e->activation, next[k] + skip[k]);
            if (skip != cur)
                free(skip);
            i = close;
            break;
        }
        default: /* dropout and stray records are not part of the reference */
            abort();
        }
        free(cur);
        cur = next;
    }
    return cur;
}

double network_ref_loss(const network_ref *net, const double *x, size_t batch, const void *y)
{
    shape s = {net->in_ndim, {net->in_dims[0], net->in_dims[1], net->in_dims[2]}};
    size_t param = 0;
    double *z = run(net, 0, net->count, &param, x, batch, &s);
    size_t c = size_of(&s);
    double total = 0.0;
    for (size_t n = 0; n < batch; ++n) {
        const double *row = z + n * c;
        if (net->loss == CLNN_LOSS_CROSS_ENTROPY) {
            double max = row[0], sum = 0.0;
            for (size_t j = 1; j < c; ++j)
                max = fmax(max, row[j]);
            for (size_t j = 0; j < c; ++j)
                sum += exp(row[j] - max);
            total += log(sum) + max - row[((const int32_t *)y)[n]];
            continue;
        }
        const float *t = (const float *)y + n * c;
        for (size_t j = 0; j < c; ++j) {
            double d = row[j] - (double)t[j];
            if (net->loss == CLNN_LOSS_MSE)
                total += d * d / (double)c;
            else
                total += (fmax(row[j], 0.0) - row[j] * t[j] + log1p(exp(-fabs(row[j])))) /
                         (double)c;
        }
    }
    free(z);
    return total / (double)batch;
}

void network_ref_gradients(const network_ref *net, const double *x, size_t batch, const void *y,
                           double h, double **grads)
{
    for (size_t p = 0; p < net->param_count; ++p)
        for (size_t i = 0; i < net->param_sizes[p]; ++i) {
            double keep = net->params[p][i];
            net->params[p][i] = keep + h;
            double up = network_ref_loss(net, x, batch, y);
            net->params[p][i] = keep - h;
            double down = network_ref_loss(net, x, batch, y);
            net->params[p][i] = keep;
            grads[p][i] = (up - down) / (2.0 * h);
        }
}
