//! `linalg`'s factorizations against their defining identities (`L L^T = A`, `Q R = A`,
//! `Q^T Q = I`, `P L U = A`), hand-computed factorizations, and gradients of gauge-invariant
//! functions against finite differences.

use ferrograd::testing::{gradcheck, gradgradcheck};
use ferrograd::{linalg, DType, Tensor};

fn t(rows: &[&[f64]]) -> Tensor {
    let n = rows[0].len();
    let v: Vec<f64> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    Tensor::from_vec(v, &[rows.len(), n])
}

fn close(a: &Tensor, b: &Tensor, tol: f64) {
    assert_eq!(a.shape(), b.shape());
    let (x, y) = (a.to_vec::<f64>(), b.to_vec::<f64>());
    for (i, (p, q)) in x.iter().zip(&y).enumerate() {
        assert!(
            (p - q).abs() <= tol * (1.0 + q.abs()),
            "element {i}: {p} vs {q}\n{x:?}\n{y:?}"
        );
    }
}

/// A deterministic pseudo-random `[.., r, c]` f64 tensor.
fn rnd(shape: &[usize], seed: u64) -> Tensor {
    let n: usize = shape.iter().product();
    let mut s = seed.wrapping_mul(0x9E3779B97F4A7C15) | 1;
    let v: Vec<f64> = (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect();
    Tensor::from_vec(v, shape)
}

fn spd(shape: &[usize], seed: u64) -> Tensor {
    let x = rnd(shape, seed);
    let n = shape[shape.len() - 1];
    &x.matmul(&x.m_t()) + &Tensor::eye_with(n, DType::F64).mul_scalar(n as f64)
}

#[test]
fn cholesky_known_values_and_identity() {
    // [[4, 12, -16], [12, 37, -43], [-16, -43, 98]] = L L^T, L = [[2, 0, 0], [6, 1, 0], [-8, 5, 3]].
    let a = t(&[
        &[4.0, 12.0, -16.0],
        &[12.0, 37.0, -43.0],
        &[-16.0, -43.0, 98.0],
    ]);
    let l = linalg::cholesky(&a, false);
    close(
        &l,
        &t(&[&[2.0, 0.0, 0.0], &[6.0, 1.0, 0.0], &[-8.0, 5.0, 3.0]]),
        1e-14,
    );
    close(&linalg::cholesky(&a, true), &l.m_t(), 1e-14);
    for shape in [&[4, 4][..], &[2, 3, 5, 5], &[1, 1]] {
        let a = spd(shape, 3);
        let l = linalg::cholesky(&a, false);
        close(&l.matmul(&l.m_t()), &a, 1e-12);
        close(&l, &l.tril(0), 0.0);
    }
    // Each form reads its own triangle only (the other holds garbage here).
    let u = linalg::cholesky(&t(&[&[4.0, 2.0], &[-7.0, 3.0]]).requires_grad_(true), true);
    close(&u, &t(&[&[2.0, 1.0], &[0.0, 2f64.sqrt()]]), 1e-15);
    assert_eq!(u.grad_fn().unwrap().name(), "LinalgCholeskyExBackward0");
    let l = linalg::cholesky(&t(&[&[4.0, -7.0], &[2.0, 3.0]]), false);
    close(&l, &t(&[&[2.0, 0.0], &[1.0, 2f64.sqrt()]]), 1e-15);
    assert_eq!(
        linalg::cholesky(&Tensor::zeros(&[0, 3, 3]), false).shape(),
        &[0, 3, 3]
    );
    assert_eq!(
        linalg::cholesky(&Tensor::zeros(&[0, 0]), false).shape(),
        &[0, 0]
    );
    let e = linalg::try_cholesky(&Tensor::zeros(&[2, 2, 2]), false).unwrap_err();
    assert_eq!(e.to_string(), "linalg.cholesky: (Batch element 0): The factorization could not be completed because the input is not positive-definite (the leading minor of order 1 is not positive-definite).");
    assert!(linalg::try_cholesky(&Tensor::zeros(&[2, 3]), false).is_err());
    assert!(linalg::try_cholesky(&Tensor::zeros(&[3]), false).is_err());
}

#[test]
fn triangular_and_cholesky_solves_agree_with_solve() {
    let a = spd(&[2, 4, 4], 5);
    let b = rnd(&[2, 4, 3], 6);
    let l = linalg::cholesky(&a, false);
    close(&linalg::cholesky_solve(&b, &l, false), &a.solve(&b), 1e-10);
    close(
        &linalg::cholesky_solve(&b, &l.m_t(), true),
        &a.solve(&b),
        1e-10,
    );
    // Lower, upper, right-sided and unit-triangular solves against their equations.
    let u = l.m_t();
    let x = linalg::solve_triangular(&u, &b, true, true, false);
    close(&u.matmul(&x), &b, 1e-12);
    let br = rnd(&[2, 3, 4], 7);
    let x = linalg::solve_triangular(&l, &br, false, false, false);
    close(&x.matmul(&l), &br, 1e-12);
    let x = linalg::solve_triangular(&l, &b, false, true, true);
    let unit = &l.tril(-1) + &Tensor::eye_with(4, DType::F64);
    close(&unit.matmul(&x), &b, 1e-12);
    // Batch dimensions broadcast: [4, 4] against [3, 4, 2].
    let b3 = rnd(&[3, 4, 2], 8);
    let l0 = l.select(0, 0);
    let x = linalg::solve_triangular(&l0, &b3, false, true, false);
    assert_eq!(x.shape(), &[3, 4, 2]);
    close(&l0.matmul(&x), &b3, 1e-12);
    let e = linalg::try_solve_triangular(&l0, &rnd(&[3, 2], 1), false, true, false).unwrap_err();
    assert!(e.to_string().contains("(4x4 and 3x2)"), "{e}");
}

#[test]
fn lu_known_values_identity_and_solve() {
    // [[1, 2], [3, 4]]: P swaps the rows, L = [[1, 0], [1/3, 1]], U = [[3, 4], [0, 2/3]].
    let a = t(&[&[1.0, 2.0], &[3.0, 4.0]]);
    let (p, l, u) = linalg::lu(&a, true);
    close(&p, &t(&[&[0.0, 1.0], &[1.0, 0.0]]), 0.0);
    close(&l, &t(&[&[1.0, 0.0], &[1.0 / 3.0, 1.0]]), 1e-15);
    close(&u, &t(&[&[3.0, 4.0], &[0.0, 2.0 / 3.0]]), 1e-15);
    for shape in [&[5, 5][..], &[2, 3, 4, 4], &[1, 1]] {
        let a = rnd(shape, 11);
        let (p, l, u) = linalg::lu(&a, true);
        close(&p.matmul(&l).matmul(&u), &a, 1e-12);
        let (lu, piv) = linalg::lu_factor(&a, true);
        let n = shape[shape.len() - 1];
        let b = rnd(&[n, 2], 12);
        close(
            &linalg::lu_solve(&lu, &piv, &b, true, false),
            &a.solve(&b),
            1e-9,
        );
        close(
            &linalg::lu_solve(&lu, &piv, &b, true, true),
            &a.m_t().solve(&b),
            1e-9,
        );
        let br = rnd(&[2, n], 13);
        let x = linalg::lu_solve(&lu, &piv, &br, false, false);
        close(&x.matmul(&a), &br.expand(x.shape()), 1e-9);
    }
    // Rectangular: P (m x m) L (m x k) U (k x n).
    for shape in [&[5, 3][..], &[3, 5], &[2, 4, 2], &[1, 3]] {
        let a = rnd(shape, 14);
        let (p, l, u) = linalg::lu(&a, true);
        let (m, n) = (shape[shape.len() - 2], shape[shape.len() - 1]);
        let k = m.min(n);
        assert_eq!(l.shape()[l.dim() - 2..], [m, k]);
        assert_eq!(u.shape()[u.dim() - 2..], [k, n]);
        close(&p.matmul(&l).matmul(&u), &a, 1e-12);
        close(&u, &u.triu(0), 0.0);
        assert_eq!(linalg::lu_factor(&a, true).1.shape()[a.dim() - 2], k);
    }
    // Singular matrices: lu factors them, lu_factor refuses as PyTorch does.
    let s = t(&[&[1.0, 2.0], &[2.0, 4.0]]);
    let (p, l, u) = linalg::lu(&s, true);
    close(&p.matmul(&l).matmul(&u), &s, 1e-15);
    let e = linalg::try_lu_factor(&s, true).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("torch.linalg.lu_factor: U[2,2] is zero"),
        "{e}"
    );
    assert!(linalg::try_lu_factor(&a, false).is_err());
    assert_eq!(
        linalg::lu_factor(&Tensor::zeros(&[0, 2, 2]), true)
            .1
            .shape(),
        &[0, 2]
    );
}

