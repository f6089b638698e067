//! What ft looks at on a page: the one inspection script (a locator's matches, their
//! text, visibility, attribute and state, in one round trip) and the evidence kept at a
//! failure. The script evaluates every locator engine itself (CSS, text, role and
//! accessible name, label, placeholder, test id, chains), so finding by what a person
//! sees costs no extra round trip, and it reads the page only through the prototypes'
//! own getters and methods, so markup cannot shadow what it reads (DOM clobbering).
//! WebDriver sends a script's whole text with every call, so each look sends only the
//! engines its locators use, without comments or indentation (`script`).

use std::sync::OnceLock;

use serde::Deserialize;

use crate::shared::locator::{Locator, Part};

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
    /// With more than one match, the first three (tag, attributes, text; each clipped):
    /// what an action, which needs exactly one, names when it refuses.
    #[serde(default)]
    pub several: Vec<String>,
    /// The first match's rendered text, visibility, attribute and horizontal centre.
    pub text: Option<String>,
    pub visible: Option<bool>,
    pub attr: Option<String>,
    pub centre_x: Option<f64>,
    /// The first match's current value (input, select, textarea), whether it is checked
    /// (checkbox, radio, or `aria-checked`), enabled (not `:disabled`, not
    /// `aria-disabled`) and has the focus (through open shadow roots).
    pub value: Option<String>,
    pub checked: Option<bool>,
    pub enabled: Option<bool>,
    pub focused: Option<bool>,
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
    /// How many elements match the inspection's second locator (`also`), when it has one:
    /// a capture's count read in the look the next step makes anyway.
    #[serde(default)]
    pub also_count: Option<usize>,
    /// The first match as a W3C element reference, for an action that follows.
    #[serde(default, rename = "el")]
    pub(super) element: Option<serde_json::Value>,
    /// What the look answered, but the element reference: a wait in the page for a change
    /// (`Session::watch`) compares what it sees with it.
    #[serde(skip)]
    pub(super) answer: Option<serde_json::Value>,
    /// The tab whose page made this look in a wait held there (a look ahead): the next
    /// wait may be held in it without asking WebDriver for the window again.
    #[serde(skip)]
    pub(super) held_in: Option<String>,
}

impl Inspection {
    /// The tab a wait in the page made this look in, if one did.
    pub fn held_in(&self) -> Option<&str> {
        self.held_in.as_deref()
    }
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

/// The inspection script for a look at `locator` (counting `also` too): the core, with
/// the engines those use, cut to its code (no comment lines, no indentation). Every look
/// sends it whole (WebDriver keeps no script between calls), so a look for plain CSS sends
/// about a third of what one with every engine would. Made once per set of engines.
pub(super) fn script(locator: Option<&Locator>, also: Option<&Locator>) -> &'static str {
    static MADE: OnceLock<Vec<String>> = OnceLock::new();
    let made = MADE.get_or_init(|| (0..ALL_ENGINES + 1).map(assemble).collect());
    &made[engines(locator.into_iter().chain(also))]
}

/// The expression a wait in the page evaluates over DevTools (`Runtime.evaluate` with
/// `awaitPromise`): the inspection `script` makes for these locators (`locators`: every
/// one either look uses), called with `args` (`script`'s four arguments, then the answer of
/// the look before, without its element, then the cap in ms, then the next step's first
/// look's four arguments or null), made at once and again whenever the page may have
/// changed, until what it sees differs from the look before. It answers `{changed: seen,
/// ahead: next}` with that look and, made in the same moment, the next step's first
/// (neither with its element; `ahead` absent without a next look or where it threw),
/// `{same: true}` when a look at `cap` still sees what the look before
/// saw, `{left: true}` as the page is left (a navigation; the evaluation may also fail
/// with the context destroyed). The page is looked at again on every DOM mutation (a
/// MutationObserver on the whole document) and on the events that change what a look sees
/// without touching the DOM (typing, focus, loads, resizes, the end of a transition or
/// animation, scrolling, history); nothing is looked at on a timer but once at the cap,
/// for what neither tells (a value set by a script, the inside of a shadow root).
pub(super) fn watch_expression<'a>(locators: impl Iterator<Item = &'a Locator>, args: &serde_json::Value) -> String {
    static MADE: OnceLock<Vec<String>> = OnceLock::new();
    let made = MADE.get_or_init(|| (0..ALL_ENGINES + 1).map(|bits| watching(&assemble(bits))).collect());
    format!("({})(...{args})", made[engines(locators)])
}

