//! Runs every seed computation of `shared/seed-cases.md` and prints, under `## <case id>`, the
//! lines PyTorch prints for it.
//!
//! ```text
//! cargo run --release --example seeds
//! ```

mod cases;

use ferrograd::{tape::GradientTape, PyFloat, Tensor};

/// Seed 001's TensorFlow cells, with ferrograd's `GradientTape`.
fn tensorflow_cells() -> String {
    let x = Tensor::scalar(5.0); // x = tf.Variable(5.0)
    let t = GradientTape::new(); // with tf.GradientTape() as t:
    t.watch(&x); //                  t.watch(x)
    let y = x.pow(2.0); //           y = x**2
    let g = t.gradient(&y, &[&x])[0].clone().expect("x is watched");
    format!(
        "<tf.Tensor: shape=(), dtype=float32, numpy={}>",
        PyFloat(g.item())
    )
}

fn main() {
    for (i, (id, case)) in cases::CASES.iter().enumerate() {
        if i > 0 {
            println!();
        }
        println!("## {id}");
        for line in case() {
            println!("{line}");
        }
    }
    println!();
    println!("## s001-tf: TensorFlow's GradientTape (x = tf.Variable(5.0); t.gradient(x**2, x))");
    println!("{}", tensorflow_cells());
}
