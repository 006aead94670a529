//! The graph's data: what a tensor carries for autograd (the node that produced it, its hooks,
//! its forward-mode tangent) and what a node holds (its backward rule, input edges, saved
//! tensors). This is the tensor layer's half of autograd, as PyTorch's `c10` holds the autograd
//! metadata its `torch::autograd` fills in: the types live here, below the tensor, so the tensor
//! needs nothing from the autograd layer; their behaviour (recording, the engine, forward mode,
//! hook orchestration) is implemented above, in `autograd`, `forward_ad` and `hooks`.
//!
//! Dropping is data-structure behaviour and lives here: nodes and tensors drop without
//! recursion, however deep the graph.

use crate::dtype::DType;
use crate::layout::Shape;
use crate::tensor::{Tensor, TensorImpl};
use smallvec::SmallVec;
use std::cell::RefCell;
use std::sync::{Arc, Mutex, Weak};

/// Gradients returned by a backward rule, one per input (`None`: no gradient for that input).
pub(crate) type Grads = SmallVec<[Option<Tensor>; 2]>;

/// What a backward rule sees.
pub(crate) struct BackwardArgs<'a> {
    /// Gradient of the loss with respect to the node's output.
    pub(crate) grad: &'a Tensor,
    /// The tensors the forward saved, read through the [`SavedTensor`] handles `save` returned
    /// (`args[handle]`).
    pub(crate) saved: &'a [Tensor],
    /// Whether each input needs a gradient (rules may skip the others; the engine drops any
    /// gradient returned for an input that needs none).
    pub(crate) needs: &'a [bool],
}

impl BackwardArgs<'_> {
    pub(crate) fn needs(&self, i: usize) -> bool {
        self.needs[i]
    }
}

/// A typed handle to a tensor saved for a backward rule, returned by [`Saver::save`] and
/// [`Saver::save_output`]; the rule reads the tensor back as `args[handle]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SavedTensor(pub(crate) u8);

impl std::ops::Index<SavedTensor> for BackwardArgs<'_> {
    type Output = Tensor;
    fn index(&self, h: SavedTensor) -> &Tensor {
        &self.saved[h.0 as usize]
    }
}

/// A backward rule. It captures plain data only (shapes, scalars): tensors it needs are saved
/// on the node, so they can be freed after backward and dropped without recursion.
pub(crate) type BackwardFn = dyn Fn(&BackwardArgs) -> Grads + Send + Sync;

/// Where the gradient of one input goes.
pub(crate) enum Edge {
    /// The input was produced by another node.
    Node(Arc<Node>),
    /// The input is a leaf that requires grad (PyTorch's `AccumulateGrad`).
    Leaf(Tensor),
}

/// Shape and dtype of an input, so the engine can reduce a broadcast gradient to it.
pub(crate) struct InputMeta {
    pub(crate) shape: Shape,
    pub(crate) dtype: DType,
    /// The vmap levels the input was batched at (`None`: none, the usual case).
    pub(crate) levels: Option<Box<[u64]>>,
}

pub(crate) struct Saved {
    pub(crate) tensors: SmallVec<[Tensor; 2]>,
    /// The storage version of each saved tensor when it was saved.
    pub(crate) versions: SmallVec<[u64; 2]>,
    /// Which saved tensor is the node's own output (kept without `grad_fn`, to avoid a cycle).
    pub(crate) output_slot: Option<usize>,
}

/// One recorded operation: its name, backward rule, saved tensors and input edges (in order).
pub type Node = NodeOf<BackwardFn>;

