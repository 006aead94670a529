//! Comparisons and logical ops (bool results, no gradient), `where`, clamp, and the binary
//! primitives whose rules select between operands: maximum, minimum, pow with a tensor
//! exponent, atan2, hypot, remainder, fmod.

use super::unary::{slope_backward, zero_backward, Slope};
use super::{binary, grads, Binary};
use crate::autograd::record;
use crate::dtype::{DType, Float};
use crate::error::{Error, Result};
use crate::raw;
use crate::tensor::Tensor;

/// Declares a comparison: tensor and scalar forms with their `try_` twin.
macro_rules! comparison {
    ($(#[$doc:meta])* $name:ident, $try_name:ident, $scalar:ident, $op:literal, $cmp:expr) => {
        $(#[$doc])*
        pub fn $name(&self, other: &Tensor) -> Tensor {
            crate::unwrap(self.$try_name(other))
        }

        #[doc = concat!("Fallible [`Tensor::", stringify!($name), "`].")]
        ///
        /// ```
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_eq(&ferrograd::Tensor::zeros(&[3])).is_err());
        /// ```
        pub fn $try_name(&self, other: &Tensor) -> Result<Tensor> {
            raw::compare($op, self, other, $cmp)
        }

        #[doc = concat!("[`Tensor::", stringify!($name), "`] against a number (cast to this tensor's dtype).")]
        ///
        /// ```
        /// let b = ferrograd::Tensor::new([1.0, 2.0]).gt_scalar(1.5);
        /// assert_eq!(b.to_vec::<bool>(), vec![false, true]);
        /// ```
        pub fn $scalar(&self, value: f64) -> Tensor {
            let v = Tensor::full_with(&[], value, self.dtype());
            crate::unwrap(raw::compare($op, self, &v, $cmp))
        }
    };
}

impl Tensor {
    comparison!(
        /// Elementwise `==` with broadcasting, giving a bool tensor. Panics if the shapes do
        /// not broadcast; see [`Tensor::try_eq`].
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([0.0, 2.0]);
        /// assert_eq!(x.eq(&(&x * 1.0)).to_string(), "tensor([True, True])");
        /// ```
        #[allow(clippy::should_implement_trait)]
        eq, try_eq, eq_scalar, "eq", |a, b| a == b
    );
    comparison!(
        /// Elementwise `!=`, giving a bool tensor.
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([0.0, 2.0]);
        /// assert_eq!(x.ne(&ferrograd::Tensor::scalar(2.0)).to_vec::<bool>(), vec![true, false]);
        /// ```
        ne, try_ne, ne_scalar, "ne", |a, b| a != b
    );
    comparison!(
        /// Elementwise `<`, giving a bool tensor.
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([0.0, 2.0]);
        /// assert_eq!(x.lt(&ferrograd::Tensor::scalar(1.0)).to_vec::<bool>(), vec![true, false]);
        /// ```
        lt, try_lt, lt_scalar, "lt", |a, b| a < b
    );
    comparison!(
        /// Elementwise `<=`, giving a bool tensor.
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([1.0, 2.0]);
        /// assert_eq!(x.le(&ferrograd::Tensor::scalar(1.0)).to_vec::<bool>(), vec![true, false]);
        /// ```
        le, try_le, le_scalar, "le", |a, b| a <= b
    );
    comparison!(
        /// Elementwise `>`, giving a bool tensor.
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([0.0, 2.0]);
        /// assert_eq!(x.gt(&ferrograd::Tensor::scalar(1.0)).to_vec::<bool>(), vec![false, true]);
        /// ```
        gt, try_gt, gt_scalar, "gt", |a, b| a > b
    );
    comparison!(
        /// Elementwise `>=`, giving a bool tensor.
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([1.0, 2.0]);
        /// assert_eq!(x.ge(&ferrograd::Tensor::scalar(2.0)).to_vec::<bool>(), vec![false, true]);
        /// ```
        ge, try_ge, ge_scalar, "ge", |a, b| a >= b
    );
    comparison!(
        /// Elementwise logical and (non-zero is true), giving a bool tensor.
        ///
        /// ```
        /// let a = ferrograd::Tensor::new([true, true]);
        /// assert_eq!(a.logical_and(&ferrograd::Tensor::new([true, false])).to_vec::<bool>(), vec![true, false]);
        /// ```
        logical_and, try_logical_and, logical_and_scalar, "logical_and", |a, b| a != 0.0 && b != 0.0
    );
    comparison!(
        /// Elementwise logical or (non-zero is true), giving a bool tensor.
        ///
        /// ```
        /// let a = ferrograd::Tensor::new([false, true]);
        /// assert_eq!(a.logical_or(&ferrograd::Tensor::new([false, false])).to_vec::<bool>(), vec![false, true]);
        /// ```
        logical_or, try_logical_or, logical_or_scalar, "logical_or", |a, b| a != 0.0 || b != 0.0
    );
    comparison!(
        /// Elementwise logical exclusive or (non-zero is true), giving a bool tensor.
        ///
        /// ```
        /// let a = ferrograd::Tensor::new([true, true]);
        /// assert_eq!(a.logical_xor(&ferrograd::Tensor::new([true, false])).to_vec::<bool>(), vec![false, true]);
        /// ```
        logical_xor, try_logical_xor, logical_xor_scalar, "logical_xor", |a, b| (a != 0.0) != (b != 0.0)
    );

    /// Elementwise logical not (zero is false), giving a bool tensor.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0, 2.0]).logical_not().to_vec::<bool>(), vec![true, false]);
    /// ```
    pub fn logical_not(&self) -> Tensor {
        self.eq_scalar(0.0)
    }

    /// `a` where `cond` is true, `b` elsewhere (`torch.where`), all three broadcast together.
    /// The gradient flows to the chosen operand only. Panics on shapes that do not broadcast or
    /// a non-bool `cond`; see [`Tensor::try_where_`].
    ///
    /// A NaN in the branch *not* chosen does not appear in the result, but its gradient is
    /// `0 * (d branch)`, which is NaN where that derivative is infinite or NaN (as in PyTorch and
    /// JAX). Keep such inputs out of the unused branch with a second `where` (the "double where"
    /// idiom): `where_(x > 0, sqrt(where_(x > 0, x, 1)), 0)`.
    ///
    /// ```
    /// use ferrograd::Tensor;
    /// let x = Tensor::new([-1.0, 4.0]).requires_grad_(true);
    /// let safe = Tensor::where_(&x.gt_scalar(0.0), &x, &x.ones_like());
    /// let y = Tensor::where_(&x.gt_scalar(0.0), &safe.sqrt(), &x.zeros_like());
    /// y.sum().backward();
    /// assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![0.0, 0.25]);
    /// ```
    pub fn where_(cond: &Tensor, a: &Tensor, b: &Tensor) -> Tensor {
        crate::unwrap(Tensor::try_where_(cond, a, b))
    }

    /// Fallible [`Tensor::where_`].
    ///
    /// ```
    /// use ferrograd::Tensor;
    /// let e = Tensor::try_where_(&Tensor::new([1.0]), &Tensor::zeros(&[1]), &Tensor::zeros(&[1]));
    /// assert!(e.unwrap_err().to_string().contains("condition must be a bool tensor"));
    /// ```
    pub fn try_where_(cond: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        if cond.dtype() != DType::Bool {
            return Err(Error::invalid(
                "where",
                format!("condition must be a bool tensor, got {}", cond.dtype()),
            ));
        }
        let out = raw::where_select(cond, a, b)?;
        let cond = cond.clone();
        Ok(record(
            "WhereBackward0",
            out,
            &[a, b],
            |_, s| {
                let c = s.save(&cond);
                move |args| {
                    let c = &args[c];
                    grads([
                        args.needs(0)
                            .then(|| args.grad.masked_fill(&c.logical_not(), 0.0)),
                        args.needs(1).then(|| args.grad.masked_fill(c, 0.0)),
                    ])
                }
            },
            |j| {
                let n = j.out().dim();
                let zero = || Tensor::full_with(&[], 0.0, j.out().dtype());
                let ta = j.t(0).map(|t| j.align(t, n)).unwrap_or_else(zero);
                let tb = j.t(1).map(|t| j.align(t, n)).unwrap_or_else(zero);
                Tensor::where_(&cond, &ta, &tb)
            },
        ))
    }

    /// `x` clamped to `[min, max]` (either bound optional; NaN stays NaN). The gradient passes
    /// strictly inside, where `min < x < max`: it is 0 at either bound and at NaN, as in
    /// PyTorch 2.x. The derivative is itself differentiable (zero), to every order.
    ///
    /// ```
    /// let x = ferrograd::Tensor::new([-2.0, 0.5, 3.0]);
    /// assert_eq!(x.clamp(Some(-1.0), Some(1.0)).to_vec::<f32>(), vec![-1.0, 0.5, 1.0]);
    /// assert_eq!(x.clamp(None, Some(0.0)).to_vec::<f32>(), vec![-2.0, 0.0, 0.0]);
    /// ```
    pub fn clamp(&self, min: Option<f64>, max: Option<f64>) -> Tensor {
        let y = raw::map_float(
            self,
            |v| clamp_value(v, min, max),
            |v| clamp_value(v, min, max),
        );
        record(
            "ClampBackward1",
            y,
            &[self],
            |_, s| {
                let x = s.save(self);
                move |a| grads([Some(clamp_backward(a.grad, &a[x], min, max))])
            },
            |j| clamp_backward(j.t(0).expect("tangent"), self, min, max),
        )
    }

    /// `x` clamped elementwise between tensor bounds (broadcast): `min(max(x, min), max)`, NaN
    /// if any of the three is. The gradients are PyTorch 2.15's: with one bound they are
    /// [`Tensor::maximum`]'s or [`Tensor::minimum`]'s (ties split in half); with both, a bound
    /// gets the gradient where it is the result (half at a tie with `x`), and `x` the rest
    /// (all of it where it is NaN). Panics on shapes that do not broadcast; see
    /// [`Tensor::try_clamp_tensor`].
    ///
    /// ```
    /// use ferrograd::Tensor;
    /// let x = Tensor::new([-2.0, 0.5, 3.0]);
    /// let lo = Tensor::new([-1.0, 1.0, -1.0]);
    /// assert_eq!(x.clamp_tensor(Some(&lo), None).to_vec::<f32>(), vec![-1.0, 1.0, 3.0]);
    /// ```
    pub fn clamp_tensor(&self, min: Option<&Tensor>, max: Option<&Tensor>) -> Tensor {
        crate::unwrap(self.try_clamp_tensor(min, max))
    }

    /// Fallible [`Tensor::clamp_tensor`].
    ///
    /// ```
    /// use ferrograd::Tensor;
    /// assert!(Tensor::zeros(&[2]).try_clamp_tensor(Some(&Tensor::zeros(&[3])), None).is_err());
    /// ```
    pub fn try_clamp_tensor(&self, min: Option<&Tensor>, max: Option<&Tensor>) -> Result<Tensor> {
        // PyTorch 2.15: one bound is maximum/minimum exactly (ties split, NaN propagates).
        match (min, max) {
            (None, None) => Ok(self.clone()),
            (Some(lo), None) => self.try_maximum(lo),
            (None, Some(hi)) => self.try_minimum(hi),
            (Some(lo), Some(hi)) => clamp_both(self, lo, hi),
        }
    }

    /// Elementwise maximum with broadcasting (NaN propagates; at ties each side gets half the
    /// gradient, as in PyTorch). Panics if the shapes do not broadcast; see
    /// [`Tensor::try_maximum`].
    ///
    /// ```
    /// let a = ferrograd::Tensor::new([1.0, 5.0]);
    /// assert_eq!(a.maximum(&ferrograd::Tensor::scalar(2.0)).to_vec::<f32>(), vec![2.0, 5.0]);
    /// ```
    pub fn maximum(&self, other: &Tensor) -> Tensor {
        crate::unwrap(self.try_maximum(other))
    }

    /// Fallible [`Tensor::maximum`].
    ///
    /// ```
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_maximum(&ferrograd::Tensor::zeros(&[3])).is_err());
    /// ```
    pub fn try_maximum(&self, other: &Tensor) -> Result<Tensor> {
        binary(Extremum::<true>, self, other)
    }

    /// Elementwise minimum with broadcasting (NaN propagates; ties split the gradient).
    /// Panics if the shapes do not broadcast; see [`Tensor::try_minimum`].
    ///
    /// ```
    /// let a = ferrograd::Tensor::new([1.0, 5.0]);
    /// assert_eq!(a.minimum(&ferrograd::Tensor::scalar(2.0)).to_vec::<f32>(), vec![1.0, 2.0]);
    /// ```
    pub fn minimum(&self, other: &Tensor) -> Tensor {
        crate::unwrap(self.try_minimum(other))
    }

    /// Fallible [`Tensor::minimum`].
    ///
    /// ```
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_minimum(&ferrograd::Tensor::zeros(&[3])).is_err());
    /// ```
    pub fn try_minimum(&self, other: &Tensor) -> Result<Tensor> {
        binary(Extremum::<false>, self, other)
    }

    /// `self ^ exponent` elementwise for a tensor exponent, with broadcasting. Panics if the
    /// shapes do not broadcast; see [`Tensor::try_pow_tensor`].
    ///
    /// ```
    /// let x = ferrograd::Tensor::new([2.0, 3.0]);
    /// assert_eq!(x.pow_tensor(&ferrograd::Tensor::new([3.0, 2.0])).to_vec::<f32>(), vec![8.0, 9.0]);
    /// ```
    pub fn pow_tensor(&self, exponent: &Tensor) -> Tensor {
        crate::unwrap(self.try_pow_tensor(exponent))
    }

    /// Fallible [`Tensor::pow_tensor`].
    ///
    /// ```
    /// assert!(ferrograd::Tensor::ones(&[2]).try_pow_tensor(&ferrograd::Tensor::ones(&[3])).is_err());
    /// ```
    pub fn try_pow_tensor(&self, exponent: &Tensor) -> Result<Tensor> {
        binary(PowTensor, self, exponent)
    }

    /// `atan2(self, other)`: the angle of the point `(other, self)`. Panics if the shapes do
    /// not broadcast; see [`Tensor::try_atan2`].
    ///
    /// ```
    /// let y = ferrograd::Tensor::new([1.0]).atan2(&ferrograd::Tensor::new([1.0]));
    /// assert_eq!(y.to_vec::<f32>(), vec![std::f32::consts::FRAC_PI_4]);
    /// ```
    pub fn atan2(&self, other: &Tensor) -> Tensor {
        crate::unwrap(self.try_atan2(other))
    }

    /// Fallible [`Tensor::atan2`].
    ///
    /// ```
    /// assert!(ferrograd::Tensor::ones(&[2]).try_atan2(&ferrograd::Tensor::ones(&[3])).is_err());
    /// ```
    pub fn try_atan2(&self, other: &Tensor) -> Result<Tensor> {
        binary(Atan2, self, other)
    }

    /// `sqrt(self^2 + other^2)` without overflow. Panics if the shapes do not broadcast; see
    /// [`Tensor::try_hypot`].
    ///
    /// ```
    /// let h = ferrograd::Tensor::new([3.0]).hypot(&ferrograd::Tensor::new([4.0]));
    /// assert_eq!(h.to_vec::<f32>(), vec![5.0]);
    /// ```
    pub fn hypot(&self, other: &Tensor) -> Tensor {
        crate::unwrap(self.try_hypot(other))
    }

    /// Fallible [`Tensor::hypot`].
    ///
    /// ```
    /// assert!(ferrograd::Tensor::ones(&[2]).try_hypot(&ferrograd::Tensor::ones(&[3])).is_err());
    /// ```
    pub fn try_hypot(&self, other: &Tensor) -> Result<Tensor> {
        binary(Hypot, self, other)
    }

    /// Python's `%`: the remainder with the sign of the divisor (`torch.remainder`). Panics if
    /// the shapes do not broadcast; see [`Tensor::try_remainder`].
    ///
    /// ```
    /// let r = ferrograd::Tensor::new([-3.0, 3.0]).remainder(&ferrograd::Tensor::scalar(2.0));
    /// assert_eq!(r.to_vec::<f32>(), vec![1.0, 1.0]);
    /// ```
    pub fn remainder(&self, other: &Tensor) -> Tensor {
        crate::unwrap(self.try_remainder(other))
    }

    /// Fallible [`Tensor::remainder`]. Integer operands with a zero divisor are PyTorch's
    /// `ZeroDivisionError` (floating ones give NaN).
    ///
    /// ```
    /// use ferrograd::{DType, Tensor};
    /// let a = Tensor::from_data(vec![5i64], DType::I64);
    /// let e = a.try_remainder(&Tensor::from_data(vec![0i64], DType::I64)).unwrap_err();
    /// assert_eq!(e.to_string(), "remainder: ZeroDivisionError");
    /// assert!(ferrograd::Tensor::ones(&[2]).try_remainder(&ferrograd::Tensor::ones(&[3])).is_err());
    /// ```
    pub fn try_remainder(&self, other: &Tensor) -> Result<Tensor> {
        integer_divisor_nonzero("remainder", self, other)?;
        binary(Remainder::<true>, self, other)
    }

    /// C's `fmod`: the remainder with the sign of the dividend (`torch.fmod`). Panics if the
    /// shapes do not broadcast; see [`Tensor::try_fmod`].
    ///
    /// ```
    /// let r = ferrograd::Tensor::new([-3.0, 3.0]).fmod(&ferrograd::Tensor::scalar(2.0));
    /// assert_eq!(r.to_vec::<f32>(), vec![-1.0, 1.0]);
    /// ```
    pub fn fmod(&self, other: &Tensor) -> Tensor {
        crate::unwrap(self.try_fmod(other))
    }

    /// Fallible [`Tensor::fmod`]. Integer operands with a zero divisor are PyTorch's
    /// `ZeroDivisionError` (floating ones give NaN).
    ///
    /// ```
    /// assert!(ferrograd::Tensor::ones(&[2]).try_fmod(&ferrograd::Tensor::ones(&[3])).is_err());
    /// ```
    pub fn try_fmod(&self, other: &Tensor) -> Result<Tensor> {
        integer_divisor_nonzero("fmod", self, other)?;
        binary(Remainder::<false>, self, other)
    }

    /// Linear interpolation `self + weight (end - self)`, computed as PyTorch does (from the
    /// nearer end) for accuracy. Panics if the shapes do not broadcast; see
    /// [`Tensor::try_lerp`].
    ///
    /// ```
    /// let a = ferrograd::Tensor::new([0.0, 10.0]);
    /// assert_eq!(a.lerp(&ferrograd::Tensor::new([10.0, 20.0]), 0.25).to_vec::<f32>(), vec![2.5, 12.5]);
    /// ```
    pub fn lerp(&self, end: &Tensor, weight: f64) -> Tensor {
        crate::unwrap(self.try_lerp(end, weight))
    }

    /// Fallible [`Tensor::lerp`].
    ///
    /// ```
    /// assert!(ferrograd::Tensor::ones(&[2]).try_lerp(&ferrograd::Tensor::ones(&[3]), 0.5).is_err());
    /// ```
    pub fn try_lerp(&self, end: &Tensor, weight: f64) -> Result<Tensor> {
        let diff = end.try_sub(self)?;
        if weight < 0.5 {
            self.try_add(&diff.mul_scalar(weight))
        } else {
            end.try_sub(&diff.mul_scalar(1.0 - weight))
        }
    }

    /// [`Tensor::lerp`] with a tensor of weights (broadcast with both ends).
    /// Panics if the shapes do not broadcast; see [`Tensor::try_lerp_tensor`].
    ///
    /// ```
    /// use ferrograd::Tensor;
    /// let a = Tensor::new([0.0, 0.0]);
    /// let w = Tensor::new([0.25, 0.75]);
    /// assert_eq!(a.lerp_tensor(&Tensor::new([4.0, 4.0]), &w).to_vec::<f32>(), vec![1.0, 3.0]);
    /// ```
    pub fn lerp_tensor(&self, end: &Tensor, weight: &Tensor) -> Tensor {
        crate::unwrap(self.try_lerp_tensor(end, weight))
    }

    /// Fallible [`Tensor::lerp_tensor`].
    ///
    /// ```
    /// use ferrograd::Tensor;
    /// assert!(Tensor::ones(&[2]).try_lerp_tensor(&Tensor::ones(&[2]), &Tensor::ones(&[3])).is_err());
    /// ```
    pub fn try_lerp_tensor(&self, end: &Tensor, weight: &Tensor) -> Result<Tensor> {
        let diff = end.try_sub(self)?;
        let low = self.try_add(&diff.try_mul(weight)?)?;
        let high = end.try_sub(&diff.try_mul(&weight.rsub_scalar(1.0))?)?;
        Tensor::try_where_(&weight.lt_scalar(0.5), &low, &high)
    }
}

