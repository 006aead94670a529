//! Raw kernels: loops over buffers and layouts that produce new contiguous tensors. They know
//! nothing about graphs; `ops` wraps them with backward rules.

use crate::dtype::{DType, Float};
use crate::error::{Error, Result};
use crate::layout::{broadcast_shapes, numel, Layout, Offsets, Shape};
use crate::storage::{collect, each_buffer, map_buffer, typed, Buffer, Data, Element, Scalar};
use crate::tensor::{gather, Tensor};
use smallvec::SmallVec;
use std::mem::MaybeUninit;
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

/// Elementwise map of a floating tensor (a bool tensor is read as `f32` 0/1).
pub(crate) fn map_float(
    x: &Tensor,
    f32f: impl Fn(f32) -> f32 + Sync,
    f64f: impl Fn(f64) -> f64 + Sync,
) -> Tensor {
    let x = if x.dtype().is_floating_point() {
        x.clone()
    } else {
        cast(x, DType::F32)
    };
    let buf = x.storage().read();
    let layout = x.layout();
    let out = match &*buf {
        Buffer::F32(v) => Buffer::F32(map_slice(v, layout, f32f)),
        Buffer::F64(v) => Buffer::F64(map_slice(v, layout, f64f)),
        _ => unreachable!("cast to a floating dtype above"),
    };
    Tensor::from_buffer(out, x.shape())
}

/// [`map_float`] that, for a contiguous `f32` tensor of at least `fastmath::BULK_MIN`
/// elements, computes with `bulk`'s vectorisable function (inputs it does not cover go to its
/// exact function).
pub(crate) fn map_float_bulk(
    x: &Tensor,
    bulk: Option<crate::fastmath::Bulk>,
    f32f: impl Fn(f32) -> f32 + Sync,
    f64f: impl Fn(f64) -> f64 + Sync,
) -> Tensor {
    if let (Some(b), DType::F32) = (bulk, x.dtype()) {
        let buf = x.storage().read();
        if let (Buffer::F32(v), Some(r)) = (&*buf, x.layout().contiguous_range()) {
            if r.len() >= crate::fastmath::BULK_MIN {
                let src = &v[r];
                // SAFETY: each piece first runs a `simd::map` over all of `out` (which writes
                // every element of it); the fix-up pass only overwrites some of them.
                let out = unsafe {
                    par_map(src.len(), |r, out| {
                        use crate::fastmath::{self as fm, Bulk};
                        let xs = &src[r];
                        // One instantiation per function, so each is inlined and vectorised.
                        match b {
                            Bulk::Exp => simd::map(xs, out, &fm::exp_f32),
                            Bulk::Tanh => simd::map(xs, out, &fm::tanh_f32),
                            Bulk::Sin => simd::map(xs, out, &fm::sin_f32),
                            Bulk::Cos => simd::map(xs, out, &fm::cos_f32),
                        }
                        // Inputs outside the fast function's domain, or NaN: a branch-free scan
                        // (vectorised), then a fix-up pass only when there are any.
                        let max = b.max_abs();
                        let outside = |a: f32| a.abs() > max || a.is_nan();
                        if xs.iter().fold(false, |any, &a| any | outside(a)) {
                            for (o, &a) in out.iter_mut().zip(xs) {
                                if outside(a) {
                                    o.write(b.exact(a));
                                }
                            }
                        }
                    })
                };
                return Tensor::from_buffer(Buffer::F32(Data::from_vec(out)), x.shape());
            }
        }
    }
    map_float(x, f32f, f64f)
}

fn map_slice<T: Copy + Sync, U: Copy + crate::pool::Pooled>(
    data: &[T],
    layout: &Layout,
    f: impl Fn(T) -> U + Sync,
) -> Data<U> {
    let n = layout.numel();
    if n <= crate::storage::INLINE {
        // Tiny tensors (the per-op overhead of scalar graphs): no stride odometer when the
        // elements are one run of memory.
        if let Some(r) = layout.contiguous_range() {
            return collect(n, data[r].iter().map(|&v| f(v)));
        }
        return collect(n, layout.offsets().map(|o| f(data[o])));
    }
    let gathered;
    let src: &[T] = match layout.contiguous_range() {
        Some(r) => &data[r],
        None => {
            gathered = gather(data, layout);
            &gathered
        }
    };
    // SAFETY: `simd::map` writes every element of `out` (it asserts `out` is as long as the
    // input range).
    Data::from_vec(unsafe { par_map(src.len(), |r, out| simd::map(&src[r], out, &f)) })
}

/// Elements per task of a parallel elementwise loop, and the size below which loops stay on
/// the calling thread (a task hand-off costs about as much as a few thousand elements).
const CHUNK: usize = 1 << 15;
const PARALLEL_MIN: usize = 1 << 16;

/// The `n` outputs of an elementwise loop: `piece(range, out)` writes the outputs of `range`
/// into `out`, for consecutive ranges, in parallel (rayon) for large `n`. The output is written
/// once, in place (no zero-filling first, no concatenation).
///
/// # Safety
/// `piece` must initialise every element of the `out` slice it is given (the result's length
/// is set to `n` without looking). The `simd` loops do: they assert that `out` is as long as
/// their input and write each element.
pub(crate) unsafe fn par_map<U: crate::pool::Pooled>(
    n: usize,
    piece: impl Fn(std::ops::Range<usize>, &mut [MaybeUninit<U>]) + Sync,
) -> Vec<U> {
    use rayon::prelude::*;
    let mut out: Vec<U> = crate::pool::take(n);
    let spare = &mut out.spare_capacity_mut()[..n];
    if n < PARALLEL_MIN {
        piece(0..n, spare);
    } else {
        spare
            .par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(i, chunk)| piece(i * CHUNK..i * CHUNK + chunk.len(), chunk));
    }
    // SAFETY: the pieces cover `0..n` exactly (consecutive chunks of `spare`, whose length is
    // `n`; `take(n)` has capacity for at least `n`, or the slicing above panicked), and by this
    // function's contract each piece writes every element of its chunk, so the first `n`
    // elements are initialised.
    unsafe { out.set_len(n) };
    out
}

