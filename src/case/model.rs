//! The case schema: what a YAML case file may say, as Rust types. Custom
//! `Deserialize` impls accept the short forms documented in cases/README.md
//! (`payload: "text"`, `wait: echo`, `close: 1000`, `timeout: 2s`) and check
//! value ranges while the node position is still known.

use serde::de::{self, value::MapAccessDeserializer, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::wire::bytelog::unhex;
use crate::wire::LengthForm;

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

/// An opcode by name (`text`, `ping`, ...) or number 0-15.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpcodeSpec(pub u8);

impl<'de> Deserialize<'de> for OpcodeSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = OpcodeSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an opcode name or a number from 0 to 15")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<OpcodeSpec, E> {
                if v <= 15 {
                    Ok(OpcodeSpec(v as u8))
                } else {
                    Err(E::custom(format!(
                        "opcode {v} does not fit in 4 bits (0-15)"
                    )))
                }
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<OpcodeSpec, E> {
                let t = s.trim();
                let number = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                    Some(hex) => u64::from_str_radix(hex, 16).ok(),
                    None => t.parse::<u64>().ok(),
                };
                if let Some(n) = number {
                    return self.visit_u64(n);
                }
                crate::wire::Opcode::from_name(s)
                    .map(|o| OpcodeSpec(o.0))
                    .ok_or_else(|| E::custom(format!(
                        "unknown opcode `{s}`; expected continuation, text, binary, close, ping, pong or a number 0-15"
                    )))
            }
        }
        d.deserialize_any(V)
    }
}

/// RSV bits as a number 0-7 (RSV1 = 4, RSV2 = 2, RSV3 = 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rsv(pub u8);

impl<'de> Deserialize<'de> for Rsv {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = u64::deserialize(d)?;
        if v <= 7 {
            Ok(Rsv(v as u8))
        } else {
            Err(de::Error::custom(format!(
                "rsv {v} does not fit in 3 bits (0-7; RSV1 = 4, RSV2 = 2, RSV3 = 1)"
            )))
        }
    }
}

/// A forced length form: 7, 16 or 64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LengthFormSpec(pub LengthForm);

impl<'de> Deserialize<'de> for LengthFormSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match u64::deserialize(d)? {
            7 => Ok(LengthFormSpec(LengthForm::Short)),
            16 => Ok(LengthFormSpec(LengthForm::Medium)),
            64 => Ok(LengthFormSpec(LengthForm::Long)),
            v => Err(de::Error::custom(format!(
                "length_form must be 7, 16 or 64, found {v}"
            ))),
        }
    }
}

/// Masking: `true` (a key from the case's PRNG), `false` (no mask bit), or a hex key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MaskSpec {
    /// The role's default: masked when wsspec is the client.
    #[default]
    Auto,
    On,
    Off,
    Key([u8; 4]),
}

