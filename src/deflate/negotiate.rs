//! Negotiating permessage-deflate (RFC 7692 section 7.1) from both ends: the
//! `Sec-WebSocket-Extensions` grammar (RFC 6455 section 9.1), an offer's and a
//! response's parameters with every way they can be wrong, what a server
//! answers to a list of offers under a given acceptance policy (Autobahn's
//! accept rules among them), and what a client must refuse in a response.
//! Pure functions over strings: no sockets, no cases.

use std::fmt;

/// The extension token this module negotiates.
pub const PERMESSAGE_DEFLATE: &str = "permessage-deflate";

/// One extension of a `Sec-WebSocket-Extensions` value, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    pub name: String,
    pub params: Vec<Param>,
}

/// One `;`-separated parameter, its value unquoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub value: Option<String>,
}

/// Why a header value does not follow RFC 6455 9.1's grammar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset into the value.
    pub at: usize,
    pub what: &'static str,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.what, self.at)
    }
}

impl std::error::Error for SyntaxError {}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Parses one or more header values (each a comma-separated extension list)
/// into extensions in order.
pub fn parse_header(value: &str) -> Result<Vec<Extension>, SyntaxError> {
    let bytes = value.as_bytes();
    let mut at = 0;
    let mut out = Vec::new();
    let skip_ws = |at: &mut usize| {
        while *at < bytes.len() && (bytes[*at] == b' ' || bytes[*at] == b'\t') {
            *at += 1;
        }
    };
    let token = |at: &mut usize| -> Option<String> {
        let start = *at;
        while *at < bytes.len() && is_tchar(bytes[*at]) {
            *at += 1;
        }
        (*at > start).then(|| value[start..*at].to_string())
    };
    loop {
        skip_ws(&mut at);
        // Empty list elements (`a, , b`) are allowed by the # rule.
        if at < bytes.len() && bytes[at] == b',' {
            at += 1;
            continue;
        }
        if at >= bytes.len() {
            break;
        }
        let Some(name) = token(&mut at) else {
            return Err(SyntaxError {
                at,
                what: "expected an extension name (a token)",
            });
        };
        let mut params = Vec::new();
        loop {
            skip_ws(&mut at);
            if at >= bytes.len() || bytes[at] == b',' {
                break;
            }
            if bytes[at] != b';' {
                return Err(SyntaxError {
                    at,
                    what: "expected ';', ',' or the end after an extension or parameter",
                });
            }
            at += 1;
            skip_ws(&mut at);
            let Some(pname) = token(&mut at) else {
                return Err(SyntaxError {
                    at,
                    what: "expected a parameter name (a token)",
                });
            };
            skip_ws(&mut at);
            let mut pvalue = None;
            if at < bytes.len() && bytes[at] == b'=' {
                at += 1;
                skip_ws(&mut at);
                if at < bytes.len() && bytes[at] == b'"' {
                    at += 1;
                    let mut text = String::new();
                    loop {
                        match bytes.get(at) {
                            None => {
                                return Err(SyntaxError {
                                    at,
                                    what: "unterminated quoted string",
                                })
                            }
                            Some(b'"') => {
                                at += 1;
                                break;
                            }
                            Some(b'\\') => {
                                let Some(&next) = bytes.get(at + 1) else {
                                    return Err(SyntaxError {
                                        at,
                                        what: "unterminated quoted string",
                                    });
                                };
                                text.push(char::from(next));
                                at += 2;
                            }
                            Some(&b) => {
                                text.push(char::from(b));
                                at += 1;
                            }
                        }
                    }
                    // RFC 6455 9.1: an unquoted value must be a token.
                    if text.is_empty() || !text.bytes().all(is_tchar) {
                        return Err(SyntaxError {
                            at,
                            what: "a quoted parameter value must be a token once unquoted",
                        });
                    }
                    pvalue = Some(text);
                } else {
                    let Some(v) = token(&mut at) else {
                        return Err(SyntaxError {
                            at,
                            what: "expected a parameter value (a token or a quoted string)",
                        });
                    };
                    pvalue = Some(v);
                }
            }
            params.push(Param {
                name: pname,
                value: pvalue,
            });
        }
        out.push(Extension { name, params });
    }
    Ok(out)
}

