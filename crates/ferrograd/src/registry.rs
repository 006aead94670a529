//! The registry of public operations: every op declared with `api!` appears here
//! with its name, parameters (names, kinds, defaults), documentation and a dynamic entry point,
//! so the CLI, the Python bindings and the coverage tests read one list instead of keeping
//! tables of their own.
//!
//! ```
//! use ferrograd::registry::{self, Value};
//! use ferrograd::Tensor;
//!
//! let op = registry::get("sum_dims").unwrap();
//! assert_eq!(op.signature(), "sum_dims(self: Tensor, dims: list[int], keepdim: bool = False)");
//! let x = Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
//! let y = op.call(&[Value::Tensor(x), Value::Ints(vec![0])]).unwrap();
//! assert_eq!(y.into_tensor().unwrap().to_vec::<f32>(), vec![4.0, 6.0]);
//! ```

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// An argument or a result of a registered op, as bindings pass them.
#[derive(Clone, Debug)]
pub enum Value {
    /// A tensor.
    Tensor(Tensor),
    /// A list of tensors.
    Tensors(Vec<Tensor>),
    /// A floating-point number.
    Float(f64),
    /// An integer.
    Int(i64),
    /// A list of integers (dimensions, which may be negative).
    Ints(Vec<isize>),
    /// A list of sizes (non-negative).
    Sizes(Vec<usize>),
    /// A boolean.
    Bool(bool),
    /// A string (an enum's name, such as a reduction `"mean"`).
    Str(String),
    /// A dtype.
    DType(DType),
    /// Python's `None`: an absent optional argument, or no result.
    None,
    /// Several results (`max_dim`'s values and indices).
    Tuple(Vec<Value>),
    /// An argument left out (a keyword not given): its default is used.
    Default,
}

impl Value {
    /// The tensor this value holds, if it is one.
    ///
    /// ```
    /// use ferrograd::registry::Value;
    /// assert!(Value::Float(1.0).into_tensor().is_none());
    /// ```
    pub fn into_tensor(self) -> Option<Tensor> {
        match self {
            Value::Tensor(t) => Some(t),
            _ => None,
        }
    }

    /// The value as a Python literal (`False`, `[0]`, `"mean"`, `torch.float32`), as
    /// signatures and stubs print defaults.
    ///
    /// ```
    /// use ferrograd::registry::Value;
    /// assert_eq!(Value::Bool(false).python_literal(), "False");
    /// assert_eq!(Value::Ints(vec![0, -1]).python_literal(), "[0, -1]");
    /// ```
    pub fn python_literal(&self) -> String {
        python_literal(self)
    }

    fn type_name(&self) -> &'static str {
        match self {
            Value::Tensor(_) => "Tensor",
            Value::Tensors(_) => "list[Tensor]",
            Value::Float(_) => "float",
            Value::Int(_) => "int",
            Value::Ints(_) | Value::Sizes(_) => "list[int]",
            Value::Bool(_) => "bool",
            Value::Str(_) => "str",
            Value::DType(_) => "dtype",
            Value::None => "None",
            Value::Tuple(_) => "tuple",
            Value::Default => "default",
        }
    }
}

/// The kind of a parameter or result, as bindings convert to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A tensor.
    Tensor,
    /// A list of tensors.
    Tensors,
    /// A floating-point number (an integer is accepted).
    Float,
    /// An integer.
    Int,
    /// A list of integers (a single integer is accepted as a list of one).
    Ints,
    /// A list of non-negative sizes.
    Sizes,
    /// A boolean.
    Bool,
    /// A string.
    Str,
    /// A dtype.
    DType,
    /// No value (a result of an op that returns nothing).
    Nothing,
    /// Several results.
    Tuple,
    /// An optional value of the given kind (`None` allowed).
    Optional(&'static Kind),
}

impl Kind {
    /// The kind's name as Python type hints spell it.
    ///
    /// ```
    /// use ferrograd::registry::Kind;
    /// assert_eq!(Kind::Optional(&Kind::Float).name(), "Optional[float]");
    /// ```
    pub fn name(&self) -> String {
        match self {
            Kind::Tensor => "Tensor".into(),
            Kind::Tensors => "list[Tensor]".into(),
            Kind::Float => "float".into(),
            Kind::Int => "int".into(),
            Kind::Ints | Kind::Sizes => "list[int]".into(),
            Kind::Bool => "bool".into(),
            Kind::Str => "str".into(),
            Kind::DType => "dtype".into(),
            Kind::Nothing => "None".into(),
            Kind::Tuple => "tuple".into(),
            Kind::Optional(k) => format!("Optional[{}]", k.name()),
        }
    }
}

