//! Vectorisable `f32` exp, tanh, sin and cos for large tensors.
//!
//! glibc's `expf`/`sinf`/`cosf`/`tanhf` are accurate but one call per element; these are
//! branch-free straight-line code that the compiler turns into 4-wide AVX2 loops. Each works in
//! `f64` internally (polynomials with relative error below 1e-13) and rounds once to `f32`, so
//! the result is the correctly rounded value except within 1e-13 of a rounding boundary: at most
//! 1 ulp from the exact value, and nearly always equal to it (`tests` measure both over millions
//! of points). No fused multiply-add is used, so every CPU computes the same bits.
//!
//! They are used only for contiguous `f32` tensors of at least [`BULK_MIN`] elements; smaller
//! tensors (and every `f64` tensor) use the standard library, as PyTorch uses its scalar path for
//! them. Inputs outside each function's domain (`sin`/`cos` beyond |x| = 1e5, NaN) are recomputed
//! with the standard library.

use std::f64::consts::{FRAC_2_PI, LOG2_E};

/// The smallest tensor that takes the vectorised path.
pub(crate) const BULK_MIN: usize = 64;

/// 1.5 * 2^52: adding it rounds an `f64` of magnitude below 2^51 to an integer, which then sits
/// in the low bits of the sum's representation.
const MAGIC: f64 = 6_755_399_441_055_744.0;

/// ln 2 split so that `n * LN2_HI` is exact for |n| < 2^20 (fdlibm's constants).
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);

/// pi/2 in three parts, the first two with 33 significant bits, so that `k * PIO2_HI` and
/// `k * PIO2_MID` are exact for |k| < 2^20 (fdlibm's `pio2_1`, `pio2_2`, `pio2_2t`).
const PIO2_HI: f64 = f64::from_bits(0x3ff9_21fb_5440_0000);
const PIO2_MID: f64 = f64::from_bits(0x3dd0_b461_1a60_0000);
const PIO2_LO: f64 = f64::from_bits(0x3ba3_198a_2e03_7073);

/// e^x for x in [-150, 100] (clamped outside), relative error below 1e-14.
#[inline(always)]
fn exp_f64(x: f64) -> f64 {
    let x = x.clamp(-150.0, 100.0);
    let t = x * LOG2_E + MAGIC;
    let n = t - MAGIC;
    let r = (x - n * LN2_HI) - n * LN2_LO; // |r| <= ln2/2 (+ rounding)
                                           // Taylor series to r^11: the remainder is below r^12/12! < 7e-15.
    let mut p = 1.0 / 39_916_800.0;
    for c in [
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * r + c;
    }
    // 2^n from the integer in the low bits of t (n + 1023 is in 1..=2046 after the clamp).
    let scale = f64::from_bits(t.to_bits().wrapping_add(1023) << 52);
    p * scale
}

/// `f32` e^x. Defined everywhere: overflow gives inf, underflow 0 (through subnormals), NaN
/// gives NaN.
#[inline(always)]
pub(crate) fn exp_f32(x: f32) -> f32 {
    let y = exp_f64(x as f64) as f32;
    if x.is_nan() {
        x
    } else {
        y
    }
}

/// `f32` tanh. Defined everywhere except NaN (which the caller recomputes).
#[inline(always)]
pub(crate) fn tanh_f32(x: f32) -> f32 {
    let a = (x as f64).abs().min(20.0);
    let a2 = a * a;
    // Small |x|: tanh a = a (1 - a^2/3 + 2a^4/15 - 17a^6/315 + 62a^8/2835 ...), remainder < 1e-12.
    let small = a
        * (1.0
            + a2 * (-1.0 / 3.0 + a2 * (2.0 / 15.0 + a2 * (-17.0 / 315.0 + a2 * (62.0 / 2835.0)))));
    // Otherwise 1 - 2 / (e^{2a} + 1): its cancellation costs at most 1e-16 / a relative.
    let large = 1.0 - 2.0 / (exp_f64(2.0 * a) + 1.0);
    let t = if a < 0.05 { small } else { large };
    (t as f32).copysign(x)
}

/// sin and cos of `f32` |x| <= 1e5 (the caller recomputes larger or non-finite inputs).
#[inline(always)]
fn sin_cos_parts(x: f32) -> (f64, f64, u64) {
    let x = x as f64;
    let t = x * FRAC_2_PI + MAGIC;
    let k = t - MAGIC;
    let r = ((x - k * PIO2_HI) - k * PIO2_MID) - k * PIO2_LO; // |r| <= pi/4 (+ rounding)
    let r2 = r * r;
    // Taylor series: sin to r^15 (remainder < 4e-17), cos to r^16 (remainder < 4e-16).
    let mut s = -1.0 / 1_307_674_368_000.0;
    for c in [
        1.0 / 6_227_020_800.0,
        -1.0 / 39_916_800.0,
        1.0 / 362_880.0,
        -1.0 / 5_040.0,
        1.0 / 120.0,
        -1.0 / 6.0,
    ] {
        s = s * r2 + c;
    }
    let sin_r = r * (1.0 + r2 * s); // keeps the sign of zero
    let mut c = 1.0 / 20_922_789_888_000.0;
    for k in [
        -1.0 / 87_178_291_200.0,
        1.0 / 479_001_600.0,
        -1.0 / 3_628_800.0,
        1.0 / 40_320.0,
        -1.0 / 720.0,
        1.0 / 24.0,
        -0.5,
        1.0,
    ] {
        c = c * r2 + k;
    }
    (sin_r, c, t.to_bits() & 3)
}

