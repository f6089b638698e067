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
    /// The source line and how many characters to underline.
    pub snippet: Option<(String, usize)>,
}

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
        let start = span.start.min(text.len());
        let (line, col) = line_col(text, start);
        let line_text = text[..].lines().nth(line - 1).unwrap_or("").to_string();
        let rest_of_line = line_text.chars().count().saturating_sub(col - 1).max(1);
        let width = text
            .get(start..span.end.min(text.len()))
            .map_or(1, |s| s.lines().next().map_or(1, |l| l.chars().count().max(1)));
        Diagnostic {
            file: file.to_string(),
            line,
            col,
            message,
            hint,
            snippet: Some((line_text, width.min(rest_of_line))),
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

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = text[line_start..offset].chars().count() + 1;
    (line, col)
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}: error: {}", self.location(), self.message)?;
        if let Some((line_text, width)) = &self.snippet {
            let gutter = self.line.to_string().len();
            writeln!(f, "{:gutter$} |", "")?;
            writeln!(f, "{} | {}", self.line, line_text)?;
            writeln!(f, "{:gutter$} | {}{}", "", " ".repeat(self.col - 1), "^".repeat(*width))?;
        }
        if let Some(hint) = &self.hint {
            writeln!(f, "  = hint: {hint}")?;
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
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        assert_eq!(line_col(text, 9), (2, 3));
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
}
