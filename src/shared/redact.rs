//! Credentials never reach a person or a file: the one place that hides them in URLs.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_show() {
        assert_eq!(redact("https://user:secret@h.example/x"), "https://***@h.example/x");
        assert_eq!(redact("https://token@h.example"), "https://***@h.example");
        assert_eq!(redact("http://h.example"), "http://h.example");
    }
}
