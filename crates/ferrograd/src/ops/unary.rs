//! Elementwise unary primitives, declared as rows of one form ([`unary_ops!`]), and the
//! composites built from them (selu, gelu, silu, mish, logsigmoid, relu6, square, softplus),
//! which need no rule of their own.
//!
//! # The unary form
//!
//! One row declares everything about a primitive: the public method (its docs, parameters with
//! PyTorch's names and defaults, so it is also a registry row through `api!`), PyTorch's node
//! name, what the backward keeps, the forward on one element, the backward rule (written with
//! differentiable tensor ops, so every derivative order works), and any fast path. The JVP needs
//! no rule: a diagonal Jacobian is its own transpose, so [`unary`] applies the backward rule to
//! the tangent. Adding `logit` would be one row:
//!
//! ```text
//! unary_ops! {
//!     LOGIT_OPS;
//!     /// `log(x / (1 - x))`.
//!     ///
//!     /// ```
//!     /// assert_eq!(ferrograd::Tensor::new([0.5]).logit().to_vec::<f32>(), vec![0.0]);
//!     /// ```
//!     pub fn logit(&self) -> Logit("LogitBackward0", Input)
//!         |x| (x / (T::one() - x)).ln(),
//!         |x, g| g / &(x * &x.rsub_scalar(1.0));
//! }
//! ```
//!
//! and `LOGIT_OPS` one line in `ops::REGISTRY`. The parts of a row:
//! - `pub fn name(&self, param: f64 = default, ..)`: the method; scalar parameters (an
//!   exponent, a slope, bounds) become fields of the primitive and are in scope, by name, in
//!   both closures; `= default` is PyTorch's default, for the registry;
//! - `-> Struct("NodeBackward0", Saves)`: the primitive's type, PyTorch's node name and what
//!   the rule receives as its first argument ([`Saves`]: the input, the output, nothing (the
//!   rule gets the gradient there) or a scalar);
//! - `|x| ..`: the forward on one element, generic over `T: Float` (f32 and f64);
//! - `|saved, g| ..`: the gradient, from the saved tensor and the incoming gradient `g`;
//! - optional `, bulk Name`: a vectorised `f32` forward for large contiguous tensors
//!   ([`crate::kernels::fastmath::Bulk`]; inputs it does not cover take the exact function);
//! - optional `, ints(param) |a, s| ..`: an `int64` tensor with an integral scalar stays `int64`
//!   (PyTorch's promotion; integers cannot require grad, so nothing is recorded);
//! - optional `, int |a| ..`: the op on one `int64` element, for ops that keep an `int64`
//!   tensor `int64` (`neg`, `abs`, `sign`, the roundings), exactly; `int if (cond) |a| ..`
//!   when only some parameters do (`pow` by a natural number, `clamp` to integral bounds).

// `add`, `neg`, `eq`, ... are inherent methods taking references (the `std::ops` operators,
// in operators.rs, call them); their names are PyTorch's.
#![allow(clippy::should_implement_trait)]

use super::binary::{binary_ops, cos_backward, sigmoid_backward, sin_backward, tanh_backward};
use crate::dtype::Float;
use crate::tensor::Tensor;
use std::f64::consts::{LN_10, LN_2, PI};

