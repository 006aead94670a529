//! `torch.linalg`'s factorizations and the solvers built on them (issue 15): `cholesky`,
//! `solve_triangular`, `cholesky_solve`, `lu_factor`, `lu`, `lu_solve`, `slogdet`, `logdet`,
//! `qr` and `lstsq`, batched over leading dimensions (empty batches and 0x0 matrices too),
//! under `vmap` and in forward mode.
//!
//! Five are primitives with backward and JVP rules written in differentiable ops (so every
//! derivative order is exact): the Cholesky factor (PyTorch's `cholesky_backward`, the `Phi`
//! formula), the triangular solve (left and right), the packed LU (PyTorch's
//! `linalg_lu_backward` and `linalg_lu_jvp`, square, tall and wide), `log |det|` (gradient
//! `inv(A)^T`) and the `Q` of a QR of a matrix with at least as many rows as columns
//! (PyTorch's `linalg_qr_backward` with `gR = 0`). The rest are composites of those:
//! `R = triu(Q^T A)` (an identity, so its derivatives are exact too; a wide matrix's `Q` is
//! that of its leading square block), `cholesky_solve` and `lu_solve` through triangular
//! solves, `lu`'s `L` and `U` from the packed factors, `logdet = logabsdet + log(sign)`,
//! `lstsq` through QR.
//!
//! Kernels: hand-written loops on `f64` buffers (`kernels/factor.rs`), not the `faer` crate.
//! Measured on this project's 2-core machine: `faer` 0.24 builds from clean in release in
//! 169 s (91 crates), which CI would pay in its release build and again in clippy and doc,
//! against a 25-minute budget with about 19 minutes used; and at the sizes autograd meets
//! most (batches of small matrices) it is slower: one 4x4 LU takes 0.10 us hand-written
//! (the `kernels/lu.rs` loop) against 0.48 us for `faer`'s `partial_piv_lu` (0.54 us with
//! the copy into its column-major matrix), one 4x4 Cholesky 0.05 us against 0.25 us. At
//! n = 32 `faer` is ahead (LU 5.9 us vs 5.1 us, Cholesky 4.5 us vs 2.6 us), at n = 256 far
//! ahead (LU 1.56 ms vs 1.05 ms, Cholesky 2.1 ms vs 0.17 ms: blocked, vectorised kernels),
//! which blocked kernels here can recover later if large factorizations come to matter.
//! (Single-threaded, f64, on the shared machine at `nice 10`: ratios, not absolute speeds.)

use super::grads;
use crate::autograd::levels::physically;
use crate::autograd::record;
use crate::batching;
use crate::error::{Error, Result};
use crate::kernels::factor as kern;
use crate::layout::broadcast_shapes;
use crate::storage::Buffer;
use crate::tensor::Tensor;
use crate::DType;

