//! Reading certificates and private keys from PEM files, with errors that
//! name the file and what it should have held.

use std::path::Path;

use tokio_rustls::rustls::pki_types::pem::{self, PemObject};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::TlsSetupError;

/// Every certificate in `path` (at least one).
pub fn certificates(
    path: &Path,
    what: &'static str,
) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let bytes = read(path, what)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(path, e))?;
    if certs.is_empty() {
        return Err(TlsSetupError::NoPem {
            what,
            label: "CERTIFICATE",
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

/// The first private key in `path` (PKCS#8, PKCS#1 or SEC1).
pub fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsSetupError> {
    let what = "private key";
    let bytes = read(path, what)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
        pem::Error::NoItemsFound => TlsSetupError::NoPem {
            what,
            label: "PRIVATE KEY",
            path: path.to_path_buf(),
        },
        e => bad(path, e),
    })
}

fn read(path: &Path, what: &'static str) -> Result<Vec<u8>, TlsSetupError> {
    std::fs::read(path).map_err(|source| TlsSetupError::Read {
        what,
        path: path.to_path_buf(),
        source,
    })
}

fn bad(path: &Path, e: pem::Error) -> TlsSetupError {
    TlsSetupError::BadPem {
        path: path.to_path_buf(),
        detail: e.to_string(),
    }
}
