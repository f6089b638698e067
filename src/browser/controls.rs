//! The controls of real apps, as session operations: cookies, history, selects,
//! checkboxes, hover, file uploads, dialogs, frames and tabs. Each is bounded like every
//! other command; the runner decides when to wait and what a result means.
//!
//! A session remembers what these leave behind that the next visitor must not inherit (a
//! frame entered, tabs opened or switched to): `leave` undoes it before a reset, and
//! only when something was left (no round trip otherwise).

use std::sync::Mutex;

use serde_json::json;
use thirtyfour::{Cookie, SameSite, WebElement, WindowHandle};

use super::{BrowserError, Session};
use crate::shared::keys::{Chord, Modifier, Pressed};
use crate::shared::locator::Locator;

/// What the controls left behind, per session.
#[derive(Debug, Default)]
pub(super) struct Controls {
    /// The visitor's tabs in the order ft first saw them (the first is the one it had
    /// when a step first asked): "first", "newest" and numbers count in this order,
    /// whatever order the browser lists them in.
    tabs: Mutex<Vec<String>>,
    /// A step entered a frame, or switched or closed a tab: a reset must come home first.
    moved: std::sync::atomic::AtomicBool,
    /// The remote end is a Selenium Grid: a file to upload is sent to it first.
    grid: bool,
}

impl Controls {
    pub(super) fn new(grid: bool) -> Controls {
        Controls { grid, ..Controls::default() }
    }

    fn moved(&self) {
        self.moved.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// A new visitor in a tab of its own: nothing is left to undo.
    pub(super) fn forget(&self) {
        self.moved.store(false, std::sync::atomic::Ordering::Relaxed);
        if let Ok(mut tabs) = self.tabs.lock() {
            tabs.clear();
        }
    }
}

/// A dialog is open, as WebDriver words it when a command meets one.
pub(super) fn is_dialog_open(e: &BrowserError) -> bool {
    // W3C's error code, and thirtyfour's words for it.
    matches!(e, BrowserError::WebDriver(m) if m.contains("unexpected alert open") || m.contains("unexpected alert is currently open"))
}

impl Session {
    /// Set `cookie` for the page's site (the browser takes it for the current document's
    /// host; on about:blank it refuses).
    pub async fn set_cookie(&self, cookie: &crate::shared::cookie::Cookie) -> Result<(), BrowserError> {
        if let Some((jar, tab)) = self.cookie_jar().await {
            let host = self.page_host().await?;
            jar.set_cookie(&tab, &host, cookie).await.map_err(BrowserError::WebDriver)?;
            return Ok(());
        }
        let wd = self.wd()?;
        let mut c = Cookie::new(cookie.name.clone(), cookie.value.clone());
        c.path = cookie.path.clone();
        c.secure = cookie.secure;
        c.http_only = cookie.http_only;
        c.same_site = cookie.same_site.as_deref().map(|s| match s {
            "Strict" => SameSite::Strict,
            "Lax" => SameSite::Lax,
            _ => SameSite::None,
        });
        self.bounded(wd.add_cookie(c)).await
    }

    pub async fn delete_cookie(&self, name: &str) -> Result<(), BrowserError> {
        if let Some((jar, tab)) = self.cookie_jar().await {
            let host = self.page_host().await?;
            jar.delete_cookie(&tab, &host, name).await.map_err(BrowserError::WebDriver)?;
            return Ok(());
        }
        let wd = self.wd()?;
        self.bounded(wd.delete_cookie(name.to_string())).await
    }

    /// The cookies the page's site has, as name and value: one round trip.
    pub async fn cookies(&self) -> Result<Vec<(String, String)>, BrowserError> {
        if let Some((jar, tab)) = self.cookie_jar().await {
            let host = self.page_host().await?;
            return jar.cookies(&tab, &host).await.map_err(BrowserError::WebDriver);
        }
        let wd = self.wd()?;
        let all = self.bounded(wd.get_all_cookies()).await?;
        Ok(all.into_iter().map(|c| (c.name, c.value)).collect())
    }

