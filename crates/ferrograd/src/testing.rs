//! Finite-difference checks of gradients (`torch.autograd.gradcheck` / `gradgradcheck`,
//! JAX's `check_grads`): the analytical Jacobian from backward is compared, element by
//! element, with central differences, to any derivative order. With
//! [`GradcheckOptions::check_forward_ad`], forward mode is checked too: the tangents of dual
//! inputs against directional central differences and against reverse mode, and batched
//! tangents against one tangent at a time.

use crate::autograd::{try_grad, GradOptions};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

/// Tolerances of the checks; the defaults are PyTorch's (`eps = 1e-6`, `atol = 1e-5`,
/// `rtol = 1e-3`), meant for `f64` inputs.
///
/// ```
/// let o = ferrograd::testing::GradcheckOptions::default();
/// assert_eq!((o.eps, o.atol, o.rtol, o.fast_mode), (1e-6, 1e-5, 1e-3, false));
/// assert!(!o.check_forward_ad);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct GradcheckOptions {
    /// Step of the central differences.
    pub eps: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance (of the numerical value).
    pub rtol: f64,
    /// Compare random projections `v^T J u` instead of whole Jacobians (PyTorch's
    /// `fast_mode`). Also used automatically when a Jacobian has more than
    /// [`FAST_MODE_ENTRIES`] entries.
    pub fast_mode: bool,
    /// Also check forward mode ([`crate::forward_ad`]) at every order: the output tangents
    /// for random input tangents against central differences along them and against reverse
    /// mode (`<v, J u> = <J^T v, u>`), and a batch of 3 tangents against each one alone
    /// (PyTorch's `check_forward_ad` and `check_batched_forward_grad`).
    pub check_forward_ad: bool,
}

/// Jacobians larger than this are checked through random projections.
pub const FAST_MODE_ENTRIES: usize = 1 << 16;

impl Default for GradcheckOptions {
    fn default() -> Self {
        GradcheckOptions {
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
            fast_mode: false,
            check_forward_ad: false,
        }
    }
}

/// A function under test: tensors in, tensors out.
pub type TestFn<'a> = dyn Fn(&[Tensor]) -> Vec<Tensor> + 'a;

/// Checks first derivatives of `f` at `inputs` (which should be `f64` and require grad)
/// against central differences with the default tolerances. Also checks that every gradient
/// has its input's shape and dtype, that backward is linear in the output gradient, that a zero
/// output gradient gives zero input gradients, and that running backward twice gives bitwise
/// the same result.
///
/// ```
/// use ferrograd::{testing, DType, Tensor};
/// let x = Tensor::from_data([0.3, -1.2, 2.0], DType::F64).requires_grad_(true);
/// testing::gradcheck(&|xs| vec![(&xs[0] * &xs[0].sin()).sum()], &[x]).unwrap();
/// ```
pub fn gradcheck(f: &TestFn, inputs: &[Tensor]) -> Result<()> {
    check_grads(f, inputs, 1, GradcheckOptions::default())
}

/// Checks first and second derivatives of `f` (the gradient of a random vector-Jacobian
/// product is itself checked against finite differences), like `gradgradcheck`.
///
/// ```
/// use ferrograd::{testing, DType, Tensor};
/// let x = Tensor::from_data([0.5, 1.5], DType::F64).requires_grad_(true);
/// testing::gradgradcheck(&|xs| vec![xs[0].tanh()], &[x]).unwrap();
/// ```
pub fn gradgradcheck(f: &TestFn, inputs: &[Tensor]) -> Result<()> {
    check_grads(f, inputs, 2, GradcheckOptions::default())
}

/// Checks derivatives of orders `1..=order`. Order `k + 1` checks the function
/// `xs -> grad(f(xs), xs, v, create_graph = true)` for a fixed random cotangent `v`.
///
/// ```
/// use ferrograd::{testing, testing::GradcheckOptions, DType, Tensor};
/// let x = Tensor::from_data([0.2, -0.7], DType::F64).requires_grad_(true);
/// testing::check_grads(&|xs| vec![xs[0].exp()], &[x], 3, GradcheckOptions::default()).unwrap();
/// ```
pub fn check_grads(
    f: &TestFn,
    inputs: &[Tensor],
    order: usize,
    options: GradcheckOptions,
) -> Result<()> {
    check_from(f, inputs, 1, order, options)
}

