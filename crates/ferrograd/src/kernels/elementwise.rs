//! Elementwise kernels: maps, zips with broadcasting, casts, copies, `where` and
//! `masked_fill`, and the SIMD loops they run.

use super::fastmath::{self as fm, Bulk};
use super::index::gather;
use super::par_map;
use crate::dtype::DType;
use crate::error::Result;
use crate::layout::{numel, Layout};
use crate::pool::Pooled;
use crate::storage::{each_buffer, map_buffer, try_collect, typed, Buffer, Data, Scalar, INLINE};
use std::borrow::Cow;

/// A buffer and its layout, in `dtype`: the same ones borrowed when they have it, else a
/// contiguous converted copy (an allocation that cannot succeed is an error).
fn in_dtype<'a>(
    buf: &'a Buffer,
    layout: &'a Layout,
    dtype: DType,
) -> Result<(Cow<'a, Buffer>, Cow<'a, Layout>)> {
    if buf.dtype() == dtype {
        return Ok((Cow::Borrowed(buf), Cow::Borrowed(layout)));
    }
    Ok((
        Cow::Owned(cast(buf, layout, dtype)?),
        Cow::Owned(Layout::contiguous(&layout.shape)),
    ))
}

/// Elementwise map of a floating buffer (bool and integer buffers are read as `f32`), of
/// `layout`'s shape.
pub(crate) fn map_float(
    buf: &Buffer,
    layout: &Layout,
    f32f: impl Fn(f32) -> f32 + Sync,
    f64f: impl Fn(f64) -> f64 + Sync,
) -> Result<Buffer> {
    let dtype = if buf.dtype().is_floating_point() {
        buf.dtype()
    } else {
        DType::F32
    };
    let (buf, layout) = in_dtype(buf, layout, dtype)?;
    Ok(match &*buf {
        Buffer::F32(v) => Buffer::F32(map_slice(v, &layout, f32f)?),
        Buffer::F64(v) => Buffer::F64(map_slice(v, &layout, f64f)?),
        _ => unreachable!("cast to a floating dtype above"),
    })
}

/// [`map_float`] that, for a contiguous `f32` buffer of at least `fastmath::BULK_MIN`
/// elements, computes with `bulk`'s vectorisable function ([`Bulk::map`]: inputs it does not
/// cover go to its exact function). This is where a fast path plugs in: an op names its
/// [`Bulk`] function, and everything else takes `f32f`/`f64f`.
pub(crate) fn map_float_bulk(
    buf: &Buffer,
    layout: &Layout,
    bulk: Option<Bulk>,
    f32f: impl Fn(f32) -> f32 + Sync,
    f64f: impl Fn(f64) -> f64 + Sync,
) -> Result<Buffer> {
    // (The element count first: tiny tensors skip the contiguity check.)
    if let (Some(b), Buffer::F32(v), true) = (bulk, buf, layout.numel() >= fm::BULK_MIN) {
        if let Some(r) = layout.contiguous_range() {
            let src = &v[r];
            let out = par_map(src.len(), |r, out| b.map(&src[r], out))?;
            return Ok(Buffer::F32(Data::from_vec(out)));
        }
    }
    map_float(buf, layout, f32f, f64f)
}

/// `out[i] = b(xs[i])` with `b`'s vectorised function and its fix-up ([`Bulk::map`]): the
/// same values as [`map_float_bulk`]'s fast path (for the blocks of deferred elementwise work).
pub(crate) fn bulk_f32(b: Bulk, xs: &[f32], out: &mut [f32]) {
    b.map(xs, super::Sink(super::uninit(out)));
}

