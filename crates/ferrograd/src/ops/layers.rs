//! Layers of `torch.nn.functional` (issue 15): pooling, normalisation, embedding, transposed
//! convolution, padding modes, interpolation, im2col, pixel shuffle and a few losses.
//!
//! None of them has a backward rule of its own: each is a composite of existing primitives,
//! so every derivative order works in both modes. The index-based ones (max pools, embedding,
//! reflect/replicate padding, nearest interpolation, unfold) are one `Take` with an index map
//! (`out[p] = x[M(p)]`, see `ops/index.rs`), whose backward `PutAdd` sums where windows
//! overlap or indices repeat; the linear ones (average pools, adaptive average pools, linear
//! and bilinear interpolation) are separable and so products with constant matrices;
//! transposed convolution is zero insertion (`PutAdd`), padding and a convolution.
//!
//! The one place that reads tensor data is [`window_argmax`] (which element of each window
//! is its maximum; the pools then take those elements).

// PyTorch's signatures: batch_norm, instance_norm, the transposed convolutions and
// triplet_margin_loss take eight arguments.
#![allow(clippy::too_many_arguments)]

use super::index::{put_add, take, IndexMap};
use super::nn::{ConvOptions, Reduction};
use crate::error::{Error, Result};
use crate::raw;
use crate::tensor::Tensor;
use std::sync::Arc;

