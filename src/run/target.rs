//! The peer under test as the runner reaches it: host, port, the Host header
//! and the request path, parsed from a `ws://` URL.

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
}

/// Why a URL cannot be a target.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    #[error("`{0}` is not a ws:// URL (example: ws://127.0.0.1:9001/path)")]
    Scheme(String),
    #[error("wss:// targets are not supported yet (TLS arrives in a later release); use ws://")]
    Tls,
    #[error("`{0}` has no host")]
    NoHost(String),
    #[error("`{0}` has an invalid port")]
    Port(String),
}

impl Target {
    pub fn parse(url: &str) -> Result<Target, TargetError> {
        let rest = if let Some(r) = url.strip_prefix("ws://") {
            r
        } else if url.starts_with("wss://") {
            return Err(TargetError::Tls);
        } else {
            return Err(TargetError::Scheme(url.into()));
        };
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
                None if after.is_empty() => 80,
                None => return Err(TargetError::Port(url.into())),
            };
            (h.to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (
                    h.to_string(),
                    p.parse().map_err(|_| TargetError::Port(url.into()))?,
                ),
                None => (authority.to_string(), 80),
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
        format!("ws://{}{}", self.host_header, self.path)
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
        assert_eq!(Target::parse("wss://h").unwrap_err(), TargetError::Tls);
        assert!(Target::parse("http://h").is_err());
        assert!(Target::parse("ws://h:notaport").is_err());
        assert!(Target::parse("ws://").is_err());
    }
}
