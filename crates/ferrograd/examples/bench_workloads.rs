//! Times the performance workloads W1-W7 and prints one JSON object per line; `bench/compare.py`
//! runs this next to the same programs in PyTorch and prints the table of ratios.
//!
//! ```text
//! cargo run --release --example bench_workloads              # every workload
//! cargo run --release --example bench_workloads -- W2 W6     # some of them
//! cargo run --release --example bench_workloads -- W4-256    # one size of W4
//! cargo run --release --example bench_workloads -- --peak W3 # peak memory of one (W7)
//! cargo run --release --example bench_workloads -- --peak CKPT    # a deep net, checkpointed
//! cargo run --release --example bench_workloads -- --peak PLAIN   # the same net, not
//! ```
//!
//! Each time is the median over repetitions after a warm-up, within a time budget per workload.

#[path = "../benches/common/workloads.rs"]
mod workloads;

use std::time::{Duration, Instant};
use workloads::*;

/// Median seconds of `f` over repetitions filling about `budget` (at least 3, after 1 warm-up).
fn median(budget: Duration, mut f: impl FnMut()) -> f64 {
    f();
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 3 || (start.elapsed() < budget && times.len() < 1000) {
        let t = Instant::now();
        f();
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn report(id: &str, what: &str, seconds: f64) {
    println!("{{\"id\": \"{id}\", \"what\": \"{what}\", \"seconds\": {seconds:e}}}");
}

/// Resident memory (kB) from /proc/self/status: (current, peak).
fn rss_kb() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn peak(id: &str) {
    let (before, _) = rss_kb();
    match id {
        "W3" => {
            let m = w3_mlp();
            for _ in 0..5 {
                m.step();
            }
        }
        "W5" => {
            let x = w5_input();
            for _ in 0..3 {
                std::hint::black_box(w5_tanh3(&x));
            }
        }
        "CKPT" | "PLAIN" => {
            let checkpointed = id == "CKPT";
            let (x, ws) = deep_net();
            std::hint::black_box(deep_net_step(&x, &ws, checkpointed));
        }
        other => panic!("--peak takes W3, W5, CKPT or PLAIN, not {other}"),
    }
    let (_, hwm) = rss_kb();
    println!(
        "{{\"id\": \"W7-{id}\", \"what\": \"peak RSS of {id}\", \"baseline_kb\": {before}, \"peak_kb\": {hwm}}}"
    );
}

/// 16 layers `h = tanh(h @ W)` of width 512 on a batch of 4096 (f32): 8 MB per activation,
/// 16 MB of weights.
fn deep_net() -> (ferrograd::Tensor, Vec<ferrograd::Tensor>) {
    use ferrograd::Tensor;
    ferrograd::manual_seed(7);
    let x = Tensor::randn(&[4096, 512]);
    let ws = (0..16)
        .map(|_| {
            Tensor::randn(&[512, 512])
                .mul_scalar(1.0 / 23.0)
                .requires_grad_(true)
        })
        .collect();
    (x, ws)
}

/// One forward and backward through [`deep_net`], in 4 checkpointed segments of 4 layers
/// (only the segments' inputs are kept; each segment runs again in the backward) or plainly.
fn deep_net_step(
    x: &ferrograd::Tensor,
    ws: &[ferrograd::Tensor],
    checkpointed: bool,
) -> Vec<ferrograd::Tensor> {
    use ferrograd::{function::checkpoint, Tensor};
    let mut h = x.clone();
    for seg in ws.chunks(4) {
        let layers: Vec<Tensor> = seg.to_vec();
        let run = move |xs: &[Tensor]| {
            let mut h = xs[0].clone();
            for w in &xs[1..] {
                h = h.matmul(w).tanh();
            }
            h
        };
        let mut inputs: Vec<&Tensor> = vec![&h];
        inputs.extend(layers.iter());
        h = if checkpointed {
            checkpoint(run, &inputs)
        } else {
            let owned: Vec<Tensor> = inputs.iter().map(|t| (*t).clone()).collect();
            run(&owned)
        };
    }
    h.sum().backward();
    ws.iter()
        .map(|w| {
            let g = w.grad().expect("every layer gets a gradient");
            w.zero_grad();
            g
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--peak") {
        peak(args.get(1).map(String::as_str).unwrap_or("W3"));
        return;
    }
    let quick = std::env::var("BENCH_QUICK").is_ok();
    let budget = Duration::from_millis(if quick { 10 } else { 2000 });
    let wanted = |id: &str| args.is_empty() || args.iter().any(|a| a.eq_ignore_ascii_case(id));

    if wanted("W1") {
        report(
            "W1",
            "chain of 10,000 scalar ops, fwd+bwd (per op)",
            median(budget, || {
                std::hint::black_box(w1_chain());
            }) / 10_000.0,
        );
    }
    if wanted("W2") {
        let m = w2_mlp();
        report(
            "W2",
            "MLP 64-128-10 b32 step",
            median(budget, || {
                std::hint::black_box(m.step());
            }),
        );
    }
    if wanted("W3") {
        let m = w3_mlp();
        report(
            "W3",
            "MLP 784-1024-10 b256 step",
            median(budget, || {
                std::hint::black_box(m.step());
            }),
        );
    }
    for n in [256, 1024, 2048] {
        if wanted("W4") || wanted(&format!("W4-{n}")) {
            let (a, b) = w4_operands(n);
            let t = median(budget, || {
                std::hint::black_box(w4_forward(&a, &b));
            });
            report(
                &format!("W4-{n}"),
                &format!("matmul {n} fwd (s; GFLOP/s = 2n^3/s)"),
                t,
            );
            let t = median(budget, || w4_backward(&a, &b));
            report(&format!("W4-{n}-bwd"), &format!("sum(A@B) {n} fwd+bwd"), t);
        }
    }
    if wanted("W4B") {
        let (a, b) = w4b_operands();
        let t = median(budget, || {
            std::hint::black_box(w4_forward(&a, &b));
        });
        report("W4B", "batched matmul 64 x 128^3 fwd", t);
        let t = median(budget, || w4_backward(&a, &b));
        report("W4B-bwd", "sum(A@B) batched 64 x 128^3 fwd+bwd", t);
    }
    if wanted("W5") {
        let x = w5_input();
        report(
            "W5",
            "tanh 3rd derivative on 1e6 points",
            median(budget, || {
                std::hint::black_box(w5_tanh3(&x));
            }),
        );
    }
    if wanted("W6") {
        let x = w6_input();
        report(
            "W6",
            "(exp(sin x)*x+1).sum() 1e7 fwd+bwd",
            median(budget, || {
                std::hint::black_box(w6_fused(&x));
            }),
        );
    }
}
