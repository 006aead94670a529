//! Shapes, strides and offsets: how a tensor reads its storage.
//!
//! A [`Layout`] is pure bookkeeping (no data, no graph). Views such as transpose, select and
//! expand are new layouts over the same storage.

use crate::error::{Error, Result};
use smallvec::SmallVec;

/// Dimensions of a tensor; inline up to rank 4 so small tensors never allocate for their shape.
pub type Shape = SmallVec<[usize; 4]>;

/// The largest element count (and stride) a tensor may have: PyTorch's sizes are `int64`, and
/// Rust allocations are at most `isize::MAX` bytes.
pub(crate) const MAX_NUMEL: usize = isize::MAX as usize;

/// Row-major strides of a contiguous tensor of `shape`.
///
/// Every shape stored in a layout went through [`check_shape`], so the products here cannot
/// overflow; if an unchecked shape slips through, this panics instead of wrapping.
pub(crate) fn contiguous_strides(shape: &[usize]) -> Shape {
    let mut strides: Shape = SmallVec::from_elem(0, shape.len());
    let mut acc = 1usize;
    for i in (0..shape.len()).rev() {
        strides[i] = acc;
        if i > 0 {
            acc = acc
                .checked_mul(shape[i].max(1))
                .filter(|&a| a <= MAX_NUMEL)
                .unwrap_or_else(|| panic!("internal error: unchecked shape {shape:?}"));
        }
    }
    strides
}

/// Number of elements of a shape (1 for a 0-d shape), if it is at most [`MAX_NUMEL`]; a shape
/// with a zero dimension has 0 elements whatever its other sizes.
#[inline]
pub(crate) fn checked_numel(shape: &[usize]) -> Option<usize> {
    if shape.contains(&0) {
        return Some(0);
    }
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= MAX_NUMEL)
}

/// Number of elements of a shape (1 for a 0-d shape). The shape must have been checked
/// ([`check_shape`]); an overflowing product panics rather than wrapping.
#[inline]
pub(crate) fn numel(shape: &[usize]) -> usize {
    checked_numel(shape).unwrap_or_else(|| panic!("internal error: unchecked shape {shape:?}"))
}

/// Checks that a tensor of `shape` can exist: its element count and its contiguous strides
/// fit in `isize` (PyTorch: "numel: integer multiplication overflow"). Returns the element
/// count. Every constructor, view, reshape, expand and broadcast result goes through this.
pub(crate) fn check_shape(op: &'static str, shape: &[usize]) -> Result<usize> {
    let overflow = || {
        Error::invalid(
            op,
            format!("numel: integer multiplication overflow (shape {shape:?})"),
        )
    };
    // Every size fits in PyTorch's int64, even in an empty shape.
    if shape.iter().any(|&d| d > MAX_NUMEL) {
        return Err(overflow());
    }
    let n = checked_numel(shape).ok_or_else(overflow)?;
    // The strides of a contiguous layout multiply every dimension but the first (size-0
    // dimensions counting as 1), which may overflow even when the element count is 0.
    if n == 0 {
        shape
            .iter()
            .skip(1)
            .try_fold(1usize, |acc, &d| acc.checked_mul(d.max(1)))
            .filter(|&a| a <= MAX_NUMEL)
            .ok_or_else(overflow)?;
    }
    Ok(n)
}

/// [`check_shape`] for a result that is allocated: its bytes (`elem_size` each) must also fit
/// in `isize` (PyTorch: "Storage size calculation overflowed with sizes=..."). Returns the
/// element count.
pub(crate) fn check_alloc(op: &'static str, shape: &[usize], elem_size: usize) -> Result<usize> {
    let n = check_shape(op, shape)?;
    if n.checked_mul(elem_size).is_none_or(|b| b > MAX_NUMEL) {
        return Err(Error::invalid(
            op,
            format!("Storage size calculation overflowed with sizes={shape:?}"),
        ));
    }
    Ok(n)
}

/// NumPy broadcasting of two shapes, or `None` if they are incompatible.
pub(crate) fn broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Shape> {
    let n = a.len().max(b.len());
    let mut out: Shape = SmallVec::from_elem(0, n);
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return None;
        };
    }
    Some(out)
}

