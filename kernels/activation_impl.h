/*
 * The activation functions for one type: included by activation.h only, twice, with CLNN_ACT_T
 * (float or float4), CLNN_ACT_I (the matching int type) and CLNN_ACT_N(name) (the function name
 * for that type) defined. No include guard, on purpose.
 */
/* c ? a : b, lane-wise. */
static inline CLNN_ACT_T CLNN_ACT_N(clnn_act_where)(CLNN_ACT_I c, CLNN_ACT_T a, CLNN_ACT_T b)
{
    return select(b, a, c);
}

/* The reduction shared by clnn_act_exp and clnn_act_expm1 (described there): for a clamped xc,
 * returns e^r - 1 = r + r^2 P(r) and sets *k = n, where xc = n ln2 + r, |r| <= ln2 / 2. */
static inline CLNN_ACT_T CLNN_ACT_N(clnn_act_exp_reduced)(CLNN_ACT_T xc, CLNN_ACT_I *k)
{
    CLNN_ACT_T kf = fma(xc, (CLNN_ACT_T)(1.44269504088896341f), (CLNN_ACT_T)(12582912.0f));
    CLNN_ACT_T n = kf - 12582912.0f;
    *k = CLNN_ACT_CAT(as_, CLNN_ACT_I)(kf) - 0x4B400000; /* as_int(12582912.0f): k == n */
    CLNN_ACT_T r = fma(n, (CLNN_ACT_T)(-0.693359375f), xc);
    r = fma(n, (CLNN_ACT_T)(2.12194440e-4f), r);
    CLNN_ACT_T q = fma(r, (CLNN_ACT_T)(1.9875691500e-4f), (CLNN_ACT_T)(1.3981999507e-3f));
    q = fma(q, r, 8.3334519073e-3f);
    q = fma(q, r, 4.1665795894e-2f);
    q = fma(q, r, 1.6666665459e-1f);
    q = fma(q, r, 5.0000001201e-1f);
    return fma(q, r * r, r);
}

/* e^x for every float x, within 2 ulp (measured by the test's sweep of the float range; POCL's
 * exp is several times slower than memory, so these kernels carry their own). Cody-Waite:
 * x = n ln2 + r, n = round(x / ln2) read from the low bits of the 1.5 * 2^23 shifter after one
 * fma (one rounding of the exact product), ln2 = C1 + C2 with C1 = 355/512 exact in 9 bits, so
 * x - n C1 is exact and only the small n C2 term rounds; |r| <= ln2 / 2. e^r = 1 + r + r^2 P(r)
 * with Cephes's degree-5 P (relative error below 1e-7 there). 2^n is applied as 2^(n mod 2) and
 * twice 2^floor(n/2), a normal float built from its exponent bits: every product but the last is
 * exact, the last rounds once, so results in the subnormal range round correctly and 2^128 and
 * beyond give +Inf. x is clamped to [-150, 100] first (e^-150 rounds to 0 and e^100 to +Inf, so
 * -Inf gives 0 and +Inf gives +Inf); NaN is passed through. */
static inline CLNN_ACT_T CLNN_ACT_N(clnn_act_exp)(CLNN_ACT_T x)
{
    CLNN_ACT_I k;
    CLNN_ACT_T e = CLNN_ACT_N(clnn_act_exp_reduced)(fmin(fmax(x, -150.0f), 100.0f), &k) + 1.0f;
    /* 2^k = 2^(k & 1) (2^h)^2, h = floor(k / 2); the odd factor joins e exactly. (Building two
     * scales alike would invite LLVM's SLP vectoriser to pair them, and a kernel holding
     * short vectors is no longer vectorised across work-items by POCL: 4x slower.) */
    CLNN_ACT_I odd = k & 1;
    CLNN_ACT_T s = CLNN_ACT_CAT(as_, CLNN_ACT_T)(((k - odd) / 2 + 127) << 23);
    CLNN_ACT_T eo = e * CLNN_ACT_N(clnn_act_where)(odd != 0, (CLNN_ACT_T)(2.0f), (CLNN_ACT_T)(1.0f));
    /* x != x rather than isnan(x): the callers test isnan(x) on their own argument, and two
     * alike tests are what LLVM's SLP vectoriser pairs into a 2-lane vector, which stops POCL
     * vectorising the kernel across work-items (4x slower). */
    return CLNN_ACT_N(clnn_act_where)(x != x, x, eo * s * s);
}

