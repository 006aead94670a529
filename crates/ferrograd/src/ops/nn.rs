//! Neural-network functions (`torch.nn.functional`): softmax and log_softmax (primitives of the
//! reduction form, see `ops/reduce.rs`, with PyTorch's rules), losses, linear, dropout,
//! layer_norm, and convolutions (im2col through the `Take` primitive plus a batched matmul, so
//! every derivative order works with no extra rule).
//!
//! Every public function is one `api!` item. Those taking an options struct
//! ([`ClassOptions`], [`ConvOptions`]) are twins only in Rust; their registry rows are
//! wrappers with PyTorch's keyword arguments (`weight`, `ignore_index`, `reduction`,
//! `label_smoothing`; `stride`, `padding`, `dilation`, `groups`) that build the options.

use super::index::{take, IndexMap};
use super::reduce::{reduce as reduce_over, Dims, Over, Reduce};
use crate::autograd::node::{BackwardArgs, SavedTensor, Saver};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::forward_ad::Jvp;
use crate::tensor::Tensor;
use std::sync::Arc;

pub(crate) use registered::NN_KEYWORD_OPS;

// The layers of issue 15 (ops/layers.rs) belong to this module's public API.
pub use super::layers::*;
pub use super::losses::*;

/// How a loss combines its elementwise terms (`reduction=` in PyTorch).
///
/// ```
/// use ferrograd::{nn, Tensor};
/// let a = Tensor::new([1.0, 2.0]);
/// let b = Tensor::new([0.0, 0.0]);
/// assert_eq!(nn::mse_loss(&a, &b, nn::Reduction::Sum).item(), 5.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Reduction {
    /// No reduction: one loss per element.
    None,
    /// The mean (the default).
    #[default]
    Mean,
    /// The sum.
    Sum,
}

pub(crate) fn reduce(loss: Tensor, reduction: Reduction) -> Tensor {
    match reduction {
        Reduction::None => loss,
        Reduction::Mean => loss.mean(),
        Reduction::Sum => loss.sum(),
    }
}

pub(crate) fn same_shape(op: &'static str, a: &Tensor, b: &Tensor) -> Result<()> {
    if a.shape() != b.shape() {
        return Err(Error::invalid(
            op,
            format!(
                "Using a target size ({:?}) that is different to the input size ({:?}) is not supported",
                b.shape(),
                a.shape()
            ),
        ));
    }
    Ok(())
}

/// `softmax` and `log_softmax` along one dim (reduction-form primitives with PyTorch's rules).
#[derive(Clone, Copy)]
struct Softmax {
    log: bool,
}

impl Reduce for Softmax {
    type Saved = SavedTensor;
    fn op(self) -> &'static str {
        if self.log {
            "log_softmax"
        } else {
            "softmax"
        }
    }
    fn name(self, _: &Over) -> &'static str {
        if self.log {
            "LogSoftmaxBackward0"
        } else {
            "SoftmaxBackward0"
        }
    }
    fn forward(self, x: &Tensor, over: &Over) -> Result<Tensor> {
        if x.dim() > 0 {
            // One kernel, the composite below's operations in its order (the same values).
            return crate::raw::softmax(x, over.dims[0], self.log);
        }
        let d = over.dims[0] as isize;
        let y = crate::with_no_grad(|| -> Result<Tensor> {
            let z = shifted(&x.detach(), d)?;
            if self.log {
                z.try_sub(&z.exp().try_sum_dims(&[d], true)?.log())
            } else {
                let e = z.exp();
                e.try_div(&e.try_sum_dims(&[d], true)?)
            }
        })?;
        Ok(y.detach())
    }
    fn save(self, s: &mut Saver, _: &Tensor) -> SavedTensor {
        s.save_output()
    }
    fn backward(self, a: &BackwardArgs, &y: &SavedTensor, g: &Tensor, over: &Over) -> Tensor {
        let (y, d) = (&a[y], over.dims[0] as isize);
        if fused_backward(y, g) {
            // The rule below in one kernel, where nothing is recorded (no create_graph).
            return crate::unwrap(crate::raw::softmax_backward(y, g, over.dims[0], self.log));
        }
        if self.log {
            // PyTorch: grad - exp(y) * grad.sum(dim, keepdim=True)
            g - &(&y.exp() * &g.sum_dims(&[d], true))
        } else {
            // PyTorch: y * (grad - (grad * y).sum(dim, keepdim=True))
            y * &(g - &(g * y).sum_dims(&[d], true))
        }
    }
    fn jvp(self, j: &Jvp, t: &Tensor, over: &Over) -> Tensor {
        if over.input.is_empty() {
            return t.zeros_like(); // softmax of one element is 1
        }
        let (y, d) = (j.out(), j.dim(over.dims[0]));
        if self.log {
            t - &(&y.exp() * t).sum_dims(&[d], true)
        } else {
            y * &(t - &(t * y).sum_dims(&[d], true))
        }
    }
}

api! {
    NN_TENSOR_OPS = impl Tensor {
        /// Softmax along `dim`, computed stably (shifted by the maximum).
        ///
        /// ```
        /// let p = ferrograd::Tensor::new([1000.0, 1000.0]).softmax(0);
        /// assert_eq!(p.to_vec::<f32>(), vec![0.5, 0.5]);
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_softmax(1).is_err());
        /// ```
        pub fn softmax / try_softmax(&self, dim: isize) -> Tensor {
            reduce_over(Softmax { log: false }, &self.to_float(), Dims::Along(dim))
        }

        /// `log(softmax(x))` along `dim`, computed stably (no `log(0)` for large logits).
        ///
        /// ```
        /// let l = ferrograd::Tensor::new([0.0, 1000.0]).log_softmax(0);
        /// assert_eq!(l.to_vec::<f32>(), vec![-1000.0, 0.0]);
        /// assert!(ferrograd::Tensor::zeros(&[2]).try_log_softmax(-2).is_err());
        /// ```
        pub fn log_softmax / try_log_softmax(&self, dim: isize) -> Tensor {
            reduce_over(Softmax { log: true }, &self.to_float(), Dims::Along(dim))
        }
    }
}

