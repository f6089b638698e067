//! Capture steps that read email (`from_email`), against real mail servers
//! (common::mail: aiosmtpd delivering into a Maildir that Dovecot serves over IMAP and
//! POP3, plain and TLS) and against the Maildir itself: the newest message to the address
//! with the subject, since the attempt started, is taken and deleted; a wrong subject, a
//! message from before the attempt and one already taken time out saying what the inbox
//! holds; the password appears nowhere; mistakes are refused at load, and a remote target
//! with no inbox before any browser starts.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use crate::common;

use common::mail::MailServers;
use common::*;

const SUBJECT: &str = "Your login link for Superlists";

/// A login email as the book's app sends it; `date` as an RFC 5322 Date, when one is wanted.
fn login_email(to: &str, subject: &str, token: &str, date: Option<&str>) -> String {
    let date = date.map(|d| format!("Date: {d}\n")).unwrap_or_default();
    format!(
        "{date}From: noreply@superlists\nTo: {to}\nSubject: {subject}\nMIME-Version: 1.0\n\
         Content-Type: text/plain; charset=utf-8\n\nUse this link to log in:\n\n\
         http://127.0.0.1:8000/accounts/login?token={token}\n"
    )
}

/// The message files of a Maildir (new/ and cur/).
fn files(maildir: &Path) -> Vec<std::path::PathBuf> {
    ["new", "cur"]
        .iter()
        .filter_map(|d| std::fs::read_dir(maildir.join(d)).ok())
        .flatten()
        .map(|e| e.expect("entry").path())
        .collect()
}

/// Whether a message holding `text` is still in the Maildir.
fn still_there(maildir: &Path, text: &str) -> bool {
    files(maildir).iter().any(|f| std::fs::read_to_string(f).unwrap_or_default().contains(text))
}

/// Send a message that arrived an hour ago: its Date says so, and so does its file's time
/// (what Dovecot gives as IMAP's arrival time, and the Maildir reader reads), set before
/// Dovecot first looks at it.
fn send_old(servers: &MailServers, to: &str, token: &str) {
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    let date = chrono::DateTime::<chrono::Utc>::from(hour_ago).to_rfc2822();
    servers.send("noreply@superlists", &[to], &login_email(to, SUBJECT, token, Some(&date)));
    let file = files(&servers.maildir())
        .into_iter()
        .find(|f| std::fs::read_to_string(f).unwrap_or_default().contains(&format!("token={token}")))
        .expect("the old message was delivered");
    std::fs::File::options().write(true).open(&file).and_then(|f| f.set_modified(hour_ago)).expect("set its time");
}

/// What a run said about one scenario, from its `scenario_finished` event.
struct Finished {
    name: String,
    outcome: String,
    message: String,
}

/// Run ft on `spec` (spec.toml in a fresh folder) with `--message-format json`, calling
/// `on_start` with each scenario's name as it starts (to send its email only then).
fn run_sending(
    spec: &str,
    args: &[&str],
    env: &[(&str, &str)],
    mut on_start: impl FnMut(&str),
) -> (Output, Vec<Finished>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("spec.toml"), spec).expect("write spec");
    let mut child = ft_command(dir.path())
        .args(["--specs", "spec.toml", "--message-format", "json", "--scenario-timeout", "120"])
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ft starts");
    let mut stderr = child.stderr.take().expect("stderr");
    let reading_stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let stdout = child.stdout.take().expect("stdout");
    let mut child = KillOnDrop::new(child);
    let mut lines = Vec::new();
    let mut finished = Vec::new();
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        let event: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        let name = event["scenario"].as_str().unwrap_or_default().to_string();
        match event["event"].as_str() {
            Some("scenario_started") => on_start(&name),
            Some("scenario_finished") => finished.push(Finished {
                name,
                outcome: event["outcome"].as_str().unwrap_or_default().into(),
                message: event["message"].as_str().unwrap_or_default().into(),
            }),
            _ => {}
        }
        lines.push(line);
    }
    let status = child.wait().expect("ft exits");
    let out = Output {
        code: status.code().unwrap_or(-1),
        stdout: lines.join("\n"),
        stderr: reading_stderr.join().expect("stderr read"),
    };
    (out, finished, dir)
}

