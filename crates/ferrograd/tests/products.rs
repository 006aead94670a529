//! Issue 15's products, powers and advanced indexing: values from mathematics (hand-computed
//! products, exp of diagonal and nilpotent matrices, the identity `d tr(exp A) = exp(A)^T`),
//! PyTorch's semantics (last write wins, accumulation, `beta = 0`), vmap with batched index
//! tensors against a loop, and PyTorch's error messages.

use ferrograd::func::{self, Func, VmapOptions};
use ferrograd::{linalg, DType, Tensor};

fn t64<const R: usize, const C: usize>(rows: [[f64; C]; R]) -> Tensor {
    Tensor::from_data(rows, DType::F64)
}

fn close(a: &Tensor, b: &Tensor, tol: f64) {
    assert_eq!(a.shape(), b.shape(), "shapes differ");
    let (x, y) = (a.to_vec::<f64>(), b.to_vec::<f64>());
    for (i, (p, q)) in x.iter().zip(&y).enumerate() {
        assert!(
            (p - q).abs() <= tol * (1.0 + q.abs()),
            "element {i}: {p} vs {q}"
        );
    }
}

#[test]
fn cross_products_of_the_basis_and_broadcasting() {
    let e = Tensor::eye_with(3, DType::F64);
    // e1 x e2 = e3, e2 x e3 = e1, e3 x e1 = e2: row i of (e x roll(e)) is e_{i+2}.
    let next = e.roll(&[-1], &[0]);
    let c = linalg::cross(&e, &next, -1);
    close(&c, &e.roll(&[-2], &[0]), 0.0);
    // A broadcast [2, 3] x [3], and dim 0.
    let a = t64([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]]);
    let b = Tensor::from_data([4.0, 5.0, 6.0], DType::F64);
    close(
        &linalg::cross(&a, &b, -1),
        &t64([[-3.0, 6.0, -3.0], [-5.0, 4.0, 0.0]]),
        0.0,
    );
    close(
        &linalg::cross(&a.t(), &b.unsqueeze(1), 0),
        &t64([[-3.0, -5.0], [6.0, 4.0], [-3.0, 0.0]]),
        0.0,
    );
    let e = linalg::try_cross(&Tensor::zeros(&[3, 2]), &Tensor::zeros(&[3, 2]), 1).unwrap_err();
    assert_eq!(
        e.to_string(),
        "linalg.cross: inputs dimension 1 must have length 3. Got 2 and 2"
    );
}

#[test]
fn kron_tensordot_and_the_add_products() {
    let a = t64([[1.0, 2.0], [3.0, 4.0]]);
    let b = t64([[0.0, 5.0], [6.0, 7.0]]);
    let k = a.kron(&b);
    close(
        &k,
        &Tensor::from_data(
            [
                [0.0, 5.0, 0.0, 10.0],
                [6.0, 7.0, 12.0, 14.0],
                [0.0, 15.0, 0.0, 20.0],
                [18.0, 21.0, 24.0, 28.0],
            ],
            DType::F64,
        ),
        0.0,
    );
    // tensordot over one dim is the matrix product; over both, the Frobenius inner product.
    close(&a.tensordot(&b, &[1], &[0]), &a.mm(&b), 0.0);
    assert_eq!(
        a.tensordot(&b, &[0, 1], &[0, 1]).item(),
        5.0 * 2.0 + 18.0 + 28.0
    );
    let e = a.try_tensordot(&b.reshape(&[4]), &[1], &[0]).unwrap_err();
    assert!(e
        .to_string()
        .contains("contracted dimensions need to match, but first has size 2 in dim 1 and second has size 4 in dim 0"));
    // beta = 0 ignores the input, NaN included (PyTorch).
    let nan = Tensor::full(&[2, 2], f64::NAN).to_dtype(DType::F64);
    close(&nan.addmm(&a, &b, 0.0, 1.0), &a.mm(&b), 0.0);
    close(
        &Tensor::ones(&[2])
            .to_dtype(DType::F64)
            .addmm(&a, &b, 2.0, -1.0),
        &t64([[-10.0, -17.0], [-22.0, -41.0]]),
        0.0,
    );
    let batch = Tensor::stack(&[a.clone(), b.clone()], 0);
    close(
        &Tensor::zeros(&[2, 2])
            .to_dtype(DType::F64)
            .addbmm(&batch, &batch, 1.0, 1.0),
        &(&a.mm(&a) + &b.mm(&b)),
        0.0,
    );
    let e = Tensor::ones(&[3])
        .try_addmm(&Tensor::eye(2), &Tensor::eye(2), 1.0, 1.0)
        .unwrap_err();
    assert!(e.to_string().contains("addmm"), "{e}");
}

