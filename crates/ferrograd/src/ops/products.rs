//! Products and powers built from the primitives (issue 15): `linalg.cross`, `vecdot`,
//! `multi_dot`, `vector_norm`, `matrix_power`, `matrix_exp`, and the tensor methods `kron`,
//! `tensordot` and the fused-multiply-add family `addmm`, `addmv`, `addr`, `baddbmm`, `addbmm`.
//!
//! Every op here is a composite of differentiable ops (matmul, reshape, permute, roll, sums,
//! `inv`), so every derivative order, forward mode and vmap come from the primitives' rules; no
//! op here records a node of its own.

use super::linalg::check_square;
use crate::autograd::levels;
use crate::error::{Error, Result};
use crate::layout::{broadcast_shapes, normalize_dim};
use crate::tensor::Tensor;

api! {
    LINALG_PRODUCTS = mod linalg {
        /// The cross product of 3-vectors along `dim` (`torch.linalg.cross`); `input` and
        /// `other` broadcast against each other, and both must have size 3 along `dim`.
        ///
        /// ```
        /// use ferrograd::{linalg, Tensor};
        /// let z = linalg::cross(&Tensor::new([1.0, 0.0, 0.0]), &Tensor::new([0.0, 1.0, 0.0]), -1);
        /// assert_eq!(z.to_vec::<f32>(), vec![0.0, 0.0, 1.0]);
        /// ```
        ///
        /// ```
        /// use ferrograd::{linalg, Tensor};
        /// let e = linalg::try_cross(&Tensor::zeros(&[2]), &Tensor::zeros(&[2]), -1).unwrap_err();
        /// assert_eq!(e.to_string(), "linalg.cross: inputs dimension -1 must have length 3. Got 2 and 2");
        /// ```
        pub fn cross / try_cross(input: &Tensor, other: &Tensor, dim: isize = -1) -> Tensor {
            super::named(cross_impl(input, other, dim), "LinalgCrossBackward0")
        }

        /// The dot product of vectors along `dim` (`torch.linalg.vecdot`): `(x * y).sum(dim)`,
        /// with broadcasting.
        ///
        /// ```
        /// use ferrograd::{linalg, Tensor};
        /// let x = Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
        /// assert_eq!(linalg::vecdot(&x, &Tensor::new([1.0, 1.0]), -1).to_vec::<f32>(), vec![3.0, 7.0]);
        /// ```
        pub fn vecdot / try_vecdot(x: &Tensor, y: &Tensor, dim: isize = -1) -> Tensor {
            let shape = broadcast_shapes(x.shape(), y.shape()).ok_or_else(|| {
                Error::invalid("linalg.vecdot", format!("The size of tensor a {:?} must match the size of tensor b {:?}", x.shape(), y.shape()))
            })?;
            normalize_dim("linalg.vecdot", dim, shape.len())?;
            x.try_mul(y)?.try_sum_dims(&[dim], false)
        }

        /// The product of two or more matrices in the cheapest order (`torch.linalg.multi_dot`):
        /// the first may be a 1-d row vector and the last a 1-d column vector; the rest are 2-d.
        /// The order minimises the scalar multiplications (the classic matrix-chain program).
        ///
        /// ```
        /// use ferrograd::{linalg, Tensor};
        /// let (a, b, c) = (Tensor::ones(&[2, 3]), Tensor::ones(&[3, 4]), Tensor::ones(&[4]));
        /// assert_eq!(linalg::multi_dot(&[a, b, c]).to_vec::<f32>(), vec![12.0, 12.0]);
        /// ```
        ///
        /// ```
        /// use ferrograd::{linalg, Tensor};
        /// let e = linalg::try_multi_dot(&[Tensor::ones(&[2, 3]), Tensor::ones(&[2, 3])]).unwrap_err();
        /// assert_eq!(e.to_string(), "multi_dot(): tensors 0 and 1 with shapes [2, 3] and [2, 3] cannot be multiplied");
        /// ```
        pub fn multi_dot / try_multi_dot(tensors: &[Tensor]) -> Tensor {
            multi_dot_impl(tensors)
        }

        /// The vector `ord`-norm (`torch.linalg.vector_norm`) over `dim` (all elements for
        /// `None`): `ord` is any real `p` (`sum(|x|^p)^(1/p)`), `inf` (max `|x|`), `-inf` (min
        /// `|x|`) or 0 (the count of nonzeros). Gradients at 0 follow PyTorch: 0 for the
        /// 2-norm, the `sign` subgradient for the 1-norm, shared evenly among ties for `inf`.
        ///
        /// ```
        /// use ferrograd::{linalg, Tensor};
        /// let x = Tensor::new([3.0, -4.0]);
        /// assert_eq!(linalg::vector_norm(&x, 2.0, None, false).item(), 5.0);
        /// assert_eq!(linalg::vector_norm(&x, f64::INFINITY, None, false).item(), 4.0);
        /// assert_eq!(linalg::vector_norm(&x, 1.0, Some(&[0]), true).to_vec::<f32>(), vec![7.0]);
        /// ```
        ///
        /// ```
        /// use ferrograd::{linalg, DType, Tensor};
        /// let e = linalg::try_vector_norm(&Tensor::ones(&[2]).to_dtype(DType::I64), 2.0, None, false).unwrap_err();
        /// assert!(e.to_string().contains("Expected a floating point or complex tensor as input. Got Long"));
        /// ```
        pub fn vector_norm / try_vector_norm(x: &Tensor, ord: f64 = 2.0, dim: Option<&[isize]> = None, keepdim: bool = false) -> Tensor {
            if !x.dtype().is_floating_point() {
                return Err(Error::invalid("linalg.vector_norm", format!("Expected a floating point or complex tensor as input. Got {}", x.dtype().scalar_type())));
            }
            x.try_norm_dims(ord, dim.unwrap_or(&[]), keepdim)
        }

        /// The `n`-th power of a (batch of) square matrices (`torch.linalg.matrix_power`): by
        /// repeated squaring; a negative `n` inverts first; `n = 0` is the identity (its gradient
        /// is 0).
        ///
        /// ```
        /// use ferrograd::{linalg, Tensor};
        /// let a = Tensor::new([[1.0, 1.0], [0.0, 1.0]]);
        /// assert_eq!(linalg::matrix_power(&a, 3).to_vec::<f32>(), vec![1.0, 3.0, 0.0, 1.0]);
        /// assert_eq!(linalg::matrix_power(&a, -1).to_vec::<f32>(), vec![1.0, -1.0, 0.0, 1.0]);
        /// assert_eq!(linalg::matrix_power(&a, 0).to_vec::<f32>(), vec![1.0, 0.0, 0.0, 1.0]);
        /// ```
        ///
        /// ```
        /// use ferrograd::{linalg, Tensor};
        /// assert!(linalg::try_matrix_power(&Tensor::ones(&[2, 3]), 2).is_err());
        /// ```
        pub fn matrix_power / try_matrix_power(a: &Tensor, n: i64) -> Tensor {
            matrix_power_impl(a, n)
        }

        /// The matrix exponential `sum_k A^k / k!` of a (batch of) square matrices
        /// (`torch.linalg.matrix_exp`), by scaling and squaring: `A / 2^s` with 1-norm at most
        /// 1/2, its Taylor polynomial of degree 14 (truncation below 1e-16 relative), squared
        /// `s` times. It is made of matmuls, so gradients of every order are the exact
        /// derivatives of that computation.
        ///
        /// ```
        /// use ferrograd::{linalg, DType, Tensor};
        /// let a = Tensor::from_data([[0.0, 1.0], [-1.0, 0.0]], DType::F64); // a rotation generator
        /// let r = linalg::matrix_exp(&a).to_vec::<f64>();
        /// let (c, s) = (1f64.cos(), 1f64.sin());
        /// assert!(r.iter().zip([c, s, -s, c]).all(|(x, y)| (x - y).abs() < 1e-15));
        /// ```
        pub fn matrix_exp / try_matrix_exp(a: &Tensor) -> Tensor {
            check_square("linalg.matrix_exp", a)?;
            let out = levels::lowered(a, |p| Ok(vec![matrix_exp_impl(p)]))?;
            super::named(Ok(out.into_iter().next().expect("one output")), "LinalgMatrixExpBackward0")
        }
    }
}