/// PyTorch's error for an integer (or bool) division by zero: with two non-floating operands
/// the quotient is computed in integers, and a zero divisor raises `ZeroDivisionError`
/// (floating operands give NaN instead, as IEEE arithmetic does).
fn integer_divisor_nonzero(op: &'static str, a: &Tensor, b: &Tensor) -> Result<()> {
    // Only where some quotient is computed: shapes that do not broadcast get binary's error,
    // and an empty result divides nothing.
    let computed =
        crate::layout::broadcast_shapes(a.shape(), b.shape()).is_some_and(|s| !s.contains(&0));
    if computed
        && !a.dtype().is_floating_point()
        && !b.dtype().is_floating_point()
        && b.values_f64().contains(&0.0)
    {
        return Err(Error::invalid(op, "ZeroDivisionError"));
    }
    Ok(())
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

/// maximum (`MAX`) or minimum.
#[derive(Clone, Copy)]
struct Extremum<const MAX: bool>;
impl<const MAX: bool> Binary for Extremum<MAX> {
    const NAME: &'static str = if MAX {
        "MaximumBackward0"
    } else {
        "MinimumBackward0"
    };
    const OP: &'static str = if MAX { "maximum" } else { "minimum" };
    fn f<T: Float>(self, a: T, b: T) -> T {
        if a.is_nan() || b.is_nan() {
            T::nan()
        } else if (a > b) == MAX {
            a
        } else {
            b
        }
    }
    fn saves(_: [bool; 2]) -> [bool; 2] {
        [true, true]
    }
    fn df(
        self,
        a: Option<&Tensor>,
        b: Option<&Tensor>,
        g: &Tensor,
        n: [bool; 2],
    ) -> [Option<Tensor>; 2] {
        // PyTorch: where(a == b, grad / 2, grad), zeroed where the other side wins.
        let (a, b) = (a.expect("saved"), b.expect("saved"));
        let shared = Tensor::where_(&a.eq(b), &g.div_scalar(2.0), g);
        let (a_loses, b_loses) = if MAX {
            (a.lt(b), a.gt(b))
        } else {
            (a.gt(b), a.lt(b))
        };
        [
            n[0].then(|| shared.masked_fill(&a_loses, 0.0)),
            n[1].then(|| shared.masked_fill(&b_loses, 0.0)),
        ]
    }
}

