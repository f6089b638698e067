//! The verbs of the spec language, in one table: each verb's name, what its value is, its
//! argument keys, an example, and how its step is built. The parser (`step`), its hints,
//! `ft man --verbs` (which the docs test reads) and the step's own `verb` all come from
//! here: a new verb is one entry and its `build` function.
//!
//! The table and the reading of one step are here; the builders that need more than a
//! line live by family: `actions`, `expectations`, `captures`, `fixture_calls`; the step
//! being built is a `Call` by a `Verb` (`call`), and the values its strings use are checked by
//! `templates`.

mod actions;
mod call;
mod captures;
mod expectations;
mod fixture_calls;
mod templates;

use std::collections::BTreeMap;

use toml::Spanned;

use super::check::{FileCtx, RawStep};
use super::diag::did_you_mean;
use super::{Action, Expectation, StepKind};
use actions::{dialog, new_visitor, press, set_cookie, tab, upload, visit, visitor, window_size};
use call::{Call, Verb};
use captures::capture;
use expectations::{
    expect_centred, expect_count, expect_no_signals, expect_row, expect_url, expect_url_differs, expect_url_same,
};
use fixture_calls::fixture;

pub(super) use call::Scope;
pub(crate) use fixture_calls::FIXTURE;

pub(super) use actions::count_visitor;
pub(super) use fixture_calls::hook;
pub(super) use templates::check_templates;

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

/// The verb of the suite's own signals check (`[suite] signals`), which no step names.
pub(crate) const SUITE_SIGNALS: &str = "signals";

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
