//! Matrix product kernels: 2-d and batched products through the `gemm` crate, each operand
//! read through its strides (transposed views need no copy).

use super::zeros;
use crate::dtype::Float;
use crate::error::Result;
use crate::layout::Layout;
use crate::pool::Pooled;
use crate::storage::{Buffer, Data, Element};
use smallvec::SmallVec;
use std::mem::MaybeUninit;

/// `a @ b` for 2-d `a` (m x k) and `b` (k x n) of one floating dtype, read through their
/// layouts: an `m x n` row-major buffer.
pub(crate) fn matmul2d(a: &Buffer, la: &Layout, b: &Buffer, lb: &Layout) -> Result<Buffer> {
    let (m, k, n) = (la.shape[0], la.shape[1], lb.shape[1]);
    Ok(match (a, b) {
        (Buffer::F32(x), Buffer::F32(y)) => Buffer::F32(gemm(x, la, y, lb, m, k, n)?),
        (Buffer::F64(x), Buffer::F64(y)) => Buffer::F64(gemm(x, la, y, lb, m, k, n)?),
        (Buffer::I64(x), Buffer::I64(y)) => {
            let mut c = zeros(m * n, 0i64)?;
            let (sa, sb) = (
                [la.strides[0], la.strides[1]],
                [lb.strides[0], lb.strides[1]],
            );
            int_product(x, la.offset, sa, y, lb.offset, sb, (m, k, n), &mut c);
            Buffer::I64(c.into())
        }
        _ => unreachable!("matmul operands have one dtype: floating, or int64"),
    })
}

/// A batch of products `a[i] @ b[i]` (`m x k` by `k x n`), each operand a strided matrix at
/// its own offset: `a_at[i]` with row/column strides `sa`, likewise `b`. One output buffer,
/// `[batch, m, n]` row-major; small products run in parallel over the batch (rayon), large
/// ones one after another, each threaded by the GEMM itself.
pub(crate) fn matmul_batched(
    a: &Buffer,
    a_at: &[usize],
    sa: [usize; 2],
    b: &Buffer,
    b_at: &[usize],
    sb: [usize; 2],
    (m, k, n): (usize, usize, usize),
) -> Result<Buffer> {
    Ok(match (a, b) {
        (Buffer::F32(x), Buffer::F32(y)) => {
            Buffer::F32(gemm_batched(x, a_at, sa, y, b_at, sb, (m, k, n))?)
        }
        (Buffer::F64(x), Buffer::F64(y)) => {
            Buffer::F64(gemm_batched(x, a_at, sa, y, b_at, sb, (m, k, n))?)
        }
        (Buffer::I64(x), Buffer::I64(y)) => {
            let mut c = zeros(a_at.len() * m * n, 0i64)?;
            for ((ci, &oa), &ob) in c.chunks_mut((m * n).max(1)).zip(a_at).zip(b_at) {
                int_product(x, oa, sa, y, ob, sb, (m, k, n), ci);
            }
            Buffer::I64(c.into())
        }
        _ => unreachable!("matmul operands have one dtype: floating, or int64"),
    })
}

/// `c += a @ b` in `i64`, wrapping on overflow as PyTorch's integer products do: `a` the
/// `m x k` matrix at `oa` with row/column strides `sa` in `x`, likewise `b`; `c` row-major
/// `m x n`. Plain loops (integer products are small in practice; every read is checked).
#[allow(clippy::too_many_arguments)]
fn int_product(
    x: &[i64],
    oa: usize,
    sa: [usize; 2],
    y: &[i64],
    ob: usize,
    sb: [usize; 2],
    (m, k, n): (usize, usize, usize),
    c: &mut [i64],
) {
    for i in 0..m {
        let row = &mut c[i * n..(i + 1) * n];
        for p in 0..k {
            let v = x[oa + i * sa[0] + p * sa[1]];
            for (j, out) in row.iter_mut().enumerate() {
                *out = out.wrapping_add(v.wrapping_mul(y[ob + p * sb[0] + j * sb[1]]));
            }
        }
    }
}

/// Below this many multiply-adds per product, a batch runs in parallel over its products (one
/// thread per product); so does a batch of at least two products per thread, whatever their
/// size (64 products of 128^3: 1.9 ms threading each product, 1.3-1.45 ms over the batch).
const SMALL_GEMM: usize = 1 << 18;

