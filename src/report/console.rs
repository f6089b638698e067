//! The console: a header, a line per scenario as it finishes, then a summary.
//! Plain text without a TTY; colour only on a terminal and never with NO_COLOR. On a
//! terminal, a progress line under the others (done, failed, running and the clock),
//! redrawn in place: cleared before each line printed and drawn again after it.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use super::failure::failure_lines;
use super::{Artifacts, RunInfo};
use crate::runner::{Outcome, RunEvent, RunSummary, ScenarioStatus};
use crate::shared::durations::secs;
use crate::shared::redact::redact_text;
use crate::shared::terminal::{escape_controls, escape_line};
use crate::spec::{Action, Scenario, StepKind};
use crate::verdict::{Counts, FlakyPolicy, Verdict};

pub struct Console {
    out: Box<dyn Write + Send>,
    color: bool,
    shown_browser: bool,
    /// The progress line, when the console is a terminal that can redraw it.
    progress: Option<Progress>,
}

/// What the progress line shows, and whether it is on the screen now.
struct Progress {
    total: usize,
    done: usize,
    failed: usize,
    /// Running scenarios by index, oldest first.
    running: Vec<usize>,
    /// Every scenario's name, escaped for one line (by index).
    names: Vec<String>,
    started: Instant,
    /// How many columns the line may take (the terminal's width, asked at each redraw).
    width: Box<dyn Fn() -> usize + Send>,
    shown: bool,
}

/// Erase the line the cursor is on and go to its start.
const ERASE_LINE: &str = "\r\x1b[2K";

impl Console {
    pub fn new(out: Box<dyn Write + Send>, color: bool) -> Console {
        Console { out, color, shown_browser: false, progress: None }
    }

    /// Also draw the progress line, at most `width()` columns wide (the stream must be a
    /// terminal: it is redrawn in place).
    pub fn with_progress(mut self, width: Box<dyn Fn() -> usize + Send>) -> Console {
        self.progress = Some(Progress {
            total: 0,
            done: 0,
            failed: 0,
            running: Vec::new(),
            names: Vec::new(),
            started: Instant::now(),
            width,
            shown: false,
        });
        self
    }

    /// People's output of a run: standard output (standard error when standard output
    /// carries `--message-format json`), coloured as `--color` and the environment say.
    pub fn for_run(settings: &crate::settings::Settings) -> Console {
        use std::io::IsTerminal;
        let env = |name: &str| std::env::var(name).ok();
        let (console, fd, terminal) = if settings.json_events {
            let terminal = std::io::stderr().is_terminal();
            (Console::new(Box::new(std::io::stderr()), settings.color.enabled(terminal, env)), 2, terminal)
        } else {
            let terminal = std::io::stdout().is_terminal();
            (Console::new(Box::new(std::io::stdout()), settings.color.enabled(terminal, env)), 1, terminal)
        };
        if settings.progress && shows_progress(terminal, env) {
            console.with_progress(Box::new(move || crate::shared::terminal::width(fd).unwrap_or(80)))
        } else {
            console
        }
    }

    /// Is a progress line being drawn (so the caller's clock should tick)?
    pub fn has_progress(&self) -> bool {
        self.progress.is_some()
    }

    /// Redraw the progress line (its clock moved).
    pub fn tick(&mut self) {
        self.draw_progress();
    }

    /// The run's events are over: erase the progress line for good, so what follows (the
    /// summary, or an error) starts on a clean line.
    pub fn end_progress(&mut self) {
        let _ = self.erase_progress();
        self.progress = None;
    }

    /// Erase the progress line if it is shown; says whether it was.
    fn erase_progress(&mut self) -> bool {
        let Some(p) = self.progress.as_mut().filter(|p| p.shown) else { return false };
        p.shown = false;
        let _ = write!(self.out, "{ERASE_LINE}");
        let _ = self.out.flush();
        true
    }

