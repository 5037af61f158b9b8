//! The examples of RFC 7541 Appendix C, decoded (C.2-C.6, with and without
//! Huffman coding, the dynamic table checked after each block), written
//! again by the encoder's instructions (C.3.1, C.4.1), and arbitrary header
//! lists through the encoder and back.

use proptest::prelude::*;

use super::*;

fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

fn fields(list: &[(&str, &str)]) -> Vec<Field> {
    list.iter().map(|(n, v)| Field::new(n, v)).collect()
}

fn table(decoder: &Decoder) -> (Vec<Field>, usize) {
    (
        decoder.table().entries().cloned().collect(),
        decoder.table().size(),
    )
}

#[test]
fn c_2_field_representations() {
    let mut d = Decoder::new(4096, 65_536);
    let got = d
        .decode(&hex(
            "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
        ))
        .unwrap();
    assert_eq!(got, fields(&[("custom-key", "custom-header")]));
    assert_eq!(table(&d), (got, 55));

    let mut d = Decoder::new(4096, 65_536);
    let got = d
        .decode(&hex("040c 2f73 616d 706c 652f 7061 7468"))
        .unwrap();
    assert_eq!(got, fields(&[(":path", "/sample/path")]));
    assert!(d.table().is_empty());

    let got = d
        .decode(&hex("1008 7061 7373 776f 7264 0673 6563 7265 74"))
        .unwrap();
    assert_eq!(got, fields(&[("password", "secret")]));
    assert!(d.table().is_empty());

    assert_eq!(d.decode(&hex("82")).unwrap(), fields(&[(":method", "GET")]));
    assert!(d.table().is_empty());
}

const REQUESTS: [&[(&str, &str)]; 3] = [
    &[
        (":method", "GET"),
        (":scheme", "http"),
        (":path", "/"),
        (":authority", "www.example.com"),
    ],
    &[
        (":method", "GET"),
        (":scheme", "http"),
        (":path", "/"),
        (":authority", "www.example.com"),
        ("cache-control", "no-cache"),
    ],
    &[
        (":method", "GET"),
        (":scheme", "https"),
        (":path", "/index.html"),
        (":authority", "www.example.com"),
        ("custom-key", "custom-value"),
    ],
];

fn check_requests(blocks: [&str; 3]) {
    let mut d = Decoder::new(4096, 65_536);
    let sizes = [57, 110, 164];
    for ((block, expected), size) in blocks.iter().zip(REQUESTS).zip(sizes) {
        assert_eq!(d.decode(&hex(block)).unwrap(), fields(expected));
        assert_eq!(d.table().size(), size);
    }
    assert_eq!(
        table(&d).0,
        fields(&[
            ("custom-key", "custom-value"),
            ("cache-control", "no-cache"),
            (":authority", "www.example.com"),
        ])
    );
}

#[test]
fn c_3_requests_without_huffman() {
    check_requests([
        "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
        "8286 84be 5808 6e6f 2d63 6163 6865",
        "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
    ]);
}

#[test]
fn c_4_requests_with_huffman() {
    check_requests([
        "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
        "8286 84be 5886 a8eb 1064 9cbf",
        "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
    ]);
}

const RESPONSES: [&[(&str, &str)]; 3] = [
    &[
        (":status", "302"),
        ("cache-control", "private"),
        ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
        ("location", "https://www.example.com"),
    ],
    &[
        (":status", "307"),
        ("cache-control", "private"),
        ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
        ("location", "https://www.example.com"),
    ],
    &[
        (":status", "200"),
        ("cache-control", "private"),
        ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
        ("location", "https://www.example.com"),
        ("content-encoding", "gzip"),
        (
            "set-cookie",
            "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
        ),
    ],
];

