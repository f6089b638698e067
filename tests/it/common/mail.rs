//! Real mail servers for the email tests, as a team's staging mail would be: an SMTP server
//! (PyPI's aiosmtpd, from the venv scripts/install-deps.sh makes) that delivers every
//! message, whatever its recipients, into one Maildir, and Dovecot (Debian's) serving that
//! Maildir over IMAP and POP3, plain and implicit TLS, to one user with a password. Each
//! listens on a free loopback port, with a config, a CA and certificate (made here with the
//! openssl CLI), logs and state of its own in a temp dir, never /etc/dovecot or /run.
//!
//! Dovecot refuses to run its login and mail processes as root: logins run as `dovenull`,
//! its own helpers as `dovecot`, the mailbox as `mail` (the one uid `first_valid_uid` lets
//! through, owner of the Maildir). aiosmtpd runs as root and hands each file it writes to
//! `mail` before renaming it into `new/`, so Dovecot can read, flag, move and delete it.
//! Run by a user other than root, everything runs as that user.
//!
//! What a reader sees: each message as sent (LF line ends), after a `Return-Path:` and a
//! `Received:` line as a real delivery adds; the Maildir's file mtime is its arrival, which
//! is also Dovecot's INTERNALDATE. As POP3 says, a message that arrives during a POP3
//! session shows in the next session, not that one.
//!
//! Each server leads a process group of its own, killed when `MailServers` goes, also when
//! a test panics; and each group kills itself when this test process dies without a drop
//! (a watchdog in it that waits for the end of a pipe only this process holds), so no
//! server outlives the tests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::KillOnDrop;

const DOVECOT: &str = "/usr/sbin/dovecot";

/// The one mail user.
const USER: &str = "edith";

/// How long the servers may take to accept connections (seconds, on a loaded machine).
const READY_WITHIN: Duration = Duration::from_secs(30);

/// SMTP, IMAP, IMAPS, POP3 and POP3S on loopback, all delivering into and serving one
/// Maildir; everything stops and goes when this is dropped.
pub struct MailServers {
    // Fields drop in order: the processes go before their folder.
    smtp: KillOnDrop,
    dovecot: KillOnDrop,
    smtp_port: u16,
    ports: Ports,
    password: String,
    dir: tempfile::TempDir,
}

/// Dovecot's four listeners.
#[derive(Clone, Copy)]
struct Ports {
    imap: u16,
    imaps: u16,
    pop3: u16,
    pop3s: u16,
}

/// Who runs what: Dovecot's login and internal users, and the mail user owning the Maildir.
struct Users {
    login: String,
    internal: Account,
    /// The group of Dovecot's internal sockets.
    internal_group: String,
    mail: Account,
    /// Root hands the Maildir and each delivered file to `mail`; anyone else owns them.
    root: bool,
}

#[derive(Clone)]
struct Account {
    name: String,
    uid: u32,
    gid: u32,
}

