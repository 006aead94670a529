//! Kernels: the loops over element buffers, below tensors.
//!
//! A kernel reads [`Buffer`](crate::storage::Buffer)s (or typed slices) through
//! [`Layout`](crate::layout::Layout)s and returns a new contiguous buffer (row-major, of the
//! shape the caller names or the kernel documents), as
//! `(&Buffer, &Layout, ...) -> Result<Buffer>`. Kernels know nothing of tensors, locks,
//! graphs, autograd or `ops`: the files here import only `dtype`, `error`, `layout`, `storage`
//! and `pool`, and each other. Every allocation the size of a result or of a whole operand
//! is fallible (an impossible size is PyTorch's allocator error, never a panic or an abort),
//! so a `try_` op gets the `Err`; only small scratch (one matrix of an LU, index vectors of
//! rank length) uses the infallible allocator.
//!
//! Argument checks that users can get wrong (shapes that do not broadcast, a bool operand of
//! arithmetic) are made by the tensor layer (`raw.rs`, which locks a tensor's storage, runs a
//! kernel and wraps the buffer in a new tensor) before a kernel runs; what a kernel still
//! asserts is internal consistency.
//!
//! - [`elementwise`]: maps, zips with broadcasting, casts, copies, `where`/`masked_fill`, and
//!   the run-time dispatched SIMD loops.
//! - [`reduce`]: sums over dimensions, pairwise summation, the 2-norm, rows, cumulative ops.
//! - [`gemm`]: 2-d and batched matrix products.
//! - [`index`]: gathers, takes and puts through index maps, strided writes.
//! - [`lu`]: LU factorization, solves and determinants.
//! - [`spectral`]: the symmetric eigenproblem (cyclic Jacobi) and the SVD (one-sided Jacobi).
//! - [`factor`]: Cholesky, triangular solves, Householder QR, LU with LAPACK's pivots, and
//!   signs and log-magnitudes of determinants (`linalg`'s factorizations).
//! - [`fastmath`]: vectorisable `f32` exp, tanh, sin and cos (the bulk fast paths).

mod elementwise;
pub(crate) mod factor;
pub(crate) mod fastmath;
mod gemm;
mod index;
mod lu;
mod reduce;
pub(crate) mod spectral;

pub(crate) use elementwise::{
    bulk_f32, cast, compare, copy, map_float_bulk, masked_fill, promote_types, where_select,
    zip_float, zip_int,
};
pub(crate) use gemm::{matmul2d, matmul_batched};
pub(crate) use index::{gather, index_values, put, select_scatter, take, write_buffer};
pub(crate) use lu::{lu_det, lu_pivot_ratio, lu_solve};
pub(crate) use reduce::{cumulative, norm2, rows, softmax, softmax_backward, sum_dims};

use crate::error::Result;
use crate::pool::Pooled;
use std::mem::MaybeUninit;
use std::ops::Range;

/// Elements per task of a parallel elementwise loop, and the size below which loops stay on
/// the calling thread (a task hand-off costs about as much as a few thousand elements).
const CHUNK: usize = 1 << 15;
const PARALLEL_MIN: usize = 1 << 16;

/// One piece of the output of a [`par_map`]: uninitialised elements that only this type's
/// methods can write, and each of them writes all of them (returning the proof, [`Filled`]).
pub(crate) struct Sink<'a, U>(&'a mut [MaybeUninit<U>]);

/// A [`Sink`] after one of its methods wrote every element: the same elements, initialised.
/// Only [`Sink`]'s methods make one, so holding one proves that its chunk was written.
pub(crate) struct Filled<'a, U>(&'a mut [U]);

