//! docs/architecture.md's dependency table is the one the manifests declare: every
//! workspace crate's `[dependencies]` on other workspace crates, and who uses it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Crate name -> the workspace crates its `[dependencies]` name.
fn declared() -> BTreeMap<String, BTreeSet<String>> {
    let mut manifests: Vec<PathBuf> = std::fs::read_dir(root().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path().join("Cargo.toml"))
        .collect();
    manifests.push(root().join("xtask/Cargo.toml"));
    let mut graph = BTreeMap::new();
    for manifest in manifests {
        let text = std::fs::read_to_string(&manifest).unwrap();
        let value: toml::Value = toml::from_str(&text).unwrap();
        let name = value["package"]["name"].as_str().unwrap().to_string();
        let deps = value
            .get("dependencies")
            .and_then(|d| d.as_table())
            .map(|d| {
                d.keys()
                    .filter(|k| k.starts_with("flow-"))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        graph.insert(name, deps);
    }
    graph
}

/// The crates listed in a table cell (`(none)` and parenthesised notes left out).
fn names(cell: &str) -> BTreeSet<String> {
    let without_notes = cell.split('(').next().unwrap_or("");
    without_notes
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Crate name -> (depends on, used by), from the documented table.
fn documented() -> BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> {
    let text = std::fs::read_to_string(root().join("docs/architecture.md")).unwrap();
    let start = text.find("<!-- dependency-graph -->").unwrap();
    let end = text.find("<!-- /dependency-graph -->").unwrap();
    text[start..end]
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| crate"))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (cells[1].to_string(), (names(cells[2]), names(cells[3])))
        })
        .collect()
}

#[test]
fn the_documented_graph_is_the_declared_one() {
    let declared = declared();
    let documented = documented();
    assert_eq!(
        declared.keys().collect::<Vec<_>>(),
        documented.keys().collect::<Vec<_>>(),
        "every crate has a row"
    );
    for (name, deps) in &declared {
        let users: BTreeSet<String> = declared
            .iter()
            .filter(|(_, d)| d.contains(name))
            .map(|(user, _)| user.clone())
            .collect();
        let (doc_deps, doc_users) = &documented[name];
        assert_eq!(deps, doc_deps, "{name}: depends on");
        assert_eq!(&users, doc_users, "{name}: used by");
    }
}