/// Every file under `dir`, read as text (lossily), with its path.
fn every_file(dir: &Path) -> Vec<(std::path::PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.push((path, String::from_utf8_lossy(&bytes).into_owned()));
            }
        }
    }
    out
}

/// The four scenarios each kind of inbox is tried with (addresses unique to `kind`).
fn scenarios(kind: &str) -> String {
    // Every scenario ends looking at the app, as a scenario must.
    let capture = |name: &str, to: &str, extra: &str| {
        format!(
            "{{ capture = \"{name}\", from_email = \"{to}\", subject = \"{SUBJECT}\", \
             regex = 'Use this link to log in:\\s+(\\S+)'{extra} }}, {{ visit = \"/\" }}, {{ expect_title = \"To-Do\" }}"
        )
    };
    let pass = format!("edith-{kind}-pass@example.com");
    format!(
        r##"[[scenario]]
name = "the newest login link is taken"
steps = [
  {take},
  {{ visit = "/" }},
  {{ type = "${{link}}", into = "#id_text" }},
  {{ expect_value = "http://127.0.0.1:8000/accounts/login?token=new-{kind}", of = "#id_text" }},
]

[[scenario]]
name = "a second reader does not get it again"
steps = [{again}]

[[scenario]]
name = "a message with another subject is not taken"
steps = [{subject}]

[[scenario]]
name = "a message from before the attempt is not taken"
steps = [{old}]
"##,
        take = capture("link", &pass, ", timeout = 30"),
        again = capture("again", &pass, ", timeout = 2"),
        subject = capture("other", &format!("edith-{kind}-subject@example.com"), ", timeout = 2"),
        old = capture("old", &format!("edith-{kind}-old@example.com"), ", timeout = 2"),
    )
}

/// The four scenarios against `servers` read through `inbox`: the right one passes, the
/// others fail saying what the inbox held, and what was taken left the mailbox.
fn the_four_scenarios_read_through_url(kind: &str, url: impl Fn(&MailServers) -> String, tls: bool) {
    let servers = MailServers::start();
    let inbox = url(&servers);
    let pass = format!("edith-{kind}-pass@example.com");
    // An older link to the same address: never the one taken.
    send_old(&servers, &pass, &format!("stale-{kind}"));
    send_old(&servers, &format!("edith-{kind}-old@example.com"), &format!("old-{kind}"));
    let ca = servers.ca_cert();
    let mut args = vec!["--inbox", &inbox, "--max-wait", "5"];
    if tls {
        args.extend(["--ca-cert", ca.to_str().expect("utf-8 path")]);
    }
    let (out, finished, dir) =
        run_sending(&scenarios(kind), &args, &[("FT_INBOX_PASSWORD", servers.password())], |name| match name {
            "the newest login link is taken" => {
                servers.send("noreply@superlists", &[&pass], &login_email(&pass, SUBJECT, &format!("new-{kind}"), None))
            }
            "a message with another subject is not taken" => {
                let to = format!("edith-{kind}-subject@example.com");
                let message =
                    format!("From: noreply@superlists\nTo: {to}\nSubject: Your login code\n\nYour code is 271828\n");
                servers.send("noreply@superlists", &[&to], &message)
            }
            _ => {}
        });
    let all = format!("{}\n{}", out.all(), servers.dovecot_log());
    assert_eq!(out.code, 1, "{all}");
    let outcome = |name: &str| finished.iter().find(|f| f.name == name).unwrap_or_else(|| panic!("{name}: {all}"));
    assert_eq!(outcome("the newest login link is taken").outcome, "passed", "{all}");
    let again = outcome("a second reader does not get it again");
    assert_eq!(again.outcome, "failed", "{all}");
    assert!(again.message.contains(&format!("no email to {pass} with subject {SUBJECT:?} came within 2s")), "{all}");
    let step = format!("capture \"again\" from the email to {pass} with subject {SUBJECT:?} by /Use this link");
    assert!(out.stderr.contains(&step), "the failed step is named as written: {all}");
    let subject = outcome("a message with another subject is not taken");
    assert_eq!(subject.outcome, "failed", "{all}");
    // What the inbox held is said: recipients and subjects, never a body.
    assert!(out.stderr.contains("\"Your login code\" to edith-"), "{all}");
    assert_eq!(outcome("a message from before the attempt is not taken").outcome, "failed", "{all}");
    assert!(out.stderr.contains("s before the attempt started"), "{all}");
    assert!(!out.all().contains("271828"), "a body is never shown: {all}");
    // Taken: deleted; not taken: still there.
    eventually("the message taken to leave the mailbox", Duration::from_secs(10), || {
        !still_there(&servers.maildir(), &format!("token=new-{kind}"))
    });
    assert!(still_there(&servers.maildir(), &format!("token=stale-{kind}")), "{all}");
    assert!(still_there(&servers.maildir(), &format!("token=old-{kind}")), "{all}");
    // The password is in no output and no file ft wrote.
    assert!(!out.all().contains(servers.password()), "{all}");
    for (path, text) in every_file(dir.path()) {
        assert!(!text.contains(servers.password()), "the password is in {}", path.display());
    }
}

