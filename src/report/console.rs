//! The console: a header, a line per scenario as it finishes, then a summary.
//! Plain text without a TTY; colour only on a terminal and never with NO_COLOR.

use std::io::Write;
use std::path::PathBuf;

use super::failure::failure_lines;
use super::{Artifacts, RunInfo};
use crate::runner::{Outcome, RunEvent, RunSummary};
use crate::shared::durations::secs;
use crate::shared::redact::redact_text;
use crate::shared::terminal::{escape_controls, escape_line};
use crate::spec::Scenario;
use crate::verdict::{Counts, FlakyPolicy, Verdict};

pub struct Console {
    out: Box<dyn Write + Send>,
    color: bool,
    shown_browser: bool,
}

impl Console {
    pub fn new(out: Box<dyn Write + Send>, color: bool) -> Console {
        Console { out, color, shown_browser: false }
    }

    /// People's output of a run: standard output (standard error when standard output
    /// carries `--message-format json`), coloured as `--color` and the environment say.
    pub fn for_run(settings: &crate::settings::Settings) -> Console {
        use std::io::IsTerminal;
        let env = |name: &str| std::env::var(name).ok();
        if settings.json_events {
            let color = settings.color.enabled(std::io::stderr().is_terminal(), env);
            Console::new(Box::new(std::io::stderr()), color)
        } else {
            let color = settings.color.enabled(std::io::stdout().is_terminal(), env);
            Console::new(Box::new(std::io::stdout()), color)
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// One line of text, made safe for a terminal.
    pub(super) fn line(&mut self, text: &str) {
        self.labelled("", "", text);
    }

    /// ft's own `label`, coloured with `code` (the only escape sequences ft writes),
    /// then `text`, made safe: the last guard for secrets (whatever a message quotes, a
    /// URL with user info, a token parameter, is hidden) and for the terminal (control
    /// characters from names, pages, drivers and browsers are shown escaped).
    fn labelled(&mut self, code: &str, label: &str, text: &str) {
        let label = if label.is_empty() { String::new() } else { self.paint(code, label) };
        let text = redact_text(text);
        // Console output is best effort: a closed stdout must not stop a run.
        let _ = writeln!(self.out, "{label}{}", escape_controls(&text));
        let _ = self.out.flush();
    }

    pub fn warn(&mut self, text: &str) {
        self.labelled("33", "warning:", &format!(" {text}"));
    }

    pub fn header(&mut self, info: &RunInfo, count: usize) {
        let stage = info.stage.as_ref().map(|s| format!("[{s}] ")).unwrap_or_default();
        self.line(&format!(
            "{stage}ft {}: {count} scenario{} from {} against {}",
            env!("CARGO_PKG_VERSION"),
            if count == 1 { "" } else { "s" },
            info.specs,
            info.target
        ));
        self.line(&format!(
            "  {} worker{}, {} sessions, max wait {:?}, poll {:?}",
            info.workers,
            if info.workers == 1 { "" } else { "s" },
            if info.fresh_session { "fresh" } else { "reused" },
            info.patience.max_wait,
            info.patience.poll
        ));
    }

    pub fn event(&mut self, event: &RunEvent, scenarios: &[Scenario], artifacts: &Artifacts) {
        match event {
            RunEvent::SessionStarted { browser, took, isolation, .. } if !self.shown_browser => {
                self.shown_browser = true;
                self.line(&format!("  browser: {browser} (session started in {})", secs(*took)));
                self.line(&format!("  isolation: {isolation}"));
            }
            RunEvent::AttemptFailed { index, number, attempt, .. } => {
                let Some(scenario) = scenarios.get(*index) else { return };
                let rest = format!(
                    " [{:>7}] {} (attempt {number} failed)",
                    secs(attempt.duration),
                    escape_line(&scenario.name)
                );
                self.labelled("33", &format!("{:>7}", "RETRY"), &rest);
                self.outcome_lines(scenario, &attempt.outcome, artifacts.get(&(*index, *number)));
            }
            RunEvent::ScenarioFinished(result) => {
                let Some(scenario) = scenarios.get(result.index) else { return };
                let (code, label) = match &result.outcome {
                    Outcome::Passed if result.is_flaky() => ("33;1", "FLAKY"),
                    Outcome::Passed => ("32", "PASS"),
                    Outcome::Failed(_) => ("31;1", "FAIL"),
                    Outcome::Error(_) => ("35;1", "ERROR"),
                    Outcome::NotRun(_) => ("33", "NOT RUN"),
                    Outcome::Skipped(_) => ("2", "SKIP"),
                };
                let attempts = match result.earlier.len() {
                    0 => String::new(),
                    n => format!(" (attempt {} of {})", n + 1, n + 1),
                };
                let quarantine = match (&scenario.quarantine, &result.outcome) {
                    (Some(why), Outcome::Failed(_) | Outcome::Error(_)) => {
                        format!(" (quarantined: {}; does not fail the run unless --no-quarantine)", escape_line(why))
                    }
                    _ => String::new(),
                };
                let rest =
                    format!(" [{:>7}] {}{attempts}{quarantine}", secs(result.duration), escape_line(&scenario.name));
                self.labelled(code, &format!("{label:>7}"), &rest);
                let number = result.earlier.len() + 1;
                self.outcome_lines(scenario, &result.outcome, artifacts.get(&(result.index, number)));
            }
            RunEvent::WorkerStopped { worker, reason } => {
                let first = reason.lines().next().unwrap_or("");
                self.warn(&format!("worker {} could not start a browser and stopped: {first}", worker + 1))
            }
            RunEvent::Interrupted { .. } => {
                self.warn("interrupted: no new scenarios start; running ones may finish (interrupt again to stop now)")
            }
            _ => {}
        }
    }

    fn outcome_lines(&mut self, scenario: &Scenario, outcome: &Outcome, files: Option<&Vec<PathBuf>>) {
        match outcome {
            Outcome::Failed(f) | Outcome::Error(f) => {
                for l in failure_lines(scenario, f, files) {
                    self.line(&format!("          {l}"));
                }
            }
            Outcome::NotRun(why) | Outcome::Skipped(why) => self.line(&format!("          {why}")),
            Outcome::Passed => {}
        }
    }

    /// The closing lines: the verdict first (as the exit code will have it), then counts.
    pub fn summary(&mut self, summary: &RunSummary, verdict: Verdict, flaky_policy: FlakyPolicy, written: &[PathBuf]) {
        let Counts { passed, flaky, failed, errors, not_run, skipped, quarantined_failed: c_quarantined, .. } =
            Counts::of(summary);
        let colour = match (verdict.is_green(flaky_policy), verdict) {
            (true, Verdict::Green) => "32;1",
            (true, _) => "33;1",
            (false, _) => "31;1",
        };
        let counts = format!(
            ": {} scenario{}: {passed} passed{}, {failed} failed, {errors} errors, {not_run} not run in {}",
            summary.results.len(),
            if summary.results.len() == 1 { "" } else { "s" },
            if flaky > 0 { format!(" ({flaky} flaky)") } else { String::new() },
            secs(summary.wall),
        );
        self.labelled(colour, &verdict.headline(flaky_policy), &counts);
        if c_quarantined > 0 {
            self.line(&format!(
                "{c_quarantined} quarantined scenario{} failed and did not count (see above)",
                if c_quarantined == 1 { "" } else { "s" }
            ));
        }
        if skipped > 0 {
            self.line(&format!(
                "{skipped} scenario{} skipped on purpose (see above)",
                if skipped == 1 { "" } else { "s" }
            ));
        }
        // Only the files this run wrote: one a full disk refused has its warning above.
        if written.is_empty() {
            self.line("reports: none written (see the warnings above)");
        } else {
            let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
            self.line(&format!("reports: {}", names.join(", ")));
        }
    }
}