/// Elementwise loops compiled three times: for the baseline target and, chosen at run time,
/// with AVX2 and FMA (the compiler vectorises the inlined closure 8 f32 lanes wide, and
/// `mul_add` is one instruction instead of a library call) or with AVX-512 (16 lanes; W6
/// 147 -> 119 ms on this VM). The results are the same bits at every level: Rust never fuses
/// a multiply and an add on its own, and the fast functions are the same code. Each loop
/// writes every element of `out`.
mod simd {
    use std::mem::MaybeUninit;

    /// `out[i] = f(x[i])`.
    pub(super) fn map<T: Copy, U>(x: &[T], out: &mut [MaybeUninit<U>], f: &impl Fn(T) -> U) {
        #[cfg(target_arch = "x86_64")]
        match level() {
            // SAFETY: `map_avx512` is this same loop compiled with AVX-512 (F, VL, DQ, BW),
            // AVX2 and FMA enabled, and `level()` checked that this CPU has all of them.
            Level::Avx512 => return unsafe { map_avx512(x, out, f) },
            // SAFETY: `map_avx2` is this same loop compiled with AVX2 and FMA enabled, and
            // `level()` checked that this CPU has both.
            Level::Avx2 => return unsafe { map_avx2(x, out, f) },
            Level::Base => {}
        }
        map_loop(x, out, f)
    }

    /// `out[i] = f(x[i], y[i])`.
    pub(super) fn zip<T: Copy, U>(
        x: &[T],
        y: &[T],
        out: &mut [MaybeUninit<U>],
        f: &impl Fn(T, T) -> U,
    ) {
        #[cfg(target_arch = "x86_64")]
        match level() {
            // SAFETY: as in `map`: the same loop, with features this CPU was checked to have.
            Level::Avx512 => return unsafe { zip_avx512(x, y, out, f) },
            // SAFETY: as in `map`: the same loop, with features this CPU was checked to have.
            Level::Avx2 => return unsafe { zip_avx2(x, y, out, f) },
            Level::Base => {}
        }
        zip_loop(x, y, out, f)
    }

    #[inline(always)]
    fn map_loop<T: Copy, U>(x: &[T], out: &mut [MaybeUninit<U>], f: &impl Fn(T) -> U) {
        assert_eq!(x.len(), out.len());
        for (o, &a) in out.iter_mut().zip(x) {
            o.write(f(a));
        }
    }

    #[inline(always)]
    fn zip_loop<T: Copy, U>(x: &[T], y: &[T], out: &mut [MaybeUninit<U>], f: &impl Fn(T, T) -> U) {
        assert!(x.len() == out.len() && y.len() == out.len());
        for ((o, &a), &b) in out.iter_mut().zip(x).zip(y) {
            o.write(f(a, b));
        }
    }

    /// The widest instruction set this CPU offers that the loops are compiled for.
    #[cfg(target_arch = "x86_64")]
    #[derive(Clone, Copy)]
    enum Level {
        Avx512,
        Avx2,
        Base,
    }

