//! Differentiable operations. Each primitive keeps its name, forward kernel, backward rule and
//! forward-mode (JVP) rule together, as the arguments of one `record` call; both rules are
//! written with these same differentiable ops, so `create_graph = true` records them and every
//! derivative order works, in either mode.

mod advanced;
mod binary;
mod bitwise;
mod compare;
mod factor;
pub(crate) mod index;
mod inplace;
mod layers;
pub mod linalg;
mod losses;
mod math;
pub mod nn;
mod operators;
mod products;
mod reduce;
mod reductions;
mod shape;
mod sorting;
mod special;
mod spectral;
mod unary;

use crate::autograd::{record, Grads};
use crate::dtype::Float;
use crate::error::Result;
use crate::raw;
use crate::tensor::Tensor;
use smallvec::{smallvec, SmallVec};
use std::sync::Arc;

/// The registry's slices, one per module that declares ops with `api!` (see
/// [`crate::registry`]).
pub(crate) const REGISTRY: &[&[crate::registry::OpDef]] = &[
    unary::UNARY_OPS,
    unary::ACTIVATION_OPS,
    binary::BINARY_OPS,
    compare::COMPARE_OPS,
    bitwise::BITWISE_OPS,
    bitwise::BITWISE_UNARY,
    compare::WHERE_OPS,
    reduce::REDUCE_OPS,
    shape::SHAPE_OPS,
    index::INDEX_OPS,
    index::INDEX_LISTS,
    inplace::INPLACE_OPS,
    linalg::LINALG_OPS,
    linalg::LINALG_LISTS,
    factor::FACTOR_OPS,
    reductions::REDUCTIONS_OPS,
    nn::NN_OPS,
    nn::NN_TENSOR_OPS,
    nn::NN_KEYWORD_OPS,
    layers::LAYERS_OPS,
    losses::LOSSES_OPS,
    special::SPECIAL_OPS,
    special::SPECIAL_BINARY_OPS,
    special::SPECIAL_COMPOSITE_OPS,
    spectral::SPECTRAL_OPS,
    sorting::SORTING_OPS,
    sorting::SORTING_FUNCTIONS,
    products::LINALG_PRODUCTS,
    products::PRODUCT_OPS,
    advanced::ADVANCED_OPS,
    math::MATH_OPS,
    math::MATH_LISTS,
];

pub(crate) use crate::layout::normalize_dim;

/// A composite's result under PyTorch's node name (see [`crate::autograd::relabel`]).
pub(crate) fn named(result: Result<Tensor>, name: &'static str) -> Result<Tensor> {
    result.map(|t| crate::autograd::relabel(t, name))
}

/// Which dimensions a reduction over `dims` reduces (negative dims allowed; empty means all).
pub(crate) fn reduce_mask(
    op: &'static str,
    x: &Tensor,
    dims: &[isize],
) -> Result<SmallVec<[bool; 4]>> {
    let mut m = crate::layout::reduce_mask(op, x.dim(), dims)?;
    if dims.is_empty() {
        m.iter_mut().for_each(|b| *b = true);
    }
    Ok(m)
}

/// How many elements each output of a reduction over `mask` combines.
pub(crate) fn reduced_count(x: &Tensor, mask: &[bool]) -> usize {
    x.shape()
        .iter()
        .zip(mask)
        .filter(|(_, &m)| m)
        .map(|(&d, _)| d)
        .product()
}

/// The shape of a reduction over `mask`: reduced dimensions kept as 1 or dropped.
pub(crate) fn reduced_shape(x: &Tensor, mask: &[bool], keepdim: bool) -> crate::layout::Shape {
    x.shape()
        .iter()
        .zip(mask)
        .filter(|(_, &m)| keepdim || !m)
        .map(|(&d, &m)| if m { 1 } else { d })
        .collect()
}

