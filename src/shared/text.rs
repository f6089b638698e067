//! Text cut for a message: the one rule for how long a quoted page, log line or served
//! body may be, and how a cut shows (`…` where it was cut, never mid-character).

/// `text` cut to at most `max` characters, with `…` added where it was cut.
pub fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((at, _)) => format!("{}…", &text[..at]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_text_is_whole_and_a_long_one_is_cut_on_a_character() {
        assert_eq!(clip("café", 4), "café");
        assert_eq!(clip("cafés", 4), "café…");
        assert_eq!(clip("", 0), "");
        assert_eq!(clip("ab", 0), "…");
    }
}
