//! `linalg`'s spectral decompositions against values from mathematics (2x2 and 3x3 matrices
//! whose eigen- and singular values are found by hand) and their defining identities
//! (`V diag(l) V^T = A`, `V^T V = I`, `U diag(S) Vh = A`, `U^T U = I`, the Moore-Penrose
//! conditions), at degenerate points too: repeated eigenvalues, rank-deficient and zero
//! matrices, empty batches and 0x0 matrices.

use ferrograd::{linalg, DType, Tensor};

fn t(values: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(values.to_vec(), shape)
}

fn close(got: &Tensor, want: &[f64], tol: f64) {
    let g = got.to_vec::<f64>();
    assert_eq!(g.len(), want.len(), "{g:?} vs {want:?}");
    for (a, b) in g.iter().zip(want) {
        assert!((a - b).abs() <= tol, "{g:?} vs {want:?}");
    }
}

fn eye(n: usize) -> Vec<f64> {
    (0..n * n)
        .map(|k| f64::from(u8::from(k / n == k % n)))
        .collect()
}

/// `A = V diag(l) V^T` and `V^T V = I` to `tol`.
fn check_eigh(a: &Tensor, l: &Tensor, v: &Tensor, tol: f64) {
    let n = a.shape()[a.dim() - 1];
    let rebuilt = (v * &l.unsqueeze(-2)).matmul(&v.m_t());
    close(&rebuilt, &a.to_vec::<f64>(), tol);
    let gram = v.m_t().matmul(v);
    let batch = a.numel() / (n * n).max(1);
    close(&gram, &eye(n).repeat(batch), tol);
    let lv = l.to_vec::<f64>();
    for w in lv.chunks(n.max(1)) {
        assert!(w.windows(2).all(|p| p[0] <= p[1]), "not ascending: {lv:?}");
    }
}

/// `A = U[:, :k] diag(S) Vh[:k, :]`, `U^T U = I`, `Vh Vh^T = I` to `tol`.
fn check_svd(a: &Tensor, u: &Tensor, s: &Tensor, vh: &Tensor, tol: f64) {
    let k = s.shape()[s.dim() - 1];
    let rebuilt = (&u.narrow(-1, 0, k) * &s.unsqueeze(-2)).matmul(&vh.narrow(-2, 0, k));
    close(&rebuilt, &a.to_vec::<f64>(), tol);
    let (uc, vr) = (u.shape()[u.dim() - 1], vh.shape()[vh.dim() - 2]);
    let batch: usize = a.shape()[..a.dim() - 2].iter().product();
    close(&u.m_t().matmul(u), &eye(uc).repeat(batch), tol);
    close(&vh.matmul(&vh.m_t()), &eye(vr).repeat(batch), tol);
    let sv = s.to_vec::<f64>();
    for w in sv.chunks(k.max(1)) {
        assert!(w.windows(2).all(|p| p[0] >= p[1]), "not descending: {sv:?}");
        assert!(w.iter().all(|&x| x >= 0.0));
    }
}

#[test]
fn eigh_of_hand_computed_matrices() {
    let h = std::f64::consts::FRAC_1_SQRT_2;
    // [[2, 1], [1, 2]]: 1 with (1, -1) / sqrt 2, 3 with (1, 1) / sqrt 2.
    let a = t(&[2.0, 1.0, 1.0, 2.0], &[2, 2]);
    let (l, v) = linalg::eigh(&a, "L");
    close(&l, &[1.0, 3.0], 1e-15);
    close(&v, &[h, h, -h, h], 1e-15);
    check_eigh(&a, &l, &v, 1e-15);
    // [[2, 0, 0], [0, 3, 4], [0, 4, 9]]: 2, and 6 -+ 5 from the 2x2 block (trace 12, det 11).
    let a = t(&[2.0, 0.0, 0.0, 0.0, 3.0, 4.0, 0.0, 4.0, 9.0], &[3, 3]);
    let (l, v) = linalg::eigh(&a, "L");
    close(&l, &[1.0, 2.0, 11.0], 1e-14);
    let r = 1.0 / 5f64.sqrt();
    // Columns: (0, 2, -1)/sqrt 5, (1, 0, 0), (0, 1, 2)/sqrt 5 (largest component positive).
    close(
        &v,
        &[0.0, 1.0, 0.0, 2.0 * r, 0.0, r, -r, 0.0, 2.0 * r],
        1e-15,
    );
    check_eigh(&a, &l, &v, 1e-14);
    assert_eq!(linalg::eigvalsh(&a, "L").to_vec::<f64>(), l.to_vec::<f64>());
}

