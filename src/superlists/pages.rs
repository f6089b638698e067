//! HTML pages, rendered to strings; every piece of visitor text goes through `escape`.

use std::fmt::Write as _;

use super::csrf;
use super::Defects;

/// The page furniture that the deliberate defects change.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Chrome {
    title: &'static str,
    container: &'static str,
    script: bool,
    required: bool,
    /// The `script-error` defect's tracking snippet.
    broken_tracker: bool,
}

impl From<Defects> for Chrome {
    fn from(defects: Defects) -> Chrome {
        Chrome {
            title: if defects.wrong_title { "Superlists" } else { "To-Do lists" },
            container: if defects.off_centre { "container off-centre" } else { "container" },
            script: !defects.error_not_cleared,
            required: !defects.accept_empty,
            broken_tracker: defects.script_error,
        }
    }
}

/// What is wrong with a submitted item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ItemError {
    Empty,
    Duplicate,
}

impl ItemError {
    pub(crate) fn message(self) -> &'static str {
        match self {
            ItemError::Empty => "You can't have an empty list item",
            ItemError::Duplicate => "You've already got this in your list",
        }
    }
}

/// The item input's state: blank, or re-shown with the submitted text and its error.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ItemInput<'a> {
    value: &'a str,
    error: Option<ItemError>,
}

impl<'a> ItemInput<'a> {
    pub(crate) fn blank() -> ItemInput<'static> {
        ItemInput { value: "", error: None }
    }

    pub(crate) fn invalid(value: &'a str, error: ItemError) -> ItemInput<'a> {
        ItemInput { value, error: Some(error) }
    }
}

/// Escape text for an HTML element or a double- or single-quoted attribute value.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            _ => out.push(c),
        }
    }
    out
}

/// `/`: start a new list.
pub(crate) fn home(chrome: Chrome, token: &str, input: ItemInput<'_>) -> String {
    let form = item_form(chrome, "/lists/new", token, input);
    layout(
        chrome,
        &format!(
            "<header class=\"jumbotron\">\n<h1 class=\"display-1\">Start a new To-Do list</h1>\n{form}</header>\n"
        ),
    )
}

/// `/lists/<id>/`: one list's items, and the form to add another.
pub(crate) fn list(chrome: Chrome, list_id: i64, items: &[String], token: &str, input: ItemInput<'_>) -> String {
    let form = item_form(chrome, &format!("/lists/{list_id}/"), token, input);
    let mut rows = String::new();
    for (number, text) in items.iter().enumerate() {
        let _ = writeln!(rows, "<tr><td>{}: {}</td></tr>", number + 1, escape(text));
    }
    layout(
        chrome,
        &format!(
            "<header class=\"jumbotron\">\n<h1 class=\"display-1\">Your To-Do list</h1>\n{form}</header>\n\
             <table id=\"id_list_table\" class=\"table\">\n{rows}</table>\n"
        ),
    )
}

pub(crate) fn not_found() -> String {
    message_page("Not found", "There is no such page here.")
}

pub(crate) fn method_not_allowed() -> String {
    message_page("Method not allowed", "This page does not take that kind of request.")
}

pub(crate) fn too_large(limit: usize) -> String {
    message_page(
        "Request too large",
        &format!("The form sent was larger than this site accepts ({} KiB at most).", limit / 1024),
    )
}

pub(crate) fn csrf_failed(failure: csrf::Failure) -> String {
    message_page(
        "Forbidden",
        &format!("CSRF verification failed. Request aborted. {} Reload the page and try again.", failure.reason()),
    )
}

/// Deliberately says nothing about the cause: that goes to the server's log only.
pub(crate) fn server_error() -> String {
    message_page("Server error", "Something went wrong on our side. Please try again later.")
}

fn message_page(heading: &str, text: &str) -> String {
    let chrome = Chrome::from(Defects::default());
    layout(
        Chrome { script: false, ..chrome },
        &format!(
            "<h1>{}</h1>\n<p class=\"lead\">{}</p>\n<p><a href=\"/\">Start a new To-Do list</a></p>\n",
            escape(heading),
            escape(text)
        ),
    )
}

