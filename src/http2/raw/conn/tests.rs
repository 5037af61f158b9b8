//! The raw client against a scripted server (byte for byte) and against the
//! `h2` crate's server, whose answers to malformed requests are what the
//! RFC 8441 cases will judge.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use super::*;
use crate::http2::raw::frame::ErrorCode;
use crate::http2::raw::hpack::HpackError;

const WAIT: Duration = Duration::from_secs(5);

async fn read_frame(io: &mut DuplexStream, decoder: &mut FrameDecoder) -> Frame {
    let mut buf = [0u8; 1024];
    loop {
        if let Some(frame) = decoder.next_frame().unwrap() {
            return frame;
        }
        let n = io.read(&mut buf).await.unwrap();
        assert!(n > 0, "the client closed");
        decoder.push(&buf[..n]);
    }
}

async fn write_frames(io: &mut DuplexStream, frames: &[Frame]) {
    let mut bytes = Vec::new();
    for frame in frames {
        frame.encode(&mut bytes).unwrap();
    }
    io.write_all(&bytes).await.unwrap();
}

#[tokio::test]
async fn handshake_acks_settings_and_answers_pings() {
    let (client_io, mut server) = tokio::io::duplex(64 * 1024);
    let client = tokio::spawn(async move {
        let mut client = RawClient::handshake(client_io, &[(setting::ENABLE_PUSH, 0)], WAIT)
            .await
            .unwrap();
        assert!(client.extended_connect());
        assert_eq!(
            client.server_setting(setting::MAX_CONCURRENT_STREAMS),
            Some(7)
        );
        let ping = client.next_frame(WAIT).await.unwrap().unwrap();
        assert_eq!(
            ping.frame,
            Frame::Ping {
                ack: false,
                data: *b"pingpong"
            }
        );
        assert_eq!(ping.headers, None);
        // The server closes cleanly between frames.
        assert_eq!(client.next_frame(WAIT).await.unwrap(), None);
    });
    let mut preface = [0u8; 24];
    server.read_exact(&mut preface).await.unwrap();
    assert_eq!(&preface, frame::PREFACE);
    let mut decoder = FrameDecoder::new(frame::DEFAULT_MAX_FRAME_SIZE);
    assert_eq!(
        read_frame(&mut server, &mut decoder).await,
        Frame::Settings {
            ack: false,
            params: vec![(setting::ENABLE_PUSH, 0)]
        }
    );
    write_frames(
        &mut server,
        &[
            Frame::Settings {
                ack: false,
                params: vec![
                    (setting::MAX_CONCURRENT_STREAMS, 7),
                    (setting::ENABLE_CONNECT_PROTOCOL, 1),
                ],
            },
            Frame::Ping {
                ack: false,
                data: *b"pingpong",
            },
        ],
    )
    .await;
    assert_eq!(
        read_frame(&mut server, &mut decoder).await,
        Frame::Settings {
            ack: true,
            params: vec![]
        }
    );
    assert_eq!(
        read_frame(&mut server, &mut decoder).await,
        Frame::Ping {
            ack: true,
            data: *b"pingpong"
        }
    );
    drop(server);
    client.await.unwrap();
}

#[tokio::test]
async fn a_first_frame_other_than_settings_is_an_error() {
    let (client_io, mut server) = tokio::io::duplex(64 * 1024);
    let client = tokio::spawn(RawClient::handshake(client_io, &[], WAIT));
    let mut preface = [0u8; 24 + 9];
    server.read_exact(&mut preface).await.unwrap();
    write_frames(
        &mut server,
        &[Frame::Ping {
            ack: false,
            data: [0; 8],
        }],
    )
    .await;
    let error = client.await.unwrap().err().unwrap();
    assert!(
        matches!(&error, ConnError::NotSettingsFirst { got } if got == "PING"),
        "{error}"
    );
}

