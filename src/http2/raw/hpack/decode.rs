//! The HPACK decoder (RFC 7541 3, 5, 6): integers with any prefix, string
//! literals plain or Huffman-coded, all four field representations (indexed;
//! literal with incremental indexing; without indexing; never indexed) and
//! dynamic table size updates, over the static table and a dynamic table
//! kept across header blocks. Everything a peer sends is bounded: a string
//! is never allocated by its declared length before its bytes are there, a
//! header list larger than the limit (counted as RFC 9113 6.5.2 counts it)
//! and a table size above ours are errors, and every error says where in the
//! block it happened. After an error the table is in no defined state (RFC
//! 9113 4.3 makes it a connection error).

use super::huffman;
use super::table::{DynamicTable, ENTRY_OVERHEAD, STATIC};
use super::{Field, HpackError};

/// Decodes header blocks of one direction of one connection.
#[derive(Debug, Clone)]
pub struct Decoder {
    table: DynamicTable,
    /// The most the peer may set its table to: our SETTINGS_HEADER_TABLE_SIZE.
    max_table_size: usize,
    /// The largest decoded header list accepted (name + value + 32 each).
    max_list_size: usize,
}

impl Decoder {
    /// A decoder for a peer allowed a table of `max_table_size` bytes (4096
    /// unless we said otherwise in SETTINGS), refusing header lists over
    /// `max_list_size`.
    pub fn new(max_table_size: usize, max_list_size: usize) -> Decoder {
        Decoder {
            table: DynamicTable::new(max_table_size),
            max_table_size,
            max_list_size,
        }
    }

    /// The dynamic table as it stands.
    pub fn table(&self) -> &DynamicTable {
        &self.table
    }

    /// Our SETTINGS_HEADER_TABLE_SIZE changed: the peer's updates may go up
    /// to it, and a smaller limit shrinks the table at once.
    pub fn set_max_table_size(&mut self, size: usize) {
        self.max_table_size = size;
        if self.table.max_size() > size {
            self.table.set_max_size(size);
        }
    }

    /// Decodes one complete header block (HEADERS plus its CONTINUATIONs).
    pub fn decode(&mut self, block: &[u8]) -> Result<Vec<Field>, HpackError> {
        let mut input = Input { block, at: 0 };
        let mut fields = Vec::new();
        let mut list_size = 0usize;
        while let Some(first) = input.peek() {
            let at = input.at;
            let field = if first & 0x80 != 0 {
                let index = input.integer(7)?;
                self.lookup(index, at)?
            } else if first & 0xc0 == 0x40 {
                let field = self.literal(&mut input, 6)?;
                self.table.insert(field.clone());
                field
            } else if first & 0xe0 == 0x20 {
                let size = input.integer(5)?;
                if !fields.is_empty() {
                    return Err(HpackError::LateSizeUpdate { at });
                }
                if size > self.max_table_size {
                    return Err(HpackError::TableSizeTooLarge {
                        at,
                        size,
                        max: self.max_table_size,
                    });
                }
                self.table.set_max_size(size);
                continue;
            } else {
                // 0000xxxx without indexing, 0001xxxx never indexed.
                self.literal(&mut input, 4)?
            };
            list_size = list_size
                .saturating_add(field.name.len())
                .saturating_add(field.value.len())
                .saturating_add(ENTRY_OVERHEAD);
            if list_size > self.max_list_size {
                return Err(HpackError::ListTooLarge {
                    at,
                    max: self.max_list_size,
                });
            }
            fields.push(field);
        }
        Ok(fields)
    }

    fn lookup(&self, index: usize, at: usize) -> Result<Field, HpackError> {
        if index == 0 {
            return Err(HpackError::ZeroIndex { at });
        }
        if let Some((name, value)) = STATIC.get(index - 1) {
            return Ok(Field::new(*name, *value));
        }
        self.table
            .get(index - STATIC.len() - 1)
            .cloned()
            .ok_or(HpackError::BadIndex {
                at,
                index,
                dynamic: self.table.len(),
            })
    }

    /// A literal representation whose name index has a `prefix`-bit prefix.
    fn literal(&self, input: &mut Input<'_>, prefix: u8) -> Result<Field, HpackError> {
        let at = input.at;
        let index = input.integer(prefix)?;
        let name = if index == 0 {
            input.string(self.max_list_size)?
        } else {
            self.lookup(index, at)?.name
        };
        let value = input.string(self.max_list_size)?;
        Ok(Field { name, value })
    }
}

/// A header block being read, with the offset for errors.
struct Input<'a> {
    block: &'a [u8],
    at: usize,
}

