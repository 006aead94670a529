//! Functional derivatives (`torch.autograd.functional`, `torch.func`, JAX): vector-Jacobian and
//! Jacobian-vector products, Jacobians, Hessians and their products, and the composable
//! transforms [`grad`] and [`value_and_grad`], which nest to any order.
//!
//! ```
//! use ferrograd::{functional, DType, Tensor};
//! // The third derivative of tanh, by composing `grad` three times.
//! let d3 = functional::grad(functional::grad(functional::grad(|x: &Tensor| x.tanh())));
//! let x = Tensor::from_data(0.5, DType::F64);
//! let t = 0.5f64.tanh();
//! assert!((d3(&x).item() - (1.0 - t * t) * (6.0 * t * t - 2.0)).abs() < 1e-12);
//! ```
//!
//! Forward-mode quantities use dual tensors ([`crate::forward_ad`]): [`jvp`] is one forward
//! pass. Jacobians and Hessians are vectorized: one pass with a batch of tangents (the
//! identity) gives every column ([`Strategy::Forward`]); every row comes from one backward pass
//! whose output gradient is a batch of dual seeds ([`Strategy::Reverse`]); the Hessian and
//! [`hvp`] are forward-over-reverse. Inside a caller's own dual level (levels do not nest),
//! and in `strict` mode (which names the independent input), the same quantities come from
//! reverse passes: `J v = d/du (u^T J v)` and one backward per row.

use crate::autograd::{try_grad, GradOptions};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Options of the functional API (PyTorch's keyword arguments).
///
/// ```
/// let o = ferrograd::functional::Options { create_graph: true, ..Default::default() };
/// assert!(!o.strict);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Keep the results differentiable (for higher derivatives).
    pub create_graph: bool,
    /// Fail when an output does not depend on an input, instead of returning zeros.
    pub strict: bool,
}

/// How [`jacobian_many_with`] builds the Jacobian.
///
/// ```
/// assert_ne!(ferrograd::functional::Strategy::Reverse, ferrograd::functional::Strategy::Forward);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// One vector-Jacobian product per output element (rows).
    Reverse,
    /// One Jacobian-vector product per input element (columns).
    Forward,
    /// Whichever needs fewer products.
    Auto,
}

/// Inputs as fresh graph leaves (or, with `create_graph`, the inputs themselves when they
/// already require grad, so the results stay connected to the caller's graph).
fn prepare(inputs: &[Tensor], create_graph: bool) -> Vec<Tensor> {
    inputs
        .iter()
        .map(|x| {
            if create_graph && x.requires_grad() {
                x.clone()
            } else {
                x.detach().requires_grad_(x.dtype().is_floating_point())
            }
        })
        .collect()
}

fn finish(t: Tensor, create_graph: bool) -> Tensor {
    if create_graph {
        t
    } else {
        t.detach()
    }
}

fn strict_error(i: usize) -> Error {
    Error::invalid(
        "functional",
        format!("Output 0 of the user-provided function is independent of input {i}. This is not allowed in strict mode."),
    )
}