/// Whether softmax's backward rule can run as one kernel: nothing to record (no graph is
/// built, no tangent carried), plain tensors of one shape and dtype.
fn fused_backward(y: &Tensor, g: &Tensor) -> bool {
    let records = crate::is_grad_enabled() && (y.requires_grad() || g.requires_grad());
    !records
        && !crate::forward_ad::active()
        && !y.is_batched()
        && !g.is_batched()
        && y.dim() > 0
        && y.shape() == g.shape()
        && y.dtype() == g.dtype()
}

/// `x - max(x)` along `d` (a constant shift). An infinite maximum is subtracted too, as in
/// PyTorch: a slice holding `+inf` (or only `-inf`) becomes NaN, and so does its softmax.
fn shifted(x: &Tensor, d: isize) -> Result<Tensor> {
    if x.numel() == 0 {
        return Ok(x.clone());
    }
    let m = x.detach().try_amax(&[d], true)?;
    x.try_sub(&m)
}

/// Class targets: int64 class indices (`[N]`, `[]`, or `[N, d1, ...]`) or probabilities with
/// the input's shape.
fn is_index_target(target: &Tensor) -> bool {
    target.dtype() == DType::I64
}

/// Options of [`cross_entropy`] and [`nll_loss`] (PyTorch's keyword arguments).
///
/// ```
/// let o = ferrograd::nn::ClassOptions { label_smoothing: 0.1, ..Default::default() };
/// assert_eq!(o.ignore_index, -100);
/// ```
#[derive(Clone, Debug)]
pub struct ClassOptions {
    /// A weight per class (`[C]`).
    pub weight: Option<Tensor>,
    /// How the per-sample losses are combined.
    pub reduction: Reduction,
    /// Targets with this class index contribute nothing (index targets only).
    pub ignore_index: i64,
    /// Mixes the target with the uniform distribution: `(1 - eps) * target + eps / C`.
    pub label_smoothing: f64,
}

impl Default for ClassOptions {
    fn default() -> Self {
        ClassOptions {
            weight: None,
            reduction: Reduction::Mean,
            ignore_index: -100,
            label_smoothing: 0.0,
        }
    }
}

api! {
    NN_OPS = mod nn {
        /// Mean squared error (`F.mse_loss`).
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// assert_eq!(nn::mse_loss(&Tensor::new([1.0, 3.0]), &Tensor::new([0.0, 0.0]), Default::default()).item(), 5.0);
        /// assert!(nn::try_mse_loss(&Tensor::zeros(&[2]), &Tensor::zeros(&[3]), Default::default()).is_err());
        /// ```
        pub fn mse_loss / try_mse_loss(input: &Tensor, target: &Tensor, reduction: Reduction = Reduction::Mean) -> Tensor {
            super::named(mse_loss_impl(input, target, reduction), "MseLossBackward0")
        }

        /// Mean absolute error (`F.l1_loss`).
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// assert_eq!(nn::l1_loss(&Tensor::new([1.0, -3.0]), &Tensor::new([0.0, 0.0]), Default::default()).item(), 2.0);
        /// assert!(nn::try_l1_loss(&Tensor::zeros(&[2]), &Tensor::zeros(&[3]), Default::default()).is_err());
        /// ```
        pub fn l1_loss / try_l1_loss(input: &Tensor, target: &Tensor, reduction: Reduction = Reduction::Mean) -> Tensor {
            l1_loss_impl(input, target, reduction)
        }

        /// Smooth L1 (`F.smooth_l1_loss`): `0.5 d^2 / beta` where `|d| < beta`, else `|d| - beta / 2`.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let l = nn::smooth_l1_loss(&Tensor::new([0.5, 3.0]), &Tensor::new([0.0, 0.0]), nn::Reduction::None, 1.0);
        /// assert_eq!(l.to_vec::<f32>(), vec![0.125, 2.5]);
        /// assert!(nn::try_smooth_l1_loss(&Tensor::zeros(&[2]), &Tensor::zeros(&[3]), Default::default(), 1.0).is_err());
        /// ```
        pub fn smooth_l1_loss / try_smooth_l1_loss(input: &Tensor, target: &Tensor, reduction: Reduction = Reduction::Mean, beta: f64 = 1.0) -> Tensor {
            super::named(smooth_l1_loss_impl(input, target, reduction, beta), "SmoothL1LossBackward0")
        }

        /// Huber loss (`F.huber_loss`): `0.5 d^2` where `|d| < delta`, else `delta (|d| - delta / 2)`.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let l = nn::huber_loss(&Tensor::new([0.5, 3.0]), &Tensor::new([0.0, 0.0]), nn::Reduction::None, 2.0);
        /// assert_eq!(l.to_vec::<f32>(), vec![0.125, 4.0]);
        /// assert!(nn::try_huber_loss(&Tensor::zeros(&[2]), &Tensor::zeros(&[3]), Default::default(), 1.0).is_err());
        /// ```
        pub fn huber_loss / try_huber_loss(input: &Tensor, target: &Tensor, reduction: Reduction = Reduction::Mean, delta: f64 = 1.0) -> Tensor {
            super::named(huber_loss_impl(input, target, reduction, delta), "HuberLossBackward0")
        }

        /// Binary cross-entropy of probabilities (`F.binary_cross_entropy`), each log clamped at -100
        /// as in PyTorch, with optional per-element weights. Its derivatives are PyTorch's formulas, so
        /// a probability of exactly 0 or 1 (a sigmoid that rounded) gives finite gradients, not NaN.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let l = nn::binary_cross_entropy(&Tensor::new([0.5]), &Tensor::new([1.0]), None, Default::default());
        /// assert!((l.item() - 2f64.ln()).abs() < 1e-6);
        /// assert!(nn::try_binary_cross_entropy(&Tensor::zeros(&[2]), &Tensor::zeros(&[3]), None, Default::default()).is_err());
        /// ```
        pub fn binary_cross_entropy / try_binary_cross_entropy(input: &Tensor, target: &Tensor, weight: Option<&Tensor> = None, reduction: Reduction = Reduction::Mean) -> Tensor {
            super::named(binary_cross_entropy_impl(input, target, weight, reduction), "BinaryCrossEntropyBackward0")
        }

        /// Binary cross-entropy on logits (`F.binary_cross_entropy_with_logits`), computed stably, with
        /// optional per-element `weight` and `pos_weight` (broadcast over the last dimension).
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let l = nn::binary_cross_entropy_with_logits(&Tensor::new([100.0]), &Tensor::new([0.0]), None, None, Default::default());
        /// assert_eq!(l.item(), 100.0);
        /// assert!(nn::try_binary_cross_entropy_with_logits(&Tensor::zeros(&[2]), &Tensor::zeros(&[3]), None, None, Default::default()).is_err());
        /// ```
        pub fn binary_cross_entropy_with_logits / try_binary_cross_entropy_with_logits(input: &Tensor, target: &Tensor, weight: Option<&Tensor> = None, pos_weight: Option<&Tensor> = None, reduction: Reduction = Reduction::Mean) -> Tensor {
            super::named(binary_cross_entropy_with_logits_impl(input, target, weight, pos_weight, reduction), "BinaryCrossEntropyWithLogitsBackward0")
        }

        /// `input @ weight^T + bias` (`F.linear`), `weight` is `[out, in]`.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let y = nn::linear(&Tensor::ones(&[2, 3]), &Tensor::ones(&[4, 3]), Some(&Tensor::zeros(&[4])));
        /// assert_eq!(y.shape(), &[2, 4]);
        /// assert!(nn::try_linear(&Tensor::ones(&[2, 3]), &Tensor::ones(&[4, 2]), None).is_err());
        /// ```
        pub fn linear / try_linear(input: &Tensor, weight: &Tensor, bias: Option<&Tensor> = None) -> Tensor {
            linear_impl(input, weight, bias)
        }

        /// Dropout (`F.dropout`): in training, zeroes each element with probability `p` (from the
        /// generator that [`manual_seed`](crate::manual_seed) seeds) and scales the rest by
        /// `1 / (1 - p)`; the identity otherwise.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let x = Tensor::ones(&[1000]);
        /// assert_eq!(nn::dropout(&x, 0.5, false).sum().item(), 1000.0);
        /// let y = nn::dropout(&x, 0.5, true);
        /// assert!(y.to_vec::<f32>().iter().all(|&v| v == 0.0 || v == 2.0));
        /// assert!(ferrograd::nn::try_dropout(&ferrograd::Tensor::ones(&[2]), 1.5, true).is_err());
        /// ```
        pub fn dropout / try_dropout(input: &Tensor, p: f64 = 0.5, training: bool = true) -> Tensor {
            dropout_impl(input, p, training)
        }

        /// Layer normalization over the trailing `normalized_shape` dimensions (`F.layer_norm`):
        /// `(input - mean) / sqrt(var + eps) * weight + bias`, biased variance.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let y = nn::layer_norm(&Tensor::new([[1.0, 3.0]]), &[2], None, None, 1e-5);
        /// assert!((y.to_vec::<f32>()[1] - 1.0).abs() < 1e-4);
        /// assert!(nn::try_layer_norm(&Tensor::ones(&[2, 3]), &[2], None, None, 1e-5).is_err());
        /// ```
        pub fn layer_norm / try_layer_norm(input: &Tensor, normalized_shape: &[usize], weight: Option<&Tensor> = None, bias: Option<&Tensor> = None, eps: f64 = 1e-5) -> Tensor {
            super::named(layer_norm_impl(input, normalized_shape, weight, bias, eps), "NativeLayerNormBackward0")
        }
    }
}

