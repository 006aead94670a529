//! Errors PyTorch raises where a silent number would be wrong (issue 12, items 3 and 6): singular
//! matrices in inv/solve, integer division by zero, binary_cross_entropy outside [0, 1], and the
//! wording of the matrix products' shape errors. Every message was checked against PyTorch 2.15;
//! ferrograd prefixes the op where PyTorch does not.

use ferrograd::{DType, Tensor};

fn m(rows: &[&[f64]], dtype: DType) -> Tensor {
    let n = rows.len();
    let data: Vec<f64> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    let c = data.len() / n.max(1);
    Tensor::from_data(data, dtype).reshape(&[n, c])
}

fn err(r: ferrograd::Result<Tensor>) -> String {
    r.expect_err("expected an error").to_string()
}

const INV_2: &str = "The diagonal element 2 is zero, the inversion could not be completed because the input matrix is singular.";
const INV_1: &str = "The diagonal element 1 is zero, the inversion could not be completed because the input matrix is singular.";
const SOLVE: &str = "The solver failed because the input matrix is singular.";

#[test]
fn inv_and_solve_of_a_singular_matrix_are_pytorchs_linalg_errors() {
    for dtype in [DType::F64, DType::F32] {
        let a = m(&[&[1.0, 2.0], &[2.0, 4.0]], dtype);
        assert_eq!(err(a.try_inv()), format!("linalg.inv: {INV_2}"));
        let one = Tensor::ones(&[2]).to_dtype(dtype);
        assert_eq!(
            err(a.try_solve(&one)),
            format!("torch.linalg.solve: {SOLVE}")
        );
        // A 2-d A with a batch of right-hand sides is still one matrix.
        let rhs = Tensor::ones(&[3, 2, 1]).to_dtype(dtype);
        assert_eq!(
            err(a.try_solve(&rhs)),
            format!("torch.linalg.solve: {SOLVE}")
        );
        // Batches name the first singular element.
        let eye = m(&[&[1.0, 0.0], &[0.0, 1.0]], dtype);
        let batch = Tensor::stack(&[&eye, &a], 0);
        assert_eq!(
            err(batch.try_inv()),
            format!("linalg.inv: (Batch element 1): {INV_2}")
        );
        assert_eq!(
            err(a.unsqueeze(0).try_inv()),
            format!("linalg.inv: (Batch element 0): {INV_2}")
        );
        assert_eq!(
            err(batch.try_solve(&Tensor::ones(&[2, 2]).to_dtype(dtype))),
            format!("torch.linalg.solve: (Batch element 1): {SOLVE}")
        );
        // The first zero pivot of U, 1-based, as LAPACK's info.
        assert_eq!(
            err(Tensor::zeros(&[3, 3]).to_dtype(dtype).try_inv()),
            format!("linalg.inv: {INV_1}")
        );
        assert_eq!(
            err(m(&[&[0.0, 0.0], &[0.0, 1.0]], dtype).try_inv()),
            format!("linalg.inv: {INV_1}")
        );
        assert_eq!(
            err(m(&[&[1.0, 0.0], &[0.0, 0.0]], dtype).try_inv()),
            format!("linalg.inv: {INV_2}")
        );
        // No exact zero pivot: no error (PyTorch also inverts this one, to huge values), and
        // NaN gives NaN, as in PyTorch.
        let near = m(
            &[&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0], &[7.0, 8.0, 9.0]],
            dtype,
        );
        assert!(near.try_inv().is_ok());
        let nan = m(&[&[f64::NAN, 0.0], &[0.0, 0.0]], dtype)
            .try_inv()
            .unwrap();
        assert!(nan
            .to_dtype(DType::F64)
            .to_vec::<f64>()
            .iter()
            .all(|v| v.is_nan()));
        // Empty matrices invert to empty ones; det of a singular matrix is fine (0).
        assert_eq!(
            Tensor::zeros(&[0, 0])
                .to_dtype(dtype)
                .try_inv()
                .unwrap()
                .shape(),
            &[0, 0]
        );
        assert_eq!(a.try_det().unwrap().item(), 0.0);
    }
}

#[test]
fn the_panicking_inv_panics_with_the_same_message() {
    let a = m(&[&[1.0, 2.0], &[2.0, 4.0]], DType::F64);
    let e = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| a.inv())).unwrap_err();
    let msg = e
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(msg.contains(INV_2), "{msg}");
}

#[test]
fn integer_remainder_and_fmod_by_zero_raise_zero_division_error() {
    let a = Tensor::from_data(vec![5i64, 3], DType::I64);
    let b = Tensor::from_data(vec![0i64, 1], DType::I64);
    assert_eq!(err(a.try_remainder(&b)), "remainder: ZeroDivisionError");
    assert_eq!(err(a.try_fmod(&b)), "fmod: ZeroDivisionError");
    // A bool divisor is an integer one too.
    let five = Tensor::from_data(vec![5i64], DType::I64);
    let bools = Tensor::from_data(vec![true, false], DType::Bool);
    assert_eq!(
        err(five.try_remainder(&bools)),
        "remainder: ZeroDivisionError"
    );
    // Nothing is divided in an empty result; shapes that do not broadcast get that error.
    let empty = Tensor::from_data(Vec::<i64>::new(), DType::I64);
    let zero = Tensor::from_data(vec![0i64], DType::I64).reshape(&[]);
    assert_eq!(empty.try_remainder(&zero).unwrap().shape(), &[0]);
    let three = Tensor::from_data(vec![0i64; 3], DType::I64);
    let two = Tensor::from_data(vec![1i64; 2], DType::I64);
    assert!(err(two.try_remainder(&three)).contains("must match the size"));
    // Floating operands divide by zero to NaN (PyTorch: tensor([nan, 0.])).
    let af = Tensor::from_data(vec![5.0, 3.0], DType::F32);
    for r in [af.try_remainder(&b).unwrap(), af.try_fmod(&b).unwrap()] {
        let v = r.to_vec::<f32>();
        assert!(v[0].is_nan() && v[1] == 0.0, "{v:?}");
    }
    // Non-zero integer divisors still work, exactly.
    let c = Tensor::from_data(vec![2i64, -2], DType::I64);
    assert_eq!(a.try_remainder(&c).unwrap().to_vec::<i64>(), vec![1, -1]);
    assert_eq!(a.try_fmod(&c).unwrap().to_vec::<i64>(), vec![1, 1]);
}

