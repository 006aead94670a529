//! `ferrograd.Tensor`: a Python handle on a Rust [`Tensor`], with the operators, autograd
//! attributes and conversions written here; every other method comes from the registry
//! (`ops.rs`) and the PyTorch-shaped overloads in `python/ferrograd/_tensor.py`.

use crate::convert;
use crate::dtype::PyDType;
use crate::errors::{guard, guard_py, runtime_error, set_pending, type_error, with_pending};
use ferrograd::{BackwardOptions, DType, Tensor};
use pyo3::basic::CompareOp;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyTuple};

/// Above this many elements an op runs with the GIL released, so other Python threads run.
pub const DETACH_NUMEL: usize = 1 << 15;

/// A tensor (`ferrograd.Tensor`, PyTorch's `torch.Tensor`).
#[pyclass(name = "Tensor", module = "ferrograd", weakref, subclass)]
pub struct PyTensor {
    /// The Rust tensor. Replaced (never mutated) by `.data = ...` and `detach_()`.
    pub t: Tensor,
}

impl PyTensor {
    /// Wraps `t`.
    pub fn new(t: Tensor) -> PyTensor {
        PyTensor { t }
    }
}

/// A Python number on the other side of an operator, with its kind (PyTorch promotes an
/// integer tensor to float32 for a float, a bool tensor to int64 for an int).
#[derive(Clone, Copy)]
pub enum Number {
    Bool(bool),
    Int(i64),
    Float(f64),
}

impl Number {
    /// The number, if `obj` is a Python bool, int or float.
    pub fn of(obj: &Bound<'_, PyAny>) -> PyResult<Option<Number>> {
        Ok(if obj.is_instance_of::<PyBool>() {
            Some(Number::Bool(obj.extract()?))
        } else if obj.is_instance_of::<PyInt>() {
            match obj.extract::<i64>() {
                Ok(i) => Some(Number::Int(i)),
                Err(_) => Some(Number::Float(obj.extract::<f64>()?)),
            }
        } else if obj.is_instance_of::<PyFloat>() {
            Some(Number::Float(obj.extract()?))
        } else if is_numpy(obj)
            && obj.getattr("ndim").and_then(|n| n.extract::<usize>()).ok() == Some(0)
        {
            // A numpy scalar (`np.float32(2)`, `np.sqrt(2)`, `np.int64(3)`) is a number, as in
            // PyTorch: its Python value.
            Number::of(&obj.call_method0("item")?)?
        } else {
            None
        })
    }