api! {
    mod {
        /// `v^T J` for the output of `f` at `inputs` (`torch.autograd.functional.vjp`): returns
        /// `(f(inputs), [v^T dJ/dx_i])`.
        ///
        /// ```
        /// use ferrograd::{functional, Tensor};
        /// let (y, g) = functional::vjp(|x| x[0].pow(2.0), &[Tensor::new([1.0, 2.0])], &Tensor::new([1.0, 1.0]), Default::default());
        /// assert_eq!(y.to_vec::<f32>(), vec![1.0, 4.0]);
        /// assert_eq!(g[0].to_vec::<f32>(), vec![2.0, 4.0]);
        /// ```
        ///
        /// ```
        /// use ferrograd::{functional, Tensor};
        /// let strict = functional::Options { strict: true, ..Default::default() };
        /// assert!(functional::try_vjp(|x| x[0].ones_like(), &[Tensor::new([1.0])], &Tensor::new([1.0]), strict).is_err());
        /// ```
        pub fn vjp / try_vjp(
            f: impl Fn(&[Tensor]) -> Tensor,
            inputs: &[Tensor],
            v: &Tensor,
            options: Options,
        ) -> (Tensor, Vec<Tensor>) {
            let xs = prepare(inputs, options.create_graph);
            let out = f(&xs);
            let grads = vjp_at(&out, &xs, v, options.create_graph, options.strict)?;
            Ok((finish(out, options.create_graph), grads))
        }

        /// `J v` for the output of `f` at `inputs`, one tangent per input
        /// (`torch.autograd.functional.jvp`): returns `(f(inputs), J v)`.
        ///
        /// ```
        /// use ferrograd::{functional, Tensor};
        /// let (_, jv) = functional::jvp(|x| &x[0] * &x[1], &[Tensor::new([2.0]), Tensor::new([3.0])], &[Tensor::new([1.0]), Tensor::new([0.0])], Default::default());
        /// assert_eq!(jv.to_vec::<f32>(), vec![3.0]);
        /// ```
        ///
        /// ```
        /// use ferrograd::{functional, Tensor};
        /// assert!(functional::try_jvp(|x| x[0].exp(), &[Tensor::new([1.0])], &[], Default::default()).is_err());
        /// ```
        pub fn jvp / try_jvp(
            f: impl Fn(&[Tensor]) -> Tensor,
            inputs: &[Tensor],
            v: &[Tensor],
            options: Options,
        ) -> (Tensor, Tensor) {
            if v.len() != inputs.len() || v.iter().zip(inputs).any(|(v, x)| v.shape() != x.shape()) {
                return Err(Error::invalid(
                    "jvp",
                    "v must hold one tangent per input, each of the input's shape",
                ));
            }
            if !options.strict && !crate::forward_ad::is_enabled() {
                let _level = crate::forward_ad::try_dual_level()?;
                let xs = prepare(inputs, options.create_graph);
                let duals = dual_inputs(&xs, |x, i| {
                    crate::forward_ad::try_make_dual(x, &v[i].to_dtype(x.dtype()))
                })?;
                let out = f(&duals);
                let (primal, tangent) = crate::forward_ad::unpack_dual(&out);
                let jv = tangent.unwrap_or_else(|| out.detach().zeros_like());
                return Ok((
                    finish(primal, options.create_graph),
                    finish(jv, options.create_graph),
                ));
            }
            let xs = prepare(inputs, options.create_graph);
            let out = f(&xs);
            let jv = jvp_at(&out, &xs, v, options.create_graph, options.strict)?;
            Ok((finish(out, options.create_graph), jv))
        }

        /// The Jacobian of `f` at one tensor `x`: one tensor of shape `f(x).shape ++ x.shape`
        /// (`torch.autograd.functional.jacobian` for a tensor input), by the cheaper of rows and
        /// columns. For several inputs, options or a strategy, see [`jacobian_many`] and
        /// [`jacobian_many_with`].
        ///
        /// ```
        /// use ferrograd::{functional, Tensor};
        /// let j = functional::jacobian(|x| x.pow(2.0), &Tensor::new([1.0, 2.0]));
        /// assert_eq!(j.shape(), &[2, 2]);
        /// assert_eq!(j.to_vec::<f32>(), vec![2.0, 0.0, 0.0, 4.0]);
        /// ```
        ///
        /// ```
        /// use ferrograd::{functional, Tensor};
        /// assert!(functional::try_jacobian(|x| x.exp(), &Tensor::new([1.0])).is_ok());
        /// ```
        pub fn jacobian / try_jacobian(f: impl Fn(&Tensor) -> Tensor, x: &Tensor) -> Tensor {
            let j = try_jacobian_many(|xs| f(&xs[0]), std::slice::from_ref(x), Options::default())?;
            Ok(j.into_iter().next().expect("one input, one Jacobian"))
        }

        /// The Jacobian of `f` at `inputs`: one tensor per input, of shape `output.shape ++
        /// input.shape` (`torch.autograd.functional.jacobian`), by the cheaper of rows and columns.
        ///
        ///
        /// ```
        /// use ferrograd::{functional, Tensor};
        /// let j = functional::jacobian_many(|x| x[0].pow(2.0), &[Tensor::new([1.0, 2.0])], Default::default());
        /// assert_eq!(j[0].to_vec::<f32>(), vec![2.0, 0.0, 0.0, 4.0]);
        /// ```
        ///
        /// ```
        /// use ferrograd::{functional, Tensor};
        /// let strict = functional::Options { strict: true, ..Default::default() };
        /// assert!(functional::try_jacobian_many(|x| x[0].zeros_like(), &[Tensor::new([1.0])], strict).is_err());
        /// ```
        pub fn jacobian_many / try_jacobian_many(
            f: impl Fn(&[Tensor]) -> Tensor,
            inputs: &[Tensor],
            options: Options,
        ) -> Vec<Tensor> {
            try_jacobian_many_with(f, inputs, options, Strategy::Auto)
        }

        /// [`jacobian_many`] with an explicit [`Strategy`].
        ///
        /// ```
        /// use ferrograd::{functional::{self, Strategy}, Tensor};
        /// let f = |x: &[Tensor]| x[0].sin();
        /// let x = [Tensor::new([0.0, 1.0])];
        /// let rows = functional::jacobian_many_with(f, &x, Default::default(), Strategy::Reverse);
        /// let cols = functional::jacobian_many_with(f, &x, Default::default(), Strategy::Forward);
        /// assert_eq!(rows[0].to_vec::<f32>(), cols[0].to_vec::<f32>());
        /// ```
        ///
        /// ```
        /// use ferrograd::{functional::{self, Strategy}, Tensor};
        /// assert!(functional::try_jacobian_many_with(|x| x[0].exp(), &[Tensor::new([1.0])], Default::default(), Strategy::Forward).is_ok());
        /// ```
        pub fn jacobian_many_with / try_jacobian_many_with(
            f: impl Fn(&[Tensor]) -> Tensor,
            inputs: &[Tensor],
            options: Options,
            strategy: Strategy,
        ) -> Vec<Tensor> {
            let vectorized = !options.strict && !crate::forward_ad::is_enabled();
            if vectorized && strategy == Strategy::Forward {
                // Columns need only the dual pass (Auto first evaluates `f` to count the outputs).
                return jacobian_columns(&f, inputs, options);
            }
            let xs = prepare(inputs, options.create_graph);
            let out = f(&xs);
            let m = out.numel();
            let n: usize = xs.iter().map(|x| x.numel()).sum();
            let forward = match strategy {
                Strategy::Forward => true,
                Strategy::Reverse => false,
                Strategy::Auto => n < m,
            };
            if vectorized {
                return if forward {
                    jacobian_columns(&f, inputs, options)
                } else {
                    jacobian_rows(&out, &xs, options)
                };
            }
            let mut result = Vec::with_capacity(xs.len());
            if forward {
                for (i, x) in xs.iter().enumerate() {
                    let mut cols = Vec::with_capacity(x.numel());
                    for j in 0..x.numel() {
                        let v: Vec<Tensor> = xs
                            .iter()
                            .enumerate()
                            .map(|(k, y)| {
                                if k == i {
                                    one_hot(y, j)
                                } else {
                                    y.detach().zeros_like()
                                }
                            })
                            .collect();
                        cols.push(jvp_at(&out, &xs, &v, options.create_graph, options.strict)?);
                    }
                    result.push(assemble_columns(&out, x, cols)?);
                }
            } else {
                let mut rows: Vec<Vec<Tensor>> = vec![Vec::with_capacity(m); xs.len()];
                for k in 0..m {
                    let g = vjp_at(
                        &out,
                        &xs,
                        &one_hot(&out, k),
                        options.create_graph,
                        options.strict,
                    )?;
                    for (r, g) in rows.iter_mut().zip(g) {
                        r.push(g);
                    }
                }
                for (x, r) in xs.iter().zip(rows) {
                    result.push(stack_rows(out.shape(), x, r)?);
                }
            }
            Ok(result)
        }

        /// The Hessian of a scalar `f` at one tensor `x`: one tensor of shape `x.shape ++ x.shape`
        /// (`torch.autograd.functional.hessian` for a tensor input). For several inputs or options, see
        /// [`hessian_many`].
        ///
        /// ```
        /// use ferrograd::{functional, Tensor};
        /// let h = functional::hessian(|x| x.pow(3.0).sum(), &Tensor::new([1.0, 2.0]));
        /// assert_eq!(h.shape(), &[2, 2]);
        /// assert_eq!(h.to_vec::<f32>(), vec![6.0, 0.0, 0.0, 12.0]);
        /// ```
        ///
        /// ```
        /// use ferrograd::{functional, Tensor};
        /// let e = functional::try_hessian(|x| x.exp(), &Tensor::new([1.0, 2.0])).unwrap_err();
        /// assert!(e.to_string().contains("should return a single element Tensor"));
        /// ```
        pub fn hessian / try_hessian(f: impl Fn(&Tensor) -> Tensor, x: &Tensor) -> Tensor {
            let h = try_hessian_many(|xs| f(&xs[0]), std::slice::from_ref(x), Options::default())?;
            let row = h.into_iter().next().expect("one input, one row");
            Ok(row.into_iter().next().expect("one input, one block"))
        }

        /// The Hessian of a scalar `f` at `inputs`: `h[i][j]` has shape `x_i.shape ++ x_j.shape`
        /// (`torch.autograd.functional.hessian`).
        ///
        /// ```
        /// use ferrograd::{functional, Tensor};
        /// let h = functional::hessian_many(|x| x[0].pow(3.0).sum(), &[Tensor::new([1.0, 2.0])], Default::default());
        /// assert_eq!(h[0][0].to_vec::<f32>(), vec![6.0, 0.0, 0.0, 12.0]);
        /// ```
        ///
        /// ```
        /// use ferrograd::{functional, Tensor};
        /// assert!(functional::try_hessian_many(|x| x[0].exp(), &[Tensor::new([1.0, 2.0])], Default::default()).is_err());
        /// ```
        pub fn hessian_many / try_hessian_many(
            f: impl Fn(&[Tensor]) -> Tensor,
            inputs: &[Tensor],
            options: Options,
        ) -> Vec<Vec<Tensor>> {
            if !options.strict && !crate::forward_ad::is_enabled() {
                return hessian_forward_over_reverse(&f, inputs, options);
            }
            let xs = prepare(inputs, true);
            let out = f(&xs);
            scalar_output("hessian", &out)?;
            let g = vjp_at(&out, &xs, &out.ones_like(), true, options.strict)?;
            let mut h = Vec::with_capacity(xs.len());
            for gi in &g {
                let mut rows: Vec<Vec<Tensor>> = vec![Vec::with_capacity(gi.numel()); xs.len()];
                for k in 0..gi.numel() {
                    let r = vjp_at(
                        gi,
                        &xs,
                        &one_hot(gi, k),
                        options.create_graph,
                        options.strict,
                    )?;
                    for (rows_j, r) in rows.iter_mut().zip(r) {
                        rows_j.push(r);
                    }
                }
                let mut hi = Vec::with_capacity(xs.len());
                for (xj, r) in xs.iter().zip(rows) {
                    hi.push(stack_rows(gi.shape(), xj, r)?);
                }
                h.push(hi);
            }
            Ok(h)
        }

        /// `(f(x), v^T H)` for a scalar `f` (`torch.autograd.functional.vhp`), by reverse over
        /// reverse.
        ///
        /// ```
        /// use ferrograd::{functional, Tensor};
        /// let (_, hv) = functional::vhp(|x| x[0].pow(3.0).sum(), &[Tensor::new([1.0, 2.0])], &[Tensor::new([1.0, 1.0])], Default::default());
        /// assert_eq!(hv[0].to_vec::<f32>(), vec![6.0, 12.0]);
        /// ```
        ///
        /// ```
        /// use ferrograd::{functional, Tensor};
        /// assert!(functional::try_vhp(|x| x[0].sum(), &[Tensor::new([1.0])], &[Tensor::new([1.0, 2.0])], Default::default()).is_err());
        /// ```
        pub fn vhp / try_vhp(
            f: impl Fn(&[Tensor]) -> Tensor,
            inputs: &[Tensor],
            v: &[Tensor],
            options: Options,
        ) -> (Tensor, Vec<Tensor>) {
            if v.len() != inputs.len() || v.iter().zip(inputs).any(|(v, x)| v.shape() != x.shape()) {
                return Err(Error::invalid(
                    "vhp",
                    "v must hold one vector per input, each of the input's shape",
                ));
            }
            let xs = prepare(inputs, true);
            let out = f(&xs);
            scalar_output("vhp", &out)?;
            let g = vjp_at(&out, &xs, &out.ones_like(), true, options.strict)?;
            let (gs, vs): (Vec<Tensor>, Vec<Tensor>) = g
                .into_iter()
                .zip(v.iter().cloned())
                .filter(|(g, _)| g.requires_grad())
                .unzip();
            let hv = if gs.is_empty() {
                xs.iter().map(|x| x.zeros_like()).collect()
            } else {
                try_grad(
                    &gs,
                    &xs,
                    GradOptions::new()
                        .grad_outputs(vs)
                        .create_graph(options.create_graph)
                        .allow_unused(true),
                )?
                .into_iter()
                .zip(&xs)
                .map(|(g, x)| finish(g.unwrap_or_else(|| x.zeros_like()), options.create_graph))
                .collect()
            };
            Ok((finish(out, options.create_graph), hv))
        }

        /// `(f(x), H v)` for a scalar `f` (`torch.autograd.functional.hvp`), forward over reverse:
        /// one forward and one backward pass on inputs carrying `v` as their tangent. (The Hessian of
        /// a twice-differentiable function is symmetric, so this equals [`vhp`].)
        ///
        ///
        /// ```
        /// use ferrograd::{functional, Tensor};
        /// let f = |x: &[Tensor]| (&x[0] * &x[1]).sum();
        /// let (_, hv) = functional::hvp(f, &[Tensor::new([1.0]), Tensor::new([2.0])], &[Tensor::new([1.0]), Tensor::new([0.0])], Default::default());
        /// assert_eq!((hv[0].item(), hv[1].item()), (0.0, 1.0));
        /// ```
        ///
        /// ```
        /// use ferrograd::{functional, Tensor};
        /// assert!(functional::try_hvp(|x| x[0].exp(), &[Tensor::new([1.0, 2.0])], &[Tensor::new([1.0, 2.0])], Default::default()).is_err());
        /// ```
        pub fn hvp / try_hvp(
            f: impl Fn(&[Tensor]) -> Tensor,
            inputs: &[Tensor],
            v: &[Tensor],
            options: Options,
        ) -> (Tensor, Vec<Tensor>) {
            if options.strict || crate::forward_ad::is_enabled() {
                return try_vhp(f, inputs, v, options);
            }
            if v.len() != inputs.len() || v.iter().zip(inputs).any(|(v, x)| v.shape() != x.shape()) {
                return Err(Error::invalid(
                    "hvp",
                    "v must hold one vector per input, each of the input's shape",
                ));
            }
            // Forward over reverse: the tangent of the gradient along v is H v.
            let xs = prepare(inputs, true);
            let _level = crate::forward_ad::try_dual_level()?;
            let duals = dual_inputs(&xs, |x, i| {
                crate::forward_ad::try_make_dual(x, &v[i].to_dtype(x.dtype()))
            })?;
            let out = f(&duals);
            scalar_output("hvp", &out)?;
            let g = if out.requires_grad() {
                try_grad(
                    &[&out],
                    &duals,
                    GradOptions::new().create_graph(true).allow_unused(true),
                )?
            } else {
                vec![None; xs.len()]
            };
            let hv = g
                .into_iter()
                .zip(&xs)
                .map(|(g, x)| {
                    let t = g.and_then(|g| crate::forward_ad::unpack_dual(&g).1);
                    finish(
                        t.unwrap_or_else(|| x.detach().zeros_like()),
                        options.create_graph,
                    )
                })
                .collect();
            let primal = crate::forward_ad::unpack_dual(&out).0;
            Ok((finish(primal, options.create_graph), hv))
        }
    }
}

