//! Evaluation of a parsed EXPR with ferrograd tensors, and the table of callable functions.
//!
//! Operators map to the library's ops (`x^2` with a constant exponent is `pow`, so the graph
//! shows `PowBackward0` as PyTorch's `x**2` does). A list literal `[a, b]` is `stack([a, b])`, so
//! it is differentiable too; `cat` and `stack` take a list of tensors as their first argument.

use crate::parse::{BinOp, Expr, Node, SpannedError};
use ferrograd::nn::{self, ClassOptions, ConvOptions, Reduction};
use ferrograd::{DType, Tensor};
use std::collections::HashMap;

/// The most elements `expand` and `repeat` may produce from sizes typed in EXPR.
pub const MAX_ELEMENTS: usize = 100_000_000;

/// What an argument evaluates to.
#[derive(Clone)]
pub enum Value {
    Tensor(Tensor),
    Str(String),
    /// A list literal, kept apart until it is used as a tensor (then it is stacked).
    List(Vec<Tensor>),
}

/// Variables by name, and the dtype of literals.
pub struct Env {
    pub vars: HashMap<String, Tensor>,
    pub dtype: DType,
}

/// The names that mean a constant unless `--at` gives them a value.
pub fn constant(name: &str) -> Option<f64> {
    match name {
        "pi" => Some(std::f64::consts::PI),
        "e" => Some(std::f64::consts::E),
        "inf" => Some(f64::INFINITY),
        "nan" => Some(f64::NAN),
        "true" | "True" => Some(1.0),
        "false" | "False" => Some(0.0),
        _ => None,
    }
}

fn to_tensor(v: Value, dtype: DType, what: &str) -> Result<Tensor, String> {
    match v {
        Value::Tensor(t) => Ok(t),
        Value::Str(s) => Err(format!("{what}: expected a tensor, got the string {s:?}")),
        Value::List(items) if items.is_empty() => Ok(Tensor::full_with(&[0], 0.0, dtype)),
        Value::List(items) => Tensor::try_stack(&items, 0).map_err(|e| format!("list: {e}")),
    }
}

/// Evaluates `node`; errors carry the columns of the piece that failed.
pub fn eval(node: &Node, env: &Env) -> Result<Tensor, SpannedError> {
    let v = eval_value(node, env)?;
    to_tensor(v, env.dtype, "expression").map_err(|m| SpannedError::new(m, node.span))
}

fn eval_value(node: &Node, env: &Env) -> Result<Value, SpannedError> {
    let err = |m: String| SpannedError::new(m, node.span);
    Ok(match &node.expr {
        Expr::Num(v) => Value::Tensor(Tensor::full_with(&[], *v, env.dtype)),
        Expr::Str(s) => Value::Str(s.clone()),
        Expr::Name(name) => match (env.vars.get(name), constant(name)) {
            (Some(t), _) => Value::Tensor(t.clone()),
            (None, Some(c)) => Value::Tensor(Tensor::full_with(&[], c, env.dtype)),
            (None, None) => {
                return Err(err(format!(
                    "name '{name}' has no value: pass --at {name}=VALUE"
                )))
            }
        },
        Expr::List(items) => {
            let mut ts = Vec::with_capacity(items.len());
            for item in items {
                ts.push(eval(item, env)?);
            }
            Value::List(ts)
        }
        Expr::Neg(a) => Value::Tensor(eval(a, env)?.neg()),
        Expr::Binary(op, a, b) => {
            let (x, y) = (eval(a, env)?, eval(b, env)?);
            let r = match op {
                BinOp::Add => x.try_add(&y),
                BinOp::Sub => x.try_sub(&y),
                BinOp::Mul => x.try_mul(&y),
                BinOp::Div => x.try_div(&y),
                BinOp::MatMul => x.try_matmul(&y),
                BinOp::Pow => power(&x, &y),
            };
            // Point at the operator's side of the expression: the whole binary expression.
            Value::Tensor(r.map_err(|e| err(e.to_string()))?)
        }
        Expr::Call(name, name_span, args) => {
            let f = lookup(name).ok_or_else(|| {
                let hint = suggest(name)
                    .map(|s| format!(" (did you mean '{s}'?)"))
                    .unwrap_or_default();
                SpannedError::new(format!("unknown function '{name}'{hint}"), *name_span)
            })?;
            if args.len() < f.min || args.len() > f.max {
                let takes = match (f.min, f.max) {
                    (a, b) if a == b => format!("{a} argument{}", if a == 1 { "" } else { "s" }),
                    (a, usize::MAX) => format!("at least {a} arguments"),
                    (a, b) => format!("{a} to {b} arguments"),
                };
                return Err(err(format!(
                    "{} takes {takes} but {} {} given",
                    f.sig,
                    args.len(),
                    if args.len() == 1 { "was" } else { "were" }
                )));
            }
            let mut vals = Vec::with_capacity(args.len());
            for a in args {
                vals.push(eval_value(a, env)?);
            }
            let call = Args {
                vals,
                dtype: env.dtype,
            };
            match (f.call)(&call) {
                Ok(t) => Value::Tensor(t),
                Err(ArgError { message, arg }) => {
                    let span = arg.and_then(|i| args.get(i)).map_or(node.span, |a| a.span);
                    // Library messages already start with the op's name.
                    let message = if message.starts_with(&format!("{name}:")) {
                        message
                    } else {
                        format!("{name}: {message}")
                    };
                    return Err(SpannedError::new(message, span));
                }
            }
        }
    })
}

