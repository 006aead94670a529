//! Products: dot, mm, mv, matmul (batched, with broadcasting), and the public `linalg` module
//! (`torch.linalg`): its factorizations live in `factor.rs`, its spectral decompositions in
//! `spectral.rs`, re-exported here.

pub use super::factor::*;
pub use super::products::{
    cross, matrix_exp, matrix_power, multi_dot, try_cross, try_matrix_exp, try_matrix_power,
    try_multi_dot, try_vecdot, try_vector_norm, vecdot, vector_norm,
};
pub use super::spectral::*;

use super::grads;
use crate::autograd::record;
use crate::batching;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::kernels;
use crate::layout::{broadcast_shapes, Shape};
use crate::raw;
use crate::tensor::Tensor;
use std::borrow::Borrow;

api! {
    LINALG_OPS = impl Tensor {
        /// Inner product of two 1-d tensors of the same length and dtype.
        /// Panics otherwise; see [`Tensor::try_dot`].
        ///
        /// ```
        /// let x = ferrograd::Tensor::arange(4.0).requires_grad_(true);
        /// assert_eq!(x.dot(&x).to_string(), "tensor(14., grad_fn=<DotBackward0>)");
        /// ```
        ///
        /// ```
        /// let e = ferrograd::Tensor::zeros(&[3]).try_dot(&ferrograd::Tensor::zeros(&[4])).unwrap_err();
        /// assert!(e.to_string().contains("inconsistent tensor size"));
        /// ```
        pub fn dot / try_dot(&self, other: &Tensor) -> Tensor {
            if self.dim() != 1 || other.dim() != 1 {
                return Err(Error::invalid(
                    "dot",
                    format!(
                        "1D tensors expected, but got {}D and {}D tensors",
                        self.dim(),
                        other.dim()
                    ),
                ));
            }
            same_float_dtype("dot", self, other)?;
            if self.numel() != other.numel() {
                return Err(Error::invalid(
                    "dot",
                    format!(
                        "inconsistent tensor size, expected tensor [{}] and src [{}] to have the same number of elements, but got {} and {} elements respectively",
                        self.numel(),
                        other.numel(),
                        self.numel(),
                        other.numel()
                    ),
                ));
            }
            let n = self.numel();
            let out = if self.is_batched() || other.is_batched() {
                crate::autograd::levels::physically(|| batching::broadcasting([self, other], |[a, b]| Ok((&a * &b).sum_dims(&[-1], false))))?
            } else {
                dot_kernel(self, other, n)?
            };
            Ok(record(
                "DotBackward0",
                out,
                &[self, other],
                |needs, s| {
                    let x = needs[1].then(|| s.save(self));
                    let y = needs[0].then(|| s.save(other));
                    move |a| {
                        grads([
                            y.filter(|_| a.needs(0)).map(|y| a.grad * &a[y]),
                            x.filter(|_| a.needs(1)).map(|x| a.grad * &a[x]),
                        ])
                    }
                },
                // The product rule; the sums run over the vectors' (last) dimension.
                |j| {
                    j.sum([
                        j.t(0).map(|t| (t * other).sum_dims(&[-1], false)),
                        j.t(1).map(|t| (self * t).sum_dims(&[-1], false)),
                    ])
                },
            ))
        }

        /// Matrix product of two 2-d tensors of the same dtype. Panics on mismatched shapes; see
        /// [`Tensor::try_mm`].
        ///
        /// ```
        /// let a = ferrograd::Tensor::new([[1.0, 2.0], [3.0, 4.0]]).requires_grad_(true);
        /// let b = a.mm(&a);
        /// assert_eq!(b.to_string(), "tensor([[ 7., 10.],\n        [15., 22.]], grad_fn=<MmBackward0>)");
        /// ```
        ///
        /// ```
        /// let e = ferrograd::Tensor::zeros(&[2, 3]).try_mm(&ferrograd::Tensor::zeros(&[2, 3])).unwrap_err();
        /// assert_eq!(e.to_string(), "mm: mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)");
        /// ```
        pub fn mm / try_mm(&self, other: &Tensor) -> Tensor {
            if self.dim() != 2 || other.dim() != 2 {
                let which = if self.dim() != 2 { "self" } else { "mat2" };
                let d = if self.dim() != 2 {
                    self.dim()
                } else {
                    other.dim()
                };
                return Err(Error::invalid(
                    "mm",
                    format!("{which} must be a matrix, got {d}-D tensor"),
                ));
            }
            matmul_nd("mm", "MmBackward0", self, other)
        }

        /// Matrix-vector product of a 2-d and a 1-d tensor. Panics on mismatched shapes; see
        /// [`Tensor::try_mv`].
        ///
        /// ```
        /// let a = ferrograd::Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
        /// assert_eq!(a.mv(&ferrograd::Tensor::new([1.0, 1.0])).to_vec::<f32>(), vec![3.0, 7.0]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::zeros(&[2, 3]).try_mv(&ferrograd::Tensor::zeros(&[2])).is_err());
        /// ```
        pub fn mv / try_mv(&self, vec: &Tensor) -> Tensor {
            if self.dim() != 2 || vec.dim() != 1 {
                return Err(Error::invalid(
                    "mv",
                    format!(
                        "vector + matrix @ vector expected, got {}, {}",
                        self.dim(),
                        vec.dim()
                    ),
                ));
            }
            let col = vec.unsqueeze(1);
            Ok(crate::autograd::relabel(matmul_nd("mv", "MvBackward0", self, &col)?.squeeze(1), "MvBackward0"))
        }

        /// Matrix product with NumPy's rules: 1-d x 1-d is a dot product, a 1-d operand is
        /// treated as a row (left) or column (right) vector and that dimension removed, and
        /// operands of 3 or more dimensions are batches of matrices whose batch dimensions
        /// broadcast. Panics on mismatched shapes; see [`Tensor::try_matmul`].
        ///
        /// ```
        /// let w = ferrograd::Tensor::new([[1.0, 0.5], [0.2, 0.1]]);
        /// assert_eq!(w.matmul(&w).to_vec::<f32>(), vec![1.1, 0.55, 0.22, 0.11]);
        /// let batch = ferrograd::Tensor::ones(&[4, 2, 3]).matmul(&ferrograd::Tensor::ones(&[3, 5]));
        /// assert_eq!(batch.shape(), &[4, 2, 5]);
        /// ```
        ///
        /// ```
        /// let e = ferrograd::Tensor::zeros(&[2, 3]).try_matmul(&ferrograd::Tensor::zeros(&[2, 3])).unwrap_err();
        /// assert!(e.to_string().contains("shapes cannot be multiplied (2x3 and 2x3)"));
        /// ```
        pub fn matmul / try_matmul(&self, other: &Tensor) -> Tensor {
            match (self.dim(), other.dim()) {
                (0, _) | (_, 0) => Err(Error::invalid(
                    "matmul",
                    format!(
                        "both arguments to matmul need to be at least 1D, but they are {}D and {}D",
                        self.dim(),
                        other.dim()
                    ),
                )),
                (1, 1) => self.try_dot(other),
                (2, 1) => self.try_mv(other),
                (1, _) => {
                    Ok(matmul_nd("matmul", "MmBackward0", &self.unsqueeze(0), other)?.squeeze(-2))
                }
                (_, 1) => {
                    Ok(matmul_nd("matmul", "MvBackward0", self, &other.unsqueeze(1))?.squeeze(-1))
                }
                (2, 2) => matmul_nd("matmul", "MmBackward0", self, other),
                _ => matmul_nd("matmul", "BmmBackward0", self, other),
            }
        }

        /// Batched matrix product of two 3-d tensors with equal batch sizes (`torch.bmm`).
        /// Panics otherwise; see [`Tensor::try_bmm`].
        ///
        /// ```
        /// let c = ferrograd::Tensor::ones(&[4, 2, 3]).bmm(&ferrograd::Tensor::ones(&[4, 3, 5]));
        /// assert_eq!(c.shape(), &[4, 2, 5]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::ones(&[4, 2, 3]).try_bmm(&ferrograd::Tensor::ones(&[1, 3, 5])).is_err());
        /// ```
        pub fn bmm / try_bmm(&self, other: &Tensor) -> Tensor {
            for (t, which) in [(self, "batch1"), (other, "batch2")] {
                if t.dim() != 3 {
                    return Err(Error::invalid(
                        "bmm",
                        format!("{which} must be a 3D tensor (got shape {:?})", t.shape()),
                    ));
                }
            }
            if self.shape()[0] != other.shape()[0] || self.shape()[2] != other.shape()[1] {
                return Err(Error::invalid(
                    "bmm",
                    product_mismatch("bmm", "BmmBackward0", self, other, &[]),
                ));
            }
            matmul_nd("bmm", "BmmBackward0", self, other)
        }

        /// Outer product of two 1-d tensors (`torch.outer`).
        /// Panics otherwise; see [`Tensor::try_outer`].
        ///
        /// ```
        /// let o = ferrograd::Tensor::new([1.0, 2.0]).outer(&ferrograd::Tensor::new([3.0, 4.0, 5.0]));
        /// assert_eq!(o.shape(), &[2, 3]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::ones(&[2, 2]).try_outer(&ferrograd::Tensor::ones(&[2])).is_err());
        /// ```
        pub fn outer / try_outer(&self, other: &Tensor) -> Tensor {
            if self.dim() != 1 || other.dim() != 1 {
                return Err(Error::invalid(
                    "outer",
                    format!(
                        "expected 1-d tensors, got {:?} and {:?}",
                        self.shape(),
                        other.shape()
                    ),
                ));
            }
            self.try_unsqueeze(1)?.try_mul(&other.try_unsqueeze(0)?)
        }

        /// The diagonal `offset` above (negative: below) the main one, taken over dimensions
        /// `dim1` and `dim2` and appended last (a view, `torch.diagonal`).
        /// Panics on bad dims; see [`Tensor::try_diagonal`].
        ///
        /// ```
        /// let a = ferrograd::Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
        /// assert_eq!(a.diagonal(0, 0, 1).to_vec::<f32>(), vec![1.0, 4.0]);
        /// assert_eq!(a.diagonal(1, 0, 1).to_vec::<f32>(), vec![2.0]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::ones(&[2, 2]).try_diagonal(0, 0, 0).is_err());
        /// ```
        pub fn diagonal / try_diagonal(&self, offset: isize = 0, dim1: isize = 0, dim2: isize = 1) -> Tensor {
            let n = self.dim();
            let d1 = super::normalize_dim("diagonal", dim1, n.max(1))?;
            let d2 = super::normalize_dim("diagonal", dim2, n.max(1))?;
            if d1 == d2 || n < 2 {
                return Err(Error::invalid(
                    "diagonal",
                    "diagonal dimensions cannot be identical and need a 2-d input",
                ));
            }
            let l = self.layout();
            let (r, c) = (l.shape[d1] as isize, l.shape[d2] as isize);
            let len = if offset >= 0 {
                (c - offset).min(r)
            } else {
                (r + offset).min(c)
            }
            .max(0) as usize;
            let start = if len == 0 {
                0
            } else if offset >= 0 {
                offset as usize * l.strides[d2]
            } else {
                (-offset) as usize * l.strides[d1]
            };
            let keep: Vec<usize> = (0..n).filter(|&k| k != d1 && k != d2).collect();
            let mut shape: Shape = keep.iter().map(|&k| l.shape[k]).collect();
            let mut strides: Shape = keep.iter().map(|&k| l.strides[k]).collect();
            shape.push(len);
            strides.push(l.strides[d1] + l.strides[d2]);
            let out = match self.is_batched() {
                true => crate::autograd::levels::physically(|| batching::broadcasting([self], |[p]| {
                    p.try_diagonal(offset, d1 as isize + 1, d2 as isize + 1)
                }))?,
                false => self.view_with(crate::layout::Layout {
                    shape,
                    strides,
                    offset: l.offset + start,
                }),
            };
            let in_shape = self.shape_vec();
            let map: super::index::IndexMap = std::sync::Arc::new(move |p, s| {
                let i = p[p.len() - 1];
                for (j, &k) in keep.iter().enumerate() {
                    s[k] = p[j];
                }
                let (a, b) = if offset >= 0 {
                    (i, i + offset as usize)
                } else {
                    (i + (-offset) as usize, i)
                };
                s[d1] = a;
                s[d2] = b;
            });
            Ok(record(
                "DiagonalBackward0",
                out,
                &[self],
                |_, _| move |a| grads([Some(super::index::put_add(a.grad, &in_shape, map.clone()))]),
                |j| {
                    j.t(0)
                        .expect("tangent")
                        .diagonal(offset, j.dim(d1), j.dim(d2))
                },
            ))
        }

        /// `torch.diag`: a 1-d tensor becomes a square matrix with it on diagonal `offset`; a 2-d
        /// tensor gives its diagonal `offset`. Panics on other ranks; see [`Tensor::try_diag`].
        ///
        /// ```
        /// let d = ferrograd::Tensor::new([1.0, 2.0]).diag(0);
        /// assert_eq!(d.to_vec::<f32>(), vec![1.0, 0.0, 0.0, 2.0]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::ones(&[2, 2, 2]).try_diag(0).is_err());
        /// ```
        pub fn diag / try_diag(&self, offset: isize = 0) -> Tensor {
            match self.dim() {
                1 => {
                    // The matrix must have a representable size (a huge offset: an error).
                    let n = self.shape()[0].saturating_add(offset.unsigned_abs());
                    crate::layout::check_alloc("diag", &[n, n], crate::storage::elem_size(self.dtype()))?;
                    let map: super::index::IndexMap = std::sync::Arc::new(move |p, s| {
                        let i = p[0];
                        if offset >= 0 {
                            s[0] = i;
                            s[1] = i + offset as usize;
                        } else {
                            s[0] = i + (-offset) as usize;
                            s[1] = i;
                        }
                    });
                    super::index::try_put_add(self, &[n, n], map)
                }
                2 => self.try_diagonal(offset, 0, 1),
                d => Err(Error::invalid(
                    "diag",
                    format!("diag(): Supports 1D or 2D tensors. Got {d}D"),
                )),
            }
        }

        /// Sum of the main diagonal of a 2-d tensor (`torch.trace`).
        /// Panics on other ranks; see [`Tensor::try_trace`].
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::new([[1.0, 2.0], [3.0, 4.0]]).trace().item(), 5.0);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::ones(&[2]).try_trace().is_err());
        /// ```
        pub fn trace / try_trace(&self) -> Tensor {
            if self.dim() != 2 {
                return Err(Error::invalid(
                    "trace",
                    format!(
                        "trace: expected a matrix, but got tensor with dim {}",
                        self.dim()
                    ),
                ));
            }
            Ok(crate::autograd::relabel(self.try_diagonal(0, 0, 1)?.sum(), "TraceBackward0"))
        }

        /// The lower triangle (on and below diagonal `k`) of the last two dimensions, zeros
        /// elsewhere. Panics below 2 dimensions; see [`Tensor::try_tril`].
        ///
        /// ```
        /// let t = ferrograd::Tensor::ones(&[2, 2]).tril(0);
        /// assert_eq!(t.to_vec::<f32>(), vec![1.0, 0.0, 1.0, 1.0]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::ones(&[2]).try_tril(0).is_err());
        /// ```
        pub fn tril / try_tril(&self, k: isize = 0) -> Tensor {
            super::named(self.triangle("tril", k, |r, c, k| c - r > k), "TrilBackward0")
        }

        /// The upper triangle (on and above diagonal `k`) of the last two dimensions.
        /// Panics below 2 dimensions; see [`Tensor::try_triu`].
        ///
        /// ```
        /// let t = ferrograd::Tensor::ones(&[2, 2]).triu(1);
        /// assert_eq!(t.to_vec::<f32>(), vec![0.0, 1.0, 0.0, 0.0]);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::ones(&[2]).try_triu(0).is_err());
        /// ```
        pub fn triu / try_triu(&self, k: isize = 0) -> Tensor {
            super::named(self.triangle("triu", k, |r, c, k| c - r < k), "TriuBackward0")
        }

        /// Inverse of a (batch of) square matrices (`torch.linalg.inv`). Panics on non-square or
        /// exactly singular input (PyTorch's `linalg.inv: The diagonal element 2 is zero, ...`); see
        /// [`Tensor::try_inv`].
        ///
        /// ```
        /// let a = ferrograd::Tensor::new([[2.0, 0.0], [0.0, 4.0]]);
        /// assert_eq!(a.inv().to_vec::<f32>(), vec![0.5, 0.0, 0.0, 0.25]);
        /// ```
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// assert!(Tensor::ones(&[2, 3]).try_inv().is_err());
        /// let e = Tensor::new([[1.0, 2.0], [2.0, 4.0]]).try_inv().unwrap_err();
        /// assert_eq!(e.to_string(), "linalg.inv: The diagonal element 2 is zero, the inversion could not be completed because the input matrix is singular.");
        /// ```
        pub fn inv / try_inv(&self) -> Tensor {
            let n = check_square("inv", self)?;
            let out = if self.is_batched() {
                crate::autograd::levels::physically(|| batching::broadcasting([self], |[p]| p.try_inv()))?
            } else {
                let batch = self.numel() / (n * n).max(1);
                let eye: Vec<f64> = (0..batch * n * n)
                    .map(|i| ((i % (n * n)) / n == i % n) as u8 as f64)
                    .collect();
                let (x, info) = kernels::lu_solve(&self.values_f64(), &eye, batch, n, n)?;
                if let Some(e) = info {
                    return Err(singular("linalg.inv", self.dim(), e));
                }
                Tensor::from_buffer(
                    crate::storage::Buffer::from_f64s(self.dtype(), x.into_iter()),
                    self.shape(),
                )
            };
            Ok(record(
                "LinalgInvExBackward0",
                out,
                &[self],
                |_, s| {
                    let inv = s.save_output();
                    move |a| {
                        // PyTorch: -inv^T @ grad @ inv^T
                        let yt = a[inv].m_t();
                        grads([Some(-&yt.matmul(a.grad).matmul(&yt))])
                    }
                },
                // d inv(A) = -inv(A) dA inv(A)
                |j| {
                    let y = j.out();
                    -&y.matmul(j.t(0).expect("tangent")).matmul(y)
                },
            ))
        }

        /// Determinant of a (batch of) square matrices (`torch.linalg.det`); its gradient is
        /// `grad` times the cofactor matrix `adj(A)^T` (`det * inv(A)^T` where `A` is invertible),
        /// exact to every order at singular matrices too. Panics on non-square input; see
        /// [`Tensor::try_det`].
        ///
        /// ```
        /// use ferrograd::{DType, Tensor};
        /// let a = Tensor::from_data([[1.0, 2.0], [2.0, 4.0]], DType::F64).requires_grad_(true);
        /// a.det().backward(); // singular: the gradient is the cofactor matrix
        /// assert_eq!(a.grad().unwrap().to_vec::<f64>(), vec![4.0, -2.0, -2.0, 1.0]);
        /// ```
        ///
        /// ```
        /// assert_eq!(ferrograd::Tensor::new([[1.0, 2.0], [3.0, 4.0]]).det().item(), -2.0);
        /// ```
        ///
        /// ```
        /// assert!(ferrograd::Tensor::ones(&[3]).try_det().is_err());
        /// ```
        pub fn det / try_det(&self) -> Tensor {
            let n = check_square("det", self)?;
            let out = if self.is_batched() {
                crate::autograd::levels::physically(|| batching::broadcasting([self], |[p]| p.try_det()))?
            } else {
                let batch = self.numel() / (n * n).max(1);
                let d = kernels::lu_det(&self.values_f64(), batch, n)?;
                Tensor::from_buffer(
                    crate::storage::Buffer::from_f64s(self.dtype(), d.into_iter()),
                    &self.shape()[..self.dim() - 2],
                )
            };
            Ok(record(
                "LinalgDetBackward0",
                out,
                &[self],
                |_, s| {
                    let (x, det) = (s.save(self), s.save_output());
                    move |a| {
                        // grad * cofactor(A), the cofactor matrix adj(A)^T (det(A) inv(A)^T where A
                        // is invertible), exact at singular matrices too.
                        let scale = a.grad.unsqueeze(-1).unsqueeze(-1);
                        grads([Some(&scale * &cofactor(&a[x], &a[det]))])
                    }
                },
                // d det(A) = <cofactor(A), dA>
                |j| (&cofactor(self, j.out()) * j.t(0).expect("tangent")).sum_dims(&[-2, -1], false),
            ))
        }

        /// The solution `X` of `self @ X = b` (`torch.linalg.solve`): `self` is `[..., n, n]`, `b`
        /// is `[..., n, k]` or `[..., n]` (a vector), batch dimensions broadcast. Panics on
        /// mismatched shapes; see [`Tensor::try_solve`].
        ///
        /// ```
        /// let a = ferrograd::Tensor::new([[2.0, 0.0], [0.0, 4.0]]);
        /// let x = a.solve(&ferrograd::Tensor::new([2.0, 2.0]));
        /// assert_eq!(x.to_vec::<f32>(), vec![1.0, 0.5]);
        /// ```
        ///
        /// An exactly singular `self` is PyTorch's error.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// assert!(Tensor::ones(&[2, 2]).try_solve(&Tensor::ones(&[3])).is_err());
        /// let e = Tensor::ones(&[2, 2]).try_solve(&Tensor::ones(&[2])).unwrap_err();
        /// assert_eq!(e.to_string(), "torch.linalg.solve: The solver failed because the input matrix is singular.");
        /// ```
        pub fn solve / try_solve(&self, b: &Tensor) -> Tensor {
            self.solve_with(b, true)
        }
    }
}

