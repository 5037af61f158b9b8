//! The handshake's grading. Checks of the server's 101 response that apply to
//! every case (the accept value, the Upgrade and Connection tokens as
//! case-insensitive token lists, as RFC 7230 reads them, at most one
//! subprotocol and only an offered one, no extension that was not offered), and
//! the comparison of the response with a case's handshake expectation (status
//! or status class, header checks, or a plain close).

use super::facts::Facts;
use crate::case::model::HandshakeExpect;
use crate::transcript::{EventKind, HandshakeFailure, Transcript};
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
    if !head.http2 {
        if let Some(problem) = check_upgrade_headers(t, head) {
            return Some(problem);
        }
    } else if let Some(problem) = check_http2_fields(head) {
        return Some(problem);
    }
    check_negotiation(t, head)
}

/// HTTP/2 only: a response whose fields make it malformed (RFC 9113 8.2.1,
/// 8.2.2), which a client must not take as an answer.
fn check_http2_fields(head: &ResponseHead) -> Option<String> {
    for (name, value) in &head.headers {
        if crate::wire::field_lines::connection_specific(name, value.as_bytes()) {
            return Some(format!(
                "the 2xx answer carries the connection-specific field `{name}`, which makes an HTTP/2 response malformed (RFC 9113 8.2.2)"
            ));
        }
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            return Some(format!(
                "the 2xx answer carries the field name `{name}` with upper-case letters, which makes an HTTP/2 response malformed (RFC 9113 8.2.1)"
            ));
        }
        if name.starts_with(':') {
            return Some(format!(
                "the 2xx answer carries the pseudo-header field `{name}` besides :status, which makes an HTTP/2 response malformed (RFC 9113 8.3)"
            ));
        }
    }
    None
}

/// HTTP/1.1 only: Sec-WebSocket-Accept, Upgrade and Connection (RFC 6455
/// 4.1). Over HTTP/2 none of them is used (RFC 8441 5), and `Upgrade` and
/// `Connection` would make the response malformed (RFC 9113 8.2.2), which
/// the HTTP/2 layer itself refuses.
fn check_upgrade_headers(t: &Transcript, head: &ResponseHead) -> Option<String> {
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
    None
}

/// The subprotocol and extensions the server chose, against what was offered.
fn check_negotiation(t: &Transcript, head: &ResponseHead) -> Option<String> {
    let offered_protocols: Vec<String> = request_header(t, "sec-websocket-protocol")
        .iter()
        .flat_map(|v| v.split(',').map(|s| s.trim().to_string()))
        .collect();
    let chosen_all: Vec<&str> = head
        .values("sec-websocket-protocol")
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    if chosen_all.len() > 1 {
        return Some(format!(
            "the server selected {} subprotocols (`{}`); it may select at most one (RFC 6455 4.2.2)",
            chosen_all.len(),
            chosen_all.join(", ")
        ));
    }
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

/// How the handshake went, measured against one expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeGrade {
    /// 101, as expected: the WebSocket part of the case decides.
    Upgraded,
    /// A refusal the expectation accepts (status, headers, or a plain close).
    Refused(String),
    /// Not what was expected, in a sentence.
    Mismatch(String),
}