#[test]
fn slogdet_and_logdet_known_values() {
    let a = t(&[&[1.0, 2.0], &[3.0, 4.0]]);
    let (s, l) = linalg::slogdet(&a);
    assert_eq!(s.item(), -1.0);
    assert!((l.item() - 2f64.ln()).abs() < 1e-15);
    assert!(linalg::logdet(&a).item().is_nan());
    let (s, l) = linalg::slogdet(&t(&[&[1.0, 2.0], &[2.0, 4.0]]));
    assert_eq!((s.item(), l.item()), (0.0, f64::NEG_INFINITY));
    assert_eq!(
        linalg::logdet(&t(&[&[0.0, 0.0], &[0.0, 1.0]])).item(),
        f64::NEG_INFINITY
    );
    let d = t(&[&[2.0, 0.0, 0.0], &[0.0, 3.0, 0.0], &[0.0, 0.0, 5.0]]);
    assert!((linalg::logdet(&d).item() - 30f64.ln()).abs() < 1e-14);
    // 0x0: det 1.
    let (s, l) = linalg::slogdet(&Tensor::zeros(&[0, 0]));
    assert_eq!((s.item(), l.item()), (1.0, 0.0));
    // The gradient of log|det A| is inv(A)^T.
    let x = a.requires_grad_(true);
    let (_, l) = linalg::slogdet(&x);
    l.backward();
    close(&x.grad().unwrap(), &x.detach().inv().m_t(), 1e-14);
}