    /// The host of the page shown: the domain a cookie set over BiDi is for.
    async fn page_host(&self) -> Result<String, BrowserError> {
        let url = self.current_url().await?;
        reqwest::Url::parse(&url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .ok_or_else(|| BrowserError::WebDriver(format!("the page {url} has no host to set a cookie for")))
    }

    pub async fn reload(&self) -> Result<(), BrowserError> {
        let wd = self.wd()?;
        self.bounded(wd.refresh()).await
    }

    pub async fn back(&self) -> Result<(), BrowserError> {
        let wd = self.wd()?;
        self.bounded(wd.back()).await
    }

    pub async fn forward(&self) -> Result<(), BrowserError> {
        let wd = self.wd()?;
        self.bounded(wd.forward()).await
    }

    /// Choose the option of the `<select>` `locator` finds whose label (its shown text) is
    /// `option`, else whose value is: by clicking it, as a person's choice would, unless
    /// it is chosen already (a click on a chosen option of a multiple select would
    /// unchoose it). A missing option fails naming the options there are.
    pub async fn select(&self, locator: &Locator, option: &str) -> Result<(), BrowserError> {
        const FIND_JS: &str = r#"
const [el, want] = arguments;
if (!(el instanceof HTMLSelectElement)) { return { why: "it is a <" + el.localName + ">, not a <select>" }; }
const norm = s => s.replace(/\s+/g, " ").trim();
const options = Array.from(el.options);
const found = options.find(o => norm(o.label) === want) || options.find(o => o.value === want);
if (!found) {
  const shown = options.slice(0, 20).map(o => JSON.stringify(norm(o.label)) + (o.value !== norm(o.label) ? " (" + JSON.stringify(o.value) + ")" : ""));
  return { why: "it has no option labelled or valued " + JSON.stringify(want) + "; its options: " + (shown.join(", ") || "none") + (options.length > 20 ? ", …" : "") };
}
if (found.disabled) { return { why: "its option " + JSON.stringify(norm(found.label)) + " is disabled" }; }
return { option: found.selected ? null : found };
"#;
        let wd = self.wd()?;
        let el = self.element(locator).await?;
        let arg = el.to_json().map_err(BrowserError::from_wd)?;
        let ret = self.bounded(wd.execute(FIND_JS, vec![arg, json!(option)])).await?;
        let answer = ret.json();
        if let Some(why) = answer["why"].as_str() {
            return Err(BrowserError::WebDriver(format!("cannot select {option:?} in {locator}: {why}")));
        }
        match &answer["option"] {
            serde_json::Value::Null => Ok(()),
            found => {
                let option =
                    WebElement::from_json(found.clone(), wd.handle().clone()).map_err(BrowserError::from_wd)?;
                self.bounded(option.click()).await
            }
        }
    }

    /// Make the checkbox or radio button `locator` finds checked (`want`) or not, by a click
    /// if it is not so already; then it must be: a disabled box, or a radio button
    /// clicked to uncheck it, does not change, and that is an error.
    pub async fn set_checked(&self, locator: &Locator, want: bool) -> Result<(), BrowserError> {
        // `checked` for inputs; `aria-checked` for a control drawn by the page.
        const STATE_JS: &str = r#"
const el = arguments[0];
if (el instanceof HTMLInputElement && (el.type === "checkbox" || el.type === "radio")) { return el.checked; }
const aria = el.getAttribute("aria-checked");
return aria === null ? "it is neither a checkbox nor a radio button (nor has aria-checked)" : aria === "true";
"#;
        let wd = self.wd()?;
        let el = self.element(locator).await?;
        let arg = el.to_json().map_err(BrowserError::from_wd)?;
        let state = |ret: serde_json::Value| match ret {
            serde_json::Value::Bool(b) => Ok(b),
            other => Err(BrowserError::WebDriver(format!("cannot check {locator}: {}", other.as_str().unwrap_or("?")))),
        };
        if state(self.bounded(wd.execute(STATE_JS, vec![arg.clone()])).await?.json().clone())? == want {
            return Ok(());
        }
        self.bounded(el.click()).await?;
        if state(self.bounded(wd.execute(STATE_JS, vec![arg])).await?.json().clone())? == want {
            return Ok(());
        }
        let (did, how) = if want { ("check", "checked") } else { ("uncheck", "unchecked") };
        Err(BrowserError::WebDriver(format!(
            "clicking {locator} did not {did} it: it is not {how} after the click (is it disabled, or a radio button, which only another choice unchecks?)"
        )))
    }

    /// Move the pointer over the centre of the element `locator` finds (WebDriver actions).
    pub async fn hover(&self, locator: &Locator) -> Result<(), BrowserError> {
        let wd = self.wd()?;
        let el = self.element(locator).await?;
        self.bounded(wd.action_chain().move_to_element_center(&el).perform()).await
    }

    /// Put `file` into the file input `locator` finds. Through a Selenium Grid the file is
    /// on this machine and the browser on another: it is sent to the Grid first (its
    /// `se/file` command), and the input is given the path the Grid answers.
    pub async fn upload(&self, locator: &Locator, file: &std::path::Path) -> Result<(), BrowserError> {
        let el = self.element(locator).await?;
        let local = file.display().to_string();
        let path = match self.controls.grid {
            // `--webdriver` may name a plain driver, which has no `se/file`: it shares
            // this machine's files (or says the path is not there).
            true => match self.send_file(file).await {
                Ok(path) => path,
                Err(BrowserError::WebDriver(m)) if m.contains("unknown command") || m.contains("404") => local,
                Err(e) => return Err(e),
            },
            false => local,
        };
        self.bounded(el.send_keys(path)).await
    }

    /// Send `file` to a Selenium Grid's node (`POST /session/{id}/se/file`, a zip of the one
    /// file in base64); the path it was stored at there.
    async fn send_file(&self, file: &std::path::Path) -> Result<String, BrowserError> {
        use base64::Engine;
        let wd = self.wd()?;
        let bytes = std::fs::read(file)
            .map_err(|e| BrowserError::WebDriver(format!("failed to read {}: {e}", file.display())))?;
        let name = file.file_name().map_or("upload".into(), |n| n.to_string_lossy().into_owned());
        let zip = stored_zip(&name, &bytes);
        let body = json!({ "file": base64::engine::general_purpose::STANDARD.encode(zip) });
        let command = SeFile(body);
        let sent = self.bounded(async {
            wd.handle()
                .cmd(thirtyfour::common::command::Command::ExtensionCommand(Box::new(command)))
                .await?
                .value_json()
        });
        let answer = sent.await?;
        answer
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| BrowserError::WebDriver(format!("the Grid took the file but named no path: {answer}")))
    }

