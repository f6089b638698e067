//! A DevTools connection's commands and answers: the socket, its writer, and each command
//! with an id of its own (see the module's doc) whose answer is handed to whoever waits for
//! it. Both connections ft opens are built on it: the signals' (`Devtools`, which also files
//! the events and the answers nobody waits for) and `Link`, for commands only, over which
//! the visitors' user contexts are made where the browser is a Chromium ft's own
//! chromedriver started (`contexts::Maker`).
//!
//! A `Link` is held open for the session's life: a DevTools session attached over it to a
//! visitor's tab (to mark its user agent) keeps its override only while it stays attached.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::stream::SplitStream;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use thirtyfour::WebDriver;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// What the browser sends on a connection, read frame by frame (`next_frame`).
pub(super) type Frames = SplitStream<WebSocketStream<MaybeTlsStream<TcpStream>>>;

/// Where a connection's commands go out, and the answers waited for, by id.
#[derive(Clone)]
pub(super) struct Outbox {
    out: mpsc::UnboundedSender<String>,
    next_id: Arc<AtomicU64>,
    answers: Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>,
}

impl Outbox {
    pub(super) fn new(out: mpsc::UnboundedSender<String>) -> Outbox {
        Outbox { out, next_id: Arc::new(AtomicU64::new(1)), answers: Arc::default() }
    }

    /// Send `method` to the DevTools `session` (or the browser) without waiting for its
    /// answer: its id, if it went (false once the socket closed).
    pub(super) fn send(&self, session: Option<&str>, method: &str, params: Value) -> Option<u64> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.send_as(id, session, method, params).then_some(id)
    }

    /// Send command `id`; false once the socket closed.
    fn send_as(&self, id: u64, session: Option<&str>, method: &str, params: Value) -> bool {
        let mut frame = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            frame["sessionId"] = json!(session);
        }
        self.out.send(frame.to_string()).is_ok()
    }

    /// Send `method` and wait for its answer (within `limit`, if given): its result, or
    /// what went wrong in words.
    pub(super) async fn call(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
        limit: Option<Duration>,
    ) -> Result<Value, String> {
        let (tx, rx) = oneshot::channel();
        // The answer's place is ready before the command leaves: the answer may come first.
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut a) = self.answers.lock() {
            a.insert(id, tx);
        }
        if !self.send_as(id, session, method, params) {
            self.forget(id);
            return Err(format!("{method}: the DevTools WebSocket closed"));
        }
        let answer = match limit {
            None => rx.await.ok(),
            Some(limit) => match tokio::time::timeout(limit, rx).await {
                Ok(answer) => answer.ok(),
                Err(_) => {
                    self.forget(id);
                    return Err(format!("{method}: no answer within {limit:?}"));
                }
            },
        };
        let answer = answer.ok_or_else(|| format!("{method}: the DevTools WebSocket closed"))?;
        match answer.get("error") {
            Some(e) => Err(format!("{method}: {}", e["message"].as_str().unwrap_or("failed"))),
            None => Ok(answer["result"].clone()),
        }
    }

    /// Hand the answer `frame` to command `id`'s waiter; the frame back when none waits.
    pub(super) fn deliver(&self, id: u64, frame: Value) -> Option<Value> {
        match self.answers.lock().ok().and_then(|mut a| a.remove(&id)) {
            Some(tx) => {
                let _ = tx.send(frame);
                None
            }
            None => Some(frame),
        }
    }

    /// The socket closed: every command waiting hears so (its sender dropped).
    pub(super) fn closed(&self) {
        if let Ok(mut a) = self.answers.lock() {
            a.clear();
        }
    }

    fn forget(&self, id: u64) {
        if let Ok(mut a) = self.answers.lock() {
            a.remove(&id);
        }
    }
}

/// Connect to the browser's DevTools WebSocket at `url`: the outbox, what the browser
/// sends, and the task that writes.
pub(super) async fn connect(url: &str) -> Result<(Outbox, Frames, JoinHandle<()>), String> {
    let (socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .map_err(|e| format!("failed to connect to the DevTools WebSocket: {e}"))?;
    let (mut sink, frames) = socket.split();
    let (out, mut outgoing) = mpsc::unbounded_channel::<String>();
    let writer = tokio::spawn(async move {
        while let Some(text) = outgoing.recv().await {
            if sink.send(Message::Text(text.into())).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    Ok((Outbox::new(out), frames, writer))
}

/// The next JSON frame the browser sent; `None` once the socket closed.
pub(super) async fn next_frame(frames: &mut Frames) -> Option<Value> {
    while let Some(Ok(message)) = frames.next().await {
        let Message::Text(text) = message else { continue };
        if let Ok(frame) = serde_json::from_str::<Value>(&text) {
            return Some(frame);
        }
    }
    None
}

/// The URL of the page in `tab` (a target id), asked over `outbox` (within `limit`).
pub(super) async fn page_url(outbox: &Outbox, tab: &str, limit: Option<Duration>) -> Result<String, String> {
    let info = outbox.call(None, "Target.getTargetInfo", json!({ "targetId": tab }), limit).await?;
    info["targetInfo"]["url"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("Target.getTargetInfo named no URL: {info}"))
}

/// A DevTools connection for commands only: events are dropped.
pub(in crate::browser) struct Link {
    outbox: Outbox,
    limit: Duration,
    tasks: [JoinHandle<()>; 2],
}

impl Link {
    /// Connect to the DevTools endpoint of the session's browser, within `limit`, which
    /// also bounds every command sent over it later (a wedged browser must not hang ft).
    pub(in crate::browser) async fn open(wd: &WebDriver, limit: Duration) -> Result<Link, String> {
        let open = async {
            let (outbox, mut frames, writer) = connect(&super::websocket_url(wd).await?).await?;
            let reader = {
                let outbox = outbox.clone();
                tokio::spawn(async move {
                    while let Some(frame) = next_frame(&mut frames).await {
                        if let Some(id) = frame["id"].as_u64() {
                            outbox.deliver(id, frame);
                        }
                    }
                    outbox.closed();
                })
            };
            Ok(Link { outbox, limit, tasks: [reader, writer] })
        };
        match tokio::time::timeout(limit, open).await {
            Ok(r) => r,
            Err(_) => Err(format!("the browser's DevTools endpoint did not answer within {limit:?}")),
        }
    }

    /// Send `method` (to the DevTools `session`, or the browser) and wait for its answer,
    /// bounded; its result, or what went wrong in words.
    pub(in crate::browser) async fn send(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, String> {
        self.outbox.call(session, method, params, Some(self.limit)).await
    }

    /// `send`, bounded by `limit` instead of the link's own: for a command the page holds
    /// on purpose (a wait in the page, `in_page`).
    pub(in crate::browser) async fn send_within(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
        limit: Duration,
    ) -> Result<Value, String> {
        self.outbox.call(session, method, params, Some(limit)).await
    }

    /// The URL of the page in `tab`, bounded: readable while a dialog blocks WebDriver's
    /// own commands.
    pub(in crate::browser) async fn page_url(&self, tab: &str) -> Result<String, String> {
        page_url(&self.outbox, tab, Some(self.limit)).await
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