api! {
    LINALG_LISTS = impl<T: Borrow<Tensor> = Tensor> Tensor {
        /// Einstein summation (`torch.einsum`): `"ij,jk->ik"`, `"bij,bjk->bik"`, `"i,j->ij"`,
        /// `"ii->"`, `"ij->ji"`, `"...ij,...jk->...ik"`; without `->` the output is the letters
        /// used once, sorted. Size-1 dimensions broadcast. Panics on a malformed equation or
        /// mismatched sizes; see [`Tensor::try_einsum`].
        ///
        /// Like `torch.einsum` without opt_einsum, it takes each operand's diagonals and sums out
        /// the subscripts only that operand has, then contracts the operands pairwise, left to
        /// right, each pair as one (batched) [`Tensor::matmul`]; it never builds the product over
        /// all subscripts. It is made of differentiable ops, so every derivative order and forward
        /// mode follow.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let a = Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
        /// assert_eq!(Tensor::einsum("ij,jk->ik", &[&a, &a]).to_vec::<f32>(), a.mm(&a).to_vec::<f32>());
        /// assert_eq!(Tensor::einsum("ii", &[&a]).item(), 5.0);
        /// ```
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let e = Tensor::try_einsum("ij,jk->ik", &[Tensor::ones(&[2, 3]), Tensor::ones(&[2, 3])]).unwrap_err();
        /// assert!(e.to_string().contains("subscript j has size 2"));
        /// ```
        pub fn einsum / try_einsum(equation: &str, operands: &[T]) -> Tensor {
            let ops: Vec<&Tensor> = operands.iter().map(|t| t.borrow()).collect();
            let eq: String = equation.chars().filter(|c| !c.is_whitespace()).collect();
            let (lhs, rhs) = match eq.split_once("->") {
                Some((l, r)) => (l.to_string(), Some(r.to_string())),
                None => (eq.clone(), None),
            };
            let terms: Vec<&str> = lhs.split(',').collect();
            let bad = |msg: String| Error::invalid("einsum", msg);
            if terms.len() != ops.len() {
                return Err(bad(format!(
                    "{} operands were given but the equation \"{equation}\" names {}",
                    ops.len(),
                    terms.len()
                )));
            }
            // Ellipsis dimensions get placeholder subscripts, right-aligned across operands.
            let ell =
                |term: &str, ndim: usize| -> Result<Vec<char>> {
                    let letters: Vec<char> = term.replace("...", "").chars().collect();
                    if let Some(c) = letters.iter().find(|c| !c.is_ascii_alphabetic()) {
                        return Err(bad(format!("invalid subscript '{c}' in \"{equation}\"")));
                    }
                    if term.contains("...") {
                        let extra = ndim.checked_sub(letters.len()).ok_or_else(|| {
                            bad(format!(
                                "operand with subscripts \"{term}\" has only {ndim} dimensions"
                            ))
                        })?;
                        let (before, after) = term.split_once("...").expect("contains ...");
                        Ok(before
                            .chars()
                            .chain((0..extra).map(|i| {
                                char::from_u32(0x100 + (64 - extra + i) as u32).expect("valid")
                            }))
                            .chain(after.chars())
                            .collect())
                    } else {
                        Ok(letters)
                    }
                };
            let mut subs: Vec<Vec<char>> = Vec::with_capacity(ops.len());
            for (t, op) in terms.iter().zip(&ops) {
                let s = ell(t, op.dim())?;
                if s.len() != op.dim() {
                    return Err(bad(format!(
                        "the number of subscripts in \"{t}\" ({}) does not match the number of dimensions ({}) of operand {:?}",
                        s.len(),
                        op.dim(),
                        op.shape()
                    )));
                }
                subs.push(s);
            }
            let ellipsis: Vec<char> = {
                let mut e: Vec<char> = subs
                    .iter()
                    .flatten()
                    .filter(|c| !c.is_ascii())
                    .copied()
                    .collect();
                e.sort();
                e.dedup();
                e
            };
            let out: Vec<char> = match &rhs {
                Some(r) => {
                    let mut o: Vec<char> = Vec::new();
                    let (before, after) = r.split_once("...").unwrap_or((r.as_str(), ""));
                    o.extend(before.chars());
                    if r.contains("...") {
                        o.extend(ellipsis.iter());
                    }
                    o.extend(after.chars());
                    for (i, c) in o.iter().enumerate() {
                        if o[..i].contains(c) {
                            return Err(bad(format!("output subscript {c} appears more than once")));
                        }
                        if !subs.iter().flatten().any(|x| x == c) {
                            return Err(bad(format!(
                                "output subscript {c} does not appear in the inputs"
                            )));
                        }
                    }
                    o
                }
                None => {
                    let mut once: Vec<char> = subs
                        .iter()
                        .flatten()
                        .filter(|c| {
                            c.is_ascii() && subs.iter().flatten().filter(|x| x == c).count() == 1
                        })
                        .copied()
                        .collect();
                    once.sort();
                    ellipsis.iter().copied().chain(once).collect()
                }
            };
            // Letters repeated within one operand: take their diagonal.
            let mut tensors: Vec<Tensor> = Vec::with_capacity(ops.len());
            for (op, s) in ops.iter().zip(subs.iter_mut()) {
                let mut t = (*op).clone();
                while let Some((i, j)) =
                    (0..s.len()).find_map(|i| (i + 1..s.len()).find(|&j| s[j] == s[i]).map(|j| (i, j)))
                {
                    t = t.try_diagonal(0, i as isize, j as isize)?;
                    let c = s[i];
                    s.remove(j);
                    s.remove(i);
                    s.push(c);
                }
                tensors.push(t);
            }
            // One letter order: the output's, then the contracted ones.
            let mut order = out.clone();
            for c in subs.iter().flatten() {
                if !order.contains(c) {
                    order.push(*c);
                }
            }
            // Each subscript's size: equal across operands, or 1 (broadcast); 0 stays 0.
            let mut sizes: Vec<usize> = vec![1; order.len()];
            for (t, s) in tensors.iter().zip(&subs) {
                for (k, c) in s.iter().enumerate() {
                    let pos = order.iter().position(|x| x == c).expect("in order");
                    let n = t.shape()[k];
                    if sizes[pos] != 1 && n != 1 && sizes[pos] != n {
                        return Err(bad(format!(
                            "subscript {c} has size {n} for operand {:?} which does not broadcast with previously seen size {}",
                            t.shape(),
                            sizes[pos]
                        )));
                    }
                    if n != 1 {
                        sizes[pos] = n;
                    }
                }
            }
            let size_of = |c: char| sizes[order.iter().position(|x| *x == c).expect("in order")];
            if tensors.is_empty() {
                return Err(bad("einsum needs at least one operand".into()));
            }
            // Per operand: sum out the subscripts no other operand and not the output names.
            let count = tensors.len();
            let mut terms: Vec<(Tensor, Vec<char>)> = Vec::with_capacity(count);
            for (i, (t, s)) in tensors.into_iter().zip(subs.iter()).enumerate() {
                let elsewhere = |c: char| {
                    out.contains(&c)
                        || subs
                            .iter()
                            .enumerate()
                            .any(|(j, o)| j != i && o.contains(&c))
                };
                let mut s = s.clone();
                let t = einsum_sum_out(t, &mut s, elsewhere)?;
                terms.push((t, s));
            }
            // Contract pairwise, left to right, each pair as one (batched) matrix product.
            let mut terms = terms.into_iter();
            let (mut acc, mut acc_subs) = terms.next().expect("at least one operand");
            for (i, (t, s)) in terms.enumerate() {
                let later = &subs[i + 2..];
                let needed = |c: char| out.contains(&c) || later.iter().any(|o| o.contains(&c));
                (acc, acc_subs) = einsum_pair(acc, acc_subs, t, s, needed)?;
            }
            // Sum what is left outside the output, then put the output's letters in order.
            let result = einsum_sum_out(acc, &mut acc_subs, |c| out.contains(&c))?;
            let perm: Vec<isize> = out
                .iter()
                .map(|c| acc_subs.iter().position(|x| x == c).expect("output letter") as isize)
                .collect();
            let result = result.try_permute(&perm)?;
            // Broadcast size-1 output dimensions to the size other operands gave them.
            let target: Shape = out.iter().map(|&c| size_of(c)).collect();
            if result.shape() != target.as_slice() {
                result.try_expand(&target)
            } else {
                Ok(result)
            }
        }
    }
}