    /// The text of the open dialog (alert, confirm, prompt), or `None` when none is open.
    pub async fn dialog_text(&self) -> Result<Option<String>, BrowserError> {
        use thirtyfour::error::WebDriverErrorInner;
        let wd = self.wd()?;
        match tokio::time::timeout(self.timeout(), wd.get_alert_text()).await {
            Ok(Ok(text)) => Ok(Some(text)),
            Ok(Err(e)) if matches!(&*e, WebDriverErrorInner::NoSuchAlert(_)) => Ok(None),
            Ok(Err(e)) => Err(BrowserError::from_wd(e)),
            Err(_) => Err(BrowserError::Timeout(self.timeout())),
        }
    }

    /// The error for a command a dialog stopped: the dialog's text and the steps that
    /// answer it (one more round trip, only when a dialog is open).
    pub(super) async fn dialog_in_the_way(&self) -> BrowserError {
        let text = match self.dialog_text().await {
            Ok(Some(text)) => format!(", saying {text:?}"),
            _ => String::new(),
        };
        BrowserError::WebDriver(format!(
            "a dialog is open{text}: answer it with {{ accept_dialog = true }} or {{ dismiss_dialog = true }}"
        ))
    }

    /// The URL of the page the open dialog belongs to (the current visitor's tab). A dialog
    /// blocks WebDriver's own commands that read the page (its URL too), so it is read over
    /// the session's WebDriver BiDi connection; without one, why it cannot be known.
    pub async fn dialog_page(&self) -> Result<String, String> {
        if let Some(visitor) = self.cast.current_session() {
            return Box::pin(visitor.dialog_page()).await;
        }
        let wd = self.wd().map_err(|e| e.to_string())?;
        // The window handle is the BiDi context's id; WebDriver answers it through a dialog.
        let tab = self.bounded(wd.window()).await.map_err(|e| e.to_string())?.to_string();
        if let Some(url) = self.signals.page_url(&tab, self.timeout()).await {
            return url;
        }
        match &self.contexts {
            Ok(contexts) => contexts.page_url(&tab).await,
            // The connection visitors' user contexts are made over (opened now if need be).
            // (`wd` is the session's own: a visitor of a session of its own asked it above.)
            Err(_) => match self.cast.maker(&wd, self.timeout()).await {
                Ok(maker) => maker.page_url(&tab).await,
                Err(why) => Err(format!(
                    "WebDriver's own commands cannot read the URL while a dialog is open, and there is no \
                     WebDriver BiDi: {why}"
                )),
            },
        }
    }