/// Writes extensions back as one header value (`a; p=1, b`).
pub fn format_header(extensions: &[Extension]) -> String {
    extensions
        .iter()
        .map(|e| {
            let mut s = e.name.clone();
            for p in &e.params {
                s.push_str("; ");
                s.push_str(&p.name);
                if let Some(v) = &p.value {
                    s.push('=');
                    s.push_str(v);
                }
            }
            s
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What is wrong with a permessage-deflate offer or response's parameters
/// (RFC 7692 7.1: a server declines such an offer, a client fails the
/// connection on such a response).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamFault {
    /// A parameter RFC 7692 does not define (for this direction).
    Unknown(String),
    /// The same parameter twice.
    Duplicate(String),
    /// A value where none is allowed (`server_no_context_takeover=1`).
    UnexpectedValue { name: String, value: String },
    /// No value where one is required (`server_max_window_bits`).
    MissingValue(String),
    /// Not a window size: 8..=15 in decimal without leading zeros.
    InvalidBits { name: String, value: String },
}

impl fmt::Display for ParamFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamFault::Unknown(n) => write!(f, "unknown parameter {n}"),
            ParamFault::Duplicate(n) => write!(f, "parameter {n} given twice"),
            ParamFault::UnexpectedValue { name, value } => {
                write!(f, "{name} takes no value (got {value:?})")
            }
            ParamFault::MissingValue(n) => write!(f, "{n} needs a value"),
            ParamFault::InvalidBits { name, value } => write!(
                f,
                "{name}={value:?} is not a window size (8 to 15, no leading zeros)"
            ),
        }
    }
}

fn window_bits(name: &str, value: &str) -> Result<u8, ParamFault> {
    let ok = !value.is_empty()
        && value.len() <= 2
        && value.bytes().all(|b| b.is_ascii_digit())
        && !value.starts_with('0');
    match value.parse::<u8>() {
        Ok(bits) if ok && (8..=15).contains(&bits) => Ok(bits),
        _ => Err(ParamFault::InvalidBits {
            name: name.to_string(),
            value: value.to_string(),
        }),
    }
}

/// A client's permessage-deflate offer, validated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Offer {
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
    pub server_max_window_bits: Option<u8>,
    /// `None`: absent; `Some(None)`: present without a value (the client
    /// supports the parameter, the server picks); `Some(Some(n))`: at most n.
    pub client_max_window_bits: Option<Option<u8>>,
}

/// A server's permessage-deflate response, validated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Response {
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
    pub server_max_window_bits: Option<u8>,
    pub client_max_window_bits: Option<u8>,
}

/// The four parameters, each at most once: the part both directions share.
#[derive(Default)]
struct Seen {
    snct: bool,
    cnct: bool,
    smwb: Option<u8>,
    cmwb: Option<Option<u8>>,
}

