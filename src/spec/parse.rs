//! From TOML text to the checked model: raw serde structs keep spans, then each step
//! is checked by hand so every problem gets its own position and hint.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

use super::diag::{did_you_mean, Diagnostic, SpecErrors};
use super::{
    Action, Expectation, Key, Scenario, Selector, SelectorOverrides, SourceFile, SpecSource, Step, StepKind, Suite,
};

/// One step as written: `{ verb = value, arg = value, ... }`, every key and value spanned.
type RawStep = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[allow(dead_code)] // documentation for people; parsed so typos in it are caught
    suite: Option<RawMeta>,
    #[serde(default)]
    selectors: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    scenario: Vec<Spanned<RawScenario>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    #[allow(dead_code)] // shown in the file only
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Spanned<String>,
    #[serde(default)]
    tags: Vec<Spanned<String>>,
    #[allow(dead_code)] // shown in the file only
    description: Option<String>,
    steps: Spanned<Vec<Spanned<RawStep>>>,
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
    let mut first_seen: HashMap<String, String> = HashMap::new();
    let mut names_defined: Vec<String> = Vec::new();
    for file in files {
        let checked = check_file(file, overrides, &mut errors);
        names_defined.extend(checked.selector_names);
        // Names are checked even for scenarios with other errors, so every problem shows at once.
        for (name, span) in checked.names {
            let (line, _) = super::diag::line_col(&file.text, span.start);
            if let Some(first) = first_seen.get(&name) {
                errors.push(Diagnostic::at(
                    &file.display,
                    &file.text,
                    span,
                    format!("duplicate scenario name {name:?}"),
                    Some(format!("it is first defined at {first}; scenario names must be unique")),
                ));
            } else {
                first_seen.insert(name, format!("{}:{line}", file.display));
            }
        }
        scenarios.extend(checked.scenarios);
    }
    for name in overrides.keys() {
        if !names_defined.contains(name) {
            let hint = match did_you_mean(name, names_defined.iter().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("the specs name: {}", list_or_none(&names_defined)),
            };
            errors.push(Diagnostic::file_level(
                "--selector".into(),
                format!("no spec file defines a selector named `{name}`"),
                Some(hint),
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

fn check_file(file: &SourceFile, overrides: &SelectorOverrides, errors: &mut Vec<Diagnostic>) -> CheckedFile {
    let mut out = CheckedFile { scenarios: Vec::new(), names: Vec::new(), selector_names: Vec::new() };
    let raw: RawFile = match toml::from_str(&file.text) {
        Ok(raw) => raw,
        Err(err) => {
            let span = err.span().unwrap_or(0..0);
            let message = err.message().trim().to_string();
            let hint = toml_hint(&message);
            errors.push(Diagnostic::at(&file.display, &file.text, span, message, hint));
            return out;
        }
    };
    let ctx = FileCtx { file, errors: std::cell::RefCell::new(Vec::new()) };
    let mut selectors = BTreeMap::new();
    for (name, css) in &raw.selectors {
        if !is_identifier(name.get_ref()) {
            ctx.err(
                name.span(),
                format!("selector name `{}` is not a plain name", name.get_ref()),
                Some("use letters, digits and `_`, e.g. `item_input`".into()),
            );
        }
        if css.get_ref().trim().is_empty() {
            ctx.err(
                css.span(),
                format!("selector `{}` is empty", name.get_ref()),
                Some("give a CSS selector such as \"#id_text\"".into()),
            );
        }
        let css_text = overrides.get(name.get_ref()).cloned().unwrap_or_else(|| css.get_ref().clone());
        selectors.insert(name.get_ref().clone(), css_text);
        out.selector_names.push(name.get_ref().clone());
    }
    if raw.scenario.is_empty() {
        errors.push(Diagnostic::file_level(
            file.display.clone(),
            "this spec file has no scenarios".into(),
            Some("add one: [[scenario]] name = \"...\" steps = [ { visit = \"/\" }, ... ]".into()),
        ));
    }
    for raw_scenario in &raw.scenario {
        let name = raw_scenario.get_ref().name.clone();
        out.names.push((name.get_ref().trim().to_string(), name.span()));
        if let Some(s) = ctx.scenario(raw_scenario, &selectors) {
            out.scenarios.push(s);
        }
    }
    errors.extend(ctx.errors.into_inner());
    out
}

fn toml_hint(message: &str) -> Option<String> {
    if message.contains("unknown field") {
        Some("a spec file holds [suite], [selectors] and [[scenario]] tables; a scenario holds name, tags, description and steps".into())
    } else if message.contains("missing field") {
        Some("every [[scenario]] needs `name = \"...\"` and `steps = [ ... ]`".into())
    } else if message.contains("invalid type") {
        Some("check the value's type against the spec format in the README".into())
    } else {
        Some("this is not valid TOML here; see https://toml.io for the syntax".into())
    }
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

struct FileCtx<'a> {
    file: &'a SourceFile,
    errors: std::cell::RefCell<Vec<Diagnostic>>,
}

impl FileCtx<'_> {
    fn err(&self, span: Range<usize>, message: String, hint: Option<String>) {
        self.errors.borrow_mut().push(Diagnostic::at(&self.file.display, &self.file.text, span, message, hint));
    }

    fn scenario(&self, raw: &Spanned<RawScenario>, selectors: &BTreeMap<String, String>) -> Option<Scenario> {
        let s = raw.get_ref();
        let errors_before = self.errors.borrow().len();
        let name = s.name.get_ref().trim().to_string();
        if name.is_empty() {
            self.err(
                s.name.span(),
                "scenario name is empty".into(),
                Some("name it after what a user can do, e.g. \"can start a to-do list\"".into()),
            );
        }
        let mut tags = Vec::new();
        for tag in &s.tags {
            let t = tag.get_ref();
            if t.is_empty() || t.chars().any(char::is_whitespace) {
                self.err(
                    tag.span(),
                    format!("tag {t:?} must be one word"),
                    Some("for example \"smoke\" or \"validation\"".into()),
                );
            }
            tags.push(t.clone());
        }
        let mut remembered: Vec<String> = Vec::new();
        let mut steps = Vec::new();
        for raw_step in s.steps.get_ref() {
            if let Some(kind) = self.step(raw_step, selectors, &mut remembered) {
                let (line, col) = super::diag::line_col(&self.file.text, raw_step.span().start);
                steps.push(Step { line, col, kind });
            }
        }
        if s.steps.get_ref().is_empty() {
            self.err(
                s.steps.span(),
                format!("scenario {name:?} has no steps"),
                Some("add steps such as { visit = \"/\" } and { expect_title = \"To-Do\" }".into()),
            );
        } else if self.errors.borrow().len() == errors_before && !steps.iter().any(|st| st.kind.is_expectation()) {
            self.err(
                s.steps.span(),
                format!("scenario {name:?} has no expect_* step, so it can never fail on what the app shows"),
                Some("add at least one expectation, e.g. { expect_title = \"To-Do\" }".into()),
            );
        }
        if self.errors.borrow().len() > errors_before {
            return None;
        }
        let (line, _) = super::diag::line_col(&self.file.text, raw.span().start);
        Some(Scenario { name, tags, group: self.file.stem.clone(), file: self.file.display.clone(), line, steps })
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
            "expect_url" => {
                let pattern = string(value, shape)?;
                match regex::Regex::new(&pattern) {
                    Ok(re) => Expect(Expectation::Url(re)),
                    Err(e) => {
                        let detail =
                            e.to_string().lines().last().unwrap_or("").trim().trim_start_matches("error: ").to_string();
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

    fn selector(&self, text: &str, span: Range<usize>, selectors: &BTreeMap<String, String>) -> Option<Selector> {
        if let Some(name) = text.strip_prefix('@') {
            match selectors.get(name) {
                Some(css) => Some(Selector { css: css.clone(), name: Some(name.to_string()) }),
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
        } else {
            Some(Selector { css: text.to_string(), name: None })
        }
    }
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
