//! Fuzzing the evaluator in-process: random expressions from EXPR's own grammar and function
//! table (random nestings, every function with right and wrong arities, literal shapes that are
//! huge, negative or fractional, random dims, NaN and infinities) must each end in a value or an
//! error, never a panic, and within the budget.
//!
//! Work is bounded by a deadline (about 30 s; `FERROGRAD_FUZZ_SECS` overrides it): generation
//! stops there. That is a bound on the test's work, not a timed assertion. A watchdog reports an
//! input that runs for minutes (a hang) with the input, so it reproduces. The generator is
//! seeded with a fixed seed plus `FERROGRAD_FUZZ_SEED` when set; a failure prints the seed, the
//! case number and the input.

#[allow(dead_code)]
#[path = "../src/parse.rs"]
mod parse;

#[allow(dead_code)]
#[path = "../src/eval.rs"]
mod eval;

#[allow(dead_code)]
#[path = "../src/output.rs"]
mod output;

use eval::{Env, Limits};
use ferrograd::{DType, GradOptions, Tensor};
use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Smaller limits than the command's, so that no case allocates more than about 100 MB and
/// many cases fit the time; the mechanism is the same.
const FUZZ_LIMITS: Limits = Limits {
    elements: 1 << 22,
    work: 1 << 28,
    total: 1 << 23,
};

/// xorshift64*: small, deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// An integer that is often small, sometimes a size near a limit, negative or not an integer.
fn integer(r: &mut Rng) -> String {
    match r.below(10) {
        0..=3 => r.below(4).to_string(),
        4 => format!("-{}", r.below(4)),
        5 => r
            .pick(&[
                "16777217",
                "65536",
                "294967296",
                "4294967296",
                "9223372036854775807",
                "99999999999999999999",
                "1e308",
                "-1",
                "-9223372036854775808",
                "1000",
                "100000",
                "2^62",
                "2^24+1",
            ])
            .to_string(),
        6 => r
            .pick(&["0.5", "-0.5", "nan", "inf", "-inf", "1e-300"])
            .to_string(),
        _ => (1 + r.below(8)).to_string(),
    }
}

fn shape(r: &mut Rng) -> String {
    let n = r.below(5);
    let items: Vec<String> = (0..n).map(|_| integer(r)).collect();
    format!("[{}]", items.join(", "))
}

fn number(r: &mut Rng) -> String {
    r.pick(&[
        "0", "1", "2", "-1", "0.5", "-0.5", "1e3", "1e-8", "3", "nan", "inf", "-inf", "pi", "e",
        "1e308", "-1e308", "5e-324", "true", "false",
    ])
    .to_string()
}