api! {
    FACTOR_OPS = mod linalg {
        /// The Cholesky factor of a (batch of) symmetric positive-definite matrices
        /// (`torch.linalg.cholesky`): lower `L` with `A = L L^T`, or with `upper` the upper
        /// `U = L^T` (`A = U^T U`). Only the lower (with `upper`, the upper) triangle of `A` is
        /// read. A matrix that is not positive-definite is PyTorch's error.
        ///
        /// ```
        /// use ferrograd::{linalg, DType, Tensor};
        /// let a = Tensor::from_data([[4.0, 2.0], [2.0, 3.0]], DType::F64).requires_grad_(true);
        /// let l = linalg::cholesky(&a, false);
        /// assert_eq!(l.to_vec::<f64>(), vec![2.0, 0.0, 1.0, 2f64.sqrt()]);
        /// assert_eq!(l.grad_fn().unwrap().name(), "LinalgCholeskyExBackward0");
        /// let e = linalg::try_cholesky(&Tensor::new([[1.0, 2.0], [2.0, 1.0]]), false).unwrap_err();
        /// assert!(e.to_string().contains("the leading minor of order 2 is not positive-definite"));
        /// ```
        pub fn cholesky / try_cholesky(a: &Tensor, upper: bool = false) -> Tensor {
            square("linalg.cholesky", a)?;
            cholesky_impl(a, upper)
        }

        /// The solution `X` of `A X = B` (with `left = false`, `X A = B`) for a (batch of)
        /// triangular `A` (`torch.linalg.solve_triangular`): only the `upper` (else lower)
        /// triangle of `A` is read, its diagonal taken as ones with `unitriangular`. Batch
        /// dimensions broadcast.
        ///
        /// ```
        /// use ferrograd::{linalg, Tensor};
        /// let a = Tensor::new([[2.0, 1.0], [0.0, 4.0]]);
        /// let x = linalg::solve_triangular(&a, &Tensor::new([[3.0], [4.0]]), true, true, false);
        /// assert_eq!(x.to_vec::<f32>(), vec![1.0, 1.0]);
        /// assert!(linalg::try_solve_triangular(&a, &Tensor::ones(&[3, 1]), true, true, false).is_err());
        /// ```
        pub fn solve_triangular / try_solve_triangular(a: &Tensor, b: &Tensor, upper: bool, left: bool = true, unitriangular: bool = false) -> Tensor {
            solve_triangular_impl(a, b, upper, left, unitriangular)
        }

        /// The solution `X` of `A X = B` given the Cholesky factor of `A`
        /// (`torch.cholesky_solve`: `B` first, then the lower factor `L`, or the upper `U` with
        /// `upper`). Batch dimensions broadcast.
        ///
        /// ```
        /// use ferrograd::{linalg, DType, Tensor};
        /// let a = Tensor::from_data([[4.0, 2.0], [2.0, 3.0]], DType::F64);
        /// let l = linalg::cholesky(&a, false);
        /// let x = linalg::cholesky_solve(&Tensor::from_data([[6.0], [5.0]], DType::F64), &l, false);
        /// let x = x.to_vec::<f64>();
        /// assert!((x[0] - 1.0).abs() < 1e-12 && (x[1] - 1.0).abs() < 1e-12);
        /// ```
        pub fn cholesky_solve / try_cholesky_solve(b: &Tensor, l: &Tensor, upper: bool = false) -> Tensor {
            square("cholesky_solve", l)?;
            at_least_2d("cholesky_solve", "B", b)?;
            let l = if upper { l.m_t() } else { l.clone() };
            let y = solve_triangular_impl(&l, b, false, true, false)?;
            solve_triangular_impl(&l.m_t(), &y, true, true, false)
        }

        /// The LU factorization with partial pivoting of a (batch of) `m x n` matrices
        /// (`torch.linalg.lu_factor`): the packed factors (`L` strictly below the diagonal,
        /// its unit diagonal implied, and `U`) and LAPACK's 1-based pivots (int64 here, int32
        /// in PyTorch). Differentiable in the packed factors. An exactly singular matrix is
        /// PyTorch's error (`linalg.lu` factors it).
        ///
        /// ```
        /// use ferrograd::{linalg, Tensor};
        /// let (lu, piv) = linalg::lu_factor(&Tensor::new([[1.0, 2.0], [3.0, 4.0]]), true);
        /// assert_eq!(piv.to_vec::<i64>(), vec![2, 2]);
        /// assert_eq!(lu.to_vec::<f32>()[..3], [3.0, 4.0, 1.0 / 3.0]);
        /// assert!(linalg::try_lu_factor(&Tensor::zeros(&[2, 2]), true).is_err());
        /// ```
        pub fn lu_factor / try_lu_factor(a: &Tensor, pivot: bool = true) -> (Tensor, Tensor) {
            lu_checks("linalg.lu_factor", a, pivot)?;
            lu_factor_impl(a, true)
        }

        /// The LU factorization `A = P L U` of a (batch of) `m x n` matrices
        /// (`torch.linalg.lu`): the `m x m` permutation `P`, the `m x k` unit lower `L` and
        /// the `k x n` upper `U` (`k = min(m, n)`); singular matrices too. `L` and `U` are
        /// differentiable.
        ///
        /// ```
        /// use ferrograd::{linalg, Tensor};
        /// let (p, l, u) = linalg::lu(&Tensor::new([[1.0, 2.0], [3.0, 4.0]]), true);
        /// assert_eq!(p.to_vec::<f32>(), vec![0.0, 1.0, 1.0, 0.0]);
        /// assert_eq!(u.to_vec::<f32>()[..2], [3.0, 4.0]);
        /// assert_eq!(l.to_vec::<f32>()[..2], [1.0, 0.0]);
        /// ```
        pub fn lu / try_lu(a: &Tensor, pivot: bool = true) -> (Tensor, Tensor, Tensor) {
            lu_checks("linalg.lu", a, pivot)?;
            let (lu, piv) = lu_factor_impl(a, false)?;
            let (l, u) = unpack(&lu);
            let m = a.shape()[a.dim() - 2];
            Ok((permutation(&piv, m, lu.dtype())?, l, u))
        }

        /// The solution `X` of `A X = B` from `A`'s [`lu_factor`] (`torch.linalg.lu_solve`);
        /// with `adjoint` of `A^T X = B`, with `left = false` of `X A = B`. Differentiable in
        /// `LU` and `B`; batch dimensions broadcast.
        ///
        /// ```
        /// use ferrograd::{linalg, DType, Tensor};
        /// let a = Tensor::from_data([[1.0, 2.0], [3.0, 4.0]], DType::F64);
        /// let (lu, piv) = linalg::lu_factor(&a, true);
        /// let x = linalg::lu_solve(&lu, &piv, &Tensor::from_data([[5.0], [11.0]], DType::F64), true, false);
        /// let x = x.to_vec::<f64>();
        /// assert!((x[0] - 1.0).abs() < 1e-12 && (x[1] - 2.0).abs() < 1e-12);
        /// ```
        pub fn lu_solve / try_lu_solve(lu: &Tensor, pivots: &Tensor, b: &Tensor, left: bool = true, adjoint: bool = false) -> Tensor {
            lu_solve_impl(lu, pivots, b, left, adjoint)
        }

        /// The sign (`-1`, `0` or `1`) and the log of the absolute value of the determinant of
        /// a (batch of) square matrices (`torch.linalg.slogdet`); `logabsdet` is
        /// differentiable (gradient `inv(A)^T`), `-inf` for a singular matrix.
        ///
        /// ```
        /// use ferrograd::{linalg, Tensor};
        /// let (sign, logabs) = linalg::slogdet(&Tensor::new([[1.0, 2.0], [3.0, 4.0]]));
        /// assert_eq!(sign.item(), -1.0);
        /// assert!((logabs.item() - 2f64.ln()).abs() < 1e-6);
        /// ```
        pub fn slogdet / try_slogdet(a: &Tensor) -> (Tensor, Tensor) {
            square("linalg.slogdet", a)?;
            slogdet_impl(a)
        }

        /// The log of the determinant of a (batch of) square matrices (`torch.logdet`): NaN
        /// for a negative determinant, `-inf` for a singular matrix.
        ///
        /// ```
        /// use ferrograd::{linalg, Tensor};
        /// assert!((linalg::logdet(&Tensor::new([[2.0, 0.0], [0.0, 3.0]])).item() - 6f64.ln()).abs() < 1e-6);
        /// assert!(linalg::logdet(&Tensor::new([[0.0, 1.0], [1.0, 0.0]])).item().is_nan());
        /// ```
        pub fn logdet / try_logdet(a: &Tensor) -> Tensor {
            square("logdet", a)?;
            let (sign, logabs) = slogdet_impl(a)?;
            logabs.try_add(&sign.log())
        }

        /// The QR decomposition `A = Q R` of a (batch of) matrices (`torch.linalg.qr`) by
        /// Householder reflections with LAPACK's signs (`R`'s diagonal may be negative).
        /// `mode`: `"reduced"` (`Q` is `m x k`, `R` `k x n`, `k = min(m, n)`), `"complete"`
        /// (`Q` is `m x m`) or `"r"` (`R` only, `Q` empty). Differentiable except in complete
        /// mode with more rows than columns (PyTorch's error, given here when the
        /// decomposition would be recorded: a rule cannot fail); in mode `"r"` `R` is
        /// differentiable here (PyTorch refuses).
        ///
        /// ```
        /// use ferrograd::{linalg, Tensor};
        /// let (q, r) = linalg::qr(&Tensor::new([[3.0], [4.0]]), "reduced");
        /// assert_eq!(r.to_vec::<f32>(), vec![-5.0]);
        /// assert_eq!(q.to_vec::<f32>(), vec![-0.6, -0.8]);
        /// assert!(linalg::try_qr(&Tensor::ones(&[2, 2]), "full").is_err());
        /// ```
        pub fn qr / try_qr(a: &Tensor, mode: &str = "reduced") -> (Tensor, Tensor) {
            qr_impl(a, mode)
        }

        /// The least-squares solution of `A X = B` (`torch.linalg.lstsq`): `(solution,
        /// residuals, rank, singular_values)`. Full-rank `A` only: tall or square through QR,
        /// wide as the minimum-norm solution through the QR of `A^T`; the solution is
        /// differentiable to every order; a rank-deficient `A` is an error. `driver`: `"gelsy"` (the default; residuals empty,
        /// as PyTorch's), `"gels"` (residuals for `m > n`, no rank); `"gelsd"`/`"gelss"` need
        /// the SVD and are refused. `rank` counts the diagonal elements of `R` above `rcond`
        /// (default: the dtype's epsilon times `max(m, n)`) times the largest.
        ///
        /// ```
        /// use ferrograd::{linalg, DType, Tensor};
        /// let a = Tensor::from_data([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], DType::F64);
        /// let b = Tensor::from_data([[1.0], [1.0], [0.0]], DType::F64);
        /// let (x, _, rank, _) = linalg::lstsq(&a, &b, None, None);
        /// let x = x.to_vec::<f64>();
        /// assert!((x[0] - 1.0 / 3.0).abs() < 1e-12 && (x[1] - 1.0 / 3.0).abs() < 1e-12);
        /// assert_eq!(rank.to_vec::<i64>(), vec![2]);
        /// ```
        pub fn lstsq / try_lstsq(a: &Tensor, b: &Tensor, rcond: Option<f64> = None, driver: Option<&str> = None) -> (Tensor, Tensor, Tensor, Tensor) {
            lstsq_impl(a, b, rcond, driver)
        }
    }
}