/// Checks `f`'s first derivatives, which are derivatives of order `level` of the original
/// function, then recurses on its vector-Jacobian product up to `order`.
fn check_from(
    f: &TestFn,
    inputs: &[Tensor],
    level: usize,
    order: usize,
    options: GradcheckOptions,
) -> Result<()> {
    check_first(f, inputs, options).map_err(|e| {
        fail(format!(
            "order {level}: {}",
            e.to_string().trim_start_matches("gradcheck: ")
        ))
    })?;
    if level >= order {
        return Ok(());
    }
    let outputs = f(inputs);
    let mut rng = StdRng::seed_from_u64(level as u64 * 7919 + inputs.len() as u64);
    let cotangents: Vec<Tensor> = outputs.iter().map(|o| random_like(o, &mut rng)).collect();
    let vjp = move |xs: &[Tensor]| -> Vec<Tensor> {
        let outs = f(xs);
        let (outs, vs): (Vec<Tensor>, Vec<Tensor>) = outs
            .into_iter()
            .zip(cotangents.iter().cloned())
            .filter(|(o, _)| o.requires_grad())
            .unzip();
        if outs.is_empty() {
            return xs.iter().map(|x| x.zeros_like()).collect();
        }
        let grads = try_grad(
            &outs,
            xs,
            GradOptions::new()
                .grad_outputs(vs)
                .create_graph(true)
                .allow_unused(true),
        )
        .unwrap_or_else(|e| panic!("vector-Jacobian product failed: {e}"));
        grads
            .into_iter()
            .zip(xs)
            .map(|(g, x)| g.unwrap_or_else(|| x.zeros_like()))
            .collect()
    };
    check_from(&vjp, inputs, level + 1, order, options)
}

fn fail(msg: String) -> Error {
    Error::invalid("gradcheck", msg)
}

fn random_like(t: &Tensor, rng: &mut StdRng) -> Tensor {
    let v: Vec<f64> = (0..t.numel()).map(|_| StandardNormal.sample(rng)).collect();
    Tensor::from_vec(v, t.shape()).to_dtype(t.dtype())
}

/// A fresh leaf with `template`'s shape, dtype and (for transposed 2-d views) layout.
fn leaf_like(values: Vec<f64>, template: &Tensor) -> Tensor {
    let t = if template.dim() == 2 && !template.is_contiguous() {
        let (r, c) = (template.shape()[0], template.shape()[1]);
        let mut tv = vec![0.0; values.len()];
        for i in 0..r {
            for j in 0..c {
                tv[j * r + i] = values[i * c + j];
            }
        }
        Tensor::from_vec(tv, &[c, r]).to_dtype(template.dtype()).t()
    } else {
        Tensor::from_vec(values, template.shape()).to_dtype(template.dtype())
    };
    t.requires_grad_(template.requires_grad())
}

fn flat_outputs(f: &TestFn, xs: &[Tensor]) -> Vec<f64> {
    f(xs).iter().flat_map(|o| o.values_f64()).collect()
}

