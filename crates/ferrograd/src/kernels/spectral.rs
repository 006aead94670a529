//! Spectral decomposition kernels on row-major `f64` matrices (issue 15): the symmetric
//! eigenproblem by cyclic Jacobi, and the singular value decomposition by one-sided
//! (Hestenes) Jacobi. Both are chosen for accuracy (backward stable, eigenvalues and singular
//! values to a few units in the last place of the matrix's norm, vectors orthonormal to about
//! `n` ulps), not speed: `O(n^3)` per sweep, a handful of sweeps.
//!
//! Conventions, applied here so that every caller sees the same ones:
//! - eigenvalues ascending, singular values descending (a stable sort: equal values keep the
//!   order Jacobi left them in);
//! - each eigenvector, and each left singular vector (its right one flipped with it), has its
//!   largest-magnitude component positive (the first such component at an exact tie);
//! - a matrix with a NaN or an infinity gives NaN everywhere (LAPACK may report
//!   non-convergence instead).

use super::zeros;
use crate::error::Result;

/// Sweeps after which Jacobi stops even if rotations remain (it converges quadratically, in
/// about 6 to 12 sweeps at any size met in practice; the cap only bounds the work).
const MAX_SWEEPS: usize = 80;

/// The eigenvalues (ascending) and eigenvectors (the columns of a row-major `n x n` matrix) of
/// each symmetric `n x n` matrix of a batch (`a`: `[batch, n, n]`, row-major, both triangles
/// filled; only its symmetric part is used).
pub(crate) fn eigh(a: &[f64], batch: usize, n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    let mut values = zeros(batch * n, 0.0)?;
    let mut vectors = zeros(batch * n * n, 0.0)?;
    for b in 0..batch {
        let m = &a[b * n * n..(b + 1) * n * n];
        let (l, v) = (
            &mut values[b * n..(b + 1) * n],
            &mut vectors[b * n * n..(b + 1) * n * n],
        );
        if m.iter().any(|x| !x.is_finite()) {
            l.fill(f64::NAN);
            v.fill(f64::NAN);
            continue;
        }
        // Scaled by a power of 2 (exactly) to magnitudes about 1: no overflow or underflow in
        // the rotations, whatever the input's scale.
        let p = pow2_scale(m);
        let scaled: Vec<f64> = m.iter().map(|x| x * p).collect();
        jacobi_eigh(&scaled, n, l, v);
        l.iter_mut().for_each(|x| *x /= p);
    }
    Ok((values, vectors))
}

/// Cyclic Jacobi on the symmetric `n x n` matrix `a` (finite): eigenvalues into `l`
/// (ascending), eigenvectors into the columns of `v` (row-major).
fn jacobi_eigh(a: &[f64], n: usize, l: &mut [f64], v: &mut [f64]) {
    // The symmetric part, so that rounding in the caller's copy cannot matter.
    let mut m: Vec<f64> = (0..n * n)
        .map(|k| {
            let (i, j) = (k / n, k % n);
            0.5 * (a[i * n + j] + a[j * n + i])
        })
        .collect();
    let mut w = identity(n);
    for _ in 0..MAX_SWEEPS {
        let mut rotated = false;
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[p * n + q];
                let (app, aqq) = (m[p * n + p], m[q * n + q]);
                // Negligible against the diagonal (relative to it: the high-accuracy test).
                if apq == 0.0 || apq.abs() <= f64::EPSILON * (app.abs() * aqq.abs()).sqrt() {
                    m[p * n + q] = 0.0;
                    m[q * n + p] = 0.0;
                    continue;
                }
                rotated = true;
                let theta = (aqq - app) / (2.0 * apq);
                let t = if theta.abs() > 1e150 {
                    0.5 / theta
                } else {
                    theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt())
                };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                m[p * n + p] = app - t * apq;
                m[q * n + q] = aqq + t * apq;
                m[p * n + q] = 0.0;
                m[q * n + p] = 0.0;
                for r in 0..n {
                    if r != p && r != q {
                        let (g, h) = (m[r * n + p], m[r * n + q]);
                        let (gp, hq) = (c * g - s * h, s * g + c * h);
                        m[r * n + p] = gp;
                        m[p * n + r] = gp;
                        m[r * n + q] = hq;
                        m[q * n + r] = hq;
                    }
                    let (g, h) = (w[r * n + p], w[r * n + q]);
                    w[r * n + p] = c * g - s * h;
                    w[r * n + q] = s * g + c * h;
                }
            }
        }
        if !rotated {
            break;
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| m[i * n + i].total_cmp(&m[j * n + j]));
    for (k, &i) in order.iter().enumerate() {
        l[k] = m[i * n + i];
        let sign = column_sign(&w, n, n, i);
        for r in 0..n {
            v[r * n + k] = sign * w[r * n + i];
        }
    }
}