fn vjp_at(
    out: &Tensor,
    xs: &[Tensor],
    v: &Tensor,
    create_graph: bool,
    strict: bool,
) -> Result<Vec<Tensor>> {
    if !out.requires_grad() {
        if strict {
            return Err(strict_error(0));
        }
        return Ok(xs.iter().map(|x| x.zeros_like()).collect());
    }
    let g = try_grad(
        &[out],
        xs,
        GradOptions::new()
            .grad_outputs([v.clone()])
            .create_graph(create_graph)
            .retain_graph(true)
            .allow_unused(true),
    )?;
    g.into_iter()
        .zip(xs)
        .enumerate()
        .map(|(i, (g, x))| match g {
            Some(g) => Ok(finish(g, create_graph)),
            None if strict => Err(strict_error(i)),
            None => Ok(x.zeros_like()),
        })
        .collect()
}

/// The floating inputs made dual by `make` (given the input and its position); others as
/// they are.
fn dual_inputs(
    xs: &[Tensor],
    make: impl Fn(&Tensor, usize) -> Result<Tensor>,
) -> Result<Vec<Tensor>> {
    xs.iter()
        .enumerate()
        .map(|(i, x)| {
            if x.dtype().is_floating_point() {
                make(x, i)
            } else {
                Ok(x.clone())
            }
        })
        .collect()
}

