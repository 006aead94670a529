//! In-place operations (`add_`, `sub_`, `mul_`, `div_`, `clamp_`, `copy_`, `fill_`, `zero_`, and
//! `+=` and friends). They write through the tensor's layout into its storage, so views see the
//! change, and bump the storage's version counter, so a backward that needs the old values fails
//! with PyTorch's message instead of computing a wrong gradient.
//!
//! As in PyTorch, modifying a leaf that requires grad is an error outside `no_grad`. An
//! optimizer step therefore looks like:
//!
//! ```
//! use ferrograd::{no_grad, Tensor};
//! let w = Tensor::new([1.0, 2.0]).requires_grad_(true);
//! (&w * &w).sum().backward();
//! {
//!     let _g = no_grad();
//!     w.sub_(&w.grad().unwrap().mul_scalar(0.1)); // SGD step
//! }
//! w.zero_grad();
//! assert_eq!(w.to_vec::<f32>(), vec![0.8, 1.6]);
//! ```
//!
//! On a tensor that is part of a recorded graph (a non-leaf that requires grad, or any tensor
//! with an operand that requires grad) the op is recorded and becomes the tensor's history, as
//! PyTorch rebases it: `y.add_(1)` gives `y` the `grad_fn` `AddBackward0`, whose input is `y`'s
//! old history. If the new node needs the old value (`mul_`, `clamp_`), the old value is copied
//! first. `copy_`, `fill_` and `zero_` record `CopyBackwards` / `FillBackward0` /
//! `ZeroBackward0` (a zero gradient for the old value, the whole gradient for `copy_`'s source).
//!
//! ```
//! use ferrograd::Tensor;
//! let x = Tensor::new([1.0, 2.0]).requires_grad_(true);
//! let y = &x * 2.0;
//! y.mul_(&x);                                     // y = 2x * x
//! assert_eq!(y.grad_fn().unwrap().name(), "MulBackward0");
//! y.sum().backward();
//! assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![4.0, 8.0]); // 4x
//! ```
//!
//! Refused with a message instead (use the out-of-place form): in-place ops on a view of a graph
//! tensor, or on a graph tensor that has views (the other tensors sharing the storage would not
//! see the new history), and on dual tensors of forward mode.

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::raw;
use crate::tensor::Tensor;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};
use std::sync::Arc;

