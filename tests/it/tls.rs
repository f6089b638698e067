//! HTTPS targets: a CA and certificates made at test time with the openssl CLI, an HTTPS
//! front (tokio-rustls) on 127.0.0.1 in front of the real embedded app (`ft serve`), and
//! the built-in suite run through it in real Chromium (and Firefox) — trusted by
//! --insecure-certs, --ca-cert or SSL_CERT_FILE, and refused plainly without them.

use crate::common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use common::repo::Repo;
use common::{ft_command, output, read_junit, Output, Served};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls;

/// A CA, a certificate it signed for 127.0.0.1 and localhost, and two self-signed ones:
/// a server certificate, and one that is a CA too (`openssl req -x509`'s default).
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let pki = Pki { dir: tempfile::tempdir().expect("tempdir") };
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        let server_ext = "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
                          extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n";
        std::fs::write(pki.path("server.ext"), server_ext).expect("write");
        pki.openssl(
            &["req", "-x509"],
            &ec,
            &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2"],
            &[
                "-subj",
                "/CN=ft test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        pki.openssl(&["req"], &ec, &["-keyout", "leaf.key", "-out", "leaf.csr"], &["-subj", "/CN=127.0.0.1"]);
        pki.openssl(
            &["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"],
            &[],
            &["-out", "leaf.pem", "-days", "2"],
            &["-extfile", "server.ext"],
        );
        pki.openssl(
            &["req", "-x509"],
            &ec,
            &["-keyout", "self.key", "-out", "self.pem", "-days", "2"],
            &[
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-addext",
                "basicConstraints=critical,CA:FALSE",
            ],
        );
        pki.openssl(
            &["req", "-x509"],
            &ec,
            &["-keyout", "selfca.key", "-out", "selfca.pem", "-days", "2"],
            &["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        );
        pki
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn openssl(&self, a: &[&str], b: &[&str], c: &[&str], d: &[&str]) {
        let out = Command::new("openssl")
            .args(a.iter().chain(b).chain(c).chain(d))
            .current_dir(self.dir.path())
            .output()
            .expect("the openssl CLI runs");
        assert!(out.status.success(), "openssl {a:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// An HTTPS front on 127.0.0.1 that passes every connection on to `backend`; it stops
/// (with its runtime) when dropped.
struct TlsFront {
    url: String,
    _runtime: tokio::runtime::Runtime,
}

impl TlsFront {
    fn start(cert: &Path, key: &Path, backend: SocketAddr) -> TlsFront {
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(cert).expect("cert file").collect::<Result<_, _>>().expect("certs");
        let key = PrivateKeyDer::from_pem_file(key).expect("key file");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("server certificate");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime for the front");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("https://{}", listener.local_addr().expect("addr"));
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // A client that refuses the certificate ends the handshake: nothing to pass on.
                    let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                    let Ok(mut app) = tokio::net::TcpStream::connect(backend).await else { return };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut app).await;
                });
            }
        });
        TlsFront { url, _runtime: runtime }
    }
}

fn backend(served: &Served) -> SocketAddr {
    served.url.trim_start_matches("http://").parse().expect("ft serve's address")
}

/// `ft ARGS` in `dir`, with no trust from the environment unless `env` gives it.
fn ft(dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = ft_command(dir);
    cmd.env_remove("FT_CA_CERT").env_remove("SSL_CERT_FILE").env_remove("SSL_CERT_DIR").args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    output(&mut cmd)
}

/// Exit 0, and JUnit says `n` scenarios ran against `url` and passed.
fn assert_passed(out: &Output, dir: &Path, url: &str, n: usize) {
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains(&format!("OK: {n} scenario")), "{}", out.all());
    let junit = read_junit(&dir.join("reports/junit.xml"));
    assert_eq!((junit.tests, junit.failures, junit.errors), (n, 0, 0), "{}", out.all());
    assert_eq!(junit.property("target"), Some(url), "the run was against the HTTPS front");
}