api! {
    PRODUCT_OPS = impl Tensor {
        /// The Kronecker product (`torch.kron`): the lower-rank operand gets leading size-1
        /// dims, and the result has size `self.shape[i] * other.shape[i]` on each dim, block
        /// `(i, j)` of a matrix result being `self[i, j] * other`.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let a = Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
        /// let k = a.kron(&Tensor::new([1.0, 10.0]));
        /// assert_eq!(k.shape(), &[2, 4]);
        /// assert_eq!(k.to_vec::<f32>(), vec![1.0, 10.0, 2.0, 20.0, 3.0, 30.0, 4.0, 40.0]);
        /// ```
        pub fn kron / try_kron(&self, other: &Tensor) -> Tensor {
            kron_impl(self, other)
        }

        /// Contraction of `dims` of `self` with `other_dims` of `other` (`torch.tensordot(a, b,
        /// dims=(dims, other_dims))`; PyTorch's integer `dims=n` is the last `n` dims of `self`
        /// with the first `n` of `other`). The result's dims are `self`'s free dims, then
        /// `other`'s.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let a = Tensor::ones(&[2, 3, 4]);
        /// let b = Tensor::ones(&[4, 3, 5]);
        /// let c = a.tensordot(&b, &[1, 2], &[1, 0]);
        /// assert_eq!(c.shape(), &[2, 5]);
        /// assert_eq!(c.to_vec::<f32>()[0], 12.0);
        /// ```
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let e = Tensor::ones(&[2, 3]).try_tensordot(&Tensor::ones(&[2, 3]), &[1], &[1, 0]).unwrap_err();
        /// assert!(e.to_string().contains("both dimension lists should have same length"));
        /// ```
        pub fn tensordot / try_tensordot(&self, other: &Tensor, dims: &[isize], other_dims: &[isize]) -> Tensor {
            tensordot_impl(self, other, dims, other_dims)
        }

        /// A tensor whose diagonals (with respect to dims `dim1` and `dim2`, at `offset`) hold
        /// the last dim of `self` and is zero elsewhere (`torch.diag_embed`): `[..., n]` gives
        /// `[..., n + |offset|, n + |offset|]` for the default dims. Made of views and a pad,
        /// so the gradient is the diagonal of the output gradient.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let d = Tensor::new([1.0, 2.0]).diag_embed(0, -2, -1);
        /// assert_eq!(d.to_vec::<f32>(), vec![1.0, 0.0, 0.0, 2.0]);
        /// let u = Tensor::new([5.0]).diag_embed(1, -2, -1);
        /// assert_eq!(u.to_vec::<f32>(), vec![0.0, 5.0, 0.0, 0.0]);
        /// assert_eq!(Tensor::ones(&[2, 3]).diag_embed(0, 0, 2).shape(), &[3, 2, 3]);
        /// ```
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let e = Tensor::ones(&[3]).try_diag_embed(0, 1, -1).unwrap_err();
        /// assert!(e.to_string().contains("diagonal dimensions cannot be identical 1, -1"));
        /// ```
        pub fn diag_embed / try_diag_embed(&self, offset: isize = 0, dim1: isize = -2, dim2: isize = -1) -> Tensor {
            super::named(diag_embed_impl(self, offset, dim1, dim2), "DiagEmbedBackward0")
        }

        /// `beta * self + alpha * (mat1 @ mat2)` (`torch.addmm`): `mat1` is `[n, m]`, `mat2`
        /// `[m, p]`, `self` broadcasts to `[n, p]`. With `beta = 0`, `self` is ignored (its NaNs
        /// too), as in PyTorch.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let c = Tensor::ones(&[2]).addmm(&Tensor::eye(2), &Tensor::new([[1.0, 2.0], [3.0, 4.0]]), 1.0, 2.0);
        /// assert_eq!(c.to_vec::<f32>(), vec![3.0, 5.0, 7.0, 9.0]);
        /// ```
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// assert!(Tensor::ones(&[3]).try_addmm(&Tensor::eye(2), &Tensor::eye(2), 1.0, 1.0).is_err());
        /// ```
        pub fn addmm / try_addmm(&self, mat1: &Tensor, mat2: &Tensor, beta: f64 = 1.0, alpha: f64 = 1.0) -> Tensor {
            ranks("addmm", &[("mat1", mat1, 2), ("mat2", mat2, 2)])?;
            super::named(affine("addmm", self, &mat1.try_mm(mat2)?, beta, alpha), "AddmmBackward0")
        }

        /// `beta * self + alpha * (mat @ vec)` (`torch.addmv`): `mat` is `[n, m]`, `vec` `[m]`,
        /// `self` broadcasts to `[n]`.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let y = Tensor::ones(&[2]).addmv(&Tensor::eye(2), &Tensor::new([1.0, 2.0]), 0.5, 1.0);
        /// assert_eq!(y.to_vec::<f32>(), vec![1.5, 2.5]);
        /// ```
        pub fn addmv / try_addmv(&self, mat: &Tensor, vec: &Tensor, beta: f64 = 1.0, alpha: f64 = 1.0) -> Tensor {
            ranks("addmv", &[("mat", mat, 2), ("vec", vec, 1)])?;
            affine("addmv", self, &mat.try_mv(vec)?, beta, alpha)
        }

        /// `beta * self + alpha * outer(vec1, vec2)` (`torch.addr`).
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let y = Tensor::zeros(&[2, 2]).addr(&Tensor::new([1.0, 2.0]), &Tensor::new([1.0, 3.0]), 1.0, 1.0);
        /// assert_eq!(y.to_vec::<f32>(), vec![1.0, 3.0, 2.0, 6.0]);
        /// ```
        pub fn addr / try_addr(&self, vec1: &Tensor, vec2: &Tensor, beta: f64 = 1.0, alpha: f64 = 1.0) -> Tensor {
            ranks("addr", &[("vec1", vec1, 1), ("vec2", vec2, 1)])?;
            affine("addr", self, &vec1.try_outer(vec2)?, beta, alpha)
        }

        /// `beta * self + alpha * bmm(batch1, batch2)` (`torch.baddbmm`): `[b, n, m] @ [b, m, p]`,
        /// `self` broadcasts to `[b, n, p]`.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let y = Tensor::ones(&[1]).baddbmm(&Tensor::ones(&[2, 1, 3]), &Tensor::ones(&[2, 3, 1]), 1.0, 1.0);
        /// assert_eq!(y.to_vec::<f32>(), vec![4.0, 4.0]);
        /// ```
        pub fn baddbmm / try_baddbmm(&self, batch1: &Tensor, batch2: &Tensor, beta: f64 = 1.0, alpha: f64 = 1.0) -> Tensor {
            ranks("baddbmm", &[("batch1", batch1, 3), ("batch2", batch2, 3)])?;
            affine("baddbmm", self, &batch1.try_bmm(batch2)?, beta, alpha)
        }

        /// `beta * self + alpha * sum_b batch1[b] @ batch2[b]` (`torch.addbmm`): the batch of
        /// products is summed, `self` broadcasts to `[n, p]`.
        ///
        /// ```
        /// use ferrograd::Tensor;
        /// let y = Tensor::zeros(&[1, 1]).addbmm(&Tensor::ones(&[2, 1, 3]), &Tensor::ones(&[2, 3, 1]), 1.0, 1.0);
        /// assert_eq!(y.to_vec::<f32>(), vec![6.0]);
        /// ```
        pub fn addbmm / try_addbmm(&self, batch1: &Tensor, batch2: &Tensor, beta: f64 = 1.0, alpha: f64 = 1.0) -> Tensor {
            ranks("addbmm", &[("batch1", batch1, 3), ("batch2", batch2, 3)])?;
            affine("addbmm", self, &batch1.try_bmm(batch2)?.try_sum_dims(&[0], false)?, beta, alpha)
        }
    }
}

