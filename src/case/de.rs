//! A serde `Deserializer` over located YAML nodes. Every error leaves here with
//! the position of the node it concerns: a bad value points at the value, an
//! unknown field at its key, a missing field at the mapping that lacks it.

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::yaml::{Loc, Node, NodeKind};

/// A deserialization error, located once it has passed a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeError {
    pub message: String,
    pub loc: Option<Loc>,
}

impl std::fmt::Display for DeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        DeError {
            message: msg.to_string(),
            loc: None,
        }
    }
}

fn at<T>(loc: Loc, r: Result<T, DeError>) -> Result<T, DeError> {
    r.map_err(|mut e| {
        e.loc.get_or_insert(loc);
        e
    })
}

/// Deserializes `T` from a node.
pub fn from_node<'de, T: de::Deserialize<'de>>(node: &Node) -> Result<T, DeError> {
    at(node.loc, T::deserialize(NodeDe(node)))
}

/// The deserializer for one node.
pub struct NodeDe<'a>(pub &'a Node);

impl NodeDe<'_> {
    fn scalar(&self) -> Result<(&str, bool), DeError> {
        match &self.0.kind {
            NodeKind::Scalar { value, plain } => Ok((value, *plain)),
            _ => Err(DeError {
                message: format!("expected a single value, found {}", self.0.kind_name()),
                loc: Some(self.0.loc),
            }),
        }
    }

    fn parse_num<T: std::str::FromStr>(&self, what: &str) -> Result<T, DeError> {
        let (s, _) = self.scalar()?;
        let t = s.trim().replace('_', "");
        let parsed = if let Some(hex) = t.strip_prefix("0x") {
            u64::from_str_radix(hex, 16)
                .ok()
                .and_then(|v| v.to_string().parse().ok())
        } else {
            t.parse().ok()
        };
        parsed.ok_or_else(|| DeError {
            message: format!("expected {what}, found `{s}`"),
            loc: Some(self.0.loc),
        })
    }
}

macro_rules! num {
    ($method:ident, $visit:ident, $ty:ty, $what:expr) => {
        fn $method<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
            let n: $ty = self.parse_num($what)?;
            at(self.0.loc, v.$visit(n))
        }
    };
}

impl<'de> de::Deserializer<'de> for NodeDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let loc = self.0.loc;
        let r = match &self.0.kind {
            NodeKind::Scalar { value, plain } => {
                if *plain {
                    if self.0.is_null() {
                        v.visit_unit()
                    } else if value == "true" {
                        v.visit_bool(true)
                    } else if value == "false" {
                        v.visit_bool(false)
                    } else if let Some(n) = value
                        .parse::<u64>()
                        .ok()
                        .filter(|n| n.to_string() == *value)
                    {
                        v.visit_u64(n)
                    } else if let Some(n) = value
                        .parse::<i64>()
                        .ok()
                        .filter(|n| n.to_string() == *value)
                    {
                        v.visit_i64(n)
                    } else {
                        v.visit_str(value)
                    }
                } else {
                    v.visit_str(value)
                }
            }
            NodeKind::Seq(items) => v.visit_seq(Seq(items.iter())),
            NodeKind::Map(entries) => v.visit_map(Map {
                entries: entries.iter(),
                value: None,
            }),
        };
        at(loc, r)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let (s, _) = self.scalar()?;
        let b = match s {
            "true" => true,
            "false" => false,
            _ => {
                return Err(DeError {
                    message: format!("expected true or false, found `{s}`"),
                    loc: Some(self.0.loc),
                })
            }
        };
        at(self.0.loc, v.visit_bool(b))
    }

    num!(deserialize_u8, visit_u8, u8, "an integer from 0 to 255");
    num!(
        deserialize_u16,
        visit_u16,
        u16,
        "an integer from 0 to 65535"
    );
    num!(deserialize_u32, visit_u32, u32, "a non-negative integer");
    num!(deserialize_u64, visit_u64, u64, "a non-negative integer");
    num!(deserialize_i8, visit_i8, i8, "an integer");
    num!(deserialize_i16, visit_i16, i16, "an integer");
    num!(deserialize_i32, visit_i32, i32, "an integer");
    num!(deserialize_i64, visit_i64, i64, "an integer");
    num!(deserialize_f32, visit_f32, f32, "a number");
    num!(deserialize_f64, visit_f64, f64, "a number");

    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let (s, _) = self.scalar()?;
        at(self.0.loc, v.visit_str(s))
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        if self.0.is_null() {
            at(self.0.loc, v.visit_none())
        } else {
            at(self.0.loc, v.visit_some(self))
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        if self.0.is_null() {
            at(self.0.loc, v.visit_unit())
        } else {
            Err(DeError {
                message: format!("expected nothing (null), found {}", self.0.kind_name()),
                loc: Some(self.0.loc),
            })
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(v)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, DeError> {
        let loc = self.0.loc;
        at(loc, v.visit_newtype_struct(self))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.0.kind {
            NodeKind::Seq(items) => at(self.0.loc, v.visit_seq(Seq(items.iter()))),
            _ => Err(DeError {
                message: format!("expected a list, found {}", self.0.kind_name()),
                loc: Some(self.0.loc),
            }),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, DeError> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        v: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.0.kind {
            NodeKind::Map(entries) => at(
                self.0.loc,
                v.visit_map(Map {
                    entries: entries.iter(),
                    value: None,
                }),
            ),
            _ => Err(DeError {
                message: format!("expected a mapping, found {}", self.0.kind_name()),
                loc: Some(self.0.loc),
            }),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_map(v)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        let loc = self.0.loc;
        match &self.0.kind {
            NodeKind::Scalar { value, .. } => {
                at(loc, v.visit_enum(value.as_str().into_deserializer()))
            }
            NodeKind::Map(entries) if entries.len() == 1 => {
                let (key, value) = &entries[0];
                at(loc, v.visit_enum(Enum { key, value }))
            }
            _ => Err(DeError {
                message: format!(
                    "expected one of {} (a name, or a mapping with that single key), found {}",
                    list(variants),
                    self.0.kind_name()
                ),
                loc: Some(loc),
            }),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        v.visit_unit()
    }
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

struct Seq<'a>(std::slice::Iter<'a, Node>);

impl<'de> de::SeqAccess<'de> for Seq<'_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.0.next() {
            Some(node) => at(node.loc, seed.deserialize(NodeDe(node))).map(Some),
            None => Ok(None),
        }
    }
}

struct Map<'a> {
    entries: std::slice::Iter<'a, (Node, Node)>,
    value: Option<&'a Node>,
}

