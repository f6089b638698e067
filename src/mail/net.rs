//! A connection to a mail server, plain or TLS from the first byte (imaps, pop3s), the
//! certificate checked as ft checks a target's (`Trust`: `--ca-cert`, `--insecure-certs`).
//! Every connect, read and write has a deadline; a line has a length limit.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufStream};
use tokio::net::TcpStream;

use super::inbox::Server;
use super::Problem;
use crate::target::tls::{self, Trust};

/// The most one connect, read or write may take.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest line a server may send (RFC 3501 and 1939 ask for far less).
const MAX_LINE: u64 = 64 * 1024;

/// The longest literal or message read: a login email is a few kilobytes.
pub(super) const MAX_MESSAGE: usize = 16 * 1024 * 1024;

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

pub(super) struct Conn {
    stream: BufStream<Box<dyn Io>>,
}

impl Conn {
    pub(super) async fn open(server: &Server, tls: bool, trust: &Trust) -> Result<Conn, Problem> {
        let address = format!("{}:{}", bracketed(&server.host), server.port);
        let tcp = match tokio::time::timeout(IO_TIMEOUT, TcpStream::connect((server.host.as_str(), server.port))).await
        {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(e)) => return Err(Problem::passing(format!("failed to connect to {address}: {e}"))),
            Err(_) => {
                return Err(Problem::passing(format!("failed to connect to {address}: no answer in {IO_TIMEOUT:?}")))
            }
        };
        if !tls {
            return Ok(Conn { stream: BufStream::new(Box::new(tcp)) });
        }
        let config = trust.tls_config().map_err(|e| Problem::fatal(e.to_string(), None))?;
        let name = rustls::pki_types::ServerName::try_from(server.host.clone())
            .map_err(|e| Problem::fatal(format!("{} is not a name TLS can check: {e}", server.host), None))?;
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        match tokio::time::timeout(IO_TIMEOUT, connector.connect(name, tcp)).await {
            Ok(Ok(stream)) => Ok(Conn { stream: BufStream::new(Box::new(stream)) }),
            Ok(Err(e)) => Err(tls_problem(&address, &e, trust)),
            Err(_) => {
                Err(Problem::passing(format!("failed the TLS handshake with {address}: no answer in {IO_TIMEOUT:?}")))
            }
        }
    }

    /// One line, without its line end.
    pub(super) async fn line(&mut self) -> Result<Vec<u8>, Problem> {
        let mut line = Vec::new();
        let mut limited = (&mut self.stream).take(MAX_LINE);
        match tokio::time::timeout(IO_TIMEOUT, limited.read_until(b'\n', &mut line)).await {
            Ok(Ok(0)) => Err(Problem::passing("the server closed the connection")),
            Ok(Ok(_)) if !line.ends_with(b"\n") => {
                Err(Problem::passing(format!("the server sent a line longer than {MAX_LINE} bytes")))
            }
            Ok(Ok(_)) => {
                line.pop();
                if line.ends_with(b"\r") {
                    line.pop();
                }
                Ok(line)
            }
            Ok(Err(e)) => Err(Problem::passing(format!("failed to read from the server: {e}"))),
            Err(_) => Err(Problem::passing(format!("the server said nothing for {IO_TIMEOUT:?}"))),
        }
    }

    /// Exactly `n` bytes (an IMAP literal).
    pub(super) async fn exact(&mut self, n: usize) -> Result<Vec<u8>, Problem> {
        if n > MAX_MESSAGE {
            return Err(Problem::passing(format!("the server sent {n} bytes at once, more than ft reads")));
        }
        let mut bytes = vec![0; n];
        match tokio::time::timeout(IO_TIMEOUT, self.stream.read_exact(&mut bytes)).await {
            Ok(Ok(_)) => Ok(bytes),
            Ok(Err(e)) => Err(Problem::passing(format!("failed to read from the server: {e}"))),
            Err(_) => Err(Problem::passing(format!("the server said nothing for {IO_TIMEOUT:?}"))),
        }
    }

    /// Send a command (its line end added). It may hold the password: no error repeats it.
    pub(super) async fn send(&mut self, command: &str) -> Result<(), Problem> {
        let write = async {
            self.stream.write_all(command.as_bytes()).await?;
            self.stream.write_all(b"\r\n").await?;
            self.stream.flush().await
        };
        match tokio::time::timeout(IO_TIMEOUT, write).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Problem::passing(format!("failed to write to the server: {}", e.kind()))),
            Err(_) => Err(Problem::passing(format!("the server took nothing for {IO_TIMEOUT:?}"))),
        }
    }
}

fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// A failed handshake in plain words: an untrusted certificate says why and how to trust
/// it, as a target's does.
fn tls_problem(address: &str, e: &std::io::Error, trust: &Trust) -> Problem {
    let rustls_error = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match rustls_error {
        Some(rustls::Error::InvalidCertificate(problem)) => Problem::fatal(
            format!("{address}'s certificate is not trusted: {}", tls::describe(problem, None)),
            Some(tls::untrusted_hint(trust)),
        ),
        _ => Problem::fatal(
            format!("failed the TLS handshake with {address}: {e}"),
            Some("is it a TLS port? imaps:// and pop3s:// speak TLS from the first byte (993, 995)".into()),
        ),
    }
}
