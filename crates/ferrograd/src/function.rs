//! Custom differentiable functions (`torch.autograd.Function`): a forward and a backward you
//! write, recorded as one node named as you choose.
//!
//! The forward runs without recording; what it saves through the [`Context`] is kept on the
//! node (the output too, without a reference cycle). If the backward is written with tensor ops,
//! `create_graph` records it like any built-in rule, so higher derivatives and `gradcheck` work.
//!
//! ```
//! use ferrograd::function::{apply, Context, Function};
//! use ferrograd::Tensor;
//!
//! /// exp(x), saving its output, as in PyTorch's tutorial.
//! struct MyExp;
//! impl Function for MyExp {
//!     fn name(&self) -> &'static str {
//!         "MyExpBackward"
//!     }
//!     fn forward(&self, ctx: &mut Context, inputs: &[Tensor]) -> Tensor {
//!         let y = inputs[0].exp();
//!         ctx.save_for_backward(&[&y]);
//!         y
//!     }
//!     fn backward(&self, ctx: &Context, grad: &Tensor) -> Vec<Option<Tensor>> {
//!         vec![Some(grad * &ctx.saved_tensors()[0])]
//!     }
//! }
//!
//! let x = Tensor::scalar(1.0).requires_grad_(true);
//! let y = apply(MyExp, &[&x]);
//! assert_eq!(y.grad_fn().unwrap().name(), "MyExpBackward");
//! y.backward();
//! assert_eq!(x.grad().unwrap().item(), 1f32.exp() as f64);
//! ```

use crate::autograd::record;
use crate::tensor::Tensor;
use std::sync::Arc;

/// What a custom function's forward leaves for its backward.
///
/// ```
/// let ctx = ferrograd::function::Context::default();
/// assert!(ctx.saved_tensors().is_empty());
/// ```
#[derive(Default)]
pub struct Context {
    saved: Vec<Tensor>,
    needs: Vec<bool>,
    non_differentiable: bool,
}

impl Context {
    /// Keeps tensors (inputs, intermediates or the output) for the backward.
    ///
    /// ```
    /// let mut ctx = ferrograd::function::Context::default();
    /// ctx.save_for_backward(&[&ferrograd::Tensor::scalar(1.0)]);
    /// assert_eq!(ctx.saved_tensors().len(), 1);
    /// ```
    pub fn save_for_backward(&mut self, tensors: &[&Tensor]) {
        self.saved.extend(tensors.iter().map(|t| (*t).clone()));
    }

    /// The saved tensors, in the order they were saved.
    ///
    /// ```
    /// assert!(ferrograd::function::Context::default().saved_tensors().is_empty());
    /// ```
    pub fn saved_tensors(&self) -> &[Tensor] {
        &self.saved
    }

    /// Whether input `i` needs a gradient (so the backward may skip the others).
    ///
    /// ```
    /// assert!(!ferrograd::function::Context::default().needs_input_grad(0));
    /// ```
    pub fn needs_input_grad(&self, i: usize) -> bool {
        self.needs.get(i).copied().unwrap_or(false)
    }

    /// Declares the output non-differentiable (an index, a mask): it will not require grad.
    ///
    /// ```
    /// let mut ctx = ferrograd::function::Context::default();
    /// ctx.mark_non_differentiable();
    /// ```
    pub fn mark_non_differentiable(&mut self) {
        self.non_differentiable = true;
    }
}

/// A differentiable function with a hand-written backward.
pub trait Function: Send + Sync + 'static {
    /// The node's name, as `grad_fn().name()` shows it.
    fn name(&self) -> &'static str;
    /// Computes the output (not recorded); may save tensors on `ctx`.
    fn forward(&self, ctx: &mut Context, inputs: &[Tensor]) -> Tensor;
    /// One gradient per input (`None`: no gradient) from the output's gradient.
    fn backward(&self, ctx: &Context, grad: &Tensor) -> Vec<Option<Tensor>>;
    /// Forward mode (see [`crate::forward_ad`]): the output's tangent from the inputs'
    /// tangents (`None`: zero), each of its input's shape. `None` (the default) means not
    /// implemented: [`try_apply`] then fails on inputs that carry tangents, as PyTorch does.
    /// Written with tensor ops, it is differentiable in reverse mode like the built-in rules.
    ///
    /// ```
    /// use ferrograd::function::{apply, Context, Function};
    /// use ferrograd::{forward_ad, Tensor};
    /// struct Cube;
    /// impl Function for Cube {
    ///     fn name(&self) -> &'static str { "CubeBackward" }
    ///     fn forward(&self, ctx: &mut Context, x: &[Tensor]) -> Tensor {
    ///         ctx.save_for_backward(&[&x[0]]);
    ///         x[0].pow(3.0)
    ///     }
    ///     fn backward(&self, ctx: &Context, g: &Tensor) -> Vec<Option<Tensor>> {
    ///         vec![Some(g * &ctx.saved_tensors()[0].pow(2.0).mul_scalar(3.0))]
    ///     }
    ///     fn jvp(&self, ctx: &Context, t: &[Option<Tensor>]) -> Option<Tensor> {
    ///         Some(t[0].as_ref()? * &ctx.saved_tensors()[0].pow(2.0).mul_scalar(3.0))
    ///     }
    /// }
    /// let _level = forward_ad::dual_level();
    /// let x = forward_ad::make_dual(&Tensor::new([2.0]), &Tensor::new([1.0]));
    /// assert_eq!(apply(Cube, &[&x]).tangent().unwrap().to_vec::<f32>(), vec![12.0]);
    /// ```
    fn jvp(&self, ctx: &Context, tangents: &[Option<Tensor>]) -> Option<Tensor> {
        let _ = (ctx, tangents);
        None
    }
}

