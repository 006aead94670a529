//! `torch.linalg`'s spectral decompositions and what is built on them (issue 15): `eigh`,
//! `eigvalsh`, `svd`, `svdvals` (primitives, on the Jacobi kernels of `kernels::spectral`),
//! and the composites `pinv`, `matrix_norm`, `cond` and `matrix_rank`.
//!
//! A decomposition has several differentiable outputs, and a graph node here has one. Each
//! output gets its own node (named as PyTorch's one node, `LinalgEighBackward0` or
//! `LinalgSvdBackward0`) whose rule is PyTorch's backward with only that output's gradient
//! defined (the rules are linear in the gradients, so the engine's sum over the outputs is
//! PyTorch's formula; an output without gradient contributes no `1 / (l_j - l_i)` term, which
//! keeps `eigvalsh`'s and `svdvals`' gradients finite at repeated values). For derivatives of
//! higher order the rules read the decomposition through one more node of the same name, whose
//! output packs all the factors (`[..., total]`) and whose rule is PyTorch's full backward:
//! every saved factor is then differentiable, and no node holds another that holds it.

use super::grads;
use crate::autograd::record;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::kernels;
use crate::storage::Buffer;
use crate::tensor::Tensor;

api! {
    SPECTRAL_OPS = mod linalg {
        /// The eigenvalues (ascending) and eigenvectors (the columns of the second result) of a
        /// (batch of) real symmetric matrices `[..., n, n]` (`torch.linalg.eigh`); only the
        /// triangle named by `uplo` (PyTorch's `UPLO`: `"L"`, the default, or `"U"`) is read.
        /// Cyclic Jacobi in `f64` (`f32` inputs are computed in `f64` and rounded), accurate to
        /// about `1e-15` of the matrix's norm.
        ///
        /// Sign convention (PyTorch's depends on LAPACK): each eigenvector has its
        /// largest-magnitude component positive (the first one at an exact tie). At a repeated
        /// eigenvalue the eigenvectors of its eigenspace are some orthonormal basis of it.
        ///
        /// The gradient is PyTorch's (`linalg_eig_backward`, the Hermitian case:
        /// `V (diag(gL) + skew(V^T gV) / E) V^T`, `E_ij = l_j - l_i`), symmetric: it assumes a
        /// symmetric input, as PyTorch's. Through eigenvectors it is infinite or NaN at repeated
        /// eigenvalues (PyTorch's too); through eigenvalues alone it is `V diag(gL) V^T`, finite
        /// and exact there.
        ///
        /// ```
        /// use ferrograd::{linalg, DType, Tensor};
        /// let a = Tensor::from_data([[2.0, 1.0], [1.0, 2.0]], DType::F64).requires_grad_(true);
        /// let (l, v) = linalg::eigh(&a, "L");
        /// assert_eq!(l.to_vec::<f64>(), vec![1.0, 3.0]);
        /// let h = std::f64::consts::FRAC_1_SQRT_2;
        /// let got = v.to_vec::<f64>();
        /// for (g, w) in got.iter().zip([h, h, -h, h]) {
        ///     assert!((g - w).abs() < 1e-15);
        /// }
        /// assert_eq!(l.grad_fn().unwrap().name(), "LinalgEighBackward0");
        /// ```
        ///
        /// ```
        /// use ferrograd::{linalg, Tensor};
        /// let e = linalg::try_eigh(&Tensor::zeros(&[2, 3]), "L").unwrap_err();
        /// assert_eq!(e.to_string(), "linalg.eigh: A must be batches of square matrices, but they are 2 by 3 matrices");
        /// assert!(linalg::try_eigh(&Tensor::zeros(&[2, 2]), "X").is_err());
        /// ```
        pub fn eigh / try_eigh(a: &Tensor, uplo: &str = "L") -> (Tensor, Tensor) {
            eigh_impl("linalg.eigh", a, uplo)
        }

        /// The eigenvalues (ascending) of a (batch of) real symmetric matrices
        /// (`torch.linalg.eigvalsh`), reading the `uplo` triangle: [`eigh`]'s first result. Its
        /// gradient `V diag(g) V^T` has no `1 / (l_j - l_i)` term, so it is exact at repeated
        /// eigenvalues too (its second derivative there, like PyTorch's, is not finite).
        ///
        /// ```
        /// use ferrograd::{linalg, DType, Tensor};
        /// let a = Tensor::from_data([[1.0, 0.0], [0.0, 1.0]], DType::F64).requires_grad_(true);
        /// let l = linalg::eigvalsh(&a, "L");
        /// l.sum().backward(); // the trace's gradient, at a repeated eigenvalue
        /// assert_eq!(a.grad().unwrap().to_vec::<f64>(), vec![1.0, 0.0, 0.0, 1.0]);
        /// assert!(linalg::try_eigvalsh(&Tensor::zeros(&[3]), "L").is_err());
        /// ```
        pub fn eigvalsh / try_eigvalsh(a: &Tensor, uplo: &str = "L") -> Tensor {
            Ok(eigh_impl("linalg.eigvalsh", a, uplo)?.0)
        }

        /// The singular value decomposition `A = U diag(S) Vh` of a (batch of) matrices
        /// `[..., m, n]` (`torch.linalg.svd`), singular values descending; with `full_matrices`
        /// `U` is `m x m` and `Vh` `n x n`, else `m x k` and `k x n` (`k = min(m, n)`).
        /// One-sided Jacobi in `f64`.
        ///
        /// Sign convention: each column of `U` has its largest-magnitude component positive
        /// (the first at an exact tie), the matching row of `Vh` flipped with it. Singular
        /// vectors of zero singular values and the extra columns (rows) of full matrices
        /// complete the others to orthonormal bases.
        ///
        /// The gradient is PyTorch's `svd_backward`. As in PyTorch, with `full_matrices` the
        /// gradients of the columns of `U` (rows of `Vh`) past `k` are ignored (they are any
        /// basis of a subspace) and their tangents are zero. Through `U` or `Vh` it is finite
        /// only for distinct (and, for non-square `A`, nonzero) singular values; through `S`
        /// alone it is `U diag(gS) Vh`, finite everywhere.
        ///
        /// ```
        /// use ferrograd::{linalg, DType, Tensor};
        /// let a = Tensor::from_data([[3.0, 0.0], [0.0, -4.0], [0.0, 0.0]], DType::F64);
        /// let (u, s, vh) = linalg::svd(&a, false);
        /// assert_eq!(s.to_vec::<f64>(), vec![4.0, 3.0]);
        /// assert_eq!(u.to_vec::<f64>(), vec![0.0, 1.0, 1.0, 0.0, 0.0, 0.0]);
        /// assert_eq!(vh.to_vec::<f64>(), vec![0.0, -1.0, 1.0, 0.0]);
        /// assert_eq!(linalg::svd(&a, true).0.shape(), &[3, 3]);
        /// ```
        ///
        /// ```
        /// use ferrograd::{linalg, Tensor};
        /// let e = linalg::try_svd(&Tensor::zeros(&[3]), true).unwrap_err();
        /// assert_eq!(e.to_string(), "linalg.svd: The input tensor A must have at least 2 dimensions.");
        /// ```
        pub fn svd / try_svd(a: &Tensor, full_matrices: bool = true) -> (Tensor, Tensor, Tensor) {
            svd_impl("linalg.svd", a, full_matrices)
        }

        /// The singular values (descending) of a (batch of) matrices (`torch.linalg.svdvals`):
        /// [`svd`]'s `S`, with the gradient `U diag(g) Vh` (finite at repeated and zero
        /// singular values).
        ///
        /// ```
        /// use ferrograd::{linalg, DType, Tensor};
        /// let a = Tensor::from_data([[1.0, 2.0], [2.0, 4.0]], DType::F64);
        /// let s = linalg::svdvals(&a).to_vec::<f64>();
        /// assert!((s[0] - 5.0).abs() < 1e-14 && s[1].abs() < 1e-15);
        /// assert!(linalg::try_svdvals(&Tensor::zeros(&[2])).is_err());
        /// ```
        pub fn svdvals / try_svdvals(a: &Tensor) -> Tensor {
            Ok(svd_impl("linalg.svdvals", a, false)?.1)
        }

        /// The Moore-Penrose pseudoinverse of a (batch of) matrices `[..., m, n]`
        /// (`torch.linalg.pinv`), `[..., n, m]`: `V diag(1/s) U^T` over the singular values
        /// above `max(atol, rtol * s_max)` (the others count as zero), or with `hermitian`
        /// (a symmetric `A`, its lower triangle read) `V diag(1/l) V^T` from [`eigh`] over the
        /// eigenvalues above it in magnitude. Defaults as PyTorch's: `atol` 0 and `rtol`
        /// `eps * max(m, n)` when neither is given, `rtol` 0 when only a positive `atol` is.
        /// A composite of differentiable ops.
        ///
        /// ```
        /// use ferrograd::{linalg, DType, Tensor};
        /// let a = Tensor::from_data([[1.0, 2.0], [2.0, 4.0]], DType::F64);
        /// let p = linalg::pinv(&a, None, None, false).to_vec::<f64>();
        /// for (g, w) in p.iter().zip([0.04, 0.08, 0.08, 0.16]) {
        ///     assert!((g - w).abs() < 1e-15);
        /// }
        /// assert!(linalg::try_pinv(&Tensor::zeros(&[2]), None, None, false).is_err());
        /// ```
        pub fn pinv / try_pinv(a: &Tensor, atol: Option<f64> = None, rtol: Option<f64> = None, hermitian: bool = false) -> Tensor {
            super::named(pinv_impl(a, atol, rtol, hermitian), "LinalgPinvBackward0")
        }

        /// A matrix norm over the dimensions `dim` (two of them) of `a`
        /// (`torch.linalg.matrix_norm`). `ord` is `"fro"` (the default: the root of the sum of
        /// squares), `"nuc"` (the sum of the singular values), or a number written as a
        /// string: `"2"` / `"-2"` (the largest / smallest singular value), `"1"` / `"-1"` (the
        /// largest / smallest column sum of magnitudes), `"inf"` / `"-inf"` (the same over
        /// rows). Composites of differentiable ops ([`svdvals`] for `nuc` and `2`).
        ///
        /// ```
        /// use ferrograd::{linalg, DType, Tensor};
        /// let a = Tensor::from_data([[1.0, -2.0], [3.0, 4.0]], DType::F64);
        /// assert_eq!(linalg::matrix_norm(&a, "1", &[-2, -1], false).item(), 6.0);
        /// assert_eq!(linalg::matrix_norm(&a, "inf", &[-2, -1], false).item(), 7.0);
        /// assert!((linalg::matrix_norm(&a, "fro", &[-2, -1], false).item() - 30f64.sqrt()).abs() < 1e-15);
        /// let e = linalg::try_matrix_norm(&a, "3", &[-2, -1], false).unwrap_err();
        /// assert_eq!(e.to_string(), "linalg.matrix_norm: Order 3 not supported.");
        /// ```
        pub fn matrix_norm / try_matrix_norm(a: &Tensor, ord: &str = "fro", dim: &[isize] = &[-2, -1], keepdim: bool = false) -> Tensor {
            matrix_norm_impl(a, ord, dim, keepdim)
        }

        /// The condition number of a (batch of) matrices in the norm `p`
        /// (`torch.linalg.cond`): `None` (the default) or `"2"`, `s_max / s_min` (any shape;
        /// `"-2"`: `s_min / s_max`), or `"fro"`, `"nuc"`, `"1"`, `"-1"`, `"inf"`, `"-inf"`:
        /// `norm(A) * norm(inv(A))` for square `A` (infinite where `A` is exactly singular).
        /// A composite of differentiable ops.
        ///
        /// ```
        /// use ferrograd::{linalg, DType, Tensor};
        /// let a = Tensor::from_data([[2.0, 0.0], [0.0, 0.5]], DType::F64);
        /// assert_eq!(linalg::cond(&a, None).item(), 4.0);
        /// assert_eq!(linalg::cond(&a, Some("1")).item(), 4.0);
        /// assert!(linalg::try_cond(&Tensor::zeros(&[2, 3]), Some("fro")).is_err());
        /// ```
        pub fn cond / try_cond(a: &Tensor, p: Option<&str> = None) -> Tensor {
            cond_impl(a, p)
        }

        /// The numerical rank of a (batch of) matrices (`torch.linalg.matrix_rank`, int64): the
        /// number of singular values (with `hermitian`, eigenvalue magnitudes) above
        /// `max(atol, rtol * s_max)`, with [`pinv`]'s defaults. Not differentiable.
        ///
        /// ```
        /// use ferrograd::{linalg, DType, Tensor};
        /// let a = Tensor::from_data([[1.0, 2.0], [2.0, 4.0]], DType::F64);
        /// assert_eq!(linalg::matrix_rank(&a, None, None, false).to_vec::<i64>(), vec![1]);
        /// assert_eq!(linalg::matrix_rank(&a, None, None, true).to_vec::<i64>(), vec![1]);
        /// assert!(linalg::try_matrix_rank(&Tensor::zeros(&[2]), None, None, false).is_err());
        /// ```
        pub fn matrix_rank / try_matrix_rank(a: &Tensor, atol: Option<f64> = None, rtol: Option<f64> = None, hermitian: bool = false) -> Tensor {
            matrix_rank_impl(a, atol, rtol, hermitian)
        }
    }
}