/* e^x - 1 without cancellation, in one branch-free path as costly as clnn_act_exp (POCL's expm1
 * and tanh are several times slower, and a Taylor polynomial next to an exp, both evaluated and
 * one selected, doubles the work). The same reduction as clnn_act_exp, x = n ln2 + r,
 * |r| <= ln2 / 2, with e^r - 1 = r + r^2 P(r) kept apart from the 1 (no cancellation; r == x
 * exactly where n == 0), then e^x - 1 = 2 (s (e^r - 1) + (s - 1/2)) with s = 2^(n-1): every
 * scaling is exact, s - 1/2 is exact for the n where the sum can cancel (n <= 1), and the final
 * doubling overflows to +Inf exactly where e^x - 1 does. x is clamped to [-30, 89] first (e^-30 - 1
 * rounds to -1, and e^89 overflows while 2^(n-1) <= 2^127 stays a normal float); NaN is passed
 * through. */
static inline CLNN_ACT_T CLNN_ACT_N(clnn_act_expm1)(CLNN_ACT_T x)
{
    CLNN_ACT_I k;
    CLNN_ACT_T em1 = CLNN_ACT_N(clnn_act_exp_reduced)(fmin(fmax(x, -30.0f), 89.0f), &k);
    CLNN_ACT_T s = CLNN_ACT_CAT(as_, CLNN_ACT_T)((k + 126) << 23);
    CLNN_ACT_T m = 2.0f * fma(s, em1, s - 0.5f);
    return CLNN_ACT_N(clnn_act_where)(x != x, x, m);
}

/* tanh(x) = -m / (2 + m) with m = e^(-2|x|) - 1, sign restored: no overflow, no cancellation. */
static inline CLNN_ACT_T CLNN_ACT_N(clnn_act_tanh)(CLNN_ACT_T x)
{
    CLNN_ACT_T m = CLNN_ACT_N(clnn_act_expm1)(-2.0f * fabs(x));
    return copysign(-m / (2.0f + m), x);
}

/* e^r on |r| <= ln2 / 2 by a degree-5 polynomial fitted for relative error (9.2e-8;
 * tools/fit/fit_polynomials.py): the reduced exp of clnn_act_exp_gauss_scaled and
 * clnn_act_exp_neg, one degree below clnn_act_exp's (their callers' tolerances allow it). */
static inline CLNN_ACT_T CLNN_ACT_N(clnn_act_exp_poly5)(CLNN_ACT_T r)
{
    CLNN_ACT_T q = fma(r, (CLNN_ACT_T)(8.29030157e-3f), (CLNN_ACT_T)(4.189797757e-2f));
    q = fma(q, r, 0.1666763666f);
    q = fma(q, r, 0.4999914917f);
    q = fma(q, r, 0.999999707f);
    return fma(q, r, 1.0f);
}

/* e^(-u^2 / 2) * 2^100 for u in [0, 17], the exponent kept exact: u^2 = hh + l exactly (fma),
 * and the reduction -hh/2 - n ln2 - l/2 is formed as in clnn_act_exp_reduced, with -hh/2 - n C1
 * exact (both terms are close, Sterbenz) so rounding u^2 costs nothing (POCL's own erfc rounds it
 * and loses ~u^2/2 ulp, 100 ulp at x = -10); e^r by clnn_act_exp_poly5. The 2^100 keeps the
 * result a normal float down to e^(-144.5) ~ 2^-208 (n >= -209): the caller's last multiplication
 * does the single rounding into the subnormal range. */