/// Grades the handshake against `expect`; `f` holds the status and any
/// handshake error, `t` the response headers.
pub fn grade(expect: &HandshakeExpect, t: &Transcript, f: &Facts) -> HandshakeGrade {
    let wanted = &expect.status;
    if f.harness_is_server {
        // wsspec answered the client itself; what is graded is the client's
        // reaction. RFC 6455 4.1: without a 101 the client must not treat the
        // connection as a WebSocket connection, so it must send no frames.
        let client_frames = t
            .kinds()
            .filter(|k| matches!(k, EventKind::FrameReceived { .. }))
            .count();
        return match f.status {
            Some(101) => HandshakeGrade::Upgraded,
            Some(s) if client_frames == 0 => HandshakeGrade::Refused(format!(
                "wsspec answered {s}; the client sent no WebSocket frames"
            )),
            Some(s) => HandshakeGrade::Mismatch(format!(
                "wsspec answered {s}, yet the client sent {client_frames} WebSocket frame(s) on that connection (RFC 6455 4.1)"
            )),
            None => {
                HandshakeGrade::Mismatch("the client sent no complete opening handshake".into())
            }
        };
    }
    let head = t.response();
    match (f.status, head) {
        (Some(101), Some(head)) => {
            if !expect.allows_upgrade() {
                let with = if head.http2 { "a 2xx" } else { "101" };
                return HandshakeGrade::Mismatch(format!(
                    "expected the server to refuse the handshake ({wanted}); it accepted it with {with}"
                ));
            }
            match check_headers(expect, head) {
                Some(problem) => HandshakeGrade::Mismatch(problem),
                None => HandshakeGrade::Upgraded,
            }
        }
        (Some(status), Some(head)) => {
            let line = format!("{status} {}", head.reason).trim_end().to_string();
            if !wanted.matches(status) {
                return HandshakeGrade::Mismatch(format!(
                    "expected HTTP status {wanted}; the server answered {line}"
                ));
            }
            match check_headers(expect, head) {
                Some(problem) => HandshakeGrade::Mismatch(problem),
                None => {
                    HandshakeGrade::Refused(format!("the server refused the handshake with {line}"))
                }
            }
        }
        _ => {
            let why = f
                .handshake_error
                .as_ref()
                .map_or_else(|| "no response".to_string(), ToString::to_string);
            let refused_by_closing = matches!(
                f.handshake_error,
                Some(
                    HandshakeFailure::ClosedEarly
                        | HandshakeFailure::StreamReset { .. }
                        | HandshakeFailure::GoAway { .. }
                )
            );
            if expect.or_close && refused_by_closing {
                HandshakeGrade::Refused(format!(
                    "the server closed the connection without a response ({why})"
                ))
            } else {
                HandshakeGrade::Mismatch(format!(
                    "expected HTTP status {wanted}; the opening handshake never completed: {why}"
                ))
            }
        }
    }
}

/// The header checks of an expectation; the first failing one as a sentence.
fn check_headers(expect: &HandshakeExpect, head: &ResponseHead) -> Option<String> {
    for check in &expect.headers {
        let name = check.name.as_str();
        let values: Vec<&str> = head.values(name).collect();
        let tokens: Vec<String> = values
            .iter()
            .flat_map(|v| v.split(','))
            .map(|t| {
                t.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .filter(|t| !t.is_empty())
            .collect();
        let shown = if values.is_empty() {
            "absent".to_string()
        } else {
            format!("`{}`", values.join(", "))
        };
        if check.absent && !values.is_empty() {
            return Some(format!(
                "expected no {name} header in the response; it is {shown}"
            ));
        }
        if let Some(want) = &check.has_token {
            if !tokens.contains(&want.to_ascii_lowercase()) {
                return Some(format!(
                    "expected the response's {name} header to list `{want}`; it is {shown}"
                ));
            }
        }
        if let Some(not) = &check.lacks_token {
            if tokens.contains(&not.to_ascii_lowercase()) {
                return Some(format!(
                    "expected the response's {name} header not to list `{not}`; it is {shown}"
                ));
            }
        }
    }
    None
}

/// The handshake in a few words, for informational observations: the status,
/// or how and when the connection ended without one.
pub fn describe(t: &Transcript, f: &Facts) -> String {
    if let (Some(status), Some(head)) = (f.status, t.response()) {
        return format!("HTTP {status} {}", head.reason)
            .trim_end()
            .to_string();
    }
    let at = t
        .events
        .iter()
        .find(|e| matches!(e.kind, EventKind::HandshakeFailed { .. }))
        .map(|e| e.at_us / 1000);
    // The failure and its time come from the same event.
    match (&f.handshake_error, at) {
        (Some(why), Some(ms)) => format!("no response: {why} (after {ms} ms)"),
        _ => "no response".into(),
    }
}

#[cfg(test)]
mod http2_answer_tests {
    use super::check_http2_fields;
    use crate::wire::handshake::ResponseHead;

    fn answer(fields: &[(&str, &str)]) -> ResponseHead {
        ResponseHead {
            status: 200,
            reason: String::new(),
            headers: fields
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            http2: true,
        }
    }

    #[test]
    fn a_2xx_with_a_connection_specific_upper_case_or_pseudo_field_is_malformed() {
        assert_eq!(check_http2_fields(&answer(&[])), None);
        assert_eq!(
            check_http2_fields(&answer(&[
                ("sec-websocket-protocol", "chat"),
                ("te", "trailers")
            ])),
            None
        );
        for (fields, rule) in [
            (&[("connection", "close")][..], "8.2.2"),
            (&[("upgrade", "websocket")][..], "8.2.2"),
            (&[("te", "gzip")][..], "8.2.2"),
            (&[("Sec-WebSocket-Protocol", "chat")][..], "8.2.1"),
            (&[(":path", "/")][..], "8.3"),
        ] {
            let problem = check_http2_fields(&answer(fields)).unwrap_or_default();
            assert!(problem.contains(rule), "{fields:?}: {problem:?}");
        }
    }
}
