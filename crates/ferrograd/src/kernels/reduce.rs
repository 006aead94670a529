//! Reduction kernels: sums over dimensions, pairwise summation, the 2-norm, rows for
//! extremes, cumulative sums and products.

use super::elementwise::cast;
use super::index::gather;
use super::{collect_vec, zeros};
use crate::dtype::{DType, Float};
use crate::error::Result;
use crate::layout::{keepdim_shape, numel, Layout, Offsets, Shape};
use crate::pool::Pooled;
use crate::storage::Buffer;

/// Sum over the dimensions flagged in `reduce`, keeping them as size 1 (the result has
/// `keepdim_shape(layout.shape, reduce)`). Bools and integers sum to `i64`, as in PyTorch.
pub(crate) fn sum_dims(buf: &Buffer, layout: &Layout, reduce: &[bool]) -> Result<Buffer> {
    let out_shape = keepdim_shape(&layout.shape, reduce);
    Ok(match buf {
        Buffer::F32(v) => Buffer::F32(sum_dims_slice(v, layout, &out_shape)?.into()),
        Buffer::F64(v) => Buffer::F64(sum_dims_slice(v, layout, &out_shape)?.into()),
        _ => {
            // PyTorch sums bools and integers in int64, exactly (wrapping on overflow).
            let Buffer::I64(v) = cast(buf, layout, DType::I64)? else {
                unreachable!("a cast to i64 gives i64")
            };
            Buffer::I64(int_sum_dims(&v, &layout.shape, &out_shape)?.into())
        }
    })
}

/// The `i64` sums of contiguous `v` of `shape` into `out_shape` (`shape` with the reduced
/// dimensions 1).
fn int_sum_dims(v: &[i64], shape: &[usize], out_shape: &[usize]) -> Result<Vec<i64>> {
    let mut out = zeros(numel(out_shape), 0i64)?;
    // The stride of each dimension in the output (0 where it is reduced).
    let mut strides = vec![0usize; shape.len()];
    let mut step = 1;
    for d in (0..shape.len()).rev() {
        if out_shape[d] != 1 || shape[d] == 1 {
            strides[d] = step;
        }
        step *= out_shape[d];
    }
    let mut index = vec![0usize; shape.len()];
    let mut at = 0usize;
    for &x in v {
        out[at] = out[at].wrapping_add(x);
        // The next multi-index, odometer style, moving `at` with it.
        for d in (0..shape.len()).rev() {
            index[d] += 1;
            at += strides[d];
            if index[d] < shape[d] {
                break;
            }
            at -= strides[d] * index[d];
            index[d] = 0;
        }
    }
    Ok(out)
}

fn sum_dims_slice<T: Float + Pooled>(
    data: &[T],
    layout: &Layout,
    out_shape: &[usize],
) -> Result<Vec<T>> {
    let n_out = numel(out_shape);
    if n_out == 1 {
        let s = match layout.contiguous_range() {
            Some(r) => pairwise_sum(&data[r]),
            None => pairwise_sum(&gather(data, layout)?),
        };
        return zeros(1, s);
    }
    if n_out == 0 || layout.numel() == 0 {
        return zeros(n_out, T::zero());
    }
    if let Some(r) = layout.contiguous_range() {
        let x = &data[r];
        let shape = &layout.shape;
        let k = shape.len();
        debug_assert_eq!(out_shape.len(), k);
        // Trailing dimensions reduced: one pairwise sum per row.
        let lead = out_shape.iter().rposition(|&d| d != 1).map_or(0, |i| i + 1);
        if out_shape[..lead] == shape[..lead] {
            let inner: usize = shape[lead..].iter().product();
            return collect_vec(n_out, x.chunks(inner.max(1)).map(pairwise_sum));
        }
        // Leading dimensions reduced (a bias gradient): rows added into the output, a loop
        // the compiler vectorises.
        let tail = out_shape.iter().position(|&d| d != 1).unwrap_or(k);
        if out_shape[tail..] == shape[tail..] {
            let mut out = zeros(n_out, T::zero())?;
            for row in x.chunks(n_out) {
                for (o, &v) in out.iter_mut().zip(row) {
                    *o = *o + v;
                }
            }
            return Ok(out);
        }
    }
    let mut out = zeros(n_out, T::zero())?;
    // Walk the input once; the output index uses stride 0 along reduced dimensions.
    let out_strides = crate::layout::contiguous_strides(out_shape);
    let bstrides: Shape = out_strides
        .iter()
        .zip(out_shape)
        .map(|(&s, &d)| if d == 1 { 0 } else { s })
        .collect();
    let src = Offsets::new(&layout.shape, &layout.strides, layout.offset);
    let dst = Offsets::new(&layout.shape, &bstrides, 0);
    for (i, o) in src.zip(dst) {
        out[o] = out[o] + data[i];
    }
    Ok(out)
}

