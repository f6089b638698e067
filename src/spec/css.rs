//! CSS selector validation at load time, with servo's `selectors` parser (the one
//! Firefox's style engine uses), so a selector no browser accepts is a spec error, not
//! the app's failure at run time.
//!
//! The rule is "a selector Chromium accepts must never be refused": a false refusal
//! blocks a team's valid spec, a miss only fails later at run time as before. So the
//! grammar (combinators, attributes, `:is`/`:where`/`:has`/`:not`, `:nth-child(An+B of S)`,
//! namespaces, escapes) is checked strictly, while names the grammar leaves open are
//! accepted generously: every pseudo-class and pseudo-element Chromium knows, and any
//! vendor-prefixed (`-webkit-…`) one.

use std::fmt;

use cssparser::{ParseErrorKind, ToCss};
use selectors::parser::{ParseRelative, SelectorList, SelectorParseErrorKind};

/// Why a selector was refused, and where in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CssError {
    pub what: String,
    /// Byte offset within the selector where the parser stopped.
    pub at: usize,
}

impl fmt::Display for CssError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

/// Check `css` as `document.querySelectorAll` would (no namespaces declared).
pub fn check(css: &str) -> Result<(), CssError> {
    let mut parser = cssparser::Parser::new(css);
    let result = SelectorList::parse(&Browser, &mut parser, ParseRelative::No);
    let Err(e) = result else { return Ok(()) };
    let at = parser.position().byte_index().min(css.len());
    let what = match e.kind {
        ParseErrorKind::Basic(cssparser::BasicParseErrorKind::EndOfInput) => {
            "it ends where more is needed (an unclosed bracket, parenthesis or string, or an empty value?)".to_string()
        }
        ParseErrorKind::Basic(_) => "unexpected token".to_string(),
        ParseErrorKind::Custom(kind) => describe(kind),
    };
    Err(CssError { what: format!("{what}, {}", stopped(css, at)), at })
}

/// Where the parser stopped, shown as the (short) text read so far.
fn stopped(css: &str, at: usize) -> String {
    let mut from = at.saturating_sub(24);
    while !css.is_char_boundary(from) {
        from -= 1;
    }
    let mut to = at;
    while !css.is_char_boundary(to) {
        to -= 1;
    }
    if to == 0 {
        return "at its start".into();
    }
    let chars = css[..to].chars().count();
    let ellipsis = if from > 0 { "…" } else { "" };
    format!("after {:?} (character {chars})", format!("{ellipsis}{}", &css[from..to]))
}

fn describe(kind: SelectorParseErrorKind) -> String {
    use SelectorParseErrorKind as K;
    match kind {
        K::EmptySelector => "a selector is missing (a stray comma, or a combinator with nothing before it?)".into(),
        K::DanglingCombinator => "a combinator (`>`, `+`, `~`) with nothing after it".into(),
        K::UnsupportedPseudoClassOrElement => {
            "unknown pseudo-class or pseudo-element; browsers refuse names they do not know (`:contains()` is jQuery, not CSS)".into()
        }
        K::ExpectedNamespace => {
            "an undeclared namespace prefix; only `*|name` and `|name` work in a page's querySelector".into()
        }
        K::NoQualifiedNameInAttributeSelector
        | K::UnexpectedTokenInAttributeSelector
        | K::ExpectedBarInAttr
        | K::BadValueInAttr
        | K::InvalidQualNameInAttr => "a malformed attribute selector (write e.g. [name=\"value\" i])".into(),
        K::ClassNeedsIdent => "a `.` must be followed by a class name".into(),
        K::PseudoElementExpectedColon | K::PseudoElementExpectedIdent | K::NoIdentForPseudo => {
            "a `:` must be followed by a pseudo-class name".into()
        }
        K::InvalidState
        | K::InvalidPseudoElementInsideWhere
        | K::NonPseudoElementAfterSlotted
        | K::InvalidPseudoElementAfterSlotted
        | K::NonCompoundSelector => "a pseudo-element or pseudo-class where none is allowed".into(),
        K::UnexpectedIdent | K::ExplicitNamespaceUnexpectedToken => "unexpected name".into(),
    }
}

