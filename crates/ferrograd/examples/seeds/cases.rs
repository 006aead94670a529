//! The seed computations of `shared/seed-cases.md`, in Rust. Each case returns the lines the
//! PyTorch program prints; `examples/seeds` prints them and `tests/seeds.rs` checks them.

use ferrograd::{autograd, no_grad, BackwardOptions, DType, GradOptions, PyFloat, Tensor};

/// Python's `print(a, b, ...)`: arguments joined by one space, one entry per printed line.
macro_rules! show {
    ($out:expr, $($arg:expr),+) => {
        $out.extend(vec![$(format!("{}", $arg)),+].join(" ").lines().map(str::to_string))
    };
}

/// Python's `print(x.grad)`: `None` or the tensor.
fn opt(t: Option<Tensor>) -> String {
    t.map_or("None".to_string(), |t| t.to_string())
}

/// Python's `print(bool)`.
fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// The seeds' `"[dw,dz] = [{}, {}]".format(dw.item(), dz.item())`.
fn dw_dz(dw: &Tensor, dz: &Tensor) -> String {
    format!("[dw,dz] = [{}, {}]", PyFloat(dw.item()), PyFloat(dz.item()))
}

fn first_grad(outputs: &[&Tensor], inputs: &[&Tensor], options: GradOptions) -> Tensor {
    autograd::grad(outputs, inputs, options)[0]
        .clone()
        .expect("input is used")
}

pub fn s000_1() -> Vec<String> {
    let mut out = Vec::new();
    let x = Tensor::scalar(5.0);
    show!(out, x);
    x.requires_grad_(true);
    show!(out, x);
    let y = x.pow(2.0);
    show!(out, y);
    y.backward();
    show!(out, opt(x.grad()));
    out
}

pub fn s001_2() -> Vec<String> {
    let mut out = Vec::new();
    let x = Tensor::new([2.0]).requires_grad_(true);
    let y = &(&x.pow(2.0) + &(2.0 * &x)) + 2.0;
    y.backward();
    show!(out, opt(x.grad()));
    out
}

pub fn s002_1() -> Vec<String> {
    let mut out = Vec::new();
    let x = Tensor::ones(&[2, 2]).requires_grad_(true);
    show!(out, x);
    let y = &x + 2.0;
    show!(out, y);
    show!(out, y.grad_fn().unwrap().name());
    let z = &(&y * &y) * 3.0;
    let o = z.mean();
    show!(out, z, o);
    o.backward();
    show!(out, opt(x.grad()));
    out
}

pub fn s002_2() -> Vec<String> {
    let mut out = Vec::new();
    let a = Tensor::new([[0.5, -1.5], [2.0, 3.0]]);
    let a = &(&a * 3.0) / &(&a - 1.0);
    show!(out, py_bool(a.requires_grad()));
    a.requires_grad_(true);
    show!(out, py_bool(a.requires_grad()));
    let b = (&a * &a).sum();
    show!(out, b.grad_fn().unwrap().name());
    out
}

pub fn s002_3() -> Vec<String> {
    let mut out = Vec::new();
    let a = Tensor::new([1.0, 2.0, 3.0, 4.0, 5.0]).requires_grad_(true);
    let l = (&a * &a).sum();
    l.backward();
    show!(out, l);
    show!(out, opt(a.grad()));
    out
}

pub fn s002_4() -> Vec<String> {
    let mut out = Vec::new();
    let x = Tensor::new([0.1, -0.2, 0.3]).requires_grad_(true);
    let mut y = &x * 2.0;
    while y.detach().norm().item() < 1000.0 {
        y = &y * 2.0;
    }
    let y = y.norm();
    show!(out, y);
    y.backward();
    show!(out, opt(x.grad()));
    out
}

pub fn s002_5() -> Vec<String> {
    let mut out = Vec::new();
    let x = Tensor::new([0.1, -0.2, 0.3]).requires_grad_(true);
    show!(out, py_bool(x.requires_grad()));
    show!(out, py_bool(x.pow(2.0).requires_grad()));
    {
        let _guard = no_grad();
        show!(out, py_bool(x.pow(2.0).requires_grad()));
    }
    show!(out, py_bool(x.detach().requires_grad()));
    out
}

