//! Comparisons and logical ops (bool results, not differentiable), `where`, clamp between
//! tensor bounds, and lerp (composites of the binary primitives).
//!
//! A comparison is one row of [`comparisons!`]: the tensor form and its `try_` twin, and the
//! form against a number, all registry rows through `api!`:
//!
//! ```text
//! comparisons! {
//!     COMPARE_OPS;
//!     /// Elementwise `==` with broadcasting, giving a bool tensor.
//!     eq / try_eq, eq_scalar: "eq", |a, b| a == b;
//! }
//! ```

// `add`, `neg`, `eq`, ... are inherent methods taking references (the `std::ops` operators,
// in operators.rs, call them); their names are PyTorch's.
#![allow(clippy::should_implement_trait)]

use super::grads;
use super::unary::zero_backward;
use crate::autograd::record;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::raw;
use crate::tensor::Tensor;

/// Declares comparisons: the tensor form, its `try_` twin and the scalar form of each.
macro_rules! comparisons {
    ($ops:ident; $(
        $(#[doc = $doc:expr])*
        $name:ident / $try:ident, $scalar:ident: $op:literal, $cmp:expr;
    )*) => {
        api! {
            $ops = impl Tensor {
                $(
                    $(#[doc = $doc])*
                    pub fn $name / $try(&self, other: &Tensor) -> Tensor {
                        raw::compare($op, self, other, $cmp)
                    }

                    #[doc = concat!("[`Tensor::", stringify!($name), "`] against a number (cast to this tensor's dtype).")]
                    ///
                    /// ```
                    /// let b = ferrograd::Tensor::new([1.0, 2.0]).gt_scalar(1.5);
                    /// assert_eq!(b.to_vec::<bool>(), vec![false, true]);
                    /// ```
                    pub fn $scalar(&self, other: f64) -> Tensor {
                        let v = Tensor::full_with(&[], other, self.dtype());
                        $crate::unwrap(raw::compare($op, self, &v, $cmp))
                    }
                )*
            }
        }
    };
}

comparisons! {
    COMPARE_OPS;

    /// Elementwise `==` with broadcasting, giving a bool tensor.
    ///
    /// ```
    /// let x = ferrograd::Tensor::new([0.0, 2.0]);
    /// assert_eq!(x.eq(&(&x * 1.0)).to_string(), "tensor([True, True])");
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_eq(&ferrograd::Tensor::zeros(&[3])).is_err());
    /// ```
    eq / try_eq, eq_scalar: "eq", |a, b| a == b;

    /// Elementwise `!=`, giving a bool tensor.
    ///
    /// ```
    /// let x = ferrograd::Tensor::new([0.0, 2.0]);
    /// assert_eq!(x.ne(&ferrograd::Tensor::scalar(2.0)).to_vec::<bool>(), vec![true, false]);
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_ne(&ferrograd::Tensor::zeros(&[3])).is_err());
    /// ```
    ne / try_ne, ne_scalar: "ne", |a, b| a != b;

    /// Elementwise `<`, giving a bool tensor.
    ///
    /// ```
    /// let x = ferrograd::Tensor::new([0.0, 2.0]);
    /// assert_eq!(x.lt(&ferrograd::Tensor::scalar(1.0)).to_vec::<bool>(), vec![true, false]);
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_lt(&ferrograd::Tensor::zeros(&[3])).is_err());
    /// ```
    lt / try_lt, lt_scalar: "lt", |a, b| a < b;

    /// Elementwise `<=`, giving a bool tensor.
    ///
    /// ```
    /// let x = ferrograd::Tensor::new([1.0, 2.0]);
    /// assert_eq!(x.le(&ferrograd::Tensor::scalar(1.0)).to_vec::<bool>(), vec![true, false]);
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_le(&ferrograd::Tensor::zeros(&[3])).is_err());
    /// ```
    le / try_le, le_scalar: "le", |a, b| a <= b;

    /// Elementwise `>`, giving a bool tensor.
    ///
    /// ```
    /// let x = ferrograd::Tensor::new([0.0, 2.0]);
    /// assert_eq!(x.gt(&ferrograd::Tensor::scalar(1.0)).to_vec::<bool>(), vec![false, true]);
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_gt(&ferrograd::Tensor::zeros(&[3])).is_err());
    /// ```
    gt / try_gt, gt_scalar: "gt", |a, b| a > b;

    /// Elementwise `>=`, giving a bool tensor.
    ///
    /// ```
    /// let x = ferrograd::Tensor::new([1.0, 2.0]);
    /// assert_eq!(x.ge(&ferrograd::Tensor::scalar(2.0)).to_vec::<bool>(), vec![false, true]);
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_ge(&ferrograd::Tensor::zeros(&[3])).is_err());
    /// ```
    ge / try_ge, ge_scalar: "ge", |a, b| a >= b;

    /// Elementwise logical and (non-zero is true), giving a bool tensor.
    ///
    /// ```
    /// let a = ferrograd::Tensor::new([true, true]);
    /// assert_eq!(a.logical_and(&ferrograd::Tensor::new([true, false])).to_vec::<bool>(), vec![true, false]);
    /// assert!(a.try_logical_and(&ferrograd::Tensor::zeros(&[3])).is_err());
    /// ```
    logical_and / try_logical_and, logical_and_scalar: "logical_and", |a, b| a != 0.0 && b != 0.0;

    /// Elementwise logical or (non-zero is true), giving a bool tensor.
    ///
    /// ```
    /// let a = ferrograd::Tensor::new([false, true]);
    /// assert_eq!(a.logical_or(&ferrograd::Tensor::new([false, false])).to_vec::<bool>(), vec![false, true]);
    /// assert!(a.try_logical_or(&ferrograd::Tensor::zeros(&[3])).is_err());
    /// ```
    logical_or / try_logical_or, logical_or_scalar: "logical_or", |a, b| a != 0.0 || b != 0.0;

    /// Elementwise logical exclusive or (non-zero is true), giving a bool tensor.
    ///
    /// ```
    /// let a = ferrograd::Tensor::new([true, true]);
    /// assert_eq!(a.logical_xor(&ferrograd::Tensor::new([true, false])).to_vec::<bool>(), vec![false, true]);
    /// assert!(a.try_logical_xor(&ferrograd::Tensor::zeros(&[3])).is_err());
    /// ```
    logical_xor / try_logical_xor, logical_xor_scalar: "logical_xor", |a, b| (a != 0.0) != (b != 0.0);
}

