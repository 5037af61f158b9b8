//! The reference peer's own permessage-deflate negotiation (RFC 7692 7.1),
//! written apart from wsspec's `deflate` module so that a misreading of the RFC
//! there is not confirmed here. It parses `Sec-WebSocket-Extensions` (RFC 6455
//! 9.1: a comma list of extensions, each with `;` parameters whose values may
//! be tokens or quoted strings), picks as the server the first offer it can
//! honour and passes over invalid ones (unknown or repeated parameters, window
//! bits outside 8..15 or not a plain number, values where none belong),
//! writes the client's offer and checks the server's answer as a client must.
//! What both sides agreed is an [`Agreement`], which the echo session
//! ([`super::deflate_echo`]) hands to yawc in the normalized form yawc reads.

/// One extension of an extension list: its name and its parameters, with any
/// quoted value unquoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    pub name: String,
    pub params: Vec<(String, Option<String>)>,
}

/// RFC 7230 tchar.
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_tchar)
}

/// Splits `s` on `sep` where it is outside a quoted string.
fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            parts.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&s[start..]);
    parts
}

/// A parameter value: a token, or a quoted string whose content, unescaped, is
/// a token (RFC 6455 9.1).
fn param_value(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let value = match raw.strip_prefix('"') {
        Some(rest) => {
            let inner = rest.strip_suffix('"')?;
            let mut out = String::new();
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => out.push(chars.next()?),
                    '"' => return None,
                    c => out.push(c),
                }
            }
            out
        }
        None => raw.to_string(),
    };
    is_token(&value).then_some(value)
}

/// One element of an extension list; None when it does not follow RFC 6455
/// 9.1.
fn parse_extension(element: &str) -> Option<Extension> {
    let mut parts = split_outside_quotes(element, ';').into_iter();
    let name = parts.next()?.trim();
    if !is_token(name) {
        return None;
    }
    let mut params = Vec::new();
    for part in parts {
        let (key, value) = match part.split_once('=') {
            Some((k, v)) => (k.trim(), Some(param_value(v)?)),
            None => (part.trim(), None),
        };
        if !is_token(key) {
            return None;
        }
        params.push((key.to_ascii_lowercase(), value));
    }
    Some(Extension {
        name: name.to_ascii_lowercase(),
        params,
    })
}

/// Every element of the header values (several header lines form one list).
/// A malformed element is None, so that it can be passed over without losing
/// its neighbours.
pub fn parse_list<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Option<Extension>> {
    values
        .into_iter()
        .flat_map(|v| split_outside_quotes(v, ','))
        .filter(|e| !e.trim().is_empty())
        .map(parse_extension)
        .collect()
}

pub const PERMESSAGE_DEFLATE: &str = "permessage-deflate";

/// A window size: "a decimal integer value without leading zeroes between 8
/// to 15, inclusive" (RFC 7692 7.1.2.1).
fn window_bits(value: &str) -> Option<u8> {
    if value.starts_with('0') || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok().filter(|b| (8..=15).contains(b))
}

/// The parameters of one permessage-deflate offer or answer, checked for the
/// faults RFC 7692 7.1 lists: an unknown parameter, one given twice, a value
/// where none belongs, an invalid window size. `client_max_window_bits` may
/// come without a value (`Some(None)`) only in an offer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Params {
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
    pub server_max_window_bits: Option<u8>,
    pub client_max_window_bits: Option<Option<u8>>,
}

impl Params {
    fn read(ext: &Extension, in_offer: bool) -> Result<Params, String> {
        let mut p = Params::default();
        let mut seen: Vec<&str> = Vec::new();
        for (key, value) in &ext.params {
            if seen.contains(&key.as_str()) {
                return Err(format!("{key} is given twice"));
            }
            seen.push(key);
            let bits = || {
                value
                    .as_deref()
                    .map(|v| window_bits(v).ok_or_else(|| format!("{key}={v} is not 8..15")))
                    .transpose()
            };
            match key.as_str() {
                "server_no_context_takeover" | "client_no_context_takeover" if value.is_some() => {
                    return Err(format!("{key} takes no value"))
                }
                "server_no_context_takeover" => p.server_no_context_takeover = true,
                "client_no_context_takeover" => p.client_no_context_takeover = true,
                "server_max_window_bits" => match bits()? {
                    Some(b) => p.server_max_window_bits = Some(b),
                    None => return Err(format!("{key} needs a value")),
                },
                "client_max_window_bits" => match bits()? {
                    None if !in_offer => return Err(format!("{key} needs a value in an answer")),
                    b => p.client_max_window_bits = Some(b),
                },
                _ => return Err(format!("unknown parameter {key}")),
            }
        }
        Ok(p)
    }
}

/// What was agreed for one connection, in the terms of each direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agreement {
    /// Window of what the server compresses (15 unless limited).
    pub server_window: u8,
    /// Window of what the client compresses (15 unless limited).
    pub client_window: u8,
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
}

