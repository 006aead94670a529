//! Evaluation of a parsed EXPR with ferrograd tensors, and the table of callable functions.
//!
//! Operators map to the library's ops (`x^2` with a constant exponent is `pow`, so the graph
//! shows `PowBackward0` as PyTorch's `x**2` does). A list literal `[a, b]` is `stack([a, b])`, so
//! it is differentiable too; `cat` and `stack` take a list of tensors as their first argument.
//!
//! Every op runs under one [`Budget`]: before it runs, the size of its result and of the
//! intermediates it builds (einsum's pairwise products, convolution's columns) and its work
//! (matmul's `m*k*n`) are computed from the shapes of its arguments, with arithmetic that cannot
//! overflow, and an op over the [`Limits`] is refused with an error instead of exhausting memory
//! or time. Integer arguments (sizes, dims, offsets) are read exactly from the literals typed in
//! EXPR, not through the float dtype of the tensors.

use crate::parse::{BinOp, Expr, Node, SpannedError};
use ferrograd::nn::{self, ClassOptions, Reduction};
use ferrograd::registry::{self, Kind, OpDef};
use ferrograd::{DType, Tensor};
use std::cell::Cell;
use std::collections::HashMap;

/// The resources one evaluation of EXPR may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The most elements of any one tensor an op makes: its result or an intermediate.
    pub elements: u64,
    /// The most multiply-adds (or comparable steps) of one op.
    pub work: u64,
    /// The most elements all the ops of one evaluation make together.
    pub total: u64,
}

/// The limits of the `ferrograd` command (documented in `--help`): 2^26 elements per tensor
/// (512 MiB in f64), 2^33 multiply-adds per op (seconds), 2^27 elements per evaluation.
pub const LIMITS: Limits = Limits {
    elements: 1 << 26,
    work: 1 << 33,
    total: 1 << 27,
};

/// What one evaluation has used so far, against its [`Limits`].
#[derive(Debug)]
pub struct Budget {
    pub limits: Limits,
    spent: Cell<u64>,
    largest: Cell<u64>,
}

/// The size of what one op will make, computed from its arguments before it runs. Sizes are
/// `u128` products that saturate, so no shape can overflow them into a small number.
#[derive(Clone, Debug, Default)]
pub struct Estimate {
    /// The most elements of one tensor the op makes (result or intermediate).
    elements: u128,
    /// Its multiply-adds.
    work: u128,
    /// What the largest tensor is, for the error message.
    what: String,
}

impl Estimate {
    fn of(elements: u128, what: String) -> Estimate {
        Estimate {
            elements,
            work: elements,
            what,
        }
    }

    fn with_work(mut self, work: u128) -> Estimate {
        self.work = self.work.max(work);
        self
    }

    /// The larger of two estimates (elements and work separately).
    fn max(self, other: Estimate) -> Estimate {
        let work = self.work.max(other.work);
        let mut big = if other.elements > self.elements {
            other
        } else {
            self
        };
        big.work = work;
        big
    }
}

impl Budget {
    /// A fresh budget with these limits.
    pub fn new(limits: Limits) -> Budget {
        Budget {
            limits,
            spent: Cell::new(0),
            largest: Cell::new(0),
        }
    }

    /// Elements made by the ops so far.
    pub fn spent(&self) -> u64 {
        self.spent.get()
    }

    /// The most elements of one result so far (measured after each op ran; tests/fuzz.rs
    /// checks it against the limit).
    #[allow(dead_code)]
    pub fn largest(&self) -> u64 {
        self.largest.get()
    }

    /// Refuses an op whose estimate is over the per-op limits, before it runs.
    fn charge(&self, e: &Estimate) -> Result<(), String> {
        let l = self.limits;
        if e.elements > l.elements as u128 {
            return Err(format!(
                "{} would have {} elements, over the limit of {} elements per tensor",
                e.what,
                count(e.elements),
                l.elements
            ));
        }
        if e.work > l.work as u128 {
            return Err(format!(
                "{} would cost {} multiply-adds (or their equivalent), over the limit of {} per operation",
                e.what,
                count(e.work),
                l.work
            ));
        }
        Ok(())
    }

    /// Counts a result that was made against the total of the evaluation; past the total, the
    /// evaluation stops (each op is bounded, so at most one op's worth goes over it).
    fn record(&self, name: &str, t: &Tensor) -> Result<(), String> {
        let n = t.numel() as u64;
        self.largest.set(self.largest.get().max(n));
        let spent = self.spent.get().saturating_add(n);
        self.spent.set(spent);
        if spent > self.limits.total {
            return Err(format!(
                "{name}: with this result of shape {:?} the expression has made {spent} elements, over the limit of {} per evaluation",
                t.shape(),
                self.limits.total
            ));
        }
        Ok(())
    }
}

/// A count that may have saturated.
fn count(n: u128) -> String {
    if n == u128::MAX {
        "more than 2^128".to_string()
    } else {
        n.to_string()
    }
}

/// The number of elements of a shape, saturating.
fn numel(shape: &[usize]) -> u128 {
    shape
        .iter()
        .fold(1u128, |acc, &d| acc.saturating_mul(d as u128))
}

/// PyTorch's broadcast of several shapes, or `None` when they do not broadcast.
fn broadcast(shapes: &[Vec<usize>]) -> Option<Vec<usize>> {
    let rank = shapes.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = vec![1usize; rank];
    for s in shapes {
        for (k, &d) in s.iter().enumerate() {
            let o = &mut out[rank - s.len() + k];
            if *o == 1 {
                *o = d;
            } else if d != 1 && d != *o {
                return None;
            }
        }
    }
    Some(out)
}

/// What an argument evaluates to.
#[derive(Clone)]
pub enum Value {
    Tensor(Tensor),
    Str(String),
    /// A list literal (or an op's list of tensors), kept apart until it is used as a tensor
    /// (then it is stacked).
    List(Vec<Tensor>),
    /// `None`: an optional argument given as absent.
    None,
}

impl Value {
    /// Elements of the value as a tensor (a list: of its items), saturating.
    fn numel(&self) -> u128 {
        match self {
            Value::Tensor(t) => t.numel() as u128,
            Value::Str(_) | Value::None => 0,
            Value::List(items) => items
                .iter()
                .fold(0u128, |acc, t| acc.saturating_add(t.numel() as u128)),
        }
    }

    /// The shape of the value as a tensor; `None` for a string or a list that cannot stack.
    fn shape(&self) -> Option<Vec<usize>> {
        match self {
            Value::Tensor(t) => Some(t.shape().to_vec()),
            Value::Str(_) | Value::None => None,
            Value::List(items) => match items.split_first() {
                None => Some(vec![0]),
                Some((first, rest)) => rest
                    .iter()
                    .all(|t| t.shape() == first.shape())
                    .then(|| [&[items.len()][..], first.shape()].concat()),
            },
        }
    }
}

/// Variables by name, the dtype of literals, and the budget of the evaluation.
pub struct Env {
    pub vars: HashMap<String, Tensor>,
    pub dtype: DType,
    pub budget: Budget,
}

impl Env {
    /// An environment under the command's [`LIMITS`].
    pub fn new(vars: HashMap<String, Tensor>, dtype: DType) -> Env {
        Env::with_limits(vars, dtype, LIMITS)
    }