// ----------------------------------------------------------------------------- checks

/// A `[..., m, n]` floating tensor, or PyTorch's error for `op`.
fn check_matrix(op: &'static str, a: &Tensor) -> Result<(usize, usize)> {
    if a.dim() < 2 {
        return Err(Error::invalid(
            op,
            "The input tensor A must have at least 2 dimensions.",
        ));
    }
    if !a.dtype().is_floating_point() {
        return Err(Error::invalid(
            op,
            format!(
                "Expected a floating point or complex tensor as input. Got {}",
                a.dtype()
            ),
        ));
    }
    let d = a.dim();
    Ok((a.shape()[d - 2], a.shape()[d - 1]))
}

/// A `[..., n, n]` floating tensor, or PyTorch's error for `op`.
fn check_square(op: &'static str, a: &Tensor) -> Result<usize> {
    let (m, n) = check_matrix(op, a)?;
    if m != n {
        return Err(Error::invalid(
            op,
            format!("A must be batches of square matrices, but they are {m} by {n} matrices"),
        ));
    }
    Ok(n)
}

/// PyTorch's `UPLO`: `"L"` or `"U"` (either case); whether it is `U`.
fn parse_uplo(op: &'static str, uplo: &str) -> Result<bool> {
    match uplo {
        "L" | "l" => Ok(false),
        "U" | "u" => Ok(true),
        _ => Err(Error::invalid(
            op,
            format!("Expected UPLO argument to be 'L' or 'U', but got {uplo}"),
        )),
    }
}

