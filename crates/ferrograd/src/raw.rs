//! Untracked computations on tensors: kernels applied to a tensor's storage and layout, no
//! graph.
//!
//! Each function here checks what a user can get wrong (shapes that do not broadcast, dtypes
//! an op does not take) with PyTorch's message, locks the operands' storages for reading,
//! runs a [`kernels`] function on their buffers and layouts, and wraps the buffer it returns
//! in a new contiguous [`Tensor`] with no history. `ops` records the result in the graph.
//!
//! Twins follow the crate's error policy: a function returning `Result` gives every failure,
//! an allocation that cannot succeed included, as the `Err`; the others are used by ops that
//! cannot fail on valid tensors and panic with the same message (PyTorch's allocator error).

use crate::batching;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::kernels;
use crate::layout::Layout;
use crate::lazy;
use crate::storage::Buffer;
use crate::tensor::Tensor;
use std::sync::Arc;

/// Runs `f` with read access to the buffers of `a` and `b` (one lock when they share storage).
pub(crate) fn read2<R>(a: &Tensor, b: &Tensor, f: impl FnOnce(&Buffer, &Buffer) -> R) -> R {
    if Arc::ptr_eq(a.storage(), b.storage()) {
        let g = a.storage().read();
        f(&g, &g)
    } else {
        let ga = a.storage().read();
        let gb = b.storage().read();
        f(&ga, &gb)
    }
}

/// [`read2`] for three tensors: each distinct storage is locked once (a second read lock on
/// one `RwLock` from one thread could wait behind a queued writer forever).
fn read3<R>(
    a: &Tensor,
    b: &Tensor,
    c: &Tensor,
    f: impl FnOnce(&Buffer, &Buffer, &Buffer) -> R,
) -> R {
    if Arc::ptr_eq(a.storage(), c.storage()) {
        read2(a, b, |x, y| f(x, y, x))
    } else if Arc::ptr_eq(b.storage(), c.storage()) {
        read2(a, b, |x, y| f(x, y, y))
    } else {
        let gc = c.storage().read();
        read2(a, b, |x, y| f(x, y, &gc))
    }
}

/// A new tensor of `shape` over `buf` (a kernel's result), or the kernel's error.
fn wrap(buf: Result<Buffer>, shape: &[usize]) -> Result<Tensor> {
    buf.map(|b| Tensor::from_buffer(b, shape))
}

/// The dtype of a binary op's result (PyTorch promotion: a 0-d operand does not widen a
/// dimensioned one of the same category).
pub(crate) fn result_type(a: &Tensor, b: &Tensor) -> DType {
    kernels::promote_types(a.dtype(), a.dim() == 0, b.dtype(), b.dim() == 0)
}

/// Elementwise map of a floating tensor (a bool or integer tensor is read as `f32`), with
/// `bulk`'s vectorisable `f32` function for large contiguous `f32` tensors (see
/// [`kernels::map_float_bulk`]).
///
/// With `lazy` (the same function on blocks), a large contiguous floating input gives a
/// pending result instead, computed when first read (see [`crate::lazy`]).
pub(crate) fn map_float_bulk(
    x: &Tensor,
    bulk: Option<kernels::fastmath::Bulk>,
    lazy: Option<&Arc<dyn lazy::Block>>,
    f32f: impl Fn(f32) -> f32 + Sync,
    f64f: impl Fn(f64) -> f64 + Sync,
) -> Tensor {
    if x.is_batched() {
        let y = batching::map(x, |p| Ok(map_float_bulk(p, bulk, lazy, f32f, f64f)));
        return crate::unwrap(y);
    }
    if let Some(block) = lazy.filter(|_| x.numel() >= lazy::LAZY_MIN) {
        if let (true, Some(r)) = (x.dtype().is_floating_point(), x.layout().contiguous_range()) {
            let op = lazy::Operand::Elements(x.storage().clone(), r.start);
            let st = lazy::deferred(block.clone(), vec![op], x.dtype(), r.len());
            return Tensor::from_parts(st, Layout::contiguous(x.shape()), x.dtype(), None);
        }
    }
    let out = kernels::map_float_bulk(&x.storage().read(), x.layout(), bulk, f32f, f64f);
    crate::unwrap(wrap(out, x.shape()))
}