#[test]
fn a_login_link_is_read_over_imap_and_deleted() {
    the_four_scenarios_read_through_url("imap", MailServers::imap_url, false);
}

#[test]
fn a_login_link_is_read_over_imaps_trusting_the_ca_cert() {
    the_four_scenarios_read_through_url("imaps", MailServers::imaps_url, true);
}

#[test]
fn a_login_link_is_read_over_pop3_and_deleted() {
    the_four_scenarios_read_through_url("pop3", MailServers::pop3_url, false);
}

#[test]
fn a_login_link_is_read_over_pop3s_trusting_the_ca_cert() {
    the_four_scenarios_read_through_url("pop3s", MailServers::pop3s_url, true);
}

#[test]
fn a_login_link_is_read_from_a_maildir_and_its_file_removed() {
    the_four_scenarios_read_through_url("maildir", |s| format!("maildir:{}", s.maildir().display()), false);
}

/// One scenario that captures the email to `to` within `timeout` seconds.
fn one_capture(to: &str, timeout: u32, extra: &str) -> String {
    format!(
        "[[scenario]]\nname = \"login\"\nsteps = [\n  {{ capture = \"link\", from_email = \"{to}\", subject = \"{SUBJECT}\", \
         timeout = {timeout}{extra} }},\n  {{ visit = \"/\" }},\n  {{ expect_title = \"To-Do\" }},\n]\n"
    )
}

#[test]
fn a_secret_link_to_an_address_from_a_value_is_taken_and_shown_nowhere() {
    let servers = MailServers::start();
    let to = "edith-secret@example.com";
    let spec = format!(
        "[[scenario]]\nname = \"login\"\nsteps = [\n  {{ capture = \"link\", from_email = \"${{env.FT_TEST_TO}}\", \
         subject = \"{SUBJECT}\", regex = 'token=(\\S+)', secret = true, timeout = 30 }},\n  {{ visit = \"/\" }},\n  \
         {{ type = \"${{link}}\", into = \"#id_text\" }},\n  {{ expect_value = \"wrong-${{link}}\", of = \"#id_text\" }},\n]\n"
    );
    let inbox = format!("maildir:{}", servers.maildir().display());
    // The address is a value too, filled in when the step runs.
    let (out, finished, dir) =
        run_sending(&spec, &["--inbox", &inbox, "--max-wait", "3"], &[("FT_TEST_TO", to)], |_| {
            servers.send("noreply@superlists", &[to], &login_email(to, SUBJECT, "s3cr3t-t0ken", None))
        });
    // It failed after the capture (the value was typed, then expected wrong), so the
    // reports hold the step log and the page's evidence.
    assert_eq!((out.code, finished[0].outcome.as_str()), (1, "failed"), "{}", out.all());
    assert!(out.stderr.contains("the value of #id_text was \"[secret]\""), "{}", out.all());
    assert!(!out.all().contains("s3cr3t-t0ken"), "{}", out.all());
    for (path, text) in every_file(dir.path()) {
        assert!(!text.contains("s3cr3t-t0ken"), "the secret is in {}", path.display());
    }
}