/// Products take two operands of one floating dtype, or two `int64` ones (computed exactly in
/// `int64`, wrapping on overflow, as PyTorch's).
fn same_float_dtype(op: &'static str, a: &Tensor, b: &Tensor) -> Result<()> {
    let int = a.dtype() == DType::I64;
    if a.dtype() != b.dtype() || !(a.dtype().is_floating_point() || int) {
        return Err(Error::invalid(
            op,
            format!(
                "expected both operands to have the same floating dtype, but got {} and {}",
                a.dtype(),
                b.dtype()
            ),
        ));
    }
    Ok(())
}

/// `a . b` for 1-d `a` and `b` of `n` elements: one 1 x n by n x 1 product, read in place.
fn dot_kernel(a: &Tensor, b: &Tensor, n: usize) -> Result<Tensor> {
    let (this, other) = (a, b);
    let a = this.view_with(this.layout().reshape_view(&[1, n]).unwrap_or_else(|| {
        let mut l = this.layout().clone();
        l.shape.insert(0, 1);
        l.strides.insert(0, 0);
        l
    }));
    let b = other.view_with({
        let mut l = other.layout().clone();
        l.shape.push(1);
        l.strides.push(1);
        l
    });
    let prod = raw::matmul2d(&a, &b)?;
    Ok(prod.view_with(prod.layout().reshape_view(&[]).expect("contiguous")))
}

