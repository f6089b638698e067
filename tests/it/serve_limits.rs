//! Issue 24, idle and oversized requests: `ft serve` closes a connection that does not
//! send its headers within a few seconds and answers a body declared too large with 413
//! before any of it arrives; `ft watch --metrics` answers a scrape while idle connections
//! are open. Real processes, raw TCP on loopback.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::common::*;

fn connect(url: &str) -> TcpStream {
    let conn = TcpStream::connect(url.trim_start_matches("http://")).expect("connect");
    // Generous: the bound under test is a few seconds; this only stops a hung test.
    conn.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    conn
}

/// Whether the server closed the connection (read end of file or reset) before the
/// read timeout: what was read until then.
fn read_until_closed(conn: &mut TcpStream) -> Result<Vec<u8>, String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match conn.read(&mut buf) {
            Ok(0) => return Ok(got),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return Err(format!("still open after 10 s: {e}"))
            }
            Err(_) => return Ok(got),
        }
    }
}

// Issue 24 finding 6: 3,000 half-sent requests held ft serve for over a minute.
#[test]
fn ft_serve_closes_connections_that_do_not_send_their_headers() {
    let served = Served::start(&[]);
    let mut silent = connect(&served.url);
    let mut half = connect(&served.url);
    half.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").expect("half a request");
    for (what, conn) in [("silent", &mut silent), ("half-sent", &mut half)] {
        let started = Instant::now();
        let got = read_until_closed(conn).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(started.elapsed() < Duration::from_secs(10), "{what}");
        // Closed, perhaps with a 408: never a page.
        assert!(!String::from_utf8_lossy(&got).contains("200 OK"), "{what}: {}", String::from_utf8_lossy(&got));
    }
    // The app still serves whole requests.
    let mut whole = connect(&served.url);
    whole.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").expect("request");
    let page = read_until_closed(&mut whole).expect("answered");
    assert!(page.starts_with(b"HTTP/1.1 200 OK"), "{}", String::from_utf8_lossy(&page));
}

#[test]
fn ft_serve_refuses_a_declared_oversized_body_before_reading_it() {
    let served = Served::start(&[]);
    let mut conn = connect(&served.url);
    conn.write_all(
        b"POST /lists/new HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
          Content-Length: 99999999999\r\n\r\n",
    )
    .expect("headers");
    // No byte of the body is sent: the answer must not wait for it.
    let mut head = [0u8; 12];
    conn.read_exact(&mut head).expect("an answer before the body (read timeout 10 s)");
    assert_eq!(&head, b"HTTP/1.1 413", "{}", String::from_utf8_lossy(&head));
}

#[test]
fn a_metrics_scrape_is_answered_while_idle_connections_are_open() {
    let mut ft = Running::start(&[
        "watch",
        "--liveserver",
        "http://127.0.0.1:9",
        "--every",
        "1h",
        "--metrics",
        "127.0.0.1:0",
        "--driver",
        "/nonexistent/chromedriver",
    ]);
    ft.wait_for_line("metrics on http://");
    let line = ft.seen.iter().find(|l| l.contains("metrics on http://")).expect("metrics line");
    let addr = line.split("http://").nth(1).expect("addr").trim_end_matches("/metrics").to_string();
    let idle: Vec<TcpStream> = (0..4).map(|_| connect(&addr)).collect();
    let started = Instant::now();
    let mut scrape = connect(&addr);
    scrape.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").expect("request");
    let answer = read_until_closed(&mut scrape).expect("answered");
    let took = started.elapsed();
    assert!(answer.starts_with(b"HTTP/1.1 200 OK"), "{}", String::from_utf8_lossy(&answer));
    // One connection at a time, each idle one held it 5 s: 20 s. Side by side: at once.
    assert!(took < Duration::from_secs(4), "the scrape took {took:?} behind 4 idle connections");
    drop(idle);
    ft.signal(libc::SIGINT);
    assert_eq!(ft.wait(), 130);
}
