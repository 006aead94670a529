//! `grad_fn` nodes as Python sees them: `name()`, `next_functions`, hooks, PyTorch's repr.

use crate::errors::{guard, set_pending, type_error};
use crate::tensor::{PyHookHandle, PyTensor};
use ferrograd::{GradFn, Tensor};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use pyo3::IntoPyObjectExt;

/// A node of the backward graph (`y.grad_fn`).
#[pyclass(name = "Node", module = "ferrograd.autograd.graph", frozen)]
pub struct PyGradFn {
    /// The Rust node.
    pub f: GradFn,
}

impl PyGradFn {
    /// Wraps `f`.
    pub fn new(f: GradFn) -> PyGradFn {
        PyGradFn { f }
    }
}

fn grads_tuple<'py>(py: Python<'py>, gs: &[Option<Tensor>]) -> PyResult<Bound<'py, PyTuple>> {
    let items = gs
        .iter()
        .map(|g| match g {
            Some(t) => PyTensor::new(t.clone()).into_bound_py_any(py),
            None => Ok(py.None().into_bound(py)),
        })
        .collect::<PyResult<Vec<_>>>()?;
    PyTuple::new(py, items)
}

fn returned_grads(v: &Bound<'_, PyAny>) -> PyResult<Option<Vec<Option<Tensor>>>> {
    if v.is_none() {
        return Ok(None);
    }
    let mut out = Vec::new();
    for item in v.try_iter()? {
        let item = item?;
        out.push(if item.is_none() {
            None
        } else {
            Some(
                item.cast::<PyTensor>()
                    .map_err(|_| type_error("a node hook must return a tuple of Tensors or None"))?
                    .borrow()
                    .t
                    .clone(),
            )
        });
    }
    Ok(Some(out))
}

#[pymethods]
impl PyGradFn {
    /// The node's name (`AddBackward0`; a leaf's node is `torch::autograd::AccumulateGrad`,
    /// as PyTorch names it, while its repr says `<AccumulateGrad object at ...>`).
    fn name(&self) -> &'static str {
        match self.f.name() {
            "AccumulateGrad" => "torch::autograd::AccumulateGrad",
            n => n,
        }
    }

    /// `((node, 0), ...)`: one entry per input, `(None, 0)` where no gradient flows.
    #[getter]
    fn next_functions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let items = self
            .f
            .next_functions()
            .into_iter()
            .map(|n| {
                let node = match n {
                    Some(n) => PyGradFn::new(n).into_bound_py_any(py)?,
                    None => py.None().into_bound(py),
                };
                PyTuple::new(py, [node, 0i64.into_bound_py_any(py)?])
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyTuple::new(py, items)
    }

    /// The leaf an `AccumulateGrad` node accumulates into.
    #[getter]
    fn variable(&self) -> PyResult<PyTensor> {
        self.f.variable().map(PyTensor::new).ok_or_else(|| {
            pyo3::exceptions::PyAttributeError::new_err(format!(
                "'{}' object has no attribute 'variable'",
                self.f.name()
            ))
        })
    }

    /// The tensors the node saved for its backward.
    #[getter]
    fn _saved_tensors(&self) -> PyResult<Vec<PyTensor>> {
        guard(|| self.f.try_saved_tensors()).map(|v| v.into_iter().map(PyTensor::new).collect())
    }

    /// `hook(grad_inputs, grad_outputs)` after the node ran; a returned tuple replaces the
    /// gradients it passes on.
    fn register_hook(&self, hook: Py<PyAny>) -> PyResult<PyHookHandle> {
        let h = move |inputs: &[Option<Tensor>], output: &Tensor| {
            Python::attach(|py| {
                let r = grads_tuple(py, inputs).and_then(|gi| {
                    let go = PyTuple::new(py, [PyTensor::new(output.clone())])?;
                    let v = hook.call1(py, (gi, go))?;
                    returned_grads(v.bind(py))
                });
                r.unwrap_or_else(|e| {
                    set_pending(e);
                    None
                })
            })
        };
        guard(|| Ok(self.f.register_hook(h))).map(PyHookHandle::new)
    }

    /// `hook(grad_outputs)` before the node runs; a returned tuple replaces them.
    fn register_prehook(&self, hook: Py<PyAny>) -> PyResult<PyHookHandle> {
        let h = move |output: &Tensor| {
            Python::attach(|py| {
                let r = PyTuple::new(py, [PyTensor::new(output.clone())]).and_then(|go| {
                    let v = hook.call1(py, (go,))?;
                    Ok(returned_grads(v.bind(py))?.and_then(|mut g| g.pop().flatten()))
                });
                r.unwrap_or_else(|e| {
                    set_pending(e);
                    None
                })
            })
        };
        guard(|| Ok(self.f.register_prehook(h))).map(PyHookHandle::new)
    }

    fn __repr__(slf: &Bound<'_, Self>) -> String {
        format!(
            "<{} object at {:#x}>",
            slf.get().f.name(),
            slf.as_ptr() as usize
        )
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<PyGradFn>() {
            Ok(o) => self.f.is_same(&o.get().f),
            Err(_) => false,
        }
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.f.name().hash(&mut h);
        h.finish()
    }
}
