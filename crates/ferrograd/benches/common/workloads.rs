//! The performance workloads W1-W7 of the performance issue, shared by the criterion benches
//! (`benches/workloads.rs`) and the side-by-side runner (`examples/bench_workloads.rs`, driven by
//! `bench/compare.py`, whose PyTorch twins are the same programs line for line).
#![allow(dead_code)]

use ferrograd::nn::{self, ClassOptions};
use ferrograd::{autograd, DType, GradOptions, Tensor};

/// W1: 2,500 x `y = y*1.0001 + sin(y); y = y*0.5` (10,000 scalar ops), forward and backward.
pub fn w1_chain() -> f64 {
    let x = Tensor::scalar(0.5).requires_grad_(true);
    let mut y = x.clone();
    for _ in 0..2_500 {
        y = &(&y * 1.0001) + &y.sin();
        y = &y * 0.5;
    }
    y.backward();
    x.grad().unwrap().item()
}

/// A two-layer tanh MLP with its data, trained by plain SGD.
pub struct Mlp {
    pub w1: Tensor,
    pub b1: Tensor,
    pub w2: Tensor,
    pub b2: Tensor,
    pub x: Tensor,
    pub target: Tensor,
}

impl Mlp {
    /// Layers `input -> hidden -> classes` (PyTorch's Linear layout, weight `[out, in]`) and one
    /// batch of random inputs with class targets.
    pub fn new(input: usize, hidden: usize, classes: usize, batch: usize) -> Mlp {
        ferrograd::manual_seed(0);
        let init = |shape: &[usize], fan_in: usize| {
            let bound = 1.0 / (fan_in as f64).sqrt();
            (&(&Tensor::rand(shape) * (2.0 * bound)) - bound).requires_grad_(true)
        };
        let target: Vec<i64> = (0..batch).map(|i| (i * 7 % classes) as i64).collect();
        Mlp {
            w1: init(&[hidden, input], input),
            b1: init(&[hidden], input),
            w2: init(&[classes, hidden], hidden),
            b2: init(&[classes], hidden),
            x: Tensor::randn(&[batch, input]),
            target: Tensor::from_data(target, DType::I64),
        }
    }

    /// One training step: forward, cross-entropy, backward, `p -= 0.01 * p.grad`, zero grads.
    /// Returns the loss.
    pub fn step(&self) -> f64 {
        let h = nn::linear(&self.x, &self.w1, Some(&self.b1)).tanh();
        let logits = nn::linear(&h, &self.w2, Some(&self.b2));
        let loss = nn::cross_entropy(&logits, &self.target, ClassOptions::default());
        loss.backward();
        let _guard = ferrograd::no_grad();
        for p in [&self.w1, &self.b1, &self.w2, &self.b2] {
            let g = p.grad().unwrap();
            p.sub_(&(&g * 0.01));
            p.set_grad(None);
        }
        loss.item()
    }
}

/// W2: MLP 64-128-10, batch 32.
pub fn w2_mlp() -> Mlp {
    Mlp::new(64, 128, 10, 32)
}

/// W3: MLP 784-1024-10, batch 256.
pub fn w3_mlp() -> Mlp {
    Mlp::new(784, 1024, 10, 256)
}

/// W4 operands: two random `n x n` f32 matrices, requiring grad.
pub fn w4_operands(n: usize) -> (Tensor, Tensor) {
    ferrograd::manual_seed(0);
    (
        Tensor::randn(&[n, n]).requires_grad_(true),
        Tensor::randn(&[n, n]).requires_grad_(true),
    )
}

/// W4 forward: `A @ B` (no graph).
pub fn w4_forward(a: &Tensor, b: &Tensor) -> Tensor {
    let _guard = ferrograd::no_grad();
    a.matmul(b)
}

/// W4 backward: `sum(A @ B).backward()` (forward included, as in PyTorch's measurement).
pub fn w4_backward(a: &Tensor, b: &Tensor) {
    a.matmul(b).sum().backward();
    a.set_grad(None);
    b.set_grad(None);
}

/// W4B operands: a batch of 64 products of 128 x 128 f32 matrices (batched matmul).
pub fn w4b_operands() -> (Tensor, Tensor) {
    ferrograd::manual_seed(0);
    (
        Tensor::randn(&[64, 128, 128]).requires_grad_(true),
        Tensor::randn(&[64, 128, 128]).requires_grad_(true),
    )
}

/// W5 input: 1e6 f32 points on [-7, 7] (seed 002 at scale).
pub fn w5_input() -> Tensor {
    Tensor::linspace(-7.0, 7.0, 1_000_000)
}

/// W5: tanh and its third derivative via create_graph, as seed 002 computes it.
pub fn w5_tanh3(x: &Tensor) -> Tensor {
    let x = x.detach().requires_grad_(true);
    let y = x.tanh();
    let ones = x.ones_like();
    let opts = || {
        GradOptions::new()
            .grad_outputs([ones.clone()])
            .create_graph(true)
    };
    let a = autograd::grad(&[&y], &[&x], opts())[0].clone().unwrap();
    let b = autograd::grad(&[&a], &[&x], opts())[0].clone().unwrap();
    let c = autograd::grad(&[&b], &[&x], GradOptions::new().grad_outputs([ones]))[0]
        .clone()
        .unwrap();
    // Deferred elementwise work is computed here, inside the timed region.
    c.realize();
    c
}

/// W6 input: 1e7 random f32.
pub fn w6_input() -> Tensor {
    ferrograd::manual_seed(0);
    Tensor::randn(&[10_000_000])
}

/// W6: `(exp(sin(x)) * x + 1).sum()`, forward and backward; returns the gradient.
pub fn w6_fused(x: &Tensor) -> Tensor {
    let x = x.detach().requires_grad_(true);
    let y = (&(&x.sin().exp() * &x) + 1.0).sum();
    y.backward();
    let g = x.grad().unwrap();
    g.realize();
    g
}
