//! Credentials never reach a person or a file: the one place that hides them in URLs
//! (user info, and query parameters that look secret) and in text that holds a URL.

/// Query parameter names whose values are secrets (compared without case, and also as a
/// suffix: `x_api_key`, `aws_access_key_id`...).
const SECRET_PARAMS: &[&str] = &[
    "token",
    "access_token",
    "auth",
    "key",
    "apikey",
    "api_key",
    "access_key",
    "accesskey",
    "secretkey",
    "apitoken",
    "access_key_id",
    "secret",
    "client_secret",
    "password",
    "passwd",
    "pwd",
    "sig",
    "signature",
    "credential",
    "credentials",
    "session",
];

fn is_secret_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_PARAMS.iter().any(|s| lower == *s || lower.ends_with(&format!("_{s}")) || lower.ends_with(&format!("-{s}")))
}

/// The URL with any user name and password replaced by `***`, and the values of query
/// parameters that look secret replaced by `***`. Text that is not a URL is scrubbed of
/// anything shaped like `scheme://user:password@`.
pub fn redact(url: &str) -> String {
    let Ok(mut u) = reqwest::Url::parse(url) else { return redact_text(url) };
    let mut changed = false;
    if !u.username().is_empty() || u.password().is_some() {
        let _ = u.set_username("***");
        let _ = u.set_password(None);
        changed = true;
    }
    if u.query_pairs().any(|(k, _)| is_secret_param(&k)) {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_secret_param(&k) { "***".to_string() } else { v.into_owned() };
                (k.into_owned(), v)
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
        changed = true;
    }
    if changed {
        u.as_str().trim_end_matches('/').to_string()
    } else {
        url.to_string()
    }
}

/// A webhook as people see it: scheme, host and port only. Slack, Discord, Teams and
/// most chat webhooks carry their secret in the path (`/services/T…/B…/SECRET`), where
/// no rule about user info or query names can tell it from a plain path, so the whole
/// path, query and fragment go.
pub fn webhook(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) if u.host_str().is_some() => {
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!("{}://{}{port}", u.scheme(), u.host_str().unwrap_or_default())
        }
        _ => "(a webhook URL that does not parse)".to_string(),
    }
}

/// The URL without user name and password, for comparing where a browser is with where
/// it was: browsers drop the user info from the page URL, so comparisons must too.
pub fn without_userinfo(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            let had_slash = url.ends_with('/');
            let s = u.to_string();
            if had_slash {
                s
            } else {
                s.trim_end_matches('/').to_string()
            }
        }
        _ => url.to_string(),
    }
}

/// Any text (an error message, a value that does not parse as a URL) with what looks
/// like user info in a URL, or a secret query parameter, replaced by `***`.
pub fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        // The authority ends at the first `/`, `?`, `#` or whitespace; user info is
        // everything before its last `@`.
        let end = tail.find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace()).unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(i) => {
                out.push_str("***");
                out.push_str(&authority[i..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    redact_params(&out)
}

/// `name=value` pairs after `?` or `&` whose name looks secret get `***` for a value.
fn redact_params(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    let mut last = 0;
    while let Some((i, c)) = chars.next() {
        if c != '?' && c != '&' {
            continue;
        }
        let start = i + 1;
        let Some(eq) = text[start..].find('=').map(|e| start + e) else { continue };
        let name = &text[start..eq];
        if name.is_empty() || name.contains(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')) {
            continue;
        }
        if is_secret_param(name) {
            let end = text[eq + 1..]
                .find(|c: char| c == '&' || c == '#' || c.is_whitespace() || c == '"' || c == '\'')
                .map_or(text.len(), |e| eq + 1 + e);
            out.push_str(&text[last..=eq]);
            out.push_str("***");
            last = end;
            while chars.peek().is_some_and(|(j, _)| *j < end) {
                chars.next();
            }
        }
    }
    out.push_str(&text[last..]);
    out
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
    fn secret_looking_parameters_are_hidden_and_others_kept() {
        assert_eq!(
            redact("https://hub.example/wd/hub?accessKey=abc&user=bob&api_key=zzz"),
            "https://hub.example/wd/hub?accessKey=***&user=bob&api_key=***"
        );
        assert_eq!(redact("https://h.example/?token=s3cr3t#top"), "https://h.example/?token=***#top");
        assert_eq!(redact("https://h.example/?x-access-key=1"), "https://h.example/?x-access-key=***");
    }

    #[test]
    fn text_that_is_not_a_url_is_scrubbed_too() {
        assert_eq!(redact("http://user:pw@host:99999"), "http://***@host:99999");
        assert_eq!(
            redact_text("failed to push to https://ci:tok3n@git.example/r.git: denied"),
            "failed to push to https://***@git.example/r.git: denied"
        );
        assert_eq!(redact_text("GET /x?password=hunter2 failed"), "GET /x?password=*** failed");
        assert_eq!(redact_text("no url here"), "no url here");
    }

    #[test]
    fn user_info_is_stripped_for_comparison_and_nothing_else_changes() {
        assert_eq!(without_userinfo("https://token@h.example/x?q=1#f"), "https://h.example/x?q=1#f");
        assert_eq!(without_userinfo("https://:pw@h.example/"), "https://h.example/");
        assert_eq!(without_userinfo("http://h.example/lists/1/"), "http://h.example/lists/1/");
        assert_eq!(without_userinfo("about:blank"), "about:blank");
        assert_eq!(without_userinfo("not a url"), "not a url");
    }

    #[test]
    fn comparisons_drop_the_user_info_only() {
        assert_eq!(without_userinfo("http://u:p@127.0.0.1:8000/lists/1/"), "http://127.0.0.1:8000/lists/1/");
        assert_eq!(without_userinfo("http://u:p@127.0.0.1:8000"), "http://127.0.0.1:8000");
        assert_eq!(without_userinfo("http://127.0.0.1:8000/x?a=1"), "http://127.0.0.1:8000/x?a=1");
    }

    #[test]
    fn a_webhook_is_shown_as_scheme_and_host_only() {
        assert_eq!(webhook("https://hooks.slack.com/services/T0AAA/B0BBB/SECRETPATHTOKEN"), "https://hooks.slack.com");
        assert_eq!(webhook("http://u:p@127.0.0.1:8080/hook?token=x#f"), "http://127.0.0.1:8080");
        assert_eq!(webhook("https://[::1]:9/x"), "https://[::1]:9");
        assert!(!webhook("not a url/SECRET").contains("SECRET"));
    }
}
