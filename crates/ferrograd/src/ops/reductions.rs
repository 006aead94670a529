//! Reductions beyond sum and mean: max/min (values and indices), amax/amin, argmax/argmin,
//! var/std, p-norms, logsumexp, cumsum/cumprod, prod, all/any. Every one takes dims (negative
//! allowed; empty means all) and `keepdim` where PyTorch does.
//!
//! The primitives (amax/amin/max/min, cumsum, cumprod) are declared with the reduction form of
//! [`super::reduce`] (one `impl Reduce` each: node name, forward, saved handles, backward and
//! JVP rules); the rest are composites of primitives and need no rule.

use super::index::{take, IndexMap};
use super::reduce::{reduce, Dims, Over, Reduce};
use crate::autograd::node::{BackwardArgs, SavedTensor, Saver};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::forward_ad::Jvp;
use crate::layout::Shape;
use crate::raw;
use crate::storage::Buffer;
use crate::tensor::Tensor;
use smallvec::SmallVec;
use std::sync::Arc;

use super::{reduce_mask as mask_of, reduced_count, reduced_shape};

/// An empty reduction without an identity (max of nothing) is an error, with PyTorch's
/// message: `max()`/`argmax()` without a dim ask for one, others name the empty dim.
fn check_nonempty(op: &'static str, x: &Tensor, mask: &[bool], dim_given: bool) -> Result<()> {
    let empty = x.shape().iter().zip(mask).position(|(&d, &m)| m && d == 0);
    if let Some(d) = empty {
        let name = match op {
            "max" => "max()",
            "min" => "min()",
            "amax" => "amax()",
            "amin" => "amin()",
            "argmax" => "argmax()",
            "argmin" => "argmin()",
            _ => op,
        };
        let msg = match (dim_given, op) {
            (false, "max" | "min" | "amax" | "amin") => "Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.".to_string(),
            (false, "argmax" | "argmin") => "Expected reduction dim to be specified for input.numel() == 0.".to_string(),
            _ => format!("Expected reduction dim {d} to have non-zero size."),
        };
        return Err(Error::invalid(name, msg));
    }
    Ok(())
}

/// Where `x` attains the extreme `y`. For `max()`/`min()` of the whole tensor a NaN result is
/// attained at the NaNs (PyTorch's `evenly_distribute_backward` routes the gradient there);
/// amax/amin keep `x == y` (no element equals NaN: the gradient is NaN, as in PyTorch).
fn ties(x: &Tensor, y: &Tensor, name: &str) -> Tensor {
    let hits = x.eq(y);
    if name == "MaxBackward1" || name == "MinBackward1" {
        hits.logical_or(&x.ne(x).logical_and(&y.ne(y)))
    } else {
        hits
    }
}

/// Per row: the extreme value (NaN wins, as in PyTorch) and the index of its first occurrence.
fn extremes(values: &[f64], row: usize, max: bool) -> Vec<(f64, usize)> {
    values
        .chunks(row.max(1))
        .map(|r| {
            let mut best = (r[0], 0);
            for (i, &v) in r.iter().enumerate().skip(1) {
                if best.0.is_nan() {
                    break;
                }
                if v.is_nan() || (max && v > best.0) || (!max && v < best.0) {
                    best = (v, i);
                }
            }
            best
        })
        .collect()
}

/// amax/amin (`max()`/`min()` of the whole tensor too): the extreme over the reduced dims, its
/// gradient shared equally among the ties.
#[derive(Clone, Copy)]
struct Extreme {
    op: &'static str,
    name: &'static str,
    max: bool,
}

