//! Graph nodes: what an operation leaves behind for the backward pass.

use crate::dtype::DType;
use crate::error::{Error, Result};
pub(crate) use crate::graph::{BackwardArgs, Edge, Grads, Node, SavedTensor};
use crate::graph::{InputMeta, NodeOf, Saved};
use crate::tensor::Tensor;
use smallvec::SmallVec;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

thread_local! {
    static SEQUENCE: Cell<u64> = const { Cell::new(0) };
}

/// Collects what a forward saves for its backward.
pub(crate) struct Saver<'a> {
    out: &'a Tensor,
    saved: Saved,
    /// Whether PyTorch's node saves a tensor where this one keeps a number (`x * 2`): the
    /// node is then released by a backward even with no tensors saved (its `saves`).
    saves_scalar: bool,
}

impl Saver<'_> {
    fn push(&mut self, t: Tensor) -> SavedTensor {
        let k = self.saved.tensors.len();
        let k = u8::try_from(k).expect("a node saves at most 255 tensors");
        self.saved.versions.push(t.base_storage().version());
        self.saved.tensors.push(t);
        SavedTensor(k)
    }

    /// Saves an input (or any tensor computed in the forward) and returns its handle.
    pub(crate) fn save(&mut self, t: &Tensor) -> SavedTensor {
        self.push(t.clone())
    }

    /// Records that PyTorch's node saves a (wrapped-number) tensor here, which this node
    /// keeps as a number: a backward frees the node all the same.
    pub(crate) fn save_scalar(&mut self) {
        self.saves_scalar = true;
    }

    /// Saves the node's output and returns its handle (under `create_graph` the rule reads it
    /// with this node as its `grad_fn`, so the rule stays differentiable through it).
    pub(crate) fn save_output(&mut self) -> SavedTensor {
        self.saved.output_slot = Some(self.saved.tensors.len());
        self.push(self.out.detach())
    }
}

/// Records `out = op(inputs)` in the graph when grad mode is on and an input requires grad,
/// returning `out` with its `grad_fn` set: the one recording point of every primitive.
///
/// `rule` runs only when recording: given which inputs need grad, it saves what the backward
/// needs through the [`Saver`] (getting typed [`SavedTensor`] handles) and returns the backward
/// rule, a closure of those handles and plain data mapping the output's gradient to the
/// inputs' gradients. In forward mode, `jvp` maps the inputs' tangents to the output's (see
/// [`crate::forward_ad`]); it runs only when an input has a tangent.
pub(crate) fn record<S, B, J>(
    name: &'static str,
    mut out: Tensor,
    inputs: &[&Tensor],
    rule: S,
    jvp: J,
) -> Tensor
where
    S: FnOnce(&[bool], &mut Saver) -> B,
    B: Fn(&BackwardArgs) -> Grads + Send + Sync + 'static,
    J: FnOnce(&crate::forward_ad::Jvp) -> Tensor,
{
    if crate::is_grad_enabled() && inputs.iter().any(|t| t.requires_grad()) {
        out = attach_node(name, out, inputs, rule);
    }
    if crate::forward_ad::active() {
        if let Some(t) = crate::forward_ad::jvp_of(inputs, &out, jvp) {
            if let Some(node) = &out.0.grad_fn {
                node.set_output_tangent(&t);
            }
            let inner =
                Arc::get_mut(&mut out.0).expect("record: the output must be a fresh tensor");
            inner.tangent = Some(t);
        }
    }
    out
}

/// Gives the node that produced `out` PyTorch's name for the op a composite implements
/// (`std` is a `where` over a `pow`, but PyTorch's graph shows `StdBackward0`): the name
/// `grad_fn` reports, pictures and errors show. Only a node that the fresh `out` alone
/// holds, made by the composite's last step, is named, and only once (the innermost
/// composite's name stays); one an input or another tensor shares (an op that returned its
/// input) is left as it is.
pub(crate) fn relabel(out: Tensor, name: &'static str) -> Tensor {
    if let Some(node) = &out.0.grad_fn {
        if Arc::strong_count(&out.0) == 1 && Arc::strong_count(node) == 1 {
            let _ = node.alias.set(name);
        }
    }
    out
}