api! {
    LAYERS_OPS = mod nn {
        /// 1-d max pooling (`F.max_pool1d`) of `[N, C, L]` or `[C, L]`: the maximum of each window
        /// of `kernel_size` elements, `stride` apart (empty: the kernel size), with implicit `-inf`
        /// `padding` and `dilation`; `ceil_mode` rounds the output size up. The gradient goes to
        /// the first maximum of each window (PyTorch's choice at ties).
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let y = nn::max_pool1d(&Tensor::new([[1.0, 3.0, 3.0, 0.0, 5.0]]), &[2], &[], &[0], &[1], false);
        /// assert_eq!(y.to_vec::<f32>(), vec![3.0, 3.0]);
        /// assert!(nn::try_max_pool1d(&Tensor::ones(&[1, 2]), &[3], &[], &[0], &[1], false).is_err());
        /// ```
        pub fn max_pool1d / try_max_pool1d(input: &Tensor, kernel_size: &[usize], stride: &[usize] = &[], padding: &[usize] = &[0], dilation: &[usize] = &[1], ceil_mode: bool = false) -> Tensor {
            Ok(max_pool(PoolArgs::new("max_pool1d", 1, kernel_size, stride, padding, dilation, ceil_mode)?, input)?.0)
        }

        /// [`max_pool1d`] that also returns the index of each maximum in its input row (int64),
        /// `F.max_pool1d(..., return_indices=True)`.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let (y, i) = nn::max_pool1d_with_indices(&Tensor::new([[1.0, 3.0, 3.0, 0.0]]), &[4], &[], &[0], &[1], false);
        /// assert_eq!((y.item(), i.to_vec::<f64>()), (3.0, vec![1.0]));
        /// assert!(nn::try_max_pool1d_with_indices(&Tensor::ones(&[2]), &[1], &[], &[0], &[1], false).is_err());
        /// ```
        pub fn max_pool1d_with_indices / try_max_pool1d_with_indices(input: &Tensor, kernel_size: &[usize], stride: &[usize] = &[], padding: &[usize] = &[0], dilation: &[usize] = &[1], ceil_mode: bool = false) -> (Tensor, Tensor) {
            max_pool(PoolArgs::new("max_pool1d", 1, kernel_size, stride, padding, dilation, ceil_mode)?, input)
        }

        /// 2-d max pooling (`F.max_pool2d`) of `[N, C, H, W]` or `[C, H, W]`; `kernel_size`,
        /// `stride` (empty: the kernel size), `padding` and `dilation` are one value or two.
        /// The gradient goes to the first maximum of each window in row-major order.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let x = Tensor::new([[[1.0, 2.0], [4.0, 3.0]]]);
        /// assert_eq!(nn::max_pool2d(&x, &[2], &[], &[0], &[1], false).to_vec::<f32>(), vec![4.0]);
        /// assert!(nn::try_max_pool2d(&x, &[2], &[], &[2], &[1], false).is_err());
        /// ```
        pub fn max_pool2d / try_max_pool2d(input: &Tensor, kernel_size: &[usize], stride: &[usize] = &[], padding: &[usize] = &[0], dilation: &[usize] = &[1], ceil_mode: bool = false) -> Tensor {
            Ok(max_pool(PoolArgs::new("max_pool2d", 2, kernel_size, stride, padding, dilation, ceil_mode)?, input)?.0)
        }

        /// [`max_pool2d`] that also returns the index of each maximum in its input plane
        /// (`h * W + w`, int64), `F.max_pool2d(..., return_indices=True)`.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let (_, i) = nn::max_pool2d_with_indices(&Tensor::new([[[1.0, 2.0], [4.0, 4.0]]]), &[2], &[], &[0], &[1], false);
        /// assert_eq!(i.to_vec::<f64>(), vec![2.0]);
        /// assert!(nn::try_max_pool2d_with_indices(&Tensor::ones(&[2]), &[1], &[], &[0], &[1], false).is_err());
        /// ```
        pub fn max_pool2d_with_indices / try_max_pool2d_with_indices(input: &Tensor, kernel_size: &[usize], stride: &[usize] = &[], padding: &[usize] = &[0], dilation: &[usize] = &[1], ceil_mode: bool = false) -> (Tensor, Tensor) {
            max_pool(PoolArgs::new("max_pool2d", 2, kernel_size, stride, padding, dilation, ceil_mode)?, input)
        }

        /// 1-d average pooling (`F.avg_pool1d`) of `[N, C, L]` or `[C, L]`, with zero `padding`
        /// counted in the divisor when `count_include_pad`.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let y = nn::avg_pool1d(&Tensor::new([[1.0, 3.0, 5.0]]), &[2], &[1], &[0], false, true);
        /// assert_eq!(y.to_vec::<f32>(), vec![2.0, 4.0]);
        /// assert!(nn::try_avg_pool1d(&Tensor::new([[1.0]]), &[2], &[1], &[0], false, true).is_err());
        /// ```
        pub fn avg_pool1d / try_avg_pool1d(input: &Tensor, kernel_size: &[usize], stride: &[usize] = &[], padding: &[usize] = &[0], ceil_mode: bool = false, count_include_pad: bool = true) -> Tensor {
            avg_pool(PoolArgs::new("avg_pool1d", 1, kernel_size, stride, padding, &[1], ceil_mode)?, input, count_include_pad, None)
        }

        /// 2-d average pooling (`F.avg_pool2d`) of `[N, C, H, W]` or `[C, H, W]`; a
        /// `divisor_override` replaces the window size as the divisor.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let x = Tensor::new([[[1.0, 2.0], [3.0, 6.0]]]);
        /// assert_eq!(nn::avg_pool2d(&x, &[2], &[], &[0], false, true, None).item(), 3.0);
        /// assert_eq!(nn::avg_pool2d(&x, &[2], &[], &[1], false, false, None).to_vec::<f32>(), vec![1.0, 2.0, 3.0, 6.0]);
        /// assert!(nn::try_avg_pool2d(&x, &[2], &[], &[0], false, true, Some(0)).is_err());
        /// ```
        pub fn avg_pool2d / try_avg_pool2d(input: &Tensor, kernel_size: &[usize], stride: &[usize] = &[], padding: &[usize] = &[0], ceil_mode: bool = false, count_include_pad: bool = true, divisor_override: Option<isize> = None) -> Tensor {
            avg_pool(PoolArgs::new("avg_pool2d", 2, kernel_size, stride, padding, &[1], ceil_mode)?, input, count_include_pad, divisor_override)
        }

        /// 1-d adaptive average pooling (`F.adaptive_avg_pool1d`): `output_size` windows
        /// `[floor(i L / n), ceil((i + 1) L / n))`.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let y = nn::adaptive_avg_pool1d(&Tensor::new([[1.0, 2.0, 3.0, 4.0, 5.0]]), &[2]);
        /// assert_eq!(y.to_vec::<f32>(), vec![2.0, 4.0]);
        /// assert!(nn::try_adaptive_avg_pool1d(&Tensor::new([1.0]), &[2]).is_err());
        /// ```
        pub fn adaptive_avg_pool1d / try_adaptive_avg_pool1d(input: &Tensor, output_size: &[usize]) -> Tensor {
            adaptive_avg_pool("adaptive_avg_pool1d", 1, input, output_size)
        }

        /// 2-d adaptive average pooling (`F.adaptive_avg_pool2d`); `output_size` is one value
        /// or two.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let y = nn::adaptive_avg_pool2d(&Tensor::new([[[1.0, 2.0], [3.0, 6.0]]]), &[1]);
        /// assert_eq!(y.item(), 3.0);
        /// assert!(nn::try_adaptive_avg_pool2d(&Tensor::ones(&[2, 2]), &[1]).is_err());
        /// ```
        pub fn adaptive_avg_pool2d / try_adaptive_avg_pool2d(input: &Tensor, output_size: &[usize]) -> Tensor {
            adaptive_avg_pool("adaptive_avg_pool2d", 2, input, output_size)
        }

        /// 1-d adaptive max pooling (`F.adaptive_max_pool1d`), windows as in
        /// [`adaptive_avg_pool1d`].
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let y = nn::adaptive_max_pool1d(&Tensor::new([[1.0, 5.0, 3.0, 4.0, 2.0]]), &[2]);
        /// assert_eq!(y.to_vec::<f32>(), vec![5.0, 4.0]);
        /// assert!(nn::try_adaptive_max_pool1d(&Tensor::new([1.0]), &[2]).is_err());
        /// ```
        pub fn adaptive_max_pool1d / try_adaptive_max_pool1d(input: &Tensor, output_size: &[usize]) -> Tensor {
            Ok(adaptive_max_pool("adaptive_max_pool1d", 1, input, output_size)?.0)
        }

        /// [`adaptive_max_pool1d`] with the indices of the maxima (int64).
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let (_, i) = nn::adaptive_max_pool1d_with_indices(&Tensor::new([[1.0, 5.0, 3.0]]), &[1]);
        /// assert_eq!(i.to_vec::<f64>(), vec![1.0]);
        /// assert!(nn::try_adaptive_max_pool1d_with_indices(&Tensor::new([1.0]), &[1]).is_err());
        /// ```
        pub fn adaptive_max_pool1d_with_indices / try_adaptive_max_pool1d_with_indices(input: &Tensor, output_size: &[usize]) -> (Tensor, Tensor) {
            adaptive_max_pool("adaptive_max_pool1d", 1, input, output_size)
        }

        /// 2-d adaptive max pooling (`F.adaptive_max_pool2d`); `output_size` is one value or two.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let y = nn::adaptive_max_pool2d(&Tensor::new([[[1.0, 2.0], [3.0, 6.0]]]), &[1, 2]);
        /// assert_eq!(y.to_vec::<f32>(), vec![3.0, 6.0]);
        /// assert!(nn::try_adaptive_max_pool2d(&Tensor::ones(&[2, 2]), &[1]).is_err());
        /// ```
        pub fn adaptive_max_pool2d / try_adaptive_max_pool2d(input: &Tensor, output_size: &[usize]) -> Tensor {
            Ok(adaptive_max_pool("adaptive_max_pool2d", 2, input, output_size)?.0)
        }

        /// [`adaptive_max_pool2d`] with the indices of the maxima in their planes (int64).
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let (_, i) = nn::adaptive_max_pool2d_with_indices(&Tensor::new([[[1.0, 2.0], [3.0, 6.0]]]), &[1]);
        /// assert_eq!(i.to_vec::<f64>(), vec![3.0]);
        /// assert!(nn::try_adaptive_max_pool2d_with_indices(&Tensor::ones(&[2]), &[1]).is_err());
        /// ```
        pub fn adaptive_max_pool2d_with_indices / try_adaptive_max_pool2d_with_indices(input: &Tensor, output_size: &[usize]) -> (Tensor, Tensor) {
            adaptive_max_pool("adaptive_max_pool2d", 2, input, output_size)
        }

        /// Batch normalization (`F.batch_norm`) of `[N, C, *]` over every dimension but the
        /// channels. In training the batch statistics normalize (biased variance) and the
        /// running statistics, when given, are updated in place:
        /// `running = (1 - momentum) running + momentum * stat`, with the unbiased variance. In
        /// evaluation the running statistics normalize.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let (rm, rv) = (Tensor::zeros(&[1]), Tensor::ones(&[1]));
        /// let y = nn::batch_norm(&Tensor::new([[1.0], [3.0]]), Some(&rm), Some(&rv), None, None, true, 0.1, 0.0);
        /// assert_eq!(y.to_vec::<f32>(), vec![-1.0, 1.0]);
        /// assert!((rm.item() - 0.2).abs() < 1e-6 && (rv.item() - 1.1).abs() < 1e-6);
        /// assert!(nn::try_batch_norm(&Tensor::ones(&[1, 2]), None, None, None, None, true, 0.1, 1e-5).is_err());
        /// ```
        pub fn batch_norm / try_batch_norm(input: &Tensor, running_mean: Option<&Tensor>, running_var: Option<&Tensor>, weight: Option<&Tensor> = None, bias: Option<&Tensor> = None, training: bool = false, momentum: f64 = 0.1, eps: f64 = 1e-5) -> Tensor {
            batch_norm_impl(input, running_mean, running_var, weight, bias, training, momentum, eps)
        }

        /// Group normalization (`F.group_norm`) of `[N, C, *]`: the channels split into
        /// `num_groups` groups, each sample's group normalized (biased variance), then the
        /// per-channel `weight` and `bias`.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let y = nn::group_norm(&Tensor::new([[1.0, 3.0]]), 1, None, None, 0.0);
        /// assert_eq!(y.to_vec::<f32>(), vec![-1.0, 1.0]);
        /// assert!(nn::try_group_norm(&Tensor::ones(&[1, 3]), 2, None, None, 1e-5).is_err());
        /// ```
        pub fn group_norm / try_group_norm(input: &Tensor, num_groups: usize, weight: Option<&Tensor> = None, bias: Option<&Tensor> = None, eps: f64 = 1e-5) -> Tensor {
            group_norm_impl(input, num_groups, weight, bias, eps)
        }

        /// Instance normalization (`F.instance_norm`) of `[N, C, *]`: each sample's channel
        /// normalized over its spatial dimensions. With `use_input_stats` the running statistics,
        /// when given, are updated in place with the batch means of the instance statistics;
        /// without it they normalize.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let y = nn::instance_norm(&Tensor::new([[[1.0, 3.0]]]), None, None, None, None, true, 0.1, 0.0);
        /// assert_eq!(y.to_vec::<f32>(), vec![-1.0, 1.0]);
        /// assert!(nn::try_instance_norm(&Tensor::ones(&[1, 2, 1]), None, None, None, None, true, 0.1, 1e-5).is_err());
        /// ```
        pub fn instance_norm / try_instance_norm(input: &Tensor, running_mean: Option<&Tensor> = None, running_var: Option<&Tensor> = None, weight: Option<&Tensor> = None, bias: Option<&Tensor> = None, use_input_stats: bool = true, momentum: f64 = 0.1, eps: f64 = 1e-5) -> Tensor {
            instance_norm_impl(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)
        }

        /// Rows of `weight` (`[num_embeddings, dim]`) looked up by the int64 `input` of any
        /// shape (`F.embedding`); the row `padding_idx` (negative counts from the end) gets no
        /// gradient.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let w = Tensor::new([[1.0, 2.0], [3.0, 4.0]]).requires_grad_(true);
        /// let y = nn::embedding(&Tensor::new([1, 0, 1]), &w, Some(0));
        /// assert_eq!(y.to_vec::<f32>(), vec![3.0, 4.0, 1.0, 2.0, 3.0, 4.0]);
        /// y.sum().backward();
        /// assert_eq!(w.grad().unwrap().to_vec::<f32>(), vec![0.0, 0.0, 2.0, 2.0]);
        /// assert!(nn::try_embedding(&Tensor::new([2]), &w, None).is_err());
        /// ```
        pub fn embedding / try_embedding(input: &Tensor, weight: &Tensor, padding_idx: Option<isize> = None) -> Tensor {
            embedding_impl(input, weight, padding_idx)
        }

        /// 1-d transposed convolution (`F.conv_transpose1d`): `input` `[N, C_in, L]` (or
        /// `[C_in, L]`), `weight` `[C_in, C_out / groups, k]`; `stride`, `padding`,
        /// `output_padding` and `dilation` are one value (or a list of one).
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let y = nn::conv_transpose1d(&Tensor::new([[[1.0, 2.0]]]), &Tensor::new([[[1.0, 1.0]]]), None, &[2], &[0], &[0], 1, &[1]);
        /// assert_eq!(y.to_vec::<f32>(), vec![1.0, 1.0, 2.0, 2.0]);
        /// assert!(nn::try_conv_transpose1d(&Tensor::ones(&[1, 2, 2]), &Tensor::ones(&[1, 1, 2]), None, &[1], &[0], &[0], 1, &[1]).is_err());
        /// ```
        pub fn conv_transpose1d / try_conv_transpose1d(input: &Tensor, weight: &Tensor, bias: Option<&Tensor> = None, stride: &[usize] = &[1], padding: &[usize] = &[0], output_padding: &[usize] = &[0], groups: usize = 1, dilation: &[usize] = &[1]) -> Tensor {
            conv_transpose("conv_transpose1d", 1, input, weight, bias, [stride, padding, output_padding, dilation], groups)
        }

        /// 2-d transposed convolution (`F.conv_transpose2d`): `input` `[N, C_in, H, W]` (or
        /// `[C_in, H, W]`), `weight` `[C_in, C_out / groups, kH, kW]`; the output is
        /// `(H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1` high (and
        /// likewise wide).
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let y = nn::conv_transpose2d(&Tensor::ones(&[1, 1, 2, 2]), &Tensor::ones(&[1, 1, 2, 2]), None, &[1], &[0], &[0], 1, &[1]);
        /// assert_eq!(y.to_vec::<f32>(), vec![1.0, 2.0, 1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 1.0]);
        /// assert!(nn::try_conv_transpose2d(&Tensor::ones(&[1, 1, 2, 2]), &Tensor::ones(&[1, 1, 2, 2]), None, &[1], &[0], &[1], 1, &[1]).is_err());
        /// ```
        pub fn conv_transpose2d / try_conv_transpose2d(input: &Tensor, weight: &Tensor, bias: Option<&Tensor> = None, stride: &[usize] = &[1], padding: &[usize] = &[0], output_padding: &[usize] = &[0], groups: usize = 1, dilation: &[usize] = &[1]) -> Tensor {
            conv_transpose("conv_transpose2d", 2, input, weight, bias, [stride, padding, output_padding, dilation], groups)
        }

        /// Pads the last dimensions (`F.pad`): `pad` is `(before, after)` pairs from the last
        /// dimension; `mode` `"constant"` (with `value`, default 0; negative pads crop),
        /// `"reflect"` (mirrored without repeating the edge), `"replicate"` (the edge repeated) or
        /// `"circular"` (wrapped around). The non-constant modes pad 1 to 3 dimensions of an input
        /// with one or two more.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let x = Tensor::new([[1.0, 2.0, 3.0]]);
        /// assert_eq!(nn::pad(&x, &[2, 1], "reflect", None).to_vec::<f32>(), vec![3.0, 2.0, 1.0, 2.0, 3.0, 2.0]);
        /// assert_eq!(nn::pad(&x, &[1, 1], "replicate", None).to_vec::<f32>(), vec![1.0, 1.0, 2.0, 3.0, 3.0]);
        /// assert_eq!(nn::pad(&x, &[1, 2], "circular", None).to_vec::<f32>(), vec![3.0, 1.0, 2.0, 3.0, 1.0, 2.0]);
        /// assert!(nn::try_pad(&x, &[3, 0], "reflect", None).is_err());
        /// ```
        pub fn pad / try_pad(input: &Tensor, pad: &[isize], mode: &str = "constant", value: Option<f64> = None) -> Tensor {
            pad_impl(input, pad, mode, value)
        }

        /// Resizes the spatial dimensions (`F.interpolate`) to `size` or by `scale_factor`:
        /// `mode` `"nearest"` (`[N, C, L]` or `[N, C, H, W]`), `"linear"` (`[N, C, L]`) or
        /// `"bilinear"` (`[N, C, H, W]`), with PyTorch's `align_corners` convention.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let x = Tensor::new([[[1.0, 3.0]]]);
        /// assert_eq!(nn::interpolate(&x, None, Some(2.0), "nearest", false).to_vec::<f32>(), vec![1.0, 1.0, 3.0, 3.0]);
        /// assert_eq!(nn::interpolate(&x, Some(&[3]), None, "linear", true).to_vec::<f32>(), vec![1.0, 2.0, 3.0]);
        /// assert!(nn::try_interpolate(&x, None, None, "nearest", false).is_err());
        /// ```
        pub fn interpolate / try_interpolate(input: &Tensor, size: Option<&[isize]> = None, scale_factor: Option<f64> = None, mode: &str = "nearest", align_corners: bool = false) -> Tensor {
            interpolate_impl(input, size, scale_factor, mode, align_corners)
        }

        /// Sliding local blocks (`F.unfold`, im2col): `[N, C, H, W]` (or `[C, H, W]`) to
        /// `[N, C kH kW, L]`, one column per block position.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let cols = nn::unfold(&Tensor::ones(&[1, 2, 3, 3]), &[2], &[1], &[0], &[1]);
        /// assert_eq!(cols.shape(), &[1, 8, 4]);
        /// assert!(nn::try_unfold(&Tensor::ones(&[1, 1, 1, 1]), &[2], &[1], &[0], &[1]).is_err());
        /// ```
        pub fn unfold / try_unfold(input: &Tensor, kernel_size: &[usize], dilation: &[usize] = &[1], padding: &[usize] = &[0], stride: &[usize] = &[1]) -> Tensor {
            unfold_impl(input, kernel_size, dilation, padding, stride)
        }

        /// Sums sliding local blocks back into an image (`F.fold`, col2im), the adjoint of
        /// [`unfold`]: `[N, C kH kW, L]` (or `[C kH kW, L]`) to `[N, C, *output_size]`.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let img = nn::fold(&Tensor::ones(&[1, 4, 4]), &[3, 3], &[2], &[1], &[0], &[1]);
        /// assert_eq!(img.to_vec::<f32>(), vec![1.0, 2.0, 1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 1.0]);
        /// assert!(nn::try_fold(&Tensor::ones(&[1, 4, 3]), &[3, 3], &[2], &[1], &[0], &[1]).is_err());
        /// ```
        pub fn fold / try_fold(input: &Tensor, output_size: &[usize], kernel_size: &[usize], dilation: &[usize] = &[1], padding: &[usize] = &[0], stride: &[usize] = &[1]) -> Tensor {
            fold_impl(input, output_size, kernel_size, dilation, padding, stride)
        }

        /// `[*, C r^2, H, W]` to `[*, C, H r, W r]` (`F.pixel_shuffle`).
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let y = nn::pixel_shuffle(&Tensor::new([[[1.0]], [[2.0]], [[3.0]], [[4.0]]]), 2);
        /// assert_eq!(y.to_vec::<f32>(), vec![1.0, 2.0, 3.0, 4.0]);
        /// assert!(nn::try_pixel_shuffle(&Tensor::ones(&[3, 1, 1]), 2).is_err());
        /// ```
        pub fn pixel_shuffle / try_pixel_shuffle(input: &Tensor, upscale_factor: usize) -> Tensor {
            pixel_shuffle_impl(input, upscale_factor)
        }

        /// `[*, C, H r, W r]` to `[*, C r^2, H, W]` (`F.pixel_unshuffle`), the inverse of
        /// [`pixel_shuffle`].
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let y = nn::pixel_unshuffle(&Tensor::new([[[1.0, 2.0], [3.0, 4.0]]]), 2);
        /// assert_eq!((y.shape(), y.to_vec::<f32>()), (&[4, 1, 1][..], vec![1.0, 2.0, 3.0, 4.0]));
        /// assert!(nn::try_pixel_unshuffle(&Tensor::ones(&[1, 3, 2]), 2).is_err());
        /// ```
        pub fn pixel_unshuffle / try_pixel_unshuffle(input: &Tensor, downscale_factor: usize) -> Tensor {
            pixel_unshuffle_impl(input, downscale_factor)
        }

        /// Cosine similarity along `dim` (`F.cosine_similarity`) of broadcast `x1` and `x2`:
        /// `sum(x1 / max(|x1|, eps) * x2 / max(|x2|, eps))`.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let c = nn::cosine_similarity(&Tensor::new([[1.0, 0.0]]), &Tensor::new([[1.0, 1.0]]), 1, 1e-8);
        /// assert!((c.item() - 0.5f64.sqrt()).abs() < 1e-6);
        /// assert!(nn::try_cosine_similarity(&Tensor::ones(&[2]), &Tensor::ones(&[3]), 0, 1e-8).is_err());
        /// ```
        pub fn cosine_similarity / try_cosine_similarity(x1: &Tensor, x2: &Tensor, dim: isize = 1, eps: f64 = 1e-8) -> Tensor {
            cosine_similarity_impl(x1, x2, dim, eps)
        }

        /// Kullback-Leibler divergence (`F.kl_div`) of log-probabilities `input` from `target`
        /// (probabilities, or log-probabilities with `log_target`): `target (log target - input)`
        /// elementwise (0 where the target is 0), reduced by `reduction` `"none"`, `"mean"`,
        /// `"sum"` or `"batchmean"` (the sum over the first dimension's size).
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let l = nn::kl_div(&Tensor::new([0.5f64.ln(), 0.5f64.ln()]), &Tensor::new([1.0, 0.0]), "sum", false);
        /// assert!((l.item() - 2f64.ln()).abs() < 1e-6);
        /// assert!(nn::try_kl_div(&Tensor::ones(&[2]), &Tensor::ones(&[2]), "avg", false).is_err());
        /// ```
        pub fn kl_div / try_kl_div(input: &Tensor, target: &Tensor, reduction: &str = "mean", log_target: bool = false) -> Tensor {
            kl_div_impl(input, target, reduction, log_target)
        }

        /// Triplet margin loss (`F.triplet_margin_loss`):
        /// `max(d(a, p) - d(a, n) + margin, 0)` with `d(x, y) = |x - y + eps|_p` over the last
        /// dimension; `swap` uses `min(d(a, n), d(p, n))`.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let (a, p, n) = (Tensor::new([[0.0, 0.0]]), Tensor::new([[3.0, 4.0]]), Tensor::new([[0.0, 1.0]]));
        /// let l = nn::triplet_margin_loss(&a, &p, &n, 1.0, 2.0, 0.0, false, nn::Reduction::Mean);
        /// assert!((l.item() - 5.0).abs() < 1e-6);
        /// assert!(nn::try_triplet_margin_loss(&a, &p, &Tensor::ones(&[2]), 1.0, 2.0, 1e-6, false, Default::default()).is_err());
        /// ```
        pub fn triplet_margin_loss / try_triplet_margin_loss(anchor: &Tensor, positive: &Tensor, negative: &Tensor, margin: f64 = 1.0, p: f64 = 2.0, eps: f64 = 1e-6, swap: bool = false, reduction: Reduction = Reduction::Mean) -> Tensor {
            triplet_margin_loss_impl(anchor, positive, negative, margin, p, eps, swap, reduction)
        }

        /// Margin ranking loss (`F.margin_ranking_loss`):
        /// `max(-target (input1 - input2) + margin, 0)`, broadcast.
        ///
        /// ```
        /// use ferrograd::{nn, Tensor};
        /// let l = nn::margin_ranking_loss(&Tensor::new([1.0, 2.0]), &Tensor::new([2.0, 0.0]), &Tensor::new([1.0, 1.0]), 0.5, nn::Reduction::None);
        /// assert_eq!(l.to_vec::<f32>(), vec![1.5, 0.0]);
        /// assert!(nn::try_margin_ranking_loss(&Tensor::ones(&[2]), &Tensor::ones(&[1, 2]), &Tensor::ones(&[2]), 0.0, Default::default()).is_err());
        /// ```
        pub fn margin_ranking_loss / try_margin_ranking_loss(input1: &Tensor, input2: &Tensor, target: &Tensor, margin: f64 = 0.0, reduction: Reduction = Reduction::Mean) -> Tensor {
            margin_ranking_loss_impl(input1, input2, target, margin, reduction)
        }
    }
}

