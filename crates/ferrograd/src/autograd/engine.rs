//! The backward engine: op-agnostic, iterative, and the one place where broadcast gradients are
//! reduced to their inputs' shapes.
//!
//! 1. Discover the graph from the outputs' nodes with an explicit stack, counting for each node
//!    how many edges point at it.
//! 2. For `grad(inputs=...)`, mark the nodes that lead to an input; the rest never run.
//! 3. Run nodes when all their consumers are done, newest first (PyTorch's order, so sums of
//!    several gradient contributions round the same way), accumulating gradients per node.
//! 4. Commit leaf gradients (`backward`) or return the inputs' gradients (`grad`) at the end, so
//!    an error leaves `.grad` untouched.

use super::node::{Edge, Node};
use crate::error::{Error, Result};
use crate::tensor::{Tensor, TensorImpl};
use std::collections::BinaryHeap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// Hashes pointer keys with one multiply: the engine's maps are keyed by node and tensor
/// addresses, for which SipHash's DoS resistance buys nothing and costs most of the lookup.
#[derive(Default)]
struct PtrHasher(u64);

impl Hasher for PtrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_usize(&mut self, v: usize) {
        // Fibonacci hashing; the high bits are well mixed, and hashbrown uses the top 7 bits.
        self.0 = (v as u64 ^ (v as u64 >> 32)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type HashMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<PtrHasher>>;

/// Adds a gradient contribution into a slot, in place when nobody else can see the buffer.
fn accumulate(slot: &mut Option<Tensor>, g: Tensor, create_graph: bool) {
    *slot = Some(match slot.take() {
        None => g,
        Some(acc) => {
            // In place only outside forward mode: an in-place sum would drop the tangents.
            if !create_graph
                && acc.is_unshared()
                && acc.is_contiguous()
                && !acc.requires_grad()
                && !crate::forward_ad::active()
            {
                acc.accumulate_(&g);
                acc
            } else {
                &acc + &g
            }
        }
    });
}

/// PyTorch's warning for `backward(create_graph=True)` storing a gradient that has a graph
/// in a tensor's own `.grad` (printed once per process).
pub(crate) const CREATE_GRAPH_WARNING: &str = "UserWarning: Using backward() with create_graph=True will create a reference cycle between the parameter and its gradient which can cause a memory leak. We recommend using autograd.grad when creating the graph to avoid this. If you have to use this function, make sure to reset the .grad fields of your parameters to None after use to break the cycle and avoid the leak.";

/// Stores `g` into a tensor's `.grad` with PyTorch's `AccumulateGrad` semantics.
fn commit_grad(t: &Tensor, g: Tensor, create_graph: bool) {
    if create_graph && g.requires_grad() {
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| eprintln!("{CREATE_GRAPH_WARNING}"));
    }
    let mut slot = t.grad_slot();
    match slot.take() {
        None => {
            let keep = if create_graph || (g.is_unshared() && g.is_contiguous()) {
                g
            } else {
                crate::with_no_grad(|| g.detach().deep_clone())
            };
            *slot = Some(keep);
        }
        Some(old) => {
            if !create_graph
                && old.is_contiguous()
                && !old.requires_grad()
                && !crate::forward_ad::active()
            {
                old.accumulate_(&g);
                *slot = Some(old);
            } else {
                *slot = Some(&old + &g);
            }
        }
    }
}

/// Anomaly mode: the first gradient with NaN (or infinite) values fails, naming the node.
fn check_anomaly(node: &Node, grads: &[Option<Tensor>]) -> Result<()> {
    for (index, g) in grads.iter().enumerate() {
        let Some(g) = g else { continue };
        let values = g.values_f64();
        let kind = if values.iter().any(|v| v.is_nan()) {
            "nan"
        } else if values.iter().any(|v| v.is_infinite()) {
            "inf"
        } else {
            continue;
        };
        let trace = node
            .trace
            .as_ref()
            .map(|t| format!("\nTraceback of forward call that caused the error:\n{t}"))
            .unwrap_or_default();
        return Err(Error::Anomaly {
            name: node.name,
            index,
            kind,
            trace,
        });
    }
    Ok(())
}

fn tensor_key(t: &Tensor) -> *const TensorImpl {
    Arc::as_ptr(&t.0)
}

/// Where one edge of a discovered node leads, resolved once at discovery.
#[derive(Clone, Copy)]
enum Slot {
    /// The input does not require grad.
    Skip,
    /// Index of the input's node.
    Node(usize),
    /// Index of the leaf in the discovered leaves.
    Leaf(usize),
}

/// The part of the graph reachable from the outputs, with every edge resolved to an index.
struct Graph {
    nodes: Vec<Arc<Node>>,
    /// `edges[ranges[i].0..ranges[i].1]` are node `i`'s edges, in input order.
    ranges: Vec<(usize, usize)>,
    edges: Vec<Slot>,
    /// How many edges point at each node.
    deps: Vec<usize>,
    leaves: Vec<Tensor>,
    node_index: HashMap<*const Node, usize>,
    leaf_index: HashMap<*const TensorImpl, usize>,
}

impl Graph {
    fn node(&mut self, f: &Arc<Node>, stack: &mut Vec<usize>) -> usize {
        let next = self.nodes.len();
        let i = *self.node_index.entry(Arc::as_ptr(f)).or_insert(next);
        if i == next {
            self.nodes.push(f.clone());
            self.ranges.push((0, 0));
            self.deps.push(0);
            stack.push(i);
        }
        i
    }

