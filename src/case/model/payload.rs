//! Payloads and frame fields: the compact byte forms (`text`, `hex`,
//! `base64`, `repeat`, `close`, `concat`) a case writes payloads in, and the
//! byte-level values of a frame header it may force: opcode, RSV bits, length
//! form and mask. A payload of more than `payload_bytes` bytes is refused as
//! it is read (its length is known without building its bytes).

use serde::de::{self, value::MapAccessDeserializer, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use crate::case::limits::PAYLOAD_BYTES;
use crate::case::payload_kinds::{self, PayloadKind};
use crate::wire::bytelog::unhex;
use crate::wire::LengthForm;

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
    /// `len` bytes of a generated sample (`sample: json`); sent repeatedly,
    /// each send takes the next slice, wrapping around (Autobahn's 12.x).
    Sample {
        kind: PayloadKind,
        len: usize,
    },
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
    sample: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CloseBodySpec {
    pub(super) code: Option<u16>,
    #[serde(default)]
    pub(super) reason: Payload,
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Payload;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a payload: a string, or a mapping with text/hex/base64/repeat/repeat_hex+len/close/concat/sample+len")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Payload, E> {
                let p = Payload::Text(s.to_string());
                p.within_limit().map_err(E::custom)?;
                Ok(p)
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
    /// The payload a mapping describes, refused past `payload_bytes`.
    fn from_fields(f: PayloadFields) -> Result<Payload, String> {
        let p = Payload::build(f)?;
        p.within_limit()?;
        Ok(p)
    }

    /// Refuses a payload longer than `payload_bytes`.
    pub(crate) fn within_limit(&self) -> Result<(), String> {
        let n = self.len() as u64;
        if PAYLOAD_BYTES.exceeded_by(n) {
            return Err(PAYLOAD_BYTES.refuse(format!("this payload is {n} bytes")));
        }
        Ok(())
    }

    fn build(f: PayloadFields) -> Result<Payload, String> {
        let forms = [
            f.text.is_some(),
            f.hex.is_some(),
            f.base64.is_some(),
            f.repeat.is_some(),
            f.repeat_hex.is_some(),
            f.close.is_some(),
            f.concat.is_some(),
            f.sample.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if forms != 1 {
            return Err(format!(
                "a payload mapping needs exactly one of text, hex, base64, repeat, repeat_hex, close, concat, sample (found {forms})"
            ));
        }
        let repeated = f.repeat.is_some() || f.repeat_hex.is_some();
        if let Some(name) = f.sample {
            let kind = PayloadKind::from_name(&name).ok_or_else(|| {
                let names: Vec<&str> = PayloadKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown sample `{name}`; samples are {}", names.join(", "))
            })?;
            let len = f.len.ok_or("`sample` needs `len` (bytes per message)")?;
            return Ok(Payload::Sample { kind, len });
        }
        if f.len.is_some() && !repeated {
            return Err("`len` goes with `repeat`, `repeat_hex` or `sample`".into());
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

    /// The bytes of the `index`-th send of this payload (0 first): only a
    /// sample moves on from send to send.
    pub fn bytes_at(&self, index: usize) -> Vec<u8> {
        match self {
            Payload::Sample { kind, len } => payload_kinds::message(*kind, *len, index),
            other => other.bytes(),
        }
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
            Payload::Repeat { pattern, .. } if pattern.is_empty() => {}
            Payload::Repeat { pattern, len } => {
                // The pattern once, then what is written so far copied after
                // itself: a whole number of patterns each time but the last,
                // so the period holds. A 16 MiB payload is 21 copies rather
                // than millions of pattern-sized ones.
                let start = out.len();
                out.extend_from_slice(&pattern[..pattern.len().min(*len)]);
                while out.len() - start < *len {
                    let have = out.len() - start;
                    out.extend_from_within(start..start + have.min(len - have));
                }
            }
            Payload::Close { code, reason } => {
                if let Some(c) = code {
                    out.extend_from_slice(&c.to_be_bytes());
                }
                reason.write_into(out);
            }
            Payload::Concat(parts) => parts.iter().for_each(|p| p.write_into(out)),
            Payload::Sample { kind, len } => out.extend(payload_kinds::message(*kind, *len, 0)),
        }
    }

    /// Length in bytes, without building them.
    pub fn len(&self) -> usize {
        match self {
            Payload::Empty => 0,
            Payload::Text(t) => t.len(),
            Payload::Bytes(b) => b.len(),
            Payload::Repeat { len, .. } => *len,
            Payload::Close { code, reason } => {
                code.map_or(0usize, |_| 2).saturating_add(reason.len())
            }
            Payload::Concat(parts) => parts.iter().fold(0usize, |n, p| n.saturating_add(p.len())),
            Payload::Sample { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
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

    /// A repeated pattern, built by doubling, is the pattern cycled and cut,
    /// at every length around the pattern's multiples and powers of two,
    /// alone and after other bytes.
    #[test]
    fn repeat_is_the_pattern_cycled() {
        for pattern in [
            &b"x"[..],
            b"ab",
            b"BAsd7&jh23",
            &[0x00, 0xfe, 0x23, 0xfa, 0xf0],
        ] {
            for len in (0..70).chain([127, 128, 129, 1000, 4096, 65535, 65536, 65537]) {
                let want: Vec<u8> = pattern.iter().copied().cycle().take(len).collect();
                let p = Payload::Repeat {
                    pattern: pattern.to_vec(),
                    len,
                };
                assert_eq!(p.bytes(), want, "{pattern:?} × {len}");
                let cat = Payload::Concat(vec![Payload::Text("head".into()), p]);
                assert_eq!(cat.bytes(), [b"head".to_vec(), want].concat());
            }
        }
    }

    /// Every form that can be long is held to `payload_bytes`, by its
    /// length alone: nothing is built (2^40 bytes would abort).
    #[test]
    fn payloads_are_bounded() {
        let limit = PAYLOAD_BYTES.value;
        for form in [
            "{repeat: x, len: LEN}",
            "{repeat_hex: '00', len: LEN}",
            "{sample: json, len: LEN}",
            "{concat: [a, {repeat: x, len: LEN}]}",
            "{close: {code: 1000, reason: {repeat: x, len: LEN}}}",
        ] {
            let at = |len: u64| payload(&form.replace("LEN", &len.to_string()));
            // The largest allowed length, whatever the form adds to it.
            let extra = if form.starts_with("{concat") {
                1
            } else if form.starts_with("{close") {
                2
            } else {
                0
            };
            let fits = at(limit - extra).expect(form);
            assert_eq!(fits.len() as u64, limit, "{form}");
            let e = at(limit - extra + 1).expect_err(form);
            assert_eq!(
                e,
                format!(
                    "this payload is {} bytes, over the limit `payload_bytes` of 67108864 (64 MiB) bytes per payload (see Limits in cases/README.md)",
                    limit + 1
                ),
                "{form}"
            );
            let e = at(1 << 40).expect_err(form);
            assert!(e.contains("`payload_bytes`"), "{form}: {e}");
        }
        // A payload inside a close body's concat counts as a whole, too.
        let e = payload("{concat: [{repeat: x, len: 40000000}, {repeat: x, len: 40000000}]}")
            .expect_err("two halves");
        assert!(e.starts_with("this payload is 80000000 bytes"), "{e}");
    }
}