    /// An environment under other limits (tests use smaller ones).
    pub fn with_limits(vars: HashMap<String, Tensor>, dtype: DType, limits: Limits) -> Env {
        Env {
            vars,
            dtype,
            budget: Budget::new(limits),
        }
    }
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

fn to_tensor(v: Value, env: &Env, what: &str) -> Result<Tensor, String> {
    match v {
        Value::Tensor(t) => Ok(t),
        Value::Str(s) => Err(format!("{what}: expected a tensor, got the string {s:?}")),
        Value::None => Err(format!("{what}: expected a tensor, got None")),
        Value::List(items) if items.is_empty() => Ok(Tensor::full_with(&[0], 0.0, env.dtype)),
        Value::List(items) => {
            let n = Value::List(items.clone()).numel();
            env.budget
                .charge(&Estimate::of(n, "list: the stacked list".into()))?;
            let t = Tensor::try_stack(&items, 0).map_err(|e| format!("list: {e}"))?;
            env.budget.record("list", &t)?;
            Ok(t)
        }
    }
}

/// Evaluates `node`; errors carry the columns of the piece that failed.
pub fn eval(node: &Node, env: &Env) -> Result<Tensor, SpannedError> {
    let v = eval_value(node, env)?;
    to_tensor(v, env, "expression").map_err(|m| SpannedError::new(m, node.span))
}

fn eval_value(node: &Node, env: &Env) -> Result<Value, SpannedError> {
    let err = |m: String| SpannedError::new(m, node.span);
    Ok(match &node.expr {
        Expr::Num(v) => Value::Tensor(Tensor::full_with(&[], *v, env.dtype)),
        Expr::Int(v) => Value::Tensor(Tensor::full_with(&[], *v as f64, env.dtype)),
        Expr::Str(s) => Value::Str(s.clone()),
        Expr::Name(name) => match (env.vars.get(name), constant(name)) {
            (Some(t), _) => Value::Tensor(t.clone()),
            (None, Some(c)) => Value::Tensor(Tensor::full_with(&[], c, env.dtype)),
            (None, None) if name == "None" => Value::None,
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
        Expr::Neg(a) => {
            let x = eval(a, env)?;
            let e = Estimate::of(
                x.numel() as u128,
                format!("neg: a result of shape {:?}", x.shape()),
            );
            env.budget.charge(&e).map_err(err)?;
            let r = x.neg();
            env.budget.record("neg", &r).map_err(err)?;
            Value::Tensor(r)
        }
        Expr::Binary(op, a, b) => {
            let (x, y) = (eval(a, env)?, eval(b, env)?);
            let name = match op {
                BinOp::Add => "add",
                BinOp::Sub => "sub",
                BinOp::Mul => "mul",
                BinOp::Div => "div",
                BinOp::MatMul => "matmul",
                BinOp::Pow => "pow",
            };
            let shapes = [x.shape().to_vec(), y.shape().to_vec()];
            let estimate = match op {
                BinOp::MatMul => matmul_estimate(name, &shapes[0], &shapes[1]).0,
                _ => broadcast_estimate(name, &shapes),
            };
            // Point at the operator's side of the expression: the whole binary expression.
            env.budget.charge(&estimate).map_err(err)?;
            let r = match op {
                BinOp::Add => x.try_add(&y),
                BinOp::Sub => x.try_sub(&y),
                BinOp::Mul => x.try_mul(&y),
                BinOp::Div => x.try_div(&y),
                BinOp::MatMul => x.try_matmul(&y),
                BinOp::Pow => power(&x, &y),
            };
            let r = r.map_err(|e| err(e.to_string()))?;
            env.budget.record(name, &r).map_err(err)?;
            Value::Tensor(r)
        }
        Expr::Call(name, name_span, args) => {
            let f = resolve(name).ok_or_else(|| {
                let hint = suggest(name)
                    .map(|s| format!(" (did you mean '{s}'?)"))
                    .unwrap_or_default();
                SpannedError::new(format!("unknown function '{name}'{hint}"), *name_span)
            })?;
            let (min, max) = f.arity();
            if args.len() < min || args.len() > max {
                let takes = match (min, max) {
                    (a, b) if a == b => format!("{a} argument{}", if a == 1 { "" } else { "s" }),
                    (a, usize::MAX) => format!("at least {a} arguments"),
                    (a, b) => format!("{a} to {b} arguments"),
                };
                return Err(err(format!(
                    "{} takes {takes} but {} {} given",
                    f.signature(),
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
                nodes: args,
                env,
            };
            let fail = |ArgError { message, arg }| {
                let span = arg.and_then(|i| args.get(i)).map_or(node.span, |a| a.span);
                // Library messages already start with the op's name (the registry's with
                // `name()`, as Python's).
                let message = if message.starts_with(&format!("{name}:"))
                    || message.starts_with(&format!("{name}("))
                {
                    message
                } else {
                    format!("{name}: {message}")
                };
                SpannedError::new(message, span)
            };
            // The budget: the op's size, from its arguments, before it runs.
            estimate(&f, &call, name)
                .and_then(|e| {
                    env.budget
                        .charge(&e)
                        .map_err(|message| ArgError { message, arg: None })
                })
                .map_err(fail)?;
            let v = f.call(&call).map_err(fail)?;
            match &v {
                Value::Tensor(t) => env.budget.record(name, t).map_err(err)?,
                Value::List(ts) => {
                    for t in ts {
                        env.budget.record(name, t).map_err(err)?;
                    }
                }
                Value::Str(_) | Value::None => {}
            }
            v
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

// ------------------------------------------------------------------------- sizes of ops

type SizeFn = fn(&Args<'_>, &str) -> R<Estimate>;

/// The size rules of the ops whose result or intermediates can be larger than the broadcast of
/// their tensor arguments, keyed by the name EXPR calls them by (the registry's name). Every
/// other op that takes a tensor is no larger than that broadcast (or, when the arguments do
/// not broadcast, than the largest of them), with work linear in it: elementwise ops,
/// reductions, views, losses, softmax, cumulative ops. An op that takes no tensor (a creation
/// function) without a rule here is refused: nothing bounds its result.
const SIZES: &[(&str, SizeFn)] = &[
    ("mm", matmul_size),
    ("mv", matmul_size),
    ("bmm", matmul_size),
    ("matmul", matmul_size),
    ("outer", outer_size),
    ("solve", solve_size),
    ("linear", linear_size),
    ("det", lu_size),
    ("inv", lu_size),
    ("eigh", spectral_size),
    ("eigvalsh", spectral_size),
    ("svd", spectral_size),
    ("svdvals", spectral_size),
    ("pinv", spectral_size),
    ("matrix_norm", spectral_size),
    ("cond", spectral_size),
    ("matrix_rank", spectral_size),
    ("cholesky", factor_size),
    ("solve_triangular", factor_size),
    ("cholesky_solve", factor_size),
    ("lu_factor", factor_size),
    ("lu", factor_size),
    ("lu_solve", factor_size),
    ("slogdet", factor_size),
    ("logdet", factor_size),
    ("qr", factor_size),
    ("lstsq", factor_size),
    ("expand", expand_size),
    ("broadcast_to", expand_size),
    ("repeat", repeat_size),
    ("kron", kron_size),
    ("inner", kron_size),
    ("quantile_tensor", kron_size),
    ("nanquantile_tensor", kron_size),
    ("cdist", kron_size),
    ("scaled_dot_product_attention", attention_size),
    ("repeat_interleave", repeat_interleave_size),
    ("repeat_interleave_tensor", repeat_interleave_size),
    ("diagflat", diagflat_size),
    ("block_diag", block_diag_size),
    ("cartesian_prod", cartesian_prod_size),
    ("dstack", cat_size),
    ("column_stack", cat_size),
    ("cov", cov_size),
    ("corrcoef", cov_size),
    ("diag_embed", diag_embed_size),
    ("diag", diag_size),
    ("pad", pad_size),
    ("index_select", index_select_size),
    ("cat", cat_size),
    ("stack", cat_size),
    ("einsum", einsum_size),
    ("conv1d", conv_size),
    ("conv2d", conv_size),
    ("zeros", shape_size),
    ("ones", shape_size),
    ("full", shape_size),
    ("full_with", shape_size),
    ("rand", shape_size),
    ("randn", shape_size),
    ("rand_with", shape_size),
    ("randn_with", shape_size),
    ("eye", eye_size),
    ("eye_with", eye_size),
    ("arange", arange_size),
    ("arange_step", arange_size),
    ("linspace", linspace_size),
    ("linspace_with", linspace_size),
    ("adaptive_avg_pool1d", scaled_size),
    ("adaptive_avg_pool2d", scaled_size),
    ("adaptive_max_pool1d", scaled_size),
    ("adaptive_max_pool2d", scaled_size),
    ("adaptive_max_pool1d_with_indices", scaled_size),
    ("adaptive_max_pool2d_with_indices", scaled_size),
    ("interpolate", scaled_size),
    ("fold", scaled_size),
    ("unfold", scaled_size),
    ("conv_transpose1d", scaled_size),
    ("conv_transpose2d", scaled_size),
    ("bincount", scaled_size),
    ("histc", scaled_size),
    ("embedding", scaled_size),
    ("tril_indices", scaled_size),
    ("triu_indices", scaled_size),
    ("polygamma", scaled_size),
    ("max_pool1d", scaled_size),
    ("max_pool2d", scaled_size),
    ("max_pool1d_with_indices", scaled_size),
    ("max_pool2d_with_indices", scaled_size),
    ("avg_pool1d", scaled_size),
    ("avg_pool2d", scaled_size),
    ("pixel_shuffle", scaled_size),
    ("pixel_unshuffle", scaled_size),
    ("topk", scaled_size),
    ("kthvalue", scaled_size),
    ("searchsorted", scaled_size),
    ("scalar", |_, name| {
        Ok(Estimate::of(1, format!("{name}: a result")))
    }),
];

/// The size of what calling `f` (as `name`) with `a` makes, before it runs.
fn estimate(f: &Target, a: &Args<'_>, name: &str) -> R<Estimate> {
    if let Some((_, size)) = SIZES.iter().find(|(n, _)| *n == name) {
        return size(a, name);
    }
    if !f.takes_tensors() {
        return Err(ArgError {
            message: "it takes no tensor to size its result by and the CLI has no size rule for it, so it is refused before it runs".into(),
            arg: None,
        });
    }
    Ok(elementwise(a, name))
}

fn broadcast_estimate(name: &str, shapes: &[Vec<usize>]) -> Estimate {
    match broadcast(shapes) {
        // Index arithmetic walks every dim of every element: the rank is work too.
        Some(s) => Estimate::of(numel(&s), format!("{name}: a result of shape {s:?}"))
            .with_work(numel(&s).saturating_mul(s.len().max(1) as u128)),
        None => {
            let n = shapes.iter().map(|s| numel(s)).max().unwrap_or(1);
            Estimate::of(n, format!("{name}: a result"))
        }
    }
}

fn elementwise(a: &Args<'_>, name: &str) -> Estimate {
    let shapes: Option<Vec<Vec<usize>>> = a
        .vals
        .iter()
        .filter(|v| !matches!(v, Value::Str(_) | Value::None))
        .map(Value::shape)
        .collect();
    match shapes {
        Some(s) => broadcast_estimate(name, &s),
        None => {
            let n = a.vals.iter().map(Value::numel).max().unwrap_or(1);
            Estimate::of(n, format!("{name}: a result"))
        }
    }
}

/// The shape of argument `i` as a tensor (a list: as stacked).
fn shape_arg(a: &Args<'_>, i: usize) -> R<Vec<usize>> {
    a.vals[i].shape().ok_or_else(|| ArgError {
        message: format!("argument {} must be a tensor", i + 1),
        arg: Some(i),
    })
}

/// `matmul`'s result (batch dims broadcast, 1-d operands promoted), its broadcast operands and
/// its `batch * m * k * n` multiply-adds; also the result's shape when the shapes fit.
fn matmul_estimate(name: &str, sa: &[usize], sb: &[usize]) -> (Estimate, Option<Vec<usize>>) {
    let fallback = || {
        let n = numel(sa).max(numel(sb));
        (Estimate::of(n, format!("{name}: a result")), None)
    };
    if sa.is_empty() || sb.is_empty() {
        return fallback();
    }
    let a = if sa.len() == 1 {
        vec![1, sa[0]]
    } else {
        sa.to_vec()
    };
    let b = if sb.len() == 1 {
        vec![sb[0], 1]
    } else {
        sb.to_vec()
    };
    let (m, k) = (a[a.len() - 2], a[a.len() - 1]);
    let (k2, n) = (b[b.len() - 2], b[b.len() - 1]);
    let Some(batch) = broadcast(&[a[..a.len() - 2].to_vec(), b[..b.len() - 2].to_vec()]) else {
        return fallback();
    };
    let bn = numel(&batch);
    let mut out = batch.clone();
    if sa.len() > 1 {
        out.push(m);
    }
    if sb.len() > 1 {
        out.push(n);
    }
    let result = Estimate::of(
        bn.saturating_mul(m as u128).saturating_mul(n as u128),
        format!("{name}: a result of shape {out:?}"),
    );
    let left = Estimate::of(
        bn.saturating_mul(m as u128).saturating_mul(k as u128),
        format!("{name}: the broadcast left operand"),
    );
    let right = Estimate::of(
        bn.saturating_mul(k2 as u128).saturating_mul(n as u128),
        format!("{name}: the broadcast right operand"),
    );
    let work = bn
        .saturating_mul(m as u128)
        .saturating_mul(k.max(k2) as u128)
        .saturating_mul(n as u128);
    (result.max(left).max(right).with_work(work), Some(out))
}

fn matmul_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    Ok(matmul_estimate(name, &shape_arg(a, 0)?, &shape_arg(a, 1)?).0)
}

fn outer_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    let (x, y) = (a.vals[0].numel(), a.vals[1].numel());
    Ok(Estimate::of(
        x.saturating_mul(y),
        format!("{name}: a result of shape [{x}, {y}]"),
    ))
}

/// `linear(x, w, b)` is `x @ w^T + b`.
fn linear_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    let sx = shape_arg(a, 0)?;
    let mut sw = shape_arg(a, 1)?;
    let r = sw.len();
    if r >= 2 {
        sw.swap(r - 2, r - 1);
    }
    let (e, out) = matmul_estimate(name, &sx, &sw);
    match (out, a.has(2)) {
        (Some(out), true) => Ok(e.max(broadcast_estimate(name, &[out, shape_arg(a, 2)?]))),
        _ => Ok(e.max(elementwise(a, name))),
    }
}

/// det and inv of square matrices `[..., n, n]`: LU is `n^3` per matrix.
fn lu_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    let s = shape_arg(a, 0)?;
    let n = s.last().copied().unwrap_or(1) as u128;
    // The LU kernels are unblocked: each step costs about 16 of a GEMM's multiply-adds.
    Ok(elementwise(a, name).with_work(a.vals[0].numel().saturating_mul(n).saturating_mul(16)))
}

/// The spectral decompositions (and what is built on them) of `[..., m, n]` matrices: Jacobi
/// sweeps of `O(m n min(m, n))` each, a few dozen of them at most, and full `m x m` and
/// `n x n` factors (at most the tensor's size times its largest dim, the bound for both:
/// `matrix_norm` may take its matrices from any two dims).
fn spectral_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    let s = shape_arg(a, 0)?;
    let big = s.iter().copied().max().unwrap_or(1) as u128;
    let numel = a.vals[0].numel();
    let factors = Estimate::of(
        numel.saturating_mul(big),
        format!("{name}: the factors of a {s:?} tensor"),
    );
    Ok(elementwise(a, name)
        .max(factors)
        .with_work(numel.saturating_mul(big).saturating_mul(256)))
}

/// `linalg`'s factorizations and solvers: the batch dims of the matrix arguments broadcast,
/// and each member's results and intermediates (a permutation matrix, a complete `Q`, an
/// inverse in a backward rule) are at most `d x d`, `d` the largest of their last two dims,
/// with the unblocked kernels' cubic work.
fn factor_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    let base = elementwise(a, name);
    let mut batches = Vec::new();
    let mut d = 1u128;
    for i in 0..a.len() {
        if let Some(s) = a.vals[i].shape() {
            if s.len() >= 2 {
                d = d.max(s[s.len() - 1] as u128).max(s[s.len() - 2] as u128);
                batches.push(s[..s.len() - 2].to_vec());
            }
        }
    }
    let Some(batch) = broadcast(&batches) else {
        return Ok(base);
    };
    let count = numel(&batch);
    let matrices = Estimate::of(
        count.saturating_mul(d).saturating_mul(d),
        format!("{name}: {d}x{d} matrices of batch {batch:?}"),
    );
    let work = count
        .saturating_mul(d)
        .saturating_mul(d)
        .saturating_mul(d)
        .saturating_mul(16);
    Ok(base.max(matrices).with_work(work))
}

/// `solve(A, B)`: A's and B's batch dims broadcast (both are expanded to it), then LU.
fn solve_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    let (sa, sb) = (shape_arg(a, 0)?, shape_arg(a, 1)?);
    let base = elementwise(a, name);
    let Some(&n) = sa.last() else {
        return Ok(base);
    };
    let vector = sb.len() == 1 || (sb.len() + 1 == sa.len() && sb.last() == Some(&n));
    let bm = if vector { [&sb[..], &[1]].concat() } else { sb };
    if sa.len() < 2 || bm.len() < 2 {
        return Ok(base);
    }
    let k = bm[bm.len() - 1];
    let Some(batch) = broadcast(&[sa[..sa.len() - 2].to_vec(), bm[..bm.len() - 2].to_vec()]) else {
        return Ok(base);
    };
    let count = numel(&batch);
    let (n, k) = (n as u128, k as u128);
    let matrices = Estimate::of(
        count.saturating_mul(n).saturating_mul(n.max(k)),
        format!("{name}: the broadcast operands of batch {batch:?}"),
    );
    let work = count
        .saturating_mul(n)
        .saturating_mul(n)
        .saturating_mul(n.saturating_add(k))
        .saturating_mul(16);
    Ok(base.max(matrices).with_work(work))
}

fn expand_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    let shape = a.sizes(1)?;
    Ok(Estimate::of(
        numel(&shape),
        format!("{name}: a result of shape {shape:?}"),
    ))
}

fn repeat_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    let reps = a.sizes(1)?;
    Ok(Estimate::of(
        a.vals[0].numel().saturating_mul(numel(&reps)),
        format!("{name}: a result repeating it {reps:?} times"),
    ))
}

/// `kron(a, b)`: a result with the product of the two element counts.
fn kron_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    let n = a.vals[0]
        .numel()
        .saturating_mul(a.vals.get(1).map_or(1, Value::numel));
    Ok(Estimate::of(n, format!("{name}: a result of {n} elements")))
}

