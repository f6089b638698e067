//! Where a `visit` goes: a path on the target, joined to its URL, or a whole http(s) URL
//! (typically a value: the link of a login email, a URL captured from a page). The one
//! rule both the load-time check and the runner (once the step's values are filled in)
//! apply, so a literal that is neither is a spec error and a value that is neither fails
//! its step saying so.

/// Where a `visit` goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destination<'a> {
    /// A path on the target (`/lists/1/`): the target's URL + the path.
    Path(&'a str),
    /// A whole http(s) URL with a host, loaded as it is.
    Url(&'a str),
}

impl Destination<'_> {
    /// The URL the browser is sent to, given the target's base URL.
    pub fn url(&self, base_url: &str) -> String {
        match self {
            Destination::Path(path) => format!("{base_url}{path}"),
            Destination::Url(url) => url.to_string(),
        }
    }
}

/// What a `visit` takes, for messages.
pub const WHAT: &str = "a path on the target (starting with `/`) or an http(s) URL";

/// Why a text that looks like neither goes nowhere.
pub const NEITHER: &str = "it is neither a path on the target (starting with `/`) nor an http(s) URL";

/// Read where `written` sends a `visit`; `Err` says why it goes nowhere (without
/// repeating the text, which may hold credentials).
pub fn destination(written: &str) -> Result<Destination<'_>, String> {
    if written.starts_with('/') {
        return Ok(Destination::Path(written));
    }
    if !has_web_scheme(written) {
        return Err(match written.split_once("://") {
            Some((scheme, _)) if !scheme.is_empty() && !scheme.contains(['/', ' ']) => {
                format!("a browser visits only http and https URLs, not {scheme}:")
            }
            _ => NEITHER.to_string(),
        });
    }
    match reqwest::Url::parse(written) {
        Ok(url) if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(Destination::Url(written)),
        Ok(_) => Err("it is a URL without a host".into()),
        Err(e) => Err(format!("it is not a URL a browser can load ({e})")),
    }
}

/// Whether a template written for a `visit` can become a destination once filled in: it
/// starts as a path, with a web scheme, or with a value (checked when filled in).
pub fn may_become_one(template: &str) -> bool {
    template.starts_with('/') || template.starts_with("${") || has_web_scheme(template)
}

/// `http://` or `https://`, in any case (browsers read `HTTPS://` as https).
fn has_web_scheme(s: &str) -> bool {
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visit_goes_to_a_path_on_the_target_or_to_a_whole_http_url() {
        assert_eq!(destination("/lists/1/"), Ok(Destination::Path("/lists/1/")));
        assert_eq!(destination("/").map(|d| d.url("http://127.0.0.1:8000")), Ok("http://127.0.0.1:8000/".into()));
        let link = "http://127.0.0.1:8000/accounts/login?token=abc";
        assert_eq!(destination(link), Ok(Destination::Url(link)));
        assert_eq!(destination(link).map(|d| d.url("https://elsewhere")), Ok(link.to_string()));
        assert_eq!(destination("HTTPS://Example.com"), Ok(Destination::Url("HTTPS://Example.com")));
    }

    #[test]
    fn anything_else_goes_nowhere_and_says_why_without_repeating_it() {
        for (written, why) in [
            ("lists/1/", "neither a path"),
            ("", "neither a path"),
            ("example.com/login", "neither a path"),
            ("ftp://files.example/x", "not ftp:"),
            ("javascript://alert(1)", "not javascript:"),
            ("https://", "not a URL"),
            ("http://user:pw@[::1", "not a URL"),
        ] {
            let err = destination(written).expect_err(written);
            assert!(err.contains(why), "{written:?}: {err}");
            assert!(!err.contains("pw"), "{err}");
        }
    }

    #[test]
    fn a_template_may_become_a_destination_if_it_starts_like_one() {
        for ok in ["${login_link}", "/lists/${id}/", "https://${host}/", "HTTP://x/${p}"] {
            assert!(may_become_one(ok), "{ok}");
        }
        for no in ["lists/${id}", "x${link}", "mailto:${email}"] {
            assert!(!may_become_one(no), "{no}");
        }
    }
}
