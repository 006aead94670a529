//! Factorization kernels on batches of row-major `f64` matrices (issue 15): Cholesky,
//! triangular solves, Householder QR, LU with LAPACK's pivot convention, and the sign and
//! log-magnitude of determinants. Hand-written loops (see `ops/factor.rs` for the measurement
//! against `faer` that chose them): the matrices autograd meets are mostly small and batched.

use super::zeros;
use crate::error::Result;

/// A matrix of a batch that is not positive-definite: (batch element, 1-based order of the
/// first leading minor that is not).
pub(crate) type NotPositiveDefinite = (usize, usize);

/// Cholesky factors `L` (lower, `A = L L^T`) of a batch of `n x n` matrices, reading only the
/// lower triangle of each. Returns the factors and the first failure, LAPACK's `info > 0`:
/// (batch element, order of the leading minor that is not positive-definite).
pub(crate) fn cholesky(
    a: &[f64],
    batch: usize,
    n: usize,
) -> Result<(Vec<f64>, Option<NotPositiveDefinite>)> {
    let mut out = zeros(batch * n * n, 0.0)?;
    let mut failed = None;
    for b in 0..batch {
        let (src, l) = (
            &a[b * n * n..(b + 1) * n * n],
            &mut out[b * n * n..(b + 1) * n * n],
        );
        for j in 0..n {
            let mut d = src[j * n + j];
            for k in 0..j {
                d -= l[j * n + k] * l[j * n + k];
            }
            // Not positive, or NaN.
            if d.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
                if failed.is_none() {
                    failed = Some((b, j + 1));
                }
                break;
            }
            let d = d.sqrt();
            l[j * n + j] = d;
            for i in j + 1..n {
                let mut s = src[i * n + j];
                for k in 0..j {
                    s -= l[i * n + k] * l[j * n + k];
                }
                l[i * n + j] = s / d;
            }
        }
    }
    Ok((out, failed))
}

/// Solves `A X = B` for triangular `A` (`a`: `[batch, n, n]`, `rhs`: `[batch, n, k]`, both
/// row-major), reading only `A`'s `upper` (else lower) triangle, and with `unit` taking its
/// diagonal as ones. A zero diagonal element gives infinities/NaN, as IEEE division does
/// (LAPACK's trtrs reports nothing either).
pub(crate) fn triangular_solve(
    a: &[f64],
    rhs: &[f64],
    batch: usize,
    (n, k): (usize, usize),
    upper: bool,
    unit: bool,
) -> Result<Vec<f64>> {
    let mut out = zeros(batch * n * k, 0.0)?;
    out.copy_from_slice(&rhs[..batch * n * k]);
    for b in 0..batch {
        let m = &a[b * n * n..(b + 1) * n * n];
        let x = &mut out[b * n * k..(b + 1) * n * k];
        let rows: Box<dyn Iterator<Item = usize>> = if upper {
            Box::new((0..n).rev())
        } else {
            Box::new(0..n)
        };
        for i in rows {
            let others = if upper { i + 1..n } else { 0..i };
            for j in others {
                let f = m[i * n + j];
                if f != 0.0 {
                    for c in 0..k {
                        x[i * k + c] -= f * x[j * k + c];
                    }
                }
            }
            if !unit {
                let d = m[i * n + i];
                for c in 0..k {
                    x[i * k + c] /= d;
                }
            }
        }
    }
    Ok(out)
}

