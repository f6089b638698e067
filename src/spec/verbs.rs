//! The verbs of the spec language, in one table: each verb's name, what its value is, its
//! argument keys, an example, and how its step is built. The parser (`step`), its hints,
//! `ft man --verbs` (which the docs test reads) and the step's own `verb` all come from
//! here: a new verb is one entry and its `build` function.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use super::check::{regex_detail, FileCtx, RawStep};
use super::diag::did_you_mean;
use super::fixture::{self, Fixture, FixtureCall, Hook};
use super::values::{self, Kind};
use super::{Action, Capture, CaptureFrom, Chord, Cookie, Expectation, Selector, SignalCheck, StepKind, Tab};

/// One verb of the language.
pub(crate) struct Verb {
    pub(crate) name: &'static str,
    /// What its value is, for messages: "a selector", "the text to type"...
    pub(crate) value: &'static str,
    /// Its argument keys (`true` = required).
    pub(crate) args: &'static [(&'static str, bool)],
    /// A correct step of this verb, shown in hints and in `ft man --verbs`.
    pub(crate) example: &'static str,
    build: fn(&mut Call<'_, '_>) -> Option<StepKind>,
}

macro_rules! verb {
    ($name:literal, $value:literal, [$($arg:literal: $req:literal),*], $example:literal, $build:expr) => {
        Verb { name: $name, value: $value, args: &[$(($arg, $req)),*], example: $example, build: $build }
    };
}