#[allow(clippy::too_many_arguments)]
fn gemm_batched<T: Float + Element + Pooled>(
    a: &[T],
    a_at: &[usize],
    sa: [usize; 2],
    b: &[T],
    b_at: &[usize],
    sb: [usize; 2],
    (m, k, n): (usize, usize, usize),
) -> Result<Data<T>> {
    use rayon::prelude::*;
    // The output size, checked (the caller checked the shape; a wrapped product here would
    // size the buffer below what the kernels write).
    let total = a_at
        .len()
        .checked_mul(m)
        .and_then(|t| t.checked_mul(n))
        .expect("internal error: unchecked matmul output shape");
    if m == 0 || n == 0 || k == 0 {
        return Ok(SmallVec::from_vec(zeros(total, T::zero())?));
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
    let mut c: Vec<T> = crate::pool::try_take(total)?;
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
    Ok(SmallVec::from_vec(c))
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
    // SAFETY: forwarded from this function's contract (the same operands and output).
    if unsafe { rank_one((m, k, n), a, sa, b, sb, c) } {
        return;
    }
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

/// The product when one operand has stride 0 along the inner dimension (the expanded
/// gradient of `sum` or `mean` reaching a matrix product): every column of `a` is `a[:, 0]`,
/// so `a @ b` is the outer product of `a[:, 0]` with the column sums of `b`; or every row
/// of `b` is `b[0, :]`, and `a @ b` is the outer product of the row sums of `a` with
/// `b[0, :]`. O(mk + kn + mn) instead of O(mkn). The sums and products are formed in `f64`
/// (exact widening, so an `f32` result is as accurate as the dense product or more, and no
/// partial sum of `f32` values overflows). Returns false, writing nothing, when neither
/// operand is broadcast along `k` or the `f64` sums cannot be allocated.
///
/// # Safety
/// The contract of [`gemm_raw`].
unsafe fn rank_one<T: Float>(
    (m, k, n): (usize, usize, usize),
    a: *const T,
    sa: [usize; 2],
    b: *const T,
    sb: [usize; 2],
    c: *mut T,
) -> bool {
    let along_a = match (sa[1], sb[0]) {
        (0, _) => true,
        (_, 0) => false,
        _ => return false,
    };
    // The product is `row[i] * col[j]`: one factor a column of one operand, the other the
    // sums over `k` of the other operand.
    let (mut row, mut col): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    if row.try_reserve_exact(m).is_err() || col.try_reserve_exact(n).is_err() {
        return false;
    }
    // SAFETY (the closures and the loops below): every read is at i*sa[0] + p*sa[1] of `a`
    // for i < m, p < k, or at p*sb[0] + j*sb[1] of `b` for p < k, j < n, inside the
    // operands by the contract of `gemm_raw`.
    let (sums, other, so, len, factors, fo, flen) = if along_a {
        (&mut col, b, [sb[1], sb[0]], n, &mut row, (a, sa[0]), m)
    } else {
        (&mut row, a, sa, m, &mut col, (b, sb[1]), n)
    };
    factors.extend((0..flen).map(|i| unsafe { (*fo.0.add(i * fo.1)).to_f64() }));
    // `other[r * so[0] + p * so[1]]` summed over p < k, for each r < len.
    if so[1] <= so[0] {
        // One sum per row of `other`, along its (faster) k direction, eight partial sums
        // at a time so the additions are independent.
        sums.extend((0..len).map(|r| {
            let at = |p: usize| unsafe { (*other.add(r * so[0] + p * so[1])).to_f64() };
            let mut acc = [0.0f64; 8];
            let full = k - k % 8;
            for p in (0..full).step_by(8) {
                for (l, x) in acc.iter_mut().enumerate() {
                    *x += at(p + l);
                }
            }
            (full..k).map(at).sum::<f64>() + acc.iter().sum::<f64>()
        }));
    } else {
        // All sums together, one k index at a time (the rows are the faster direction).
        sums.resize(len, 0.0);
        for p in 0..k {
            for (r, s) in sums.iter_mut().enumerate() {
                *s += unsafe { (*other.add(r * so[0] + p * so[1])).to_f64() };
            }
        }
    }
    // SAFETY: `c` is valid to write m*n elements and aliased by nothing (the contract); it
    // may be uninitialized, hence `MaybeUninit`. Every element is written below.
    let out = unsafe { std::slice::from_raw_parts_mut(c.cast::<MaybeUninit<T>>(), m * n) };
    for (dst, &x) in out.chunks_exact_mut(n).zip(&row) {
        for (o, &y) in dst.iter_mut().zip(&col) {
            o.write(T::from_f64(x * y));
        }
    }
    true
}

#[allow(clippy::too_many_arguments)]
fn gemm<T: Float + Element + Pooled>(
    a: &[T],
    la: &Layout,
    b: &[T],
    lb: &Layout,
    m: usize,
    k: usize,
    n: usize,
) -> Result<Data<T>> {
    // The output size, checked (a wrapped product would size the buffer below what the
    // kernel writes).
    let total = m
        .checked_mul(n)
        .expect("internal error: unchecked matmul output shape");
    if m == 0 || n == 0 || k == 0 {
        return Ok(SmallVec::from_vec(zeros(total, T::zero())?));
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
    let mut c: Vec<T> = crate::pool::try_take(total)?;
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
    Ok(SmallVec::from_vec(c))
}
