//! TensorFlow's `GradientTape` and torchviz's `make_dot` over the library's `tape` and
//! `viz` modules.

use pyo3::prelude::*;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let _ = m;
    Ok(())
}