impl<'a, U: Copy> Sink<'a, U> {
    /// `out[i] = f(x[i])` (`x` as long as the sink: asserted), vectorised.
    #[inline(always)]
    pub(crate) fn map<T: Copy>(self, x: &[T], f: &impl Fn(T) -> U) -> Filled<'a, U> {
        elementwise::simd::map(x, self.0, f);
        // SAFETY: `simd::map` asserts that `x` and the sink have one length and writes every
        // element of the sink (its contract; a panic never reaches this line).
        unsafe { self.assume_init() }
    }

    /// `out[i] = f(x[i], y[i])` (both as long as the sink: asserted), vectorised.
    #[inline(always)]
    pub(crate) fn zip<T: Copy>(self, x: &[T], y: &[T], f: &impl Fn(T, T) -> U) -> Filled<'a, U> {
        elementwise::simd::zip(x, y, self.0, f);
        // SAFETY: `simd::zip` asserts that `x`, `y` and the sink have one length and writes
        // every element of the sink (its contract).
        unsafe { self.assume_init() }
    }

    /// `out[i] = f(x[i], row[(start + i) % row.len()])`: `x` as long as the sink (asserted)
    /// against a non-empty `row` repeated from position `start`, vectorised along each
    /// repetition.
    #[inline(always)]
    pub(crate) fn zip_row<T: Copy>(
        self,
        x: &[T],
        row: &[T],
        start: usize,
        f: &impl Fn(T, T) -> U,
    ) -> Filled<'a, U> {
        let n = self.0.len();
        assert!(
            x.len() == n && !row.is_empty(),
            "internal error: zip_row lengths"
        );
        let (mut pos, mut at) = (0, start % row.len());
        while pos < n {
            let len = (row.len() - at).min(n - pos);
            let seg = pos..pos + len;
            elementwise::simd::zip(&x[seg.clone()], &row[at..at + len], &mut self.0[seg], f);
            (pos, at) = (pos + len, 0);
        }
        // SAFETY: the segments `pos..pos + len` cover `0..n` consecutively (each starts where
        // the last ended, until `pos == n`; `len >= 1` as `at < row.len()`), and `simd::zip`
        // writes every element of each (its contract).
        unsafe { self.assume_init() }
    }

    /// Every element `v`.
    #[inline(always)]
    pub(crate) fn fill(self, v: U) -> Filled<'a, U> {
        for o in self.0.iter_mut() {
            o.write(v);
        }
        // SAFETY: the loop above wrote every element of the sink.
        unsafe { self.assume_init() }
    }

    /// # Safety
    /// Every element of the sink has been written.
    #[inline(always)]
    unsafe fn assume_init(self) -> Filled<'a, U> {
        let (ptr, len) = (self.0.as_mut_ptr().cast::<U>(), self.0.len());
        // SAFETY: `MaybeUninit<U>` has `U`'s layout, the elements are initialised (this
        // function's contract), and the exclusive borrow moves from the sink to the result.
        Filled(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
    }
}

/// `out[i] = f(x[i])` on initialised slices of one length (asserted), vectorised as the
/// kernels' loops are (the blocks of deferred elementwise work).
#[inline(always)]
pub(crate) fn map_into<T: Copy, U: Copy>(x: &[T], out: &mut [U], f: &impl Fn(T) -> U) {
    elementwise::simd::map(x, uninit(out), f)
}

/// `out[i] = f(x[i], y[i])` on initialised slices of one length (asserted), vectorised.
#[inline(always)]
pub(crate) fn zip_into<T: Copy, U: Copy>(x: &[T], y: &[T], out: &mut [U], f: &impl Fn(T, T) -> U) {
    elementwise::simd::zip(x, y, uninit(out), f)
}

/// An initialised slice seen as one the loops write into.
fn uninit<U: Copy>(out: &mut [U]) -> &mut [MaybeUninit<U>] {
    let (ptr, len) = (out.as_mut_ptr().cast::<MaybeUninit<U>>(), out.len());
    // SAFETY: `MaybeUninit<U>` has `U`'s layout; the exclusive borrow moves to the result.
    // The loops write only initialised values into it (never `MaybeUninit::uninit()`), so
    // every element is still initialised when the borrow ends; `U: Copy` has no destructor
    // for an overwrite to skip.
    unsafe { std::slice::from_raw_parts_mut(ptr, len) }
}