/// Declares elementwise unary primitives, one row each: see the [module docs](self).
macro_rules! unary_ops {
    ($ops:ident; $(
        $(#[doc = $doc:expr])*
        pub fn $name:ident(&self $(, $p:ident : $t:ty $(= $d:expr)?)*)
            -> $op:ident($node:literal, $saves:ident)
            |$x:ident| $f:expr,
            |$s:pat_param, $g:pat_param| $df:expr
            $(, bulk $bulk:ident)?
            $(, ints($ip:ident) |$ia:ident, $is:ident| $ie:expr)?
            $(, int $(if ($jc:expr))? |$ja:ident| $je:expr)?;
    )*) => {
        $(
            #[doc = concat!("The primitive of [`Tensor::", stringify!($name), "`] (`", $node, "`).")]
            #[derive(Clone, Copy)]
            pub(crate) struct $op {
                $($p: $t,)*
            }
            impl $crate::ops::Unary for $op {
                const NAME: &'static str = $node;
                const SAVES: $crate::ops::Saves = $crate::ops::Saves::$saves;
                #[allow(unused_variables)]
                fn f<T: $crate::dtype::Float>(self, $x: T) -> T {
                    let Self { $($p,)* } = self;
                    $f
                }
                #[allow(unused_variables)]
                fn df(
                    self,
                    $s: &$crate::tensor::Tensor,
                    $g: &$crate::tensor::Tensor,
                ) -> $crate::tensor::Tensor {
                    let Self { $($p,)* } = self;
                    $df
                }
                $(
                    fn bulk_f32(self) -> Option<$crate::kernels::fastmath::Bulk> {
                        Some($crate::kernels::fastmath::Bulk::$bulk)
                    }
                )?
            }
        )*
        api! {
            $ops = impl Tensor {
                $(
                    $(#[doc = $doc])*
                    pub fn $name(&self $(, $p: $t $(= $d)?)*) -> Tensor {
                        $(
                            if let Some(t) = self.int_scalar_op($ip, |$ia, $is| $ie) {
                                return t;
                            }
                        )?
                        $(
                            if true $(&& $jc)? {
                                if let Some(t) = self.int_map(|$ja| $je) {
                                    return t;
                                }
                            }
                        )?
                        $crate::ops::unary($op { $($p,)* }, self)
                    }
                )*
            }
        }
    };
}

pub(crate) use unary_ops;

/// sin's (`cos` false) or cos's backward, `g * cos(x)` or `g * -sin(x)`: one fused node
/// ([`sin_backward`], [`cos_backward`]), except for a contiguous `f32` `x` of at least
/// `BULK_MIN` elements (or a batched one), whose vectorised bulk `cos`/`sin` is faster and
/// gives other bits: there the unfused form runs, so both give the unfused form's values.
fn trig_backward(x: &Tensor, g: &Tensor, cos: bool) -> Tensor {
    let bulk = x.is_batched()
        || (x.dtype() == crate::DType::F32
            && x.numel() >= crate::kernels::fastmath::BULK_MIN
            && x.is_contiguous());
    match (bulk || g.dtype() != x.dtype(), cos) {
        (false, false) => sin_backward(g, x),
        (false, true) => cos_backward(g, x),
        (true, false) => g * &x.cos(),
        (true, true) => g * &x.sin().neg(),
    }
}

/// PyTorch's `sign`, `(0 < x) - (x < 0)`: 0 at 0 (Rust's `signum` gives 1) and 0 at NaN (so
/// `abs`'s gradient at NaN is 0, as in PyTorch).
fn sign<T: Float>(x: T) -> T {
    if x > T::zero() {
        T::one()
    } else if x < T::zero() {
        -T::one()
    } else {
        T::zero()
    }
}

fn c<T: Float>(v: f64) -> T {
    T::from_f64(v)
}

/// `x^e` as PyTorch's CPU kernel computes it: the special exponents it takes, so results round
/// the same way.
fn pow_scalar<T: Float>(x: T, e: f64) -> T {
    match e {
        2.0 => x * x,
        3.0 => x * x * x,
        0.5 => x.sqrt(),
        -0.5 => x.sqrt().recip(),
        -1.0 => x.recip(),
        -2.0 => (x * x).recip(),
        e => x.powf(T::from_f64(e)),
    }
}

/// Whether `s` is an integer an `i64` holds.
fn integral(s: f64) -> bool {
    s.fract() == 0.0 && s.abs() <= i64::MAX as f64
}

/// `a^e` in `i64`, wrapping on overflow (PyTorch's integer `pow`).
fn int_pow(a: i64, e: u64) -> i64 {
    let (mut base, mut e, mut acc) = (a, e, 1i64);
    while e > 0 {
        if e & 1 == 1 {
            acc = acc.wrapping_mul(base);
        }
        base = base.wrapping_mul(base);
        e >>= 1;
    }
    acc
}

/// `base^e` in `i64` for any integer exponent: a negative one gives the integer part of
/// `1 / base^|e|` (0 unless `base` is 1 or -1), as PyTorch's integer `pow` does.
pub(crate) fn int_pow_signed(base: i64, e: i64) -> i64 {
    match (e < 0, base) {
        (false, _) => int_pow(base, e as u64),
        (true, 1) => 1,
        (true, -1) => {
            if e % 2 == 0 {
                1
            } else {
                -1
            }
        }
        (true, _) => 0,
    }
}

fn clamp_value<T: Float>(v: T, min: Option<f64>, max: Option<f64>) -> T {
    let mut v = v;
    if let Some(lo) = min {
        if v < T::from_f64(lo) {
            v = T::from_f64(lo);
        }
    }
    if let Some(hi) = max {
        if v > T::from_f64(hi) {
            v = T::from_f64(hi);
        }
    }
    v
}

/// The gradient of `clamp(x, min, max)`: `grad` strictly inside the bounds, 0 at a bound,
/// outside and at NaN (PyTorch's convention).
fn clamp_backward(g: &Tensor, x: &Tensor, min: Option<f64>, max: Option<f64>) -> Tensor {
    let slope = Slope::Clamp(
        min.unwrap_or(f64::NEG_INFINITY),
        max.unwrap_or(f64::INFINITY),
    );
    slope_backward(slope, g, x)
}

/// softplus's forward: `log(1 + exp(beta x)) / beta`, linear above `threshold`.
fn softplus<T: Float>(x: T, beta: f64, threshold: f64) -> T {
    let z = x * c::<T>(beta);
    if z > c(threshold) {
        x
    } else {
        z.exp().ln_1p() / c(beta)
    }
}

/// softplus's backward. PyTorch: `beta x > threshold ? grad : grad * sigmoid(beta x)`, and a
/// second derivative only where `beta x < threshold` (0 at `beta x == threshold`): the sigmoid
/// reads `beta x` through a clamp at the threshold, whose gradient is 0 at the bound.
fn softplus_backward(x: &Tensor, g: &Tensor, beta: f64, threshold: f64) -> Tensor {
    let z = x.mul_scalar(beta);
    let zc = z.clamp(None, Some(threshold));
    g * &zc.sigmoid().masked_fill(&z.gt_scalar(threshold), 1.0)
}

/// elu's backward. PyTorch: `x <= 0 ? grad * alpha * exp(x) : grad` (so `alpha` at 0 and 1 at
/// NaN), and a second derivative `alpha * exp(x)` only where `x < 0` (0 at the kink and at
/// NaN): the exponential reads `x` through `where(x < 0, x, 0)`, whose gradient is 0 at 0.
fn elu_backward(x: &Tensor, g: &Tensor, alpha: f64) -> Tensor {
    let neg = x.lt_scalar(0.0);
    let xn = Tensor::where_(&neg, x, &x.zeros_like());
    Tensor::where_(&x.le_scalar(0.0), &(g * &xn.exp().mul_scalar(alpha)), g)
}

/// `base ^ x`'s backward. PyTorch: grad * where(base == 0 & x >= 0, 0, base^x * ln(base)).
fn rpow_backward(x: &Tensor, g: &Tensor, base: f64) -> Tensor {
    let d = x.rpow(base).mul_scalar(base.ln());
    let d = if base == 0.0 {
        d.masked_fill(&x.ge_scalar(0.0), 0.0)
    } else {
        d
    };
    g * &d
}

unary_ops! {
    UNARY_OPS;

    // ---- arithmetic with a number, powers, exp, trigonometric functions

    /// `-self`.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([1.0, -2.0]).neg().to_vec::<f32>(), vec![-1.0, 2.0]);
    /// ```
    pub fn neg(&self) -> Neg("NegBackward0", Nothing)
        |x| -x,
        |_, g| g.neg(),
        int |a| a.wrapping_neg();

    /// `self + s` for a number `s`, keeping `self`'s dtype.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([1.0]).add_scalar(2.0).to_vec::<f32>(), vec![3.0]);
    /// ```
    pub fn add_scalar(&self, other: f64) -> AddScalar("AddBackward0", Nothing)
        |x| x + T::from_f64(other),
        |_, g| g.clone(),
        ints(other) |a, s| a + s;

    /// `self - s` for a number `s`.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([1.0]).sub_scalar(2.0).to_vec::<f32>(), vec![-1.0]);
    /// ```
    pub fn sub_scalar(&self, other: f64) -> SubScalar("SubBackward0", Nothing)
        |x| x - T::from_f64(other),
        |_, g| g.clone(),
        ints(other) |a, s| a - s;

    /// `s - self` for a number `s`.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([1.0]).rsub_scalar(2.0).to_vec::<f32>(), vec![1.0]);
    /// ```
    pub fn rsub_scalar(&self, other: f64) -> RSubScalar("RsubBackward1", Nothing)
        |x| T::from_f64(other) - x,
        |_, g| g.neg(),
        ints(other) |a, s| s - a;

    /// `self * s` for a number `s`.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([1.5]).mul_scalar(2.0).to_vec::<f32>(), vec![3.0]);
    /// ```
    pub fn mul_scalar(&self, other: f64) -> MulScalar("MulBackward0", Scalar)
        |x| x * T::from_f64(other),
        |_, g| g.mul_scalar(other),
        ints(other) |a, s| a * s;

    /// `self / s` for a number `s`.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([3.0]).div_scalar(2.0).to_vec::<f32>(), vec![1.5]);
    /// ```
    pub fn div_scalar(&self, other: f64) -> DivScalar("DivBackward0", Scalar)
        |x| x / T::from_f64(other),
        |_, g| g.div_scalar(other);

    /// `1 / self`.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([4.0]).reciprocal().to_vec::<f32>(), vec![0.25]);
    /// ```
    pub fn reciprocal(&self) -> Reciprocal("ReciprocalBackward0", Output)
        |x| x.recip(),
        // PyTorch: -grad * (result * result)
        |y, g| &g.neg() * &(y * y);

    /// `self ^ exponent` elementwise, for a number `exponent` (`x**2`).
    ///
    /// ```
    /// let x = ferrograd::Tensor::scalar(5.0).requires_grad_(true);
    /// let y = x.pow(2.0);
    /// assert_eq!(y.to_string(), "tensor(25., grad_fn=<PowBackward0>)");
    /// ```
    pub fn pow(&self, exponent: f64) -> PowScalar("PowBackward0", Input)
        |x| pow_scalar(x, exponent),
        // PyTorch: zeros for exponent 0, else grad * (e * x^(e-1)).
        |x, g| if exponent == 0.0 {
            g.zeros_like()
        } else {
            g * &x.pow(exponent - 1.0).mul_scalar(exponent)
        },
        int if (exponent >= 0.0 && exponent.fract() == 0.0) |a| int_pow(a, exponent as u64);

    /// `base ^ self` for a number `base` (`torch.pow(2, x)`).
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([3.0]).rpow(2.0).to_vec::<f32>(), vec![8.0]);
    /// ```
    pub fn rpow(&self, base: f64) -> PowBase("PowBackward2", Input)
        |x| c::<T>(base).powf(x),
        |x, g| rpow_backward(x, g, base),
        int if (integral(base)) |a| int_pow_signed(base as i64, a);

    /// Square root, elementwise.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([9.0]).sqrt().to_vec::<f32>(), vec![3.0]);
    /// ```
    pub fn sqrt(&self) -> Sqrt("SqrtBackward0", Output)
        |x| x.sqrt(),
        |y, g| g / &y.mul_scalar(2.0);

    /// `1 / sqrt(x)`.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([4.0]).rsqrt().to_vec::<f32>(), vec![0.5]);
    /// ```
    pub fn rsqrt(&self) -> Rsqrt("RsqrtBackward0", Output)
        |x| x.sqrt().recip(),
        |y, g| &g.mul_scalar(-0.5) * &y.pow(3.0);

    /// `e^self` elementwise.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).exp().to_vec::<f32>(), vec![1.0]);
    /// ```
    pub fn exp(&self) -> Exp("ExpBackward0", Output)
        |x| x.exp(),
        |y, g| g * y,
        bulk Exp;

    /// `2^x`.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([3.0]).exp2().to_vec::<f32>(), vec![8.0]);
    /// ```
    pub fn exp2(&self) -> Exp2("Exp2Backward0", Output)
        |x| x.exp2(),
        |y, g| g * &y.mul_scalar(LN_2);

    /// `e^x - 1`, accurate near 0.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).expm1().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn expm1(&self) -> Expm1("Expm1Backward0", Output)
        |x| x.exp_m1(),
        |y, g| g * &y.add_scalar(1.0);

    /// Natural logarithm.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([1.0]).log().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn log(&self) -> Log("LogBackward0", Input)
        |x| x.ln(),
        |x, g| g / x;

    /// Base-2 logarithm.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([8.0]).log2().to_vec::<f32>(), vec![3.0]);
    /// ```
    pub fn log2(&self) -> Log2("Log2Backward0", Input)
        |x| x.log2(),
        |x, g| g / &x.mul_scalar(LN_2);

    /// Base-10 logarithm.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([100.0]).log10().to_vec::<f32>(), vec![2.0]);
    /// ```
    pub fn log10(&self) -> Log10("Log10Backward0", Input)
        |x| x.log10(),
        |x, g| g / &x.mul_scalar(LN_10);

    /// `ln(1 + x)`, accurate near 0.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).log1p().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn log1p(&self) -> Log1p("Log1PBackward0", Input)
        |x| x.ln_1p(),
        |x, g| g / &x.add_scalar(1.0);

    /// Sine, elementwise.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).sin().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn sin(&self) -> Sin("SinBackward0", Input)
        |x| x.sin(),
        |x, g| trig_backward(x, g, false),
        bulk Sin;

    /// Cosine, elementwise.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).cos().to_vec::<f32>(), vec![1.0]);
    /// ```
    pub fn cos(&self) -> Cos("CosBackward0", Input)
        |x| x.cos(),
        |x, g| trig_backward(x, g, true),
        bulk Cos;

    /// Tangent.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).tan().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn tan(&self) -> Tan("TanBackward0", Output)
        |x| x.tan(),
        |y, g| g * &y.pow(2.0).add_scalar(1.0);

    /// Arcsine.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).asin().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn asin(&self) -> Asin("AsinBackward0", Input)
        |x| x.asin(),
        |x, g| g * &(-&(x * x)).add_scalar(1.0).rsqrt();

    /// Arccosine.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([1.0]).acos().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn acos(&self) -> Acos("AcosBackward0", Input)
        |x| x.acos(),
        |x, g| g * &(-&(x * x)).add_scalar(1.0).rsqrt().neg();

    /// Arctangent.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).atan().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn atan(&self) -> Atan("AtanBackward0", Input)
        |x| x.atan(),
        |x, g| g / &(x * x).add_scalar(1.0);

    /// Hyperbolic sine.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).sinh().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn sinh(&self) -> Sinh("SinhBackward0", Input)
        |x| x.sinh(),
        |x, g| g * &x.cosh();

    /// Hyperbolic cosine.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).cosh().to_vec::<f32>(), vec![1.0]);
    /// ```
    pub fn cosh(&self) -> Cosh("CoshBackward0", Input)
        |x| x.cosh(),
        |x, g| g * &x.sinh();

    /// Hyperbolic tangent, elementwise. Its derivative is the differentiable primitive
    /// `TanhBackwardBackward0`, so derivatives of every order work.
    ///
    /// ```
    /// let x = ferrograd::Tensor::scalar(2.0).requires_grad_(true);
    /// assert_eq!(x.tanh().to_string(), "tensor(0.9640, grad_fn=<TanhBackward0>)");
    /// ```
    pub fn tanh(&self) -> Tanh("TanhBackward0", Output)
        |x| x.tanh(),
        |y, g| tanh_backward(g, y),
        bulk Tanh;

    /// Inverse hyperbolic sine.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).asinh().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn asinh(&self) -> Asinh("AsinhBackward0", Input)
        |x| x.asinh(),
        |x, g| g * &x.pow(2.0).add_scalar(1.0).rsqrt();

    /// Inverse hyperbolic cosine (`x >= 1`).
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([1.0]).acosh().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn acosh(&self) -> Acosh("AcoshBackward0", Input)
        |x| x.acosh(),
        |x, g| g * &x.pow(2.0).sub_scalar(1.0).rsqrt();

    /// Inverse hyperbolic tangent (`|x| < 1`).
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).atanh().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn atanh(&self) -> Atanh("AtanhBackward0", Input)
        |x| x.atanh(),
        |x, g| g / &x.pow(2.0).rsub_scalar(1.0);

    /// The error function.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).erf().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn erf(&self) -> Erf("ErfBackward0", Input)
        |x| x.erf(),
        |x, g| &x.pow(2.0).neg().exp().mul_scalar(2.0 / PI.sqrt()) * g;

    /// `1 - erf(x)`, accurate for large `x`.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).erfc().to_vec::<f32>(), vec![1.0]);
    /// ```
    pub fn erfc(&self) -> Erfc("ErfcBackward0", Input)
        |x| x.erfc(),
        |x, g| &x.pow(2.0).neg().exp().mul_scalar(-2.0 / PI.sqrt()) * g;

    // ---- piecewise functions: |x|, sign, rounding, clamps and activations

    /// `|x|` elementwise (gradient `sign(x)`, 0 at 0 as in PyTorch).
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([-2.0, 3.0]).abs().to_vec::<f32>(), vec![2.0, 3.0]);
    /// ```
    pub fn abs(&self) -> Abs("AbsBackward0", Input)
        |x| x.abs(),
        |x, g| g * &x.sign(),
        int |a| a.wrapping_abs();

    /// -1, 0 or 1 by sign, and 0 at NaN (as `torch.sign`); zero gradient.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([-2.0, 0.0, 3.0, f32::NAN]).sign().to_vec::<f32>(), vec![-1.0, 0.0, 1.0, 0.0]);
    /// ```
    pub fn sign(&self) -> Sign("SignBackward0", Input)
        |x| sign(x),
        |x, g| zero_backward(g, x),
        int |a| a.signum();

    /// Rounds down; zero gradient.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([-1.5, 1.5]).floor().to_vec::<f32>(), vec![-2.0, 1.0]);
    /// ```
    pub fn floor(&self) -> Floor("FloorBackward0", Input)
        |x| x.floor(),
        |x, g| zero_backward(g, x),
        int |a| a;

    /// Rounds up; zero gradient.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([-1.5, 1.5]).ceil().to_vec::<f32>(), vec![-1.0, 2.0]);
    /// ```
    pub fn ceil(&self) -> Ceil("CeilBackward0", Input)
        |x| x.ceil(),
        |x, g| zero_backward(g, x),
        int |a| a;

    /// Rounds to nearest, ties to even (like `torch.round`); zero gradient.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.5, 1.5, 2.5]).round().to_vec::<f32>(), vec![0.0, 2.0, 2.0]);
    /// ```
    pub fn round(&self) -> Round("RoundBackward0", Input)
        |x| T::from_f64(x.to_f64().round_ties_even()),
        |x, g| zero_backward(g, x),
        int |a| a;

    /// Rounds toward zero; zero gradient.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([-1.7, 1.7]).trunc().to_vec::<f32>(), vec![-1.0, 1.0]);
    /// ```
    pub fn trunc(&self) -> Trunc("TruncBackward0", Input)
        |x| x.trunc(),
        |x, g| zero_backward(g, x),
        int |a| a;

    /// `x` clamped to `[min, max]` (either bound optional; NaN stays NaN). The gradient passes
    /// strictly inside, where `min < x < max`: it is 0 at either bound and at NaN, as in
    /// PyTorch 2.x. The derivative is itself differentiable (zero), to every order.
    ///
    /// ```
    /// let x = ferrograd::Tensor::new([-2.0, 0.5, 3.0]);
    /// assert_eq!(x.clamp(Some(-1.0), Some(1.0)).to_vec::<f32>(), vec![-1.0, 0.5, 1.0]);
    /// assert_eq!(x.clamp(None, Some(0.0)).to_vec::<f32>(), vec![-2.0, 0.0, 0.0]);
    /// ```
    pub fn clamp(&self, min: Option<f64> = None, max: Option<f64> = None)
        -> Clamp("ClampBackward1", Input)
        |x| clamp_value(x, min, max),
        |x, g| clamp_backward(g, x, min, max),
        int if (min.is_none_or(integral) && max.is_none_or(integral)) |a| {
            let a = min.map_or(a, |lo| a.max(lo as i64));
            max.map_or(a, |hi| a.min(hi as i64))
        };

    /// `1 / (1 + e^-x)`, computed without overflow for large `|x|`.
    ///
    /// ```
    /// let y = ferrograd::Tensor::new([0.0, -1000.0]).sigmoid();
    /// assert_eq!(y.to_vec::<f32>(), vec![0.5, 0.0]);
    /// ```
    pub fn sigmoid(&self) -> Sigmoid("SigmoidBackward0", Output)
        |x| if x >= T::zero() {
            (T::one() + (-x).exp()).recip()
        } else {
            let e = x.exp();
            e / (T::one() + e)
        },
        |y, g| sigmoid_backward(g, y);

    /// `log(1 + e^(beta x)) / beta`, and `x` where `beta x > threshold`.
    ///
    /// ```
    /// let y = ferrograd::Tensor::new([0.0]).softplus_with(2.0, 20.0);
    /// assert_eq!(y.to_vec::<f32>(), vec![2f32.ln() / 2.0]);
    /// ```
    pub fn softplus_with(&self, beta: f64 = 1.0, threshold: f64 = 20.0)
        -> Softplus("SoftplusBackward0", Input)
        |x| softplus(x, beta, threshold),
        |x, g| softplus_backward(x, g, beta, threshold);

    /// `max(x, 0)` (gradient 0 at 0, as PyTorch).
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([-1.0, 2.0]).relu().to_vec::<f32>(), vec![0.0, 2.0]);
    /// ```
    pub fn relu(&self) -> Relu("ReluBackward0", Output)
        |x| if x > T::zero() || x.is_nan() { x } else { T::zero() },
        |y, g| slope_backward(Slope::Relu, g, y),
        int |a| a.max(0);

    /// `x` clamped to `[min_val, max_val]`, gradient 0 outside the open interval (PyTorch's
    /// `hardtanh`; relu6 is `hardtanh(0, 6)`).
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([-2.0, 0.5]).hardtanh(-1.0, 1.0).to_vec::<f32>(), vec![-1.0, 0.5]);
    /// ```
    pub fn hardtanh(&self, min_val: f64 = -1.0, max_val: f64 = 1.0)
        -> Hardtanh("HardtanhBackward0", Input)
        |x| if x < c(min_val) {
            c(min_val)
        } else if x > c(max_val) {
            c(max_val)
        } else {
            x
        },
        |x, g| slope_backward(Slope::Hardtanh(min_val, max_val), g, x);

    /// `x` for `x > 0`, `negative_slope * x` otherwise.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([-2.0, 3.0]).leaky_relu(0.01).to_vec::<f32>(), vec![-0.02, 3.0]);
    /// ```
    pub fn leaky_relu(&self, negative_slope: f64 = 0.01)
        -> LeakyRelu("LeakyReluBackward0", Input)
        |x| if x > T::zero() { x } else { x * c(negative_slope) },
        |x, g| slope_backward(Slope::Leaky(negative_slope), g, x);

    /// `x` for `x > 0`, `alpha (e^x - 1)` otherwise.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0, 2.0]).elu(1.0).to_vec::<f32>(), vec![0.0, 2.0]);
    /// ```
    pub fn elu(&self, alpha: f64 = 1.0) -> Elu("EluBackward0", Input)
        |x| if x > T::zero() { x } else { x.exp_m1() * c(alpha) },
        |x, g| elu_backward(x, g, alpha);
}

