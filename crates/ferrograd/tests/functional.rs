//! The functional API against mathematics: Jacobians by rows and by columns agree, Hessians are
//! symmetric and equal the Jacobian of the gradient, jvp matches finite differences, nested
//! `grad` matches closed forms.

use ferrograd::functional::{self, Options, Strategy};
use ferrograd::{DType, Tensor};

fn f64s(v: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape)
}

fn close(a: &Tensor, b: &Tensor, tol: f64) -> bool {
    a.shape() == b.shape()
        && a.to_vec::<f64>()
            .iter()
            .zip(b.to_vec::<f64>())
            .all(|(x, y)| (x - y).abs() <= tol * (1.0 + y.abs()))
}

type F = fn(&[Tensor]) -> Tensor;

fn functions() -> Vec<(&'static str, F, Vec<Tensor>)> {
    vec![
        (
            "elementwise",
            |x| &x[0].sin() * &x[0].exp(),
            vec![f64s(&[0.1, -0.5, 1.2], &[3])],
        ),
        (
            "matmul",
            |x| x[0].matmul(&x[1]).tanh(),
            vec![
                f64s(&[0.1, 0.2, -0.3, 0.4, 0.5, -0.6], &[2, 3]),
                f64s(&[1.0, -1.0, 0.5, 0.25, 2.0, 0.0], &[3, 2]),
            ],
        ),
        (
            "softmax",
            |x| x[0].softmax(0),
            vec![f64s(&[1.0, 2.0, 0.5, -1.0], &[4])],
        ),
        (
            "reduction",
            |x| x[0].pow(2.0).sum_dims(&[1], false),
            vec![f64s(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])],
        ),
        (
            "two inputs",
            |x| &x[0].unsqueeze(1) * &x[1],
            vec![f64s(&[1.0, 2.0], &[2]), f64s(&[3.0, -4.0, 0.5], &[3])],
        ),
    ]
}

#[test]
fn jacobian_by_rows_equals_by_columns_and_finite_differences() {
    for (name, f, x) in functions() {
        let rows = functional::jacobian_many_with(f, &x, Options::default(), Strategy::Reverse);
        let cols = functional::jacobian_many_with(f, &x, Options::default(), Strategy::Forward);
        let auto = functional::jacobian_many(f, &x, Options::default());
        for i in 0..x.len() {
            assert!(
                close(&rows[i], &cols[i], 1e-12),
                "{name} input {i}: {} vs {}",
                rows[i],
                cols[i]
            );
            assert!(close(&rows[i], &auto[i], 1e-12), "{name}");
            // Column j by central differences.
            let out_shape = f(&x).shape().to_vec();
            let m: usize = out_shape.iter().product();
            let base = x[i].to_vec::<f64>();
            let jac = rows[i].reshape(&[m, base.len()]).to_vec::<f64>();
            for j in 0..base.len() {
                let eval = |d: f64| {
                    let mut xs = x.clone();
                    let mut v = base.clone();
                    v[j] += d;
                    xs[i] = Tensor::from_vec(v, x[i].shape());
                    f(&xs).to_vec::<f64>()
                };
                let (p, q) = (eval(1e-6), eval(-1e-6));
                for k in 0..m {
                    let num = (p[k] - q[k]) / 2e-6;
                    assert!(
                        (jac[k * base.len() + j] - num).abs() < 1e-6,
                        "{name} d{k}/d{j}"
                    );
                }
            }
        }
    }
}

#[test]
fn jvp_and_vjp_are_the_jacobian_applied_to_vectors() {
    for (name, f, x) in functions() {
        let jac = functional::jacobian_many(f, &x, Options::default());
        let out = f(&x);
        let m = out.numel();
        // vjp with v = ones: column sums of J.
        let (_, vj) = functional::vjp(f, &x, &out.ones_like(), Options::default());
        // jvp with v = ones for every input: row sums of J.
        let v: Vec<Tensor> = x.iter().map(|t| t.ones_like()).collect();
        let (_, jv) = functional::jvp(f, &x, &v, Options::default());
        let mut row_sums = vec![0.0; m];
        for (i, xi) in x.iter().enumerate() {
            let j = jac[i].reshape(&[m, xi.numel()]).to_vec::<f64>();
            let col: Vec<f64> = (0..xi.numel())
                .map(|c| (0..m).map(|r| j[r * xi.numel() + c]).sum())
                .collect();
            assert!(
                close(&vj[i], &Tensor::from_vec(col, xi.shape()), 1e-12),
                "{name} vjp {i}"
            );
            for r in 0..m {
                row_sums[r] += (0..xi.numel()).map(|c| j[r * xi.numel() + c]).sum::<f64>();
            }
        }
        assert!(
            close(&jv, &Tensor::from_vec(row_sums, out.shape()), 1e-12),
            "{name} jvp"
        );
    }
}