static inline CLNN_ACT_T CLNN_ACT_N(clnn_act_exp_gauss_scaled)(CLNN_ACT_T u)
{
    CLNN_ACT_T hh = u * u;
    CLNN_ACT_T l = fma(u, u, -hh);
    CLNN_ACT_T kf = fma(hh, (CLNN_ACT_T)(-0.5f * 1.44269504088896341f), (CLNN_ACT_T)(12582912.0f));
    CLNN_ACT_T n = kf - 12582912.0f;
    CLNN_ACT_T r = fma(n, (CLNN_ACT_T)(-0.693359375f), -0.5f * hh);
    r = fma(n, (CLNN_ACT_T)(2.12194440e-4f), r);
    r = fma(l, (CLNN_ACT_T)(-0.5f), r);
    CLNN_ACT_T q = CLNN_ACT_N(clnn_act_exp_poly5)(r);
    /* 2^(n + 100) = as_float((n + 227) << 23), n from kf's low bits as in clnn_act_exp_reduced. */
    CLNN_ACT_I k = CLNN_ACT_CAT(as_, CLNN_ACT_I)(kf) - 0x4B400000;
    return q * CLNN_ACT_CAT(as_, CLNN_ACT_T)((k + 227) << 23);
}

/* Phi(-u) e^(u^2 / 2) 2^-100 for u in [0, 17] (Mills' ratio over sqrt(2 pi), scaled by the 2^-100
 * that clnn_act_exp_gauss_scaled's 2^100 cancels) as t P(t), t = 1 / (1 + 0.35 u), P of degree 8
 * fitted for relative error (3.2e-8 on the whole interval; the 1 / (u sqrt(2 pi)) tail is t's
 * own). Returns P(t) 2^-100; *t_out = t. Coefficients: the fit's values times 2^-100. */
static inline CLNN_ACT_T CLNN_ACT_N(clnn_act_mills_scaled)(CLNN_ACT_T u, CLNN_ACT_T *t_out)
{
    CLNN_ACT_T t = 1.0f / fma(0.35f, u, 1.0f);
    *t_out = t;
    CLNN_ACT_T p = fma(t, (CLNN_ACT_T)(-0.029165401351050717f * CLNN_ACT_2M100),
                       (CLNN_ACT_T)(0.14406810760285255f * CLNN_ACT_2M100));
    p = fma(p, t, -0.2559172427005824f * CLNN_ACT_2M100);
    p = fma(p, t, 0.15941083198639466f * CLNN_ACT_2M100);
    p = fma(p, t, -0.023276425181403694f * CLNN_ACT_2M100);
    p = fma(p, t, 0.10558025273139754f * CLNN_ACT_2M100);
    p = fma(p, t, 0.11981408280488945f * CLNN_ACT_2M100);
    p = fma(p, t, 0.13986453388483705f * CLNN_ACT_2M100);
    return fma(p, t, 0.1396212442114197f * CLNN_ACT_2M100);
}

/* e^-a for a >= 0 (not NaN), as clnn_act_exp_reduced's reduction with clnn_act_exp_poly5; a is
 * clamped to 104 (e^-104 is below half the smallest subnormal). 2^n is applied as 2^(n + 64)
 * (normal for n >= -151) and 2^-64, so only the last product rounds into the subnormal range. */
static inline CLNN_ACT_T CLNN_ACT_N(clnn_act_exp_neg)(CLNN_ACT_T a)
{
    CLNN_ACT_T ac = fmin(a, 104.0f);
    CLNN_ACT_T kf = fma(ac, (CLNN_ACT_T)(-1.44269504088896341f), (CLNN_ACT_T)(12582912.0f));
    CLNN_ACT_T n = kf - 12582912.0f;
    CLNN_ACT_T r = fma(n, (CLNN_ACT_T)(-0.693359375f), -ac);
    r = fma(n, (CLNN_ACT_T)(2.12194440e-4f), r);
    CLNN_ACT_T q = CLNN_ACT_N(clnn_act_exp_poly5)(r);
    CLNN_ACT_I k = CLNN_ACT_CAT(as_, CLNN_ACT_I)(kf) - 0x4B400000;
    return q * CLNN_ACT_CAT(as_, CLNN_ACT_T)((k + 191) << 23) * 5.421010862427522e-20f; /* 2^-64 */
}

/* log(1 + e) for e in [0, 1] (softplus's tail) as e P(e), P of degree 8 fitted for relative error
 * (3.3e-8): no division, no branch. (POCL's log and log1p do not vectorise across work-items and
 * run 20x slower than its exp.) */