#[test]
fn eigh_reads_one_triangle() {
    // Lower: [[1, 2], [2, 1]] (eigenvalues -1, 3); upper: [[1, 100], [100, 1]] (-99, 101).
    let a = t(&[1.0, 100.0, 2.0, 1.0], &[2, 2]);
    close(&linalg::eigvalsh(&a, "L"), &[-1.0, 3.0], 1e-14);
    close(&linalg::eigvalsh(&a, "l"), &[-1.0, 3.0], 1e-14);
    close(&linalg::eigvalsh(&a, "U"), &[-99.0, 101.0], 1e-13);
    let e = linalg::try_eigh(&a, "X").unwrap_err();
    assert_eq!(
        e.to_string(),
        "linalg.eigh: Expected UPLO argument to be 'L' or 'U', but got X"
    );
}

#[test]
fn eigh_at_repeated_eigenvalues_and_zero() {
    // J - I... here [[2,1,1],[1,2,1],[1,1,2]] = I + ones: 1, 1, 4; (1, 1, 1) / sqrt 3 for 4.
    let a = t(&[2.0, 1.0, 1.0, 1.0, 2.0, 1.0, 1.0, 1.0, 2.0], &[3, 3]);
    let (l, v) = linalg::eigh(&a, "L");
    close(&l, &[1.0, 1.0, 4.0], 1e-14);
    check_eigh(&a, &l, &v, 1e-14);
    let r = 1.0 / 3f64.sqrt();
    close(&v.select(-1, 2), &[r, r, r], 1e-15);
    // A multiple of the identity and the zero matrix: exact, V = I.
    let (l, v) = linalg::eigh(&t(&[0.0; 9], &[3, 3]), "L");
    assert_eq!(l.to_vec::<f64>(), vec![0.0; 3]);
    assert_eq!(v.to_vec::<f64>(), eye(3));
    let (l, v) = linalg::eigh(&t(&[5.0, 0.0, 0.0, 5.0], &[2, 2]), "U");
    assert_eq!(
        (l.to_vec::<f64>(), v.to_vec::<f64>()),
        (vec![5.0; 2], eye(2))
    );
}

#[test]
fn eigh_is_accurate_on_an_ill_conditioned_matrix() {
    // The 6x6 Hilbert matrix (condition number about 1.5e7).
    let n = 6;
    let vals: Vec<f64> = (0..n * n)
        .map(|k| 1.0 / ((k / n + k % n + 1) as f64))
        .collect();
    let a = t(&vals, &[n, n]);
    let (l, v) = linalg::eigh(&a, "L");
    check_eigh(&a, &l, &v, 2e-15);
    // The smallest eigenvalue of the 6x6 Hilbert matrix: 1.0827994845e-7.
    let l0 = l.to_vec::<f64>()[0];
    assert!((l0 - 1.082_799_484_5e-7).abs() < 1e-14, "{l0}");
    let (u, s, vh) = linalg::svd(&a, true);
    check_svd(&a, &u, &s, &vh, 2e-15);
    // For a positive definite matrix the singular values are the eigenvalues.
    assert!((s.to_vec::<f64>()[5] - l0).abs() < 1e-15);
}