#[test]
fn hessians_are_symmetric_and_the_jacobian_of_the_gradient() {
    let f = |x: &[Tensor]| {
        (&x[0].pow(3.0).sum() * &x[1].sin().sum()) + (&x[0].unsqueeze(1) * &x[1]).exp().sum()
    };
    let x = vec![f64s(&[0.3, -0.2], &[2]), f64s(&[0.5, 1.0, -0.7], &[3])];
    let h = functional::hessian_many(f, &x, Options::default());
    for i in 0..2 {
        for j in 0..2 {
            let (ni, nj) = (x[i].numel(), x[j].numel());
            let a = h[i][j].reshape(&[ni, nj]);
            let b = h[j][i].reshape(&[nj, ni]).t();
            assert!(close(&a, &b, 1e-12), "H[{i}][{j}] vs H[{j}][{i}]^T");
        }
    }
    // Jacobian of the gradient w.r.t. input 0.
    for i in 0..2 {
        // The inputs the jacobian passes already require grad.
        let gi = move |xs: &[Tensor]| {
            let g = ferrograd::autograd::grad(
                &[f(xs)],
                xs,
                ferrograd::GradOptions::new().create_graph(true),
            );
            g[i].clone().unwrap()
        };
        let jg = functional::jacobian_many(gi, &x, Options::default());
        for j in 0..2 {
            assert!(
                close(&h[i][j], &jg[j], 1e-10),
                "H[{i}][{j}] vs jacobian of grad"
            );
        }
    }
    // hvp / vhp equal H v.
    let v = vec![f64s(&[1.0, -2.0], &[2]), f64s(&[0.5, 0.0, 1.0], &[3])];
    let (_, hv) = functional::hvp(f, &x, &v, Options::default());
    let h00 = h[0][0].reshape(&[2, 2]).mv(&v[0]);
    let h01 = h[0][1].reshape(&[2, 3]).mv(&v[1]);
    assert!(close(&hv[0], &(&h00 + &h01), 1e-12));
}

#[test]
fn nested_grad_gives_the_third_derivative_of_tanh() {
    let d3 = functional::grad(functional::grad(functional::grad(|x: &Tensor| x.tanh())));
    for v in [-2.0, -0.5, 0.0, 0.7, 1.5] {
        let t = f64::tanh(v);
        let expected = (1.0 - t * t) * (6.0 * t * t - 2.0);
        let got = d3(&Tensor::from_data(v, DType::F64)).item();
        assert!((got - expected).abs() < 1e-12, "{v}: {got} vs {expected}");
    }
    let (value, g) = functional::value_and_grad(|x: &Tensor| x.exp().sum())(&Tensor::from_data(
        [0.0, 1.0],
        DType::F64,
    ));
    assert_eq!(value.item(), 1.0 + 1f64.exp());
    assert_eq!(g.to_vec::<f64>(), vec![1.0, 1f64.exp()]);
    assert!(
        !g.requires_grad(),
        "results are detached when the input did not require grad"
    );
}

#[test]
fn create_graph_keeps_results_differentiable_and_strict_mode_reports_independence() {
    let x = Tensor::from_data([1.0, 2.0], DType::F64).requires_grad_(true);
    let (_, g) = functional::vjp(
        |x| x[0].pow(3.0),
        std::slice::from_ref(&x),
        &x.ones_like(),
        Options {
            create_graph: true,
            ..Default::default()
        },
    );
    assert!(g[0].requires_grad());
    let gg = ferrograd::autograd::grad(&[g[0].sum()], &[&x], ferrograd::GradOptions::new());
    assert_eq!(gg[0].as_ref().unwrap().to_vec::<f64>(), vec![6.0, 12.0]);
    let strict = Options {
        strict: true,
        ..Default::default()
    };
    let e = functional::try_vjp(
        |x| &x[0] * 2.0,
        &[Tensor::new([1.0]), Tensor::new([1.0])],
        &Tensor::new([1.0]),
        strict,
    )
    .unwrap_err();
    assert!(e.to_string().contains("independent of input 1"), "{e}");
    let lenient = functional::vjp(
        |x| &x[0] * 2.0,
        &[Tensor::new([1.0]), Tensor::new([1.0])],
        &Tensor::new([1.0]),
        Options::default(),
    );
    assert_eq!(lenient.1[1].item(), 0.0);
}