pub fn s002_6() -> Vec<String> {
    let mut out = Vec::new();
    let a = Tensor::new([[1.0, 2.0], [3.0, 4.0]]).requires_grad_(true);
    let b = a.mm(&a);
    show!(out, b);
    let l = b.i(&[0, 0]);
    l.backward();
    show!(out, opt(a.grad()));
    let a = Tensor::new([[1.0, 2.0], [3.0, 4.0]]).requires_grad_(true);
    let b = a.mm(&a);
    b.backward_with(&BackwardOptions::new().gradient(Tensor::new([[1.0, 0.0], [0.0, 0.0]])))
        .unwrap();
    show!(out, opt(a.grad()));
    out
}

pub fn s002_7() -> Vec<String> {
    let mut out = Vec::new();
    let x = Tensor::scalar(2.0).requires_grad_(true);
    let y = x.pow(3.0);
    let a = first_grad(&[&y], &[&x], GradOptions::new().create_graph(true));
    show!(out, a);
    a.backward();
    show!(out, opt(x.grad()));
    out
}

pub fn s002_8() -> Vec<String> {
    let mut out = Vec::new();
    let x = Tensor::scalar(2.0).requires_grad_(true);
    let y = x.tanh();
    let a = first_grad(&[&y], &[&x], GradOptions::new().create_graph(true));
    show!(out, y, a);
    a.backward_with(&BackwardOptions::new().gradient(x.ones_like()))
        .unwrap();
    show!(out, opt(x.grad()));
    let x = Tensor::scalar(-2.0).requires_grad_(true);
    let y = x.tanh();
    let a = first_grad(
        &[&y],
        &[&x],
        GradOptions::new()
            .grad_outputs([x.ones_like()])
            .create_graph(true),
    );
    a.backward_with(&BackwardOptions::new().gradient(x.ones_like()))
        .unwrap();
    show!(out, opt(x.grad()));
    out
}

pub fn s002_9() -> Vec<String> {
    let mut out = Vec::new();
    // numpy's linspace is float64, and so is the tensor made from it.
    let x = Tensor::linspace_with(-7.0, 7.0, 100, DType::F64).requires_grad_(true);
    let y = x.tanh();
    let ox = x.ones_like();
    let with_graph = || {
        GradOptions::new()
            .grad_outputs([ox.clone()])
            .create_graph(true)
    };
    let a = first_grad(&[&y], &[&x], with_graph());
    let b = first_grad(&[&a], &[&x], with_graph());
    y.backward_with(&BackwardOptions::new().gradient(&ox).retain_graph(true))
        .unwrap();
    let g1 = x.grad().unwrap().deep_clone();
    x.grad().unwrap().zero_();
    a.backward_with(&BackwardOptions::new().gradient(&ox).retain_graph(true))
        .unwrap();
    let g2 = x.grad().unwrap().deep_clone();
    x.grad().unwrap().zero_();
    b.backward_with(&BackwardOptions::new().gradient(&ox).retain_graph(true))
        .unwrap();
    let g3 = x.grad().unwrap().deep_clone();
    for i in [0, 49, 99] {
        let at = |t: &Tensor| PyFloat(t.i(&[i]).item());
        show!(out, i, at(&y), at(&g1), at(&g2), at(&g3));
    }
    show!(out, x.dtype(), g3.dtype());
    out
}

pub fn s003_1() -> Vec<String> {
    let mut out = Vec::new();
    let f = |x: f64| 3.0 * x.powi(2) - 4.0 * x;
    let mut h = 0.1;
    for _ in 0..6 {
        show!(
            out,
            format!("h={h:.6}, numerical limit={:.6}", (f(1.0 + h) - f(1.0)) / h)
        );
        h *= 0.1;
    }
    out
}

pub fn s003_2() -> Vec<String> {
    let mut out = Vec::new();
    let x = Tensor::arange(4.0).requires_grad_(true);
    show!(out, x);
    show!(out, opt(x.grad()));
    let y = x.dot(&x);
    show!(out, y);
    y.backward();
    show!(out, opt(x.grad()));
    show!(out, x.grad().unwrap().eq(&(2.0 * &x)));
    x.grad().unwrap().zero_();
    let y = x.sum();
    y.backward();
    show!(out, opt(x.grad()));
    out
}

