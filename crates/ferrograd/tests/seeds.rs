//! Every seed computation prints, line for line, what PyTorch prints
//! (`tests/data/seed-cases.md`, a verbatim copy of `shared/seed-cases.md`).

#[path = "../examples/seeds/cases.rs"]
mod cases;

use std::collections::BTreeMap;

/// Case id -> the lines of its `prints:` block.
fn expected() -> BTreeMap<String, Vec<String>> {
    let md = include_str!("data/seed-cases.md");
    let mut out = BTreeMap::new();
    let mut id: Option<String> = None;
    let mut lines = md.lines();
    while let Some(line) = lines.next() {
        if let Some(rest) = line.strip_prefix("## ") {
            id = Some(rest.split(':').next().unwrap().trim().to_string());
        } else if line == "prints:" {
            assert_eq!(lines.next(), Some(""));
            assert_eq!(lines.next(), Some("```"));
            let block: Vec<String> = lines
                .by_ref()
                .take_while(|l| *l != "```")
                .map(str::to_string)
                .collect();
            out.insert(id.clone().expect("a case heading"), block);
        }
    }
    out
}

#[test]
fn the_copy_of_the_seed_cases_is_current() {
    // CI clones the repository with shared/ beside it; when it is there, it must agree.
    let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/seed-cases.md");
    if let Ok(text) = std::fs::read_to_string(shared) {
        assert_eq!(text, include_str!("data/seed-cases.md"));
    }
}

#[test]
fn every_seed_case_prints_what_pytorch_prints() {
    let expected = expected();
    assert_eq!(expected.len(), 19, "seed-cases.md lists 19 cases");
    assert_eq!(cases::CASES.len(), expected.len());
    let mut failures = Vec::new();
    for (id, case) in cases::CASES {
        let want = &expected[*id];
        let got = case();
        if &got != want {
            failures.push(format!(
                "## {id}\nexpected:\n{}\ngot:\n{}",
                want.join("\n"),
                got.join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
