//! Random tensors from one seedable, process-wide generator (like `torch.manual_seed`).

use crate::dtype::DType;
use crate::storage::Buffer;
use crate::tensor::Tensor;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use std::sync::Mutex;

/// The seed the generator starts from, so programs are reproducible by default.
const DEFAULT_SEED: u64 = 67280421310721;

static GENERATOR: Mutex<Option<StdRng>> = Mutex::new(None);

fn with_rng<R>(f: impl FnOnce(&mut StdRng) -> R) -> R {
    let mut g = GENERATOR.lock().unwrap_or_else(|e| e.into_inner());
    f(g.get_or_insert_with(|| StdRng::seed_from_u64(DEFAULT_SEED)))
}

/// Re-seeds the generator behind [`Tensor::randn`] and [`Tensor::rand`].
///
/// ```
/// use ferrograd::{manual_seed, Tensor};
/// manual_seed(0);
/// let a = Tensor::randn(&[3]);
/// manual_seed(0);
/// assert_eq!(a.to_vec::<f32>(), Tensor::randn(&[3]).to_vec::<f32>());
/// ```
pub fn manual_seed(seed: u64) {
    let mut g = GENERATOR.lock().unwrap_or_else(|e| e.into_inner());
    *g = Some(StdRng::seed_from_u64(seed));
}

impl Tensor {
    /// Standard normal samples (`f32`).
    ///
    /// ```
    /// let t = ferrograd::Tensor::randn(&[2, 3]);
    /// assert_eq!(t.shape(), &[2, 3]);
    /// ```
    pub fn randn(shape: &[usize]) -> Tensor {
        Tensor::randn_with(shape, DType::F32)
    }

    /// Standard normal samples of a floating `dtype` (bool gives `x > 0`).
    ///
    /// ```
    /// let t = ferrograd::Tensor::randn_with(&[4], ferrograd::DType::F64);
    /// assert_eq!(t.dtype(), ferrograd::DType::F64);
    /// ```
    pub fn randn_with(shape: &[usize], dtype: DType) -> Tensor {
        crate::batching::random(shape, |shape| randn_of(shape, dtype))
    }

    /// Uniform samples in `[0, 1)` (`f32`).
    ///
    /// ```
    /// let t = ferrograd::Tensor::rand(&[100]);
    /// assert!(t.to_vec::<f32>().iter().all(|&v| (0.0..1.0).contains(&v)));
    /// ```
    pub fn rand(shape: &[usize]) -> Tensor {
        Tensor::rand_with(shape, DType::F32)
    }

    /// Uniform samples in `[0, 1)` of `dtype`.
    ///
    /// ```
    /// let t = ferrograd::Tensor::rand_with(&[2], ferrograd::DType::F64);
    /// assert_eq!(t.numel(), 2);
    /// ```
    pub fn rand_with(shape: &[usize], dtype: DType) -> Tensor {
        crate::batching::random(shape, |shape| rand_of(shape, dtype))
    }
}

fn randn_of(shape: &[usize], dtype: DType) -> Tensor {
    let n = shape.iter().product();
    let v: Vec<f64> = with_rng(|r| (0..n).map(|_| r.sample(StandardNormal)).collect());
    Tensor::from_buffer(Buffer::from_f64s(dtype, v.into_iter()), shape)
}

fn rand_of(shape: &[usize], dtype: DType) -> Tensor {
    let n = shape.iter().product();
    let v: Vec<f64> = match dtype {
        // Draw in f32 so rounding never produces 1.0.
        DType::F32 => with_rng(|r| (0..n).map(|_| r.random::<f32>() as f64).collect()),
        _ => with_rng(|r| (0..n).map(|_| r.random::<f64>()).collect()),
    };
    Tensor::from_buffer(Buffer::from_f64s(dtype, v.into_iter()), shape)
}
