//! HTML pages, rendered to strings; every piece of visitor text goes through `escape`.

use std::fmt::Write as _;

use super::csrf;
use super::session::Flash;
use super::store::{ListDetails, NamedList, UserLists};
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
    /// "List owner: ..." on an owned list's page (the `owner-hidden` defect hides it).
    show_owner: bool,
}

impl From<Defects> for Chrome {
    fn from(defects: Defects) -> Chrome {
        Chrome {
            title: if defects.wrong_title { "Superlists" } else { "To-Do lists" },
            container: if defects.off_centre { "container off-centre" } else { "container" },
            script: !defects.error_not_cleared,
            required: !defects.accept_empty,
            broken_tracker: defects.script_error,
            show_owner: !defects.owner_hidden,
        }
    }
}

/// What every page of a visit shows around its content: the navbar (who is logged in, or
/// the login form), the one-time notice, and the furniture the defects change.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Frame<'a> {
    pub(crate) chrome: Chrome,
    /// The CSRF token every form carries.
    pub(crate) token: &'a str,
    /// The logged-in user's email.
    pub(crate) user: Option<&'a str>,
    pub(crate) flash: Option<Flash>,
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
pub(crate) fn home(frame: &Frame<'_>, input: ItemInput<'_>) -> String {
    let form = item_form(frame.chrome, "/lists/new", frame.token, input);
    layout(
        frame.chrome,
        Some(frame),
        &format!(
            "<header class=\"jumbotron\">\n<h1 class=\"display-1\">Start a new To-Do list</h1>\n{form}</header>\n"
        ),
    )
}

/// `/lists/<id>/`: one list's items, the form to add another, its owner (unless the defect
/// hides it), who it is shared with, and the form to share it.
pub(crate) fn list(frame: &Frame<'_>, list_id: i64, list: &ListDetails, input: ItemInput<'_>) -> String {
    let form = item_form(frame.chrome, &format!("/lists/{list_id}/"), frame.token, input);
    let mut rows = String::new();
    for (number, text) in list.items.iter().enumerate() {
        let _ = writeln!(rows, "<tr><td>{}: {}</td></tr>", number + 1, escape(text));
    }
    let mut sharing = String::new();
    if let Some(owner) = list.owner.as_deref().filter(|_| frame.chrome.show_owner) {
        let _ = writeln!(
            sharing,
            "<p class=\"list-owner\">List owner: <span id=\"id_list_owner\">{}</span></p>",
            escape(owner)
        );
    }
    if !list.sharees.is_empty() {
        sharing.push_str("<h2 class=\"h5\">Shared with</h2>\n<ul class=\"list-sharees\">\n");
        for sharee in &list.sharees {
            let _ = writeln!(sharing, "<li class=\"list-sharee\">{}</li>", escape(sharee));
        }
        sharing.push_str("</ul>\n");
    }
    let _ = write!(
        sharing,
        "<form method=\"POST\" action=\"/lists/{list_id}/share\" class=\"share-form\">\n\
         <label for=\"id_sharee\">Share this list</label>\n\
         <input id=\"id_sharee\" name=\"sharee\" class=\"form-control\" placeholder=\"your-friend@example.com\">\n\
         <input type=\"hidden\" name=\"{field}\" value=\"{token}\">\n\
         </form>\n",
        field = csrf::FIELD,
        token = escape(frame.token),
    );
    layout(
        frame.chrome,
        Some(frame),
        &format!(
            "<header class=\"jumbotron\">\n<h1 class=\"display-1\">Your To-Do list</h1>\n{form}</header>\n\
             <table id=\"id_list_table\" class=\"table\">\n{rows}</table>\n\
             <section class=\"sharing\">\n{sharing}</section>\n"
        ),
    )
}

/// `/lists/users/<email>/`: the lists `email` owns, then those shared with them.
pub(crate) fn my_lists(frame: &Frame<'_>, email: &str, lists: &UserLists) -> String {
    let links = |lists: &[NamedList], with_owner: bool| {
        let mut out = String::from("<ul>\n");
        for list in lists {
            let name = if list.name.is_empty() { format!("List {}", list.id) } else { list.name.clone() };
            let _ = write!(out, "<li><a href=\"/lists/{}/\">{}</a>", list.id, escape(&name));
            if with_owner {
                let owner = list.owner.as_deref().unwrap_or("nobody");
                let _ = write!(out, " (<span class=\"list-owner\">{}</span>)", escape(owner));
            }
            out.push_str("</li>\n");
        }
        out.push_str("</ul>\n");
        out
    };
    layout(
        frame.chrome,
        Some(frame),
        &format!(
            "<header class=\"jumbotron\">\n<h1 class=\"display-1\">My Lists</h1>\n</header>\n\
             <section class=\"my-lists\">\n<h2>{email}&#x27;s lists</h2>\n{owned}\
             <h2>Lists shared by other users</h2>\n{shared}</section>\n",
            email = escape(email),
            owned = links(&lists.owned, false),
            shared = links(&lists.shared, true),
        ),
    )
}