impl Reduce for Extreme {
    type Saved = (SavedTensor, SavedTensor);
    fn op(self) -> &'static str {
        self.op
    }
    fn name(self, _: &Over) -> &'static str {
        self.name
    }
    fn check(self, x: &Tensor, over: &Over) -> Result<()> {
        let given = over.given && !matches!(self.op, "max" | "min");
        check_nonempty(self.op, x, &over.mask, given)
    }
    fn forward(self, x: &Tensor, over: &Over) -> Result<Tensor> {
        let (values, row) = raw::rows(x, &over.mask)?;
        let best = extremes(&values, row, self.max).into_iter().map(|b| b.0);
        Ok(Tensor::from_buffer(
            Buffer::from_f64s(x.dtype(), best.collect::<Vec<_>>().into_iter()),
            &over.out,
        ))
    }
    fn save(self, s: &mut Saver, x: &Tensor) -> Self::Saved {
        (s.save(x), s.save_output())
    }
    fn backward(self, a: &BackwardArgs, &(x, y): &Self::Saved, g: &Tensor, over: &Over) -> Tensor {
        // PyTorch: grad / count * (x == result), shared among ties.
        let (x, y) = (&a[x], over.keep(&a[y]));
        let hits = ties(x, &y, self.name).to_dtype(x.dtype());
        let count = hits.sum_dims(&over.idims(), true);
        &(g / &count) * &hits
    }
    fn jvp(self, j: &Jvp, t: &Tensor, over: &Over) -> Tensor {
        // The mean of the tangent over the ties.
        let x = j.x(0);
        let hits = ties(x, &over.keep(j.out()), self.name).to_dtype(x.dtype());
        let count = hits.sum_dims(&over.idims(), true);
        let t = t * &hits;
        let s = if over.dims.is_empty() {
            t
        } else {
            t.sum_dims(&j.dims(&over.dims), true)
        };
        (&s / &count).reshape(&j.shape(j.out().shape()))
    }
}

/// `cumsum` and `cumprod` along one dim; cumprod's rules are exact with zeros (no division).
#[derive(Clone, Copy)]
struct Cumulative {
    product: bool,
}

impl Reduce for Cumulative {
    type Saved = Option<SavedTensor>;
    fn op(self) -> &'static str {
        if self.product {
            "cumprod"
        } else {
            "cumsum"
        }
    }
    fn name(self, _: &Over) -> &'static str {
        if self.product {
            "CumprodBackward0"
        } else {
            "CumsumBackward0"
        }
    }
    fn forward(self, x: &Tensor, over: &Over) -> Result<Tensor> {
        raw::cumulative(x, over.dims[0], self.product)
    }
    fn save(self, s: &mut Saver, x: &Tensor) -> Self::Saved {
        self.product.then(|| s.save(x))
    }
    fn backward(self, a: &BackwardArgs, x: &Self::Saved, g: &Tensor, over: &Over) -> Tensor {
        let d = over.dims[0];
        match x {
            Some(x) => cumprod_backward(&a[*x], g, d),
            None => {
                let di = d as isize;
                g.flip(&[di]).cumsum(di).flip(&[di])
            }
        }
    }
    fn jvp(self, j: &Jvp, t: &Tensor, over: &Over) -> Tensor {
        let d = over.dims[0];
        if self.product {
            cumprod_jvp(j.x(0), j.out(), t, d, j.b())
        } else {
            t.cumsum(j.dim(d))
        }
    }
}

impl Tensor {
    fn extreme(
        &self,
        op: &'static str,
        name: &'static str,
        dims: &[isize],
        keepdim: bool,
        max: bool,
    ) -> Result<Tensor> {
        reduce(Extreme { op, name, max }, self, Dims::List(dims, keepdim))
    }

    fn aminmax_impl(&self, dim: Option<isize>, keepdim: bool) -> Result<(Tensor, Tensor)> {
        let dims: &[isize] = match &dim {
            None if self.numel() == 0 => {
                return Err(Error::invalid(
                    "aminmax",
                    "aminmax(): cannot compute aminmax over an empty dimension as the operation has no identity.",
                ))
            }
            None => &[],
            Some(d) => std::slice::from_ref(d),
        };
        if let Some(d) = dim {
            let n = super::normalize_dim("aminmax", d, self.dim().max(1))?;
            if self.dim() > 0 && self.shape()[n] == 0 {
                return Err(Error::invalid(
                    "aminmax",
                    format!("aminmax: Expected reduction dim {n} to have non-zero size."),
                ));
            }
        }
        Ok((
            self.extreme("aminmax", "AminmaxBackward0", dims, keepdim, false)?,
            self.extreme("aminmax", "AminmaxBackward0", dims, keepdim, true)?,
        ))
    }