impl MailServers {
    /// Start them all and wait (up to 30 s) until each accepts connections and greets.
    pub fn start() -> MailServers {
        assert!(Path::new(DOVECOT).exists(), "{DOVECOT} is missing: run scripts/install-deps.sh");
        let python = python();
        let dir = tempfile::tempdir().expect("tempdir");
        // A temp dir is its owner's alone (0700): Dovecot's users must get through.
        chmod(dir.path(), 0o755);
        let users = Users::here();
        for folder in
            ["Maildir", "Maildir/tmp", "Maildir/new", "Maildir/cur", "index", "control", "home", "log", "run", "state"]
        {
            std::fs::create_dir(dir.path().join(folder)).expect("mkdir");
        }
        if users.root {
            for folder in ["Maildir", "Maildir/tmp", "Maildir/new", "Maildir/cur", "index", "control", "home"] {
                chown(&dir.path().join(folder), &users.mail);
            }
        }
        make_certificates(dir.path());
        let password = random_password();
        // Dovecot's auth process (the internal user) reads the passwords; nobody else.
        let passwd = dir.path().join("passwd");
        std::fs::write(&passwd, format!("{USER}:{{PLAIN}}{password}::::::\n")).expect("write passwd");
        chmod(&passwd, 0o600);
        if users.root {
            chown(&passwd, &users.internal);
        }

        // aiosmtpd first: its Python takes longest to start, Dovecot comes up meanwhile.
        let script = dir.path().join("smtp.py");
        std::fs::write(&script, SMTP_PY).expect("write smtp.py");
        let (uid, gid) = if users.root {
            (users.mail.uid.to_string(), users.mail.gid.to_string())
        } else {
            ("-1".into(), "-1".into())
        };
        let mut smtp =
            guarded(&python, &[script.as_os_str(), dir.path().join("Maildir").as_os_str(), uid.as_ref(), gid.as_ref()]);
        let stderr = std::fs::File::create(dir.path().join("log/smtp.log")).expect("log file");
        smtp.stdout(Stdio::piped()).stderr(stderr);
        let mut smtp = KillOnDrop::group(smtp.spawn().expect("aiosmtpd starts"));
        let stdout = smtp.stdout.take().expect("stdout");
        let (said, port_line) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = said.send(line);
        });

        let (dovecot, ports) = start_dovecot(dir.path(), &users);

        // It prints its port once it listens (it binds port 0 itself: no port picked ahead
        // that another test could take first).
        let line = port_line.recv_timeout(READY_WITHIN).unwrap_or_default();
        let smtp_port = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("aiosmtpd did not say its port ({line:?}): {}", log(dir.path(), "smtp.log")));

        let servers = MailServers { smtp, dovecot, smtp_port, ports, password, dir };
        servers.wait_until_accepting(READY_WITHIN);
        servers
    }

    /// Wait until all five servers accept a connection (and the plain ones greet), or panic
    /// with their logs after `limit`.
    pub fn wait_until_accepting(&self, limit: Duration) {
        let start = Instant::now();
        while !self.accepting() {
            for (server, process) in [("dovecot", &self.dovecot), ("aiosmtpd", &self.smtp)] {
                assert!(
                    super::alive(process.id()),
                    "{server} exited\n--- dovecot\n{}\n--- smtp\n{}",
                    self.dovecot_log(),
                    log(self.dir.path(), "smtp.log")
                );
            }
            assert!(
                start.elapsed() < limit,
                "the mail servers did not all accept connections within {limit:?}\n--- dovecot\n{}\n--- smtp\n{}",
                self.dovecot_log(),
                log(self.dir.path(), "smtp.log")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether all five accept connections now: SMTP, IMAP and POP3 greet; IMAPS and POP3S
    /// accept (their greeting comes after a TLS handshake).
    pub fn accepting(&self) -> bool {
        greets(self.smtp_port, "220 ")
            && greets(self.ports.imap, "* OK")
            && greets(self.ports.pop3, "+OK")
            && accepts(self.ports.imaps)
            && accepts(self.ports.pop3s)
    }

    /// Where to send mail (any recipient is delivered).
    pub fn smtp_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.smtp_port))
    }

    /// `imap://edith@127.0.0.1:PORT/INBOX` (no password: that is `password()`).
    pub fn imap_url(&self) -> String {
        format!("imap://{USER}@127.0.0.1:{}/INBOX", self.ports.imap)
    }

    /// `imaps://edith@127.0.0.1:PORT/INBOX`, implicit TLS, trusted by `ca_cert()`.
    pub fn imaps_url(&self) -> String {
        format!("imaps://{USER}@127.0.0.1:{}/INBOX", self.ports.imaps)
    }

    /// `pop3://edith@127.0.0.1:PORT`.
    pub fn pop3_url(&self) -> String {
        format!("pop3://{USER}@127.0.0.1:{}", self.ports.pop3)
    }

    /// `pop3s://edith@127.0.0.1:PORT`, implicit TLS, trusted by `ca_cert()`.
    pub fn pop3s_url(&self) -> String {
        format!("pop3s://{USER}@127.0.0.1:{}", self.ports.pop3s)
    }

    /// The one user, `edith` (also in the URLs).
    pub fn user(&self) -> &str {
        USER
    }

    /// Random for each start, so a test can look for it in whatever ft wrote.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The CA (PEM) that issued the servers' certificate (for 127.0.0.1 and localhost):
    /// what ft gets as `--ca-cert`.
    pub fn ca_cert(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The Maildir the SMTP server delivers into and Dovecot serves as INBOX (only the
    /// messages: Dovecot keeps its index and control files elsewhere).
    pub fn maildir(&self) -> PathBuf {
        self.dir.path().join("Maildir")
    }

    /// Dovecot's log (logins, failed logins, deletions), for a failing test to show.
    pub fn dovecot_log(&self) -> String {
        log(self.dir.path(), "dovecot.log") + log(self.dir.path(), "dovecot.stderr").as_str()
    }

    /// The process groups of the servers (each leads its own), for tests of cleanup.
    pub fn process_groups(&self) -> [u32; 2] {
        [self.smtp.id(), self.dovecot.id()]
    }

    /// Send `message` (RFC 5322 text; bare `\n` line ends are fine) from `from` to each of
    /// `to` over SMTP, as an app would; panics unless the server takes it.
    pub fn send(&self, from: &str, to: &[&str], message: &str) {
        let stream = TcpStream::connect(self.smtp_addr()).expect("connect to the SMTP server");
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut writer = stream;
        let mut expect = |code: &str, what: &str| {
            // Multi-line replies: "250-..." lines until "250 ...".
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).expect("read an SMTP reply");
                assert!(line.starts_with(code), "SMTP {what}: expected {code}, got {line:?}");
                if line.as_bytes().get(3) != Some(&b'-') {
                    break;
                }
            }
        };
        expect("220", "greeting");
        let mut say = |line: String| writer.write_all(format!("{line}\r\n").as_bytes()).expect("write to SMTP");
        say("EHLO ft-tests".into());
        expect("250", "EHLO");
        say(format!("MAIL FROM:<{from}>"));
        expect("250", "MAIL FROM");
        for rcpt in to {
            say(format!("RCPT TO:<{rcpt}>"));
            expect("250", "RCPT TO");
        }
        say("DATA".into());
        expect("354", "DATA");
        let mut data = String::new();
        for line in message.lines() {
            // Dot-stuffing: a line starting with "." gets one more.
            if line.starts_with('.') {
                data.push('.');
            }
            data.push_str(line);
            data.push_str("\r\n");
        }
        data.push_str(".\r\n");
        say(data.trim_end_matches("\r\n").to_string());
        expect("250", "end of DATA");
        say("QUIT".into());
        expect("221", "QUIT");
    }
}

