//! One step as written, being built (`Call`): what every verb's builder asks of it, its
//! value and arguments read as text, numbers, flags and selectors, each mistake reported
//! where it is written; the verb's entry it is built by (`Verb`), and what the scenario's
//! steps before it set (`Scope`).

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use crate::spec::check::{FileCtx, RawStep};
use crate::spec::values;
use crate::spec::{Selector, StepKind};

/// One verb of the language.
pub(crate) struct Verb {
    pub(crate) name: &'static str,
    /// What its value is, for messages: "a selector", "the text to type"...
    pub(crate) value: &'static str,
    /// Its argument keys (`true` = required).
    pub(crate) args: &'static [(&'static str, bool)],
    /// A correct step of this verb, shown in hints and in `ft man --verbs`.
    pub(crate) example: &'static str,
    pub(super) build: fn(&mut Call<'_, '_>) -> Option<StepKind>,
}

/// What a scenario's steps set, so far (in step order, through reusable steps).
#[derive(Debug, Default)]
pub(in crate::spec) struct Scope {
    /// URL names given by `remember_url`.
    pub(in crate::spec) remembered: Vec<String>,
    /// Values set by captures and fixtures (and, later, emails).
    pub(in crate::spec) values: Vec<String>,
}

/// One step as written, being built: the verb's entry, its value and its arguments.
pub(super) struct Call<'c, 'a> {
    pub(super) ctx: &'c FileCtx<'a>,
    pub(super) verb: &'static Verb,
    /// Where the verb's key is written.
    pub(super) at: Range<usize>,
    pub(super) value: &'c Spanned<toml::Value>,
    pub(super) table: &'c RawStep,
    pub(super) selectors: &'c BTreeMap<String, String>,
    /// What the scenario's steps before this one set.
    pub(super) scope: &'c mut Scope,
    /// This step uses values: its strings are kept as templates (see `Call::string`).
    pub(super) templated: bool,
}
impl Call<'_, '_> {
    pub(super) fn hint(&self) -> Option<String> {
        Some(format!("e.g. {}", self.verb.example))
    }

    pub(super) fn err(&self, span: Range<usize>, message: String, hint: Option<String>) {
        self.ctx.err(span, message, hint);
    }

    /// An argument; a required one was checked present before `build` runs.
    pub(super) fn arg(&self, name: &str) -> Option<&Spanned<toml::Value>> {
        self.table.iter().find(|(k, _)| k.get_ref() == name).map(|(_, v)| v)
    }

    /// A string of the step: in a step that uses values, the template as written (filled
    /// in at run time by `values::resolve`); else its text (`$${` read as `${`). Its
    /// values were checked by `check_templates`.
    pub(super) fn string(&self, val: &Spanned<toml::Value>, what: &str) -> Option<String> {
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
    pub(super) fn fixed_text(&self, val: &Spanned<toml::Value>, what: &str) -> Option<String> {
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
    pub(super) fn flag(&self) -> Option<()> {
        if self.value.get_ref().as_bool() == Some(true) {
            return Some(());
        }
        self.err(self.value.span(), format!("`{}` expects true", self.verb.name), self.hint());
        None
    }

    /// An optional argument that is true or false; `Some(None)` when it is not written.
    pub(super) fn bool_arg(&self, name: &str) -> Option<Option<bool>> {
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
    pub(super) fn text(&self) -> Option<String> {
        self.string(self.value, self.verb.value)
    }

    pub(super) fn number(&self, val: &Spanned<toml::Value>, what: &str) -> Option<f64> {
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
    pub(super) fn selector_of(&self, val: &Spanned<toml::Value>) -> Option<Selector> {
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
    pub(super) fn selector(&self) -> Option<Selector> {
        self.selector_of(self.value)
    }

    /// A required argument, as a selector.
    pub(super) fn selector_arg(&self, name: &str) -> Option<Selector> {
        self.selector_of(self.arg(name)?)
    }
}
