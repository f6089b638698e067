//! Each expectation as a predicate: what one look inspects, and how what it saw is judged
//! (`Ok`, or what was seen instead, in words for the failure message).

use super::Inspect;
use crate::browser::Inspection;
use crate::runner::clip;
use crate::runner::ScenarioState;
use crate::shared::locator::Part;
use crate::shared::redact::without_userinfo;
use crate::spec::{Expectation, Selector};

/// Judges one inspection: `Ok` when the expectation holds, else what was seen instead.
pub(super) type Judge<'a> = Box<dyn Fn(&Inspection) -> Result<(), String> + Send + Sync + 'a>;

/// An expectation as data: what to inspect and how to judge it.
pub(super) struct Predicate<'a> {
    pub(super) inspect: Inspect,
    pub(super) judge: Judge<'a>,
}

impl<'a> Predicate<'a> {
    fn new(inspect: Inspect, judge: impl Fn(&Inspection) -> Result<(), String> + Send + Sync + 'a) -> Self {
        Predicate { inspect, judge: Box::new(judge) }
    }
}

pub(super) fn predicate<'a>(expectation: &'a Expectation, state: &ScenarioState) -> Option<Predicate<'a>> {
    Some(match expectation {
        Expectation::Title(want) => title(want),
        Expectation::Present(sel) => present(sel),
        Expectation::Absent(sel) => absent(sel),
        Expectation::Text { of, equals } => text(of, equals),
        Expectation::TextContains { of, contains } => text_contains(of, contains),
        Expectation::Visible(sel) => visible(sel),
        Expectation::Hidden(sel) => hidden(sel),
        Expectation::Row { table, text } => row(table, text),
        Expectation::PageText(want) => page_text(want),
        Expectation::NoText(unwanted) => no_text(unwanted),
        Expectation::Attribute { of, name, equals } => attribute(of, name, equals),
        Expectation::Url(re) => url(re),
        // The URL remembered earlier is read now: the step compares against it as it was.
        Expectation::UrlDiffers(name) => url_differs(name, state.urls.get(name).cloned().unwrap_or_default()),
        Expectation::UrlSame(name) => url_same(name, state.urls.get(name).cloned().unwrap_or_default()),
        Expectation::Centred { of, at, tolerance } => centred(of, *at, *tolerance),
        Expectation::Count { of, count } => count_of(of, *count),
        Expectation::Value { of, equals } => value(of, equals),
        Expectation::Checked(sel) => checked(sel, true),
        Expectation::Unchecked(sel) => checked(sel, false),
        Expectation::Enabled(sel) => enabled(sel, true),
        Expectation::Disabled(sel) => enabled(sel, false),
        Expectation::Focused(sel) => focused(sel),
        Expectation::NoSignals(_) | Expectation::Cookie { .. } | Expectation::NoCookie(_) => return None,
    })
}

/// `expect_title`: the title contains `want`.
fn title(want: &str) -> Predicate<'_> {
    Predicate::new(Inspect::page(), move |seen| {
        if seen.title.contains(want) {
            Ok(())
        } else {
            Err(format!("the title was {:?}", seen.title))
        }
    })
}

/// `expect_present`: at least one element matches.
fn present(sel: &Selector) -> Predicate<'_> {
    Predicate::new(
        Inspect::element(&sel.locator),
        move |seen| {
            if seen.count > 0 {
                Ok(())
            } else {
                Err(no_match(sel, seen))
            }
        },
    )
}

/// `expect_absent`: no element matches.
fn absent(sel: &Selector) -> Predicate<'_> {
    Predicate::new(Inspect::element(&sel.locator), move |seen| {
        if seen.count == 0 {
            Ok(())
        } else {
            Err(format!("{} element(s) match {sel}", seen.count))
        }
    })
}

/// `expect_text`: the first match's text is exactly `equals`.
fn text<'a>(of: &'a Selector, equals: &'a str) -> Predicate<'a> {
    Predicate::new(Inspect::element(&of.locator), move |seen| match &seen.text {
        Some(t) if t == equals => Ok(()),
        Some(t) => Err(format!("the text of {of} was {t:?}")),
        None => Err(no_match(of, seen)),
    })
}

