//! From TOML text to the checked model: raw serde structs keep spans, then each step
//! is checked by hand so every problem gets its own position and hint.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::de::{DeTable, DeValue, ValueDeserializer};
use toml::Spanned;

use super::diag::{did_you_mean, Diagnostic, LineIndex, SpecErrors};
use super::{
    Action, Expectation, Key, Scenario, Selector, SelectorOverrides, SignalCheck, SourceFile, SpecSource, Step,
    StepKind, Suite,
};

/// One step as written: `{ verb = value, arg = value, ... }`, every key and value spanned.
type RawStep = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

/// A file's parts are deserialized one by one from the spanned document (the file's
/// `[suite]`, `[selectors]`, each scenario's fields, each step), so one wrong type does
/// not hide the next: every problem of a file is reported at once.
const FILE_KEYS: &[&str] = &["suite", "selectors", "scenario"];
const SCENARIO_KEYS: &[&str] = &["name", "tags", "description", "quarantine", "steps"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [suite] table")]
struct RawMeta {
    #[allow(dead_code)] // shown in the file only
    description: Option<String>,
    signals: Option<Spanned<RawSignals>>,
}

/// `[suite] signals = { console_errors = "fail", failed_requests = "fail", allow = [...] }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table such as { console_errors = \"fail\", failed_requests = \"fail\" }")]
struct RawSignals {
    console_errors: Option<Spanned<String>>,
    failed_requests: Option<Spanned<String>>,
    #[serde(default)]
    allow: Vec<Spanned<String>>,
}

const SUITE_HINT: &str = "[suite] holds `description = \"...\"` and `signals = { console_errors = \"fail\", failed_requests = \"fail\", allow = [\"pattern\"] }`";
const SIGNALS_HINT: &str = "each of console_errors and failed_requests is \"fail\" or \"ignore\" (the default)";
const ALLOW_HINT: &str = "an allow pattern is a regular expression matched against a signal's text and URL; escape a literal `(`, `.` or `?` with a backslash (`\\\\(` in \"...\", `\\(` in '...'); the syntax is Rust's regex crate";

/// A scenario's fields, each checked on its own.
struct RawScenario {
    span: Range<usize>,
    name: Option<Spanned<String>>,
    tags: Vec<Spanned<String>>,
    quarantine: Option<Spanned<String>>,
    steps: Option<Spanned<Vec<Option<Spanned<RawStep>>>>>,
}

/// A verb, what its value is, and its argument keys (`true` = required).
type Verb = (&'static str, &'static str, &'static [(&'static str, bool)]);

/// Every verb.
const VERBS: &[Verb] = &[
    ("visit", "a path such as \"/\"", &[]),
    ("type", "the text to type", &[("into", true)]),
    ("press", "a key name such as \"Enter\"", &[("on", true)]),
    ("click", "a selector", &[]),
    ("clear", "a selector", &[]),
    ("new_visitor", "true, or the visitor's name", &[]),
    ("window_size", "[width, height]", &[]),
    ("remember_url", "a name to remember the current URL under", &[]),
    ("submit_novalidate", "a selector: a form, or an element in one", &[]),
    ("expect_title", "text the title must contain", &[]),
    ("expect_present", "a selector", &[]),
    ("expect_absent", "a selector", &[]),
    ("expect_text", "the exact text", &[("in", true)]),
    ("expect_text_contains", "text to find", &[("in", true)]),
    ("expect_visible", "a selector", &[]),
    ("expect_hidden", "a selector", &[]),
    ("expect_row", "the row's exact text, e.g. \"1: Buy milk\"", &[("in", false)]),
    ("expect_page_text", "text the page must show", &[]),
    ("expect_no_text", "text the page must not show", &[]),
    ("expect_attribute", "the attribute's name", &[("of", true), ("equals", true)]),
    ("expect_url", "a regular expression", &[]),
    ("expect_url_differs", "a name given to remember_url earlier", &[]),
    ("expect_centred", "a selector", &[("at", true), ("tolerance", false)]),
    ("expect_no_console_errors", "true", &[("allow", false)]),
    ("expect_no_failed_requests", "true", &[("allow", false)]),
];

const DEFAULT_TABLE: &str = "list_table";
const DEFAULT_TOLERANCE: f64 = 10.0;