/// The path of `email`'s "My lists" page, the address percent-encoded as Django's `reverse`
/// does (letters, digits and `@._-+` stay as they are).
pub(crate) fn my_lists_path(email: &str) -> String {
    let mut path = String::from("/lists/users/");
    for byte in email.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~@+!$&'()*,;=:".contains(&byte) {
            path.push(char::from(byte));
        } else {
            let _ = write!(path, "%{byte:02X}");
        }
    }
    path.push('/');
    path
}

pub(crate) fn not_found() -> String {
    message_page("Not found", "There is no such page here.")
}

pub(crate) fn bad_request(why: &str) -> String {
    message_page("Bad request", &format!("This site cannot answer that request: {why}."))
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
        None,
        &format!(
            "<h1>{}</h1>\n<p class=\"lead\">{}</p>\n<p><a href=\"/\">Start a new To-Do list</a></p>\n",
            escape(heading),
            escape(text)
        ),
    )
}

/// The navbar: the login form for a visitor, or who is logged in, "My lists" and "Log out".
fn navbar(frame: &Frame<'_>) -> String {
    let token = format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">\n", csrf::FIELD, escape(frame.token));
    let inner = match frame.user {
        Some(email) => format!(
            "<a class=\"nav-link\" href=\"{path}\">My lists</a>\n\
             <span class=\"navbar-text\">Logged in as {email}</span>\n\
             <form method=\"POST\" action=\"/accounts/logout\">\n{token}\
             <button id=\"id_logout\" class=\"btn btn-outline-secondary\" type=\"submit\">Log out</button>\n\
             </form>\n",
            path = escape(&my_lists_path(email)),
            email = escape(email),
        ),
        None => format!(
            "<form method=\"POST\" action=\"/accounts/send_login_email\">\n\
             <label class=\"navbar-text\" for=\"id_email_input\">Enter your email to log in</label>\n\
             <input id=\"id_email_input\" name=\"email\" class=\"form-control\" placeholder=\"your@email.com\">\n\
             {token}</form>\n"
        ),
    };
    let mut out =
        format!("<nav class=\"navbar\">\n<a class=\"navbar-brand\" href=\"/\">Superlists</a>\n{inner}</nav>\n");
    if let Some(flash) = frame.flash {
        let _ = writeln!(out, "<div class=\"{}\">{}</div>", flash.class(), escape(flash.text()));
    }
    out
}