/// Householder QR of a batch of `m x n` matrices as LAPACK's geqrf + orgqr: each reflector
/// maps its column to `-sign(a_kk) * norm` (`+` where `a_kk` is zero... LAPACK's `beta =
/// -sign(alpha) * norm` with `sign(0) = +`), so `R`'s diagonal may be negative. Returns `Q`
/// (`[batch, m, kq]`, `kq = m` when `complete`, else `min(m, n)`) and `R` (`[batch, kq, n]`).
pub(crate) fn qr(
    a: &[f64],
    batch: usize,
    (m, n): (usize, usize),
    complete: bool,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let kmin = m.min(n);
    let kq = if complete { m } else { kmin };
    let mut q = zeros(batch * m * kq, 0.0)?;
    let mut r = zeros(batch * kq * n, 0.0)?;
    for b in 0..batch {
        let mut w = a[b * m * n..(b + 1) * m * n].to_vec();
        // Reflectors: v_k (v_k[k] = 1, zeros above k) and tau_k, H_k = I - tau_k v_k v_k^T.
        let mut vs: Vec<(Vec<f64>, f64)> = Vec::with_capacity(kmin);
        for k in 0..kmin {
            let alpha = w[k * n + k];
            let xnorm = (k + 1..m).map(|i| w[i * n + k].powi(2)).sum::<f64>().sqrt();
            let mut v = vec![0.0; m];
            v[k] = 1.0;
            if xnorm == 0.0 {
                // H = I (tau = 0), as LAPACK's dlarfg.
                vs.push((v, 0.0));
                continue;
            }
            let norm = alpha.hypot(xnorm);
            let beta = if alpha >= 0.0 { -norm } else { norm };
            let tau = (beta - alpha) / beta;
            let scale = 1.0 / (alpha - beta);
            for i in k + 1..m {
                v[i] = w[i * n + k] * scale;
            }
            // Apply H to the remaining columns.
            w[k * n + k] = beta;
            for i in k + 1..m {
                w[i * n + k] = 0.0;
            }
            reflect(&mut w, n, &v, tau, k, k + 1);
            vs.push((v, tau));
        }
        let rb = &mut r[b * kq * n..(b + 1) * kq * n];
        for i in 0..kq.min(m) {
            for j in i..n {
                rb[i * n + j] = w[i * n + j];
            }
        }
        // Q = H_1 ... H_k applied to the first kq columns of I, last reflector first.
        let qb = &mut q[b * m * kq..(b + 1) * m * kq];
        for i in 0..kq.min(m) {
            qb[i * kq + i] = 1.0;
        }
        for (k, (v, tau)) in vs.iter().enumerate().rev() {
            if *tau == 0.0 {
                continue;
            }
            reflect(qb, kq, v, *tau, k, 0);
        }
    }
    Ok((q, r))
}

/// Applies `H = I - tau v v^T` (`v` zero above row `k`) to columns `from..` of the row-major
/// matrix `w` with `cols` columns, row by row (cache-friendly): `W -= tau v (v^T W)`.
fn reflect(w: &mut [f64], cols: usize, v: &[f64], tau: f64, k: usize, from: usize) {
    let mut s = vec![0.0; cols];
    for (i, &vi) in v.iter().enumerate().skip(k) {
        if vi != 0.0 {
            let row = &w[i * cols..(i + 1) * cols];
            for j in from..cols {
                s[j] += vi * row[j];
            }
        }
    }
    for (i, &vi) in v.iter().enumerate().skip(k) {
        let f = tau * vi;
        if f != 0.0 {
            let row = &mut w[i * cols..(i + 1) * cols];
            for j in from..cols {
                row[j] -= f * s[j];
            }
        }
    }
}

/// LU factorization with partial pivoting of a batch of `m x n` matrices, LAPACK's getrf:
/// the packed factors (`L` strictly below the diagonal with its unit diagonal implied, `U` on
/// and above it) and the 1-based pivots (`min(m, n)` per matrix: row `i` was swapped with row
/// `piv[i]`). A zero pivot is skipped (LAPACK's `info > 0`, reported as for `lu_solve`).
pub(crate) fn lu_factor(
    a: &[f64],
    batch: usize,
    (m, n): (usize, usize),
) -> Result<(Vec<f64>, Vec<i64>, Option<super::lu::Singular>)> {
    let k = m.min(n);
    let mut lu = zeros(batch * m * n, 0.0)?;
    lu.copy_from_slice(&a[..batch * m * n]);
    let mut piv = crate::pool::try_alloc::<i64>(batch * k)?;
    let mut singular = None;
    for b in 0..batch {
        let w = &mut lu[b * m * n..(b + 1) * m * n];
        for c in 0..k {
            let p = (c..m)
                .max_by(|&i, &j| w[i * n + c].abs().total_cmp(&w[j * n + c].abs()))
                .unwrap_or(c);
            piv.push(p as i64 + 1);
            if p != c {
                for j in 0..n {
                    w.swap(c * n + j, p * n + j);
                }
            }
            let d = w[c * n + c];
            if d == 0.0 {
                if singular.is_none() {
                    singular = Some((b, c + 1));
                }
                continue;
            }
            for i in c + 1..m {
                let f = w[i * n + c] / d;
                w[i * n + c] = f;
                for j in c + 1..n {
                    w[i * n + j] -= f * w[c * n + j];
                }
            }
        }
    }
    Ok((lu, piv, singular))
}

