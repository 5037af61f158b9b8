//! wsspec (or the reference server) as a TLS server: the [`TlsAcceptor`]
//! that wraps each accepted TCP connection, with a certificate chain and key
//! from PEM files (`--tls-cert`, `--tls-key`) or from [`super::self_signed`].

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::ServerConfig;

use super::{pem, provider, TlsSetupError};
use crate::run::{Acceptor, Transport};

/// Performs the server side of the TLS handshake on accepted connections.
#[derive(Clone)]
pub struct TlsAcceptor {
    config: Arc<ServerConfig>,
}

impl fmt::Debug for TlsAcceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsAcceptor")
            .field("alpn", &self.config.alpn_protocols)
            .finish()
    }
}

impl TlsAcceptor {
    /// A chain (leaf first) and its key from PEM files.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsSetupError> {
        TlsAcceptor::new(
            pem::certificates(cert, "certificate")?,
            pem::private_key(key)?,
        )
    }

    /// A chain (leaf first) and its key.
    pub fn new(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<TlsAcceptor, TlsSetupError> {
        let config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        Ok(TlsAcceptor {
            config: Arc::new(config),
        })
    }

    /// Agrees to these ALPN protocols when the client offers one of them.
    pub fn with_alpn(mut self, protocols: &[&str]) -> TlsAcceptor {
        let mut config = (*self.config).clone();
        config.alpn_protocols = protocols.iter().map(|p| p.as_bytes().to_vec()).collect();
        self.config = Arc::new(config);
        self
    }
}

impl Acceptor for TlsAcceptor {
    fn accept(&self, tcp: TcpStream) -> BoxFuture<'_, std::io::Result<Box<dyn Transport>>> {
        Box::pin(async move {
            let _ = tcp.set_nodelay(true);
            let tls = tokio_rustls::TlsAcceptor::from(self.config.clone())
                .accept(tcp)
                .await?;
            Ok(Box::new(tls) as Box<dyn Transport>)
        })
    }
}