/// The matrix product of (batches of) matrices, batch dimensions broadcast. The backward
/// multiplies by transposes (views, no copies); the engine sums broadcast batch dimensions.
fn matmul_nd(op: &'static str, name: &'static str, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    same_float_dtype(op, a, b)?;
    let (ra, rb) = (a.dim(), b.dim());
    let (m, k) = (a.shape()[ra - 2], a.shape()[ra - 1]);
    let (k2, n) = (b.shape()[rb - 2], b.shape()[rb - 1]);
    // Batch dimensions that do not broadcast: PyTorch's broadcasting error.
    let batch = crate::layout::broadcast(op, &a.shape()[..ra - 2], &b.shape()[..rb - 2])?;
    if k != k2 {
        return Err(Error::invalid(op, product_mismatch(op, name, a, b, &batch)));
    }
    // The output (and each operand broadcast to the batch) must have a representable size.
    for (shape, size) in [([m, n], 8), ([m, k], 0), ([k, n], 0)] {
        let full: Shape = batch.iter().chain(&shape).copied().collect();
        crate::layout::check_alloc(op, &full, size)?;
    }
    let out = if a.is_batched() || b.is_batched() {
        crate::autograd::levels::physically(|| {
            batching::broadcasting([a, b], |[a, b]| matmul_nd(op, name, &a, &b))
        })?
    } else if batch.is_empty() {
        raw::matmul2d(a, b)?
    } else {
        batched(a, b, &batch, m, k, n)?
    };
    // Each gradient is computed in its input's memory order: for a transposed view (`x @
    // w.t()`) the product is formed transposed, so the gradient reaching the weight through
    // the transpose is contiguous and is stored without a copy.
    let col = [column_major(a), column_major(b)];
    Ok(record(
        name,
        out,
        &[a, b],
        |needs, s| {
            let x = needs[1].then(|| s.save(a));
            let y = needs[0].then(|| s.save(b));
            move |args| {
                let (x, y) = (x.map(|h| &args[h]), y.map(|h| &args[h]));
                let g = args.grad;
                let mt = |t: &Tensor| t.transpose(-1, -2);
                grads([
                    y.filter(|_| args.needs(0)).map(|y| {
                        if col[0] {
                            mt(&y.matmul(&mt(g)))
                        } else {
                            g.matmul(&mt(y))
                        }
                    }),
                    x.filter(|_| args.needs(1)).map(|x| {
                        if col[1] {
                            mt(&mt(g).matmul(x))
                        } else {
                            mt(x).matmul(g)
                        }
                    }),
                ])
            }
        },
        // The product rule; a batch of tangents broadcasts as one more batch dimension.
        |j| {
            let n = j.out().dim();
            j.sum([
                j.t(0).map(|t| j.align(t, n).matmul(b)),
                j.t(1).map(|t| a.matmul(&j.align(t, n))),
            ])
        },
    ))
}