// ------------------------------------------------------------------ checks

fn at_least_2d(op: &'static str, name: &str, a: &Tensor) -> Result<()> {
    if a.dim() < 2 {
        return Err(Error::invalid(
            op,
            format!(
                "The input tensor {name} must have at least 2 dimensions (got shape {:?}).",
                a.shape()
            ),
        ));
    }
    if !a.dtype().is_floating_point() {
        return Err(Error::invalid(
            op,
            format!(
                "Expected a floating point tensor as input {name}. Got {}",
                a.dtype()
            ),
        ));
    }
    Ok(())
}

/// A `[..., n, n]` float batch (PyTorch's errors otherwise); returns `n`.
fn square(op: &'static str, a: &Tensor) -> Result<usize> {
    at_least_2d(op, "A", a)?;
    let (r, c) = (a.shape()[a.dim() - 2], a.shape()[a.dim() - 1]);
    if r != c {
        return Err(Error::invalid(
            op,
            format!("A must be batches of square matrices, but they are {r} by {c} matrices"),
        ));
    }
    Ok(r)
}

fn batch_count(t: &Tensor) -> usize {
    t.shape()[..t.dim() - 2].iter().product()
}

fn from_f64(values: Vec<f64>, dtype: DType, shape: &[usize]) -> Tensor {
    Tensor::from_buffer(Buffer::from_f64s(dtype, values.into_iter()), shape)
}

/// PyTorch's prefix naming the failing member of a batch.
fn batch_prefix(dim: usize, b: usize) -> String {
    if dim > 2 {
        format!("(Batch element {b}): ")
    } else {
        String::new()
    }
}

/// A constant `[n, n]` mask of `f(row, col)` in `dtype`.
fn mask(n: usize, dtype: DType, f: impl Fn(usize, usize) -> f64) -> Tensor {
    let v: Vec<f64> = (0..n * n).map(|i| f(i / n, i % n)).collect();
    from_f64(v, dtype, &[n, n])
}

/// Whether recording `a`'s use would happen (grad mode with `a` requiring grad, or a tangent
/// in forward mode).
fn recorded(a: &Tensor) -> bool {
    (crate::is_grad_enabled() && a.requires_grad())
        || (crate::forward_ad::active() && crate::forward_ad::tangent(a).is_some())
}

// ------------------------------------------------------------------ Cholesky

