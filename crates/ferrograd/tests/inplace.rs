//! In-place ops: version counters, PyTorch's errors, SGD steps under no_grad, views.

use ferrograd::{no_grad, BackwardOptions, Error, Tensor};

#[test]
fn sgd_steps_under_no_grad_minimize_a_quadratic() {
    // Minimize sum((w - 3)^2) from w = 0 with lr 0.1: w_k = 3 (1 - 0.8^k).
    let w = Tensor::new([0.0, 0.0]).requires_grad_(true);
    for _ in 0..10 {
        let loss = (&w - 3.0).pow(2.0).sum();
        loss.backward();
        {
            let _g = no_grad();
            w.sub_(&w.grad().unwrap().mul_scalar(0.1));
        }
        w.zero_grad();
    }
    let expected = 3.0 * (1.0 - 0.8f64.powi(10));
    for v in w.to_vec::<f64>() {
        assert!((v - expected).abs() < 1e-5, "{v} vs {expected}");
    }
    assert!(w.is_leaf() && w.requires_grad());
}

#[test]
fn modifying_a_saved_tensor_makes_backward_fail_with_pytorchs_message() {
    let x = Tensor::new([1.0, 2.0, 3.0]).requires_grad_(true);
    let y = x.exp(); // saves its output
    let z = y.sum();
    {
        let _g = no_grad();
        y.mul_scalar_(2.0);
    }
    let e = z.backward_with(&BackwardOptions::new()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "one of the variables needed for gradient computation has been modified by an inplace operation: [torch.FloatTensor [3]], which is output 0 of ExpBackward0, is at version 1; expected version 0 instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, with ferrograd::set_detect_anomaly(true)."
    );
    assert!(x.grad().is_none(), "nothing was accumulated");

    // A saved leaf input: no "output 0 of" part.
    let a = Tensor::new([1.0, 2.0]);
    let b = Tensor::new([3.0, 4.0]).requires_grad_(true);
    let c = (&a * &b).sum(); // saves a for b's gradient
    a.add_scalar_(1.0);
    let e = c.backward_with(&BackwardOptions::new()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::ModifiedByInplace {
                version: 1,
                expected: 0,
                ..
            }
        ),
        "{e}"
    );
    assert!(e
        .to_string()
        .contains("[torch.FloatTensor [2]] is at version 1"));
}

#[test]
fn modifying_a_tensor_nobody_saved_is_fine() {
    let x = Tensor::new([1.0, 2.0]).requires_grad_(true);
    let y = &x + 1.0; // AddBackward saves nothing
    let z = y.sum();
    {
        let _g = no_grad();
        y.mul_scalar_(10.0);
    }
    z.backward();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![1.0, 1.0]);
}

#[test]
fn leaves_that_require_grad_refuse_in_place_ops_outside_no_grad() {
    let w = Tensor::new([1.0]).requires_grad_(true);
    for r in [
        w.try_add_(&Tensor::new([1.0])),
        w.try_mul_scalar_(2.0),
        w.try_zero_(),
        w.try_fill_(1.0),
        w.try_clamp_(None, Some(0.0)),
    ] {
        assert_eq!(r.unwrap_err(), Error::LeafInplace);
    }
    assert_eq!(w.to_vec::<f32>(), vec![1.0], "unchanged");
    // A non-leaf is rebased instead (see `in_place_ops_on_graph_tensors_rebase_their_history`).
    let y = &w * 2.0;
    y.try_add_scalar_(1.0).unwrap();
    assert_eq!(y.grad_fn().unwrap().name(), "AddBackward0");
}

#[test]
fn views_see_in_place_writes_and_share_the_version_counter() {
    let x = Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
    let row = x.select(0, 1);
    row.fill_(0.0);
    assert_eq!(x.to_vec::<f32>(), vec![1.0, 2.0, 0.0, 0.0]);
    let mut t = x.t();
    t += &Tensor::new([10.0, 20.0]);
    assert_eq!(x.to_vec::<f32>(), vec![11.0, 12.0, 20.0, 20.0]);
    let mut y = Tensor::new([1.0, 2.0]);
    y *= 3.0;
    y -= 1.0;
    y /= 2.0;
    assert_eq!(y.to_vec::<f32>(), vec![1.0, 2.5]);
    // A saved view of x: modifying x through another view is detected.
    let w = Tensor::new([1.0, 1.0]).requires_grad_(true);
    let col = x.select(1, 0);
    let loss = (&col * &w).sum();
    x.select(0, 0).fill_(5.0);
    assert!(matches!(
        loss.backward_with(&BackwardOptions::new()),
        Err(Error::ModifiedByInplace { .. })
    ));
}

