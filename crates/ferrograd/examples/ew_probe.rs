use ferrograd::Tensor;
fn main() {
    let _g = ferrograd::no_grad();
    for n in [64usize, 1024, 4096, 16384, 262144] {
        let x = Tensor::randn(&[n]);
        for (name, f) in [("tanh", (|x: &Tensor| x.tanh()) as fn(&Tensor) -> Tensor), ("exp", |x: &Tensor| x.exp()), ("sin", |x: &Tensor| x.sin()), ("mul", |x: &Tensor| x.mul_scalar(2.0))] {
            let run = || { let y = f(&x); y.contiguous().numel() };
            for _ in 0..200 { std::hint::black_box(run()); }
            let reps = (20_000_000 / n).max(100);
            let t = std::time::Instant::now();
            for _ in 0..reps { std::hint::black_box(run()); }
            let per = t.elapsed().as_secs_f64() / reps as f64;
            println!("n={n} {name}: {:.3} us  ({:.3} ns/elem)", per * 1e6, per * 1e9 / n as f64);
        }
    }
}
