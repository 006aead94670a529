//! `ferrograd.float32` and friends: dtype objects whose repr is PyTorch's.

use ferrograd::DType;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

/// A dtype (`torch.dtype`): one object per dtype, so `x.dtype is ferrograd.float32` holds.
#[pyclass(name = "dtype", module = "ferrograd", frozen, eq, hash)]
#[derive(PartialEq, Eq, Hash, Clone, Copy)]
pub struct PyDType {
    /// The Rust dtype.
    pub d: DType,
}

static DTYPES: PyOnceLock<[Py<PyDType>; 4]> = PyOnceLock::new();

impl PyDType {
    /// The one Python object for `d`.
    pub fn get(py: Python<'_>, d: DType) -> Py<PyDType> {
        let all = DTYPES.get_or_init(py, || {
            [DType::F32, DType::F64, DType::I64, DType::Bool]
                .map(|d| Py::new(py, PyDType { d }).expect("allocating a dtype object"))
        });
        let i = match d {
            DType::F32 => 0,
            DType::F64 => 1,
            DType::I64 => 2,
            DType::Bool => 3,
        };
        all[i].clone_ref(py)
    }
}

#[pymethods]
impl PyDType {
    fn __repr__(&self) -> String {
        self.d.to_string()
    }

    #[getter]
    fn is_floating_point(&self) -> bool {
        self.d.is_floating_point()
    }

    #[getter]
    fn is_complex(&self) -> bool {
        false
    }

    #[getter]
    fn is_signed(&self) -> bool {
        self.d != DType::Bool
    }

    #[getter]
    fn itemsize(&self) -> usize {
        match self.d {
            DType::F32 => 4,
            DType::F64 | DType::I64 => 8,
            DType::Bool => 1,
        }
    }

    fn __reduce__(&self) -> String {
        self.d.to_string().trim_start_matches("torch.").to_string()
    }
}
