//! A case's `deflate:` block: what wsspec offers (as the client) or how it
//! answers offers (as the server) for permessage-deflate, which outcome of
//! the negotiation the case needs, and the zlib level of what it compresses.

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::deflate::negotiate::AcceptPolicy;

/// Autobahn's default offer (its `PerMessageDeflateOffer()`), used when a
/// case has a `deflate:` block without `offer`.
pub const DEFAULT_OFFER: &str =
    "permessage-deflate; client_no_context_takeover; client_max_window_bits";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeflateSpec {
    /// (wsspec as the client) The `Sec-WebSocket-Extensions` value offered,
    /// exactly as written: any parameters, valid or not, several offers.
    #[serde(default)]
    pub offer: Option<String>,
    /// (wsspec as the server) How it answers the client's offers: a mapping
    /// of what it asks for, or `decline`.
    #[serde(default)]
    pub accept: AcceptSpec,
    /// (wsspec as the server) A `Sec-WebSocket-Extensions` value sent
    /// verbatim whatever the client offered (to test what clients refuse).
    #[serde(default)]
    pub respond: Option<String>,
    /// Which outcome of the negotiation the case needs.
    #[serde(default)]
    pub require: Negotiation,
    /// zlib level (0-9) for the messages wsspec compresses.
    #[serde(default)]
    pub level: Option<u32>,
    /// Snapshots record the compressed bytes of each received frame as
    /// well (by default only what a message inflated to: two zlib versions
    /// compress the same message differently, and that is not drift).
    #[serde(default)]
    pub snapshot_compressed: bool,
}

impl DeflateSpec {
    pub fn offer_text(&self) -> &str {
        self.offer.as_deref().unwrap_or(DEFAULT_OFFER)
    }
}

/// What the negotiation must come to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Negotiation {
    /// permessage-deflate agreed; a peer that declines makes the case
    /// UNIMPLEMENTED (as Autobahn's 12.x and 13.x), a faulty response FAILED.
    #[default]
    Accepted,
    /// The peer must not agree (an invalid offer must be declined, RFC 7692
    /// 7.1); refusing the handshake is also fine.
    Declined,
    /// Either is fine; the case is about what follows.
    Any,
    /// (wsspec as the server, with `respond`) The answer must be one the
    /// client is bound to refuse given its own offer; when the client's
    /// offer makes it valid, there is nothing to test (UNIMPLEMENTED).
    Refused,
}

/// How wsspec, as the server, answers offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptSpec {
    Decline,
    Accept(AcceptPolicy),
}

impl Default for AcceptSpec {
    fn default() -> Self {
        AcceptSpec::Accept(AcceptPolicy::default())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AcceptFields {
    #[serde(default)]
    client_no_context_takeover: bool,
    #[serde(default)]
    client_max_window_bits: Option<u8>,
    /// The same limit, asked only of offers that allow it.
    #[serde(default)]
    client_max_window_bits_if_offered: Option<u8>,
    #[serde(default)]
    server_no_context_takeover: bool,
    #[serde(default)]
    server_max_window_bits: Option<u8>,
}

impl<'de> Deserialize<'de> for AcceptSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AcceptSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("`decline`, or a mapping of client_no_context_takeover, client_max_window_bits, server_no_context_takeover, server_max_window_bits")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<AcceptSpec, E> {
                match s {
                    "decline" => Ok(AcceptSpec::Decline),
                    _ => Err(E::custom(format!(
                        "expected `decline` or a mapping, found `{s}`"
                    ))),
                }
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<AcceptSpec, A::Error> {
                let f = AcceptFields::deserialize(de::value::MapAccessDeserializer::new(map))?;
                if f.client_max_window_bits.is_some()
                    && f.client_max_window_bits_if_offered.is_some()
                {
                    return Err(de::Error::custom(
                        "give client_max_window_bits or client_max_window_bits_if_offered, not both",
                    ));
                }
                for bits in [
                    f.client_max_window_bits,
                    f.client_max_window_bits_if_offered,
                    f.server_max_window_bits,
                ]
                .into_iter()
                .flatten()
                {
                    if !(8..=15).contains(&bits) {
                        return Err(de::Error::custom(format!(
                            "a window size is 8 to 15 bits, found {bits}"
                        )));
                    }
                }
                Ok(AcceptSpec::Accept(AcceptPolicy {
                    client_no_context_takeover: f.client_no_context_takeover,
                    client_max_window_bits: f
                        .client_max_window_bits
                        .or(f.client_max_window_bits_if_offered),
                    client_bits_if_offered: f.client_max_window_bits_if_offered.is_some(),
                    server_no_context_takeover: f.server_no_context_takeover,
                    server_max_window_bits: f.server_max_window_bits,
                }))
            }
        }
        d.deserialize_any(V)
    }
}

