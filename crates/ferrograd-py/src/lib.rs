//! `ferrograd._C`: the extension module under the `ferrograd` Python package.
//!
//! Thin by design: wrappers over the library's public API. Tensors, dtypes and graph nodes
//! are classes here; every registered op reaches Python through `ops.rs` (the registry), and
//! the PyTorch-shaped surface (overloads, keyword names, `torch.Size`, context managers) is
//! Python in `python/ferrograd/`.

mod autograd;
mod convert;
mod dtype;
mod errors;
mod extras;
mod func;
mod function;
mod graph;
mod ops;
mod tape_viz;
mod tensor;

use pyo3::prelude::*;

#[pymodule]
#[pyo3(name = "_C")]
fn extension(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<tensor::PyTensor>()?;
    m.add_class::<tensor::PyHookHandle>()?;
    m.add_class::<dtype::PyDType>()?;
    m.add_class::<graph::PyGradFn>()?;
    m.add_class::<ops::PyOp>()?;
    m.add_class::<ops::PyBoundOp>()?;
    m.add_function(wrap_pyfunction!(ops::ops, m)?)?;
    let py = m.py();
    for (name, d) in [
        ("float32", ferrograd::DType::F32),
        ("float64", ferrograd::DType::F64),
        ("int64", ferrograd::DType::I64),
        ("bool", ferrograd::DType::Bool),
    ] {
        m.add(name, dtype::PyDType::get(py, d))?;
    }
    autograd::register(m)?;
    extras::register(m)?;
    func::register(m)?;
    tape_viz::register(m)?;
    Ok(())
}
