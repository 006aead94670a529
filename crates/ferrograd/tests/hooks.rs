//! Tensor hooks: replacement, order (including retain_grad), leaves, removal, grad(), leaks.

use ferrograd::{autograd, BackwardOptions, DType, GradOptions, Tensor};
use std::sync::{Arc, Mutex};

#[test]
fn hooks_run_in_registration_order_and_retain_grad_sees_their_result() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let x = Tensor::new([1.0, 2.0]).requires_grad_(true);
    let y = &x * 3.0;
    let (l1, l2) = (log.clone(), log.clone());
    y.retain_grad(); // registered first, still runs last
    let _h1 = y.register_hook(move |g| {
        l1.lock()
            .unwrap()
            .push(format!("first {:?}", g.to_vec::<f32>()));
        Some(g.add_scalar(1.0))
    });
    let _h2 = y.register_hook(move |g| {
        l2.lock()
            .unwrap()
            .push(format!("second {:?}", g.to_vec::<f32>()));
        Some(g.mul_scalar(10.0))
    });
    y.sum().backward();
    assert_eq!(
        *log.lock().unwrap(),
        vec!["first [1.0, 1.0]", "second [2.0, 2.0]"]
    );
    assert_eq!(y.grad().unwrap().to_vec::<f32>(), vec![20.0, 20.0]);
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![60.0, 60.0]);
}

#[test]
fn leaf_hooks_see_the_total_gradient_once_before_accumulation() {
    let calls = Arc::new(Mutex::new(0));
    let c = calls.clone();
    let x = Tensor::scalar(2.0).requires_grad_(true);
    let _h = x.register_hook(move |g| {
        *c.lock().unwrap() += 1;
        Some(g.mul_scalar(0.5))
    });
    // x is used twice; its hook sees the sum 2x + 3 = 7 once.
    (&x.pow(2.0) + &x.mul_scalar(3.0)).backward();
    assert_eq!(*calls.lock().unwrap(), 1);
    assert_eq!(x.grad().unwrap().item(), 3.5);
}

#[test]
fn removed_hooks_no_longer_run_and_none_keeps_the_gradient() {
    let x = Tensor::scalar(1.0).requires_grad_(true);
    let h = x.register_hook(|g| Some(g.mul_scalar(100.0)));
    let _keep = x.register_hook(|_| None);
    h.remove();
    x.mul_scalar(2.0).backward();
    assert_eq!(x.grad().unwrap().item(), 2.0);
}

#[test]
fn hooks_apply_in_autograd_grad_too() {
    let x = Tensor::scalar(3.0).requires_grad_(true);
    let y = x.pow(2.0);
    let _h = y.register_hook(|g| Some(g.mul_scalar(2.0)));
    let g = autograd::grad(&[y.mul_scalar(1.0)], &[&x], GradOptions::new());
    assert_eq!(g[0].as_ref().unwrap().item(), 12.0);
}

#[test]
fn a_hook_of_the_wrong_shape_is_an_error() {
    let x = Tensor::new([1.0, 2.0]).requires_grad_(true);
    let y = &x * 2.0;
    let _h = y.register_hook(|_| Some(Tensor::zeros(&[3])));
    let e = y.sum().backward_with(&BackwardOptions::new()).unwrap_err();
    assert!(
        e.to_string()
            .contains("hook 'hook' has changed the size of value (got [3]"),
        "{e}"
    );
}

#[test]
fn hooks_that_capture_weak_handles_do_not_leak() {
    let x = Tensor::new([1.0]).requires_grad_(true);
    let y = &x * 2.0;
    let weak_self = y.downgrade();
    let _h = y.register_hook(move |_| {
        assert!(weak_self.upgrade().is_some());
        None
    });
    let probe = y.downgrade();
    y.sum().backward();
    drop(y);
    assert!(probe.upgrade().is_none(), "the tensor was freed");
}

#[test]
fn hooks_on_tensors_that_do_not_require_grad_are_refused() {
    assert!(Tensor::scalar(1.0).try_register_hook(|_| None).is_err());
}