#[test]
fn the_built_in_suite_passes_over_https_trusting_the_ca_cert_or_insecure_certs_in_chromium() {
    let pki = Pki::new();
    let served = Served::start(&[]);
    let front = TlsFront::start(&pki.path("leaf.pem"), &pki.path("leaf.key"), backend(&served));
    let ca = pki.path("ca.pem");
    let ca = ca.to_str().expect("utf-8");

    let dir = tempfile::tempdir().expect("tempdir");
    let out = ft(dir.path(), &["--liveserver", &front.url, "--ca-cert", ca], &[]);
    assert_passed(&out, dir.path(), &front.url, common::LIST_SCENARIOS.len());

    // The whole suite over HTTPS once is enough: what --insecure-certs changes is whether
    // the certificate is trusted, which one scenario that posts a form and follows its
    // redirect shows as well as seven.
    let dir = tempfile::tempdir().expect("tempdir");
    let out =
        ft(dir.path(), &["--liveserver", &front.url, "--insecure-certs", "--filter", "can start a to-do list"], &[]);
    assert_passed(&out, dir.path(), &front.url, 1);
}

#[test]
fn ssl_cert_file_is_trusted_by_the_preflight_and_the_browser_alike() {
    let pki = Pki::new();
    let served = Served::start(&[]);
    let front = TlsFront::start(&pki.path("leaf.pem"), &pki.path("leaf.key"), backend(&served));
    let dir = tempfile::tempdir().expect("tempdir");
    let out = ft(
        dir.path(),
        &["--liveserver", &front.url, "--filter", "can start a to-do list"],
        &[("SSL_CERT_FILE", &pki.path("ca.pem"))],
    );
    assert_passed(&out, dir.path(), &front.url, 1);
}

#[test]
fn an_untrusted_certificate_is_named_plainly_with_the_flags_that_fix_it_and_exit_3() {
    let pki = Pki::new();
    let served = Served::start(&[]);
    let signed = TlsFront::start(&pki.path("leaf.pem"), &pki.path("leaf.key"), backend(&served));
    let selfsigned = TlsFront::start(&pki.path("self.pem"), &pki.path("self.key"), backend(&served));
    let selfca = TlsFront::start(&pki.path("selfca.pem"), &pki.path("selfca.key"), backend(&served));
    for (front, why) in [
        (&selfca, "it is a CA certificate (basicConstraints CA:TRUE".to_string()),
        (&signed, "it was issued by \"CN=ft test CA\", which is not a trusted CA".to_string()),
        (&selfsigned, "it is self-signed (CN=127.0.0.1), and no trusted CA vouches for it".to_string()),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = ft(dir.path(), &["--liveserver", &front.url], &[]);
        assert_eq!(out.code, 3, "{}", out.all());
        let said = format!("error: the certificate of {} is not trusted: {why}", front.url);
        assert!(out.stderr.contains(&said), "{said}\n{}", out.all());
        assert!(out.stderr.contains("hint: pass --ca-cert FILE to trust your CA"), "{}", out.all());
        assert!(out.stderr.contains("or --insecure-certs"), "{}", out.all());
        assert!(!out.stderr.contains("is the server up"), "{}", out.all());
        assert!(!dir.path().join("reports/junit.xml").exists(), "no scenario ran");
    }
    // A self-signed certificate is its own CA: --ca-cert takes it as well, also one made
    // with CA:TRUE, which webpki refuses as a server's own unless given as it is.
    for (front, own) in [(&selfsigned, "self.pem"), (&selfca, "selfca.pem")] {
        let dir = tempfile::tempdir().expect("tempdir");
        let own = pki.path(own);
        let out = ft(
            dir.path(),
            &["--liveserver", &front.url, "--ca-cert", own.to_str().expect("utf-8"), "--filter", "layout"],
            &[],
        );
        assert_passed(&out, dir.path(), &front.url, 1);
    }
    // A CA that did not sign the server's certificate does not help.
    let dir = tempfile::tempdir().expect("tempdir");
    let other = pki.path("self.pem");
    let out = ft(dir.path(), &["--liveserver", &signed.url, "--ca-cert", other.to_str().expect("utf-8")], &[]);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(out.stderr.contains("which is not a trusted CA"), "{}", out.all());
}

