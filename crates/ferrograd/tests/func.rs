//! Composable transforms (`ferrograd::func`): vmap against loops, per-sample gradients, nested
//! derivatives, Jacobians and Hessians against `functional`, levels, randomness and errors.
//! Expected values come from mathematics or from loops of the untransformed function.

use ferrograd::func::{self, Func, Randomness, VmapOptions};
use ferrograd::{DType, Tensor};

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
    let got = func::vmap(&f).call(std::slice::from_ref(&xs)).unwrap();
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
    let per = func::vmap_with(
        &func::grad(&loss),
        VmapOptions::in_dims(&[None, Some(0), Some(0)]),
    );
    let g = per.call(&[w.clone(), xs.clone(), ys.clone()]).unwrap();
    assert_eq!(g[0].shape(), &[6, 3, 4]);
    for i in 0..6 {
        let wi = w.detach().requires_grad_(true);
        let l = (&wi.matmul(&xs.select(0, i)).tanh() - &ys.select(0, i))
            .pow(2.0)
            .sum();
        l.backward();
        close(&g[0].select(0, i), &wi.grad().unwrap(), 1e-12);
    }
    assert!(!g[0].requires_grad());
}

#[test]
fn nested_grads_and_hessians() {
    let f = Func::scalar(|a| a[0].pow(3.0).sum());
    let x = Tensor::new([1.0f64, 2.0]).to_dtype(DType::F64);
    let h = func::hessian(&f).call(std::slice::from_ref(&x)).unwrap();
    close(
        &h[0],
        &Tensor::new([[6.0, 0.0], [0.0, 12.0]]).to_dtype(DType::F64),
        1e-12,
    );
    let jr = func::jacfwd(&func::jacrev(&f))
        .call(std::slice::from_ref(&x))
        .unwrap();
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
        let dy = func::grad(&inner).call(std::slice::from_ref(&x)).unwrap()[0].clone();
        (&x * &dy).sum()
    });
    let g = func::grad(&outer).call(&[Tensor::scalar(3.0)]).unwrap();
    assert_eq!(g[0].item(), 1.0);
}

#[test]
fn vmap_of_vmap_and_grad_of_vmap() {
    let xs = randn(&[2, 3, 4]);
    let f = Func::scalar(|a| a[0].sin().sum());
    let vv = func::vmap(&func::vmap(&f))
        .call(std::slice::from_ref(&xs))
        .unwrap();
    close(&vv[0], &xs.sin().sum_dims(&[2], false), 1e-12);
    let total = Func::scalar({
        let f = f.clone();
        move |a| func::vmap(&f).call(a).unwrap()[0].sum()
    });
    let g = func::grad(&total).call(std::slice::from_ref(&xs)).unwrap();
    close(&g[0], &xs.cos(), 1e-12);
}

#[test]
fn randomness_modes() {
    let f = Func::scalar(|a| &a[0] + &Tensor::randn_with(&[2], DType::F64));
    let xs = Tensor::full_with(&[3, 2], 0.0, DType::F64);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        func::vmap(&f).call(std::slice::from_ref(&xs))
    }));
    assert!(r.is_err());
    let same = VmapOptions {
        randomness: Randomness::Same,
        ..VmapOptions::default()
    };
    let y = func::vmap_with(&f, same)
        .call(std::slice::from_ref(&xs))
        .unwrap()[0]
        .clone();
    close(&y.select(0, 0), &y.select(0, 2), 0.0);
    let diff = VmapOptions {
        randomness: Randomness::Different,
        ..VmapOptions::default()
    };
    let y = func::vmap_with(&f, diff).call(&[xs]).unwrap()[0].clone();
    assert_ne!(
        y.select(0, 0).to_vec::<f64>(),
        y.select(0, 2).to_vec::<f64>()
    );
}

#[test]
fn item_inside_vmap_is_an_error() {
    let f = Func::new(|a| Ok(vec![Tensor::scalar(a[0].try_item()? as f32)]));
    let e = func::vmap(&f).call(&[Tensor::zeros(&[3])]).unwrap_err();
    assert!(
        e.to_string()
            .contains("vmap: It looks like you're calling .item()"),
        "{e}"
    );
}

#[test]
fn grad_of_vmap_sums_over_the_batch_for_an_unbatched_argument() {
    let w = randn(&[4]);
    let xs = randn(&[5, 4]);
    let f = Func::scalar(|a| (&a[0] * &a[1]).sin().sum());
    let total = {
        let f = f.clone();
        Func::new(move |a| {
            let o = VmapOptions::in_dims(&[None, Some(0)]);
            Ok(vec![func::vmap_with(&f, o).call(a)?[0].sum()])
        })
    };
    let g = func::grad(&total).call(&[w.clone(), xs.clone()]).unwrap();
    let wl = w.detach().requires_grad_(true);
    (&wl * &xs).sin().sum().backward();
    close(&g[0], &wl.grad().unwrap(), 1e-12);
}

