#!/usr/bin/env python3
"""Refits the minimax polynomials of crates/ferrograd/src/kernels/fastmath.rs (needs mpmath).

Lawson's algorithm (iteratively reweighted least squares, which converges to the minimax fit)
on Chebyshev points, in 40-digit arithmetic; prints each coefficient as the nearest f64 and the
fit's maximum relative error on a dense grid. (The committed coefficients came from runs with
other point and iteration counts: they differ in the last digits, with the same errors.)

    python3 scripts/fit_fastmath.py            # EXPM1_2 (degree 7) and SIN (degree 5)
    python3 scripts/fit_fastmath.py 8 6        # other degrees
"""
import sys

import mpmath as mp

mp.mp.dps = 40


def lawson(f, w, deg, lo, hi, npts=300, iters=100):
    """Coefficients c of sum c_k x^k minimising max |w(x) (f(x) - sum c_k x^k)| on [lo, hi]."""
    xs = [lo + (hi - lo) * (1 - mp.cos(mp.pi * (i + mp.mpf(1) / 2) / npts)) / 2 for i in range(npts)]
    rows = [[w(x) * x**k for k in range(deg + 1)] for x in xs]
    ys = [w(x) * f(x) for x in xs]
    m, lam = deg + 1, [mp.mpf(1) / npts] * npts
    for _ in range(iters):
        a, v = mp.matrix(m, m), mp.matrix(m, 1)
        for row, y, l in zip(rows, ys, lam):
            for i in range(m):
                v[i] += l * row[i] * y
                for j in range(m):
                    a[i, j] += l * row[i] * row[j]
        c = mp.lu_solve(a, v)
        err = [abs(y - sum(row[k] * c[k] for k in range(m))) for row, y in zip(rows, ys)]
        total = sum(l * e for l, e in zip(lam, err))
        lam = [l * e / total for l, e in zip(lam, err)]
    return [mp.mpf(float(c[k])) for k in range(m)]


def report(name, f, w, deg, lo, hi):
    c = lawson(f, w, deg, lo, hi)
    err = max(abs(w(x) * (f(x) - sum(ck * x**k for k, ck in enumerate(c))))
              for x in (lo + (hi - lo) * mp.mpf(i) / 4000 for i in range(4001)))
    print(f"{name} (degree {deg}): max relative error {float(err):.3e}")
    for ck in c:
        print(f"    {float(ck)!r},")


def main():
    deg_e, deg_s = (int(a) for a in (sys.argv[1:3] if len(sys.argv) > 2 else (7, 5)))
    ln2 = mp.log(2)
    # (2^r - 1) / r on |r| <= 1/2, relative error.
    g = lambda r: ln2 if r == 0 else (mp.power(2, r) - 1) / r
    report("EXPM1_2", g, lambda r: 1 / g(r), deg_e, mp.mpf(-0.5), mp.mpf(0.5))
    # sin r = r + r^3 P(r^2) for |r| <= pi/2 (a little more, for the reduction's rounding):
    # P in s = r^2, weighted for the relative error of sin.
    h = mp.pi / 2 * (1 + mp.mpf(2) ** -20)
    p = lambda s: mp.mpf(-1) / 6 if s == 0 else (mp.sin(mp.sqrt(s)) - mp.sqrt(s)) / (mp.sqrt(s) * s)
    w = lambda s: 0 if s == 0 else s * mp.sqrt(s) / mp.sin(mp.sqrt(s))
    report("SIN", p, w, deg_s, mp.mpf(0), h * h)


if __name__ == "__main__":
    main()