/// One parameter of a registered op.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    /// Its name (`self` for the tensor a method is called on).
    pub name: &'static str,
    /// What it accepts.
    pub kind: Kind,
    /// Its default, if it may be left out.
    pub default: Option<fn() -> Value>,
}

/// How an op is called from Rust.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Receiver {
    /// A method on a tensor (`x.sum_dims(..)`); the first parameter is `self`.
    Method,
    /// An associated function of `Tensor` (`Tensor::cat(..)`).
    Static,
    /// A free function of a module (`nn::mse_loss(..)`).
    Function,
}

/// One registered op.
#[derive(Clone, Copy)]
pub struct OpDef {
    /// The op's name (the Rust method's name without `try_`, PyTorch's name where it has one).
    pub name: &'static str,
    /// The module path of a free function (`"nn"`), empty otherwise.
    pub module: &'static str,
    /// How it is called from Rust.
    pub receiver: Receiver,
    /// Its parameters, in order.
    pub params: &'static [Param],
    /// What it returns.
    pub returns: Kind,
    /// Whether a bad argument is an error (a `try_` form exists) rather than impossible.
    pub fallible: bool,
    /// Its documentation (the Rust doc comment).
    pub doc: &'static str,
    /// The dynamic entry point: positional arguments, [`Value::Default`] (or nothing, at the
    /// end) for a parameter left to its default.
    pub call: fn(&[Value]) -> Result<Value>,
}

impl std::fmt::Debug for OpDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.signature())
    }
}

impl OpDef {
    /// Calls the op with positional arguments (see [`OpDef::call`]); bad arguments are an
    /// `Err` naming the op and the parameter, never a panic.
    ///
    /// ```
    /// use ferrograd::registry::{self, Value};
    /// let err = registry::get("exp").unwrap().call(&[Value::Float(1.0)]).unwrap_err();
    /// assert_eq!(err.to_string(), "exp(): argument 'self' (position 1) must be Tensor, not float");
    /// ```
    pub fn call(&self, args: &[Value]) -> Result<Value> {
        (self.call)(args)
    }

    /// The signature as Python would show it: `sum_dims(self: Tensor, dims: list[int], ...)`.
    ///
    /// ```
    /// let op = ferrograd::registry::get("exp").unwrap();
    /// assert_eq!(op.signature(), "exp(self: Tensor)");
    /// ```
    pub fn signature(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| {
                let mut s = format!("{}: {}", p.name, p.kind.name());
                if let Some(d) = p.default {
                    s.push_str(" = ");
                    s.push_str(&python_literal(&d()));
                }
                s
            })
            .collect();
        format!("{}({})", self.name, params.join(", "))
    }

    /// The first line of the documentation.
    ///
    /// ```
    /// let op = ferrograd::registry::get("exp").unwrap();
    /// assert!(!op.summary().is_empty());
    /// ```
    pub fn summary(&self) -> &'static str {
        self.doc
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("")
    }
}

fn python_literal(v: &Value) -> String {
    match v {
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::None => "None".into(),
        Value::Float(f) => format!("{}", crate::PyFloat(*f)),
        Value::Int(i) => i.to_string(),
        Value::Ints(v) => format!("{v:?}"),
        Value::Sizes(v) => format!("{v:?}"),
        Value::Str(s) => format!("{s:?}"),
        Value::DType(d) => d.to_string(),
        other => other.type_name().into(),
    }
}

/// Every registered op, in declaration order (module by module).
///
/// ```
/// assert!(ferrograd::registry::ops().any(|op| op.name == "tanh"));
/// ```
pub fn ops() -> impl Iterator<Item = &'static OpDef> {
    crate::ops::REGISTRY.iter().flat_map(|m| m.iter())
}

/// The registered op called `name`.
///
/// ```
/// assert!(ferrograd::registry::get("matmul").is_some());
/// assert!(ferrograd::registry::get("no_such_op").is_none());
/// ```
pub fn get(name: &str) -> Option<&'static OpDef> {
    ops().find(|op| op.name == name)
}

/// Checks the arguments against the parameters and converts each to its parameter's exact
/// kind (an integer to a float, a single integer to a list, dims to sizes), filling defaults.
#[doc(hidden)]
pub fn bind(op: &'static str, params: &[Param], args: &[Value]) -> Result<Vec<Value>> {
    if args.len() > params.len() {
        return Err(Error::Argument(format!(
            "{op}() takes {} positional arguments but {} were given",
            params.len(),
            args.len()
        )));
    }
    params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let given = args.get(i).filter(|v| !matches!(v, Value::Default));
            match (given, p.default) {
                (Some(v), _) => coerce(op, i, p, v),
                (None, Some(d)) => Ok(d()),
                (None, None) => Err(Error::Argument(format!(
                    "{op}() missing required argument '{}' (pos {})",
                    p.name,
                    i + 1
                ))),
            }
        })
        .collect()
}

