//! Batched tensors: the representation [`crate::func::vmap`] runs on (functorch's
//! `BatchedTensor`, JAX's batch tracer).
//!
//! A batched tensor is an ordinary [`Tensor`] whose shape is the *logical* one (what the
//! function under `vmap` sees: one member of the batch) and which carries its *physical*
//! value, a tensor with the batch at dimension 0, and the vmap *level* it belongs to. Nested
//! `vmap`s nest wrappers: a level-2 tensor's physical value may itself be batched at level 1.
//!
//! Every primitive has a batching rule: how it runs once on the physical values when some of
//! its inputs are batched. The rules live with the primitives' forms:
//! - elementwise kernels (the `raw` gateway: maps, zips with broadcasting, comparisons,
//!   `where`, casts, copies, sums over dims): the physical operands are aligned so that they
//!   broadcast like the logical ones ([`broadcasting`]), the kernel runs once;
//! - views and index maps (`Structural`): a structural primitive is linear, so its batched
//!   forward is its JVP rule applied to the physical values as a batch of tangents;
//! - reductions (`Reduce`): the reduced dims shift past the batch dim;
//! - matrix products and decompositions batch natively over leading dims ([`broadcasting`]).
//!
//! Physical values are fresh handles with no history and no tangent (`wrap` takes them from
//! kernels or from `with_grad_fn(None)`), so the kernels here run on them without recording;
//! rules in the ops layer that call recorded ops run under `autograd::levels::physically`.
//!
//! Autograd records on the logical tensors, so backward rules (written in the same ops) run
//! batched too: `vmap(grad(f))` gives per-sample gradients. An operation that reads a batched
//! tensor's values without a rule fails with a message naming vmap, never with a wrong number
//! (see [`Tensor::storage`]).

use crate::error::Result;
use crate::tensor::Tensor;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// What a batched tensor carries: its vmap level and its physical value (batch at dim 0).
pub(crate) struct Batch {
    pub(crate) level: u64,
    pub(crate) inner: Tensor,
}

static NEXT_LEVEL: AtomicU64 = AtomicU64::new(1);

/// A fresh vmap level, distinct from every other (levels of finished vmaps are never reused,
/// so a tensor that escapes its vmap can never be mistaken for one of a later level).
pub(crate) fn new_level() -> u64 {
    NEXT_LEVEL.fetch_add(1, Ordering::Relaxed)
}

/// PyTorch's message for `.item()` on a batched tensor.
pub(crate) const ITEM: &str = "vmap: It looks like you're calling .item() on a Tensor. We don't support vmap over calling .item() on a Tensor, please try to rewrite what you're doing with other operations.";

/// PyTorch's message for an in-place operation whose operand is batched where `self` is not.
pub(crate) const INPLACE: &str = "vmap: inplace arithmetic(self, *extra_args) is not possible because there exists a Tensor `other` in extra_args that has more elements than `self`. This happened due to `other` being vmapped over but `self` not being vmapped over in a vmap. Please try to use out-of-place operators instead of inplace arithmetic.";

/// The message of an operation that reads a batched tensor's values and has no rule.
pub(crate) const NO_RULE: &str = "vmap: this operation reads the values of a batched tensor directly (data-dependent control flow, or an operation without a batching rule), which vmap does not support. Please rewrite it with other operations, or move it outside of vmap.";

/// Fails an operation that has no batching rule (see [`NO_RULE`]).
#[track_caller]
pub(crate) fn no_rule() -> ! {
    panic!("{NO_RULE}")
}

/// `physical` (batch at dim 0) as a tensor batched at `level`. Levels nest outermost-highest:
/// a `physical` batched at a higher level (a backward replaying an inner vmap inside a later
/// one) keeps that level outside, with `level` pushed in beneath it.
pub(crate) fn wrap(physical: Tensor, level: u64) -> Tensor {
    match physical.batch() {
        Some((h, q)) if h > level => {
            // q: [B_h, B_level, ...]; beneath level h goes [B_level, B_h, ...] at `level`.
            let under = swap01(q);
            wrap_raw(wrap(under, level), h)
        }
        _ => wrap_raw(physical, level),
    }
}

