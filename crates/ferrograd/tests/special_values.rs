//! Pinned special values: the conventions PyTorch uses at kinks, zeros, ties and infinities,
//! and no unexpected NaN.

use ferrograd::{autograd, DType, GradOptions, Tensor};

fn t(v: &[f64]) -> Tensor {
    Tensor::from_data(v.to_vec(), DType::F64).requires_grad_(true)
}

/// Value and gradient of `f` at `x` (summing a non-scalar output).
fn value_and_grad(x: &[f64], f: impl Fn(&Tensor) -> Tensor) -> (Vec<f64>, Vec<f64>) {
    let x = t(x);
    let y = f(&x);
    let g = autograd::grad(&[y.sum()], &[&x], GradOptions::new().allow_unused(true))[0]
        .clone()
        .unwrap_or_else(|| x.zeros_like());
    (y.to_vec::<f64>(), g.to_vec::<f64>())
}

fn same(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x.is_nan() && y.is_nan()) || x == y)
}

#[track_caller]
fn pin(x: &[f64], f: impl Fn(&Tensor) -> Tensor, value: &[f64], grad: &[f64]) {
    let (v, g) = value_and_grad(x, f);
    assert!(same(&v, value), "value {v:?}, expected {value:?}");
    assert!(same(&g, grad), "gradient {g:?}, expected {grad:?}");
}

const INF: f64 = f64::INFINITY;

#[test]
fn norms_and_roots_at_zero() {
    pin(&[0.0, 0.0], |x| x.norm(), &[0.0], &[0.0, 0.0]);
    pin(
        &[0.0, 0.0],
        |x| x.norm_dims(2.0, &[0], false),
        &[0.0],
        &[0.0, 0.0],
    );
    pin(
        &[0.0, 0.0],
        |x| x.norm_dims(3.0, &[], false),
        &[0.0],
        &[0.0, 0.0],
    );
    pin(
        &[0.0, 0.0],
        |x| x.norm_dims(1.0, &[], false),
        &[0.0],
        &[0.0, 0.0],
    );
    pin(&[3.0, 3.0], |x| x.std(&[], 1.0, false), &[0.0], &[0.0, 0.0]);
    pin(&[0.0], |x| x.sqrt(), &[0.0], &[INF]);
}

#[test]
fn powers_at_zero() {
    pin(&[0.0], |x| x.pow(2.0), &[0.0], &[0.0]);
    pin(&[0.0], |x| x.pow(0.0), &[1.0], &[0.0]);
    pin(&[0.0], |x| x.pow(0.5), &[0.0], &[INF]);
    pin(&[0.0], |x| x.pow(-1.0), &[INF], &[-INF]);
    pin(&[2.0], |x| x.pow(0.0), &[1.0], &[0.0]);
    // 0^y with a tensor exponent: d/dy is 0 where the base is 0 and y >= 0.
    let base = Tensor::from_data([0.0, 0.0], DType::F64);
    pin(
        &[2.0, 0.0],
        |y| base.pow_tensor(y),
        &[0.0, 1.0],
        &[0.0, 0.0],
    );
    pin(&[0.0], |x| x.rpow(2.0), &[1.0], &[2f64.ln()]);
}

