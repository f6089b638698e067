//! Whom ft trusts on HTTPS: the system's roots (`SSL_CERT_FILE` / `SSL_CERT_DIR` when
//! set), plus the CAs of `--ca-cert`, or nobody checked at all (`--insecure-certs`).
//! One HTTP client recipe (`Trust::client`) for every request ft makes to a target, and
//! the plain words for a certificate it refused.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::DigitallySignedStruct;

use base64::Engine as _;
use sha2::{Digest, Sha256};
use x509_cert::der::{Decode, Encode};
use x509_cert::Certificate;

/// How targets' certificates are checked: by the preflight and version checks here, and
/// by the browser through the pin of the certificate the preflight verified
/// (`--ignore-certificate-errors-spki-list` in Chromium) or `acceptInsecureCerts`.
#[derive(Clone, Debug, Default)]
pub struct Trust {
    /// `--ca-cert`: trusted besides the system's roots.
    pub ca: Option<CaCert>,
    /// `--insecure-certs`: no certificate is checked.
    pub insecure: bool,
    /// Appended to ft's own user agent (`ft/VERSION`) on every request to a target, to mark
    /// synthetic traffic (`Settings::mark_synthetic`), as the browser's is.
    pub user_agent_suffix: Option<String>,
}

/// The certificates of a `--ca-cert` file, read and checked once, before anything runs.
#[derive(Clone, Debug)]
pub struct CaCert {
    pub path: PathBuf,
    /// DER, in the file's order.
    ders: Vec<Vec<u8>>,
}

/// A `--ca-cert` that cannot be used: a usage error, found before any target or browser.
#[derive(Debug, thiserror::Error)]
pub enum CaCertError {
    #[error("failed to read --ca-cert {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("--ca-cert {} holds no PEM certificate: {why}", path.display())]
    NotPem { path: PathBuf, why: String },
}

impl CaCertError {
    /// How to fix it, for the usage error's hint.
    pub fn hint(&self) -> &'static str {
        "give the PEM file (-----BEGIN CERTIFICATE-----) of the CA that signed the target's certificate, or the \
         self-signed certificate itself; a DER file converts with `openssl x509 -inform der -in CA.der -out ca.pem`"
    }
}

impl CaCert {
    /// Read every certificate of a PEM file; one that is missing, empty or not PEM is refused.
    pub fn load(path: &Path) -> Result<CaCert, CaCertError> {
        let bytes = crate::shared::files::read_regular(path, crate::shared::files::MAX_DATA_BYTES)
            .map_err(|r| CaCertError::Read { path: path.to_path_buf(), source: r.into() })?;
        let not_pem = |why: String| CaCertError::NotPem { path: path.to_path_buf(), why };
        if !String::from_utf8_lossy(&bytes).contains("-----BEGIN CERTIFICATE-----") {
            return Err(not_pem("no \"-----BEGIN CERTIFICATE-----\" line in it".into()));
        }
        let certs = Certificate::load_pem_chain(&bytes).map_err(|e| not_pem(e.to_string()))?;
        let ders =
            certs.iter().map(|c| c.to_der().map_err(|e| not_pem(e.to_string()))).collect::<Result<Vec<_>, _>>()?;
        // Each must also be one webpki can trust, or the preflight would fail later and less plainly.
        for der in &ders {
            webpki::anchor_from_trusted_cert(&CertificateDer::from(der.as_slice()))
                .map_err(|e| not_pem(format!("a certificate in it cannot be a trust anchor ({e})")))?;
        }
        Ok(CaCert { path: path.to_path_buf(), ders })
    }

    /// The SPKI pins of the certificates in the file: what the run record says was
    /// trusted besides the system's roots (`trust.ca_certs`).
    pub fn pins(&self) -> Vec<String> {
        self.ders.iter().filter_map(|der| spki_pin(der)).collect()
    }

    /// The certificates in the file that are a server's own (a leaf: not a CA, and issued
    /// by another), as (subject, issuer): trusting one trusts no server, as it signs nothing.
    pub fn leaves(&self) -> Vec<(String, String)> {
        use x509_cert::ext::pkix::BasicConstraints;
        self.ders
            .iter()
            .filter_map(|der| Certificate::from_der(der).ok())
            .filter(|c| {
                let tbs = &c.tbs_certificate;
                let is_ca = matches!(tbs.get::<BasicConstraints>(), Ok(Some((_, bc))) if bc.ca);
                !is_ca && tbs.subject != tbs.issuer
            })
            .map(|c| (c.tbs_certificate.subject.to_string(), c.tbs_certificate.issuer.to_string()))
            .collect()
    }
}

/// An HTTP client for a target could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("failed to load the system's trusted roots: {0}\n  hint: check SSL_CERT_FILE / SSL_CERT_DIR, or the ca-certificates package")]
    Roots(String),
    #[error("failed to set up TLS: {0}")]
    Tls(String),
    #[error("failed to make an HTTP client")]
    Http(#[from] reqwest::Error),
}