#[test]
fn node_hooks_run_in_pytorchs_order_and_can_be_removed() {
    // Order: the output tensor's hooks, its retained gradient, the node's pre-hooks, the rule,
    // the node's post-hooks.
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let x = Tensor::scalar(2.0).requires_grad_(true);
    let y = x.pow(2.0);
    let node = y.grad_fn().unwrap();
    let (l1, l2, l3) = (log.clone(), log.clone(), log.clone());
    let _pre = node.register_prehook(move |g| {
        l1.lock().unwrap().push(format!("node pre {}", g.item()));
        Some(g.mul_scalar(10.0))
    });
    let _post = node.register_hook(move |inputs, out| {
        l2.lock().unwrap().push(format!(
            "node post {} {}",
            inputs[0].as_ref().unwrap().item(),
            out.item()
        ));
        None
    });
    let _t = y.register_hook(move |g| {
        l3.lock().unwrap().push(format!("tensor {}", g.item()));
        Some(g.add_scalar(1.0))
    });
    y.retain_grad();
    y.backward();
    assert_eq!(
        *log.lock().unwrap(),
        vec!["tensor 1", "node pre 2", "node post 80 20"]
    );
    assert_eq!(
        y.grad().unwrap().item(),
        2.0,
        "retained before the node's pre-hook"
    );
    assert_eq!(x.grad().unwrap().item(), 80.0);
    _pre.remove();
    _post.remove();
    x.set_grad(None);
    let y = x.pow(2.0);
    y.backward();
    assert_eq!(x.grad().unwrap().item(), 4.0);
}

/// PyTorch keeps a tensor's hooks on its `grad_fn`: `y.register_hook(f); y = y * 3` still
/// runs `f` (figures from PyTorch 2: hooks see 3 then 6, the node's pre-hook 6, and
/// x.grad = 6 cos 0.3 = 5.732018947601318).
#[test]
fn hooks_of_a_dropped_tensor_still_run_in_order_before_the_nodes() {
    let x = Tensor::from_data(0.3, DType::F64).requires_grad_(true);
    let order = Arc::new(Mutex::new(Vec::new()));
    let y = x.sin();
    let o = order.clone();
    let _h1 = y.register_hook(move |g| {
        o.lock().unwrap().push(("t1", g.item()));
        Some(g.mul_scalar(2.0))
    });
    let o = order.clone();
    let _p = y.grad_fn().unwrap().register_prehook(move |g| {
        o.lock().unwrap().push(("node", g.item()));
        None
    });
    let o = order.clone();
    let _h2 = y.register_hook(move |g| {
        o.lock().unwrap().push(("t2", g.item()));
        None
    });
    let y = &y * 3.0; // the only handle on the first `y` is gone
    y.backward();
    assert_eq!(
        *order.lock().unwrap(),
        vec![("t1", 3.0), ("t2", 6.0), ("node", 6.0)]
    );
    assert!((x.grad().unwrap().item() - 6.0 * 0.3f64.cos()).abs() < 1e-15);
}

#[test]
fn a_removed_hook_of_a_dropped_tensor_does_not_run() {
    let x = Tensor::from_data(0.3, DType::F64).requires_grad_(true);
    let y = x.sin();
    let h = y.register_hook(|g| Some(g.mul_scalar(100.0)));
    let y = &y * 3.0;
    h.remove();
    y.backward();
    assert!((x.grad().unwrap().item() - 3.0 * 0.3f64.cos()).abs() < 1e-15);
}

#[test]
fn hooks_of_a_dropped_tensor_run_in_grad_and_with_a_retained_graph() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let x = Tensor::from_data(0.5, DType::F64).requires_grad_(true);
    let y = x.exp();
    let _h = y.register_hook(move |_| {
        c.fetch_add(1, Ordering::Relaxed);
        None
    });
    let z = y.mul_scalar(2.0).sum();
    drop(y);
    let opts = GradOptions::new().retain_graph(true);
    let g = autograd::grad(&[&z], &[&x], opts);
    assert!((g[0].as_ref().unwrap().item() - 2.0 * 0.5f64.exp()).abs() < 1e-15);
    z.backward();
    assert_eq!(calls.load(Ordering::Relaxed), 2);
}

