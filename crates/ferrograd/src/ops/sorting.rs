//! Sorting, selection and scans: sort, argsort, topk, kthvalue, median, mode, cummax, cummin,
//! logcumsumexp, nansum, nanmean, take_along_dim; and the integer-valued ops without
//! gradients: unique, searchsorted, bincount, histc, tril_indices/triu_indices, nonzero and
//! `where` with one argument.
//!
//! The values an op selects are gathered through the index-map primitive ([`take`], whose
//! backward is `put_add`): the gradient goes to the chosen index only (at ties too), and every
//! derivative order works. Indices are int64 tensors. The one function that reads tensor data
//! is [`slices`]; everything else here computes on the values it returns (permutations,
//! counts) or composes differentiable ops.
//!
//! At ties: sort and argsort are stable (equal elements keep their order, in descending
//! order too), as PyTorch's CPU sort; kthvalue follows PyTorch's quickselect step by step
//! (so its index at ties is PyTorch's); topk takes the stable order's elements (PyTorch's index
//! at ties comes from its C++ library's partial sort and is documented as unspecified); median takes the lower median of
//! the stable order, NaN (at its first occurrence) where a slice holds one; mode the smallest
//! of the most frequent values at its last occurrence; cummax/cummin the latest index of the
//! running extreme (PyTorch's `>=`), NaN propagating.

use super::index::{take, IndexMap};
use super::normalize_dim;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::layout::Shape;
use crate::raw;
use crate::tensor::Tensor;
use std::cmp::Ordering;
use std::sync::Arc;

/// The values of `x` as slices along `d` (each slice contiguous in the result, slices in
/// row-major order of the other dimensions), widened to `f64`, and the slice length. The only
/// place this module reads tensor data.
fn slices(x: &Tensor, d: usize) -> Result<(Vec<f64>, usize)> {
    let mut mask = vec![false; x.dim()];
    mask[d] = true;
    raw::rows(x, &mask)
}

/// Every value of `x`, row-major.
fn values(x: &Tensor) -> Result<Vec<f64>> {
    Ok(slices(&x.try_reshape(&[x.numel()])?, 0)?.0)
}

/// The total order sorting uses: NaN above everything (and equal to NaN).
fn total(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => a.partial_cmp(&b).expect("not NaN"),
    }
}

/// The stable sorting permutation of `row` (ascending, or descending keeping equal elements
/// in their order).
fn order(row: &[f64], descending: bool) -> Vec<usize> {
    let mut p: Vec<usize> = (0..row.len()).collect();
    if descending {
        p.sort_by(|&i, &j| total(row[j], row[i]));
    } else {
        p.sort_by(|&i, &j| total(row[i], row[j]));
    }
    p
}

/// `x` as a tensor of at least one dimension (a 0-d tensor as `[1]`) and the dim `dim` of it.
fn along(op: &'static str, x: &Tensor, dim: isize) -> Result<(Tensor, usize)> {
    let d = normalize_dim(op, dim, x.dim().max(1))?;
    let x = if x.dim() == 0 {
        x.try_reshape(&[1])?
    } else {
        x.clone()
    };
    Ok((x, d))
}

/// An int64 tensor of `x`'s shape with `len` at `d`, from per-slice indices laid out as
/// [`slices`] gives them (slice `s` at `s * len ..`).
fn index_tensor(x: &Tensor, d: usize, len: usize, idx: Vec<i64>) -> Result<Tensor> {
    let mut moved: Shape = x
        .shape()
        .iter()
        .enumerate()
        .filter(|&(k, _)| k != d)
        .map(|(_, &n)| n)
        .collect();
    moved.push(len);
    let n = x.dim();
    let t = Tensor::try_from_vec(idx, &moved)?;
    // The slice dimension (last) back to its place.
    let perm: Vec<isize> = (0..n)
        .map(|k| match k.cmp(&d) {
            Ordering::Less => k as isize,
            Ordering::Equal => (n - 1) as isize,
            Ordering::Greater => k as isize - 1,
        })
        .collect();
    Ok(t.try_permute(&perm)?.contiguous())
}

/// `x` gathered along `d` at `index` (int64, `x`'s rank, in bounds), recorded as `name`: the
/// gradient is put back at the chosen positions.
fn pick(name: &'static str, x: &Tensor, d: usize, index: &Tensor) -> Tensor {
    let idx: Arc<Vec<i64>> = Arc::new(index.contiguous_vec::<i64>());
    let shape = index.shape_vec();
    let ishape = shape.clone();
    let map: IndexMap = Arc::new(move |p, s| {
        s.copy_from_slice(p);
        let flat = p.iter().zip(ishape.iter()).fold(0, |a, (&i, &n)| a * n + i);
        s[d] = idx[flat] as usize;
    });
    take(name, x, &shape, map)
}

/// Per slice, one index chosen by `choose(slice)`; the values gathered (recorded as `name`)
/// and the indices, with the dim kept or dropped.
fn select_one(
    op: &'static str,
    name: &'static str,
    x: &Tensor,
    dim: isize,
    keepdim: bool,
    choose: &dyn Fn(&[f64]) -> usize,
) -> Result<(Tensor, Tensor)> {
    let zero_d = x.dim() == 0;
    let (xs, d) = along(op, x, dim)?;
    if xs.is_batched() {
        let (v, i) = batched_pair(&xs, |p| {
            select_one(op, name, p, d as isize + 1, keepdim, choose)
        })?;
        return Ok(match zero_d {
            true => (v.try_reshape(&[])?, i.try_reshape(&[])?),
            false => (v, i),
        });
    }
    let (vals, len) = slices(&xs, d)?;
    if len == 0 {
        // nanmedian shares median's kernel, and its message, in PyTorch.
        let shown = op.strip_prefix("nan").unwrap_or(op);
        return Err(Error::invalid(
            op,
            format!("{shown}(): Expected reduction dim {d} to have non-zero size."),
        ));
    }
    let idx: Vec<i64> = vals.chunks(len).map(|r| choose(r) as i64).collect();
    let indices = index_tensor(&xs, d, 1, idx)?;
    let values = pick(name, &xs, d, &indices);
    if zero_d {
        Ok((
            crate::autograd::relabel(values.try_reshape(&[])?, name),
            indices.try_reshape(&[])?,
        ))
    } else if keepdim {
        Ok((values, indices))
    } else {
        Ok((
            crate::autograd::relabel(values.try_squeeze(d as isize)?, name),
            indices.try_squeeze(d as isize)?,
        ))
    }
}

