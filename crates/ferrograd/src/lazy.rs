//! Deferred elementwise work: large elementwise results are computed when first read, fused
//! with the elementwise work they depend on, in cache-sized blocks (numexpr's approach).
//!
//! A unary or binary elementwise op on large contiguous floating tensors (at least
//! [`LAZY_MIN`] elements) does not run its kernel. Its result's [`Storage`] holds an
//! expression instead: the op, and its operands as expressions themselves (an operand still
//! pending is inlined; a computed one is a leaf that reads its buffer; a one-element or
//! broadcast-scalar one is a constant). The first read of that storage (any kernel, `to_vec`,
//! an in-place write) evaluates the expression: every node in one pass over blocks of
//! [`BLOCK`] elements that stay in the L1/L2 cache, reading each leaf once and writing the
//! result once, in parallel over chunks. Intermediates that another tensor still holds (a
//! value saved for backward) are written out in the same pass, and a later expression that
//! inlined such a node reads it from there (while that storage is unchanged since: its
//! version is checked) instead of computing it again; intermediates nobody holds any more are
//! never written at all.
//!
//! A `create_graph` chain such as the third derivative of `tanh` (W5) is thirty elementwise
//! ops over the same tensor: eagerly thirty passes over memory, here one. Each node runs the
//! same per-element function as the eager kernel, so values are the same bits.
//!
//! What keeps this sound:
//! - **In-place writes.** A leaf keeps its storage alive and counts itself in the storage's
//!   `lazy_refs`; writing into such a storage ([`Storage::write`]) first evaluates every
//!   pending expression ([`flush`]), so none sees the new values.
//! - **Bounded expressions.** An expression has at most [`MAX_NODES`] distinct nodes; an
//!   operand that would make it larger is evaluated first and becomes a leaf. So dropping an
//!   expression never recurses deeply and its scratch space stays small.
//! - **Locks.** Evaluation holds the root storage's expression lock (a second reader waits on
//!   it) and only `try_lock`s the intermediates it also writes; leaves are never pending, so
//!   reading them takes no expression lock. Evaluation is parallel only off rayon's worker
//!   threads, so a worker never waits on work that it would itself have to run.

use crate::dtype::DType;
use crate::storage::{Buffer, Data, Storage};
use std::collections::HashMap;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLockReadGuard, Weak};

/// Elementwise results with fewer elements are computed at once (the bookkeeping of an
/// expression costs about what a few thousand elements do).
pub(crate) const LAZY_MIN: usize = 1 << 16;
/// The most distinct nodes in one expression.
pub(crate) const MAX_NODES: usize = 48;
/// Elements per block: every live node's block of values stays in cache.
const BLOCK: usize = 1024;
/// Elements per parallel task.
const CHUNK: usize = 1 << 15;

/// An elementwise function on blocks: `out[i] = f(a[i])` for unary ops (`b` is empty), or
/// `f(a[i], b[i])`; all slices of one length otherwise.
pub(crate) trait Block: Send + Sync {
    fn f32(&self, a: &[f32], b: &[f32], out: &mut [f32]);
    fn f64(&self, a: &[f64], b: &[f64], out: &mut [f64]);
}

/// A value an expression reads: a computed storage's elements from `offset` on. Counted in
/// the storage's `lazy_refs` while it lives.
pub(crate) struct Leaf {
    storage: Arc<Storage>,
    offset: usize,
}

impl Leaf {
    fn new(storage: Arc<Storage>, offset: usize) -> Leaf {
        storage.lazy_ref(1);
        Leaf { storage, offset }
    }
}

impl Drop for Leaf {
    fn drop(&mut self) {
        self.storage.lazy_ref(-1);
    }
}

enum Kind {
    Leaf(Leaf),
    Const(f64),
    Map(Arc<Expr>, Arc<dyn Block>),
    Zip(Arc<Expr>, Arc<Expr>, Arc<dyn Block>),
}

/// A node of a deferred elementwise computation: `len` elements of `dtype`.
pub(crate) struct Expr {
    kind: Kind,
    dtype: DType,
    len: usize,
    /// Distinct nodes in this expression, itself included.
    nodes: usize,
    /// The storage waiting for this value (set once, when the storage is made).
    out: OnceLock<Weak<Storage>>,
    /// The version of `out` when this value was computed into it ([`NOT_COMPUTED`] before):
    /// while `out` is alive at that version, expressions that inlined this node read it there
    /// instead of computing it again.
    computed: AtomicU64,
}

const NOT_COMPUTED: u64 = u64::MAX;