#[test]
fn second_order_through_only_some_inputs_reads_the_right_saved_tensors() {
    // Regression: a backward that needs fewer inputs than the forward saved for (the engine
    // prunes) must still read the saved tensors the forward stored.
    use ferrograd::{autograd, GradOptions};
    let x = f64s(&[0.1, -0.5, 1.2], &[3]).requires_grad_(true);
    let out = x.exp();
    let u = out.detach().zeros_like().requires_grad_(true);
    let g = autograd::grad(
        &[&out],
        &[&x],
        GradOptions::new()
            .grad_outputs([u.clone()])
            .create_graph(true),
    );
    let r = autograd::grad(
        &[g[0].as_ref().unwrap()],
        &[&u],
        GradOptions::new().grad_outputs([x.ones_like()]),
    );
    assert!(close(r[0].as_ref().unwrap(), &x.detach().exp(), 1e-15));
    let (a, b) = (
        f64s(&[1.0, 2.0], &[2]).requires_grad_(true),
        f64s(&[3.0, 4.0], &[2]).requires_grad_(true),
    );
    for (name, y) in [
        ("dot", a.dot(&b)),
        ("matmul", a.unsqueeze(0).matmul(&b.unsqueeze(1)).sum()),
        ("div", (&a / &b).sum()),
    ] {
        let v = y.detach().ones_like().requires_grad_(true);
        let g = autograd::grad(
            &[&y],
            &[&a],
            GradOptions::new()
                .grad_outputs([v.clone()])
                .create_graph(true),
        );
        let dv = autograd::grad(&[g[0].as_ref().unwrap().sum()], &[&v], GradOptions::new());
        let expected = if name == "div" {
            (1.0 / 3.0) + 0.25
        } else {
            7.0
        };
        assert!(
            (dv[0].as_ref().unwrap().item() - expected).abs() < 1e-12,
            "{name}"
        );
    }
}

/// Runs `g` inside a caller's dual level, where the functional API cannot open its own and
/// takes its one-product-at-a-time reverse path.
fn one_at_a_time<R>(g: impl FnOnce() -> R) -> R {
    let _level = ferrograd::forward_ad::dual_level();
    g()
}

#[test]
fn vectorized_jacobians_equal_one_product_at_a_time_and_stacked_products() {
    for (name, f, x) in functions() {
        let out = f(&x);
        let m = out.numel();
        for strategy in [Strategy::Reverse, Strategy::Forward] {
            let fast = functional::jacobian_many_with(f, &x, Options::default(), strategy);
            let slow = one_at_a_time(|| {
                functional::jacobian_many_with(f, &x, Options::default(), strategy)
            });
            for i in 0..x.len() {
                assert!(
                    close(&fast[i], &slow[i], 1e-12),
                    "{name} {strategy:?} input {i}"
                );
                // Row k is the vjp with the k-th one-hot cotangent.
                let n = x[i].numel();
                let rows = fast[i].reshape(&[m, n]);
                for k in 0..m {
                    let mut e = vec![0.0; m];
                    e[k] = 1.0;
                    let (_, vj) =
                        functional::vjp(f, &x, &f64s(&e, out.shape()), Options::default());
                    assert!(close(
                        &rows.select(0, k as isize),
                        &vj[i].reshape(&[n]),
                        1e-12
                    ));
                }
                // Column c is the jvp with the c-th one-hot tangent of input i.
                for c in 0..n {
                    let v: Vec<Tensor> = x
                        .iter()
                        .enumerate()
                        .map(|(q, t)| {
                            let mut e = vec![0.0; t.numel()];
                            if q == i {
                                e[c] = 1.0;
                            }
                            f64s(&e, t.shape())
                        })
                        .collect();
                    let (_, jv) = functional::jvp(f, &x, &v, Options::default());
                    assert!(close(&rows.select(1, c as isize), &jv.reshape(&[m]), 1e-12));
                }
            }
        }
    }
}

#[test]
fn forward_mode_jvp_matches_the_double_backward_trick() {
    for (name, f, x) in functions() {
        let v: Vec<Tensor> = x.iter().map(|t| t.sin().add_scalar(0.3)).collect();
        let (y1, fast) = functional::jvp(f, &x, &v, Options::default());
        let (y2, slow) = one_at_a_time(|| functional::jvp(f, &x, &v, Options::default()));
        assert!(close(&y1, &y2, 0.0) && close(&fast, &slow, 1e-12), "{name}");
        assert!(!fast.requires_grad() && !y1.requires_grad(), "{name}");
    }
}