fn read_params(params: &[Param], client_bits_value_required: bool) -> Result<Seen, ParamFault> {
    let mut seen = Seen::default();
    let mut names: Vec<&str> = Vec::new();
    for p in params {
        let name = p.name.to_ascii_lowercase();
        if names.contains(&name.as_str()) {
            return Err(ParamFault::Duplicate(p.name.clone()));
        }
        let flag = |v: &Option<String>| match v {
            Some(value) => Err(ParamFault::UnexpectedValue {
                name: p.name.clone(),
                value: value.clone(),
            }),
            None => Ok(true),
        };
        match name.as_str() {
            "server_no_context_takeover" => seen.snct = flag(&p.value)?,
            "client_no_context_takeover" => seen.cnct = flag(&p.value)?,
            "server_max_window_bits" => match &p.value {
                Some(v) => seen.smwb = Some(window_bits(&p.name, v)?),
                None => return Err(ParamFault::MissingValue(p.name.clone())),
            },
            "client_max_window_bits" => match &p.value {
                Some(v) => seen.cmwb = Some(Some(window_bits(&p.name, v)?)),
                None if client_bits_value_required => {
                    return Err(ParamFault::MissingValue(p.name.clone()))
                }
                None => seen.cmwb = Some(None),
            },
            _ => return Err(ParamFault::Unknown(p.name.clone())),
        }
        // Names are matched case-insensitively; remember the lower form.
        names.push(match name.as_str() {
            "server_no_context_takeover" => "server_no_context_takeover",
            "client_no_context_takeover" => "client_no_context_takeover",
            "server_max_window_bits" => "server_max_window_bits",
            _ => "client_max_window_bits",
        });
    }
    Ok(seen)
}

impl Offer {
    /// Validates the parameters of one permessage-deflate offer.
    pub fn from_params(params: &[Param]) -> Result<Offer, ParamFault> {
        let s = read_params(params, false)?;
        Ok(Offer {
            server_no_context_takeover: s.snct,
            client_no_context_takeover: s.cnct,
            server_max_window_bits: s.smwb,
            client_max_window_bits: s.cmwb,
        })
    }

    /// The offer as an extension, parameters in RFC 7692's order.
    pub fn to_extension(&self) -> Extension {
        let mut params = Vec::new();
        let flag = |name: &str| Param {
            name: name.to_string(),
            value: None,
        };
        if self.server_no_context_takeover {
            params.push(flag("server_no_context_takeover"));
        }
        if self.client_no_context_takeover {
            params.push(flag("client_no_context_takeover"));
        }
        if let Some(bits) = self.server_max_window_bits {
            params.push(Param {
                name: "server_max_window_bits".into(),
                value: Some(bits.to_string()),
            });
        }
        if let Some(bits) = self.client_max_window_bits {
            params.push(Param {
                name: "client_max_window_bits".into(),
                value: bits.map(|b| b.to_string()),
            });
        }
        Extension {
            name: PERMESSAGE_DEFLATE.into(),
            params,
        }
    }
}

impl Response {
    /// Validates the parameters of a permessage-deflate response.
    pub fn from_params(params: &[Param]) -> Result<Response, ParamFault> {
        let s = read_params(params, true)?;
        Ok(Response {
            server_no_context_takeover: s.snct,
            client_no_context_takeover: s.cnct,
            server_max_window_bits: s.smwb,
            client_max_window_bits: s.cmwb.flatten(),
        })
    }

    pub fn to_extension(&self) -> Extension {
        let offer = Offer {
            server_no_context_takeover: self.server_no_context_takeover,
            client_no_context_takeover: self.client_no_context_takeover,
            server_max_window_bits: self.server_max_window_bits,
            client_max_window_bits: self.client_max_window_bits.map(Some),
        };
        offer.to_extension()
    }

    /// What this response makes both ends do.
    pub fn agreement(&self) -> Agreement {
        Agreement {
            server_no_context_takeover: self.server_no_context_takeover,
            client_no_context_takeover: self.client_no_context_takeover,
            server_max_window_bits: self.server_max_window_bits.unwrap_or(15),
            client_max_window_bits: self.client_max_window_bits.unwrap_or(15),
        }
    }
}

/// What both ends agreed: who resets its context after each message and
/// the largest window each direction may use (bits; 15 when not limited).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Agreement {
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
    pub server_max_window_bits: u8,
    pub client_max_window_bits: u8,
}

impl Default for Agreement {
    fn default() -> Self {
        Agreement {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        }
    }
}

