//! The permessage-deflate negotiation, graded before anything else: a case
//! that needs the extension is UNIMPLEMENTED when the peer does not agree
//! (as Autobahn grades 12.x and 13.x); a server response a client must refuse
//! (RFC 7692 7.1) is FAILED, as is agreeing to an offer the case says must be
//! declined. The compressed messages themselves are facts ([`super::facts`]).

use super::facts::Facts;
use super::{CloseVerdict, Outcome, Verdict};
use crate::case::model::Negotiation;
use crate::case::Case;
use crate::deflate::negotiate::{parse_header, Agreement, Offer, PERMESSAGE_DEFLATE};
use crate::transcript::{DeflateNegotiation, EventKind, Party, Transcript};

/// The verdict the negotiation alone decides, if it decides one.
pub fn negotiation_verdict(
    case: &Case,
    t: &Transcript,
    f: &Facts,
    remote_close_code: Option<u16>,
) -> Option<Verdict> {
    let spec = case.spec.deflate.as_ref()?;
    let verdict = |outcome: Outcome, reason: String| Verdict {
        behavior: outcome,
        behavior_reason: reason,
        close: CloseVerdict::None,
        close_reason: "not graded: the negotiation decided the case".into(),
        remote_close_code,
        outcome,
    };
    let refused_handshake = t.response().is_some_and(|h| !h.opened());
    if spec.require == Negotiation::Declined && refused_handshake {
        return Some(Verdict {
            behavior: Outcome::Ok,
            behavior_reason: format!(
                "the server refused the opening handshake for the offer `{}`: it did not accept it (RFC 7692 7.1 forbids accepting it; refusing is allowed)",
                spec.offer_text()
            ),
            close: CloseVerdict::Ok,
            close_reason: "no WebSocket connection was opened".into(),
            remote_close_code,
            outcome: Outcome::Ok,
        });
    }
    let harness_is_server = t.request_received().is_some();
    if let Some(DeflateNegotiation::Agreed {
        agreement,
        harness_resets,
        ..
    }) = t.deflate()
    {
        if let Some(why) = own_breach(t, agreement, *harness_resets, harness_is_server) {
            return Some(verdict(Outcome::Unimplemented, why));
        }
    }
    match (t.deflate()?, spec.require) {
        // The case sent an answer the client must refuse: a client that
        // goes on talking has accepted it; otherwise what it does next is
        // graded by the case's expectation.
        (DeflateNegotiation::Refused { response, fault }, _) if harness_is_server => {
            let went_on = f.first_closer != Some(Party::Peer) || !f.received.is_empty();
            went_on.then(|| {
                verdict(
                    Outcome::Failed,
                    format!(
                        "wsspec answered `{response}`, which the client must refuse ({fault}), but the client went on: it {} and received {}",
                        if f.first_closer == Some(Party::Peer) {
                            "closed later"
                        } else {
                            "did not close first"
                        },
                        super::behavior::describe_received(f)
                    ),
                )
            })
        }
        // The offer was invalid and the server took it: the point is the
        // offer it must have declined, not how its answer reads.
        (DeflateNegotiation::Refused { response, .. }, Negotiation::Declined) => {
            Some(verdict(
                Outcome::Failed,
                format!(
                    "the server accepted (`{response}`) the offer `{}`, which RFC 7692 7.1 says must be declined: {}",
                    spec.offer_text(),
                    offer_faults(spec.offer_text())
                ),
            ))
        }
        (DeflateNegotiation::Refused { response, fault }, _) => Some(verdict(
            Outcome::Failed,
            format!(
                "the server answered the offer `{}` with `{response}`, which a client must refuse: {fault}",
                spec.offer_text()
            ),
        )),
        (
            DeflateNegotiation::Agreed { .. } | DeflateNegotiation::Declined { .. },
            Negotiation::Refused,
        ) if harness_is_server => {
            let response = match t.deflate() {
                Some(DeflateNegotiation::Agreed { response, .. }) => response.as_str(),
                _ => "",
            };
            Some(verdict(
                Outcome::Unimplemented,
                format!(
                    "the client's own offer makes the answer `{response}` valid, so there is nothing for it to refuse"
                ),
            ))
        }
        (DeflateNegotiation::Agreed { response, .. }, Negotiation::Declined) => Some(verdict(
            Outcome::Failed,
            format!(
                "the peer agreed (`{response}`) to the offer `{}`, which RFC 7692 7.1 says must be declined: {}",
                spec.offer_text(),
                offer_faults(spec.offer_text())
            ),
        )),
        (DeflateNegotiation::Declined { passed_over }, Negotiation::Accepted) => Some(verdict(
            Outcome::Unimplemented,
            if passed_over.is_empty() {
                "the peer did not agree to permessage-deflate".to_string()
            } else {
                format!(
                    "the peer did not agree to permessage-deflate ({})",
                    passed_over.join("; ")
                )
            },
        )),
        _ => None,
    }
}

/// What is wrong with each permessage-deflate offer in `text`, in words.
fn offer_faults(text: &str) -> String {
    let extensions = match parse_header(text) {
        Ok(e) => e,
        Err(e) => return format!("the offer does not parse ({e})"),
    };
    let faults: Vec<String> = extensions
        .iter()
        .filter(|e| e.name.eq_ignore_ascii_case(PERMESSAGE_DEFLATE))
        .filter_map(|e| Offer::from_params(&e.params).err())
        .map(|f| f.to_string())
        .collect();
    if faults.is_empty() {
        "the case says so".to_string()
    } else {
        faults.join("; ")
    }
}

/// Whether a compressed message wsspec itself sent (a case's raw stream)
/// breaks what was agreed for wsspec's direction: then the peer may rightly
/// fail the connection, and the case cannot test what it is about.
fn own_breach(
    t: &Transcript,
    agreement: &Agreement,
    harness_resets: bool,
    harness_is_server: bool,
) -> Option<String> {
    let (bits, resets) = if harness_is_server {
        (
            agreement.server_max_window_bits,
            agreement.server_no_context_takeover,
        )
    } else {
        (
            agreement.client_max_window_bits,
            agreement.client_no_context_takeover || harness_resets,
        )
    };
    t.kinds().find_map(|k| match k {
        EventKind::MessageSent { message } => {
            let c = message.compressed.as_ref()?;
            if c.refers_back && resets {
                Some(format!(
                    "the case's own compressed message refers to an earlier message, but the agreement ({agreement}) has wsspec reset its context, so the peer may rightly refuse it: nothing to test"
                ))
            } else if c.max_distance > 1u32 << bits.min(15) {
                Some(format!(
                    "the case's own compressed message refers {} bytes back, beyond the {}-bit window agreed for wsspec ({agreement}): nothing to test",
                    c.max_distance, bits
                ))
            } else {
                None
            }
        }
        _ => None,
    })
}