/// Attention's scores `q @ k^T` (the largest intermediate; the result is no larger).
fn attention_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    let (sq, mut sk) = (shape_arg(a, 0)?, shape_arg(a, 1)?);
    let n = sk.len();
    if n >= 2 {
        sk.swap(n - 1, n - 2);
    }
    Ok(matmul_estimate(name, &sq, &sk).0)
}

/// `repeat_interleave(x, r)`: each element `|r|` times (an int), or up to the sum of the
/// counts' magnitudes (a tensor of counts).
fn repeat_interleave_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    let n = a.vals[0].numel();
    let times: u128 = match a.vals.get(1) {
        Some(Value::Tensor(r)) => r
            .to_vec::<f64>()
            .iter()
            .map(|x| {
                if x.is_finite() {
                    x.abs().ceil() as u128
                } else {
                    u128::MAX
                }
            })
            .fold(0u128, u128::saturating_add),
        _ => a.int_or(1, 1)?.unsigned_abs() as u128,
    };
    let total = n.saturating_mul(times);
    Ok(Estimate::of(
        total,
        format!("{name}: a result of {total} elements"),
    ))
}

/// `diagflat(x, offset)`: an `(numel + |offset|)` square.
fn diagflat_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    let side = a.vals[0]
        .numel()
        .saturating_add(a.int_or(1, 0)?.unsigned_abs() as u128);
    Ok(Estimate::of(
        side.saturating_mul(side),
        format!("{name}: a result of shape [{side}, {side}]"),
    ))
}