fn check_first(f: &TestFn, inputs: &[Tensor], o: GradcheckOptions) -> Result<()> {
    for (i, x) in inputs.iter().enumerate() {
        if x.dtype() != DType::F64 {
            return Err(fail(format!(
                "input {i} is {}, expected torch.float64",
                x.dtype()
            )));
        }
    }
    let outputs = f(inputs);
    let sizes: Vec<usize> = outputs.iter().map(|t| t.numel()).collect();
    let m: usize = sizes.iter().sum();

    let n_in: usize = inputs.iter().map(|x| x.numel()).sum();
    let differentiable: Vec<bool> = outputs.iter().map(|t| t.requires_grad()).collect();
    let vjp = |cotangents: Vec<Tensor>| -> Result<Vec<Tensor>> {
        let (outs, vs): (Vec<Tensor>, Vec<Tensor>) = outputs
            .iter()
            .cloned()
            .zip(cotangents)
            .zip(&differentiable)
            .filter(|(_, d)| **d)
            .map(|(p, _)| p)
            .unzip();
        if outs.is_empty() {
            return Ok(inputs.iter().map(|x| x.zeros_like()).collect());
        }
        let grads = try_grad(
            &outs,
            inputs,
            GradOptions::new()
                .grad_outputs(vs)
                .retain_graph(true)
                .allow_unused(true),
        )?;
        Ok(grads
            .into_iter()
            .zip(inputs)
            .map(|(g, x)| g.unwrap_or_else(|| x.zeros_like()))
            .collect())
    };
    let close = |a: f64, n: f64| (a - n).abs() <= o.atol + o.rtol * n.abs();
    if o.check_forward_ad {
        check_forward(f, inputs, &outputs, &vjp, o)?;
    }
    if o.fast_mode || m * n_in > FAST_MODE_ENTRIES {
        check_projections(f, inputs, &outputs, &vjp, o)?;
    } else {
        check_jacobian(f, inputs, &outputs, &sizes, &vjp, o)?;
    }

    // Backward is linear in the output gradient: vjp(a u + w) = a vjp(u) + vjp(w).
    let mut rng = StdRng::seed_from_u64(m as u64 + 5);
    let u: Vec<Tensor> = outputs.iter().map(|t| random_like(t, &mut rng)).collect();
    let w: Vec<Tensor> = outputs.iter().map(|t| random_like(t, &mut rng)).collect();
    let a = 1.7;
    let mixed: Vec<Tensor> = u
        .iter()
        .zip(&w)
        .map(|(u, w)| &u.mul_scalar(a) + w)
        .collect();
    let (gu, gw, gm) = (vjp(u)?, vjp(w)?, vjp(mixed)?);
    for (i, ((gu, gw), gm)) in gu.iter().zip(&gw).zip(&gm).enumerate() {
        let expected = (&gu.mul_scalar(a) + gw).values_f64();
        for (e, got) in expected.iter().zip(gm.values_f64()) {
            if !close(got, *e) {
                return Err(fail(format!(
                    "backward is not linear in the output gradient for input {i}: {got} vs {e}"
                )));
            }
        }
    }

    // A zero output gradient gives zero input gradients; backward is deterministic.
    let zeros: Vec<Tensor> = outputs.iter().map(|t| t.zeros_like()).collect();
    for (i, g) in vjp(zeros)?.iter().enumerate() {
        if g.values_f64().iter().any(|v| *v != 0.0) {
            return Err(fail(format!(
                "a zero output gradient gave a non-zero gradient for input {i}"
            )));
        }
    }
    let mut rng = StdRng::seed_from_u64(m as u64 + 17);
    let v: Vec<Tensor> = outputs.iter().map(|t| random_like(t, &mut rng)).collect();
    let first = vjp(v.clone())?;
    let second = vjp(v)?;
    for (i, (a, b)) in first.iter().zip(&second).enumerate() {
        let (a, b) = (a.values_f64(), b.values_f64());
        if a.iter().zip(&b).any(|(p, q)| p.to_bits() != q.to_bits()) {
            return Err(fail(format!("backward is not deterministic for input {i}")));
        }
    }
    Ok(())
}

type Vjp<'a> = dyn Fn(Vec<Tensor>) -> Result<Vec<Tensor>> + 'a;

/// All outputs flattened, for inputs with one replaced.
fn perturbed(f: &TestFn, inputs: &[Tensor], i: usize, values: Vec<f64>) -> Vec<f64> {
    let mut xs = inputs.to_vec();
    xs[i] = leaf_like(values, &inputs[i]);
    flat_outputs(f, &xs)
}