/// An operand of a deferred op.
pub(crate) enum Operand {
    /// `len` contiguous elements of `storage` from `offset` (inlined when it is pending).
    Elements(Arc<Storage>, usize),
    /// One value, broadcast (already in the result's dtype).
    Const(f64),
}

impl Expr {
    fn children(&self) -> impl Iterator<Item = &Arc<Expr>> {
        let (a, b) = match &self.kind {
            Kind::Map(a, _) => (Some(a), None),
            Kind::Zip(a, b, _) => (Some(a), Some(b)),
            _ => (None, None),
        };
        a.into_iter().chain(b)
    }
}

/// Every distinct node under `roots`, children before parents; the children of a node that
/// `cut` accepts (a value already computed) are not visited.
fn topo<'a>(roots: &[&'a Arc<Expr>], mut cut: impl FnMut(&Expr) -> bool) -> Vec<&'a Arc<Expr>> {
    let mut seen: HashMap<*const Expr, ()> = HashMap::new();
    let mut order = Vec::new();
    let mut stack: Vec<(&Arc<Expr>, bool)> = roots.iter().rev().map(|r| (*r, false)).collect();
    while let Some((e, expanded)) = stack.pop() {
        if expanded {
            order.push(e);
            continue;
        }
        if seen.insert(Arc::as_ptr(e), ()).is_some() {
            continue;
        }
        stack.push((e, true));
        if cut(e) {
            continue;
        }
        for c in e.children() {
            if !seen.contains_key(&Arc::as_ptr(c)) {
                stack.push((c, false));
            }
        }
    }
    order
}

impl Expr {
    /// The storage that already holds this node's value, if it still does (an intermediate
    /// computed by an earlier evaluation, not written in place since). Racy on its own: an
    /// evaluation checks the version again under the storage's read lock.
    fn computed_in(&self) -> Option<Arc<Storage>> {
        let v = self.computed.load(Ordering::Acquire);
        if v == NOT_COMPUTED {
            return None;
        }
        let st = self.out.get()?.upgrade()?;
        (!st.is_pending() && st.version() == v).then_some(st)
    }
}

/// The expression for an operand: a pending storage's own expression when it covers all of
/// it and the result stays within [`MAX_NODES`], else (evaluating it first) a leaf.
fn operand(op: Operand, dtype: DType, len: usize) -> Arc<Expr> {
    let leaf = |kind| {
        Arc::new(Expr {
            kind,
            dtype,
            len,
            nodes: 1,
            out: OnceLock::new(),
            computed: AtomicU64::new(NOT_COMPUTED),
        })
    };
    match op {
        Operand::Const(v) => leaf(Kind::Const(v)),
        Operand::Elements(st, offset) => {
            if offset == 0 {
                if let Some(e) = st.pending_expr().filter(|e| e.len == len) {
                    return e;
                }
            }
            drop(st.read()); // evaluates it if it was pending
            leaf(Kind::Leaf(Leaf::new(st, offset)))
        }
    }
}

/// A new storage whose `len` elements of `dtype` are `block` applied to the operands (one, or
/// two), computed when first read.
pub(crate) fn deferred(
    block: Arc<dyn Block>,
    operands: Vec<Operand>,
    dtype: DType,
    len: usize,
) -> Arc<Storage> {
    let mut args: Vec<Arc<Expr>> = operands
        .into_iter()
        .map(|o| operand(o, dtype, len))
        .collect();
    // Bound the expression: evaluate the largest operand first until it fits.
    let count = |args: &[Arc<Expr>]| {
        let roots: Vec<_> = args.iter().collect();
        topo(&roots, |e| e.computed_in().is_some()).len() + 1
    };
    let mut nodes = count(&args);
    while nodes > MAX_NODES {
        let (i, _) = args
            .iter()
            .enumerate()
            .max_by_key(|(_, e)| e.nodes)
            .expect("an op has operands");
        let st = match args[i].out.get().and_then(Weak::upgrade) {
            Some(st) if st.pending_expr().is_some_and(|e| Arc::ptr_eq(&e, &args[i])) => st,
            Some(st) if args[i].computed_in().is_some() => st,
            // Nobody holds that value's storage any more: compute it into a new one.
            _ => Storage::deferred(args[i].clone()),
        };
        drop(st.read()); // computes it if it is pending
        args[i] = operand(Operand::Elements(st, 0), dtype, len);
        nodes = count(&args);
    }
    let kind = match (args.pop(), args.pop()) {
        (Some(a), None) => Kind::Map(a, block),
        (Some(b), Some(a)) => Kind::Zip(a, b, block),
        _ => unreachable!("an op has one or two operands"),
    };
    Storage::deferred(Arc::new(Expr {
        kind,
        dtype,
        len,
        nodes,
        out: OnceLock::new(),
        computed: AtomicU64::new(NOT_COMPUTED),
    }))
}

