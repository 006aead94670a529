//! `ferrograd.func`'s core: the library's composable transforms (`ferrograd::func`) over
//! Python callables. Thin by design: a Python callable becomes a [`Func`] whose body calls
//! back into Python; the transforms are the library's. The pytree work (nested arguments and
//! outputs, `argnums` structure, `has_aux`) is Python, in `python/ferrograd/func.py`, which
//! hands these functions flat lists of tensors.
//!
//! An exception the callable raises is kept ([`set_pending`]) and the Rust call stops with an
//! error; when the outermost call returns, that exception is raised unchanged
//! ([`with_pending`]). A transform nested in Python (`vmap(grad(f))`) raises it in Python at
//! the inner call, where the outer callback catches and keeps it again.

use crate::errors::with_pending;
use crate::errors::{guard_py, runtime_error, set_pending, to_py, type_error, value_error};
use crate::tensor::PyTensor;
use ferrograd::func::{self, Func, Randomness, VmapOptions};
use ferrograd::{Error, Tensor};
use pyo3::prelude::*;
use pyo3::types::PyList;

/// A function of a list of tensors to a list of tensors, as the transforms take and return.
#[pyclass(name = "_Func", module = "ferrograd._C", frozen)]
pub struct PyFunc {
    f: Func,
}

fn wrap(f: Func) -> PyFunc {
    PyFunc { f }
}

