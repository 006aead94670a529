//! Everyday numeric and rearranging composites of `torch`: differences and the trapezoid rule,
//! `addcmul`/`addcdiv`, angle conversions, distances, `inner`, `xlog1py`, covariance and
//! correlation, and the rearrangements `movedim`, `rot90`, `repeat_interleave`, `atleast_*d`,
//! `diagflat`, `msort`, `block_diag`, `cartesian_prod`, `dstack`, `column_stack`, and the
//! quantiles (`quantile`, `nanquantile`).
//!
//! Every op here is a composite of differentiable ops, so every derivative order, forward mode
//! and vmap come from the primitives' rules; ops PyTorch gives a node of its own are relabelled
//! with PyTorch's name (`AddcmulBackward0`, `DistBackward0`, ...).

use super::named;
use crate::autograd::relabel;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::layout::normalize_dim;
use crate::tensor::Tensor;
use std::borrow::Borrow;
use std::f64::consts::PI;

api! {
    MATH_OPS = impl Tensor {
        /// The `n`-th forward difference along `dim` (`torch.diff`): `x[1:] - x[:-1]`, `n`
        /// times, after concatenating `prepend` before and `append` after the input along
        /// `dim` (both with the input's number of dimensions). Bools give `x[1:] != x[:-1]`.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let x = Tensor::new([1.0, 4.0, 9.0, 16.0]);
        /// assert_eq!(x.diff(1, -1, None, None).to_vec::<f32>(), vec![3.0, 5.0, 7.0]);
        /// assert_eq!(x.diff(2, -1, None, None).to_vec::<f32>(), vec![2.0, 2.0]);
        /// let e = Tensor::scalar(1.0).try_diff(1, -1, None, None).unwrap_err();
        /// assert_eq!(e.to_string(), "diff: diff expects input to be at least one-dimensional");
        /// ```
        pub fn diff / try_diff(&self, n: i64 = 1, dim: isize = -1, prepend: Option<&Tensor> = None, append: Option<&Tensor> = None) -> Tensor {
            const OP: &str = "diff";
            if self.dim() == 0 {
                return Err(Error::invalid(OP, "diff expects input to be at least one-dimensional"));
            }
            if n < 0 {
                return Err(Error::invalid(OP, format!("order must be non-negative but got {n}")));
            }
            let d = normalize_dim(OP, dim, self.dim())?;
            let mut parts = Vec::new();
            for (t, which) in [(prepend, "prepend"), (Some(self), ""), (append, "append")] {
                let Some(t) = t else { continue };
                if t.dim() != self.dim() {
                    return Err(Error::invalid(OP, format!(
                        "diff expects {which} or append to be the same dimension as input (input {:?}, {which} {:?})",
                        self.shape(), t.shape()
                    )));
                }
                parts.push(t.clone());
            }
            let mut x = if parts.len() == 1 { self.clone() } else { Tensor::try_cat(&parts, d as isize)? };
            for _ in 0..n {
                let len = x.shape()[d];
                if len == 0 {
                    break;
                }
                let (hi, lo) = (x.try_narrow(d as isize, 1, len - 1)?, x.try_narrow(d as isize, 0, len - 1)?);
                x = if x.dtype() == DType::Bool { hi.try_ne(&lo)? } else { hi.try_sub(&lo)? };
            }
            Ok(x)
        }

        /// The trapezoid rule along `dim` (`torch.trapezoid`): the integral of samples `y`
        /// (this tensor) at points `x` (a tensor along `dim`: 1-d, or broadcasting with `y`), or
        /// spaced `dx` apart when `x` is `None`. Fewer than two samples integrate to 0.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let y = Tensor::new([1.0, 2.0, 3.0]);
        /// assert_eq!(y.trapezoid(None, 1.0, -1).item(), 4.0);
        /// assert_eq!(y.trapezoid(Some(&Tensor::new([0.0, 1.0, 3.0])), 1.0, -1).item(), 6.5);
        /// ```
        pub fn trapezoid / try_trapezoid(&self, x: Option<&Tensor> = None, dx: f64 = 1.0, dim: isize = -1) -> Tensor {
            let (d, mid, spacing) = trapezoid_parts("trapezoid", self, x, dim)?;
            // PyTorch's last steps: a product with the spacing (or the widths' sum of
            // products), whose nodes it names MulBackward1 and DivBackward1.
            Ok(match spacing {
                Some(h) => relabel(mid.try_mul(&h)?.try_sum_dims(&[d as isize], false)?, "DivBackward1"),
                None => relabel(mid.try_sum_dims(&[d as isize], false)?.mul_scalar(dx), "MulBackward1"),
            })
        }

        /// The running trapezoid rule along `dim` (`torch.cumulative_trapezoid`): one value
        /// fewer than the samples along `dim`, each the integral up to that sample.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let y = Tensor::new([1.0, 2.0, 3.0]);
        /// assert_eq!(y.cumulative_trapezoid(None, 1.0, -1).to_vec::<f32>(), vec![1.5, 4.0]);
        /// ```
        pub fn cumulative_trapezoid / try_cumulative_trapezoid(&self, x: Option<&Tensor> = None, dx: f64 = 1.0, dim: isize = -1) -> Tensor {
            let (d, mid, spacing) = trapezoid_parts("cumulative_trapezoid", self, x, dim)?;
            let area = match spacing {
                Some(h) => mid.try_mul(&h)?,
                None => mid.mul_scalar(dx),
            };
            area.try_cumsum(d as isize)
        }

        /// `self + value * tensor1 * tensor2`, all three broadcast (`torch.addcmul`).
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let y = Tensor::new([1.0]).addcmul(&Tensor::new([2.0]), &Tensor::new([3.0]), 0.5);
        /// assert_eq!(y.to_vec::<f32>(), vec![4.0]);
        /// assert!(Tensor::ones(&[2]).try_addcmul(&Tensor::ones(&[3]), &Tensor::ones(&[3]), 1.0).is_err());
        /// ```
        pub fn addcmul / try_addcmul(&self, tensor1: &Tensor, tensor2: &Tensor, value: f64 = 1.0) -> Tensor {
            named(self.try_add(&tensor1.try_mul(tensor2)?.mul_scalar(value)), "AddcmulBackward0")
        }

        /// `self + value * tensor1 / tensor2`, all three broadcast (`torch.addcdiv`).
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let y = Tensor::new([1.0]).addcdiv(&Tensor::new([3.0]), &Tensor::new([2.0]), 2.0);
        /// assert_eq!(y.to_vec::<f32>(), vec![4.0]);
        /// assert!(Tensor::ones(&[2]).try_addcdiv(&Tensor::ones(&[3]), &Tensor::ones(&[3]), 1.0).is_err());
        /// ```
        pub fn addcdiv / try_addcdiv(&self, tensor1: &Tensor, tensor2: &Tensor, value: f64 = 1.0) -> Tensor {
            named(self.try_add(&tensor1.try_div(tensor2)?.mul_scalar(value)), "AddcdivBackward0")
        }

        /// Degrees to radians, `x * pi / 180` (integers become `float32`).
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::new([180.0]).deg2rad().to_vec::<f32>(), vec![std::f32::consts::PI]);
        /// ```
        pub fn deg2rad(&self) -> Tensor {
            relabel(self.to_float().mul_scalar(PI / 180.0), "Deg2RadBackward0")
        }

        /// Radians to degrees, `x * 180 / pi` (integers become `float32`).
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::new([std::f32::consts::PI]).rad2deg().to_vec::<f32>(), vec![180.0]);
        /// ```
        pub fn rad2deg(&self) -> Tensor {
            relabel(self.to_float().mul_scalar(180.0 / PI), "Rad2DegBackward0")
        }

        /// The `p`-norm of `self - other`, broadcast (`torch.dist`); its gradient at a zero
        /// distance is 0.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// assert_eq!(Tensor::new([3.0, 0.0]).dist(&Tensor::new([0.0, 4.0]), 2.0).item(), 5.0);
        /// assert!(Tensor::ones(&[2]).try_dist(&Tensor::ones(&[3]), 2.0).is_err());
        /// ```
        pub fn dist / try_dist(&self, other: &Tensor, p: f64 = 2.0) -> Tensor {
            let d = self.to_float().try_sub(&other.to_float())?;
            let n = d.try_flatten(0, -1)?.try_norm_dims(p, &[0], false)?;
            Ok(crate::autograd::relabel_over(n, "DistBackward0"))
        }

        /// The inner product over the last dimension (`torch.inner`): for 1-d tensors their
        /// dot product, in general `out[i.., j..] = sum_k self[i.., k] other[j.., k]`; a 0-d
        /// operand multiplies.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let a = Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
        /// assert_eq!(a.inner(&Tensor::new([1.0, 1.0])).to_vec::<f32>(), vec![3.0, 7.0]);
        /// assert!(a.try_inner(&Tensor::ones(&[3])).is_err());
        /// ```
        pub fn inner / try_inner(&self, other: &Tensor) -> Tensor {
            if self.dim() == 0 || other.dim() == 0 {
                return self.try_mul(other);
            }
            let (a, b) = (self.shape()[self.dim() - 1], other.shape()[other.dim() - 1]);
            if a != b {
                return Err(Error::invalid("inner", format!(
                    "inner() the last dimension must match on both input tensors but got shapes {:?} and {:?}",
                    self.shape(), other.shape()
                )));
            }
            self.try_tensordot(other, &[-1], &[-1])
        }

        /// `self * log1p(other)`, and 0 where `self` is 0 (even where `log1p(other)` is
        /// infinite or NaN), as `torch.special.xlog1py`.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let y = Tensor::new([0.0, 2.0]).xlog1py(&Tensor::new([-1.0, 0.0]));
        /// assert_eq!(y.to_vec::<f32>(), vec![0.0, 0.0]);
        /// assert!(Tensor::ones(&[2]).try_xlog1py(&Tensor::ones(&[3])).is_err());
        /// ```
        pub fn xlog1py / try_xlog1py(&self, other: &Tensor) -> Tensor {
            let x = self.to_float();
            let prod = x.try_mul(&other.to_float().log1p())?;
            let zero = x.eq_scalar(0.0).try_broadcast_to(prod.shape())?;
            named(prod.try_masked_fill(&zero, 0.0), "SpecialXlog1PyBackward0")
        }

        /// The dimensions `source` moved to the positions `destination` (the others keep their
        /// order; `torch.movedim`): a view.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let x = Tensor::zeros(&[2, 3, 4]);
        /// assert_eq!(x.movedim(&[0], &[-1]).shape(), &[3, 4, 2]);
        /// assert_eq!(x.movedim(&[0, 1], &[2, 0]).shape(), &[3, 4, 2]);
        /// assert!(x.try_movedim(&[0, 0], &[1, 2]).is_err());
        /// ```
        pub fn movedim / try_movedim(&self, source: &[isize], destination: &[isize]) -> Tensor {
            const OP: &str = "movedim";
            if source.len() != destination.len() {
                return Err(Error::invalid(OP, format!(
                    "Invalid source or destination dims: source ({source:?} dims) should contain the same number of dims as destination ({destination:?} dims)"
                )));
            }
            let n = self.dim();
            let norm = |v: &[isize], what: &str| -> Result<Vec<usize>> {
                let d: Vec<usize> = v.iter().map(|&k| normalize_dim(OP, k, n.max(1))).collect::<Result<_>>()?;
                if (1..d.len()).any(|i| d[..i].contains(&d[i])) {
                    return Err(Error::invalid(OP, format!("repeated dim in `{what}` ({v:?})")));
                }
                Ok(d)
            };
            let (src, dst) = (norm(source, "source")?, norm(destination, "destination")?);
            if n == 0 {
                return Ok(self.clone());
            }
            let mut order: Vec<Option<usize>> = vec![None; n];
            for (&s, &t) in src.iter().zip(&dst) {
                order[t] = Some(s);
            }
            let mut rest = (0..n).filter(|k| !src.contains(k));
            let perm: Vec<isize> = order
                .into_iter()
                .map(|o| o.or_else(|| rest.next()).expect("as many free dims as free places") as isize)
                .collect();
            self.try_permute(&perm)
        }

        /// Rotation by 90 degrees `k` times in the plane of `dims` (from the first towards the
        /// second; `torch.rot90`).
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let x = Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
        /// assert_eq!(x.rot90(1, &[0, 1]).to_vec::<f32>(), vec![2.0, 4.0, 1.0, 3.0]);
        /// assert!(x.try_rot90(1, &[0, 0]).is_err());
        /// ```
        pub fn rot90 / try_rot90(&self, k: i64 = 1, dims: &[isize] = &[0, 1]) -> Tensor {
            const OP: &str = "rot90";
            if dims.len() != 2 {
                return Err(Error::invalid(OP, format!("expected total rotation dims == 2, but got dims = {}", dims.len())));
            }
            if self.dim() < 2 {
                return Err(Error::invalid(OP, format!("expected total dims >= 2, but got total dims = {}", self.dim())));
            }
            let (a, b) = (normalize_dim(OP, dims[0], self.dim())?, normalize_dim(OP, dims[1], self.dim())?);
            if a == b {
                return Err(Error::invalid(OP, format!("expected rotation dims to be different, but got dim0 = {a} and dim1 = {b}")));
            }
            let (a, b) = (a as isize, b as isize);
            Ok(match k.rem_euclid(4) {
                1 => self.flip(&[b]).transpose(a, b),
                2 => self.flip(&[a, b]),
                3 => self.flip(&[a]).transpose(a, b),
                _ => self.deep_clone(),
            })
        }

        /// Each element repeated `repeats` times along `dim` (`None`: of the flattened
        /// tensor; `torch.repeat_interleave`).
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let x = Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
        /// assert_eq!(x.repeat_interleave(2, None).to_vec::<f32>(), vec![1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0]);
        /// assert_eq!(x.repeat_interleave(2, Some(0)).shape(), &[4, 2]);
        /// assert!(x.try_repeat_interleave(-1, None).is_err());
        /// ```
        pub fn repeat_interleave / try_repeat_interleave(&self, repeats: i64, dim: Option<isize> = None) -> Tensor {
            let r = Tensor::from_vec(vec![repeats], &[1]);
            self.try_repeat_interleave_tensor(&r, dim)
        }

        /// [`Tensor::repeat_interleave`] with a count per element along `dim`: `repeats` is a
        /// 1-d `int64` tensor of that many counts (or of one, for all).
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let x = Tensor::new([1.0, 2.0, 3.0]);
        /// let r = Tensor::from_vec(vec![0i64, 2, 1], &[3]);
        /// assert_eq!(x.repeat_interleave_tensor(&r, Some(0)).to_vec::<f32>(), vec![2.0, 2.0, 3.0]);
        /// assert!(x.try_repeat_interleave_tensor(&Tensor::from_vec(vec![1i64, 1], &[2]), Some(0)).is_err());
        /// ```
        pub fn repeat_interleave_tensor / try_repeat_interleave_tensor(&self, repeats: &Tensor, dim: Option<isize> = None) -> Tensor {
            const OP: &str = "repeat_interleave";
            let (x, d) = match dim {
                None => (self.try_flatten(0, -1)?, 0),
                Some(d) => (self.clone(), normalize_dim(OP, d, self.dim().max(1))?),
            };
            let x = if x.dim() == 0 { x.try_reshape(&[1])? } else { x };
            if repeats.dtype() != DType::I64 || repeats.dim() > 1 {
                return Err(Error::invalid(OP, "repeats must be 0-dim or 1-dim int64 tensor"));
            }
            let size = x.shape()[d];
            let counts = repeats.to_vec::<i64>();
            if counts.iter().any(|&c| c < 0) {
                return Err(Error::invalid(OP, "repeats can not be negative"));
            }
            let counts: Vec<i64> = match counts.len() {
                1 => vec![counts[0]; size],
                n if n == size => counts,
                n => return Err(Error::invalid(OP, format!(
                    "repeats must have the same size as input along dim, but got repeats.size(0) = {n} and input.size({d}) = {size}"
                ))),
            };
            let index: Vec<i64> = counts.iter().enumerate().flat_map(|(i, &c)| std::iter::repeat_n(i as i64, c as usize)).collect();
            let n = index.len();
            x.try_index_select(d as isize, &Tensor::from_vec(index, &[n]))
        }

        /// This tensor with at least one dimension (a 0-d one as shape `[1]`; a view).
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::scalar(1.0).atleast_1d().shape(), &[1]);
        /// ```
        pub fn atleast_1d(&self) -> Tensor {
            match self.dim() {
                0 => self.reshape(&[1]),
                _ => self.clone(),
            }
        }

        /// This tensor with at least two dimensions (`[n]` as `[1, n]`; a view).
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::new([1.0, 2.0]).atleast_2d().shape(), &[1, 2]);
        /// ```
        pub fn atleast_2d(&self) -> Tensor {
            match self.dim() {
                0 => self.reshape(&[1, 1]),
                1 => self.unsqueeze(0),
                _ => self.clone(),
            }
        }

        /// This tensor with at least three dimensions (`[n]` as `[1, n, 1]`, `[m, n]` as
        /// `[m, n, 1]`; a view).
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::new([1.0, 2.0]).atleast_3d().shape(), &[1, 2, 1]);
        /// ```
        pub fn atleast_3d(&self) -> Tensor {
            match self.dim() {
                0 => self.reshape(&[1, 1, 1]),
                1 => self.unsqueeze(0).unsqueeze(2),
                2 => self.unsqueeze(2),
                _ => self.clone(),
            }
        }

        /// The flattened tensor as the diagonal `offset` of a square matrix (`torch.diagflat`).
        ///
        /// ```
        /// let d = ferrograd::Tensor::new([[1.0, 2.0]]).diagflat(0);
        /// assert_eq!(d.to_vec::<f32>(), vec![1.0, 0.0, 0.0, 2.0]);
        /// ```
        pub fn diagflat / try_diagflat(&self, offset: isize = 0) -> Tensor {
            self.try_flatten(0, -1)?.try_diag(offset)
        }

        /// Sorted along the first dimension (`torch.msort`): the values of `sort(0)`.
        ///
        /// ```
        /// let x = ferrograd::Tensor::new([[3.0, 1.0], [2.0, 4.0]]);
        /// assert_eq!(x.msort().to_vec::<f32>(), vec![2.0, 1.0, 3.0, 4.0]);
        /// ```
        pub fn msort(&self) -> Tensor {
            if self.dim() == 0 {
                return self.deep_clone();
            }
            self.sort(0, false, false).0
        }

        /// The covariance matrix of the variables in the rows of this 1-d or 2-d tensor, the
        /// observations in its columns (`torch.cov`): `correction` 1 is Bessel's, `fweights`
        /// (integer frequencies) and `aweights` (observation weights) are 1-d, one per
        /// observation. A 1-d input gives a 0-d variance.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let x = Tensor::new([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]);
        /// assert_eq!(x.cov(1, None, None).to_vec::<f32>(), vec![1.0, -1.0, -1.0, 1.0]);
        /// assert!(Tensor::ones(&[2, 2, 2]).try_cov(1, None, None).is_err());
        /// ```
        pub fn cov / try_cov(&self, correction: i64 = 1, fweights: Option<&Tensor> = None, aweights: Option<&Tensor> = None) -> Tensor {
            cov_impl(self, correction, fweights, aweights)
        }

        /// Pearson's correlation coefficients of the rows' variables (`torch.corrcoef`):
        /// `cov / (std_i std_j)`, clipped to [-1, 1].
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let x = Tensor::new([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]);
        /// assert_eq!(x.corrcoef().to_vec::<f32>(), vec![1.0, -1.0, -1.0, 1.0]);
        /// ```
        pub fn corrcoef / try_corrcoef(&self) -> Tensor {
            let c = cov_impl(self, 1, None, None)?;
            if c.dim() == 0 {
                return c.try_div(&c);
            }
            let sd = c.try_diagonal(0, 0, 1)?.sqrt();
            let c = c.try_div(&sd.unsqueeze(1))?.try_div(&sd.unsqueeze(0))?;
            Ok(c.clamp(Some(-1.0), Some(1.0)))
        }

        /// The `p`-norm distances between the rows of `x1` (`[.., P, M]`) and of `x2`
        /// (`[.., R, M]`), batch dimensions broadcast: `[.., P, R]` (`torch.cdist`). The
        /// gradient at a zero distance is 0, as PyTorch's.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let a = Tensor::new([[0.0, 0.0], [3.0, 4.0]]);
        /// assert_eq!(a.cdist(&a, 2.0).to_vec::<f32>(), vec![0.0, 5.0, 5.0, 0.0]);
        /// assert!(a.try_cdist(&Tensor::ones(&[2, 3]), 2.0).is_err());
        /// ```
        pub fn cdist / try_cdist(&self, x2: &Tensor, p: f64 = 2.0) -> Tensor {
            const OP: &str = "cdist";
            let x1 = self;
            if x1.dim() < 2 || x2.dim() < 2 {
                return Err(Error::invalid(OP, format!(
                    "cdist only supports at least 2D tensors, X1 got: {}D, X2 got: {}D", x1.dim(), x2.dim()
                )));
            }
            let (m1, m2) = (x1.shape()[x1.dim() - 1], x2.shape()[x2.dim() - 1]);
            if m1 != m2 {
                return Err(Error::invalid(OP, format!(
                    "X1 and X2 must have the same number of columns. X1: {m1} X2: {m2}"
                )));
            }
            if p < 0.0 {
                return Err(Error::invalid(OP, "cdist only supports non-negative p values"));
            }
            let d = x1.to_float().try_unsqueeze(-2)?.try_sub(&x2.to_float().try_unsqueeze(-3)?)?;
            let n = d.try_norm_dims(p, &[-1], false)?;
            Ok(crate::autograd::relabel_over(n, "CdistBackward0"))
        }

        /// The `q`-th quantile (`q` in [0, 1]) along `dim` (`None`: of all elements), as
        /// `torch.quantile`: the sorted values at rank `q (n - 1)`, between neighbours by
        /// `interpolation` (`"linear"`, `"lower"`, `"higher"`, `"midpoint"`, `"nearest"`); a
        /// slice holding NaN gives NaN. The gradient goes to the one or two values used.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let x = Tensor::new([1.0, 3.0, 2.0, 4.0]);
        /// assert_eq!(x.quantile(0.5, None, false, "linear").item(), 2.5);
        /// assert_eq!(x.quantile(0.5, None, false, "lower").item(), 2.0);
        /// assert!(x.try_quantile(1.5, None, false, "linear").is_err());
        /// ```
        pub fn quantile / try_quantile(&self, q: f64, dim: Option<isize> = None, keepdim: bool = false, interpolation: &str = "linear") -> Tensor {
            quantile_impl("quantile", self, &[q], None, dim, keepdim, interpolation, false)
        }

        /// [`Tensor::quantile`] at each of the values of `q` (a 0-d or 1-d tensor): a 1-d `q`
        /// of `k` values prepends a dimension of size `k`.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let x = Tensor::new([1.0, 2.0, 3.0]);
        /// let q = x.quantile_tensor(&Tensor::new([0.0, 0.25, 1.0]), None, false, "linear");
        /// assert_eq!(q.to_vec::<f32>(), vec![1.0, 1.5, 3.0]);
        /// ```
        pub fn quantile_tensor / try_quantile_tensor(&self, q: &Tensor, dim: Option<isize> = None, keepdim: bool = false, interpolation: &str = "linear") -> Tensor {
            let (qs, shape) = quantiles_of("quantile", q)?;
            quantile_impl("quantile", self, &qs, Some(shape), dim, keepdim, interpolation, false)
        }

        /// [`Tensor::quantile`] ignoring NaN (`torch.nanquantile`): the ranks count each
        /// slice's non-NaN values; a slice of NaN only gives NaN.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let x = Tensor::new([1.0, f32::NAN, 3.0]);
        /// assert_eq!(x.nanquantile(0.5, None, false, "linear").item(), 2.0);
        /// assert!(x.quantile(0.5, None, false, "linear").item().is_nan());
        /// ```
        pub fn nanquantile / try_nanquantile(&self, q: f64, dim: Option<isize> = None, keepdim: bool = false, interpolation: &str = "linear") -> Tensor {
            quantile_impl("nanquantile", self, &[q], None, dim, keepdim, interpolation, true)
        }

        /// [`Tensor::nanquantile`] at each of the values of `q` (a 0-d or 1-d tensor).
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let x = Tensor::new([1.0, f32::NAN, 3.0]);
        /// let q = x.nanquantile_tensor(&Tensor::new([0.0, 1.0]), None, false, "linear");
        /// assert_eq!(q.to_vec::<f32>(), vec![1.0, 3.0]);
        /// ```
        pub fn nanquantile_tensor / try_nanquantile_tensor(&self, q: &Tensor, dim: Option<isize> = None, keepdim: bool = false, interpolation: &str = "linear") -> Tensor {
            let (qs, shape) = quantiles_of("nanquantile", q)?;
            quantile_impl("nanquantile", self, &qs, Some(shape), dim, keepdim, interpolation, true)
        }
    }
}

