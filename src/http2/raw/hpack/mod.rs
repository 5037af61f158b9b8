//! HPACK (RFC 7541), both ways: the header field type ([`Field`], bytes,
//! not text, since a case may send anything), the errors of decoding
//! ([`HpackError`]), the tables ([`table`]), the Huffman code ([`huffman`]),
//! the stateless encoder that writes fields exactly as given ([`encode`]) and
//! the full, bounded decoder ([`decode`]). The decoder is tested against
//! every example of RFC 7541 Appendix C and with the encoder's output.

pub mod decode;
pub mod encode;
pub mod huffman;
pub mod table;

use std::fmt;

pub use decode::Decoder;
pub use encode::{Encoder, Instruction, Name};
pub use huffman::HuffmanError;

/// One header field, name and value as bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Field {
    pub name: Vec<u8>,
    pub value: Vec<u8>,
}

impl Field {
    pub fn new(name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Field {
        Field {
            name: name.as_ref().to_vec(),
            value: value.as_ref().to_vec(),
        }
    }

    /// The name as text (lossy).
    pub fn name_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.name)
    }

    /// The value as text (lossy).
    pub fn value_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.value)
    }
}

impl fmt::Debug for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {:?}", self.name_str(), self.value_str())
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name_str(), self.value_str())
    }
}

/// Why a header block could not be decoded; `at` is the offset in the block
/// of the representation (or string) at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HpackError {
    #[error("the header block ends inside {what} (byte {at})")]
    Truncated { at: usize, what: &'static str },
    #[error("an integer at byte {at} exceeds 2^32 - 1")]
    IntegerOverflow { at: usize },
    #[error("index 0 at byte {at} (RFC 7541 6.1)")]
    ZeroIndex { at: usize },
    #[error("index {index} at byte {at} is in neither the static table (61 entries) nor the dynamic table ({dynamic} entries)")]
    BadIndex {
        at: usize,
        index: usize,
        dynamic: usize,
    },
    #[error(
        "a dynamic table size update to {size} at byte {at} exceeds the limit {max} (RFC 7541 6.3)"
    )]
    TableSizeTooLarge { at: usize, size: usize, max: usize },
    #[error("a dynamic table size update at byte {at} follows a header field (RFC 7541 4.2)")]
    LateSizeUpdate { at: usize },
    #[error("the header list exceeds {max} bytes at byte {at}")]
    ListTooLarge { at: usize, max: usize },
    #[error("a Huffman-coded string at byte {at}: {source}")]
    Huffman { at: usize, source: HuffmanError },
}

#[cfg(test)]
mod appendix_c;