/// Runs `f` on `inputs` and records it in the graph (`MyFunction.apply(...)`).
///
/// ```
/// use ferrograd::function::{apply, Context, Function};
/// use ferrograd::Tensor;
/// struct Double;
/// impl Function for Double {
///     fn name(&self) -> &'static str { "DoubleBackward" }
///     fn forward(&self, _: &mut Context, x: &[Tensor]) -> Tensor { x[0].mul_scalar(2.0) }
///     fn backward(&self, _: &Context, g: &Tensor) -> Vec<Option<Tensor>> { vec![Some(g.mul_scalar(2.0))] }
/// }
/// let x = Tensor::new([1.0, 2.0]).requires_grad_(true);
/// apply(Double, &[&x]).sum().backward();
/// assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![2.0, 2.0]);
/// ```
pub fn apply<F: Function>(f: F, inputs: &[&Tensor]) -> Tensor {
    crate::unwrap(try_apply(f, inputs))
}

/// Fallible [`apply`]: fails when an input carries a forward-mode tangent and the function
/// has no [`Function::jvp`] (PyTorch's message).
///
/// ```
/// use ferrograd::function::{try_apply, Context, Function};
/// use ferrograd::{forward_ad, Tensor};
/// struct Double;
/// impl Function for Double {
///     fn name(&self) -> &'static str { "DoubleBackward" }
///     fn forward(&self, _: &mut Context, x: &[Tensor]) -> Tensor { x[0].mul_scalar(2.0) }
///     fn backward(&self, _: &Context, g: &Tensor) -> Vec<Option<Tensor>> { vec![Some(g.mul_scalar(2.0))] }
/// }
/// let _level = forward_ad::dual_level();
/// let x = forward_ad::make_dual(&Tensor::new([1.0]), &Tensor::new([1.0]));
/// let e = try_apply(Double, &[&x]).unwrap_err();
/// assert!(e.to_string().contains("You must implement the jvp function"));
/// ```
pub fn try_apply<F: Function>(f: F, inputs: &[&Tensor]) -> crate::Result<Tensor> {
    let recording = crate::is_grad_enabled();
    let mut ctx = Context {
        saved: Vec::new(),
        needs: inputs
            .iter()
            .map(|t| recording && t.requires_grad())
            .collect(),
        non_differentiable: false,
    };
    let owned: Vec<Tensor> = inputs.iter().map(|t| (*t).clone()).collect();
    // The forward is not recorded, and its tangents come from `jvp` instead.
    let raw = crate::with_no_grad(|| crate::forward_ad::suspended(|| f.forward(&mut ctx, &owned)));
    // A fresh handle on the result's data, so the node can be attached to it.
    let out = raw.detach();
    if ctx.non_differentiable {
        return Ok(out);
    }
    let name = f.name();
    let saved = std::mem::take(&mut ctx.saved);
    let f = Arc::new(f);
    let jvp_ctx = || Context {
        saved: saved.clone(),
        needs: ctx.needs.clone(),
        non_differentiable: false,
    };
    let missing = std::cell::Cell::new(false);
    // (primal shape, tangent shape) of a `jvp` that returned a tangent of the wrong shape.
    let wrong = std::cell::RefCell::new(None::<(Vec<usize>, Vec<usize>)>);
    let jf = f.clone();
    let out = record(
        name,
        out,
        inputs,
        |_, s| {
            let handles: Vec<_> = saved
                .iter()
                .map(|t| {
                    if t.is_same(&raw) || (t.shares_storage(&raw) && t.layout() == raw.layout()) {
                        s.save_output()
                    } else {
                        s.save(t)
                    }
                })
                .collect();
            move |a| {
                let ctx = Context {
                    saved: handles.iter().map(|&h| a[h].clone()).collect(),
                    needs: a.needs.to_vec(),
                    non_differentiable: false,
                };
                // A wrong count is reported by the engine as PyTorch's error
                // ("function ... returned an incorrect number of gradients").
                f.backward(&ctx, a.grad).into_iter().collect()
            }
        },
        |j| {
            let ctx = jvp_ctx();
            let n = inputs.len();
            let one = |k: Option<usize>| {
                let ts: Vec<Option<Tensor>> = (0..n)
                    .map(|i| {
                        j.t(i)
                            .map(|t| k.map_or_else(|| t.clone(), |k| t.select(0, k as isize)))
                    })
                    .collect();
                let t = jf.jvp(&ctx, &ts).unwrap_or_else(|| {
                    missing.set(true);
                    j.out().zeros_like()
                });
                if t.shape() != j.out().shape() {
                    wrong.replace(Some((j.out().shape().to_vec(), t.shape().to_vec())));
                    return j.out().zeros_like();
                }
                t
            };
            // A user rule sees one tangent per input; a batch runs it per member.
            match j.b() {
                0 => one(None),
                _ => {
                    let b = (0..n).find_map(|i| j.t(i)).map_or(0, |t| t.shape()[0]);
                    Tensor::stack(&(0..b).map(|k| one(Some(k))).collect::<Vec<_>>(), 0)
                }
            }
        },
    );
    if let Some((primal, tangent)) = wrong.take() {
        return Err(crate::Error::invalid(
            name,
            format!(
                "Trying to set a forward gradient that has a different size than that of the original Tensor, this is not supported. Tensor is of size {primal:?} while the given forward gradient is of size {tangent:?}."
            ),
        ));
    }
    if missing.get() {
        return Err(crate::Error::invalid(
            name,
            "You must implement the jvp function for custom autograd.Function to use it with forward mode AD.",
        ));
    }
    Ok(out)
}

