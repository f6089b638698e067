//! The preflight tells a target that is down from one that is slow, and waits for a slow
//! one as long as the user said: real listeners on 127.0.0.1, the real ft binary.

use crate::common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{free_port, ft_in, Output, Served};

/// A front on 127.0.0.1 that passes connections on to `backend`, the first one only after
/// `delay`: a server still busy starting when the preflight asks. Its threads end with the
/// test process.
fn slow_front(backend: SocketAddr, delay: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let first = Arc::new(AtomicBool::new(true));
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let first = first.clone();
            std::thread::spawn(move || {
                if first.swap(false, Ordering::SeqCst) {
                    std::thread::sleep(delay); // the server's slowness, not the test's wait
                }
                let Ok(app) = TcpStream::connect(backend) else { return };
                pipe(client, app);
            });
        }
    });
    url
}

/// Copy both ways until either side closes.
fn pipe(a: TcpStream, b: TcpStream) {
    let (Ok(mut a2), Ok(mut b2)) = (a.try_clone(), b.try_clone()) else { return };
    let one = std::thread::spawn(move || copy(&mut a2, &mut b2));
    let (mut a, mut b) = (a, b);
    copy(&mut b, &mut a);
    let _ = one.join();
}

fn copy(from: &mut TcpStream, to: &mut TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

/// A listener that accepts connections and never says a word.
fn silent_listener() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for client in listener.incoming().flatten() {
            held.push(client);
        }
    });
    url
}

fn ft_timed(args: &[&str]) -> (Output, Duration, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let out = ft_in(dir.path(), args);
    (out, started.elapsed(), dir)
}

#[test]
fn a_refused_port_is_down_at_once_whatever_the_wait() {
    let url = format!("http://127.0.0.1:{}", free_port());
    let (out, took, _dir) = ft_timed(&["--liveserver", &url, "--max-wait", "120"]);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stderr.contains(&format!(
            "target {url} is unreachable: connection refused: nothing listens on that port (the server is down)"
        )),
        "{}",
        out.all()
    );
    assert!(out.stderr.contains("hint: start the server, or check the port (and http vs https)"), "{}", out.all());
    assert!(took < Duration::from_secs(60), "waiting would not bring it up: {took:?}");
}

#[test]
fn https_to_a_plain_http_server_says_it_does_not_speak_tls_there() {
    let served = Served::start(&[]);
    let url = served.url.replace("http://", "https://");
    let (out, _, _dir) = ft_timed(&["--liveserver", &url]);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stderr.contains(&format!("target {url} is unreachable: it does not speak TLS on that port")),
        "{}",
        out.all()
    );
    assert!(out.stderr.contains("hint: use http:// for this server"), "{}", out.all());
}

/// A listener that reads the request and hangs up without a word, as a crashing server
/// (or one speaking TLS) does.
fn hanging_up_listener() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for mut client in listener.incoming().flatten() {
            let _ = client.read(&mut [0u8; 4096]);
        }
    });
    url
}

#[test]
fn a_server_that_hangs_up_is_named_with_both_likely_causes() {
    let url = hanging_up_listener();
    let (out, _, _dir) = ft_timed(&["--liveserver", &url]);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stderr.contains(&format!("target {url} is unreachable: it closed the connection without answering")),
        "{}",
        out.all()
    );
    assert!(out.stderr.contains("or it speaks HTTPS on that port (then use https://)"), "{}", out.all());
}

#[test]
fn a_server_that_accepts_but_never_answers_is_slow_not_down() {
    let url = silent_listener();
    let (out, took, _dir) = ft_timed(&["--liveserver", &url, "--preflight-timeout", "1"]);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stderr.contains(&format!("target {url} accepted the connection but did not answer within 1s")),
        "{}",
        out.all()
    );
    assert!(out.stderr.contains("give it longer with --preflight-timeout SECS (default: --max-wait)"), "{}", out.all());
    assert!(!out.stderr.contains("is the server up"), "{}", out.all());
    assert!(took < Duration::from_secs(60), "the wait given was 1 s: {took:?}");
}

/// The bug: the preflight was fixed at 10 s and called a server that answered in 12 s
/// unreachable, although --max-wait 30 was given.
#[test]
fn a_server_slower_than_ten_seconds_is_waited_for_up_to_max_wait() {
    let served = Served::start(&[]);
    let backend: SocketAddr = served.url.trim_start_matches("http://").parse().expect("address");
    let delay = Duration::from_secs(12);

    let url = slow_front(backend, delay);
    let (out, _, _dir) = ft_timed(&["--liveserver", &url, "--filter", "layout"]);
    assert_eq!(out.code, 3, "the default wait is --max-wait's 10 s: {}", out.all());
    assert!(out.stderr.contains("accepted the connection but did not answer within 10s"), "{}", out.all());

    let url = slow_front(backend, delay);
    let (out, took, _dir) = ft_timed(&["--liveserver", &url, "--max-wait", "30", "--filter", "layout"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("OK: 1 scenario"), "{}", out.all());
    assert!(took >= delay, "the first answer came after {delay:?}, the run took {took:?}");
}
