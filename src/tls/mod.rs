//! TLS in both roles, plugged in under the transport seam
//! ([`crate::run::transport`]): nothing above the seam knows it is there. A
//! [`TlsConnector`] opens `wss://` connections for `run` (roots from the
//! system or `--ca-cert`, SNI from the URL or `--servername`, a client
//! certificate, `--insecure`, ALPN); a [`TlsAcceptor`] wraps every connection
//! `serve` (or the reference server) accepts, with a certificate from PEM
//! files or a throwaway CA made by [`self_signed`]. Both hand the session a
//! [`Transport`](crate::run::Transport) that reports what TLS agreed, ends
//! with close_notify, and aborts with a TCP reset. rustls runs on *ring*.

mod client;
mod errors;
mod pem;
pub mod self_signed;
mod server;
mod stream;

pub use client::{ClientTlsOptions, TlsConnector};
pub use errors::TlsSetupError;
pub use server::TlsAcceptor;

use std::sync::Arc;

use tokio_rustls::rustls::crypto::{ring, CryptoProvider};

/// The one crypto provider both roles use. rustls deprecates *ring*'s
/// provider for lacking post-quantum key exchange; wsspec tests WebSocket
/// peers, not key exchange, and aws-lc-rs would add a C and CMake build to
/// every cold build.
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}