/// Pseudo-classes Chromium knows beyond those the `selectors` crate parses itself
/// (`:root`, `:empty`, `:scope`, `:first-child` and the other structural ones,
/// `:nth-*`, `:is`, `:where`, `:has`, `:not`, `:host`).
const PSEUDO_CLASSES: &[&str] = &[
    "active",
    "active-view-transition",
    "any-link",
    "autofill",
    "blank",
    "checked",
    "closed",
    "current",
    "default",
    "defined",
    "disabled",
    "enabled",
    "focus",
    "focus-visible",
    "focus-within",
    "fullscreen",
    "future",
    "has-slotted",
    "hover",
    "in-range",
    "indeterminate",
    "invalid",
    "link",
    "modal",
    "muted",
    "open",
    "optional",
    "out-of-range",
    "past",
    "paused",
    "picture-in-picture",
    "placeholder-shown",
    "playing",
    "popover-open",
    "read-only",
    "read-write",
    "required",
    "seeking",
    "stalled",
    "target",
    "target-current",
    "target-within",
    "user-invalid",
    "user-valid",
    "valid",
    "visited",
    "volume-locked",
    "xr-overlay",
    "buffering",
    "interest-source",
    "interest-target",
    "horizontal",
    "vertical",
    "decrement",
    "increment",
    "start",
    "end",
    "double-button",
    "single-button",
    "no-button",
    "corner-present",
    "window-inactive",
];

/// Functional pseudo-classes Chromium knows (their arguments are not checked further).
const FUNCTIONAL_PSEUDO_CLASSES: &[&str] =
    &["lang", "dir", "state", "host-context", "active-view-transition-type", "current", "heading"];

/// Pseudo-elements Chromium knows (`::part()` and `::slotted()` are parsed by the crate).
const PSEUDO_ELEMENTS: &[&str] = &[
    "after",
    "backdrop",
    "before",
    "checkmark",
    "column",
    "cue",
    "details-content",
    "file-selector-button",
    "first-letter",
    "first-line",
    "grammar-error",
    "marker",
    "picker-icon",
    "placeholder",
    "scroll-marker",
    "scroll-marker-group",
    "search-text",
    "selection",
    "spelling-error",
    "target-text",
    "view-transition",
    "interest-hint",
];

const FUNCTIONAL_PSEUDO_ELEMENTS: &[&str] = &[
    "cue",
    "highlight",
    "picker",
    "scroll-button",
    "view-transition-group",
    "view-transition-image-pair",
    "view-transition-old",
    "view-transition-new",
    "column",
];

fn known(list: &[&str], name: &str) -> bool {
    // Vendor-prefixed names: Chromium knows many (`:-webkit-autofill`, `::-webkit-scrollbar`);
    // when unsure, accept.
    name.starts_with('-') || list.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// The `selectors` crate's parser, configured as a browser's querySelector: every modern
/// feature on, no declared namespaces.
struct Browser;

#[derive(Clone, Debug)]
struct Impl;

/// An identifier, attribute value or namespace: only parsed, never matched.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Text(String);

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text(s.to_string())
    }
}

impl ToCss for Text {
    fn to_css<W: fmt::Write>(&self, dest: &mut W) -> fmt::Result {
        dest.write_str(&self.0)
    }
}