/// A hook sees the gradient of the value it was registered on; an in-place op after it makes a
/// new version with its own hooks, and `retain_grad` follows the new version. Figures from
/// PyTorch 2 (`y = x * 2` with x = [1, 2], then `y.mul_(3)`, then `y.sum().backward()`).
#[test]
fn hooks_stay_with_the_version_they_were_registered_on_and_retain_grad_follows_in_place() {
    type Seen = Arc<Mutex<Vec<(&'static str, Vec<f32>)>>>;
    let log = |seen: &Seen, name: &'static str, factor: Option<f64>| {
        let s = seen.clone();
        move |g: &Tensor| {
            s.lock().unwrap().push((name, g.to_vec::<f32>()));
            factor.map(|f| g.mul_scalar(f))
        }
    };
    // Registered before the in-place op: sees the old version's gradient (3), not 1.
    let seen: Seen = Arc::default();
    let x = Tensor::new([1.0, 2.0]).requires_grad_(true);
    let y = x.mul_scalar(2.0);
    let _a = y.register_hook(log(&seen, "a", None));
    y.mul_scalar_(3.0);
    let _b = y.register_hook(log(&seen, "b", None));
    y.sum().backward();
    assert_eq!(
        *seen.lock().unwrap(),
        vec![("b", vec![1.0, 1.0]), ("a", vec![3.0, 3.0])]
    );
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![6.0, 6.0]);
    // A replacing hook before the in-place op, and one after it: each scales once.
    for before in [true, false] {
        let seen: Seen = Arc::default();
        let x = Tensor::new([1.0, 2.0]).requires_grad_(true);
        let y = x.mul_scalar(2.0);
        if before {
            let _ = y.register_hook(log(&seen, "a", Some(10.0)));
        }
        y.mul_scalar_(3.0);
        if !before {
            let _ = y.register_hook(log(&seen, "b", Some(10.0)));
        }
        y.sum().backward();
        let expected = if before {
            ("a", vec![3.0, 3.0])
        } else {
            ("b", vec![1.0, 1.0])
        };
        assert_eq!(*seen.lock().unwrap(), vec![expected]);
        assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![60.0, 60.0]);
    }
    // Two in-place steps, hooks before the first and after the last.
    let seen: Seen = Arc::default();
    let x = Tensor::new([1.0, 2.0]).requires_grad_(true);
    let y = x.mul_scalar(2.0);
    let _a = y.register_hook(log(&seen, "a", None));
    y.mul_scalar_(3.0);
    y.add_scalar_(1.0);
    let _c = y.register_hook(log(&seen, "c", None));
    y.sum().backward();
    assert_eq!(
        *seen.lock().unwrap(),
        vec![("c", vec![1.0, 1.0]), ("a", vec![3.0, 3.0])]
    );
    // retain_grad before the in-place op: the retained gradient is the new version's.
    let x = Tensor::new([1.0, 2.0]).requires_grad_(true);
    let y = x.mul_scalar(2.0);
    y.retain_grad();
    y.mul_scalar_(3.0);
    y.sum().backward();
    assert_eq!(y.grad().unwrap().to_vec::<f32>(), vec![1.0, 1.0]);
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![6.0, 6.0]);
    // A hook registered before the in-place op on a tensor then dropped: still runs, once.
    let seen: Seen = Arc::default();
    let x = Tensor::new([1.0, 2.0]).requires_grad_(true);
    let y = x.mul_scalar(2.0);
    let _a = y.register_hook(log(&seen, "a", None));
    y.mul_scalar_(3.0);
    let z = y.clone();
    drop(y);
    z.sum().backward();
    assert_eq!(*seen.lock().unwrap(), vec![("a", vec![3.0, 3.0])]);
}
