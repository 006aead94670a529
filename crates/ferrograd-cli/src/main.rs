//! `ferrograd`: derivatives of any order of an expression, from the shell.
//!
//! ```text
//! ferrograd grad "x^2" --at x=5                 # the seeds' first example: dy/dx = 10
//! ferrograd grad "tanh(x)" --at x=-2 --order 3  # and its 2nd and 3rd derivatives
//! ferrograd hessian "x^2*y + y^3" --at x=1 --at y=2
//! ferrograd ops                                 # the functions EXPR can call
//! ```
//!
//! Every value is a ferrograd tensor; the derivatives come from `ferrograd::autograd::grad`
//! exactly as the seed notebooks compute them. Errors print one line (and, for a problem inside
//! EXPR or a VALUE, the text with a caret under the culprit) and exit with status 1.

mod eval;
mod output;
mod parse;

use clap::{Args as ClapArgs, Parser, Subcommand, ValueEnum};
use eval::Env;
use ferrograd::autograd::{try_grad, GradOptions};
use ferrograd::{DType, Tensor};
use output::Report;
use parse::{Node, SpannedError};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const EXAMPLES: &str = "\
Examples:
  ferrograd grad \"x^2\" --at x=5
      y = x**2 at 5 (seeds 000/001): prints tensor(25., ...) and df/dx = tensor(10.)
  ferrograd grad \"exp(3*w + cos(z)) + 3*(w^2 + sin(2*z))\" --at w=1 --at z=1
      the chain rule of seed 004: df/dw = 109.4320, df/dz = -31.5086
  ferrograd grad \"norm(exp(3*W + cos(Z)) + (3*W + cos(Z)) @ (W @ W + sin(2*Z)))\" \\
      --at W=[[1,0.5],[0.2,0.1]] --at Z=[[1,0.5],[0.2,0.1]]
      the 2-D version of seed 004 (F = 47.3233)
  ferrograd grad \"tanh(x)\" --at x=-2 --order 3 --json
      tanh and its 2nd and 3rd derivatives as seed 002 computes them, as JSON
  ferrograd grad \"tanh(x)\" --plot tanh.svg --over x=-7:7 --order 3
      seed 002's figure: tanh and its first three derivatives
  ferrograd grad \"mean(3*(x+2)^2)\" --at x=[[1,1],[1,1]] --graph out.svg
      seed 002's graph of `out`, drawn without Graphviz
  ferrograd hessian \"x^2*y + y^3\" --at x=1 --at y=2
  ferrograd ops
      the functions EXPR can call, with their arguments

EXPR: numbers, names, + - * / ^ (or **), unary minus, @ (matmul), parentheses, lists
[a, b] (stacked), strings 'ij,jk' (for einsum), and calls f(a, b, ...) of the functions
listed by `ferrograd ops` (arguments by position; None for an optional one). pi, e, inf,
nan, true and false are constants unless --at gives them a value. Integer arguments (sizes,
dims, offsets) are read exactly from their literals.

Limits: every operation is sized before it runs, from the shapes of its arguments, and refused
with an error when its result or an intermediate it builds would have more than 2^26 elements
(67108864), when it would take more than 2^33 multiply-adds, or when the whole evaluation would
make more than 2^27 elements in all. Derivatives (--order, hessian) and plots whose graphs
would make more than 2^28 elements are refused too; --order is at most 12 and --over at most
1000000 points over a finite interval.";

#[derive(Parser)]
#[command(
    name = "ferrograd",
    version,
    about = "Exact derivatives of any order, from the shell (PyTorch autograd semantics)",
    after_help = EXAMPLES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The value of EXPR and its derivatives with respect to its variables.
    Grad(GradArgs),
    /// The full Hessian of a scalar EXPR (every pair of variables).
    Hessian(Common),
    /// The functions EXPR can call, with their arguments.
    Ops(OpsArgs),
}

