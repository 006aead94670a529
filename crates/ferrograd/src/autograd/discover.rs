//! The part of a backward graph reachable from some tensors, discovered iteratively and indexed
//! for the engine: nodes and leaves (PyTorch's `AccumulateGrad`) in one index space, each
//! node's edges resolved to indices, and how many edges lead to each item.

use super::node::{Edge, Node};
use super::ptr_map::PtrMap;
use crate::tensor::Tensor;
use std::sync::Arc;

/// A discovered node, or a leaf that requires grad (PyTorch's `AccumulateGrad`).
pub(crate) enum Item {
    Node(Arc<Node>),
    Leaf(Tensor),
}

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
    index: PtrMap<usize, usize>,
}

fn addr<T: ?Sized>(a: &Arc<T>) -> usize {
    Arc::as_ptr(a).cast::<u8>() as usize
}

/// The address a tensor's gradient goes to: its node's, or its own for a leaf.
fn key(t: &Tensor) -> usize {
    t.history().map_or(addr(&t.0), |f| addr(&f))
}

impl Graph {
    /// Iterative discovery from the outputs, counting the edges into each item.
    pub(crate) fn discover(outputs: &[Tensor]) -> Graph {
        let (mut g, mut stack) = (Graph::default(), Vec::new());
        for out in outputs {
            match out.history() {
                Some(f) => g.add(addr(&f), || Item::Node(f.clone()), &mut stack),
                None => g.add(addr(&out.0), || Item::Leaf(out.clone()), &mut stack),
            };
        }
        while let Some(i) = stack.pop() {
            let (node, start) = (g.node(i).expect("a node").clone(), g.edges.len());
            for edge in node.next.iter() {
                let j = edge.as_ref().map(|e| match e {
                    Edge::Node(f) => g.add(addr(f), || Item::Node(f.clone()), &mut stack),
                    Edge::Leaf(t) => g.add(addr(&t.0), || Item::Leaf(t.clone()), &mut stack),
                });
                if let Some(j) = j {
                    g.deps[j] += 1;
                }
                g.edges.push(j);
            }
            g.ranges[i] = (start, g.edges.len());
        }
        g
    }

    /// The index of the item at `key`, added (a node also stacked) on first sight.
    fn add(&mut self, key: usize, item: impl FnOnce() -> Item, stack: &mut Vec<usize>) -> usize {
        let n = self.items.len();
        let i = *self.index.entry(key).or_insert(n);
        if i == n {
            self.items.push(item());
            self.ranges.push((0, 0));
            self.deps.push(0);
            if self.node(i).is_some() {
                stack.push(i);
            }
        }
        i
    }

    /// Where a tensor's gradient goes in this graph (`None`: not in it).
    pub(crate) fn find(&self, t: &Tensor) -> Option<usize> {
        self.index.get(&key(t)).copied()
    }

    pub(crate) fn edges(&self, i: usize) -> &[Option<usize>] {
        &self.edges[self.ranges[i].0..self.ranges[i].1]
    }

    pub(crate) fn node(&self, i: usize) -> Option<&Arc<Node>> {
        match &self.items[i] {
            Item::Node(f) => Some(f),
            Item::Leaf(_) => None,
        }
    }
}
