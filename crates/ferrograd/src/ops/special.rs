//! Special functions and the remaining elementwise activations: lgamma, digamma, polygamma,
//! erfinv, i0, sinc, logit, hardswish, hardsigmoid, celu, rrelu (eval), nan_to_num, frac
//! (rows of the unary form, [`super::unary`]), xlogy, logaddexp, logaddexp2, copysign (rows of
//! the binary form, [`super::binary`]) and the composites softsign, softmin, glu and prelu.
//!
//! Every rule is written in differentiable tensor ops, so every derivative order works. The
//! families whose derivatives leave the family are closed by internal primitives: digamma and
//! polygamma chain into `polygamma(n + 1)`, `i0` into the modified Bessel functions `I_n`
//! (`I_n' = (I_{n-1} + I_{n+1}) / 2`), and `sinc` into its own derivatives `sinc^(k)` (a
//! series near 0, so derivatives of every order are right at 0, where PyTorch's rule masks
//! the first derivative and loses the higher ones).

#![allow(clippy::should_implement_trait)]

use super::binary::binary_ops;
use super::unary::{slope_backward, unary_ops, Slope};
use super::{unary, Saves, Unary};
use crate::dtype::Float;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use std::f64::consts::{LN_2, PI};

fn c<T: Float>(v: f64) -> T {
    T::from_f64(v)
}

/// `f` on the element widened to `f64`, rounded back.
fn via64<T: Float>(x: T, f: impl Fn(f64) -> f64) -> T {
    T::from_f64(f(x.to_f64()))
}

// ------------------------------------------------------------------ scalar kernels

/// The digamma function, PyTorch's algorithm (Cephes): reflection below 0, recurrence up to
/// 10 and the asymptotic series. `-inf` at `+0`, `+inf` at `-0`, NaN at negative integers.
// Cephes' constants, digit for digit.
#[allow(clippy::excessive_precision)]
pub(crate) fn digamma(x: f64) -> f64 {
    const PSI_10: f64 = 2.251_752_589_066_721_107_64;
    const A: [f64; 7] = [
        8.333_333_333_333_333_333_33E-2,
        -2.109_279_609_279_609_279_61E-2,
        7.575_757_575_757_575_757_58E-3,
        -4.166_666_666_666_666_666_67E-3,
        3.968_253_968_253_968_253_97E-3,
        -8.333_333_333_333_333_333_33E-3,
        8.333_333_333_333_333_333_33E-2,
    ];
    if x == 0.0 {
        return f64::INFINITY.copysign(-x);
    }
    if x < 0.0 {
        if x == x.trunc() {
            return f64::NAN;
        }
        let r = x.fract();
        return digamma(1.0 - x) - PI / (PI * r).tan();
    }
    let (mut x, mut result) = (x, 0.0);
    while x < 10.0 {
        result -= 1.0 / x;
        x += 1.0;
    }
    if x == 10.0 {
        return result + PSI_10;
    }
    let y = if x < 1.0e17 {
        let z = 1.0 / (x * x);
        z * A.iter().fold(0.0, |acc, &a| acc * z + a)
    } else {
        0.0
    };
    result + x.ln() - 0.5 / x - y
}

/// The Hurwitz zeta function `sum_k (q + k)^-s` (Cephes' `zeta`, as PyTorch's): infinite at
/// `s == 1` and at non-positive integer `q`.
// Cephes' constants, digit for digit.
#[allow(clippy::excessive_precision)]
fn zeta(s: f64, q: f64) -> f64 {
    const MACHEP: f64 = 1.110_223_024_625_156_540_42e-16;
    const A: [f64; 12] = [
        12.0,
        -720.0,
        30240.0,
        -1_209_600.0,
        47_900_160.0,
        -1.892_437_580_318_379_160_6e9,
        7.472_424_96e10,
        -2.950_130_727_918_164_224e12,
        1.164_678_281_435_006_724_9e14,
        -4.597_978_722_407_472_610_5e15,
        1.815_210_540_194_354_677_3e17,
        -7.166_165_256_175_667_011_3e18,
    ];
    if s == 1.0 {
        return f64::INFINITY;
    }
    if s < 1.0 {
        return f64::NAN;
    }
    if q <= 0.0 {
        if q == q.floor() {
            return f64::INFINITY;
        }
        if s != s.floor() {
            return f64::NAN;
        }
    }
    let mut sum = q.powf(-s);
    let mut a = q;
    let mut b = 0.0;
    let mut i = 0;
    while i < 9 || a <= 9.0 {
        i += 1;
        a += 1.0;
        b = a.powf(-s);
        sum += b;
        if (b / sum).abs() < MACHEP {
            return sum;
        }
    }
    let w = a;
    sum += b * w / (s - 1.0);
    sum -= 0.5 * b;
    let (mut fac, mut k) = (1.0, 0.0);
    for &ai in &A {
        fac *= s + k;
        b /= w;
        let t = fac * b / ai;
        sum += t;
        if (t / sum).abs() < MACHEP {
            return sum;
        }
        k += 1.0;
        fac *= s + k;
        b /= w;
        k += 1.0;
    }
    sum
}

