//! Every op of the Rust registry as a Python callable: `ferrograd._C.ops()` lists them, each
//! is called with positional and keyword arguments by the registry's parameter names, and
//! as a class attribute of `Tensor` it binds like a method. No op is wrapped by hand here.

use crate::convert::type_name;
use crate::dtype::PyDType;
use crate::errors::{guard, type_error, with_pending};
use crate::tensor::{Number, PyTensor, DETACH_NUMEL};
use ferrograd::registry::{self, Kind, OpDef, Receiver, Value};
use ferrograd::DType;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

// One registered op (`ferrograd._C.ops()`), callable. (A plain comment, not a doc comment:
// a class docstring would hide the `__doc__` getter, which gives the op's own Rust docs.)
#[pyclass(name = "Op", module = "ferrograd._C", frozen)]
pub struct PyOp {
    def: &'static OpDef,
}

// An op bound to the tensor it was looked up on (`x.exp` before the call); no docstring,
// as for `PyOp`.
#[pyclass(name = "BoundOp", module = "ferrograd._C", frozen)]
pub struct PyBoundOp {
    def: &'static OpDef,
    receiver: Py<PyAny>,
}

#[pymethods]
impl PyOp {
    #[pyo3(signature = (*args, **kwargs))]
    fn __call__(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        call(py, self.def, None, args, kwargs)
    }

    fn __get__(
        slf: &Bound<'_, Self>,
        obj: Option<&Bound<'_, PyAny>>,
        _ty: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        match obj {
            Some(o) if !o.is_none() => Ok(PyBoundOp {
                def: slf.get().def,
                receiver: o.clone().unbind(),
            }
            .into_pyobject(py)?
            .into_any()
            .unbind()),
            _ => Ok(slf.clone().into_any().unbind()),
        }
    }

    /// The op's name.
    #[getter]
    fn name(&self) -> &'static str {
        self.def.name
    }

    /// The Rust module of a free function (`"nn"`), or `""`.
    #[getter]
    fn module(&self) -> &'static str {
        self.def.module
    }

    /// `"method"`, `"static"` or `"function"`.
    #[getter]
    fn receiver(&self) -> &'static str {
        match self.def.receiver {
            Receiver::Method => "method",
            Receiver::Static => "static",
            Receiver::Function => "function",
        }
    }

    /// `[(name, kind, default as a Python literal or None), ...]`.
    #[getter]
    fn params(&self) -> Vec<(&'static str, String, Option<String>)> {
        self.def
            .params
            .iter()
            .map(|p| {
                (
                    p.name,
                    p.kind.name(),
                    p.default.map(|d| d().python_literal()),
                )
            })
            .collect()
    }

    /// The default of parameter `name` as a Python value (`KeyError` if it has none).
    fn default(&self, py: Python<'_>, name: &str) -> PyResult<Py<PyAny>> {
        let p = self
            .def
            .params
            .iter()
            .find(|p| p.name == name && p.default.is_some());
        match p.and_then(|p| p.default) {
            Some(d) => value_to_py(py, d()),
            None => Err(pyo3::exceptions::PyKeyError::new_err(name.to_string())),
        }
    }

    /// The return kind as a Python type hint.
    #[getter]
    fn returns(&self) -> String {
        self.def.returns.name()
    }

    /// The Python signature.
    #[getter]
    fn signature(&self) -> String {
        self.def.signature()
    }

    #[getter]
    fn __doc__(&self) -> String {
        format!("{}\n\n{}", self.def.signature(), self.def.doc.trim())
    }

    #[getter]
    fn __name__(&self) -> &'static str {
        self.def.name
    }

    fn __repr__(&self) -> String {
        format!("<ferrograd op {}>", self.def.signature())
    }
}

#[pymethods]
impl PyBoundOp {
    #[pyo3(signature = (*args, **kwargs))]
    fn __call__(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        call(py, self.def, Some(self.receiver.bind(py)), args, kwargs)
    }

    #[getter]
    fn __doc__(&self) -> String {
        format!("{}\n\n{}", self.def.signature(), self.def.doc.trim())
    }
}