    /// Accept the open dialog (typing `prompt` first) or dismiss it.
    pub async fn answer_dialog(&self, accept: bool, prompt: Option<&str>) -> Result<(), BrowserError> {
        let wd = self.wd()?;
        if let Some(answer) = prompt {
            self.bounded(wd.send_alert_text(answer.to_string())).await.map_err(|e| match e {
                BrowserError::WebDriver(m) => BrowserError::WebDriver(format!(
                    "failed to answer the dialog: it is not a prompt, or takes no text (the browser said: {m})"
                )),
                e => e,
            })?;
        }
        if accept {
            self.bounded(wd.accept_alert()).await
        } else {
            self.bounded(wd.dismiss_alert()).await
        }
    }

    /// From now on, act and look inside the frame `locator` finds.
    pub async fn enter_frame(&self, locator: &Locator) -> Result<(), BrowserError> {
        let el = self.element(locator).await?;
        self.controls.moved();
        self.in_page.in_frame(true);
        self.bounded(el.enter_frame()).await?;
        self.forget_inspected();
        Ok(())
    }

    /// Back to the page itself, out of any frame.
    pub async fn main_frame(&self) -> Result<(), BrowserError> {
        let wd = self.wd()?;
        self.bounded(wd.enter_default_frame()).await?;
        self.in_page.in_frame(false);
        self.forget_inspected();
        Ok(())
    }

    /// The current visitor's tabs, in the order ft first saw them (see `Controls::tabs`).
    /// With user contexts the session also holds other visitors' tabs (and the next one,
    /// made ahead): only those in the current tab's user context are this visitor's
    /// (`tabs_beside`).
    pub async fn tabs(&self) -> Result<Vec<String>, BrowserError> {
        let wd = self.wd()?;
        self.controls.moved();
        let current = self.bounded(wd.window()).await?.to_string();
        let open: Vec<String> = match self.tabs_beside(&current).await {
            Some(beside) => beside.map_err(BrowserError::WebDriver)?,
            None => self.bounded(wd.windows()).await?.into_iter().map(|h| h.to_string()).collect(),
        };
        let mut tabs = self.controls.tabs.lock().map_err(|_| BrowserError::WebDriver("poisoned".into()))?;
        // A visitor ft has not seen before starts the order with the tab it is in.
        if !tabs.contains(&current) {
            *tabs = vec![current];
        }
        tabs.retain(|t| open.contains(t));
        for t in open {
            if !tabs.contains(&t) {
                tabs.push(t);
            }
        }
        Ok(tabs.clone())
    }

