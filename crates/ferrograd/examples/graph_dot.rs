//! Prints the graph of seed s002-1 (`out = mean(3 (x + 2)^2)`) as DOT, or as SVG with `--svg`.
//!
//! ```text
//! cargo run --release --example graph_dot > graph.dot
//! ```
fn main() {
    let x = ferrograd::Tensor::ones(&[2, 2]).requires_grad_(true);
    let y = &x + 2.0;
    let out = (&(&y * &y) * 3.0).mean();
    if std::env::args().any(|a| a == "--svg") {
        print!("{}", ferrograd::viz::to_svg(&out, &[("x", &x)], true));
    } else {
        print!("{}", ferrograd::viz::make_dot(&out, &[("x", &x)], true));
    }
}