/// What an elementwise unary op keeps for its backward rule.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Saves {
    /// Nothing: the rule gets the incoming gradient in place of a saved tensor.
    Nothing,
    /// The op's input.
    Input,
    /// The op's output.
    Output,
    /// A number (kept by the rule), where PyTorch saves it as a tensor: the node is freed by
    /// a backward like one with saved tensors (a second backward is PyTorch's error).
    Scalar,
}

/// An elementwise unary primitive: forward `f` and backward `df` side by side. Declared as a row
/// of `unary_ops!` (see `ops/unary.rs`), which writes this impl.
pub(crate) trait Unary: Copy + Send + Sync + 'static {
    /// PyTorch's name of the backward node.
    const NAME: &'static str;
    /// What `df` receives as `saved`.
    const SAVES: Saves;
    /// The forward, one element.
    fn f<T: Float>(self, x: T) -> T;
    /// The gradient with respect to the input, from the saved tensor and incoming gradient `g`.
    fn df(self, saved: &Tensor, g: &Tensor) -> Tensor;
    /// A vectorisable `f32` forward for large tensors (see `fastmath`), if there is one.
    fn bulk_f32(self) -> Option<crate::kernels::fastmath::Bulk> {
        None
    }
}

/// A unary primitive's forward on blocks, for deferred evaluation ([`crate::lazy`]): the same
/// per-element function, and the same fast path, as its eager kernel.
struct UnaryBlock<O>(O);

impl<O: Unary> crate::lazy::Block for UnaryBlock<O> {
    fn f32(&self, a: &[f32], _: &[f32], out: &mut [f32]) {
        match self.0.bulk_f32() {
            Some(b) => crate::kernels::bulk_f32(b, a, out),
            None => crate::kernels::map_into(a, out, &|v| self.0.f(v)),
        }
    }
    fn f64(&self, a: &[f64], _: &[f64], out: &mut [f64]) {
        crate::kernels::map_into(a, out, &|v| self.0.f(v))
    }
}

/// A binary primitive's forward on blocks (see [`UnaryBlock`]).
struct BinaryBlock<O>(O);

impl<O: Binary> crate::lazy::Block for BinaryBlock<O> {
    fn f32(&self, a: &[f32], b: &[f32], out: &mut [f32]) {
        crate::kernels::zip_into(a, b, out, &|x, y| self.0.f(x, y))
    }
    fn f64(&self, a: &[f64], b: &[f64], out: &mut [f64]) {
        crate::kernels::zip_into(a, b, out, &|x, y| self.0.f(x, y))
    }
}

/// The deferred form of an op on `n` elements, when that many are worth deferring.
fn lazy_block(
    n: usize,
    block: impl FnOnce() -> Arc<dyn crate::lazy::Block>,
) -> Option<Arc<dyn crate::lazy::Block>> {
    (n >= crate::lazy::LAZY_MIN).then(block)
}

/// Applies an elementwise unary primitive and records it.
pub(crate) fn unary<O: Unary>(op: O, x: &Tensor) -> Tensor {
    let lazy = lazy_block(x.numel(), || Arc::new(UnaryBlock(op)));
    let y = raw::map_float_bulk(x, op.bulk_f32(), lazy.as_ref(), |v| op.f(v), |v| op.f(v));
    record(
        O::NAME,
        y,
        &[x],
        |_, s| {
            let saved = match O::SAVES {
                Saves::Nothing => None,
                Saves::Scalar => {
                    s.save_scalar();
                    None
                }
                Saves::Input => Some(s.save(x)),
                Saves::Output => Some(s.save_output()),
            };
            move |a| smallvec![Some(op.df(saved.map_or(a.grad, |h| &a[h]), a.grad))]
        },
        // A diagonal Jacobian is its own transpose: the backward rule maps tangents too.
        |j| {
            let t = j.t(0).expect("the input has the tangent");
            match O::SAVES {
                Saves::Nothing | Saves::Scalar => op.df(t, t),
                Saves::Input => op.df(j.x(0), t),
                Saves::Output => op.df(j.out(), t),
            }
        },
    )
}