/// A [`Node`] with its rule's concrete type `F`: built sized, then held as `Arc<Node>` (an
/// unsized coercion), so the rule lives in the node's own allocation instead of a `Box`.
///
/// `repr(C)`, hot fields first: each pass of a backward over a large graph touches a few fields
/// of every node (discovery the slot, the reference count and the edges; the validation and the
/// rule the saved tensors; the ready queue the sequence number), and a graph of many nodes does
/// not fit in cache, so the fields each pass reads share the node's first cache lines, next to
/// the `Arc`'s counts, instead of being spread over its six.
#[repr(C)]
pub struct NodeOf<F: ?Sized> {
    /// The node's index in the backward pass discovering it (see `autograd/discover.rs`):
    /// `pass << 24 | index`, 0 when no pass holds it.
    pub(crate) slot: std::sync::atomic::AtomicU64,
    pub(crate) seq: u64,
    pub(crate) has_hooks: std::sync::atomic::AtomicBool,
    pub(crate) has_owner: std::sync::atomic::AtomicBool,
    /// Set when a backward without `retain_graph` released the node (only nodes that saved
    /// something are ever released). Outside the lock, so a node that saved no tensors is
    /// validated, run and released without taking it; a node with saved tensors sets and
    /// clears it only while holding its `saved` lock.
    pub(crate) released: std::sync::atomic::AtomicBool,
    /// Whether the forward saved tensors (fixed when the node is built; `saved` then holds
    /// them until the node is released).
    pub(crate) saves_tensors: bool,
    /// Whether the forward saved anything: tensors, or a number PyTorch's node saves as a
    /// tensor (`x * 2`). Such a node is released by a backward without `retain_graph`.
    pub(crate) saves: bool,
    pub(crate) next: SmallVec<[Option<Edge>; 2]>,
    pub(crate) saved: Mutex<Saved>,
    pub(crate) name: &'static str,
    /// PyTorch's name for the composite op whose last step made this node (see
    /// `autograd::relabel`); [`NodeOf::label`] prefers it to `name`.
    pub(crate) alias: std::sync::OnceLock<&'static str>,
    pub(crate) inputs: SmallVec<[InputMeta; 2]>,
    pub(crate) owner: Mutex<Option<Weak<TensorImpl>>>,
    /// Where the forward ran, recorded in anomaly mode.
    pub(crate) trace: Option<Box<str>>,
    /// Pre/post hooks; allocated on first registration (most nodes have none).
    pub(crate) hooks: Mutex<Option<Box<NodeHooks>>>,
    /// The backward rule (last: the unsized field).
    pub(crate) backward: F,
}

/// A gradient hook: returns `Some(new_gradient)` to replace the gradient, `None` to keep it.
pub type TensorHook = Arc<dyn Fn(&Tensor) -> Option<Tensor> + Send + Sync>;

/// A node post-hook: sees the gradients the node computed for its inputs and the gradient of
/// its output; returns `Some(replacements)` (one per input) or `None`.
pub type PostHook =
    Arc<dyn Fn(&[Option<Tensor>], &Tensor) -> Option<Vec<Option<Tensor>>> + Send + Sync>;

/// Hooks registered on one graph node.
#[derive(Default)]
pub(crate) struct NodeHooks {
    pub(crate) pre: Vec<(u64, TensorHook)>,
    pub(crate) post: Vec<(u64, PostHook)>,
    /// The hooks of the node's output tensor, handed over when that tensor was dropped: they
    /// still run on its gradient (PyTorch keeps a tensor's hooks on its `grad_fn`), before
    /// the node's own pre-hooks.
    pub(crate) orphaned: Vec<(u64, TensorHook)>,
}

impl Node {
    /// Links the node to its output tensor (weakly), so backward can run that tensor's hooks
    /// and fill its retained gradient.
    pub(crate) fn set_owner(&self, t: Weak<TensorImpl>) {
        *self.owner.lock().unwrap_or_else(|e| e.into_inner()) = Some(t);
        self.has_owner
            .store(true, std::sync::atomic::Ordering::Release);
    }
}

/// A gradient hook registered on a tensor, with the node that was the tensor's history when
/// it was registered (`None` for a leaf): a hook registered before an in-place op sees the
/// gradient of the value it was registered on, as in PyTorch, not that of the new version.
pub(crate) struct TensorHookEntry {
    pub(crate) id: u64,
    pub(crate) hook: TensorHook,
    pub(crate) at: Option<Weak<Node>>,
}

impl TensorHookEntry {
    /// Whether this hook was registered while `node` was its tensor's history.
    pub(crate) fn is_at(&self, node: &Node) -> bool {
        self.at
            .as_ref()
            .is_some_and(|w| std::ptr::addr_eq(w.as_ptr(), node as *const Node))
    }
}

/// Hands the gradient hooks of an output tensor being dropped to `node`, the node they were
/// registered at, so that they still run when a backward reaches it: in PyTorch
/// `y.register_hook(f); y = y * 3` keeps `f`.
pub(crate) fn adopt_hooks(node: &Node, hooks: Vec<(u64, TensorHook)>) {
    use std::sync::atomic::Ordering;
    let mut h = node.hooks.lock().unwrap_or_else(|e| e.into_inner());
    node.has_hooks.store(true, Ordering::Release);
    h.get_or_insert_with(Default::default)
        .orphaned
        .extend(hooks);
}