#[derive(ClapArgs)]
struct OpsArgs {
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum DTypeArg {
    F32,
    F64,
}

#[derive(ClapArgs)]
struct Common {
    /// The expression, e.g. "x^2 + sin(y)" (quote it for the shell).
    #[arg(allow_hyphen_values = true)]
    expr: String,
    /// The value of a variable: a number, a nested list or a constant expression
    /// (`x=5`, `W=[[1,0.5],[0.2,0.1]]`, `t=pi/4`). Repeat for each variable.
    #[arg(long = "at", value_name = "NAME=VALUE")]
    at: Vec<String>,
    /// Differentiate with respect to these variables only (comma-separated; default: all, in
    /// order of appearance in EXPR).
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    wrt: Option<Vec<String>>,
    /// Element type of every variable and number (PyTorch's default is f32).
    #[arg(long, value_enum, default_value = "f32")]
    dtype: DTypeArg,
    /// Print one JSON object instead of PyTorch-style text.
    #[arg(long)]
    json: bool,
    /// Write the backward graph of EXPR (torchviz style) as .svg, .png or .dot.
    #[arg(long, value_name = "FILE")]
    graph: Option<PathBuf>,
}

#[derive(ClapArgs)]
struct GradArgs {
    #[command(flatten)]
    common: Common,
    /// Also the derivatives of order 2..=K: d(k+1) = grad(dk, x, ones, create_graph), as the
    /// seeds compute them (elementwise derivatives for elementwise EXPR).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=12))]
    order: u32,
    /// The gradient of a non-scalar EXPR (grad_outputs; default: ones like EXPR).
    #[arg(long, value_name = "VALUE")]
    seed: Option<String>,
    /// Plot EXPR and its derivatives of order 1..=K as a function of the --over variable,
    /// to .svg or .png.
    #[arg(long, value_name = "FILE", requires = "over")]
    plot: Option<PathBuf>,
    /// The plotted variable and interval, N points (default 200).
    #[arg(long, value_name = "NAME=LO:HI[:N]", requires = "plot")]
    over: Option<String>,
}

/// An error for the user: one message, plus the text it is about when there is one.
struct Failure(String);

impl Failure {
    fn at(source: &str, e: SpannedError) -> Failure {
        Failure(e.render(source))
    }
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure(e.to_string())
    }
}

