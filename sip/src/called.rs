//! Which of our numbers an inbound INVITE is for, sans-IO.
//!
//! Carriers do not agree on where the dialled number goes. A trunk puts it in the Request-URI
//! (`INVITE sip:+15550100@agent`); a registrar delivers to the registered contact
//! (`INVITE sip:fxreg@agent`) with the number only in `To`; some proxies add `P-Called-Party-ID`
//! (RFC 3455); a forwarded call keeps the number first dialled in `Diversion` (RFC 5806) or
//! `History-Info` (RFC 7044). [`find_called`] looks in the configured [`CalledSource`]s, in order.

use std::fmt;

/// A place in an INVITE where the called number may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CalledSource {
    /// The Request-URI user part.
    RequestUri,
    /// The `To` URI user part.
    To,
    /// The `P-Called-Party-ID` URI user part.
    PCalledPartyId,
    /// The first `Diversion` entry (the number the call was last diverted from).
    Diversion,
    /// The first `History-Info` entry (the number first dialled).
    HistoryInfo,
}

impl CalledSource {
    /// Where to look when nothing is configured: what trunks and registrars set. The forwarding
    /// headers name a number the call was diverted *from*, so they are consulted only when asked for.
    pub const DEFAULT: [CalledSource; 3] = [Self::RequestUri, Self::To, Self::PCalledPartyId];

    /// The setting's spelling (`request_uri`, `to`, `p_called_party_id`, `diversion`, `history_info`).
    pub fn name(self) -> &'static str {
        match self {
            Self::RequestUri => "request_uri",
            Self::To => "to",
            Self::PCalledPartyId => "p_called_party_id",
            Self::Diversion => "diversion",
            Self::HistoryInfo => "history_info",
        }
    }
}

impl fmt::Display for CalledSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The addressing headers of an INVITE, as received (values without the header name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalledHeaders {
    /// The Request-URI user part, if any.
    pub request_uri_user: Option<String>,
    /// The `To` header value.
    pub to: Option<String>,
    /// The first `P-Called-Party-ID` header value.
    pub p_called_party_id: Option<String>,
    /// The first `Diversion` header value (may hold several comma-separated entries).
    pub diversion: Option<String>,
    /// The first `History-Info` header value (may hold several comma-separated entries).
    pub history_info: Option<String>,
}

/// Which inbound numbers an endpoint answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Numbers {
    /// Any telephone number (`[sip] numbers` empty).
    Any,
    /// These numbers (compared by digits) or names (compared exactly, e.g. `fax` from a PBX).
    Listed(Vec<String>),
    /// None: an endpoint that only places calls.
    None,
}

impl Numbers {
    /// Whether `user` is one of the listed numbers.
    fn lists(&self, user: &str) -> bool {
        match self {
            Self::Listed(list) => list.iter().any(|n| same_number(n, user) || n == user),
            Self::Any | Self::None => false,
        }
    }
}

/// What an endpoint answers and where it looks for the called number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalledPolicy {
    /// The numbers answered.
    pub numbers: Numbers,
    /// Where to look, in order.
    pub sources: Vec<CalledSource>,
}

impl CalledPolicy {
    /// Answers `numbers`, looking in the default sources.
    pub fn new(numbers: Numbers) -> Self {
        Self {
            numbers,
            sources: CalledSource::DEFAULT.to_vec(),
        }
    }
}

/// A called number and where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Called {
    /// The user part (unmasked: mask before logging).
    pub number: String,
    /// Where it was.
    pub source: CalledSource,
}

/// What to do with an inbound INVITE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalledVerdict {
    /// The call is for us.
    Ours(Called),
    /// Not one of our numbers: the best guess at the called number (for the log), if any.
    Unknown(Option<Called>),
}

