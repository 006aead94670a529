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
