//! Indexing and rearranging: permute, slicing, cat/stack/split, flip, roll, repeat, pad,
//! index_select, gather, scatter, index_add, masked_select.
//!
//! The primitives are declared in the structural form (see [`super::shape`]): `Permute`,
//! `Slice`, `Cat`, `Pad`, `Take`, `Put`; the rest are composites. Most are one primitive pair. `Take` (`out[p] = x[M(p)]` for an index map `M`) and its
//! adjoint `PutAdd` (`out[M(p)] += g[p]` into zeros) are each other's backward. So every op
//! expressed as a `Take` (index_select, gather, flip, roll, masked_select) has a gradient
//! that is right even when indices repeat, and derivatives of every order.

use super::shape::{structural, structural_ok, tangent, Structural};
use super::{grads, normalize_dim};
use crate::autograd::Grads;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::forward_ad::Jvp;
use crate::kernels;
use crate::layout::{Layout, Shape};
use crate::raw;
use crate::tensor::Tensor;
use smallvec::SmallVec;
use std::borrow::Borrow;
use std::sync::Arc;

/// An index map: fills the source multi-index for an output multi-index.
pub(crate) type IndexMap = Arc<dyn Fn(&[usize], &mut [usize]) + Send + Sync>;

/// `out[p] = x[map(p)]` for `p` in `out_shape`, recorded; the backward is [`put_add`].
pub(crate) fn take(name: &'static str, x: &Tensor, out_shape: &[usize], map: IndexMap) -> Tensor {
    let (from, to) = (x.shape_vec(), Shape::from_slice(out_shape));
    structural_ok(
        Take {
            name,
            from,
            to,
            map,
        },
        &[x],
    )
}

/// `out[p] = x[map(p)]` for `p` in `to`, of an input of shape `from`, recorded as `name`.
#[derive(Clone)]
struct Take {
    name: &'static str,
    from: Shape,
    to: Shape,
    map: IndexMap,
}

impl Structural for Take {
    fn name(&self) -> &'static str {
        self.name
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        raw::take(x[0], &self.to, |p, s| (self.map)(p, s))
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Grads {
        grads([Some(put_add(g, &self.from, self.map.clone()))])
    }
    fn jvp(&self, j: &Jvp) -> Tensor {
        take(
            self.name,
            tangent(j),
            &j.shape(&self.to),
            j.index_map(&self.map),
        )
    }
}

/// Zeros of `shape` with `g[p]` added at `map(p)` for every `p` of `g`, recorded; the
/// backward is [`take`].
pub(crate) fn put_add(g: &Tensor, shape: &[usize], map: IndexMap) -> Tensor {
    put_into("IndexPutBackward0", g, shape, map, true)
}

/// Fallible [`put_add`]: a result that cannot be allocated is an error.
pub(crate) fn try_put_add(g: &Tensor, shape: &[usize], map: IndexMap) -> Result<Tensor> {
    try_put_into("IndexPutBackward0", g, shape, map, true)
}

/// Zeros of `shape` with `src[p]` written at `map(p)` (the last write wins: scatter),
/// recorded; the backward takes every written position back.
fn place(src: &Tensor, shape: &[usize], map: IndexMap) -> Tensor {
    put_into("ScatterBackward0", src, shape, map, false)
}

/// Zeros of `shape` with `src[p]` put at `map(p)`, summed where positions repeat or the last
/// one kept, recorded as `name`: the backward takes every position back, and the tangent is
/// put the same way.
fn put_into(
    name: &'static str,
    src: &Tensor,
    shape: &[usize],
    map: IndexMap,
    accumulate: bool,
) -> Tensor {
    crate::unwrap(try_put_into(name, src, shape, map, accumulate))
}

fn try_put_into(
    name: &'static str,
    src: &Tensor,
    shape: &[usize],
    map: IndexMap,
    accumulate: bool,
) -> Result<Tensor> {
    let (from, to) = (src.shape_vec(), Shape::from_slice(shape));
    let put = Put {
        name,
        from,
        to,
        map,
        accumulate,
    };
    structural(put, &[src])
}

/// Zeros of shape `to` with `src[p]` (`src` of shape `from`) put at `map(p)`, summed where
/// positions repeat (`accumulate`) or the last one kept.
#[derive(Clone)]
struct Put {
    name: &'static str,
    from: Shape,
    to: Shape,
    map: IndexMap,
    accumulate: bool,
}

impl Structural for Put {
    fn name(&self) -> &'static str {
        self.name
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        let zeros = Tensor::try_full_with(&self.to, 0.0, x[0].dtype())?;
        raw::try_put(&zeros, x[0], |p, d| (self.map)(p, d), self.accumulate)
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Grads {
        grads([Some(take("TakeBackward0", g, &self.from, self.map.clone()))])
    }
    fn jvp(&self, j: &Jvp) -> Tensor {
        let map = j.index_map(&self.map);
        put_into(
            self.name,
            tangent(j),
            &j.shape(&self.to),
            map,
            self.accumulate,
        )
    }
}

/// `x.permute(perm)` for a permutation `perm` (a view).
#[derive(Clone)]
struct Permute {
    perm: Vec<usize>,
}

