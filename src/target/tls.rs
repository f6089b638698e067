//! Whom ft trusts on HTTPS: the system's roots (`SSL_CERT_FILE` / `SSL_CERT_DIR` when
//! set), plus the CAs of `--ca-cert`, or nobody checked at all (`--insecure-certs`).
//! One HTTP client recipe (`Trust::client`) for every request ft makes to a target, and
//! the plain words for a certificate it refused.

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use sha2::{Digest, Sha256};
use x509_cert::der::{Decode, Encode};
use x509_cert::Certificate;

/// How targets' certificates are checked: by the preflight and version checks here, and
/// by the browser through the pins (`--ignore-certificate-errors-spki-list` in Chromium)
/// or `acceptInsecureCerts`.
#[derive(Clone, Debug, Default)]
pub struct Trust {
    /// `--ca-cert`: trusted besides the system's roots.
    pub ca: Option<CaCert>,
    /// `--insecure-certs`: no certificate is checked.
    pub insecure: bool,
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
        let bytes = std::fs::read(path).map_err(|source| CaCertError::Read { path: path.to_path_buf(), source })?;
        let not_pem = |why: String| CaCertError::NotPem { path: path.to_path_buf(), why };
        if !String::from_utf8_lossy(&bytes).contains("-----BEGIN CERTIFICATE-----") {
            return Err(not_pem("no \"-----BEGIN CERTIFICATE-----\" line in it".into()));
        }
        let certs = Certificate::load_pem_chain(&bytes).map_err(|e| not_pem(e.to_string()))?;
        let ders =
            certs.iter().map(|c| c.to_der().map_err(|e| not_pem(e.to_string()))).collect::<Result<Vec<_>, _>>()?;
        // Each must also be one rustls accepts, or the preflight would fail later and less plainly.
        for der in &ders {
            reqwest::Certificate::from_der(der).map_err(|e| not_pem(e.to_string()))?;
        }
        Ok(CaCert { path: path.to_path_buf(), ders })
    }

    /// The browser's pins for these certificates (see `spki_pin`).
    pub fn pins(&self) -> Vec<String> {
        self.ders.iter().filter_map(|der| spki_pin(der)).collect()
    }
}

impl Trust {
    /// The client for requests to a target: each bounded by `timeout`, up to 5 redirects,
    /// the server's certificate kept (`Reached::pin`), trusting as this `Trust` says.
    pub fn client(&self, timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::limited(5))
            .tls_info(true);
        if let Some(ca) = &self.ca {
            for der in &ca.ders {
                builder = builder.add_root_certificate(reqwest::Certificate::from_der(der)?);
            }
        }
        if self.insecure {
            builder = builder.danger_accept_invalid_certs(true);
        }
        builder.build()
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
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        // rustls's error travels inside io::Errors (two, through hyper), whose `source`
        // skips what they wrap: unwrap those by hand.
        let mut inner = Some(e);
        while let Some(candidate) = inner {
            if let Some(rustls::Error::InvalidCertificate(problem)) = candidate.downcast_ref::<rustls::Error>() {
                return Some(problem.clone());
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
             the server's own, which is refused even when trusted: reissue it with `-addext basicConstraints=critical,CA:FALSE`"
                .into()
        }
        other => format!("it was refused ({other:?})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