impl fmt::Display for Agreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "server window {} bits{}, client window {} bits{}",
            self.server_max_window_bits,
            if self.server_no_context_takeover {
                " without context takeover"
            } else {
                ""
            },
            self.client_max_window_bits,
            if self.client_no_context_takeover {
                " without context takeover"
            } else {
                ""
            },
        )
    }
}

/// How a server (wsspec under `serve`) answers offers: what it asks of the
/// client and what it says of itself. The default accepts the first valid
/// offer as it stands, as Autobahn's 12.x do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AcceptPolicy {
    /// Answer `client_no_context_takeover`.
    pub client_no_context_takeover: bool,
    /// Answer `client_max_window_bits=N`; only to an offer that has
    /// `client_max_window_bits` (RFC 7692 7.1.2.2), else the offer is passed over.
    pub client_max_window_bits: Option<u8>,
    /// With `client_max_window_bits`: an offer without the parameter is
    /// accepted without the limit instead of passed over (Autobahn's 13.7).
    pub client_bits_if_offered: bool,
    /// Answer `server_no_context_takeover` even when not asked (7.1.1.1 allows it).
    pub server_no_context_takeover: bool,
    /// Limit the server's window even when not asked (7.1.2.1 allows it);
    /// never above what the offer asked.
    pub server_max_window_bits: Option<u8>,
}

/// A server's answer to a list of offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The response to send, if some offer was accepted.
    pub accepted: Option<(Response, Agreement)>,
    /// Offers passed over and why (index in the header, reason).
    pub declined: Vec<(usize, String)>,
}

/// Picks the first permessage-deflate offer `policy` can accept (RFC 7692
/// 7.1: invalid offers are declined, never accepted as given); the answer
/// says what was passed over.
pub fn answer_offers(offers: &[Extension], policy: &AcceptPolicy) -> Answer {
    let mut declined = Vec::new();
    for (i, ext) in offers.iter().enumerate() {
        if !ext.name.eq_ignore_ascii_case(PERMESSAGE_DEFLATE) {
            continue;
        }
        let offer = match Offer::from_params(&ext.params) {
            Ok(o) => o,
            Err(fault) => {
                declined.push((i, fault.to_string()));
                continue;
            }
        };
        if policy.client_max_window_bits.is_some()
            && offer.client_max_window_bits.is_none()
            && !policy.client_bits_if_offered
        {
            declined.push((
                i,
                "the policy limits the client's window and the offer has no client_max_window_bits"
                    .into(),
            ));
            continue;
        }
        let client_bits = match (policy.client_max_window_bits, offer.client_max_window_bits) {
            (Some(want), Some(Some(limit))) => Some(want.min(limit)),
            (Some(want), Some(None)) => Some(want),
            (_, None) | (None, _) => None,
        };
        let server_bits = match (offer.server_max_window_bits, policy.server_max_window_bits) {
            (Some(asked), Some(own)) => Some(asked.min(own)),
            (asked, own) => asked.or(own),
        };
        let response = Response {
            server_no_context_takeover: offer.server_no_context_takeover
                || policy.server_no_context_takeover,
            client_no_context_takeover: policy.client_no_context_takeover,
            server_max_window_bits: server_bits,
            client_max_window_bits: client_bits,
        };
        return Answer {
            accepted: Some((response, response.agreement())),
            declined,
        };
    }
    Answer {
        accepted: None,
        declined,
    }
}

/// Why a client must fail the connection on a server's extension response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseFault {
    /// The value does not parse (RFC 6455 9.1).
    Syntax(SyntaxError),
    /// An extension the client did not offer (RFC 6455 9.1).
    NotOffered(String),
    /// permessage-deflate twice in one response.
    TwoResponses,
    /// A parameter fault (RFC 7692 7.1).
    Param(ParamFault),
    /// `client_max_window_bits` in the response to offers that never had it
    /// (RFC 7692 7.1.2.2).
    UnofferedClientBits,
    /// `client_max_window_bits` above what every offer allowed.
    ClientBitsAboveOffer { got: u8, offered: u8 },
    /// `server_max_window_bits` above what the offers asked (RFC 7692 7.1.2.1).
    ServerBitsAboveOffer { got: u8, asked: u8 },
    /// The offer asked for `server_no_context_takeover` or
    /// `server_max_window_bits` and the response leaves it out: a server
    /// accepts such an offer only by including the parameter (7.1.1.1, 7.1.2.1).
    LeftOut(&'static str),
}

