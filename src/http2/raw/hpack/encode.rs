//! The HPACK encoder (RFC 7541 5, 6): writes any header list exactly as
//! given (names and values byte for byte, in order, pseudo-header fields
//! anywhere, uppercase names, empty names, repeated fields), which is how a
//! case writes a malformed request. It never adds to the peer's dynamic
//! table unless asked to with an [`Instruction`], so it keeps no state: each
//! field is a literal without indexing (a new name, or a static table name
//! when `static_table` is on, an exact static entry then being indexed), its
//! strings plain or Huffman-coded. [`Instruction`]s write any
//! representation with any index, size updates included.

use super::table::STATIC;
use super::{huffman, Field};

/// How [`Encoder::encode`] writes fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Encoder {
    /// Use the static table: an exact entry is indexed (6.1), a known name
    /// is referred to by index (6.2.2). Off: every name is a literal.
    pub static_table: bool,
    /// Huffman-code every string (5.2).
    pub huffman: bool,
}

/// A name in a literal representation: an index, or the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Name {
    Indexed(usize),
    Literal(Vec<u8>),
}

/// One representation of RFC 7541 6, written as given (any index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instruction {
    /// 6.1: an indexed field.
    Indexed(usize),
    /// 6.2.1: a literal added to the dynamic table.
    Incremental { name: Name, value: Vec<u8> },
    /// 6.2.2: a literal not added.
    WithoutIndexing { name: Name, value: Vec<u8> },
    /// 6.2.3: a literal never to be indexed.
    NeverIndexed { name: Name, value: Vec<u8> },
    /// 6.3: a dynamic table size update.
    SizeUpdate(usize),
}

impl Encoder {
    /// Appends the header block for `fields` to `out`.
    pub fn encode(&self, fields: &[Field], out: &mut Vec<u8>) {
        for field in fields {
            let instruction = self.instruction(field);
            self.write(&instruction, out);
        }
    }

    /// The header block for `fields`.
    pub fn block(&self, fields: &[Field]) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(fields, &mut out);
        out
    }

    /// Appends `instructions`, strings coded as this encoder codes them.
    pub fn write_all(&self, instructions: &[Instruction], out: &mut Vec<u8>) {
        for instruction in instructions {
            self.write(instruction, out);
        }
    }

    fn instruction(&self, field: &Field) -> Instruction {
        let value = field.value.clone();
        if !self.static_table {
            return Instruction::WithoutIndexing {
                name: Name::Literal(field.name.clone()),
                value,
            };
        }
        let exact = STATIC.iter().position(|(n, v)| {
            n.as_bytes() == field.name.as_slice() && v.as_bytes() == field.value.as_slice()
        });
        if let Some(i) = exact {
            return Instruction::Indexed(i + 1);
        }
        let name = match STATIC
            .iter()
            .position(|(n, _)| n.as_bytes() == field.name.as_slice())
        {
            Some(i) => Name::Indexed(i + 1),
            None => Name::Literal(field.name.clone()),
        };
        Instruction::WithoutIndexing { name, value }
    }

    fn write(&self, instruction: &Instruction, out: &mut Vec<u8>) {
        match instruction {
            Instruction::Indexed(index) => integer(*index, 7, 0x80, out),
            Instruction::Incremental { name, value } => self.literal(name, value, 6, 0x40, out),
            Instruction::WithoutIndexing { name, value } => self.literal(name, value, 4, 0, out),
            Instruction::NeverIndexed { name, value } => self.literal(name, value, 4, 0x10, out),
            Instruction::SizeUpdate(size) => integer(*size, 5, 0x20, out),
        }
    }

    fn literal(&self, name: &Name, value: &[u8], prefix: u8, pattern: u8, out: &mut Vec<u8>) {
        match name {
            Name::Indexed(index) => integer(*index, prefix, pattern, out),
            Name::Literal(bytes) => {
                out.push(pattern);
                string(bytes, self.huffman, out);
            }
        }
        string(value, self.huffman, out);
    }
}

/// Writes `value` with an N-bit prefix (RFC 7541 5.1), the bits above the
/// prefix in the first byte taken from `pattern`.
pub fn integer(value: usize, prefix: u8, pattern: u8, out: &mut Vec<u8>) {
    let max = (1usize << prefix) - 1;
    if value < max {
        out.push(pattern | value as u8);
        return;
    }
    out.push(pattern | max as u8);
    let mut rest = value - max;
    while rest >= 128 {
        out.push((rest % 128) as u8 | 0x80);
        rest /= 128;
    }
    out.push(rest as u8);
}

/// Writes a string literal (RFC 7541 5.2).
pub fn string(bytes: &[u8], huffman: bool, out: &mut Vec<u8>) {
    if huffman {
        integer(huffman::encoded_len(bytes), 7, 0x80, out);
        huffman::encode(bytes, out);
    } else {
        integer(bytes.len(), 7, 0, out);
        out.extend_from_slice(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_of_rfc_7541_c_1() {
        let mut out = Vec::new();
        integer(10, 5, 0xe0, &mut out);
        assert_eq!(out, [0xea]);
        out.clear();
        integer(1337, 5, 0, &mut out);
        assert_eq!(out, [0x1f, 0x9a, 0x0a]);
        out.clear();
        integer(42, 8, 0, &mut out);
        assert_eq!(out, [42]);
        out.clear();
        integer(31, 5, 0, &mut out);
        assert_eq!(
            out,
            [0x1f, 0x00],
            "the prefix's maximum needs a second byte"
        );
    }

    #[test]
    fn the_default_writes_literal_new_names_byte_for_byte() {
        let fields = [
            Field::new("Connection", "Upgrade"),
            Field::new(":method", "CONNECT"),
        ];
        let block = Encoder::default().block(&fields);
        let mut expected = vec![0x00, 10];
        expected.extend_from_slice(b"Connection");
        expected.push(7);
        expected.extend_from_slice(b"Upgrade");
        expected.extend_from_slice(&[0x00, 7]);
        expected.extend_from_slice(b":method");
        expected.push(7);
        expected.extend_from_slice(b"CONNECT");
        assert_eq!(block, expected);
    }

    #[test]
    fn the_static_table_when_asked() {
        let encoder = Encoder {
            static_table: true,
            huffman: false,
        };
        let block = encoder.block(&[
            Field::new(":method", "GET"),
            Field::new(":path", "/chat"),
            Field::new(":PATH", "/"),
        ]);
        let mut expected = vec![0x82, 0x04, 5];
        expected.extend_from_slice(b"/chat");
        expected.extend_from_slice(&[0x00, 5]);
        expected.extend_from_slice(b":PATH");
        expected.extend_from_slice(&[1, b'/']);
        assert_eq!(block, expected, "an uppercase name is not the static one");
    }

    #[test]
    fn instructions_are_written_as_given() {
        let mut out = Vec::new();
        Encoder::default().write_all(
            &[
                Instruction::SizeUpdate(0),
                Instruction::Indexed(70),
                Instruction::Incremental {
                    name: Name::Indexed(1),
                    value: b"a".to_vec(),
                },
                Instruction::NeverIndexed {
                    name: Name::Literal(b"k".to_vec()),
                    value: vec![],
                },
                Instruction::WithoutIndexing {
                    name: Name::Indexed(20),
                    value: b"v".to_vec(),
                },
            ],
            &mut out,
        );
        assert_eq!(
            out,
            [0x20, 0xc6, 0x41, 1, b'a', 0x10, 1, b'k', 0, 0x0f, 0x05, 1, b'v']
        );
    }
}