/// Dovecot on four free loopback ports. It cannot bind port 0 and say which it got, so
/// ports are picked and, should another process take one first, picked again.
fn start_dovecot(dir: &Path, users: &Users) -> (KillOnDrop, Ports) {
    let config = dir.join("dovecot.conf");
    let stderr = dir.join("log/dovecot.stderr");
    for _ in 0..5 {
        let ports = free_ports();
        std::fs::write(&config, dovecot_conf(dir, users, ports)).expect("write dovecot.conf");
        let _ = std::fs::remove_file(dir.join("log/dovecot.log"));
        let mut cmd = guarded(Path::new(DOVECOT), &["-F".as_ref(), "-c".as_ref(), config.as_os_str()]);
        cmd.stdout(Stdio::null()).stderr(std::fs::File::create(&stderr).expect("log file"));
        let mut dovecot = KillOnDrop::group(cmd.spawn().expect("dovecot starts"));
        // Listening or gone, which first? The master says it is starting up once it holds
        // all its listeners (a port that another process holds is fatal before that: a
        // connection that succeeds could be that process's).
        let start = Instant::now();
        loop {
            if log(dir, "dovecot.log").contains("starting up") {
                return (dovecot, ports);
            }
            if dovecot.try_wait().expect("try_wait").is_some() {
                break;
            }
            assert!(
                start.elapsed() < READY_WITHIN,
                "dovecot did not listen within {READY_WITHIN:?}: {}",
                log(dir, "dovecot.log")
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let why = log(dir, "dovecot.log") + log(dir, "dovecot.stderr").as_str();
        assert!(why.contains("in use"), "dovecot exited at start:\n{why}");
        drop(dovecot);
    }
    panic!("dovecot found no free ports in 5 tries:\n{}", log(dir, "dovecot.log"));
}

/// Four distinct loopback ports free now (each held until all are picked).
fn free_ports() -> Ports {
    let held: Vec<std::net::TcpListener> =
        (0..4).map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port")).collect();
    let port = |i: usize| held[i].local_addr().expect("local addr").port();
    Ports { imap: port(0), imaps: port(1), pop3: port(2), pop3s: port(3) }
}

/// Dovecot's whole config: nothing from /etc/dovecot, every path in `dir`.
fn dovecot_conf(dir: &Path, users: &Users, ports: Ports) -> String {
    let d = dir.display().to_string();
    assert!(!d.contains(char::is_whitespace), "a temp dir without spaces: {d}");
    let Ports { imap, imaps, pop3, pop3s } = ports;
    let (login, internal, internal_group) = (&users.login, &users.internal.name, &users.internal_group);
    let Account { uid, gid, .. } = users.mail;
    format!(
        r#"# Written by tests/it/common/mail.rs for one test: nothing shared with the system's Dovecot.
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/log/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
shutdown_clients = yes

ssl = yes
ssl_cert = <{d}/leaf.pem
ssl_key = <{d}/leaf.key
# Plain IMAP and POP3 take passwords too (loopback; the tests read over both).
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
# A wrong password is refused at once, and costs later logins from 127.0.0.1 nothing
# (no anvil auth penalty): the tests fail logins on purpose.
auth_failure_delay = 0
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}

default_login_user = {login}
default_internal_user = {internal}
default_internal_group = {internal_group}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {gid}
last_valid_gid = {gid}
# The Maildir holds only messages; Dovecot's own files live beside it.
mail_location = maildir:{d}/Maildir:INDEX={d}/index:CONTROL={d}/control
# Parallel workers each keep connections open.
mail_max_userip_connections = 100

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/home
}}
service auth-worker {{
  user = $default_internal_user
}}

# No chroot: it needs root, and the temp dir is this test's alone.
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  chroot =
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {pop3}
  }}
  inet_listener pop3s {{
    address = 127.0.0.1
    port = {pop3s}
    ssl = yes
  }}
}}
"#
    )
}

