//! GradientTape: the TensorFlow seed, nesting for second derivatives, persistence.

use ferrograd::tape::{GradientTape, UnconnectedGradients};
use ferrograd::Tensor;

#[test]
fn the_tensorflow_seed_cell() {
    // x = tf.Variable(5.0); with tf.GradientTape() as t: t.watch(x); y = x**2; t.gradient(y, x)
    let x = Tensor::scalar(5.0);
    let t = GradientTape::new();
    t.watch(&x);
    let y = x.pow(2.0);
    assert_eq!(t.gradient(&y, &[&x])[0].as_ref().unwrap().item(), 10.0);
}

#[test]
fn nested_tapes_give_second_derivatives() {
    let x = Tensor::scalar(3.0);
    let outer = GradientTape::new();
    outer.watch(&x);
    let dy = {
        let inner = GradientTape::new();
        inner.watch(&x);
        let y = x.pow(3.0);
        inner.gradient(&y, &[&x])[0].clone().unwrap()
    };
    assert_eq!(dy.item(), 27.0);
    let d2 = outer.gradient(&dy, &[&x]);
    assert_eq!(d2[0].as_ref().unwrap().item(), 18.0);
}

#[test]
fn unconnected_sources_and_reuse() {
    let (x, u) = (Tensor::scalar(2.0), Tensor::scalar(7.0));
    let t = GradientTape::persistent();
    t.watch(&x);
    let y = x.exp();
    let g = t
        .gradient_ext(&y, &[&x, &u], None, UnconnectedGradients::Zero)
        .unwrap();
    assert_eq!(g[1].as_ref().unwrap().item(), 0.0);
    let g = t.gradient(&y, &[&u]);
    assert!(g[0].is_none());
    let once = GradientTape::new();
    once.watch(&x);
    let z = x.sin();
    let _ = once.gradient(&z, &[&x]);
    assert!(once.try_gradient(&z, &[&x]).is_err());
}