/// `x ** y` as PyTorch chooses: a constant exponent is `pow(x, c)` (PowBackward0), a constant
/// base is `c ** y`, otherwise the tensor power (PowBackward1).
fn power(x: &Tensor, y: &Tensor) -> ferrograd::Result<Tensor> {
    let constant = |t: &Tensor| t.dim() == 0 && !t.requires_grad() && t.dtype().is_floating_point();
    if constant(y) && (x.requires_grad() || !constant(x)) {
        Ok(x.pow(y.item()))
    } else if constant(x) && y.requires_grad() {
        Ok(y.rpow(x.item()))
    } else {
        x.try_pow_tensor(y)
    }
}

/// An argument that cannot be used, with its position.
pub struct ArgError {
    pub message: String,
    pub arg: Option<usize>,
}

impl From<ferrograd::Error> for ArgError {
    fn from(e: ferrograd::Error) -> ArgError {
        ArgError {
            message: e.to_string(),
            arg: None,
        }
    }
}

type R<T> = Result<T, ArgError>;

/// The evaluated arguments of one call, with typed accessors.
pub struct Args {
    vals: Vec<Value>,
    dtype: DType,
}

fn bad<T>(i: usize, message: String) -> R<T> {
    Err(ArgError {
        message,
        arg: Some(i),
    })
}

impl Args {
    fn len(&self) -> usize {
        self.vals.len()
    }

    fn has(&self, i: usize) -> bool {
        i < self.vals.len()
    }

    fn t(&self, i: usize) -> R<Tensor> {
        to_tensor(
            self.vals[i].clone(),
            self.dtype,
            &format!("argument {}", i + 1),
        )
        .map_err(|message| ArgError {
            message,
            arg: Some(i),
        })
    }

    fn opt_t(&self, i: usize) -> R<Option<Tensor>> {
        if self.has(i) {
            self.t(i).map(Some)
        } else {
            Ok(None)
        }
    }

    /// The numbers of a constant argument: a number or a flat list.
    fn numbers(&self, i: usize) -> R<Vec<f64>> {
        let t = self.t(i)?;
        if t.dim() > 1 {
            return bad(
                i,
                format!(
                    "argument {} must be a number or a list of numbers, got shape {:?}",
                    i + 1,
                    t.shape()
                ),
            );
        }
        Ok(t.to_dtype(DType::F64).to_vec::<f64>())
    }

    fn float(&self, i: usize) -> R<f64> {
        let v = self.numbers(i)?;
        match v.as_slice() {
            [x] => Ok(*x),
            _ => bad(i, format!("argument {} must be a number", i + 1)),
        }
    }

    fn float_or(&self, i: usize, default: f64) -> R<f64> {
        if self.has(i) {
            self.float(i)
        } else {
            Ok(default)
        }
    }

    fn ints(&self, i: usize) -> R<Vec<i64>> {
        let v = self.numbers(i)?;
        v.iter()
            .map(|&x| {
                if x.fract() == 0.0 && x.abs() < 9.0e15 {
                    Ok(x as i64)
                } else {
                    bad(i, format!("argument {} must be integers, got {x}", i + 1))
                }
            })
            .collect()
    }

    fn int(&self, i: usize) -> R<i64> {
        match self.ints(i)?.as_slice() {
            [x] => Ok(*x),
            _ => bad(i, format!("argument {} must be one integer", i + 1)),
        }
    }

    fn int_or(&self, i: usize, default: i64) -> R<i64> {
        if self.has(i) {
            self.int(i)
        } else {
            Ok(default)
        }
    }

    fn dim(&self, i: usize) -> R<isize> {
        Ok(self.int(i)? as isize)
    }

    fn dims(&self, i: usize) -> R<Vec<isize>> {
        Ok(self.ints(i)?.into_iter().map(|d| d as isize).collect())
    }

    fn sizes(&self, i: usize) -> R<Vec<usize>> {
        self.ints(i)?
            .into_iter()
            .map(|d| {
                usize::try_from(d).or_else(|_| {
                    bad(
                        i,
                        format!("argument {} must be non-negative, got {d}", i + 1),
                    )
                })
            })
            .collect()
    }

    /// Sizes that multiply into a result of `scale * product` elements, refused past
    /// [`MAX_ELEMENTS`] so that a typo cannot ask for terabytes.
    fn shape(&self, i: usize, scale: usize) -> R<Vec<usize>> {
        let sizes = self.sizes(i)?;
        let total = sizes
            .iter()
            .try_fold(scale.max(1), |acc, &s| acc.checked_mul(s.max(1)));
        match total {
            Some(n) if n <= MAX_ELEMENTS => Ok(sizes),
            _ => bad(
                i,
                format!("the result would have more than {MAX_ELEMENTS} elements"),
            ),
        }
    }

    fn size(&self, i: usize) -> R<usize> {
        match self.sizes(i)?.as_slice() {
            [x] => Ok(*x),
            _ => bad(i, format!("argument {} must be one integer", i + 1)),
        }
    }