/// What a Python argument for a `Tensor` parameter was, before numbers become tensors.
enum Slot {
    Ready(Value),
    Number(Number),
}

fn convert_arg(
    op: &OpDef,
    i: usize,
    kind: &Kind,
    name: &str,
    obj: &Bound<'_, PyAny>,
) -> PyResult<Slot> {
    let fail = || {
        type_error(format!(
            "{}(): argument '{name}' (position {}) must be {}, not {}",
            op.name,
            i + 1,
            kind.name(),
            type_name(obj)
        ))
    };
    if obj.is_none() {
        return match kind {
            Kind::Optional(_) => Ok(Slot::Ready(Value::None)),
            _ => Err(fail()),
        };
    }
    let kind = match kind {
        Kind::Optional(k) => *k,
        k => k,
    };
    Ok(Slot::Ready(match kind {
        Kind::Tensor => match obj.cast::<PyTensor>() {
            Ok(t) => Value::Tensor(t.borrow().t.clone()),
            Err(_) => return Number::of(obj)?.map(Slot::Number).ok_or_else(fail),
        },
        Kind::Tensors => {
            if obj.cast::<PyTensor>().is_ok() || obj.is_instance_of::<PyString>() {
                return Err(fail());
            }
            let mut v = Vec::new();
            for item in obj.try_iter().map_err(|_| fail())? {
                let item = item?;
                match item.cast::<PyTensor>() {
                    Ok(t) => v.push(t.borrow().t.clone()),
                    Err(_) => {
                        return Err(type_error(format!(
                        "{}(): argument '{name}' (position {}) must be tuple of Tensors, not {}",
                        op.name,
                        i + 1,
                        type_name(&item)
                    )))
                    }
                }
            }
            Value::Tensors(v)
        }
        Kind::Float => match Number::of(obj)? {
            Some(Number::Bool(_)) | None => return Err(fail()),
            Some(n) => Value::Float(n.value()),
        },
        Kind::Int => match Number::of(obj)? {
            Some(Number::Int(n)) => Value::Int(n),
            _ => return Err(fail()),
        },
        Kind::Bool => match Number::of(obj)? {
            Some(Number::Bool(b)) => Value::Bool(b),
            _ => return Err(fail()),
        },
        Kind::Ints | Kind::Sizes => {
            if let Some(Number::Int(n)) = Number::of(obj)? {
                Value::Int(n)
            } else if obj.is_instance_of::<PyString>() || obj.cast::<PyTensor>().is_ok() {
                return Err(fail());
            } else {
                let mut v = Vec::new();
                for item in obj.try_iter().map_err(|_| fail())? {
                    let item = item?;
                    match Number::of(&item)? {
                        Some(Number::Int(n)) => v.push(isize::try_from(n).map_err(|_| fail())?),
                        _ => return Err(fail()),
                    }
                }
                Value::Ints(v)
            }
        }
        Kind::Str => match obj.cast::<PyString>() {
            Ok(s) => Value::Str(s.to_string()),
            Err(_) => return Err(fail()),
        },
        Kind::DType => match obj.cast::<PyDType>() {
            Ok(d) => Value::DType(d.get().d),
            Err(_) => return Err(fail()),
        },
        Kind::Nothing | Kind::Tuple | Kind::Optional(_) => return Err(fail()),
    }))
}

