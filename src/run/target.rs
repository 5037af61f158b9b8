//! The peer under test as the runner reaches it: host, port, the Host header,
//! the request path, whether TLS is wanted and whether the WebSocket rides on
//! HTTP/1.1 (`ws://`, `wss://`) or on an HTTP/2 stream (RFC 8441: `h2c://`
//! with prior knowledge, `h2://` over TLS with ALPN `h2`).

/// Where the server under test listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Host to connect to (an IPv6 literal without brackets).
    pub host: String,
    pub port: u16,
    /// Value of the Host header (`host:port`, brackets kept for IPv6).
    pub host_header: String,
    /// Request target: path plus query, `/` when the URL had none.
    pub path: String,
    /// `wss://` or `h2://`: the connection is TLS (port 443 unless the URL
    /// says).
    pub secure: bool,
    /// `h2c://` or `h2://`: each case is an extended-CONNECT stream of one
    /// HTTP/2 connection (RFC 8441) instead of an HTTP/1.1 upgrade.
    pub http2: bool,
}

/// Why a URL cannot be a target.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    #[error(
        "`{0}` is not a ws://, wss://, h2c:// or h2:// URL (example: ws://127.0.0.1:9001/path)"
    )]
    Scheme(String),
    #[error("`{0}` has no host")]
    NoHost(String),
    #[error("`{0}` has an invalid port")]
    Port(String),
}

impl Target {
    pub fn parse(url: &str) -> Result<Target, TargetError> {
        let schemes = [
            ("ws://", false, false),
            ("wss://", true, false),
            ("h2c://", false, true),
            ("h2://", true, true),
        ];
        let Some((rest, secure, http2)) = schemes
            .iter()
            .find_map(|(s, secure, h2)| url.strip_prefix(s).map(|r| (r, *secure, *h2)))
        else {
            return Err(TargetError::Scheme(url.into()));
        };
        let default_port = if secure { 443 } else { 80 };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], rest[i..].to_string()),
            None => (rest, "/".to_string()),
        };
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path
        };
        if authority.is_empty() {
            return Err(TargetError::NoHost(url.into()));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let Some((h, after)) = v6.split_once(']') else {
                return Err(TargetError::NoHost(url.into()));
            };
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| TargetError::Port(url.into()))?,
                None if after.is_empty() => default_port,
                None => return Err(TargetError::Port(url.into())),
            };
            (h.to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (
                    h.to_string(),
                    p.parse().map_err(|_| TargetError::Port(url.into()))?,
                ),
                None => (authority.to_string(), default_port),
            }
        };
        if host.is_empty() {
            return Err(TargetError::NoHost(url.into()));
        }
        Ok(Target {
            host_header: authority.to_string(),
            host,
            port,
            path,
            secure,
            http2,
        })
    }

    /// `host:port` (brackets for IPv6), the default agent name.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    pub fn url(&self) -> String {
        let scheme = match (self.http2, self.secure) {
            (false, false) => "ws",
            (false, true) => "wss",
            (true, false) => "h2c",
            (true, true) => "h2",
        };
        format!("{scheme}://{}{}", self.host_header, self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let t = Target::parse("ws://127.0.0.1:9001/ws?x=1").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("127.0.0.1", 9001, "/ws?x=1")
        );
        assert_eq!(t.host_header, "127.0.0.1:9001");
        let t = Target::parse("ws://[::1]:8080").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("::1", 8080, "/")
        );
        assert_eq!(t.authority(), "[::1]:8080");
        assert_eq!(Target::parse("ws://h?q").unwrap().path, "/?q");
        assert!(!Target::parse("ws://h").unwrap().secure);
        assert_eq!(Target::parse("ws://h").unwrap().port, 80);
        let t = Target::parse("h2c://127.0.0.1:9/p").unwrap();
        assert!(t.http2 && !t.secure && t.port == 9 && t.path == "/p");
        assert_eq!(t.url(), "h2c://127.0.0.1:9/p");
        let t = Target::parse("h2://h").unwrap();
        assert!(t.http2 && t.secure && t.port == 443);
        assert_eq!(t.url(), "h2://h/");
        let t = Target::parse("wss://h").unwrap();
        assert_eq!((t.secure, t.port, t.url()), (true, 443, "wss://h/".into()));
        let t = Target::parse("wss://[::1]/x").unwrap();
        assert_eq!((t.port, t.authority()), (443, "[::1]:443".into()));
        assert_eq!(Target::parse("wss://h:8443").unwrap().port, 8443);
        assert!(Target::parse("http://h").is_err());
        assert!(Target::parse("ws://h:notaport").is_err());
        assert!(Target::parse("ws://").is_err());
    }
}