/// Checks each named operand's rank (PyTorch's wording).
fn ranks(op: &'static str, operands: &[(&str, &Tensor, usize)]) -> Result<()> {
    for &(name, t, rank) in operands {
        if t.dim() != rank {
            return Err(Error::invalid(
                op,
                format!("{name} must be a {rank}D tensor, got {}D", t.dim()),
            ));
        }
    }
    Ok(())
}

/// `beta * input + alpha * product`, `input` broadcast to the product's shape (and ignored for
/// `beta == 0`).
fn affine(
    op: &'static str,
    input: &Tensor,
    product: &Tensor,
    beta: f64,
    alpha: f64,
) -> Result<Tensor> {
    let fits = broadcast_shapes(input.shape(), product.shape())
        .is_some_and(|s| s.as_slice() == product.shape());
    if !fits {
        return Err(Error::invalid(
            op,
            format!(
                "the input of shape {:?} is not broadcastable to the product's shape {:?}",
                input.shape(),
                product.shape()
            ),
        ));
    }
    if input.dtype() != product.dtype() {
        return Err(Error::invalid(
            op,
            format!(
                "expected the input and the matrices to have the same dtype, but got {} and {}",
                input.dtype(),
                product.dtype()
            ),
        ));
    }
    let scaled = if alpha == 1.0 {
        product.clone()
    } else {
        product.mul_scalar(alpha)
    };
    match beta {
        0.0 => Ok(scaled),
        1.0 => scaled.try_add(input),
        _ => scaled.try_add(&input.mul_scalar(beta)),
    }
}