/// The Cholesky factor, lower `L` (or with `upper`, `U = L^T` of the factor of `A^T`, which
/// reads `A`'s upper triangle): the primitive.
fn cholesky_impl(a: &Tensor, upper: bool) -> Result<Tensor> {
    let n = a.shape()[a.dim() - 1];
    let out = if a.is_batched() {
        physically(|| batching::broadcasting([a], |[p]| cholesky_impl(&p, upper)))?
    } else {
        let values = if upper { a.m_t() } else { a.clone() }.values_f64();
        let (l, failed) = kern::cholesky(&values, batch_count(a), n)?;
        if let Some((b, k)) = failed {
            return Err(Error::invalid(
                "linalg.cholesky",
                format!("{}The factorization could not be completed because the input is not positive-definite (the leading minor of order {k} is not positive-definite).", batch_prefix(a.dim(), b)),
            ));
        }
        let l = match upper {
            // U = L^T, matrix by matrix.
            true => (0..l.len())
                .map(|i| {
                    let (m, r, c) = (i / (n * n), i / n % n, i % n);
                    l[m * n * n + c * n + r]
                })
                .collect(),
            false => l,
        };
        from_f64(l, a.dtype(), a.shape())
    };
    let lower = move |f: &Tensor| if upper { f.m_t() } else { f.clone() };
    Ok(record(
        "LinalgCholeskyExBackward0",
        out,
        &[a],
        |_, s| {
            let f = s.save_output();
            // The gradient is symmetric: the same for A and for A^T.
            move |g| grads([Some(cholesky_backward(&lower(&g[f]), &lower(g.grad)))])
        },
        |j| {
            lower(&cholesky_jvp(
                &lower(j.out()),
                &lower(j.t(0).expect("tangent")),
            ))
        },
    ))
}

/// PyTorch's `cholesky_backward`: `gA = L^{-T} Phi(L^T gL) L^{-1}` symmetrized, with `Phi`
/// the lower triangle with its diagonal halved.
fn cholesky_backward(l: &Tensor, gl: &Tensor) -> Tensor {
    let ga = l.m_t().matmul(gl).tril(0);
    let ga = (&ga + &ga.tril(-1).m_t()).mul_scalar(0.5);
    let ga = tri(&l.m_t(), &ga, true, true);
    tri(l, &ga, false, false)
}

/// `dL = L Phi(L^{-1} dA L^{-T})`.
fn cholesky_jvp(l: &Tensor, da: &Tensor) -> Tensor {
    let n = l.shape()[l.dim() - 1];
    let y = tri(l, da, false, true);
    let x = tri(&l.m_t(), &y, true, false);
    let phi = mask(n, l.dtype(), |r, c| match r.cmp(&c) {
        std::cmp::Ordering::Greater => 1.0,
        std::cmp::Ordering::Equal => 0.5,
        std::cmp::Ordering::Less => 0.0,
    });
    l.matmul(&(&x * &phi))
}

// ------------------------------------------------------------------ triangular solves

/// `solve_triangular` for arguments already checked by the rules (no unitriangular).
fn tri(a: &Tensor, b: &Tensor, upper: bool, left: bool) -> Tensor {
    crate::unwrap(solve_triangular_impl(a, b, upper, left, false))
}

fn solve_triangular_impl(
    a: &Tensor,
    b: &Tensor,
    upper: bool,
    left: bool,
    unit: bool,
) -> Result<Tensor> {
    const OP: &str = "linalg.solve_triangular";
    square(OP, a)?;
    at_least_2d(OP, "B", b)?;
    if a.dtype() != b.dtype() {
        return Err(Error::invalid(
            OP,
            format!(
                "Expected A and B to have the same dtype, but found A of type {} and B of type {} instead",
                a.dtype(),
                b.dtype()
            ),
        ));
    }
    let n = a.shape()[a.dim() - 1];
    fits_equation(OP, n, b, left)?;
    tri_prim(a, b, upper, left, unit)
}

/// The triangular part of `t` that a solve with `upper`/`unit` reads.
fn triangle(t: &Tensor, upper: bool, unit: bool) -> Tensor {
    match (upper, unit) {
        (true, false) => t.triu(0),
        (true, true) => t.triu(1),
        (false, false) => t.tril(0),
        (false, true) => t.tril(-1),
    }
}

/// `A X = B` (`left`) or `X A = B` for triangular `A`, batch dimensions broadcast: the
/// primitive.
fn tri_prim(a: &Tensor, b: &Tensor, upper: bool, left: bool, unit: bool) -> Result<Tensor> {
    let n = a.shape()[a.dim() - 1];
    let (br, bc) = (b.shape()[b.dim() - 2], b.shape()[b.dim() - 1]);
    let batch = broadcast_shapes(&a.shape()[..a.dim() - 2], &b.shape()[..b.dim() - 2]).ok_or_else(
        || {
            Error::invalid(
                "linalg.solve_triangular",
                format!(
                    "batch dimensions of A {:?} and B {:?} do not broadcast",
                    a.shape(),
                    b.shape()
                ),
            )
        },
    )?;
    let mut sa = batch.to_vec();
    sa.extend([n, n]);
    let mut sb = batch.to_vec();
    sb.extend([br, bc]);
    let (a, b) = (&a.try_expand(&sa)?, &b.try_expand(&sb)?);
    let out = if batching::level(&[a, b]).is_some() {
        physically(|| {
            batching::broadcasting([a, b], |[pa, pb]| tri_prim(&pa, &pb, upper, left, unit))
        })?
    } else {
        let count = batch.iter().product();
        let x = if left {
            kern::triangular_solve(
                &a.values_f64(),
                &b.values_f64(),
                count,
                (n, bc),
                upper,
                unit,
            )?
        } else {
            // X A = B <=> A^T X^T = B^T, then X^T transposed back matrix by matrix.
            let xt = kern::triangular_solve(
                &a.m_t().values_f64(),
                &b.m_t().values_f64(),
                count,
                (n, br),
                !upper,
                unit,
            )?;
            (0..xt.len())
                .map(|i| {
                    let (m, r, c) = (i / (br * n), i / n % br, i % n);
                    xt[m * br * n + c * br + r]
                })
                .collect()
        };
        from_f64(x, a.dtype(), &sb)
    };
    Ok(record(
        "LinalgSolveTriangularBackward0",
        out,
        &[a, b],
        |_, s| {
            let (sa, x) = (s.save(a), s.save_output());
            move |g| {
                // Left: gB = A^{-T} gX, gA = -gB X^T; right: gB = gX A^{-T}, gA = -X^T gB;
                // gA on A's triangle.
                let gb = crate::unwrap(tri_prim(&g[sa].m_t(), g.grad, !upper, left, unit));
                let ga = g.needs(0).then(|| {
                    let p = match left {
                        true => gb.matmul(&g[x].m_t()),
                        false => g[x].m_t().matmul(&gb),
                    };
                    triangle(&-&p, upper, unit)
                });
                grads([ga, g.needs(1).then_some(gb)])
            }
        },
        // A dX = dB - dA X (right: dX A = dB - X dA), dA on A's triangle.
        |j| {
            let x = j.out();
            let rhs = j.sum([
                j.t(1).cloned(),
                j.t(0).map(|t| {
                    let t = triangle(t, upper, unit);
                    -&(if left { t.matmul(x) } else { x.matmul(&t) })
                }),
            ]);
            crate::unwrap(tri_prim(a, &rhs, upper, left, unit))
        },
    ))
}

