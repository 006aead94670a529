//! The registry: every op declared with `api!` is listed with its signature and can be called
//! dynamically; bad arguments are errors that name the op and the parameter.

use ferrograd::registry::{self, Kind, Value};
use ferrograd::Tensor;

#[test]
fn signatures_defaults_and_dynamic_calls() {
    let op = registry::get("sum_dims").expect("sum_dims is registered");
    assert_eq!(
        op.signature(),
        "sum_dims(self: Tensor, dims: list[int], keepdim: bool = False)"
    );
    assert!(op.fallible);
    assert_eq!(op.params[1].kind, Kind::Ints);
    assert!(op.summary().starts_with("Sum over the dimensions"));
    let x = Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
    // The default fills the missing `keepdim`; a single int is a list of one.
    let y = op.call(&[Value::Tensor(x.clone()), Value::Int(0)]).unwrap();
    assert_eq!(y.into_tensor().unwrap().to_vec::<f32>(), vec![4.0, 6.0]);
    let y = op
        .call(&[
            Value::Tensor(x.clone()),
            Value::Ints(vec![-1]),
            Value::Bool(true),
        ])
        .unwrap();
    assert_eq!(y.into_tensor().unwrap().shape(), &[2, 1]);
    // The op's own errors come back as they are.
    let e = op
        .call(&[Value::Tensor(x.clone()), Value::Ints(vec![2])])
        .unwrap_err();
    assert_eq!(e, x.try_sum_dims(&[2], false).unwrap_err());
}

#[test]
fn argument_errors_name_the_op_and_parameter() {
    let op = registry::get("sum_dims").unwrap();
    let x = Value::Tensor(Tensor::ones(&[2]));
    assert_eq!(
        op.call(std::slice::from_ref(&x)).unwrap_err().to_string(),
        "sum_dims() missing required argument 'dims' (pos 2)"
    );
    assert_eq!(
        op.call(&[x.clone(), Value::Float(0.5)])
            .unwrap_err()
            .to_string(),
        "sum_dims(): argument 'dims' (position 2) must be list[int], not float"
    );
    assert_eq!(
        op.call(&[x.clone(), Value::Int(0), Value::Bool(false), Value::None])
            .unwrap_err()
            .to_string(),
        "sum_dims() takes 3 positional arguments but 4 were given"
    );
}
