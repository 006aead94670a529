//! The reduction form ([`Reduce`], [`reduce`]) and the reductions declared with it here: sum,
//! mean, the 2-norm; `masked_fill`, used by their rules.
//!
//! # The reduction form
//!
//! A reduction primitive (an op over some dimensions of one tensor: a sum, a maximum, a running
//! product, a softmax) is one `impl Reduce`, declaring together its node name, its forward over
//! the reduced dimensions, what it saves (typed [`SavedTensor`] handles), its backward rule and
//! its JVP rule. [`reduce`] does the rest once for all of them: it checks the dims argument
//! ([`Dims`]) and works out the mask, the count and the output and kept shapes ([`Over`]), runs
//! the op's check and forward, gives the result the output shape (`keepdim` or not), records
//! the node, reshapes the incoming gradient to the kept shape (reduced dimensions as size 1,
//! which broadcasts against the input) before the rule sees it, and calls the JVP rule with
//! the input's tangent. Composites (var, std, logsumexp, prod, p-norms) are written with
//! primitives and need no rule.
//!
//! Worked example: a new primitive `amax` (gradient shared among the ties) is
//!
//! ```text
//! #[derive(Clone, Copy)]
//! struct Amax;
//! impl Reduce for Amax {
//!     type Saved = (SavedTensor, SavedTensor);           // what the rule reads back
//!     fn op(self) -> &'static str { "amax" }             // the name in error messages
//!     fn name(self, _: &Over) -> &'static str { "AmaxBackward0" } // PyTorch's node
//!     fn forward(self, x: &Tensor, over: &Over) -> Result<Tensor> {
//!         Ok(raw::amax(x, &over.mask))               // any shape with the output's numel
//!     }
//!     fn save(self, s: &mut Saver, x: &Tensor) -> Self::Saved {
//!         (s.save(x), s.save_output())
//!     }
//!     fn backward(self, a: &BackwardArgs, &(x, y): &Self::Saved, g: &Tensor, over: &Over) -> Tensor {
//!         // g has the kept shape; the saved output is reshaped to it with over.keep
//!         let hits = a[x].eq(&over.keep(&a[y])).to_dtype(a[x].dtype());
//!         &(g / &hits.sum_dims(&over.idims(), true)) * &hits
//!     }
//!     fn jvp(self, j: &Jvp, t: &Tensor, over: &Over) -> Tensor {
//!         ... // the output's tangent; over.sum_tangent(j, t) sums over the reduced dims
//!     }
//! }
//! // and the public op, one api! item:
//! pub fn amax / try_amax(&self, dim: &[isize] = &[], keepdim: bool = false) -> Tensor {
//!     reduce(Amax, self, Dims::List(dim, keepdim))
//! }
//! ```
//!
//! `Dims::All` is the whole-tensor form (`sum()`: a 0-d result, kept shape `[]`),
//! `Dims::List(dims, keepdim)` a list of dims (empty: all) and `Dims::Along(dim)` one dim whose
//! size stays (running sums, softmax). The ops' `check` (default: none) rejects what the
//! forward cannot do (a maximum of nothing) before anything runs.

use super::grads;
use crate::autograd::node::{BackwardArgs, SavedTensor, Saver};
use crate::autograd::record;
use crate::error::{Error, Result};
use crate::forward_ad::Jvp;
use crate::layout::Shape;
use crate::raw;
use crate::tensor::Tensor;
use smallvec::SmallVec;

/// Which dimensions a reduction call reduces, as its caller passes them.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Dims<'a> {
    /// The whole tensor, to a 0-d result (`sum()`).
    All,
    /// These dims (negative counts from the end; empty: all), kept as size 1 when `keepdim`.
    List(&'a [isize], bool),
    /// One dim, whose size the result keeps (`cumsum(dim)`, `softmax(dim)`); a 0-d input
    /// accepts dim 0 and -1, as in PyTorch.
    Along(isize),
}

