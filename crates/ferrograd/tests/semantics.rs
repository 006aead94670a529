//! PyTorch's autograd semantics and errors for misuse (issue 12, items 2, 6 and 7). Messages
//! are PyTorch's wording; values come from mathematics.

use ferrograd::function::{apply, Context, Function};
use ferrograd::{autograd, BackwardOptions, Error, GradOptions, Tensor};

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
    let e = apply(WrongCount, &[&a, &a])
        .sum()
        .backward_with(&BackwardOptions::new())
        .unwrap_err();
    assert!(
        e.to_string().contains(
            "function MyFnBackward returned an incorrect number of gradients (expected 2, got 1)"
        ),
        "{e}"
    );
    let e = apply(WrongShape, &[&a])
        .sum()
        .backward_with(&BackwardOptions::new())
        .unwrap_err();
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
    assert_eq!(e, Error::UnusedInput { index: 0 });
    assert_eq!(
        e.to_string(),
        "The differentiated Tensor at index 0 appears to not have been used in the graph. Set allow_unused=True if this is the desired behavior."
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
    assert!(
        e.to_string()
            .contains("`inputs` argument to `grad()` cannot be empty."),
        "{e}"
    );
    let e = autograd::try_grad(
        &[&a, &b],
        &[&x],
        GradOptions::new().grad_outputs([Tensor::scalar(1.0)]),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("got 2 tensors and 1 gradients"),
        "{e}"
    );
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
    let e = y
        .backward_with(&BackwardOptions::new())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("[torch.FloatTensor [3]] is at version 1; expected version 0 instead."),
        "{e}"
    );
}

#[test]
fn cat_and_stack_of_many_small_tensors_are_right_forward_and_backward() {
    let n = 200_000;
    let parts: Vec<Tensor> = (0..n)
        .map(|i| Tensor::new([i as f32]).requires_grad_(true))
        .collect();
    let c = Tensor::cat(&parts, 0);
    assert_eq!(c.shape(), &[n]);
    let v = c.to_vec::<f32>();
    assert!(v.iter().enumerate().all(|(i, &a)| a == i as f32));
    // d/dp_i sum(c * c) = 2 p_i: the backward hands each input its own slice.
    (&c * &c).sum().backward();
    assert!(parts
        .iter()
        .enumerate()
        .all(|(i, p)| p.grad().unwrap().to_vec::<f32>() == vec![2.0 * i as f32]));
    let s = Tensor::stack(&parts, 1);
    assert_eq!(s.shape(), &[1, n]);
    s.sum().backward();
    assert_eq!(parts[7].grad().unwrap().item(), 14.0 + 1.0);
    assert_eq!(s.to_vec::<f32>()[n - 1], (n - 1) as f32);
}

#[test]
fn a_second_backward_through_a_freed_graph_is_an_error() {
    // PyTorch's MulBackward0 saves the number 2 (as a tensor), so the first backward frees it.
    let x = Tensor::new([1.0, 2.0]).requires_grad_(true);
    let y = x.mul_scalar(2.0).sum();
    y.backward();
    assert_eq!(
        y.backward_with(&BackwardOptions::new()).unwrap_err(),
        Error::BackwardTwice
    );
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![2.0, 2.0]);
    // AddBackward0 saves nothing: PyTorch runs it twice, and so does this.
    let z = x.add_scalar(1.0).sum();
    z.backward();
    z.backward();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![4.0, 4.0]);
    // With retain_graph the second backward runs.
    let w = x.div_scalar(2.0).sum();
    w.backward_with(&BackwardOptions::new().retain_graph(true))
        .unwrap();
    w.backward();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![5.0, 5.0]);
}

#[test]
fn error_wording_follows_pytorch() {
    let e = Tensor::zeros(&[3])
        .try_select(0, 5)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "select(): index 5 out of range for tensor of size [3] at dimension 0"
    );
    let e = Tensor::zeros(&[3])
        .try_index_select(0, &Tensor::new([3]))
        .unwrap_err()
        .to_string();
    assert!(e.ends_with("index out of range in self"), "{e}");
    let empty = Tensor::zeros(&[0]);
    assert_eq!(
        empty.try_max().unwrap_err().to_string(),
        "max(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument."
    );
    assert_eq!(
        empty.try_amax(&[], false).unwrap_err().to_string(),
        "amax(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument."
    );
    assert_eq!(
        empty.try_amax(&[0], false).unwrap_err().to_string(),
        "amax(): Expected reduction dim 0 to have non-zero size."
    );
    assert_eq!(
        empty.try_argmax(None, false).unwrap_err().to_string(),
        "argmax(): Expected reduction dim to be specified for input.numel() == 0."
    );
    assert_eq!(
        empty.try_argmax(Some(0), false).unwrap_err().to_string(),
        "argmax(): Expected reduction dim 0 to have non-zero size."
    );
    let e = Tensor::zeros(&[2, 3])
        .try_permute(&[0])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("input.dim() = 2 is not equal to len(dims) = 1"),
        "{e}"
    );
    let e = Tensor::zeros(&[2, 3])
        .try_permute(&[1, 1])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("permute(): duplicate dims are not allowed."),
        "{e}"
    );
    let x = Tensor::zeros(&[2, 2]).requires_grad_(true);
    assert_eq!(
        x.select(0, 0).try_add_scalar_(1.0).unwrap_err(),
        Error::ViewOfLeafInplace
    );
    assert_eq!(
        Error::ViewOfLeafInplace.to_string(),
        "a view of a leaf Variable that requires grad is being used in an in-place operation."
    );
    // A view of a view of the leaf (PyTorch: the same message for `x.t()[0].add_(1)`).
    assert_eq!(
        x.t().select(0, 1).try_add_scalar_(1.0).unwrap_err(),
        Error::ViewOfLeafInplace
    );
    assert_eq!(x.to_vec::<f32>(), vec![0.0; 4], "state intact");
}

/// Integer tensors stay integer through the ops PyTorch keeps them in (`-a`, `a.abs()`,
/// `a.sign()`, the roundings, `relu`), exactly (no float round trip: 2^53 + 1 survives).
#[test]
fn integer_unary_ops_keep_int64_exactly() {
    let big = (1i64 << 53) + 1;
    let a = ferrograd::Tensor::from_vec(vec![3i64, -2, 0, big], &[4]);
    let ints = |t: ferrograd::Tensor| {
        assert_eq!(t.dtype(), ferrograd::DType::I64);
        t.to_vec::<i64>()
    };
    assert_eq!(ints(a.neg()), vec![-3, 2, 0, -big]);
    assert_eq!(ints(a.abs()), vec![3, 2, 0, big]);
    assert_eq!(ints(a.sign()), vec![1, -1, 0, 1]);
    assert_eq!(ints(a.relu()), vec![3, 0, 0, big]);
    for t in [a.floor(), a.ceil(), a.round(), a.trunc()] {
        assert_eq!(ints(t), vec![3, -2, 0, big]);
    }
    // Floats are unchanged.
    let x = ferrograd::Tensor::new([-1.5f32, 2.5]);
    assert_eq!(x.neg().to_vec::<f32>(), vec![1.5, -2.5]);
    assert_eq!(x.round().to_vec::<f32>(), vec![-2.0, 2.0]);
}