#[test]
fn multi_dot_is_the_product_in_any_order() {
    let a = Tensor::randn_with(&[5, 2], DType::F64);
    let b = Tensor::randn_with(&[2, 6], DType::F64);
    let c = Tensor::randn_with(&[6, 1], DType::F64);
    let d = Tensor::randn_with(&[1, 4], DType::F64);
    let want = a.mm(&b).mm(&c).mm(&d);
    close(
        &linalg::multi_dot(&[a.clone(), b.clone(), c.clone(), d.clone()]),
        &want,
        1e-12,
    );
    let v = Tensor::randn_with(&[5], DType::F64);
    let w = Tensor::randn_with(&[4], DType::F64);
    let s = linalg::multi_dot(&[v.clone(), a.clone(), b, c, d, w.clone()]);
    assert_eq!(s.shape(), &[] as &[usize]);
    close(&s, &v.dot(&want.mv(&w)), 1e-12);
    let e = linalg::try_multi_dot(&[a]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "multi_dot(): expected at least 2 tensors but got 1"
    );
}

#[test]
fn matrix_power_and_exp_from_mathematics() {
    let a = t64([[2.0, 1.0], [1.0, 1.0]]);
    // [[2,1],[1,1]]^n = [[F(2n+1), F(2n)], [F(2n), F(2n-1)]] (Fibonacci numbers).
    close(
        &linalg::matrix_power(&a, 5),
        &t64([[89.0, 55.0], [55.0, 34.0]]),
        0.0,
    );
    close(
        &linalg::matrix_power(&a, -2),
        &t64([[2.0, -3.0], [-3.0, 5.0]]),
        1e-14,
    );
    // exp of a diagonal matrix, of a nilpotent one, and exp(A) exp(-A) = I.
    let d = t64([[1.0, 0.0], [0.0, -2.0]]);
    close(
        &linalg::matrix_exp(&d),
        &t64([[1f64.exp(), 0.0], [0.0, (-2f64).exp()]]),
        1e-15,
    );
    let n = t64([[0.0, 3.0], [0.0, 0.0]]);
    close(
        &linalg::matrix_exp(&n),
        &t64([[1.0, 3.0], [0.0, 1.0]]),
        1e-15,
    );
    let big = Tensor::randn_with(&[2, 4, 4], DType::F64).mul_scalar(3.0);
    close(
        &linalg::matrix_exp(&big).matmul(&linalg::matrix_exp(&-&big)),
        &Tensor::eye_with(4, DType::F64).expand(&[2, 4, 4]),
        1e-9,
    );
    // d tr(exp(A)) / dA = exp(A)^T.
    let x = Tensor::randn_with(&[3, 3], DType::F64).requires_grad_(true);
    linalg::matrix_exp(&x).trace().backward();
    close(
        &x.grad().unwrap(),
        &linalg::matrix_exp(&x.detach()).t(),
        1e-12,
    );
}

#[test]
fn index_reads_and_index_put_writes_as_pytorch() {
    let x = Tensor::arange(12.0).to_dtype(DType::F64).reshape(&[3, 4]);
    let i = Tensor::new([[0, 2], [2, -1]]);
    let j = Tensor::new([1, 3]);
    // x[i, j]: broadcast [2, 2] indices.
    close(
        &x.index(&[i.clone(), j.clone()]),
        &t64([[1.0, 11.0], [9.0, 11.0]]),
        0.0,
    );
    // x[i]: rows, then the trailing dim.
    assert_eq!(x.index(std::slice::from_ref(&i)).shape(), &[2, 2, 4]);
    // Repeated places accumulate in the gradient.
    let xg = x.detach().requires_grad_(true);
    xg.index(&[i.clone(), j.clone()]).sum().backward();
    let g = xg.grad().unwrap().to_vec::<f64>();
    assert_eq!(g[4 * 2 + 3], 2.0);
    assert_eq!(g.iter().sum::<f64>(), 4.0);
    // index_put: the last write wins; accumulate sums.
    let z = Tensor::zeros(&[3]).to_dtype(DType::F64);
    let k = Tensor::new([1, 1, 0]);
    let v = Tensor::from_data([1.0, 2.0, 3.0], DType::F64);
    close(
        &z.index_put(std::slice::from_ref(&k), &v, false),
        &Tensor::from_data([3.0, 2.0, 0.0], DType::F64),
        0.0,
    );
    close(
        &z.index_put(&[k], &v, true),
        &Tensor::from_data([3.0, 3.0, 0.0], DType::F64),
        0.0,
    );
    let e = x.try_index(&[Tensor::new([3])]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "index: index 3 is out of bounds for dimension 0 with size 3"
    );
    let e = x.try_index(&[Tensor::new([0.5])]).unwrap_err();
    assert!(
        e.to_string()
            .contains("tensors used as indices must be long"),
        "{e}"
    );
    let e = x
        .try_index(&[Tensor::new([0]), Tensor::new([0]), Tensor::new([0])])
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("too many indices for tensor of dimension 2"),
        "{e}"
    );
    let e = x
        .try_index(&[Tensor::new([0, 1]), Tensor::new([0, 1, 2])])
        .unwrap_err();
    assert!(
        e.to_string().contains(
            "shape mismatch: indexing tensors could not be broadcast together with shapes [2], [3]"
        ),
        "{e}"
    );
}