/// An elementwise binary primitive with broadcasting. Declared as a row of `binary_ops!` (see
/// `ops/binary.rs`), which writes this impl.
pub(crate) trait Binary: Copy + Send + Sync + 'static {
    /// PyTorch's name of the backward node.
    const NAME: &'static str;
    /// The operation's name in error messages.
    const OP: &'static str;
    /// The forward, one element pair.
    fn f<T: Float>(self, a: T, b: T) -> T;
    /// Which of `[a, b]` the backward needs, given which inputs need gradients.
    fn saves(needs: [bool; 2]) -> [bool; 2];
    /// Gradients for `[a, b]` (at the broadcast shape; the engine reduces them). Inputs not
    /// saved are `None`.
    fn df(
        self,
        a: Option<&Tensor>,
        b: Option<&Tensor>,
        g: &Tensor,
        needs: [bool; 2],
    ) -> [Option<Tensor>; 2];
    /// Whether [`Binary::int`] computes an `int64` result (otherwise integers go through
    /// `f64`).
    const INT: bool = false;
    /// The forward on one `i64` pair, when [`Binary::INT`].
    fn int(self, _a: i64, _b: i64) -> i64 {
        unreachable!("a binary op without an integer form")
    }
}

/// Applies a binary primitive and records it.
pub(crate) fn binary<O: Binary>(op: O, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if O::INT && raw::result_type(a, b) == crate::DType::I64 {
        // Integers cannot require grad: nothing to record.
        return raw::zip_int(O::OP, a, b, |x, y| op.int(x, y));
    }
    let n = a.numel().max(b.numel());
    let lazy = lazy_block(n, || Arc::new(BinaryBlock(op)));
    let out = raw::zip_float(
        O::OP,
        a,
        b,
        lazy.as_ref(),
        |x, y| op.f(x, y),
        |x, y| op.f(x, y),
    )?;
    // A bool or integer operand of a floating result is saved (and read by the rules) in the
    // result's dtype: it cannot require grad, and the rules' arithmetic on it must not fail
    // (atan2(bool, float)'s gradient squares the bool operand).
    let promote = |t: &Tensor| !t.dtype().is_floating_point() && out.dtype().is_floating_point();
    let (pa, pb);
    let a = if promote(a) {
        pa = a.to_dtype(out.dtype());
        &pa
    } else {
        a
    };
    let b = if promote(b) {
        pb = b.to_dtype(out.dtype());
        &pb
    } else {
        b
    };
    Ok(record(
        O::NAME,
        out,
        &[a, b],
        // What is saved is decided by which inputs require grad in the forward; a backward may
        // need fewer (the engine prunes, and drops what is not needed).
        |needs, s| {
            let keep = O::saves([needs[0], needs[1]]);
            let sa = keep[0].then(|| s.save(a));
            let sb = keep[1].then(|| s.save(b));
            move |args| {
                let needs = [args.needs(0), args.needs(1)];
                let [ga, gb] = op.df(sa.map(|h| &args[h]), sb.map(|h| &args[h]), args.grad, needs);
                smallvec![ga, gb]
            }
        },
        // Elementwise: each input's Jacobian is diagonal (after broadcasting), so its backward
        // rule applied to its (aligned) tangent is its JVP term.
        |j| {
            let n = j.out().dim();
            let term = |i: usize| {
                j.t(i).and_then(|t| {
                    let needs = [i == 0, i == 1];
                    op.df(Some(a), Some(b), &j.align(t, n), needs)[i].clone()
                })
            };
            j.sum([term(0), term(1)])
        },
    ))
}

/// Helper for rules: gradients for a list of inputs.
pub(crate) fn grads<const N: usize>(g: [Option<Tensor>; N]) -> Grads {
    g.into_iter().collect()
}
