//! Composable function transforms, as `torch.func` (functorch) and JAX have them: [`grad`],
//! [`grad_and_value`], [`vjp`], [`jvp`], [`jacrev`], [`jacfwd`], [`hessian`] and [`vmap`].
//! Functions go in and functions come out ([`Func`]), so transforms nest to any depth:
//! `vmap(grad(f))` (per-sample gradients), `grad(grad(f))`, `jacfwd(jacrev(f))`,
//! `vmap(vmap(f))`, `grad(vmap(f))`.
//!
//! ```
//! use ferrograd::func::{self, Func};
//! use ferrograd::Tensor;
//!
//! // Per-sample gradients of a loss, for a batch of 4 inputs at once.
//! let loss = Func::scalar(|a| (&a[0] * &a[1]).sum().pow(2.0));
//! let w = Tensor::new([1.0, 2.0, 3.0]);
//! let xs = Tensor::new([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 1.0]]);
//! let per_sample = func::vmap_with(&func::grad(&loss), func::VmapOptions::in_dims(&[None, Some(0)]));
//! let g = per_sample.call(&[w, xs]).unwrap();
//! assert_eq!(g[0].shape(), &[4, 3]);
//! assert_eq!(g[0].to_vec::<f32>()[..3], [2.0, 0.0, 0.0]); // 2 (w.x) x for x = e0
//! ```
//!
//! # How the transforms compose
//! - `vmap` runs the function once on *batched tensors* (see the batching module): tensors
//!   whose shape is one member's and which carry the whole batch, with a level of their own.
//!   Every primitive has a batching rule, so each runs once on the batched data. Autograd
//!   records on the logical tensors, so gradients taken inside `vmap` are per member.
//! - `grad` and `vjp` differentiate with respect to fresh views of their arguments (a node of
//!   their own), with `create_graph`, so an outer transform differentiates through them and
//!   nested transforms never mix their perturbations.
//! - `jvp` is the derivative of a vector-Jacobian product with respect to its cotangent (the
//!   "double vjp"): forward mode built from reverse mode, so it nests inside and outside
//!   every other transform. `jacfwd` maps it over the basis with `vmap`, `jacrev` maps `vjp`.
//! - Results of an outermost transform whose arguments do not require grad are cut from the
//!   internal graph (as torch.func returns them); a tensor captured by the function that
//!   requires grad connects to the results only through arguments or inner transforms.

use crate::autograd::levels::{from_level, movedim, to_level};
use crate::batching;
pub use crate::batching::Randomness;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use crate::GradOptions;
use std::cell::Cell;
use std::sync::Arc;

type Body = dyn Fn(&[Tensor]) -> Result<Vec<Tensor>> + Send + Sync;

/// A function of tensors to tensors, the currency of the transforms: a list of arguments in,
/// a list of outputs out. Cheap to clone.
///
/// ```
/// use ferrograd::func::Func;
/// use ferrograd::Tensor;
/// let f = Func::new(|a| Ok(vec![a[0].sin(), a[0].cos()]));
/// let y = f.call(&[Tensor::new([0.0])]).unwrap();
/// assert_eq!((y[0].to_vec::<f32>()[0], y[1].to_vec::<f32>()[0]), (0.0, 1.0));
/// ```
#[derive(Clone)]
pub struct Func {
    body: Arc<Body>,
    /// Made by a transform: an outermost call cuts its results from the internal graph.
    transform: bool,
}

impl Func {
    /// A function from a fallible closure (use the `try_` ops and `?` inside).
    ///
    /// ```
    /// use ferrograd::func::Func;
    /// use ferrograd::Tensor;
    /// let f = Func::new(|a| Ok(vec![a[0].try_matmul(&a[1])?]));
    /// assert!(f.call(&[Tensor::ones(&[2, 3]), Tensor::ones(&[2, 3])]).is_err());
    /// ```
    pub fn new(f: impl Fn(&[Tensor]) -> Result<Vec<Tensor>> + Send + Sync + 'static) -> Func {
        Func {
            body: Arc::new(f),
            transform: false,
        }
    }

    /// A transform's function (see [`Func::call`]).
    fn transform(f: impl Fn(&[Tensor]) -> Result<Vec<Tensor>> + Send + Sync + 'static) -> Func {
        Func {
            body: Arc::new(f),
            transform: true,
        }
    }

