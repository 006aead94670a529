//! Integer (`int64`) arithmetic: PyTorch keeps `int64` through `+ - * % //`, `pow` by a
//! natural number, `clamp` to integral bounds, sums, running sums and products, and matrix
//! products, and computes them exactly in integers (wrapping on overflow as C's two's
//! complement does). Every expected number here is integer arithmetic done by hand (or by
//! `i64`'s own wrapping operations), never the code under test; values above 2^53 are where a
//! round trip through `f64` would lose them.

use ferrograd::{DType, Tensor};

const BIG: i64 = (1 << 53) + 1;

fn ints(v: &[i64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape)
}

/// The values of an `int64` tensor (failing if the dtype is not `int64`).
fn vals(t: &Tensor) -> Vec<i64> {
    assert_eq!(t.dtype(), DType::I64, "int64 expected, got {}", t.dtype());
    t.to_vec::<i64>()
}

#[test]
fn binary_arithmetic_is_exact_above_2_pow_53() {
    let a = ints(&[BIG, -BIG, 7, -7], &[4]);
    let b = ints(&[1, 2, 2, 2], &[4]);
    assert_eq!(vals(&a.add(&b)), vec![BIG + 1, -BIG + 2, 9, -5]);
    assert_eq!(vals(&a.sub(&b)), vec![BIG - 1, -BIG - 2, 5, -9]);
    assert_eq!(vals(&a.mul(&b)), vec![BIG, -2 * BIG, 14, -14]);
    // Python's %: the sign of the divisor; C's fmod: the sign of the dividend.
    assert_eq!(vals(&a.remainder(&b)), vec![0, 1, 1, 1]);
    assert_eq!(vals(&a.fmod(&b)), vec![0, -1, 1, -1]);
    assert_eq!(vals(&a.floor_divide(&b)), vec![BIG, -(BIG / 2) - 1, 3, -4]);
    assert_eq!(vals(&a.div_trunc(&b)), vec![BIG, -(BIG / 2), 3, -3]);
    assert_eq!(vals(&a.maximum(&b)), vec![BIG, 2, 7, 2]);
    assert_eq!(vals(&a.minimum(&b)), vec![1, -BIG, 2, -7]);
    // Broadcasting, and bool operands read as 0 / 1.
    let col = ints(&[10, 20], &[2, 1]);
    assert_eq!(
        vals(&col.add(&ints(&[1, 2, 3], &[3]))),
        vec![11, 12, 13, 21, 22, 23]
    );
    let mask = Tensor::new([true, false]);
    assert_eq!(vals(&ints(&[5, 6], &[2]).mul(&mask)), vec![5, 0]);
    // Overflow wraps, as in PyTorch (int64 two's complement).
    let max = ints(&[i64::MAX], &[1]);
    assert_eq!(vals(&max.add(&ints(&[1], &[1]))), vec![i64::MIN]);
    assert_eq!(
        vals(&max.mul(&ints(&[3], &[1]))),
        vec![i64::MAX.wrapping_mul(3)]
    );
}

#[test]
fn integer_division_by_zero_is_an_error() {
    let a = ints(&[5], &[1]);
    let z = ints(&[0], &[1]);
    for e in [
        a.try_floor_divide(&z),
        a.try_div_trunc(&z),
        a.try_remainder(&z),
    ] {
        assert!(e.unwrap_err().to_string().ends_with("ZeroDivisionError"));
    }
    // Floats give IEEE values instead.
    let q = Tensor::new([5.0, -5.0, 0.0]).floor_divide(&Tensor::scalar(0.0));
    let q = q.to_vec::<f32>();
    assert_eq!((q[0], q[1]), (f32::INFINITY, f32::NEG_INFINITY));
    assert!(q[2].is_nan());
}

#[test]
fn float_floor_division_is_pytorchs() {
    // div_floor from fmod: -7 // 2 = -4, 7 // -2 = -4, -0.5 // 1 = -1, 0 // -3 = -0.
    let a = Tensor::new([-7.0f64, 7.0, -0.5, 0.0, 7.5]);
    let b = Tensor::new([2.0f64, -2.0, 1.0, -3.0, 2.5]);
    let q = a.floor_divide(&b).to_vec::<f64>();
    assert_eq!(q, vec![-4.0, -4.0, -1.0, 0.0, 3.0]);
    assert!(q[3].is_sign_negative(), "0 / -3 rounds to -0, as PyTorch's");
    assert_eq!(
        a.div_trunc(&b).to_vec::<f64>(),
        vec![-3.0, -3.0, -0.0, -0.0, 3.0]
    );
    // A step function: zero gradients, as PyTorch's DivBackward2.
    let x = Tensor::new([7.0f64, -7.0]).requires_grad_(true);
    let y = x.floor_divide(&Tensor::scalar(2.0).to_dtype(DType::F64));
    assert_eq!(y.grad_fn().unwrap().name(), "DivBackward2");
    y.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![0.0, 0.0]);
}

