//! One table of op specs, every entry checked against central differences (f64) to second
//! order (third for elementwise ops), over at least 10 shape cases each (0-d, empty,
//! one-element, broadcast pairs and transposed non-contiguous inputs where the op accepts
//! them), with 3 random seeds each. Forward mode is checked at every order too (tangents
//! against central differences and reverse mode, batched tangents against single ones).

use ferrograd::testing::{check_grads, GradcheckOptions};
use ferrograd::{DType, Tensor};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Where an op's inputs are drawn from.
#[derive(Clone, Copy)]
enum Domain {
    /// Standard normal.
    Any,
    /// Uniform in [0.5, 2].
    Positive,
    /// +-[0.5, 2]: away from zero (divisors, reciprocals, kinks at 0).
    NonZero,
    /// (-0.9, 0.9): inside the domain of asin, acos, atanh.
    Unit,
    /// [1.5, 3]: the domain of acosh.
    AboveOne,
}

/// One input: its shape, and whether it is a transposed (non-contiguous) 2-d view.
#[derive(Clone)]
struct Input {
    shape: Vec<usize>,
    transposed: bool,
}

fn s(shape: &[usize]) -> Input {
    Input {
        shape: shape.to_vec(),
        transposed: false,
    }
}

/// A transposed view of shape `shape` (2-d).
fn tr(shape: &[usize]) -> Input {
    Input {
        shape: shape.to_vec(),
        transposed: true,
    }
}

type OpFn = fn(&[Tensor]) -> Tensor;

struct Spec {
    name: &'static str,
    f: OpFn,
    cases: Vec<Vec<Input>>,
    domain: Domain,
    order: usize,
    special: Special,
    /// Why forward mode is not checked (`None`: it is).
    reverse_only: Option<&'static str>,
    /// Why the vmap column is not checked (`None`: it is).
    no_vmap: Option<&'static str>,
}

/// The "special points" column: inputs with exact zeros, exact ties and exact equalities at
/// which the op is still smooth, checked by central differences to the op's full order
/// (forward mode too). Every row must fill it in: [`assert_table`] fails on `Missing`.
enum Special {
    /// Not filled in: a test failure.
    Missing,
    /// Points to check: explicit ones (each the full list of inputs), and optionally every
    /// shape case of the row with input `i` filled cyclically with `fill[i]` (the last
    /// pattern repeats for further inputs).
    Check {
        at: Vec<Vec<Tensor>>,
        fill: Option<Vec<Vec<f64>>>,
    },
    /// The op has no special point at which it is smooth, for the stated reason.
    None(&'static str),
}

fn spec(name: &'static str, f: OpFn, cases: Vec<Vec<Input>>, domain: Domain, order: usize) -> Spec {
    Spec {
        name,
        f,
        cases,
        domain,
        order,
        special: Special::Missing,
        reverse_only: None,
        no_vmap: None,
    }
}

impl Spec {
    fn check(&mut self) -> (&mut Vec<Vec<Tensor>>, &mut Option<Vec<Vec<f64>>>) {
        if !matches!(self.special, Special::Check { .. }) {
            self.special = Special::Check {
                at: Vec::new(),
                fill: None,
            };
        }
        match &mut self.special {
            Special::Check { at, fill } => (at, fill),
            _ => unreachable!(),
        }
    }

    /// Checks reverse mode only, for the stated reason (in-place ops refuse dual tensors).
    fn reverse_only(mut self, reason: &'static str) -> Spec {
        self.reverse_only = Some(reason);
        self
    }

    /// The vmap column is not checked, for the stated reason.
    fn no_vmap(mut self, reason: &'static str) -> Spec {
        self.no_vmap = Some(reason);
        self
    }

    /// Special points given explicitly (see [`pt`]).
    fn at(mut self, points: Vec<Vec<Tensor>>) -> Spec {
        self.check().0.extend(points);
        self
    }

    /// Every shape case, input `i` filled cyclically with `patterns[i]`.
    fn fill(mut self, patterns: &[&[f64]]) -> Spec {
        *self.check().1 = Some(patterns.iter().map(|p| p.to_vec()).collect());
        self
    }

    /// Every shape case with exact zeros (and signed zeros) between nonzero values, the same
    /// in every input (so equal-shaped inputs are also exactly equal): the special point of
    /// an op smooth at 0 and where its inputs coincide.
    fn zeros(self) -> Spec {
        self.fill(&[&ZEROS])
    }