fn rust_tensors(ts: &[PyRef<'_, PyTensor>]) -> Vec<Tensor> {
    ts.iter().map(|t| t.t.clone()).collect()
}

fn py_tensors(ts: Vec<Tensor>) -> Vec<PyTensor> {
    ts.into_iter().map(PyTensor::new).collect()
}

/// A transform's error as torch.func raises it: `ValueError` for vmap's argument checks,
/// `RuntimeError` for the other transforms' (grad of a non-scalar, argnums, shapes), the
/// library's usual mapping otherwise.
fn func_error(e: Error) -> PyErr {
    match &e {
        Error::Argument(msg) if msg.starts_with("vmap: out_dim") => {
            pyo3::exceptions::PyIndexError::new_err(msg.clone())
        }
        Error::Argument(msg) if msg.starts_with("vmap") => value_error(msg.clone()),
        Error::Argument(msg) => runtime_error(msg.clone()),
        _ => to_py(e),
    }
}

/// Runs a transform: its error as [`func_error`], a panic as `RuntimeError`, and an exception
/// raised by a Python callable inside it as itself.
fn run<T>(f: impl FnOnce() -> ferrograd::Result<T>) -> PyResult<T> {
    let r = guard_py(|| f().map_err(func_error));
    with_pending(r)
}

/// The error a callback returns to the library after keeping its Python exception (never
/// seen: the kept exception is raised instead).
fn raised() -> Error {
    Error::Argument("a Python function called by a transform raised an exception".into())
}

/// `callable(list of tensors) -> list of tensors` as a [`Func`].
fn from_callable(callable: Py<PyAny>) -> Func {
    Func::new(move |xs| {
        Python::attach(|py| {
            let r = (|| -> PyResult<Vec<Tensor>> {
                let args = PyList::new(py, xs.iter().map(|t| PyTensor::new(t.clone())))?;
                let out = callable.call1(py, (args,))?;
                let mut ys = Vec::new();
                for o in out.bind(py).try_iter()? {
                    let o = o?;
                    let t = o.cast::<PyTensor>().map_err(|_| {
                        type_error(format!(
                            "the function must return Tensors, not {}",
                            crate::convert::type_name(&o)
                        ))
                    })?;
                    ys.push(t.borrow().t.clone());
                }
                Ok(ys)
            })();
            r.map_err(|e| {
                set_pending(e);
                raised()
            })
        })
    })
}

#[pymethods]
impl PyFunc {
    /// Calls the function on a list of tensors; returns its list of outputs.
    fn __call__(&self, args: Vec<PyRef<'_, PyTensor>>) -> PyResult<Vec<PyTensor>> {
        let xs = rust_tensors(&args);
        run(|| self.f.call(&xs)).map(py_tensors)
    }
}

/// `callable` (a list of tensors in, a sequence of tensors out) as a transformable function.
#[pyfunction]
fn _func(callable: Py<PyAny>) -> PyFunc {
    wrap(from_callable(callable))
}

/// `grad_with` (`value`: `grad_and_value_with`): the gradients, then the value, then the
/// auxiliary outputs.
#[pyfunction]
fn _func_grad(f: PyRef<'_, PyFunc>, argnums: Vec<usize>, has_aux: bool, value: bool) -> PyFunc {
    wrap(match value {
        true => func::grad_and_value_with(&f.f, &argnums, has_aux),
        false => func::grad_with(&f.f, &argnums, has_aux),
    })
}

/// `vjp(f, primals)`: the outputs and the vector-Jacobian product function.
#[pyfunction]
fn _func_vjp(
    f: PyRef<'_, PyFunc>,
    primals: Vec<PyRef<'_, PyTensor>>,
) -> PyResult<(Vec<PyTensor>, PyFunc)> {
    let xs = rust_tensors(&primals);
    let (ys, vjp_fn) = run(|| func::vjp(&f.f, &xs))?;
    Ok((py_tensors(ys), wrap(vjp_fn)))
}

/// `jvp(f, primals, tangents)`: the outputs and their tangents.
#[pyfunction]
fn _func_jvp(
    f: PyRef<'_, PyFunc>,
    primals: Vec<PyRef<'_, PyTensor>>,
    tangents: Vec<PyRef<'_, PyTensor>>,
) -> PyResult<(Vec<PyTensor>, Vec<PyTensor>)> {
    let (xs, ts) = (rust_tensors(&primals), rust_tensors(&tangents));
    let (ys, jv) = run(|| func::jvp(&f.f, &xs, &ts))?;
    Ok((py_tensors(ys), py_tensors(jv)))
}

/// `jacrev_with(f, argnums)`: for each output, one Jacobian per argument in `argnums`.
#[pyfunction]
fn _func_jacrev(f: PyRef<'_, PyFunc>, argnums: Vec<usize>) -> PyFunc {
    wrap(func::jacrev_with(&f.f, &argnums))
}

/// `jacfwd_with(f, argnums)` (outputs as `_func_jacrev`'s).
#[pyfunction]
fn _func_jacfwd(f: PyRef<'_, PyFunc>, argnums: Vec<usize>) -> PyFunc {
    wrap(func::jacfwd_with(&f.f, &argnums))
}

/// `hessian_with(f, argnums)`: the blocks in row-major order.
#[pyfunction]
fn _func_hessian(f: PyRef<'_, PyFunc>, argnums: Vec<usize>) -> PyFunc {
    wrap(func::hessian_with(&f.f, &argnums))
}

/// `vmap_with(f, options)`; `randomness` is `"error"`, `"different"` or `"same"`.
#[pyfunction]
#[pyo3(signature = (f, in_dims, out_dims, randomness, chunk_size = None))]
fn _func_vmap(
    f: PyRef<'_, PyFunc>,
    in_dims: Vec<Option<isize>>,
    out_dims: Vec<isize>,
    randomness: &str,
    chunk_size: Option<usize>,
) -> PyResult<PyFunc> {
    let randomness = match randomness {
        "error" => Randomness::Error,
        "different" => Randomness::Different,
        "same" => Randomness::Same,
        other => {
            return Err(runtime_error(format!(
            "Only allowed values for randomness are 'error', 'different', or 'same'. Got {other}"
        )))
        }
    };
    let options = VmapOptions {
        in_dims,
        out_dims,
        randomness,
        chunk_size,
    };
    Ok(wrap(func::vmap_with(&f.f, options)))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyFunc>()?;
    m.add_function(wrap_pyfunction!(_func, m)?)?;
    m.add_function(wrap_pyfunction!(_func_grad, m)?)?;
    m.add_function(wrap_pyfunction!(_func_vjp, m)?)?;
    m.add_function(wrap_pyfunction!(_func_jvp, m)?)?;
    m.add_function(wrap_pyfunction!(_func_jacrev, m)?)?;
    m.add_function(wrap_pyfunction!(_func_jacfwd, m)?)?;
    m.add_function(wrap_pyfunction!(_func_hessian, m)?)?;
    m.add_function(wrap_pyfunction!(_func_vmap, m)?)?;
    Ok(())
}