api! {
    mod nn {
        /// Negative log-likelihood of class-index targets given log-probabilities (`F.nll_loss`):
        /// `input` is `[N, C]` (or `[C]`, or `[N, C, d1, ...]`), `target` int64 `[N]` (or `[]`,
        /// `[N, d1, ...]`). The registry row (and the bindings) take PyTorch's keywords `weight`,
        /// `ignore_index` and `reduction` in place of the options.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let logp = Tensor::new([[0.5f64.ln(), 0.5f64.ln()], [0.25f64.ln(), 0.75f64.ln()]]);
        /// let loss = nn::nll_loss(&logp, &Tensor::new([0, 1]), nn::ClassOptions::default());
        /// assert!((loss.item() - (-(0.5f64.ln()) - 0.75f64.ln()) / 2.0).abs() < 1e-6);
        /// let e = nn::try_nll_loss(&Tensor::zeros(&[1, 2]), &Tensor::new([2]), Default::default()).unwrap_err();
        /// assert!(e.to_string().contains("Target 2 is out of bounds"));
        /// ```
        pub fn nll_loss / try_nll_loss(input: &Tensor, target: &Tensor, options: ClassOptions) -> Tensor {
            nll_named(input, nll_loss_impl(input, target, options))
        }

        /// Cross-entropy between logits and targets (`F.cross_entropy`): class-index targets (int64) or
        /// class probabilities (the input's shape), with class weights, `ignore_index`, label smoothing
        /// and a reduction. `input` is `[N, C]`, `[C]` or `[N, C, d1, ...]`. The registry row (and the
        /// bindings) take PyTorch's keywords `weight`, `ignore_index`, `reduction` and
        /// `label_smoothing` in place of the options.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let logits = Tensor::new([[2.0, 0.0], [0.0, 2.0]]).requires_grad_(true);
        /// let loss = nn::cross_entropy(&logits, &Tensor::new([0, 1]), Default::default());
        /// assert!((loss.item() - (1.0 + (-2.0f64).exp()).ln()).abs() < 1e-6);
        /// loss.backward();
        /// assert!(nn::try_cross_entropy(&Tensor::zeros(&[2, 3]), &Tensor::zeros(&[2, 2]), Default::default()).is_err());
        /// ```
        pub fn cross_entropy / try_cross_entropy(input: &Tensor, target: &Tensor, options: ClassOptions) -> Tensor {
            let (indices, smooth) = (target.dtype() == DType::I64, options.label_smoothing != 0.0);
            let loss = cross_entropy_impl(input, target, options);
            match indices && !smooth {
                true => nll_named(input, loss),
                false => loss,
            }
        }

        /// 2-d convolution (cross-correlation, as PyTorch): `input` `[N, C, H, W]` (or `[C, H, W]`),
        /// `weight` `[O, C / groups, kH, kW]`, optional `bias` `[O]`. The registry row (and the
        /// bindings) take PyTorch's keywords `stride`, `padding`, `dilation` (an int or two) and
        /// `groups` in place of the options.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let x = Tensor::ones(&[1, 1, 4, 4]);
        /// let w = Tensor::ones(&[2, 1, 3, 3]);
        /// let y = nn::conv2d(&x, &w, None, nn::ConvOptions { padding: [1, 1], ..Default::default() });
        /// assert_eq!(y.shape(), &[1, 2, 4, 4]);
        /// assert_eq!(y.to_vec::<f32>()[5], 9.0);
        /// let e = nn::try_conv2d(&Tensor::ones(&[1, 2, 4, 4]), &Tensor::ones(&[1, 3, 3, 3]), None, Default::default());
        /// assert!(e.unwrap_err().to_string().contains("expected input"));
        /// ```
        pub fn conv2d / try_conv2d(input: &Tensor, weight: &Tensor, bias: Option<&Tensor>, options: ConvOptions) -> Tensor {
            conv2d_impl(input, weight, bias, options)
        }

        /// 1-d convolution: `input` `[N, C, L]` (or `[C, L]`), `weight` `[O, C / groups, k]`; the
        /// options' second entries apply. The registry row (and the bindings) take PyTorch's keywords
        /// `stride`, `padding`, `dilation` (an int or a list of one) and `groups` in place of the
        /// options.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let y = nn::conv1d(&Tensor::ones(&[1, 1, 5]), &Tensor::ones(&[1, 1, 2]), None, Default::default());
        /// assert_eq!(y.to_vec::<f32>(), vec![2.0; 4]);
        /// assert!(nn::try_conv1d(&Tensor::ones(&[1, 1, 2]), &Tensor::ones(&[1, 1, 3]), None, Default::default()).is_err());
        /// ```
        pub fn conv1d / try_conv1d(input: &Tensor, weight: &Tensor, bias: Option<&Tensor>, options: ConvOptions) -> Tensor {
            conv1d_impl(input, weight, bias, options)
        }
    }
}

