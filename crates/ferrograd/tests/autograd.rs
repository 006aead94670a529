//! Autograd semantics (PyTorch's), misuse errors with their messages, and state left intact
//! after every error. Expected values come from mathematics or from PyTorch.

use ferrograd::{autograd, no_grad, BackwardOptions, DType, Error, GradOptions, Tensor};

fn vals(t: &Tensor) -> Vec<f64> {
    t.to_vec::<f64>()
}

#[test]
fn gradients_accumulate_across_backward_calls_and_can_be_cleared() {
    let x = Tensor::new([1.0, 2.0]).requires_grad_(true);
    x.pow(2.0).sum().backward();
    x.pow(2.0).sum().backward();
    assert_eq!(vals(&x.grad().unwrap()), vec![4.0, 8.0]);
    x.zero_grad();
    assert_eq!(vals(&x.grad().unwrap()), vec![0.0, 0.0]);
    x.set_grad(None);
    assert!(x.grad().is_none());
    (3.0 * &x).sum().backward();
    assert_eq!(vals(&x.grad().unwrap()), vec![3.0, 3.0]);
}

#[test]
fn a_handle_to_grad_sees_in_place_accumulation_but_a_deep_clone_does_not() {
    let x = Tensor::new([1.0]).requires_grad_(true);
    (2.0 * &x).sum().backward();
    let handle = x.grad().unwrap();
    let copy = handle.deep_clone();
    (2.0 * &x).sum().backward();
    assert_eq!(vals(&handle), vec![4.0]);
    assert_eq!(vals(&copy), vec![2.0]);
}

#[test]
fn the_seed_gradient_is_copied_not_aliased_into_grad() {
    let x = Tensor::new([1.0, 2.0]).requires_grad_(true);
    let seed = Tensor::new([1.0, 1.0]);
    x.backward_with(&BackwardOptions::new().gradient(&seed))
        .unwrap(); // backward on a leaf: grad = seed
    assert_eq!(vals(&x.grad().unwrap()), vec![1.0, 1.0]);
    x.backward_with(&BackwardOptions::new().gradient(&seed))
        .unwrap();
    assert_eq!(
        vals(&seed),
        vec![1.0, 1.0],
        "accumulation must not write into the seed"
    );
    assert_eq!(vals(&x.grad().unwrap()), vec![2.0, 2.0]);
}

#[test]
fn retain_graph_allows_a_second_backward_and_its_absence_gives_pytorchs_error() {
    let x = Tensor::scalar(3.0).requires_grad_(true);
    let y = x.exp() * 2.0;
    y.backward_with(&BackwardOptions::new().retain_graph(true))
        .unwrap();
    y.backward();
    let e = y.backward_with(&BackwardOptions::new()).unwrap_err();
    assert_eq!(e, Error::BackwardTwice);
    assert!(e.to_string().starts_with(
        "Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed)."
    ));
    assert!(e.to_string().contains("Specify retain_graph=True"));
    // The failed call changed nothing.
    assert_eq!(x.grad().unwrap().item(), 4.0 * 3f32.exp() as f64);
}

#[test]
fn graphs_without_saved_tensors_can_be_backwarded_twice_like_pytorch() {
    let x = Tensor::scalar(1.0).requires_grad_(true);
    let y = &x + 1.0;
    y.backward();
    y.backward();
    assert_eq!(x.grad().unwrap().item(), 2.0);
}

#[test]
fn grad_does_not_touch_dot_grad_and_supports_non_leaf_inputs() {
    let w = Tensor::ones(&[1]).requires_grad_(true);
    let z = &Tensor::ones(&[1]).requires_grad_(true) * 2.0;
    let f = &w + &(&z * &z);
    let g = autograd::grad(&[&f], &[&w, &z], GradOptions::new());
    assert_eq!(g[0].as_ref().unwrap().item(), 1.0);
    assert_eq!(g[1].as_ref().unwrap().item(), 4.0);
    assert!(w.grad().is_none());
}

#[test]
fn grad_with_several_outputs_sums_their_contributions() {
    let x = Tensor::scalar(2.0).requires_grad_(true);
    let g = autograd::grad(&[x.pow(2.0), x.pow(3.0)], &[&x], GradOptions::new());
    assert_eq!(g[0].as_ref().unwrap().item(), 4.0 + 12.0);
}

