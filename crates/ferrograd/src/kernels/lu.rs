//! LU kernels on row-major `f64` matrices: factorization with partial pivoting, batched
//! solves and determinants, and the pivots' spread (a singularity test).

use super::zeros;
use crate::error::Result;

/// An exactly singular matrix of a batch: (batch element, 1-based index of the first zero
/// diagonal element of U), LAPACK's `info > 0`.
pub(crate) type Singular = (usize, usize);

/// LU factorization with partial pivoting of the row-major `n x n` matrix `a` (in place):
/// returns the pivot rows and the permutation's sign, or `None` if a pivot is exactly zero.
fn lu(a: &mut [f64], n: usize) -> (Vec<usize>, f64, bool) {
    let mut piv: Vec<usize> = (0..n).collect();
    let mut sign = 1.0;
    let mut singular = false;
    for k in 0..n {
        let p = (k..n)
            .max_by(|&i, &j| a[i * n + k].abs().total_cmp(&a[j * n + k].abs()))
            .unwrap_or(k);
        if p != k {
            for j in 0..n {
                a.swap(k * n + j, p * n + j);
            }
            piv.swap(k, p);
            sign = -sign;
        }
        let d = a[k * n + k];
        if d == 0.0 {
            singular = true;
            continue;
        }
        for i in k + 1..n {
            let f = a[i * n + k] / d;
            a[i * n + k] = f;
            for j in k + 1..n {
                a[i * n + j] -= f * a[k * n + j];
            }
        }
    }
    (piv, sign, singular)
}

/// Solves `A X = B` for each matrix of a batch (`a`: `[b, n, n]`, `rhs`: `[b, n, k]`, both
/// row-major `f64`). A singular `A` gives infinities/NaN, as IEEE division does, and the first
/// exactly singular one is reported as LAPACK's `info > 0`: `(batch element, 1-based index of
/// the first zero diagonal element of U)`.
pub(crate) fn lu_solve(
    a: &[f64],
    rhs: &[f64],
    batch: usize,
    n: usize,
    k: usize,
) -> Result<(Vec<f64>, Option<Singular>)> {
    let mut out = zeros(batch * n * k, 0.0)?;
    let mut singular = None;
    for b in 0..batch {
        let mut m = a[b * n * n..(b + 1) * n * n].to_vec();
        let (piv, _, _) = lu(&mut m, n);
        if singular.is_none() {
            singular = (0..n).find(|&i| m[i * n + i] == 0.0).map(|i| (b, i + 1));
        }
        for c in 0..k {
            // Forward substitution (unit lower), then backward (upper).
            let mut y: Vec<f64> = (0..n).map(|i| rhs[b * n * k + piv[i] * k + c]).collect();
            for i in 0..n {
                for j in 0..i {
                    y[i] -= m[i * n + j] * y[j];
                }
            }
            for i in (0..n).rev() {
                for j in i + 1..n {
                    y[i] -= m[i * n + j] * y[j];
                }
                y[i] /= m[i * n + i];
            }
            for i in 0..n {
                out[b * n * k + i * k + c] = y[i];
            }
        }
    }
    Ok((out, singular))
}

/// `min |u_kk| / max |u_kk|` over the pivots of the partial-pivoting LU ([`lu`]) of the
/// row-major `n x n` matrix `a`: 0 for a singular matrix, small for a nearly singular one.
pub(crate) fn lu_pivot_ratio(a: &[f64], n: usize) -> f64 {
    let mut m = a.to_vec();
    lu(&mut m, n);
    let (lo, hi) = (0..n)
        .map(|k| m[k * n + k].abs())
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), d| {
            (lo.min(d), hi.max(d))
        });
    if hi > 0.0 && lo.is_finite() {
        lo / hi
    } else {
        0.0
    }
}

/// Determinants of a batch of `n x n` row-major `f64` matrices.
pub(crate) fn lu_det(a: &[f64], batch: usize, n: usize) -> Result<Vec<f64>> {
    let mut out = crate::pool::try_alloc(batch)?;
    out.extend((0..batch).map(|b| {
        let mut m = a[b * n * n..(b + 1) * n * n].to_vec();
        let (_, sign, singular) = lu(&mut m, n);
        if singular {
            0.0
        } else {
            (0..n).fold(sign, |acc, i| acc * m[i * n + i])
        }
    }));
    Ok(out)
}