/// The SVD of each `m x n` matrix of a batch (`a`: `[batch, m, n]`, row-major): `U`
/// (`[batch, m, m]` if `full`, else `[batch, m, k]`), the singular values (`[batch, k]`,
/// descending) and `Vh` (`[batch, n, n]` if `full`, else `[batch, k, n]`), `k = min(m, n)`.
/// Singular vectors of zero singular values, and the extra columns of a full `U` or rows of
/// a full `Vh`, complete the others to an orthonormal basis (Gram-Schmidt on the unit vectors,
/// in order).
pub(crate) fn svd(
    a: &[f64],
    batch: usize,
    m: usize,
    n: usize,
    full: bool,
) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>)> {
    let k = m.min(n);
    let (uc, vr) = if full { (m, n) } else { (k, k) };
    let mut us = zeros(batch * m * uc, 0.0)?;
    let mut ss = zeros(batch * k, 0.0)?;
    let mut vhs = zeros(batch * vr * n, 0.0)?;
    for b in 0..batch {
        let x = &a[b * m * n..(b + 1) * m * n];
        let (u, s, vh) = (
            &mut us[b * m * uc..(b + 1) * m * uc],
            &mut ss[b * k..(b + 1) * k],
            &mut vhs[b * vr * n..(b + 1) * vr * n],
        );
        if x.iter().any(|v| !v.is_finite()) {
            u.fill(f64::NAN);
            s.fill(f64::NAN);
            vh.fill(f64::NAN);
            continue;
        }
        // Scaled by a power of 2 (exactly), as for eigh: the squared column norms of one-sided
        // Jacobi would overflow above about 1e154.
        let p = pow2_scale(x);
        let scaled: Vec<f64> = x.iter().map(|v| v * p).collect();
        let x = &scaled[..];
        if m >= n {
            // A = U S V^T: columns of U (m x uc), V (n x n).
            let (uu, sv, vv) = hestenes(x, m, n, uc);
            u.copy_from_slice(&uu);
            s.copy_from_slice(&sv);
            // Vh = V^T, its first vr rows (vr = n here).
            for i in 0..vr {
                for j in 0..n {
                    vh[i * n + j] = vv[j * n + i];
                }
            }
        } else {
            // A^T = U' S V'^T (n x m, n > m), so A = V' S U'^T: U = V', Vh = U'^T.
            let xt: Vec<f64> = (0..n * m).map(|t| x[(t % m) * n + t / m]).collect();
            let (uu, sv, vv) = hestenes(&xt, n, m, vr);
            // uu: n x vr (U' of A^T), vv: m x m.
            u.copy_from_slice(&vv);
            s.copy_from_slice(&sv);
            for i in 0..vr {
                for j in 0..n {
                    vh[i * n + j] = uu[j * vr + i];
                }
            }
        }
        s.iter_mut().for_each(|v| *v /= p);
        fix_signs(u, m, uc, vh, vr, n, k);
    }
    Ok((us, ss, vhs))
}

