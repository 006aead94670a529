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
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

/// Adds a gradient contribution into a slot, in place when nobody else can see the buffer.
fn accumulate(slot: &mut Option<Tensor>, g: Tensor, create_graph: bool) {
    *slot = Some(match slot.take() {
        None => g,
        Some(acc) => {
            if !create_graph && acc.is_unshared() && acc.is_contiguous() && !acc.requires_grad() {
                acc.accumulate_(&g);
                acc
            } else {
                &acc + &g
            }
        }
    });
}

/// Stores `g` into a tensor's `.grad` with PyTorch's `AccumulateGrad` semantics.
fn commit_grad(t: &Tensor, g: Tensor, create_graph: bool) {
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
            if !create_graph && old.is_contiguous() && !old.requires_grad() {
                old.accumulate_(&g);
                *slot = Some(old);
            } else {
                *slot = Some(&old + &g);
            }
        }
    }
}

fn tensor_key(t: &Tensor) -> *const TensorImpl {
    Arc::as_ptr(&t.0)
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

    // Discovery: every node reachable from the outputs, and how many edges point at each.
    let mut nodes: Vec<Arc<Node>> = Vec::new();
    let mut index: HashMap<*const Node, usize> = HashMap::new();
    let mut deps: Vec<usize> = Vec::new();
    let mut leaves_seen: HashMap<*const TensorImpl, ()> = HashMap::new();
    let mut stack: Vec<usize> = Vec::new();
    for out in outputs {
        match &out.0.grad_fn {
            Some(f) => {
                if let std::collections::hash_map::Entry::Vacant(e) = index.entry(Arc::as_ptr(f)) {
                    e.insert(nodes.len());
                    stack.push(nodes.len());
                    nodes.push(f.clone());
                    deps.push(0);
                }
            }
            None => {
                leaves_seen.insert(tensor_key(out), ());
            }
        }
    }
    while let Some(i) = stack.pop() {
        let node = nodes[i].clone();
        for edge in node.next.iter().flatten() {
            match edge {
                Edge::Node(child) => {
                    let key = Arc::as_ptr(child);
                    let j = match index.get(&key) {
                        Some(&j) => j,
                        None => {
                            let j = nodes.len();
                            index.insert(key, j);
                            nodes.push(child.clone());
                            deps.push(0);
                            stack.push(j);
                            j
                        }
                    };
                    deps[j] += 1;
                }
                Edge::Leaf(t) => {
                    if inputs.is_some() {
                        leaves_seen.insert(tensor_key(t), ());
                    }
                }
            }
        }
    }

    // Targets of `grad`: which node or leaf each input is, and which nodes lead to one.
    let n = nodes.len();
    let mut node_target: Vec<bool> = vec![false; n];
    let mut leaf_target: HashMap<*const TensorImpl, ()> = HashMap::new();
    let needed: Vec<bool> = match inputs {
        None => vec![true; n],
        Some(inputs) => {
            for t in inputs {
                let used = match &t.0.grad_fn {
                    Some(f) => match index.get(&Arc::as_ptr(f)) {
                        Some(&i) => {
                            node_target[i] = true;
                            true
                        }
                        None => false,
                    },
                    None => {
                        leaf_target.insert(tensor_key(t), ());
                        leaves_seen.contains_key(&tensor_key(t))
                    }
                };
                if !used && !allow_unused {
                    return Err(Error::UnusedInput);
                }
            }
            // Kahn order (parents before children), then mark from the children up.
            let mut d = deps.clone();
            let mut order: Vec<usize> = (0..n).filter(|&i| d[i] == 0).collect();
            let mut k = 0;
            while k < order.len() {
                let i = order[k];
                k += 1;
                for edge in nodes[i].next.iter().flatten() {
                    if let Edge::Node(child) = edge {
                        let j = index[&Arc::as_ptr(child)];
                        d[j] -= 1;
                        if d[j] == 0 {
                            order.push(j);
                        }
                    }
                }
            }
            let mut needed = node_target.clone();
            for &i in order.iter().rev() {
                if needed[i] {
                    continue;
                }
                needed[i] = nodes[i].next.iter().flatten().any(|e| match e {
                    Edge::Node(c) => needed[index[&Arc::as_ptr(c)]],
                    Edge::Leaf(t) => leaf_target.contains_key(&tensor_key(t)),
                });
            }
            needed
        }
    };
    if (0..n).any(|i| needed[i] && nodes[i].is_released()) {
        return Err(Error::BackwardTwice);
    }

    // Execution.
    let _mode = crate::set_grad_enabled(create_graph);
    let mut buffers: Vec<Option<Tensor>> = vec![None; n];
    let mut leaf_grads: Vec<(Tensor, Option<Tensor>)> = Vec::new();
    let mut leaf_index: HashMap<*const TensorImpl, usize> = HashMap::new();
    let mut add_leaf = |t: &Tensor, g: Tensor, leaf_grads: &mut Vec<(Tensor, Option<Tensor>)>| {
        let k = *leaf_index.entry(tensor_key(t)).or_insert_with(|| {
            leaf_grads.push((t.clone(), None));
            leaf_grads.len() - 1
        });
        accumulate(&mut leaf_grads[k].1, g, create_graph);
    };
    for (out, seed) in outputs.iter().zip(seeds) {
        match &out.0.grad_fn {
            Some(f) => {
                let i = index[&Arc::as_ptr(f)];
                accumulate(&mut buffers[i], seed, create_graph);
            }
            None => add_leaf(out, seed, &mut leaf_grads),
        }
    }
    let mut node_results: Vec<Option<Tensor>> = vec![None; n];
    let mut retained: Vec<(Tensor, Tensor)> = Vec::new();
    let mut ready: BinaryHeap<(u64, usize)> = (0..n)
        .filter(|&i| deps[i] == 0 && needed[i])
        .map(|i| (nodes[i].seq, i))
        .collect();
    let mut needs: Vec<bool> = Vec::new();
    while let Some((_, i)) = ready.pop() {
        let node = nodes[i].clone();
        let grad = buffers[i].take();
        if node_target[i] {
            node_results[i] = grad.clone();
        }
        if inputs.is_none() {
            if let (Some(t), Some(g)) = (node.retained(), &grad) {
                retained.push((t, g.clone()));
            }
        }
        needs.clear();
        needs.extend(node.next.iter().map(|e| match e {
            None => false,
            Some(Edge::Node(c)) => needed[index[&Arc::as_ptr(c)]],
            Some(Edge::Leaf(t)) => inputs.is_none() || leaf_target.contains_key(&tensor_key(t)),
        }));
        let mut grads = match &grad {
            Some(g) if needs.iter().any(|&b| b) => node.apply(g, &needs, create_graph)?,
            _ => smallvec::smallvec![None; node.next.len()],
        };
        for (k, edge) in node.next.iter().enumerate() {
            let Some(edge) = edge else { continue };
            let g = grads[k].take().filter(|_| needs[k]).map(|g| {
                let meta = &node.inputs[k];
                let g = if g.shape() == meta.shape.as_slice() {
                    g
                } else {
                    g.try_sum_to(&meta.shape).unwrap_or_else(|e| {
                        panic!(
                            "internal error: {} returned a gradient of shape {:?} for an input of shape {:?}: {e}",
                            node.name,
                            g.shape(),
                            meta.shape.as_slice()
                        )
                    })
                };
                if g.dtype() == meta.dtype {
                    g
                } else {
                    g.to_dtype(meta.dtype)
                }
            });
            match edge {
                Edge::Node(child) => {
                    let j = index[&Arc::as_ptr(child)];
                    if !needed[j] {
                        continue;
                    }
                    if let Some(g) = g {
                        accumulate(&mut buffers[j], g, create_graph);
                    }
                    deps[j] -= 1;
                    if deps[j] == 0 {
                        ready.push((nodes[j].seq, j));
                    }
                }
                Edge::Leaf(t) => {
                    if let Some(g) = g {
                        add_leaf(t, g, &mut leaf_grads);
                    }
                }
            }
        }
        if !retain_graph {
            node.release();
        }
    }

    // Commit.
    match inputs {
        None => {
            for (t, g) in leaf_grads {
                if let Some(g) = g {
                    commit_grad(&t, g, create_graph);
                }
            }
            for (t, g) in retained {
                commit_grad(&t, g, create_graph);
            }
            Ok(Vec::new())
        }
        Some(inputs) => Ok(inputs
            .iter()
            .map(|t| {
                let g = match &t.0.grad_fn {
                    Some(f) => index
                        .get(&Arc::as_ptr(f))
                        .and_then(|&i| node_results[i].clone()),
                    None => leaf_index
                        .get(&tensor_key(t))
                        .and_then(|&k| leaf_grads[k].1.clone()),
                };
                // Reachable, but every path's rule gave no gradient: the gradient is zero.
                g.or_else(|| (!allow_unused).then(|| t.zeros_like()))
            })
            .collect()),
    }
}
