//! `Tensor::backward_with` / `autograd::backward` with `BackwardOptions`, above all PyTorch's
//! `inputs=`. Expected values are closed forms; the behaviours (which tensors get a `.grad`,
//! which hooks run, the error messages) are PyTorch 2's.

use ferrograd::{autograd, BackwardOptions, Error, Tensor};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

fn vals(t: &Tensor) -> Vec<f64> {
    t.to_vec::<f64>()
}

fn pair() -> (Tensor, Tensor) {
    (
        Tensor::new([1.0, 2.0]).requires_grad_(true),
        Tensor::new([3.0, 4.0]).requires_grad_(true),
    )
}

#[test]
fn only_the_listed_leaves_get_a_gradient() {
    // z = sum(a^2 b^2): dz/da = 2 a b^2 = [18, 64]; b is not listed.
    let (a, b) = pair();
    let y = &a * &b;
    (&y * &y)
        .sum()
        .backward_with(&BackwardOptions::new().inputs([&a]))
        .unwrap();
    assert_eq!(vals(&a.grad().unwrap()), vec![18.0, 64.0]);
    assert!(b.grad().is_none());
}

#[test]
fn a_listed_non_leaf_gets_its_gradient_and_keeps_retaining_it() {
    // z = sum(2 exp(a b)) with inputs = [w = exp(a b)]: dz/dw = 2; nothing below w runs.
    let (a, b) = pair();
    let w = (&a * &b).exp();
    let z = (&w * 2.0).sum();
    z.backward_with(&BackwardOptions::new().inputs([&w]).retain_graph(true))
        .unwrap();
    assert_eq!(vals(&w.grad().unwrap()), vec![2.0, 2.0]);
    assert!(
        w.retains_grad(),
        "PyTorch calls retain_grad on a non-leaf input"
    );
    assert!(a.grad().is_none() && b.grad().is_none());
    // A later plain backward fills (accumulates into) w.grad too, as retain_grad does.
    z.backward();
    assert_eq!(vals(&w.grad().unwrap()), vec![4.0, 4.0]);
    // da = 2 b exp(a b)
    let expect = [2.0 * 3.0 * 3f64.exp(), 2.0 * 4.0 * 8f64.exp()];
    for (g, e) in vals(&a.grad().unwrap()).iter().zip(expect) {
        assert!((g - e).abs() <= 1e-6 * e, "{g} vs {e}");
    }
}

#[test]
fn leaves_and_non_leaves_together_and_accumulation_over_calls() {
    // y = a b, z = sum(y^2): dz/dy = 2y = [6, 16], dz/db = 2 y a = [6, 32], dz/da = 2 y b = [18, 64].
    let (a, b) = pair();
    let y = &a * &b;
    let z = (&y * &y).sum();
    let o = BackwardOptions::new().retain_graph(true);
    z.backward_with(&o.clone().inputs([&y, &b])).unwrap();
    assert_eq!(vals(&y.grad().unwrap()), vec![6.0, 16.0]);
    assert_eq!(vals(&b.grad().unwrap()), vec![6.0, 32.0]);
    assert!(a.grad().is_none());
    z.backward_with(&o.inputs([&y, &a])).unwrap();
    assert_eq!(vals(&y.grad().unwrap()), vec![12.0, 32.0]);
    assert_eq!(vals(&a.grad().unwrap()), vec![18.0, 64.0]);
    assert_eq!(vals(&b.grad().unwrap()), vec![6.0, 32.0]);
}

#[test]
fn the_output_itself_and_an_unreachable_input() {
    // s = x^2 with inputs = [s]: ds/ds = 1 and x gets nothing; an input s does not depend on
    // is no error (PyTorch's backward allows unreachable inputs) and gets no gradient.
    let x = Tensor::scalar(3.0).requires_grad_(true);
    let other = Tensor::scalar(1.0).requires_grad_(true);
    let s = &x * &x;
    s.backward_with(&BackwardOptions::new().inputs([&s, &other]))
        .unwrap();
    assert_eq!(s.grad().unwrap().item(), 1.0);
    assert!(x.grad().is_none() && other.grad().is_none());
}

