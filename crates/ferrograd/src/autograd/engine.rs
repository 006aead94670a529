//! The backward engine, op-agnostic and iterative: [`Graph::discover`] (`discover.rs`), `prune`
//! (`prune.rs`: with `inputs`, only nodes leading to one run), a reverse sweep newest first like PyTorch
//! ([`Sweep::step`] runs a node, [`route`] sums a broadcast gradient to its input's shape, the
//! one place that does, [`accumulate`] adds it to a slot), then [`commit`] into `.grad` at the
//! end, so an error changes no `.grad`. Arguments are checked in `validate.rs`; hooks run in
//! `hooks.rs`, the anomaly check in `mode.rs`.

use super::discover::{Graph, Item};
use super::node::{Grads, Node};
use super::prune::{prune, Targets};
use crate::error::{Error, Result};
use crate::hooks::{after_node, before_node, run_tensor_hooks};
use crate::tensor::Tensor;
use std::collections::BinaryHeap;

/// One backward pass, its arguments validated (`seeds`: one per output, of its shape and dtype).
pub(crate) struct Pass<'a> {
    pub(crate) outputs: &'a [Tensor],
    pub(crate) seeds: Vec<Tensor>,
    /// `None`: every leaf; `Some`: only these tensors, through the nodes that lead to them.
    pub(crate) inputs: Option<&'a [Tensor]>,
    /// Accumulate into `.grad` (`backward`, with retained gradients), or return the inputs'.
    pub(crate) into_grad: bool,
    pub(crate) retain_graph: bool,
    pub(crate) create_graph: bool,
    /// An input without a gradient is an error (`grad` without `allow_unused`).
    pub(crate) strict: bool,
}

/// The one accumulation policy (PyTorch's `AccumulateGrad`), for the engine's buffers and for
/// `.grad` (`grad`). The first gradient is kept, but `.grad` copies one another handle can see
/// (unless `create_graph` keeps it in the graph). Later ones are added in place only into a
/// contiguous, graph-free sum no one else can see (a `.grad` is the user's by design, as in
/// PyTorch), never under `create_graph` or in forward mode (an in-place sum would drop the
/// graph or the tangents); otherwise out of place.
fn accumulate(slot: &mut Option<Tensor>, g: Tensor, create_graph: bool, grad: bool) {
    *slot = Some(match slot.take() {
        None if grad && !create_graph && !(g.is_unshared() && g.is_contiguous()) => {
            crate::with_no_grad(|| g.detach().deep_clone())
        }
        None => g,
        Some(acc)
            if !create_graph
                && !crate::forward_ad::active()
                && acc.is_contiguous()
                && !acc.is_batched()
                && !g.is_batched()
                && !acc.requires_grad()
                && (grad || (acc.is_unshared() && !acc.is_deferred() && !g.is_deferred())) =>
        {
            acc.accumulate_(&g);
            acc
        }
        Some(acc) => &acc + &g,
    });
}

/// Adds `g` into `t.grad`, with PyTorch's warning (once) when `create_graph` leaves a graph.
fn commit(t: &Tensor, g: Tensor, create_graph: bool) {
    if create_graph && g.requires_grad() {
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| eprintln!("UserWarning: Using backward() with create_graph=True will create a reference cycle between the parameter and its gradient which can cause a memory leak. We recommend using autograd.grad when creating the graph to avoid this. If you have to use this function, make sure to reset the .grad fields of your parameters to None after use to break the cycle and avoid the leak."));
    }
    accumulate(&mut t.grad_slot(), g, create_graph, true);
}

/// The reverse sweep: each item's summed gradient (a target node's stays after it ran, for
/// `grad`) and the retained gradients to commit (`backward`).
#[derive(Default)]
struct Sweep {
    deps: Vec<usize>,
    grads: Vec<Option<Tensor>>,
    retained: Vec<(Tensor, Tensor)>,
    ready: BinaryHeap<(u64, usize)>,
    needs: Vec<bool>,
}

