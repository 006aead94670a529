#[path = "../benches/common/workloads.rs"]
#[allow(dead_code)]
mod workloads;
fn main() {
    let reps: usize = std::env::var("REPS").ok().and_then(|v| v.parse().ok()).unwrap_or(20000);
    let which = std::env::var("W").unwrap_or("2".into());
    let m = if which == "3" { workloads::w3_mlp() } else { workloads::w2_mlp() };
    let t = std::time::Instant::now();
    for _ in 0..reps { std::hint::black_box(m.step()); }
    println!("{:.2} us/step", t.elapsed().as_secs_f64() / reps as f64 * 1e6);
}
