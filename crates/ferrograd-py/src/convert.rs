//! Python data (numbers, nested sequences, numpy arrays) to tensors and back.

use crate::errors::{guard, type_error, value_error};
use crate::tensor::PyTensor;
use ferrograd::{DType, Tensor};
use numpy::{PyArray1, PyArrayDyn, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PyTuple};
use pyo3::IntoPyObjectExt;

/// One element read from Python, before the tensor's dtype is known.
#[derive(Clone, Copy)]
enum Elem {
    B(bool),
    I(i64),
    F(f64),
}

/// The dtype PyTorch infers for data with these elements: float32 if any is a float, int64
/// if any is an integer, bool otherwise (an empty list: float32).
fn inferred(elems: &[Elem]) -> DType {
    let mut dt = DType::Bool;
    for e in elems {
        match e {
            Elem::F(_) => return DType::F32,
            Elem::I(_) => dt = DType::I64,
            Elem::B(_) => {}
        }
    }
    if elems.is_empty() {
        DType::F32
    } else {
        dt
    }
}

fn scalar_elem(obj: &Bound<'_, PyAny>) -> PyResult<Option<Elem>> {
    if obj.is_instance_of::<PyBool>() {
        return Ok(Some(Elem::B(obj.extract()?)));
    }
    if obj.is_instance_of::<PyInt>() {
        return match obj.extract::<i64>() {
            Ok(i) => Ok(Some(Elem::I(i))),
            Err(_) => Err(value_error("Overflow when unpacking long long")),
        };
    }
    if obj.is_instance_of::<PyFloat>() {
        return Ok(Some(Elem::F(obj.extract()?)));
    }
    Ok(None)
}

fn is_sequence(obj: &Bound<'_, PyAny>) -> bool {
    obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>()
}

fn has_array_interface(obj: &Bound<'_, PyAny>) -> bool {
    obj.hasattr("__array_interface__").unwrap_or(false)
}

/// Walks nested lists and tuples of numbers (or 0-d tensors), checking that they are not
/// ragged, into a shape and the elements in row-major order.
fn walk(
    obj: &Bound<'_, PyAny>,
    depth: usize,
    shape: &mut Vec<usize>,
    out: &mut Vec<Elem>,
) -> PyResult<()> {
    if let Some(e) = scalar_elem(obj)? {
        if depth != shape.len() {
            // PyTorch's words for a number where a sequence is expected.
            return Err(type_error("not a sequence"));
        }
        out.push(e);
        return Ok(());
    }
    if let Ok(t) = obj.extract::<PyRef<'_, PyTensor>>() {
        let t = t.t.clone();
        if t.numel() == 1 && t.dim() == 0 && depth == shape.len() {
            out.push(elem_of(&t));
            return Ok(());
        }
        return Err(value_error(
            "only one element tensors can be converted to Python scalars",
        ));
    }
    if has_array_interface(obj) && !is_sequence(obj) {
        // A numpy scalar or array inside a list: read it as a list.
        let list = obj.call_method0("tolist")?;
        return walk(&list, depth, shape, out);
    }
    if !is_sequence(obj) {
        if obj.is_instance_of::<pyo3::types::PyString>() {
            return Err(type_error(format!(
                "new(): invalid data type '{}'",
                type_name(obj)
            )));
        }
        return Err(crate::errors::runtime_error(format!(
            "Could not infer dtype of {}",
            type_name(obj)
        )));
    }
    let n = obj.len()?;
    if depth == shape.len() {
        if !out.is_empty() {
            return Err(type_error(format!(
                "'{}' object cannot be interpreted as a number (expected a number at dim {depth})",
                type_name(obj)
            )));
        }
        shape.push(n);
    } else if shape[depth] != n {
        return Err(value_error(format!(
            "expected sequence of length {} at dim {depth} (got {n})",
            shape[depth]
        )));
    }
    for item in obj.try_iter()? {
        walk(&item?, depth + 1, shape, out)?;
    }
    Ok(())
}

fn elem_of(t: &Tensor) -> Elem {
    match t.dtype() {
        DType::Bool => Elem::B(t.to_vec::<bool>()[0]),
        DType::I64 => Elem::I(t.to_vec::<i64>()[0]),
        _ => Elem::F(t.to_vec::<f64>()[0]),
    }
}

/// The Python type's name, as PyTorch's messages show it.
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".into())
}

fn build(elems: &[Elem], shape: &[usize], dtype: DType) -> PyResult<Tensor> {
    guard(|| match dtype {
        DType::Bool => Tensor::try_from_vec(
            elems
                .iter()
                .map(|e| match *e {
                    Elem::B(b) => b,
                    Elem::I(i) => i != 0,
                    Elem::F(f) => f != 0.0,
                })
                .collect::<Vec<bool>>(),
            shape,
        ),
        DType::I64 => Tensor::try_from_vec(
            elems
                .iter()
                .map(|e| match *e {
                    Elem::B(b) => b as i64,
                    Elem::I(i) => i,
                    Elem::F(f) => f as i64,
                })
                .collect::<Vec<i64>>(),
            shape,
        ),
        DType::F64 => Tensor::try_from_vec(elems.iter().map(elem_f64).collect(), shape),
        DType::F32 => Tensor::try_from_vec(
            elems
                .iter()
                .map(|e| elem_f64(e) as f32)
                .collect::<Vec<f32>>(),
            shape,
        ),
    })
}

fn elem_f64(e: &Elem) -> f64 {
    match *e {
        Elem::B(b) => b as i64 as f64,
        Elem::I(i) => i as f64,
        Elem::F(f) => f,
    }
}

