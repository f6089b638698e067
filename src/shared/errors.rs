//! An error's chain of causes, walked in one place: the error itself, then each `source()`.

use std::error::Error;

/// `err`, then its cause, then the cause's cause...
pub fn chain<'e>(err: &'e (dyn Error + 'static)) -> impl Iterator<Item = &'e (dyn Error + 'static)> {
    std::iter::successors(Some(err), |e: &&'e (dyn Error + 'static)| (*e).source())
}

/// The error and its causes on one line: "failed to run the scenarios: failed to find …".
pub fn one_line(err: &(dyn Error + 'static)) -> String {
    chain(err).map(|e| e.to_string()).collect::<Vec<_>>().join(": ").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("failed to run the scenarios")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn the_chain_goes_from_the_error_to_its_innermost_cause() {
        let err = Outer(std::io::Error::other("no chromedriver\non PATH"));
        let texts: Vec<String> = chain(&err).map(|e| e.to_string()).collect();
        assert_eq!(texts, ["failed to run the scenarios", "no chromedriver\non PATH"]);
        assert_eq!(one_line(&err), "failed to run the scenarios: no chromedriver on PATH");
    }
}