/// `a ^ b` for two tensors (`PowBackward1`).
#[derive(Clone, Copy)]
struct PowTensor;
impl Binary for PowTensor {
    const NAME: &'static str = "PowBackward1";
    const OP: &'static str = "pow";
    fn f<T: Float>(self, a: T, b: T) -> T {
        a.powf(b)
    }
    fn saves(_: [bool; 2]) -> [bool; 2] {
        [true, true]
    }
    fn df(
        self,
        a: Option<&Tensor>,
        b: Option<&Tensor>,
        g: &Tensor,
        n: [bool; 2],
    ) -> [Option<Tensor>; 2] {
        let (a, b) = (a.expect("saved"), b.expect("saved"));
        [
            // where(b == 0, 0, grad * b * a^(b-1)), masked only where a == 0 too (0 * inf):
            // elsewhere b * a^(b-1) is already 0 at b == 0, and keeps its derivative in b.
            n[0].then(|| {
                let zero = b.eq_scalar(0.0).logical_and(&a.eq_scalar(0.0));
                (g * &(b * &a.pow_tensor(&b.sub_scalar(1.0)))).masked_fill(&zero, 0.0)
            }),
            // grad * where(a == 0 & b >= 0, 0, a^b * log(a))
            n[1].then(|| {
                let d = &a.pow_tensor(b) * &a.log();
                g * &d.masked_fill(&a.eq_scalar(0.0).logical_and(&b.ge_scalar(0.0)), 0.0)
            }),
        ]
    }
}