/// Finds the called number in `headers`, looking in `policy.sources` in order.
///
/// A listed number wins wherever it is found first; otherwise, with [`Numbers::Any`], the first
/// telephone number found (a user like `fxreg`, the registered contact, is not one), and failing that
/// the Request-URI user, as before sources were configurable.
pub fn find_called(headers: &CalledHeaders, policy: &CalledPolicy) -> CalledVerdict {
    let candidates: Vec<Called> = policy
        .sources
        .iter()
        .filter_map(|&source| {
            let user = match source {
                CalledSource::RequestUri => headers.request_uri_user.clone(),
                CalledSource::To => headers.to.as_deref().and_then(uri_user),
                CalledSource::PCalledPartyId => {
                    headers.p_called_party_id.as_deref().and_then(uri_user)
                }
                CalledSource::Diversion => headers
                    .diversion
                    .as_deref()
                    .and_then(first_entry)
                    .and_then(uri_user),
                CalledSource::HistoryInfo => headers
                    .history_info
                    .as_deref()
                    .and_then(first_entry)
                    .and_then(uri_user),
            }?;
            (!user.is_empty()).then_some(Called {
                number: user,
                source,
            })
        })
        .collect();
    if let Some(c) = candidates.iter().find(|c| policy.numbers.lists(&c.number)) {
        return CalledVerdict::Ours(c.clone());
    }
    let first_number = candidates.iter().find(|c| is_number(&c.number)).cloned();
    match policy.numbers {
        Numbers::Any => match first_number {
            Some(c) => CalledVerdict::Ours(c),
            None => match candidates
                .into_iter()
                .find(|c| c.source == CalledSource::RequestUri)
            {
                Some(c) => CalledVerdict::Ours(c),
                None => CalledVerdict::Unknown(None),
            },
        },
        Numbers::Listed(_) | Numbers::None => {
            CalledVerdict::Unknown(first_number.or_else(|| candidates.into_iter().next()))
        }
    }
}

/// Whether a configured number and a called user part are the same number (digits compared, `+` and
/// visual separators ignored).
pub fn same_number(configured: &str, called: &str) -> bool {
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let (a, b) = (digits(configured), digits(called));
    !a.is_empty() && a == b
}

/// A telephone number: an optional `+`, then digits, with the visual separators tel URIs allow.
pub fn is_number(user: &str) -> bool {
    let rest = user.strip_prefix('+').unwrap_or(user);
    rest.chars().any(|c| c.is_ascii_digit())
        && rest
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '.' | '(' | ')'))
}

/// The user part of the URI in a name-addr or addr-spec header value: `"Name" <sip:user@host>;tag=x`,
/// `sip:user@host;tag=x`, `<tel:+15550100;phone-context=x>`.
fn uri_user(value: &str) -> Option<String> {
    let value = value.trim();
    let uri = match (value.find('<'), value.find('>')) {
        (Some(open), Some(close)) if open < close => &value[open + 1..close],
        _ => value.split(';').next().unwrap_or_default(),
    };
    let uri = uri.trim();
    let (scheme, rest) = uri.split_once(':')?;
    let user = match scheme.to_ascii_lowercase().as_str() {
        "sip" | "sips" => rest.split_once('@')?.0,
        "tel" => rest,
        _ => return None,
    };
    // URI parameters (`;user=phone`, tel's `;phone-context=`) and headers (`?Reason=`) are not the user.
    let user = user.split([';', '?']).next().unwrap_or_default();
    Some(percent_decode(user))
}

/// The first comma-separated entry of a header value, commas inside `<…>` and quotes not counted.
fn first_entry(value: &str) -> Option<&str> {
    let (mut angle, mut quoted) = (false, false);
    for (i, c) in value.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' if !angle && !quoted => return Some(&value[..i]),
            _ => {}
        }
    }
    Some(value).filter(|v| !v.trim().is_empty())
}

