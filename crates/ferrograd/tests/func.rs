//! Composable transforms (`ferrograd::func`): vmap against loops, per-sample gradients, nested
//! derivatives, Jacobians and Hessians against `functional`, levels, randomness and errors.
//! Expected values come from mathematics or from loops of the untransformed function.

use ferrograd::func::{self, Func, Randomness, VmapOptions};
use ferrograd::{DType, Tensor};

fn close(a: &Tensor, b: &Tensor, tol: f64) {
    assert_eq!(a.shape(), b.shape(), "shapes differ");
    let (x, y) = (a.to_vec::<f64>(), b.to_vec::<f64>());
    for (i, (p, q)) in x.iter().zip(&y).enumerate() {
        assert!((p - q).abs() <= tol * (1.0 + q.abs()), "element {i}: {p} vs {q}");
    }
}

fn randn(shape: &[usize]) -> Tensor {
    Tensor::randn_with(shape, DType::F64)
}

#[test]
fn vmap_matches_a_loop_for_an_mlp() {
    let w1 = randn(&[5, 4]);
    let w2 = randn(&[3, 5]);
    let xs = randn(&[7, 4]);
    let (a, b) = (w1.clone(), w2.clone());
    let f = Func::scalar(move |x| b.matmul(&a.matmul(&x[0]).tanh()).softmax(0));
    let got = func::vmap(&f).call(&[xs.clone()]).unwrap();
    let want: Vec<Tensor> = (0..7)
        .map(|i| f.call(&[xs.select(0, i)]).unwrap()[0].clone())
        .collect();
    close(&got[0], &Tensor::stack(&want, 0), 1e-12);
}

#[test]
fn per_sample_gradients_equal_the_loop() {
    let w = randn(&[3, 4]);
    let xs = randn(&[6, 4]);
    let ys = randn(&[6, 3]);
    let loss = Func::scalar(|a| (&a[0].matmul(&a[1]).tanh() - &a[2]).pow(2.0).sum());
    let per = func::vmap_with(&func::grad(&loss), VmapOptions::in_dims(&[None, Some(0), Some(0)]));
    let g = per.call(&[w.clone(), xs.clone(), ys.clone()]).unwrap();
    assert_eq!(g[0].shape(), &[6, 3, 4]);
    for i in 0..6 {
        let wi = w.detach().requires_grad_(true);
        let l = (&wi.matmul(&xs.select(0, i)).tanh() - &ys.select(0, i)).pow(2.0).sum();
        l.backward();
        close(&g[0].select(0, i), &wi.grad().unwrap(), 1e-12);
    }
    assert!(!g[0].requires_grad());
}

#[test]
fn nested_grads_and_hessians() {
    let f = Func::scalar(|a| a[0].pow(3.0).sum());
    let x = Tensor::new([1.0f64, 2.0]).to_dtype(DType::F64);
    let h = func::hessian(&f).call(&[x.clone()]).unwrap();
    close(&h[0], &Tensor::new([[6.0, 0.0], [0.0, 12.0]]).to_dtype(DType::F64), 1e-12);
    let jr = func::jacfwd(&func::jacrev(&f)).call(&[x.clone()]).unwrap();
    close(&jr[0], &h[0], 1e-12);
    let rr = func::jacrev(&func::jacrev(&f)).call(&[x]).unwrap();
    close(&rr[0], &h[0], 1e-12);
}

#[test]
fn no_perturbation_confusion() {
    // d/dx [x * d/dy (x + y)] = d/dx x = 1, whatever y is (a naive tape gives 2).
    let outer = Func::scalar(|a| {
        let x = a[0].clone();
        let xc = x.clone();
        let inner = Func::scalar(move |b| (&xc + &b[0]).sum());
        let dy = func::grad(&inner).call(&[x.clone()]).unwrap()[0].clone();
        (&x * &dy).sum()
    });
    let g = func::grad(&outer).call(&[Tensor::scalar(3.0)]).unwrap();
    assert_eq!(g[0].item(), 1.0);
}

#[test]
fn vmap_of_vmap_and_grad_of_vmap() {
    let xs = randn(&[2, 3, 4]);
    let f = Func::scalar(|a| a[0].sin().sum());
    let vv = func::vmap(&func::vmap(&f)).call(&[xs.clone()]).unwrap();
    close(&vv[0], &xs.sin().sum_dims(&[2], false), 1e-12);
    let total = Func::scalar({
        let f = f.clone();
        move |a| func::vmap(&f).call(a).unwrap()[0].sum()
    });
    let g = func::grad(&total).call(&[xs.clone()]).unwrap();
    close(&g[0], &xs.cos(), 1e-12);
}

#[test]
fn randomness_modes() {
    let f = Func::scalar(|a| &a[0] + &Tensor::randn_with(&[2], DType::F64));
    let xs = Tensor::full_with(&[3, 2], 0.0, DType::F64);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| func::vmap(&f).call(&[xs.clone()])));
    assert!(r.is_err());
    let same = VmapOptions { randomness: Randomness::Same, ..VmapOptions::default() };
    let y = func::vmap_with(&f, same).call(&[xs.clone()]).unwrap()[0].clone();
    close(&y.select(0, 0), &y.select(0, 2), 0.0);
    let diff = VmapOptions { randomness: Randomness::Different, ..VmapOptions::default() };
    let y = func::vmap_with(&f, diff).call(&[xs]).unwrap()[0].clone();
    assert_ne!(y.select(0, 0).to_vec::<f64>(), y.select(0, 2).to_vec::<f64>());
}

#[test]
fn item_inside_vmap_is_an_error() {
    let f = Func::new(|a| Ok(vec![Tensor::scalar(a[0].try_item()? as f32)]));
    let e = func::vmap(&f).call(&[Tensor::zeros(&[3])]).unwrap_err();
    assert!(e.to_string().contains("vmap: It looks like you're calling .item()"), "{e}");
}

#[test]
fn tmp_jacfwd_alone() {
    let f = Func::scalar(|a| a[0].pow(3.0));
    let x = Tensor::new([1.0f64, 2.0]).to_dtype(DType::F64);
    let j = func::jacfwd(&f).call(&[x.clone()]).unwrap();
    close(&j[0], &Tensor::new([[3.0, 0.0], [0.0, 12.0]]).to_dtype(DType::F64), 1e-12);
}

#[test]
fn tmp_jacrev_jacrev() {
    let f = Func::scalar(|a| a[0].pow(3.0).sum());
    let x = Tensor::new([1.0f64, 2.0]).to_dtype(DType::F64);
    let rr = func::jacrev(&func::jacrev(&f)).call(&[x]).unwrap();
    close(&rr[0], &Tensor::new([[6.0, 0.0], [0.0, 12.0]]).to_dtype(DType::F64), 1e-12);
}