/// Moves the class dimension (1, or 0 for an unbatched input) last and flattens the rest:
/// `[N, C, d1, ...]` to `[N * d1 * ..., C]`.
fn classes_last(input: &Tensor) -> Result<Tensor> {
    match input.dim() {
        0 => Err(Error::invalid(
            "cross_entropy",
            "input must have at least 1 dimension (the classes)",
        )),
        1 => input.try_unsqueeze(0),
        2 => Ok(input.clone()),
        n => {
            let mut perm: Vec<isize> = vec![0];
            perm.extend(2..n as isize);
            perm.push(1);
            let c = input.shape()[1];
            input
                .try_permute(&perm)?
                .try_reshape(&[input.numel() / c.max(1), c])
        }
    }
}

/// The class of each target as int64 `[n]` (ignored targets read class 0) and a `[n]` mask of
/// `dtype` that is 0 for ignored targets, 1 otherwise.
fn class_index(t: &[i64], ignore_index: i64, dtype: DType) -> (Tensor, Tensor) {
    let n = t.len();
    let idx = Tensor::from_vec(
        t.iter()
            .map(|&k| if k == ignore_index { 0.0 } else { k as f64 })
            .collect(),
        &[n],
    )
    .to_dtype(DType::I64);
    let keep = Tensor::from_vec(
        t.iter()
            .map(|&k| (k != ignore_index) as u8 as f64)
            .collect(),
        &[n],
    )
    .to_dtype(dtype);
    (idx, keep)
}

fn nll_loss_impl(input: &Tensor, target: &Tensor, options: ClassOptions) -> Result<Tensor> {
    if !input.dtype().is_floating_point() {
        return Err(Error::invalid(
            "nll_loss",
            format!(
                "expected floating log-probabilities, got a {} input of shape {:?}",
                input.dtype(),
                input.shape()
            ),
        ));
    }
    if input.is_batched() || target.is_batched() {
        return nll_loss_batched(input, target, options);
    }
    let logp = classes_last(input)?;
    let c = logp.shape()[1];
    let t: Vec<i64> = target.to_dtype(DType::I64).contiguous_vec::<i64>();
    if t.len() != logp.shape()[0] || target.dtype() != DType::I64 {
        return Err(Error::invalid(
            "nll_loss",
            format!(
                "Expected an int64 target with one class per sample: input {:?}, target {:?} ({})",
                input.shape(),
                target.shape(),
                target.dtype()
            ),
        ));
    }
    if let Some(&bad) = t
        .iter()
        .find(|&&k| k != options.ignore_index && (k < 0 || k >= c as i64))
    {
        return Err(Error::invalid(
            "nll_loss",
            format!("Target {bad} is out of bounds."),
        ));
    }
    if options.weight.is_none() && options.reduction != Reduction::None {
        return Ok(unweighted_nll(
            &logp,
            &t,
            options.ignore_index,
            options.reduction,
        ));
    }
    let (idx, keep) = class_index(&t, options.ignore_index, logp.dtype());
    let picked = logp.try_gather(1, &idx.unsqueeze(1))?.try_squeeze(1)?;
    let w = match &options.weight {
        Some(w) => w.to_dtype(logp.dtype()).try_index_select(0, &idx)?,
        None => picked.ones_like().detach(),
    };
    let w = &w * &keep;
    let losses = -&(&picked * &w);
    Ok(match options.reduction {
        Reduction::None => losses.try_reshape(target.shape())?,
        Reduction::Sum => losses.sum(),
        Reduction::Mean => &losses.sum() / &w.sum(),
    })
}

/// The sum or mean of `-logp[i, t[i]]` over the samples whose target is not `ignore_index`
/// (targets checked): one `take` of the kept entries, `neg`, `sum` and for the mean a division
/// by their count, so an ignored row is never read (PyTorch skips it: its `-inf` gives no NaN)
/// and no all-ones weight is built. With no target ignored the values are the weighted
/// form's with unit weights, bit for bit (`sum(-x) = -sum(x)` exactly, the count is exact);
/// all ignored gives PyTorch's 0 (sum) and NaN (mean).
fn unweighted_nll(logp: &Tensor, t: &[i64], ignore_index: i64, reduction: Reduction) -> Tensor {
    let picks: Arc<[[usize; 2]]> = t
        .iter()
        .enumerate()
        .filter(|&(_, &k)| k != ignore_index)
        .map(|(i, &k)| [i, k as usize])
        .collect();
    let kept = picks.len();
    let map: IndexMap = Arc::new(move |p: &[usize], src: &mut [usize]| {
        src.copy_from_slice(&picks[p[0]]);
    });
    let total = take("GatherBackward0", logp, &[kept], map).neg().sum();
    match reduction {
        Reduction::Mean => total.div_scalar(kept as f64),
        _ => total,
    }
}