fn coerce(op: &'static str, i: usize, p: &Param, v: &Value) -> Result<Value> {
    coerce_kind(&p.kind, v).ok_or_else(|| {
        Error::Argument(format!(
            "{op}(): argument '{}' (position {}) must be {}, not {}",
            p.name,
            i + 1,
            p.kind.name(),
            v.type_name()
        ))
    })
}

fn coerce_kind(kind: &Kind, v: &Value) -> Option<Value> {
    Some(match (kind, v) {
        (Kind::Optional(_), Value::None) => Value::None,
        (Kind::Optional(k), v) => return coerce_kind(k, v),
        (Kind::Float, Value::Int(i)) => Value::Float(*i as f64),
        (Kind::Ints, Value::Int(i)) => Value::Ints(vec![isize::try_from(*i).ok()?]),
        (Kind::Ints, Value::Sizes(s)) => Value::Ints(
            s.iter()
                .map(|&d| isize::try_from(d).ok())
                .collect::<Option<_>>()?,
        ),
        (Kind::Sizes, Value::Ints(s)) => Value::Sizes(
            s.iter()
                .map(|&d| usize::try_from(d).ok())
                .collect::<Option<_>>()?,
        ),
        (Kind::Sizes, Value::Int(i)) => Value::Sizes(vec![usize::try_from(*i).ok()?]),
        (Kind::Tensors, Value::Tensor(t)) => Value::Tensors(vec![t.clone()]),
        (Kind::Tensor, Value::Tensor(_))
        | (Kind::Tensors, Value::Tensors(_))
        | (Kind::Float, Value::Float(_))
        | (Kind::Int, Value::Int(_))
        | (Kind::Ints, Value::Ints(_))
        | (Kind::Sizes, Value::Sizes(_))
        | (Kind::Bool, Value::Bool(_))
        | (Kind::Str, Value::Str(_))
        | (Kind::DType, Value::DType(_)) => v.clone(),
        _ => return None,
    })
}

/// A Rust parameter type a registered op can take, read from a [`Value`] of its [`Kind`]
/// (after [`bind`] converted it).
pub trait FromValue<'a>: Sized {
    /// The kind bindings must pass.
    const KIND: Kind;
    /// The value as this type; `None` only if `bind` did not convert it (a bug).
    fn from_value(v: &'a Value) -> Option<Self>;
    /// This value as a [`Value`] (for defaults).
    fn to_value(&self) -> Value;
    /// Why a value of the right kind is refused (an unknown name, such as a reduction
    /// `"avg"`), for the error naming the parameter.
    fn refusal(v: &Value) -> String {
        format!("expected {}, got {}", Self::KIND.name(), python_literal(v))
    }
}

/// A Rust result type a registered op can return.
pub trait IntoValue {
    /// The kind bindings receive.
    const KIND: Kind;
    /// The result as a [`Value`].
    fn into_value(self) -> Value;
}

macro_rules! from_value {
    ($($t:ty => $kind:expr, |$v:ident| $e:expr, |$s:ident| $back:expr;)*) => {$(
        impl<'a> FromValue<'a> for $t {
            const KIND: Kind = $kind;
            fn from_value($v: &'a Value) -> Option<Self> {
                $e
            }
            fn to_value(&self) -> Value {
                let $s = self;
                $back
            }
        }
    )*};
}

from_value! {
    &'a Tensor => Kind::Tensor,
        |v| match v { Value::Tensor(t) => Some(t), _ => None },
        |s| Value::Tensor((*s).clone());
    &'a [Tensor] => Kind::Tensors,
        |v| match v { Value::Tensors(t) => Some(t), _ => None },
        |s| Value::Tensors(s.to_vec());
    f64 => Kind::Float, |v| match v { Value::Float(f) => Some(*f), _ => None }, |s| Value::Float(*s);
    i64 => Kind::Int, |v| match v { Value::Int(i) => Some(*i), _ => None }, |s| Value::Int(*s);
    isize => Kind::Int,
        |v| match v { Value::Int(i) => isize::try_from(*i).ok(), _ => None },
        |s| Value::Int(*s as i64);
    usize => Kind::Int,
        |v| match v { Value::Int(i) => usize::try_from(*i).ok(), _ => None },
        |s| Value::Int(*s as i64);
    bool => Kind::Bool, |v| match v { Value::Bool(b) => Some(*b), _ => None }, |s| Value::Bool(*s);
    &'a [isize] => Kind::Ints,
        |v| match v { Value::Ints(d) => Some(d), _ => None },
        |s| Value::Ints(s.to_vec());
    &'a [usize] => Kind::Sizes,
        |v| match v { Value::Sizes(d) => Some(d), _ => None },
        |s| Value::Sizes(s.to_vec());
    &'a str => Kind::Str,
        |v| match v { Value::Str(s) => Some(s), _ => None },
        |s| Value::Str(s.to_string());
    DType => Kind::DType, |v| match v { Value::DType(d) => Some(*d), _ => None }, |s| Value::DType(*s);
    Option<&'a Tensor> => Kind::Optional(&Kind::Tensor),
        |v| optional(v), |s| s.map_or(Value::None, |t| t.to_value());
    Option<&'a str> => Kind::Optional(&Kind::Str),
        |v| optional(v), |s| s.map_or(Value::None, |t| t.to_value());
    Option<f64> => Kind::Optional(&Kind::Float),
        |v| optional(v), |s| s.map_or(Value::None, |t| t.to_value());
    Option<isize> => Kind::Optional(&Kind::Int),
        |v| optional(v), |s| s.map_or(Value::None, |t| t.to_value());
    Option<&'a [isize]> => Kind::Optional(&Kind::Ints),
        |v| optional(v), |s| s.map_or(Value::None, |t| t.to_value());
}

