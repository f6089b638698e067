//! `ft watch --metrics ADDR`: the watcher's state in Prometheus' text exposition format
//! (version 0.0.4), served over plain HTTP for a scraper and a Grafana panel.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One scenario's last run.
#[derive(Clone, Debug, PartialEq)]
struct ScenarioState {
    passed: bool,
    at: f64,
    seconds: f64,
}

/// What the metrics show; the watcher updates it after every run.
#[derive(Debug, Default)]
pub struct Metrics {
    target: String,
    runs: BTreeMap<&'static str, u64>,
    scenarios: BTreeMap<String, ScenarioState>,
    consecutive_failures: u32,
    alerts: BTreeMap<&'static str, u64>,
    last_run_at: Option<f64>,
    last_run_seconds: Option<f64>,
}

pub type Shared = Arc<Mutex<Metrics>>;

impl Metrics {
    pub fn new(target: &str) -> Metrics {
        let mut m = Metrics { target: target.to_string(), ..Metrics::default() };
        for result in ["passed", "failed", "watcher_error"] {
            m.runs.insert(result, 0);
        }
        for kind in ["alert", "recovered", "watcher_trouble", "watcher_recovered"] {
            m.alerts.insert(kind, 0);
        }
        m
    }

    /// A run ended (`result`: `RunOutcome::word`) at `at` (unix seconds), taking `seconds`.
    pub fn run(&mut self, result: &'static str, at: f64, seconds: f64, consecutive_failures: u32) {
        *self.runs.entry(result).or_default() += 1;
        self.last_run_at = Some(at);
        self.last_run_seconds = Some(seconds);
        self.consecutive_failures = consecutive_failures;
    }

    /// A scenario of that run finished.
    pub fn scenario(&mut self, name: &str, passed: bool, at: f64, seconds: f64) {
        self.scenarios.insert(name.to_string(), ScenarioState { passed, at, seconds });
    }

    /// The target did not answer: every scenario seen so far is down as of `at`.
    pub fn target_down(&mut self, at: f64) {
        for s in self.scenarios.values_mut() {
            s.passed = false;
            s.at = at;
        }
    }

    pub fn alert_sent(&mut self, kind: &'static str) {
        *self.alerts.entry(kind).or_default() += 1;
    }

    /// The text format: `# HELP` and `# TYPE` once per family, then its samples.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let t = format!("target=\"{}\"", escape(&self.target));
        let mut family = |name: &str, kind: &str, help: &str, samples: Vec<(String, f64)>| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "{name}{{{labels}}} {}", number(value));
            }
        };
        family(
            "ft_watch_runs_total",
            "counter",
            "Scheduled runs by result (passed, failed: the app; watcher_error: the watcher could not judge).",
            self.runs.iter().map(|(r, n)| (format!("{t},result=\"{r}\""), *n as f64)).collect(),
        );
        family(
            "ft_watch_consecutive_failures",
            "gauge",
            "Failed runs in a row (0 after a pass).",
            vec![(t.clone(), f64::from(self.consecutive_failures))],
        );
        family(
            "ft_watch_alerts_sent_total",
            "counter",
            "Messages sent to the webhook, by kind.",
            self.alerts.iter().map(|(k, n)| (format!("{t},kind=\"{k}\""), *n as f64)).collect(),
        );
        family(
            "ft_watch_last_run_timestamp_seconds",
            "gauge",
            "When the last run ended (unix time).",
            self.last_run_at.map(|at| vec![(t.clone(), at)]).unwrap_or_default(),
        );
        family(
            "ft_watch_last_run_duration_seconds",
            "gauge",
            "How long the last run took, browser start included.",
            self.last_run_seconds.map(|s| vec![(t.clone(), s)]).unwrap_or_default(),
        );
        let per = |f: &dyn Fn(&ScenarioState) -> f64| -> Vec<(String, f64)> {
            self.scenarios.iter().map(|(name, s)| (format!("{t},scenario=\"{}\"", escape(name)), f(s))).collect()
        };
        family(
            "ft_watch_scenario_up",
            "gauge",
            "1 when the scenario passed in its last run, else 0.",
            per(&|s| if s.passed { 1.0 } else { 0.0 }),
        );
        family(
            "ft_watch_scenario_last_run_timestamp_seconds",
            "gauge",
            "When the scenario last finished (unix time).",
            per(&|s| s.at),
        );
        family(
            "ft_watch_scenario_duration_seconds",
            "gauge",
            "How long the scenario took in its last run.",
            per(&|s| s.seconds),
        );
        out
    }
}

/// A label value as the text format wants it: `\`, `"` and newlines escaped.
pub fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// A sample value: Go's float formatting as Prometheus reads it.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

/// Bind before the first run, so a bad address is reported at once.
pub async fn bind(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Connections answered at once; more wait to be accepted. A scraper or two is the load:
/// this only bounds what idle or hostile clients can hold.
const MAX_CONNECTIONS: usize = 32;

/// How long one connection may take, from accept to the answer sent.
const CONNECTION_DEADLINE: Duration = Duration::from_secs(5);

/// Answer every request with the current metrics. Connections are served side by side,
/// each with its own deadline: clients that connect and send nothing must not delay a
/// scrape (one at a time, four of them held it up for 20 s).
pub async fn serve(listener: TcpListener, metrics: Shared) -> std::convert::Infallible {
    // Dropped with this future when the watch ends: no connection outlives it.
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            Some(_) = connections.join_next() => {}
            accepted = listener.accept(), if connections.len() < MAX_CONNECTIONS => {
                let Ok((conn, _)) = accepted else { continue };
                let metrics = metrics.clone();
                connections.spawn(async move {
                    let _ = tokio::time::timeout(CONNECTION_DEADLINE, answer(conn, &metrics)).await;
                });
            }
        }
    }
}

/// Read the request's head (whatever it asks, the answer is the metrics) and answer.
async fn answer(mut conn: tokio::net::TcpStream, metrics: &Shared) -> std::io::Result<()> {
    let mut buf = vec![0u8; 4096];
    let mut head = Vec::new();
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16384 {
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let body = metrics.lock().map(|m| m.render()).unwrap_or_default();
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(response.as_bytes()).await?;
    conn.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_has_help_and_type_and_labels_are_escaped() {
        let mut m = Metrics::new("http://live");
        m.scenario("say \"hi\"\\\nnow", false, 1.7e9, 0.25);
        m.run("failed", 1.7e9, 1.5, 1);
        m.alert_sent("alert");
        let text = m.render();
        assert!(
            text.contains("ft_watch_scenario_up{target=\"http://live\",scenario=\"say \\\"hi\\\"\\\\\\nnow\"} 0\n"),
            "{text}"
        );
        assert!(text.contains("ft_watch_runs_total{target=\"http://live\",result=\"failed\"} 1\n"), "{text}");
        assert!(text.contains("ft_watch_alerts_sent_total{target=\"http://live\",kind=\"alert\"} 1\n"));
        assert!(text.contains("ft_watch_consecutive_failures{target=\"http://live\"} 1\n"));
        assert_eq!(text.matches("# TYPE ").count(), text.matches("# HELP ").count());
    }

    #[test]
    fn values_are_prometheus_floats() {
        assert_eq!(number(1.0), "1");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(f64::NAN), "NaN");
    }
}
