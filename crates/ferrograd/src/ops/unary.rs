//! Elementwise unary primitives beyond the core set (logs, inverse trig, hyperbolics, erf,
//! rounding) and the activation functions. Composites (selu, gelu, silu, mish, logsigmoid,
//! relu6, square) are built from primitives and need no rule of their own.

use super::{binary, unary, Binary, Saves, Unary};
use crate::dtype::Float;
use crate::tensor::Tensor;
use std::f64::consts::{LN_10, LN_2, PI};

/// Declares a unary primitive: its struct, PyTorch node name, what it saves, forward `f` and
/// backward `df` (the gradient written with differentiable tensor ops).
macro_rules! unary_op {
    ($(#[$doc:meta])* $name:ident, $node:literal, $saves:ident,
     |$x:ident| $f:expr, |$s:ident, $g:ident| $df:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy)]
        pub(crate) struct $name;
        impl Unary for $name {
            const NAME: &'static str = $node;
            const SAVES: Saves = Saves::$saves;
            fn f<T: Float>(self, $x: T) -> T {
                $f
            }
            #[allow(unused_variables)]
            fn df(self, $s: &Tensor, $g: &Tensor) -> Tensor {
                $df
            }
        }
    };
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

unary_op!(Abs, "AbsBackward0", Input, |x| x.abs(), |x, g| g * &x
    .sign());
unary_op!(Sign, "SignBackward0", Input, |x| sign(x), |x, g| {
    zero_backward(g, x)
});
unary_op!(Floor, "FloorBackward0", Input, |x| x.floor(), |x, g| {
    zero_backward(g, x)
});
unary_op!(Ceil, "CeilBackward0", Input, |x| x.ceil(), |x, g| {
    zero_backward(g, x)
});
unary_op!(
    Round,
    "RoundBackward0",
    Input,
    |x| T::from_f64(x.to_f64().round_ties_even()),
    |x, g| zero_backward(g, x)
);
unary_op!(Trunc, "TruncBackward0", Input, |x| x.trunc(), |x, g| {
    zero_backward(g, x)
});
unary_op!(Exp2, "Exp2Backward0", Output, |x| x.exp2(), |y, g| g * &y
    .mul_scalar(LN_2));
unary_op!(Expm1, "Expm1Backward0", Output, |x| x.exp_m1(), |y, g| g
    * &y.add_scalar(1.0));
unary_op!(Log, "LogBackward0", Input, |x| x.ln(), |x, g| g / x);
unary_op!(Log2, "Log2Backward0", Input, |x| x.log2(), |x, g| g / &x
    .mul_scalar(LN_2));
unary_op!(Log10, "Log10Backward0", Input, |x| x.log10(), |x, g| g / &x
    .mul_scalar(LN_10));
unary_op!(Log1p, "Log1PBackward0", Input, |x| x.ln_1p(), |x, g| g / &x
    .add_scalar(1.0));
unary_op!(
    Rsqrt,
    "RsqrtBackward0",
    Output,
    |x| x.sqrt().recip(),
    |y, g| &g.mul_scalar(-0.5) * &y.pow(3.0)
);
unary_op!(Tan, "TanBackward0", Output, |x| x.tan(), |y, g| g * &y
    .pow(2.0)
    .add_scalar(1.0));
unary_op!(Asin, "AsinBackward0", Input, |x| x.asin(), |x, g| g
    * &(-&(x * x)).add_scalar(1.0).rsqrt());
unary_op!(Acos, "AcosBackward0", Input, |x| x.acos(), |x, g| g
    * &(-&(x * x)).add_scalar(1.0).rsqrt().neg());
unary_op!(Atan, "AtanBackward0", Input, |x| x.atan(), |x, g| g / &(x
    * x)
    .add_scalar(1.0));
unary_op!(Sinh, "SinhBackward0", Input, |x| x.sinh(), |x, g| g * &x
    .cosh());
unary_op!(Cosh, "CoshBackward0", Input, |x| x.cosh(), |x, g| g * &x
    .sinh());
