//! The closing-behaviour verdict, in Autobahn's order: the wrong endpoint
//! started the close → FAILED; a clean close was required and did not happen →
//! UNCLEAN; the peer's close code is not allowed → WRONG CODE; we had to end the
//! TCP connection ourselves (a server should, RFC 6455 7.1.1) → FAILED BY
//! CLIENT; otherwise OK.

use super::facts::Facts;
use super::CloseVerdict;
use crate::case::model::{CloseExpect, Closer, WaitFor};
use crate::case::Case;
use crate::transcript::Party;

/// Grades the closing behaviour; returns the verdict and its sentence.
pub fn grade(expect: &CloseExpect, _case: &Case, f: &Facts) -> (CloseVerdict, String) {
    if f.status != Some(101) {
        return (
            CloseVerdict::Failed,
            "the WebSocket opening handshake never completed".into(),
        );
    }
    if let (Some(frame), false) = (&f.harness_ended_stream, expect.clean) {
        return (
            CloseVerdict::Ok,
            format!("wsspec itself ended the HTTP/2 stream ({frame}) before any closing handshake; the close is not graded"),
        );
    }
    let peer_close = match &f.peer_close {
        Some(c) => match c.code {
            Some(code) => format!("close frame {code}"),
            None => "close frame without code".into(),
        },
        None => "no close frame".into(),
    };
    let first = f.first_closer.unwrap_or(Party::Harness);
    match (expect.by, first) {
        (Closer::Peer, Party::Harness) if f.harness_sent_close => {
            return (
                CloseVerdict::Failed,
                format!("expected the peer to fail the connection first; wsspec's close frame came first ({peer_close} from the peer)"),
            );
        }
        (Closer::Peer, Party::Harness) => {
            let waited = if f.deadline {
                "the case deadline expired".to_string()
            } else {
                match &f.last_timeout {
                    Some((what, ms)) => format!("waited {ms} ms for the {what}"),
                    None => "the steps ended".into(),
                }
            };
            return (
                CloseVerdict::Failed,
                format!("expected the peer to fail the connection; it did not ({waited}), so wsspec closed it"),
            );
        }
        (Closer::Harness, Party::Peer) => {
            return (
                CloseVerdict::Failed,
                format!("expected wsspec to start the close; the peer closed first ({peer_close})"),
            );
        }
        _ => {}
    }
    let clean = f.harness_sent_close && f.peer_close.is_some();
    if expect.clean && !clean {
        let what = if f.peer_close.is_none() {
            "the peer sent no close frame"
        } else {
            "wsspec sent no close frame"
        };
        return (
            CloseVerdict::Unclean,
            format!("expected a clean closing handshake; {what} before the connection ended"),
        );
    }
    if expect.clean && f.tcp_ended_by == Some(Party::Harness) && !f.harness_is_server {
        // As Autobahn: a server that leaves TCP to the client makes the
        // close unclean, whichever side started it.
        let waited = match f.last_timeout {
            Some((WaitFor::End, ms)) => format!(" after waiting {ms} ms"),
            _ => String::new(),
        };
        return (
            CloseVerdict::Unclean,
            format!(
                "the closing handshake completed, but the server did not {}, so wsspec did{waited} (RFC 6455 5.5.1: \"the server MUST close the underlying TCP connection immediately\")",
                close_tcp(f)
            ),
        );
    }
    let code = f.peer_close.as_ref().and_then(|c| c.code);
    if expect.require_code && !code.is_some_and(|c| expect.codes.contains(&c)) {
        let allowed: Vec<String> = expect.codes.iter().map(u16::to_string).collect();
        let got = match (code, &f.peer_close) {
            (Some(c), _) => format!("closed with {c}"),
            (None, Some(_)) => "sent a close frame without a code".to_string(),
            (None, None) => "sent no close frame".to_string(),
        };
        return (
            CloseVerdict::WrongCode,
            format!(
                "expected close code {}; the peer {got}",
                allowed.join(" or ")
            ),
        );
    }
    if let Some(code) = code {
        if !expect.codes.is_empty() && !expect.codes.contains(&code) {
            let allowed: Vec<String> = expect.codes.iter().map(u16::to_string).collect();
            return (
                CloseVerdict::WrongCode,
                format!(
                    "the peer closed with {code}; expected {} or no code",
                    allowed.join(" or ")
                ),
            );
        }
    }
    if f.tcp_ended_by == Some(Party::Harness) && !f.harness_is_server {
        let when = if clean {
            "after the closing handshake"
        } else {
            "when the case ended"
        };
        return (
            CloseVerdict::FailedByClient,
            format!("{when} the server had not {}, so wsspec did (RFC 6455 7.1.1: the server should close it first)", closed_tcp(f)),
        );
    }
    let tcp = match f.tcp_ended_by {
        Some(Party::Harness) => {
            "wsspec closed the connection, as the server does first (RFC 6455 7.1.1)"
        }
        Some(Party::Peer) => "connection closed by the peer",
        None => "connection still open when the case ended",
    };
    (CloseVerdict::Ok, format!("{peer_close}, {tcp}"))
}

/// What closing TCP is on the case's transport (RFC 8441 5: over HTTP/2,
/// END_STREAM on the WebSocket's stream).
fn close_tcp(f: &Facts) -> &'static str {
    if f.http2 {
        "end its HTTP/2 stream (END_STREAM, which RFC 8441 5 puts in place of closing TCP)"
    } else {
        "close the TCP connection"
    }
}

/// [`close_tcp`], done.
fn closed_tcp(f: &Facts) -> &'static str {
    if f.http2 {
        "ended its HTTP/2 stream (END_STREAM, which RFC 8441 5 puts in place of closing TCP)"
    } else {
        "closed the TCP connection"
    }
}