/// SETTINGS_HEADER_TABLE_SIZE is 256 in C.5 and C.6, so entries are evicted.
fn check_responses(blocks: [&str; 3]) {
    let mut d = Decoder::new(256, 65_536);
    let tables: [&[(&str, &str)]; 3] = [
        &[
            ("location", "https://www.example.com"),
            ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
            ("cache-control", "private"),
            (":status", "302"),
        ],
        &[
            (":status", "307"),
            ("location", "https://www.example.com"),
            ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
            ("cache-control", "private"),
        ],
        &[
            (
                "set-cookie",
                "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
            ),
            ("content-encoding", "gzip"),
            ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
        ],
    ];
    let sizes = [222, 222, 215];
    for (((block, expected), entries), size) in blocks.iter().zip(RESPONSES).zip(tables).zip(sizes)
    {
        assert_eq!(d.decode(&hex(block)).unwrap(), fields(expected));
        assert_eq!(table(&d), (fields(entries), size));
    }
}

#[test]
fn c_5_responses_without_huffman() {
    check_responses([
        "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
         2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70
         6c65 2e63 6f6d",
        "4803 3330 37c1 c0bf",
        "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
         54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
         5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
         3d31",
    ]);
}

#[test]
fn c_6_responses_with_huffman() {
    check_responses([
        "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
         2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
        "4883 640e ffc1 c0bf",
        "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
         77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
         9587 3160 65c0 03ed 4ee5 b106 3d50 07",
    ]);
}

#[test]
fn the_encoders_instructions_write_c_3_1_and_c_4_1() {
    let instructions = [
        Instruction::Indexed(2),
        Instruction::Indexed(6),
        Instruction::Indexed(4),
        Instruction::Incremental {
            name: Name::Indexed(1),
            value: b"www.example.com".to_vec(),
        },
    ];
    let mut plain = Vec::new();
    Encoder::default().write_all(&instructions, &mut plain);
    assert_eq!(
        plain,
        hex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d")
    );
    let mut coded = Vec::new();
    Encoder {
        static_table: false,
        huffman: true,
    }
    .write_all(&instructions, &mut coded);
    assert_eq!(coded, hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"));
}

#[test]
fn a_malformed_request_roundtrips_exactly() {
    // What h2 refuses to send: a pseudo-field after a regular one, a
    // repeated pseudo-field, uppercase names, connection-specific fields,
    // an empty name, bytes that are not UTF-8.
    let list = vec![
        Field::new("Connection", "Upgrade"),
        Field::new(":method", "CONNECT"),
        Field::new(":protocol", "websocket"),
        Field::new(":method", "GET"),
        Field::new("UPGRADE", "websocket"),
        Field::new("", "empty name"),
        Field::new("x-bytes", [0xff, 0x00, b'\n']),
    ];
    for static_table in [false, true] {
        for huffman in [false, true] {
            let encoder = Encoder {
                static_table,
                huffman,
            };
            let mut d = Decoder::new(4096, 65_536);
            assert_eq!(d.decode(&encoder.block(&list)).unwrap(), list);
            assert!(d.table().is_empty(), "nothing was indexed");
        }
    }
}

fn arbitrary_field() -> impl Strategy<Value = Field> {
    (
        prop::collection::vec(any::<u8>(), 0..40),
        prop::collection::vec(any::<u8>(), 0..200),
    )
        .prop_map(|(name, value)| Field { name, value })
}

proptest! {
    #[test]
    fn any_header_list_roundtrips(
        list in prop::collection::vec(arbitrary_field(), 0..12),
        static_table: bool,
        huffman: bool,
    ) {
        let encoder = Encoder { static_table, huffman };
        let mut d = Decoder::new(4096, 1 << 20);
        prop_assert_eq!(d.decode(&encoder.block(&list)).unwrap(), list);
    }

    #[test]
    fn any_bytes_decode_to_a_value_or_an_error(block in prop::collection::vec(any::<u8>(), 0..300)) {
        let mut d = Decoder::new(4096, 4096);
        if let Ok(list) = d.decode(&block) {
            let size: usize = list.iter().map(|f| f.name.len() + f.value.len() + 32).sum();
            prop_assert!(size <= 4096);
        }
        prop_assert!(d.table().size() <= 4096);
    }
}