/// The batching rule of the ops along a dim that return values and indices: the batch is one
/// more leading dim of the physical value (see `autograd::levels::lowered`); `op` gets it.
fn batched_pair(
    x: &Tensor,
    op: impl FnOnce(&Tensor) -> Result<(Tensor, Tensor)>,
) -> Result<(Tensor, Tensor)> {
    let ys = crate::autograd::levels::lowered(x, |p| {
        let (v, i) = op(p)?;
        Ok(vec![v, i])
    })?;
    Ok((ys[0].clone(), ys[1].clone()))
}

/// `a > b`, NaN above every number (PyTorch's `gt_or_nan`).
fn gt_or_nan(a: f64, b: f64) -> bool {
    (a.is_nan() && !b.is_nan()) || a > b
}

/// The index of the `k`-th smallest (from 0) element of `row` as PyTorch's kthvalue chooses
/// it: its quickselect (median-of-three pivot; `quick_select_template` in ATen's
/// SortingUtils.h), followed step by step, so the index at ties is PyTorch's.
fn kth_index(row: &[f64], k: usize) -> usize {
    let mut arr = row.to_vec();
    let mut idx: Vec<usize> = (0..row.len()).collect();
    let mut swap = |arr: &mut [f64], a: usize, b: usize| {
        arr.swap(a, b);
        idx.swap(a, b);
    };
    let (mut l, mut r) = (0usize, row.len() - 1);
    loop {
        if r <= l {
            break;
        }
        if r == l + 1 {
            if gt_or_nan(arr[l], arr[r]) {
                swap(&mut arr, l, r);
            }
            break;
        }
        let p = l + (r - l) / 2;
        swap(&mut arr, p, l + 1);
        if gt_or_nan(arr[l + 1], arr[r]) {
            swap(&mut arr, l + 1, r);
        }
        if gt_or_nan(arr[l], arr[r]) {
            swap(&mut arr, l, r);
        }
        if gt_or_nan(arr[l + 1], arr[l]) {
            swap(&mut arr, l + 1, l);
        }
        let (mut i, mut j) = (l + 1, r);
        let piv = arr[l];
        loop {
            i += 1;
            while gt_or_nan(piv, arr[i]) {
                i += 1;
            }
            j -= 1;
            while gt_or_nan(arr[j], piv) {
                j -= 1;
            }
            if j < i {
                break;
            }
            swap(&mut arr, i, j);
        }
        swap(&mut arr, l, j);
        if j <= k {
            l = i;
        }
        if j >= k {
            r = j - 1;
        }
    }
    idx[k]
}

/// The lower median's index in `row`: the first NaN if there is one.
fn median_index(row: &[f64]) -> usize {
    if let Some(i) = row.iter().position(|v| v.is_nan()) {
        return i;
    }
    order(row, false)[(row.len() - 1) / 2]
}

/// The index of the lower median of `row`'s non-NaN values (at ties the stable order's, as
/// PyTorch's); the first element when every one is NaN.
fn nanmedian_index(row: &[f64]) -> usize {
    let numbers = row.iter().filter(|v| !v.is_nan()).count();
    if numbers == 0 {
        return 0;
    }
    // The ascending order puts the NaNs last.
    order(row, false)[(numbers - 1) / 2]
}

/// The mode's index in `row`: the smallest of the most frequent values, at its last
/// occurrence.
fn mode_index(row: &[f64]) -> usize {
    let p = order(row, false);
    let (mut best, mut best_count) = (p[0], 0);
    let mut start = 0;
    while start < p.len() {
        let mut end = start + 1;
        while end < p.len() && row[p[end]] == row[p[start]] {
            end += 1;
        }
        if end - start > best_count {
            best_count = end - start;
            best = *p[start..end].iter().max().expect("a run is non-empty");
        }
        start = end;
    }
    best
}

/// Running extreme indices of `row`: the latest index of the maximum (`max`) or minimum so
/// far, NaN propagating (a later NaN takes the index).
fn running(row: &[f64], max: bool) -> Vec<i64> {
    let mut best = 0usize;
    row.iter()
        .enumerate()
        .map(|(i, &v)| {
            let b = row[best];
            if v.is_nan() || (!b.is_nan() && (if max { v >= b } else { v <= b })) {
                best = i;
            }
            best as i64
        })
        .collect()
}