impl Storage {
    /// A pending storage for `expr` (registered for [`flush`]).
    fn deferred(expr: Arc<Expr>) -> Arc<Storage> {
        let st = Arc::new_cyclic(|weak| {
            let _ = expr.out.set(weak.clone());
            Storage::pending(expr)
        });
        let mut list = registry();
        if list.len() == list.capacity() {
            list.retain(|w| w.upgrade().is_some_and(|s| s.is_pending()));
        }
        list.push(Arc::downgrade(&st));
        st
    }
}

/// The pending storages (some already computed or gone).
fn registry() -> MutexGuard<'static, Vec<Weak<Storage>>> {
    static PENDING: Mutex<Vec<Weak<Storage>>> = Mutex::new(Vec::new());
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Evaluates every pending expression (before an in-place write into a storage that some of
/// them read).
pub(crate) fn flush() {
    let list = std::mem::take(&mut *registry());
    for st in list.iter().filter_map(Weak::upgrade) {
        drop(st.read());
    }
}

/// Element types expressions compute in.
trait Elem: Copy + Send + Sync + Default + crate::pool::Pooled {
    fn run(block: &dyn Block, a: &[Self], b: &[Self], out: &mut [Self]);
    fn of(v: f64) -> Self;
    fn slice(buf: &Buffer) -> &[Self];
    fn buffer(v: Vec<Self>) -> Buffer;
}

impl Elem for f32 {
    fn run(block: &dyn Block, a: &[f32], b: &[f32], out: &mut [f32]) {
        block.f32(a, b, out)
    }
    fn of(v: f64) -> f32 {
        v as f32
    }
    fn slice(buf: &Buffer) -> &[f32] {
        crate::storage::typed(buf)
    }
    fn buffer(v: Vec<f32>) -> Buffer {
        Buffer::F32(Data::from_vec(v))
    }
}

impl Elem for f64 {
    fn run(block: &dyn Block, a: &[f64], b: &[f64], out: &mut [f64]) {
        block.f64(a, b, out)
    }
    fn of(v: f64) -> f64 {
        v
    }
    fn slice(buf: &Buffer) -> &[f64] {
        crate::storage::typed(buf)
    }
    fn buffer(v: Vec<f64>) -> Buffer {
        Buffer::F64(Data::from_vec(v))
    }
}

/// Where a step reads an operand.
#[derive(Clone, Copy)]
enum Src {
    /// Leaf `i` (its buffer from its offset).
    Leaf(usize),
    /// A scratch slot (a computed node, or a constant's block).
    Slot(usize),
    /// No operand (the second of a unary op).
    None,
}

struct Step<'a> {
    block: &'a dyn Block,
    a: Src,
    b: Src,
    dst: usize,
    /// The output this node is written to, if any.
    out: Option<usize>,
}

/// How to evaluate an expression: leaves (a storage and the offset of the values in it),
/// constants (slot and value), steps.
struct Plan<'a> {
    leaves: Vec<(&'a Storage, usize)>,
    consts: Vec<(usize, f64)>,
    steps: Vec<Step<'a>>,
    slots: usize,
}