impl Input<'_> {
    fn peek(&self) -> Option<u8> {
        self.block.get(self.at).copied()
    }

    fn byte(&mut self, what: &'static str) -> Result<u8, HpackError> {
        let byte = self
            .peek()
            .ok_or(HpackError::Truncated { at: self.at, what })?;
        self.at += 1;
        Ok(byte)
    }

    /// An integer with an N-bit prefix (RFC 7541 5.1), at most `u32::MAX`.
    fn integer(&mut self, prefix: u8) -> Result<usize, HpackError> {
        let start = self.at;
        let mask = ((1u16 << prefix) - 1) as u8;
        let first = self.byte("an integer")? & mask;
        if first < mask {
            return Ok(usize::from(first));
        }
        let mut value = u64::from(mask);
        let mut shift = 0u32;
        loop {
            let byte = self.byte("an integer")?;
            value += u64::from(byte & 0x7f) << shift;
            if value > u64::from(u32::MAX) {
                return Err(HpackError::IntegerOverflow { at: start });
            }
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
            if shift > 28 {
                return Err(HpackError::IntegerOverflow { at: start });
            }
        }
        usize::try_from(value).map_err(|_| HpackError::IntegerOverflow { at: start })
    }

    /// A string literal (RFC 7541 5.2), refused above `limit` bytes.
    fn string(&mut self, limit: usize) -> Result<Vec<u8>, HpackError> {
        let at = self.at;
        let huffman = self.peek().is_some_and(|b| b & 0x80 != 0);
        let len = self.integer(7)?;
        let end = self
            .at
            .checked_add(len)
            .filter(|end| *end <= self.block.len())
            .ok_or(HpackError::Truncated {
                at,
                what: "a string literal",
            })?;
        let raw = &self.block[self.at..end];
        self.at = end;
        if !huffman {
            if raw.len() > limit {
                return Err(HpackError::ListTooLarge { at, max: limit });
            }
            return Ok(raw.to_vec());
        }
        let mut out = Vec::new();
        huffman::decode(raw, &mut out).map_err(|source| HpackError::Huffman { at, source })?;
        if out.len() > limit {
            return Err(HpackError::ListTooLarge { at, max: limit });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoder() -> Decoder {
        Decoder::new(4096, 16 * 1024)
    }

    #[test]
    fn integers_of_rfc_7541_c_1() {
        let mut input = Input {
            block: &[0b0000_1010],
            at: 0,
        };
        assert_eq!(input.integer(5).unwrap(), 10);
        let mut input = Input {
            block: &[0b0001_1111, 0b1001_1010, 0b0000_1010],
            at: 0,
        };
        assert_eq!(input.integer(5).unwrap(), 1337);
        assert_eq!(input.at, 3);
        let mut input = Input {
            block: &[42],
            at: 0,
        };
        assert_eq!(input.integer(8).unwrap(), 42);
    }

    #[test]
    fn integer_overflow_and_truncation_are_errors() {
        let mut input = Input {
            block: &[0x7f, 0xff, 0xff, 0xff, 0xff, 0x7f],
            at: 0,
        };
        assert_eq!(input.integer(7), Err(HpackError::IntegerOverflow { at: 0 }));
        // Endless continuation bytes of zero are refused too.
        let mut input = Input {
            block: &[0x7f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
            at: 0,
        };
        assert_eq!(input.integer(7), Err(HpackError::IntegerOverflow { at: 0 }));
        let mut input = Input {
            block: &[0x7f, 0x80],
            at: 0,
        };
        assert!(matches!(
            input.integer(7),
            Err(HpackError::Truncated { at: 2, .. })
        ));
    }

    #[test]
    fn a_string_longer_than_the_block_is_an_error_not_an_allocation() {
        // Literal new name declaring 31 MiB.
        let block = [0x00, 0x7f, 0xff, 0xff, 0xff, 0x0f];
        let error = decoder().decode(&block).unwrap_err();
        assert!(
            matches!(error, HpackError::Truncated { at: 1, .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("string literal"));
    }

    #[test]
    fn bad_indices() {
        assert_eq!(
            decoder().decode(&[0x80]),
            Err(HpackError::ZeroIndex { at: 0 })
        );
        assert_eq!(
            decoder().decode(&[0x82, 0xbe]),
            Err(HpackError::BadIndex {
                at: 1,
                index: 62,
                dynamic: 0
            })
        );
        // A literal whose indexed name is not there.
        assert!(matches!(
            decoder().decode(&[0x0f, 0x30, 0x00]),
            Err(HpackError::BadIndex { index: 63, .. })
        ));
    }

    #[test]
    fn size_updates() {
        let mut d = decoder();
        // Two updates at the start are fine (RFC 7541 4.2).
        assert_eq!(d.decode(&[0x20, 0x3f, 0x61, 0x82]).unwrap().len(), 1);
        // 0x3f 0x61: 31 + 97.
        assert_eq!(d.table().max_size(), 128);
        assert_eq!(
            d.decode(&[0x82, 0x20]),
            Err(HpackError::LateSizeUpdate { at: 1 })
        );
        // Above our SETTINGS_HEADER_TABLE_SIZE.
        let error = d.decode(&[0x3f, 0xe2, 0x1f]).unwrap_err();
        assert_eq!(
            error,
            HpackError::TableSizeTooLarge {
                at: 0,
                size: 4097,
                max: 4096
            }
        );
        d.set_max_table_size(0);
        assert_eq!(d.table().max_size(), 0);
    }

    #[test]
    fn header_list_limit() {
        let mut d = Decoder::new(4096, 100);
        // Two fields of 34 and 35 bytes (with the 32 overhead) fit ...
        let block = [0x00, 1, b'a', 1, b'1', 0x00, 1, b'b', 2, b'2', b'2'];
        assert_eq!(d.decode(&block).unwrap().len(), 2);
        // ... a third does not.
        let mut three = block.to_vec();
        three.extend_from_slice(&[0x00, 1, b'c', 1, b'3']);
        assert_eq!(
            d.decode(&three),
            Err(HpackError::ListTooLarge { at: 11, max: 100 })
        );
        // Neither does one long value.
        let mut long = vec![0x00, 1, b'a', 101];
        long.extend(std::iter::repeat_n(b'x', 101));
        assert!(matches!(
            d.decode(&long),
            Err(HpackError::ListTooLarge { .. })
        ));
    }

    #[test]
    fn never_indexed_and_without_indexing_leave_the_table_alone() {
        let mut d = decoder();
        let block = [0x10, 1, b'k', 1, b'v', 0x04, 1, b'/'];
        let fields = d.decode(&block).unwrap();
        assert_eq!(fields, vec![Field::new("k", "v"), Field::new(":path", "/")]);
        assert!(d.table().is_empty());
    }
}