/// [`relabel`] that replaces a name an inner composite gave: for composites PyTorch records
/// as one node of their own (`dist` is a norm of a difference, but PyTorch's graph shows
/// `DistBackward0`, not the norm's `NormBackward1`).
pub(crate) fn relabel_over(mut out: Tensor, name: &'static str) -> Tensor {
    if let Some(node) = Arc::get_mut(&mut out.0)
        .and_then(|t| t.grad_fn.as_mut())
        .and_then(Arc::get_mut)
    {
        node.alias = std::sync::OnceLock::from(name);
        return out;
    }
    relabel(out, name)
}

/// The reverse-mode half of [`record`]: the node, linked to `out`. The node is built in its
/// `Arc` allocation, field by field (moving a finished node into the `Arc` copied it whole,
/// its inline edge and shape vectors included).
fn attach_node<S, B>(name: &'static str, mut out: Tensor, inputs: &[&Tensor], rule: S) -> Tensor
where
    S: FnOnce(&[bool], &mut Saver) -> B,
    B: Fn(&BackwardArgs) -> Grads + Send + Sync + 'static,
{
    // Pushed in a loop (collecting through `SmallVec`'s `Extend` cost twice as much).
    let mut needs: SmallVec<[bool; 4]> = SmallVec::new();
    for t in inputs {
        needs.push(t.requires_grad());
    }
    let mut saver = Saver {
        out: &out,
        saved: Saved {
            tensors: SmallVec::new(),
            versions: SmallVec::new(),
            output_slot: None,
        },
        saves_scalar: false,
    };
    // The rule runs first: nothing below can panic and leave a half-built node behind.
    let backward = rule(&needs, &mut saver);
    let (saved, saves_scalar) = (saver.saved, saver.saves_scalar);
    let seq = SEQUENCE.with(|s| {
        let v = s.get();
        s.set(v + 1);
        v
    });
    let trace = crate::is_anomaly_enabled().then(|| {
        std::backtrace::Backtrace::force_capture()
            .to_string()
            .into_boxed_str()
    });
    let mut node = Arc::<NodeOf<B>>::new_uninit();
    // SAFETY: `node` was created on the line above and has no other handle.
    let p = unsafe { crate::unique::fresh_mut(&mut node) }.as_mut_ptr();
    // SAFETY: `p` points to the (uninitialised, suitably aligned) `NodeOf<B>` of an `Arc` this
    // function alone holds, so writing through it is exclusive. Fields are reached with
    // `addr_of_mut!`, which makes no reference to uninitialised memory, and each is written
    // exactly once, with `write` (nothing uninitialised is dropped); `next` and `inputs` are
    // borrowed mutably only after they were written (a valid empty `SmallVec`), for the pushes.
    // Every field of `NodeOf<B>` is written before `assume_init` below.
    unsafe {
        use std::ptr::addr_of_mut;
        addr_of_mut!((*p).name).write(name);
        addr_of_mut!((*p).alias).write(std::sync::OnceLock::new());
        addr_of_mut!((*p).seq).write(seq);
        addr_of_mut!((*p).next).write(SmallVec::new());
        addr_of_mut!((*p).inputs).write(SmallVec::new());
        let (next, metas) = (
            &mut *addr_of_mut!((*p).next),
            &mut *addr_of_mut!((*p).inputs),
        );
        for (t, &need) in inputs.iter().zip(&needs) {
            next.push(need.then(|| match t.history() {
                Some(f) => Edge::Node(f),
                None => Edge::Leaf((*t).clone()),
            }));
            metas.push(InputMeta {
                shape: t.shape_vec(),
                dtype: t.dtype(),
                levels: match t.is_batched() {
                    true => crate::batching::levels(t),
                    false => None,
                },
            });
        }
        addr_of_mut!((*p).released).write(AtomicBool::new(false));
        addr_of_mut!((*p).saves_tensors).write(!saved.tensors.is_empty());
        addr_of_mut!((*p).saves).write(!saved.tensors.is_empty() || saves_scalar);
        addr_of_mut!((*p).saved).write(Mutex::new(saved));
        addr_of_mut!((*p).owner).write(Mutex::new(None));
        addr_of_mut!((*p).has_owner).write(std::sync::atomic::AtomicBool::new(false));
        addr_of_mut!((*p).trace).write(trace);
        addr_of_mut!((*p).hooks).write(Mutex::new(None));
        addr_of_mut!((*p).has_hooks).write(std::sync::atomic::AtomicBool::new(false));
        addr_of_mut!((*p).slot).write(std::sync::atomic::AtomicU64::new(0));
        addr_of_mut!((*p).backward).write(backward);
    }
    // SAFETY: every field was initialised above (`every_field_is_written` fails to compile
    // when a field is added without a write here).
    let node: Arc<Node> = unsafe { node.assume_init() };
    let inner =
        crate::unique::unique_mut(&mut out.0).expect("record: the output must be a fresh tensor");
    inner.grad_fn = Some(node);
    out
}

/// Fails to compile when `NodeOf` gains a field, so that [`attach_node`] (which must write every
/// field before `assume_init`) is updated with it.
#[allow(dead_code)]
fn every_field_is_written<F: ?Sized>(n: &NodeOf<F>) {
    let NodeOf {
        name: _,
        alias: _,
        seq: _,
        next: _,
        inputs: _,
        saved: _,
        owner: _,
        has_owner: _,
        released: _,
        saves_tensors: _,
        saves: _,
        trace: _,
        hooks: _,
        has_hooks: _,
        slot: _,
        backward: _,
    } = n;
}

impl Node {
    /// Whether a backward without `retain_graph` freed what this node saved.
    fn is_released(&self) -> bool {
        self.released.load(Ordering::Acquire)
    }

    fn saved(&self) -> MutexGuard<'_, Saved> {
        self.saved.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fails if running this node would need saved tensors that were freed by an earlier
    /// backward, or that were modified in place since they were saved (PyTorch's messages).
    pub(crate) fn validate(&self) -> Result<()> {
        if self.is_released() {
            return Err(Error::BackwardTwice);
        }
        if !self.saves_tensors {
            return Ok(());
        }
        let s = self.saved();
        if self.is_released() {
            return Err(Error::BackwardTwice);
        }
        for (k, (t, &v)) in s.tensors.iter().zip(&s.versions).enumerate() {
            let now = t.base_storage().version();
            if now != v {
                let kind = match t.dtype() {
                    DType::F32 => "torch.FloatTensor",
                    DType::F64 => "torch.DoubleTensor",
                    DType::I64 => "torch.LongTensor",
                    DType::Bool => "torch.BoolTensor",
                };
                let producer = if s.output_slot == Some(k) {
                    Some(self.label())
                } else {
                    t.history().map(|f| f.label())
                };
                let mut tensor = format!("[{kind} {:?}]", t.shape());
                if let Some(p) = producer {
                    tensor.push_str(&format!(", which is output 0 of {p},"));
                }
                return Err(Error::ModifiedByInplace {
                    tensor,
                    version: now,
                    expected: v,
                });
            }
        }
        Ok(())
    }

    /// Gives the saved output (if the node saved it) the output's tangent, so a backward rule
    /// run on dual tensors (forward-over-reverse) sees it. The tangent's own reverse-mode graph
    /// is held weakly (it may lead back to this node, and a node holding it would never be
    /// freed) and rejoined when the rule runs.
    fn set_output_tangent(&self, t: &crate::forward_ad::Tangent) {
        let mut s = self.saved();
        if let Some(k) = s.output_slot {
            if let Some(inner) = Arc::get_mut(&mut s.tensors[k].0) {
                inner.tangent = Some(Box::new(t.for_saved_output()));
            }
        }
    }

    /// Frees the saved tensors (after a backward without `retain_graph`).
    pub(crate) fn release(&self) {
        if !self.saves || self.is_released() {
            return;
        }
        if !self.saves_tensors {
            self.released.store(true, Ordering::Release);
            return;
        }
        let mut s = self.saved();
        self.released.store(true, Ordering::Release);
        let tensors = std::mem::take(&mut s.tensors);
        drop(s);
        // Dropped directly: a tensor's destructor hands its graph to the iterative dropper
        // (building a stack here cost an allocation per released node).
        drop(tensors);
    }

    /// Runs the backward rule for `grad`; with `create_graph` the saved output is rebuilt with
    /// this node as its `grad_fn`, so the rule's result is differentiable through it. Without
    /// `retain` the saved tensors are taken (the node is released by this run, as
    /// [`Node::release`] would after it) instead of cloned; on an error they are put back.
    pub(crate) fn apply(
        self: &Arc<Self>,
        grad: &Tensor,
        needs: &[bool],
        create_graph: bool,
        retain: bool,
    ) -> Result<Grads> {
        if self.is_released() {
            return Err(Error::BackwardTwice);
        }
        let (mut saved, taken, original) = if !self.saves_tensors {
            // Nothing to take or rebuild: no lock (most nodes of a scalar graph).
            (SmallVec::new(), false, None)
        } else {
            let mut s = self.saved();
            if self.is_released() {
                return Err(Error::BackwardTwice);
            }
            let taken = !retain && !s.tensors.is_empty();
            let mut v = match taken {
                true => {
                    self.released.store(true, Ordering::Release);
                    std::mem::take(&mut s.tensors)
                }
                false => s.tensors.clone(),
            };
            let mut original = None;
            if let (true, Some(slot)) = (create_graph, s.output_slot) {
                let o = &v[slot];
                let mut rebuilt = o.with_grad_fn(Some(self.clone()));
                let inner = Arc::get_mut(&mut rebuilt.0).expect("a fresh tensor");
                inner.tangent = o.0.tangent.as_ref().map(|t| Box::new(t.for_backward()));
                original = Some(std::mem::replace(&mut v[slot], rebuilt));
            }
            (v, taken, original)
        };
        let grads = (self.backward)(&BackwardArgs {
            grad,
            saved: &saved,
            needs,
        });
        if grads.len() != self.next.len() {
            if taken {
                // Put back as saved (the output without its `grad_fn`: no cycle).
                let mut s = self.saved();
                if let (Some(o), Some(slot)) = (original, s.output_slot) {
                    saved[slot] = o;
                }
                s.tensors = saved;
                self.released.store(false, Ordering::Release);
            }
            return Err(Error::invalid(
                "backward",
                format!(
                    "function {} returned an incorrect number of gradients (expected {}, got {})",
                    self.label(),
                    self.next.len(),
                    grads.len()
                ),
            ));
        }
        Ok(grads)
    }

    /// Whether the backward must run [`crate::hooks::before_node`] on this node: it has hooks,
    /// or an output tensor linked for its hooks or retained gradient.
    pub(crate) fn is_hooked(&self) -> bool {
        self.has_hooks.load(std::sync::atomic::Ordering::Acquire)
            || self.has_owner.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The node's hooks, created on first use.
    pub(crate) fn with_hooks<R>(&self, f: impl FnOnce(&mut crate::hooks::NodeHooks) -> R) -> R {
        let mut h = self.hooks.lock().unwrap_or_else(|e| e.into_inner());
        self.has_hooks
            .store(true, std::sync::atomic::Ordering::Release);
        f(h.get_or_insert_with(Default::default))
    }

    /// Clones of the node's pre- and post-hooks (empty without a lock if there are none); the
    /// pre-hooks start with those its dropped output tensor handed over, as PyTorch runs a
    /// tensor's hooks before its node's.
    pub(crate) fn hook_lists(
        &self,
    ) -> (Vec<crate::hooks::TensorHook>, Vec<crate::hooks::PostHook>) {
        if !self.has_hooks.load(std::sync::atomic::Ordering::Acquire) {
            return (Vec::new(), Vec::new());
        }
        let h = self.hooks.lock().unwrap_or_else(|e| e.into_inner());
        match h.as_ref() {
            Some(h) => (
                h.orphaned
                    .iter()
                    .chain(&h.pre)
                    .map(|(_, f)| f.clone())
                    .collect(),
                h.post.iter().map(|(_, f)| f.clone()).collect(),
            ),
            None => (Vec::new(), Vec::new()),
        }
    }

    /// The output tensor, if it registered hooks or retains its gradient and is still alive.
    pub(crate) fn owner(&self) -> Option<Tensor> {
        if !self.has_owner.load(std::sync::atomic::Ordering::Acquire) {
            return None;
        }
        let r = self.owner.lock().unwrap_or_else(|e| e.into_inner());
        r.as_ref().and_then(|w| w.upgrade()).map(Tensor)
    }

    /// The saved tensors still held (for graph pictures and tests).
    pub(crate) fn saved_tensors(&self) -> Vec<Tensor> {
        self.saved().tensors.to_vec()
    }

    /// The saved tensors, or PyTorch's error once a backward freed them.
    pub(crate) fn try_saved_tensors(&self) -> Result<Vec<Tensor>> {
        let s = self.saved();
        if self.is_released() {
            return Err(Error::BackwardTwice);
        }
        Ok(s.tensors.to_vec())
    }
}