#[test]
fn eigh_batches_empty_and_f32() {
    let a = t(&[2.0, 1.0, 1.0, 2.0, 4.0, 0.0, 0.0, -1.0], &[2, 2, 2]);
    let (l, v) = linalg::eigh(&a, "L");
    assert_eq!(v.shape(), &[2, 2, 2]);
    close(&l, &[1.0, 3.0, -1.0, 4.0], 1e-15);
    check_eigh(&a, &l, &v, 1e-15);
    let (l, v) = linalg::eigh(&Tensor::zeros(&[0, 3, 3]).to_dtype(DType::F64), "L");
    assert_eq!((l.shape(), v.shape()), (&[0, 3][..], &[0, 3, 3][..]));
    let (l, v) = linalg::eigh(&Tensor::zeros(&[0, 0]), "L");
    assert_eq!((l.shape(), v.shape()), (&[0][..], &[0, 0][..]));
    let f = Tensor::new([[2.0, 1.0], [1.0, 2.0]]);
    let (l, v) = linalg::eigh(&f, "L");
    assert_eq!((l.dtype(), v.dtype()), (DType::F32, DType::F32));
    assert_eq!(l.to_vec::<f32>(), vec![1.0, 3.0]);
}

#[test]
fn eigh_errors() {
    let e = linalg::try_eigh(&Tensor::zeros(&[3]), "L").unwrap_err();
    assert_eq!(
        e.to_string(),
        "linalg.eigh: The input tensor A must have at least 2 dimensions."
    );
    let e = linalg::try_eigvalsh(&Tensor::zeros(&[2, 2, 3]), "L").unwrap_err();
    assert_eq!(
        e.to_string(),
        "linalg.eigvalsh: A must be batches of square matrices, but they are 2 by 3 matrices"
    );
    let i = Tensor::from_data([[1i64, 0], [0, 1]], DType::I64);
    assert!(linalg::try_eigh(&i, "L")
        .unwrap_err()
        .to_string()
        .contains("Expected a floating point"));
    assert!(linalg::try_svd(&i, true).is_err());
}

#[test]
fn eigh_gradients_at_repeated_eigenvalues() {
    // eigvalsh: V diag(g) V^T, finite at a repeated eigenvalue. sum(l^2) = |A|_F^2: 2 A.
    let a = t(&[2.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 1.0], &[3, 3]).requires_grad_(true);
    linalg::eigvalsh(&a, "L").square().sum().backward();
    close(
        &a.grad().unwrap(),
        &[4.0, 0.0, 0.0, 0.0, 4.0, 0.0, 0.0, 0.0, 2.0],
        1e-15,
    );
    // Through the eigenvectors the gradient divides by l_j - l_i = 0 (PyTorch's too).
    let b = t(&eye(2), &[2, 2]).requires_grad_(true);
    let (l, v) = linalg::eigh(&b, "L");
    assert_eq!(l.grad_fn().unwrap().name(), "LinalgEighBackward0");
    assert_eq!(v.grad_fn().unwrap().name(), "LinalgEighBackward0");
    v.select(-1, 0).sum().backward();
    assert!(b
        .grad()
        .unwrap()
        .to_vec::<f64>()
        .iter()
        .any(|x| !x.is_finite()));
}

