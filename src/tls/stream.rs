//! TLS streams as [`Transport`]s: the peer's address and an abort come from
//! the TCP connection underneath; what the handshake agreed is reported as a
//! [`TlsSession`]. A graceful end is tokio-rustls's shutdown: close_notify,
//! then TCP FIN, with the read side left open.

use std::net::SocketAddr;

use tokio::net::TcpStream;
use tokio_rustls::rustls::{CommonState, ProtocolVersion};

use crate::run::Transport;
use crate::transcript::TlsSession;

impl Transport for tokio_rustls::client::TlsStream<TcpStream> {
    fn peer_addr(&self) -> Option<SocketAddr> {
        self.get_ref().0.peer_addr().ok()
    }

    fn abort(self: Box<Self>) {
        let _ = self.get_ref().0.set_zero_linger();
    }

    fn tls(&self) -> Option<TlsSession> {
        Some(session(self.get_ref().1))
    }
}

impl Transport for tokio_rustls::server::TlsStream<TcpStream> {
    fn peer_addr(&self) -> Option<SocketAddr> {
        self.get_ref().0.peer_addr().ok()
    }

    fn abort(self: Box<Self>) {
        let _ = self.get_ref().0.set_zero_linger();
    }

    fn tls(&self) -> Option<TlsSession> {
        Some(session(self.get_ref().1))
    }
}

/// What a finished handshake agreed, in the words reports use.
fn session(state: &CommonState) -> TlsSession {
    let protocol = match state.protocol_version() {
        Some(ProtocolVersion::TLSv1_3) => "TLS 1.3".to_string(),
        Some(ProtocolVersion::TLSv1_2) => "TLS 1.2".to_string(),
        Some(other) => format!("{other:?}"),
        None => "unknown".to_string(),
    };
    let cipher = state
        .negotiated_cipher_suite()
        .map_or_else(|| "unknown".to_string(), |s| format!("{:?}", s.suite()));
    let alpn = state
        .alpn_protocol()
        .map(|p| String::from_utf8_lossy(p).into_owned());
    TlsSession {
        protocol,
        cipher,
        alpn,
    }
}