impl fmt::Display for ResponseFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResponseFault::Syntax(e) => write!(
                f,
                "Sec-WebSocket-Extensions does not parse: {e} (RFC 6455 9.1)"
            ),
            ResponseFault::NotOffered(n) => {
                write!(f, "extension {n} was not offered (RFC 6455 9.1)")
            }
            ResponseFault::TwoResponses => write!(
                f,
                "permessage-deflate accepted twice, both using RSV1 (RFC 7692 5.1)"
            ),
            ResponseFault::Param(p) => write!(f, "permessage-deflate response: {p} (RFC 7692 7.1)"),
            ResponseFault::UnofferedClientBits => write!(
                f,
                "client_max_window_bits in the response, but no offer had it (RFC 7692 7.1.2.2)"
            ),
            ResponseFault::ClientBitsAboveOffer { got, offered } => write!(
                f,
                "client_max_window_bits={got} is above the offered {offered}"
            ),
            ResponseFault::ServerBitsAboveOffer { got, asked } => write!(
                f,
                "server_max_window_bits={got} is above the {asked} asked for (RFC 7692 7.1.2.1)"
            ),
            ResponseFault::LeftOut(name) => write!(
                f,
                "the offer asked for {name} and the response leaves it out, so it accepts no offer (RFC 7692 7.1.1.1, 7.1.2.1)"
            ),
        }
    }
}

/// What a client concludes from the server's `Sec-WebSocket-Extensions`
/// (`None`: the header was absent or empty): the agreement with the index of
/// the first offer the response fits, `None` when the server declined, or
/// the fault that must fail the connection. A response may match any of the
/// offers (RFC 7692 5.1: the server picks one).
pub fn check_response(
    offers: &[Offer],
    header: Option<&str>,
) -> Result<Option<(Agreement, usize)>, ResponseFault> {
    let Some(value) = header else {
        return Ok(None);
    };
    let extensions = parse_header(value).map_err(ResponseFault::Syntax)?;
    let mut found: Option<Response> = None;
    for ext in &extensions {
        if !ext.name.eq_ignore_ascii_case(PERMESSAGE_DEFLATE) || offers.is_empty() {
            return Err(ResponseFault::NotOffered(ext.name.clone()));
        }
        if found.is_some() {
            return Err(ResponseFault::TwoResponses);
        }
        found = Some(Response::from_params(&ext.params).map_err(ResponseFault::Param)?);
    }
    let Some(response) = found else {
        return Ok(None);
    };
    // The response must fit at least one offer; report the first misfit
    // when none fits.
    let mut first_fault = None;
    for (i, offer) in offers.iter().enumerate() {
        match fits(offer, &response) {
            Ok(()) => return Ok(Some((response.agreement(), i))),
            Err(fault) => {
                first_fault.get_or_insert(fault);
            }
        }
    }
    match first_fault {
        Some(fault) => Err(fault),
        None => Ok(Some((response.agreement(), 0))),
    }
}