/// `f32` sin for |x| <= [`SIN_COS_MAX`].
#[inline(always)]
pub(crate) fn sin_f32(x: f32) -> f32 {
    let (s, c, q) = sin_cos_parts(x);
    let v = if q & 1 == 0 { s } else { c };
    (if q & 2 == 0 { v } else { -v }) as f32
}

/// `f32` cos for |x| <= [`SIN_COS_MAX`].
#[inline(always)]
pub(crate) fn cos_f32(x: f32) -> f32 {
    let (s, c, q) = sin_cos_parts(x);
    let v = if q & 1 == 0 { c } else { s };
    (if (q + 1) & 2 == 0 { v } else { -v }) as f32
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
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// Max ulp error and count of results that are not the correctly rounded f32 of the f64
    /// reference, over `xs`.
    fn measure(
        xs: impl Iterator<Item = f32>,
        f: fn(f32) -> f32,
        reference: fn(f64) -> f64,
    ) -> (u32, usize, usize) {
        let (mut worst, mut off, mut n) = (0, 0, 0);
        for x in xs {
            let want = reference(x as f64) as f32;
            let got = f(x);
            let e = ulps(got, want);
            worst = worst.max(e);
            off += usize::from(e != 0);
            n += 1;
        }
        (worst, off, n)
    }

    fn grid(lo: f32, hi: f32, n: usize) -> impl Iterator<Item = f32> {
        (0..=n).map(move |i| lo + (hi - lo) * (i as f32 / n as f32))
    }

    /// Every f32 in [lo, hi] with a stride over the bit patterns.
    fn bits(lo: f32, hi: f32, stride: u32) -> impl Iterator<Item = f32> {
        let (a, b) = (lo.to_bits(), hi.to_bits());
        (a.min(b)..=a.max(b))
            .step_by(stride as usize)
            .map(f32::from_bits)
    }

    #[test]
    fn exp_is_within_one_ulp() {
        for (xs, name) in [
            (
                Box::new(grid(-104.0, 89.0, 2_000_000)) as Box<dyn Iterator<Item = f32>>,
                "grid",
            ),
            (Box::new(bits(0.0, 89.0, 997)), "positive bits"),
            (Box::new(bits(-0.0, -104.0, 997)), "negative bits"),
        ] {
            let (worst, off, n) = measure(xs, exp_f32, f64::exp);
            assert!(worst <= 1, "exp {name}: {worst} ulp");
            assert!(
                off * 10_000 < n,
                "exp {name}: {off} of {n} not correctly rounded"
            );
        }
        assert_eq!(exp_f32(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_f32(89.0), f32::INFINITY);
        assert!(exp_f32(f32::NAN).is_nan());
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(-103.9), (-103.9f64).exp() as f32); // subnormal result
    }

    #[test]
    fn tanh_is_within_one_ulp() {
        for (xs, name) in [
            (
                Box::new(grid(-10.0, 10.0, 2_000_000)) as Box<dyn Iterator<Item = f32>>,
                "grid",
            ),
            (Box::new(bits(0.0, 12.0, 499)), "positive bits"),
            (Box::new(bits(-0.0, -12.0, 499)), "negative bits"),
        ] {
            let (worst, off, n) = measure(xs, tanh_f32, f64::tanh);
            assert!(worst <= 1, "tanh {name}: {worst} ulp");
            assert!(
                off * 10_000 < n,
                "tanh {name}: {off} of {n} not correctly rounded"
            );
        }
        assert_eq!(tanh_f32(f32::INFINITY), 1.0);
        assert_eq!(tanh_f32(f32::NEG_INFINITY), -1.0);
        assert_eq!(tanh_f32(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(tanh_f32(1e-30), 1e-30);
    }

    #[test]
    fn sin_and_cos_are_within_one_ulp() {
        for (f, reference, name) in [
            (sin_f32 as fn(f32) -> f32, f64::sin as fn(f64) -> f64, "sin"),
            (cos_f32, f64::cos, "cos"),
        ] {
            for (xs, range) in [
                (
                    Box::new(grid(-10.0, 10.0, 2_000_000)) as Box<dyn Iterator<Item = f32>>,
                    "grid",
                ),
                (Box::new(bits(0.0, SIN_COS_MAX, 997)), "positive bits"),
                (Box::new(bits(-0.0, -SIN_COS_MAX, 997)), "negative bits"),
            ] {
                let (worst, off, n) = measure(xs, f, reference);
                assert!(worst <= 1, "{name} {range}: {worst} ulp");
                assert!(
                    off * 10_000 < n,
                    "{name} {range}: {off} of {n} not correctly rounded"
                );
            }
        }
        assert_eq!(sin_f32(0.0), 0.0);
        assert_eq!(cos_f32(0.0), 1.0);
        assert_eq!(sin_f32(-0.0).to_bits(), (-0.0f32).to_bits());
    }
}