impl Tensor {
    fn sort_impl(
        &self,
        dim: isize,
        descending: bool,
        k: Option<usize>,
    ) -> Result<(Tensor, Tensor)> {
        let op = if k.is_some() { "topk" } else { "sort" };
        let zero_d = self.dim() == 0;
        let (xs, d) = along(op, self, dim)?;
        if xs.is_batched() {
            let (v, i) = batched_pair(&xs, |p| p.sort_impl(d as isize + 1, descending, k))?;
            return Ok(match zero_d {
                true => (v.try_reshape(&[])?, i.try_reshape(&[])?),
                false => (v, i),
            });
        }
        let (vals, len) = slices(&xs, d)?;
        let keep = k.unwrap_or(len);
        if keep > len {
            return Err(Error::invalid(op, "selected index k out of range"));
        }
        let mut idx = Vec::with_capacity(keep * vals.len() / len.max(1));
        if len > 0 {
            for r in vals.chunks(len) {
                idx.extend(order(r, descending)[..keep].iter().map(|&i| i as i64));
            }
        }
        let indices = index_tensor(&xs, d, keep, idx)?;
        let name = if k.is_some() {
            "TopkBackward0"
        } else {
            "SortBackward0"
        };
        let values = pick(name, &xs, d, &indices);
        if zero_d {
            Ok((values.try_reshape(&[])?, indices.try_reshape(&[])?))
        } else {
            Ok((values, indices))
        }
    }

    fn running_extreme(&self, dim: isize, max: bool) -> Result<(Tensor, Tensor)> {
        let (op, name) = if max {
            ("cummax", "CummaxBackward0")
        } else {
            ("cummin", "CumminBackward0")
        };
        let zero_d = self.dim() == 0;
        let (xs, d) = along(op, self, dim)?;
        if xs.is_batched() {
            let (v, i) = batched_pair(&xs, |p| p.running_extreme(d as isize + 1, max))?;
            return Ok(match zero_d {
                true => (v.try_reshape(&[])?, i.try_reshape(&[])?),
                false => (v, i),
            });
        }
        let (vals, len) = slices(&xs, d)?;
        let idx: Vec<i64> = if len == 0 {
            Vec::new()
        } else {
            vals.chunks(len).flat_map(|r| running(r, max)).collect()
        };
        let indices = index_tensor(&xs, d, len, idx)?;
        let values = pick(name, &xs, d, &indices);
        if zero_d {
            Ok((values.try_reshape(&[])?, indices.try_reshape(&[])?))
        } else {
            Ok((values, indices))
        }
    }

    /// `log(cumsum(exp(x)))` along `d` by a log-space scan: `log2(n)` rounds of `logaddexp`
    /// with the sequence shifted by `1, 2, 4, ...` (stable, and differentiable to every order).
    fn logcumsumexp_impl(&self, dim: isize) -> Result<Tensor> {
        let x = self.to_float();
        let d = normalize_dim("logcumsumexp", dim, x.dim().max(1))?;
        if x.dim() == 0 || x.numel() == 0 {
            return Ok(x.deep_clone());
        }
        let n = x.shape()[d];
        if n == 1 {
            // A new tensor (and node), as every other size gives, not the input itself.
            return Ok(x.deep_clone());
        }
        let mut y = x;
        let mut s = 1;
        while s < n {
            let mut pad_shape = y.shape_vec();
            pad_shape[d] = s;
            let pad = Tensor::try_full_with(&pad_shape, f64::NEG_INFINITY, y.dtype())?;
            let shifted = Tensor::try_cat(&[pad, y.try_narrow(d as isize, 0, n - s)?], d as isize)?;
            y = y.try_logaddexp(&shifted)?;
            s *= 2;
        }
        Ok(y)
    }

    /// Where `x` is NaN (all false for integers).
    fn nan_mask(&self) -> Tensor {
        self.ne(self)
    }
}