    /// As `f64`.
    pub fn value(self) -> f64 {
        match self {
            Number::Bool(b) => b as i64 as f64,
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    /// The dtype `t op number` has in PyTorch.
    pub fn result_dtype(self, t: DType) -> DType {
        match (self, t) {
            (Number::Float(_), DType::I64 | DType::Bool) => DType::F32,
            (Number::Int(_), DType::Bool) => DType::I64,
            _ => t,
        }
    }

    /// This number as a 0-d tensor of `dtype` (an integer as `int64` exactly, beyond 2^53).
    pub fn tensor(self, dtype: DType) -> PyResult<Tensor> {
        if let (Number::Int(i), DType::I64) = (self, dtype) {
            return Ok(Tensor::from_vec(vec![i], &[]));
        }
        guard(|| Tensor::try_full_with(&[], self.value(), dtype))
    }
}

/// The other operand of an operator: a tensor, a number, or something else (the operator then
/// returns `NotImplemented`, as PyTorch's do).
pub enum Operand {
    Tensor(Tensor),
    Number(Number),
}

impl Operand {
    fn of(obj: &Bound<'_, PyAny>) -> PyResult<Option<Operand>> {
        if let Ok(t) = obj.cast::<PyTensor>() {
            return Ok(Some(Operand::Tensor(t.borrow().t.clone())));
        }
        if let Some(n) = Number::of(obj)? {
            return Ok(Some(Operand::Number(n)));
        }
        if is_numpy(obj) && obj.hasattr("__array_interface__")? {
            // A numpy array operand is read as a tensor (`torch.ones(2) + np.ones(2)`).
            return Ok(Some(Operand::Tensor(convert::from_numpy(obj, None)?)));
        }
        Ok(None)
    }
}

/// Whether `obj` is a numpy object (array or scalar), by its type's module: cheap, and numpy
/// is never imported to answer.
fn is_numpy(obj: &Bound<'_, PyAny>) -> bool {
    obj.get_type().module().is_ok_and(|m| m == "numpy")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Rem,
    FloorDiv,
    MatMul,
    And,
    Or,
    Xor,
    LShift,
    RShift,
}

/// Runs `f` under [`guard`], with the GIL released when `numel` is large.
pub fn run<T: Send>(
    py: Python<'_>,
    numel: usize,
    f: impl FnOnce() -> ferrograd::Result<T> + Send,
) -> PyResult<T> {
    if numel >= DETACH_NUMEL {
        py.detach(|| guard(f))
    } else {
        guard(f)
    }
}

fn arith_tensor(op: Arith, a: &Tensor, b: &Tensor) -> ferrograd::Result<Tensor> {
    match op {
        Arith::Add => a.try_add(b),
        Arith::Sub => a.try_sub(b),
        Arith::Mul => a.try_mul(b),
        Arith::Div => a.try_div(b),
        Arith::Pow => a.try_pow_tensor(b),
        Arith::Rem => a.try_remainder(b),
        Arith::FloorDiv => a.try_floor_divide(b),
        Arith::MatMul => a.try_matmul(b),
        Arith::And => a.try_bitwise_and(b),
        Arith::Or => a.try_bitwise_or(b),
        Arith::Xor => a.try_bitwise_xor(b),
        Arith::LShift => a.try_bitwise_left_shift(b),
        Arith::RShift => a.try_bitwise_right_shift(b),
    }
}

/// Whether `op` is a bitwise operator (integer and bool operands only).
fn is_bitwise(op: Arith) -> bool {
    matches!(
        op,
        Arith::And | Arith::Or | Arith::Xor | Arith::LShift | Arith::RShift
    )
}

/// `t op n` (or `n op t` when `reflected`), with PyTorch's promotion and node names.
fn arith_number(op: Arith, t: &Tensor, n: Number, reflected: bool) -> PyResult<Tensor> {
    if let (Number::Bool(_), DType::Bool) = (n, t.dtype()) {
        // PyTorch keeps bool for bool with bool: `*` is logical and, `+` logical or.
        let op = match op {
            Arith::Mul => Arith::And,
            Arith::Add => Arith::Or,
            Arith::Sub => {
                return Err(runtime_error(
                    "Subtraction, the `-` operator, with two bool tensors is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.",
                ))
            }
            op => op,
        };
        if matches!(op, Arith::And | Arith::Or | Arith::Xor) {
            let other = n.tensor(DType::Bool)?;
            return guard(|| arith_tensor(op, t, &other));
        }
    }
    if is_bitwise(op) {
        // The number as a 0-d tensor of its own kind: `int & 1.5` is PyTorch's "not
        // implemented" error, not a truncated 1.
        let other = n.tensor(match n {
            Number::Bool(_) => DType::Bool,
            Number::Int(_) => DType::I64,
            Number::Float(_) => DType::F32,
        })?;
        let (a, b) = if reflected { (&other, t) } else { (t, &other) };
        return guard(|| arith_tensor(op, a, b));
    }
    if let (Number::Int(_), DType::I64) = (n, t.dtype()) {
        if matches!(
            op,
            Arith::Add | Arith::Sub | Arith::Mul | Arith::Rem | Arith::FloorDiv
        ) {
            // Integer arithmetic with the exact integer (an `f64` scalar holds 2^53 at most).
            let other = n.tensor(DType::I64)?;
            let (a, b) = if reflected { (&other, t) } else { (t, &other) };
            return guard(|| arith_tensor(op, a, b));
        }
    }
    if let (Arith::Pow, false, Number::Int(e), DType::I64) = (op, reflected, n, t.dtype()) {
        if e < 0 {
            return Err(runtime_error(
                "Integers to negative integer powers are not allowed.",
            ));
        }
    }
    let dt = n.result_dtype(t.dtype());
    let t = if dt != t.dtype() {
        t.to_dtype(dt)
    } else {
        t.clone()
    };
    let s = n.value();
    guard(|| match (op, reflected) {
        (Arith::Add, _) => Ok(t.add_scalar(s)),
        (Arith::Sub, false) => Ok(t.sub_scalar(s)),
        (Arith::Sub, true) => Ok(t.rsub_scalar(s)),
        (Arith::Mul, _) => Ok(t.mul_scalar(s)),
        (Arith::Div, false) => {
            let t = if t.dtype().is_floating_point() {
                t
            } else {
                t.to_dtype(DType::F32)
            };
            Ok(t.div_scalar(s))
        }
        // PyTorch's `__rtruediv__`: `self.reciprocal() * other`.
        (Arith::Div, true) => {
            let t = if t.dtype().is_floating_point() {
                t
            } else {
                t.to_dtype(DType::F32)
            };
            Ok(t.reciprocal().mul_scalar(s))
        }
        (Arith::Pow, false) => Ok(t.pow(s)),
        (Arith::Pow, true) => Ok(t.rpow(s)),
        (Arith::MatMul, _) => Err(ferrograd::Error::Argument(
            "matmul(): argument 'other' must be Tensor, not a number".into(),
        )),
        (op, reflected) => {
            let other = Tensor::try_full_with(&[], s, t.dtype())?;
            if reflected {
                arith_tensor(op, &other, &t)
            } else {
                arith_tensor(op, &t, &other)
            }
        }
    })
}

impl PyTensor {
    fn binary(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        op: Arith,
        reflected: bool,
    ) -> PyResult<Py<PyAny>> {
        let operand = Operand::of(other)?;
        let out = match operand {
            None => return Ok(py.NotImplemented()),
            Some(Operand::Tensor(o)) => {
                let (a, b) = if reflected {
                    (o, self.t.clone())
                } else {
                    (self.t.clone(), o)
                };
                let n = a.numel().max(b.numel());
                run(py, n, || arith_tensor(op, &a, &b))?
            }
            Some(Operand::Number(n)) => arith_number(op, &self.t, n, reflected)?,
        };
        Ok(PyTensor::new(out).into_pyobject(py)?.into_any().unbind())
    }

    fn inplace(&self, py: Python<'_>, other: &Bound<'_, PyAny>, op: Arith) -> PyResult<()> {
        let t = self.t.clone();
        let o = match Operand::of(other)? {
            None => {
                return Err(type_error(format!(
                    "unsupported operand type for in-place op: 'Tensor' and '{}'",
                    convert::type_name(other)
                )))
            }
            Some(Operand::Tensor(o)) => o,
            Some(Operand::Number(n)) => {
                if n.result_dtype(t.dtype()) != t.dtype() {
                    return Err(runtime_error(format!(
                        "result type {} can't be cast to the desired output type {}",
                        n.result_dtype(t.dtype())
                            .to_string()
                            .trim_start_matches("torch.")
                            .replace("float32", "Float"),
                        t.dtype().scalar_type()
                    )));
                }
                n.tensor(t.dtype())?
            }
        };
        run(py, t.numel(), || {
            match op {
                Arith::Add => t.try_add_(&o),
                Arith::Sub => t.try_sub_(&o),
                Arith::Mul => t.try_mul_(&o),
                Arith::Div => t.try_div_(&o),
                _ => {
                    let r = arith_tensor(op, &t, &o)?;
                    t.try_copy_(&r)
                }
            }
            .map(|_| ())
        })
    }
}

fn tensors_of(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<Tensor>> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        return Ok(vec![t.borrow().t.clone()]);
    }
    let mut out = Vec::new();
    for item in obj.try_iter().map_err(|_| {
        type_error(format!(
            "{what} must be a Tensor or a sequence of Tensors, not {}",
            convert::type_name(obj)
        ))
    })? {
        let item = item?;
        match item.cast::<PyTensor>() {
            Ok(t) => out.push(t.borrow().t.clone()),
            Err(_) => {
                return Err(type_error(format!(
                "{what} must be a Tensor or a sequence of Tensors, not a sequence containing {}",
                convert::type_name(&item)
            )))
            }
        }
    }
    Ok(out)
}

/// A tensor, a sequence of tensors, or `None` (an empty list), as autograd's arguments are.
pub fn tensor_list(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Vec<Tensor>> {
    match obj {
        None => Ok(Vec::new()),
        Some(o) if o.is_none() => Ok(Vec::new()),
        Some(o) => tensors_of(o, what),
    }
}

/// Like [`tensor_list`], with `None` entries kept (grad_outputs may hold `None`).
pub fn optional_tensor_list(obj: &Bound<'_, PyAny>) -> PyResult<Vec<Option<Tensor>>> {
    if obj.is_none() {
        return Ok(Vec::new());
    }
    if let Ok(t) = obj.cast::<PyTensor>() {
        return Ok(vec![Some(t.borrow().t.clone())]);
    }
    let mut out = Vec::new();
    for item in obj.try_iter()? {
        let item = item?;
        if item.is_none() {
            out.push(None);
        } else {
            out.push(Some(
                item.cast::<PyTensor>()
                    .map_err(|_| {
                        type_error(format!(
                            "grad_outputs must hold Tensors or None, not {}",
                            convert::type_name(&item)
                        ))
                    })?
                    .borrow()
                    .t
                    .clone(),
            ));
        }
    }
    Ok(out)
}

/// A Python callable as a tensor hook: called with the gradient; a returned tensor replaces
/// it, `None` keeps it. An exception is raised when the backward call returns.
pub fn tensor_hook(hook: Py<PyAny>) -> impl Fn(&Tensor) -> Option<Tensor> + Send + Sync + 'static {
    move |g: &Tensor| {
        Python::attach(|py| {
            let r = hook.call1(py, (PyTensor::new(g.clone()),));
            match r {
                Err(e) => {
                    set_pending(e);
                    None
                }
                Ok(v) => {
                    let v = v.bind(py);
                    if v.is_none() {
                        None
                    } else if let Ok(t) = v.cast::<PyTensor>() {
                        Some(t.borrow().t.clone())
                    } else {
                        set_pending(type_error(format!(
                            "hook returned an object of type {}, expected a Tensor or None",
                            convert::type_name(v)
                        )));
                        None
                    }
                }
            }
        })
    }
}

/// The handle `register_hook` returns (`handle.remove()`).
#[pyclass(name = "RemovableHandle", module = "ferrograd.utils.hooks")]
pub struct PyHookHandle {
    handle: Option<ferrograd::HookHandle>,
}

#[pymethods]
impl PyHookHandle {
    /// Removes the hook (a second call does nothing).
    fn remove(&mut self) {
        if let Some(h) = self.handle.take() {
            h.remove();
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(&mut self, _t: &Bound<'_, PyAny>, _v: &Bound<'_, PyAny>, _tb: &Bound<'_, PyAny>) {
        self.remove();
    }
}

impl PyHookHandle {
    /// Wraps `handle`.
    pub fn new(handle: ferrograd::HookHandle) -> PyHookHandle {
        PyHookHandle {
            handle: Some(handle),
        }
    }
}

#[pymethods]
impl PyTensor {
    fn __repr__(&self) -> String {
        self.t.to_string()
    }

    fn __str__(&self) -> String {
        self.t.to_string()
    }

    fn __hash__(slf: &Bound<'_, Self>) -> isize {
        slf.as_ptr() as isize
    }

    fn __len__(&self) -> PyResult<usize> {
        match self.t.shape().first() {
            Some(&n) => Ok(n),
            None => Err(type_error("len() of a 0-d tensor")),
        }
    }

    fn __bool__(&self) -> PyResult<bool> {
        if self.t.numel() != 1 {
            return Err(runtime_error(format!(
                "Boolean value of Tensor with {} is ambiguous",
                if self.t.numel() == 0 {
                    "no values"
                } else {
                    "more than one value"
                }
            )));
        }
        Ok(self.t.to_vec::<f64>()[0] != 0.0)
    }

    fn __float__(&self) -> PyResult<f64> {
        self.scalar_value("float").map(|v| v.0)
    }

    fn __int__(&self) -> PyResult<i64> {
        let (f, i) = self.scalar_value("int")?;
        Ok(i.unwrap_or(f.trunc() as i64))
    }

    fn __index__(&self) -> PyResult<i64> {
        if self.t.dtype().is_floating_point() || self.t.numel() != 1 {
            return Err(type_error(
                "only integer tensors of a single element can be converted to an index",
            ));
        }
        Ok(self.t.to_vec::<i64>()[0])
    }

    fn __add__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, Arith::Add, false)
    }
    fn __radd__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, Arith::Add, true)
    }
    fn __sub__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, Arith::Sub, false)
    }
    fn __rsub__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, Arith::Sub, true)
    }
    fn __mul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, Arith::Mul, false)
    }
    fn __rmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, Arith::Mul, true)
    }
    fn __truediv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, Arith::Div, false)
    }
    fn __rtruediv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, Arith::Div, true)
    }
    fn __floordiv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, Arith::FloorDiv, false)
    }
    fn __rfloordiv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, Arith::FloorDiv, true)
    }
    fn __mod__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, Arith::Rem, false)
    }
    fn __rmod__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, Arith::Rem, true)
    }
    fn __pow__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        _modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        self.binary(py, o, Arith::Pow, false)
    }
    fn __rpow__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        _modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        self.binary(py, o, Arith::Pow, true)
    }
    fn __matmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, Arith::MatMul, false)
    }
    fn __rmatmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, Arith::MatMul, true)
    }
    fn __and__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, Arith::And, false)
    }
    fn __rand__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, Arith::And, true)
    }
    fn __or__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, Arith::Or, false)
    }
    fn __ror__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, Arith::Or, true)
    }
    fn __lshift__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, Arith::LShift, false)
    }
    fn __rlshift__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, Arith::LShift, true)
    }
    fn __rshift__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, Arith::RShift, false)
    }
    fn __rrshift__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, Arith::RShift, true)
    }
    fn __xor__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, Arith::Xor, false)
    }
    fn __rxor__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binary(py, o, Arith::Xor, true)
    }

    fn __iadd__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inplace(py, o, Arith::Add)
    }
    fn __isub__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inplace(py, o, Arith::Sub)
    }
    fn __imul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inplace(py, o, Arith::Mul)
    }
    fn __itruediv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inplace(py, o, Arith::Div)
    }
    fn __ipow__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        _modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        self.inplace(py, o, Arith::Pow)
    }
    fn __ifloordiv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inplace(py, o, Arith::FloorDiv)
    }
    fn __imod__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inplace(py, o, Arith::Rem)
    }
    fn __iand__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inplace(py, o, Arith::And)
    }
    fn __ior__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inplace(py, o, Arith::Or)
    }
    fn __ixor__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inplace(py, o, Arith::Xor)
    }
    fn __ilshift__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inplace(py, o, Arith::LShift)
    }
    fn __irshift__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inplace(py, o, Arith::RShift)
    }

    fn __neg__(&self) -> PyResult<PyTensor> {
        guard(|| Ok(self.t.neg())).map(PyTensor::new)
    }

    fn __pos__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __abs__(&self) -> PyResult<PyTensor> {
        guard(|| Ok(self.t.abs())).map(PyTensor::new)
    }

    fn __invert__(&self) -> PyResult<PyTensor> {
        if self.t.dtype().is_floating_point() {
            return Err(type_error(
                "~ (operator.invert) is only implemented on integer and Boolean-type tensors",
            ));
        }
        guard(|| self.t.try_bitwise_not()).map(PyTensor::new)
    }

    fn __richcmp__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        op: CompareOp,
    ) -> PyResult<Py<PyAny>> {
        let t = &self.t;
        let with = |b: &Tensor| {
            guard(|| match op {
                CompareOp::Eq => t.try_eq(b),
                CompareOp::Ne => t.try_ne(b),
                CompareOp::Lt => t.try_lt(b),
                CompareOp::Le => t.try_le(b),
                CompareOp::Gt => t.try_gt(b),
                CompareOp::Ge => t.try_ge(b),
            })
        };
        let out = match Operand::of(o)? {
            None => return Ok(py.NotImplemented()),
            Some(Operand::Tensor(b)) => with(&b)?,
            // Against the exact integer (beyond 2^53 an `f64` would round it).
            Some(Operand::Number(n @ Number::Int(_))) if t.dtype() == DType::I64 => {
                with(&n.tensor(DType::I64)?)?
            }
            Some(Operand::Number(n)) => {
                let s = n.value();
                let t = if n.result_dtype(t.dtype()) != t.dtype() {
                    t.to_dtype(DType::F64)
                } else {
                    t.clone()
                };
                guard(|| match op {
                    CompareOp::Eq => Ok(t.eq_scalar(s)),
                    CompareOp::Ne => Ok(t.ne_scalar(s)),
                    CompareOp::Lt => Ok(t.lt_scalar(s)),
                    CompareOp::Le => Ok(t.le_scalar(s)),
                    CompareOp::Gt => Ok(t.gt_scalar(s)),
                    CompareOp::Ge => Ok(t.ge_scalar(s)),
                })?
            }
        };
        Ok(PyTensor::new(out).into_pyobject(py)?.into_any().unbind())
    }

    // ------------------------------------------------------------ attributes

    /// The sizes as a tuple (the Python side wraps it in `torch.Size`).
    #[getter]
    fn _shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.t.shape())
    }

    /// The strides, in elements.
    #[getter]
    fn _strides<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.t.strides())
    }

    #[getter]
    fn dtype(&self, py: Python<'_>) -> Py<PyDType> {
        PyDType::get(py, self.t.dtype())
    }

    #[getter]
    fn ndim(&self) -> usize {
        self.t.dim()
    }

    fn dim(&self) -> usize {
        self.t.dim()
    }

    fn ndimension(&self) -> usize {
        self.t.dim()
    }

    fn numel(&self) -> usize {
        self.t.numel()
    }

    fn nelement(&self) -> usize {
        self.t.numel()
    }

    fn element_size(&self) -> usize {
        match self.t.dtype() {
            DType::F32 => 4,
            DType::F64 | DType::I64 => 8,
            DType::Bool => 1,
        }
    }

    fn is_floating_point(&self) -> bool {
        self.t.dtype().is_floating_point()
    }

    fn is_contiguous(&self) -> bool {
        self.t.is_contiguous()
    }

    /// Whether both share storage (the same data).
    fn _shares_storage(&self, other: &PyTensor) -> bool {
        self.t.shares_storage(&other.t)
    }

    /// Whether both are the same tensor (the same Rust handle).
    fn _is_same(&self, other: &PyTensor) -> bool {
        self.t.is_same(&other.t)
    }

    #[getter]
    fn get_requires_grad(&self) -> bool {
        self.t.requires_grad()
    }

    #[setter]
    fn set_requires_grad(&self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        if !value.is_instance_of::<PyBool>() {
            return Err(runtime_error("requires_grad must be a bool"));
        }
        let value: bool = value.extract()?;
        guard(|| self.t.try_requires_grad_(value)).map(|_| ())
    }

    #[pyo3(signature = (requires_grad = true))]
    fn requires_grad_(slf: Py<Self>, py: Python<'_>, requires_grad: bool) -> PyResult<Py<Self>> {
        let t = slf.borrow(py).t.clone();
        guard(|| t.try_requires_grad_(requires_grad))?;
        Ok(slf)
    }

    #[getter]
    fn is_leaf(&self) -> bool {
        self.t.is_leaf()
    }

    #[getter]
    fn get_grad(&self) -> Option<PyTensor> {
        self.t.grad().map(PyTensor::new)
    }

    #[setter]
    fn set_grad(&self, value: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let g = match value {
            None => None,
            Some(v) if v.is_none() => None,
            Some(v) => Some(
                v.cast::<PyTensor>()
                    .map_err(|_| {
                        type_error(format!(
                            "assigned grad expected to be a Tensor or None but got grad of type {}",
                            convert::type_name(v)
                        ))
                    })?
                    .borrow()
                    .t
                    .clone(),
            ),
        };
        guard(|| self.t.try_set_grad(g))
    }

    #[getter]
    fn grad_fn(&self) -> Option<crate::graph::PyGradFn> {
        self.t.grad_fn().map(crate::graph::PyGradFn::new)
    }

    #[getter]
    fn retains_grad(&self) -> bool {
        self.t.retains_grad()
    }

    fn retain_grad(&self) -> PyResult<()> {
        guard(|| self.t.try_retain_grad())
    }

    /// A new tensor sharing this one's data, outside the graph.
    fn detach(&self) -> PyTensor {
        PyTensor::new(self.t.detach())
    }

    /// Detaches this tensor from the graph in place (it becomes a leaf that does not
    /// require grad).
    fn detach_(slf: Py<Self>, py: Python<'_>) -> Py<Self> {
        {
            let mut s = slf.borrow_mut(py);
            s.t = s.t.detach();
        }
        slf
    }

    #[getter]
    fn get_data(&self) -> PyTensor {
        PyTensor::new(self.t.detach())
    }

    /// `x.data = y`: `x` now holds `y`'s data (shared), keeping its `requires_grad` and
    /// `grad`. Graphs recorded before still refer to the old data.
    #[setter]
    fn set_data(&mut self, value: PyRef<'_, PyTensor>) -> PyResult<()> {
        let new = value.t.detach();
        let old = &self.t;
        if old.requires_grad() {
            guard(|| new.try_requires_grad_(true))?;
            if let Some(g) = old.grad() {
                if g.shape() == new.shape() {
                    guard(|| new.try_set_grad(Some(g)))?;
                }
            }
        }
        self.t = new;
        Ok(())
    }

    fn item<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::item(py, &self.t)
    }

    fn tolist<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_list(py, &self.t)
    }

    #[pyo3(signature = (*, force = false))]
    fn numpy<'py>(&self, py: Python<'py>, force: bool) -> PyResult<Bound<'py, PyAny>> {
        if self.t.requires_grad() && !force {
            return Err(runtime_error(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.",
            ));
        }
        convert::to_numpy(py, &self.t)
    }

    #[pyo3(signature = (dtype = None, copy = None))]
    fn __array__<'py>(
        &self,
        py: Python<'py>,
        dtype: Option<&Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = copy;
        if self.t.requires_grad() {
            return Err(runtime_error(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.",
            ));
        }
        let a = convert::to_numpy(py, &self.t)?;
        match dtype {
            Some(d) if !d.is_none() => a.call_method1("astype", (d,)),
            _ => Ok(a),
        }
    }

    /// `backward(gradient=None, retain_graph=None, create_graph=False, inputs=None)`.
    #[pyo3(signature = (gradient = None, retain_graph = None, create_graph = false, inputs = None))]
    fn backward(
        &self,
        py: Python<'_>,
        gradient: Option<&Bound<'_, PyAny>>,
        retain_graph: Option<bool>,
        create_graph: bool,
        inputs: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let mut opts = BackwardOptions::new()
            .create_graph(create_graph)
            .retain_graph(retain_graph.unwrap_or(create_graph));
        if let Some(g) = gradient.filter(|g| !g.is_none()) {
            let g = match Number::of(g)? {
                Some(n) => n.tensor(self.t.dtype())?,
                None => g
                    .cast::<PyTensor>()
                    .map_err(|_| {
                        type_error(format!(
                            "backward(): argument 'gradient' must be Tensor, not {}",
                            convert::type_name(g)
                        ))
                    })?
                    .borrow()
                    .t
                    .clone(),
            };
            opts = opts.gradient(g);
        }
        let inputs = tensor_list(inputs, "inputs")?;
        if !inputs.is_empty() {
            opts = opts.inputs(&inputs);
        }
        let t = self.t.clone();
        let r = py.detach(|| guard(|| t.backward_with(&opts)));
        with_pending(r)
    }

    /// Registers `hook(grad)` on this tensor's gradient; returns a handle with `remove()`.
    fn register_hook(&self, py: Python<'_>, hook: Py<PyAny>) -> PyResult<PyHookHandle> {
        if !hook.bind(py).is_callable() {
            return Err(type_error(format!(
                "register_hook(): hook must be callable, not {}",
                convert::type_name(hook.bind(py))
            )));
        }
        let h = tensor_hook(hook);
        guard(|| self.t.try_register_hook(h)).map(PyHookHandle::new)
    }

    fn __format__(&self, py: Python<'_>, spec: &str) -> PyResult<String> {
        if self.t.dim() == 0 && !spec.is_empty() {
            let v = convert::item(py, &self.t)?;
            return v.call_method1("__format__", (spec,))?.extract();
        }
        Ok(self.t.to_string())
    }
}

impl PyTensor {
    fn scalar_value(&self, what: &str) -> PyResult<(f64, Option<i64>)> {
        guard_py(|| {
            let _ = what;
            if self.t.numel() != 1 {
                return Err(crate::errors::value_error(
                    "only one element tensors can be converted to Python scalars",
                ));
            }
            Ok(match self.t.dtype() {
                DType::I64 => {
                    let i = self.t.to_vec::<i64>()[0];
                    (i as f64, Some(i))
                }
                _ => (self.t.to_vec::<f64>()[0], None),
            })
        })
    }
}