impl<'a> Plan<'a> {
    /// `outputs[i]` is the node written to output `i` (the root first); `computed` holds the
    /// storages of nodes already computed, read as leaves.
    fn new(
        order: &[&'a Arc<Expr>],
        outputs: &[&'a Arc<Expr>],
        computed: &'a HashMap<*const Expr, Arc<Storage>>,
    ) -> Plan<'a> {
        let index: HashMap<*const Expr, usize> = order
            .iter()
            .enumerate()
            .map(|(i, e)| (Arc::as_ptr(e), i))
            .collect();
        let mut uses = vec![0usize; order.len()];
        for e in order
            .iter()
            .filter(|e| !computed.contains_key(&Arc::as_ptr(e)))
        {
            for c in e.children() {
                uses[index[&Arc::as_ptr(c)]] += 1;
            }
        }
        let mut plan = Plan {
            leaves: Vec::new(),
            consts: Vec::new(),
            steps: Vec::new(),
            slots: 0,
        };
        let mut src = vec![Src::None; order.len()];
        let mut free: Vec<usize> = Vec::new();
        let take = |free: &mut Vec<usize>, slots: &mut usize| {
            free.pop().unwrap_or_else(|| {
                *slots += 1;
                *slots - 1
            })
        };
        for (i, e) in order.iter().enumerate() {
            if let Some(st) = computed.get(&Arc::as_ptr(e)) {
                src[i] = Src::Leaf(plan.leaves.len());
                plan.leaves.push((st, 0));
                continue;
            }
            match &e.kind {
                Kind::Leaf(l) => {
                    src[i] = Src::Leaf(plan.leaves.len());
                    plan.leaves.push((&l.storage, l.offset));
                }
                Kind::Const(v) => {
                    // A constant's slot is filled once per chunk and never reused.
                    let s = take(&mut Vec::new(), &mut plan.slots);
                    plan.consts.push((s, *v));
                    src[i] = Src::Slot(s);
                }
                Kind::Map(..) | Kind::Zip(..) => {
                    let kids: Vec<usize> = e.children().map(|c| index[&Arc::as_ptr(c)]).collect();
                    let dst = take(&mut free, &mut plan.slots);
                    let block = match &e.kind {
                        Kind::Map(_, f) | Kind::Zip(_, _, f) => &**f,
                        _ => unreachable!(),
                    };
                    plan.steps.push(Step {
                        block,
                        a: src[kids[0]],
                        b: kids.get(1).map_or(Src::None, |&k| src[k]),
                        dst,
                        out: outputs.iter().position(|o| Arc::ptr_eq(o, e)),
                    });
                    for &k in &kids {
                        uses[k] -= 1;
                        if uses[k] == 0 && matches!(order[k].kind, Kind::Map(..) | Kind::Zip(..)) {
                            if let Src::Slot(s) = src[k] {
                                free.push(s);
                            }
                        }
                    }
                    src[i] = Src::Slot(dst);
                }
            }
        }
        plan
    }

    /// Evaluates the plan: `n` elements of every output.
    fn run<T: Elem>(&self, leaves: &[&[T]], n: usize, outputs: usize) -> Vec<Vec<T>> {
        use rayon::prelude::*;
        let mut outs: Vec<Vec<T>> = (0..outputs)
            .map(|_| crate::unwrap(crate::pool::try_take(n)))
            .collect();
        {
            let mut chunks: Vec<_> = outs
                .iter_mut()
                .map(|v| v.spare_capacity_mut()[..n].chunks_mut(CHUNK))
                .collect();
            let tasks: Vec<(usize, Vec<&mut [MaybeUninit<T>]>)> = (0..n.div_ceil(CHUNK))
                .map(|c| {
                    let pieces = chunks.iter_mut().map(|it| it.next().expect("chunk"));
                    (c * CHUNK, pieces.collect())
                })
                .collect();
            let chunk = |(start, mut pieces): (usize, Vec<&mut [MaybeUninit<T>]>)| {
                let mut slots = vec![vec![T::default(); BLOCK]; self.slots];
                for &(s, v) in &self.consts {
                    slots[s].fill(T::of(v));
                }
                let len = pieces[0].len();
                for at in (0..len).step_by(BLOCK) {
                    let m = BLOCK.min(len - at);
                    let from = start + at;
                    for step in &self.steps {
                        let mut dst = std::mem::take(&mut slots[step.dst]);
                        let read = |s: Src| -> &[T] {
                            match s {
                                Src::Leaf(l) => {
                                    let off = self.leaves[l].1 + from;
                                    &leaves[l][off..off + m]
                                }
                                Src::Slot(k) => &slots[k][..m],
                                Src::None => &[],
                            }
                        };
                        T::run(step.block, read(step.a), read(step.b), &mut dst[..m]);
                        if let Some(o) = step.out {
                            write(&mut pieces[o][at..at + m], &dst[..m]);
                        }
                        slots[step.dst] = dst;
                    }
                }
            };
            if n >= 2 * CHUNK && rayon::current_thread_index().is_none() {
                tasks.into_par_iter().for_each(chunk);
            } else {
                tasks.into_iter().for_each(chunk);
            }
        }
        for v in &mut outs {
            // SAFETY: the chunks above cover the first `n` spare elements of every output
            // (consecutive chunks of `spare_capacity_mut()[..n]`, which panics unless the
            // capacity is at least `n`), and every chunk ran every block of its length; each
            // output is the `out` of exactly one step (the root, or a claimed intermediate:
            // all are nodes of the plan, which runs every node), which wrote each of the
            // block's elements. A panic unwinds past this line.
            unsafe { v.set_len(n) };
        }
        outs
    }
}

/// Copies `src` into `dst` (one length, asserted) with the C library's vectorised copy.
fn write<T: Copy>(dst: &mut [MaybeUninit<T>], src: &[T]) {
    assert_eq!(dst.len(), src.len());
    // SAFETY: `MaybeUninit<T>` has `T`'s layout, both slices hold `src.len()` elements (just
    // asserted), and they do not overlap (one is borrowed exclusively while the other is
    // borrowed); `T: Copy`, so a bitwise copy is a valid value and nothing needs dropping.
    unsafe {
        std::ptr::copy_nonoverlapping(src.as_ptr(), dst.as_mut_ptr().cast::<T>(), src.len());
    }
}

/// Read-locks `s` unless `locked` has it (a second read lock by one thread can deadlock
/// behind a waiting writer), and returns its index there.
fn lock<'s>(locked: &mut Vec<(&'s Storage, RwLockReadGuard<'s, Buffer>)>, s: &'s Storage) -> usize {
    match locked.iter().position(|(p, _)| std::ptr::eq(*p, s)) {
        Some(i) => i,
        None => {
            locked.push((s, s.read()));
            locked.len() - 1
        }
    }
}