const SELU_ALPHA: f64 = 1.6732632423543772848170429916717;
const SELU_SCALE: f64 = 1.0507009873554804934193349852946;

api! {
    ACTIVATION_OPS = impl Tensor {
        /// `x^2` (PyTorch's `square` is `pow(x, 2)`: `PowBackward0`).
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::new([-3.0]).square().to_vec::<f32>(), vec![9.0]);
        /// ```
        pub fn square(&self) -> Tensor {
            self.pow(2.0)
        }

        /// `log(sigmoid(x))`, stable for large `|x|` (`-softplus(-x)`).
        ///
        /// ```
        /// let y = ferrograd::Tensor::new([-1000.0]).logsigmoid();
        /// assert_eq!(y.to_vec::<f32>(), vec![-1000.0]);
        /// ```
        pub fn logsigmoid(&self) -> Tensor {
            crate::autograd::relabel(self.neg().softplus().neg(), "LogSigmoidBackward0")
        }

        /// `log(1 + e^x)` (beta 1, threshold 20, as PyTorch's default softplus).
        ///
        /// ```
        /// let y = ferrograd::Tensor::new([0.0, 100.0]).softplus();
        /// assert_eq!(y.to_vec::<f32>(), vec![2f32.ln(), 100.0]);
        /// ```
        pub fn softplus(&self) -> Tensor {
            self.softplus_with(1.0, 20.0)
        }

        /// `min(max(x, 0), 6)`.
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::new([-1.0, 7.0]).relu6().to_vec::<f32>(), vec![0.0, 6.0]);
        /// ```
        pub fn relu6(&self) -> Tensor {
            self.hardtanh(0.0, 6.0)
        }

        /// Scaled ELU with the self-normalizing constants.
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::new([0.0]).selu().to_vec::<f32>(), vec![0.0]);
        /// ```
        pub fn selu(&self) -> Tensor {
            crate::autograd::relabel(self.elu(SELU_ALPHA).mul_scalar(SELU_SCALE), "EluBackward0")
        }

        /// Gaussian error linear unit, exact: `x * Phi(x) = x/2 (1 + erf(x / sqrt 2))`.
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::new([0.0]).gelu().to_vec::<f32>(), vec![0.0]);
        /// ```
        pub fn gelu(&self) -> Tensor {
            crate::autograd::relabel(gelu(self), "GeluBackward0")
        }

        /// GELU with PyTorch's `approximate="tanh"`:
        /// `x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::new([0.0]).gelu_tanh().to_vec::<f32>(), vec![0.0]);
        /// ```
        pub fn gelu_tanh(&self) -> Tensor {
            gelu_tanh(self)
        }

        /// `x * sigmoid(x)` (swish).
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::new([0.0]).silu().to_vec::<f32>(), vec![0.0]);
        /// ```
        pub fn silu(&self) -> Tensor {
            crate::autograd::relabel(self * &self.sigmoid(), "SiluBackward0")
        }

        /// `x * tanh(softplus(x))`.
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::new([0.0]).mish().to_vec::<f32>(), vec![0.0]);
        /// ```
        pub fn mish(&self) -> Tensor {
            crate::autograd::relabel(self * &self.softplus().tanh(), "MishBackward0")
        }
    }
}