    /// No special point at which the op is smooth.
    fn none(mut self, reason: &'static str) -> Spec {
        self.special = Special::None(reason);
        self
    }
}

/// Exact zeros of both signs between nonzero values.
const ZEROS: [f64; 5] = [0.0, 0.7, -0.0, -1.3, 0.0];

/// A fixed `f64` input of `shape` (row-major values) for a special point.
fn pt(values: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(values.to_vec(), shape).requires_grad_(true)
}

/// A fixed 1-d `f64` input.
fn v(values: &[f64]) -> Tensor {
    pt(values, &[values.len()])
}

/// The inputs of shape case `case` filled cyclically with `patterns` (input `i` takes
/// `patterns[min(i, last)]`).
fn filled(case: &[Input], patterns: &[Vec<f64>]) -> Vec<Tensor> {
    case.iter()
        .enumerate()
        .map(|(i, inp)| {
            let p = &patterns[i.min(patterns.len() - 1)];
            let n: usize = inp.shape.iter().product();
            let vals: Vec<f64> = (0..n).map(|k| p[k % p.len()]).collect();
            if inp.transposed {
                let (r, c) = (inp.shape[0], inp.shape[1]);
                let mut tv = vec![0.0; n];
                for a in 0..r {
                    for b in 0..c {
                        tv[b * r + a] = vals[a * c + b];
                    }
                }
                Tensor::from_vec(tv, &[c, r]).t().requires_grad_(true)
            } else {
                pt(&vals, &inp.shape)
            }
        })
        .collect()
}

/// `[x, g]` to the gradient of `sin(x)` (`cos`: of `cos(x)`) for the incoming gradient `g`,
/// itself differentiable: the backward primitive `g * cos(x)` (`g * -sin(x)`).
fn trig_vjp(x: &[Tensor], cos: bool) -> Tensor {
    let y = if cos { x[0].cos() } else { x[0].sin() };
    let options = ferrograd::GradOptions::new()
        .grad_outputs([x[1].clone()])
        .create_graph(true);
    ferrograd::autograd::grad(&[y], &[&x[0]], options)[0]
        .clone()
        .expect("x is used")
}

fn unary_cases() -> Vec<Vec<Input>> {
    vec![
        vec![s(&[])],
        vec![s(&[0])],
        vec![s(&[1])],
        vec![s(&[5])],
        vec![s(&[2, 3])],
        vec![s(&[2, 3, 2])],
        vec![s(&[1, 1, 1])],
        vec![s(&[3, 0, 2])],
        vec![tr(&[2, 3])],
        vec![tr(&[4, 1])],
    ]
}

fn binary_cases() -> Vec<Vec<Input>> {
    vec![
        vec![s(&[]), s(&[])],
        vec![s(&[3]), s(&[3])],
        vec![s(&[0]), s(&[0])],
        vec![s(&[0]), s(&[1])],
        vec![s(&[1]), s(&[4])],
        vec![s(&[2, 3]), s(&[2, 3])],
        vec![s(&[3, 1]), s(&[1, 4])],
        vec![s(&[]), s(&[2, 3])],
        vec![s(&[2, 3]), s(&[])],
        vec![s(&[4]), s(&[2, 1])],
        vec![s(&[2, 3, 2]), s(&[3, 1])],
        vec![tr(&[2, 3]), s(&[2, 3])],
        vec![s(&[3]), tr(&[2, 3])],
    ]
}

fn random_input(inp: &Input, domain: Domain, rng: &mut StdRng) -> Tensor {
    let n: usize = inp.shape.iter().product();
    let v: Vec<f64> = (0..n)
        .map(|_| match domain {
            Domain::Any => normal(rng),
            Domain::Positive => rng.random_range(0.5..2.0),
            Domain::Unit => rng.random_range(-0.9..0.9),
            Domain::AboveOne => rng.random_range(1.5..3.0),
            Domain::NonZero => {
                let m: f64 = rng.random_range(0.5..2.0);
                if rng.random_bool(0.5) {
                    m
                } else {
                    -m
                }
            }
        })
        .collect();
    let t = if inp.transposed {
        let (r, c) = (inp.shape[0], inp.shape[1]);
        let mut tv = vec![0.0; n];
        for i in 0..r {
            for j in 0..c {
                tv[j * r + i] = v[i * c + j];
            }
        }
        let t = Tensor::from_vec(tv, &[c, r]).t();
        assert!(!t.is_contiguous() || r == 1 || c == 1);
        t
    } else {
        Tensor::from_vec(v, &inp.shape)
    };
    assert_eq!(t.dtype(), DType::F64);
    t.requires_grad_(true)
}

/// A standard normal sample (Box-Muller).
fn normal(rng: &mut StdRng) -> f64 {
    let (u, v): (f64, f64) = (rng.random(), rng.random());
    (-2.0 * (1.0 - u).ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

/// Runs every spec of `table`; returns the number of checks and the failures.
fn run(table: &[Spec]) -> (usize, Vec<String>) {
    let mut checks = 0;
    let mut failures = Vec::new();
    for spec in table {
        for (c, case) in spec.cases.iter().enumerate() {
            for seed in 0..3u64 {
                let mut rng = StdRng::seed_from_u64(seed * 1000 + c as u64);
                let inputs: Vec<Tensor> = case
                    .iter()
                    .map(|i| random_input(i, spec.domain, &mut rng))
                    .collect();
                let f = spec.f;
                let g = move |xs: &[Tensor]| vec![f(xs)];
                checks += spec.order;
                let shapes: Vec<String> = case
                    .iter()
                    .map(|i| format!("{}{:?}", if i.transposed { "T" } else { "" }, i.shape))
                    .collect();
                let options = GradcheckOptions {
                    check_forward_ad: spec.reverse_only.is_none(),
                    ..GradcheckOptions::default()
                };
                if let Err(e) = check_grads(&g, &inputs, spec.order, options) {
                    failures.push(format!(
                        "{} {} seed {seed}: {e}",
                        spec.name,
                        shapes.join(" x ")
                    ));
                }
                if seed == 0 && spec.no_vmap.is_none() {
                    if let Err(e) = check_vmap(spec, case, &mut rng) {
                        failures.push(format!("{} {} vmap: {e}", spec.name, shapes.join(" x ")));
                    }
                }
            }
        }
        let points: Vec<Vec<Tensor>> = match &spec.special {
            Special::Missing => {
                failures.push(format!(
                    "{}: no special-points entry (give .at(..), .fill(..), .zeros() or .none(reason))",
                    spec.name
                ));
                Vec::new()
            }
            Special::None(reason) => {
                assert!(!reason.is_empty(), "{}: none() needs a reason", spec.name);
                Vec::new()
            }
            Special::Check { at, fill } => {
                let mut points = at.clone();
                if let Some(patterns) = fill {
                    points.extend(spec.cases.iter().map(|c| filled(c, patterns)));
                }
                points
            }
        };
        for (i, inputs) in points.iter().enumerate() {
            let f = spec.f;
            let g = move |xs: &[Tensor]| vec![f(xs)];
            checks += spec.order;
            let options = GradcheckOptions {
                check_forward_ad: spec.reverse_only.is_none(),
                ..GradcheckOptions::default()
            };
            if let Err(e) = check_grads(&g, inputs, spec.order, options) {
                let values: Vec<String> = inputs
                    .iter()
                    .map(|t| format!("{:?}", t.to_vec::<f64>()))
                    .collect();
                failures.push(format!(
                    "{} special point {i} {}: {e}",
                    spec.name,
                    values.join(" x ")
                ));
            }
        }
    }
    (checks, failures)
}

/// The vmap column: `vmap(f)` over a batch of 3 members drawn like the row's inputs equals
/// stacking `f` over the members, with the batch at the front, in the middle and at the end of
/// every input, and with each input separately unbatched (`in_dims` `None`: one tensor shared
/// by every member).
fn check_vmap(spec: &Spec, case: &[Input], rng: &mut StdRng) -> Result<(), String> {
    use ferrograd::func::{self, Func, VmapOptions};
    const B: usize = 3;
    let members: Vec<Vec<Tensor>> = (0..B)
        .map(|_| {
            case.iter()
                .map(|i| random_input(i, spec.domain, rng).detach())
                .collect()
        })
        .collect();
    let n = case.len();
    let mut patterns = vec![vec![true; n]];
    if n > 1 {
        patterns.extend((0..n).map(|k| (0..n).map(|i| i != k).collect()));
    }
    let f = spec.f;
    for pattern in &patterns {
        for place in 0..3 {
            let mut args = Vec::new();
            let mut in_dims = Vec::new();
            for k in 0..n {
                let r = members[0][k].dim();
                if pattern[k] {
                    let d = [0, r / 2, r][place];
                    let ts: Vec<Tensor> = members.iter().map(|m| m[k].clone()).collect();
                    args.push(Tensor::stack(&ts, d as isize));
                    in_dims.push(Some(d as isize));
                } else {
                    args.push(members[0][k].clone());
                    in_dims.push(None);
                }
            }
            let want: Vec<Tensor> = (0..B)
                .map(|b| {
                    let xs: Vec<Tensor> = (0..n)
                        .map(|k| members[if pattern[k] { b } else { 0 }][k].clone())
                        .collect();
                    f(&xs)
                })
                .collect();
            let want = Tensor::try_stack(&want, 0)
                .map_err(|e| format!("the members' outputs do not stack: {e}"))?;
            let vf = func::vmap_with(&Func::scalar(f), VmapOptions::in_dims(&in_dims));
            let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| vf.call(&args)))
                .map_err(|p| {
                    p.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default()
                })
                .and_then(|r| r.map_err(|e| e.to_string()));
            // An in-place op on an unbatched tensor with a batched operand is vmap's error
            // (PyTorch's too): nothing to compare.
            if let Err(e) = &got {
                if !pattern[0] && e.contains("vmap: inplace arithmetic") {
                    continue;
                }
            }
            let got = got?;
            let got = &got[0];
            if got.shape() != want.shape() {
                return Err(format!(
                    "in_dims {in_dims:?}: shape {:?}, the loop's {:?}",
                    got.shape(),
                    want.shape()
                ));
            }
            let (g, w) = (got.to_vec::<f64>(), want.to_vec::<f64>());
            for (i, (a, b)) in g.iter().zip(&w).enumerate() {
                let same = a == b
                    || (a.is_nan() && b.is_nan())
                    || (a - b).abs() <= 1e-10 * (1.0 + b.abs());
                if !same {
                    return Err(format!(
                        "in_dims {in_dims:?}: element {i} is {a}, the loop's {b}"
                    ));
                }
            }
        }
    }
    Ok(())
}

fn assert_table(table: Vec<Spec>) {
    for spec in &table {
        assert!(
            spec.cases.len() >= 10,
            "{} has {} shape cases; every op gets at least 10",
            spec.name,
            spec.cases.len()
        );
    }
    let (checks, failures) = run(&table);
    let cases: usize = table.iter().map(|s| s.cases.len()).sum();
    eprintln!(
        "gradcheck table: {} ops, {cases} shape cases, {checks} checks",
        table.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {checks} checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ------------------------------------------------------------------ standard case lists

/// Rank >= 2, every dimension >= 1.
fn matrices() -> Vec<Vec<Input>> {
    [
        s(&[2, 3]),
        tr(&[2, 3]),
        s(&[3, 3, 2]),
        s(&[1, 1]),
        s(&[2, 1, 4]),
        s(&[3, 4]),
        s(&[1, 5]),
        s(&[4, 1]),
        tr(&[3, 3]),
        s(&[2, 2, 2, 2]),
    ]
    .into_iter()
    .map(|i| vec![i])
    .collect()
}

/// Rank exactly 2.
fn matrices_2d() -> Vec<Vec<Input>> {
    [
        s(&[2, 3]),
        tr(&[2, 3]),
        s(&[1, 1]),
        s(&[3, 4]),
        s(&[1, 5]),
        s(&[4, 1]),
        tr(&[3, 3]),
        s(&[3, 2]),
        tr(&[1, 4]),
        s(&[2, 2]),
    ]
    .into_iter()
    .map(|i| vec![i])
    .collect()
}

/// Every dimension >= 2 (unbiased variance needs two elements).
fn multi() -> Vec<Vec<Input>> {
    [
        s(&[2, 3]),
        tr(&[2, 3]),
        s(&[2, 3, 2]),
        s(&[4, 2, 2]),
        tr(&[3, 2]),
        s(&[3, 4]),
        s(&[2, 2]),
        s(&[5, 2]),
        tr(&[4, 3]),
        s(&[2, 2, 3]),
    ]
    .into_iter()
    .map(|i| vec![i])
    .collect()
}

/// Rank >= 2 including empty dimensions.
fn with_empty() -> Vec<Vec<Input>> {
    let mut c = matrices();
    c.push(vec![s(&[0, 3])]);
    c.push(vec![s(&[2, 0])]);
    c
}

/// Square matrices and batches of them.
fn squares() -> Vec<Vec<Input>> {
    [
        s(&[1, 1]),
        s(&[2, 2]),
        s(&[3, 3]),
        s(&[4, 4]),
        tr(&[2, 2]),
        tr(&[3, 3]),
        s(&[2, 2, 2]),
        s(&[3, 2, 2]),
        s(&[2, 3, 3]),
        s(&[1, 3, 3]),
    ]
    .into_iter()
    .map(|i| vec![i])
    .collect()
}

/// Square 2-d matrices.
fn squares_2d() -> Vec<Vec<Input>> {
    [
        s(&[1, 1]),
        s(&[2, 2]),
        s(&[3, 3]),
        s(&[4, 4]),
        s(&[5, 5]),
        tr(&[2, 2]),
        tr(&[3, 3]),
        tr(&[4, 4]),
        s(&[6, 6]),
        tr(&[1, 1]),
    ]
    .into_iter()
    .map(|i| vec![i])
    .collect()
}

/// Two inputs of one shape.
fn same_pairs() -> Vec<Vec<Input>> {
    vec![
        vec![s(&[]), s(&[])],
        vec![s(&[1]), s(&[1])],
        vec![s(&[4]), s(&[4])],
        vec![s(&[0]), s(&[0])],
        vec![s(&[2, 3]), s(&[2, 3])],
        vec![tr(&[2, 3]), s(&[2, 3])],
        vec![s(&[3, 1]), tr(&[3, 1])],
        vec![s(&[1, 4]), s(&[1, 4])],
        vec![s(&[2, 2, 2]), s(&[2, 2, 2])],
        vec![s(&[5]), s(&[5])],
    ]
}

/// Two square matrices of one shape.
fn square_pairs() -> Vec<Vec<Input>> {
    squares_2d()
        .into_iter()
        .map(|c| vec![c[0].clone(), s(&c[0].shape)])
        .collect()
}

/// `[N, C]` logits.
fn classes() -> Vec<Vec<Input>> {
    [
        s(&[2, 3]),
        tr(&[2, 3]),
        s(&[1, 2]),
        s(&[4, 5]),
        s(&[3, 3]),
        s(&[5, 2]),
        tr(&[4, 3]),
        s(&[1, 1]),
        s(&[6, 4]),
        s(&[2, 7]),
    ]
    .into_iter()
    .map(|i| vec![i])
    .collect()
}

/// An int64 tensor of `shape` with `shape[dim]` replaced by `len`, holding positions modulo
/// `bound`: a valid index for gather/scatter along `dim` of a tensor with `bound` there.
fn cyclic_index(shape: &[usize], dim: usize, len: usize, bound: usize) -> Tensor {
    let mut sh = shape.to_vec();
    sh[dim] = len;
    let n: usize = sh.iter().product();
    let v: Vec<f64> = (0..n)
        .map(|i| ((i * 7 + 1) % bound.max(1)) as f64)
        .collect();
    Tensor::from_vec(v, &sh).to_dtype(DType::I64)
}

/// Fixed, distinct class weights `0.5, 1.0, 1.5, ...` for `[N, C]` logits.
fn class_weights(x: &Tensor) -> Tensor {
    let c = x.shape()[1];
    Tensor::from_vec((0..c).map(|i| 0.5 * (i + 1) as f64).collect(), &[c])
}

/// Fixed class probabilities with the logits' shape (rows of a softmax of fixed values).
fn class_probabilities(x: &Tensor) -> Tensor {
    let n = x.numel();
    Tensor::from_vec(
        (0..n).map(|i| ((i * 3) % 5) as f64 * 0.4).collect(),
        x.shape(),
    )
    .softmax(1)
}

/// Class targets for `[N, C, ...]` logits: `(i % C)` as int64 of shape `[N, ...]`.
fn class_targets(x: &Tensor) -> Tensor {
    let c = x.shape()[1];
    let mut sh = x.shape().to_vec();
    sh.remove(1);
    let n: usize = sh.iter().product();
    Tensor::from_vec((0..n).map(|i| (i % c) as f64).collect(), &sh).to_dtype(DType::I64)
}

// ------------------------------------------------------------------ the table

/// The rows of [`elementwise_unary_to_third_order`].
fn unary_table() -> Vec<Spec> {
    use Domain::*;
    let u = unary_cases;
    vec![
        spec("neg", |x| x[0].neg(), u(), Any, 3).zeros(),
        spec("exp", |x| x[0].exp(), u(), Any, 3).zeros(),
        spec("sin", |x| x[0].sin(), u(), Any, 3).zeros(),
        spec("cos", |x| x[0].cos(), u(), Any, 3).zeros(),
        // The backward primitives on their own (`SinBackwardBackward0`, `g * cos(x)`, and
        // `CosBackwardBackward0`, `g * -sin(x)`), as functions of both `x` and the incoming
        // gradient `g`: their rules to second order (sin's and cos's to fourth).
        spec("sin vjp", |x| trig_vjp(x, false), same_pairs(), Any, 2)
            .zeros()
            .no_vmap("autograd::grad inside the function (the plain row's vmap column runs it)"),
        spec("cos vjp", |x| trig_vjp(x, true), same_pairs(), Any, 2)
            .zeros()
            .no_vmap("autograd::grad inside the function (the plain row's vmap column runs it)"),
        spec("tanh", |x| x[0].tanh(), u(), Any, 3).zeros(),
        spec("sqrt", |x| x[0].sqrt(), u(), Positive, 3)
            .none("singular at 0 (infinite derivative, undefined below); no other special point"),
        spec("reciprocal", |x| x[0].reciprocal(), u(), NonZero, 3).none("pole at 0"),
        spec("pow 2", |x| x[0].pow(2.0), u(), Any, 3).zeros(),
        spec("pow 3", |x| x[0].pow(3.0), u(), Any, 3).zeros(),
        spec("pow 0", |x| x[0].pow(0.0), u(), Any, 3).zeros(),
        spec("pow 1", |x| x[0].pow(1.0), u(), Any, 3).zeros(),
        spec("pow -1", |x| x[0].pow(-1.0), u(), NonZero, 3).none("pole at 0"),
        spec("pow -2", |x| x[0].pow(-2.0), u(), NonZero, 3).none("pole at 0"),
        spec("pow 0.5", |x| x[0].pow(0.5), u(), Positive, 3)
            .none("singular at 0 (infinite derivative, undefined below)"),
        spec("pow -0.5", |x| x[0].pow(-0.5), u(), Positive, 3).none("pole at 0"),
        spec("pow 2.5", |x| x[0].pow(2.5), u(), Positive, 3)
            .none("at 0 the third derivative is infinite and it is undefined below 0"),
        spec("add_scalar", |x| x[0].add_scalar(2.5), u(), Any, 3).zeros(),
        spec("sub_scalar", |x| &x[0] - 1.5, u(), Any, 3).zeros(),
        spec("rsub_scalar", |x| 1.5 - &x[0], u(), Any, 3).zeros(),
        spec("mul_scalar", |x| 3.0 * &x[0], u(), Any, 3).zeros(),
        spec("div_scalar", |x| &x[0] / 4.0, u(), Any, 3).zeros(),
        spec("scalar_div", |x| 2.0 / &x[0], u(), NonZero, 3).none("pole at 0"),
        spec("abs", |x| x[0].abs(), u(), NonZero, 3)
            .none("kink at 0 (gradient 0 there, PyTorch's convention)"),
        spec("sign", |x| x[0].sign(), u(), NonZero, 3).none("jump at 0"),
        spec("floor", |x| x[0].floor(), u(), Any, 3).none("jumps at every integer, 0 included"),
        spec("ceil", |x| x[0].ceil(), u(), Any, 3).none("jumps at every integer, 0 included"),
        spec("round", |x| x[0].round(), u(), Any, 3).zeros(),
        spec("trunc", |x| x[0].trunc(), u(), Any, 3).zeros(),
        spec("exp2", |x| x[0].exp2(), u(), Any, 3).zeros(),
        spec("expm1", |x| x[0].expm1(), u(), Any, 3).zeros(),
        spec("log", |x| x[0].log(), u(), Positive, 3).fill(&[&[1.0, 0.5, 1.0, 2.0]]),
        spec("log2", |x| x[0].log2(), u(), Positive, 3).fill(&[&[1.0, 0.5, 1.0, 2.0]]),
        spec("log10", |x| x[0].log10(), u(), Positive, 3).fill(&[&[1.0, 0.5, 1.0, 2.0]]),
        spec("log1p", |x| x[0].log1p(), u(), Positive, 3).fill(&[&[0.0, 0.7, -0.0, 1.3]]),
        spec("rsqrt", |x| x[0].rsqrt(), u(), Positive, 3).none("pole at 0"),
        spec("square", |x| x[0].square(), u(), Any, 3).zeros(),
        spec("tan", |x| x[0].tan(), u(), Unit, 3).zeros(),
        spec("asin", |x| x[0].asin(), u(), Unit, 3).fill(&[&[0.0, 0.7, -0.0, -0.5]]),
        spec("acos", |x| x[0].acos(), u(), Unit, 3).fill(&[&[0.0, 0.7, -0.0, -0.5]]),
        spec("atan", |x| x[0].atan(), u(), Any, 3).zeros(),
        spec("sinh", |x| x[0].sinh(), u(), Any, 3).zeros(),
        spec("cosh", |x| x[0].cosh(), u(), Any, 3).zeros(),
        spec("asinh", |x| x[0].asinh(), u(), Any, 3).zeros(),
        spec("acosh", |x| x[0].acosh(), u(), AboveOne, 3)
            .none("singular at 1, the end of its domain; no other special point"),
        spec("atanh", |x| x[0].atanh(), u(), Unit, 3).fill(&[&[0.0, 0.7, -0.0, -0.5]]),
        spec("erf", |x| x[0].erf(), u(), Any, 3).zeros(),
        spec("erfc", |x| x[0].erfc(), u(), Any, 3).zeros(),
        spec("rpow 2.5", |x| x[0].rpow(2.5), u(), Any, 3).zeros(),
        spec("rpow 0.3", |x| x[0].rpow(0.3), u(), Any, 3).zeros(),
        spec(
            "to_dtype f64 -> f64",
            |x| x[0].to_dtype(DType::F64),
            u(),
            Any,
            3,
        )
        .zeros(),
    ]
}

#[test]
fn elementwise_unary_to_third_order() {
    assert_table(unary_table());
}

/// The rows of [`activations_to_third_order`].
fn activation_table() -> Vec<Spec> {
    use Domain::*;
    let u = unary_cases;
    vec![
        spec("sigmoid", |x| x[0].sigmoid(), u(), Any, 3).zeros(),
        spec("logsigmoid", |x| x[0].logsigmoid(), u(), Any, 3).zeros(),
        spec("softplus", |x| x[0].softplus(), u(), Any, 3).zeros(),
        spec(
            "softplus_with beta 2",
            |x| x[0].softplus_with(2.0, 1.0),
            u(),
            NonZero,
            3,
        )
        .zeros(),
        spec("relu", |x| x[0].relu(), u(), NonZero, 3)
            .none("kink at 0 (gradient 0 there, PyTorch's convention)"),
        spec("relu6", |x| x[0].mul_scalar(4.0).relu6(), u(), NonZero, 3)
            .none("kinks at 0 and 6 (gradient 0 there, PyTorch's convention)"),
        spec("hardtanh", |x| x[0].hardtanh(-1.0, 1.0), u(), Unit, 3).zeros(),
        spec("leaky_relu", |x| x[0].leaky_relu(0.1), u(), NonZero, 3).none("kink at 0"),
        spec("elu", |x| x[0].elu(1.3), u(), NonZero, 3).none("kink at 0 (alpha 1.3 != 1)"),
        spec("selu", |x| x[0].selu(), u(), NonZero, 3).none("kink at 0"),
        spec("gelu", |x| x[0].gelu(), u(), Any, 3).zeros(),
        spec("gelu_tanh", |x| x[0].gelu_tanh(), u(), Any, 3).zeros(),
        spec("silu", |x| x[0].silu(), u(), Any, 3).zeros(),
        spec("mish", |x| x[0].mish(), u(), Any, 3).zeros(),
        spec(
            "clamp",
            |x| x[0].clamp(Some(-1.0), Some(1.0)),
            u(),
            NonZero,
            3,
        )
        .zeros(),
        spec(
            "clamp min",
            |x| x[0].clamp(Some(0.0), None),
            u(),
            NonZero,
            3,
        )
        .none("kink at its bound 0, its only special point"),
        spec(
            "clamp max",
            |x| x[0].clamp(None, Some(0.0)),
            u(),
            NonZero,
            3,
        )
        .none("kink at its bound 0, its only special point"),
        spec(
            "masked_fill",
            |x| x[0].masked_fill(&x[0].gt_scalar(0.0), 0.5),
            u(),
            NonZero,
            3,
        )
        .none("jump at 0, where the mask x > 0 flips"),
        spec("deep_clone", |x| x[0].deep_clone(), u(), Any, 3).zeros(),
        spec("contiguous", |x| x[0].contiguous(), u(), Any, 3).zeros(),
        spec("mul self", |x| &x[0] * &x[0], u(), Any, 3).zeros(),
        spec(
            "x / (x^2 + 1)",
            |x| &x[0] / &(&x[0] * &x[0] + 1.0),
            u(),
            Any,
            3,
        )
        .zeros(),
    ]
}

#[test]
fn activations_to_third_order() {
    assert_table(activation_table());
}

/// Shape cases for an op along its last dimension with at least `min` elements there.
fn along_last(min: usize) -> Vec<Vec<Input>> {
    let m = min.max(1);
    let mut c = vec![
        vec![s(&[m])],
        vec![s(&[m + 3])],
        vec![s(&[2, m + 1])],
        vec![s(&[3, 2, m])],
        vec![tr(&[3, m + 1])],
        vec![tr(&[4, m])],
        vec![s(&[1, 1, m])],
        vec![s(&[0, m])],
        vec![s(&[2, 0, m + 2])],
        vec![s(&[2, 2, 2, m])],
    ];
    if min <= 1 {
        c.push(vec![s(&[])]);
    }
    if min == 0 {
        c.push(vec![s(&[0])]);
    }
    c
}

/// [`along_last`]`(1)` without the empty cases, and two more.
fn nonempty() -> Vec<Vec<Input>> {
    let mut c: Vec<Vec<Input>> = along_last(1)
        .into_iter()
        .filter(|c| c[0].shape.iter().product::<usize>() > 0)
        .collect();
    c.push(vec![s(&[7])]);
    c.push(vec![tr(&[2, 2])]);
    c
}

/// `[x, weight]` pairs for prelu: one weight or one per channel.
fn prelu_cases() -> Vec<Vec<Input>> {
    vec![
        vec![s(&[]), s(&[1])],
        vec![s(&[4]), s(&[1])],
        vec![s(&[2, 3]), s(&[3])],
        vec![tr(&[2, 3]), s(&[3])],
        vec![s(&[2, 3, 2]), s(&[3])],
        vec![s(&[0, 3]), s(&[3])],
        vec![s(&[1, 1]), s(&[1])],
        vec![s(&[3, 2, 2]), s(&[1])],
        vec![s(&[2, 4, 1]), s(&[4])],
        vec![s(&[5, 2]), s(&[2])],
    ]
}

/// Shape cases with an even last dimension (glu's halves).
fn even_last() -> Vec<Vec<Input>> {
    [
        s(&[2]),
        s(&[4]),
        s(&[3, 2]),
        s(&[2, 4]),
        tr(&[4, 2]),
        s(&[2, 3, 2]),
        s(&[1, 2]),
        s(&[0, 2]),
        s(&[5, 6]),
        s(&[2, 2, 2, 2]),
    ]
    .into_iter()
    .map(|i| vec![i])
    .collect()
}

/// The rows of [`special_functions_to_third_order`] (issue 15): special functions and the
/// remaining activations.
fn special_table() -> Vec<Spec> {
    use Domain::*;
    let u = unary_cases;
    let b = binary_cases;
    let one_two: &[f64] = &[1.0, 2.0, 0.5, 3.0];
    vec![
        spec("lgamma", |x| x[0].lgamma(), u(), Positive, 3).fill(&[one_two]),
        spec("lgamma negative", |x| x[0].neg().lgamma(), u(), Positive, 3)
            .fill(&[&[0.5, 1.5, 2.5, 0.25]]),
        spec("digamma", |x| x[0].digamma(), u(), Positive, 3).fill(&[one_two]),
        spec(
            "digamma negative",
            |x| x[0].neg().digamma(),
            u(),
            Positive,
            3,
        )
        .fill(&[&[0.5, 1.5, 2.5, 0.25]]),
        spec("polygamma 1", |x| x[0].polygamma(1), u(), Positive, 3).fill(&[one_two]),
        spec("polygamma 2", |x| x[0].polygamma(2), u(), Positive, 3).fill(&[one_two]),
        spec("polygamma 0", |x| x[0].polygamma(0), u(), Positive, 3).fill(&[one_two]),
        spec("erfinv", |x| x[0].erfinv(), u(), Unit, 3).fill(&[&[0.0, 0.5, -0.0, -0.5]]),
        spec("i0", |x| x[0].i0(), u(), Any, 3).zeros(),
        spec("sinc", |x| x[0].sinc(), u(), Any, 3).fill(&[&[0.0, 1.0, -0.0, -1.0, 2.0, 1e-3]]),
        spec(
            "logit",
            |x| x[0].mul_scalar(0.5).add_scalar(0.5).logit(None),
            u(),
            Unit,
            3,
        )
        .fill(&[&[0.0, 0.7, -0.0, -0.5]]),
        spec(
            "logit eps",
            |x| x[0].mul_scalar(0.5).add_scalar(0.5).logit(Some(0.1)),
            u(),
            Unit,
            3,
        )
        .fill(&[&[0.0, 0.7, -0.0, -0.5]]),
        spec("hardswish", |x| x[0].hardswish(), u(), Any, 3).zeros(),
        spec("hardsigmoid", |x| x[0].hardsigmoid(), u(), Any, 3).zeros(),
        spec("celu", |x| x[0].celu(0.7), u(), NonZero, 3)
            .none("the second derivative jumps at 0 (1/alpha below, 0 above)"),
        spec("rrelu", |x| x[0].rrelu(0.1, 0.3), u(), NonZero, 3)
            .none("kink at 0 (the negative slope there, PyTorch's convention)"),
        spec(
            "nan_to_num",
            |x| x[0].nan_to_num(0.0, None, None),
            u(),
            Any,
            3,
        )
        .zeros(),
        spec("frac", |x| x[0].frac(), u(), NonZero, 3).none("jumps at every integer; 0 included"),
        spec("softsign", |x| x[0].softsign(), u(), Any, 3).none("the second derivative jumps at 0"),
        spec("softmin", |x| x[0].softmin(-1), u(), Any, 2).zeros(),
        spec("glu", |x| x[0].glu(-1), even_last(), Any, 2).zeros(),
        spec("prelu", |x| x[0].prelu(&x[1]), prelu_cases(), NonZero, 2)
            .none("kink at 0 (weight * grad there, PyTorch's convention)"),
        spec("xlogy", |x| x[0].xlogy(&x[1]), b(), Positive, 3)
            .none("at x == 0 the gradient in x is PyTorch's xlogy(x != 0, y) = 0, not log(y)"),
        spec("logaddexp", |x| x[0].logaddexp(&x[1]), b(), Any, 3).zeros(),
        spec("logaddexp2", |x| x[0].logaddexp2(&x[1]), b(), Any, 3).zeros(),
        spec("copysign", |x| x[0].copysign(&x[1]), b(), NonZero, 3)
            .none("kink at self == 0 and a jump at other == 0"),
    ]
}

#[test]
fn special_functions_to_third_order() {
    assert_table(special_table());
}

/// Forward values of the special functions against PyTorch 2.15 (f64; printed with
/// `[float(v) for v in t]`).
// PyTorch's printed values, some of which are 2/pi or ln 2.
#[allow(clippy::approx_constant)]
#[test]
fn special_functions_match_pytorch() {
    let check = |name: &str, got: Tensor, want: &[f64]| {
        let got = got.to_vec::<f64>();
        assert_eq!(got.len(), want.len(), "{name}");
        for (g, w) in got.iter().zip(want) {
            let ok =
                (g.is_nan() && w.is_nan()) || g == w || (g - w).abs() <= 1e-12 * w.abs().max(1.0);
            assert!(ok, "{name}: {got:?} vs {want:?}");
        }
    };
    let t = |v: &[f64]| Tensor::from_vec(v.to_vec(), &[v.len()]);
    let x = t(&[0.5, 1.0, 3.5, -0.5, -2.5, 7.25, 12.0, 0.001]);
    check(
        "lgamma",
        x.lgamma(),
        &[
            0.5723649429247001,
            0.0,
            1.2009736023470743,
            1.2655121234846454,
            -0.05624371649767405,
            7.0521854507385395,
            17.502307845873887,
            6.907178885383853,
        ],
    );
    check(
        "digamma",
        x.digamma(),
        &[
            -1.9635100260214229,
            -0.5772156649015328,
            1.103156640645243,
            0.03648997397857639,
            1.1031566406452433,
            1.910453526883736,
            2.4426616799758123,
            -1000.5755719318104,
        ],
    );
    // PyTorch's trigamma is an asymptotic series good to about 1e-10; ours is the zeta sum.
    let close = |name: &str, got: Tensor, want: &[f64], tol: f64| {
        for (g, w) in got.to_vec::<f64>().iter().zip(want) {
            assert!(
                (g - w).abs() <= tol * w.abs().max(1.0),
                "{name}: {g} vs {w}"
            );
        }
    };
    close(
        "polygamma 1",
        x.polygamma(1),
        &[
            4.934802202073678,
            1.6449340676383375,
            0.33035775615183904,
            8.934802200117687,
            9.53924664493752,
            0.14787923316154666,
            0.08690187287193527,
            1000001.6425331949,
        ],
        1e-9,
    );
    close(
        "polygamma 2",
        x.polygamma(2),
        &[
            -16.828796644234316,
            -2.404113806319188,
            -0.1082040516417274,
            -0.82879664423432,
            -0.1082040516417282,
            -0.021828952295197733,
            -0.007547205368998914,
            -2000000002.3976321,
        ],
        1e-12,
    );
    close(
        "polygamma 3",
        x.polygamma(3),
        &[
            97.40909103400242,
            6.493939402266829,
            0.07030584881725205,
            193.40909103400242,
            194.74787621918756,
            0.006433037597940158,
            0.001310093231070826,
            6000000000006.467,
        ],
        1e-12,
    );
    check(
        "erfinv",
        t(&[0., 0.5, -0.9, 0.999, -0.3, 0.71, 1e-8]).erfinv(),
        &[
            0.0,
            0.4769362762044699,
            -1.1630871536766743,
            2.3267537655135246,
            -0.2724627147267543,
            0.7482049711849852,
            8.86226925452758e-09,
        ],
    );
    close(
        "i0",
        t(&[0., 1., -3., 20., 29.9, 30.1, 50., -100., 0.25]).i0(),
        &[
            1.0,
            1.2660658777520082,
            4.880792585865024,
            43558282.559553534,
            708478330489.0146,
            862432920031.7792,
            2.9325537838493355e+20,
            1.0737517071310738e+42,
            1.015686141223608,
        ],
        1e-13,
    );
    check(
        "sinc",
        t(&[0., 0.5, 2., -1.3, 0.1, 10.7, 1e-9]).sinc(),
        &[
            1.0,
            0.6366197723675814,
            -3.8981718325193755e-17,
            -0.19809085184633993,
            0.983631643083466,
            0.024067112841144163,
            1.0,
        ],
    );
    let h = t(&[-4., -3., -1., 0., 2.5, 3., 4.]);
    check(
        "hardswish",
        h.hardswish(),
        &[
            -0.0,
            -0.0,
            -0.3333333333333333,
            0.0,
            2.2916666666666665,
            3.0,
            4.0,
        ],
    );
    check(
        "hardsigmoid",
        h.hardsigmoid(),
        &[
            0.0,
            0.0,
            0.3333333333333333,
            0.5,
            0.9166666666666666,
            1.0,
            1.0,
        ],
    );
    check(
        "celu",
        h.celu(0.7),
        &[
            -0.6976910459708426,
            -0.6903653492868647,
            -0.532244274490757,
            0.0,
            2.5,
            3.0,
            4.0,
        ],
    );
    check(
        "softsign",
        h.softsign(),
        &[-0.8, -0.75, -0.5, 0.0, 0.7142857142857143, 0.75, 0.8],
    );
    check(
        "rrelu",
        h.rrelu(0.1, 0.3),
        &[-0.8, -0.6000000000000001, -0.2, 0.0, 2.5, 3.0, 4.0],
    );
    let q = t(&[0.2, 0.5, 0.01, 0.99]);
    check(
        "logit",
        q.logit(None),
        &[
            -1.3862943611198906,
            0.0,
            -4.59511985013459,
            4.595119850134589,
        ],
    );
    check(
        "logit eps",
        q.logit(Some(0.05)),
        &[
            -1.3862943611198906,
            0.0,
            -2.9444389791664403,
            2.9444389791664394,
        ],
    );
    check(
        "xlogy",
        t(&[0., 2., 3., 1.5]).xlogy(&t(&[0., 1., 0.5, 4.])),
        &[0.0, 0.0, -2.0794415416798357, 2.0794415416798357],
    );
    let inf = f64::INFINITY;
    let (a, bb) = (
        t(&[0., 2., -1., 1000., -inf, 3.]),
        t(&[0., 1., 5., 999., -inf, 0.5]),
    );
    check(
        "logaddexp",
        a.logaddexp(&bb),
        &[
            0.6931471805599453,
            2.313261687518223,
            5.00247568513773,
            1000.3132616875182,
            -inf,
            3.0788897342925496,
        ],
    );
    check(
        "logaddexp2",
        a.logaddexp2(&bb),
        &[
            1.0,
            2.584962500721156,
            5.022367813028454,
            1000.5849625007212,
            -inf,
            3.234840581079202,
        ],
    );
    check(
        "copysign",
        t(&[2., -3., 0., 1.]).copysign(&t(&[-1., 0., -0., -2.])),
        &[-2.0, 3.0, -0.0, -1.0],
    );
    check("frac", t(&[-1.5, 2.25, 3.0]).frac(), &[-0.5, 0.25, 0.0]);
    check(
        "nan_to_num",
        t(&[f64::NAN, inf, -inf, 1.0]).nan_to_num(0.0, None, None),
        &[0.0, f64::MAX, f64::MIN, 1.0],
    );
    let m = Tensor::from_vec(vec![1., -2., 0.5, 4., 0.3, 0.2, -1., 2.], &[2, 4]);
    check(
        "glu",
        m.glu(1),
        &[
            0.6224593312018546,
            -1.964027580075817,
            0.08068242641099853,
            0.17615941559557646,
        ],
    );
    check(
        "glu 0",
        m.glu(0),
        &[
            0.574442516811659,
            -1.099667994624956,
            0.13447071068499755,
            3.5231883119115293,
        ],
    );
    check(
        "prelu",
        m.reshape(&[2, 4, 1]).prelu(&t(&[0.1, 0.2, 0.3, 0.4])),
        &[1.0, -0.4, 0.5, 4.0, 0.3, 0.2, -0.3, 2.0],
    );
    check(
        "softmin",
        m.softmin(1),
        &[
            0.0438903622464538,
            0.8815614914732297,
            0.07236297381446223,
            0.0021851724658545095,
            0.1678654748850856,
            0.18552004099195465,
            0.6159482276041666,
            0.03066625651879326,
        ],
    );
    check(
        "logcumsumexp",
        m.logcumsumexp(1),
        &[
            1.0,
            1.048587351573742,
            1.5045969023422834,
            4.07923918860024,
            0.3,
            0.9443966600735709,
            1.07811736413808,
            2.334877737970895,
        ],
    );
    check(
        "logcumsumexp 0",
        m.logcumsumexp(0),
        &[
            1.0,
            -2.0,
            0.5,
            4.0,
            1.403186048885458,
            0.3050833197686959,
            0.7014132779827524,
            4.126928011042972,
        ],
    );
    check(
        "logcumsumexp far",
        t(&[-2000., -2001., 0.]).logcumsumexp(0),
        &[-2000.0, -1999.6867383124818, 0.0],
    );
}

/// The rows of [`sorting_and_scans_to_second_order`] (issue 15). At ties the selected values
/// are not differentiable (a central difference splits the gradient between the tied
/// elements, while PyTorch's gradient, and ours, goes to the chosen index): ops_sorting.rs
/// checks the chosen indices and those gradients against PyTorch there.
fn sorting_table() -> Vec<Spec> {
    use Domain::*;
    const TIES: &str = "ties: not differentiable there (the gradient goes to the chosen \
                        index; ops_sorting.rs checks it against PyTorch)";
    vec![
        spec(
            "sort",
            |x| x[0].sort(-1, false, false).0,
            along_last(0),
            Any,
            2,
        )
        .none(TIES),
        spec(
            "sort descending dim 0",
            |x| x[0].sort(0, true, false).0,
            along_last(0),
            Any,
            2,
        )
        .none(TIES),
        spec(
            "argsort",
            |x| x[0].take_along_dim(&x[0].argsort(-1, true, false), Some(-1)),
            along_last(0),
            Any,
            2,
        )
        .none(TIES),
        spec(
            "topk",
            |x| x[0].topk(2, -1, true, true).0,
            along_last(2),
            Any,
            2,
        )
        .none(TIES),
        spec(
            "topk smallest",
            |x| x[0].topk(1, -1, false, true).0,
            along_last(1),
            Any,
            2,
        )
        .none(TIES),
        spec(
            "kthvalue",
            |x| x[0].kthvalue(2, -1, false).0,
            along_last(2),
            Any,
            2,
        )
        .none(TIES),
        spec(
            "kthvalue keepdim",
            |x| x[0].kthvalue(1, -1, true).0,
            along_last(1),
            Any,
            2,
        )
        .none(TIES),
        // The median of no elements is a NaN constant: no empty cases.
        spec("median", |x| x[0].median(), nonempty(), Any, 2).none(TIES),
        spec(
            "median_dim",
            |x| x[0].median_dim(-1, false).0,
            along_last(1),
            Any,
            2,
        )
        .none(TIES),
        spec("nanmedian", |x| x[0].nanmedian(), nonempty(), Any, 2).at(vec![vec![v(&[
            1.0,
            f64::NAN,
            3.0,
            2.0,
        ])]]),
        spec(
            "nanmedian_dim",
            |x| x[0].nanmedian_dim(-1, true).0,
            along_last(1),
            Any,
            2,
        )
        .at(vec![vec![pt(
            &[f64::NAN, 1.0, 2.0, 0.5, 4.0, f64::NAN, 3.0, 1.0],
            &[2, 4],
        )]]),
        spec("mode", |x| x[0].mode(-1, true).0, along_last(1), Any, 2).none(TIES),
        spec("cummax", |x| x[0].cummax(-1).0, along_last(0), Any, 2).none(TIES),
        spec("cummin", |x| x[0].cummin(0).0, along_last(0), Any, 2).none(TIES),
        spec(
            "logcumsumexp",
            |x| x[0].logcumsumexp(-1),
            along_last(0),
            Any,
            2,
        )
        .zeros(),
        spec(
            "logcumsumexp dim 0",
            |x| x[0].logcumsumexp(0),
            along_last(0),
            Any,
            2,
        )
        .zeros(),
        spec("nansum", |x| x[0].nansum(&[], false), along_last(0), Any, 2)
            .zeros()
            .at(vec![vec![v(&[1.0, f64::NAN, 2.0])]]),
        spec(
            "nansum dim",
            |x| x[0].nansum(&[-1], true),
            along_last(0),
            Any,
            2,
        )
        .zeros(),
        spec(
            "nanmean",
            |x| x[0].nanmean(&[], false),
            along_last(1),
            Any,
            2,
        )
        .zeros()
        .at(vec![vec![v(&[1.0, f64::NAN, 2.0])]]),
        spec(
            "nanmean dim",
            |x| x[0].nanmean(&[0], false),
            along_last(1),
            Any,
            2,
        )
        .zeros(),
        spec(
            "take_along_dim",
            |x| {
                let d = x[0].dim().max(1) - 1;
                let sh: Vec<usize> = if x[0].dim() == 0 {
                    vec![]
                } else {
                    x[0].shape().to_vec()
                };
                let bound = sh.get(d).copied().unwrap_or(1);
                let i = if sh.is_empty() {
                    Tensor::from_vec(vec![0i64], &[])
                } else {
                    cyclic_index(&sh, d, sh[d] + 1, bound)
                };
                x[0].take_along_dim(&i, Some(-1))
            },
            along_last(1),
            Any,
            2,
        )
        .zeros(),
        spec(
            "take_along_dim flat",
            |x| {
                let n = x[0].numel();
                let len = if n == 0 { 0 } else { n + 2 };
                let i = cyclic_index(&[len], 0, len, n);
                x[0].take_along_dim(&i, None)
            },
            along_last(1),
            Any,
            2,
        )
        .zeros(),
    ]
}

#[test]
fn sorting_and_scans_to_second_order() {
    assert_table(sorting_table());
}

/// The rows of [`elementwise_binary_to_third_order`].
fn binary_table() -> Vec<Spec> {
    use Domain::*;
    let b = binary_cases;
    vec![
        spec("add", |x| &x[0] + &x[1], b(), Any, 3).zeros(),
        spec("sub", |x| &x[0] - &x[1], b(), Any, 3).zeros(),
        spec("mul", |x| &x[0] * &x[1], b(), Any, 3).zeros(),
        spec("div", |x| &x[0] / &x[1], b(), NonZero, 3).fill(&[&ZEROS, &[0.7, -1.3, 1.1]]),
        spec("maximum", |x| x[0].maximum(&x[1]), b(), Any, 3).none(
            "kink where a == b (each input gets half the gradient there, PyTorch's convention)",
        ),
        spec("minimum", |x| x[0].minimum(&x[1]), b(), Any, 3).none(
            "kink where a == b (each input gets half the gradient there, PyTorch's convention)",
        ),
        spec("pow_tensor", |x| x[0].pow_tensor(&x[1]), b(), Positive, 3).at(vec![vec![
            v(&[1.0, 0.7, 1.0, 2.0, 1.5]),
            v(&[0.0, 0.0, 2.0, 1.0, 1.5]),
        ]]),
        spec("atan2", |x| x[0].atan2(&x[1]), b(), NonZero, 3).at(vec![vec![
            v(&[0.0, 0.7, 0.5, -0.0, 1.1]),
            v(&[1.2, 0.0, 0.5, 2.0, -0.0]),
        ]]),
        spec("hypot", |x| x[0].hypot(&x[1]), b(), NonZero, 3).at(vec![vec![
            v(&[0.0, 0.7, 0.5, -0.0]),
            v(&[1.2, 0.0, 0.5, -2.0]),
        ]]),
        spec(
            "remainder",
            |x| x[0].mul_scalar(3.0).remainder(&x[1]),
            b(),
            NonZero,
            3,
        )
        .none("jumps where 3a / b is an integer, 0 and a == b included"),
        spec(
            "fmod",
            |x| x[0].mul_scalar(3.0).fmod(&x[1]),
            b(),
            NonZero,
            3,
        )
        .fill(&[&[0.0, -0.0], &[0.7, -1.3]]),
        spec(
            "floor_divide",
            |x| x[0].mul_scalar(3.0).floor_divide(&x[1]),
            b(),
            NonZero,
            3,
        )
        .none("jumps where 3a / b is an integer, 0 included"),
        spec(
            "div_trunc",
            |x| x[0].mul_scalar(3.0).div_trunc(&x[1]),
            b(),
            NonZero,
            3,
        )
        .none("jumps where 3a / b is a non-zero integer"),
        spec("lerp", |x| x[0].lerp(&x[1], 0.3), b(), Any, 3).zeros(),
        spec("lerp high", |x| x[0].lerp(&x[1], 0.8), b(), Any, 3).zeros(),
        spec(
            "lerp_tensor",
            |x| x[0].lerp_tensor(&x[1], &x[0].sigmoid()),
            b(),
            Any,
            3,
        )
        .zeros(),
        spec(
            "where_",
            |x| Tensor::where_(&x[0].gt_scalar(0.0), &x[0], &x[1].exp()),
            b(),
            NonZero,
            3,
        )
        .none("jump at a == 0, where the condition flips"),
        spec(
            "clamp_tensor",
            |x| x[0].clamp_tensor(Some(&x[1]), Some(&x[1].add_scalar(1.0))),
            b(),
            Any,
            3,
        )
        .none("kinks where the input equals a bound, its only special points"),
    ]
}

#[test]
fn elementwise_binary_to_third_order() {
    assert_table(binary_table());
}

/// The rows of [`reductions_to_second_order`].
fn reduction_table() -> Vec<Spec> {
    use Domain::*;
    let u = unary_cases;
    let m = matrices;
    let nonempty = || {
        u().into_iter()
            .filter(|c| c[0].shape.iter().product::<usize>() > 0)
            .chain(vec![vec![s(&[3])], vec![s(&[2, 2])]])
            .collect::<Vec<_>>()
    };
    vec![
        spec("sum", |x| x[0].sum(), u(), Any, 2).zeros(),
        spec("mean", |x| x[0].mean(), u(), Any, 2).zeros(),
        spec("norm", |x| x[0].norm(), u(), NonZero, 2).at(vec![
            vec![v(&[0.0, -0.4])],
            vec![pt(&[0.0, 0.5, 1.0, 0.0], &[2, 2])],
            vec![v(&[0.0, 0.0, 3.0])],
        ]),
        spec(
            "sum_dims 0",
            |x| x[0].sum_dims(&[0], false),
            with_empty(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "sum_dims -1 keepdim",
            |x| x[0].sum_dims(&[-1], true),
            with_empty(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "sum_dims 0,-1",
            |x| x[0].sum_dims(&[0, -1], false),
            with_empty(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "mean_dims 1",
            |x| x[0].mean_dims(&[1], false),
            with_empty(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "mean_dims 0 keepdim",
            |x| x[0].mean_dims(&[0], true),
            with_empty(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "sum_to",
            |x| x[0].sum_to(&[1, *x[0].shape().last().unwrap()]),
            with_empty(),
            Any,
            2,
        )
        .zeros(),
        spec("amax all", |x| x[0].amax(&[], false), m(), Any, 2)
            .at(vec![vec![pt(&[0.0, 0.0, 2.0, 0.0, -1.0, -1.0], &[2, 3])]]),
        spec("amax dim 1", |x| x[0].amax(&[1], false), m(), Any, 2)
            .at(vec![vec![pt(&[0.0, 0.0, 2.0, 1.0, 3.0, 1.0], &[2, 3])]]),
        spec(
            "amin dims 0,-1 keepdim",
            |x| x[0].amin(&[0, -1], true),
            m(),
            Any,
            2,
        )
        .at(vec![vec![pt(&[0.0, 0.0, -2.0, 0.0, 1.0, 1.0], &[2, 3])]]),
        spec(
            "aminmax",
            |x| {
                let (lo, hi) = x[0].aminmax(None, false);
                &lo + &hi.mul_scalar(3.0)
            },
            nonempty(),
            Any,
            2,
        )
        .at(vec![vec![pt(&[0.0, 0.0, 2.0, 0.0, -1.0, 1.0], &[2, 3])]]),
        spec(
            "aminmax dim keepdim",
            |x| {
                let (lo, hi) = x[0].aminmax(Some(-1), true);
                &lo + &hi.mul_scalar(3.0)
            },
            along_last(1),
            Any,
            2,
        )
        .at(vec![vec![pt(&[0.0, 0.5, 2.0, 0.0, -1.0, 1.0], &[2, 3])]]),
        spec("max", |x| x[0].max(), nonempty(), Any, 2)
            .at(vec![vec![v(&[0.0, 0.0, 2.0, -1.0, -1.0])]]),
        spec("min", |x| x[0].min(), nonempty(), Any, 2)
            .at(vec![vec![v(&[0.0, 0.0, -2.0, 1.0, 1.0])]]),
        spec("max_dim", |x| x[0].max_dim(0, false).0, m(), Any, 2).at(vec![vec![pt(
            &[0.0, -1.0, 0.0, 0.0, -1.0, -2.0, 2.0, 3.0, 1.0],
            &[3, 3],
        )]]),
        spec("min_dim keepdim", |x| x[0].min_dim(-1, true).0, m(), Any, 2)
            .at(vec![vec![pt(&[0.0, 0.0, -1.0, 2.0, 2.0, 0.5], &[2, 3])]]),
        spec("var", |x| x[0].var(&[], 1.0, false), multi(), Any, 2).at(vec![
            vec![pt(&[0.5; 6], &[2, 3])],
            vec![pt(&[1.0, 1.0, 1.0, 0.0, 0.0, 2.0], &[2, 3])],
        ]),
        spec("var dim", |x| x[0].var(&[1], 1.0, true), multi(), Any, 2).at(vec![
            vec![pt(&[0.5, 0.5, 0.5, 0.0, 0.0, 2.0], &[2, 3])],
            vec![pt(&[0.0; 4], &[2, 2])],
        ]),
        spec(
            "var correction 0",
            |x| x[0].var(&[0], 0.0, false),
            m(),
            Any,
            2,
        )
        .at(vec![vec![pt(&[0.5, 0.0, 0.5, 0.0, 0.5, 2.0], &[3, 2])]]),
        spec("std", |x| x[0].std(&[], 1.0, false), multi(), Any, 2)
            .at(vec![vec![pt(&[1.0, 1.0, 1.0, 0.0, 0.0, 2.0], &[2, 3])]]),
        spec(
            "var_mean",
            |x| {
                let (var, mean) = x[0].var_mean(&[1], 1.0, false);
                &var + &mean.mul_scalar(3.0)
            },
            multi(),
            Any,
            2,
        )
        .at(vec![vec![pt(&[0.5, 0.5, 0.5, 0.0, 0.0, 2.0], &[2, 3])]]),
        spec(
            "std_mean",
            |x| {
                let (std, mean) = x[0].std_mean(&[], 0.0, true);
                &std + &mean.mul_scalar(3.0)
            },
            multi(),
            Any,
            2,
        )
        .at(vec![vec![pt(&[1.0, 1.0, 1.0, 0.0, 0.0, 2.0], &[2, 3])]]),
        spec("std dim", |x| x[0].std(&[-1], 0.0, false), m(), Any, 2)
            .at(vec![vec![pt(&[0.0, 0.0, 1.0, 2.0, 2.0, -1.0], &[2, 3])]]),
        spec(
            "norm_dims p=2 dim",
            |x| x[0].norm_dims(2.0, &[1], false),
            m(),
            NonZero,
            2,
        )
        .at(vec![
            vec![pt(&[0.0, 0.5, 1.0, 0.0], &[2, 2])],
            vec![pt(&[0.0, 0.0, 3.0, -4.0, 0.0, 0.0], &[2, 3])],
        ]),
        spec(
            "norm_dims p=1",
            |x| x[0].norm_dims(1.0, &[], false),
            m(),
            NonZero,
            2,
        )
        .none("kink where an entry is 0"),
        spec(
            "norm_dims p=3",
            |x| x[0].norm_dims(3.0, &[0], true),
            m(),
            NonZero,
            2,
        )
        .at(vec![vec![pt(&[0.0, 1.0, -2.0, 0.0], &[2, 2])]]),
        spec(
            "norm_dims p=4",
            |x| x[0].norm_dims(4.0, &[-1], false),
            m(),
            NonZero,
            2,
        )
        .at(vec![vec![pt(&[0.0, 1.0, -2.0, 0.0], &[2, 2])]]),
        spec(
            "norm_dims p=0.5",
            |x| x[0].norm_dims(0.5, &[], false),
            m(),
            NonZero,
            2,
        )
        .none("infinite derivative where an entry is 0"),
        spec(
            "norm_dims inf",
            |x| x[0].norm_dims(f64::INFINITY, &[1], false),
            m(),
            NonZero,
            2,
        )
        .at(vec![vec![pt(&[0.0, -2.0, 0.0, 1.0, 1.0, -3.0], &[2, 3])]]),
        spec(
            "norm_dims -inf",
            |x| x[0].norm_dims(f64::NEG_INFINITY, &[], false),
            m(),
            NonZero,
            2,
        )
        .at(vec![vec![pt(&[0.5, 1.0, -1.0, 2.0, 2.0, -2.0], &[2, 3])]]),
        spec(
            "logsumexp",
            |x| x[0].logsumexp(&[], false),
            with_empty(),
            Any,
            2,
        )
        .zeros()
        .at(vec![vec![pt(
            &[f64::NEG_INFINITY, 0.0, 1.0, 1.0, f64::NEG_INFINITY, 0.0],
            &[2, 3],
        )]]),
        spec(
            "logsumexp dim",
            |x| x[0].logsumexp(&[1], true),
            with_empty(),
            Any,
            2,
        )
        .zeros()
        .at(vec![vec![pt(
            &[f64::NEG_INFINITY, 0.0, 1.0, 1.0, f64::NEG_INFINITY, 1.0],
            &[2, 3],
        )]]),
        spec("cumsum", |x| x[0].cumsum(0), with_empty(), Any, 2).zeros(),
        spec("cumsum last", |x| x[0].cumsum(-1), with_empty(), Any, 2).zeros(),
        spec("cumprod", |x| x[0].cumprod(-1), with_empty(), Any, 2).zeros(),
        spec("prod", |x| x[0].prod(), with_empty(), Any, 2)
            .zeros()
            .at(vec![
                vec![v(&[2.0, 0.0, 3.0, 5.0])],
                vec![v(&[0.0, 0.0, 3.0])],
                vec![v(&[0.0, 0.0, 0.0])],
            ]),
        spec(
            "prod_dim",
            |x| x[0].prod_dim(1, false),
            with_empty(),
            Any,
            2,
        )
        .zeros()
        .at(vec![vec![pt(
            &[2.0, 0.0, 3.0, 0.0, 0.0, 1.5, 0.7, -1.0, 2.0],
            &[3, 3],
        )]]),
    ]
}

#[test]
fn reductions_to_second_order() {
    assert_table(reduction_table());
}

/// The rows of [`linear_algebra_to_second_order`].
fn linalg_table() -> Vec<Spec> {
    use Domain::*;
    let pairs = |v: &[(Input, Input)]| {
        v.iter()
            .map(|(a, b)| vec![a.clone(), b.clone()])
            .collect::<Vec<_>>()
    };
    let dot = || pairs(&[0usize, 1, 2, 3, 4, 5, 6, 7, 8, 10].map(|n| (s(&[n]), s(&[n]))));
    let mm = || {
        pairs(&[
            (s(&[2, 3]), s(&[3, 4])),
            (s(&[1, 1]), s(&[1, 1])),
            (s(&[0, 3]), s(&[3, 2])),
            (s(&[2, 0]), s(&[0, 3])),
            (tr(&[2, 3]), s(&[3, 4])),
            (s(&[2, 3]), tr(&[3, 2])),
            (tr(&[3, 3]), tr(&[3, 3])),
            (s(&[4, 1]), s(&[1, 4])),
            (s(&[1, 5]), s(&[5, 1])),
            (s(&[3, 2]), s(&[2, 2])),
        ])
    };
    let mv = || {
        pairs(&[
            (s(&[2, 3]), s(&[3])),
            (tr(&[2, 3]), s(&[3])),
            (s(&[0, 3]), s(&[3])),
            (s(&[2, 0]), s(&[0])),
            (s(&[1, 1]), s(&[1])),
            (s(&[4, 2]), s(&[2])),
            (tr(&[3, 3]), s(&[3])),
            (s(&[1, 5]), s(&[5])),
            (s(&[5, 1]), s(&[1])),
            (tr(&[4, 2]), s(&[2])),
        ])
    };
    let matmul = || {
        pairs(&[
            (s(&[3]), s(&[3])),
            (s(&[3]), s(&[3, 2])),
            (s(&[2, 3]), s(&[3])),
            (s(&[2, 3]), s(&[3, 2])),
            (s(&[2, 2, 3]), s(&[2, 3, 2])),
            (s(&[2, 2, 3]), s(&[3, 4])),
            (s(&[2, 3]), s(&[2, 3, 1])),
            (s(&[2, 1, 2, 3]), s(&[3, 3, 2])),
            (s(&[3]), s(&[2, 3, 2])),
            (s(&[2, 2, 3]), s(&[3])),
            (s(&[0, 2, 3]), s(&[3, 2])),
            (tr(&[2, 3]), s(&[2, 3, 2])),
        ])
    };
    let bmm = || {
        pairs(&[
            (s(&[2, 2, 3]), s(&[2, 3, 4])),
            (s(&[1, 1, 1]), s(&[1, 1, 2])),
            (s(&[3, 0, 2]), s(&[3, 2, 2])),
            (s(&[1, 2, 3]), s(&[1, 3, 1])),
            (s(&[4, 1, 2]), s(&[4, 2, 3])),
            (s(&[2, 3, 3]), s(&[2, 3, 3])),
            (s(&[2, 1, 1]), s(&[2, 1, 1])),
            (s(&[3, 2, 2]), s(&[3, 2, 0])),
            (s(&[1, 4, 2]), s(&[1, 2, 4])),
            (s(&[2, 2, 1]), s(&[2, 1, 2])),
        ])
    };
    let outer = || {
        pairs(
            &[
                (3, 4),
                (1, 2),
                (0, 2),
                (2, 0),
                (1, 1),
                (5, 1),
                (2, 2),
                (3, 3),
                (4, 2),
                (1, 6),
            ]
            .map(|(a, b)| (s(&[a]), s(&[b]))),
        )
    };
    let solve = || {
        pairs(&[
            (s(&[3, 3]), s(&[3, 2])),
            (tr(&[2, 2]), s(&[2, 2])),
            (s(&[2, 3, 3]), s(&[3, 1])),
            (s(&[1, 1]), s(&[1, 1])),
            (s(&[3, 3]), s(&[3])),
            (s(&[1, 1]), s(&[1])),
            (s(&[4, 4]), s(&[4, 3])),
            (tr(&[3, 3]), s(&[3])),
            (s(&[2, 2, 2]), s(&[2, 2, 1])),
            (s(&[2, 2]), s(&[2, 5])),
        ])
    };
    let batch_mm = || {
        pairs(&[
            (s(&[2, 2, 3]), s(&[2, 3, 2])),
            (s(&[1, 1, 1]), s(&[1, 1, 1])),
            (s(&[3, 1, 2]), s(&[3, 2, 2])),
            (s(&[2, 3, 1]), s(&[2, 1, 3])),
            (s(&[1, 2, 2]), s(&[1, 2, 2])),
            (s(&[2, 2, 2]), s(&[2, 2, 1])),
            (s(&[4, 1, 1]), s(&[4, 1, 2])),
            (s(&[2, 0, 2]), s(&[2, 2, 2])),
            (s(&[1, 3, 2]), s(&[1, 2, 3])),
            (s(&[2, 2, 4]), s(&[2, 4, 1])),
        ])
    };
    let ellipsis = || {
        pairs(&[
            (s(&[2, 2, 3]), s(&[3, 2])),
            (s(&[2, 3]), s(&[3, 1])),
            (s(&[2, 1, 2, 3]), s(&[3, 3, 2])),
            (s(&[1, 2]), s(&[2, 2])),
            (s(&[3, 1, 2]), s(&[2, 2])),
            (s(&[2, 2]), s(&[2, 2, 2])),
            (s(&[1, 1]), s(&[1, 1])),
            (tr(&[2, 3]), s(&[3, 2])),
            (s(&[2, 2, 2]), s(&[2, 2, 2])),
            (s(&[4, 1, 3]), s(&[3, 1])),
        ])
    };
    let bilinear = || {
        pairs(
            &[1usize, 2, 3, 4, 5, 6, 0, 7, 2, 3]
                .map(|n| (s(&[n]), if n == 2 { tr(&[n, n]) } else { s(&[n, n]) })),
        )
    };
    let chain = || {
        [
            ([2, 3], [3, 4], [4, 2]),
            ([1, 1], [1, 1], [1, 1]),
            ([2, 2], [2, 1], [1, 3]),
            ([1, 3], [3, 2], [2, 1]),
            ([2, 0], [0, 2], [2, 2]),
            ([3, 2], [2, 2], [2, 0]),
            ([2, 2], [2, 2], [2, 2]),
            ([1, 2], [2, 3], [3, 1]),
            ([3, 1], [1, 1], [1, 3]),
        ]
        .map(|(a, b, c)| vec![s(&a), s(&b), s(&c)])
        .into_iter()
        .chain([vec![tr(&[2, 3]), s(&[3, 2]), tr(&[2, 2])]])
        .collect::<Vec<_>>()
    };
    // Subscripts of size 1 on one side broadcast: contracted (j) and batch (b).
    let broadcast = || {
        pairs(&[
            (s(&[2, 1, 3]), s(&[2, 1, 2])),
            (s(&[1, 2, 3]), s(&[2, 3, 2])),
            (s(&[2, 2, 1]), s(&[1, 3, 2])),
            (s(&[3, 1, 1]), s(&[1, 2, 2])),
            (s(&[1, 2, 2]), s(&[1, 2, 2])),
            (s(&[2, 2, 3]), s(&[2, 3, 2])),
            (s(&[1, 1, 1]), s(&[3, 1, 1])),
            (s(&[2, 3, 1]), s(&[2, 2, 3])),
            (s(&[1, 2, 1]), s(&[2, 3, 1])),
            (s(&[2, 1, 2]), s(&[1, 2, 0])),
        ])
    };
    let partial_trace = || {
        [
            [2, 2, 3],
            [1, 1, 2],
            [3, 3, 1],
            [2, 2, 0],
            [1, 1, 1],
            [2, 2, 1],
            [3, 3, 2],
            [4, 4, 1],
            [0, 0, 2],
            [2, 2, 2],
        ]
        .map(|d| vec![s(&d)])
        .to_vec()
    };
    vec![
        spec("dot", |x| x[0].dot(&x[1]), dot(), Any, 2).zeros(),
        spec("mm", |x| x[0].mm(&x[1]), mm(), Any, 2).zeros(),
        spec("mv", |x| x[0].mv(&x[1]), mv(), Any, 2).zeros(),
        spec("matmul", |x| x[0].matmul(&x[1]), matmul(), Any, 2).zeros(),
        spec("mm self", |x| x[0].mm(&x[0]), squares_2d(), Any, 3).zeros(),
        spec("bmm", |x| x[0].bmm(&x[1]), bmm(), Any, 2).zeros(),
        spec("outer", |x| x[0].outer(&x[1]), outer(), Any, 2).zeros(),
        spec("diagonal", |x| x[0].diagonal(0, -2, -1), squares(), Any, 2).zeros(),
        spec(
            "diagonal offset",
            |x| x[0].diagonal(1, 0, -1),
            matrices(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "diagonal negative",
            |x| x[0].diagonal(-1, 0, 1),
            matrices(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "diag of vector",
            |x| x[0].diag(1),
            [0usize, 1, 2, 3, 4, 5, 6, 7, 8, 9]
                .map(|n| vec![s(&[n])])
                .to_vec(),
            Any,
            2,
        )
        .zeros(),
        spec("trace", |x| x[0].trace(), matrices_2d(), Any, 2).zeros(),
        spec("tril", |x| x[0].tril(0), matrices(), Any, 2).zeros(),
        spec("triu", |x| x[0].triu(1), matrices(), Any, 2).zeros(),
        spec("inv", |x| conditioned(&x[0]).inv(), squares(), Any, 2).at(vec![
            vec![pt(&[-3.0, 1.0, 1.0, -3.0], &[2, 2])],
            vec![pt(
                &[-3.0, 1.0, 0.0, 0.0, -3.0, 1.0, 1.0, 0.0, -3.0],
                &[3, 3],
            )],
        ]),
        spec("det", |x| conditioned(&x[0]).det(), squares(), Any, 2).at(vec![
            vec![pt(&[-3.0, 1.0, 1.0, -3.0], &[2, 2])],
            vec![pt(
                &[-3.0, 1.0, 0.0, 0.0, -3.0, 1.0, 1.0, 0.0, -3.0],
                &[3, 3],
            )],
        ]),
        spec("det singular", |x| x[0].det(), squares(), Any, 3).at(vec![
            vec![pt(&[1.0, 2.0, 2.0, 4.0 + 1e-9], &[2, 2])],
            vec![pt(&[1e-9, 0.0, 0.0, 1.0], &[2, 2])],
            vec![pt(&[1.0, 2.0, 2.0, 4.0], &[2, 2])],
            vec![pt(&[0.0; 4], &[2, 2])],
            vec![pt(&[0.0], &[1, 1])],
            vec![pt(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0], &[3, 3])],
            vec![pt(
                &[1.0, 2.0, 3.0, 2.0, 4.0, 6.0, -1.0, -2.0, -3.0],
                &[3, 3],
            )],
            vec![pt(&[0.0; 9], &[3, 3])],
            vec![pt(&[1.0, 2.0, 2.0, 4.0, 2.0, 1.0, 1.0, 3.0], &[2, 2, 2])],
        ]),
        spec("det singular 4x4", |x| x[0].det(), squares(), Any, 2).at(vec![
            vec![pt(
                &[
                    1.0, 0.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 2.0, 0.0, 1.0,
                ],
                &[4, 4],
            )],
            vec![pt(
                &[
                    1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 2.0, -1.0, 0.0, 0.0,
                ],
                &[4, 4],
            )],
            vec![pt(
                &[
                    1.0, 0.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 2.0, 0.0, 1.0,
                    2.0, 0.5, 0.0, 0.0, 0.0, 2.0, 0.5, 0.0, 0.0, 0.0, 2.0, 0.5, 0.5, 0.0, 0.0, 2.0,
                ],
                &[2, 4, 4],
            )],
        ]),
        spec(
            "solve",
            |x| conditioned(&x[0]).solve(&x[1]),
            solve(),
            Any,
            2,
        )
        .at(vec![vec![
            pt(&[-3.0, 1.0, 1.0, -3.0], &[2, 2]),
            pt(&[0.0, 1.0, 0.0, 0.0], &[2, 2]),
        ]]),
        spec(
            "einsum matmul",
            |x| Tensor::einsum("ij,jk->ik", &[&x[0], &x[1]]),
            mm(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "einsum batch matmul",
            |x| Tensor::einsum("bij,bjk->bik", &[&x[0], &x[1]]),
            batch_mm(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "einsum ellipsis",
            |x| Tensor::einsum("...ij,...jk->...ik", &[&x[0], &x[1]]),
            ellipsis(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "einsum outer",
            |x| Tensor::einsum("i,j->ij", &[&x[0], &x[1]]),
            outer(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "einsum trace",
            |x| Tensor::einsum("ii->", &[&x[0]]),
            squares_2d(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "einsum transpose",
            |x| Tensor::einsum("ij->ji", &[&x[0]]),
            matrices_2d(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "einsum implicit",
            |x| Tensor::einsum("ij,jk", &[&x[0], &x[1]]),
            mm(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "einsum bilinear",
            |x| Tensor::einsum("i,ij,j->", &[&x[0], &x[1], &x[0]]),
            bilinear(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "einsum chain",
            |x| Tensor::einsum("ij,jk,kl->il", &[&x[0], &x[1], &x[2]]),
            chain(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "einsum broadcast",
            |x| Tensor::einsum("bij,bjk->bik", &[&x[0], &x[1]]),
            broadcast(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "einsum diagonal",
            |x| Tensor::einsum("ii->i", &[&x[0]]),
            squares_2d(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "einsum partial trace",
            |x| Tensor::einsum("iij->j", &[&x[0]]),
            partial_trace(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "einsum transposed product",
            |x| Tensor::einsum("ij,jk->ki", &[&x[0], &x[1]]),
            mm(),
            Any,
            2,
        )
        .zeros(),
    ]
}

#[test]
fn linear_algebra_to_second_order() {
    assert_table(linalg_table());
}

/// The rows of [`factorizations_to_second_order`]: `linalg`'s factorizations and solvers.
/// Inputs are mapped into each op's domain inside the row: `x x^T + n I` (symmetric
/// positive-definite) for Cholesky, `x + 3 I` ([`conditioned`]) for triangular and LU
/// solves and determinants, `x` plus 3 on the main diagonal of a rectangular matrix for
/// lstsq. Special points: `x = 0` (the identity or a multiple of it, diagonal matrices),
/// repeated values, and matrices that make partial pivoting swap rows.
fn factor_table() -> Vec<Spec> {
    use ferrograd::linalg;
    use Domain::*;
    /// `x x^T + n I`.
    fn spd(x: &Tensor) -> Tensor {
        let n = x.shape()[x.dim() - 1];
        &x.matmul(&x.m_t()) + &Tensor::eye_with(n, DType::F64).mul_scalar(n as f64)
    }
    /// `x` plus 3 on the main diagonal of its (possibly rectangular) last two dimensions.
    fn diag_shift(x: &Tensor) -> Tensor {
        let (m, n) = (x.shape()[x.dim() - 2], x.shape()[x.dim() - 1]);
        let d: Vec<f64> = (0..m * n)
            .map(|i| if i / n == i % n { 3.0 } else { 0.0 })
            .collect();
        x + &Tensor::from_vec(d, &[m, n])
    }
    /// Square matrices: 1x1, 0x0, empty and nested batches, transposed.
    fn sq() -> Vec<Vec<Input>> {
        [
            s(&[1, 1]),
            s(&[2, 2]),
            s(&[3, 3]),
            s(&[4, 4]),
            tr(&[2, 2]),
            tr(&[3, 3]),
            s(&[2, 3, 3]),
            s(&[0, 3, 3]),
            s(&[2, 1, 2, 2]),
            s(&[0, 0]),
        ]
        .into_iter()
        .map(|i| vec![i])
        .collect()
    }
    /// (A, B) of `A X = B` (or, `right`, `X A = B`): broadcast batches, empty ones, zero
    /// right-hand sides, transposed operands.
    fn systems(right: bool) -> Vec<Vec<Input>> {
        let b = |shape: &[usize]| {
            let mut v = shape.to_vec();
            if right {
                let d = v.len();
                v.swap(d - 2, d - 1);
            }
            s(&v)
        };
        vec![
            vec![s(&[1, 1]), b(&[1, 1])],
            vec![s(&[2, 2]), b(&[2, 3])],
            vec![s(&[3, 3]), b(&[3, 1])],
            vec![tr(&[3, 3]), b(&[3, 2])],
            vec![s(&[2, 3, 3]), b(&[2, 3, 2])],
            vec![s(&[3, 3]), b(&[2, 3, 2])],
            vec![s(&[2, 1, 2, 2]), b(&[3, 2, 1])],
            vec![s(&[0, 2, 2]), b(&[0, 2, 1])],
            vec![s(&[2, 2]), b(&[2, 0])],
            vec![s(&[4, 4]), if right { tr(&[2, 4]) } else { tr(&[4, 2]) }],
        ]
    }
    /// Tall, square and wide matrices.
    fn rects() -> Vec<Vec<Input>> {
        [
            s(&[3, 2]),
            s(&[2, 3]),
            s(&[3, 3]),
            s(&[1, 1]),
            tr(&[3, 2]),
            tr(&[2, 3]),
            s(&[2, 4, 3]),
            s(&[0, 3, 2]),
            s(&[4, 1]),
            s(&[1, 4]),
            s(&[2, 1, 2, 2]),
        ]
        .into_iter()
        .map(|i| vec![i])
        .collect()
    }
    /// (A, B) of least squares: tall, square, wide, vector and broadcast right-hand sides.
    fn least_squares() -> Vec<Vec<Input>> {
        vec![
            vec![s(&[3, 2]), s(&[3, 1])],
            vec![s(&[2, 2]), s(&[2, 2])],
            vec![s(&[2, 3]), s(&[2, 1])],
            vec![s(&[1, 1]), s(&[1, 1])],
            vec![tr(&[3, 2]), s(&[3, 2])],
            vec![s(&[2, 4, 2]), s(&[2, 4, 1])],
            vec![s(&[0, 3, 2]), s(&[0, 3, 1])],
            vec![s(&[4, 1]), s(&[4, 3])],
            vec![s(&[3, 2]), s(&[3])],
            vec![s(&[2, 2, 3]), s(&[2, 2, 2])],
            vec![s(&[3, 2]), tr(&[3, 2])],
        ]
    }
    let id2 = || pt(&[1.0, 0.0, 0.0, 1.0], &[2, 2]);
    let rep = || pt(&[0.5, 0.5, 0.5, 0.5], &[2, 2]);
    let diag3 = || pt(&[1.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, -1.0], &[3, 3]);
    // x + 3 I = [[0, 1], [2, 3]]: partial pivoting swaps the rows.
    let swap = || pt(&[-3.0, 1.0, 2.0, 0.0], &[2, 2]);
    let col = || pt(&[1.0, -2.0], &[2, 1]);
    vec![
        spec(
            "cholesky",
            |x| linalg::cholesky(&spd(&x[0]), false),
            sq(),
            Any,
            2,
        )
        .fill(&[&[0.0]])
        .at(vec![vec![id2()], vec![rep()], vec![diag3()]]),
        spec(
            "cholesky upper",
            |x| linalg::cholesky(&spd(&x[0]), true),
            sq(),
            Any,
            2,
        )
        .fill(&[&[0.0]])
        .at(vec![vec![rep()], vec![diag3()]]),
        spec(
            "solve_triangular upper",
            |x| linalg::solve_triangular(&conditioned(&x[0]), &x[1], true, true, false),
            systems(false),
            Any,
            2,
        )
        .fill(&[&[0.0], &[1.0, -0.5, 0.0]])
        .at(vec![vec![rep(), col()]]),
        spec(
            "solve_triangular lower unitriangular",
            |x| linalg::solve_triangular(&x[0], &x[1], false, true, true),
            systems(false),
            Any,
            2,
        )
        .fill(&[&[0.0], &[1.0, -0.5, 0.0]])
        .at(vec![vec![rep(), col()]]),
        spec(
            "solve_triangular right",
            |x| linalg::solve_triangular(&conditioned(&x[0]), &x[1], false, false, false),
            systems(true),
            Any,
            2,
        )
        .fill(&[&[0.0], &[1.0, -0.5, 0.0]])
        .at(vec![vec![rep(), pt(&[1.0, -2.0], &[1, 2])]]),
        spec(
            "cholesky_solve",
            |x| linalg::cholesky_solve(&x[1], &conditioned(&x[0]), false),
            systems(false),
            Any,
            2,
        )
        .fill(&[&[0.0], &[1.0, -0.5, 0.0]])
        .at(vec![vec![rep(), col()]]),
        spec(
            "cholesky_solve upper",
            |x| linalg::cholesky_solve(&x[1], &conditioned(&x[0]), true),
            systems(false),
            Any,
            2,
        )
        .fill(&[&[0.0], &[1.0, -0.5, 0.0]]),
        spec(
            "lu_factor",
            |x| linalg::lu_factor(&conditioned(&x[0]), true).0,
            sq(),
            Any,
            2,
        )
        .fill(&[&[0.0]])
        .at(vec![vec![swap()], vec![rep()], vec![diag3()]]),
        spec(
            "lu",
            |x| {
                let (_, l, u) = linalg::lu(&conditioned(&x[0]), true);
                &l.mul_scalar(2.0) + &u
            },
            sq(),
            Any,
            2,
        )
        .fill(&[&[0.0]])
        .at(vec![vec![swap()], vec![rep()]]),
        spec(
            "lu_factor rectangular",
            |x| linalg::lu_factor(&diag_shift(&x[0]), true).0,
            rects(),
            Any,
            2,
        )
        .fill(&[&[0.0]])
        .at(vec![
            vec![pt(&[-3.0, 1.0, 2.0, 0.0, 1.0, 1.0], &[3, 2])],
            vec![pt(&[-3.0, 1.0, 0.5, 2.0, 0.0, 0.5], &[2, 3])],
        ]),
        spec(
            "lu rectangular",
            |x| {
                let (_, l, u) = linalg::lu(&diag_shift(&x[0]), true);
                &l.sum_dims(&[-1], true) + &u.sum_dims(&[-2], true)
            },
            rects(),
            Any,
            2,
        )
        .fill(&[&[0.0]]),
        spec(
            "lu_solve",
            |x| {
                let (lu, piv) = linalg::lu_factor(&conditioned(&x[0]), true);
                linalg::lu_solve(&lu, &piv, &x[1], true, false)
            },
            systems(false),
            Any,
            2,
        )
        .fill(&[&[0.0], &[1.0, -0.5, 0.0]])
        .at(vec![vec![swap(), col()]]),
        spec(
            "lu_solve adjoint",
            |x| {
                let (lu, piv) = linalg::lu_factor(&conditioned(&x[0]), true);
                linalg::lu_solve(&lu, &piv, &x[1], true, true)
            },
            systems(false),
            Any,
            2,
        )
        .at(vec![vec![swap(), col()]]),
        spec(
            "lu_solve right",
            |x| {
                let (lu, piv) = linalg::lu_factor(&conditioned(&x[0]), true);
                linalg::lu_solve(&lu, &piv, &x[1], false, false)
            },
            systems(true),
            Any,
            2,
        )
        .at(vec![vec![swap(), pt(&[1.0, -2.0], &[1, 2])]]),
        spec(
            "slogdet",
            |x| linalg::slogdet(&conditioned(&x[0])).1,
            sq(),
            Any,
            2,
        )
        .fill(&[&[0.0]])
        .at(vec![vec![swap()], vec![rep()], vec![diag3()]]),
        spec("logdet", |x| linalg::logdet(&spd(&x[0])), sq(), Any, 2)
            .fill(&[&[0.0]])
            .at(vec![vec![rep()], vec![diag3()]]),
        // Householder QR is discontinuous where a column has exact zeros below the diagonal
        // (LAPACK leaves it, tau = 0): the special points avoid that.
        spec("qr Q", |x| linalg::qr(&x[0], "reduced").0, rects(), Any, 2).at(vec![
            vec![pt(&[1.0, 0.0, 1.0, 1.0], &[2, 2])],
            vec![pt(&[1.0, 1.0, 1.0, 1.0, 1.0, -1.0], &[3, 2])],
            vec![pt(&[0.5, 0.5, 0.5, 0.5, -0.5, 0.5], &[2, 3])],
        ]),
        spec("qr R", |x| linalg::qr(&x[0], "reduced").1, rects(), Any, 2).at(vec![
            vec![pt(&[1.0, 0.0, 1.0, 1.0], &[2, 2])],
            vec![pt(&[1.0, 1.0, 1.0, 1.0, 1.0, -1.0], &[3, 2])],
        ]),
        spec("qr r mode", |x| linalg::qr(&x[0], "r").1, rects(), Any, 2)
            .at(vec![vec![pt(&[1.0, 0.0, 1.0, 1.0], &[2, 2])]]),
        spec(
            "qr complete wide",
            |x| {
                let (q, r) = linalg::qr(&x[0], "complete");
                &q.sum_dims(&[-1], true) + &r
            },
            [
                s(&[2, 3]),
                s(&[2, 2]),
                s(&[1, 4]),
                s(&[3, 3]),
                s(&[1, 1]),
                tr(&[2, 3]),
                s(&[2, 2, 3]),
                s(&[0, 2, 3]),
                s(&[3, 5]),
                s(&[2, 1, 2, 4]),
            ]
            .into_iter()
            .map(|i| vec![i])
            .collect(),
            Any,
            2,
        )
        .at(vec![vec![pt(&[0.5, 0.5, 0.5, 0.5, -0.5, 0.5], &[2, 3])]]),
        spec(
            "lstsq",
            |x| linalg::lstsq(&diag_shift(&x[0]), &x[1], None, None).0,
            least_squares(),
            Any,
            2,
        )
        .fill(&[&[0.0], &[1.0, -0.5, 0.0]])
        .at(vec![vec![rep(), col()]]),
    ]
}

#[test]
fn factorizations_to_second_order() {
    assert_table(factor_table());
}

/// The rows of [`views_and_shapes_to_second_order`].
fn view_table() -> Vec<Spec> {
    use Domain::*;
    let m = matrices;
    vec![
        spec(
            "broadcast_to",
            |x| x[0].broadcast_to(&[2, 3, 4]),
            [
                s(&[3, 1]),
                s(&[]),
                s(&[1]),
                s(&[4]),
                s(&[2, 1, 1]),
                s(&[1, 4]),
                s(&[3, 4]),
                s(&[2, 3, 4]),
                s(&[1, 1, 4]),
                tr(&[1, 4]),
            ]
            .into_iter()
            .map(|i| vec![i])
            .collect(),
            Any,
            2,
        )
        .zeros(),
        // In-place ops on a non-leaf (a copy of input 0), differentiable through the rebased
        // history (PyTorch's AddBackward0 ... on the modified tensor).
        spec(
            "add_",
            |x| x[0].mul_scalar(1.0).add_(&x[1]),
            same_pairs(),
            Any,
            2,
        )
        .zeros()
        .reverse_only("in-place ops refuse dual tensors (PyTorch supports them; not yet here)"),
        spec(
            "sub_",
            |x| x[0].mul_scalar(1.0).sub_(&x[1]),
            same_pairs(),
            Any,
            2,
        )
        .zeros()
        .reverse_only("in-place ops refuse dual tensors (PyTorch supports them; not yet here)"),
        spec(
            "mul_",
            |x| x[0].mul_scalar(1.0).mul_(&x[1]),
            same_pairs(),
            Any,
            2,
        )
        .zeros()
        .reverse_only("in-place ops refuse dual tensors (PyTorch supports them; not yet here)"),
        spec(
            "div_",
            |x| x[0].mul_scalar(1.0).div_(&x[1]),
            same_pairs(),
            NonZero,
            2,
        )
        .fill(&[&ZEROS, &[0.7, -1.3, 1.1]])
        .reverse_only("in-place ops refuse dual tensors (PyTorch supports them; not yet here)"),
        spec(
            "add_scalar_",
            |x| x[0].mul_scalar(1.0).add_scalar_(0.5),
            m(),
            Any,
            2,
        )
        .zeros()
        .reverse_only("in-place ops refuse dual tensors (PyTorch supports them; not yet here)"),
        spec(
            "mul_scalar_",
            |x| x[0].mul_scalar(1.0).mul_scalar_(-2.0),
            m(),
            Any,
            2,
        )
        .zeros()
        .reverse_only("in-place ops refuse dual tensors (PyTorch supports them; not yet here)"),
        spec(
            "clamp_",
            |x| x[0].mul_scalar(1.0).clamp_(Some(-1.0), Some(1.0)),
            m(),
            NonZero,
            2,
        )
        .zeros()
        .reverse_only("in-place ops refuse dual tensors (PyTorch supports them; not yet here)"),
        spec(
            "copy_",
            |x| x[0].mul_scalar(1.0).copy_(&x[1]),
            same_pairs(),
            Any,
            2,
        )
        .zeros()
        .reverse_only("in-place ops refuse dual tensors (PyTorch supports them; not yet here)"),
        spec(
            "fill_",
            |x| &x[0].mul_scalar(1.0).fill_(2.0) * &x[0],
            m(),
            Any,
            2,
        )
        .zeros()
        .reverse_only("in-place ops refuse dual tensors (PyTorch supports them; not yet here)"),
        spec(
            "zero_",
            |x| &x[0].mul_scalar(1.0).zero_() + &x[0].sin(),
            m(),
            Any,
            2,
        )
        .zeros()
        .reverse_only("in-place ops refuse dual tensors (PyTorch supports them; not yet here)"),
        spec("select 0 0", |x| x[0].select(0, 0), m(), Any, 2).zeros(),
        spec("select -1 -1", |x| x[0].select(-1, -1), m(), Any, 2).zeros(),
        spec("i [0, 0]", |x| x[0].i(&[0, 0]), m(), Any, 2).zeros(),
        spec("i [-1]", |x| x[0].i(&[-1]), m(), Any, 2).zeros(),
        spec(
            "expand",
            |x| x[0].expand(&[2, 3, 4]),
            [
                s(&[3, 1]),
                s(&[]),
                s(&[1]),
                s(&[4]),
                s(&[2, 1, 1]),
                s(&[1, 4]),
                s(&[3, 4]),
                s(&[2, 3, 4]),
                s(&[1, 1, 4]),
                tr(&[1, 4]),
            ]
            .into_iter()
            .map(|i| vec![i])
            .collect(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "reshape",
            |x| x[0].reshape(&[x[0].numel()]),
            with_empty(),
            Any,
            2,
        )
        .zeros(),
        spec("unsqueeze", |x| x[0].unsqueeze(1), with_empty(), Any, 2).zeros(),
        spec("squeeze", |x| x[0].squeeze(1), with_empty(), Any, 2).zeros(),
        spec("transpose", |x| x[0].transpose(0, -1), with_empty(), Any, 2).zeros(),
        spec("t", |x| x[0].t(), matrices_2d(), Any, 2).zeros(),
        spec(
            "permute",
            |x| x[0].permute(&(0..x[0].dim() as isize).rev().collect::<Vec<_>>()),
            with_empty(),
            Any,
            2,
        )
        .zeros(),
        spec("m_t", |x| x[0].m_t(), with_empty(), Any, 2).zeros(),
        spec("flatten", |x| x[0].flatten(0, -1), with_empty(), Any, 2).zeros(),
        spec(
            "unflatten",
            |x| x[0].flatten(0, -1).unflatten(0, x[0].shape()),
            with_empty(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "slice step 2",
            |x| x[0].slice(-1, 0, isize::MAX, 2),
            with_empty(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "slice negative",
            |x| x[0].slice(0, -1, isize::MAX, 1),
            with_empty(),
            Any,
            2,
        )
        .zeros(),
        spec("narrow", |x| x[0].narrow(0, 0, 1), m(), Any, 2).zeros(),
        spec(
            "split",
            |x| x[0].split(1, 0).last().unwrap().mul_scalar(2.0),
            m(),
            Any,
            2,
        )
        .zeros(),
        spec("chunk", |x| x[0].chunk(2, -1)[0].exp(), m(), Any, 2).zeros(),
        spec(
            "split_sizes",
            |x| {
                let n = x[0].shape()[0];
                x[0].split_sizes(&[1, n - 1], 0)[0].mul_scalar(2.0)
            },
            m(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "cat",
            |x| Tensor::cat(&[&x[0], &x[0].exp(), &x[0]], 0),
            with_empty(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "cat last dim",
            |x| Tensor::cat(&[x[0].sin(), x[0].clone()], -1),
            with_empty(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "stack",
            |x| Tensor::stack(&[&x[0], &x[0].cos()], 1),
            with_empty(),
            Any,
            2,
        )
        .zeros(),
        spec("flip", |x| x[0].flip(&[0, -1]), with_empty(), Any, 2).zeros(),
        spec("roll", |x| x[0].roll(&[1, -2], &[0, -1]), m(), Any, 2).zeros(),
        spec("roll flat", |x| x[0].roll(&[3], &[]), with_empty(), Any, 2).zeros(),
        spec(
            "repeat",
            |x| {
                x[0].repeat(
                    &vec![2; x[0].dim()]
                        .into_iter()
                        .chain([3])
                        .collect::<Vec<_>>(),
                )
            },
            with_empty(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "pad",
            |x| x[0].pad(&[1, 2, 0, 1], 0.5),
            with_empty(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "pad crop",
            |x| x[0].pad(&[0, -1], 0.0),
            with_empty()
                .into_iter()
                .filter(|c| *c[0].shape.last().unwrap() > 0)
                .collect(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "index_select",
            |x| x[0].index_select(0, &Tensor::new(vec![0, x[0].shape()[0] as i64 - 1, 0])),
            m(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "gather",
            |x| {
                x[0].gather(
                    -1,
                    &cyclic_index(
                        x[0].shape(),
                        x[0].dim() - 1,
                        3,
                        *x[0].shape().last().unwrap(),
                    ),
                )
            },
            m(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "gather dim 0",
            |x| x[0].gather(0, &cyclic_index(x[0].shape(), 0, 2, x[0].shape()[0])),
            m(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "scatter_add",
            |x| {
                x[0].scatter_add(
                    0,
                    &cyclic_index(x[0].shape(), 0, 1, x[0].shape()[0]),
                    &x[0].narrow(0, 0, 1).exp(),
                )
            },
            m(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "scatter",
            |x| {
                x[0].scatter(
                    -1,
                    &cyclic_index(
                        x[0].shape(),
                        x[0].dim() - 1,
                        1,
                        *x[0].shape().last().unwrap(),
                    ),
                    &x[0].narrow(-1, 0, 1).pow(2.0),
                )
            },
            m(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "index_add",
            |x| {
                x[0].index_add(
                    0,
                    &Tensor::new(vec![0, x[0].shape()[0] as i64 - 1]),
                    &Tensor::cat(&[x[0].narrow(0, 0, 1), x[0].narrow(0, 0, 1)], 0).sin(),
                )
            },
            m(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "masked_select",
            |x| x[0].masked_select(&x[0].gt_scalar(0.0)),
            with_empty(),
            NonZero,
            2,
        )
        .none("the selection x > 0 changes at 0, its only special point")
        .no_vmap("its output's shape depends on the values (a member's count of x > 0): vmap refuses it, as torch.func's does"),
    ]
}

#[test]
fn views_and_shapes_to_second_order() {
    assert_table(view_table());
}

/// The rows of [`neural_network_functions_to_second_order`].
fn nn_table() -> Vec<Spec> {
    use ferrograd::nn::{self, ClassOptions, ConvOptions, Reduction};
    use Domain::*;
    let c = classes;
    let pairs = |v: &[(Input, Input)]| {
        v.iter()
            .map(|(a, b)| vec![a.clone(), b.clone()])
            .collect::<Vec<_>>()
    };
    let spatial = || {
        [
            s(&[2, 3, 2]),
            s(&[1, 2, 4]),
            s(&[3, 3, 1]),
            s(&[2, 2, 2, 2]),
            s(&[1, 4, 3]),
            s(&[2, 5, 2]),
            s(&[1, 1, 3]),
            s(&[2, 3, 1, 2]),
            s(&[3, 2, 2]),
            s(&[1, 3, 3]),
        ]
        .into_iter()
        .map(|i| vec![i])
        .collect::<Vec<_>>()
    };
    let linear = || {
        pairs(&[
            (s(&[2, 3]), s(&[4, 3])),
            (tr(&[2, 3]), s(&[2, 3])),
            (s(&[3]), s(&[2, 3])),
            (s(&[1, 1]), s(&[1, 1])),
            (s(&[5, 2]), s(&[3, 2])),
            (s(&[2, 2, 3]), s(&[4, 3])),
            (s(&[0, 3]), s(&[2, 3])),
            (s(&[4]), s(&[1, 4])),
            (s(&[2, 3]), tr(&[4, 3])),
            (s(&[3, 1]), s(&[2, 1])),
        ])
    };
    let norm = || {
        pairs(&[
            (s(&[2, 3]), s(&[3])),
            (s(&[2, 2, 2]), s(&[2, 2])),
            (s(&[1, 4]), s(&[4])),
            (s(&[3, 5]), s(&[5])),
            (tr(&[2, 3]), s(&[3])),
            (s(&[2, 3, 4]), s(&[4])),
            (s(&[5]), s(&[5])),
            (s(&[2, 2]), s(&[2])),
            (s(&[3, 2, 2]), s(&[2, 2])),
            (s(&[4, 2]), s(&[2])),
        ])
    };
    let conv1 = || {
        pairs(&[
            (s(&[2, 2, 5]), s(&[3, 2, 2])),
            (s(&[1, 5]), s(&[2, 1, 3])),
            (s(&[1, 1, 3]), s(&[1, 1, 3])),
            (s(&[2, 3, 4]), s(&[1, 3, 1])),
            (s(&[1, 2, 6]), s(&[2, 2, 3])),
            (s(&[3, 1, 4]), s(&[2, 1, 2])),
            (s(&[2, 6]), s(&[1, 2, 4])),
            (s(&[1, 4, 3]), s(&[2, 4, 2])),
            (s(&[2, 1, 2]), s(&[1, 1, 1])),
            (s(&[1, 3, 5]), s(&[3, 3, 3])),
        ])
    };
    let conv2 = || {
        pairs(&[
            (s(&[1, 2, 4, 3]), s(&[2, 2, 2, 2])),
            (s(&[2, 3, 3]), s(&[1, 2, 2, 2])),
            (s(&[1, 1, 3, 3]), s(&[1, 1, 3, 3])),
            (s(&[2, 1, 3, 2]), s(&[2, 1, 2, 1])),
            (s(&[1, 3, 2, 2]), s(&[1, 3, 1, 1])),
            (s(&[1, 2, 3, 4]), s(&[3, 2, 2, 3])),
            (s(&[2, 2, 2, 2]), s(&[1, 2, 2, 2])),
            (s(&[1, 1, 4, 1]), s(&[2, 1, 2, 1])),
            (s(&[1, 2, 3, 3]), s(&[2, 2, 3, 1])),
            (s(&[3, 1, 2, 3]), s(&[1, 1, 2, 2])),
        ])
    };
    let grouped = || {
        pairs(&[
            (s(&[1, 4, 4, 4]), s(&[2, 2, 2, 2])),
            (s(&[2, 2, 3, 3]), s(&[2, 1, 2, 2])),
            (s(&[1, 6, 3, 2]), s(&[3, 2, 1, 1])),
            (s(&[1, 4, 5, 5]), s(&[4, 1, 3, 3])),
            (s(&[1, 2, 2, 2]), s(&[2, 1, 1, 1])),
            (s(&[2, 4, 3, 4]), s(&[4, 2, 2, 2])),
            (s(&[1, 6, 4, 4]), s(&[2, 3, 2, 2])),
            (s(&[1, 2, 4, 3]), s(&[4, 1, 2, 2])),
            (s(&[1, 8, 3, 3]), s(&[4, 4, 1, 2])),
            (s(&[2, 2, 5, 4]), s(&[2, 1, 3, 2])),
        ])
    };
    vec![
        spec("softmax", |x| x[0].softmax(-1), matrices(), Any, 2)
            .zeros()
            .at(vec![vec![pt(
                &[f64::NEG_INFINITY, 0.0, 0.0, 1.0, f64::NEG_INFINITY, 0.5],
                &[2, 3],
            )]]),
        spec("softmax dim 0", |x| x[0].softmax(0), matrices(), Any, 2).zeros(),
        spec("log_softmax", |x| x[0].log_softmax(1), matrices(), Any, 2).zeros(),
        spec(
            "log_softmax any rank",
            |x| x[0].log_softmax(0),
            unary_cases(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "cross_entropy indices",
            |x| nn::cross_entropy(&x[0], &class_targets(&x[0]), ClassOptions::default()),
            c(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "cross_entropy sum weight",
            |x| {
                nn::cross_entropy(
                    &x[0],
                    &class_targets(&x[0]),
                    ClassOptions {
                        weight: Some(class_weights(&x[0])),
                        reduction: Reduction::Sum,
                        ..Default::default()
                    },
                )
            },
            c(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "cross_entropy ignore",
            |x| {
                let t = class_targets(&x[0]).masked_fill(
                    &Tensor::new((0..x[0].shape()[0]).map(|i| i % 3 == 1).collect::<Vec<_>>()),
                    -100.0,
                );
                nn::cross_entropy(&x[0], &t, ClassOptions::default())
            },
            c(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "cross_entropy smoothing",
            |x| {
                nn::cross_entropy(
                    &x[0],
                    &class_targets(&x[0]),
                    ClassOptions {
                        label_smoothing: 0.1,
                        weight: Some(class_weights(&x[0])),
                        ..Default::default()
                    },
                )
            },
            c(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "cross_entropy probabilities",
            |x| {
                nn::cross_entropy(
                    &x[0],
                    &class_probabilities(&x[0]),
                    ClassOptions {
                        label_smoothing: 0.2,
                        ..Default::default()
                    },
                )
            },
            c(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "cross_entropy spatial",
            |x| {
                nn::cross_entropy(
                    &x[0],
                    &class_targets(&x[0]),
                    ClassOptions {
                        reduction: Reduction::None,
                        ..Default::default()
                    },
                )
            },
            spatial(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "nll_loss",
            |x| {
                nn::nll_loss(
                    &x[0].log_softmax(1),
                    &class_targets(&x[0]),
                    ClassOptions::default(),
                )
            },
            c(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "mse_loss",
            |x| nn::mse_loss(&x[0], &x[1], Reduction::Mean),
            same_pairs(),
            Any,
            3,
        )
        .zeros(),
        spec(
            "l1_loss",
            |x| nn::l1_loss(&x[0], &x[1].mul_scalar(0.0), Reduction::Sum),
            same_pairs(),
            NonZero,
            3,
        )
        .none("kink where input == target (gradient 0 there, PyTorch's convention)"),
        spec(
            "smooth_l1_loss",
            |x| nn::smooth_l1_loss(&x[0], &x[1].mul_scalar(0.0), Reduction::Mean, 1.0),
            same_pairs(),
            NonZero,
            3,
        )
        .zeros(),
        spec(
            "huber_loss",
            |x| nn::huber_loss(&x[0], &x[1].mul_scalar(0.0), Reduction::None, 1.0),
            same_pairs(),
            NonZero,
            3,
        )
        .zeros(),
        spec(
            "binary_cross_entropy",
            |x| nn::binary_cross_entropy(&x[0].sigmoid(), &x[1].sigmoid(), None, Reduction::Mean),
            same_pairs(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "binary_cross_entropy_with_logits",
            |x| {
                nn::binary_cross_entropy_with_logits(
                    &x[0],
                    &x[1].sigmoid(),
                    None,
                    Some(&x[1].exp()),
                    Reduction::Mean,
                )
            },
            same_pairs(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "linear",
            |x| nn::linear(&x[0], &x[1], Some(&x[1].select(1, 0))),
            linear(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "layer_norm",
            |x| nn::layer_norm(&x[0], x[1].shape(), Some(&x[1]), Some(&x[1].cos()), 1e-5),
            norm(),
            Any,
            2,
        )
        .fill(&[&[0.5], &ZEROS])
        .at(vec![vec![pt(&[0.0; 6], &[2, 3]), v(&[0.0, 0.7, -1.3])]]),
        spec(
            "conv1d",
            |x| nn::conv1d(&x[0], &x[1], None, ConvOptions::default()),
            conv1(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "conv1d stride pad dilation",
            |x| {
                nn::conv1d(
                    &x[0],
                    &x[1],
                    Some(&x[1].sum_dims(&[1, 2], false)),
                    ConvOptions {
                        stride: [1, 2],
                        padding: [0, 1],
                        dilation: [1, 2],
                        groups: 1,
                    },
                )
            },
            conv1(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "conv2d",
            |x| nn::conv2d(&x[0], &x[1], None, ConvOptions::default()),
            conv2(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "conv2d groups stride pad",
            |x| {
                nn::conv2d(
                    &x[0],
                    &x[1],
                    Some(&x[1].sum_dims(&[1, 2, 3], false)),
                    ConvOptions {
                        stride: [2, 1],
                        padding: [1, 1],
                        dilation: [1, 2],
                        groups: x[0].shape()[1] / x[1].shape()[1],
                    },
                )
            },
            grouped(),
            Any,
            2,
        )
        .zeros(),
    ]
}

#[test]
fn neural_network_functions_to_second_order() {
    assert_table(nn_table());
}

/// The rows of [`layers_to_second_order`]: the layers of issue 15 (ops/layers.rs).
fn layers_table() -> Vec<Spec> {
    use ferrograd::nn::{self, Reduction};
    use Domain::*;
    let one = |v: &[Input]| v.iter().map(|i| vec![i.clone()]).collect::<Vec<_>>();
    let pairs = |v: &[(Input, Input)]| {
        v.iter()
            .map(|(a, b)| vec![a.clone(), b.clone()])
            .collect::<Vec<_>>()
    };
    let triples = |v: &[(Input, Input, Input)]| {
        v.iter()
            .map(|(a, b, c)| vec![a.clone(), b.clone(), c.clone()])
            .collect::<Vec<_>>()
    };
    // [N, C, L] and [C, L] (transposed: a non-contiguous unbatched input), L >= 4.
    let seq = || {
        one(&[
            s(&[2, 3, 5]),
            s(&[3, 6]),
            s(&[1, 1, 4]),
            s(&[0, 2, 5]),
            tr(&[3, 5]),
            s(&[2, 2, 7]),
            s(&[1, 4, 4]),
            tr(&[1, 6]),
            s(&[3, 1, 5]),
            s(&[2, 8]),
        ])
    };
    // [N, C, H, W] and [C, H, W], H, W >= 4.
    let img = || {
        one(&[
            s(&[1, 2, 4, 5]),
            s(&[2, 4, 4]),
            s(&[2, 1, 5, 4]),
            s(&[0, 2, 4, 4]),
            s(&[1, 1, 6, 4]),
            s(&[1, 4, 5]),
            s(&[3, 1, 4, 4]),
            s(&[1, 3, 4, 6]),
            s(&[1, 5, 5]),
            s(&[2, 2, 4, 5]),
        ])
    };
    // [N, C, *] with N >= 2 or spatial >= 2 (batch statistics need more than one value).
    let chan = || {
        pairs(&[
            (s(&[4, 3]), s(&[3])),
            (s(&[2, 3, 4]), s(&[3])),
            (s(&[3, 2, 2, 2]), s(&[2])),
            (s(&[5, 1]), s(&[1])),
            (tr(&[4, 3]), s(&[3])),
            (s(&[2, 4, 3]), s(&[4])),
            (s(&[1, 2, 5]), s(&[2])),
            (s(&[6, 2]), s(&[2])),
            (s(&[2, 2, 3, 1]), s(&[2])),
            (s(&[3, 5, 2]), s(&[5])),
        ])
    };
    // [N, C, *] with spatial >= 2 (instance statistics), C even (group norm: 2 groups).
    let inst = || {
        pairs(&[
            (s(&[2, 2, 3]), s(&[2])),
            (s(&[1, 4, 2]), s(&[4])),
            (s(&[2, 2, 2, 2]), s(&[2])),
            (s(&[0, 2, 3]), s(&[2])),
            (s(&[3, 2, 4]), s(&[2])),
            (s(&[1, 6, 3]), s(&[6])),
            (s(&[2, 4, 1, 3]), s(&[4])),
            (s(&[1, 2, 5]), s(&[2])),
            (s(&[2, 2, 2]), s(&[2])),
            (s(&[1, 8, 2]), s(&[8])),
        ])
    };
    // [N, C, L] only (interpolate).
    let seq3 = || {
        one(&[
            s(&[2, 3, 5]),
            s(&[1, 1, 4]),
            s(&[0, 2, 5]),
            s(&[2, 2, 7]),
            s(&[1, 4, 4]),
            s(&[3, 1, 5]),
            s(&[1, 2, 3]),
            s(&[2, 1, 2]),
            s(&[1, 3, 1]),
            s(&[1, 1, 1]),
        ])
    };
    // [N, C, H, W] only (interpolate).
    let img4 = || {
        one(&[
            s(&[1, 2, 4, 5]),
            s(&[2, 1, 5, 4]),
            s(&[0, 2, 4, 4]),
            s(&[1, 1, 6, 4]),
            s(&[3, 1, 4, 4]),
            s(&[1, 3, 4, 6]),
            s(&[2, 2, 4, 5]),
            s(&[1, 1, 2, 2]),
            s(&[1, 1, 1, 3]),
            s(&[2, 1, 3, 1]),
        ])
    };
    let rows = |v: &[Input]| one(v);
    let weights = || {
        rows(&[
            s(&[4, 3]),
            s(&[5, 1]),
            s(&[4, 2]),
            s(&[8, 3]),
            s(&[4, 0]),
            tr(&[4, 3]),
            s(&[6, 4]),
            tr(&[5, 2]),
            s(&[4, 5]),
            s(&[7, 1]),
        ])
    };
    let ct1 = || {
        pairs(&[
            (s(&[2, 2, 3]), s(&[2, 3, 2])),
            (s(&[1, 3]), s(&[1, 2, 3])),
            (s(&[1, 1, 4]), s(&[1, 1, 3])),
            (s(&[2, 3, 2]), s(&[3, 1, 2])),
            (s(&[0, 2, 3]), s(&[2, 2, 2])),
            (s(&[1, 2, 5]), s(&[2, 2, 1])),
            (s(&[3, 1, 2]), s(&[1, 2, 2])),
            (s(&[2, 4]), s(&[2, 3, 2])),
            (s(&[1, 2, 3]), s(&[2, 1, 3])),
            (tr(&[2, 4]), s(&[2, 2, 2])),
        ])
    };
    let ct1g = || {
        pairs(&[
            (s(&[1, 2, 3]), s(&[2, 1, 2])),
            (s(&[2, 4, 3]), s(&[4, 2, 2])),
            (s(&[4, 2]), s(&[4, 1, 3])),
            (s(&[1, 2, 4]), s(&[2, 3, 1])),
            (s(&[0, 2, 3]), s(&[2, 1, 2])),
            (s(&[1, 6, 2]), s(&[6, 1, 2])),
            (s(&[2, 2, 2]), s(&[2, 2, 3])),
            (tr(&[2, 3]), s(&[2, 1, 2])),
            (s(&[1, 4, 3]), s(&[4, 1, 1])),
            (s(&[3, 2, 3]), s(&[2, 2, 2])),
        ])
    };
    let ct2 = || {
        pairs(&[
            (s(&[1, 2, 2, 3]), s(&[2, 2, 2, 2])),
            (s(&[2, 3, 2]), s(&[2, 1, 2, 2])),
            (s(&[1, 1, 3, 3]), s(&[1, 1, 3, 1])),
            (s(&[2, 1, 2, 2]), s(&[1, 2, 2, 1])),
            (s(&[0, 2, 2, 2]), s(&[2, 1, 2, 2])),
            (s(&[1, 3, 2, 2]), s(&[3, 1, 1, 2])),
            (s(&[1, 2, 3, 2]), s(&[2, 3, 2, 2])),
            (s(&[1, 1, 2, 4]), s(&[1, 2, 1, 2])),
            (s(&[2, 2, 2]), s(&[2, 2, 3, 1])),
            (s(&[2, 2, 1, 3]), s(&[2, 1, 2, 2])),
        ])
    };
    // [N, C r^2, H, W] for r = 2, any batch dims (pixel_shuffle).
    let shuffle = || {
        one(&[
            s(&[1, 4, 2, 3]),
            s(&[4, 1, 1]),
            s(&[2, 8, 1, 2]),
            s(&[0, 4, 2, 2]),
            s(&[2, 2, 4, 1, 1]),
            s(&[1, 12, 2, 1]),
            s(&[8, 2, 2]),
            s(&[1, 4, 3, 3]),
            s(&[3, 4, 1, 2]),
            s(&[1, 1, 4, 2, 2]),
        ])
    };
    // [*, C, H, W] with H, W even (pixel_unshuffle).
    let unshuffle = || {
        one(&[
            s(&[1, 1, 2, 4]),
            s(&[2, 2, 2]),
            s(&[2, 3, 4, 2]),
            s(&[0, 1, 2, 2]),
            s(&[2, 1, 1, 2, 2]),
            s(&[1, 2, 4, 4]),
            s(&[3, 2, 6]),
            s(&[1, 1, 6, 2]),
            s(&[2, 2, 2, 2]),
            s(&[1, 1, 1, 2, 4]),
        ])
    };
    // Broadcast pairs with a nonzero vector along dim -1.
    let vec_pairs = || {
        pairs(&[
            (s(&[3, 4]), s(&[3, 4])),
            (s(&[2, 3]), s(&[1, 3])),
            (s(&[5]), s(&[5])),
            (s(&[2, 1, 3]), s(&[4, 3])),
            (tr(&[3, 4]), s(&[3, 4])),
            (s(&[0, 3]), s(&[1, 3])),
            (s(&[1, 2]), s(&[4, 2])),
            (s(&[2, 2, 2]), s(&[2, 2, 2])),
            (s(&[4, 1]), s(&[4, 1])),
            (s(&[3, 3]), tr(&[3, 3])),
        ])
    };
    let same = || {
        pairs(&[
            (s(&[3, 4]), s(&[3, 4])),
            (s(&[5]), s(&[5])),
            (s(&[]), s(&[])),
            (s(&[0]), s(&[0])),
            (tr(&[2, 3]), s(&[2, 3])),
            (s(&[2, 3, 2]), s(&[2, 3, 2])),
            (s(&[1, 1]), s(&[1, 1])),
            (s(&[4, 2]), tr(&[4, 2])),
            (s(&[2, 0, 3]), s(&[2, 0, 3])),
            (s(&[1, 6]), s(&[1, 6])),
        ])
    };
    let trip = || {
        triples(&[
            (s(&[3, 4]), s(&[3, 4]), s(&[3, 4])),
            (s(&[5]), s(&[5]), s(&[5])),
            (s(&[1, 3]), s(&[1, 3]), s(&[1, 3])),
            (s(&[0, 3]), s(&[0, 3]), s(&[0, 3])),
            (tr(&[2, 3]), s(&[2, 3]), s(&[2, 3])),
            (s(&[2, 2, 3]), s(&[2, 2, 3]), s(&[2, 2, 3])),
            (s(&[4, 2]), s(&[1, 2]), s(&[4, 2])),
            (s(&[2, 5]), s(&[2, 5]), tr(&[2, 5])),
            (s(&[1]), s(&[1]), s(&[1])),
            (s(&[3, 1]), s(&[3, 1]), s(&[3, 1])),
        ])
    };
    let ranks = || {
        triples(&[
            (s(&[4]), s(&[4]), s(&[4])),
            (s(&[]), s(&[]), s(&[])),
            (s(&[0]), s(&[0]), s(&[0])),
            (s(&[2, 3]), s(&[2, 3]), s(&[2, 3])),
            (tr(&[2, 3]), s(&[2, 3]), s(&[2, 3])),
            (s(&[1]), s(&[5]), s(&[5])),
            (s(&[3, 1]), s(&[1, 3]), s(&[3, 3])),
            (s(&[2, 2, 2]), s(&[2, 2, 2]), s(&[2, 2, 2])),
            (s(&[6]), s(&[6]), s(&[1])),
            (s(&[1, 1]), s(&[1, 1]), s(&[1, 1])),
        ])
    };
    // A fixed target of signs for margin_ranking_loss (no gradient through it).
    fn signs(t: &Tensor) -> Tensor {
        let n = t.numel();
        let v: Vec<f64> = (0..n)
            .map(|k| if k % 3 == 1 { -1.0 } else { 1.0 })
            .collect();
        Tensor::from_vec(v, t.shape())
    }
    // Exact equalities between the planes and exact zeros, values distinct within each
    // plane (a tie inside a window is not smooth: its convention, the first maximum, is
    // checked against PyTorch in tests/layers2.rs).
    let tied_1d = vec![vec![pt(
        &[1.0, 2.0, 0.0, -1.0, 1.0, 2.0, -0.0, -1.0],
        &[2, 4],
    )]];
    let plane: Vec<f64> = [3, 12, 0, 9, 15, 6, 1, 10, 8, 4, 13, 2, 7, 14, 5, 11]
        .iter()
        .map(|&k| k as f64 - 8.0)
        .collect();
    let tied_2d = vec![vec![pt(&[plane.clone(), plane].concat(), &[2, 4, 4])]];
    vec![
        spec("max_pool1d", |x| nn::max_pool1d(&x[0], &[2], &[], &[0], &[1], false), seq(), Any, 2)
            .at(tied_1d.clone()),
        spec(
            "max_pool1d overlapping padded dilated ceil",
            |x| nn::max_pool1d(&x[0], &[3], &[1], &[1], &[1], true),
            seq(),
            Any,
            2,
        )
        .at(tied_1d.clone()),
        spec(
            "max_pool1d dilated strided ceil",
            |x| nn::max_pool1d(&x[0], &[2], &[2], &[1], &[2], true),
            seq(),
            Any,
            2,
        )
        .at(tied_1d.clone()),
        spec(
            "max_pool1d_with_indices",
            |x| nn::max_pool1d_with_indices(&x[0], &[2], &[1], &[0], &[1], false).0,
            seq(),
            Any,
            2,
        )
        .at(tied_1d.clone()),
        spec("max_pool2d", |x| nn::max_pool2d(&x[0], &[2], &[], &[0], &[1], false), img(), Any, 2)
            .at(tied_2d.clone()),
        spec(
            "max_pool2d overlapping padded dilated ceil",
            |x| nn::max_pool2d(&x[0], &[3, 2], &[2, 1], &[1, 1], &[1, 2], true),
            img(),
            Any,
            2,
        )
        .at(tied_2d.clone()),
        spec(
            "max_pool2d of a transposed input",
            |x| nn::max_pool2d(&x[0].transpose(-1, -2), &[2], &[1], &[0], &[1], false),
            img(),
            Any,
            2,
        )
        .at(tied_2d.clone()),
        spec(
            "max_pool2d_with_indices",
            |x| nn::max_pool2d_with_indices(&x[0], &[2, 3], &[1, 2], &[1], &[1], false).0,
            img(),
            Any,
            2,
        )
        .at(tied_2d.clone()),
        spec("avg_pool1d", |x| nn::avg_pool1d(&x[0], &[2], &[], &[0], false, true), seq(), Any, 2)
            .zeros(),
        spec(
            "avg_pool1d padded ceil excluding the padding",
            |x| nn::avg_pool1d(&x[0], &[3], &[2], &[1], true, false),
            seq(),
            Any,
            2,
        )
        .zeros(),
        spec("avg_pool2d", |x| nn::avg_pool2d(&x[0], &[2], &[], &[0], false, true, None), img(), Any, 2)
            .zeros(),
        spec(
            "avg_pool2d padded ceil",
            |x| nn::avg_pool2d(&x[0], &[3, 2], &[2, 1], &[1, 1], true, true, None),
            img(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "avg_pool2d excluding the padding, divisor override",
            |x| {
                &nn::avg_pool2d(&x[0], &[3], &[2], &[1], true, false, None)
                    + &nn::avg_pool2d(&x[0], &[2], &[1], &[1], false, true, Some(3))
                        .sum_dims(&[-1, -2], true)
            },
            img(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "adaptive_avg_pool1d",
            |x| nn::adaptive_avg_pool1d(&x[0], &[3]),
            seq(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "adaptive_avg_pool2d",
            |x| nn::adaptive_avg_pool2d(&x[0], &[3, 2]),
            img(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "adaptive_max_pool1d",
            |x| nn::adaptive_max_pool1d(&x[0], &[3]),
            seq(),
            Any,
            2,
        )
        .at(tied_1d.clone()),
        spec(
            "adaptive_max_pool1d_with_indices",
            |x| nn::adaptive_max_pool1d_with_indices(&x[0], &[2]).0,
            seq(),
            Any,
            2,
        )
        .at(tied_1d.clone()),
        spec(
            "adaptive_max_pool2d",
            |x| nn::adaptive_max_pool2d(&x[0], &[3, 2]),
            img(),
            Any,
            2,
        )
        .at(tied_2d.clone()),
        spec(
            "adaptive_max_pool2d_with_indices",
            |x| nn::adaptive_max_pool2d_with_indices(&x[0], &[2]).0,
            img(),
            Any,
            2,
        )
        .at(tied_2d.clone()),
        spec(
            "batch_norm training",
            |x| {
                let b = x[1].mul_scalar(0.5);
                nn::batch_norm(&x[0], None, None, Some(&x[1]), Some(&b), true, 0.1, 1e-3)
            },
            chan(),
            Any,
            2,
        )
        .none("the batch variance: every input point is smooth (eps > 0); exact ties make it 0, covered by eps"),
        spec(
            "batch_norm evaluation with running statistics",
            |x| {
                let c = x[1].numel();
                let rm = Tensor::from_vec((0..c).map(|k| 0.1 * k as f64).collect::<Vec<f64>>(), &[c]);
                let rv = rm.add_scalar(0.5);
                nn::batch_norm(&x[0], Some(&rm), Some(&rv), Some(&x[1]), None, false, 0.1, 1e-5)
            },
            chan(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "group_norm",
            |x| nn::group_norm(&x[0], 2, Some(&x[1]), Some(&x[1].neg()), 1e-3),
            inst(),
            Any,
            2,
        )
        .none("normalisation by the group variance: smooth everywhere (eps > 0)"),
        spec(
            "instance_norm",
            |x| nn::instance_norm(&x[0], None, None, Some(&x[1]), None, true, 0.1, 1e-3),
            inst(),
            Any,
            2,
        )
        .none("normalisation by the instance variance: smooth everywhere (eps > 0)"),
        spec(
            "embedding with padding_idx",
            |x| {
                // Repeated indices; the padding row is not read (its gradient is 0 by
                // definition, not the derivative: checked against PyTorch in layers2.rs).
                let idx = Tensor::from_vec(vec![1i64, 2, 1, 0, 2, 2], &[2, 3]);
                nn::embedding(&idx, &x[0], Some(3))
            },
            weights(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "embedding of a 0-d index",
            |x| nn::embedding(&Tensor::from_vec(vec![2i64], &[]), &x[0], None),
            weights(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "conv_transpose1d strided padded",
            |x| nn::conv_transpose1d(&x[0], &x[1], None, &[2], &[1], &[1], 1, &[1]),
            ct1(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "conv_transpose1d grouped dilated with bias",
            |x| {
                let c = x[1].shape()[1] * 2;
                let b = Tensor::from_vec((0..c).map(|k| k as f64).collect::<Vec<f64>>(), &[c]);
                nn::conv_transpose1d(&x[0], &x[1], Some(&b), &[1], &[0], &[0], 2, &[2])
            },
            ct1g(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "conv_transpose2d",
            |x| nn::conv_transpose2d(&x[0], &x[1], None, &[2, 1], &[1, 0], &[1, 0], 1, &[1, 2]),
            ct2(),
            Any,
            2,
        )
        .zeros(),
        spec("pad reflect 1d", |x| nn::pad(&x[0], &[2, 1], "reflect", None), seq(), Any, 2).zeros(),
        spec("pad reflect 2d", |x| nn::pad(&x[0], &[1, 2, 3, 0], "reflect", None), img(), Any, 2).zeros(),
        spec(
            "pad reflect 3d",
            |x| nn::pad(&x[0].unsqueeze(-3), &[1, 1, 2, 0, 0, 0], "reflect", None),
            img(),
            Any,
            2,
        )
        .zeros(),
        spec("pad replicate 1d", |x| nn::pad(&x[0], &[3, 1], "replicate", None), seq(), Any, 2).zeros(),
        spec(
            "pad replicate 2d",
            |x| nn::pad(&x[0], &[1, 2, 2, -1], "replicate", None),
            img(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "pad replicate 3d",
            |x| nn::pad(&x[0].unsqueeze(-3), &[0, 2, 1, 1, 1, 1], "replicate", None),
            img(),
            Any,
            2,
        )
        .zeros(),
        spec("pad circular", |x| nn::pad(&x[0], &[1, 2, 4, -1], "circular", None), img(), Any, 2).zeros(),
        spec("pad constant", |x| nn::pad(&x[0], &[1, 2, -1, 1], "constant", Some(0.5)), img(), Any, 2).zeros(),
        spec(
            "interpolate nearest 1d",
            |x| nn::interpolate(&x[0], None, Some(1.7), "nearest", false),
            seq3(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "interpolate nearest 2d",
            |x| nn::interpolate(&x[0], Some(&[3, 7]), None, "nearest", false),
            img4(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "interpolate bilinear",
            |x| nn::interpolate(&x[0], Some(&[3, 7]), None, "bilinear", false),
            img4(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "interpolate bilinear align_corners scale",
            |x| nn::interpolate(&x[0], None, Some(1.5), "bilinear", true),
            img4(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "interpolate linear",
            |x| nn::interpolate(&x[0], None, Some(2.5), "linear", false),
            seq3(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "unfold",
            |x| nn::unfold(&x[0], &[2, 3], &[1, 1], &[1, 0], &[2, 1]),
            img(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "fold of unfold (overlapping blocks)",
            |x| {
                let s = x[0].shape().to_vec();
                let (h, w) = (s[s.len() - 2], s[s.len() - 1]);
                let cols = nn::unfold(&x[0], &[2], &[1], &[1], &[1]);
                nn::fold(&cols, &[h, w], &[2], &[1], &[1], &[1])
            },
            img(),
            Any,
            2,
        )
        .zeros(),
        spec("pixel_shuffle", |x| nn::pixel_shuffle(&x[0], 2), shuffle(), Any, 2).zeros(),
        spec("pixel_unshuffle", |x| nn::pixel_unshuffle(&x[0].transpose(-1, -2), 2), unshuffle(), Any, 2).zeros(),
        spec(
            "cosine_similarity",
            |x| nn::cosine_similarity(&x[0], &x[1], -1, 1e-8),
            vec_pairs(),
            NonZero,
            2,
        )
        .fill(&[&[1.0, -2.0, 0.5]]),
        spec(
            "kl_div",
            |x| nn::kl_div(&x[0], &x[1], "batchmean", false),
            same(),
            Positive,
            2,
        )
        .fill(&[&[-1.0, 0.0, 2.0], &[0.5, 1.0, 0.25]]),
        spec(
            "kl_div log_target",
            |x| &nn::kl_div(&x[0], &x[1], "sum", true) + &nn::kl_div(&x[0], &x[1].exp(), "none", false).mean(),
            same(),
            Positive,
            2,
        )
        .zeros(),
        spec(
            "triplet_margin_loss",
            |x| nn::triplet_margin_loss(&x[0], &x[1], &x[2], 0.7, 2.0, 1e-6, false, Reduction::Mean),
            trip(),
            Any,
            2,
        )
        .fill(&[&[1.0, 0.0], &[0.5, -1.0, 2.0], &[-1.5, 3.0, 0.25]]),
        spec(
            "triplet_margin_loss p=3 swap",
            |x| nn::triplet_margin_loss(&x[0], &x[1], &x[2], 2.3, 3.0, 1e-6, true, Reduction::Sum),
            trip(),
            Any,
            2,
        )
        .fill(&[&[1.0, 0.0], &[0.5, -1.0, 2.0], &[-1.5, 3.0, 0.25]]),
        spec(
            "margin_ranking_loss",
            |x| {
                let t = signs(&(&x[0] + &x[1]));
                nn::margin_ranking_loss(&x[0], &x[1], &t.add_scalar(0.0), 0.3, Reduction::Mean)
                    + nn::margin_ranking_loss(&x[0], &x[1], &x[2], 0.1, Reduction::None).sum()
            },
            ranks(),
            Any,
            2,
        )
        .fill(&[&[1.0, 0.0], &[0.0, -1.0, 0.5], &[2.0, -1.0]]),
    ]
}

#[test]
fn layers_to_second_order() {
    assert_table(layers_table());
}

/// The rows of [`products_and_indexing_to_second_order`]: `linalg`'s products, norms and
/// powers, and the indexing ops Python users write.
fn linalg2_table() -> Vec<Spec> {
    use ferrograd::linalg;
    use Domain::*;
    let cases = |v: Vec<Vec<Input>>| v;
    let cross = || {
        cases(vec![
            vec![s(&[3]), s(&[3])],
            vec![s(&[2, 3]), s(&[3])],
            vec![s(&[3]), s(&[4, 3])],
            vec![s(&[0, 3]), s(&[0, 3])],
            vec![s(&[2, 1, 3]), s(&[1, 4, 3])],
            vec![s(&[5, 3]), s(&[5, 3])],
            vec![tr(&[3, 3]), s(&[3, 3])],
            vec![s(&[4, 3]), tr(&[4, 3])],
            vec![s(&[1, 3]), s(&[1, 3])],
            vec![s(&[2, 2, 3]), s(&[2, 2, 3])],
        ])
    };
    let vecdot = || {
        cases(vec![
            vec![s(&[3]), s(&[3])],
            vec![s(&[2, 3]), s(&[3])],
            vec![s(&[0]), s(&[0])],
            vec![s(&[2, 0]), s(&[2, 0])],
            vec![s(&[1]), s(&[1])],
            vec![s(&[2, 1, 4]), s(&[3, 4])],
            vec![tr(&[3, 2]), s(&[3, 2])],
            vec![s(&[4, 2]), tr(&[4, 2])],
            vec![s(&[5]), s(&[1])],
            vec![s(&[2, 2, 2]), s(&[2, 2, 2])],
        ])
    };
    let chain = || {
        cases(vec![
            vec![s(&[2, 3]), s(&[3, 4]), s(&[4, 2])],
            vec![s(&[3]), s(&[3, 4]), s(&[4])],
            vec![s(&[1, 2]), s(&[2, 5]), s(&[5, 1])],
            vec![s(&[0, 2]), s(&[2, 3]), s(&[3, 1])],
            vec![s(&[2, 0]), s(&[0, 3]), s(&[3, 2])],
            vec![tr(&[2, 3]), s(&[3, 2])],
            vec![s(&[3]), s(&[3])],
            vec![s(&[4, 1]), s(&[1, 4]), s(&[4, 1]), s(&[1, 3])],
            vec![s(&[2]), s(&[2, 3]), tr(&[3, 3]), s(&[3, 2])],
            vec![s(&[5, 2]), s(&[2, 1]), s(&[1, 5]), s(&[5])],
        ])
    };
    let vectors = || {
        cases(vec![
            vec![s(&[])],
            vec![s(&[1])],
            vec![s(&[4])],
            vec![s(&[2, 3])],
            vec![tr(&[3, 2])],
            vec![s(&[2, 2, 3])],
            vec![s(&[1, 5])],
            vec![s(&[3, 1])],
            vec![s(&[6])],
            vec![tr(&[2, 4])],
        ])
    };
    let pairs = || {
        cases(vec![
            vec![s(&[2]), s(&[3])],
            vec![s(&[2, 2]), s(&[2])],
            vec![s(&[0]), s(&[3])],
            vec![s(&[]), s(&[2])],
            vec![s(&[]), s(&[])],
            vec![s(&[2, 1, 3]), s(&[2, 2])],
            vec![tr(&[2, 3]), s(&[2, 2])],
            vec![s(&[1]), s(&[1])],
            vec![s(&[3, 2]), s(&[1, 2])],
            vec![s(&[2, 3]), tr(&[3, 2])],
        ])
    };
    let contract = || {
        cases(vec![
            vec![s(&[2, 3]), s(&[3, 4])],
            vec![s(&[3]), s(&[3])],
            vec![s(&[2, 2, 3]), s(&[3, 2])],
            vec![s(&[0, 3]), s(&[3, 2])],
            vec![s(&[2, 0]), s(&[0, 3])],
            vec![tr(&[2, 3]), s(&[3, 2])],
            vec![s(&[2, 3]), tr(&[3, 2])],
            vec![s(&[1]), s(&[1, 5])],
            vec![s(&[4, 1]), s(&[1])],
            vec![s(&[2, 1, 2]), s(&[2, 2, 1])],
        ])
    };
    let contract2 = || {
        cases(vec![
            vec![s(&[2, 3, 4]), s(&[4, 3, 2])],
            vec![s(&[1, 1, 1]), s(&[1, 1, 1])],
            vec![s(&[0, 2, 3]), s(&[3, 2, 2])],
            vec![s(&[2, 0, 3]), s(&[3, 0, 1])],
            vec![s(&[3, 2, 2]), s(&[2, 2])],
            vec![s(&[1, 2, 3]), s(&[3, 2, 4])],
            vec![s(&[2, 2, 1]), s(&[1, 2, 3])],
            vec![s(&[3, 1, 2]), s(&[2, 1])],
            vec![s(&[2, 3, 2]), s(&[2, 3, 2])],
            vec![s(&[1, 4, 1]), s(&[1, 4, 2])],
        ])
    };
    // (input, mat1, mat2), the input broadcast to the product.
    let addmm = || {
        cases(vec![
            vec![s(&[2, 4]), s(&[2, 3]), s(&[3, 4])],
            vec![s(&[4]), s(&[2, 3]), s(&[3, 4])],
            vec![s(&[]), s(&[2, 3]), s(&[3, 4])],
            vec![s(&[2, 1]), s(&[2, 3]), s(&[3, 4])],
            vec![s(&[0, 4]), s(&[0, 3]), s(&[3, 4])],
            vec![s(&[2, 2]), s(&[2, 0]), s(&[0, 2])],
            vec![tr(&[3, 3]), tr(&[3, 3]), s(&[3, 3])],
            vec![s(&[1, 1]), s(&[1, 1]), s(&[1, 1])],
            vec![s(&[3, 2]), s(&[3, 2]), tr(&[2, 2])],
            vec![s(&[1]), s(&[4, 2]), s(&[2, 1])],
        ])
    };
    let addmv = || {
        cases(vec![
            vec![s(&[2]), s(&[2, 3]), s(&[3])],
            vec![s(&[]), s(&[2, 3]), s(&[3])],
            vec![s(&[1]), s(&[4, 2]), s(&[2])],
            vec![s(&[0]), s(&[0, 3]), s(&[3])],
            vec![s(&[2]), s(&[2, 0]), s(&[0])],
            vec![s(&[3]), tr(&[3, 3]), s(&[3])],
            vec![s(&[1]), s(&[1, 1]), s(&[1])],
            vec![s(&[2]), tr(&[2, 4]), s(&[4])],
            vec![s(&[5]), s(&[5, 1]), s(&[1])],
            vec![s(&[3]), s(&[3, 2]), s(&[2])],
        ])
    };
    let addr = || {
        cases(vec![
            vec![s(&[2, 3]), s(&[2]), s(&[3])],
            vec![s(&[]), s(&[2]), s(&[3])],
            vec![s(&[3]), s(&[2]), s(&[3])],
            vec![s(&[2, 1]), s(&[2]), s(&[4])],
            vec![s(&[0, 3]), s(&[0]), s(&[3])],
            vec![s(&[2, 0]), s(&[2]), s(&[0])],
            vec![tr(&[3, 3]), s(&[3]), s(&[3])],
            vec![s(&[1, 1]), s(&[1]), s(&[1])],
            vec![tr(&[2, 4]), s(&[2]), s(&[4])],
            vec![s(&[1]), s(&[3]), s(&[2])],
        ])
    };
    let baddbmm = || {
        cases(vec![
            vec![s(&[2, 2, 4]), s(&[2, 2, 3]), s(&[2, 3, 4])],
            vec![s(&[4]), s(&[2, 2, 3]), s(&[2, 3, 4])],
            vec![s(&[]), s(&[1, 2, 3]), s(&[1, 3, 1])],
            vec![s(&[2, 1]), s(&[3, 2, 2]), s(&[3, 2, 1])],
            vec![s(&[0, 2, 2]), s(&[0, 2, 3]), s(&[0, 3, 2])],
            vec![s(&[2, 2, 2]), s(&[2, 2, 0]), s(&[2, 0, 2])],
            vec![s(&[1, 1, 1]), s(&[1, 1, 1]), s(&[1, 1, 1])],
            vec![s(&[3, 1, 3]), s(&[3, 1, 2]), s(&[3, 2, 3])],
            vec![s(&[1, 2, 1]), s(&[4, 2, 2]), s(&[4, 2, 1])],
            vec![s(&[2, 3, 2]), s(&[2, 3, 1]), s(&[2, 1, 2])],
        ])
    };
    let addbmm = || {
        cases(vec![
            vec![s(&[2, 4]), s(&[3, 2, 5]), s(&[3, 5, 4])],
            vec![s(&[4]), s(&[2, 2, 3]), s(&[2, 3, 4])],
            vec![s(&[]), s(&[1, 2, 3]), s(&[1, 3, 1])],
            vec![s(&[2, 1]), s(&[3, 2, 2]), s(&[3, 2, 1])],
            vec![s(&[2, 2]), s(&[0, 2, 3]), s(&[0, 3, 2])],
            vec![s(&[2, 2]), s(&[2, 2, 0]), s(&[2, 0, 2])],
            vec![s(&[1, 1]), s(&[1, 1, 1]), s(&[1, 1, 1])],
            vec![tr(&[3, 3]), s(&[2, 3, 2]), s(&[2, 2, 3])],
            vec![s(&[1, 1]), s(&[4, 2, 2]), s(&[4, 2, 1])],
            vec![s(&[3, 2]), s(&[2, 3, 1]), s(&[2, 1, 2])],
        ])
    };
    // Tensors of at least one dim (their last dim goes on a diagonal).
    let embedded = || {
        cases(vec![
            vec![s(&[3])],
            vec![s(&[1])],
            vec![s(&[0])],
            vec![s(&[2, 3])],
            vec![s(&[2, 0])],
            vec![tr(&[3, 2])],
            vec![s(&[2, 2, 3])],
            vec![s(&[4, 1])],
            vec![tr(&[2, 4])],
            vec![s(&[5])],
        ])
    };
    // Tensors of at least one dim, indexed on their leading dims.
    let indexed = || {
        cases(vec![
            vec![s(&[3])],
            vec![s(&[1])],
            vec![s(&[2, 3])],
            vec![s(&[3, 4])],
            vec![tr(&[3, 2])],
            vec![s(&[2, 3, 2])],
            vec![s(&[4, 1])],
            vec![s(&[1, 1, 3])],
            vec![tr(&[2, 4])],
            vec![s(&[5])],
        ])
    };
    // (x, values of x's shape with 4 leading rows), the values written at 4 rows.
    let put = || {
        let v = |a: &[usize]| {
            let mut b = a.to_vec();
            b[0] = 4;
            vec![s(a), s(&b)]
        };
        cases(vec![
            v(&[3]),
            v(&[1]),
            v(&[2, 3]),
            v(&[3, 4]),
            vec![tr(&[3, 2]), s(&[4, 2])],
            v(&[2, 3, 2]),
            v(&[4, 1]),
            v(&[1, 1, 3]),
            vec![s(&[3, 2]), s(&[2])],
            vec![s(&[2, 2]), s(&[])],
        ])
    };
    let same_shape = || {
        cases(vec![
            vec![s(&[3]), s(&[3])],
            vec![s(&[]), s(&[])],
            vec![s(&[0]), s(&[0])],
            vec![s(&[2, 3]), s(&[2, 3])],
            vec![s(&[2, 3]), s(&[7])],
            vec![tr(&[3, 2]), s(&[3, 2])],
            vec![s(&[2, 2, 2]), s(&[8])],
            vec![s(&[1]), s(&[1])],
            vec![s(&[4, 1]), tr(&[2, 2])],
            vec![s(&[5]), s(&[5, 2])],
        ])
    };
    vec![
        spec(
            "cross",
            |x| linalg::cross(&x[0], &x[1], -1),
            cross(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "vecdot",
            |x| linalg::vecdot(&x[0], &x[1], -1),
            vecdot(),
            Any,
            2,
        )
        .zeros(),
        spec("multi_dot", |x| linalg::multi_dot(x), chain(), Any, 2).zeros(),
        spec(
            "vector_norm 2",
            |x| linalg::vector_norm(&x[0], 2.0, None, false),
            vectors(),
            NonZero,
            2,
        )
        .at(vec![
            vec![v(&[0.0, 3.0, -0.0, 4.0])],
            vec![pt(&[0.0, 0.0, 1.5, 0.0], &[2, 2])],
        ]),
        spec(
            "vector_norm 3 over the last dim",
            |x| linalg::vector_norm(&x[0], 3.0, Some(&[-1]), true),
            vectors(),
            NonZero,
            2,
        )
        .at(vec![vec![pt(&[0.0, 3.0, -0.0, 4.0], &[2, 2])]]),
        spec(
            "vector_norm inf",
            |x| linalg::vector_norm(&x[0], f64::INFINITY, Some(&[0]), false),
            vectors(),
            NonZero,
            2,
        )
        .at(vec![vec![v(&[0.0, -3.0, 0.0, 1.0])]]),
        spec(
            "vector_norm 1",
            |x| linalg::vector_norm(&x[0], 1.0, None, false),
            vectors(),
            NonZero,
            2,
        )
        .none("|x| has a kink at 0"),
        spec(
            "vector_norm 0",
            |x| linalg::vector_norm(&x[0], 0.0, Some(&[-1]), false),
            vectors(),
            NonZero,
            2,
        )
        .none("the count of nonzeros jumps where an element reaches 0"),
        spec(
            "matrix_power 3",
            |x| linalg::matrix_power(&x[0], 3),
            squares(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "matrix_power 0",
            |x| linalg::matrix_power(&x[0], 0),
            squares(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "matrix_power -2",
            |x| linalg::matrix_power(&conditioned(&x[0]), -2),
            squares(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "matrix_exp",
            |x| linalg::matrix_exp(&x[0]),
            squares(),
            Any,
            2,
        )
        .zeros()
        .at(vec![
            vec![pt(&[0.0, 4.0, -4.0, 0.0], &[2, 2])],
            vec![pt(&[1.0, 0.0, 0.0, 1.0], &[2, 2])],
        ]),
        spec("kron", |x| x[0].kron(&x[1]), pairs(), Any, 2).zeros(),
        spec(
            "diag_embed",
            |x| x[0].diag_embed(0, -2, -1),
            embedded(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "diag_embed above the diagonal",
            |x| x[0].diag_embed(2, -2, -1),
            embedded(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "diag_embed below the diagonal, into dims 0 and -1",
            |x| x[0].diag_embed(-1, 0, -1),
            embedded(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "tensordot",
            |x| x[0].tensordot(&x[1], &[-1], &[0]),
            contract(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "tensordot over two dims",
            |x| x[0].tensordot(&x[1], &[1, 2], &[1, 0]),
            contract2(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "addmm",
            |x| x[0].addmm(&x[1], &x[2], 0.5, 2.0),
            addmm(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "addmv",
            |x| x[0].addmv(&x[1], &x[2], 1.0, -1.5),
            addmv(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "addr",
            |x| x[0].addr(&x[1], &x[2], 2.0, 1.0),
            addr(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "baddbmm",
            |x| x[0].baddbmm(&x[1], &x[2], 1.0, 0.5),
            baddbmm(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "addbmm",
            |x| x[0].addbmm(&x[1], &x[2], -1.0, 1.0),
            addbmm(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "index",
            |x| x[0].index(&[rows(x[0].shape()[0], &[4])]),
            indexed(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "index on two dims, broadcast",
            |x| match x[0].dim() {
                1 => x[0].index(&[rows(x[0].shape()[0], &[2, 3])]),
                _ => x[0].index(&[rows(x[0].shape()[0], &[2, 1]), rows(x[0].shape()[1], &[3])]),
            },
            indexed(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "index with a bool mask",
            |x| x[0].index(&[pattern_mask(&x[0].shape()[..1])]),
            indexed(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "index_put",
            |x| x[0].index_put(&[rows(x[0].shape()[0], &[4])], &x[1], false),
            put(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "index_put accumulate",
            |x| x[0].index_put(&[rows(x[0].shape()[0], &[4])], &x[1], true),
            put(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "index_copy",
            |x| {
                x[0].index_copy(
                    0,
                    &rows(x[0].shape()[0], &[4]),
                    &x[1].expand(&{
                        let mut sh = x[0].shape().to_vec();
                        sh[0] = 4;
                        sh
                    }),
                )
            },
            put(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "index_fill",
            |x| x[0].index_fill(-1, &rows(*x[0].shape().last().unwrap(), &[2]), 0.5),
            indexed(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "masked_scatter",
            |x| x[0].masked_scatter(&pattern_mask(x[0].shape()), &x[1]),
            same_shape(),
            Any,
            2,
        )
        .zeros(),
    ]
}

/// Row indices of a dim of size `n`, of `shape`: cycling with repeats and a negative one.
fn rows(n: usize, shape: &[usize]) -> Tensor {
    let len: usize = shape.iter().product();
    let v: Vec<f64> = (0..len)
        .map(|i| match i % 3 {
            0 => ((i * 2) % n) as f64,
            1 => -1.0,
            _ => ((i + 1) % n) as f64,
        })
        .collect();
    Tensor::from_vec(v, shape).to_dtype(DType::I64)
}

/// A bool mask of `shape`: true, false, true, true, false, ... (never all false for 3+).
fn pattern_mask(shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    let v: Vec<bool> = (0..n).map(|i| i % 5 != 1 && i % 5 != 4).collect();
    Tensor::from_vec(v, shape)
}

#[test]
fn products_and_indexing_to_second_order() {
    assert_table(linalg2_table());
}

/// The rows of [`composites_of_the_seeds_to_second_order`].
fn composite_table() -> Vec<Spec> {
    use Domain::*;
    vec![
        spec(
            "s004-4 norm(exp(G1) + G1 @ G2)",
            |x| {
                let g1 = &(3.0 * &x[0]) + &x[1].cos();
                let g2 = &x[0].matmul(&x[0]) + &(2.0 * &x[1]).sin();
                (&g1.exp() + &g1.matmul(&g2)).norm()
            },
            square_pairs(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "s004-3 exp(3w + cos z) + 3(w^2 + sin 2z)",
            |x| {
                &(&(3.0 * &x[0]) + &x[1].cos()).exp()
                    + &(3.0 * &(&x[0].pow(2.0) + &(2.0 * &x[1]).sin()))
            },
            same_pairs(),
            Any,
            3,
        )
        .zeros(),
        spec(
            "s002-1 mean(3(x+2)^2)",
            |x| (&(&(&x[0] + 2.0) * &(&x[0] + 2.0)) * 3.0).mean(),
            unary_cases(),
            Any,
            3,
        )
        .zeros(),
        spec(
            "s002-9 tanh to third order",
            |x| x[0].tanh(),
            unary_cases(),
            Any,
            3,
        )
        .zeros(),
    ]
}

#[test]
fn composites_of_the_seeds_to_second_order() {
    assert_table(composite_table());
}

#[test]
fn cumprod_and_prod_gradients_with_zeros_match_the_formula() {
    // d/dx_k prod(x) = prod of the others, also where x has zeros (no division).
    let x = Tensor::from_data([2.0, 0.0, 3.0, 5.0], DType::F64).requires_grad_(true);
    x.prod().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![0.0, 30.0, 0.0, 0.0]);
    let y = Tensor::from_data([0.0, 0.0, 3.0], DType::F64).requires_grad_(true);
    y.prod().backward();
    assert_eq!(y.grad().unwrap().to_vec::<f64>(), vec![0.0, 0.0, 0.0]);
    // Second derivative of prod at zeros: d2/dx0 dx1 of x0 x1 x2 = x2.
    let z = Tensor::from_data([0.0, 0.0, 3.0], DType::F64).requires_grad_(true);
    let g = ferrograd::autograd::grad(
        &[z.prod()],
        &[&z],
        ferrograd::GradOptions::new().create_graph(true),
    );
    let h = ferrograd::autograd::grad(
        &[g[0].as_ref().unwrap().select(0, 0)],
        &[&z],
        ferrograd::GradOptions::new(),
    );
    assert_eq!(h[0].as_ref().unwrap().to_vec::<f64>(), vec![0.0, 3.0, 0.0]);
}

#[test]
fn losses_and_softmax_match_closed_forms() {
    use ferrograd::nn::{self, ClassOptions, Reduction};
    let logits = Tensor::from_data([[2.0, 0.0], [0.0, 2.0]], DType::F64);
    let ce = nn::cross_entropy(&logits, &Tensor::new([0, 1]), ClassOptions::default());
    assert!((ce.item() - (1.0 + (-2f64).exp()).ln()).abs() < 1e-15);
    // Label smoothing eps with 2 classes: target (1 - eps/2, eps/2).
    let eps = 0.2;
    let ls = nn::cross_entropy(
        &logits,
        &Tensor::new([0, 1]),
        ClassOptions {
            label_smoothing: eps,
            ..Default::default()
        },
    );
    let lp0 = -(1.0 + (-2f64).exp()).ln();
    let lp1 = -2.0 + lp0;
    let expected = -((1.0 - eps / 2.0) * lp0 + eps / 2.0 * lp1);
    assert!(
        (ls.item() - expected).abs() < 1e-12,
        "{} vs {expected}",
        ls.item()
    );
    let p = Tensor::from_data([1.0, 2.0, 3.0], DType::F64)
        .softmax(0)
        .to_vec::<f64>();
    let z: f64 = [1f64, 2.0, 3.0].iter().map(|v| v.exp()).sum();
    assert!((p[2] - 3f64.exp() / z).abs() < 1e-15);
    let l = Tensor::from_data([0.0, 1000.0], DType::F64)
        .log_softmax(0)
        .to_vec::<f64>();
    assert_eq!(l, vec![-1000.0, 0.0]);
    let bce = nn::binary_cross_entropy(
        &Tensor::new([0.0, 1.0]),
        &Tensor::new([1.0, 1.0]),
        None,
        Reduction::None,
    );
    assert_eq!(bce.to_vec::<f32>(), vec![100.0, 0.0]); // log clamped at -100
    let x = Tensor::from_data([-3.0, 0.5, 40.0], DType::F64);
    let t = Tensor::from_data([1.0, 0.0, 1.0], DType::F64);
    let bl =
        nn::binary_cross_entropy_with_logits(&x, &t, None, None, Reduction::None).to_vec::<f64>();
    let naive = |x: f64, t: f64| {
        -(t * (1.0 / (1.0 + (-x).exp())).ln() + (1.0 - t) * (1.0 - 1.0 / (1.0 + (-x).exp())).ln())
    };
    assert!((bl[0] - naive(-3.0, 1.0)).abs() < 1e-12);
    assert!((bl[1] - naive(0.5, 0.0)).abs() < 1e-12);
    assert!(bl[2] < 1e-17 && bl[2] >= 0.0);
}

#[test]
fn dropout_keeps_the_expectation() {
    ferrograd::manual_seed(3);
    let x = Tensor::ones(&[20_000]).requires_grad_(true);
    let y = ferrograd::nn::dropout(&x, 0.3, true);
    let kept = y.ne_scalar(0.0).sum().item();
    assert!((kept / 20_000.0 - 0.7).abs() < 0.02, "{kept}");
    y.sum().backward();
    let g = x.grad().unwrap().to_vec::<f32>();
    assert!(g.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-6));
}

#[test]
fn linear_algebra_values() {
    let a = Tensor::from_data([[4.0, 7.0], [2.0, 6.0]], DType::F64);
    assert!((a.det().item() - 10.0).abs() < 1e-12);
    let inv = a.inv().to_vec::<f64>();
    let expected = [0.6, -0.7, -0.2, 0.4];
    assert!(inv.iter().zip(expected).all(|(x, e)| (x - e).abs() < 1e-12));
    let x = a
        .solve(&Tensor::from_data([1.0, 2.0], DType::F64))
        .to_vec::<f64>();
    assert!((x[0] - (0.6 - 1.4)).abs() < 1e-12 && (x[1] - (-0.2 + 0.8)).abs() < 1e-12);
    assert_eq!(Tensor::new([[0.0, 1.0], [1.0, 0.0]]).det().item(), -1.0);
    assert_eq!(Tensor::new([[1.0, 2.0], [2.0, 4.0]]).det().item(), 0.0);
    let e = Tensor::einsum(
        "ij,ij->",
        &[Tensor::new([[1.0, 2.0]]), Tensor::new([[3.0, 4.0]])],
    );
    assert_eq!(e.item(), 11.0);
}

#[test]
fn gradcheck_catches_a_wrong_gradient_in_both_modes() {
    use ferrograd::testing::{check_grads, gradcheck, GradcheckOptions};
    // `x.detach() * x` hides one path from autograd: the analytical gradient is x, the true
    // one 2x. Both the element-wise and the projection mode must notice.
    let x = Tensor::from_data([0.5, -1.0, 2.0], DType::F64).requires_grad_(true);
    let wrong = |xs: &[Tensor]| vec![&xs[0].detach() * &xs[0]];
    assert!(gradcheck(&wrong, std::slice::from_ref(&x)).is_err());
    let fast = GradcheckOptions {
        fast_mode: true,
        ..Default::default()
    };
    assert!(check_grads(&wrong, std::slice::from_ref(&x), 1, fast).is_err());
    assert!(check_grads(&|xs| vec![&xs[0] * &xs[0]], &[x], 2, fast).is_ok());
}

#[test]
fn large_jacobians_are_checked_by_projection() {
    use ferrograd::testing::gradcheck;
    // 40x40 @ 40x40: a 1600 x 3200 Jacobian, above the element-wise threshold.
    let mut rng = StdRng::seed_from_u64(9);
    let a = random_input(&s(&[40, 40]), Domain::Any, &mut rng);
    let b = random_input(&s(&[40, 40]), Domain::Any, &mut rng);
    gradcheck(&|xs| vec![xs[0].matmul(&xs[1]).tanh()], &[a, b]).unwrap();
}

/// `x + 3 I` on the last two dimensions: well conditioned for inv, det and solve.
fn conditioned(x: &Tensor) -> Tensor {
    let n = x.shape()[x.dim() - 1];
    x + &Tensor::ones(&[n])
        .to_dtype(DType::F64)
        .diag(0)
        .mul_scalar(3.0)
}

/// Iterated derivatives as the CLI's `--order` prints them: `d1 = grad(sum f, x)`,
/// `d(k+1) = grad(sum dk, x)`, with respect to input `wrt` (zeros where a derivative no
/// longer depends on `x`).
fn iterated(f: &dyn Fn(&[Tensor]) -> Tensor, xs: &[Tensor], k: usize, wrt: usize) -> Vec<Vec<f64>> {
    use ferrograd::autograd::grad;
    let mut y = f(xs).sum();
    let mut out = Vec::new();
    for _ in 0..k {
        let g = if y.requires_grad() {
            grad(
                &[&y],
                &[&xs[wrt]],
                ferrograd::GradOptions::new()
                    .create_graph(true)
                    .allow_unused(true),
            )[0]
            .clone()
        } else {
            None
        };
        let g = g.unwrap_or_else(|| xs[wrt].zeros_like());
        out.push(g.to_vec::<f64>());
        y = g.sum();
    }
    out
}

fn assert_close(what: &str, got: &[Vec<f64>], expected: &[&[f64]], tol: f64) {
    assert_eq!(got.len(), expected.len(), "{what}");
    for (k, (g, e)) in got.iter().zip(expected).enumerate() {
        assert_eq!(g.len(), e.len(), "{what} d{}", k + 1);
        for (a, b) in g.iter().zip(e.iter()) {
            assert!(
                (a - b).abs() <= tol * (1.0 + b.abs()),
                "{what} d{}: {g:?}, expected {e:?}",
                k + 1
            );
        }
    }
}

/// The four defects of issue 12, at the issue's points; expected values from PyTorch 2.15
/// (f64), each also a closed form (given in the comments).
#[test]
fn derivatives_at_the_special_points_of_issue_12() {
    use ferrograd::nn::{self, Reduction};
    // 1. norm(x, 2) at a zero entry: d1 = x / |x|, d2 = row sums of (I - u u^T) / |x|.
    let x = v(&[0.0, -0.4]);
    let d = iterated(&|x| x[0].norm_dims(2.0, &[], false), &[x], 3, 0);
    assert_close(
        "norm(x, 2)",
        &d,
        &[&[0.0, -1.0], &[2.5, 0.0], &[12.5, 6.25]],
        1e-12,
    );
    let x = pt(&[0.0, 0.5, 1.0, 0.0], &[2, 2]);
    let d = iterated(&|x| x[0].norm_dims(2.0, &[1], false), &[x], 3, 0);
    assert_close(
        "norm(x, 2, 1)",
        &d,
        &[
            &[0.0, 1.0, 1.0, 0.0],
            &[2.0, 0.0, 0.0, 1.0],
            &[-8.0, -4.0, -1.0, -2.0],
        ],
        1e-12,
    );
    // 2. bce_with_logits at logit 0: d1 = sigmoid(x) - y, d2 = sigmoid'(x), d3 = sigmoid''.
    let bce = |x: &[Tensor]| {
        nn::binary_cross_entropy_with_logits(&x[0], &x[1], None, None, Reduction::Sum)
    };
    let d = iterated(&bce, &[v(&[0.0, 0.5]), v(&[0.3, 0.6])], 3, 0);
    assert_close(
        "bce_with_logits",
        &d,
        &[
            &[0.2, 0.022459331201854615],
            &[0.25, 0.2350037122015945],
            &[0.0, -0.05755679485232075],
        ],
        1e-12,
    );
    // With pos_weight w: d1 = (1 - y + w y) sigmoid(x) - w y at 0 and -0.
    let bce_pw = |x: &[Tensor]| {
        nn::binary_cross_entropy_with_logits(
            &x[0],
            &x[1],
            None,
            Some(&Tensor::from_vec(vec![2.0, 0.5], &[2])),
            Reduction::Sum,
        )
    };
    let d = iterated(&bce_pw, &[v(&[0.0, -0.0]), v(&[0.3, 0.6])], 3, 0);
    assert_close(
        "bce_with_logits pos_weight",
        &d,
        &[&[0.05, 0.05], &[0.325, 0.175], &[0.0, 0.0]],
        1e-12,
    );
    // 3. smooth_l1 and huber where input == target: d2 = 1 / beta and 1.
    let sl1 = |x: &[Tensor]| nn::smooth_l1_loss(&x[0], &x[1], Reduction::Sum, 0.5);
    let d = iterated(&sl1, &[v(&[0.3, -1.0]), v(&[0.3, -1.0])], 2, 0);
    assert_close("smooth_l1_loss", &d, &[&[0.0, 0.0], &[2.0, 2.0]], 1e-12);
    let huber = |x: &[Tensor]| nn::huber_loss(&x[0], &x[1], Reduction::Sum, 2.0);
    let d = iterated(&huber, &[v(&[0.3, -1.0]), v(&[0.3, -1.0])], 2, 0);
    assert_close("huber_loss", &d, &[&[0.0, 0.0], &[1.0, 1.0]], 1e-12);
    // 4. det of a singular matrix: d1 = adj(A)^T, d2 = its derivative along all-ones.
    let d = iterated(&|x| x[0].det(), &[pt(&[1.0, 2.0, 2.0, 4.0], &[2, 2])], 2, 0);
    assert_close(
        "det 2x2 rank 1",
        &d,
        &[&[4.0, -2.0, -2.0, 1.0], &[1.0, -1.0, -1.0, 1.0]],
        1e-12,
    );
    let a = pt(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0], &[3, 3]);
    let d = iterated(&|x| x[0].det(), &[a], 2, 0);
    assert_close(
        "det 3x3 rank 2",
        &d,
        &[
            &[-3.0, 6.0, -3.0, 6.0, -12.0, 6.0, -3.0, 6.0, -3.0],
            &[0.0; 9],
        ],
        1e-10,
    );
    // The zero 2x2 matrix (rank n - 2): adj = 0, and d2 of ad - bc along all-ones is
    // [1, -1, -1, 1] (PyTorch's SVD rule gives NaN here).
    let d = iterated(&|x| x[0].det(), &[pt(&[0.0; 4], &[2, 2])], 2, 0);
    assert_close(
        "det 2x2 zero",
        &d,
        &[&[0.0; 4], &[1.0, -1.0, -1.0, 1.0]],
        1e-12,
    );
}

/// Gradient conventions at kinks (where no derivative exists), PyTorch's: ties share the
/// gradient, abs/l1 give 0 at 0, smooth_l1 and huber take the linear branch at |d| == beta.
/// Expected values from PyTorch 2.15 (f64).
#[test]
fn derivative_conventions_at_kinks_are_pytorchs() {
    use ferrograd::nn::{self, Reduction};
    let d1 = |f: &dyn Fn(&[Tensor]) -> Tensor, xs: &[Tensor], wrt: usize| {
        iterated(f, xs, 1, wrt).remove(0)
    };
    let a = || v(&[1.0, 0.0]);
    assert_eq!(d1(&|x| x[0].maximum(&x[1]), &[a(), a()], 0), [0.5, 0.5]);
    assert_eq!(d1(&|x| x[0].maximum(&x[1]), &[a(), a()], 1), [0.5, 0.5]);
    assert_eq!(d1(&|x| x[0].minimum(&x[1]), &[a(), a()], 1), [0.5, 0.5]);
    let t = || v(&[1.0, 2.0, 2.0]);
    assert_eq!(d1(&|x| x[0].amax(&[], false), &[t()], 0), [0.0, 0.5, 0.5]);
    assert_eq!(d1(&|x| x[0].max(), &[t()], 0), [0.0, 0.5, 0.5]);
    let m = pt(&[2.0, 1.0, 2.0, 3.0], &[2, 2]);
    assert_eq!(
        d1(&|x| x[0].max_dim(0, false).0, &[m], 0),
        [1.0, 0.0, 0.0, 1.0]
    );
    assert_eq!(d1(&|x| x[0].abs(), &[v(&[0.0, -0.0])], 0), [0.0, 0.0]);
    assert_eq!(d1(&|x| x[0].pow(0.0), &[v(&[0.0])], 0), [0.0]);
    let p2 = iterated(&|x| x[0].pow(2.0), &[v(&[0.0])], 2, 0);
    assert_eq!(p2, [vec![0.0], vec![2.0]]);
    let n = |p: f64, x: &[f64]| d1(&move |t| t[0].norm_dims(p, &[], false), &[v(x)], 0);
    assert_eq!(n(f64::INFINITY, &[1.0, -2.0, 2.0]), [0.0, -0.5, 0.5]);
    assert_eq!(n(f64::NEG_INFINITY, &[1.0, -1.0, 2.0]), [0.5, -0.5, 0.0]);
    assert_eq!(n(1.0, &[0.0, 2.0]), [0.0, 1.0]);
    assert_close("norm p=3", &[n(3.0, &[0.0, 2.0])], &[&[0.0, 1.0]], 1e-15);
    assert_eq!(n(2.0, &[0.0, 0.0]), [0.0, 0.0]);
    let c = || v(&[1.0, 1.0, 1.0]);
    assert_eq!(d1(&|x| x[0].std(&[], 1.0, false), &[c()], 0), [0.0; 3]);
    assert_eq!(d1(&|x| x[0].var(&[], 1.0, false), &[c()], 0), [0.0; 3]);
    let l1 = |x: &[Tensor]| nn::l1_loss(&x[0], &x[1], Reduction::Sum);
    assert_eq!(d1(&l1, &[v(&[0.0]), v(&[0.0])], 0), [0.0]);
    // At |d| == beta (delta) the first derivative is +-1 and the second 0 (linear branch).
    let sl1 = |x: &[Tensor]| nn::smooth_l1_loss(&x[0], &x[1], Reduction::Sum, 1.0);
    let huber = |x: &[Tensor]| nn::huber_loss(&x[0], &x[1], Reduction::Sum, 1.0);
    for f in [&sl1 as &dyn Fn(&[Tensor]) -> Tensor, &huber] {
        let d = iterated(f, &[v(&[1.0, -1.0]), v(&[0.0, 0.0])], 2, 0);
        assert_eq!(d, [vec![1.0, -1.0], vec![0.0, 0.0]]);
    }
    let p = iterated(&|x| x[0].prod(), &[v(&[0.0, 0.0, 3.0])], 2, 0);
    assert_eq!(p, [vec![0.0, 0.0, 0.0], vec![3.0, 3.0, 0.0]]);
    let cp = iterated(&|x| x[0].cumprod(0), &[v(&[2.0, 0.0, 3.0])], 2, 0);
    assert_eq!(cp, [vec![1.0, 8.0, 0.0], vec![4.0, 6.0, 2.0]]);
    let ln = |x: &[Tensor]| nn::layer_norm(&x[0], &[3], None, None, 1e-5);
    assert_eq!(d1(&ln, &[pt(&[1.0, 1.0, 1.0], &[1, 3])], 0), [0.0; 3]);
}

// ------------------------------------------------------------------ coverage of the tables

/// Every table of this file (the coverage test reads them all).
fn all_tables() -> Vec<Spec> {
    [
        unary_table(),
        special_table(),
        sorting_table(),
        activation_table(),
        binary_table(),
        reduction_table(),
        linalg_table(),
        factor_table(),
        linalg2_table(),
        view_table(),
        nn_table(),
        layers_table(),
        composite_table(),
        spectral_table(),
        math_table(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Node names the library records that no gradcheck row can produce, each with its reason.
const NODES_WITHOUT_ROWS: &[(&str, &str)] = &[
    (
        "VmapBackward0",
        "func::vmap's crossing into and out of a vmap level (autograd/levels.rs): recorded by \
         the transform, not by an op a row calls; every row's vmap column runs through it",
    ),
    (
        "MakeDualBackward0",
        "forward-mode AD's make_dual (forward_ad.rs): recorded by the dual-level machinery, \
         not by an op a row calls",
    ),
    (
        "AliasBackward0",
        "forward-mode AD's aliases (unpack_dual's primal, the jvp helper's inputs in \
         forward_ad.rs): recorded by the dual-level machinery, not by an op a row calls",
    ),
    (
        "ToCopyBackward0",
        "a float-to-float cast: in f64 gradcheck the only one is f64 -> f32, whose rounding \
         (about 6e-8 relative) swamps central differences; f64 -> f64 records nothing",
    ),
];

/// Node names with no gradcheck row yet that could have one: reported to the lead (issue 13),
/// to be given rows or moved to [`NODES_WITHOUT_ROWS`] with a reason. The test also fails
/// when a name here has a row (delete it from this list then).
const NODES_WITHOUT_ROWS_YET: &[&str] = &[];

/// Registered ops that no gradcheck row needs to call: they do not return a tensor
/// differentiable in float tensor inputs, each with its reason.
const OPS_WITHOUT_ROWS: &[(&str, &str)] = &[
    ("eq", "a bool result: no gradient"),
    ("ne", "a bool result: no gradient"),
    ("lt", "a bool result: no gradient"),
    ("le", "a bool result: no gradient"),
    ("gt", "a bool result: no gradient"),
    ("ge", "a bool result: no gradient"),
    ("eq_scalar", "a bool result: no gradient"),
    ("ne_scalar", "a bool result: no gradient"),
    ("lt_scalar", "a bool result: no gradient"),
    ("le_scalar", "a bool result: no gradient"),
    ("gt_scalar", "a bool result: no gradient"),
    ("ge_scalar", "a bool result: no gradient"),
    ("logical_and", "a bool result: no gradient"),
    ("logical_or", "a bool result: no gradient"),
    ("logical_xor", "a bool result: no gradient"),
    ("logical_and_scalar", "a bool result: no gradient"),
    ("logical_or_scalar", "a bool result: no gradient"),
    ("logical_xor_scalar", "a bool result: no gradient"),
    ("logical_not", "a bool result: no gradient"),
    ("bitwise_and", "integer and bool operands only: no gradient"),
    ("bitwise_or", "integer and bool operands only: no gradient"),
    ("bitwise_xor", "integer and bool operands only: no gradient"),
    ("bitwise_not", "integer and bool operands only: no gradient"),
    ("bitwise_left_shift", "integer operands only: no gradient"),
    ("bitwise_right_shift", "integer operands only: no gradient"),
    ("gcd", "integer operands only: no gradient"),
    ("lcm", "integer operands only: no gradient"),
    ("all", "a bool result: no gradient"),
    ("any", "a bool result: no gradient"),
    ("argmax", "int64 indices: no gradient"),
    ("argmin", "int64 indices: no gradient"),
    ("nonzero", "int64 indices: no gradient"),
    ("searchsorted", "int64 indices: no gradient"),
    ("bincount", "counts: no gradient (PyTorch: not implemented)"),
    ("histc", "counts: no gradient (PyTorch: not implemented)"),
    (
        "zeros_like",
        "creation: values independent of the input (PyTorch records no node)",
    ),
    (
        "ones_like",
        "creation: values independent of the input (PyTorch records no node)",
    ),
    (
        "full_like",
        "creation: values independent of the input (PyTorch records no node)",
    ),
    ("detach", "cuts the graph by definition"),
    ("matrix_rank", "an int64 count: no gradient"),
    ("requires_grad_", "sets a flag on a leaf; records no node"),
];

/// Registered ops with no gradcheck row yet (reported to the lead, see
/// [`NODES_WITHOUT_ROWS_YET`]).
const OPS_WITHOUT_ROWS_YET: &[&str] = &[
    // Random: a row needs a fixed mask (a seed inside f races with other tests' draws).
    "dropout",
];

/// Whether `s` is shaped like a PyTorch node name: `[A-Z][A-Za-z0-9]*Backward[0-9]+`.
fn is_node_name(s: &str) -> bool {
    let Some(stem) = s
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .strip_suffix("Backward")
    else {
        return false;
    };
    s.len() > stem.len() + "Backward".len()
        && stem.starts_with(|c: char| c.is_ascii_uppercase())
        && stem.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Every string literal shaped like a node name in the library's sources (comments skipped).
fn node_names_in_sources() -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    let mut dirs = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                    // Between two quotes: a literal (or code between literals, which is
                    // never shaped like a name).
                    for piece in line.split('"').skip(1) {
                        if is_node_name(piece) {
                            names.insert(piece.to_string());
                        }
                    }
                }
            }
        }
    }
    names
}

/// The names of every node reachable from `t`'s graph, walked iteratively. `GradFn` has no
/// identity to test, so a shared subgraph is walked once per path: gradcheck graphs are small.
fn collect_nodes(t: &Tensor, seen: &mut std::collections::BTreeSet<&'static str>) {
    let mut stack: Vec<ferrograd::GradFn> = t.grad_fn().into_iter().collect();
    let mut walked = 0usize;
    while let Some(f) = stack.pop() {
        walked += 1;
        assert!(walked < 1_000_000, "a graph of over a million paths");
        seen.insert(f.name());
        stack.extend(f.next_functions().into_iter().flatten());
    }
}

/// The row's op name: its first word (rows of one op are named `op variant`).
fn row_op(spec: &Spec) -> &'static str {
    spec.name.split(' ').next().unwrap_or(spec.name)
}

/// Issue 13: every node name any op records has a gradcheck row that produces it (running
/// the row's function on its first shape case and taking gradients to the row's order, with
/// create_graph, as the table does), and every registered differentiable op has a row.
#[test]
fn every_node_name_and_registered_op_has_a_gradcheck_row() {
    use ferrograd::autograd::try_grad;
    use ferrograd::GradOptions;
    use std::collections::BTreeSet;
    let table = all_tables();
    let mut seen: BTreeSet<&'static str> = BTreeSet::new();
    for spec in &table {
        let mut rng = StdRng::seed_from_u64(0);
        let inputs: Vec<Tensor> = spec.cases[0]
            .iter()
            .map(|i| random_input(i, spec.domain, &mut rng))
            .collect();
        let out = (spec.f)(&inputs);
        collect_nodes(&out, &mut seen);
        // Each order: the gradient of the sum of the previous order's gradients.
        let mut level = vec![out];
        for _ in 0..spec.order {
            let outputs: Vec<Tensor> = level
                .iter()
                .filter(|y| y.requires_grad())
                .map(|y| y.sum())
                .collect();
            if outputs.is_empty() {
                break;
            }
            let total = outputs
                .iter()
                .skip(1)
                .fold(outputs[0].clone(), |a, b| &a + b);
            let grads = try_grad(
                &[&total],
                &inputs,
                GradOptions::new().create_graph(true).allow_unused(true),
            )
            .unwrap_or_else(|e| panic!("{}: {e}", spec.name));
            level = grads.into_iter().flatten().collect();
            for g in &level {
                collect_nodes(g, &mut seen);
            }
        }
    }
    let allowed: BTreeSet<&str> = NODES_WITHOUT_ROWS
        .iter()
        .map(|(n, _)| *n)
        .chain(NODES_WITHOUT_ROWS_YET.iter().copied())
        .collect();
    let recorded = node_names_in_sources();
    let mut failures: Vec<String> = recorded
        .iter()
        .filter(|n| !seen.contains(n.as_str()) && !allowed.contains(n.as_str()))
        .map(|n| {
            format!("node {n}: recorded in crates/ferrograd/src, produced by no gradcheck row")
        })
        .collect();
    failures.extend(
        NODES_WITHOUT_ROWS_YET
            .iter()
            .filter(|n| seen.contains(*n))
            .map(|n| format!("node {n}: has a row now; delete it from NODES_WITHOUT_ROWS_YET")),
    );
    failures.extend(
        allowed
            .iter()
            .filter(|n| !recorded.contains(**n))
            .map(|n| format!("node {n}: listed here but recorded nowhere; delete it")),
    );
    // Registered ops: each one returning a tensor from float tensor inputs has a row.
    let rows: BTreeSet<&str> = table.iter().map(row_op).collect();
    let exempt: BTreeSet<&str> = OPS_WITHOUT_ROWS
        .iter()
        .map(|(n, _)| *n)
        .chain(OPS_WITHOUT_ROWS_YET.iter().copied())
        .collect();
    for op in ferrograd::registry::ops() {
        use ferrograd::registry::Kind;
        let differentiable = op.returns == Kind::Tensor
            && op
                .params
                .iter()
                .any(|p| matches!(p.kind, Kind::Tensor | Kind::Tensors));
        if differentiable && !rows.contains(op.name) && !exempt.contains(op.name) {
            failures.push(format!(
                "op {}: registered ({}) but called by no gradcheck row (name a row \"{} ...\")",
                op.name,
                op.signature(),
                op.name
            ));
        }
        if rows.contains(op.name) && OPS_WITHOUT_ROWS_YET.contains(&op.name) {
            failures.push(format!(
                "op {}: has a row now; delete it from OPS_WITHOUT_ROWS_YET",
                op.name
            ));
        }
    }
    eprintln!(
        "coverage: {} node names recorded, {} produced by the {} rows",
        recorded.len(),
        seen.len(),
        table.len()
    );
    assert!(
        failures.is_empty(),
        "{} coverage gaps:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// README's op count is measured: the registered ops that gradcheck rows call (each checked
/// against finite differences, in forward mode and under vmap).
#[test]
fn readme_states_the_measured_op_count() {
    use std::collections::BTreeSet;
    let rows: BTreeSet<&str> = all_tables().iter().map(row_op).collect();
    let n = ferrograd::registry::ops()
        .filter(|op| rows.contains(op.name))
        .map(|op| op.name)
        .collect::<BTreeSet<_>>()
        .len();
    let readme = include_str!("../../../README.md");
    let claim = format!("{n} differentiable public ops");
    assert!(
        readme.contains(&claim),
        "README should say \"{claim}\" (measured from the registry)"
    );
}

/// The rows of [`spectral_decompositions_to_second_order`]: `linalg`'s eigen and singular value
/// decompositions and what is built on them.
fn spectral_table() -> Vec<Spec> {
    use ferrograd::linalg;
    use Domain::*;
    /// `(x + x^T) / 2`: the symmetric matrices, where eigh's gradient (PyTorch's, symmetric)
    /// is the derivative.
    fn sym(x: &Tensor) -> Tensor {
        (x + &x.m_t()).mul_scalar(0.5)
    }
    /// The first `k = min(m, n)` columns of `U` and rows of `Vh`: what the gradient sees.
    fn reduced(u: &Tensor, vh: &Tensor) -> (Tensor, Tensor) {
        let k = u.shape()[u.dim() - 2].min(vh.shape()[vh.dim() - 1]);
        (u.narrow(-1, 0, k), vh.narrow(-2, 0, k))
    }
    let one = |v: Vec<Input>| v.into_iter().map(|i| vec![i]).collect::<Vec<_>>();
    let squares = || {
        one(vec![
            s(&[3, 3]),
            tr(&[3, 3]),
            s(&[2, 3, 3]),
            s(&[1, 1]),
            s(&[0, 2, 2]),
            s(&[2, 2]),
            s(&[4, 4]),
            s(&[2, 1, 2, 2]),
            s(&[0, 0]),
            tr(&[2, 2]),
        ])
    };
    let rects = || {
        one(vec![
            s(&[3, 2]),
            s(&[2, 3]),
            tr(&[3, 2]),
            tr(&[2, 3]),
            s(&[2, 3, 2]),
            s(&[2, 2, 3]),
            s(&[1, 1]),
            s(&[0, 3, 2]),
            s(&[3, 3]),
            s(&[4, 1]),
            s(&[1, 4]),
            s(&[2, 0]),
        ])
    };
    // amax and amin need a nonempty matrix.
    let nonempty = || {
        let mut c = rects();
        c.retain(|c| c[0].shape.iter().rev().take(2).all(|&d| d > 0));
        c
    };
    // Special points: diagonal matrices (exact zeros off the diagonal, which Jacobi leaves
    // alone) with distinct values, and the identity / repeated values where only a symmetric
    // function of the spectrum is smooth (checked to first order: second derivatives through
    // the eigen- or singular vectors divide by the gaps, in PyTorch too).
    let diag3 = || pt(&[3.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.5], &[3, 3]);
    let diag2 = || pt(&[2.0, 0.0, 0.0, -0.5], &[2, 2]);
    let repeated = || pt(&[2.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 1.0], &[3, 3]);
    let eye = || pt(&[1.0, 0.0, 0.0, 1.0], &[2, 2]);
    // Equal magnitudes of both signs (no zero: |x| has a kink there), the sums distinct.
    let signs = || pt(&[2.0, -2.0, -1.0, 0.5], &[2, 2]);
    vec![
        spec(
            "eigvalsh",
            |x| linalg::eigvalsh(&sym(&x[0]), "L"),
            squares(),
            Any,
            2,
        )
        .at(vec![vec![diag3()], vec![diag2()]]),
        spec(
            "eigvalsh upper",
            |x| linalg::eigvalsh(&sym(&x[0]), "U").sin(),
            squares(),
            Any,
            2,
        )
        .at(vec![vec![diag3()]]),
        spec(
            "eigvalsh repeated",
            |x| linalg::eigvalsh(&sym(&x[0]), "L").exp().sum(),
            squares(),
            Any,
            1,
        )
        .at(vec![
            vec![repeated()],
            vec![eye()],
            vec![pt(&[0.0; 4], &[2, 2])],
        ]),
        spec(
            "eigh",
            |x| {
                let (l, v) = linalg::eigh(&sym(&x[0]), "L");
                (&v * &l.sin().unsqueeze(-2)).matmul(&v.m_t())
            },
            squares(),
            Any,
            2,
        )
        .at(vec![vec![diag3()], vec![diag2()]]),
        spec(
            "eigh vectors",
            |x| {
                let v = linalg::eigh(&sym(&x[0]), "U").1;
                &v * &v
            },
            squares(),
            Any,
            2,
        )
        .at(vec![vec![diag3()]]),
        spec(
            "eigh values",
            |x| linalg::eigh(&sym(&x[0]), "L").0,
            squares(),
            Any,
            2,
        )
        .at(vec![vec![diag2()]]),
        spec("svdvals", |x| linalg::svdvals(&x[0]), rects(), Any, 2)
            .at(vec![vec![diag3()], vec![diag2()]]),
        spec(
            "svdvals repeated",
            |x| linalg::svdvals(&x[0]).square().sum(),
            rects(),
            Any,
            1,
        )
        .at(vec![
            vec![repeated()],
            vec![eye()],
            vec![pt(&[0.0; 6], &[3, 2])],
        ]),
        spec(
            "svd",
            |x| {
                let (u, s, vh) = linalg::svd(&x[0], false);
                (&u * &s.sin().unsqueeze(-2)).matmul(&vh)
            },
            rects(),
            Any,
            2,
        )
        .at(vec![vec![diag3()], vec![diag2()]]),
        spec(
            "svd full",
            |x| {
                let (u, s, vh) = linalg::svd(&x[0], true);
                let (u, vh) = reduced(&u, &vh);
                (&u * &s.exp().unsqueeze(-2)).matmul(&vh)
            },
            rects(),
            Any,
            2,
        )
        .at(vec![vec![diag2()]]),
        spec(
            "svd left",
            |x| {
                let u = linalg::svd(&x[0], false).0;
                &u * &u
            },
            rects(),
            Any,
            2,
        )
        .at(vec![vec![diag3()]]),
        spec(
            "svd right",
            |x| {
                let (u, _, vh) = linalg::svd(&x[0], true);
                let vh = reduced(&u, &vh).1;
                &vh * &vh
            },
            rects(),
            Any,
            2,
        )
        .at(vec![vec![diag3()]]),
        spec(
            "pinv",
            |x| linalg::pinv(&x[0], None, None, false),
            rects(),
            Any,
            2,
        )
        .at(vec![vec![diag3()], vec![diag2()]]),
        spec(
            "pinv hermitian",
            |x| linalg::pinv(&sym(&x[0]), None, None, true),
            squares(),
            Any,
            2,
        )
        .at(vec![vec![diag3()]]),
        spec(
            "matrix_norm",
            |x| linalg::matrix_norm(&x[0], "fro", &[-2, -1], false),
            rects(),
            Any,
            2,
        )
        .at(vec![vec![diag3()], vec![eye()]]),
        spec(
            "matrix_norm nuc",
            |x| linalg::matrix_norm(&x[0], "nuc", &[-2, -1], false),
            rects(),
            Any,
            2,
        )
        .at(vec![vec![diag3()]]),
        spec(
            "matrix_norm nuc repeated",
            |x| linalg::matrix_norm(&x[0], "nuc", &[-2, -1], true),
            rects(),
            Any,
            1,
        )
        .at(vec![vec![eye()], vec![repeated()]]),
        spec(
            "matrix_norm 2",
            |x| linalg::matrix_norm(&x[0], "2", &[-1, -2], true),
            nonempty(),
            Any,
            2,
        )
        .at(vec![vec![diag3()]]),
        spec(
            "matrix_norm -2",
            |x| linalg::matrix_norm(&x[0], "-2", &[-2, -1], false),
            nonempty(),
            Any,
            2,
        )
        .at(vec![vec![diag3()]]),
        spec(
            "matrix_norm 1",
            |x| linalg::matrix_norm(&x[0], "1", &[-2, -1], false),
            nonempty(),
            NonZero,
            2,
        )
        .at(vec![vec![signs()]]),
        spec(
            "matrix_norm -1",
            |x| linalg::matrix_norm(&x[0], "-1", &[-2, -1], true),
            nonempty(),
            NonZero,
            2,
        )
        .at(vec![vec![signs()]]),
        spec(
            "matrix_norm inf",
            |x| linalg::matrix_norm(&x[0], "inf", &[-2, -1], false),
            nonempty(),
            NonZero,
            2,
        )
        .at(vec![vec![signs()]]),
        spec(
            "matrix_norm -inf",
            |x| linalg::matrix_norm(&x[0], "-inf", &[-1, -2], false),
            nonempty(),
            NonZero,
            2,
        )
        .at(vec![vec![signs()]]),
        spec(
            "matrix_norm dims",
            |x| linalg::matrix_norm(&x[0], "nuc", &[0, -1], true),
            one(vec![
                s(&[3, 2, 2]),
                s(&[2, 3, 4]),
                s(&[1, 2, 1]),
                s(&[2, 0, 3]),
                s(&[3, 1, 2]),
                s(&[2, 2, 2]),
                s(&[4, 2, 1]),
                s(&[1, 1, 1]),
                s(&[2, 3, 2, 2]),
                s(&[3, 2]),
            ]),
            Any,
            2,
        )
        .none("the nuclear norm's special points are the 2-d rows'"),
        spec("cond", |x| linalg::cond(&x[0], None), rects(), Any, 2).at(vec![vec![diag3()]]),
        spec(
            "cond fro",
            |x| linalg::cond(&x[0], Some("fro")),
            squares(),
            Any,
            2,
        )
        .at(vec![vec![diag3()], vec![eye()]]),
    ]
}

#[test]
fn spectral_decompositions_to_second_order() {
    assert_table(spectral_table());
}

/// The rows of the everyday composites of `ops/math.rs` and `ops/losses.rs`, and the shrink
/// activations: differences, integrals, fused multiply-adds, distances, rearrangements,
/// covariance, attention and the remaining losses.
fn math_table() -> Vec<Spec> {
    use ferrograd::nn::{self, Reduction};
    use Domain::*;
    let u = unary_cases;
    let b = binary_cases;
    let one_d_or_more = || along_last(2);
    let trapezoid_x = || {
        vec![
            vec![s(&[4]), s(&[4])],
            vec![s(&[2, 3]), s(&[2, 3])],
            vec![s(&[2, 3]), s(&[3])],
            vec![tr(&[2, 3]), s(&[3])],
            vec![s(&[3, 2, 2]), s(&[3, 2, 2])],
            vec![s(&[1]), s(&[1])],
            vec![s(&[0]), s(&[0])],
            vec![s(&[2, 0]), s(&[0])],
            vec![s(&[5]), s(&[5])],
            vec![tr(&[3, 4]), tr(&[3, 4])],
        ]
    };
    let triples = || {
        vec![
            vec![s(&[]), s(&[]), s(&[])],
            vec![s(&[3]), s(&[3]), s(&[3])],
            vec![s(&[2, 3]), s(&[3]), s(&[2, 1])],
            vec![s(&[0]), s(&[0]), s(&[1])],
            vec![s(&[3, 1]), s(&[1, 4]), s(&[])],
            vec![tr(&[2, 3]), s(&[2, 3]), tr(&[2, 3])],
            vec![s(&[]), s(&[2, 2]), s(&[2])],
            vec![s(&[2, 2, 2]), s(&[2, 1]), s(&[2, 2, 2])],
            vec![s(&[1]), s(&[4]), s(&[1])],
            vec![s(&[5]), s(&[5]), s(&[5])],
        ]
    };
    let inner_pairs = || {
        vec![
            vec![s(&[3]), s(&[3])],
            vec![s(&[2, 3]), s(&[3])],
            vec![s(&[2, 3]), s(&[4, 3])],
            vec![s(&[]), s(&[2])],
            vec![tr(&[2, 3]), s(&[2, 3])],
            vec![s(&[0]), s(&[0])],
            vec![s(&[2, 0]), s(&[3, 0])],
            vec![s(&[1, 2, 3]), s(&[2, 3])],
            vec![s(&[1]), s(&[1])],
            vec![s(&[2, 2]), tr(&[3, 2])],
        ]
    };
    let rows_pairs = || {
        vec![
            vec![s(&[2, 3]), s(&[4, 3])],
            vec![s(&[1, 2]), s(&[1, 2])],
            vec![s(&[2, 2, 3]), s(&[2, 4, 3])],
            vec![s(&[2, 2, 3]), s(&[4, 3])],
            vec![tr(&[3, 2]), s(&[2, 2])],
            vec![s(&[0, 3]), s(&[2, 3])],
            vec![s(&[3, 1]), s(&[2, 1])],
            vec![s(&[2, 4]), tr(&[3, 4])],
            vec![s(&[1, 2, 2]), s(&[3, 2, 2])],
            vec![s(&[4, 2]), s(&[0, 2])],
        ]
    };
    let observations = || {
        [
            s(&[2, 3]),
            tr(&[2, 3]),
            s(&[3]),
            s(&[1, 4]),
            s(&[3, 2]),
            s(&[4, 5]),
            tr(&[3, 3]),
            s(&[2]),
            s(&[5, 2]),
            tr(&[1, 4]),
        ]
        .into_iter()
        .map(|i| vec![i])
        .collect::<Vec<_>>()
    };
    let weighted = || {
        vec![
            vec![s(&[2, 3]), s(&[3])],
            vec![s(&[3]), s(&[3])],
            vec![tr(&[2, 3]), s(&[3])],
            vec![s(&[1, 3]), s(&[3])],
            vec![s(&[4, 3]), s(&[3])],
            vec![tr(&[3, 3]), s(&[3])],
            vec![s(&[2, 3]), s(&[3])],
            vec![s(&[3, 3]), s(&[3])],
            vec![s(&[5, 3]), s(&[3])],
            vec![tr(&[1, 3]), s(&[3])],
        ]
    };
    let vectors = || {
        vec![
            vec![s(&[2]), s(&[3])],
            vec![s(&[0]), s(&[2])],
            vec![s(&[1]), s(&[1])],
            vec![s(&[4]), s(&[2])],
            vec![s(&[3]), s(&[0])],
            vec![s(&[2]), s(&[2])],
            vec![s(&[5]), s(&[1])],
            vec![s(&[1]), s(&[4])],
            vec![s(&[3]), s(&[3])],
            vec![s(&[2]), s(&[5])],
        ]
    };
    let blocks = || {
        vec![
            vec![s(&[2, 3]), s(&[2])],
            vec![s(&[]), s(&[1, 1])],
            vec![s(&[3]), s(&[2, 2])],
            vec![tr(&[2, 3]), s(&[])],
            vec![s(&[0, 2]), s(&[2, 0])],
            vec![s(&[1, 4]), tr(&[3, 1])],
            vec![s(&[2, 2]), s(&[3])],
            vec![s(&[0]), s(&[2, 2])],
            vec![s(&[4, 1]), s(&[1, 4])],
            vec![s(&[2]), s(&[2])],
        ]
    };
    let attention = || {
        vec![
            vec![s(&[2, 3]), s(&[4, 3]), s(&[4, 2])],
            vec![s(&[1, 1]), s(&[1, 1]), s(&[1, 1])],
            vec![s(&[2, 3, 2]), s(&[2, 3, 2]), s(&[2, 3, 4])],
            vec![s(&[2, 1, 3, 2]), s(&[2, 4, 2]), s(&[4, 3])],
            vec![tr(&[3, 2]), s(&[3, 2]), tr(&[3, 3])],
            vec![s(&[3, 2]), s(&[3, 2]), s(&[3, 2])],
            vec![s(&[1, 2, 4]), s(&[1, 2, 4]), s(&[1, 2, 1])],
            vec![s(&[4, 2]), s(&[4, 2]), s(&[4, 2])],
            vec![s(&[2, 2, 2]), s(&[2, 2]), s(&[2, 2])],
            vec![s(&[3, 3]), tr(&[3, 3]), s(&[3, 1])],
        ]
    };
    let rows_of = |n: usize| {
        vec![
            vec![s(&[3, n]), s(&[3, n]), s(&[3])],
            vec![s(&[1, n]), s(&[1, n]), s(&[1])],
            vec![s(&[n]), s(&[n]), s(&[])],
            vec![tr(&[2, n]), s(&[2, n]), s(&[2])],
            vec![s(&[4, n]), tr(&[4, n]), s(&[4])],
            vec![s(&[2, n]), s(&[2, n]), s(&[1])],
            vec![s(&[5, n]), s(&[5, n]), s(&[5])],
            vec![s(&[0, n]), s(&[0, n]), s(&[0])],
            vec![s(&[2, n]), s(&[2, n]), s(&[])],
            vec![s(&[6, n]), s(&[6, n]), s(&[6])],
        ]
    };
    let gaussian = || {
        vec![
            vec![s(&[3]), s(&[3]), s(&[3])],
            vec![s(&[2, 3]), s(&[2, 3]), s(&[2, 3])],
            vec![s(&[2, 3]), s(&[2, 3]), s(&[2, 1])],
            vec![s(&[2, 3]), s(&[2, 3]), s(&[2])],
            vec![tr(&[2, 3]), s(&[2, 3]), tr(&[2, 3])],
            vec![s(&[1]), s(&[1]), s(&[1])],
            vec![s(&[0]), s(&[0]), s(&[0])],
            vec![s(&[4, 2]), s(&[4, 2]), s(&[4, 1])],
            vec![s(&[2, 2, 2]), s(&[2, 2, 2]), s(&[2, 2])],
            vec![s(&[5]), s(&[5]), s(&[5])],
        ]
    };
    const QUANTILE_TIES: &str = "ties: not differentiable there (the gradient goes to the \
                                 sorted position chosen)";
    const SHRINK: &str = "kinks (hardshrink, threshold: jumps) at |x| == lambd; 0 is inside the \
                          dead zone, where the op is constant";
    vec![
        spec(
            "diff",
            |x| x[0].diff(1, -1, None, None),
            one_d_or_more(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "diff n=2 dim 0 prepend append",
            |x| {
                let first = x[0].narrow(0, 0, 1);
                x[0].diff(2, 0, Some(&first), Some(&x[0].exp()))
            },
            matrices(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "trapezoid",
            |x| x[0].trapezoid(None, 0.5, -1),
            one_d_or_more(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "trapezoid x",
            |x| x[0].trapezoid(Some(&x[1]), 1.0, -1),
            trapezoid_x(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "cumulative_trapezoid",
            |x| x[0].cumulative_trapezoid(None, 2.0, 0),
            one_d_or_more(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "addcmul",
            |x| x[0].addcmul(&x[1], &x[2], 0.5),
            triples(),
            Any,
            3,
        )
        .zeros(),
        spec(
            "addcdiv",
            |x| x[0].addcdiv(&x[1], &x[2], -2.0),
            triples(),
            NonZero,
            3,
        )
        .fill(&[&ZEROS, &ZEROS, &[0.7, -1.3]]),
        spec("deg2rad", |x| x[0].deg2rad(), u(), Any, 3).zeros(),
        spec("rad2deg", |x| x[0].rad2deg(), u(), Any, 3).zeros(),
        spec("dist", |x| x[0].dist(&x[1], 2.0), b(), Any, 2).fill(&[&ZEROS, &[0.5]]),
        spec("dist p=3", |x| x[0].dist(&x[1], 3.0), b(), Any, 2).fill(&[&ZEROS, &[0.5]]),
        spec("inner", |x| x[0].inner(&x[1]), inner_pairs(), Any, 2).zeros(),
        spec("xlog1py", |x| x[0].xlog1py(&x[1]), b(), Positive, 3)
            .none("at x == 0 the gradient in x is PyTorch's xlog1py(x != 0, y) = 0, not log1p(y)"),
        spec(
            "movedim",
            |x| x[0].movedim(&[0, -1], &[-1, 0]),
            matrices(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "movedim one",
            |x| x[0].movedim(&[0], &[-1]),
            matrices(),
            Any,
            2,
        )
        .zeros(),
        spec("rot90", |x| x[0].rot90(1, &[0, 1]), matrices(), Any, 2).zeros(),
        spec("rot90 2", |x| x[0].rot90(2, &[-1, 0]), matrices(), Any, 2).zeros(),
        spec("rot90 -1", |x| x[0].rot90(-1, &[-1, 0]), matrices(), Any, 2).zeros(),
        spec(
            "repeat_interleave",
            |x| x[0].repeat_interleave(2, None),
            u(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "repeat_interleave_tensor",
            |x| {
                let r = Tensor::from_vec(vec![3i64], &[1]);
                x[0].repeat_interleave_tensor(&r, Some(-1))
            },
            matrices(),
            Any,
            2,
        )
        .zeros(),
        spec("atleast_1d", |x| x[0].atleast_1d().exp(), u(), Any, 2).zeros(),
        spec("atleast_2d", |x| x[0].atleast_2d().exp(), u(), Any, 2).zeros(),
        spec("atleast_3d", |x| x[0].atleast_3d().exp(), u(), Any, 2).zeros(),
        spec("diagflat", |x| x[0].diagflat(1), u(), Any, 2).zeros(),
        spec("msort", |x| x[0].msort(), matrices(), Any, 2)
            .none("ties: not differentiable there (the gradient goes to the chosen element)"),
        spec(
            "quantile",
            |x| x[0].quantile(0.3, None, false, "linear"),
            nonempty(),
            Any,
            2,
        )
        .none(QUANTILE_TIES),
        spec(
            "quantile dim keepdim lower",
            |x| x[0].quantile(0.6, Some(-1), true, "lower"),
            nonempty(),
            Any,
            2,
        )
        .none(QUANTILE_TIES),
        spec(
            "quantile_tensor midpoint",
            |x| {
                let q = Tensor::new([0.2f32, 0.9]);
                x[0].quantile_tensor(&q, Some(0), false, "midpoint")
            },
            nonempty(),
            Any,
            2,
        )
        .none(QUANTILE_TIES),
        spec(
            "nanquantile",
            |x| x[0].nanquantile(0.5, Some(-1), false, "nearest"),
            nonempty(),
            Any,
            2,
        )
        .none(QUANTILE_TIES),
        spec(
            "nanquantile_tensor",
            |x| {
                let q = Tensor::new([0.0f32, 0.75, 1.0]);
                x[0].nanquantile_tensor(&q, None, true, "higher")
            },
            nonempty(),
            Any,
            2,
        )
        .none(QUANTILE_TIES),
        spec("cov", |x| x[0].cov(1, None, None), observations(), Any, 2).zeros(),
        spec(
            "cov weights",
            |x| {
                let n = x[1].numel();
                let f = Tensor::from_vec((0..n as i64).map(|i| i % 3 + 1).collect(), &[n]);
                x[0].cov(0, Some(&f), Some(&x[1].exp()))
            },
            weighted(),
            Any,
            2,
        )
        .zeros(),
        spec("corrcoef", |x| x[0].corrcoef(), observations(), Any, 2)
            .none("a row of equal values has no variance: its correlations are NaN"),
        spec("cdist", |x| x[0].cdist(&x[1], 2.0), rows_pairs(), Any, 2).fill(&[&ZEROS, &[0.5]]),
        spec(
            "cdist p=1",
            |x| x[0].cdist(&x[1], 1.0),
            rows_pairs(),
            NonZero,
            2,
        )
        .none("kinks where a coordinate of x1 equals x2's"),
        spec(
            "block_diag",
            |x| Tensor::block_diag(&[x[0].clone(), x[1].exp()]),
            blocks(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "cartesian_prod",
            |x| Tensor::cartesian_prod(&[&x[0], &x[1]]),
            vectors(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "dstack",
            |x| Tensor::dstack(&[&x[0], &x[0].sin()]),
            u(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "column_stack",
            |x| Tensor::column_stack(&[&x[0], &x[0].cos()]),
            u(),
            Any,
            2,
        )
        .zeros(),
        spec("tanhshrink", |x| x[0].tanhshrink(), u(), Any, 3).zeros(),
        spec("hardshrink", |x| x[0].hardshrink(0.5), u(), Any, 3).none(SHRINK),
        spec("softshrink", |x| x[0].softshrink(0.5), u(), Any, 3).none(SHRINK),
        spec("threshold", |x| x[0].threshold(0.5, -3.0), u(), Any, 3).none(SHRINK),
        spec(
            "pairwise_distance",
            |x| nn::pairwise_distance(&x[0], &x[1], 2.0, 0.5, false),
            b(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "scaled_dot_product_attention",
            |x| nn::scaled_dot_product_attention(&x[0], &x[1], &x[2], None, 0.0, false, None),
            attention(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "scaled_dot_product_attention causal",
            |x| nn::scaled_dot_product_attention(&x[0], &x[1], &x[2], None, 0.0, true, Some(0.3)),
            attention(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "scaled_dot_product_attention float mask",
            |x| {
                // A fixed additive mask of the scores' shape `[L, S]`.
                let (l, s) = (x[0].shape()[x[0].dim() - 2], x[1].shape()[x[1].dim() - 2]);
                let mask = Tensor::arange((l * s) as f64)
                    .reshape(&[l, s])
                    .sin()
                    .to_dtype(DType::F64);
                nn::scaled_dot_product_attention(&x[0], &x[1], &x[2], Some(&mask), 0.0, false, None)
            },
            attention(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "soft_margin_loss",
            |x| nn::soft_margin_loss(&x[0], &x[1].sign(), Reduction::Mean),
            same_pairs(),
            NonZero,
            3,
        )
        // The target comes from the sign of x[1]: kept away from its jump at 0.
        .fill(&[&ZEROS, &[0.7, -1.3]]),
        spec(
            "hinge_embedding_loss",
            |x| nn::hinge_embedding_loss(&x[0], &x[1].sign(), 1.0, Reduction::Sum),
            same_pairs(),
            NonZero,
            2,
        )
        .none("kink where input == margin"),
        spec(
            "poisson_nll_loss",
            |x| nn::poisson_nll_loss(&x[0], &x[1].exp(), true, false, 1e-8, Reduction::Mean),
            same_pairs(),
            Any,
            3,
        )
        .zeros(),
        spec(
            "poisson_nll_loss full rates",
            |x| {
                let target = x[1].abs().add_scalar(1.5);
                nn::poisson_nll_loss(&x[0].exp(), &target, false, true, 1e-8, Reduction::Sum)
            },
            same_pairs(),
            Any,
            2,
        )
        // The target comes from |x[1]|: kept away from its kink at 0.
        .fill(&[&ZEROS, &[0.7, -1.3]]),
        spec(
            "gaussian_nll_loss",
            |x| {
                let var = x[2].exp();
                nn::gaussian_nll_loss(&x[0], &x[1], &var, true, 1e-6, Reduction::Mean)
            },
            gaussian(),
            Any,
            2,
        )
        .zeros(),
        spec(
            "cosine_embedding_loss",
            |x| nn::cosine_embedding_loss(&x[0], &x[1], &x[2].sign(), 0.0, Reduction::Mean),
            rows_of(3),
            NonZero,
            2,
        )
        .none("kink where the cosine of a dissimilar pair equals the margin"),
    ]
}

#[test]
fn everyday_composites_to_second_order() {
    assert_table(math_table());
}