api! {
    MATH_LISTS = impl<T: Borrow<Tensor> = Tensor> Tensor {
        /// The tensors (each 0-, 1- or 2-d, a 1-d one a row) as the diagonal blocks of one
        /// matrix, zeros elsewhere (`torch.block_diag`; dtypes promoted).
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let m = Tensor::block_diag(&[Tensor::new([[1.0]]), Tensor::new([2.0, 3.0])]);
        /// assert_eq!(m.to_vec::<f32>(), vec![1.0, 0.0, 0.0, 0.0, 2.0, 3.0]);
        /// assert!(Tensor::try_block_diag(&[Tensor::ones(&[1, 1, 1])]).is_err());
        /// ```
        pub fn block_diag / try_block_diag(tensors: &[T]) -> Tensor {
            let mut blocks = Vec::new();
            for (i, t) in tensors.iter().map(|t| t.borrow()).enumerate() {
                blocks.push(match t.dim() {
                    0 => t.reshape(&[1, 1]),
                    1 => t.unsqueeze(0),
                    2 => t.clone(),
                    d => return Err(Error::invalid("block_diag", format!(
                        "torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has {d} dimensions"
                    ))),
                });
            }
            if blocks.is_empty() {
                return Ok(Tensor::zeros(&[1, 0]));
            }
            let cols: usize = blocks.iter().map(|b| b.shape()[1]).sum();
            let mut left = 0;
            let rows: Vec<Tensor> = blocks
                .iter()
                .map(|b| {
                    let c = b.shape()[1];
                    let row = b.pad(&[left as isize, (cols - left - c) as isize], 0.0);
                    left += c;
                    row
                })
                .collect();
            named(Tensor::try_cat(&rows, 0), "BlockDiagBackward0")
        }

        /// The Cartesian product of 1-d tensors: one row per combination, the last tensor
        /// varying fastest (`torch.cartesian_prod`); one tensor gives itself.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let p = Tensor::cartesian_prod(&[Tensor::new([1.0, 2.0]), Tensor::new([3.0, 4.0])]);
        /// assert_eq!(p.to_vec::<f32>(), vec![1.0, 3.0, 1.0, 4.0, 2.0, 3.0, 2.0, 4.0]);
        /// assert!(Tensor::try_cartesian_prod(&[Tensor::ones(&[2, 2])]).is_err());
        /// ```
        pub fn cartesian_prod / try_cartesian_prod(tensors: &[T]) -> Tensor {
            let ts: Vec<&Tensor> = tensors.iter().map(|t| t.borrow()).collect();
            if ts.is_empty() {
                return Err(Error::invalid("cartesian_prod", "cartesian_prod expects a non-empty TensorList"));
            }
            if let Some(t) = ts.iter().find(|t| t.dim() != 1) {
                return Err(Error::invalid("cartesian_prod", format!(
                    "Expect a 1D vector, but got shape {:?}", t.shape()
                )));
            }
            if ts.len() == 1 {
                return Ok(ts[0].clone());
            }
            let full: Vec<usize> = ts.iter().map(|t| t.shape()[0]).collect();
            let columns: Vec<Tensor> = ts
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let mut shape = vec![1; ts.len()];
                    shape[i] = full[i];
                    t.try_reshape(&shape)?.try_expand(&full)?.try_flatten(0, -1)
                })
                .collect::<Result<_>>()?;
            Tensor::try_stack(&columns, 1)
        }

        /// Concatenation along the third dimension of the tensors made at least 3-d
        /// (`torch.dstack`).
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let d = Tensor::dstack(&[Tensor::new([1.0, 2.0]), Tensor::new([3.0, 4.0])]);
        /// assert_eq!(d.shape(), &[1, 2, 2]);
        /// ```
        pub fn dstack / try_dstack(tensors: &[T]) -> Tensor {
            let ts: Vec<Tensor> = tensors.iter().map(|t| t.borrow().atleast_3d()).collect();
            Tensor::try_cat(&ts, 2)
        }

        /// The tensors as columns side by side (`torch.column_stack`): 0-d and 1-d ones become
        /// columns, others are concatenated along dimension 1.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let c = Tensor::column_stack(&[Tensor::new([1.0, 2.0]), Tensor::new([3.0, 4.0])]);
        /// assert_eq!(c.to_vec::<f32>(), vec![1.0, 3.0, 2.0, 4.0]);
        /// ```
        pub fn column_stack / try_column_stack(tensors: &[T]) -> Tensor {
            let ts: Vec<Tensor> = tensors
                .iter()
                .map(|t| {
                    let t = t.borrow();
                    match t.dim() {
                        0 => t.reshape(&[1, 1]),
                        1 => t.unsqueeze(1),
                        _ => t.clone(),
                    }
                })
                .collect();
            Tensor::try_cat(&ts, 1)
        }
    }
}

