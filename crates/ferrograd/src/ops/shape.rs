//! Views and copies: select/indexing, expand, reshape, transpose, dtype conversion, clone;
//! and the structural form, the one declaration form of view and index primitives.
//!
//! # The structural form
//!
//! A view or index primitive is one small struct implementing [`Structural`]: its fields are
//! the forward-time parameters (computed and validated once, by the op's public body), and the
//! impl declares, side by side, PyTorch's node name, the forward (a new layout of the input, or
//! an index kernel), the backward rule and the JVP rule. [`structural`] applies it: it runs the
//! forward and records the node, the struct being the rules' only capture. Both rules are
//! written with differentiable ops, so every derivative order works in either mode.
//!
//! Adding a primitive is: the struct, its four items, and one `structural(..)` call in the op's
//! `api!` body. `transpose` (from this file):
//!
//! ```text
//! /// `x.transpose(a, b)` for normalized, distinct `a` and `b` (a view).
//! #[derive(Clone)]
//! struct Transpose { a: usize, b: usize }
//!
//! impl Structural for Transpose {
//!     fn name(&self) -> &'static str { "TransposeBackward0" }
//!     fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
//!         Ok(x[0].view_with(x[0].layout().transpose(self.a, self.b)))
//!     }
//!     fn backward(&self, g: &Tensor, _needs: &[bool]) -> Grads {
//!         grads([Some(g.transpose(self.a as isize, self.b as isize))])
//!     }
//!     fn jvp(&self, j: &Jvp) -> Tensor {
//!         // A batch of tangents has `j.b()` leading dimensions: `j.dim` shifts past them.
//!         tangent(j).transpose(j.dim(self.a), j.dim(self.b))
//!     }
//! }
//!
//! // In `api!`: pub fn transpose / try_transpose(&self, dim0: isize, dim1: isize) -> Tensor {
//! //     let (a, b) = ...; // validate, take the no-op early exits
//! //     structural(Transpose { a, b }, &[self])
//! // }
//! ```
//!
//! Multi-input primitives (`cat`) take every differentiable input in `x` and return one
//! gradient per input from `backward` (`needs[i]`: whether input `i` needs one). Non-tensor
//! inputs (an `index` tensor) are fields. Composites (`narrow`, `stack`, `flatten`, `gather`,
//! ...) need no struct: they call primitives.

use super::{grads, normalize_dim};
use crate::autograd::{record, Grads};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::forward_ad::Jvp;
use crate::layout::{broadcast_shapes, Shape};
use crate::raw;
use crate::tensor::Tensor;
use smallvec::SmallVec;

/// A view or index primitive (see the [module docs](self)): the struct's fields are its
/// forward-time parameters, the rules read them.
pub(crate) trait Structural: Clone + Send + Sync + 'static {
    /// PyTorch's name of the node.
    fn name(&self) -> &'static str;
    /// The output from the differentiable inputs (a view: a new layout; or an index kernel's
    /// result).
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor>;
    /// The inputs' gradients from the output's gradient `g`.
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Grads;
    /// The output's tangent from the inputs' (`j.t(i)`; see [`tangent`]).
    fn jvp(&self, j: &Jvp) -> Tensor;
    /// The batching rule: the output for a batch of members, `j.t(i)` being input `i`'s
    /// physical value (batch first). A linear primitive's is its JVP rule (the default); an
    /// affine one (a pad with a value) says how the constant part is batched.
    fn batched(&self, j: &Jvp) -> Result<Tensor> {
        Ok(self.jvp(j))
    }
}

