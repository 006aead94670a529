//! softmax and log_softmax run as one kernel (forward, and the backward rule when nothing is
//! recorded). Issue 17's rule for fused paths: each is checked against the unfused
//! operations it replaces (`x - amax(x)`, `exp`, `sum_dims`, `log`; the rule's `g - exp(y) *
//! sum(g)` and `y * (g - sum(g * y))`), to the bit in f32 and f64, over a last and an inner
//! dimension, sizes on both sides of the vectorised exp's threshold, non-contiguous inputs,
//! empty and one-element slices, and infinities and NaN; and against the mathematics
//! (plain f64 arithmetic) to 1e-12.

use ferrograd::autograd::grad;
use ferrograd::{DType, GradOptions, Tensor};

/// Bits of the elements, row-major (so NaN compares equal to NaN).
fn bits(t: &Tensor) -> Vec<u64> {
    let t = t.to_dtype(DType::F64).contiguous();
    t.to_vec::<f64>().iter().map(|v| v.to_bits()).collect()
}

/// The composite forward: the operations the kernel replaces, op by op.
fn composite(x: &Tensor, d: isize, log: bool) -> Tensor {
    let _g = ferrograd::no_grad();
    // (An empty tensor is not shifted: it has no maximum.)
    let z = match x.numel() {
        0 => x.clone(),
        _ => x - &x.amax(&[d], true),
    };
    let e = z.exp();
    let s = e.sum_dims(&[d], true);
    if log {
        &z - &s.log()
    } else {
        &e / &s
    }
}

/// The composite backward rule (PyTorch's formulas, op by op).
fn composite_backward(y: &Tensor, g: &Tensor, d: isize, log: bool) -> Tensor {
    let _g = ferrograd::no_grad();
    if log {
        g - &(&y.exp() * &g.sum_dims(&[d], true))
    } else {
        y * &(g - &(g * y).sum_dims(&[d], true))
    }
}

/// Inputs: shapes with the reduced dim last and inside, sizes below and above 64 elements
/// (the vectorised exp) and above the deferred-evaluation threshold, a transposed view, and
/// special values.
fn inputs(dtype: DType) -> Vec<(Tensor, isize)> {
    ferrograd::manual_seed(7);
    let r = |s: &[usize]| (&Tensor::randn_with(s, dtype) * 3.0).to_dtype(dtype);
    let mut special = r(&[4, 5]).to_vec::<f64>();
    special[0] = f64::NEG_INFINITY; // one -inf: its probability is 0
    special[5..10].fill(f64::NEG_INFINITY); // a row of -inf only: NaN (PyTorch)
    special[11] = f64::INFINITY; // +inf: NaN row
    special[17] = f64::NAN;
    let special = Tensor::from_vec(special, &[4, 5]).to_dtype(dtype);
    vec![
        (r(&[32, 10]), 1),
        (r(&[32, 10]), 0),
        (r(&[3, 1000]), -1),
        (r(&[300, 70]), 1),
        (r(&[2, 3, 4]), 1),
        (r(&[2, 3, 4]), 0),
        (r(&[2, 3, 4]), 2),
        (r(&[7]), 0),
        (r(&[5, 1]), 1),
        (r(&[0, 5]), 1),
        (r(&[5, 0]), 1),
        (r(&[9, 20]).transpose(0, 1), 1),
        (r(&[9, 20]).transpose(0, 1), 0),
        (r(&[6, 40]).slice(1, 1, 40, 3), 1),
        (special.clone(), 1),
        (special, 0),
    ]
}

#[test]
fn forward_matches_the_composite_to_the_bit() {
    for dtype in [DType::F32, DType::F64] {
        for (x, d) in inputs(dtype) {
            for log in [false, true] {
                let got = if log { x.log_softmax(d) } else { x.softmax(d) };
                assert_eq!(got.shape(), x.shape());
                assert_eq!(got.dtype(), dtype);
                let want = composite(&x, d, log);
                assert_eq!(
                    bits(&got),
                    bits(&want),
                    "log={log} {dtype:?} shape {:?} dim {d}",
                    x.shape()
                );
            }
        }
    }
}