    fn leaf(&mut self, t: &Tensor) -> usize {
        let next = self.leaves.len();
        let i = *self.leaf_index.entry(tensor_key(t)).or_insert(next);
        if i == next {
            self.leaves.push(t.clone());
        }
        i
    }

    /// Iterative discovery from the outputs' nodes.
    fn discover(outputs: &[Tensor]) -> Graph {
        let mut g = Graph {
            nodes: Vec::new(),
            ranges: Vec::new(),
            edges: Vec::new(),
            deps: Vec::new(),
            leaves: Vec::new(),
            node_index: HashMap::default(),
            leaf_index: HashMap::default(),
        };
        let mut stack = Vec::new();
        for out in outputs {
            match &out.history() {
                Some(f) => {
                    g.node(f, &mut stack);
                }
                None => {
                    g.leaf(out);
                }
            }
        }
        while let Some(i) = stack.pop() {
            let node = g.nodes[i].clone();
            let start = g.edges.len();
            for edge in node.next.iter() {
                let slot = match edge {
                    None => Slot::Skip,
                    Some(Edge::Node(child)) => {
                        let j = g.node(child, &mut stack);
                        g.deps[j] += 1;
                        Slot::Node(j)
                    }
                    Some(Edge::Leaf(t)) => Slot::Leaf(g.leaf(t)),
                };
                g.edges.push(slot);
            }
            g.ranges[i] = (start, g.edges.len());
        }
        g
    }

