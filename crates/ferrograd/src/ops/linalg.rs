//! Products: dot, mm, mv, matmul (batched, with broadcasting).

use super::grads;
use crate::autograd::record;
use crate::error::{Error, Result};
use crate::kernels;
use crate::layout::{broadcast_shapes, Shape};
use crate::tensor::Tensor;

impl Tensor {
    /// Inner product of two 1-d tensors of the same length and dtype.
    /// Panics otherwise; see [`Tensor::try_dot`].
    ///
    /// ```
    /// let x = ferrograd::Tensor::arange(4.0).requires_grad_(true);
    /// assert_eq!(x.dot(&x).to_string(), "tensor(14., grad_fn=<DotBackward0>)");
    /// ```
    pub fn dot(&self, other: &Tensor) -> Tensor {
        crate::unwrap(self.try_dot(other))
    }

    /// Fallible [`Tensor::dot`].
    ///
    /// ```
    /// let e = ferrograd::Tensor::zeros(&[3]).try_dot(&ferrograd::Tensor::zeros(&[4])).unwrap_err();
    /// assert!(e.to_string().contains("inconsistent tensor size"));
    /// ```
    pub fn try_dot(&self, other: &Tensor) -> Result<Tensor> {
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
        let a = self.view_with(self.layout().reshape_view(&[1, n]).unwrap_or_else(|| {
            let mut l = self.layout().clone();
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
        let prod = kernels::matmul2d(&a, &b);
        let out = prod.view_with(prod.layout().reshape_view(&[]).expect("contiguous"));
        Ok(record(
            "DotBackward0",
            out,
            &[self, other],
            |needs, s| {
                if needs[1] {
                    s.save(self);
                }
                if needs[0] {
                    s.save(other);
                }
            },
            |a| {
                let mut it = a.saved.iter();
                let x = if a.needs(1) { it.next() } else { None };
                let y = if a.needs(0) { it.next() } else { None };
                grads([y.map(|y| a.grad * y), x.map(|x| a.grad * x)])
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
    pub fn mm(&self, other: &Tensor) -> Tensor {
        crate::unwrap(self.try_mm(other))
    }

    /// Fallible [`Tensor::mm`].
    ///
    /// ```
    /// let e = ferrograd::Tensor::zeros(&[2, 3]).try_mm(&ferrograd::Tensor::zeros(&[2, 3])).unwrap_err();
    /// assert_eq!(e.to_string(), "mm: mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)");
    /// ```
    pub fn try_mm(&self, other: &Tensor) -> Result<Tensor> {
        if self.dim() != 2 || other.dim() != 2 {
            let which = if self.dim() != 2 { "self" } else { "mat2" };
            let d = if self.dim() != 2 {
                self.dim()
            } else {
                other.dim()
            };
            return Err(Error::invalid(
                "mm",
                format!("{which} must be a matrix, got a {d}-D tensor"),
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
    pub fn mv(&self, vec: &Tensor) -> Tensor {
        crate::unwrap(self.try_mv(vec))
    }

    /// Fallible [`Tensor::mv`].
    ///
    /// ```
    /// assert!(ferrograd::Tensor::zeros(&[2, 3]).try_mv(&ferrograd::Tensor::zeros(&[2])).is_err());
    /// ```
    pub fn try_mv(&self, vec: &Tensor) -> Result<Tensor> {
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
        Ok(matmul_nd("mv", "MvBackward0", self, &col)?.squeeze(1))
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
    pub fn matmul(&self, other: &Tensor) -> Tensor {
        crate::unwrap(self.try_matmul(other))
    }

    /// Fallible [`Tensor::matmul`].
    ///
    /// ```
    /// let e = ferrograd::Tensor::zeros(&[2, 3]).try_matmul(&ferrograd::Tensor::zeros(&[2, 3])).unwrap_err();
    /// assert!(e.to_string().contains("shapes cannot be multiplied (2x3 and 2x3)"));
    /// ```
    pub fn try_matmul(&self, other: &Tensor) -> Result<Tensor> {
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
}

fn same_float_dtype(op: &'static str, a: &Tensor, b: &Tensor) -> Result<()> {
    if a.dtype() != b.dtype() || !a.dtype().is_floating_point() {
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

/// The matrix product of (batches of) matrices, batch dimensions broadcast. The backward
/// multiplies by transposes (views, no copies); the engine sums broadcast batch dimensions.
fn matmul_nd(op: &'static str, name: &'static str, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    same_float_dtype(op, a, b)?;
    let (ra, rb) = (a.dim(), b.dim());
    let (m, k) = (a.shape()[ra - 2], a.shape()[ra - 1]);
    let (k2, n) = (b.shape()[rb - 2], b.shape()[rb - 1]);
    let batch = broadcast_shapes(&a.shape()[..ra - 2], &b.shape()[..rb - 2]);
    let batch = match (k == k2, batch) {
        (true, Some(batch)) => batch,
        _ => {
            return Err(Error::invalid(
                op,
                format!(
                    "mat1 and mat2 shapes cannot be multiplied ({}x{} and {}x{}){}",
                    m,
                    k,
                    k2,
                    n,
                    if ra > 2 || rb > 2 {
                        format!(
                            " with batch shapes {:?} and {:?}",
                            &a.shape()[..ra - 2],
                            &b.shape()[..rb - 2]
                        )
                    } else {
                        String::new()
                    }
                ),
            ))
        }
    };
    let out = if batch.is_empty() {
        kernels::matmul2d(a, b)
    } else {
        batched(a, b, &batch, m, k, n)
    };
    Ok(record(
        name,
        out,
        &[a, b],
        |needs, s| {
            // Each input's gradient needs the other input.
            if needs[1] {
                s.save(a);
            }
            if needs[0] {
                s.save(b);
            }
        },
        |args| {
            let mut it = args.saved.iter();
            let x = if args.needs(1) { it.next() } else { None };
            let y = if args.needs(0) { it.next() } else { None };
            let g = args.grad;
            grads([
                y.map(|y| g.matmul(&y.transpose(-1, -2))),
                x.map(|x| x.transpose(-1, -2).matmul(g)),
            ])
        },
    ))
}

/// Batched product: one 2-d product per broadcast batch index, each a strided view.
fn batched(a: &Tensor, b: &Tensor, batch: &[usize], m: usize, k: usize, n: usize) -> Tensor {
    let mut sa: Shape = batch.into();
    sa.extend([m, k]);
    let mut sb: Shape = batch.into();
    sb.extend([k, n]);
    let la = a.layout().broadcast_to(&sa);
    let lb = b.layout().broadcast_to(&sb);
    let nb = batch.iter().product::<usize>();
    let mut pieces = Vec::with_capacity(nb);
    let bd = batch.len();
    let oa = crate::layout::Offsets::new(batch, &la.strides[..bd], la.offset);
    let ob = crate::layout::Offsets::new(batch, &lb.strides[..bd], lb.offset);
    for (offa, offb) in oa.zip(ob) {
        let va = a.view_with(crate::layout::Layout {
            shape: [m, k].into_iter().collect(),
            strides: la.strides[bd..].into(),
            offset: offa,
        });
        let vb = b.view_with(crate::layout::Layout {
            shape: [k, n].into_iter().collect(),
            strides: lb.strides[bd..].into(),
            offset: offb,
        });
        pieces.push(kernels::matmul2d(&va, &vb));
    }
    let mut shape: Shape = batch.into();
    shape.extend([m, n]);
    let values: Vec<f64> = pieces.iter().flat_map(|p| p.values_f64()).collect();
    Tensor::from_buffer(
        crate::storage::Buffer::from_f64s(a.dtype(), values.into_iter()),
        &shape,
    )
}
