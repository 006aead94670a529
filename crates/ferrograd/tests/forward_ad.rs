//! Forward mode against mathematics and against reverse mode: closed-form tangents, the
//! error messages of misuse, levels, reverse-over-forward and forward-over-reverse, custom
//! functions, checkpoints and million-op chains. (Every op of the table is checked in forward
//! mode, batched too, by `tests/gradcheck.rs`.)

use ferrograd::function::{apply, checkpoint, try_apply, Context, Function};
use ferrograd::{autograd, forward_ad, DType, GradOptions, Tensor};

fn f64s(v: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape)
}

#[test]
fn tangents_of_seed_functions_match_closed_forms() {
    let _level = forward_ad::dual_level();
    // Seed 002: tanh and its derivative 1 - tanh^2 at -2.
    let x = forward_ad::make_dual(&f64s(&[-2.0], &[1]), &f64s(&[1.0], &[1]));
    let t = x.tanh().tangent().unwrap().item();
    let th = (-2.0f64).tanh();
    assert!((t - (1.0 - th * th)).abs() < 1e-15);
    // Seed 004: f(w, z) = exp(3w + cos z) + 3(w^2 + sin 2z), tangent along (1, 0) and (0, 1).
    let f = |w: &Tensor, z: &Tensor| {
        &(&w.mul_scalar(3.0) + &z.cos()).exp()
            + &(&w.pow(2.0) + &z.mul_scalar(2.0).sin()).mul_scalar(3.0)
    };
    let (w0, z0) = (1.0f64, 1.0f64);
    let e = (3.0 * w0 + z0.cos()).exp();
    for (dw, dz, expected) in [
        (1.0, 0.0, 3.0 * e + 6.0 * w0),
        (0.0, 1.0, -z0.sin() * e + 6.0 * (2.0 * z0).cos()),
    ] {
        let w = forward_ad::make_dual(&f64s(&[w0], &[]), &f64s(&[dw], &[]));
        let z = forward_ad::make_dual(&f64s(&[z0], &[]), &f64s(&[dz], &[]));
        let t = f(&w, &z).tangent().unwrap().item();
        assert!(
            (t - expected).abs() < 1e-12 * expected.abs(),
            "{t} vs {expected}"
        );
    }
    // A matrix function: d inv(A) = -inv(A) dA inv(A); d det(A) = det(A) tr(inv(A) dA).
    let a = f64s(&[2.0, 1.0, 0.5, 3.0], &[2, 2]);
    let da = f64s(&[0.1, -0.2, 0.3, 0.4], &[2, 2]);
    let ad = forward_ad::make_dual(&a, &da);
    let inv = a.inv();
    let expected = -&inv.matmul(&da).matmul(&inv);
    let got = ad.inv().tangent().unwrap();
    assert!(got
        .to_vec::<f64>()
        .iter()
        .zip(expected.to_vec::<f64>())
        .all(|(g, e)| (g - e).abs() < 1e-14));
    let det_t = ad.det().tangent().unwrap().item();
    let expected = a.det().item() * inv.matmul(&da).trace().item();
    assert!((det_t - expected).abs() < 1e-13);
}

