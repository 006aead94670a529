//! Rust errors and panics as the exceptions PyTorch raises for the same mistakes.

use pyo3::exceptions::{
    PyIndexError, PyNotImplementedError, PyRuntimeError, PyTypeError, PyValueError,
};
use pyo3::PyErr;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A library error as Python sees it: `TypeError` for a wrong argument type or count (the
/// registry's `Error::Argument`), `IndexError` for an index or dimension out of range,
/// `RuntimeError` (PyTorch's choice for nearly everything else) otherwise.
pub fn to_py(e: ferrograd::Error) -> PyErr {
    let msg = e.to_string();
    match e {
        ferrograd::Error::Argument(_) => PyTypeError::new_err(msg),
        // A kernel without the dtype: PyTorch's NotImplementedError, in its words (no op
        // prefix: `"gcd_cpu" not implemented for 'Float'`).
        _ if msg.contains("_cpu\" not implemented for '") => {
            let bare = msg.split_once(": ").map_or(msg.as_str(), |(_, m)| m);
            PyNotImplementedError::new_err(bare.to_string())
        }
        // PyTorch's gather/scatter report a bad index as RuntimeError.
        _ if msg.starts_with("gather") || msg.starts_with("scatter") => {
            PyRuntimeError::new_err(msg)
        }
        _ if is_index_error(&msg) => PyIndexError::new_err(msg),
        _ => PyRuntimeError::new_err(msg),
    }
}

fn is_index_error(msg: &str) -> bool {
    msg.contains("out of range") || msg.contains("out of bounds")
}

/// Runs `f`, turning an `Err` into its Python exception and a panic (a bug, or an allocation
/// that cannot succeed) into `RuntimeError` with the panic's message: no `PanicException`
/// ever reaches Python.
pub fn guard<T>(f: impl FnOnce() -> ferrograd::Result<T>) -> Result<T, PyErr> {
    match quiet_catch(f) {
        Ok(r) => r.map_err(to_py),
        Err(payload) => Err(PyRuntimeError::new_err(panic_message(payload))),
    }
}

/// [`guard`] for code that returns a `PyResult` itself.
pub fn guard_py<T>(f: impl FnOnce() -> Result<T, PyErr>) -> Result<T, PyErr> {
    match quiet_catch(f) {
        Ok(r) => r,
        Err(payload) => Err(PyRuntimeError::new_err(panic_message(payload))),
    }
}

thread_local! {
    /// How many [`guard`]s this thread is inside: a panic there becomes a Python exception
    /// carrying its message, so the panic hook prints nothing for it.
    static GUARDED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// `catch_unwind(f)` without the default hook's report on stderr (the message travels in the
/// exception instead). Panics outside a guard, or on other threads, are reported as usual.
fn quiet_catch<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if GUARDED.with(|g| g.get()) == 0 {
                default(info);
            }
        }));
    });
    GUARDED.with(|g| g.set(g.get() + 1));
    let r = catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(g.get() - 1));
    r
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "internal error (a Rust panic without a message)".to_string()
    }
}

/// `ValueError` with `msg`.
pub fn value_error(msg: impl Into<String>) -> PyErr {
    PyValueError::new_err(msg.into())
}

/// `TypeError` with `msg`.
pub fn type_error(msg: impl Into<String>) -> PyErr {
    PyTypeError::new_err(msg.into())
}

/// `RuntimeError` with `msg`.
pub fn runtime_error(msg: impl Into<String>) -> PyErr {
    PyRuntimeError::new_err(msg.into())
}

thread_local! {
    /// A Python exception raised inside a callback that Rust called (a hook, a custom
    /// `Function`'s backward, a function given to `functional`), kept until the Rust call
    /// returns and [`take_pending`] raises it.
    static PENDING: std::cell::RefCell<Option<PyErr>> = const { std::cell::RefCell::new(None) };
}

/// Keeps `e` to raise when the Rust call that ran the callback returns (the first one wins).
pub fn set_pending(e: PyErr) {
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        if p.is_none() {
            *p = Some(e);
        }
    });
}

/// The exception a callback raised during the last Rust call, if any (and clears it).
pub fn take_pending() -> Option<PyErr> {
    PENDING.with(|p| p.borrow_mut().take())
}

/// `r`, unless a callback raised during the call: then that exception.
pub fn with_pending<T>(r: Result<T, PyErr>) -> Result<T, PyErr> {
    match take_pending() {
        Some(e) => Err(e),
        None => r,
    }
}
