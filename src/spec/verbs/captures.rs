//! The builders of the steps that set a value: `capture` (from the URL, an element, a
//! count or an email) and the names and patterns a fixture step shares with it.

use toml::Spanned;

use super::call::Call;
use crate::spec::check::regex_detail;
use crate::spec::values::{self, Kind};
use crate::spec::{Action, Capture, CaptureFrom, StepKind};

/// `{ capture = NAME, from = "url" | text_of = SEL | attribute = A, of = SEL | count_of = SEL
/// | from_email = ADDRESS, subject = SUBJECT (optional timeout) }`, optional `regex` and `secret`.
pub(super) fn capture(c: &mut Call<'_, '_>) -> Option<StepKind> {
    let name = c.fixed_text(c.value, "the value's name")?;
    let plain = name.chars().next().is_some_and(|ch| ch.is_ascii_alphabetic() || ch == '_')
        && name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
    if !plain {
        c.err(
            c.value.span(),
            format!("{} is not a value's name", crate::spec::diag::quote(&name)),
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
pub(super) fn settable_name(c: &Call<'_, '_>, val: &Spanned<toml::Value>) -> Option<String> {
    let name = c.fixed_text(val, "the value's name")?;
    let plain = name.chars().next().is_some_and(|ch| ch.is_ascii_alphabetic() || ch == '_')
        && name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
    if !plain {
        c.err(
            val.span(),
            format!("{} is not a value's name", crate::spec::diag::quote(&name)),
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

/// The optional `regex` of a capture or a fixture step: `Some(None)` when there is none,
/// `None` when it is wrong (reported).
pub(super) fn regex_arg(c: &mut Call<'_, '_>) -> Option<Option<regex::Regex>> {
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
