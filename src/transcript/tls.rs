//! What a TLS handshake agreed, as a transcript records it: shown in reports
//! next to the wire log, never in snapshot bodies (the same peer may be
//! reached with another cipher tomorrow).

use serde::{Deserialize, Serialize};

/// The protocol version, cipher suite and ALPN protocol of one connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsSession {
    /// `TLS 1.3` or `TLS 1.2`.
    pub protocol: String,
    /// The IANA name of the cipher suite (`TLS13_AES_256_GCM_SHA384`).
    pub cipher: String,
    /// The ALPN protocol agreed, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpn: Option<String>,
}

impl std::fmt::Display for TlsSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}, {}", self.protocol, self.cipher)?;
        if let Some(alpn) = &self.alpn {
            write!(f, ", ALPN {alpn}")?;
        }
        Ok(())
    }
}
