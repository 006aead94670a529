//! Reductions: sum, mean, the 2-norm; comparisons and masking used by their rules.

use super::grads;
use crate::autograd::record;
use crate::error::{Error, Result};
use crate::raw;
use crate::tensor::Tensor;
use smallvec::SmallVec;

api! {
    REDUCE_OPS = impl Tensor {
        /// Sum of all elements (a 0-d tensor).
        ///
        /// ```
        /// let a = ferrograd::Tensor::new([1.0, 2.0, 3.0]).requires_grad_(true);
        /// let s = (&a * &a).sum();
        /// assert_eq!(s.to_string(), "tensor(14., grad_fn=<SumBackward0>)");
        /// ```
        pub fn sum(&self) -> Tensor {
            self.sum_all(false)
        }

        /// Sum over the dimensions `dims` (negative counts from the end), keeping them as size 1
        /// when `keepdim`.
        ///
        /// ```
        /// let a = ferrograd::Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
        /// assert_eq!(a.sum_dims(&[0], false).to_vec::<f32>(), vec![4.0, 6.0]);
        /// assert_eq!(a.sum_dims(&[-1], true).shape(), &[2, 1]);
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_sum_dims(&[1], false).is_err());
        /// ```
        pub fn sum_dims / try_sum_dims(&self, dims: &[isize], keepdim: bool = false) -> Tensor {
            self.reduce_dims("sum", "SumBackward1", dims, keepdim, false)
        }

        /// Mean of all elements (a 0-d tensor).
        ///
        /// ```
        /// let z = ferrograd::Tensor::full(&[2, 2], 27.0).requires_grad_(true);
        /// assert_eq!(z.mean().to_string(), "tensor(27., grad_fn=<MeanBackward0>)");
        /// ```
        pub fn mean(&self) -> Tensor {
            self.sum_all(true)
        }

        /// Mean over `dims`, keeping them as size 1 when `keepdim`.
        ///
        /// ```
        /// let a = ferrograd::Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
        /// assert_eq!(a.mean_dims(&[1], false).to_vec::<f32>(), vec![1.5, 3.5]);
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_mean_dims(&[0, 0], false).is_err());
        /// ```
        pub fn mean_dims / try_mean_dims(&self, dims: &[isize], keepdim: bool = false) -> Tensor {
            self.reduce_dims("mean", "MeanBackward1", dims, keepdim, true)
        }
    }
}

impl Tensor {
    /// `sum()` (`mean`: `mean()`), the 0-d reductions.
    fn sum_all(&self, mean: bool) -> Tensor {
        let n = self.numel() as f64;
        let mask: SmallVec<[bool; 4]> = SmallVec::from_elem(true, self.dim());
        let s = raw::sum_dims(self, &mask);
        let s = if mean {
            with_no_record(|| s.div_scalar(n))
        } else {
            s
        };
        let out = s.view_with(s.layout().reshape_view(&[]).expect("contiguous"));
        let in_shape = self.shape_vec();
        let (name, scale) = if mean {
            ("MeanBackward0", n)
        } else {
            ("SumBackward0", 1.0)
        };
        record(
            name,
            out,
            &[self],
            |_, _| {
                move |a| {
                    let g = a.grad.expand(&in_shape);
                    grads([Some(if mean { g.div_scalar(scale) } else { g })])
                }
            },
            move |j| {
                let s = j.sum_all(j.t(0).expect("tangent"));
                if mean {
                    s.div_scalar(scale)
                } else {
                    s
                }
            },
        )
    }