#[test]
fn qr_known_values_and_identities() {
    // [[3, 0], [4, 5]]: the first reflector H = I - 1.6 v v^T, v = (1, 0.5), maps (3, 4) to
    // (-5, 0); the last column has nothing below the diagonal, so LAPACK's dlarfg leaves it
    // (tau = 0): Q = H = [[-0.6, -0.8], [-0.8, 0.6]], R = H A = [[-5, -4], [0, 3]].
    let a = t(&[&[3.0, 0.0], &[4.0, 5.0]]);
    let (q, r) = linalg::qr(&a, "reduced");
    close(&q, &t(&[&[-0.6, -0.8], &[-0.8, 0.6]]), 1e-15);
    close(&r, &t(&[&[-5.0, -4.0], &[0.0, 3.0]]), 1e-15);
    for (shape, mode) in [
        (&[5, 3][..], "reduced"),
        (&[3, 5], "reduced"),
        (&[4, 4], "reduced"),
        (&[2, 5, 3], "complete"),
        (&[2, 3, 5], "complete"),
        (&[1, 1], "reduced"),
    ] {
        let a = rnd(shape, 21);
        let (q, r) = linalg::qr(&a, mode);
        close(&q.matmul(&r), &a, 1e-12);
        let k = q.shape()[q.dim() - 1];
        let qtq = q.m_t().matmul(&q);
        let eye = Tensor::eye_with(k, DType::F64).expand(qtq.shape());
        close(&qtq, &eye, 1e-12);
        close(&r, &r.triu(0), 0.0);
        let (e, r2) = linalg::qr(&a, "r");
        assert_eq!(e.shape(), &[0]);
        close(&r2, &linalg::qr(&a, "reduced").1, 0.0);
    }
    let (q, r) = linalg::qr(&Tensor::zeros(&[0, 3, 2]).to_dtype(DType::F64), "reduced");
    assert_eq!((q.shape(), r.shape()), (&[0, 3, 2][..], &[0, 2, 2][..]));
    let x = rnd(&[4, 2], 1).requires_grad_(true);
    let e = linalg::try_qr(&x, "complete").unwrap_err();
    assert_eq!(e.to_string(), "linalg.qr: The QR decomposition is not differentiable when mode='complete' and nrows > ncols.");
}