/// The broadcast shape of `a` and `b`, or PyTorch's error naming the dimension.
/// The broadcast result is allocated by the callers, so its element count and bytes (at
/// most 8 per element) must fit ([`check_alloc`]).
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
    check_alloc(op, &shape, 8)?;
    Ok(shape)
}

/// Normalizes a possibly negative dimension index against `ndim` dimensions.
pub(crate) fn normalize_dim(op: &'static str, dim: isize, ndim: usize) -> Result<usize> {
    let n = ndim as isize;
    let d = if dim < 0 { dim + n } else { dim };
    if d < 0 || d >= n {
        return Err(Error::invalid(
            op,
            format!(
                "Dimension out of range (expected to be in range of [{}, {}], but got {dim})",
                -n,
                n - 1
            ),
        ));
    }
    Ok(d as usize)
}

/// Which of `ndim` dimensions the possibly negative indices `dims` name (each at most once;
/// an empty `dims` names none).
pub(crate) fn reduce_mask(
    op: &'static str,
    ndim: usize,
    dims: &[isize],
) -> Result<SmallVec<[bool; 4]>> {
    let mut mask: SmallVec<[bool; 4]> = SmallVec::from_elem(false, ndim);
    for &d in dims {
        let i = normalize_dim(op, d, ndim.max(1))?;
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

/// `shape` with the dimensions flagged in `reduce` set to 1 (a reduction with `keepdim`).
pub(crate) fn keepdim_shape(shape: &[usize], reduce: &[bool]) -> Shape {
    shape
        .iter()
        .zip(reduce)
        .map(|(&d, &r)| if r { 1 } else { d })
        .collect()
}

/// Shape, strides (in elements) and offset of a tensor inside its storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    pub(crate) shape: Shape,
    pub(crate) strides: Shape,
    pub(crate) offset: usize,
}

impl Layout {
    pub(crate) fn contiguous(shape: &[usize]) -> Layout {
        if shape.is_empty() {
            // 0-d, the scalar graphs' case: nothing to copy or compute.
            return Layout {
                shape: Shape::new(),
                strides: Shape::new(),
                offset: 0,
            };
        }
        Layout {
            shape: SmallVec::from_slice(shape),
            strides: contiguous_strides(shape),
            offset: 0,
        }
    }

    #[inline]
    pub(crate) fn numel(&self) -> usize {
        numel(&self.shape)
    }

    /// The element count, and whether the layout is row-major contiguous (offset may be
    /// non-zero; size-1 dims may have any stride; an empty layout is contiguous), in one pass.
    #[inline]
    fn numel_and_contiguous(&self) -> (usize, bool) {
        let (mut n, mut contiguous) = (1usize, true);
        // From the last dimension: the running product is the contiguous stride of the next
        // one (every size-1 dim leaves it unchanged, so it is the product of the others).
        for (&d, &s) in self.shape.iter().zip(&self.strides).rev() {
            contiguous &= d == 1 || s == n;
            n = n
                .checked_mul(d)
                .unwrap_or_else(|| panic!("internal error: unchecked shape {:?}", self.shape));
        }
        (n, contiguous || n == 0)
    }

    /// Row-major contiguous (offset may be non-zero); size-1 dims may have any stride.
    #[inline]
    pub(crate) fn is_contiguous(&self) -> bool {
        self.numel_and_contiguous().1
    }

    /// The storage range a contiguous layout reads, if it is contiguous.
    #[inline]
    pub(crate) fn contiguous_range(&self) -> Option<std::ops::Range<usize>> {
        match self.numel_and_contiguous() {
            // An empty view may point past the end of its (possibly empty) buffer.
            (0, _) => Some(0..0),
            (n, true) => Some(self.offset..self.offset + n),
            (_, false) => None,
        }
    }

    /// The same storage seen with `shape` broadcast to `target` (stride 0 on new/expanded dims).
    /// The caller has checked that broadcasting is valid.
    pub(crate) fn broadcast_to(&self, target: &[usize]) -> Layout {
        let n = target.len();
        let k = self.shape.len();
        let mut strides: Shape = SmallVec::from_elem(0, n);
        for i in 0..k {
            let t = n - k + i;
            strides[t] = if self.shape[i] == target[t] {
                self.strides[i]
            } else {
                0
            };
        }
        Layout {
            shape: SmallVec::from_slice(target),
            strides,
            offset: self.offset,
        }
    }

    /// Removes dimension `dim`, fixing it at `index` (the caller has checked the bounds).
    pub(crate) fn select(&self, dim: usize, index: usize) -> Layout {
        let mut shape = self.shape.clone();
        let mut strides = self.strides.clone();
        let offset = self.offset + index * strides[dim];
        shape.remove(dim);
        strides.remove(dim);
        Layout {
            shape,
            strides,
            offset,
        }
    }

    /// Swaps two dimensions.
    pub(crate) fn transpose(&self, a: usize, b: usize) -> Layout {
        let mut l = self.clone();
        l.shape.swap(a, b);
        l.strides.swap(a, b);
        l
    }

    /// The same elements with a new shape, as a view, when the strides allow it without a copy.
    pub(crate) fn reshape_view(&self, shape: &[usize]) -> Option<Layout> {
        if self.is_contiguous() {
            let mut l = Layout::contiguous(shape);
            l.offset = self.offset;
            Some(l)
        } else {
            None
        }
    }

    /// Storage offsets of every element in row-major order.
    pub(crate) fn offsets(&self) -> Offsets<'_> {
        Offsets::new(&self.shape, &self.strides, self.offset)
    }
}