impl Structural for Permute {
    fn name(&self) -> &'static str {
        "PermuteBackward0"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        let l = x[0].layout();
        Ok(x[0].view_with(Layout {
            shape: self.perm.iter().map(|&d| l.shape[d]).collect(),
            strides: self.perm.iter().map(|&d| l.strides[d]).collect(),
            offset: l.offset,
        }))
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Grads {
        let mut inverse = vec![0isize; self.perm.len()];
        for (i, &d) in self.perm.iter().enumerate() {
            inverse[d] = i as isize;
        }
        grads([Some(g.permute(&inverse))])
    }
    fn jvp(&self, j: &Jvp) -> Tensor {
        let dims: Vec<isize> = (0..j.b() as isize)
            .chain(self.perm.iter().map(|&d| j.dim(d)))
            .collect();
        tangent(j).permute(&dims)
    }
}

/// `x.slice(dim, start, end, step)` with the bounds clamped (`len` elements; a view) of an
/// input of shape `from`.
#[derive(Clone)]
struct Slice {
    dim: usize,
    start: usize,
    end: usize,
    step: usize,
    len: usize,
    from: Shape,
}

impl Structural for Slice {
    fn name(&self) -> &'static str {
        "SliceBackward0"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        let (d, len) = (self.dim, self.len);
        let mut layout = x[0].layout().clone();
        layout.offset += if len > 0 {
            self.start * layout.strides[d]
        } else {
            0
        };
        layout.shape[d] = len;
        if len > 1 {
            // In bounds: start + step < size, so the product is below the dimension's extent.
            layout.strides[d] *= self.step;
        }
        Ok(x[0].view_with(layout))
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Grads {
        let (d, s, step) = (self.dim, self.start, self.step);
        let map: IndexMap = Arc::new(move |p, o| {
            o.copy_from_slice(p);
            o[d] = s + p[d] * step;
        });
        grads([Some(put_add(g, &self.from, map))])
    }
    fn jvp(&self, j: &Jvp) -> Tensor {
        let (s, e) = (self.start as isize, self.end as isize);
        tangent(j).slice(j.dim(self.dim), s, e, self.step)
    }
}

/// `Tensor::cat` of inputs of dtype promoting to `dtype` along `dim`, input `i` at
/// `lens[i] = (start, length)` of an output of `shape`.
#[derive(Clone)]
struct Cat {
    dim: usize,
    lens: Vec<(usize, usize)>,
    dtype: DType,
    shape: Shape,
}

impl Structural for Cat {
    fn name(&self) -> &'static str {
        "CatBackward0"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        // One pass over the output: each input is written once into its slab along `dim`
        // (linear in the total size and the number of inputs).
        let out = Tensor::try_full_with(&self.shape, 0.0, self.dtype)?;
        {
            let ol = out.layout().clone();
            let mut o = out.storage().write_untracked();
            for (t, &(start, len)) in x.iter().zip(&self.lens) {
                if len > 0 && t.numel() > 0 {
                    let mut target = ol.clone();
                    target.shape[self.dim] = len;
                    target.offset = start * ol.strides[self.dim];
                    let src = raw::try_cast(t, self.dtype)?;
                    let s = src.storage().read();
                    kernels::write_buffer(&s, src.layout(), &mut o, &target);
                }
            }
        }
        Ok(out)
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Grads {
        self.lens
            .iter()
            .zip(needs)
            .map(|(&(s, len), &need)| need.then(|| g.narrow(self.dim as isize, s, len)))
            .collect()
    }
    fn jvp(&self, j: &Jvp) -> Tensor {
        let parts: Vec<Tensor> = (0..self.lens.len())
            .map(|i| match j.t(i) {
                Some(t) => t.clone(),
                None => Tensor::full_with(&j.shape(j.x(i).shape()), 0.0, self.dtype),
            })
            .collect();
        Tensor::cat(&parts, j.dim(self.dim))
    }
}

/// Constant padding: the (cropped) input of shape `from` placed at `map(p)` in a tensor of
/// shape `to` filled with `value`.
#[derive(Clone)]
struct Pad {
    from: Shape,
    to: Shape,
    value: f64,
    map: IndexMap,
}

impl Structural for Pad {
    fn name(&self) -> &'static str {
        "ConstantPadNdBackward0"
    }
    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        let filled = Tensor::try_full_with(&self.to, self.value, x[0].dtype())?;
        raw::try_put(&filled, x[0], |p, o| (self.map)(p, o), false)
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Grads {
        grads([Some(take("TakeBackward0", g, &self.from, self.map.clone()))])
    }
    fn jvp(&self, j: &Jvp) -> Tensor {
        put_add(tangent(j), &j.shape(&self.to), j.index_map(&self.map))
    }
    fn batched(&self, j: &Jvp) -> Result<Tensor> {
        // The padding value is constant: every member's output is filled with it.
        let filled = Tensor::try_full_with(&j.shape(&self.to), self.value, j.x(0).dtype())?;
        let map = j.index_map(&self.map);
        raw::try_put(&filled, tangent(j), |p, o| map(p, o), false)
    }
}

/// Row-major strides, to turn a multi-index into a position in a flat index list.
fn flat_position(shape: &[usize], p: &[usize]) -> usize {
    p.iter().zip(shape).fold(0, |acc, (&i, &n)| acc * n + i)
}

