//! One table of op specs, every entry checked against central differences (f64) to second
//! order (third for elementwise ops), over shape cases that include 0-d, empty, one-element,
//! broadcast pairs and transposed (non-contiguous) inputs, with 3 random seeds each.

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
}

fn spec(name: &'static str, f: OpFn, cases: Vec<Vec<Input>>, domain: Domain, order: usize) -> Spec {
    Spec {
        name,
        f,
        cases,
        domain,
        order,
    }
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
                if let Err(e) = check_grads(&g, &inputs, spec.order, GradcheckOptions::default()) {
                    failures.push(format!(
                        "{} {} seed {seed}: {e}",
                        spec.name,
                        shapes.join(" x ")
                    ));
                }
            }
        }
    }
    (checks, failures)
}

fn assert_table(table: Vec<Spec>) {
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

#[test]
fn elementwise_unary_to_third_order() {
    use Domain::*;
    let u = unary_cases;
    assert_table(vec![
        spec("neg", |x| x[0].neg(), u(), Any, 3),
        spec("exp", |x| x[0].exp(), u(), Any, 3),
        spec("sin", |x| x[0].sin(), u(), Any, 3),
        spec("cos", |x| x[0].cos(), u(), Any, 3),
        spec("tanh", |x| x[0].tanh(), u(), Any, 3),
        spec("sqrt", |x| x[0].sqrt(), u(), Positive, 3),
        spec("reciprocal", |x| x[0].reciprocal(), u(), NonZero, 3),
        spec("pow 2", |x| x[0].pow(2.0), u(), Any, 3),
        spec("pow 3", |x| x[0].pow(3.0), u(), Any, 3),
        spec("pow 0", |x| x[0].pow(0.0), u(), Any, 3),
        spec("pow 1", |x| x[0].pow(1.0), u(), Any, 3),
        spec("pow -1", |x| x[0].pow(-1.0), u(), NonZero, 3),
        spec("pow -2", |x| x[0].pow(-2.0), u(), NonZero, 3),
        spec("pow 0.5", |x| x[0].pow(0.5), u(), Positive, 3),
        spec("pow -0.5", |x| x[0].pow(-0.5), u(), Positive, 3),
        spec("pow 2.5", |x| x[0].pow(2.5), u(), Positive, 3),
        spec("add_scalar", |x| x[0].add_scalar(2.5), u(), Any, 3),
        spec("sub_scalar", |x| &x[0] - 1.5, u(), Any, 3),
        spec("rsub_scalar", |x| 1.5 - &x[0], u(), Any, 3),
        spec("mul_scalar", |x| 3.0 * &x[0], u(), Any, 3),
        spec("div_scalar", |x| &x[0] / 4.0, u(), Any, 3),
        spec("scalar_div", |x| 2.0 / &x[0], u(), NonZero, 3),
    ]);
}

#[test]
fn elementwise_binary_to_third_order() {
    use Domain::*;
    let b = binary_cases;
    assert_table(vec![
        spec("add", |x| &x[0] + &x[1], b(), Any, 3),
        spec("sub", |x| &x[0] - &x[1], b(), Any, 3),
        spec("mul", |x| &x[0] * &x[1], b(), Any, 3),
        spec("div", |x| &x[0] / &x[1], b(), NonZero, 3),
        spec("mul self", |x| &x[0] * &x[0], unary_cases(), Any, 3),
        spec(
            "div self-shift",
            |x| &x[0] / &(&x[0] * &x[0] + 1.0),
            unary_cases(),
            Any,
            3,
        ),
    ]);
}

#[test]
fn reductions_to_second_order() {
    use Domain::*;
    let u = unary_cases;
    let dims = || {
        vec![
            vec![s(&[2, 3])],
            vec![tr(&[2, 3])],
            vec![s(&[2, 3, 2])],
            vec![s(&[1, 4])],
            vec![s(&[3, 1])],
            vec![s(&[0, 3])],
            vec![s(&[2, 0])],
            vec![s(&[4, 1, 2])],
            vec![s(&[1, 1])],
            vec![tr(&[3, 2])],
        ]
    };
    assert_table(vec![
        spec("sum", |x| x[0].sum(), u(), Any, 2),
        spec("mean", |x| x[0].mean(), u(), Any, 2),
        spec("norm", |x| x[0].norm(), u(), NonZero, 2),
        spec("sum dim 0", |x| x[0].sum_dims(&[0], false), dims(), Any, 2),
        spec(
            "sum dim -1 keepdim",
            |x| x[0].sum_dims(&[-1], true),
            dims(),
            Any,
            2,
        ),
        spec(
            "sum dims 0,-1",
            |x| x[0].sum_dims(&[0, -1], false),
            dims(),
            Any,
            2,
        ),
        spec(
            "mean dim 1",
            |x| x[0].mean_dims(&[1], false),
            dims(),
            Any,
            2,
        ),
        spec(
            "mean dim 0 keepdim",
            |x| x[0].mean_dims(&[0], true),
            dims(),
            Any,
            2,
        ),
        spec(
            "sum_to",
            |x| x[0].sum_to(&[1, *x[0].shape().last().unwrap()]),
            dims(),
            Any,
            2,
        ),
    ]);
}

#[test]
fn linear_algebra_to_second_order() {
    use Domain::*;
    let dot = vec![
        vec![s(&[3]), s(&[3])],
        vec![s(&[0]), s(&[0])],
        vec![s(&[1]), s(&[1])],
        vec![s(&[7]), s(&[7])],
    ];
    let mm = vec![
        vec![s(&[2, 3]), s(&[3, 4])],
        vec![s(&[1, 1]), s(&[1, 1])],
        vec![s(&[0, 3]), s(&[3, 2])],
        vec![s(&[2, 0]), s(&[0, 3])],
        vec![tr(&[2, 3]), s(&[3, 4])],
        vec![s(&[2, 3]), tr(&[3, 2])],
        vec![tr(&[3, 3]), tr(&[3, 3])],
        vec![s(&[4, 1]), s(&[1, 4])],
        vec![s(&[1, 5]), s(&[5, 1])],
        vec![s(&[3, 2]), s(&[2, 2])],
    ];
    let mv = vec![
        vec![s(&[2, 3]), s(&[3])],
        vec![tr(&[2, 3]), s(&[3])],
        vec![s(&[0, 3]), s(&[3])],
        vec![s(&[2, 0]), s(&[0])],
        vec![s(&[1, 1]), s(&[1])],
    ];
    let matmul = vec![
        vec![s(&[3]), s(&[3])],
        vec![s(&[3]), s(&[3, 2])],
        vec![s(&[2, 3]), s(&[3])],
        vec![s(&[2, 3]), s(&[3, 2])],
        vec![s(&[2, 2, 3]), s(&[2, 3, 2])],
        vec![s(&[2, 2, 3]), s(&[3, 4])],
        vec![s(&[2, 3]), s(&[2, 3, 1])],
        vec![s(&[2, 1, 2, 3]), s(&[3, 3, 2])],
        vec![s(&[3]), s(&[2, 3, 2])],
        vec![s(&[2, 2, 3]), s(&[3])],
        vec![s(&[0, 2, 3]), s(&[3, 2])],
        vec![tr(&[2, 3]), s(&[2, 3, 2])],
    ];
    assert_table(vec![
        spec("dot", |x| x[0].dot(&x[1]), dot, Any, 2),
        spec("mm", |x| x[0].mm(&x[1]), mm, Any, 2),
        spec("mv", |x| x[0].mv(&x[1]), mv, Any, 2),
        spec("matmul", |x| x[0].matmul(&x[1]), matmul, Any, 2),
        spec(
            "mm self",
            |x| x[0].mm(&x[0]),
            vec![vec![s(&[3, 3])], vec![tr(&[2, 2])]],
            Any,
            3,
        ),
    ]);
}

#[test]
fn views_and_copies_to_second_order() {
    use Domain::*;
    let m = || {
        vec![
            vec![s(&[2, 3])],
            vec![tr(&[2, 3])],
            vec![s(&[3, 3, 2])],
            vec![s(&[1, 1])],
            vec![s(&[2, 1, 4])],
        ]
    };
    assert_table(vec![
        spec("select 0 0", |x| x[0].select(0, 0), m(), Any, 2),
        spec("select -1 -1", |x| x[0].select(-1, -1), m(), Any, 2),
        spec("index [0, 0]", |x| x[0].i(&[0, 0]), m(), Any, 2),
        spec("index [-1]", |x| x[0].i(&[-1]), m(), Any, 2),
        spec(
            "expand",
            |x| x[0].expand(&[2, 3, 4]),
            vec![
                vec![s(&[3, 1])],
                vec![s(&[])],
                vec![s(&[1])],
                vec![s(&[4])],
                vec![s(&[2, 1, 1])],
            ],
            Any,
            2,
        ),
        spec("reshape", |x| x[0].reshape(&[x[0].numel()]), m(), Any, 2),
        spec("unsqueeze", |x| x[0].unsqueeze(1), m(), Any, 2),
        spec("squeeze", |x| x[0].squeeze(1), m(), Any, 2),
        spec("transpose", |x| x[0].transpose(0, -1), m(), Any, 2),
        spec(
            "t",
            |x| x[0].t(),
            vec![
                vec![s(&[2, 3])],
                vec![tr(&[2, 3])],
                vec![s(&[4])],
                vec![s(&[])],
            ],
            Any,
            2,
        ),
        spec("deep_clone", |x| x[0].deep_clone(), unary_cases(), Any, 2),
        spec("contiguous", |x| x[0].contiguous(), unary_cases(), Any, 2),
        spec(
            "masked_fill",
            |x| {
                let mask = Tensor::new([true, false, true]);
                x[0].masked_fill(&mask, 0.5)
            },
            vec![vec![s(&[3])], vec![s(&[2, 3])], vec![tr(&[4, 3])]],
            Any,
            2,
        ),
    ]);
}

#[test]
fn composites_of_the_seeds_to_second_order() {
    use Domain::*;
    let two = || {
        vec![
            vec![s(&[2, 2]), s(&[2, 2])],
            vec![s(&[1]), s(&[1])],
            vec![tr(&[3, 3]), s(&[3, 3])],
        ]
    };
    assert_table(vec![
        spec(
            "s004-4 norm(exp(G1) + G1 @ G2)",
            |x| {
                let g1 = &(3.0 * &x[0]) + &x[1].cos();
                let g2 = &x[0].matmul(&x[0]) + &(2.0 * &x[1]).sin();
                (&g1.exp() + &g1.matmul(&g2)).norm()
            },
            two(),
            Any,
            2,
        ),
        spec(
            "s004-3 exp(3w + cos z) + 3(w^2 + sin 2z)",
            |x| {
                &(&(3.0 * &x[0]) + &x[1].cos()).exp()
                    + &(3.0 * &(&x[0].pow(2.0) + &(2.0 * &x[1]).sin()))
            },
            two(),
            Any,
            3,
        ),
        spec(
            "s002-1 mean(3(x+2)^2)",
            |x| (&(&(&x[0] + 2.0) * &(&x[0] + 2.0)) * 3.0).mean(),
            unary_cases(),
            Any,
            3,
        ),
    ]);
}

#[test]
fn more_elementwise_unary_to_third_order() {
    use Domain::*;
    let u = unary_cases;
    assert_table(vec![
        spec("abs", |x| x[0].abs(), u(), NonZero, 3),
        spec("sign", |x| x[0].sign(), u(), NonZero, 3),
        spec("floor", |x| x[0].floor(), u(), Any, 3),
        spec("ceil", |x| x[0].ceil(), u(), Any, 3),
        spec("round", |x| x[0].round(), u(), Any, 3),
        spec("trunc", |x| x[0].trunc(), u(), Any, 3),
        spec("exp2", |x| x[0].exp2(), u(), Any, 3),
        spec("expm1", |x| x[0].expm1(), u(), Any, 3),
        spec("log", |x| x[0].log(), u(), Positive, 3),
        spec("log2", |x| x[0].log2(), u(), Positive, 3),
        spec("log10", |x| x[0].log10(), u(), Positive, 3),
        spec("log1p", |x| x[0].log1p(), u(), Positive, 3),
        spec("rsqrt", |x| x[0].rsqrt(), u(), Positive, 3),
        spec("square", |x| x[0].square(), u(), Any, 3),
        spec("tan", |x| x[0].tan(), u(), Unit, 3),
        spec("asin", |x| x[0].asin(), u(), Unit, 3),
        spec("acos", |x| x[0].acos(), u(), Unit, 3),
        spec("atan", |x| x[0].atan(), u(), Any, 3),
        spec("sinh", |x| x[0].sinh(), u(), Any, 3),
        spec("cosh", |x| x[0].cosh(), u(), Any, 3),
        spec("asinh", |x| x[0].asinh(), u(), Any, 3),
        spec("acosh", |x| x[0].acosh(), u(), AboveOne, 3),
        spec("atanh", |x| x[0].atanh(), u(), Unit, 3),
        spec("erf", |x| x[0].erf(), u(), Any, 3),
        spec("erfc", |x| x[0].erfc(), u(), Any, 3),
        spec("rpow 2.5", |x| x[0].rpow(2.5), u(), Any, 3),
        spec("rpow 0.3", |x| x[0].rpow(0.3), u(), Any, 3),
    ]);
}

#[test]
fn activations_to_third_order() {
    use Domain::*;
    let u = unary_cases;
    assert_table(vec![
        spec("sigmoid", |x| x[0].sigmoid(), u(), Any, 3),
        spec("logsigmoid", |x| x[0].logsigmoid(), u(), Any, 3),
        spec("softplus", |x| x[0].softplus(), u(), Any, 3),
        spec(
            "softplus beta 2",
            |x| x[0].softplus_with(2.0, 1.0),
            u(),
            NonZero,
            3,
        ),
        spec("relu", |x| x[0].relu(), u(), NonZero, 3),
        spec("relu6", |x| x[0].mul_scalar(4.0).relu6(), u(), NonZero, 3),
        spec("hardtanh", |x| x[0].hardtanh(-1.0, 1.0), u(), Unit, 3),
        spec("leaky_relu", |x| x[0].leaky_relu(0.1), u(), NonZero, 3),
        spec("elu", |x| x[0].elu(1.3), u(), NonZero, 3),
        spec("selu", |x| x[0].selu(), u(), NonZero, 3),
        spec("gelu", |x| x[0].gelu(), u(), Any, 3),
        spec("gelu tanh", |x| x[0].gelu_tanh(), u(), Any, 3),
        spec("silu", |x| x[0].silu(), u(), Any, 3),
        spec("mish", |x| x[0].mish(), u(), Any, 3),
        spec(
            "clamp",
            |x| x[0].clamp(Some(-1.0), Some(1.0)),
            u(),
            NonZero,
            3,
        ),
        spec(
            "clamp min",
            |x| x[0].clamp(Some(0.0), None),
            u(),
            NonZero,
            3,
        ),
        spec(
            "clamp max",
            |x| x[0].clamp(None, Some(0.0)),
            u(),
            NonZero,
            3,
        ),
    ]);
}

#[test]
fn more_elementwise_binary_to_third_order() {
    use Domain::*;
    let b = binary_cases;
    assert_table(vec![
        spec("maximum", |x| x[0].maximum(&x[1]), b(), Any, 3),
        spec("minimum", |x| x[0].minimum(&x[1]), b(), Any, 3),
        spec("pow_tensor", |x| x[0].pow_tensor(&x[1]), b(), Positive, 3),
        spec("atan2", |x| x[0].atan2(&x[1]), b(), NonZero, 3),
        spec("hypot", |x| x[0].hypot(&x[1]), b(), NonZero, 3),
        spec(
            "remainder",
            |x| x[0].mul_scalar(3.0).remainder(&x[1]),
            b(),
            NonZero,
            3,
        ),
        spec(
            "fmod",
            |x| x[0].mul_scalar(3.0).fmod(&x[1]),
            b(),
            NonZero,
            3,
        ),
        spec("lerp", |x| x[0].lerp(&x[1], 0.3), b(), Any, 3),
        spec("lerp high", |x| x[0].lerp(&x[1], 0.8), b(), Any, 3),
        spec(
            "lerp_tensor",
            |x| x[0].lerp_tensor(&x[1], &x[0].sigmoid()),
            b(),
            Any,
            3,
        ),
        spec(
            "where",
            |x| Tensor::where_(&x[0].gt_scalar(0.0), &x[0], &x[1].exp()),
            b(),
            NonZero,
            3,
        ),
        spec(
            "clamp_tensor",
            |x| x[0].clamp_tensor(Some(&x[1]), Some(&x[1].add_scalar(1.0))),
            b(),
            Any,
            3,
        ),
    ]);
}

#[test]
fn shape_and_indexing_to_second_order() {
    use Domain::*;
    let m = || {
        vec![
            vec![s(&[2, 3])],
            vec![tr(&[2, 3])],
            vec![s(&[3, 3, 2])],
            vec![s(&[1, 1])],
            vec![s(&[2, 1, 4])],
            vec![s(&[3, 4])],
        ]
    };
    assert_table(vec![
        spec(
            "permute",
            |x| x[0].permute(&[1, 0]),
            vec![vec![s(&[2, 3])], vec![tr(&[2, 3])], vec![s(&[1, 4])]],
            Any,
            2,
        ),
        spec(
            "permute 3d",
            |x| x[0].permute(&[2, 0, 1]),
            vec![
                vec![s(&[3, 3, 2])],
                vec![s(&[2, 1, 4])],
                vec![s(&[0, 2, 3])],
            ],
            Any,
            2,
        ),
        spec("m_t", |x| x[0].m_t(), m(), Any, 2),
        spec("flatten", |x| x[0].flatten(0, -1), m(), Any, 2),
        spec(
            "unflatten",
            |x| x[0].flatten(0, -1).unflatten(0, x[0].shape()),
            m(),
            Any,
            2,
        ),
        spec(
            "slice step 2",
            |x| x[0].slice(-1, 0, isize::MAX, 2),
            m(),
            Any,
            2,
        ),
        spec(
            "slice negative",
            |x| x[0].slice(0, -1, isize::MAX, 1),
            m(),
            Any,
            2,
        ),
        spec("narrow", |x| x[0].narrow(0, 0, 1), m(), Any, 2),
        spec(
            "split",
            |x| x[0].split(1, 0).last().unwrap().mul_scalar(2.0),
            m(),
            Any,
            2,
        ),
        spec("chunk", |x| x[0].chunk(2, -1)[0].exp(), m(), Any, 2),
        spec(
            "cat",
            |x| Tensor::cat(&[&x[0], &x[0].exp(), &x[0]], 0),
            m(),
            Any,
            2,
        ),
        spec(
            "cat last dim",
            |x| Tensor::cat(&[x[0].sin(), x[0].clone()], -1),
            m(),
            Any,
            2,
        ),
        spec(
            "stack",
            |x| Tensor::stack(&[&x[0], &x[0].cos()], 1),
            m(),
            Any,
            2,
        ),
        spec("flip", |x| x[0].flip(&[0, -1]), m(), Any, 2),
        spec("roll", |x| x[0].roll(&[1, -2], &[0, -1]), m(), Any, 2),
        spec("roll flat", |x| x[0].roll(&[3], &[]), m(), Any, 2),
        spec(
            "repeat",
            |x| x[0].repeat(&[2, 1, 3]),
            vec![
                vec![s(&[2, 3])],
                vec![tr(&[2, 3])],
                vec![s(&[1])],
                vec![s(&[])],
            ],
            Any,
            2,
        ),
        spec("pad", |x| x[0].pad(&[1, 2, 0, 1], 0.5), m(), Any, 2),
        spec(
            "pad crop",
            |x| x[0].pad(&[-1, 1], 0.0),
            vec![vec![s(&[2, 3])], vec![tr(&[2, 3])], vec![s(&[4])]],
            Any,
            2,
        ),
        spec(
            "index_select",
            |x| x[0].index_select(0, &Tensor::new([0, 0, -1])),
            m(),
            Any,
            2,
        ),
        spec(
            "gather",
            |x| x[0].gather(0, &Tensor::zeros(&[2, 1]).to_dtype(ferrograd::DType::I64)),
            vec![vec![s(&[2, 3])], vec![tr(&[2, 3])], vec![s(&[3, 4])]],
            Any,
            2,
        ),
        spec(
            "gather dim 1",
            |x| x[0].gather(1, &Tensor::new([[2, 0, 2], [1, 1, 0]])),
            vec![vec![s(&[2, 3])], vec![tr(&[2, 3])], vec![s(&[2, 4])]],
            Any,
            2,
        ),
        spec(
            "scatter_add",
            |x| x[0].scatter_add(0, &Tensor::new([[1, 0, 1]]), &x[0].narrow(0, 0, 1).exp()),
            vec![vec![s(&[2, 3])], vec![tr(&[2, 3])], vec![s(&[3, 3])]],
            Any,
            2,
        ),
        spec(
            "scatter",
            |x| x[0].scatter(1, &Tensor::new([[2], [0]]), &x[0].narrow(1, 0, 1).pow(2.0)),
            vec![vec![s(&[2, 3])], vec![tr(&[2, 3])], vec![s(&[2, 4])]],
            Any,
            2,
        ),
        spec(
            "index_add",
            |x| {
                x[0].index_add(
                    0,
                    &Tensor::new([1, 1]),
                    &x[0].narrow(0, 0, 1).repeat(&[2, 1]).sin(),
                )
            },
            vec![vec![s(&[2, 3])], vec![tr(&[2, 3])], vec![s(&[3, 2])]],
            Any,
            2,
        ),
        spec(
            "masked_select",
            |x| x[0].masked_select(&x[0].gt_scalar(0.0)),
            m(),
            NonZero,
            2,
        ),
    ]);
}

#[test]
fn more_reductions_to_second_order() {
    use Domain::*;
    let r = || {
        vec![
            vec![s(&[2, 3])],
            vec![tr(&[2, 3])],
            vec![s(&[2, 3, 2])],
            vec![s(&[1, 4])],
            vec![s(&[3, 1])],
            vec![s(&[4, 1, 2])],
            vec![s(&[1, 1])],
            vec![tr(&[3, 2])],
        ]
    };
    let with_empty = || {
        let mut c = r();
        c.push(vec![s(&[0, 3])]);
        c.push(vec![s(&[2, 0])]);
        c
    };
    // Variance with correction 1 over one element is 0/0 (NaN, as in PyTorch): these cases
    // reduce over more than one element along every dimension.
    let multi = || {
        vec![
            vec![s(&[2, 3])],
            vec![tr(&[2, 3])],
            vec![s(&[2, 3, 2])],
            vec![s(&[4, 2, 2])],
            vec![tr(&[3, 2])],
            vec![s(&[3, 4])],
        ]
    };
    assert_table(vec![
        spec("amax all", |x| x[0].amax(&[], false), r(), Any, 2),
        spec("amax dim 1", |x| x[0].amax(&[1], false), r(), Any, 2),
        spec(
            "amin dims 0,-1 keepdim",
            |x| x[0].amin(&[0, -1], true),
            r(),
            Any,
            2,
        ),
        spec(
            "max",
            |x| x[0].max(),
            unary_cases()
                .into_iter()
                .filter(|c| c[0].shape.iter().product::<usize>() > 0)
                .collect(),
            Any,
            2,
        ),
        spec("min", |x| x[0].min(), r(), Any, 2),
        spec("max_dim", |x| x[0].max_dim(0, false).0, r(), Any, 2),
        spec("min_dim keepdim", |x| x[0].min_dim(-1, true).0, r(), Any, 2),
        spec("var", |x| x[0].var(&[], 1.0, false), multi(), Any, 2),
        spec("var dim", |x| x[0].var(&[1], 1.0, true), multi(), Any, 2),
        spec(
            "var correction 0",
            |x| x[0].var(&[0], 0.0, false),
            r(),
            Any,
            2,
        ),
        spec("std", |x| x[0].std(&[], 1.0, false), multi(), Any, 2),
        spec("std dim", |x| x[0].std(&[-1], 0.0, false), r(), Any, 2),
        spec(
            "norm p=2 dim",
            |x| x[0].norm_dims(2.0, &[1], false),
            r(),
            NonZero,
            2,
        ),
        spec(
            "norm p=1",
            |x| x[0].norm_dims(1.0, &[], false),
            r(),
            NonZero,
            2,
        ),
        spec(
            "norm p=3",
            |x| x[0].norm_dims(3.0, &[0], true),
            r(),
            NonZero,
            2,
        ),
        spec(
            "norm p=0.5",
            |x| x[0].norm_dims(0.5, &[], false),
            r(),
            NonZero,
            2,
        ),
        spec(
            "norm inf",
            |x| x[0].norm_dims(f64::INFINITY, &[1], false),
            r(),
            NonZero,
            2,
        ),
        spec(
            "norm -inf",
            |x| x[0].norm_dims(f64::NEG_INFINITY, &[], false),
            r(),
            NonZero,
            2,
        ),
        spec(
            "logsumexp",
            |x| x[0].logsumexp(&[], false),
            with_empty(),
            Any,
            2,
        ),
        spec(
            "logsumexp dim",
            |x| x[0].logsumexp(&[1], true),
            with_empty(),
            Any,
            2,
        ),
        spec("cumsum", |x| x[0].cumsum(0), with_empty(), Any, 2),
        spec("cumsum last", |x| x[0].cumsum(-1), with_empty(), Any, 2),
        spec("cumprod", |x| x[0].cumprod(-1), with_empty(), Any, 2),
        spec(
            "cumprod with a zero",
            |x| {
                x[0].cumprod(0)
                    .mul(&x[0].cumprod(0).mul_scalar(0.0).add_scalar(1.0))
            },
            r(),
            Any,
            2,
        ),
        spec("prod", |x| x[0].prod(), with_empty(), Any, 2),
        spec(
            "prod_dim",
            |x| x[0].prod_dim(1, false),
            with_empty(),
            Any,
            2,
        ),
    ]);
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
fn neural_network_functions_to_second_order() {
    use ferrograd::nn::{self, ClassOptions, ConvOptions, Reduction};
    use Domain::*;
    let m = || {
        vec![
            vec![s(&[2, 3])],
            vec![tr(&[2, 3])],
            vec![s(&[3, 4])],
            vec![s(&[1, 5])],
            vec![s(&[2, 3, 2])],
        ]
    };
    let pair = || {
        vec![
            vec![s(&[2, 3]), s(&[2, 3])],
            vec![tr(&[2, 3]), s(&[2, 3])],
            vec![s(&[4]), s(&[4])],
            vec![s(&[]), s(&[])],
        ]
    };
    assert_table(vec![
        spec("softmax", |x| x[0].softmax(-1), m(), Any, 2),
        spec("softmax dim 0", |x| x[0].softmax(0), m(), Any, 2),
        spec("log_softmax", |x| x[0].log_softmax(1), m(), Any, 2),
        spec(
            "log_softmax 1-d",
            |x| x[0].log_softmax(0),
            vec![vec![s(&[4])], vec![s(&[1])]],
            Any,
            2,
        ),
        spec(
            "cross_entropy indices",
            |x| nn::cross_entropy(&x[0], &Tensor::new([2, 0]), ClassOptions::default()),
            vec![vec![s(&[2, 3])], vec![tr(&[2, 3])]],
            Any,
            2,
        ),
        spec(
            "cross_entropy sum weight",
            |x| {
                nn::cross_entropy(
                    &x[0],
                    &Tensor::new([2, 0]),
                    ClassOptions {
                        weight: Some(Tensor::from_data([0.2, 1.0, 3.0], DType::F64)),
                        reduction: Reduction::Sum,
                        ..Default::default()
                    },
                )
            },
            vec![vec![s(&[2, 3])]],
            Any,
            2,
        ),
        spec(
            "cross_entropy ignore",
            |x| {
                nn::cross_entropy(
                    &x[0],
                    &Tensor::new([1, -100, 0]),
                    ClassOptions {
                        ignore_index: -100,
                        ..Default::default()
                    },
                )
            },
            vec![vec![s(&[3, 3])]],
            Any,
            2,
        ),
        spec(
            "cross_entropy smoothing",
            |x| {
                nn::cross_entropy(
                    &x[0],
                    &Tensor::new([2, 0]),
                    ClassOptions {
                        label_smoothing: 0.1,
                        weight: Some(Tensor::from_data([0.2, 1.0, 3.0], DType::F64)),
                        ..Default::default()
                    },
                )
            },
            vec![vec![s(&[2, 3])]],
            Any,
            2,
        ),
        spec(
            "cross_entropy probabilities",
            |x| {
                nn::cross_entropy(
                    &x[0],
                    &x[1].softmax(1),
                    ClassOptions {
                        label_smoothing: 0.2,
                        ..Default::default()
                    },
                )
            },
            vec![vec![s(&[2, 3]), s(&[2, 3])]],
            Any,
            2,
        ),
        spec(
            "cross_entropy spatial",
            |x| {
                nn::cross_entropy(
                    &x[0],
                    &Tensor::new([[1, 0], [2, 2]]),
                    ClassOptions {
                        reduction: Reduction::None,
                        ..Default::default()
                    },
                )
            },
            vec![vec![s(&[2, 3, 2])]],
            Any,
            2,
        ),
        spec(
            "cross_entropy unbatched",
            |x| nn::cross_entropy(&x[0], &Tensor::new(1), ClassOptions::default()),
            vec![vec![s(&[3])]],
            Any,
            2,
        ),
        spec(
            "nll_loss",
            |x| {
                nn::nll_loss(
                    &x[0].log_softmax(1),
                    &Tensor::new([1, 0]),
                    ClassOptions::default(),
                )
            },
            vec![vec![s(&[2, 3])]],
            Any,
            2,
        ),
        spec(
            "mse_loss",
            |x| nn::mse_loss(&x[0], &x[1], Reduction::Mean),
            pair(),
            Any,
            3,
        ),
        spec(
            "l1_loss",
            |x| nn::l1_loss(&x[0], &x[1].mul_scalar(0.0), Reduction::Sum),
            pair(),
            NonZero,
            3,
        ),
        spec(
            "smooth_l1_loss",
            |x| nn::smooth_l1_loss(&x[0], &x[1].mul_scalar(0.0), Reduction::Mean, 1.0),
            pair(),
            NonZero,
            3,
        ),
        spec(
            "huber_loss",
            |x| nn::huber_loss(&x[0], &x[1].mul_scalar(0.0), Reduction::None, 1.0),
            pair(),
            NonZero,
            3,
        ),
        spec(
            "binary_cross_entropy",
            |x| nn::binary_cross_entropy(&x[0].sigmoid(), &x[1].sigmoid(), None, Reduction::Mean),
            pair(),
            Any,
            2,
        ),
        spec(
            "bce_with_logits",
            |x| {
                nn::binary_cross_entropy_with_logits(
                    &x[0],
                    &x[1].sigmoid(),
                    None,
                    Some(&x[1].exp()),
                    Reduction::Mean,
                )
            },
            pair(),
            Any,
            2,
        ),
        spec(
            "linear",
            |x| nn::linear(&x[0], &x[1], Some(&x[1].select(1, 0))),
            vec![
                vec![s(&[2, 3]), s(&[4, 3])],
                vec![tr(&[2, 3]), s(&[2, 3])],
                vec![s(&[3]), s(&[2, 3])],
            ],
            Any,
            2,
        ),
        spec(
            "layer_norm",
            |x| {
                nn::layer_norm(
                    &x[0],
                    &x[0].shape()[1..],
                    Some(&x[1]),
                    Some(&x[1].cos()),
                    1e-5,
                )
            },
            vec![vec![s(&[2, 3]), s(&[3])], vec![s(&[2, 2, 2]), s(&[2, 2])]],
            Any,
            2,
        ),
        spec(
            "conv1d",
            |x| nn::conv1d(&x[0], &x[1], None, ConvOptions::default()),
            vec![
                vec![s(&[2, 2, 5]), s(&[3, 2, 2])],
                vec![s(&[1, 5]), s(&[2, 1, 3])],
            ],
            Any,
            2,
        ),
        spec(
            "conv1d stride pad dilation",
            |x| {
                nn::conv1d(
                    &x[0],
                    &x[1],
                    Some(&x[1].select(2, 0).select(1, 0)),
                    ConvOptions {
                        stride: [1, 2],
                        padding: [0, 1],
                        dilation: [1, 2],
                        groups: 1,
                    },
                )
            },
            vec![vec![s(&[1, 2, 7]), s(&[3, 2, 2])]],
            Any,
            2,
        ),
        spec(
            "conv2d",
            |x| nn::conv2d(&x[0], &x[1], None, ConvOptions::default()),
            vec![
                vec![s(&[1, 2, 4, 3]), s(&[2, 2, 2, 2])],
                vec![s(&[2, 3, 3]), s(&[1, 2, 2, 2])],
            ],
            Any,
            2,
        ),
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
                        groups: 2,
                    },
                )
            },
            vec![vec![s(&[1, 4, 4, 4]), s(&[2, 2, 2, 2])]],
            Any,
            2,
        ),
    ]);
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