/// Row-major walk over a strided index space, yielding storage offsets (an odometer).
pub(crate) struct Offsets<'a> {
    shape: &'a [usize],
    strides: &'a [usize],
    index: Shape,
    current: usize,
    remaining: usize,
}

impl<'a> Offsets<'a> {
    pub(crate) fn new(shape: &'a [usize], strides: &'a [usize], offset: usize) -> Offsets<'a> {
        Offsets {
            shape,
            strides,
            index: SmallVec::from_elem(0, shape.len()),
            current: offset,
            remaining: numel(shape),
        }
    }
}

impl Iterator for Offsets<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let out = self.current;
        if self.remaining > 0 {
            let mut d = self.shape.len();
            while d > 0 {
                d -= 1;
                self.index[d] += 1;
                self.current += self.strides[d];
                if self.index[d] < self.shape[d] {
                    break;
                }
                self.current -= self.strides[d] * self.shape[d];
                self.index[d] = 0;
            }
        }
        Some(out)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Offsets<'_> {}

/// Maps a position of an index op's output to the position of its input it reads (`take`) or
/// of the output it adds into (`put_add`), both as multi-indices.
pub(crate) type IndexMap = std::sync::Arc<dyn Fn(&[usize], &mut [usize]) + Send + Sync>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(
            broadcast_shapes(&[3, 1], &[1, 4]).unwrap().as_slice(),
            &[3, 4]
        );
        assert_eq!(broadcast_shapes(&[], &[2, 3]).unwrap().as_slice(), &[2, 3]);
        assert_eq!(broadcast_shapes(&[0, 1], &[3]).unwrap().as_slice(), &[0, 3]);
        assert!(broadcast_shapes(&[2], &[3]).is_none());
    }

    #[test]
    fn offsets_walk_transposed_and_broadcast_views() {
        let l = Layout::contiguous(&[2, 3]).transpose(0, 1);
        assert_eq!(l.offsets().collect::<Vec<_>>(), vec![0, 3, 1, 4, 2, 5]);
        let b = Layout::contiguous(&[3]).broadcast_to(&[2, 3]);
        assert_eq!(b.offsets().collect::<Vec<_>>(), vec![0, 1, 2, 0, 1, 2]);
        assert_eq!(Layout::contiguous(&[0, 2]).offsets().count(), 0);
        assert_eq!(
            Layout::contiguous(&[]).offsets().collect::<Vec<_>>(),
            vec![0]
        );
    }

    #[test]
    fn empty_layouts_are_contiguous() {
        assert!(Layout::contiguous(&[2, 0, 2]).is_contiguous());
        assert!(Layout::contiguous(&[0, 3]).transpose(0, 1).is_contiguous());
        let mut past_end = Layout::contiguous(&[0]);
        past_end.offset = 7;
        assert_eq!(past_end.contiguous_range(), Some(0..0));
    }
}