/// The batching rule of `nll_loss`: the per-sample losses of every member at once (the batch
/// merged with the samples physically), then each member's reduction, in ops that batch.
fn nll_loss_batched(input: &Tensor, target: &Tensor, options: ClassOptions) -> Result<Tensor> {
    if input.dim() == 0 {
        return classes_last(input).map(|_| unreachable!("a 0-d input is refused"));
    }
    let per_sample = ClassOptions {
        reduction: Reduction::None,
        ..options.clone()
    };
    let ys = crate::autograd::levels::lowered_all(&[input.clone(), target.clone()], |p| {
        let (x, t) = (&p[0], &p[1]);
        let b = x.shape()[0];
        // [B, N, C, ...] as [B * N, C, ...]; [B, C] (one sample per member) stays.
        let (x, t) = match input.dim() {
            1 => (x.clone(), t.try_reshape(&[b])?),
            _ => {
                let mut xs = vec![b * x.shape()[1]];
                xs.extend_from_slice(&x.shape()[2..]);
                let mut ts = vec![b * t.shape().get(1).copied().unwrap_or(1)];
                ts.extend_from_slice(t.shape().get(2..).unwrap_or(&[]));
                (x.try_reshape(&xs)?, t.try_reshape(&ts)?)
            }
        };
        let l = nll_loss_impl(&x, &t, per_sample.clone())?;
        let mut shape = vec![b];
        shape.extend_from_slice(target.shape());
        Ok(vec![l.try_reshape(&shape)?])
    })?;
    let losses = &ys[0];
    Ok(match options.reduction {
        Reduction::None => losses.clone(),
        Reduction::Sum => losses.sum(),
        Reduction::Mean => {
            // Each sample's weight: its class's (1 without weights), 0 for ignored targets.
            let c = input.shape()[if input.dim() == 1 { 0 } else { 1 }];
            let mut at = vec![1; target.dim() + 1];
            at[target.dim()] = c;
            let classes = Tensor::from_vec((0..c as i64).collect::<Vec<_>>(), &at);
            let hit = target
                .unsqueeze(-1)
                .try_eq(&classes)?
                .to_dtype(losses.dtype());
            let w = match &options.weight {
                Some(w) => (&hit * &w.to_dtype(losses.dtype())).sum_dims(&[-1], false),
                None => hit.sum_dims(&[-1], false),
            };
            &losses.sum() / &w.sum()
        }
    })
}

fn cross_entropy_impl(input: &Tensor, target: &Tensor, options: ClassOptions) -> Result<Tensor> {
    let class_dim = if input.dim() == 1 { 0 } else { 1 };
    let logp = input.to_float().try_log_softmax(class_dim)?;
    let c = logp.shape().get(class_dim as usize).copied().unwrap_or(0);
    let eps = options.label_smoothing;
    if !is_index_target(target) {
        same_shape("cross_entropy", input, target)?;
        let mut t = target.to_dtype(logp.dtype());
        if eps > 0.0 {
            t = t.mul_scalar(1.0 - eps).add_scalar(eps / c as f64);
        }
        let mut terms = &logp * &t;
        if let Some(w) = &options.weight {
            let mut shape = vec![1usize; logp.dim()];
            shape[class_dim as usize] = c;
            terms = &terms * &w.to_dtype(logp.dtype()).try_reshape(&shape)?;
        }
        let per_sample = -&terms.try_sum_dims(&[class_dim], false)?;
        return Ok(reduce(per_sample, options.reduction));
    }
    let nll = try_nll_loss(
        &logp,
        target,
        ClassOptions {
            label_smoothing: 0.0,
            ..options.clone()
        },
    )?;
    if eps == 0.0 {
        return Ok(nll);
    }
    // PyTorch: (1 - eps) * nll + eps / C * smooth, smooth = -sum_c w_c logp_c per sample.
    let rows = classes_last(&logp)?;
    let t: Vec<i64> = target.contiguous_vec::<i64>();
    let (idx, keep) = class_index(&t, options.ignore_index, rows.dtype());
    let weighted = match &options.weight {
        Some(w) => &rows * &w.to_dtype(rows.dtype()),
        None => rows.clone(),
    };
    let smooth = &(-&weighted.try_sum_dims(&[1], false)?) * &keep;
    let smooth = match options.reduction {
        Reduction::None => smooth.try_reshape(target.shape())?,
        Reduction::Sum => smooth.sum(),
        Reduction::Mean => match &options.weight {
            Some(w) => {
                &smooth.sum()
                    / &(&w.to_dtype(rows.dtype()).try_index_select(0, &idx)? * &keep).sum()
            }
            None => &smooth.sum() / &keep.sum(),
        },
    };
    Ok(&nll.mul_scalar(1.0 - eps) + &smooth.mul_scalar(eps / c as f64))
}

/// PyTorch's node for a class-index loss of `input` `[C]` or `[N, C]`: `NllLossBackward0`
/// (other ranks keep the composite's last node).
fn nll_named(input: &Tensor, loss: Result<Tensor>) -> Result<Tensor> {
    match input.dim() {
        0..=2 => super::named(loss, "NllLossBackward0"),
        _ => loss,
    }
}

fn mse_loss_impl(input: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
    same_shape("mse_loss", input, target)?;
    Ok(reduce(input.try_sub(target)?.square(), reduction))
}

fn l1_loss_impl(input: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
    same_shape("l1_loss", input, target)?;
    Ok(reduce(input.try_sub(target)?.abs(), reduction))
}

fn smooth_l1_loss_impl(
    input: &Tensor,
    target: &Tensor,
    reduction: Reduction,
    beta: f64,
) -> Result<Tensor> {
    same_shape("smooth_l1_loss", input, target)?;
    let diff = input.try_sub(target)?;
    let d = diff.abs();
    if beta == 0.0 {
        return Ok(reduce(d, reduction));
    }
    // The quadratic branch squares the signed difference: |d|^2 through abs (derivative 0 at
    // 0) would lose the second derivative 1 / beta where input == target.
    let quad = diff.square().mul_scalar(0.5 / beta);
    let lin = d.sub_scalar(0.5 * beta);
    Ok(reduce(
        Tensor::where_(&d.lt_scalar(beta), &quad, &lin),
        reduction,
    ))
}