#[test]
fn third_derivative_of_tanh_matches_the_closed_form() {
    // With t = tanh x: d/dx = 1 - t^2, d2 = -2t(1 - t^2), d3 = (1 - t^2)(6t^2 - 2).
    for &v in &[-2.0, -0.3, 0.0, 0.7, 1.9] {
        let x = Tensor::from_data(v, DType::F64).requires_grad_(true);
        let mut d = x.tanh();
        for _ in 0..3 {
            d = autograd::grad(&[&d], &[&x], GradOptions::new().create_graph(true))[0]
                .clone()
                .unwrap();
        }
        let t = f64::tanh(v);
        let expected = (1.0 - t * t) * (6.0 * t * t - 2.0);
        assert!(
            (d.item() - expected).abs() < 1e-12,
            "{v}: {} vs {expected}",
            d.item()
        );
    }
}

#[test]
fn create_graph_through_accumulate_keeps_dot_grad_differentiable() {
    let x = Tensor::scalar(3.0).requires_grad_(true);
    x.pow(3.0)
        .backward_with(&BackwardOptions::new().create_graph(true))
        .unwrap();
    let g = x.grad().unwrap();
    assert_eq!(g.item(), 27.0);
    assert!(g.requires_grad());
    let gg = autograd::grad(&[&g], &[&x], GradOptions::new())[0]
        .clone()
        .unwrap();
    assert_eq!(gg.item(), 18.0);
}

#[test]
fn retain_grad_keeps_a_non_leaf_gradient() {
    let x = Tensor::new([1.0, 2.0]).requires_grad_(true);
    let y = &x * 3.0;
    assert!(y.grad().is_none());
    y.retain_grad();
    assert!(y.retains_grad());
    (&y * &y).sum().backward();
    assert_eq!(vals(&y.grad().unwrap()), vec![6.0, 12.0]);
    assert_eq!(vals(&x.grad().unwrap()), vec![18.0, 36.0]);
}

#[test]
fn no_grad_enable_grad_and_detach() {
    let x = Tensor::new([0.1, -0.2, 0.3]).requires_grad_(true);
    {
        let _g = no_grad();
        assert!(!(&x * 2.0).requires_grad());
        let _e = ferrograd::enable_grad();
        assert!((&x * 2.0).requires_grad());
    }
    assert!(ferrograd::is_grad_enabled());
    let d = x.detach();
    assert!(!d.requires_grad() && d.is_leaf() && d.shares_storage(&x));
    // Grad mode is per thread.
    let _g = no_grad();
    let other = std::thread::spawn(ferrograd::is_grad_enabled)
        .join()
        .unwrap();
    assert!(other);
}

#[test]
fn grad_fn_names_and_next_functions_follow_pytorch() {
    let x = Tensor::ones(&[2, 2]).requires_grad_(true);
    let c = Tensor::ones(&[2, 2]);
    let cases: Vec<(Tensor, &str)> = vec![
        (&x + 2.0, "AddBackward0"),
        (&x + &c, "AddBackward0"),
        (&x - &c, "SubBackward0"),
        (&x * 3.0, "MulBackward0"),
        (&x / &c, "DivBackward0"),
        (x.pow(2.0), "PowBackward0"),
        (x.exp(), "ExpBackward0"),
        (x.sin(), "SinBackward0"),
        (x.cos(), "CosBackward0"),
        (x.tanh(), "TanhBackward0"),
        (x.sum(), "SumBackward0"),
        (x.sum_dims(&[0], false), "SumBackward1"),
        (x.mean(), "MeanBackward0"),
        (x.mean_dims(&[1], true), "MeanBackward1"),
        (x.mm(&x), "MmBackward0"),
        (x.matmul(&x), "MmBackward0"),
        (x.select(0, 0).dot(&x.select(0, 1)), "DotBackward0"),
        (x.norm(), "LinalgVectorNormBackward0"),
        (x.i(&[0, 0]), "SelectBackward0"),
        (x.t(), "TBackward0"),
        (x.transpose(0, 1), "TransposeBackward0"),
        (x.reshape(&[4]), "ViewBackward0"),
        (x.unsqueeze(0), "UnsqueezeBackward0"),
        (-&x, "NegBackward0"),
        (x.deep_clone(), "CloneBackward0"),
        (x.to_dtype(DType::F64), "ToCopyBackward0"),
        (x.sqrt(), "SqrtBackward0"),
    ];
    for (t, name) in cases {
        assert_eq!(t.grad_fn().unwrap().name(), name);
    }
    let y = &(&x * &c) + 1.0;
    let add = y.grad_fn().unwrap();
    let next = add.next_functions();
    assert_eq!(next.len(), 1);
    let mul = next[0].clone().unwrap();
    assert_eq!(mul.name(), "MulBackward0");
    let inputs = mul.next_functions();
    assert_eq!(inputs[0].as_ref().unwrap().name(), "AccumulateGrad");
    assert!(inputs[0].as_ref().unwrap().variable().unwrap().is_same(&x));
    assert!(inputs[1].is_none(), "c does not require grad");
    assert!(x.grad_fn().is_none());
}