/// The dimensions one reduction call reduces, worked out once by [`reduce`] for the op's
/// forward and rules.
#[derive(Clone, Debug)]
pub(crate) struct Over {
    /// Which input dimensions are reduced.
    pub(crate) mask: SmallVec<[bool; 4]>,
    /// The reduced dimensions, ascending (for `Dims::Along`, the one dim, 0 for a 0-d input).
    pub(crate) dims: SmallVec<[usize; 4]>,
    /// How many input elements each output element combines.
    pub(crate) count: usize,
    /// The input's shape.
    pub(crate) input: Shape,
    /// The output's shape with the reduced dims kept as size 1, which broadcasts against the
    /// input (`[]` for `Dims::All`); the rule's gradient has this shape.
    pub(crate) kept: Shape,
    /// The output's shape.
    pub(crate) out: Shape,
    /// Whether the output keeps the reduced dims as size 1.
    pub(crate) keepdim: bool,
    /// `Dims::All`: a whole-tensor reduction.
    pub(crate) all: bool,
    /// Whether the caller named dims (a non-empty list, or one dim).
    pub(crate) given: bool,
}

impl Over {
    fn new(op: &'static str, x: &Tensor, dims: Dims) -> Result<Over> {
        let input = x.shape_vec();
        let (mask, keepdim, all, given) = match dims {
            Dims::All => (SmallVec::from_elem(true, x.dim()), false, true, false),
            Dims::List(d, keepdim) => {
                (super::reduce_mask(op, x, d)?, keepdim, false, !d.is_empty())
            }
            Dims::Along(d) => {
                let d = super::normalize_dim(op, d, x.dim().max(1))?;
                let mut mask = SmallVec::from_elem(false, x.dim());
                if let Some(m) = mask.get_mut(d) {
                    *m = true;
                }
                let count = input.get(d).copied().unwrap_or(1);
                return Ok(Over {
                    mask,
                    dims: SmallVec::from_elem(d, 1),
                    count,
                    kept: input.clone(),
                    out: input.clone(),
                    input,
                    keepdim: true,
                    all: false,
                    given: true,
                });
            }
        };
        let dims = (0..mask.len()).filter(|&d| mask[d]).collect();
        let count = super::reduced_count(x, &mask);
        let (kept, out) = if all {
            (Shape::new(), Shape::new())
        } else {
            (
                super::reduced_shape(x, &mask, true),
                super::reduced_shape(x, &mask, keepdim),
            )
        };
        Ok(Over {
            mask,
            dims,
            count,
            input,
            kept,
            out,
            keepdim,
            all,
            given,
        })
    }

    /// The reduced dims as `isize` (arguments of other ops).
    pub(crate) fn idims(&self) -> Vec<isize> {
        self.dims.iter().map(|&d| d as isize).collect()
    }

    /// `t` (the output's shape, or the kept one) in the kept shape.
    pub(crate) fn keep(&self, t: &Tensor) -> Tensor {
        t.reshape(&self.kept)
    }

    /// The sum of a tangent over the reduced dims, at the output's tangent shape.
    pub(crate) fn sum_tangent(&self, j: &Jvp, t: &Tensor) -> Tensor {
        if self.all {
            return j.sum_all(t);
        }
        // A 0-d input reduces over nothing (an empty list would sum the batch too).
        if self.dims.is_empty() {
            return t.clone();
        }
        t.sum_dims(&j.dims(&self.dims), self.keepdim)
    }
}

/// A reduction primitive, declared in one place: see the [module docs](self).
pub(crate) trait Reduce: Copy + Send + Sync + 'static {
    /// What the backward rule reads back: typed handles from [`Reduce::save`].
    type Saved: Send + Sync + 'static;
    /// The op's name in error messages (`"amax"`).
    fn op(self) -> &'static str;
    /// PyTorch's name of the node (it may depend on the form: `SumBackward0` for `sum()`).
    fn name(self, over: &Over) -> &'static str;
    /// Rejects input the forward cannot reduce (after the dims were checked).
    fn check(self, _x: &Tensor, _over: &Over) -> Result<()> {
        Ok(())
    }
    /// The forward kernel: the reduced values, contiguous, in any shape with the output's
    /// number of elements (the form gives them the output's shape).
    fn forward(self, x: &Tensor, over: &Over) -> Result<Tensor>;
    /// Saves what the backward needs (runs only when the node is recorded).
    fn save(self, s: &mut Saver, x: &Tensor) -> Self::Saved;
    /// The input's gradient from the output's gradient `g`, given at `over.kept`.
    fn backward(self, a: &BackwardArgs, saved: &Self::Saved, g: &Tensor, over: &Over) -> Tensor;
    /// The output's tangent (at the output's tangent shape) from the input's tangent `t`.
    fn jvp(self, j: &Jvp, t: &Tensor, over: &Over) -> Tensor;
}