/// How a send step compresses its payload: `compress: true` (one sync
/// flush at the end, as RFC 7692 7.2.1 describes), or a mapping that adds
/// sync flushes inside the message, each of which leaves an empty stored
/// block (`00 00 ff ff`) in the middle of the payload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompressSpec {
    pub enabled: bool,
    /// Flush after every this many input bytes.
    pub flush_every: Option<usize>,
    /// Flush after these input offsets (past the end: ignored).
    pub flush_at: Vec<usize>,
}

impl CompressSpec {
    /// The input offsets strictly inside a message of `len` bytes after
    /// which the compressor flushes, ascending and without repeats.
    pub fn flush_points(&self, len: usize) -> Vec<usize> {
        let mut points: Vec<usize> = self
            .flush_at
            .iter()
            .copied()
            .filter(|&p| p > 0 && p < len)
            .collect();
        if let Some(every) = self.flush_every.filter(|&e| e > 0) {
            points.extend((1..).map(|k| k * every).take_while(|&p| p < len));
        }
        points.sort_unstable();
        points.dedup();
        points
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CompressFields {
    #[serde(default)]
    flush_every: Option<usize>,
    #[serde(default)]
    flush_at: Vec<usize>,
}

impl<'de> Deserialize<'de> for CompressSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CompressSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("`true`, `false`, or a mapping of flush_every and flush_at")
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<CompressSpec, E> {
                Ok(CompressSpec {
                    enabled: b,
                    ..CompressSpec::default()
                })
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<CompressSpec, A::Error> {
                let f = CompressFields::deserialize(de::value::MapAccessDeserializer::new(map))?;
                if f.flush_every == Some(0) {
                    return Err(de::Error::custom(
                        "flush_every is a number of bytes, at least 1",
                    ));
                }
                Ok(CompressSpec {
                    enabled: true,
                    flush_every: f.flush_every,
                    flush_at: f.flush_at,
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

    fn spec(src: &str) -> Result<DeflateSpec, String> {
        from_node::<DeflateSpec>(&parse(src).expect("yaml")).map_err(|e| e.message)
    }

    #[test]
    fn the_deflate_block_and_its_defaults() {
        let s = spec("{}").expect("empty block");
        assert_eq!(s.offer_text(), DEFAULT_OFFER);
        assert_eq!(s.require, Negotiation::Accepted);
        assert_eq!(s.accept, AcceptSpec::Accept(AcceptPolicy::default()));
        let s = spec("{offer: 'permessage-deflate; x=1', require: declined, accept: decline}")
            .expect("valid");
        assert_eq!(s.offer_text(), "permessage-deflate; x=1");
        assert_eq!(s.require, Negotiation::Declined);
        assert_eq!(s.accept, AcceptSpec::Decline);
        let s = spec("{accept: {client_max_window_bits: 9, client_no_context_takeover: true}}")
            .expect("valid");
        assert_eq!(
            s.accept,
            AcceptSpec::Accept(AcceptPolicy {
                client_no_context_takeover: true,
                client_max_window_bits: Some(9),
                ..AcceptPolicy::default()
            })
        );
        for (bad, says) in [
            ("{accept: maybe}", "expected `decline`"),
            (
                "{accept: {client_max_window_bits: 9, client_max_window_bits_if_offered: 9}}",
                "not both",
            ),
            ("{accept: {client_max_window_bits: 7}}", "8 to 15"),
            ("{accept: {server_max_window_bits: 16}}", "8 to 15"),
            ("{accept: {mystery: true}}", "mystery"),
            ("{require: sometimes}", "sometimes"),
            ("{offers: x}", "offers"),
        ] {
            let err = spec(bad).expect_err(bad);
            assert!(err.contains(says), "{bad}: {err}");
        }
        assert!(
            spec("{snapshot_compressed: true}")
                .expect("valid")
                .snapshot_compressed
        );
        assert!(!spec("{}").expect("valid").snapshot_compressed);
    }

    fn compress(src: &str) -> Result<CompressSpec, String> {
        from_node::<CompressSpec>(&parse(src).expect("yaml")).map_err(|e| e.message)
    }

    #[test]
    fn compress_is_a_flag_or_its_flush_points() {
        assert_eq!(
            compress("true").expect("flag"),
            CompressSpec {
                enabled: true,
                ..CompressSpec::default()
            }
        );
        assert!(!compress("false").expect("flag").enabled);
        let every = compress("{flush_every: 4}").expect("every");
        assert!(every.enabled);
        assert_eq!(every.flush_points(12), vec![4, 8]);
        assert_eq!(every.flush_points(13), vec![4, 8, 12]);
        assert_eq!(every.flush_points(4), Vec::<usize>::new());
        let at = compress("{flush_at: [9, 0, 3, 3, 40], flush_every: 6}").expect("at");
        assert_eq!(at.flush_points(20), vec![3, 6, 9, 12, 18]);
        for (bad, says) in [
            ("{flush_every: 0}", "at least 1"),
            ("{flush_evry: 3}", "flush_evry"),
            ("often", "mapping of flush_every"),
        ] {
            let err = compress(bad).expect_err(bad);
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
