//! Spec diagnostics: `file:line:col: error: what` with the source line, a caret and a hint.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    /// 1-based; 0 when the problem is with the file as a whole.
    pub line: usize,
    pub col: usize,
    pub message: String,
    pub hint: Option<String>,
    /// The source around the problem, cut to a window so a one-line 5 MB file does not
    /// make a 5 MB message.
    pub snippet: Option<Snippet>,
}

/// A window of one source line and the part of it to underline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snippet {
    /// The text shown, with `…` where the line was cut.
    pub text: String,
    /// 0-based character position of the caret within `text`, and its width.
    pub caret: usize,
    pub width: usize,
}

/// How many characters of the source line are shown before and after the column.
const WINDOW_BEFORE: usize = 100;
const WINDOW_AFTER: usize = 100;
/// The longest message, hint or location printed.
const MAX_MESSAGE: usize = 400;

impl Diagnostic {
    pub fn file_level(file: String, message: String, hint: Option<String>) -> Diagnostic {
        Diagnostic { file, line: 0, col: 0, message, hint, snippet: None }
    }

    /// A diagnostic for the byte range `span` of `text`.
    pub fn at(
        file: &str,
        text: &str,
        span: std::ops::Range<usize>,
        message: String,
        hint: Option<String>,
    ) -> Diagnostic {
        Diagnostic::indexed(file, &LineIndex::new(text), span, message, hint)
    }

    /// As `at`, with the file's line index built once (a file may have thousands of
    /// positions: finding each from the start would make loading quadratic).
    pub fn indexed(
        file: &str,
        index: &LineIndex<'_>,
        span: std::ops::Range<usize>,
        message: String,
        hint: Option<String>,
    ) -> Diagnostic {
        let text = index.text;
        let start = floor_char_boundary(text, span.start);
        let (line, col) = index.line_col(start);
        let line_range = index.line_range(line);
        let before = &text[line_range.start..start];
        // Underline to the end of the span, or of the line, whichever comes first.
        let end = floor_char_boundary(text, span.end.clamp(start, line_range.end));
        let rest = &text[start..line_range.end];

        // Walk back from the column, not forward from the line start: O(window), not O(line).
        let from = before.char_indices().rev().nth(WINDOW_BEFORE - 1).map_or(0, |(i, _)| i);
        let skip = from > 0;
        let shown_before = &before[from..];
        let mut shown_after: String = rest.chars().take(WINDOW_AFTER + 1).collect();
        let cut_after = shown_after.chars().count() > WINDOW_AFTER;
        if cut_after {
            shown_after = shown_after.chars().take(WINDOW_AFTER).collect();
        }
        // Never wider than what is shown after the caret (at least one `^`, even at a line end).
        let width = text[start..end].chars().take(WINDOW_AFTER).count().clamp(1, shown_after.chars().count().max(1));
        let lead = if skip { "…" } else { "" };
        let tail = if cut_after { "…" } else { "" };
        let caret = lead.chars().count() + shown_before.chars().count();
        let shown = format!("{lead}{shown_before}{shown_after}{tail}");
        Diagnostic {
            file: file.to_string(),
            line,
            col,
            message,
            hint,
            snippet: Some(Snippet { text: shown, caret, width }),
        }
    }

    /// `file:line:col` (or just `file`).
    pub fn location(&self) -> String {
        if self.line == 0 {
            self.file.clone()
        } else {
            format!("{}:{}:{}", self.file, self.line, self.col)
        }
    }
}

fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Where each line of a text starts, so a byte offset becomes line:col in
/// O(log lines) (plus the line's length when it is not ASCII).
pub struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset of each line's start.
    starts: Vec<usize>,
    /// Whether each line is ASCII (then column = byte offset + 1).
    ascii: Vec<bool>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        let mut ascii = Vec::new();
        let mut line_ascii = true;
        for (i, b) in text.bytes().enumerate() {
            line_ascii &= b.is_ascii();
            if b == b'\n' {
                starts.push(i + 1);
                ascii.push(line_ascii);
                line_ascii = true;
            }
        }
        ascii.push(line_ascii);
        LineIndex { text, starts, ascii }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(self.text, offset);
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        let col = if self.ascii[line - 1] { offset - start } else { self.text[start..offset].chars().count() };
        (line, col + 1)
    }

    /// The bytes of a 1-based line, without its line break.
    fn line_range(&self, line: usize) -> std::ops::Range<usize> {
        let start = self.starts[line - 1];
        let end = self.starts.get(line).map_or(self.text.len(), |next| next - 1);
        let end = if end > start && self.text.as_bytes()[end - 1] == b'\r' { end - 1 } else { end };
        start..end.max(start)
    }
}

