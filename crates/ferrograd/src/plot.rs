//! Plots of a function and its derivatives, as seed 002 draws tanh and its first three
//! derivatives: the derivatives come from repeated `grad` with `create_graph`, exactly as the
//! notebook computes them (`d1 = grad(y, x, ones)`, `d(k+1) = grad(dk, x, ones, create_graph)`).
//!
//! ```
//! use ferrograd::{plot, Tensor};
//! let svg = plot::derivatives_svg(|x: &Tensor| x.tanh(), "tanh", -7.0, 7.0, 200, 3).unwrap();
//! assert!(svg.contains("3rd derivative"));
//! ```

use crate::autograd::{try_grad, GradOptions};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use plotters::prelude::*;

/// `f` and its derivatives of order `1..=order` at `n` points evenly spaced over `[lo, hi]`
/// (float64): `(x, [f, f', f'', ...])`.
///
/// ```
/// use ferrograd::{plot, Tensor};
/// let (x, ys) = plot::derivatives(|x: &Tensor| x.pow(3.0), 0.0, 2.0, 3, 2).unwrap();
/// assert_eq!(x, vec![0.0, 1.0, 2.0]);
/// assert_eq!(ys[2], vec![0.0, 6.0, 12.0]); // 6x
/// ```
pub fn derivatives(
    f: impl Fn(&Tensor) -> Tensor,
    lo: f64,
    hi: f64,
    n: usize,
    order: usize,
) -> Result<(Vec<f64>, Vec<Vec<f64>>)> {
    // `lo < hi` is false for NaN bounds too.
    let ordered = lo < hi;
    if n < 2 || !ordered {
        return Err(Error::invalid(
            "plot",
            format!("need at least 2 points and lo < hi (got n = {n}, [{lo}, {hi}])"),
        ));
    }
    let x = Tensor::linspace_with(lo, hi, n, DType::F64).requires_grad_(true);
    let y = f(&x);
    if y.shape() != x.shape() {
        return Err(Error::invalid(
            "plot",
            format!(
                "f must be elementwise: it returned shape {:?} for input {:?}",
                y.shape(),
                x.shape()
            ),
        ));
    }
    let ones = x.ones_like();
    let mut series = vec![y.to_vec::<f64>()];
    let mut d = y;
    for _ in 0..order {
        d = if d.requires_grad() {
            try_grad(
                &[&d],
                &[&x],
                GradOptions::new()
                    .grad_outputs([ones.clone()])
                    .create_graph(true)
                    .allow_unused(true),
            )?
            .remove(0)
            .unwrap_or_else(|| x.zeros_like())
        } else {
            x.zeros_like()
        };
        series.push(d.to_vec::<f64>());
    }
    Ok((x.to_vec::<f64>(), series))
}

fn ordinal(k: usize) -> String {
    let suffix = match (k % 10, k % 100) {
        (1, r) if r != 11 => "st",
        (2, r) if r != 12 => "nd",
        (3, r) if r != 13 => "rd",
        _ => "th",
    };
    format!("{k}{suffix} derivative")
}

/// An SVG chart of `f` (labelled `name`) and its derivatives of order `1..=order` over
/// `[lo, hi]`, with axes and a legend ("tanh", "1st derivative", ...).
pub fn derivatives_svg(
    f: impl Fn(&Tensor) -> Tensor,
    name: &str,
    lo: f64,
    hi: f64,
    n: usize,
    order: usize,
) -> Result<String> {
    let (x, series) = derivatives(f, lo, hi, n, order)?;
    let finite = series.iter().flatten().copied().filter(|v| v.is_finite());
    let (mut ymin, mut ymax) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if !ymin.is_finite() {
        (ymin, ymax) = (-1.0, 1.0);
    }
    let pad = ((ymax - ymin) * 0.05).max(1e-9);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (800, 500)).into_drawing_area();
        let draw = |e: &dyn std::fmt::Display| Error::invalid("plot", e.to_string());
        root.fill(&WHITE).map_err(|e| draw(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("{name} and its derivatives"), ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(lo..hi, (ymin - pad)..(ymax + pad))
            .map_err(|e| draw(&e))?;
        chart
            .configure_mesh()
            .x_desc("x")
            .draw()
            .map_err(|e| draw(&e))?;
        let colours = [BLUE, RED, GREEN, MAGENTA, CYAN, BLACK];
        for (k, ys) in series.iter().enumerate() {
            let colour = colours[k % colours.len()];
            let label = if k == 0 { name.to_string() } else { ordinal(k) };
            chart
                .draw_series(LineSeries::new(
                    x.iter()
                        .zip(ys)
                        .filter(|(_, y)| y.is_finite())
                        .map(|(&a, &b)| (a, b)),
                    colour.stroke_width(2),
                ))
                .map_err(|e| draw(&e))?
                .label(label)
                .legend(move |(px, py)| {
                    PathElement::new(vec![(px, py), (px + 18, py)], colour.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| draw(&e))?;
        root.present().map_err(|e| draw(&e))?;
    }
    Ok(svg)
}

/// [`derivatives_svg`] rasterised to PNG bytes (pure Rust, embedded font).
///
/// ```
/// use ferrograd::{plot, Tensor};
/// let png = plot::derivatives_png(|x: &Tensor| x.tanh(), "tanh", -3.0, 3.0, 100, 2).unwrap();
/// assert_eq!(&png[1..4], b"PNG");
/// ```
pub fn derivatives_png(
    f: impl Fn(&Tensor) -> Tensor,
    name: &str,
    lo: f64,
    hi: f64,
    n: usize,
    order: usize,
) -> Result<Vec<u8>> {
    crate::viz::svg_to_png(&derivatives_svg(f, name, lo, hi, n, order)?)
}