// ------------------------------------------------------------------ LU

fn lu_checks(op: &'static str, a: &Tensor, pivot: bool) -> Result<()> {
    if !pivot {
        return Err(Error::invalid(
            op,
            "LU without pivoting is not implemented on the CPU",
        ));
    }
    at_least_2d(op, "A", a)
}

/// The packed LU (recorded) and the pivots of `[..., m, n]` matrices; `check`: an exactly
/// singular matrix is `lu_factor`'s error.
fn lu_factor_impl(a: &Tensor, check: bool) -> Result<(Tensor, Tensor)> {
    let (m, n) = (a.shape()[a.dim() - 2], a.shape()[a.dim() - 1]);
    let (lu, piv) = if a.is_batched() {
        let lu = physically(|| {
            batching::broadcasting([a], |[p]| Ok(lu_factor_impl(&p, check)?.0.detach()))
        })?;
        let piv =
            physically(|| batching::broadcasting([a], |[p]| Ok(lu_factor_impl(&p, check)?.1)))?;
        (lu, piv)
    } else {
        let (lu, piv, singular) = kern::lu_factor(&a.values_f64(), batch_count(a), (m, n))?;
        if let (true, Some((b, k))) = (check, singular) {
            return Err(Error::invalid(
                "torch.linalg.lu_factor",
                format!("{}U[{k},{k}] is zero and using it on lu_solve would result in a division by zero. If you still want to perform the factorization, consider calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)", batch_prefix(a.dim(), b)),
            ));
        }
        let mut ps = a.shape()[..a.dim() - 2].to_vec();
        ps.push(m.min(n));
        (
            from_f64(lu, a.dtype(), a.shape()),
            Tensor::from_vec(piv, &ps),
        )
    };
    let p = permutation(&piv, m, a.dtype())?;
    let lu = record(
        "LinalgLuFactorExBackward0",
        lu,
        &[a],
        |_, s| {
            let (lu, p) = (s.save_output(), s.save(&p));
            move |g| grads([Some(lu_backward(&g[lu], &g[p], g.grad))])
        },
        |j| lu_jvp(j.out(), &p, j.t(0).expect("tangent")),
    );
    Ok((lu, piv))
}

/// The `m x k` unit lower `L` and `k x n` upper `U` of packed factors (`k = min(m, n)`).
fn unpack(lu: &Tensor) -> (Tensor, Tensor) {
    let (m, n) = (lu.shape()[lu.dim() - 2], lu.shape()[lu.dim() - 1]);
    let k = m.min(n);
    let eye = mask(m.max(n), lu.dtype(), |i, j| (i == j) as u8 as f64)
        .narrow(0, 0, m)
        .narrow(1, 0, k);
    let l = &lu.tril(-1).narrow(-1, 0, k) + &eye;
    (l, lu.triu(0).narrow(-2, 0, k))
}

/// `L^{-1} B` (`upper`: `L^{-T} B` given `L^T`) for a unit triangular factor.
fn unit(l: &Tensor, b: &Tensor, upper: bool) -> Tensor {
    crate::unwrap(solve_triangular_impl(l, b, upper, true, true))
}

/// `t` with zeros appended to `size` along `dim` (-1 or -2).
fn pad(t: &Tensor, dim: isize, size: usize) -> Tensor {
    let d = (t.dim() as isize + dim) as usize;
    let have = t.shape()[d];
    if have == size {
        return t.clone();
    }
    let mut shape = t.shape().to_vec();
    shape[d] = size - have;
    let z = Tensor::zeros(&shape).to_dtype(t.dtype());
    Tensor::cat(&[t.clone(), z], dim)
}

/// PyTorch's `linalg_lu_backward` on the packed factors (`gL` strictly below the diagonal
/// of `g`, `gU` on and above it). Square and wide (`m <= n`):
/// `gA = P L^{-T} [tril(L^T gL - gU U^T, -1) U1^{-T} + gU1 | gU2]`; tall:
/// `gA = P [L1^{-T} triu(gU U^T - L^T gL) + gL1 ; gL2] U^{-T}`.
fn lu_backward(lu: &Tensor, p: &Tensor, g: &Tensor) -> Tensor {
    let (m, n) = (lu.shape()[lu.dim() - 2], lu.shape()[lu.dim() - 1]);
    let k = m.min(n);
    let (l, u) = unpack(lu);
    let gl = g.tril(-1).narrow(-1, 0, k);
    let gu = g.triu(0).narrow(-2, 0, k);
    let x = if m <= n {
        let u1 = u.narrow(-1, 0, m);
        let x = (&l.m_t().matmul(&gl) - &gu.matmul(&u.m_t())).tril(-1);
        let x = &tri(&u1.m_t(), &x, false, false) + &gu.narrow(-1, 0, m);
        let x = match n > m {
            true => Tensor::cat(&[x, gu.narrow(-1, m, n - m)], -1),
            false => x,
        };
        unit(&l.m_t(), &x, true)
    } else {
        let l1 = l.narrow(-2, 0, n);
        let x = (&gu.matmul(&u.m_t()) - &l.m_t().matmul(&gl)).triu(0);
        let x = &unit(&l1.m_t(), &x, true) + &gl.narrow(-2, 0, n);
        let x = Tensor::cat(&[x, gl.narrow(-2, n, m - n)], -2);
        tri(&u.m_t(), &x, false, false)
    };
    p.matmul(&x)
}

