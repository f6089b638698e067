//! The shape of `src/`, checked: the rooms (top-level modules) stand on floors, and a room
//! imports only from rooms on floors below its own; inside a room, no two files import
//! each other, directly or round a circle. The floors are written in
//! docs/architecture.md ("Floors"), so the picture there cannot drift from the code.
//! Imports are read as text (`crate::room`, `super::file`), outside `#[cfg(test)]`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::common::root;

/// The floors from docs/architecture.md's "Floors" block, top first: each line a floor,
/// its rooms separated by spaces.
fn floors() -> Vec<Vec<String>> {
    let doc = std::fs::read_to_string(root().join("docs/architecture.md")).expect("docs/architecture.md");
    let block = doc
        .split("<!-- floors -->")
        .nth(1)
        .and_then(|rest| rest.split("```").nth(1))
        .expect("docs/architecture.md has a ```floors``` block after <!-- floors -->");
    block
        .lines()
        .skip(1) // the fence's info string
        .map(|l| l.split('#').next().unwrap_or("").split_whitespace().map(String::from).collect::<Vec<_>>())
        .filter(|rooms| !rooms.is_empty())
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A file's text without its `#[cfg(test)]` modules (tests may reach anywhere).
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("read source");
    match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// Names that follow `prefix` in `code`, including each name of a `prefix{a, b::c}` group.
fn names_after(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let word = |s: &str| s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>();
    for (at, _) in code.match_indices(prefix) {
        let rest = &code[at + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or("");
            names.extend(inner.split(',').map(|p| word(p.trim())).filter(|w| !w.is_empty()));
        } else {
            let w = word(rest);
            if !w.is_empty() {
                names.insert(w);
            }
        }
    }
    names
}

/// The room of a file under src/: `runner` for src/runner/worker.rs, `job` for src/job/plan.rs.
fn room_of(src: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(src).expect("under src");
    let first = rel.components().next().expect("a component").as_os_str().to_string_lossy().to_string();
    first.trim_end_matches(".rs").to_string()
}

#[test]
fn every_room_imports_only_from_floors_below_its_own() {
    let floors = floors();
    let floor_of: BTreeMap<&str, usize> =
        floors.iter().enumerate().flat_map(|(i, rooms)| rooms.iter().map(move |r| (r.as_str(), i))).collect();
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut rooms: BTreeSet<String> = BTreeSet::new();
    let mut wrong = Vec::new();
    for path in &files {
        let room = room_of(&src, path);
        if room == "lib" || room == "main" {
            continue;
        }
        rooms.insert(room.clone());
        let Some(&own) = floor_of.get(room.as_str()) else { continue };
        for used in names_after(&code_of(path), "crate::") {
            if used == room {
                continue;
            }
            match floor_of.get(used.as_str()) {
                Some(&floor) if floor > own => {}
                Some(_) => wrong.push(format!(
                    "{} imports crate::{used}, which is not on a floor below `{room}`",
                    path.strip_prefix(root()).unwrap_or(path).display()
                )),
                None => {} // not a room (e.g. `crate::` in a doc comment's prose)
            }
        }
    }
    let unplaced: Vec<&String> = rooms.iter().filter(|r| !floor_of.contains_key(r.as_str())).collect();
    assert!(unplaced.is_empty(), "rooms on no floor of docs/architecture.md: {unplaced:?}");
    let gone: Vec<&&str> = floor_of.keys().filter(|r| !rooms.contains(**r)).collect();
    assert!(gone.is_empty(), "docs/architecture.md's floors name rooms src/ does not have: {gone:?}");
    assert!(wrong.is_empty(), "arrows that point up or sideways:\n{}", wrong.join("\n"));
}

#[test]
fn no_two_files_of_a_room_import_each_other_even_round_a_circle() {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    // Per folder: each file (but mod.rs, the room's front) and the siblings it names.
    let mut edges: BTreeMap<PathBuf, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for path in &files {
        let (Some(dir), Some(stem)) = (path.parent(), path.file_stem()) else { continue };
        let stem = stem.to_string_lossy().to_string();
        if dir == src || stem == "mod" {
            continue;
        }
        let siblings: BTreeSet<String> = std::fs::read_dir(dir)
            .expect("read dir")
            .filter_map(|e| {
                let p = e.ok()?.path();
                let s = p.file_stem()?.to_string_lossy().to_string();
                (s != "mod" && s != stem).then_some(s)
            })
            .collect();
        let code = code_of(path);
        let room = room_of(&src, path);
        let mut named = names_after(&code, "super::");
        named.extend(names_after(&code, &format!("crate::{room}::")));
        let to: BTreeSet<String> = named.into_iter().filter(|n| siblings.contains(n)).collect();
        edges.entry(dir.to_path_buf()).or_default().insert(stem, to);
    }
    let mut circles = Vec::new();
    for (dir, graph) in &edges {
        for start in graph.keys() {
            // A path from `start` back to itself.
            let mut stack = vec![(start.clone(), vec![start.clone()])];
            let mut seen = BTreeSet::new();
            while let Some((at, path)) = stack.pop() {
                for next in graph.get(&at).into_iter().flatten() {
                    if next == start {
                        circles.push(format!("{}: {} -> {start}", dir.display(), path.join(" -> ")));
                    } else if seen.insert(next.clone()) {
                        stack.push((next.clone(), [path.clone(), vec![next.clone()]].concat()));
                    }
                }
            }
        }
    }
    assert!(circles.is_empty(), "files that import each other:\n{}", circles.join("\n"));
}

#[test]
fn the_import_reader_sees_groups_and_paths() {
    let code = "use super::{queue::Queue, worker::{work, WorkerMsg}};\nlet x = crate::shared::text::clip(s, 3);";
    let named = names_after(code, "super::");
    assert!(named.contains("queue") && named.contains("worker"), "{named:?}");
    assert_eq!(names_after(code, "crate::").into_iter().collect::<Vec<_>>(), ["shared"]);
}