// ------------------------------------------------------------------------------ helpers

fn invalid(op: &'static str, msg: impl Into<String>) -> Error {
    Error::invalid(op, msg.into())
}

/// `v` as `n` values: one value repeated, or exactly `n`; `empty` stands in for an empty list
/// where the parameter has a default (a pool's stride: the kernel size).
fn expand(
    op: &'static str,
    name: &str,
    v: &[usize],
    n: usize,
    empty: Option<&[usize]>,
) -> Result<Vec<usize>> {
    match (v.len(), empty) {
        (0, Some(e)) => Ok(e.to_vec()),
        (1, _) => Ok(vec![v[0]; n]),
        (k, _) if k == n => Ok(v.to_vec()),
        _ => Err(invalid(
            op,
            format!(
                "{op}(): {name} must be a single int, or a tuple of {n} ints, but got {name}={v:?}"
            ),
        )),
    }
}

fn reduce(loss: Tensor, reduction: Reduction) -> Tensor {
    match reduction {
        Reduction::None => loss,
        Reduction::Mean => loss.mean(),
        Reduction::Sum => loss.sum(),
    }
}

/// The input with `nd` spatial dimensions as `[batch..., H, W]` (a 1-d input gets `H = 1`),
/// checking its rank (`nd + 1` or `nd + 2`) and that its non-batch sizes are nonzero.
fn spatial(op: &'static str, x: &Tensor, nd: usize) -> Result<Tensor> {
    let r = x.dim();
    let ok = r == nd + 1 || r == nd + 2;
    let nonzero = ok && x.shape()[r - nd - 1..].iter().all(|&d| d > 0);
    if !ok || !nonzero {
        return Err(invalid(
            op,
            format!(
                "Expected {}D or {}D (batch mode) tensor with optional 0 dim batch size and non-zero sizes for the other dimensions for input, but got input of size {:?}",
                nd + 1,
                nd + 2,
                x.shape()
            ),
        ));
    }
    let x = x.to_float();
    if nd == 1 {
        x.try_unsqueeze(-2)
    } else {
        Ok(x)
    }
}

