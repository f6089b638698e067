//! Issue 24, `ft watch` and its webhook: the secret a chat webhook carries in its path
//! (Slack's `/services/T…/B…/SECRET`) is shown nowhere, and a second Ctrl-C does not
//! wait for a webhook that never answers. The watched target does not answer, so the
//! first run is an outage found before any browser starts (the driver given does not
//! exist either) and the alert goes out at once.

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use crate::common::*;

const SECRET: &str = "SECRETPATHTOKEN";

/// A webhook on loopback that reads each request and then does what `answer` says with
/// the connection; each request's line is sent on the channel once it was read.
fn hook(answer: fn(&mut std::net::TcpStream)) -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/services/T0AAA/B0BBB/{SECRET}", listener.local_addr().expect("addr"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
            let Some(request) = crate::common::loopback::read_request(&mut conn) else { continue };
            let _ = tx.send(request.line);
            answer(&mut conn);
        }
    });
    (url, rx)
}

fn watch_with(webhook: &str) -> Running {
    Running::start(&[
        "watch",
        "--liveserver",
        "http://127.0.0.1:9",
        "--every",
        "1s",
        "--alert-after",
        "1",
        "--webhook",
        webhook,
        "--driver",
        "/nonexistent/chromedriver",
    ])
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if std::fs::read(&path).is_ok_and(|b| String::from_utf8_lossy(&b).contains(needle)) {
            found.push(path.display().to_string());
        }
    }
    found
}

// Issue 24 finding 5: the start line and every warning printed the path's secret.
#[test]
fn a_webhooks_path_appears_in_no_output_and_no_file() {
    // A webhook that answers 503: the "answered" warning.
    let (url, requests) = hook(|conn| {
        let _ = conn.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    });
    let mut ft = watch_with(&url);
    ft.wait_for_line("ft watch: the `smoke` scenarios against");
    assert!(requests.recv_timeout(Duration::from_secs(60)).expect("a POST").contains(SECRET), "sent to the real URL");
    ft.wait_for_line("answered 503");
    ft.signal(libc::SIGINT);
    assert_eq!(ft.wait(), 130);
    let host = url.split("/services").next().expect("host");
    assert!(ft.seen[0].ends_with(&format!(" to {host}")), "{:?}", ft.seen);
    assert!(ft.seen.iter().all(|l| !l.contains(SECRET) && !l.contains("/services")), "{:?}", ft.seen);
    assert_eq!(files_containing(ft.dir.path(), SECRET), Vec::<String>::new());

    // A webhook that is not there: reqwest's own message names the URL.
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let gone = format!("http://{}/services/T0AAA/B0BBB/{SECRET}", closed.local_addr().expect("addr"));
    drop(closed);
    let mut ft = watch_with(&gone);
    ft.wait_for_line("warning: failed to send the alert message to http://127.0.0.1:");
    ft.signal(libc::SIGINT);
    assert_eq!(ft.wait(), 130);
    assert!(ft.seen.iter().all(|l| !l.contains(SECRET) && !l.contains("/services")), "{:?}", ft.seen);
    assert_eq!(files_containing(ft.dir.path(), SECRET), Vec::<String>::new());
}

// Issue 24 finding 7: Ctrl-C waited for a webhook that never answers (the send timeout).
#[test]
fn a_second_ctrl_c_does_not_wait_for_a_hanging_webhook() {
    let (url, requests) = hook(|conn| {
        // Accept, read, never answer: hold the connection open well past ft's timeout.
        std::thread::sleep(Duration::from_secs(60));
        let _ = conn.flush();
    });
    let mut ft = watch_with(&url);
    requests.recv_timeout(Duration::from_secs(60)).expect("ft sends its message");
    // The message is in flight, and will never be answered.
    let (code, took) = interrupt_until_exit(&mut ft.child, Duration::from_secs(20));
    assert_eq!(code, Some(130), "{:?}", ft.seen);
    assert!(took < Duration::from_secs(3), "exited {took:?} after the first Ctrl-C");
}