#[tokio::test]
async fn silence_is_a_timeout_and_a_cut_frame_is_closed() {
    let (client_io, mut server) = tokio::io::duplex(64 * 1024);
    let started = std::time::Instant::now();
    let error = RawClient::handshake(client_io, &[], Duration::from_millis(100))
        .await
        .err()
        .unwrap();
    assert!(matches!(error, ConnError::Timeout { .. }), "{error}");
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert!(error.to_string().contains("the server's SETTINGS"));
    drop(server.read(&mut [0u8; 64]).await);

    let (client_io, mut server) = tokio::io::duplex(64 * 1024);
    let client = tokio::spawn(RawClient::handshake(client_io, &[], WAIT));
    let mut hello = [0u8; 24 + 9];
    server.read_exact(&mut hello).await.unwrap();
    // Half a SETTINGS frame, then the end.
    server.write_all(&[0, 0, 6, 4, 0]).await.unwrap();
    drop(server);
    let error = client.await.unwrap().err().unwrap();
    assert!(matches!(error, ConnError::Closed { .. }), "{error}");
}

#[tokio::test]
async fn header_blocks_across_continuations_are_decoded_and_broken_ones_named() {
    let (client_io, mut server) = tokio::io::duplex(64 * 1024);
    let client = tokio::spawn(async move {
        let mut client = RawClient::handshake(client_io, &[], WAIT).await.unwrap();
        assert!(!client.extended_connect());
        let mut got = Vec::new();
        while let Some(received) = client.next_frame(WAIT).await.unwrap() {
            got.push(received.headers.map(|r| r.map(|b| b.fields)));
        }
        got
    });
    let mut hello = [0u8; 24 + 9];
    server.read_exact(&mut hello).await.unwrap();
    let block = hpack::Encoder {
        static_table: true,
        huffman: true,
    }
    .block(&[
        Field::new(":status", "200"),
        Field::new("x-long", "v".repeat(50)),
    ]);
    let (a, b) = block.split_at(3);
    write_frames(
        &mut server,
        &[
            Frame::Settings {
                ack: false,
                params: vec![],
            },
            Frame::Headers {
                stream_id: 1,
                end_stream: false,
                end_headers: false,
                priority: None,
                block: a.to_vec(),
                padding: Some(4),
            },
            Frame::Continuation {
                stream_id: 1,
                end_headers: true,
                block: b.to_vec(),
            },
            Frame::Continuation {
                stream_id: 1,
                end_headers: true,
                block: vec![0x82],
            },
            Frame::Headers {
                stream_id: 3,
                end_stream: false,
                end_headers: false,
                priority: None,
                block: vec![0x88],
                padding: None,
            },
            Frame::Data {
                stream_id: 3,
                end_stream: false,
                data: vec![],
                padding: None,
            },
            Frame::Headers {
                stream_id: 5,
                end_stream: true,
                end_headers: true,
                priority: None,
                block: vec![0x80],
                padding: None,
            },
        ],
    )
    .await;
    server.shutdown().await.unwrap();
    // Read the client's SETTINGS ACK so that the client never blocks.
    let mut rest = Vec::new();
    let reader = tokio::spawn(async move {
        drop(server.read_to_end(&mut rest).await);
    });
    let got = tokio::time::timeout(WAIT, client).await.unwrap().unwrap();
    reader.abort();
    assert_eq!(
        got,
        vec![
            // The SETTINGS went to the handshake; the HEADERS awaits its
            // CONTINUATION.
            None,
            Some(Ok(vec![
                Field::new(":status", "200"),
                Field::new("x-long", "v".repeat(50))
            ])),
            Some(Err(BlockError::UnexpectedContinuation { stream_id: 1 })),
            None,
            Some(Err(BlockError::Interrupted {
                stream_id: 3,
                by: "DATA".into()
            })),
            Some(Err(BlockError::Hpack(HpackError::ZeroIndex { at: 0 }))),
        ]
    );
}