/// `block_diag`: at most `(sum of every block's sizes)^2` elements.
fn block_diag_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    let side = match a.vals.first() {
        Some(Value::List(ts)) => ts.iter().fold(1u128, |acc, t| {
            acc.saturating_add(t.shape().iter().map(|&d| d as u128).sum::<u128>())
        }),
        _ => 1,
    };
    Ok(Estimate::of(
        side.saturating_mul(side),
        format!("{name}: a result of at most [{side}, {side}]"),
    ))
}

/// `cartesian_prod`: one row of `k` per combination.
fn cartesian_prod_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    let n = match a.vals.first() {
        Some(Value::List(ts)) => ts.iter().fold(ts.len() as u128, |acc, t| {
            acc.saturating_mul(t.numel() as u128)
        }),
        _ => 1,
    };
    Ok(Estimate::of(n, format!("{name}: a result of {n} elements")))
}

/// `cov` and `corrcoef` of `[vars, obs]`: a `vars x vars` result beside the input.
fn cov_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    let s = shape_arg(a, 0)?;
    let vars = s.first().copied().unwrap_or(1) as u128;
    let n = vars.saturating_mul(vars).max(numel(&s));
    Ok(Estimate::of(
        n,
        format!("{name}: a result of shape [{vars}, {vars}]"),
    ))
}

/// `diag_embed(x, offset)`: `[..., n]` gives `[..., n + |offset|, n + |offset|]`.
fn diag_embed_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    let shape = shape_arg(a, 0)?;
    let Some((&n, batch)) = shape.split_last() else {
        return Ok(elementwise(a, name)); // the library refuses a 0-d input
    };
    let k = if a.has(1) {
        a.int(1)?.unsigned_abs() as u128
    } else {
        0
    };
    let side = (n as u128).saturating_add(k);
    let count = numel(batch).saturating_mul(side).saturating_mul(side);
    Ok(Estimate::of(
        count,
        format!("{name}: {side}x{side} matrices of batch {batch:?}"),
    ))
}

/// Ops whose result (or work) grows with their integer arguments (output sizes, bin counts,
/// windows, an embedding's rows): the largest argument times the product of the magnitudes of
/// every small argument's values (at most 8 elements each), a bound that is never below the
/// truth for these ops.
fn scaled_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    let base = a.vals.iter().map(Value::numel).max().unwrap_or(1);
    let mut factor: u128 = 1;
    let small: Vec<&Tensor> = a
        .vals
        .iter()
        .flat_map(|v| match v {
            Value::Tensor(t) => vec![t],
            Value::List(ts) => ts.iter().collect(),
            _ => Vec::new(),
        })
        .filter(|t| t.numel() <= 8)
        .collect();
    for t in small {
        for x in t.to_vec::<f64>() {
            if !x.is_finite() {
                factor = u128::MAX;
            } else if x.abs() >= 1.0 {
                factor = factor.saturating_mul(x.abs().ceil() as u128);
            }
        }
    }
    Ok(Estimate::of(
        base.saturating_mul(factor),
        format!("{name}: a result sized by its arguments"),
    ))
}

/// `diag` of a vector of n is an `(n + |offset|)` square.
fn diag_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    let s = shape_arg(a, 0)?;
    if s.len() != 1 {
        return Ok(elementwise(a, name));
    }
    let side = (s[0] as u128).saturating_add(a.int_or(1, 0)?.unsigned_abs() as u128);
    Ok(Estimate::of(
        side.saturating_mul(side),
        format!("{name}: a result of shape [{side}, {side}]"),
    ))
}

/// `cat` and `stack`: all their inputs together.
fn cat_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    let n = a
        .vals
        .iter()
        .fold(0u128, |acc, v| acc.saturating_add(v.numel()));
    Ok(Estimate::of(n, format!("{name}: a result")))
}

/// einsum (as the library computes it) sums out what one operand alone has, then contracts the
/// operands pairwise, left to right, each pair as one matrix product `batch*m*k*n`: its largest
/// tensor is the largest pairwise result, its work the largest pair's product over all the
/// pair's subscripts (each at its largest size: an upper bound). Integer operands (no matmul)
/// multiply each pair out, so for them that product is a tensor too.
fn einsum_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    let equation = a.string(0)?;
    let (lhs, rhs) = match equation.split_once("->") {
        Some((l, r)) => (l, Some(r)),
        None => (equation.as_str(), None),
    };
    let shapes: Vec<Vec<usize>> = match &a.vals[1] {
        Value::List(items) => items.iter().map(|t| t.shape().to_vec()).collect(),
        _ => (1..a.len()).map(|i| shape_arg(a, i)).collect::<R<_>>()?,
    };
    let floats = match &a.vals[1] {
        Value::List(items) => items.iter().all(|t| t.dtype().is_floating_point()),
        _ => a.vals[1..]
            .iter()
            .all(|v| matches!(v, Value::Tensor(t) if t.dtype().is_floating_point())),
    };
    // Each operand's subscripts; the dims under `...`, right-aligned, are chars from U+100.
    let mut size: HashMap<char, usize> = HashMap::new();
    let mut terms: Vec<Vec<char>> = Vec::new();
    let mut ellipsis: Vec<char> = Vec::new();
    for (term, shape) in lhs.split(',').zip(&shapes) {
        let (before, after) = term.split_once("...").unwrap_or((term, ""));
        let (before, after): (Vec<char>, Vec<char>) =
            (before.chars().collect(), after.chars().collect());
        if before.len() + after.len() > shape.len() {
            continue; // the library refuses the equation
        }
        let middle = if term.contains("...") {
            shape.len() - before.len() - after.len()
        } else {
            0
        };
        let dots = (0..middle)
            .rev()
            .map(|k| char::from_u32(0x100 + k as u32).unwrap_or('.'));
        let letters: Vec<char> = before.into_iter().chain(dots).chain(after).collect();
        for (c, &d) in letters.iter().zip(shape) {
            let e = size.entry(*c).or_insert(0);
            *e = (*e).max(d);
            if !c.is_ascii() && !ellipsis.contains(c) {
                ellipsis.push(*c);
            }
        }
        terms.push(letters);
    }
    let out: Vec<char> = match rhs {
        Some(r) if r.contains("...") => r.chars().filter(|&c| c != '.').chain(ellipsis).collect(),
        Some(r) => r.chars().collect(),
        None => (size.keys().copied())
            .filter(|c| !c.is_ascii() || terms.iter().flatten().filter(|x| *x == c).count() == 1)
            .collect(),
    };
    let prod = |cs: &[char]| {
        cs.iter().fold(1u128, |acc, c| {
            acc.saturating_mul(size.get(c).copied().unwrap_or(0) as u128)
        })
    };
    // What is kept after term `i`: the output's subscripts and those of later terms.
    let kept = |c: &char, i: usize| out.contains(c) || terms[i + 1..].iter().any(|t| t.contains(c));
    let (mut largest, mut work) = (prod(&out), 0u128);
    let mut acc: Vec<char> = Vec::new();
    for (i, t) in terms.iter().enumerate() {
        let mut pair = acc.clone();
        for c in t {
            if !pair.contains(c) {
                pair.push(*c);
            }
        }
        if i > 0 {
            work = work.max(prod(&pair));
        }
        acc = pair.into_iter().filter(|c| kept(c, i)).collect();
        largest = largest.max(prod(&acc));
    }
    if !floats {
        largest = largest.max(work);
    }
    let inputs = shapes.iter().map(|s| numel(s)).max().unwrap_or(0);
    Ok(Estimate::of(
        largest.max(inputs),
        format!("{name}: the largest of its pairwise products"),
    )
    .with_work(work))
}