/// Elementwise binary op with broadcasting and type promotion (floating result; integers are
/// computed exactly in `f64` below 2^53 and cast back).
///
/// With `lazy` (the same function on blocks), large floating operands that need no
/// broadcasting (or are one value) give a pending result, computed when first read.
pub(crate) fn zip_float(
    op: &'static str,
    a: &Tensor,
    b: &Tensor,
    lazy: Option<&Arc<dyn lazy::Block>>,
    f32f: impl Fn(f32, f32) -> f32 + Sync,
    f64f: impl Fn(f64, f64) -> f64 + Sync,
) -> Result<Tensor> {
    let shape = crate::layout::broadcast(op, a.shape(), b.shape())?;
    let dtype = result_type(a, b);
    if dtype == DType::Bool {
        return Err(Error::invalid(
            op,
            "arithmetic on two bool tensors is not supported; convert one with to_dtype",
        ));
    }
    if a.is_batched() || b.is_batched() {
        return batching::broadcasting([a, b], |[a, b]| zip_float(op, &a, &b, lazy, f32f, f64f));
    }
    if let Some(block) = lazy.filter(|_| crate::layout::numel(&shape) >= lazy::LAZY_MIN) {
        if let Some(t) = deferred_zip(block, a, b, &shape, dtype) {
            return Ok(t);
        }
    }
    let out = read2(a, b, |ba, bb| {
        kernels::zip_float(ba, a.layout(), bb, b.layout(), &shape, dtype, f32f, f64f)
    });
    wrap(out, &shape)
}

/// Elementwise `f` on two operands whose result type is `int64` (bool operands read as 0 and
/// 1), with broadcasting: exact integer arithmetic.
pub(crate) fn zip_int(
    op: &'static str,
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(i64, i64) -> i64 + Sync,
) -> Result<Tensor> {
    let shape = crate::layout::broadcast(op, a.shape(), b.shape())?;
    if a.is_batched() || b.is_batched() {
        return batching::broadcasting([a, b], |[a, b]| zip_int(op, &a, &b, f));
    }
    let out = read2(a, b, |ba, bb| {
        kernels::zip_int(ba, a.layout(), bb, b.layout(), &shape, f)
    });
    wrap(out, &shape)
}

/// A pending `block(a, b)` of `shape` in `dtype` (floating), when each operand is either
/// contiguous of that shape and dtype or one value (a one-element tensor, or a scalar
/// expanded: every stride 0); `None` otherwise (the eager kernel broadcasts).
fn deferred_zip(
    block: &Arc<dyn lazy::Block>,
    a: &Tensor,
    b: &Tensor,
    shape: &[usize],
    dtype: DType,
) -> Option<Tensor> {
    if !dtype.is_floating_point() {
        return None;
    }
    let n = crate::layout::numel(shape);
    let operand = |t: &Tensor| {
        let l = t.layout();
        if t.numel() == 1 || (t.numel() == n && l.strides.iter().all(|&s| s == 0)) {
            // The value in the result's dtype, as the eager kernel's cast gives it.
            let v = t.storage().read().get_f64(l.offset);
            let v = if dtype == DType::F32 {
                v as f32 as f64
            } else {
                v
            };
            return Some(lazy::Operand::Const(v));
        }
        let r = l.contiguous_range()?;
        (t.dtype() == dtype && l.shape.as_slice() == shape)
            .then(|| lazy::Operand::Elements(t.storage().clone(), r.start))
    };
    let (oa, ob) = (operand(a)?, operand(b)?);
    if matches!(
        (&oa, &ob),
        (lazy::Operand::Const(_), lazy::Operand::Const(_))
    ) {
        return None;
    }
    let st = lazy::deferred(block.clone(), vec![oa, ob], dtype, n);
    Some(Tensor::from_parts(
        st,
        Layout::contiguous(shape),
        dtype,
        None,
    ))
}

