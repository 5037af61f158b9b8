//! What a case expects to observe: the received events and closing behaviour
//! that grade it OK or NON-STRICT, alternative outcomes and their grades, and
//! the checks on the handshake response (accepted statuses and headers).

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use super::Payload;

/// What a case expects to observe.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Received events (other than the close) that grade the case OK.
    pub ok: Vec<EventPattern>,
    /// Received events that grade it NON-STRICT.
    #[serde(default)]
    pub non_strict: Option<Vec<EventPattern>>,
    pub close: CloseExpect,
    #[serde(default)]
    pub handshake: HandshakeExpect,
    /// Other complete outcomes (events and close) and the grade each earns,
    /// tried when the primary expectation is not met.
    #[serde(default)]
    pub also: Vec<Alternative>,
}

/// A grade an alternative outcome may earn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum Grade {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "NON-STRICT")]
    NonStrict,
    #[serde(rename = "INFORMATIONAL")]
    Informational,
}

/// An alternative outcome: these events and this close earn `grade`, `because`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alternative {
    pub grade: Grade,
    #[serde(default)]
    pub handshake: HandshakeExpect,
    #[serde(default)]
    pub events: Vec<EventPattern>,
    pub close: CloseExpect,
    /// Why this outcome is acceptable (an RFC sentence), shown in the verdict.
    pub because: String,
}

/// One expected received event.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventPattern {
    /// The next message we sent, echoed back (same opcode and bytes).
    Echo,
    /// `n` echoes in a row.
    Echoes(u32),
    /// A pong carrying the payload of the next ping we sent.
    Pong,
    /// `n` such pongs in a row.
    Pongs(u32),
    /// A text message with these bytes.
    Text(Payload),
    /// A binary message with these bytes.
    Binary(Payload),
    /// A pong with this payload.
    PongOf(Payload),
    /// A timing marker recorded by a `marker` step.
    Marker(String),
}

/// Who must start the close (or fail the connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Closer {
    /// wsspec closes after the expected events (the peer only answers).
    Harness,
    /// The peer must close or fail the connection itself.
    Peer,
}

/// The expected closing behaviour.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseExpect {
    pub by: Closer,
    /// Close codes the peer may send; a close without code, or none, is also
    /// accepted unless `require_code` is set.
    #[serde(default)]
    pub codes: Vec<u16>,
    /// One of `codes` must have arrived in the peer's close frame (for an
    /// outcome that is acceptable only because of its code, such as a
    /// refusal with 1009).
    #[serde(default)]
    pub require_code: bool,
    /// The closing handshake must complete (close frames both ways).
    #[serde(default)]
    pub clean: bool,
    /// A code outside `codes` also fails the behaviour verdict.
    #[serde(default)]
    pub wrong_code_fails: bool,
    /// A close started by the wrong endpoint also fails the behaviour verdict.
    #[serde(default)]
    pub wrong_closer_fails: bool,
}

/// What the handshake response must be.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandshakeExpect {
    /// Accepted statuses: `101`, `426`, `4xx`, or a list of these.
    #[serde(default)]
    pub status: StatusSpec,
    /// Checks on the response's headers.
    #[serde(default)]
    pub headers: Vec<HeaderExpect>,
    /// Closing the connection without any response is also accepted (over
    /// HTTP/2: resetting the stream, or GOAWAY).
    #[serde(default)]
    pub or_close: bool,
}

impl HandshakeExpect {
    /// Whether a WebSocket connection (101) is among the accepted outcomes.
    pub fn allows_upgrade(&self) -> bool {
        self.status.matches(101)
    }
}

/// One accepted status: an exact code or a class such as `4xx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusPattern {
    Exact(u16),
    /// The hundreds digit: `4xx` is `Class(4)`.
    Class(u16),
}

impl StatusPattern {
    pub fn matches(self, status: u16) -> bool {
        match self {
            StatusPattern::Exact(s) => s == status,
            StatusPattern::Class(c) => status / 100 == c,
        }
    }
}

impl std::fmt::Display for StatusPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StatusPattern::Exact(s) => write!(f, "{s}"),
            StatusPattern::Class(c) => write!(f, "{c}xx"),
        }
    }
}

/// The statuses a case accepts (default: 101).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSpec(pub Vec<StatusPattern>);

impl Default for StatusSpec {
    fn default() -> Self {
        StatusSpec(vec![StatusPattern::Exact(101)])
    }
}

impl StatusSpec {
    pub fn matches(&self, status: u16) -> bool {
        self.0.iter().any(|p| p.matches(status))
    }
}

impl std::fmt::Display for StatusSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|p| p.to_string()).collect();
        f.write_str(&parts.join(" or "))
    }
}

fn parse_status_pattern(s: &str) -> Option<StatusPattern> {
    let t = s.trim().to_ascii_lowercase();
    if let Some(d) = t.strip_suffix("xx") {
        return d
            .parse::<u16>()
            .ok()
            .filter(|d| (1..=5).contains(d))
            .map(StatusPattern::Class);
    }
    t.parse::<u16>()
        .ok()
        .filter(|c| (100..=599).contains(c))
        .map(StatusPattern::Exact)
}

impl<'de> Deserialize<'de> for StatusSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StatusSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a status such as 101, 426 or 4xx, or a list of them")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<StatusSpec, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<StatusSpec, E> {
                parse_status_pattern(s)
                    .map(|p| StatusSpec(vec![p]))
                    .ok_or_else(|| {
                        E::custom(format!(
                            "`{s}` is not an HTTP status (100-599) or class (1xx-5xx)"
                        ))
                    })
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<StatusSpec, A::Error> {
                let mut out = Vec::new();
                while let Some(one) = seq.next_element::<StatusSpec>()? {
                    out.extend(one.0);
                }
                if out.is_empty() {
                    return Err(de::Error::custom("a status list cannot be empty"));
                }
                Ok(StatusSpec(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// A check on one response header (names compare case-insensitively; tokens
/// are the comma-separated items, compared case-insensitively before any `;`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderExpect {
    pub name: String,
    /// The header must list this token.
    #[serde(default)]
    pub has_token: Option<String>,
    /// The header must not list this token.
    #[serde(default)]
    pub lacks_token: Option<String>,
    /// The header must be absent.
    #[serde(default)]
    pub absent: bool,
}