fn cross_impl(a: &Tensor, b: &Tensor, dim: isize) -> Result<Tensor> {
    let shape = broadcast_shapes(a.shape(), b.shape()).ok_or_else(|| {
        Error::invalid(
            "linalg.cross",
            format!(
                "the shapes {:?} and {:?} of input and other do not broadcast",
                a.shape(),
                b.shape()
            ),
        )
    })?;
    let d = normalize_dim("linalg.cross", dim, shape.len())?;
    // Sizes along `dim`, the operands right-aligned to the broadcast rank.
    let size = |t: &Tensor| {
        let k = (d + t.dim()).checked_sub(shape.len());
        k.map_or(1, |k| t.shape()[k])
    };
    if size(a) != 3 || size(b) != 3 {
        return Err(Error::invalid(
            "linalg.cross",
            format!(
                "inputs dimension {dim} must have length 3. Got {} and {}",
                size(a),
                size(b)
            ),
        ));
    }
    let (a, b) = (a.try_expand(&shape)?, b.try_expand(&shape)?);
    let d = d as isize;
    // (a x b)_i = a_{i+1} b_{i+2} - a_{i+2} b_{i+1}, indices mod 3.
    let (a1, a2) = (a.try_roll(&[-1], &[d])?, a.try_roll(&[-2], &[d])?);
    let (b1, b2) = (b.try_roll(&[-1], &[d])?, b.try_roll(&[-2], &[d])?);
    a1.try_mul(&b2)?.try_sub(&a2.try_mul(&b1)?)
}

