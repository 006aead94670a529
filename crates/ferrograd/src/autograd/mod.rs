//! Reverse-mode automatic differentiation: graph nodes, the engine, and the public entry points
//! ([`grad`], [`backward`], [`Tensor::backward`], [`Tensor::backward_with`], [`GradFn`]).

mod discover;
mod engine;
mod leaf;
pub(crate) mod levels;
pub(crate) mod mode;
pub(crate) mod node;
mod prune;
mod ptr_map;
mod validate;

pub(crate) use node::{record, relabel, relabel_over, Grads, Node};

use crate::error::Result;
use crate::tensor::Tensor;
use std::borrow::Borrow;
use std::sync::Arc;

/// Handles to the tensors of a slice of tensors or of references (cheap `Arc` clones).
fn owned<T: Borrow<Tensor>>(ts: &[T]) -> Vec<Tensor> {
    ts.iter().map(|t| t.borrow().clone()).collect()
}

/// Options of [`grad`] (PyTorch's keyword arguments of `torch.autograd.grad`).
///
/// ```
/// use ferrograd::{autograd, GradOptions, Tensor};
/// let x = Tensor::scalar(2.0).requires_grad_(true);
/// let y = x.pow(3.0);
/// let dy = autograd::grad(&[y], &[&x], GradOptions::new().create_graph(true));
/// let d2y = autograd::grad(&[dy[0].as_ref().unwrap()], &[&x], GradOptions::new());
/// assert_eq!(d2y[0].as_ref().unwrap().item(), 12.0);
/// ```
#[derive(Clone, Debug, Default)]
pub struct GradOptions {
    /// Gradients of the outputs (`None` entries, or no vector: ones for one-element outputs).
    pub grad_outputs: Option<Vec<Option<Tensor>>>,
    /// Keep saved tensors for another backward (defaults to `create_graph`).
    pub retain_graph: Option<bool>,
    /// Record the backward pass itself, so the result can be differentiated again.
    pub create_graph: bool,
    /// Return `None` for inputs not reachable from the outputs instead of failing.
    pub allow_unused: bool,
}

impl GradOptions {
    /// The defaults: ones as output gradients, `retain_graph = create_graph = false`.
    ///
    /// ```
    /// assert!(!ferrograd::GradOptions::new().create_graph);
    /// ```
    pub fn new() -> GradOptions {
        GradOptions::default()
    }

    /// Sets the output gradients (one per output).
    ///
    /// ```
    /// let o = ferrograd::GradOptions::new().grad_outputs([ferrograd::Tensor::ones(&[3])]);
    /// assert_eq!(o.grad_outputs.unwrap().len(), 1);
    /// ```
    pub fn grad_outputs(mut self, grads: impl IntoIterator<Item = Tensor>) -> GradOptions {
        self.grad_outputs = Some(grads.into_iter().map(Some).collect());
        self
    }

    /// Sets `retain_graph`.
    ///
    /// ```
    /// assert_eq!(ferrograd::GradOptions::new().retain_graph(true).retain_graph, Some(true));
    /// ```
    pub fn retain_graph(mut self, retain: bool) -> GradOptions {
        self.retain_graph = Some(retain);
        self
    }

    /// Sets `create_graph`.
    ///
    /// ```
    /// assert!(ferrograd::GradOptions::new().create_graph(true).create_graph);
    /// ```
    pub fn create_graph(mut self, create: bool) -> GradOptions {
        self.create_graph = create;
        self
    }

    /// Sets `allow_unused`.
    ///
    /// ```
    /// assert!(ferrograd::GradOptions::new().allow_unused(true).allow_unused);
    /// ```
    pub fn allow_unused(mut self, allow: bool) -> GradOptions {
        self.allow_unused = allow;
        self
    }
}