fn layout(chrome: Chrome, content: &str) -> String {
    let mut script = String::from(if chrome.script { "<script src=\"/static/app.js\" defer></script>\n" } else { "" });
    if chrome.broken_tracker {
        script.push_str("<script>window.tracker.pageView(location.pathname);</script>\n");
    }
    // The icon is named, or Firefox asks for /favicon.ico on every page.
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n\
         <meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n\
         <link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">\n\
         <link rel=\"stylesheet\" href=\"/static/style.css\">\n\
         {script}</head>\n<body>\n<main class=\"{container}\">\n{content}</main>\n</body>\n</html>\n",
        title = escape(chrome.title),
        container = chrome.container,
    )
}

fn item_form(chrome: Chrome, action: &str, token: &str, input: ItemInput<'_>) -> String {
    let mut class = String::from("form-control form-control-lg");
    let mut extra = String::new();
    if !input.value.is_empty() {
        let _ = write!(extra, " value=\"{}\"", escape(input.value));
    }
    if input.error.is_some() {
        class.push_str(" is-invalid");
        extra.push_str(" aria-describedby=\"id_text_feedback\"");
    }
    if chrome.required {
        extra.push_str(" required");
    }
    // The feedback follows the input directly: the CSS shows it with `.is-invalid ~`.
    let feedback = match input.error {
        Some(error) => {
            format!("<div class=\"invalid-feedback\" id=\"id_text_feedback\">{}</div>\n", escape(error.message()))
        }
        None => String::new(),
    };
    format!(
        "<form method=\"POST\" action=\"{action}\">\n\
         <input type=\"hidden\" name=\"{field}\" value=\"{token}\">\n\
         <input type=\"text\" class=\"{class}\" name=\"text\" id=\"id_text\" \
         placeholder=\"Enter a to-do item\"{extra}>\n\
         {feedback}</form>\n",
        action = escape(action),
        field = csrf::FIELD,
        token = escape(token),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faithful() -> Chrome {
        Chrome::from(Defects::default())
    }

    #[test]
    fn escape_covers_the_five_html_specials() {
        assert_eq!(
            escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#x27;Jerry&#x27;&lt;/a&gt;"
        );
    }

    #[test]
    fn escape_leaves_plain_text_and_unicode_alone() {
        assert_eq!(escape("Buy peacock feathers ☕"), "Buy peacock feathers ☕");
        assert_eq!(escape(""), "");
    }

    #[test]
    fn escape_does_not_double_escape_silently() {
        assert_eq!(escape("&amp;"), "&amp;amp;");
    }

    #[test]
    fn list_rows_are_numbered_and_escaped() {
        let items = vec!["first".to_owned(), "<b>second</b>".to_owned()];
        let html = list(faithful(), 7, &items, "t", ItemInput::blank());
        assert!(html.contains("<tr><td>1: first</td></tr>"), "{html}");
        assert!(html.contains("<tr><td>2: &lt;b&gt;second&lt;/b&gt;</td></tr>"), "{html}");
        assert!(html.contains("action=\"/lists/7/\""), "{html}");
    }

    #[test]
    fn an_invalid_input_keeps_its_value_and_points_at_its_error() {
        let html = home(faithful(), "t", ItemInput::invalid("\"x\"", ItemError::Duplicate));
        assert!(html.contains("value=\"&quot;x&quot;\""), "{html}");
        assert!(html.contains("class=\"form-control form-control-lg is-invalid\""), "{html}");
        assert!(html.contains("aria-describedby=\"id_text_feedback\""), "{html}");
        assert!(
            html.contains("<div class=\"invalid-feedback\" id=\"id_text_feedback\">You&#x27;ve already got this in your list</div>"),
            "{html}"
        );
    }

    #[test]
    fn a_blank_input_has_no_error_and_is_required() {
        let html = home(faithful(), "t", ItemInput::blank());
        assert!(!html.contains("invalid-feedback"), "{html}");
        assert!(!html.contains("value=\"\""), "{html}");
        assert!(html.contains(" required>"), "{html}");
    }
}