unary_op!(Asinh, "AsinhBackward0", Input, |x| x.asinh(), |x, g| g * &x
    .pow(2.0)
    .add_scalar(1.0)
    .rsqrt());
unary_op!(Acosh, "AcoshBackward0", Input, |x| x.acosh(), |x, g| g * &x
    .pow(2.0)
    .sub_scalar(1.0)
    .rsqrt());
unary_op!(Atanh, "AtanhBackward0", Input, |x| x.atanh(), |x, g| g / &x
    .pow(2.0)
    .rsub_scalar(1.0));
unary_op!(Erf, "ErfBackward0", Input, |x| x.erf(), |x, g| &x
    .pow(2.0)
    .neg()
    .exp()
    .mul_scalar(2.0 / PI.sqrt())
    * g);
unary_op!(Erfc, "ErfcBackward0", Input, |x| x.erfc(), |x, g| &x
    .pow(2.0)
    .neg()
    .exp()
    .mul_scalar(-2.0 / PI.sqrt())
    * g);
unary_op!(
    Sigmoid,
    "SigmoidBackward0",
    Output,
    |x| if x >= T::zero() {
        (T::one() + (-x).exp()).recip()
    } else {
        let e = x.exp();
        e / (T::one() + e)
    },
    |y, g| sigmoid_backward(g, y)
);
unary_op!(
    Relu,
    "ReluBackward0",
    Output,
    |x| if x > T::zero() || x.is_nan() {
        x
    } else {
        T::zero()
    },
    |y, g| slope_backward(Slope::Relu, g, y)
);

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

/// `grad * slope(x)`: the backward of a piecewise-linear op, itself a differentiable primitive
/// (as PyTorch's `ThresholdBackwardBackward0`, `HardtanhBackwardBackward0`, ...; `K` picks the
/// node's name). Its derivative in `x` is zero, but recorded against `x` (again through this
/// primitive, with a zero gradient), so under `create_graph` derivatives of every order are
/// zeros, not "does not require grad" errors. Inputs: `[grad, x]`.
#[derive(Clone, Copy)]
pub(crate) struct SlopeBackward<const K: u8>(Slope);
impl<const K: u8> Binary for SlopeBackward<K> {
    const NAME: &'static str = match K {
        0 => "ThresholdBackwardBackward0",
        1 => "LeakyReluBackwardBackward0",
        2 => "HardtanhBackwardBackward0",
        // PyTorch's clamp backward is a `where` (recorded when the gradient requires grad).
        3 => "WhereBackward0",
        // PyTorch's derivative of a step function is an unrecorded `zeros_like`.
        _ => "ZerosLikeBackward0",
    };
    const OP: &'static str = "slope_backward";
    fn f<T: Float>(self, g: T, x: T) -> T {
        let k = self.0.at(x);
        // A zero slope gives an exact 0 (not 0 * inf = NaN), as a masked fill would.
        if k == T::zero() {
            T::zero()
        } else {
            g * k
        }
    }
    fn saves(_: [bool; 2]) -> [bool; 2] {
        [false, true]
    }
    fn df(
        self,
        _: Option<&Tensor>,
        x: Option<&Tensor>,
        g: &Tensor,
        n: [bool; 2],
    ) -> [Option<Tensor>; 2] {
        let x = x.expect("slope_backward saves x");
        [
            n[0].then(|| slope_backward(self.0, g, x)),
            n[1].then(|| slope_backward(self.0, &g.zeros_like(), x)),
        ]
    }
}

/// `grad * slope(x)` through [`SlopeBackward`], named as PyTorch names the node.
pub(crate) fn slope_backward(slope: Slope, g: &Tensor, x: &Tensor) -> Tensor {
    crate::unwrap(match slope {
        Slope::Relu => binary(SlopeBackward::<0>(slope), g, x),
        Slope::Leaky(_) => binary(SlopeBackward::<1>(slope), g, x),
        Slope::Hardtanh(..) => binary(SlopeBackward::<2>(slope), g, x),
        Slope::Clamp(..) => binary(SlopeBackward::<3>(slope), g, x),
        Slope::Zero => binary(SlopeBackward::<4>(slope), g, x),
    })
}

