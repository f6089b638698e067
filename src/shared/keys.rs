//! The keys a `press` step can send: named by the spec, sent by the browser.

/// Keys a `press` step can send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Enter,
    Tab,
    Escape,
    Backspace,
    Delete,
    Space,
    ArrowUp,
    ArrowDown,
    ArrowLeft,
    ArrowRight,
}

impl Key {
    pub const ALL: &'static [(&'static str, Key)] = &[
        ("Enter", Key::Enter),
        ("Tab", Key::Tab),
        ("Escape", Key::Escape),
        ("Backspace", Key::Backspace),
        ("Delete", Key::Delete),
        ("Space", Key::Space),
        ("ArrowUp", Key::ArrowUp),
        ("ArrowDown", Key::ArrowDown),
        ("ArrowLeft", Key::ArrowLeft),
        ("ArrowRight", Key::ArrowRight),
    ];

    pub fn name(self) -> &'static str {
        Key::ALL.iter().find(|(_, k)| *k == self).map_or("?", |(n, _)| n)
    }
}

/// A modifier held while a chord's key is pressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Modifier {
    Control,
    Shift,
    Alt,
    Meta,
}

impl Modifier {
    pub const ALL: &'static [(&'static str, Modifier)] =
        &[("Control", Modifier::Control), ("Shift", Modifier::Shift), ("Alt", Modifier::Alt), ("Meta", Modifier::Meta)];

    pub fn name(self) -> &'static str {
        Modifier::ALL.iter().find(|(_, m)| *m == self).map_or("?", |(n, _)| n)
    }
}

/// The key a chord ends with: a named key, or one character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pressed {
    Named(Key),
    Char(char),
}

/// What a `press` step sends: a key, with the modifiers held while it is pressed
/// (`Control+A`, `Shift+Tab`, `Enter`). Each modifier at most once, in the order written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chord {
    modifiers: [Option<Modifier>; 4],
    pub key: Pressed,
}

impl Chord {
    /// A key with no modifier.
    #[cfg(test)]
    pub fn key(key: Key) -> Chord {
        Chord { modifiers: [None; 4], key: Pressed::Named(key) }
    }

    /// The modifiers held, in the order written.
    pub fn modifiers(&self) -> impl Iterator<Item = Modifier> + '_ {
        self.modifiers.iter().flatten().copied()
    }

    /// The key as sent: a letter with no Shift held is its lower case, as a person's
    /// Control+A presses the A key without Shift (sending "A" would hold Shift too).
    pub fn character(&self) -> Option<char> {
        match self.key {
            Pressed::Char(c) if !self.modifiers().any(|m| m == Modifier::Shift) => Some(c.to_ascii_lowercase()),
            Pressed::Char(c) => Some(c),
            Pressed::Named(_) => None,
        }
    }

    /// Parse "Control+Shift+K", "Enter", "Meta+a": modifiers (case-insensitive), then a
    /// named key or one character. An error says what is wrong, in words for a hint.
    pub fn parse(text: &str) -> Result<Chord, String> {
        let parts: Vec<&str> = if text == "+" { vec!["+"] } else { text.split('+').collect() };
        // "Control++": the key is `+` itself.
        let (mods, last) = match parts.as_slice() {
            [.., "", ""] if text.ends_with("++") => (&parts[..parts.len() - 2], "+"),
            [mods @ .., last] => (mods, *last),
            [] => (&parts[..0], ""),
        };
        let mut chord = Chord { modifiers: [None; 4], key: Pressed::Char(' ') };
        for (i, m) in mods.iter().enumerate() {
            let Some((_, modifier)) = Modifier::ALL.iter().find(|(n, _)| n.eq_ignore_ascii_case(m)) else {
                return Err(format!("{m:?} is not a modifier (Control, Shift, Alt, Meta)"));
            };
            if chord.modifiers().any(|held| held == *modifier) {
                return Err(format!("{} is named twice", modifier.name()));
            }
            chord.modifiers[i.min(3)] = Some(*modifier);
        }
        if mods.len() > 4 {
            return Err("a chord holds at most the four modifiers".into());
        }
        let mut chars = last.chars();
        chord.key = match (chars.next(), chars.next()) {
            (Some(c), None) if !c.is_control() => Pressed::Char(c),
            (None, _) => return Err("the chord names no key after its modifiers".into()),
            _ => match Key::ALL.iter().find(|(n, _)| n.eq_ignore_ascii_case(last)) {
                Some((_, key)) => Pressed::Named(*key),
                None => return Err(format!("unknown key {last:?}")),
            },
        };
        Ok(chord)
    }
}

impl std::fmt::Display for Chord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for m in self.modifiers() {
            write!(f, "{}+", m.name())?;
        }
        match self.key {
            Pressed::Named(key) => f.write_str(key.name()),
            Pressed::Char(c) => write!(f, "{c}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chords_are_modifiers_then_a_named_key_or_one_character() {
        let chord = Chord::parse("Control+A").expect("a chord");
        assert_eq!(chord.modifiers().collect::<Vec<_>>(), vec![Modifier::Control]);
        assert_eq!((chord.key, chord.character()), (Pressed::Char('A'), Some('a')));
        assert_eq!(Chord::parse("Shift+A").expect("chord").character(), Some('A'));
        assert_eq!(Chord::parse("enter"), Ok(Chord::key(Key::Enter)));
        let tab = Chord::parse("shift+alt+Tab").expect("chord");
        assert_eq!(tab.to_string(), "Shift+Alt+Tab");
        assert_eq!(Chord::parse("Control++").expect("chord").to_string(), "Control++");
        assert_eq!(Chord::parse("x").expect("chord").to_string(), "x");
    }

    #[test]
    fn a_wrong_chord_says_what_is_wrong() {
        assert!(Chord::parse("Ctrl+A").unwrap_err().contains("\"Ctrl\" is not a modifier"));
        assert!(Chord::parse("Control+").unwrap_err().contains("no key"));
        assert!(Chord::parse("Control+Control+A").unwrap_err().contains("named twice"));
        assert!(Chord::parse("Control+Foo").unwrap_err().contains("unknown key \"Foo\""));
        assert!(Chord::parse("").unwrap_err().contains("no key"));
    }
}