    /// Drive the tab `handle` (one of `tabs`), brought to the front.
    pub async fn switch_tab(&self, handle: &str) -> Result<(), BrowserError> {
        let wd = self.wd()?;
        self.controls.moved();
        self.bounded(wd.switch_to_window(WindowHandle::from(handle.to_string()))).await?;
        // A tab is driven at its page, out of any frame.
        self.in_page.in_frame(false);
        self.signals.follow(handle);
        self.forget_inspected();
        Ok(())
    }

    /// Close the current tab and drive the visitor's first one left. The last tab is not
    /// closed: the visitor (and, without user contexts, the session) would end with it.
    pub async fn close_tab(&self) -> Result<(), BrowserError> {
        let wd = self.wd()?;
        let tabs = self.tabs().await?;
        let current = self.bounded(wd.window()).await?.to_string();
        let Some(next) = tabs.iter().find(|t| **t != current).cloned() else {
            return Err(BrowserError::WebDriver(
                "this is the visitor's only tab: closing it would end the visitor".into(),
            ));
        };
        self.controls.moved();
        self.bounded(wd.close_window()).await?;
        self.switch_tab(&next).await
    }

    /// Undo what the controls left for the next visitor of this session (reset only): a
    /// dialog left open is dismissed, tabs opened since are closed, and the first tab is
    /// driven again, out of any frame. No round trip when no step moved anything.
    pub(super) async fn leave(&self) -> Result<(), BrowserError> {
        let moved = self.controls.moved.swap(false, std::sync::atomic::Ordering::Relaxed);
        // A page may have opened a tab no step switched to: BiDi tells (no round trip);
        // without it, the tabs are counted.
        let opened = self.signals.take_tab_opened();
        if !moved && opened == Some(false) {
            return Ok(());
        }
        let wd = self.wd()?;
        if !moved && self.bounded(wd.windows()).await?.len() < 2 {
            return Ok(());
        }
        let tabs = self.tabs().await?;
        let home = tabs.first().cloned();
        for tab in tabs.iter().skip(1) {
            self.bounded(wd.switch_to_window(WindowHandle::from(tab.clone()))).await?;
            self.dismiss_any_dialog().await;
            self.bounded(wd.close_window()).await?;
        }
        if let Some(home) = home {
            self.bounded(wd.switch_to_window(WindowHandle::from(home.clone()))).await?;
            self.signals.follow(&home);
            self.in_page.in_frame(false);
        }
        self.controls.forget();
        self.forget_inspected();
        Ok(())
    }

