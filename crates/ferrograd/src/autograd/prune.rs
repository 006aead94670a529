//! The engine's pruning: with `inputs`, only the nodes that lead to one of them run.

use super::discover::Graph;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Which items get a gradient, and which are needed (a node runs only if it leads to a target).
pub(crate) struct Targets {
    pub(crate) target: Vec<bool>,
    pub(crate) needed: Vec<bool>,
}

impl Targets {
    pub(crate) fn wants(&self, e: Option<usize>) -> bool {
        e.is_some_and(|j| self.needed[j])
    }
}

/// Marks the targets and what leads to one (Kahn order, then from the children up).
pub(crate) fn prune(g: &Graph, inputs: Option<&[Tensor]>, strict: bool) -> Result<Targets> {
    let n = g.items.len();
    let mut target = vec![inputs.is_none(); n];
    for (index, x) in inputs.unwrap_or_default().iter().enumerate() {
        match g.find(x) {
            Some(i) => target[i] = true,
            None if strict => return Err(Error::UnusedInput { index }),
            None => {}
        }
    }
    let mut t = Targets {
        needed: target.clone(),
        target,
    };
    if inputs.is_none() {
        return Ok(t);
    }
    let (mut d, mut order) = (g.deps.clone(), Vec::with_capacity(n));
    order.extend((0..n).filter(|&i| d[i] == 0));
    for k in 0.. {
        let Some(&i) = order.get(k) else { break };
        for &j in g.edges(i).iter().flatten() {
            d[j] -= 1;
            if d[j] == 0 {
                order.push(j);
            }
        }
    }
    for &i in order.iter().rev() {
        t.needed[i] = t.target[i] || g.edges(i).iter().any(|&e| t.wants(e));
    }
    Ok(t)
}
