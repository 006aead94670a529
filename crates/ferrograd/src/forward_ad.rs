//! Forward-mode automatic differentiation (`torch.autograd.forward_ad`): dual tensors carry a
//! tangent next to their value, and every operation computes its output's tangent with its
//! JVP rule as it runs, so a Jacobian-vector product costs one forward pass.
//!
//! ```
//! use ferrograd::{forward_ad, DType, Tensor};
//! let _level = forward_ad::dual_level();
//! let x = Tensor::from_data([0.5, 1.0], DType::F64);
//! let x = forward_ad::make_dual(&x, &Tensor::from_data([1.0, 0.0], DType::F64));
//! let y = x.sin().mul(&x);                          // x sin x
//! let (_, dy) = forward_ad::unpack_dual(&y);
//! let dy = dy.unwrap().to_vec::<f64>();              // d/dx (x sin x) = sin x + x cos x
//! assert!((dy[0] - (0.5f64.sin() + 0.5 * 0.5f64.cos())).abs() < 1e-15);
//! assert_eq!(dy[1], 0.0);
//! ```
//!
//! ## How it works
//! - [`dual_level`] opens a level (one at a time per thread, as in PyTorch); tangents belong to
//!   the level they were made in and are ignored after it closes (the memory is freed with the
//!   tensor).
//! - Each primitive's JVP rule sits next to its forward and backward rules (`record` in the op's
//!   module) and is written with the same differentiable tensor ops, so tangents are themselves
//!   differentiable in reverse mode (reverse-over-forward), and backward rules run on dual
//!   tensors propagate tangents (forward-over-reverse: [`crate::functional::hvp`]).
//! - Elementwise ops derive their JVP from their backward rule (a diagonal Jacobian is its own
//!   transpose), linear ops apply themselves to the tangent, bilinear ones use the product rule.
//! - [`make_dual_batched`] attaches many tangents at once (a leading batch dimension): every rule
//!   handles the batch, so a whole Jacobian comes out of one pass
//!   ([`crate::functional::jacobian`] uses it for both columns and rows).
//! - The one place that broadcasts a rule's result to the output's shape (and casts its dtype)
//!   is here, as the engine is the one place that sums broadcast gradients.

use crate::error::{Error, Result};
use crate::layout::IndexMap;
use crate::tensor::Tensor;
use smallvec::SmallVec;
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub(crate) use crate::graph::Tangent;

impl Tangent {
    pub(crate) fn new(level: u64, value: Tensor) -> Tangent {
        Tangent {
            level,
            value,
            weak_fn: None,
        }
    }

    /// The copy a node keeps with its saved output: no strong reference to the tangent's
    /// reverse-mode graph, which may lead back to that node (a cycle never freed).
    pub(crate) fn for_saved_output(&self) -> Tangent {
        match self.value.history() {
            Some(node) => Tangent {
                level: self.level,
                value: self.value.detach(),
                weak_fn: Some(Arc::downgrade(&node)),
            },
            None => self.clone(),
        }
    }

    /// The tangent for a backward rule: with its reverse-mode graph again when that graph is
    /// still alive (it is while the forward's dual outputs are), so rules run with
    /// `create_graph` stay differentiable through it.
    pub(crate) fn for_backward(&self) -> Tangent {
        match self.weak_fn.as_ref().and_then(|w| w.upgrade()) {
            Some(node) => Tangent::new(self.level, self.value.with_grad_fn(Some(node))),
            None => self.clone(),
        }
    }
}

static NEXT_LEVEL: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The level whose tangents operations propagate (0: none, or suspended).
    static LEVEL: Cell<u64> = const { Cell::new(0) };
    /// The open level, even while suspended (0: none).
    static OPEN: Cell<u64> = const { Cell::new(0) };
    /// The batch size of the open level's batched tangents (0: none made yet).
    static BATCH: Cell<usize> = const { Cell::new(0) };
}

