//! Follow-up requests under `wsspec serve`. RFC 6455 4.1 lets a client that
//! was refused the upgrade follow a 3xx redirect or answer a 401 challenge
//! with a new opening handshake on a new connection. A case that refuses the
//! upgrade points its redirect back at its own `runCase` URL (`Location:
//! {request_target}&wsspec-redirected=1`), so the new request names the case
//! it belongs to; a retry with credentials carries `Authorization`. Either is
//! recorded in the first connection's transcript as a
//! [`EventKind::FollowUpRequest`], which the judge reports as INFORMATIONAL,
//! and is answered 403 so that the client stops there.

use std::collections::BTreeMap;

use crate::case::Case;
use crate::transcript::{EventKind, FollowUp};
use crate::wire::bytelog::ByteLog;

/// The query parameter a refusal case's redirect adds to its own URL.
pub const REDIRECT_PARAM: &str = "wsspec-redirected";

/// The answer to a follow-up request: no WebSocket, and nothing to retry.
pub const ANSWER: &[u8] =
    b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// Whether the case answers the opening handshake with something other than
/// 101 (a redirect, a challenge, an error).
pub fn refuses_upgrade(case: &Case) -> bool {
    case.spec.handshake.response.as_ref().is_some_and(|r| {
        let bytes = r.bytes();
        let status = String::from_utf8_lossy(&bytes)
            .split_whitespace()
            .nth(1)
            .map(str::to_string);
        status.as_deref() != Some("101")
    })
}

/// If this `runCase` request is a follow-up (the redirect's target, or a
/// retry with credentials), the event that records it.
pub fn recognise(head: &[u8], params: &BTreeMap<String, String>) -> Option<EventKind> {
    let what = if params.contains_key(REDIRECT_PARAM) {
        FollowUp::Redirect
    } else if has_header(head, "authorization") {
        FollowUp::Credentials
    } else {
        return None;
    };
    Some(EventKind::FollowUpRequest {
        what,
        raw: ByteLog::of(head),
    })
}

fn has_header(head: &[u8], name: &str) -> bool {
    let mut headers = [httparse::EMPTY_HEADER; crate::wire::handshake::MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    req.parse(head).is_ok()
        && req
            .headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follow_ups_are_recognised_by_parameter_or_credentials() {
        let plain = b"GET /runCase?case=1&agent=a HTTP/1.1\r\nHost: x\r\n\r\n";
        let auth =
            b"GET /runCase?case=1&agent=a HTTP/1.1\r\nHost: x\r\nauthorization: Basic eDp5\r\n\r\n";
        let none = BTreeMap::new();
        let redirected: BTreeMap<String, String> =
            [(REDIRECT_PARAM.to_string(), "1".to_string())].into();
        assert!(recognise(plain, &none).is_none());
        let what = |e: Option<EventKind>| match e {
            Some(EventKind::FollowUpRequest { what, .. }) => Some(what),
            _ => None,
        };
        assert_eq!(
            what(recognise(plain, &redirected)),
            Some(FollowUp::Redirect)
        );
        assert_eq!(what(recognise(auth, &none)), Some(FollowUp::Credentials));
        // Credentials after many other headers are seen too.
        let mut many = "GET /runCase?case=1&agent=a HTTP/1.1\r\nHost: x\r\n".to_string();
        for i in 0..70 {
            many.push_str(&format!("X-{i}: {i}\r\n"));
        }
        many.push_str("Authorization: Basic eDp5\r\n\r\n");
        assert_eq!(
            what(recognise(many.as_bytes(), &none)),
            Some(FollowUp::Credentials)
        );
    }
}