#[test]
fn misuse_gets_pytorchs_messages_and_levels_end_cleanly() {
    let p = f64s(&[1.0, 2.0], &[2]);
    let e = forward_ad::try_make_dual(&p, &p).unwrap_err().to_string();
    assert!(
        e.contains("no level exists, make sure to enter_dual_level() first"),
        "{e}"
    );
    let x;
    {
        let _level = forward_ad::dual_level();
        let e = forward_ad::try_dual_level().err().unwrap().to_string();
        assert!(e.contains("Nested forward mode AD is not supported"), "{e}");
        let e = forward_ad::try_make_dual(&p, &f64s(&[1.0], &[1]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("Tensor is of size [2] while the given forward gradient is of size [1]"),
            "{e}"
        );
        let e = forward_ad::try_make_dual(&Tensor::new([1, 2]), &p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("floating point"), "{e}");
        x = forward_ad::make_dual(&p, &p);
        let e = forward_ad::try_make_dual(&x, &p).unwrap_err().to_string();
        assert!(e.contains("already has a tangent"), "{e}");
        let e = forward_ad::try_make_dual_batched(&p, &p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a batch of tangents"), "{e}");
        assert!(x.exp().tangent().is_some());
    }
    // After the level: no tangents, and a new level does not see the old ones.
    assert!(x.tangent().is_none() && x.exp().tangent().is_none());
    let _level = forward_ad::dual_level();
    assert!(x.exp().tangent().is_none());
    // The dual is a view of its primal: same values, and the primal has no tangent.
    let (primal, t) = forward_ad::unpack_dual(&forward_ad::make_dual(&p, &p));
    assert_eq!(primal.to_vec::<f64>(), p.to_vec::<f64>());
    assert_eq!(t.unwrap().to_vec::<f64>(), p.to_vec::<f64>());
    assert!(forward_ad::unpack_dual(&primal).1.is_none());
}

#[test]
fn reverse_over_forward_and_forward_over_reverse() {
    let x = f64s(&[0.5, -1.5], &[2]).requires_grad_(true);
    let _level = forward_ad::dual_level();
    let xd = forward_ad::make_dual(&x, &x.ones_like());
    // Tangent of x^3 along ones is 3x^2; its gradient in reverse mode is 6x.
    let t = xd.pow(3.0).tangent().unwrap();
    assert!(t.requires_grad());
    t.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![3.0, -9.0]);
    // Forward over reverse: the tangent of grad(sum(exp(x) * x)) along v is H v.
    let v = f64s(&[2.0, -1.0], &[2]);
    let xd = forward_ad::make_dual(&x, &v);
    let y = (&xd.exp() * &xd).sum();
    let g = autograd::grad(&[&y], &[&xd], GradOptions::new().create_graph(true));
    let hv = g[0].as_ref().unwrap().tangent().unwrap().to_vec::<f64>();
    for (k, (&xk, &vk)) in [0.5f64, -1.5].iter().zip(&[2.0, -1.0]).enumerate() {
        let expected = (xk + 2.0) * xk.exp() * vk; // d2/dx2 x e^x = (x + 2) e^x
        assert!((hv[k] - expected).abs() < 1e-13, "{} vs {expected}", hv[k]);
    }
}

#[test]
fn batched_tangents_give_the_whole_jacobian_in_one_pass() {
    let _level = forward_ad::dual_level();
    let x = f64s(&[0.1, 0.2, 0.3], &[3]);
    let xd = forward_ad::make_dual_batched(&x, &Tensor::eye_with(3, DType::F64));
    let y = xd.softmax(0);
    let j = y.tangent().unwrap(); // j[k] = d softmax / d x_k
    let s = x.softmax(0).to_vec::<f64>();
    for k in 0..3 {
        for i in 0..3 {
            let expected = s[i] * (if i == k { 1.0 } else { 0.0 } - s[k]);
            let got = j.to_vec::<f64>()[k * 3 + i];
            assert!((got - expected).abs() < 1e-15);
        }
    }
    // An unbatched dual in the same level counts as the same tangent for every member.
    let w = forward_ad::make_dual(&f64s(&[2.0], &[1]), &f64s(&[1.0], &[1]));
    let z = (&xd * &w).tangent().unwrap();
    assert_eq!(z.shape(), &[3, 3]);
    let e = forward_ad::try_make_dual_batched(&x, &Tensor::zeros(&[2, 3])).unwrap_err();
    assert!(e
        .to_string()
        .contains("batches of 3 tangents; got batch size 2"));
}

struct Cube;
impl Function for Cube {
    fn name(&self) -> &'static str {
        "CubeBackward"
    }
    fn forward(&self, ctx: &mut Context, x: &[Tensor]) -> Tensor {
        ctx.save_for_backward(&[&x[0]]);
        x[0].pow(3.0)
    }
    fn backward(&self, ctx: &Context, g: &Tensor) -> Vec<Option<Tensor>> {
        vec![Some(g * &ctx.saved_tensors()[0].pow(2.0).mul_scalar(3.0))]
    }
    fn jvp(&self, ctx: &Context, t: &[Option<Tensor>]) -> Option<Tensor> {
        Some(t[0].as_ref()? * &ctx.saved_tensors()[0].pow(2.0).mul_scalar(3.0))
    }
}

struct NoJvp;
impl Function for NoJvp {
    fn name(&self) -> &'static str {
        "NoJvpBackward"
    }
    fn forward(&self, _: &mut Context, x: &[Tensor]) -> Tensor {
        x[0].exp()
    }
    fn backward(&self, _: &Context, g: &Tensor) -> Vec<Option<Tensor>> {
        vec![Some(g.clone())]
    }
}

#[test]
fn custom_functions_and_checkpoints_in_forward_mode() {
    let _level = forward_ad::dual_level();
    let x = forward_ad::make_dual(&f64s(&[2.0, -1.0], &[2]), &f64s(&[1.0, 2.0], &[2]));
    assert_eq!(
        apply(Cube, &[&x]).tangent().unwrap().to_vec::<f64>(),
        vec![12.0, 6.0]
    );
    let e = try_apply(NoJvp, &[&x]).unwrap_err().to_string();
    assert!(
        e.contains("You must implement the jvp function for custom autograd.Function"),
        "{e}"
    );
    // Without tangents a function without jvp is fine.
    assert!(try_apply(NoJvp, &[&f64s(&[1.0], &[1])]).is_ok());
    // Batched: the user's rule runs per member.
    let xb = forward_ad::make_dual_batched(&f64s(&[2.0], &[1]), &f64s(&[1.0, 10.0], &[2, 1]));
    assert_eq!(
        apply(Cube, &[&xb]).tangent().unwrap().to_vec::<f64>(),
        vec![12.0, 120.0]
    );
    // A checkpointed segment runs again on the duals.
    let y = checkpoint(|xs| xs[0].sin().exp(), &[&x]);
    let got = y.tangent().unwrap().to_vec::<f64>();
    for (k, (&v, &t)) in [2.0f64, -1.0].iter().zip(&[1.0, 2.0]).enumerate() {
        assert!((got[k] - v.sin().exp() * v.cos() * t).abs() < 1e-14);
    }
}