/// Whether an op on `a` records anything: a node (grad mode and `a` requires grad) or a
/// tangent (forward mode and `a` has one).
fn tracked(a: &Tensor) -> bool {
    (crate::is_grad_enabled() && a.requires_grad()) || crate::forward_ad::tangent(a).is_some()
}

/// The batch dims `[...]` of a `[..., m, n]` tensor and their product.
fn batch_of(a: &Tensor) -> (Vec<usize>, usize) {
    let lead = a.shape()[..a.dim() - 2].to_vec();
    let count = lead.iter().product();
    (lead, count)
}

fn with(lead: &[usize], tail: &[usize]) -> Vec<usize> {
    lead.iter().chain(tail).copied().collect()
}

fn from_f64s(dtype: DType, values: Vec<f64>, shape: &[usize]) -> Result<Tensor> {
    Ok(Tensor::from_buffer(
        Buffer::try_from_f64s(dtype, values.into_iter())?,
        shape,
    ))
}

// ------------------------------------------------------------------- packing factors

/// Tensors with the same leading dims packed into one `[..., total]`, each one's trailing dims
/// (`tails[i]` of them) flattened.
fn pack(parts: &[&Tensor], tails: &[usize]) -> Tensor {
    let flat: Vec<Tensor> = parts
        .iter()
        .zip(tails)
        .map(|(t, &k)| {
            let d = t.dim();
            let mut s = t.shape()[..d - k].to_vec();
            s.push(t.shape()[d - k..].iter().product());
            t.reshape(&s)
        })
        .collect();
    Tensor::cat(&flat, -1)
}