/// The zero gradient of a step function, recorded against `x` so that its derivatives (zeros)
/// exist to every order under `create_graph` (as `abs`'s second derivative goes through `sign`).
pub(crate) fn zero_backward(g: &Tensor, x: &Tensor) -> Tensor {
    slope_backward(Slope::Zero, g, x)
}

/// `grad * (1 - y) * y`: sigmoid's backward, a differentiable primitive (PyTorch's second
/// derivative of sigmoid runs `SigmoidBackwardBackward0`). Inputs: `[grad, y]`.
#[derive(Clone, Copy)]
pub(crate) struct SigmoidBackward;
impl Binary for SigmoidBackward {
    const NAME: &'static str = "SigmoidBackwardBackward0";
    const OP: &'static str = "sigmoid_backward";
    fn f<T: Float>(self, g: T, y: T) -> T {
        g * (T::one() - y) * y
    }
    fn saves(n: [bool; 2]) -> [bool; 2] {
        [n[1], true]
    }
    fn df(
        self,
        g0: Option<&Tensor>,
        y: Option<&Tensor>,
        g: &Tensor,
        n: [bool; 2],
    ) -> [Option<Tensor>; 2] {
        let y = y.expect("sigmoid_backward saves the output");
        [
            n[0].then(|| sigmoid_backward(g, y)),
            g0.filter(|_| n[1])
                .map(|g0| &(g * g0) * &y.mul_scalar(-2.0).add_scalar(1.0)),
        ]
    }
}

fn sigmoid_backward(g: &Tensor, y: &Tensor) -> Tensor {
    crate::unwrap(binary(SigmoidBackward, g, y))
}

/// `log(1 + exp(beta x)) / beta`, linear above `threshold` (PyTorch's softplus).
#[derive(Clone, Copy)]
pub(crate) struct Softplus {
    beta: f64,
    threshold: f64,
}
impl Unary for Softplus {
    const NAME: &'static str = "SoftplusBackward0";
    const SAVES: Saves = Saves::Input;
    fn f<T: Float>(self, x: T) -> T {
        let z = x * c::<T>(self.beta);
        if z > c(self.threshold) {
            x
        } else {
            z.exp().ln_1p() / c(self.beta)
        }
    }
    fn df(self, x: &Tensor, g: &Tensor) -> Tensor {
        // PyTorch: `beta x > threshold ? grad : grad * sigmoid(beta x)`, and a second
        // derivative only where `beta x < threshold` (0 at `beta x == threshold`): the sigmoid
        // reads `beta x` through a clamp at the threshold, whose gradient is 0 at the bound.
        let z = x.mul_scalar(self.beta);
        let zc = z.clamp(None, Some(self.threshold));
        g * &zc.sigmoid().masked_fill(&z.gt_scalar(self.threshold), 1.0)
    }
}

/// Clamp to `[min, max]` with zero gradient outside (and at) the bounds, as PyTorch's
/// `hardtanh` (relu6 is `hardtanh(0, 6)`).
#[derive(Clone, Copy)]
pub(crate) struct Hardtanh {
    min: f64,
    max: f64,
}
impl Unary for Hardtanh {
    const NAME: &'static str = "HardtanhBackward0";
    const SAVES: Saves = Saves::Input;
    fn f<T: Float>(self, x: T) -> T {
        if x < c(self.min) {
            c(self.min)
        } else if x > c(self.max) {
            c(self.max)
        } else {
            x
        }
    }
    fn df(self, x: &Tensor, g: &Tensor) -> Tensor {
        slope_backward(Slope::Hardtanh(self.min, self.max), g, x)
    }
}