fn kron_impl(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if a.dtype() != b.dtype() {
        return Err(Error::invalid(
            "kron",
            format!(
                "expected both inputs to have the same dtype, but got {} and {}",
                a.dtype(),
                b.dtype()
            ),
        ));
    }
    let r = a.dim().max(b.dim());
    let pad = |t: &Tensor| {
        let mut s = vec![1; r - t.dim()];
        s.extend_from_slice(t.shape());
        s
    };
    let (sa, sb) = (pad(a), pad(b));
    let mut ia = Vec::with_capacity(2 * r);
    let mut ib = Vec::with_capacity(2 * r);
    for k in 0..r {
        ia.extend([sa[k], 1]);
        ib.extend([1, sb[k]]);
    }
    let out: Vec<usize> = (0..r).map(|k| sa[k] * sb[k]).collect();
    let prod = a.try_reshape(&ia)?.try_mul(&b.try_reshape(&ib)?)?;
    prod.try_reshape(&out)
}

fn tensordot_impl(a: &Tensor, b: &Tensor, da: &[isize], db: &[isize]) -> Result<Tensor> {
    let bad = |m: String| Error::invalid("tensordot", m);
    if da.len() != db.len() {
        return Err(bad(format!(
            "both dimension lists should have same length, but got {} and {}",
            da.len(),
            db.len()
        )));
    }
    let norm = |t: &Tensor, ds: &[isize]| -> Result<Vec<usize>> {
        let mut v = Vec::with_capacity(ds.len());
        for &d in ds {
            let k = normalize_dim("tensordot", d, t.dim())?;
            if v.contains(&k) {
                return Err(bad(format!(
                    "dim {d} appears multiple times in the list of dims"
                )));
            }
            v.push(k);
        }
        Ok(v)
    };
    let (ca, cb) = (norm(a, da)?, norm(b, db)?);
    for (&i, &j) in ca.iter().zip(&cb) {
        if a.shape()[i] != b.shape()[j] {
            return Err(bad(format!(
                "contracted dimensions need to match, but first has size {} in dim {i} and second has size {} in dim {j}",
                a.shape()[i],
                b.shape()[j]
            )));
        }
    }
    let free_a: Vec<usize> = (0..a.dim()).filter(|k| !ca.contains(k)).collect();
    let free_b: Vec<usize> = (0..b.dim()).filter(|k| !cb.contains(k)).collect();
    let size = |t: &Tensor, ks: &[usize]| ks.iter().map(|&k| t.shape()[k]).product::<usize>();
    let perm =
        |x: &[usize], y: &[usize]| x.iter().chain(y).map(|&k| k as isize).collect::<Vec<_>>();
    let (m, k, n) = (size(a, &free_a), size(a, &ca), size(b, &free_b));
    let a2 = a.try_permute(&perm(&free_a, &ca))?.try_reshape(&[m, k])?;
    let b2 = b.try_permute(&perm(&cb, &free_b))?.try_reshape(&[k, n])?;
    let mut out: Vec<usize> = free_a.iter().map(|&i| a.shape()[i]).collect();
    out.extend(free_b.iter().map(|&j| b.shape()[j]));
    a2.try_mm(&b2)?.try_reshape(&out)
}