/// The inspection `body` as a function that watches the page (see `watch_expression`).
fn watching(body: &str) -> String {
    format!(
        "function (loc, attr, all, also, before, cap, next) {{\nconst look = function () {{\n{body}\n}};\n{WATCH}\n}}"
    )
}

/// The waiting part of `watch_expression`. Two looks are the same when every field but the
/// element is (a field absent and a field `null` alike: WebDriver's answer may drop either).
const WATCH: &str = r#"const key = o => JSON.stringify(Object.keys(o || {}).filter(n => n !== "el" && o[n] != null).sort().map(n => [n, o[n]]));
const prev = key(before);
const seeing = args => { try { const seen = look(...args); delete seen.el; return seen; } catch (e) { return { thrown: String((e && e.message) || e) }; } };
const see = () => seeing([loc, attr, all, also]);
const changed = seen => { const answer = { changed: seen }; if (next) { const ahead = seeing(next); if (ahead.thrown === undefined) answer.ahead = ahead; } return answer; };
const EVENTS = ["input", "change", "focusin", "focusout", "load", "error", "resize", "scroll", "transitionend", "transitioncancel", "animationend", "animationcancel", "toggle", "select", "hashchange", "popstate", "pageshow", "visibilitychange"];
return new Promise(done => {
let finished = false, queued = false, observer = null, capped = null;
const targets = [window, document];
const finish = answer => {
if (finished) return;
finished = true;
if (observer) observer.disconnect();
for (const t of targets) { for (const e of EVENTS) t.removeEventListener(e, soon, true); }
removeEventListener("pagehide", leaving, true);
clearTimeout(capped);
done(answer);
};
const differs = seen => seen.thrown !== undefined || key(seen) !== prev;
const again = () => { queued = false; if (finished) return; const seen = see(); if (differs(seen)) finish(changed(seen)); };
function soon() { if (!queued && !finished) { queued = true; Promise.resolve().then(again); } }
function leaving() { finish({ left: true }); }
again();
if (finished) return;
observer = new MutationObserver(soon);
observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
for (const t of targets) { for (const e of EVENTS) t.addEventListener(e, soon, true); }
addEventListener("pagehide", leaving, true);
capped = setTimeout(() => { if (finished) return; const seen = see(); finish(differs(seen) ? changed(seen) : { same: true }); }, cap);
});"#;

/// Which optional engines the parts of `locators` use, as bits.
fn engines<'a>(locators: impl Iterator<Item = &'a Locator>) -> usize {
    locators.flat_map(|l| l.0.iter()).fold(0, |bits, part| {
        bits | match part {
            Part::Text { .. } => TEXT,
            Part::Role { .. } => ROLE,
            Part::Label { .. } => LABEL,
            // In the core: a query, or an attribute compared.
            Part::Css(_) | Part::Placeholder(_) | Part::TestId(_) => 0,
        }
    })
}

const TEXT: usize = 1;
const ROLE: usize = 2;
const LABEL: usize = 4;
const ALL_ENGINES: usize = TEXT | ROLE | LABEL;

