//! Reductions beyond sum and mean: max/min (values and indices), amax/amin, argmax/argmin,
//! var/std, p-norms, logsumexp, cumsum/cumprod, prod, all/any. Every one takes dims (negative
//! allowed; empty means all) and `keepdim` where PyTorch does.

use super::grads;
use super::index::{take, IndexMap};
use crate::autograd::record;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::layout::Shape;
use crate::raw;
use crate::storage::Buffer;
use crate::tensor::Tensor;
use smallvec::SmallVec;
use std::sync::Arc;

use super::{reduce_mask as mask_of, reduced_count, reduced_shape};

fn kept_shape(x: &Tensor, mask: &[bool]) -> Shape {
    reduced_shape(x, mask, true)
}

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

impl Tensor {
    /// Maximum over `dims` (empty: all), gradient shared equally among ties (`torch.amax`).
    /// Panics on bad dims or an empty reduction; see [`Tensor::try_amax`].
    ///
    /// ```
    /// let x = ferrograd::Tensor::new([[1.0, 5.0], [7.0, 2.0]]);
    /// assert_eq!(x.amax(&[1], false).to_vec::<f32>(), vec![5.0, 7.0]);
    /// assert_eq!(x.amax(&[], false).item(), 7.0);
    /// ```
    pub fn amax(&self, dims: &[isize], keepdim: bool) -> Tensor {
        crate::unwrap(self.try_amax(dims, keepdim))
    }

    /// Fallible [`Tensor::amax`].
    ///
    /// ```
    /// assert!(ferrograd::Tensor::zeros(&[0]).try_amax(&[0], false).is_err());
    /// ```
    pub fn try_amax(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        self.extreme("amax", "AmaxBackward0", dims, keepdim, true)
    }

    /// Minimum over `dims` (empty: all), gradient shared equally among ties (`torch.amin`).
    /// Panics on bad dims or an empty reduction; see [`Tensor::try_amin`].
    ///
    /// ```
    /// let x = ferrograd::Tensor::new([[1.0, 5.0], [7.0, 2.0]]);
    /// assert_eq!(x.amin(&[0], true).to_vec::<f32>(), vec![1.0, 2.0]);
    /// ```
    pub fn amin(&self, dims: &[isize], keepdim: bool) -> Tensor {
        crate::unwrap(self.try_amin(dims, keepdim))
    }