    fn flag(&self, i: usize) -> R<bool> {
        if self.has(i) {
            Ok(self.float(i)? != 0.0)
        } else {
            Ok(false)
        }
    }

    fn string(&self, i: usize) -> R<String> {
        match &self.vals[i] {
            Value::Str(s) => Ok(s.clone()),
            _ => bad(i, format!("argument {} must be a string", i + 1)),
        }
    }

    /// The tensors of a list argument (`cat([a, b])`), or every argument from `i` on.
    fn tensor_list(&self, i: usize) -> R<Vec<Tensor>> {
        match &self.vals[i] {
            Value::List(items) => Ok(items.clone()),
            _ => (i..self.len()).map(|k| self.t(k)).collect(),
        }
    }

    fn reduction(&self, i: usize) -> R<Reduction> {
        if !self.has(i) {
            return Ok(Reduction::Mean);
        }
        match self.string(i)?.as_str() {
            "mean" => Ok(Reduction::Mean),
            "sum" => Ok(Reduction::Sum),
            "none" => Ok(Reduction::None),
            other => bad(
                i,
                format!("reduction must be 'mean', 'sum' or 'none', got {other:?}"),
            ),
        }
    }
}

/// One callable function: its name, signature (shown in errors and `ferrograd ops`), how many
/// arguments it takes, and what it does.
pub struct Func {
    pub name: &'static str,
    pub sig: &'static str,
    pub min: usize,
    pub max: usize,
    pub call: fn(&Args) -> R<Tensor>,
}

macro_rules! unary {
    ($($name:ident),* $(,)?) => {
        &[$(Func {
            name: stringify!($name),
            sig: concat!(stringify!($name), "(x)"),
            min: 1,
            max: 1,
            call: |a| Ok(a.t(0)?.$name()),
        }),*]
    };
}

macro_rules! binary {
    ($($name:ident => $method:ident),* $(,)?) => {
        &[$(Func {
            name: stringify!($name),
            sig: concat!(stringify!($name), "(x, y)"),
            min: 2,
            max: 2,
            call: |a| Ok(a.t(0)?.$method(&a.t(1)?)?),
        }),*]
    };
}

const UNARY: &[Func] = unary!(
    abs, acos, acosh, asin, asinh, atan, atanh, ceil, cos, cosh, erf, erfc, exp, exp2, expm1,
    floor, gelu, gelu_tanh, log, log10, log1p, log2, logsigmoid, mish, neg, reciprocal, relu,
    relu6, round, rsqrt, selu, sigmoid, sign, silu, sin, sinh, sqrt, square, tan, tanh, trunc,
    detach,
);

const BINARY: &[Func] = binary!(
    add => try_add, sub => try_sub, mul => try_mul, div => try_div, atan2 => try_atan2,
    hypot => try_hypot, fmod => try_fmod, remainder => try_remainder, maximum => try_maximum,
    minimum => try_minimum, dot => try_dot, mm => try_mm, mv => try_mv, matmul => try_matmul,
    bmm => try_bmm, outer => try_outer, solve => try_solve, eq => try_eq, ne => try_ne,
    lt => try_lt, le => try_le, gt => try_gt, ge => try_ge,
);

const MANY: usize = usize::MAX;