/// Applies a structural primitive to its differentiable inputs: the forward, recorded with its
/// rules (the struct is cloned into the node only when recording).
pub(crate) fn structural<O: Structural>(op: O, x: &[&Tensor]) -> Result<Tensor> {
    let out = match crate::batching::level(x) {
        None => op.forward(x)?,
        // The batching rule: a structural primitive is linear, so its JVP rule maps the
        // physical values (batch first) as a batch of tangents.
        Some(level) => {
            let b = crate::batching::size(x, level);
            let values = x
                .iter()
                .map(|t| Some(crate::batching::expanded(t, level, b)))
                .collect();
            let y =
                crate::autograd::levels::physically(|| op.batched(&Jvp::batching(x, values, b)))?;
            crate::batching::wrap(y, level)
        }
    };
    Ok(record(
        op.name(),
        out,
        x,
        |_, _| {
            let op = op.clone();
            move |a| op.backward(a.grad, a.needs)
        },
        |j| op.jvp(j),
    ))
}

/// The tangent of a single-input primitive's input.
pub(crate) fn tangent<'a>(j: &'a Jvp) -> &'a Tensor {
    j.t(0).expect("the input has the tangent")
}

/// [`structural`] for primitives that cannot fail in the forward.
pub(crate) fn structural_ok<O: Structural>(op: O, x: &[&Tensor]) -> Tensor {
    crate::unwrap(structural(op, x))
}

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
            let (dim, index, shape) = (d, i as usize, self.shape_vec());
            structural(Select { dim, index, shape }, &[self])
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
            let (from, to) = (self.shape_vec(), Shape::from_slice(shape));
            structural(Expand { from, to }, &[self])
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
            let (from, to) = (self.shape_vec(), Shape::from_slice(shape));
            structural(SumTo { mask, from, to }, &[self])
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
            structural(Transpose { a, b }, &[self])
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
            structural(T, &[self])
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
            structural_ok(DeepClone, &[self])
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
            if !dtype.is_floating_point() {
                return raw::cast(self, dtype);
            }
            let (from, to) = (self.dtype(), dtype);
            structural_ok(ToDtype { from, to }, &[self])
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
        let (from, to) = (self.shape_vec(), Shape::from_slice(shape));
        structural(Reshape { op, name, from, to }, &[self])
    }
}

/// `x.select(dim, index)` (a view of an input of `shape`).
#[derive(Clone)]
struct Select {
    dim: usize,
    index: usize,
    shape: Shape,
}

impl Structural for Select {
    fn name(&self) -> &'static str {
        "SelectBackward0"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        Ok(x[0].view_with(x[0].layout().select(self.dim, self.index)))
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Grads {
        let back = SelectBackward {
            dim: self.dim,
            index: self.index,
            shape: self.shape.clone(),
        };
        grads([Some(structural_ok(back, &[g]))])
    }
    fn jvp(&self, j: &Jvp) -> Tensor {
        tangent(j).select(j.dim(self.dim), self.index as isize)
    }
}

/// Zeros of `shape` with `g` placed at `index` along `dim` (the backward of select), itself
/// differentiable: its backward selects again.
#[derive(Clone)]
struct SelectBackward {
    dim: usize,
    index: usize,
    shape: Shape,
}

impl Structural for SelectBackward {
    fn name(&self) -> &'static str {
        "SelectBackwardBackward0"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        Ok(raw::select_scatter(x[0], &self.shape, self.dim, self.index))
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Grads {
        grads([Some(g.select(self.dim as isize, self.index as isize))])
    }
    fn jvp(&self, j: &Jvp) -> Tensor {
        let batched = SelectBackward {
            dim: self.dim + j.b(),
            index: self.index,
            shape: j.shape(&self.shape).into_iter().collect(),
        };
        structural_ok(batched, &[tangent(j)])
    }
}

/// `x.expand(to)` of an input of shape `from` (a view with stride 0 on new dimensions).
#[derive(Clone)]
struct Expand {
    from: Shape,
    to: Shape,
}

impl Structural for Expand {
    fn name(&self) -> &'static str {
        "ExpandBackward0"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        Ok(x[0].view_with(x[0].layout().broadcast_to(&self.to)))
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Grads {
        grads([Some(g.sum_to(&self.from))])
    }
    fn jvp(&self, j: &Jvp) -> Tensor {
        j.align(tangent(j), self.to.len())
            .expand(&j.shape(&self.to))
    }
}