/// Pairwise summation (error O(log n) ulp instead of O(n)), like PyTorch's cascade sum.
/// Blocks of at most 128 elements are summed in eight interleaved lanes (lane `l` adds
/// elements `l, l + 8, ...`), which the compiler turns into vector additions without
/// reordering any lane; the lanes are then combined pairwise and the tail added in order.
/// The order depends only on the length, never on threads or alignment.
pub(crate) fn pairwise_sum<T: Float>(v: &[T]) -> T {
    const BLOCK: usize = 128;
    // Halves this long are summed on two threads: the same tree, so the same bits.
    const PARALLEL: usize = 1 << 18;
    if v.len() <= BLOCK {
        let mut lanes = [T::zero(); 8];
        let chunks = v.chunks_exact(8);
        let tail = chunks.remainder();
        for c in chunks {
            for (l, &x) in lanes.iter_mut().zip(c) {
                *l = *l + x;
            }
        }
        let [a, b, c, d, e, f, g, h] = lanes;
        let s = ((a + b) + (c + d)) + ((e + f) + (g + h));
        tail.iter().fold(s, |acc, &x| acc + x)
    } else {
        let mid = v.len() / 2;
        let (a, b) = if v.len() >= PARALLEL {
            rayon::join(|| pairwise_sum(&v[..mid]), || pairwise_sum(&v[mid..]))
        } else {
            (pairwise_sum(&v[..mid]), pairwise_sum(&v[mid..]))
        };
        a + b
    }
}

/// The 2-norm of all elements of a floating buffer (a one-element buffer, 0-d): squares
/// accumulated with fused multiply-adds (one rounding per element, as PyTorch's compiled
/// kernel does) in blocks combined pairwise, then the square root.
pub(crate) fn norm2(buf: &Buffer, layout: &Layout) -> Result<Buffer> {
    fn norm<T: Float>(v: &[T], layout: &Layout) -> Result<T> {
        let data = gather(v, layout)?;
        fn block<T: Float>(v: &[T]) -> T {
            if v.len() <= 128 {
                v.iter().fold(T::zero(), |acc, &a| a.mul_add(a, acc))
            } else {
                let mid = v.len() / 2;
                block(&v[..mid]) + block(&v[mid..])
            }
        }
        Ok(block(&data).sqrt())
    }
    Ok(match buf {
        Buffer::F32(v) => Buffer::F32(smallvec::smallvec![norm(v, layout)?]),
        Buffer::F64(v) => Buffer::F64(smallvec::smallvec![norm(v, layout)?]),
        _ => unreachable!("norm of a non-floating tensor"),
    })
}

/// The elements as rows: the dimensions flagged in `reduce` moved to the end, each row one
/// reduction, values widened to `f64`. Returns the rows' values and the row length.
pub(crate) fn rows(buf: &Buffer, l: &Layout, reduce: &[bool]) -> Result<(Vec<f64>, usize)> {
    let dim = l.shape.len();
    let order: Vec<usize> = (0..dim)
        .filter(|&d| !reduce[d])
        .chain((0..dim).filter(|&d| reduce[d]))
        .collect();
    let permuted = Layout {
        shape: order.iter().map(|&d| l.shape[d]).collect(),
        strides: order.iter().map(|&d| l.strides[d]).collect(),
        offset: l.offset,
    };
    let row: usize = (0..dim)
        .filter(|&d| reduce[d])
        .map(|d| l.shape[d])
        .product();
    let values = collect_vec(permuted.numel(), permuted.offsets().map(|o| buf.get_f64(o)))?;
    Ok((values, row))
}