    fn reduce_dims(
        &self,
        op: &'static str,
        name: &'static str,
        dims: &[isize],
        keepdim: bool,
        mean: bool,
    ) -> Result<Tensor> {
        let mask = super::reduce_mask(op, self, dims)?;
        let n = super::reduced_count(self, &mask);
        let s = raw::try_sum_dims(self, &mask)?;
        let s = if mean {
            with_no_record(|| s.div_scalar(n as f64))
        } else {
            s
        };
        let out_shape = super::reduced_shape(self, &mask, keepdim);
        let out = s.view_with(s.layout().reshape_view(&out_shape).expect("contiguous"));
        let in_shape = self.shape_vec();
        let kept = super::reduced_shape(self, &mask, true);
        Ok(record(
            name,
            out,
            &[self],
            |_, _| {
                move |a| {
                    let g = a.grad.reshape(&kept).expand(&in_shape);
                    grads([Some(if mean { g.div_scalar(n as f64) } else { g })])
                }
            },
            |j| {
                let t = j.t(0).expect("tangent");
                let dims: Vec<usize> = (0..mask.len()).filter(|&d| mask[d]).collect();
                // A 0-d input reduces over nothing (an empty list would sum the batch too).
                let s = if dims.is_empty() {
                    t.clone()
                } else {
                    t.sum_dims(&j.dims(&dims), keepdim)
                };
                if mean {
                    s.div_scalar(n as f64)
                } else {
                    s
                }
            },
        ))
    }

    /// The Euclidean (2-)norm of all elements: the vector norm, or the Frobenius norm of a
    /// matrix (`torch.norm(x, p=2)`). Its gradient at 0 is 0, as in PyTorch.
    ///
    /// ```
    /// let x = ferrograd::Tensor::new([3.0, 4.0]).requires_grad_(true);
    /// let n = x.norm();
    /// assert_eq!(n.to_string(), "tensor(5., grad_fn=<LinalgVectorNormBackward0>)");
    /// n.backward();
    /// assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![0.6, 0.8]);
    /// ```
    pub fn norm(&self) -> Tensor {
        let x = self.to_float();
        let out = raw::norm2(&x);
        record(
            "LinalgVectorNormBackward0",
            out,
            &[self],
            |_, s| {
                let (x, y) = (s.save(self), s.save_output());
                move |a| {
                    let (x, y) = (&a[x], &a[y]);
                    // PyTorch: grad * (self / norm).masked_fill_(norm == 0, 0)
                    grads([Some(a.grad * &(x / y).masked_fill(&y.eq_scalar(0.0), 0.0))])
                }
            },
            |j| {
                let y = j.out();
                let unit = (&x / y).masked_fill(&y.eq_scalar(0.0), 0.0);
                j.sum_all(&(j.t(0).expect("tangent") * &unit))
            },
        )
    }

    /// `self` with `value` wherever `mask` (a bool tensor broadcastable to `self`) is true;
    /// the gradient flows only to the kept elements. Panics on a bad mask; see
    /// [`Tensor::try_masked_fill`].
    ///
    /// ```
    /// let x = ferrograd::Tensor::new([1.0, 2.0]);
    /// let m = ferrograd::Tensor::new([true, false]);
    /// assert_eq!(x.masked_fill(&m, 0.0).to_vec::<f32>(), vec![0.0, 2.0]);
    /// ```
    pub fn masked_fill(&self, mask: &Tensor, value: f64) -> Tensor {
        crate::unwrap(self.try_masked_fill(mask, value))
    }

    /// Fallible [`Tensor::masked_fill`].
    ///
    /// ```
    /// let m = ferrograd::Tensor::new([true, false, true]);
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_masked_fill(&m, 0.0).is_err());
    /// ```
    pub fn try_masked_fill(&self, mask: &Tensor, value: f64) -> Result<Tensor> {
        if mask.dtype() != crate::DType::Bool {
            return Err(Error::invalid(
                "masked_fill",
                format!("expected a bool mask, got {}", mask.dtype()),
            ));
        }
        let out = raw::masked_fill(self, mask, value)?;
        let mask = mask.clone();
        Ok(record(
            "MaskedFillBackward0",
            out,
            &[self],
            |_, s| {
                let m = s.save(&mask);
                move |a| grads([Some(a.grad.masked_fill(&a[m], 0.0))])
            },
            |j| j.t(0).expect("tangent").masked_fill(&mask, 0.0),
        ))
    }

    /// This tensor as floating point (bool becomes `f32`).
    pub(crate) fn to_float(&self) -> Tensor {
        if self.dtype().is_floating_point() {
            self.clone()
        } else {
            self.to_dtype(crate::DType::F32)
        }
    }
}

/// Runs `f` without recording (forward helpers whose result gets its own node).
fn with_no_record<R>(f: impl FnOnce() -> R) -> R {
    crate::with_no_grad(f)
}