/// Elementwise comparison with broadcasting, producing a bool tensor.
pub(crate) fn compare(
    op: &'static str,
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(f64, f64) -> bool + Sync,
) -> Result<Tensor> {
    let shape = crate::layout::broadcast(op, a.shape(), b.shape())?;
    if a.is_batched() || b.is_batched() {
        return batching::broadcasting([a, b], |[a, b]| compare(op, &a, &b, f));
    }
    let dtype = result_type(a, b);
    let out = read2(a, b, |ba, bb| {
        kernels::compare(ba, a.layout(), bb, b.layout(), &shape, dtype, f)
    });
    wrap(out, &shape)
}

/// A copy of `x` converted to `dtype` (the same tensor, shared, if it already has it).
pub(crate) fn cast(x: &Tensor, dtype: DType) -> Tensor {
    crate::unwrap(try_cast(x, dtype))
}

/// Fallible [`cast`]: a copy that cannot be allocated is an error.
pub(crate) fn try_cast(x: &Tensor, dtype: DType) -> Result<Tensor> {
    if x.dtype() == dtype {
        return Ok(x.clone());
    }
    if x.is_batched() {
        return batching::map(x, |p| try_cast(p, dtype));
    }
    let out = kernels::cast(&x.storage().read(), x.layout(), dtype);
    wrap(out, x.shape())
}

/// Fallible [`copy`]: a copy whose size cannot be allocated is an error, not an abort.
pub(crate) fn try_copy(op: &'static str, x: &Tensor) -> Result<Tensor> {
    crate::layout::check_alloc(op, x.shape(), crate::storage::elem_size(x.dtype()))?;
    if x.is_batched() {
        return batching::map(x, |p| try_copy(op, p));
    }
    let out = kernels::copy(&x.storage().read(), x.layout());
    wrap(out, x.shape())
}

/// A contiguous copy with its own storage.
pub(crate) fn copy(x: &Tensor) -> Tensor {
    if x.is_batched() {
        return crate::unwrap(batching::map(x, |p| Ok(copy(p))));
    }
    let out = kernels::copy(&x.storage().read(), x.layout());
    crate::unwrap(wrap(out, x.shape()))
}

/// Sum over the dimensions flagged in `reduce`, keeping them as size 1; a result that cannot be
/// allocated is an error.
pub(crate) fn try_sum_dims(x: &Tensor, reduce: &[bool]) -> Result<Tensor> {
    if x.is_batched() {
        let mut mask = vec![false];
        mask.extend_from_slice(reduce);
        return batching::map(x, |p| try_sum_dims(p, &mask));
    }
    let out = kernels::sum_dims(&x.storage().read(), x.layout(), reduce);
    wrap(out, &crate::layout::keepdim_shape(x.shape(), reduce))
}

/// The 2-norm of all elements of a floating tensor (0-d).
pub(crate) fn norm2(x: &Tensor) -> Tensor {
    if x.is_batched() {
        // One 2-norm per member: the square root of the sum of squares over the logical dims.
        let y = batching::map(x, |p| {
            let sq = zip_float("norm", p, p, None, |a, b| a * b, |a, b| a * b)?;
            let mut mask = vec![true; p.dim()];
            mask[0] = false;
            let s = try_sum_dims(&sq, &mask)?;
            let s = s.view_with(Layout::contiguous(&s.shape()[..1]));
            Ok(map_float_bulk(&s, None, None, f32::sqrt, f64::sqrt))
        });
        return crate::unwrap(y);
    }
    let out = kernels::norm2(&x.storage().read(), x.layout());
    crate::unwrap(wrap(out, &[]))
}