#[derive(Clone, Copy)]
struct Atan2;
impl Binary for Atan2 {
    const NAME: &'static str = "Atan2Backward0";
    const OP: &'static str = "atan2";
    fn f<T: Float>(self, a: T, b: T) -> T {
        a.atan2(b)
    }
    fn saves(_: [bool; 2]) -> [bool; 2] {
        [true, true]
    }
    fn df(
        self,
        a: Option<&Tensor>,
        b: Option<&Tensor>,
        g: &Tensor,
        n: [bool; 2],
    ) -> [Option<Tensor>; 2] {
        let (a, b) = (a.expect("saved"), b.expect("saved"));
        // PyTorch: at the origin (a reciprocal of 0) both gradients are 0, not NaN.
        let recip = (&(a * a) + &(b * b)).reciprocal();
        let recip = recip.masked_fill(&recip.abs().eq_scalar(f64::INFINITY), 0.0);
        [
            n[0].then(|| &(g * b) * &recip),
            n[1].then(|| &(g * &a.neg()) * &recip),
        ]
    }
}

#[derive(Clone, Copy)]
struct Hypot;
impl Binary for Hypot {
    const NAME: &'static str = "HypotBackward0";
    const OP: &'static str = "hypot";
    fn f<T: Float>(self, a: T, b: T) -> T {
        a.hypot(b)
    }
    fn saves(_: [bool; 2]) -> [bool; 2] {
        [true, true]
    }
    fn df(
        self,
        a: Option<&Tensor>,
        b: Option<&Tensor>,
        g: &Tensor,
        n: [bool; 2],
    ) -> [Option<Tensor>; 2] {
        let (a, b) = (a.expect("saved"), b.expect("saved"));
        let r = a.hypot(b);
        [n[0].then(|| &(g * a) / &r), n[1].then(|| &(g * b) / &r)]
    }
}