api! {
    SORTING_OPS = impl Tensor {
        /// The elements sorted along `dim` (ascending, or `descending`), and the int64 indices
        /// that sort them. The sort is always stable (equal elements keep their order; NaN
        /// sorts above every number), so `stable` changes nothing. The gradient goes back to
        /// each element's position. Panics on a bad dim; see [`Tensor::try_sort`].
        ///
        /// ```
        /// let (v, i) = ferrograd::Tensor::new([3.0, 1.0, 3.0, 2.0]).sort(-1, true, false);
        /// assert_eq!(v.to_vec::<f32>(), vec![3.0, 3.0, 2.0, 1.0]);
        /// assert_eq!(i.to_vec::<i64>(), vec![0, 2, 3, 1]);
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_sort(1, false, false).is_err());
        /// ```
        pub fn sort / try_sort(&self, dim: isize = -1, descending: bool = false, stable: bool = false) -> (Tensor, Tensor) {
            let _ = stable;
            self.sort_impl(dim, descending, None)
        }

        /// The indices of [`Tensor::sort`] (int64). Panics on a bad dim; see
        /// [`Tensor::try_argsort`].
        ///
        /// ```
        /// let i = ferrograd::Tensor::new([3.0, 1.0, 2.0]).argsort(-1, false, false);
        /// assert_eq!(i.to_vec::<i64>(), vec![1, 2, 0]);
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_argsort(2, false, false).is_err());
        /// ```
        pub fn argsort / try_argsort(&self, dim: isize = -1, descending: bool = false, stable: bool = false) -> Tensor {
            let _ = stable;
            Ok(self.sort_impl(dim, descending, None)?.1)
        }

        /// The `k` largest (or, with `largest = false`, smallest) elements along `dim`, sorted,
        /// and their int64 indices; at ties the stable sort's order (PyTorch leaves it
        /// unspecified). `sorted = false` returns them sorted too. Panics if `k` exceeds the
        /// size; see [`Tensor::try_topk`].
        ///
        /// ```
        /// let (v, i) = ferrograd::Tensor::new([1.0, 5.0, 3.0]).topk(2, -1, true, true);
        /// assert_eq!(v.to_vec::<f32>(), vec![5.0, 3.0]);
        /// assert_eq!(i.to_vec::<i64>(), vec![1, 2]);
        /// let e = ferrograd::Tensor::zeros(&[2]).try_topk(3, -1, true, true).unwrap_err();
        /// assert_eq!(e.to_string(), "topk: selected index k out of range");
        /// ```
        pub fn topk / try_topk(&self, k: usize, dim: isize = -1, largest: bool = true, sorted: bool = true) -> (Tensor, Tensor) {
            let _ = sorted;
            self.sort_impl(dim, largest, Some(k))
        }

        /// The `k`-th smallest element along `dim` (`k` from 1) and its int64 index (at ties
        /// PyTorch's: its quickselect, followed step by step). Panics
        /// unless `1 <= k <= size`; see [`Tensor::try_kthvalue`].
        ///
        /// ```
        /// let (v, i) = ferrograd::Tensor::new([4.0, 1.0, 3.0]).kthvalue(2, -1, false);
        /// assert_eq!((v.item(), i.to_vec::<i64>()), (3.0, vec![2]));
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_kthvalue(3, -1, false).is_err());
        /// ```
        pub fn kthvalue / try_kthvalue(&self, k: usize, dim: isize = -1, keepdim: bool = false) -> (Tensor, Tensor) {
            let (xs, d) = along("kthvalue", self, dim)?;
            let size = xs.shape()[d];
            if k == 0 || k > size {
                return Err(Error::invalid(
                    "kthvalue",
                    format!("kthvalue(): selected number k out of range for dimension {d}"),
                ));
            }
            select_one("kthvalue", "KthvalueBackward0", self, dim, keepdim, &|r| kth_index(r, k - 1))
        }

        /// The lower median of all elements (NaN if there is one; NaN for no elements). The
        /// gradient is shared equally among the elements equal to it (PyTorch's
        /// `evenly_distribute_backward`; among the NaNs for a NaN median).
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::new([4.0, 1.0, 3.0, 2.0]).median().item(), 2.0);
        /// ```
        pub fn median(&self) -> Tensor {
            crate::unwrap(median_of_all(self, false))
        }

        /// The lower median along `dim` and its int64 index (NaN, at its first occurrence,
        /// where the slice holds one). Panics on a bad or empty dim; see
        /// [`Tensor::try_median_dim`].
        ///
        /// ```
        /// let (v, i) = ferrograd::Tensor::new([[4.0, 1.0, 3.0, 2.0]]).median_dim(1, false);
        /// assert_eq!((v.to_vec::<f32>(), i.to_vec::<i64>()), (vec![2.0], vec![3]));
        /// assert!(ferrograd::Tensor::zeros(&[2, 0]).try_median_dim(1, false).is_err());
        /// ```
        pub fn median_dim / try_median_dim(&self, dim: isize, keepdim: bool = false) -> (Tensor, Tensor) {
            select_one("median", "MedianBackward1", self, dim, keepdim, &median_index)
        }

        /// The lower median of the elements that are not NaN (`torch.nanmedian`); NaN when
        /// every element is NaN or there are none. The gradient is shared equally among the
        /// elements equal to it, as [`Tensor::median`]'s.
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([4.0, f32::NAN, 1.0, 3.0, f32::NAN]);
        /// assert_eq!(x.nanmedian().item(), 3.0);
        /// assert!(ferrograd::Tensor::new([f32::NAN]).nanmedian().item().is_nan());
        /// ```
        pub fn nanmedian(&self) -> Tensor {
            crate::unwrap(median_of_all(self, true))
        }

        /// The lower median along `dim` of the values that are not NaN, and its int64 index
        /// (`torch.nanmedian(x, dim)`); a slice of NaNs only gives NaN at its first index.
        /// Panics on a bad or empty dim; see [`Tensor::try_nanmedian_dim`].
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([[f32::NAN, 1.0, 2.0, f32::NAN], [4.0, f32::NAN, 3.0, 1.0]]);
        /// let (v, i) = x.nanmedian_dim(1, false);
        /// assert_eq!((v.to_vec::<f32>(), i.to_vec::<i64>()), (vec![1.0, 3.0], vec![1, 2]));
        /// let e = ferrograd::Tensor::zeros(&[2, 0]).try_nanmedian_dim(1, false).unwrap_err();
        /// assert_eq!(e.to_string(), "nanmedian: median(): Expected reduction dim 1 to have non-zero size.");
        /// ```
        pub fn nanmedian_dim / try_nanmedian_dim(&self, dim: isize, keepdim: bool = false) -> (Tensor, Tensor) {
            select_one("nanmedian", "NanmedianBackward1", self, dim, keepdim, &nanmedian_index)
        }

        /// The most frequent value along `dim` (the smallest of them at a tie of counts) and
        /// the int64 index of its last occurrence. Panics on a bad or empty dim; see
        /// [`Tensor::try_mode`].
        ///
        /// ```
        /// let (v, i) = ferrograd::Tensor::new([2.0, 1.0, 2.0, 1.0]).mode(-1, false);
        /// assert_eq!((v.item(), i.to_vec::<i64>()), (1.0, vec![3]));
        /// assert!(ferrograd::Tensor::zeros(&[0]).try_mode(-1, false).is_err());
        /// ```
        pub fn mode / try_mode(&self, dim: isize = -1, keepdim: bool = false) -> (Tensor, Tensor) {
            select_one("mode", "ModeBackward0", self, dim, keepdim, &mode_index)
        }

        /// The running maximum along `dim` and the int64 index where it was attained (the
        /// latest at ties; NaN propagates). Panics on a bad dim; see [`Tensor::try_cummax`].
        ///
        /// ```
        /// let (v, i) = ferrograd::Tensor::new([1.0, 3.0, 2.0, 3.0]).cummax(0);
        /// assert_eq!(v.to_vec::<f32>(), vec![1.0, 3.0, 3.0, 3.0]);
        /// assert_eq!(i.to_vec::<i64>(), vec![0, 1, 1, 3]);
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_cummax(1).is_err());
        /// ```
        pub fn cummax / try_cummax(&self, dim: isize) -> (Tensor, Tensor) {
            self.running_extreme(dim, true)
        }

        /// The running minimum along `dim` and its int64 indices (as [`Tensor::cummax`]).
        /// Panics on a bad dim; see [`Tensor::try_cummin`].
        ///
        /// ```
        /// let (v, i) = ferrograd::Tensor::new([2.0, 1.0, 3.0, 1.0]).cummin(0);
        /// assert_eq!(v.to_vec::<f32>(), vec![2.0, 1.0, 1.0, 1.0]);
        /// assert_eq!(i.to_vec::<i64>(), vec![0, 1, 1, 3]);
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_cummin(1).is_err());
        /// ```
        pub fn cummin / try_cummin(&self, dim: isize) -> (Tensor, Tensor) {
            self.running_extreme(dim, false)
        }

        /// `log(cumsum(exp(x)))` along `dim`, computed stably. Panics on a bad dim; see
        /// [`Tensor::try_logcumsumexp`].
        ///
        /// ```
        /// let y = ferrograd::Tensor::new([1000.0, 1000.0]).logcumsumexp(0);
        /// assert_eq!(y.to_vec::<f32>(), vec![1000.0, 1000.0 + 2f32.ln()]);
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_logcumsumexp(1).is_err());
        /// ```
        pub fn logcumsumexp / try_logcumsumexp(&self, dim: isize) -> Tensor {
            super::named(self.logcumsumexp_impl(dim), "LogcumsumexpBackward0")
        }

        /// The sum over `dim` (empty: all) with NaN counted as 0; the gradient is 0 at NaNs.
        /// Panics on a bad dim; see [`Tensor::try_nansum`].
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([1.0, f32::NAN, 2.0]);
        /// assert_eq!(x.nansum(&[], false).item(), 3.0);
        /// assert!(x.try_nansum(&[1], false).is_err());
        /// ```
        pub fn nansum / try_nansum(&self, dim: &[isize] = &[], keepdim: bool = false) -> Tensor {
            super::named(self.try_masked_fill(&self.nan_mask(), 0.0)?.try_sum_dims(dim, keepdim), "NansumBackward0")
        }

        /// The mean over `dim` (empty: all) of the elements that are not NaN (NaN where all
        /// are). Panics on a bad dim; see [`Tensor::try_nanmean`].
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([1.0, f32::NAN, 2.0]);
        /// assert_eq!(x.nanmean(&[], false).item(), 1.5);
        /// assert!(x.try_nanmean(&[1], false).is_err());
        /// ```
        pub fn nanmean / try_nanmean(&self, dim: &[isize] = &[], keepdim: bool = false) -> Tensor {
            let x = self.to_float();
            let count = x.nan_mask().logical_not().to_dtype(x.dtype()).try_sum_dims(dim, keepdim)?;
            x.try_nansum(dim, keepdim)?.try_div(&count)
        }

        /// `self` gathered at `indices` (int64) along `dim`, the two broadcast against each
        /// other outside `dim`; without `dim`, both flattened (`torch.take_along_dim`). Panics
        /// on bad indices; see [`Tensor::try_take_along_dim`].
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let x = Tensor::new([[10.0, 30.0, 20.0]]);
        /// let i = x.argsort(1, false, false);
        /// assert_eq!(x.take_along_dim(&i, Some(1)).to_vec::<f32>(), vec![10.0, 20.0, 30.0]);
        /// assert!(x.try_take_along_dim(&Tensor::new([0]), Some(1)).is_err());
        /// ```
        pub fn take_along_dim / try_take_along_dim(&self, indices: &Tensor, dim: Option<isize> = None) -> Tensor {
            take_along_dim(self, indices, dim)
        }

        /// The sorted distinct elements, then (as PyTorch's tuple) the int64 index of each
        /// input element in them if `return_inverse` (the input's shape), and each distinct
        /// element's count if `return_counts`. Always sorted (`sorted = false` too, as
        /// PyTorch's CPU kernel); each NaN is distinct. No gradient.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let out = Tensor::new([3, 1, 3]).unique(true, true, true);
        /// assert_eq!(out[0].to_vec::<i64>(), vec![1, 3]);
        /// assert_eq!(out[1].to_vec::<i64>(), vec![1, 0, 1]);
        /// assert_eq!(out[2].to_vec::<i64>(), vec![1, 2]);
        /// ```
        pub fn unique(&self, sorted: bool = true, return_inverse: bool = false, return_counts: bool = false) -> Vec<Tensor> {
            let _ = sorted;
            crate::unwrap(unique(self, return_inverse, return_counts))
        }

        /// For a 1-d tensor of non-negative integers, how often each value occurs (`weights`:
        /// their summed weights instead), at least `minlength` bins. No gradient. Panics on
        /// other input; see [`Tensor::try_bincount`].
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// assert_eq!(Tensor::new([1, 1, 3]).bincount(None, 0).to_vec::<i64>(), vec![0, 2, 0, 1]);
        /// let e = Tensor::new([-1]).try_bincount(None, 0).unwrap_err();
        /// assert_eq!(e.to_string(), "bincount: bincount only supports 1-d non-negative integral inputs.");
        /// ```
        pub fn bincount / try_bincount(&self, weights: Option<&Tensor> = None, minlength: usize = 0) -> Tensor {
            bincount(self, weights, minlength)
        }

        /// A histogram of `bins` equal bins over `[min, max]` (the data's range when both are
        /// equal); elements outside are ignored, `max` falls in the last bin. No gradient.
        /// Panics on bad bounds; see [`Tensor::try_histc`].
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let h = Tensor::new([1.0, 2.0, 1.0, 4.0]).histc(4, 0.0, 3.0);
        /// assert_eq!(h.to_vec::<f32>(), vec![0.0, 2.0, 1.0, 0.0]);
        /// assert!(Tensor::new([1.0]).try_histc(0, 0.0, 0.0).is_err());
        /// ```
        pub fn histc / try_histc(&self, bins: usize = 100, min: f64 = 0.0, max: f64 = 0.0) -> Tensor {
            histc(self, bins, min, max)
        }

        /// The int64 indices of the nonzero elements, one row `[n, ndim]` each, row-major. No
        /// gradient.
        ///
        /// ```
        /// let i = ferrograd::Tensor::new([[0.0, 1.0], [2.0, 0.0]]).nonzero();
        /// assert_eq!((i.shape().to_vec(), i.to_vec::<i64>()), (vec![2, 2], vec![0, 1, 1, 0]));
        /// ```
        pub fn nonzero(&self) -> Tensor {
            crate::unwrap(nonzero(self))
        }

        /// [`Tensor::nonzero`] as one int64 tensor per dimension (`nonzero(as_tuple=True)`; a
        /// 0-d tensor counts as 1-d).
        ///
        /// ```
        /// let i = ferrograd::Tensor::new([[0.0, 1.0], [2.0, 0.0]]).nonzero_tuple();
        /// assert_eq!(i[0].to_vec::<i64>(), vec![0, 1]);
        /// assert_eq!(i[1].to_vec::<i64>(), vec![1, 0]);
        /// ```
        pub fn nonzero_tuple(&self) -> Vec<Tensor> {
            let t = if self.dim() == 0 { self.reshape(&[1]) } else { self.clone() };
            let nz = t.nonzero();
            (0..t.dim() as isize).map(|k| nz.select(1, k).contiguous()).collect()
        }
    }
}