/// How an in-place op's result relates to the tensor it overwrites.
#[derive(Clone, Copy)]
enum Kind {
    /// A differentiable function of the old value (and the operand): `add_`, `mul_`, ...
    Update,
    /// A new value that does not depend on the old one (`copy_` from the operand, `fill_`),
    /// recorded as a node of this name.
    Replace(&'static str),
}

api! {
    INPLACE_OPS = impl Tensor {
        /// `self += other` in place (broadcasting `other` to `self`). Panics on misuse; see
        /// [`Tensor::try_add_`].
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([1.0, 2.0]);
        /// x.add_(&ferrograd::Tensor::scalar(1.0));
        /// assert_eq!(x.to_vec::<f32>(), vec![2.0, 3.0]);
        /// ```
        ///
        /// /// Fallible [`Tensor::add_`]; the tensor is unchanged on error.
        ///
        /// ```
        /// let w = ferrograd::Tensor::new([1.0]).requires_grad_(true);
        /// let e = w.try_add_(&ferrograd::Tensor::new([1.0])).unwrap_err();
        /// assert_eq!(e.to_string(), "a leaf Variable that requires grad is being used in an in-place operation.");
        /// ```
        pub fn add_ / try_add_(&self, other: &Tensor) -> Tensor {
            self.assign_with("add_", Some(other), Kind::Update, |x| x.try_add(other))
        }

        /// `self -= other` in place. Panics on misuse; see [`Tensor::try_sub_`].
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([1.0, 2.0]);
        /// x.sub_(&ferrograd::Tensor::new([1.0, 1.0]));
        /// assert_eq!(x.to_vec::<f32>(), vec![0.0, 1.0]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_sub_(&ferrograd::Tensor::zeros(&[3])).is_err());
        /// ```
        pub fn sub_ / try_sub_(&self, other: &Tensor) -> Tensor {
            self.assign_with("sub_", Some(other), Kind::Update, |x| x.try_sub(other))
        }

        /// `self *= other` in place. Panics on misuse; see [`Tensor::try_mul_`].
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([1.0, 2.0]);
        /// x.mul_(&ferrograd::Tensor::scalar(3.0));
        /// assert_eq!(x.to_vec::<f32>(), vec![3.0, 6.0]);
        /// ```
        ///
        /// ```
        /// let e = ferrograd::Tensor::zeros(&[2]).try_mul_(&ferrograd::Tensor::zeros(&[2, 2])).unwrap_err();
        /// assert!(e.to_string().contains("output with shape [2] doesn't match the broadcast shape [2, 2]"));
        /// ```
        pub fn mul_ / try_mul_(&self, other: &Tensor) -> Tensor {
            self.assign_with("mul_", Some(other), Kind::Update, |x| x.try_mul(other))
        }

        /// `self /= other` in place. Panics on misuse; see [`Tensor::try_div_`].
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([1.0, 2.0]);
        /// x.div_(&ferrograd::Tensor::scalar(2.0));
        /// assert_eq!(x.to_vec::<f32>(), vec![0.5, 1.0]);
        /// ```
        ///
        /// ```
        /// let e = ferrograd::Tensor::new([1, 2]).try_div_(&ferrograd::Tensor::new([2, 2])).unwrap_err();
        /// assert!(e.to_string().contains("can't be cast"));
        /// ```
        pub fn div_ / try_div_(&self, other: &Tensor) -> Tensor {
            self.assign_with("div_", Some(other), Kind::Update, |x| {
                if x.dtype().is_floating_point() || other.dtype().is_floating_point() {
                    x.try_div(other)
                } else {
                    x.to_dtype(DType::F32).try_div(other)
                }
            })
        }

        /// `self += s` in place for a number `s`. Panics on misuse; see [`Tensor::try_add_scalar_`].
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([1.0]);
        /// x.add_scalar_(0.5);
        /// assert_eq!(x.to_vec::<f32>(), vec![1.5]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::new([1.0]).requires_grad_(true).try_add_scalar_(1.0).is_err());
        /// ```
        pub fn add_scalar_ / try_add_scalar_(&self, s: f64) -> Tensor {
            self.assign_with("add_", None, Kind::Update, |x| Ok(x.add_scalar(s)))
        }

        /// `self *= s` in place for a number `s`. Panics on misuse; see [`Tensor::try_mul_scalar_`].
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([1.5]);
        /// x.mul_scalar_(2.0);
        /// assert_eq!(x.to_vec::<f32>(), vec![3.0]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::new([1.0]).requires_grad_(true).try_mul_scalar_(2.0).is_err());
        /// ```
        pub fn mul_scalar_ / try_mul_scalar_(&self, s: f64) -> Tensor {
            self.assign_with("mul_", None, Kind::Update, |x| Ok(x.mul_scalar(s)))
        }

        /// Clamps in place to `[min, max]`. Panics on misuse; see [`Tensor::try_clamp_`].
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([-2.0, 2.0]);
        /// x.clamp_(Some(-1.0), Some(1.0));
        /// assert_eq!(x.to_vec::<f32>(), vec![-1.0, 1.0]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::new([1.0]).requires_grad_(true).try_clamp_(None, Some(0.0)).is_err());
        /// ```
        pub fn clamp_ / try_clamp_(&self, min: Option<f64> = None, max: Option<f64> = None) -> Tensor {
            self.assign_with("clamp_", None, Kind::Update, |x| Ok(x.clamp(min, max)))
        }

        /// Copies `src` (broadcast to this shape, cast to this dtype) into this tensor. Panics on
        /// misuse; see [`Tensor::try_copy_`].
        ///
        /// ```
        /// let x = ferrograd::Tensor::zeros(&[2, 2]);
        /// x.t().copy_(&ferrograd::Tensor::new([[1.0, 2.0], [3.0, 4.0]]));
        /// assert_eq!(x.to_vec::<f32>(), vec![1.0, 3.0, 2.0, 4.0]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_copy_(&ferrograd::Tensor::zeros(&[3])).is_err());
        /// ```
        pub fn copy_ / try_copy_(&self, src: &Tensor) -> Tensor {
            self.assign_with("copy_", Some(src), Kind::Replace("CopyBackwards"), |_| {
                let v = src.try_expand(self.shape()).map_err(|_| {
                    Error::invalid(
                        "copy_",
                        format!(
                            "The size of tensor a ({:?}) must match the size of tensor b ({:?})",
                            self.shape(),
                            src.shape()
                        ),
                    )
                })?;
                raw::try_cast(&v.detach(), self.dtype())
            })
        }

        /// Sets every element to `value` in place. Panics on a leaf that requires grad outside
        /// `no_grad`; see [`Tensor::try_fill_`].
        ///
        /// ```
        /// let g = ferrograd::Tensor::zeros(&[2]);
        /// g.fill_(4.0);
        /// assert_eq!(g.to_vec::<f32>(), vec![4.0, 4.0]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::new([1.0]).requires_grad_(true).try_fill_(0.0).is_err());
        /// ```
        pub fn fill_ / try_fill_(&self, value: f64) -> Tensor {
            self.fill_named(value, "fill_", "FillBackward0")
        }

        /// Sets every element to zero in place (like `x.grad.zero_()`). Panics on a leaf that
        /// requires grad outside `no_grad`; see [`Tensor::try_zero_`].
        ///
        /// ```
        /// let g = ferrograd::Tensor::ones(&[3]);
        /// g.zero_();
        /// assert_eq!(g.to_vec::<f32>(), vec![0.0; 3]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::new([1.0]).requires_grad_(true).try_zero_().is_err());
        /// ```
        pub fn zero_ / try_zero_(&self) -> Tensor {
            self.fill_named(0.0, "zero_", "ZeroBackward0")
        }
    }
}

impl Tensor {
    /// Writes `compute(self)`'s result (broadcast to this tensor's shape, cast to its dtype)
    /// into this tensor's storage, after the autograd checks. On a tensor in a recorded graph
    /// the result is recorded and becomes this tensor's history (PyTorch's rebase).
    fn assign_with(
        &self,
        op: &'static str,
        other: Option<&Tensor>,
        kind: Kind,
        compute: impl Fn(&Tensor) -> Result<Tensor>,
    ) -> Result<Tensor> {
        let graph = crate::is_grad_enabled()
            && (self.requires_grad() || other.is_some_and(|o| o.requires_grad()));
        if graph && self.requires_grad() && self.is_leaf() {
            return Err(Error::LeafInplace);
        }
        if graph && self.requires_grad() {
            // A view (possibly of views: `x.t().select(0, 1)`) of a leaf that requires grad:
            // a leaf sharing this storage among the few nodes above this one. View chains
            // are short, so the walk is bounded (and iterative).
            let of_leaf = self.history().is_some_and(|n| {
                use crate::autograd::node::Edge;
                let mut stack = vec![n];
                let mut seen = 0;
                while let Some(n) = stack.pop() {
                    seen += 1;
                    if seen > 64 {
                        break;
                    }
                    for e in n.next.iter().flatten() {
                        match e {
                            Edge::Leaf(t) if t.shares_storage(self) => return true,
                            Edge::Leaf(_) => {}
                            Edge::Node(m) => stack.push(m.clone()),
                        }
                    }
                }
                false
            });
            if of_leaf {
                return Err(Error::ViewOfLeafInplace);
            }
        }
        let dual = |t: &Tensor| crate::forward_ad::tangent(t).is_some();
        if dual(self) || other.is_some_and(dual) {
            return Err(Error::invalid(
                op,
                "in-place operations on dual tensors (forward mode) are not supported; use the out-of-place form",
            ));
        }
        if graph && self.shares_storage_beyond_history() {
            return Err(Error::invalid(
                op,
                "in-place operations on a view (or on a tensor that has views) that is part of a recorded graph are not supported; use the out-of-place form or run it under no_grad",
            ));
        }
        let value = if graph {
            self.recorded_update(kind, other, &compute)?
        } else {
            crate::with_no_grad(|| compute(self))?
        };
        if value.shape() != self.shape() {
            return Err(Error::invalid(
                op,
                format!(
                    "output with shape {:?} doesn't match the broadcast shape {:?}",
                    self.shape(),
                    value.shape()
                ),
            ));
        }
        if value.dtype().is_floating_point() && !self.dtype().is_floating_point() {
            return Err(Error::invalid(
                op,
                format!(
                    "result type {} can't be cast to the desired output type {}",
                    value.dtype(),
                    self.dtype()
                ),
            ));
        }
        // (Moved, not cloned, when the dtype already matches: a second handle on the value
        // would keep it from trading buffers below.)
        let value = if value.dtype() == self.dtype() {
            value
        } else if graph {
            value.to_dtype(self.dtype())
        } else {
            raw::try_cast(&value, self.dtype())?
        };
        if self.is_batched() || value.is_batched() {
            // The batching rule: the value is written into the physical tensor.
            raw::write_into(op, self, &value)?;
            if let Some(node) = value.history().filter(|_| graph) {
                self.rebase(node);
            }
            return Ok(self.clone());
        }
        // A fresh result covering a whole contiguous tensor trades buffers with it instead of
        // being copied (the SGD step `p.sub_(&(g * lr))` copied 3% of W3's time). Views of this
        // storage see the new data either way: the swap happens inside the shared storage.
        let whole = |t: &Tensor| {
            t.layout().offset == 0 && t.is_contiguous() && t.storage().read().len() == t.numel()
        };
        if value.dtype() == self.dtype()
            && value.is_unshared()
            && !Arc::ptr_eq(value.storage(), self.storage())
            && whole(&value)
            && whole(self)
        {
            // This tensor's storage first: taking it computes the pending expressions that
            // read it, the value's own among them, which must not find the value locked.
            let mut dst = self.storage().write();
            let mut src = value.storage().write_untracked();
            std::mem::swap(&mut *src, &mut *dst);
        } else {
            // (A value in this tensor's own storage, `x.copy_(x)`, is copied first.)
            raw::write_into(op, self, &value)?;
        }
        if let Some(node) = value.history().filter(|_| graph) {
            self.rebase(node);
        }
        Ok(self.clone())
    }