/// Back from [`spatial`]'s form.
fn unspatial(y: Tensor, nd: usize) -> Result<Tensor> {
    if nd == 1 {
        y.try_squeeze(-2)
    } else {
        Ok(y)
    }
}

/// The pooling parameters, one entry per spatial axis as `[H, W]` (1-d pools: `H` trivial).
struct PoolArgs {
    op: &'static str,
    nd: usize,
    k: [usize; 2],
    s: [usize; 2],
    p: [usize; 2],
    d: [usize; 2],
    ceil: bool,
}

impl PoolArgs {
    fn new(
        op: &'static str,
        nd: usize,
        kernel_size: &[usize],
        stride: &[usize],
        padding: &[usize],
        dilation: &[usize],
        ceil: bool,
    ) -> Result<PoolArgs> {
        let k = expand(op, "kernel_size", kernel_size, nd, None)?;
        let s = expand(op, "stride", stride, nd, Some(&k))?;
        let p = expand(op, "padding", padding, nd, None)?;
        let d = expand(op, "dilation", dilation, nd, None)?;
        if k.contains(&0) || s.contains(&0) || d.contains(&0) {
            return Err(invalid(
                op,
                format!("kernel_size, stride and dilation must be greater than zero, but got kernel_size={k:?}, stride={s:?}, dilation={d:?}"),
            ));
        }
        let two = |v: &[usize], one: usize| if nd == 1 { [one, v[0]] } else { [v[0], v[1]] };
        Ok(PoolArgs {
            op,
            nd,
            k: two(&k, 1),
            s: two(&s, 1),
            p: two(&p, 0),
            d: two(&d, 1),
            ceil,
        })
    }

    /// Each output position's window positions along axis `a` of size `len` (clipped to the
    /// input), checking PyTorch's constraints.
    fn windows(&self, a: usize, len: usize) -> Result<Vec<Vec<usize>>> {
        let (k, s, p, d) = (self.k[a], self.s[a], self.p[a], self.d[a]);
        let eff = d * (k - 1) + 1;
        if p > eff / 2 {
            return Err(invalid(
                self.op,
                format!("pad should be at most half of effective kernel size, but got pad={p}, kernel_size={k} and dilation={d}"),
            ));
        }
        let num = (len + 2 * p) as i64 - eff as i64;
        let mut out = if num < 0 {
            0
        } else if self.ceil {
            (num + s as i64 - 1) / s as i64 + 1
        } else {
            num / s as i64 + 1
        };
        if self.ceil && out > 0 && (out - 1) * s as i64 >= (len + p) as i64 {
            out -= 1;
        }
        if out <= 0 {
            return Err(invalid(
                self.op,
                format!("Given input size {len} along a spatial dimension, kernel_size={k}, stride={s}, padding={p}, dilation={d}: the calculated output size is {out}, too small"),
            ));
        }
        Ok((0..out as usize)
            .map(|o| {
                (0..k)
                    .map(|i| (o * s + i * d) as i64 - p as i64)
                    .filter(|&h| h >= 0 && h < len as i64)
                    .map(|h| h as usize)
                    .collect()
            })
            .collect())
    }
}

/// The first maximum of each window (a NaN counts as a maximum, the last one winning, as in
/// PyTorch's kernels) of `x` `[batch..., H, W]`, for the window rows `rows[oh]` and columns
/// `cols[ow]`: its flat index `h W + w` in its plane, per output position (row-major). The one
/// function of this file that reads tensor data.
fn window_argmax(x: &Tensor, rows: &[Vec<usize>], cols: &[Vec<usize>]) -> Vec<usize> {
    let r = x.dim();
    let (h, w) = (x.shape()[r - 2], x.shape()[r - 1]);
    let planes: usize = x.shape()[..r - 2].iter().product();
    let vals = x.detach().values_f64();
    let mut idx = Vec::with_capacity(planes * rows.len() * cols.len());
    for plane in 0..planes {
        let base = plane * h * w;
        for wr in rows {
            for wc in cols {
                let (mut best, mut at) = (f64::NEG_INFINITY, usize::MAX);
                for &i in wr {
                    for &j in wc {
                        let v = vals[base + i * w + j];
                        if at == usize::MAX || v > best || v.is_nan() {
                            best = v;
                            at = i * w + j;
                        }
                    }
                }
                idx.push(at);
            }
        }
    }
    idx
}

/// Takes the window maxima of `x` `[batch..., H, W]` (recorded as `node`) and their indices.
fn take_maxima(
    node: &'static str,
    x: &Tensor,
    rows: &[Vec<usize>],
    cols: &[Vec<usize>],
) -> Result<(Tensor, Tensor)> {
    if x.is_batched() {
        // Windows are per plane: the vmap batch is one more leading dim.
        let ys = crate::autograd::levels::lowered(x, |p| {
            let (y, i) = take_maxima(node, p, rows, cols)?;
            Ok(vec![y, i])
        })?;
        return Ok((ys[0].clone(), ys[1].clone()));
    }
    let idx = Arc::new(window_argmax(x, rows, cols));
    let r = x.dim();
    let w = x.shape()[r - 1];
    let (oh, ow) = (rows.len(), cols.len());
    let mut shape = x.shape_vec();
    shape[r - 2] = oh;
    shape[r - 1] = ow;
    let lead: Vec<usize> = x.shape()[..r - 2].to_vec();
    let ix = idx.clone();
    let map: IndexMap = Arc::new(move |p, src| {
        let mut plane = 0;
        for (k, &n) in lead.iter().enumerate() {
            plane = plane * n + p[k];
            src[k] = p[k];
        }
        let f = ix[(plane * oh + p[r - 2]) * ow + p[r - 1]];
        src[r - 2] = f / w;
        src[r - 1] = f % w;
    });
    let y = take(node, x, &shape, map);
    let indices = Tensor::from_vec(idx.iter().map(|&i| i as i64).collect::<Vec<i64>>(), &shape);
    Ok((y, indices))
}

fn max_pool(a: PoolArgs, input: &Tensor) -> Result<(Tensor, Tensor)> {
    let x = spatial(a.op, input, a.nd)?;
    let r = x.dim();
    let rows = a.windows(0, x.shape()[r - 2])?;
    let cols = a.windows(1, x.shape()[r - 1])?;
    let (y, i) = take_maxima("MaxPool2DWithIndicesBackward0", &x, &rows, &cols)?;
    Ok((unspatial(y, a.nd)?, unspatial(i, a.nd)?))
}

/// `x @ m^T` along the last dimension (`m` `[out, in]`, a constant), and with `mh` along the
/// one before: a separable linear map of the last two dimensions.
fn separable(x: &Tensor, mh: Option<Vec<Vec<f64>>>, mw: Vec<Vec<f64>>) -> Result<Tensor> {
    let matrix = |m: Vec<Vec<f64>>, cols: usize| {
        let rows = m.len();
        Tensor::from_vec(m.concat(), &[rows, cols]).to_dtype(x.dtype())
    };
    let r = x.dim();
    let mut y = x.try_matmul(&matrix(mw, x.shape()[r - 1]).try_t()?)?;
    if let Some(mh) = mh {
        y = matrix(mh, x.shape()[r - 2]).try_matmul(&y)?;
    }
    Ok(y)
}

/// A `[windows, len]` averaging matrix: row `o` is `weight(o)` on the positions of window `o`.
fn averaging(windows: &[Vec<usize>], len: usize, weight: impl Fn(usize) -> f64) -> Vec<Vec<f64>> {
    windows
        .iter()
        .enumerate()
        .map(|(o, win)| {
            let mut row = vec![0.0; len];
            for &i in win {
                row[i] = weight(o);
            }
            row
        })
        .collect()
}