#[test]
fn broadcast_gradients_are_summed_to_each_input_shape() {
    let a = Tensor::new([[1.0], [2.0], [3.0]]).requires_grad_(true); // (3, 1)
    let b = Tensor::new([10.0, 20.0, 30.0, 40.0]).requires_grad_(true); // (4,)
    let s = Tensor::scalar(2.0).requires_grad_(true); // ()
    (&(&a * &b) * &s).sum().backward();
    assert_eq!(vals(&a.grad().unwrap()), vec![200.0; 3]);
    assert_eq!(a.grad().unwrap().shape(), &[3, 1]);
    assert_eq!(vals(&b.grad().unwrap()), vec![12.0; 4]);
    assert_eq!(s.grad().unwrap().shape(), &[] as &[usize]);
    assert_eq!(s.grad().unwrap().item(), 6.0 * 100.0);
}

#[test]
fn gradients_are_cast_to_the_input_dtype() {
    let x = Tensor::new([1.0, 2.0]).requires_grad_(true); // f32
    let y = Tensor::from_data([3.0, 4.0], DType::F64).requires_grad_(true);
    let z = &x * &y; // f64
    assert_eq!(z.dtype(), DType::F64);
    z.backward_with(&BackwardOptions::new().gradient(Tensor::new([1.0, 1.0])))
        .unwrap();
    assert_eq!(x.grad().unwrap().dtype(), DType::F32);
    assert_eq!(y.grad().unwrap().dtype(), DType::F64);
    assert_eq!(vals(&x.grad().unwrap()), vec![3.0, 4.0]);
}

#[test]
fn zero_dimensional_operands_do_not_widen_dimensioned_ones() {
    let x = Tensor::new([1.0, 2.0]);
    let s = Tensor::from_data(2.0, DType::F64);
    assert_eq!((&x * &s).dtype(), DType::F32);
    assert_eq!((&s * &s).dtype(), DType::F64);
}

#[test]
fn empty_tensors_flow_through_forward_and_backward() {
    let x = Tensor::zeros(&[0, 3]).requires_grad_(true);
    let y = (&x * 2.0).sum();
    assert_eq!(y.item(), 0.0);
    y.backward();
    assert_eq!(x.grad().unwrap().shape(), &[0, 3]);
    assert_eq!(x.to_string(), "tensor([], size=(0, 3), requires_grad=True)");
}

#[test]
fn tensors_are_send_and_sync_and_graphs_cross_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Tensor>();
    assert_send_sync::<ferrograd::GradFn>();
    let x = Tensor::new([1.0, 2.0]).requires_grad_(true);
    let y = x.pow(2.0).sum();
    std::thread::spawn(move || y.backward()).join().unwrap();
    assert_eq!(vals(&x.grad().unwrap()), vec![2.0, 4.0]);
}

// ------------------------------------------------------------------ misuse and its messages

#[test]
fn non_scalar_backward_without_gradient() {
    let x = Tensor::new([1.0, 2.0]).requires_grad_(true);
    let y = &x * 2.0;
    let e = y.backward_with(&BackwardOptions::new()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "grad can be implicitly created only for scalar outputs"
    );
    let e = autograd::try_grad(&[&y], &[&x], GradOptions::new()).unwrap_err();
    assert_eq!(e, Error::ImplicitGradNonScalar);
    assert!(x.grad().is_none());
    y.sum().backward(); // the graph is intact
    assert_eq!(vals(&x.grad().unwrap()), vec![2.0, 2.0]);
}

#[test]
fn backward_of_a_tensor_that_does_not_require_grad() {
    let x = Tensor::new([1.0, 2.0]);
    let e = x.sum().backward_with(&BackwardOptions::new()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "element 0 of tensors does not require grad and does not have a grad_fn"
    );
    let a = Tensor::scalar(1.0).requires_grad_(true);
    let e = autograd::try_grad(&[a.exp(), x.sum()], &[&a], GradOptions::new()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "element 1 of tensors does not require grad and does not have a grad_fn"
    );
}

