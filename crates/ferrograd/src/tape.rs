//! TensorFlow's `tf.GradientTape` on top of ferrograd's autograd.
//!
//! ```
//! use ferrograd::tape::GradientTape;
//! use ferrograd::Tensor;
//! // x = tf.Variable(5.0); with tf.GradientTape() as t: t.watch(x); y = x**2
//! let x = Tensor::scalar(5.0);
//! let t = GradientTape::new();
//! t.watch(&x);
//! let y = x.pow(2.0);
//! assert_eq!(t.gradient(&y, &[&x])[0].as_ref().unwrap().item(), 10.0);
//! ```
//!
//! One difference from TensorFlow: ferrograd records every operation on tensors that require
//! grad, whether or not a tape is open, so a target computed before the tape was created still
//! has gradients (TensorFlow would return `None`). Watching a tensor is what makes it record.
//! Nested tapes give higher derivatives: while another tape is alive, `gradient` records its own
//! computation, so the outer tape can differentiate it.

use crate::autograd::{try_grad, GradOptions};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use std::cell::Cell;
use std::sync::Mutex;

thread_local! {
    static LIVE_TAPES: Cell<usize> = const { Cell::new(0) };
}

/// What `gradient` returns for a source the target does not depend on.
///
/// ```
/// assert_eq!(ferrograd::tape::UnconnectedGradients::default(), ferrograd::tape::UnconnectedGradients::None);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UnconnectedGradients {
    /// `None` (TensorFlow's default).
    #[default]
    None,
    /// Zeros of the source's shape.
    Zero,
}

/// A gradient tape: watch tensors, compute, then ask for gradients (`tf.GradientTape`).
pub struct GradientTape {
    persistent: bool,
    used: Mutex<bool>,
    watched: Mutex<Vec<Tensor>>,
    // Tapes are per thread, as the recording state they track.
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Default for GradientTape {
    fn default() -> Self {
        GradientTape::new()
    }
}

impl Drop for GradientTape {
    fn drop(&mut self) {
        LIVE_TAPES.with(|n| n.set(n.get().saturating_sub(1)));
    }
}

impl GradientTape {
    /// A tape that computes one set of gradients (`tf.GradientTape()`).
    ///
    /// ```
    /// let t = ferrograd::tape::GradientTape::new();
    /// assert!(t.watched_variables().is_empty());
    /// ```
    pub fn new() -> GradientTape {
        GradientTape::with_persistence(false)
    }

    /// A tape that can be asked for gradients several times (`persistent=True`).
    ///
    /// ```
    /// use ferrograd::{tape::GradientTape, Tensor};
    /// let x = Tensor::scalar(3.0);
    /// let t = GradientTape::persistent();
    /// t.watch(&x);
    /// let (y, z) = (x.pow(2.0), x.pow(3.0));
    /// assert_eq!(t.gradient(&y, &[&x])[0].as_ref().unwrap().item(), 6.0);
    /// assert_eq!(t.gradient(&z, &[&x])[0].as_ref().unwrap().item(), 27.0);
    /// ```
    pub fn persistent() -> GradientTape {
        GradientTape::with_persistence(true)
    }

    fn with_persistence(persistent: bool) -> GradientTape {
        LIVE_TAPES.with(|n| n.set(n.get() + 1));
        GradientTape {
            persistent,
            used: Mutex::new(false),
            watched: Mutex::new(Vec::new()),
            _not_send: std::marker::PhantomData,
        }
    }

