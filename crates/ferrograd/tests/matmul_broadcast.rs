//! Products with an operand broadcast along the inner dimension (stride 0 along `k`), which
//! the kernel forms as an outer product of one operand's column with the other's sums over
//! `k`: the expanded gradient of `sum` or `mean` reaching a matrix product. Values come from
//! mathematics (integer operands, so every product and sum is exact in f32 and f64) and from
//! the same product with the broadcast operand materialised; every derivative order is
//! checked against central differences.

use ferrograd::testing::{check_grads, GradcheckOptions};
use ferrograd::{DType, Tensor};

/// `[rows, cols]` f64 matrix with entries `f(i, j)`.
fn mat(rows: usize, cols: usize, f: impl Fn(usize, usize) -> f64) -> Tensor {
    let v: Vec<f64> = (0..rows * cols).map(|x| f(x / cols, x % cols)).collect();
    Tensor::from_vec(v, &[rows, cols])
}

fn values(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64).to_vec::<f64>()
}

/// Small integers with both signs and zeros: `(3i + 5j) mod 7 - 3`.
fn ints(i: usize, j: usize) -> f64 {
    ((3 * i + 5 * j) % 7) as f64 - 3.0
}

#[test]
fn a_broadcast_along_k_gives_its_column_times_the_column_sums() {
    for dtype in [DType::F32, DType::F64] {
        for (m, k, n) in [(1, 1, 1), (3, 4, 5), (7, 1, 2), (2, 9, 1), (17, 33, 9)] {
            let col = mat(m, 1, |i, _| i as f64 - 2.0).to_dtype(dtype);
            let a = col.expand(&[m, k]);
            assert!(k == 1 || a.strides()[1] == 0);
            let b = mat(k, n, ints).to_dtype(dtype);
            let got = values(&a.matmul(&b));
            for i in 0..m {
                for j in 0..n {
                    let colsum: f64 = (0..k).map(|p| ints(p, j)).sum();
                    assert_eq!(
                        got[i * n + j],
                        (i as f64 - 2.0) * colsum,
                        "{m}x{k}x{n} [{i},{j}]"
                    );
                }
            }
            // The same as the materialised product, bit for bit (exact integers).
            assert_eq!(got, values(&a.contiguous().matmul(&b)));
            // And through a transposed (column-major) right operand.
            let bt = mat(n, k, |j, p| ints(p, j)).to_dtype(dtype).t();
            assert_eq!(values(&a.matmul(&bt)), got);
        }
    }
}

#[test]
fn b_broadcast_along_k_gives_the_row_sums_times_its_row() {
    for dtype in [DType::F32, DType::F64] {
        for (m, k, n) in [(1, 1, 1), (3, 4, 5), (7, 1, 2), (1, 9, 2), (9, 33, 17)] {
            let row = mat(1, n, |_, j| 1.0 - j as f64).to_dtype(dtype);
            let b = row.expand(&[k, n]);
            assert!(k == 1 || b.strides()[0] == 0);
            let a = mat(m, k, ints).to_dtype(dtype);
            let got = values(&a.matmul(&b));
            for i in 0..m {
                let rowsum: f64 = (0..k).map(|p| ints(i, p)).sum();
                for j in 0..n {
                    assert_eq!(
                        got[i * n + j],
                        rowsum * (1.0 - j as f64),
                        "{m}x{k}x{n} [{i},{j}]"
                    );
                }
            }
            assert_eq!(got, values(&a.matmul(&b.contiguous())));
            // A transposed left operand sums along its other direction.
            let at = mat(k, m, |p, i| ints(i, p)).to_dtype(dtype).t();
            assert_eq!(values(&at.matmul(&b)), got);
        }
    }
}

#[test]
fn both_broadcast_and_a_scalar_expanded_to_a_matrix() {
    // ones(m, k) @ full(k, n, 2) = 2k everywhere.
    let ones = Tensor::from_vec(vec![1.0f32], &[1, 1]).expand(&[5, 6]);
    let twos = Tensor::from_vec(vec![2.0f32], &[1, 1]).expand(&[6, 3]);
    assert_eq!(ones.matmul(&twos).to_vec::<f32>(), vec![12.0; 15]);
}

#[test]
fn sum_of_a_product_has_the_gradients_of_mathematics() {
    // d sum(A @ B) / dA[i, j] = sum_q B[j, q]; d / dB[i, j] = sum_p A[p, i].
    for dtype in [DType::F32, DType::F64] {
        let (m, k, n) = (6, 5, 4);
        let a = mat(m, k, ints).to_dtype(dtype).requires_grad_(true);
        let b = mat(k, n, |i, j| ints(j, i + 1))
            .to_dtype(dtype)
            .requires_grad_(true);
        a.matmul(&b).sum().backward();
        let ga = values(&a.grad().unwrap());
        let gb = values(&b.grad().unwrap());
        for i in 0..m {
            for j in 0..k {
                let want: f64 = (0..n).map(|q| ints(q, j + 1)).sum();
                assert_eq!(ga[i * k + j], want);
            }
        }
        for i in 0..k {
            for j in 0..n {
                let want: f64 = (0..m).map(|p| ints(p, i)).sum();
                assert_eq!(gb[i * n + j], want);
            }
        }
        // mean divides by m * n.
        a.set_grad(None);
        a.matmul(&b).mean().backward();
        let gm = values(&a.grad().unwrap());
        for (x, y) in gm.iter().zip(&ga) {
            assert!((x - y / (m * n) as f64).abs() <= 1e-6 * y.abs().max(1.0));
        }
    }
}