/// The `h2` crate's server over a duplex stream, with extended CONNECT
/// enabled or not, answering every request it accepts with 200 and its
/// `:protocol` echoed as `x-protocol`.
fn h2_server(extended_connect: bool) -> DuplexStream {
    let (client_io, server_io) = tokio::io::duplex(256 * 1024);
    tokio::spawn(async move {
        let mut builder = h2::server::Builder::new();
        if extended_connect {
            builder.enable_connect_protocol();
        }
        let Ok(mut conn) = builder.handshake::<_, bytes::Bytes>(server_io).await else {
            return;
        };
        while let Some(Ok((request, mut respond))) = conn.accept().await {
            let protocol = request
                .extensions()
                .get::<h2::ext::Protocol>()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default();
            let response = http::Response::builder()
                .status(200)
                .header("x-protocol", protocol)
                .body(())
                .unwrap();
            drop(respond.send_response(response, false));
        }
    });
    client_io
}

fn extended_connect_request() -> Vec<Field> {
    vec![
        Field::new(":method", "CONNECT"),
        Field::new(":protocol", "websocket"),
        Field::new(":scheme", "http"),
        Field::new(":authority", "localhost"),
        Field::new(":path", "/chat"),
        Field::new("sec-websocket-version", "13"),
    ]
}

async fn answer_to(extended_connect: bool, request: &[Field]) -> (bool, Received) {
    let io = h2_server(extended_connect);
    let mut client = RawClient::handshake(io, &[], WAIT).await.unwrap();
    let allowed = client.extended_connect();
    client.send_headers(1, request, false).await.unwrap();
    let answer = client.next_on_stream(1, WAIT).await.unwrap().unwrap();
    (allowed, answer)
}

fn reset_code(received: &Received) -> Option<ErrorCode> {
    match received.frame {
        Frame::RstStream { stream_id: 1, code } => Some(code),
        _ => None,
    }
}

#[tokio::test]
async fn h2_answers_a_well_formed_extended_connect_with_200() {
    let (allowed, answer) = answer_to(true, &extended_connect_request()).await;
    assert!(allowed, "h2's SETTINGS enable extended CONNECT");
    assert!(matches!(
        answer.frame,
        Frame::Headers {
            stream_id: 1,
            end_stream: false,
            ..
        }
    ));
    let fields = answer.headers.unwrap().unwrap().fields;
    assert_eq!(fields[0], Field::new(":status", "200"));
    assert!(fields.contains(&Field::new("x-protocol", "websocket")));
}

#[tokio::test]
async fn h2_resets_a_request_with_a_connection_header_with_protocol_error() {
    for name in ["connection", "upgrade", "keep-alive", "transfer-encoding"] {
        let mut request = extended_connect_request();
        request.push(Field::new(name, "x"));
        let (_, answer) = answer_to(true, &request).await;
        assert_eq!(
            reset_code(&answer),
            Some(ErrorCode::ProtocolError),
            "{name}: {answer:?}"
        );
    }
}

#[tokio::test]
async fn h2_resets_an_extended_connect_without_scheme_or_path() {
    for missing in [":scheme", ":path"] {
        let request: Vec<Field> = extended_connect_request()
            .into_iter()
            .filter(|f| f.name != missing.as_bytes())
            .collect();
        assert_eq!(request.len(), 5);
        let (_, answer) = answer_to(true, &request).await;
        assert_eq!(
            reset_code(&answer),
            Some(ErrorCode::ProtocolError),
            "{missing}: {answer:?}"
        );
    }
}

#[tokio::test]
async fn after_resetting_a_malformed_request_h2_keeps_the_connection() {
    let mut client = RawClient::handshake(h2_server(true), &[], WAIT)
        .await
        .unwrap();
    let mut bad = extended_connect_request();
    bad.insert(0, Field::new("connection", "upgrade"));
    client.send_headers(1, &bad, false).await.unwrap();
    let reset = client.next_on_stream(1, WAIT).await.unwrap().unwrap();
    assert_eq!(reset_code(&reset), Some(ErrorCode::ProtocolError));
    client
        .send_headers(3, &extended_connect_request(), false)
        .await
        .unwrap();
    let answer = client.next_on_stream(3, WAIT).await.unwrap().unwrap();
    assert_eq!(
        answer.headers.unwrap().unwrap().fields[0],
        Field::new(":status", "200")
    );
}