const OTHERS: &[Func] = &[
    Func {
        name: "pow",
        sig: "pow(x, exponent)",
        min: 2,
        max: 2,
        call: |a| Ok(power(&a.t(0)?, &a.t(1)?)?),
    },
    Func {
        name: "sum",
        sig: "sum(x[, dims[, keepdim]])",
        min: 1,
        max: 3,
        call: |a| {
            let x = a.t(0)?;
            if !a.has(1) {
                return Ok(x.sum());
            }
            Ok(x.try_sum_dims(&a.dims(1)?, a.flag(2)?)?)
        },
    },
    Func {
        name: "mean",
        sig: "mean(x[, dims[, keepdim]])",
        min: 1,
        max: 3,
        call: |a| {
            let x = a.t(0)?;
            if !a.has(1) {
                return Ok(x.mean());
            }
            Ok(x.try_mean_dims(&a.dims(1)?, a.flag(2)?)?)
        },
    },
    Func {
        name: "prod",
        sig: "prod(x[, dim[, keepdim]])",
        min: 1,
        max: 3,
        call: |a| {
            let x = a.t(0)?;
            if !a.has(1) {
                return Ok(x.prod());
            }
            Ok(x.try_prod_dim(a.dim(1)?, a.flag(2)?)?)
        },
    },
    Func {
        name: "max",
        sig: "max(x[, dim[, keepdim]])  (values; max(x, y) is maximum)",
        min: 1,
        max: 3,
        call: |a| {
            let x = a.t(0)?;
            if !a.has(1) {
                return Ok(x.try_max()?);
            }
            if a.t(1)?.dim() > 0 || a.t(1)?.requires_grad() {
                return Ok(x.try_maximum(&a.t(1)?)?);
            }
            Ok(x.try_max_dim(a.dim(1)?, a.flag(2)?)?.0)
        },
    },
    Func {
        name: "min",
        sig: "min(x[, dim[, keepdim]])  (values; min(x, y) is minimum)",
        min: 1,
        max: 3,
        call: |a| {
            let x = a.t(0)?;
            if !a.has(1) {
                return Ok(x.try_min()?);
            }
            if a.t(1)?.dim() > 0 || a.t(1)?.requires_grad() {
                return Ok(x.try_minimum(&a.t(1)?)?);
            }
            Ok(x.try_min_dim(a.dim(1)?, a.flag(2)?)?.0)
        },
    },
    Func {
        name: "amax",
        sig: "amax(x[, dims[, keepdim]])",
        min: 1,
        max: 3,
        call: |a| {
            let x = a.t(0)?;
            let dims = if a.has(1) { a.dims(1)? } else { vec![] };
            Ok(x.try_amax(&dims, a.flag(2)?)?)
        },
    },
    Func {
        name: "amin",
        sig: "amin(x[, dims[, keepdim]])",
        min: 1,
        max: 3,
        call: |a| {
            let x = a.t(0)?;
            let dims = if a.has(1) { a.dims(1)? } else { vec![] };
            Ok(x.try_amin(&dims, a.flag(2)?)?)
        },
    },
    Func {
        name: "argmax",
        sig: "argmax(x[, dim[, keepdim]])",
        min: 1,
        max: 3,
        call: |a| {
            let dim = if a.has(1) { Some(a.dim(1)?) } else { None };
            Ok(a.t(0)?.try_argmax(dim, a.flag(2)?)?)
        },
    },
    Func {
        name: "argmin",
        sig: "argmin(x[, dim[, keepdim]])",
        min: 1,
        max: 3,
        call: |a| {
            let dim = if a.has(1) { Some(a.dim(1)?) } else { None };
            Ok(a.t(0)?.try_argmin(dim, a.flag(2)?)?)
        },
    },
    Func {
        name: "logsumexp",
        sig: "logsumexp(x[, dims[, keepdim]])",
        min: 1,
        max: 3,
        call: |a| {
            let x = a.t(0)?;
            let dims = if a.has(1) {
                a.dims(1)?
            } else {
                (0..x.dim() as isize).collect()
            };
            Ok(x.try_logsumexp(&dims, a.flag(2)?)?)
        },
    },
    Func {
        name: "norm",
        sig: "norm(x[, p[, dims[, keepdim]]])",
        min: 1,
        max: 4,
        call: |a| {
            let x = a.t(0)?;
            if !a.has(1) {
                return Ok(x.norm());
            }
            let dims = if a.has(2) { a.dims(2)? } else { vec![] };
            Ok(x.try_norm_dims(a.float(1)?, &dims, a.flag(3)?)?)
        },
    },
    Func {
        name: "var",
        sig: "var(x[, dims[, correction[, keepdim]]])",
        min: 1,
        max: 4,
        call: |a| {
            let x = a.t(0)?;
            let dims = if a.has(1) { a.dims(1)? } else { vec![] };
            Ok(x.try_var(&dims, a.float_or(2, 1.0)?, a.flag(3)?)?)
        },
    },
    Func {
        name: "std",
        sig: "std(x[, dims[, correction[, keepdim]]])",
        min: 1,
        max: 4,
        call: |a| {
            let x = a.t(0)?;
            let dims = if a.has(1) { a.dims(1)? } else { vec![] };
            Ok(x.try_std(&dims, a.float_or(2, 1.0)?, a.flag(3)?)?)
        },
    },
    Func {
        name: "softmax",
        sig: "softmax(x[, dim=-1])",
        min: 1,
        max: 2,
        call: |a| Ok(a.t(0)?.try_softmax(a.int_or(1, -1)? as isize)?),
    },
    Func {
        name: "log_softmax",
        sig: "log_softmax(x[, dim=-1])",
        min: 1,
        max: 2,
        call: |a| Ok(a.t(0)?.try_log_softmax(a.int_or(1, -1)? as isize)?),
    },
    Func {
        name: "cumsum",
        sig: "cumsum(x, dim)",
        min: 2,
        max: 2,
        call: |a| Ok(a.t(0)?.try_cumsum(a.dim(1)?)?),
    },
    Func {
        name: "cumprod",
        sig: "cumprod(x, dim)",
        min: 2,
        max: 2,
        call: |a| Ok(a.t(0)?.try_cumprod(a.dim(1)?)?),
    },
    Func {
        name: "transpose",
        sig: "transpose(x[, dim0, dim1])",
        min: 1,
        max: 3,
        call: |a| {
            let x = a.t(0)?;
            if !a.has(1) {
                return Ok(x.try_t()?);
            }
            Ok(x.try_transpose(a.dim(1)?, a.int_or(2, 0)? as isize)?)
        },
    },
    Func {
        name: "t",
        sig: "t(x)",
        min: 1,
        max: 1,
        call: |a| Ok(a.t(0)?.try_t()?),
    },
    Func {
        name: "permute",
        sig: "permute(x, dims)",
        min: 2,
        max: 2,
        call: |a| Ok(a.t(0)?.try_permute(&a.dims(1)?)?),
    },
    Func {
        name: "reshape",
        sig: "reshape(x, shape)  (one entry may be -1)",
        min: 2,
        max: 2,
        call: |a| {
            let x = a.t(0)?;
            let shape = infer_shape(&a.ints(1)?, x.numel()).map_err(|m| ArgError {
                message: m,
                arg: Some(1),
            })?;
            Ok(x.try_reshape(&shape)?)
        },
    },
    Func {
        name: "flatten",
        sig: "flatten(x[, start=0[, end=-1]])",
        min: 1,
        max: 3,
        call: |a| {
            Ok(a.t(0)?
                .try_flatten(a.int_or(1, 0)? as isize, a.int_or(2, -1)? as isize)?)
        },
    },
    Func {
        name: "squeeze",
        sig: "squeeze(x, dim)",
        min: 2,
        max: 2,
        call: |a| Ok(a.t(0)?.try_squeeze(a.dim(1)?)?),
    },
    Func {
        name: "unsqueeze",
        sig: "unsqueeze(x, dim)",
        min: 2,
        max: 2,
        call: |a| Ok(a.t(0)?.try_unsqueeze(a.dim(1)?)?),
    },
    Func {
        name: "expand",
        sig: "expand(x, shape)",
        min: 2,
        max: 2,
        call: |a| Ok(a.t(0)?.try_expand(&a.shape(1, 1)?)?),
    },
    Func {
        name: "diagonal",
        sig: "diagonal(x[, offset=0[, dim1=0, dim2=1]])",
        min: 1,
        max: 4,
        call: |a| {
            Ok(a.t(0)?.try_diagonal(
                a.int_or(1, 0)? as isize,
                a.int_or(2, 0)? as isize,
                a.int_or(3, 1)? as isize,
            )?)
        },
    },
    Func {
        name: "diag",
        sig: "diag(x[, offset=0])",
        min: 1,
        max: 2,
        call: |a| Ok(a.t(0)?.try_diag(a.int_or(1, 0)? as isize)?),
    },
    Func {
        name: "trace",
        sig: "trace(x)",
        min: 1,
        max: 1,
        call: |a| Ok(a.t(0)?.try_trace()?),
    },
    Func {
        name: "det",
        sig: "det(x)",
        min: 1,
        max: 1,
        call: |a| Ok(a.t(0)?.try_det()?),
    },
    Func {
        name: "inv",
        sig: "inv(x)",
        min: 1,
        max: 1,
        call: |a| Ok(a.t(0)?.try_inv()?),
    },
    Func {
        name: "tril",
        sig: "tril(x[, k=0])",
        min: 1,
        max: 2,
        call: |a| Ok(a.t(0)?.try_tril(a.int_or(1, 0)? as isize)?),
    },
    Func {
        name: "triu",
        sig: "triu(x[, k=0])",
        min: 1,
        max: 2,
        call: |a| Ok(a.t(0)?.try_triu(a.int_or(1, 0)? as isize)?),
    },
    Func {
        name: "flip",
        sig: "flip(x, dims)",
        min: 2,
        max: 2,
        call: |a| Ok(a.t(0)?.try_flip(&a.dims(1)?)?),
    },
    Func {
        name: "roll",
        sig: "roll(x, shifts, dims)",
        min: 3,
        max: 3,
        call: |a| Ok(a.t(0)?.try_roll(&a.dims(1)?, &a.dims(2)?)?),
    },
    Func {
        name: "repeat",
        sig: "repeat(x, repeats)",
        min: 2,
        max: 2,
        call: |a| {
            let x = a.t(0)?;
            Ok(x.try_repeat(&a.shape(1, x.numel())?)?)
        },
    },
    Func {
        name: "select",
        sig: "select(x, dim, index)",
        min: 3,
        max: 3,
        call: |a| Ok(a.t(0)?.try_select(a.dim(1)?, a.int(2)? as isize)?),
    },
    Func {
        name: "narrow",
        sig: "narrow(x, dim, start, length)",
        min: 4,
        max: 4,
        call: |a| Ok(a.t(0)?.try_narrow(a.dim(1)?, a.size(2)?, a.size(3)?)?),
    },
    Func {
        name: "slice",
        sig: "slice(x, dim, start, end[, step=1])",
        min: 4,
        max: 5,
        call: |a| {
            Ok(a.t(0)?.try_slice(
                a.dim(1)?,
                a.int(2)? as isize,
                a.int(3)? as isize,
                a.int_or(4, 1)?.max(0) as usize,
            )?)
        },
    },
    Func {
        name: "cat",
        sig: "cat([a, b, ...][, dim=0])",
        min: 1,
        max: 2,
        call: |a| {
            Ok(Tensor::try_cat(
                &a.tensor_list(0)?,
                a.int_or(1, 0)? as isize,
            )?)
        },
    },
    Func {
        name: "stack",
        sig: "stack([a, b, ...][, dim=0])",
        min: 1,
        max: 2,
        call: |a| {
            Ok(Tensor::try_stack(
                &a.tensor_list(0)?,
                a.int_or(1, 0)? as isize,
            )?)
        },
    },
    Func {
        name: "einsum",
        sig: "einsum('equation', a, ...)",
        min: 2,
        max: MANY,
        call: |a| Ok(Tensor::try_einsum(&a.string(0)?, &a.tensor_list(1)?)?),
    },
    Func {
        name: "where",
        sig: "where(condition, x, y)",
        min: 3,
        max: 3,
        call: |a| {
            let c = a.t(0)?;
            let c = if c.dtype() == DType::Bool {
                c
            } else {
                c.try_ne(&c.zeros_like())?
            };
            Ok(Tensor::try_where_(&c, &a.t(1)?, &a.t(2)?)?)
        },
    },
    Func {
        name: "clamp",
        sig: "clamp(x, min, max)",
        min: 3,
        max: 3,
        call: |a| Ok(a.t(0)?.try_clamp_tensor(Some(&a.t(1)?), Some(&a.t(2)?))?),
    },
    Func {
        name: "lerp",
        sig: "lerp(x, end, weight)",
        min: 3,
        max: 3,
        call: |a| Ok(a.t(0)?.try_lerp_tensor(&a.t(1)?, &a.t(2)?)?),
    },
    Func {
        name: "elu",
        sig: "elu(x[, alpha=1])",
        min: 1,
        max: 2,
        call: |a| Ok(a.t(0)?.elu(a.float_or(1, 1.0)?)),
    },
    Func {
        name: "leaky_relu",
        sig: "leaky_relu(x[, slope=0.01])",
        min: 1,
        max: 2,
        call: |a| Ok(a.t(0)?.leaky_relu(a.float_or(1, 0.01)?)),
    },
    Func {
        name: "hardtanh",
        sig: "hardtanh(x[, min=-1, max=1])",
        min: 1,
        max: 3,
        call: |a| Ok(a.t(0)?.hardtanh(a.float_or(1, -1.0)?, a.float_or(2, 1.0)?)),
    },
    Func {
        name: "softplus",
        sig: "softplus(x[, beta=1[, threshold=20]])",
        min: 1,
        max: 3,
        call: |a| {
            Ok(a.t(0)?
                .softplus_with(a.float_or(1, 1.0)?, a.float_or(2, 20.0)?))
        },
    },
    Func {
        name: "mse_loss",
        sig: "mse_loss(input, target[, 'mean'|'sum'|'none'])",
        min: 2,
        max: 3,
        call: |a| Ok(nn::try_mse_loss(&a.t(0)?, &a.t(1)?, a.reduction(2)?)?),
    },
    Func {
        name: "l1_loss",
        sig: "l1_loss(input, target[, reduction])",
        min: 2,
        max: 3,
        call: |a| Ok(nn::try_l1_loss(&a.t(0)?, &a.t(1)?, a.reduction(2)?)?),
    },
    Func {
        name: "smooth_l1_loss",
        sig: "smooth_l1_loss(input, target[, reduction[, beta=1]])",
        min: 2,
        max: 4,
        call: |a| {
            Ok(nn::try_smooth_l1_loss(
                &a.t(0)?,
                &a.t(1)?,
                a.reduction(2)?,
                a.float_or(3, 1.0)?,
            )?)
        },
    },
    Func {
        name: "huber_loss",
        sig: "huber_loss(input, target[, reduction[, delta=1]])",
        min: 2,
        max: 4,
        call: |a| {
            Ok(nn::try_huber_loss(
                &a.t(0)?,
                &a.t(1)?,
                a.reduction(2)?,
                a.float_or(3, 1.0)?,
            )?)
        },
    },
    Func {
        name: "binary_cross_entropy",
        sig: "binary_cross_entropy(p, target[, reduction])",
        min: 2,
        max: 3,
        call: |a| {
            Ok(nn::try_binary_cross_entropy(
                &a.t(0)?,
                &a.t(1)?,
                None,
                a.reduction(2)?,
            )?)
        },
    },
    Func {
        name: "binary_cross_entropy_with_logits",
        sig: "binary_cross_entropy_with_logits(logits, target[, reduction])",
        min: 2,
        max: 3,
        call: |a| {
            Ok(nn::try_binary_cross_entropy_with_logits(
                &a.t(0)?,
                &a.t(1)?,
                None,
                None,
                a.reduction(2)?,
            )?)
        },
    },
    Func {
        name: "cross_entropy",
        sig: "cross_entropy(logits, target[, reduction])  (class indices or probabilities)",
        min: 2,
        max: 3,
        call: |a| {
            let target = class_target(&a.t(1)?);
            Ok(nn::try_cross_entropy(
                &a.t(0)?,
                &target,
                ClassOptions {
                    reduction: a.reduction(2)?,
                    ..Default::default()
                },
            )?)
        },
    },
    Func {
        name: "nll_loss",
        sig: "nll_loss(log_probs, target[, reduction])",
        min: 2,
        max: 3,
        call: |a| {
            let target = a.t(1)?.to_dtype(DType::I64);
            Ok(nn::try_nll_loss(
                &a.t(0)?,
                &target,
                ClassOptions {
                    reduction: a.reduction(2)?,
                    ..Default::default()
                },
            )?)
        },
    },
    Func {
        name: "linear",
        sig: "linear(x, weight[, bias])",
        min: 2,
        max: 3,
        call: |a| Ok(nn::try_linear(&a.t(0)?, &a.t(1)?, a.opt_t(2)?.as_ref())?),
    },
    Func {
        name: "layer_norm",
        sig: "layer_norm(x, normalized_shape[, weight[, bias]])",
        min: 2,
        max: 4,
        call: |a| {
            Ok(nn::try_layer_norm(
                &a.t(0)?,
                &a.sizes(1)?,
                a.opt_t(2)?.as_ref(),
                a.opt_t(3)?.as_ref(),
                1e-5,
            )?)
        },
    },
    Func {
        name: "conv1d",
        sig: "conv1d(x, weight[, bias])",
        min: 2,
        max: 3,
        call: |a| {
            Ok(nn::try_conv1d(
                &a.t(0)?,
                &a.t(1)?,
                a.opt_t(2)?.as_ref(),
                ConvOptions::default(),
            )?)
        },
    },
    Func {
        name: "conv2d",
        sig: "conv2d(x, weight[, bias])",
        min: 2,
        max: 3,
        call: |a| {
            Ok(nn::try_conv2d(
                &a.t(0)?,
                &a.t(1)?,
                a.opt_t(2)?.as_ref(),
                ConvOptions::default(),
            )?)
        },
    },
];