api! {
    INDEX_OPS = impl Tensor {
        /// The dimensions reordered (a view): output dimension `i` is input dimension `dims[i]`.
        /// Panics unless `dims` is a permutation; see [`Tensor::try_permute`].
        ///
        /// ```
        /// let x = ferrograd::Tensor::zeros(&[2, 3, 4]);
        /// assert_eq!(x.permute(&[2, 0, 1]).shape(), &[4, 2, 3]);
        /// ```
        ///
        /// ```
        /// let e = ferrograd::Tensor::zeros(&[2, 3]).try_permute(&[0, 0]).unwrap_err();
        /// assert!(e.to_string().contains("permute(): duplicate dims are not allowed."));
        /// ```
        pub fn permute / try_permute(&self, dims: &[isize]) -> Tensor {
            let n = self.dim();
            if dims.len() != n {
                return Err(Error::invalid(
                    "permute",
                    format!(
                        "permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = {n} is not equal to len(dims) = {}",
                        dims.len()
                    ),
                ));
            }
            let mut perm: Vec<usize> = Vec::with_capacity(n);
            for &d in dims {
                let d = normalize_dim("permute", d, n.max(1))?;
                if perm.contains(&d) {
                    return Err(Error::invalid(
                        "permute",
                        "permute(): duplicate dims are not allowed.",
                    ));
                }
                perm.push(d);
            }
            structural(Permute { perm }, &[self])
        }

        /// The last two dimensions swapped (`x.mT`). Panics below 2 dimensions; see
        /// [`Tensor::try_m_t`].
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::zeros(&[5, 2, 3]).m_t().shape(), &[5, 3, 2]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::zeros(&[3]).try_m_t().is_err());
        /// ```
        pub fn m_t / try_m_t(&self) -> Tensor {
            if self.dim() < 2 {
                return Err(Error::invalid(
                    "mT",
                    format!("tensor.mT is only supported on matrices or batches of matrices. Got {}-D tensor.", self.dim()),
                ));
            }
            self.try_transpose(-2, -1)
        }

        /// Dimensions `start..=end` merged into one (negative counts from the end).
        /// Panics on bad dimensions; see [`Tensor::try_flatten`].
        ///
        /// ```
        /// let x = ferrograd::Tensor::zeros(&[2, 3, 4]);
        /// assert_eq!(x.flatten(1, -1).shape(), &[2, 12]);
        /// assert_eq!(x.flatten(0, -1).shape(), &[24]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::zeros(&[2, 3]).try_flatten(1, 0).is_err());
        /// ```
        pub fn flatten / try_flatten(&self, start: isize = 0, end: isize = -1) -> Tensor {
            if self.dim() == 0 {
                return self.try_reshape(&[1]);
            }
            let s = normalize_dim("flatten", start, self.dim())?;
            let e = normalize_dim("flatten", end, self.dim())?;
            if s > e {
                return Err(Error::invalid(
                    "flatten",
                    "start_dim cannot come after end_dim",
                ));
            }
            let sh = self.shape();
            let mut shape: Shape = sh[..s].into();
            shape.push(sh[s..=e].iter().product());
            shape.extend_from_slice(&sh[e + 1..]);
            self.try_reshape(&shape)
        }

        /// Dimension `dim` split into `sizes` (their product must equal its size).
        /// Panics otherwise; see [`Tensor::try_unflatten`].
        ///
        /// ```
        /// let x = ferrograd::Tensor::zeros(&[2, 12]);
        /// assert_eq!(x.unflatten(1, &[3, 4]).shape(), &[2, 3, 4]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::zeros(&[2, 12]).try_unflatten(1, &[5, 2]).is_err());
        /// ```
        pub fn unflatten / try_unflatten(&self, dim: isize, sizes: &[usize]) -> Tensor {
            let d = normalize_dim("unflatten", dim, self.dim().max(1))?;
            if crate::layout::checked_numel(sizes) != Some(self.shape().get(d).copied().unwrap_or(1)) {
                return Err(Error::invalid(
                    "unflatten",
                    format!(
                        "provided sizes {sizes:?} don't multiply up to the size of dim {d} ({}) in the input tensor",
                        self.shape().get(d).copied().unwrap_or(1)
                    ),
                ));
            }
            let sh = self.shape();
            let mut shape: Shape = sh[..d].into();
            shape.extend_from_slice(sizes);
            shape.extend_from_slice(&sh[(d + 1).min(sh.len())..]);
            self.try_reshape(&shape)
        }

        /// Alias of [`Tensor::expand`] (`torch.broadcast_to`).
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::zeros(&[3]).broadcast_to(&[2, 3]).shape(), &[2, 3]);
        /// ```
        pub fn broadcast_to / try_broadcast_to(&self, shape: &[usize]) -> Tensor {
            self.try_expand(shape)
        }

        /// Elements `start, start+step, ...` below `end` along `dim` (a view; `x[..., a:b:s]`).
        /// `start`/`end` may be negative (from the end) and are clamped to the size, as in Python.
        /// Panics on a bad dim or a non-positive step; see [`Tensor::try_slice`].
        ///
        /// ```
        /// let x = ferrograd::Tensor::arange(10.0);
        /// assert_eq!(x.slice(0, 1, 8, 3).to_vec::<f32>(), vec![1.0, 4.0, 7.0]);
        /// assert_eq!(x.slice(0, -3, isize::MAX, 1).to_vec::<f32>(), vec![7.0, 8.0, 9.0]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::zeros(&[3]).try_slice(0, 0, 3, 0).is_err());
        /// ```
        pub fn slice / try_slice(&self, dim: isize, start: isize, end: isize, step: usize) -> Tensor {
            if step == 0 {
                return Err(Error::invalid("slice", "slice step must be positive"));
            }
            if self.dim() == 0 {
                return Err(Error::invalid(
                    "slice",
                    "slice() cannot be applied to a 0-dim tensor.",
                ));
            }
            let d = normalize_dim("slice", dim, self.dim())?;
            let size = self.shape()[d] as isize;
            let clamp = |v: isize| (if v < 0 { v + size } else { v }).clamp(0, size) as usize;
            let (s, e) = (clamp(start), clamp(end).max(clamp(start)));
            let len = (e - s).div_ceil(step);
            let (dim, start, end, from) = (d, s, e, self.shape_vec());
            structural(Slice { dim, start, end, step, len, from }, &[self])
        }

        /// `length` elements from `start` along `dim` (a view). Panics if out of range; see
        /// [`Tensor::try_narrow`].
        ///
        /// ```
        /// let x = ferrograd::Tensor::arange(5.0);
        /// assert_eq!(x.narrow(0, 1, 2).to_vec::<f32>(), vec![1.0, 2.0]);
        /// ```
        ///
        /// ```
        /// let e = ferrograd::Tensor::zeros(&[3]).try_narrow(0, 2, 2).unwrap_err();
        /// assert!(e.to_string().contains("exceeds dimension size"));
        /// ```
        pub fn narrow / try_narrow(&self, dim: isize, start: usize, length: usize) -> Tensor {
            let d = normalize_dim("narrow", dim, self.dim().max(1))?;
            let size = self.shape().get(d).copied().unwrap_or(0);
            if start.checked_add(length).is_none_or(|e| e > size) {
                return Err(Error::invalid(
                    "narrow",
                    format!("start ({start}) + length ({length}) exceeds dimension size ({size})."),
                ));
            }
            self.try_slice(d as isize, start as isize, (start + length) as isize, 1)
        }

        /// Pieces of `split_size` along `dim` (the last may be smaller), as views.
        /// Panics on a zero size or bad dim; see [`Tensor::try_split`].
        ///
        /// ```
        /// let parts = ferrograd::Tensor::arange(5.0).split(2, 0);
        /// assert_eq!(parts.len(), 3);
        /// assert_eq!(parts[2].to_vec::<f32>(), vec![4.0]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::arange(5.0).try_split(0, 0).is_err());
        /// ```
        pub fn split / try_split(&self, split_size: usize, dim: isize = 0) -> Vec<Tensor> {
            if split_size == 0 {
                return Err(Error::invalid("split", "split_size must be positive"));
            }
            let d = normalize_dim("split", dim, self.dim().max(1))?;
            let size = self.shape().get(d).copied().unwrap_or(0);
            let sizes: Vec<usize> = (0..size.div_ceil(split_size).max(1))
                .map(|i| split_size.min(size - (i * split_size).min(size)))
                .collect();
            self.pieces(&sizes, d, "SplitBackward0")
        }

        /// Pieces of the given sizes along `dim` (they must add up to its size), as views.
        /// Panics otherwise; see [`Tensor::try_split_sizes`].
        ///
        /// ```
        /// let parts = ferrograd::Tensor::arange(5.0).split_sizes(&[1, 4], 0);
        /// assert_eq!(parts[1].shape(), &[4]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::arange(5.0).try_split_sizes(&[1, 2], 0).is_err());
        /// ```
        pub fn split_sizes / try_split_sizes(&self, sizes: &[usize], dim: isize = 0) -> Vec<Tensor> {
            let d = normalize_dim("split", dim, self.dim().max(1))?;
            self.pieces(sizes, d, "SplitWithSizesBackward0")
        }

        /// `chunks` pieces of equal size (the last may be smaller) along `dim`, as views.
        /// Panics on zero chunks; see [`Tensor::try_chunk`].
        ///
        /// ```
        /// let parts = ferrograd::Tensor::arange(6.0).chunk(4, 0);
        /// assert_eq!(parts.len(), 3); // sizes 2, 2, 2 as in PyTorch
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::arange(6.0).try_chunk(0, 0).is_err());
        /// ```
        pub fn chunk / try_chunk(&self, chunks: usize, dim: isize = 0) -> Vec<Tensor> {
            if chunks == 0 {
                return Err(Error::invalid(
                    "chunk",
                    "chunk expects `chunks` to be greater than 0",
                ));
            }
            let d = normalize_dim("chunk", dim, self.dim().max(1))?;
            let size = self.shape().get(d).copied().unwrap_or(0);
            self.try_split(size.div_ceil(chunks).max(1), d as isize)
        }

        /// The elements in reverse order along each of `dims` (a copy, as in PyTorch).
        /// Panics on a bad dim; see [`Tensor::try_flip`].
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
        /// assert_eq!(x.flip(&[1]).to_vec::<f32>(), vec![2.0, 1.0, 4.0, 3.0]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_flip(&[1]).is_err());
        /// ```
        pub fn flip / try_flip(&self, dims: &[isize]) -> Tensor {
            let mask = crate::layout::reduce_mask("flip", self.dim(), dims)?;
            let shape = self.shape_vec();
            let sizes = shape.clone();
            let map: IndexMap = Arc::new(move |p, s| {
                for (k, (&i, &flip)) in p.iter().zip(&mask).enumerate() {
                    s[k] = if flip { sizes[k] - 1 - i } else { i };
                }
            });
            Ok(take("FlipBackward0", self, &shape, map))
        }

        /// Elements shifted cyclically by `shifts[i]` along `dims[i]` (with no dims: over the
        /// flattened tensor). Panics on mismatched lengths or bad dims; see [`Tensor::try_roll`].
        ///
        /// ```
        /// let x = ferrograd::Tensor::arange(5.0);
        /// assert_eq!(x.roll(&[2], &[0]).to_vec::<f32>(), vec![3.0, 4.0, 0.0, 1.0, 2.0]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_roll(&[1, 1], &[0]).is_err());
        /// ```
        pub fn roll / try_roll(&self, shifts: &[isize], dims: &[isize] = &[]) -> Tensor {
            if dims.is_empty() {
                if shifts.len() != 1 {
                    return Err(Error::invalid(
                        "roll",
                        "shifts must have one element when dims is empty",
                    ));
                }
                return self
                    .try_flatten(0, -1)?
                    .try_roll(shifts, &[0])?
                    .try_reshape(self.shape());
            }
            if shifts.len() != dims.len() {
                return Err(Error::invalid(
                    "roll",
                    format!(
                        "shifts and dimensions must align. shifts: {}, dims: {}",
                        shifts.len(),
                        dims.len()
                    ),
                ));
            }
            let n = self.dim().max(1);
            let mut by: SmallVec<[isize; 4]> = SmallVec::from_elem(0, self.dim());
            for (&s, &d) in shifts.iter().zip(dims) {
                let d = normalize_dim("roll", d, n)?;
                if self.dim() > 0 {
                    // Reduced modulo the size so that no sum of shifts overflows.
                    let size = (self.shape()[d] as isize).max(1);
                    by[d] = ((by[d] as i128 + s.rem_euclid(size) as i128) % size as i128) as isize;
                }
            }
            let shape = self.shape_vec();
            let sizes = shape.clone();
            let map: IndexMap = Arc::new(move |p, s| {
                for k in 0..p.len() {
                    let n = sizes[k] as isize;
                    s[k] = (p[k] as isize - by[k]).rem_euclid(n.max(1)) as usize;
                }
            });
            Ok(take("RollBackward0", self, &shape, map))
        }

        /// The tensor tiled `repeats[i]` times along each dimension (`Tensor.repeat`; extra leading
        /// repeats add dimensions). Panics if `repeats` is shorter than the rank; see
        /// [`Tensor::try_repeat`].
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([1.0, 2.0]);
        /// assert_eq!(x.repeat(&[2, 2]).to_vec::<f32>(), vec![1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::zeros(&[2, 2]).try_repeat(&[2]).is_err());
        /// ```
        pub fn repeat / try_repeat(&self, repeats: &[usize]) -> Tensor {
            if repeats.len() < self.dim() {
                return Err(Error::invalid(
                    "repeat",
                    "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor",
                ));
            }
            let lead = repeats.len() - self.dim();
            let src: Shape = std::iter::repeat_n(1, lead)
                .chain(self.shape().iter().copied())
                .collect();
            let shape: Shape = src
                .iter()
                .zip(repeats)
                .map(|(&s, &r)| s.checked_mul(r))
                .collect::<Option<_>>()
                .ok_or_else(|| Error::invalid("repeat", "numel: integer multiplication overflow"))?;
            crate::layout::check_alloc("repeat", &shape, crate::storage::elem_size(self.dtype()))?;
            let x = self.try_reshape(&src)?;
            let sizes = src.clone();
            let map: IndexMap = Arc::new(move |p, s| {
                for k in 0..p.len() {
                    s[k] = p[k] % sizes[k].max(1);
                }
            });
            Ok(take("RepeatBackward0", &x, &shape, map))
        }

        /// Constant padding, as `torch.nn.functional.pad(x, pad, value=value)`: `pad` holds
        /// `(before, after)` pairs starting from the **last** dimension; negative values crop.
        /// Panics on an odd-length `pad` or crops larger than the tensor; see [`Tensor::try_pad`].
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([[1.0]]);
        /// assert_eq!(x.pad(&[1, 0, 0, 1], 0.0).to_vec::<f32>(), vec![0.0, 1.0, 0.0, 0.0]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_pad(&[1], 0.0).is_err());
        /// ```
        pub fn pad / try_pad(&self, pad: &[isize], value: f64 = 0.0) -> Tensor {
            if pad.len() % 2 != 0 || pad.len() / 2 > self.dim() {
                return Err(Error::invalid(
                    "pad",
                    format!(
                        "Padding length must be divisible by 2 and at most twice the number of dimensions ({}), got {}",
                        self.dim(),
                        pad.len()
                    ),
                ));
            }
            // Crop first (negative pads), then embed in a filled tensor.
            let mut x = self.clone();
            let mut before: SmallVec<[usize; 4]> = SmallVec::from_elem(0, self.dim());
            let mut shape = self.shape_vec();
            for (i, pair) in pad.chunks(2).enumerate() {
                let d = self.dim() - 1 - i;
                let (b, a) = (pair[0], pair[1]);
                let size = x.shape()[d] as isize;
                let overflow = || Error::invalid("pad", "numel: integer multiplication overflow");
                // Crops and pads in checked arithmetic (a pad of isize::MIN has no negation).
                let (cb, ca) = (
                    b.checked_neg().ok_or_else(overflow)?.max(0),
                    a.checked_neg().ok_or_else(overflow)?.max(0),
                );
                if cb.checked_add(ca).is_none_or(|c| c > size) {
                    return Err(Error::invalid(
                        "pad",
                        format!(
                            "cropping {} elements from dimension {d} of size {size}",
                            cb as i128 + ca as i128
                        ),
                    ));
                }
                if cb + ca > 0 {
                    x = x.try_narrow(d as isize, cb as usize, (size - cb - ca) as usize)?;
                }
                before[d] = b.max(0) as usize;
                shape[d] = x.shape()[d]
                    .checked_add(b.max(0) as usize)
                    .and_then(|s| s.checked_add(a.max(0) as usize))
                    .ok_or_else(overflow)?;
            }
            let map: IndexMap = Arc::new(move |p, s| {
                for k in 0..p.len() {
                    s[k] = p[k] + before[k];
                }
            });
            structural(Pad { from: x.shape_vec(), to: shape, value, map }, &[&x])
        }

        /// The slices at `index` (int64, 1-d) along `dim`, in that order (repeats allowed).
        /// Panics on a bad index; see [`Tensor::try_index_select`].
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let x = Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
        /// assert_eq!(x.index_select(0, &Tensor::new([1, 1, 0])).to_vec::<f32>(), vec![3.0, 4.0, 3.0, 4.0, 1.0, 2.0]);
        /// ```
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let e = Tensor::zeros(&[2]).try_index_select(0, &Tensor::new([2])).unwrap_err();
        /// assert_eq!(e.to_string(), "index_select: index out of range in self");
        /// ```
        pub fn index_select / try_index_select(&self, dim: isize, index: &Tensor) -> Tensor {
            if index.dim() > 1 {
                return Err(Error::invalid(
                    "index_select",
                    "index_select(): Index is supposed to be a vector",
                ));
            }
            let d = normalize_dim("index_select", dim, self.dim().max(1))?;
            let size = self.shape().get(d).copied().unwrap_or(1);
            // PyTorch's wording for an index out of range here (an IndexError).
            let idx = Arc::new(raw::index_values("index_select", index, size).map_err(
                |e| match e {
                    Error::Invalid { msg, .. } if msg.contains("out of bounds") => {
                        Error::invalid("index_select", "index out of range in self")
                    }
                    e => e,
                },
            )?);
            let mut shape = self.shape_vec();
            if self.dim() == 0 {
                return Ok(take("IndexSelectBackward0", self, &[], Arc::new(|_, _| {})));
            }
            shape[d] = idx.len();
            let map: IndexMap = Arc::new(move |p, s| {
                s.copy_from_slice(p);
                s[d] = idx[p[d]];
            });
            Ok(take("IndexSelectBackward0", self, &shape, map))
        }

        /// `out[i][j][k] = self[i][index[i][j][k]][k]` for `dim = 1` (and likewise for other dims):
        /// `index` is int64 with this tensor's rank. Panics on a bad index; see
        /// [`Tensor::try_gather`].
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let x = Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
        /// assert_eq!(x.gather(1, &Tensor::new([[0, 0], [1, 0]])).to_vec::<f32>(), vec![1.0, 1.0, 4.0, 3.0]);
        /// ```
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// assert!(Tensor::zeros(&[2, 2]).try_gather(1, &Tensor::new([[0, 2]])).is_err());
        /// ```
        pub fn gather / try_gather(&self, dim: isize, index: &Tensor) -> Tensor {
            if self.is_batched() || index.is_batched() {
                // The batching rule: each member gathers along its dim, one more leading dim
                // physically (a 0-d member as one element).
                let d = normalize_dim("gather", dim, self.dim().max(1))? as isize;
                let (x, i) = match self.dim() {
                    0 => (self.try_reshape(&[1])?, index.try_reshape(&[1])?),
                    _ => (self.clone(), index.clone()),
                };
                let y = crate::autograd::levels::lowered_all(&[x, i], |p| {
                    Ok(vec![p[0].try_gather(d + 1, &p[1])?])
                })?;
                return y[0].try_reshape(index.shape());
            }
            let map = self.scatter_map("gather", dim, index, None)?;
            Ok(take("GatherBackward0", self, index.shape(), map))
        }

        /// A copy of `self` with `src[p]` added at the position `gather` would read for `p`:
        /// `out[i][index[i][j]] += src[i][j]` for `dim = 1`. Panics on a bad index; see
        /// [`Tensor::try_scatter_add`].
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let out = Tensor::zeros(&[3]).scatter_add(0, &Tensor::new([0, 0, 2]), &Tensor::new([1.0, 2.0, 3.0]));
        /// assert_eq!(out.to_vec::<f32>(), vec![3.0, 0.0, 3.0]);
        /// ```
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// assert!(Tensor::zeros(&[3]).try_scatter_add(0, &Tensor::new([3]), &Tensor::ones(&[1])).is_err());
        /// ```
        pub fn scatter_add / try_scatter_add(&self, dim: isize, index: &Tensor, src: &Tensor) -> Tensor {
            let map = self.scatter_map("scatter_add", dim, index, Some(src))?;
            let src = src.leading_block(index.shape())?;
            super::named(self.try_add(&put_add(&src, self.shape(), map)), "ScatterAddBackward0")
        }

        /// A copy of `self` with `src[p]` written at the position `gather` would read for `p`
        /// (`Tensor.scatter`; with repeated indices the last write wins). The gradient of `self`
        /// is zero at overwritten places; `src`'s is gathered. Panics on a bad index; see
        /// [`Tensor::try_scatter`].
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let out = Tensor::zeros(&[3]).scatter(0, &Tensor::new([2, 0]), &Tensor::new([5.0, 6.0]));
        /// assert_eq!(out.to_vec::<f32>(), vec![6.0, 0.0, 5.0]);
        /// ```
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// assert!(Tensor::zeros(&[3]).try_scatter(0, &Tensor::new([5]), &Tensor::ones(&[1])).is_err());
        /// ```
        pub fn scatter / try_scatter(&self, dim: isize, index: &Tensor, src: &Tensor) -> Tensor {
            let map = self.scatter_map("scatter", dim, index, Some(src))?;
            let src = src.leading_block(index.shape())?;
            let written = raw::try_put(
                &Tensor::full_with(self.shape(), 0.0, DType::Bool),
                &Tensor::full_with(src.shape(), 1.0, DType::Bool),
                |p, d| map(p, d),
                false,
            )?;
            let kept = self.try_masked_fill(&written, 0.0)?;
            // Each overwritten place receives exactly one src value (the last), as `put` does.
            let placed = place(&src, self.shape(), map);
            super::named(kept.try_add(&placed), "ScatterBackward0")
        }

        /// A copy of `self` with the slices of `src` added at positions `index` along `dim`
        /// (`Tensor.index_add`). Panics on a bad index; see [`Tensor::try_index_add`].
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let out = Tensor::zeros(&[3]).index_add(0, &Tensor::new([1, 1]), &Tensor::new([1.0, 2.0]));
        /// assert_eq!(out.to_vec::<f32>(), vec![0.0, 3.0, 0.0]);
        /// ```
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// assert!(Tensor::zeros(&[3]).try_index_add(0, &Tensor::new([1]), &Tensor::ones(&[2])).is_err());
        /// ```
        pub fn index_add / try_index_add(&self, dim: isize, index: &Tensor, src: &Tensor) -> Tensor {
            let d = normalize_dim("index_add", dim, self.dim().max(1))?;
            let size = self.shape().get(d).copied().unwrap_or(1);
            let idx = Arc::new(raw::index_values("index_add", index, size)?);
            let mut expected = self.shape_vec();
            if !expected.is_empty() {
                expected[d] = idx.len();
            }
            if src.shape() != expected.as_slice() {
                return Err(Error::invalid(
                    "index_add",
                    format!(
                        "source shape {:?} must be {:?}",
                        src.shape(),
                        expected.as_slice()
                    ),
                ));
            }
            let map: IndexMap = Arc::new(move |p, s| {
                s.copy_from_slice(p);
                if !s.is_empty() {
                    s[d] = idx[p[d]];
                }
            });
            super::named(self.try_add(&put_add(src, self.shape(), map)), "IndexAddBackward0")
        }

        /// The elements where `mask` (bool, broadcast with `self`) is true, as a 1-d tensor.
        /// Panics on a bad mask; see [`Tensor::try_masked_select`].
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let x = Tensor::new([1.0, 2.0, 3.0]);
        /// assert_eq!(x.masked_select(&Tensor::new([true, false, true])).to_vec::<f32>(), vec![1.0, 3.0]);
        /// ```
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// assert!(Tensor::zeros(&[3]).try_masked_select(&Tensor::ones(&[3])).is_err());
        /// ```
        pub fn masked_select / try_masked_select(&self, mask: &Tensor) -> Tensor {
            if mask.dtype() != DType::Bool {
                return Err(Error::invalid(
                    "masked_select",
                    format!(
                        "masked_select: expected BoolTensor for mask, got {}",
                        mask.dtype()
                    ),
                ));
            }
            let shape = crate::layout::broadcast("masked_select", self.shape(), mask.shape())?;
            let x = self.try_expand(&shape)?;
            let m = mask.expand(&shape).contiguous_vec::<bool>();
            let picks: Vec<usize> = m
                .iter()
                .enumerate()
                .filter(|(_, &b)| b)
                .map(|(i, _)| i)
                .collect();
            let n = picks.len();
            let full = shape.clone();
            let map: IndexMap = Arc::new(move |p, s| {
                let mut flat = picks[p[0]];
                for k in (0..s.len()).rev() {
                    s[k] = flat % full[k];
                    flat /= full[k];
                }
            });
            Ok(take("MaskedSelectBackward0", &x, &[n], map))
        }
    }
}

