//! Locators as written in a spec (`text=Get help`, `role=link[name="My lists"]`,
//! `label=Email`, `placeholder=…`, `testid=…`, `css=…` or plain CSS, chained with `>>`),
//! parsed and checked at load: an unknown engine, an unknown role, a malformed name
//! filter, empty text or CSS no browser accepts is a spec error, not a step that waits
//! for nothing at run time. The parsed form is `shared::locator::Locator`, which the
//! browser's inspection script evaluates.

use super::css::{self, CssError};
use super::diag::{did_you_mean, quote};
pub use crate::shared::locator::{Locator, Part};

/// The engines a part may name, as written before `=`.
pub const ENGINES: &[&str] = &["css", "text", "role", "label", "placeholder", "testid"];

/// What the hints list: every way to write a locator.
const FORMS: &str =
    "locators: css=…, text=…, text*=…, role=ROLE[name=\"…\"], label=…, label*=…, placeholder=…, testid=…, or plain CSS";

const CSS_HINT: &str = "browsers would refuse it, so every step using it would fail; check it in the browser's console with document.querySelectorAll(...)";

/// The roles of WAI-ARIA 1.2, its graphics module, and those HTML-AAM gives elements
/// (`generic`, `time`...): a role outside this list matches nothing in any browser.
pub const ROLES: &[&str] = &[
    "alert",
    "alertdialog",
    "application",
    "article",
    "banner",
    "blockquote",
    "button",
    "caption",
    "cell",
    "checkbox",
    "code",
    "columnheader",
    "combobox",
    "comment",
    "complementary",
    "contentinfo",
    "definition",
    "deletion",
    "dialog",
    "directory",
    "document",
    "emphasis",
    "feed",
    "figure",
    "form",
    "generic",
    "graphics-document",
    "graphics-object",
    "graphics-symbol",
    "grid",
    "gridcell",
    "group",
    "heading",
    "img",
    "insertion",
    "link",
    "list",
    "listbox",
    "listitem",
    "log",
    "main",
    "mark",
    "marquee",
    "math",
    "menu",
    "menubar",
    "menuitem",
    "menuitemcheckbox",
    "menuitemradio",
    "meter",
    "navigation",
    "none",
    "note",
    "option",
    "paragraph",
    "presentation",
    "progressbar",
    "radio",
    "radiogroup",
    "region",
    "row",
    "rowgroup",
    "rowheader",
    "scrollbar",
    "search",
    "searchbox",
    "separator",
    "slider",
    "spinbutton",
    "status",
    "strong",
    "subscript",
    "suggestion",
    "superscript",
    "switch",
    "tab",
    "table",
    "tablist",
    "tabpanel",
    "term",
    "textbox",
    "time",
    "timer",
    "toolbar",
    "tooltip",
    "tree",
    "treegrid",
    "treeitem",
];

/// Why a locator was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocatorError {
    /// A CSS part a browser would refuse.
    Css { css: String, error: CssError },
    /// Anything else, said in full, with its hint.
    Other { what: String, hint: String },
}

impl LocatorError {
    /// The message; `whose` names the `[selectors]` entry or override it was given for.
    pub fn message(&self, whose: Option<&str>) -> String {
        match (self, whose) {
            (LocatorError::Css { css, error }, None) => format!("invalid CSS selector {}: {error}", quote(css)),
            (LocatorError::Css { error, .. }, Some(name)) => format!("invalid CSS selector for `{name}`: {error}"),
            (LocatorError::Other { what, .. }, None) => what.clone(),
            (LocatorError::Other { what, .. }, Some(name)) => format!("invalid selector for `{name}`: {what}"),
        }
    }

    pub fn hint(&self) -> String {
        match self {
            LocatorError::Css { .. } => CSS_HINT.into(),
            LocatorError::Other { hint, .. } => hint.clone(),
        }
    }
}

fn other(what: String, hint: impl Into<String>) -> LocatorError {
    LocatorError::Other { what, hint: hint.into() }
}