impl Agreement {
    /// The agreement as the `Sec-WebSocket-Extensions` value yawc reads
    /// (parameters it does not need are left out; windows only when limited).
    /// zlib has no 8-bit window: an agreed 8 becomes 9, which is still within
    /// the agreement both ways. A 9-bit inflater reads 8-bit streams, and zlib's
    /// compressor (zlib-rs here) never refers further back than its window less
    /// its 262-byte lookahead, 250 bytes for a 9-bit window, inside the 256 an
    /// 8-bit window allows.
    pub fn yawc_form(&self) -> String {
        let mut s = PERMESSAGE_DEFLATE.to_string();
        if self.server_no_context_takeover {
            s.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            s.push_str("; client_no_context_takeover");
        }
        for (name, bits) in [
            ("server_max_window_bits", self.server_window),
            ("client_max_window_bits", self.client_window),
        ] {
            if bits < 15 {
                s.push_str(&format!("; {name}={}", bits.max(9)));
            }
        }
        s
    }
}

/// The server's choice among the client's offers: the first permessage-deflate
/// offer that is valid, accepted as it stands (its no-context-takeover asks and
/// window limits granted), with the answer to send. Invalid offers are passed
/// over; other extensions are never accepted. None: decline (answer without
/// the extension). Every valid offer can be honoured, `server_max_window_bits=8`
/// included (see [`Agreement::yawc_form`]).
pub fn answer(offers: &[Option<Extension>]) -> Option<(Agreement, String)> {
    offers
        .iter()
        .flatten()
        .filter(|e| e.name == PERMESSAGE_DEFLATE)
        .find_map(|e| Params::read(e, true).ok())
        .map(|p| {
            let agreed = Agreement {
                server_window: p.server_max_window_bits.unwrap_or(15),
                client_window: p.client_max_window_bits.flatten().unwrap_or(15),
                server_no_context_takeover: p.server_no_context_takeover,
                client_no_context_takeover: p.client_no_context_takeover,
            };
            let mut answer = PERMESSAGE_DEFLATE.to_string();
            if p.server_no_context_takeover {
                answer.push_str("; server_no_context_takeover");
            }
            if p.client_no_context_takeover {
                answer.push_str("; client_no_context_takeover");
            }
            if let Some(b) = p.server_max_window_bits {
                answer.push_str(&format!("; server_max_window_bits={b}"));
            }
            if let Some(Some(b)) = p.client_max_window_bits {
                answer.push_str(&format!("; client_max_window_bits={b}"));
            }
            (agreed, answer)
        })
}

/// What the reference client offers: plain permessage-deflate, or with
/// `client_max_window_bits` (no value: any window the server names), which lets
/// the server limit the client's window (Autobahn's 13.3-13.6 do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientOffer {
    pub client_max_window_bits: bool,
}

impl ClientOffer {
    pub fn header_value(&self) -> String {
        if self.client_max_window_bits {
            format!("{PERMESSAGE_DEFLATE}; client_max_window_bits")
        } else {
            PERMESSAGE_DEFLATE.to_string()
        }
    }

    /// RFC 7692 7.1 and RFC 6455 9.1: what a client checks in the server's
    /// answer to this offer. Ok(None): declined (no extension); Ok(Some):
    /// agreed; Err: the client must fail the connection, for the reason given.
    pub fn check<'a>(
        &self,
        answer: impl IntoIterator<Item = &'a str>,
    ) -> Result<Option<Agreement>, String> {
        let list = parse_list(answer);
        let ext = match list.as_slice() {
            [] => return Ok(None),
            [Some(ext)] if ext.name == PERMESSAGE_DEFLATE => ext,
            [Some(ext)] => {
                return Err(format!("the server accepted `{}`, never offered", ext.name))
            }
            [None] => return Err("the extension answer is malformed".into()),
            _ => return Err("the server accepted more than one extension".into()),
        };
        let p = Params::read(ext, false)?;
        if p.client_max_window_bits.is_some() && !self.client_max_window_bits {
            return Err("client_max_window_bits was not offered".into());
        }
        Ok(Some(Agreement {
            server_window: p.server_max_window_bits.unwrap_or(15),
            client_window: p.client_max_window_bits.flatten().unwrap_or(15),
            server_no_context_takeover: p.server_no_context_takeover,
            client_no_context_takeover: p.client_no_context_takeover,
        }))
    }
}

