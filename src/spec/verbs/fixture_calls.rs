//! The builders of fixture calls: the `fixture` step (every argument one of its
//! command's placeholders, every placeholder given) and the `[suite]` hooks.

use std::ops::Range;

use toml::Spanned;

use super::call::Call;
use super::captures::{regex_arg, settable_name};
use crate::spec::check::FileCtx;
use crate::spec::diag::did_you_mean;
use crate::spec::fixture::{self, Fixture, FixtureCall, Hook};
use crate::spec::{Action, StepKind};

/// The verb of fixture steps and of the `[suite]` hooks, the one verb whose other keys
/// are not its own: they are its command's placeholders.
pub(crate) const FIXTURE: &str = "fixture";

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
pub(super) fn fixture(c: &mut Call<'_, '_>) -> Option<StepKind> {
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

fn list_placeholders(names: &[&str]) -> String {
    names.iter().map(|n| format!("{{{n}}}")).collect::<Vec<_>>().join(", ")
}

/// A `[suite]` hook naming `name`: a known fixture whose command takes no arguments.
pub(in crate::spec) fn hook(ctx: &FileCtx<'_>, name: &Spanned<String>, hook: Hook) -> Option<FixtureCall> {
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
