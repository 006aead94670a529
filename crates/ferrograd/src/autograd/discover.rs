//! The part of a backward graph reachable from some tensors, discovered iteratively and indexed
//! for the engine: nodes and leaves (PyTorch's `AccumulateGrad`) in one index space, each
//! node's edges resolved to indices, and how many edges lead to each item.

use super::node::{Edge, Node};
use super::ptr_map::PtrMap;
use crate::tensor::Tensor;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A discovered node, or a leaf that requires grad (PyTorch's `AccumulateGrad`).
pub(crate) enum Item {
    Node(Claimed),
    Leaf(Tensor),
}

/// A node of a pass, which may hold the node's slot (its index, cached in the node so the pass
/// finds it without a hash lookup); the slot is freed when the pass's graph is dropped.
pub(crate) struct Claimed {
    node: Arc<Node>,
    /// The slot value this pass wrote (0: it holds no slot).
    slot: u64,
}

impl Drop for Claimed {
    fn drop(&mut self) {
        // A slot is claimed only from 0 and freed only by the pass holding it, so a slot this
        // pass holds still has its value: a plain store frees it (no locked exchange).
        if self.slot != 0 {
            self.node.slot.store(0, Ordering::Relaxed);
        }
    }
}

thread_local! {
    /// The item and edge counts of the last graph discovered on this thread, the next one's
    /// starting capacities (capped): a training loop discovers a graph of the same size each
    /// step, and growing the vectors by doubling cost reallocations and copies each time.
    static LAST_SIZE: std::cell::Cell<(usize, usize)> = const { std::cell::Cell::new((0, 0)) };
}

/// The largest starting capacity [`LAST_SIZE`] gives.
const MAX_HINT: usize = 1 << 20;

/// Pass ids (the high bits of a slot; at most 2^40 passes) and the largest index a slot holds.
static PASSES: AtomicU64 = AtomicU64::new(1);
const INDEX_BITS: u32 = 24;

/// The graph reachable from the outputs. Nodes and leaves share one index space; an edge is the
/// index it leads to (`None`: the input does not require grad).
#[derive(Default)]
pub(crate) struct Graph {
    pub(crate) items: Vec<Item>,
    /// `edges[ranges[i].0..ranges[i].1]` are node `i`'s edges, in input order.
    ranges: Vec<(usize, usize)>,
    pub(crate) edges: Vec<Option<usize>>,
    /// How many edges lead to each item.
    pub(crate) deps: Vec<usize>,
    /// Leaves, and the nodes whose slot another pass held when this one found them.
    index: PtrMap<usize, usize>,
    /// This pass's id.
    pass: u64,
}

fn addr<T: ?Sized>(a: &Arc<T>) -> usize {
    Arc::as_ptr(a).cast::<u8>() as usize
}

impl Graph {
    /// Iterative discovery from the outputs, counting the edges into each item.
    pub(crate) fn discover(outputs: &[Tensor]) -> Graph {
        let pass = PASSES.fetch_add(1, Ordering::Relaxed);
        let (n, e) = LAST_SIZE.with(|c| c.get());
        let (n, e) = (n.min(MAX_HINT), e.min(MAX_HINT));
        let (mut g, mut stack) = (
            Graph {
                pass,
                items: Vec::with_capacity(n),
                ranges: Vec::with_capacity(n),
                edges: Vec::with_capacity(e),
                deps: Vec::with_capacity(n),
                ..Graph::default()
            },
            Vec::new(),
        );
        for out in outputs {
            match out.history() {
                Some(f) => g.add_node(&f, &mut stack),
                None => g.add_leaf(out),
            };
        }
        while let Some(i) = stack.pop() {
            let (node, start) = (Arc::as_ptr(g.node(i).expect("a node")), g.edges.len());
            // SAFETY: `g.items[i]` holds an `Arc` of this node, and items are only ever pushed
            // (never removed or replaced) while the graph is being discovered, so the node
            // stays alive for this loop (a push may move the `Arc` handle, never the node it
            // points to). Only shared access is made, and `Node` is `Sync`. This avoids an
            // `Arc` clone and drop (two locked instructions) per node.
            let node = unsafe { &*node };
            for edge in node.next.iter() {
                let j = edge.as_ref().map(|e| match e {
                    Edge::Node(f) => g.add_node(f, &mut stack),
                    Edge::Leaf(t) => g.add_leaf(t),
                });
                if let Some(j) = j {
                    g.deps[j] += 1;
                }
                g.edges.push(j);
            }
            g.ranges[i] = (start, g.edges.len());
        }
        LAST_SIZE.with(|c| c.set((g.items.len(), g.edges.len())));
        g
    }

    /// This pass's slot value for index `i` (`None`: too large for a slot).
    fn slot_of(&self, i: usize) -> Option<u64> {
        (i < (1 << INDEX_BITS) && self.pass < (1 << (64 - INDEX_BITS)))
            .then_some((self.pass << INDEX_BITS) | i as u64)
    }

    /// The index of node `f`, added and stacked on first sight. Its slot gives it when this
    /// pass holds it; otherwise the map does (a node seen while another pass held its slot).
    fn add_node(&mut self, f: &Arc<Node>, stack: &mut Vec<usize>) -> usize {
        if let Some(i) = self.held(f) {
            return i;
        }
        let n = self.items.len();
        let slot = self.slot_of(n).filter(|&v| {
            f.slot
                .compare_exchange(0, v, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        });
        if slot.is_none() {
            self.index.insert(addr(f), n);
        }
        let node = f.clone();
        self.push(Item::Node(Claimed {
            node,
            slot: slot.unwrap_or(0),
        }));
        stack.push(n);
        n
    }

    /// The index of leaf `t`, added on first sight.
    fn add_leaf(&mut self, t: &Tensor) -> usize {
        let n = self.items.len();
        let i = *self.index.entry(addr(&t.0)).or_insert(n);
        if i == n {
            self.push(Item::Leaf(t.clone()));
        }
        i
    }

    fn push(&mut self, item: Item) {
        self.items.push(item);
        self.ranges.push((0, 0));
        self.deps.push(0);
    }

    /// Where a tensor's gradient goes in this graph (`None`: not in it).
    pub(crate) fn find(&self, t: &Tensor) -> Option<usize> {
        let Some(f) = t.history() else {
            return self.index.get(&addr(&t.0)).copied();
        };
        self.held(&f)
    }

    /// The index of node `f` if this pass found it: in its slot, or in the map.
    fn held(&self, f: &Arc<Node>) -> Option<usize> {
        let s = f.slot.load(Ordering::Relaxed);
        if s != 0 && s >> INDEX_BITS == self.pass {
            return Some((s & ((1 << INDEX_BITS) - 1)) as usize);
        }
        self.index.get(&addr(f)).copied()
    }

    pub(crate) fn edges(&self, i: usize) -> &[Option<usize>] {
        &self.edges[self.ranges[i].0..self.ranges[i].1]
    }

    pub(crate) fn node(&self, i: usize) -> Option<&Arc<Node>> {
        match &self.items[i] {
            Item::Node(c) => Some(&c.node),
            Item::Leaf(_) => None,
        }
    }
}