    /// A function with one output from an infallible closure.
    ///
    /// ```
    /// use ferrograd::func::Func;
    /// use ferrograd::Tensor;
    /// let f = Func::scalar(|a| a[0].exp());
    /// assert_eq!(f.call(&[Tensor::scalar(0.0)]).unwrap()[0].item(), 1.0);
    /// ```
    pub fn scalar(f: impl Fn(&[Tensor]) -> Tensor + Send + Sync + 'static) -> Func {
        Func::new(move |a| Ok(vec![f(a)]))
    }

    /// Calls the function.
    ///
    /// ```
    /// use ferrograd::func::Func;
    /// use ferrograd::Tensor;
    /// let f = Func::scalar(|a| &a[0] + &a[1]);
    /// let y = f.call(&[Tensor::scalar(1.0), Tensor::scalar(2.0)]).unwrap();
    /// assert_eq!(y[0].item(), 3.0);
    /// ```
    pub fn call(&self, args: &[Tensor]) -> Result<Vec<Tensor>> {
        // A transform differentiates whatever the grad mode outside (`torch.func.grad` under
        // `no_grad` still gives the gradient); the mode outside decides whether its results
        // stay connected to the caller's graph. A `no_grad` inside `f` is still respected.
        let outer = crate::is_grad_enabled();
        let detach = self.transform && (outermost(args) || !outer);
        let _enabled = self.transform.then(crate::enable_grad);
        DEPTH.with(|d| d.set(d.get() + 1));
        struct Leave;
        impl Drop for Leave {
            fn drop(&mut self) {
                DEPTH.with(|d| d.set(d.get() - 1));
            }
        }
        let out = {
            let _leave = Leave;
            (self.body)(args)?
        };
        Ok(cut(out, detach))
    }
}

/// Whether a transform called with `args` is outermost, with nothing outside to differentiate
/// its results: no other transform is running and no argument requires grad.
fn outermost(args: &[Tensor]) -> bool {
    DEPTH.with(|d| d.get()) == 0 && !args.iter().any(Tensor::requires_grad)
}

/// `out`, cut from the graph when `detach`.
fn cut(out: Vec<Tensor>, detach: bool) -> Vec<Tensor> {
    match detach {
        true => out.iter().map(Tensor::detach).collect(),
        false => out,
    }
}

