/* Naive double-precision 2-D convolution, the reference of tests/test_conv.c. The backward
 * functions visit exactly the (input, weight, output) triples the forward does and add each term
 * where the forward's derivative puts it (the adjoint, as the definition), so they share no
 * index arithmetic with clnn's gathers. */
#include "conv_ref.h"

#include <math.h>

size_t conv_ref_out(size_t in, size_t k, size_t stride, size_t pad, size_t dil)
{
    return (in + 2 * pad - dil * (k - 1) - 1) / stride + 1;
}

void conv_ref_sizes(const conv_ref_shape *s, size_t *oh, size_t *ow, size_t *x_count,
                    size_t *w_count, size_t *y_count)
{
    *oh = conv_ref_out(s->H, s->KH, s->sh, s->ph, s->dh);
    *ow = conv_ref_out(s->W, s->KW, s->sw, s->pw, s->dw);
    *x_count = s->N * s->C * s->H * s->W;
    *w_count = s->O * (s->C / s->G) * s->KH * s->KW;
    *y_count = s->N * s->O * *oh * *ow;
}

/* Calls visit(ctx, xi, wi, yi) for every term x[xi] w[wi] of output y[yi]. */
typedef void (*term_fn)(void *ctx, size_t xi, size_t wi, size_t yi);

static void each_term(const conv_ref_shape *s, term_fn visit, void *ctx)
{
    size_t oh, ow, xc, wc, yc;
    conv_ref_sizes(s, &oh, &ow, &xc, &wc, &yc);
    size_t cg = s->C / s->G, og = s->O / s->G;
    for (size_t n = 0; n < s->N; ++n)
        for (size_t o = 0; o < s->O; ++o)
            for (size_t oy = 0; oy < oh; ++oy)
                for (size_t ox = 0; ox < ow; ++ox) {
                    size_t yi = ((n * s->O + o) * oh + oy) * ow + ox;
                    size_t g = o / og;
                    for (size_t ci = 0; ci < cg; ++ci)
                        for (size_t kh = 0; kh < s->KH; ++kh)
                            for (size_t kw = 0; kw < s->KW; ++kw) {
                                long iy = (long)(oy * s->sh + kh * s->dh) - (long)s->ph;
                                long ix = (long)(ox * s->sw + kw * s->dw) - (long)s->pw;
                                if (iy < 0 || ix < 0 || iy >= (long)s->H || ix >= (long)s->W)
                                    continue;
                                size_t c = g * cg + ci;
                                size_t xi =
                                    ((n * s->C + c) * s->H + (size_t)iy) * s->W + (size_t)ix;
                                size_t wi = ((o * cg + ci) * s->KH + kh) * s->KW + kw;
                                visit(ctx, xi, wi, yi);
                            }
                }
}

typedef struct acc {
    const float *x, *w, *dy; /* the two factors a term multiplies */
    double *out, *absum;
} acc;

static void add_forward(void *p, size_t xi, size_t wi, size_t yi)
{
    acc *a = p;
    double t = (double)a->x[xi] * (double)a->w[wi];
    a->out[yi] += t;
    if (a->absum)
        a->absum[yi] += fabs(t);
}

static void add_data(void *p, size_t xi, size_t wi, size_t yi)
{
    acc *a = p;
    double t = (double)a->dy[yi] * (double)a->w[wi];
    a->out[xi] += t;
    if (a->absum)
        a->absum[xi] += fabs(t);
}

static void add_weight(void *p, size_t xi, size_t wi, size_t yi)
{
    acc *a = p;
    double t = (double)a->dy[yi] * (double)a->x[xi];
    a->out[wi] += t;
    if (a->absum)
        a->absum[wi] += fabs(t);
}

/* out = beta out0 (0 when beta == 0), absum = |that|. */
static void start(size_t n, double beta, const float *out0, double *out, double *absum)
{
    for (size_t i = 0; i < n; ++i) {
        out[i] = beta != 0.0 ? beta * (double)out0[i] : 0.0;
        if (absum)
            absum[i] = fabs(out[i]);
    }
}

void conv_ref_forward(const conv_ref_shape *s, const float *x, const float *w, const float *b,
                      double *z, double *absum)
{
    size_t oh, ow, xc, wc, yc;
    conv_ref_sizes(s, &oh, &ow, &xc, &wc, &yc);
    for (size_t i = 0; i < yc; ++i) {
        double v = b ? (double)b[(i / (oh * ow)) % s->O] : 0.0;
        z[i] = v;
        if (absum)
            absum[i] = fabs(v);
    }
    acc a = {x, w, NULL, z, absum};
    each_term(s, add_forward, &a);
}

void conv_ref_backward_data(const conv_ref_shape *s, const float *dy, const float *w, double beta,
                            const float *dx0, double *dx, double *absum)
{
    size_t oh, ow, xc, wc, yc;
    conv_ref_sizes(s, &oh, &ow, &xc, &wc, &yc);
    start(xc, beta, dx0, dx, absum);
    acc a = {NULL, w, dy, dx, absum};
    each_term(s, add_data, &a);
}

void conv_ref_backward_weight(const conv_ref_shape *s, const float *dy, const float *x, double beta,
                              const float *dw0, double *dw, double *absum)
{
    size_t oh, ow, xc, wc, yc;
    conv_ref_sizes(s, &oh, &ow, &xc, &wc, &yc);
    start(wc, beta, dw0, dw, absum);
    acc a = {x, NULL, dy, dw, absum};
    each_term(s, add_weight, &a);
}

void conv_ref_backward_bias(const conv_ref_shape *s, const float *dy, double beta, const float *db0,
                            double *db, double *absum)
{
    size_t oh, ow, xc, wc, yc;
    conv_ref_sizes(s, &oh, &ow, &xc, &wc, &yc);
    start(s->O, beta, db0, db, absum);
    for (size_t i = 0; i < yc; ++i) {
        size_t o = (i / (oh * ow)) % s->O;
        db[o] += (double)dy[i];
        if (absum)
            absum[o] += fabs((double)dy[i]);
    }
}
