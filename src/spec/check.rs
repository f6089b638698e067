//! What the file checks and the verbs share: the checking context of one spec file
//! (`FileCtx`: positions and errors) and the checks of the values steps and settings
//! hold: selectors (`@name` or a locator), allow patterns, regular expressions.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::ops::Range;

use toml::Spanned;

use super::diag::{did_you_mean, Diagnostic, LineIndex};
use super::{Selector, SourceFile};

/// One step as written: `{ verb = value, arg = value, ... }`, every key and value spanned.
pub(super) type RawStep = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

const ALLOW_HINT: &str = "an allow pattern is a regular expression matched against a signal's text and URL; escape a literal `(`, `.` or `?` with a backslash (`\\\\(` in \"...\", `\\(` in '...'); the syntax is Rust's regex crate";

pub(super) fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
    }
}

/// What checking one file needs: where it is (for positions), the errors found so far,
/// and the `[selectors]` names known to be broken.
pub(super) struct FileCtx<'a> {
    pub(super) file: &'a SourceFile,
    pub(super) index: &'a LineIndex<'a>,
    pub(super) errors: RefCell<Vec<Diagnostic>>,
    /// `[selectors]` names whose value was reported as wrong: using them is no new error.
    pub(super) broken: RefCell<HashSet<String>>,
    /// The fixtures steps and hooks may name (ft.toml's and the embedded defaults).
    pub(super) fixtures: &'a super::fixture::Fixtures,
}

impl FileCtx<'_> {
    pub(super) fn err(&self, span: Range<usize>, message: String, hint: Option<String>) {
        self.errors.borrow_mut().push(Diagnostic::indexed(&self.file.display, self.index, span, message, hint));
    }

    /// An allow pattern written at `span`; a bad one is reported there.
    pub(super) fn pattern(&self, pattern: &str, span: Range<usize>) -> Option<regex::Regex> {
        match regex::Regex::new(pattern) {
            Ok(re) => Some(re),
            Err(e) => {
                self.err(
                    span,
                    format!("bad allow pattern {}: {}", super::diag::quote(pattern), regex_detail(&e)),
                    Some(ALLOW_HINT.into()),
                );
                None
            }
        }
    }

    /// A step's `allow`: one pattern or a list; each string's position is found in the
    /// list's text so that a bad pattern is reported where it is written.
    pub(super) fn allow_list(&self, value: Option<&Spanned<toml::Value>>) -> Option<Vec<regex::Regex>> {
        let Some(value) = value else { return Some(Vec::new()) };
        let strings: Vec<&str> = match value.get_ref() {
            toml::Value::String(one) => vec![one.as_str()],
            toml::Value::Array(items) if items.iter().all(|i| i.is_str()) => {
                items.iter().filter_map(|i| i.as_str()).collect()
            }
            _ => {
                self.err(
                    value.span(),
                    "`allow` expects a pattern or a list of patterns (text)".into(),
                    Some(ALLOW_HINT.into()),
                );
                return None;
            }
        };
        let text = &self.file.text[value.span()];
        let mut from = 0;
        let mut patterns = Vec::new();
        let mut ok = true;
        for pattern in strings {
            let found = text[from..].find(pattern).map(|i| from + i);
            let span = match found {
                Some(i) if !pattern.is_empty() => {
                    from = i + pattern.len();
                    value.span().start + i..value.span().start + i + pattern.len()
                }
                _ => value.span(),
            };
            match self.pattern(pattern, span) {
                Some(re) => patterns.push(re),
                None => ok = false,
            }
        }
        ok.then_some(patterns)
    }

    pub(super) fn selector(
        &self,
        text: &str,
        span: Range<usize>,
        selectors: &BTreeMap<String, String>,
    ) -> Option<Selector> {
        if let Some(name) = text.strip_prefix('@') {
            match selectors.get(name) {
                // Checked where it is defined (or overridden), and reported there; one
                // written with values is filled in and checked when its step runs (the
                // step's check saw that each is set before it).
                Some(written) => {
                    let name = Some(name.to_string());
                    match super::values::parse(written) {
                        Ok(t) if !t.is_plain() => Some(Selector {
                            locator: super::locator::Locator(Vec::new()),
                            name,
                            template: Some(written.clone()),
                        }),
                        // `$${` stands for `${`.
                        Ok(t) => super::locator::parse(&t.text()).ok().map(|locator| Selector {
                            locator,
                            name,
                            template: None,
                        }),
                        Err(_) => None,
                    }
                }
                None if self.broken.borrow().contains(name) => None,
                None => {
                    let names: Vec<String> = selectors.keys().cloned().collect();
                    let hint = match did_you_mean(name, names.iter().map(String::as_str)) {
                        Some(s) => format!("did you mean `@{s}`?"),
                        None => {
                            format!("define it under [selectors] in this file; named here: {}", list_or_none(&names))
                        }
                    };
                    self.err(span, format!("unknown selector name `@{name}`"), Some(hint));
                    None
                }
            }
        } else if text.trim().is_empty() {
            self.err(
                span,
                "empty selector".into(),
                Some("give a locator such as \"#id_text\", \"text=Get help\" or a name such as \"@item_input\"".into()),
            );
            None
        } else {
            self.locator(text, span).map(|locator| Selector { locator, name: None, template: None })
        }
    }

    /// Check a locator written at `span` (a TOML string); `None` when refused.
    pub(super) fn locator(&self, text: &str, span: Range<usize>) -> Option<super::locator::Locator> {
        match super::locator::parse(text) {
            Ok(locator) => Some(locator),
            Err(e) => {
                self.err(span, e.message(None), Some(e.hint()));
                None
            }
        }
    }
}

/// The last line of the regex crate's error: what is wrong, without its drawing.
pub(super) fn regex_detail(e: &regex::Error) -> String {
    e.to_string().lines().last().unwrap_or("").trim().trim_start_matches("error: ").to_string()
}