/// The parts of a [`pack`]ed tensor, of trailing shapes `shapes` (differentiable views).
fn unpack(p: &Tensor, shapes: &[Vec<usize>]) -> Vec<Tensor> {
    let lead = &p.shape()[..p.dim() - 1];
    let mut off = 0;
    shapes
        .iter()
        .map(|s| {
            let c: usize = s.iter().product();
            let part = p.narrow(-1, off, c).reshape(&with(lead, s));
            off += c;
            part
        })
        .collect()
}

/// `d` (`[..., k]`) as diagonal matrices `[..., k, k]`.
fn diag_embed(d: &Tensor) -> Tensor {
    let k = d.shape()[d.dim() - 1];
    &d.unsqueeze(-1) * &Tensor::eye_with(k, d.dtype())
}

// ----------------------------------------------------------------------------- eigh

const EIGH: &str = "LinalgEighBackward0";

fn eigh_impl(op: &'static str, a: &Tensor, uplo: &str) -> Result<(Tensor, Tensor)> {
    let upper = parse_uplo(op, uplo)?;
    let n = check_square(op, a)?;
    if a.is_batched() {
        let ys = crate::autograd::levels::lowered(a, |p| {
            let (l, v) = eigh_impl(op, p, uplo)?;
            Ok(vec![l, v])
        })?;
        return Ok((ys[0].clone(), ys[1].clone()));
    }
    let (lead, count) = batch_of(a);
    let mut x = a.values_f64();
    // The triangle read, mirrored.
    for m in x.chunks_mut((n * n).max(1)) {
        for i in 0..n {
            for j in 0..i {
                let (lo, hi) = (i * n + j, j * n + i);
                if upper {
                    m[lo] = m[hi];
                } else {
                    m[hi] = m[lo];
                }
            }
        }
    }
    let (l, v) = kernels::spectral::eigh(&x, count, n)?;
    let l = from_f64s(a.dtype(), l, &with(&lead, &[n]))?;
    let v = from_f64s(a.dtype(), v, &with(&lead, &[n, n]))?;
    if !tracked(a) {
        return Ok((l, v));
    }
    let shapes = vec![vec![n], vec![n, n]];
    let tails = [1, 2];
    let sh = shapes.clone();
    let core = record(
        EIGH,
        pack(&[&l, &v], &tails),
        &[a],
        |_, s| {
            let p = s.save_output();
            move |args| {
                let f = unpack(&args[p], &sh);
                let g = unpack(args.grad, &sh);
                grads([Some(eigh_backward(Some(&g[0]), Some(&g[1]), &f[0], &f[1]))])
            }
        },
        |j| {
            let f = unpack(j.out(), &shapes);
            let da = j.t(0).expect("tangent");
            let (dl, dv) = (
                eigh_jvp_values(da, &f[1]),
                eigh_jvp_vectors(da, &f[0], &f[1]),
            );
            pack(&[&dl, &dv], &tails)
        },
    );
    let f = unpack(&core, &shapes);
    let output = |out: Tensor, values: bool| {
        let sh = shapes.clone();
        record(
            EIGH,
            out,
            &[a],
            |_, s| {
                let p = s.save(&core);
                move |args| {
                    let f = unpack(&args[p], &sh);
                    let (gl, gv) = match values {
                        true => (Some(args.grad), None),
                        false => (None, Some(args.grad)),
                    };
                    grads([Some(eigh_backward(gl, gv, &f[0], &f[1]))])
                }
            },
            |j| {
                let da = j.t(0).expect("tangent");
                match values {
                    true => eigh_jvp_values(da, &f[1]),
                    false => eigh_jvp_vectors(da, &f[0], &f[1]),
                }
            },
        )
    };
    Ok((output(l, true), output(v, false)))
}

