//! The builders of the verbs that act and need more than a selector or a text: where a
//! visit goes, keys, cookies, uploads, dialogs, tabs, visitors and the window's size.

use toml::Spanned;

use super::call::Call;
use crate::spec::check::{FileCtx, RawStep};
use crate::spec::{Action, Chord, Cookie, StepKind, Tab};

pub(super) fn visit(c: &mut Call<'_, '_>) -> Option<StepKind> {
    let written = c.text()?;
    // A template is checked once its values are filled in (`spec::visit` again, at run time).
    let why = match (c.templated, crate::spec::visit::destination(&written)) {
        (true, _) if crate::spec::visit::may_become_one(&written) => None,
        (true, _) => Some(crate::spec::visit::NEITHER.to_string()),
        (false, Ok(_)) => None,
        (false, Err(why)) => Some(why),
    };
    if let Some(why) = why {
        let shown = crate::shared::redact::redact(&written);
        let why = if why == crate::spec::visit::NEITHER { String::new() } else { format!(": {why}") };
        c.err(
            c.value.span(),
            format!("`visit` takes {}, found {shown:?}{why}", crate::spec::visit::WHAT),
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

pub(super) fn press(c: &mut Call<'_, '_>) -> Option<StepKind> {
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

pub(super) fn set_cookie(c: &mut Call<'_, '_>) -> Option<StepKind> {
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

pub(super) fn upload(c: &mut Call<'_, '_>) -> Option<StepKind> {
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

pub(super) fn dialog(c: &mut Call<'_, '_>) -> Option<StepKind> {
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

pub(super) fn tab(c: &mut Call<'_, '_>) -> Option<StepKind> {
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

pub(super) fn new_visitor(c: &mut Call<'_, '_>) -> Option<StepKind> {
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

pub(super) fn visitor(c: &mut Call<'_, '_>) -> Option<StepKind> {
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
pub(in crate::spec) fn count_visitor(
    ctx: &FileCtx<'_>,
    raw: &Spanned<RawStep>,
    kind: &StepKind,
    met: &mut Vec<String>,
) {
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

pub(super) fn window_size(c: &mut Call<'_, '_>) -> Option<StepKind> {
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
