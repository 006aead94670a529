//! Vectorisable `f32` exp, tanh, sin and cos for large tensors.
//!
//! glibc's `expf`/`sinf`/`cosf`/`tanhf` are accurate but one call per element; these are
//! branch-free straight-line code that the compiler vectorises (eight `f64` lanes with
//! AVX-512, four with AVX2). Each works in `f64` internally, an argument reduction and one
//! minimax polynomial (relative error below 5e-12 for exp and tanh, below 1e-13 for sin and
//! cos), and rounds once to `f32`: the result is at most 1 ulp from the exact value and nearly
//! always the correctly rounded `f32`. Over every `f32` input, checked exhaustively against glibc's `f64`
//! functions (exp on [-104, 89], tanh on [-12, 12], sin and cos on |x| <= 1e5), 1 in 2
//! million results is not for exp, 1 in 300,000 for tanh, 1 in 7-12 million for sin and
//! cos (`tests` measure both on their grids).
//!
//! The polynomials are written with fused multiply-adds (`f64::mul_add`), one instruction in
//! the AVX2 and AVX-512 loops (and on aarch64). On a CPU without FMA (`simd`'s baseline loop on
//! x86-64) `mul_add` is a software library call, about 460 ns in glibc, so there the same code
//! runs with a separate multiply and add (`FUSED = false`). Its `f64` result can differ from
//! the fused one in the last bits, so it checks itself: when the `f64` result moved
//! [`DOUBT`] `f64` ulps either way rounds to one `f32` (far more than the two forms can
//! differ), that is also the fused form's `f32`; otherwise it returns NaN and
//! [`Bulk::map`]'s fix-up pass recomputes that element with the fused form (about 1 in a
//! million elements). So every CPU computes the same bits (checked over all `f32` inputs on an
//! AVX-512 machine, and over the test grids by `tests`). The integer parts of the reductions
//! (the multiple of ln 2 or pi) are computed unfused in both forms, so they never differ.
//!
//! They are used only for contiguous `f32` tensors of at least [`BULK_MIN`] elements; smaller
//! tensors (and every `f64` tensor) use the standard library, as PyTorch uses its scalar path for
//! them. Inputs outside each function's domain (`sin`/`cos` beyond |x| = 1e5, NaN) are recomputed
//! with the standard library.

use super::{elementwise::simd, Filled, Sink};
use std::f64::consts::{FRAC_1_PI, LOG2_E};

/// The smallest tensor that takes the vectorised path.
pub(crate) const BULK_MIN: usize = 64;

/// 1.5 * 2^52: adding it rounds an `f64` of magnitude below 2^51 to an integer, which then sits
/// in the low bits of the sum's representation.
const MAGIC: f64 = 6_755_399_441_055_744.0;

/// pi/2 in three parts, the first two with 33 significant bits, so that `m * PIO2_HI` and
/// `m * PIO2_MID` are exact for |m| < 2^20 (fdlibm's `pio2_1`, `pio2_2`, `pio2_2t`).
const PIO2_HI: f64 = f64::from_bits(0x3ff9_21fb_5440_0000);
const PIO2_MID: f64 = f64::from_bits(0x3dd0_b461_1a60_0000);
const PIO2_LO: f64 = f64::from_bits(0x3ba3_198a_2e03_7073);

/// (2^r - 1) / r for |r| <= 1/2, degree 7: minimax for relative error, 4.5e-12 (Lawson's
/// algorithm in 40-digit arithmetic, `scripts/fit_fastmath.py`).
const EXPM1_2: [f64; 8] = [
    0.6931471805568766,
    0.24022650696489256,
    0.05550410906006931,
    0.009618128942499473,
    0.0013333478814251737,
    0.000154036296140477,
    1.5303609834711384e-05,
    1.3215471473270335e-06,
];

/// (sin r - r) / r^3 as a polynomial in r^2 for |r| <= pi/2, degree 5 (sin to r^13): minimax
/// for the relative error of sin, 6.8e-14.
const SIN: [f64; 6] = [
    -0.16666666666504604,
    0.008333333321087174,
    -0.000198412667296982,
    2.755695310966799e-06,
    -2.5030196803553624e-08,
    1.5409526632168068e-10,
];