/// The trapezoids' mean heights along `dim`, `(y[1:] + y[:-1]) / 2`, and their widths
/// (`diff(x)`, or `None` for the constant `dx`), with `dim` normalized.
fn trapezoid_parts(
    op: &'static str,
    y: &Tensor,
    x: Option<&Tensor>,
    dim: isize,
) -> Result<(usize, Tensor, Option<Tensor>)> {
    if y.dim() == 0 {
        return Err(Error::invalid(
            op,
            format!("{op}: Dimension specified as {dim} but tensor has no dimensions"),
        ));
    }
    let d = normalize_dim(op, dim, y.dim())?;
    let y = y.to_float();
    let len = y.shape()[d];
    if len == 0 {
        // No samples: an empty set of trapezoids (their sum is 0).
        return Ok((d, y, None));
    }
    let di = d as isize;
    let mid = y
        .try_narrow(di, 1, len - 1)?
        .try_add(&y.try_narrow(di, 0, len - 1)?)?
        .mul_scalar(0.5);
    let widths = match x {
        None => None,
        Some(x) => {
            let x = x.to_float();
            let h = if x.dim() == 1 {
                if x.shape()[0] != len {
                    return Err(Error::invalid(
                        op,
                        format!(
                        "{op}: There must be one `x` value for each sample point (x {:?}, y {:?})",
                        x.shape(),
                        y.shape()
                    ),
                    ));
                }
                let mut shape = vec![1; y.dim()];
                shape[d] = len - 1;
                x.try_diff(1, 0, None, None)?.try_reshape(&shape)?
            } else {
                x.try_diff(1, dim, None, None)?
            };
            Some(h)
        }
    };
    Ok((d, mid, widths))
}