/// Class-index targets are integral floats in an expression; cross_entropy wants int64 for them.
fn class_target(t: &Tensor) -> Tensor {
    let integral = t.dtype().is_floating_point()
        && t.to_dtype(DType::F64)
            .to_vec::<f64>()
            .iter()
            .all(|v| v.fract() == 0.0);
    if integral && !t.requires_grad() && t.dim() <= 1 {
        t.to_dtype(DType::I64)
    } else {
        t.clone()
    }
}

/// A reshape target with at most one `-1`, resolved against `numel`.
fn infer_shape(shape: &[i64], numel: usize) -> Result<Vec<usize>, String> {
    let unknown: Vec<usize> = (0..shape.len()).filter(|&i| shape[i] == -1).collect();
    if unknown.len() > 1 {
        return Err("only one dimension can be inferred".into());
    }
    if let Some(&d) = shape.iter().find(|&&d| d < -1) {
        return Err(format!("invalid shape dimension {d}"));
    }
    let known: usize = shape
        .iter()
        .filter(|&&d| d >= 0)
        .map(|&d| d as usize)
        .product();
    let mut out: Vec<usize> = shape.iter().map(|&d| d.max(0) as usize).collect();
    if let Some(&i) = unknown.first() {
        if known == 0 || numel % known != 0 {
            return Err(format!(
                "shape {shape:?} is invalid for input of size {numel}"
            ));
        }
        out[i] = numel / known;
    }
    Ok(out)
}