impl<'de> Deserialize<'de> for MaskSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = MaskSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("true, false or a 4-byte hex key such as `01020304`")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<MaskSpec, E> {
                Ok(if v { MaskSpec::On } else { MaskSpec::Off })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<MaskSpec, E> {
                self.visit_str(&format!("{v:08}"))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<MaskSpec, E> {
                match unhex(s) {
                    Ok(b) if b.len() == 4 => Ok(MaskSpec::Key([b[0], b[1], b[2], b[3]])),
                    _ => Err(E::custom(format!(
                        "expected true, false or a 4-byte hex mask key, found `{s}`"
                    ))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// Bytes, described compactly. See cases/README.md for every form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Payload {
    #[default]
    Empty,
    Text(String),
    Bytes(Vec<u8>),
    /// `pattern` repeated (and cut) to exactly `len` bytes.
    Repeat {
        pattern: Vec<u8>,
        len: usize,
    },
    /// A close frame body: code, then reason bytes.
    Close {
        code: Option<u16>,
        reason: Box<Payload>,
    },
    Concat(Vec<Payload>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PayloadFields {
    text: Option<String>,
    hex: Option<String>,
    base64: Option<String>,
    repeat: Option<String>,
    repeat_hex: Option<String>,
    len: Option<usize>,
    close: Option<CloseBodySpec>,
    concat: Option<Vec<Payload>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CloseBodySpec {
    code: Option<u16>,
    #[serde(default)]
    reason: Payload,
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Payload;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a payload: a string, or a mapping with text/hex/base64/repeat/repeat_hex+len/close/concat")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Payload, E> {
                Ok(Payload::Text(s.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Payload, E> {
                Ok(Payload::Text(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Payload, E> {
                Ok(Payload::Empty)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Payload, A::Error> {
                let f = PayloadFields::deserialize(MapAccessDeserializer::new(map))?;
                Payload::from_fields(f).map_err(de::Error::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl Payload {
    fn from_fields(f: PayloadFields) -> Result<Payload, String> {
        let forms = [
            f.text.is_some(),
            f.hex.is_some(),
            f.base64.is_some(),
            f.repeat.is_some(),
            f.repeat_hex.is_some(),
            f.close.is_some(),
            f.concat.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if forms != 1 {
            return Err(format!(
                "a payload mapping needs exactly one of text, hex, base64, repeat, repeat_hex, close, concat (found {forms})"
            ));
        }
        let repeated = f.repeat.is_some() || f.repeat_hex.is_some();
        if f.len.is_some() && !repeated {
            return Err("`len` goes with `repeat` or `repeat_hex`".into());
        }
        if let Some(t) = f.text {
            return Ok(Payload::Text(t));
        }
        if let Some(h) = f.hex {
            return unhex(&h).map(Payload::Bytes);
        }
        if let Some(b) = f.base64 {
            use base64::Engine;
            return base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .map(Payload::Bytes)
                .map_err(|e| format!("invalid base64: {e}"));
        }
        if repeated {
            let pattern = match (f.repeat, f.repeat_hex) {
                (Some(t), _) => t.into_bytes(),
                (_, Some(h)) => unhex(&h)?,
                _ => unreachable!("checked above"),
            };
            let len = f
                .len
                .ok_or("`repeat` needs `len` (the total length in bytes)")?;
            if pattern.is_empty() && len > 0 {
                return Err("cannot repeat an empty pattern".into());
            }
            return Ok(Payload::Repeat { pattern, len });
        }
        if let Some(c) = f.close {
            return Ok(Payload::Close {
                code: c.code,
                reason: Box::new(c.reason),
            });
        }
        Ok(Payload::Concat(f.concat.unwrap_or_default()))
    }

    /// The payload's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        self.write_into(&mut out);
        out
    }

    fn write_into(&self, out: &mut Vec<u8>) {
        match self {
            Payload::Empty => {}
            Payload::Text(t) => out.extend_from_slice(t.as_bytes()),
            Payload::Bytes(b) => out.extend_from_slice(b),
            Payload::Repeat { pattern, len } => {
                let start = out.len();
                while out.len() - start + pattern.len() <= *len {
                    out.extend_from_slice(pattern);
                }
                let rest = len - (out.len() - start);
                out.extend_from_slice(&pattern[..rest]);
            }
            Payload::Close { code, reason } => {
                if let Some(c) = code {
                    out.extend_from_slice(&c.to_be_bytes());
                }
                reason.write_into(out);
            }
            Payload::Concat(parts) => parts.iter().for_each(|p| p.write_into(out)),
        }
    }

    /// Length in bytes, without building them.
    pub fn len(&self) -> usize {
        match self {
            Payload::Empty => 0,
            Payload::Text(t) => t.len(),
            Payload::Bytes(b) => b.len(),
            Payload::Repeat { len, .. } => *len,
            Payload::Close { code, reason } => code.map_or(0, |_| 2) + reason.len(),
            Payload::Concat(parts) => parts.iter().map(Payload::len).sum(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One step of a case, run in order.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Send one frame (or a message split with `fragment`, or repeated with `repeat`).
    Send(SendFrame),
    /// Send several frames as one byte stream (one write unless chopped).
    SendFrames(SendFrames),
    /// Send raw bytes.
    SendRaw(SendRaw),
    /// Send a close frame: `close: 1000`, `close: {code, reason}`, `close: {}` (no body).
    Close(CloseStep),
    /// Sleep; prefer `wait`, which ends as soon as its event arrives.
    Pause(Millis),
    /// Record a timing marker, if the peer has not closed yet.
    Marker(String),
    /// Wait for an event, with a timeout.
    Wait(Wait),
    /// Close the TCP connection from our side.
    Drop,
    /// Run a list of steps several times (e.g. 1000 round trips).
    Repeat(RepeatSteps),
}

/// `repeat: {times: N, steps: [...]}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepeatSteps {
    pub times: u32,
    pub steps: Vec<Step>,
}

/// How a step's bytes are written.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Writes {
    /// Write at most this many bytes per write.
    #[serde(default)]
    pub chop: Option<usize>,
    /// Sleep this long between writes.
    #[serde(default)]
    pub delay: Option<Millis>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendFrame {
    pub opcode: OpcodeSpec,
    #[serde(default = "yes")]
    pub fin: bool,
    #[serde(default)]
    pub rsv: Rsv,
    #[serde(default)]
    pub mask: MaskSpec,
    /// When false, the mask bit and key are sent but the payload is not masked.
    #[serde(default = "yes")]
    pub mask_payload: bool,
    #[serde(default)]
    pub payload: Payload,
    /// Declared length, when it should lie about the payload.
    #[serde(default)]
    pub length: Option<u64>,
    #[serde(default)]
    pub length_form: Option<LengthFormSpec>,
    /// Split the payload into frames of at most this many bytes (a fragmented message).
    #[serde(default)]
    pub fragment: Option<usize>,
    /// Send the frame this many times.
    #[serde(default = "one")]
    pub repeat: u32,
    #[serde(default)]
    pub chop: Option<usize>,
    #[serde(default)]
    pub delay: Option<Millis>,
    /// Send only payload bytes `[from, to)` of the frame (`[from]`: to the
    /// end; the header goes with the part that starts at 0), so one frame can
    /// be written in parts with other steps between.
    /// Needs a fixed mask key (or `mask: false`) so every part comes from the
    /// same bytes.
    #[serde(default)]
    pub slice: Option<Vec<usize>>,
}

fn yes() -> bool {
    true
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendFrames {
    pub frames: Vec<SendFrame>,
    #[serde(default)]
    pub chop: Option<usize>,
    #[serde(default)]
    pub delay: Option<Millis>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendRaw {
    pub bytes: Payload,
    #[serde(default)]
    pub chop: Option<usize>,
    #[serde(default)]
    pub delay: Option<Millis>,
}

/// A close frame to send.
#[derive(Debug, Clone, Default)]
pub struct CloseStep {
    pub code: Option<u16>,
    pub reason: Payload,
}

impl<'de> Deserialize<'de> for CloseStep {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CloseStep;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a close code, or a mapping with `code` and `reason`")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<CloseStep, E> {
                u16::try_from(v)
                    .map(|c| CloseStep {
                        code: Some(c),
                        reason: Payload::Empty,
                    })
                    .map_err(|_| E::custom(format!("close code {v} does not fit in 16 bits")))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<CloseStep, A::Error> {
                let b = CloseBodySpec::deserialize(MapAccessDeserializer::new(map))?;
                if b.code.is_none() && !b.reason.is_empty() {
                    return Err(de::Error::custom(
                        "a close reason needs a code (RFC 6455 5.5.1); use `send` with a raw close payload to break this rule",
                    ));
                }
                Ok(CloseStep {
                    code: b.code,
                    reason: b.reason,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// What a `wait` step waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitFor {
    /// Every message and ping sent so far has been answered (echo / pong).
    Echo,
    /// The peer's close frame (or the end of the connection).
    Close,
    /// The end of the TCP connection.
    End,
    /// A stretch with no bytes from the peer (`silence` duration).
    Silence,
}

/// How a wait can find out early that the peer has caught up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Probe {
    /// Send a ping (payload `wsspec-probe-N`); its pong means the peer has
    /// processed every byte sent before it without closing. Probe pings and
    /// their pongs are left out of the graded events.
    Ping,
}

/// A wait: `wait: echo`, or `wait: {for: close, timeout: 2s}`, or
/// `wait: {for: close, timeout: 1s, probe: ping}`, or `wait: {silence: 500ms}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait {
    pub what: WaitFor,
    /// For `silence`, how long the silence must last.
    pub silence: Option<Millis>,
    pub timeout: Option<Millis>,
    /// `for: close` only: also end (as met) when the probe is answered.
    pub probe: Option<Probe>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WaitFields {
    #[serde(rename = "for")]
    what: Option<WaitFor>,
    silence: Option<Millis>,
    timeout: Option<Millis>,
    probe: Option<Probe>,
}

impl<'de> Deserialize<'de> for Wait {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Wait;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("echo, close, end, or a mapping {for, timeout} / {silence}")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Wait, E> {
                let what = match s {
                    "echo" => WaitFor::Echo,
                    "close" => WaitFor::Close,
                    "end" => WaitFor::End,
                    _ => {
                        return Err(E::custom(format!(
                        "unknown wait `{s}`; expected echo, close, end, or {{silence: DURATION}}"
                    )))
                    }
                };
                Ok(Wait {
                    what,
                    silence: None,
                    timeout: None,
                    probe: None,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Wait, A::Error> {
                let f = WaitFields::deserialize(MapAccessDeserializer::new(map))?;
                let what = match (f.what, f.silence) {
                    (Some(WaitFor::Silence), None) | (None, None) => {
                        return Err(de::Error::custom(
                            "a wait needs `for: echo|close|end` or `silence: DURATION`",
                        ))
                    }
                    (Some(w), Some(_)) if w != WaitFor::Silence => {
                        return Err(de::Error::custom("`silence` cannot be combined with `for`"))
                    }
                    (_, Some(_)) => WaitFor::Silence,
                    (Some(w), None) => w,
                };
                if f.probe.is_some() && what != WaitFor::Close {
                    return Err(de::Error::custom(
                        "`probe` works only with `for: close` (it ends the wait once the peer has caught up without closing)",
                    ));
                }
                Ok(Wait {
                    what,
                    silence: f.silence,
                    timeout: f.timeout,
                    probe: f.probe,
                })
            }
        }
        d.deserialize_any(V)
    }
}

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
    /// Close codes the peer may send; a close without code, or none, is also accepted.
    #[serde(default)]
    pub codes: Vec<u16>,
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
    /// Closing the connection without any response is also accepted.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::de::from_node;
    use crate::case::yaml::parse;

    fn payload(src: &str) -> Result<Payload, String> {
        from_node::<Payload>(&parse(src).unwrap()).map_err(|e| e.message)
    }

    #[test]
    fn payload_forms() {
        assert_eq!(payload("hello").unwrap().bytes(), b"hello");
        assert_eq!(payload("{hex: 'ce ba'}").unwrap().bytes(), vec![0xce, 0xba]);
        assert_eq!(payload("{base64: aGk=}").unwrap().bytes(), b"hi");
        assert_eq!(payload("{repeat: ab, len: 5}").unwrap().bytes(), b"ababa");
        assert_eq!(
            payload("{repeat_hex: fe, len: 3}").unwrap().bytes(),
            vec![0xfe; 3]
        );
        let close = payload("{close: {code: 1000, reason: ok}}").unwrap();
        assert_eq!(close.bytes(), vec![3, 232, b'o', b'k']);
        assert_eq!(close.len(), 4);
        let cat = payload("{concat: [a, {hex: '00'}]}").unwrap();
        assert_eq!(cat.bytes(), vec![b'a', 0]);
        assert!(payload("{text: a, hex: '00'}")
            .unwrap_err()
            .contains("exactly one"));
        assert!(payload("{repeat: a}").unwrap_err().contains("needs `len`"));
        assert!(payload("{hex: 'zz'}")
            .unwrap_err()
            .contains("not a hex byte"));
    }

    #[test]
    fn durations() {
        let m = |s: &str| from_node::<Millis>(&parse(s).unwrap()).map(|m| m.0);
        assert_eq!(m("250").unwrap(), 250);
        assert_eq!(m("250ms").unwrap(), 250);
        assert_eq!(m("1.5s").unwrap(), 1500);
        assert!(m("soon").is_err());
    }

    #[test]
    fn waits() {
        let w = |s: &str| from_node::<Wait>(&parse(s).unwrap());
        assert_eq!(w("echo").unwrap().what, WaitFor::Echo);
        let full = w("{for: close, timeout: 2s}").unwrap();
        assert_eq!(
            (full.what, full.timeout),
            (WaitFor::Close, Some(Millis(2000)))
        );
        assert_eq!(w("{silence: 100ms}").unwrap().what, WaitFor::Silence);
        assert!(w("{timeout: 1s}").is_err());
        assert!(w("forever").is_err());
        let probed = w("{for: close, timeout: 1s, probe: ping}").unwrap();
        assert_eq!(probed.probe, Some(Probe::Ping));
        assert_eq!(full.probe, None);
        let wrong = w("{for: end, probe: ping}").unwrap_err().message;
        assert!(wrong.contains("only with `for: close`"), "{wrong}");
        assert!(w("{for: close, probe: pong}").is_err());
    }
}