    /// The in-place result, recorded. If its node saved the old value (`mul_`, `clamp_`),
    /// it is computed again from a copy, which the write cannot touch.
    fn recorded_update(
        &self,
        kind: Kind,
        other: Option<&Tensor>,
        compute: &impl Fn(&Tensor) -> Result<Tensor>,
    ) -> Result<Tensor> {
        match kind {
            Kind::Update => {
                let v = compute(self)?;
                let saves_self = v
                    .history()
                    .is_some_and(|n| n.saved_tensors().iter().any(|t| t.shares_storage(self)));
                if saves_self {
                    compute(&self.deep_clone())
                } else {
                    Ok(v)
                }
            }
            Kind::Replace(name) => {
                let v = crate::with_no_grad(|| compute(self))?;
                let fresh = v.view_with(v.layout().clone());
                let src = other.filter(|o| o.dtype().is_floating_point());
                let mut inputs = vec![self];
                inputs.extend(src);
                Ok(crate::autograd::record(
                    name,
                    fresh,
                    &inputs,
                    |_, _| {
                        |a| {
                            // The old value gets a zero gradient, the source the whole of it.
                            let mut g: crate::autograd::Grads =
                                smallvec::smallvec![a.needs(0).then(|| a.grad.zeros_like())];
                            if a.needs.len() > 1 {
                                g.push(a.needs(1).then(|| a.grad.clone()));
                            }
                            g
                        }
                    },
                    |_| unreachable!("dual tensors are refused before"),
                ))
            }
        }
    }

