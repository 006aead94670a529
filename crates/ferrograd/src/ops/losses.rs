//! More of `torch.nn.functional`: `pairwise_distance`, `scaled_dot_product_attention`, and
//! the losses `soft_margin_loss`, `hinge_embedding_loss`, `poisson_nll_loss`,
//! `gaussian_nll_loss` and `cosine_embedding_loss`.
//!
//! Each is a composite of differentiable ops (no rule of its own), so every derivative order
//! works in both modes and under vmap; each follows PyTorch's formula, including its
//! conventions at the edges (which side of a margin gets the gradient, where the variance is
//! clamped).

// PyTorch's signatures: scaled_dot_product_attention and gaussian_nll_loss take seven and
// six arguments.
#![allow(clippy::too_many_arguments)]

use super::nn::{reduce, same_shape, Reduction};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use std::f64::consts::PI;

api! {
    LOSSES_OPS = mod nn {
        /// `|x1 - x2 + eps|_p` over the last dimension (`F.pairwise_distance`), broadcast.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let d = nn::pairwise_distance(&Tensor::new([[3.0, 0.0]]), &Tensor::new([[0.0, 4.0]]), 2.0, 0.0, false);
        /// assert_eq!(d.to_vec::<f32>(), vec![5.0]);
        /// assert!(nn::try_pairwise_distance(&Tensor::ones(&[2]), &Tensor::ones(&[3]), 2.0, 0.0, false).is_err());
        /// ```
        pub fn pairwise_distance / try_pairwise_distance(x1: &Tensor, x2: &Tensor, p: f64 = 2.0, eps: f64 = 1e-6, keepdim: bool = false) -> Tensor {
            let d = x1.to_float().try_sub(&x2.to_float())?.add_scalar(eps);
            if d.dim() == 0 {
                // One coordinate: its absolute value is every p-norm.
                return Ok(crate::autograd::relabel_over(d.abs(), "NormBackward1"));
            }
            Ok(crate::autograd::relabel_over(d.try_norm_dims(p, &[-1], keepdim)?, "NormBackward1"))
        }

        /// Attention (`F.scaled_dot_product_attention`): `softmax(q k^T * scale + mask) v` over
        /// the last two dimensions (`query` `[.., L, E]`, `key` `[.., S, E]`, `value`
        /// `[.., S, Ev]`, batch dimensions broadcast). `scale` defaults to `1 / sqrt(E)`;
        /// `attn_mask` is a bool mask (true: attend) or an additive float one, broadcast to
        /// `[.., L, S]`; `is_causal` masks each position's future; `dropout_p` drops attention
        /// weights (in training, as `F.dropout`).
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let q = Tensor::ones(&[1, 2, 4]);
        /// let v = Tensor::new([[[1.0], [3.0]]]);
        /// let y = nn::scaled_dot_product_attention(&q, &q, &v, None, 0.0, false, None);
        /// assert_eq!(y.to_vec::<f32>(), vec![2.0, 2.0]);
        /// let causal = nn::scaled_dot_product_attention(&q, &q, &v, None, 0.0, true, None);
        /// assert_eq!(causal.to_vec::<f32>(), vec![1.0, 2.0]);
        /// assert!(nn::try_scaled_dot_product_attention(&q, &Tensor::ones(&[1, 2, 3]), &v, None, 0.0, false, None).is_err());
        /// ```
        pub fn scaled_dot_product_attention / try_scaled_dot_product_attention(query: &Tensor, key: &Tensor, value: &Tensor, attn_mask: Option<&Tensor> = None, dropout_p: f64 = 0.0, is_causal: bool = false, scale: Option<f64> = None) -> Tensor {
            sdpa(query, key, value, attn_mask, dropout_p, is_causal, scale)
        }

        /// The two-class logistic loss `log(1 + exp(-target * input))` (`F.soft_margin_loss`;
        /// targets are 1 or -1).
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let l = nn::soft_margin_loss(&Tensor::new([0.0]), &Tensor::new([1.0]), nn::Reduction::Sum);
        /// assert!((l.item() - 2f64.ln()).abs() < 1e-6);
        /// assert!(nn::try_soft_margin_loss(&Tensor::ones(&[2]), &Tensor::ones(&[3]), nn::Reduction::Sum).is_err());
        /// ```
        pub fn soft_margin_loss / try_soft_margin_loss(input: &Tensor, target: &Tensor, reduction: Reduction = Reduction::Mean) -> Tensor {
            same_shape("soft_margin_loss", input, target)?;
            let z = target.to_float().neg().try_mul(&input.to_float())?;
            Ok(crate::autograd::relabel_over(reduce(z.softplus(), reduction), "SoftMarginLossBackward0"))
        }

        /// `input` where `target` is 1 and `max(0, margin - input)` where it is -1 (both where
        /// it is neither), as `F.hinge_embedding_loss`.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let l = nn::hinge_embedding_loss(&Tensor::new([0.3, 0.3]), &Tensor::new([1.0, -1.0]), 1.0, nn::Reduction::None);
        /// assert_eq!(l.to_vec::<f32>(), vec![0.3, 0.7]);
        /// assert!(nn::try_hinge_embedding_loss(&Tensor::ones(&[2]), &Tensor::ones(&[3]), 1.0, nn::Reduction::Sum).is_err());
        /// ```
        pub fn hinge_embedding_loss / try_hinge_embedding_loss(input: &Tensor, target: &Tensor, margin: f64 = 1.0, reduction: Reduction = Reduction::Mean) -> Tensor {
            let x = input.to_float();
            let t = target.to_float();
            let hinge = x.rsub_scalar(margin).clamp(Some(0.0), None);
            let shape = crate::layout::broadcast("hinge_embedding_loss", x.shape(), t.shape())?;
            let (x, t, hinge) = (x.try_broadcast_to(&shape)?, t.try_broadcast_to(&shape)?, hinge.try_broadcast_to(&shape)?);
            let margin_part = hinge.try_masked_fill(&t.eq_scalar(1.0), 0.0)?;
            let self_part = x.try_masked_fill(&t.eq_scalar(-1.0), 0.0)?;
            Ok(reduce(margin_part.try_add(&self_part)?, reduction))
        }

        /// The Poisson negative log-likelihood (`F.poisson_nll_loss`): `exp(input) - target *
        /// input` for log-rates (`log_input`), else `input - target * log(input + eps)`; `full`
        /// adds Stirling's approximation of `log(target!)` where `target > 1`.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let l = nn::poisson_nll_loss(&Tensor::new([0.0]), &Tensor::new([2.0]), true, false, 1e-8, nn::Reduction::Sum);
        /// assert_eq!(l.item(), 1.0);
        /// assert!(nn::try_poisson_nll_loss(&Tensor::ones(&[2]), &Tensor::ones(&[3]), true, false, 1e-8, nn::Reduction::Sum).is_err());
        /// ```
        pub fn poisson_nll_loss / try_poisson_nll_loss(input: &Tensor, target: &Tensor, log_input: bool = true, full: bool = false, eps: f64 = 1e-8, reduction: Reduction = Reduction::Mean) -> Tensor {
            let (x, t) = (input.to_float(), target.to_float());
            let mut loss = if log_input {
                x.exp().try_sub(&t.try_mul(&x)?)?
            } else {
                x.try_sub(&t.try_mul(&x.add_scalar(eps).log())?)?
            };
            if full {
                let stirling = t.try_mul(&t.log())?.try_sub(&t)?.try_add(&t.mul_scalar(2.0 * PI).log().mul_scalar(0.5))?;
                let small = t.le_scalar(1.0);
                loss = loss.try_add(&stirling.try_masked_fill(&small, 0.0)?)?;
            }
            Ok(reduce(loss, reduction))
        }

        /// The Gaussian negative log-likelihood (`F.gaussian_nll_loss`): `0.5 (log var +
        /// (input - target)^2 / var)` (plus `0.5 log(2 pi)` when `full`), the variance clamped
        /// below at `eps` for the value only (its gradient passes as if unclamped, as
        /// PyTorch's in-place clamp under no_grad). `var` has `input`'s shape, or one dimension
        /// fewer, or a last dimension of 1 (one variance per row).
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let l = nn::gaussian_nll_loss(&Tensor::new([1.0]), &Tensor::new([3.0]), &Tensor::new([2.0]), false, 1e-6, nn::Reduction::Sum);
        /// assert!((l.item() - 0.5 * (2f64.ln() + 2.0)).abs() < 1e-6);
        /// assert!(nn::try_gaussian_nll_loss(&Tensor::ones(&[2]), &Tensor::ones(&[2]), &Tensor::ones(&[3]), false, 1e-6, nn::Reduction::Sum).is_err());
        /// ```
        pub fn gaussian_nll_loss / try_gaussian_nll_loss(input: &Tensor, target: &Tensor, var: &Tensor, full: bool = false, eps: f64 = 1e-6, reduction: Reduction = Reduction::Mean) -> Tensor {
            const OP: &str = "gaussian_nll_loss";
            let (x, t) = (input.to_float(), target.to_float());
            let mut v = var.to_float();
            if v.shape() != x.shape() {
                let n = x.dim();
                if n > 0 && v.dim() + 1 == n && v.shape() == &x.shape()[..n - 1] {
                    v = v.unsqueeze(-1);
                } else if !(v.dim() == n && n > 0 && v.shape()[n - 1] == 1 && v.shape()[..n - 1] == x.shape()[..n - 1]) {
                    return Err(Error::invalid(OP, "var is of incorrect size"));
                }
            }
            // (Under vmap the values cannot be read: the check is skipped, as the negative
            // entries then give NaN through the log.)
            if !v.is_batched() && v.lt_scalar(0.0).any(&[], false).item() != 0.0 {
                return Err(Error::invalid(OP, "var has negative entry/entries"));
            }
            let clamped = v.clamp(Some(eps), None);
            let v = v.try_add(&clamped.try_sub(&v)?.detach())?;
            let sq = x.try_sub(&t)?.pow(2.0);
            let mut loss = v.log().try_add(&sq.try_div(&v)?)?.mul_scalar(0.5);
            if full {
                loss = loss.add_scalar(0.5 * (2.0 * PI).ln());
            }
            Ok(reduce(loss, reduction))
        }

        /// `1 - cos(x1, x2)` where `target` is 1 and `max(0, cos(x1, x2) - margin)` where it
        /// is -1, the cosine over the last dimension (`F.cosine_embedding_loss`, PyTorch's
        /// `eps` 1e-12 in the norms).
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let (a, b) = (Tensor::new([[1.0, 0.0]]), Tensor::new([[0.0, 1.0]]));
        /// let l = nn::cosine_embedding_loss(&a, &b, &Tensor::new([1.0]), 0.0, nn::Reduction::Sum);
        /// assert_eq!(l.item(), 1.0);
        /// assert!(nn::try_cosine_embedding_loss(&a, &Tensor::ones(&[1, 3]), &Tensor::new([1.0]), 0.0, nn::Reduction::Sum).is_err());
        /// ```
        pub fn cosine_embedding_loss / try_cosine_embedding_loss(input1: &Tensor, input2: &Tensor, target: &Tensor, margin: f64 = 0.0, reduction: Reduction = Reduction::Mean) -> Tensor {
            const OP: &str = "cosine_embedding_loss";
            const EPS: f64 = 1e-12;
            if input1.shape() != input2.shape() || input1.dim() == 0 || input1.dim() > 2 {
                return Err(Error::invalid(OP, format!(
                    "cosine_embedding_loss: input1 and input2 must be 1-D or 2-D tensors of one shape, got {:?} and {:?}",
                    input1.shape(), input2.shape()
                )));
            }
            let d = input1.dim() as isize - 1;
            let (a, b) = (input1.to_float(), input2.to_float());
            let prod = a.try_mul(&b)?.try_sum_dims(&[d], false)?;
            let m1 = a.try_mul(&a)?.try_sum_dims(&[d], false)?.add_scalar(EPS);
            let m2 = b.try_mul(&b)?.try_sum_dims(&[d], false)?.add_scalar(EPS);
            let cos = prod.try_div(&m1.try_mul(&m2)?.sqrt())?;
            let t = target.to_float();
            let pos = cos.rsub_scalar(1.0);
            let neg = cos.sub_scalar(margin).clamp(Some(0.0), None);
            let shape = crate::layout::broadcast(OP, cos.shape(), t.shape())?;
            let (t, pos, neg) = (t.try_broadcast_to(&shape)?, pos.try_broadcast_to(&shape)?, neg.try_broadcast_to(&shape)?);
            let loss = pos.try_masked_fill(&t.ne_scalar(1.0), 0.0)?
                .try_add(&neg.try_masked_fill(&t.ne_scalar(-1.0), 0.0)?)?;
            Ok(reduce(loss, reduction))
        }
    }
}