    fn cumulative(&self, dim: isize, product: bool) -> Result<Tensor> {
        let x = self.to_exact();
        if x.dim() == 0 {
            return Ok(x.deep_clone());
        }
        reduce(Cumulative { product }, &x, Dims::Along(dim))
    }

    fn extreme_dim(
        &self,
        op: &'static str,
        name: &'static str,
        dim: isize,
        keepdim: bool,
        max: bool,
    ) -> Result<(Tensor, Tensor)> {
        let indices = self.arg_extreme(op, Some(dim), true, max)?;
        let d = if self.dim() == 0 {
            0
        } else {
            super::normalize_dim(op, dim, self.dim())?
        };
        if self.is_batched() && self.dim() > 0 {
            // The batching rule: each member's indices differ, so the values are selected by
            // a one-hot mask (gradient to the chosen index, as the index map gives) in ops
            // that batch.
            let n = self.shape()[d];
            let mut s = vec![1; self.dim()];
            s[d] = n;
            let at = Tensor::from_vec((0..n as i64).collect::<Vec<_>>(), &s);
            let miss = indices.try_ne(&at)?;
            let values = self
                .try_masked_fill(&miss, 0.0)?
                .try_sum_dims(&[d as isize], true)?;
            return match keepdim {
                true => Ok((values, indices)),
                false => Ok((
                    values.try_squeeze(d as isize)?,
                    indices.try_squeeze(d as isize)?,
                )),
            };
        }
        let idx: Arc<Vec<usize>> = Arc::new(
            indices
                .contiguous_vec::<i64>()
                .into_iter()
                .map(|i| i as usize)
                .collect(),
        );
        let kept = indices.shape_vec();
        let kshape = kept.clone();
        let map: IndexMap = Arc::new(move |p, s| {
            s.copy_from_slice(p);
            if !s.is_empty() {
                let flat = p
                    .iter()
                    .zip(kshape.iter())
                    .fold(0, |acc, (&i, &n)| acc * n + i);
                s[d] = idx[flat];
            }
        });
        let values = take(name, self, &kept, map);
        if keepdim || self.dim() == 0 {
            Ok((values, indices))
        } else {
            Ok((
                crate::autograd::relabel(values.try_squeeze(d as isize)?, name),
                indices.try_squeeze(d as isize)?,
            ))
        }
    }

    fn arg_extreme(
        &self,
        op: &'static str,
        dim: Option<isize>,
        keepdim: bool,
        max: bool,
    ) -> Result<Tensor> {
        let dims: Vec<isize> = dim.into_iter().collect();
        let mask = mask_of(op, self, &dims)?;
        check_nonempty(op, self, &mask, dim.is_some())?;
        if let Some((level, p)) = self.batch() {
            // The batching rule: the dim shifts past the batch; all dims are one flat row.
            let shape: Vec<usize> = match (dim, keepdim) {
                (None, false) => Vec::new(),
                (None, true) => vec![1; self.dim()],
                (Some(_), _) => reduced_shape(self, &mask, keepdim).to_vec(),
            };
            let y = crate::autograd::levels::physically(|| {
                let b = p.shape()[0];
                let i = match dim {
                    Some(_) if self.dim() > 0 => {
                        let d = mask.iter().position(|&m| m).expect("one dim") as isize;
                        p.arg_extreme(op, Some(d + 1), keepdim, max)?
                    }
                    _ => p
                        .try_reshape(&[b, self.numel()])?
                        .arg_extreme(op, Some(1), false, max)?,
                };
                i.try_reshape(&[&[b][..], &shape[..]].concat())
            })?;
            return Ok(crate::batching::wrap(y, level));
        }
        let (values, row) = raw::rows(self, &mask)?;
        let idx = extremes(&values, row, max).into_iter().map(|b| b.1 as f64);
        let shape = if dim.is_none() && !keepdim {
            Shape::new()
        } else if dim.is_none() {
            SmallVec::from_elem(1, self.dim())
        } else {
            reduced_shape(self, &mask, keepdim)
        };
        Ok(Tensor::from_buffer(
            Buffer::from_f64s(DType::I64, idx.collect::<Vec<_>>().into_iter()),
            &shape,
        ))
    }