/// Gradients of `outputs` with respect to `inputs` (`torch.autograd.grad`), without touching
/// any `.grad`. Entries are `None` only for unused inputs with `allow_unused`. Panics on misuse;
/// see [`try_grad`].
///
/// ```
/// use ferrograd::{autograd, GradOptions, Tensor};
/// let w = Tensor::ones(&[1]).requires_grad_(true);
/// let z = Tensor::ones(&[1]).requires_grad_(true);
/// let f = &w + &(2.0 * &z);
/// let g = autograd::grad(&[f], &[w, z], GradOptions::new());
/// assert_eq!(g[1].as_ref().unwrap().item(), 2.0);
/// ```
pub fn grad<O: Borrow<Tensor>, I: Borrow<Tensor>>(
    outputs: &[O],
    inputs: &[I],
    options: GradOptions,
) -> Vec<Option<Tensor>> {
    crate::unwrap(try_grad(outputs, inputs, options))
}

/// Fallible [`grad`].
///
/// ```
/// use ferrograd::{autograd, Error, GradOptions, Tensor};
/// let x = Tensor::scalar(1.0).requires_grad_(true);
/// let unused = Tensor::scalar(1.0).requires_grad_(true);
/// let err = autograd::try_grad(&[&x * 2.0], &[unused], GradOptions::new()).unwrap_err();
/// assert_eq!(err, Error::UnusedInput { index: 0 });
/// ```
pub fn try_grad<O: Borrow<Tensor>, I: Borrow<Tensor>>(
    outputs: &[O],
    inputs: &[I],
    options: GradOptions,
) -> Result<Vec<Option<Tensor>>> {
    let (outputs, inputs) = (owned(outputs), owned(inputs));
    validate::not_empty("grad", &inputs)?;
    let seeds = validate::seeds(&outputs, options.grad_outputs.as_deref().unwrap_or(&[]))?;
    validate::require_grad("grad", &inputs)?;
    engine::run(engine::Pass {
        outputs: &outputs,
        seeds,
        inputs: Some(&inputs),
        into_grad: false,
        retain_graph: options.retain_graph.unwrap_or(options.create_graph),
        create_graph: options.create_graph,
        strict: !options.allow_unused,
    })
}

/// The number of backward nodes `output`'s graph holds (every distinct node reachable from its
/// `grad_fn`, `AccumulateGrad` nodes included); 0 for a tensor outside any graph. The walk is
/// iterative, so million-node graphs are fine. Useful to watch graphs grow: each order of
/// `create_graph` multiplies the size of a derivative's graph.
///
/// ```
/// use ferrograd::{autograd, Tensor};
/// let x = Tensor::scalar(1.0).requires_grad_(true);
/// assert_eq!(autograd::graph_size(&x), 0);
/// assert_eq!(autograd::graph_size(&(&x.exp() * &x)), 3); // Mul, Exp, AccumulateGrad
/// ```
pub fn graph_size(output: &Tensor) -> usize {
    match output.has_history() {
        true => discover::Graph::discover(std::slice::from_ref(output))
            .items
            .len(),
        false => 0,
    }
}

/// Options of [`Tensor::backward_with`] and [`backward`]: PyTorch's keyword arguments of
/// `Tensor.backward` and `torch.autograd.backward`, built like [`GradOptions`].
///
/// ```
/// use ferrograd::{BackwardOptions, Tensor};
/// let (a, b) = (Tensor::scalar(2.0).requires_grad_(true), Tensor::scalar(3.0).requires_grad_(true));
/// let y = &a * &b;
/// y.backward_with(&BackwardOptions::new().inputs([&a]).retain_graph(true)).unwrap();
/// assert_eq!(a.grad().unwrap().item(), 3.0);
/// assert!(b.grad().is_none()); // only the listed tensors get a gradient
/// ```
#[derive(Clone, Debug, Default)]
pub struct BackwardOptions {
    /// Gradients of the outputs, one per output (`gradient` of `Tensor.backward`, `grad_tensors`
    /// of `torch.autograd.backward`); `None` entries, or no vector: ones, for one-element
    /// outputs only. Cast to the output's dtype.
    pub gradients: Option<Vec<Option<Tensor>>>,
    /// Keep saved tensors for another backward (`None`: the value of `create_graph`).
    pub retain_graph: Option<bool>,
    /// Record the backward pass itself, so `.grad` can be differentiated again.
    pub create_graph: bool,
    /// Accumulate only into these tensors' `.grad` (PyTorch's `inputs=`): leaves, or non-leaves,
    /// which then retain their gradient (as after [`Tensor::retain_grad`]). Only the nodes that
    /// lead to them run, so other tensors' hooks and retained gradients stay untouched.
    pub inputs: Option<Vec<Tensor>>,
}

