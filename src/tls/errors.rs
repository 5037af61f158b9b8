//! Why TLS could not be set up, and what a failed TLS handshake means to the
//! person running wsspec: each message says which option to pass.

use std::path::PathBuf;

use tokio_rustls::rustls::{self, CertificateError};

/// A TLS setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("cannot read {what} {path}: {source}")]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} holds no {what} in PEM form (expected `-----BEGIN {label}-----`)")]
    NoPem {
        what: &'static str,
        label: &'static str,
        path: PathBuf,
    },
    #[error("{path}: {detail}")]
    BadPem { path: PathBuf, detail: String },
    #[error("--client-cert and --client-key go together: give both or neither")]
    HalfClientIdentity,
    #[error("`{0}` cannot be a TLS server name: pass --servername NAME")]
    ServerName(String),
    #[error("the certificate and key cannot be used: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("cannot make a self-signed certificate: {0}")]
    SelfSigned(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A failed TLS handshake (wsspec as the client) in words that name the fix:
/// which option to pass for an untrusted or mismatched certificate.
pub(crate) fn explain_handshake(host: &str, e: std::io::Error) -> std::io::Error {
    let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) else {
        return e;
    };
    let message = match tls {
        rustls::Error::InvalidCertificate(cert) => explain_certificate(host, cert),
        other => format!("TLS handshake failed: {other}"),
    };
    std::io::Error::new(e.kind(), message)
}

fn explain_certificate(host: &str, e: &CertificateError) -> String {
    let fix = "or --insecure for a local test server";
    match e {
        CertificateError::UnknownIssuer | CertificateError::BadSignature => format!(
            "the server's certificate is not trusted ({e:?}): pass --ca-cert FILE with the CA that signed it, {fix}"
        ),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            format!(
                "the server's certificate is not valid for `{host}` ({e}): pass --servername NAME with a name it holds, {fix}"
            )
        }
        CertificateError::Expired
        | CertificateError::ExpiredContext { .. }
        | CertificateError::NotValidYet
        | CertificateError::NotValidYetContext { .. } => format!(
            "the server's certificate is outside its validity period ({e}): renew it, {fix}"
        ),
        other => format!(
            "the server's certificate was refused ({other:?}): pass --ca-cert FILE with the CA that signed it, {fix}"
        ),
    }
}