/// `polygamma(n, x)`: digamma for `n == 0`, else `(-1)^(n+1) n! zeta(n + 1, x)`.
pub(crate) fn polygamma(n: u32, x: f64) -> f64 {
    if n == 0 {
        return digamma(x);
    }
    let sign = if n % 2 == 1 { 1.0 } else { -1.0 };
    // n! overflows from 171 on: the product stops there (it is infinite already).
    let fact: f64 = (1..=n.min(171)).map(f64::from).product();
    sign * fact * zeta(f64::from(n) + 1.0, x)
}

/// The inverse error function, PyTorch's algorithm: a rational first guess and two Newton
/// steps; `+-inf` at `+-1`, NaN outside `[-1, 1]`.
pub(crate) fn erfinv(y: f64) -> f64 {
    const A: [f64; 4] = [0.886226899, -1.645349621, 0.914624893, -0.140543331];
    const B: [f64; 4] = [-2.118377725, 1.442710462, -0.329097515, 0.012229801];
    const C: [f64; 4] = [-1.970840454, -1.624906493, 3.429567803, 1.641345311];
    const D: [f64; 2] = [3.543889200, 1.637067800];
    let ya = y.abs();
    if ya > 1.0 || y.is_nan() {
        return f64::NAN;
    }
    if ya == 1.0 {
        return f64::INFINITY.copysign(y);
    }
    let mut x = if ya <= 0.7 {
        let z = y * y;
        let num = ((A[3] * z + A[2]) * z + A[1]) * z + A[0];
        let dem = (((B[3] * z + B[2]) * z + B[1]) * z + B[0]) * z + 1.0;
        y * num / dem
    } else {
        let z = (-((1.0 - ya) / 2.0).ln()).sqrt();
        let num = ((C[3] * z + C[2]) * z + C[1]) * z + C[0];
        let dem = (D[1] * z + D[0]) * z + 1.0;
        num.copysign(y) / dem
    };
    for _ in 0..2 {
        x -= (libm::erf(x) - y) / ((2.0 / PI.sqrt()) * (-x * x).exp());
    }
    x
}

/// The modified Bessel function of the first kind `I_n(x)`: the power series (positive terms)
/// up to `|x| = 30`, the asymptotic expansion beyond (scaled so that `e^x` does not overflow
/// before the result does). `I_n(-x) = (-1)^n I_n(x)`.
pub(crate) fn bessel_i(n: u32, x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let ax = x.abs();
    let v = if ax <= 30.0 {
        let h = ax / 2.0;
        let nf: f64 = (1..=n).map(f64::from).product();
        let mut term = h.powi(n as i32) / nf;
        let mut sum = term;
        let mut k = 0.0;
        loop {
            k += 1.0;
            term *= h * h / (k * (k + f64::from(n)));
            sum += term;
            if term <= sum * 1e-17 || k > 500.0 {
                break sum;
            }
        }
    } else if ax == f64::INFINITY {
        f64::INFINITY
    } else {
        let mu = 4.0 * f64::from(n) * f64::from(n);
        let (mut term, mut sum) = (1.0f64, 1.0f64);
        for k in 1..60 {
            let kf = f64::from(k);
            let next = -term * (mu - (2.0 * kf - 1.0).powi(2)) / (kf * 8.0 * ax);
            if next.abs() >= term.abs() {
                break;
            }
            term = next;
            sum += term;
            if term.abs() < 1e-17 * sum.abs() {
                break;
            }
        }
        (ax - 0.5 * (2.0 * PI * ax).ln()).exp() * sum
    };
    if x < 0.0 && n % 2 == 1 {
        -v
    } else {
        v
    }
}