/// `expect_text_contains`: the first match's text contains `contains`.
fn text_contains<'a>(of: &'a Selector, contains: &'a str) -> Predicate<'a> {
    Predicate::new(Inspect::element(&of.locator), move |seen| match &seen.text {
        Some(t) if t.contains(contains) => Ok(()),
        Some(t) => Err(format!("the text of {of} was {t:?}")),
        None => Err(no_match(of, seen)),
    })
}

/// `expect_visible`: the first match is rendered.
fn visible(sel: &Selector) -> Predicate<'_> {
    Predicate::new(Inspect::element(&sel.locator), move |seen| match seen.visible {
        Some(true) => Ok(()),
        Some(false) => {
            Err(format!("{sel} is on the page but hidden (text {:?})", seen.text.clone().unwrap_or_default()))
        }
        None => Err(no_match(sel, seen)),
    })
}

/// `expect_hidden`: the first match is on the page but not rendered.
fn hidden(sel: &Selector) -> Predicate<'_> {
    Predicate::new(Inspect::element(&sel.locator), move |seen| match seen.visible {
        Some(false) => Ok(()),
        Some(true) => Err(format!("{sel} is still visible, showing {:?}", seen.text.clone().unwrap_or_default())),
        None => Err(no_match(sel, seen)),
    })
}

/// `expect_row`: some row of `table` reads exactly `text`.
fn row<'a>(table: &'a Selector, text: &'a str) -> Predicate<'a> {
    let rows = table.locator.then(Part::Css("tr".into()));
    Predicate::new(Inspect::elements(rows), move |seen| {
        if seen.texts.iter().any(|t| t == text) {
            Ok(())
        } else if seen.count == 0 {
            Err(format!("no rows in {table} on {} (title {:?})", seen.url, seen.title))
        } else {
            Err(format!("the rows were {}", quote_list(&seen.texts)))
        }
    })
}

/// `expect_page_text`: the page's text contains `want`.
fn page_text(want: &str) -> Predicate<'_> {
    Predicate::new(Inspect::page_text(), move |seen| {
        let body = seen.texts.first().map(String::as_str).unwrap_or("");
        if body.contains(want) {
            Ok(())
        } else {
            Err(format!("the page text was {:?}", clip(body)))
        }
    })
}

/// `expect_no_text`: the page's text does not contain `unwanted`.
fn no_text(unwanted: &str) -> Predicate<'_> {
    Predicate::new(Inspect::page_text(), move |seen| {
        let body = seen.texts.first().map(String::as_str).unwrap_or("");
        if body.contains(unwanted) {
            Err(format!("the page still shows it: {:?}", clip(body)))
        } else {
            Ok(())
        }
    })
}

/// `expect_attribute`: the first match's attribute `name` is exactly `equals`.
fn attribute<'a>(of: &'a Selector, name: &'a str, equals: &'a str) -> Predicate<'a> {
    Predicate::new(Inspect::attribute(&of.locator, name), move |seen| match (&seen.attr, seen.count) {
        (Some(v), _) if v == equals => Ok(()),
        (Some(v), _) => Err(format!("{name} of {of} was {v:?}")),
        (None, 0) => Err(no_match(of, seen)),
        (None, _) => Err(format!("{of} has no {name} attribute")),
    })
}

/// `expect_url`: the URL (without user info) matches `re`.
fn url(re: &regex::Regex) -> Predicate<'_> {
    Predicate::new(Inspect::page(), move |seen| {
        let url = without_userinfo(&seen.url);
        if re.is_match(&url) {
            Ok(())
        } else {
            Err(format!("the URL was {url}"))
        }
    })
}

/// `expect_url_differs`: the URL is no longer `earlier`, the one remembered as `name`;
/// both without user info, or a target URL with credentials could never compare equal.
fn url_differs(name: &str, earlier: String) -> Predicate<'_> {
    let earlier = without_userinfo(&earlier);
    Predicate::new(Inspect::page(), move |seen| {
        if without_userinfo(&seen.url) != earlier {
            Ok(())
        } else {
            Err(format!("the URL is still {earlier}, the one remembered as {name:?}"))
        }
    })
}

/// `expect_url_same`: the URL is the one remembered as `name` (user info aside).
fn url_same(name: &str, earlier: String) -> Predicate<'_> {
    let earlier = without_userinfo(&earlier);
    Predicate::new(Inspect::page(), move |seen| {
        let now = without_userinfo(&seen.url);
        if now == earlier {
            Ok(())
        } else {
            Err(format!("the URL was {now}, not {earlier} (the one remembered as {name:?})"))
        }
    })
}