/// Applies a reduction primitive to `x` over `dims` and records it: the one place that
/// checks dims, shapes the result and the gradient, and records the node.
pub(crate) fn reduce<R: Reduce>(op: R, x: &Tensor, dims: Dims) -> Result<Tensor> {
    let over = Over::new(op.op(), x, dims)?;
    op.check(x, &over)?;
    let out = match x.batch() {
        None => {
            let y = op.forward(x, &over)?;
            // A fresh handle in the output's shape (the kernel's result is contiguous).
            y.view_with(
                y.layout()
                    .reshape_view(&over.out)
                    .expect("a contiguous result"),
            )
        }
        Some((level, p)) => batched(op, p, &over, dims).map(|y| crate::batching::wrap(y, level))?,
    };
    Ok(record(
        op.name(&over),
        out,
        &[x],
        |_, s| {
            let saved = op.save(s, x);
            let over = over.clone();
            move |a| grads([Some(op.backward(a, &saved, &over.keep(a.grad), &over))])
        },
        |j| op.jvp(j, j.t(0).expect("the input has the tangent"), &over),
    ))
}

/// The batching rule of reductions: the reduced dims shift past the batch dim of the physical
/// value `p` (a 0-d logical input gets a size-1 dim to reduce), and the result is reshaped to
/// the batch followed by the logical output's shape.
fn batched<R: Reduce>(op: R, p: &Tensor, over: &Over, dims: Dims) -> Result<Tensor> {
    crate::autograd::levels::physically(|| {
        let p = if over.input.is_empty() {
            p.unsqueeze(1)
        } else {
            p.clone()
        };
        let shifted: Vec<isize> = if over.input.is_empty() {
            vec![1]
        } else {
            over.dims.iter().map(|&d| d as isize + 1).collect()
        };
        let y = match dims {
            Dims::Along(_) => reduce(op, &p, Dims::Along(shifted[0]))?,
            Dims::All => reduce(op, &p, Dims::List(&shifted, false))?,
            Dims::List(_, keepdim) => reduce(op, &p, Dims::List(&shifted, keepdim))?,
        };
        let mut shape = vec![p.shape()[0]];
        shape.extend_from_slice(&over.out);
        Ok(y.reshape(&shape))
    })
}

/// `sum` and `mean`, over all elements or over dims.
#[derive(Clone, Copy)]
struct Sum {
    mean: bool,
}

impl Sum {
    fn scale(self, t: Tensor, over: &Over) -> Tensor {
        if self.mean {
            t.div_scalar(over.count as f64)
        } else {
            t
        }
    }
}

impl Reduce for Sum {
    type Saved = ();
    fn op(self) -> &'static str {
        if self.mean {
            "mean"
        } else {
            "sum"
        }
    }
    fn name(self, over: &Over) -> &'static str {
        match (self.mean, over.all) {
            (false, true) => "SumBackward0",
            (false, false) => "SumBackward1",
            (true, true) => "MeanBackward0",
            (true, false) => "MeanBackward1",
        }
    }
    fn forward(self, x: &Tensor, over: &Over) -> Result<Tensor> {
        let s = raw::try_sum_dims(x, &over.mask)?;
        Ok(with_no_record(|| self.scale(s, over)))
    }
    fn save(self, _: &mut Saver, _: &Tensor) {}
    fn backward(self, _: &BackwardArgs, _: &(), g: &Tensor, over: &Over) -> Tensor {
        self.scale(g.expand(&over.input), over)
    }
    fn jvp(self, j: &Jvp, t: &Tensor, over: &Over) -> Tensor {
        self.scale(over.sum_tangent(j, t), over)
    }
}

