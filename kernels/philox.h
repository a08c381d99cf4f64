/*
 * Philox4x32-10 (Salmon, Moraes, Dror and Shaw, "Parallel random numbers: as easy as 1, 2, 3",
 * SC 2011) and the float transforms built on it. This one file is the definition for both sides:
 * the kernels include it as OpenCL C and the host includes it as C11 (src/philox.h), so the host
 * and every device run the same operations in the same order.
 *
 * Stream layout (the contract that makes a tensor reproducible):
 *   key     = (seed & 0xffffffff, seed >> 32)
 *   counter = (block, domain, step & 0xffffffff, step >> 32)
 * where element i of a tensor takes word (i % 4) of the output of block i / 4. The domain keeps
 * initialisation (0) and dropout (1) streams apart; step is the dropout step (0 for init).
 * Nothing depends on the device, driver or work-group size.
 *
 * Bit-identical floats: every transform below uses only IEEE-754 single-precision +, -, * (which
 * OpenCL and C both round correctly), exact integer arithmetic and exact bit casts. No library
 * log/sqrt/sin/cos (OpenCL allows them several ulp of error, and libm differs again), no
 * division (OpenCL allows 2.5 ulp unless -cl-fp32-correctly-rounded-divide-sqrt), no fused
 * multiply-add: FP_CONTRACT is switched off here, and the host side is compiled as ISO C, where
 * GCC does not contract (clang obeys the STDC pragma in src/philox.h). No intermediate is
 * subnormal, so flush-to-zero devices agree too. The polynomials were fitted (Chebyshev, mpmath)
 * to the functions named beside them; their errors are far below float rounding.
 */
#ifndef CLNN_PHILOX_H
#define CLNN_PHILOX_H

