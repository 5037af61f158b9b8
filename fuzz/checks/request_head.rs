//! The `request_head` fuzz target's check, shared with `tests/fuzz_seeds.rs`
//! (both include this file with `#[path]`): the input is what a client sends
//! `wsspec serve`, cut where its head ends as serve cuts it. Everything serve and the server-role session parse from it
//! runs on it: the front door's request target, path and query
//! (`serve::front_door::{request_target, parse_target}`), its lenient control
//! handshake (`control_handshake`), the follow-up recogniser, the key reader,
//! the judge's strict request check and the permessage-deflate offers with the
//! answer serve would give. Nothing may panic, and the readings must agree:
//! a request the judge finds right the lenient front door accepts with the
//! right Sec-WebSocket-Accept, and an answer serve gives to offers is one a
//! client that made them accepts.

use wsspec::deflate::negotiate::{
    answer_offers, check_response, format_header, parse_header, AcceptPolicy, Offer,
    PERMESSAGE_DEFLATE,
};
use wsspec::judge::request::check_request;
use wsspec::serve::follow_up;
use wsspec::serve::front_door::{control_handshake, parse_target, request_target};
use wsspec::wire::handshake::{
    accept_for, find_head_end, parse_response, request_header_values, request_key,
};

pub fn check(input: &[u8]) {
    // The query of arbitrary text, as well as of the head's target.
    check_target(&String::from_utf8_lossy(input));
    // Serve reads up to the blank line (`wire::head::read_head`) and parses that.
    let head = &input[..find_head_end(input).unwrap_or(input.len())];
    let target = request_target(head);
    if let Some(target) = &target {
        let params = check_target(target);
        let _ = follow_up::recognise(head, &params);
    }
    let key = request_key(head);
    if let Some(k) = &key {
        assert!(!k.is_empty() && k == k.trim());
    }
    let lenient = control_handshake(head);
    match &lenient {
        Ok(response) => {
            assert_eq!(find_head_end(response), Some(response.len()));
            let parsed = parse_response(response).expect("serve's own 101 parses");
            assert_eq!(parsed.status, 101);
            let accept: Vec<&str> = parsed.values("sec-websocket-accept").collect();
            match &key {
                Some(k) => assert_eq!(accept, [accept_for(k).as_str()]),
                None => assert!(accept.is_empty()),
            }
        }
        Err((status, why)) => {
            assert!(matches!(status, 405 | 426), "{status} {why}");
        }
    }
    if check_request(head).is_none() {
        assert!(target.is_some(), "a right request without a target");
        assert!(key.is_some(), "a right request without a key");
        assert!(
            lenient.is_ok(),
            "serve refuses a right request: {lenient:?}"
        );
    }
    check_offers(head);
}

/// Splits a target as the front door does and checks the pieces.
fn check_target(target: &str) -> std::collections::BTreeMap<String, String> {
    let (path, params) = parse_target(target);
    assert!(!path.contains('?'));
    assert!(target.starts_with(&path));
    assert!(params.keys().all(|k| !k.is_empty()));
    params
}

/// The client's permessage-deflate offers, answered as serve would under a
/// few policies; an accepted answer must be one the client accepts.
fn check_offers(head: &[u8]) {
    let text = request_header_values(head, "sec-websocket-extensions").join(", ");
    let Ok(extensions) = parse_header(&text) else {
        return;
    };
    let offers: Vec<Offer> = extensions
        .iter()
        .filter(|e| e.name.eq_ignore_ascii_case(PERMESSAGE_DEFLATE))
        .filter_map(|e| Offer::from_params(&e.params).ok())
        .collect();
    let policies = [
        AcceptPolicy::default(),
        AcceptPolicy {
            client_no_context_takeover: true,
            client_max_window_bits: Some(9),
            client_bits_if_offered: true,
            server_no_context_takeover: true,
            server_max_window_bits: Some(12),
        },
        AcceptPolicy {
            client_max_window_bits: Some(15),
            ..AcceptPolicy::default()
        },
    ];
    for policy in &policies {
        let answer = answer_offers(&extensions, policy);
        let Some((response, agreement)) = answer.accepted else {
            continue;
        };
        let written = format_header(&[response.to_extension()]);
        match check_response(&offers, Some(&written)) {
            Ok(Some((agreed, _))) => assert_eq!(agreed, agreement),
            other => panic!("serve answered `{written}` to `{text}`; the client says {other:?}"),
        }
    }
}
