//! Advanced indexing (issue 15): `index` (PyTorch's `x[i, j]` with index tensors on several
//! leading dims, int64 or bool), `index_put`, `index_copy`, `index_fill` and `masked_scatter`.
//!
//! All are composites: the index tensors are turned into row numbers of `x` flattened over
//! the indexed dims, then [`Tensor::index_select`], [`Tensor::index_add`] and
//! [`Tensor::where_`] do the work, so every derivative order, forward mode and vmap come from
//! those ops. Index tensors batched by vmap are handled by lowering to the physical values and
//! indexing the batch dim too (an `arange` over the batch as one more index tensor).

use crate::autograd::levels;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::layout::{broadcast_shapes, normalize_dim};
use crate::raw;
use crate::tensor::Tensor;

api! {
    ADVANCED_OPS = impl Tensor {
        /// Advanced indexing, PyTorch's `x[i, j]` for index tensors (`torch.ops.aten.index`):
        /// `indices[k]` indexes dim `k`; int64 index tensors broadcast together, and the
        /// result is their broadcast shape followed by the dims not indexed. A bool index
        /// covers as many dims as it has (`x[mask]`) and stands for its `nonzero()`
        /// coordinates. Negative indices count from the end. The gradient adds into the picked
        /// places (repeated indices accumulate).
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let x = Tensor::new([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        /// let y = x.index(&[Tensor::new([0, 1, -1]), Tensor::new([2, 0, 1])]);
        /// assert_eq!(y.to_vec::<f32>(), vec![3.0, 4.0, 5.0]);
        /// let rows = x.index(&[Tensor::new([[1], [0]])]);
        /// assert_eq!(rows.shape(), &[2, 1, 3]);
        /// assert_eq!(x.index(&[x.gt_scalar(4.0)]).to_vec::<f32>(), vec![5.0, 6.0]);
        /// ```
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let e = Tensor::zeros(&[2, 3]).try_index(&[Tensor::new([0]), Tensor::new([3])]).unwrap_err();
        /// assert_eq!(e.to_string(), "index: index 3 is out of bounds for dimension 1 with size 3");
        /// ```
        pub fn index / try_index(&self, indices: &[Tensor]) -> Tensor {
            let (x, idx) = batched_indices("index", self, indices, None)?;
            match idx {
                Some(lowered) => lowered,
                None => super::named(index_rows(&x, indices), "IndexBackward0"),
            }
        }

        /// `self` with `values` written at the places `self.index(indices)` reads
        /// (`Tensor.index_put`, out of place): `values` broadcasts to that result's shape; with
        /// `accumulate` the values are added (repeated places receive the sum), otherwise written
        /// (of repeated places the last write wins). The gradient of `self` is zero at written
        /// places; `values`' gradient is the output gradient at its places.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let x = Tensor::zeros(&[2, 2]);
        /// let i = [Tensor::new([0, 1, 1]), Tensor::new([1, 0, 0])];
        /// assert_eq!(x.index_put(&i, &Tensor::new([5.0, 6.0, 7.0]), false).to_vec::<f32>(), vec![0.0, 5.0, 7.0, 0.0]);
        /// assert_eq!(x.index_put(&i, &Tensor::new([5.0, 6.0, 7.0]), true).to_vec::<f32>(), vec![0.0, 5.0, 13.0, 0.0]);
        /// ```
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let e = Tensor::zeros(&[3]).try_index_put(&[Tensor::new([0, 1])], &Tensor::ones(&[3]), false).unwrap_err();
        /// assert!(e.to_string().contains("shape mismatch: value tensor of shape [3] cannot be broadcast to indexing result of shape [2]"));
        /// ```
        pub fn index_put / try_index_put(&self, indices: &[Tensor], values: &Tensor, accumulate: bool = false) -> Tensor {
            if values.dtype() != self.dtype() {
                return Err(Error::invalid("index_put", format!("Index put requires the source and destination dtypes match, got {} for the destination and {} for the source.", self.dtype(), values.dtype())));
            }
            let (x, idx) = batched_indices("index_put", self, indices, Some((values, accumulate)))?;
            match idx {
                Some(lowered) => lowered,
                None => put_rows(&x, indices, values, accumulate),
            }
        }

        /// `self` with the slices of `source` copied to positions `index` along `dim`
        /// (`Tensor.index_copy`, out of place; of repeated positions the last wins).
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let x = Tensor::zeros(&[2, 3]);
        /// let y = x.index_copy(1, &Tensor::new([2, 0]), &Tensor::new([[1.0, 2.0], [3.0, 4.0]]));
        /// assert_eq!(y.to_vec::<f32>(), vec![2.0, 0.0, 1.0, 4.0, 0.0, 3.0]);
        /// ```
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// assert!(Tensor::zeros(&[2, 3]).try_index_copy(1, &Tensor::new([0]), &Tensor::ones(&[2, 2])).is_err());
        /// ```
        pub fn index_copy / try_index_copy(&self, dim: isize, index: &Tensor, source: &Tensor) -> Tensor {
            along("index_copy", self, dim, index, Some(source), 0.0)
        }

        /// `self` with `value` at positions `index` along `dim` (`Tensor.index_fill`, out of
        /// place); the gradient of `self` is zero there.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let y = Tensor::ones(&[2, 3]).index_fill(1, &Tensor::new([0, 2]), -1.0);
        /// assert_eq!(y.to_vec::<f32>(), vec![-1.0, 1.0, -1.0, -1.0, 1.0, -1.0]);
        /// ```
        pub fn index_fill / try_index_fill(&self, dim: isize, index: &Tensor, value: f64) -> Tensor {
            super::named(along("index_fill", self, dim, index, None, value), "IndexFillBackward0")
        }

        /// `self` with the elements of `source`, in order, at the places where `mask` (bool,
        /// broadcast to `self`'s shape) is true (`Tensor.masked_scatter`, out of place).
        /// `source` needs at least as many elements as the mask has true entries.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let x = Tensor::zeros(&[2, 2]);
        /// let m = Tensor::new([[true, false], [true, true]]);
        /// assert_eq!(x.masked_scatter(&m, &Tensor::new([1.0, 2.0, 3.0, 4.0])).to_vec::<f32>(), vec![1.0, 0.0, 2.0, 3.0]);
        /// ```
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let e = Tensor::zeros(&[2]).try_masked_scatter(&Tensor::new([true, true]), &Tensor::ones(&[1])).unwrap_err();
        /// assert!(e.to_string().contains("Number of elements of source < number of ones in mask"));
        /// ```
        pub fn masked_scatter / try_masked_scatter(&self, mask: &Tensor, source: &Tensor) -> Tensor {
            masked_scatter_impl(self, mask, source)
        }
    }
}

/// The row numbers of `x` flattened over its first `k` dims that `indices` pick (int64
/// index tensors, bool ones already expanded), with the broadcast index shape and `k`.
fn rows_of(
    op: &'static str,
    x: &Tensor,
    indices: &[Tensor],
) -> Result<(Tensor, Vec<usize>, usize)> {
    let k = indices.len();
    let mut shape: Vec<usize> = Vec::new();
    for t in indices {
        shape = broadcast_shapes(&shape, t.shape())
            .ok_or_else(|| {
                let shapes: Vec<String> = indices.iter().map(|t| format!("{:?}", t.shape())).collect();
                Error::invalid(
                    op,
                    format!(
                        "shape mismatch: indexing tensors could not be broadcast together with shapes {}",
                        shapes.join(", ")
                    ),
                )
            })?
            .to_vec();
    }
    let n: usize = shape.iter().product();
    let mut rows = vec![0usize; n];
    for (d, t) in indices.iter().enumerate() {
        let size = x.shape()[d];
        let values = raw::index_values(op, &t.try_expand(&shape)?, size).map_err(|e| match e {
            Error::Invalid { msg, .. } if msg.contains("out of bounds") => {
                let i = msg.split_whitespace().nth(1).unwrap_or("?").to_string();
                Error::invalid(
                    op,
                    format!("index {i} is out of bounds for dimension {d} with size {size}"),
                )
            }
            e => e,
        })?;
        for (r, v) in rows.iter_mut().zip(values) {
            *r = *r * size + v;
        }
    }
    let rows = rows.into_iter().map(|r| r as i64).collect::<Vec<_>>();
    Ok((Tensor::try_from_vec(rows, &[n])?, shape, k))
}

/// Bool index tensors replaced by their `nonzero()` coordinates (one int64 tensor per dim
/// they cover), after checking ranks and dtypes.
fn expand_bools(op: &'static str, x: &Tensor, indices: &[Tensor]) -> Result<Vec<Tensor>> {
    let mut out = Vec::with_capacity(indices.len());
    for t in indices {
        let d = out.len();
        match t.dtype() {
            DType::Bool => {
                let covered = &x.shape()[d.min(x.dim())..(d + t.dim()).min(x.dim())];
                if d + t.dim() > x.dim() || covered != t.shape() {
                    return Err(Error::invalid(
                        op,
                        format!(
                            "The shape of the mask {:?} at index {d} does not match the shape of the indexed tensor {:?}",
                            t.shape(),
                            x.shape()
                        ),
                    ));
                }
                if t.dim() == 0 {
                    return Err(Error::invalid(op, "a 0-d bool index is not supported"));
                }
                out.extend(t.nonzero_tuple());
            }
            DType::I64 => out.push(t.clone()),
            other => {
                return Err(Error::invalid(
                    op,
                    format!(
                    "tensors used as indices must be long, int, byte or bool tensors, got {other}"
                ),
                ))
            }
        }
        if out.len() > x.dim() {
            return Err(Error::invalid(
                op,
                format!(
                    "too many indices for tensor of dimension {} (got {})",
                    x.dim(),
                    out.len()
                ),
            ));
        }
    }
    Ok(out)
}

/// vmap's rule for batched index tensors: `x`, the indices (and the values) lowered to their
/// physical values, the batch dim indexed by an `arange` too, and the result lifted back.
/// `Ok((x, None))` when no index is batched.
#[allow(clippy::type_complexity)]
fn batched_indices(
    op: &'static str,
    x: &Tensor,
    indices: &[Tensor],
    put: Option<(&Tensor, bool)>,
) -> Result<(Tensor, Option<Result<Tensor>>)> {
    if !indices.iter().any(|t| t.is_batched()) {
        return Ok((x.clone(), None));
    }
    if indices.iter().any(|t| t.dtype() == DType::Bool) {
        return Err(Error::invalid(
            op,
            "vmap: a batched bool index has a data-dependent shape; index with int64 tensors",
        ));
    }
    let rank = indices.iter().map(|t| t.dim()).max().unwrap_or(0);
    let mut all = vec![x.clone()];
    all.extend(indices.iter().cloned());
    if let Some((v, _)) = put {
        all.push(v.clone());
    }
    let out = levels::lowered_all(&all, |p| {
        let b = p[0].shape()[0];
        let mut shape = vec![1; rank + 1];
        shape[0] = b;
        let batch = Tensor::try_from_vec((0..b as i64).collect::<Vec<_>>(), &shape)?;
        // Each physical operand right-aligned to the logical rank under its batch dim.
        let pad = |t: &Tensor, rank: usize| -> Result<Tensor> {
            let mut shape = vec![b];
            shape.resize(1 + rank - (t.dim() - 1), 1);
            shape.extend_from_slice(&t.shape()[1..]);
            t.try_reshape(&shape)
        };
        let mut idx = vec![batch];
        for t in &p[1..=indices.len()] {
            idx.push(pad(t, rank)?);
        }
        Ok(vec![match put {
            None => index_rows(&p[0], &idx)?,
            Some((_, acc)) => {
                // The values broadcast to [batch, index shape, dims not indexed].
                let target = rank + (p[0].dim() - 1) - indices.len();
                let v = &p[indices.len() + 1];
                if v.dim() - 1 > target {
                    return Err(Error::invalid(op, format!("shape mismatch: value tensor of shape {:?} cannot be broadcast to the indexing result", &v.shape()[1..])));
                }
                put_rows(&p[0], &idx, &pad(v, target)?, acc)?
            }
        }])
    });
    Ok((x.clone(), Some(out.map(|mut v| v.remove(0)))))
}

fn index_rows(x: &Tensor, indices: &[Tensor]) -> Result<Tensor> {
    if indices.is_empty() {
        return Ok(x.clone());
    }
    let idx = expand_bools("index", x, indices)?;
    let (rows, shape, k) = rows_of("index", x, &idx)?;
    let rest = &x.shape()[k..];
    let mut flat = vec![x.shape()[..k].iter().product::<usize>()];
    flat.extend_from_slice(rest);
    let picked = x.try_reshape(&flat)?.try_index_select(0, &rows)?;
    let mut out = shape;
    out.extend_from_slice(rest);
    picked.try_reshape(&out)
}

fn put_rows(x: &Tensor, indices: &[Tensor], values: &Tensor, accumulate: bool) -> Result<Tensor> {
    if indices.is_empty() {
        let v = values.try_expand(x.shape())?;
        return match accumulate {
            true => x.try_add(&v),
            false => v.try_add(&x.zeros_like()),
        };
    }
    let idx = expand_bools("index_put", x, indices)?;
    let (rows, shape, k) = rows_of("index_put", x, &idx)?;
    let rest = &x.shape()[k..];
    let mut target = shape.clone();
    target.extend_from_slice(rest);
    let fits = broadcast_shapes(values.shape(), &target).is_some_and(|s| s.as_slice() == target);
    if !fits {
        return Err(Error::invalid(
            "index_put",
            format!(
                "shape mismatch: value tensor of shape {:?} cannot be broadcast to indexing result of shape {:?}",
                values.shape(),
                target
            ),
        ));
    }
    let n = rows.numel();
    let mut flat = vec![x.shape()[..k].iter().product::<usize>()];
    flat.extend_from_slice(rest);
    let mut vflat = vec![n];
    vflat.extend_from_slice(rest);
    let xf = x.try_reshape(&flat)?;
    let vf = values.try_expand(&target)?.try_reshape(&vflat)?;
    let out = if accumulate {
        xf.try_index_add(0, &rows, &vf)?
    } else {
        // Of repeated rows the last write wins: keep each row's last occurrence only.
        let r = rows.contiguous_vec::<i64>();
        let mut last = std::collections::HashMap::with_capacity(r.len());
        for (pos, &row) in r.iter().enumerate() {
            last.insert(row, pos);
        }
        let mut keep: Vec<i64> = last.values().map(|&p| p as i64).collect();
        keep.sort_unstable();
        let kept_rows: Vec<i64> = keep.iter().map(|&p| r[p as usize]).collect();
        let m = keep.len();
        let keep = Tensor::try_from_vec(keep, &[m])?;
        let kept_rows = Tensor::try_from_vec(kept_rows.clone(), &[m])?;
        let placed =
            xf.zeros_like()
                .try_index_add(0, &kept_rows, &vf.try_index_select(0, &keep)?)?;
        let mut written = vec![false; flat[0]];
        for &row in kept_rows.contiguous_vec::<i64>().iter() {
            written[row as usize] = true;
        }
        let mut mshape = vec![1; flat.len()];
        mshape[0] = flat[0];
        let mask = Tensor::try_from_vec(written, &mshape)?;
        Tensor::try_where_(&mask, &placed, &xf)?
    };
    out.try_reshape(x.shape())
}

/// `index_copy` (`source` given) and `index_fill` (`value`): `index_put` on `x` with `dim`
/// moved first.
fn along(
    op: &'static str,
    x: &Tensor,
    dim: isize,
    index: &Tensor,
    source: Option<&Tensor>,
    value: f64,
) -> Result<Tensor> {
    if index.dim() > 1 {
        return Err(Error::invalid(
            op,
            format!(
                "{op}(): Index should have dimension 1 or 0 (got {})",
                index.dim()
            ),
        ));
    }
    let d = normalize_dim(op, dim, x.dim().max(1))? as isize;
    let x0 = if x.dim() == 0 {
        x.try_reshape(&[1])?
    } else {
        x.clone()
    };
    let index = index.try_reshape(&[index.numel()])?;
    let moved = x0.try_transpose(0, d)?;
    let values = match source {
        Some(s) => {
            let s0 = if s.dim() == 0 {
                s.try_reshape(&[1])?
            } else {
                s.clone()
            };
            let mut expected = x0.shape().to_vec();
            expected[d as usize] = index.numel();
            if s0.shape() != expected.as_slice() {
                return Err(Error::invalid(
                    op,
                    format!(
                        "{op}(): Source/destination tensor must have same slice shapes: source {:?}, expected {:?} for index of length {} along dim {d} of {:?}",
                        s.shape(),
                        expected,
                        index.numel(),
                        x.shape()
                    ),
                ));
            }
            s0.try_transpose(0, d)?
        }
        None => Tensor::try_full(&[], value)?.to_dtype(x.dtype()),
    };
    let out = moved
        .try_index_put(&[index], &values, false)?
        .try_transpose(0, d)?;
    out.try_reshape(x.shape())
}

fn masked_scatter_impl(x: &Tensor, mask: &Tensor, source: &Tensor) -> Result<Tensor> {
    let op = "masked_scatter";
    if mask.dtype() != DType::Bool {
        return Err(Error::invalid(
            op,
            format!(
                "masked_scatter_: expected BoolTensor for mask, got {}",
                mask.dtype()
            ),
        ));
    }
    if source.dtype() != x.dtype() {
        return Err(Error::invalid(
            op,
            format!(
                "masked_scatter: expected self and source to have same dtypes but got {} and {}",
                x.dtype(),
                source.dtype()
            ),
        ));
    }
    let fits = broadcast_shapes(mask.shape(), x.shape()).is_some_and(|s| s.as_slice() == x.shape());
    if !fits {
        return Err(Error::invalid(
            op,
            format!(
                "the mask of shape {:?} is not broadcastable to self's shape {:?}",
                mask.shape(),
                x.shape()
            ),
        ));
    }
    let mask = mask.try_expand(x.shape())?;
    // Each member of the batch (one member when not batched) scatters its own source.
    let (xs, ms, ss) = (
        x.try_reshape(&[x.numel()])?,
        mask.try_reshape(&[x.numel()])?,
        source.try_reshape(&[source.numel()])?,
    );
    let out = levels::lowered_all(&[xs, ms, ss], |p| {
        if p[0].dim() == 1 {
            let rows: Vec<Tensor> = p.iter().map(|t| t.unsqueeze(0)).collect();
            return Ok(vec![
                scatter_rows(&rows[0], &rows[1], &rows[2])?.try_squeeze(0)?
            ]);
        }
        Ok(vec![scatter_rows(&p[0], &p[1], &p[2])?])
    })?;
    out[0].try_reshape(x.shape())
}

/// `masked_scatter` on rows: `x` and `mask` `[B, n]` (physical), `src` `[B, s]`.
fn scatter_rows(x: &Tensor, mask: &Tensor, src: &Tensor) -> Result<Tensor> {
    let (b, n) = (x.shape()[0], x.shape()[1]);
    let s = src.shape()[1];
    let m = mask.contiguous_vec::<bool>();
    let mut gather = Vec::with_capacity(b * n);
    for row in 0..b {
        let mut next = 0usize;
        for &on in &m[row * n..(row + 1) * n] {
            if on {
                if next >= s {
                    return Err(Error::invalid(
                        "masked_scatter",
                        "masked_scatter: Number of elements of source < number of ones in mask",
                    ));
                }
                gather.push((row * s + next) as i64);
                next += 1;
            } else {
                gather.push(0);
            }
        }
    }
    if b * s == 0 {
        return Ok(x.clone());
    }
    let idx = Tensor::try_from_vec(gather, &[b * n])?;
    let taken = src
        .try_reshape(&[b * s])?
        .try_index_select(0, &idx)?
        .try_reshape(&[b, n])?;
    Tensor::try_where_(mask, &taken, x)
}