/// Every verb, in the order the docs list them.
pub(crate) const VERBS: &[Verb] = &[
    verb!("visit", "a path such as \"/\", or an http(s) URL", [], "{ visit = \"/\" }", visit),
    verb!("type", "the text to type", ["into": true], "{ type = \"Buy milk\", into = \"@item_input\" }", |c| {
        Some(StepKind::Act(Action::Type { text: c.text()?, into: c.selector_arg("into")? }))
    }),
    verb!("press", "a key such as \"Enter\", or a chord such as \"Control+A\"", ["on": true], "{ press = \"Enter\", on = \"@item_input\" }", press),
    verb!("click", "a selector", [], "{ click = \"#id_submit\" }", |c| Some(StepKind::Act(Action::Click(
        c.selector()?
    )))),
    verb!("clear", "a selector", [], "{ clear = \"@item_input\" }", |c| Some(StepKind::Act(Action::Clear(
        c.selector()?
    )))),
    verb!(
        "new_visitor",
        "true, or the visitor's name",
        [],
        "{ new_visitor = \"Francis\" } or { new_visitor = true }",
        new_visitor
    ),
    verb!("visitor", "the visitor's name", [], "{ visitor = \"Onesiphorus\" }", visitor),
    verb!("window_size", "[width, height]", [], "{ window_size = [1024, 768] }", window_size),
    verb!("remember_url", "a name to remember the current URL under", [], "{ remember_url = \"edith\" }", |c| {
        let name = c.fixed_text(c.value, c.verb.value)?;
        c.scope.remembered.push(name.clone());
        Some(StepKind::Act(Action::RememberUrl(name)))
    }),
    verb!(
        "capture",
        "the name of the value it sets",
        [
            "from": false,
            "text_of": false,
            "attribute": false,
            "of": false,
            "count_of": false,
            "from_email": false,
            "subject": false,
            "timeout": false,
            "regex": false,
            "secret": false
        ],
        "{ capture = \"rows\", count_of = \"#id_list_table tr\" }",
        capture
    ),
    // Its other keys are the arguments its command's placeholders name (`email`).
    verb!(
        "fixture",
        "a fixture's name, from ft.toml's [fixtures]",
        ["capture": false, "regex": false, "secret": false, "timeout": false],
        "{ fixture = \"create_session\", email = \"edith@example.com\", capture = \"session_key\", secret = true }",
        fixture
    ),
    verb!(
        "submit_novalidate",
        "a selector: a form, or an element in one",
        [],
        "{ submit_novalidate = \"@item_input\" }",
        |c| { Some(StepKind::Act(Action::SubmitNovalidate(c.selector()?))) }
    ),
    verb!(
        "set_cookie",
        "the cookie's name",
        ["value": true, "path": false, "secure": false, "http_only": false, "same_site": false],
        "{ set_cookie = \"sessionid\", value = \"abc123\", path = \"/\" }",
        set_cookie
    ),
    verb!("delete_cookie", "the cookie's name", [], "{ delete_cookie = \"sessionid\" }", |c| {
        Some(StepKind::Act(Action::DeleteCookie(c.text()?)))
    }),
    verb!("reload", "true", [], "{ reload = true }", |c| c.flag().map(|()| StepKind::Act(Action::Reload))),
    verb!("back", "true", [], "{ back = true }", |c| c.flag().map(|()| StepKind::Act(Action::Back))),
    verb!("forward", "true", [], "{ forward = true }", |c| c.flag().map(|()| StepKind::Act(Action::Forward))),
    verb!("select", "the option's label or value", ["in": true], "{ select = \"Lax\", in = \"#id_mode\" }", |c| {
        Some(StepKind::Act(Action::Select { option: c.text()?, of: c.selector_arg("in")? }))
    }),
    verb!("check", "a selector: a checkbox or radio button", [], "{ check = \"#id_agree\" }", |c| {
        Some(StepKind::Act(Action::Check(c.selector()?)))
    }),
    verb!("uncheck", "a selector: a checkbox", [], "{ uncheck = \"#id_agree\" }", |c| {
        Some(StepKind::Act(Action::Uncheck(c.selector()?)))
    }),
    verb!("hover", "a selector", [], "{ hover = \"#menu\" }", |c| Some(StepKind::Act(Action::Hover(c.selector()?)))),
    verb!(
        "upload",
        "a file's path, relative to the spec file",
        ["into": true],
        "{ upload = \"files/avatar.png\", into = \"#id_avatar\" }",
        upload
    ),
    verb!(
        "accept_dialog",
        "true, or the text the dialog must show",
        ["prompt": false],
        "{ accept_dialog = \"Delete this list?\" }",
        dialog
    ),
    verb!("dismiss_dialog", "true, or the text the dialog must show", [], "{ dismiss_dialog = true }", dialog),
    verb!("frame", "a selector: an iframe", [], "{ frame = \"#payment\" }", |c| Some(StepKind::Act(Action::Frame(
        c.selector()?
    )))),
    verb!("main_frame", "true", [], "{ main_frame = true }", |c| c.flag().map(|()| StepKind::Act(Action::MainFrame))),
    verb!("tab", "\"newest\", \"first\" or a tab's number (from 1)", [], "{ tab = \"newest\" }", tab),
    verb!("close_tab", "true", [], "{ close_tab = true }", |c| c.flag().map(|()| StepKind::Act(Action::CloseTab))),
    verb!(
        "expect_cookie",
        "the cookie's name",
        ["equals": false],
        "{ expect_cookie = \"sessionid\", equals = \"abc123\" }",
        |c| {
            let name = c.text()?;
            let equals = match c.arg("equals") {
                Some(v) => Some(c.string(v, "the cookie's expected value")?),
                None => None,
            };
            Some(StepKind::Expect(Expectation::Cookie { name, equals }))
        }
    ),
    verb!("expect_no_cookie", "the cookie's name", [], "{ expect_no_cookie = \"sessionid\" }", |c| {
        Some(StepKind::Expect(Expectation::NoCookie(c.text()?)))
    }),
    verb!("expect_title", "text the title must contain", [], "{ expect_title = \"To-Do\" }", |c| {
        Some(StepKind::Expect(Expectation::Title(c.text()?)))
    }),
    verb!("expect_present", "a selector", [], "{ expect_present = \"#id_text:invalid\" }", |c| {
        Some(StepKind::Expect(Expectation::Present(c.selector()?)))
    }),
    verb!("expect_absent", "a selector", [], "{ expect_absent = \".invalid-feedback\" }", |c| {
        Some(StepKind::Expect(Expectation::Absent(c.selector()?)))
    }),
    verb!("expect_text", "the exact text", ["in": true], "{ expect_text = \"Your To-Do list\", in = \"h1\" }", |c| {
        Some(StepKind::Expect(Expectation::Text { equals: c.text()?, of: c.selector_arg("in")? }))
    }),
    verb!("expect_text_contains", "text to find", ["in": true], "{ expect_text_contains = \"To-Do\", in = \"h1\" }", |c| {
        Some(StepKind::Expect(Expectation::TextContains { contains: c.text()?, of: c.selector_arg("in")? }))
    }),
    verb!("expect_visible", "a selector", [], "{ expect_visible = \"@error\" }", |c| {
        Some(StepKind::Expect(Expectation::Visible(c.selector()?)))
    }),
    verb!("expect_hidden", "a selector", [], "{ expect_hidden = \"@error\" }", |c| {
        Some(StepKind::Expect(Expectation::Hidden(c.selector()?)))
    }),
    verb!(
        "expect_row",
        "the row's exact text, e.g. \"1: Buy milk\"",
        ["in": false],
        "{ expect_row = \"1: Buy milk\", in = \"#id_list_table\" }",
        expect_row
    ),
    verb!("expect_page_text", "text the page must show", [], "{ expect_page_text = \"Buy milk\" }", |c| {
        Some(StepKind::Expect(Expectation::PageText(c.text()?)))
    }),
    verb!("expect_no_text", "text the page must not show", [], "{ expect_no_text = \"Buy peacock feathers\" }", |c| {
        Some(StepKind::Expect(Expectation::NoText(c.text()?)))
    }),
    verb!(
        "expect_attribute",
        "the attribute's name",
        ["of": true, "equals": true],
        "{ expect_attribute = \"placeholder\", of = \"@item_input\", equals = \"Enter a to-do item\" }",
        |c| {
            let name = c.text()?;
            let of = c.selector_arg("of")?;
            let equals = c.string(c.arg("equals")?, "the attribute's expected value")?;
            Some(StepKind::Expect(Expectation::Attribute { of, name, equals }))
        }
    ),
    verb!("expect_url", "a regular expression", [], "{ expect_url = \"/lists/.+\" }", expect_url),
    verb!(
        "expect_url_differs",
        "a name given to remember_url earlier",
        [],
        "{ expect_url_differs = \"edith\" }",
        expect_url_differs
    ),
    verb!(
        "expect_url_same",
        "a name given to remember_url earlier",
        [],
        "{ expect_url_same = \"edith\" }",
        expect_url_same
    ),
    verb!(
        "expect_centred",
        "a selector",
        ["at": true, "tolerance": false],
        "{ expect_centred = \"@item_input\", at = 512, tolerance = 10 }",
        expect_centred
    ),
    verb!(
        "expect_count",
        "how many elements must match (0 or more)",
        ["of": true],
        "{ expect_count = 2, of = \"#id_list_table tr\" }",
        expect_count
    ),
    verb!(
        "expect_value",
        "the exact current value of an input, select or textarea",
        ["of": true],
        "{ expect_value = \"Buy milk\", of = \"@item_input\" }",
        |c| Some(StepKind::Expect(Expectation::Value { equals: c.text()?, of: c.selector_arg("of")? }))
    ),
    verb!("expect_checked", "a selector: a checkbox or radio", [], "{ expect_checked = \"label=Remember me\" }", |c| {
        Some(StepKind::Expect(Expectation::Checked(c.selector()?)))
    }),
    verb!("expect_unchecked", "a selector: a checkbox or radio", [], "{ expect_unchecked = \"#id_remember\" }", |c| {
        Some(StepKind::Expect(Expectation::Unchecked(c.selector()?)))
    }),
    verb!("expect_enabled", "a selector", [], "{ expect_enabled = \"role=button[name='Save']\" }", |c| {
        Some(StepKind::Expect(Expectation::Enabled(c.selector()?)))
    }),
    verb!("expect_disabled", "a selector", [], "{ expect_disabled = \"#id_submit\" }", |c| {
        Some(StepKind::Expect(Expectation::Disabled(c.selector()?)))
    }),
    verb!("expect_focused", "a selector", [], "{ expect_focused = \"@item_input\" }", |c| {
        Some(StepKind::Expect(Expectation::Focused(c.selector()?)))
    }),
    verb!(
        "expect_no_console_errors",
        "true",
        ["allow": false],
        "{ expect_no_console_errors = true, allow = [\"ResizeObserver loop\"] }",
        expect_no_signals
    ),
    verb!(
        "expect_no_failed_requests",
        "true",
        ["allow": false],
        "{ expect_no_failed_requests = true, allow = [\"/favicon\\\\.ico$\"] }",
        expect_no_signals
    ),
];

/// The verb of fixture steps and of the `[suite]` hooks, the one verb whose other keys
/// are not its own: they are its command's placeholders.
pub(crate) const FIXTURE: &str = "fixture";

/// The verb of the suite's own signals check (`[suite] signals`), which no step names.
pub(crate) const SUITE_SIGNALS: &str = "signals";

/// The table used by `expect_row` without `in`.
const DEFAULT_TABLE: &str = "list_table";
const DEFAULT_TOLERANCE: f64 = 10.0;