fn huber_loss_impl(
    input: &Tensor,
    target: &Tensor,
    reduction: Reduction,
    delta: f64,
) -> Result<Tensor> {
    same_shape("huber_loss", input, target)?;
    let diff = input.try_sub(target)?;
    let d = diff.abs();
    // The signed difference squared: smooth where input == target (second derivative 1).
    let quad = diff.square().mul_scalar(0.5);
    let lin = d.sub_scalar(0.5 * delta).mul_scalar(delta);
    Ok(reduce(
        Tensor::where_(&d.lt_scalar(delta), &quad, &lin),
        reduction,
    ))
}

fn binary_cross_entropy_impl(
    input: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: Reduction,
) -> Result<Tensor> {
    same_shape("binary_cross_entropy", input, target)?;
    for (t, what) in [(input, "input"), (target, "target")] {
        if !t
            .member_values_f64()
            .iter()
            .all(|v| (0.0..=1.0).contains(v))
        {
            return Err(Error::invalid(
                "binary_cross_entropy",
                format!("all elements of {what} should be between 0 and 1"),
            ));
        }
    }
    let mut loss = bce::loss(input, target)?;
    if let Some(w) = weight {
        loss = loss.try_mul(w)?;
    }
    Ok(reduce(loss, reduction))
}

/// PyTorch's binary cross-entropy kernels and their derivatives, exactly: the elementwise loss
/// `(t - 1) max(log1p(-p), -100) - t max(log p, -100)` (`BinaryCrossEntropyBackward0`), its
/// backward `grad (p - t) / max((1 - p) p, 1e-12f)` and the double backward, so the loss at
/// `p = 0` or `1` (a sigmoid that rounded) has PyTorch's finite values and gradients, not NaN.
mod bce {
    use super::super::{binary, grads, Binary};
    use crate::autograd::record;
    use crate::dtype::Float;
    use crate::error::Result;
    use crate::tensor::Tensor;

    /// PyTorch's `EPSILON` in the backward kernel: the `float` 1e-12, whatever the dtype.
    const EPS_F32: f64 = 1e-12f32 as f64;
    /// The `double` 1e-12 of PyTorch's double-backward formulas.
    const EPS: f64 = 1e-12;

    #[derive(Clone, Copy)]
    struct Loss;
    impl Binary for Loss {
        const NAME: &'static str = "BinaryCrossEntropyBackward0";
        const OP: &'static str = "binary_cross_entropy";
        fn f<T: Float>(self, p: T, t: T) -> T {
            let m = T::from_f64(-100.0);
            let lq = (-p).ln_1p();
            let lp = p.ln();
            let lq = if lq < m { m } else { lq };
            let lp = if lp < m { m } else { lp };
            (t - T::one()) * lq - t * lp
        }
        fn saves(_: [bool; 2]) -> [bool; 2] {
            [true, true]
        }
        fn df(
            self,
            p: Option<&Tensor>,
            t: Option<&Tensor>,
            g: &Tensor,
            n: [bool; 2],
        ) -> [Option<Tensor>; 2] {
            let (p, t) = (p.expect("saved"), t.expect("saved"));
            [
                n[0].then(|| backward(g, p, t)),
                // PyTorch: -logit(p) * grad (infinite at p = 0 or 1).
                n[1].then(|| -&(g * &(&p.log() - &p.neg().log1p()))),
            ]
        }
    }

    pub(super) fn loss(p: &Tensor, t: &Tensor) -> Result<Tensor> {
        binary(Loss, p, t)
    }

    /// `max((1 - p) p, eps)`, a constant of the graph (PyTorch clamps without grad).
    fn denom(p: &Tensor, eps: f64) -> Tensor {
        crate::with_no_grad(|| (&p.rsub_scalar(1.0) * p).clamp(Some(eps), None)).detach()
    }

    /// `grad (p - t) / max((1 - p) p, 1e-12f)`, differentiable in all three
    /// (`BinaryCrossEntropyBackwardBackward0`).
    fn backward(g: &Tensor, p: &Tensor, t: &Tensor) -> Tensor {
        let out = crate::with_no_grad(|| &(g * &(p - t)) / &denom(p, EPS_F32)).detach();
        let partials = |gg: &Tensor, g: &Tensor, p: &Tensor, t: &Tensor, i: usize| -> Tensor {
            let (pe, qe) = (p.add_scalar(EPS), p.rsub_scalar(1.0).add_scalar(EPS));
            match i {
                // d/d grad: (p - t) / ((p + eps)(1 - p + eps))
                0 => &(gg * &(p - t)) / &(&pe * &qe),
                // d/dp: (p^2 - 2 p t + t) / ((p + eps)^2 (1 - p + eps)^2)
                1 => {
                    let num = &(&(p * p) - &(p * t).mul_scalar(2.0)) + t;
                    &(&(gg * g) * &num) / &(&pe.pow(2.0) * &qe.pow(2.0))
                }
                // d/dt: -1 / max((1 - p) p, 1e-12)
                _ => -&(&(gg * g) / &denom(p, EPS)),
            }
        };
        record(
            "BinaryCrossEntropyBackwardBackward0",
            out,
            &[g, p, t],
            |_, s| {
                let saved = [s.save(g), s.save(p), s.save(t)];
                move |a| {
                    let [g, p, t] = saved.map(|h| &a[h]);
                    grads([0, 1, 2].map(|i| a.needs(i).then(|| partials(a.grad, g, p, t, i))))
                }
            },
            |j| {
                let n = j.out().dim();
                j.sum([0, 1, 2].map(|i| j.t(i).map(|ti| partials(&j.align(ti, n), g, p, t, i))))
            },
        )
    }
}