static inline CLNN_ACT_T CLNN_ACT_N(clnn_act_log1p_unit)(CLNN_ACT_T e)
{
    CLNN_ACT_T p = fma(e, (CLNN_ACT_T)(5.364631754e-3f), (CLNN_ACT_T)(-3.00650222e-2f));
    p = fma(p, e, 7.920328556e-2f);
    p = fma(p, e, -0.1375369686f);
    p = fma(p, e, 0.191536058f);
    p = fma(p, e, -0.2485715134f);
    p = fma(p, e, 0.3332132113f);
    p = fma(p, e, -0.499996479f);
    p = fma(p, e, 1.0f);
    return e * p;
}

/* sigmoid(t) and, in *sn, sigmoid(-t) = 1 - sigmoid(t), both without cancellation or overflow:
 * only exp(-|t|), which lies in [0, 1], is ever formed. sigmoid(-100) is a subnormal, not 0. */
static inline CLNN_ACT_T CLNN_ACT_N(clnn_act_sigmoid_pair)(CLNN_ACT_T t, CLNN_ACT_T *sn)
{
    CLNN_ACT_T e = CLNN_ACT_N(clnn_act_exp)(-fabs(t));
    CLNN_ACT_T r = 1.0f / (1.0f + e);
    CLNN_ACT_T er = e * r;
    CLNN_ACT_I pos = t >= 0.0f;
    *sn = CLNN_ACT_N(clnn_act_where)(pos, er, r);
    return CLNN_ACT_N(clnn_act_where)(pos, r, er);
}

/* x * s where s in [0, 1] is a gate that saturates: exactly 0 where the gate is 0, so that
 * -Inf * 0 gives -0 (the limit) rather than NaN. */
static inline CLNN_ACT_T CLNN_ACT_N(clnn_act_gate)(CLNN_ACT_T x, CLNN_ACT_T s)
{
    return CLNN_ACT_N(clnn_act_where)(s == 0.0f, copysign((CLNN_ACT_T)(0.0f), x), x * s);
}

/* tanh(softplus(x)) = n / (n + 2) with n = e^x (e^x + 2); exactly 1 in float beyond x = 20. */
static inline CLNN_ACT_T CLNN_ACT_N(clnn_act_tanh_softplus)(CLNN_ACT_T x, CLNN_ACT_T *n_out)
{
    CLNN_ACT_T e = CLNN_ACT_N(clnn_act_exp)(fmin(x, 20.0f));
    CLNN_ACT_T n = e * (e + 2.0f);
    *n_out = n;
    return CLNN_ACT_N(clnn_act_where)(x > 20.0f, (CLNN_ACT_T)(1.0f), n / (n + 2.0f));
}

/* tanh-GELU: 0.5 x (1 + tanh(u)) = x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3). */
static inline CLNN_ACT_T CLNN_ACT_N(clnn_act_gelu_tanh_2u)(CLNN_ACT_T x)
{
    return (2.0f * CLNN_ACT_SQRT_2_OVER_PI) * x * fma((CLNN_ACT_T)(CLNN_ACT_GELU_CUBIC), x * x, 1.0f);
}

