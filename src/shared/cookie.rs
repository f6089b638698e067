//! A cookie as a `set_cookie` step gives it: written by the spec, set by the browser.

/// A cookie to set on the page's site (`set_cookie`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cookie {
    pub name: String,
    pub value: String,
    pub path: Option<String>,
    pub secure: Option<bool>,
    pub http_only: Option<bool>,
    /// "Strict", "Lax" or "None".
    pub same_site: Option<String>,
}
