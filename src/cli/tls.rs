//! The TLS options of the command line and what they build: for `run` and
//! `reference-client` the connector a `wss://` URL needs, for `serve` and
//! `reference-server` the acceptor (a certificate from files, or a throwaway
//! CA whose certificate is written for the client to trust).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;

use crate::run::{Acceptor, Connector, Target, TcpAcceptor, TcpConnector};
use crate::tls::self_signed::SelfSigned;
use crate::tls::{ClientTlsOptions, TlsAcceptor, TlsConnector};

/// TLS options when wsspec connects (`wss://` URLs).
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "TLS (wss:// URLs)")]
pub struct ClientTlsArgs {
    /// Name sent in SNI and checked against the certificate (default: the
    /// URL's host).
    #[arg(long, value_name = "NAME")]
    pub servername: Option<String>,
    /// Trust the CA certificates in this PEM file instead of the system's
    /// roots; repeatable.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Vec<PathBuf>,
    /// Present this certificate chain (PEM) to the server; needs --client-key.
    #[arg(long, value_name = "FILE", requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// The private key (PEM) of --client-cert.
    #[arg(long, value_name = "FILE", requires = "client_cert")]
    pub client_key: Option<PathBuf>,
    /// Accept any server certificate (for local test servers).
    #[arg(long)]
    pub insecure: bool,
    /// Offer this ALPN protocol; repeatable, in order of preference.
    #[arg(long, value_name = "PROTOCOL")]
    pub alpn: Vec<String>,
}

impl ClientTlsArgs {
    fn given(&self) -> bool {
        self.servername.is_some()
            || !self.ca_cert.is_empty()
            || self.client_cert.is_some()
            || self.insecure
            || !self.alpn.is_empty()
    }

    /// How to reach `target`: TLS for `wss://`, TCP for `ws://` (where TLS
    /// options are a mistake worth saying); for `h2c://` and `h2://` the same
    /// under one HTTP/2 connection (TLS offering ALPN `h2`).
    pub fn connector_for(
        &self,
        target: &Target,
        streams: usize,
    ) -> anyhow::Result<Arc<dyn Connector>> {
        if streams > 1 && !target.http2 {
            anyhow::bail!(
                "--streams shares HTTP/2 connections: it needs an h2c:// or h2:// URL; {} is HTTP/1.1",
                target.url()
            );
        }
        let bytes: Arc<dyn Connector> = if !target.secure {
            if self.given() {
                anyhow::bail!(
                    "TLS options need a wss:// or h2:// URL; {} is not TLS",
                    target.url()
                );
            }
            Arc::new(TcpConnector)
        } else {
            let mut alpn = self.alpn.clone();
            if target.http2 && alpn.is_empty() {
                alpn.push("h2".into());
            }
            let options = ClientTlsOptions {
                servername: self.servername.clone(),
                ca_certs: self.ca_cert.clone(),
                client_cert: self.client_cert.clone(),
                client_key: self.client_key.clone(),
                insecure: self.insecure,
                alpn,
            };
            Arc::new(TlsConnector::new(&options)?)
        };
        Ok(if target.http2 {
            Arc::new(crate::http2::H2Connector::new(bytes, streams))
        } else {
            bytes
        })
    }
}

/// TLS options when wsspec listens.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "TLS (wss://)")]
pub struct ServerTlsArgs {
    /// Serve TLS with this certificate chain (PEM, leaf first); needs --tls-key.
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_key",
        conflicts_with = "tls_self_signed"
    )]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve TLS with a certificate from a CA made for this run; the CA's
    /// certificate is written to --tls-ca-out for clients to trust.
    #[arg(long)]
    pub tls_self_signed: bool,
    /// Where --tls-self-signed writes its CA certificate (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_self_signed")]
    pub tls_ca_out: Option<PathBuf>,
}

/// What a listener serves.
pub struct Listening {
    pub acceptor: Arc<dyn Acceptor>,
    pub secure: bool,
    /// Where --tls-self-signed wrote its CA certificate.
    pub ca: Option<PathBuf>,
}

impl ServerTlsArgs {
    /// The acceptor for a listener on `listen`, agreeing to `alpn` when a
    /// client offers one of them; with --tls-self-signed the CA certificate
    /// goes to --tls-ca-out, else to `default_ca_out`.
    pub fn listening(
        &self,
        listen: &str,
        default_ca_out: &Path,
        alpn: &[&str],
    ) -> anyhow::Result<Listening> {
        let mut ca = None;
        let acceptor = if let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) {
            TlsAcceptor::from_pem_files(cert, key)?
        } else if self.tls_self_signed {
            let host = listen_host(listen);
            let made = SelfSigned::generate(&[host])?;
            let out = self.tls_ca_out.as_deref().unwrap_or(default_ca_out);
            made.write_ca(out)?;
            eprintln!(
                "TLS with a throwaway CA: clients must trust {}",
                out.display()
            );
            ca = Some(out.to_path_buf());
            TlsAcceptor::new(made.chain, made.key)?
        } else {
            return Ok(Listening {
                acceptor: Arc::new(TcpAcceptor),
                secure: false,
                ca: None,
            });
        };
        Ok(Listening {
            acceptor: Arc::new(acceptor.with_alpn(alpn)),
            secure: true,
            ca,
        })
    }
}

/// The host part of `host:port` (brackets of an IPv6 literal removed).
fn listen_host(listen: &str) -> String {
    let host = listen.rsplit_once(':').map_or(listen, |(h, _)| h);
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_hosts() {
        assert_eq!(listen_host("127.0.0.1:9001"), "127.0.0.1");
        assert_eq!(listen_host("[::1]:9001"), "::1");
        assert_eq!(listen_host("example.test:1"), "example.test");
    }

    #[test]
    fn tls_options_on_a_ws_url_are_refused() {
        let target = Target::parse("ws://127.0.0.1:1/").unwrap();
        let args = ClientTlsArgs {
            insecure: true,
            ..ClientTlsArgs::default()
        };
        let err = args.connector_for(&target, 1).unwrap_err().to_string();
        assert!(err.contains("need a wss:// or h2:// URL"), "{err}");
        assert!(ClientTlsArgs::default().connector_for(&target, 1).is_ok());
    }

    #[test]
    fn streams_need_an_http2_url() {
        let args = ClientTlsArgs::default();
        let ws = Target::parse("ws://127.0.0.1:1/").unwrap();
        let err = args.connector_for(&ws, 4).unwrap_err().to_string();
        assert!(err.contains("--streams") && err.contains("h2c://"), "{err}");
        let h2c = Target::parse("h2c://127.0.0.1:1/").unwrap();
        let connector = args.connector_for(&h2c, 4).unwrap();
        assert!(connector.tunnels().is_some());
        assert!(args.connector_for(&ws, 1).unwrap().tunnels().is_none());
    }
}