pub(super) fn check_files(
    source: SpecSource,
    files: &[SourceFile],
    overrides: &SelectorOverrides,
) -> Result<Suite, SpecErrors> {
    let mut errors = Vec::new();
    let mut scenarios: Vec<Scenario> = Vec::new();
    let mut first_seen: HashMap<String, (String, String)> = HashMap::new();
    let mut names_defined: Vec<String> = Vec::new();
    for file in files {
        let index = LineIndex::new(&file.text);
        let mut file_errors = Vec::new();
        let checked = check_file(file, &index, overrides, &mut file_errors);
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
        if let Err(e) = super::css::check(css) {
            errors.push(overrides.diagnostic(
                name,
                true,
                format!("invalid CSS selector for `{name}`: {e}"),
                Some(CSS_HINT.into()),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(SpecErrors(errors));
    }
    let file_digests = files.iter().map(|f| (f.display.clone(), sha256_hex(f.text.as_bytes()))).collect();
    Ok(Suite { source, scenarios, digest: digest(files, overrides), files: file_digests, overrides: overrides.clone() })
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
    }
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

fn check_file(
    file: &SourceFile,
    index: &LineIndex<'_>,
    overrides: &SelectorOverrides,
    errors: &mut Vec<Diagnostic>,
) -> CheckedFile {
    let mut out = CheckedFile { scenarios: Vec::new(), names: Vec::new(), selector_names: Vec::new() };
    let root = match DeTable::parse(&file.text) {
        Ok(root) => root,
        Err(err) => {
            // Only the first syntax error: what follows a broken line is guesswork.
            let span = err.span().unwrap_or(0..0);
            let message = err.message().trim().to_string();
            errors.push(Diagnostic::indexed(&file.display, index, span, message, Some(SYNTAX_HINT.into())));
            return out;
        }
    };
    let ctx = FileCtx { file, index, errors: RefCell::new(Vec::new()), broken: RefCell::new(HashSet::new()) };
    // A name whose value has the wrong type is known (so `@name` is not "unknown") but unusable.
    let mut raw_selectors: BTreeMap<Spanned<String>, Option<Spanned<String>>> = BTreeMap::new();
    let mut raw_scenarios: Vec<RawScenario> = Vec::new();
    let mut scenario_given = false;
    let mut suite_signals: Option<Step> = None;
    for (key, value) in root.into_inner() {
        match key.get_ref().as_ref() {
            "suite" => {
                let meta: Option<RawMeta> = ctx.de(value, SUITE_HINT);
                suite_signals = meta.and_then(|m| m.signals).and_then(|raw| ctx.signals(&raw));
            }
            "selectors" => {
                // Each entry on its own: one wrong value must not make every `@name` unknown.
                let span = value.span();
                match value.into_inner() {
                    DeValue::Table(table) => {
                        for (name, css) in table {
                            let name = Spanned::new(name.span(), name.into_inner().into_owned());
                            let css = ctx.de(css, "a selector is CSS text: item_input = \"#id_text\"");
                            raw_selectors.insert(name, css);
                        }
                    }
                    other => ctx.err(
                        span,
                        format!("invalid type: {}, expected a [selectors] table", other.type_str()),
                        Some("[selectors] holds names for CSS selectors: item_input = \"#id_text\"".into()),
                    ),
                }
            }
            "scenario" => {
                scenario_given = true;
                match value.into_inner() {
                    DeValue::Array(items) => {
                        raw_scenarios.extend(items.into_iter().filter_map(|s| ctx.raw_scenario(s)))
                    }
                    other => ctx.err(
                        key.span(),
                        format!("invalid type: {}, expected an array of [[scenario]] tables", other.type_str()),
                        Some("each scenario starts with a `[[scenario]]` line (two brackets)".into()),
                    ),
                }
            }
            other => ctx.unknown_key(key.span(), other, FILE_KEYS, FILE_HINT),
        }
    }
    let mut selectors = BTreeMap::new();
    for (name, css) in &raw_selectors {
        let Some(css) = css else {
            ctx.broken.borrow_mut().insert(name.get_ref().clone());
            out.selector_names.push(name.get_ref().clone());
            continue;
        };
        if !is_identifier(name.get_ref()) {
            ctx.err(
                name.span(),
                format!("selector name `{}` is not a plain name", super::diag::cut(name.get_ref())),
                Some("use letters, digits and `_`, e.g. `item_input`".into()),
            );
        }
        // An overridden selector is checked where the override was given.
        if !overrides.contains_key(name.get_ref()) {
            if css.get_ref().trim().is_empty() {
                ctx.err(
                    css.span(),
                    format!("selector `{}` is empty", name.get_ref()),
                    Some("give a CSS selector such as \"#id_text\"".into()),
                );
            } else {
                ctx.css(css.get_ref(), css.span());
            }
        }
        let css_text = overrides.get(name.get_ref()).cloned().unwrap_or_else(|| css.get_ref().clone());
        selectors.insert(name.get_ref().clone(), css_text);
        out.selector_names.push(name.get_ref().clone());
    }
    if !scenario_given {
        errors.push(Diagnostic::file_level(
            file.display.clone(),
            "this spec file has no scenarios".into(),
            Some("add one: [[scenario]] name = \"...\" steps = [ { visit = \"/\" }, ... ]".into()),
        ));
    }
    for raw_scenario in &raw_scenarios {
        if let Some(name) = &raw_scenario.name {
            out.names.push((name.get_ref().trim().to_string(), name.span()));
        }
        if let Some(mut s) = ctx.scenario(raw_scenario, &selectors) {
            // The suite's signals check runs after every scenario's last step.
            s.steps.extend(suite_signals.clone());
            out.scenarios.push(s);
        }
    }
    errors.extend(ctx.errors.into_inner());
    out
}

const FILE_HINT: &str =
    "a spec file holds [suite], [selectors] and [[scenario]] tables; a scenario holds name, tags, description, quarantine and steps";
const SCENARIO_HINT: &str = "every [[scenario]] needs `name = \"...\"` and `steps = [ ... ]`";
const CSS_HINT: &str = "browsers would refuse it, so every step using it would fail; check it in the browser's console with document.querySelectorAll(...)";

/// The hint for a TOML syntax error (types and fields are checked, and hinted, later).
const SYNTAX_HINT: &str = "this is not valid TOML here; see https://toml.io for the syntax";

fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

struct FileCtx<'a> {
    file: &'a SourceFile,
    index: &'a LineIndex<'a>,
    errors: RefCell<Vec<Diagnostic>>,
    /// `[selectors]` names whose value was reported as wrong: using them is no new error.
    broken: RefCell<HashSet<String>>,
}

impl FileCtx<'_> {
    fn err(&self, span: Range<usize>, message: String, hint: Option<String>) {
        self.errors.borrow_mut().push(Diagnostic::indexed(&self.file.display, self.index, span, message, hint));
    }

    /// Deserialize one part of the file; a wrong type is reported and the part skipped.
    fn de<T: DeserializeOwned>(&self, value: Spanned<DeValue<'_>>, hint: &str) -> Option<T> {
        let span = value.span();
        match T::deserialize(ValueDeserializer::from(value)) {
            Ok(v) => Some(v),
            Err(e) => {
                let message = e.message().trim().to_string();
                self.err(e.span().unwrap_or(span), message, Some(hint.to_string()));
                None
            }
        }
    }

    fn unknown_key(&self, span: Range<usize>, key: &str, expected_keys: &[&str], hint: &str) {
        let expected = expected_keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
        let hint = match did_you_mean(key, expected_keys.iter().copied()) {
            Some(k) => format!("did you mean `{k}`?"),
            None => hint.to_string(),
        };
        self.err(span, format!("unknown field `{}`, expected one of {expected}", super::diag::cut(key)), Some(hint));
    }

    /// A `[[scenario]]` table's fields, each deserialized on its own; steps one by one.
    fn raw_scenario(&self, value: Spanned<DeValue<'_>>) -> Option<RawScenario> {
        let span = value.span();
        let DeValue::Table(table) = value.into_inner() else {
            self.err(span, "invalid type: expected a [[scenario]] table".into(), Some(SCENARIO_HINT.into()));
            return None;
        };
        let mut raw = RawScenario { span: span.clone(), name: None, tags: Vec::new(), quarantine: None, steps: None };
        let mut ok = true;
        let mut given: Vec<String> = Vec::new();
        for (key, value) in table {
            given.push(key.get_ref().to_string());
            match key.get_ref().as_ref() {
                "name" => raw.name = self.de(value, "a scenario's name is text: name = \"can start a list\""),
                "tags" => match self.de(value, "tags are a list of words: tags = [\"smoke\"]") {
                    Some(tags) => raw.tags = tags,
                    None => ok = false,
                },
                "description" => {
                    if self.de::<String>(value, "a description is text").is_none() {
                        ok = false;
                    }
                }
                "quarantine" => {
                    match self.de(value, "a quarantine is the reason, as text: quarantine = \"flaky, issue 42\"") {
                        Some(reason) => raw.quarantine = Some(reason),
                        None => ok = false,
                    }
                }
                "steps" => {
                    let steps_span = value.span();
                    match value.into_inner() {
                        DeValue::Array(items) => {
                            let hint = "a step is an inline table with one verb, e.g. { visit = \"/\" }";
                            let steps = items.into_iter().map(|step| self.de(step, hint)).collect();
                            raw.steps = Some(Spanned::new(steps_span, steps));
                        }
                        other => {
                            self.err(
                                steps_span,
                                format!("invalid type: {}, expected a list of steps", other.type_str()),
                                Some("steps = [ { visit = \"/\" }, { expect_title = \"To-Do\" } ]".into()),
                            );
                            ok = false;
                        }
                    }
                }
                other => {
                    self.unknown_key(key.span(), other, SCENARIO_KEYS, FILE_HINT);
                    ok = false;
                }
            }
        }
        for field in ["name", "steps"] {
            // A field given with a wrong type was reported as such: it is not missing.
            if !given.iter().any(|g| g == field) && ok {
                self.err(span.clone(), format!("missing field `{field}`"), Some(SCENARIO_HINT.into()));
            }
        }
        Some(raw)
    }

    fn scenario(&self, s: &RawScenario, selectors: &BTreeMap<String, String>) -> Option<Scenario> {
        let errors_before = self.errors.borrow().len();
        let (Some(raw_name), Some(raw_steps)) = (&s.name, &s.steps) else { return None };
        let name = raw_name.get_ref().trim().to_string();
        if name.is_empty() {
            self.err(
                raw_name.span(),
                "scenario name is empty".into(),
                Some("name it after what a user can do, e.g. \"can start a to-do list\"".into()),
            );
        }
        let length = name.chars().count();
        if length > super::MAX_NAME_CHARS {
            self.err(
                raw_name.span(),
                format!("scenario name is {length} characters long; the limit is {}", super::MAX_NAME_CHARS),
                Some("name it after what a user can do in a few words; put the rest in `description`".into()),
            );
        }
        let mut tags = Vec::new();
        for tag in &s.tags {
            let t = tag.get_ref();
            if t.is_empty() || t.chars().any(char::is_whitespace) {
                self.err(
                    tag.span(),
                    format!("tag {} must be one word", super::diag::quote(t)),
                    Some("for example \"smoke\" or \"validation\"".into()),
                );
            }
            tags.push(t.clone());
        }
        let mut remembered: Vec<String> = Vec::new();
        let mut steps = Vec::new();
        let mut all_read = true;
        for raw_step in raw_steps.get_ref() {
            let Some(raw_step) = raw_step else {
                all_read = false;
                continue;
            };
            if let Some(kind) = self.step(raw_step, selectors, &mut remembered) {
                let (line, col) = self.index.line_col(raw_step.span().start);
                steps.push(Step { line, col, kind });
            }
        }
        let shown = super::diag::quote(&name);
        if raw_steps.get_ref().is_empty() {
            self.err(
                raw_steps.span(),
                format!("scenario {shown} has no steps"),
                Some("add steps such as { visit = \"/\" } and { expect_title = \"To-Do\" }".into()),
            );
        } else if self.errors.borrow().len() == errors_before
            && all_read
            && !steps.iter().any(|st| st.kind.is_expectation())
        {
            self.err(
                raw_steps.span(),
                format!("scenario {shown} has no expect_* step, so it can never fail on what the app shows"),
                Some("add at least one expectation, e.g. { expect_title = \"To-Do\" }".into()),
            );
        }
        if self.errors.borrow().len() > errors_before || !all_read {
            return None;
        }
        let (line, _) = self.index.line_col(s.span.start);
        let quarantine = match &s.quarantine {
            Some(reason) if reason.get_ref().trim().is_empty() => {
                self.err(
                    reason.span(),
                    "quarantine needs a reason".into(),
                    Some("say why and until when, e.g. quarantine = \"flaky since the CDN change, issue 42\"".into()),
                );
                return None;
            }
            Some(reason) => Some(reason.get_ref().trim().to_string()),
            None => None,
        };
        Some(Scenario {
            name,
            tags,
            group: self.file.stem.clone(),
            file: self.file.display.clone(),
            line,
            steps,
            quarantine,
        })
    }

    fn step(
        &self,
        raw: &Spanned<RawStep>,
        selectors: &BTreeMap<String, String>,
        remembered: &mut Vec<String>,
    ) -> Option<StepKind> {
        let table = raw.get_ref();
        let verbs: Vec<&Spanned<String>> =
            table.keys().filter(|k| VERBS.iter().any(|(v, _, _)| v == k.get_ref())).collect();
        let verb = match verbs.as_slice() {
            [one] => *one,
            [] => {
                let all_args: Vec<&str> = VERBS.iter().flat_map(|(_, _, args)| args.iter().map(|(a, _)| *a)).collect();
                match table.keys().find(|k| !all_args.contains(&k.get_ref().as_str())) {
                    Some(unknown) => {
                        let hint = match did_you_mean(unknown.get_ref(), VERBS.iter().map(|(v, _, _)| *v)) {
                            Some(v) => format!("did you mean `{v}`?"),
                            None => "see the README's step vocabulary".to_string(),
                        };
                        self.err(unknown.span(), format!("unknown step `{}`", unknown.get_ref()), Some(hint));
                    }
                    None => self.err(
                        raw.span(),
                        "this step has no action".into(),
                        Some(
                            "a step is a table with one verb, e.g. { type = \"Buy milk\", into = \"@item_input\" }"
                                .into(),
                        ),
                    ),
                }
                return None;
            }
            [first, second, ..] => {
                self.err(
                    second.span(),
                    format!(
                        "a step does one thing, but this one has both `{}` and `{}`",
                        first.get_ref(),
                        second.get_ref()
                    ),
                    Some("split it into two steps".into()),
                );
                return None;
            }
        };
        let (_, shape, allowed) = VERBS.iter().find(|(v, _, _)| v == verb.get_ref())?;
        let mut ok = true;
        for key in table.keys().filter(|k| *k != verb) {
            if !allowed.iter().any(|(a, _)| a == key.get_ref()) {
                let hint = match did_you_mean(key.get_ref(), allowed.iter().map(|(a, _)| *a)) {
                    Some(a) => format!("did you mean `{a}`?"),
                    None if allowed.is_empty() => format!("`{}` takes no other keys", verb.get_ref()),
                    None => format!(
                        "`{}` takes {}",
                        verb.get_ref(),
                        allowed.iter().map(|(a, _)| format!("`{a}`")).collect::<Vec<_>>().join(", ")
                    ),
                };
                self.err(key.span(), format!("`{}` does not take `{}`", verb.get_ref(), key.get_ref()), Some(hint));
                ok = false;
            }
        }
        for (arg, required) in allowed.iter() {
            if *required && !table.keys().any(|k| k.get_ref() == arg) {
                self.err(
                    verb.span(),
                    format!("`{}` needs `{arg}`", verb.get_ref()),
                    Some(example(verb.get_ref()).to_string()),
                );
                ok = false;
            }
        }
        if !ok {
            return None;
        }
        let value = &table[verb];
        let arg = |name: &str| table.iter().find(|(k, _)| k.get_ref() == name).map(|(_, v)| v);
        let v = verb.get_ref().as_str();
        let string = |val: &Spanned<toml::Value>, what: &str| -> Option<String> {
            match val.get_ref() {
                toml::Value::String(s) => Some(s.clone()),
                other => {
                    self.err(
                        val.span(),
                        format!("`{v}` expects {what}, found {}", other.type_str()),
                        Some(example(v).to_string()),
                    );
                    None
                }
            }
        };
        let number = |val: &Spanned<toml::Value>, what: &str| -> Option<f64> {
            match val.get_ref() {
                toml::Value::Integer(i) => Some(*i as f64),
                toml::Value::Float(f) if f.is_finite() => Some(*f),
                // `inf` or `nan`: a check that always (or never) holds is no check.
                toml::Value::Float(f) => {
                    self.err(
                        val.span(),
                        format!("{what} must be a finite number, found {f}"),
                        Some(example(v).to_string()),
                    );
                    None
                }
                other => {
                    self.err(
                        val.span(),
                        format!("{what} must be a number, found {}", other.type_str()),
                        Some(example(v).to_string()),
                    );
                    None
                }
            }
        };
        let selector = |val: &Spanned<toml::Value>| -> Option<Selector> {
            let text = string(val, "a selector (CSS, or @name from [selectors])")?;
            self.selector(&text, val.span(), selectors)
        };
        use StepKind::{Act, Expect};
        let kind = match v {
            "visit" => {
                let path = string(value, shape)?;
                if !path.starts_with('/') {
                    self.err(
                        value.span(),
                        format!("`visit` takes a path on the target, found {path:?}"),
                        Some(
                            "start it with `/`, e.g. { visit = \"/\" }; the target's address comes from --liveserver"
                                .into(),
                        ),
                    );
                    return None;
                }
                Act(Action::Visit(path))
            }
            "type" => Act(Action::Type { text: string(value, shape)?, into: selector(arg("into")?)? }),
            "press" => {
                let name = string(value, shape)?;
                let Some((_, key)) = Key::ALL.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name)) else {
                    let names: Vec<&str> = Key::ALL.iter().map(|(n, _)| *n).collect();
                    self.err(
                        value.span(),
                        format!("unknown key {name:?}"),
                        Some(format!("keys: {}", names.join(", "))),
                    );
                    return None;
                };
                Act(Action::Press { key: *key, on: selector(arg("on")?)? })
            }
            "click" => Act(Action::Click(selector(value)?)),
            "clear" => Act(Action::Clear(selector(value)?)),
            "new_visitor" => match value.get_ref() {
                toml::Value::Boolean(true) => Act(Action::NewVisitor(None)),
                toml::Value::String(who) => Act(Action::NewVisitor(Some(who.clone()))),
                _ => {
                    self.err(
                        value.span(),
                        "`new_visitor` expects true or the visitor's name".into(),
                        Some(example(v).to_string()),
                    );
                    return None;
                }
            },
            "window_size" => {
                let dims = match value.get_ref() {
                    toml::Value::Array(a) if a.len() == 2 => {
                        a.iter().map(|x| x.as_integer()).collect::<Option<Vec<i64>>>()
                    }
                    _ => None,
                };
                match dims.as_deref() {
                    Some([w, h]) if (100..=10_000).contains(w) && (100..=10_000).contains(h) => {
                        Act(Action::WindowSize { width: *w as u32, height: *h as u32 })
                    }
                    _ => {
                        self.err(
                            value.span(),
                            "`window_size` expects [width, height] in pixels, each 100..10000".into(),
                            Some(example(v).to_string()),
                        );
                        return None;
                    }
                }
            }
            "remember_url" => {
                let name = string(value, shape)?;
                remembered.push(name.clone());
                Act(Action::RememberUrl(name))
            }
            "submit_novalidate" => Act(Action::SubmitNovalidate(selector(value)?)),
            "expect_title" => Expect(Expectation::Title(string(value, shape)?)),
            "expect_present" => Expect(Expectation::Present(selector(value)?)),
            "expect_absent" => Expect(Expectation::Absent(selector(value)?)),
            "expect_text" => Expect(Expectation::Text { equals: string(value, shape)?, of: selector(arg("in")?)? }),
            "expect_text_contains" => {
                Expect(Expectation::TextContains { contains: string(value, shape)?, of: selector(arg("in")?)? })
            }
            "expect_visible" => Expect(Expectation::Visible(selector(value)?)),
            "expect_hidden" => Expect(Expectation::Hidden(selector(value)?)),
            "expect_row" => {
                let text = string(value, shape)?;
                let table = match arg("in") {
                    Some(t) => selector(t)?,
                    None => match selectors.get(DEFAULT_TABLE) {
                        Some(css) => Selector { css: css.clone(), name: Some(DEFAULT_TABLE.into()) },
                        None => {
                            self.err(
                                verb.span(),
                                "`expect_row` needs `in` (this file names no `list_table` selector)".into(),
                                Some(example(v).to_string()),
                            );
                            return None;
                        }
                    },
                };
                Expect(Expectation::Row { table, text })
            }
            "expect_page_text" => Expect(Expectation::PageText(string(value, shape)?)),
            "expect_no_text" => Expect(Expectation::NoText(string(value, shape)?)),
            "expect_attribute" => {
                let name = string(value, shape)?;
                let of = selector(arg("of")?)?;
                let equals = string(arg("equals")?, "the attribute's expected value")?;
                Expect(Expectation::Attribute { of, name, equals })
            }
            "expect_no_console_errors" | "expect_no_failed_requests" => {
                if value.get_ref().as_bool() != Some(true) {
                    self.err(value.span(), format!("`{v}` expects true"), Some(example(v).to_string()));
                    return None;
                }
                let allow = self.allow_list(arg("allow"))?;
                let console_errors = v == "expect_no_console_errors";
                let check = SignalCheck { console_errors, failed_requests: !console_errors, allow, from_suite: false };
                Expect(Expectation::NoSignals(check))
            }
            "expect_url" => {
                let pattern = string(value, shape)?;
                match regex::Regex::new(&pattern) {
                    Ok(re) => Expect(Expectation::Url(re)),
                    Err(e) => {
                        let detail = regex_detail(&e);
                        self.err(value.span(), format!("bad regular expression: {detail}"), Some("escape a literal `(`, `.` or `?` with a backslash (`\\\\(` in \"...\", `\\(` in '...'); the syntax is Rust's regex crate".into()));
                        return None;
                    }
                }
            }
            "expect_url_differs" => {
                let name = string(value, shape)?;
                if !remembered.contains(&name) {
                    let hint = match did_you_mean(&name, remembered.iter().map(String::as_str)) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("add {{ remember_url = {name:?} }} earlier in this scenario"),
                    };
                    self.err(value.span(), format!("no URL was remembered as {name:?} before this step"), Some(hint));
                    return None;
                }
                Expect(Expectation::UrlDiffers(name))
            }
            "expect_centred" => {
                let of = selector(value)?;
                let at = number(arg("at")?, "`at`")?;
                let tolerance = match arg("tolerance") {
                    Some(t) => number(t, "`tolerance`")?,
                    None => DEFAULT_TOLERANCE,
                };
                if tolerance < 0.0 {
                    self.err(arg("tolerance")?.span(), "`tolerance` must not be negative".into(), None);
                    return None;
                }
                Expect(Expectation::Centred { of, at, tolerance })
            }
            _ => return None,
        };
        Some(kind)
    }

    /// The `[suite] signals` setting as the step it adds to every scenario; `None` when
    /// it checks nothing or is wrong (reported).
    fn signals(&self, raw: &Spanned<RawSignals>) -> Option<Step> {
        let errors_before = self.errors.borrow().len();
        let fail = |setting: &Option<Spanned<String>>| match setting.as_ref().map(|v| (v.get_ref().as_str(), v.span()))
        {
            None | Some(("ignore", _)) => false,
            Some(("fail", _)) => true,
            Some((other, span)) => {
                self.err(
                    span,
                    format!("unknown signals setting {other:?}, expected \"fail\" or \"ignore\""),
                    Some(SIGNALS_HINT.into()),
                );
                false
            }
        };
        let signals = raw.get_ref();
        let console_errors = fail(&signals.console_errors);
        let failed_requests = fail(&signals.failed_requests);
        let allow: Vec<regex::Regex> =
            signals.allow.iter().filter_map(|p| self.pattern(p.get_ref(), p.span())).collect();
        if self.errors.borrow().len() > errors_before || !(console_errors || failed_requests) {
            return None;
        }
        let (line, col) = self.index.line_col(raw.span().start);
        let check = SignalCheck { console_errors, failed_requests, allow, from_suite: true };
        Some(Step { line, col, kind: StepKind::Expect(Expectation::NoSignals(check)) })
    }

    /// An allow pattern written at `span`; a bad one is reported there.
    fn pattern(&self, pattern: &str, span: Range<usize>) -> Option<regex::Regex> {
        match regex::Regex::new(pattern) {
            Ok(re) => Some(re),
            Err(e) => {
                self.err(
                    span,
                    format!("bad allow pattern {}: {}", super::diag::quote(pattern), regex_detail(&e)),
                    Some(ALLOW_HINT.into()),
                );
                None
            }
        }
    }

    /// A step's `allow`: one pattern or a list; each string's position is found in the
    /// list's text so that a bad pattern is reported where it is written.
    fn allow_list(&self, value: Option<&Spanned<toml::Value>>) -> Option<Vec<regex::Regex>> {
        let Some(value) = value else { return Some(Vec::new()) };
        let strings: Vec<&str> = match value.get_ref() {
            toml::Value::String(one) => vec![one.as_str()],
            toml::Value::Array(items) if items.iter().all(|i| i.is_str()) => {
                items.iter().filter_map(|i| i.as_str()).collect()
            }
            _ => {
                self.err(
                    value.span(),
                    "`allow` expects a pattern or a list of patterns (text)".into(),
                    Some(ALLOW_HINT.into()),
                );
                return None;
            }
        };
        let text = &self.file.text[value.span()];
        let mut from = 0;
        let mut patterns = Vec::new();
        let mut ok = true;
        for pattern in strings {
            let found = text[from..].find(pattern).map(|i| from + i);
            let span = match found {
                Some(i) if !pattern.is_empty() => {
                    from = i + pattern.len();
                    value.span().start + i..value.span().start + i + pattern.len()
                }
                _ => value.span(),
            };
            match self.pattern(pattern, span) {
                Some(re) => patterns.push(re),
                None => ok = false,
            }
        }
        ok.then_some(patterns)
    }

    fn selector(&self, text: &str, span: Range<usize>, selectors: &BTreeMap<String, String>) -> Option<Selector> {
        if let Some(name) = text.strip_prefix('@') {
            match selectors.get(name) {
                Some(css) => Some(Selector { css: css.clone(), name: Some(name.to_string()) }),
                None if self.broken.borrow().contains(name) => None,
                None => {
                    let names: Vec<String> = selectors.keys().cloned().collect();
                    let hint = match did_you_mean(name, names.iter().map(String::as_str)) {
                        Some(s) => format!("did you mean `@{s}`?"),
                        None => {
                            format!("define it under [selectors] in this file; named here: {}", list_or_none(&names))
                        }
                    };
                    self.err(span, format!("unknown selector name `@{name}`"), Some(hint));
                    None
                }
            }
        } else if text.trim().is_empty() {
            self.err(
                span,
                "empty selector".into(),
                Some("give a CSS selector such as \"#id_text\" or a name such as \"@item_input\"".into()),
            );
            None
        } else if self.css(text, span) {
            Some(Selector { css: text.to_string(), name: None })
        } else {
            None
        }
    }

    /// Check a CSS selector written at `span` (a TOML string); false when refused.
    fn css(&self, css: &str, span: Range<usize>) -> bool {
        match super::css::check(css) {
            Ok(()) => true,
            Err(e) => {
                self.err(span, format!("invalid CSS selector {}: {e}", super::diag::quote(css)), Some(CSS_HINT.into()));
                false
            }
        }
    }
}

