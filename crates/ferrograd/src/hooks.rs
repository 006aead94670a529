//! Gradient hooks on tensors (`Tensor.register_hook`): functions that see, and may replace, the
//! gradient of a tensor during backward or `grad`.
//!
//! Order: a tensor's hooks run in registration order, each on the previous one's result; a
//! non-leaf's retained gradient (`retain_grad`) is taken after all of them (PyTorch 2's order).
//! For a leaf, the hooks run once on its total gradient, before it is accumulated into `.grad`.
//!
//! A non-leaf's hooks outlive its handles, as in PyTorch (which keeps them on the `grad_fn`):
//! `y.register_hook(f); let y = &y * 3.0;` still runs `f`, because a dropped tensor hands its
//! hooks to its node.
//!
//! A hook owns what it captures. A hook that captures a strong handle to its own tensor, or to
//! one computed from it, makes a reference cycle (the tensor, then its node, owns its hooks), so
//! capture [`Tensor::downgrade`] instead.

use crate::autograd::{Grads, Node};
use crate::error::{Error, Result};
use crate::tensor::{Tensor, TensorImpl};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

pub(crate) use crate::graph::NodeHooks;
pub use crate::graph::{PostHook, TensorHook};

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// Removes a hook (`handle.remove()`); dropping the handle keeps the hook, as in PyTorch.
///
/// ```
/// use ferrograd::Tensor;
/// let x = Tensor::scalar(1.0).requires_grad_(true);
/// let h = x.register_hook(|g| Some(g.mul_scalar(10.0)));
/// h.remove();
/// x.mul_scalar(2.0).backward();
/// assert_eq!(x.grad().unwrap().item(), 2.0);
/// ```
#[must_use = "keep the handle to remove the hook later"]
pub struct HookHandle {
    target: Target,
    id: u64,
}

enum Target {
    /// A tensor's hook, and the node it was linked to (which keeps the hook once the tensor
    /// is dropped).
    Tensor(Weak<TensorImpl>, Option<Weak<crate::autograd::Node>>),
    Node(Weak<crate::autograd::Node>),
}

impl HookHandle {
    /// Unregisters the hook (a no-op if its tensor or node is gone or it was already removed).
    pub fn remove(self) {
        let id = self.id;
        match self.target {
            Target::Tensor(t, node) => match (t.upgrade(), node.and_then(|n| n.upgrade())) {
                (Some(t), _) => t
                    .hooks
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .retain(|e| e.id != id),
                (None, Some(n)) => n.with_hooks(|h| h.orphaned.retain(|(i, _)| *i != id)),
                (None, None) => {}
            },
            Target::Node(n) => {
                if let Some(n) = n.upgrade() {
                    n.with_hooks(|h| {
                        h.pre.retain(|(i, _)| *i != id);
                        h.post.retain(|(i, _)| *i != id);
                    });
                }
            }
        }
    }

    pub(crate) fn for_node(node: &Arc<crate::autograd::Node>, id: u64) -> HookHandle {
        HookHandle {
            target: Target::Node(Arc::downgrade(node)),
            id,
        }
    }
}

/// A fresh hook id.
pub(crate) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// A weak handle to a tensor, for hooks and caches that must not keep it alive.
///
/// ```
/// let x = ferrograd::Tensor::scalar(1.0);
/// let w = x.downgrade();
/// assert!(w.upgrade().is_some());
/// drop(x);
/// assert!(w.upgrade().is_none());
/// ```
#[derive(Clone)]
pub struct WeakTensor(Weak<TensorImpl>);

impl WeakTensor {
    /// The tensor, if it is still alive.
    pub fn upgrade(&self) -> Option<Tensor> {
        self.0.upgrade().map(Tensor)
    }
}

impl Tensor {
    /// A weak handle to this tensor (see [`WeakTensor`]).
    ///
    /// ```
    /// let x = ferrograd::Tensor::scalar(1.0);
    /// assert!(x.downgrade().upgrade().unwrap().is_same(&x));
    /// ```
    pub fn downgrade(&self) -> WeakTensor {
        WeakTensor(Arc::downgrade(&self.0))
    }
}