/// PyTorch's `linalg_eig_backward` for a symmetric input: `V (diag(gL) + skew(V^T gV) / E)
/// V^T`, `skew(X) = (X - X^T) / 2`, `E_ij = l_j - l_i` (1 on the diagonal). Without `gV` it is
/// `V diag(gL) V^T`, with no division.
fn eigh_backward(gl: Option<&Tensor>, gv: Option<&Tensor>, l: &Tensor, v: &Tensor) -> Tensor {
    let vt = v.m_t();
    let Some(gv) = gv else {
        return match gl {
            Some(gl) => (v * &gl.unsqueeze(-2)).matmul(&vt),
            None => v.matmul(&vt).zeros_like(),
        };
    };
    let n = l.shape()[l.dim() - 1];
    let eye = Tensor::eye_with(n, l.dtype());
    let m = vt.matmul(gv);
    let skew = (&m - &m.m_t()).mul_scalar(0.5);
    let e = &(&l.unsqueeze(-2) - &l.unsqueeze(-1)) + &eye;
    let mut inner = &skew / &e;
    if let Some(gl) = gl {
        inner = &inner + &diag_embed(gl);
    }
    v.matmul(&inner).matmul(&vt)
}

/// `dL = diag(V^T dA V)`.
fn eigh_jvp_values(da: &Tensor, v: &Tensor) -> Tensor {
    v.m_t().matmul(da).matmul(v).diagonal(0, -2, -1)
}

/// `dV = V ((V^T dA V) / E)`, the quotient 0 on the diagonal (`E_ij = l_j - l_i`).
fn eigh_jvp_vectors(da: &Tensor, l: &Tensor, v: &Tensor) -> Tensor {
    let n = l.shape()[l.dim() - 1];
    let eye = Tensor::eye_with(n, l.dtype());
    let dp = v.m_t().matmul(da).matmul(v);
    let e = &(&l.unsqueeze(-2) - &l.unsqueeze(-1)) + &eye;
    let off = eye.neg().add_scalar(1.0);
    v.matmul(&(&(&dp / &e) * &off))
}

// ------------------------------------------------------------------------------ svd

const SVD: &str = "LinalgSvdBackward0";

fn svd_impl(op: &'static str, a: &Tensor, full: bool) -> Result<(Tensor, Tensor, Tensor)> {
    let (m, n) = check_matrix(op, a)?;
    if a.is_batched() {
        let ys = crate::autograd::levels::lowered(a, |p| {
            let (u, s, vh) = svd_impl(op, p, full)?;
            Ok(vec![u, s, vh])
        })?;
        return Ok((ys[0].clone(), ys[1].clone(), ys[2].clone()));
    }
    let k = m.min(n);
    let (uc, vr) = if full { (m, n) } else { (k, k) };
    let (lead, count) = batch_of(a);
    let (u, s, vh) = kernels::spectral::svd(&a.values_f64(), count, m, n, full)?;
    let u = from_f64s(a.dtype(), u, &with(&lead, &[m, uc]))?;
    let s = from_f64s(a.dtype(), s, &with(&lead, &[k]))?;
    let vh = from_f64s(a.dtype(), vh, &with(&lead, &[vr, n]))?;
    if !tracked(a) {
        return Ok((u, s, vh));
    }
    let shapes = vec![vec![m, k], vec![k], vec![k, n]];
    let tails = [2, 1, 2];
    let sh = shapes.clone();
    let core = record(
        SVD,
        pack(&[&u.narrow(-1, 0, k), &s, &vh.narrow(-2, 0, k)], &tails),
        &[a],
        |_, sv| {
            let p = sv.save_output();
            move |args| {
                let f = unpack(&args[p], &sh);
                let g = unpack(args.grad, &sh);
                let gs = [Some(&g[0]), Some(&g[1]), Some(&g[2])];
                grads([Some(svd_backward(gs, &f[0], &f[1], &f[2]))])
            }
        },
        |j| {
            let f = unpack(j.out(), &shapes);
            let (du, ds, dvh) = svd_jvp(j.t(0).expect("tangent"), &f[0], &f[1], &f[2]);
            pack(&[&du, &ds, &dvh], &tails)
        },
    );
    let f = unpack(&core, &shapes);
    let output = |out: Tensor, which: usize| {
        let sh = shapes.clone();
        record(
            SVD,
            out,
            &[a],
            |_, sv| {
                let p = sv.save(&core);
                move |args| {
                    let f = unpack(&args[p], &sh);
                    // With full matrices, only the first k columns of U (rows of Vh) count.
                    let g = match which {
                        0 => args.grad.narrow(-1, 0, k),
                        2 => args.grad.narrow(-2, 0, k),
                        _ => args.grad.clone(),
                    };
                    let mut gs = [None, None, None];
                    gs[which] = Some(&g);
                    grads([Some(svd_backward(gs, &f[0], &f[1], &f[2]))])
                }
            },
            |j| {
                let (du, ds, dvh) = svd_jvp(j.t(0).expect("tangent"), &f[0], &f[1], &f[2]);
                match which {
                    0 => pad_last(&du, -1, uc - k),
                    1 => ds,
                    _ => pad_last(&dvh, -2, vr - k),
                }
            },
        )
    };
    Ok((output(u, 0), output(s, 1), output(vh, 2)))
}