fn avg_pool(
    a: PoolArgs,
    input: &Tensor,
    count_include_pad: bool,
    divisor_override: Option<isize>,
) -> Result<Tensor> {
    if divisor_override.is_some_and(|d| d <= 0) {
        return Err(invalid(a.op, "divisor must be not zero"));
    }
    let x = spatial(a.op, input, a.nd)?;
    let r = x.dim();
    let mut mats = Vec::new();
    for axis in 0..2 {
        let len = x.shape()[r - 2 + axis];
        let wins = a.windows(axis, len)?;
        let (k, s, p) = (a.k[axis], a.s[axis], a.p[axis]);
        // PyTorch's divisor: the window clipped to the padded input, or to the input; an
        // override divides once, on the second axis.
        let padded = |o: usize| -> f64 {
            let start = (o * s) as i64 - p as i64;
            (start + k as i64).min((len + p) as i64) as f64 - start as f64
        };
        let m = averaging(&wins, len, |o| match divisor_override {
            Some(d) if axis == 1 => 1.0 / d as f64,
            Some(_) => 1.0,
            None if count_include_pad => 1.0 / padded(o),
            None => 1.0 / wins[o].len() as f64,
        });
        mats.push(m);
    }
    let mw = mats.pop().expect("two axes");
    let mh = mats.pop().filter(|_| a.nd == 2);
    unspatial(separable(&x, mh, mw)?, a.nd)
}

/// PyTorch's adaptive windows: `[floor(o L / n), ceil((o + 1) L / n))`.
fn adaptive_windows(len: usize, n: usize) -> Vec<Vec<usize>> {
    (0..n)
        .map(|o| (o * len / n..((o + 1) * len).div_ceil(n)).collect())
        .collect()
}

fn adaptive_sizes(
    op: &'static str,
    nd: usize,
    input: &Tensor,
    output_size: &[usize],
) -> Result<(Tensor, [usize; 2])> {
    let x = spatial(op, input, nd)?;
    let o = expand(op, "output_size", output_size, nd, None)?;
    Ok((x, if nd == 1 { [1, o[0]] } else { [o[0], o[1]] }))
}

fn adaptive_avg_pool(
    op: &'static str,
    nd: usize,
    input: &Tensor,
    output_size: &[usize],
) -> Result<Tensor> {
    let (x, o) = adaptive_sizes(op, nd, input, output_size)?;
    let r = x.dim();
    let mat = |axis: usize| {
        let len = x.shape()[r - 2 + axis];
        let wins = adaptive_windows(len, o[axis]);
        let counts: Vec<f64> = wins.iter().map(|w| w.len() as f64).collect();
        averaging(&wins, len, |i| 1.0 / counts[i])
    };
    let mh = (nd == 2).then(|| mat(0));
    unspatial(separable(&x, mh, mat(1))?, nd)
}

fn adaptive_max_pool(
    op: &'static str,
    nd: usize,
    input: &Tensor,
    output_size: &[usize],
) -> Result<(Tensor, Tensor)> {
    let (x, o) = adaptive_sizes(op, nd, input, output_size)?;
    let r = x.dim();
    if o.contains(&0) {
        return Err(invalid(
            op,
            format!("output_size must be positive, got {output_size:?}"),
        ));
    }
    let rows = adaptive_windows(x.shape()[r - 2], o[0]);
    let cols = adaptive_windows(x.shape()[r - 1], o[1]);
    let (y, i) = take_maxima("AdaptiveMaxPool2DBackward0", &x, &rows, &cols)?;
    Ok((unspatial(y, nd)?, unspatial(i, nd)?))
}

// ------------------------------------------------------------------------ normalization

/// `[1, C, 1, ...]` for broadcasting a per-channel `[C]` tensor over an input of rank `rank`.
fn per_channel(op: &'static str, t: &Tensor, c: usize, rank: usize, what: &str) -> Result<Tensor> {
    if t.shape() != [c] {
        return Err(invalid(
            op,
            format!(
                "Expected {what} to have shape [{c}] (one value per channel), but got {:?}",
                t.shape()
            ),
        ));
    }
    let mut shape = vec![1usize; rank];
    shape[1] = c;
    t.try_reshape(&shape)
}

fn affine(
    op: &'static str,
    y: Tensor,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    c: usize,
) -> Result<Tensor> {
    let rank = y.dim();
    let mut y = y;
    if let Some(w) = weight {
        y = y.try_mul(&per_channel(op, w, c, rank, "weight")?)?;
    }
    if let Some(b) = bias {
        y = y.try_add(&per_channel(op, b, c, rank, "bias")?)?;
    }
    Ok(y)
}

/// `running = (1 - momentum) running + momentum stat`, in place and unrecorded.
fn update_running(
    op: &'static str,
    running: Option<&Tensor>,
    stat: &Tensor,
    momentum: f64,
) -> Result<()> {
    if let Some(r) = running {
        if r.shape() != stat.shape() {
            return Err(invalid(
                op,
                format!(
                    "running statistics of shape {:?} do not match the {:?} channels",
                    r.shape(),
                    stat.shape()
                ),
            ));
        }
        crate::with_no_grad(|| -> Result<()> {
            let new = r
                .detach()
                .mul_scalar(1.0 - momentum)
                .try_add(&stat.detach().to_dtype(r.dtype()).mul_scalar(momentum))?;
            r.try_copy_(&new)?;
            Ok(())
        })?;
    }
    Ok(())
}

fn batch_norm_impl(
    input: &Tensor,
    running_mean: Option<&Tensor>,
    running_var: Option<&Tensor>,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    training: bool,
    momentum: f64,
    eps: f64,
) -> Result<Tensor> {
    const OP: &str = "batch_norm";
    if input.dim() < 2 {
        return Err(invalid(
            OP,
            format!(
                "Expected 2D or more input [N, C, *], but got input of size {:?}",
                input.shape()
            ),
        ));
    }
    let x = input.to_float();
    let c = x.shape()[1];
    let dims: Vec<isize> = (0..x.dim() as isize).filter(|&d| d != 1).collect();
    let n = x.numel() / c.max(1);
    let (mean, var) = if training {
        if n <= 1 {
            return Err(invalid(
                OP,
                format!(
                    "Expected more than 1 value per channel when training, got input size {:?}",
                    x.shape()
                ),
            ));
        }
        let mean = x.try_mean_dims(&dims, true)?;
        let var = x.try_var(&dims, 0.0, true)?;
        let flat = |t: &Tensor| t.try_reshape(&[c]);
        update_running(OP, running_mean, &flat(&mean)?, momentum)?;
        let unbiased = flat(&var)?.mul_scalar(n as f64 / (n as f64 - 1.0));
        update_running(OP, running_var, &unbiased, momentum)?;
        (mean, var)
    } else {
        let (Some(rm), Some(rv)) = (running_mean, running_var) else {
            return Err(invalid(
                OP,
                "running_mean and running_var must be defined in evaluation mode",
            ));
        };
        let rank = x.dim();
        (
            per_channel(OP, &rm.to_dtype(x.dtype()), c, rank, "running_mean")?,
            per_channel(OP, &rv.to_dtype(x.dtype()), c, rank, "running_var")?,
        )
    };
    let y = x.try_sub(&mean)?.try_mul(&var.add_scalar(eps).rsqrt())?;
    affine(OP, y, weight, bias, c)
}

fn group_norm_impl(
    input: &Tensor,
    groups: usize,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f64,
) -> Result<Tensor> {
    const OP: &str = "group_norm";
    if input.dim() < 2 || groups == 0 || input.shape()[1] % groups != 0 {
        return Err(invalid(
            OP,
            format!(
                "Expected number of channels in input to be divisible by num_groups, but got input of shape {:?} and num_groups={groups}",
                input.shape()
            ),
        ));
    }
    let x = input.to_float();
    let (n, c) = (x.shape()[0], x.shape()[1]);
    let per = x.shape()[1..].iter().product::<usize>() / groups;
    let g = x.try_reshape(&[n, groups, per])?;
    let mean = g.try_mean_dims(&[2], true)?;
    let var = g.try_var(&[2], 0.0, true)?;
    let y = g.try_sub(&mean)?.try_mul(&var.add_scalar(eps).rsqrt())?;
    affine(OP, y.try_reshape(x.shape())?, weight, bias, c)
}

fn instance_norm_impl(
    input: &Tensor,
    running_mean: Option<&Tensor>,
    running_var: Option<&Tensor>,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    use_input_stats: bool,
    momentum: f64,
    eps: f64,
) -> Result<Tensor> {
    const OP: &str = "instance_norm";
    if input.dim() < 3 {
        return Err(invalid(
            OP,
            format!(
                "Expected 3D or more input [N, C, *], but got input of size {:?}",
                input.shape()
            ),
        ));
    }
    let x = input.to_float();
    let c = x.shape()[1];
    let rank = x.dim();
    let dims: Vec<isize> = (2..rank as isize).collect();
    let m: usize = x.shape()[2..].iter().product();
    let (mean, var) = if use_input_stats {
        if m <= 1 {
            return Err(invalid(
                OP,
                format!(
                    "Expected more than 1 spatial element when training, got input size {:?}",
                    x.shape()
                ),
            ));
        }
        let mean = x.try_mean_dims(&dims, true)?;
        let var = x.try_var(&dims, 0.0, true)?;
        if x.shape()[0] > 0 {
            let over_batch = |t: &Tensor| t.try_mean_dims(&[0], false)?.try_reshape(&[c]);
            update_running(OP, running_mean, &over_batch(&mean)?, momentum)?;
            let unbiased = over_batch(&var)?.mul_scalar(m as f64 / (m as f64 - 1.0));
            update_running(OP, running_var, &unbiased, momentum)?;
        }
        (mean, var)
    } else {
        let (Some(rm), Some(rv)) = (running_mean, running_var) else {
            return Err(invalid(
                OP,
                "Expected running_mean and running_var to be defined when use_input_stats is false",
            ));
        };
        (
            per_channel(OP, &rm.to_dtype(x.dtype()), c, rank, "running_mean")?,
            per_channel(OP, &rv.to_dtype(x.dtype()), c, rank, "running_var")?,
        )
    };
    let y = x.try_sub(&mean)?.try_mul(&var.add_scalar(eps).rsqrt())?;
    affine(OP, y, weight, bias, c)
}

