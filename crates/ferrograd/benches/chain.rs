//! Per-operation cost: a chain of 10,000 scalar ops (2,500 x `y = y*1.0001 + sin(y); y = y*0.5`),
//! forward then backward (workload W1, shared with `examples/bench_workloads.rs`).

#[path = "common/workloads.rs"]
mod workloads;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn chain(c: &mut Criterion) {
    let mut g = c.benchmark_group("W1_scalar_chain");
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("fwd_bwd_10k_ops", |b| b.iter(workloads::w1_chain));
    g.finish();
}

criterion_group!(benches, chain);
criterion_main!(benches);