/// PyTorch's wording for inner sizes that differ, by the kernel PyTorch runs: `mv` (a matrix, or
/// a batch folded into one, times a vector), `mm` (a matrix, or a folded batch, times a matrix),
/// or `bmm` (the broadcast batch, flattened, times a batch).
fn product_mismatch(op: &str, name: &str, a: &Tensor, b: &Tensor, batch: &[usize]) -> String {
    let (ra, rb) = (a.dim(), b.dim());
    let (k, (k2, n)) = (a.shape()[ra - 1], (b.shape()[rb - 2], b.shape()[rb - 1]));
    let rows: usize = a.shape()[..ra - 1].iter().product();
    if op == "bmm" {
        let (b1, b2) = (a.shape()[0], b.shape()[0]);
        return format!("Expected size for first two dimensions of batch2 tensor to be: [{b1}, {k}] but got: [{b2}, {k2}].");
    }
    if name == "MvBackward0" {
        // The vector operand was made a column `[k2, 1]`.
        return format!("size mismatch, got input ({rows}), mat ({rows}x{k}), vec ({k2})");
    }
    if rb == 2 {
        return format!("mat1 and mat2 shapes cannot be multiplied ({rows}x{k} and {k2}x{n})");
    }
    let flat: usize = batch.iter().product();
    format!("Expected size for first two dimensions of batch2 tensor to be: [{flat}, {k}] but got: [{flat}, {k2}].")
}

/// Whether the last two dimensions of `t` are stored column by column (a transposed view of a
/// contiguous matrix).
fn column_major(t: &Tensor) -> bool {
    let (s, d) = (t.layout(), t.dim());
    d >= 2
        && s.shape[d - 2] > 1
        && s.shape[d - 1] > 1
        && s.strides[d - 2] == 1
        && s.strides[d - 1] == s.shape[d - 2]
}

/// Batched product: one 2-d product per broadcast batch index, each read in place through
/// its strides, all written into one output buffer.
fn batched(
    a: &Tensor,
    b: &Tensor,
    batch: &[usize],
    m: usize,
    k: usize,
    n: usize,
) -> Result<Tensor> {
    let mut sa: Shape = batch.into();
    sa.extend([m, k]);
    let mut sb: Shape = batch.into();
    sb.extend([k, n]);
    let la = a.layout().broadcast_to(&sa);
    let lb = b.layout().broadcast_to(&sb);
    let bd = batch.len();
    let oa: Vec<usize> = crate::layout::Offsets::new(batch, &la.strides[..bd], la.offset).collect();
    let ob: Vec<usize> = crate::layout::Offsets::new(batch, &lb.strides[..bd], lb.offset).collect();
    let mut shape: Shape = batch.into();
    shape.extend([m, n]);
    raw::matmul_batched(
        a,
        &oa,
        [la.strides[bd], la.strides[bd + 1]],
        b,
        &ob,
        [lb.strides[bd], lb.strides[bd + 1]],
        (m, k, n),
        &shape,
    )
}

/// PyTorch's error for an exactly singular matrix (LAPACK's `info > 0`) met by `op` (its API
/// name, as PyTorch words it): the batch element is named when the input is a batch.
fn singular(op: &'static str, dim: usize, (batch, pivot): (usize, usize)) -> Error {
    let at = if dim > 2 {
        format!("(Batch element {batch}): ")
    } else {
        String::new()
    };
    let what = if op.ends_with("inv") {
        format!("The diagonal element {pivot} is zero, the inversion could not be completed because the input matrix is singular.")
    } else {
        "The solver failed because the input matrix is singular.".to_string()
    };
    Error::invalid(op, format!("{at}{what}"))
}

/// A `[..., n, n]` batch of square matrices, or PyTorch's error.
pub(super) fn check_square(op: &'static str, a: &Tensor) -> Result<usize> {
    let d = a.dim();
    if d < 2 || a.shape()[d - 1] != a.shape()[d - 2] {
        return Err(Error::invalid(
            op,
            format!(
                "A must be batches of square matrices, but they are {:?}",
                a.shape()
            ),
        ));
    }
    if !a.dtype().is_floating_point() {
        return Err(Error::invalid(
            op,
            format!("expected a floating point tensor, got {}", a.dtype()),
        ));
    }
    Ok(a.shape()[d - 1])
}

