//! Registry rows of the reductions and nn ops: PyTorch's parameter names and defaults, the
//! `reduction` strings, and the keyword rows of the ops that take an options struct in Rust.
//! Expected numbers are closed forms.

use ferrograd::registry::{self, Receiver, Value};
use ferrograd::Tensor;

fn t(v: Value) -> Tensor {
    v.into_tensor().expect("a tensor result")
}

#[test]
fn every_public_reduction_and_nn_op_is_registered() {
    let methods = [
        "sum",
        "sum_dims",
        "mean",
        "mean_dims",
        "norm",
        "masked_fill",
        "amax",
        "amin",
        "max",
        "min",
        "max_dim",
        "min_dim",
        "argmax",
        "argmin",
        "var",
        "std",
        "norm_dims",
        "logsumexp",
        "cumsum",
        "cumprod",
        "prod",
        "prod_dim",
        "all",
        "any",
        "softmax",
        "log_softmax",
    ];
    for name in methods {
        let op = registry::get(name).unwrap_or_else(|| panic!("{name} is registered"));
        assert_eq!(op.receiver, Receiver::Method, "{name}");
    }
    let functions = [
        "nll_loss",
        "cross_entropy",
        "mse_loss",
        "l1_loss",
        "smooth_l1_loss",
        "huber_loss",
        "binary_cross_entropy",
        "binary_cross_entropy_with_logits",
        "linear",
        "dropout",
        "layer_norm",
        "conv1d",
        "conv2d",
    ];
    for name in functions {
        let op = registry::get(name).unwrap_or_else(|| panic!("{name} is registered"));
        assert_eq!(
            (op.receiver, op.module),
            (Receiver::Function, "nn"),
            "{name}"
        );
        assert_eq!(op.params[0].name, "input", "{name}");
    }
}

#[test]
fn pytorch_names_and_defaults() {
    let sig = |name: &str| registry::get(name).unwrap().signature();
    assert_eq!(
        sig("amax"),
        "amax(self: Tensor, dim: list[int] = [], keepdim: bool = False)"
    );
    assert_eq!(
        sig("var"),
        "var(self: Tensor, dim: list[int] = [], correction: float = 1.0, keepdim: bool = False)"
    );
    assert_eq!(
        sig("mse_loss"),
        "mse_loss(input: Tensor, target: Tensor, reduction: str = \"mean\")"
    );
    assert_eq!(
        sig("cross_entropy"),
        "cross_entropy(input: Tensor, target: Tensor, weight: Optional[Tensor] = None, \
         ignore_index: int = -100, reduction: str = \"mean\", label_smoothing: float = 0.0)"
    );
    assert_eq!(
        sig("conv2d"),
        "conv2d(input: Tensor, weight: Tensor, bias: Optional[Tensor] = None, \
         stride: list[int] = [1], padding: list[int] = [0], dilation: list[int] = [1], \
         groups: int = 1)"
    );
    // The defaults are PyTorch's: var is unbiased, amax reduces everything.
    let x = Value::Tensor(Tensor::new([1.0, 2.0, 3.0, 4.0]));
    let v = t(registry::get("var")
        .unwrap()
        .call(std::slice::from_ref(&x))
        .unwrap());
    assert!((v.item() - 5.0 / 3.0).abs() < 1e-6);
    let m = t(registry::get("amax").unwrap().call(&[x]).unwrap());
    assert_eq!((m.shape().to_vec(), m.item()), (vec![], 4.0));
}

#[test]
fn reduction_strings() {
    let op = registry::get("mse_loss").unwrap();
    let (a, b) = (
        Value::Tensor(Tensor::new([1.0, 3.0])),
        Value::Tensor(Tensor::new([0.0, 0.0])),
    );
    let call = |r: &str| op.call(&[a.clone(), b.clone(), Value::Str(r.into())]);
    assert_eq!(t(call("sum").unwrap()).item(), 10.0);
    assert_eq!(t(call("mean").unwrap()).item(), 5.0);
    assert_eq!(t(call("none").unwrap()).to_vec::<f32>(), vec![1.0, 9.0]);
    assert_eq!(t(op.call(&[a.clone(), b.clone()]).unwrap()).item(), 5.0);
    // PyTorch: ValueError "avg is not a valid value for reduction".
    assert_eq!(
        call("avg").unwrap_err().to_string(),
        "mse_loss(): argument 'reduction': avg is not a valid value for reduction"
    );
    assert_eq!(
        op.call(&[a, b, Value::Int(1)]).unwrap_err().to_string(),
        "mse_loss(): argument 'reduction' (position 3) must be str, not int"
    );
}