#[test]
fn kinks_and_ties() {
    pin(&[0.0], |x| x.abs(), &[0.0], &[0.0]);
    pin(&[0.0], |x| x.relu(), &[0.0], &[0.0]);
    pin(&[0.0], |x| x.leaky_relu(0.1), &[0.0], &[0.1]);
    pin(&[0.0], |x| x.elu(1.0), &[0.0], &[1.0]);
    pin(&[0.0], |x| x.sign(), &[0.0], &[0.0]);
    // Neither clamp nor hardtanh passes the gradient at its bounds (PyTorch 2.15: clamp's
    // backward keeps `min < x < max`).
    pin(
        &[-1.0, 1.0],
        |x| x.clamp(Some(-1.0), Some(1.0)),
        &[-1.0, 1.0],
        &[0.0, 0.0],
    );
    pin(
        &[-1.0, 1.0],
        |x| x.hardtanh(-1.0, 1.0),
        &[-1.0, 1.0],
        &[0.0, 0.0],
    );
    // maximum/minimum at a tie: half each.
    let (a, b) = (t(&[2.0]), t(&[2.0]));
    a.maximum(&b).backward();
    assert_eq!(
        (a.grad().unwrap().item(), b.grad().unwrap().item()),
        (0.5, 0.5)
    );
    // amax / max over ties: shared evenly.
    pin(
        &[1.0, 3.0, 3.0],
        |x| x.amax(&[], false),
        &[3.0],
        &[0.0, 0.5, 0.5],
    );
    pin(&[1.0, 3.0, 3.0], |x| x.max(), &[3.0], &[0.0, 0.5, 0.5]);
    // max along a dim: the first maximum gets it all.
    pin(
        &[1.0, 3.0, 3.0],
        |x| x.max_dim(0, false).0,
        &[3.0],
        &[0.0, 1.0, 0.0],
    );
}

#[test]
fn where_keeps_the_unused_branch_out_of_the_value_and_the_double_where_keeps_its_nan_out_of_the_gradient(
) {
    // Single where: the value is clean, the gradient of sqrt at a negative input is NaN
    // times 0 (as in PyTorch and JAX).
    let single = |x: &Tensor| Tensor::where_(&x.gt_scalar(0.0), &x.sqrt(), &x.zeros_like());
    let (v, g) = value_and_grad(&[-1.0, 4.0], single);
    assert_eq!(v, vec![0.0, 2.0]);
    assert!(g[0].is_nan() && g[1] == 0.25);
    // Double where: no NaN anywhere.
    let double = |x: &Tensor| {
        let pos = x.gt_scalar(0.0);
        let safe = Tensor::where_(&pos, x, &x.ones_like());
        Tensor::where_(&pos, &safe.sqrt(), &x.zeros_like())
    };
    pin(&[-1.0, 4.0], double, &[0.0, 2.0], &[0.0, 0.25]);
}

#[test]
fn log_softmax_and_logsumexp_at_the_extremes() {
    pin(
        &[0.0, 1000.0],
        |x| x.log_softmax(0),
        &[-1000.0, 0.0],
        &[1.0, -1.0],
    );
    pin(
        &[1000.0, 1000.0],
        |x| x.softmax(0),
        &[0.5, 0.5],
        &[0.0, 0.0],
    );
    pin(
        &[-INF, 1.0],
        |x| x.logsumexp(&[0], false),
        &[1.0],
        &[0.0, 1.0],
    );
    let (v, _) = value_and_grad(&[-INF, -INF], |x| x.logsumexp(&[0], false));
    assert_eq!(v, vec![-INF]);
    pin(
        &[INF, 1.0],
        |x| x.logsumexp(&[0], false),
        &[INF],
        &[f64::NAN, 0.0],
    );
    pin(&[-1000.0], |x| x.sigmoid(), &[0.0], &[0.0]);
    pin(&[1000.0], |x| x.softplus(), &[1000.0], &[1.0]);
    pin(&[-1000.0], |x| x.logsigmoid(), &[-1000.0], &[1.0]);
}

#[test]
fn reductions_of_empty_tensors() {
    pin(&[], |x| x.sum(), &[0.0], &[]);
    pin(&[], |x| x.prod(), &[1.0], &[]);
    let (v, _) = value_and_grad(&[], |x| x.mean());
    assert!(v[0].is_nan());
    assert!(t(&[]).try_amax(&[0], false).is_err());
    pin(&[], |x| x.logsumexp(&[0], false), &[-INF], &[]);
}

// ---------------------------------------------------------------- issue 12, items 3-5

const NAN: f64 = f64::NAN;