    /// Fallible [`Tensor::amin`].
    ///
    /// ```
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_amin(&[1], false).is_err());
    /// ```
    pub fn try_amin(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        self.extreme("amin", "AminBackward0", dims, keepdim, false)
    }

    /// The largest element (`torch.max(x)`), gradient shared equally among ties.
    /// Panics on an empty tensor; see [`Tensor::try_max`].
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([1.0, 3.0]).max().item(), 3.0);
    /// ```
    pub fn max(&self) -> Tensor {
        crate::unwrap(self.try_max())
    }

    /// Fallible [`Tensor::max`].
    ///
    /// ```
    /// assert!(ferrograd::Tensor::zeros(&[0]).try_max().is_err());
    /// ```
    pub fn try_max(&self) -> Result<Tensor> {
        self.extreme("max", "MaxBackward1", &[], false, true)
    }

    /// The smallest element (`torch.min(x)`), gradient shared equally among ties.
    /// Panics on an empty tensor; see [`Tensor::try_min`].
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([1.0, 3.0]).min().item(), 1.0);
    /// ```
    pub fn min(&self) -> Tensor {
        crate::unwrap(self.try_min())
    }

    /// Fallible [`Tensor::min`].
    ///
    /// ```
    /// assert!(ferrograd::Tensor::zeros(&[0]).try_min().is_err());
    /// ```
    pub fn try_min(&self) -> Result<Tensor> {
        self.extreme("min", "MinBackward1", &[], false, false)
    }

    fn extreme(
        &self,
        op: &'static str,
        name: &'static str,
        dims: &[isize],
        keepdim: bool,
        max: bool,
    ) -> Result<Tensor> {
        let mask = mask_of(op, self, dims)?;
        check_nonempty(
            op,
            self,
            &mask,
            !dims.is_empty() && !matches!(op, "max" | "min"),
        )?;
        let (values, row) = raw::rows(self, &mask)?;
        let best: Vec<f64> = extremes(&values, row, max)
            .into_iter()
            .map(|b| b.0)
            .collect();
        let shape = reduced_shape(self, &mask, keepdim);
        let out = Tensor::from_buffer(Buffer::from_f64s(self.dtype(), best.into_iter()), &shape);
        let kept = kept_shape(self, &mask);
        let n_dims: Vec<isize> = (0..self.dim())
            .filter(|&d| mask[d])
            .map(|d| d as isize)
            .collect();
        Ok(record(
            name,
            out,
            &[self],
            |_, s| {
                let (x, y) = (s.save(self), s.save_output());
                let (kept, n_dims) = (kept.clone(), n_dims.clone());
                move |a| {
                    // PyTorch: grad / count * (x == result), shared among ties.
                    let (x, y) = (&a[x], a[y].reshape(&kept));
                    let hits = ties(x, &y, name).to_dtype(x.dtype());
                    let count = hits.sum_dims(&n_dims, true);
                    grads([Some(&(&a.grad.reshape(&kept) / &count) * &hits)])
                }
            },
            |j| {
                // The mean of the tangent over the ties.
                let hits = ties(self, &j.out().reshape(&kept), name).to_dtype(self.dtype());
                let count = hits.sum_dims(&n_dims, true);
                let t = j.t(0).expect("tangent") * &hits;
                let dims: Vec<usize> = n_dims.iter().map(|&d| d as usize).collect();
                let s = if dims.is_empty() {
                    t
                } else {
                    t.sum_dims(&j.dims(&dims), true)
                };
                (&s / &count).reshape(&j.shape(j.out().shape()))
            },
        ))
    }

    /// Maximum along `dim` with the index of its first occurrence (`torch.max(x, dim)`); the
    /// gradient goes to that element. Panics on a bad dim or an empty dim; see
    /// [`Tensor::try_max_dim`].
    ///
    /// ```
    /// let x = ferrograd::Tensor::new([[1.0, 5.0], [7.0, 2.0]]);
    /// let (values, indices) = x.max_dim(1, false);
    /// assert_eq!(values.to_vec::<f32>(), vec![5.0, 7.0]);
    /// assert_eq!(indices.to_vec::<i64>(), vec![1, 0]);
    /// ```
    pub fn max_dim(&self, dim: isize, keepdim: bool) -> (Tensor, Tensor) {
        crate::unwrap(self.try_max_dim(dim, keepdim))
    }

    /// Fallible [`Tensor::max_dim`].
    ///
    /// ```
    /// assert!(ferrograd::Tensor::zeros(&[2, 0]).try_max_dim(1, false).is_err());
    /// ```
    pub fn try_max_dim(&self, dim: isize, keepdim: bool) -> Result<(Tensor, Tensor)> {
        self.extreme_dim("max", "MaxBackward0", dim, keepdim, true)
    }

    /// Minimum along `dim` with the index of its first occurrence (`torch.min(x, dim)`).
    /// Panics on a bad dim or an empty dim; see [`Tensor::try_min_dim`].
    ///
    /// ```
    /// let x = ferrograd::Tensor::new([[1.0, 5.0], [7.0, 2.0]]);
    /// assert_eq!(x.min_dim(0, false).1.to_vec::<i64>(), vec![0, 1]);
    /// ```
    pub fn min_dim(&self, dim: isize, keepdim: bool) -> (Tensor, Tensor) {
        crate::unwrap(self.try_min_dim(dim, keepdim))
    }

    /// Fallible [`Tensor::min_dim`].
    ///
    /// ```
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_min_dim(3, false).is_err());
    /// ```
    pub fn try_min_dim(&self, dim: isize, keepdim: bool) -> Result<(Tensor, Tensor)> {
        self.extreme_dim("min", "MinBackward0", dim, keepdim, false)
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
                values.try_squeeze(d as isize)?,
                indices.try_squeeze(d as isize)?,
            ))
        }
    }

    /// Index of the first maximum along `dim` (`None`: of the flattened tensor), as int64.
    /// Panics on a bad or empty dim; see [`Tensor::try_argmax`].
    ///
    /// ```
    /// let x = ferrograd::Tensor::new([[1.0, 5.0], [7.0, 2.0]]);
    /// assert_eq!(x.argmax(None, false).item(), 2.0);
    /// assert_eq!(x.argmax(Some(1), false).to_vec::<i64>(), vec![1, 0]);
    /// ```
    pub fn argmax(&self, dim: Option<isize>, keepdim: bool) -> Tensor {
        crate::unwrap(self.try_argmax(dim, keepdim))
    }

    /// Fallible [`Tensor::argmax`].
    ///
    /// ```
    /// assert!(ferrograd::Tensor::zeros(&[0]).try_argmax(None, false).is_err());
    /// ```
    pub fn try_argmax(&self, dim: Option<isize>, keepdim: bool) -> Result<Tensor> {
        self.arg_extreme("argmax", dim, keepdim, true)
    }

    /// Index of the first minimum along `dim` (`None`: of the flattened tensor), as int64.
    /// Panics on a bad or empty dim; see [`Tensor::try_argmin`].
    ///
    /// ```
    /// let x = ferrograd::Tensor::new([3.0, 1.0, 1.0]);
    /// assert_eq!(x.argmin(None, false).item(), 1.0);
    /// ```
    pub fn argmin(&self, dim: Option<isize>, keepdim: bool) -> Tensor {
        crate::unwrap(self.try_argmin(dim, keepdim))
    }

    /// Fallible [`Tensor::argmin`].
    ///
    /// ```
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_argmin(Some(1), false).is_err());
    /// ```
    pub fn try_argmin(&self, dim: Option<isize>, keepdim: bool) -> Result<Tensor> {
        self.arg_extreme("argmin", dim, keepdim, false)
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

    /// Variance over `dims` (empty: all) with `correction` (1: unbiased, as PyTorch's default).
    /// Panics on bad dims; see [`Tensor::try_var`].
    ///
    /// ```
    /// let x = ferrograd::Tensor::new([1.0, 2.0, 3.0, 4.0]);
    /// assert_eq!(x.var(&[], 1.0, false).item() as f32, 5.0 / 3.0);
    /// assert_eq!(x.var(&[], 0.0, false).item(), 1.25);
    /// ```
    pub fn var(&self, dims: &[isize], correction: f64, keepdim: bool) -> Tensor {
        crate::unwrap(self.try_var(dims, correction, keepdim))
    }

    /// Fallible [`Tensor::var`].
    ///
    /// ```
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_var(&[1], 1.0, false).is_err());
    /// ```
    pub fn try_var(&self, dims: &[isize], correction: f64, keepdim: bool) -> Result<Tensor> {
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

    /// Standard deviation over `dims` with `correction`; its gradient is 0 where it is 0 (as in
    /// PyTorch). Panics on bad dims; see [`Tensor::try_std`].
    ///
    /// ```
    /// let x = ferrograd::Tensor::new([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
    /// assert_eq!(x.std(&[], 0.0, false).item(), 2.0);
    /// ```
    pub fn std(&self, dims: &[isize], correction: f64, keepdim: bool) -> Tensor {
        crate::unwrap(self.try_std(dims, correction, keepdim))
    }

    /// Fallible [`Tensor::std`].
    ///
    /// ```
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_std(&[2], 1.0, false).is_err());
    /// ```
    pub fn try_std(&self, dims: &[isize], correction: f64, keepdim: bool) -> Result<Tensor> {
        Ok(safe_root(&self.try_var(dims, correction, keepdim)?, 0.5))
    }

    /// The p-norm over `dims` (empty: all): `p` = 2 (Euclidean/Frobenius), 1, `f64::INFINITY`,
    /// `f64::NEG_INFINITY`, 0 (count of non-zeros) or any other `p`. The gradient at a zero norm
    /// is 0, as in PyTorch. Panics on bad dims; see [`Tensor::try_norm_dims`].
    ///
    /// ```
    /// let x = ferrograd::Tensor::new([[3.0, -4.0], [0.0, 0.0]]);
    /// assert_eq!(x.norm_dims(2.0, &[1], false).to_vec::<f32>(), vec![5.0, 0.0]);
    /// assert_eq!(x.norm_dims(1.0, &[], false).item(), 7.0);
    /// assert_eq!(x.norm_dims(f64::INFINITY, &[], false).item(), 4.0);
    /// ```
    pub fn norm_dims(&self, p: f64, dims: &[isize], keepdim: bool) -> Tensor {
        crate::unwrap(self.try_norm_dims(p, dims, keepdim))
    }

    /// Fallible [`Tensor::norm_dims`].
    ///
    /// ```
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_norm_dims(2.0, &[1], false).is_err());
    /// ```
    pub fn try_norm_dims(&self, p: f64, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        let x = self.to_float().abs();
        if p == f64::INFINITY {
            return x.try_amax(dims, keepdim);
        }
        if p == f64::NEG_INFINITY {
            return x.try_amin(dims, keepdim);
        }
        if p == 0.0 {
            return x
                .ne_scalar(0.0)
                .to_dtype(x.dtype())
                .try_sum_dims(dims, keepdim);
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

    /// `log(sum(exp(x)))` over `dims` (empty: all), computed stably (shifted by the maximum);
    /// `-inf` for all `-inf` inputs. Panics on bad dims; see [`Tensor::try_logsumexp`].
    ///
    /// ```
    /// let x = ferrograd::Tensor::new([1000.0, 1000.0]);
    /// assert_eq!(x.logsumexp(&[0], false).item() as f32, 1000.0 + 2f32.ln());
    /// ```
    pub fn logsumexp(&self, dims: &[isize], keepdim: bool) -> Tensor {
        crate::unwrap(self.try_logsumexp(dims, keepdim))
    }

    /// Fallible [`Tensor::logsumexp`].
    ///
    /// ```
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_logsumexp(&[1], false).is_err());
    /// ```
    pub fn try_logsumexp(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
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

    /// Running sum along `dim`. Panics on a bad dim; see [`Tensor::try_cumsum`].
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([1.0, 2.0, 3.0]).cumsum(0).to_vec::<f32>(), vec![1.0, 3.0, 6.0]);
    /// ```
    pub fn cumsum(&self, dim: isize) -> Tensor {
        crate::unwrap(self.try_cumsum(dim))
    }

    /// Fallible [`Tensor::cumsum`].
    ///
    /// ```
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_cumsum(1).is_err());
    /// ```
    pub fn try_cumsum(&self, dim: isize) -> Result<Tensor> {
        let x = self.to_float();
        if x.dim() == 0 {
            return Ok(x.deep_clone());
        }
        let d = super::normalize_dim("cumsum", dim, x.dim())?;
        let out = raw::cumulative(&x, d, false)?;
        Ok(record(
            "CumsumBackward0",
            out,
            &[&x],
            |_, _| {
                move |a| {
                    let di = d as isize;
                    grads([Some(a.grad.flip(&[di]).cumsum(di).flip(&[di]))])
                }
            },
            |j| j.t(0).expect("tangent").cumsum(j.dim(d)),
        ))
    }

    /// Running product along `dim`; its gradient is exact with zeros in the input (no
    /// division). Panics on a bad dim; see [`Tensor::try_cumprod`].
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([1.0, 2.0, 3.0]).cumprod(0).to_vec::<f32>(), vec![1.0, 2.0, 6.0]);
    /// ```
    pub fn cumprod(&self, dim: isize) -> Tensor {
        crate::unwrap(self.try_cumprod(dim))
    }

    /// Fallible [`Tensor::cumprod`].
    ///
    /// ```
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_cumprod(-2).is_err());
    /// ```
    pub fn try_cumprod(&self, dim: isize) -> Result<Tensor> {
        let x = self.to_float();
        if x.dim() == 0 {
            return Ok(x.deep_clone());
        }
        let d = super::normalize_dim("cumprod", dim, x.dim())?;
        let out = raw::cumulative(&x, d, true)?;
        Ok(record(
            "CumprodBackward0",
            out,
            &[&x],
            |_, s| {
                let x = s.save(&x);
                move |a| grads([Some(cumprod_backward(&a[x], a.grad, d))])
            },
            |j| cumprod_jvp(&x, j.out(), j.t(0).expect("tangent"), d, j.b()),
        ))
    }

    /// Product of all elements (1 for an empty tensor); exact gradients with zeros.
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([2.0, 0.0, 3.0]).prod().item(), 0.0);
    /// ```
    pub fn prod(&self) -> Tensor {
        let x = self.to_float();
        if x.numel() == 0 {
            // 1, still connected to the graph (with an empty gradient), as in PyTorch.
            return x.sum().mul_scalar(0.0).add_scalar(1.0);
        }
        x.flatten(0, -1).cumprod(0).select(0, -1)
    }

    /// Product along `dim`. Panics on a bad dim; see [`Tensor::try_prod_dim`].
    ///
    /// ```
    /// let x = ferrograd::Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(x.prod_dim(1, false).to_vec::<f32>(), vec![2.0, 12.0]);
    /// ```
    pub fn prod_dim(&self, dim: isize, keepdim: bool) -> Tensor {
        crate::unwrap(self.try_prod_dim(dim, keepdim))
    }

    /// Fallible [`Tensor::prod_dim`].
    ///
    /// ```
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_prod_dim(1, false).is_err());
    /// ```
    pub fn try_prod_dim(&self, dim: isize, keepdim: bool) -> Result<Tensor> {
        let x = self.to_float();
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

    /// Whether every element is non-zero, over `dims` (empty: all), as bool.
    /// Panics on bad dims; see [`Tensor::try_all`].
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([true, false]).all(&[], false).to_vec::<bool>(), vec![false]);
    /// ```
    pub fn all(&self, dims: &[isize], keepdim: bool) -> Tensor {
        crate::unwrap(self.try_all(dims, keepdim))
    }

    /// Fallible [`Tensor::all`].
    ///
    /// ```
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_all(&[1], false).is_err());
    /// ```
    pub fn try_all(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        let zeros = self.eq_scalar(0.0).try_sum_dims(dims, keepdim)?;
        Ok(zeros.eq_scalar(0.0))
    }

    /// Whether any element is non-zero, over `dims` (empty: all), as bool.
    /// Panics on bad dims; see [`Tensor::try_any`].
    ///
    /// ```
    /// assert_eq!(ferrograd::Tensor::new([0.0, 2.0]).any(&[], false).to_vec::<bool>(), vec![true]);
    /// ```
    pub fn any(&self, dims: &[isize], keepdim: bool) -> Tensor {
        crate::unwrap(self.try_any(dims, keepdim))
    }

    /// Fallible [`Tensor::any`].
    ///
    /// ```
    /// assert!(ferrograd::Tensor::zeros(&[2]).try_any(&[1], false).is_err());
    /// ```
    pub fn try_any(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        let nonzero = self.ne_scalar(0.0).try_sum_dims(dims, keepdim)?;
        Ok(nonzero.ne_scalar(0.0))
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
