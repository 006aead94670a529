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
    // clamp passes the gradient at its bounds; hardtanh does not.
    pin(
        &[-1.0, 1.0],
        |x| x.clamp(Some(-1.0), Some(1.0)),
        &[-1.0, 1.0],
        &[1.0, 1.0],
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