api! {
    INDEX_LISTS = impl<T: Borrow<Tensor> = Tensor> Tensor {
        /// Concatenation along `dim` (dtypes promoted; all other dimensions must agree).
        /// Panics on mismatched shapes or an empty list; see [`Tensor::try_cat`].
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let c = Tensor::cat(&[Tensor::ones(&[1, 2]), Tensor::zeros(&[2, 2])], 0);
        /// assert_eq!(c.shape(), &[3, 2]);
        /// ```
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let e = Tensor::try_cat(&[Tensor::ones(&[1, 2]), Tensor::zeros(&[1, 3])], 0).unwrap_err();
        /// assert!(e.to_string().contains("Sizes of tensors must match except in dimension 0"));
        /// ```
        pub fn cat / try_cat(tensors: &[T], dim: isize = 0) -> Tensor {
            let ts: Vec<&Tensor> = tensors.iter().map(|t| t.borrow()).collect();
            let first = ts
                .first()
                .ok_or_else(|| Error::invalid("cat", "expected a non-empty list of Tensors"))?;
            let d = normalize_dim("cat", dim, first.dim().max(1))?;
            if first.dim() == 0 {
                return Err(Error::invalid(
                    "cat",
                    "zero-dimensional tensor cannot be concatenated",
                ));
            }
            let mut dtype = first.dtype();
            let mut total = 0;
            for (i, t) in ts.iter().enumerate() {
                let ok = t.dim() == first.dim()
                    && (0..t.dim()).all(|k| k == d || t.shape()[k] == first.shape()[k]);
                if !ok {
                    return Err(Error::invalid(
                        "cat",
                        format!(
                            "Sizes of tensors must match except in dimension {d}. Expected {:?} but got {:?} for tensor number {i} in the list.",
                            first.shape(),
                            t.shape()
                        ),
                    ));
                }
                dtype = dtype.promote(t.dtype());
                total = t.shape()[d]
                    .checked_add(total)
                    .ok_or_else(|| Error::invalid("cat", "numel: integer multiplication overflow"))?;
            }
            let mut shape: Shape = first.shape_vec();
            shape[d] = total;
            crate::layout::check_alloc("cat", &shape, crate::storage::elem_size(dtype))?;
            let mut start = 0;
            let lens = ts.iter().map(|t| {
                start += t.shape()[d];
                (start - t.shape()[d], t.shape()[d])
            });
            let lens = lens.collect();
            structural(Cat { dim: d, lens, dtype, shape }, &ts)
        }

        /// Stacks equally shaped tensors along a new dimension `dim`.
        /// Panics on mismatched shapes or an empty list; see [`Tensor::try_stack`].
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let s = Tensor::stack(&[Tensor::ones(&[2]), Tensor::zeros(&[2])], 1);
        /// assert_eq!(s.shape(), &[2, 2]);
        /// ```
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// assert!(Tensor::try_stack(&[Tensor::ones(&[2]), Tensor::zeros(&[3])], 0).is_err());
        /// ```
        pub fn stack / try_stack(tensors: &[T], dim: isize = 0) -> Tensor {
            let ts: Vec<&Tensor> = tensors.iter().map(|t| t.borrow()).collect();
            let first = ts
                .first()
                .ok_or_else(|| Error::invalid("stack", "expects a non-empty TensorList"))?;
            if let Some(t) = ts.iter().find(|t| t.shape() != first.shape()) {
                return Err(Error::invalid(
                    "stack",
                    format!(
                        "stack expects each tensor to be equal size, but got {:?} at entry 0 and {:?}",
                        first.shape(),
                        t.shape()
                    ),
                ));
            }
            let d = normalize_dim("stack", dim, first.dim() + 1)?;
            let parts: Vec<Tensor> = ts
                .iter()
                .map(|t| t.try_unsqueeze(d as isize))
                .collect::<Result<_>>()?;
            super::named(Tensor::try_cat(&parts, d as isize), "StackBackward0")
        }
    }
}

