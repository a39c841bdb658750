//! The layering of docs/architecture.md, checked on the source text: no module cycle inside a layer, nothing
//! pointing back up, handlers and jobs calling use cases rather than queries, and the stored state words
//! mapped in one place. A change that breaks one of these fails here, naming the files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LAYERS: &[&str] = &["domain", "store", "mail", "service", "http", "jobs"];

/// (layer, what it must never name): `crate::<name>` for modules of this crate, `<name>::` for other crates.
const FORBIDDEN: &[(&str, &[&str])] = &[
    (
        "domain",
        &[
            "crate::store",
            "crate::service",
            "crate::mail",
            "crate::http",
            "crate::jobs",
            "crate::startup",
            "crate::cli",
            "crate::config",
            "diesel::",
            "actix_web::",
            "Utc::now",
        ],
    ),
    (
        "store",
        &[
            "crate::service",
            "crate::mail",
            "crate::http",
            "crate::jobs",
            "crate::startup",
            "crate::cli",
        ],
    ),
    (
        "mail",
        &[
            "crate::service",
            "crate::http",
            "crate::jobs",
            "crate::startup",
            "crate::cli",
        ],
    ),
    (
        "service",
        &[
            "crate::http",
            "crate::jobs",
            "crate::startup",
            "crate::cli",
            "actix_web::",
        ],
    ),
];

struct Source {
    /// e.g. `service/submissions/filing.rs`
    relative: String,
    /// The code without comments.
    code: String,
}

fn sources() -> Vec<Source> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            Source {
                relative: path
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/"),
                code: without_comments(&text),
            }
        })
        .collect()
}

/// The text with `//` comments (docs included) removed; string literals are kept as they are.
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| {
            let mut in_string = false;
            let bytes = line.as_bytes();
            for i in 0..bytes.len() {
                match bytes[i] {
                    b'"' if i == 0 || bytes[i - 1] != b'\\' => in_string = !in_string,
                    b'/' if !in_string && bytes.get(i + 1) == Some(&b'/') => return &line[..i],
                    _ => {}
                }
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The names a path prefix such as `super::` or `crate::service::` is followed by: `super::units` gives
/// `units`, `super::{audit, recompute::Reach}` gives `audit` and `recompute`.
fn names_after(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in code.match_indices(prefix) {
        // `super::super::x` is seen from its last `super::`.
        if code[..at].ends_with("super::") {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        let ident = |s: &str| -> String {
            s.trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        };
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            names.extend(group.split(',').map(ident).filter(|n| !n.is_empty()));
        } else {
            names.insert(ident(rest));
        }
    }
    names
}

/// The module a file belongs to inside its layer: `service/submissions/filing.rs` → `submissions`;
/// `service/mod.rs` (the layer itself) → None.
fn module_of(relative: &str) -> Option<(&str, String)> {
    let mut parts = relative.split('/');
    let layer = parts.next()?;
    let first = parts.next()?;
    if first == "mod.rs" {
        return None;
    }
    Some((layer, first.trim_end_matches(".rs").to_owned()))
}

#[test]
fn no_module_cycle_inside_a_layer() {
    let sources = sources();
    for layer in LAYERS {
        let modules: BTreeSet<String> = sources
            .iter()
            .filter_map(|s| module_of(&s.relative))
            .filter(|(l, _)| l == layer)
            .map(|(_, m)| m)
            .collect();
        assert!(
            !modules.is_empty(),
            "{layer} has no modules: is the path right?"
        );
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for source in &sources {
            let Some((l, module)) = module_of(&source.relative) else {
                continue;
            };
            if l != *layer {
                continue;
            }
            // Seen from a file of a folder module, `super::` is the folder itself and `super::super::` the layer.
            let nested = source.relative.matches('/').count() > 1;
            let up = if nested { "super::super::" } else { "super::" };
            let mut named = names_after(&source.code, up);
            named.extend(names_after(&source.code, &format!("crate::{layer}::")));
            for name in named {
                if name != module && modules.contains(&name) {
                    edges.entry(module.clone()).or_default().insert(name);
                }
            }
        }
        if let Some(cycle) = find_cycle(&edges) {
            panic!("module cycle in {layer}: {}", cycle.join(" → "));
        }
    }
}

fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|node| visit(node, edges, &mut Vec::new(), &mut done))
}

#[test]
fn the_cycle_check_sees_a_cycle() {
    let edges: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(find_cycle(&edges).unwrap(), ["a", "b", "c", "a"]);
    assert_eq!(
        names_after(
            "use super::{audit, recompute::Reach};\nsuper::units::x()",
            "super::"
        ),
        ["audit", "recompute", "units"].map(String::from).into()
    );
}

#[test]
fn nothing_points_back_up() {
    let mut broken = Vec::new();
    for source in sources() {
        let layer = source.relative.split('/').next().unwrap();
        let Some((_, forbidden)) = FORBIDDEN.iter().find(|(l, _)| *l == layer) else {
            continue;
        };
        for name in *forbidden {
            if source.code.contains(name) {
                broken.push(format!("{} names {name}", source.relative));
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

/// Handlers and jobs call use cases (`service`), never queries: of `store` they may name only the pool and
/// connection types and the storage error.
#[test]
fn handlers_and_jobs_go_through_service() {
    let mut broken = Vec::new();
    for source in sources() {
        let layer = source.relative.split('/').next().unwrap();
        if layer != "http" && layer != "jobs" {
            continue;
        }
        for name in names_after(&source.code, "store::") {
            if !["AnyConnection", "Pool", "StoreError"].contains(&name.as_str()) {
                broken.push(format!("{} uses store::{name}", source.relative));
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

/// The words the database stores for deadline states, review decisions and token roles appear in one mapping
/// (store/states.rs), besides the API's words for derived statuses (domain/status.rs).
#[test]
fn stored_state_words_live_in_one_mapping() {
    const WORDS: &[&str] = &[
        "\"pending\"",
        "\"submitted\"",
        "\"late\"",
        "\"waived\"",
        "\"accept\"",
        "\"return\"",
        "\"reporter\"",
        "\"viewer\"",
    ];
    const COMPARISONS: &[&str] = &[
        "state == \"",
        "state.eq(\"",
        "status.eq(\"",
        "status == \"",
        "decision.eq(\"",
        "role.eq(\"",
        "role == \"",
    ];
    let mut broken = Vec::new();
    for source in sources() {
        if ["store/states.rs", "domain/status.rs"].contains(&source.relative.as_str()) {
            continue;
        }
        for word in WORDS.iter().chain(COMPARISONS) {
            if source.code.contains(word) {
                broken.push(format!("{}: {word}", source.relative));
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}