#[test]
fn svd_of_hand_computed_matrices() {
    // [[3, 0], [4, 5]]: A^T A = [[25, 20], [20, 25]], eigenvalues 45 and 5.
    let a = t(&[3.0, 0.0, 4.0, 5.0], &[2, 2]);
    let (u, s, vh) = linalg::svd(&a, true);
    close(&s, &[45f64.sqrt(), 5f64.sqrt()], 1e-14);
    check_svd(&a, &u, &s, &vh, 1e-14);
    // U = (1, 3)/sqrt 10, (3, -1)/sqrt 10 (largest component positive).
    let r = 1.0 / 10f64.sqrt();
    close(&u, &[r, 3.0 * r, 3.0 * r, -r], 1e-15);
    // Tall rank 1: x y^T with x = (1, 2, 3), y = (1, 2): s = |x| |y| = sqrt 70, 0.
    let a = t(&[1.0, 2.0, 2.0, 4.0, 3.0, 6.0], &[3, 2]);
    for full in [false, true] {
        let (u, s, vh) = linalg::svd(&a, full);
        assert_eq!(u.shape(), if full { &[3, 3] } else { &[3, 2] });
        close(&s, &[70f64.sqrt(), 0.0], 1e-14);
        check_svd(&a, &u, &s, &vh, 1e-14);
    }
    // Wide: the transpose's values, U and Vh swapped.
    let at = a.m_t().contiguous();
    let (u, s, vh) = linalg::svd(&at, true);
    assert_eq!((u.shape(), vh.shape()), (&[2, 2][..], &[3, 3][..]));
    close(&s, &[70f64.sqrt(), 0.0], 1e-14);
    check_svd(&at, &u, &s, &vh, 1e-14);
    assert_eq!(linalg::svdvals(&at).to_vec::<f64>(), s.to_vec::<f64>());
}

#[test]
fn svd_degenerate_batched_and_empty() {
    // The zero matrix: S = 0, U and Vh orthogonal completions (identities).
    let z = t(&[0.0; 6], &[2, 3]);
    let (u, s, vh) = linalg::svd(&z, true);
    assert_eq!(s.to_vec::<f64>(), vec![0.0, 0.0]);
    check_svd(&z, &u, &s, &vh, 0.0);
    // Repeated singular values: an orthogonal matrix times 2.
    let c = (0.3f64).cos() * 2.0;
    let sn = (0.3f64).sin() * 2.0;
    let q = t(&[c, -sn, sn, c], &[2, 2]);
    let (u, s, vh) = linalg::svd(&q, false);
    close(&s, &[2.0, 2.0], 1e-15);
    check_svd(&q, &u, &s, &vh, 1e-15);
    // Batches, an empty batch, 0 x n and m x 0.
    let b = t(
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 0.0, 1.0, 1.0, 0.0, 2.0, 2.0],
        &[2, 3, 2],
    );
    let (u, s, vh) = linalg::svd(&b, false);
    check_svd(&b, &u, &s, &vh, 1e-14);
    let (u, s, vh) = linalg::svd(&Tensor::zeros(&[0, 3, 2]), true);
    assert_eq!(
        (u.shape(), s.shape(), vh.shape()),
        (&[0, 3, 3][..], &[0, 2][..], &[0, 2, 2][..])
    );
    let (u, s, vh) = linalg::svd(&Tensor::zeros(&[2, 0]).to_dtype(DType::F64), true);
    assert_eq!(
        (u.shape(), s.shape(), vh.shape()),
        (&[2, 2][..], &[0][..], &[0, 0][..])
    );
    assert_eq!(u.to_vec::<f64>(), eye(2));
    let (u, s, vh) = linalg::svd(&Tensor::zeros(&[0, 3]), false);
    assert_eq!(
        (u.shape(), s.shape(), vh.shape()),
        (&[0, 0][..], &[0][..], &[0, 3][..])
    );
}

#[test]
fn svd_gradients() {
    // svdvals: U diag(g) Vh, finite at a rank-deficient matrix. sum(s^2) = |A|_F^2: 2 A.
    let a = t(&[1.0, 2.0, 2.0, 4.0, 3.0, 6.0], &[3, 2]).requires_grad_(true);
    linalg::svdvals(&a).square().sum().backward();
    close(&a.grad().unwrap(), &[2.0, 4.0, 4.0, 8.0, 6.0, 12.0], 1e-13);
    // With full matrices, U's columns past k get no gradient: the same as reduced.
    let x = t(&[3.0, 1.0, -1.0, 2.0, 0.5, 1.0], &[3, 2]);
    let grad_of = |full: bool| {
        let x = x.detach().requires_grad_(true);
        let (u, _, _) = linalg::svd(&x, full);
        assert_eq!(u.grad_fn().unwrap().name(), "LinalgSvdBackward0");
        u.sum().backward();
        x.grad().unwrap().to_vec::<f64>()
    };
    let (g_full, g_reduced) = (grad_of(true), grad_of(false));
    for (p, q) in g_full.iter().zip(&g_reduced) {
        assert!((p - q).abs() < 1e-14);
    }
}