/// The `k`-th derivative of `sinc(x) = sin(pi x) / (pi x)`: `pi^k u^(k)(pi x)` for
/// `u(a) = sin(a) / a`, by its power series for `|a| <= 1` (no cancellation at 0) and by
/// Leibniz's rule on `sin(a) * a^-1` beyond.
pub(crate) fn sinc_derivative(k: u32, x: f64) -> f64 {
    let a = PI * x;
    let u = if a.abs() <= 1.0 {
        // u^(k)(a) = sum_{2m >= k} (-1)^m a^(2m-k) / ((2m-k)! (2m+1)).
        let mut sum = 0.0;
        let m0 = k.div_ceil(2);
        for m in m0..m0 + 30 {
            let p = 2 * m - k;
            let fact: f64 = (1..=p).map(f64::from).product();
            let sign = if m % 2 == 0 { 1.0 } else { -1.0 };
            sum += sign * a.powi(p as i32) / (fact * f64::from(2 * m + 1));
        }
        sum
    } else if a.is_infinite() {
        0.0
    } else {
        // sum_j C(k, j) sin^(j)(a) (a^-1)^(k-j), (a^-1)^(r) = (-1)^r r! a^-(r+1).
        let mut sum = 0.0;
        let mut binom = 1.0;
        for j in 0..=k {
            let r = k - j;
            let fact: f64 = (1..=r).map(f64::from).product();
            let sign = if r % 2 == 0 { 1.0 } else { -1.0 };
            sum += binom * (a + f64::from(j) * PI / 2.0).sin() * sign * fact / a.powi(r as i32 + 1);
            binom = binom * f64::from(k - j) / f64::from(j + 1);
        }
        sum
    };
    PI.powi(k as i32) * u
}

fn hardswish<T: Float>(x: T) -> T {
    let r = (x + c(3.0)).max(T::zero()).min(c(6.0));
    x * r / c(6.0)
}

fn hardsigmoid<T: Float>(x: T) -> T {
    (x + c(3.0)).max(T::zero()).min(c(6.0)) / c(6.0)
}

/// logit's input, clamped to `[eps, 1 - eps]` when `eps` is given.
fn logit_input<T: Float>(x: T, eps: Option<f64>) -> T {
    match eps {
        Some(e) if x < c(e) => c(e),
        Some(e) if x > c(1.0 - e) => c(1.0 - e),
        _ => x,
    }
}

fn nan_to_num<T: Float>(x: T, nan: f64, posinf: Option<f64>, neginf: Option<f64>) -> T {
    if x.is_nan() {
        c(nan)
    } else if x == T::infinity() {
        posinf.map_or(T::max_value(), c)
    } else if x == T::neg_infinity() {
        neginf.map_or(T::min_value(), c)
    } else {
        x
    }
}

// ------------------------------------------------------------------ rules

/// celu's backward (PyTorch: `x <= 0 ? grad * exp(x / alpha) : grad`); the exponential reads
/// `x` through `where(x < 0, x, 0)`, so the second derivative is 0 at the kink, as elu's.
fn celu_backward(x: &Tensor, g: &Tensor, alpha: f64) -> Tensor {
    let xn = Tensor::where_(&x.lt_scalar(0.0), x, &x.zeros_like());
    Tensor::where_(&x.le_scalar(0.0), &(g * &xn.div_scalar(alpha).exp()), g)
}

/// hardswish's backward (PyTorch: `x < -3 ? 0 : x <= 3 ? grad (x / 3 + 1/2) : grad`); the
/// linear piece reads `x` only strictly inside `(-3, 3)` (a constant at the kinks), so the
/// second derivative is PyTorch's `1/3` there and 0 elsewhere.
fn hardswish_backward(x: &Tensor, g: &Tensor) -> Tensor {
    let inside = x.gt_scalar(-3.0).logical_and(&x.lt_scalar(3.0));
    let xs = Tensor::where_(&inside, x, &x.detach());
    let lin = xs.div_scalar(3.0).add_scalar(0.5);
    let d = Tensor::where_(&x.le_scalar(3.0), &lin, &x.ones_like());
    g * &Tensor::where_(&x.lt_scalar(-3.0), &x.zeros_like(), &d)
}

/// logit's backward: `grad / (x (1 - x))`, and 0 outside `[eps, 1 - eps]` when `eps` is
/// given (PyTorch); the outside points read a safe 0.5 (no `0 * inf` in higher orders).
fn logit_backward(x: &Tensor, g: &Tensor, eps: Option<f64>) -> Tensor {
    match eps {
        None => g / &(x * &x.rsub_scalar(1.0)),
        Some(e) => {
            let outside = x.lt_scalar(e).logical_or(&x.gt_scalar(1.0 - e));
            let safe = Tensor::where_(&outside, &x.full_like(0.5), x);
            (g / &(&safe * &safe.rsub_scalar(1.0))).masked_fill(&outside, 0.0)
        }
    }
}