fn multi_dot_impl(ts: &[Tensor]) -> Result<Tensor> {
    let bad = |m: String| Error::invalid("multi_dot()", m);
    let n = ts.len();
    if n < 2 {
        return Err(bad(format!("expected at least 2 tensors but got {n}")));
    }
    for (i, t) in ts.iter().enumerate() {
        let ends = i == 0 || i == n - 1;
        if ends && !(1..=2).contains(&t.dim()) {
            let which = if i == 0 { "first" } else { "last" };
            return Err(bad(format!(
                "the {which} tensor must be 1D or 2D but got {}D",
                t.dim()
            )));
        }
        if !ends && t.dim() != 2 {
            return Err(bad(format!("tensor {i} must be 2D but got {}D", t.dim())));
        }
    }
    // The chain as matrices: a 1-d first operand is a row, a 1-d last operand a column.
    let mats: Vec<Tensor> = ts
        .iter()
        .enumerate()
        .map(|(i, t)| match (t.dim(), i) {
            (1, 0) => t.unsqueeze(0),
            (1, _) => t.unsqueeze(1),
            _ => t.clone(),
        })
        .collect();
    for i in 0..n - 1 {
        if mats[i].shape()[1] != mats[i + 1].shape()[0] || mats[i].dtype() != mats[i + 1].dtype() {
            return Err(bad(format!(
                "tensors {i} and {} with shapes {:?} and {:?} cannot be multiplied",
                i + 1,
                ts[i].shape(),
                ts[i + 1].shape()
            )));
        }
    }
    // dims[i] x dims[i+1] is matrix i; cost[i][j] the cheapest product of i..=j, split[i][j]
    // its last split.
    let dims: Vec<u128> = std::iter::once(mats[0].shape()[0])
        .chain(mats.iter().map(|m| m.shape()[1]))
        .map(|d| d as u128)
        .collect();
    let mut cost = vec![vec![0u128; n]; n];
    let mut split = vec![vec![0usize; n]; n];
    for len in 1..n {
        for i in 0..n - len {
            let j = i + len;
            let best = (i..j)
                .map(|k| {
                    (
                        cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1],
                        k,
                    )
                })
                .min()
                .expect("a split");
            (cost[i][j], split[i][j]) = best;
        }
    }
    // Multiply in that order, with an explicit stack of (i, j) ranges.
    fn chain(mats: &[Tensor], split: &[Vec<usize>], i: usize, j: usize) -> Result<Tensor> {
        let mut todo = vec![(i, j, false)];
        let mut done: Vec<Tensor> = Vec::new();
        while let Some((i, j, ready)) = todo.pop() {
            if i == j {
                done.push(mats[i].clone());
            } else if ready {
                let r = done.pop().expect("right factor");
                let l = done.pop().expect("left factor");
                done.push(l.try_mm(&r)?);
            } else {
                let k = split[i][j];
                todo.extend([(i, j, true), (k + 1, j, false), (i, k, false)]);
            }
        }
        Ok(done.pop().expect("the product"))
    }
    let mut out = chain(&mats, &split, 0, n - 1)?;
    if ts[n - 1].dim() == 1 {
        out = out.try_squeeze(1)?;
    }
    if ts[0].dim() == 1 {
        out = out.try_squeeze(0)?;
    }
    Ok(out)
}

