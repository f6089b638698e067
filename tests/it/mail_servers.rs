//! The real mail servers the email tests read from (common::mail): a message sent over
//! SMTP, to any recipient, is read back over IMAP and POP3, plain and implicit TLS (curl,
//! trusting only the test's CA); what was read can be deleted there; a wrong password is
//! refused; and no server process outlives its `MailServers`, dropped or panicking, nor a
//! test process killed outright.

use crate::common;

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::mail::MailServers;
use common::{eventually, group_members, output, KillOnDrop, Output};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::AsyncBufReadExt;
use tokio_rustls::rustls;

const LOGIN_EMAIL: &str = "From: noreply@superlists\n\
To: edith-42@example.com\n\
Subject: Your login link for Superlists\n\
Message-ID: <1@superlists>\n\
\n\
Use this link to log in:\n\
\n\
http://127.0.0.1:8000/accounts/login?token=0b5e2f0c\n\
.a line that starts with a dot\n";

/// curl with the servers' user and password (or `password`), trusting their CA only.
fn curl(servers: &MailServers, password: &str, url: &str, extra: &[&str]) -> Output {
    let user = format!("{}:{password}", servers.user());
    output(
        Command::new("curl")
            .args(["--silent", "--show-error", "--max-time", "20", "--user", &user, "--cacert"])
            .arg(servers.ca_cert())
            .args(extra)
            .arg(url),
    )
}

/// The messages in the Maildir (new/ and cur/).
fn messages(servers: &MailServers) -> Vec<std::path::PathBuf> {
    ["new", "cur"]
        .iter()
        .flat_map(|d| std::fs::read_dir(servers.maildir().join(d)).expect("read the Maildir"))
        .map(|e| e.expect("entry").path())
        .collect()
}

#[test]
fn a_message_sent_over_smtp_to_anyone_is_read_back_over_imap_imaps_pop3_and_pop3s() {
    let start = Instant::now();
    let servers = MailServers::start();
    eprintln!("mail servers accepting after {:.2?}", start.elapsed());
    servers.send("noreply@superlists", &["edith-42@example.com"], LOGIN_EMAIL);
    assert_eq!(messages(&servers).len(), 1, "one message delivered into {}", servers.maildir().display());

    let reads = [
        format!("{};UID=1", servers.imap_url()),
        format!("{};UID=1", servers.imaps_url()),
        format!("{}/1", servers.pop3_url()),
        format!("{}/1", servers.pop3s_url()),
    ];
    for url in &reads {
        let out = curl(&servers, servers.password(), url, &[]);
        assert_eq!(out.code, 0, "read {url}: {}\n{}", out.all(), servers.dovecot_log());
        for text in [
            "To: edith-42@example.com",
            "Subject: Your login link for Superlists",
            "Use this link to log in:",
            "http://127.0.0.1:8000/accounts/login?token=0b5e2f0c",
            "\n.a line that starts with a dot",
        ] {
            assert!(out.stdout.contains(text), "{text:?} read over {url}:\n{}", out.stdout);
        }
    }
    let log = servers.dovecot_log();
    for (login, count) in [("imap-login: Info: Login", 2), ("pop3-login: Info: Login", 2), (", TLS,", 2)] {
        assert_eq!(log.matches(login).count(), count, "{login:?} in the log:\n{log}");
    }
}

#[test]
fn what_was_read_is_deleted_over_imap_and_over_pop3_and_leaves_the_maildir() {
    let servers = MailServers::start();
    for n in 1..=2 {
        let message = LOGIN_EMAIL.replace("Message-ID: <1@", &format!("Message-ID: <{n}@"));
        servers.send("noreply@superlists", &["edith@example.com", "other@example.com"], &message);
    }
    assert_eq!(messages(&servers).len(), 2, "two messages delivered, once each whatever their recipients");

    let imap = servers.imaps_url();
    let flag = curl(&servers, servers.password(), &imap, &["--request", "UID STORE 1 +FLAGS (\\Deleted)"]);
    assert_eq!(flag.code, 0, "flag over IMAP: {}", flag.all());
    let expunge = curl(&servers, servers.password(), &imap, &["--request", "EXPUNGE"]);
    assert_eq!(expunge.code, 0, "expunge over IMAP: {}", expunge.all());
    assert_eq!(messages(&servers).len(), 1, "IMAP deleted one:\n{}", servers.dovecot_log());

    let pop3 = format!("{}/1", servers.pop3s_url());
    let dele = curl(&servers, servers.password(), &pop3, &["--request", "DELE", "--list-only"]);
    assert_eq!(dele.code, 0, "DELE over POP3: {}", dele.all());
    assert_eq!(
        messages(&servers),
        Vec::<std::path::PathBuf>::new(),
        "POP3 deleted the other:\n{}",
        servers.dovecot_log()
    );
    let list = curl(&servers, servers.password(), &servers.pop3_url(), &[]);
    assert_eq!((list.code, list.stdout.trim()), (0, ""), "nothing left to list: {}", list.all());
}