#[test]
fn in_place_ops_check_shapes_and_dtypes() {
    let x = Tensor::zeros(&[2]);
    assert!(x.try_add_(&Tensor::zeros(&[3])).is_err());
    assert!(x.try_add_(&Tensor::zeros(&[2, 2])).is_err());
    let i = Tensor::new([1, 2]);
    assert!(i.try_add_(&Tensor::new([0.5, 0.5])).is_err());
    i.add_(&Tensor::new([1, 1]));
    assert_eq!(i.to_vec::<i64>(), vec![2, 3]);
    let f = Tensor::new([1.0, 2.0]);
    f.copy_(&Tensor::new([7, 8]));
    assert_eq!(f.to_vec::<f32>(), vec![7.0, 8.0]);
}

#[test]
fn zero_grad_works_after_a_create_graph_backward() {
    let x = Tensor::new([2.0]).requires_grad_(true);
    x.pow(3.0)
        .sum()
        .backward_with(&BackwardOptions::new().create_graph(true))
        .unwrap();
    assert!(x.grad().unwrap().requires_grad());
    x.zero_grad();
    let g = x.grad().unwrap();
    assert_eq!(g.to_vec::<f32>(), vec![0.0]);
    assert!(!g.requires_grad());
}

#[test]
fn in_place_ops_on_graph_tensors_rebase_their_history() {
    use ferrograd::DType;
    let f64s = |v: &[f64]| Tensor::from_data(v.to_vec(), DType::F64);
    // add_: y = 2x + 1, dy/dx = 2; the old node is the new one's input.
    let x = f64s(&[1.0, -2.0]).requires_grad_(true);
    let y = &x * 2.0;
    y.add_scalar_(1.0);
    assert!(!y.is_leaf());
    let g = y.grad_fn().unwrap();
    assert_eq!(g.name(), "AddBackward0");
    assert_eq!(
        g.next_functions()[0].as_ref().unwrap().name(),
        "MulBackward0"
    );
    assert_eq!(y.to_vec::<f64>(), vec![3.0, -3.0]);
    y.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![2.0, 2.0]);
    // mul_ by a tensor that requires grad needs the old value: y = (x + 1) * x.
    let x = f64s(&[1.0, -2.0]).requires_grad_(true);
    let y = x.add_scalar(1.0);
    y.mul_(&x);
    y.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![3.0, -3.0]); // 2x + 1
                                                                    // clamp_ after sin (which saved its input, not its output): masked where clamped.
    let x = f64s(&[0.1, 2.0]).requires_grad_(true);
    let y = x.sin();
    y.clamp_(None, Some(0.5));
    y.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![0.1f64.cos(), 0.0]);
    // A plain tensor updated with one that requires grad joins the graph.
    let w = f64s(&[3.0]).requires_grad_(true);
    let a = f64s(&[1.0, 1.0]);
    a.add_(&w.mul_scalar(2.0));
    assert!(a.requires_grad() && !a.is_leaf());
    a.sum().backward();
    assert_eq!(w.grad().unwrap().to_vec::<f64>(), vec![4.0]);
    // copy_ / zero_: the source gets the gradient, the old value none.
    let x = f64s(&[1.0, 2.0]).requires_grad_(true);
    let s = f64s(&[5.0]).requires_grad_(true);
    let y = &x * 3.0;
    y.copy_(&s);
    assert_eq!(y.grad_fn().unwrap().name(), "CopyBackwards");
    (&y + &x).sum().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![1.0, 1.0]);
    assert_eq!(s.grad().unwrap().to_vec::<f64>(), vec![2.0]);
    let x = f64s(&[1.0, 2.0]).requires_grad_(true);
    let y = &x * 3.0;
    y.zero_();
    assert_eq!(y.grad_fn().unwrap().name(), "ZeroBackward0");
    (&y + &x).sum().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![1.0, 1.0]);
}