/// The inputs as duals whose batched tangents, all inputs together, are the identity over
/// their elements (inside an open level; as they are when there are no elements).
fn identity_duals(xs: &[Tensor]) -> Result<Vec<Tensor>> {
    if xs.iter().all(|x| x.numel() == 0) {
        return Ok(xs.to_vec());
    }
    dual_inputs(xs, |x, i| {
        crate::forward_ad::try_make_dual_batched(x, &basis(xs, i))
    })
}

/// For inputs of `sizes` elements, input `i`'s part of the identity over all of them:
/// `[total, ..shape_i]`, ones where row `offset_i + k` meets element `k`.
fn basis(xs: &[Tensor], i: usize) -> Tensor {
    let total: usize = xs.iter().map(|x| x.numel()).sum();
    let offset: usize = xs[..i].iter().map(|x| x.numel()).sum();
    let n = xs[i].numel();
    let mut v = vec![0.0; total * n];
    for k in 0..n {
        v[(offset + k) * n + k] = 1.0;
    }
    let mut shape = vec![total];
    shape.extend_from_slice(xs[i].shape());
    Tensor::from_vec(v, &shape).to_dtype(xs[i].dtype())
}

/// Rows `offset..offset + n` of a batch of tangents `[batch, ..inner]` as the block
/// `outer ++ inner` of a Jacobian, where the rows run over the `outer` tensor's elements.
fn block(t: &Tensor, offset: usize, outer: &[usize], inner: &[usize]) -> Result<Tensor> {
    let n: usize = outer.iter().product();
    let mut shape = outer.to_vec();
    shape.extend_from_slice(inner);
    if n == 0 || inner.iter().product::<usize>() == 0 {
        return Ok(Tensor::full_with(&shape, 0.0, t.dtype()));
    }
    t.try_narrow(0, offset, n)?.try_reshape(&shape)
}