fn fits(offer: &Offer, response: &Response) -> Result<(), ResponseFault> {
    if let Some(got) = response.client_max_window_bits {
        match offer.client_max_window_bits {
            None => return Err(ResponseFault::UnofferedClientBits),
            Some(Some(offered)) if got > offered => {
                return Err(ResponseFault::ClientBitsAboveOffer { got, offered })
            }
            Some(_) => {}
        }
    }
    match (
        offer.server_max_window_bits,
        response.server_max_window_bits,
    ) {
        (Some(asked), Some(got)) if got > asked => {
            return Err(ResponseFault::ServerBitsAboveOffer { got, asked })
        }
        (Some(_), None) => return Err(ResponseFault::LeftOut("server_max_window_bits")),
        _ => {}
    }
    if offer.server_no_context_takeover && !response.server_no_context_takeover {
        return Err(ResponseFault::LeftOut("server_no_context_takeover"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(v: &str) -> Vec<Extension> {
        parse_header(v).expect("parses")
    }

    #[test]
    fn the_header_grammar_with_quotes_lists_and_spaces() {
        let got = ext("permessage-deflate; client_max_window_bits, permessage-deflate ;server_max_window_bits=\"10\" , x-foo");
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].params[0].name, "client_max_window_bits");
        assert_eq!(got[0].params[0].value, None);
        assert_eq!(got[1].params[0].value.as_deref(), Some("10"));
        assert_eq!(got[2].name, "x-foo");
        assert!(got[2].params.is_empty());
        assert_eq!(ext("a, ,b").len(), 2, "empty list elements are skipped");
        assert!(ext("").is_empty());
        assert_eq!(
            ext("a; b=\"x\\yz\"")[0].params[0].value.as_deref(),
            Some("xyz")
        );
    }

    #[test]
    fn header_syntax_errors_say_where() {
        for (bad, what) in [
            ("; x", "expected an extension name"),
            ("a; ", "expected a parameter name"),
            ("a; b=", "expected a parameter value"),
            ("a b", "expected ';'"),
            ("a; b=\"1", "unterminated"),
            ("a; b=\"\"", "must be a token"),
            ("a; b=\"x y\"", "must be a token"),
            ("a; b=\"x\\", "unterminated"),
        ] {
            let err = parse_header(bad).expect_err(bad);
            assert!(err.what.contains(what), "{bad}: {err}");
        }
        assert_eq!(parse_header("a b").expect_err("bad").at, 2);
    }

    #[test]
    fn format_round_trips() {
        let text = "permessage-deflate; client_no_context_takeover; server_max_window_bits=10, x";
        assert_eq!(format_header(&ext(text)), text);
    }

    fn offer(v: &str) -> Result<Offer, ParamFault> {
        Offer::from_params(&ext(v)[0].params)
    }

    #[test]
    fn offers_validate_every_parameter() {
        assert_eq!(offer("permessage-deflate"), Ok(Offer::default()));
        let full = offer("permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=12")
            .expect("valid");
        assert_eq!(
            full,
            Offer {
                server_no_context_takeover: true,
                client_no_context_takeover: true,
                server_max_window_bits: Some(9),
                client_max_window_bits: Some(Some(12)),
            }
        );
        assert_eq!(
            offer("permessage-deflate; client_max_window_bits")
                .expect("valid")
                .client_max_window_bits,
            Some(None)
        );
        assert_eq!(
            offer("permessage-deflate; Server_Max_Window_Bits=8")
                .expect("names are case-insensitive")
                .server_max_window_bits,
            Some(8)
        );
        for (bad, fault) in [
            ("x; server_max_window_bits=7", "not a window size"),
            ("x; server_max_window_bits=16", "not a window size"),
            ("x; server_max_window_bits=09", "not a window size"),
            ("x; server_max_window_bits=abc", "not a window size"),
            ("x; client_max_window_bits=0", "not a window size"),
            ("x; server_max_window_bits", "needs a value"),
            ("x; server_no_context_takeover=1", "takes no value"),
            ("x; client_no_context_takeover=true", "takes no value"),
            ("x; mystery", "unknown parameter"),
            (
                "x; server_no_context_takeover; server_no_context_takeover",
                "twice",
            ),
            (
                "x; client_max_window_bits; CLIENT_MAX_WINDOW_BITS=9",
                "twice",
            ),
        ] {
            let got = offer(bad).expect_err(bad);
            assert!(got.to_string().contains(fault), "{bad}: {got}");
        }
    }

    #[test]
    fn responses_need_a_value_for_client_bits() {
        let r = Response::from_params(&ext("p; client_max_window_bits")[0].params);
        assert_eq!(
            r,
            Err(ParamFault::MissingValue("client_max_window_bits".into()))
        );
        let r =
            Response::from_params(&ext("p; client_max_window_bits=10")[0].params).expect("valid");
        assert_eq!(r.client_max_window_bits, Some(10));
        assert_eq!(r.agreement().client_max_window_bits, 10);
        assert_eq!(r.agreement().server_max_window_bits, 15);
    }

    fn answer(header: &str, policy: AcceptPolicy) -> Answer {
        answer_offers(&ext(header), &policy)
    }

    #[test]
    fn a_server_accepts_the_first_valid_offer_and_declines_invalid_ones() {
        let a = answer(
            "x-other, permessage-deflate; server_max_window_bits=7, permessage-deflate; mystery, permessage-deflate; server_no_context_takeover",
            AcceptPolicy::default(),
        );
        let (response, agreed) = a.accepted.expect("the fourth offer");
        assert!(
            response.server_no_context_takeover,
            "asked for, so answered"
        );
        assert!(agreed.server_no_context_takeover);
        assert_eq!(a.declined.len(), 2);
        assert_eq!(a.declined[0].0, 1);
        assert!(a.declined[1].1.contains("mystery"));
        assert_eq!(
            format_header(&[response.to_extension()]),
            "permessage-deflate; server_no_context_takeover"
        );
        assert!(answer("x-other", AcceptPolicy::default())
            .accepted
            .is_none());
    }

    #[test]
    fn autobahns_accept_policies() {
        // 13.3's accept: client_max_window_bits=9 only to an offer that has
        // client_max_window_bits; Autobahn's default offer has it.
        let limit9 = AcceptPolicy {
            client_max_window_bits: Some(9),
            ..AcceptPolicy::default()
        };
        let default_offer =
            "permessage-deflate; client_no_context_takeover; client_max_window_bits";
        let (r, agreed) = answer(default_offer, limit9).accepted.expect("accepted");
        assert_eq!(r.client_max_window_bits, Some(9));
        assert_eq!(agreed.client_max_window_bits, 9);
        assert!(answer("permessage-deflate", limit9).accepted.is_none());
        // 13.7's fallback: the limit only where the offer allows it.
        let if_offered = AcceptPolicy {
            client_bits_if_offered: true,
            client_no_context_takeover: true,
            ..limit9
        };
        let (r, _) = answer("permessage-deflate", if_offered)
            .accepted
            .expect("accepted without the limit");
        assert_eq!(r.client_max_window_bits, None);
        assert!(r.client_no_context_takeover);
        let (r, _) = answer(default_offer, if_offered)
            .accepted
            .expect("accepted");
        assert_eq!(r.client_max_window_bits, Some(9));
        // Never above what the client allowed.
        let (r, _) = answer("permessage-deflate; client_max_window_bits=8", limit9)
            .accepted
            .expect("accepted");
        assert_eq!(r.client_max_window_bits, Some(8));
        // The server's own limit never exceeds what was asked.
        let own12 = AcceptPolicy {
            server_max_window_bits: Some(12),
            ..AcceptPolicy::default()
        };
        let (r, _) = answer("permessage-deflate; server_max_window_bits=10", own12)
            .accepted
            .expect("accepted");
        assert_eq!(r.server_max_window_bits, Some(10));
        let (r, _) = answer("permessage-deflate", own12)
            .accepted
            .expect("accepted");
        assert_eq!(r.server_max_window_bits, Some(12));
        let (r, _) = answer(
            "permessage-deflate",
            AcceptPolicy {
                client_no_context_takeover: true,
                server_no_context_takeover: true,
                ..AcceptPolicy::default()
            },
        )
        .accepted
        .expect("accepted");
        assert!(r.client_no_context_takeover && r.server_no_context_takeover);
    }

    fn offers(header: &str) -> Vec<Offer> {
        ext(header)
            .iter()
            .map(|e| Offer::from_params(&e.params).expect("valid offer"))
            .collect()
    }

    #[test]
    fn a_client_refuses_what_rfc_7692_says_it_must() {
        let plain = offers("permessage-deflate");
        let with_bits =
            offers("permessage-deflate; client_max_window_bits=10; server_max_window_bits=10");
        let check = |o: &[Offer], h: &str| {
            check_response(o, Some(h)).map(|a| a.map(|(agreement, _)| agreement))
        };
        assert_eq!(
            check(&plain, "permessage-deflate"),
            Ok(Some(Agreement::default()))
        );
        assert_eq!(check_response(&plain, None), Ok(None));
        assert_eq!(check(&plain, ""), Ok(None));
        assert_eq!(
            check(&plain, "permessage-deflate; client_max_window_bits=10"),
            Err(ResponseFault::UnofferedClientBits)
        );
        assert_eq!(
            check(&with_bits, "permessage-deflate; client_max_window_bits=11"),
            Err(ResponseFault::ClientBitsAboveOffer {
                got: 11,
                offered: 10
            })
        );
        assert_eq!(
            check(&with_bits, "permessage-deflate; server_max_window_bits=12"),
            Err(ResponseFault::ServerBitsAboveOffer { got: 12, asked: 10 })
        );
        let ok = check(
            &with_bits,
            "permessage-deflate; server_max_window_bits=9; client_max_window_bits=8",
        )
        .expect("valid")
        .expect("agreed");
        assert_eq!(
            (ok.server_max_window_bits, ok.client_max_window_bits),
            (9, 8)
        );
        // The server may add these on its own (7.1.1.1, 7.1.2.1).
        let ok = check(
            &plain,
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=9",
        )
        .expect("valid")
        .expect("agreed");
        assert!(ok.server_no_context_takeover);
        assert_eq!(
            check(&plain, "x-unknown"),
            Err(ResponseFault::NotOffered("x-unknown".into()))
        );
        assert_eq!(
            check(&[], "permessage-deflate"),
            Err(ResponseFault::NotOffered("permessage-deflate".into()))
        );
        assert_eq!(
            check(&plain, "permessage-deflate, permessage-deflate"),
            Err(ResponseFault::TwoResponses)
        );
        assert!(matches!(
            check(&plain, "permessage-deflate; mystery"),
            Err(ResponseFault::Param(ParamFault::Unknown(_)))
        ));
        assert!(matches!(
            check(&plain, "a b"),
            Err(ResponseFault::Syntax(_))
        ));
        // A response fits any one of several offers.
        let several = offers("permessage-deflate; server_max_window_bits=9, permessage-deflate");
        assert!(check(&several, "permessage-deflate; server_max_window_bits=12").is_ok());
        assert_eq!(
            check_response(
                &several,
                Some("permessage-deflate; server_max_window_bits=12")
            )
            .map(|a| a.map(|(_, i)| i)),
            Ok(Some(1)),
            "the second offer is the one that fits"
        );
        assert_eq!(
            check(
                &offers("permessage-deflate; server_max_window_bits=9"),
                "permessage-deflate"
            ),
            Err(ResponseFault::LeftOut("server_max_window_bits"))
        );
        assert_eq!(
            check(
                &offers("permessage-deflate; server_no_context_takeover"),
                "permessage-deflate"
            ),
            Err(ResponseFault::LeftOut("server_no_context_takeover"))
        );
        let agreed = check(&several, "permessage-deflate")
            .expect("ok")
            .expect("agreed");
        assert_eq!(
            agreed.to_string(),
            "server window 15 bits, client window 15 bits"
        );
    }
}