impl Tensor {
    fn triangle(
        &self,
        op: &'static str,
        k: isize,
        zero: impl Fn(isize, isize, isize) -> bool,
    ) -> Result<Tensor> {
        if self.dim() < 2 {
            return Err(Error::invalid(
                op,
                format!(
                    "{op}: input tensor must have at least 2 dimensions, got {:?}",
                    self.shape()
                ),
            ));
        }
        let (r, c) = (self.shape()[self.dim() - 2], self.shape()[self.dim() - 1]);
        let mask: Vec<bool> = (0..r * c)
            .map(|i| zero((i / c) as isize, (i % c) as isize, k))
            .collect();
        let mask = Tensor::from_data(mask, crate::DType::Bool).try_reshape(&[r, c])?;
        self.try_masked_fill(&mask, 0.0)
    }

    /// [`Tensor::try_solve`]; `check: false` (for the rules, whose `A` was already factored
    /// without error in the forward: a transpose may round to an exact zero pivot where `A` did
    /// not) gives infinities/NaN for a singular `A` instead of an error.
    fn solve_with(&self, b: &Tensor, check: bool) -> Result<Tensor> {
        let n = check_square("solve", self)?;
        let vector = b.dim() == 1 || (b.dim() == self.dim() - 1 && b.shape()[b.dim() - 1] == n);
        let bm = if vector {
            b.try_unsqueeze(-1)?
        } else {
            b.clone()
        };
        if bm.dim() < 2 || bm.shape()[bm.dim() - 2] != n {
            return Err(Error::invalid(
                "solve",
                format!(
                    "Incompatible shapes of A and B for the equation AX = B ({:?} and {:?})",
                    self.shape(),
                    b.shape()
                ),
            ));
        }
        let k = bm.shape()[bm.dim() - 1];
        let batch = broadcast_shapes(&self.shape()[..self.dim() - 2], &bm.shape()[..bm.dim() - 2])
            .ok_or_else(|| {
                Error::invalid(
                    "solve",
                    format!(
                        "batch dimensions of A {:?} and B {:?} do not broadcast",
                        self.shape(),
                        b.shape()
                    ),
                )
            })?;
        let dtype = self.dtype().promote(b.dtype());
        let mut sa: Shape = batch.clone();
        sa.extend([n, n]);
        let mut sb: Shape = batch.clone();
        sb.extend([n, k]);
        let (a, bb) = (
            self.try_expand(&sa)?.to_dtype(dtype),
            bm.try_expand(&sb)?.to_dtype(dtype),
        );
        let out = match batching::level(&[&a, &bb]) {
            // Both operands with the whole batch, so that the physical B stays a matrix.
            Some(level) => {
                let nb = batching::size(&[&a, &bb], level);
                let full = |t: &Tensor, p: Tensor| match batching::inner_at(t, level) {
                    Some(_) => p,
                    None => batching::expanded(&p, level, nb),
                };
                let rule = |[pa, pb]: [Tensor; 2]| full(&a, pa).solve_with(&full(&bb, pb), check);
                crate::autograd::levels::physically(|| batching::broadcasting([&a, &bb], rule))?
            }
            None => {
                let count = batch.iter().product::<usize>();
                let (x, info) = kernels::lu_solve(&a.values_f64(), &bb.values_f64(), count, n, k)?;
                if let (true, Some(e)) = (check, info) {
                    return Err(singular("torch.linalg.solve", self.dim(), e));
                }
                Tensor::from_buffer(crate::storage::Buffer::from_f64s(dtype, x.into_iter()), &sb)
            }
        };
        let out = record(
            "LinalgSolveExBackward0",
            out,
            &[&a, &bb],
            |_, s| {
                let (a, x) = (s.save(&a), s.save_output());
                move |args| {
                    // gB = solve(A^T, grad); gA = -gB @ X^T
                    let gb = crate::unwrap(args[a].m_t().solve_with(args.grad, false));
                    let ga = args.needs(0).then(|| -&gb.matmul(&args[x].m_t()));
                    grads([ga, args.needs(1).then_some(gb)])
                }
            },
            // A X = B, so A dX = dB - dA X.
            |j| {
                let x = j.out();
                let rhs = j.sum([j.t(1).cloned(), j.t(0).map(|t| -&t.matmul(x))]);
                crate::unwrap(a.solve_with(&rhs, false))
            },
        );
        if vector {
            out.try_squeeze(-1)
        } else {
            Ok(out)
        }
    }
}

/// Sums `t` (subscripts `s`) over every subscript that `keep` rejects, and removes those
/// subscripts from `s`.
fn einsum_sum_out(t: Tensor, s: &mut Vec<char>, keep: impl Fn(char) -> bool) -> Result<Tensor> {
    let dims: Vec<isize> = (0..s.len())
        .filter(|&d| !keep(s[d]))
        .map(|d| d as isize)
        .collect();
    if dims.is_empty() {
        return Ok(t);
    }
    s.retain(|&c| keep(c));
    t.try_sum_dims(&dims, false)
}

/// One pairwise step of einsum: contracts `l` (subscripts `ls`) with `r` (subscripts `rs`)
/// over the subscripts both have and nothing after them (`needed`) uses, as one matrix product
/// `[batch.., m, k] @ [batch.., k, n]`; subscripts both have and later terms need are its batch
/// (where one side has size 1 it broadcasts). Returns the product with subscripts
/// `batch ++ l-only ++ r-only`.
fn einsum_pair(
    l: Tensor,
    mut ls: Vec<char>,
    r: Tensor,
    mut rs: Vec<char>,
    needed: impl Fn(char) -> bool,
) -> Result<(Tensor, Vec<char>)> {
    // What one side alone has and nothing later needs sums out now. A contracted subscript
    // where one side has size 1 (broadcast) factors out: each side sums over it by itself.
    let dim =
        |t: &Tensor, s: &[char], c: char| t.shape()[s.iter().position(|&x| x == c).expect("has c")];
    let split: Vec<char> = ls
        .iter()
        .copied()
        .filter(|&c| rs.contains(&c) && !needed(c) && dim(&l, &ls, c) != dim(&r, &rs, c))
        .collect();
    let (rs0, ls0) = (rs.clone(), ls.clone());
    let l = einsum_sum_out(l, &mut ls, |c| {
        !split.contains(&c) && (needed(c) || rs0.contains(&c))
    })?;
    let r = einsum_sum_out(r, &mut rs, |c| {
        !split.contains(&c) && (needed(c) || ls0.contains(&c))
    })?;
    let batch: Vec<char> = ls
        .iter()
        .copied()
        .filter(|&c| rs.contains(&c) && needed(c))
        .collect();
    let k: Vec<char> = ls
        .iter()
        .copied()
        .filter(|&c| rs.contains(&c) && !needed(c))
        .collect();
    let m: Vec<char> = ls.iter().copied().filter(|c| !rs.contains(c)).collect();
    let n: Vec<char> = rs.iter().copied().filter(|c| !ls.contains(c)).collect();
    // Permute one side to `first ++ middle ++ last` and reshape it to `[batch.., middle, last]`.
    let side = |t: &Tensor, s: &[char], middle: &[char], last: &[char]| -> Result<Tensor> {
        let perm: Vec<isize> = batch
            .iter()
            .chain(middle)
            .chain(last)
            .map(|c| s.iter().position(|x| x == c).expect("has c") as isize)
            .collect();
        let numel = |cs: &[char]| cs.iter().map(|&c| dim(t, s, c)).product::<usize>();
        let mut shape: Vec<usize> = batch.iter().map(|&c| dim(t, s, c)).collect();
        shape.extend([numel(middle), numel(last)]);
        t.try_permute(&perm)?.try_reshape(&shape)
    };
    let (lm, rm) = (side(&l, &ls, &m, &k)?, side(&r, &rs, &k, &n)?);
    let dtype = lm.dtype().promote(rm.dtype());
    let product = if dtype.is_floating_point() {
        lm.to_dtype(dtype).try_matmul(&rm.to_dtype(dtype))?
    } else {
        // matmul is for floats only: integers multiply out this pair and sum over k.
        lm.try_unsqueeze(-1)?
            .try_mul(&rm.try_unsqueeze(-3)?)?
            .try_sum_dims(&[-2], false)?
    };
    // Batch sizes broadcast (equal, or 1 on one side); m and n keep their operand's sizes.
    let mut shape: Vec<usize> = batch
        .iter()
        .map(|&c| match (dim(&l, &ls, c), dim(&r, &rs, c)) {
            (1, b) => b,
            (a, _) => a,
        })
        .collect();
    shape.extend(m.iter().map(|&c| dim(&l, &ls, c)));
    shape.extend(n.iter().map(|&c| dim(&r, &rs, c)));
    let subs: Vec<char> = batch.iter().chain(&m).chain(&n).copied().collect();
    Ok((product.try_reshape(&shape)?, subs))
}