/// The same block with the roles swapped: rows over `inner`'s elements, laid out as
/// `outer ++ inner` (a Jacobian's columns).
fn block_t(t: &Tensor, offset: usize, outer: &[usize], inner: &[usize]) -> Result<Tensor> {
    let (n, m): (usize, usize) = (inner.iter().product(), outer.iter().product());
    let mut shape = outer.to_vec();
    shape.extend_from_slice(inner);
    if n == 0 || m == 0 {
        return Ok(Tensor::full_with(&shape, 0.0, t.dtype()));
    }
    t.try_narrow(0, offset, n)?
        .try_reshape(&[n, m])?
        .try_t()?
        .try_reshape(&shape)
}

/// `J v` by the double-backward trick: `g(u) = u^T J` is linear in `u`, so `d/du (g(u) . v) = J v`.
fn jvp_at(
    out: &Tensor,
    xs: &[Tensor],
    v: &[Tensor],
    create_graph: bool,
    strict: bool,
) -> Result<Tensor> {
    if !out.requires_grad() {
        return if strict {
            Err(strict_error(0))
        } else {
            Ok(out.zeros_like().detach())
        };
    }
    let u = out.detach().zeros_like().requires_grad_(true);
    let g = try_grad(
        &[out],
        xs,
        GradOptions::new()
            .grad_outputs([u.clone()])
            .create_graph(true)
            .retain_graph(true)
            .allow_unused(true),
    )?;
    let (gs, vs): (Vec<Tensor>, Vec<Tensor>) = g
        .into_iter()
        .zip(v)
        .enumerate()
        .filter_map(|(i, (g, v))| match g {
            Some(g) if g.requires_grad() => Some(Ok((g, v.to_dtype(out.dtype())))),
            Some(_) => None,
            None if strict => Some(Err(strict_error(i))),
            None => None,
        })
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .unzip();
    if gs.is_empty() {
        return Ok(finish(out.zeros_like(), create_graph));
    }
    let jv = try_grad(
        &gs,
        &[&u],
        GradOptions::new()
            .grad_outputs(vs)
            .create_graph(create_graph)
            .retain_graph(true)
            .allow_unused(true),
    )?;
    Ok(finish(
        jv[0].clone().unwrap_or_else(|| out.zeros_like()),
        create_graph,
    ))
}

