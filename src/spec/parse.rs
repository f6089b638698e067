//! From TOML text to the checked model: raw serde structs keep spans, then each part of
//! a file is checked by hand so every problem gets its own position and hint. The steps
//! themselves are checked by their verbs (`verbs`).
//! Here the suite: every file read (`file`), then what spans files (the suite's values,
//! `before_all` once, scenario names unique, overrides naming a selector) and the digest.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;

use sha2::{Digest, Sha256};

use super::check::{list_or_none, FileCtx};
use super::diag::{did_you_mean, Diagnostic, LineIndex, SpecErrors};
use super::file::{read_file, ReadFile};
use super::reuse::{Builder, Defs};
use super::{Scenario, SelectorOverrides, SourceFile, Suite};

pub(super) fn check_files(
    files: &[SourceFile],
    overrides: &SelectorOverrides,
    fixtures: &super::fixture::Fixtures,
) -> Result<Suite, SpecErrors> {
    let mut errors = Vec::new();
    let mut scenarios: Vec<Scenario> = Vec::new();
    let mut first_seen: HashMap<String, (String, String)> = HashMap::new();
    let mut names_defined: Vec<String> = Vec::new();
    // Every file is read first: a reusable step defined in any file is visible to all.
    let indexes: Vec<LineIndex<'_>> = files.iter().map(|f| LineIndex::new(&f.text)).collect();
    let ctxs: Vec<FileCtx<'_>> = files
        .iter()
        .zip(&indexes)
        .map(|(file, index)| FileCtx {
            file,
            index,
            errors: RefCell::new(Vec::new()),
            broken: RefCell::new(HashSet::new()),
            fixtures,
        })
        .collect();
    let mut defs = Defs::new();
    let mut read: Vec<ReadFile> = Vec::new();
    for (i, ctx) in ctxs.iter().enumerate() {
        read.push(read_file(ctx, i, overrides, &mut defs));
    }
    let selectors: Vec<BTreeMap<String, String>> = read.iter().map(|r| r.selectors.clone()).collect();
    // The suite's values, from every file: a name once.
    let mut suite_values: Vec<(String, String)> = Vec::new();
    let mut value_at: HashMap<String, String> = HashMap::new();
    for (i, r) in read.iter().enumerate() {
        for (name, text, span) in &r.values {
            let (line, col) = ctxs[i].index.line_col(span.start);
            if let Some(first) = value_at.get(name) {
                ctxs[i].err(
                    span.clone(),
                    format!("the value `{name}` is defined twice"),
                    Some(format!("it is first defined at {first}; a value has one text for the whole suite")),
                );
                continue;
            }
            value_at.insert(name.clone(), format!("{}:{line}:{col}", ctxs[i].file.display));
            suite_values.push((name.clone(), text.clone()));
        }
    }
    let value_names: Vec<String> = suite_values.iter().map(|(n, _)| n.clone()).collect();
    let mut reported = HashSet::new();
    // Each before_all fixture once, however many files name it.
    let mut before_all: Vec<super::BeforeAll> = Vec::new();
    for r in &read {
        for hook in &r.before_all {
            if !before_all.iter().any(|b| b.call.fixture.name == hook.call.fixture.name) {
                before_all.push(hook.clone());
            }
        }
    }
    let mut checked: Vec<CheckedFile> = Vec::new();
    for (i, r) in read.iter_mut().enumerate() {
        let mut out = CheckedFile {
            scenarios: Vec::new(),
            names: Vec::new(),
            selector_names: std::mem::take(&mut r.selector_names),
        };
        for raw_scenario in &r.raw_scenarios {
            if let Some(name) = &raw_scenario.name {
                out.names.push((name.get_ref().trim().to_string(), name.span()));
            }
            let mut builder = Builder::new(&ctxs, &selectors, &defs, &mut reported);
            builder.scope.values = value_names.clone();
            if let Some(mut s) = ctxs[i].scenario(raw_scenario, i, &mut builder) {
                s.values = suite_values.clone();
                // The suite's signals check runs after every scenario's last step, its
                // before_each hooks before the first.
                s.steps.extend(r.suite_signals.clone());
                s.steps.splice(0..0, r.before_each.iter().cloned());
                out.scenarios.push(s);
            }
        }
        checked.push(out);
    }
    for ((file, ctx), (r, checked)) in files.iter().zip(ctxs).zip(read.into_iter().zip(checked)) {
        let index = ctx.index;
        let mut file_errors = r.early;
        file_errors.extend(ctx.errors.into_inner());
        names_defined.extend(checked.selector_names);
        // Names are checked even for scenarios with other errors, so every problem shows at once.
        for (name, span) in checked.names {
            // Names that look the same are the same name: every report shows them alike.
            let key = super::name_key(&name);
            let (line, col) = index.line_col(span.start);
            let here = format!("{}:{line}:{col}", file.display);
            if let Some((first, first_name)) = first_seen.get(&key) {
                let alike = if *first_name == name {
                    String::new()
                } else {
                    format!(
                        " (written differently: {} there, {} here, but they look the same)",
                        super::diag::quote(first_name),
                        super::diag::quote(&name)
                    )
                };
                file_errors.push(Diagnostic::indexed(
                    &file.display,
                    &index,
                    span,
                    format!("duplicate scenario name {}{alike}", super::diag::quote(&name)),
                    Some(format!("it is first defined at {first}; scenario names must be unique, compared as they look (Unicode NFC, invisible characters ignored); rename one")),
                ));
            } else {
                first_seen.insert(key, (here, name));
            }
        }
        // In the order of the file, whichever check found them.
        file_errors.sort_by_key(|d| (d.line, d.col));
        errors.extend(file_errors);
        scenarios.extend(checked.scenarios);
    }
    names_defined.sort();
    names_defined.dedup();
    for (name, css) in overrides.iter() {
        if names_defined.binary_search(name).is_err() {
            let hint = match did_you_mean(name, names_defined.iter().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("the specs name: {}", list_or_none(&names_defined)),
            };
            errors.push(overrides.diagnostic(
                name,
                false,
                format!("no spec file defines a selector named `{name}`"),
                Some(hint),
            ));
        }
        if let Err(e) = super::locator::parse(css) {
            errors.push(overrides.diagnostic(name, true, e.message(Some(name)), Some(e.hint())));
        }
    }
    if !errors.is_empty() {
        return Err(SpecErrors(errors));
    }
    let file_digests = files.iter().map(|f| (f.display.clone(), sha256_hex(f.text.as_bytes()))).collect();
    Ok(Suite {
        scenarios,
        digest: digest(files, overrides),
        files: file_digests,
        overrides: overrides.clone(),
        before_all,
        values: suite_values,
    })
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn digest(files: &[SourceFile], overrides: &SelectorOverrides) -> String {
    let mut hasher = Sha256::new();
    for f in files {
        hasher.update(f.stem.as_bytes());
        hasher.update([0]);
        hasher.update(f.text.as_bytes());
        hasher.update([0]);
    }
    for (name, css) in overrides {
        hasher.update(format!("--selector {name}={css}\0").as_bytes());
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

struct CheckedFile {
    scenarios: Vec<Scenario>,
    /// Every scenario's name and its span, valid or not.
    names: Vec<(String, Range<usize>)>,
    selector_names: Vec<String>,
}