/// The gradient passes where `x` is finite (`NanToNumBackward0`: `grad * isfinite(x)`).
fn finite_backward(x: &Tensor, g: &Tensor) -> Tensor {
    let bad = x.ne(x).logical_or(&x.abs().eq_scalar(f64::INFINITY));
    g.masked_fill(&bad, 0.0)
}

/// `polygamma(n, x)`, recorded (internal: the public op checks `n`).
fn polygamma_of(n: u32, x: &Tensor) -> Tensor {
    unary(Polygamma { n }, x)
}

/// `polygamma(n, x)`; its derivative is `polygamma(n + 1, x)`.
#[derive(Clone, Copy)]
pub(crate) struct Polygamma {
    n: u32,
}

impl Unary for Polygamma {
    const NAME: &'static str = "PolygammaBackward0";
    const SAVES: Saves = Saves::Input;
    fn f<T: Float>(self, x: T) -> T {
        via64(x, |v| polygamma(self.n, v))
    }
    fn df(self, x: &Tensor, g: &Tensor) -> Tensor {
        g * &polygamma_of(self.n.saturating_add(1), x)
    }
}

/// `I_n(x)` for `n >= 1` (internal: the derivatives of `i0`); `I_n' = (I_{n-1} + I_{n+1}) / 2`.
/// `I_1` is PyTorch's `special_i1`.
#[derive(Clone, Copy)]
pub(crate) struct BesselI {
    n: u32,
}

/// `I_n(x)`, recorded: `i0` for `n == 0`.
fn bessel_i_of(n: u32, x: &Tensor) -> Tensor {
    if n == 0 {
        x.i0()
    } else {
        unary(BesselI { n }, x)
    }
}

impl Unary for BesselI {
    const NAME: &'static str = "SpecialI1Backward0";
    const SAVES: Saves = Saves::Input;
    fn f<T: Float>(self, x: T) -> T {
        via64(x, |v| bessel_i(self.n, v))
    }
    fn df(self, x: &Tensor, g: &Tensor) -> Tensor {
        let d = &bessel_i_of(self.n - 1, x) + &bessel_i_of(self.n + 1, x);
        g * &d.mul_scalar(0.5)
    }
}

/// The `k`-th derivative of sinc for `k >= 1` (internal: sinc's rules).
#[derive(Clone, Copy)]
pub(crate) struct SincDerivative {
    k: u32,
}

impl Unary for SincDerivative {
    const NAME: &'static str = "SincBackwardBackward0";
    const SAVES: Saves = Saves::Input;
    fn f<T: Float>(self, x: T) -> T {
        via64(x, |v| sinc_derivative(self.k, v))
    }
    fn df(self, x: &Tensor, g: &Tensor) -> Tensor {
        g * &unary(SincDerivative { k: self.k + 1 }, x)
    }
}

