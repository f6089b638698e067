//! The builders of the expectations that need more than a selector or a text: rows,
//! URLs (a pattern, or one remembered earlier), centring, counts and the signals checks.

use super::call::Call;
use crate::spec::check::regex_detail;
use crate::spec::diag::did_you_mean;
use crate::spec::{Expectation, SignalCheck, StepKind};

/// The table used by `expect_row` without `in`.
const DEFAULT_TABLE: &str = "list_table";
const DEFAULT_TOLERANCE: f64 = 10.0;
pub(super) fn expect_row(c: &mut Call<'_, '_>) -> Option<StepKind> {
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

pub(super) fn expect_url(c: &mut Call<'_, '_>) -> Option<StepKind> {
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

pub(super) fn expect_url_differs(c: &mut Call<'_, '_>) -> Option<StepKind> {
    remembered_url(c).map(|name| StepKind::Expect(Expectation::UrlDiffers(name)))
}

pub(super) fn expect_url_same(c: &mut Call<'_, '_>) -> Option<StepKind> {
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

pub(super) fn expect_centred(c: &mut Call<'_, '_>) -> Option<StepKind> {
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

pub(super) fn expect_count(c: &mut Call<'_, '_>) -> Option<StepKind> {
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

pub(super) fn expect_no_signals(c: &mut Call<'_, '_>) -> Option<StepKind> {
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
