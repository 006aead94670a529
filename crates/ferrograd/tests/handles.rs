//! Tensors, storages and nodes are written through their `Arc` when they have one handle
//! (building them, linking a node, recycling a dropped tensor's storage), checked with plain
//! loads instead of `Arc::get_mut`; a node that saved no tensors is validated, run and released
//! without its lock. These tests pin the cases where a second handle exists (views, saved
//! tensors, other threads) and the released-graph errors.
//!
//! Expected values are from the mathematics (d/dx sin x = cos x, d/dx (a x) = a).

use ferrograd::{autograd, BackwardOptions, DType, Error, GradOptions, Tensor};

#[test]
fn a_view_keeps_its_storage_when_the_base_is_dropped() {
    let base = Tensor::new([1.0, 2.0, 3.0, 4.0]);
    let view = base.narrow(0, 1, 2);
    drop(base);
    // Dropped tensors' storages are reused for new tensors: none may be the view's.
    let others: Vec<Tensor> = (0..200).map(|i| Tensor::new([i as f32; 2])).collect();
    assert_eq!(view.to_vec::<f32>(), vec![2.0, 3.0]);
    assert_eq!(others[199].to_vec::<f32>(), vec![199.0, 199.0]);
    let scalar = Tensor::scalar(5.0);
    let alias = scalar.reshape(&[1]);
    drop(scalar);
    let fresh: Vec<Tensor> = (0..200).map(|i| Tensor::scalar(i as f32)).collect();
    assert_eq!(alias.to_vec::<f32>(), vec![5.0]);
    assert_eq!(fresh[7].item(), 7.0);
}

#[test]
fn a_saved_input_outlives_the_callers_handle() {
    // sin saves its input; the caller's handle is dropped before the backward.
    let x = Tensor::from_data(0.7, DType::F64).requires_grad_(true);
    let h = &x * 2.0;
    let y = h.sin();
    drop(h);
    let _noise: Vec<Tensor> = (0..100).map(|i| Tensor::scalar(i as f32)).collect();
    y.backward();
    let expected = 2.0 * (1.4f64).cos();
    assert!((x.grad().unwrap().item() - expected).abs() < 1e-15);
}

#[test]
fn released_graphs_error_for_saved_numbers_and_tensors_but_not_for_nothing() {
    let x = Tensor::from_data(0.5, DType::F64).requires_grad_(true);
    // mul by a number: PyTorch saves the number, so the graph is freed by a backward.
    let a = &x * 3.0;
    a.backward();
    assert_eq!(
        a.backward_with(&BackwardOptions::new()),
        Err(Error::BackwardTwice)
    );
    // sin saves its input.
    let b = x.sin();
    b.backward_with(&BackwardOptions::new().retain_graph(true))
        .unwrap();
    b.backward();
    assert_eq!(
        b.backward_with(&BackwardOptions::new()),
        Err(Error::BackwardTwice)
    );
    // add of a number saves nothing: a second backward runs.
    let c = &x + 1.0;
    c.backward();
    c.backward();
    let expected = 3.0 + 2.0 * 0.5f64.cos() + 2.0;
    assert!((x.grad().unwrap().item() - expected).abs() < 1e-15);
    // The failed calls left every `.grad` as it was: one more retained run adds exactly once.
    let d = x.sin();
    let g = autograd::grad(&[&d], &[&x], GradOptions::new().retain_graph(true));
    assert!((g[0].as_ref().unwrap().item() - 0.5f64.cos()).abs() < 1e-15);
    let g = autograd::grad(&[&d], &[&x], GradOptions::new());
    assert!((g[0].as_ref().unwrap().item() - 0.5f64.cos()).abs() < 1e-15);
}

#[test]
fn threads_build_run_and_drop_graphs_on_a_shared_leaf() {
    let x = Tensor::from_data(0.25, DType::F64).requires_grad_(true);
    let per_thread = |x: Tensor| {
        let mut y = x.clone();
        for _ in 0..500 {
            y = &(&y * 1.0001) + &y.sin();
            y = &y * 0.5;
        }
        let g = autograd::grad(&[&y], &[&x], GradOptions::new());
        (y.item(), g[0].as_ref().unwrap().item())
    };
    let reference = per_thread(x.clone());
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let x = x.clone();
            std::thread::spawn(move || per_thread(x))
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), reference);
    }
    // A closed-form check of the chain's derivative, step by step in plain f64.
    let (mut v, mut d) = (0.25f64, 1.0f64);
    for _ in 0..500 {
        d = 0.5 * (1.0001 * d + v.cos() * d);
        v = 0.5 * (1.0001 * v + v.sin());
    }
    assert!((reference.0 - v).abs() < 1e-12);
    assert!((reference.1 - d).abs() < 1e-12);
}

#[test]
fn tensors_made_on_one_thread_and_dropped_on_another_leave_both_correct() {
    let made: Vec<Tensor> = (0..300).map(|i| Tensor::scalar(i as f32)).collect();
    let kept = made[10].clone();
    std::thread::spawn(move || drop(made)).join().unwrap();
    assert_eq!(kept.item(), 10.0);
    let fresh: Vec<Tensor> = (0..300).map(|i| Tensor::scalar(-(i as f32))).collect();
    assert!(fresh
        .iter()
        .enumerate()
        .all(|(i, t)| t.item() == -(i as f64)));
    assert_eq!(kept.item(), 10.0);
}