unary_ops! {
    SPECIAL_OPS;

    /// `log |Gamma(x)|` (infinite at the non-positive integers); gradient `digamma(x)`.
    ///
    /// ```
    /// let y = ferrograd::Tensor::new([1.0, 3.0]).lgamma();
    /// assert!((y.to_vec::<f32>()[1] - 2f32.ln()).abs() < 1e-6);
    /// ```
    pub fn lgamma(&self) -> Lgamma("LgammaBackward0", Input)
        |x| via64(x, libm::lgamma),
        |x, g| g * &x.digamma();

    /// The digamma function `Gamma'(x) / Gamma(x)` (`-inf` at `+0`, NaN at negative
    /// integers); gradient `polygamma(1, x)`.
    ///
    /// ```
    /// let y = ferrograd::Tensor::from_vec(vec![1.0f64], &[1]).digamma();
    /// assert!((y.to_vec::<f64>()[0] + 0.5772156649015329).abs() < 1e-15);
    /// ```
    pub fn digamma(&self) -> Digamma("DigammaBackward0", Input)
        |x| via64(x, digamma),
        |x, g| g * &polygamma_of(1, x);

    /// The inverse error function (`+-inf` at `+-1`, NaN outside `[-1, 1]`); gradient
    /// `sqrt(pi) / 2 * exp(erfinv(x)^2)`.
    ///
    /// ```
    /// let y = ferrograd::Tensor::new([0.0, 1.0]).erfinv();
    /// assert_eq!(y.to_vec::<f32>(), vec![0.0, f32::INFINITY]);
    /// ```
    pub fn erfinv(&self) -> Erfinv("ErfinvBackward0", Output)
        |x| via64(x, erfinv),
        |y, g| g * &y.pow(2.0).exp().mul_scalar(PI.sqrt() / 2.0);

    /// The modified Bessel function of the first kind of order 0; gradient `i1(x)`.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).i0().to_vec::<f32>(), vec![1.0]);
    /// ```
    pub fn i0(&self) -> I0("I0Backward0", Input)
        |x| via64(x, |v| bessel_i(0, v)),
        |x, g| g * &bessel_i_of(1, x);

    /// The normalized sinc `sin(pi x) / (pi x)`, 1 at 0. Its derivatives of every order are
    /// right at 0 too (PyTorch's rule gives 0 for the second derivative there).
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).sinc().to_vec::<f32>(), vec![1.0]);
    /// ```
    pub fn sinc(&self) -> Sinc("SincBackward0", Input)
        |x| if x == T::zero() {
            T::one()
        } else {
            let a = x * c(PI);
            a.sin() / a
        },
        |x, g| g * &unary(SincDerivative { k: 1 }, x);

    /// `log(z / (1 - z))` with `z = x` clamped to `[eps, 1 - eps]` when `eps` is given; the
    /// gradient is 0 outside that interval (PyTorch's `logit`).
    ///
    /// ```
    /// let y = ferrograd::Tensor::new([0.5, 0.0]).logit(Some(0.25));
    /// assert_eq!(y.to_vec::<f32>(), vec![0.0, -(3f32.ln())]);
    /// ```
    pub fn logit(&self, eps: Option<f64> = None) -> Logit("LogitBackward0", Input)
        |x| {
            let z = logit_input(x, eps);
            (z / (T::one() - z)).ln()
        },
        |x, g| logit_backward(x, g, eps);

    /// `x * relu6(x + 3) / 6`; gradient 0 below -3, `x / 3 + 1/2` up to 3 and 1 above
    /// (PyTorch's values at the kinks), second derivative `1/3` strictly inside `(-3, 3)`.
    ///
    /// ```
    /// let y = ferrograd::Tensor::new([-4.0, 0.0, 4.0]).hardswish();
    /// assert_eq!(y.to_vec::<f32>(), vec![0.0, 0.0, 4.0]);
    /// ```
    pub fn hardswish(&self) -> Hardswish("HardswishBackward0", Input)
        |x| hardswish(x),
        |x, g| hardswish_backward(x, g);

    /// `relu6(x + 3) / 6`; gradient `1/6` strictly inside `(-3, 3)`, 0 elsewhere.
    ///
    /// ```
    /// let y = ferrograd::Tensor::new([-4.0, 0.0, 4.0]).hardsigmoid();
    /// assert_eq!(y.to_vec::<f32>(), vec![0.0, 0.5, 1.0]);
    /// ```
    pub fn hardsigmoid(&self) -> Hardsigmoid("HardsigmoidBackward0", Input)
        |x| hardsigmoid(x),
        |x, g| slope_backward(Slope::Clamp(-3.0, 3.0), &g.div_scalar(6.0), x);

    /// `max(0, x) + min(0, alpha (exp(x / alpha) - 1))`.
    ///
    /// ```
    /// let y = ferrograd::Tensor::new([0.0, 2.0]).celu(1.0);
    /// assert_eq!(y.to_vec::<f32>(), vec![0.0, 2.0]);
    /// ```
    pub fn celu(&self, alpha: f64 = 1.0) -> Celu("CeluBackward0", Input)
        |x| if x > T::zero() { x } else { (x / c(alpha)).exp_m1() * c(alpha) },
        |x, g| celu_backward(x, g, alpha);

    /// Randomized leaky relu in evaluation mode (`F.rrelu(x, lower, upper, training=False)`):
    /// the fixed negative slope `(lower + upper) / 2`. Training mode's random slopes are not
    /// provided.
    ///
    /// ```
    /// let y = ferrograd::Tensor::new([-2.0, 3.0]).rrelu(0.25, 0.75);
    /// assert_eq!(y.to_vec::<f32>(), vec![-1.0, 3.0]);
    /// ```
    pub fn rrelu(&self, lower: f64 = 1.0 / 8.0, upper: f64 = 1.0 / 3.0)
        -> Rrelu("RreluWithNoiseBackward0", Input)
        |x| if x > T::zero() { x } else { x * c((lower + upper) / 2.0) },
        |x, g| slope_backward(Slope::Leaky((lower + upper) / 2.0), g, x);

    /// NaN, `+inf` and `-inf` replaced by `nan`, `posinf` and `neginf` (by default 0 and the
    /// dtype's largest and lowest finite values); gradient passes where `x` is finite.
    ///
    /// ```
    /// let x = ferrograd::Tensor::new([f32::NAN, f32::INFINITY, 1.0]);
    /// assert_eq!(x.nan_to_num(0.0, None, None).to_vec::<f32>(), vec![0.0, f32::MAX, 1.0]);
    /// ```
    pub fn nan_to_num(&self, nan: f64 = 0.0, posinf: Option<f64> = None, neginf: Option<f64> = None)
        -> NanToNum("NanToNumBackward0", Input)
        |x| nan_to_num(x, nan, posinf, neginf),
        |x, g| finite_backward(x, g);

    /// The fractional part `x - trunc(x)`; gradient 1.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([-1.5, 2.25]).frac().to_vec::<f32>(), vec![-0.5, 0.25]);
    /// ```
    pub fn frac(&self) -> Frac("FracBackward0", Nothing)
        |x| x - x.trunc(),
        |_, g| g.clone();
}