/// `a @ b` for 2-d `a` (m x k) and `b` (k x n) of one floating dtype, read through their
/// strides (transposed views need no copy).
pub(crate) fn matmul2d(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (m, n) = (a.shape()[0], b.shape()[1]);
    let out = read2(a, b, |ba, bb| {
        kernels::matmul2d(ba, a.layout(), bb, b.layout())
    });
    wrap(out, &[m, n])
}

/// A batch of products `a[i] @ b[i]` read in place (see [`kernels::matmul_batched`]), as a
/// tensor of `shape` (`[batch.., m, n]`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn matmul_batched(
    a: &Tensor,
    a_at: &[usize],
    sa: [usize; 2],
    b: &Tensor,
    b_at: &[usize],
    sb: [usize; 2],
    mkn: (usize, usize, usize),
    shape: &[usize],
) -> Result<Tensor> {
    let out = read2(a, b, |ba, bb| {
        kernels::matmul_batched(ba, a_at, sa, bb, b_at, sb, mkn)
    });
    wrap(out, shape)
}

/// Zeros of `shape` with `src` written at index `index` of dimension `dim`.
pub(crate) fn select_scatter(src: &Tensor, shape: &[usize], dim: usize, index: usize) -> Tensor {
    let out = kernels::select_scatter(&src.storage().read(), src.layout(), shape, dim, index);
    crate::unwrap(wrap(out, shape))
}

/// `where(mask, value, x)`: `x` with `value` wherever the (broadcast) mask is true.
pub(crate) fn masked_fill(x: &Tensor, mask: &Tensor, value: f64) -> Result<Tensor> {
    let shape = crate::layout::broadcast("masked_fill", x.shape(), mask.shape())?;
    if shape.as_slice() != x.shape() {
        return Err(Error::invalid(
            "masked_fill",
            format!(
                "mask of shape {:?} cannot be broadcast to the input's shape {:?}",
                mask.shape(),
                x.shape()
            ),
        ));
    }
    if x.is_batched() || mask.is_batched() {
        // The filled tensor keeps its shape: an unbatched one is repeated over the batch.
        let level = batching::level(&[x, mask]).expect("batched");
        let b = batching::size(&[x, mask], level);
        return batching::broadcasting([x, mask], |[px, pm]| {
            let px = match batching::inner_at(x, level) {
                Some(_) => px,
                None => batching::expanded(&px, level, b),
            };
            masked_fill(&px, &pm, value)
        });
    }
    let out = read2(x, mask, |bx, bm| {
        kernels::masked_fill(bx, x.layout(), bm, mask.layout(), value)
    });
    wrap(out, &shape)
}

/// `a` where `cond` (a bool tensor), else `b`; all three broadcast, `a` and `b` promoted to
/// one dtype.
pub(crate) fn where_select(cond: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let shape = crate::layout::broadcast("where", cond.shape(), a.shape())?;
    let shape = crate::layout::broadcast("where", &shape, b.shape())?;
    if cond.is_batched() || a.is_batched() || b.is_batched() {
        let rule = |[c, a, b]: [Tensor; 3]| where_select(&c, &a, &b);
        return batching::broadcasting([cond, a, b], rule);
    }
    let dtype = result_type(a, b);
    let out = read3(cond, a, b, |bc, ba, bb| {
        kernels::where_select(
            bc,
            cond.layout(),
            ba,
            a.layout(),
            bb,
            b.layout(),
            &shape,
            dtype,
        )
    });
    wrap(out, &shape)
}

/// A new tensor of `out_shape` with `out[p] = src[source(p)]`: `source` maps each output
/// multi-index to a source multi-index (which the caller guarantees is in bounds). A result
/// that cannot be allocated is an error.
pub(crate) fn take(
    src: &Tensor,
    out_shape: &[usize],
    source: impl Fn(&[usize], &mut [usize]),
) -> Result<Tensor> {
    let out = kernels::take(&src.storage().read(), src.layout(), out_shape, source);
    wrap(out, out_shape)
}

