//! Prints the DOT graph of seed s002-1 (`out = mean(3 (x + 2)^2)`); render with `dot -Tsvg`.
//!
//! ```text
//! cargo run --release --example graph_dot > graph.dot
//! ```
fn main() {
    let x = ferrograd::Tensor::ones(&[2, 2]).requires_grad_(true);
    let y = &x + 2.0;
    let out = (&(&y * &y) * 3.0).mean();
    print!("{}", ferrograd::viz::make_dot(&out, &[("x", &x)], true));
}