/// xlogy's gradients: `grad * xlogy(x != 0, y)` and `grad * x / y` (PyTorch).
fn xlogy_backward(
    a: Option<&Tensor>,
    b: Option<&Tensor>,
    g: &Tensor,
    n: [bool; 2],
) -> [Option<Tensor>; 2] {
    let (a, b) = (a.expect("xlogy saves x"), b.expect("xlogy saves y"));
    [
        n[0].then(|| g * &a.ne_scalar(0.0).to_dtype(a.dtype()).xlogy(b)),
        n[1].then(|| &(g * a) / b),
    ]
}

/// logaddexp's (`scale` 1) or logaddexp2's (`scale` ln 2) gradients: `sigmoid(scale (a - b))`
/// and `sigmoid(scale (b - a))` times `grad`.
fn logaddexp_backward(
    a: Option<&Tensor>,
    b: Option<&Tensor>,
    g: &Tensor,
    n: [bool; 2],
    scale: f64,
) -> [Option<Tensor>; 2] {
    let (a, b) = (a.expect("saved"), b.expect("saved"));
    [
        n[0].then(|| g * &(a - b).mul_scalar(scale).sigmoid()),
        n[1].then(|| g * &(b - a).mul_scalar(scale).sigmoid()),
    ]
}

fn logaddexp<T: Float>(a: T, b: T, base2: bool) -> T {
    if a.is_infinite() && a == b {
        return a;
    }
    let m = if a > b { a } else { b };
    let d = -(a - b).abs();
    if base2 {
        m + d.exp2().ln_1p() / c(LN_2)
    } else {
        m + d.exp().ln_1p()
    }
}

binary_ops! {
    SPECIAL_BINARY_OPS;

    /// `x * log(y)`, 0 where `x == 0` (unless `y` is NaN), with broadcasting.
    ///
    /// ```
    /// use ferrograd::Tensor;
    /// let y = Tensor::new([0.0, 2.0]).xlogy(&Tensor::new([0.0, 1.0]));
    /// assert_eq!(y.to_vec::<f32>(), vec![0.0, 0.0]);
    /// assert!(Tensor::ones(&[2]).try_xlogy(&Tensor::ones(&[3])).is_err());
    /// ```
    pub fn xlogy / try_xlogy(&self, other: &Tensor) -> Xlogy("XlogyBackward0", "xlogy")
        saves |_| [true, true],
        |a, b| if b.is_nan() {
            b
        } else if a == T::zero() {
            T::zero()
        } else {
            a * b.ln()
        },
        |a, b, g, n| xlogy_backward(a, b, g, n);

    /// `log(exp(x) + exp(y))`, computed without overflow.
    ///
    /// ```
    /// use ferrograd::Tensor;
    /// let y = Tensor::new([1000.0]).logaddexp(&Tensor::new([1000.0]));
    /// assert_eq!(y.to_vec::<f32>(), vec![1000.0 + 2f32.ln()]);
    /// assert!(Tensor::ones(&[2]).try_logaddexp(&Tensor::ones(&[3])).is_err());
    /// ```
    pub fn logaddexp / try_logaddexp(&self, other: &Tensor)
        -> Logaddexp("LogaddexpBackward0", "logaddexp")
        saves |_| [true, true],
        |a, b| logaddexp(a, b, false),
        |a, b, g, n| logaddexp_backward(a, b, g, n, 1.0);

    /// `log2(2^x + 2^y)`, computed without overflow.
    ///
    /// ```
    /// use ferrograd::Tensor;
    /// let y = Tensor::new([3.0]).logaddexp2(&Tensor::new([3.0]));
    /// assert_eq!(y.to_vec::<f32>(), vec![4.0]);
    /// assert!(Tensor::ones(&[2]).try_logaddexp2(&Tensor::ones(&[3])).is_err());
    /// ```
    pub fn logaddexp2 / try_logaddexp2(&self, other: &Tensor)
        -> Logaddexp2("Logaddexp2Backward0", "logaddexp2")
        saves |_| [true, true],
        |a, b| logaddexp(a, b, true),
        |a, b, g, n| logaddexp_backward(a, b, g, n, LN_2);

    /// `|self|` with the sign (bit) of `other`; the gradient of `self` is `grad * sign(self) *
    /// copysign(1, other)` (0 at `self == 0`), of `other` zero (PyTorch).
    ///
    /// ```
    /// use ferrograd::Tensor;
    /// let y = Tensor::new([2.0, -3.0]).copysign(&Tensor::new([-1.0, 0.0]));
    /// assert_eq!(y.to_vec::<f32>(), vec![-2.0, 3.0]);
    /// assert!(Tensor::ones(&[2]).try_copysign(&Tensor::ones(&[3])).is_err());
    /// ```
    pub fn copysign / try_copysign(&self, other: &Tensor)
        -> Copysign("CopysignBackward0", "copysign")
        saves |n| [n[0], n[0]],
        |a, b| if b.is_sign_negative() { -a.abs() } else { a.abs() },
        |a, b, g, n| [
            a.zip(b).map(|(a, b)| g * &(&a.sign() * &a.ones_like().copysign(b))),
            n[1].then(|| g.zeros_like()),
        ];
}

