//! Criterion benches of workloads W2-W6 (W1 is `chain.rs`); the programs are in
//! `common/workloads.rs`, shared with `examples/bench_workloads.rs`, which `bench/compare.py`
//! runs next to PyTorch. Figures and goals: BENCHMARKS.md.

#[path = "common/workloads.rs"]
mod workloads;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use workloads::*;

fn mlp(c: &mut Criterion) {
    let mut g = c.benchmark_group("W2_W3_mlp_sgd_step");
    let small = w2_mlp();
    g.bench_function("W2_64_128_10_b32", |b| b.iter(|| black_box(small.step())));
    let large = w3_mlp();
    g.sample_size(10);
    g.bench_function("W3_784_1024_10_b256", |b| {
        b.iter(|| black_box(large.step()))
    });
    g.finish();
}

fn matmul(c: &mut Criterion) {
    let mut g = c.benchmark_group("W4_matmul_f32");
    g.sample_size(10);
    for n in [256usize, 1024, 2048] {
        let (a, b) = w4_operands(n);
        g.throughput(Throughput::Elements(2 * (n as u64).pow(3)));
        g.bench_function(format!("forward_{n}"), |bch| {
            bch.iter(|| black_box(w4_forward(&a, &b)))
        });
        g.throughput(Throughput::Elements(6 * (n as u64).pow(3)));
        g.bench_function(format!("sum_backward_{n}"), |bch| {
            bch.iter(|| w4_backward(&a, &b))
        });
    }
    g.finish();
}

fn elementwise(c: &mut Criterion) {
    let mut g = c.benchmark_group("W5_W6_elementwise");
    g.sample_size(10);
    let x = w5_input();
    g.bench_function("W5_tanh_third_derivative_1e6", |b| {
        b.iter(|| black_box(w5_tanh3(&x)))
    });
    let x = w6_input();
    g.bench_function("W6_exp_sin_mul_sum_1e7", |b| {
        b.iter(|| black_box(w6_fused(&x)))
    });
    g.finish();
}

criterion_group!(benches, mlp, matmul, elementwise);
criterion_main!(benches);
