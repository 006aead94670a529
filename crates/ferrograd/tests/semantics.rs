//! PyTorch's autograd semantics and errors for misuse (issue 12, items 2, 6 and 7). Messages
//! are PyTorch's wording; values come from mathematics.

use ferrograd::function::{apply, Context, Function};
use ferrograd::{autograd, Error, GradOptions, Tensor};

struct WrongShape;
impl Function for WrongShape {
    fn name(&self) -> &'static str {
        "MyFnBackward"
    }
    fn forward(&self, _: &mut Context, x: &[Tensor]) -> Tensor {
        x[0].mul_scalar(2.0)
    }
    fn backward(&self, _: &Context, _: &Tensor) -> Vec<Option<Tensor>> {
        vec![Some(Tensor::ones(&[3]))]
    }
}

struct WrongCount;
impl Function for WrongCount {
    fn name(&self) -> &'static str {
        "MyFnBackward"
    }
    fn forward(&self, _: &mut Context, x: &[Tensor]) -> Tensor {
        &x[0] + &x[1]
    }
    fn backward(&self, _: &Context, g: &Tensor) -> Vec<Option<Tensor>> {
        vec![Some(g.clone())]
    }
}

struct NoGrad;
impl Function for NoGrad {
    fn name(&self) -> &'static str {
        "MyFnBackward"
    }
    fn forward(&self, _: &mut Context, x: &[Tensor]) -> Tensor {
        x[0].mul_scalar(2.0)
    }
    fn backward(&self, _: &Context, _: &Tensor) -> Vec<Option<Tensor>> {
        vec![None]
    }
}

#[test]
fn a_rule_with_the_wrong_number_or_shape_of_gradients_is_an_error_not_a_panic() {
    let a = Tensor::new([1.0, 2.0]).requires_grad_(true);
    let e = apply(WrongCount, &[&a, &a]).sum().try_backward().unwrap_err();
    assert!(
        e.to_string()
            .contains("function MyFnBackward returned an incorrect number of gradients (expected 2, got 1)"),
        "{e}"
    );
    let e = apply(WrongShape, &[&a]).sum().try_backward().unwrap_err();
    assert!(
        e.to_string().contains(
            "Function MyFnBackward returned an invalid gradient at index 0 - got [3] but expected shape compatible with [2]"
        ),
        "{e}"
    );
    assert!(a.grad().is_none(), "state intact after the error");
}

#[test]
fn an_input_whose_rules_give_no_gradient_is_unused_unless_allowed() {
    let x = Tensor::new([1.0]).requires_grad_(true);
    let y = apply(NoGrad, &[&x]).sum();
    let e = autograd::try_grad(&[&y], &[&x], GradOptions::new().retain_graph(true)).unwrap_err();
    assert_eq!(e, Error::UnusedInput);
    assert_eq!(
        e.to_string(),
        "One of the differentiated Tensors appears to not have been used in the graph. Set allow_unused=True if this is the desired behavior."
    );
    let g = autograd::grad(&[&y], &[&x], GradOptions::new().allow_unused(true));
    assert!(g[0].is_none());
}

#[test]
fn grad_needs_inputs_and_one_gradient_per_output() {
    let x = Tensor::new([1.0]).requires_grad_(true);
    let (a, b) = (x.mul_scalar(2.0).sum(), x.mul_scalar(3.0).sum());
    let none: [Tensor; 0] = [];
    let e = autograd::try_grad(&[&a], &none, GradOptions::new()).unwrap_err();
    assert!(e.to_string().contains("grad requires non-empty inputs."), "{e}");
    let e = autograd::try_grad(
        &[&a, &b],
        &[&x],
        GradOptions::new().grad_outputs([Tensor::scalar(1.0)]),
    )
    .unwrap_err();
    assert!(e.to_string().contains("got 2 tensors and 1 gradients"), "{e}");
    // With one gradient per output: d(2x + 3x)/dx = 5.
    let g = autograd::grad(
        &[&a, &b],
        &[&x],
        GradOptions::new().grad_outputs([Tensor::scalar(1.0), Tensor::scalar(1.0)]),
    );
    assert_eq!(g[0].as_ref().unwrap().item(), 5.0);
}

#[test]
fn saved_tensors_after_they_were_freed_is_pytorchs_error() {
    let x = Tensor::new([2.0]).requires_grad_(true);
    let y = x.exp().sum();
    let f = x.exp();
    f.sum().backward();
    assert_eq!(
        f.grad_fn().unwrap().try_saved_tensors().unwrap_err(),
        Error::BackwardTwice
    );
    y.backward();
}

#[test]
fn the_version_error_has_no_stray_comma_for_a_leaf() {
    let x = Tensor::new([1.0, 2.0, 3.0]).requires_grad_(true);
    let w = Tensor::new([1.0, 2.0, 3.0]);
    let y = (&x * &w).sum();
    w.add_scalar_(1.0);
    let e = y.try_backward().unwrap_err().to_string();
    assert!(
        e.contains("[torch.FloatTensor [3]] is at version 1; expected version 0 instead."),
        "{e}"
    );
}

#[test]
fn cat_and_stack_of_many_small_tensors_are_right_forward_and_backward() {
    let n = 200_000;
    let x = Tensor::arange(n as f64).requires_grad_(true);
    let parts: Vec<Tensor> = (0..n as isize).map(|i| x.select(0, i).unsqueeze(0)).collect();
    let c = Tensor::cat(&parts, 0);
    assert_eq!(c.shape(), &[n]);
    let v = c.to_vec::<f32>();
    assert!(v.iter().enumerate().all(|(i, &a)| a == i as f32));
    // d/dx sum(c * c) = 2x.
    (&c * &c).sum().backward();
    let g = x.grad().unwrap().to_vec::<f32>();
    assert!(g.iter().enumerate().all(|(i, &a)| a == 2.0 * i as f32));
    let s = Tensor::stack(&parts[..1000], 1);
    assert_eq!(s.shape(), &[1, 1000]);
    assert_eq!(s.to_vec::<f32>()[999], 999.0);
}