std::thread_local! {
    /// How many transformed calls are running on this thread (0: the next is outermost).
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

fn argument_error(msg: impl Into<String>) -> Error {
    Error::Argument(msg.into())
}

/// A view of `x` to differentiate with respect to: a node of its own (so a gradient with
/// respect to it counts only the paths through it), differentiable with respect to `x` for
/// outer transforms; a fresh leaf when `x` does not require grad.
fn fresh(x: &Tensor) -> Result<Tensor> {
    if !x.dtype().is_floating_point() {
        return Err(argument_error(format!(
            "only Tensors of floating point dtype can be differentiated, got {}",
            x.dtype()
        )));
    }
    Ok(match x.requires_grad() {
        true => crate::autograd::record(
            "AliasBackward0",
            x.with_grad_fn(None),
            &[x],
            |_, _| |a| smallvec::smallvec![Some(a.grad.clone())],
            |j| j.t(0).expect("tangent").clone(),
        ),
        false => x.detach().requires_grad_(true),
    })
}

fn check_argnums(op: &str, argnums: &[usize], n: usize) -> Result<()> {
    if argnums.is_empty() {
        return Err(argument_error(format!("{op}: argnums must be non-empty")));
    }
    if let Some(&a) = argnums.iter().find(|&&a| a >= n) {
        return Err(argument_error(format!(
            "{op}: Got argnums={a} but only {n} positional inputs"
        )));
    }
    Ok(())
}

/// Gradients of `y` with respect to `xs`, recorded (zeros for inputs `y` does not reach).
fn grads_of(ys: &[Tensor], xs: &[Tensor], cotangents: Vec<Tensor>) -> Result<Vec<Tensor>> {
    let live: Vec<usize> = (0..ys.len()).filter(|&i| ys[i].requires_grad()).collect();
    if live.is_empty() {
        return Ok(xs.iter().map(Tensor::zeros_like).collect());
    }
    let outs: Vec<Tensor> = live.iter().map(|&i| ys[i].clone()).collect();
    let seeds: Vec<Tensor> = live.iter().map(|&i| cotangents[i].clone()).collect();
    let options = GradOptions::new()
        .grad_outputs(seeds)
        .create_graph(true)
        .allow_unused(true);
    let g = crate::autograd::try_grad(&outs, xs, options)?;
    Ok(g.into_iter()
        .zip(xs)
        .map(|(g, x)| g.unwrap_or_else(|| x.zeros_like()))
        .collect())
}

/// `f` with the arguments at `argnums` replaced by fresh views; returns the new arguments and
/// the views.
fn with_fresh(args: &[Tensor], argnums: &[usize]) -> Result<(Vec<Tensor>, Vec<Tensor>)> {
    let mut a = args.to_vec();
    let mut xs = Vec::with_capacity(argnums.len());
    for &i in argnums {
        let x = fresh(&args[i])?;
        a[i] = x.clone();
        xs.push(x);
    }
    Ok((a, xs))
}

fn grad_impl(f: &Func, argnums: &[usize], has_aux: bool, value: bool) -> Func {
    let (f, argnums) = (f.clone(), argnums.to_vec());
    Func::transform(move |args| {
        check_argnums("grad", &argnums, args.len())?;
        let (a, xs) = with_fresh(args, &argnums)?;
        let out = f.call(&a)?;
        let Some(y) = out.first() else {
            return Err(argument_error("grad(f)(*args): f returned no output"));
        };
        if has_aux && out.len() < 2 {
            return Err(argument_error(
                "grad_and_value(f)(*args): output of function f should be a tuple: (output, aux) if has_aux is True",
            ));
        }
        if y.numel() != 1 || y.dim() != 0 {
            return Err(argument_error(format!(
                "grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got tensor with {} dims. Maybe you wanted to use the vjp or jacrev APIs instead?",
                y.dim()
            )));
        }
        let seed = Tensor::full_with(&[], 1.0, y.dtype());
        let mut r = grads_of(std::slice::from_ref(y), &xs, vec![seed])?;
        if value {
            r.push(y.clone());
        }
        if has_aux {
            r.extend(out[1..].iter().cloned());
        }
        Ok(r)
    })
}

/// The gradient of `f`'s scalar output with respect to its first argument
/// (`torch.func.grad(f)`). See [`grad_with`] for `argnums` and `has_aux`.
///
/// ```
/// use ferrograd::func::{self, Func};
/// use ferrograd::Tensor;
/// let f = Func::scalar(|a| a[0].sin());
/// let d3 = func::grad(&func::grad(&func::grad(&f))); // -cos
/// assert_eq!(d3.call(&[Tensor::scalar(0.0)]).unwrap()[0].item(), -1.0);
/// ```
pub fn grad(f: &Func) -> Func {
    grad_with(f, &[0], false)
}

/// [`grad`] with respect to the arguments `argnums` (one gradient each, in order), and with
/// `has_aux`: `f` returns the scalar first and auxiliary outputs after it, which follow the
/// gradients unchanged.
///
/// ```
/// use ferrograd::func::{self, Func};
/// use ferrograd::Tensor;
/// let f = Func::new(|a| Ok(vec![(&a[0] * &a[1]).sum(), a[0].clone()]));
/// let g = func::grad_with(&f, &[0, 1], true);
/// let r = g.call(&[Tensor::new([2.0]), Tensor::new([3.0])]).unwrap();
/// assert_eq!((r[0].item(), r[1].item(), r[2].item()), (3.0, 2.0, 2.0)); // d/da, d/db, aux
/// ```
pub fn grad_with(f: &Func, argnums: &[usize], has_aux: bool) -> Func {
    grad_impl(f, argnums, has_aux, false)
}

/// The gradient and the value (`torch.func.grad_and_value`): the outputs are the gradient,
/// then the value.
///
/// ```
/// use ferrograd::func::{self, Func};
/// use ferrograd::Tensor;
/// let f = Func::scalar(|a| a[0].pow(2.0));
/// let r = func::grad_and_value(&f).call(&[Tensor::scalar(3.0)]).unwrap();
/// assert_eq!((r[0].item(), r[1].item()), (6.0, 9.0));
/// ```
pub fn grad_and_value(f: &Func) -> Func {
    grad_and_value_with(f, &[0], false)
}

/// [`grad_and_value`] with `argnums` and `has_aux` (outputs: the gradients, the value, the
/// auxiliary outputs).
///
/// ```
/// use ferrograd::func::{self, Func};
/// use ferrograd::Tensor;
/// let f = Func::scalar(|a| &a[0] * &a[1]);
/// let r = func::grad_and_value_with(&f, &[1], false).call(&[Tensor::scalar(2.0), Tensor::scalar(5.0)]).unwrap();
/// assert_eq!((r[0].item(), r[1].item()), (2.0, 10.0));
/// ```
pub fn grad_and_value_with(f: &Func, argnums: &[usize], has_aux: bool) -> Func {
    grad_impl(f, argnums, has_aux, true)
}

/// `f`'s outputs at `primals` and its vector-Jacobian product function (`torch.func.vjp`):
/// the function takes one cotangent per output and returns one gradient per primal.
///
/// ```
/// use ferrograd::func::{self, Func};
/// use ferrograd::Tensor;
/// let f = Func::scalar(|a| a[0].pow(2.0));
/// let (y, vjp_fn) = func::vjp(&f, &[Tensor::new([1.0, 2.0])]).unwrap();
/// assert_eq!(y[0].to_vec::<f32>(), vec![1.0, 4.0]);
/// let g = vjp_fn.call(&[Tensor::new([1.0, 1.0])]).unwrap();
/// assert_eq!(g[0].to_vec::<f32>(), vec![2.0, 4.0]);
/// ```
pub fn vjp(f: &Func, primals: &[Tensor]) -> Result<(Vec<Tensor>, Func)> {
    // As a transform's call: differentiates under any grad mode (see `Func::call`).
    let detach = outermost(primals) || !crate::is_grad_enabled();
    let _enabled = crate::enable_grad();
    let argnums: Vec<usize> = (0..primals.len()).collect();
    let (a, xs) = with_fresh(primals, &argnums)?;
    let ys = f.call(&a)?;
    let (outs, shapes) = (
        ys.clone(),
        ys.iter().map(|y| y.shape_vec()).collect::<Vec<_>>(),
    );
    let vjp_fn = Func::transform(move |ct| {
        if ct.len() != outs.len() {
            return Err(argument_error(format!(
                "vjp: Expected {} cotangents (one per output), got {}",
                outs.len(),
                ct.len()
            )));
        }
        for (i, (c, s)) in ct.iter().zip(&shapes).enumerate() {
            if c.shape() != s.as_slice() {
                return Err(argument_error(format!(
                    "vjp: Expected cotangent {i} to have shape {:?} (the output's), got {:?}",
                    s.as_slice(),
                    c.shape()
                )));
            }
        }
        grads_of(&outs, &xs, ct.to_vec())
    });
    Ok((cut(ys, detach), vjp_fn))
}

/// `f`'s outputs at `primals` and its Jacobian-vector product with `tangents`
/// (`torch.func.jvp`): one tangent per primal in, one per output out.
///
/// ```
/// use ferrograd::func::{self, Func};
/// use ferrograd::Tensor;
/// let f = Func::scalar(|a| a[0].exp());
/// let (y, t) = func::jvp(&f, &[Tensor::scalar(0.0)], &[Tensor::scalar(2.0)]).unwrap();
/// assert_eq!((y[0].item(), t[0].item()), (1.0, 2.0));
/// ```
pub fn jvp(
    f: &Func,
    primals: &[Tensor],
    tangents: &[Tensor],
) -> Result<(Vec<Tensor>, Vec<Tensor>)> {
    if primals.len() != tangents.len() {
        return Err(argument_error(format!(
            "jvp(f, primals, tangents): Expected primals and tangents to have the same length, got {} and {}",
            primals.len(),
            tangents.len()
        )));
    }
    for (i, (p, t)) in primals.iter().zip(tangents).enumerate() {
        if p.shape() != t.shape() {
            return Err(argument_error(format!(
                "jvp(f, primals, tangents): Expected primals[{i}] and tangents[{i}] to have the same shape, got {:?} and {:?}",
                p.shape(),
                t.shape()
            )));
        }
    }
    let detach = (outermost(primals) && !tangents.iter().any(Tensor::requires_grad))
        || !crate::is_grad_enabled();
    let _enabled = crate::enable_grad();
    let argnums: Vec<usize> = (0..primals.len()).collect();
    let (a, xs) = with_fresh(primals, &argnums)?;
    let ys = f.call(&a)?;
    // J v = d/du <J^T u, v>: the vjp is linear in its cotangent u, a fresh leaf.
    let us: Vec<Tensor> = ys
        .iter()
        .map(|y| y.zeros_like().requires_grad_(y.dtype().is_floating_point()))
        .collect();
    let jtu = grads_of(&ys, &xs, us.clone())?;
    let tangents: Vec<Tensor> = tangents
        .iter()
        .zip(&xs)
        .map(|(t, x)| t.to_dtype(x.dtype()))
        .collect();
    let jv = grads_of(&jtu, &us, tangents)?;
    Ok((cut(ys, detach), cut(jv, detach)))
}

/// `f` as a function of its arguments at `argnums` only, the others fixed to `args`'.
fn partial(f: &Func, args: &[Tensor], argnums: &[usize]) -> Func {
    let (f, fixed, nums) = (f.clone(), args.to_vec(), argnums.to_vec());
    Func::new(move |xs| {
        let mut a = fixed.clone();
        for (&i, x) in nums.iter().zip(xs) {
            a[i] = x.clone();
        }
        f.call(&a)
    })
}

/// The Jacobian of `f` by reverse mode (`torch.func.jacrev`), with respect to the first
/// argument: for each output, a tensor of shape `output.shape + input.shape`. One `vjp`, and
/// a `vmap` of its function over the basis of the output space.
///
/// ```
/// use ferrograd::func::{self, Func};
/// use ferrograd::Tensor;
/// let f = Func::scalar(|a| a[0].pow(2.0));
/// let j = func::jacrev(&f).call(&[Tensor::new([1.0, 2.0])]).unwrap();
/// assert_eq!(j[0].to_vec::<f32>(), vec![2.0, 0.0, 0.0, 4.0]);
/// ```
pub fn jacrev(f: &Func) -> Func {
    jacrev_with(f, &[0])
}

/// [`jacrev`] with respect to the arguments `argnums`: the outputs are, for each output of
/// `f` in order, one Jacobian per argument in `argnums`.
///
/// ```
/// use ferrograd::func::{self, Func};
/// use ferrograd::Tensor;
/// let f = Func::scalar(|a| &a[0] * &a[1]);
/// let j = func::jacrev_with(&f, &[0, 1]).call(&[Tensor::scalar(2.0), Tensor::scalar(3.0)]).unwrap();
/// assert_eq!((j[0].item(), j[1].item()), (3.0, 2.0));
/// ```
pub fn jacrev_with(f: &Func, argnums: &[usize]) -> Func {
    let (f, argnums) = (f.clone(), argnums.to_vec());
    Func::transform(move |args| {
        check_argnums("jacrev", &argnums, args.len())?;
        let sub = partial(&f, args, &argnums);
        let primals: Vec<Tensor> = argnums.iter().map(|&i| args[i].clone()).collect();
        let (ys, vjp_fn) = vjp(&sub, &primals)?;
        let mut jac = Vec::with_capacity(ys.len() * primals.len());
        for (i, y) in ys.iter().enumerate() {
            let n = y.numel();
            // Row k of the Jacobian is the vjp of the k-th basis cotangent (zeros elsewhere).
            let basis = Tensor::eye_with(n, y.dtype()).reshape(&[&[n][..], y.shape()].concat());
            let (ys2, vf) = (ys.clone(), vjp_fn.clone());
            let row = Func::new(move |c| {
                let ct: Vec<Tensor> = ys2
                    .iter()
                    .enumerate()
                    .map(|(k, o)| if k == i { c[0].clone() } else { o.zeros_like() })
                    .collect();
                vf.call(&ct)
            });
            let rows = vmap(&row).call(&[basis])?;
            for (r, p) in rows.iter().zip(&primals) {
                jac.push(r.reshape(&[y.shape(), p.shape()].concat()));
            }
        }
        Ok(jac)
    })
}

/// The Jacobian of `f` by forward mode (`torch.func.jacfwd`), with respect to the first
/// argument: [`jvp`] mapped with `vmap` over the basis of the input space. The outputs are as
/// [`jacrev`]'s.
///
/// ```
/// use ferrograd::func::{self, Func};
/// use ferrograd::Tensor;
/// let f = Func::scalar(|a| a[0].sin());
/// let j = func::jacfwd(&f).call(&[Tensor::new([0.0, 0.0])]).unwrap();
/// assert_eq!(j[0].to_vec::<f32>(), vec![1.0, 0.0, 0.0, 1.0]);
/// ```
pub fn jacfwd(f: &Func) -> Func {
    jacfwd_with(f, &[0])
}

/// [`jacfwd`] with respect to the arguments `argnums` (outputs as [`jacrev_with`]'s).
///
/// ```
/// use ferrograd::func::{self, Func};
/// use ferrograd::Tensor;
/// let f = Func::scalar(|a| &a[0] * &a[1]);
/// let j = func::jacfwd_with(&f, &[1]).call(&[Tensor::scalar(2.0), Tensor::scalar(3.0)]).unwrap();
/// assert_eq!(j[0].item(), 2.0);
/// ```
pub fn jacfwd_with(f: &Func, argnums: &[usize]) -> Func {
    let (f, argnums) = (f.clone(), argnums.to_vec());
    Func::transform(move |args| {
        check_argnums("jacfwd", &argnums, args.len())?;
        let primals: Vec<Tensor> = argnums.iter().map(|&i| args[i].clone()).collect();
        let sizes: Vec<usize> = primals.iter().map(Tensor::numel).collect();
        let total: usize = sizes.iter().sum();
        let dtype = primals[0].dtype();
        // One basis direction per input element, over all differentiated arguments.
        let basis = Tensor::eye_with(total, dtype);
        let sub = partial(&f, args, &argnums);
        let (ps, sizes2) = (primals.clone(), sizes.clone());
        let column = Func::new(move |e| {
            let mut tangents = Vec::with_capacity(ps.len());
            let mut at = 0;
            for (p, &n) in ps.iter().zip(&sizes2) {
                let t = e[0].narrow(0, at, n).reshape(p.shape());
                tangents.push(t.to_dtype(p.dtype()));
                at += n;
            }
            Ok(jvp(&sub, &ps, &tangents)?.1)
        });
        // Columns come out batched first: move the input dims to the end.
        let cols = vmap(&column).call(&[basis])?;
        let mut jac = Vec::with_capacity(cols.len() * primals.len());
        for c in &cols {
            let out_shape = c.shape()[1..].to_vec();
            let k = out_shape.len();
            let mut perm: Vec<isize> = (1..=k as isize).collect();
            perm.push(0);
            let c = c.permute(&perm); // [out.., total]
            let mut at = 0;
            for (p, &n) in primals.iter().zip(&sizes) {
                let part = c.narrow(k as isize, at, n);
                jac.push(part.reshape(&[&out_shape[..], p.shape()].concat()));
                at += n;
            }
        }
        Ok(jac)
    })
}

/// The Hessian of `f`'s scalar output (`torch.func.hessian`): `jacfwd(jacrev(f))`, with
/// respect to the first argument.
///
/// ```
/// use ferrograd::func::{self, Func};
/// use ferrograd::Tensor;
/// let f = Func::scalar(|a| (&a[0].pow(2.0) * &a[0].select(0, 0)).sum()); // x0 * |x|^2
/// let h = func::hessian(&f).call(&[Tensor::new([1.0, 2.0])]).unwrap();
/// assert_eq!(h[0].to_vec::<f32>(), vec![6.0, 4.0, 4.0, 2.0]);
/// ```
pub fn hessian(f: &Func) -> Func {
    hessian_with(f, &[0])
}

/// [`hessian`] with respect to the arguments `argnums`: `jacfwd(jacrev(f, argnums), argnums)`,
/// the blocks in row-major order.
///
/// ```
/// use ferrograd::func::{self, Func};
/// use ferrograd::Tensor;
/// let f = Func::scalar(|a| &a[0] * &a[1]);
/// let h = func::hessian_with(&f, &[0, 1]).call(&[Tensor::scalar(2.0), Tensor::scalar(3.0)]).unwrap();
/// let v: Vec<f64> = h.iter().map(|t| t.item()).collect();
/// assert_eq!(v, vec![0.0, 1.0, 1.0, 0.0]);
/// ```
pub fn hessian_with(f: &Func, argnums: &[usize]) -> Func {
    jacfwd_with(&jacrev_with(f, argnums), argnums)
}

/// Options of [`vmap_with`] (torch.func.vmap's keyword arguments).
#[derive(Clone, Debug)]
pub struct VmapOptions {
    /// For each argument, the dim it is mapped over, or `None` (not mapped). Empty: dim 0 for
    /// every argument.
    pub in_dims: Vec<Option<isize>>,
    /// For each output, where its batch dim goes (one entry: the same for all). Empty: 0.
    pub out_dims: Vec<isize>,
    /// What random operations do inside (default: an error).
    pub randomness: Randomness,
    /// Run the batch in chunks of at most this many members (`None`: all at once).
    pub chunk_size: Option<usize>,
}

impl Default for VmapOptions {
    fn default() -> Self {
        VmapOptions {
            in_dims: Vec::new(),
            out_dims: Vec::new(),
            randomness: Randomness::Error,
            chunk_size: None,
        }
    }
}

impl VmapOptions {
    /// Options with these `in_dims`, the rest default.
    ///
    /// ```
    /// let o = ferrograd::func::VmapOptions::in_dims(&[Some(1), None]);
    /// assert_eq!(o.in_dims.len(), 2);
    /// ```
    pub fn in_dims(in_dims: &[Option<isize>]) -> VmapOptions {
        VmapOptions {
            in_dims: in_dims.to_vec(),
            ..VmapOptions::default()
        }
    }
}

/// `f` mapped over dim 0 of every argument (`torch.func.vmap(f)`): each primitive runs once
/// on the whole batch. See [`vmap_with`] for the options.
///
/// ```
/// use ferrograd::func::{self, Func};
/// use ferrograd::Tensor;
/// let dot = Func::scalar(|a| (&a[0] * &a[1]).sum());
/// let xs = Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
/// let d = func::vmap(&dot).call(&[xs.clone(), xs]).unwrap();
/// assert_eq!(d[0].to_vec::<f32>(), vec![5.0, 25.0]);
/// ```
pub fn vmap(f: &Func) -> Func {
    vmap_with(f, VmapOptions::default())
}

/// [`vmap`] with `in_dims`, `out_dims`, `randomness` and `chunk_size`.
///
/// ```
/// use ferrograd::func::{self, Func, VmapOptions};
/// use ferrograd::Tensor;
/// let f = Func::scalar(|a| &a[0] * &a[1]);
/// let o = VmapOptions { out_dims: vec![1], ..VmapOptions::in_dims(&[Some(0), None]) };
/// let y = func::vmap_with(&f, o).call(&[Tensor::new([1.0, 2.0]), Tensor::new([1.0, 10.0])]).unwrap();
/// assert_eq!(y[0].to_vec::<f32>(), vec![1.0, 2.0, 10.0, 20.0]); // [[1, 2], [10, 20]]
/// ```
pub fn vmap_with(f: &Func, options: VmapOptions) -> Func {
    let f = f.clone();
    Func::transform(move |args| vmap_call(&f, &options, args))
}

fn vmap_call(f: &Func, o: &VmapOptions, args: &[Tensor]) -> Result<Vec<Tensor>> {
    let in_dims: Vec<Option<isize>> = match o.in_dims.is_empty() {
        true => vec![Some(0); args.len()],
        false => o.in_dims.clone(),
    };
    if in_dims.len() != args.len() {
        return Err(argument_error(format!(
            "vmap(f, in_dims={:?}, ...)(<inputs>): in_dims is not compatible with the structure of `inputs`. in_dims has structure with {} entries but inputs has {} arguments.",
            in_dims,
            in_dims.len(),
            args.len()
        )));
    }
    let mut size = None;
    let mut dims = Vec::with_capacity(args.len());
    for (i, (a, d)) in args.iter().zip(&in_dims).enumerate() {
        let Some(d) = *d else {
            dims.push(None);
            continue;
        };
        let n = a.dim() as isize;
        if d < -n || d >= n {
            return Err(argument_error(format!(
                "vmap(f, in_dims={in_dims:?}, ...)(<inputs>): Got in_dim={d} for an input but the input is of type Tensor with {n} dims. We cannot vmap over dim {d} of input {i}: it has no such dimension."
            )));
        }
        let d = if d < 0 { d + n } else { d } as usize;
        let b = a.shape()[d];
        if size.is_some_and(|s| s != b) {
            let sizes: Vec<usize> = args
                .iter()
                .zip(&in_dims)
                .filter_map(|(a, d)| {
                    d.map(|d| {
                        a.shape()[crate::layout::normalize_dim("vmap", d, a.dim()).unwrap_or(0)]
                    })
                })
                .collect();
            return Err(argument_error(format!(
                "vmap: Expected all tensors to have the same size in the mapped dimension, got sizes {sizes:?} for the mapped dimension"
            )));
        }
        size = Some(b);
        dims.push(Some(d));
    }
    let Some(b) = size else {
        return Err(argument_error(format!(
            "vmap(f, in_dims={in_dims:?}, ...)(<inputs>): at least one input must be mapped over (got in_dims={in_dims:?}); vmap needs a batch to map."
        )));
    };
    // The batch first, as every batched value keeps it.
    let moved: Vec<Tensor> = args
        .iter()
        .zip(&dims)
        .map(|(a, d)| match *d {
            Some(d) if d != 0 => movedim(a, d, 0),
            _ => a.clone(),
        })
        .collect();
    let chunk = o.chunk_size.filter(|&c| c > 0 && c < b);
    if let Some(0) = o.chunk_size {
        return Err(argument_error(
            "vmap: chunk_size should be None or greater than 0. (got 0)",
        ));
    }
    let outs = match chunk {
        None => run_level(f, o, &moved, &dims, b)?,
        Some(c) => {
            let mut parts: Vec<Vec<Tensor>> = Vec::new();
            let mut at = 0;
            while at < b {
                let n = c.min(b - at);
                let piece: Vec<Tensor> = moved
                    .iter()
                    .zip(&dims)
                    .map(|(a, d)| match d {
                        Some(_) => a.narrow(0, at, n),
                        None => a.clone(),
                    })
                    .collect();
                parts.push(run_level(f, o, &piece, &dims, n)?);
                at += n;
            }
            (0..parts[0].len())
                .map(|k| {
                    let ts: Vec<Tensor> = parts.iter().map(|p| p[k].clone()).collect();
                    Tensor::try_cat(&ts, 0)
                })
                .collect::<Result<Vec<_>>>()?
        }
    };
    outs.into_iter()
        .enumerate()
        .map(|(k, y)| {
            let d = match o.out_dims.len() {
                0 => 0,
                1 => o.out_dims[0],
                _ => *o.out_dims.get(k).ok_or_else(|| {
                    argument_error(format!(
                        "vmap(f, ..., out_dims={:?})(<inputs>): out_dims is not compatible with the structure of `outputs`. out_dims has {} entries but outputs has {} entries",
                        o.out_dims,
                        o.out_dims.len(),
                        k + 1
                    ))
                })?,
            };
            let n = y.dim() as isize;
            if d < -n || d >= n {
                return Err(argument_error(format!(
                    "vmap: out_dim {d} is out of range for an output with {} logical dims",
                    n - 1
                )));
            }
            let d = if d < 0 { d + n } else { d } as usize;
            Ok(if d == 0 { y } else { movedim(&y, 0, d) })
        })
        .collect()
}

/// One vmap level: wraps the mapped arguments (batch at 0), runs `f`, unwraps the outputs
/// (batch at 0; an output that does not depend on the batch is repeated).
fn run_level(
    f: &Func,
    o: &VmapOptions,
    args: &[Tensor],
    dims: &[Option<usize>],
    b: usize,
) -> Result<Vec<Tensor>> {
    let level = batching::new_level();
    let wrapped: Vec<Tensor> = args
        .iter()
        .zip(dims)
        .map(|(a, d)| match d {
            Some(_) => to_level(a, level),
            None => a.clone(),
        })
        .collect();
    let outs = batching::with_level(level, b, o.randomness, || f.call(&wrapped))?;
    Ok(outs.iter().map(|y| from_level(y, level, b)).collect())
}