fn binary_cross_entropy_with_logits_impl(
    input: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    pos_weight: Option<&Tensor>,
    reduction: Reduction,
) -> Result<Tensor> {
    same_shape("binary_cross_entropy_with_logits", input, target)?;
    // PyTorch: (1 - t) x + lw (log1p(exp(-|x|)) + max(-x, 0)), lw = 1 + (pos_weight - 1) t.
    // softplus(-x) is one primitive: its pieces |x| and max(-x, 0) have kinks at 0 that cancel
    // in value but not in their derivatives' conventions.
    let softplus_neg = super::unary(SoftplusNeg, &input.to_float());
    let lw = match pos_weight {
        Some(pw) => pw.sub_scalar(1.0).try_mul(target)?.add_scalar(1.0),
        None => target.ones_like(),
    };
    let mut loss = &(&target.rsub_scalar(1.0) * input) + &(&lw * &softplus_neg);
    if let Some(w) = weight {
        loss = loss.try_mul(w)?;
    }
    Ok(reduce(loss, reduction))
}

fn linear_impl(x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    let y = x.try_matmul(&weight.try_t()?)?;
    match bias {
        Some(b) => y.try_add(b),
        None => Ok(y),
    }
}

fn dropout_impl(x: &Tensor, p: f64, training: bool) -> Result<Tensor> {
    if !(0.0..=1.0).contains(&p) {
        return Err(Error::invalid(
            "dropout",
            format!("dropout probability has to be between 0 and 1, but got {p}"),
        ));
    }
    if !training || p == 0.0 {
        return Ok(x.clone());
    }
    if p == 1.0 {
        return Ok(x.mul_scalar(0.0));
    }
    let keep = Tensor::rand_with(x.shape(), DType::F64).ge_scalar(p);
    Ok(x.masked_fill(&keep.logical_not(), 0.0).div_scalar(1.0 - p))
}

fn layer_norm_impl(
    x: &Tensor,
    normalized_shape: &[usize],
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f64,
) -> Result<Tensor> {
    let k = normalized_shape.len();
    if k > x.dim() || &x.shape()[x.dim() - k..] != normalized_shape {
        return Err(Error::invalid(
            "layer_norm",
            format!("Given normalized_shape={normalized_shape:?}, expected input with shape [*, {normalized_shape:?}], but got input of size {:?}", x.shape()),
        ));
    }
    let dims: Vec<isize> = (x.dim() - k..x.dim()).map(|d| d as isize).collect();
    let x = x.to_float();
    let mean = x.try_mean_dims(&dims, true)?;
    let var = x.try_var(&dims, 0.0, true)?;
    let mut y = (&x - &mean).try_mul(&var.add_scalar(eps).rsqrt())?;
    if let Some(w) = weight {
        y = y.try_mul(w)?;
    }
    if let Some(b) = bias {
        y = y.try_add(b)?;
    }
    Ok(y)
}

/// Options of [`conv1d`] and [`conv2d`]; one value per spatial dimension.
///
/// ```
/// let o = ferrograd::nn::ConvOptions::default();
/// assert_eq!((o.stride, o.padding, o.dilation, o.groups), ([1, 1], [0, 0], [1, 1], 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvOptions {
    /// Step between windows (height, width; conv1d uses the second).
    pub stride: [usize; 2],
    /// Zeros added on both sides.
    pub padding: [usize; 2],
    /// Spacing between kernel elements.
    pub dilation: [usize; 2],
    /// Input and output channels split into this many independent groups.
    pub groups: usize,
}

impl Default for ConvOptions {
    fn default() -> Self {
        ConvOptions {
            stride: [1, 1],
            padding: [0, 0],
            dilation: [1, 1],
            groups: 1,
        }
    }
}

fn conv2d_impl(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    o: ConvOptions,
) -> Result<Tensor> {
    if input.dim() == 3 {
        return try_conv2d(&input.try_unsqueeze(0)?, weight, bias, o)?.try_squeeze(0);
    }
    if input.dim() != 4 || weight.dim() != 4 {
        return Err(Error::invalid(
            "conv2d",
            format!(
                "expected a 4-d input [N, C, H, W] and 4-d weight, got input {:?} and weight {:?}",
                input.shape(),
                weight.shape()
            ),
        ));
    }
    let (n, c, h, w) = (
        input.shape()[0],
        input.shape()[1],
        input.shape()[2],
        input.shape()[3],
    );
    let (oc, icg, kh, kw) = (
        weight.shape()[0],
        weight.shape()[1],
        weight.shape()[2],
        weight.shape()[3],
    );
    let g = o.groups;
    if g == 0
        || c % g != 0
        || oc % g != 0
        || icg * g != c
        || o.stride.contains(&0)
        || o.dilation.contains(&0)
    {
        return Err(Error::invalid(
            "conv2d",
            format!(
                "Given groups={g}, weight of size {:?}, expected input{:?} to have {} channels, but got {c} channels instead (stride and dilation must be positive)",
                weight.shape(),
                input.shape(),
                icg * g
            ),
        ));
    }
    let span = |size: usize, k: usize, p: usize, d: usize, s: usize| -> Option<usize> {
        let eff = d * (k - 1) + 1;
        (size + 2 * p).checked_sub(eff).map(|r| r / s + 1)
    };
    let (Some(ho), Some(wo)) = (
        span(h, kh, o.padding[0], o.dilation[0], o.stride[0]),
        span(w, kw, o.padding[1], o.dilation[1], o.stride[1]),
    ) else {
        return Err(Error::invalid(
            "conv2d",
            format!(
                "Kernel size {:?} can't be greater than the padded input size ({}x{})",
                [kh, kw],
                h + 2 * o.padding[0],
                w + 2 * o.padding[1]
            ),
        ));
    };
    let x = input.to_float();
    let x = if o.padding != [0, 0] {
        let (ph, pw) = (o.padding[0] as isize, o.padding[1] as isize);
        x.try_pad(&[pw, pw, ph, ph], 0.0)?
    } else {
        x
    };
    // im2col: cols[n, c, i, j, oh, ow] = x[n, c, oh*sh + i*dh, ow*sw + j*dw]
    let (s, d) = (o.stride, o.dilation);
    let map: IndexMap = Arc::new(move |p, src| {
        src[0] = p[0];
        src[1] = p[1];
        src[2] = p[4] * s[0] + p[2] * d[0];
        src[3] = p[5] * s[1] + p[3] * d[1];
    });
    let cols = take("Im2ColBackward0", &x, &[n, c, kh, kw, ho, wo], map);
    let cols = cols.try_reshape(&[n, g, icg * kh * kw, ho * wo])?;
    let wmat = weight
        .to_dtype(x.dtype())
        .try_reshape(&[g, oc / g, icg * kh * kw])?;
    let out = wmat.try_matmul(&cols)?.try_reshape(&[n, oc, ho, wo])?;
    match bias {
        Some(b) => out.try_add(&b.to_dtype(x.dtype()).try_reshape(&[1, oc, 1, 1])?),
        None => Ok(out),
    }
}