/// `%2B15550100` → `+15550100` (escaped user parts occur); invalid escapes are kept as they are.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed() -> CalledPolicy {
        CalledPolicy::new(Numbers::Listed(vec!["+15550200".into()]))
    }

    fn all_sources(numbers: Numbers) -> CalledPolicy {
        CalledPolicy {
            numbers,
            sources: vec![
                CalledSource::RequestUri,
                CalledSource::To,
                CalledSource::PCalledPartyId,
                CalledSource::Diversion,
                CalledSource::HistoryInfo,
            ],
        }
    }

    fn ours(number: &str, source: CalledSource) -> CalledVerdict {
        CalledVerdict::Ours(Called {
            number: number.into(),
            source,
        })
    }

    /// A registrar's delivery: the registered contact in the Request-URI, the number elsewhere.
    fn registrar(to: &str) -> CalledHeaders {
        CalledHeaders {
            request_uri_user: Some("fxreg".into()),
            to: Some(to.into()),
            ..CalledHeaders::default()
        }
    }

    #[test]
    fn a_trunk_puts_the_number_in_the_request_uri() {
        let h = CalledHeaders {
            request_uri_user: Some("+15550200".into()),
            to: Some("<sip:+15550999@proxy>".into()),
            ..CalledHeaders::default()
        };
        assert_eq!(
            find_called(&h, &listed()),
            ours("+15550200", CalledSource::RequestUri)
        );
        // With any number accepted, the Request-URI number comes first too.
        assert_eq!(
            find_called(&h, &CalledPolicy::new(Numbers::Any)),
            ours("+15550200", CalledSource::RequestUri)
        );
    }

    #[test]
    fn a_registrar_puts_it_in_to() {
        let h = registrar("\"Fax\" <sip:+15550200@proxy.example;user=phone>;tag=abc");
        assert_eq!(
            find_called(&h, &listed()),
            ours("+15550200", CalledSource::To)
        );
        // Any number: `fxreg` is not a number, the To user is.
        assert_eq!(
            find_called(&h, &CalledPolicy::new(Numbers::Any)),
            ours("+15550200", CalledSource::To)
        );
        // tel URIs and escaped plus signs.
        assert_eq!(
            find_called(&registrar("<tel:+1-555-0200;phone-context=x>"), &listed()),
            ours("+1-555-0200", CalledSource::To)
        );
        assert_eq!(
            find_called(&registrar("sip:%2B15550200@proxy;tag=1"), &listed()),
            ours("+15550200", CalledSource::To)
        );
    }

    #[test]
    fn p_called_party_id() {
        let h = CalledHeaders {
            p_called_party_id: Some("<sip:15550200@ims.example>".into()),
            ..registrar("<sip:fxreg@proxy>")
        };
        assert_eq!(
            find_called(&h, &listed()),
            ours("15550200", CalledSource::PCalledPartyId)
        );
    }

    #[test]
    fn forwarding_headers_only_when_configured() {
        let diverted = CalledHeaders {
            diversion: Some(
                "<sip:+15550200@a.example>;reason=unconditional, <sip:+15550300@b.example>".into(),
            ),
            ..registrar("<sip:+15550999@proxy>")
        };
        assert_eq!(
            find_called(&diverted, &listed()),
            CalledVerdict::Unknown(Some(Called {
                number: "+15550999".into(),
                source: CalledSource::To
            }))
        );
        let with = all_sources(Numbers::Listed(vec!["+15550200".into()]));
        assert_eq!(
            find_called(&diverted, &with),
            ours("+15550200", CalledSource::Diversion)
        );
        // Only the first entry counts.
        let second = all_sources(Numbers::Listed(vec!["+15550300".into()]));
        assert!(matches!(
            find_called(&diverted, &second),
            CalledVerdict::Unknown(_)
        ));
        let history = CalledHeaders {
            history_info: Some(
                "<sip:+15550200@a.example?Reason=SIP%3Bcause%3D302>;index=1,<sip:fxreg@b>;index=1.1"
                    .into(),
            ),
            ..registrar("<sip:fxreg@proxy>")
        };
        assert_eq!(
            find_called(&history, &with),
            ours("+15550200", CalledSource::HistoryInfo)
        );
    }

    #[test]
    fn the_configured_order_decides() {
        let h = CalledHeaders {
            request_uri_user: Some("+15550300".into()),
            to: Some("<sip:+15550200@proxy>".into()),
            ..CalledHeaders::default()
        };
        let to_first = CalledPolicy {
            numbers: Numbers::Any,
            sources: vec![CalledSource::To, CalledSource::RequestUri],
        };
        assert_eq!(
            find_called(&h, &to_first),
            ours("+15550200", CalledSource::To)
        );
    }

    #[test]
    fn names_match_exactly_and_unknown_numbers_are_named_for_the_log() {
        let pbx = CalledHeaders {
            request_uri_user: Some("fax".into()),
            to: Some("<sip:fax@agent>".into()),
            ..CalledHeaders::default()
        };
        let named = CalledPolicy::new(Numbers::Listed(vec!["fax".into()]));
        assert_eq!(
            find_called(&pbx, &named),
            ours("fax", CalledSource::RequestUri)
        );
        // Any number, none in the request: the Request-URI user, as before.
        assert_eq!(
            find_called(&pbx, &CalledPolicy::new(Numbers::Any)),
            ours("fax", CalledSource::RequestUri)
        );
        assert_eq!(
            find_called(&registrar("<sip:+15550999@proxy>"), &listed()),
            CalledVerdict::Unknown(Some(Called {
                number: "+15550999".into(),
                source: CalledSource::To
            }))
        );
        assert!(matches!(
            find_called(&pbx, &CalledPolicy::new(Numbers::None)),
            CalledVerdict::Unknown(Some(_))
        ));
        assert_eq!(
            find_called(&CalledHeaders::default(), &listed()),
            CalledVerdict::Unknown(None)
        );
    }

    #[test]
    fn malformed_values_yield_nothing() {
        for bad in [
            "",
            "<>",
            "<sip:nohost>",
            "garbage",
            "<mailto:a@b>",
            "<sip:@host>",
        ] {
            assert!(
                matches!(
                    find_called(&registrar(bad), &CalledPolicy::new(Numbers::Any)),
                    CalledVerdict::Ours(Called {
                        source: CalledSource::RequestUri,
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
        assert_eq!(percent_decode("%2"), "%2");
        assert_eq!(percent_decode("%zz1"), "%zz1");
    }
}