    fn edges(&self, i: usize) -> &[Slot] {
        let (a, b) = self.ranges[i];
        &self.edges[a..b]
    }
}

/// Runs the backward pass. `inputs: None` accumulates into leaves' `.grad` (`backward`);
/// `Some` returns the gradients of those tensors instead (`autograd::grad`).
pub(crate) fn run(
    outputs: &[Tensor],
    grad_outputs: &[Option<Tensor>],
    inputs: Option<&[Tensor]>,
    retain_graph: bool,
    create_graph: bool,
    allow_unused: bool,
) -> Result<Vec<Option<Tensor>>> {
    // Seeds: validated before anything changes.
    if let Some([]) = inputs {
        return Err(Error::invalid(
            "grad",
            "`inputs` argument to `grad()` cannot be empty.",
        ));
    }
    if !grad_outputs.is_empty() && grad_outputs.len() != outputs.len() {
        return Err(Error::invalid(
            "backward",
            format!(
                "got {} tensors and {} gradients",
                outputs.len(),
                grad_outputs.len()
            ),
        ));
    }
    let mut seeds = Vec::with_capacity(outputs.len());
    for (i, out) in outputs.iter().enumerate() {
        if !out.requires_grad() {
            return Err(Error::NoGradFn(i));
        }
        let seed = match grad_outputs.get(i).and_then(|g| g.as_ref()) {
            Some(g) => {
                if g.shape() != out.shape() {
                    return Err(Error::GradShapeMismatch {
                        index: i,
                        grad: g.shape().to_vec(),
                        output: out.shape().to_vec(),
                    });
                }
                if g.dtype() == out.dtype() {
                    g.clone()
                } else {
                    g.to_dtype(out.dtype())
                }
            }
            None => {
                if out.numel() != 1 {
                    return Err(Error::ImplicitGradNonScalar);
                }
                out.ones_like()
            }
        };
        seeds.push(seed);
    }
    if let Some(inputs) = inputs {
        if inputs.iter().any(|t| !t.requires_grad()) {
            return Err(Error::InputDoesNotRequireGrad);
        }
    }

    let mut graph = Graph::discover(outputs);
    let n = graph.nodes.len();

    // Targets of `grad`: which node or leaf each input is, and which nodes lead to one.
    let mut node_target = vec![false; n];
    let mut leaf_target = vec![inputs.is_none(); graph.leaves.len()];
    let needed: Vec<bool> = match inputs {
        None => vec![true; n],
        Some(inputs) => {
            for (index, t) in inputs.iter().enumerate() {
                let found = match &t.history() {
                    Some(f) => graph
                        .node_index
                        .get(&Arc::as_ptr(f))
                        .map(|&i| node_target[i] = true),
                    None => graph
                        .leaf_index
                        .get(&tensor_key(t))
                        .map(|&k| leaf_target[k] = true),
                };
                if found.is_none() && !allow_unused {
                    return Err(Error::UnusedInput { index });
                }
            }
            // Kahn order (parents before children), then mark from the children up.
            let mut d = graph.deps.clone();
            let mut order: Vec<usize> = (0..n).filter(|&i| d[i] == 0).collect();
            let mut k = 0;
            while k < order.len() {
                let i = order[k];
                k += 1;
                for slot in graph.edges(i) {
                    if let Slot::Node(j) = *slot {
                        d[j] -= 1;
                        if d[j] == 0 {
                            order.push(j);
                        }
                    }
                }
            }
            let mut needed = node_target.clone();
            for &i in order.iter().rev() {
                needed[i] = needed[i]
                    || graph.edges(i).iter().any(|s| match *s {
                        Slot::Skip => false,
                        Slot::Node(j) => needed[j],
                        Slot::Leaf(k) => leaf_target[k],
                    });
            }
            needed
        }
    };
    for i in (0..n).filter(|&i| needed[i]) {
        graph.nodes[i].validate()?;
    }

    // Execution, newest node first among the ready ones.
    let _mode = crate::set_grad_enabled(create_graph);
    let mut deps = std::mem::take(&mut graph.deps);
    let mut buffers: Vec<Option<Tensor>> = vec![None; n];
    let mut leaf_grads: Vec<Option<Tensor>> = vec![None; graph.leaves.len()];
    for (out, seed) in outputs.iter().zip(seeds) {
        match &out.history() {
            Some(f) => {
                let i = graph.node_index[&Arc::as_ptr(f)];
                accumulate(&mut buffers[i], seed, create_graph);
            }
            None => {
                let k = graph.leaf_index[&tensor_key(out)];
                accumulate(&mut leaf_grads[k], seed, create_graph);
            }
        }
    }
    let mut node_results: Vec<Option<Tensor>> = vec![None; if inputs.is_some() { n } else { 0 }];
    let mut retained: Vec<(Tensor, Tensor)> = Vec::new();
    let mut ready: BinaryHeap<(u64, usize)> = (0..n)
        .filter(|&i| deps[i] == 0 && needed[i])
        .map(|i| (graph.nodes[i].seq, i))
        .collect();
    let mut needs: Vec<bool> = Vec::new();
    while let Some((_, i)) = ready.pop() {
        let node = &graph.nodes[i];
        let mut grad = buffers[i].take();
        if let Some(t) = node.owner() {
            // The output tensor's hooks, in order; its retained gradient sees their result.
            if let Some(g) = grad.take() {
                grad = Some(crate::hooks::run_tensor_hooks(&t, g)?);
            }
            if let (true, true, Some(g)) = (inputs.is_none(), t.retains_grad(), &grad) {
                retained.push((t.clone(), g.clone()));
            }
        }
        let (pre, post) = node.hook_lists();
        if !pre.is_empty() {
            if let Some(g) = grad.take() {
                grad = Some(crate::hooks::run_hooks(&pre, g)?);
            }
        }
        if node_target[i] {
            node_results[i] = grad.clone();
        }
        needs.clear();
        needs.extend(graph.edges(i).iter().map(|s| match *s {
            Slot::Skip => false,
            Slot::Node(j) => needed[j],
            Slot::Leaf(k) => leaf_target[k],
        }));
        let mut grads = match &grad {
            Some(g) if needs.iter().any(|&b| b) => node.apply(g, &needs, create_graph)?,
            _ => smallvec::smallvec![None; node.next.len()],
        };
        if let (false, Some(g)) = (post.is_empty(), &grad) {
            for h in &post {
                if let Some(new) = h(&grads, g) {
                    if new.len() != grads.len() {
                        return Err(Error::invalid(
                            "hook",
                            format!(
                                "a post-hook of {} returned {} gradients for {} inputs",
                                node.name,
                                new.len(),
                                grads.len()
                            ),
                        ));
                    }
                    grads = new.into_iter().collect();
                }
            }
        }
        if crate::is_anomaly_enabled() {
            check_anomaly(node, &grads)?;
        }
        for (k, slot) in graph.edges(i).iter().enumerate() {
            let g = match grads[k].take().filter(|_| needs[k]) {
                None => None,
                Some(g) => {
                    let meta = &node.inputs[k];
                    let g = if g.shape() == meta.shape.as_slice() {
                        g
                    } else {
                        // A gradient that is a broadcast of the input's shape is summed to
                        // it; any other shape is the rule's error (PyTorch's message).
                        g.try_sum_to(&meta.shape).map_err(|_| {
                            Error::invalid(
                                "backward",
                                format!(
                                    "Function {} returned an invalid gradient at index {k} - got {:?} but expected shape compatible with {:?}",
                                    node.name,
                                    g.shape(),
                                    meta.shape.as_slice()
                                ),
                            )
                        })?
                    };
                    Some(if g.dtype() == meta.dtype {
                        g
                    } else {
                        g.to_dtype(meta.dtype)
                    })
                }
            };
            match *slot {
                Slot::Skip => {}
                Slot::Node(j) => {
                    if !needed[j] {
                        continue;
                    }
                    if let Some(g) = g {
                        accumulate(&mut buffers[j], g, create_graph);
                    }
                    deps[j] -= 1;
                    if deps[j] == 0 {
                        ready.push((graph.nodes[j].seq, j));
                    }
                }
                Slot::Leaf(l) => {
                    if let Some(g) = g {
                        accumulate(&mut leaf_grads[l], g, create_graph);
                    }
                }
            }
        }
        if !retain_graph {
            node.release();
        }
    }

    // Leaves' hooks run on their total gradient, then it is committed or returned.
    for (t, g) in graph.leaves.iter().zip(leaf_grads.iter_mut()) {
        if let Some(v) = g.take() {
            *g = Some(crate::hooks::run_tensor_hooks(t, v)?);
        }
    }

    // Commit.
    match inputs {
        None => {
            for (t, g) in graph.leaves.iter().zip(leaf_grads) {
                if let Some(g) = g {
                    commit_grad(t, g, create_graph);
                }
            }
            for (t, g) in retained {
                commit_grad(&t, g, create_graph);
            }
            Ok(Vec::new())
        }
        Some(inputs) => Ok(inputs
            .iter()
            .enumerate()
            .map(|(index, t)| {
                let g = match &t.history() {
                    Some(f) => graph
                        .node_index
                        .get(&Arc::as_ptr(f))
                        .and_then(|&i| node_results[i].clone()),
                    None => graph
                        .leaf_index
                        .get(&tensor_key(t))
                        .and_then(|&k| leaf_grads[k].clone()),
                };
                // Reachable, but every path's rule gave no gradient: PyTorch's "unused" error
                // unless allowed (then `None`).
                match g {
                    None if !allow_unused => Err(Error::UnusedInput { index }),
                    g => Ok(g),
                }
            })
            .collect::<Result<Vec<_>>>()?),
    }
}