/// Element by element: numerical columns by central differences, analytical rows by one-hot
/// vector-Jacobian products.
fn check_jacobian(
    f: &TestFn,
    inputs: &[Tensor],
    outputs: &[Tensor],
    sizes: &[usize],
    vjp: &Vjp,
    o: GradcheckOptions,
) -> Result<()> {
    let mut numerical: Vec<Vec<Vec<f64>>> = Vec::new(); // [input][element][output element]
    for (i, x) in inputs.iter().enumerate() {
        let base = x.values_f64();
        let mut cols = Vec::with_capacity(base.len());
        for j in 0..base.len() {
            let eval = |delta: f64| {
                let mut v = base.clone();
                v[j] += delta;
                perturbed(f, inputs, i, v)
            };
            let (plus, minus) = (eval(o.eps), eval(-o.eps));
            cols.push(
                plus.iter()
                    .zip(&minus)
                    .map(|(p, q)| (p - q) / (2.0 * o.eps))
                    .collect::<Vec<f64>>(),
            );
        }
        numerical.push(cols);
    }
    let one_hot = |k: usize, e: usize| -> Vec<Tensor> {
        outputs
            .iter()
            .enumerate()
            .map(|(q, t)| {
                let mut v = vec![0.0; t.numel()];
                if q == k {
                    v[e] = 1.0;
                }
                Tensor::from_vec(v, t.shape()).to_dtype(t.dtype())
            })
            .collect()
    };
    let mut row = 0;
    for (k, &size) in sizes.iter().enumerate() {
        for e in 0..size {
            let grads = vjp(one_hot(k, e))?;
            for (i, (g, x)) in grads.iter().zip(inputs).enumerate() {
                check_meta(i, g, x)?;
                for (j, a) in g.values_f64().into_iter().enumerate() {
                    let n = numerical[i][j][row];
                    // Written so that a NaN on either side fails the check.
                    let close = (a - n).abs() <= o.atol + o.rtol * n.abs();
                    if !close {
                        return Err(fail(format!(
                            "Jacobian mismatch for output {k} with respect to input {i}: d out[{e}] / d in[{j}]: numerical {n} vs analytical {a}"
                        )));
                    }
                }
            }
            row += 1;
        }
    }
    Ok(())
}

/// Random projections: `v^T J u` from one vector-Jacobian product against the directional
/// central difference along `u`, for a few random `u` (per input) and `v`.
fn check_projections(
    f: &TestFn,
    inputs: &[Tensor],
    outputs: &[Tensor],
    vjp: &Vjp,
    o: GradcheckOptions,
) -> Result<()> {
    let mut rng = StdRng::seed_from_u64(0x5eed);
    for trial in 0..3 {
        let v: Vec<Tensor> = outputs.iter().map(|t| random_like(t, &mut rng)).collect();
        let vflat: Vec<f64> = v.iter().flat_map(|t| t.values_f64()).collect();
        let grads = vjp(v)?;
        for (i, (g, x)) in grads.iter().zip(inputs).enumerate() {
            check_meta(i, g, x)?;
            let u = random_like(x, &mut rng).values_f64();
            let analytical: f64 = g.values_f64().iter().zip(&u).map(|(a, b)| a * b).sum();
            let base = x.values_f64();
            let eval = |s: f64| {
                let shifted: Vec<f64> = base.iter().zip(&u).map(|(b, d)| b + s * d).collect();
                perturbed(f, inputs, i, shifted)
            };
            let (plus, minus) = (eval(o.eps), eval(-o.eps));
            let numerical: f64 = plus
                .iter()
                .zip(&minus)
                .zip(&vflat)
                .map(|((p, q), w)| (p - q) / (2.0 * o.eps) * w)
                .sum();
            let close = (analytical - numerical).abs() <= o.atol + o.rtol * numerical.abs();
            if !close {
                return Err(fail(format!(
                    "projection {trial} of the Jacobian with respect to input {i}: numerical v^T J u = {numerical} vs analytical {analytical}"
                )));
            }
        }
    }
    Ok(())
}

/// The output tangents of `f` for input tangents `u` (one tensor per input, batched or not).
fn output_tangents(
    f: &TestFn,
    inputs: &[Tensor],
    u: &[Tensor],
    batched: bool,
) -> Result<Vec<Tensor>> {
    let _level = crate::forward_ad::try_dual_level()?;
    let duals = inputs
        .iter()
        .zip(u)
        .map(|(x, u)| {
            if batched {
                crate::forward_ad::try_make_dual_batched(x, u)
            } else {
                crate::forward_ad::try_make_dual(x, u)
            }
        })
        .collect::<Result<Vec<_>>>()?;
    let b = u.first().filter(|_| batched).map(|t| t.shape()[0]);
    f(&duals)
        .iter()
        .enumerate()
        .map(|(k, o)| {
            let mut expected: Vec<usize> = b.into_iter().collect();
            expected.extend_from_slice(o.shape());
            let t = match crate::forward_ad::unpack_dual(o).1 {
                Some(t) => t,
                None => Tensor::full_with(&expected, 0.0, o.dtype()),
            };
            if t.shape() != expected.as_slice() || t.dtype() != o.dtype() {
                return Err(fail(format!(
                    "the tangent of output {k} has shape {:?} and dtype {}, expected {:?} and {}",
                    t.shape(),
                    t.dtype(),
                    expected,
                    o.dtype()
                )));
            }
            Ok(t.detach())
        })
        .collect()
}