/// One step as written, being built: the verb's entry, its value and its arguments.
pub(super) struct Call<'c, 'a> {
    ctx: &'c FileCtx<'a>,
    verb: &'static Verb,
    /// Where the verb's key is written.
    at: Range<usize>,
    value: &'c Spanned<toml::Value>,
    table: &'c RawStep,
    selectors: &'c BTreeMap<String, String>,
    /// What the scenario's steps before this one set.
    scope: &'c mut Scope,
    /// This step uses values: its strings are kept as templates (see `Call::string`).
    templated: bool,
}

/// What a scenario's steps set, so far (in step order, through reusable steps).
#[derive(Debug, Default)]
pub(super) struct Scope {
    /// URL names given by `remember_url`.
    pub(super) remembered: Vec<String>,
    /// Values set by captures and fixtures (and, later, emails).
    pub(super) values: Vec<String>,
}

impl Call<'_, '_> {
    fn hint(&self) -> Option<String> {
        Some(format!("e.g. {}", self.verb.example))
    }

    fn err(&self, span: Range<usize>, message: String, hint: Option<String>) {
        self.ctx.err(span, message, hint);
    }

    /// An argument; a required one was checked present before `build` runs.
    fn arg(&self, name: &str) -> Option<&Spanned<toml::Value>> {
        self.table.iter().find(|(k, _)| k.get_ref() == name).map(|(_, v)| v)
    }

    /// A string of the step: in a step that uses values, the template as written (filled
    /// in at run time by `values::resolve`); else its text (`$${` read as `${`). Its
    /// values were checked by `check_templates`.
    fn string(&self, val: &Spanned<toml::Value>, what: &str) -> Option<String> {
        match val.get_ref() {
            toml::Value::String(s) if self.templated => Some(s.clone()),
            toml::Value::String(s) => Some(values::parse(s).map(|t| t.text()).unwrap_or_else(|_| s.clone())),
            other => {
                let message = format!("`{}` expects {what}, found {}", self.verb.name, other.type_str());
                self.err(val.span(), message, self.hint());
                None
            }
        }
    }

    /// A string that is read at load (a key name, a pattern, a name given to a value):
    /// it may not use values set while the scenario runs.
    fn fixed_text(&self, val: &Spanned<toml::Value>, what: &str) -> Option<String> {
        let written = match val.get_ref() {
            toml::Value::String(s) => s.clone(),
            _ => return self.string(val, what),
        };
        let Ok(template) = values::parse(&written) else { return Some(written) };
        if template.is_plain() {
            return Some(template.text());
        }
        self.err(
            val.span(),
            format!("`{}` cannot use a value here: {what} is read before the scenario runs", self.verb.name),
            Some("write it out; values (${name}) go in texts and selectors".into()),
        );
        None
    }

    /// The verb's own value, which must be `true` (`{ reload = true }`).
    fn flag(&self) -> Option<()> {
        if self.value.get_ref().as_bool() == Some(true) {
            return Some(());
        }
        self.err(self.value.span(), format!("`{}` expects true", self.verb.name), self.hint());
        None
    }

    /// An optional argument that is true or false; `Some(None)` when it is not written.
    fn bool_arg(&self, name: &str) -> Option<Option<bool>> {
        match self.arg(name).map(|v| (v, v.get_ref())) {
            None => Some(None),
            Some((_, toml::Value::Boolean(b))) => Some(Some(*b)),
            Some((v, other)) => {
                self.err(v.span(), format!("`{name}` is true or false, found {}", other.type_str()), self.hint());
                None
            }
        }
    }

    /// The verb's own value, as text.
    fn text(&self) -> Option<String> {
        self.string(self.value, self.verb.value)
    }

    fn number(&self, val: &Spanned<toml::Value>, what: &str) -> Option<f64> {
        match val.get_ref() {
            toml::Value::Integer(i) => Some(*i as f64),
            toml::Value::Float(f) if f.is_finite() => Some(*f),
            // `inf` or `nan`: a check that always (or never) holds is no check.
            toml::Value::Float(f) => {
                self.err(val.span(), format!("{what} must be a finite number, found {f}"), self.hint());
                None
            }
            other => {
                self.err(val.span(), format!("{what} must be a number, found {}", other.type_str()), self.hint());
                None
            }
        }
    }

    /// A selector; one using values is checked once they are filled in, at run time
    /// (`values::selector`).
    fn selector_of(&self, val: &Spanned<toml::Value>) -> Option<Selector> {
        let text = self.string(val, "a selector (CSS, or @name from [selectors])")?;
        if self.templated {
            if let Ok(template) = values::parse(&text) {
                if !template.is_plain() {
                    let unset = crate::shared::locator::Locator(Vec::new());
                    return Some(Selector { locator: unset, name: None, template: Some(text) });
                }
                // No values, only a `$${` written for `${`: checked as the text it stands for.
                return self.ctx.selector(&template.text(), val.span(), self.selectors);
            }
        }
        self.ctx.selector(&text, val.span(), self.selectors)
    }

    /// The verb's own value, as a selector.
    fn selector(&self) -> Option<Selector> {
        self.selector_of(self.value)
    }

    /// A required argument, as a selector.
    fn selector_arg(&self, name: &str) -> Option<Selector> {
        self.selector_of(self.arg(name)?)
    }
}

/// The verb's entry by name.
pub(crate) fn find(name: &str) -> Option<&'static Verb> {
    VERBS.iter().find(|v| v.name == name)
}