#[test]
fn class_keywords() {
    let op = registry::get("cross_entropy").unwrap();
    let logits = Value::Tensor(Tensor::new([[2.0, 0.0], [0.0, 2.0]]));
    let target = Value::Tensor(Tensor::new([0, 1]));
    // Each sample: -log softmax = log(1 + e^-2).
    let one = (1.0 + (-2.0f64).exp()).ln();
    let sum = t(op
        .call(&[
            logits.clone(),
            target.clone(),
            Value::None,
            Value::Default,
            Value::Str("sum".into()),
        ])
        .unwrap());
    assert!((sum.item() - 2.0 * one).abs() < 1e-6);
    // ignore_index = 1 drops the second sample.
    let ignored = t(op
        .call(&[
            logits.clone(),
            target.clone(),
            Value::None,
            Value::Int(1),
            Value::Str("sum".into()),
        ])
        .unwrap());
    assert!((ignored.item() - one).abs() < 1e-6);
    // label_smoothing = 0.5 with 2 classes: targets (0.75, 0.25); per sample
    // -(0.75 log p + 0.25 log q) with log p = -one, log q = -2 - one.
    let smooth = t(op
        .call(&[
            logits.clone(),
            target.clone(),
            Value::None,
            Value::Default,
            Value::Default,
            Value::Float(0.5),
        ])
        .unwrap());
    assert!((smooth.item() - (0.75 * one + 0.25 * (2.0 + one))).abs() < 1e-6);
    // nll_loss with class weights (mean: divided by the weights' sum).
    let nll = registry::get("nll_loss").unwrap();
    let logp = Value::Tensor(Tensor::new([[-1.0, -2.0], [-3.0, -4.0]]));
    let w = Value::Tensor(Tensor::new([1.0, 3.0]));
    let l = t(nll.call(&[logp, target, w]).unwrap());
    assert!((l.item() - (1.0 * 1.0 + 3.0 * 4.0) / 4.0).abs() < 1e-6);
}

#[test]
fn conv_keywords() {
    let op = registry::get("conv2d").unwrap();
    let x = Value::Tensor(Tensor::ones(&[1, 1, 4, 4]));
    let w = Value::Tensor(Tensor::ones(&[1, 1, 2, 2]));
    // stride 2: four disjoint 2x2 windows, each sums to 4.
    let y = t(op
        .call(&[x.clone(), w.clone(), Value::None, Value::Int(2)])
        .unwrap());
    assert_eq!(y.shape(), &[1, 1, 2, 2]);
    assert_eq!(y.to_vec::<f32>(), vec![4.0; 4]);
    // padding (1, 0): height 4 + 2 - 2 + 1 = 5 rows, width 3.
    let y = t(op
        .call(&[
            x.clone(),
            w.clone(),
            Value::None,
            Value::Default,
            Value::Ints(vec![1, 0]),
        ])
        .unwrap());
    assert_eq!(y.shape(), &[1, 1, 5, 3]);
    // PyTorch's message for a wrong count.
    let e = op
        .call(&[x, w, Value::None, Value::Ints(vec![1, 2, 3])])
        .unwrap_err();
    assert!(
        e.to_string().contains(
            "expected stride to be a single integer value or a list of 2 values to match the \
             convolution dimensions, but got stride=[1, 2, 3]"
        ),
        "{e}"
    );
    let op = registry::get("conv1d").unwrap();
    let x = Value::Tensor(Tensor::ones(&[1, 1, 5]));
    let w = Value::Tensor(Tensor::ones(&[1, 1, 2]));
    let y = t(op
        .call(&[x.clone(), w.clone(), Value::None, Value::Int(2)])
        .unwrap());
    assert_eq!(y.to_vec::<f32>(), vec![2.0, 2.0]);
    let e = op
        .call(&[x, w, Value::None, Value::Default, Value::Ints(vec![1, 1])])
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("expected padding to be a single integer value or a list of 1 values"),
        "{e}"
    );
}