/// Every column in one forward pass: the inputs carry the identity as a batch of tangents.
fn jacobian_columns(
    f: &impl Fn(&[Tensor]) -> Tensor,
    inputs: &[Tensor],
    options: Options,
) -> Result<Vec<Tensor>> {
    let xs = prepare(inputs, options.create_graph);
    let n: usize = xs.iter().map(|x| x.numel()).sum();
    let _level = crate::forward_ad::try_dual_level()?;
    let duals = identity_duals(&xs)?;
    let out = f(&duals);
    let mut shape = vec![n];
    shape.extend_from_slice(out.shape());
    let t = crate::forward_ad::unpack_dual(&out)
        .1
        .unwrap_or_else(|| Tensor::full_with(&shape, 0.0, out.dtype()));
    let mut offset = 0;
    let mut result = Vec::with_capacity(xs.len());
    for x in &xs {
        let j = block_t(&t, offset, out.shape(), x.shape())?;
        result.push(finish(j, options.create_graph));
        offset += x.numel();
    }
    Ok(result)
}

/// Every row in one backward pass: the output gradient is a batch of dual seeds (the
/// identity), so each input gradient's tangents are its rows of the Jacobian.
fn jacobian_rows(out: &Tensor, xs: &[Tensor], options: Options) -> Result<Vec<Tensor>> {
    let m = out.numel();
    let zeros = |x: &Tensor| {
        let mut shape = out.shape().to_vec();
        shape.extend_from_slice(x.shape());
        Tensor::full_with(&shape, 0.0, out.dtype())
    };
    if !out.requires_grad() || m == 0 {
        return Ok(xs.iter().map(zeros).collect());
    }
    let _level = crate::forward_ad::try_dual_level()?;
    let mut eye_shape = vec![m];
    eye_shape.extend_from_slice(out.shape());
    let eye = Tensor::eye_with(m, out.dtype()).reshape(&eye_shape);
    let seed = crate::forward_ad::try_make_dual_batched(&out.detach().zeros_like(), &eye)?;
    let g = try_grad(
        &[out],
        xs,
        GradOptions::new()
            .grad_outputs([seed])
            .create_graph(options.create_graph)
            .retain_graph(true)
            .allow_unused(true),
    )?;
    g.into_iter()
        .zip(xs)
        .map(|(g, x)| {
            let rows = g.and_then(|g| crate::forward_ad::unpack_dual(&g).1);
            Ok(match rows {
                Some(r) => finish(block(&r, 0, out.shape(), x.shape())?, options.create_graph),
                None => zeros(x),
            })
        })
        .collect()
}