    /// The watched tensors, in the order they were watched.
    ///
    /// ```
    /// let t = ferrograd::tape::GradientTape::new();
    /// t.watch(&ferrograd::Tensor::scalar(1.0));
    /// assert_eq!(t.watched_variables().len(), 1);
    /// ```
    pub fn watched_variables(&self) -> Vec<Tensor> {
        self.watched
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Turns recording off until the guard is dropped (`with tape.stop_recording():`).
    ///
    /// ```
    /// use ferrograd::{tape::GradientTape, Tensor};
    /// let x = Tensor::scalar(2.0);
    /// let t = GradientTape::new();
    /// t.watch(&x);
    /// let y = { let _s = t.stop_recording(); x.pow(2.0) };
    /// assert!(!y.requires_grad());
    /// ```
    pub fn stop_recording(&self) -> crate::GradModeGuard {
        crate::no_grad()
    }

    /// [`GradientTape::gradient`] with `output_gradients` (the target's seed, default ones) and
    /// the choice for unconnected sources.
    ///
    /// ```
    /// use ferrograd::{tape::{GradientTape, UnconnectedGradients}, Tensor};
    /// let (x, u) = (Tensor::scalar(3.0), Tensor::scalar(1.0));
    /// let t = GradientTape::new();
    /// t.watch(&x);
    /// t.watch(&u);
    /// let g = t.gradient_ext(&x.pow(2.0), &[&x, &u], Some(&Tensor::scalar(2.0)), UnconnectedGradients::Zero).unwrap();
    /// assert_eq!((g[0].as_ref().unwrap().item(), g[1].as_ref().unwrap().item()), (12.0, 0.0));
    /// ```
    pub fn gradient_ext(
        &self,
        target: &Tensor,
        sources: &[&Tensor],
        output_gradients: Option<&Tensor>,
        unconnected: UnconnectedGradients,
    ) -> Result<Vec<Option<Tensor>>> {
        self.use_once()?;
        let zeros =
            |s: &Tensor| (unconnected == UnconnectedGradients::Zero).then(|| s.zeros_like());
        if !target.requires_grad() {
            return Ok(sources.iter().map(|s| zeros(s)).collect());
        }
        // Sources that do not require grad are unconnected.
        let live: Vec<&Tensor> = sources
            .iter()
            .copied()
            .filter(|s| s.requires_grad())
            .collect();
        let seed = match output_gradients {
            Some(g) => g.clone(),
            None => target.ones_like(),
        };
        let create_graph = LIVE_TAPES.with(|n| n.get()) > 1;
        let grads = if live.is_empty() {
            Vec::new()
        } else {
            try_grad(
                &[target],
                &live,
                GradOptions::new()
                    .grad_outputs([seed])
                    .retain_graph(self.persistent || create_graph)
                    .create_graph(create_graph)
                    .allow_unused(true),
            )?
        };
        let mut it = grads.into_iter();
        Ok(sources
            .iter()
            .map(|s| {
                let g = if s.requires_grad() {
                    it.next().flatten()
                } else {
                    None
                };
                g.or_else(|| zeros(s))
            })
            .collect())
    }

    fn use_once(&self) -> Result<()> {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        if *used && !self.persistent {
            return Err(Error::invalid(
                "GradientTape",
                "A non-persistent GradientTape can only be used to compute one set of gradients (or jacobians)",
            ));
        }
        *used = true;
        Ok(())
    }
}

api! {
    impl GradientTape {
        /// Starts tracking `t` (a leaf: it is made to require grad). Tensors that already require
        /// grad (TensorFlow's trainable variables) are tracked without watching.
        ///
        /// ```
        /// let x = ferrograd::Tensor::scalar(1.0);
        /// ferrograd::tape::GradientTape::new().watch(&x);
        /// assert!(x.requires_grad());
        /// ```
        ///
        /// ```
        /// let b = ferrograd::Tensor::new([true]);
        /// assert!(ferrograd::tape::GradientTape::new().try_watch(&b).is_err());
        /// ```
        pub fn watch / try_watch(&self, t: &Tensor) -> () {
            if !t.requires_grad() {
                if !t.is_leaf() {
                    return Err(Error::invalid(
                        "watch",
                        "cannot watch a tensor that was computed without recording; watch its inputs before computing it",
                    ));
                }
                t.try_requires_grad_(true)?;
            }
            let mut w = self.watched.lock().unwrap_or_else(|e| e.into_inner());
            if !w.iter().any(|x| x.is_same(t)) {
                w.push(t.clone());
            }
            Ok(())
        }

        /// Gradients of `target` (summed over its elements, as TensorFlow does) with respect to
        /// `sources`; `None` for unconnected sources.
        ///
        /// ```
        /// use ferrograd::{tape::GradientTape, Tensor};
        /// let x = Tensor::new([1.0, 2.0]);
        /// let u = Tensor::scalar(1.0);
        /// let t = GradientTape::new();
        /// t.watch(&x);
        /// t.watch(&u);
        /// let g = t.gradient(&x.pow(2.0), &[&x, &u]);
        /// assert_eq!(g[0].as_ref().unwrap().to_vec::<f32>(), vec![2.0, 4.0]);
        /// assert!(g[1].is_none());
        /// ```
        ///
        /// ```
        /// use ferrograd::{tape::GradientTape, Tensor};
        /// let x = Tensor::scalar(1.0);
        /// let t = GradientTape::new();
        /// t.watch(&x);
        /// let y = x.exp();
        /// t.gradient(&y, &[&x]);
        /// assert!(t.try_gradient(&y, &[&x]).unwrap_err().to_string().contains("non-persistent"));
        /// ```
        pub fn gradient / try_gradient(
            &self,
            target: &Tensor,
            sources: &[&Tensor],
        ) -> Vec<Option<Tensor>> {
            self.gradient_ext(target, sources, None, UnconnectedGradients::None)
        }

        /// The Jacobian of `target` with respect to `source`, shaped `target.shape ++ source.shape`
        /// (`tape.jacobian`).
        ///
        /// ```
        /// use ferrograd::{tape::GradientTape, Tensor};
        /// let x = Tensor::new([1.0, 2.0]);
        /// let t = GradientTape::new();
        /// t.watch(&x);
        /// let j = t.jacobian(&x.pow(2.0), &x);
        /// assert_eq!(j.to_vec::<f32>(), vec![2.0, 0.0, 0.0, 4.0]);
        /// ```
        ///
        /// ```
        /// use ferrograd::{tape::GradientTape, Tensor};
        /// let x = Tensor::new([1.0]);
        /// let t = GradientTape::new();
        /// t.watch(&x);
        /// let y = x.exp();
        /// t.jacobian(&y, &x);
        /// assert!(t.try_jacobian(&y, &x).is_err());
        /// ```
        pub fn jacobian / try_jacobian(&self, target: &Tensor, source: &Tensor) -> Tensor {
            self.use_once()?;
            let mut shape = target.shape().to_vec();
            shape.extend_from_slice(source.shape());
            if !target.requires_grad() || !source.requires_grad() || target.numel() == 0 {
                return Ok(Tensor::full_with(&shape, 0.0, source.dtype()));
            }
            let create_graph = LIVE_TAPES.with(|n| n.get()) > 1;
            let mut rows = Vec::with_capacity(target.numel());
            for k in 0..target.numel() {
                let mut v = vec![0.0; target.numel()];
                v[k] = 1.0;
                let seed = Tensor::from_vec(v, target.shape()).to_dtype(target.dtype());
                let g = try_grad(
                    &[target],
                    &[source],
                    GradOptions::new()
                        .grad_outputs([seed])
                        .retain_graph(true)
                        .create_graph(create_graph)
                        .allow_unused(true),
                )?;
                rows.push(g[0].clone().unwrap_or_else(|| source.zeros_like()));
            }
            Tensor::try_stack(&rows, 0)?.try_reshape(&shape)
        }

        /// Per-example Jacobians: `target` `[B, ...]` and `source` `[B, ...]` give `[B, target...,
        /// source...]` (`tape.batch_jacobian`), assuming example `b` of the target depends only on
        /// example `b` of the source.
        ///
        /// ```
        /// use ferrograd::{tape::GradientTape, Tensor};
        /// let x = Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
        /// let t = GradientTape::new();
        /// t.watch(&x);
        /// let j = t.batch_jacobian(&x.pow(2.0).sum_dims(&[1], true), &x);
        /// assert_eq!(j.shape(), &[2, 1, 2]);
        /// assert_eq!(j.to_vec::<f32>(), vec![2.0, 4.0, 6.0, 8.0]);
        /// ```
        ///
        /// ```
        /// use ferrograd::{tape::GradientTape, Tensor};
        /// let t = GradientTape::persistent();
        /// assert!(t.try_batch_jacobian(&Tensor::zeros(&[2]), &Tensor::zeros(&[3, 1])).is_err());
        /// ```
        pub fn batch_jacobian / try_batch_jacobian(&self, target: &Tensor, source: &Tensor) -> Tensor {
            if target.dim() == 0 || source.dim() == 0 || target.shape()[0] != source.shape()[0] {
                return Err(Error::invalid(
                    "batch_jacobian",
                    format!(
                        "target and source need the same leading (batch) dimension, got {:?} and {:?}",
                        target.shape(),
                        source.shape()
                    ),
                ));
            }
            let full = self.try_jacobian(target, source)?; // [B, t..., B, s...]
            let b = target.shape()[0];
            let per: Vec<Tensor> = (0..b)
                .map(|i| {
                    full.try_select(0, i as isize)?
                        .try_select(target.dim() as isize - 1, i as isize)
                })
                .collect::<Result<_>>()?;
            Tensor::try_stack(&per, 0)
        }
    }
}
