//! `Display` prints what PyTorch 2.x prints (default print options).

use ferrograd::{DType, Tensor};

fn show(t: &Tensor) -> String {
    t.to_string()
}

#[test]
fn scalars_and_fixed_point() {
    assert_eq!(show(&Tensor::scalar(5.0)), "tensor(5.)");
    assert_eq!(show(&Tensor::scalar(0.5)), "tensor(0.5000)");
    assert_eq!(show(&Tensor::scalar(-0.0)), "tensor(-0.)");
    assert_eq!(
        show(&Tensor::new([0.1, -0.2, 0.3])),
        "tensor([ 0.1000, -0.2000,  0.3000])"
    );
    assert_eq!(
        show(&Tensor::new([2.0, 4.0, 6.0, 8.0, 10.0])),
        "tensor([ 2.,  4.,  6.,  8., 10.])"
    );
    assert_eq!(show(&Tensor::new([-0.0, 1.0])), "tensor([-0., 1.])");
}

#[test]
fn scientific_notation() {
    assert_eq!(show(&Tensor::scalar(1e-5)), "tensor(1.0000e-05)");
    assert_eq!(
        show(&Tensor::new([1e-5, 1.0])),
        "tensor([1.0000e-05, 1.0000e+00])"
    );
    assert_eq!(
        show(&Tensor::new([1.0, 1000.0, 1e5])),
        "tensor([1.0000e+00, 1.0000e+03, 1.0000e+05])"
    );
    assert_eq!(show(&Tensor::new([1e9])), "tensor([1.0000e+09])");
    assert_eq!(show(&Tensor::new([1.0, 1000.0])), "tensor([   1., 1000.])");
}

#[test]
fn non_finite_values() {
    let t = Tensor::new([f64::NAN, 1.5, f64::INFINITY]);
    assert_eq!(show(&t), "tensor([   nan, 1.5000,    inf])");
    assert_eq!(
        show(&Tensor::new([f64::NEG_INFINITY, 2.0])),
        "tensor([-inf, 2.])"
    );
}

#[test]
fn matrices_and_higher_ranks() {
    assert_eq!(
        show(&Tensor::new([[1.0, 0.5], [0.2, 0.1]])),
        "tensor([[1.0000, 0.5000],\n        [0.2000, 0.1000]])"
    );
    assert_eq!(
        show(&Tensor::ones(&[2, 2, 2])),
        "tensor([[[1., 1.],\n         [1., 1.]],\n\n        [[1., 1.],\n         [1., 1.]]])"
    );
    assert_eq!(show(&Tensor::zeros(&[1, 1, 1, 1])), "tensor([[[[0.]]]])");
}

#[test]
fn long_rows_wrap_at_80_columns() {
    let t = Tensor::arange(30.0);
    let expected = "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n        14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27.,\n        28., 29.])";
    assert_eq!(show(&t), expected);
}

#[test]
fn more_than_1000_elements_are_summarized() {
    let t = Tensor::arange(2000.0);
    assert_eq!(
        show(&t),
        "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n        1.9990e+03])"
    );
    let m = Tensor::ones(&[40, 40]);
    let row = "[1., 1., 1.,  ..., 1., 1., 1.]";
    let expected = format!(
        "tensor([{row},\n        {row},\n        {row},\n        ...,\n        {row},\n        {row},\n        {row}])"
    );
    assert_eq!(show(&m), expected);
}

#[test]
fn dtype_grad_and_empty_suffixes() {
    let x = Tensor::from_data([1.0, 2.0], DType::F64).requires_grad_(true);
    assert_eq!(
        show(&x),
        "tensor([1., 2.], dtype=torch.float64, requires_grad=True)"
    );
    assert_eq!(
        show(&(&x * 2.0)),
        "tensor([2., 4.], dtype=torch.float64, grad_fn=<MulBackward0>)"
    );
    assert_eq!(show(&Tensor::zeros(&[0])), "tensor([])");
    assert_eq!(
        show(&Tensor::full_with(&[0], 0.0, DType::F64)),
        "tensor([], dtype=torch.float64)"
    );
    assert_eq!(show(&Tensor::zeros(&[2, 0])), "tensor([], size=(2, 0))");
    assert_eq!(show(&Tensor::new([true, false])), "tensor([ True, False])");
    assert_eq!(show(&Tensor::new([true, true])), "tensor([True, True])");
    assert_eq!(
        show(&Tensor::full_with(&[0], 0.0, DType::Bool)),
        "tensor([], dtype=torch.bool)"
    );
}

#[test]
fn a_suffix_that_would_pass_80_columns_goes_on_its_own_line() {
    let x = Tensor::arange(12.0).requires_grad_(true);
    assert_eq!(
        show(&(&x * 1.0)),
        "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11.],\n       grad_fn=<MulBackward0>)"
    );
}

