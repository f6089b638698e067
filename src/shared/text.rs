//! Text cut for a message: the one rule for how long a quoted page, log line or served
//! body may be, and how a cut shows (`…` where it was cut, never mid-character).

/// `text` cut to at most `max` characters, with `…` added where it was cut.
pub fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((at, _)) => format!("{}…", &text[..at]),
    }
}

/// How many hex digits name a commit or a digest when shown short: the same number that
/// `--expect-version` accepts as a short commit (`target::version::MIN_SHORT_COMMIT`), so
/// a commit ft shows is one it would recognise.
pub const SHORT_HASH: usize = 12;

/// `hash` shown short (its first `SHORT_HASH` characters); never cut inside a character,
/// whatever a hostile record holds.
pub fn short_hash(hash: &str) -> &str {
    hash.char_indices().nth(SHORT_HASH).map_or(hash, |(at, _)| &hash[..at])
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

    #[test]
    fn a_short_hash_is_twelve_characters_and_never_cuts_one() {
        assert_eq!(short_hash("0123456789abcdef"), "0123456789ab");
        assert_eq!(short_hash("abc"), "abc");
        assert_eq!(short_hash("ééééééééééééé"), "éééééééééééé");
    }
}