#[test]
fn a_wrong_password_fails_the_step_at_once_naming_the_user_not_the_password() {
    let servers = MailServers::start();
    let (out, finished, dir) = run_sending(
        &one_capture("edith@example.com", 60, ""),
        &["--inbox", &servers.imap_url(), "--inbox-password-env", "MY_INBOX_PW"],
        // Not ASCII: sent as an IMAP literal, which the server reads and refuses as wrong.
        &[("MY_INBOX_PW", "not-the-pässwörd")],
        |_| {},
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let message = &finished[0].message;
    assert!(message.contains("failed to read the inbox imap://***@127.0.0.1:"), "{}", out.all());
    assert!(message.contains("failed to log in as edith: the server answered NO"), "{}", out.all());
    assert!(!out.all().contains("pässwörd"), "{}", out.all());
    for (path, text) in every_file(dir.path()) {
        assert!(!text.contains("pässwörd"), "the password is in {}", path.display());
    }
}

#[test]
fn an_inbox_whose_certificate_is_not_trusted_fails_saying_how_to_trust_it() {
    let servers = MailServers::start();
    let (out, finished, _dir) = run_sending(
        &one_capture("edith@example.com", 60, ""),
        &["--inbox", &servers.pop3s_url()],
        &[("FT_INBOX_PASSWORD", servers.password())],
        |_| {},
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let message = &finished[0].message;
    assert!(message.contains("certificate is not trusted"), "{}", out.all());
    assert!(message.contains("--ca-cert"), "{}", out.all());
}

#[test]
fn the_embedded_app_is_read_through_its_outbox_without_an_inbox_flag() {
    let (out, finished, _dir) = run_sending(&one_capture("nobody@example.com", 1, ""), &[], &[], |_| {});
    assert_eq!(out.code, 1, "{}", out.all());
    let message = &finished[0].message;
    assert!(message.contains("no email to nobody@example.com with subject"), "{}", out.all());
    assert!(message.contains("came within 1s (") && message.contains("looks at maildir:"), "{}", out.all());
    assert!(out.stderr.contains("the inbox holds 0 messages"), "{}", out.all());
}

/// Refused before any browser starts (the driver named does not exist), with exit 2.
fn refused(spec: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("spec.toml"), spec).expect("write spec");
    let out = output(
        ft_command(dir.path())
            .args(["--specs", "spec.toml", "--driver", "/nonexistent/chromedriver"])
            .args(args)
            .env_remove("FT_INBOX_PASSWORD")
            .envs(env.iter().copied()),
    );
    assert_eq!(out.code, 2, "{}", out.all());
    out
}

#[test]
fn a_remote_target_whose_scenarios_read_email_needs_an_inbox_before_any_browser_starts() {
    let out = refused(&one_capture("edith@example.com", 5, ""), &["--liveserver", "http://127.0.0.1:9"], &[]);
    assert!(out.stderr.contains("scenario \"login\" reads email (spec.toml:4:"), "{}", out.all());
    assert!(out.stderr.contains("has no inbox"), "{}", out.all());
    assert!(out.stderr.contains("--inbox"), "{}", out.all());
}

#[test]
fn an_inbox_without_its_password_in_the_environment_is_refused_naming_the_variable() {
    let out = refused(&one_capture("edith@example.com", 5, ""), &["--inbox", "imaps://edith@127.0.0.1:1/INBOX"], &[]);
    assert!(out.stderr.contains("the environment variable FT_INBOX_PASSWORD is not set"), "{}", out.all());
}

#[test]
fn a_password_written_in_the_inbox_url_is_refused_and_not_repeated() {
    let out =
        refused(&one_capture("edith@example.com", 5, ""), &["--inbox", "imaps://edith:hunter2@127.0.0.1/INBOX"], &[]);
    assert!(out.stderr.contains("--inbox holds a password in its URL"), "{}", out.all());
    assert!(!out.all().contains("hunter2"), "{}", out.all());
}

#[test]
fn an_inbox_url_ft_cannot_read_is_refused_with_the_forms_it_can() {
    let out = refused(&one_capture("edith@example.com", 5, ""), &["--inbox", "smtp://edith@mail.example.com"], &[]);
    assert!(out.stderr.contains("is not an inbox ft can read"), "{}", out.all());
    assert!(out.stderr.contains("imap://HOST:PORT/MAILBOX"), "{}", out.all());
}

#[test]
fn email_capture_mistakes_are_refused_at_load_where_they_are_written() {
    let spec = r#"[[scenario]]
name = "mistakes"
steps = [
  { capture = "a", from_email = "edith@example.com" },
  { capture = "b", from_email = "edith@example.com", subject = "Hi", regex = "(unclosed" },
  { capture = "c", from_email = "edith@example.com", subjet = "Hi" },
  { capture = "d", from_email = "edith@example.com", subject = "Hi", timeout = 0 },
  { capture = "e", text_of = "h1", subject = "Hi" },
  { capture = "f", from_email = "not an address", subject = "Hi" },
]
"#;
    let out = refused(spec, &[], &[]);
    for expected in [
        "spec.toml:4:20: error: `capture` with `from_email` needs `subject`",
        "spec.toml:5:78: error: bad regular expression",
        "spec.toml:6:54: error: `capture` does not take `subjet`",
        "did you mean `subject`?",
        "spec.toml:7:80: error: `timeout` is a number of seconds above 0",
        "spec.toml:8:46: error: `subject` goes with `from_email`",
        "spec.toml:9:33: error: \"not an address\" is not an email address",
    ] {
        assert!(out.stderr.contains(expected), "{expected}\n{}", out.all());
    }
}

#[test]
fn two_workers_waiting_for_one_message_over_imap_never_both_get_it() {
    let servers = MailServers::start();
    let to = "edith-both@example.com";
    let scenario = |name: &str| {
        format!(
            "[[scenario]]\nname = \"{name}\"\nsteps = [\n  {{ capture = \"link\", from_email = \"{to}\", \
             subject = \"{SUBJECT}\", timeout = 8 }},\n  {{ visit = \"/\" }},\n  {{ expect_title = \"To-Do\" }},\n]\n"
        )
    };
    let spec = format!("{}\n{}", scenario("first reader"), scenario("second reader"));
    let mut started = 0;
    let (out, finished, _dir) = run_sending(
        &spec,
        &["--inbox", &servers.imap_url(), "--workers", "2"],
        &[("FT_INBOX_PASSWORD", servers.password())],
        |_| {
            started += 1;
            // Once both wait, one message comes.
            if started == 2 {
                servers.send("noreply@superlists", &[to], &login_email(to, SUBJECT, "only-one", None));
            }
        },
    );
    let passed = finished.iter().filter(|f| f.outcome == "passed").count();
    assert_eq!((finished.len(), passed, out.code), (2, 1, 1), "{}", out.all());
    assert!(!still_there(&servers.maildir(), "token=only-one"), "{}", out.all());
}

#[test]
fn ft_toml_run_table_gives_the_inbox_and_the_mail_wait() {
    let servers = MailServers::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = one_capture("nobody@example.com", 1, "").replace(", timeout = 1", "");
    std::fs::write(dir.path().join("spec.toml"), spec).expect("write spec");
    let config = format!("[run]\ninbox = \"maildir:{}\"\nmail_wait = 1\n", servers.maildir().display());
    std::fs::write(dir.path().join("ft.toml"), config).expect("write ft.toml");
    let out = ft_in(dir.path(), &["--specs", "spec.toml"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stdout.contains("came within 1s ("), "{}", out.all());
    assert!(out.stdout.contains(&format!("looks at maildir:{} in ", servers.maildir().display())), "{}", out.all());
}