#[test]
fn index_copy_fill_and_masked_scatter() {
    let x = Tensor::zeros(&[2, 3])
        .to_dtype(DType::F64)
        .requires_grad_(true);
    let src = t64([[1.0, 2.0], [3.0, 4.0]]).requires_grad_(true);
    let y = x.index_copy(1, &Tensor::new([2, 0]), &src);
    close(&y, &t64([[2.0, 0.0, 1.0], [4.0, 0.0, 3.0]]), 0.0);
    y.sum().backward();
    close(
        &x.grad().unwrap(),
        &t64([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]),
        0.0,
    );
    close(&src.grad().unwrap(), &t64([[1.0, 1.0], [1.0, 1.0]]), 0.0);
    let f = Tensor::ones(&[2, 3]).index_fill(0, &Tensor::new([1]), 7.0);
    assert_eq!(f.to_vec::<f32>(), vec![1.0, 1.0, 1.0, 7.0, 7.0, 7.0]);
    // masked_scatter takes the source in order; the mask broadcasts over rows.
    let m = Tensor::new([true, false, true]);
    let s = Tensor::arange(6.0).to_dtype(DType::F64).add_scalar(1.0);
    let out = Tensor::zeros(&[2, 3])
        .to_dtype(DType::F64)
        .masked_scatter(&m, &s);
    close(&out, &t64([[1.0, 0.0, 2.0], [3.0, 0.0, 4.0]]), 0.0);
    let sg = s.detach().requires_grad_(true);
    Tensor::zeros(&[2, 3])
        .to_dtype(DType::F64)
        .masked_scatter(&m, &sg)
        .sum()
        .backward();
    assert_eq!(
        sg.grad().unwrap().to_vec::<f64>(),
        vec![1.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    );
}

#[test]
fn vmap_over_batched_index_tensors_matches_a_loop() {
    let x = Tensor::randn_with(&[4, 3], DType::F64);
    let idx = Tensor::new([[0, 3, 3], [1, 1, 2]]);
    let vals = Tensor::randn_with(&[2, 3, 3], DType::F64);
    // Each member reads and writes its own rows of the same x.
    let read = Func::new(|a| Ok(vec![a[0].try_index(&[a[1].clone()])?]));
    let got = func::vmap_with(&read, VmapOptions::in_dims(&[None, Some(0)]))
        .call(&[x.clone(), idx.clone()])
        .unwrap();
    let write = Func::new(|a| Ok(vec![a[0].try_index_put(&[a[1].clone()], &a[2], true)?]));
    let put = func::vmap_with(&write, VmapOptions::in_dims(&[None, Some(0), Some(0)]))
        .call(&[x.clone(), idx.clone(), vals.clone()])
        .unwrap();
    let scatter = Func::new(|a| Ok(vec![a[0].try_masked_scatter(&a[1], &a[2])?]));
    let masks = Tensor::new([[true, false, true], [false, true, true]]);
    let sc = func::vmap_with(&scatter, VmapOptions::in_dims(&[None, Some(0), Some(0)]))
        .call(&[x.select(0, 0), masks.clone(), vals.select(1, 0)])
        .unwrap();
    for b in 0..2 {
        close(&got[0].select(0, b), &x.index(&[idx.select(0, b)]), 0.0);
        close(
            &put[0].select(0, b),
            &x.index_put(&[idx.select(0, b)], &vals.select(0, b), true),
            1e-15,
        );
        close(
            &sc[0].select(0, b),
            &x.select(0, 0)
                .masked_scatter(&masks.select(0, b), &vals.select(1, 0).select(0, b)),
            0.0,
        );
    }
}