#[test]
fn jacfwd_of_jacrev_is_functional_hessian_and_jacobians_agree() {
    let a = randn(&[3, 3]);
    let f = Func::scalar(move |x| a.matmul(&x[0]).tanh().pow(2.0).sum());
    let x = randn(&[3]);
    let h = func::hessian(&f).call(std::slice::from_ref(&x)).unwrap();
    let g = f.clone();
    let want = ferrograd::functional::hessian(
        move |v: &Tensor| g.call(std::slice::from_ref(v)).unwrap()[0].clone(),
        &x,
    );
    close(&h[0], &want, 1e-10);
    let v = Func::scalar(|x| x[0].sin() * 2.0);
    let jr = func::jacrev(&v).call(std::slice::from_ref(&x)).unwrap();
    let jf = func::jacfwd(&v).call(std::slice::from_ref(&x)).unwrap();
    close(&jr[0], &jf[0], 1e-12);
    close(&jr[0], &(x.cos() * 2.0).diag(0), 1e-12);
}

#[test]
fn vmap_of_jvp_equals_batched_tangents() {
    let f = Func::scalar(|x| x[0].exp() * x[0].sin());
    let x = randn(&[4]);
    let ts = randn(&[6, 4]);
    let (fx, xc) = (f.clone(), x.clone());
    let col = Func::new(move |t| Ok(func::jvp(&fx, std::slice::from_ref(&xc), &t[..1])?.1));
    let got = func::vmap(&col).call(std::slice::from_ref(&ts)).unwrap();
    let d = &(x.exp() * x.sin()) + &(x.exp() * x.cos());
    close(&got[0], &(&ts * &d), 1e-12);
}

#[test]
fn batching_runs_each_primitive_once() {
    // vmap over 50 members records the same nodes as one member: one run per primitive.
    let f = Func::scalar(|a| a[0].tanh().matmul(&a[1]).exp().sum());
    let w = randn(&[4, 2]);
    let one = randn(&[3, 4]).requires_grad_(true);
    let single = f.call(&[one.clone(), w.clone()]).unwrap();
    let xs = randn(&[50, 3, 4]).requires_grad_(true);
    let o = VmapOptions::in_dims(&[Some(0), None]);
    let batched = func::vmap_with(&f, o).call(&[xs, w]).unwrap();
    // The batched graph adds only the vmap crossings: in and out.
    assert_eq!(
        ferrograd::autograd::graph_size(&batched[0]),
        ferrograd::autograd::graph_size(&single[0]) + 2
    );
}

#[test]
fn vmap_argument_errors() {
    let f = Func::scalar(|a| a[0].sin());
    let e = func::vmap(&f)
        .call(&[Tensor::zeros(&[3]), Tensor::zeros(&[4])])
        .unwrap_err();
    assert!(
        e.to_string().contains(
            "Expected all tensors to have the same size in the mapped dimension, got sizes [3, 4]"
        ),
        "{e}"
    );
    let e = func::vmap_with(&f, VmapOptions::in_dims(&[Some(2)]))
        .call(&[Tensor::zeros(&[3])])
        .unwrap_err();
    assert!(e.to_string().contains("Got in_dim=2"), "{e}");
    let g = func::grad(&f).call(&[Tensor::zeros(&[3])]).unwrap_err();
    assert!(
        g.to_string()
            .contains("Expected f(*args) to return a scalar Tensor, got tensor with 1 dims"),
        "{g}"
    );
}

#[test]
fn chunked_and_moved_dims() {
    let f = Func::scalar(|a| a[0].softmax(0));
    let xs = randn(&[4, 7]);
    let o = VmapOptions {
        in_dims: vec![Some(1)],
        out_dims: vec![1],
        chunk_size: Some(3),
        ..VmapOptions::default()
    };
    let got = func::vmap_with(&f, o)
        .call(std::slice::from_ref(&xs))
        .unwrap();
    close(&got[0], &xs.softmax(0), 1e-12);
}