/// Computes a pending storage's expression into its buffer (nothing if another thread did it
/// first), writing out the intermediates that other storages wait for in the same pass, and
/// reading the ones an earlier evaluation computed.
pub(crate) fn evaluate(st: &Storage) {
    let mut root_slot = st.lazy_lock();
    // Taken out only once computed: a panic (out of memory) leaves it pending.
    let Some(root) = root_slot.clone() else {
        return;
    };
    loop {
        // Intermediates already computed (and not written since): read, not recomputed.
        let mut computed: HashMap<*const Expr, Arc<Storage>> = HashMap::new();
        let order = topo(&[&root], |e| {
            let done = (!std::ptr::eq(e, &*root))
                .then(|| e.computed_in())
                .flatten();
            done.map(|s| computed.insert(e, s)).is_some()
        });
        // Each storage read-locked once (a second read lock by one thread can deadlock
        // behind a waiting writer).
        let mut locked: Vec<(&Storage, RwLockReadGuard<'_, Buffer>)> = Vec::new();
        for s in computed.values() {
            lock(&mut locked, s);
        }
        // An in-place write bumps the version before it takes the write lock: one that came
        // in between makes the value stale (recomputed on the next round).
        let stale: Vec<_> = order
            .iter()
            .filter(|e| {
                computed
                    .get(&Arc::as_ptr(e))
                    .is_some_and(|s| s.version() != e.computed.load(Ordering::Acquire))
            })
            .collect();
        if !stale.is_empty() {
            for e in stale {
                e.computed.store(NOT_COMPUTED, Ordering::Release);
            }
            continue;
        }
        // Intermediates whose storages are alive and still wait for exactly this value.
        let waiting: Vec<(Arc<Storage>, &Arc<Expr>)> = order
            .iter()
            .filter(|e| {
                !Arc::ptr_eq(e, &root)
                    && !computed.contains_key(&Arc::as_ptr(e))
                    && matches!(e.kind, Kind::Map(..) | Kind::Zip(..))
            })
            .filter_map(|e| Some((e.out.get()?.upgrade()?, *e)))
            .collect();
        let mut claimed = Vec::new();
        for (s, e) in &waiting {
            if let Some(g) = s.try_lazy_lock() {
                if g.as_ref().is_some_and(|p| Arc::ptr_eq(p, e)) {
                    claimed.push((s, g, *e));
                }
            }
        }
        let mut outputs = vec![&root];
        outputs.extend(claimed.iter().map(|c| c.2));
        let plan = Plan::new(&order, &outputs, &computed);
        let at: Vec<usize> = plan
            .leaves
            .iter()
            .map(|(s, _)| lock(&mut locked, s))
            .collect();
        let bufs = match root.dtype {
            DType::F32 => {
                let leaves: Vec<&[f32]> = at.iter().map(|&i| f32::slice(&locked[i].1)).collect();
                let outs = plan.run::<f32>(&leaves, root.len, outputs.len());
                outs.into_iter().map(f32::buffer).collect::<Vec<_>>()
            }
            DType::F64 => {
                let leaves: Vec<&[f64]> = at.iter().map(|&i| f64::slice(&locked[i].1)).collect();
                let outs = plan.run::<f64>(&leaves, root.len, outputs.len());
                outs.into_iter().map(f64::buffer).collect()
            }
            _ => unreachable!("deferred ops are floating"),
        };
        drop(locked);
        let mut bufs = bufs.into_iter();
        let v = st.set_computed(bufs.next().expect("the root's buffer"));
        root.computed.store(v, Ordering::Release);
        root_slot.take();
        for ((s, mut g, e), b) in claimed.into_iter().zip(bufs) {
            let v = s.set_computed(b);
            e.computed.store(v, Ordering::Release);
            g.take();
        }
        return;
    }
}