/// PyTorch's `linalg_lu_jvp`, packed: with `Y = P^T dA`, square and wide:
/// `dK = L^{-1} Y1 U1^{-1}`, `dL = L tril(dK, -1)`, `dU = [triu(dK) U1 | L^{-1} (Y2 - dL U2)]`;
/// tall: `dK = L1^{-1} Y1 U^{-1}`, `dU = triu(dK) U`, `dL = [L1 tril(dK, -1) ; (Y2 - L2 dU) U^{-1}]`.
fn lu_jvp(lu: &Tensor, p: &Tensor, da: &Tensor) -> Tensor {
    let (m, n) = (lu.shape()[lu.dim() - 2], lu.shape()[lu.dim() - 1]);
    let (l, u) = unpack(lu);
    let y = p.m_t().matmul(da);
    if m <= n {
        let u1 = u.narrow(-1, 0, m);
        let z = unit(&l, &y, false);
        let dk = tri(&u1, &z.narrow(-1, 0, m), true, false);
        let dl = l.matmul(&dk.tril(-1));
        let du1 = dk.triu(0).matmul(&u1);
        let du = match n > m {
            true => {
                let u2 = u.narrow(-1, m, n - m);
                let du2 = &z.narrow(-1, m, n - m) - &unit(&l, &dl.matmul(&u2), false);
                Tensor::cat(&[du1, du2], -1)
            }
            false => du1,
        };
        &pad(&dl, -1, n) + &du
    } else {
        let l1 = l.narrow(-2, 0, n);
        let dk = tri(&u, &unit(&l1, &y.narrow(-2, 0, n), false), true, false);
        let du = dk.triu(0).matmul(&u);
        let dl1 = l1.matmul(&dk.tril(-1));
        let rest = &y.narrow(-2, n, m - n) - &l.narrow(-2, n, m - n).matmul(&du);
        let dl2 = tri(&u, &rest, true, false);
        &Tensor::cat(&[dl1, dl2], -2) + &pad(&du, -2, m)
    }
}

/// The `m x m` permutation matrices `P` (`A = P L U`) of int64 LAPACK pivots `[..., k]`.
fn permutation(piv: &Tensor, m: usize, dtype: DType) -> Result<Tensor> {
    if piv.is_batched() {
        return physically(|| batching::broadcasting([piv], |[p]| permutation(&p, m, dtype)));
    }
    let k = piv.shape()[piv.dim() - 1];
    let batch: usize = piv.shape()[..piv.dim() - 1].iter().product();
    let v = piv.to_vec::<i64>();
    let p = kern::pivots_to_permutation(&v, batch, m, k)?;
    let mut shape = piv.shape()[..piv.dim() - 1].to_vec();
    shape.extend([m, m]);
    Ok(from_f64(p, dtype, &shape))
}

fn lu_solve_impl(
    lu: &Tensor,
    pivots: &Tensor,
    b: &Tensor,
    left: bool,
    adjoint: bool,
) -> Result<Tensor> {
    const OP: &str = "linalg.lu_solve";
    let n = square(OP, lu)?;
    at_least_2d(OP, "B", b)?;
    if pivots.dtype() != DType::I64
        || pivots.dim() != lu.dim() - 1
        || pivots.shape()[..pivots.dim()] != lu.shape()[..lu.dim() - 1]
    {
        return Err(Error::invalid(
            OP,
            format!(
                "Expected LU.shape[:-1] {:?} to be the shape of integer pivots, got {:?} of type {}",
                &lu.shape()[..lu.dim() - 1],
                pivots.shape(),
                pivots.dtype()
            ),
        ));
    }
    if !pivots.is_batched()
        && pivots
            .to_vec::<i64>()
            .iter()
            .any(|&p| p < 1 || p > n as i64)
    {
        return Err(Error::invalid(OP, format!("pivots must lie in [1, {n}]")));
    }
    fits_equation(OP, n, b, left)?;
    if lu.dtype() != b.dtype() {
        return Err(Error::invalid(
            OP,
            format!(
                "Expected LU and B to have the same dtype, but found LU of type {} and B of type {} instead",
                lu.dtype(),
                b.dtype()
            ),
        ));
    }
    if !left {
        // X A = B  <=>  A^T X^T = B^T.
        return Ok(lu_solve_impl(lu, pivots, &b.m_t(), true, !adjoint)?.m_t());
    }
    let p = permutation(pivots, n, lu.dtype())?;
    if adjoint {
        // A^T = U^T L^T P^T: X = P L^{-T} U^{-T} B.
        let y = solve_triangular_impl(&lu.m_t(), b, false, true, false)?;
        let z = solve_triangular_impl(&lu.m_t(), &y, true, true, true)?;
        p.try_matmul(&z)
    } else {
        // A = P L U: X = U^{-1} L^{-1} P^T B.
        let y = solve_triangular_impl(lu, &p.m_t().try_matmul(b)?, false, true, true)?;
        solve_triangular_impl(lu, &y, true, true, false)
    }
}

// ------------------------------------------------------------------ determinants