api! {
    WHERE_OPS = impl Tensor {
        /// Elementwise logical not (zero is false), giving a bool tensor.
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::new([0.0, 2.0]).logical_not().to_vec::<bool>(), vec![true, false]);
        /// ```
        pub fn logical_not(&self) -> Tensor {
            self.eq_scalar(0.0)
        }

        /// `input` where `condition` is true, `other` elsewhere (`torch.where`), all three
        /// broadcast together. The gradient flows to the chosen operand only. Shapes that do not
        /// broadcast and a non-bool `condition` are errors.
        ///
        /// A NaN in the branch *not* chosen does not appear in the result, but its gradient is
        /// `0 * (d branch)`, which is NaN where that derivative is infinite or NaN (as in PyTorch
        /// and JAX). Keep such inputs out of the unused branch with a second `where` (the "double
        /// where" idiom): `where_(x > 0, sqrt(where_(x > 0, x, 1)), 0)`.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let x = Tensor::new([-1.0, 4.0]).requires_grad_(true);
        /// let safe = Tensor::where_(&x.gt_scalar(0.0), &x, &x.ones_like());
        /// let y = Tensor::where_(&x.gt_scalar(0.0), &safe.sqrt(), &x.zeros_like());
        /// y.sum().backward();
        /// assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![0.0, 0.25]);
        /// let e = Tensor::try_where_(&Tensor::new([1.0]), &Tensor::zeros(&[1]), &Tensor::zeros(&[1]));
        /// assert!(e.unwrap_err().to_string().contains("condition must be a bool tensor"));
        /// ```
        pub fn where_ / try_where_(condition: &Tensor, input: &Tensor, other: &Tensor) -> Tensor {
            where_select(condition, input, other)
        }

        /// `x` clamped elementwise between tensor bounds (broadcast): `min(max(x, min), max)`,
        /// NaN if any of the three is. The gradients are PyTorch 2.15's: with one bound they are
        /// [`Tensor::maximum`]'s or [`Tensor::minimum`]'s (ties split in half); with both, a
        /// bound gets the gradient where it is the result (half at a tie with `x`), and `x` the
        /// rest (all of it where it is NaN). Shapes that do not broadcast are an error.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let x = Tensor::new([-2.0, 0.5, 3.0]);
        /// let lo = Tensor::new([-1.0, 1.0, -1.0]);
        /// assert_eq!(x.clamp_tensor(Some(&lo), None).to_vec::<f32>(), vec![-1.0, 1.0, 3.0]);
        /// assert!(Tensor::zeros(&[2]).try_clamp_tensor(Some(&Tensor::zeros(&[3])), None).is_err());
        /// ```
        pub fn clamp_tensor / try_clamp_tensor(&self, min: Option<&Tensor> = None, max: Option<&Tensor> = None) -> Tensor {
            // PyTorch 2.15: one bound is maximum/minimum exactly (ties split, NaN propagates).
            match (min, max) {
                (None, None) => Ok(self.clone()),
                (Some(lo), None) => self.try_maximum(lo),
                (None, Some(hi)) => self.try_minimum(hi),
                (Some(lo), Some(hi)) => clamp_both(self, lo, hi),
            }
        }

        /// Linear interpolation `self + weight (end - self)`, computed as PyTorch does (from
        /// the nearer end) for accuracy. Shapes that do not broadcast are an error.
        ///
        /// ```
        /// let a = ferrograd::Tensor::new([0.0, 10.0]);
        /// assert_eq!(a.lerp(&ferrograd::Tensor::new([10.0, 20.0]), 0.25).to_vec::<f32>(), vec![2.5, 12.5]);
        /// assert!(ferrograd::Tensor::ones(&[2]).try_lerp(&ferrograd::Tensor::ones(&[3]), 0.5).is_err());
        /// ```
        pub fn lerp / try_lerp(&self, end: &Tensor, weight: f64) -> Tensor {
            let diff = end.try_sub(self)?;
            let out = match weight < 0.5 {
                true => self.try_add(&diff.mul_scalar(weight)),
                false => end.try_sub(&diff.mul_scalar(1.0 - weight)),
            };
            super::named(out, "LerpBackward0")
        }

        /// [`Tensor::lerp`] with a tensor of weights (broadcast with both ends). Shapes that do
        /// not broadcast are an error.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let a = Tensor::new([0.0, 0.0]);
        /// let w = Tensor::new([0.25, 0.75]);
        /// assert_eq!(a.lerp_tensor(&Tensor::new([4.0, 4.0]), &w).to_vec::<f32>(), vec![1.0, 3.0]);
        /// assert!(Tensor::ones(&[2]).try_lerp_tensor(&Tensor::ones(&[2]), &Tensor::ones(&[3])).is_err());
        /// ```
        pub fn lerp_tensor / try_lerp_tensor(&self, end: &Tensor, weight: &Tensor) -> Tensor {
            let diff = end.try_sub(self)?;
            let low = self.try_add(&diff.try_mul(weight)?)?;
            let high = end.try_sub(&diff.try_mul(&weight.rsub_scalar(1.0))?)?;
            super::named(Tensor::try_where_(&weight.lt_scalar(0.5), &low, &high), "LerpBackward1")
        }
    }
}

/// `torch.where`: see [`Tensor::where_`].
fn where_select(cond: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
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
