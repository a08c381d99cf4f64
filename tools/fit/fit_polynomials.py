#!/usr/bin/env python3
"""Fits the polynomials of kernels/activation_impl.h for relative error (Lawson-weighted least
squares on Chebyshev points, in 30-digit mpmath), and prints each fit's largest relative error
and its coefficients, lowest degree first:

  exp:   e^r ~ 1 + c1 r + ... + c5 r^5 on |r| <= ln2 / 2 (clnn_act_exp_gauss_scaled, _exp_neg)
  log1p: log(1 + e) ~ e (1 + c1 e + ... + c8 e^8) on [0, 1] (clnn_act_log1p_unit)
  mills: Phi(-u) e^(u^2 / 2) ~ t P(t), t = 1 / (1 + p u), P of degree 8 on u in [0, 17], p the
         float nearest 0.35 (clnn_act_mills_scaled)

Needs python3-mpmath. Takes about a minute."""
import struct
import mpmath as mp

mp.mp.dps = 30


def lawson(f, a, b, deg, fixed=None, npts=240, iters=60):
    """Near-minimax relative fit of f on [a, b] by sum_j c_j x^j; fixed maps j -> c_j."""
    fixed = fixed or {}
    xs = [(a + b) / 2 + (b - a) / 2 * mp.cos(mp.pi * (k + mp.mpf(1) / 2) / npts) for k in range(npts)]
    fs = [f(x) for x in xs]
    free = [j for j in range(deg + 1) if j not in fixed]
    w = [mp.mpf(1)] * npts
    best = None
    for _ in range(iters):
        A = mp.matrix(npts, len(free))
        rhs = mp.matrix(npts, 1)
        for i, x in enumerate(xs):
            s = mp.sqrt(w[i]) / abs(fs[i])
            for col, j in enumerate(free):
                A[i, col] = s * x ** j
            rhs[i] = s * (fs[i] - sum(v * x ** j for j, v in fixed.items()))
        sol = mp.qr_solve(A, rhs)[0]
        coef = dict(fixed)
        for col, j in enumerate(free):
            coef[j] = sol[col]
        errs = [abs(sum(coef[j] * x ** j for j in coef) / fs[i] - 1) for i, x in enumerate(xs)]
        worst = max(errs)
        if best is None or worst < best[0]:
            best = (worst, [coef[j] for j in range(deg + 1)])
        total = sum(w[i] * errs[i] for i in range(npts))
        w = [w[i] * errs[i] / total * npts for i in range(npts)]
    return best


def show(name, fit):
    print("%s: max relative error %s" % (name, mp.nstr(fit[0], 3)))
    for c in fit[1]:
        print("    %r" % float(c))


half_ln2 = mp.log(2) / 2 * mp.mpf("1.0001")
show("exp", lawson(mp.exp, -half_ln2, half_ln2, 5, fixed={0: mp.mpf(1)}))
show("log1p", lawson(lambda e: mp.log1p(e) / e if e else mp.mpf(1), mp.mpf(0), mp.mpf(1), 8,
                     fixed={0: mp.mpf(1)}))

p = mp.mpf(struct.unpack("f", struct.pack("f", 0.35))[0])


def mills_over_t(t):
    u = (1 / t - 1) / p
    return mp.erfc(u / mp.sqrt(2)) / 2 * mp.exp(u * u / 2) / t


show("mills (P(t), t = 1 / (1 + 0.35 u))", lawson(mills_over_t, 1 / (1 + 17 * p), mp.mpf(1), 8))