#[test]
fn a_million_op_chain_in_forward_mode_builds_and_drops() {
    let _level = forward_ad::dual_level();
    let x = forward_ad::make_dual(&f64s(&[0.5], &[]), &f64s(&[1.0], &[]));
    let mut y = x.clone();
    for _ in 0..1_000_000 {
        y = y.mul_scalar(1.0);
    }
    assert_eq!(y.tangent().unwrap().item(), 1.0);
    // With reverse mode recording too: every tangent is in the graph.
    let w = f64s(&[0.5], &[]).requires_grad_(true);
    let mut y = forward_ad::make_dual(&w, &f64s(&[1.0], &[]));
    for _ in 0..1_000_000 {
        y = y.sin();
    }
    let t = y.tangent().unwrap();
    assert!(t.requires_grad());
    drop(y);
    drop(t);
}

#[test]
fn forward_over_reverse_through_saved_outputs_stays_differentiable_and_frees_its_graph() {
    use ferrograd::functional::{self, Options};
    // exp and tanh save their outputs; the Hessian's own derivative runs through them.
    let x = f64s(&[0.5, -1.0], &[2]).requires_grad_(true);
    let cg = Options {
        create_graph: true,
        ..Default::default()
    };
    let h = functional::hessian_many(
        |x| &x[0].exp().sum() + &x[0].tanh().sum(),
        std::slice::from_ref(&x),
        cg,
    );
    // H = diag(e^x + tanh''(x)); d/dx of its trace is e^x + tanh'''(x).
    let hd = h[0][0].to_vec::<f64>();
    h[0][0].sum().backward();
    let g = x.grad().unwrap().to_vec::<f64>();
    for (k, &v) in [0.5f64, -1.0].iter().enumerate() {
        let t = v.tanh();
        let d2 = -2.0 * t * (1.0 - t * t);
        let d3 = (1.0 - t * t) * (6.0 * t * t - 2.0);
        assert!((hd[k * 3] - (v.exp() + d2)).abs() < 1e-13, "H[{k}][{k}]");
        assert!(
            (g[k] - (v.exp() + d3)).abs() < 1e-12,
            "{} vs {}",
            g[k],
            v.exp() + d3
        );
    }
    // Nothing is kept alive by a cycle between a node and its saved output's tangent.
    let weak = {
        let x = f64s(&[0.3], &[1]).requires_grad_(true);
        let weak = x.downgrade();
        let _level = forward_ad::dual_level();
        let xd = forward_ad::make_dual(&x, &f64s(&[1.0], &[1]));
        let y = xd.exp().sum();
        let g = autograd::grad(&[&y], &[&xd], GradOptions::new().create_graph(true));
        let hv = g[0].as_ref().unwrap().tangent().unwrap();
        assert!((hv.item() - 0.3f64.exp()).abs() < 1e-15);
        weak
    };
    assert!(weak.upgrade().is_none(), "the graph was leaked");
}

struct WrongJvp;
impl Function for WrongJvp {
    fn name(&self) -> &'static str {
        "WrongJvpBackward"
    }
    fn forward(&self, _: &mut Context, x: &[Tensor]) -> Tensor {
        x[0].mul_scalar(2.0)
    }
    fn backward(&self, _: &Context, g: &Tensor) -> Vec<Option<Tensor>> {
        vec![Some(g.mul_scalar(2.0))]
    }
    fn jvp(&self, _: &Context, _: &[Option<Tensor>]) -> Option<Tensor> {
        Some(Tensor::ones(&[3]).to_dtype(DType::F64))
    }
}

#[test]
fn a_custom_jvp_of_the_wrong_shape_is_pytorchs_error_not_a_panic() {
    let _level = forward_ad::dual_level();
    let x = forward_ad::make_dual(&f64s(&[1.0, 1.0], &[2]), &f64s(&[1.0, 1.0], &[2]));
    let e = try_apply(WrongJvp, &[&x]).unwrap_err().to_string();
    // PyTorch 2.15's wording for the same mistake.
    assert!(
        e.ends_with("Trying to set a forward gradient that has a different size than that of the original Tensor, this is not supported. Tensor is of size [2] while the given forward gradient is of size [3]."),
        "{e}"
    );
    // Batched tangents: each member's tangent is checked too.
    let xb = forward_ad::make_dual_batched(&f64s(&[1.0, 1.0], &[2]), &f64s(&[1.0; 4], &[2, 2]));
    assert!(try_apply(WrongJvp, &[&xb]).is_err());
}
