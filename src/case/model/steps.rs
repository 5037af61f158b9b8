//! The steps a case runs, in order: sending frames, raw bytes and closes,
//! pauses and markers, waits (with their short forms and probes), dropping
//! the connection, and repeated blocks of steps.

use serde::de::{self, value::MapAccessDeserializer, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::payload::CloseBodySpec;
use super::{CompressSpec, LengthFormSpec, MaskSpec, Millis, OpcodeSpec, Payload, Rsv};

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
    /// (HTTP/2 only) Act on the case's stream itself.
    Http2(Http2Step),
}

/// What `http2:` does to the case's stream; what the case sends later still
/// goes out as DATA on it, whatever state the stream is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Http2Step {
    /// RST_STREAM with CANCEL (RFC 9113 6.4).
    Reset,
    /// An empty DATA frame with END_STREAM (RFC 9113 6.1).
    EndStream,
}

/// Whether any step (repeated ones too) acts on an HTTP/2 stream.
pub fn any_http2(steps: &[Step]) -> bool {
    steps.iter().any(|s| match s {
        Step::Http2(_) => true,
        Step::Repeat(r) => any_http2(&r.steps),
        _ => false,
    })
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
    /// Compress the payload as one permessage-deflate message (with what
    /// was agreed, or zlib's defaults when nothing was) and set RSV1 on its
    /// first frame; `rsv` still adds its bits to every frame it names.
    /// `{flush_every: N}` or `{flush_at: [..]}` add sync flushes inside it.
    #[serde(default)]
    pub compress: CompressSpec,
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

impl WaitFor {
    /// The word a case file uses for it.
    pub fn as_str(self) -> &'static str {
        match self {
            WaitFor::Echo => "echo",
            WaitFor::Close => "close",
            WaitFor::End => "end",
            WaitFor::Silence => "silence",
        }
    }
}

impl std::fmt::Display for WaitFor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::de::from_node;
    use crate::case::yaml::parse;

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
