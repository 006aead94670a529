//! Per-operation cost: a chain of 10,000 scalar ops (2,500 x `y = y*1.0001 + sin(y); y = y*0.5`),
//! forward then backward. PyTorch needs 11.2 us per op on the reference 2-core machine.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ferrograd::Tensor;

fn chain(c: &mut Criterion) {
    let mut g = c.benchmark_group("W1_scalar_chain");
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("fwd_bwd_10k_ops", |b| {
        b.iter(|| {
            let x = Tensor::scalar(0.5).requires_grad_(true);
            let mut y = x.clone();
            for _ in 0..2_500 {
                y = &(&y * 1.0001) + &y.sin();
                y = &y * 0.5;
            }
            y.backward();
            x.grad().unwrap().item()
        })
    });
    g.finish();
}

criterion_group!(benches, chain);
criterion_main!(benches);
