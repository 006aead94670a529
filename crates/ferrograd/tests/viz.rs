//! DOT output of the backward graph (golden test on seed s002-1).

use ferrograd::{viz::make_dot, Tensor};

/// s002-1: `out = mean(3 (x + 2)^2)` over `x = ones(2, 2)`, with its leaf.
fn seed_s002_1() -> (Tensor, Tensor) {
    let x = Tensor::ones(&[2, 2]).requires_grad_(true);
    let y = &x + 2.0;
    ((&(&y * &y) * 3.0).mean(), x)
}

/// s004-4: `F = ||exp(G1) + G1 @ G2||_2` with its leaves `W` and `Z`.
fn seed_s004_4() -> (Tensor, Tensor, Tensor) {
    let w = Tensor::new([[1.0, 0.5], [0.2, 0.1]]).requires_grad_(true);
    let z = Tensor::new([[1.0, 0.5], [0.2, 0.1]]).requires_grad_(true);
    let g1 = &(3.0 * &w) + &z.cos();
    let g2 = &w.matmul(&w) + &(2.0 * &z).sin();
    ((&g1.exp() + &g1.matmul(&g2)).norm(), w, z)
}

#[test]
fn seed_s002_1_graph_matches_the_golden_dot() {
    let (out, x) = seed_s002_1();
    let dot = make_dot(&out, &[("x", &x)], true);
    let expected = "digraph {
\tgraph [size=\"12,12\"]
\tnode [align=left fontname=monospace fontsize=10 height=0.2 ranksep=0.1 shape=box style=filled]
\tn0 [label=\"
 ()\" fillcolor=darkolivegreen1]
\tn1 -> n0
\tn1 [label=MeanBackward0]
\tn2 -> n1
\tn2 [label=MulBackward0]
\tn3 -> n2
\tn3 -> n4 [dir=none]
\tn4 [label=\"
 (2, 2)\" fillcolor=orange]
\tn3 -> n4 [dir=none]
\tn3 [label=MulBackward0]
\tn5 -> n3
\tn5 -> n3
\tn5 [label=AddBackward0]
\tn6 -> n5
\tn7 [label=\"x
 (2, 2)\" fillcolor=lightblue]
\tn7 -> n6
\tn6 [label=AccumulateGrad]
}
";
    assert_eq!(dot, expected);
}

#[test]
fn deep_graphs_render_without_recursion() {
    let x = Tensor::scalar(1.0).requires_grad_(true);
    let mut y = x.clone();
    for _ in 0..100_000 {
        y = y.mul_scalar(1.0);
    }
    let dot = make_dot(&y, &[], false);
    assert_eq!(dot.matches("MulBackward0").count(), 100_000);
}

#[test]
fn svg_pictures_of_the_seed_graphs_hold_every_node_label() {
    use ferrograd::{autograd, viz::to_svg, GradOptions};
    // s002-1 `out`
    let (out, x) = seed_s002_1();
    let svg = to_svg(&out, &[("x", &x)], true);
    for label in [
        "MeanBackward0",
        "MulBackward0",
        "AddBackward0",
        "AccumulateGrad",
        "(2, 2)",
        "#add8e6",
        "#ffa500",
        "#caff70",
    ] {
        assert!(svg.contains(label), "missing {label}");
    }
    // s002-8 `a`: a second-order graph (the graph of a gradient built with create_graph).
    let x = Tensor::scalar(2.0).requires_grad_(true);
    let a = autograd::grad(&[x.tanh()], &[&x], GradOptions::new().create_graph(true))[0]
        .clone()
        .unwrap();
    let svg = to_svg(&a, &[("x", &x)], false);
    assert!(svg.contains("TanhBackwardBackward0") && svg.contains("TanhBackward0"));
    // s004-4 `F`
    let (f, w, z) = seed_s004_4();
    let svg = to_svg(&f, &[("W", &w), ("Z", &z)], false);
    for label in [
        "LinalgVectorNormBackward0",
        "MmBackward0",
        "ExpBackward0",
        "CosBackward0",
        "SinBackward0",
    ] {
        assert!(svg.contains(label), "missing {label}");
    }
}

/// The seed graphs as a person would check them: the SVG is well-formed XML, every node label
/// is drawn as text, no two boxes overlap, and the PNG has the SVG's size.
#[test]
fn seed_graph_pictures_are_readable() {
    use ferrograd::viz::{svg_to_png, to_svg};
    let (f, w, z) = seed_s004_4();
    let svg = to_svg(&f, &[("W", &w), ("Z", &z)], true);
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let texts: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.descendants().filter_map(|t| t.text()).collect::<String>())
        .collect();
    for label in [
        "LinalgVectorNormBackward0",
        "MmBackward0",
        "ExpBackward0",
        "CosBackward0",
        "SinBackward0",
        "AccumulateGrad",
        "W",
        "Z",
    ] {
        assert!(texts.iter().any(|t| t.contains(label)), "{label} not drawn");
    }
    let attr = |n: &roxmltree::Node, a: &str| n.attribute(a).unwrap().parse::<f64>().unwrap();
    let boxes: Vec<[f64; 4]> = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("width").is_some())
        .map(|n| {
            [
                attr(&n, "x"),
                attr(&n, "y"),
                attr(&n, "width"),
                attr(&n, "height"),
            ]
        })
        .filter(|b| b[2] > 0.0 && b[2] < 1000.0)
        .collect();
    assert!(boxes.len() >= 14, "{} boxes", boxes.len());
    for (i, a) in boxes.iter().enumerate() {
        for b in &boxes[i + 1..] {
            let apart = a[0] + a[2] <= b[0]
                || b[0] + b[2] <= a[0]
                || a[1] + a[3] <= b[1]
                || b[1] + b[3] <= a[1];
            assert!(apart, "boxes {a:?} and {b:?} overlap");
        }
    }
    let png = svg_to_png(&svg).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let root = doc.root_element();
    let size = |a: &str| attr(&root, a).ceil() as u32;
    let (width, height) = (size("width"), size("height"));
    assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), width);
    assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), height);
}