    fn var_impl(&self, dims: &[isize], correction: f64, keepdim: bool) -> Result<Tensor> {
        let mask = mask_of("var", self, dims)?;
        let all: Vec<isize> = (0..self.dim())
            .filter(|&d| mask[d])
            .map(|d| d as isize)
            .collect();
        let n = reduced_count(self, &mask);
        let x = self.to_float();
        let centered = &x - &x.try_mean_dims(&all, true)?;
        let ss = centered.square().try_sum_dims(&all, keepdim)?;
        Ok(ss.div_scalar((n as f64 - correction).max(0.0)))
    }

    fn norm_impl(&self, p: f64, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        let x = self.to_float().abs();
        if p == f64::INFINITY {
            return x.try_amax(dims, keepdim);
        }
        if p == f64::NEG_INFINITY {
            return x.try_amin(dims, keepdim);
        }
        if p == 0.0 {
            // The count of nonzeros, its (zero) gradient connected to x as in PyTorch: x with
            // every element masked to 0 is exactly 0 (NaN and inf too).
            let count = x.ne_scalar(0.0).to_dtype(x.dtype());
            let all = Tensor::full_with(x.shape(), 1.0, crate::DType::Bool);
            let zero = x.try_masked_fill(&all, 0.0)?;
            return count.try_add(&zero)?.try_sum_dims(dims, keepdim);
        }
        if p == 1.0 {
            return x.try_sum_dims(dims, keepdim);
        }
        // For p < 1, |x|^p has an infinite slope at 0: PyTorch masks it to 0 there. An even
        // integer power needs no abs: x^p is smooth at x == 0 to every order, while |x|^p
        // through abs (whose derivative is 0 at 0) loses the p-th derivative there.
        let xp = if p < 1.0 {
            let zero = x.eq_scalar(0.0);
            let safe = Tensor::where_(&zero, &x.ones_like(), &x);
            Tensor::where_(&zero, &x.detach().pow(p), &safe.pow(p))
        } else if p.fract() == 0.0 && (p / 2.0).fract() == 0.0 {
            self.to_float().pow(p)
        } else {
            x.pow(p)
        };
        let s = xp.try_sum_dims(dims, keepdim)?;
        Ok(safe_root(&s, 1.0 / p))
    }

    fn logsumexp_impl(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        let x = self.to_float();
        let mask = mask_of("logsumexp", &x, dims)?;
        if x.numel() == 0 {
            return Ok(x.exp().try_sum_dims(dims, keepdim)?.log());
        }
        let all: Vec<isize> = (0..x.dim())
            .filter(|&d| mask[d])
            .map(|d| d as isize)
            .collect();
        // The shift is a constant (no graph); infinite maxima shift by 0.
        let m = x.detach().try_amax(&all, true)?;
        let m = m.masked_fill(&m.abs().eq_scalar(f64::INFINITY), 0.0);
        let s = (&x - &m).exp().try_sum_dims(&all, true)?.log();
        let out = &s + &m;
        if keepdim {
            Ok(out)
        } else {
            out.try_reshape(&reduced_shape(&x, &mask, false))
        }
    }

    fn prod_impl(&self) -> Tensor {
        let x = self.to_exact();
        if x.numel() == 0 {
            // 1, still connected to the graph (with an empty gradient), as in PyTorch.
            return x.sum().mul_scalar(0.0).add_scalar(1.0);
        }
        x.flatten(0, -1).cumprod(0).select(0, -1)
    }

