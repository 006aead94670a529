//! # ferrograd
//!
//! Define-by-run automatic differentiation for Rust with PyTorch's `torch.autograd`
//! semantics: tensors of any shape record the operations applied to them while the program
//! runs, and [`Tensor::backward`] / [`autograd::grad`] walk that graph in reverse to give exact
//! derivatives of any order.
//!
//! ```
//! use ferrograd::{autograd, GradOptions, Tensor};
//!
//! let x = Tensor::scalar(2.0).requires_grad_(true);
//! let y = x.pow(3.0);                                   // y = x^3
//! let dy = autograd::grad(&[y], &[&x], GradOptions::new().create_graph(true));
//! let dy = dy[0].clone().unwrap();                      // 3x^2 = 12, itself differentiable
//! assert_eq!(dy.to_string(), "tensor(12., grad_fn=<MulBackward0>)");
//! dy.backward();                                        // d/dx 3x^2 = 6x = 12
//! assert_eq!(x.grad().unwrap().to_string(), "tensor(12.)");
//! ```
//!
//! ## Design
//! - [`Tensor`] is an `Arc` around storage (a typed buffer behind a lock), a layout
//!   (shape, strides, offset) and autograd metadata; `clone()` is O(1) and shares everything.
//! - Every primitive keeps its forward kernel and its backward rule side by side (`ops`), and
//!   backward rules are written with the same differentiable tensor ops, so `create_graph`
//!   records them and derivatives of every order work.
//! - Forward mode ([`forward_ad`]) rides on the same ops: each primitive's JVP rule sits next to
//!   its backward rule, and a whole Jacobian is one pass with a batch of tangents.
//! - The engine is op-agnostic and iterative (no recursion over the graph, including `Drop`):
//!   it orders nodes topologically, runs them newest first like PyTorch, and is the one place
//!   where a broadcast gradient is summed back to its input's shape.
//!
//! ## Errors
//! One policy throughout: every operation that can fail on bad input has a `try_` method
//! returning [`Result`]`<_, `[`Error`]`>`, and a method without the prefix that panics with the
//! same message (like a Python exception, and needed for `std::ops` operators). Messages name the
//! operation and the shapes and use PyTorch's wording where PyTorch has one. A failed call
//! changes nothing: no `.grad` is written and the graph is left as it was. Operations that cannot
//! fail (elementwise math on any tensor) have no `try_` twin.
//!
//! Backward has two entry points instead of a twin pair: [`Tensor::backward`] (no options)
//! panics, and [`Tensor::backward_with`] (with [`BackwardOptions`]) returns the `Result`; the
//! same for many outputs is [`autograd::backward`], which returns the `Result` too.
//!
//! ```
//! use ferrograd::{BackwardOptions, Tensor};
//! let y = Tensor::new([1.0, 2.0]).requires_grad_(true).mul_scalar(2.0);
//! let err = y.backward_with(&BackwardOptions::new()).unwrap_err();
//! assert_eq!(err.to_string(), "grad can be implicitly created only for scalar outputs");
//! ```

#![warn(missing_docs)]

#[macro_use]
mod api;
pub mod autograd;
mod batching;
mod display;
mod dtype;
mod error;
pub mod forward_ad;
pub mod func;
pub mod function;
pub mod functional;
mod graph;
pub mod hooks;
mod kernels;
mod layout;
mod lazy;
mod ops;
pub mod plot;
mod pool;
mod random;
mod raw;
pub mod registry;
mod storage;
pub mod tape;
mod tensor;
pub mod testing;
mod unique;
pub mod viz;

pub use autograd::mode::{
    detect_anomaly, enable_grad, is_anomaly_enabled, is_grad_enabled, no_grad, set_detect_anomaly,
    set_grad_enabled, with_enable_grad, with_no_grad, AnomalyGuard, GradModeGuard,
};
pub use autograd::{BackwardOptions, GradFn, GradOptions};
pub use display::PyFloat;
pub use dtype::{DType, Float};
pub use error::{Error, Result};
pub use hooks::{HookHandle, WeakTensor};
pub use layout::Shape;
pub use ops::linalg;
pub use ops::nn;
pub use pool::empty_cache;
pub use random::manual_seed;
pub use tensor::{ReadElement, Tensor, TensorData};

/// Panics with the error's message: the non-`try_` half of the error policy.
#[track_caller]
pub(crate) fn unwrap<T>(r: Result<T>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}

/// The README's examples, compiled and run as doc tests so they stay true.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