#[test]
fn a_bad_ca_cert_is_a_usage_error_naming_the_flag_for_run_and_deploy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("key.pem");
    std::fs::write(&key, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").expect("write");
    let missing = dir.path().join("missing.pem");
    let (key, missing) = (key.to_str().expect("utf-8"), missing.to_str().expect("utf-8"));
    let deploy =
        ["deploy", "--staging", "https://127.0.0.1:9", "--live", "https://127.0.0.1:10", "--deploy-cmd", "true"];
    for (file, what) in [
        (missing, format!("failed to read --ca-cert {missing}")),
        (key, format!("--ca-cert {key} holds no PEM certificate")),
    ] {
        for prefix in [&[][..], &deploy[..]] {
            let mut args = prefix.to_vec();
            args.extend(["--ca-cert", file]);
            let out = ft(dir.path(), &args, &[]);
            assert_eq!(out.code, 2, "{args:?}\n{}", out.all());
            assert!(out.stderr.contains(&what), "{what}\n{}", out.all());
            assert!(out.stderr.contains("hint: give the PEM file"), "{}", out.all());
        }
    }
    assert!(!dir.path().join("reports").exists(), "nothing was written");

    let pki = Pki::new();
    let ca = pki.path("ca.pem");
    let out = ft(dir.path(), &["--browser", "firefox", "--ca-cert", ca.to_str().expect("utf-8")], &[]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("--ca-cert does not work with --browser firefox yet"), "{}", out.all());
    assert!(out.stderr.contains("--insecure-certs with Firefox"), "{}", out.all());

    let out = ft(dir.path(), &["--ca-cert", ca.to_str().expect("utf-8"), "--insecure-certs"], &[]);
    assert_eq!(out.code, 2, "one or the other: {}", out.all());
}

#[test]
fn firefox_runs_against_a_self_signed_target_with_insecure_certs() {
    let pki = Pki::new();
    let served = Served::start(&[]);
    let front = TlsFront::start(&pki.path("self.pem"), &pki.path("self.key"), backend(&served));
    let dir = tempfile::tempdir().expect("tempdir");
    let args = ["--liveserver", &front.url, "--browser", "firefox", "--filter", "can start a to-do list"];
    let out = ft(dir.path(), &args, &[]);
    assert_eq!(out.code, 3, "refused without a flag: {}", out.all());
    let out = ft(dir.path(), &[&args[..], &["--insecure-certs"]].concat(), &[]);
    assert_passed(&out, dir.path(), &front.url, 1);
}

