//! When the watcher tells someone: one alert after N failed runs in a row, one
//! "recovered" when a run passes again, never one per failed run; the watcher's own
//! trouble (no browser, driver died) as a message of its own kind, never as an outage.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// What one scheduled run said about the target.
#[derive(Clone, Debug, PartialEq)]
pub enum RunOutcome {
    Passed,
    /// The app did not behave (a scenario failed, or the target did not answer).
    Outage(Vec<Failing>),
    /// The watcher could not judge the app: its browser or driver failed.
    WatcherTrouble(String),
}

impl RunOutcome {
    /// The word kept beside each run's reports and in the metrics' `result` label.
    pub fn word(&self) -> &'static str {
        match self {
            RunOutcome::Passed => "passed",
            RunOutcome::Outage(_) => "failed",
            RunOutcome::WatcherTrouble(_) => "watcher_error",
        }
    }
}

/// A scenario that failed (or the target itself, when it did not answer).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Failing {
    pub scenario: String,
    pub message: String,
    /// Screenshot and page HTML of the failure, as written.
    pub evidence: Vec<String>,
}

/// A message for the webhook (and the console), as JSON.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Message {
    /// The target has failed `consecutive_failures` runs in a row.
    Alert {
        target: String,
        consecutive_failures: u32,
        first_failure_at: DateTime<Utc>,
        failing: Vec<Failing>,
        reports: String,
        at: DateTime<Utc>,
    },
    /// The target passes again after an alert.
    Recovered { target: String, failed_runs: u32, first_failure_at: DateTime<Utc>, reports: String, at: DateTime<Utc> },
    /// The watcher itself cannot run the scenarios: not an outage of the app.
    WatcherTrouble { target: String, consecutive: u32, message: String, first_at: DateTime<Utc>, at: DateTime<Utc> },
    /// The watcher can run the scenarios again.
    WatcherRecovered { target: String, at: DateTime<Utc> },
}

impl Message {
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Alert { .. } => "alert",
            Message::Recovered { .. } => "recovered",
            Message::WatcherTrouble { .. } => "watcher_trouble",
            Message::WatcherRecovered { .. } => "watcher_recovered",
        }
    }

    /// One line for the console.
    pub fn line(&self) -> String {
        match self {
            Message::Alert { target, consecutive_failures, failing, .. } => {
                let names: Vec<&str> = failing.iter().map(|f| f.scenario.as_str()).collect();
                format!("ALERT: {target} failed {consecutive_failures} runs in a row: {}", names.join(", "))
            }
            Message::Recovered { target, failed_runs, .. } => {
                format!("RECOVERED: {target} passes again after {failed_runs} failed runs")
            }
            Message::WatcherTrouble { consecutive, message, .. } => {
                format!("WATCHER PROBLEM (not an outage of the app): {consecutive} runs could not be judged: {message}")
            }
            Message::WatcherRecovered { .. } => "watcher recovered: runs can be judged again".into(),
        }
    }
}

#[derive(Debug, Default)]
struct Streak {
    runs: u32,
    first_at: Option<DateTime<Utc>>,
    alerted: bool,
}

impl Streak {
    fn count(&mut self, at: DateTime<Utc>) {
        self.runs += 1;
        self.first_at.get_or_insert(at);
    }
}

/// The alerting state across runs: the one place that decides who is told what.
#[derive(Debug)]
pub struct Alerts {
    target: String,
    after: u32,
    outage: Streak,
    trouble: Streak,
}

impl Alerts {
    pub fn new(target: &str, after: u32) -> Alerts {
        Alerts {
            target: target.to_string(),
            after: after.max(1),
            outage: Streak::default(),
            trouble: Streak::default(),
        }
    }

    /// Failed runs in a row (the watcher's trouble neither adds to nor clears it).
    pub fn consecutive_failures(&self) -> u32 {
        self.outage.runs
    }