/// `t` with `extra` zeros appended along `dim` (-1 or -2).
fn pad_last(t: &Tensor, dim: isize, extra: usize) -> Tensor {
    if extra == 0 {
        return t.clone();
    }
    let mut s = t.shape_vec();
    let d = (t.dim() as isize + dim) as usize;
    s[d] = extra;
    let z = Tensor::full_with(&s, 0.0, t.dtype());
    Tensor::cat(&[t.clone(), z], dim)
}

/// PyTorch's `svd_backward` (reduced factors `U` `[..., m, k]`, `S`, `Vh` `[..., k, n]`),
/// for the gradients `[gU, gS, gVh]` that are defined.
fn svd_backward(g: [Option<&Tensor>; 3], u: &Tensor, s: &Tensor, vh: &Tensor) -> Tensor {
    let [gu, gs, gvh] = g;
    let (m, n) = (u.shape()[u.dim() - 2], vh.shape()[vh.dim() - 1]);
    let k = s.shape()[s.dim() - 1];
    if gu.is_none() && gvh.is_none() {
        return match gs {
            None => u.matmul(vh).zeros_like(),
            Some(gs) if m >= n => u.matmul(&(&gs.unsqueeze(-1) * vh)),
            Some(gs) => (u * &gs.unsqueeze(-2)).matmul(vh),
        };
    }
    let skew = |x: &Tensor| x - &x.m_t();
    let eye = Tensor::eye_with(k, s.dtype());
    let s2 = s * s;
    let e = &(&s2.unsqueeze(-2) - &s2.unsqueeze(-1)) + &eye;
    let uhgu = gu.map(|gu| skew(&u.m_t().matmul(gu)));
    let vhgv = gvh.map(|gvh| skew(&vh.matmul(&gvh.m_t())));
    let mut inner = match (&uhgu, &vhgv) {
        (Some(a), Some(b)) => &(&(a * &s.unsqueeze(-2)) + &(&s.unsqueeze(-1) * b)) / &e,
        (Some(a), None) => a * &(&s.unsqueeze(-2) / &e),
        (None, Some(b)) => &s.unsqueeze(-1) * &(b / &e),
        (None, None) => unreachable!("one of gU, gVh is defined"),
    };
    if let Some(gs) = gs {
        inner = &inner + &diag_embed(gs);
    }
    match (gu, gvh) {
        (Some(gu), _) if m > n => {
            let ga = u.matmul(&inner);
            let gusinv = gu / &s.unsqueeze(-2);
            let ga = &(&ga + &gusinv) - &u.matmul(&u.m_t().matmul(&gusinv));
            ga.matmul(vh)
        }
        (_, Some(gvh)) if m < n => {
            let ga = inner.matmul(vh);
            let sinvgvh = gvh / &s.unsqueeze(-1);
            let ga = &(&ga + &sinvgvh) - &sinvgvh.matmul(&vh.m_t()).matmul(vh);
            u.matmul(&ga)
        }
        _ if m >= n => u.matmul(&inner.matmul(vh)),
        _ => u.matmul(&inner).matmul(vh),
    }
}

/// PyTorch's `linalg_svd_jvp` on reduced factors: `dP = U^T dA V`, `dS = diag(dP)`,
/// `dU = U (sym(dP' S) / E) [+ (I - U U^T) dA V S^-1]`, `dVh = -(sym(S dP') / E) Vh
/// [+ S^-1 U^T dA (I - V V^T)]`, `dP'` being `dP` without its diagonal, `sym(X) = X + X^T`,
/// `E_ij = s_j^2 - s_i^2` (1 on the diagonal).
fn svd_jvp(da: &Tensor, u: &Tensor, s: &Tensor, vh: &Tensor) -> (Tensor, Tensor, Tensor) {
    let (m, n) = (u.shape()[u.dim() - 2], vh.shape()[vh.dim() - 1]);
    let k = s.shape()[s.dim() - 1];
    let v = vh.m_t();
    let ut = u.m_t();
    let dp = if m >= n {
        ut.matmul(&da.matmul(&v))
    } else {
        ut.matmul(da).matmul(&v)
    };
    let ds = dp.diagonal(0, -2, -1);
    let dp = &dp - &diag_embed(&ds);
    let eye = Tensor::eye_with(k, s.dtype());
    let s2 = s * s;
    let e = &(&s2.unsqueeze(-2) - &s2.unsqueeze(-1)) + &eye;
    let sym = |x: &Tensor| x + &x.m_t();
    let mut du = u.matmul(&(&sym(&(&dp * &s.unsqueeze(-2))) / &e));
    if m > n {
        let davs = da.matmul(&(&v / &s.unsqueeze(-2)));
        du = &(&du + &davs) - &u.matmul(&ut.matmul(&davs));
    }
    let mut dvh = (&sym(&(&dp * &s.unsqueeze(-1))) / &e).matmul(vh).neg();
    if m < n {
        let uhdas = (&ut / &s.unsqueeze(-1)).matmul(da);
        dvh = &(&dvh + &uhdas) - &uhdas.matmul(&v).matmul(vh);
    }
    (du, ds, dvh)
}