/// Cumulative sum or (`product`) product along `dim`, in the buffer's dtype for a floating
/// one and in `i64` (wrapping, as PyTorch's integer arithmetic) for integers and bools
/// (contiguous, of `layout`'s shape).
pub(crate) fn cumulative(
    buf: &Buffer,
    layout: &Layout,
    dim: usize,
    product: bool,
) -> Result<Buffer> {
    let shape = &layout.shape;
    let n = numel(shape);
    let len = shape[dim];
    let inner: usize = shape[dim + 1..].iter().product();
    if !buf.dtype().is_floating_point() {
        let Buffer::I64(v) = cast(buf, layout, DType::I64)? else {
            unreachable!("a cast to i64 gives i64")
        };
        let mut out = zeros(n, 0i64)?;
        for outer in 0..n / (len * inner).max(1) {
            for i in 0..inner {
                let mut acc = i64::from(product);
                for k in 0..len {
                    let p = (outer * len + k) * inner + i;
                    acc = if product {
                        acc.wrapping_mul(v[p])
                    } else {
                        acc.wrapping_add(v[p])
                    };
                    out[p] = acc;
                }
            }
        }
        return Ok(Buffer::I64(out.into()));
    }
    let v = collect_vec(n, layout.offsets().map(|o| buf.get_f64(o)))?;
    let mut out = zeros(n, 0.0)?;
    let dtype = buf.dtype();
    let round = |a: f64| {
        if dtype == DType::F32 {
            a as f32 as f64
        } else {
            a
        }
    };
    for outer in 0..n / (len * inner).max(1) {
        for i in 0..inner {
            let mut acc = if product { 1.0 } else { 0.0 };
            for k in 0..len {
                let p = (outer * len + k) * inner + i;
                // Rounded to the dtype at each step, as an accumulation in that dtype would.
                acc = round(if product { acc * v[p] } else { acc + v[p] });
                out[p] = acc;
            }
        }
    }
    Buffer::try_from_f64s(dtype, out.into_iter())
}

/// `exp` of every element into `out`, with the function the `exp` op uses on a contiguous
/// tensor of that many elements (the vectorised one from `BULK_MIN` `f32` elements).
trait SoftmaxFloat: Float + Pooled {
    fn exp_into(z: &[Self], out: &mut [Self]);
}

impl SoftmaxFloat for f32 {
    fn exp_into(z: &[f32], out: &mut [f32]) {
        if z.len() >= super::fastmath::BULK_MIN {
            super::elementwise::bulk_f32(super::fastmath::Bulk::Exp, z, out);
        } else {
            for (o, &v) in out.iter_mut().zip(z) {
                *o = v.exp();
            }
        }
    }
}

impl SoftmaxFloat for f64 {
    fn exp_into(z: &[f64], out: &mut [f64]) {
        for (o, &v) in out.iter_mut().zip(z) {
            *o = v.exp();
        }
    }
}

/// A contiguous `[outer, len, inner]` view of a tensor split at `dim`.
#[derive(Clone, Copy)]
struct Slices {
    outer: usize,
    len: usize,
    inner: usize,
}

impl Slices {
    fn of(shape: &[usize], dim: usize) -> Slices {
        let (len, inner) = (shape[dim], shape[dim + 1..].iter().product::<usize>());
        let outer = match len * inner {
            0 => 0,
            m => numel(shape) / m,
        };
        Slices { outer, len, inner }
    }

    /// Per `(outer, inner)` position, the sum of `v` along the slice: pairwise along a last
    /// dimension, in order along another (as [`sum_dims`] adds them).
    fn sums<T: Float + Pooled>(self, v: &[T]) -> Result<Vec<T>> {
        let Slices { outer, len, inner } = self;
        if inner == 1 {
            return collect_vec(outer, v.chunks(len).map(pairwise_sum));
        }
        let mut s = zeros(outer * inner, T::zero())?;
        for (o, block) in v.chunks(len * inner).enumerate() {
            let acc = &mut s[o * inner..(o + 1) * inner];
            for row in block.chunks(inner) {
                for (a, &x) in acc.iter_mut().zip(row) {
                    *a = *a + x;
                }
            }
        }
        Ok(s)
    }

    /// `f(x, s)` for every element `x` of `v`, `s` its slice's entry of `per` (in place).
    fn apply<T: Copy>(self, v: &mut [T], per: &[T], f: impl Fn(T, T) -> T) {
        let Slices { len, inner, .. } = self;
        if inner == 1 {
            for (row, &s) in v.chunks_mut(len).zip(per) {
                row.iter_mut().for_each(|x| *x = f(*x, s));
            }
            return;
        }
        for (block, p) in v.chunks_mut(len * inner).zip(per.chunks(inner)) {
            for row in block.chunks_mut(inner) {
                for (x, &s) in row.iter_mut().zip(p) {
                    *x = f(*x, s);
                }
            }
        }
    }
}

