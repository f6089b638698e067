//! What the deploy pipeline tells the world, as events; the console and the history line
//! (deploys.jsonl) are sinks that consume them, like the runner's reporters.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};

use super::history::{DeployRecord, StageRecord};
use crate::shared::redact::redact_text;

/// Everything the pipeline reports, in order.
#[derive(Clone, Debug)]
pub enum DeployEvent {
    /// A line for people: the header, the plan, tags, warnings.
    Note(String),
    /// A stage begins (`== live deploy: …`).
    StageStarted { name: String, what: String },
    /// A stage ended, as the history keeps it.
    StageFinished(StageRecord),
}

/// The console: plain lines on any writer.
pub struct ConsoleSink<'a> {
    pub out: &'a mut dyn Write,
}

impl ConsoleSink<'_> {
    /// Print `event` as one line.
    pub fn event(&mut self, event: &DeployEvent) {
        // Console output is best effort: a closed stdout must not stop a release.
        let line = match event {
            DeployEvent::Note(line) => line.clone(),
            DeployEvent::StageStarted { name, what } => format!("== {name}: {what}"),
            DeployEvent::StageFinished(stage) => format!("   {}: {}", stage.name, stage.detail),
        };
        // One event, one line: a scenario name or a command's words with a line break
        // (or an ESC sequence) must not print a line ft did not write.
        let _ = writeln!(self.out, "{}", crate::shared::terminal::escape_line(&redact_text(&line)));
        let _ = self.out.flush();
    }
}

/// The history line collects the stages as they finish.
impl DeployRecord {
    pub fn event(&mut self, event: &DeployEvent) {
        if let DeployEvent::StageFinished(stage) = event {
            self.stages.push(stage.clone());
        }
    }
}

/// A stage under way: started by `Stage::start`, ended by `finish` into the one
/// `StageFinished` event every stage ends with.
pub struct Stage {
    name: String,
    started_at: DateTime<Utc>,
    t0: Instant,
    file: Option<PathBuf>,
}

impl Stage {
    pub fn start(name: &str, what: &str, file: Option<&Path>) -> (Stage, DeployEvent) {
        let stage = Stage {
            name: name.to_string(),
            started_at: Utc::now(),
            t0: Instant::now(),
            file: file.map(Path::to_path_buf),
        };
        (stage, DeployEvent::StageStarted { name: name.to_string(), what: what.to_string() })
    }

    pub fn elapsed(&self) -> std::time::Duration {
        self.t0.elapsed()
    }

    pub fn finish(self, ok: bool, detail: &str) -> DeployEvent {
        let record = StageRecord::new(&self.name, ok, self.started_at, self.t0.elapsed(), detail, self.file.as_deref());
        DeployEvent::StageFinished(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Issue 24, finding 4: a failed scenario named `x\r\ngate open: …` printed a forged line.
    #[test]
    fn a_name_with_line_breaks_or_escapes_prints_no_line_of_its_own() {
        let mut out = Vec::new();
        let (stage, _) = Stage::start("staging tests", "http://staging", None);
        let forged = "1 of 1 scenarios failed: x\r\nOK: released abc to live\u{1b}[2K (failed)";
        ConsoleSink { out: &mut out }.event(&stage.finish(false, forged));
        ConsoleSink { out: &mut out }.event(&DeployEvent::Note("a\nb".into()));
        let text = String::from_utf8(out).expect("utf-8");
        assert_eq!(
            text,
            "   staging tests: 1 of 1 scenarios failed: x\\r\\nOK: released abc to live\\u{1b}[2K (failed)\na\\nb\n"
        );
    }

    #[test]
    fn a_stage_reads_the_same_in_the_console_and_the_history() {
        let mut out = Vec::new();
        let mut record = DeployRecord::new(Utc::now());
        let (stage, started) = Stage::start("live deploy", "fab deploy", Some(Path::new("reports/live/deploy.log")));
        let finished = stage.finish(false, "`fab deploy` failed: exit code 7");
        for event in [&started, &finished] {
            ConsoleSink { out: &mut out }.event(event);
            record.event(event);
        }
        let text = String::from_utf8(out).expect("utf-8");
        assert_eq!(text, "== live deploy: fab deploy\n   live deploy: `fab deploy` failed: exit code 7\n");
        assert_eq!(record.stages.len(), 1);
        assert_eq!(record.stages[0].name, "live deploy");
        assert!(!record.stages[0].ok);
        assert_eq!(record.stages[0].file.as_deref(), Some("reports/live/deploy.log"));
    }
}
