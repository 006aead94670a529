//! Writes seed 002's figure (tanh and its first three derivatives on [-7, 7]) as SVG.
//!
//! ```text
//! cargo run --release --example plot_tanh > tanh.svg
//! ```
fn main() {
    let svg = ferrograd::plot::derivatives_svg(
        |x: &ferrograd::Tensor| x.tanh(),
        "tanh",
        -7.0,
        7.0,
        200,
        3,
    )
    .expect("tanh is elementwise");
    print!("{svg}");
}