#[test]
fn batched_products_with_a_broadcast_operand() {
    // [3, m, 1] expanded to [3, m, k], times [3, k, n]: per batch member, the column times
    // the column sums.
    let (bs, m, k, n) = (3, 4, 6, 5);
    let col: Vec<f64> = (0..bs * m).map(|x| x as f64 - 5.0).collect();
    let a = Tensor::from_vec(col.clone(), &[bs, m, 1]).expand(&[bs, m, k]);
    let bv: Vec<f64> = (0..bs * k * n)
        .map(|x| ints(x / n, x % n + x / (k * n)))
        .collect();
    let b = Tensor::from_vec(bv.clone(), &[bs, k, n]);
    let got = values(&a.matmul(&b));
    for z in 0..bs {
        for i in 0..m {
            for j in 0..n {
                let s: f64 = (0..k).map(|p| bv[z * k * n + p * n + j]).sum();
                assert_eq!(got[(z * m + i) * n + j], col[z * m + i] * s);
            }
        }
    }
    assert_eq!(got, values(&a.contiguous().matmul(&b)));
    // A batch broadcast against an expanded right operand.
    let row = Tensor::from_vec(vec![1.0, -2.0, 0.5, 4.0, 3.0], &[1, 1, n]).expand(&[bs, k, n]);
    assert_eq!(
        values(&b.transpose(1, 2).matmul(&row.narrow(2, 0, n))),
        values(&b.transpose(1, 2).matmul(&row.contiguous()))
    );
}

#[test]
fn random_operands_match_the_materialised_product() {
    ferrograd::manual_seed(7);
    for (m, k, n) in [(64, 300, 48), (129, 257, 3), (1, 1000, 1)] {
        let col = Tensor::randn(&[m, 1]).to_dtype(DType::F64);
        let b = Tensor::randn(&[k, n]).to_dtype(DType::F64);
        let a = col.expand(&[m, k]);
        let (x, y) = (values(&a.matmul(&b)), values(&a.contiguous().matmul(&b)));
        for (p, q) in x.iter().zip(&y) {
            assert!((p - q).abs() <= 1e-12 * (1.0 + q.abs()), "{p} vs {q}");
        }
        // f32: within the dense product's own rounding of the f64 result.
        let a32 = col.to_dtype(DType::F32).expand(&[m, k]);
        let got = values(&a32.matmul(&b.to_dtype(DType::F32)));
        let exact = values(
            &col.to_dtype(DType::F32)
                .to_dtype(DType::F64)
                .expand(&[m, k])
                .matmul(&b.to_dtype(DType::F32).to_dtype(DType::F64)),
        );
        let scale: f64 = y.iter().map(|v| v.abs()).fold(1.0, f64::max);
        for (p, q) in got.iter().zip(&exact) {
            assert!(
                (p - q).abs() <= 1e-6 * scale * (k as f64).sqrt(),
                "{p} vs {q}"
            );
        }
    }
}

#[test]
fn special_values_propagate_as_in_the_dense_product() {
    // inf * 1 + inf * (-1) is NaN in the dense sum, and inf * (1 - 1) here: NaN either way.
    let inf = Tensor::from_vec(vec![f64::INFINITY, 0.0], &[2, 1]).expand(&[2, 2]);
    let b = Tensor::from_vec(vec![1.0, f64::INFINITY, -1.0, 2.0], &[2, 2]);
    let got = inf.matmul(&b).to_vec::<f64>();
    let dense = inf.contiguous().matmul(&b).to_vec::<f64>();
    for (p, q) in got.iter().zip(&dense) {
        assert!(
            p.is_nan() == q.is_nan() && (p.is_nan() || p == q),
            "{p} vs {q}"
        );
    }
    // [inf - inf, inf * inf + 2 inf, 0 - 0, 0 * inf + 0]
    assert!(got[0].is_nan() && got[1] == f64::INFINITY && got[2] == 0.0 && got[3].is_nan());
    // f32 partial sums that would overflow f32 do not: 1e-30 * (3e38 + 3e38) = 6e8.
    let small = Tensor::from_vec(vec![1e-30f32], &[1, 1]).expand(&[1, 2]);
    let big = Tensor::from_vec(vec![3e38f32, 3e38], &[2, 1]);
    let v = small.matmul(&big).to_vec::<f32>()[0];
    assert!((v - 6e8).abs() <= 6e8 * 1e-6, "{v}");
}

#[test]
fn every_order_through_a_broadcast_product() {
    // f(x, w) = sum(x.expand(m, k) @ w) and (w @ x.expand) mixes both fast paths, and the
    // second-order terms run products of expanded gradients again.
    let opts = GradcheckOptions::default();
    let x = Tensor::from_vec(vec![0.3, -1.1, 0.7], &[3, 1]).requires_grad_(true);
    let w = mat(4, 2, |i, j| 0.25 * ints(i, j) + 0.1).requires_grad_(true);
    let f = |v: &[Tensor]| {
        let a = v[0].expand(&[3, 4]);
        let y = a.matmul(&v[1]);
        vec![(&y * &y).sum() + v[1].t().matmul(&a.t()).tanh().mean()]
    };
    check_grads(&f, &[x, w], 3, opts).unwrap();
}
