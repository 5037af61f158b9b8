//! wsspec as a TLS client: the [`TlsConnector`] behind `run wss://...`. It
//! trusts the system's roots, or only the CAs given with `--ca-cert`; sends
//! SNI from the URL's host unless `--servername` names another; presents a
//! client certificate when asked; offers the ALPN protocols given; and with
//! `--insecure` accepts any certificate (signatures are still checked, so
//! the handshake is a real one).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio::net::TcpStream;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::{
    verify_tls12_signature, verify_tls13_signature, CryptoProvider,
};
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::errors::explain_handshake;
use super::{pem, provider, TlsSetupError};
use crate::run::{Connector, Target, Transport};

/// What `run`'s TLS options say.
#[derive(Debug, Clone, Default)]
pub struct ClientTlsOptions {
    /// The name to send in SNI and check the certificate against, instead
    /// of the URL's host (`--servername`).
    pub servername: Option<String>,
    /// Trust these CAs only, instead of the system's roots (`--ca-cert`).
    pub ca_certs: Vec<PathBuf>,
    /// A certificate chain and its key to present (`--client-cert`, `--client-key`).
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    /// Accept any certificate (`--insecure`).
    pub insecure: bool,
    /// ALPN protocols to offer, in order (`--alpn`); none by default.
    pub alpn: Vec<String>,
}

/// Opens TCP, then TLS, to a target.
pub struct TlsConnector {
    config: Arc<ClientConfig>,
    servername: Option<ServerName<'static>>,
}

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConnector")
            .field("servername", &self.servername)
            .field("alpn", &self.config.alpn_protocols)
            .finish()
    }
}

impl TlsConnector {
    pub fn new(options: &ClientTlsOptions) -> Result<TlsConnector, TlsSetupError> {
        let provider = provider();
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?;
        let builder = if options.insecure {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        } else {
            builder.with_root_certificates(roots(&options.ca_certs)?)
        };
        let mut config = match (&options.client_cert, &options.client_key) {
            (Some(cert), Some(key)) => builder.with_client_auth_cert(
                pem::certificates(cert, "client certificate")?,
                pem::private_key(key)?,
            )?,
            (None, None) => builder.with_no_client_auth(),
            _ => return Err(TlsSetupError::HalfClientIdentity),
        };
        config.alpn_protocols = options.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
        let servername = options.servername.as_deref().map(server_name).transpose()?;
        Ok(TlsConnector {
            config: Arc::new(config),
            servername,
        })
    }
}

/// A host as a TLS server name (a DNS name, or an IP address, for which no
/// SNI is sent).
fn server_name(host: &str) -> Result<ServerName<'static>, TlsSetupError> {
    ServerName::try_from(host.to_string()).map_err(|_| TlsSetupError::ServerName(host.to_string()))
}

/// The CAs in the given files, or the system's roots when none are given.
fn roots(ca_certs: &[PathBuf]) -> Result<RootCertStore, TlsSetupError> {
    let mut store = RootCertStore::empty();
    if ca_certs.is_empty() {
        // Unreadable entries are skipped: a handshake that needs them fails
        // with "not trusted", which names --ca-cert.
        let found = rustls_native_certs::load_native_certs();
        store.add_parsable_certificates(found.certs);
        return Ok(store);
    }
    for path in ca_certs {
        for cert in pem::certificates(path, "CA certificate")? {
            store.add(cert).map_err(|e| TlsSetupError::BadPem {
                path: path.clone(),
                detail: format!("not a usable CA certificate: {e}"),
            })?;
        }
    }
    Ok(store)
}

impl Connector for TlsConnector {
    fn connect<'a>(
        &'a self,
        target: &'a Target,
    ) -> BoxFuture<'a, std::io::Result<Box<dyn Transport>>> {
        Box::pin(async move {
            let name = match &self.servername {
                Some(n) => n.clone(),
                None => server_name(&target.host)
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?,
            };
            let shown = name.to_str().into_owned();
            let tcp = TcpStream::connect((target.host.as_str(), target.port)).await?;
            let _ = tcp.set_nodelay(true);
            let tls = tokio_rustls::TlsConnector::from(self.config.clone())
                .connect(name, tcp)
                .await
                .map_err(|e| explain_handshake(&shown, e))?;
            Ok(Box::new(tls) as Box<dyn Transport>)
        })
    }
}

/// `--insecure`: any certificate is accepted, but the handshake's
/// signatures are verified as usual.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, tokio_rustls::rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, tokio_rustls::rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, tokio_rustls::rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