type Res<T> = Result<T, Failure>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Parsing and evaluation recurse over EXPR (bounded by parse::MAX_DEPTH); a big stack keeps
    // that bound far from overflowing. A panic inside the library would be a bug: it is caught
    // and reported as one line rather than a backtrace.
    std::panic::set_hook(Box::new(|_| {}));
    let worker = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || std::panic::catch_unwind(move || run(cli)));
    let outcome = match worker.map(|h| h.join()) {
        Ok(Ok(Ok(result))) => result,
        Ok(Ok(Err(payload))) | Ok(Err(payload)) => Err(Failure(format!(
            "internal error (please report): {}",
            payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("panic")
        ))),
        Err(e) => Err(Failure(format!("cannot start: {e}"))),
    };
    match outcome {
        Ok(text) => {
            // A closed stdout (`| head`) is an error, not a panic.
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: cannot write the output: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Err(Failure(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Res<String> {
    match cli.command {
        Command::Grad(args) => grad(args),
        Command::Hessian(args) => hessian(args),
        Command::Ops(args) => Ok(ops(args.json)),
    }
}

/// The functions EXPR can call: the registry's ops (their Python signatures and summaries),
/// then the CLI's own forms, then the rows kept until their op is in the registry.
fn ops(json: bool) -> String {
    use eval::Target;
    let targets = eval::targets();
    if json {
        let rows: Vec<String> = targets
            .iter()
            .map(|t| {
                let (source, summary, module) = match t {
                    Target::Op(op) => ("registry", op.summary(), op.module),
                    Target::Own(f) => ("cli", f.why, ""),
                    Target::Legacy(_) => ("cli", "", ""),
                };
                let signature = match t {
                    Target::Op(op) => op.signature(),
                    _ => t.signature(),
                };
                format!(
                    "{{\"name\":{},\"signature\":{},\"summary\":{},\"module\":{},\"source\":{}}}",
                    output::quote(t.name()),
                    output::quote(&signature),
                    output::quote(summary),
                    output::quote(module),
                    output::quote(source)
                )
            })
            .collect();
        return format!("{{\"functions\":[{}]}}\n", rows.join(","));
    }
    let mut registered: Vec<String> = Vec::new();
    let mut own: Vec<String> = Vec::new();
    for t in &targets {
        match t {
            Target::Op(op) => {
                let module = if op.module.is_empty() {
                    String::new()
                } else {
                    format!("  [{}]", op.module)
                };
                registered.push(format!(
                    "  {}  # {}{module}\n",
                    op.signature(),
                    op.summary()
                ));
            }
            // Rows waiting for their op in the registry show as they always did.
            Target::Legacy(f) => registered.push(format!("  {}\n", f.sig)),
            Target::Own(f) => own.push(format!("  {}\n", f.sig)),
        }
    }
    registered.sort_unstable();
    own.sort_unstable();
    let mut out = String::from(
        "Functions EXPR can call (arguments by position; trailing ones with a default may be left out):\n",
    );
    out.extend(registered);
    out.push_str("\nThe CLI's own forms ([...] marks optional arguments):\n");
    out.extend(own);
    out
}

/// EXPR parsed, its variables bound to their values, and the ones to differentiate.
struct Problem {
    source: String,
    expr: Node,
    env: Env,
    /// The variables to differentiate, in order, with their leaf tensors.
    wrt: Vec<(String, Tensor)>,
}

fn dtype_of(d: DTypeArg) -> DType {
    match d {
        DTypeArg::F32 => DType::F32,
        DTypeArg::F64 => DType::F64,
    }
}

/// A constant VALUE (number, nested list or expression without variables).
fn constant_value(flag: &str, text: &str, dtype: DType) -> Res<Tensor> {
    let fail = |e: SpannedError| Failure(format!("{flag}: {}", e.render(text)));
    let node = parse::parse(text).map_err(fail)?;
    let env = Env::new(HashMap::new(), dtype);
    eval::eval(&node, &env).map_err(fail)
}

fn is_name(s: &str) -> bool {
    let mut cs = s.chars();
    cs.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && cs.all(|c| c.is_alphanumeric() || c == '_')
}

fn problem(c: &Common, free: Option<&str>) -> Res<Problem> {
    let dtype = dtype_of(c.dtype);
    let expr = parse::parse(&c.expr).map_err(|e| Failure::at(&c.expr, e))?;
    let names = expr.names();
    let mut vars = HashMap::new();
    for item in &c.at {
        let Some((name, text)) = item.split_once('=') else {
            return Err(Failure(format!("--at {item}: expected NAME=VALUE")));
        };
        let name = name.trim();
        if !is_name(name) {
            return Err(Failure(format!("--at {item}: '{name}' is not a name")));
        }
        if !names.iter().any(|n| n == name) {
            return Err(Failure(format!(
                "--at {item}: '{name}' does not appear in EXPR"
            )));
        }
        if vars.contains_key(name) {
            return Err(Failure(format!("--at {item}: '{name}' is given twice")));
        }
        let value = constant_value(&format!("--at {name}"), text, dtype)?;
        vars.insert(name.to_string(), value.to_dtype(dtype_for(&value, dtype)));
    }
    // Variables are the names of EXPR that are bound (or plotted over), in order of appearance.
    let variables: Vec<String> = names
        .iter()
        .filter(|n| vars.contains_key(*n) || Some(n.as_str()) == free)
        .cloned()
        .collect();
    for (n, span) in expr.name_spans() {
        if !vars.contains_key(&n) && eval::constant(&n).is_none() && Some(n.as_str()) != free {
            let message = format!("name '{n}' has no value: pass --at {n}=VALUE");
            return Err(Failure::at(&c.expr, SpannedError::new(message, span)));
        }
    }
    let wrt_names: Vec<String> = match &c.wrt {
        None => variables.clone(),
        Some(list) => {
            let mut out = Vec::new();
            for w in list {
                let w = w.trim().to_string();
                if !variables.contains(&w) {
                    return Err(Failure(format!(
                        "--wrt {w}: '{w}' is not a variable of EXPR (variables: {})",
                        if variables.is_empty() {
                            "none".to_string()
                        } else {
                            variables.join(", ")
                        }
                    )));
                }
                if !out.contains(&w) {
                    out.push(w);
                }
            }
            out
        }
    };
    let mut wrt = Vec::new();
    for w in &wrt_names {
        if let Some(t) = vars.get(w) {
            let leaf = t
                .try_requires_grad_(true)
                .map_err(|e| Failure(format!("--wrt {w}: {e}")))?;
            vars.insert(w.clone(), leaf.clone());
            wrt.push((w.clone(), leaf));
        }
    }
    Ok(Problem {
        source: c.expr.clone(),
        expr,
        env: Env::new(vars, dtype),
        wrt,
    })
}

/// Float values take the requested dtype; bool/int values (from comparisons) keep theirs.
fn dtype_for(t: &Tensor, dtype: DType) -> DType {
    if t.dtype().is_floating_point() {
        dtype
    } else {
        t.dtype()
    }
}

fn zeros_for(x: &Tensor) -> Tensor {
    x.detach().zeros_like()
}

/// d out / d x for each x (zeros where out does not depend on x).
fn grads(out: &Tensor, xs: &[Tensor], seed: &Tensor, create_graph: bool) -> Res<Vec<Tensor>> {
    if !out.requires_grad() {
        return Ok(xs.iter().map(zeros_for).collect());
    }
    let gs = try_grad(
        &[out],
        xs,
        GradOptions::new()
            .grad_outputs([seed.clone()])
            .retain_graph(true)
            .create_graph(create_graph)
            .allow_unused(true),
    )?;
    Ok(gs
        .into_iter()
        .zip(xs)
        .map(|(g, x)| g.unwrap_or_else(|| zeros_for(x)))
        .collect())
}

fn differentiable(value: &Tensor) -> Res<()> {
    if value.dtype().is_floating_point() {
        Ok(())
    } else {
        Err(Failure(format!(
            "EXPR has dtype {} and cannot be differentiated",
            value.dtype()
        )))
    }
}

fn grad(args: GradArgs) -> Res<String> {
    let over = args.over.as_deref().map(parse_over).transpose()?;
    let p = problem(&args.common, over.as_ref().map(|o| o.name.as_str()))?;
    let mut report = Report::new(args.common.json);
    if let (Some(file), Some(over)) = (&args.plot, &over) {
        plot(&p, over, args.order as usize, file)?;
        report.note(format!("wrote {}", file.display()));
    }
    // With --plot the plotted variable has no value of its own; without --at it is only plotted.
    if over
        .as_ref()
        .is_some_and(|o| !p.env.vars.contains_key(&o.name))
    {
        return Ok(report.finish());
    }
    let value = eval::eval(&p.expr, &p.env).map_err(|e| Failure::at(&p.source, e))?;
    report.value(&value)?;
    if let Some(file) = &args.common.graph {
        graph(&value, &p, file)?;
        report.note(format!("wrote {}", file.display()));
    }
    if p.wrt.is_empty() {
        return Ok(report.finish());
    }
    differentiable(&value)?;
    let seed = match &args.seed {
        Some(text) => constant_value("--seed", text, value.dtype())?.to_dtype(value.dtype()),
        None => value.ones_like(),
    };
    if seed.shape() != value.shape() {
        return Err(Failure(format!(
            "--seed: Mismatch in shape: grad_output[0] has a shape of {:?} and output[0] has a shape of {:?}",
            seed.shape(),
            value.shape()
        )));
    }
    let xs: Vec<Tensor> = p.wrt.iter().map(|(_, t)| t.clone()).collect();
    let order = args.order as usize;
    let forward = p.env.budget.spent();
    let (derivatives, _) = derivative_chain(&value, &xs, &seed, order, forward)?;
    for (k, ds) in derivatives.iter().enumerate() {
        report.derivatives(k + 1, &p.wrt, ds)?;
    }
    Ok(report.finish())
}

/// The derivatives of orders `1..=order` with respect to each x, as the seeds compute them:
/// d1 = grad(value, x, seed), d(k+1) = grad(dk, x, ones, create_graph). Also returns the sum
/// over orders of the largest graph, a measure of the work per element. Refuses an order whose
/// graph is predicted to explode (see [`guard_growth`]) or to make more than
/// [`MAX_DERIVATIVE_ELEMENTS`]: `forward` is the number of elements the evaluation of `value`
/// made, and an order whose graph has `g` times the nodes of `value`'s makes about `g` times as
/// many.
fn derivative_chain(
    value: &Tensor,
    xs: &[Tensor],
    seed: &Tensor,
    order: usize,
    forward: u64,
) -> Res<(Vec<Vec<Tensor>>, usize)> {
    let size = ferrograd::autograd::graph_size;
    let base = size(value).max(1);
    let mut out = vec![grads(value, xs, seed, order > 1)?];
    let mut sizes: Vec<usize> = out[0].iter().map(size).collect();
    let mut work = size(value) + sizes.iter().max().copied().unwrap_or(0);
    let mut previous: Option<Vec<usize>> = None;
    for k in 2..=order {
        let predicted = match &previous {
            Some(before) => guard_growth(k, order, &sizes, before)?,
            None => sizes.iter().copied().max().unwrap_or(0) as f64,
        };
        let elements = forward as f64 * predicted / base as f64;
        if elements > MAX_DERIVATIVE_ELEMENTS as f64 {
            return Err(Failure(format!(
                "--order {order}: the derivative of order {k} would make about {elements:.0} elements \
                 (its graph of about {predicted:.0} nodes over EXPR's {base}, which made {forward}), \
                 over the limit of {MAX_DERIVATIVE_ELEMENTS}. Lower --order or use smaller inputs."
            )));
        }
        let mut next = Vec::with_capacity(xs.len());
        for (d, x) in out[k - 2].iter().zip(xs) {
            let ones = d.ones_like();
            next.push(grads(d, std::slice::from_ref(x), &ones, k < order)?.remove(0));
        }
        previous = Some(std::mem::replace(
            &mut sizes,
            next.iter().map(size).collect(),
        ));
        work += sizes.iter().max().copied().unwrap_or(0);
        out.push(next);
    }
    Ok((out, work))
}

/// The most elements the derivatives of one EXPR may make: those of order k are predicted from
/// the elements EXPR's evaluation made and the growth of the graphs.
const MAX_DERIVATIVE_ELEMENTS: u64 = 2 * eval::LIMITS.total;

/// The most (graph nodes x points) a plot may cost: each node of the derivatives' graphs holds
/// a tensor of the points.
const MAX_PLOT_WORK: usize = MAX_DERIVATIVE_ELEMENTS as usize;

/// The most backward nodes a derivative's graph may be expected to reach before `--order` is
/// refused: each order multiplies the graph, and past this the answer takes seconds to minutes.
const MAX_GRAPH_NODES: usize = 1_000_000;

/// Refuses order `k` when the graphs so far predict more than [`MAX_GRAPH_NODES`] nodes for it
/// (the last size times its growth over the order before), instead of running for minutes.
/// Returns the largest prediction.
fn guard_growth(k: usize, order: usize, sizes: &[usize], previous: &[usize]) -> Res<f64> {
    let mut largest = 0.0f64;
    for (&now, &before) in sizes.iter().zip(previous) {
        let growth = now as f64 / before.max(1) as f64;
        let predicted = now as f64 * growth.max(1.0);
        if predicted > MAX_GRAPH_NODES as f64 {
            return Err(Failure(format!(
                "--order {order}: the derivative of order {} has a graph of {now} nodes (x{growth:.1} per order); \
                 order {k} would need about {predicted:.0}, over the limit of {MAX_GRAPH_NODES}. Lower --order.",
                k - 1
            )));
        }
        largest = largest.max(predicted);
    }
    Ok(largest)
}

fn hessian(c: Common) -> Res<String> {
    let p = problem(&c, None)?;
    let mut report = Report::new(c.json);
    let value = eval::eval(&p.expr, &p.env).map_err(|e| Failure::at(&p.source, e))?;
    report.value(&value)?;
    if let Some(file) = &c.graph {
        graph(&value, &p, file)?;
        report.note(format!("wrote {}", file.display()));
    }
    if p.wrt.is_empty() {
        return Ok(report.finish());
    }
    differentiable(&value)?;
    if value.dim() != 0 {
        return Err(Failure(format!(
            "hessian: EXPR must be a scalar, got a value of shape {:?}",
            value.shape()
        )));
    }
    let xs: Vec<Tensor> = p.wrt.iter().map(|(_, t)| t.clone()).collect();
    // The Hessian has n^2 entries and takes one backward pass (about the evaluation's elements)
    // per variable element.
    let n: u128 = xs.iter().map(|x| x.numel() as u128).sum();
    let forward = p.env.budget.spent() as u128;
    if n * n > eval::LIMITS.elements as u128
        || n.saturating_mul(forward) > MAX_DERIVATIVE_ELEMENTS as u128
    {
        return Err(Failure(format!(
            "hessian: {n} variable elements make a Hessian of {} entries through {n} backward passes of \
             about {forward} elements each, over the limits ({} entries, {MAX_DERIVATIVE_ELEMENTS} elements)",
            n * n,
            eval::LIMITS.elements
        )));
    }
    report.derivatives(1, &p.wrt, &grads(&value, &xs, &value.ones_like(), false)?)?;
    let failure: RefCell<Option<SpannedError>> = RefCell::new(None);
    let h = ferrograd::functional::try_hessian_many(
        |inputs| {
            let mut env = Env::new(p.env.vars.clone(), p.env.dtype);
            for ((name, _), t) in p.wrt.iter().zip(inputs) {
                env.vars.insert(name.clone(), t.clone());
            }
            eval::eval(&p.expr, &env).unwrap_or_else(|e| {
                failure.borrow_mut().get_or_insert(e);
                value.detach()
            })
        },
        &xs,
        Default::default(),
    )?;
    if let Some(e) = failure.into_inner() {
        return Err(Failure::at(&p.source, e));
    }
    report.hessian(&p.wrt, &h)?;
    Ok(report.finish())
}

fn graph(value: &Tensor, p: &Problem, file: &Path) -> Res<()> {
    let params: Vec<(&str, &Tensor)> = p.wrt.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let dot = ferrograd::viz::make_dot(value, &params, false);
    let bytes = match extension(file).as_deref() {
        Some("dot") | Some("gv") => dot.into_bytes(),
        Some("svg") => ferrograd::viz::render_svg(&dot)?.into_bytes(),
        Some("png") => ferrograd::viz::svg_to_png(&ferrograd::viz::render_svg(&dot)?)?,
        _ => {
            return Err(Failure(format!(
                "--graph {}: the file name must end in .svg, .png or .dot",
                file.display()
            )))
        }
    };
    write(file, &bytes, "--graph")
}

fn extension(file: &Path) -> Option<String> {
    file.extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
}

fn write(file: &Path, bytes: &[u8], flag: &str) -> Res<()> {
    std::fs::write(file, bytes).map_err(|e| Failure(format!("{flag} {}: {e}", file.display())))
}

/// `--over NAME=LO:HI[:N]`.
struct Over {
    name: String,
    lo: f64,
    hi: f64,
    n: usize,
}

fn parse_over(text: &str) -> Res<Over> {
    let fail = || {
        Failure(format!(
            "--over {text}: expected NAME=LO:HI or NAME=LO:HI:N"
        ))
    };
    let (name, range) = text.split_once('=').ok_or_else(fail)?;
    let parts: Vec<&str> = range.split(':').collect();
    if !is_name(name.trim()) || !(2..=3).contains(&parts.len()) {
        return Err(fail());
    }
    let bound =
        |s: &str| constant_value(&format!("--over {name}"), s, DType::F64).map(|t| t.item());
    let (lo, hi) = (bound(parts[0])?, bound(parts[1])?);
    let n = match parts.get(2) {
        Some(s) => s.trim().parse::<usize>().map_err(|_| fail())?,
        None => 200,
    };
    // The width too must be finite: -1e308:1e308 has an infinite one.
    if !(lo < hi && (hi - lo).is_finite() && (2..=1_000_000).contains(&n)) {
        return Err(Failure(format!(
            "--over {text}: need finite LO < HI with a finite width HI - LO, and 2 <= N <= 1000000"
        )));
    }
    Ok(Over {
        name: name.trim().to_string(),
        lo,
        hi,
        n,
    })
}

fn plot(p: &Problem, over: &Over, order: usize, file: &Path) -> Res<()> {
    if !p.expr.names().contains(&over.name) {
        return Err(Failure(format!(
            "--over {}: '{}' does not appear in EXPR",
            over.name, over.name
        )));
    }
    // Probe at one point: the same derivative chain, with its growth guard, tells how much work
    // each plotted point costs before committing to all of them.
    // The other variables are constants of the plot, in f64 like the plotted one.
    let constants: HashMap<String, Tensor> = p
        .env
        .vars
        .iter()
        .map(|(name, t)| (name.clone(), t.detach().to_dtype(dtype_for(t, DType::F64))))
        .collect();
    let env_at = |x: &Tensor| {
        let mut vars = constants.clone();
        vars.insert(over.name.clone(), x.clone());
        Env::new(vars, DType::F64)
    };
    let x0 = Tensor::full_with(&[], over.lo, DType::F64).requires_grad_(true);
    let probe = env_at(&x0);
    let y0 = eval::eval(&p.expr, &probe).map_err(|e| Failure::at(&p.source, e))?;
    if y0.dtype().is_floating_point() && y0.dim() == 0 {
        let forward = probe.budget.spent();
        let (_, work) = derivative_chain(
            &y0,
            std::slice::from_ref(&x0),
            &y0.ones_like(),
            order,
            forward,
        )?;
        if work.saturating_mul(over.n) > MAX_PLOT_WORK {
            return Err(Failure(format!(
                "--plot: {} points through derivative graphs of {work} nodes is too much work \
                 (limit {MAX_PLOT_WORK} node-points); use fewer points or a lower --order",
                over.n
            )));
        }
    }
    let failure: RefCell<Option<SpannedError>> = RefCell::new(None);
    let f = |x: &Tensor| {
        eval::eval(&p.expr, &env_at(x)).unwrap_or_else(|e| {
            failure.borrow_mut().get_or_insert(e);
            x.zeros_like()
        })
    };
    // The plotted values must span a finite range, padded: a y-axis of infinite width (values
    // near +-f64::MAX, as `x*1e307` over -10:10 has) makes the chart's mesh loop forever.
    if let Ok((_, series)) = ferrograd::plot::derivatives(f, over.lo, over.hi, over.n, order) {
        let finite = series.iter().flatten().copied().filter(|v| v.is_finite());
        let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        let span = (hi - lo) * 1.2;
        if lo <= hi && !(span.is_finite() && (hi.abs().max(lo.abs()) * 1.2).is_finite()) {
            return Err(Failure(format!(
                "--plot: the values and derivatives span [{lo:e}, {hi:e}], too wide for a chart; \
                 narrow --over or scale EXPR"
            )));
        }
    }
    let svg = ferrograd::plot::derivatives_svg(f, &p.source, over.lo, over.hi, over.n, order);
    if let Some(e) = failure.into_inner() {
        return Err(Failure::at(&p.source, e));
    }
    let svg = svg.map_err(|e| Failure(format!("--plot: {e}")))?;
    let bytes = match extension(file).as_deref() {
        Some("svg") => svg.into_bytes(),
        Some("png") => ferrograd::viz::svg_to_png(&svg)?,
        _ => {
            return Err(Failure(format!(
                "--plot {}: the file name must end in .svg or .png",
                file.display()
            )))
        }
    };
    write(file, &bytes, "--plot")
}