impl<U> Filled<'_, U> {
    /// The written elements, to be overwritten in part (a fix-up pass).
    pub(crate) fn as_mut_slice(&mut self) -> &mut [U] {
        self.0
    }
}

/// The `n` outputs of an elementwise loop: `piece(range, sink)` fills the outputs of `range`
/// through `sink` (a [`Sink`] of `range.len()` elements) and returns the [`Filled`] proof,
/// for consecutive ranges, in parallel (rayon) for large `n`. The output is written once, in
/// place (no zero-filling first, no concatenation), into a buffer from the pool; a buffer
/// that cannot be allocated is an error.
///
/// Safe for any `piece`: a `Filled` can only come from a `Sink` whose every element was
/// written, and each piece must return the one for its own chunk (checked), so the result
/// is fully initialised.
pub(crate) fn par_map<U: Copy + Pooled>(
    n: usize,
    piece: impl for<'a> Fn(Range<usize>, Sink<'a, U>) -> Filled<'a, U> + Sync,
) -> Result<Vec<U>> {
    use rayon::prelude::*;
    let mut out: Vec<U> = crate::pool::try_take(n)?;
    let spare = &mut out.spare_capacity_mut()[..n];
    let run = |start: usize, chunk: &mut [MaybeUninit<U>]| {
        let (ptr, len) = (chunk.as_ptr().cast::<U>(), chunk.len());
        let filled = piece(start..start + len, Sink(chunk));
        assert!(
            std::ptr::eq(filled.0.as_ptr(), ptr) && filled.0.len() == len,
            "internal error: par_map piece returned another chunk"
        );
    };
    if n < PARALLEL_MIN {
        run(0, spare);
    } else {
        spare
            .par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(i, chunk)| run(i * CHUNK, chunk));
    }
    // SAFETY: the chunks cover `0..n` exactly (consecutive chunks of `spare`, whose length is
    // `n`; `try_take(n)` has capacity for at least `n`, or the slicing above panicked), and
    // each piece returned the `Filled` of its own chunk (asserted above; a panic unwinds past
    // this line), which only a `Sink` method that wrote every element creates: the first `n`
    // elements are initialised.
    unsafe { out.set_len(n) };
    Ok(out)
}

/// `n` zeros (`zero`) in a buffer from the pool; an allocation that cannot succeed is an
/// error.
fn zeros<T: Copy + Pooled>(n: usize, zero: T) -> Result<Vec<T>> {
    let mut v = crate::pool::try_take(n)?;
    v.resize(n, zero);
    Ok(v)
}

/// A buffer from the pool with room for `n` elements, filled from `it` (at most `n` items).
fn collect_vec<T: Pooled>(n: usize, it: impl Iterator<Item = T>) -> Result<Vec<T>> {
    let mut v = crate::pool::try_take(n)?;
    v.extend(it);
    Ok(v)
}

#[cfg(test)]
mod tests {
    /// The kernel layer sits below tensors: its files name no crate module but these.
    #[test]
    fn kernels_import_only_the_layers_below() {
        const ALLOWED: [&str; 6] = ["dtype", "error", "layout", "storage", "pool", "kernels"];
        let files = [
            ("mod.rs", include_str!("mod.rs")),
            ("elementwise.rs", include_str!("elementwise.rs")),
            ("reduce.rs", include_str!("reduce.rs")),
            ("gemm.rs", include_str!("gemm.rs")),
            ("index.rs", include_str!("index.rs")),
            ("lu.rs", include_str!("lu.rs")),
            ("fastmath.rs", include_str!("fastmath.rs")),
        ];
        let prefix = concat!("crate", "::");
        for (name, src) in files {
            for (at, _) in src.match_indices(prefix) {
                let rest = &src[at + prefix.len()..];
                let module: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                assert!(
                    ALLOWED.contains(&module.as_str()),
                    "kernels/{name} imports the crate module {module:?}"
                );
            }
            for word in [concat!("Ten", "sor"), concat!("super::", "super")] {
                assert!(!src.contains(word), "kernels/{name} mentions {word}");
            }
        }
    }
}