/// The reference client offers permessage-deflate for Autobahn's compression
/// groups (12, 13) and wsspec's `pmd` group only, so that every other case runs
/// on the connection it always had. Groups 12 and 13 get
/// `client_max_window_bits`; `pmd` gets the plain offer, which leaves a server
/// nothing to grant the client unasked (pmd.4 checks that it is refused).
pub fn client_offer_for(case_id: &str) -> Option<ClientOffer> {
    if case_id.starts_with("12.") || case_id.starts_with("13.") {
        Some(ClientOffer {
            client_max_window_bits: true,
        })
    } else if case_id.starts_with("pmd.") {
        Some(ClientOffer {
            client_max_window_bits: false,
        })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve(offer: &str) -> Option<(Agreement, String)> {
        answer(&parse_list([offer]))
    }

    #[test]
    fn parses_lists_params_and_quoted_values() {
        let list = parse_list([
            "x-a; level=3, permessage-deflate; server_max_window_bits=\"10\"",
            "foo;bar=\"a,b\"",
        ]);
        assert_eq!(list.len(), 3);
        assert_eq!(
            list[1],
            Some(Extension {
                name: "permessage-deflate".into(),
                params: vec![("server_max_window_bits".into(), Some("10".into()))],
            })
        );
        // "a,b" is no token once unquoted: the element is malformed, but whole.
        assert_eq!(list[2], None);
        assert_eq!(parse_list(["a b"]), vec![None]);
    }

    #[test]
    fn declines_every_invalid_offer() {
        for offer in [
            "permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=ten",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_max_window_bits=09",
            "permessage-deflate; server_max_window_bits=-9",
            "permessage-deflate; server_max_window_bits=+9",
            "permessage-deflate; client_max_window_bits=7",
            "permessage-deflate; client_max_window_bits=16",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
            "permessage-deflate; wsspec_unknown_parameter",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; client_no_context_takeover=true",
            "x-wsspec-unknown",
        ] {
            assert_eq!(serve(offer), None, "{offer}");
        }
    }

    #[test]
    fn accepts_valid_offers_as_they_stand() {
        let rows = [
            ("permessage-deflate", "permessage-deflate", (15, 15, false, false)),
            (
                "permessage-deflate; client_no_context_takeover; client_max_window_bits",
                "permessage-deflate; client_no_context_takeover",
                (15, 15, false, true),
            ),
            (
                "permessage-deflate; client_max_window_bits=10",
                "permessage-deflate; client_max_window_bits=10",
                (15, 10, false, false),
            ),
            (
                "PerMessage-Deflate; Server_No_Context_Takeover; server_max_window_bits=\"9\"",
                "permessage-deflate; server_no_context_takeover; server_max_window_bits=9",
                (9, 15, true, false),
            ),
            (
                "permessage-deflate; server_max_window_bits=7, x-other, permessage-deflate;client_max_window_bits=8",
                "permessage-deflate; client_max_window_bits=8",
                (15, 8, false, false),
            ),
            (
                "permessage-deflate; server_max_window_bits=8",
                "permessage-deflate; server_max_window_bits=8",
                (8, 15, false, false),
            ),
        ];
        for (offer, want_answer, (sw, cw, snct, cnct)) in rows {
            let (agreed, got) = serve(offer).expect(offer);
            assert_eq!(got, want_answer, "{offer}");
            assert_eq!(
                agreed,
                Agreement {
                    server_window: sw,
                    client_window: cw,
                    server_no_context_takeover: snct,
                    client_no_context_takeover: cnct,
                },
                "{offer}"
            );
        }
    }

    #[test]
    fn yawc_form_names_limited_windows_only() {
        let a = Agreement {
            server_window: 8,
            client_window: 15,
            server_no_context_takeover: true,
            client_no_context_takeover: false,
        };
        assert_eq!(
            a.yawc_form(),
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=9"
        );
    }

    #[test]
    fn client_refuses_what_rfc_7692_refuses() {
        let plain = ClientOffer {
            client_max_window_bits: false,
        };
        let with_bits = ClientOffer {
            client_max_window_bits: true,
        };
        for answer in [
            "x-wsspec-unoffered",
            "permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; wsspec_unknown_parameter",
            "permessage-deflate, permessage-deflate",
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; client_max_window_bits=10",
            "permessage-deflate; client_max_window_bits=16",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        ] {
            assert!(plain.check([answer]).is_err(), "{answer}");
        }
        assert!(with_bits
            .check(["permessage-deflate; client_max_window_bits"])
            .is_err());
        assert_eq!(plain.check([]), Ok(None));
    }

    #[test]
    fn client_accepts_what_the_server_may_add() {
        let plain = ClientOffer {
            client_max_window_bits: false,
        };
        let got = plain
            .check(["permessage-deflate; server_no_context_takeover; server_max_window_bits=9; client_no_context_takeover"])
            .expect("valid");
        assert_eq!(
            got,
            Some(Agreement {
                server_window: 9,
                client_window: 15,
                server_no_context_takeover: true,
                client_no_context_takeover: true,
            })
        );
        let with_bits = ClientOffer {
            client_max_window_bits: true,
        };
        assert_eq!(
            with_bits
                .check(["permessage-deflate; client_max_window_bits=9"])
                .map(|a| a.map(|a| a.client_window)),
            Ok(Some(9))
        );
    }

    #[test]
    fn offers_only_for_the_compression_groups() {
        assert!(client_offer_for("12.1.1").is_some_and(|o| o.client_max_window_bits));
        assert!(client_offer_for("13.7.18").is_some_and(|o| o.client_max_window_bits));
        assert!(client_offer_for("pmd.4.6").is_some_and(|o| !o.client_max_window_bits));
        assert_eq!(client_offer_for("1.1.1"), None);
        assert_eq!(client_offer_for("120.1"), None);
    }
}