#ifdef __OPENCL_VERSION__
#pragma OPENCL FP_CONTRACT OFF
typedef uint clnn_u32;
typedef int clnn_i32;
#define clnn_rng_as_uint(f) as_uint(f)
#define clnn_rng_as_float(u) as_float(u)
#define clnn_rng_mulhi(a, b) ((uint)(((ulong)(a) * (ulong)(b)) >> 32))
#else
#include <stdint.h>
#include <string.h>
typedef uint32_t clnn_u32;
typedef int32_t clnn_i32;
static inline clnn_u32 clnn_rng_as_uint(float f)
{
    clnn_u32 u;
    memcpy(&u, &f, sizeof u);
    return u;
}
static inline float clnn_rng_as_float(clnn_u32 u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
#define clnn_rng_mulhi(a, b) ((clnn_u32)(((uint64_t)(a) * (uint64_t)(b)) >> 32))
#endif

#define CLNN_RNG_DOMAIN_INIT 0u
#define CLNN_RNG_DOMAIN_DROPOUT 1u

/* Philox4x32 constants: multipliers and Weyl key increments (golden ratio, sqrt(3) - 1). */
#define CLNN_PHILOX_M0 0xD2511F53u
#define CLNN_PHILOX_M1 0xCD9E8D57u
#define CLNN_PHILOX_W0 0x9E3779B9u
#define CLNN_PHILOX_W1 0xBB67AE85u

/* One round on the words x0..x3 (scalars, so that vectorising compilers keep them in
 * registers): two 32x32->64 products, their halves swapped and xored with the key. */
#define CLNN_PHILOX_ROUND(k0, k1)                                                                  \
    do {                                                                                           \
        clnn_u32 hi0_ = clnn_rng_mulhi(CLNN_PHILOX_M0, x0), lo0_ = CLNN_PHILOX_M0 * x0;            \
        clnn_u32 hi1_ = clnn_rng_mulhi(CLNN_PHILOX_M1, x2), lo1_ = CLNN_PHILOX_M1 * x2;            \
        x0 = hi1_ ^ x1 ^ (k0);                                                                     \
        x1 = lo1_;                                                                                 \
        x2 = hi0_ ^ x3 ^ (k1);                                                                     \
        x3 = lo0_;                                                                                 \
    } while (0)
/* A round, then the key bumped by the Weyl constants. */
#define CLNN_PHILOX_ROUND_BUMP()                                                                   \
    do {                                                                                           \
        CLNN_PHILOX_ROUND(k0, k1);                                                                 \
        k0 += CLNN_PHILOX_W0;                                                                      \
        k1 += CLNN_PHILOX_W1;                                                                      \
    } while (0)

/* Philox4x32-10: ten rounds, the key bumped between rounds (written out: no loop for a
 * compiler to keep). c is the counter on entry and the four output words on return. */
static inline void clnn_philox4x32_10_block(clnn_u32 c[4], clnn_u32 k0, clnn_u32 k1)
{
    clnn_u32 x0 = c[0], x1 = c[1], x2 = c[2], x3 = c[3];
    CLNN_PHILOX_ROUND_BUMP();
    CLNN_PHILOX_ROUND_BUMP();
    CLNN_PHILOX_ROUND_BUMP();
    CLNN_PHILOX_ROUND_BUMP();
    CLNN_PHILOX_ROUND_BUMP();
    CLNN_PHILOX_ROUND_BUMP();
    CLNN_PHILOX_ROUND_BUMP();
    CLNN_PHILOX_ROUND_BUMP();
    CLNN_PHILOX_ROUND_BUMP();
    CLNN_PHILOX_ROUND(k0, k1);
    c[0] = x0;
    c[1] = x1;
    c[2] = x2;
    c[3] = x3;
}

/* The four words of block `block` of the stream (domain, step) under key (k0, k1). */
static inline void clnn_rng_block(clnn_u32 out[4], clnn_u32 block, clnn_u32 domain, clnn_u32 step0,
                                  clnn_u32 step1, clnn_u32 k0, clnn_u32 k1)
{
    out[0] = block;
    out[1] = domain;
    out[2] = step0;
    out[3] = step1;
    clnn_philox4x32_10_block(out, k0, k1);
}

/* 2^-24 and 2^-22, exact. */
#define CLNN_RNG_2M24 5.9604644775390625e-08f
#define CLNN_RNG_2M22 2.384185791015625e-07f

/* Uniform in [0, 1): the top 24 bits of x times 2^-24 (every value exact). */
static inline float clnn_rng_uniform01(clnn_u32 x)
{
    return (float)(x >> 8) * CLNN_RNG_2M24;
}

/* Uniform in (0, 1]: (top 24 bits + 1) * 2^-24, never 0, so its logarithm is finite. */
static inline float clnn_rng_uniform01_open0(clnn_u32 x)
{
    return (float)((x >> 8) + 1u) * CLNN_RNG_2M24;
}

/* Natural logarithm of a positive normal float. x = m * 2^e with m in [sqrt(1/2), sqrt(2)] (bit
 * manipulation, exact); f = m - 1 is exact (Sterbenz); ln(1 + f) = f * P(f), P fitted to
 * ln(1+f)/f on [sqrt(1/2) - 1, sqrt(2) - 1] (relative error 1.2e-10); e*ln2 split in a 16-bit
 * head (e*head exact) and a tail. */
static inline float clnn_rng_log(float x)
{
    clnn_u32 bits = clnn_rng_as_uint(x);
    clnn_i32 e = (clnn_i32)(bits >> 23) - 127;
    clnn_u32 mb = (bits & 0x007fffffu) | 0x3f800000u;
    if (mb > 0x3fb504f3u) { /* m > sqrt(2): halve it */
        mb -= 0x00800000u;
        e += 1;
    }
    float f = clnn_rng_as_float(mb) - 1.0f;
    float p = -5.845671335e-02f;
    p = p * f + 1.063654238e-01f;
    p = p * f - 1.089811258e-01f;
    p = p * f + 1.104273604e-01f;
    p = p * f - 1.241088567e-01f;
    p = p * f + 1.428379840e-01f;
    p = p * f - 1.667038365e-01f;
    p = p * f + 2.000016964e-01f;
    p = p * f - 2.499993659e-01f;
    p = p * f + 3.333333085e-01f;
    p = p * f - 5.000000031e-01f;
    p = p * f + 1.0f;
    float ef = (float)e;
    float tail = ef * 1.428606765330187e-06f;
    float head = ef * 0.693145751953125f;
    float lnm = f * p;
    return head + (tail + lnm);
}

/* Square root of a non-negative normal float (0 for 0 or -0). x = m * 2^(2h) with m in [1, 4);
 * 1/sqrt(m) from a bit-level first guess and three Newton steps, sqrt(m) = m * y with one
 * correction step, then scaled by 2^h (exact). */
static inline float clnn_rng_sqrt(float x)
{
    clnn_u32 bits = clnn_rng_as_uint(x);
    clnn_i32 e = (clnn_i32)(bits >> 23) - 127;
    clnn_i32 odd = e & 1;
    clnn_i32 h = (e - odd) / 2;
    clnn_u32 mb = (bits & 0x007fffffu) | ((clnn_u32)(127 + odd) << 23);
    float m = clnn_rng_as_float(mb);
    float half_m = 0.5f * m;
    float y = clnn_rng_as_float(0x5f3759dfu - (mb >> 1));
    for (int i = 0; i < 3; ++i) {
        float t = half_m * y;
        t = t * y;
        y = y * (1.5f - t);
    }
    float s = m * y;
    float r = m - s * s;
    float hy = 0.5f * y;
    s = s + hy * r;
    s = s * clnn_rng_as_float((clnn_u32)(127 + h) << 23);
    return x > 0.0f ? s : 0.0f; /* (the arithmetic above is harmless for 0) */
}

/* cos and sin of the angle 2*pi*k/2^24 for a 24-bit k. The reduction is exact integer
 * arithmetic: k = 2^22 * (j + x) with j the nearest quarter turn and x in [-1/2, 1/2); then
 * sin(pi/2 x) = x * S(x^2) and cos(pi/2 x) = C(x^2) (fitted, errors below 7e-11), rotated by j
 * quarter turns (sign and swap, exact). */
static inline void clnn_rng_cos_sin_turn(clnn_u32 k, float *c, float *s)
{
    clnn_u32 jj = (k + 0x200000u) >> 22;
    clnn_i32 d = (clnn_i32)k - (clnn_i32)(jj << 22);
    float x = (float)d * CLNN_RNG_2M22;
    float t = x * x;
    float sp = 1.582063036e-04f;
    sp = sp * t - 4.681266257e-03f;
    sp = sp * t + 7.969258273e-02f;
    sp = sp * t - 6.459640961e-01f;
    sp = sp * t + 1.570796327e+00f;
    float sn = x * sp;
    float cs = 9.036280664e-04f;
    cs = cs * t - 2.086006950e-02f;
    cs = cs * t + 2.536692037e-01f;
    cs = cs * t - 1.233700541e+00f;
    cs = cs * t + 1.0f;
    /* quarter turns j = 0..3 give (cos, sin) = (cs, sn), (-sn, cs), (-cs, -sn), (sn, -cs):
     * swap on odd j, negate cos on j = 1, 2 and sin on j = 2, 3 (selects, no branches) */
    clnn_u32 j = jj & 3u;
    float a = (j & 1u) ? sn : cs, b = (j & 1u) ? cs : sn;
    *c = ((j + 1u) & 2u) ? -a : a;
    *s = (j & 2u) ? -b : b;
}

/* Box-Muller: two standard normals from two words. u1 in (0, 1] (never log(0)), the angle from
 * the other word's top 24 bits. |z| <= sqrt(-2 ln 2^-24) = 5.77. */
static inline void clnn_rng_normal2(clnn_u32 a, clnn_u32 b, float *z0, float *z1)
{
    float r = clnn_rng_sqrt(-2.0f * clnn_rng_log(clnn_rng_uniform01_open0(a)));
    float c, s;
    clnn_rng_cos_sin_turn(b >> 8, &c, &s);
    *z0 = r * c;
    *z1 = r * s;
}

/* The inverse of the standard normal CDF, Phi^-1(p), for p in [1e-30, 1 - 2^-24]. With
 * q = min(p, 1 - p) and y = 1 - 2q: Phi^-1(q) = -sqrt(2) erfinv(y), and erfinv(y) = y * G(w) with
 * w = -ln(1 - y^2) = -ln(4q(1 - q)), computed from q so the tail keeps its relative precision
 * (Giles' form, "Approximating the erfinv function", 2010, with our own fits of G: w < 5 in
 * w - 2.5; sqrt(w) < 4.5 in sqrt(w) - 3.375; else in sqrt(w) - 6.5; relative errors below
 * 1e-7). */
static inline float clnn_rng_ndtri(float p)
{
    int upper = p > 0.5f;
    float q = upper ? 1.0f - p : p;
    float y = 1.0f - 2.0f * q;
    float w = -clnn_rng_log((4.0f * q) * (1.0f - q));
    float g;
    if (w < 5.0f) {
        float v = w - 2.5f;
        g = -8.931925970e-09f;
        g = g * v + 2.333596720e-08f;
        g = g * v + 4.681313481e-07f;
        g = g * v - 3.463985268e-06f;
        g = g * v - 4.972419689e-06f;
        g = g * v + 2.183493862e-04f;
        g = g * v - 1.252726392e-03f;
        g = g * v - 4.177392875e-03f;
        g = g * v + 2.466402791e-01f;
        g = g * v + 1.501409360e+00f;
    } else {
        float sw = clnn_rng_sqrt(w);
        if (sw < 4.5f) {
            float v = sw - 3.375f;
            g = 5.101491085e-05f;
            g = g * v - 2.001209536e-05f;
            g = g * v - 3.346063780e-04f;
            g = g * v + 7.629617714e-04f;
            g = g * v - 1.069968938e-03f;
            g = g * v + 1.590466345e-03f;
            g = g * v - 2.738010137e-03f;
            g = g * v + 4.175345179e-03f;
            g = g * v + 1.006443572e+00f;
            g = g * v + 3.209619949e+00f;
        } else {
            float v = sw - 6.5f;
            g = -3.687095371e-09f;
            g = g * v + 2.293106445e-08f;
            g = g * v - 1.011109501e-07f;
            g = g * v + 5.609355098e-07f;
            g = g * v - 2.922379880e-06f;
            g = g * v + 1.158974215e-05f;
            g = g * v - 1.079159470e-05f;
            g = g * v - 5.106554271e-04f;
            g = g * v + 1.009109390e+00f;
            g = g * v + 6.364593328e+00f;
        }
    }
    float yg = y * g;
    float x = -1.41421354f * yg;
    return upper ? -x : x;
}

/* Parameters of one initialisation distribution, as the kernels receive them. */
#define CLNN_RNG_PMIN 1e-30f
#define CLNN_RNG_PMAX 0.99999994f /* 1 - 2^-24 */

/* The four elements of block `block` of each distribution (host and device share these). */
static inline void clnn_rng_uniform_block(clnn_u32 block, clnn_u32 k0, clnn_u32 k1, float lo,
                                          float width, float hi, float out[4])
{
    clnn_u32 r[4];
    clnn_rng_block(r, block, CLNN_RNG_DOMAIN_INIT, 0u, 0u, k0, k1);
    for (int i = 0; i < 4; ++i) {
        float v = lo + width * clnn_rng_uniform01(r[i]);
        /* rounding may reach b; keep the result in [a, b) */
        out[i] = v < lo ? lo : (v > hi ? hi : v);
    }
}

static inline void clnn_rng_normal_block(clnn_u32 block, clnn_u32 k0, clnn_u32 k1, float mean,
                                         float std, float out[4])
{
    clnn_u32 r[4];
    float z[4];
    clnn_rng_block(r, block, CLNN_RNG_DOMAIN_INIT, 0u, 0u, k0, k1);
    clnn_rng_normal2(r[0], r[1], &z[0], &z[1]);
    clnn_rng_normal2(r[2], r[3], &z[2], &z[3]);
    for (int i = 0; i < 4; ++i) {
        float sz = std * z[i];
        out[i] = mean + sz;
    }
}

/* Truncated normal by inverse CDF: p = pl + pw * u, x = Phi^-1(p) clamped to [zlo, zhi] (the
 * standardised bounds, mirrored by the host when sign = -1 so that p stays in the precise lower
 * half), then mean + std * sign * x clamped to [a, b]. */
static inline void clnn_rng_trunc_normal_block(clnn_u32 block, clnn_u32 k0, clnn_u32 k1, float pl,
                                               float pw, float zlo, float zhi, float sign,
                                               float mean, float std, float a, float b,
                                               float out[4])
{
    clnn_u32 r[4];
    clnn_rng_block(r, block, CLNN_RNG_DOMAIN_INIT, 0u, 0u, k0, k1);
    for (int i = 0; i < 4; ++i) {
        float pu = pw * clnn_rng_uniform01(r[i]);
        float p = pl + pu;
        p = p < CLNN_RNG_PMIN ? CLNN_RNG_PMIN : (p > CLNN_RNG_PMAX ? CLNN_RNG_PMAX : p);
        float x = clnn_rng_ndtri(p);
        x = x < zlo ? zlo : (x > zhi ? zhi : x);
        float sx = sign * x;
        float ssx = std * sx;
        float v = mean + ssx;
        out[i] = v < a ? a : (v > b ? b : v);
    }
}

/* Dropout keeps element i when the top 24 bits of its word are >= threshold = round(p * 2^24). */
static inline int clnn_rng_keep(clnn_u32 word, clnn_u32 threshold)
{
    return (word >> 8) >= threshold;
}

#if defined(__OPENCL_VERSION__) || defined(__OPENCL_C_VERSION__) /* a device compiler */
/* clnn_rng_block on eight consecutive blocks at once: lane j of *ww is word w of block
 * `block + j`, the same bits. POCL left the scalar rounds scalar (dropout took 2.2 ns per element
 * on a 2-core CPU, bound by the multiplies); on uint8 lanes, with the high halves from ulong8
 * products, it vectorises them (mul_hi on the lanes vectorised less: 17 against 11 ms for 10M
 * elements with four lanes). */
static inline void clnn_rng_block8(uint block, uint domain, uint step0, uint step1, uint k0,
                                   uint k1, uint8 *w0, uint8 *w1, uint8 *w2, uint8 *w3)
{
    uint8 x0 = (uint8)(block) + (uint8)(0u, 1u, 2u, 3u, 4u, 5u, 6u, 7u), x1 = (uint8)(domain);
    uint8 x2 = (uint8)(step0), x3 = (uint8)(step1);
    for (int round = 0; round < 10; ++round) {
        uint8 hi0 = convert_uint8((convert_ulong8(x0) * (ulong)CLNN_PHILOX_M0) >> 32);
        uint8 hi1 = convert_uint8((convert_ulong8(x2) * (ulong)CLNN_PHILOX_M1) >> 32);
        uint8 lo0 = x0 * CLNN_PHILOX_M0, lo1 = x2 * CLNN_PHILOX_M1;
        x0 = hi1 ^ x1 ^ k0;
        x1 = lo1;
        x2 = hi0 ^ x3 ^ k1;
        x3 = lo0;
        k0 += CLNN_PHILOX_W0; /* after the last round too: unused */
        k1 += CLNN_PHILOX_W1;
    }
    *w0 = x0;
    *w1 = x1;
    *w2 = x2;
    *w3 = x3;
}
#endif

#endif /* CLNN_PHILOX_H */