fn gelu(x: &Tensor) -> Tensor {
    &x.mul_scalar(0.5)
        * &x.mul_scalar(std::f64::consts::FRAC_1_SQRT_2)
            .erf()
            .add_scalar(1.0)
}

fn gelu_tanh(x: &Tensor) -> Tensor {
    let inner = (x + &x.pow(3.0).mul_scalar(0.044715)).mul_scalar((2.0 / PI).sqrt());
    &x.mul_scalar(0.5) * &inner.tanh().add_scalar(1.0)
}

impl Tensor {
    /// `f` on each element of an `int64` tensor, as an `int64` tensor (`None` otherwise).
    fn int_map(&self, f: impl Fn(i64) -> i64) -> Option<Tensor> {
        if self.dtype() != crate::DType::I64 || self.is_batched() {
            return None;
        }
        Some(self.ints_of(f))
    }

    /// `f` on each element of this `int64` tensor, as a new `int64` tensor of its shape.
    fn ints_of(&self, f: impl Fn(i64) -> i64) -> Tensor {
        let v: Vec<i64> = self.to_vec::<i64>().into_iter().map(f).collect();
        let n = v.len();
        Tensor::from_buffer(
            crate::storage::Buffer::I64(crate::storage::collect(n, v.into_iter())),
            self.shape(),
        )
    }

