//! The chat's layers import one way: app ← ui ← tui. `app` (state, update, texts) draws nothing
//! and imports nothing from `ui` or `tui`; `ui` reads the state but never calls into
//! `app::update`. Checked by reading every `crate::` path in the source.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// Every module path a file names from the crate root, with `use crate::{a::{b, c}, d}` groups
/// expanded (`crate::a::b`, `crate::a::c`, `crate::d`).
fn crate_paths(source: &str) -> Vec<String> {
    let code: Vec<&str> = source.lines().filter(|l| !l.trim_start().starts_with("//")).collect();
    let flat: String = code.join("\n").split_whitespace().collect();
    let mut paths = Vec::new();
    for (at, _) in flat.match_indices("crate::") {
        // The prefixes of the groups we are in; the innermost last.
        let mut groups = vec![String::new()];
        let mut segment = String::from("crate::");
        for c in flat[at + "crate::".len()..].chars() {
            match c {
                '{' => {
                    groups.push(format!("{}{segment}", groups.last().unwrap()));
                    segment.clear();
                }
                ',' | '}' if groups.len() > 1 => {
                    if !segment.is_empty() {
                        paths.push(format!("{}{segment}", groups.last().unwrap()));
                        segment.clear();
                    }
                    if c == '}' {
                        groups.pop();
                        if groups.len() == 1 {
                            break;
                        }
                    }
                }
                c if c.is_alphanumeric() || c == '_' || c == ':' => segment.push(c),
                _ => break,
            }
        }
        if groups.len() == 1 && !segment.is_empty() {
            paths.push(segment);
        }
    }
    paths
}

/// `(file, path)` for each path under `layer` that starts with one of `forbidden`.
fn violations(layer: &str, forbidden: &[&str]) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(layer);
    let mut found = Vec::new();
    for file in rust_files(&root) {
        for path in crate_paths(&std::fs::read_to_string(&file).unwrap()) {
            if forbidden.iter().any(|f| path == *f || path.starts_with(&format!("{f}::"))) {
                found.push((file.display().to_string(), path));
            }
        }
    }
    found
}

#[test]
fn app_imports_neither_ui_nor_the_terminal_loop() {
    assert_eq!(violations("app", &["crate::ui", "crate::tui"]), []);
}

#[test]
fn ui_does_not_reach_into_update_or_the_terminal_loop() {
    assert_eq!(violations("ui", &["crate::app::update", "crate::tui"]), []);
}

#[test]
fn the_scan_sees_grouped_and_inline_paths() {
    let source =
        "use crate::{app::{update::x, state}, ui::View};\n// crate::ui::commented\nlet x = crate::ui::strings::X;";
    assert_eq!(
        crate_paths(source),
        ["crate::app::update::x", "crate::app::state", "crate::ui::View", "crate::ui::strings::X"]
    );
}