/// A contiguous copy of `base` with every element `p` of `src` written (or, with `accumulate`,
/// added) at `dest(p)`, a multi-index of `base`. `src` is cast to `base`'s dtype. A result
/// that cannot be allocated is an error.
pub(crate) fn try_put(
    base: &Tensor,
    src: &Tensor,
    dest: impl Fn(&[usize], &mut [usize]),
    accumulate: bool,
) -> Result<Tensor> {
    let out = read2(base, src, |bb, bs| {
        kernels::put(bb, base.layout(), bs, src.layout(), dest, accumulate)
    });
    wrap(out, base.shape())
}

/// The integer values of an index tensor, checked against `bound` (negative values count from
/// the end, as in PyTorch's index_select/gather).
pub(crate) fn index_values(op: &'static str, index: &Tensor, bound: usize) -> Result<Vec<usize>> {
    kernels::index_values(op, &index.storage().read(), index.layout(), bound)
}

/// The tensor as rows: the dimensions flagged in `reduce` moved to the end, each row one
/// reduction, values widened to `f64`. Returns the rows' values and the row length.
pub(crate) fn rows(x: &Tensor, reduce: &[bool]) -> Result<(Vec<f64>, usize)> {
    kernels::rows(&x.storage().read(), x.layout(), reduce)
}

/// Writes `src` (of `dst`'s shape and dtype) into `dst`'s elements, through vmap levels: a
/// batched `dst` gets `src`'s values at its physical tensor, an unbatched `src` repeated over
/// the batch. A `src` batched at a level `dst` is not is vmap's error (it has more elements).
pub(crate) fn write_into(op: &'static str, dst: &Tensor, src: &Tensor) -> Result<()> {
    match dst.batch() {
        Some((level, p)) => {
            if batching::level(&[src]).is_some_and(|l| l > level) {
                return Err(Error::invalid(op, batching::INPLACE));
            }
            let sp = batching::expanded(src, level, p.shape()[0]);
            write_into(op, p, &sp)
        }
        None if src.is_batched() => Err(Error::invalid(op, batching::INPLACE)),
        None => {
            // A source in the destination's storage is copied first (one lock at a time).
            let src = match Arc::ptr_eq(src.storage(), dst.storage()) {
                true => copy(src),
                false => src.clone(),
            };
            let s = src.storage().read();
            let mut d = dst.storage().write();
            kernels::write_buffer(&s, src.layout(), &mut d, dst.layout());
            Ok(())
        }
    }
}

/// Cumulative sum or (`product`) product along `dim`, in the tensor's floating dtype.
pub(crate) fn cumulative(x: &Tensor, dim: usize, product: bool) -> Result<Tensor> {
    if x.is_batched() {
        return batching::map(x, |p| cumulative(p, dim + 1, product));
    }
    let out = kernels::cumulative(&x.storage().read(), x.layout(), dim, product);
    wrap(out, x.shape())
}

/// Softmax or (`log`) log-softmax along `dim` of an unbatched floating tensor of at least one
/// dimension, in one kernel ([`kernels::softmax`]), contiguous.
pub(crate) fn softmax(x: &Tensor, dim: usize, log: bool) -> Result<Tensor> {
    let out = kernels::softmax(&x.storage().read(), x.layout(), dim, log);
    wrap(out, x.shape())
}

/// The input gradient of [`softmax`] from its output `y` and the output's gradient `g`
/// (unbatched, same shape and floating dtype), in one kernel ([`kernels::softmax_backward`]).
pub(crate) fn softmax_backward(y: &Tensor, g: &Tensor, dim: usize, log: bool) -> Result<Tensor> {
    let out = read2(y, g, |by, bg| {
        kernels::softmax_backward((by, y.layout()), (bg, g.layout()), dim, log)
    });
    wrap(out, y.shape())
}