#[test]
fn pinv_moore_penrose() {
    // Rank 1: pinv(x y^T) = y x^T / (|x|^2 |y|^2).
    let a = t(&[1.0, 2.0, 2.0, 4.0, 3.0, 6.0], &[3, 2]);
    let p = linalg::pinv(&a, None, None, false);
    assert_eq!(p.shape(), &[2, 3]);
    let want: Vec<f64> = [1.0, 2.0, 3.0, 2.0, 4.0, 6.0]
        .iter()
        .map(|v| v / 70.0)
        .collect();
    close(&p, &want, 1e-15);
    for a in [
        a.clone(),
        t(&[1.0, -2.0, 0.5, 3.0, 1.0, 2.0], &[2, 3]),
        t(&[0.0; 4], &[2, 2]),
        t(&[2.0, 1.0, 1.0, 1.0, 2.0, 1.0, 1.0, 1.0, 2.0], &[3, 3]),
    ] {
        for hermitian in [false, true] {
            if hermitian && a.shape()[0] != a.shape()[1] {
                continue;
            }
            let p = linalg::pinv(&a, None, None, hermitian);
            let (ap, pa) = (a.matmul(&p), p.matmul(&a));
            close(&ap.matmul(&a), &a.to_vec::<f64>(), 1e-14);
            close(&pa.matmul(&p), &p.to_vec::<f64>(), 1e-14);
            close(&ap.m_t(), &ap.to_vec::<f64>(), 1e-14);
            close(&pa.m_t(), &pa.to_vec::<f64>(), 1e-14);
        }
    }
    // Invertible: the inverse. A tolerance drops small singular values.
    let a = t(&[2.0, 0.0, 0.0, 1e-3], &[2, 2]);
    close(
        &linalg::pinv(&a, None, None, false),
        &[0.5, 0.0, 0.0, 1000.0],
        1e-12,
    );
    close(
        &linalg::pinv(&a, Some(0.01), None, false),
        &[0.5, 0.0, 0.0, 0.0],
        0.0,
    );
    close(
        &linalg::pinv(&a, None, Some(0.01), true),
        &[0.5, 0.0, 0.0, 0.0],
        0.0,
    );
    assert_eq!(
        linalg::pinv(&Tensor::zeros(&[0, 3]), None, None, false).shape(),
        &[3, 0]
    );
}