fn sdpa(
    query: &Tensor,
    key: &Tensor,
    value: &Tensor,
    attn_mask: Option<&Tensor>,
    dropout_p: f64,
    is_causal: bool,
    scale: Option<f64>,
) -> Result<Tensor> {
    const OP: &str = "scaled_dot_product_attention";
    for (t, name) in [(query, "query"), (key, "key"), (value, "value")] {
        if t.dim() < 2 {
            return Err(Error::invalid(
                OP,
                format!("{name} must be at least 2-d, got shape {:?}", t.shape()),
            ));
        }
    }
    let e = query.shape()[query.dim() - 1];
    if key.shape()[key.dim() - 1] != e
        || key.shape()[key.dim() - 2] != value.shape()[value.dim() - 2]
    {
        return Err(Error::invalid(
            OP,
            format!(
                "expected query [.., L, E], key [.., S, E] and value [.., S, Ev], got {:?}, {:?} and {:?}",
                query.shape(),
                key.shape(),
                value.shape()
            ),
        ));
    }
    if is_causal && attn_mask.is_some() {
        return Err(Error::invalid(
            OP,
            "_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True",
        ));
    }
    let scale = scale.unwrap_or(1.0 / (e as f64).sqrt());
    let scores = query
        .try_matmul(&key.try_transpose(-2, -1)?)?
        .mul_scalar(scale);
    let (l, s) = (query.shape()[query.dim() - 2], key.shape()[key.dim() - 2]);
    let scores = if is_causal {
        let future = Tensor::ones(&[l, s]).try_tril(0)?.eq_scalar(0.0);
        scores.try_masked_fill(&future.try_broadcast_to(scores.shape())?, f64::NEG_INFINITY)?
    } else {
        match attn_mask {
            None => scores,
            Some(m) if m.dtype() == crate::DType::Bool => {
                let shape = crate::layout::broadcast(OP, scores.shape(), m.shape())?;
                scores.try_broadcast_to(&shape)?.try_masked_fill(
                    &m.logical_not().try_broadcast_to(&shape)?,
                    f64::NEG_INFINITY,
                )?
            }
            Some(m) => scores.try_add(m)?,
        }
    };
    let weights = scores.try_softmax(-1)?;
    let weights = if dropout_p > 0.0 {
        super::nn::try_dropout(&weights, dropout_p, true)?
    } else {
        weights
    };
    weights.try_matmul(value)
}
