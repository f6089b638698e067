//! A locator as data: how to find elements on a page the way a person would (by text, by
//! role and accessible name, by label, placeholder or test id) or by CSS, and chains of
//! them (`A >> B`). The spec language builds it (`spec::locator` parses and checks it at
//! load) and the browser's one inspection script evaluates it: it lives down here so that
//! neither of those two rooms imports the other.

use std::fmt;

/// One or more parts; each part after the first is looked for inside every match of
/// the part before it (`#id_list_table >> text=1: Buy milk`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Locator(pub Vec<Part>);

/// One way of finding elements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// A CSS selector, as `querySelectorAll` takes it.
    Css(String),
    /// Elements whose rendered text (whitespace collapsed, trimmed) is `text` (`exact`)
    /// or contains it; the innermost such element.
    Text { text: String, exact: bool },
    /// Elements of an ARIA role (explicit or implicit), with an accessible name that is
    /// (`exact`) or contains the given one.
    Role { role: String, name: Option<(String, bool)> },
    /// The form control labelled so (`<label>`, `aria-labelledby`, `aria-label`).
    Label { text: String, exact: bool },
    /// Elements whose `placeholder` is exactly this.
    Placeholder(String),
    /// Elements whose `data-testid` is exactly this.
    TestId(String),
}

impl Locator {
    /// Plain CSS, as every selector was before locators.
    #[cfg(test)]
    pub fn css(css: &str) -> Locator {
        Locator(vec![Part::Css(css.to_string())])
    }

    /// This locator, then `more` inside its matches.
    pub fn then(&self, more: Part) -> Locator {
        let mut parts = self.0.clone();
        parts.push(more);
        Locator(parts)
    }

    /// What the inspection script takes: one small array per part, `[engine, value, ...]`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        let parts: Vec<serde_json::Value> = self
            .0
            .iter()
            .map(|part| match part {
                Part::Css(css) => json!(["css", css]),
                Part::Text { text, exact } => json!(["text", text, exact]),
                Part::Role { role, name: None } => json!(["role", role]),
                Part::Role { role, name: Some((name, exact)) } => json!(["role", role, name, exact]),
                Part::Label { text, exact } => json!(["label", text, exact]),
                Part::Placeholder(text) => json!(["placeholder", text]),
                Part::TestId(id) => json!(["testid", id]),
            })
            .collect();
        serde_json::Value::Array(parts)
    }
}

impl fmt::Display for Part {
    /// As it would be written (plain CSS without `css=`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let star = |exact: &bool| if *exact { "" } else { "*" };
        match self {
            Part::Css(css) => f.write_str(css.trim()),
            Part::Text { text, exact } => write!(f, "text{}={text}", star(exact)),
            Part::Role { role, name: None } => write!(f, "role={role}"),
            Part::Role { role, name: Some((name, exact)) } => {
                write!(f, "role={role}[name{}=\"{}\"]", star(exact), name.replace('\\', "\\\\").replace('"', "\\\""))
            }
            Part::Label { text, exact } => write!(f, "label{}={text}", star(exact)),
            Part::Placeholder(text) => write!(f, "placeholder={text}"),
            Part::TestId(id) => write!(f, "testid={id}"),
        }
    }
}

impl fmt::Display for Locator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, part) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" >> ")?;
            }
            fmt::Display::fmt(part, f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_locator_shows_as_it_is_written() {
        let loc = Locator::css("#id_list_table").then(Part::Text { text: "1: Buy milk".into(), exact: true });
        assert_eq!(loc.to_string(), "#id_list_table >> text=1: Buy milk");
        let role = Part::Role { role: "link".into(), name: Some(("My \"lists\"".into(), false)) };
        assert_eq!(role.to_string(), "role=link[name*=\"My \\\"lists\\\"\"]");
        assert_eq!(loc.to_json(), serde_json::json!([["css", "#id_list_table"], ["text", "1: Buy milk", true]]));
    }
}