/// `f` of every element of `data` read through `layout`, row-major.
fn map_slice<T: Copy + Sync, U: Copy + Pooled>(
    data: &[T],
    layout: &Layout,
    f: impl Fn(T) -> U + Sync,
) -> Result<Data<U>> {
    let n = layout.numel();
    if n <= INLINE {
        // Tiny tensors (the per-op overhead of scalar graphs): one element (every dimension
        // of size 1, so it is at the offset), or no stride odometer when the elements are one
        // run of memory.
        if n == 1 {
            return Ok(smallvec::smallvec![f(data[layout.offset])]);
        }
        if let Some(r) = layout.contiguous_range() {
            return try_collect(n, data[r].iter().map(|&v| f(v)));
        }
        return try_collect(n, layout.offsets().map(|o| f(data[o])));
    }
    let gathered;
    let src: &[T] = match layout.contiguous_range() {
        Some(r) => &data[r],
        None => {
            gathered = gather(data, layout)?;
            &gathered
        }
    };
    Ok(Data::from_vec(par_map(src.len(), |r, out| {
        out.map(&src[r], &f)
    })?))
}

/// One operand of a broadcast elementwise loop, after broadcasting to the output shape.
enum Operand<'a, T> {
    /// Contiguous elements in output order.
    Slice(&'a [T]),
    /// One value repeated (0-d, one element, or every stride 0 as after `expand`).
    Scalar(T),
    /// One contiguous run repeated along leading broadcast dimensions (a bias `[n]` added to
    /// `[batch, n]`): output element `i` reads `row[i % row.len()]`.
    Row(&'a [T]),
    /// Anything else, copied into output order.
    Owned(Vec<T>),
}

/// The shortest repeated run read in place ([`Operand::Row`]); shorter ones are copied out,
/// as the loop restarts at every repetition.
const MIN_ROW: usize = 64;

impl<'a, T: Copy> Operand<'a, T> {
    fn new(data: &'a [T], layout: &Layout, shape: &[usize]) -> Result<Operand<'a, T>> {
        let l = layout.broadcast_to(shape);
        if l.strides.iter().all(|&s| s == 0) {
            return Ok(Operand::Scalar(data[l.offset]));
        }
        if let Some(r) = l.contiguous_range() {
            return Ok(Operand::Slice(&data[r]));
        }
        // Leading dimensions broadcast (stride 0, or size 1), the rest contiguous: a row.
        let lead = l
            .strides
            .iter()
            .zip(&l.shape)
            .take_while(|&(&s, &d)| s == 0 || d == 1)
            .count();
        let row = Layout {
            shape: l.shape[lead..].into(),
            strides: l.strides[lead..].into(),
            offset: l.offset,
        };
        if let Some(r) = row.contiguous_range().filter(|r| r.len() >= MIN_ROW) {
            return Ok(Operand::Row(&data[r]));
        }
        Ok(Operand::Owned(gather(data, &l)?))
    }

    /// A [`Operand::Row`] copied out into output order (for the loops that take slices);
    /// any other operand as it is.
    fn unrow(self, data: &[T], layout: &Layout, shape: &[usize]) -> Result<Operand<'a, T>> {
        Ok(match self {
            Operand::Row(_) => Operand::Owned(gather(data, &layout.broadcast_to(shape))?),
            other => other,
        })
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
/// dimensioned one of the same category). `a0`/`b0`: whether each operand is 0-d.
pub(crate) fn promote_types(da: DType, a0: bool, db: DType, b0: bool) -> DType {
    if da == db {
        return da;
    }
    if da.is_floating_point() && db.is_floating_point() {
        match (a0, b0) {
            (true, false) => return db,
            (false, true) => return da,
            _ => {}
        }
    }
    da.promote(db)
}

/// Elementwise binary op of `a` and `b` broadcast to `shape` (which the caller has checked),
/// computed in `dtype`'s floating type (`i64` exactly in `f64`, below 2^53) and returned in
/// `dtype`, which is not bool.
#[allow(clippy::too_many_arguments)]
pub(crate) fn zip_float(
    a: &Buffer,
    la: &Layout,
    b: &Buffer,
    lb: &Layout,
    shape: &[usize],
    dtype: DType,
    f32f: impl Fn(f32, f32) -> f32 + Sync,
    f64f: impl Fn(f64, f64) -> f64 + Sync,
) -> Result<Buffer> {
    let compute = match dtype {
        DType::Bool => unreachable!("the tensor layer rejects bool arithmetic"),
        DType::I64 => DType::F64,
        d => d,
    };
    let (a, la) = in_dtype(a, la, compute)?;
    let (b, lb) = in_dtype(b, lb, compute)?;
    let out = match (&*a, &*b) {
        (Buffer::F32(x), Buffer::F32(y)) => Buffer::F32(zip_slices(x, &la, y, &lb, shape, f32f)?),
        (Buffer::F64(x), Buffer::F64(y)) => Buffer::F64(zip_slices(x, &la, y, &lb, shape, f64f)?),
        _ => unreachable!("operands were cast to one floating dtype"),
    };
    if dtype == compute {
        Ok(out)
    } else {
        cast(&out, &Layout::contiguous(shape), dtype)
    }
}

/// Elementwise `f` of `a` and `b` (integers or bools, read as `i64`) broadcast to `shape`
/// (checked by the caller): an `i64` buffer.
pub(crate) fn zip_int(
    a: &Buffer,
    la: &Layout,
    b: &Buffer,
    lb: &Layout,
    shape: &[usize],
    f: impl Fn(i64, i64) -> i64 + Sync,
) -> Result<Buffer> {
    let (a, la) = in_dtype(a, la, DType::I64)?;
    let (b, lb) = in_dtype(b, lb, DType::I64)?;
    match (&*a, &*b) {
        (Buffer::I64(x), Buffer::I64(y)) => Ok(Buffer::I64(zip_slices(x, &la, y, &lb, shape, f)?)),
        _ => unreachable!("operands were cast to i64"),
    }
}

/// Elementwise comparison of `a` and `b` broadcast to `shape` (checked by the caller), both
/// read in `dtype`, producing a bool buffer.
pub(crate) fn compare(
    a: &Buffer,
    la: &Layout,
    b: &Buffer,
    lb: &Layout,
    shape: &[usize],
    dtype: DType,
    f: impl Fn(f64, f64) -> bool + Sync,
) -> Result<Buffer> {
    let (a, la) = in_dtype(a, la, dtype)?;
    let (b, lb) = in_dtype(b, lb, dtype)?;
    let (la, lb) = (&*la, &*lb);
    let out = match (&*a, &*b) {
        (Buffer::F32(x), Buffer::F32(y)) => {
            zip_slices(x, la, y, lb, shape, |p, q| f(p as f64, q as f64))?
        }
        (Buffer::F64(x), Buffer::F64(y)) => zip_slices(x, la, y, lb, shape, &f)?,
        (Buffer::Bool(x), Buffer::Bool(y)) => zip_slices(x, la, y, lb, shape, |p, q| {
            f(Scalar::to_f64(p), Scalar::to_f64(q))
        })?,
        (Buffer::I64(x), Buffer::I64(y)) => zip_slices(x, la, y, lb, shape, |p, q| {
            let (p, q) = comparable(p, q);
            f(p, q)
        })?,
        _ => unreachable!("operands were cast to one dtype"),
    };
    Ok(Buffer::Bool(out))
}

/// Two integers as `f64`s that compare as they do: themselves up to 2^53 (where `f64` is
/// exact), else stand-ins that keep their order, their equality and which is zero (ranks
/// among `{p, q, 0}`, 0 at 0.0), which is all a comparison or a logical op looks at.
fn comparable(p: i64, q: i64) -> (f64, f64) {
    const EXACT: u64 = 1 << 53;
    if p.unsigned_abs() <= EXACT && q.unsigned_abs() <= EXACT {
        return (p as f64, q as f64);
    }
    let mut ranks = [p, q, 0];
    ranks.sort_unstable();
    let rank = |x: i64| {
        let below = ranks.iter().filter(|&&r| r < x).count();
        let zero = ranks.iter().filter(|&&r| r < 0).count();
        // Distinct values below x, minus those below 0: duplicates counted once.
        let distinct = |n: usize| {
            let mut seen = 0;
            for i in 0..n {
                if i == 0 || ranks[i] != ranks[i - 1] {
                    seen += 1;
                }
            }
            seen as f64
        };
        distinct(below) - distinct(zero)
    };
    (rank(p), rank(q))
}

fn zip_slices<T: Copy + Send + Sync, U: Copy + Pooled>(
    a: &[T],
    la: &Layout,
    b: &[T],
    lb: &Layout,
    shape: &[usize],
    f: impl Fn(T, T) -> U + Sync,
) -> Result<Data<U>> {
    let n = numel(shape);
    if n <= INLINE {
        // Tiny tensors: one element (every dimension of size 1, so each operand's element is
        // at its offset), or two same-shaped contiguous runs, need no broadcast layouts.
        if n == 1 {
            return Ok(smallvec::smallvec![f(a[la.offset], b[lb.offset])]);
        }
        if let (true, true, Some(ra), Some(rb)) = (
            la.shape.as_slice() == shape,
            lb.shape.as_slice() == shape,
            la.contiguous_range(),
            lb.contiguous_range(),
        ) {
            return try_collect(n, a[ra].iter().zip(&b[rb]).map(|(&x, &y)| f(x, y)));
        }
        let (ba, bb) = (la.broadcast_to(shape), lb.broadcast_to(shape));
        return try_collect(
            n,
            ba.offsets().zip(bb.offsets()).map(|(i, j)| f(a[i], b[j])),
        );
    }
    let (oa, ob) = (Operand::new(a, la, shape)?, Operand::new(b, lb, shape)?);
    // A repeated row against contiguous elements: the loop runs along the row, restarting at
    // each repetition. (A row against anything else is copied out.)
    let (oa, ob) = match (oa, ob) {
        (Operand::Row(x), Operand::Slice(y)) => {
            return Ok(Data::from_vec(par_map(n, |r, out| {
                out.zip_row(&y[r.clone()], x, r.start, &|q, p| f(p, q))
            })?))
        }
        (Operand::Slice(x), Operand::Row(y)) => {
            return Ok(Data::from_vec(par_map(n, |r, out| {
                out.zip_row(&x[r.clone()], y, r.start, &f)
            })?))
        }
        (oa, ob) => (oa.unrow(a, la, shape)?, ob.unrow(b, lb, shape)?),
    };
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
        (Operand::Row(_), _) | (_, Operand::Row(_)) => unreachable!("rows were copied out"),
    };
    Ok(Data::from_vec(par_map(n, |r, out| match pair {
        Pair::SliceSlice(x, y) => out.zip(&x[r.clone()], &y[r], &f),
        Pair::SliceScalar(x, q) => out.map(&x[r], &|a| f(a, q)),
        Pair::ScalarSlice(p, y) => out.map(&y[r], &|b| f(p, b)),
        Pair::Scalars(p, q) => out.fill(f(p, q)),
    })?))
}

/// A contiguous copy of `buf` (read through `layout`) converted to `dtype`.
pub(crate) fn cast(buf: &Buffer, l: &Layout, dtype: DType) -> Result<Buffer> {
    if let (Buffer::I64(v), DType::I64) = (buf, dtype) {
        // Exactly (not through f64, which holds integers only up to 2^53).
        return Ok(Buffer::I64(map_slice(v, l, |a| a)?));
    }
    Ok(each_buffer!(buf, v => match dtype {
        DType::F32 => Buffer::F32(map_slice(v, l, |a| Scalar::to_f64(a) as f32)?),
        DType::F64 => Buffer::F64(map_slice(v, l, Scalar::to_f64)?),
        DType::Bool => Buffer::Bool(map_slice(v, l, |a| Scalar::to_f64(a) != 0.0)?),
        DType::I64 => Buffer::I64(map_slice(v, l, |a| Scalar::to_f64(a) as i64)?),
    }))
}

/// A contiguous copy of `buf` read through `layout`.
pub(crate) fn copy(buf: &Buffer, layout: &Layout) -> Result<Buffer> {
    Ok(map_buffer!(buf, v => gather(v, layout)?.into()))
}

/// `x` with `value` wherever `mask`, broadcast to `x`'s shape (checked by the caller), is
/// true; a mask that is not bool is read as bool.
pub(crate) fn masked_fill(
    x: &Buffer,
    lx: &Layout,
    mask: &Buffer,
    lm: &Layout,
    value: f64,
) -> Result<Buffer> {
    let (mask, lm) = in_dtype(mask, lm, DType::Bool)?;
    let ml = lm.broadcast_to(&lx.shape);
    let m = typed::<bool>(&mask);
    let n = lx.numel();
    let offsets = || lx.offsets().zip(ml.offsets());
    Ok(map_buffer!(x, v => try_collect(
        n,
        offsets().map(|(i, j)| if m[j] { Scalar::from_f64(value) } else { v[i] }),
    )?))
}

/// `a` where `cond` (a bool buffer), else `b`; all three broadcast to `shape` (checked by the
/// caller), `a` and `b` read in `dtype`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn where_select(
    cond: &Buffer,
    lc: &Layout,
    a: &Buffer,
    la: &Layout,
    b: &Buffer,
    lb: &Layout,
    shape: &[usize],
    dtype: DType,
) -> Result<Buffer> {
    let (a, la) = in_dtype(a, la, dtype)?;
    let (b, lb) = in_dtype(b, lb, dtype)?;
    let c = typed::<bool>(cond);
    let lc = lc.broadcast_to(shape);
    let (la, lb) = (la.broadcast_to(shape), lb.broadcast_to(shape));
    let n = numel(shape);
    Ok(match (&*a, &*b) {
        (Buffer::F32(x), Buffer::F32(y)) => Buffer::F32(pick(c, &lc, x, &la, y, &lb, n)?),
        (Buffer::F64(x), Buffer::F64(y)) => Buffer::F64(pick(c, &lc, x, &la, y, &lb, n)?),
        (Buffer::Bool(x), Buffer::Bool(y)) => Buffer::Bool(pick(c, &lc, x, &la, y, &lb, n)?),
        (Buffer::I64(x), Buffer::I64(y)) => Buffer::I64(pick(c, &lc, x, &la, y, &lb, n)?),
        _ => unreachable!("operands were cast to one dtype"),
    })
}

fn pick<T: Copy + Pooled>(
    c: &[bool],
    lc: &Layout,
    x: &[T],
    la: &Layout,
    y: &[T],
    lb: &Layout,
    n: usize,
) -> Result<Data<T>> {
    try_collect(
        n,
        lc.offsets()
            .zip(la.offsets().zip(lb.offsets()))
            .map(|(k, (i, j))| if c[k] { x[i] } else { y[j] }),
    )
}

/// Elementwise loops compiled three times: for the baseline target and, chosen at run time,
/// with AVX2 and FMA (the compiler vectorises the inlined closure 8 f32 lanes wide, and
/// `mul_add` is one instruction instead of a library call) or with AVX-512 (16 lanes; W6
/// 147 -> 119 ms on this VM). The results are the same bits at every level: Rust never fuses
/// a multiply and an add on its own, and the fast functions' explicit `mul_add`s are fused at
/// every level where they run (at the baseline `fastmath` runs an unfused form that checks
/// itself, see its docs).
///
/// Contract (the soundness of [`Sink`](super::Sink) rests on it): each loop asserts that
/// `out` is as long as its inputs, and writes every element of `out`.
pub(in crate::kernels) mod simd {
    use std::mem::MaybeUninit;

    /// `out[i] = f(x[i])`.
    pub(in crate::kernels) fn map<T: Copy, U>(
        x: &[T],
        out: &mut [MaybeUninit<U>],
        f: &impl Fn(T) -> U,
    ) {
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
    pub(in crate::kernels) fn zip<T: Copy, U>(
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

    /// Whether `f64::mul_add` is one instruction in the loops that `map` runs on this CPU: on
    /// x86-64 at the AVX2 and AVX-512 levels (at the baseline it is a software library call).
    #[cfg(target_arch = "x86_64")]
    pub(in crate::kernels) fn fused() -> bool {
        !matches!(level(), Level::Base)
    }

    /// Whether `f64::mul_add` is one instruction here: aarch64 always has FMA; elsewhere only
    /// where the build enables it.
    #[cfg(not(target_arch = "x86_64"))]
    pub(in crate::kernels) fn fused() -> bool {
        cfg!(any(target_arch = "aarch64", target_feature = "fma"))
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

    // The four loops below are `map_loop`/`zip_loop` compiled with more instruction sets.
    // Safety contract of each: the CPU has every feature it enables (`level()` checks).

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