    fn prod_dim_impl(&self, dim: isize, keepdim: bool) -> Result<Tensor> {
        let x = self.to_exact();
        if x.dim() == 0 {
            return Ok(x);
        }
        let d = super::normalize_dim("prod", dim, x.dim())?;
        let out = if x.shape()[d] == 0 {
            x.try_sum_dims(&[d as isize], true)?
                .mul_scalar(0.0)
                .add_scalar(1.0)
        } else {
            x.try_cumprod(d as isize)?
                .try_narrow(d as isize, x.shape()[d] - 1, 1)?
        };
        if keepdim {
            Ok(out)
        } else {
            out.try_squeeze(d as isize)
        }
    }
}

api! {
    REDUCTIONS_OPS = impl Tensor {
        /// Maximum over `dim` (a list; empty: all), gradient shared equally among ties
        /// (`torch.amax`).
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([[1.0, 5.0], [7.0, 2.0]]);
        /// assert_eq!(x.amax(&[1], false).to_vec::<f32>(), vec![5.0, 7.0]);
        /// assert_eq!(x.amax(&[], false).item(), 7.0);
        /// assert!(ferrograd::Tensor::zeros(&[0]).try_amax(&[0], false).is_err());
        /// ```
        pub fn amax / try_amax(&self, dim: &[isize] = &[], keepdim: bool = false) -> Tensor {
            self.extreme("amax", "AmaxBackward0", dim, keepdim, true)
        }

        /// Minimum over `dim` (a list; empty: all), gradient shared equally among ties
        /// (`torch.amin`).
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([[1.0, 5.0], [7.0, 2.0]]);
        /// assert_eq!(x.amin(&[0], true).to_vec::<f32>(), vec![1.0, 2.0]);
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_amin(&[1], false).is_err());
        /// ```
        pub fn amin / try_amin(&self, dim: &[isize] = &[], keepdim: bool = false) -> Tensor {
            self.extreme("amin", "AminBackward0", dim, keepdim, false)
        }

        /// The largest element (`torch.max(x)`), gradient shared equally among ties; an empty
        /// tensor is an error.
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::new([1.0, 3.0]).max().item(), 3.0);
        /// assert!(ferrograd::Tensor::zeros(&[0]).try_max().is_err());
        /// ```
        pub fn max / try_max(&self) -> Tensor {
            self.extreme("max", "MaxBackward1", &[], false, true)
        }

        /// The smallest element (`torch.min(x)`), gradient shared equally among ties; an
        /// empty tensor is an error.
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::new([1.0, 3.0]).min().item(), 1.0);
        /// assert!(ferrograd::Tensor::zeros(&[0]).try_min().is_err());
        /// ```
        pub fn min / try_min(&self) -> Tensor {
            self.extreme("min", "MinBackward1", &[], false, false)
        }

        /// Maximum along `dim` with the index of its first occurrence (`torch.max(x, dim)`);
        /// the gradient goes to that element. A bad or empty dim is an error.
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([[1.0, 5.0], [7.0, 2.0]]);
        /// let (values, indices) = x.max_dim(1, false);
        /// assert_eq!(values.to_vec::<f32>(), vec![5.0, 7.0]);
        /// assert_eq!(indices.to_vec::<i64>(), vec![1, 0]);
        /// assert!(ferrograd::Tensor::zeros(&[2, 0]).try_max_dim(1, false).is_err());
        /// ```
        pub fn max_dim / try_max_dim(&self, dim: isize, keepdim: bool = false) -> (Tensor, Tensor) {
            self.extreme_dim("max", "MaxBackward0", dim, keepdim, true)
        }

        /// Minimum along `dim` with the index of its first occurrence (`torch.min(x, dim)`).
        /// A bad or empty dim is an error.
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([[1.0, 5.0], [7.0, 2.0]]);
        /// assert_eq!(x.min_dim(0, false).1.to_vec::<i64>(), vec![0, 1]);
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_min_dim(3, false).is_err());
        /// ```
        pub fn min_dim / try_min_dim(&self, dim: isize, keepdim: bool = false) -> (Tensor, Tensor) {
            self.extreme_dim("min", "MinBackward0", dim, keepdim, false)
        }

        /// Index of the first maximum along `dim` (`None`: of the flattened tensor), as int64.
        /// A bad or empty dim is an error.
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([[1.0, 5.0], [7.0, 2.0]]);
        /// assert_eq!(x.argmax(None, false).item(), 2.0);
        /// assert_eq!(x.argmax(Some(1), false).to_vec::<i64>(), vec![1, 0]);
        /// assert!(ferrograd::Tensor::zeros(&[0]).try_argmax(None, false).is_err());
        /// ```
        pub fn argmax / try_argmax(&self, dim: Option<isize> = None, keepdim: bool = false) -> Tensor {
            self.arg_extreme("argmax", dim, keepdim, true)
        }

        /// Index of the first minimum along `dim` (`None`: of the flattened tensor), as int64.
        /// A bad or empty dim is an error.
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([3.0, 1.0, 1.0]);
        /// assert_eq!(x.argmin(None, false).item(), 1.0);
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_argmin(Some(1), false).is_err());
        /// ```
        pub fn argmin / try_argmin(&self, dim: Option<isize> = None, keepdim: bool = false) -> Tensor {
            self.arg_extreme("argmin", dim, keepdim, false)
        }

        /// Variance over `dim` (a list; empty: all) with `correction` (1: unbiased, as
        /// PyTorch's default).
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([1.0, 2.0, 3.0, 4.0]);
        /// assert_eq!(x.var(&[], 1.0, false).item() as f32, 5.0 / 3.0);
        /// assert_eq!(x.var(&[], 0.0, false).item(), 1.25);
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_var(&[1], 1.0, false).is_err());
        /// ```
        pub fn var / try_var(&self, dim: &[isize] = &[], correction: f64 = 1.0, keepdim: bool = false) -> Tensor {
            super::named(self.var_impl(dim, correction, keepdim), "VarBackward0")
        }

        /// Standard deviation over `dim` with `correction`; its gradient is 0 where it is 0
        /// (as in PyTorch).
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        /// assert_eq!(x.std(&[], 0.0, false).item(), 2.0);
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_std(&[2], 1.0, false).is_err());
        /// ```
        pub fn std / try_std(&self, dim: &[isize] = &[], correction: f64 = 1.0, keepdim: bool = false) -> Tensor {
            super::named(Ok(safe_root(&self.var_impl(dim, correction, keepdim)?, 0.5)), "StdBackward0")
        }

        /// The variance and the mean over `dim` (a list; empty: all), as `(var, mean)`
        /// (`torch.var_mean`; `correction` as [`Tensor::var`]).
        ///
        /// ```
        /// let (v, m) = ferrograd::Tensor::new([1.0, 2.0, 3.0, 4.0]).var_mean(&[], 0.0, false);
        /// assert_eq!((v.item(), m.item()), (1.25, 2.5));
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_var_mean(&[1], 1.0, false).is_err());
        /// ```
        pub fn var_mean / try_var_mean(&self, dim: &[isize] = &[], correction: f64 = 1.0, keepdim: bool = false) -> (Tensor, Tensor) {
            let (var, mean) = (self.var_impl(dim, correction, keepdim)?, self.to_float().try_mean_dims(dim, keepdim)?);
            Ok((crate::autograd::relabel(var, "VarMeanBackward0"), crate::autograd::relabel(mean, "VarMeanBackward0")))
        }

        /// The standard deviation and the mean over `dim`, as `(std, mean)`
        /// (`torch.std_mean`; `correction` as [`Tensor::var`]).
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        /// let (s, m) = x.std_mean(&[], 0.0, false);
        /// assert_eq!((s.item(), m.item()), (2.0, 5.0));
        /// ```
        pub fn std_mean / try_std_mean(&self, dim: &[isize] = &[], correction: f64 = 1.0, keepdim: bool = false) -> (Tensor, Tensor) {
            let (var, mean) = self.try_var_mean(dim, correction, keepdim)?;
            let name = "StdMeanBackward0";
            Ok((crate::autograd::relabel(safe_root(&var, 0.5), name), crate::autograd::relabel(mean, name)))
        }

        /// The minimum and the maximum over `dim` (all elements when `None`), as
        /// `(min, max)` (`torch.aminmax`); each gradient shared equally among its ties, as
        /// [`Tensor::amin`] and [`Tensor::amax`]. Errors on an empty reduction (there is no
        /// identity) and a bad dim.
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([[1.0, 5.0], [7.0, 2.0]]);
        /// let (lo, hi) = x.aminmax(Some(1), false);
        /// assert_eq!((lo.to_vec::<f32>(), hi.to_vec::<f32>()), (vec![1.0, 2.0], vec![5.0, 7.0]));
        /// let (lo, hi) = x.aminmax(None, false);
        /// assert_eq!((lo.item(), hi.item()), (1.0, 7.0));
        /// assert!(ferrograd::Tensor::zeros(&[0]).try_aminmax(None, false).is_err());
        /// ```
        pub fn aminmax / try_aminmax(&self, dim: Option<isize> = None, keepdim: bool = false) -> (Tensor, Tensor) {
            self.aminmax_impl(dim, keepdim)
        }

        /// The p-norm over `dim` (a list; empty: all): `p` = 2 (Euclidean/Frobenius), 1,
        /// `f64::INFINITY`, `f64::NEG_INFINITY`, 0 (count of non-zeros) or any other `p`. The
        /// gradient at a zero norm is 0, as in PyTorch.
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([[3.0, -4.0], [0.0, 0.0]]);
        /// assert_eq!(x.norm_dims(2.0, &[1], false).to_vec::<f32>(), vec![5.0, 0.0]);
        /// assert_eq!(x.norm_dims(1.0, &[], false).item(), 7.0);
        /// assert_eq!(x.norm_dims(f64::INFINITY, &[], false).item(), 4.0);
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_norm_dims(2.0, &[1], false).is_err());
        /// ```
        pub fn norm_dims / try_norm_dims(&self, p: f64 = 2.0, dim: &[isize] = &[], keepdim: bool = false) -> Tensor {
            super::named(self.norm_impl(p, dim, keepdim), "LinalgVectorNormBackward0")
        }

        /// `log(sum(exp(x)))` over `dim` (a list; empty: all), computed stably (shifted by the
        /// maximum); `-inf` for all `-inf` inputs.
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([1000.0, 1000.0]);
        /// assert_eq!(x.logsumexp(&[0], false).item() as f32, 1000.0 + 2f32.ln());
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_logsumexp(&[1], false).is_err());
        /// ```
        pub fn logsumexp / try_logsumexp(&self, dim: &[isize], keepdim: bool = false) -> Tensor {
            super::named(self.logsumexp_impl(dim, keepdim), "LogsumexpBackward0")
        }

        /// Running sum along `dim`.
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::new([1.0, 2.0, 3.0]).cumsum(0).to_vec::<f32>(), vec![1.0, 3.0, 6.0]);
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_cumsum(1).is_err());
        /// ```
        pub fn cumsum / try_cumsum(&self, dim: isize) -> Tensor {
            self.cumulative(dim, false)
        }

        /// Running product along `dim`; its gradient is exact with zeros in the input (no
        /// division).
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::new([1.0, 2.0, 3.0]).cumprod(0).to_vec::<f32>(), vec![1.0, 2.0, 6.0]);
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_cumprod(-2).is_err());
        /// ```
        pub fn cumprod / try_cumprod(&self, dim: isize) -> Tensor {
            self.cumulative(dim, true)
        }

        /// Product of all elements (1 for an empty tensor); exact gradients with zeros.
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::new([2.0, 0.0, 3.0]).prod().item(), 0.0);
        /// ```
        pub fn prod(&self) -> Tensor {
            crate::autograd::relabel(self.prod_impl(), "ProdBackward0")
        }

        /// Product along `dim`.
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
        /// assert_eq!(x.prod_dim(1, false).to_vec::<f32>(), vec![2.0, 12.0]);
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_prod_dim(1, false).is_err());
        /// ```
        pub fn prod_dim / try_prod_dim(&self, dim: isize, keepdim: bool = false) -> Tensor {
            super::named(self.prod_dim_impl(dim, keepdim), "ProdBackward1")
        }

        /// Whether every element is non-zero, over `dim` (a list; empty: all), as bool.
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::new([true, false]).all(&[], false).to_vec::<bool>(), vec![false]);
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_all(&[1], false).is_err());
        /// ```
        pub fn all / try_all(&self, dim: &[isize] = &[], keepdim: bool = false) -> Tensor {
            let zeros = self.eq_scalar(0.0).try_sum_dims(dim, keepdim)?;
            Ok(zeros.eq_scalar(0.0))
        }

        /// Whether any element is non-zero, over `dim` (a list; empty: all), as bool.
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::new([0.0, 2.0]).any(&[], false).to_vec::<bool>(), vec![true]);
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_any(&[1], false).is_err());
        /// ```
        pub fn any / try_any(&self, dim: &[isize] = &[], keepdim: bool = false) -> Tensor {
            let nonzero = self.ne_scalar(0.0).try_sum_dims(dim, keepdim)?;
            Ok(nonzero.ne_scalar(0.0))
        }
    }
}