// ------------------------------------------------------------------------ composites

/// Machine epsilon of a floating dtype.
fn eps(dtype: DType) -> f64 {
    match dtype {
        DType::F32 => f32::EPSILON as f64,
        _ => f64::EPSILON,
    }
}

/// PyTorch's `get_atol_rtol`: `atol` 0 by default; `rtol` `eps * max(m, n)` by default, 0
/// when only a positive `atol` is given.
fn tolerances(a: &Tensor, atol: Option<f64>, rtol: Option<f64>) -> (f64, f64) {
    let d = a.dim();
    let size = a.shape()[d - 1].max(a.shape()[d - 2]) as f64;
    let default = eps(a.dtype()) * size;
    let rtol = match (atol, rtol) {
        (_, Some(r)) => r,
        (Some(t), None) if t > 0.0 => 0.0,
        _ => default,
    };
    (atol.unwrap_or(0.0), rtol)
}

/// PyTorch's pinv check: at least 2 dims of a floating dtype.
fn check_pinv(op: &'static str, a: &Tensor) -> Result<()> {
    if a.dim() < 2 || !a.dtype().is_floating_point() {
        return Err(Error::invalid(
            op,
            format!(
                "expected a tensor with 2 or more dimensions of float, double, cfloat or cdouble types, got {} of shape {:?}",
                a.dtype(),
                a.shape()
            ),
        ));
    }
    Ok(())
}

/// The singular values (or eigenvalue magnitudes, `hermitian`) and which of them are above
/// the tolerance; `None` for matrices with no singular values (`k = 0`).
fn pinv_impl(a: &Tensor, atol: Option<f64>, rtol: Option<f64>, hermitian: bool) -> Result<Tensor> {
    check_pinv("linalg.pinv", a)?;
    let (atol, rtol) = tolerances(a, atol, rtol);
    if hermitian {
        let (l, v) = eigh_impl("linalg.pinv", a, "L")?;
        if l.shape()[l.dim() - 1] == 0 {
            return Ok(v.matmul(&v.m_t()));
        }
        let mask = above(&l.abs(), atol, rtol)?;
        let inv = safe_reciprocal(&mask, &l);
        return Ok((&v * &inv.unsqueeze(-2)).matmul(&v.m_t()));
    }
    let (u, s, vh) = svd_impl("linalg.pinv", a, false)?;
    if s.shape()[s.dim() - 1] == 0 {
        return Ok(vh.m_t().matmul(&u.m_t()));
    }
    let mask = above(&s, atol, rtol)?;
    let inv = safe_reciprocal(&mask, &s);
    Ok((&vh.m_t() * &inv.unsqueeze(-2)).matmul(&u.m_t()))
}

/// Where the magnitudes `x` (`[..., k]`, `k > 0`) exceed `max(atol, rtol * max(x))`.
fn above(x: &Tensor, atol: f64, rtol: f64) -> Result<Tensor> {
    let tol = x
        .detach()
        .try_amax(&[-1], true)?
        .mul_scalar(rtol)
        .clamp(Some(atol), None);
    x.detach().try_gt(&tol)
}

/// `1 / x` where `mask`, 0 elsewhere, without an infinity in either branch (so that the
/// gradient is 0, not NaN, where a value is exactly 0).
fn safe_reciprocal(mask: &Tensor, x: &Tensor) -> Tensor {
    let safe = Tensor::where_(mask, x, &x.ones_like());
    Tensor::where_(mask, &safe.reciprocal(), &x.zeros_like())
}

/// A matrix order: `"fro"`, `"nuc"` or a number.
#[derive(Clone, Copy, PartialEq)]
enum MatrixOrd {
    Fro,
    Nuc,
    Num(f64),
}

fn parse_ord(op: &'static str, ord: &str) -> Result<MatrixOrd> {
    let bad = || Error::invalid(op, format!("Order {ord} not supported."));
    match ord {
        "fro" => Ok(MatrixOrd::Fro),
        "nuc" => Ok(MatrixOrd::Nuc),
        _ => {
            let p: f64 = ord.trim().parse().map_err(|_| bad())?;
            if [1.0, 2.0, f64::INFINITY].contains(&p.abs()) {
                Ok(MatrixOrd::Num(p))
            } else {
                Err(bad())
            }
        }
    }
}

fn matrix_norm_impl(a: &Tensor, ord: &str, dim: &[isize], keepdim: bool) -> Result<Tensor> {
    const OP: &str = "linalg.matrix_norm";
    check_matrix(OP, a)?;
    let ord = parse_ord(OP, ord)?;
    if dim.len() != 2 {
        return Err(Error::invalid(
            OP,
            format!("dim must be a 2-tuple. Got {dim:?}"),
        ));
    }
    let d0 = super::normalize_dim(OP, dim[0], a.dim())?;
    let d1 = super::normalize_dim(OP, dim[1], a.dim())?;
    if d0 == d1 {
        return Err(Error::invalid(
            OP,
            format!("dims must be different. Got ({d0}, {d1})"),
        ));
    }
    norm_of(a, ord, d0, d1, keepdim)
}