/// Check one written step and build it: one verb, only its arguments, the required ones
/// present, each value of the right kind. Every problem is reported at its position.
pub(super) fn step(
    ctx: &FileCtx<'_>,
    raw: &Spanned<RawStep>,
    selectors: &BTreeMap<String, String>,
    scope: &mut Scope,
) -> Option<(&'static str, StepKind, bool)> {
    let table = raw.get_ref();
    let verbs: Vec<(&Spanned<String>, &'static Verb)> =
        table.keys().filter_map(|k| find(k.get_ref()).map(|v| (k, v))).collect();
    // A verb's argument may be another verb's name (`capture` of `fixture`): the step is
    // the verb whose arguments the other verb keys are.
    let owner = verbs
        .iter()
        .find(|(_, v)| verbs.iter().all(|(k, w)| std::ptr::eq(*w, *v) || v.args.iter().any(|(a, _)| a == k.get_ref())));
    let verbs = match owner {
        Some(one) if verbs.len() > 1 => vec![*one],
        _ => verbs,
    };
    let (key, verb) = match verbs.as_slice() {
        [one] => *one,
        [] => {
            let all_args: Vec<&str> = VERBS.iter().flat_map(|v| v.args.iter().map(|(a, _)| *a)).collect();
            match table.keys().find(|k| !all_args.contains(&k.get_ref().as_str())) {
                Some(unknown) => {
                    let hint = match did_you_mean(unknown.get_ref(), VERBS.iter().map(|v| v.name)) {
                        Some(v) => format!("did you mean `{v}`?"),
                        None => "see the steps in docs/writing-specs.md".to_string(),
                    };
                    ctx.err(unknown.span(), format!("unknown step `{}`", unknown.get_ref()), Some(hint));
                }
                None => ctx.err(
                    raw.span(),
                    "this step has no action".into(),
                    Some(
                        "a step is a table with one verb, e.g. { type = \"Buy milk\", into = \"@item_input\" }".into(),
                    ),
                ),
            }
            return None;
        }
        [(first, _), (second, _), ..] => {
            ctx.err(
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
    let mut ok = true;
    for other in table.keys().filter(|k| *k != key) {
        // A fixture's other keys are checked against its command (`fixture`).
        if verb.name == FIXTURE {
            break;
        }
        if !verb.args.iter().any(|(a, _)| a == other.get_ref()) {
            let hint = match did_you_mean(other.get_ref(), verb.args.iter().map(|(a, _)| *a)) {
                Some(a) => format!("did you mean `{a}`?"),
                None if verb.args.is_empty() => format!("`{}` takes no other keys", verb.name),
                None => format!(
                    "`{}` takes {}",
                    verb.name,
                    verb.args.iter().map(|(a, _)| format!("`{a}`")).collect::<Vec<_>>().join(", ")
                ),
            };
            ctx.err(other.span(), format!("`{}` does not take `{}`", verb.name, other.get_ref()), Some(hint));
            ok = false;
        }
    }
    for (arg, required) in verb.args {
        if *required && !table.keys().any(|k| k.get_ref() == arg) {
            ctx.err(key.span(), format!("`{}` needs `{arg}`", verb.name), Some(format!("e.g. {}", verb.example)));
            ok = false;
        }
    }
    let templated = check_templates(ctx, table, scope, selectors);
    let (Some(templated), true) = (templated, ok) else { return None };
    let mut call = Call { ctx, verb, at: key.span(), value: &table[key], table, selectors, scope, templated };
    let kind = (verb.build)(&mut call)?;
    Some((verb.name, kind, templated))
}

/// Check the values every string of a step uses: the syntax, the built-ins, and that a
/// value is set by an earlier step. Each problem is reported at its `${`. Answers whether
/// the step uses any value (`None`: a problem was reported).
pub(super) fn check_templates(
    ctx: &FileCtx<'_>,
    table: &RawStep,
    scope: &Scope,
    selectors: &BTreeMap<String, String>,
) -> Option<bool> {
    let mut ok = true;
    let mut templated = false;
    let mut strings = Vec::new();
    for value in table.values() {
        collect_strings(value.get_ref(), &mut strings);
        for s in strings.drain(..) {
            let template = match values::parse(s) {
                Ok(t) => t,
                Err(e) => {
                    ctx.err(at_dollar(ctx, value.span(), s, e.at), e.message, Some(e.hint));
                    ok = false;
                    continue;
                }
            };
            for used in template.uses() {
                templated = true;
                ok &= check_use(ctx, at_use(ctx, value.span(), s, used), used, scope, None);
            }
            // A named selector written with values (`[selectors]`) uses them where it is
            // used: each must be set before this step, which then fills them in.
            let named = s.strip_prefix('@').and_then(|name| selectors.get(name)).and_then(|e| values::parse(e).ok());
            for used in named.iter().flat_map(|t| t.uses()) {
                templated = true;
                ok &= check_use(ctx, value.span(), used, scope, Some(s));
            }
        }
    }
    ok.then_some(templated)
}

/// Whether the value `used` (written at `span`, or in the named selector `via`) can be
/// filled in at this step; a problem is reported there.
fn check_use(ctx: &FileCtx<'_>, span: Range<usize>, used: &values::Use, scope: &Scope, via: Option<&str>) -> bool {
    let through = via.map(|name| format!(" (by {name})")).unwrap_or_default();
    match values::kind(&used.name) {
        Kind::BuiltIn => true,
        Kind::Set if scope.values.contains(&used.name) => true,
        Kind::Set => {
            let hint = match did_you_mean(&used.name, scope.values.iter().map(String::as_str)) {
                Some(n) => format!("did you mean `${{{n}}}`?"),
                None => {
                    format!("set it earlier in the scenario, e.g. {{ capture = \"{}\", text_of = \"#id\" }}", used.name)
                }
            };
            ctx.err(span, format!("`{}`{through} is used before any step sets it", used.source()), Some(hint));
            false
        }
        Kind::UnknownBuiltIn(hint) => {
            ctx.err(span, format!("unknown built-in value `{}`{through}", used.source()), Some(hint));
            false
        }
    }
}

fn collect_strings<'v>(value: &'v toml::Value, out: &mut Vec<&'v str>) {
    match value {
        toml::Value::String(s) => out.push(s),
        toml::Value::Array(items) => items.iter().for_each(|i| collect_strings(i, out)),
        toml::Value::Table(t) => t.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

/// Where the use `used` of the string `s` (written at `span`) is in the file: the same
/// occurrence of its text in the written text (a reusable step's parameters, put in, move
/// the others), else where its `${` is.
fn at_use(ctx: &FileCtx<'_>, span: Range<usize>, s: &str, used: &values::Use) -> Range<usize> {
    let source = used.source();
    let nth = s[..used.at.min(s.len())].matches(source.as_str()).count();
    let written = ctx.file.text.get(span.clone()).unwrap_or("");
    match written.match_indices(source.as_str()).nth(nth) {
        Some((i, _)) => span.start + i..span.start + i + 2,
        None => at_dollar(ctx, span, s, used.at),
    }
}

/// Where the `${` at byte `at` of the string `s` (written at `span`) is in the file: the
/// same occurrence of `${` in the written text, else the string's start.
fn at_dollar(ctx: &FileCtx<'_>, span: Range<usize>, s: &str, at: usize) -> Range<usize> {
    let nth = s[..at.min(s.len())].matches("${").count();
    let written = ctx.file.text.get(span.clone()).unwrap_or("");
    match written.match_indices("${").nth(nth) {
        Some((i, _)) => span.start + i..span.start + i + 2,
        None => span,
    }
}

fn visit(c: &mut Call<'_, '_>) -> Option<StepKind> {
    let written = c.text()?;
    // A template is checked once its values are filled in (`spec::visit` again, at run time).
    let why = match (c.templated, super::visit::destination(&written)) {
        (true, _) if super::visit::may_become_one(&written) => None,
        (true, _) => Some(super::visit::NEITHER.to_string()),
        (false, Ok(_)) => None,
        (false, Err(why)) => Some(why),
    };
    if let Some(why) = why {
        let shown = crate::shared::redact::redact(&written);
        let why = if why == super::visit::NEITHER { String::new() } else { format!(": {why}") };
        c.err(
            c.value.span(),
            format!("`visit` takes {}, found {shown:?}{why}", super::visit::WHAT),
            Some(
                "start it with `/` for a path on the target, e.g. { visit = \"/\" } (the target's address comes \
                 from --liveserver), or give a whole URL, e.g. { visit = \"${login_link}\" } with a link a capture step read"
                    .into(),
            ),
        );
        return None;
    }
    Some(StepKind::Act(Action::Visit(written)))
}

fn press(c: &mut Call<'_, '_>) -> Option<StepKind> {
    let text = c.fixed_text(c.value, "the key")?;
    let key = match Chord::parse(&text) {
        Ok(chord) => chord,
        Err(why) => {
            let names: Vec<&str> = crate::shared::keys::Key::ALL.iter().map(|(n, _)| *n).collect();
            let hint = format!(
                "keys: {}, or one character; a chord holds Control+, Shift+, Alt+ or Meta+ before it (e.g. \"Control+A\")",
                names.join(", ")
            );
            // A lone key misspelt is named as such; a chord is quoted whole.
            let message = if text.contains('+') { format!("bad key {text:?}: {why}") } else { why };
            c.err(c.value.span(), message, Some(hint));
            return None;
        }
    };
    Some(StepKind::Act(Action::Press { key, on: c.selector_arg("on")? }))
}

fn set_cookie(c: &mut Call<'_, '_>) -> Option<StepKind> {
    let name = c.text()?;
    // RFC 6265's token: what a browser takes as a cookie's name.
    if name.is_empty() || !name.chars().all(|ch| ch.is_ascii_graphic() && !"()<>@,;:\\\"/[]?={}".contains(ch)) {
        c.err(
            c.value.span(),
            format!("{name:?} is not a cookie name"),
            Some("letters, digits and -_.!#$%&'*+^`|~".into()),
        );
        return None;
    }
    let value = c.string(c.arg("value")?, "the cookie's value")?;
    if value.chars().any(|ch| ch.is_control() || ch == ';') {
        c.err(c.arg("value")?.span(), "a cookie's value holds no `;` nor control characters".into(), c.hint());
        return None;
    }
    let path = match c.arg("path") {
        Some(p) => {
            let path = c.string(p, "a path such as \"/\"")?;
            if !path.starts_with('/') {
                c.err(p.span(), format!("a cookie's path starts with `/`, found {path:?}"), c.hint());
                return None;
            }
            Some(path)
        }
        None => None,
    };
    let secure = c.bool_arg("secure")?;
    let http_only = c.bool_arg("http_only")?;
    let same_site = match c.arg("same_site") {
        Some(v) => {
            let text = c.string(v, "\"Strict\", \"Lax\" or \"None\"")?;
            match ["Strict", "Lax", "None"].iter().find(|s| s.eq_ignore_ascii_case(&text)) {
                Some(s) => Some(s.to_string()),
                None => {
                    c.err(v.span(), format!("same_site is \"Strict\", \"Lax\" or \"None\", found {text:?}"), c.hint());
                    return None;
                }
            }
        }
        None => None,
    };
    Some(StepKind::Act(Action::SetCookie(Cookie { name, value, path, secure, http_only, same_site })))
}

fn upload(c: &mut Call<'_, '_>) -> Option<StepKind> {
    let written = c.string(c.value, c.verb.value)?;
    let display = &c.ctx.file.display;
    if display.starts_with("<built-in>") {
        c.err(c.value.span(), "the built-in suite has no folder to upload files from".into(), None);
        return None;
    }
    let dir = std::path::Path::new(display).parent().unwrap_or(std::path::Path::new(""));
    let dir = if dir.as_os_str().is_empty() { std::path::Path::new(".") } else { dir };
    let path = dir.join(&written);
    let file = match std::fs::canonicalize(&path) {
        Ok(file) if file.is_file() => file,
        Ok(_) => {
            c.err(
                c.value.span(),
                format!("{} is not a file", path.display()),
                Some("name a file to upload, not a folder".into()),
            );
            return None;
        }
        Err(e) => {
            c.err(
                c.value.span(),
                format!("failed to find the file to upload, {}: {e}", path.display()),
                Some("the path is relative to this spec file's folder".into()),
            );
            return None;
        }
    };
    let into = c.selector_arg("into")?;
    Some(StepKind::Act(Action::Upload { file, written, into }))
}

fn dialog(c: &mut Call<'_, '_>) -> Option<StepKind> {
    let text = match c.value.get_ref() {
        toml::Value::Boolean(true) => None,
        toml::Value::String(t) => Some(t.clone()),
        _ => {
            c.err(c.value.span(), format!("`{}` expects true or the text the dialog must show", c.verb.name), c.hint());
            return None;
        }
    };
    if c.verb.name == "dismiss_dialog" {
        return Some(StepKind::Act(Action::DismissDialog { text }));
    }
    let prompt = match c.arg("prompt") {
        Some(p) => Some(c.string(p, "the answer to type into the prompt")?),
        None => None,
    };
    Some(StepKind::Act(Action::AcceptDialog { text, prompt }))
}

fn tab(c: &mut Call<'_, '_>) -> Option<StepKind> {
    let tab = match c.value.get_ref() {
        toml::Value::String(s) if s == "newest" => Tab::Newest,
        toml::Value::String(s) if s == "first" => Tab::First,
        toml::Value::Integer(n) if (1..=100).contains(n) => Tab::Nth(*n as usize),
        _ => {
            c.err(c.value.span(), "`tab` expects \"newest\", \"first\" or a tab's number, 1 to 100".into(), c.hint());
            return None;
        }
    };
    Some(StepKind::Act(Action::Tab(tab)))
}

fn new_visitor(c: &mut Call<'_, '_>) -> Option<StepKind> {
    match c.value.get_ref() {
        toml::Value::Boolean(true) => Some(StepKind::Act(Action::NewVisitor(None))),
        toml::Value::String(_) => Some(StepKind::Act(Action::NewVisitor(Some(c.text()?)))),
        _ => {
            c.err(c.value.span(), "`new_visitor` expects true or the visitor's name".into(), c.hint());
            None
        }
    }
}

/// The most visitors one scenario may name: each is a browser profile (a user context and
/// its tab, or a whole session), and a scenario is a few people, not a crowd.
pub(crate) const MAX_VISITORS: usize = 8;

/// The longest visitor name, in characters: it names evidence files and report captions.
const MAX_VISITOR_NAME: usize = 40;

fn visitor(c: &mut Call<'_, '_>) -> Option<StepKind> {
    let name = c.text()?;
    let trimmed = name.trim();
    if trimmed.is_empty() {
        c.err(c.value.span(), "`visitor` needs a name".into(), c.hint());
        return None;
    }
    if trimmed.chars().count() > MAX_VISITOR_NAME {
        c.err(
            c.value.span(),
            format!("a visitor's name is at most {MAX_VISITOR_NAME} characters"),
            Some("a first name is enough, e.g. { visitor = \"Edith\" }".into()),
        );
        return None;
    }
    if trimmed.chars().any(char::is_control) {
        c.err(c.value.span(), "a visitor's name is one line of text".into(), c.hint());
        return None;
    }
    Some(StepKind::Act(Action::Visitor(trimmed.to_string())))
}

/// Count the visitors a scenario names (`met`, in order), refusing one more than
/// `MAX_VISITORS`: called for each step as the scenario is read.
pub(super) fn count_visitor(ctx: &FileCtx<'_>, raw: &Spanned<RawStep>, kind: &StepKind, met: &mut Vec<String>) {
    let StepKind::Act(Action::Visitor(who)) = kind else { return };
    if met.contains(who) {
        return;
    }
    if met.len() >= MAX_VISITORS {
        ctx.err(
            raw.span(),
            format!("a scenario may name at most {MAX_VISITORS} visitors; {who:?} would be one more"),
            Some(format!("already named: {}", met.join(", "))),
        );
        return;
    }
    met.push(who.clone());
}

fn window_size(c: &mut Call<'_, '_>) -> Option<StepKind> {
    let dims = match c.value.get_ref() {
        toml::Value::Array(a) if a.len() == 2 => a.iter().map(|x| x.as_integer()).collect::<Option<Vec<i64>>>(),
        _ => None,
    };
    match dims.as_deref() {
        Some([w, h]) if (100..=10_000).contains(w) && (100..=10_000).contains(h) => {
            Some(StepKind::Act(Action::WindowSize { width: *w as u32, height: *h as u32 }))
        }
        _ => {
            c.err(c.value.span(), "`window_size` expects [width, height] in pixels, each 100..10000".into(), c.hint());
            None
        }
    }
}

fn expect_row(c: &mut Call<'_, '_>) -> Option<StepKind> {
    let text = c.text()?;
    let table = match c.arg("in") {
        Some(t) => c.selector_of(t)?,
        None => match c.selectors.get(DEFAULT_TABLE) {
            Some(_) => c.ctx.selector(&format!("@{DEFAULT_TABLE}"), c.at.clone(), c.selectors)?,
            None => {
                c.err(
                    c.at.clone(),
                    "`expect_row` needs `in` (this file names no `list_table` selector)".into(),
                    c.hint(),
                );
                return None;
            }
        },
    };
    Some(StepKind::Expect(Expectation::Row { table, text }))
}

fn expect_url(c: &mut Call<'_, '_>) -> Option<StepKind> {
    let pattern = c.fixed_text(c.value, "the pattern")?;
    match regex::Regex::new(&pattern) {
        Ok(re) => Some(StepKind::Expect(Expectation::Url(re))),
        Err(e) => {
            c.err(
                c.value.span(),
                format!("bad regular expression: {}", regex_detail(&e)),
                Some("escape a literal `(`, `.` or `?` with a backslash (`\\\\(` in \"...\", `\\(` in '...'); the syntax is Rust's regex crate".into()),
            );
            None
        }
    }
}

fn expect_url_differs(c: &mut Call<'_, '_>) -> Option<StepKind> {
    remembered_url(c).map(|name| StepKind::Expect(Expectation::UrlDiffers(name)))
}

fn expect_url_same(c: &mut Call<'_, '_>) -> Option<StepKind> {
    remembered_url(c).map(|name| StepKind::Expect(Expectation::UrlSame(name)))
}

/// The name of a URL `remember_url` set earlier in the scenario.
fn remembered_url(c: &mut Call<'_, '_>) -> Option<String> {
    let name = c.fixed_text(c.value, "the name")?;
    if !c.scope.remembered.contains(&name) {
        let hint = match did_you_mean(&name, c.scope.remembered.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("add {{ remember_url = {name:?} }} earlier in this scenario"),
        };
        c.err(c.value.span(), format!("no URL was remembered as {name:?} before this step"), Some(hint));
        return None;
    }
    Some(name)
}

/// `{ capture = NAME, from = "url" | text_of = SEL | attribute = A, of = SEL | count_of = SEL
/// | from_email = ADDRESS, subject = SUBJECT (optional timeout) }`, optional `regex` and `secret`.
fn capture(c: &mut Call<'_, '_>) -> Option<StepKind> {
    let name = c.fixed_text(c.value, "the value's name")?;
    let plain = name.chars().next().is_some_and(|ch| ch.is_ascii_alphabetic() || ch == '_')
        && name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
    if !plain {
        c.err(
            c.value.span(),
            format!("{} is not a value's name", super::diag::quote(&name)),
            Some("use letters, digits and `_`, starting with a letter, e.g. \"list_url\"".into()),
        );
        return None;
    }
    if !matches!(values::kind(&name), Kind::Set) {
        c.err(c.value.span(), format!("`{name}` is a built-in value; a capture cannot set it"), c.hint());
        return None;
    }
    let given: Vec<&str> =
        ["from", "text_of", "attribute", "count_of", "from_email"].into_iter().filter(|k| c.arg(k).is_some()).collect();
    let from = match given.as_slice() {
        ["from"] => {
            let from_value = c.arg("from")?;
            match c.fixed_text(from_value, "where to capture from")?.as_str() {
                "url" => CaptureFrom::Url,
                other => {
                    c.err(
                        from_value.span(),
                        format!("`capture` reads `from = \"url\"` only, found {other:?}"),
                        Some("capture an element's text with text_of = SEL, an attribute with attribute = \"href\", of = SEL, a count with count_of = SEL".into()),
                    );
                    return None;
                }
            }
        }
        ["text_of"] => CaptureFrom::TextOf(c.selector_arg("text_of")?),
        ["count_of"] => CaptureFrom::CountOf(c.selector_arg("count_of")?),
        ["from_email"] => email(c)?,
        ["attribute"] => match c.arg("of") {
            Some(of) => {
                let of = c.selector_of(of)?;
                CaptureFrom::Attribute { name: c.string(c.arg("attribute")?, "the attribute's name")?, of }
            }
            None => {
                c.err(c.at.clone(), "`capture` with `attribute` needs `of`, the element".into(), c.hint());
                return None;
            }
        },
        _ => {
            c.err(
                c.at.clone(),
                "`capture` needs one of `from = \"url\"`, `text_of`, `attribute` (with `of`), `count_of` or `from_email` (with `subject`)".into(),
                Some("e.g. { capture = \"owner\", text_of = \"#id_list_owner\" }".into()),
            );
            return None;
        }
    };
    if c.arg("of").is_some() && !matches!(from, CaptureFrom::Attribute { .. }) {
        c.err(c.arg("of")?.span(), "`of` goes with `attribute`".into(), c.hint());
        return None;
    }
    for key in ["subject", "timeout"] {
        if let (Some(v), false) = (c.arg(key), matches!(from, CaptureFrom::Email { .. })) {
            c.err(v.span(), format!("`{key}` goes with `from_email`"), Some(EMAIL_EXAMPLE.into()));
            return None;
        }
    }
    let regex = regex_arg(c)?;
    let secret = match c.arg("secret") {
        None => false,
        Some(v) => match v.get_ref() {
            toml::Value::Boolean(b) => *b,
            _ => {
                c.err(v.span(), "`secret` is true or false".into(), c.hint());
                return None;
            }
        },
    };
    c.scope.values.push(name.clone());
    Some(StepKind::Act(Action::Capture(Capture { name, from, regex, secret })))
}

/// A name a step sets a value under: plain, and no built-in's.
fn settable_name(c: &Call<'_, '_>, val: &Spanned<toml::Value>) -> Option<String> {
    let name = c.fixed_text(val, "the value's name")?;
    let plain = name.chars().next().is_some_and(|ch| ch.is_ascii_alphabetic() || ch == '_')
        && name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
    if !plain {
        c.err(
            val.span(),
            format!("{} is not a value's name", super::diag::quote(&name)),
            Some("use letters, digits and `_`, starting with a letter, e.g. \"session_key\"".into()),
        );
        return None;
    }
    if !matches!(values::kind(&name), Kind::Set) {
        c.err(val.span(), format!("`{name}` is a built-in value; a step cannot set it"), c.hint());
        return None;
    }
    Some(name)
}

/// The fixture `name` (written at `span`), or an error with the names there are.
fn known_fixture(ctx: &FileCtx<'_>, name: &str, span: Range<usize>) -> Option<Fixture> {
    if let Some(found) = ctx.fixtures.get(name) {
        return Some(found);
    }
    let names = ctx.fixtures.names();
    let hint = match did_you_mean(name, names.iter().copied()) {
        Some(n) => format!("did you mean `{n}`?"),
        None => format!(
            "define it under [fixtures] in {}, e.g. {}",
            ctx.fixtures.config.as_deref().unwrap_or("ft.toml"),
            fixture::example_line(name)
        ),
    };
    ctx.err(span, format!("unknown fixture `{name}`"), Some(hint));
    None
}

/// `{ fixture = NAME, ARG = "...", capture = VALUE, regex = ..., secret = true, timeout = SECS }`:
/// every argument one of the command's placeholders, every placeholder given.
fn fixture(c: &mut Call<'_, '_>) -> Option<StepKind> {
    let name = c.fixed_text(c.value, "the fixture's name")?;
    let found = known_fixture(c.ctx, &name, c.value.span())?;
    let params = found.command.params();
    let mut ok = true;
    let mut args = Vec::new();
    for (key, value) in c.table {
        let k = key.get_ref().as_str();
        if k == FIXTURE || c.verb.args.iter().any(|(a, _)| *a == k) {
            continue;
        }
        if !params.contains(&k) {
            let hint = match did_you_mean(k, params.iter().copied()) {
                _ if fixture::TARGET_PLACEHOLDERS.contains(&k) => {
                    format!("{{{k}}} is filled in by ft from the target; a step cannot set it")
                }
                Some(p) => format!("did you mean `{p}`?"),
                None if params.is_empty() => format!("its command takes no arguments: {}", found.command.written),
                None => format!("its command uses {}", list_placeholders(&params)),
            };
            c.err(key.span(), format!("fixture `{name}`'s command does not use {{{k}}}"), Some(hint));
            ok = false;
            continue;
        }
        match c.string(value, "the argument's text") {
            Some(v) => args.push((k.to_string(), v)),
            None => ok = false,
        }
    }
    for p in &params {
        if !args.iter().any(|(k, _)| k == p) {
            c.err(
                c.at.clone(),
                format!("fixture `{name}` needs `{p}`: its command uses {{{p}}}"),
                Some(format!("e.g. {{ fixture = {name:?}, {p} = \"...\" }}")),
            );
            ok = false;
        }
    }
    let capture = match c.arg("capture") {
        Some(v) => Some(settable_name(c, v)?),
        None => None,
    };
    let regex = regex_arg(c)?;
    let secret = c.bool_arg("secret")?.unwrap_or(false);
    if capture.is_none() {
        if let Some((key, _)) = c.table.iter().find(|(k, _)| ["regex", "secret"].contains(&k.get_ref().as_str())) {
            c.err(key.span(), format!("`{}` goes with `capture`", key.get_ref()), c.hint());
            return None;
        }
    }
    let timeout = match c.arg("timeout") {
        Some(t) => {
            let secs = c.number(t, "`timeout`")?;
            if !(secs > 0.0 && secs <= fixture::MAX_TIMEOUT_SECS) {
                let message = format!("`timeout` is seconds, more than 0 and at most {}", fixture::MAX_TIMEOUT_SECS);
                c.err(t.span(), message, c.hint());
                return None;
            }
            std::time::Duration::from_secs_f64(secs)
        }
        None => found.timeout,
    };
    if !ok {
        return None;
    }
    if let Some(name) = &capture {
        c.scope.values.push(name.clone());
    }
    let call = FixtureCall { timeout, fixture: found, args, capture, regex, secret, hook: None };
    Some(StepKind::Act(Action::Fixture(call)))
}

/// The optional `regex` of a capture or a fixture step: `Some(None)` when there is none,
/// `None` when it is wrong (reported).
fn regex_arg(c: &mut Call<'_, '_>) -> Option<Option<regex::Regex>> {
    let Some(r) = c.arg("regex") else { return Some(None) };
    let pattern = c.fixed_text(r, "the pattern")?;
    match regex::Regex::new(&pattern) {
        Ok(re) => Some(Some(re)),
        Err(e) => {
            c.err(r.span(), format!("bad regular expression: {}", regex_detail(&e)), c.hint());
            None
        }
    }
}

fn list_placeholders(names: &[&str]) -> String {
    names.iter().map(|n| format!("{{{n}}}")).collect::<Vec<_>>().join(", ")
}

/// A `[suite]` hook naming `name`: a known fixture whose command takes no arguments.
pub(super) fn hook(ctx: &FileCtx<'_>, name: &Spanned<String>, hook: Hook) -> Option<FixtureCall> {
    let found = known_fixture(ctx, name.get_ref(), name.span())?;
    let params = found.command.params();
    if !params.is_empty() {
        let which = if hook == Hook::BeforeAll { "before_all" } else { "before_each" };
        ctx.err(
            name.span(),
            format!(
                "{which} runs fixtures without arguments, but `{}`'s command uses {}",
                name.get_ref(),
                list_placeholders(&params)
            ),
            Some(format!(
                "call it as a step instead, e.g. {{ fixture = {:?}, {} = \"...\" }}",
                name.get_ref(),
                params[0]
            )),
        );
        return None;
    }
    let timeout = found.timeout;
    Some(FixtureCall {
        fixture: found,
        args: Vec::new(),
        capture: None,
        regex: None,
        secret: false,
        timeout,
        hook: Some(hook),
    })
}

const EMAIL_EXAMPLE: &str =
    "e.g. { capture = \"login_link\", from_email = \"${email}\", subject = \"Your login link\", regex = 'https?://\\S+' }";

/// The longest a capture may wait for its email, in seconds.
const MAX_MAIL_WAIT_SECS: f64 = 3600.0;

/// `from_email = ADDRESS, subject = SUBJECT`, optional `timeout` (seconds): what a capture
/// waits for in the inbox.
fn email(c: &mut Call<'_, '_>) -> Option<CaptureFrom> {
    let to_value = c.arg("from_email")?;
    let to = c.string(to_value, "the address the email is sent to")?;
    // One using values is checked once they are filled in (an unknown address only times out).
    let plain = values::parse(&to).map(|t| t.is_plain()).unwrap_or(true);
    if plain && (!to.contains('@') || to.trim() != to || to.chars().any(char::is_whitespace)) {
        c.err(to_value.span(), format!("{to:?} is not an email address"), Some(EMAIL_EXAMPLE.into()));
        return None;
    }
    let Some(subject_value) = c.arg("subject") else {
        let at = c.table.keys().find(|k| k.get_ref() == "from_email").map_or(c.at.clone(), |k| k.span());
        c.err(
            at,
            "`capture` with `from_email` needs `subject`, the email's exact subject".into(),
            Some(EMAIL_EXAMPLE.into()),
        );
        return None;
    };
    let subject = c.string(subject_value, "the email's subject")?;
    if subject.trim().is_empty() {
        c.err(subject_value.span(), "`subject` is empty".into(), Some(EMAIL_EXAMPLE.into()));
        return None;
    }
    let timeout = match c.arg("timeout") {
        Some(v) => {
            let secs = c.number(v, "`timeout`")?;
            if secs <= 0.0 || secs > MAX_MAIL_WAIT_SECS {
                c.err(
                    v.span(),
                    format!("`timeout` is a number of seconds above 0 and at most {MAX_MAIL_WAIT_SECS}, found {secs}"),
                    Some("the book waits 60 s for its email: timeout = 60".into()),
                );
                return None;
            }
            Some(std::time::Duration::from_secs_f64(secs))
        }
        None => None,
    };
    Some(CaptureFrom::Email { to, subject, timeout })
}

fn expect_centred(c: &mut Call<'_, '_>) -> Option<StepKind> {
    let of = c.selector()?;
    let at = c.number(c.arg("at")?, "`at`")?;
    let tolerance = match c.arg("tolerance") {
        Some(t) => c.number(t, "`tolerance`")?,
        None => DEFAULT_TOLERANCE,
    };
    if tolerance < 0.0 {
        c.err(c.arg("tolerance")?.span(), "`tolerance` must not be negative".into(), None);
        return None;
    }
    Some(StepKind::Expect(Expectation::Centred { of, at, tolerance }))
}

fn expect_count(c: &mut Call<'_, '_>) -> Option<StepKind> {
    let count = match c.value.get_ref() {
        toml::Value::Integer(n) if *n >= 0 => usize::try_from(*n).ok(),
        _ => None,
    };
    let Some(count) = count else {
        c.err(c.value.span(), "`expect_count` expects a whole number, 0 or more".into(), c.hint());
        return None;
    };
    Some(StepKind::Expect(Expectation::Count { count, of: c.selector_arg("of")? }))
}

fn expect_no_signals(c: &mut Call<'_, '_>) -> Option<StepKind> {
    let v = c.verb.name;
    if c.value.get_ref().as_bool() != Some(true) {
        c.err(c.value.span(), format!("`{v}` expects true"), c.hint());
        return None;
    }
    let allow = c.ctx.allow_list(c.arg("allow"))?;
    let console_errors = v == "expect_no_console_errors";
    let check = SignalCheck { console_errors, failed_requests: !console_errors, allow, from_suite: false };
    Some(StepKind::Expect(Expectation::NoSignals(check)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{SelectorOverrides, SourceFile};

    /// Every verb's own example, parsed, is a step of that verb, and only `expect_*`
    /// verbs are expectations.
    #[test]
    fn every_verb_example_parses_to_its_own_verb() {
        let steps: Vec<&str> = VERBS.iter().map(|v| &v.example[..=v.example.find('}').unwrap_or(0)]).collect();
        let text = format!(
            "[selectors]\nitem_input = \"#id_text\"\nerror = \".invalid-feedback\"\n\n\
             [[scenario]]\nname = \"every verb\"\nsteps = [\n{}\n]\n",
            steps.join(",\n")
        );
        // `upload`'s example names a file next to the spec: one is there.
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("files")).expect("mkdir");
        std::fs::write(dir.path().join("files/avatar.png"), b"png").expect("write");
        let display = dir.path().join("verbs.toml").display().to_string();
        let file = SourceFile { display, stem: "verbs".into(), text };
        let suite = super::super::parse::check_files(&[file], &SelectorOverrides::new(), &Default::default())
            .unwrap_or_else(|e| panic!("the examples should parse: {e}"));
        let parsed = &suite.scenarios[0].steps;
        assert_eq!(parsed.len(), VERBS.len());
        for (verb, step) in VERBS.iter().zip(parsed) {
            assert_eq!(step.verb, verb.name);
            assert_eq!(step.kind.is_expectation(), verb.name.starts_with("expect_"), "{}", verb.name);
        }
    }

    #[test]
    fn verb_names_are_unique_and_no_argument_is_a_verb() {
        let mut names: Vec<&str> = VERBS.iter().map(|v| v.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), VERBS.len());
        // An argument may be a verb's name only where a step with both is never in doubt:
        // that verb does not take the first as an argument in turn (`fixture` takes
        // `capture`; `capture` does not take `fixture`).
        for v in VERBS {
            for (arg, _) in v.args {
                if let Some(other) = find(arg) {
                    assert!(
                        !other.args.iter().any(|(a, _)| *a == v.name),
                        "{} and {} take each other as arguments",
                        v.name,
                        other.name
                    );
                }
            }
        }
    }
}
