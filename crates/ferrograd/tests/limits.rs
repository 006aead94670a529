//! Shapes near the limits of `usize`: every element count is checked (PyTorch's
//! "numel: integer multiplication overflow" / "Storage size calculation overflowed"), impossible
//! allocations are errors, and nothing reaches undefined behaviour (issue 12, item 1).

use ferrograd::{DType, Tensor};
use proptest::prelude::*;

const MAX: u128 = isize::MAX as u128;

fn err(r: ferrograd::Result<Tensor>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn a_product_of_expanded_operands_whose_size_overflows_is_an_error_not_a_segfault() {
    let a = Tensor::ones(&[1]).expand(&[1 << 32, 1]);
    let b = Tensor::ones(&[1]).expand(&[1, 1 << 32]);
    let e = err(a.try_matmul(&b));
    assert!(e.contains("numel: integer multiplication overflow"), "{e}");
    // The same through broadcasting.
    let e = err(a.try_add(&b));
    assert!(e.contains("numel: integer multiplication overflow"), "{e}");
    // A batched product whose batch times rows times columns overflows.
    let x = Tensor::ones(&[1, 1, 1]).expand(&[1 << 22, 1 << 21, 1]);
    let y = Tensor::ones(&[1, 1]).expand(&[1, 1 << 21]);
    let e = err(x.try_matmul(&y));
    assert!(e.contains("overflow"), "{e}");
}

#[test]
fn constructors_check_the_element_count_and_the_allocation() {
    let e = err(Tensor::try_zeros(&[1 << 32, 1 << 32]));
    assert!(e.contains("numel: integer multiplication overflow"), "{e}");
    let e = err(Tensor::try_zeros(&[usize::MAX / 4]));
    assert!(e.contains("Storage size calculation overflowed"), "{e}");
    // 2^47 bytes: more than a 47-bit address space can hold, so the allocation fails.
    let e = err(Tensor::try_zeros(&[1 << 45]));
    assert!(
        e.contains(
            "DefaultCPUAllocator: not enough memory: you tried to allocate 140737488355328 bytes."
        ),
        "{e}"
    );
    assert!(Tensor::try_full_with(&[usize::MAX, 0, 2], 0.0, DType::F64).is_err());
    assert!(Tensor::try_eye_with(1 << 32, DType::F32).is_err());
    assert!(Tensor::try_arange(0.0, 1e300, 1.0, DType::F32).is_err());
    // Zero-element shapes with huge other sizes are fine when their strides fit.
    let z = Tensor::try_zeros(&[1 << 40, 0, 1 << 20]).unwrap();
    assert_eq!(z.numel(), 0);
    assert_eq!(z.shape(), &[1 << 40, 0, 1 << 20]);
}

#[test]
#[should_panic(expected = "numel: integer multiplication overflow")]
fn the_plain_constructor_panics_with_the_message() {
    Tensor::zeros(&[1 << 32, 1 << 32]);
}

#[test]
fn views_and_reshapes_check_their_shapes() {
    let e = err(Tensor::zeros(&[0]).try_reshape(&[1 << 32, 1 << 32]));
    assert!(e.contains("is invalid for input of size 0"), "{e}");
    let e = err(Tensor::ones(&[1]).try_expand(&[1 << 32, 1 << 32]));
    assert!(e.contains("numel: integer multiplication overflow"), "{e}");
    // A huge view is fine (no memory), and reading one element of it is right.
    let v = Tensor::new([2.0]).expand(&[1 << 31, 1 << 31]);
    assert_eq!(v.numel(), 1 << 62);
    assert_eq!(v.select(0, -1).select(0, 12345).item(), 2.0);
    // Copying it cannot be allocated: an error, not an abort.
    let e = err(v.try_repeat(&[1, 1]));
    assert!(e.contains("Storage size calculation overflowed"), "{e}");
    let e = err(v.try_repeat(&[4, 4]));
    assert!(e.contains("overflow"), "{e}");
    let e = err(Tensor::try_cat(&[&v, &v, &v], 0));
    assert!(e.contains("overflow"), "{e}");
    let e = err(Tensor::ones(&[1]).try_pad(&[isize::MIN, 0], 0.0));
    assert!(e.contains("overflow"), "{e}");
    let e = err(Tensor::ones(&[1]).try_pad(&[isize::MAX, isize::MAX], 0.0));
    assert!(e.contains("overflow"), "{e}");
    assert!(Tensor::ones(&[3]).try_narrow(0, usize::MAX, 2).is_err());
    // A slice with a huge step keeps its one element.
    let s = Tensor::arange(3.0).slice(0, 1, 3, usize::MAX);
    assert_eq!(s.to_vec::<f32>(), vec![1.0]);
}

/// Dimension sizes around the interesting limits.
fn dim() -> impl Strategy<Value = usize> {
    prop_oneof![
        Just(0usize),
        Just(1),
        Just(2),
        Just(3),
        Just(1 << 16),
        Just((1 << 31) - 1),
        Just(1 << 32),
        Just((1 << 32) + 1),
        Just(1 << 62),
        Just(isize::MAX as usize),
        Just(usize::MAX),
    ]
}

/// The element count in exact arithmetic.
fn exact(shape: &[usize]) -> u128 {
    if shape.contains(&0) {
        return 0;
    }
    shape
        .iter()
        .try_fold(1u128, |a, &d| a.checked_mul(d as u128))
        .unwrap_or(u128::MAX)
}

/// Whether a tensor of `shape` can be described: its count and contiguous strides fit.
fn representable(shape: &[usize]) -> bool {
    let strides = shape
        .iter()
        .skip(1)
        .try_fold(1u128, |a, &d| a.checked_mul(d.max(1) as u128))
        .unwrap_or(u128::MAX);
    shape.iter().all(|&d| d as u128 <= MAX) && exact(shape) <= MAX && strides <= MAX
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn shapes_near_the_limits_never_wrap(shape in prop::collection::vec(dim(), 0..5)) {
        let n = exact(&shape);
        // Constructors: an error exactly when the tensor cannot exist; small ones are right.
        if !representable(&shape) || n * 4 > MAX {
            prop_assert!(Tensor::try_zeros(&shape).is_err());
        } else if n <= 1 << 16 {
            let t = Tensor::try_zeros(&shape).unwrap();
            prop_assert_eq!(t.numel() as u128, n);
            prop_assert_eq!(t.shape(), shape.as_slice());
        }
        // Views of one element: allowed exactly when representable, and every element reads 1.
        if !shape.is_empty() {
            let one = Tensor::ones(&vec![1; shape.len()]);
            match one.try_expand(&shape) {
                Ok(v) => {
                    prop_assert!(representable(&shape));
                    prop_assert_eq!(v.numel() as u128, n);
                    if n > 0 {
                        let mut e = v.clone();
                        for &d in &shape {
                            e = e.select(0, (d - 1) as isize);
                        }
                        prop_assert_eq!(e.item(), 1.0);
                        // Reshaping to one dimension (a copy) keeps the count; too large a
                        // copy is an error, never an abort (not tried on sizes that fit in
                        // memory but take long to fill).
                        let r = if n <= 1 << 16 || n * 4 > MAX { v.try_reshape(&[n as usize]) } else { Ok(v.clone()) };
                        if n <= 1 << 16 {
                            prop_assert_eq!(r.map(|r| r.numel()).ok(), Some(n as usize));
                        } else if n * 4 > MAX && shape.as_slice() != [n as usize] {
                            // A copy of 2^61 or more f32 elements (a reshape to the same
                            // shape is the tensor itself).
                            prop_assert!(r.is_err());
                        }
                    }
                }
                Err(e) => {
                    prop_assert!(!representable(&shape), "{:?}: {}", shape, e);
                }
            }
            // A reshape to the shape agrees with the count.
            let e = Tensor::zeros(&[0]).try_reshape(&shape);
            prop_assert_eq!(e.is_ok(), n == 0 && representable(&shape));
        }
    }

    #[test]
    fn outer_products_of_expanded_vectors_are_checked(a in dim(), b in dim()) {
        let (Ok(x), Ok(y)) = (
            Tensor::ones(&[1, 1]).try_expand(&[a, 1]),
            Tensor::ones(&[1, 1]).try_expand(&[1, b]),
        ) else {
            prop_assert!(a as u128 > MAX || b as u128 > MAX);
            return Ok(());
        };
        let n = a as u128 * b as u128;
        if n * 8 > MAX {
            prop_assert!(x.try_matmul(&y).is_err());
            prop_assert!(x.try_add(&y).is_err());
        } else if n <= 1 << 16 {
            let p = x.try_matmul(&y).unwrap();
            prop_assert_eq!(p.shape(), &[a, b]);
            prop_assert!(p.to_vec::<f32>().iter().all(|&v| v == 1.0));
            let s = x.try_add(&y).unwrap();
            prop_assert!(s.to_vec::<f32>().iter().all(|&v| v == 2.0));
        }
    }
}

#[test]
fn index_arithmetic_with_extreme_arguments_does_not_wrap() {
    let x = Tensor::arange(5.0);
    // Shifts of isize::MAX and isize::MIN: the same as shifting by their residues mod 5
    // (isize::MAX = 2^63 - 1 = 2 mod 5, isize::MIN = -2^63 = 2 mod 5).
    let r = x.roll(&[isize::MAX, isize::MIN], &[0, 0]);
    assert_eq!(r.to_vec::<f32>(), x.roll(&[4], &[0]).to_vec::<f32>());
    assert!(x.try_split_sizes(&[usize::MAX, 6], 0).is_err());
    assert!(x.try_unflatten(0, &[1 << 32, 1 << 32]).is_err());
}

/// PyTorch's allocator message for `bytes`.
fn no_memory(bytes: u128) -> String {
    format!("DefaultCPUAllocator: not enough memory: you tried to allocate {bytes} bytes.")
}

#[test]
fn kernels_that_cannot_allocate_their_result_give_try_ops_the_error() {
    // Views of one element whose results are representable (the shape checks pass) but need
    // 2^47 bytes or more, more than a 47-bit address space holds: the kernel's allocation
    // fails, and every try_ op returns PyTorch's allocator error instead of panicking.
    let f32s = Tensor::ones(&[1]).expand(&[1 << 45]);
    let f32_bytes = no_memory(1 << 47);
    let one = Tensor::ones(&[1]);
    let e = err(f32s.try_add(&one));
    assert!(e.contains(&f32_bytes), "{e}");
    let e = err(f32s.try_masked_fill(&Tensor::new([true]), 0.0));
    assert!(e.contains(&f32_bytes), "{e}");
    let e = err(Tensor::try_where_(&Tensor::new([true]), &f32s, &one));
    assert!(e.contains(&f32_bytes), "{e}");
    let e = err(Tensor::ones(&[1, 1])
        .expand(&[1 << 45, 2])
        .try_sum_dims(&[1], true));
    assert!(e.contains(&f32_bytes), "{e}");
    let a = Tensor::ones(&[1, 1]).expand(&[1 << 23, 1]);
    let b = Tensor::ones(&[1, 1]).expand(&[1, 1 << 22]);
    let e = err(a.try_matmul(&b));
    assert!(e.contains(&f32_bytes), "{e}");
    // A bool result of 2^47 elements.
    let e = err(Tensor::ones(&[1]).expand(&[1 << 47]).try_eq(&one));
    assert!(e.contains(&no_memory(1 << 47)), "{e}");
    // Kernels that work in f64 (2^48 bytes for 2^45 values).
    let e = err(f32s.try_cumsum(0));
    assert!(e.contains(&no_memory(1 << 48)), "{e}");
    let e = f32s.try_max_dim(0, false).unwrap_err().to_string();
    assert!(e.contains(&no_memory(1 << 48)), "{e}");
}

#[test]
#[should_panic(
    expected = "DefaultCPUAllocator: not enough memory: you tried to allocate 140737488355328 bytes."
)]
fn an_infallible_op_that_cannot_allocate_panics_with_the_message() {
    Tensor::ones(&[1]).expand(&[1 << 45]).exp();
}