#[test]
fn binary_cross_entropy_rejects_values_outside_0_1() {
    use ferrograd::nn::try_binary_cross_entropy;
    let t = |v: f64| Tensor::from_data(vec![v], DType::F64);
    let bce = |p: f64, y: f64| {
        err(try_binary_cross_entropy(
            &t(p),
            &t(y),
            None,
            Default::default(),
        ))
    };
    let input = "binary_cross_entropy: all elements of input should be between 0 and 1";
    let target = "binary_cross_entropy: all elements of target should be between 0 and 1";
    assert_eq!(bce(1.5, 1.0), input);
    assert_eq!(bce(f64::NAN, 1.0), input);
    assert_eq!(bce(0.5, 1.5), target);
    assert_eq!(bce(0.5, -0.5), target);
    assert_eq!(bce(0.5, f64::NAN), target);
}

#[test]
fn matrix_product_shape_errors_use_pytorchs_wording() {
    let z = |s: &[usize]| Tensor::zeros(s);
    // bmm
    assert_eq!(
        err(z(&[2, 3]).try_bmm(&z(&[2, 3, 4]))),
        "bmm: batch1 must be a 3D tensor (got shape [2, 3])"
    );
    assert_eq!(
        err(z(&[2, 2, 3]).try_bmm(&z(&[3, 4]))),
        "bmm: batch2 must be a 3D tensor (got shape [3, 4])"
    );
    assert_eq!(
        err(z(&[2, 2, 3]).try_bmm(&z(&[3, 3, 4]))),
        "bmm: Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [3, 3]."
    );
    assert_eq!(
        err(z(&[2, 2, 3]).try_bmm(&z(&[2, 4, 5]))),
        "bmm: Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [2, 4]."
    );
    // mm
    assert_eq!(
        err(z(&[2, 3]).try_mm(&z(&[4, 5]))),
        "mm: mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"
    );
    assert_eq!(
        err(z(&[3]).try_mm(&z(&[3, 5]))),
        "mm: self must be a matrix, got 1-D tensor"
    );
    assert_eq!(
        err(z(&[2, 3]).try_mm(&z(&[3]))),
        "mm: mat2 must be a matrix, got 1-D tensor"
    );
    assert_eq!(
        err(z(&[2, 2, 3]).try_mm(&z(&[3, 5]))),
        "mm: self must be a matrix, got 3-D tensor"
    );
    // mv
    assert_eq!(
        err(z(&[2, 3]).try_mv(&z(&[4]))),
        "mv: size mismatch, got input (2), mat (2x3), vec (4)"
    );
    // matmul: the kernel PyTorch folds each case into names the sizes.
    let mm = |a: &[usize], b: &[usize]| err(z(a).try_matmul(&z(b)));
    assert_eq!(
        mm(&[2, 3], &[4, 5]),
        "matmul: mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"
    );
    assert_eq!(
        mm(&[3], &[4, 5]),
        "matmul: mat1 and mat2 shapes cannot be multiplied (1x3 and 4x5)"
    );
    assert_eq!(
        mm(&[2, 2, 3], &[4, 5]),
        "matmul: mat1 and mat2 shapes cannot be multiplied (4x3 and 4x5)"
    );
    assert_eq!(
        mm(&[2, 3], &[4]),
        "mv: size mismatch, got input (2), mat (2x3), vec (4)"
    );
    assert_eq!(
        mm(&[2, 2, 3], &[4]),
        "matmul: size mismatch, got input (4), mat (4x3), vec (4)"
    );
    let bmm = |b: usize, k: usize, k2: usize| {
        format!("matmul: Expected size for first two dimensions of batch2 tensor to be: [{b}, {k}] but got: [{b}, {k2}].")
    };
    assert_eq!(mm(&[2, 2, 3], &[2, 4, 5]), bmm(2, 3, 4));
    assert_eq!(mm(&[2, 3], &[2, 4, 5]), bmm(2, 3, 4));
    assert_eq!(mm(&[3], &[2, 4, 5]), bmm(2, 3, 4));
    assert_eq!(mm(&[2, 1, 2, 3], &[3, 4, 5]), bmm(6, 3, 4));
    assert!(mm(&[2, 2, 3], &[3, 3, 5]).contains(
        "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0"
    ));
    assert!(mm(&[3], &[4]).contains("inconsistent tensor size, expected tensor [3] and src [4]"));
    assert!(mm(&[], &[4, 5])
        .contains("both arguments to matmul need to be at least 1D, but they are 0D and 2D"));
}