    /// `[  12.3s] 3/7 done, 1 failed, 2 running: NAME, NAME`, cut to the terminal's width
    /// (a line that wrapped could not be erased in place).
    fn draw_progress(&mut self) {
        let Some(p) = &self.progress else { return };
        let clock = format!("[{:>7}]", format!("{:.1}s", p.started.elapsed().as_secs_f64()));
        let done = format!("{}/{} done", p.done, p.total);
        let failed = format!("{} failed", p.failed);
        let names: Vec<&str> = p.running.iter().filter_map(|i| p.names.get(*i).map(String::as_str)).collect();
        let running = match names.as_slice() {
            [] => "0 running".to_string(),
            _ => format!("{} running: {}", names.len(), names.join(", ")),
        };
        let plain = format!("{clock} {done}, {failed}, {running}");
        let width = (p.width)().saturating_sub(1).max(20);
        let cut = fit(&plain, width);
        // Only ft's own words are coloured, after the cut (escape sequences take no columns).
        let line = match cut.strip_prefix(&format!("{clock} {done}, {failed}")) {
            Some(rest) if self.color && p.failed > 0 => {
                format!("{} {done}, {}{rest}", self.paint("36", &clock), self.paint("31;1", &failed))
            }
            Some(rest) if self.color => format!("{} {done}, {failed}{rest}", self.paint("36", &clock)),
            _ => cut,
        };
        let _ = write!(self.out, "{ERASE_LINE}{line}");
        let _ = self.out.flush();
        if let Some(p) = &mut self.progress {
            p.shown = true;
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
        let was_shown = self.erase_progress();
        // Console output is best effort: a closed stdout must not stop a run.
        let _ = writeln!(self.out, "{label}{}", escape_controls(&text));
        let _ = self.out.flush();
        if was_shown {
            self.draw_progress();
        }
    }

    pub fn warn(&mut self, text: &str) {
        self.labelled("33", "warning:", &format!(" {text}"));
    }

    pub fn header(&mut self, info: &RunInfo, count: usize) {
        if let Some(p) = &mut self.progress {
            p.total = count;
            p.started = Instant::now();
        }
        let stage = info.stage.as_ref().map(|s| format!("[{s}] ")).unwrap_or_default();
        self.line(&format!(
            "{stage}ft {}: {count} scenario{} from {} against {}",
            env!("CARGO_PKG_VERSION"),
            if count == 1 { "" } else { "s" },
            info.specs,
            info.target
        ));
        self.line(&format!(
            "  {} worker{}, {}, max wait {:?}, poll {:?}",
            info.workers,
            if info.workers == 1 { "" } else { "s" },
            // The browser a worker starts ahead is not a worker: it runs no scenario beside.
            if info.fresh_session { "fresh sessions (the next one started ahead)" } else { "reused sessions" },
            info.patience.max_wait,
            info.patience.poll
        ));
        for note in &info.notes {
            self.line(&format!("  {}", escape_line(note)));
        }
    }

    pub fn event(&mut self, event: &RunEvent, scenarios: &[Scenario], artifacts: &Artifacts) {
        if let Some(p) = &mut self.progress {
            if p.names.len() != scenarios.len() {
                p.names = scenarios.iter().map(|s| escape_line(&s.name).into_owned()).collect();
            }
            match event {
                RunEvent::ScenarioStarted { index, .. } => p.running.push(*index),
                RunEvent::ScenarioFinished(r) => {
                    p.running.retain(|i| *i != r.index);
                    p.done += 1;
                    if matches!(r.outcome, Outcome::Failed(_) | Outcome::Error(_)) {
                        p.failed += 1;
                    }
                }
                _ => {}
            }
        }
        self.show(event, scenarios, artifacts);
        // Drawn after the event's lines, which drew it already if they printed any.
        if matches!(event, RunEvent::ScenarioStarted { .. }) {
            self.draw_progress();
        }
    }

    fn show(&mut self, event: &RunEvent, scenarios: &[Scenario], artifacts: &Artifacts) {
        match event {
            RunEvent::SessionStarted { browser, took, isolation, visitors, .. } if !self.shown_browser => {
                self.shown_browser = true;
                self.line(&format!("  browser: {browser} (session started in {})", secs(*took)));
                self.line(&format!("  isolation: {isolation}"));
                // Only where a scenario names several visitors does it matter what they are.
                if scenarios.iter().any(names_visitors) {
                    self.line(&format!("  visitors: {visitors}"));
                }
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
                let status = ScenarioStatus::of(result);
                let code = match status {
                    ScenarioStatus::Flaky => "33;1",
                    ScenarioStatus::Passed => "32",
                    ScenarioStatus::Failed => "31;1",
                    ScenarioStatus::Error => "35;1",
                    ScenarioStatus::NotRun => "33",
                    ScenarioStatus::SkippedUnsafe | ScenarioStatus::NotSelected | ScenarioStatus::OtherShard => "2",
                };
                let label = status.label();
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
        if Counts::of(summary).only_quarantined_failures() {
            self.line(&format!(
                "{c_quarantined} quarantined scenario{} failed, and no other scenario ran: nothing vouches for the app, so the run fails",
                if c_quarantined == 1 { "" } else { "s" }
            ));
        } else if c_quarantined > 0 {
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

/// Whether a console stream may carry a progress line: a terminal that can redraw it
/// (TERM is not `dumb`), and not a CI job (whose "terminal" is a log).
pub fn shows_progress(is_terminal: bool, var: impl Fn(&str) -> Option<String>) -> bool {
    let set = |name: &str| var(name).is_some_and(|v| !v.is_empty());
    is_terminal && var("TERM").as_deref() != Some("dumb") && !set("CI")
}

/// `text` in at most `width` columns, ending in `…` when cut.
fn fit(text: &str, width: usize) -> String {
    use crate::shared::terminal::columns;
    if columns(text) <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = columns(c.encode_utf8(&mut [0; 4]));
        if used + w + 1 > width {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// Whether `scenario` names a visitor (`{ visitor = "Name" }`).
fn names_visitors(scenario: &Scenario) -> bool {
    scenario.steps.iter().any(|step| matches!(step.kind, StepKind::Act(Action::Visitor(_))))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::runner::ScenarioResult;
    use crate::spec::{self, SpecSource};

    use crate::report::tests::Shared;

    fn finished(index: usize, outcome: Outcome) -> RunEvent {
        RunEvent::ScenarioFinished(ScenarioResult {
            index,
            worker: 0,
            outcome,
            started_at: chrono::Utc::now(),
            duration: Duration::from_millis(5),
            log: Vec::new(),
            earlier: Vec::new(),
        })
    }

    /// The console with a progress line `width` columns wide, and what it wrote.
    fn console(width: usize, color: bool) -> (Console, Shared) {
        let out = Shared::default();
        let mut console = Console::new(Box::new(out.clone()), color).with_progress(Box::new(move || width));
        if let Some(p) = &mut console.progress {
            p.total = 3;
        }
        (console, out)
    }

    #[test]
    fn the_progress_line_shows_done_failed_and_running_and_is_erased_around_each_printed_line() {
        let mut scenarios = spec::load(&SpecSource::BuiltIn, &Default::default(), &Default::default())
            .expect("the built-in suite loads")
            .scenarios;
        scenarios[1].name = "evil \u{1b}[2J name".into();
        let none = Artifacts::new();
        let (mut c, out) = console(200, false);
        c.event(&RunEvent::ScenarioStarted { index: 0, worker: 0 }, &scenarios, &none);
        c.event(&RunEvent::ScenarioStarted { index: 1, worker: 1 }, &scenarios, &none);
        let running = out.text();
        let last = running.rsplit(ERASE_LINE).next().unwrap_or_default();
        assert!(
            last.ends_with(&format!("0/3 done, 0 failed, 2 running: {}, evil \\u{{1b}}[2J name", scenarios[0].name)),
            "{last:?}"
        );
        c.event(&finished(0, Outcome::Passed), &scenarios, &none);
        let failure =
            crate::runner::Failure { step: None, message: "no".into(), last_seen: None, evidence: Default::default() };
        c.event(&finished(1, Outcome::Failed(failure)), &scenarios, &none);
        c.tick();
        c.end_progress();
        let text = out.text();
        // Every printed line starts on an erased line: no progress text is left before it.
        for line in text.split('\n').filter(|l| l.contains(" [")) {
            let printed = line.rsplit(ERASE_LINE).next().unwrap_or_default();
            assert!(!printed.contains("done,"), "{line:?}");
        }
        assert!(text.contains(&format!("\n{ERASE_LINE}[")), "redrawn after a printed line: {text:?}");
        let shown: Vec<&str> = text.split(ERASE_LINE).filter(|s| s.starts_with('[')).collect();
        assert!(shown.last().is_some_and(|l| l.contains("2/3 done, 1 failed, 0 running")), "{shown:?}");
        assert!(text.ends_with(ERASE_LINE), "erased for good at the end: {text:?}");
        c.line("summary");
        assert!(out.text().ends_with(&format!("{ERASE_LINE}summary\n")), "not drawn again after the end");
    }

    #[test]
    fn the_progress_line_never_wraps_and_is_coloured_only_with_colour() {
        let scenarios =
            spec::load(&SpecSource::BuiltIn, &Default::default(), &Default::default()).expect("loads").scenarios;
        let none = Artifacts::new();
        let (mut c, out) = console(40, false);
        c.event(&RunEvent::ScenarioStarted { index: 0, worker: 0 }, &scenarios, &none);
        let line = out.text().rsplit(ERASE_LINE).next().unwrap_or_default().to_string();
        assert_eq!(line.chars().count(), 39, "{line:?}");
        assert!(line.ends_with('…') && !line.contains('\x1b'), "{line:?}");
        let (mut c, out) = console(200, true);
        c.event(&RunEvent::ScenarioStarted { index: 0, worker: 0 }, &scenarios, &none);
        assert!(out.text().contains("\x1b[36m["), "{:?}", out.text());
    }

    #[test]
    fn progress_needs_a_terminal_that_can_redraw_and_no_ci() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
        };
        assert!(shows_progress(true, env(&[("TERM", "xterm-256color")])));
        assert!(shows_progress(true, env(&[])));
        assert!(!shows_progress(false, env(&[("TERM", "xterm")])));
        assert!(!shows_progress(true, env(&[("TERM", "dumb")])));
        assert!(!shows_progress(true, env(&[("TERM", "xterm"), ("CI", "true")])));
        assert!(shows_progress(true, env(&[("CI", "")])), "an empty CI is unset");
    }
}