/// The last line of the regex crate's error: what is wrong, without its drawing.
fn regex_detail(e: &regex::Error) -> String {
    e.to_string().lines().last().unwrap_or("").trim().trim_start_matches("error: ").to_string()
}

/// A correct example of each verb, shown in hints.
fn example(verb: &str) -> &'static str {
    match verb {
        "visit" => "e.g. { visit = \"/\" }",
        "type" => "e.g. { type = \"Buy milk\", into = \"@item_input\" }",
        "press" => "e.g. { press = \"Enter\", on = \"@item_input\" }",
        "click" => "e.g. { click = \"#id_submit\" }",
        "clear" => "e.g. { clear = \"@item_input\" }",
        "new_visitor" => "e.g. { new_visitor = \"Francis\" } or { new_visitor = true }",
        "window_size" => "e.g. { window_size = [1024, 768] }",
        "remember_url" => "e.g. { remember_url = \"edith\" }",
        "submit_novalidate" => "e.g. { submit_novalidate = \"@item_input\" }",
        "expect_title" => "e.g. { expect_title = \"To-Do\" }",
        "expect_present" => "e.g. { expect_present = \"#id_text:invalid\" }",
        "expect_absent" => "e.g. { expect_absent = \".invalid-feedback\" }",
        "expect_visible" => "e.g. { expect_visible = \"@error\" }",
        "expect_hidden" => "e.g. { expect_hidden = \"@error\" }",
        "expect_page_text" => "e.g. { expect_page_text = \"Buy milk\" }",
        "expect_no_text" => "e.g. { expect_no_text = \"Buy peacock feathers\" }",
        "expect_text" => "e.g. { expect_text = \"Your To-Do list\", in = \"h1\" }",
        "expect_text_contains" => "e.g. { expect_text_contains = \"To-Do\", in = \"h1\" }",
        "expect_row" => "e.g. { expect_row = \"1: Buy milk\", in = \"#id_list_table\" }",
        "expect_attribute" => {
            "e.g. { expect_attribute = \"placeholder\", of = \"@item_input\", equals = \"Enter a to-do item\" }"
        }
        "expect_url" => "e.g. { expect_url = \"/lists/.+\" }",
        "expect_url_differs" => "e.g. { expect_url_differs = \"edith\" }",
        "expect_centred" => "e.g. { expect_centred = \"@item_input\", at = 512, tolerance = 10 }",
        "expect_no_console_errors" => "e.g. { expect_no_console_errors = true, allow = [\"ResizeObserver loop\"] }",
        "expect_no_failed_requests" => "e.g. { expect_no_failed_requests = true, allow = [\"/favicon\\\\.ico$\"] }",
        _ => "see the README's step vocabulary",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every verb's own example, parsed, is a step of that verb: the verb table, the
    /// parser and `StepKind::verb` agree, and only `expect_*` verbs are expectations.
    #[test]
    fn every_verb_example_parses_to_its_own_verb() {
        let steps: Vec<&str> = VERBS
            .iter()
            .map(|(verb, _, _)| {
                let e = example(verb).trim_start_matches("e.g. ");
                &e[..=e.find('}').unwrap_or(e.len() - 1)]
            })
            .collect();
        let text = format!(
            "[selectors]\nitem_input = \"#id_text\"\nerror = \".invalid-feedback\"\n\n\
             [[scenario]]\nname = \"every verb\"\nsteps = [\n{}\n]\n",
            steps.join(",\n")
        );
        let file = SourceFile { display: "verbs.toml".into(), stem: "verbs".into(), text };
        let suite = check_files(SpecSource::BuiltIn, &[file], &SelectorOverrides::new())
            .unwrap_or_else(|e| panic!("the examples should parse: {e}"));
        let parsed = &suite.scenarios[0].steps;
        assert_eq!(parsed.len(), VERBS.len());
        for ((verb, _, _), step) in VERBS.iter().zip(parsed) {
            assert_eq!(step.kind.verb(), *verb);
            assert_eq!(step.kind.is_expectation(), verb.starts_with("expect_"), "{verb}");
        }
    }
}
