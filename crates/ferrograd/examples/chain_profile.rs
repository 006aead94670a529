use ferrograd::Tensor;
use std::time::Instant;
fn main() {
    let (mut tf, mut tb, mut td) = (0.0, 0.0, 0.0);
    let reps: usize = std::env::var("REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    for _ in 0..reps {
        let t0 = Instant::now();
        let x = Tensor::scalar(0.5).requires_grad_(true);
        let mut y = x.clone();
        for _ in 0..2_500 {
            y = &(&y * 1.0001) + &y.sin();
            y = &y * 0.5;
        }
        let t1 = Instant::now();
        y.backward();
        let t2 = Instant::now();
        drop(y);
        let t3 = Instant::now();
        tf += (t1 - t0).as_secs_f64();
        tb += (t2 - t1).as_secs_f64();
        td += (t3 - t2).as_secs_f64();
    }
    let per = |t: f64| t / reps as f64 / 10_000.0 * 1e9;
    println!(
        "forward {:.0} ns/op, backward {:.0} ns/op, drop {:.0} ns/op",
        per(tf),
        per(tb),
        per(td)
    );
}
