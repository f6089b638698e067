//! Text bound for a terminal or a CI log. Scenario names, pages, drivers and browsers can
//! carry control characters: an ESC sequence can clear the screen, set the window title,
//! forge a "PASS" line or hide one; bidi overrides can reorder what a line seems to say.
//! Everything ft prints from them goes through here, shown escaped, never sent raw.

use std::borrow::Cow;

/// `text` with every control character shown escaped (`\u{1b}`, `\r`, `\u{202e}`...):
/// C0 controls, DEL, C1 controls and the bidi embeddings, overrides and isolates. Line
/// breaks and tabs are kept, for messages of several lines.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

/// `text` on one line: like `escape_controls`, but line breaks and tabs are escaped too
/// (a scenario name with a line break must not print a line of its own).
pub fn escape_line(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

fn escape(text: &str, keep_lines: bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| is_dangerous(c) && !(keep_lines && (c == '\n' || c == '\t'));
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if !unsafe_char(c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            // The form Rust's `{:?}` uses, so a name reads the same in every message.
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

/// How many columns a terminal gives `text` (escaped already: no control characters):
/// two for the wide characters of East Asian scripts and emoji, one for the rest. An
/// estimate on the safe side, for lines that must not wrap.
pub fn columns(text: &str) -> usize {
    text.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115f
            | 0x2e80..=0xa4cf
            | 0xac00..=0xd7a3
            | 0xf900..=0xfaff
            | 0xfe30..=0xfe4f
            | 0xff00..=0xff60
            | 0xffe0..=0xffe6
            | 0x1f300..=0x1faff
            | 0x20000..=0x3fffd => 2,
            _ => 1,
        })
        .sum()
}

/// The width in columns of the terminal on file descriptor `fd`, if it is one.
pub fn width(fd: i32) -> Option<usize> {
    // SAFETY: TIOCGWINSZ only writes a `winsize` into the struct it is given.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut size) } == 0;
    (ok && size.ws_col > 0).then_some(usize::from(size.ws_col))
}

/// C0 (U+0000-U+001F), DEL, C1 (U+0080-U+009F; U+009B alone starts a CSI sequence on
/// some terminals) and the bidi controls that Trojan Source (CVE-2021-42574) abuses.
fn is_dangerous(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{061c}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_and_unicode_pass_unchanged_and_unallocated() {
        let text = "can start a to-do list ☕ — Größe";
        assert!(matches!(escape_controls(text), Cow::Borrowed(t) if t == text));
        assert!(matches!(escape_line(text), Cow::Borrowed(t) if t == text));
    }

    #[test]
    fn escape_sequences_c1_del_and_carriage_returns_are_shown_escaped() {
        assert_eq!(escape_controls("a\x1b[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(escape_controls("\x1b]0;owned\x07"), "\\u{1b}]0;owned\\u{7}");
        assert_eq!(escape_controls("x\u{9b}31m\u{7f}"), "x\\u{9b}31m\\u{7f}");
        assert_eq!(escape_controls("PASS\rFAIL"), "PASS\\rFAIL");
        assert_eq!(escape_controls("nul\0"), "nul\\u{0}");
    }

    #[test]
    fn bidi_overrides_are_shown_escaped() {
        assert_eq!(escape_controls("abc\u{202e}fed\u{2066}"), "abc\\u{202e}fed\\u{2066}");
        // Plain right-to-left text is no control: it is left alone.
        assert_eq!(escape_controls("שלום"), "שלום");
    }

    #[test]
    fn line_breaks_are_kept_in_messages_but_not_in_one_line_names() {
        assert_eq!(escape_controls("one\n\ttwo"), "one\n\ttwo");
        assert_eq!(escape_line("one\n\ttwo"), "one\\n\\ttwo");
    }

    #[test]
    fn escaping_twice_changes_nothing_more() {
        let once = escape_controls("\x1b[31mred\u{202e}").into_owned();
        assert_eq!(escape_controls(&once), once);
    }
}