/// Pivots smaller than this fraction of the largest (partial-pivoting LU) mark a matrix as
/// (nearly) singular for [`cofactor`], which then avoids the inverse.
const NEARLY_SINGULAR: f64 = 1e-6;

/// The cofactor matrix `adj(A)^T` (the gradient of `det`) of a batch of square matrices `a`
/// with determinants `det`, written in differentiable ops so that every derivative order of
/// `det` is exact, at singular matrices too. Well-conditioned matrices use `det * inv(A)^T`;
/// (nearly) singular ones the Faddeev-LeVerrier recursion, a polynomial in `A` that needs no
/// inverse: `M_1 = I`, `M_{k+1} = A M_k - tr(A M_k) / k * I`, `adj(A) = (-1)^(n+1) M_n` (always
/// for `n <= 3`, where it is the adjugate's closed form).
/// A mixed batch selects per matrix, each branch fed a harmless matrix (`I`, `0`) where it
/// is not selected, so neither produces an infinity for the other's gradient.
fn cofactor(a: &Tensor, det: &Tensor) -> Tensor {
    let n = a.shape()[a.dim() - 1];
    if n == 0 {
        return a.zeros_like();
    }
    // Up to 3x3 the recursion is the closed form of the adjugate (`tr(A) I - A` for 2x2),
    // exact and stable at every matrix: no switch.
    let values = if n <= 3 { Vec::new() } else { a.values_f64() };
    let singular: Vec<bool> = if n <= 3 {
        vec![true]
    } else {
        values
            .chunks(n * n)
            .map(|m| kernels::lu_pivot_ratio(m, n) < NEARLY_SINGULAR)
            .collect()
    };
    let eye = Tensor::eye_with(n, a.dtype());
    let regular = |m: &Tensor| &det.unsqueeze(-1).unsqueeze(-1) * &m.inv().m_t();
    let polynomial = |m: &Tensor| {
        let eye = eye.expand(m.shape());
        let mut acc = eye.clone();
        for k in 1..n {
            let am = m.matmul(&acc);
            let c = am
                .diagonal(0, -2, -1)
                .sum_dims(&[-1], true)
                .unsqueeze(-1)
                .div_scalar(-(k as f64));
            acc = &am + &(&c * &eye);
        }
        let adj = if n % 2 == 1 { acc } else { acc.neg() };
        adj.m_t()
    };
    if singular.iter().all(|&s| !s) {
        return regular(a);
    }
    if singular.iter().all(|&s| s) {
        return polynomial(a);
    }
    let mut mask_shape: Vec<usize> = a.shape()[..a.dim() - 2].to_vec();
    mask_shape.extend([1, 1]);
    let mask = Tensor::from_data(singular, crate::DType::Bool).reshape(&mask_shape);
    let safe_regular = Tensor::where_(&mask, &eye, a);
    let safe_polynomial = Tensor::where_(&mask, a, &a.zeros_like());
    Tensor::where_(
        &mask,
        &polynomial(&safe_polynomial),
        &regular(&safe_regular),
    )
}

#[cfg(test)]
mod einsum_tests {
    //! einsum against explicit formulas (sums over indices written out as loops).
    use crate::{DType, Tensor};

    /// A `shape` tensor of f64 with values `f(flat index)`.
    fn t(shape: &[usize], f: impl Fn(usize) -> f64) -> Tensor {
        let n = shape.iter().product::<usize>();
        Tensor::from_vec((0..n).map(f).collect::<Vec<f64>>(), shape)
    }

    fn vals(x: &Tensor) -> Vec<f64> {
        x.to_vec::<f64>()
    }

    fn close(got: &Tensor, shape: &[usize], want: &[f64]) {
        assert_eq!(got.shape(), shape);
        let g = vals(got);
        assert_eq!(g.len(), want.len());
        for (a, b) in g.iter().zip(want) {
            assert!(
                (a - b).abs() <= 1e-12 * (1.0 + b.abs()),
                "{g:?} != {want:?}"
            );
        }
    }

    fn e(eq: &str, ops: &[&Tensor]) -> Tensor {
        Tensor::try_einsum(eq, ops).unwrap()
    }