impl Tensor {
    /// The pieces of `sizes` along `d` (which must add up to its size), as views named `name`
    /// (PyTorch's node of `split` or `split_with_sizes`).
    fn pieces(&self, sizes: &[usize], d: usize, name: &'static str) -> Result<Vec<Tensor>> {
        let size = self.shape().get(d).copied().unwrap_or(0);
        let total = sizes.iter().try_fold(0usize, |a, &s| a.checked_add(s));
        if total != Some(size) {
            return Err(Error::invalid(
                "split",
                format!("split sizes {sizes:?} must sum to the size of dim {d} ({size})"),
            ));
        }
        let mut start = 0;
        sizes
            .iter()
            .map(|&len| {
                let t = self.try_narrow(d as isize, start, len);
                start += len;
                super::named(t, name)
            })
            .collect()
    }
}

impl Tensor {
    /// The index map shared by gather and the scatters: position `p` of `index` goes to `p` with
    /// its `dim` coordinate replaced by `index[p]`.
    fn scatter_map(
        &self,
        op: &'static str,
        dim: isize,
        index: &Tensor,
        src: Option<&Tensor>,
    ) -> Result<IndexMap> {
        let d = normalize_dim(op, dim, self.dim().max(1))?;
        let rank_ok = index.dim() == self.dim().max(1) || (self.dim() == 0 && index.dim() <= 1);
        let sizes_ok = (0..index.dim())
            .all(|k| k == d || index.shape()[k] <= self.shape().get(k).copied().unwrap_or(1))
            && src.is_none_or(|s| {
                s.dim() == index.dim() && (0..index.dim()).all(|k| index.shape()[k] <= s.shape()[k])
            });
        if !rank_ok || !sizes_ok {
            return Err(Error::invalid(
                op,
                format!(
                    "Index tensor must have the same number of dimensions as input tensor and no larger sizes outside dim {d} (input {:?}, index {:?}{})",
                    self.shape(),
                    index.shape(),
                    src.map_or(String::new(), |s| format!(", src {:?}", s.shape()))
                ),
            ));
        }
        let size = self.shape().get(d).copied().unwrap_or(1);
        let idx = raw::index_values(op, index, size)?;
        let ishape = index.shape_vec();
        Ok(Arc::new(move |p, s| {
            s.copy_from_slice(&p[..s.len()]);
            if !s.is_empty() {
                s[d] = idx[flat_position(&ishape, p)];
            }
        }))
    }

    /// `self` narrowed to the leading `shape` block (for scatter's `src`, which may be larger
    /// than the index).
    fn leading_block(&self, shape: &[usize]) -> Result<Tensor> {
        let mut t = self.clone();
        for (k, &n) in shape.iter().enumerate() {
            if t.shape()[k] != n {
                t = t.try_narrow(k as isize, 0, n)?;
            }
        }
        Ok(t)
    }
}