impl<'de> de::MapAccess<'de> for Map<'_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.entries.next() {
            Some((k, v)) => {
                self.value = Some(v);
                at(k.loc, seed.deserialize(NodeDe(k))).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        match self.value.take() {
            Some(node) => at(node.loc, seed.deserialize(NodeDe(node))),
            None => Err(de::Error::custom("value requested before key")),
        }
    }
}

struct Enum<'a> {
    key: &'a Node,
    value: &'a Node,
}

impl<'de, 'a> de::EnumAccess<'de> for Enum<'a> {
    type Error = DeError;
    type Variant = Variant<'a>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Variant<'a>), DeError> {
        let name = at(self.key.loc, seed.deserialize(NodeDe(self.key)))?;
        Ok((name, Variant(self.value)))
    }
}

struct Variant<'a>(&'a Node);

impl<'de> de::VariantAccess<'de> for Variant<'_> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        if self.0.is_null() {
            Ok(())
        } else {
            Err(DeError {
                message: "this step takes no value".into(),
                loc: Some(self.0.loc),
            })
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        at(self.0.loc, seed.deserialize(NodeDe(self.0)))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, v: V) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_tuple(NodeDe(self.0), len, v)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_struct(NodeDe(self.0), "", fields, v)
    }
}

#[cfg(test)]
mod tests {
    use super::super::yaml::parse;
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct S {
        id: String,
        n: u8,
        #[serde(default)]
        list: Vec<E>,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum E {
        Drop,
        Pause(u32),
    }

    fn err(src: &str) -> DeError {
        from_node::<S>(&parse(src).unwrap()).unwrap_err()
    }

    #[test]
    fn good() {
        let s: S = from_node(&parse("id: a\nn: 3\nlist: [drop, {pause: 5}]\n").unwrap()).unwrap();
        assert_eq!(s.list, vec![E::Drop, E::Pause(5)]);
    }

    #[test]
    fn errors_are_located() {
        let e = err("id: a\nn: 300\n");
        assert_eq!(e.loc, Some(Loc { line: 2, col: 4 }));
        assert!(e.message.contains("0 to 255"), "{}", e.message);
        let e = err("id: a\nn: 3\nbogus: 1\n");
        assert_eq!(e.loc, Some(Loc { line: 3, col: 1 }));
        assert!(e.message.contains("unknown field `bogus`"), "{}", e.message);
        let e = err("\nn: 3\n");
        assert_eq!(e.loc, Some(Loc { line: 2, col: 1 }));
        assert!(e.message.contains("missing field `id`"), "{}", e.message);
        let e = err("id: a\nn: 1\nlist:\n  - drop\n  - {pause: x}\n");
        assert_eq!(e.loc, Some(Loc { line: 5, col: 13 }));
        let e = err("id: a\nn: 1\nlist:\n  - jump\n");
        assert_eq!(e.loc, Some(Loc { line: 4, col: 5 }));
        assert!(
            e.message.contains("unknown variant `jump`"),
            "{}",
            e.message
        );
        assert_eq!(e.to_string(), e.message, "an error reads as its message");
    }

    #[test]
    fn plain_scalars_by_shape() {
        let v = |src: &str| from_node::<serde_json::Value>(&parse(src).unwrap()).unwrap();
        assert_eq!(
            v("[5, -5, 05, -05, 1.5, true, false, ~, 'true', x, 18446744073709551615]"),
            serde_json::json!([
                5,
                -5,
                "05",
                "-05",
                "1.5",
                true,
                false,
                null,
                "true",
                "x",
                18446744073709551615u64
            ])
        );
    }

    #[test]
    fn enum_shapes() {
        // A list or a mapping of two keys is no variant: the message lists them.
        for (src, line) in [
            ("id: a\nn: 1\nlist:\n  - [drop]\n", 4),
            ("id: a\nn: 1\nlist:\n  - {drop: ~, pause: 5}\n", 4),
        ] {
            let e = err(src);
            assert_eq!(e.loc.map(|l| l.line), Some(line), "{src}");
            assert!(
                e.message.starts_with(
                    "expected one of `drop`, `pause` (a name, or a mapping with that single key), found a"
                ),
                "{src}: {}",
                e.message
            );
        }
        // A unit variant written as a mapping takes no value but null.
        let s: S = from_node(&parse("id: a\nn: 1\nlist: [{drop: ~}]\n").unwrap()).unwrap();
        assert_eq!(s.list, vec![E::Drop]);
        let e = err("id: a\nn: 1\nlist: [{drop: 5}]\n");
        assert_eq!(e.message, "this step takes no value");
        assert_eq!(e.loc, Some(Loc { line: 3, col: 15 }));
    }
}
