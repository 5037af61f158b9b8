//! A throwaway certificate authority for `serve --tls-self-signed`: a CA
//! made for this run, and a leaf it signs for the names a local client
//! connects by (`localhost`, `127.0.0.1`, `::1`, and the listen host). The
//! CA's certificate is written to a file the client under test is told to
//! trust; a leaf signed by a CA, rather than one that is its own CA, is what
//! browsers' trust stores accept.

use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::TlsSetupError;

/// A fresh CA and the leaf it signed.
pub struct SelfSigned {
    /// The CA's certificate in PEM, for the client to trust.
    pub ca_pem: String,
    /// The leaf then the CA, for the server to present.
    pub chain: Vec<CertificateDer<'static>>,
    /// The leaf's key (PKCS#8).
    pub key: PrivateKeyDer<'static>,
    /// The chain and the key in PEM, for servers that read files.
    pub chain_pem: String,
    pub key_pem: String,
}

impl SelfSigned {
    /// A CA and a leaf valid for the local names and `extra_names`.
    pub fn generate(extra_names: &[String]) -> Result<SelfSigned, TlsSetupError> {
        let fail = |e: rcgen::Error| TlsSetupError::SelfSigned(e.to_string());
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(fail)?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "wsspec throwaway CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(fail)?)
            .map_err(fail)?;

        let mut names = vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
            "::1".to_string(),
        ];
        for n in extra_names {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
        let mut leaf_params = CertificateParams::new(names).map_err(fail)?;
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "wsspec serve");
        let leaf_key = KeyPair::generate().map_err(fail)?;
        let leaf = leaf_params.signed_by(&leaf_key, &ca).map_err(fail)?;
        Ok(SelfSigned {
            ca_pem: ca.pem(),
            chain: vec![leaf.der().clone(), ca.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
            chain_pem: format!("{}{}", leaf.pem(), ca.pem()),
            key_pem: leaf_key.serialize_pem(),
        })
    }

    /// Writes the CA's certificate to `path` (creating its folder).
    pub fn write_ca(&self, path: &Path) -> Result<(), TlsSetupError> {
        write_file(path, &self.ca_pem)
    }

    /// Writes the chain and the key (PEM) for a server that reads files.
    pub fn write_server_files(&self, cert: &Path, key: &Path) -> Result<(), TlsSetupError> {
        write_file(cert, &self.chain_pem)?;
        write_file(key, &self.key_pem)
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), TlsSetupError> {
    let write = || -> std::io::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, text)
    };
    write().map_err(|source| TlsSetupError::Write {
        path: path.to_path_buf(),
        source,
    })
}