/// `f` at `x` and its derivatives of order 1..=`n` (each the gradient of the sum of the one
/// before, under `create_graph`), in `dtype`, read back as f64. Panics if an order fails.
fn orders(x: &[f64], dtype: DType, n: usize, f: &dyn Fn(&Tensor) -> Tensor) -> Vec<Vec<f64>> {
    let x = Tensor::from_data(x.to_vec(), dtype).requires_grad_(true);
    let y = f(&x);
    let mut out = vec![y.to_dtype(DType::F64).to_vec::<f64>()];
    let mut g = y;
    for k in 1..=n {
        g = autograd::try_grad(&[g.sum()], &[&x], GradOptions::new().create_graph(true))
            .unwrap_or_else(|e| panic!("order {k}: {e}"))[0]
            .clone()
            .expect("a gradient");
        out.push(g.to_dtype(DType::F64).to_vec::<f64>());
    }
    out
}

/// Equal, NaN matching NaN, within a relative `tol` (0 for exact).
#[track_caller]
fn close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    let ok = got.len() == want.len()
        && got.iter().zip(want).all(|(a, b)| {
            (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= tol * b.abs().max(1e-30)
        });
    assert!(ok, "{what}: got {got:?}, expected {want:?}");
}

type Case = (
    &'static str,
    fn(&Tensor) -> Tensor,
    &'static [f64],
    [&'static [f64]; 4],
);

/// Values and derivatives of orders 1-3 at kinks, bounds and NaN, from PyTorch 2.15 (f64; its
/// f32 results are these rounded). Where PyTorch stops (its derivative of a piecewise-constant
/// function has no grad_fn: relu6/hardtanh/leaky_relu/clamp at order 3, clamp at order 2) the
/// derivative is 0 by mathematics, and ferrograd carries it to every order.
const ACTIVATIONS: &[Case] = &[
    (
        "relu",
        |x| x.relu(),
        &[0.0, 1.0, -1.0, NAN],
        [
            &[0.0, 1.0, 0.0, NAN],
            &[0.0, 1.0, 0.0, 1.0],
            &[0.0, 0.0, 0.0, 0.0],
            &[0.0, 0.0, 0.0, 0.0],
        ],
    ),
    (
        "relu6",
        |x| x.relu6(),
        &[0.0, 6.0, 3.0, 7.0, NAN],
        [
            &[0.0, 6.0, 3.0, 6.0, NAN],
            &[0.0, 0.0, 1.0, 0.0, 1.0],
            &[0.0, 0.0, 0.0, 0.0, 0.0],
            &[0.0, 0.0, 0.0, 0.0, 0.0],
        ],
    ),
    (
        "leaky_relu",
        |x| x.leaky_relu(0.1),
        &[0.0, 1.0, -1.0, NAN],
        [
            &[0.0, 1.0, -0.1, NAN],
            &[0.1, 1.0, 0.1, 0.1],
            &[0.0, 0.0, 0.0, 0.0],
            &[0.0, 0.0, 0.0, 0.0],
        ],
    ),
    (
        "hardtanh",
        |x| x.hardtanh(-1.0, 1.0),
        &[-1.0, 1.0, 0.0, 2.0, NAN],
        [
            &[-1.0, 1.0, 0.0, 1.0, NAN],
            &[0.0, 0.0, 1.0, 0.0, 1.0],
            &[0.0, 0.0, 0.0, 0.0, 0.0],
            &[0.0, 0.0, 0.0, 0.0, 0.0],
        ],
    ),
    (
        "clamp(0, 1)",
        |x| x.clamp(Some(0.0), Some(1.0)),
        &[0.0, 1.0, 0.5, -1.0, 2.0, NAN],
        [
            &[0.0, 1.0, 0.5, 0.0, 1.0, NAN],
            &[0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
            &[0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            &[0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        ],
    ),
    (
        "clamp_min(0)",
        |x| x.clamp(Some(0.0), None),
        &[0.0, 1.0, -1.0, NAN],
        [
            &[0.0, 1.0, 0.0, NAN],
            &[0.0, 1.0, 0.0, 0.0],
            &[0.0, 0.0, 0.0, 0.0],
            &[0.0, 0.0, 0.0, 0.0],
        ],
    ),
    (
        "clamp_max(1)",
        |x| x.clamp(None, Some(1.0)),
        &[0.0, 1.0, 2.0, NAN],
        [
            &[0.0, 1.0, 1.0, NAN],
            &[1.0, 0.0, 0.0, 0.0],
            &[0.0, 0.0, 0.0, 0.0],
            &[0.0, 0.0, 0.0, 0.0],
        ],
    ),
    (
        "elu(1)",
        |x| x.elu(1.0),
        &[0.0, 1.0, -1.0, NAN],
        [
            &[0.0, 1.0, -0.6321205588285577, NAN],
            &[1.0, 1.0, 0.36787944117144233, 1.0],
            &[0.0, 0.0, 0.36787944117144233, 0.0],
            &[0.0, 0.0, 0.36787944117144233, 0.0],
        ],
    ),
    (
        "elu(2)",
        |x| x.elu(2.0),
        &[0.0, 1.0, -1.0],
        [
            &[0.0, 1.0, -1.2642411176571153],
            &[2.0, 1.0, 0.7357588823428847],
            &[0.0, 0.0, 0.7357588823428847],
            &[0.0, 0.0, 0.7357588823428847],
        ],
    ),
    (
        "selu",
        |x| x.selu(),
        &[0.0, 1.0, -1.0, NAN],
        [
            &[0.0, 1.0507009873554805, -1.1113307378125625, NAN],
            &[
                1.7580993408473766,
                1.0507009873554805,
                0.646768603034814,
                1.0507009873554805,
            ],
            &[0.0, 0.0, 0.646768603034814, 0.0],
            &[0.0, 0.0, 0.646768603034814, 0.0],
        ],
    ),
    (
        "softplus(1, 20)",
        |x| x.softplus_with(1.0, 20.0),
        &[20.0, 21.0, 0.0, -1.0],
        [
            &[
                20.000000002061153,
                21.0,
                std::f64::consts::LN_2,
                0.31326168751822286,
            ],
            &[0.9999999979388464, 1.0, 0.5, 0.2689414213699951],
            &[0.0, 0.0, 0.25, 0.19661193324148185],
            &[0.0, 0.0, 0.0, 0.09085774767294841],
        ],
    ),
    (
        "softplus(2, 20)",
        |x| x.softplus_with(2.0, 20.0),
        &[10.0, 11.0, 0.0],
        [
            &[10.000000001030577, 11.0, 0.34657359027997264],
            &[0.9999999979388464, 1.0, 0.5],
            &[0.0, 0.0, 0.5],
            &[0.0, 0.0, 0.0],
        ],
    ),
    (
        "gelu",
        |x| x.gelu(),
        &[0.0],
        [&[0.0], &[0.5], &[0.7978845608028654], &[0.0]],
    ),
    (
        "silu",
        |x| x.silu(),
        &[0.0],
        [&[0.0], &[0.5], &[0.5], &[0.0]],
    ),
    (
        "mish",
        |x| x.mish(),
        &[0.0],
        [&[0.0], &[0.6], &[0.64], &[-0.096]],
    ),
    (
        "abs",
        |x| x.abs(),
        &[NAN, 0.0, -1.0],
        [
            &[NAN, 0.0, 1.0],
            &[0.0, 0.0, -1.0],
            &[0.0, 0.0, 0.0],
            &[0.0, 0.0, 0.0],
        ],
    ),
    (
        "sign",
        |x| x.sign(),
        &[NAN, 0.0, -1.0],
        [
            &[0.0, 0.0, -1.0],
            &[0.0, 0.0, 0.0],
            &[0.0, 0.0, 0.0],
            &[0.0, 0.0, 0.0],
        ],
    ),
];

#[test]
fn activations_match_pytorch_at_kinks_and_nan_to_the_third_derivative() {
    for (dtype, tol) in [(DType::F64, 1e-15), (DType::F32, 1e-6)] {
        for (name, f, x, want) in ACTIVATIONS {
            let got = std::panic::catch_unwind(|| orders(x, dtype, 3, f))
                .unwrap_or_else(|_| panic!("{name} {dtype}"));
            for (k, w) in want.iter().enumerate() {
                close(&got[k], w, tol, &format!("{name} {dtype} order {k}"));
            }
        }
    }
}

#[test]
fn piecewise_linear_derivatives_have_a_grad_fn_under_create_graph() {
    // PyTorch names the first derivative's node after the backward it differentiates.
    let x = t(&[0.5, -0.5]);
    for (f, name) in [
        (
            &(|x: &Tensor| x.relu()) as &dyn Fn(&Tensor) -> Tensor,
            "ThresholdBackwardBackward0",
        ),
        (&|x: &Tensor| x.relu6(), "HardtanhBackwardBackward0"),
        (
            &|x: &Tensor| x.hardtanh(-1.0, 1.0),
            "HardtanhBackwardBackward0",
        ),
        (
            &|x: &Tensor| x.leaky_relu(0.01),
            "LeakyReluBackwardBackward0",
        ),
    ] {
        let g = autograd::grad(&[f(&x).sum()], &[&x], GradOptions::new().create_graph(true))[0]
            .clone()
            .unwrap();
        assert_eq!(g.grad_fn().map(|n| n.name()), Some(name));
    }
}

#[test]
fn softmax_with_infinities_and_nan_is_pytorchs() {
    // PyTorch 2.15: a slice holding +inf, or only -inf, or a NaN is NaN throughout, gradient
    // too; -inf entries beside finite ones are 0 (log: -inf). Gradients for a seed [1, 0, ..].
    type Row = (
        &'static [f64],
        &'static [f64],
        &'static [f64],
        &'static [f64],
        &'static [f64],
    );
    let rows: &[Row] = &[
        (
            &[INF, 1.0],
            &[NAN, NAN],
            &[NAN, NAN],
            &[NAN, NAN],
            &[NAN, NAN],
        ),
        (
            &[-INF, 1.0],
            &[0.0, 1.0],
            &[-INF, 0.0],
            &[0.0, 0.0],
            &[1.0, -1.0],
        ),
        (
            &[INF, INF],
            &[NAN, NAN],
            &[NAN, NAN],
            &[NAN, NAN],
            &[NAN, NAN],
        ),
        (
            &[-INF, -INF],
            &[NAN, NAN],
            &[NAN, NAN],
            &[NAN, NAN],
            &[NAN, NAN],
        ),
        (
            &[NAN, 1.0],
            &[NAN, NAN],
            &[NAN, NAN],
            &[NAN, NAN],
            &[NAN, NAN],
        ),
        (
            &[INF, -INF],
            &[NAN, NAN],
            &[NAN, NAN],
            &[NAN, NAN],
            &[NAN, NAN],
        ),
        (
            &[-INF, -INF, 1.0],
            &[0.0, 0.0, 1.0],
            &[-INF, -INF, 0.0],
            &[0.0, 0.0, 0.0],
            &[1.0, 0.0, -1.0],
        ),
    ];
    for dtype in [DType::F64, DType::F32] {
        for &(x, s, l, gs, gl) in rows {
            let xt = Tensor::from_data(x.to_vec(), dtype).requires_grad_(true);
            let mut seed = vec![0.0; x.len()];
            seed[0] = 1.0;
            let seed = Tensor::from_data(seed, dtype);
            for (y, want, want_g) in [(xt.softmax(0), s, gs), (xt.log_softmax(0), l, gl)] {
                close(
                    &y.to_dtype(DType::F64).to_vec::<f64>(),
                    want,
                    0.0,
                    &format!("{x:?}"),
                );
                let g = autograd::grad(
                    &[y],
                    &[&xt],
                    GradOptions::new().grad_outputs([seed.clone()]),
                )[0]
                .clone()
                .unwrap();
                close(
                    &g.to_dtype(DType::F64).to_vec::<f64>(),
                    want_g,
                    0.0,
                    &format!("grad {x:?}"),
                );
            }
        }
    }
}

#[test]
fn binary_cross_entropy_at_probabilities_of_exactly_0_and_1() {
    use ferrograd::nn::{binary_cross_entropy, Reduction};
    // PyTorch 2.15 (f64), reduction sum: loss, d/dp, d/dt, d2/dp2, d2/dp dt, d2/dt dp. The
    // logs are clamped at -100; d/dp divides by max((1-p)p, 1e-12 as a float).
    #[rustfmt::skip]
    let rows: &[[f64; 8]] = &[
        // p, t, loss, gp, gt, gpp, gpt, gtp
        [1.0, 1.0, 0.0, 0.0, -INF, 0.0, -1e12, -INF],
        [1.0, 0.0, 100.0, 1000000003995.8029, -INF, 9.999999999979999e23, -1e12, -INF],
        [1.0, 0.3, 70.0, 700000002797.0619, -INF, 6.999999999985999e23, -1e12, -INF],
        [0.0, 1.0, 100.0, -1000000003995.8029, INF, 9.999999999979999e23, -1e12, -INF],
        [0.0, 0.0, 0.0, 0.0, INF, 0.0, -1e12, -INF],
        [0.5, 0.3, std::f64::consts::LN_2, 0.8, -0.0, 3.9999999999680007, -4.0, -4.0],
    ];
    for r in rows {
        let (p, tt) = (t(&[r[0]]), t(&[r[1]]));
        let l = binary_cross_entropy(&p, &tt, None, Reduction::Sum);
        let opts = || GradOptions::new().create_graph(true).allow_unused(true);
        let g = autograd::grad(&[&l], &[&p, &tt], opts());
        let (gp, gt) = (g[0].clone().unwrap(), g[1].clone().unwrap());
        let h = autograd::grad(&[&gp], &[&p, &tt], opts());
        let gpp = h[0].clone().unwrap();
        let gpt = h[1].clone().unwrap();
        let gtp = autograd::grad(&[&gt], &[&p], opts())[0].clone().unwrap();
        let got = [
            l.item(),
            gp.item(),
            gt.item(),
            gpp.item(),
            gpt.item(),
            gtp.item(),
        ];
        close(
            &got,
            &r[2..],
            1e-15,
            &format!("bce at p={}, t={}", r[0], r[1]),
        );
    }
    // The case: sigmoid(x) rounds to exactly 1 (f32 at x = 20, f64 at x = 40): the loss
    // against 1 is 0 with gradient 0, against 0 it is 100 with gradient 0 (PyTorch).
    for (dtype, x) in [(DType::F32, 20.0), (DType::F64, 40.0)] {
        for (target, loss) in [(1.0, 0.0), (0.0, 100.0)] {
            let xt = Tensor::from_data(vec![x], dtype).requires_grad_(true);
            let y = Tensor::from_data(vec![target], dtype);
            let l = binary_cross_entropy(&xt.sigmoid(), &y, None, Reduction::Mean);
            l.backward();
            assert_eq!(
                (l.item(), xt.grad().unwrap().item()),
                (loss, 0.0),
                "{dtype} {x}"
            );
        }
    }
    // f32 at x = 20 against 1 as PyTorch: the same zero gradient, no NaN; in f64 sigmoid(20) is
    // below 1: loss 2.0611536942919273e-09, gradient -2.06115369216775e-09.
    let xt = t(&[20.0]);
    let l = binary_cross_entropy(
        &xt.sigmoid(),
        &Tensor::from_data(vec![1.0], DType::F64),
        None,
        Reduction::Mean,
    );
    l.backward();
    close(
        &[l.item(), xt.grad().unwrap().item()],
        &[2.0611536942919273e-09, -2.06115369216775e-09],
        1e-12,
        "bce(sigmoid(20), 1) f64",
    );
}

#[test]
fn atan2_at_the_origin_has_zero_gradients() {
    // PyTorch: value 0, gradients 0 and -0 (the second derivative is NaN there).
    for dtype in [DType::F64, DType::F32] {
        let a = Tensor::from_data(vec![0.0, 1.0], dtype).requires_grad_(true);
        let b = Tensor::from_data(vec![0.0, 0.0], dtype).requires_grad_(true);
        let z = a.atan2(&b);
        let g = autograd::grad(&[z.sum()], &[&a, &b], GradOptions::new());
        close(
            &z.to_dtype(DType::F64).to_vec::<f64>(),
            &[0.0, std::f64::consts::FRAC_PI_2],
            1e-7,
            "atan2",
        );
        close(
            &g[0].clone().unwrap().to_dtype(DType::F64).to_vec::<f64>(),
            &[0.0, 0.0],
            0.0,
            "d/da",
        );
        close(
            &g[1].clone().unwrap().to_dtype(DType::F64).to_vec::<f64>(),
            &[0.0, -1.0],
            0.0,
            "d/db",
        );
    }
}

#[test]
fn norms_with_p_below_1_at_zero_entries() {
    // PyTorch: the slope |x|^(p-1) is masked to 0 where x == 0 (for every p < 1).
    for dtype in [DType::F64, DType::F32] {
        for (x, p, value, grad) in [
            (&[0.0, 0.0], 0.5, 0.0, &[0.0, 0.0]),
            (&[0.0, 1.0], 0.5, 1.0, &[0.0, 1.0]),
            (&[1.0, 0.0], -1.0, 0.0, &[0.0, 0.0]),
        ] {
            let got = orders(x, dtype, 1, &|t: &Tensor| t.norm_dims(p, &[], false));
            close(&got[0], &[value], 0.0, &format!("norm p={p} at {x:?}"));
            close(&got[1], grad, 0.0, &format!("grad norm p={p} at {x:?}"));
        }
    }
}

#[test]
fn max_and_min_route_the_gradient_to_the_nans() {
    for dtype in [DType::F64, DType::F32] {
        let o = |x: &[f64], f: &dyn Fn(&Tensor) -> Tensor| orders(x, dtype, 1, f);
        // PyTorch (evenly_distribute_backward): the NaNs share the gradient.
        let got = o(&[1.0, NAN, 3.0, NAN], &|x| x.max());
        close(&got[1], &[0.0, 0.5, 0.0, 0.5], 0.0, "max");
        let got = o(&[1.0, NAN, 3.0], &|x| x.min());
        close(&got[1], &[0.0, 1.0, 0.0], 0.0, "min");
        // amax compares with ==: no element equals NaN, the gradient is NaN (PyTorch too).
        let got = o(&[1.0, NAN, 3.0, NAN], &|x| x.amax(&[], false));
        close(&got[1], &[NAN; 4], 0.0, "amax");
        // Along a dim the index is the first NaN's.
        let got = o(&[NAN, 1.0, 2.0], &|x| x.max_dim(0, false).0);
        close(&got[1], &[1.0, 0.0, 0.0], 0.0, "max_dim");
        // Ties without NaN keep sharing evenly.
        let got = o(&[3.0, 1.0, 3.0], &|x| x.max());
        close(&got[1], &[0.5, 0.0, 0.5], 0.0, "max tie");
    }
}

#[test]
fn clamp_with_tensor_bounds_splits_ties_and_handles_nan_as_pytorch() {
    // PyTorch 2.15, clamp(x, lo, hi) with tensors: value and the gradients of x, lo, hi.
    let x = [
        0.0, 1.0, 0.5, -1.0, 2.0, NAN, 0.0, 1.0, -1.0, NAN, 0.0, 2.0, -1.0, 1.0,
    ];
    let lo = [
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, NAN, NAN,
    ];
    let hi = [
        1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, NAN, 0.0, 1.0,
    ];
    let want_y = [
        0.0, 1.0, 0.5, 0.0, 1.0, NAN, 0.0, 0.0, 0.0, NAN, 0.0, NAN, NAN, NAN,
    ];
    let want = [
        [
            0.5, 0.5, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0,
        ],
        [
            0.5, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        ],
        [
            0.0, 0.5, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0,
        ],
    ];
    for dtype in [DType::F64, DType::F32] {
        let mk = |v: &[f64]| Tensor::from_data(v.to_vec(), dtype).requires_grad_(true);
        let (xt, lt, ht) = (mk(&x), mk(&lo), mk(&hi));
        let y = xt.clamp_tensor(Some(&lt), Some(&ht));
        close(
            &y.to_dtype(DType::F64).to_vec::<f64>(),
            &want_y,
            0.0,
            "clamp value",
        );
        let g = autograd::grad(
            &[y.sum()],
            &[&xt, &lt, &ht],
            GradOptions::new().create_graph(true),
        );
        for (k, w) in want.iter().enumerate() {
            let gk = g[k].clone().unwrap();
            close(
                &gk.to_dtype(DType::F64).to_vec::<f64>(),
                w,
                0.0,
                &format!("clamp grad {k}"),
            );
            // The derivative is piecewise constant: its own derivative is zero, not an error.
            let h = autograd::grad(&[gk.sum()], &[&xt], GradOptions::new().allow_unused(true));
            if let Some(h) = &h[0] {
                assert!(h
                    .to_dtype(DType::F64)
                    .to_vec::<f64>()
                    .iter()
                    .all(|v| *v == 0.0));
            }
        }
        // One bound is maximum / minimum exactly: ties split, NaN goes to both.
        let (a, b) = (mk(&[0.0, 1.0, -1.0, NAN]), mk(&[0.0, 0.0, 0.0, 0.0]));
        let y = a.clamp_tensor(Some(&b), None);
        let g = autograd::grad(&[y.sum()], &[&a, &b], GradOptions::new());
        close(
            &g[0].clone().unwrap().to_dtype(DType::F64).to_vec::<f64>(),
            &[0.5, 1.0, 0.0, 1.0],
            0.0,
            "min-only x",
        );
        close(
            &g[1].clone().unwrap().to_dtype(DType::F64).to_vec::<f64>(),
            &[0.5, 0.0, 1.0, 1.0],
            0.0,
            "min-only lo",
        );
    }
}

#[test]
fn binary_ops_with_a_bool_or_integer_operand_differentiate_the_float_one() {
    // atan2(a, y) with a bool `a` = [true, false]: d/dy atan2(a, y) = -a / (a^2 + y^2), so
    // at y = [2, 3]: [-1/5, 0] (and to second order d2/dy2 = 2 a y / (a^2 + y^2)^2 = [4/25, 0]).
    let a = Tensor::from_data(vec![true, false], DType::Bool);
    let y = Tensor::from_data(vec![2.0, 3.0], DType::F64).requires_grad_(true);
    let z = a.atan2(&y);
    let g = autograd::grad(&[z.sum()], &[&y], GradOptions::new().create_graph(true))[0]
        .clone()
        .unwrap();
    close(&g.to_vec::<f64>(), &[-0.2, 0.0], 1e-15, "d/dy");
    let g2 = autograd::grad(&[g.sum()], &[&y], GradOptions::new())[0]
        .clone()
        .unwrap();
    close(&g2.to_vec::<f64>(), &[0.16, 0.0], 1e-15, "d2/dy2");
    // The same with an int64 operand: hypot(k, y) = sqrt(k^2 + y^2), d/dy = y / hypot.
    let k = Tensor::from_data(vec![3i64, 0], DType::I64);
    let y = Tensor::from_data(vec![4.0, 2.0], DType::F64).requires_grad_(true);
    let g = autograd::grad(&[k.hypot(&y).sum()], &[&y], GradOptions::new())[0]
        .clone()
        .unwrap();
    close(&g.to_vec::<f64>(), &[0.8, 1.0], 1e-15, "d/dy hypot");
}