impl Trust {
    /// The client for requests to a target: each bounded by `timeout`, up to 5 redirects,
    /// the server's certificate kept (`Reached::pin`), trusting as this `Trust` says.
    pub fn client(&self, timeout: Duration) -> Result<reqwest::Client, ClientError> {
        Ok(reqwest::Client::builder()
            .user_agent(self.user_agent())
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::limited(5))
            .tls_info(true)
            .use_preconfigured_tls(self.tls_config()?)
            .build()?)
    }

    /// What requests to a target say they are: `ft/VERSION`, plus the synthetic marker.
    pub fn user_agent(&self) -> String {
        let own = concat!("ft/", env!("CARGO_PKG_VERSION"));
        match &self.user_agent_suffix {
            Some(suffix) => format!("{own} {suffix}"),
            None => own.to_string(),
        }
    }

    /// The system's roots (`SSL_CERT_FILE` / `SSL_CERT_DIR` instead, when set) and
    /// `--ca-cert`'s, checked by webpki as browsers do, with one exception (`Verifier`);
    /// also what the inbox's IMAP and POP3 connections trust (`mail::net`).
    pub(crate) fn tls_config(&self) -> Result<rustls::ClientConfig, ClientError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        let (native, errors) = native_roots();
        // Stores often hold a few certificates webpki cannot read: skip those, as curl does.
        let (added, _ignored) = roots.add_parsable_certificates(native.iter().cloned());
        if added == 0 && !errors.is_empty() && self.ca.is_none() && !self.insecure {
            return Err(ClientError::Roots(errors.join("; ")));
        }
        let exact: Vec<Vec<u8>> = self.ca.as_ref().map(|ca| ca.ders.clone()).unwrap_or_default();
        for der in &exact {
            // A certificate webpki cannot take as a root still counts as itself (`Verifier`).
            let _ = roots.add(CertificateDer::from(der.clone()));
        }
        let inner = if roots.is_empty() {
            None
        } else {
            let built = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| ClientError::Tls(e.to_string()))?;
            Some(built)
        };
        let verifier = Verifier { inner, exact, insecure: self.insecure, provider: provider.clone() };
        Ok(rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ClientError::Tls(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth())
    }
}

