//! What ft looks at on a page: the one inspection script (a selector's matches, their
//! text, visibility and attribute, in one round trip) and the evidence kept at a failure.

use serde::Deserialize;

/// What one inspection of the page saw for a selector (one WebDriver round trip).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Inspection {
    pub url: String,
    pub title: String,
    /// The HTTP status of the page's own response, where the browser tells (Navigation Timing).
    pub status: Option<u16>,
    /// A syntax error in the selector, as the browser reported it.
    pub error: Option<String>,
    pub count: usize,
    /// The first match's rendered text, visibility, attribute and horizontal centre.
    pub text: Option<String>,
    pub visible: Option<bool>,
    pub attr: Option<String>,
    pub centre_x: Option<f64>,
    /// The method (`GET`, `POST`) and action URL of the form the first match belongs to
    /// (or is): where pressing Enter in it or clicking it may send the browser.
    pub form_method: Option<String>,
    pub form_action: Option<String>,
    /// Texts of all matches (with `all`), or of the page body (with no selector).
    #[serde(default)]
    pub texts: Vec<String>,
    /// The page body's text when the page is an HTTP 5xx answer or the browser's own
    /// error page, whatever the selector: what a visit's failure shows.
    #[serde(default)]
    pub body: Option<String>,
    /// The first match as a W3C element reference, for an action that follows.
    #[serde(default, rename = "el")]
    pub(super) element: Option<serde_json::Value>,
}

/// Evidence of a page's state at a failure.
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    pub screenshot: Option<Vec<u8>>,
    pub html: Option<String>,
    pub url: Option<String>,
    /// What the browser reported during the attempt (console, exceptions, failed requests).
    pub signals: super::signals::Signals,
    /// Screenshots after each of the attempt's last steps, oldest first (`--filmstrip`).
    pub filmstrip: Vec<Frame>,
    /// The scenario's other visitors' pages, each as it was at the failure (the screenshot
    /// and HTML above are the page of the visitor the step failed as).
    pub visitors: Vec<VisitorPage>,
}

/// Another visitor's page at a failure.
#[derive(Clone, Debug, Default)]
pub struct VisitorPage {
    pub name: String,
    pub screenshot: Option<Vec<u8>>,
    pub html: Option<String>,
    pub url: Option<String>,
}

impl VisitorPage {
    pub(super) fn of(name: String, page: Evidence) -> VisitorPage {
        VisitorPage { name, screenshot: page.screenshot, html: page.html, url: page.url }
    }
}

/// One filmstrip picture: the screen after a step.
#[derive(Clone, Debug)]
pub struct Frame {
    /// The step's line in its spec file and its description (`type "Buy milk" into #id_new_item`).
    pub line: usize,
    pub step: String,
    pub png: Vec<u8>,
}

/// Called with `[css or null, attribute or null, all]`; answers an `Inspection`.
pub(super) const INSPECT_JS: &str = r#"
const [css, attr, all] = arguments;
const nav = (performance.getEntriesByType && performance.getEntriesByType("navigation")[0]) || {};
const out = { url: location.href, title: document.title, status: nav.responseStatus || null, count: 0, texts: [] };
if (out.status >= 500 || /^(chrome-error|about:neterror)/.test(out.url)) {
  out.body = document.body ? document.body.innerText : "";
}
if (css === null) {
  out.texts = [document.body ? document.body.innerText : ""];
  return out;
}
let list;
try { list = document.querySelectorAll(css); } catch (e) { out.error = String(e.message || e); return out; }
out.count = list.length;
const el = list[0];
if (el) {
  const r = el.getBoundingClientRect();
  const cs = getComputedStyle(el);
  const shown = el.checkVisibility ? el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true }) : true;
  out.visible = shown && cs.visibility !== "hidden" && cs.display !== "none" && r.width > 0 && r.height > 0;
  out.text = (el.innerText || "").trim();
  out.attr = attr === null ? null : el.getAttribute(attr);
  out.centre_x = r.left + r.width / 2;
  const form = el instanceof HTMLFormElement ? el : (el.form || (el.closest && el.closest("form")));
  if (form) { out.form_method = (form.method || "get").toUpperCase(); out.form_action = form.action; }
  out.el = el;
}
if (all) {
  out.texts = Array.from(list).slice(0, 200).map(e => (e.innerText || "").trim());
}
return out;
"#;