/// Parse and check a locator as written.
pub fn parse(text: &str) -> Result<Locator, LocatorError> {
    let pieces = split_chain(text);
    let chained = pieces.len() > 1;
    let mut parts = Vec::with_capacity(pieces.len());
    for piece in pieces {
        let piece = piece.trim();
        if piece.is_empty() {
            let what = if chained {
                format!("a part of the chain {} is empty", quote(text))
            } else {
                "empty selector".to_string()
            };
            return Err(other(what, "write A >> B, each a locator: e.g. \"#id_list_table >> text=1: Buy milk\""));
        }
        parts.push(part(piece)?);
    }
    Ok(Locator(parts))
}

/// `A >> B >> C` split at each `>>` outside double quotes (a `[name="a >> b"]` or a CSS
/// attribute value may hold one; `>>` is never valid CSS elsewhere).
fn split_chain(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if escaped {
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            quoted = !quoted;
        } else if !quoted && b == b'>' && bytes.get(i + 1) == Some(&b'>') {
            pieces.push(&text[start..i]);
            start = i + 2;
            i += 1;
        }
        i += 1;
    }
    pieces.push(&text[start..]);
    pieces
}

/// One part: `engine=value`, `engine*=value`, or plain CSS.
fn part(piece: &str) -> Result<Part, LocatorError> {
    let Some((engine, contains, value)) = engine_prefix(piece) else {
        return css_part(piece);
    };
    let star = if contains { "*" } else { "" };
    if !ENGINES.contains(&engine.as_str()) {
        // A swap of two letters (`lable=`) is the likeliest slip in a word this short.
        let letters = |w: &str| {
            let mut l: Vec<char> = w.chars().collect();
            l.sort_unstable();
            l
        };
        let near = did_you_mean(&engine, ENGINES.iter().copied())
            .or_else(|| ENGINES.iter().copied().find(|e| letters(e) == letters(&engine)));
        let hint = match near {
            Some(e) => format!("did you mean `{e}{star}=`? {FORMS}"),
            None => FORMS.to_string(),
        };
        return Err(other(format!("unknown locator `{engine}{star}=` in {}", quote(piece)), hint));
    }
    if contains && !matches!(engine.as_str(), "text" | "label") {
        return Err(other(
            format!("`{engine}*=` does not exist: only text*= and label*= match a part of the text"),
            format!("write {engine}=…; for a part of a role's name write role=ROLE[name*=\"…\"]"),
        ));
    }
    let exact = !contains;
    let text = normalise(value);
    let needs_text = |what: &str| {
        other(
            format!("`{engine}{star}=` needs {what}, found nothing after the `=`"),
            format!("e.g. {}", example(&engine)),
        )
    };
    Ok(match engine.as_str() {
        "css" => return css_part(value),
        "text" if text.is_empty() => return Err(needs_text("the text to find")),
        "text" => Part::Text { text, exact },
        "label" if text.is_empty() => return Err(needs_text("the label's text")),
        "label" => Part::Label { text, exact },
        "placeholder" if text.is_empty() => return Err(needs_text("the placeholder's text")),
        "placeholder" => Part::Placeholder(text),
        "testid" if value.trim().is_empty() => return Err(needs_text("the data-testid value")),
        "testid" => Part::TestId(value.trim().to_string()),
        _ => role(value)?,
    })
}

fn example(engine: &str) -> &'static str {
    match engine {
        "text" => "text=Get help",
        "label" => "label=Email address",
        "placeholder" => "placeholder=Enter a to-do item",
        "testid" => "testid=new-item",
        "role" => "role=button[name=\"Save\"]",
        _ => "css=#id_text",
    }
}

/// `word=` or `word*=` at the start (never valid CSS: CSS has no `=` outside brackets).
fn engine_prefix(piece: &str) -> Option<(String, bool, &str)> {
    let end = piece.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))?;
    let word = &piece[..end];
    if word.is_empty() || !word.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let rest = &piece[end..];
    if let Some(value) = rest.strip_prefix("*=") {
        Some((word.to_ascii_lowercase(), true, value))
    } else {
        rest.strip_prefix('=').map(|value| (word.to_ascii_lowercase(), false, value))
    }
}