/// The value of `y` with the batch of `level` moved to its logical dim 0 (higher levels kept
/// around it), if `y` is batched at `level`; the inverse of [`wrap`].
pub(crate) fn unwrap(y: &Tensor, level: u64) -> Option<Tensor> {
    match y.batch() {
        Some((l, p)) if l == level => Some(p.clone()),
        Some((h, q)) if h > level => {
            let inner = unwrap(q, level)?; // [B_level, B_h, ...]
            Some(wrap_raw(swap01(&inner), h))
        }
        _ => None,
    }
}

/// `t` with dims 0 and 1 swapped.
fn swap01(t: &Tensor) -> Tensor {
    t.transpose(0, 1)
}

fn wrap_raw(physical: Tensor, level: u64) -> Tensor {
    assert!(
        physical.dim() >= 1,
        "internal error: a batched value needs a batch dim"
    );
    // The logical handle's own storage and layout are member 0 of the batch (any read of
    // them is refused by `storage()`; they only keep the handle's shape and dtype valid).
    let (storage, layout) = if physical.shape()[0] > 0 {
        (
            Arc::clone(&physical.0.storage),
            physical.0.layout.select(0, 0),
        )
    } else {
        let z = Tensor::full_with(&physical.shape()[1..], 0.0, physical.dtype());
        (Arc::clone(&z.0.storage), z.0.layout.clone())
    };
    let mut t = Tensor::from_parts(storage, layout, physical.dtype(), None);
    Arc::get_mut(&mut t.0).expect("a fresh tensor").batch = Some(Box::new(Batch {
        level,
        inner: physical,
    }));
    t
}

/// The highest vmap level among `ts` (`None`: none is batched).
#[inline]
pub(crate) fn level(ts: &[&Tensor]) -> Option<u64> {
    ts.iter()
        .filter_map(|t| t.0.batch.as_ref().map(|b| b.level))
        .max()
}

/// Every vmap level `t` is batched at, outermost first (`None`: unbatched).
pub(crate) fn levels(t: &Tensor) -> Option<Box<[u64]>> {
    t.batch()?;
    let mut v = Vec::new();
    let mut at = t;
    while let Some((l, p)) = at.batch() {
        v.push(l);
        at = p;
    }
    Some(v.into_boxed_slice())
}

/// Whether vmap level `level` is open on this thread (its function is running).
pub(crate) fn is_open(level: u64) -> bool {
    OPEN.with(|o| o.borrow().iter().any(|l| l.0 == level))
}

/// The physical value of `t` if it is batched at `level`.
pub(crate) fn inner_at(t: &Tensor, level: u64) -> Option<&Tensor> {
    t.0.batch
        .as_ref()
        .filter(|b| b.level == level)
        .map(|b| &b.inner)
}

/// The batch size of `level`, from the first of `ts` batched at it.
pub(crate) fn size(ts: &[&Tensor], level: u64) -> usize {
    ts.iter()
        .find_map(|t| inner_at(t, level))
        .map(|p| p.shape()[0])
        .expect("internal error: no tensor of this level")
}

/// `t`'s physical value at `level`, with size-1 dims inserted after the batch dim so that it
/// has `rank + 1` dims and broadcasts like the logical `t` against `rank` dims; an input not
/// batched at `level` as it is (it broadcasts over the batch from the right).
pub(crate) fn aligned(t: &Tensor, level: u64, rank: usize) -> Tensor {
    match inner_at(t, level) {
        Some(p) if p.dim() < rank + 1 => {
            let mut s = vec![p.shape()[0]];
            s.resize(rank + 1 - (p.dim() - 1), 1);
            s.extend_from_slice(&p.shape()[1..]);
            p.reshape(&s)
        }
        Some(p) => p.clone(),
        None => t.clone(),
    }
}