/// How far (in `f64` ulps, relative 1.1e-13 to 2.3e-13) the unfused form's result is moved
/// either way to see whether the fused one rounds to the same `f32`. The two forms differ by
/// rounding errors only (the same reduction integer, the same coefficients): a few ulps, and
/// at most about 100 for exp (the unfused `x log2(e)` is rounded before the reduction).
const DOUBT: u64 = 1024;

/// `a * b + c`: fused (one rounding) or not.
#[inline(always)]
fn fma<const FUSED: bool>(a: f64, b: f64, c: f64) -> f64 {
    if FUSED {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// `y` rounded to `f32`; in the unfused form NaN where the fused form's `f64` result might
/// round to another `f32` (see the module docs).
#[inline(always)]
fn settle<const FUSED: bool>(y: f64) -> f32 {
    if FUSED {
        y as f32
    } else {
        let lo = f64::from_bits(y.to_bits().wrapping_sub(DOUBT)) as f32;
        let hi = f64::from_bits(y.to_bits().wrapping_add(DOUBT)) as f32;
        if lo == hi {
            lo
        } else {
            f32::NAN
        }
    }
}

/// (2^r - 1) / r for |r| <= 1/2 (Horner).
#[inline(always)]
fn expm1_2<const FUSED: bool>(r: f64) -> f64 {
    let mut p = EXPM1_2[7];
    for &c in EXPM1_2[..7].iter().rev() {
        p = fma::<FUSED>(p, r, c);
    }
    p
}

/// `f32` e^x. Defined everywhere: overflow gives inf, underflow 0 (through subnormals), NaN
/// gives NaN (and the unfused form NaN where unsure).
#[inline(always)]
pub(crate) fn exp_f32<const FUSED: bool>(x: f32) -> f32 {
    // e^x = 2^n 2^r with n = round(x log2 e), |r| <= 1/2 (+ rounding).
    let x = (x as f64).clamp(-150.0, 100.0);
    let tm = x * LOG2_E + MAGIC; // unfused in both forms: the same n
    let n = tm - MAGIC;
    let r = fma::<FUSED>(x, LOG2_E, -n);
    let p = fma::<FUSED>(r, expm1_2::<FUSED>(r), 1.0);
    // 2^r times 2^n: n (in the low bits of tm) added to the exponent; the product stays a
    // normal f64 (n is in -217..=145 after the clamp), and NaN stays NaN (its tm has zero low
    // bits).
    settle::<FUSED>(f64::from_bits(p.to_bits().wrapping_add(tm.to_bits() << 52)))
}

/// `f32` tanh. Defined everywhere except NaN (which the caller recomputes).
#[inline(always)]
pub(crate) fn tanh_f32<const FUSED: bool>(x: f32) -> f32 {
    // tanh a = E / (E + 2) with E = e^{2a} - 1 = 2^n (2^r - 1) + 2^n - 1: no cancellation at
    // any a >= 0 (a tiny gives E = 2a, tanh = a), and tanh a rounds to 1 from a = 9.01.
    let a = (x as f64).abs().min(10.0);
    let tm = a * (2.0 * LOG2_E) + MAGIC;
    let n = tm - MAGIC; // 0..=29
    let r = fma::<FUSED>(a, 2.0 * LOG2_E, -n);
    let s = f64::from_bits((tm.to_bits() << 52).wrapping_add(1f64.to_bits())); // 2^n
    let sr = s * r; // exact
    let q = expm1_2::<FUSED>(r);
    let e = fma::<FUSED>(sr, q, s - 1.0);
    let d = fma::<FUSED>(sr, q, s + 1.0);
    // The quotient without an f64 division: 1/d in f32 (relative error 2^-23), then one
    // correction step (2^-46).
    let inv = (1.0 / (d as f32)) as f64;
    let y0 = e * inv;
    let y = fma::<FUSED>(fma::<FUSED>(-d, y0, e), inv, y0);
    settle::<FUSED>(y).copysign(x)
}

/// sin r for |r| <= pi/2 (+ rounding); keeps the sign of zero.
#[inline(always)]
fn sin_poly<const FUSED: bool>(r: f64) -> f64 {
    let s = r * r;
    let mut p = SIN[5];
    for &c in SIN[..5].iter().rev() {
        p = fma::<FUSED>(p, s, c);
    }
    r * fma::<FUSED>(s, p, 1.0)
}

/// `f32` sin for |x| <= [`SIN_COS_MAX`].
#[inline(always)]
pub(crate) fn sin_f32<const FUSED: bool>(x: f32) -> f32 {
    // sin x = (-1)^k sin(x - k pi), k = round(x / pi) (|k| < 2^15).
    let x = x as f64;
    let t = x * FRAC_1_PI + MAGIC;
    let k = t - MAGIC;
    let r = fma::<FUSED>(-k, 2.0 * PIO2_HI, x); // exact
    let r = fma::<FUSED>(-k, 2.0 * PIO2_MID, r); // the product is exact
    let r = fma::<FUSED>(-k, 2.0 * PIO2_LO, r);
    let v = sin_poly::<FUSED>(r);
    settle::<FUSED>(f64::from_bits(v.to_bits() ^ (t.to_bits() << 63))) // k odd: -v
}

/// `f32` cos for |x| <= [`SIN_COS_MAX`].
#[inline(always)]
pub(crate) fn cos_f32<const FUSED: bool>(x: f32) -> f32 {
    // cos x = (-1)^k sin(m pi/2 - x) with m = 2k + 1 the odd integer nearest 2x / pi.
    let x = x as f64;
    let t = (x * FRAC_1_PI - 0.5) + MAGIC;
    let k = t - MAGIC;
    let m = fma::<FUSED>(k, 2.0, 1.0); // exact
    let r = fma::<FUSED>(m, PIO2_HI, -x);
    let r = fma::<FUSED>(m, PIO2_MID, r);
    let r = fma::<FUSED>(m, PIO2_LO, r);
    let v = sin_poly::<FUSED>(r);
    settle::<FUSED>(f64::from_bits(v.to_bits() ^ (t.to_bits() << 63)))
}

/// The largest |x| the vectorised sin and cos take.
pub(crate) const SIN_COS_MAX: f32 = 1e5;

/// The vectorisable `f32` functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bulk {
    Exp,
    Tanh,
    Sin,
    Cos,
}

impl Bulk {
    /// The largest |x| the fast function covers; larger inputs and NaN take [`Bulk::exact`].
    pub(crate) fn max_abs(self) -> f32 {
        match self {
            Bulk::Exp | Bulk::Tanh => f32::INFINITY,
            Bulk::Sin | Bulk::Cos => SIN_COS_MAX,
        }
    }

    /// The standard library's function.
    pub(crate) fn exact(self, x: f32) -> f32 {
        match self {
            Bulk::Exp => x.exp(),
            Bulk::Tanh => x.tanh(),
            Bulk::Sin => x.sin(),
            Bulk::Cos => x.cos(),
        }
    }

    /// The fused form of one element (the unfused form's fallback).
    fn fused(self, x: f32) -> f32 {
        match self {
            Bulk::Exp => exp_f32::<true>(x),
            Bulk::Tanh => tanh_f32::<true>(x),
            Bulk::Sin => sin_f32::<true>(x),
            Bulk::Cos => cos_f32::<true>(x),
        }
    }

    /// `out[i] = f(xs[i])`: the fused form where this CPU has FMA, else the unfused one.
    pub(crate) fn map<'a>(self, xs: &[f32], out: Sink<'a, f32>) -> Filled<'a, f32> {
        self.map_with(simd::fused(), xs, out)
    }

    /// [`Bulk::map`] with the form chosen: the vectorised loop, then a fix-up pass for inputs
    /// outside the domain (the standard library) and, unfused, for unsure results (the fused
    /// form), found by a branch-free scan (vectorised); the pass runs only when there are any.
    fn map_with<'a>(self, fused: bool, xs: &[f32], out: Sink<'a, f32>) -> Filled<'a, f32> {
        // One instantiation per function and form, so each is inlined and vectorised.
        let mut done = match (self, fused) {
            (Bulk::Exp, true) => out.map(xs, &exp_f32::<true>),
            (Bulk::Exp, false) => out.map(xs, &exp_f32::<false>),
            (Bulk::Tanh, true) => out.map(xs, &tanh_f32::<true>),
            (Bulk::Tanh, false) => out.map(xs, &tanh_f32::<false>),
            (Bulk::Sin, true) => out.map(xs, &sin_f32::<true>),
            (Bulk::Sin, false) => out.map(xs, &sin_f32::<false>),
            (Bulk::Cos, true) => out.map(xs, &cos_f32::<true>),
            (Bulk::Cos, false) => out.map(xs, &cos_f32::<false>),
        };
        let max = self.max_abs();
        let outside = |a: f32| a.abs() > max || a.is_nan();
        let ys = done.as_mut_slice();
        // Two separate scans: a fold with the form's flag inside is not vectorised (it cost
        // more than the function itself).
        let any_outside = xs.iter().fold(false, |any, &a| any | outside(a));
        let any_unsure = !fused && ys.iter().fold(false, |any, &y| any | y.is_nan());
        if any_outside || any_unsure {
            for (y, &a) in ys.iter_mut().zip(xs) {
                if outside(a) {
                    *y = self.exact(a);
                } else if y.is_nan() {
                    // Only the unfused form returns NaN for an input inside the domain.
                    *y = self.fused(a);
                }
            }
        }
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::par_map;

    /// Distance in units in the last place between two f32 (same sign assumed or both tiny).
    fn ulps(a: f32, b: f32) -> u32 {
        if a == b || (a.is_nan() && b.is_nan()) {
            return 0;
        }
        let key = |v: f32| {
            let i = v.to_bits() as i32;
            if i < 0 {
                i32::MIN - i
            } else {
                i
            }
        };
        (key(a) as i64 - key(b) as i64).unsigned_abs() as u32
    }

    /// `b` of every element of `xs` through the vectorised loops and the fix-up pass, in the
    /// fused or the unfused form.
    fn bulk(b: Bulk, fused: bool, xs: &[f32]) -> Vec<f32> {
        par_map(xs.len(), |r, out| b.map_with(fused, &xs[r], out)).unwrap()
    }

    /// Max ulp error and count of results that are not the correctly rounded f32 of the f64
    /// reference, over `xs`, of the form this CPU runs ([`Bulk::map`]).
    fn measure(xs: &[f32], b: Bulk, reference: fn(f64) -> f64) -> (u32, usize, usize) {
        let got = par_map(xs.len(), |r, out| b.map(&xs[r], out)).unwrap();
        let (mut worst, mut off) = (0, 0);
        for (&x, &y) in xs.iter().zip(&got) {
            let e = ulps(y, reference(x as f64) as f32);
            worst = worst.max(e);
            off += usize::from(e != 0);
        }
        (worst, off, xs.len())
    }

    /// The unfused form with its fix-up gives the fused form's bits on every element of `xs`,
    /// and falls back to the fused form rarely.
    fn same_bits_unfused(xs: &[f32], b: Bulk) {
        // The fused form is a software library call per multiply-add on a CPU without FMA.
        let xs: Vec<f32> = xs
            .iter()
            .step_by(if simd::fused() { 1 } else { 97 })
            .copied()
            .collect();
        let (fused, unfused) = (bulk(b, true, &xs), bulk(b, false, &xs));
        for ((&x, f), u) in xs.iter().zip(fused).zip(unfused) {
            assert_eq!(
                f.to_bits(),
                u.to_bits(),
                "{b:?}({x:e}): fused {f:e}, unfused {u:e}"
            );
        }
        let unsure = xs
            .iter()
            .filter(|&&x| {
                let y = match b {
                    Bulk::Exp => exp_f32::<false>(x),
                    Bulk::Tanh => tanh_f32::<false>(x),
                    Bulk::Sin => sin_f32::<false>(x),
                    Bulk::Cos => cos_f32::<false>(x),
                };
                y.is_nan() && x.abs() <= b.max_abs()
            })
            .count();
        assert!(
            unsure * 10_000 < xs.len(),
            "{b:?}: {unsure} of {} unsure",
            xs.len()
        );
    }

    fn grid(lo: f32, hi: f32, n: usize) -> Vec<f32> {
        (0..=n)
            .map(move |i| lo + (hi - lo) * (i as f32 / n as f32))
            .collect()
    }

    /// Every f32 in [lo, hi] with a stride over the bit patterns.
    fn bits(lo: f32, hi: f32, stride: u32) -> Vec<f32> {
        let (a, b) = (lo.to_bits(), hi.to_bits());
        (a.min(b)..=a.max(b))
            .step_by(stride as usize)
            .map(f32::from_bits)
            .collect()
    }

    /// `b` of a few values, through the loops (the tensor has at least `BULK_MIN` elements),
    /// in both forms.
    fn special(b: Bulk, xs: &[f32]) -> Vec<f32> {
        let mut padded = xs.to_vec();
        padded.resize(BULK_MIN, 0.5);
        let (f, u) = (bulk(b, true, &padded), bulk(b, false, &padded));
        for (x, (f, u)) in xs.iter().zip(f.iter().zip(&u)) {
            assert_eq!(f.to_bits(), u.to_bits(), "{b:?}({x:e})");
        }
        f[..xs.len()].to_vec()
    }

    fn check(b: Bulk, reference: fn(f64) -> f64, sets: [(Vec<f32>, &str); 3]) {
        for (xs, name) in sets {
            let (worst, off, n) = measure(&xs, b, reference);
            assert!(worst <= 1, "{b:?} {name}: {worst} ulp");
            assert!(
                off * 10_000 < n,
                "{b:?} {name}: {off} of {n} not correctly rounded"
            );
            same_bits_unfused(&xs, b);
        }
    }

    #[test]
    fn exp_is_within_one_ulp() {
        check(
            Bulk::Exp,
            f64::exp,
            [
                (grid(-104.0, 89.0, 2_000_000), "grid"),
                (bits(0.0, 89.0, 997), "positive bits"),
                (bits(-0.0, -104.0, 997), "negative bits"),
            ],
        );
        let inf = f32::INFINITY;
        let y = special(Bulk::Exp, &[inf, -inf, 89.0, f32::NAN, 0.0, -103.9]);
        assert_eq!(y[0], inf);
        assert_eq!(y[1], 0.0);
        assert_eq!(y[2], inf);
        assert!(y[3].is_nan());
        assert_eq!(y[4], 1.0);
        assert_eq!(y[5], (-103.9f64).exp() as f32); // subnormal result
        assert!(exp_f32::<true>(f32::NAN).is_nan());
        assert_eq!(exp_f32::<true>(0.0), 1.0);
    }

    #[test]
    fn tanh_is_within_one_ulp() {
        check(
            Bulk::Tanh,
            f64::tanh,
            [
                (grid(-10.0, 10.0, 2_000_000), "grid"),
                (bits(0.0, 12.0, 499), "positive bits"),
                (bits(-0.0, -12.0, 499), "negative bits"),
            ],
        );
        let inf = f32::INFINITY;
        let y = special(Bulk::Tanh, &[inf, -inf, -0.0, 1e-30, f32::NAN]);
        assert_eq!(y[0], 1.0);
        assert_eq!(y[1], -1.0);
        assert_eq!(y[2].to_bits(), (-0.0f32).to_bits());
        assert_eq!(y[3], 1e-30);
        assert!(y[4].is_nan());
        assert_eq!(tanh_f32::<true>(-0.0).to_bits(), (-0.0f32).to_bits());
    }

    #[test]
    fn sin_and_cos_are_within_one_ulp() {
        for (b, reference) in [
            (Bulk::Sin, f64::sin as fn(f64) -> f64),
            (Bulk::Cos, f64::cos),
        ] {
            check(
                b,
                reference,
                [
                    (grid(-10.0, 10.0, 2_000_000), "grid"),
                    (bits(0.0, SIN_COS_MAX, 997), "positive bits"),
                    (bits(-0.0, -SIN_COS_MAX, 997), "negative bits"),
                ],
            );
        }
        let y = special(Bulk::Sin, &[0.0, -0.0, 1e6, f32::NAN]);
        assert_eq!(y[0].to_bits(), 0);
        assert_eq!(y[1].to_bits(), (-0.0f32).to_bits());
        assert_eq!(y[2], 1e6f32.sin()); // beyond SIN_COS_MAX: the standard library
        assert!(y[3].is_nan());
        assert_eq!(special(Bulk::Cos, &[0.0])[0], 1.0);
        assert_eq!(sin_f32::<true>(-0.0).to_bits(), (-0.0f32).to_bits());
    }
}