fn conv1d_impl(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    options: ConvOptions,
) -> Result<Tensor> {
    if input.dim() == 2 {
        return try_conv1d(&input.try_unsqueeze(0)?, weight, bias, options)?.try_squeeze(0);
    }
    if input.dim() != 3 || weight.dim() != 3 {
        return Err(Error::invalid(
            "conv1d",
            format!(
                "expected a 3-d input [N, C, L] and 3-d weight, got input {:?} and weight {:?}",
                input.shape(),
                weight.shape()
            ),
        ));
    }
    let o = ConvOptions {
        stride: [1, options.stride[1]],
        padding: [0, options.padding[1]],
        dilation: [1, options.dilation[1]],
        groups: options.groups,
    };
    try_conv2d(&input.try_unsqueeze(2)?, &weight.try_unsqueeze(2)?, bias, o)
        .map_err(|e| match e {
            Error::Invalid { msg, .. } => Error::invalid("conv1d", msg),
            e => e,
        })?
        .try_squeeze(2)
}

/// `softplus(-x) = log(1 + e^(-x))`, computed stably as `log1p(e^(-|x|)) + max(-x, 0)`, with
/// the smooth derivative `-sigmoid(-x)` at every point (0 included) and every order.
#[derive(Clone, Copy)]
struct SoftplusNeg;
impl super::Unary for SoftplusNeg {
    const NAME: &'static str = "SoftplusBackward0";
    const SAVES: super::Saves = super::Saves::Input;
    fn f<T: crate::dtype::Float>(self, x: T) -> T {
        let zero = T::zero();
        (-x.abs()).exp().ln_1p() + if -x > zero { -x } else { zero }
    }
    fn df(self, x: &Tensor, g: &Tensor) -> Tensor {
        -&(g * &x.neg().sigmoid())
    }
}

/// Registry rows with PyTorch's keyword arguments for the ops that take an options struct in
/// Rust: each builds the options and calls the Rust op.
#[allow(dead_code)] // the panicking twins: the rows call the `try_` forms
mod registered {
    use super::{ClassOptions, ConvOptions, Reduction};
    use crate::error::{Error, Result};
    use crate::tensor::Tensor;

    api! {
        NN_KEYWORD_OPS = mod nn {
            /// Negative log-likelihood of class-index targets given log-probabilities
            /// (`F.nll_loss`) with PyTorch's keyword arguments; in Rust `nn::nll_loss` with
            /// `nn::ClassOptions`.
            pub fn nll_loss / try_nll_loss(input: &Tensor, target: &Tensor, weight: Option<&Tensor> = None, ignore_index: i64 = -100, reduction: Reduction = Reduction::Mean) -> Tensor {
                let options = ClassOptions { weight: weight.cloned(), reduction, ignore_index, label_smoothing: 0.0 };
                super::try_nll_loss(input, target, options)
            }

            /// Cross-entropy between logits and class-index or class-probability targets
            /// (`F.cross_entropy`) with PyTorch's keyword arguments; in Rust
            /// `nn::cross_entropy` with `nn::ClassOptions`.
            pub fn cross_entropy / try_cross_entropy(input: &Tensor, target: &Tensor, weight: Option<&Tensor> = None, ignore_index: i64 = -100, reduction: Reduction = Reduction::Mean, label_smoothing: f64 = 0.0) -> Tensor {
                let options = ClassOptions { weight: weight.cloned(), reduction, ignore_index, label_smoothing };
                super::try_cross_entropy(input, target, options)
            }

            /// 2-d convolution (`F.conv2d`) with PyTorch's keyword arguments (`stride`,
            /// `padding`, `dilation`: an int or two); in Rust `nn::conv2d` with
            /// `nn::ConvOptions`.
            pub fn conv2d / try_conv2d(input: &Tensor, weight: &Tensor, bias: Option<&Tensor> = None, stride: &[usize] = &[1], padding: &[usize] = &[0], dilation: &[usize] = &[1], groups: usize = 1) -> Tensor {
                let options = conv_options("conv2d", 2, [stride, padding, dilation], groups)?;
                super::try_conv2d(input, weight, bias, options)
            }

            /// 1-d convolution (`F.conv1d`) with PyTorch's keyword arguments (`stride`,
            /// `padding`, `dilation`: an int or a list of one); in Rust `nn::conv1d` with
            /// `nn::ConvOptions`.
            pub fn conv1d / try_conv1d(input: &Tensor, weight: &Tensor, bias: Option<&Tensor> = None, stride: &[usize] = &[1], padding: &[usize] = &[0], dilation: &[usize] = &[1], groups: usize = 1) -> Tensor {
                let options = conv_options("conv1d", 1, [stride, padding, dilation], groups)?;
                super::try_conv1d(input, weight, bias, options)
            }
        }
    }

    /// The options of an `n`-d convolution (1 or 2) from PyTorch's `stride`, `padding` and
    /// `dilation` (one value, or `n`), with PyTorch's message for another count.
    fn conv_options(
        op: &'static str,
        n: usize,
        [stride, padding, dilation]: [&[usize]; 3],
        groups: usize,
    ) -> Result<ConvOptions> {
        let pick = |name: &str, v: &[usize], unused: usize| -> Result<[usize; 2]> {
            match *v {
                [a] if n == 2 => Ok([a, a]),
                [a] => Ok([unused, a]),
                [a, b] if n == 2 => Ok([a, b]),
                _ => Err(Error::invalid(
                    op,
                    format!(
                        "expected {name} to be a single integer value or a list of {n} values to match the convolution dimensions, but got {name}={v:?}"
                    ),
                )),
            }
        };
        Ok(ConvOptions {
            stride: pick("stride", stride, 1)?,
            padding: pick("padding", padding, 0)?,
            dilation: pick("dilation", dilation, 1)?,
            groups,
        })
    }
}