/// Forward mode against central differences, against reverse mode, and batched.
fn check_forward(
    f: &TestFn,
    inputs: &[Tensor],
    outputs: &[Tensor],
    vjp: &Vjp,
    o: GradcheckOptions,
) -> Result<()> {
    let close = |a: f64, n: f64| (a - n).abs() <= o.atol + o.rtol * n.abs();
    // Within tolerance, or both NaN (a NaN output has a NaN tangent).
    let same = |a: f64, n: f64| close(a, n) || (a.is_nan() && n.is_nan());
    let mut rng = StdRng::seed_from_u64(0xf0_4a4d + inputs.len() as u64);
    let u: Vec<Tensor> = inputs.iter().map(|x| random_like(x, &mut rng)).collect();
    let ju = output_tangents(f, inputs, &u, false)?;
    // Directional central differences, all inputs moved together along u.
    let shifted = |s: f64| -> Vec<f64> {
        let xs: Vec<Tensor> = inputs
            .iter()
            .zip(&u)
            .map(|(x, u)| {
                let v: Vec<f64> = x
                    .values_f64()
                    .iter()
                    .zip(u.values_f64())
                    .map(|(a, d)| a + s * d)
                    .collect();
                leaf_like(v, x)
            })
            .collect();
        flat_outputs(f, &xs)
    };
    let (plus, minus) = (shifted(o.eps), shifted(-o.eps));
    let analytical: Vec<f64> = ju.iter().flat_map(|t| t.values_f64()).collect();
    for (e, (a, (p, q))) in analytical.iter().zip(plus.iter().zip(&minus)).enumerate() {
        let n = (p - q) / (2.0 * o.eps);
        if !same(*a, n) {
            return Err(fail(format!(
                "forward mode: element {e} of J u: numerical {n} vs forward-mode {a}"
            )));
        }
    }
    // Forward agrees with reverse: <v, J u> = <J^T v, u>.
    let v: Vec<Tensor> = outputs.iter().map(|t| random_like(t, &mut rng)).collect();
    let lhs: f64 = v
        .iter()
        .zip(&ju)
        .map(|(v, t)| dot(&v.values_f64(), &t.values_f64()))
        .sum();
    let rhs: f64 = vjp(v)?
        .iter()
        .zip(&u)
        .map(|(g, u)| dot(&g.values_f64(), &u.values_f64()))
        .sum();
    // (At a non-finite output, e.g. the mean of nothing, the derivatives are undefined.)
    let finite = outputs
        .iter()
        .all(|o| o.values_f64().iter().all(|v| v.is_finite()));
    if finite && !close(lhs, rhs) {
        return Err(fail(format!(
            "forward mode disagrees with reverse mode: <v, J u> = {lhs} vs <J^T v, u> = {rhs}"
        )));
    }
    // A batch of tangents gives each member's tangent.
    let members: Vec<Vec<Tensor>> = (0..3)
        .map(|_| inputs.iter().map(|x| random_like(x, &mut rng)).collect())
        .collect();
    let stacked: Vec<Tensor> = (0..inputs.len())
        .map(|i| Tensor::stack(&members.iter().map(|m| m[i].clone()).collect::<Vec<_>>(), 0))
        .collect();
    let batch = output_tangents(f, inputs, &stacked, true)?;
    for (b, member) in members.iter().enumerate() {
        let alone = output_tangents(f, inputs, member, false)?;
        for (k, (all, one)) in batch.iter().zip(&alone).enumerate() {
            let got = all.select(0, b as isize).values_f64();
            for (e, (g, w)) in got.iter().zip(one.values_f64()).enumerate() {
                if !same(*g, w) {
                    return Err(fail(format!(
                        "batched forward mode: member {b} of output {k}, element {e}: batched {g} vs alone {w}"
                    )));
                }
            }
        }
    }
    Ok(())
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn check_meta(i: usize, g: &Tensor, x: &Tensor) -> Result<()> {
    if g.shape() != x.shape() || g.dtype() != x.dtype() {
        return Err(fail(format!(
            "gradient of input {i} has shape {:?} and dtype {}, but the input has shape {:?} and dtype {}",
            g.shape(),
            g.dtype(),
            x.shape(),
            x.dtype()
        )));
    }
    Ok(())
}