fn matrix_power_impl(a: &Tensor, n: i64) -> Result<Tensor> {
    let size = check_square("linalg.matrix_power", a)?;
    if n == 0 {
        // The identity, connected to `a` with a zero gradient as in PyTorch: `a` with every
        // element masked to 0 is exactly 0 (NaN and inf too).
        let eye = Tensor::try_eye_with(size, a.dtype())?;
        let all = Tensor::full_with(a.shape(), 1.0, crate::DType::Bool);
        return a.try_masked_fill(&all, 0.0)?.try_add(&eye);
    }
    let mut base = if n < 0 { a.try_inv()? } else { a.clone() };
    let mut k = n.unsigned_abs();
    let mut acc: Option<Tensor> = None;
    loop {
        if k & 1 == 1 {
            acc = Some(match acc {
                None => base.clone(),
                Some(p) => p.try_matmul(&base)?,
            });
        }
        k >>= 1;
        if k == 0 {
            break;
        }
        base = base.try_matmul(&base)?;
    }
    Ok(acc.expect("n != 0"))
}

/// `exp(p)` for square matrices `[..., n, n]` (no vmap level: [`levels::lowered`] gives the
/// physical value).
fn matrix_exp_impl(p: &Tensor) -> Tensor {
    let n = p.shape()[p.dim() - 1];
    if p.numel() == 0 {
        return p.clone();
    }
    // The scaling: the largest 1-norm (max column sum) over the batch, read without a graph.
    let norm = p
        .detach()
        .abs()
        .sum_dims(&[-2], false)
        .amax(&[], false)
        .item();
    // 2^s >= 2 norm; past s = 1100 every entry of the result overflows anyway (and NaN or
    // infinite entries give NaN or inf whatever s is).
    let s = if norm.is_finite() && norm > 0.5 {
        (norm.log2() + 1.0).ceil().min(1100.0) as i32
    } else {
        0
    };
    // Scaled in two halves: 2^-s alone underflows to 0 for s > 1074.
    let x = match s {
        0 => p.clone(),
        _ => p
            .mul_scalar(0.5f64.powi(s / 2))
            .mul_scalar(0.5f64.powi(s - s / 2)),
    };
    let eye = Tensor::eye_with(n, p.dtype());
    // Horner: I + X (I + X/2 (I + X/3 (... (I + X/14)))).
    let mut acc = &eye + &x.mul_scalar(1.0 / 14.0);
    for k in (1..14).rev() {
        acc = &eye + &x.matmul(&acc).mul_scalar(1.0 / k as f64);
    }
    for _ in 0..s {
        acc = acc.matmul(&acc);
    }
    acc
}

fn diag_embed_impl(x: &Tensor, offset: isize, dim1: isize, dim2: isize) -> Result<Tensor> {
    const OP: &str = "diag_embed";
    if x.dim() == 0 {
        return Err(Error::invalid(
            OP,
            "the input must have at least one dimension",
        ));
    }
    let r = x.dim() + 1;
    let (d1, d2) = (normalize_dim(OP, dim1, r)?, normalize_dim(OP, dim2, r)?);
    if d1 == d2 {
        return Err(Error::invalid(
            OP,
            format!("diagonal dimensions cannot be identical {dim1}, {dim2}"),
        ));
    }
    let n = x.shape()[x.dim() - 1];
    let batch = &x.shape()[..x.dim() - 1];
    let with = |tail: &[usize]| batch.iter().chain(tail).copied().collect::<Vec<usize>>();
    // Each element followed by n zeros, flattened: x_i lands at i (n + 1), the diagonal of an
    // n x n matrix.
    let rows = x.try_unsqueeze(-1)?.try_pad(&[0, n as isize], 0.0)?;
    let square = rows
        .try_reshape(&with(&[n * (n + 1)]))?
        .try_narrow(-1, 0, n * n)?
        .try_reshape(&with(&[n, n]))?;
    // The offset: zero columns before (above the diagonal) or after, and rows to match.
    let k = offset.unsigned_abs() as isize;
    let shifted = match offset {
        0 => square,
        o if o > 0 => square.try_pad(&[k, 0, 0, k], 0.0)?,
        _ => square.try_pad(&[0, k, k, 0], 0.0)?,
    };
    // The matrix dims (last two) moved to d1 and d2, the batch dims in order elsewhere.
    let mut batch_dims = 0..r - 2;
    let perm: Vec<isize> = (0..r)
        .map(|p| match p {
            _ if p == d1 => r - 2,
            _ if p == d2 => r - 1,
            _ => batch_dims.next().expect("a batch dim"),
        } as isize)
        .collect();
    shifted.try_permute(&perm)
}
