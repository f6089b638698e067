//! A plain DevTools connection to the browser, for commands and their answers only: the
//! visitors' user contexts are made over one (`contexts::Maker`) where the browser is a
//! Chromium ft's own chromedriver started. It is not the signals' connection (which
//! attaches to every target and may be turned off); events are dropped here.
//!
//! Held open for the session's life: a DevTools session attached over it to a visitor's
//! tab (to mark its user agent) keeps its override only while it stays attached.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use thirtyfour::WebDriver;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

/// A DevTools connection: the socket's writer, the task that hands out the answers.
pub(in crate::browser) struct Link {
    out: mpsc::UnboundedSender<String>,
    next_id: AtomicU64,
    answers: Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>,
    limit: Duration,
    tasks: [JoinHandle<()>; 2],
}

impl Link {
    /// Connect to the DevTools endpoint of the session's browser, within `limit`, which
    /// also bounds every command sent over it later (a wedged browser must not hang ft).
    pub(in crate::browser) async fn open(wd: &WebDriver, limit: Duration) -> Result<Link, String> {
        match tokio::time::timeout(limit, Link::connect(wd, limit)).await {
            Ok(r) => r,
            Err(_) => Err(format!("the browser's DevTools endpoint did not answer within {limit:?}")),
        }
    }

    async fn connect(wd: &WebDriver, limit: Duration) -> Result<Link, String> {
        let url = super::websocket_url(wd).await?;
        let (socket, _) = tokio_tungstenite::connect_async(&url)
            .await
            .map_err(|e| format!("failed to connect to the DevTools WebSocket: {e}"))?;
        let (mut sink, mut stream) = socket.split();
        let (out, mut outgoing) = mpsc::unbounded_channel::<String>();
        let writer = tokio::spawn(async move {
            while let Some(text) = outgoing.recv().await {
                if sink.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        let answers: Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>> = Arc::default();
        let reader = {
            let answers = Arc::clone(&answers);
            tokio::spawn(async move {
                while let Some(Ok(message)) = stream.next().await {
                    let Message::Text(text) = message else { continue };
                    let Ok(frame) = serde_json::from_str::<Value>(&text) else { continue };
                    let Some(id) = frame["id"].as_u64() else { continue };
                    if let Some(tx) = answers.lock().ok().and_then(|mut a| a.remove(&id)) {
                        let _ = tx.send(frame);
                    }
                }
                // Closed: every command waiting hears so (its sender dropped).
                if let Ok(mut a) = answers.lock() {
                    a.clear();
                }
            })
        };
        Ok(Link { out, next_id: AtomicU64::new(1), answers, limit, tasks: [reader, writer] })
    }

    /// Send `method` (to the DevTools `session`, or the browser) and wait for its answer,
    /// bounded; its result, or what went wrong in words.
    pub(in crate::browser) async fn send(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, String> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        // The answer's place is ready before the command leaves: the answer may come first.
        if let Ok(mut a) = self.answers.lock() {
            a.insert(id, tx);
        }
        let mut frame = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            frame["sessionId"] = json!(session);
        }
        if self.out.send(frame.to_string()).is_err() {
            return Err(format!("{method}: the DevTools WebSocket closed"));
        }
        let answer = match tokio::time::timeout(self.limit, rx).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => return Err(format!("{method}: the DevTools WebSocket closed")),
            Err(_) => {
                if let Ok(mut a) = self.answers.lock() {
                    a.remove(&id);
                }
                return Err(format!("{method}: no answer within {:?}", self.limit));
            }
        };
        match answer.get("error") {
            Some(e) => Err(format!("{method}: {}", e["message"].as_str().unwrap_or("failed"))),
            None => Ok(answer["result"].clone()),
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
