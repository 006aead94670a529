//! The rest of the library's API: custom functions, `functional`, forward mode, the tape,
//! graph pictures and gradcheck. Each part registers its functions here.
//!
//! Python callables given to the library (the function under `functional` or `gradcheck`) are
//! called with a list of tensors; an exception they raise is kept ([`set_pending`]) and raised
//! when the library call returns ([`with_pending`]).

use crate::errors::{guard, runtime_error, set_pending, type_error, value_error, with_pending};
use crate::tensor::PyTensor;
use ferrograd::forward_ad::{self, DualLevel};
use ferrograd::functional::{self, Options, Strategy};
use ferrograd::testing::{self, GradcheckOptions};
use ferrograd::Tensor;
use pyo3::prelude::*;
use pyo3::types::PyList;
use std::cell::RefCell;

fn py_tensors(ts: Vec<Tensor>) -> Vec<PyTensor> {
    ts.into_iter().map(PyTensor::new).collect()
}

fn rust_tensors(ts: &[PyRef<'_, PyTensor>]) -> Vec<Tensor> {
    ts.iter().map(|t| t.t.clone()).collect()
}

/// Calls `f(list of tensors)`, expecting one tensor back. A Python exception (or a result that
/// is not a tensor) becomes pending and a placeholder scalar is returned.
fn call_single(f: &Py<PyAny>, xs: &[Tensor]) -> Tensor {
    Python::attach(|py| {
        let r = (|| -> PyResult<Tensor> {
            let args = PyList::new(py, xs.iter().map(|t| PyTensor::new(t.clone())))?;
            let r = f.call1(py, (args,))?;
            let r = r.bind(py);
            r.cast::<PyTensor>()
                .map(|t| t.borrow().t.clone())
                .map_err(|_| {
                    type_error(format!(
                        "the function must return a Tensor, not {}",
                        crate::convert::type_name(r)
                    ))
                })
        })();
        r.unwrap_or_else(|e| {
            set_pending(e);
            Tensor::scalar(0.0)
        })
    })
}

/// Calls `f(list of tensors)`, expecting a list of tensors back (see [`call_single`]).
fn call_many(f: &Py<PyAny>, xs: &[Tensor]) -> Vec<Tensor> {
    Python::attach(|py| {
        let r = (|| -> PyResult<Vec<Tensor>> {
            let args = PyList::new(py, xs.iter().map(|t| PyTensor::new(t.clone())))?;
            let r = f.call1(py, (args,))?;
            let mut out = Vec::new();
            for o in r.bind(py).try_iter()? {
                let o = o?;
                out.push(
                    o.cast::<PyTensor>()
                        .map(|t| t.borrow().t.clone())
                        .map_err(|_| {
                            type_error(format!(
                                "the function must return Tensors, not {}",
                                crate::convert::type_name(&o)
                            ))
                        })?,
                );
            }
            Ok(out)
        })();
        r.unwrap_or_else(|e| {
            set_pending(e);
            Vec::new()
        })
    })
}

fn options(create_graph: bool, strict: bool) -> Options {
    Options {
        create_graph,
        strict,
    }
}

// ------------------------------------------------------------------ functional

/// `(f(inputs), vᵀ J)` for a single-output `f`.
#[pyfunction]
fn _vjp(
    f: Py<PyAny>,
    inputs: Vec<PyRef<'_, PyTensor>>,
    v: PyRef<'_, PyTensor>,
    create_graph: bool,
    strict: bool,
) -> PyResult<(PyTensor, Vec<PyTensor>)> {
    let xs = rust_tensors(&inputs);
    let v = v.t.clone();
    let r = guard(|| {
        functional::try_vjp(
            |a| call_single(&f, a),
            &xs,
            &v,
            options(create_graph, strict),
        )
    });
    let (o, g) = with_pending(r)?;
    Ok((PyTensor::new(o), py_tensors(g)))
}

/// `(f(inputs), J v)` for a single-output `f`.
#[pyfunction]
fn _jvp(
    f: Py<PyAny>,
    inputs: Vec<PyRef<'_, PyTensor>>,
    v: Vec<PyRef<'_, PyTensor>>,
    create_graph: bool,
    strict: bool,
) -> PyResult<(PyTensor, PyTensor)> {
    let xs = rust_tensors(&inputs);
    let v = rust_tensors(&v);
    let r = guard(|| {
        functional::try_jvp(
            |a| call_single(&f, a),
            &xs,
            &v,
            options(create_graph, strict),
        )
    });
    let (o, j) = with_pending(r)?;
    Ok((PyTensor::new(o), PyTensor::new(j)))
}

/// The Jacobian blocks (one per input, `out.shape + input.shape`) of a single-output `f`.
#[pyfunction]
fn _jacobian(
    f: Py<PyAny>,
    inputs: Vec<PyRef<'_, PyTensor>>,
    create_graph: bool,
    strict: bool,
    strategy: &str,
) -> PyResult<Vec<PyTensor>> {
    let xs = rust_tensors(&inputs);
    let s = match strategy {
        "reverse-mode" => Strategy::Reverse,
        "forward-mode" => Strategy::Forward,
        "auto" => Strategy::Auto,
        _ => return Err(value_error(format!("unknown strategy {strategy:?}"))),
    };
    let r = guard(|| {
        functional::try_jacobian_many_with(
            |a| call_single(&f, a),
            &xs,
            options(create_graph, strict),
            s,
        )
    });
    with_pending(r).map(py_tensors)
}

/// The Hessian blocks `[i][j]` of a scalar `f`.
#[pyfunction]
fn _hessian(
    f: Py<PyAny>,
    inputs: Vec<PyRef<'_, PyTensor>>,
    create_graph: bool,
    strict: bool,
) -> PyResult<Vec<Vec<PyTensor>>> {
    let xs = rust_tensors(&inputs);
    let r = guard(|| {
        functional::try_hessian_many(|a| call_single(&f, a), &xs, options(create_graph, strict))
    });
    Ok(with_pending(r)?.into_iter().map(py_tensors).collect())
}

/// `(f(inputs), vᵀ H)` (`hvp = false`) or `(f(inputs), H v)` (`hvp = true`) for a scalar `f`.
#[pyfunction]
fn _hessian_product(
    f: Py<PyAny>,
    inputs: Vec<PyRef<'_, PyTensor>>,
    v: Vec<PyRef<'_, PyTensor>>,
    create_graph: bool,
    strict: bool,
    hvp: bool,
) -> PyResult<(PyTensor, Vec<PyTensor>)> {
    let xs = rust_tensors(&inputs);
    let v = rust_tensors(&v);
    let o = options(create_graph, strict);
    let r = guard(|| {
        if hvp {
            functional::try_hvp(|a| call_single(&f, a), &xs, &v, o)
        } else {
            functional::try_vhp(|a| call_single(&f, a), &xs, &v, o)
        }
    });
    let (out, p) = with_pending(r)?;
    Ok((PyTensor::new(out), py_tensors(p)))
}

// ------------------------------------------------------------------ forward mode

thread_local! {
    /// The dual level opened from Python (`enter_dual_level` / `with dual_level():`).
    static LEVEL: RefCell<Option<DualLevel>> = const { RefCell::new(None) };
}

/// Opens the dual level (PyTorch numbers the first level 0; levels do not nest).
#[pyfunction]
fn _enter_dual_level() -> PyResult<i64> {
    let level = guard(forward_ad::try_dual_level)?;
    LEVEL.with(|l| *l.borrow_mut() = Some(level));
    Ok(0)
}

/// Closes the dual level opened by [`_enter_dual_level`].
#[pyfunction]
fn _exit_dual_level() -> PyResult<()> {
    let level = LEVEL.with(|l| l.borrow_mut().take());
    match level {
        Some(level) => {
            drop(level);
            Ok(())
        }
        None => Err(runtime_error(
            "Trying to exit a forward AD level that was not the last one that was created. This is not supported.",
        )),
    }
}

/// Whether a dual level is open.
#[pyfunction]
fn _dual_level_open() -> bool {
    forward_ad::is_enabled()
}

/// `make_dual(primal, tangent)`.
#[pyfunction]
fn _make_dual(primal: PyRef<'_, PyTensor>, tangent: PyRef<'_, PyTensor>) -> PyResult<PyTensor> {
    let (p, t) = (primal.t.clone(), tangent.t.clone());
    guard(|| forward_ad::try_make_dual(&p, &t)).map(PyTensor::new)
}

/// `(primal, tangent or None)`.
#[pyfunction]
fn _unpack_dual(t: PyRef<'_, PyTensor>) -> PyResult<(PyTensor, Option<PyTensor>)> {
    let t = t.t.clone();
    let (p, tg) = guard(|| Ok(forward_ad::unpack_dual(&t)))?;
    Ok((PyTensor::new(p), tg.map(PyTensor::new)))
}

// ------------------------------------------------------------------ gradcheck

/// Checks derivatives of orders `1..=order` of `f` (tensors in, a list of tensors out).
/// Returns `None` when they agree, the failure's message otherwise.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn _check_grads(
    f: Py<PyAny>,
    inputs: Vec<PyRef<'_, PyTensor>>,
    order: usize,
    eps: f64,
    atol: f64,
    rtol: f64,
    fast_mode: bool,
    check_forward_ad: bool,
) -> PyResult<Option<String>> {
    let xs = rust_tensors(&inputs);
    let o = GradcheckOptions {
        eps,
        atol,
        rtol,
        fast_mode,
        check_forward_ad,
    };
    let r = guard(|| {
        Ok(
            testing::check_grads(&|a: &[Tensor]| call_many(&f, a), &xs, order, o)
                .err()
                .map(|e| e.to_string()),
        )
    });
    with_pending(r)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    crate::function::register(m)?;
    m.add_function(wrap_pyfunction!(_vjp, m)?)?;
    m.add_function(wrap_pyfunction!(_jvp, m)?)?;
    m.add_function(wrap_pyfunction!(_jacobian, m)?)?;
    m.add_function(wrap_pyfunction!(_hessian, m)?)?;
    m.add_function(wrap_pyfunction!(_hessian_product, m)?)?;
    m.add_function(wrap_pyfunction!(_enter_dual_level, m)?)?;
    m.add_function(wrap_pyfunction!(_exit_dual_level, m)?)?;
    m.add_function(wrap_pyfunction!(_dual_level_open, m)?)?;
    m.add_function(wrap_pyfunction!(_make_dual, m)?)?;
    m.add_function(wrap_pyfunction!(_unpack_dual, m)?)?;
    m.add_function(wrap_pyfunction!(_check_grads, m)?)?;
    Ok(())
}