/// The script with the engines `bits` names, cut to its code.
fn assemble(bits: usize) -> String {
    let mut parts = vec![HEAD];
    if bits != 0 {
        parts.push(ENGINE_BASE);
    }
    if bits & TEXT != 0 {
        parts.push(TEXT_ENGINE);
    }
    if bits & (ROLE | LABEL) != 0 {
        parts.push(NAMES);
    }
    if bits & ROLE != 0 {
        parts.push(ROLE_ENGINE);
    }
    if bits & LABEL != 0 {
        parts.push(LABEL_ENGINE);
    }
    parts.push(TAIL);
    // Whole lines only: no string or regular expression of the script starts a line
    // with `//`, and lines stay lines (no reliance on where a statement ends).
    let lines = parts.iter().flat_map(|p| p.lines()).map(str::trim);
    lines.filter(|l| !l.is_empty() && !l.starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// The inspection script, in parts: `script` puts together the core (`HEAD`, `TAIL`) and
/// only the locator engines an inspection's locators use, so a look for plain CSS (every
/// step of the built-in suite) does not send the text, role and label engines.
///
/// Called with `[locator or null, attribute or null, all, also or null]`; answers an
/// `Inspection`. A locator is `shared::locator::Locator::to_json`: `[[engine, value, ...],
/// ...]`; `also` is a second one whose matches are only counted.
const HEAD: &str = r#"
const [loc, attr, all, also] = arguments;
// Read through the prototypes, never through the page's objects: a form's controls and
// the document's named elements shadow their properties (a control named `action` makes
// `form.action` that control; `<img name="title">` makes `document.title` the image).
const own = (proto, name) => { const d = Object.getOwnPropertyDescriptor(proto, name); return d && (d.get || d.value); };
const bind = (proto, name) => { const f = own(proto, name); return f ? (self, ...args) => Reflect.apply(f, self, args) : null; };
const D = Document.prototype, E = Element.prototype, N = Node.prototype, H = HTMLElement.prototype;
const docTitle = bind(D, "title"), docBody = bind(D, "body"), docActive = bind(D, "activeElement");
const qsaDoc = bind(D, "querySelectorAll"), qsaEl = bind(E, "querySelectorAll");
const closest = bind(E, "closest"), matches = bind(E, "matches"), getAttr = bind(E, "getAttribute");
const rectOf = bind(E, "getBoundingClientRect");
const localName = bind(E, "localName"), attributes = bind(E, "attributes"), shadowOf = bind(E, "shadowRoot");
const checkVis = bind(E, "checkVisibility"), innerText = bind(H, "innerText");
const textContent = bind(N, "textContent");
const compare = bind(N, "compareDocumentPosition");
const formMethod = bind(HTMLFormElement.prototype, "method"), formAction = bind(HTMLFormElement.prototype, "action");
const shadowActive = bind(ShadowRoot.prototype, "activeElement");
const FORM_OWNERS = [HTMLInputElement, HTMLSelectElement, HTMLTextAreaElement, HTMLButtonElement, HTMLFieldSetElement, HTMLOutputElement, HTMLObjectElement];
const VALUED = [HTMLInputElement, HTMLSelectElement, HTMLTextAreaElement];
const norm = s => String(s == null ? "" : s).replace(/\s+/g, " ").trim();
const tag = el => localName(el);
const attrOf = (el, name) => getAttr(el, name);
const all_in = (root, css) => Array.from(root === document ? qsaDoc(document, css) : qsaEl(root, css));
const shown = el => {
  const cs = getComputedStyle(el);
  const vis = checkVis ? checkVis(el, { checkOpacity: true, checkVisibilityCSS: true }) : true;
  const r = rectOf(el);
  return vis && cs.visibility !== "hidden" && cs.display !== "none" && r.width > 0 && r.height > 0;
};
"#;

/// What every engine but CSS uses.
const ENGINE_BASE: &str = r#"
const byId = bind(D, "getElementById"), hasAttr = bind(E, "hasAttribute"), kids = bind(E, "children");
const childNodes = bind(N, "childNodes"), nodeType = bind(N, "nodeType"), parentOf = bind(N, "parentElement");
const textOf = el => norm(el instanceof HTMLElement ? innerText(el) : textContent(el));
const NO_TEXT = new Set(["script", "style", "template", "noscript", "head", "title"]);
"#;

/// `text=`, `text*=`.
const TEXT_ENGINE: &str = r#"
// text= and text*=: the innermost elements whose rendered text is (or contains) the text.
// The walk descends only where the text may be (rendered, or hidden but in the source).
const squash = s => String(s || "").replace(/\s+/g, "").toLowerCase();
function byText(root, want, exact) {
  const out = [], cache = new Map(), sq = squash(want);
  const text = el => { let t = cache.get(el); if (t === undefined) { t = textOf(el); cache.set(el, t); } return t; };
  const may = el => !NO_TEXT.has(tag(el)) && (text(el).includes(want) || squash(textContent(el)).includes(sq));
  const hit = el => exact ? text(el) === want : text(el).includes(want);
  const walk = el => {
    let found = false;
    for (const c of kids(el)) { if (may(c) && walk(c)) found = true; }
    if (!found && hit(el)) { out.push(el); return true; }
    return found;
  };
  // In a chain the element of the part before is a candidate too (`role=cell >> text=Buy
  // milk`: the cell holds only text); on the page, the body's own text is no candidate.
  const body = root === document ? docBody(document) : null;
  if (body) { for (const c of kids(body)) { if (may(c)) walk(c); } } else if (root !== document && may(root)) walk(root);
  return out;
}
"#;

/// Labels and accessible names: what `role=` with a name and `label=` share.
const NAMES: &str = r#"
const CONTROLS = new Set(["input", "select", "textarea", "button"]);
const buttonValue = el => {
  const type = (attrOf(el, "type") || "").toLowerCase();
  if (type === "image") return attrOf(el, "alt") || "Submit";
  if (!["button", "submit", "reset"].includes(type)) return null;
  return attrOf(el, "value") || (type === "submit" ? "Submit" : type === "reset" ? "Reset" : "");
};
// The text a name is made of: text nodes, alt texts, nested names; blocks apart.
function contentText(node, skip, hiddenToo) {
  let s = "";
  for (const c of childNodes(node)) {
    const nt = nodeType(c);
    if (nt === 3) { s += textContent(c); continue; }
    if (nt !== 1 || NO_TEXT.has(tag(c)) || (skip && skip(c))) continue;
    const cs = getComputedStyle(c);
    if (!hiddenToo && (attrOf(c, "aria-hidden") === "true" || cs.display === "none" || cs.visibility === "hidden")) continue;
    const t = tag(c);
    let inner = norm(attrOf(c, "aria-label"));
    if (!inner) {
      if (t === "img" || t === "area") inner = attrOf(c, "alt") || "";
      else if (t === "input") inner = buttonValue(c) || "";
      else inner = contentText(c, skip, hiddenToo);
    }
    s += cs.display.startsWith("inline") ? inner : " " + inner + " ";
  }
  return s;
}
const labelledBy = el => norm(norm(attrOf(el, "aria-labelledby")).split(" ").map(id => id && byId(document, id)).filter(Boolean).map(e => contentText(e, null, true)).join(" "));
const labelsOf = el => (VALUED.some(k => el instanceof k) || el instanceof HTMLButtonElement || el instanceof HTMLMeterElement || el instanceof HTMLOutputElement || el instanceof HTMLProgressElement) ? Array.from(el.labels || []) : [];
const labelText = (label, el) => norm(contentText(label, c => c === el || CONTROLS.has(tag(c)), false));
"#;

/// `role=`, with its name filter (needs `NAMES`).
const ROLE_ENGINE: &str = r#"
// Hidden from the accessibility tree: aria-hidden up the tree, display:none on it or an
// ancestor, visibility:hidden (an <option> of a closed <select> has no box, yet is there).
const hiddenForAria = el => {
  if (closest(el, "[aria-hidden=true]")) return true;
  if (getComputedStyle(el).visibility === "hidden") return true;
  if (checkVis && checkVis(el)) return false;
  for (let e = el; e; e = parentOf(e)) { if (getComputedStyle(e).display === "none") return true; }
  return false;
};

// role=: explicit (the role attribute's first token) or implicit from the element.
const LANDMARK_SCOPE = "article, aside, main, nav, section";
const named = el => !!(norm(attrOf(el, "aria-label")) || norm(attrOf(el, "aria-labelledby")) || norm(attrOf(el, "title")));
function implicitRole(el) {
  const t = tag(el);
  switch (t) {
    case "a": case "area": return hasAttr(el, "href") ? "link" : null;
    case "button": return "button";
    case "input": {
      const type = (attrOf(el, "type") || "text").toLowerCase();
      if (["button", "submit", "reset", "image"].includes(type)) return "button";
      if (type === "checkbox" || type === "radio") return type;
      if (type === "range") return "slider";
      if (type === "number") return "spinbutton";
      if (["hidden", "file", "color", "date", "datetime-local", "month", "time", "week"].includes(type)) return null;
      if (hasAttr(el, "list")) return "combobox";
      return type === "search" ? "searchbox" : "textbox";
    }
    case "select": return hasAttr(el, "multiple") || Number(attrOf(el, "size")) > 1 ? "listbox" : "combobox";
    case "textarea": return "textbox";
    case "h1": case "h2": case "h3": case "h4": case "h5": case "h6": return "heading";
    case "table": return "table";
    case "tr": return "row";
    case "td": return "cell";
    case "th": return attrOf(el, "scope") === "row" ? "rowheader" : "columnheader";
    case "thead": case "tbody": case "tfoot": return "rowgroup";
    case "ul": case "ol": case "menu": return "list";
    case "li": return "listitem";
    case "nav": return "navigation";
    case "main": return "main";
    case "aside": return "complementary";
    case "header": return parentOf(el) && closest(parentOf(el), LANDMARK_SCOPE) ? null : "banner";
    case "footer": return parentOf(el) && closest(parentOf(el), LANDMARK_SCOPE) ? null : "contentinfo";
    case "section": return named(el) ? "region" : null;
    case "form": return named(el) ? "form" : null;
    case "search": return "search";
    case "article": return "article";
    case "dialog": return "dialog";
    case "img": return attrOf(el, "alt") === "" && !named(el) ? "presentation" : "img";
    case "option": return "option";
    case "optgroup": case "fieldset": case "details": case "address": return "group";
    case "datalist": return "listbox";
    case "progress": return "progressbar";
    case "meter": return "meter";
    case "output": return "status";
    case "hr": return "separator";
    case "p": return "paragraph";
    case "figure": return "figure";
    case "blockquote": return "blockquote";
    case "caption": return "caption";
    case "code": return "code";
    case "em": return "emphasis";
    case "strong": return "strong";
    case "del": return "deletion";
    case "ins": return "insertion";
    case "mark": return "mark";
    case "sub": return "subscript";
    case "sup": return "superscript";
    case "time": return "time";
    case "dd": return "definition";
    case "dfn": case "dt": return "term";
    case "math": return "math";
  }
  return null;
}
const roleOf = el => norm(attrOf(el, "role")).split(" ")[0].toLowerCase() || implicitRole(el);
const FROM_CONTENT = new Set(["button", "cell", "checkbox", "columnheader", "gridcell", "heading", "link", "menuitem", "menuitemcheckbox", "menuitemradio", "option", "radio", "row", "rowheader", "switch", "tab", "tooltip", "treeitem"]);
function nameOf(el, role) {
  const by = labelledBy(el); if (by) return by;
  const aria = norm(attrOf(el, "aria-label")); if (aria) return aria;
  const t = tag(el);
  if (t === "input") { const v = buttonValue(el); if (v) return norm(v); }
  const labels = labelsOf(el).map(l => labelText(l, el)).filter(Boolean);
  if (labels.length) return labels.join(" ");
  if (t === "img" || t === "area") { const alt = norm(attrOf(el, "alt")); if (alt) return alt; }
  const child = { fieldset: "legend", table: "caption", figure: "figcaption" }[t];
  if (child) { const c = Array.from(kids(el)).find(k => tag(k) === child); if (c) { const s = norm(contentText(c)); if (s) return s; } }
  if (FROM_CONTENT.has(role)) { const s = norm(contentText(el)); if (s) return s; }
  const title = norm(attrOf(el, "title")); if (title) return title;
  return norm(attrOf(el, "placeholder"));
}
function byRole(root, role, name, exact) {
  return all_in(root, "*").filter(el => {
    if (roleOf(el) !== role || hiddenForAria(el)) return false;
    if (name === undefined) return true;
    const n = nameOf(el, role);
    return exact ? n === name : n.includes(name);
  });
}
"#;

/// `label=`, `label*=` (needs `NAMES`).
const LABEL_ENGINE: &str = r#"
// label=: the control labelled so, by any of its labels.
function byLabel(root, want, exact) {
  const fits = s => exact ? s === want : s.includes(want);
  return all_in(root, "input, select, textarea, button, meter, output, progress, [aria-label], [aria-labelledby]").filter(el => {
    if (tag(el) === "input" && (attrOf(el, "type") || "").toLowerCase() === "hidden") return false;
    if (fits(norm(attrOf(el, "aria-label"))) || fits(labelledBy(el))) return true;
    return labelsOf(el).some(l => fits(labelText(l, el)));
  });
}
"#;

/// The chain, CSS, placeholder and test id, and the answer.
const TAIL: &str = r#"
function one(root, part) {
  const [engine, a, b, c] = part;
  switch (engine) {
    case "css": return all_in(root, a);
    case "text": return byText(root, a, b);
    case "role": return byRole(root, a, b, c);
    case "label": return byLabel(root, a, b);
    case "placeholder": return all_in(root, "[placeholder]").filter(el => norm(attrOf(el, "placeholder")) === a);
    case "testid": return all_in(root, "[data-testid]").filter(el => attrOf(el, "data-testid") === a);
  }
  throw new DOMException("unknown locator engine " + engine, "SyntaxError");
}
// A chain: each part inside every match of the part before, in document order, once.
function find(parts) {
  let found = [document];
  for (const part of parts) {
    const seen = new Set(), next = [];
    for (const root of found) { for (const el of one(root, part)) { if (!seen.has(el)) { seen.add(el); next.push(el); } } }
    if (found.length > 1) next.sort((x, y) => (compare(x, y) & Node.DOCUMENT_POSITION_FOLLOWING) ? -1 : 1);
    found = next;
    if (!found.length) break;
  }
  return found;
}
const clip = (s, n) => s.length > n ? s.slice(0, n) + "…" : s;
const VOID = new Set(["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"]);
const snippet = el => {
  const t = tag(el);
  let s = "<" + t;
  for (const a of attributes(el)) s += " " + a.name + "=\"" + clip(a.value, 40) + "\"";
  s += ">";
  if (!VOID.has(t)) s += clip(norm(textContent(el)), 40) + "</" + t + ">";
  return clip(s, 160);
};

const nav = (performance.getEntriesByType && performance.getEntriesByType("navigation")[0]) || {};
const body = docBody(document);
const out = { url: location.href, title: String(docTitle(document)), status: nav.responseStatus || null, count: 0, texts: [] };
if (out.status >= 500 || /^(chrome-error|about:neterror)/.test(out.url)) {
  out.body = body ? innerText(body) : "";
}
if (also !== null && also !== undefined) {
  try { out.also_count = find(also).length; } catch (e) { if (!(e instanceof DOMException && e.name === "SyntaxError")) throw e; out.error = String(e.message || e); return out; }
}
if (loc === null) {
  out.texts = [body ? innerText(body) : ""];
  return out;
}
let list;
// A selector the browser refuses is the step's mistake; any other exception is the
// browser's answer, looked at again on the next check.
try { list = find(loc); } catch (e) { if (!(e instanceof DOMException && e.name === "SyntaxError")) throw e; out.error = String(e.message || e); return out; }
out.count = list.length;
if (list.length > 1) out.several = list.slice(0, 3).map(snippet);
const el = list[0];
if (el) {
  const r = rectOf(el);
  out.visible = shown(el);
  out.text = (el instanceof HTMLElement ? innerText(el) : textContent(el) || "").trim();
  out.attr = attr === null ? null : getAttr(el, attr);
  out.centre_x = r.left + r.width / 2;
  const owner = FORM_OWNERS.some(k => el instanceof k) ? el.form : null;
  const form = el instanceof HTMLFormElement ? el : (owner || closest(el, "form"));
  if (form) { out.form_method = String(formMethod(form) || "get").toUpperCase(); out.form_action = String(formAction(form)); }
  const valued = VALUED.find(k => el instanceof k);
  out.value = valued ? String(own(valued.prototype, "value").call(el)) : null;
  const box = el instanceof HTMLInputElement && ["checkbox", "radio"].includes(String(el.type).toLowerCase());
  const aria = attrOf(el, "aria-checked");
  out.checked = box ? !!el.checked : (aria === "true" || aria === "false" ? aria === "true" : null);
  out.enabled = !matches(el, ":disabled") && attrOf(el, "aria-disabled") !== "true";
  let active = docActive(document);
  for (let inner = active && shadowOf(active); inner && shadowActive(inner); inner = shadowOf(active)) active = shadowActive(inner);
  out.focused = active === el;
  out.el = el;
}
if (all) {
  out.texts = list.slice(0, 200).map(e => (e instanceof HTMLElement ? innerText(e) : textContent(e) || "").trim());
}
return out;
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Locator {
        let part = |p: &str| match p.split_once('=') {
            Some(("text", t)) => Part::Text { text: t.into(), exact: true },
            Some(("role", r)) => Part::Role { role: r.into(), name: None },
            Some(("label", t)) => Part::Label { text: t.into(), exact: true },
            Some(("testid", t)) => Part::TestId(t.into()),
            _ => Part::Css(p.into()),
        };
        Locator(text.split(" >> ").map(part).collect())
    }

    /// The engines of a look's locators are sent, and no other: a look for plain CSS
    /// (every step of the built-in suite) sends none of them.
    #[test]
    fn a_look_sends_only_the_engines_its_locators_use() {
        let defines = |js: &str| {
            ["function byText(", "function byRole(", "function byLabel(", "function contentText(", "const textOf"]
                .map(|f| js.contains(f))
        };
        let css = parse("#id_list_table tr");
        assert_eq!(defines(script(Some(&css), None)), [false; 5]);
        assert_eq!(defines(script(None, None)), [false; 5], "a look at the page alone");
        assert_eq!(defines(script(Some(&parse("testid=new-item")), None)), [false; 5]);
        assert_eq!(defines(script(Some(&parse("text=Buy milk")), None)), [true, false, false, false, true]);
        assert_eq!(defines(script(Some(&parse("label=Email")), None)), [false, false, true, true, true]);
        let chain = parse("role=row >> text=1: Buy milk");
        assert_eq!(defines(script(Some(&chain), None)), [true, true, false, true, true]);
        // The counted locator of a capture read in the same look needs its engines too.
        assert_eq!(defines(script(Some(&css), Some(&parse("role=row")))), [false, true, false, true, true]);
    }

    /// What a look costs on the wire (WebDriver sends the script with every call): a CSS
    /// look is well under half of the whole script as it was sent before, comments and all.
    #[test]
    fn a_css_look_sends_under_half_the_bytes_of_every_engine() {
        let every = [HEAD, ENGINE_BASE, TEXT_ENGINE, NAMES, ROLE_ENGINE, LABEL_ENGINE, TAIL].concat();
        let css = script(Some(&parse("#id_text")), None).len();
        let all = script(Some(&parse("role=link >> text=x >> label=y")), None).len();
        assert!(css * 5 < every.len() * 2, "css {css} bytes, every engine as written {}", every.len());
        assert!(all < every.len(), "comments and indentation are not sent: {all} of {}", every.len());
        assert!(!script(None, None).lines().any(|l| l.trim_start().starts_with("//") || l.starts_with(' ')));
    }
}
