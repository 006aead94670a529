//! Thread-local grad mode (`torch.no_grad`, `torch.enable_grad`, `torch.set_grad_enabled`) and
//! anomaly mode (`torch.autograd.set_detect_anomaly`) with its check of backward results.

use crate::error::{Error, Result};
use crate::tensor::Tensor;
use std::cell::Cell;

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Whether operations on this thread are being recorded.
///
/// ```
/// assert!(ferrograd::is_grad_enabled());
/// let _g = ferrograd::no_grad();
/// assert!(!ferrograd::is_grad_enabled());
/// ```
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

/// Restores the previous grad mode of this thread when dropped.
///
/// ```
/// {
///     let _guard = ferrograd::set_grad_enabled(false);
///     assert!(!ferrograd::is_grad_enabled());
/// }
/// assert!(ferrograd::is_grad_enabled());
/// ```
#[must_use = "grad mode is restored as soon as the guard is dropped"]
pub struct GradModeGuard {
    previous: bool,
    // Grad mode is per thread: the guard must be dropped on the thread that made it.
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for GradModeGuard {
    fn drop(&mut self) {
        GRAD_ENABLED.with(|g| g.set(self.previous));
    }
}

/// Sets grad mode on this thread until the returned guard is dropped.
///
/// ```
/// let x = ferrograd::Tensor::scalar(1.0).requires_grad_(true);
/// let _g = ferrograd::set_grad_enabled(false);
/// assert!(!(&x * 2.0).requires_grad());
/// ```
pub fn set_grad_enabled(enabled: bool) -> GradModeGuard {
    let previous = GRAD_ENABLED.with(|g| g.replace(enabled));
    GradModeGuard {
        previous,
        _not_send: std::marker::PhantomData,
    }
}

/// Disables recording until the guard is dropped (`with torch.no_grad():`).
///
/// ```
/// let x = ferrograd::Tensor::new([0.1, -0.2, 0.3]).requires_grad_(true);
/// let _g = ferrograd::no_grad();
/// assert!(!x.pow(2.0).requires_grad());
/// ```
pub fn no_grad() -> GradModeGuard {
    set_grad_enabled(false)
}

/// Enables recording until the guard is dropped, even inside `no_grad`.
///
/// ```
/// let _outer = ferrograd::no_grad();
/// let _inner = ferrograd::enable_grad();
/// assert!(ferrograd::is_grad_enabled());
/// ```
pub fn enable_grad() -> GradModeGuard {
    set_grad_enabled(true)
}

/// Runs `f` with recording disabled (closure form of [`no_grad`]).
///
/// ```
/// let x = ferrograd::Tensor::scalar(2.0).requires_grad_(true);
/// let y = ferrograd::with_no_grad(|| &x * &x);
/// assert!(!y.requires_grad());
/// ```
pub fn with_no_grad<R>(f: impl FnOnce() -> R) -> R {
    let _g = no_grad();
    f()
}

/// Runs `f` with recording enabled (closure form of [`enable_grad`]).
///
/// ```
/// let x = ferrograd::Tensor::scalar(2.0).requires_grad_(true);
/// let _g = ferrograd::no_grad();
/// assert!(ferrograd::with_enable_grad(|| &x * &x).requires_grad());
/// ```
pub fn with_enable_grad<R>(f: impl FnOnce() -> R) -> R {
    let _g = enable_grad();
    f()
}

thread_local! {
    static ANOMALY: Cell<bool> = const { Cell::new(false) };
}

/// Whether anomaly detection is on for this thread (see [`set_detect_anomaly`]).
///
/// ```
/// assert!(!ferrograd::is_anomaly_enabled());
/// ```
pub fn is_anomaly_enabled() -> bool {
    ANOMALY.with(|a| a.get())
}

/// Turns anomaly detection on or off for this thread (`torch.autograd.set_detect_anomaly`).
/// While on, every recorded operation keeps a backtrace of where it ran, and a backward rule
/// that returns NaN or infinite values fails with an error naming the node ("Function
/// 'PowBackward0' returned nan values in its 0th output.") and that backtrace. It slows
/// recording down; use it to debug.
///
/// ```
/// use ferrograd::{set_detect_anomaly, Tensor};
/// set_detect_anomaly(true);
/// let x = Tensor::new([0.0]).requires_grad_(true);
/// let err = x.sqrt().mul_scalar(0.0).sum().backward_with(&Default::default()).unwrap_err();
/// assert!(err.to_string().starts_with("Function 'SqrtBackward0' returned nan values in its 0th output."));
/// set_detect_anomaly(false);
/// ```
pub fn set_detect_anomaly(enabled: bool) {
    ANOMALY.with(|a| a.set(enabled));
}

/// Anomaly detection until the guard is dropped (`with torch.autograd.detect_anomaly():`).
///
/// ```
/// {
///     let _g = ferrograd::detect_anomaly();
///     assert!(ferrograd::is_anomaly_enabled());
/// }
/// assert!(!ferrograd::is_anomaly_enabled());
/// ```
pub fn detect_anomaly() -> AnomalyGuard {
    let previous = ANOMALY.with(|a| a.replace(true));
    AnomalyGuard {
        previous,
        _not_send: std::marker::PhantomData,
    }
}

/// Restores the previous anomaly mode when dropped.
#[must_use = "anomaly detection ends as soon as the guard is dropped"]
pub struct AnomalyGuard {
    previous: bool,
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for AnomalyGuard {
    fn drop(&mut self) {
        ANOMALY.with(|a| a.set(self.previous));
    }
}

/// In anomaly mode, the first of a node's gradients with NaN (or infinite) values is an error
/// naming the node and where its forward ran; a no-op otherwise.
pub(crate) fn check_anomaly(node: &super::Node, grads: &[Option<Tensor>]) -> Result<()> {
    if !is_anomaly_enabled() {
        return Ok(());
    }
    for (index, g) in grads.iter().enumerate() {
        let Some(g) = g else { continue };
        let values = g.values_f64();
        let kind = if values.iter().any(|v| v.is_nan()) {
            "nan"
        } else if values.iter().any(|v| v.is_infinite()) {
            "inf"
        } else {
            continue;
        };
        let trace = node
            .trace
            .as_ref()
            .map(|t| format!("\nTraceback of forward call that caused the error:\n{t}"))
            .unwrap_or_default();
        return Err(Error::Anomaly {
            name: node.label(),
            index,
            kind,
            trace,
        });
    }
    Ok(())
}