/// Calls `op` with Python arguments: `receiver` first (a method call), then `args` by
/// position, then `kwargs` by parameter name. A number where a tensor is expected becomes a
/// 0-d tensor of the first tensor argument's dtype (float32 for a float next to integers).
pub fn call(
    py: Python<'_>,
    op: &'static OpDef,
    receiver: Option<&Bound<'_, PyAny>>,
    args: &Bound<'_, PyTuple>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<Py<PyAny>> {
    let params = op.params;
    let given = args.len() + usize::from(receiver.is_some());
    if given > params.len() {
        return Err(type_error(format!(
            "{}() takes {} positional arguments but {given} were given",
            op.name,
            params.len()
        )));
    }
    let mut slots: Vec<Option<Slot>> = Vec::with_capacity(params.len());
    let positional = receiver.into_iter().cloned().chain(args.iter());
    for (i, obj) in positional.enumerate() {
        let p = &params[i];
        slots.push(Some(convert_arg(op, i, &p.kind, p.name, &obj)?));
    }
    slots.resize_with(params.len(), || None);
    if let Some(kw) = kwargs {
        for (k, v) in kw.iter() {
            let key: String = k.extract()?;
            if key == "out" {
                if v.is_none() {
                    continue;
                }
                return Err(type_error(format!(
                    "{}(): the out= argument is not supported by ferrograd; assign the result instead",
                    op.name
                )));
            }
            // PyTorch names a function's tensor `input` (`torch.exp(input=x)`); the registry
            // names a method's receiver `self`.
            let named = |p: &registry::Param| {
                p.name == key || (key == "input" && p.name == "self" && receiver.is_none())
            };
            let Some(i) = params.iter().position(named) else {
                return Err(type_error(format!(
                    "{}() got an unexpected keyword argument '{key}'",
                    op.name
                )));
            };
            if slots[i].is_some() {
                return Err(type_error(format!(
                    "{}() got multiple values for argument '{key}'",
                    op.name
                )));
            }
            slots[i] = Some(convert_arg(op, i, &params[i].kind, params[i].name, &v)?);
        }
    }
    let first_dtype = slots.iter().find_map(|s| match s {
        Some(Slot::Ready(Value::Tensor(t))) => Some(t.dtype()),
        _ => None,
    });
    let mut numel = 0usize;
    let mut values = Vec::with_capacity(slots.len());
    for s in slots {
        values.push(match s {
            None => Value::Default,
            Some(Slot::Ready(v)) => {
                match &v {
                    Value::Tensor(t) => numel = numel.max(t.numel()),
                    Value::Tensors(ts) => numel = numel.max(ts.iter().map(|t| t.numel()).sum()),
                    _ => {}
                }
                v
            }
            Some(Slot::Number(n)) => {
                let dt = match (first_dtype, n) {
                    (Some(d), _) => n.result_dtype(d),
                    (None, Number::Float(_)) => DType::F32,
                    (None, Number::Int(_)) => DType::I64,
                    (None, Number::Bool(_)) => DType::Bool,
                };
                Value::Tensor(n.tensor(dt)?)
            }
        });
    }
    let r = if numel >= DETACH_NUMEL {
        py.detach(|| guard(|| op.call(&values)))
    } else {
        guard(|| op.call(&values))
    };
    let out = with_pending(r)?;
    value_to_py(py, out)
}

/// A registry result as a Python object (a list of tensors as a tuple, as PyTorch's
/// `split` returns).
pub fn value_to_py(py: Python<'_>, v: Value) -> PyResult<Py<PyAny>> {
    Ok(match v {
        Value::Tensor(t) => PyTensor::new(t).into_pyobject(py)?.into_any().unbind(),
        Value::Tensors(ts) => {
            let items = ts
                .into_iter()
                .map(|t| PyTensor::new(t).into_pyobject(py).map(|b| b.into_any()))
                .collect::<PyResult<Vec<_>>>()?;
            PyTuple::new(py, items)?.into_any().unbind()
        }
        Value::Float(f) => f.into_pyobject(py)?.into_any().unbind(),
        Value::Int(i) => i.into_pyobject(py)?.into_any().unbind(),
        Value::Ints(v) => PyList::new(py, v)?.into_any().unbind(),
        Value::Sizes(v) => PyList::new(py, v)?.into_any().unbind(),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any().unbind(),
        Value::Str(s) => s.into_pyobject(py)?.into_any().unbind(),
        Value::DType(d) => PyDType::get(py, d).into_any(),
        Value::None | Value::Default => py.None(),
        Value::Tuple(vs) => {
            let items = vs
                .into_iter()
                .map(|v| value_to_py(py, v).map(|o| o.into_bound(py)))
                .collect::<PyResult<Vec<_>>>()?;
            PyTuple::new(py, items)?.into_any().unbind()
        }
    })
}

/// Every registered op, in the registry's order.
#[pyfunction]
pub fn ops() -> Vec<PyOp> {
    registry::ops().map(|def| PyOp { def }).collect()
}