    /// Dismiss a dialog if one is open: a visitor's dialog must not hold the next one.
    pub(super) async fn dismiss_any_dialog(&self) {
        if let Ok(wd) = self.wd() {
            let _ = self.bounded(wd.dismiss_alert()).await;
        }
    }
}

/// The WebDriver keys of `chord`: the modifiers, then the key. Element Send Keys holds a
/// modifier until the command ends (or a second press of it), so this presses the chord
/// and releases it all.
pub(super) fn chord_keys(chord: &Chord, named: impl Fn(crate::shared::keys::Key) -> char) -> String {
    use thirtyfour::Key as WdKey;
    let mut keys = String::new();
    for m in chord.modifiers() {
        let key = match m {
            Modifier::Control => WdKey::Control,
            Modifier::Shift => WdKey::Shift,
            Modifier::Alt => WdKey::Alt,
            Modifier::Meta => WdKey::Meta,
        };
        keys.push(key.value());
    }
    match (chord.key, chord.character()) {
        (Pressed::Named(key), _) => keys.push(named(key)),
        (_, Some(c)) => keys.push(c),
        (Pressed::Char(c), None) => keys.push(c),
    }
    if chord.modifiers().next().is_some() {
        // The Null key releases every modifier held: the typing after it is plain.
        keys.push(WdKey::Null.value());
    }
    keys
}

/// Selenium Grid's own command to receive a file (`se/file`).
#[derive(Debug)]
struct SeFile(serde_json::Value);

impl thirtyfour::common::command::ExtensionCommand for SeFile {
    fn parameters_json(&self) -> Option<serde_json::Value> {
        Some(self.0.clone())
    }
    fn method(&self) -> reqwest::Method {
        reqwest::Method::POST
    }
    fn endpoint(&self) -> std::sync::Arc<str> {
        "/se/file".into()
    }
}

/// A zip archive holding one file, stored (not compressed): what Selenium's `se/file`
/// unpacks. Local header, data, central directory, end record (PKWARE APPNOTE 4.3).
fn stored_zip(name: &str, data: &[u8]) -> Vec<u8> {
    let crc = crc32(data);
    let (size, name_len) = (data.len() as u32, name.len() as u16);
    let mut zip = Vec::with_capacity(data.len() + 100 + 2 * name.len());
    let common = |zip: &mut Vec<u8>| {
        zip.extend_from_slice(&20u16.to_le_bytes()); // version needed
        zip.extend_from_slice(&0u16.to_le_bytes()); // flags
        zip.extend_from_slice(&0u16.to_le_bytes()); // stored
        zip.extend_from_slice(&0u32.to_le_bytes()); // time, date
        zip.extend_from_slice(&crc.to_le_bytes());
        zip.extend_from_slice(&size.to_le_bytes());
        zip.extend_from_slice(&size.to_le_bytes());
        zip.extend_from_slice(&name_len.to_le_bytes());
        zip.extend_from_slice(&0u16.to_le_bytes()); // extra
    };
    zip.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    common(&mut zip);
    zip.extend_from_slice(name.as_bytes());
    zip.extend_from_slice(data);
    let central = zip.len() as u32;
    zip.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    zip.extend_from_slice(&20u16.to_le_bytes()); // made by
    common(&mut zip);
    zip.extend_from_slice(&[0; 8]); // comment, disk, internal attributes
    zip.extend_from_slice(&0u32.to_le_bytes()); // external attributes
    zip.extend_from_slice(&0u32.to_le_bytes()); // local header offset
    zip.extend_from_slice(name.as_bytes());
    let central_len = zip.len() as u32 - central;
    zip.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    zip.extend_from_slice(&[0; 4]); // disks
    zip.extend_from_slice(&1u16.to_le_bytes());
    zip.extend_from_slice(&1u16.to_le_bytes());
    zip.extend_from_slice(&central_len.to_le_bytes());
    zip.extend_from_slice(&central.to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes()); // comment
    zip
}

/// CRC-32 (IEEE), bit by bit: a file to upload is small and sent once.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_is_the_ieee_one() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn a_stored_zip_holds_the_file_where_its_directory_says() {
        let zip = stored_zip("a.txt", b"hello");
        assert_eq!(&zip[..4], b"PK\x03\x04");
        assert_eq!(&zip[30..35], b"a.txt");
        assert_eq!(&zip[35..40], b"hello");
        let end = &zip[zip.len() - 22..];
        assert_eq!(&end[..4], b"PK\x05\x06");
        let central = u32::from_le_bytes([end[16], end[17], end[18], end[19]]) as usize;
        assert_eq!(&zip[central..central + 4], b"PK\x01\x02");
    }

    #[test]
    fn a_chord_holds_its_modifiers_and_releases_them() {
        let keys = chord_keys(&Chord::parse("Control+A").expect("chord"), |_| '?');
        assert_eq!(keys, "\u{e009}a\u{e000}");
        assert_eq!(chord_keys(&Chord::parse("Enter").expect("chord"), |_| '\u{e007}'), "\u{e007}");
    }
}