#[test]
fn lstsq_solves_least_squares() {
    // Tall: the normal equations' solution.
    let a = rnd(&[6, 3], 31);
    let b = rnd(&[6, 2], 32);
    let (x, res, rank, sv) = linalg::lstsq(&a, &b, None, None);
    let want = a.m_t().matmul(&a).solve(&a.m_t().matmul(&b));
    close(&x, &want, 1e-10);
    assert_eq!((res.shape(), sv.shape()), (&[0][..], &[0][..]));
    assert_eq!(rank.to_vec::<i64>(), vec![3]);
    let (_, res, _, _) = linalg::lstsq(&a, &b, None, Some("gels"));
    let r = &a.matmul(&x) - &b;
    close(&res, &(&r * &r).sum_dims(&[-2], false), 1e-10);
    // Wide: the minimum-norm solution A^T (A A^T)^{-1} B.
    let a = rnd(&[2, 3, 5], 33);
    let b = rnd(&[2, 3, 1], 34);
    let (x, _, _, _) = linalg::lstsq(&a, &b, None, None);
    let want = a.m_t().matmul(&a.matmul(&a.m_t()).solve(&b));
    close(&x, &want, 1e-10);
    // A vector right-hand side.
    let a = rnd(&[4, 2], 35);
    let (x, _, _, _) = linalg::lstsq(&a, &rnd(&[4], 36), None, None);
    assert_eq!(x.shape(), &[2]);
    assert!(linalg::try_lstsq(&a, &rnd(&[3], 36), None, None).is_err());
    assert!(linalg::try_lstsq(&a, &rnd(&[4], 36), None, Some("gelsq")).is_err());
    // Rank-deficient: refused, not infinities.
    let e = linalg::try_lstsq(
        &t(&[&[1.0, 2.0], &[2.0, 4.0], &[3.0, 6.0]]),
        &rnd(&[3, 1], 1),
        None,
        None,
    )
    .unwrap_err();
    assert!(e.to_string().contains("rank-deficient (rank 1 < 2)"), "{e}");
}

/// Gauge-invariant functions of the factors (the factors themselves are unique, so every
/// smooth function of them is), checked against central differences to second order.
#[test]
fn gradients_of_factor_functions_match_finite_differences() {
    let sym = |x: &Tensor| {
        let n = x.shape()[x.dim() - 1];
        &x.matmul(&x.m_t()) + &Tensor::eye_with(n, DType::F64).mul_scalar(n as f64)
    };
    let x = rnd(&[3, 3], 41).requires_grad_(true);
    let b = rnd(&[3, 2], 42).requires_grad_(true);
    type F = Box<dyn Fn(&[Tensor]) -> Vec<Tensor>>;
    let fs: Vec<(F, usize)> = vec![
        // log det A = 2 sum log diag L.
        (
            Box::new(move |xs| {
                vec![linalg::cholesky(&sym(&xs[0]), false)
                    .diagonal(0, -2, -1)
                    .log()
                    .sum()]
            }),
            1,
        ),
        (Box::new(|xs| vec![linalg::slogdet(&xs[0]).1]), 1),
        // |det R| = |det A| and Q R = A.
        (
            Box::new(|xs| {
                let (q, r) = linalg::qr(&xs[0], "reduced");
                vec![
                    r.diagonal(0, -2, -1).abs().log().sum(),
                    q.matmul(&r).sin().sum(),
                ]
            }),
            1,
        ),
        (
            Box::new(|xs| {
                let (lu, piv) = linalg::lu_factor(&xs[0], true);
                vec![linalg::lu_solve(&lu, &piv, &xs[1], true, false)]
            }),
            2,
        ),
        (
            Box::new(|xs| vec![linalg::lstsq(&xs[0], &xs[1], None, None).0]),
            2,
        ),
    ];
    let shifted = &x.detach() + &Tensor::eye_with(3, DType::F64).mul_scalar(3.0);
    let shifted = shifted.requires_grad_(true);
    for (f, k) in &fs {
        let inputs = &[shifted.clone(), b.clone()][..*k];
        gradcheck(f.as_ref(), inputs).unwrap();
        gradgradcheck(f.as_ref(), inputs).unwrap();
    }
    // The log-determinant through Cholesky equals slogdet's on A = sym(x).
    let a = sym(&x.detach());
    let via_l = linalg::cholesky(&a, false)
        .diagonal(0, -2, -1)
        .log()
        .sum()
        .mul_scalar(2.0);
    assert!((via_l.item() - linalg::slogdet(&a).1.item()).abs() < 1e-12);
}
