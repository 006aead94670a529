//! Graph pictures: the backward graph as Graphviz DOT, with torchviz's conventions
//! (`make_dot`). Leaves that require grad are light blue boxes with their name and shape,
//! tensors saved for backward orange (with `show_saved`), the output dark olive green; one box
//! per backward node named like `grad_fn`; edges follow the backward pass. Render with any
//! Graphviz (`dot -Tsvg`).
//!
//! ```
//! use ferrograd::{viz::make_dot, Tensor};
//! let x = Tensor::ones(&[2, 2]).requires_grad_(true);
//! let out = (&(&x + 2.0) * 3.0).mean();
//! let dot = make_dot(&out, &[("x", &x)], false);
//! assert!(dot.starts_with("digraph {"));
//! assert!(dot.contains("label=MeanBackward0") && dot.contains("label=\"x\n (2, 2)\" fillcolor=lightblue"));
//! ```

use crate::autograd::GradFn;
use crate::tensor::Tensor;
use std::collections::HashMap;
use std::fmt::Write;

/// torchviz's `size_to_str`: `(2, 3)`, `()` for a scalar.
fn size_to_str(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("({})", dims.join(", "))
}

/// A DOT string literal (quoted when needed, quotes and backslashes escaped).
fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
    {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

struct Dot {
    body: Vec<String>,
}

impl Dot {
    fn node(&mut self, id: &str, label: &str, fill: Option<&str>) {
        let mut line = format!("\t{id} [label={}", quote(label));
        if let Some(f) = fill {
            let _ = write!(line, " fillcolor={f}");
        }
        line.push(']');
        self.body.push(line);
    }

    fn edge(&mut self, from: &str, to: &str, extra: &str) {
        self.body.push(format!("\t{from} -> {to}{extra}"));
    }
}

/// The backward graph of `output` in DOT. `params` names tensors (shown in their boxes);
/// `show_saved` adds the tensors each node saved for backward.
///
/// ```
/// use ferrograd::{viz::make_dot, Tensor};
/// let a = Tensor::new([1.0, 2.0]).requires_grad_(true);
/// let dot = make_dot(&a.exp().sum(), &[("a", &a)], true);
/// assert!(dot.contains("fillcolor=orange")); // exp saved its output
/// assert!(dot.contains("fillcolor=darkolivegreen1"));
/// ```
pub fn make_dot(output: &Tensor, params: &[(&str, &Tensor)], show_saved: bool) -> String {
    let mut dot = Dot { body: Vec::new() };
    let mut ids: HashMap<usize, String> = HashMap::new();
    let mut next = 0usize;
    let mut id_of = |key: usize| -> (String, bool) {
        if let Some(id) = ids.get(&key) {
            return (id.clone(), false);
        }
        let id = format!("n{next}");
        next += 1;
        ids.insert(key, id.clone());
        (id, true)
    };
    let name_of = |t: &Tensor| -> String {
        params
            .iter()
            .find(|(_, p)| p.is_same(t))
            .map(|(n, _)| n.to_string())
            .unwrap_or_default()
    };
    let var_label = |name: &str, t: &Tensor| format!("{name}\n {}", size_to_str(t.shape()));

    let (out_id, _) = id_of(tensor_key(output));
    dot.node(
        &out_id,
        &var_label(&name_of(output), output),
        Some("darkolivegreen1"),
    );
    let Some(root) = output.grad_fn() else {
        return render(dot);
    };
    let (root_id, _) = id_of(fn_key(&root));
    dot.edge(&root_id, &out_id, "");
    // Iterative walk over the nodes (no recursion: graphs can be deep).
    let mut stack = vec![root];
    let mut seen: HashMap<usize, ()> = HashMap::new();
    while let Some(f) = stack.pop() {
        if seen.insert(fn_key(&f), ()).is_some() {
            continue;
        }
        let (fid, _) = id_of(fn_key(&f));
        if show_saved {
            for s in f.try_saved_tensors().unwrap_or_default() {
                let (sid, new) = id_of(tensor_key(&s));
                dot.edge(&fid, &sid, " [dir=none]");
                if new {
                    dot.node(&sid, &var_label(&name_of(&s), &s), Some("orange"));
                }
            }
        }
        if let Some(var) = f.variable() {
            let (vid, _) = id_of(tensor_key(&var));
            dot.node(&vid, &var_label(&name_of(&var), &var), Some("lightblue"));
            dot.edge(&vid, &fid, "");
        }
        dot.node(&fid, f.name(), None);
        for next_fn in f.next_functions().into_iter().flatten() {
            let (nid, _) = id_of(fn_key(&next_fn));
            dot.edge(&nid, &fid, "");
            stack.push(next_fn);
        }
    }
    render(dot)
}

fn tensor_key(t: &Tensor) -> usize {
    std::sync::Arc::as_ptr(&t.0) as usize
}

fn fn_key(f: &GradFn) -> usize {
    f.key()
}

/// torchviz's `resize_graph`: 0.15 inch per line, at least 12 inches.
fn render(dot: Dot) -> String {
    let size = (dot.body.len() as f64 * 0.15).max(12.0);
    let mut s = String::from("digraph {\n");
    let _ = writeln!(s, "\tgraph [size=\"{size},{size}\"]");
    s.push_str("\tnode [align=left fontname=monospace fontsize=10 height=0.2 ranksep=0.1 shape=box style=filled]\n");
    for line in &dot.body {
        s.push_str(line);
        s.push('\n');
    }
    s.push_str("}\n");
    s
}

/// torchviz's colour names as hex, which every renderer understands.
const COLOURS: [(&str, &str); 4] = [
    ("darkolivegreen1", "\"#caff70\""),
    ("darkolivegreen3", "\"#a2cd5a\""),
    ("lightblue", "\"#add8e6\""),
    ("orange", "\"#ffa500\""),
];

/// Lays out DOT text and draws it as SVG, in pure Rust (no Graphviz needed). Returns an error
/// naming the problem for DOT it cannot parse.
///
/// ```
/// let svg = ferrograd::viz::render_svg("digraph { a -> b }").unwrap();
/// assert!(svg.contains("<svg"));
/// assert!(ferrograd::viz::render_svg("digraph { a -> }").is_err());
/// ```
pub fn render_svg(dot: &str) -> crate::Result<String> {
    let mut text = dot.to_string();
    for (name, hex) in COLOURS {
        text = text.replace(&format!("fillcolor={name}"), &format!("fillcolor={hex}"));
    }
    let mut parser = layout::gv::DotParser::new(&text);
    let graph = parser.process().map_err(|e| {
        crate::Error::invalid("render_svg", format!("cannot parse the DOT input: {e}"))
    })?;
    let mut builder = layout::gv::GraphBuilder::new();
    builder.visit_graph(&graph);
    let mut visual = builder.get();
    let mut svg = layout::backends::svg::SVGWriter::new();
    visual.do_it(false, false, false, &mut svg);
    Ok(svg.finalize())
}

/// The backward graph of `output` as SVG: [`make_dot`] then [`render_svg`].
///
/// ```
/// use ferrograd::{viz::to_svg, Tensor};
/// let x = Tensor::ones(&[2]).requires_grad_(true);
/// let svg = to_svg(&x.exp().sum(), &[("x", &x)], false);
/// assert!(svg.contains("ExpBackward0") && svg.contains("SumBackward0"));
/// ```
pub fn to_svg(output: &Tensor, params: &[(&str, &Tensor)], show_saved: bool) -> String {
    crate::unwrap(render_svg(&make_dot(output, params, show_saved)))
}

/// Rasterises SVG text (from [`render_svg`], [`to_svg`] or [`crate::plot::derivatives_svg`]) to
/// PNG bytes, in pure Rust. Text is drawn with the embedded DejaVu Sans, whatever font the SVG
/// names, so the picture is the same on every machine.
///
/// ```
/// let svg = ferrograd::viz::render_svg("digraph { a -> b }").unwrap();
/// let png = ferrograd::viz::svg_to_png(&svg).unwrap();
/// assert_eq!(&png[1..4], b"PNG");
/// assert!(ferrograd::viz::svg_to_png("<svg").is_err());
/// ```
pub fn svg_to_png(svg: &str) -> crate::Result<Vec<u8>> {
    use resvg::{tiny_skia, usvg};
    use std::sync::{Arc, OnceLock};
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    let fonts = FONTS.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        db.load_font_data(dejavu::sans::regular().to_vec());
        db.set_serif_family("DejaVu Sans");
        db.set_sans_serif_family("DejaVu Sans");
        db.set_monospace_family("DejaVu Sans");
        Arc::new(db)
    });
    let fail = |m: String| crate::Error::invalid("svg_to_png", m);
    let options = usvg::Options {
        font_family: "DejaVu Sans".into(),
        fontdb: fonts.clone(),
        ..Default::default()
    };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| fail(format!("bad SVG: {e}")))?;
    let size = tree.size().to_int_size();
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height()).ok_or_else(|| {
        fail(format!(
            "cannot draw a {}x{} image",
            size.width(),
            size.height()
        ))
    })?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap
        .encode_png()
        .map_err(|e| fail(format!("cannot encode PNG: {e}")))
}

/// The backward graph of `output` as PNG bytes: [`to_svg`] then [`svg_to_png`].
///
/// ```
/// use ferrograd::{viz::to_png, Tensor};
/// let x = Tensor::ones(&[2]).requires_grad_(true);
/// let png = to_png(&x.exp().sum(), &[("x", &x)], false);
/// assert_eq!(&png[1..4], b"PNG");
/// ```
pub fn to_png(output: &Tensor, params: &[(&str, &Tensor)], show_saved: bool) -> Vec<u8> {
    crate::unwrap(svg_to_png(&to_svg(output, params, show_saved)))
}
