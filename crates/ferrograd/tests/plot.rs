//! Derivative plots: the plotted series equal the closed forms; the SVG has the legend.

use ferrograd::{plot, Tensor};

#[test]
fn tanh_and_three_derivatives_match_the_closed_forms() {
    let (x, ys) = plot::derivatives(|x: &Tensor| x.tanh(), -7.0, 7.0, 100, 3).unwrap();
    for (i, &v) in x.iter().enumerate() {
        let t = v.tanh();
        let expected = [
            t,
            1.0 - t * t,
            -2.0 * t * (1.0 - t * t),
            (1.0 - t * t) * (6.0 * t * t - 2.0),
        ];
        for k in 0..4 {
            assert!((ys[k][i] - expected[k]).abs() < 1e-12, "order {k} at {v}");
        }
    }
    let svg = plot::derivatives_svg(|x: &Tensor| x.tanh(), "tanh", -7.0, 7.0, 100, 3).unwrap();
    for label in [
        "tanh",
        "1st derivative",
        "2nd derivative",
        "3rd derivative",
        "<svg",
    ] {
        assert!(svg.contains(label), "missing {label}");
    }
    assert!(plot::derivatives(|x: &Tensor| x.sum(), 0.0, 1.0, 10, 1).is_err());
    assert!(plot::derivatives(|x: &Tensor| x.exp(), 1.0, 0.0, 10, 1).is_err());
}

#[test]
fn the_figure_is_well_formed_svg_and_png() {
    use ferrograd::{plot, Tensor};
    let svg = plot::derivatives_svg(|x: &Tensor| x.tanh(), "tanh", -7.0, 7.0, 100, 3).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let texts: String = doc
        .descendants()
        .filter_map(|n| n.text())
        .collect::<Vec<_>>()
        .join("|");
    for label in ["tanh", "1st derivative", "2nd derivative", "3rd derivative"] {
        assert!(texts.contains(label), "{label} missing from the legend");
    }
    // One 100-point polyline per series (the others are grid and legend strokes).
    let series = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .filter(|n| {
            n.attribute("points")
                .unwrap_or("")
                .split_whitespace()
                .count()
                == 100
        })
        .count();
    assert_eq!(series, 4);
    let png = plot::derivatives_png(|x: &Tensor| x.tanh(), "tanh", -7.0, 7.0, 100, 3).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 800);
}