    /// Whether another tensor than this one's own saved output shares its storage (a view,
    /// a base with views, a `detach()`).
    fn shares_storage_beyond_history(&self) -> bool {
        let own_saved = self.history().map_or(0, |n| {
            n.saved_tensors()
                .iter()
                .filter(|t| t.shares_storage(self) && !t.is_same(self))
                .count()
        });
        crate::storage::Storage::tensor_handles(self.base_storage()) > 1 + own_saved
    }

    fn fill_named(&self, value: f64, op: &'static str, node: &'static str) -> Result<Tensor> {
        self.assign_with(op, None, Kind::Replace(node), |x| {
            Ok(x.detach().full_like(value))
        })
    }
}

macro_rules! assign_op {
    ($trait:ident, $method:ident, $call:ident, $scalar:expr) => {
        impl $trait<&Tensor> for Tensor {
            /// In place, as Python's augmented assignment on a tensor (panics on misuse).
            fn $method(&mut self, rhs: &Tensor) {
                Tensor::$call(self, rhs);
            }
        }
        impl $trait<f64> for Tensor {
            /// In place with a number (panics on misuse).
            fn $method(&mut self, rhs: f64) {
                let t = Tensor::full_with(&[], $scalar(rhs), self.dtype());
                Tensor::$call(self, &t);
            }
        }
    };
}
assign_op!(AddAssign, add_assign, add_, |v: f64| v);
assign_op!(SubAssign, sub_assign, sub_, |v: f64| v);
assign_op!(MulAssign, mul_assign, mul_, |v: f64| v);
assign_op!(DivAssign, div_assign, div_, |v: f64| v);