impl BackwardOptions {
    /// The defaults: implicit gradients, `retain_graph = create_graph = false`, every leaf.
    ///
    /// ```
    /// assert!(ferrograd::BackwardOptions::new().inputs.is_none());
    /// ```
    pub fn new() -> BackwardOptions {
        BackwardOptions::default()
    }

    /// Sets the gradient of the one output (`Tensor.backward(gradient)`), for non-scalar
    /// outputs.
    ///
    /// ```
    /// let x = ferrograd::Tensor::arange(3.0).requires_grad_(true);
    /// let o = ferrograd::BackwardOptions::new().gradient(ferrograd::Tensor::new([1.0, 1.0, 0.0]));
    /// (&x * &x).backward_with(&o).unwrap();
    /// assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![0.0, 2.0, 0.0]);
    /// ```
    pub fn gradient(self, gradient: impl Borrow<Tensor>) -> BackwardOptions {
        self.gradients([gradient])
    }

    /// Sets the outputs' gradients, one per output (`grad_tensors`).
    ///
    /// ```
    /// use ferrograd::{autograd, BackwardOptions, Tensor};
    /// let x = Tensor::new([1.0, 2.0]).requires_grad_(true);
    /// let o = BackwardOptions::new().gradients([Tensor::ones(&[2]), Tensor::full(&[2], 2.0)]);
    /// autograd::backward(&[&x * 3.0, x.clone()], &o).unwrap();
    /// assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![5.0, 5.0]);
    /// ```
    pub fn gradients<T: Borrow<Tensor>>(
        mut self,
        gradients: impl IntoIterator<Item = T>,
    ) -> BackwardOptions {
        let g = gradients.into_iter().map(|g| Some(g.borrow().clone()));
        self.gradients = Some(g.collect());
        self
    }

    /// Sets `retain_graph`.
    ///
    /// ```
    /// let x = ferrograd::Tensor::scalar(1.0).requires_grad_(true);
    /// let y = x.exp();
    /// y.backward_with(&ferrograd::BackwardOptions::new().retain_graph(true)).unwrap();
    /// y.backward(); // allowed: the graph was retained
    /// assert_eq!(x.grad().unwrap().item(), 2.0 * 1f32.exp() as f64);
    /// ```
    pub fn retain_graph(mut self, retain: bool) -> BackwardOptions {
        self.retain_graph = Some(retain);
        self
    }

    /// Sets `create_graph` (and, unless set, `retain_graph`).
    ///
    /// ```
    /// let x = ferrograd::Tensor::scalar(2.0).requires_grad_(true);
    /// x.pow(3.0).backward_with(&ferrograd::BackwardOptions::new().create_graph(true)).unwrap();
    /// let dx = x.grad().unwrap(); // 3x^2, itself differentiable
    /// x.set_grad(None);
    /// dx.backward();
    /// assert_eq!(x.grad().unwrap().item(), 12.0);
    /// ```
    pub fn create_graph(mut self, create: bool) -> BackwardOptions {
        self.create_graph = create;
        self
    }

    /// Sets `inputs`: only these tensors' `.grad` is accumulated into.
    ///
    /// ```
    /// use ferrograd::{BackwardOptions, Tensor};
    /// let x = Tensor::scalar(2.0).requires_grad_(true);
    /// let y = x.pow(2.0);
    /// y.pow(3.0).backward_with(&BackwardOptions::new().inputs([&y])).unwrap();
    /// assert_eq!(y.grad().unwrap().item(), 48.0); // 3y^2 at y = 4
    /// assert!(y.retains_grad() && x.grad().is_none());
    /// ```
    pub fn inputs<T: Borrow<Tensor>>(
        mut self,
        inputs: impl IntoIterator<Item = T>,
    ) -> BackwardOptions {
        self.inputs = Some(inputs.into_iter().map(|t| t.borrow().clone()).collect());
        self
    }
}