impl Users {
    fn here() -> Users {
        // SAFETY: geteuid(2) cannot fail and touches no memory.
        let euid = unsafe { libc::geteuid() };
        if euid == 0 {
            Users {
                login: account("dovenull").name,
                internal: account("dovecot"),
                internal_group: "dovecot".into(),
                mail: account("mail"),
                root: true,
            }
        } else {
            let me = passwd().into_iter().find(|a| a.uid == euid).expect("this user in /etc/passwd");
            let groups = std::fs::read_to_string("/etc/group").expect("read /etc/group");
            let internal_group = groups
                .lines()
                .map(|l| l.split(':').collect::<Vec<_>>())
                .find(|f| f.get(2) == Some(&me.gid.to_string().as_str()))
                .map(|f| f[0].to_string())
                .expect("this user's group in /etc/group");
            Users { login: me.name.clone(), internal: me.clone(), internal_group, mail: me, root: false }
        }
    }
}

fn account(name: &str) -> Account {
    passwd()
        .into_iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("no user {name:?} in /etc/passwd: run scripts/install-deps.sh (Dovecot's packages make dovenull and dovecot)"))
}

fn passwd() -> Vec<Account> {
    let text = std::fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            Some(Account { name: f.first()?.to_string(), uid: f.get(2)?.parse().ok()?, gid: f.get(3)?.parse().ok()? })
        })
        .collect()
}