#[test]
fn forward_matches_the_mathematics() {
    // f64, rows along the last dim: p_i = exp(x_i - m) / sum_j exp(x_j - m).
    let (rows, len) = (6, 13);
    let xs: Vec<f64> = (0..rows * len)
        .map(|i| ((i * 37 % 101) as f64 - 50.0) / 7.0)
        .collect();
    let x = Tensor::from_vec(xs.clone(), &[rows, len]).to_dtype(DType::F64);
    let (p, lp) = (
        x.softmax(1).to_vec::<f64>(),
        x.log_softmax(1).to_vec::<f64>(),
    );
    for r in 0..rows {
        let row = &xs[r * len..(r + 1) * len];
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = row.iter().map(|v| (v - m).exp()).sum();
        for (k, &v) in row.iter().enumerate() {
            let i = r * len + k;
            assert!((p[i] - (v - m).exp() / s).abs() < 1e-12, "softmax {i}");
            assert!((lp[i] - (v - m - s.ln())).abs() < 1e-12, "log_softmax {i}");
        }
    }
}

#[test]
fn backward_matches_the_composite_rule_to_the_bit() {
    for dtype in [DType::F32, DType::F64] {
        for (x, d) in inputs(dtype) {
            for log in [false, true] {
                let x = x.detach().requires_grad_(true);
                let y = if log { x.log_softmax(d) } else { x.softmax(d) };
                ferrograd::manual_seed(3);
                let g = Tensor::randn_with(x.shape(), dtype);
                let got = grad(
                    &[&y],
                    &[&x],
                    GradOptions {
                        grad_outputs: Some(vec![Some(g.clone())]),
                        ..GradOptions::new()
                    },
                );
                let got = got[0].clone().expect("a gradient");
                let want = composite_backward(&y.detach(), &g, d, log);
                assert_eq!(
                    bits(&got),
                    bits(&want),
                    "log={log} {dtype:?} shape {:?} dim {d}",
                    x.shape()
                );
            }
        }
    }
}

#[test]
fn backward_with_create_graph_still_records_the_rule() {
    // Under create_graph the rule runs as tensor ops: the gradient has a graph, and its own
    // gradient is the Hessian-vector product of the mathematics. For log_softmax along a
    // row, d/dx_j of sum_i g_i * dlogp_i/dx... checked here through a symmetric identity:
    // the second derivative of sum(log_softmax(x) * c) is -(diag(p) - p p^T) c summed.
    let x = Tensor::from_vec(vec![0.3, -1.2, 2.0, 0.5], &[4])
        .to_dtype(DType::F64)
        .requires_grad_(true);
    let c = Tensor::from_vec(vec![1.0, 0.0, 0.0, 0.0], &[4]).to_dtype(DType::F64);
    let f = (&x.log_softmax(0) * &c).sum();
    let g = grad(
        &[&f],
        &[&x],
        GradOptions {
            create_graph: true,
            ..GradOptions::new()
        },
    )[0]
    .clone()
    .unwrap();
    assert!(
        g.requires_grad(),
        "create_graph keeps the rule in the graph"
    );
    // d f / d x_j = c_j - p_j * sum(c) = [1,0,0,0]_j - p_j; its gradient wrt x of
    // sum_j (d f/d x_j) is -sum_j dp_j/dx_k = 0 (the probabilities sum to 1).
    let keep = GradOptions {
        retain_graph: Some(true),
        ..GradOptions::new()
    };
    let h = grad(&[&g.sum()], &[&x], keep)[0].clone().unwrap();
    for v in h.to_vec::<f64>() {
        assert!(v.abs() < 1e-12, "{v}");
    }
    // And the gradient of g_0 = 1 - p_0 is -p_0 (e_0 - p).
    let p = x.detach().softmax(0).to_vec::<f64>();
    let h0 = grad(&[&g.slice(0, 0, 1, 1).sum()], &[&x], GradOptions::new())[0]
        .clone()
        .unwrap()
        .to_vec::<f64>();
    for k in 0..4 {
        let e = if k == 0 { 1.0 } else { 0.0 };
        assert!((h0[k] + p[0] * (e - p[k])).abs() < 1e-12, "k={k}");
    }
}