fn slogdet_impl(a: &Tensor) -> Result<(Tensor, Tensor)> {
    let n = a.shape()[a.dim() - 1];
    let shape = &a.shape()[..a.dim() - 2];
    let (sign, logabs) = if a.is_batched() {
        let sign = physically(|| batching::broadcasting([a], |[p]| Ok(slogdet_impl(&p)?.0)))?;
        let logabs =
            physically(|| batching::broadcasting([a], |[p]| Ok(slogdet_impl(&p)?.1.detach())))?;
        (sign, logabs)
    } else {
        let (s, l) = kern::slogdet(&a.values_f64(), batch_count(a), n)?;
        (from_f64(s, a.dtype(), shape), from_f64(l, a.dtype(), shape))
    };
    let logabs = record(
        "LinalgSlogdetBackward0",
        logabs,
        &[a],
        |_, s| {
            let x = s.save(a);
            move |g| {
                let scale = g.grad.unsqueeze(-1).unsqueeze(-1);
                grads([Some(&scale * &inverse(&g[x]).m_t())])
            }
        },
        // d log|det A| = tr(A^{-1} dA).
        |j| (&inverse(a).m_t() * j.t(0).expect("tangent")).sum_dims(&[-2, -1], false),
    );
    Ok((sign, logabs))
}

/// `A^{-1}` in differentiable ops that never fail (infinities for a singular `A`): the LU
/// solve of the identity.
fn inverse(a: &Tensor) -> Tensor {
    let n = a.shape()[a.dim() - 1];
    let (lu, piv) = crate::unwrap(lu_factor_impl(a, false));
    let eye = Tensor::eye_with(n, a.dtype());
    crate::unwrap(lu_solve_impl(&lu, &piv, &eye, true, false))
}

// ------------------------------------------------------------------ QR

fn qr_impl(a: &Tensor, mode: &str) -> Result<(Tensor, Tensor)> {
    const OP: &str = "linalg.qr";
    if !matches!(mode, "reduced" | "complete" | "r") {
        return Err(Error::invalid(
            OP,
            format!("qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or 'complete'"),
        ));
    }
    at_least_2d(OP, "A", a)?;
    let (m, n) = (a.shape()[a.dim() - 2], a.shape()[a.dim() - 1]);
    let q = if mode == "complete" && m > n {
        if recorded(a) {
            return Err(Error::invalid(
                OP,
                "The QR decomposition is not differentiable when mode='complete' and nrows > ncols.",
            ));
        }
        qr_values(a, true)?
    } else if m >= n {
        qr_q(a)?
    } else {
        // Wide: Q is the Q of the leading square block.
        qr_q(&a.try_narrow(-1, 0, m)?)?
    };
    let r = q.m_t().try_matmul(a)?.triu(0);
    if mode == "r" {
        return Ok((Tensor::zeros(&[0]).to_dtype(a.dtype()), r));
    }
    Ok((q, r))
}

/// The kernel's `Q` (batched physically under vmap), unrecorded.
fn qr_values(a: &Tensor, complete: bool) -> Result<Tensor> {
    if a.is_batched() {
        return physically(|| batching::broadcasting([a], |[p]| qr_values(&p, complete)));
    }
    let (m, n) = (a.shape()[a.dim() - 2], a.shape()[a.dim() - 1]);
    let kq = if complete { m } else { m.min(n) };
    let (q, _) = kern::qr(&a.values_f64(), batch_count(a), (m, n), complete)?;
    let mut shape = a.shape()[..a.dim() - 2].to_vec();
    shape.extend([m, kq]);
    Ok(from_f64(q, a.dtype(), &shape))
}

/// The reduced `Q` of an `m x n` matrix with `m >= n`: the primitive.
fn qr_q(a: &Tensor) -> Result<Tensor> {
    let out = qr_values(a, false)?.detach();
    Ok(record(
        "LinalgQrBackward0",
        out,
        &[a],
        |_, s| {
            let (x, q) = (s.save(a), s.save_output());
            move |g| grads([Some(qr_backward(&g[x], &g[q], g.grad))])
        },
        |j| qr_jvp(a, j.out(), j.t(0).expect("tangent")),
    ))
}

/// PyTorch's `linalg_qr_backward` (m >= n) with `gR = 0` (R's gradient reaches `Q` and `A`
/// through the composite `R = triu(Q^T A)`): `M = -Q^T gQ`,
/// `gA = (Q syminvadj(triu(M)) + gQ) R^{-T}`.
fn qr_backward(a: &Tensor, q: &Tensor, gq: &Tensor) -> Tensor {
    let n = q.shape()[q.dim() - 1];
    let r = q.m_t().matmul(a).triu(0);
    let mh = (-&q.m_t().matmul(gq)).triu(0);
    let half = mask(n, q.dtype(), |i, j| if i == j { 0.5 } else { 1.0 });
    let sym = &(&mh + &mh.m_t()) * &half;
    let b = &q.matmul(&sym) + gq;
    tri(&r.m_t(), &b, false, false)
}

/// `B = Q^T dA R^{-1}`, `C = triu(B + B^T)` with its diagonal halved, `dQ = dA R^{-1} - Q C`.
fn qr_jvp(a: &Tensor, q: &Tensor, da: &Tensor) -> Tensor {
    let n = q.shape()[q.dim() - 1];
    let r = q.m_t().matmul(a).triu(0);
    let dar = tri(&r, da, true, false);
    let b = q.m_t().matmul(&dar);
    let upper = mask(n, q.dtype(), |i, j| match i.cmp(&j) {
        std::cmp::Ordering::Less => 1.0,
        std::cmp::Ordering::Equal => 0.5,
        std::cmp::Ordering::Greater => 0.0,
    });
    let c = &(&b + &b.m_t()) * &upper;
    &dar - &q.matmul(&c)
}

// ------------------------------------------------------------------ least squares