#[test]
fn matrix_norms_by_hand() {
    // [[1, -2], [3, 4]]: |A|_F^2 = 30; A^T A has trace 30, det 100, so s^2 = 15 -+ 5 sqrt 5
    // and s1 s2 = 10, s1 + s2 = sqrt(30 + 20).
    let a = t(&[1.0, -2.0, 3.0, 4.0], &[2, 2]);
    let n = |ord: &str| linalg::matrix_norm(&a, ord, &[-2, -1], false).item();
    let s1 = (15.0 + 5.0 * 5f64.sqrt()).sqrt();
    let s2 = (15.0 - 5.0 * 5f64.sqrt()).sqrt();
    for (ord, want) in [
        ("fro", 30f64.sqrt()),
        ("nuc", 50f64.sqrt()),
        ("2", s1),
        ("-2", s2),
        ("1", 6.0),
        ("-1", 4.0),
        ("inf", 7.0),
        ("-inf", 3.0),
        ("2.0", s1),
        ("-infinity", 3.0),
    ] {
        assert!((n(ord) - want).abs() < 1e-14, "{ord}: {} vs {want}", n(ord));
    }
    // Other dims and keepdim: the same matrix as dims (0, 2) of a [2, 1, 2] tensor.
    let b = a.reshape(&[2, 1, 2]);
    for ord in ["fro", "nuc", "2", "1", "-inf"] {
        let r = linalg::matrix_norm(&b, ord, &[0, 2], true);
        assert_eq!(r.shape(), &[1, 1, 1]);
        assert!((r.item() - n(ord)).abs() < 1e-14);
        let r = linalg::matrix_norm(&b, ord, &[2, 0], false);
        assert_eq!(r.shape(), &[1]);
    }
    // Transposed dims: the 1-norm of A^T is A's inf-norm.
    assert_eq!(linalg::matrix_norm(&a, "1", &[-1, -2], false).item(), 7.0);
    assert_eq!(
        linalg::matrix_norm(&t(&[0.0; 4], &[2, 2]), "nuc", &[-2, -1], false).item(),
        0.0
    );
    let e = |ord: &str, dim: &[isize]| {
        linalg::try_matrix_norm(&a, ord, dim, false)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        e("0", &[-2, -1]),
        "linalg.matrix_norm: Order 0 not supported."
    );
    assert_eq!(
        e("max", &[-2, -1]),
        "linalg.matrix_norm: Order max not supported."
    );
    assert_eq!(
        e("fro", &[0]),
        "linalg.matrix_norm: dim must be a 2-tuple. Got [0]"
    );
    assert_eq!(
        e("fro", &[1, -1]),
        "linalg.matrix_norm: dims must be different. Got (1, 1)"
    );
}

#[test]
fn cond_and_rank() {
    let a = t(&[1.0, -2.0, 3.0, 4.0], &[2, 2]);
    // s1 / s2 = s1^2 / (s1 s2) = (15 + 5 sqrt 5) / 10.
    let want = (15.0 + 5.0 * 5f64.sqrt()) / 10.0;
    assert!((linalg::cond(&a, None).item() - want).abs() < 1e-13);
    assert!((linalg::cond(&a, Some("-2")).item() - 1.0 / want).abs() < 1e-14);
    // 1-norm: |A|_1 = 6, inv(A) = [[4, 2], [-3, 1]] / 10, |inv(A)|_1 = 0.7.
    assert!((linalg::cond(&a, Some("1")).item() - 4.2).abs() < 1e-14);
    let singular = t(&[1.0, 2.0, 2.0, 4.0, 1.0, 0.0, 0.0, 1.0], &[2, 2, 2]);
    let c = linalg::cond(&singular, Some("fro")).to_vec::<f64>();
    assert!(c[0].is_infinite() && (c[1] - 2.0).abs() < 1e-14);
    assert_eq!(
        linalg::matrix_rank(&singular, None, None, false).to_vec::<i64>(),
        vec![1, 2]
    );
    assert_eq!(
        linalg::matrix_rank(&singular, None, None, true).to_vec::<i64>(),
        vec![1, 2]
    );
    assert_eq!(
        linalg::matrix_rank(&t(&[0.0; 6], &[2, 3]), None, None, false).to_vec::<i64>(),
        vec![0]
    );
    let r = linalg::matrix_rank(&t(&[1.0, 0.0, 0.0, 1e-3], &[2, 2]), Some(0.01), None, false);
    assert_eq!((r.dtype(), r.to_vec::<i64>()), (DType::I64, vec![1]));
}

#[test]
fn moderate_sizes_reconstruct() {
    let n = 40;
    let vals: Vec<f64> = (0..n * n)
        .map(|k| (k * 7919 % 1000) as f64 / 500.0 - 1.0)
        .collect();
    let a = t(&vals, &[n, n]);
    let sym = (&a + &a.m_t()).mul_scalar(0.5);
    let (l, v) = linalg::eigh(&sym, "L");
    check_eigh(&sym, &l, &v, 1e-13);
    for b in [a.narrow(0, 0, 30), a.narrow(1, 0, 25), a.clone()] {
        for full in [false, true] {
            let (u, s, vh) = linalg::svd(&b, full);
            check_svd(&b, &u, &s, &vh, 1e-13);
        }
    }
}