#[test]
fn rebased_tensors_keep_pytorchs_version_errors_and_refuse_views() {
    // exp saved its output; changing it in place makes exp's backward fail, as in PyTorch.
    let x = Tensor::new([1.0, 2.0]).requires_grad_(true);
    let y = x.exp();
    y.add_scalar_(1.0);
    let e = y
        .sum()
        .backward_with(&BackwardOptions::new())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("output 0 of ExpBackward0, is at version 1; expected version 0"),
        "{e}"
    );
    // Views of graph tensors, and graph tensors with views, are refused and left unchanged.
    let y = &x * 2.0;
    let v = y.select(0, 0);
    let e = v.try_add_scalar_(1.0).unwrap_err().to_string();
    assert!(e.contains("view"), "{e}");
    let e = y.try_mul_scalar_(3.0).unwrap_err().to_string();
    assert!(e.contains("view"), "{e}");
    assert_eq!(y.to_vec::<f32>(), vec![2.0, 4.0]);
    // Dual tensors are refused too.
    let _level = ferrograd::forward_ad::dual_level();
    let d = ferrograd::forward_ad::make_dual(&Tensor::new([1.0]), &Tensor::new([1.0]));
    assert!(d
        .try_add_scalar_(1.0)
        .unwrap_err()
        .to_string()
        .contains("dual"));
}

#[test]
fn functions_with_in_place_updates_pass_gradcheck_to_second_order() {
    use ferrograd::testing::{check_grads, GradcheckOptions};
    use ferrograd::DType;
    let f = |xs: &[Tensor]| {
        let y = xs[0].sin();
        y.mul_(&xs[1]);
        y.add_(&xs[0].pow(2.0));
        y.div_(&xs[1].exp());
        y.clamp_(Some(-0.8), Some(0.8));
        let z = xs[1].mul_scalar(1.0);
        z.sub_(&y.sum());
        vec![(&y * &z.unsqueeze(0)).sum_dims(&[0], false)]
    };
    let a = Tensor::from_data(vec![0.3, -0.4, 0.2, 0.5, -0.1, 0.25], DType::F64)
        .reshape(&[2, 3])
        .requires_grad_(true);
    let b = Tensor::from_data(vec![0.7, -0.3, 0.4], DType::F64).requires_grad_(true);
    check_grads(&f, &[a, b], 2, GradcheckOptions::default()).unwrap();
}

#[test]
fn whole_tensor_updates_trade_buffers_but_keep_in_place_semantics() {
    // A fresh result covering the whole tensor is swapped in rather than copied; views of the
    // storage must still see it, and the version counter must still move.
    let p = Tensor::new([1.0, 2.0, 3.0, 4.0]);
    let view = p.reshape(&[2, 2]);
    let alias = p.clone();
    p.sub_(&Tensor::new([1.0, 1.0, 1.0, 1.0]));
    assert_eq!(view.to_vec::<f32>(), vec![0.0, 1.0, 2.0, 3.0]);
    assert_eq!(alias.to_vec::<f32>(), vec![0.0, 1.0, 2.0, 3.0]);
    // Repeated updates keep working on the swapped-in buffer.
    for _ in 0..3 {
        p.mul_(&Tensor::scalar(2.0));
    }
    assert_eq!(view.to_vec::<f32>(), vec![0.0, 8.0, 16.0, 24.0]);

    let x = Tensor::new([1.0, 2.0]).requires_grad_(true);
    let w = Tensor::new([3.0, 4.0]);
    let y = (&x * &w).sum(); // saves w
    w.add_(&Tensor::new([1.0, 1.0]));
    let e = y
        .backward_with(&BackwardOptions::new())
        .unwrap_err()
        .to_string();
    assert!(e.contains("modified by an inplace operation"), "{e}");

    // Gradient accumulation into an existing .grad reads the new contribution in place.
    let a = Tensor::new([1.0, 2.0, 3.0]).requires_grad_(true);
    (&a * 2.0).sum().backward();
    (&a * 3.0).sum().backward();
    assert_eq!(a.grad().unwrap().to_vec::<f32>(), vec![5.0, 5.0, 5.0]);
    // sum's gradient arrives expanded (stride 0): the strided addend is copied first.
    a.sum().backward();
    assert_eq!(a.grad().unwrap().to_vec::<f32>(), vec![6.0, 6.0, 6.0]);
}

#[test]
fn copy_of_a_tensor_into_itself_keeps_its_values() {
    // The source is the destination's own storage: one lock at a time, no deadlock.
    let b = ferrograd::Tensor::new([1.0, -2.0]);
    assert_eq!(b.copy_(&b).to_vec::<f32>(), vec![1.0, -2.0]);
}