api! {
    SPECIAL_COMPOSITE_OPS = impl Tensor {
        /// `x - tanh(x)` (`F.tanhshrink`).
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::new([0.0]).tanhshrink().to_vec::<f32>(), vec![0.0]);
        /// ```
        pub fn tanhshrink(&self) -> Tensor {
            self - &self.tanh()
        }

        /// `x` where `|x| > lambd`, 0 elsewhere (`F.hardshrink`); the gradient is 0 at
        /// `|x| == lambd`, as PyTorch's.
        ///
        /// ```
        /// let y = ferrograd::Tensor::new([-1.0, 0.2, 0.5, 0.7]).hardshrink(0.5);
        /// assert_eq!(y.to_vec::<f32>(), vec![-1.0, 0.0, 0.0, 0.7]);
        /// ```
        pub fn hardshrink(&self, lambd: f64 = 0.5) -> Tensor {
            let inside = self.abs().le_scalar(lambd);
            crate::autograd::relabel(self.masked_fill(&inside, 0.0), "HardshrinkBackward0")
        }

        /// `x - lambd` above `lambd`, `x + lambd` below `-lambd`, 0 between (`F.softshrink`);
        /// the gradient is 0 at `|x| == lambd`, as PyTorch's.
        ///
        /// ```
        /// let y = ferrograd::Tensor::new([-1.0, 0.2, 1.5]).softshrink(0.5);
        /// assert_eq!(y.to_vec::<f32>(), vec![-0.5, 0.0, 1.0]);
        /// ```
        pub fn softshrink(&self, lambd: f64 = 0.5) -> Tensor {
            // Inside, `x * 0` (a signed zero, as PyTorch's), with a zero gradient.
            let inside = self.abs().le_scalar(lambd);
            let shrunk = self - &(&self.sign().detach() * lambd);
            let y = Tensor::where_(&inside, &self.mul_scalar(0.0), &shrunk);
            crate::autograd::relabel(y, "SoftshrinkBackward0")
        }

        /// `x` where `x > threshold`, `value` elsewhere (`F.threshold`); the gradient is 0
        /// where `x <= threshold`, as PyTorch's.
        ///
        /// ```
        /// let y = ferrograd::Tensor::new([-1.0, 0.5, 2.0]).threshold(0.5, -3.0);
        /// assert_eq!(y.to_vec::<f32>(), vec![-3.0, -3.0, 2.0]);
        /// ```
        pub fn threshold(&self, threshold: f64, value: f64) -> Tensor {
            let below = self.le_scalar(threshold);
            crate::autograd::relabel(self.masked_fill(&below, value), "ThresholdBackward0")
        }

        /// `polygamma(n, x)`, the `n`-th derivative of digamma (`x.polygamma(n)` for PyTorch's
        /// `torch.polygamma(n, x)`); gradient `polygamma(n + 1, x)`. Panics for negative `n`;
        /// see [`Tensor::try_polygamma`].
        ///
        /// ```
        /// let y = ferrograd::Tensor::from_vec(vec![1.0f64], &[1]).polygamma(1);
        /// assert!((y.to_vec::<f64>()[0] - std::f64::consts::PI.powi(2) / 6.0).abs() < 1e-14);
        /// let e = ferrograd::Tensor::new([1.0]).try_polygamma(-1).unwrap_err();
        /// assert_eq!(e.to_string(), "polygamma: polygamma(n, x) does not support negative n.");
        /// ```
        pub fn polygamma / try_polygamma(&self, n: i64) -> Tensor {
            let n = u32::try_from(n).map_err(|_| {
                Error::invalid("polygamma", "polygamma(n, x) does not support negative n.")
            })?;
            Ok(polygamma_of(n, self))
        }

        /// `x / (1 + |x|)`.
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::new([1.0, -3.0]).softsign().to_vec::<f32>(), vec![0.5, -0.75]);
        /// ```
        pub fn softsign(&self) -> Tensor {
            self / &self.abs().add_scalar(1.0)
        }

        /// `softmax(-x)` along `dim`. Panics on a bad dim; see [`Tensor::try_softmin`].
        ///
        /// ```
        /// let y = ferrograd::Tensor::new([0.0, 0.0]).softmin(0);
        /// assert_eq!(y.to_vec::<f32>(), vec![0.5, 0.5]);
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_softmin(1).is_err());
        /// ```
        pub fn softmin / try_softmin(&self, dim: isize) -> Tensor {
            self.to_float().neg().try_softmax(dim)
        }

        /// The gated linear unit: `a * sigmoid(b)` for the halves `a`, `b` of `dim`. Panics
        /// unless that dimension has even size; see [`Tensor::try_glu`].
        ///
        /// ```
        /// let y = ferrograd::Tensor::new([[2.0, 0.0]]).glu(-1);
        /// assert_eq!(y.to_vec::<f32>(), vec![1.0]);
        /// let e = ferrograd::Tensor::zeros(&[2, 3]).try_glu(1).unwrap_err();
        /// assert_eq!(e.to_string(), "glu: Halving dimension must be even, but dimension 1 is size 3");
        /// ```
        pub fn glu / try_glu(&self, dim: isize = -1) -> Tensor {
            super::named(glu(self, dim), "GluBackward0")
        }

        /// `x` where `x > 0`, `weight * x` elsewhere; `weight` has one element or one per
        /// channel (dimension 1 of the input). Panics otherwise; see [`Tensor::try_prelu`].
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let y = Tensor::new([[-2.0, 3.0]]).prelu(&Tensor::new([0.25]));
        /// assert_eq!(y.to_vec::<f32>(), vec![-0.5, 3.0]);
        /// assert!(Tensor::zeros(&[1, 2]).try_prelu(&Tensor::zeros(&[3])).is_err());
        /// ```
        pub fn prelu / try_prelu(&self, weight: &Tensor) -> Tensor {
            prelu(self, weight)
        }
    }
}