// -------------------------------------------------------------------- embedding, conv

fn embedding_impl(input: &Tensor, weight: &Tensor, padding_idx: Option<isize>) -> Result<Tensor> {
    const OP: &str = "embedding";
    if weight.dim() != 2 || input.dtype().is_floating_point() {
        return Err(invalid(
            OP,
            format!(
                "Expected an integer index tensor and a 2-D weight, but got indices of type {} and weight of size {:?}",
                input.dtype(),
                weight.shape()
            ),
        ));
    }
    let (num, dim) = (weight.shape()[0], weight.shape()[1]);
    let pad = match padding_idx {
        None => None,
        Some(p) if p >= 0 && (p as usize) < num => Some(p as usize),
        Some(p) if p < 0 && p.unsigned_abs() <= num => Some(num - p.unsigned_abs()),
        Some(_) => return Err(invalid(OP, "Padding_idx must be within num_embeddings")),
    };
    let idx = raw::index_values(OP, input, num).map_err(|e| match e {
        Error::Invalid { msg, .. } if msg.contains("out of bounds") => {
            invalid(OP, "index out of range in self")
        }
        e => e,
    })?;
    // The padding row is read from a detached copy appended as row `num`: the same values,
    // no gradient to the row at any order.
    let (source, idx) = match pad {
        Some(p) => {
            let extra = weight.detach().try_narrow(0, p, 1)?;
            let src = Tensor::try_cat(&[weight.clone(), extra], 0)?;
            let idx: Vec<usize> = idx.iter().map(|&i| if i == p { num } else { i }).collect();
            (src, idx)
        }
        None => (weight.clone(), idx),
    };
    let idx = Arc::new(idx);
    let mut shape = input.shape_vec();
    shape.push(dim);
    let lead = input.shape_vec();
    let map: IndexMap = Arc::new(move |p, src| {
        let mut flat = 0;
        for (k, &n) in lead.iter().enumerate() {
            flat = flat * n + p[k];
        }
        src[0] = idx[flat];
        src[1] = p[lead.len()];
    });
    Ok(take("EmbeddingBackward0", &source, &shape, map))
}

fn conv_transpose(
    op: &'static str,
    nd: usize,
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    [stride, padding, output_padding, dilation]: [&[usize]; 4],
    groups: usize,
) -> Result<Tensor> {
    let unbatched = input.dim() == nd + 1;
    if (input.dim() != nd + 2 && !unbatched) || weight.dim() != nd + 2 {
        return Err(invalid(
            op,
            format!(
                "Expected {}D (unbatched) or {}D (batched) input and {}D weight, but got input of size {:?} and weight of size {:?}",
                nd + 1,
                nd + 2,
                nd + 2,
                input.shape(),
                weight.shape()
            ),
        ));
    }
    let x = if unbatched {
        input.to_float().try_unsqueeze(0)?
    } else {
        input.to_float()
    };
    let (x, w) = if nd == 1 {
        (x.try_unsqueeze(2)?, weight.try_unsqueeze(2)?)
    } else {
        (x, weight.clone())
    };
    let two = |name: &str, v: &[usize], one: usize| -> Result<[usize; 2]> {
        let v = expand(op, name, v, nd, None)?;
        Ok(if nd == 1 { [one, v[0]] } else { [v[0], v[1]] })
    };
    let s = two("stride", stride, 1)?;
    let p = two("padding", padding, 0)?;
    let op_ = two("output_padding", output_padding, 0)?;
    let d = two("dilation", dilation, 1)?;
    let (n, cin) = (x.shape()[0], x.shape()[1]);
    let (wc, coutg, kh, kw) = (w.shape()[0], w.shape()[1], w.shape()[2], w.shape()[3]);
    if groups == 0 || wc != cin || cin % groups != 0 || s.contains(&0) || d.contains(&0) {
        return Err(invalid(
            op,
            format!(
                "Given transposed=1, weight of size {:?}, expected input{:?} to have {} channels, but got {cin} channels instead (groups={groups}; stride and dilation must be positive)",
                weight.shape(),
                input.shape(),
                wc
            ),
        ));
    }
    for a in 0..2 {
        if op_[a] >= s[a] && op_[a] >= d[a] {
            return Err(invalid(
                op,
                format!(
                    "output padding must be smaller than either stride or dilation, but got output_padding={output_padding:?}, stride={stride:?}, dilation={dilation:?}"
                ),
            ));
        }
    }
    let (h, wd) = (x.shape()[2], x.shape()[3]);
    let k = [kh, kw];
    let size = |a: usize, len: usize| -> i64 {
        (len as i64 - 1) * s[a] as i64 - 2 * p[a] as i64
            + d[a] as i64 * (k[a] as i64 - 1)
            + op_[a] as i64
            + 1
    };
    if h == 0 || wd == 0 || size(0, h) <= 0 || size(1, wd) <= 0 {
        return Err(invalid(
            op,
            format!(
                "Given input of size {:?} and weight of size {:?}, the calculated output size is not positive",
                input.shape(),
                weight.shape()
            ),
        ));
    }
    // Zeros between the input's elements (stride), then a full padding of the kernel's
    // reach less `padding` (negative: a crop), then a unit-stride convolution with the
    // flipped, transposed kernel.
    let z = if s == [1, 1] {
        x
    } else {
        let shape = [n, cin, (h - 1) * s[0] + 1, (wd - 1) * s[1] + 1];
        put_add(
            &x,
            &shape,
            Arc::new(move |q, src| {
                src[0] = q[0];
                src[1] = q[1];
                src[2] = q[2] * s[0];
                src[3] = q[3] * s[1];
            }),
        )
    };
    let reach = |a: usize| (d[a] * (k[a] - 1)) as isize - p[a] as isize;
    let pads = [
        reach(1),
        reach(1) + op_[1] as isize,
        reach(0),
        reach(0) + op_[0] as isize,
    ];
    let z = z.try_pad(&pads, 0.0)?;
    let g = groups;
    let wt = w
        .to_dtype(z.dtype())
        .try_reshape(&[g, cin / g, coutg, kh, kw])?
        .try_transpose(1, 2)?
        .try_reshape(&[g * coutg, cin / g, kh, kw])?
        .try_flip(&[2, 3])?;
    let options = ConvOptions {
        stride: [1, 1],
        padding: [0, 0],
        dilation: d,
        groups: g,
    };
    let bias = bias.map(|b| b.to_dtype(z.dtype()));
    let mut y = super::nn::try_conv2d(&z, &wt, bias.as_ref(), options).map_err(|e| match e {
        Error::Invalid { msg, .. } => invalid(op, msg),
        e => e,
    })?;
    if nd == 1 {
        y = y.try_squeeze(2)?;
    }
    if unbatched {
        y = y.try_squeeze(0)?;
    }
    Ok(y)
}

// ---------------------------------------------------------------------- pad, interpolate

fn pad_impl(input: &Tensor, pad: &[isize], mode: &str, value: Option<f64>) -> Result<Tensor> {
    const OP: &str = "pad";
    match mode {
        "constant" => return input.try_pad(pad, value.unwrap_or(0.0)),
        "reflect" | "replicate" | "circular" => {}
        _ => return Err(invalid(OP, format!("Unrecognised padding mode {mode}"))),
    }
    if value.is_some_and(|v| v != 0.0) {
        return Err(invalid(
            OP,
            format!("Padding mode \"{mode}\" doesn't take in value argument"),
        ));
    }
    let k = pad.len() / 2;
    if pad.len() % 2 != 0 || k == 0 || k > 3 || !(input.dim() == k + 1 || input.dim() == k + 2) {
        return Err(invalid(
            OP,
            format!(
                "Padding length should be even and at most 6, and the input {} or {} dimensional for padding of length {}, but got input of size {:?} and padding of length {}",
                k + 1,
                k + 2,
                pad.len(),
                input.shape(),
                pad.len()
            ),
        ));
    }
    let r = input.dim();
    let mut before = vec![0isize; r];
    let mut shape = input.shape_vec();
    for i in 0..k {
        let d = r - 1 - i;
        let (b, a) = (pad[2 * i], pad[2 * i + 1]);
        let len = input.shape()[d] as isize;
        let bad = match mode {
            "reflect" => b >= len || a >= len,
            "circular" => b > len || a > len,
            _ => len == 0,
        };
        let out = len + b + a;
        if bad || out <= 0 || b < -len || a < -len {
            return Err(invalid(
                OP,
                format!(
                    "Padding size should be less than the corresponding input dimension ({mode} mode), but got: padding ({b}, {a}) at dimension {d} of input {:?}",
                    input.shape()
                ),
            ));
        }
        before[d] = b;
        shape[d] = out as usize;
    }
    let x = input.to_float();
    if mode == "circular" {
        // Wrapped copies of the ends, cat on both sides (negative pads crop).
        let mut y = x;
        for i in 0..k {
            let d = r - 1 - i;
            let (b, a) = (pad[2 * i], pad[2 * i + 1]);
            let len = y.shape()[d];
            let dd = d as isize;
            let mut core = y.clone();
            if b < 0 || a < 0 {
                let (cb, ca) = ((-b).max(0) as usize, (-a).max(0) as usize);
                core = core.try_narrow(dd, cb, len - cb - ca)?;
            }
            let mut parts = Vec::new();
            if b > 0 {
                parts.push(y.try_narrow(dd, len - b as usize, b as usize)?);
            }
            parts.push(core);
            if a > 0 {
                parts.push(y.try_narrow(dd, 0, a as usize)?);
            }
            y = Tensor::try_cat(&parts, dd)?;
        }
        return Ok(y);
    }
    let sizes = input.shape_vec();
    let reflect = mode == "reflect";
    let map: IndexMap = Arc::new(move |p, src| {
        for j in 0..p.len() {
            let len = sizes[j] as isize;
            let mut i = p[j] as isize - before[j];
            if reflect {
                if i < 0 {
                    i = -i;
                }
                if i >= len {
                    i = 2 * (len - 1) - i;
                }
            } else {
                i = i.clamp(0, len - 1);
            }
            src[j] = i as usize;
        }
    });
    let node = match (reflect, k) {
        (true, 1) => "ReflectionPad1DBackward0",
        (true, 2) => "ReflectionPad2DBackward0",
        (true, _) => "ReflectionPad3DBackward0",
        (false, 1) => "ReplicationPad1DBackward0",
        (false, 2) => "ReplicationPad2DBackward0",
        (false, _) => "ReplicationPad3DBackward0",
    };
    Ok(take(node, &x, &shape, map))
}

