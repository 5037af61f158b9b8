//! HPACK's Huffman code (RFC 7541 5.2 and Appendix B). The code is
//! canonical, so the table is kept as what the RFC's table determines it
//! by, the code length of each of the 257 symbols; the codes themselves
//! follow (shorter codes first, equal lengths in symbol order) and the tests
//! check them against the RFC's hexadecimal column. Decoding enforces 5.2's
//! rules on the end of a string: padding of at most 7 bits, all ones, and
//! no EOS symbol.

/// The end-of-string symbol.
const EOS: usize = 256;

/// Code length in bits of symbols 0..=255 and EOS (RFC 7541 Appendix B).
#[rustfmt::skip]
const LENGTHS: [u8; 257] = [
    // 0-31: control characters
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
    28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
    // 32-63: ' ' ! " # $ % & ' ( ) * + , - . / 0-9 : ; < = > ?
    6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
    5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
    // 64-95: @ A-Z [ \ ] ^ _
    13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
    // 96-127: ` a-z { | } ~ DEL
    15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
    6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
    // 128-159
    20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
    24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
    // 160-191
    22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
    21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
    // 192-223
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
    19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
    // 224-255
    20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
    26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
    // EOS
    30,
];

const MIN_LEN: usize = 5;
const MAX_LEN: usize = 30;

/// The canonical code tables, computed from [`LENGTHS`] at compile time.
struct Tables {
    /// Each symbol's code, right-aligned.
    codes: [u32; 257],
    /// Symbols ordered by (length, symbol).
    sorted: [u16; 257],
    /// For each length: the first code of that length.
    first_code: [u32; MAX_LEN + 1],
    /// For each length: how many codes have it.
    count: [u32; MAX_LEN + 1],
    /// For each length: where its symbols start in `sorted`.
    first_index: [u32; MAX_LEN + 1],
}

const fn build() -> Tables {
    let mut t = Tables {
        codes: [0; 257],
        sorted: [0; 257],
        first_code: [0; MAX_LEN + 1],
        count: [0; MAX_LEN + 1],
        first_index: [0; MAX_LEN + 1],
    };
    let mut code: u32 = 0;
    let mut index: u32 = 0;
    let mut len = MIN_LEN;
    while len <= MAX_LEN {
        t.first_code[len] = code;
        t.first_index[len] = index;
        let mut sym = 0;
        while sym < 257 {
            if LENGTHS[sym] as usize == len {
                t.codes[sym] = code;
                t.sorted[index as usize] = sym as u16;
                code += 1;
                index += 1;
                t.count[len] += 1;
            }
            sym += 1;
        }
        code <<= 1;
        len += 1;
    }
    t
}

static TABLES: Tables = build();

/// Why a Huffman-coded string could not be decoded (RFC 7541 5.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HuffmanError {
    #[error("the Huffman-coded string contains the EOS symbol")]
    Eos,
    #[error("the Huffman-coded string ends in {bits} bits of padding (at most 7 allowed)")]
    PaddingTooLong { bits: usize },
    #[error(
        "the Huffman-coded string's padding is not the most significant bits of EOS (all ones)"
    )]
    PaddingNotOnes,
}

/// Decodes a Huffman-coded string, appending to `out`. Output is at most
/// 8/5 of the input's length, so it is bounded by what was received.
pub fn decode(input: &[u8], out: &mut Vec<u8>) -> Result<(), HuffmanError> {
    let mut code: u32 = 0;
    let mut len: usize = 0;
    for &byte in input {
        for shift in (0..8).rev() {
            code = (code << 1) | u32::from((byte >> shift) & 1);
            len += 1;
            if len < MIN_LEN {
                continue;
            }
            let offset = code.wrapping_sub(TABLES.first_code[len]);
            if code >= TABLES.first_code[len] && offset < TABLES.count[len] {
                let symbol = TABLES.sorted[(TABLES.first_index[len] + offset) as usize];
                if usize::from(symbol) == EOS {
                    return Err(HuffmanError::Eos);
                }
                out.push(symbol as u8);
                code = 0;
                len = 0;
            } else if len >= MAX_LEN {
                // Every 30-bit string is a code or the prefix of none left:
                // the all-ones 30 bits are EOS, caught above. Unreachable
                // for a complete code, kept as an error rather than a panic.
                return Err(HuffmanError::Eos);
            }
        }
    }
    if len > 7 {
        return Err(HuffmanError::PaddingTooLong { bits: len });
    }
    if code != (1u32 << len) - 1 {
        return Err(HuffmanError::PaddingNotOnes);
    }
    Ok(())
}

/// Huffman-codes `input`, padding the last byte with ones.
pub fn encode(input: &[u8], out: &mut Vec<u8>) {
    let mut acc: u64 = 0;
    let mut bits: u32 = 0;
    for &byte in input {
        let sym = usize::from(byte);
        let len = u32::from(LENGTHS[sym]);
        acc = (acc << len) | u64::from(TABLES.codes[sym]);
        bits += len;
        while bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
        acc &= (1u64 << bits) - 1;
    }
    if bits > 0 {
        let pad = 8 - bits;
        out.push(((acc << pad) | ((1u64 << pad) - 1)) as u8);
    }
}