/// Every callable function.
pub fn functions() -> impl Iterator<Item = &'static Func> {
    UNARY.iter().chain(BINARY).chain(OTHERS)
}

fn lookup(name: &str) -> Option<&'static Func> {
    functions().find(|f| f.name == name)
}

/// The known name closest to `name` (edit distance at most 2).
fn suggest(name: &str) -> Option<&'static str> {
    fn distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut prev = row[0];
            row[0] = i + 1;
            for j in 0..b.len() {
                let cur = row[j + 1];
                row[j + 1] = (prev + usize::from(ca != b[j]))
                    .min(row[j] + 1)
                    .min(cur + 1);
                prev = cur;
            }
        }
        row[b.len()]
    }
    let shared = |f: &str| {
        name.chars()
            .zip(f.chars())
            .take_while(|(a, b)| a == b)
            .count()
    };
    functions()
        .map(|f| (distance(name, f.name), usize::MAX - shared(f.name), f.name))
        .filter(|&(d, _, _)| d <= 2)
        .min()
        .map(|(_, _, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;

    fn run(src: &str, vars: &[(&str, Tensor)]) -> Result<Tensor, SpannedError> {
        let env = Env {
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            dtype: DType::F32,
        };
        eval(&parse(src).unwrap(), &env)
    }

    #[test]
    fn every_function_name_is_unique() {
        let mut names: Vec<_> = functions().map(|f| f.name).collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
        assert!(n > 100, "{n} functions");
    }

    #[test]
    fn values_follow_the_library() {
        let x = Tensor::new([1.0, 2.0, 3.0]);
        assert_eq!(run("sum(x^2)", &[("x", x.clone())]).unwrap().item(), 14.0);
        assert_eq!(run("sum(x, 0)", &[("x", x.clone())]).unwrap().item(), 6.0);
        assert_eq!(run("2^3^2", &[]).unwrap().item(), 512.0);
        assert_eq!(run("-2^2", &[]).unwrap().item(), -4.0);
        assert_eq!(run("[1, 2] @ [3, 4]", &[]).unwrap().item(), 11.0);
        assert_eq!(
            run("reshape(x, [-1, 1])", &[("x", x.clone())])
                .unwrap()
                .shape(),
            &[3, 1]
        );
        assert_eq!(
            run("cat([x, x])", &[("x", x.clone())]).unwrap().shape(),
            &[6]
        );
        assert_eq!(
            run("einsum('i,i', x, x)", &[("x", x.clone())])
                .unwrap()
                .item(),
            14.0
        );
        assert_eq!(run("max(x)", &[("x", x.clone())]).unwrap().item(), 3.0);
        assert_eq!(
            run("max(x, 2*x)", &[("x", x.clone())]).unwrap().shape(),
            &[3]
        );
        assert!((run("cos(pi)", &[]).unwrap().item() + 1.0).abs() < 1e-6);
        assert_eq!(
            run("where(gt(x, 1), x, 0)", &[("x", x)])
                .unwrap()
                .to_vec::<f32>(),
            vec![0.0, 2.0, 3.0]
        );
        assert_eq!(
            run("cross_entropy([[0, 0]], [1])", &[]).unwrap().item(),
            std::f32::consts::LN_2 as f64
        );
    }

    #[test]
    fn errors_name_the_function_and_point_at_the_argument() {
        let x = Tensor::new([1.0, 2.0, 3.0]);
        let e = run("sinn(x)", &[("x", x.clone())]).unwrap_err();
        assert_eq!(e.message, "unknown function 'sinn' (did you mean 'sin'?)");
        assert_eq!(e.span.start, 0);
        let e = run("sin(x, x)", &[("x", x.clone())]).unwrap_err();
        assert_eq!(e.message, "sin(x) takes 1 argument but 2 were given");
        let e = run("sum(x, 0.5)", &[("x", x.clone())]).unwrap_err();
        assert_eq!(e.message, "sum: argument 2 must be integers, got 0.5");
        assert_eq!(e.span.start, 7);
        let e = run("y + 1", &[]).unwrap_err();
        assert_eq!(e.message, "name 'y' has no value: pass --at y=VALUE");
        let e = run("x + [1, 2]", &[("x", x)]).unwrap_err();
        assert!(
            e.message
                .contains("size of tensor a (3) must match the size of tensor b (2)"),
            "{}",
            e.message
        );
        let e = run("[[1, 2], [3]]", &[]).unwrap_err();
        assert!(e.message.starts_with("list: "), "{}", e.message);
    }

    #[test]
    fn power_picks_the_pytorch_node() {
        let x = Tensor::scalar(5.0).requires_grad_(true);
        let y = run("x^2", &[("x", x.clone())]).unwrap();
        assert_eq!(y.grad_fn().unwrap().name(), "PowBackward0");
        // torch.pow(2, x), the Scalar overload.
        let y = run("2^x", &[("x", x.clone())]).unwrap();
        assert_eq!(y.grad_fn().unwrap().name(), "PowBackward2");
        let y = run("x^x", &[("x", x)]).unwrap();
        assert_eq!(y.grad_fn().unwrap().name(), "PowBackward1");
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::parse::parse;
    use proptest::prelude::*;

    fn token() -> impl Strategy<Value = String> {
        let names: Vec<String> = functions().map(|f| f.name.to_string()).collect();
        let fixed = [
            "x", "y", "0", "1", "2", "-1", "0.5", "1e3", "+", "-", "*", "/", "^", "**", "@", "(",
            ")", "[", "]", ",", "'ij,j'", "pi", "nan", "inf", "(", ")",
        ];
        prop_oneof![
            3 => proptest::sample::select(fixed.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
            1 => proptest::sample::select(names).prop_map(|n| format!("{n}(")),
        ]
    }

    /// Well-formed expressions: calls of every function with 1-3 arguments drawn from
    /// variables, small numbers, lists and nested expressions.
    fn expression() -> impl Strategy<Value = String> {
        let leaf = proptest::sample::select(vec![
            "x",
            "y",
            "0",
            "1",
            "2",
            "-1",
            "0.5",
            "[1, 2, 3]",
            "[[1, 2], [3, 4]]",
            "[0, 1]",
            "[]",
            "'i,i'",
            "'sum'",
            "nan",
            "inf",
        ])
        .prop_map(String::from);
        let names: Vec<&'static str> = functions().map(|f| f.name).collect();
        leaf.prop_recursive(4, 24, 3, move |inner| {
            prop_oneof![
                (
                    proptest::sample::select(names.clone()),
                    proptest::collection::vec(inner.clone(), 1..4)
                )
                    .prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
                (
                    inner.clone(),
                    proptest::sample::select(vec!["+", "-", "*", "/", "^", "@"]),
                    inner
                )
                    .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]
        /// Well-formed expressions evaluate and differentiate to values or errors, no panic.
        #[test]
        fn random_calls_never_panic(src in expression()) {
            check(&src);
        }
    }

    fn check(src: &str) {
        let x = Tensor::new([1.0, 2.0, 3.0]).requires_grad_(true);
        let y = Tensor::scalar(2.0).requires_grad_(true);
        let env = Env {
            vars: [("x".to_string(), x.clone()), ("y".to_string(), y.clone())].into(),
            dtype: DType::F32,
        };
        if let Ok(node) = parse(src) {
            if let Ok(v) = eval(&node, &env) {
                if v.dtype().is_floating_point() && v.requires_grad() {
                    let seed = v.ones_like();
                    let _ = ferrograd::autograd::try_grad(
                        &[&v],
                        &[&x, &y],
                        ferrograd::GradOptions::new()
                            .grad_outputs([seed])
                            .create_graph(true)
                            .allow_unused(true),
                    );
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]
        /// Whatever the tokens, parsing, evaluation and differentiation return a value or an
        /// error; none of them panics.
        #[test]
        fn random_expressions_never_panic(tokens in proptest::collection::vec(token(), 1..14)) {
            check(&tokens.join(" "));
        }
    }
}