    #[test]
    fn matrix_products_and_transposes() {
        let (m, k, n) = (2, 3, 4);
        let a = t(&[m, k], |x| x as f64 - 2.5);
        let b = t(&[k, n], |x| 0.5 * x as f64 + 1.0);
        let (av, bv) = (vals(&a), vals(&b));
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|l| av[i * k + l] * bv[l * n + j]).sum();
            }
        }
        close(&e("ij,jk->ik", &[&a, &b]), &[m, n], &c);
        close(&e("ij,jk", &[&a, &b]), &[m, n], &c);
        // The product transposed: c[j][i].
        let ct: Vec<f64> = (0..n * m).map(|x| c[(x % m) * n + x / m]).collect();
        close(&e("ij,jk->ki", &[&a, &b]), &[n, m], &ct);
        // The operands in the other order.
        close(&e("jk,ij->ik", &[&b, &a]), &[m, n], &c);
        let at: Vec<f64> = (0..k * m).map(|x| av[(x % m) * k + x / m]).collect();
        close(&e("ij->ji", &[&a]), &[k, m], &at);
        // A 3-d transpose: y[c][b][a] = x[a][b][c].
        let x = t(&[2, 3, 4], |v| v as f64);
        let xv = vals(&x);
        let mut y = Vec::new();
        for c in 0..4 {
            for b in 0..3 {
                for a in 0..2 {
                    y.push(xv[a * 12 + b * 4 + c]);
                }
            }
        }
        close(&e("ijk->kji", &[&x]), &[4, 3, 2], &y);
    }

    /// `c[p, i, j] = sum_l a[p, i, l] b[p, l, j]` by explicit loops over row-major values; a
    /// batch stride of 0 repeats one matrix across the batch.
    #[allow(clippy::too_many_arguments)]
    fn batched_product(
        av: &[f64],
        a_stride: usize,
        bv: &[f64],
        b_stride: usize,
        bn: usize,
        m: usize,
        k: usize,
        n: usize,
    ) -> Vec<f64> {
        let mut c = Vec::new();
        for p in 0..bn {
            for i in 0..m {
                for j in 0..n {
                    c.push(
                        (0..k)
                            .map(|l| av[p * a_stride + i * k + l] * bv[p * b_stride + l * n + j])
                            .sum(),
                    );
                }
            }
        }
        c
    }

    #[test]
    fn batched_and_ellipsis() {
        let (bn, m, k, n) = (3, 2, 4, 2);
        let a = t(&[bn, m, k], |x| (x as f64).sin());
        let b = t(&[bn, k, n], |x| (x as f64).cos());
        let (av, bv) = (vals(&a), vals(&b));
        let c = batched_product(&av, m * k, &bv, k * n, bn, m, k, n);
        close(&e("bij,bjk->bik", &[&a, &b]), &[bn, m, n], &c);
        close(&e("...ij,...jk->...ik", &[&a, &b]), &[bn, m, n], &c);
        // A batch against one shared matrix: the ellipsis of one side is empty.
        let b0 = t(&[k, n], |x| (x as f64).cos());
        let c0 = batched_product(&av, m * k, &vals(&b0), 0, bn, m, k, n);
        close(&e("...ij,...jk->...ik", &[&a, &b0]), &[bn, m, n], &c0);
        // Batch size 1 broadcasts against 3.
        let a1 = t(&[1, m, k], |x| x as f64);
        let c1 = batched_product(&vals(&a1), 0, &bv, k * n, bn, m, k, n);
        close(&e("bij,bjk->bik", &[&a1, &b]), &[bn, m, n], &c1);
    }

    #[test]
    fn traces_diagonals_outer_and_scalars() {
        let a = t(&[3, 3], |x| x as f64 * 1.5 - 2.0);
        let av = vals(&a);
        let diag: Vec<f64> = (0..3).map(|i| av[i * 4]).collect();
        let trace: f64 = diag.iter().sum();
        close(&e("ii->", &[&a]), &[], &[trace]);
        close(&e("ii", &[&a]), &[], &[trace]);
        close(&e("ii->i", &[&a]), &[3], &diag);
        // iij->j: sum_i x[i][i][j].
        let x = t(&[2, 2, 3], |v| v as f64 * v as f64);
        let xv = vals(&x);
        let want: Vec<f64> = (0..3).map(|j| xv[j] + xv[9 + j]).collect();
        close(&e("iij->j", &[&x]), &[3], &want);
        let u = t(&[3], |x| x as f64 + 1.0);
        let w = t(&[2], |x| 2.0 - 3.0 * x as f64);
        let (uv, wv) = (vals(&u), vals(&w));
        let outer: Vec<f64> = (0..6).map(|x| uv[x / 2] * wv[x % 2]).collect();
        close(&e("i,j->ij", &[&u, &w]), &[3, 2], &outer);
        // 0-d outputs: a dot product, a sum, a product of scalars.
        let dot: f64 = uv.iter().map(|x| x * x).sum();
        close(&e("i,i->", &[&u, &u]), &[], &[dot]);
        close(&e("i->", &[&u]), &[], &[uv.iter().sum()]);
        let (p, q) = (
            Tensor::from_vec(vec![3.0f64], &[]),
            Tensor::from_vec(vec![-0.5f64], &[]),
        );
        close(&e(",->", &[&p, &q]), &[], &[-1.5]);
        // A scalar times a vector.
        let su: Vec<f64> = uv.iter().map(|x| 3.0 * x).collect();
        close(&e(",i->i", &[&p, &u]), &[3], &su);
        // x^T A x.
        let q: f64 = (0..3)
            .flat_map(|i| (0..3).map(move |j| (i, j)))
            .map(|(i, j)| uv[i] * av[i * 3 + j] * uv[j])
            .sum();
        close(&e("i,ij,j->", &[&u, &a, &u]), &[], &[q]);
    }

    #[test]
    fn three_operands() {
        let a = t(&[2, 3], |x| x as f64 + 1.0);
        let b = t(&[3, 4], |x| 1.0 - x as f64 * 0.25);
        let c = t(&[4, 2], |x| (x as f64).sqrt());
        let (av, bv, cv) = (vals(&a), vals(&b), vals(&c));
        let mut want = vec![0.0; 4];
        for i in 0..2 {
            for l in 0..2 {
                for j in 0..3 {
                    for k in 0..4 {
                        want[i * 2 + l] += av[i * 3 + j] * bv[j * 4 + k] * cv[k * 2 + l];
                    }
                }
            }
        }
        close(&e("ij,jk,kl->il", &[&a, &b, &c]), &[2, 2], &want);
        // A letter shared by the first and the last operand only: sum_j a[i][j] b[k] c[k][j].
        let v = t(&[4], |x| x as f64 - 1.0);
        let c2 = t(&[4, 3], |x| x as f64 * 0.5);
        let (vv, c2v) = (vals(&v), vals(&c2));
        let want: Vec<f64> = (0..2)
            .map(|i| {
                (0..3)
                    .flat_map(|j| (0..4).map(move |k| (j, k)))
                    .map(|(j, k)| av[i * 3 + j] * vv[k] * c2v[k * 3 + j])
                    .sum()
            })
            .collect();
        close(&e("ij,k,kj->i", &[&a, &v, &c2]), &[2], &want);
    }

    #[test]
    fn size_one_subscripts_broadcast() {
        // j has size 1 in A and 3 in B: sum_j A[i][0] B[j][k] (PyTorch agrees).
        let a = t(&[2, 1], |x| x as f64 + 1.0);
        let b = t(&[3, 4], |x| x as f64);
        let (av, bv) = (vals(&a), vals(&b));
        let want: Vec<f64> = (0..8)
            .map(|x| av[x / 4] * (0..3).map(|j| bv[j * 4 + x % 4]).sum::<f64>())
            .collect();
        close(&e("ij,jk->ik", &[&a, &b]), &[2, 4], &want);
        // An output letter of size 1 on one side and 3 on the other.
        let s = Tensor::from_vec(vec![2.0f64], &[1]);
        let u = t(&[3], |x| x as f64 + 1.0);
        close(&e("i,i->i", &[&s, &u]), &[3], &[2.0, 4.0, 6.0]);
        // Only the output broadcasts: i has size 2 and 1; j sums out of the second alone.
        let o = Tensor::ones(&[2]).to_dtype(DType::F64);
        close(
            &e(
                "i,ij->i",
                &[&o, &Tensor::ones(&[1, 4]).to_dtype(DType::F64)],
            ),
            &[2],
            &[4.0, 4.0],
        );
    }

    #[test]
    fn empty_dimensions() {
        let z = e(
            "ij,jk->ik",
            &[&Tensor::ones(&[2, 0]), &Tensor::ones(&[0, 3])],
        );
        assert_eq!(z.shape(), &[2, 3]);
        assert_eq!(z.to_vec::<f32>(), vec![0.0; 6]);
        let z = e(
            "ij,jk->ik",
            &[&Tensor::ones(&[0, 3]), &Tensor::ones(&[3, 2])],
        );
        assert_eq!(z.shape(), &[0, 2]);
        let z = e(
            "bij,bjk->bik",
            &[&Tensor::ones(&[0, 2, 3]), &Tensor::ones(&[1, 3, 2])],
        );
        assert_eq!(z.shape(), &[0, 2, 2]);
        let z = e("i,i->", &[&Tensor::ones(&[0]), &Tensor::ones(&[0])]);
        assert_eq!((z.shape().len(), z.item()), (0, 0.0));
    }

    #[test]
    fn dtypes() {
        let a = Tensor::from_data([[1i64, 2], [3, 4]], DType::I64);
        let c = e("ij,jk->ik", &[&a, &a]);
        assert_eq!(c.dtype(), DType::I64);
        assert_eq!(c.to_vec::<i64>(), vec![7, 10, 15, 22]);
        let f = Tensor::new([[1.0, 0.5], [2.0, -1.0]]);
        let d = Tensor::from_data([[1.0, 2.0], [3.0, 4.0]], DType::F64);
        let c = e("ij,jk->ik", &[&f, &d]);
        assert_eq!(c.dtype(), DType::F64);
        close(&c, &[2, 2], &[2.5, 4.0, -1.0, 0.0]);
    }

    #[test]
    fn large_matrix_product_does_not_build_the_broadcast_product() {
        // The full product over i, j, k would be 10^9 elements (4 GB); pairwise it is a matmul.
        let a = Tensor::ones(&[1000, 1000]);
        let c = e("ij,jk->ik", &[&a, &a]);
        assert_eq!(c.shape(), &[1000, 1000]);
        assert!(c.to_vec::<f32>().iter().all(|&x| x == 1000.0));
    }
}