fn cov_impl(
    x: &Tensor,
    correction: i64,
    fweights: Option<&Tensor>,
    aweights: Option<&Tensor>,
) -> Result<Tensor> {
    const OP: &str = "cov";
    if x.dim() > 2 {
        return Err(Error::invalid(
            OP,
            format!(
                "cov(): expected input to have two or fewer dimensions but got an input with {} dimensions",
                x.dim()
            ),
        ));
    }
    let one_var = x.dim() < 2;
    let x = x.to_float().atleast_2d();
    let n = x.shape()[1];
    let check = |w: &Tensor, what: &str| -> Result<Tensor> {
        if w.dim() > 1 || w.numel() != n {
            return Err(Error::invalid(
                OP,
                format!(
                    "cov(): expected {what} to have one dimension with as many elements as observations ({n}) but got shape {:?}",
                    w.shape()
                ),
            ));
        }
        w.to_dtype(x.dtype()).try_reshape(&[n])
    };
    let fw = fweights
        .map(|w| {
            if w.dtype().is_floating_point() {
                return Err(Error::invalid(
                    OP,
                    "cov(): expected fweights to have integral dtype",
                ));
            }
            check(w, "fweights")
        })
        .transpose()?;
    let aw = aweights.map(|w| check(w, "aweights")).transpose()?;
    let w = match (&fw, &aw) {
        (Some(f), Some(a)) => Some(f.try_mul(a)?),
        (Some(f), None) => Some(f.clone()),
        (None, Some(a)) => Some(a.clone()),
        (None, None) => None,
    };
    let c = correction as f64;
    let (avg, w_sum) = match &w {
        None => (
            x.try_mean_dims(&[1], true)?,
            Tensor::full_with(&[], n as f64, x.dtype()),
        ),
        Some(w) => {
            let s = w.sum();
            (x.try_mul(w)?.try_sum_dims(&[1], true)?.try_div(&s)?, s)
        }
    };
    let norm = match (&w, &aw) {
        (Some(w), Some(a)) if correction != 0 => {
            w_sum.try_sub(&w.try_mul(a)?.sum().try_div(&w_sum)?.mul_scalar(c))?
        }
        _ => w_sum.sub_scalar(c),
    };
    // A non-positive normalisation is clamped to 0 (PyTorch warns; the result is inf or NaN).
    let norm = norm.clamp(Some(0.0), None);
    let xm = x.try_sub(&avg)?;
    let xw = match &w {
        Some(w) => xm.try_mul(w)?,
        None => xm.clone(),
    };
    let out = xm.try_matmul(&xw.t())?.try_div(&norm)?;
    Ok(if one_var { out.reshape(&[]) } else { out })
}