/// `s ^ power` with a zero gradient where `s == 0` (the double-where idiom): the roots in std and
/// p-norms, whose derivative at 0 PyTorch defines as 0.
fn safe_root(s: &Tensor, power: f64) -> Tensor {
    let zero = s.eq_scalar(0.0);
    let safe = Tensor::where_(&zero, &s.ones_like(), s);
    Tensor::where_(&zero, &s.zeros_like(), &safe.pow(power))
}

/// The tangent of `y = cumprod(x)` along `d` for input tangent `t` (with `b` leading batch
/// dimensions), exact with zeros (no division): the product rule
/// `dy_k = dy_{k-1} x_k + y_{k-1} t_k`, one slice at a time.
fn cumprod_jvp(x: &Tensor, y: &Tensor, t: &Tensor, d: usize, b: usize) -> Tensor {
    let n = x.shape()[d];
    let (di, dt) = (d as isize, (d + b) as isize);
    let mut out: Vec<Tensor> = Vec::with_capacity(n);
    for k in 0..n {
        let tk = t.select(dt, k as isize);
        let next = match out.last() {
            None => tk,
            Some(prev) => {
                let (xk, yp) = (x.select(di, k as isize), y.select(di, k as isize - 1));
                &(prev * &xk) + &(&yp * &tk)
            }
        };
        out.push(next);
    }
    if out.is_empty() {
        return t.clone();
    }
    Tensor::stack(&out, dt)
}

/// The gradient of `cumprod(x)` along `d` for output gradient `g`, exact with zeros:
/// `grad_k = prod_{j<k} x_j * S_k` with `S_k = g_k + x_{k+1} S_{k+1}`, one slice at a time.
fn cumprod_backward(x: &Tensor, g: &Tensor, d: usize) -> Tensor {
    let n = x.shape()[d];
    if n == 0 {
        return g.zeros_like();
    }
    let di = d as isize;
    let xs: Vec<Tensor> = (0..n).map(|k| x.select(di, k as isize)).collect();
    let gs: Vec<Tensor> = (0..n).map(|k| g.select(di, k as isize)).collect();
    let mut s: Vec<Tensor> = vec![gs[n - 1].clone(); n];
    for k in (0..n - 1).rev() {
        s[k] = &gs[k] + &(&xs[k + 1] * &s[k + 1]);
    }
    let mut prefix = xs[0].ones_like();
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        out.push(&prefix * &s[k]);
        prefix = &prefix * &xs[k];
    }
    Tensor::stack(&out, di)
}