/// The norm `ord` over the (distinct, non-negative) dims `d0`, `d1` of `a`.
fn norm_of(a: &Tensor, ord: MatrixOrd, d0: usize, d1: usize, keepdim: bool) -> Result<Tensor> {
    let spectral = |reduce: fn(&Tensor) -> Result<Tensor>| -> Result<Tensor> {
        // Move the two dims to the end, reduce the singular values, put size-1 dims back.
        let mut perm: Vec<isize> = (0..a.dim())
            .filter(|&d| d != d0 && d != d1)
            .map(|d| d as isize)
            .collect();
        perm.extend([d0 as isize, d1 as isize]);
        let s = svd_impl("linalg.matrix_norm", &a.try_permute(&perm)?, false)?.1;
        let mut r = reduce(&s)?;
        if keepdim {
            for d in [d0.min(d1), d0.max(d1)] {
                r = r.try_unsqueeze(d as isize)?;
            }
        }
        Ok(r)
    };
    match ord {
        MatrixOrd::Fro => a.try_norm_dims(2.0, &[d0 as isize, d1 as isize], keepdim),
        MatrixOrd::Nuc => spectral(|s| s.try_sum_dims(&[-1], false)),
        MatrixOrd::Num(2.0) => spectral(|s| s.try_amax(&[-1], false)),
        MatrixOrd::Num(-2.0) => spectral(|s| s.try_amin(&[-1], false)),
        MatrixOrd::Num(p) => {
            let (mut s0, mut s1) = (d0, d1);
            if p.is_infinite() {
                std::mem::swap(&mut s0, &mut s1);
            }
            if !keepdim && s0 < s1 {
                s1 -= 1;
            }
            let sums = a.abs().try_sum_dims(&[s0 as isize], keepdim)?;
            if p > 0.0 {
                sums.try_amax(&[s1 as isize], keepdim)
            } else {
                sums.try_amin(&[s1 as isize], keepdim)
            }
        }
    }
}

fn cond_impl(a: &Tensor, p: Option<&str>) -> Result<Tensor> {
    const OP: &str = "linalg.cond";
    check_matrix(OP, a)?;
    if a.is_batched() {
        // The singularity test reads values: one member batch at a time, physically.
        let ys = crate::autograd::levels::lowered(a, |x| Ok(vec![cond_impl(x, p)?]))?;
        return Ok(ys[0].clone());
    }
    let ord = parse_ord(OP, p.unwrap_or("2"))?;
    let d = a.dim();
    match ord {
        MatrixOrd::Num(p) if p.abs() == 2.0 => {
            let s = svd_impl(OP, a, false)?.1;
            let k = s.shape()[s.dim() - 1];
            if k == 0 {
                return Ok(s.sum_dims(&[-1], false));
            }
            let (hi, lo) = (s.narrow(-1, 0, 1), s.narrow(-1, k - 1, 1));
            let r = if p > 0.0 { &hi / &lo } else { &lo / &hi };
            r.try_squeeze(-1)
        }
        _ => {
            let n = check_square(OP, a)?;
            if n == 0 {
                return Ok(Tensor::full_with(&a.shape()[..d - 2], 0.0, a.dtype()));
            }
            // An exactly singular matrix has condition number infinity (PyTorch's too).
            let singular: Vec<bool> = a
                .values_f64()
                .chunks(n * n)
                .map(|m| kernels::lu_pivot_ratio(m, n) == 0.0)
                .collect();
            let norm = |x: &Tensor| norm_of(x, ord, d - 2, d - 1, false);
            if singular.iter().all(|&s| !s) {
                return Ok(&norm(a)? * &norm(&a.try_inv()?)?);
            }
            let mask = Tensor::from_data(singular, DType::Bool).try_reshape(&a.shape()[..d - 2])?;
            let eye = Tensor::eye_with(n, a.dtype());
            let mut ms = a.shape()[..d - 2].to_vec();
            ms.extend([1, 1]);
            let safe = Tensor::where_(&mask.try_reshape(&ms)?, &eye, a);
            let c = &norm(&safe)? * &norm(&safe.try_inv()?)?;
            Ok(Tensor::where_(
                &mask,
                &Tensor::full_with(&[], f64::INFINITY, a.dtype()),
                &c,
            ))
        }
    }
}

fn matrix_rank_impl(
    a: &Tensor,
    atol: Option<f64>,
    rtol: Option<f64>,
    hermitian: bool,
) -> Result<Tensor> {
    const OP: &str = "linalg.matrix_rank";
    check_matrix(OP, a)?;
    let (atol, rtol) = tolerances(a, atol, rtol);
    let s = crate::with_no_grad(|| -> Result<Tensor> {
        Ok(if hermitian {
            eigh_impl(OP, a, "L")?.0.abs()
        } else {
            svd_impl(OP, a, false)?.1
        })
    })?;
    if s.shape()[s.dim() - 1] == 0 {
        return Ok(Tensor::full_with(
            &s.shape()[..s.dim() - 1],
            0.0,
            DType::I64,
        ));
    }
    above(&s, atol, rtol)?.try_sum_dims(&[-1], false)
}
