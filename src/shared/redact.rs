//! Credentials never reach a person or a file, nor a URL comparison: the one place that
//! hides them in URLs (`redact`) and drops them (`strip_userinfo`).

/// The URL with any user name and password replaced by `***`.
pub fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("***");
            let _ = u.set_password(None);
            u.as_str().trim_end_matches('/').to_string()
        }
        _ => url.to_string(),
    }
}

/// The URL without user name and password, for comparing URLs: the browser drops the
/// credentials of a target URL from the pages it shows, so a URL that kept them would
/// never equal the page's.
pub fn strip_userinfo(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.into()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_show() {
        assert_eq!(redact("https://user:secret@h.example/x"), "https://***@h.example/x");
        assert_eq!(redact("https://token@h.example"), "https://***@h.example");
        assert_eq!(redact("http://h.example"), "http://h.example");
    }

    #[test]
    fn user_info_is_stripped_for_comparison_and_nothing_else_changes() {
        assert_eq!(strip_userinfo("http://user:pw@127.0.0.1:8000/lists/1/"), "http://127.0.0.1:8000/lists/1/");
        assert_eq!(strip_userinfo("https://token@h.example/x?q=1#f"), "https://h.example/x?q=1#f");
        assert_eq!(strip_userinfo("https://:pw@h.example/"), "https://h.example/");
        assert_eq!(strip_userinfo("http://h.example/lists/1/"), "http://h.example/lists/1/");
        assert_eq!(strip_userinfo("about:blank"), "about:blank");
        assert_eq!(strip_userinfo("not a url"), "not a url");
    }
}