#[test]
fn grad_inputs_that_do_not_require_grad_or_are_unused() {
    let x = Tensor::scalar(1.0).requires_grad_(true);
    let c = Tensor::scalar(1.0);
    let u = Tensor::scalar(1.0).requires_grad_(true);
    let y = x.exp();
    let e = autograd::try_grad(&[&y], &[&c], GradOptions::new()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "One of the differentiated Tensors does not require grad"
    );
    let e = autograd::try_grad(&[&y], &[&u], GradOptions::new()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "The differentiated Tensor at index 0 appears to not have been used in the graph. Set allow_unused=True if this is the desired behavior."
    );
    // Errors are raised before anything runs: the graph's saved tensors are still there.
    let g = autograd::grad(&[&y], &[&x, &u], GradOptions::new().allow_unused(true));
    assert_eq!(g[0].as_ref().unwrap().item(), 1f32.exp() as f64);
    assert!(g[1].is_none());
}

#[test]
fn gradient_shape_mismatch() {
    let x = Tensor::arange(3.0).requires_grad_(true);
    let y = &x * 2.0;
    let e = y
        .backward_with(&BackwardOptions::new().gradient(Tensor::ones(&[2])))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Mismatch in shape: grad_output[0] has a shape of [2] and output[0] has a shape of [3]."
    );
    assert!(x.grad().is_none());
}

#[test]
fn requires_grad_on_non_float_and_non_leaf_tensors() {
    let b = Tensor::new([true, false]);
    let e = b.try_requires_grad_(true).unwrap_err();
    assert_eq!(
        e.to_string(),
        "only Tensors of floating point and complex dtype can require gradients"
    );
    assert!(!b.requires_grad());
    let x = Tensor::scalar(1.0).requires_grad_(true);
    let y = &x * 2.0;
    let e = y.try_requires_grad_(false).unwrap_err();
    assert!(e
        .to_string()
        .starts_with("you can only change requires_grad flags of leaf variables."));
    assert!(y.requires_grad());
    y.requires_grad_(true); // a no-op, as in PyTorch
}

#[test]
fn shape_errors_name_the_operation_and_the_shapes() {
    let a = Tensor::zeros(&[2, 3]);
    let b = Tensor::zeros(&[4, 3]);
    let e = a.try_add(&b).unwrap_err();
    assert_eq!(
        e.to_string(),
        "add: The size of tensor a (2) must match the size of tensor b (4) at non-singleton dimension 0 (shapes [2, 3] and [4, 3])"
    );
    let e = a.try_mm(&b).unwrap_err();
    assert_eq!(
        e.to_string(),
        "mm: mat1 and mat2 shapes cannot be multiplied (2x3 and 4x3)"
    );
    let e = a.try_i(&[2]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "select(): index 2 out of range for tensor of size [2, 3] at dimension 0"
    );
    let e = a.try_item().unwrap_err();
    assert_eq!(
        e.to_string(),
        "item: a Tensor with 6 elements cannot be converted to Scalar"
    );
    let e = a.try_sum_dims(&[2], false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "sum: Dimension out of range (expected to be in range of [-2, 1], but got 2)"
    );
    let e = Tensor::zeros(&[3])
        .try_dot(&Tensor::zeros(&[3]).to_dtype(DType::F64))
        .unwrap_err();
    assert!(e
        .to_string()
        .starts_with("dot: expected both operands to have the same floating dtype"));
}

#[test]
fn nll_loss_refuses_a_non_floating_input() {
    // Found by the CLI's fuzzer: `nll_loss(eq(x, x), y)` panicked inside a bool product.
    let bools = Tensor::zeros(&[2, 3]).eq(&Tensor::zeros(&[2, 3]));
    let target = Tensor::new([0, 2]);
    let e = ferrograd::nn::try_nll_loss(&bools, &target, Default::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "nll_loss: expected floating log-probabilities, got a torch.bool input of shape [2, 3]"
    );
}

#[test]
#[should_panic(expected = "add: The size of tensor a (2) must match the size of tensor b (3)")]
fn operators_panic_with_the_same_message() {
    let _ = &Tensor::zeros(&[2]) + &Tensor::zeros(&[3]);
}

#[test]
fn weight_gradients_of_x_matmul_w_t_arrive_contiguous() {
    // The backward forms each gradient in its input's memory order, so the weight of a linear
    // layer gets a contiguous gradient without a transposed copy.
    use ferrograd::DType;
    let x = Tensor::from_data([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], DType::F64);
    let w = Tensor::from_data([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], DType::F64).requires_grad_(true);
    let xr = x.requires_grad_(true);
    xr.matmul(&w.t()).sum().backward();
    let g = w.grad().unwrap();
    assert!(g.is_contiguous());
    // d sum(x w^T) / d w[o][i] = sum over the batch of x[b][i].
    assert_eq!(g.to_vec::<f64>(), vec![5.0, 7.0, 9.0, 5.0, 7.0, 9.0]);
    // d / d x[b][i] = sum over outputs of w[o][i].
    let gx = xr.grad().unwrap().to_vec::<f64>();
    let expected = [0.5, 0.7, 0.9, 0.5, 0.7, 0.9];
    assert!(gx.iter().zip(expected).all(|(a, e)| (a - e).abs() < 1e-15));
}