/// Softmax or (`log`) log-softmax along `dim` of a floating buffer, as a contiguous buffer of
/// the layout's shape, in one kernel. Per slice: the maximum `m` (NaN when an element is),
/// `z = x - m`, `e = exp(z)`, `s = sum(e)`, then `z - ln(s)` or `e / s`. These are the
/// operations of the composite (`x - amax(x)`, `exp`, `sum_dims`, `log`, `sub` or `div`), in
/// its order and with its functions, so the values are the composite's (checked in tests).
pub(crate) fn softmax(buf: &Buffer, layout: &Layout, dim: usize, log: bool) -> Result<Buffer> {
    fn run<T: SoftmaxFloat>(data: &[T], layout: &Layout, dim: usize, log: bool) -> Result<Buffer> {
        let sl = Slices::of(&layout.shape, dim);
        let mut z = gather(data, layout)?;
        if z.is_empty() {
            return Ok(T::into_buffer(z));
        }
        // The maxima, NaN-propagating (amax's rule), then the shift.
        let larger = |a: T, x: T| match a.is_nan() || !(x.is_nan() || x > a) {
            true => a,
            false => x,
        };
        let mut m = zeros(sl.outer * sl.inner, T::neg_infinity())?;
        if sl.inner == 1 {
            for (row, mo) in z.chunks(sl.len).zip(m.iter_mut()) {
                *mo = row.iter().fold(*mo, |a, &x| larger(a, x));
            }
        } else {
            for (block, mo) in z.chunks(sl.len * sl.inner).zip(m.chunks_mut(sl.inner)) {
                for row in block.chunks(sl.inner) {
                    mo.iter_mut()
                        .zip(row)
                        .for_each(|(a, &x)| *a = larger(*a, x));
                }
            }
        }
        sl.apply(&mut z, &m, |x, m| x - m);
        let mut e = zeros(z.len(), T::zero())?;
        T::exp_into(&z, &mut e);
        let mut s = sl.sums(&e)?;
        if log {
            s.iter_mut().for_each(|v| *v = v.ln());
            sl.apply(&mut z, &s, |z, l| z - l);
            Ok(T::into_buffer(z))
        } else {
            sl.apply(&mut e, &s, |e, s| e / s);
            Ok(T::into_buffer(e))
        }
    }
    match buf {
        Buffer::F32(v) => run(v, layout, dim, log),
        Buffer::F64(v) => run(v, layout, dim, log),
        _ => unreachable!("softmax of a non-floating buffer"),
    }
}

/// The input gradient of [`softmax`] (or `log`-softmax) along `dim`, from its output `y` and
/// the output's gradient `g` (same shape and dtype): `g - exp(y) * sum(g)` (log) or
/// `y * (g - sum(g * y))`, the rule's tensor operations in their order, in one kernel.
pub(crate) fn softmax_backward(
    y: (&Buffer, &Layout),
    g: (&Buffer, &Layout),
    dim: usize,
    log: bool,
) -> Result<Buffer> {
    fn run<T: SoftmaxFloat>(
        (y, yl): (&[T], &Layout),
        (g, gl): (&[T], &Layout),
        dim: usize,
        log: bool,
    ) -> Result<Buffer> {
        let sl = Slices::of(&yl.shape, dim);
        let (y, mut g) = (gather(y, yl)?, gather(g, gl)?);
        if g.is_empty() {
            return Ok(T::into_buffer(g));
        }
        if log {
            let s = sl.sums(&g)?;
            let mut e = zeros(y.len(), T::zero())?;
            T::exp_into(&y, &mut e);
            // e * s first (the rule's product), then g - that.
            sl.apply(&mut e, &s, |e, s| e * s);
            g.iter_mut().zip(&e).for_each(|(g, &p)| *g = *g - p);
            Ok(T::into_buffer(g))
        } else {
            let gy: Vec<T> = collect_vec(y.len(), g.iter().zip(&y).map(|(&g, &y)| g * y))?;
            let s = sl.sums(&gy)?;
            sl.apply(&mut g, &s, |g, s| g - s);
            g.iter_mut().zip(&y).for_each(|(g, &y)| *g = y * *g);
            Ok(T::into_buffer(g))
        }
    }
    match (y.0, g.0) {
        (Buffer::F32(a), Buffer::F32(b)) => run((a, y.1), (b, g.1), dim, log),
        (Buffer::F64(a), Buffer::F64(b)) => run((a, y.1), (b, g.1), dim, log),
        _ => unreachable!("softmax_backward of mixed or non-floating buffers"),
    }
}