fn css_part(css: &str) -> Result<Part, LocatorError> {
    if css.trim().is_empty() {
        return Err(other(
            "`css=` needs a CSS selector, found nothing after the `=`".into(),
            "e.g. css=#id_text".to_string(),
        ));
    }
    css::check(css).map_err(|error| LocatorError::Css { css: css.to_string(), error })?;
    Ok(Part::Css(css.to_string()))
}

/// `ROLE`, `ROLE[name="…"]` or `ROLE[name*="…"]` (single quotes too, `\"` inside).
fn role(value: &str) -> Result<Part, LocatorError> {
    let value = value.trim();
    let end = value.find('[').unwrap_or(value.len());
    let name = value[..end].trim().to_ascii_lowercase();
    if name.is_empty() {
        return Err(other(
            "`role=` needs a role, found nothing after the `=`".into(),
            "e.g. role=button, role=link[name=\"My lists\"]",
        ));
    }
    if !ROLES.contains(&name.as_str()) {
        let hint = match did_you_mean(&name, ROLES.iter().copied()) {
            Some(r) => format!("did you mean `{r}`?"),
            None => "roles are WAI-ARIA's: button, link, heading, textbox, checkbox, combobox, row, cell, dialog, …"
                .to_string(),
        };
        return Err(other(format!("unknown role `{name}`"), hint));
    }
    let filter = &value[end..];
    if filter.is_empty() {
        return Ok(Part::Role { role: name, name: None });
    }
    let malformed = || {
        other(
            format!("malformed name filter {} after role={name}", quote(filter)),
            format!(
                "write role={name}[name=\"…\"] (the exact accessible name) or role={name}[name*=\"…\"] (a part of it)"
            ),
        )
    };
    let inner = filter.strip_prefix('[').and_then(|f| f.strip_suffix(']')).ok_or_else(malformed)?.trim();
    let rest = inner.strip_prefix("name").ok_or_else(malformed)?.trim_start();
    let (exact, quoted) = match (rest.strip_prefix("*="), rest.strip_prefix('=')) {
        (Some(q), _) => (false, q.trim()),
        (None, Some(q)) => (true, q.trim()),
        _ => return Err(malformed()),
    };
    let text = unquote(quoted).ok_or_else(malformed)?;
    let text = normalise(&text);
    if text.is_empty() {
        return Err(other(
            format!("the name filter of role={name} is empty"),
            format!("give the accessible name, e.g. role={name}[name=\"Save\"], or leave the filter out"),
        ));
    }
    Ok(Part::Role { role: name, name: Some((text, exact)) })
}

