//! Construction, grad mode, anomaly mode, `autograd.grad` and `autograd.backward`.

use crate::convert;
use crate::dtype::PyDType;
use crate::errors::{guard, type_error, with_pending};
use crate::tensor::{optional_tensor_list, tensor_list, PyTensor};
use ferrograd::{autograd, BackwardOptions, DType, GradOptions, Tensor};
use pyo3::prelude::*;

fn dt(d: Option<PyRef<'_, PyDType>>, default: DType) -> DType {
    d.map_or(default, |d| d.d)
}

/// `ferrograd.tensor(data, *, dtype=None, requires_grad=False)`.
#[pyfunction]
#[pyo3(signature = (data, *, dtype = None, requires_grad = false))]
fn tensor(
    data: &Bound<'_, PyAny>,
    dtype: Option<PyRef<'_, PyDType>>,
    requires_grad: bool,
) -> PyResult<PyTensor> {
    let t = convert::tensor_from_data(data, dtype.map(|d| d.d))?;
    if requires_grad {
        guard(|| t.try_requires_grad_(true))?;
    }
    Ok(PyTensor::new(t))
}

/// A tensor of `shape` filled with `value`.
#[pyfunction]
#[pyo3(signature = (shape, value, dtype = None))]
fn _full(shape: Vec<usize>, value: f64, dtype: Option<PyRef<'_, PyDType>>) -> PyResult<PyTensor> {
    let d = dt(dtype, DType::F32);
    guard(|| Tensor::try_full_with(&shape, value, d)).map(PyTensor::new)
}

/// `arange(start, end, step)` of `dtype`.
#[pyfunction]
fn _arange(start: f64, end: f64, step: f64, dtype: PyRef<'_, PyDType>) -> PyResult<PyTensor> {
    guard(|| Tensor::try_arange(start, end, step, dtype.d)).map(PyTensor::new)
}

/// `linspace(start, end, steps)` of `dtype`.
#[pyfunction]
fn _linspace(start: f64, end: f64, steps: i64, dtype: PyRef<'_, PyDType>) -> PyResult<PyTensor> {
    if steps < 0 {
        return Err(crate::errors::runtime_error(
            "linspace(): number of steps must be non-negative",
        ));
    }
    let d = dtype.d;
    guard(|| Ok(Tensor::linspace_with(start, end, steps as usize, d))).map(PyTensor::new)
}

/// The `n x n` identity of `dtype`.
#[pyfunction]
fn _eye(n: usize, dtype: PyRef<'_, PyDType>) -> PyResult<PyTensor> {
    let d = dtype.d;
    guard(|| Tensor::try_eye_with(n, d)).map(PyTensor::new)
}

/// Uniform samples in `[0, 1)`.
#[pyfunction]
fn _rand(shape: Vec<usize>, dtype: PyRef<'_, PyDType>) -> PyResult<PyTensor> {
    let d = dtype.d;
    guard(|| Ok(Tensor::rand_with(&shape, d))).map(PyTensor::new)
}

/// Standard normal samples.
#[pyfunction]
fn _randn(shape: Vec<usize>, dtype: PyRef<'_, PyDType>) -> PyResult<PyTensor> {
    let d = dtype.d;
    guard(|| Ok(Tensor::randn_with(&shape, d))).map(PyTensor::new)
}

/// Seeds the random generator (`torch.manual_seed`).
#[pyfunction]
fn manual_seed(seed: i64) {
    ferrograd::manual_seed(seed as u64);
}

/// Whether operations are being recorded on this thread.
#[pyfunction]
fn is_grad_enabled() -> bool {
    ferrograd::is_grad_enabled()
}

/// Sets grad mode on this thread (until set again); returns the previous mode.
#[pyfunction]
fn _set_grad_enabled(enabled: bool) -> bool {
    let previous = ferrograd::is_grad_enabled();
    // The guard would restore the previous mode when dropped; the Python context managers
    // restore it themselves, so the guard is forgotten (it holds no resource).
    std::mem::forget(ferrograd::set_grad_enabled(enabled));
    previous
}

/// Whether anomaly detection is on.
#[pyfunction]
fn is_anomaly_enabled() -> bool {
    ferrograd::is_anomaly_enabled()
}

/// Turns anomaly detection on or off.
#[pyfunction]
fn _set_detect_anomaly(enabled: bool) {
    ferrograd::set_detect_anomaly(enabled);
}