#[test]
fn hooks_run_only_on_the_path_to_the_inputs() {
    // PyTorch: y (on the path from z to b) runs its hook and fills its retained gradient; u
    // (off the path) and the leaf a (not listed) run nothing.
    let (a, b) = pair();
    let count = |c: &Arc<AtomicUsize>| {
        let c = c.clone();
        move |_: &Tensor| {
            c.fetch_add(1, Ordering::SeqCst);
            None
        }
    };
    let (cy, cu, ca) = (Arc::default(), Arc::default(), Arc::default());
    let y = &a * &b;
    y.retain_grad();
    let _hy = y.register_hook(count(&cy));
    let _ha = a.register_hook(count(&ca));
    let u = a.exp();
    u.retain_grad();
    let _hu = u.register_hook(count(&cu));
    let z = &(&y * &y).sum() + &u.sum();
    z.backward_with(&BackwardOptions::new().inputs([&b]))
        .unwrap();
    assert_eq!(cy.load(Ordering::SeqCst), 1);
    assert_eq!(cu.load(Ordering::SeqCst), 0);
    assert_eq!(ca.load(Ordering::SeqCst), 0);
    assert_eq!(vals(&y.grad().unwrap()), vec![6.0, 16.0]);
    assert!(u.grad().is_none() && a.grad().is_none());
    assert_eq!(vals(&b.grad().unwrap()), vec![6.0, 32.0]);
}

#[test]
fn bad_inputs_are_errors_with_pytorchs_messages_and_change_nothing() {
    let (a, b) = pair();
    let y = &a * &b;
    let z = y.sum();
    let e = z
        .backward_with(&BackwardOptions::new().inputs(Vec::<Tensor>::new()))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "backward: `inputs` argument to `backward()` cannot be empty."
    );
    let plain = Tensor::new([1.0, 1.0]);
    let e = z
        .backward_with(&BackwardOptions::new().inputs([&y, &plain]))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "backward: can't retain_grad on Tensor that has requires_grad=False"
    );
    // The seeds are checked first (PyTorch's order), and nothing was changed by either error.
    let e = y
        .backward_with(&BackwardOptions::new().inputs([&plain]))
        .unwrap_err();
    assert_eq!(e, Error::ImplicitGradNonScalar);
    assert!(!y.retains_grad() && a.grad().is_none() && b.grad().is_none());
    // The graph is intact: a plain backward still works.
    z.backward();
    assert_eq!(vals(&a.grad().unwrap()), vec![3.0, 4.0]);
}

#[test]
fn retain_graph_defaults_to_create_graph_and_an_explicit_false_frees_the_graph() {
    // PyTorch: retain_graph=None means create_graph's value.
    let x = Tensor::scalar(2.0).requires_grad_(true);
    let y = x.pow(3.0);
    y.backward_with(&BackwardOptions::new().create_graph(true))
        .unwrap();
    y.backward_with(&BackwardOptions::new().retain_graph(false))
        .unwrap();
    // 3x^2 twice: the first kept a graph (create_graph), the sum is 24.
    assert_eq!(x.grad().unwrap().item(), 24.0);
    assert_eq!(
        y.backward_with(&BackwardOptions::new()),
        Err(Error::BackwardTwice)
    );
}

#[test]
fn many_outputs_with_their_gradients() {
    // d/dx [ <1, 3x> + <2, x^2> ] = 3 + 4x = [7, 11] at x = [1, 2].
    let x = Tensor::new([1.0, 2.0]).requires_grad_(true);
    let o = BackwardOptions::new().gradients([Tensor::ones(&[2]), Tensor::full(&[2], 2.0)]);
    autograd::backward(&[&x * 3.0, x.pow(2.0)], &o).unwrap();
    assert_eq!(vals(&x.grad().unwrap()), vec![7.0, 11.0]);
    let o = BackwardOptions::new().gradients([Tensor::ones(&[2])]);
    let e = autograd::backward(&[&x * 3.0, x.pow(2.0)], &o).unwrap_err();
    assert_eq!(e.to_string(), "backward: got 2 tensors and 1 gradients");
}
