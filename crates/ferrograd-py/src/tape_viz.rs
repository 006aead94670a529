//! TensorFlow's `GradientTape` and torchviz's `make_dot` over the library's `tape` and
//! `viz` modules. The Python surface (context manager, nested sources, the `Digraph`-like
//! result of `make_dot`) is `python/ferrograd/_tape.py` and `python/ferrograd/viz.py`.

use crate::autograd::expect_tensor;
use crate::errors::{guard, value_error};
use crate::tensor::PyTensor;
use ferrograd::tape::{GradientTape, UnconnectedGradients};
use ferrograd::{viz, Tensor};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// The Rust tape (`ferrograd._C._GradientTape`); `ferrograd.GradientTape` wraps it.
///
/// Unsendable: a tape belongs to the thread that made it, as the recording state it tracks.
#[pyclass(name = "_GradientTape", module = "ferrograd._C", unsendable)]
pub struct PyGradientTape {
    tape: GradientTape,
    persistent: bool,
}

fn unconnected(which: &str) -> PyResult<UnconnectedGradients> {
    match which {
        "none" => Ok(UnconnectedGradients::None),
        "zero" => Ok(UnconnectedGradients::Zero),
        other => Err(value_error(format!(
            "Unknown value for unconnected_gradients: '{other}' (expected 'none' or 'zero')"
        ))),
    }
}

#[pymethods]
impl PyGradientTape {
    /// A tape; `persistent=True` allows several `gradient`/`jacobian` calls.
    #[new]
    #[pyo3(signature = (persistent = false))]
    fn py_new(persistent: bool) -> PyGradientTape {
        let tape = if persistent {
            GradientTape::persistent()
        } else {
            GradientTape::new()
        };
        PyGradientTape { tape, persistent }
    }

    /// Whether the tape can be used more than once.
    #[getter]
    fn persistent(&self) -> bool {
        self.persistent
    }

    /// Starts tracking `t` (it is made to require grad).
    fn watch(&self, t: &Bound<'_, PyAny>) -> PyResult<()> {
        let t = expect_tensor(t, "watch(): argument 'tensor'")?;
        guard(|| self.tape.try_watch(&t))
    }

    /// The watched tensors, in the order they were watched.
    fn watched_variables(&self) -> Vec<PyTensor> {
        self.tape
            .watched_variables()
            .into_iter()
            .map(PyTensor::new)
            .collect()
    }

    /// Gradients of `target` (summed over its elements) with respect to each of `sources`
    /// (`None` for an unconnected one, or zeros with `unconnected_gradients='zero'`).
    #[pyo3(signature = (target, sources, output_gradients = None, unconnected_gradients = "none"))]
    fn gradient(
        &self,
        target: &Bound<'_, PyAny>,
        sources: Vec<Bound<'_, PyAny>>,
        output_gradients: Option<&Bound<'_, PyAny>>,
        unconnected_gradients: &str,
    ) -> PyResult<Vec<Option<PyTensor>>> {
        let target = expect_tensor(target, "gradient(): argument 'target'")?;
        let sources = sources
            .iter()
            .map(|s| expect_tensor(s, "gradient(): each source"))
            .collect::<PyResult<Vec<Tensor>>>()?;
        let seed = output_gradients
            .map(|g| expect_tensor(g, "gradient(): argument 'output_gradients'"))
            .transpose()?;
        let which = unconnected(unconnected_gradients)?;
        let refs: Vec<&Tensor> = sources.iter().collect();
        let grads = guard(|| self.tape.gradient_ext(&target, &refs, seed.as_ref(), which))?;
        Ok(grads.into_iter().map(|g| g.map(PyTensor::new)).collect())
    }

    /// The Jacobian of `target` with respect to `source`, shaped `target.shape + source.shape`.
    fn jacobian(&self, target: &Bound<'_, PyAny>, source: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        let target = expect_tensor(target, "jacobian(): argument 'target'")?;
        let source = expect_tensor(source, "jacobian(): argument 'source'")?;
        guard(|| self.tape.try_jacobian(&target, &source)).map(PyTensor::new)
    }

    /// Per-example Jacobians: `[B, ...]` target and source give `[B, target..., source...]`.
    fn batch_jacobian(
        &self,
        target: &Bound<'_, PyAny>,
        source: &Bound<'_, PyAny>,
    ) -> PyResult<PyTensor> {
        let target = expect_tensor(target, "batch_jacobian(): argument 'target'")?;
        let source = expect_tensor(source, "batch_jacobian(): argument 'source'")?;
        guard(|| self.tape.try_batch_jacobian(&target, &source)).map(PyTensor::new)
    }
}

/// torchviz's `make_dot` as DOT text: the backward graph of `var`, `params` naming tensors
/// (`(name, tensor)` pairs), `show_saved` adding the tensors each node saved.
#[pyfunction]
#[pyo3(signature = (var, params, show_saved = false))]
fn _make_dot(
    var: &Bound<'_, PyAny>,
    params: Vec<(String, Bound<'_, PyAny>)>,
    show_saved: bool,
) -> PyResult<String> {
    let var = expect_tensor(var, "make_dot(): argument 'var'")?;
    let named = params
        .iter()
        .map(|(n, t)| {
            Ok((
                n.clone(),
                expect_tensor(t, "make_dot(): each value of 'params'")?,
            ))
        })
        .collect::<PyResult<Vec<(String, Tensor)>>>()?;
    let refs: Vec<(&str, &Tensor)> = named.iter().map(|(n, t)| (n.as_str(), t)).collect();
    guard(|| Ok(viz::make_dot(&var, &refs, show_saved)))
}

/// DOT text laid out and drawn as SVG, without Graphviz.
#[pyfunction]
fn _render_svg(dot: &str) -> PyResult<String> {
    guard(|| viz::render_svg(dot))
}

/// SVG text rasterised to PNG bytes.
#[pyfunction]
fn _svg_to_png<'py>(py: Python<'py>, svg: &str) -> PyResult<Bound<'py, PyBytes>> {
    let png = guard(|| viz::svg_to_png(svg))?;
    Ok(PyBytes::new(py, &png))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyGradientTape>()?;
    m.add_function(wrap_pyfunction!(_make_dot, m)?)?;
    m.add_function(wrap_pyfunction!(_render_svg, m)?)?;
    m.add_function(wrap_pyfunction!(_svg_to_png, m)?)?;
    Ok(())
}