fn layout(chrome: Chrome, frame: Option<&Frame<'_>>, content: &str) -> String {
    let navbar = frame.map(navbar).unwrap_or_default();
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
         {script}</head>\n<body>\n<main class=\"{container}\">\n{navbar}{content}</main>\n</body>\n</html>\n",
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

    fn faithful() -> Frame<'static> {
        Frame { chrome: Chrome::from(Defects::default()), token: "t", user: None, flash: None }
    }

    fn details(items: &[&str], owner: Option<&str>, sharees: &[&str]) -> ListDetails {
        ListDetails {
            items: items.iter().map(|s| s.to_string()).collect(),
            owner: owner.map(str::to_owned),
            sharees: sharees.iter().map(|s| s.to_string()).collect(),
        }
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
        let html = list(&faithful(), 7, &details(&["first", "<b>second</b>"], None, &[]), ItemInput::blank());
        assert!(html.contains("<tr><td>1: first</td></tr>"), "{html}");
        assert!(html.contains("<tr><td>2: &lt;b&gt;second&lt;/b&gt;</td></tr>"), "{html}");
        assert!(html.contains("action=\"/lists/7/\""), "{html}");
    }

    #[test]
    fn an_invalid_input_keeps_its_value_and_points_at_its_error() {
        let html = home(&faithful(), ItemInput::invalid("\"x\"", ItemError::Duplicate));
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
        let html = home(&faithful(), ItemInput::blank());
        assert!(!html.contains("invalid-feedback"), "{html}");
        assert!(!html.contains("value=\"\""), "{html}");
        assert!(html.contains(" required>"), "{html}");
    }

    #[test]
    fn a_visitor_sees_the_login_form_and_a_user_sees_who_is_logged_in() {
        let html = home(&faithful(), ItemInput::blank());
        assert!(html.contains("<nav class=\"navbar\">"), "{html}");
        assert!(html.contains("<form method=\"POST\" action=\"/accounts/send_login_email\">"), "{html}");
        assert!(
            html.contains(
                "<input id=\"id_email_input\" name=\"email\" class=\"form-control\" placeholder=\"your@email.com\">"
            ),
            "{html}"
        );
        assert!(!html.contains("Logged in as"), "{html}");
        let frame = Frame { user: Some("edith@example.com"), ..faithful() };
        let html = home(&frame, ItemInput::blank());
        assert!(html.contains("<span class=\"navbar-text\">Logged in as edith@example.com</span>"), "{html}");
        assert!(html.contains("<a class=\"nav-link\" href=\"/lists/users/edith@example.com/\">My lists</a>"), "{html}");
        assert!(html.contains("<form method=\"POST\" action=\"/accounts/logout\">"), "{html}");
        assert!(html.contains("<button id=\"id_logout\""), "{html}");
        assert!(!html.contains("id_email_input"), "{html}");
    }

    #[test]
    fn a_notice_is_an_alert_of_its_kind() {
        let frame = Frame { flash: Some(Flash::LoginSent), ..faithful() };
        let html = home(&frame, ItemInput::blank());
        assert!(
            html.contains("<div class=\"alert alert-success\">Check your email, we&#x27;ve sent you a link you can use to log in.</div>"),
            "{html}"
        );
        let frame = Frame { flash: Some(Flash::InvalidLink), ..faithful() };
        let html = home(&frame, ItemInput::blank());
        assert!(
            html.contains("<div class=\"alert alert-warning\">Invalid login link, please request a new one</div>"),
            "{html}"
        );
    }

    #[test]
    fn an_owned_list_names_its_owner_and_sharees_unless_the_defect_hides_the_owner() {
        let shared = details(&["Get help"], Some("edith@example.com"), &["oni@example.com"]);
        let html = list(&faithful(), 3, &shared, ItemInput::blank());
        assert!(html.contains("List owner: <span id=\"id_list_owner\">edith@example.com</span>"), "{html}");
        assert!(html.contains("<li class=\"list-sharee\">oni@example.com</li>"), "{html}");
        assert!(html.contains("<form method=\"POST\" action=\"/lists/3/share\""), "{html}");
        assert!(
            html.contains("name=\"sharee\" class=\"form-control\" placeholder=\"your-friend@example.com\""),
            "{html}"
        );
        let hidden = Frame { chrome: Chrome::from(Defects { owner_hidden: true, ..Defects::default() }), ..faithful() };
        let html = list(&hidden, 3, &shared, ItemInput::blank());
        assert!(!html.contains("id_list_owner"), "{html}");
        let html = list(&faithful(), 3, &details(&["x"], None, &[]), ItemInput::blank());
        assert!(!html.contains("List owner"), "no owner, no line: {html}");
    }

    #[test]
    fn my_lists_links_each_list_by_its_first_item() {
        let named =
            |id, name: &str, owner: Option<&str>| NamedList { id, name: name.into(), owner: owner.map(Into::into) };
        let lists = UserLists {
            owned: vec![named(1, "Reticulate <splines>", Some("edith@example.com"))],
            shared: vec![named(4, "Get help", Some("oni@example.com"))],
        };
        let html = my_lists(&faithful(), "edith@example.com", &lists);
        assert!(html.contains("<h1 class=\"display-1\">My Lists</h1>"), "{html}");
        assert!(html.contains("<h2>edith@example.com&#x27;s lists</h2>"), "{html}");
        assert!(html.contains("<li><a href=\"/lists/1/\">Reticulate &lt;splines&gt;</a></li>"), "{html}");
        assert!(html.contains("<h2>Lists shared by other users</h2>"), "{html}");
        assert!(
            html.contains(
                "<li><a href=\"/lists/4/\">Get help</a> (<span class=\"list-owner\">oni@example.com</span>)</li>"
            ),
            "{html}"
        );
    }

    #[test]
    fn my_lists_paths_keep_an_address_readable_and_encode_the_rest() {
        assert_eq!(my_lists_path("edith+1@example.com"), "/lists/users/edith+1@example.com/");
        assert_eq!(my_lists_path("a/b?c#d@x.y"), "/lists/users/a%2Fb%3Fc%23d@x.y/");
    }
}