#[test]
fn ft_deploy_tests_https_staging_and_live_trusting_the_ca_cert() {
    let pki = Pki::new();
    let served = Served::start(&[]);
    let staging = TlsFront::start(&pki.path("leaf.pem"), &pki.path("leaf.key"), backend(&served));
    let live = TlsFront::start(&pki.path("leaf.pem"), &pki.path("leaf.key"), backend(&served));
    let repo = Repo::new();
    std::fs::write(repo.path().join(".gitignore"), "reports/\n").expect("write");
    repo.commit_all("ignore the reports");
    let git = |args: &[&str]| repo.git(args);
    let ca = pki.path("ca.pem");
    let deploy = [
        "deploy",
        "--staging",
        &staging.url,
        "--live",
        &live.url,
        "--deploy-cmd",
        "true",
        "--tag",
        "smoke",
        "--allow-partial",
    ];

    let out = ft(repo.path(), &deploy, &[]);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(out.all().contains(&format!("the certificate of {} is not trusted", staging.url)), "{}", out.all());
    assert!(git(&["tag"]).is_empty(), "no release: {}", out.all());

    let out = ft(repo.path(), &[&deploy[..], &["--ca-cert", ca.to_str().expect("utf-8")]].concat(), &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(git(&["rev-parse", "LIVE^{commit}"]), git(&["rev-parse", "HEAD"]), "{}", out.all());
}

// Issue 24 finding 17: `--ca-cert leaf.pem` (the server's own certificate, not its CA)
// got the hint "pass --ca-cert FILE", which it had just done.
#[test]
fn a_leaf_given_as_ca_cert_gets_a_hint_to_pass_the_ca_that_issued_it() {
    let pki = Pki::new();
    let served = Served::start(&[]);
    let signed = TlsFront::start(&pki.path("leaf.pem"), &pki.path("leaf.key"), backend(&served));
    let dir = tempfile::tempdir().expect("tempdir");
    let leaf = pki.path("leaf.pem");
    let leaf = leaf.to_str().expect("utf-8");
    let out = ft(dir.path(), &["--liveserver", &signed.url, "--ca-cert", leaf], &[]);
    assert_eq!(out.code, 3, "{}", out.all());
    let hint = format!(
        "hint: --ca-cert {leaf} holds a server's own certificate (CN=127.0.0.1, a leaf, not a CA): pass the \
         certificate of the CA that issued it (CN=ft test CA) instead"
    );
    assert!(out.stderr.contains(&hint), "{hint}\n{}", out.all());
    assert!(!out.stderr.contains("pass --ca-cert FILE"), "{}", out.all());
}

/// A leaf for 127.0.0.1 from the test CA with the extensions `ext`, valid for `days`:
/// `name`.pem, `name`.key and `name`-chain.pem (the leaf and the CA).
fn leaf_from_ca(pki: &Pki, name: &str, ext: &str, days: &str) {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    std::fs::write(pki.path(&format!("{name}.ext")), ext).expect("write");
    let (key, csr, pem, extfile) =
        (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"), format!("{name}.ext"));
    pki.openssl(&["req"], &ec, &["-keyout", &key, "-out", &csr], &["-subj", "/CN=127.0.0.1"]);
    pki.openssl(
        &["x509", "-req", "-in", &csr, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"],
        &[],
        &["-out", &pem, "-days", days],
        &["-extfile", &extfile],
    );
    // The server sends its chain whole (leaf, then CA), as most servers are set up to:
    // a chain that holds the CA's key is what the CA's pin waived every error for.
    let chain = [std::fs::read(pki.path(&pem)).expect("leaf"), std::fs::read(pki.path("ca.pem")).expect("ca")].concat();
    std::fs::write(pki.path(&format!("{name}-chain.pem")), chain).expect("write chain");
}

// Issue 24 finding 11: with --ca-cert, Chromium was given the CA's key to trust, which
// waives every error of every chain through that CA: a redirect to a host whose leaf had
// expired, or named another host, passed in the browser though the preflight refuses both.
#[test]
fn under_ca_cert_the_browser_refuses_what_the_preflight_would_after_a_redirect() {
    let pki = Pki::new();
    // Expired: valid for 0 days, so past its notAfter a second after it is made.
    leaf_from_ca(&pki, "expired", "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n", "0");
    leaf_from_ca(&pki, "elsewhere", "subjectAltName=DNS:elsewhere.example\nbasicConstraints=CA:FALSE\n", "2");
    // One plain-HTTP backend for all three fronts: "/" is a page, the others redirect.
    let targets: Arc<std::sync::OnceLock<(String, String)>> = Arc::new(std::sync::OnceLock::new());
    let to = targets.clone();
    let backend_url = common::loopback::serve(move |request, stream| {
        let (expired, elsewhere) = to.get().expect("fronts started").clone();
        let location = match request.line.split_whitespace().nth(1).unwrap_or("/") {
            "/to-expired" => expired,
            "/to-elsewhere" => elsewhere,
            _ => {
                let page = "<!doctype html><html><head><title>Landed</title></head><body>landed</body></html>";
                return common::loopback::respond(stream, "200 OK", page);
            }
        };
        let head =
            format!("HTTP/1.1 302 Found\r\nLocation: {location}/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        let _ = std::io::Write::write_all(stream, head.as_bytes());
    });
    let backend: SocketAddr = backend_url.trim_start_matches("http://").parse().expect("addr");
    leaf_from_ca(&pki, "good", "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n", "2");
    let good = TlsFront::start(&pki.path("good-chain.pem"), &pki.path("good.key"), backend);
    let expired = TlsFront::start(&pki.path("expired-chain.pem"), &pki.path("expired.key"), backend);
    let elsewhere = TlsFront::start(&pki.path("elsewhere-chain.pem"), &pki.path("elsewhere.key"), backend);
    targets.set((expired.url.clone(), elsewhere.url.clone())).expect("set once");
    std::thread::sleep(std::time::Duration::from_millis(1100)); // past the expired leaf's notAfter
    let spec = r#"
[[scenario]]
name = "the target itself"
steps = [ { visit = "/" }, { expect_title = "Landed" } ]

[[scenario]]
name = "a redirect to an expired leaf"
steps = [ { visit = "/to-expired" }, { expect_title = "Landed" } ]

[[scenario]]
name = "a redirect to a leaf for another host"
steps = [ { visit = "/to-elsewhere" }, { expect_title = "Landed" } ]
"#;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("redirects.toml"), spec).expect("write spec");
    let ca = pki.path("ca.pem");
    let out = ft(
        dir.path(),
        &[
            "--specs",
            "redirects.toml",
            "--liveserver",
            &good.url,
            "--ca-cert",
            ca.to_str().expect("utf-8"),
            "--max-wait",
            "2",
            "--no-signals",
        ],
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let junit = read_junit(&dir.path().join("reports/junit.xml"));
    let mut failed = junit.failed_names();
    failed.sort();
    assert_eq!(failed, ["a redirect to a leaf for another host", "a redirect to an expired leaf"], "{}", out.all());
}
