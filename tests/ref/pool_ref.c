/* Double-precision pooling references (see pool_ref.h); loops as in PyTorch's
 * aten/src/ATen/native/cpu/MaxPoolKernel.cpp and AvgPoolKernel.cpp (NCHW, floor mode). */
#include "pool_ref.h"

#include <math.h>
#include <string.h>

typedef long long ll;

static ll min_ll(ll a, ll b)
{
    return a < b ? a : b;
}

static ll max_ll(ll a, ll b)
{
    return a > b ? a : b;
}

void pool_ref_geom_init(pool_ref_geom *g, size_t N, size_t C, size_t H, size_t W, size_t kh,
                        size_t kw, size_t sh, size_t sw, size_t ph, size_t pw)
{
    memset(g, 0, sizeof *g);
    g->N = N, g->C = C, g->H = H, g->W = W;
    g->kh = kh, g->kw = kw, g->sh = sh, g->sw = sw, g->ph = ph, g->pw = pw;
    g->count_include_pad = 1;
    g->OH = (H + 2 * ph - kh) / sh + 1;
    g->OW = (W + 2 * pw - kw) / sw + 1;
}

void pool_ref_max_forward(const double *x, const pool_ref_geom *g, double *y, int32_t *idx)
{
    ll H = (ll)g->H, W = (ll)g->W;
    for (size_t p = 0; p < g->N * g->C; ++p) {
        const double *xp = x + p * g->H * g->W;
        for (size_t oh = 0; oh < g->OH; ++oh) {
            for (size_t ow = 0; ow < g->OW; ++ow) {
                ll h0 = (ll)(oh * g->sh) - (ll)g->ph, w0 = (ll)(ow * g->sw) - (ll)g->pw;
                ll h1 = min_ll(h0 + (ll)g->kh, H), w1 = min_ll(w0 + (ll)g->kw, W);
                h0 = max_ll(h0, 0);
                w0 = max_ll(w0, 0);
                ll maxindex = h0 * W + w0;
                double maxval = -INFINITY;
                for (ll h = h0; h < h1; ++h) {
                    for (ll w = w0; w < w1; ++w) {
                        double val = xp[h * W + w];
                        if (val > maxval || isnan(val)) {
                            maxval = val;
                            maxindex = h * W + w;
                        }
                    }
                }
                size_t o = (p * g->OH + oh) * g->OW + ow;
                y[o] = maxval;
                if (idx)
                    idx[o] = (int32_t)maxindex;
            }
        }
    }
}

void pool_ref_max_backward(const double *dy, const int32_t *idx, const pool_ref_geom *g, double *dx)
{
    size_t HW = g->H * g->W, OHW = g->OH * g->OW;
    for (size_t i = 0; i < g->N * g->C * HW; ++i)
        dx[i] = 0.0;
    for (size_t p = 0; p < g->N * g->C; ++p)
        for (size_t o = 0; o < OHW; ++o)
            dx[p * HW + (size_t)idx[p * OHW + o]] += dy[p * OHW + o];
}

double pool_ref_avg_divisor(const pool_ref_geom *g, size_t oh, size_t ow)
{
    ll hstart = (ll)(oh * g->sh) - (ll)g->ph, wstart = (ll)(ow * g->sw) - (ll)g->pw;
    ll hend = min_ll(hstart + (ll)g->kh, (ll)(g->H + g->ph));
    ll wend = min_ll(wstart + (ll)g->kw, (ll)(g->W + g->pw));
    ll pool_size = (hend - hstart) * (wend - wstart);
    hstart = max_ll(hstart, 0);
    wstart = max_ll(wstart, 0);
    hend = min_ll(hend, (ll)g->H);
    wend = min_ll(wend, (ll)g->W);
    return (double)(g->count_include_pad ? pool_size : (hend - hstart) * (wend - wstart));
}

/* The window of (oh, ow) clipped to the input. */
static void window(const pool_ref_geom *g, size_t oh, size_t ow, ll *h0, ll *h1, ll *w0, ll *w1)
{
    ll hs = (ll)(oh * g->sh) - (ll)g->ph, ws = (ll)(ow * g->sw) - (ll)g->pw;
    *h1 = min_ll(hs + (ll)g->kh, (ll)g->H);
    *w1 = min_ll(ws + (ll)g->kw, (ll)g->W);
    *h0 = max_ll(hs, 0);
    *w0 = max_ll(ws, 0);
}

void pool_ref_avg_forward(const double *x, const pool_ref_geom *g, double *y)
{
    for (size_t p = 0; p < g->N * g->C; ++p)
        for (size_t oh = 0; oh < g->OH; ++oh)
            for (size_t ow = 0; ow < g->OW; ++ow) {
                ll h0, h1, w0, w1;
                window(g, oh, ow, &h0, &h1, &w0, &w1);
                double sum = 0.0;
                for (ll h = h0; h < h1; ++h)
                    for (ll w = w0; w < w1; ++w)
                        sum += x[p * g->H * g->W + (size_t)(h * (ll)g->W + w)];
                y[(p * g->OH + oh) * g->OW + ow] = sum / pool_ref_avg_divisor(g, oh, ow);
            }
}

void pool_ref_avg_backward(const double *dy, const pool_ref_geom *g, double *dx)
{
    size_t HW = g->H * g->W;
    for (size_t i = 0; i < g->N * g->C * HW; ++i)
        dx[i] = 0.0;
    for (size_t p = 0; p < g->N * g->C; ++p)
        for (size_t oh = 0; oh < g->OH; ++oh)
            for (size_t ow = 0; ow < g->OW; ++ow) {
                ll h0, h1, w0, w1;
                window(g, oh, ow, &h0, &h1, &w0, &w1);
                double share = dy[(p * g->OH + oh) * g->OW + ow] / pool_ref_avg_divisor(g, oh, ow);
                for (ll h = h0; h < h1; ++h)
                    for (ll w = w0; w < w1; ++w)
                        dx[p * HW + (size_t)(h * (ll)g->W + w)] += share;
            }
}

void pool_ref_gap_forward(const double *x, size_t planes, size_t HW, double *y)
{
    for (size_t p = 0; p < planes; ++p) {
        double sum = 0.0;
        for (size_t i = 0; i < HW; ++i)
            sum += x[p * HW + i];
        y[p] = sum / (double)HW;
    }
}

void pool_ref_gap_backward(const double *dy, size_t planes, size_t HW, double *dx)
{
    for (size_t p = 0; p < planes; ++p)
        for (size_t i = 0; i < HW; ++i)
            dx[p * HW + i] = dy[p] / (double)HW;
}
