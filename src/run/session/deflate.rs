//! permessage-deflate in the session, as methods: the offer wsspec adds to
//! its request (as the client) and what it concludes from the response; the
//! answer it gives to a client's offers (as the server); and, once agreed,
//! the compressor for its own messages and which direction inflates what.
//! The negotiation itself is recorded as one transcript event; grading it is
//! the judge's job.

use super::Session;
use crate::case::model::{AcceptSpec, DeflateSpec};
use crate::deflate::compress::{Direction, MessageDeflater, DEFAULT_LEVEL};
use crate::deflate::negotiate::{
    answer_offers, check_response, format_header, parse_header, Agreement, Offer,
    PERMESSAGE_DEFLATE,
};
use crate::transcript::{DeflateNegotiation, EventKind};
use crate::wire::handshake::ResponseHead;

/// The extensions header.
pub(super) const EXTENSIONS: &str = "Sec-WebSocket-Extensions";

/// What was agreed, seen from wsspec's side of the connection: the
/// compressor for its own direction.
pub(super) struct Agreed {
    pub deflater: MessageDeflater,
}

impl Session<'_> {
    fn deflate_spec(&self) -> Option<&DeflateSpec> {
        self.case.spec.deflate.as_ref()
    }

    fn level(&self) -> u32 {
        self.deflate_spec()
            .and_then(|d| d.level)
            .unwrap_or(DEFAULT_LEVEL)
    }

    /// (wsspec as the client) The extensions header the case offers.
    pub(super) fn deflate_offer(&self) -> Option<(String, String)> {
        self.deflate_spec()
            .map(|d| (EXTENSIONS.to_string(), d.offer_text().to_string()))
    }

    /// (wsspec as the client) Concludes the negotiation from the server's
    /// 101 response and records it.
    pub(super) fn conclude_offer(&mut self, head: &ResponseHead) {
        let Some(spec) = self.deflate_spec() else {
            return;
        };
        // The offers as wsspec understands them: the valid permessage-deflate
        // ones (a case may offer invalid ones on purpose).
        let offered: Vec<(Offer, bool)> = parse_header(spec.offer_text())
            .unwrap_or_default()
            .iter()
            .filter(|e| e.name.eq_ignore_ascii_case(PERMESSAGE_DEFLATE))
            .filter_map(|e| Offer::from_params(&e.params).ok())
            .map(|o| (o, o.client_no_context_takeover))
            .collect();
        let values: Vec<&str> = head.values(EXTENSIONS).collect();
        let response = (!values.is_empty()).then(|| values.join(", "));
        let offers: Vec<Offer> = offered.iter().map(|(o, _)| *o).collect();
        let negotiation = match check_response(&offers, response.as_deref()) {
            Ok(Some((agreement, index))) => {
                // Offering client_no_context_takeover is a promise (RFC 7692
                // 7.1.1.2) that wsspec keeps.
                let harness_resets = offered.get(index).is_some_and(|(_, hint)| *hint);
                self.agree(agreement, harness_resets);
                DeflateNegotiation::Agreed {
                    agreement,
                    response: response.unwrap_or_default(),
                    harness_resets,
                }
            }
            Ok(None) => DeflateNegotiation::Declined {
                passed_over: Vec::new(),
            },
            Err(fault) => DeflateNegotiation::Refused {
                response: response.unwrap_or_default(),
                fault: fault.to_string(),
            },
        };
        self.record(EventKind::Deflate { negotiation });
    }

    /// (wsspec as the server) The extensions header line for the 101, if
    /// any, after recording the negotiation.
    pub(super) fn answer_offer(&mut self, request: &[u8]) -> Option<String> {
        let spec = self.deflate_spec()?.clone();
        let offers_text =
            crate::wire::handshake::request_header_values(request, EXTENSIONS).join(", ");
        if let Some(raw) = &spec.respond {
            // The case's own answer, whatever was offered: judged against the
            // client's valid offers as the client itself must judge it.
            let client_offers: Vec<Offer> = parse_header(&offers_text)
                .unwrap_or_default()
                .iter()
                .filter(|e| e.name.eq_ignore_ascii_case(PERMESSAGE_DEFLATE))
                .filter_map(|e| Offer::from_params(&e.params).ok())
                .collect();
            let negotiation = match check_response(&client_offers, Some(raw)) {
                Ok(Some((agreement, _))) => {
                    self.agree(agreement, false);
                    DeflateNegotiation::Agreed {
                        agreement,
                        response: raw.clone(),
                        harness_resets: false,
                    }
                }
                Ok(None) => DeflateNegotiation::Declined {
                    passed_over: Vec::new(),
                },
                Err(fault) => DeflateNegotiation::Refused {
                    response: raw.clone(),
                    fault: fault.to_string(),
                },
            };
            self.record(EventKind::Deflate { negotiation });
            return Some(raw.clone());
        }
        let offers = match parse_header(&offers_text) {
            Ok(o) => o,
            Err(e) => {
                self.record(EventKind::Deflate {
                    negotiation: DeflateNegotiation::Declined {
                        passed_over: vec![format!("the extensions header does not parse: {e}")],
                    },
                });
                return None;
            }
        };
        let AcceptSpec::Accept(policy) = spec.accept else {
            self.record(EventKind::Deflate {
                negotiation: DeflateNegotiation::Declined {
                    passed_over: vec!["the case declines every offer".into()],
                },
            });
            return None;
        };
        let answer = answer_offers(&offers, &policy);
        let Some((response, agreement)) = answer.accepted else {
            self.record(EventKind::Deflate {
                negotiation: DeflateNegotiation::Declined {
                    passed_over: answer
                        .declined
                        .iter()
                        .map(|(i, why)| format!("offer {}: {why}", i + 1))
                        .collect(),
                },
            });
            return None;
        };
        let value = format_header(&[response.to_extension()]);
        self.agree(agreement, false);
        self.record(EventKind::Deflate {
            negotiation: DeflateNegotiation::Agreed {
                agreement,
                response: value.clone(),
                harness_resets: false,
            },
        });
        Some(value)
    }

    /// Sets up compression for wsspec's own direction.
    fn agree(&mut self, agreement: Agreement, harness_resets: bool) {
        let ours = if self.shared.server_role {
            Direction {
                window_bits: agreement.server_max_window_bits,
                no_context_takeover: agreement.server_no_context_takeover,
            }
        } else {
            Direction {
                window_bits: agreement.client_max_window_bits,
                no_context_takeover: agreement.client_no_context_takeover || harness_resets,
            }
        };
        self.agreed = Some(Agreed {
            deflater: MessageDeflater::new(ours, self.level()),
        });
    }

    /// Whether the case needs permessage-deflate and the negotiation did not
    /// agree on it: the steps are pointless then (the case is UNIMPLEMENTED,
    /// as in Autobahn), so wsspec just closes.
    pub(super) fn deflate_unavailable(&self) -> bool {
        self.deflate_spec()
            .is_some_and(|d| d.require == crate::case::model::Negotiation::Accepted)
            && self.agreed.is_none()
    }

    /// One message compressed as agreed (or, with nothing agreed, as zlib
    /// does by default with a 15-bit window and context takeover).
    /// `flush_points` are input offsets to sync-flush after, inside it.
    pub(super) fn compress(&mut self, data: &[u8], flush_points: &[usize]) -> Vec<u8> {
        if self.agreed.is_none() {
            let level = self.level();
            let fallback = self.unagreed_deflater.get_or_insert_with(|| {
                MessageDeflater::new(
                    Direction {
                        window_bits: 15,
                        no_context_takeover: false,
                    },
                    level,
                )
            });
            return fallback.compress_message_flushed(data, flush_points);
        }
        match &mut self.agreed {
            Some(a) => a.deflater.compress_message_flushed(data, flush_points),
            None => Vec::new(),
        }
    }
}