/// PyTorch's `area_pixel_compute_scale`: the source step per output step.
fn interp_scale(len: usize, out: usize, align_corners: bool, scale: Option<f64>) -> f64 {
    if align_corners {
        if out > 1 {
            (len as f64 - 1.0) / (out as f64 - 1.0)
        } else {
            0.0
        }
    } else {
        match scale {
            Some(s) if s > 0.0 => 1.0 / s,
            _ => len as f64 / out as f64,
        }
    }
}

/// The `[out, len]` matrix of linear interpolation along one axis (PyTorch's source index
/// and weights).
fn linear_matrix(len: usize, out: usize, align_corners: bool, scale: Option<f64>) -> Vec<Vec<f64>> {
    let step = interp_scale(len, out, align_corners, scale);
    (0..out)
        .map(|o| {
            let src = if align_corners {
                step * o as f64
            } else {
                (step * (o as f64 + 0.5) - 0.5).max(0.0)
            };
            let i0 = (src.floor() as usize).min(len - 1);
            let i1 = (i0 + 1).min(len - 1);
            let l = src - i0 as f64;
            let mut row = vec![0.0; len];
            row[i0] += 1.0 - l;
            row[i1] += l;
            row
        })
        .collect()
}

/// PyTorch's nearest source index (computed in `float`, as its kernels do).
fn nearest_index(o: usize, len: usize, out: usize, scale: Option<f64>) -> usize {
    if out == len {
        o
    } else if out == 2 * len {
        o >> 1
    } else {
        let s = match scale {
            Some(s) if s > 0.0 => (1.0 / s) as f32,
            _ => len as f32 / out as f32,
        };
        ((o as f32 * s).floor() as usize).min(len - 1)
    }
}

fn interpolate_impl(
    input: &Tensor,
    size: Option<&[isize]>,
    scale_factor: Option<f64>,
    mode: &str,
    align_corners: bool,
) -> Result<Tensor> {
    const OP: &str = "interpolate";
    let nd = match input.dim() {
        3 => 1,
        4 => 2,
        _ => {
            return Err(invalid(
                OP,
                format!(
                    "Input Error: Only 3D and 4D input Tensors supported (got {}D) for the modes: nearest | linear | bilinear",
                    input.dim()
                ),
            ))
        }
    };
    match (mode, nd) {
        ("nearest", _) | ("linear", 1) | ("bilinear", 2) => {}
        ("linear" | "bilinear", _) => {
            return Err(invalid(
                OP,
                format!(
                    "Got {}D input, but {mode} mode needs {}D input",
                    nd + 2,
                    if mode == "linear" { 3 } else { 4 }
                ),
            ))
        }
        _ => {
            return Err(invalid(
                OP,
                format!("mode {mode} is not supported: nearest, linear or bilinear"),
            ))
        }
    }
    if align_corners && mode == "nearest" {
        return Err(invalid(
            OP,
            "align_corners option can only be set with the interpolating modes: linear | bilinear",
        ));
    }
    let spatial_in = &input.shape()[2..];
    let out: Vec<usize> = match (size, scale_factor) {
        (Some(s), None) => {
            let s = if s.len() == 1 { vec![s[0]; nd] } else { s.to_vec() };
            if s.len() != nd || s.iter().any(|&v| v <= 0) {
                return Err(invalid(
                    OP,
                    format!("Input and output must have the same number of spatial dimensions, and sizes must be positive, but got input with spatial dimensions of {spatial_in:?} and output size of {s:?}"),
                ));
            }
            s.iter().map(|&v| v as usize).collect()
        }
        (None, Some(f)) if f > 0.0 => spatial_in.iter().map(|&l| (l as f64 * f).floor() as usize).collect(),
        _ => {
            return Err(invalid(
                OP,
                "either size or scale_factor should be defined, and only one of them (a positive scale)",
            ))
        }
    };
    if spatial_in.contains(&0) || out.contains(&0) {
        return Err(invalid(
            OP,
            format!("Input and output sizes should be greater than 0, but got input {spatial_in:?} and output {out:?}"),
        ));
    }
    // The result must have a representable size before any index table is built.
    let mut full = input.shape()[..2].to_vec();
    full.extend_from_slice(&out);
    crate::layout::check_alloc(
        OP,
        &full,
        crate::storage::elem_size(input.to_float().dtype()),
    )?;
    let scale = if size.is_some() { None } else { scale_factor };
    let x = input.to_float();
    if mode == "nearest" {
        let idx: Vec<Vec<usize>> = (0..nd)
            .map(|a| {
                (0..out[a])
                    .map(|o| nearest_index(o, spatial_in[a], out[a], scale))
                    .collect()
            })
            .collect();
        let mut shape = x.shape_vec();
        shape[2..].copy_from_slice(&out);
        let idx = Arc::new(idx);
        let map: IndexMap = Arc::new(move |p, src| {
            src[0] = p[0];
            src[1] = p[1];
            for a in 0..idx.len() {
                src[2 + a] = idx[a][p[2 + a]];
            }
        });
        let node = if nd == 1 {
            "UpsampleNearest1DBackward0"
        } else {
            "UpsampleNearest2DBackward0"
        };
        return Ok(take(node, &x, &shape, map));
    }
    let m = |a: usize| linear_matrix(spatial_in[a], out[a], align_corners, scale);
    if nd == 1 {
        separable(&x, None, m(0))
    } else {
        separable(&x, Some(m(0)), m(1))
    }
}

// ------------------------------------------------------------------ unfold, fold, shuffle

/// Kernel, dilation, padding and stride of `unfold`/`fold`, two values each.
fn block_args(op: &'static str, [k, d, p, s]: [&[usize]; 4]) -> Result<[[usize; 2]; 4]> {
    let two = |name: &str, v: &[usize]| -> Result<[usize; 2]> {
        let v = expand(op, name, v, 2, None)?;
        Ok([v[0], v[1]])
    };
    let out = [
        two("kernel_size", k)?,
        two("dilation", d)?,
        two("padding", p)?,
        two("stride", s)?,
    ];
    if out[0].contains(&0) || out[1].contains(&0) || out[3].contains(&0) {
        return Err(invalid(
            op,
            format!("kernel size, dilation and stride should be greater than zero, but got kernel_size={:?}, dilation={:?}, stride={:?}", out[0], out[1], out[3]),
        ));
    }
    Ok(out)
}

/// The number of block positions along an axis (`None`: none fit).
fn blocks(len: usize, k: usize, d: usize, p: usize, s: usize) -> Option<usize> {
    (len + 2 * p)
        .checked_sub(d * (k - 1) + 1)
        .map(|r| r / s + 1)
}

/// `cols[n, c, i, j, oh, ow] = x[n, c, oh s0 + i d0, ow s1 + j d1]` (of a padded input).
fn block_map(s: [usize; 2], d: [usize; 2]) -> IndexMap {
    Arc::new(move |p, src| {
        src[0] = p[0];
        src[1] = p[1];
        src[2] = p[4] * s[0] + p[2] * d[0];
        src[3] = p[5] * s[1] + p[3] * d[1];
    })
}

fn unfold_impl(
    input: &Tensor,
    kernel_size: &[usize],
    dilation: &[usize],
    padding: &[usize],
    stride: &[usize],
) -> Result<Tensor> {
    const OP: &str = "unfold";
    let [k, d, p, s] = block_args(OP, [kernel_size, dilation, padding, stride])?;
    let unbatched = input.dim() == 3;
    if input.dim() != 4 && !unbatched {
        return Err(invalid(
            OP,
            format!(
                "Input Error: Only 3D or 4D input Tensors are supported (got {}D)",
                input.dim()
            ),
        ));
    }
    let x = input.to_float();
    let x = if unbatched { x.try_unsqueeze(0)? } else { x };
    let (n, c, h, w) = (x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]);
    let (Some(oh), Some(ow)) = (
        blocks(h, k[0], d[0], p[0], s[0]),
        blocks(w, k[1], d[1], p[1], s[1]),
    ) else {
        return Err(invalid(
            OP,
            format!("Given input with spatial size ({h}, {w}), kernel_size={k:?}, dilation={d:?}, padding={p:?}, calculated shape of the array of sliding blocks is non-positive"),
        ));
    };
    let xp = if p != [0, 0] {
        let (ph, pw) = (p[0] as isize, p[1] as isize);
        x.try_pad(&[pw, pw, ph, ph], 0.0)?
    } else {
        x
    };
    let cols = take(
        "Im2ColBackward0",
        &xp,
        &[n, c, k[0], k[1], oh, ow],
        block_map(s, d),
    );
    let y = cols.try_reshape(&[n, c * k[0] * k[1], oh * ow])?;
    if unbatched {
        y.try_squeeze(0)
    } else {
        Ok(y)
    }
}