static inline CLNN_ACT_T CLNN_ACT_N(clnn_act_forward_raw)(CLNN_ACT_T x, float4 p)
{
#if CLNN_ACTIVATION == CLNN_ACT_IDENTITY
    (void)p;
    return x;
#elif CLNN_ACTIVATION == CLNN_ACT_SIGMOID
    (void)p;
    CLNN_ACT_T sn;
    return CLNN_ACT_N(clnn_act_sigmoid_pair)(x, &sn);
#elif CLNN_ACTIVATION == CLNN_ACT_TANH
    (void)p;
    return CLNN_ACT_N(clnn_act_tanh)(x);
#elif CLNN_ACTIVATION == CLNN_ACT_RELU
    (void)p;
    return CLNN_ACT_N(clnn_act_where)(x < 0.0f, (CLNN_ACT_T)(0.0f), x);
#elif CLNN_ACTIVATION == CLNN_ACT_RELU6
    (void)p;
    return CLNN_ACT_N(clnn_act_where)(x < 0.0f, (CLNN_ACT_T)(0.0f), CLNN_ACT_N(clnn_act_where)(x > 6.0f, (CLNN_ACT_T)(6.0f), x));
#elif CLNN_ACTIVATION == CLNN_ACT_HARDTANH
    return CLNN_ACT_N(clnn_act_where)(x < p.s0, (CLNN_ACT_T)(p.s0), CLNN_ACT_N(clnn_act_where)(x > p.s1, (CLNN_ACT_T)(p.s1), x));
#elif CLNN_ACTIVATION == CLNN_ACT_LEAKY_RELU
    return CLNN_ACT_N(clnn_act_where)(x > 0.0f, x, x * p.s0);
#elif CLNN_ACTIVATION == CLNN_ACT_ELU
    return CLNN_ACT_N(clnn_act_where)(x > 0.0f, x, p.s0 * CLNN_ACT_N(clnn_act_expm1)(x));
#elif CLNN_ACTIVATION == CLNN_ACT_SELU
    (void)p;
    return CLNN_ACT_SELU_SCALE * CLNN_ACT_N(clnn_act_where)(x > 0.0f, x, CLNN_ACT_SELU_ALPHA * CLNN_ACT_N(clnn_act_expm1)(x));
#elif CLNN_ACTIVATION == CLNN_ACT_CELU
    return CLNN_ACT_N(clnn_act_where)(x > 0.0f, x, p.s0 * CLNN_ACT_N(clnn_act_expm1)(x / p.s0));
#elif CLNN_ACTIVATION == CLNN_ACT_GELU
    (void)p;
    /* x Phi(x) = q for x <= 0 and x - q for x > 0, q = x Phi(-|x|) = x e^(-x^2/2) R(|x|): the
     * complement avoids the cancellation of 1 + erf(x / sqrt 2) for negative x (1 + erf loses
     * every digit below x = -5.4). Beyond |x| = 17, Phi(-|x|) is 0 in float: x is clamped there,
     * so that q is -0 or 0 (not Inf * 0) and x - q is x itself. q's last product rounds once. */
    CLNN_ACT_T xq = clamp(x, -17.0f, 17.0f);
    CLNN_ACT_T u = fabs(xq), t;
    CLNN_ACT_T m = CLNN_ACT_N(clnn_act_mills_scaled)(u, &t);
    CLNN_ACT_T q = xq * t * CLNN_ACT_N(clnn_act_exp_gauss_scaled)(u) * m;
    return CLNN_ACT_N(clnn_act_where)(xq <= 0.0f, q, x - q);
#elif CLNN_ACTIVATION == CLNN_ACT_GELU_TANH
    (void)p;
    CLNN_ACT_T sn;
    return CLNN_ACT_N(clnn_act_gate)(x, CLNN_ACT_N(clnn_act_sigmoid_pair)(CLNN_ACT_N(clnn_act_gelu_tanh_2u)(x), &sn));
#elif CLNN_ACTIVATION == CLNN_ACT_SILU
    (void)p;
    CLNN_ACT_T sn;
    return CLNN_ACT_N(clnn_act_gate)(x, CLNN_ACT_N(clnn_act_sigmoid_pair)(x, &sn));
#elif CLNN_ACTIVATION == CLNN_ACT_SWISH
    CLNN_ACT_T sn;
    return CLNN_ACT_N(clnn_act_gate)(x, CLNN_ACT_N(clnn_act_sigmoid_pair)(p.s0 * x, &sn));
#elif CLNN_ACTIVATION == CLNN_ACT_SOFTPLUS
    /* (1/beta) log(1 + e^t), t = beta x, as max(t, 0) + log1p(e^-|t|): no overflow for any t;
     * linear (x itself) where t > threshold, PyTorch's rule. */
    CLNN_ACT_T t = p.s0 * x;
    CLNN_ACT_T sp = (fmax(t, 0.0f) + CLNN_ACT_N(clnn_act_log1p_unit)(CLNN_ACT_N(clnn_act_exp_neg)(fabs(t)))) * p.s2;
    return CLNN_ACT_N(clnn_act_where)(t > p.s1, x, sp);
#elif CLNN_ACTIVATION == CLNN_ACT_MISH
    (void)p;
    CLNN_ACT_T n;
    return CLNN_ACT_N(clnn_act_gate)(x, CLNN_ACT_N(clnn_act_tanh_softplus)(x, &n));
#elif CLNN_ACTIVATION == CLNN_ACT_HARDSIGMOID
    (void)p;
    /* PyTorch: relu6(x + 3) / 6. */
    return clamp(x + 3.0f, 0.0f, 6.0f) / 6.0f;
#elif CLNN_ACTIVATION == CLNN_ACT_HARDSWISH
    (void)p;
    /* PyTorch: x relu6(x + 3) / 6; x itself above 3 (x * 6 / 6 would overflow near
     * FLT_MAX); 0 below -3 (where -Inf * 0 would give NaN). */
    return CLNN_ACT_N(clnn_act_where)(x > 3.0f, x,
                          CLNN_ACT_N(clnn_act_where)(x < -3.0f, (CLNN_ACT_T)(0.0f), x * (x + 3.0f) / 6.0f));
#elif CLNN_ACTIVATION == CLNN_ACT_SOFTSIGN
    (void)p;
    /* 1 + |x| never overflows short of Inf, whose limit is +-1 (Inf / Inf would be NaN). */
    return CLNN_ACT_N(clnn_act_where)(isinf(x), copysign((CLNN_ACT_T)(1.0f), x), x / (1.0f + fabs(x)));
#endif
}