/// Accumulates the gradients of `outputs` into the `.grad` of the leaves they depend on
/// (`torch.autograd.backward`), or of `options.inputs` only. Fallible, like
/// [`Tensor::backward_with`]: on error no `.grad` is changed.
///
/// ```
/// use ferrograd::{autograd, BackwardOptions, Error, Tensor};
/// let x = Tensor::new([1.0, 2.0]).requires_grad_(true);
/// autograd::backward(&[x.pow(2.0).sum(), x.sum()], &BackwardOptions::new()).unwrap();
/// assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![3.0, 5.0]);
/// let e = autograd::backward(&[Tensor::new([1.0])], &BackwardOptions::new());
/// assert_eq!(e, Err(Error::NoGradFn(0)));
/// ```
pub fn backward<O: Borrow<Tensor>>(outputs: &[O], options: &BackwardOptions) -> Result<()> {
    let outputs = owned(outputs);
    let inputs = options.inputs.as_deref();
    if let Some(inputs) = inputs {
        validate::not_empty("backward", inputs)?;
    }
    let seeds = validate::seeds(&outputs, options.gradients.as_deref().unwrap_or(&[]))?;
    if let Some(inputs) = inputs {
        validate::require_grad("backward", inputs)?;
        // As in PyTorch, a non-leaf input keeps its gradient from now on (a no-op for leaves).
        inputs.iter().try_for_each(|t| t.try_retain_grad())?;
    }
    let pass = engine::Pass {
        outputs: &outputs,
        seeds,
        inputs,
        into_grad: true,
        retain_graph: options.retain_graph.unwrap_or(options.create_graph),
        create_graph: options.create_graph,
        strict: false,
    };
    engine::run(pass).map(|_| ())
}

impl Tensor {
    /// Backward from a one-element tensor: accumulates `d self / d leaf` into every leaf's
    /// `.grad`. Panics on misuse (with the error's message); the fallible form, with options,
    /// is [`Tensor::backward_with`].
    ///
    /// ```
    /// let a = ferrograd::Tensor::new([1.0, 2.0, 3.0]).requires_grad_(true);
    /// (&a * &a).sum().backward();
    /// assert_eq!(a.grad().unwrap().to_vec::<f32>(), vec![2.0, 4.0, 6.0]);
    /// ```
    pub fn backward(&self) {
        crate::unwrap(backward(&[self], &BackwardOptions::new()))
    }

    /// Backward with PyTorch's options ([`BackwardOptions`]: `gradient`, `retain_graph`,
    /// `create_graph`, `inputs`); fallible: on error no `.grad` is changed.
    ///
    /// ```
    /// use ferrograd::{BackwardOptions, Error, Tensor};
    /// let x = Tensor::arange(3.0).requires_grad_(true);
    /// let y = &x * 2.0;
    /// assert_eq!(y.backward_with(&BackwardOptions::new()), Err(Error::ImplicitGradNonScalar));
    /// let e = y.backward_with(&BackwardOptions::new().gradient(Tensor::ones(&[2]))).unwrap_err();
    /// assert_eq!(e.to_string(), "Mismatch in shape: grad_output[0] has a shape of [2] and output[0] has a shape of [3].");
    /// y.backward_with(&BackwardOptions::new().gradient(Tensor::ones(&[3]))).unwrap();
    /// assert_eq!(y.backward_with(&BackwardOptions::new().gradient(Tensor::ones(&[3]))), Err(Error::BackwardTwice));
    /// ```
    pub fn backward_with(&self, options: &BackwardOptions) -> Result<()> {
        backward(&[self], options)
    }
}