/// `x.sum_to(to)` of an input of shape `from`, summing the dimensions in `mask`.
#[derive(Clone)]
struct SumTo {
    mask: SmallVec<[bool; 4]>,
    from: Shape,
    to: Shape,
}

impl Structural for SumTo {
    fn name(&self) -> &'static str {
        "SumBackward1"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        let summed = raw::try_sum_dims(x[0], &self.mask)?;
        Ok(summed.view_with(
            summed
                .layout()
                .reshape_view(&self.to)
                .expect("a fresh sum is contiguous"),
        ))
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Grads {
        grads([Some(g.expand(&self.from))])
    }
    fn jvp(&self, j: &Jvp) -> Tensor {
        let dims: Vec<usize> = (0..self.mask.len()).filter(|&d| self.mask[d]).collect();
        tangent(j)
            .sum_dims(&j.dims(&dims), true)
            .reshape(&j.shape(&self.to))
    }
}

/// `x.reshape(to)` of an input of shape `from` (a view when the layout allows, else a copy),
/// recorded as `name` (reshape, squeeze, unsqueeze).
#[derive(Clone)]
struct Reshape {
    op: &'static str,
    name: &'static str,
    from: Shape,
    to: Shape,
}

impl Structural for Reshape {
    fn name(&self) -> &'static str {
        self.name
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        Ok(match x[0].layout().reshape_view(&self.to) {
            Some(l) => x[0].view_with(l),
            None => {
                let c = raw::try_copy(self.op, x[0])?;
                c.view_with(
                    c.layout()
                        .reshape_view(&self.to)
                        .expect("a fresh copy is contiguous"),
                )
            }
        })
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Grads {
        grads([Some(g.reshape(&self.from))])
    }
    fn jvp(&self, j: &Jvp) -> Tensor {
        tangent(j).reshape(&j.shape(&self.to))
    }
}

/// `x.transpose(a, b)` for normalized, distinct `a` and `b` (a view).
#[derive(Clone)]
struct Transpose {
    a: usize,
    b: usize,
}

impl Structural for Transpose {
    fn name(&self) -> &'static str {
        "TransposeBackward0"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        Ok(x[0].view_with(x[0].layout().transpose(self.a, self.b)))
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Grads {
        grads([Some(g.transpose(self.a as isize, self.b as isize))])
    }
    fn jvp(&self, j: &Jvp) -> Tensor {
        // A batch of tangents has `j.b()` leading dimensions: `j.dim` shifts past them.
        tangent(j).transpose(j.dim(self.a), j.dim(self.b))
    }
}

/// `x.t()` of a 2-d tensor (a view).
#[derive(Clone)]
struct T;

impl Structural for T {
    fn name(&self) -> &'static str {
        "TBackward0"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        Ok(x[0].view_with(x[0].layout().transpose(0, 1)))
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Grads {
        grads([Some(g.t())])
    }
    fn jvp(&self, j: &Jvp) -> Tensor {
        tangent(j).transpose(j.dim(0), j.dim(1))
    }
}

/// PyTorch's `x.clone()`: a contiguous copy.
#[derive(Clone)]
struct DeepClone;

impl Structural for DeepClone {
    fn name(&self) -> &'static str {
        "CloneBackward0"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        Ok(raw::copy(x[0]))
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Grads {
        grads([Some(g.clone())])
    }
    fn jvp(&self, j: &Jvp) -> Tensor {
        // A copy too: the clone's tangent must not alias the input's.
        tangent(j).deep_clone()
    }
}

/// A conversion between floating dtypes.
#[derive(Clone)]
struct ToDtype {
    from: DType,
    to: DType,
}

impl Structural for ToDtype {
    fn name(&self) -> &'static str {
        "ToCopyBackward0"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        Ok(raw::cast(x[0], self.to))
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Grads {
        grads([Some(g.to_dtype(self.from))])
    }
    fn jvp(&self, j: &Jvp) -> Tensor {
        // The tangent (and, under vmap, the physical value) converts with the primal.
        tangent(j).to_dtype(self.to)
    }
}