    /// An int64 tensor with an integral number stays int64 (PyTorch's promotion); integers can
    /// not require grad, so nothing is recorded.
    fn int_scalar_op(&self, s: f64, f: impl Fn(i64, i64) -> i64) -> Option<Tensor> {
        if self.dtype() != crate::DType::I64 || self.is_batched() || !integral(s) {
            return None;
        }
        let s = s as i64;
        Some(self.ints_of(|a| f(a, s)))
    }
}

// ------------------------------------------------------------------ piecewise-linear backward

/// The slope of a piecewise-linear function on each of its pieces, as its backward uses it
/// (PyTorch's conventions at the kinks and at NaN, each noted).
#[derive(Clone, Copy)]
pub(crate) enum Slope {
    /// relu from its output `y`: 0 where `y <= 0` (so 0 at the kink), 1 elsewhere, NaN included
    /// (`threshold_backward`).
    Relu,
    /// leaky_relu: 1 where `x > 0`, the negative slope elsewhere (at 0 and NaN too).
    Leaky(f64),
    /// hardtanh: 0 where `x <= min` or `x >= max` (the bounds included), 1 elsewhere, NaN
    /// included.
    Hardtanh(f64, f64),
    /// A step function (sign, floor, round, ...): 0 everywhere, NaN included.
    Zero,
    /// clamp: 1 strictly inside `(min, max)` and 0 elsewhere: at either bound and at NaN (an
    /// absent bound is infinite).
    Clamp(f64, f64),
}

