//! Property tests: for random broadcastable shape pairs and random values, every binary op's
//! gradients have the inputs' shapes (the engine's one broadcast reduction) and equal the
//! central-difference gradient.

use ferrograd::testing::gradcheck;
use ferrograd::{DType, Tensor};
use proptest::prelude::*;

/// A shape of rank 0..=3 with sizes 1..=3, and a second shape that broadcasts with it: each
/// dimension kept or set to 1, leading dimensions possibly dropped; the pair in either order.
fn broadcast_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    prop::collection::vec(1usize..=3, 0..=3).prop_flat_map(|a| {
        let n = a.len();
        (
            Just(a),
            prop::collection::vec(any::<bool>(), n),
            0..=n,
            any::<bool>(),
        )
            .prop_map(|(a, ones, drop, swap)| {
                let b: Vec<usize> = a
                    .iter()
                    .zip(&ones)
                    .map(|(&d, &one)| if one { 1 } else { d })
                    .skip(drop)
                    .collect();
                if swap {
                    (b, a)
                } else {
                    (a, b)
                }
            })
    })
}

fn values(n: usize) -> impl Strategy<Value = Vec<f64>> {
    // Away from 0 and from each other's negatives: divisors, kinks and ties stay clear.
    prop::collection::vec(
        (0.5f64..2.0, any::<bool>()).prop_map(|(m, neg)| if neg { -m } else { m }),
        n,
    )
}

fn leaf(shape: &[usize], v: Vec<f64>) -> Tensor {
    Tensor::from_vec(v, shape).requires_grad_(true)
}

type Op = fn(&Tensor, &Tensor) -> Tensor;

fn ops() -> Vec<(&'static str, Op, bool)> {
    // (name, op, needs a positive first operand)
    vec![
        ("add", |a, b| a + b, false),
        ("sub", |a, b| a - b, false),
        ("mul", |a, b| a * b, false),
        ("div", |a, b| a / b, false),
        ("pow_tensor", |a, b| a.pow_tensor(b), true),
        ("atan2", |a, b| a.atan2(b), false),
        ("maximum", |a, b| a.maximum(&b.mul_scalar(1.1)), false),
        ("minimum", |a, b| a.minimum(&b.mul_scalar(1.1)), false),
        ("hypot", |a, b| a.hypot(b), false),
        ("remainder", |a, b| a.mul_scalar(2.3).remainder(b), false),
        ("fmod", |a, b| a.mul_scalar(2.3).fmod(b), false),
        ("lerp_tensor", |a, b| a.lerp_tensor(b, &b.sigmoid()), false),
        (
            "where",
            |a, b| Tensor::where_(&a.gt_scalar(0.0), a, &b.exp()),
            false,
        ),
        ("clamp_tensor", |a, b| a.clamp_tensor(Some(b), None), false),
        (
            "cat_broadcast",
            |a, b| Tensor::cat(&[(a + b).exp(), a * b], -1),
            false,
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn binary_ops_reduce_broadcast_gradients_to_input_shapes(
        (sa, sb, va, vb) in broadcast_pair().prop_flat_map(|(sa, sb)| {
            let (na, nb) = (sa.iter().product(), sb.iter().product());
            (Just(sa), Just(sb), values(na), values(nb))
        }),
    ) {
        for (name, op, positive) in ops() {
            if name == "cat_broadcast" && sa.is_empty() && sb.is_empty() {
                continue; // cat needs at least one dimension
            }
            let va: Vec<f64> = if positive { va.iter().map(|v| v.abs()).collect() } else { va.clone() };
            let a = leaf(&sa, va);
            let b = leaf(&sb, vb.clone());
            let out = op(&a, &b);
            out.sum().backward();
            let (ga, gb) = (a.grad().unwrap(), b.grad().unwrap());
            prop_assert_eq!(ga.shape(), sa.as_slice(), "{} gradient of a", name);
            prop_assert_eq!(gb.shape(), sb.as_slice(), "{} gradient of b", name);
            prop_assert_eq!(ga.dtype(), DType::F64);
            let r = gradcheck(&|xs| vec![op(&xs[0], &xs[1])], &[a.detach().requires_grad_(true), b.detach().requires_grad_(true)]);
            prop_assert!(r.is_ok(), "{} with shapes {:?} and {:?}: {:?}", name, sa, sb, r);
        }
    }
}