/// One-sided Jacobi on the `m x n` matrix `a` (row-major, `m >= n`, finite): returns `U`
/// (`m x uc` row-major, `n <= uc <= m`), the singular values (descending) and `V` (`n x n`
/// row-major), signs as Jacobi left them.
fn hestenes(a: &[f64], m: usize, n: usize, uc: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    // Columns stored contiguously: w[j] is column j of the working matrix A V.
    let mut w: Vec<Vec<f64>> = (0..n)
        .map(|j| (0..m).map(|i| a[i * n + j]).collect())
        .collect();
    let mut v: Vec<Vec<f64>> = (0..n)
        .map(|j| (0..n).map(|i| f64::from(u8::from(i == j))).collect())
        .collect();
    for _ in 0..MAX_SWEEPS {
        let mut rotated = false;
        for p in 0..n {
            for q in p + 1..n {
                let (alpha, beta, gamma) = {
                    let (wp, wq) = (&w[p], &w[q]);
                    let mut acc = (0.0, 0.0, 0.0);
                    for i in 0..m {
                        acc.0 += wp[i] * wp[i];
                        acc.1 += wq[i] * wq[i];
                        acc.2 += wp[i] * wq[i];
                    }
                    acc
                };
                if gamma == 0.0 || gamma.abs() <= f64::EPSILON * (alpha * beta).sqrt() {
                    continue;
                }
                rotated = true;
                let zeta = (beta - alpha) / (2.0 * gamma);
                let t = if zeta.abs() > 1e150 {
                    0.5 / zeta
                } else {
                    zeta.signum() / (zeta.abs() + (zeta * zeta + 1.0).sqrt())
                };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = c * t;
                for cols in [&mut w, &mut v] {
                    let (lo, hi) = cols.split_at_mut(q);
                    let (cp, cq) = (&mut lo[p], &mut hi[0]);
                    for (x, y) in cp.iter_mut().zip(cq.iter_mut()) {
                        let (g, h) = (*x, *y);
                        *x = c * g - s * h;
                        *y = s * g + c * h;
                    }
                }
            }
        }
        if !rotated {
            break;
        }
    }
    let norms: Vec<f64> = w
        .iter()
        .map(|c| c.iter().map(|x| x * x).sum::<f64>().sqrt())
        .collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| norms[j].total_cmp(&norms[i]));
    let s: Vec<f64> = order.iter().map(|&i| norms[i]).collect();
    // U's columns: the normalised columns of A V; zero ones are completed below.
    let mut ucols: Vec<Vec<f64>> = Vec::with_capacity(uc);
    let mut missing = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        if norms[i] > 0.0 {
            ucols.push(w[i].iter().map(|x| x / norms[i]).collect());
        } else {
            ucols.push(vec![0.0; m]);
            missing.push(k);
        }
    }
    for k in missing {
        let c = complement(&ucols, m, |j| j != k && j < n);
        ucols[k] = c;
    }
    while ucols.len() < uc {
        let c = complement(&ucols, m, |_| true);
        ucols.push(c);
    }
    let vcols: Vec<Vec<f64>> = order.iter().map(|&i| v[i].clone()).collect();
    let mut u = vec![0.0; m * uc];
    for (j, c) in ucols.iter().enumerate() {
        for i in 0..m {
            u[i * uc + j] = c[i];
        }
    }
    let mut vm = vec![0.0; n * n];
    for (j, c) in vcols.iter().enumerate() {
        for i in 0..n {
            vm[i * n + j] = c[i];
        }
    }
    (u, s, vm)
}

/// The sign convention: each of the first `k` columns of `u` (`m x uc`) gets its
/// largest-magnitude component positive, the matching row of `vh` (`vr x n`) flipped with
/// it; the extra columns of a full `u` and rows of a full `vh` each get it alone.
fn fix_signs(u: &mut [f64], m: usize, uc: usize, vh: &mut [f64], vr: usize, n: usize, k: usize) {
    for j in 0..uc {
        if column_sign(u, m, uc, j) < 0.0 {
            (0..m).for_each(|i| u[i * uc + j] = -u[i * uc + j]);
            if j < k {
                vh[j * n..(j + 1) * n].iter_mut().for_each(|x| *x = -*x);
            }
        }
    }
    for i in k..vr {
        if vec_sign(&vh[i * n..(i + 1) * n]) < 0.0 {
            vh[i * n..(i + 1) * n].iter_mut().for_each(|x| *x = -*x);
        }
    }
}

/// A unit vector of length `m` orthogonal to the columns `cols[j]` with `keep(j)`: the unit
/// vector `e_i` (the first one in order whose residual is large enough) orthogonalised twice
/// against them.
fn complement(cols: &[Vec<f64>], m: usize, keep: impl Fn(usize) -> bool) -> Vec<f64> {
    let mut best: Option<(f64, Vec<f64>)> = None;
    for e in 0..m {
        let mut x = vec![0.0; m];
        x[e] = 1.0;
        for _ in 0..2 {
            for (j, c) in cols.iter().enumerate() {
                if keep(j) {
                    let d: f64 = c.iter().zip(&x).map(|(a, b)| a * b).sum();
                    x.iter_mut().zip(c).for_each(|(xi, ci)| *xi -= d * ci);
                }
            }
        }
        let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm > 0.5 {
            return x.into_iter().map(|v| v / norm).collect();
        }
        if best.as_ref().is_none_or(|(b, _)| norm > *b) {
            best = Some((norm, x));
        }
    }
    let (norm, x) = best.unwrap_or((1.0, vec![0.0; m]));
    x.into_iter().map(|v| v / norm).collect()
}

/// `1` or `-1`: the sign that makes the largest-magnitude component of column `j` of the
/// row-major `rows x cols` matrix `w` positive (the first such component at a tie).
fn column_sign(w: &[f64], rows: usize, cols: usize, j: usize) -> f64 {
    let col: Vec<f64> = (0..rows).map(|r| w[r * cols + j]).collect();
    vec_sign(&col)
}

/// `1` or `-1`: the sign that makes the largest-magnitude component of `x` positive (the
/// first such component at a tie).
fn vec_sign(x: &[f64]) -> f64 {
    let mut best = 0.0f64;
    let mut sign = 1.0;
    for &v in x {
        if v.abs() > best {
            best = v.abs();
            sign = if v < 0.0 { -1.0 } else { 1.0 };
        }
    }
    sign
}