#[test]
fn vectorized_hessians_equal_reverse_over_reverse_and_keep_create_graph() {
    let f = |x: &[Tensor]| {
        (&x[0].pow(3.0).sum() * &x[1].sin().sum()) + (&x[0].unsqueeze(1) * &x[1]).exp().sum()
    };
    let x = vec![f64s(&[0.3, -0.2], &[2]), f64s(&[0.5, 1.0, -0.7], &[3])];
    let fast = functional::hessian_many(f, &x, Options::default());
    let slow = one_at_a_time(|| functional::hessian_many(f, &x, Options::default()));
    for i in 0..2 {
        for j in 0..2 {
            assert!(close(&fast[i][j], &slow[i][j], 1e-12), "H[{i}][{j}]");
        }
    }
    let v = vec![f64s(&[1.0, -2.0], &[2]), f64s(&[0.5, 0.0, 1.0], &[3])];
    let (_, hv) = functional::hvp(f, &x, &v, Options::default());
    let (_, vh) = functional::vhp(f, &x, &v, Options::default());
    for i in 0..2 {
        assert!(close(&hv[i], &vh[i], 1e-12), "hvp vs vhp {i}");
    }
    // d/dx of the Hessian of sum(x^4) is 24 x on the diagonal: create_graph keeps it.
    let x = f64s(&[0.5, -1.0], &[2]).requires_grad_(true);
    let cg = Options {
        create_graph: true,
        ..Default::default()
    };
    let h = functional::hessian_many(|x| x[0].pow(4.0).sum(), std::slice::from_ref(&x), cg);
    assert!(close(
        &h[0][0],
        &f64s(&[3.0, 0.0, 0.0, 12.0], &[2, 2]),
        1e-12
    ));
    h[0][0].sum().backward();
    assert!(close(
        &x.grad().unwrap(),
        &f64s(&[12.0, -24.0], &[2]),
        1e-12
    ));
    // The Jacobian by columns too.
    let y = f64s(&[0.5, -1.0], &[2]).requires_grad_(true);
    let j = functional::jacobian_many_with(
        |x| x[0].pow(3.0),
        std::slice::from_ref(&y),
        cg,
        Strategy::Forward,
    );
    j[0].sum().backward();
    assert!(close(&y.grad().unwrap(), &f64s(&[3.0, -6.0], &[2]), 1e-12));
}

#[test]
fn one_tensor_jacobian_and_hessian_of_a_0d_input_are_0d() {
    // f = sin: J = cos x, H = -sin x, both of shape [] ++ [] = [].
    let x = Tensor::from_data(0.5, DType::F64);
    let j = functional::jacobian(|x| x.sin(), &x);
    let h = functional::hessian(|x| x.sin(), &x);
    assert_eq!((j.shape(), h.shape()), (&[][..], &[][..]));
    assert!((j.item() - 0.5f64.cos()).abs() < 1e-15);
    assert!((h.item() + 0.5f64.sin()).abs() < 1e-15);
}

#[test]
fn one_tensor_jacobian_of_a_vector_valued_f_has_shape_out_then_in() {
    // f(x) = exp(x) * sum(x): J_ij = exp(x_i) (delta_ij sum(x) + 1), shape [3] ++ [3].
    let xv = [0.1, -0.5, 1.2];
    let x = f64s(&xv, &[3]);
    let j = functional::jacobian(|x| &x.exp() * &x.sum(), &x);
    let s: f64 = xv.iter().sum();
    let mut want = vec![0.0; 9];
    for i in 0..3 {
        for k in 0..3 {
            want[i * 3 + k] = xv[i].exp() * (if i == k { s } else { 0.0 } + 1.0);
        }
    }
    assert!(close(&j, &f64s(&want, &[3, 3]), 1e-14), "{j}");
    // A 2-d input and a 1-d output: row sums of x^2 have J[i, k, l] = 2 x[k, l] delta_ik.
    let xv = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let x = f64s(&xv, &[2, 3]);
    let j = functional::jacobian(|x| x.pow(2.0).sum_dims(&[1], false), &x);
    let mut want = vec![0.0; 12];
    for i in 0..2 {
        for l in 0..3 {
            want[i * 6 + i * 3 + l] = 2.0 * xv[i * 3 + l];
        }
    }
    assert!(close(&j, &f64s(&want, &[2, 2, 3]), 1e-14), "{j}");
}

#[test]
fn one_tensor_hessian_of_a_2d_input_has_shape_in_then_in() {
    // f(X) = sum(X^3) + sum(X)^2: H[(i,j),(k,l)] = 6 X_ij delta + 2, shape [2, 3] ++ [2, 3].
    let xv = [0.5, -1.0, 2.0, 0.0, 1.5, -0.25];
    let x = f64s(&xv, &[2, 3]);
    let h = functional::hessian(|x| &x.pow(3.0).sum() + &x.sum().pow(2.0), &x);
    let mut want = vec![2.0; 36];
    for (p, v) in xv.iter().enumerate() {
        want[p * 6 + p] += 6.0 * v;
    }
    assert!(close(&h, &f64s(&want, &[2, 3, 2, 3]), 1e-13), "{h}");
    // A vector-valued f has no Hessian: PyTorch's message.
    let e = functional::try_hessian(|x| x.exp(), &x).unwrap_err();
    assert!(e
        .to_string()
        .contains("should return a single element Tensor, got shape [2, 3]"));
}