api! {
    SORTING_FUNCTIONS = impl Tensor {
        /// `torch.where(condition)`: the indices where `condition` is nonzero, one int64 tensor
        /// per dimension (as [`Tensor::nonzero_tuple`]).
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let i = Tensor::where_cond(&Tensor::new([false, true, true]));
        /// assert_eq!(i[0].to_vec::<i64>(), vec![1, 2]);
        /// ```
        pub fn where_cond(condition: &Tensor) -> Vec<Tensor> {
            condition.nonzero_tuple()
        }

        /// For each element of `input`, the int64 index in `sorted_sequence` (sorted along its
        /// last dim) where it would be inserted to keep the order: before equal elements, or
        /// after them with `right`. A 1-d sequence serves every element; otherwise the leading
        /// dims must match. No gradient. Panics on mismatched shapes; see
        /// [`Tensor::try_searchsorted`].
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let s = Tensor::new([1.0, 3.0, 5.0]);
        /// assert_eq!(Tensor::searchsorted(&s, &Tensor::new([3.0, 6.0]), false).to_vec::<i64>(), vec![1, 3]);
        /// assert_eq!(Tensor::searchsorted(&s, &Tensor::new([3.0]), true).to_vec::<i64>(), vec![2]);
        /// assert!(Tensor::try_searchsorted(&Tensor::zeros(&[2, 3]), &Tensor::zeros(&[3, 1]), false).is_err());
        /// ```
        pub fn searchsorted / try_searchsorted(sorted_sequence: &Tensor, input: &Tensor, right: bool = false) -> Tensor {
            searchsorted(sorted_sequence, input, right)
        }

        /// The int64 indices `[2, N]` of the lower triangle of a `row x col` matrix (the
        /// elements with `j - i <= offset`), row-major. Panics if the result cannot be
        /// allocated; see [`Tensor::try_tril_indices`].
        ///
        /// ```
        /// let t = ferrograd::Tensor::tril_indices(2, 2, 0);
        /// assert_eq!(t.to_vec::<i64>(), vec![0, 1, 1, 0, 0, 1]);
        /// assert!(ferrograd::Tensor::try_tril_indices(1 << 40, 1 << 40, 0).is_err());
        /// ```
        pub fn tril_indices / try_tril_indices(row: usize, col: usize, offset: isize = 0) -> Tensor {
            triangle_indices("tril_indices", row, col, offset, true)
        }

        /// The int64 indices `[2, N]` of the upper triangle of a `row x col` matrix (the
        /// elements with `j - i >= offset`), row-major. Panics if the result cannot be
        /// allocated; see [`Tensor::try_triu_indices`].
        ///
        /// ```
        /// let t = ferrograd::Tensor::triu_indices(2, 2, 0);
        /// assert_eq!(t.to_vec::<i64>(), vec![0, 0, 1, 0, 1, 1]);
        /// assert!(ferrograd::Tensor::try_triu_indices(1 << 40, 1 << 40, 0).is_err());
        /// ```
        pub fn triu_indices / try_triu_indices(row: usize, col: usize, offset: isize = 0) -> Tensor {
            triangle_indices("triu_indices", row, col, offset, false)
        }
    }
}