/// Columns (each of the output's shape) into `output.shape ++ input.shape`.
fn assemble_columns(out: &Tensor, x: &Tensor, cols: Vec<Tensor>) -> Result<Tensor> {
    let mut shape = out.shape().to_vec();
    shape.extend_from_slice(x.shape());
    if cols.is_empty() || out.numel() == 0 {
        return Ok(Tensor::full_with(&shape, 0.0, out.dtype()));
    }
    let stacked = Tensor::try_stack(&cols, -1)?; // output.shape ++ [n]
    stacked.try_reshape(&shape)
}

/// Rows (one per element of the outer tensor, each of `inner.shape`) stacked into
/// `outer.shape ++ inner.shape`; zeros of that shape when there are none.
fn stack_rows(outer: &[usize], inner: &Tensor, rows: Vec<Tensor>) -> Result<Tensor> {
    let mut shape = outer.to_vec();
    shape.extend_from_slice(inner.shape());
    if rows.is_empty() {
        return Ok(Tensor::full_with(&shape, 0.0, inner.dtype()));
    }
    Tensor::try_stack(&rows, 0)?.try_reshape(&shape)
}

fn one_hot(t: &Tensor, k: usize) -> Tensor {
    let mut v = vec![0.0; t.numel()];
    v[k] = 1.0;
    Tensor::from_vec(v, t.shape()).to_dtype(t.dtype())
}

fn scalar_output(op: &'static str, out: &Tensor) -> Result<()> {
    if out.numel() != 1 {
        return Err(Error::invalid(
            op,
            format!(
                "The function given to {op} should return a single element Tensor, got shape {:?}",
                out.shape()
            ),
        ));
    }
    Ok(())
}