    /// Count a run that ended at `at` with its reports in `reports`; the messages it causes.
    pub fn observe(&mut self, outcome: &RunOutcome, at: DateTime<Utc>, reports: &str) -> Vec<Message> {
        let target = self.target.clone();
        let mut out = Vec::new();
        if !matches!(outcome, RunOutcome::WatcherTrouble(_)) {
            // A run that could be judged ends the watcher's trouble.
            if std::mem::take(&mut self.trouble).alerted {
                out.push(Message::WatcherRecovered { target: target.clone(), at });
            }
        }
        match outcome {
            RunOutcome::Passed => {
                let streak = std::mem::take(&mut self.outage);
                if let (true, Some(first)) = (streak.alerted, streak.first_at) {
                    out.push(Message::Recovered {
                        target,
                        failed_runs: streak.runs,
                        first_failure_at: first,
                        reports: reports.to_string(),
                        at,
                    });
                }
            }
            RunOutcome::Outage(failing) => {
                self.outage.count(at);
                if self.outage.runs >= self.after && !self.outage.alerted {
                    self.outage.alerted = true;
                    out.push(Message::Alert {
                        target,
                        consecutive_failures: self.outage.runs,
                        first_failure_at: self.outage.first_at.unwrap_or(at),
                        failing: failing.clone(),
                        reports: reports.to_string(),
                        at,
                    });
                }
            }
            RunOutcome::WatcherTrouble(message) => {
                self.trouble.count(at);
                if self.trouble.runs >= self.after && !self.trouble.alerted {
                    self.trouble.alerted = true;
                    out.push(Message::WatcherTrouble {
                        target,
                        consecutive: self.trouble.runs,
                        message: message.clone(),
                        first_at: self.trouble.first_at.unwrap_or(at),
                        at,
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn down() -> RunOutcome {
        RunOutcome::Outage(vec![Failing { scenario: "home".into(), message: "refused".into(), evidence: vec![] }])
    }

    fn kinds(alerts: &mut Alerts, runs: &[RunOutcome]) -> Vec<&'static str> {
        let t0 = Utc::now();
        runs.iter()
            .enumerate()
            .flat_map(|(i, r)| alerts.observe(r, t0 + chrono::Duration::seconds(i as i64), "r"))
            .map(|m| m.kind())
            .collect()
    }

    #[test]
    fn an_outage_alerts_once_after_n_failures_and_recovers_once() {
        let mut a = Alerts::new("http://live", 2);
        let runs = [RunOutcome::Passed, down(), down(), down(), down(), RunOutcome::Passed, RunOutcome::Passed];
        assert_eq!(kinds(&mut a, &runs), ["alert", "recovered"]);
    }

    #[test]
    fn one_failure_below_the_threshold_is_never_told() {
        let mut a = Alerts::new("http://live", 2);
        assert_eq!(kinds(&mut a, &[down(), RunOutcome::Passed, down(), RunOutcome::Passed]), Vec::<&str>::new());
    }

    #[test]
    fn the_alert_names_when_the_outage_began_and_what_failed() {
        let mut a = Alerts::new("http://live", 2);
        let t0 = Utc::now();
        assert!(a.observe(&down(), t0, "r1").is_empty());
        let later = t0 + chrono::Duration::seconds(60);
        let msgs = a.observe(&down(), later, "r2");
        let json = serde_json::to_value(&msgs[0]).expect("json");
        assert_eq!(json["kind"], "alert");
        assert_eq!(json["first_failure_at"], serde_json::to_value(t0).expect("time"));
        assert_eq!(json["failing"][0]["scenario"], "home");
        assert_eq!(json["reports"], "r2");
        assert_eq!(a.consecutive_failures(), 2);
    }

    #[test]
    fn the_watchers_trouble_is_its_own_kind_and_never_an_outage_alert() {
        let mut a = Alerts::new("http://live", 2);
        let broken = RunOutcome::WatcherTrouble("no browser".into());
        let runs = [broken.clone(), broken.clone(), broken, RunOutcome::Passed];
        assert_eq!(kinds(&mut a, &runs), ["watcher_trouble", "watcher_recovered"]);
    }

    #[test]
    fn the_watchers_trouble_in_an_outage_neither_clears_nor_repeats_the_alert() {
        let mut a = Alerts::new("http://live", 2);
        let broken = RunOutcome::WatcherTrouble("driver died".into());
        let runs = [down(), broken, down(), down(), RunOutcome::Passed];
        assert_eq!(kinds(&mut a, &runs), ["alert", "recovered"]);
    }
}