pub fn s003_3() -> Vec<String> {
    let mut out = Vec::new();
    let x = Tensor::arange(3.0).requires_grad_(true);
    let y = &x * &x;
    y.backward_with(&BackwardOptions::new().gradient(Tensor::new([1.0, 1.0, 1.0])))
        .unwrap();
    show!(out, opt(x.grad()));
    let x = Tensor::arange(3.0).requires_grad_(true);
    let y = &x * &x;
    y.backward_with(&BackwardOptions::new().gradient(Tensor::new([1.0, 1.0, 0.0])))
        .unwrap();
    show!(out, opt(x.grad()));
    out
}

pub fn s003_4() -> Vec<String> {
    let mut out = Vec::new();
    let a = Tensor::new([2.0, 3.0]).requires_grad_(true);
    let b = Tensor::new([6.0, 4.0]).requires_grad_(true);
    let q = &(3.0 * &a.pow(3.0)) - &b.pow(2.0);
    // An integer (int64) seed gradient, as in the notebook: it is cast to Q's dtype.
    q.backward_with(&BackwardOptions::new().gradient(Tensor::new([1, 1])))
        .unwrap();
    show!(out, opt(a.grad()), opt(b.grad()));
    out
}

pub fn s004_1() -> Vec<String> {
    let mut out = Vec::new();
    let w = Tensor::ones(&[1]).requires_grad_(true);
    let z = Tensor::ones(&[1]).requires_grad_(true);
    let f = &w + &(2.0 * &z);
    let g = autograd::grad(&[f], &[&w, &z], GradOptions::new());
    let (dw, dz) = (g[0].as_ref().unwrap(), g[1].as_ref().unwrap());
    show!(out, dw_dz(dw, dz));
    let f = &w + &(2.0 * &z);
    f.backward();
    show!(out, dw_dz(&w.grad().unwrap(), &z.grad().unwrap()));
    out
}

pub fn s004_2() -> Vec<String> {
    let mut out = Vec::new();
    let w = Tensor::ones(&[1]).requires_grad_(true);
    let z = &Tensor::ones(&[1]).requires_grad_(true) * 2.0;
    let f = &w + &(2.0 * &z).sin();
    let g = autograd::grad(&[f], &[w, z], GradOptions::new());
    let (dw, dz) = (g[0].as_ref().unwrap(), g[1].as_ref().unwrap());
    show!(out, dw_dz(dw, dz));
    out
}

pub fn s004_3() -> Vec<String> {
    let mut out = Vec::new();
    let w = Tensor::ones(&[1]).requires_grad_(true);
    let z = Tensor::ones(&[1]).requires_grad_(true);
    let g1 = &(3.0 * &w) + &z.cos();
    let g2 = &w.pow(2.0) + &(2.0 * &z).sin();
    let f = &g1.exp() + &(3.0 * &g2);
    f.backward();
    show!(out, dw_dz(&w.grad().unwrap(), &z.grad().unwrap()));
    out
}

pub fn s004_4() -> Vec<String> {
    let mut out = Vec::new();
    let w = Tensor::new([[1.0, 0.5], [0.2, 0.1]]).requires_grad_(true);
    let z = Tensor::new([[1.0, 0.5], [0.2, 0.1]]).requires_grad_(true);
    let g1 = &(3.0 * &w) + &z.cos();
    let g2 = &w.matmul(&w) + &(2.0 * &z).sin();
    let f = (&g1.exp() + &g1.matmul(&g2)).norm();
    show!(out, format!("F : {}", PyFloat(f.item())));
    f.backward();
    show!(out, format!("dW = {}", w.grad().unwrap()));
    show!(out, format!("dZ = {}", z.grad().unwrap()));
    out
}

/// A case: it returns the lines it prints.
pub type Case = fn() -> Vec<String>;

/// Every case: its id and its function.
pub const CASES: &[(&str, Case)] = &[
    ("s000-1", s000_1),
    ("s001-2", s001_2),
    ("s002-1", s002_1),
    ("s002-2", s002_2),
    ("s002-3", s002_3),
    ("s002-4", s002_4),
    ("s002-5", s002_5),
    ("s002-6", s002_6),
    ("s002-7", s002_7),
    ("s002-8", s002_8),
    ("s002-9", s002_9),
    ("s003-1", s003_1),
    ("s003-2", s003_2),
    ("s003-3", s003_3),
    ("s003-4", s003_4),
    ("s004-1", s004_1),
    ("s004-2", s004_2),
    ("s004-3", s004_3),
    ("s004-4", s004_4),
];