/// `x` for `x > 0`, `slope * x` otherwise.
#[derive(Clone, Copy)]
pub(crate) struct LeakyRelu(f64);
impl Unary for LeakyRelu {
    const NAME: &'static str = "LeakyReluBackward0";
    const SAVES: Saves = Saves::Input;
    fn f<T: Float>(self, x: T) -> T {
        if x > T::zero() {
            x
        } else {
            x * c(self.0)
        }
    }
    fn df(self, x: &Tensor, g: &Tensor) -> Tensor {
        slope_backward(Slope::Leaky(self.0), g, x)
    }
}

/// `x` for `x > 0`, `alpha * (exp(x) - 1)` otherwise.
#[derive(Clone, Copy)]
pub(crate) struct Elu(f64);
impl Unary for Elu {
    const NAME: &'static str = "EluBackward0";
    const SAVES: Saves = Saves::Input;
    fn f<T: Float>(self, x: T) -> T {
        if x > T::zero() {
            x
        } else {
            x.exp_m1() * c(self.0)
        }
    }
    fn df(self, x: &Tensor, g: &Tensor) -> Tensor {
        // PyTorch: `x <= 0 ? grad * alpha * exp(x) : grad` (so `alpha` at 0 and 1 at NaN), and
        // a second derivative `alpha * exp(x)` only where `x < 0` (0 at the kink and at NaN):
        // the exponential reads `x` through `where(x < 0, x, 0)`, whose gradient is 0 at 0.
        let neg = x.lt_scalar(0.0);
        let xn = Tensor::where_(&neg, x, &x.zeros_like());
        Tensor::where_(&x.le_scalar(0.0), &(g * &xn.exp().mul_scalar(self.0)), g)
    }
}

/// `base ^ x` for a number `base` (PyTorch's `pow(Scalar, Tensor)`).
#[derive(Clone, Copy)]
pub(crate) struct PowBase(f64);
impl Unary for PowBase {
    const NAME: &'static str = "PowBackward2";
    const SAVES: Saves = Saves::Input;
    fn f<T: Float>(self, x: T) -> T {
        c::<T>(self.0).powf(x)
    }
    fn df(self, x: &Tensor, g: &Tensor) -> Tensor {
        // PyTorch: grad * where(base == 0 & x >= 0, 0, base^x * ln(base)).
        let d = x.rpow(self.0).mul_scalar(self.0.ln());
        let d = if self.0 == 0.0 {
            d.masked_fill(&x.ge_scalar(0.0), 0.0)
        } else {
            d
        };
        g * &d
    }
}

const SELU_ALPHA: f64 = 1.6732632423543772848170429916717;
const SELU_SCALE: f64 = 1.0507009873554804934193349852946;

