//! Deep graphs are normal: a 1,000,000-node chain builds, runs backward and drops without
//! overflowing the stack (the engine and every `Drop` are iterative). Run on a thread with a
//! small stack so that any recursion over the graph would fail loudly.

use ferrograd::{autograd, GradOptions, Tensor};

const N: usize = 1_000_000;
const SMALL_STACK: usize = 256 * 1024;

fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn million_node_chain_backward_and_drop() {
    on_small_stack(|| {
        let x = Tensor::scalar(1.0).requires_grad_(true);
        let mut y = x.clone();
        for _ in 0..N {
            y = &y * 1.0; // MulBackward0, one node per step
        }
        y.backward();
        assert_eq!(x.grad().unwrap().item(), 1.0);
        drop(y); // the whole chain is freed here
    });
}

#[test]
fn million_node_chain_dropped_without_backward_keeps_saved_tensors_iteratively() {
    on_small_stack(|| {
        let x = Tensor::scalar(0.5).requires_grad_(true);
        let mut y = x.clone();
        for _ in 0..N {
            y = y.exp().mul_scalar(0.0).add_scalar(0.5); // exp saves its output
        }
        drop(y);
    });
}

#[test]
fn million_node_chain_through_grad_with_create_graph() {
    on_small_stack(|| {
        let x = Tensor::scalar(1.0).requires_grad_(true);
        let mut y = x.clone();
        for _ in 0..N / 4 {
            y = &y * &x.mul_scalar(0.0).add_scalar(1.0);
        }
        let g = autograd::grad(&[&y], &[&x], GradOptions::new().create_graph(true));
        let g = g[0].clone().unwrap();
        assert_eq!(g.item(), 1.0); // y = x * 1 * 1 * ...
        assert!(g.requires_grad());
        drop(y);
        drop(g);
    });
}

#[test]
fn million_node_chain_whose_last_handle_is_a_grad_fn() {
    on_small_stack(|| {
        let x = Tensor::scalar(1.0).requires_grad_(true);
        let mut y = x.clone();
        for _ in 0..N {
            y = y.mul_scalar(1.0); // saves nothing: the nodes are linked only by their edges
        }
        let f = y.grad_fn().unwrap();
        drop(y);
        assert_eq!(f.name(), "MulBackward0");
        drop(f); // the node, not a tensor, releases the chain
    });
}
