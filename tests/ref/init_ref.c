/* Double-precision references for the init family (see init_ref.h). */
#include "init_ref.h"

#include <math.h>

void init_ref_philox(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t x0 = ctr[0], x1 = ctr[1], x2 = ctr[2], x3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; ++round) {
        if (round > 0) {
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        uint64_t p0 = (uint64_t)0xD2511F53u * x0, p1 = (uint64_t)0xCD9E8D57u * x2;
        uint32_t y0 = (uint32_t)(p1 >> 32) ^ x1 ^ k0, y1 = (uint32_t)p1;
        uint32_t y2 = (uint32_t)(p0 >> 32) ^ x3 ^ k1, y3 = (uint32_t)p0;
        x0 = y0, x1 = y1, x2 = y2, x3 = y3;
    }
    out[0] = x0, out[1] = x1, out[2] = x2, out[3] = x3;
}

void init_ref_stream(uint64_t seed, uint32_t domain, uint64_t step, uint32_t block,
                     uint32_t out[4])
{
    uint32_t ctr[4] = {block, domain, (uint32_t)step, (uint32_t)(step >> 32)};
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    init_ref_philox(ctr, key, out);
}

void init_ref_normal2(uint32_t a, uint32_t b, double *z0, double *z1)
{
    double u1 = ((double)(a >> 8) + 1.0) / 16777216.0;
    double theta = 6.283185307179586 * (double)(b >> 8) / 16777216.0;
    double r = sqrt(-2.0 * log(u1));
    *z0 = r * cos(theta);
    *z1 = r * sin(theta);
}

init_ref_moments init_ref_uniform_moments(double a, double b)
{
    double w = b - a;
    return (init_ref_moments){(a + b) / 2, w * w / 12, w * w * w * w / 80};
}

init_ref_moments init_ref_normal_moments(double mean, double std)
{
    double v = std * std;
    return (init_ref_moments){mean, v, 3 * v * v};
}

init_ref_moments init_ref_trunc_normal_moments(double mean, double std, double a, double b)
{
    /* Simpson's rule on the density restricted to [a, b]; 20000 panels resolve it to ~1e-12 */
    const int panels = 20000;
    double h = (b - a) / panels, s[5] = {0};
    for (int pass = 0; pass < 2; ++pass) {
        double m = pass ? s[1] / s[0] : 0.0;
        for (int k = 0; k < 5; ++k)
            if (pass)
                s[k] = 0;
        for (int i = 0; i <= panels; ++i) {
            double x = a + h * i, z = (x - mean) / std;
            double w = (i == 0 || i == panels) ? 1 : (i % 2 ? 4 : 2);
            double f = w * exp(-0.5 * z * z);
            double d = pass ? x - m : x;
            s[0] += f;
            s[1] += f * d;
            s[2] += f * d * d;
            s[4] += f * d * d * d * d;
        }
        if (pass) {
            return (init_ref_moments){m, s[2] / s[0], s[4] / s[0]};
        }
    }
    return (init_ref_moments){0, 0, 0};
}

void init_ref_sample_stats(const float *x, size_t n, double *mean, double *std)
{
    double s = 0;
    for (size_t i = 0; i < n; ++i)
        s += x[i];
    double m = s / (double)n, q = 0;
    for (size_t i = 0; i < n; ++i)
        q += ((double)x[i] - m) * ((double)x[i] - m);
    *mean = m;
    *std = sqrt(q / (double)(n - 1));
}
