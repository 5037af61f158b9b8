//! Checks of the server's 101 response that apply to every case: the accept
//! value, the Upgrade and Connection tokens (case-insensitive token lists, as
//! RFC 7230 reads them), and no subprotocol or extension that was not offered.

use crate::transcript::{EventKind, Transcript};
use crate::wire::handshake::{accept_for, ResponseHead};

/// The request header values we sent, read back from the transcript.
fn request_header(t: &Transcript, name: &str) -> Vec<String> {
    let Some(raw) = t.kinds().find_map(|k| match k {
        EventKind::RequestSent { raw } => Some(raw),
        _ => None,
    }) else {
        return Vec::new();
    };
    String::from_utf8_lossy(&raw.head)
        .split('\n')
        .filter_map(|line| line.split_once(':'))
        .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim().to_string())
        .collect()
}

/// The first problem with a 101 response, as a sentence; None when it is right.
pub fn check_101(t: &Transcript, head: &ResponseHead) -> Option<String> {
    let keys = request_header(t, "sec-websocket-key");
    if let [key] = keys.as_slice() {
        let want = accept_for(key);
        let got: Vec<&str> = head.values("sec-websocket-accept").collect();
        match got.as_slice() {
            [] => {
                return Some(format!(
                    "the 101 response has no Sec-WebSocket-Accept header (expected `{want}`)"
                ))
            }
            [one] if one.trim() == want => {}
            _ => {
                return Some(format!(
                    "Sec-WebSocket-Accept is `{}`; expected `{want}` for the key we sent",
                    got.join(", ")
                ))
            }
        }
    }
    if !head.tokens("upgrade").iter().any(|t| t == "websocket") {
        return Some(format!(
            "the 101 response's Upgrade header is `{}`; expected the token `websocket`",
            head.values("upgrade").collect::<Vec<_>>().join(", ")
        ));
    }
    if !head.tokens("connection").iter().any(|t| t == "upgrade") {
        return Some(format!(
            "the 101 response's Connection header is `{}`; expected the token `upgrade`",
            head.values("connection").collect::<Vec<_>>().join(", ")
        ));
    }
    let offered_protocols: Vec<String> = request_header(t, "sec-websocket-protocol")
        .iter()
        .flat_map(|v| v.split(',').map(|s| s.trim().to_string()))
        .collect();
    for chosen in head.values("sec-websocket-protocol") {
        if !offered_protocols.iter().any(|p| p == chosen.trim()) {
            return Some(format!(
                "the server selected subprotocol `{chosen}`, which was not offered (RFC 6455 4.2.2)"
            ));
        }
    }
    let offered_ext: Vec<String> = request_header(t, "sec-websocket-extensions")
        .iter()
        .flat_map(|v| v.split(','))
        .filter_map(|e| e.split(';').next())
        .map(|e| e.trim().to_ascii_lowercase())
        .collect();
    for ext in head.values("sec-websocket-extensions") {
        for one in ext.split(',') {
            let name = one
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if !name.is_empty() && !offered_ext.contains(&name) {
                return Some(format!(
                    "the server accepted extension `{name}`, which was not offered (RFC 6455 9.1)"
                ));
            }
        }
    }
    None
}