#[test]
fn scalar_ops_keep_int64() {
    let a = ints(&[1, -2, 3, 0], &[4]);
    assert_eq!(vals(&a.pow(2.0)), vec![1, 4, 9, 0]);
    assert_eq!(vals(&a.square()), vec![1, 4, 9, 0]);
    assert_eq!(vals(&a.pow(0.0)), vec![1, 1, 1, 1]);
    assert_eq!(vals(&ints(&[3], &[1]).pow(39.0)), vec![4052555153018976267]);
    // 3^40 wraps: 12157665459056928801 - 2^64.
    assert_eq!(
        vals(&ints(&[3], &[1]).pow(40.0)),
        vec![3i64.wrapping_pow(40)]
    );
    // Non-integral or negative exponents are floating.
    assert_eq!(a.pow(0.5).dtype(), DType::F32);
    assert_eq!(a.pow(-1.0).dtype(), DType::F32);
    // base ^ tensor: negative exponents give the integer part of 1 / base^|e|.
    let e = ints(&[2, -1, 0, 3], &[4]);
    assert_eq!(vals(&e.rpow(2.0)), vec![4, 0, 1, 8]);
    assert_eq!(vals(&e.rpow(-1.0)), vec![1, -1, 1, -1]);
    assert_eq!(vals(&e.pow_tensor(&e)), vec![4, -1, 1, 27]);
    // clamp to integral bounds stays int64; a fractional bound is floating.
    assert_eq!(vals(&a.clamp(Some(-1.0), Some(2.0))), vec![1, -1, 2, 0]);
    assert_eq!(vals(&a.clamp(Some(0.0), None)), vec![1, 0, 3, 0]);
    assert_eq!(vals(&a.clamp(None, Some(BIG as f64))), vec![1, -2, 3, 0]);
    assert_eq!(
        a.clamp(Some(-1.5), None).to_vec::<f32>(),
        vec![1.0, -1.5, 3.0, 0.0]
    );
}

#[test]
fn sums_products_and_running_ones_are_exact() {
    let a = ints(&[BIG, 1, -2, 3, 4, 0], &[2, 3]);
    assert_eq!(vals(&a.sum()), vec![BIG + 6]);
    assert_eq!(vals(&a.sum_dims(&[0], false)), vec![BIG + 3, 5, -2]);
    assert_eq!(vals(&a.sum_dims(&[1], true)), vec![BIG - 1, 7]);
    assert_eq!(vals(&a.cumsum(1)), vec![BIG, BIG + 1, BIG - 1, 3, 7, 7]);
    assert_eq!(vals(&a.cumsum(0)), vec![BIG, 1, -2, BIG + 3, 5, -2]);
    assert_eq!(vals(&a.cumprod(1)), vec![BIG, BIG, -2 * BIG, 3, 12, 0]);
    assert_eq!(vals(&a.prod()), vec![0]);
    assert_eq!(vals(&a.prod_dim(1, false)), vec![-2 * BIG, 0]);
    assert_eq!(vals(&ints(&[], &[0]).prod()), vec![1]);
    // Bools sum, count and multiply as int64.
    let m = Tensor::new([true, false, true]);
    assert_eq!(vals(&m.cumsum(0)), vec![1, 1, 2]);
    assert_eq!(vals(&m.prod()), vec![0]);
    assert_eq!(vals(&m.sum()), vec![2]);
}

#[test]
fn matrix_products_of_int64_are_exact() {
    let a = ints(&[1, -2, 3, 4, 0, -6], &[2, 3]);
    let v = ints(&[2, 3, 1], &[3]);
    assert_eq!(vals(&v.dot(&v)), vec![14]);
    assert_eq!(vals(&a.mv(&v)), vec![-1, 2]);
    assert_eq!(vals(&a.matmul(&v)), vec![-1, 2]);
    assert_eq!(vals(&a.mm(&a.t())), vec![14, -14, -14, 52]);
    assert_eq!(vals(&v.matmul(&a.t())), vec![-1, 2]);
    let batch = a.unsqueeze(0).expand(&[2, 2, 3]);
    assert_eq!(
        vals(&batch.bmm(&a.t().unsqueeze(0).expand(&[2, 3, 2]))),
        [14, -14, -14, 52].repeat(2)
    );
    assert_eq!(vals(&batch.matmul(&a.t())), [14, -14, -14, 52].repeat(2));
    // Exact above 2^53.
    let big = ints(&[BIG, 1], &[1, 2]);
    assert_eq!(vals(&big.mm(&ints(&[1, 1], &[2, 1]))), vec![BIG + 1]);
    // Empty inner dimension: zeros.
    assert_eq!(
        vals(&ints(&[], &[2, 0]).mm(&ints(&[], &[0, 3]))),
        vec![0; 6]
    );
    // Mixed dtypes are an error, as in PyTorch.
    assert!(a.try_mm(&Tensor::ones(&[3, 2])).is_err());
    assert!(Tensor::new([true]).try_dot(&Tensor::new([true])).is_err());
}