/// `s` cut to a few dozen characters, with `…` where it was cut.
pub fn cut(s: &str) -> String {
    crate::shared::text::clip(s, 40)
}

/// `s` in double quotes, escaped and cut (as in `duplicate scenario name "…"`).
pub fn quote(s: &str) -> String {
    format!("{:?}", cut(s))
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Messages may quote what was written (serde quotes a wrong value whole): cap them
        // like the snippet, so one huge value cannot make a huge message.
        writeln!(
            f,
            "{}: error: {}",
            crate::shared::text::clip(&self.location(), MAX_MESSAGE),
            crate::shared::text::clip(&self.message, MAX_MESSAGE)
        )?;
        if let Some(snippet) = &self.snippet {
            let gutter = self.line.to_string().len();
            writeln!(f, "{:gutter$} |", "")?;
            writeln!(f, "{} | {}", self.line, snippet.text)?;
            writeln!(f, "{:gutter$} | {}{}", "", " ".repeat(snippet.caret), "^".repeat(snippet.width))?;
        }
        if let Some(hint) = &self.hint {
            writeln!(f, "  = hint: {}", crate::shared::text::clip(hint, MAX_MESSAGE))?;
        }
        Ok(())
    }
}

/// Every problem found in the specs, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecErrors(pub Vec<Diagnostic>);

impl SpecErrors {
    pub fn one(d: Diagnostic) -> SpecErrors {
        SpecErrors(vec![d])
    }
}

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            write!(f, "{d}")?;
        }
        let n = self.0.len();
        write!(f, "{n} spec error{}; nothing was run", if n == 1 { "" } else { "s" })
    }
}

impl std::error::Error for SpecErrors {}

/// The closest candidate by edit distance, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (levenshtein(word, c), c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters_from_one() {
        let text = "a = 1\nbé = 2\n";
        let index = LineIndex::new(text);
        assert_eq!(index.line_col(0), (1, 1));
        assert_eq!(index.line_col(6), (2, 1));
        assert_eq!(index.line_col(9), (2, 3));
        assert_eq!(index.line_col(text.len()), (3, 1));
    }

    #[test]
    fn a_typo_gets_a_suggestion_and_nonsense_does_not() {
        assert_eq!(did_you_mean("vist", ["visit", "type"]), Some("visit"));
        assert_eq!(did_you_mean("expect_titel", ["expect_title", "expect_text"]), Some("expect_title"));
        assert_eq!(did_you_mean("zzzzzz", ["visit", "type"]), None);
    }

    #[test]
    fn a_diagnostic_renders_location_source_caret_and_hint() {
        let text = "x = 1\n  { vist = \"/\" },\n";
        let d =
            Diagnostic::at("s.toml", text, 10..14, "unknown step `vist`".into(), Some("did you mean `visit`?".into()));
        assert_eq!(
            d.to_string(),
            "s.toml:2:5: error: unknown step `vist`\n  |\n2 |   { vist = \"/\" },\n  |     ^^^^\n  = hint: did you mean `visit`?\n"
        );
    }

    #[test]
    fn a_huge_line_is_shown_as_a_window_around_the_column() {
        let text = format!("x = \"{}\" + {}", "a".repeat(5_000_000), "b".repeat(1000));
        let at = text.find('+').unwrap_or(0);
        let d = Diagnostic::at("big.toml", &text, at..at + 1, format!("bad {}", "c".repeat(10_000)), None);
        let shown = d.to_string();
        assert!(shown.len() < 2_000, "{} bytes", shown.len());
        assert!(shown.starts_with(&format!("big.toml:1:{}: error: bad ccc", at + 1)), "{shown}");
        let lines: Vec<&str> = shown.lines().collect();
        assert!(lines[2].starts_with("1 | …aaa") && lines[2].ends_with("bbb…"), "{}", lines[2]);
        // The caret is under the `+`, whatever was cut before it.
        let caret = lines[3].find('^').unwrap_or(0);
        assert_eq!(lines[2].chars().nth(caret), Some('+'), "{shown}");
    }
}
