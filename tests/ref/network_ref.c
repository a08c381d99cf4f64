/*
 * Double-precision network reference: a direct transcription of each layer's definition
 * (PyTorch's Linear, BatchNorm1d/2d in training mode with biased batch variance, PReLU, Flatten,
 * Conv2d with stride, padding, dilation and groups, and y = f(body(x) + skip(x)) for residual
 * blocks), one sample row after another; pooling through its family's reference (pool_ref.c).
 */
#include "network_ref.h"

#include "activation_ref.h"
#include "pool_ref.h"

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

/* A convolution record on x (batch, *in), as F.conv2d defines it; *out is its output shape. */
static double *conv(const network_ref *net, size_t *param, const clnn_layer_spec *r,
                    const double *x, size_t batch, const shape *in, shape *out)
{
    const clnn_conv2d_desc *d = &r->conv;
    size_t C = in->dims[0], H = in->dims[1], W = in->dims[2], O = r->units, G = d->groups;
    size_t KH = d->kernel[0], KW = d->kernel[1], CG = C / G, OG = O / G;
    size_t OH = (H + 2 * d->padding[0] - d->dilation[0] * (KH - 1) - 1) / d->stride[0] + 1;
    size_t OW = (W + 2 * d->padding[1] - d->dilation[1] * (KW - 1) - 1) / d->stride[1] + 1;
    const double *w = net->params[(*param)++];
    const double *b = r->bias ? net->params[(*param)++] : NULL;
    double *y = malloc(batch * O * OH * OW * sizeof *y);
    for (size_t n = 0; n < batch; ++n)
        for (size_t o = 0; o < O; ++o)
            for (size_t oy = 0; oy < OH; ++oy)
                for (size_t ox = 0; ox < OW; ++ox) {
                    double sum = b ? b[o] : 0.0;
                    for (size_t c = 0; c < CG; ++c)
                        for (size_t ky = 0; ky < KH; ++ky)
                            for (size_t kx = 0; kx < KW; ++kx) {
                                /* input row and column, with the padding as an offset */
                                long iy = (long)(oy * d->stride[0] + ky * d->dilation[0]) -
                                          (long)d->padding[0];
                                long ix = (long)(ox * d->stride[1] + kx * d->dilation[1]) -
                                          (long)d->padding[1];
                                if (iy < 0 || ix < 0 || iy >= (long)H || ix >= (long)W)
                                    continue;
                                size_t channel = (o / OG) * CG + c;
                                sum += w[((o * CG + c) * KH + ky) * KW + kx] *
                                       x[((n * C + channel) * H + (size_t)iy) * W + (size_t)ix];
                            }
                    y[((n * O + o) * OH + oy) * OW + ox] = sum;
                }
    out->ndim = 3;
    out->dims[0] = O;
    out->dims[1] = OH;
    out->dims[2] = OW;
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
        case CLNN_LAYER_CONV2D: {
            shape out;
            next = conv(net, param, r, cur, batch, s, &out);
            apply(&r->activation, next, batch * size_of(&out));
            *s = out;
            break;
        }
        case CLNN_LAYER_POOL2D: {
            const clnn_pool2d_desc *d = &r->pool;
            pool_ref_geom g;
            pool_ref_geom_init(&g, batch, s->dims[0], s->dims[1], s->dims[2], d->kernel[0],
                               d->kernel[1], d->stride[0], d->stride[1], d->padding[0],
                               d->padding[1]);
            g.count_include_pad = d->count_include_pad;
            next = malloc(batch * s->dims[0] * g.OH * g.OW * sizeof *next);
            if (d->kind == CLNN_POOL_MAX)
                pool_ref_max_forward(cur, &g, next, NULL);
            else
                pool_ref_avg_forward(cur, &g, next);
            s->dims[1] = g.OH;
            s->dims[2] = g.OW;
            break;
        }
        case CLNN_LAYER_GLOBAL_AVG_POOL:
            next = malloc(batch * s->dims[0] * sizeof *next);
            pool_ref_gap_forward(cur, batch * s->dims[0], s->dims[1] * s->dims[2], next);
            s->ndim = 1;
            break;
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
            if (e->skip == CLNN_RESIDUAL_PROJECTION && in_shape.ndim == 1) {
                skip = dense(net, param, cur, batch, size_of(&in_shape), out);
            } else if (e->skip == CLNN_RESIDUAL_PROJECTION) {
                /* A 1x1 convolution with bias, strided to the body's output size. */
                clnn_layer_spec p;
                clnn_layer_spec_init(&p, CLNN_LAYER_CONV2D);
                p.units = s->dims[0];
                clnn_conv2d_desc_init(&p.conv, 1, 1);
                for (int axis = 0; axis < 2; ++axis) {
                    size_t from = in_shape.dims[1 + axis], to = s->dims[1 + axis], stride = 1;
                    while ((from - 1) / stride + 1 > to)
                        ++stride;
                    p.conv.stride[axis] = stride;
                }
                shape projected;
                skip = conv(net, param, &p, cur, batch, &in_shape, &projected);
            }
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
