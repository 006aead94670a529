//! Autograd state on tensors: `requires_grad_`, `.grad`, `retain_grad`, `grad_fn`. The fields
//! live in the tensor (layer below); what they mean for a backward pass is decided here.

use crate::error::Error;
use crate::tensor::Tensor;
use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard};

impl Tensor {
    /// Whether this tensor is a leaf of the graph: created by the user (or by an op on tensors
    /// that do not require grad), not by a recorded operation.
    ///
    /// ```
    /// let x = ferrograd::Tensor::scalar(1.0).requires_grad_(true);
    /// assert!(x.is_leaf() && !(&x * 2.0).is_leaf());
    /// ```
    pub fn is_leaf(&self) -> bool {
        !self.has_history()
    }

    /// The accumulated gradient: `None` before any backward reaches this tensor.
    ///
    /// The returned handle is the stored gradient itself, so in-place ops on it
    /// (`x.grad().unwrap().zero_()`) act on `x`'s gradient, as in PyTorch.
    ///
    /// ```
    /// let x = ferrograd::Tensor::arange(3.0).requires_grad_(true);
    /// assert!(x.grad().is_none());
    /// x.dot(&x).backward();
    /// assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![0.0, 2.0, 4.0]);
    /// ```
    pub fn grad(&self) -> Option<Tensor> {
        self.grad_slot().clone()
    }

    pub(crate) fn grad_slot(&self) -> MutexGuard<'_, Option<Tensor>> {
        self.0.grad.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the stored gradient to zeros in place, if there is one (`optimizer.zero_grad`
    /// with `set_to_none=False`).
    ///
    /// ```
    /// let x = ferrograd::Tensor::scalar(3.0).requires_grad_(true);
    /// x.pow(2.0).backward();
    /// x.zero_grad();
    /// assert_eq!(x.grad().unwrap().item(), 0.0);
    /// ```
    pub fn zero_grad(&self) {
        if let Some(g) = self.grad() {
            if g.requires_grad() {
                // A gradient kept with create_graph is part of a graph: replace it with detached
                // zeros (PyTorch detaches it, then zeroes it).
                *self.grad_slot() = Some(g.detach().zeros_like());
            } else {
                crate::with_no_grad(|| g.zero_());
            }
        }
    }

    /// Whether this non-leaf keeps its gradient (see [`Tensor::retain_grad`]).
    ///
    /// ```
    /// assert!(!ferrograd::Tensor::scalar(1.0).retains_grad());
    /// ```
    pub fn retains_grad(&self) -> bool {
        self.0.retains_grad.load(Ordering::Relaxed)
    }

    /// The node that created this tensor (`None` for leaves).
    ///
    /// ```
    /// let x = ferrograd::Tensor::ones(&[2, 2]).requires_grad_(true);
    /// assert_eq!((&x + 2.0).grad_fn().unwrap().name(), "AddBackward0");
    /// assert!(x.grad_fn().is_none());
    /// ```
    pub fn grad_fn(&self) -> Option<crate::GradFn> {
        self.history().map(crate::GradFn::from_node)
    }
}

api! {
    impl Tensor {
        /// Sets `requires_grad` in place and returns the same tensor (PyTorch's `requires_grad_`).
        ///
        ///
        /// ```
        /// let x = ferrograd::Tensor::ones(&[2, 2]).requires_grad_(true);
        /// assert_eq!(x.to_string(), "tensor([[1., 1.],\n        [1., 1.]], requires_grad=True)");
        /// ```
        ///
        /// ```
        /// use ferrograd::{Error, Tensor};
        /// let b = Tensor::new([true]);
        /// assert_eq!(b.try_requires_grad_(true).unwrap_err(), Error::NonFloatRequiresGrad);
        /// ```
        pub fn requires_grad_ / try_requires_grad_(&self, requires_grad: bool) -> Tensor {
            if self.has_history() {
                if requires_grad {
                    return Ok(self.clone());
                }
                return Err(Error::NonLeafRequiresGrad);
            }
            if requires_grad && !self.dtype().is_floating_point() {
                return Err(Error::NonFloatRequiresGrad);
            }
            self.0.requires_grad.store(requires_grad, Ordering::Relaxed);
            Ok(self.clone())
        }

        /// Replaces (or clears, with `None`) the stored gradient (`x.grad = None`).
        ///
        ///
        /// ```
        /// let x = ferrograd::Tensor::scalar(3.0).requires_grad_(true);
        /// x.pow(2.0).backward();
        /// x.set_grad(None);
        /// assert!(x.grad().is_none());
        /// ```
        ///
        /// ```
        /// let x = ferrograd::Tensor::zeros(&[2]);
        /// assert!(x.try_set_grad(Some(ferrograd::Tensor::zeros(&[3]))).is_err());
        /// ```
        pub fn set_grad / try_set_grad(&self, grad: Option<Tensor>) -> () {
            if let Some(g) = &grad {
                if g.shape() != self.shape() {
                    return Err(Error::invalid(
                        "set_grad",
                        format!(
                            "assigned grad has data of a different size: {:?} vs the tensor's {:?}",
                            g.shape(),
                            self.shape()
                        ),
                    ));
                }
            }
            *self.grad_slot() = grad;
            Ok(())
        }

        /// Asks a non-leaf tensor to keep its gradient in `.grad()` during backward (leaves
        /// always do).
        ///
        /// ```
        /// let x = ferrograd::Tensor::scalar(2.0).requires_grad_(true);
        /// let y = &x * 3.0;
        /// y.retain_grad();
        /// y.pow(2.0).backward();
        /// assert_eq!(y.grad().unwrap().item(), 12.0);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::scalar(1.0).try_retain_grad().is_err());
        /// ```
        pub fn retain_grad / try_retain_grad(&self) -> () {
            if !self.requires_grad() {
                return Err(Error::invalid(
                    "retain_grad",
                    "can't retain_grad on Tensor that has requires_grad=False",
                ));
            }
            if let Some(node) = &self.history() {
                self.0.retains_grad.store(true, Ordering::Relaxed);
                node.set_owner(Arc::downgrade(&self.0));
            }
            Ok(())
        }
    }
}