/// Convolutions as im2col: the columns `[N, C, k..., out...]` and `O * C/g * k` multiply-adds
/// per output element.
fn conv_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    let (mut sx, mut sw) = (shape_arg(a, 0)?, shape_arg(a, 1)?);
    let spatial = if name == "conv1d" { 1 } else { 2 };
    if sx.len() == spatial + 1 {
        sx.insert(0, 1);
    }
    let base = elementwise(a, name);
    if sx.len() != spatial + 2 || sw.len() != spatial + 2 {
        return Ok(base);
    }
    let (n, c) = (sx[0] as u128, sx[1] as u128);
    let (o, cg) = (sw[0] as u128, sw[1] as u128);
    let kernel = numel(&sw.split_off(2));
    let out = numel(
        &sx[2..]
            .iter()
            .zip(&a.vals[1].shape().unwrap_or_default()[2..])
            .map(|(&x, &k)| (x + 1).saturating_sub(k))
            .collect::<Vec<_>>(),
    );
    let cols = Estimate::of(
        n.saturating_mul(c)
            .saturating_mul(kernel)
            .saturating_mul(out),
        format!("{name}: the im2col columns"),
    );
    let result = Estimate::of(
        n.saturating_mul(o).saturating_mul(out),
        format!("{name}: a result"),
    );
    let work = n
        .saturating_mul(o)
        .saturating_mul(cg)
        .saturating_mul(kernel)
        .saturating_mul(out);
    Ok(base.max(cols).max(result).with_work(work))
}

/// `pad(x, pads)`: the last dims grown by their pairs of pads (negative pads crop).
fn pad_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    let mut shape = shape_arg(a, 0)?;
    let pads = a.dims(1)?;
    if pads.len() % 2 != 0 || pads.len() / 2 > shape.len() {
        return Ok(elementwise(a, name)); // the library refuses it
    }
    let rank = shape.len();
    for (k, pair) in pads.chunks(2).enumerate() {
        let d = &mut shape[rank - 1 - k];
        let grown = (*d as i128)
            .saturating_add(pair[0] as i128)
            .saturating_add(pair[1] as i128);
        *d = usize::try_from(grown.max(0)).unwrap_or(usize::MAX);
    }
    Ok(Estimate::of(
        numel(&shape),
        format!("{name}: a result of shape {shape:?}"),
    ))
}

/// `index_select(x, dim, index)`: dim `dim` of x replaced by the index's length.
fn index_select_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    let shape = shape_arg(a, 0)?;
    let base = elementwise(a, name);
    let rank = shape.len().max(1) as i64;
    let d = a.int(1)?;
    if d < -rank || d >= rank || shape.is_empty() {
        return Ok(base); // the library refuses it, or the result is the index's shape
    }
    let d = d.rem_euclid(rank) as usize;
    let others = numel(&shape) / (shape[d].max(1) as u128);
    let others = if shape[d] == 0 {
        numel(&[&shape[..d], &shape[d + 1..]].concat())
    } else {
        others
    };
    Ok(base.max(Estimate::of(
        others.saturating_mul(a.vals[2].numel()),
        format!("{name}: a result"),
    )))
}

/// Creation functions whose first argument is the shape.
fn shape_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    let shape = a.sizes(0)?;
    Ok(Estimate::of(
        numel(&shape),
        format!("{name}: a result of shape {shape:?}"),
    ))
}

/// `eye(n)`: an n x n matrix.
fn eye_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    let n = a.size(0)? as u128;
    Ok(Estimate::of(
        n.saturating_mul(n),
        format!("{name}: a result of shape [{n}, {n}]"),
    ))
}

/// A count computed in floats: past u128 (or not finite) it saturates, so it is refused.
fn float_count(x: f64) -> u128 {
    if x.is_finite() {
        x.abs().ceil() as u128
    } else {
        u128::MAX
    }
}

/// `arange(end)` and `arange_step(start, end, step)`: |end - start| / |step| elements.
fn arange_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    let n = if a.len() >= 3 {
        (a.float(1)? - a.float(0)?) / a.float(2)?
    } else {
        a.float(0)?
    };
    // A zero step is the library's error, not a size.
    let n = if n.is_nan() { 0 } else { float_count(n) };
    Ok(Estimate::of(n, format!("{name}: a result of {n} elements")))
}

/// `linspace(start, end, steps)`: `steps` elements.
fn linspace_size(a: &Args<'_>, name: &str) -> R<Estimate> {
    let n = a.size(2)? as u128;
    Ok(Estimate::of(n, format!("{name}: a result of {n} elements")))
}

// ------------------------------------------------------------------------- arguments

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

/// A number typed in EXPR, folded exactly as Python would: integers stay `i64`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Exact {
    Int(i64),
    Float(f64),
}

impl Exact {
    fn f64(self) -> f64 {
        match self {
            Exact::Int(i) => i as f64,
            Exact::Float(x) => x,
        }
    }
}

/// The exact value of a constant expression of literals (`16777217`, `-3`, `2^24 + 1`, `pi/4`),
/// or `None` when it involves a variable, a call or an integer overflow.
fn exact(node: &Node, env: &Env) -> Option<Exact> {
    use Exact::{Float, Int};
    match &node.expr {
        Expr::Int(i) => Some(Int(*i)),
        Expr::Num(v) => Some(Float(*v)),
        Expr::Name(n) if !env.vars.contains_key(n) => constant(n).map(Float),
        Expr::Neg(a) => match exact(a, env)? {
            Int(i) => i.checked_neg().map(Int),
            Float(x) => Some(Float(-x)),
        },
        Expr::Binary(op, a, b) => {
            let (x, y) = (exact(a, env)?, exact(b, env)?);
            match (op, x, y) {
                (BinOp::MatMul, _, _) => None,
                (BinOp::Add, Int(x), Int(y)) => x.checked_add(y).map(Int),
                (BinOp::Sub, Int(x), Int(y)) => x.checked_sub(y).map(Int),
                (BinOp::Mul, Int(x), Int(y)) => x.checked_mul(y).map(Int),
                (BinOp::Pow, Int(x), Int(y)) if y >= 0 => u32::try_from(y)
                    .ok()
                    .and_then(|e| x.checked_pow(e))
                    .map(Int),
                (op, x, y) => {
                    let (x, y) = (x.f64(), y.f64());
                    Some(Float(match op {
                        BinOp::Add => x + y,
                        BinOp::Sub => x - y,
                        BinOp::Mul => x * y,
                        BinOp::Div => x / y,
                        _ => x.powf(y),
                    }))
                }
            }
        }
        _ => None,
    }
}

/// The evaluated arguments of one call, with typed accessors.
pub struct Args<'a> {
    vals: Vec<Value>,
    nodes: &'a [Node],
    env: &'a Env,
}

fn bad<T>(i: usize, message: String) -> R<T> {
    Err(ArgError {
        message,
        arg: Some(i),
    })
}

/// From 2^24 on, float32 skips integers: a value there may be a rounded one.
const F32_EXACT: f64 = 16_777_216.0;