/// Seeds for `outputs`: the given gradients, with `None` meaning ones for a one-element
/// output (an error otherwise, as PyTorch's).
fn seeds(outputs: &[Tensor], given: Vec<Option<Tensor>>) -> PyResult<Option<Vec<Tensor>>> {
    if given.is_empty() {
        return Ok(None);
    }
    if given.len() != outputs.len() {
        return Err(crate::errors::runtime_error(format!(
            "grad requires one grad_output per output: got {} tensors and {} gradients",
            outputs.len(),
            given.len()
        )));
    }
    given
        .into_iter()
        .zip(outputs)
        .map(|(g, o)| match g {
            Some(g) => Ok(g),
            None if o.numel() == 1 => guard(|| Tensor::try_full_with(o.shape(), 1.0, o.dtype())),
            None => Err(crate::errors::runtime_error(
                "grad can be implicitly created only for scalar outputs",
            )),
        })
        .collect::<PyResult<Vec<_>>>()
        .map(Some)
}

/// `torch.autograd.grad`'s core: one gradient (or `None`) per input.
#[pyfunction]
#[pyo3(signature = (outputs, inputs, grad_outputs = None, retain_graph = None, create_graph = false, allow_unused = false))]
fn _grad(
    py: Python<'_>,
    outputs: &Bound<'_, PyAny>,
    inputs: &Bound<'_, PyAny>,
    grad_outputs: Option<&Bound<'_, PyAny>>,
    retain_graph: Option<bool>,
    create_graph: bool,
    allow_unused: bool,
) -> PyResult<Vec<Option<PyTensor>>> {
    let outs = tensor_list(Some(outputs), "outputs")?;
    let ins = tensor_list(Some(inputs), "inputs")?;
    let given = match grad_outputs {
        Some(g) => optional_tensor_list(g)?,
        None => Vec::new(),
    };
    let mut opts = GradOptions::new()
        .create_graph(create_graph)
        .retain_graph(retain_graph.unwrap_or(create_graph))
        .allow_unused(allow_unused);
    if let Some(s) = seeds(&outs, given)? {
        opts = opts.grad_outputs(s);
    }
    let r = py.detach(|| guard(|| autograd::try_grad(&outs, &ins, opts)));
    Ok(with_pending(r)?
        .into_iter()
        .map(|g| g.map(PyTensor::new))
        .collect())
}

/// `torch.autograd.backward`'s core.
#[pyfunction]
#[pyo3(signature = (tensors, grad_tensors = None, retain_graph = None, create_graph = false, inputs = None))]
fn _backward(
    py: Python<'_>,
    tensors: &Bound<'_, PyAny>,
    grad_tensors: Option<&Bound<'_, PyAny>>,
    retain_graph: Option<bool>,
    create_graph: bool,
    inputs: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    let outs = tensor_list(Some(tensors), "tensors")?;
    let given = match grad_tensors {
        Some(g) => optional_tensor_list(g)?,
        None => Vec::new(),
    };
    let mut opts = BackwardOptions::new()
        .create_graph(create_graph)
        .retain_graph(retain_graph.unwrap_or(create_graph));
    if let Some(s) = seeds(&outs, given)? {
        opts = opts.gradients(&s);
    }
    let ins = tensor_list(inputs, "inputs")?;
    if !ins.is_empty() {
        opts = opts.inputs(&ins);
    }
    let r = py.detach(|| guard(|| autograd::backward(&outs, &opts)));
    with_pending(r)
}

/// The number of nodes in `output`'s backward graph.
#[pyfunction]
fn _graph_size(output: PyRef<'_, PyTensor>) -> usize {
    autograd::graph_size(&output.t)
}

/// `x` (any object) as a tensor, or a `TypeError` naming `what`.
pub fn expect_tensor(x: &Bound<'_, PyAny>, what: &str) -> PyResult<Tensor> {
    x.cast::<PyTensor>()
        .map(|t| t.borrow().t.clone())
        .map_err(|_| {
            type_error(format!(
                "{what} must be a Tensor, not {}",
                convert::type_name(x)
            ))
        })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(tensor, m)?)?;
    m.add_function(wrap_pyfunction!(_full, m)?)?;
    m.add_function(wrap_pyfunction!(_arange, m)?)?;
    m.add_function(wrap_pyfunction!(_linspace, m)?)?;
    m.add_function(wrap_pyfunction!(_eye, m)?)?;
    m.add_function(wrap_pyfunction!(_rand, m)?)?;
    m.add_function(wrap_pyfunction!(_randn, m)?)?;
    m.add_function(wrap_pyfunction!(manual_seed, m)?)?;
    m.add_function(wrap_pyfunction!(is_grad_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_set_grad_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(is_anomaly_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_set_detect_anomaly, m)?)?;
    m.add_function(wrap_pyfunction!(_grad, m)?)?;
    m.add_function(wrap_pyfunction!(_backward, m)?)?;
    m.add_function(wrap_pyfunction!(_graph_size, m)?)?;
    Ok(())
}