/// The segment of a [`checkpoint`]: its function, run again during backward.
struct Checkpoint<F>(F);

impl<F: Fn(&[Tensor]) -> Tensor + Send + Sync + 'static> Function for Checkpoint<F> {
    fn name(&self) -> &'static str {
        "CheckpointFunctionBackward"
    }

    fn forward(&self, ctx: &mut Context, inputs: &[Tensor]) -> Tensor {
        let refs: Vec<&Tensor> = inputs.iter().collect();
        ctx.save_for_backward(&refs);
        (self.0)(inputs)
    }

    fn jvp(&self, ctx: &Context, tangents: &[Option<Tensor>]) -> Option<Tensor> {
        // Forward mode keeps nothing for backward: run the segment with its tangents.
        Some(crate::forward_ad::jvp_through(
            |xs| (self.0)(xs),
            ctx.saved_tensors(),
            tangents,
        ))
    }

    fn backward(&self, ctx: &Context, grad: &Tensor) -> Vec<Option<Tensor>> {
        // Recompute the segment, this time recording it, and differentiate it.
        let xs: Vec<Tensor> = ctx
            .saved_tensors()
            .iter()
            .enumerate()
            .map(|(i, x)| {
                if ctx.needs_input_grad(i) {
                    if crate::is_grad_enabled() && x.requires_grad() {
                        x.clone() // create_graph: stay connected for higher derivatives
                    } else {
                        x.detach().requires_grad_(true)
                    }
                } else {
                    x.detach()
                }
            })
            .collect();
        let create_graph = crate::is_grad_enabled();
        let out = crate::with_enable_grad(|| (self.0)(&xs));
        let wanted: Vec<&Tensor> = xs.iter().filter(|x| x.requires_grad()).collect();
        if !out.requires_grad() || wanted.is_empty() {
            return vec![None; xs.len()];
        }
        let g = crate::with_enable_grad(|| {
            crate::autograd::grad(
                &[&out],
                &wanted,
                crate::GradOptions::new()
                    .grad_outputs([grad.clone()])
                    .create_graph(create_graph)
                    .allow_unused(true),
            )
        });
        let mut it = g.into_iter();
        xs.iter()
            .map(|x| {
                if x.requires_grad() {
                    it.next().flatten()
                } else {
                    None
                }
            })
            .collect()
    }
}

/// Activation checkpointing (`torch.utils.checkpoint`): runs `f` on `inputs` without keeping
/// its intermediate tensors, and runs it again during backward to get them. The gradients are
/// the same; peak memory holds only the segment's inputs and output. `f` must be deterministic
/// (a random op such as dropout would draw again).
///
/// ```
/// use ferrograd::{function::checkpoint, Tensor};
/// let x = Tensor::new([0.5, 1.0]).requires_grad_(true);
/// let y = checkpoint(|xs| xs[0].exp().sin().exp(), &[&x]);
/// y.sum().backward();
/// let expected: Vec<f32> = [0.5f32, 1.0].iter().map(|&v| v.exp().sin().exp() * v.exp().cos() * v.exp()).collect();
/// let got = x.grad().unwrap().to_vec::<f32>();
/// assert!((got[0] - expected[0]).abs() < 1e-5 && (got[1] - expected[1]).abs() < 1e-5);
/// ```
pub fn checkpoint(
    f: impl Fn(&[Tensor]) -> Tensor + Send + Sync + 'static,
    inputs: &[&Tensor],
) -> Tensor {
    apply(Checkpoint(f), inputs)
}