/// `program ARGS` in a process group of its own (killed whole by `KillOnDrop::group`),
/// with a watchdog in the group: a shell that waits for the end of the stdin pipe, which
/// only this process holds, and then kills the group. So the servers also go when the test
/// process dies without dropping them (killed, or a static never dropped). `exec` keeps the
/// program's pid that of the group's leader, so its exit is seen.
fn guarded(program: &Path, args: &[&std::ffi::OsStr]) -> Command {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("exec 3<&0; { read -r _ <&3; kill -KILL 0; } >/dev/null 2>&1 & exec \"$@\" </dev/null 3<&-")
        .arg("sh")
        .arg(program)
        .args(args)
        .stdin(Stdio::piped())
        .process_group(0);
    cmd
}

/// The venv's Python, with aiosmtpd.
fn python() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache"));
    let python = cache.join("ft/aiosmtpd-venv/bin/python");
    assert!(python.exists(), "{} is missing: run scripts/install-deps.sh", python.display());
    python
}

/// A CA and a certificate it issued for 127.0.0.1 and localhost (`leaf.pem`, `leaf.key`).
fn make_certificates(dir: &Path) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(dir).output().expect("the openssl CLI runs");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let ext = "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
               extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n";
    std::fs::write(dir.join("server.ext"), ext).expect("write");
    let ca = ["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=ft test mail CA"];
    let ca_ext = ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"];
    openssl(&[&["req", "-x509"][..], &ec, &ca, &ca_ext].concat());
    openssl(&[&["req"][..], &ec, &["-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=127.0.0.1"]].concat());
    openssl(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
}

/// 24 hex digits from the standard library's randomly seeded hasher.
fn random_password() -> String {
    use std::hash::{BuildHasher, Hasher};
    let half = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
        h.finish()
    };
    format!("{:016x}{:08x}", half(), half() as u32)
}

fn accepts(port: u16) -> bool {
    TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], port)), Duration::from_secs(1)).is_ok()
}

/// Whether the server on `port` greets with a line starting `prefix`.
fn greets(port: u16, prefix: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], port)), Duration::from_secs(1))
    else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut greeting = [0u8; 64];
    let mut got = 0;
    while got < prefix.len() {
        match stream.read(&mut greeting[got..]) {
            Ok(0) | Err(_) => return false,
            Ok(n) => got += n,
        }
    }
    greeting[..got].starts_with(prefix.as_bytes())
}

fn log(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join("log").join(name)).unwrap_or_default()
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn chown(path: &Path, to: &Account) {
    std::os::unix::fs::chown(path, Some(to.uid), Some(to.gid)).expect("chown");
}

/// The SMTP server: aiosmtpd on a port of its own choosing (printed once it listens),
/// delivering every message, whatever its recipients, into the Maildir `argv[1]` as the
/// uid and gid `argv[2]`, `argv[3]` (-1: as whoever runs it).
const SMTP_PY: &str = r#"
import asyncio, os, socket, sys, time
from email.utils import formatdate
from aiosmtpd.smtp import SMTP

maildir, uid, gid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])


class Deliver:
    """Every message into one Maildir, as a local delivery agent would: written into tmp/,
    owned by the mail user, then renamed into new/ (a reader never sees half a message)."""

    count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        Deliver.count += 1
        name = f"{time.time_ns()}.P{os.getpid()}Q{Deliver.count}.ft-test-smtp"
        trace = (
            f"Return-Path: <{envelope.mail_from}>\n"
            f"Received: from {session.host_name} by ft-test-smtp with SMTP; {formatdate()}\n"
        ).encode()
        message = envelope.original_content.replace(b"\r\n", b"\n")
        tmp = os.path.join(maildir, "tmp", name)
        with open(tmp, "xb") as f:
            os.fchmod(f.fileno(), 0o600)
            if uid >= 0:
                os.fchown(f.fileno(), uid, gid)
            f.write(trace + message)
        os.rename(tmp, os.path.join(maildir, "new", name))
        return "250 OK delivered"


async def main():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    loop = asyncio.get_running_loop()
    # A hostname given: aiosmtpd would otherwise ask DNS for this machine's name.
    server = await loop.create_server(lambda: SMTP(Deliver(), hostname="ft-test-smtp"), sock=sock)
    print(f"listening on {sock.getsockname()[1]}", flush=True)
    await server.serve_forever()


asyncio.run(main())
"#;