/// A node of the backward graph, as returned by [`Tensor::grad_fn`]: a recorded operation
/// (named as PyTorch names it, e.g. `MulBackward0`) or, among `next_functions`, the
/// `AccumulateGrad` of a leaf.
///
/// ```
/// let x = ferrograd::Tensor::scalar(2.0).requires_grad_(true);
/// let y = x.pow(2.0) * 3.0;
/// let f = y.grad_fn().unwrap();
/// assert_eq!(f.name(), "MulBackward0");
/// let pow = f.next_functions()[0].clone().unwrap();
/// assert_eq!(pow.name(), "PowBackward0");
/// assert_eq!(pow.next_functions()[0].as_ref().unwrap().name(), "AccumulateGrad");
/// ```
#[derive(Clone)]
pub struct GradFn(GradFnKind);

#[derive(Clone)]
enum GradFnKind {
    Node(Arc<Node>),
    Accumulate(Tensor),
}

impl GradFn {
    pub(crate) fn from_node(node: Arc<Node>) -> GradFn {
        GradFn(GradFnKind::Node(node))
    }

    /// The node's name (`"AddBackward0"`, `"AccumulateGrad"`, ...).
    ///
    /// ```
    /// let x = ferrograd::Tensor::ones(&[2]).requires_grad_(true);
    /// assert_eq!(x.sum().grad_fn().unwrap().name(), "SumBackward0");
    /// ```
    pub fn name(&self) -> &'static str {
        match &self.0 {
            GradFnKind::Node(n) => n.label(),
            GradFnKind::Accumulate(_) => "AccumulateGrad",
        }
    }

    /// One entry per input of the operation, in order: the node its gradient flows to, or
    /// `None` for an input that does not require grad.
    ///
    /// ```
    /// let x = ferrograd::Tensor::ones(&[2]).requires_grad_(true);
    /// let y = &x * &ferrograd::Tensor::ones(&[2]);
    /// let next = y.grad_fn().unwrap().next_functions();
    /// assert!(next[0].is_some() && next[1].is_none());
    /// ```
    pub fn next_functions(&self) -> Vec<Option<GradFn>> {
        match &self.0 {
            GradFnKind::Node(n) => n
                .next
                .iter()
                .map(|e| {
                    e.as_ref().map(|e| match e {
                        node::Edge::Node(n) => GradFn(GradFnKind::Node(n.clone())),
                        node::Edge::Leaf(t) => GradFn(GradFnKind::Accumulate(t.clone())),
                    })
                })
                .collect(),
            GradFnKind::Accumulate(_) => Vec::new(),
        }
    }

    /// For an `AccumulateGrad` node, the leaf tensor it accumulates into.
    ///
    /// ```
    /// let x = ferrograd::Tensor::ones(&[2]).requires_grad_(true);
    /// let acc = x.sum().grad_fn().unwrap().next_functions()[0].clone().unwrap();
    /// assert!(acc.variable().unwrap().is_same(&x));
    /// ```
    pub fn variable(&self) -> Option<Tensor> {
        match &self.0 {
            GradFnKind::Accumulate(t) => Some(t.clone()),
            GradFnKind::Node(_) => None,
        }
    }

    /// The tensors this node saved for its backward. Panics once a backward without
    /// `retain_graph` freed them (PyTorch raises); see [`GradFn::try_saved_tensors`].
    ///
    /// ```
    /// let x = ferrograd::Tensor::scalar(2.0).requires_grad_(true);
    /// let y = x.exp();
    /// assert_eq!(y.grad_fn().unwrap().saved_tensors().len(), 1);
    /// ```
    pub fn saved_tensors(&self) -> Vec<Tensor> {
        crate::unwrap(self.try_saved_tensors())
    }

    /// Fallible [`GradFn::saved_tensors`]: after a backward without `retain_graph` freed
    /// them, PyTorch's "Trying to backward through the graph a second time (or directly
    /// access saved tensors after they have already been freed)..." error.
    ///
    /// ```
    /// use ferrograd::{Error, Tensor};
    /// let x = Tensor::scalar(2.0).requires_grad_(true);
    /// let y = x.exp();
    /// y.backward();
    /// assert_eq!(y.grad_fn().unwrap().try_saved_tensors().unwrap_err(), Error::BackwardTwice);
    /// ```
    pub fn try_saved_tensors(&self) -> Result<Vec<Tensor>> {
        match &self.0 {
            GradFnKind::Node(n) => n.try_saved_tensors(),
            GradFnKind::Accumulate(_) => Ok(Vec::new()),
        }
    }

    /// Registers a pre-hook on this node: it sees (and may replace) the gradient of the node's
    /// output before the node's rule runs; after the output tensor's own hooks (PyTorch's
    /// order). Panics on an `AccumulateGrad` entry; register a tensor hook on the leaf instead.
    ///
    /// ```
    /// let x = ferrograd::Tensor::scalar(2.0).requires_grad_(true);
    /// let y = x.pow(2.0);
    /// let _h = y.grad_fn().unwrap().register_prehook(|g| Some(g.mul_scalar(3.0)));
    /// y.backward();
    /// assert_eq!(x.grad().unwrap().item(), 12.0);
    /// ```
    pub fn register_prehook(
        &self,
        hook: impl Fn(&Tensor) -> Option<Tensor> + Send + Sync + 'static,
    ) -> crate::hooks::HookHandle {
        let node = self.node_or_panic("register_prehook");
        let id = crate::hooks::next_id();
        node.with_hooks(|h| h.pre.push((id, Arc::new(hook))));
        crate::hooks::HookHandle::for_node(node, id)
    }

    /// Registers a post-hook on this node: after its rule ran, it sees the gradients for the
    /// node's inputs and the output's gradient, and may return replacements (one per input).
    /// Panics on an `AccumulateGrad` entry.
    ///
    /// ```
    /// use ferrograd::Tensor;
    /// let (a, b) = (Tensor::scalar(2.0).requires_grad_(true), Tensor::scalar(3.0).requires_grad_(true));
    /// let y = &a * &b;
    /// let _h = y.grad_fn().unwrap().register_hook(|inputs, _| Some(vec![inputs[0].clone(), None]));
    /// y.backward();
    /// assert_eq!(a.grad().unwrap().item(), 3.0);
    /// assert!(b.grad().is_none());
    /// ```
    pub fn register_hook(
        &self,
        hook: impl Fn(&[Option<Tensor>], &Tensor) -> Option<Vec<Option<Tensor>>> + Send + Sync + 'static,
    ) -> crate::hooks::HookHandle {
        let node = self.node_or_panic("register_hook");
        let id = crate::hooks::next_id();
        node.with_hooks(|h| h.post.push((id, Arc::new(hook))));
        crate::hooks::HookHandle::for_node(node, id)
    }

    fn node_or_panic(&self, op: &str) -> &Arc<Node> {
        match &self.0 {
            GradFnKind::Node(n) => n,
            GradFnKind::Accumulate(_) => panic!(
                "{op}: AccumulateGrad nodes take no hooks here; register a tensor hook on the leaf"
            ),
        }
    }

    /// An identity for graph walks: the node's (or the leaf's) address.
    pub(crate) fn key(&self) -> usize {
        match &self.0 {
            GradFnKind::Node(n) => Arc::as_ptr(n).cast::<u8>() as usize,
            GradFnKind::Accumulate(t) => Arc::as_ptr(&t.0) as usize ^ 1,
        }
    }

    /// Whether two handles are the same node.
    ///
    /// ```
    /// let x = ferrograd::Tensor::ones(&[1]).requires_grad_(true);
    /// let y = x.exp();
    /// assert!(y.grad_fn().unwrap().is_same(&y.grad_fn().unwrap()));
    /// ```
    pub fn is_same(&self, other: &GradFn) -> bool {
        match (&self.0, &other.0) {
            (GradFnKind::Node(a), GradFnKind::Node(b)) => Arc::ptr_eq(a, b),
            (GradFnKind::Accumulate(a), GradFnKind::Accumulate(b)) => a.is_same(b),
            _ => false,
        }
    }
}

impl std::fmt::Debug for GradFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{}>", self.name())
    }
}