/// remainder (`FLOOR`: the sign of the divisor) or fmod (the sign of the dividend).
#[derive(Clone, Copy)]
struct Remainder<const FLOOR: bool>;
impl<const FLOOR: bool> Binary for Remainder<FLOOR> {
    const NAME: &'static str = if FLOOR {
        "RemainderBackward0"
    } else {
        "FmodBackward0"
    };
    const OP: &'static str = if FLOOR { "remainder" } else { "fmod" };
    fn f<T: Float>(self, a: T, b: T) -> T {
        let r = a % b;
        if FLOOR && r != T::zero() && ((b < T::zero()) != (r < T::zero())) {
            r + b
        } else {
            r
        }
    }
    fn saves(n: [bool; 2]) -> [bool; 2] {
        [n[1], n[1]]
    }
    fn df(
        self,
        a: Option<&Tensor>,
        b: Option<&Tensor>,
        g: &Tensor,
        n: [bool; 2],
    ) -> [Option<Tensor>; 2] {
        [
            n[0].then(|| g.clone()),
            a.zip(b).map(|(a, b)| {
                let q = a / b;
                let q = if FLOOR { q.floor() } else { q.trunc() };
                &g.neg() * &q
            }),
        ]
    }
}

/// `clamp(x, lo, hi)` for tensor bounds: `min(max(x, lo), hi)` (NaN if any is NaN), with
/// PyTorch 2.15's gradients (`ClampBackward0`, checked against it on every combination of
/// -inf, -1, 0, 0.5, 1, inf and NaN): `lo` gets the gradient where `x < lo <= hi` and half of
/// it where `x == lo < hi`; `hi` where `x > hi >= lo` or `hi < lo`, half where `x == hi > lo`;
/// `x` the rest where `lo <= x <= hi`, and all of it where `x` is NaN.
fn clamp_both(x: &Tensor, lo: &Tensor, hi: &Tensor) -> Result<Tensor> {
    let y = crate::with_no_grad(|| x.try_maximum(lo)?.try_minimum(hi))?;
    let shares = move |x: &Tensor, lo: &Tensor, hi: &Tensor| -> [Tensor; 3] {
        let f = |b: Tensor| b.to_dtype(x.dtype());
        let ordered = lo.lt(hi);
        let half = |b: Tensor| f(b.logical_and(&ordered)).mul_scalar(0.5);
        let to_lo = &f(x.lt(lo).logical_and(&lo.le(hi))) + &half(x.eq(lo));
        let to_hi = &f(x.gt(hi).logical_and(&lo.le(hi)).logical_or(&hi.lt(lo))) + &half(x.eq(hi));
        let outside = x.lt(lo).logical_or(&x.gt(hi));
        let rest = (&to_lo + &to_hi)
            .rsub_scalar(1.0)
            .masked_fill(&outside, 0.0);
        let to_x = rest.masked_fill(&x.ne(x), 1.0);
        [to_x, to_lo, to_hi]
    };
    // `grad * share` (0 where the share is, even for a NaN gradient), recorded against the input
    // with a zero derivative so that every order exists.
    let part = |g: &Tensor, share: &Tensor, input: &Tensor| {
        let gs = (g * share).masked_fill(&share.eq_scalar(0.0), 0.0);
        &gs + &zero_backward(&gs.zeros_like(), input)
    };
    Ok(record(
        "ClampBackward0",
        y.detach(),
        &[x, lo, hi],
        |_, s| {
            let saved = [s.save(x), s.save(lo), s.save(hi)];
            move |a| {
                let [x, lo, hi] = saved.map(|h| &a[h]);
                let sh = shares(x, lo, hi);
                let inputs = [x, lo, hi];
                grads([0, 1, 2].map(|i| a.needs(i).then(|| part(a.grad, &sh[i], inputs[i]))))
            }
        },
        |j| {
            let n = j.out().dim();
            let sh = shares(x, lo, hi);
            j.sum([0, 1, 2].map(|i| j.t(i).map(|t| &j.align(t, n) * &sh[i])))
        },
    ))
}

/// The gradient of `clamp(x, min, max)`: `grad` strictly inside the bounds, 0 at a bound, outside
/// and at NaN (PyTorch's convention).
fn clamp_backward(g: &Tensor, x: &Tensor, min: Option<f64>, max: Option<f64>) -> Tensor {
    let slope = Slope::Clamp(
        min.unwrap_or(f64::NEG_INFINITY),
        max.unwrap_or(f64::INFINITY),
    );
    slope_backward(slope, g, x)
}