/// The first line a TLS server on `port` says, through rustls (ft's TLS) trusting only the
/// certificates in `roots`; or why the handshake failed.
fn greeting_over_rustls(port: u16, roots: &[CertificateDer<'static>]) -> Result<String, String> {
    let mut store = rustls::RootCertStore::empty();
    for cert in roots {
        store.add(cert.clone()).expect("a root");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(store)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.map_err(|e| e.to_string())?;
        let name = ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into());
        let tls = connector.connect(name, tcp).await.map_err(|e| e.to_string())?;
        let mut line = String::new();
        tokio::io::BufReader::new(tls).read_line(&mut line).await.map_err(|e| e.to_string())?;
        Ok(line)
    })
}

#[test]
fn imaps_and_pop3s_greet_through_rustls_trusting_the_ca_cert_and_not_without_it() {
    let servers = MailServers::start();
    let ca: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(servers.ca_cert()).expect("the CA file").collect::<Result<_, _>>().expect("PEM");
    for (url, greeting) in [(servers.imaps_url(), "* OK"), (servers.pop3s_url(), "+OK")] {
        let port: u16 =
            url.rsplit(':').next().and_then(|p| p.split('/').next()).and_then(|p| p.parse().ok()).expect("a port");
        let said = greeting_over_rustls(port, &ca).unwrap_or_else(|e| panic!("{url} over rustls: {e}"));
        assert!(said.starts_with(greeting), "{url} greets: {said:?}");
        let refused = greeting_over_rustls(port, &[]).expect_err("no trust without the CA");
        assert!(refused.contains("UnknownIssuer"), "{url} without the CA: {refused}");
    }
}

#[test]
fn a_wrong_password_is_refused_over_imap_imaps_pop3_and_pop3s_and_costs_the_right_one_nothing() {
    let servers = MailServers::start();
    servers.send("noreply@superlists", &["edith@example.com"], LOGIN_EMAIL);
    let urls = [servers.imap_url(), servers.imaps_url(), servers.pop3_url(), servers.pop3s_url()];
    for url in &urls {
        let out = curl(&servers, "not-the-password", url, &[]);
        // 67: "the remote server denied curl to login".
        assert_eq!(out.code, 67, "a wrong password over {url}: {}", out.all());
    }
    let start = Instant::now();
    for url in &urls {
        let out = curl(&servers, servers.password(), url, &[]);
        assert_eq!(out.code, 0, "the right password over {url} after wrong ones: {}", out.all());
    }
    assert!(start.elapsed() < Duration::from_secs(10), "no penalty for the failed logins: {:?}", start.elapsed());
}

#[test]
fn no_server_process_outlives_its_mail_servers_dropped_or_panicking() {
    let servers = MailServers::start();
    let groups = servers.process_groups();
    for group in groups {
        assert!(!group_members(group).is_empty(), "group {group} runs");
    }
    drop(servers);
    for group in groups {
        eventually("the servers' processes to go after a drop", Duration::from_secs(10), || {
            group_members(group).is_empty()
        });
    }

    let (tx, rx) = std::sync::mpsc::channel();
    let panicked = std::thread::spawn(move || {
        let servers = MailServers::start();
        tx.send(servers.process_groups()).expect("send");
        panic!("a test failing with mail servers running");
    })
    .join();
    assert!(panicked.is_err());
    for group in rx.recv().expect("the groups") {
        eventually("the servers' processes to go after a panic", Duration::from_secs(10), || {
            group_members(group).is_empty()
        });
    }
}

/// Set in the test process that the test below starts and kills.
const HOLD: &str = "FT_TEST_HOLD_MAIL_SERVERS";

#[test]
fn no_server_process_outlives_a_test_process_killed_outright() {
    if std::env::var_os(HOLD).is_some() {
        // The killed process's part: start them, say their groups, wait for the kill.
        let servers = MailServers::start();
        let [smtp, dovecot] = servers.process_groups();
        println!("groups {smtp} {dovecot}");
        std::thread::sleep(Duration::from_secs(120));
        return;
    }
    let name = "mail_servers::no_server_process_outlives_a_test_process_killed_outright";
    let mut cmd = Command::new(std::env::current_exe().expect("this test binary"));
    cmd.args(["--exact", name, "--nocapture"]).env(HOLD, "1").stdout(Stdio::piped()).stderr(Stdio::null());
    let mut held = KillOnDrop::new(cmd.spawn().expect("the test binary starts"));
    let stdout = std::io::BufReader::new(held.stdout.take().expect("stdout"));
    let line = stdout.lines().map_while(Result::ok).find(|l| l.starts_with("groups ")).expect("the groups");
    let groups: Vec<u32> = line.split_whitespace().skip(1).map(|g| g.parse().expect("a group")).collect();
    for &group in &groups {
        assert!(!group_members(group).is_empty(), "group {group} runs");
    }
    // SIGKILL: no drop, no unwinding; only the end of the pipe each group watches.
    held.kill_now();
    for &group in &groups {
        eventually("the servers' processes to go with the killed test process", Duration::from_secs(10), || {
            group_members(group).is_empty()
        });
    }
}