impl precomputed_hash::PrecomputedHash for Text {
    fn precomputed_hash(&self) -> u32 {
        // Only used when matching, which never happens here.
        self.0.len() as u32
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Pseudo(String);

impl ToCss for Pseudo {
    fn to_css<W: fmt::Write>(&self, dest: &mut W) -> fmt::Result {
        dest.write_str(&self.0)
    }
}

impl selectors::parser::NonTSPseudoClass for Pseudo {
    fn is_active_or_hover(&self) -> bool {
        self.0.eq_ignore_ascii_case("active") || self.0.eq_ignore_ascii_case("hover")
    }
    // Lets any pseudo-class follow a pseudo-element (`::before:hover`). Chromium 156
    // refuses that, Selectors 4 allows user-action states there: when unsure, accept.
    fn is_user_action_state(&self) -> bool {
        true
    }
}

impl selectors::parser::PseudoElement for Pseudo {
    fn accepts_state_pseudo_classes(&self) -> bool {
        true
    }
    fn valid_after_slotted(&self) -> bool {
        true
    }
    fn valid_after_before_or_after(&self) -> bool {
        true
    }
}

impl selectors::parser::SelectorImpl for Impl {
    type ExtraMatchingData<'a> = ();
    type AttrValue = Text;
    type Identifier = Text;
    type LocalName = Text;
    type NamespaceUrl = Text;
    type NamespacePrefix = Text;
    type BorrowedNamespaceUrl = Text;
    type BorrowedLocalName = Text;
    type NonTSPseudoClass = Pseudo;
    type PseudoElement = Pseudo;
}

type Error = cssparser::ParseError<SelectorParseErrorKind>;

fn unsupported() -> Error {
    cssparser::ParseError::custom(SelectorParseErrorKind::UnsupportedPseudoClassOrElement)
}

/// Consume a functional pseudo's arguments; Chromium refuses empty ones (`:lang()`).
fn any_arguments(input: &mut cssparser::Parser<'_>) -> Result<(), Error> {
    input.next()?;
    while input.next().is_ok() {}
    Ok(())
}

impl<'i> selectors::parser::Parser<'i> for Browser {
    type Impl = Impl;
    type Error = SelectorParseErrorKind;

    fn parse_slotted(&self) -> bool {
        true
    }
    fn parse_part(&self) -> bool {
        true
    }
    fn parse_nth_child_of(&self) -> bool {
        true
    }
    fn parse_is_and_where(&self) -> bool {
        true
    }
    fn parse_has(&self) -> bool {
        true
    }
    // `&` at the top level is allowed by Chromium's querySelector (it means :scope).
    fn parse_parent_selector(&self) -> bool {
        true
    }
    fn parse_host(&self) -> bool {
        true
    }
    fn is_is_alias(&self, name: &str) -> bool {
        name.eq_ignore_ascii_case("-webkit-any")
    }

    fn parse_non_ts_pseudo_class(&self, name: &str) -> Result<Pseudo, Error> {
        if known(PSEUDO_CLASSES, name) {
            Ok(Pseudo(name.to_string()))
        } else {
            Err(unsupported())
        }
    }

    fn parse_non_ts_functional_pseudo_class(
        &self,
        name: &str,
        input: &mut cssparser::Parser<'i>,
        _after_part: bool,
    ) -> Result<Pseudo, Error> {
        if !known(FUNCTIONAL_PSEUDO_CLASSES, name) {
            return Err(unsupported());
        }
        any_arguments(input)?;
        Ok(Pseudo(name.to_string()))
    }

    fn parse_pseudo_element(&self, name: &str) -> Result<Pseudo, Error> {
        if known(PSEUDO_ELEMENTS, name) {
            Ok(Pseudo(name.to_string()))
        } else {
            Err(unsupported())
        }
    }

    fn parse_functional_pseudo_element(&self, name: &str, input: &mut cssparser::Parser<'i>) -> Result<Pseudo, Error> {
        if !known(FUNCTIONAL_PSEUDO_ELEMENTS, name) {
            return Err(unsupported());
        }
        any_arguments(input)?;
        Ok(Pseudo(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Selectors Chromium's querySelectorAll accepts: none may be refused (a false
    /// refusal would block a valid spec). `tests/spec_errors.rs` runs them in Chromium.
    pub const VALID: &[&str] = &[
        "#id_text",
        "div > p + ul ~ span",
        "a[href]",
        "a[href^='https' i]",
        "a[href$=\".pdf\" s]",
        "[data-x*=\"y\"], [lang|=en], [class~=item]",
        "input:invalid",
        ":is(h1, h2) > span",
        ":where(.a, .b) p",
        "div:has(> img)",
        "section:has(+ footer, ~ aside)",
        ":not(.a, .b)",
        ":not(div p)",
        "li:nth-child(2n+1 of .x)",
        "li:nth-last-child(-n + 3)",
        "p:nth-of-type(odd):first-child",
        "*|a",
        "|a",
        "*|*",
        "#\\31 23",
        ".a\\:b",
        "\\@x",
        "#id_text:focus-visible",
        "input:placeholder-shown:not(:disabled)",
        ":root :scope",
        "p:empty",
        "p::before",
        "p:before",
        "input::placeholder",
        "li::marker",
        "::selection",
        "input:-webkit-autofill",
        "::-webkit-scrollbar",
        "div:-webkit-any(.a, .b)",
        ":lang(en)",
        ":dir(rtl)",
        ":host",
        ":host(.dark) p",
        "::slotted(span)",
        "::part(label)",
        "& > p",
        "DIV.A#B",
        "a:HOVER",
        "p /* a comment */ span",
        "   #id_text   ",
        "dialog:modal, details:open, :popover-open",
        "input:user-invalid",
        "tr:nth-child(2) td:last-of-type",
        ":is(div[[[, p)",
        ":not(:has(b))",
        ":has(:is(a))",
        ":is(:not(a))",
        ":where()",
        ":is()",
        "p::before:hover",
        "p::first-line",
        "input::-webkit-input-placeholder",
        "[foo=\"bar\" I]",
        "[*|foo]",
        "[|foo]",
        "a:visited",
        "::highlight(x)",
        "::view-transition-old(root)",
        ":state(foo)",
        "::part(a b)",
        "::slotted(*)",
        ":host(:hover)",
        ":host-context(.dark)",
        "::cue(b)",
        "::cue",
        ":nth-child(even)",
        ":nth-child(+5)",
        ":nth-child(n)",
        ":nth-last-of-type(2n - 1)",
        "a:any-link",
        ":has(> a, + b)",
        ":is(a, ::before)",
        "div:has(p):has(span)",
        "* + *",
        "a:is(:hover, :focus)",
        ":where(:not(.a))",
        ".a.b.c#d[e]",
        ":focus-within:not(:focus)",
        ":checked + label",
    ];

    const INVALID: &[(&str, &str)] = &[
        ("div[[[", "malformed attribute"),
        ("div[", "ends where more is needed"),
        ("p:contains('x')", "unknown pseudo-class"),
        ("p:hoverr", "unknown pseudo-class"),
        ("a,", "is missing"),
        (",a", "is missing"),
        ("div >", "nothing after it"),
        ("> div", "nothing before it"),
        ("svg|a", "namespace"),
        ("..a", "class name"),
        ("#", "is missing"),
        ("a[href=]", "an empty value"),
        ("p:nth-child(x)", "unexpected"),
        (":has()", "nothing after it"),
        ("li)", "unexpected"),
        // Neither Chromium 156 nor Firefox knows it.
        ("a:local-link", "unknown pseudo-class"),
    ];

    #[test]
    fn selectors_browsers_accept_are_accepted() {
        let refused: Vec<(&str, CssError)> =
            VALID.iter().filter_map(|css| check(css).err().map(|e| (*css, e))).collect();
        assert!(refused.is_empty(), "{refused:#?}");
    }

    #[test]
    fn selectors_browsers_refuse_are_refused_with_a_reason() {
        let mut bad = 0;
        for (css, why) in INVALID {
            match check(css) {
                Ok(()) => panic!("{css:?} was accepted"),
                Err(e) => {
                    bad += usize::from(!e.what.contains(why));
                }
            }
        }
        assert_eq!(bad, 0, "reasons that do not say why");
    }

    #[test]
    fn the_reason_says_where_it_stopped() {
        let e = check("div.list [[[").map_err(|e| e.what);
        assert_eq!(
            e,
            Err(
                "a malformed attribute selector (write e.g. [name=\"value\" i]), after \"div.list [[[\" (character 12)"
                    .into()
            )
        );
    }
}