/// The 2-norm of all elements (`torch.norm(x)`); its gradient at 0 is 0.
#[derive(Clone, Copy)]
struct Norm2;

impl Reduce for Norm2 {
    type Saved = (SavedTensor, SavedTensor);
    fn op(self) -> &'static str {
        "norm"
    }
    fn name(self, _: &Over) -> &'static str {
        "LinalgVectorNormBackward0"
    }
    fn forward(self, x: &Tensor, over: &Over) -> Result<Tensor> {
        if over.all {
            return Ok(raw::norm2(x));
        }
        // Over some dims (vmap's batched norm): the root of the sum of squares.
        let sq = raw::zip_float("norm", x, x, None, |a, b| a * b, |a, b| a * b)?;
        let s = raw::try_sum_dims(&sq, &over.mask)?;
        Ok(raw::map_float_bulk(&s, None, None, f32::sqrt, f64::sqrt))
    }
    fn save(self, s: &mut Saver, x: &Tensor) -> Self::Saved {
        (s.save(x), s.save_output())
    }
    fn backward(self, a: &BackwardArgs, &(x, y): &Self::Saved, g: &Tensor, _: &Over) -> Tensor {
        // PyTorch: grad * (self / norm).masked_fill_(norm == 0, 0)
        let (x, y) = (&a[x], &a[y]);
        g * &(x / y).masked_fill(&y.eq_scalar(0.0), 0.0)
    }
    fn jvp(self, j: &Jvp, t: &Tensor, _: &Over) -> Tensor {
        let y = j.out();
        let unit = (j.x(0) / y).masked_fill(&y.eq_scalar(0.0), 0.0);
        j.sum_all(&(t * &unit))
    }
}

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
            reduce(Sum { mean: false }, self, Dims::All).expect("a whole-tensor sum")
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
            reduce(Sum { mean: false }, self, Dims::List(dims, keepdim))
        }

        /// Mean of all elements (a 0-d tensor).
        ///
        /// ```
        /// let z = ferrograd::Tensor::full(&[2, 2], 27.0).requires_grad_(true);
        /// assert_eq!(z.mean().to_string(), "tensor(27., grad_fn=<MeanBackward0>)");
        /// ```
        pub fn mean(&self) -> Tensor {
            reduce(Sum { mean: true }, self, Dims::All).expect("a whole-tensor mean")
        }

        /// Mean over `dims`, keeping them as size 1 when `keepdim`.
        ///
        /// ```
        /// let a = ferrograd::Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
        /// assert_eq!(a.mean_dims(&[1], false).to_vec::<f32>(), vec![1.5, 3.5]);
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_mean_dims(&[0, 0], false).is_err());
        /// ```
        pub fn mean_dims / try_mean_dims(&self, dims: &[isize], keepdim: bool = false) -> Tensor {
            reduce(Sum { mean: true }, self, Dims::List(dims, keepdim))
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
            reduce(Norm2, &self.to_float(), Dims::All).expect("a whole-tensor norm")
        }

        /// `self` with `value` wherever `mask` (a bool tensor broadcastable to `self`) is true;
        /// the gradient flows only to the kept elements.
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([1.0, 2.0]);
        /// let m = ferrograd::Tensor::new([true, false]);
        /// assert_eq!(x.masked_fill(&m, 0.0).to_vec::<f32>(), vec![0.0, 2.0]);
        /// let m = ferrograd::Tensor::new([true, false, true]);
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_masked_fill(&m, 0.0).is_err());
        /// ```
        pub fn masked_fill / try_masked_fill(&self, mask: &Tensor, value: f64) -> Tensor {
            self.masked_fill_impl(mask, value)
        }
    }
}

impl Tensor {
    fn masked_fill_impl(&self, mask: &Tensor, value: f64) -> Result<Tensor> {
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

    /// This tensor in the dtype of its sums, running sums and products: its own when floating
    /// or `int64`, `int64` for bools (PyTorch's; integer ones are computed exactly).
    pub(crate) fn to_exact(&self) -> Tensor {
        if self.dtype() == crate::DType::Bool {
            self.to_dtype(crate::DType::I64)
        } else {
            self.clone()
        }
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
