//! Custom functions and anomaly mode.

use ferrograd::function::{apply, Context, Function};
use ferrograd::testing::gradgradcheck;
use ferrograd::{autograd, BackwardOptions, DType, GradOptions, Tensor};

/// x * exp(y), saving its output and an input; backward in tensor ops.
struct MulExp;
impl Function for MulExp {
    fn name(&self) -> &'static str {
        "MulExpBackward"
    }
    fn forward(&self, ctx: &mut Context, x: &[Tensor]) -> Tensor {
        let out = &x[0] * &x[1].exp();
        ctx.save_for_backward(&[&x[1], &out]);
        out
    }
    fn backward(&self, ctx: &Context, g: &Tensor) -> Vec<Option<Tensor>> {
        let (y, out) = (&ctx.saved_tensors()[0], &ctx.saved_tensors()[1]);
        vec![
            ctx.needs_input_grad(0).then(|| g * &y.exp()),
            ctx.needs_input_grad(1).then(|| g * out),
        ]
    }
}

#[test]
fn custom_functions_pass_gradcheck_to_second_order() {
    let x = Tensor::from_data([0.5, -1.0, 2.0], DType::F64).requires_grad_(true);
    let y = Tensor::from_data([0.1, 0.2, -0.3], DType::F64).requires_grad_(true);
    gradgradcheck(
        &|xs| vec![apply(MulExp, &[&xs[0], &xs[1]])],
        &[x.clone(), y.clone()],
    )
    .unwrap();
    let out = apply(MulExp, &[&x, &y]);
    assert_eq!(out.grad_fn().unwrap().name(), "MulExpBackward");
    assert_eq!(out.grad_fn().unwrap().next_functions().len(), 2);
}

#[test]
fn needs_input_grad_and_non_differentiable_outputs() {
    struct ArgmaxLike;
    impl Function for ArgmaxLike {
        fn name(&self) -> &'static str {
            "ArgmaxLikeBackward"
        }
        fn forward(&self, ctx: &mut Context, x: &[Tensor]) -> Tensor {
            ctx.mark_non_differentiable();
            x[0].argmax(None, false)
        }
        fn backward(&self, _: &Context, _: &Tensor) -> Vec<Option<Tensor>> {
            unreachable!("never recorded")
        }
    }
    let x = Tensor::new([1.0, 3.0, 2.0]).requires_grad_(true);
    let i = apply(ArgmaxLike, &[&x]);
    assert!(!i.requires_grad());
    assert_eq!(i.item(), 1.0);
    // Only x requires grad: the backward is told y does not.
    let y = Tensor::new([0.0, 0.0, 0.0]);
    apply(MulExp, &[&x, &y]).sum().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![1.0, 1.0, 1.0]);
}

#[test]
fn saving_the_output_does_not_leak_the_graph() {
    let x = Tensor::new([1.0]).requires_grad_(true);
    let out = apply(MulExp, &[&x, &Tensor::new([0.0]).requires_grad_(true)]);
    let probe = out.downgrade();
    let node = out.grad_fn().unwrap();
    drop(out);
    drop(node);
    assert!(probe.upgrade().is_none());
}

#[test]
#[should_panic(expected = "returned an incorrect number of gradients (expected 2, got 1)")]
fn a_wrong_number_of_gradients_is_reported() {
    struct Bad;
    impl Function for Bad {
        fn name(&self) -> &'static str {
            "BadBackward"
        }
        fn forward(&self, _: &mut Context, x: &[Tensor]) -> Tensor {
            &x[0] + &x[1]
        }
        fn backward(&self, _: &Context, g: &Tensor) -> Vec<Option<Tensor>> {
            vec![Some(g.clone())]
        }
    }
    let a = Tensor::new([1.0]).requires_grad_(true);
    apply(Bad, &[&a, &a]).sum().backward();
}

#[test]
fn anomaly_mode_names_the_first_rule_producing_nan_and_where_it_ran() {
    let _g = ferrograd::detect_anomaly();
    let x = Tensor::new([0.0, 1.0]).requires_grad_(true);
    let y = x.pow(0.5).mul_scalar(0.0).sum();
    let e = y
        .backward_with(&BackwardOptions::new())
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("Function 'PowBackward0' returned nan values in its 0th output."),
        "{e}"
    );
    assert!(
        e.contains("Traceback of forward call that caused the error"),
        "{e}"
    );
    // Infinite values are reported too.
    let z = Tensor::new([0.0]).requires_grad_(true);
    let e = z
        .pow(0.5)
        .sum()
        .backward_with(&BackwardOptions::new())
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("Function 'PowBackward0' returned inf values in its 0th output."),
        "{e}"
    );
    drop(_g);
    // Off again: the same computation gives NaN quietly, as in PyTorch.
    let x = Tensor::new([0.0]).requires_grad_(true);
    x.pow(0.5).mul_scalar(0.0).sum().backward();
    assert!(x.grad().unwrap().item().is_nan());
    let g = autograd::grad(&[x.pow(2.0).sum()], &[&x], GradOptions::new());
    assert_eq!(g[0].as_ref().unwrap().item(), 0.0);
}

#[test]
fn checkpointed_segments_give_the_same_gradients_to_second_order() {
    use ferrograd::function::checkpoint;
    let f = |xs: &[Tensor]| (&xs[0].matmul(&xs[1]).tanh() * &xs[0].sin()).sum();
    let a = Tensor::from_data([[0.5, -1.0], [2.0, 0.3]], DType::F64).requires_grad_(true);
    let b = Tensor::from_data([[0.1, 0.2], [-0.3, 0.4]], DType::F64).requires_grad_(true);
    let plain = autograd::grad(&[f(&[a.clone(), b.clone()])], &[&a, &b], GradOptions::new());
    let ck = autograd::grad(&[checkpoint(f, &[&a, &b])], &[&a, &b], GradOptions::new());
    for (p, c) in plain.iter().zip(&ck) {
        assert_eq!(
            p.as_ref().unwrap().to_vec::<f64>(),
            c.as_ref().unwrap().to_vec::<f64>()
        );
    }
    gradgradcheck(
        &move |xs| vec![checkpoint(f, &[&xs[0], &xs[1]])],
        &[a.clone(), b.clone()],
    )
    .unwrap();
    // The checkpoint node keeps only the inputs.
    let y = checkpoint(f, &[&a, &b]);
    assert_eq!(y.grad_fn().unwrap().name(), "CheckpointFunctionBackward");
    assert_eq!(y.grad_fn().unwrap().saved_tensors().len(), 2);
}