/// `expect_centred`: the first match's horizontal centre is within `tolerance` of `at`.
fn centred(of: &Selector, at: f64, tolerance: f64) -> Predicate<'_> {
    Predicate::new(Inspect::element(&of.locator), move |seen| match seen.centre_x {
        Some(x) if (x - at).abs() <= tolerance => Ok(()),
        Some(x) => Err(format!("the centre of {of} was at x={x:.1}, {:.1}px off", (x - at).abs())),
        None => Err(no_match(of, seen)),
    })
}

/// `expect_count`: exactly `want` elements match (0 included: it waits for them to go).
fn count_of(of: &Selector, want: usize) -> Predicate<'_> {
    Predicate::new(Inspect::element(&of.locator), move |seen| {
        if seen.count == want {
            Ok(())
        } else {
            Err(format!("{} element(s) match {of}{}", seen.count, first_few(seen)))
        }
    })
}

/// `expect_value`: the first match's current value is exactly `equals`.
fn value<'a>(of: &'a Selector, equals: &'a str) -> Predicate<'a> {
    Predicate::new(Inspect::element(&of.locator), move |seen| match (&seen.value, seen.count) {
        (Some(v), _) if v == equals => Ok(()),
        (Some(v), _) => Err(format!("the value of {of} was {v:?}")),
        (None, 0) => Err(no_match(of, seen)),
        (None, _) => Err(format!("{of} has no value: it is not an input, select or textarea")),
    })
}

/// `expect_checked` (`want`) and `expect_unchecked`.
fn checked(sel: &Selector, want: bool) -> Predicate<'_> {
    Predicate::new(Inspect::element(&sel.locator), move |seen| match (seen.checked, seen.count) {
        (Some(is), _) if is == want => Ok(()),
        (Some(true), _) => Err(format!("{sel} is checked")),
        (Some(false), _) => Err(format!("{sel} is not checked")),
        (None, 0) => Err(no_match(sel, seen)),
        (None, _) => Err(format!("{sel} cannot be checked: it is not a checkbox or radio (nor has aria-checked)")),
    })
}

/// `expect_enabled` (`want`) and `expect_disabled`.
fn enabled(sel: &Selector, want: bool) -> Predicate<'_> {
    Predicate::new(Inspect::element(&sel.locator), move |seen| match seen.enabled {
        Some(is) if is == want => Ok(()),
        Some(true) => Err(format!("{sel} is enabled")),
        Some(false) => Err(format!("{sel} is disabled")),
        None => Err(no_match(sel, seen)),
    })
}

/// `expect_focused`: the first match is the element with the focus.
fn focused(sel: &Selector) -> Predicate<'_> {
    Predicate::new(Inspect::element(&sel.locator), move |seen| match seen.focused {
        Some(true) => Ok(()),
        Some(false) => Err(format!("{sel} does not have the focus")),
        None => Err(no_match(sel, seen)),
    })
}

/// With several matches, the first ones: ": <a href=…>Get help</a>, <span>Get help</span>, …".
pub(in crate::runner) fn first_few(seen: &Inspection) -> String {
    if seen.several.is_empty() {
        return String::new();
    }
    let more = if seen.count > seen.several.len() { ", …" } else { "" };
    format!(": {}{more}", seen.several.iter().map(|s| clip(s)).collect::<Vec<_>>().join(", "))
}

/// Why nothing matched, with where the browser was (an HTTP error page explains a lot).
pub(in crate::runner) fn no_match(sel: &Selector, seen: &Inspection) -> String {
    let status = seen.status.filter(|s| *s >= 400).map(|s| format!("HTTP {s}, ")).unwrap_or_default();
    format!("no element matches {sel} on {} ({status}title {:?})", seen.url, seen.title)
}

fn quote_list(texts: &[String]) -> String {
    let shown: Vec<String> = texts.iter().take(20).map(|t| format!("{t:?}")).collect();
    let more = if texts.len() > 20 { format!(" and {} more", texts.len() - 20) } else { String::new() };
    format!("[{}]{more}", shown.join(", "))
}
