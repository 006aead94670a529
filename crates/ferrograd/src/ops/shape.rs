//! Views and copies: select/indexing, expand, reshape, transpose, dtype conversion, clone.

use super::{grads, normalize_dim};
use crate::autograd::record;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::kernels;
use crate::layout::{broadcast_shapes, Shape};
use crate::tensor::Tensor;
use smallvec::SmallVec;

api! {
    SHAPE_OPS = impl Tensor {
        /// The sub-tensor at `index` along `dim` (a view; negative values count from the end).
        /// Panics if out of range; see [`Tensor::try_select`].
        ///
        /// ```
        /// let a = ferrograd::Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
        /// assert_eq!(a.select(1, -1).to_vec::<f32>(), vec![2.0, 4.0]);
        /// ```
        ///
        /// ```
        /// let e = ferrograd::Tensor::zeros(&[3]).try_select(0, 3).unwrap_err();
        /// assert_eq!(e.to_string(), "select(): index 3 out of range for tensor of size [3] at dimension 0");
        /// ```
        pub fn select / try_select(&self, dim: isize, index: isize) -> Tensor {
            if self.dim() == 0 {
                return Err(Error::invalid(
                    "select",
                    "select() cannot be applied to a 0-dim tensor.",
                ));
            }
            let d = normalize_dim("select", dim, self.dim())?;
            let size = self.shape()[d] as isize;
            let i = if index < 0 { index + size } else { index };
            if i < 0 || i >= size {
                return Err(Error::invalid(
                    "select()",
                    format!(
                        "index {index} out of range for tensor of size {:?} at dimension {d}",
                        self.shape()
                    ),
                ));
            }
            let i = i as usize;
            let out = self.view_with(self.layout().select(d, i));
            let in_shape = self.shape_vec();
            Ok(record(
                "SelectBackward0",
                out,
                &[self],
                |_, _| move |a| grads([Some(select_backward(a.grad, &in_shape, d, i))]),
                |j| j.t(0).expect("tangent").select(j.dim(d), i as isize),
            ))
        }

        /// Element (or sub-tensor) indexing, PyTorch's `B[0, 0]`: one index per leading dimension,
        /// negative values counting from the end. Differentiable. Panics if out of range; see
        /// [`Tensor::try_i`].
        ///
        /// ```
        /// let a = ferrograd::Tensor::new([[1.0, 2.0], [3.0, 4.0]]).requires_grad_(true);
        /// let l = a.i(&[0, 1]);
        /// assert_eq!(l.to_string(), "tensor(2., grad_fn=<SelectBackward0>)");
        /// ```
        ///
        /// ```
        /// let e = ferrograd::Tensor::zeros(&[2]).try_i(&[0, 0]).unwrap_err();
        /// assert!(e.to_string().contains("too many indices for tensor of dimension 1"));
        /// ```
        pub fn i / try_i(&self, index: &[isize]) -> Tensor {
            if index.len() > self.dim() {
                return Err(Error::invalid(
                    "index",
                    format!("too many indices for tensor of dimension {}", self.dim()),
                ));
            }
            let mut t = self.clone();
            for &i in index {
                t = t.try_select(0, i)?;
            }
            Ok(t)
        }

        /// This tensor broadcast to `shape` (a view with stride 0 on new or size-1 dimensions).
        /// Panics if not broadcastable; see [`Tensor::try_expand`].
        ///
        /// ```
        /// let t = ferrograd::Tensor::new([1.0, 2.0]).expand(&[2, 2]);
        /// assert_eq!(t.to_vec::<f32>(), vec![1.0, 2.0, 1.0, 2.0]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::zeros(&[3]).try_expand(&[2, 2]).is_err());
        /// ```
        pub fn expand / try_expand(&self, shape: &[usize]) -> Tensor {
            let ok = shape.len() >= self.dim()
                && broadcast_shapes(self.shape(), shape).is_some_and(|s| s.as_slice() == shape);
            if !ok {
                return Err(Error::invalid(
                    "expand",
                    format!(
                        "the expanded size of the tensor {:?} must match the existing size at non-singleton dimensions, target {:?}",
                        self.shape(),
                        shape
                    ),
                ));
            }
            crate::layout::check_shape("expand", shape)?;
            if shape == self.shape() {
                return Ok(self.clone());
            }
            let out = self.view_with(self.layout().broadcast_to(shape));
            let in_shape = self.shape_vec();
            Ok(record(
                "ExpandBackward0",
                out,
                &[self],
                |_, _| move |a| grads([Some(a.grad.sum_to(&in_shape))]),
                |j| {
                    j.align(j.t(0).expect("tangent"), shape.len())
                        .expand(&j.shape(shape))
                },
            ))
        }

        /// Sums a broadcast tensor back to `shape` (the inverse of [`Tensor::expand`]): the
        /// reduction that turns a gradient of a broadcast result into the input's gradient.
        /// Panics if `self` is not a broadcast of `shape`; see [`Tensor::try_sum_to`].
        ///
        /// ```
        /// let t = ferrograd::Tensor::ones(&[2, 3]).sum_to(&[1, 3]);
        /// assert_eq!(t.to_vec::<f32>(), vec![2.0, 2.0, 2.0]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::ones(&[2, 3]).try_sum_to(&[2]).is_err());
        /// ```
        pub fn sum_to / try_sum_to(&self, shape: &[usize]) -> Tensor {
            if shape == self.shape() {
                return Ok(self.clone());
            }
            let ok = shape.len() <= self.dim()
                && broadcast_shapes(shape, self.shape()).is_some_and(|s| s.as_slice() == self.shape());
            if !ok {
                return Err(Error::invalid(
                    "sum_to",
                    format!("shape {:?} is not expandable to {:?}", shape, self.shape()),
                ));
            }
            let lead = self.dim() - shape.len();
            let mask: SmallVec<[bool; 4]> = (0..self.dim())
                .map(|i| i < lead || (shape[i - lead] == 1 && self.shape()[i] != 1))
                .collect();
            let summed = kernels::sum_dims(self, &mask);
            let out = summed.view_with(
                summed
                    .layout()
                    .reshape_view(shape)
                    .expect("a fresh sum is contiguous"),
            );
            let in_shape = self.shape_vec();
            Ok(record(
                "SumBackward1",
                out,
                &[self],
                |_, _| move |a| grads([Some(a.grad.expand(&in_shape))]),
                |j| {
                    let dims: Vec<usize> = (0..mask.len()).filter(|&d| mask[d]).collect();
                    j.t(0)
                        .expect("tangent")
                        .sum_dims(&j.dims(&dims), true)
                        .reshape(&j.shape(shape))
                },
            ))
        }

        /// The same elements with another shape (a view when the layout allows, else a copy).
        /// Panics if the element counts differ; see [`Tensor::try_reshape`].
        ///
        /// ```
        /// let t = ferrograd::Tensor::arange(6.0).reshape(&[2, 3]);
        /// assert_eq!(t.shape(), &[2, 3]);
        /// ```
        ///
        /// ```
        /// let e = ferrograd::Tensor::zeros(&[4]).try_reshape(&[3]).unwrap_err();
        /// assert_eq!(e.to_string(), "reshape: shape '[3]' is invalid for input of size 4");
        /// ```
        pub fn reshape / try_reshape(&self, shape: &[usize]) -> Tensor {
            self.reshape_named(shape, "reshape", "ViewBackward0")
        }

        /// Inserts a dimension of size 1 at `dim` (negative counts from the end).
        /// Panics if out of range; see [`Tensor::try_unsqueeze`].
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::zeros(&[3]).unsqueeze(0).shape(), &[1, 3]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::zeros(&[3]).try_unsqueeze(3).is_err());
        /// ```
        pub fn unsqueeze / try_unsqueeze(&self, dim: isize) -> Tensor {
            let d = normalize_dim("unsqueeze", dim, self.dim() + 1)?;
            let mut shape: Shape = self.shape_vec();
            shape.insert(d, 1);
            self.reshape_named(&shape, "unsqueeze", "UnsqueezeBackward0")
        }

        /// Removes dimension `dim` if its size is 1 (otherwise returns the tensor unchanged).
        /// Panics if out of range; see [`Tensor::try_squeeze`].
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::zeros(&[1, 3]).squeeze(0).shape(), &[3]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::zeros(&[1, 3]).try_squeeze(2).is_err());
        /// ```
        pub fn squeeze / try_squeeze(&self, dim: isize) -> Tensor {
            let d = normalize_dim("squeeze", dim, self.dim().max(1))?;
            if self.dim() == 0 || self.shape()[d] != 1 {
                return Ok(self.clone());
            }
            let mut shape: Shape = self.shape_vec();
            shape.remove(d);
            self.reshape_named(&shape, "squeeze", "SqueezeBackward1")
        }

        /// Swaps dimensions `dim0` and `dim1` (a view).
        /// Panics if out of range; see [`Tensor::try_transpose`].
        ///
        /// ```
        /// let t = ferrograd::Tensor::new([[1.0, 2.0]]).transpose(0, 1);
        /// assert_eq!(t.shape(), &[2, 1]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::zeros(&[2, 2]).try_transpose(0, 2).is_err());
        /// ```
        pub fn transpose / try_transpose(&self, dim0: isize, dim1: isize) -> Tensor {
            let n = self.dim().max(1);
            let a = normalize_dim("transpose", dim0, n)?;
            let b = normalize_dim("transpose", dim1, n)?;
            if a == b || self.dim() < 2 {
                return Ok(self.clone());
            }
            let out = self.view_with(self.layout().transpose(a, b));
            Ok(record(
                "TransposeBackward0",
                out,
                &[self],
                |_, _| move |g| grads([Some(g.grad.transpose(a as isize, b as isize))]),
                |j| j.t(0).expect("tangent").transpose(j.dim(a), j.dim(b)),
            ))
        }

        /// The transpose of a tensor of at most 2 dimensions (a view; `x.t()` / `x.T`).
        /// Panics on more dimensions; see [`Tensor::try_t`].
        ///
        /// ```
        /// let a = ferrograd::Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
        /// assert_eq!(a.t().to_vec::<f32>(), vec![1.0, 3.0, 2.0, 4.0]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::zeros(&[1, 2, 3]).try_t().is_err());
        /// ```
        pub fn t / try_t(&self) -> Tensor {
            if self.dim() > 2 {
                return Err(Error::invalid(
                    "t",
                    format!(
                        "t() expects a tensor with <= 2 dimensions, but self is {}D",
                        self.dim()
                    ),
                ));
            }
            if self.dim() < 2 {
                return Ok(self.clone());
            }
            let out = self.view_with(self.layout().transpose(0, 1));
            Ok(record(
                "TBackward0",
                out,
                &[self],
                |_, _| |a| grads([Some(a.grad.t())]),
                |j| j.t(0).expect("tangent").transpose(j.dim(0), j.dim(1)),
            ))
        }

        /// A copy with its own contiguous storage, recorded in the graph: PyTorch's
        /// `tensor.clone()` (`CloneBackward0`). Rust's `clone()` shares instead.
        ///
        /// ```
        /// let g = ferrograd::Tensor::new([1.0, 2.0]);
        /// let copy = g.deep_clone();
        /// g.zero_();
        /// assert_eq!(copy.to_vec::<f32>(), vec![1.0, 2.0]);
        /// ```
        pub fn deep_clone(&self) -> Tensor {
            let out = kernels::copy(self);
            record(
                "CloneBackward0",
                out,
                &[self],
                |_, _| |a| grads([Some(a.grad.clone())]),
                |j| j.t(0).expect("tangent").clone(),
            )
        }

        /// This tensor with contiguous storage (itself when already contiguous).
        ///
        /// ```
        /// let t = ferrograd::Tensor::zeros(&[2, 3]).t();
        /// assert!(t.contiguous().is_contiguous());
        /// ```
        pub fn contiguous(&self) -> Tensor {
            if self.is_contiguous() {
                self.clone()
            } else {
                self.deep_clone()
            }
        }

        /// Converts to `dtype` (differentiable between floating types: `ToCopyBackward0`).
        /// Returns the same tensor when it already has that dtype.
        ///
        /// ```
        /// use ferrograd::{DType, Tensor};
        /// let x = Tensor::new([0.5]).requires_grad_(true);
        /// let y = x.to_dtype(DType::F64);
        /// assert_eq!(y.dtype(), DType::F64);
        /// y.sum().backward();
        /// assert_eq!(x.grad().unwrap().dtype(), DType::F32);
        /// ```
        pub fn to_dtype(&self, dtype: DType) -> Tensor {
            if self.dtype() == dtype {
                return self.clone();
            }
            let out = kernels::cast(self, dtype);
            if !dtype.is_floating_point() {
                return out;
            }
            let src = self.dtype();
            record(
                "ToCopyBackward0",
                out,
                &[self],
                |_, _| move |a| grads([Some(a.grad.to_dtype(src))]),
                |j| j.t(0).expect("tangent").clone(),
            )
        }
    }
}