/// The global median (of the non-NaN elements with `ignore_nan`), recorded as
/// `MedianBackward0` (`NanmedianBackward0`): the gradient shared equally among the elements
/// equal to it (the NaNs for a NaN median), as PyTorch does.
fn median_of_all(x: &Tensor, ignore_nan: bool) -> Result<Tensor> {
    if x.numel() == 0 {
        return Tensor::try_full_with(&[], f64::NAN, x.to_float().dtype());
    }
    if x.is_batched() {
        // Each member's median over its elements: the lower median of its flattened row (at
        // exact ties the gradient goes to the chosen element instead of being shared).
        let n = x.numel();
        let (v, _) = batched_pair(x, |p| {
            let rows = p.try_reshape(&[p.shape()[0], n])?;
            match ignore_nan {
                true => rows.try_nanmedian_dim(1, false),
                false => rows.try_median_dim(1, false),
            }
        })?;
        return Ok(v);
    }
    let vals = values(x)?;
    let v = match ignore_nan {
        true => vals[nanmedian_index(&vals)],
        false => vals[median_index(&vals)],
    };
    let hits: Vec<bool> = vals
        .iter()
        .map(|&e| e == v || (v.is_nan() && e.is_nan()))
        .collect();
    let count = hits.iter().filter(|&&h| h).count() as f64;
    let mask = Tensor::try_from_vec(hits, x.shape())?.to_dtype(x.dtype());
    let out = Tensor::from_buffer(
        crate::storage::Buffer::try_from_f64s(x.dtype(), std::iter::once(v))?,
        &[],
    );
    let tangent_mask = mask.clone();
    Ok(crate::autograd::record(
        if ignore_nan {
            "NanmedianBackward0"
        } else {
            "MedianBackward0"
        },
        out,
        &[x],
        move |_, _| move |a| smallvec::smallvec![Some(&mask * &a.grad.div_scalar(count))],
        |j| {
            let t = j.t(0).expect("the input has the tangent");
            j.sum_all(&(t * &tangent_mask)).div_scalar(count)
        },
    ))
}