#[tokio::test]
async fn h2_resets_protocol_where_rfc_8441_forbids_it() {
    // :protocol although its SETTINGS did not allow it (RFC 8441 3).
    let (allowed, answer) = answer_to(false, &extended_connect_request()).await;
    assert!(!allowed);
    assert_eq!(
        reset_code(&answer),
        Some(ErrorCode::ProtocolError),
        "{answer:?}"
    );
    // :protocol on a GET (RFC 8441 4).
    let mut request = extended_connect_request();
    request[0] = Field::new(":method", "GET");
    let (_, answer) = answer_to(true, &request).await;
    assert_eq!(
        reset_code(&answer),
        Some(ErrorCode::ProtocolError),
        "{answer:?}"
    );
}

#[tokio::test]
async fn works_over_a_boxed_transport() {
    let io: Box<dyn crate::run::Transport> = Box::new(h2_server(true));
    let mut client = RawClient::handshake(io, &[], WAIT).await.unwrap();
    assert!(client.extended_connect());
    client
        .send_headers(1, &extended_connect_request(), false)
        .await
        .unwrap();
    let answer = client.next_on_stream(1, WAIT).await.unwrap().unwrap();
    assert_eq!(
        answer.headers.unwrap().unwrap().fields[0],
        Field::new(":status", "200")
    );
}

#[tokio::test]
async fn later_settings_replace_earlier_values_and_header_blocks_are_bounded() {
    let (client_io, mut server) = tokio::io::duplex(64 * 1024);
    let client = tokio::spawn(async move {
        let mut client =
            RawClient::handshake(client_io, &[(setting::MAX_HEADER_LIST_SIZE, 100)], WAIT)
                .await
                .unwrap();
        assert!(client.extended_connect());
        let mut got = Vec::new();
        while let Some(received) = client.next_frame(WAIT).await.unwrap() {
            got.push(received.headers.map(|r| r.map(|b| b.fields)));
        }
        (
            client.extended_connect(),
            client.server_settings().to_vec(),
            got,
        )
    });
    let mut hello = [0u8; 24 + 9 + 6];
    server.read_exact(&mut hello).await.unwrap();
    let on = Frame::Settings {
        ack: false,
        params: vec![(setting::ENABLE_CONNECT_PROTOCOL, 1)],
    };
    let off = Frame::Settings {
        ack: false,
        params: vec![(setting::ENABLE_CONNECT_PROTOCOL, 0), (0x99, 5)],
    };
    write_frames(
        &mut server,
        &[
            on.clone(),
            off,
            on,
            Frame::Headers {
                stream_id: 1,
                end_stream: false,
                end_headers: false,
                priority: None,
                block: vec![0; 60],
                padding: None,
            },
            Frame::Continuation {
                stream_id: 1,
                end_headers: true,
                block: vec![0; 60],
            },
        ],
    )
    .await;
    server.shutdown().await.unwrap();
    let reader = tokio::spawn(async move {
        drop(server.read_to_end(&mut Vec::new()).await);
    });
    let (enabled, settings, got) = tokio::time::timeout(WAIT, client).await.unwrap().unwrap();
    reader.abort();
    assert!(enabled, "the last SETTINGS turned it back on");
    assert_eq!(
        settings,
        vec![(setting::ENABLE_CONNECT_PROTOCOL, 1), (0x99, 5)]
    );
    assert_eq!(
        got,
        vec![
            None,
            None,
            None,
            Some(Err(BlockError::TooLarge {
                stream_id: 1,
                max: 100
            }))
        ]
    );
}
