//! Runs every seed computation of `shared/seed-cases.md` and prints, under `## <case id>`, the
//! lines PyTorch prints for it.
//!
//! ```text
//! cargo run --release --example seeds [FIGURES_DIR]
//! ```
//!
//! It also draws what the notebooks draw, into FIGURES_DIR (default `target/seed-figures`):
//! the torchviz graphs of s002-1 `out`, s002-8 `a` and s004-4 `F` (DOT, SVG and PNG), and seed
//! 002's three matplotlib figures of tanh and its derivatives (SVG and PNG).

mod cases;

use ferrograd::{autograd, plot, tape::GradientTape, viz, GradOptions, PyFloat, Tensor};
use std::path::Path;

/// Writes the seed notebooks' pictures into `dir`; returns the files written.
fn figures(dir: &Path) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut written = Vec::new();
    let mut write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path.display().to_string());
        Ok::<(), Box<dyn std::error::Error>>(())
    };
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;

    // s002-1: make_dot(out)
    let x = Tensor::ones(&[2, 2]).requires_grad_(true);
    let y = &x + 2.0;
    let out = (&(&y * &y) * 3.0).mean();
    // s002-8: make_dot(a), the graph of a first derivative built with create_graph.
    let x2 = Tensor::scalar(-2.0).requires_grad_(true);
    let opts = GradOptions::new().create_graph(true);
    let a = autograd::try_grad(&[x2.tanh()], &[&x2], opts)?
        .remove(0)
        .expect("tanh uses x");
    // s004-4: F = ||exp(G1) + G1 @ G2||_2
    let w = Tensor::new([[1.0, 0.5], [0.2, 0.1]]).requires_grad_(true);
    let z = Tensor::new([[1.0, 0.5], [0.2, 0.1]]).requires_grad_(true);
    let g1 = &(3.0 * &w) + &z.cos();
    let g2 = &w.matmul(&w) + &(2.0 * &z).sin();
    let f = (&g1.exp() + &g1.matmul(&g2)).norm();
    let graphs = [
        ("s002-1_out", &out, vec![("x", &x)]),
        ("s002-8_a", &a, vec![("x", &x2)]),
        ("s004-4_F", &f, vec![("W", &w), ("Z", &z)]),
    ];
    for (name, t, params) in graphs {
        let dot = viz::make_dot(t, &params, false);
        let svg = viz::render_svg(&dot)?;
        write(&format!("{name}.dot"), dot.as_bytes())?;
        write(&format!("{name}.png"), &viz::svg_to_png(&svg)?)?;
        write(&format!("{name}.svg"), svg.as_bytes())?;
    }

    // Seed 002's figures: tanh with its 1st, then 2nd, then 3rd derivative, 100 points each.
    for (order, lo, hi) in [(1, -3.0, 3.0), (2, -3.0, 3.0), (3, -7.0, 7.0)] {
        let svg = plot::derivatives_svg(|x: &Tensor| x.tanh(), "tanh", lo, hi, 100, order)?;
        write(&format!("s002_tanh_order{order}.svg"), svg.as_bytes())?;
        write(
            &format!("s002_tanh_order{order}.png"),
            &viz::svg_to_png(&svg)?,
        )?;
    }
    Ok(written)
}

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

    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/seed-figures".into());
    match figures(Path::new(&dir)) {
        Ok(files) => eprintln!("wrote {} figures: {}", files.len(), files.join(", ")),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