/// The values of a 0-d or 1-d floating `q` and its shape.
fn quantiles_of(op: &'static str, q: &Tensor) -> Result<(Vec<f64>, Vec<usize>)> {
    if q.dim() > 1 {
        return Err(Error::invalid(
            op,
            format!(
                "{op}() q must be a scalar or 1D tensor (got shape {:?})",
                q.shape()
            ),
        ));
    }
    if !q.dtype().is_floating_point() {
        return Err(Error::invalid(
            op,
            format!("{op}() q tensor must be of float dtype"),
        ));
    }
    Ok((q.values_f64(), q.shape().to_vec()))
}

/// Quantiles `qs` of `x` along `dim` (see [`Tensor::quantile`]); `q_shape` is the shape of a
/// tensor `q` (its dims come first in the result), `None` for a number.
#[allow(clippy::too_many_arguments)]
fn quantile_impl(
    op: &'static str,
    x: &Tensor,
    qs: &[f64],
    q_shape: Option<Vec<usize>>,
    dim: Option<isize>,
    keepdim: bool,
    interpolation: &str,
    ignore_nan: bool,
) -> Result<Tensor> {
    if !x.dtype().is_floating_point() {
        return Err(Error::invalid(
            op,
            format!("{op}() input tensor must be either float or double dtype"),
        ));
    }
    if x.numel() == 0 {
        return Err(Error::invalid(
            op,
            format!("{op}() input tensor must be non-empty"),
        ));
    }
    if let Some(q) = qs.iter().find(|q| !(0.0..=1.0).contains(*q)) {
        let msg = match q_shape {
            None => format!("{op}() q must be in the range [0, 1] but got {q}"),
            Some(_) => format!("{op}() q values must be in the range [0, 1]"),
        };
        return Err(Error::invalid(op, msg));
    }
    if !["linear", "lower", "higher", "midpoint", "nearest"].contains(&interpolation) {
        return Err(Error::invalid(
            op,
            format!(
                "{op}() interpolation must be one of linear, lower, higher, midpoint or nearest, but got {interpolation}"
            ),
        ));
    }
    // The slices, along the last dim of `v`.
    let (v, d) = match dim {
        None => (x.reshape(&[x.numel()]), 0),
        Some(d) => (x.clone(), normalize_dim(op, d, x.dim().max(1))?),
    };
    let v = if v.dim() == 0 { v.reshape(&[1]) } else { v };
    let di = d as isize;
    let sorted = v.sort(di, false, false).0;
    let n = v.shape()[d];
    let nan = v.ne(&v).try_sum_dims(&[di], true)?;
    // Ranks count the non-NaN values (sort puts NaN last); without ignore_nan a NaN poisons.
    let valid = if ignore_nan {
        nan.rsub_scalar(n as f64).to_dtype(x.dtype())
    } else {
        nan.mul_scalar(0.0).add_scalar(n as f64).to_dtype(x.dtype())
    };
    let last = (valid.sub_scalar(1.0)).clamp(Some(0.0), None);
    let mut outs = Vec::with_capacity(qs.len());
    for &q in qs {
        let rank = last.mul_scalar(q);
        let (lo, hi) = (rank.floor(), rank.ceil());
        let (lo, hi) = match interpolation {
            "lower" => (lo.clone(), lo),
            "higher" => (hi.clone(), hi),
            "nearest" => {
                let r = rank.round();
                (r.clone(), r)
            }
            _ => (lo, hi),
        };
        let at = |i: &Tensor| sorted.try_gather(di, &i.to_dtype(DType::I64));
        let (a, b) = (at(&lo)?, at(&hi)?);
        let w = match interpolation {
            "linear" => rank.try_sub(&lo)?,
            "midpoint" => rank.mul_scalar(0.0).add_scalar(0.5),
            _ => rank.mul_scalar(0.0),
        };
        let mut y = a.try_add(&b.try_sub(&a)?.try_mul(&w)?)?;
        if !ignore_nan {
            y = y.try_masked_fill(&nan.gt_scalar(0.0), f64::NAN)?;
        }
        let y = if keepdim {
            match dim {
                None => y.try_reshape(&vec![1; x.dim()])?,
                Some(_) => y,
            }
        } else {
            match dim {
                None => y.try_reshape(&[])?,
                Some(_) if x.dim() == 0 => y.try_reshape(&[])?,
                Some(_) => y.try_squeeze(di)?,
            }
        };
        outs.push(y);
    }
    match q_shape {
        None => Ok(outs.pop().expect("one quantile")),
        Some(s) if s.is_empty() => Ok(outs.pop().expect("one quantile")),
        Some(_) => Tensor::try_stack(&outs, 0),
    }
}