/// The system's roots and what went wrong loading them, read once per process: `ft
/// deploy`'s up-wait makes a client every 250 ms, and parsing the store costs ~15 ms.
fn native_roots() -> &'static (Vec<CertificateDer<'static>>, Vec<String>) {
    static ROOTS: std::sync::OnceLock<(Vec<CertificateDer<'static>>, Vec<String>)> = std::sync::OnceLock::new();
    ROOTS.get_or_init(|| {
        let loaded = rustls_native_certs::load_native_certs();
        (loaded.certs, loaded.errors.iter().map(ToString::to_string).collect())
    })
}

/// webpki's verdict, with two departures the user asked for: `--insecure-certs` accepts
/// every certificate, and a certificate given in `--ca-cert` that the server presents as
/// is, valid for the host, is trusted even when webpki refuses a CA certificate as a
/// server's own (`openssl req -x509` makes self-signed certificates with CA:TRUE).
#[derive(Debug)]
struct Verifier {
    /// None: no roots at all (only possible with `--insecure-certs` or exact certificates).
    inner: Option<Arc<rustls::client::WebPkiServerVerifier>>,
    exact: Vec<Vec<u8>>,
    insecure: bool,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.insecure {
            return Ok(ServerCertVerified::assertion());
        }
        let verdict = match &self.inner {
            Some(inner) => inner.verify_server_cert(end_entity, intermediates, server_name, ocsp, now),
            None => Err(rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)),
        };
        match verdict {
            Err(rustls::Error::InvalidCertificate(problem))
                if self.exact.iter().any(|der| der.as_slice() == end_entity.as_ref())
                    && format!("{problem:?}").contains("CaUsedAsEndEntity") =>
            {
                let cert = webpki::EndEntityCert::try_from(end_entity)
                    .map_err(|_| rustls::Error::InvalidCertificate(rustls::CertificateError::BadEncoding))?;
                cert.verify_is_valid_for_subject_name(server_name)
                    .map_err(|_| rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName))?;
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// How Chromium names a public key in `--ignore-certificate-errors-spki-list`: the
/// base64 SHA-256 of the certificate's DER SubjectPublicKeyInfo.
pub fn spki_pin(cert_der: &[u8]) -> Option<String> {
    let cert = Certificate::from_der(cert_der).ok()?;
    let spki = cert.tbs_certificate.subject_public_key_info.to_der().ok()?;
    Some(base64::engine::general_purpose::STANDARD.encode(Sha256::digest(spki)))
}

/// The server certificate a response came over, as DER (none over plain HTTP).
pub fn peer_certificate(response: &reqwest::Response) -> Option<Vec<u8>> {
    response.extensions().get::<reqwest::tls::TlsInfo>()?.peer_certificate().map(<[u8]>::to_vec)
}

/// The certificate problem behind a failed request, if that is what failed it.
pub fn certificate_problem(err: &reqwest::Error) -> Option<rustls::CertificateError> {
    match tls_error(err)? {
        rustls::Error::InvalidCertificate(problem) => Some(problem.clone()),
        _ => None,
    }
}

/// The TLS error behind a failed request, if any.
pub fn tls_error(err: &reqwest::Error) -> Option<&rustls::Error> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        // rustls's error travels inside io::Errors (two, through hyper), whose `source`
        // skips what they wrap: unwrap those by hand.
        let mut inner = Some(e);
        while let Some(candidate) = inner {
            if let Some(tls) = candidate.downcast_ref::<rustls::Error>() {
                return Some(tls);
            }
            inner = candidate
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .map(|i| i as &(dyn std::error::Error + 'static));
        }
        source = e.source();
    }
    None
}

/// How to make ft trust a certificate it refused: the usual flags, unless `--ca-cert`
/// was given a server's own certificate, which can be nobody's CA.
pub fn untrusted_hint(trust: &Trust) -> String {
    match trust.ca.as_ref().and_then(|ca| Some((ca, ca.leaves().into_iter().next()?))) {
        Some((ca, (subject, issuer))) => format!(
            "--ca-cert {} holds a server's own certificate ({subject}, a leaf, not a CA): pass the certificate of \
             the CA that issued it ({issuer}) instead, or --insecure-certs to check no certificate",
            ca.path.display()
        ),
        None => "pass --ca-cert FILE to trust your CA (or the self-signed certificate), or --insecure-certs to check \
                 no certificate"
            .into(),
    }
}

/// What is wrong with a certificate, in plain words; `presented` is the certificate the
/// server sent (DER), when it could be fetched, to say who issued it.
pub fn describe(problem: &rustls::CertificateError, presented: Option<&[u8]>) -> String {
    use rustls::CertificateError as E;
    let names = presented
        .and_then(|der| Certificate::from_der(der).ok())
        .map(|c| (c.tbs_certificate.subject.to_string(), c.tbs_certificate.issuer.to_string()));
    match problem {
        E::UnknownIssuer => match names {
            Some((subject, issuer)) if subject == issuer => {
                format!("it is self-signed ({subject}), and no trusted CA vouches for it")
            }
            Some((_, issuer)) => format!("it was issued by {issuer:?}, which is not a trusted CA"),
            None => "its issuer is not a trusted CA (self-signed, or signed by a private CA)".into(),
        },
        E::Expired | E::ExpiredContext { .. } => "it has expired".into(),
        E::NotValidYet | E::NotValidYetContext { .. } => "it is not valid yet (check the clocks)".into(),
        E::NotValidForName | E::NotValidForNameContext { .. } => {
            "it does not name this host (its subject alternative names are for another host)".into()
        }
        E::BadSignature => "its signature does not verify".into(),
        E::Revoked => "it has been revoked".into(),
        E::InvalidPurpose | E::InvalidPurposeContext { .. } => "it is not meant for a TLS server".into(),
        // rustls (webpki) names this one only in its own error type.
        other if format!("{other:?}").contains("CaUsedAsEndEntity") => {
            "it is a CA certificate (basicConstraints CA:TRUE, as `openssl req -x509` makes by default) serving as \
             the server's own; give that very certificate to --ca-cert to trust it as it is"
                .into()
        }
        other => format!("it was refused ({other:?})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_problems_read_as_what_is_wrong() {
        use rustls::CertificateError as E;
        assert_eq!(describe(&E::Expired, None), "it has expired");
        assert!(describe(&E::NotValidForName, None).starts_with("it does not name this host"));
        assert!(describe(&E::UnknownIssuer, None).contains("self-signed, or signed by a private CA"));
    }

    #[test]
    fn a_missing_ca_cert_file_is_named_with_the_flag() {
        let err = CaCert::load(Path::new("/nonexistent/ca.pem")).expect_err("missing");
        assert!(err.to_string().starts_with("failed to read --ca-cert /nonexistent/ca.pem"), "{err}");
    }

    #[test]
    fn a_file_that_is_not_pem_is_refused_before_anything_runs() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, text) in
            [("empty.pem", ""), ("key.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")]
        {
            let path = dir.path().join(name);
            std::fs::write(&path, text).expect("write");
            let err = CaCert::load(&path).expect_err(name);
            assert!(err.to_string().contains("holds no PEM certificate"), "{name}: {err}");
        }
        let garbled = dir.path().join("garbled.pem");
        std::fs::write(&garbled, "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n")
            .expect("write");
        assert!(CaCert::load(&garbled).expect_err("garbled").to_string().contains("holds no PEM certificate"));
    }
}
