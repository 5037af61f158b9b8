//! The case schema: what a YAML case file may say, as Rust types. Custom
//! `Deserialize` impls accept the short forms documented in cases/README.md
//! (`payload: "text"`, `wait: echo`, `close: 1000`, `timeout: 2s`) and check
//! value ranges while the node position is still known. This module holds the
//! case-level types (file meta, requirement, role, the case itself, its
//! handshake request and durations); `payload` holds payloads and frame
//! fields, `steps` the steps a case runs, and `expect` what it expects to
//! observe. Everything is re-exported here, so paths stay `model::X`.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

mod deflate;
mod expect;
mod payload;
mod steps;

pub use deflate::{AcceptSpec, CompressSpec, DeflateSpec, Negotiation, DEFAULT_OFFER};
pub use expect::{
    Alternative, CloseExpect, Closer, EventPattern, Expect, Grade, HandshakeExpect, HeaderExpect,
    StatusPattern, StatusSpec,
};
pub use payload::{LengthFormSpec, MaskSpec, OpcodeSpec, Payload, Rsv};
pub use steps::{
    CloseStep, Http2Step, Probe, RepeatSteps, SendFrame, SendFrames, SendRaw, Step, Wait, WaitFor,
    Writes,
};

/// The top of a case file, apart from `cases`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileMeta {
    /// Group id, e.g. "2".
    pub group: String,
    /// Group title, e.g. "Pings and pongs".
    pub title: String,
    /// Default RFC section for the file's cases.
    #[serde(default)]
    pub spec: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// Requirement level of the rule a case checks (RFC 2119).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Requirement {
    #[serde(rename = "MUST")]
    Must,
    #[serde(rename = "SHOULD")]
    Should,
    #[serde(rename = "MAY")]
    May,
}

impl Requirement {
    pub fn as_str(self) -> &'static str {
        match self {
            Requirement::Must => "MUST",
            Requirement::Should => "SHOULD",
            Requirement::May => "MAY",
        }
    }
}

/// Which peer is under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Server,
    Client,
}

impl Role {
    /// `server` or `client`, as results.json writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Server => "server",
            Role::Client => "client",
        }
    }
}

/// One case, as written (after matrix expansion).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseSpec {
    pub id: String,
    pub title: String,
    /// The Autobahn|Testsuite case id this case corresponds to.
    #[serde(default)]
    pub autobahn: Option<String>,
    /// RFC section; defaults to the file's.
    #[serde(default)]
    pub spec: Option<String>,
    pub requirement: Requirement,
    #[serde(default)]
    pub description: Option<String>,
    /// Why this case deliberately differs from Autobahn, or other remarks.
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default = "default_roles")]
    pub roles: Vec<Role>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Always reported INFORMATIONAL: the observation is recorded, not graded.
    #[serde(default)]
    pub informational: bool,
    /// Runs alone (never concurrently) and logs frame summaries only.
    #[serde(default)]
    pub performance: bool,
    /// Whether the peer's answer depends on timing rather than on its code
    /// (e.g. echo before or after failing); snapshots fold such details.
    #[serde(default)]
    pub timing_dependent: bool,
    /// Deadline for the whole case (scaled by --timeout-scale).
    #[serde(default)]
    pub timeout: Option<Millis>,
    #[serde(default)]
    pub handshake: HandshakeSpec,
    /// permessage-deflate: offer, answer, and the outcome needed.
    #[serde(default)]
    pub deflate: Option<DeflateSpec>,
    pub steps: Vec<Step>,
    pub expect: Expect,
    /// Matrix values this case was expanded with (filled by the loader).
    #[serde(skip)]
    pub bindings: Vec<(String, String)>,
}

fn default_roles() -> Vec<Role> {
    vec![Role::Server]
}