/// A power of 2 that brings the largest magnitude of `x` into `[0.5, 1)` (1 for zeros, and
/// within the exponent range where the power itself is representable).
fn pow2_scale(x: &[f64]) -> f64 {
    let big = x.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    if big == 0.0 || !big.is_finite() {
        return 1.0;
    }
    let e = (big.log2().floor() as i32 + 1).clamp(-1000, 1000);
    2f64.powi(-e)
}

/// The `n x n` identity, row-major.
fn identity(n: usize) -> Vec<f64> {
    (0..n * n)
        .map(|k| f64::from(u8::from(k / n == k % n)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matmul(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
        (0..m * n)
            .map(|t| (0..k).map(|l| a[(t / n) * k + l] * b[l * n + t % n]).sum())
            .collect()
    }

    fn transpose(a: &[f64], m: usize, n: usize) -> Vec<f64> {
        (0..n * m).map(|t| a[(t % m) * n + t / m]).collect()
    }

    fn close(a: &[f64], b: &[f64], tol: f64) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= tol, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn eigh_reconstructs_and_sorts() {
        let a = [4.0, 1.0, -2.0, 1.0, 2.0, 0.5, -2.0, 0.5, 3.0];
        let (l, v) = eigh(&a, 1, 3).unwrap();
        assert!(l[0] <= l[1] && l[1] <= l[2]);
        let vl: Vec<f64> = (0..9).map(|t| v[t] * l[t % 3]).collect();
        close(&matmul(&vl, &transpose(&v, 3, 3), 3, 3, 3), &a, 1e-14);
        close(
            &matmul(&transpose(&v, 3, 3), &v, 3, 3, 3),
            &identity(3),
            1e-15,
        );
        // Trace and the sign convention.
        assert!((l.iter().sum::<f64>() - 9.0).abs() < 1e-14);
        for j in 0..3 {
            let col: Vec<f64> = (0..3).map(|r| v[r * 3 + j]).collect();
            assert_eq!(vec_sign(&col), 1.0);
        }
    }

    #[test]
    fn svd_shapes_and_identities() {
        for (m, n) in [(3, 2), (2, 3), (3, 3), (4, 1), (1, 4)] {
            let a: Vec<f64> = (0..m * n).map(|t| ((t * 7 + 3) % 5) as f64 - 1.5).collect();
            for full in [false, true] {
                let k = m.min(n);
                let (uc, vr) = if full { (m, n) } else { (k, k) };
                let (u, s, vh) = svd(&a, 1, m, n, full).unwrap();
                // U[:, :k] diag(s) Vh[:k, :]
                let us: Vec<f64> = (0..m * k)
                    .map(|t| u[(t / k) * uc + t % k] * s[t % k])
                    .collect();
                close(&matmul(&us, &vh[..k * n], m, k, n), &a, 1e-13);
                close(
                    &matmul(&transpose(&u, m, uc), &u, uc, m, uc),
                    &identity(uc),
                    1e-14,
                );
                close(
                    &matmul(&vh, &transpose(&vh, vr, n), vr, n, vr),
                    &identity(vr),
                    1e-14,
                );
                assert!(s.windows(2).all(|w| w[0] >= w[1]));
            }
        }
    }

    #[test]
    fn extreme_scales() {
        for scale in [1e-300, 1e300, 1e-160, 1e160] {
            let a: Vec<f64> = [3.0, 0.0, 4.0, 5.0].iter().map(|x| x * scale).collect();
            let (_, s, _) = svd(&a, 1, 2, 2, false).unwrap();
            let want = [45f64.sqrt() * scale, 5f64.sqrt() * scale];
            close(&s, &want, 4e-15 * scale);
            let b: Vec<f64> = [2.0, 1.0, 1.0, 2.0].iter().map(|x| x * scale).collect();
            let (l, _) = eigh(&b, 1, 2).unwrap();
            close(&l, &[scale, 3.0 * scale], 4e-15 * scale);
        }
    }

    #[test]
    fn svd_of_zero_and_rank_one() {
        let (u, s, vh) = svd(&[0.0; 6], 1, 3, 2, true).unwrap();
        assert_eq!(s, vec![0.0, 0.0]);
        close(
            &matmul(&transpose(&u, 3, 3), &u, 3, 3, 3),
            &identity(3),
            1e-15,
        );
        close(
            &matmul(&vh, &transpose(&vh, 2, 2), 2, 2, 2),
            &identity(2),
            1e-15,
        );
        let (_, s, _) = svd(&[1.0, 2.0, 2.0, 4.0], 1, 2, 2, false).unwrap();
        assert!((s[0] - 5.0).abs() < 1e-14 && s[1].abs() < 1e-15);
    }
}