/// A reduction by PyTorch's name: `"none"`, `"mean"` or `"sum"`; another name is refused with
/// PyTorch's message.
impl<'a> FromValue<'a> for crate::nn::Reduction {
    const KIND: Kind = Kind::Str;
    fn from_value(v: &'a Value) -> Option<Self> {
        use crate::nn::Reduction;
        match v {
            Value::Str(s) => match s.as_str() {
                "none" => Some(Reduction::None),
                "mean" => Some(Reduction::Mean),
                "sum" => Some(Reduction::Sum),
                _ => None,
            },
            _ => None,
        }
    }
    fn to_value(&self) -> Value {
        use crate::nn::Reduction;
        Value::Str(
            match self {
                Reduction::None => "none",
                Reduction::Mean => "mean",
                Reduction::Sum => "sum",
            }
            .into(),
        )
    }
    fn refusal(v: &Value) -> String {
        match v {
            Value::Str(s) => format!("{s} is not a valid value for reduction"),
            v => format!("expected str, got {}", v.type_name()),
        }
    }
}

fn optional<'a, T: FromValue<'a>>(v: &'a Value) -> Option<Option<T>> {
    match v {
        Value::None => Some(None),
        v => T::from_value(v).map(Some),
    }
}

impl IntoValue for Tensor {
    const KIND: Kind = Kind::Tensor;
    fn into_value(self) -> Value {
        Value::Tensor(self)
    }
}

impl IntoValue for Vec<Tensor> {
    const KIND: Kind = Kind::Tensors;
    fn into_value(self) -> Value {
        Value::Tensors(self)
    }
}

/// Several tensor results (`sort`'s values and indices, `svd`'s U, S and Vh, ...) as a tuple.
macro_rules! tensor_tuple {
    ($($t:ident . $i:tt),+) => {
        impl IntoValue for ($($t,)+) {
            const KIND: Kind = Kind::Tuple;
            fn into_value(self) -> Value {
                Value::Tuple(vec![$(Value::Tensor(self.$i)),+])
            }
        }
    };
}

tensor_tuple!(Tensor.0, Tensor.1);
tensor_tuple!(Tensor.0, Tensor.1, Tensor.2);
tensor_tuple!(Tensor.0, Tensor.1, Tensor.2, Tensor.3);

impl IntoValue for f64 {
    const KIND: Kind = Kind::Float;
    fn into_value(self) -> Value {
        Value::Float(self)
    }
}

impl IntoValue for bool {
    const KIND: Kind = Kind::Bool;
    fn into_value(self) -> Value {
        Value::Bool(self)
    }
}

impl IntoValue for usize {
    const KIND: Kind = Kind::Int;
    fn into_value(self) -> Value {
        Value::Int(self as i64)
    }
}

impl IntoValue for () {
    const KIND: Kind = Kind::Nothing;
    fn into_value(self) -> Value {
        Value::None
    }
}

/// Reads the next argument (parameter `param`) of a bound argument list (after [`bind`]): an
/// `Err` naming the op and the parameter, never a panic, if the value is refused (an unknown
/// name) or a conversion is missing.
#[doc(hidden)]
pub fn next<'a, T: FromValue<'a>>(
    op: &'static str,
    param: &'static str,
    args: &mut std::slice::Iter<'a, Value>,
) -> Result<T> {
    let v = args.next().ok_or_else(|| {
        Error::Argument(format!(
            "{op}(): argument '{param}' is missing after binding"
        ))
    })?;
    T::from_value(v)
        .ok_or_else(|| Error::Argument(format!("{op}(): argument '{param}': {}", T::refusal(v))))
}