static inline CLNN_ACT_T CLNN_ACT_N(clnn_act_grad_raw)(CLNN_ACT_T x, float4 p)
{
#if CLNN_ACTIVATION == CLNN_ACT_IDENTITY
    (void)p, (void)x;
    return (CLNN_ACT_T)(1.0f);
#elif CLNN_ACTIVATION == CLNN_ACT_SIGMOID
    (void)p;
    CLNN_ACT_T sn;
    CLNN_ACT_T s = CLNN_ACT_N(clnn_act_sigmoid_pair)(x, &sn);
    return s * sn;
#elif CLNN_ACTIVATION == CLNN_ACT_TANH
    (void)p;
    /* 1 - tanh^2 = sech^2 = 4e / (1 + e)^2, e = exp(-2|x|): exact where 1 - tanh^2 cancels. */
    CLNN_ACT_T e = CLNN_ACT_N(clnn_act_exp)(-2.0f * fabs(x));
    CLNN_ACT_T d = 1.0f + e;
    return 4.0f * e / (d * d);
#elif CLNN_ACTIVATION == CLNN_ACT_RELU
    (void)p;
    return CLNN_ACT_N(clnn_act_where)(x > 0.0f, (CLNN_ACT_T)(1.0f), (CLNN_ACT_T)(0.0f));
#elif CLNN_ACTIVATION == CLNN_ACT_RELU6
    (void)p;
    return CLNN_ACT_N(clnn_act_where)((x > 0.0f) & (x < 6.0f), (CLNN_ACT_T)(1.0f), (CLNN_ACT_T)(0.0f));
#elif CLNN_ACTIVATION == CLNN_ACT_HARDTANH
    return CLNN_ACT_N(clnn_act_where)((x > p.s0) & (x < p.s1), (CLNN_ACT_T)(1.0f), (CLNN_ACT_T)(0.0f));
#elif CLNN_ACTIVATION == CLNN_ACT_LEAKY_RELU
    return CLNN_ACT_N(clnn_act_where)(x > 0.0f, (CLNN_ACT_T)(1.0f), (CLNN_ACT_T)(p.s0));
#elif CLNN_ACTIVATION == CLNN_ACT_ELU
    return CLNN_ACT_N(clnn_act_where)(x > 0.0f, (CLNN_ACT_T)(1.0f), p.s0 * CLNN_ACT_N(clnn_act_exp)(x));
#elif CLNN_ACTIVATION == CLNN_ACT_SELU
    (void)p;
    return CLNN_ACT_SELU_SCALE * CLNN_ACT_N(clnn_act_where)(x > 0.0f, (CLNN_ACT_T)(1.0f), CLNN_ACT_SELU_ALPHA * CLNN_ACT_N(clnn_act_exp)(x));
#elif CLNN_ACTIVATION == CLNN_ACT_CELU
    return CLNN_ACT_N(clnn_act_where)(x > 0.0f, (CLNN_ACT_T)(1.0f), CLNN_ACT_N(clnn_act_exp)(x / p.s0));
#elif CLNN_ACTIVATION == CLNN_ACT_GELU
    (void)p;
    /* Phi(x) + x phi(x) from one exponential: with E = e^(-x^2/2) and Phi(-u) = E t P(t)
     * (u = |x|), v = E (t P(t) - u / sqrt(2 pi)) is Phi(x) + x phi(x) for x <= 0 and
     * 1 - (Phi(x) + x phi(x)) for x > 0. Clamped as the forward (1 or 0 beyond |x| = 17). */
    CLNN_ACT_T xq = clamp(x, -17.0f, 17.0f);
    CLNN_ACT_T u = fabs(xq), t;
    CLNN_ACT_T m = CLNN_ACT_N(clnn_act_mills_scaled)(u, &t);
    CLNN_ACT_T v = fma(u, (CLNN_ACT_T)(-CLNN_ACT_INV_SQRT_2PI * CLNN_ACT_2M100), t * m) *
                   CLNN_ACT_N(clnn_act_exp_gauss_scaled)(u);
    return CLNN_ACT_N(clnn_act_where)(xq <= 0.0f, v, 1.0f - v);
#elif CLNN_ACTIVATION == CLNN_ACT_GELU_TANH
    (void)p;
    /* d/dx [x s(2u)] = s + x s (1 - s) 2u'; 2u' = 2 sqrt(2/pi) (1 + 3c x^2). Saturated (exact 0
     * or 1 in float) beyond |x| = 1e4; clamping there avoids Inf * 0. */
    CLNN_ACT_T xc = clamp(x, -1e4f, 1e4f);
    CLNN_ACT_T sn;
    CLNN_ACT_T s = CLNN_ACT_N(clnn_act_sigmoid_pair)(CLNN_ACT_N(clnn_act_gelu_tanh_2u)(xc), &sn);
    CLNN_ACT_T du = (2.0f * CLNN_ACT_SQRT_2_OVER_PI) * fma((CLNN_ACT_T)(3.0f * CLNN_ACT_GELU_CUBIC), xc * xc, 1.0f);
    return fma(xc * s, sn * du, s);
#elif CLNN_ACTIVATION == CLNN_ACT_SILU || CLNN_ACTIVATION == CLNN_ACT_SWISH
    /* d/dx [x s(t)], t = beta x: s (1 + t (1 - s)). Beyond |t| = 200 the value is exactly 0 or 1
     * in float; clamping there avoids Inf * 0. */
#if CLNN_ACTIVATION == CLNN_ACT_SILU
    (void)p;
    CLNN_ACT_T t = clamp(x, -200.0f, 200.0f);
#else
    CLNN_ACT_T t = clamp(p.s0 * x, -200.0f, 200.0f);
#endif
    CLNN_ACT_T sn;
    CLNN_ACT_T s = CLNN_ACT_N(clnn_act_sigmoid_pair)(t, &sn);
    return s * fma(t, sn, 1.0f);
#elif CLNN_ACTIVATION == CLNN_ACT_SOFTPLUS
    /* PyTorch: 1 where beta x > threshold, else sigmoid(beta x). */
    CLNN_ACT_T t = p.s0 * x;
    CLNN_ACT_T sn;
    CLNN_ACT_T s = CLNN_ACT_N(clnn_act_sigmoid_pair)(t, &sn);
    return CLNN_ACT_N(clnn_act_where)(t > p.s1, (CLNN_ACT_T)(1.0f), s);
#elif CLNN_ACTIVATION == CLNN_ACT_MISH
    (void)p;
    /* d/dx [x tanh(sp(x))] = tanh(sp) + x sech^2(sp) sigmoid(x), with
     * sech^2(sp) = 1 - (n/(n+2))^2 = 4(n+1)/(n+2)^2 formed without cancellation. Beyond
     * x = 20 the value is exactly 1 in float; below -1e4 exactly 0. */
    CLNN_ACT_T xc = fmax(x, -1e4f);
    CLNN_ACT_T n;
    CLNN_ACT_T tsp = CLNN_ACT_N(clnn_act_tanh_softplus)(xc, &n);
    CLNN_ACT_T d = n + 2.0f;
    CLNN_ACT_T sech2 = 4.0f * (n + 1.0f) / (d * d);
    /* sigmoid(x) = e / (1 + e) from the same e = e^min(x, 20) (no cancellation; the x > 20 case
     * is 1 below): one exponential, and no second exp chain alike the first for LLVM's SLP
     * vectoriser to pair, which would stop POCL vectorising across work-items. */
    CLNN_ACT_T e = CLNN_ACT_N(clnn_act_exp)(fmin(xc, 20.0f));
    CLNN_ACT_T s = e / (1.0f + e);
    return CLNN_ACT_N(clnn_act_where)(xc > 20.0f, (CLNN_ACT_T)(1.0f), fma(xc * sech2, s, tsp));
#elif CLNN_ACTIVATION == CLNN_ACT_HARDSIGMOID
    (void)p;
    return CLNN_ACT_N(clnn_act_where)((x > -3.0f) & (x < 3.0f), (CLNN_ACT_T)(1.0f / 6.0f), (CLNN_ACT_T)(0.0f));
#elif CLNN_ACTIVATION == CLNN_ACT_HARDSWISH
    (void)p;
    /* PyTorch's boundaries: 0 below -3, x/3 + 1/2 on [-3, 3], 1 above. */
    return CLNN_ACT_N(clnn_act_where)(x < -3.0f, (CLNN_ACT_T)(0.0f),
                          CLNN_ACT_N(clnn_act_where)(x <= 3.0f, x / 3.0f + 0.5f, (CLNN_ACT_T)(1.0f)));
#elif CLNN_ACTIVATION == CLNN_ACT_SOFTSIGN
    (void)p;
    /* (1/d)^2 rather than 1/d^2: d^2 overflows for |x| > 1.8e19 while the result is still a
     * (subnormal) number. */
    CLNN_ACT_T r = 1.0f / (1.0f + fabs(x));
    return r * r;
#endif
}