impl Tensor {
    fn reshape_named(
        &self,
        shape: &[usize],
        op: &'static str,
        name: &'static str,
    ) -> Result<Tensor> {
        if crate::layout::checked_numel(shape) != Some(self.numel()) {
            return Err(Error::invalid(
                op,
                format!(
                    "shape '{:?}' is invalid for input of size {}",
                    shape,
                    self.numel()
                ),
            ));
        }
        crate::layout::check_shape(op, shape)?;
        if shape == self.shape() {
            return Ok(self.clone());
        }
        let out = match self.layout().reshape_view(shape) {
            Some(l) => self.view_with(l),
            None => {
                let c = kernels::try_copy(op, self)?;
                c.view_with(
                    c.layout()
                        .reshape_view(shape)
                        .expect("a fresh copy is contiguous"),
                )
            }
        };
        let in_shape = self.shape_vec();
        Ok(record(
            name,
            out,
            &[self],
            |_, _| move |a| grads([Some(a.grad.reshape(&in_shape))]),
            |j| j.t(0).expect("tangent").reshape(&j.shape(shape)),
        ))
    }
}

/// Zeros of `shape` with `g` placed at `index` along `dim` (the backward of select), itself
/// differentiable: its backward selects again.
fn select_backward(g: &Tensor, shape: &[usize], dim: usize, index: usize) -> Tensor {
    let out = kernels::select_scatter(g, shape, dim, index);
    record(
        "SelectBackwardBackward0",
        out,
        &[g],
        |_, _| move |a| grads([Some(a.grad.select(dim as isize, index as isize))]),
        |j| {
            select_backward(
                j.t(0).expect("tangent"),
                &j.shape(shape),
                dim + j.b(),
                index,
            )
        },
    )
}