/// The Hessian as the Jacobian of the gradient, forward over reverse: the inputs carry the
/// identity as a batch of tangents through the forward and the (recorded) backward pass.
fn hessian_forward_over_reverse(
    f: &impl Fn(&[Tensor]) -> Tensor,
    inputs: &[Tensor],
    options: Options,
) -> Result<Vec<Vec<Tensor>>> {
    let xs = prepare(inputs, true);
    let _level = crate::forward_ad::try_dual_level()?;
    let duals = identity_duals(&xs)?;
    let g = gradient_of(f, &duals)?;
    let mut h = Vec::with_capacity(xs.len());
    for (gi, xi) in g.iter().zip(&xs) {
        let t = gi
            .as_ref()
            .and_then(|g| crate::forward_ad::unpack_dual(g).1);
        let mut offset = 0;
        let mut hi = Vec::with_capacity(xs.len());
        for xj in &xs {
            let hij = match &t {
                Some(t) => block_t(t, offset, xi.shape(), xj.shape())?,
                None => {
                    let mut shape = xi.shape_vec().to_vec();
                    shape.extend_from_slice(xj.shape());
                    Tensor::full_with(&shape, 0.0, xi.dtype())
                }
            };
            hi.push(finish(hij, options.create_graph));
            offset += xj.numel();
        }
        h.push(hi);
    }
    Ok(h)
}

/// `f(xs)` (scalar) and its gradient with respect to `xs`, recorded (`None`: unused input).
fn gradient_of(f: &impl Fn(&[Tensor]) -> Tensor, xs: &[Tensor]) -> Result<Vec<Option<Tensor>>> {
    let out = f(xs);
    scalar_output("hessian", &out)?;
    if !out.requires_grad() {
        return Ok(vec![None; xs.len()]);
    }
    let wanted: Vec<Tensor> = xs.iter().filter(|x| x.requires_grad()).cloned().collect();
    let mut g = try_grad(
        &[&out],
        &wanted,
        GradOptions::new()
            .grad_outputs([out.ones_like()])
            .create_graph(true)
            .allow_unused(true),
    )?
    .into_iter();
    Ok(xs
        .iter()
        .map(|x| {
            if x.requires_grad() {
                g.next().flatten()
            } else {
                None
            }
        })
        .collect())
}

/// The gradient transform: `grad(f)` is the function `x -> df/dx` of a scalar `f`, itself
/// differentiable, so `grad(grad(f))` is the second derivative (JAX's `grad`). Panics if `f`
/// returns more than one element.
///
/// ```
/// use ferrograd::{functional::grad, Tensor};
/// let d2 = grad(grad(|x: &Tensor| x.pow(3.0)));
/// assert_eq!(d2(&Tensor::scalar(2.0)).item(), 12.0);
/// ```
pub fn grad<F: Fn(&Tensor) -> Tensor>(f: F) -> impl Fn(&Tensor) -> Tensor {
    let vg = value_and_grad(f);
    move |x| vg(x).1
}

/// `value_and_grad(f)` returns `x -> (f(x), df/dx)` for a scalar `f`.
///
/// ```
/// use ferrograd::{functional::value_and_grad, Tensor};
/// let (v, g) = value_and_grad(|x: &Tensor| x.pow(2.0).sum())(&Tensor::new([3.0, 4.0]));
/// assert_eq!((v.item(), g.to_vec::<f32>()), (25.0, vec![6.0, 8.0]));
/// ```
pub fn value_and_grad<F: Fn(&Tensor) -> Tensor>(f: F) -> impl Fn(&Tensor) -> (Tensor, Tensor) {
    move |x: &Tensor| {
        let outer = x.requires_grad();
        let xr = if outer {
            x.clone()
        } else {
            x.detach().requires_grad_(true)
        };
        let y = f(&xr);
        crate::unwrap(scalar_output("grad", &y));
        let g = if y.requires_grad() {
            crate::autograd::grad(
                &[&y],
                &[&xr],
                GradOptions::new().create_graph(true).allow_unused(true),
            )
            .remove(0)
            .unwrap_or_else(|| xr.zeros_like())
        } else {
            xr.zeros_like()
        };
        if outer {
            (y, g)
        } else {
            (y.detach(), g.detach())
        }
    }
}
