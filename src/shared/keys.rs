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