api! {
    impl Tensor {
        /// Registers `hook` to run on this tensor's gradient whenever one is computed; it may return
        /// a replacement (same shape).
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let x = Tensor::new([1.0, 2.0]).requires_grad_(true);
        /// let y = &x * 3.0;
        /// let _h = y.register_hook(|g| Some(g.mul_scalar(2.0))); // doubles dL/dy
        /// y.sum().backward();
        /// assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![6.0, 6.0]);
        /// ```
        ///
        /// ```
        /// let e = ferrograd::Tensor::scalar(1.0).try_register_hook(|_| None).err().unwrap();
        /// assert!(e.to_string().contains("cannot register a hook on a tensor that doesn't require gradient"));
        /// ```
        pub fn register_hook / try_register_hook(
            &self,
            hook: impl Fn(&Tensor) -> Option<Tensor> + Send + Sync + 'static,
        ) -> HookHandle {
            if !self.requires_grad() {
                return Err(Error::invalid(
                    "register_hook",
                    "cannot register a hook on a tensor that doesn't require gradient",
                ));
            }
            let id = next_id();
            let node = self.history();
            let at = node.as_ref().map(Arc::downgrade);
            self.0
                .hooks
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(crate::graph::TensorHookEntry {
                    id,
                    hook: Arc::new(hook),
                    at: at.clone(),
                });
            if let Some(node) = &node {
                node.set_owner(Arc::downgrade(&self.0));
            }
            Ok(HookHandle {
                target: Target::Tensor(Arc::downgrade(&self.0), at),
                id,
            })
        }
    }
}

/// Runs `t`'s hooks on its gradient `g`, in order: all of them for a leaf (`at: None`), those
/// registered while `at` was its history for a node's output.
pub(crate) fn run_tensor_hooks(t: &Tensor, g: Tensor, at: Option<&Node>) -> Result<Tensor> {
    let hooks: Vec<TensorHook> =
        t.0.hooks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|e| at.is_none_or(|n| e.is_at(n)))
            .map(|e| e.hook.clone())
            .collect();
    run_hooks(&hooks, g)
}

/// Runs gradient hooks in order, each on the previous one's result.
pub(crate) fn run_hooks(hooks: &[TensorHook], g: Tensor) -> Result<Tensor> {
    let mut g = g;
    for h in hooks {
        if let Some(new) = h(&g) {
            if new.shape() != g.shape() {
                return Err(Error::invalid(
                    "hook",
                    format!(
                        "hook 'hook' has changed the size of value (got {:?}, expected {:?})",
                        new.shape(),
                        g.shape()
                    ),
                ));
            }
            g = new.to_dtype(g.dtype());
        }
    }
    Ok(g)
}

/// Runs the hooks around a node's output gradient `grad` before the node's rule: the output
/// tensor's hooks in order, then its retained gradient (pushed to `retained`, for `backward`)
/// takes their result, then the node's pre-hooks. Returns the gradient and the node's
/// post-hooks, taken together with the pre-hooks, for [`after_node`].
pub(crate) fn before_node(
    node: &Node,
    mut grad: Option<Tensor>,
    retained: Option<&mut Vec<(Tensor, Tensor)>>,
) -> Result<(Option<Tensor>, Vec<PostHook>)> {
    if let Some(t) = node.owner() {
        if let Some(g) = grad.take() {
            grad = Some(run_tensor_hooks(&t, g, Some(node))?);
        }
        // The retained gradient is that of the tensor's current value: taken at the node
        // that is its history now, not at one an in-place op has since replaced.
        let current = || {
            t.history()
                .is_some_and(|h| std::ptr::addr_eq(Arc::as_ptr(&h), node as *const Node))
        };
        if let (Some(retained), true, Some(g)) = (retained, t.retains_grad() && current(), &grad) {
            let g = g.clone();
            retained.push((t, g));
        }
    }
    let (pre, post) = node.hook_lists();
    if !pre.is_empty() {
        if let Some(g) = grad.take() {
            grad = Some(run_hooks(&pre, g)?);
        }
    }
    Ok((grad, post))
}

/// Runs a node's post-hooks (from [`before_node`]) after its rule: each sees the gradients for
/// the node's inputs and its output's gradient, and may replace the former (as many).
pub(crate) fn after_node(
    node: &Node,
    post: &[PostHook],
    mut grads: Grads,
    grad: &Tensor,
) -> Result<Grads> {
    for h in post {
        if let Some(new) = h(&grads, grad) {
            if new.len() != grads.len() {
                return Err(Error::invalid(
                    "hook",
                    format!(
                        "a post-hook of {} returned {} gradients for {} inputs",
                        node.label(),
                        new.len(),
                        grads.len()
                    ),
                ));
            }
            grads = new.into_iter().collect();
        }
    }
    Ok(grads)
}