impl Args<'_> {
    fn len(&self) -> usize {
        self.vals.len()
    }

    fn has(&self, i: usize) -> bool {
        i < self.vals.len()
    }

    fn t(&self, i: usize) -> R<Tensor> {
        to_tensor(
            self.vals[i].clone(),
            self.env,
            &format!("argument {}", i + 1),
        )
        .map_err(|message| ArgError {
            message,
            arg: Some(i),
        })
    }

    /// The exact numbers of argument `i` when it is typed as literals: a constant or a flat
    /// list of constants.
    fn exact(&self, i: usize) -> Option<Vec<Exact>> {
        let node = self.nodes.get(i)?;
        match &node.expr {
            Expr::List(items) => items.iter().map(|n| exact(n, self.env)).collect(),
            _ => exact(node, self.env).map(|x| vec![x]),
        }
    }

    /// The numbers of a constant argument: a number or a flat list.
    fn numbers(&self, i: usize) -> R<Vec<f64>> {
        if let Some(xs) = self.exact(i) {
            return Ok(xs.into_iter().map(Exact::f64).collect());
        }
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

    /// Integers, exact: from the literals when they are typed, else from a tensor whose
    /// values it holds exactly; `Err(x)` with the first value that is not an integer.
    fn integers(&self, i: usize) -> R<Result<Vec<i64>, f64>> {
        let integer = |x: f64| (x.fract() == 0.0 && x.abs() < 9.2e18).then_some(x as i64);
        let mut out = Vec::new();
        if let Some(xs) = self.exact(i) {
            for x in xs {
                match x {
                    Exact::Int(n) => out.push(n),
                    Exact::Float(x) => match integer(x) {
                        Some(n) => out.push(n),
                        None => return Ok(Err(x)),
                    },
                }
            }
            return Ok(Ok(out));
        }
        let f32 = self.t(i)?.dtype() == DType::F32;
        for x in self.numbers(i)? {
            if f32 && x.abs() >= F32_EXACT && x.is_finite() {
                return bad(
                    i,
                    format!(
                        "argument {}: {x} is past the integers float32 holds exactly (2^24); type it as an integer literal or use --dtype f64",
                        i + 1
                    ),
                );
            }
            match integer(x) {
                Some(n) => out.push(n),
                None => return Ok(Err(x)),
            }
        }
        Ok(Ok(out))
    }

    /// Integers, exact (see [`Args::integers`]).
    fn ints(&self, i: usize) -> R<Vec<i64>> {
        self.integers(i)?
            .or_else(|x| bad(i, format!("argument {} must be integers, got {x}", i + 1)))
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

    /// A dim or an offset: an integer that fits an `isize`.
    fn dim(&self, i: usize) -> R<isize> {
        let d = self.int(i)?;
        isize::try_from(d).or_else(|_| bad(i, format!("argument {} is out of range: {d}", i + 1)))
    }

    fn dims(&self, i: usize) -> R<Vec<isize>> {
        self.ints(i)?
            .into_iter()
            .map(|d| {
                isize::try_from(d)
                    .or_else(|_| bad(i, format!("argument {} is out of range: {d}", i + 1)))
            })
            .collect()
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

    /// Argument `i` as the registry's value of `kind`: tensors (a list literal stacked, or a
    /// list of tensors for a list parameter), numbers and integers read exactly from their
    /// literals with the CLI's exactness checks, flags as numbers (non-zero is true), `None`.
    /// A value of another kind is passed as it is, for the registry to refuse it in Python's
    /// words ("argument 'dims' (position 2) must be list[int], not float").
    fn registry_value(&self, i: usize, kind: &Kind) -> R<registry::Value> {
        use registry::Value as V;
        let ints = |v: Vec<i64>| {
            v.into_iter()
                .map(|d| {
                    isize::try_from(d)
                        .or_else(|_| bad(i, format!("argument {} is out of range: {d}", i + 1)))
                })
                .collect::<R<Vec<isize>>>()
        };
        Ok(match (&self.vals[i], kind) {
            (Value::None, _) => V::None,
            (_, Kind::Optional(k)) => return self.registry_value(i, k),
            (Value::Str(s), Kind::DType) => match dtype_named(s) {
                Some(d) => V::DType(d),
                None => {
                    return bad(
                        i,
                        format!(
                            "argument {}: unknown dtype {s:?} (float32, float64, int64 or bool)",
                            i + 1
                        ),
                    )
                }
            },
            (Value::Str(s), _) => V::Str(s.clone()),
            (Value::List(items), Kind::Tensors) => V::Tensors(items.clone()),
            (_, Kind::Float) => V::Float(self.float(i)?),
            (_, Kind::Bool) => V::Bool(self.flag(i)?),
            (_, Kind::Int) => match self.integers(i)? {
                Ok(v) if v.len() == 1 => V::Int(v[0]),
                Ok(v) => V::Ints(ints(v)?),
                Err(x) => V::Float(x),
            },
            (_, Kind::Ints) => match self.integers(i)? {
                Ok(v) => V::Ints(ints(v)?),
                Err(x) => V::Float(x),
            },
            (_, Kind::Sizes) => match self.integers(i)? {
                Ok(_) => V::Sizes(self.sizes(i)?),
                Err(x) => V::Float(x),
            },
            // Tensors, and tensors given for strings or dtypes (which the registry refuses).
            _ => V::Tensor(self.t(i)?),
        })
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

/// One function of the CLI's own table: its name, signature (shown in errors and `ferrograd
/// ops`), how many arguments it takes, what it does, and (for a form of the CLI's own language)
/// why it is the CLI's rather than the registry's.
pub struct Func {
    pub name: &'static str,
    pub sig: &'static str,
    pub min: usize,
    pub max: usize,
    pub call: fn(&Args<'_>) -> R<Tensor>,
    /// Why the CLI has this form of its own (an alias, an overload, a default PyTorch does not
    /// have); empty for the rows kept only until their op is in the registry.
    pub why: &'static str,
}

macro_rules! unary {
    ($($name:ident),* $(,)?) => {
        &[$(Func {
            name: stringify!($name),
            sig: concat!(stringify!($name), "(x)"),
            min: 1,
            max: 1,
            call: |a| Ok(a.t(0)?.$name()),
            why: "",
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
            why: "",
        }),*]
    };
}

const MANY: usize = usize::MAX;

/// The CLI's own language on top of the registry: aliases, overloads by argument count or
/// kind, and defaults that the registry's (PyTorch's) signatures do not have. A name here wins
/// over a registry op of the same name; each row says why it exists.
const OWN: &[Func] = &[
    Func {
        name: "pow",
        sig: "pow(x, exponent)",
        min: 2,
        max: 2,
        call: |a| Ok(power(&a.t(0)?, &a.t(1)?)?),
        why: "picks pow / rpow / pow_tensor as PyTorch's x ** y does (the node names follow)",
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
        why: "overload by argument count: sum, or sum_dims with dims",
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
        why: "overload by argument count: mean, or mean_dims with dims",
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
        why: "overload by argument count: prod, or prod_dim with a dim",
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
        why: "overload as PyTorch's torch.max: max, max_dim's values, or maximum of two tensors",
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
        why: "overload as PyTorch's torch.min: min, min_dim's values, or minimum of two tensors",
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
        why: "the CLI's default: every dim when none is given (PyTorch requires dim)",
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
        why: "overload by argument count: norm, or norm_dims with p",
    },
    Func {
        name: "softmax",
        sig: "softmax(x[, dim=-1])",
        min: 1,
        max: 2,
        call: |a| Ok(a.t(0)?.try_softmax(a.int_or(1, -1)? as isize)?),
        why: "the CLI's default dim=-1 (PyTorch requires dim)",
    },
    Func {
        name: "log_softmax",
        sig: "log_softmax(x[, dim=-1])",
        min: 1,
        max: 2,
        call: |a| Ok(a.t(0)?.try_log_softmax(a.int_or(1, -1)? as isize)?),
        why: "the CLI's default dim=-1 (PyTorch requires dim)",
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
        why: "overload: transpose(x) is t(x); dim1 defaults to 0",
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
        why: "infers one -1 entry of the shape (the library's reshape takes sizes)",
    },
    Func {
        name: "einsum",
        sig: "einsum('equation', a, ...)",
        min: 2,
        max: MANY,
        call: |a| Ok(Tensor::try_einsum(&a.string(0)?, &a.tensor_list(1)?)?),
        why: "variadic operands, as PyTorch's einsum(equation, *operands)",
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
        why: "PyTorch's name (the Rust function is where_); a float condition means != 0",
    },
    Func {
        name: "clamp",
        sig: "clamp(x, min, max)",
        min: 3,
        max: 3,
        call: |a| Ok(a.t(0)?.try_clamp_tensor(Some(&a.t(1)?), Some(&a.t(2)?))?),
        why: "alias of clamp_tensor: the bounds are tensors (differentiable)",
    },
    Func {
        name: "lerp",
        sig: "lerp(x, end, weight)",
        min: 3,
        max: 3,
        call: |a| Ok(a.t(0)?.try_lerp_tensor(&a.t(1)?, &a.t(2)?)?),
        why: "alias of lerp_tensor: the weight is a tensor (differentiable)",
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
        why: "overload: softplus, or softplus_with beta and threshold",
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
        why: "the third argument is the reduction (PyTorch's third is weight)",
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
        why: "the third argument is the reduction (PyTorch's third is weight)",
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
        why: "integral float targets are read as class indices (EXPR has no int64 literals)",
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
        why: "the target is converted to int64 class indices (EXPR has no int64 literals)",
    },
];

/// Rows kept ONLY until their op is declared with `api!` (then the registry serves the name
/// and the test `no_cli_row_duplicates_a_registry_op` lists the row to delete here).
#[rustfmt::skip]
const UNTIL_DECLARED_UNARY: &[Func] = unary!(
    detach, // until op detach is declared with api!
);

/// See [`UNTIL_DECLARED_UNARY`].
#[rustfmt::skip]
const UNTIL_DECLARED_BINARY: &[Func] = binary!(
);

/// See [`UNTIL_DECLARED_UNARY`]; each row is marked with the op it waits for.
const UNTIL_DECLARED: &[Func] = &[];

/// The rows kept until their op is in the registry.
fn until_declared() -> impl Iterator<Item = &'static Func> {
    UNTIL_DECLARED_UNARY
        .iter()
        .chain(UNTIL_DECLARED_BINARY)
        .chain(UNTIL_DECLARED)
}

/// What a function name in EXPR calls.
#[derive(Clone, Copy)]
pub enum Target {
    /// A form of the CLI's own language ([`OWN`]).
    Own(&'static Func),
    /// A registered op, called through [`OpDef::call`].
    Op(&'static OpDef),
    /// A row kept until its op is declared with `api!`.
    Legacy(&'static Func),
}

impl Target {
    /// The name EXPR calls it by.
    pub fn name(&self) -> &'static str {
        match self {
            Target::Own(f) | Target::Legacy(f) => f.name,
            Target::Op(op) => op.name,
        }
    }

    /// Its signature in the CLI's spelling (`amax(x[, dim[, keepdim]])`: the tensor a method is
    /// called on is `x`, optional arguments in brackets), from the registry's parameters or the
    /// CLI row.
    pub fn signature(&self) -> String {
        match self {
            Target::Own(f) | Target::Legacy(f) => f.sig.to_string(),
            Target::Op(op) => {
                let mut s = format!("{}(", op.name);
                let mut open = 0;
                for (i, p) in op.params.iter().enumerate() {
                    let name = if p.name == "self" { "x" } else { p.name };
                    let sep = if i == 0 { "" } else { ", " };
                    if p.default.is_some() {
                        s.push('[');
                        open += 1;
                    }
                    s.push_str(sep);
                    s.push_str(name);
                }
                s.push_str(&"]".repeat(open));
                s.push(')');
                s
            }
        }
    }

    /// The fewest and the most arguments it takes.
    fn arity(&self) -> (usize, usize) {
        match self {
            Target::Own(f) | Target::Legacy(f) => (f.min, f.max),
            Target::Op(op) => {
                let required = op
                    .params
                    .iter()
                    .rposition(|p| p.default.is_none())
                    .map_or(0, |i| i + 1);
                (required, op.params.len())
            }
        }
    }

    /// Whether the budget can size it from a tensor argument (every CLI row takes one).
    fn takes_tensors(&self) -> bool {
        match self {
            Target::Own(_) | Target::Legacy(_) => true,
            Target::Op(op) => op.params.iter().any(|p| {
                matches!(
                    p.kind,
                    Kind::Tensor | Kind::Tensors | Kind::Optional(Kind::Tensor)
                )
            }),
        }
    }

    fn call(&self, a: &Args<'_>) -> R<Value> {
        match self {
            Target::Own(f) | Target::Legacy(f) => (f.call)(a).map(Value::Tensor),
            Target::Op(op) => call_op(op, a),
        }
    }
}

/// The function `name` calls: the CLI's own form, else the registry's op, else a row kept
/// until its op is declared.
pub fn resolve(name: &str) -> Option<Target> {
    OWN.iter()
        .find(|f| f.name == name)
        .map(Target::Own)
        .or_else(|| registry::get(name).map(Target::Op))
        .or_else(|| {
            until_declared()
                .find(|f| f.name == name)
                .map(Target::Legacy)
        })
}

/// Every function EXPR can call, each name once, in the order [`resolve`] prefers them.
pub fn targets() -> Vec<Target> {
    let mut seen = std::collections::HashSet::new();
    OWN.iter()
        .map(Target::Own)
        .chain(registry::ops().map(Target::Op))
        .chain(until_declared().map(Target::Legacy))
        .filter(|t| seen.insert(t.name()))
        .collect()
}

/// Every name EXPR can call.
pub fn names() -> Vec<&'static str> {
    targets().iter().map(Target::name).collect()
}

/// Calls a registered op: each argument converted to its parameter's [`Kind`] (exact integers
/// from literals), the trailing ones not given left to the registry's defaults.
fn call_op(op: &'static OpDef, a: &Args<'_>) -> R<Value> {
    let args = op
        .params
        .iter()
        .enumerate()
        .take(a.len())
        .map(|(i, p)| a.registry_value(i, &p.kind))
        .collect::<R<Vec<_>>>()?;
    let out = op.call(&args).map_err(|e| {
        let message = e.to_string();
        // Python-style argument errors name the position: point at that argument.
        let arg = message
            .split_once("(position ")
            .and_then(|(_, rest)| rest.split_once(')'))
            .and_then(|(n, _)| n.parse::<usize>().ok())
            .and_then(|n| n.checked_sub(1));
        ArgError { message, arg }
    })?;
    from_registry(op.name, out, a.env)
}

/// A registered op's result as an EXPR value: a tensor, a list of tensors, a tuple's first
/// tensor (`max_dim`'s values, as `max(x, dim)` gives), a number as a 0-d tensor.
fn from_registry(name: &str, v: registry::Value, env: &Env) -> R<Value> {
    use registry::Value as V;
    let fail = |what: &str| {
        Err(ArgError {
            message: format!("{name}() returns {what}, not a tensor"),
            arg: None,
        })
    };
    match v {
        V::Tensor(t) => Ok(Value::Tensor(t)),
        V::Tensors(ts) => Ok(Value::List(ts)),
        V::Tuple(vs) => match vs.into_iter().find_map(V::into_tensor) {
            Some(t) => Ok(Value::Tensor(t)),
            None => fail("a tuple without a tensor"),
        },
        V::Float(x) => Ok(Value::Tensor(Tensor::full_with(&[], x, env.dtype))),
        V::Int(i) => Ok(Value::Tensor(Tensor::full_with(&[], i as f64, DType::I64))),
        V::Bool(b) => Ok(Value::Tensor(Tensor::full_with(
            &[],
            f64::from(u8::from(b)),
            DType::Bool,
        ))),
        V::None => fail("nothing"),
        other => fail(&format!("{other:?}")),
    }
}

/// The dtype called `name` (`float64`, `torch.float64` or `f64`).
fn dtype_named(name: &str) -> Option<DType> {
    [DType::F32, DType::F64, DType::I64, DType::Bool]
        .into_iter()
        .find(|d| {
            let full = d.to_string();
            let short = match d {
                DType::F32 => "f32",
                DType::F64 => "f64",
                DType::I64 => "i64",
                DType::Bool => "bool",
            };
            name == full || Some(name) == full.strip_prefix("torch.") || name == short
        })
}

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
fn infer_shape(shape: &[i64], size: usize) -> Result<Vec<usize>, String> {
    let unknown: Vec<usize> = (0..shape.len()).filter(|&i| shape[i] == -1).collect();
    if unknown.len() > 1 {
        return Err("only one dimension can be inferred".into());
    }
    if let Some(&d) = shape.iter().find(|&&d| d < -1) {
        return Err(format!("invalid shape dimension {d}"));
    }
    // Checked: a product of typed sizes must not wrap around into a valid-looking count.
    let known: u128 = crate::eval::numel(
        &shape
            .iter()
            .filter(|&&d| d >= 0)
            .map(|&d| d as usize)
            .collect::<Vec<_>>(),
    );
    let invalid = || format!("shape '{shape:?}' is invalid for input of size {size}");
    let mut out: Vec<usize> = shape.iter().map(|&d| d.max(0) as usize).collect();
    match unknown.first() {
        Some(&i) => {
            if known == 0 || size as u128 % known != 0 {
                return Err(invalid());
            }
            out[i] = (size as u128 / known) as usize;
        }
        None if known != size as u128 => return Err(invalid()),
        None => {}
    }
    Ok(out)
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
    names()
        .into_iter()
        .map(|f| (distance(name, f), usize::MAX - shared(f), f))
        .filter(|&(d, _, _)| d <= 2)
        .min()
        .map(|(_, _, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;

    fn run(src: &str, vars: &[(&str, Tensor)]) -> Result<Tensor, SpannedError> {
        let env = Env::new(
            vars.iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            DType::F32,
        );
        eval(&parse(src).unwrap(), &env)
    }

    #[test]
    fn every_function_name_is_unique() {
        let mut rows: Vec<_> = OWN.iter().chain(until_declared()).map(|f| f.name).collect();
        let n = rows.len();
        rows.sort();
        rows.dedup();
        assert_eq!(rows.len(), n, "a name has two CLI rows");
        let names = names();
        assert!(names.len() > 100, "{} functions", names.len());
    }

    /// A CLI row for a name the registry has is dead (the registry serves the name) unless it
    /// is one of the CLI's own forms, which say why they exist. This fails when an op branch
    /// declares an op with api!: delete the rows it lists from UNTIL_DECLARED (or move a row
    /// whose form differs from the registry's signature to OWN, with its reason).
    #[test]
    fn no_cli_row_duplicates_a_registry_op() {
        let dead: Vec<String> = until_declared()
            .filter_map(|f| {
                registry::get(f.name).map(|op| {
                    format!(
                        "{}: the registry has it as {} (the row was {})",
                        f.name,
                        op.signature(),
                        f.sig
                    )
                })
            })
            .collect();
        assert!(
            dead.is_empty(),
            "rows of UNTIL_DECLARED that the registry now serves: delete each (compare the \
             signatures first: a CLI default or overload the registry lacks belongs in OWN)\n{}",
            dead.join("\n")
        );
        for f in OWN {
            assert!(
                !f.why.is_empty(),
                "{}: an OWN row says why it exists",
                f.name
            );
        }
        for f in until_declared() {
            assert!(
                f.why.is_empty(),
                "{}: a row with a reason belongs in OWN",
                f.name
            );
        }
    }

    #[test]
    fn registry_ops_are_called_with_exact_arguments_and_defaults() {
        let x = Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
        let v = |src: &str| run(src, &[("x", x.clone())]).unwrap();
        assert_eq!(v("sum_dims(x, [0])").to_vec::<f32>(), vec![4.0, 6.0]);
        assert_eq!(v("sum_dims(x, 1)").to_vec::<f32>(), vec![3.0, 7.0]);
        assert_eq!(v("sum_dims(x, -1, true)").shape(), &[2, 1]);
        assert_eq!(v("mean_dims(x, [0, 1])").item(), 2.5);
        assert_eq!(v("mean(x)").item(), 2.5);
        // An integral float literal is an integer, as the CLI always read them.
        assert_eq!(v("sum_dims(x, 2^1 - 1.0)").to_vec::<f32>(), vec![3.0, 7.0]);
        // A variable holding an integer is one too.
        let d = Tensor::scalar(0.0);
        let r = run("sum_dims(x, d)", &[("x", x.clone()), ("d", d)]).unwrap();
        assert_eq!(r.to_vec::<f32>(), vec![4.0, 6.0]);
    }

    #[test]
    fn registry_errors_keep_pythons_words_and_point_at_the_argument() {
        let x = Tensor::new([[1.0, 2.0], [3.0, 4.0]]);
        let e = |src: &str| run(src, &[("x", x.clone())]).unwrap_err();
        let err = e("sum_dims(x, 0.5)");
        assert_eq!(
            err.message,
            "sum_dims(): argument 'dims' (position 2) must be list[int], not float"
        );
        assert_eq!((err.span.start, err.span.end), (12, 15));
        let err = e("sum_dims(x, 'a')");
        assert_eq!(
            err.message,
            "sum_dims(): argument 'dims' (position 2) must be list[int], not str"
        );
        assert_eq!(err.span.start, 12);
        let err = e("sum_dims(x, [0], 'yes')");
        assert_eq!(
            err.message,
            "sum_dims(): argument 'keepdim' (position 3) must be bool, not str"
        );
        let err = e("sum_dims(x)");
        assert_eq!(
            err.message,
            "sum_dims(x, dims[, keepdim]) takes 2 to 3 arguments but 1 was given"
        );
        let err = e("sum_dims('x', [0])");
        assert_eq!(
            err.message,
            "sum_dims(): argument 'self' (position 1) must be Tensor, not str"
        );
        assert_eq!(err.span.start, 9);
        // The library's own errors are the library's messages.
        let err = e("sum_dims(x, [2])");
        assert!(err.message.starts_with("sum_dims"), "{}", err.message);
        // The CLI's exactness checks stay: an f32 variable past 2^24 is not an exact integer.
        let big = Tensor::scalar(16777217.0);
        let err = run("sum_dims(x, d)", &[("x", x.clone()), ("d", big)]).unwrap_err();
        assert!(err.message.contains("2^24"), "{}", err.message);
        let err = e("sum_dims(x, None)");
        assert_eq!(
            err.message,
            "sum_dims(): argument 'dims' (position 2) must be list[int], not None"
        );
    }

    /// Registered ops that take no tensor have nothing to broadcast: they need a size rule,
    /// and one without is refused before it runs.
    #[test]
    fn ops_without_tensors_are_sized_by_their_rules_or_refused() {
        use registry::{Param, Receiver};
        static NO_RULE: OpDef = OpDef {
            name: "no_rule",
            module: "",
            receiver: Receiver::Static,
            params: &[Param {
                name: "size",
                kind: Kind::Sizes,
                default: None,
            }],
            returns: Kind::Tensor,
            fallible: true,
            doc: "",
            call: |_| unreachable!("refused before it runs"),
        };
        static ZEROS: OpDef = OpDef {
            name: "zeros",
            ..NO_RULE
        };
        let env = Env::new(HashMap::new(), DType::F32);
        let size = |op: &'static OpDef, src: &str| {
            let Expr::Call(_, _, nodes) = parse(src).unwrap().expr else {
                unreachable!()
            };
            let vals = nodes
                .iter()
                .map(|n| eval_value(n, &env).ok().unwrap())
                .collect();
            let a = Args {
                vals,
                nodes: &nodes,
                env: &env,
            };
            estimate(&Target::Op(op), &a, op.name).map(|e| e.elements)
        };
        let refused = size(&NO_RULE, "no_rule([2, 3])").err().unwrap();
        assert!(
            refused.message.contains("no size rule"),
            "{}",
            refused.message
        );
        assert_eq!(
            size(&ZEROS, "zeros([100000, 100000])").ok(),
            Some(10_000_000_000)
        );
        let e = env
            .budget
            .charge(&Estimate::of(10_000_000_000, "zeros".into()));
        assert!(e.is_err());
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
        // Pairwise: a 1000x1000 product, not a 10^9-element broadcast product.
        let one = Tensor::ones(&[1]);
        let p = run(
            "einsum('ij,jk->ik', expand(o,[1000,1000]), expand(o,[1000,1000]))",
            &[("o", one)],
        )
        .unwrap();
        assert_eq!(p.shape(), &[1000, 1000]);
        assert!(p.to_vec::<f32>().iter().all(|&v| v == 1000.0));
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
        // The signature is the CLI row's today, the registry's once sin is declared with api!.
        let e = run("sin(x, x)", &[("x", x.clone())]).unwrap_err();
        assert!(e.message.starts_with("sin("), "{}", e.message);
        assert!(
            e.message.ends_with(") takes 1 argument but 2 were given"),
            "{}",
            e.message
        );
        let e = run("softmax(x, 0, 1)", &[("x", x.clone())]).unwrap_err();
        assert_eq!(
            e.message,
            "softmax(x[, dim=-1]) takes 1 to 2 arguments but 3 were given"
        );
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