fn take_along_dim(x: &Tensor, indices: &Tensor, dim: Option<isize>) -> Result<Tensor> {
    if indices.dtype() != DType::I64 {
        return Err(Error::invalid(
            "take_along_dim",
            format!(
                "torch.take_along_dim(): dtype of indices should be Long but got {}",
                indices.dtype()
            ),
        ));
    }
    let Some(dim) = dim else {
        let flat = x.try_reshape(&[x.numel()])?;
        return flat.try_gather(0, &indices.try_reshape(&[indices.numel()])?);
    };
    if x.dim() != indices.dim() {
        return Err(Error::invalid(
            "take_along_dim",
            format!(
                "torch.take_along_dim(): input and indices should have the same number of dimensions, but got {} dimensions for input, and {} dimensions for indices",
                x.dim(),
                indices.dim()
            ),
        ));
    }
    let d = normalize_dim("take_along_dim", dim, x.dim().max(1))?;
    if x.dim() == 0 {
        return x.try_gather(0, indices);
    }
    let mut xs = x.shape_vec();
    let mut is = indices.shape_vec();
    for k in 0..x.dim() {
        if k == d {
            continue;
        }
        let (a, b) = (xs[k], is[k]);
        let n = if a == b || b == 1 {
            a
        } else if a == 1 {
            b
        } else {
            return Err(Error::invalid(
                "take_along_dim",
                format!(
                    "The size of tensor a ({a}) must match the size of tensor b ({b}) at non-singleton dimension {k}"
                ),
            ));
        };
        xs[k] = n;
        is[k] = n;
    }
    x.try_expand(&xs)?
        .try_gather(d as isize, &indices.try_expand(&is)?)
}

fn unique(x: &Tensor, inverse: bool, counts: bool) -> Result<Vec<Tensor>> {
    let vals = values(x)?;
    let p = order(&vals, false);
    let mut distinct: Vec<f64> = Vec::new();
    let mut count: Vec<i64> = Vec::new();
    let mut inv = vec![0i64; vals.len()];
    for &i in &p {
        let v = vals[i];
        if distinct.last().is_none_or(|&l| l != v) {
            distinct.push(v);
            count.push(0);
        }
        *count.last_mut().expect("pushed") += 1;
        inv[i] = distinct.len() as i64 - 1;
    }
    let n = distinct.len();
    let buf = crate::storage::Buffer::try_from_f64s(x.dtype(), distinct.into_iter())?;
    let mut out = vec![Tensor::from_buffer(buf, &[n])];
    if inverse {
        out.push(Tensor::try_from_vec(inv, x.shape())?);
    }
    if counts {
        out.push(Tensor::try_from_vec(count, &[n])?);
    }
    Ok(out)
}

fn searchsorted(seq: &Tensor, input: &Tensor, right: bool) -> Result<Tensor> {
    let leading_ok = seq.dim() == 1
        || (seq.dim() > 1
            && seq.dim() == input.dim()
            && seq.shape()[..seq.dim() - 1] == input.shape()[..input.dim() - 1]);
    if seq.dim() == 0 || !leading_ok {
        return Err(Error::invalid(
            "searchsorted",
            format!(
                "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions of boundaries tensor and input value tensor must match, but we got boundaries tensor {:?} and input value tensor {:?}",
                seq.shape(),
                input.shape()
            ),
        ));
    }
    let s = values(seq)?;
    let v = values(input)?;
    let m = seq.shape()[seq.dim() - 1];
    let k = if seq.dim() == 1 {
        v.len().max(1)
    } else {
        input.shape()[input.dim() - 1].max(1)
    };
    let out: Vec<i64> = v
        .iter()
        .enumerate()
        .map(|(i, &val)| {
            let row = if seq.dim() == 1 { 0 } else { i / k };
            let r = &s[row * m..(row + 1) * m];
            r.partition_point(|&e| match total(e, val) {
                Ordering::Less => true,
                Ordering::Equal => right,
                Ordering::Greater => false,
            }) as i64
        })
        .collect();
    Tensor::try_from_vec(out, input.shape())
}