/// How the opening handshake request is written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandshakeSpec {
    /// A whole request written out (a string, or any payload form such as
    /// `concat` for a huge header); `{host}`, `{path}`, `{key}` and `{headers}`
    /// are filled in.
    #[serde(default)]
    pub raw: Option<Payload>,
    /// Write the request in pieces of this many bytes...
    #[serde(default)]
    pub chop: Option<usize>,
    /// ...with this pause between pieces.
    #[serde(default)]
    pub delay: Option<Millis>,
    /// Frames sent in the same write as the request (as the client) or as the
    /// response (as the server).
    #[serde(default)]
    pub frames: Vec<SendFrame>,
    /// (wsspec as the server) The whole response written out, instead of a
    /// correct 101; `{accept}` is the right Sec-WebSocket-Accept for the
    /// client's key, `{key}` the key itself.
    #[serde(default)]
    pub response: Option<Payload>,
    /// Headers appended, as "Name: value".
    #[serde(default)]
    pub add: Vec<HeaderLine>,
    /// Header names removed.
    #[serde(default)]
    pub remove: Vec<String>,
    /// Headers replaced in place (appended if absent), as "Name: value".
    #[serde(default)]
    pub replace: Vec<HeaderLine>,
    /// (HTTP/2 only) The extended CONNECT written by wsspec itself, as edits
    /// of the standard field list; such a case runs only over HTTP/2.
    #[serde(default)]
    pub http2: Option<Http2Request>,
    /// (HTTP/2 only; wsspec as the server) The answer to the client's
    /// extended CONNECT, instead of a 200 with the usual fields.
    #[serde(default)]
    pub http2_answer: Option<Http2Answer>,
}

/// wsspec's answer to a client's extended CONNECT (RFC 8441 5): a status
/// and these fields only (no permessage-deflate answer is added).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http2Answer {
    #[serde(default = "status_200")]
    pub status: u16,
    /// Fields of the answer, names in lower case.
    #[serde(default)]
    pub add: Vec<FieldLine>,
}

fn status_200() -> u16 {
    200
}

/// An extended CONNECT (RFC 8441 4) as edits of the standard field list
/// (`:method`, `:protocol`, `:scheme`, `:authority`, `:path`, then
/// `sec-websocket-version` and the rest), sent byte for byte, malformed if
/// the case says so.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http2Request {
    /// Field names removed (every occurrence; exact bytes).
    #[serde(default)]
    pub remove: Vec<String>,
    /// Fields whose value is replaced in place (appended if absent).
    #[serde(default)]
    pub set: Vec<FieldLine>,
    /// Fields appended at the end, after the regular ones.
    #[serde(default)]
    pub add: Vec<FieldLine>,
    /// Send the request even when the server's SETTINGS did not enable
    /// extended CONNECT (RFC 8441 3), to see whether it accepts it anyway.
    #[serde(default)]
    pub without_setting: bool,
}

/// A header field as `name: value`; the name may be a pseudo-header field
/// (`:path: /x`) and keeps its case, the value its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldLine {
    pub name: String,
    pub value: String,
}

impl<'de> Deserialize<'de> for FieldLine {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let (prefix, rest) = match s.strip_prefix(':') {
            Some(rest) => (":", rest),
            None => ("", s.as_str()),
        };
        match rest.split_once(':') {
            Some((n, v)) if !n.trim().is_empty() => Ok(FieldLine {
                name: format!("{prefix}{}", n.trim()),
                value: v.strip_prefix(' ').unwrap_or(v).to_string(),
            }),
            _ => Err(de::Error::custom(format!(
                "expected a field `name: value` (or `:pseudo: value`), found `{s}`"
            ))),
        }
    }
}

impl HandshakeSpec {
    /// Whether the case's handshake only exists as HTTP/1.1 bytes: a request
    /// written out, edited, chopped or paced, a response written out, or an
    /// added field that HTTP/1.1's upgrade uses and HTTP/2 has no place for
    /// (RFC 8441 5, RFC 9113 8.2.2). Such a case does not run over HTTP/2.
    pub fn http1_only(&self) -> bool {
        const UPGRADE_FIELDS: [&str; 7] = [
            "host",
            "upgrade",
            "connection",
            "sec-websocket-key",
            "keep-alive",
            "proxy-connection",
            "transfer-encoding",
        ];
        self.raw.is_some()
            || self.response.is_some()
            || self.chop.is_some()
            || self.delay.is_some()
            || !self.remove.is_empty()
            || !self.replace.is_empty()
            || self
                .add
                .iter()
                .any(|h| UPGRADE_FIELDS.contains(&h.name.to_ascii_lowercase().as_str()))
    }
}

impl CaseSpec {
    /// Whether the case exists only over HTTP/2: its request is written as
    /// HTTP/2 fields, or a step acts on the HTTP/2 stream itself.
    pub fn http2_only(&self) -> bool {
        self.handshake.http2.is_some()
            || self.handshake.http2_answer.is_some()
            || self.has_http2_steps()
    }

    /// Whether any step (inside a `repeat` too) is an `http2:` step.
    pub fn has_http2_steps(&self) -> bool {
        steps::any_http2(&self.steps)
    }

    /// Whether the case only exists over HTTP/1.1 (see
    /// [`HandshakeSpec::http1_only`]).
    pub fn http1_only(&self) -> bool {
        self.handshake.http1_only()
    }
}