    #[cfg(target_arch = "x86_64")]
    fn level() -> Level {
        use std::arch::is_x86_feature_detected as has;
        // Detected once; the macro caches too, but this is one load on every kernel call.
        static LEVEL: std::sync::OnceLock<Level> = std::sync::OnceLock::new();
        *LEVEL.get_or_init(|| {
            let avx2 = has!("avx2") && has!("fma");
            if avx2 && has!("avx512f") && has!("avx512vl") && has!("avx512dq") && has!("avx512bw") {
                Level::Avx512
            } else if avx2 {
                Level::Avx2
            } else {
                Level::Base
            }
        })
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")]
    unsafe fn map_avx512<T: Copy, U>(x: &[T], out: &mut [MaybeUninit<U>], f: &impl Fn(T) -> U) {
        map_loop(x, out, f)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")]
    unsafe fn zip_avx512<T: Copy, U>(
        x: &[T],
        y: &[T],
        out: &mut [MaybeUninit<U>],
        f: &impl Fn(T, T) -> U,
    ) {
        zip_loop(x, y, out, f)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn map_avx2<T: Copy, U>(x: &[T], out: &mut [MaybeUninit<U>], f: &impl Fn(T) -> U) {
        map_loop(x, out, f)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn zip_avx2<T: Copy, U>(
        x: &[T],
        y: &[T],
        out: &mut [MaybeUninit<U>],
        f: &impl Fn(T, T) -> U,
    ) {
        zip_loop(x, y, out, f)
    }
}

/// One operand of a broadcast elementwise loop, after broadcasting to the output shape.
enum Operand<'a, T> {
    /// Contiguous elements in output order.
    Slice(&'a [T]),
    /// One value repeated (0-d, one element, or every stride 0 as after `expand`).
    Scalar(T),
    /// Anything else, copied into output order.
    Owned(Vec<T>),
}

impl<'a, T: Copy> Operand<'a, T> {
    fn new(data: &'a [T], layout: &Layout, shape: &[usize]) -> Operand<'a, T> {
        let l = layout.broadcast_to(shape);
        if l.strides.iter().all(|&s| s == 0) {
            return Operand::Scalar(data[l.offset]);
        }
        match l.contiguous_range() {
            Some(r) => Operand::Slice(&data[r]),
            None => Operand::Owned(gather(data, &l)),
        }
    }
}

/// Which of the (slice, scalar) combinations a binary loop runs.
enum Pair<'a, T> {
    SliceSlice(&'a [T], &'a [T]),
    SliceScalar(&'a [T], T),
    ScalarSlice(T, &'a [T]),
    Scalars(T, T),
}

/// The dtype of a binary op's result (PyTorch promotion: a 0-d operand does not widen a
/// dimensioned one of the same category).
pub(crate) fn result_type(a: &Tensor, b: &Tensor) -> DType {
    let (da, db) = (a.dtype(), b.dtype());
    if da == db {
        return da;
    }
    if da.is_floating_point() && db.is_floating_point() {
        match (a.dim() == 0, b.dim() == 0) {
            (true, false) => return db,
            (false, true) => return da,
            _ => {}
        }
    }
    da.promote(db)
}

/// The broadcast shape of `a` and `b`, or PyTorch's error naming the dimension.
/// The broadcast result is allocated by the callers, so its element count and bytes (at
/// most 8 per element) must fit ([`crate::layout::check_alloc`]).
pub(crate) fn broadcast(op: &'static str, a: &[usize], b: &[usize]) -> Result<Shape> {
    let shape = broadcast_shapes(a, b).ok_or_else(|| {
        let n = a.len().max(b.len());
        let at = |s: &[usize], i: usize| {
            if i + s.len() >= n {
                s[i + s.len() - n]
            } else {
                1
            }
        };
        let dim = (0..n)
            .find(|&i| {
                let (x, y) = (at(a, i), at(b, i));
                x != y && x != 1 && y != 1
            })
            .unwrap_or(0);
        Error::Broadcast {
            op,
            a: at(a, dim),
            b: at(b, dim),
            dim,
            lhs: a.to_vec(),
            rhs: b.to_vec(),
        }
    })?;
    crate::layout::check_alloc(op, &shape, 8)?;
    Ok(shape)
}

/// Elementwise binary op with broadcasting and type promotion (floating result).
pub(crate) fn zip_float(
    op: &'static str,
    a: &Tensor,
    b: &Tensor,
    f32f: impl Fn(f32, f32) -> f32 + Sync,
    f64f: impl Fn(f64, f64) -> f64 + Sync,
) -> Result<Tensor> {
    let shape = broadcast(op, a.shape(), b.shape())?;
    let dtype = result_type(a, b);
    // Integers are computed exactly in f64 (below 2^53) and cast back.
    let compute = match dtype {
        DType::Bool => {
            return Err(Error::invalid(
                op,
                "arithmetic on two bool tensors is not supported; convert one with to_dtype",
            ))
        }
        DType::I64 => DType::F64,
        d => d,
    };
    let (a, b) = (cast(a, compute), cast(b, compute));
    let out = read2(&a, &b, |ba, bb| match (ba, bb) {
        (Buffer::F32(x), Buffer::F32(y)) => {
            Buffer::F32(zip_slices(x, a.layout(), y, b.layout(), &shape, f32f))
        }
        (Buffer::F64(x), Buffer::F64(y)) => {
            Buffer::F64(zip_slices(x, a.layout(), y, b.layout(), &shape, f64f))
        }
        _ => unreachable!("operands were cast to one floating dtype"),
    });
    Ok(cast(&Tensor::from_buffer(out, &shape), dtype))
}

/// Elementwise comparison with broadcasting, producing a bool tensor.
pub(crate) fn compare(
    op: &'static str,
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(f64, f64) -> bool + Sync,
) -> Result<Tensor> {
    let shape = broadcast(op, a.shape(), b.shape())?;
    let dtype = result_type(a, b);
    let (a, b) = (cast(a, dtype), cast(b, dtype));
    let out = read2(&a, &b, |ba, bb| match (ba, bb) {
        (Buffer::F32(x), Buffer::F32(y)) => {
            zip_slices(x, a.layout(), y, b.layout(), &shape, |p, q| {
                f(p as f64, q as f64)
            })
        }
        (Buffer::F64(x), Buffer::F64(y)) => zip_slices(x, a.layout(), y, b.layout(), &shape, &f),
        (Buffer::Bool(x), Buffer::Bool(y)) => {
            zip_slices(x, a.layout(), y, b.layout(), &shape, |p, q| {
                f(Scalar::to_f64(p), Scalar::to_f64(q))
            })
        }
        (Buffer::I64(x), Buffer::I64(y)) => {
            zip_slices(x, a.layout(), y, b.layout(), &shape, |p, q| {
                f(Scalar::to_f64(p), Scalar::to_f64(q))
            })
        }
        _ => unreachable!("operands were cast to one dtype"),
    });
    Ok(Tensor::from_buffer(Buffer::Bool(out), &shape))
}

fn zip_slices<T: Copy + Send + Sync, U: Copy + crate::pool::Pooled>(
    a: &[T],
    la: &Layout,
    b: &[T],
    lb: &Layout,
    shape: &[usize],
    f: impl Fn(T, T) -> U + Sync,
) -> Data<U> {
    let n = numel(shape);
    if n <= crate::storage::INLINE {
        // Tiny tensors: one element (every dimension of size 1, so each operand's element is
        // at its offset), or two same-shaped contiguous runs, need no broadcast layouts.
        if n == 1 {
            return smallvec::smallvec![f(a[la.offset], b[lb.offset])];
        }
        if let (true, true, Some(ra), Some(rb)) = (
            la.shape.as_slice() == shape,
            lb.shape.as_slice() == shape,
            la.contiguous_range(),
            lb.contiguous_range(),
        ) {
            return collect(n, a[ra].iter().zip(&b[rb]).map(|(&x, &y)| f(x, y)));
        }
        let (ba, bb) = (la.broadcast_to(shape), lb.broadcast_to(shape));
        return collect(
            n,
            ba.offsets().zip(bb.offsets()).map(|(i, j)| f(a[i], b[j])),
        );
    }
    let (oa, ob) = (Operand::new(a, la, shape), Operand::new(b, lb, shape));
    let pair = match (&oa, &ob) {
        (Operand::Scalar(x), Operand::Scalar(y)) => Pair::Scalars(*x, *y),
        (Operand::Scalar(x), Operand::Slice(y)) => Pair::ScalarSlice(*x, y),
        (Operand::Scalar(x), Operand::Owned(y)) => Pair::ScalarSlice(*x, y),
        (Operand::Slice(x), Operand::Scalar(y)) => Pair::SliceScalar(x, *y),
        (Operand::Owned(x), Operand::Scalar(y)) => Pair::SliceScalar(x, *y),
        (Operand::Slice(x), Operand::Slice(y)) => Pair::SliceSlice(x, y),
        (Operand::Slice(x), Operand::Owned(y)) => Pair::SliceSlice(x, y),
        (Operand::Owned(x), Operand::Slice(y)) => Pair::SliceSlice(x, y),
        (Operand::Owned(x), Operand::Owned(y)) => Pair::SliceSlice(x, y),
    };
    // SAFETY: every arm writes each element of `out`: `simd::map`/`zip` (which assert that
    // `out` is as long as their inputs' range) or the loop over all of `out`.
    Data::from_vec(unsafe {
        par_map(n, |r, out| match pair {
            Pair::SliceSlice(x, y) => simd::zip(&x[r.clone()], &y[r], out, &f),
            Pair::SliceScalar(x, q) => simd::map(&x[r], out, &|a| f(a, q)),
            Pair::ScalarSlice(p, y) => simd::map(&y[r], out, &|b| f(p, b)),
            Pair::Scalars(p, q) => {
                let v = f(p, q);
                for o in out {
                    o.write(v);
                }
            }
        })
    })
}

/// A copy of `x` converted to `dtype` (the same tensor, shared, if it already has it).
pub(crate) fn cast(x: &Tensor, dtype: DType) -> Tensor {
    if x.dtype() == dtype {
        return x.clone();
    }
    let buf = x.storage().read();
    let l = x.layout();
    let out = each_buffer!(&*buf, v => match dtype {
        DType::F32 => Buffer::F32(map_slice(v, l, |a| Scalar::to_f64(a) as f32)),
        DType::F64 => Buffer::F64(map_slice(v, l, Scalar::to_f64)),
        DType::Bool => Buffer::Bool(map_slice(v, l, |a| Scalar::to_f64(a) != 0.0)),
        DType::I64 => Buffer::I64(map_slice(v, l, |a| Scalar::to_f64(a) as i64)),
    });
    Tensor::from_buffer(out, x.shape())
}

/// Fallible [`copy`]: a copy whose size cannot be allocated is an error, not an abort.
pub(crate) fn try_copy(op: &'static str, x: &Tensor) -> Result<Tensor> {
    crate::layout::check_alloc(op, x.shape(), crate::storage::elem_size(x.dtype()))?;
    let buf = x.storage().read();
    let out = match &*buf {
        Buffer::F32(v) => Buffer::F32(crate::tensor::try_gather(v, x.layout())?.into()),
        Buffer::F64(v) => Buffer::F64(crate::tensor::try_gather(v, x.layout())?.into()),
        Buffer::Bool(v) => Buffer::Bool(crate::tensor::try_gather(v, x.layout())?.into()),
        Buffer::I64(v) => Buffer::I64(crate::tensor::try_gather(v, x.layout())?.into()),
    };
    Ok(Tensor::from_buffer(out, x.shape()))
}

/// A contiguous copy with its own storage.
pub(crate) fn copy(x: &Tensor) -> Tensor {
    let buf = x.storage().read();
    let out = map_buffer!(&*buf, v => gather(v, x.layout()).into());
    Tensor::from_buffer(out, x.shape())
}

/// Sum over the dimensions flagged in `reduce`, keeping them as size 1.
pub(crate) fn sum_dims(x: &Tensor, reduce: &[bool]) -> Tensor {
    if !x.dtype().is_floating_point() {
        // PyTorch sums bools and integers as int64 (exact here below 2^53).
        return cast(&sum_dims(&cast(x, DType::F64), reduce), DType::I64);
    }
    let out_shape: Shape = x
        .shape()
        .iter()
        .zip(reduce)
        .map(|(&d, &r)| if r { 1 } else { d })
        .collect();
    let buf = x.storage().read();
    let out = match &*buf {
        Buffer::F32(v) => Buffer::F32(sum_dims_slice(v, x.layout(), &out_shape).into()),
        Buffer::F64(v) => Buffer::F64(sum_dims_slice(v, x.layout(), &out_shape).into()),
        _ => unreachable!("floating"),
    };
    Tensor::from_buffer(out, &out_shape)
}

fn sum_dims_slice<T: Float>(data: &[T], layout: &Layout, out_shape: &[usize]) -> Vec<T> {
    let n_out = numel(out_shape);
    if n_out == 1 {
        return vec![match layout.contiguous_range() {
            Some(r) => pairwise_sum(&data[r]),
            None => pairwise_sum(&gather(data, layout)),
        }];
    }
    if n_out == 0 || layout.numel() == 0 {
        return vec![T::zero(); n_out];
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
            return x.chunks(inner.max(1)).map(pairwise_sum).collect();
        }
        // Leading dimensions reduced (a bias gradient): rows added into the output, a loop
        // the compiler vectorises.
        let tail = out_shape.iter().position(|&d| d != 1).unwrap_or(k);
        if out_shape[tail..] == shape[tail..] {
            let mut out = vec![T::zero(); n_out];
            for row in x.chunks(n_out) {
                for (o, &v) in out.iter_mut().zip(row) {
                    *o = *o + v;
                }
            }
            return out;
        }
    }
    let mut out = vec![T::zero(); n_out];
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
    out
}

/// Pairwise summation (error O(log n) ulp instead of O(n)), like PyTorch's cascade sum.
pub(crate) fn pairwise_sum<T: Float>(v: &[T]) -> T {
    const BLOCK: usize = 128;
    // Halves this long are summed on two threads: the same tree, so the same bits.
    const PARALLEL: usize = 1 << 18;
    if v.len() <= BLOCK {
        v.iter().fold(T::zero(), |acc, &x| acc + x)
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

/// The 2-norm of all elements: squares accumulated with fused multiply-adds (one rounding per
/// element, as PyTorch's compiled kernel does) in blocks combined pairwise, then the square root.
pub(crate) fn norm2(x: &Tensor) -> Tensor {
    fn norm<T: Float>(v: &[T], layout: &Layout) -> T {
        let data = gather(v, layout);
        fn block<T: Float>(v: &[T]) -> T {
            if v.len() <= 128 {
                v.iter().fold(T::zero(), |acc, &a| a.mul_add(a, acc))
            } else {
                let mid = v.len() / 2;
                block(&v[..mid]) + block(&v[mid..])
            }
        }
        block(&data).sqrt()
    }
    let buf = x.storage().read();
    let out = match &*buf {
        Buffer::F32(v) => Buffer::F32(smallvec::smallvec![norm(v, x.layout())]),
        Buffer::F64(v) => Buffer::F64(smallvec::smallvec![norm(v, x.layout())]),
        _ => unreachable!("norm of a non-floating tensor"),
    };
    Tensor::from_buffer(out, &[])
}

/// `a @ b` for 2-d `a` (m x k) and `b` (k x n) of one floating dtype, read through their
/// strides (transposed views need no copy).
pub(crate) fn matmul2d(a: &Tensor, b: &Tensor) -> Tensor {
    let (m, k, n) = (a.shape()[0], a.shape()[1], b.shape()[1]);
    let out = read2(a, b, |ba, bb| match (ba, bb) {
        (Buffer::F32(x), Buffer::F32(y)) => {
            Buffer::F32(gemm(x, a.layout(), y, b.layout(), m, k, n))
        }
        (Buffer::F64(x), Buffer::F64(y)) => {
            Buffer::F64(gemm(x, a.layout(), y, b.layout(), m, k, n))
        }
        _ => unreachable!("matmul operands are cast to one floating dtype"),
    });
    Tensor::from_buffer(out, &[m, n])
}

/// A batch of products `a[i] @ b[i]` (`m x k` by `k x n`), each operand a strided matrix at
/// its own offset: `a_at[i]` with row/column strides `sa`, likewise `b`. One output buffer,
/// `[batch, m, n]` row-major; small products run in parallel over the batch (rayon), large
/// ones one after another, each threaded by the GEMM itself.
#[allow(clippy::too_many_arguments)]
pub(crate) fn matmul_batched(
    a: &Tensor,
    a_at: &[usize],
    sa: [usize; 2],
    b: &Tensor,
    b_at: &[usize],
    sb: [usize; 2],
    (m, k, n): (usize, usize, usize),
    shape: &[usize],
) -> Tensor {
    let out = read2(a, b, |ba, bb| match (ba, bb) {
        (Buffer::F32(x), Buffer::F32(y)) => {
            Buffer::F32(gemm_batched(x, a_at, sa, y, b_at, sb, (m, k, n)))
        }
        (Buffer::F64(x), Buffer::F64(y)) => {
            Buffer::F64(gemm_batched(x, a_at, sa, y, b_at, sb, (m, k, n)))
        }
        _ => unreachable!("matmul operands are cast to one floating dtype"),
    });
    Tensor::from_buffer(out, shape)
}

/// Below this many multiply-adds per product, a batch runs in parallel over its products (one
/// thread per product); so does a batch of at least two products per thread, whatever their
/// size (64 products of 128^3: 1.9 ms threading each product, 1.3-1.45 ms over the batch).
const SMALL_GEMM: usize = 1 << 18;

#[allow(clippy::too_many_arguments)]
fn gemm_batched<T: Float + Element>(
    a: &[T],
    a_at: &[usize],
    sa: [usize; 2],
    b: &[T],
    b_at: &[usize],
    sb: [usize; 2],
    (m, k, n): (usize, usize, usize),
) -> Data<T> {
    use rayon::prelude::*;
    // The output size, checked (the caller checked the shape; a wrapped product here would
    // size the buffer below what the kernels write).
    let total = a_at
        .len()
        .checked_mul(m)
        .and_then(|t| t.checked_mul(n))
        .expect("internal error: unchecked matmul output shape");
    if m == 0 || n == 0 || k == 0 {
        return SmallVec::from_elem(T::zero(), total);
    }
    // Every product reads inside its operand's buffer (all sums checked: a wrapped one could
    // pass the bound).
    let last = |rows: usize, cols: usize, s: [usize; 2]| {
        (rows - 1)
            .checked_mul(s[0])
            .zip((cols - 1).checked_mul(s[1]))
            .and_then(|(x, y)| x.checked_add(y))
    };
    let inside = |at: &[usize], last: Option<usize>, len: usize| {
        last.is_some_and(|l| {
            at.iter()
                .all(|&o| o.checked_add(l).is_some_and(|e| e < len))
        })
    };
    let (last_a, last_b) = (last(m, k, sa), last(k, n, sb));
    assert!(
        a_at.len() == b_at.len() && inside(a_at, last_a, a.len()) && inside(b_at, last_b, b.len()),
        "internal error: batched layout outside buffer"
    );
    let batch = a_at.len();
    let small = batch > 1 && (m * k * n < SMALL_GEMM || batch >= 2 * rayon::current_num_threads());
    let mut c: Vec<T> = crate::pool::take(total);
    let one = |(ci, (&oa, &ob)): (&mut [MaybeUninit<T>], (&usize, &usize))| {
        // SAFETY: every element `gemm_raw` reads, a[oa + i*sa0 + p*sa1] for i < m, p < k, is
        // at most oa + last_a (computed without overflow), checked above to be inside `a`;
        // likewise b up to ob + last_b. m, k, n are positive (checked above).
        // `ci` is a disjoint chunk of m*n elements of the output's spare capacity that
        // nothing else aliases.
        unsafe {
            gemm_raw(
                (m, k, n),
                a.as_ptr().add(oa),
                sa,
                b.as_ptr().add(ob),
                sb,
                ci.as_mut_ptr().cast::<T>(),
                !small,
            );
        }
    };
    let spare = &mut c.spare_capacity_mut()[..total];
    if small {
        spare
            .par_chunks_mut(m * n)
            .zip(a_at.par_iter().zip(b_at.par_iter()))
            .for_each(one);
    } else {
        spare
            .chunks_mut(m * n)
            .zip(a_at.iter().zip(b_at))
            .for_each(one);
    }
    // SAFETY: the loop above ran `gemm_raw` on every chunk of the first `total` spare
    // elements (`total` = batch * m * n, chunks of m * n), and each run wrote all m * n
    // elements of its chunk, so all `total` are initialized.
    unsafe { c.set_len(total) };
    SmallVec::from_vec(c)
}

/// `c = a @ b` through the `gemm` crate (AVX-512, AVX2+FMA or scalar kernels chosen at run
/// time): `a` is an m x k matrix read at `a + i*sa[0] + p*sa[1]`, `b` a k x n matrix likewise,
/// and `c` receives the m x n product row-major. `threaded` lets the product use rayon's
/// threads (the crate still runs small products on one).
///
/// # Safety
/// `m`, `k`, `n` are all positive; `a.add(i*sa[0] + p*sa[1])` is valid to read for every
/// i < m, p < k, and `b.add(p*sb[0] + j*sb[1])` for every p < k, j < n; `c` is valid to write
/// m*n elements and is aliased by nothing else during the call. `c` may be uninitialized:
/// with `read_dst = false` the crate sets alpha to zero, and its kernels then store
/// `beta * (a @ b)` without loading the destination (`alpha_status == 0`), overwriting every
/// element of the first depth block before any later block reads it back to accumulate.
unsafe fn gemm_raw<T: Float + Element>(
    (m, k, n): (usize, usize, usize),
    a: *const T,
    sa: [usize; 2],
    b: *const T,
    sb: [usize; 2],
    c: *mut T,
    threaded: bool,
) {
    let par = if threaded {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: forwarded from this function's contract (see above); the crate's argument
    // order is (m, n, k, dst, dst column stride, dst row stride, read_dst, lhs, lhs column
    // stride, lhs row stride, rhs, ..., alpha, beta, conjugations, parallelism).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c,
            1,
            n as isize,
            false,
            a,
            sa[1] as isize,
            sa[0] as isize,
            b,
            sb[1] as isize,
            sb[0] as isize,
            T::zero(),
            T::one(),
            false,
            false,
            false,
            par,
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn gemm<T: Float + Element>(
    a: &[T],
    la: &Layout,
    b: &[T],
    lb: &Layout,
    m: usize,
    k: usize,
    n: usize,
) -> Data<T> {
    // The output size, checked (a wrapped product would size the buffer below what the
    // kernel writes).
    let total = m
        .checked_mul(n)
        .expect("internal error: unchecked matmul output shape");
    if m == 0 || n == 0 || k == 0 {
        return SmallVec::from_elem(T::zero(), total);
    }
    // The largest offset each operand's layout reaches must lie inside its buffer (computed
    // with checked arithmetic: a wrapped sum could pass the bound).
    let inside = |l: &Layout, len: usize| {
        (l.shape[0] - 1)
            .checked_mul(l.strides[0])
            .zip((l.shape[1] - 1).checked_mul(l.strides[1]))
            .and_then(|(x, y)| x.checked_add(y))
            .and_then(|s| s.checked_add(l.offset))
            .is_some_and(|last| last < len)
    };
    assert!(
        la.shape.as_slice() == [m, k] && lb.shape.as_slice() == [k, n],
        "internal error: matmul operand shapes"
    );
    assert!(
        inside(la, a.len()) && inside(lb, b.len()),
        "internal error: layout outside buffer"
    );
    let mut c: Vec<T> = crate::pool::take(total);
    // SAFETY: `gemm_raw` reads a[offset + i*rs + p*cs] for i < m, p < k (and likewise b for
    // p < k, j < n), whose maximum was checked above to be in bounds (the layouts' shapes are
    // [m, k] and [k, n], all positive). `c` has capacity for the m*n = `total` elements it
    // writes (computed without overflow), row-major, and nothing else aliases it; `gemm_raw`
    // writes every one of them, so `set_len` is sound.
    unsafe {
        gemm_raw(
            (m, k, n),
            a.as_ptr().add(la.offset),
            [la.strides[0], la.strides[1]],
            b.as_ptr().add(lb.offset),
            [lb.strides[0], lb.strides[1]],
            c.as_mut_ptr(),
            true,
        );
        c.set_len(total);
    }
    SmallVec::from_vec(c)
}

/// Zeros of `shape` with `src` written at index `index` of dimension `dim`.
pub(crate) fn select_scatter(src: &Tensor, shape: &[usize], dim: usize, index: usize) -> Tensor {
    let out = Tensor::full_with(shape, 0.0, src.dtype());
    let target = out.layout().select(dim, index);
    {
        let s = src.storage().read();
        let mut o = out.storage().write_untracked();
        write_buffer(&s, src.layout(), &mut o, &target);
    }
    out
}

fn write_through<T: Copy>(src: &[T], ls: &Layout, dst: &mut [T], ld: &Layout) {
    // The common case (an in-place update of a whole contiguous tensor): one slice copy.
    if let (Some(rs), Some(rd)) = (ls.contiguous_range(), ld.contiguous_range()) {
        if ls.shape == ld.shape {
            dst[rd].copy_from_slice(&src[rs]);
            return;
        }
    }
    for (i, o) in ls.offsets().zip(ld.offsets()) {
        dst[o] = src[i];
    }
}

/// Copies the elements of `src` (read through `ls`) to the places `ld` names in `dst`; both
/// buffers have one dtype.
pub(crate) fn write_buffer(src: &Buffer, ls: &Layout, dst: &mut Buffer, ld: &Layout) {
    match (src, dst) {
        (Buffer::F32(s), Buffer::F32(d)) => write_through(s, ls, d, ld),
        (Buffer::F64(s), Buffer::F64(d)) => write_through(s, ls, d, ld),
        (Buffer::Bool(s), Buffer::Bool(d)) => write_through(s, ls, d, ld),
        (Buffer::I64(s), Buffer::I64(d)) => write_through(s, ls, d, ld),
        _ => unreachable!("write_buffer: one dtype"),
    }
}

/// `where(mask, value, x)`: `x` with `value` wherever the (broadcast) mask is true.
pub(crate) fn masked_fill(x: &Tensor, mask: &Tensor, value: f64) -> Result<Tensor> {
    let shape = broadcast("masked_fill", x.shape(), mask.shape())?;
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
    let mask = cast(mask, DType::Bool);
    let ml = mask.layout().broadcast_to(&shape);
    let m: Vec<bool> = {
        let mb = mask.storage().read();
        typed::<bool>(&mb).to_vec()
    };
    let buf = x.storage().read();
    let n = x.numel();
    let offsets = || x.layout().offsets().zip(ml.offsets());
    let out = map_buffer!(&*buf, v => collect(
        n,
        offsets().map(|(i, j)| if m[j] { Scalar::from_f64(value) } else { v[i] }),
    ));
    Ok(Tensor::from_buffer(out, &shape))
}

/// `a` where `cond`, else `b`; all three broadcast, `a` and `b` promoted to one dtype.
pub(crate) fn where_select(cond: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let shape = broadcast("where", cond.shape(), a.shape())?;
    let shape = broadcast("where", &shape, b.shape())?;
    let dtype = result_type(a, b);
    let (a, b) = (cast(a, dtype), cast(b, dtype));
    let c: Vec<bool> = {
        let cb = cond.storage().read();
        let lc = cond.layout().broadcast_to(&shape);
        let v = typed::<bool>(&cb);
        lc.offsets().map(|o| v[o]).collect()
    };
    let (la, lb) = (
        a.layout().broadcast_to(&shape),
        b.layout().broadcast_to(&shape),
    );
    let n = numel(&shape);
    let out = read2(&a, &b, |ba, bb| match (ba, bb) {
        (Buffer::F32(x), Buffer::F32(y)) => Buffer::F32(pick(&c, x, &la, y, &lb, n)),
        (Buffer::F64(x), Buffer::F64(y)) => Buffer::F64(pick(&c, x, &la, y, &lb, n)),
        (Buffer::Bool(x), Buffer::Bool(y)) => Buffer::Bool(pick(&c, x, &la, y, &lb, n)),
        (Buffer::I64(x), Buffer::I64(y)) => Buffer::I64(pick(&c, x, &la, y, &lb, n)),
        _ => unreachable!("operands were cast to one dtype"),
    });
    Ok(Tensor::from_buffer(out, &shape))
}

fn pick<T: Copy + crate::pool::Pooled>(
    c: &[bool],
    x: &[T],
    la: &Layout,
    y: &[T],
    lb: &Layout,
    n: usize,
) -> Data<T> {
    collect(
        n,
        c.iter()
            .zip(la.offsets().zip(lb.offsets()))
            .map(|(&c, (i, j))| if c { x[i] } else { y[j] }),
    )
}

/// Shape helper for reductions: which dims to reduce, from possibly negative indices.
pub(crate) fn reduce_mask(
    op: &'static str,
    ndim: usize,
    dims: &[isize],
) -> Result<SmallVec<[bool; 4]>> {
    let mut mask: SmallVec<[bool; 4]> = SmallVec::from_elem(false, ndim);
    for &d in dims {
        let i = crate::ops::normalize_dim(op, d, ndim.max(1))?;
        if ndim == 0 {
            continue;
        }
        if mask[i] {
            return Err(Error::invalid(
                op,
                format!("dim {i} appears multiple times in the list of dims"),
            ));
        }
        mask[i] = true;
    }
    Ok(mask)
}

/// Row-major multi-indices of `shape`, one at a time (an odometer over indices, not offsets).
fn for_each_index(shape: &[usize], mut f: impl FnMut(&[usize])) {
    if shape.contains(&0) {
        return;
    }
    let mut idx: SmallVec<[usize; 6]> = SmallVec::from_elem(0, shape.len());
    loop {
        f(&idx);
        let mut d = shape.len();
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}

fn offset_of(layout: &Layout, idx: &[usize]) -> usize {
    layout.offset
        + idx
            .iter()
            .zip(&layout.strides)
            .map(|(i, s)| i * s)
            .sum::<usize>()
}

/// A new tensor of `out_shape` with `out[p] = src[source(p)]`: `source` maps each output
/// multi-index to a source multi-index (which the caller guarantees is in bounds).
pub(crate) fn take(
    src: &Tensor,
    out_shape: &[usize],
    source: impl Fn(&[usize], &mut [usize]),
) -> Tensor {
    let n = numel(out_shape);
    let mut offsets = Vec::with_capacity(n);
    let mut sidx: SmallVec<[usize; 6]> = SmallVec::from_elem(0, src.dim());
    for_each_index(out_shape, |p| {
        source(p, &mut sidx);
        offsets.push(offset_of(src.layout(), &sidx));
    });
    let buf = src.storage().read();
    let out = map_buffer!(&*buf, v => collect(n, offsets.iter().map(|&o| v[o])));
    Tensor::from_buffer(out, out_shape)
}

/// A contiguous copy of `base` with every element `p` of `src` written (or, with `accumulate`,
/// added) at `dest(p)`, a multi-index of `base`. `src` is cast to `base`'s dtype.
pub(crate) fn put(
    base: &Tensor,
    src: &Tensor,
    dest: impl Fn(&[usize], &mut [usize]),
    accumulate: bool,
) -> Tensor {
    let out = copy(base);
    let src = cast(src, base.dtype());
    let out_layout = out.layout().clone();
    let mut pairs = Vec::with_capacity(src.numel());
    let mut didx: SmallVec<[usize; 6]> = SmallVec::from_elem(0, base.dim());
    for_each_index(src.shape(), |p| {
        dest(p, &mut didx);
        pairs.push((offset_of(src.layout(), p), offset_of(&out_layout, &didx)));
    });
    {
        let s = src.storage().read();
        let mut o = out.storage().write_untracked();
        match (&*s, &mut *o) {
            (Buffer::F32(s), Buffer::F32(d)) => put_slice(s, d, &pairs, accumulate, |a, b| a + b),
            (Buffer::F64(s), Buffer::F64(d)) => put_slice(s, d, &pairs, accumulate, |a, b| a + b),
            (Buffer::I64(s), Buffer::I64(d)) => put_slice(s, d, &pairs, accumulate, |a, b| a + b),
            (Buffer::Bool(s), Buffer::Bool(d)) => put_slice(s, d, &pairs, accumulate, |a, b| a | b),
            _ => unreachable!("src was cast to base's dtype"),
        }
    }
    out
}

fn put_slice<T: Copy>(
    src: &[T],
    dst: &mut [T],
    pairs: &[(usize, usize)],
    accumulate: bool,
    add: impl Fn(T, T) -> T + Sync,
) {
    for &(s, d) in pairs {
        dst[d] = if accumulate {
            add(dst[d], src[s])
        } else {
            src[s]
        };
    }
}

/// The integer values of an index tensor, checked against `bound` (negative values count from
/// the end, as in PyTorch's index_select/gather).
pub(crate) fn index_values(op: &'static str, index: &Tensor, bound: usize) -> Result<Vec<usize>> {
    if index.dtype() != DType::I64 {
        return Err(Error::invalid(
            op,
            format!("index must be an int64 tensor, got {}", index.dtype()),
        ));
    }
    index
        .contiguous_vec::<i64>()
        .into_iter()
        .map(|i| {
            let j = if i < 0 { i + bound as i64 } else { i };
            if j < 0 || j >= bound as i64 {
                Err(Error::invalid(
                    op,
                    format!("index {i} is out of bounds for dimension with size {bound}"),
                ))
            } else {
                Ok(j as usize)
            }
        })
        .collect()
}

/// The tensor as rows: the dimensions flagged in `reduce` moved to the end, each row one
/// reduction, values widened to `f64`. Returns the rows' values and the row length.
pub(crate) fn rows(x: &Tensor, reduce: &[bool]) -> (Vec<f64>, usize) {
    let l = x.layout();
    let order: Vec<usize> = (0..x.dim())
        .filter(|&d| !reduce[d])
        .chain((0..x.dim()).filter(|&d| reduce[d]))
        .collect();
    let permuted = Layout {
        shape: order.iter().map(|&d| l.shape[d]).collect(),
        strides: order.iter().map(|&d| l.strides[d]).collect(),
        offset: l.offset,
    };
    let row: usize = (0..x.dim())
        .filter(|&d| reduce[d])
        .map(|d| l.shape[d])
        .product();
    let buf = x.storage().read();
    let values = permuted.offsets().map(|o| buf.get_f64(o)).collect();
    (values, row)
}

/// Cumulative `op` (sum or product) along `dim`, in the tensor's floating dtype.
pub(crate) fn cumulative(x: &Tensor, dim: usize, product: bool) -> Tensor {
    let shape = x.shape_vec();
    let n = numel(&shape);
    let len = shape[dim];
    let inner: usize = shape[dim + 1..].iter().product();
    let v = x.values_f64();
    let mut out = vec![0.0; n];
    let dtype = x.dtype();
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
    Tensor::from_buffer(Buffer::from_f64s(dtype, out.into_iter()), &shape)
}

/// LU factorization with partial pivoting of the row-major `n x n` matrix `a` (in place):
/// returns the pivot rows and the permutation's sign, or `None` if a pivot is exactly zero.
fn lu(a: &mut [f64], n: usize) -> (Vec<usize>, f64, bool) {
    let mut piv: Vec<usize> = (0..n).collect();
    let mut sign = 1.0;
    let mut singular = false;
    for k in 0..n {
        let p = (k..n)
            .max_by(|&i, &j| a[i * n + k].abs().total_cmp(&a[j * n + k].abs()))
            .unwrap_or(k);
        if p != k {
            for j in 0..n {
                a.swap(k * n + j, p * n + j);
            }
            piv.swap(k, p);
            sign = -sign;
        }
        let d = a[k * n + k];
        if d == 0.0 {
            singular = true;
            continue;
        }
        for i in k + 1..n {
            let f = a[i * n + k] / d;
            a[i * n + k] = f;
            for j in k + 1..n {
                a[i * n + j] -= f * a[k * n + j];
            }
        }
    }
    (piv, sign, singular)
}

/// Solves `A X = B` for each matrix of a batch (`a`: `[b, n, n]`, `rhs`: `[b, n, k]`, both
/// row-major `f64`). A singular `A` gives infinities/NaN, as IEEE division does, and the first
/// exactly singular one is reported as LAPACK's `info > 0`: `(batch element, 1-based index of
/// the first zero diagonal element of U)`.
pub(crate) fn lu_solve(
    a: &[f64],
    rhs: &[f64],
    batch: usize,
    n: usize,
    k: usize,
) -> (Vec<f64>, Option<(usize, usize)>) {
    let mut out = vec![0.0; batch * n * k];
    let mut singular = None;
    for b in 0..batch {
        let mut m = a[b * n * n..(b + 1) * n * n].to_vec();
        let (piv, _, _) = lu(&mut m, n);
        if singular.is_none() {
            singular = (0..n).find(|&i| m[i * n + i] == 0.0).map(|i| (b, i + 1));
        }
        for c in 0..k {
            // Forward substitution (unit lower), then backward (upper).
            let mut y: Vec<f64> = (0..n).map(|i| rhs[b * n * k + piv[i] * k + c]).collect();
            for i in 0..n {
                for j in 0..i {
                    y[i] -= m[i * n + j] * y[j];
                }
            }
            for i in (0..n).rev() {
                for j in i + 1..n {
                    y[i] -= m[i * n + j] * y[j];
                }
                y[i] /= m[i * n + i];
            }
            for i in 0..n {
                out[b * n * k + i * k + c] = y[i];
            }
        }
    }
    (out, singular)
}

/// `min |u_kk| / max |u_kk|` over the pivots of the partial-pivoting LU ([`lu`]) of the
/// row-major `n x n` matrix `a`: 0 for a singular matrix, small for a nearly singular one.
pub(crate) fn lu_pivot_ratio(a: &[f64], n: usize) -> f64 {
    let mut m = a.to_vec();
    lu(&mut m, n);
    let (lo, hi) = (0..n)
        .map(|k| m[k * n + k].abs())
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), d| {
            (lo.min(d), hi.max(d))
        });
    if hi > 0.0 && lo.is_finite() {
        lo / hi
    } else {
        0.0
    }
}

/// Determinants of a batch of `n x n` row-major `f64` matrices.
pub(crate) fn lu_det(a: &[f64], batch: usize, n: usize) -> Vec<f64> {
    (0..batch)
        .map(|b| {
            let mut m = a[b * n * n..(b + 1) * n * n].to_vec();
            let (_, sign, singular) = lu(&mut m, n);
            if singular {
                0.0
            } else {
                (0..n).fold(sign, |acc, i| acc * m[i * n + i])
            }
        })
        .collect()
}