fn bincount(x: &Tensor, weights: Option<&Tensor>, minlength: usize) -> Result<Tensor> {
    let bad = || {
        Error::invalid(
            "bincount",
            "bincount only supports 1-d non-negative integral inputs.",
        )
    };
    if x.dim() != 1 || x.dtype().is_floating_point() || x.dtype() == DType::Bool {
        return Err(bad());
    }
    let v = values(x)?;
    if v.iter().any(|&i| i < 0.0) {
        return Err(bad());
    }
    let len = v
        .iter()
        .map(|&i| i as usize + 1)
        .max()
        .unwrap_or(0)
        .max(minlength);
    crate::layout::check_alloc("bincount", &[len], 8)?;
    match weights {
        None => {
            let mut out = zeroed("bincount", len, 0i64)?;
            v.iter().for_each(|&i| out[i as usize] += 1);
            Tensor::try_from_vec(out, &[len])
        }
        Some(w) => {
            if w.dim() != 1 || w.numel() != x.numel() {
                return Err(Error::invalid(
                    "bincount",
                    "weights should be 1-d and have the same length as input",
                ));
            }
            let wv = values(w)?;
            let mut out = zeroed("bincount", len, 0f64)?;
            v.iter()
                .zip(&wv)
                .for_each(|(&i, &wi)| out[i as usize] += wi);
            let dtype = if w.dtype().is_floating_point() {
                w.dtype()
            } else {
                DType::F64
            };
            let buf = crate::storage::Buffer::try_from_f64s(dtype, out.into_iter())?;
            Ok(Tensor::from_buffer(buf, &[len]))
        }
    }
}

fn histc(x: &Tensor, bins: usize, min: f64, max: f64) -> Result<Tensor> {
    if bins == 0 {
        return Err(Error::invalid(
            "histc",
            format!("torch.histc: bins must be > 0, but got {bins} for bins"),
        ));
    }
    if !x.dtype().is_floating_point() {
        return Err(Error::invalid(
            "histc",
            format!("\"histogram_cpu\" not implemented for '{}'", x.dtype()),
        ));
    }
    let v = values(x)?;
    let (mut lo, mut hi) = (min, max);
    if lo == hi && !v.is_empty() {
        lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    }
    if lo == hi {
        lo -= 1.0;
        hi += 1.0;
    }
    if lo > hi || !lo.is_finite() || !hi.is_finite() {
        return Err(Error::invalid(
            "histc",
            format!(
                "torch.histc: range of [{lo}, {hi}] is not finite or max must be larger than min"
            ),
        ));
    }
    crate::layout::check_alloc("histc", &[bins], 8)?;
    let mut out = zeroed("histc", bins, 0f64)?;
    for &e in &v {
        if e >= lo && e <= hi {
            let b = (((e - lo) * bins as f64 / (hi - lo)) as usize).min(bins - 1);
            out[b] += 1.0;
        }
    }
    let buf = crate::storage::Buffer::try_from_f64s(x.dtype(), out.into_iter())?;
    Ok(Tensor::from_buffer(buf, &[bins]))
}

fn nonzero(x: &Tensor) -> Result<Tensor> {
    let v = values(x)?;
    let shape = x.shape_vec();
    let n = x.dim();
    let mut out: Vec<i64> = Vec::new();
    let mut count = 0;
    for (flat, &e) in v.iter().enumerate() {
        if e != 0.0 {
            count += 1;
            let mut rest = flat;
            let start = out.len();
            out.resize(start + n, 0);
            for k in (0..n).rev() {
                out[start + k] = (rest % shape[k]) as i64;
                rest /= shape[k];
            }
        }
    }
    Tensor::try_from_vec(out, &[count, n])
}

/// `n` copies of `v`, or an error (not an abort) if they cannot be allocated.
fn zeroed<T: Clone>(op: &'static str, n: usize, v: T) -> Result<Vec<T>> {
    let mut out = Vec::new();
    out.try_reserve_exact(n).map_err(|_| {
        Error::invalid(
            op,
            format!(
                "DefaultCPUAllocator: can't allocate memory: you tried to allocate {n} elements"
            ),
        )
    })?;
    out.resize(n, v);
    Ok(out)
}

/// `sum_{i < row} clamp(i + c, 0, col)`, or `None` if it overflows (then it is far too large
/// to allocate anyway).
fn clamped_sum(row: usize, c: i128, col: usize) -> Option<i128> {
    let (row, col) = (row as i128, col as i128);
    let lo = (-c).clamp(0, row);
    let hi = (col - c).clamp(lo, row);
    let n = hi - lo;
    let ramp = n.checked_mul(lo + hi - 1)? / 2 + n.checked_mul(c)?;
    ramp.checked_add((row - hi).checked_mul(col)?)
}

/// The `[2, N]` indices of a triangle, row by row: each row's columns are one range; the
/// count is computed first (in closed form), so the work is linear in the result.
fn triangle_indices(
    op: &'static str,
    row: usize,
    col: usize,
    offset: isize,
    lower: bool,
) -> Result<Tensor> {
    let off = offset as i128;
    let total = if lower {
        clamped_sum(row, off + 1, col)
    } else {
        clamped_sum(row, off, col)
            .and_then(|s| (row as i128).checked_mul(col as i128).map(|rc| rc - s))
    };
    let n = total
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| Error::invalid(op, "numel: integer multiplication overflow"))?;
    crate::layout::check_alloc(op, &[2, n], 8)?;
    let mut out = zeroed(op, 2 * n, 0i64)?;
    // The rows with a nonempty range.
    let first = if lower {
        (-off - 1).clamp(0, row as i128) as usize
    } else {
        0
    };
    let last = if lower {
        row
    } else {
        (col as i128 - off).clamp(0, row as i128) as usize
    };
    let mut k = 0;
    for i in first..last {
        let (a, b) = if lower {
            (0, (i as i128 + off + 1).clamp(0, col as i128) as usize)
        } else {
            ((i as i128 + off).clamp(0, col as i128) as usize, col)
        };
        for j in a..b {
            out[k] = i as i64;
            out[n + k] = j as i64;
            k += 1;
        }
    }
    Tensor::try_from_vec(out, &[2, n])
}
