//! The values a step's strings use (`${name}`), checked at load: the syntax, the
//! built-ins, and that each is set by an earlier step; each problem at its `${`.

use std::collections::BTreeMap;
use std::ops::Range;

use super::call::Scope;
use crate::spec::check::{FileCtx, RawStep};
use crate::spec::diag::did_you_mean;
use crate::spec::values::{self, Kind};

/// Check the values every string of a step uses: the syntax, the built-ins, and that a
/// value is set by an earlier step. Each problem is reported at its `${`. Answers whether
/// the step uses any value (`None`: a problem was reported).
pub(in crate::spec) fn check_templates(
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
