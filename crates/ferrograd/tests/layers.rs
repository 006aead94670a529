//! The crate's layers import downward only (ARCHITECTURE.md): each source file may name
//! (`crate::module...`, in `use` lines or in paths) only modules of its own layer or of the
//! layers below. Names the crate root re-exports (`crate::Tensor`, `crate::with_no_grad`) count
//! as the module they come from. Method calls on `Tensor` are not imports and are not checked.

use std::collections::HashMap;
use std::path::Path;

/// Bottom to top.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "base",
        &[
            "dtype", "error", "layout", "storage", "pool", "lazy", "unique",
        ],
    ),
    ("kernels", &["kernels"]),
    (
        "tensor",
        &["tensor", "raw", "graph", "display", "random", "batching"],
    ),
    ("autograd", &["autograd", "hooks", "forward_ad"]),
    ("ops", &["ops", "registry", "api"]),
    (
        "transforms",
        &[
            "functional",
            "function",
            "func",
            "tape",
            "testing",
            "viz",
            "plot",
        ],
    ),
];

/// Files not yet moved to their layer, each with the reason. Empty is the goal.
const PENDING: &[(&str, &str)] = &[];

fn src() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn layer_of() -> HashMap<&'static str, usize> {
    LAYERS
        .iter()
        .enumerate()
        .flat_map(|(i, (_, ms))| ms.iter().map(move |m| (*m, i)))
        .collect()
}

/// The crate root's re-exports: `pub use module::...::{A, B};` maps `A` and `B` to `module`.
fn reexports(lib: &str) -> HashMap<String, String> {
    let mut map = HashMap::new();
    let mut rest = lib;
    while let Some(i) = rest.find("pub use ") {
        rest = &rest[i + 8..];
        let end = rest.find(';').expect("a use ends with ;");
        let item = &rest[..end];
        rest = &rest[end..];
        let module = item.split("::").next().unwrap().trim().to_string();
        let names = match item.find('{') {
            Some(b) => item[b + 1..item.rfind('}').unwrap()].to_string(),
            None => item.rsplit("::").next().unwrap().to_string(),
        };
        for n in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            map.insert(n.to_string(), module.clone());
        }
    }
    // Functions defined in lib.rs itself.
    map.insert("unwrap".into(), "error".into());
    map
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The modules or root names after each `crate::` in code (comments removed).
fn crate_refs(code: &str) -> Vec<(usize, String)> {
    let mut refs = Vec::new();
    for (n, line) in code.lines().enumerate() {
        let line = line.split("//").next().unwrap();
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            let before = rest[..i].chars().next_back();
            rest = &rest[i + 7..];
            if before.is_some_and(|c| is_ident(c) || c == '$') {
                continue; // `$crate::` (macro paths, resolved at the use site) or `foo_crate::`
            }
            if let Some(group) = rest.strip_prefix('{') {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                for item in group.split(',') {
                    let name: String = item.trim().chars().take_while(|&c| is_ident(c)).collect();
                    refs.push((n + 1, name));
                }
            } else {
                refs.push((n + 1, rest.chars().take_while(|&c| is_ident(c)).collect()));
            }
        }
    }
    refs
}

#[test]
fn layers_import_downward_only() {
    let layers = layer_of();
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let reexp = reexports(&lib);
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut violations = Vec::new();
    let mut unknown = Vec::new();
    for path in &files {
        let rel = path
            .strip_prefix(src())
            .unwrap()
            .to_string_lossy()
            .to_string();
        let top = rel.split('/').next().unwrap().trim_end_matches(".rs");
        if top == "lib" || PENDING.iter().any(|(f, _)| *f == rel) {
            continue;
        }
        let Some(&me) = layers.get(top) else {
            unknown.push(rel.clone());
            continue;
        };
        let code = std::fs::read_to_string(path).unwrap();
        for (line, name) in crate_refs(&code) {
            let module = if layers.contains_key(name.as_str()) {
                name.clone()
            } else {
                match reexp.get(&name) {
                    Some(m) => m.clone(),
                    None => continue, // a crate-root item that is not a re-export (macros)
                }
            };
            let Some(&theirs) = layers.get(module.as_str()) else {
                unknown.push(format!("{rel}: crate::{name} (module {module})"));
                continue;
            };
            if theirs > me {
                violations.push(format!(
                    "{rel}:{line}: the {} layer names crate::{name} (the {} layer)",
                    LAYERS[me].0, LAYERS[theirs].0
                ));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "modules with no layer (add them to LAYERS and to ARCHITECTURE.md):\n{}",
        unknown.join("\n")
    );
    assert!(
        violations.is_empty(),
        "imports against the layering:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_checker_sees_imports() {
    let refs = crate_refs(
        "use crate::tensor::Tensor;\nuse crate::{autograd, layout::Shape}; // crate::ops\n$crate::x; crate::with_no_grad(|| 1);",
    );
    let names: Vec<&str> = refs.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["tensor", "autograd", "layout", "with_no_grad"]);
    let r = reexports(
        "pub use autograd::mode::{\n    no_grad, with_no_grad,\n};\npub use layout::Shape;",
    );
    assert_eq!(r["with_no_grad"], "autograd");
    assert_eq!(r["Shape"], "layout");
}