/// An open dual level; closing it (dropping the guard) ends forward mode on this thread.
///
/// ```
/// use ferrograd::forward_ad;
/// {
///     let _level = forward_ad::dual_level();
///     assert!(forward_ad::is_enabled());
/// }
/// assert!(!forward_ad::is_enabled());
/// ```
#[must_use = "the level closes as soon as the guard is dropped"]
pub struct DualLevel {
    id: u64,
    // Levels are per thread: the guard must be dropped on the thread that made it.
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for DualLevel {
    fn drop(&mut self) {
        if OPEN.with(|o| o.get()) == self.id {
            OPEN.with(|o| o.set(0));
            LEVEL.with(|l| l.set(0));
            BATCH.with(|b| b.set(0));
        }
    }
}

api! {
    mod {
        /// Opens a dual level (`with fwAD.dual_level():`).
        ///
        /// ```
        /// let _level = ferrograd::forward_ad::dual_level();
        /// ```
        ///
        /// ```
        /// use ferrograd::forward_ad;
        /// let _outer = forward_ad::dual_level();
        /// let e = forward_ad::try_dual_level().err().unwrap();
        /// assert!(e.to_string().contains("Nested forward mode AD is not supported"));
        /// ```
        pub fn dual_level / try_dual_level() -> DualLevel {
            if OPEN.with(|o| o.get()) != 0 {
                return Err(Error::invalid(
                    "dual_level",
                    "Nested forward mode AD is not supported at the moment",
                ));
            }
            let id = NEXT_LEVEL.fetch_add(1, Ordering::Relaxed);
            OPEN.with(|o| o.set(id));
            LEVEL.with(|l| l.set(id));
            Ok(DualLevel {
                id,
                _not_send: std::marker::PhantomData,
            })
        }

        /// A dual tensor: `primal`'s value with `tangent` attached (`fwAD.make_dual`). The result is
        /// a view of `primal`, differentiable with respect to it in reverse mode.
        ///
        /// ```
        /// use ferrograd::{forward_ad, Tensor};
        /// let _level = forward_ad::dual_level();
        /// let x = forward_ad::make_dual(&Tensor::new([1.0, 2.0]), &Tensor::new([1.0, 1.0]));
        /// let (_, t) = forward_ad::unpack_dual(&(&x * &x));
        /// assert_eq!(t.unwrap().to_vec::<f32>(), vec![2.0, 4.0]);
        /// ```
        ///
        /// ```
        /// use ferrograd::{forward_ad, Tensor};
        /// let e = forward_ad::try_make_dual(&Tensor::new([1.0]), &Tensor::new([1.0])).unwrap_err();
        /// assert!(e.to_string().contains("no level exists"));
        /// let _level = forward_ad::dual_level();
        /// let e = forward_ad::try_make_dual(&Tensor::new([1.0, 2.0]), &Tensor::new([1.0])).unwrap_err();
        /// assert!(e.to_string().contains("Tensor is of size [2] while the given forward gradient is of size [1]"));
        /// ```
        pub fn make_dual / try_make_dual(primal: &Tensor, tangent: &Tensor) -> Tensor {
            if tangent.shape() != primal.shape() {
                check_level("make_dual")?;
                return Err(Error::invalid(
                    "make_dual",
                    format!(
                        "Trying to set a forward gradient that has a different size than that of the original Tensor, this is not supported. Tensor is of size {:?} while the given forward gradient is of size {:?}.",
                        primal.shape(),
                        tangent.shape()
                    ),
                ));
            }
            attach("make_dual", primal, tangent)
        }

        /// A dual tensor carrying `B` tangents at once: `tangents` has shape `[B, ..primal.shape]`.
        /// Every operation maps all `B` tangents in the same pass (a vectorized JVP); one level holds
        /// one batch size.
        ///
        /// ```
        /// use ferrograd::{forward_ad, Tensor};
        /// let _level = forward_ad::dual_level();
        /// let x = forward_ad::make_dual_batched(&Tensor::new([1.0, 2.0]), &Tensor::eye(2));
        /// let (_, j) = forward_ad::unpack_dual(&x.pow(2.0));
        /// assert_eq!(j.unwrap().to_vec::<f32>(), vec![2.0, 0.0, 0.0, 4.0]); // the Jacobian's columns
        /// ```
        ///
        /// ```
        /// use ferrograd::{forward_ad, Tensor};
        /// let _level = forward_ad::dual_level();
        /// let _x = forward_ad::make_dual_batched(&Tensor::new([1.0]), &Tensor::ones(&[3, 1]));
        /// let e = forward_ad::try_make_dual_batched(&Tensor::new([1.0]), &Tensor::ones(&[2, 1]));
        /// assert!(e.unwrap_err().to_string().contains("batch size 2"));
        /// ```
        pub fn make_dual_batched / try_make_dual_batched(primal: &Tensor, tangents: &Tensor) -> Tensor {
            check_level("make_dual_batched")?;
            if tangents.dim() != primal.dim() + 1 || tangents.shape()[1..] != *primal.shape() {
                return Err(Error::invalid(
                    "make_dual_batched",
                    format!(
                        "tangents of shape {:?} are not a batch of tangents for a primal of shape {:?} (expected [B, {}])",
                        tangents.shape(),
                        primal.shape(),
                        primal.shape().iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            let b = tangents.shape()[0];
            let level_batch = BATCH.with(|c| c.get());
            if level_batch != 0 && level_batch != b {
                return Err(Error::invalid(
                    "make_dual_batched",
                    format!("this dual level holds batches of {level_batch} tangents; got batch size {b}"),
                ));
            }
            let out = attach("make_dual_batched", primal, tangents)?;
            BATCH.with(|c| c.set(b));
            Ok(out)
        }
    }
}

/// Whether a dual level is open on this thread (operations propagate tangents).
///
/// ```
/// assert!(!ferrograd::forward_ad::is_enabled());
/// ```
pub fn is_enabled() -> bool {
    OPEN.with(|o| o.get()) != 0
}

/// Whether operations propagate tangents right now (a level is open and not suspended).
#[inline]
pub(crate) fn active() -> bool {
    LEVEL.with(|l| l.get()) != 0
}

/// Runs `f` with tangent propagation off (rules computing a tangent, custom forwards).
pub(crate) fn suspended<R>(f: impl FnOnce() -> R) -> R {
    at_level(0, f)
}

/// Runs `f` propagating the tangents of `level` (0: none), restoring the level after.
fn at_level<R>(level: u64, f: impl FnOnce() -> R) -> R {
    struct Restore(u64);
    impl Drop for Restore {
        fn drop(&mut self) {
            LEVEL.with(|l| l.set(self.0));
        }
    }
    let _restore = Restore(LEVEL.with(|l| l.replace(level)));
    f()
}

/// The tangent of `t` at the active level.
pub(crate) fn tangent(t: &Tensor) -> Option<&Tensor> {
    let level = LEVEL.with(|l| l.get());
    if level == 0 {
        return None;
    }
    t.0.tangent
        .as_ref()
        .filter(|tg| tg.level == level)
        .map(|tg| &tg.value)
}

fn check_level(op: &'static str) -> Result<u64> {
    match OPEN.with(|o| o.get()) {
        0 => Err(Error::invalid(
            op,
            "Trying to create a dual Tensor for forward AD but no level exists, make sure to enter_dual_level() first.",
        )),
        level => Ok(level),
    }
}

fn attach(op: &'static str, primal: &Tensor, tangent: &Tensor) -> Result<Tensor> {
    let level = check_level(op)?;
    if !primal.dtype().is_floating_point() {
        return Err(Error::invalid(
            op,
            format!(
                "Expected primal to be floating point, but got {}",
                primal.dtype()
            ),
        ));
    }
    if primal.0.tangent.as_ref().is_some_and(|t| t.level == level) {
        return Err(Error::invalid(
            op,
            "the primal already has a tangent at this level (forward_ad::unpack_dual(t).0 is the primal without it)",
        ));
    }
    let value = suspended(|| tangent.to_dtype(primal.dtype()));
    let mut out = alias("MakeDualBackward0", primal);
    let inner = Arc::get_mut(&mut out.0).expect("a fresh alias");
    inner.tangent = Some(Box::new(Tangent::new(level, value)));
    Ok(out)
}

/// A view of `t` differentiable with respect to it in reverse mode, without a tangent.
fn alias(name: &'static str, t: &Tensor) -> Tensor {
    suspended(|| {
        crate::autograd::record(
            name,
            t.with_grad_fn(None),
            &[t],
            |_, _| |a| smallvec::smallvec![Some(a.grad.clone())],
            |_| unreachable!("forward mode is suspended"),
        )
    })
}

/// The tangent of `f(primals)` for `tangents`, computed by running `f` on dual views of the
/// primals at the open level (even from inside a rule, where propagation is suspended). The
/// views are differentiable with respect to the primals in reverse mode.
pub(crate) fn jvp_through(
    f: impl Fn(&[Tensor]) -> Tensor,
    primals: &[Tensor],
    tangents: &[Option<Tensor>],
) -> Tensor {
    let level = OPEN.with(|o| o.get());
    at_level(level, || {
        let xs: Vec<Tensor> = primals
            .iter()
            .zip(tangents)
            .map(|(x, t)| {
                let mut a = alias("AliasBackward0", x);
                if let Some(t) = t.as_ref().filter(|_| x.dtype().is_floating_point()) {
                    let value = suspended(|| t.to_dtype(x.dtype()));
                    Arc::get_mut(&mut a.0).expect("a fresh alias").tangent =
                        Some(Box::new(Tangent::new(level, value)));
                }
                a
            })
            .collect();
        let y = f(&xs);
        let t = tangent(&y).cloned();
        t.unwrap_or_else(|| suspended(|| y.zeros_like().detach()))
    })
}

/// The primal and the tangent (at the open level) of a dual tensor (`fwAD.unpack_dual`). The
/// primal is a view, differentiable in reverse mode; a batched tangent has the batch first.
///
/// ```
/// use ferrograd::{forward_ad, Tensor};
/// let _level = forward_ad::dual_level();
/// let x = forward_ad::make_dual(&Tensor::new([3.0]), &Tensor::new([1.0]));
/// let (p, t) = forward_ad::unpack_dual(&x.exp());
/// assert_eq!(p.to_vec::<f32>(), t.unwrap().to_vec::<f32>()); // d/dx exp = exp
/// assert!(forward_ad::unpack_dual(&Tensor::new([1.0])).1.is_none());
/// ```
pub fn unpack_dual(t: &Tensor) -> (Tensor, Option<Tensor>) {
    let level = OPEN.with(|o| o.get());
    let tangent =
        t.0.tangent
            .as_ref()
            .filter(|tg| level != 0 && tg.level == level)
            .map(|tg| tg.value.clone());
    match tangent {
        None => (t.clone(), None),
        Some(tg) => (alias("AliasBackward0", t), Some(tg)),
    }
}

impl Tensor {
    /// This tensor's forward-mode tangent at the open dual level, if it has one (a batched
    /// tangent has the batch first). See [`crate::forward_ad`].
    ///
    /// ```
    /// use ferrograd::{forward_ad, Tensor};
    /// let _level = forward_ad::dual_level();
    /// let x = forward_ad::make_dual(&Tensor::new([2.0]), &Tensor::new([1.0]));
    /// assert_eq!(x.pow(3.0).tangent().unwrap().to_vec::<f32>(), vec![12.0]);
    /// ```
    pub fn tangent(&self) -> Option<Tensor> {
        unpack_dual(self).1
    }
}

/// What a JVP rule sees: the op's inputs (primals), their tangents (`None`: zero), and the
/// output. With a batch, tangents have one more leading dimension than their primals.
pub(crate) struct Jvp<'a> {
    inputs: &'a [&'a Tensor],
    tangents: SmallVec<[Option<Tensor>; 2]>,
    out: Tensor,
    batch: Option<usize>,
}

impl<'a> Jvp<'a> {
    /// A batch of `b` "tangents" for a linear primitive's rule to map: the physical values of
    /// batched inputs under vmap (a linear primitive's batched forward is its JVP rule; see
    /// [`crate::batching`]). The rule must not read `out`.
    pub(crate) fn batching(
        inputs: &'a [&'a Tensor],
        values: SmallVec<[Option<Tensor>; 2]>,
        b: usize,
    ) -> Jvp<'a> {
        Jvp {
            inputs,
            tangents: values,
            out: inputs[0].clone(),
            batch: Some(b),
        }
    }

    /// The tangent of input `i`.
    pub(crate) fn t(&self, i: usize) -> Option<&Tensor> {
        self.tangents[i].as_ref()
    }

    /// Input `i` (its tangent is not propagated while a rule runs).
    pub(crate) fn x(&self, i: usize) -> &Tensor {
        self.inputs[i]
    }

    /// The op's output, differentiable in reverse mode through the op.
    pub(crate) fn out(&self) -> &Tensor {
        &self.out
    }

    /// How many leading batch dimensions tangents have (0 or 1).
    pub(crate) fn b(&self) -> usize {
        usize::from(self.batch.is_some())
    }

    /// Dimension `d` of a primal, as a dimension of its tangent.
    pub(crate) fn dim(&self, d: usize) -> isize {
        (d + self.b()) as isize
    }

    /// The dimensions `dims` (non-negative) of a primal, as dimensions of its tangent.
    pub(crate) fn dims(&self, dims: &[usize]) -> Vec<isize> {
        dims.iter().map(|&d| self.dim(d)).collect()
    }

    /// A primal shape as a tangent shape (the batch prepended).
    pub(crate) fn shape(&self, s: &[usize]) -> Vec<usize> {
        let mut v: Vec<usize> = self.batch.into_iter().collect();
        v.extend_from_slice(s);
        v
    }

    /// A tangent whose primal has fewer than `ndim` dimensions, with size-1 dimensions
    /// inserted after the batch, so that it broadcasts like its primal against `ndim`
    /// dimensions (unbatched tangents broadcast as they are).
    pub(crate) fn align(&self, t: &Tensor, ndim: usize) -> Tensor {
        match self.batch {
            Some(b) if t.dim() < ndim + 1 => {
                let mut s = vec![b];
                s.resize(ndim + 1 - (t.dim() - 1), 1);
                s.extend_from_slice(&t.shape()[1..]);
                t.reshape(&s)
            }
            _ => t.clone(),
        }
    }

    /// The sum of a tangent over all its primal's dimensions.
    pub(crate) fn sum_all(&self, t: &Tensor) -> Tensor {
        match self.batch {
            None => t.sum(),
            Some(b) => t.reshape(&[b, t.numel() / b.max(1)]).sum_dims(&[1], false),
        }
    }

    /// An index map over a primal's positions, as one over its tangent's (the batch passes).
    pub(crate) fn index_map(&self, map: &IndexMap) -> IndexMap {
        if self.batch.is_none() {
            return map.clone();
        }
        let map = map.clone();
        Arc::new(move |p: &[usize], s: &mut [usize]| {
            s[0] = p[0];
            map(&p[1..], &mut s[1..]);
        })
    }

    /// The sum of the present terms (zeros if none), at the output's tangent shape.
    pub(crate) fn sum(&self, terms: impl IntoIterator<Item = Option<Tensor>>) -> Tensor {
        terms
            .into_iter()
            .flatten()
            .reduce(|a, b| &a + &b)
            .unwrap_or_else(|| {
                Tensor::full_with(&self.shape(self.out.shape()), 0.0, self.out.dtype())
            })
    }
}

/// Computes the tangent of `out = op(inputs)` with `rule`, if any input has one at the
/// active level; the one place that broadcasts the result to the output's shape and dtype.
pub(crate) fn jvp_of(
    inputs: &[&Tensor],
    out: &Tensor,
    rule: impl FnOnce(&Jvp) -> Tensor,
) -> Option<Box<Tangent>> {
    let level = LEVEL.with(|l| l.get());
    let mut tangents: SmallVec<[Option<Tensor>; 2]> =
        inputs.iter().map(|t| tangent(t).cloned()).collect();
    if tangents.iter().all(Option::is_none) || !out.dtype().is_floating_point() {
        return None;
    }
    let b = BATCH.with(|c| c.get());
    let batched = b != 0
        && tangents
            .iter()
            .zip(inputs)
            .any(|(t, x)| t.as_ref().is_some_and(|t| t.dim() == x.dim() + 1));
    let value = suspended(|| {
        if batched {
            // An unbatched tangent is the same for every member of the batch.
            for (t, x) in tangents.iter_mut().zip(inputs) {
                if let Some(v) = t.as_mut().filter(|v| v.dim() == x.dim()) {
                    let mut s = vec![b];
                    s.extend_from_slice(x.shape());
                    *v = v.unsqueeze(0).expand(&s);
                }
            }
        }
        let j = Jvp {
            inputs,
            tangents,
            out: out.with_grad_fn(out.0.grad_fn.clone()),
            batch: batched.then_some(b),
        };
        let target = j.shape(out.shape());
        let mut r = rule(&j);
        if r.dtype() != out.dtype() {
            r = r.to_dtype(out.dtype());
        }
        if r.shape() != target.as_slice() {
            // Rules may return a tangent that broadcasts to the output (batch dims aligned).
            r = r.expand(&target);
        }
        r
    });
    Some(Box::new(Tangent::new(level, value)))
}