fn fold_impl(
    input: &Tensor,
    output_size: &[usize],
    kernel_size: &[usize],
    dilation: &[usize],
    padding: &[usize],
    stride: &[usize],
) -> Result<Tensor> {
    const OP: &str = "fold";
    let [k, d, p, s] = block_args(OP, [kernel_size, dilation, padding, stride])?;
    let o = expand(OP, "output_size", output_size, 2, None)?;
    let unbatched = input.dim() == 2;
    if input.dim() != 3 && !unbatched {
        return Err(invalid(
            OP,
            format!("Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported (got {}D)", input.dim()),
        ));
    }
    let x = input.to_float();
    let x = if unbatched { x.try_unsqueeze(0)? } else { x };
    let (n, ck, l) = (x.shape()[0], x.shape()[1], x.shape()[2]);
    let kk = k[0] * k[1];
    let (oh, ow) = (
        blocks(o[0], k[0], d[0], p[0], s[0]).unwrap_or(0),
        blocks(o[1], k[1], d[1], p[1], s[1]).unwrap_or(0),
    );
    if ck % kk != 0 || oh * ow != l || oh * ow == 0 {
        return Err(invalid(
            OP,
            format!(
                "Given output_size={o:?}, kernel_size={k:?}, dilation={d:?}, padding={p:?}, stride={s:?}, expected size of input's dimension 1 to be divisible by the product of kernel_size and size of dimension 2 to match the calculated number of sliding blocks {oh} * {ow} = {}, but got input of size {:?}",
                oh * ow,
                input.shape()
            ),
        ));
    }
    let c = ck / kk;
    let cols = x.try_reshape(&[n, c, k[0], k[1], oh, ow])?;
    let padded = [n, c, o[0] + 2 * p[0], o[1] + 2 * p[1]];
    let img = put_add(&cols, &padded, block_map(s, d));
    let img = if p != [0, 0] {
        let (ph, pw) = (p[0] as isize, p[1] as isize);
        img.try_pad(&[-pw, -pw, -ph, -ph], 0.0)?
    } else {
        img
    };
    if unbatched {
        img.try_squeeze(0)
    } else {
        Ok(img)
    }
}

fn pixel_shuffle_impl(input: &Tensor, r: usize) -> Result<Tensor> {
    const OP: &str = "pixel_shuffle";
    let rank = input.dim();
    if rank < 3 || r == 0 || input.shape()[rank - 3] % (r * r) != 0 {
        return Err(invalid(
            OP,
            format!(
                "pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor (and at least 3 dimensions), but got input of size {:?} and upscale_factor={r}",
                input.shape()
            ),
        ));
    }
    let lead = &input.shape()[..rank - 3];
    let (c, h, w) = (
        input.shape()[rank - 3] / (r * r),
        input.shape()[rank - 2],
        input.shape()[rank - 1],
    );
    let b = lead.len();
    let mut shape = lead.to_vec();
    shape.extend([c, r, r, h, w]);
    let mut perm: Vec<isize> = (0..b as isize).collect();
    let bi = b as isize;
    perm.extend([bi, bi + 3, bi + 1, bi + 4, bi + 2]);
    let mut out = lead.to_vec();
    out.extend([c, h * r, w * r]);
    input
        .try_reshape(&shape)?
        .try_permute(&perm)?
        .try_reshape(&out)
}

fn pixel_unshuffle_impl(input: &Tensor, r: usize) -> Result<Tensor> {
    const OP: &str = "pixel_unshuffle";
    let rank = input.dim();
    if rank < 3 || r == 0 || input.shape()[rank - 2] % r != 0 || input.shape()[rank - 1] % r != 0 {
        return Err(invalid(
            OP,
            format!(
                "pixel_unshuffle expects its input to have at least 3 dimensions and height and width divisible by downscale_factor={r}, but got input of size {:?}",
                input.shape()
            ),
        ));
    }
    let lead = &input.shape()[..rank - 3];
    let (c, h, w) = (
        input.shape()[rank - 3],
        input.shape()[rank - 2] / r,
        input.shape()[rank - 1] / r,
    );
    let b = lead.len();
    let mut shape = lead.to_vec();
    shape.extend([c, h, r, w, r]);
    let mut perm: Vec<isize> = (0..b as isize).collect();
    let bi = b as isize;
    perm.extend([bi, bi + 2, bi + 4, bi + 1, bi + 3]);
    let mut out = lead.to_vec();
    out.extend([c * r * r, h, w]);
    input
        .try_reshape(&shape)?
        .try_permute(&perm)?
        .try_reshape(&out)
}

// ---------------------------------------------------------------------------- losses

fn cosine_similarity_impl(x1: &Tensor, x2: &Tensor, dim: isize, eps: f64) -> Result<Tensor> {
    const OP: &str = "cosine_similarity";
    let shape = crate::layout::broadcast(OP, x1.shape(), x2.shape())?;
    let (a, b) = (
        x1.to_float().try_broadcast_to(&shape)?,
        x2.to_float().try_broadcast_to(&shape)?,
    );
    let d = super::normalize_dim(OP, dim, shape.len().max(1))? as isize;
    let unit = |t: &Tensor| -> Result<Tensor> {
        let n = t
            .square()
            .try_sum_dims(&[d], true)?
            .sqrt()
            .clamp(Some(eps), None);
        t.try_div(&n)
    };
    unit(&a)?.try_mul(&unit(&b)?)?.try_sum_dims(&[d], false)
}

fn kl_div_impl(
    input: &Tensor,
    target: &Tensor,
    reduction: &str,
    log_target: bool,
) -> Result<Tensor> {
    const OP: &str = "kl_div";
    if !matches!(reduction, "none" | "mean" | "sum" | "batchmean") {
        return Err(invalid(
            OP,
            format!("{reduction} is not a valid value for reduction"),
        ));
    }
    let (x, t) = (input.to_float(), target.to_float());
    let loss = if log_target {
        t.exp().try_mul(&t.try_sub(&x)?)?
    } else {
        // xlogy(t, t) - t x: 0 where t = 0 (the log read at 1 there, so no NaN leaks into
        // the gradient), NaN where t < 0.
        let zero = t.eq_scalar(0.0);
        let safe = Tensor::try_where_(&zero, &t.ones_like(), &t)?;
        let xlogy = Tensor::try_where_(&zero, &t.zeros_like(), &t.try_mul(&safe.log())?)?;
        xlogy.try_sub(&t.try_mul(&x)?)?
    };
    Ok(match reduction {
        "none" => loss,
        "sum" => loss.sum(),
        "mean" => loss.mean(),
        _ => {
            let n = if x.dim() == 0 { 1 } else { x.shape()[0] };
            loss.sum().div_scalar(n as f64)
        }
    })
}

fn triplet_margin_loss_impl(
    anchor: &Tensor,
    positive: &Tensor,
    negative: &Tensor,
    margin: f64,
    p: f64,
    eps: f64,
    swap: bool,
    reduction: Reduction,
) -> Result<Tensor> {
    const OP: &str = "triplet_margin_loss";
    let (a, pos, neg) = (anchor.dim(), positive.dim(), negative.dim());
    if a != pos || a != neg || a == 0 {
        return Err(invalid(
            OP,
            format!("The anchor, positive, and negative tensors are expected to have the same number of dimensions (at least 1), but got: anchor {a}D, positive {pos}D, and negative {neg}D inputs"),
        ));
    }
    if margin <= 0.0 {
        return Err(invalid(
            OP,
            format!(
                "triplet_margin_loss: expected margin to be greater than 0, got {margin} instead"
            ),
        ));
    }
    let dist = |x: &Tensor, y: &Tensor| -> Result<Tensor> {
        x.to_float()
            .try_sub(&y.to_float())?
            .add_scalar(eps)
            .try_norm_dims(p, &[-1], false)
    };
    let d_ap = dist(anchor, positive)?;
    let mut d_an = dist(anchor, negative)?;
    if swap {
        d_an = d_an.try_minimum(&dist(positive, negative)?)?;
    }
    let loss = d_ap
        .try_sub(&d_an)?
        .add_scalar(margin)
        .clamp(Some(0.0), None);
    Ok(reduce(loss, reduction))
}

fn margin_ranking_loss_impl(
    input1: &Tensor,
    input2: &Tensor,
    target: &Tensor,
    margin: f64,
    reduction: Reduction,
) -> Result<Tensor> {
    const OP: &str = "margin_ranking_loss";
    if input1.dim() != input2.dim() || input1.dim() != target.dim() {
        return Err(invalid(
            OP,
            format!(
                "margin_ranking_loss : All input tensors should have same dimension but got sizes: input1: {:?}, input2: {:?}, target: {:?} ",
                input1.shape(),
                input2.shape(),
                target.shape()
            ),
        ));
    }
    let diff = input1.to_float().try_sub(&input2.to_float())?;
    let loss = target
        .to_float()
        .neg()
        .try_mul(&diff)?
        .add_scalar(margin)
        .clamp(Some(0.0), None);
    Ok(reduce(loss, reduction))
}