fn literal(r: &mut Rng) -> String {
    match r.below(6) {
        0 => number(r),
        1 => format!(
            "[{}]",
            (0..r.below(5))
                .map(|_| number(r))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        2 => {
            let (rows, cols) = (1 + r.below(3), 1 + r.below(3));
            let row = |r: &mut Rng| {
                format!(
                    "[{}]",
                    (0..cols).map(|_| number(r)).collect::<Vec<_>>().join(", ")
                )
            };
            format!(
                "[{}]",
                (0..rows).map(|_| row(r)).collect::<Vec<_>>().join(", ")
            )
        }
        3 => shape(r),
        4 => format!(
            "'{}'",
            r.pick(&[
                "i,i",
                "ij,jk",
                "ij,jk->ik",
                "ii",
                "ii->i",
                "i,j,k->",
                "...,...",
                "ij->",
                "sum",
                "mean",
                "none",
                "",
                "->",
                "i,i->ii",
                "aA",
                "abc,cd->abd",
            ])
        ),
        _ => integer(r),
    }
}

/// The names the generated expressions may use, with values of assorted shapes.
fn variables() -> Vec<(&'static str, Tensor)> {
    vec![
        ("x", Tensor::new([1.0, -2.0, 3.0])),
        ("y", Tensor::scalar(0.5)),
        ("m", Tensor::new([[1.0, 2.0], [3.0, 4.5]])),
        ("z", Tensor::zeros(&[0])),
        ("w", Tensor::ones(&[2, 1, 3])),
        ("b", Tensor::new([true, false, true])),
        ("k", Tensor::new([0i64, 1, 2])),
    ]
}

fn expression(r: &mut Rng, names: &[&'static str], depth: usize) -> String {
    if depth == 0 || r.chance(25) {
        return if r.chance(50) {
            r.pick(&["x", "y", "m", "z", "w", "b", "k", "x", "m"])
                .to_string()
        } else {
            literal(r)
        };
    }
    match r.below(10) {
        0..=5 => {
            let f = r.pick(names);
            let arity = if r.chance(80) {
                1 + r.below(3)
            } else {
                r.below(7)
            };
            let args: Vec<String> = (0..arity)
                .map(|i| {
                    if i > 0 && r.chance(40) {
                        match r.below(3) {
                            0 => integer(r),
                            1 => shape(r),
                            _ => literal(r),
                        }
                    } else {
                        expression(r, names, depth - 1)
                    }
                })
                .collect();
            format!("{f}({})", args.join(", "))
        }
        6..=7 => format!(
            "({} {} {})",
            expression(r, names, depth - 1),
            r.pick(&["+", "-", "*", "/", "^", "**", "@"]),
            expression(r, names, depth - 1)
        ),
        8 => format!("-{}", expression(r, names, depth - 1)),
        _ => format!(
            "[{}]",
            (0..r.below(4))
                .map(|_| expression(r, names, depth - 1))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// What one case did, for the checks.
struct Outcome {
    largest: u64,
    evaluated: bool,
    panicked: Option<String>,
}

/// Parses, evaluates and differentiates (orders 1 and 2) `src`, as the command does.
fn run(src: &str, dtype: DType) -> Outcome {
    let vars = variables();
    let env = Env::with_limits(
        vars.iter()
            .map(|(n, t)| {
                let t = if t.dtype().is_floating_point() {
                    t.to_dtype(dtype).requires_grad_(true)
                } else {
                    t.clone()
                };
                (n.to_string(), t)
            })
            .collect(),
        dtype,
        FUZZ_LIMITS,
    );
    let leaves: Vec<Tensor> = env
        .vars
        .values()
        .filter(|t| t.requires_grad())
        .cloned()
        .collect();
    let evaluated = std::cell::Cell::new(false);
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let Ok(node) = parse::parse(src) else { return };
        let Ok(v) = eval::eval(&node, &env) else {
            return;
        };
        evaluated.set(true);
        let _ = v.to_string();
        let _ = output::json(&v);
        if !(v.dtype().is_floating_point() && v.requires_grad()) {
            return;
        }
        // Derivatives as `--order 2` computes them, when the graph is small.
        if env.budget.spent() > FUZZ_LIMITS.total / 4 {
            return;
        }
        let first = ferrograd::autograd::try_grad(
            &[&v],
            &leaves.iter().collect::<Vec<_>>(),
            GradOptions::new()
                .grad_outputs([v.ones_like()])
                .retain_graph(true)
                .create_graph(true)
                .allow_unused(true),
        );
        if let Ok(gs) = first {
            for (g, x) in gs.iter().zip(&leaves) {
                if let Some(g) = g.as_ref().filter(|g| g.requires_grad()) {
                    let _ = ferrograd::autograd::try_grad(
                        &[g],
                        &[x],
                        GradOptions::new()
                            .grad_outputs([g.ones_like()])
                            .retain_graph(true)
                            .allow_unused(true),
                    );
                    let _ = g.to_string();
                }
            }
        }
    }));
    Outcome {
        largest: env.budget.largest(),
        evaluated: evaluated.get(),
        panicked: result.err().map(|p| {
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".into())
        }),
    }
}

/// Inputs that once failed, or that the issue names: always run first.
const KNOWN: &[&str] = &[
    "reshape(z, [294967296, 0])",
    "reshape(z, [16777217, 0])",
    "x * reshape(x, [1000, 1, 1]) * reshape(x, [1, 1000, 1])",
    "expand(y, [1000, 1, 1]) * expand(y, [1, 1000, 1]) * expand(y, [1, 1, 1000])",
    "diag(x, 65536)",
    "outer(expand(y, [100000]), expand(y, [100000]))",
    "einsum('i,j,k->', expand(y, [1000]), expand(y, [1000]), expand(y, [1000]))",
    "matmul(expand(y, [4294967296, 1]), expand(y, [1, 4294967296]))",
    "reshape(z, [4294967296, 4294967296])",
    "repeat(x, [4294967296, 4294967296])",
    "nll_loss(eq(x, x), y)",
    "(x + x)",
];

/// Panics inside the library (crates/ferrograd, other owners' files) that this fuzzer found and
/// that are reported there, matched by their message: they are printed, not failed on, until the
/// library fixes them; then they are removed here. Panics in the CLI are never listed.
const KNOWN_LIBRARY_PANICS: &[&str] = &[];

#[test]
fn random_expressions_end_in_a_value_or_an_error_within_the_budget() {
    let seed = std::env::var("FERROGRAD_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0);
    let secs = std::env::var("FERROGRAD_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(30);
    let deadline = Instant::now() + Duration::from_secs(secs);
    // The library's panics would print through the default hook: keep the output to reports.
    std::panic::set_hook(Box::new(|_| {}));
    let (to_worker, inputs) = mpsc::channel::<Option<(usize, String, DType)>>();
    let (to_main, outcomes) = mpsc::channel::<Outcome>();
    // Evaluation recurses over EXPR, as in the command: the same big stack.
    let worker = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            while let Ok(Some((_, src, dtype))) = inputs.recv() {
                if to_main.send(run(&src, dtype)).is_err() {
                    break;
                }
            }
        })
        .unwrap();
    let names: Vec<&'static str> = eval::names();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ seed.wrapping_mul(0xff51_afd7_ed55_8ccd) | 1);
    let mut failures = Vec::new();
    let mut cases = 0usize;
    let mut values = 0usize;
    loop {
        let src = match KNOWN.get(cases) {
            Some(s) => s.to_string(),
            None if Instant::now() < deadline => {
                let depth = 1 + rng.below(5);
                expression(&mut rng, &names, depth)
            }
            None => break,
        };
        let dtype = if rng.chance(50) {
            DType::F32
        } else {
            DType::F64
        };
        to_worker.send(Some((cases, src.clone(), dtype))).unwrap();
        // A hang detector, not a timing check: a case takes milliseconds to a second.
        let outcome = match outcomes.recv_timeout(Duration::from_secs(300)) {
            Ok(o) => o,
            Err(_) => {
                panic!("case {cases} (seed {seed}, {dtype:?}) did not return within 300 s: {src:?}")
            }
        };
        values += usize::from(outcome.evaluated);
        if let Some(message) = outcome.panicked {
            if KNOWN_LIBRARY_PANICS.iter().any(|k| message.contains(k)) {
                eprintln!("known library panic, case {cases} ({dtype:?}): {src:?}: {message}");
            } else {
                failures.push(format!(
                    "case {cases} (seed {seed}, {dtype:?}): {src:?} panicked: {message}"
                ));
            }
        }
        if outcome.largest > FUZZ_LIMITS.elements {
            failures.push(format!(
                "case {cases} (seed {seed}, {dtype:?}): {src:?} made a tensor of {} elements, over the budget's {}",
                outcome.largest, FUZZ_LIMITS.elements
            ));
        }
        cases += 1;
    }
    to_worker.send(None).unwrap();
    worker.join().unwrap();
    let _ = std::panic::take_hook();
    eprintln!("fuzz: {cases} cases (seed {seed}), {values} of them evaluated to a value");
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