impl Slope {
    fn at<T: Float>(self, x: T) -> T {
        let inside = match self {
            Slope::Relu => x > T::zero() || x.is_nan(),
            Slope::Leaky(s) => return if x > T::zero() { T::one() } else { c(s) },
            Slope::Hardtanh(lo, hi) => x.is_nan() || (x > c(lo) && x < c(hi)),
            Slope::Clamp(lo, hi) => x > c(lo) && x < c(hi),
            Slope::Zero => false,
        };
        if inside {
            T::one()
        } else {
            T::zero()
        }
    }
}

/// `grad * slope(x)`, the backward of a piecewise-linear op, on one element: a zero slope gives
/// an exact 0 (not 0 * inf = NaN), as a masked fill would.
fn slope_times<T: Float>(slope: Slope, g: T, x: T) -> T {
    let k = slope.at(x);
    if k == T::zero() {
        T::zero()
    } else {
        g * k
    }
}

/// The gradients of `grad * slope(x)` for `[grad, x]`: the same slope for `grad`, and a zero
/// recorded against `x` (again through the slope primitive), so under `create_graph`
/// derivatives of every order are zeros, not "does not require grad" errors.
fn slope_grads(slope: Slope, x: Option<&Tensor>, g: &Tensor, n: [bool; 2]) -> [Option<Tensor>; 2] {
    let x = x.expect("slope_backward saves x");
    [
        n[0].then(|| slope_backward(slope, g, x)),
        n[1].then(|| slope_backward(slope, &g.zeros_like(), x)),
    ]
}