/// Runs a pass: `Ok(vec![])` after committing into `.grad`, or the inputs' gradients.
pub(crate) fn run(mut p: Pass) -> Result<Vec<Option<Tensor>>> {
    let mut g = Graph::discover(p.outputs);
    let t = prune(&g, p.inputs, p.strict)?;
    let n = g.items.len();
    for f in (0..n).filter(|&i| t.needed[i]).filter_map(|i| g.node(i)) {
        f.validate()?;
    }
    let _mode = crate::set_grad_enabled(p.create_graph);
    let (deps, grads) = (std::mem::take(&mut g.deps), vec![None; n]);
    let mut s = Sweep {
        deps,
        grads,
        ..Sweep::default()
    };
    for (out, seed) in p.outputs.iter().zip(std::mem::take(&mut p.seeds)) {
        s.deliver(g.find(out), Some(seed), p.create_graph);
    }
    for i in 0..n {
        if s.deps[i] == 0 {
            s.push(&g, &t, i);
        }
    }
    while let Some((_, i)) = s.ready.pop() {
        s.step(&g, &t, i, &p)?;
    }
    // Leaves' hooks run on their total gradient, then it is committed or returned.
    for (item, gx) in g.items.iter().zip(s.grads.iter_mut()) {
        if let (Item::Leaf(x), true) = (item, gx.is_some()) {
            *gx = gx
                .take()
                .map(|v| run_tensor_hooks(x, v, None))
                .transpose()?;
        }
    }
    if p.into_grad {
        let leaves = g
            .items
            .into_iter()
            .zip(s.grads)
            .filter_map(|(item, gx)| match item {
                Item::Leaf(x) => Some((x, gx?)),
                Item::Node(_) => None,
            });
        for (x, gx) in leaves.chain(s.retained) {
            commit(&x, gx, p.create_graph);
        }
        return Ok(Vec::new());
    }
    let inputs = p.inputs.unwrap_or_default().iter().enumerate();
    // An input that no rule gave a gradient: PyTorch's "unused" error unless allowed.
    let found = inputs.map(
        |(index, x)| match g.find(x).and_then(|i| s.grads[i].clone()) {
            None if p.strict => Err(Error::UnusedInput { index }),
            gx => Ok(gx),
        },
    );
    found.collect()
}

impl Sweep {
    /// Runs node `i`: hooks, its rule (for the inputs that need a gradient), post-hooks and the
    /// anomaly check; then each input's gradient goes to its slot.
    fn step(&mut self, g: &Graph, t: &Targets, i: usize, p: &Pass) -> Result<()> {
        let node = g.node(i).expect("only nodes are ready");
        let (mut grad, mut post) = (self.grads[i].take(), Vec::new());
        // Hooks and the anomaly check are called only where there are any (cheap checks first).
        if node.is_hooked() {
            let retained = p.into_grad.then_some(&mut self.retained);
            (grad, post) = before_node(node, grad, retained)?;
        }
        if t.target[i] && !p.into_grad {
            self.grads[i] = grad.clone();
        }
        self.needs.clear();
        self.needs.extend(g.edges(i).iter().map(|&e| t.wants(e)));
        let mut grads: Grads = match &grad {
            Some(gr) if self.needs.contains(&true) => {
                node.apply(gr, &self.needs, p.create_graph, p.retain_graph)?
            }
            _ => smallvec::smallvec![None; node.next.len()],
        };
        if let (Some(gr), false) = (&grad, post.is_empty()) {
            grads = after_node(node, &post, grads, gr)?;
        }
        if crate::is_anomaly_enabled() {
            super::mode::check_anomaly(node, &grads)?;
        }
        for (k, &e) in g.edges(i).iter().enumerate() {
            let gk = grads[k].take().filter(|_| self.needs[k]);
            let gk = gk.map(|gk| route(node, k, gk)).transpose()?;
            self.deliver(e, gk, p.create_graph);
            if let Some(j) = e {
                self.deps[j] -= 1;
                if self.deps[j] == 0 {
                    self.push(g, t, j);
                }
            }
        }
        if !p.retain_graph {
            node.release();
        }
        Ok(())
    }

    /// Queues item `i`, all of whose consumers ran, if it is a node that has to run.
    fn push(&mut self, g: &Graph, t: &Targets, i: usize) {
        if let (Some(f), true) = (g.node(i), t.needed[i]) {
            self.ready.push((f.seq, i));
        }
    }

    /// Adds a gradient into an item's buffer.
    fn deliver(&mut self, e: Option<usize>, gk: Option<Tensor>, create_graph: bool) {
        if let (Some(j), Some(gk)) = (e, gk) {
            accumulate(&mut self.grads[j], gk, create_graph, false);
        }
    }
}

/// Fits the gradient for input `k` of `node` to the input's shape and dtype: a broadcast of the
/// input's shape is summed to it (the one place that does); any other shape is the rule's
/// error (PyTorch's message).
fn route(node: &Node, k: usize, g: Tensor) -> Result<Tensor> {
    let (shape, dtype) = (node.inputs[k].shape.as_slice(), node.inputs[k].dtype);
    let g = match g.shape() == shape {
        true => g,
        false => g.try_sum_to(shape).map_err(|_| {
            let e = format!("Function {} returned an invalid gradient at index {k} - got {:?} but expected shape compatible with {shape:?}", node.label(), g.shape());
            Error::invalid("backward", e)
        })?,
    };
    // A gradient carrying vmap levels the input lacks is summed over their batches.
    let g = match g.is_batched() {
        true => super::levels::fit(g, node.inputs[k].levels.as_deref()),
        false => g,
    };
    Ok(if g.dtype() == dtype {
        g
    } else {
        g.to_dtype(dtype)
    })
}