/// `t`'s physical value at `level`, an input not batched at it repeated `b` times (a view).
pub(crate) fn expanded(t: &Tensor, level: u64, b: usize) -> Tensor {
    match inner_at(t, level) {
        Some(p) => p.clone(),
        None => {
            let mut s = vec![b];
            s.extend_from_slice(t.shape());
            t.unsqueeze(0).expand(&s)
        }
    }
}

/// The batching rule of operations that broadcast (elementwise kernels, and matrix products
/// and decompositions over leading batch dims): `kernel` runs once on the physical operands
/// aligned to the logical operands' common rank, and its result is batched at the highest
/// level. Call only when some input is batched.
pub(crate) fn broadcasting<const N: usize>(
    ts: [&Tensor; N],
    kernel: impl FnOnce([Tensor; N]) -> Result<Tensor>,
) -> Result<Tensor> {
    let level = level(&ts).expect("a batched input");
    let rank = ts.iter().map(|t| t.dim()).max().unwrap_or(0);
    let phys = ts.map(|t| aligned(t, level, rank));
    kernel(phys).map(|y| wrap(y, level))
}

/// The batching rule of a kernel on one tensor whose result keeps the batch at dim 0
/// (`kernel` gets the physical value).
pub(crate) fn map(x: &Tensor, kernel: impl FnOnce(&Tensor) -> Result<Tensor>) -> Result<Tensor> {
    let b = x.0.batch.as_ref().expect("a batched input");
    let level = b.level;
    kernel(&b.inner).map(|y| wrap(y, level))
}

/// What a random operation does inside `vmap` (torch.func's `randomness=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Randomness {
    /// Random operations are an error (the default).
    Error,
    /// Each member of the batch gets its own samples.
    Different,
    /// Every member of the batch gets the same samples.
    Same,
}

std::thread_local! {
    /// The open vmap levels on this thread, outermost first: level, batch size, randomness.
    static OPEN: std::cell::RefCell<Vec<(u64, usize, Randomness)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with vmap level `level` (of batch size `b`) open on this thread.
pub(crate) fn with_level<R>(
    level: u64,
    b: usize,
    randomness: Randomness,
    f: impl FnOnce() -> R,
) -> R {
    struct Close;
    impl Drop for Close {
        fn drop(&mut self) {
            OPEN.with(|o| o.borrow_mut().pop());
        }
    }
    OPEN.with(|o| o.borrow_mut().push((level, b, randomness)));
    let _close = Close;
    f()
}

/// PyTorch's message for a random operation under `randomness="error"`.
pub(crate) const RANDOM: &str = "vmap: called random operation while in randomness error mode. Please either use the 'same' or 'different' randomness flags on vmap or perform the randomness outside of vmap";

/// A random tensor of logical shape `shape` from `sample` (which draws a tensor of the shape it
/// is given), following the randomness of the open vmap levels: one draw per member of the
/// batch for `Different` levels, one shared draw for `Same`; panics for `Error`.
pub(crate) fn random(shape: &[usize], sample: impl FnOnce(&[usize]) -> Tensor) -> Tensor {
    let open = OPEN.with(|o| o.borrow().clone());
    if open.iter().any(|l| l.2 == Randomness::Error) {
        panic!("{RANDOM}");
    }
    let different: Vec<(u64, usize)> = open
        .iter()
        .filter(|l| l.2 == Randomness::Different)
        .map(|l| (l.0, l.1))
        .collect();
    let mut full: Vec<usize> = different.iter().map(|l| l.1).collect();
    full.extend_from_slice(shape);
    let mut t = sample(&full);
    // The outermost level's batch is the first dim: wrap from the outside in.
    for (level, _) in different {
        t = wrap(t, level);
    }
    t
}

impl Tensor {
    /// The vmap level of this tensor and its physical value, if it is batched.
    pub(crate) fn batch(&self) -> Option<(u64, &Tensor)> {
        self.0.batch.as_ref().map(|b| (b.level, &b.inner))
    }
}