/// Length in bytes of `input` Huffman-coded.
pub fn encoded_len(input: &[u8]) -> usize {
    let bits: usize = input
        .iter()
        .map(|&b| usize::from(LENGTHS[usize::from(b)]))
        .sum();
    bits.div_ceil(8)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (symbol, code as hex aligned to LSB, length) rows of RFC 7541
    /// Appendix B, at least one of every length.
    const ROWS: &[(usize, u32, u8)] = &[
        (0, 0x1ff8, 13),
        (1, 0x7fffd8, 23),
        (2, 0xfffffe2, 28),
        (9, 0xffffea, 24),
        (10, 0x3ffffffc, 30),
        (13, 0x3ffffffd, 30),
        (22, 0x3ffffffe, 30),
        (31, 0xffffffb, 28),
        (32, 0x14, 6),
        (33, 0x3f8, 10),
        (35, 0xffa, 12),
        (36, 0x1ff9, 13),
        (38, 0xf8, 8),
        (39, 0x7fa, 11),
        (47, 0x18, 6),
        (48, 0x0, 5),
        (58, 0x5c, 7),
        (60, 0x7ffc, 15),
        (62, 0xffb, 12),
        (63, 0x3fc, 10),
        (90, 0xfd, 8),
        (92, 0x7fff0, 19),
        (94, 0x3ffc, 14),
        (96, 0x7ffd, 15),
        (116, 0x9, 5),
        (122, 0x7b, 7),
        (124, 0x7fc, 11),
        (126, 0x1ffd, 13),
        (127, 0xffffffc, 28),
        (128, 0xfffe6, 20),
        (129, 0x3fffd2, 22),
        (135, 0x7fffd9, 23),
        (153, 0x1fffdc, 21),
        (176, 0x1fffe0, 21),
        (192, 0x3ffffe0, 26),
        (195, 0x7fff1, 19),
        (199, 0x1ffffec, 25),
        (203, 0x7ffffde, 27),
        (208, 0x7fff2, 19),
        (220, 0xffffffd, 28),
        (224, 0xfffec, 20),
        (231, 0x7ffff3, 23),
        (236, 0xfffff4, 24),
        (241, 0x7ffffe6, 27),
        (249, 0xffffffe, 28),
        (254, 0x7fffff0, 27),
        (255, 0x3ffffee, 26),
        (256, 0x3fffffff, 30),
    ];

    #[test]
    fn codes_match_the_rfc_table() {
        for &(sym, code, len) in ROWS {
            assert_eq!(LENGTHS[sym], len, "length of symbol {sym}");
            assert_eq!(TABLES.codes[sym], code, "code of symbol {sym}");
        }
    }

    #[test]
    fn the_code_is_complete() {
        // Kraft's sum of a complete prefix code is exactly 1.
        let sum: u64 = LENGTHS
            .iter()
            .map(|&l| 1u64 << (MAX_LEN - l as usize))
            .sum();
        assert_eq!(sum, 1u64 << MAX_LEN);
        assert_eq!(TABLES.codes[EOS], (1 << 30) - 1, "EOS is the last code");
    }

    #[test]
    fn every_byte_roundtrips() {
        let all: Vec<u8> = (0..=255).collect();
        let mut coded = Vec::new();
        encode(&all, &mut coded);
        assert_eq!(coded.len(), encoded_len(&all));
        let mut back = Vec::new();
        decode(&coded, &mut back).unwrap();
        assert_eq!(back, all);
    }

    #[test]
    fn rfc_examples() {
        let mut coded = Vec::new();
        encode(b"www.example.com", &mut coded);
        assert_eq!(
            coded,
            [0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff]
        );
        let mut out = Vec::new();
        decode(&[0xa8, 0xeb, 0x10, 0x64, 0x9c, 0xbf], &mut out).unwrap();
        assert_eq!(out, b"no-cache");
    }

    #[test]
    fn end_of_string_rules() {
        let mut out = Vec::new();
        // '0' is 00000: three 1 bits of padding are fine.
        assert_eq!(decode(&[0b0000_0111], &mut out), Ok(()));
        assert_eq!(out, b"0");
        // Padding of zeros.
        assert_eq!(
            decode(&[0b0000_0000], &mut out),
            Err(HuffmanError::PaddingNotOnes)
        );
        // A whole byte of ones is 8 bits of padding.
        assert_eq!(
            decode(&[0xff], &mut out),
            Err(HuffmanError::PaddingTooLong { bits: 8 })
        );
        // EOS itself (30 ones) followed by 2 padding bits.
        assert_eq!(
            decode(&[0xff, 0xff, 0xff, 0xff], &mut out),
            Err(HuffmanError::Eos)
        );
        // Empty input is the empty string.
        let mut empty = Vec::new();
        assert_eq!(decode(&[], &mut empty), Ok(()));
        assert!(empty.is_empty());
    }
}