/// sin's and cos's backward run as one fused node (`g * cos(x)`, `g * -sin(x)`) for small or
/// `f64` inputs: the gradient has the unfused form's bits (`g * x.cos()`, `g * x.sin().neg()`),
/// in `f64` and `f32`, special values included (NaN where it gives NaN); large contiguous `f32` inputs (the bulk kernels'
/// case) give the unfused form's bits too.
#[test]
fn sin_and_cos_gradients_have_the_unfused_forms_bits() {
    let xs = [
        0.5,
        -0.0,
        0.0,
        1e-300,
        -2.5,
        3.0e5,
        1e22,
        f64::NAN,
        f64::INFINITY,
        -f64::INFINITY,
        std::f64::consts::PI,
        7.0,
    ];
    let gs = [1.0, -0.75, 3.0e-7, f64::NAN, -0.0, 1e300];
    // Bits, with every NaN as one value: Rust leaves a NaN result's sign and payload
    // unspecified (LLVM may swap a product's operands), so only NaN-ness is compared.
    let bits = |t: &Tensor| -> Vec<u64> {
        let v: Vec<(bool, u64)> = match t.dtype() {
            DType::F32 => t
                .to_vec::<f32>()
                .iter()
                .map(|v| (v.is_nan(), v.to_bits() as u64))
                .collect(),
            _ => t
                .to_vec::<f64>()
                .iter()
                .map(|v| (v.is_nan(), v.to_bits()))
                .collect(),
        };
        v.into_iter()
            .map(|(nan, b)| if nan { u64::MAX } else { b })
            .collect()
    };
    for dtype in [DType::F64, DType::F32] {
        for cos in [false, true] {
            // Scalars, each (x, g) pair; then one large f32 vector (bulk) and a small one.
            let mut cases: Vec<(Tensor, Tensor)> = Vec::new();
            for &x in &xs {
                for &g in &gs {
                    cases.push((
                        Tensor::from_data([x], DType::F64)
                            .reshape(&[])
                            .to_dtype(dtype),
                        Tensor::from_data([g], DType::F64)
                            .reshape(&[])
                            .to_dtype(dtype),
                    ));
                }
            }
            for n in [5, 200] {
                let x: Vec<f64> = (0..n).map(|i| xs[i % xs.len()] + i as f64 * 0.37).collect();
                let g: Vec<f64> = (0..n).map(|i| gs[i % gs.len()] * 1.5).collect();
                cases.push((
                    Tensor::from_data(x, DType::F64).to_dtype(dtype),
                    Tensor::from_data(g, DType::F64).to_dtype(dtype),
                ));
            }
            for (x, g) in cases {
                let x = x.requires_grad_(true);
                let y = if cos { x.cos() } else { x.sin() };
                y.backward_with(&BackwardOptions::new().gradient(&g))
                    .unwrap();
                let expected = no_grad_unfused(&x, &g, cos);
                assert_eq!(
                    bits(&x.grad().unwrap()),
                    bits(&expected),
                    "{dtype:?} cos={cos} x={:?} g={:?}",
                    x.to_vec::<f64>(),
                    g.to_vec::<f64>()
                );
            }
        }
    }
}

fn no_grad_unfused(x: &Tensor, g: &Tensor, cos: bool) -> Tensor {
    let _g = no_grad();
    let x = x.detach();
    if cos {
        g * &x.sin().neg()
    } else {
        g * &x.cos()
    }
}

/// A second derivative of sin goes through the fused backward node.
#[test]
fn sin_and_cos_second_derivatives_run_through_the_fused_backward_nodes() {
    for (cos, name) in [
        (false, "SinBackwardBackward0"),
        (true, "CosBackwardBackward0"),
    ] {
        let x = Tensor::from_data([0.3], DType::F64)
            .reshape(&[])
            .requires_grad_(true);
        let y = if cos { x.cos() } else { x.sin() };
        let d = autograd::grad(&[y], &[&x], GradOptions::new().create_graph(true))[0]
            .clone()
            .unwrap();
        assert_eq!(d.grad_fn().unwrap().name(), name);
        let d2 = autograd::grad(&[d], &[&x], GradOptions::new())[0]
            .clone()
            .unwrap();
        let expected = if cos { -0.3f64.cos() } else { -0.3f64.sin() };
        assert!((d2.item() - expected).abs() < 1e-15, "{}", d2.item());
    }
}