#[test]
fn views_print_their_elements_in_logical_order() {
    let a = Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
    assert_eq!(show(&a.t()), "tensor([[1., 3.],\n        [2., 4.]])");
    assert_eq!(show(&a.select(1, 1)), "tensor([2., 4.])");
    assert_eq!(
        show(&Tensor::new([1.0, 2.0]).expand(&[2, 2])),
        "tensor([[1., 2.],\n        [1., 2.]])"
    );
}

#[test]
fn integers_print_like_python_ints() {
    assert_eq!(show(&Tensor::new([1, 2, 3])), "tensor([1, 2, 3])");
    assert_eq!(
        show(&Tensor::new([[-10, 2], [3, 400]])),
        "tensor([[-10,   2],\n        [  3, 400]])"
    );
    assert_eq!(show(&Tensor::new(7)), "tensor(7)");
    assert_eq!(
        show(&Tensor::full_with(&[0], 0.0, DType::I64)),
        "tensor([], dtype=torch.int64)"
    );
    assert_eq!(Tensor::new([1, 2]).dtype(), DType::I64);
    assert_eq!(show(&Tensor::new([true, false, true]).sum()), "tensor(2)");
    assert_eq!(
        show(&(&Tensor::new([1, 2]) * 2.5)),
        "tensor([2.5000, 5.0000])"
    );
    assert_eq!(
        show(&(&Tensor::new([1, 2]) + &Tensor::new([3, 4]))),
        "tensor([4, 6])"
    );
}

#[test]
fn integer_arithmetic_follows_pytorchs_promotion() {
    let a = Tensor::new([1, 2, 3]);
    assert_eq!(show(&(&a * 2)), "tensor([2, 4, 6])");
    assert_eq!(show(&(&a + 1)), "tensor([2, 3, 4])");
    assert_eq!(show(&(&a - 1)), "tensor([0, 1, 2])");
    assert_eq!(show(&(10 - &a)), "tensor([9, 8, 7])");
    assert_eq!(show(&(&a * 0.5)), "tensor([0.5000, 1.0000, 1.5000])");
    assert_eq!(
        show(&(&a / &Tensor::new([2, 2, 2]))),
        "tensor([0.5000, 1.0000, 1.5000])"
    );
    assert_eq!(show(&(&a / 2)), "tensor([0.5000, 1.0000, 1.5000])");
    assert_eq!(show(&(&a * &Tensor::new([2, 2, 2]))), "tensor([2, 4, 6])");
}

#[test]
fn empty_tensors_print_their_shape_not_their_elements() {
    // From PyTorch 2.15: print(torch.zeros(*shape, dtype=...)) for each shape.
    assert_eq!(
        show(&Tensor::zeros(&[294_967_296, 0])),
        "tensor([], size=(294967296, 0))"
    );
    assert_eq!(
        show(&Tensor::full_with(&[294_967_296, 0], 0.0, DType::F64)),
        "tensor([], size=(294967296, 0), dtype=torch.float64)"
    );
    assert_eq!(show(&Tensor::zeros(&[0, 3])), "tensor([], size=(0, 3))");
    assert_eq!(
        show(&Tensor::full_with(&[0, 3], 0.0, DType::F64)),
        "tensor([], size=(0, 3), dtype=torch.float64)"
    );
    assert_eq!(show(&Tensor::zeros(&[3, 0])), "tensor([], size=(3, 0))");
    assert_eq!(
        show(&Tensor::zeros(&[2, 0, 4])),
        "tensor([], size=(2, 0, 4))"
    );
    assert_eq!(show(&Tensor::zeros(&[0, 0])), "tensor([], size=(0, 0))");
    assert_eq!(show(&Tensor::zeros(&[1, 0])), "tensor([], size=(1, 0))");
    assert_eq!(
        show(&Tensor::full_with(&[0, 3], 0.0, DType::I64)),
        "tensor([], size=(0, 3), dtype=torch.int64)"
    );
    let x = Tensor::zeros(&[2, 0]).requires_grad_(true);
    assert_eq!(show(&x), "tensor([], size=(2, 0), requires_grad=True)");
    assert_eq!(
        show(&(&x * 2.0)),
        "tensor([], size=(2, 0), grad_fn=<MulBackward0>)"
    );
    let big =
        Tensor::full_with(&[294_967_296, 0, 1 << 40, 3], 0.0, DType::F64).requires_grad_(true);
    assert_eq!(
        show(&(&big * 2.0)),
        "tensor([], size=(294967296, 0, 1099511627776, 3), dtype=torch.float64,\n       grad_fn=<MulBackward0>)"
    );
}