fn lstsq_impl(
    a: &Tensor,
    b: &Tensor,
    rcond: Option<f64>,
    driver: Option<&str>,
) -> Result<(Tensor, Tensor, Tensor, Tensor)> {
    const OP: &str = "torch.linalg.lstsq";
    let driver = driver.unwrap_or("gelsy");
    match driver {
        "gelsy" | "gels" => {}
        "gelsd" | "gelss" => {
            return Err(Error::invalid(
                OP,
                format!("driver '{driver}' needs the SVD, which ferrograd's lstsq does not use; use 'gelsy' or 'gels'"),
            ))
        }
        d => {
            return Err(Error::invalid(
                OP,
                format!("parameter `driver` should be one of (gels, gelsy, gelsd, gelss), but got {d}"),
            ))
        }
    }
    at_least_2d(OP, "A", a)?;
    if b.dim() < 1 || a.dim() < b.dim() || a.dim() - b.dim() > 1 {
        return Err(Error::invalid(
            OP,
            format!(
                "input.dim() must be greater or equal to other.dim() and (input.dim() - other.dim()) <= 1 (got {:?} and {:?})",
                a.shape(),
                b.shape()
            ),
        ));
    }
    if a.dtype() != b.dtype() || !b.dtype().is_floating_point() {
        return Err(Error::invalid(
            OP,
            format!(
                "Expected input and other to have the same floating point dtype, but got {} and {}",
                a.dtype(),
                b.dtype()
            ),
        ));
    }
    let vector = a.dim() == b.dim() + 1;
    let bm = if vector {
        b.try_unsqueeze(-1)?
    } else {
        b.clone()
    };
    let (m, n) = (a.shape()[a.dim() - 2], a.shape()[a.dim() - 1]);
    if bm.shape()[bm.dim() - 2] != m {
        return Err(Error::invalid(
            OP,
            format!(
                "input.size(-2) should match other.size(-2) (got {:?} and {:?})",
                a.shape(),
                b.shape()
            ),
        ));
    }
    let (x, r) = if m >= n {
        let (q, r) = qr_impl(a, "reduced")?;
        let qtb = q.m_t().try_matmul(&bm)?;
        (solve_triangular_impl(&r, &qtb, true, true, false)?, r)
    } else {
        // Minimum norm: A^T = Q R, A = R^T Q^T, X = Q R^{-T} B.
        let (q, r) = qr_impl(&a.m_t(), "reduced")?;
        let y = solve_triangular_impl(&r.m_t(), &bm, false, true, false)?;
        (q.try_matmul(&y)?, r)
    };
    let batch = &a.shape()[..a.dim() - 2];
    full_rank(&r, rcond, m.max(n))?;
    let residuals = if driver == "gels" && m > n {
        let res = a.try_matmul(&x)?.try_sub(&bm)?;
        (&res * &res).try_sum_dims(&[-2], false)?
    } else {
        Tensor::zeros(&[0]).to_dtype(a.dtype())
    };
    let rank = if driver == "gelsy" {
        lstsq_rank(&r, rcond, m.max(n), batch)?
    } else {
        Tensor::from_vec(Vec::<i64>::new(), &[0])
    };
    let x = if vector { x.try_squeeze(-1)? } else { x };
    Ok((x, residuals, rank, Tensor::zeros(&[0]).to_dtype(a.dtype())))
}

/// Refuses a rank-deficient `A` (gelsy's basic solution of one needs a pivoted QR, which this
/// lstsq does not use): an `Err`, never infinities.
fn full_rank(r: &Tensor, rcond: Option<f64>, size: usize) -> Result<()> {
    if r.is_batched() {
        physically(|| {
            batching::broadcasting([r], |[p]| {
                full_rank(&p, rcond, size)?;
                Ok(p)
            })
        })?;
        return Ok(());
    }
    let k = r.shape()[r.dim() - 1].min(r.shape()[r.dim() - 2]);
    let batch = r.shape()[..r.dim() - 2].to_vec();
    let ranks = lstsq_rank(r, rcond, size, &batch)?.to_vec::<i64>();
    match ranks.iter().position(|&x| x < k as i64) {
        Some(b) => Err(Error::invalid(
            "torch.linalg.lstsq",
            format!(
                "{}the input matrix is rank-deficient (rank {} < {k}); ferrograd's lstsq solves full-rank problems only",
                batch_prefix(r.dim(), b),
                ranks[b]
            ),
        )),
        None => Ok(()),
    }
}

/// The numerical rank from `R`'s diagonal: elements above `rcond` times the largest.
fn lstsq_rank(r: &Tensor, rcond: Option<f64>, size: usize, batch: &[usize]) -> Result<Tensor> {
    if r.is_batched() {
        return physically(|| {
            batching::broadcasting([r], |[p]| {
                let b = p.shape()[..p.dim() - 2].to_vec();
                lstsq_rank(&p, rcond, size, &b)
            })
        });
    }
    let eps = if r.dtype() == DType::F32 {
        f32::EPSILON as f64
    } else {
        f64::EPSILON
    };
    let rcond = rcond.filter(|&c| c > 0.0).unwrap_or(eps * size as f64);
    let k = r.shape()[r.dim() - 1].min(r.shape()[r.dim() - 2]);
    let d = r.detach().diagonal(0, -2, -1).to_vec::<f64>();
    let ranks: Vec<i64> = d
        .chunks(k.max(1))
        .take(batch.iter().product())
        .map(|c| {
            let big = c.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            c.iter().filter(|x| x.abs() > rcond * big).count() as i64
        })
        .collect();
    Tensor::try_from_vec(ranks, batch)
}

/// PyTorch's check that `B`'s matrices fit `A X = B` (`left`) or `X A = B` for an `n x n` `A`.
fn fits_equation(op: &'static str, n: usize, b: &Tensor, left: bool) -> Result<()> {
    let (br, bc) = (b.shape()[b.dim() - 2], b.shape()[b.dim() - 1]);
    if (left && br != n) || (!left && bc != n) {
        return Err(Error::invalid(
            op,
            format!(
                "Incompatible shapes of A and B for the equation {} ({n}x{n} and {br}x{bc})",
                if left { "AX = B" } else { "XA = B" }
            ),
        ));
    }
    Ok(())
}