/// A "Name: value" header line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderLine {
    pub name: String,
    pub value: String,
}

impl<'de> Deserialize<'de> for HeaderLine {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.split_once(':') {
            Some((n, v)) if !n.trim().is_empty() => Ok(HeaderLine {
                name: n.trim().to_string(),
                value: v.trim().to_string(),
            }),
            _ => Err(de::Error::custom(format!(
                "expected a header line `Name: value`, found `{s}`"
            ))),
        }
    }
}

/// A duration in milliseconds: `250`, `250ms`, `1s`, `1.5s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Millis(pub u64);

impl Millis {
    pub fn scaled(self, factor: f64) -> std::time::Duration {
        std::time::Duration::from_micros((self.0 as f64 * factor * 1000.0).max(0.0) as u64)
    }
}

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Millis;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a duration such as `500ms`, `2s` or a number of milliseconds")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Millis, E> {
                Ok(Millis(v))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Millis, E> {
                parse_duration(s).ok_or_else(|| {
                    E::custom(format!(
                        "expected a duration such as `500ms` or `2s`, found `{s}`"
                    ))
                })
            }
        }
        d.deserialize_any(V)
    }
}

fn parse_duration(s: &str) -> Option<Millis> {
    let s = s.trim();
    if let Some(ms) = s.strip_suffix("ms") {
        return ms.trim().parse().ok().map(Millis);
    }
    if let Some(secs) = s.strip_suffix('s') {
        let f: f64 = secs.trim().parse().ok()?;
        return (f >= 0.0).then(|| Millis((f * 1000.0).round() as u64));
    }
    s.parse().ok().map(Millis)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::de::from_node;
    use crate::case::yaml::parse;

    #[test]
    fn durations() {
        let m = |s: &str| from_node::<Millis>(&parse(s).unwrap()).map(|m| m.0);
        assert_eq!(m("250").unwrap(), 250);
        assert_eq!(m("250ms").unwrap(), 250);
        assert_eq!(m("1.5s").unwrap(), 1500);
        assert!(m("soon").is_err());
        // A mapping is neither a number nor a string: the expectation says so.
        let e = m("{a: 1}").expect_err("a mapping");
        assert!(
            e.message
                .contains("a duration such as `500ms`, `2s` or a number of milliseconds"),
            "{}",
            e.message
        );
    }

    /// Each compact form of the case format, parsed to what it says (the
    /// words of cases/README.md), and the expectation a wrong type names.
    #[test]
    fn forms_parse_to_what_they_say() {
        fn one<T: serde::de::DeserializeOwned>(src: &str) -> Result<T, String> {
            from_node::<T>(&parse(src).unwrap()).map_err(|e| e.message)
        }
        // Payloads.
        let bytes = |src: &str| one::<Payload>(src).map(|p| (p.bytes(), p.len(), p.is_empty()));
        assert_eq!(bytes("42"), Ok((b"42".to_vec(), 2, false)));
        assert_eq!(bytes("~"), Ok((Vec::new(), 0, true)));
        assert_eq!(bytes("''"), Ok((Vec::new(), 0, true)));
        assert_eq!(
            bytes("{concat: [ab, {repeat: xyz, len: 7}]}"),
            Ok((b"abxyzxyzx".to_vec(), 9, false))
        );
        assert_eq!(
            bytes("{close: {code: 1000, reason: bye}}"),
            Ok((b"\x03\xe8bye".to_vec(), 5, false))
        );
        assert_eq!(bytes("{repeat: '', len: 0}"), Ok((Vec::new(), 0, true)));
        assert_eq!(
            bytes("{repeat: '', len: 3}"),
            Err("cannot repeat an empty pattern".into())
        );
        let e = one::<Payload>("[1]").expect_err("a list");
        assert!(e.contains("a payload: a string, or a mapping"), "{e}");
        // Masks.
        assert_eq!(
            one::<MaskSpec>("12345678"),
            Ok(MaskSpec::Key([0x12, 0x34, 0x56, 0x78]))
        );
        assert_eq!(
            one::<MaskSpec>("'0a0b0c0d'"),
            Ok(MaskSpec::Key([10, 11, 12, 13]))
        );
        assert_eq!(one::<MaskSpec>("false"), Ok(MaskSpec::Off));
        assert!(one::<MaskSpec>("'0a0b0c'").is_err());
        let e = one::<MaskSpec>("[1]").expect_err("a list");
        assert!(e.contains("true, false or a 4-byte hex key"), "{e}");
        let e = one::<OpcodeSpec>("[1]").expect_err("a list");
        assert!(e.contains("an opcode name or a number from 0 to 15"), "{e}");
        // Statuses.
        let status = |src: &str| one::<StatusSpec>(src).map(|s| s.to_string());
        assert_eq!(status("101"), Ok("101".into()));
        assert_eq!(status("[101, 4xx]"), Ok("101 or 4xx".into()));
        assert_eq!(status("[]"), Err("a status list cannot be empty".into()));
        let e = one::<StatusSpec>("{a: 1}").expect_err("a mapping");
        assert!(e.contains("a status such as 101, 426 or 4xx"), "{e}");
        // Close steps.
        let close = |src: &str| one::<CloseStep>(src).map(|c| (c.code, c.reason.bytes()));
        assert_eq!(close("1001"), Ok((Some(1001), Vec::new())));
        assert_eq!(
            close("{code: 1002, reason: x}"),
            Ok((Some(1002), b"x".to_vec()))
        );
        assert_eq!(close("{}"), Ok((None, Vec::new())));
        assert!(close("{reason: x}").is_err_and(|e| e.starts_with("a close reason needs a code")));
        assert!(close("70000").is_err_and(|e| e.contains("does not fit in 16 bits")));
        let e = one::<CloseStep>("[1]").expect_err("a list");
        assert!(
            e.contains("a close code, or a mapping with `code` and `reason`"),
            "{e}"
        );
        // Waits.
        let wait = |src: &str| one::<Wait>(src).map(|w| (w.what, w.silence, w.timeout));
        assert_eq!(wait("echo"), Ok((WaitFor::Echo, None, None)));
        assert_eq!(wait("close"), Ok((WaitFor::Close, None, None)));
        assert_eq!(wait("end"), Ok((WaitFor::End, None, None)));
        assert!(wait("soon").is_err_and(|e| e.starts_with("unknown wait `soon`")));
        assert_eq!(
            wait("{for: close, timeout: 2s}"),
            Ok((WaitFor::Close, None, Some(Millis(2000))))
        );
        assert_eq!(
            wait("{silence: 300ms}"),
            Ok((WaitFor::Silence, Some(Millis(300)), None))
        );
        assert_eq!(
            wait("{for: silence, silence: 300ms}"),
            Ok((WaitFor::Silence, Some(Millis(300)), None))
        );
        assert_eq!(
            wait("{for: echo, silence: 300ms}"),
            Err("`silence` cannot be combined with `for`".into())
        );
        assert!(wait("{for: silence}").is_err_and(|e| e.starts_with("a wait needs")));
        let e = one::<Wait>("[1]").expect_err("a list");
        assert!(e.contains("echo, close, end, or a mapping"), "{e}");
    }

    #[test]
    fn durations_scale() {
        use std::time::Duration;
        assert_eq!(Millis(250).scaled(1.0), Duration::from_millis(250));
        assert_eq!(Millis(250).scaled(3.0), Duration::from_millis(750));
        assert_eq!(Millis(3).scaled(0.5), Duration::from_micros(1500));
        assert_eq!(Millis(250).scaled(-1.0), Duration::ZERO);
    }

    #[test]
    fn names_as_written() {
        let names: Vec<&str> = [Requirement::Must, Requirement::Should, Requirement::May]
            .iter()
            .map(|r| r.as_str())
            .collect();
        assert_eq!(names, ["MUST", "SHOULD", "MAY"]);
        assert_eq!(
            (Role::Server.as_str(), Role::Client.as_str()),
            ("server", "client")
        );
    }

    #[test]
    fn header_lines_need_a_name() {
        let h = |s: &str| from_node::<HeaderLine>(&parse(s).unwrap());
        assert_eq!(
            h("'X-A:  b c '").expect("line"),
            HeaderLine {
                name: "X-A".into(),
                value: "b c".into()
            }
        );
        assert_eq!(h("'X-A:'").expect("empty value").value, "");
        for bad in ["'no colon'", "': value'", "'  : value'"] {
            let e = h(bad).expect_err(bad);
            assert!(
                e.message
                    .starts_with("expected a header line `Name: value`"),
                "{bad}: {}",
                e.message
            );
        }
    }

    #[test]
    fn a_case_without_roles_is_for_servers() {
        let text = "group: t\ntitle: t\ncases:\n  - id: t.1\n    title: t\n    requirement: MUST\n    steps: []\n    expect:\n      ok: []\n      close: {by: peer}\n";
        let cases = crate::case::load::load(&[crate::case::load::Source {
            name: "t.yaml".into(),
            text: text.into(),
        }])
        .expect("loads");
        assert_eq!(cases[0].spec.roles, [Role::Server]);
    }
}
