//! A raw HTTP server on 127.0.0.1 for what the embedded app never serves: a hostile page,
//! a 500, a response cut off mid-page. Each connection gets its own thread, so a handler
//! that hangs holds only its own connection; the threads end with the test process.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

/// What a handler is told of a request.
pub struct Request {
    /// e.g. "GET /lists/new HTTP/1.1"
    pub line: String,
    /// The header lines, as sent.
    pub head: String,
    /// The body, as long as its Content-Length said.
    pub body: Vec<u8>,
}

impl Request {
    /// A browser's request (not ft's preflight, which sends no browser User-Agent).
    pub fn is_from_browser(&self) -> bool {
        self.head.lines().any(|l| l.to_ascii_lowercase().starts_with("user-agent:") && l.contains("Mozilla"))
    }
}

/// Serve every connection with `handler`, which writes whatever it likes (or nothing) to
/// the stream; returns the base URL, e.g. "http://127.0.0.1:41234".
pub fn serve(handler: impl Fn(&Request, &mut TcpStream) + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let url = format!("http://{}", listener.local_addr().expect("local addr"));
    let handler = Arc::new(handler);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let handler = Arc::clone(&handler);
            std::thread::spawn(move || {
                let Some(request) = read_request(&mut stream) else { return };
                handler(&request, &mut stream);
            });
        }
    });
    url
}

/// A whole response with `status` ("200 OK") and an HTML body; the connection closes.
pub fn respond(stream: &mut TcpStream, status: &str, body: &str) {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
    let _ = stream.flush();
}

/// The request line, after reading the head (and a form body, by its Content-Length).
pub fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut length = 0usize;
    let mut head = String::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 || header == "\r\n" || header == "\n" {
            break;
        }
        head.push_str(&header);
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    std::io::Read::read_exact(&mut reader, &mut body).ok()?;
    Some(Request { line: line.trim_end().to_string(), head, body })
}
