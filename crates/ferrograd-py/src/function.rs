//! Custom `Function`s written in Python: one [`ferrograd::function::Function`] per output whose
//! forward, backward and jvp call back into Python (`python/ferrograd/autograd/function.py`
//! builds the callbacks and the `ctx`).

use crate::autograd::expect_tensor as tensor_of;
use crate::errors::{guard, set_pending, with_pending};
use crate::tensor::PyTensor;
use ferrograd::function::{try_apply, Context, Function};
use ferrograd::Tensor;
use pyo3::prelude::*;
use pyo3::types::PyList;
use std::collections::HashMap;
use std::sync::Mutex;

/// The node name `name`, as the `&'static str` the library's nodes carry (each distinct name
/// is allocated once and kept).
fn static_name(name: &str) -> &'static str {
    static NAMES: Mutex<Option<HashMap<String, &'static str>>> = Mutex::new(None);
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    let names = names.get_or_insert_with(HashMap::new);
    if let Some(&n) = names.get(name) {
        return n;
    }
    let leaked: &'static str = Box::leak(name.to_string().into_boxed_str());
    names.insert(name.to_string(), leaked);
    leaked
}

/// A Python-defined function, one output of it.
struct PyFunction {
    name: &'static str,
    forward: Py<PyAny>,
    backward: Py<PyAny>,
    jvp: Option<Py<PyAny>>,
    n_inputs: usize,
}

fn tensors_to_py<'py>(py: Python<'py>, ts: &[Tensor]) -> PyResult<Bound<'py, PyList>> {
    PyList::new(py, ts.iter().map(|t| PyTensor::new(t.clone())))
}

fn optional_tensors_to_py<'py>(
    py: Python<'py>,
    ts: &[Option<Tensor>],
) -> PyResult<Bound<'py, PyList>> {
    let items: Vec<Option<PyTensor>> = ts
        .iter()
        .map(|t| t.as_ref().map(|t| PyTensor::new(t.clone())))
        .collect();
    PyList::new(py, items)
}

fn optional_tensor_of(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Option<Tensor>> {
    if obj.is_none() {
        Ok(None)
    } else {
        tensor_of(obj, what).map(Some)
    }
}

impl PyFunction {
    fn needs(ctx: &Context, n: usize) -> Vec<bool> {
        (0..n).map(|i| ctx.needs_input_grad(i)).collect()
    }

    /// `forward(needs) -> (output, saved, non_differentiable)`.
    fn call_forward(&self, ctx: &mut Context, n: usize) -> PyResult<Tensor> {
        Python::attach(|py| {
            let r = self.forward.call1(py, (Self::needs(ctx, n),))?;
            let r = r.bind(py);
            let (out, saved, non_diff): (Bound<'_, PyAny>, Bound<'_, PyAny>, bool) = r.extract()?;
            let out = tensor_of(&out, "the output of forward")?;
            let mut keep = Vec::new();
            for s in saved.try_iter()? {
                keep.push(tensor_of(&s?, "save_for_backward's arguments")?);
            }
            let refs: Vec<&Tensor> = keep.iter().collect();
            ctx.save_for_backward(&refs);
            if non_diff {
                ctx.mark_non_differentiable();
            }
            Ok(out)
        })
    }

    /// `backward(saved, needs, grad) -> [grad or None per tensor input]`.
    fn call_backward(&self, ctx: &Context, grad: &Tensor) -> PyResult<Vec<Option<Tensor>>> {
        Python::attach(|py| {
            let saved = tensors_to_py(py, ctx.saved_tensors())?;
            let r = self
                .backward
                .call1(py, (saved, PyTensor::new(grad.clone())))?;
            let mut out = Vec::new();
            for g in r.bind(py).try_iter()? {
                out.push(optional_tensor_of(&g?, "a gradient returned by backward")?);
            }
            Ok(out)
        })
    }

    fn call_jvp(
        &self,
        jvp: &Py<PyAny>,
        ctx: &Context,
        t: &[Option<Tensor>],
    ) -> PyResult<Option<Tensor>> {
        Python::attach(|py| {
            let saved = tensors_to_py(py, ctx.saved_tensors())?;
            let r = jvp.call1(py, (saved, optional_tensors_to_py(py, t)?))?;
            optional_tensor_of(r.bind(py), "a tangent returned by jvp")
        })
    }
}

impl Function for PyFunction {
    fn name(&self) -> &'static str {
        self.name
    }

    fn forward(&self, ctx: &mut Context, inputs: &[Tensor]) -> Tensor {
        match self.call_forward(ctx, inputs.len()) {
            Ok(t) => t,
            Err(e) => {
                set_pending(e);
                ctx.mark_non_differentiable();
                Tensor::scalar(0.0)
            }
        }
    }

    fn backward(&self, ctx: &Context, grad: &Tensor) -> Vec<Option<Tensor>> {
        match self.call_backward(ctx, grad) {
            Ok(g) => g,
            Err(e) => {
                set_pending(e);
                // As many `None`s as the node has inputs, so the engine reports nothing else.
                vec![None; self.n_inputs]
            }
        }
    }

    fn jvp(&self, ctx: &Context, tangents: &[Option<Tensor>]) -> Option<Tensor> {
        let jvp = self.jvp.as_ref()?;
        match self.call_jvp(jvp, ctx, tangents) {
            Ok(t) => t,
            Err(e) => {
                set_pending(e);
                None
            }
        }
    }
}

/// Applies one output of a Python-defined function: `forward(needs)` returns
/// `(output, saved, non_differentiable)`, `backward(saved, grad)` one gradient (or `None`)
/// per tensor input, `jvp(saved, tangents)` the output's tangent (`None`: not implemented).
#[pyfunction]
#[pyo3(signature = (name, inputs, forward, backward, jvp = None))]
fn _function_apply(
    name: &str,
    inputs: Vec<PyRef<'_, PyTensor>>,
    forward: Py<PyAny>,
    backward: Py<PyAny>,
    jvp: Option<Py<PyAny>>,
) -> PyResult<PyTensor> {
    let ts: Vec<Tensor> = inputs.iter().map(|t| t.t.clone()).collect();
    let refs: Vec<&Tensor> = ts.iter().collect();
    let f = PyFunction {
        name: static_name(name),
        forward,
        backward,
        jvp,
        n_inputs: ts.len(),
    };
    let r = guard(|| try_apply(f, &refs));
    with_pending(r).map(PyTensor::new)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_function_apply, m)?)?;
    Ok(())
}
