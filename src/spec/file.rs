//! One spec file read into its parts, each checked on its own so one wrong type does not
//! hide the next: `[suite]` (hooks, signals), `[values]`, `[selectors]`, `[steps.NAME]`
//! and each `[[scenario]]`, built into scenarios by their steps' verbs (`verbs`).

use std::collections::BTreeMap;
use std::ops::Range;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use toml::Spanned;

use super::check::{FileCtx, RawStep};
use super::diag::{did_you_mean, Diagnostic};
use super::fixture::Hook;
use super::reuse::{Builder, Def, Defs};
use super::{Expectation, Scenario, SelectorOverrides, SignalCheck, Step, StepKind};

/// A file's parts are deserialized one by one from the spanned document (the file's
/// `[suite]`, `[selectors]`, each scenario's fields, each step), so one wrong type does
/// not hide the next: every problem of a file is reported at once.
const FILE_KEYS: &[&str] = &["suite", "selectors", "values", "steps", "scenario"];
const SCENARIO_KEYS: &[&str] = &["name", "tags", "description", "quarantine", "steps"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [suite] table")]
struct RawMeta {
    #[allow(dead_code)] // shown in the file only
    description: Option<String>,
    signals: Option<Spanned<RawSignals>>,
    /// Fixtures run once before the first scenario.
    #[serde(default)]
    before_all: Vec<Spanned<String>>,
    /// Fixtures run before each attempt at each scenario of the file.
    #[serde(default)]
    before_each: Vec<Spanned<String>>,
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

const SUITE_HINT: &str = "[suite] holds `description = \"...\"`, `before_all = [\"FIXTURE\"]`, `before_each = [\"FIXTURE\"]` and `signals = { console_errors = \"fail\", failed_requests = \"fail\", allow = [\"pattern\"] }`";
const VALUES_HINT: &str = "[values] names texts the steps use as ${name}, e.g. edith = \"edith-${unique}@example.com\" (built-ins only: ${unique}, ${run.id}, ${scenario.id}, ${attempt}); ft.toml's [values] may replace them";
const SIGNALS_HINT: &str = "each of console_errors and failed_requests is \"fail\" or \"ignore\" (the default)";

/// A scenario's fields, each checked on its own.
pub(super) struct RawScenario {
    span: Range<usize>,
    pub(super) name: Option<Spanned<String>>,
    tags: Vec<Spanned<String>>,
    quarantine: Option<Spanned<String>>,
    steps: Option<Spanned<Vec<Option<Spanned<RawStep>>>>>,
}

/// One file read: its parts, before its scenarios are built.
pub(super) struct ReadFile {
    /// A syntax error (reported before the file's checks).
    pub(super) early: Vec<Diagnostic>,
    pub(super) selectors: BTreeMap<String, String>,
    pub(super) selector_names: Vec<String>,
    pub(super) raw_scenarios: Vec<RawScenario>,
    pub(super) suite_signals: Option<Step>,
    /// `[suite] before_each`: steps put before each of the file's scenarios.
    pub(super) before_each: Vec<Step>,
    pub(super) before_all: Vec<super::BeforeAll>,
    /// `[values]`: name, template, and where the name is written.
    pub(super) values: Vec<(String, String, Range<usize>)>,
}

pub(super) fn read_file(ctx: &FileCtx<'_>, file_no: usize, overrides: &SelectorOverrides, defs: &mut Defs) -> ReadFile {
    let file = ctx.file;
    let mut out = ReadFile {
        early: Vec::new(),
        selectors: BTreeMap::new(),
        selector_names: Vec::new(),
        raw_scenarios: Vec::new(),
        suite_signals: None,
        before_each: Vec::new(),
        before_all: Vec::new(),
        values: Vec::new(),
    };
    let root = match DeTable::parse(&file.text) {
        Ok(root) => root,
        Err(err) => {
            // Only the first syntax error: what follows a broken line is guesswork.
            let span = err.span().unwrap_or(0..0);
            let message = err.message().trim().to_string();
            out.early.push(Diagnostic::indexed(&file.display, ctx.index, span, message, Some(SYNTAX_HINT.into())));
            return out;
        }
    };
    // A name whose value has the wrong type is known (so `@name` is not "unknown") but unusable.
    let mut raw_selectors: BTreeMap<Spanned<String>, Option<Spanned<String>>> = BTreeMap::new();
    let mut scenario_given = false;
    let mut steps_given = false;
    for (key, value) in root.into_inner() {
        match key.get_ref().as_ref() {
            "suite" => {
                let meta: Option<RawMeta> = ctx.de(value, SUITE_HINT);
                if let Some(meta) = &meta {
                    for (hook, names) in [(Hook::BeforeEach, &meta.before_each), (Hook::BeforeAll, &meta.before_all)] {
                        for name in names {
                            let Some(call) = super::verbs::hook(ctx, name, hook) else { continue };
                            let (line, col) = ctx.index.line_col(name.span().start);
                            match hook {
                                Hook::BeforeEach => out.before_each.push(Step::new(
                                    line,
                                    col,
                                    super::verbs::FIXTURE,
                                    StepKind::Act(super::Action::Fixture(call)),
                                )),
                                Hook::BeforeAll => out
                                    .before_all
                                    .push(super::BeforeAll { call, at: format!("{}:{line}:{col}", file.display) }),
                            }
                        }
                    }
                }
                out.suite_signals = meta.and_then(|m| m.signals).and_then(|raw| ctx.signals(&raw));
            }
            "values" => {
                let span = value.span();
                match value.into_inner() {
                    DeValue::Table(table) => {
                        for (name, text) in table {
                            let name = Spanned::new(name.span(), name.into_inner().into_owned());
                            let Some(text) = ctx.de::<Spanned<String>>(text, VALUES_HINT) else { continue };
                            if let Some(text) =
                                super::values::check_suite_value(name.get_ref(), &text, |span, message, hint| {
                                    ctx.err(span, message, Some(hint))
                                })
                            {
                                out.values.push((name.get_ref().clone(), text, name.span()));
                            }
                        }
                    }
                    other => ctx.err(
                        span,
                        format!("invalid type: {}, expected a [values] table", other.type_str()),
                        Some(VALUES_HINT.into()),
                    ),
                }
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
            "steps" => {
                steps_given = true;
                let span = value.span();
                match value.into_inner() {
                    DeValue::Table(table) => {
                        for (name, def) in table {
                            let name = Spanned::new(name.span(), name.into_inner().into_owned());
                            ctx.reusable_step(name, def, file_no, defs);
                        }
                    }
                    other => ctx.err(
                        span,
                        format!("invalid type: {}, expected [steps.NAME] tables", other.type_str()),
                        Some(STEPS_HINT.into()),
                    ),
                }
            }
            "scenario" => {
                scenario_given = true;
                match value.into_inner() {
                    DeValue::Array(items) => {
                        out.raw_scenarios.extend(items.into_iter().filter_map(|s| ctx.raw_scenario(s)))
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
                // Written with values (`${name}`): its syntax and built-ins now; where it is
                // used, that each value is set; once filled in, the locator, as a step's.
                match super::values::parse(css.get_ref()) {
                    Err(e) => ctx.err(css.span(), e.message, Some(e.hint)),
                    Ok(t) if t.is_plain() => {
                        ctx.locator(&t.text(), css.span());
                    }
                    Ok(t) => {
                        for used in t.uses() {
                            if let super::values::Kind::UnknownBuiltIn(hint) = super::values::kind(&used.name) {
                                ctx.err(css.span(), format!("unknown built-in value `{}`", used.source()), Some(hint));
                            }
                        }
                    }
                }
            }
        }
        let css_text = overrides.get(name.get_ref()).cloned().unwrap_or_else(|| css.get_ref().clone());
        out.selectors.insert(name.get_ref().clone(), css_text);
        out.selector_names.push(name.get_ref().clone());
    }
    // A file of reusable steps only is a library: fine.
    if !scenario_given && !steps_given {
        out.early.push(Diagnostic::file_level(
            file.display.clone(),
            "this spec file has no scenarios".into(),
            Some("add one: [[scenario]] name = \"...\" steps = [ { visit = \"/\" }, ... ]".into()),
        ));
    }
    out
}

const STEPS_HINT: &str = "a reusable step is a table: [steps.add_list_item] params = [\"text\"] steps = [ { type = \"${text}\", into = \"@item_input\" } ]";
const DEF_KEYS: &[&str] = &["params", "steps", "description"];

const FILE_HINT: &str =
    "a spec file holds [suite], [selectors], [steps.NAME] and [[scenario]] tables; a scenario holds name, tags, description, quarantine and steps";
const SCENARIO_HINT: &str = "every [[scenario]] needs `name = \"...\"` and `steps = [ ... ]`";

/// The hint for a TOML syntax error (types and fields are checked, and hinted, later).
const SYNTAX_HINT: &str = "this is not valid TOML here; see https://toml.io for the syntax";

fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl FileCtx<'_> {
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

    /// A `[steps.NAME]` table: its parameters and steps, each read on its own.
    fn reusable_step(&self, name: Spanned<String>, value: Spanned<DeValue<'_>>, file_no: usize, defs: &mut Defs) {
        let span = value.span();
        let DeValue::Table(table) = value.into_inner() else {
            self.err(span, format!("`steps.{}` is not a table", name.get_ref()), Some(STEPS_HINT.into()));
            return;
        };
        let mut ok = true;
        if !is_identifier(name.get_ref()) || name.get_ref().starts_with(|c: char| c.is_ascii_digit()) {
            self.err(
                name.span(),
                format!("reusable step name `{}` is not a plain name", super::diag::cut(name.get_ref())),
                Some("use letters, digits and `_`, e.g. `add_list_item`".into()),
            );
            ok = false;
        }
        if super::verbs::find(name.get_ref()).is_some() {
            self.err(
                name.span(),
                format!("reusable step `{}` has the name of a verb", name.get_ref()),
                Some("call it something else, e.g. `my_{}`: a step is read as the verb".replace("{}", name.get_ref())),
            );
            ok = false;
        }
        if let Some(first) = defs.get(name.get_ref()) {
            let _ = first;
            self.err(
                name.span(),
                format!("reusable step `{}` is defined twice", name.get_ref()),
                Some("names of reusable steps are shared by every file of the suite: rename one".into()),
            );
            ok = false;
        }
        let mut params: Vec<Spanned<String>> = Vec::new();
        let mut steps = Vec::new();
        let mut steps_seen = false;
        for (key, value) in table {
            match key.get_ref().as_ref() {
                "params" => match self
                    .de::<Vec<Spanned<String>>>(value, "params are a list of names: params = [\"text\"]")
                {
                    Some(list) => {
                        for p in &list {
                            let plain =
                                is_identifier(p.get_ref()) && !p.get_ref().starts_with(|c: char| c.is_ascii_digit());
                            if !plain || !matches!(super::values::kind(p.get_ref()), super::values::Kind::Set) {
                                self.err(
                                    p.span(),
                                    format!("parameter {} is not a plain name", super::diag::quote(p.get_ref())),
                                    Some("use letters, digits and `_`, not a built-in's name, e.g. \"text\"".into()),
                                );
                                ok = false;
                            } else if params.iter().any(|q| q.get_ref() == p.get_ref()) {
                                self.err(p.span(), format!("parameter `{}` is listed twice", p.get_ref()), None);
                                ok = false;
                            }
                            params.push(p.clone());
                        }
                    }
                    None => ok = false,
                },
                "steps" => {
                    steps_seen = true;
                    let steps_span = value.span();
                    match value.into_inner() {
                        DeValue::Array(items) => {
                            let hint = "a step is an inline table with one verb, e.g. { visit = \"/\" }";
                            steps = items.into_iter().map(|step| self.de(step, hint)).collect();
                            if steps.is_empty() {
                                self.err(
                                    steps_span,
                                    format!("reusable step `{}` has no steps", name.get_ref()),
                                    Some(STEPS_HINT.into()),
                                );
                                ok = false;
                            }
                        }
                        other => {
                            self.err(
                                steps_span,
                                format!("invalid type: {}, expected a list of steps", other.type_str()),
                                Some(STEPS_HINT.into()),
                            );
                            ok = false;
                        }
                    }
                }
                "description" => {
                    if self.de::<String>(value, "a description is text").is_none() {
                        ok = false;
                    }
                }
                other => {
                    self.unknown_key(key.span(), other, DEF_KEYS, STEPS_HINT);
                    ok = false;
                }
            }
        }
        if !steps_seen {
            self.err(
                name.span(),
                format!("reusable step `{}` needs `steps = [ ... ]`", name.get_ref()),
                Some(STEPS_HINT.into()),
            );
            ok = false;
        }
        if ok {
            defs.insert(name.get_ref().clone(), Def { file: file_no, params, steps });
        } else if !defs.contains_key(name.get_ref()) && super::verbs::find(name.get_ref()).is_none() {
            // Known, so calls to it are not "unknown steps", but never expanded.
            defs.insert(name.get_ref().clone(), Def { file: file_no, params, steps: vec![None] });
        }
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

    pub(super) fn scenario(&self, s: &RawScenario, file_no: usize, builder: &mut Builder<'_, '_>) -> Option<Scenario> {
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
        let mut all_read = true;
        for raw_step in raw_steps.get_ref() {
            let Some(raw_step) = raw_step else {
                all_read = false;
                continue;
            };
            builder.step(file_no, raw_step, &[]);
        }
        // A problem inside a reusable step is reported in its own file.
        all_read &= builder.all_built;
        let steps = std::mem::take(&mut builder.steps);
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
            values: Vec::new(),
        })
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
        Some(Step::new(line, col, super::verbs::SUITE_SIGNALS, StepKind::Expect(Expectation::NoSignals(check))))
    }
}