/* f(x); NaN in gives NaN out whatever the kind's formula does with it (clamp, select). */
static inline CLNN_ACT_T CLNN_ACT_N(clnn_act_forward)(CLNN_ACT_T x, float4 p)
{
    return CLNN_ACT_N(clnn_act_where)(isnan(x), x, CLNN_ACT_N(clnn_act_forward_raw)(x, p));
}

/* f'(x); NaN for a NaN x. */
static inline CLNN_ACT_T CLNN_ACT_N(clnn_act_grad)(CLNN_ACT_T x, float4 p)
{
    return CLNN_ACT_N(clnn_act_where)(isnan(x), x, CLNN_ACT_N(clnn_act_grad_raw)(x, p));
}


#if CLNN_ACT_HAS_GRAD_FROM_Y
/* f'(x) from y = f(x) (oneDNN's use_dst_for_bwd): relu, leaky_relu (negative_slope >= 0),
 * sigmoid, tanh, elu (alpha >= 0), identity. NaN for a NaN y. */
static inline CLNN_ACT_T CLNN_ACT_N(clnn_act_grad_from_y)(CLNN_ACT_T y, float4 p)
{
#if CLNN_ACTIVATION == CLNN_ACT_IDENTITY
    (void)p;
    CLNN_ACT_T d = (CLNN_ACT_T)(1.0f);
#elif CLNN_ACTIVATION == CLNN_ACT_SIGMOID
    (void)p;
    CLNN_ACT_T d = y * (1.0f - y);
#elif CLNN_ACTIVATION == CLNN_ACT_TANH
    (void)p;
    CLNN_ACT_T d = (1.0f - y) * (1.0f + y);
#elif CLNN_ACTIVATION == CLNN_ACT_RELU
    (void)p;
    CLNN_ACT_T d = CLNN_ACT_N(clnn_act_where)(y > 0.0f, (CLNN_ACT_T)(1.0f), (CLNN_ACT_T)(0.0f));
#elif CLNN_ACTIVATION == CLNN_ACT_LEAKY_RELU
    CLNN_ACT_T d = CLNN_ACT_N(clnn_act_where)(y > 0.0f, (CLNN_ACT_T)(1.0f), (CLNN_ACT_T)(p.s0));
#elif CLNN_ACTIVATION == CLNN_ACT_ELU
    /* y = alpha (e^x - 1) for x <= 0, so alpha e^x = y + alpha (PyTorch's is_result rule). */
    CLNN_ACT_T d = CLNN_ACT_N(clnn_act_where)(y > 0.0f, (CLNN_ACT_T)(1.0f), y + p.s0);
#endif
    return CLNN_ACT_N(clnn_act_where)(isnan(y), y, d);
}
#endif