fn glu(x: &Tensor, dim: isize) -> Result<Tensor> {
    if x.dim() == 0 {
        return Err(Error::invalid(
            "glu",
            "glu does not support scalars because halving size must be even",
        ));
    }
    let d = super::normalize_dim("glu", dim, x.dim())?;
    let n = x.shape()[d];
    if n % 2 != 0 {
        return Err(Error::invalid(
            "glu",
            format!("Halving dimension must be even, but dimension {d} is size {n}"),
        ));
    }
    let x = x.to_float();
    let a = x.try_narrow(d as isize, 0, n / 2)?;
    let b = x.try_narrow(d as isize, n / 2, n / 2)?;
    a.try_mul(&b.sigmoid())
}

fn prelu(x: &Tensor, w: &Tensor) -> Result<Tensor> {
    let channels = if x.dim() >= 2 { x.shape()[1] } else { 1 };
    let k = w.numel();
    if w.dim() > 1 || (k != 1 && k != channels) {
        return Err(Error::invalid(
            "prelu",
            format!(
                "Mismatch of parameter numbers and input channel size. Found parameter numbers = {k} and channel size = {channels}."
            ),
        ));
    }
    let wb = if k == 1 || x.dim() < 2 {
        w.try_reshape(&[])?
    } else {
        let mut shape = vec![1usize; x.dim() - 1];
        shape[0] = k;
        w.try_reshape(&shape)?
    };
    let neg = x.try_mul(&wb)?;
    Tensor::try_where_(&x.gt_scalar(0.0), x, &neg)
}