impl Tensor {
    /// `|x|` elementwise (gradient `sign(x)`, 0 at 0 as in PyTorch).
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([-2.0, 3.0]).abs().to_vec::<f32>(), vec![2.0, 3.0]);
    /// ```
    pub fn abs(&self) -> Tensor {
        unary(Abs, self)
    }

    /// -1, 0 or 1 by sign, and 0 at NaN (as `torch.sign`); zero gradient.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([-2.0, 0.0, 3.0, f32::NAN]).sign().to_vec::<f32>(), vec![-1.0, 0.0, 1.0, 0.0]);
    /// ```
    pub fn sign(&self) -> Tensor {
        unary(Sign, self)
    }

    /// Rounds down; zero gradient.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([-1.5, 1.5]).floor().to_vec::<f32>(), vec![-2.0, 1.0]);
    /// ```
    pub fn floor(&self) -> Tensor {
        unary(Floor, self)
    }

    /// Rounds up; zero gradient.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([-1.5, 1.5]).ceil().to_vec::<f32>(), vec![-1.0, 2.0]);
    /// ```
    pub fn ceil(&self) -> Tensor {
        unary(Ceil, self)
    }

    /// Rounds to nearest, ties to even (like `torch.round`); zero gradient.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.5, 1.5, 2.5]).round().to_vec::<f32>(), vec![0.0, 2.0, 2.0]);
    /// ```
    pub fn round(&self) -> Tensor {
        unary(Round, self)
    }

    /// Rounds toward zero; zero gradient.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([-1.7, 1.7]).trunc().to_vec::<f32>(), vec![-1.0, 1.0]);
    /// ```
    pub fn trunc(&self) -> Tensor {
        unary(Trunc, self)
    }

    /// `2^x`.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([3.0]).exp2().to_vec::<f32>(), vec![8.0]);
    /// ```
    pub fn exp2(&self) -> Tensor {
        unary(Exp2, self)
    }

    /// `e^x - 1`, accurate near 0.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).expm1().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn expm1(&self) -> Tensor {
        unary(Expm1, self)
    }

    /// Natural logarithm.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([1.0]).log().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn log(&self) -> Tensor {
        unary(Log, self)
    }

    /// Base-2 logarithm.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([8.0]).log2().to_vec::<f32>(), vec![3.0]);
    /// ```
    pub fn log2(&self) -> Tensor {
        unary(Log2, self)
    }

    /// Base-10 logarithm.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([100.0]).log10().to_vec::<f32>(), vec![2.0]);
    /// ```
    pub fn log10(&self) -> Tensor {
        unary(Log10, self)
    }

    /// `ln(1 + x)`, accurate near 0.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).log1p().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn log1p(&self) -> Tensor {
        unary(Log1p, self)
    }

    /// `1 / sqrt(x)`.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([4.0]).rsqrt().to_vec::<f32>(), vec![0.5]);
    /// ```
    pub fn rsqrt(&self) -> Tensor {
        unary(Rsqrt, self)
    }

    /// `x^2` (PyTorch's `square` is `pow(x, 2)`: `PowBackward0`).
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([-3.0]).square().to_vec::<f32>(), vec![9.0]);
    /// ```
    pub fn square(&self) -> Tensor {
        self.pow(2.0)
    }

    /// Tangent.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).tan().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn tan(&self) -> Tensor {
        unary(Tan, self)
    }

    /// Arcsine.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).asin().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn asin(&self) -> Tensor {
        unary(Asin, self)
    }

    /// Arccosine.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([1.0]).acos().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn acos(&self) -> Tensor {
        unary(Acos, self)
    }

    /// Arctangent.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).atan().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn atan(&self) -> Tensor {
        unary(Atan, self)
    }

    /// Hyperbolic sine.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).sinh().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn sinh(&self) -> Tensor {
        unary(Sinh, self)
    }

    /// Hyperbolic cosine.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).cosh().to_vec::<f32>(), vec![1.0]);
    /// ```
    pub fn cosh(&self) -> Tensor {
        unary(Cosh, self)
    }

    /// Inverse hyperbolic sine.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).asinh().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn asinh(&self) -> Tensor {
        unary(Asinh, self)
    }

    /// Inverse hyperbolic cosine (`x >= 1`).
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([1.0]).acosh().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn acosh(&self) -> Tensor {
        unary(Acosh, self)
    }

    /// Inverse hyperbolic tangent (`|x| < 1`).
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).atanh().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn atanh(&self) -> Tensor {
        unary(Atanh, self)
    }

    /// The error function.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).erf().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn erf(&self) -> Tensor {
        unary(Erf, self)
    }

    /// `1 - erf(x)`, accurate for large `x`.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).erfc().to_vec::<f32>(), vec![1.0]);
    /// ```
    pub fn erfc(&self) -> Tensor {
        unary(Erfc, self)
    }

    /// `1 / (1 + e^-x)`, computed without overflow for large `|x|`.
    ///
    /// ```
    /// let y = ferrograd::Tensor::new([0.0, -1000.0]).sigmoid();
    /// assert_eq!(y.to_vec::<f32>(), vec![0.5, 0.0]);
    /// ```
    pub fn sigmoid(&self) -> Tensor {
        unary(Sigmoid, self)
    }

    /// `log(sigmoid(x))`, stable for large `|x|` (`-softplus(-x)`).
    ///
    /// ```
    /// let y = ferrograd::Tensor::new([-1000.0]).logsigmoid();
    /// assert_eq!(y.to_vec::<f32>(), vec![-1000.0]);
    /// ```
    pub fn logsigmoid(&self) -> Tensor {
        self.neg().softplus().neg()
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

    /// `log(1 + e^(beta x)) / beta`, and `x` where `beta x > threshold`.
    ///
    /// ```
    /// let y = ferrograd::Tensor::new([0.0]).softplus_with(2.0, 20.0);
    /// assert_eq!(y.to_vec::<f32>(), vec![2f32.ln() / 2.0]);
    /// ```
    pub fn softplus_with(&self, beta: f64, threshold: f64) -> Tensor {
        unary(Softplus { beta, threshold }, self)
    }

    /// `max(x, 0)` (gradient 0 at 0, as PyTorch).
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([-1.0, 2.0]).relu().to_vec::<f32>(), vec![0.0, 2.0]);
    /// ```
    pub fn relu(&self) -> Tensor {
        unary(Relu, self)
    }

    /// `min(max(x, 0), 6)`.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([-1.0, 7.0]).relu6().to_vec::<f32>(), vec![0.0, 6.0]);
    /// ```
    pub fn relu6(&self) -> Tensor {
        self.hardtanh(0.0, 6.0)
    }

    /// `x` clamped to `[min, max]`, gradient 0 outside the open interval.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([-2.0, 0.5]).hardtanh(-1.0, 1.0).to_vec::<f32>(), vec![-1.0, 0.5]);
    /// ```
    pub fn hardtanh(&self, min: f64, max: f64) -> Tensor {
        unary(Hardtanh { min, max }, self)
    }

    /// `x` for `x > 0`, `negative_slope * x` otherwise.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([-2.0, 3.0]).leaky_relu(0.01).to_vec::<f32>(), vec![-0.02, 3.0]);
    /// ```
    pub fn leaky_relu(&self, negative_slope: f64) -> Tensor {
        unary(LeakyRelu(negative_slope), self)
    }

    /// `x` for `x > 0`, `alpha (e^x - 1)` otherwise.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0, 2.0]).elu(1.0).to_vec::<f32>(), vec![0.0, 2.0]);
    /// ```
    pub fn elu(&self, alpha: f64) -> Tensor {
        unary(Elu(alpha), self)
    }

    /// Scaled ELU with the self-normalizing constants.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).selu().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn selu(&self) -> Tensor {
        self.elu(SELU_ALPHA).mul_scalar(SELU_SCALE)
    }

    /// Gaussian error linear unit, exact: `x * Phi(x) = x/2 (1 + erf(x / sqrt 2))`.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).gelu().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn gelu(&self) -> Tensor {
        &self.mul_scalar(0.5)
            * &self
                .mul_scalar(std::f64::consts::FRAC_1_SQRT_2)
                .erf()
                .add_scalar(1.0)
    }

    /// GELU with PyTorch's `approximate="tanh"`:
    /// `x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).gelu_tanh().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn gelu_tanh(&self) -> Tensor {
        let inner = (self + &self.pow(3.0).mul_scalar(0.044715)).mul_scalar((2.0 / PI).sqrt());
        &self.mul_scalar(0.5) * &inner.tanh().add_scalar(1.0)
    }

    /// `x * sigmoid(x)` (swish).
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).silu().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn silu(&self) -> Tensor {
        self * &self.sigmoid()
    }

    /// `x * tanh(softplus(x))`.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).mish().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn mish(&self) -> Tensor {
        self * &self.softplus().tanh()
    }

    /// `base ^ self` for a number `base` (`torch.pow(2, x)`).
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([3.0]).rpow(2.0).to_vec::<f32>(), vec![8.0]);
    /// ```
    pub fn rpow(&self, base: f64) -> Tensor {
        unary(PowBase(base), self)
    }
}