/// `x + 3 I` on the last two dimensions: well conditioned for inv, det and solve.
fn conditioned(x: &Tensor) -> Tensor {
    let n = x.shape()[x.dim() - 1];
    x + &Tensor::ones(&[n])
        .to_dtype(DType::F64)
        .diag(0)
        .mul_scalar(3.0)
}

#[test]
fn more_linear_algebra_to_second_order() {
    use Domain::*;
    let sq = || {
        vec![
            vec![s(&[3, 3])],
            vec![tr(&[3, 3])],
            vec![s(&[1, 1])],
            vec![s(&[2, 2, 2])],
            vec![s(&[4, 4])],
        ]
    };
    assert_table(vec![
        spec(
            "bmm",
            |x| x[0].bmm(&x[1]),
            vec![
                vec![s(&[2, 2, 3]), s(&[2, 3, 4])],
                vec![s(&[1, 1, 1]), s(&[1, 1, 2])],
                vec![s(&[3, 0, 2]), s(&[3, 2, 2])],
            ],
            Any,
            2,
        ),
        spec(
            "outer",
            |x| x[0].outer(&x[1]),
            vec![
                vec![s(&[3]), s(&[4])],
                vec![s(&[1]), s(&[2])],
                vec![s(&[0]), s(&[2])],
            ],
            Any,
            2,
        ),
        spec("diagonal", |x| x[0].diagonal(0, -2, -1), sq(), Any, 2),
        spec(
            "diagonal offset",
            |x| x[0].diagonal(1, 0, -1),
            vec![vec![s(&[3, 3])], vec![tr(&[3, 4])], vec![s(&[2, 3, 4])]],
            Any,
            2,
        ),
        spec(
            "diagonal negative",
            |x| x[0].diagonal(-1, 0, 1),
            vec![vec![s(&[3, 3])], vec![tr(&[4, 3])]],
            Any,
            2,
        ),
        spec(
            "diag of vector",
            |x| x[0].diag(1),
            vec![vec![s(&[3])], vec![s(&[1])], vec![s(&[0])]],
            Any,
            2,
        ),
        spec(
            "trace",
            |x| x[0].trace(),
            vec![vec![s(&[3, 3])], vec![tr(&[2, 3])], vec![s(&[1, 1])]],
            Any,
            2,
        ),
        spec("tril", |x| x[0].tril(0), sq(), Any, 2),
        spec("triu", |x| x[0].triu(1), sq(), Any, 2),
        spec("inv", |x| conditioned(&x[0]).inv(), sq(), Any, 2),
        spec("det", |x| conditioned(&x[0]).det(), sq(), Any, 2),
        spec(
            "det 3 by 3 product",
            |x| &conditioned(&x[0]).det() * &conditioned(&x[0]).inv().det(),
            vec![vec![s(&[3, 3])]],
            Any,
            2,
        ),
        spec(
            "solve matrix",
            |x| conditioned(&x[0]).solve(&x[1]),
            vec![
                vec![s(&[3, 3]), s(&[3, 2])],
                vec![tr(&[2, 2]), s(&[2, 2])],
                vec![s(&[2, 3, 3]), s(&[3, 1])],
            ],
            Any,
            2,
        ),
        spec(
            "solve vector",
            |x| conditioned(&x[0]).solve(&x[1]),
            vec![vec![s(&[3, 3]), s(&[3])], vec![s(&[1, 1]), s(&[1])]],
            Any,
            2,
        ),
        spec(
            "einsum matmul",
            |x| Tensor::einsum("ij,jk->ik", &[&x[0], &x[1]]),
            vec![vec![s(&[2, 3]), s(&[3, 4])], vec![tr(&[2, 3]), s(&[3, 2])]],
            Any,
            2,
        ),
        spec(
            "einsum batch matmul",
            |x| Tensor::einsum("bij,bjk->bik", &[&x[0], &x[1]]),
            vec![vec![s(&[2, 2, 3]), s(&[2, 3, 2])]],
            Any,
            2,
        ),
        spec(
            "einsum ellipsis",
            |x| Tensor::einsum("...ij,...jk->...ik", &[&x[0], &x[1]]),
            vec![
                vec![s(&[2, 2, 3]), s(&[3, 2])],
                vec![s(&[2, 3]), s(&[3, 1])],
            ],
            Any,
            2,
        ),
        spec(
            "einsum outer",
            |x| Tensor::einsum("i,j->ij", &[&x[0], &x[1]]),
            vec![vec![s(&[3]), s(&[2])]],
            Any,
            2,
        ),
        spec(
            "einsum trace",
            |x| Tensor::einsum("ii->", &[&x[0]]),
            vec![vec![s(&[3, 3])], vec![tr(&[2, 2])]],
            Any,
            2,
        ),
        spec(
            "einsum transpose",
            |x| Tensor::einsum("ij->ji", &[&x[0]]),
            vec![vec![s(&[2, 3])]],
            Any,
            2,
        ),
        spec(
            "einsum implicit",
            |x| Tensor::einsum("ij,jk", &[&x[0], &x[1]]),
            vec![vec![s(&[2, 3]), s(&[3, 4])]],
            Any,
            2,
        ),
        spec(
            "einsum bilinear",
            |x| Tensor::einsum("i,ij,j->", &[&x[0], &x[1], &x[0]]),
            vec![vec![s(&[3]), s(&[3, 3])]],
            Any,
            2,
        ),
    ]);
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