/// A tangent and the dual level it belongs to.
#[derive(Clone)]
pub(crate) struct Tangent {
    pub(crate) level: u64,
    pub(crate) value: Tensor,
    /// For the copy a node keeps with its saved output: the tangent's own `grad_fn`, held
    /// weakly (`value` is then detached), since that graph may lead back to the node.
    pub(crate) weak_fn: Option<std::sync::Weak<Node>>,
}

impl<F: ?Sized> NodeOf<F> {
    /// The name PyTorch's graph shows for this node (`"MulBackward0"`, `"StdBackward0"`).
    pub(crate) fn label(&self) -> &'static str {
        self.alias.get().copied().unwrap_or(self.name)
    }

    fn drain_into(&mut self, stack: &mut Vec<Arc<Node>>) {
        for edge in self.next.drain(..).flatten() {
            match edge {
                Edge::Node(n) => stack.push(n),
                Edge::Leaf(t) => t.release_into(stack),
            }
        }
        let saved = std::mem::take(
            &mut self
                .saved
                .get_mut()
                .unwrap_or_else(|e| e.into_inner())
                .tensors,
        );
        for t in saved {
            t.release_into(stack);
        }
    }
}

impl<F: ?Sized> Drop for NodeOf<F> {
    fn drop(&mut self) {
        with_drop_stack(|stack| self.drain_into(stack));
    }
}

thread_local! {
    /// The explicit stack of the [`drop_nodes`] loop running on this thread (`None`: no loop
    /// is running).
    static PENDING: RefCell<Option<Vec<Arc<Node>>>> = const { RefCell::new(None) };
}

/// Runs `f` on the stack of this thread's drop loop, or (no loop running) on a fresh stack that
/// is then dropped by [`drop_nodes`].
pub(crate) fn with_drop_stack(f: impl FnOnce(&mut Vec<Arc<Node>>)) {
    let mut f = Some(f);
    let _ = PENDING.try_with(|p| {
        if let Ok(mut pending) = p.try_borrow_mut() {
            if let Some(stack) = pending.as_mut() {
                if let Some(f) = f.take() {
                    f(stack);
                }
            }
        }
    });
    if let Some(f) = f {
        let mut stack = Vec::new();
        f(&mut stack);
        drop_nodes(stack);
    }
}

/// Drops nodes without recursion. The outermost call on a thread runs one loop over an explicit
/// stack; a node whose last handle is dropped inside it hands its children to that stack from
/// its destructor (see [`with_drop_stack`]) instead of dropping them there, so the depth stays
/// one however deep the graph.
#[inline]
pub(crate) fn drop_nodes(stack: Vec<Arc<Node>>) {
    // Inlined test, outlined loop: most callers (every dropped tensor) pass an empty stack.
    if !stack.is_empty() {
        drop_nonempty(stack);
    }
}

/// [`drop_nodes`] of a non-empty stack.
fn drop_nonempty(mut stack: Vec<Arc<Node>>) {
    enum Loop {
        Handed,
        Run,
        Local,
    }
    let state = PENDING
        .try_with(|p| match p.try_borrow_mut() {
            Ok(mut pending) => match pending.as_mut() {
                Some(running) => {
                    running.append(&mut stack);
                    Loop::Handed
                }
                None => {
                    *pending = Some(std::mem::take(&mut stack));
                    Loop::Run
                }
            },
            Err(_) => Loop::Local,
        })
        .unwrap_or(Loop::Local);
    match state {
        Loop::Handed => {}
        Loop::Run => {
            let _reset = EndLoop;
            while let Some(n) = PENDING.with(|p| p.borrow_mut().as_mut().and_then(Vec::pop)) {
                drop(n);
            }
        }
        // Thread-local storage is gone (thread exit) or borrowed: the same loop, locally.
        Loop::Local => {
            while let Some(mut n) = stack.pop() {
                if let Some(node) = Arc::get_mut(&mut n) {
                    node.drain_into(&mut stack);
                }
            }
        }
    }
}

/// Ends this thread's drop loop, also on unwinding (what is left is then dropped normally).
struct EndLoop;

impl Drop for EndLoop {
    fn drop(&mut self) {
        let left = PENDING.try_with(|p| p.borrow_mut().take());
        drop(left);
    }
}