#[test]
fn per_sample_gradients_of_a_convnet_with_integer_targets() {
    use ferrograd::nn;
    let w = randn(&[4, 1, 3, 3]);
    let v = randn(&[3, 16]);
    let xs = randn(&[5, 1, 6, 6]);
    let ts = Tensor::from_vec(vec![0i64, 2, 1, 1, 0], &[5]);
    let loss = |w: &Tensor, v: &Tensor, x: &Tensor, t: &Tensor| {
        let h = nn::conv2d(&x.unsqueeze(0), w, None, Default::default()).tanh();
        let h = nn::max_pool2d(&h, &[2], &[], &[0], &[1], false);
        let logits = h.reshape(&[1, 16]).matmul(&v.t());
        nn::cross_entropy(&logits, &t.unsqueeze(0), Default::default())
    };
    let f = Func::scalar(move |a| loss(&a[0], &a[1], &a[2], &a[3]));
    let per = func::vmap_with(
        &func::grad_with(&f, &[0, 1], false),
        VmapOptions::in_dims(&[None, None, Some(0), Some(0)]),
    );
    let g = per
        .call(&[w.clone(), v.clone(), xs.clone(), ts.clone()])
        .unwrap();
    for i in 0..5 {
        let (wi, vi) = (
            w.detach().requires_grad_(true),
            v.detach().requires_grad_(true),
        );
        loss(&wi, &vi, &xs.select(0, i), &ts.select(0, i)).backward();
        close(&g[0].select(0, i), &wi.grad().unwrap(), 1e-12);
        close(&g[1].select(0, i), &vi.grad().unwrap(), 1e-12);
    }
}

/// `torch.func` transforms differentiate under an outer `no_grad` (PyTorch: "grad ignores
/// an outer no_grad"); their results then carry no graph. A `no_grad` inside `f` is kept.
#[test]
fn transforms_differentiate_under_an_outer_no_grad() {
    let sq = Func::scalar(|a| (&a[0] * &a[0]).sum());
    let x = Tensor::new([1.0f32, 2.0]);
    let w = Tensor::new([1.0f32, 2.0]).requires_grad_(true);
    let _off = ferrograd::no_grad();
    let g = func::grad(&sq).call(std::slice::from_ref(&x)).unwrap();
    assert_eq!(g[0].to_vec::<f32>(), vec![2.0, 4.0]);
    let g = func::grad(&sq).call(std::slice::from_ref(&w)).unwrap();
    assert_eq!(g[0].to_vec::<f32>(), vec![2.0, 4.0]);
    assert!(!g[0].requires_grad());
    let h = func::hessian(&sq).call(std::slice::from_ref(&x)).unwrap();
    assert_eq!(h[0].to_vec::<f32>(), vec![2.0, 0.0, 0.0, 2.0]);
    let (_, t) = func::jvp(&sq, std::slice::from_ref(&x), &[Tensor::ones(&[2])]).unwrap();
    assert_eq!(t[0].item(), 6.0);
    let (y, back) = func::vjp(&sq, std::slice::from_ref(&x)).unwrap();
    assert_eq!(y[0].item(), 5.0);
    assert_eq!(
        back.call(&[Tensor::scalar(1.0)]).unwrap()[0].to_vec::<f32>(),
        vec![2.0, 4.0]
    );
    let j = func::jacrev(&Func::scalar(|a| a[0].exp()))
        .call(&[Tensor::zeros(&[2])])
        .unwrap();
    assert_eq!(j[0].to_vec::<f32>(), vec![1.0, 0.0, 0.0, 1.0]);
    drop(_off);
    // A no_grad inside the function: that part is a constant.
    let inner = Func::scalar(|a| {
        let c = {
            let _off = ferrograd::no_grad();
            &a[0] * &a[0]
        };
        (&c * &a[0]).sum()
    });
    let g = func::grad(&inner).call(&[Tensor::new([3.0f32])]).unwrap();
    assert_eq!(g[0].to_vec::<f32>(), vec![9.0]);
}

/// `clone()` under vmap is a copy: writing into it leaves the caller's tensor alone (it was a
/// shared physical value, so the write went through to the input). Dtype conversions convert
/// the batch.
#[test]
fn clone_and_dtype_conversions_under_vmap() {
    let xs = Tensor::new([[1.0f32, 2.0], [3.0, 4.0]]);
    let f = Func::scalar(|a| {
        let y = a[0].deep_clone();
        y.mul_scalar_(10.0);
        y
    });
    let got = func::vmap(&f).call(std::slice::from_ref(&xs)).unwrap();
    assert_eq!(got[0].to_vec::<f32>(), vec![10.0, 20.0, 30.0, 40.0]);
    assert_eq!(xs.to_vec::<f32>(), vec![1.0, 2.0, 3.0, 4.0], "input intact");
    let to64 = Func::scalar(|a| a[0].to_dtype(DType::F64));
    let got = func::vmap(&to64).call(std::slice::from_ref(&xs)).unwrap();
    assert_eq!(got[0].dtype(), DType::F64);
    assert_eq!(got[0].to_vec::<f64>(), vec![1.0, 2.0, 3.0, 4.0]);
    // Forward mode: the tangent converts with the primal.
    let (_, t) = func::jvp(&to64, &[Tensor::new([1.0f32])], &[Tensor::new([0.5f32])]).unwrap();
    assert_eq!(t[0].dtype(), DType::F64);
}