/// `"…"` or `'…'`, with backslash escapes; nothing after the closing quote.
fn unquote(quoted: &str) -> Option<String> {
    let mut chars = quoted.chars();
    let open = chars.next().filter(|c| *c == '"' || *c == '\'')?;
    let mut out = String::new();
    let mut escaped = false;
    for c in chars.by_ref() {
        if escaped {
            out.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == open {
            return chars.next().is_none().then_some(out);
        } else {
            out.push(c);
        }
    }
    None
}

/// Whitespace runs as one space, trimmed: as the page's text is compared.
fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Locator {
        parse(text).unwrap_or_else(|e| panic!("{text:?} should parse: {}", e.message(None)))
    }

    fn refused(text: &str) -> String {
        match parse(text) {
            Ok(loc) => panic!("{text:?} should be refused, parsed as {loc:?}"),
            Err(e) => format!("{} | {}", e.message(None), e.hint()),
        }
    }

    #[test]
    fn every_engine_parses_to_its_part() {
        assert_eq!(ok("#id_text"), Locator::css("#id_text"));
        assert_eq!(ok("css=a[href='x=y']"), Locator::css("a[href='x=y']"));
        assert_eq!(ok("text=  Get   help "), Locator(vec![Part::Text { text: "Get help".into(), exact: true }]));
        assert_eq!(ok("text*=help"), Locator(vec![Part::Text { text: "help".into(), exact: false }]));
        assert_eq!(ok("label=Email address"), Locator(vec![Part::Label { text: "Email address".into(), exact: true }]));
        assert_eq!(ok("label*=Email"), Locator(vec![Part::Label { text: "Email".into(), exact: false }]));
        assert_eq!(ok("placeholder=you@example.com"), Locator(vec![Part::Placeholder("you@example.com".into())]));
        assert_eq!(ok("testid=new-item"), Locator(vec![Part::TestId("new-item".into())]));
        assert_eq!(ok("role=button"), Locator(vec![Part::Role { role: "button".into(), name: None }]));
        assert_eq!(
            ok("role=link[name=\"My lists\"]"),
            Locator(vec![Part::Role { role: "link".into(), name: Some(("My lists".into(), true)) }])
        );
        assert_eq!(
            ok("role=heading[name*='To-Do']"),
            Locator(vec![Part::Role { role: "heading".into(), name: Some(("To-Do".into(), false)) }])
        );
        assert_eq!(
            ok("role=button[name=\"Say \\\"hi\\\" >> now\"]"),
            Locator(vec![Part::Role { role: "button".into(), name: Some(("Say \"hi\" >> now".into(), true)) }])
        );
    }

    #[test]
    fn a_chain_splits_at_each_double_angle_outside_quotes() {
        let loc = ok("#id_list_table >> text=1: Buy milk");
        assert_eq!(
            loc.0,
            vec![Part::Css("#id_list_table".into()), Part::Text { text: "1: Buy milk".into(), exact: true }]
        );
        assert_eq!(ok("a[title=\">>\"]"), Locator::css("a[title=\">>\"]"));
        assert_eq!(ok("form >> role=button >> css=span").0.len(), 3);
        // What it shows is what was written.
        assert_eq!(loc.to_string(), "#id_list_table >> text=1: Buy milk");
    }

    #[test]
    fn mistakes_are_named_with_a_hint() {
        assert_eq!(
            refused("txt=Get help"),
            "unknown locator `txt=` in \"txt=Get help\" | did you mean `text=`? locators: css=…, text=…, text*=…, \
             role=ROLE[name=\"…\"], label=…, label*=…, placeholder=…, testid=…, or plain CSS"
        );
        assert!(refused("lbel*=Email").starts_with("unknown locator `lbel*=`"), "{}", refused("lbel*=Email"));
        assert!(refused("lbel*=Email").contains("did you mean `label*=`?"));
        assert!(refused("lable=Email").contains("did you mean `label=`?"));
        assert!(refused("role=buton").starts_with("unknown role `buton` | did you mean `button`?"));
        assert!(refused("role=button[name=Save]").starts_with("malformed name filter \"[name=Save]\""));
        assert!(refused("role=button[label=\"Save\"]").starts_with("malformed name filter"));
        assert!(refused("role=button[name=\"Save\"").starts_with("malformed name filter"));
        assert!(refused("role=button[name=\"\"]").starts_with("the name filter of role=button is empty"));
        assert!(refused("text=").starts_with("`text=` needs the text to find"));
        assert!(refused("text*=   ").starts_with("`text*=` needs the text to find"));
        assert!(refused("placeholder*=x").starts_with("`placeholder*=` does not exist"));
        assert!(refused("role=").starts_with("`role=` needs a role"));
        assert!(refused("testid=").starts_with("`testid=` needs the data-testid value"));
        assert!(refused("#a >> ").starts_with("a part of the chain \"#a >> \" is empty"));
        assert!(refused("css=div[[[").starts_with("invalid CSS selector \"div[[[\": a malformed attribute"));
        assert!(refused("#a >> p:contains('x')").starts_with("invalid CSS selector \"p:contains('x')\""));
    }
}