/// The sign (`-1`, `0` or `1`) and `log |det|` of each `n x n` matrix of a batch (`0` and
/// `-inf` for a singular one), from the partial-pivoting LU.
pub(crate) fn slogdet(a: &[f64], batch: usize, n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    let (lu, piv, _) = lu_factor(a, batch, (n, n))?;
    let mut sign = zeros(batch, 0.0)?;
    let mut logabs = zeros(batch, 0.0)?;
    for b in 0..batch {
        let mut s = 1.0;
        let mut l = 0.0;
        for i in 0..n {
            let d = lu[b * n * n + i * n + i];
            if piv[b * n + i] != i as i64 + 1 {
                s = -s;
            }
            if d < 0.0 {
                s = -s;
            }
            l += d.abs().ln();
        }
        if l == f64::NEG_INFINITY || l.is_nan() {
            s = if l.is_nan() { f64::NAN } else { 0.0 };
        }
        sign[b] = s;
        logabs[b] = l;
    }
    Ok((sign, logabs))
}

/// The permutation matrices `P` of LAPACK pivots (`[batch, k]`, 1-based) of `m`-row matrices,
/// with `A = P L U` (`[batch, m, m]`, row-major).
pub(crate) fn pivots_to_permutation(
    piv: &[i64],
    batch: usize,
    m: usize,
    k: usize,
) -> Result<Vec<f64>> {
    let mut out = zeros(batch * m * m, 0.0)?;
    for b in 0..batch {
        // perm[i]: the original row now at row i.
        let mut perm: Vec<usize> = (0..m).collect();
        for i in 0..k {
            let p = piv[b * k + i] as usize - 1;
            perm.swap(i, p.min(m - 1));
        }
        // (P^T A)[i] = A[perm[i]], so P[perm[i]][i] = 1.
        for (i, &p) in perm.iter().enumerate() {
            out[b * m * m + p * m + i] = 1.0;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_of_a_known_matrix() {
        // [[4, 2], [2, 3]] = [[2, 0], [1, sqrt 2]] [[2, 1], [0, sqrt 2]].
        let (l, info) = cholesky(&[4.0, 2.0, 2.0, 3.0], 1, 2).unwrap();
        assert_eq!(info, None);
        assert_eq!(l, vec![2.0, 0.0, 1.0, 2f64.sqrt()]);
        let (_, info) = cholesky(&[1.0, 2.0, 2.0, 1.0], 1, 2).unwrap();
        assert_eq!(info, Some((0, 2)));
    }

    #[test]
    fn qr_signs_follow_lapack() {
        // [[3], [4]]: alpha = 3 > 0, so R = -5 and Q = [-0.6, -0.8].
        let (q, r) = qr(&[3.0, 4.0], 1, (2, 1), false).unwrap();
        assert_eq!(r, vec![-5.0]);
        assert!((q[0] + 0.6).abs() < 1e-15 && (q[1] + 0.8).abs() < 1e-15);
    }

    #[test]
    fn lu_pivots_are_lapacks() {
        // [[1, 2], [3, 4]]: row 2 is the pivot; L = [[1, 0], [1/3, 1]], U = [[3, 4], [0, 2/3]].
        let (lu, piv, info) = lu_factor(&[1.0, 2.0, 3.0, 4.0], 1, (2, 2)).unwrap();
        assert_eq!((piv, info), (vec![2, 2], None));
        let want = [3.0, 4.0, 1.0 / 3.0, 2.0 - 4.0 / 3.0];
        for (a, b) in lu.iter().zip(want) {
            assert!((a - b).abs() < 1e-15);
        }
        assert_eq!(
            pivots_to_permutation(&[2, 2], 1, 2, 2).unwrap(),
            vec![0.0, 1.0, 1.0, 0.0]
        );
    }
}