// `grad * slope(x)`: the backward of each piecewise-linear op, itself a differentiable
// primitive named as PyTorch names it. Inputs: `[grad, x]`.
binary_ops! {
    internal;

    /// relu's backward (`ThresholdBackwardBackward0` when differentiated).
    fn threshold_backward(g, x, slope: Slope)
        -> ThresholdBackward("ThresholdBackwardBackward0", "slope_backward")
        saves |_| [false, true],
        |g, x| slope_times(slope, g, x),
        |_, x, g, n| slope_grads(slope, x, g, n);

    /// leaky_relu's backward.
    fn leaky_relu_backward(g, x, slope: Slope)
        -> LeakyReluBackward("LeakyReluBackwardBackward0", "slope_backward")
        saves |_| [false, true],
        |g, x| slope_times(slope, g, x),
        |_, x, g, n| slope_grads(slope, x, g, n);

    /// hardtanh's backward.
    fn hardtanh_backward(g, x, slope: Slope)
        -> HardtanhBackward("HardtanhBackwardBackward0", "slope_backward")
        saves |_| [false, true],
        |g, x| slope_times(slope, g, x),
        |_, x, g, n| slope_grads(slope, x, g, n);

    /// clamp's backward: PyTorch's is a `where` (recorded when the gradient requires grad).
    fn clamp_slope_backward(g, x, slope: Slope)
        -> ClampBackward("WhereBackward0", "slope_backward")
        saves |_| [false, true],
        |g, x| slope_times(slope, g, x),
        |_, x, g, n| slope_grads(slope, x, g, n);

    /// A step function's backward: PyTorch's is an unrecorded `zeros_like`.
    fn step_backward(g, x, slope: Slope)
        -> StepBackward("ZerosLikeBackward0", "slope_backward")
        saves |_| [false, true],
        |g, x| slope_times(slope, g, x),
        |_, x, g, n| slope_grads(slope, x, g, n);
}

/// `grad * slope(x)` through the slope's primitive, named as PyTorch names the node.
pub(crate) fn slope_backward(slope: Slope, g: &Tensor, x: &Tensor) -> Tensor {
    match slope {
        Slope::Relu => threshold_backward(g, x, slope),
        Slope::Leaky(_) => leaky_relu_backward(g, x, slope),
        Slope::Hardtanh(..) => hardtanh_backward(g, x, slope),
        Slope::Clamp(..) => clamp_slope_backward(g, x, slope),
        Slope::Zero => step_backward(g, x, slope),
    }
}

/// The zero gradient of a step function, recorded against `x` so that its derivatives (zeros)
/// exist to every order under `create_graph` (as `abs`'s second derivative goes through `sign`).
pub(crate) fn zero_backward(g: &Tensor, x: &Tensor) -> Tensor {
    slope_backward(Slope::Zero, g, x)
}
