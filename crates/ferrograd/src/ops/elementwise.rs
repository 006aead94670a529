//! Elementwise primitives: arithmetic, powers, exp, trigonometric and hyperbolic functions.

use super::{binary, grads, unary, Binary, Saves, Unary};
use crate::autograd::record;
use crate::dtype::Float;
use crate::error::Result;
use crate::kernels::fastmath;
use crate::raw;
use crate::tensor::Tensor;

// ------------------------------------------------------------------ binary primitives

#[derive(Clone, Copy)]
pub(crate) struct Add;
impl Binary for Add {
    const NAME: &'static str = "AddBackward0";
    const OP: &'static str = "add";
    fn f<T: Float>(self, a: T, b: T) -> T {
        a + b
    }
    fn saves(_: [bool; 2]) -> [bool; 2] {
        [false, false]
    }
    fn df(
        self,
        _: Option<&Tensor>,
        _: Option<&Tensor>,
        g: &Tensor,
        n: [bool; 2],
    ) -> [Option<Tensor>; 2] {
        [n[0].then(|| g.clone()), n[1].then(|| g.clone())]
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Sub;
impl Binary for Sub {
    const NAME: &'static str = "SubBackward0";
    const OP: &'static str = "sub";
    fn f<T: Float>(self, a: T, b: T) -> T {
        a - b
    }
    fn saves(_: [bool; 2]) -> [bool; 2] {
        [false, false]
    }
    fn df(
        self,
        _: Option<&Tensor>,
        _: Option<&Tensor>,
        g: &Tensor,
        n: [bool; 2],
    ) -> [Option<Tensor>; 2] {
        [n[0].then(|| g.clone()), n[1].then(|| g.neg())]
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Mul;
impl Binary for Mul {
    const NAME: &'static str = "MulBackward0";
    const OP: &'static str = "mul";
    fn f<T: Float>(self, a: T, b: T) -> T {
        a * b
    }
    fn saves(n: [bool; 2]) -> [bool; 2] {
        [n[1], n[0]]
    }
    fn df(
        self,
        a: Option<&Tensor>,
        b: Option<&Tensor>,
        g: &Tensor,
        _: [bool; 2],
    ) -> [Option<Tensor>; 2] {
        [b.map(|b| g * b), a.map(|a| g * a)]
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Div;
impl Binary for Div {
    const NAME: &'static str = "DivBackward0";
    const OP: &'static str = "div";
    fn f<T: Float>(self, a: T, b: T) -> T {
        a / b
    }
    fn saves(n: [bool; 2]) -> [bool; 2] {
        [n[1], true]
    }
    fn df(
        self,
        a: Option<&Tensor>,
        b: Option<&Tensor>,
        g: &Tensor,
        n: [bool; 2],
    ) -> [Option<Tensor>; 2] {
        let b = b.expect("div saves its divisor");
        // PyTorch: grad / other and -grad * ((self / other) / other).
        [
            n[0].then(|| g / b),
            a.filter(|_| n[1]).map(|a| -g * &(&(a / b) / b)),
        ]
    }
}

/// `grad * (1 - y^2)`: tanh's backward, itself a differentiable primitive (as in PyTorch, whose
/// second derivative of tanh runs `TanhBackwardBackward0`). Inputs: `[grad, y]`.
#[derive(Clone, Copy)]
pub(crate) struct TanhBackward;
impl Binary for TanhBackward {
    const NAME: &'static str = "TanhBackwardBackward0";
    const OP: &'static str = "tanh_backward";
    fn f<T: Float>(self, g: T, y: T) -> T {
        // 1 - y*y with one rounding (PyTorch's compiled kernel contracts it to an FMA too):
        // near |y| = 1 this keeps the digits that the subtraction would cancel.
        g * (-y).mul_add(y, T::one())
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
        let y = y.expect("tanh_backward saves the output");
        [
            n[0].then(|| tanh_backward(g, y)),
            g0.filter(|_| n[1])
                .map(|g0| g * &(&y.mul_scalar(-2.0) * g0)),
        ]
    }
}

pub(crate) fn tanh_backward(g: &Tensor, y: &Tensor) -> Tensor {
    crate::unwrap(binary(TanhBackward, g, y))
}

// ------------------------------------------------------------------ unary primitives

#[derive(Clone, Copy)]
pub(crate) struct Neg;
impl Unary for Neg {
    const NAME: &'static str = "NegBackward0";
    const SAVES: Saves = Saves::Nothing;
    fn f<T: Float>(self, x: T) -> T {
        -x
    }
    fn df(self, _: &Tensor, g: &Tensor) -> Tensor {
        g.neg()
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Exp;
impl Unary for Exp {
    const NAME: &'static str = "ExpBackward0";
    const SAVES: Saves = Saves::Output;
    fn f<T: Float>(self, x: T) -> T {
        x.exp()
    }
    fn df(self, y: &Tensor, g: &Tensor) -> Tensor {
        g * y
    }
    fn bulk_f32(self) -> Option<fastmath::Bulk> {
        Some(fastmath::Bulk::Exp)
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Sin;
impl Unary for Sin {
    const NAME: &'static str = "SinBackward0";
    const SAVES: Saves = Saves::Input;
    fn f<T: Float>(self, x: T) -> T {
        x.sin()
    }
    fn df(self, x: &Tensor, g: &Tensor) -> Tensor {
        g * &x.cos()
    }
    fn bulk_f32(self) -> Option<fastmath::Bulk> {
        Some(fastmath::Bulk::Sin)
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Cos;
impl Unary for Cos {
    const NAME: &'static str = "CosBackward0";
    const SAVES: Saves = Saves::Input;
    fn f<T: Float>(self, x: T) -> T {
        x.cos()
    }
    fn df(self, x: &Tensor, g: &Tensor) -> Tensor {
        g * &x.sin().neg()
    }
    fn bulk_f32(self) -> Option<fastmath::Bulk> {
        Some(fastmath::Bulk::Cos)
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Tanh;
impl Unary for Tanh {
    const NAME: &'static str = "TanhBackward0";
    const SAVES: Saves = Saves::Output;
    fn f<T: Float>(self, x: T) -> T {
        x.tanh()
    }
    fn df(self, y: &Tensor, g: &Tensor) -> Tensor {
        tanh_backward(g, y)
    }
    fn bulk_f32(self) -> Option<fastmath::Bulk> {
        Some(fastmath::Bulk::Tanh)
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Sqrt;
impl Unary for Sqrt {
    const NAME: &'static str = "SqrtBackward0";
    const SAVES: Saves = Saves::Output;
    fn f<T: Float>(self, x: T) -> T {
        x.sqrt()
    }
    fn df(self, y: &Tensor, g: &Tensor) -> Tensor {
        g / &y.mul_scalar(2.0)
    }
}

/// `x^e` for a scalar exponent.
#[derive(Clone, Copy)]
pub(crate) struct PowScalar(pub(crate) f64);
impl Unary for PowScalar {
    const NAME: &'static str = "PowBackward0";
    const SAVES: Saves = Saves::Input;
    fn f<T: Float>(self, x: T) -> T {
        // The special cases PyTorch's CPU kernel takes, so results round the same way.
        match self.0 {
            2.0 => x * x,
            3.0 => x * x * x,
            0.5 => x.sqrt(),
            -0.5 => x.sqrt().recip(),
            -1.0 => x.recip(),
            -2.0 => (x * x).recip(),
            e => x.powf(T::from_f64(e)),
        }
    }
    fn df(self, x: &Tensor, g: &Tensor) -> Tensor {
        // PyTorch: zeros for exponent 0, else grad * (e * x^(e-1)).
        if self.0 == 0.0 {
            g.zeros_like()
        } else {
            g * &x.pow(self.0 - 1.0).mul_scalar(self.0)
        }
    }
}

/// `x + s` for a scalar `s` (dtype of `x` kept, like PyTorch's wrapped numbers).
#[derive(Clone, Copy)]
pub(crate) struct AddScalar(pub(crate) f64);
impl Unary for AddScalar {
    const NAME: &'static str = "AddBackward0";
    const SAVES: Saves = Saves::Nothing;
    fn f<T: Float>(self, x: T) -> T {
        x + T::from_f64(self.0)
    }
    fn df(self, _: &Tensor, g: &Tensor) -> Tensor {
        g.clone()
    }
}

/// `s - x` for a scalar `s`.
#[derive(Clone, Copy)]
pub(crate) struct RSubScalar(pub(crate) f64);
impl Unary for RSubScalar {
    const NAME: &'static str = "RsubBackward1";
    const SAVES: Saves = Saves::Nothing;
    fn f<T: Float>(self, x: T) -> T {
        T::from_f64(self.0) - x
    }
    fn df(self, _: &Tensor, g: &Tensor) -> Tensor {
        g.neg()
    }
}

/// `x * s` for a scalar `s`.
#[derive(Clone, Copy)]
pub(crate) struct MulScalar(pub(crate) f64);
impl Unary for MulScalar {
    const NAME: &'static str = "MulBackward0";
    const SAVES: Saves = Saves::Scalar;
    fn f<T: Float>(self, x: T) -> T {
        x * T::from_f64(self.0)
    }
    fn df(self, _: &Tensor, g: &Tensor) -> Tensor {
        g.mul_scalar(self.0)
    }
}

/// `x / s` for a scalar `s`.
#[derive(Clone, Copy)]
pub(crate) struct DivScalar(pub(crate) f64);
impl Unary for DivScalar {
    const NAME: &'static str = "DivBackward0";
    const SAVES: Saves = Saves::Scalar;
    fn f<T: Float>(self, x: T) -> T {
        x / T::from_f64(self.0)
    }
    fn df(self, _: &Tensor, g: &Tensor) -> Tensor {
        g.div_scalar(self.0)
    }
}

/// `1 / x`.
#[derive(Clone, Copy)]
pub(crate) struct Reciprocal;
impl Unary for Reciprocal {
    const NAME: &'static str = "ReciprocalBackward0";
    const SAVES: Saves = Saves::Output;
    fn f<T: Float>(self, x: T) -> T {
        x.recip()
    }
    fn df(self, y: &Tensor, g: &Tensor) -> Tensor {
        // PyTorch: -grad * (result * result)
        &g.neg() * &(y * y)
    }
}

impl Tensor {
    /// Elementwise sum with broadcasting (`a + b`). Panics if the shapes do not broadcast;
    /// see [`Tensor::try_add`].
    ///
    /// ```
    /// let a = ferrograd::Tensor::new([[1.0], [2.0]]);
    /// assert_eq!(a.add(&ferrograd::Tensor::new([10.0, 20.0])).to_vec::<f32>(), vec![11.0, 21.0, 12.0, 22.0]);
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn add(&self, other: &Tensor) -> Tensor {
        crate::unwrap(self.try_add(other))
    }

    /// Fallible [`Tensor::add`].
    ///
    /// ```
    /// let e = ferrograd::Tensor::zeros(&[2]).try_add(&ferrograd::Tensor::zeros(&[3])).unwrap_err();
    /// assert!(e.to_string().starts_with("add: The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0"));
    /// ```
    pub fn try_add(&self, other: &Tensor) -> Result<Tensor> {
        binary(Add, self, other)
    }

    /// Elementwise difference with broadcasting (`a - b`). Panics if the shapes do not
    /// broadcast; see [`Tensor::try_sub`].
    ///
    /// ```
    /// let a = ferrograd::Tensor::new([3.0, 4.0]);
    /// assert_eq!(a.sub(&ferrograd::Tensor::scalar(1.0)).to_vec::<f32>(), vec![2.0, 3.0]);
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn sub(&self, other: &Tensor) -> Tensor {
        crate::unwrap(self.try_sub(other))
    }

    /// Fallible [`Tensor::sub`].
    ///
    /// ```
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_sub(&ferrograd::Tensor::zeros(&[3])).is_err());
    /// ```
    pub fn try_sub(&self, other: &Tensor) -> Result<Tensor> {
        binary(Sub, self, other)
    }

    /// Elementwise product with broadcasting (`a * b`). Panics if the shapes do not
    /// broadcast; see [`Tensor::try_mul`].
    ///
    /// ```
    /// let a = ferrograd::Tensor::new([1.0, 2.0]);
    /// assert_eq!(a.mul(&a).to_vec::<f32>(), vec![1.0, 4.0]);
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn mul(&self, other: &Tensor) -> Tensor {
        crate::unwrap(self.try_mul(other))
    }

    /// Fallible [`Tensor::mul`].
    ///
    /// ```
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_mul(&ferrograd::Tensor::zeros(&[3])).is_err());
    /// ```
    pub fn try_mul(&self, other: &Tensor) -> Result<Tensor> {
        binary(Mul, self, other)
    }

    /// Elementwise quotient with broadcasting (`a / b`). Panics if the shapes do not
    /// broadcast; see [`Tensor::try_div`].
    ///
    /// ```
    /// let a = ferrograd::Tensor::new([1.0, 3.0]);
    /// assert_eq!(a.div(&ferrograd::Tensor::new([2.0])).to_vec::<f32>(), vec![0.5, 1.5]);
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn div(&self, other: &Tensor) -> Tensor {
        crate::unwrap(self.try_div(other))
    }

    /// Fallible [`Tensor::div`].
    ///
    /// ```
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_div(&ferrograd::Tensor::zeros(&[3])).is_err());
    /// ```
    pub fn try_div(&self, other: &Tensor) -> Result<Tensor> {
        // True division: integer (and bool) operands divide as floats, as in PyTorch.
        if !self.dtype().is_floating_point() && !other.dtype().is_floating_point() {
            return binary(Div, &self.to_dtype(crate::DType::F32), other);
        }
        binary(Div, self, other)
    }

    /// `self + s` for a number `s`, keeping `self`'s dtype.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([1.0]).add_scalar(2.0).to_vec::<f32>(), vec![3.0]);
    /// ```
    pub fn add_scalar(&self, s: f64) -> Tensor {
        self.int_scalar_op(s, |a, s| a + s)
            .unwrap_or_else(|| unary(AddScalar(s), self))
    }

    /// `self - s` for a number `s`.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([1.0]).sub_scalar(2.0).to_vec::<f32>(), vec![-1.0]);
    /// ```
    pub fn sub_scalar(&self, s: f64) -> Tensor {
        if let Some(t) = self.int_scalar_op(s, |a, s| a - s) {
            return t;
        }
        let y = raw::map_float(self, |v| v - s as f32, |v| v - s);
        record(
            "SubBackward0",
            y,
            &[self],
            |_, _| |a| grads([Some(a.grad.clone())]),
            |j| j.t(0).expect("tangent").clone(),
        )
    }

    /// `s - self` for a number `s`.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([1.0]).rsub_scalar(2.0).to_vec::<f32>(), vec![1.0]);
    /// ```
    pub fn rsub_scalar(&self, s: f64) -> Tensor {
        self.int_scalar_op(s, |a, s| s - a)
            .unwrap_or_else(|| unary(RSubScalar(s), self))
    }

    /// `self * s` for a number `s`.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([1.5]).mul_scalar(2.0).to_vec::<f32>(), vec![3.0]);
    /// ```
    pub fn mul_scalar(&self, s: f64) -> Tensor {
        self.int_scalar_op(s, |a, s| a * s)
            .unwrap_or_else(|| unary(MulScalar(s), self))
    }

    /// An int64 tensor with an integral number stays int64 (PyTorch's promotion); integers can
    /// not require grad, so nothing is recorded.
    fn int_scalar_op(&self, s: f64, f: impl Fn(i64, i64) -> i64) -> Option<Tensor> {
        if self.dtype() != crate::DType::I64 || s.fract() != 0.0 || s.abs() > i64::MAX as f64 {
            return None;
        }
        let s = s as i64;
        let v: Vec<i64> = self.to_vec::<i64>().into_iter().map(|a| f(a, s)).collect();
        let n = v.len();
        Some(Tensor::from_buffer(
            crate::storage::Buffer::I64(crate::storage::collect(n, v.into_iter())),
            self.shape(),
        ))
    }

    /// `self / s` for a number `s`.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([3.0]).div_scalar(2.0).to_vec::<f32>(), vec![1.5]);
    /// ```
    pub fn div_scalar(&self, s: f64) -> Tensor {
        unary(DivScalar(s), self)
    }

    /// `1 / self`.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([4.0]).reciprocal().to_vec::<f32>(), vec![0.25]);
    /// ```
    pub fn reciprocal(&self) -> Tensor {
        unary(Reciprocal, self)
    }

    /// `-self`.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([1.0, -2.0]).neg().to_vec::<f32>(), vec![-1.0, 2.0]);
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn neg(&self) -> Tensor {
        unary(Neg, self)
    }

    /// `self ^ exponent` elementwise, for a number `exponent` (`x**2`).
    ///
    /// ```
    /// let x = ferrograd::Tensor::scalar(5.0).requires_grad_(true);
    /// let y = x.pow(2.0);
    /// assert_eq!(y.to_string(), "tensor(25., grad_fn=<PowBackward0>)");
    /// ```
    pub fn pow(&self, exponent: f64) -> Tensor {
        unary(PowScalar(exponent), self)
    }

    /// `e^self` elementwise.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).exp().to_vec::<f32>(), vec![1.0]);
    /// ```
    pub fn exp(&self) -> Tensor {
        unary(Exp, self)
    }

    /// Sine, elementwise.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).sin().to_vec::<f32>(), vec![0.0]);
    /// ```
    pub fn sin(&self) -> Tensor {
        unary(Sin, self)
    }

    /// Cosine, elementwise.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0]).cos().to_vec::<f32>(), vec![1.0]);
    /// ```
    pub fn cos(&self) -> Tensor {
        unary(Cos, self)
    }

    /// Hyperbolic tangent, elementwise. Its derivative is the differentiable primitive
    /// `TanhBackwardBackward0`, so derivatives of every order work.
    ///
    /// ```
    /// let x = ferrograd::Tensor::scalar(2.0).requires_grad_(true);
    /// assert_eq!(x.tanh().to_string(), "tensor(0.9640, grad_fn=<TanhBackward0>)");
    /// ```
    pub fn tanh(&self) -> Tensor {
        unary(Tanh, self)
    }

    /// Square root, elementwise.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([9.0]).sqrt().to_vec::<f32>(), vec![3.0]);
    /// ```
    pub fn sqrt(&self) -> Tensor {
        unary(Sqrt, self)
    }
}