/// `ferrograd.tensor(data, dtype=None)`: a new leaf holding a copy of `data`.
pub fn tensor_from_data(obj: &Bound<'_, PyAny>, dtype: Option<DType>) -> PyResult<Tensor> {
    if let Ok(t) = obj.extract::<PyRef<'_, PyTensor>>() {
        let t = t.t.detach();
        return guard(|| Ok(t.deep_clone().to_dtype(dtype.unwrap_or(t.dtype()))));
    }
    if has_array_interface(obj) && !is_sequence(obj) {
        return from_numpy(obj, dtype);
    }
    let mut shape = Vec::new();
    let mut elems = Vec::new();
    walk(obj, 0, &mut shape, &mut elems)?;
    build(&elems, &shape, dtype.unwrap_or_else(|| inferred(&elems)))
}

/// A tensor from anything numpy can read as an array (numpy arrays and scalars): float32,
/// float64, integers (as int64) and bool keep their dtype unless `dtype` is given.
pub fn from_numpy(obj: &Bound<'_, PyAny>, dtype: Option<DType>) -> PyResult<Tensor> {
    let py = obj.py();
    let np = py.import("numpy")?;
    let arr = np.call_method1("asarray", (obj,))?;
    let kind: String = arr.getattr("dtype")?.getattr("kind")?.extract()?;
    let name: String = arr.getattr("dtype")?.getattr("name")?.extract()?;
    let (np_name, natural) = match (kind.as_str(), name.as_str()) {
        ("f", "float64") => ("float64", DType::F64),
        ("f", _) => ("float32", DType::F32),
        ("i" | "u", _) => ("int64", DType::I64),
        ("b", _) => ("bool", DType::Bool),
        _ => {
            return Err(type_error(format!(
                "can't convert np.ndarray of type numpy.{name}. The only supported types are: float64, float32, float16, int64, int32, int16, int8, uint8, and bool."
            )))
        }
    };
    let arr = arr.call_method1("astype", (np_name,))?;
    let shape: Vec<usize> = arr.getattr("shape")?.extract()?;
    let t = match natural {
        DType::F64 => {
            let a = arr.cast_into::<PyArrayDyn<f64>>()?;
            let v: Vec<f64> = a.readonly().as_array().iter().copied().collect();
            guard(|| Tensor::try_from_vec(v, &shape))?
        }
        DType::F32 => {
            let a = arr.cast_into::<PyArrayDyn<f32>>()?;
            let v: Vec<f32> = a.readonly().as_array().iter().copied().collect();
            guard(|| Tensor::try_from_vec(v, &shape))?
        }
        DType::I64 => {
            let a = arr.cast_into::<PyArrayDyn<i64>>()?;
            let v: Vec<i64> = a.readonly().as_array().iter().copied().collect();
            guard(|| Tensor::try_from_vec(v, &shape))?
        }
        DType::Bool => {
            let a = arr.cast_into::<PyArrayDyn<bool>>()?;
            let v: Vec<bool> = a.readonly().as_array().iter().copied().collect();
            guard(|| Tensor::try_from_vec(v, &shape))?
        }
    };
    match dtype {
        Some(d) if d != t.dtype() => guard(|| Ok(t.to_dtype(d))),
        _ => Ok(t),
    }
}

/// The tensor as a numpy array (a copy) of its dtype.
pub fn to_numpy<'py>(py: Python<'py>, t: &Tensor) -> PyResult<Bound<'py, PyAny>> {
    let shape = t.shape().to_vec();
    let arr = match t.dtype() {
        DType::F32 => PyArray1::from_vec(py, t.to_vec::<f32>()).into_any(),
        DType::F64 => PyArray1::from_vec(py, t.to_vec::<f64>()).into_any(),
        DType::I64 => PyArray1::from_vec(py, t.to_vec::<i64>()).into_any(),
        DType::Bool => PyArray1::from_vec(py, t.to_vec::<bool>()).into_any(),
    };
    arr.call_method1("reshape", (PyTuple::new(py, shape)?,))
}

/// The elements as nested Python lists (a number for a 0-d tensor), as `tolist()`.
pub fn to_list<'py>(py: Python<'py>, t: &Tensor) -> PyResult<Bound<'py, PyAny>> {
    let shape = t.shape().to_vec();
    match t.dtype() {
        DType::Bool => nest(py, &t.to_vec::<bool>(), &shape),
        DType::I64 => nest(py, &t.to_vec::<i64>(), &shape),
        _ => nest(py, &t.to_vec::<f64>(), &shape),
    }
}

fn nest<'py, T>(py: Python<'py>, v: &[T], shape: &[usize]) -> PyResult<Bound<'py, PyAny>>
where
    T: Copy + IntoPyObject<'py>,
{
    if shape.is_empty() {
        return v[0].into_bound_py_any(py);
    }
    let inner: usize = shape[1..].iter().product();
    let items = (0..shape[0])
        .map(|i| nest(py, &v[i * inner..(i + 1) * inner], &shape[1..]))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(PyList::new(py, items)?.into_any())
}

/// The 0-d tensor's value as a Python number of its kind (`item()`).
pub fn item<'py>(py: Python<'py>, t: &Tensor) -> PyResult<Bound<'py, PyAny>> {
    if t.numel() != 1 {
        return Err(crate::errors::runtime_error(format!(
            "a Tensor with {} elements cannot be converted to Scalar",
            t.numel()
        )));
    }
    // Refuses a batched tensor (inside vmap) with vmap's error instead of reading it.
    let value = t.try_item().map_err(crate::errors::to_py)?;
    match t.dtype() {
        DType::F32 | DType::F64 => value.into_bound_py_any(py),
        DType::Bool => t.to_vec::<bool>()[0].into_bound_py_any(py),
        DType::I64 => t.to_vec::<i64>()[0].into_bound_py_any(py),
    }
}
