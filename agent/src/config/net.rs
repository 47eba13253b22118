//! Address rules: the AMI must stay on loopback or a private network, and plain-HTTP URLs are only for
//! local use.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

/// What kind of network an address belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrClass {
    Loopback,
    /// RFC 1918 (IPv4) or unique local fc00::/7 (IPv6).
    Private,
    /// 169.254/16 or fe80::/10.
    LinkLocal,
    /// 0.0.0.0 or :: — "every interface", which includes public ones.
    Unspecified,
    Public,
}

impl AddrClass {
    /// Loopback, private or link-local: not reachable from the Internet by itself.
    pub fn is_internal(self) -> bool {
        matches!(
            self,
            AddrClass::Loopback | AddrClass::Private | AddrClass::LinkLocal
        )
    }
}

pub fn classify(ip: IpAddr) -> AddrClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return classify_v4(v4);
            }
            if v6.is_loopback() {
                AddrClass::Loopback
            } else if v6.is_unspecified() {
                AddrClass::Unspecified
            } else if (v6.segments()[0] & 0xfe00) == 0xfc00 {
                AddrClass::Private
            } else if (v6.segments()[0] & 0xffc0) == 0xfe80 {
                AddrClass::LinkLocal
            } else {
                AddrClass::Public
            }
        }
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddrClass {
    if ip.is_loopback() {
        AddrClass::Loopback
    } else if ip.is_unspecified() {
        AddrClass::Unspecified
    } else if ip.is_private() {
        AddrClass::Private
    } else if ip.is_link_local() {
        AddrClass::LinkLocal
    } else {
        AddrClass::Public
    }
}

/// How a configured host name was judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostVerdict {
    /// An IP literal or resolved name whose every address is internal.
    Internal,
    /// A single-label name (`asterisk`, `localhost`) — a container or local host name, which only resolves on the
    /// local network. Accepted without resolving, because `--check` may run outside the container network.
    LocalName,
    /// At least one address is public or unspecified.
    NotInternal(IpAddr, AddrClass),
    /// A dotted name that did not resolve, so it could not be verified.
    Unresolvable,
    /// Not a valid host name or address.
    Invalid,
}

/// Judge a host (IP literal, `[v6]` literal, or name). Dotted names are resolved with the system resolver.
pub fn judge_host(host: &str) -> HostVerdict {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']');
    if h.is_empty() {
        return HostVerdict::Invalid;
    }
    if let Ok(ip) = h.parse::<IpAddr>() {
        let class = classify(ip);
        return if class.is_internal() {
            HostVerdict::Internal
        } else {
            HostVerdict::NotInternal(ip, class)
        };
    }
    if !h
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
        || h.starts_with('-')
        || h.starts_with('.')
    {
        return HostVerdict::Invalid;
    }
    if !h.trim_end_matches('.').contains('.') {
        return HostVerdict::LocalName;
    }
    match (h, 0u16).to_socket_addrs() {
        Ok(addrs) => {
            let addrs: Vec<_> = addrs.collect();
            if addrs.is_empty() {
                return HostVerdict::Unresolvable;
            }
            for a in &addrs {
                let class = classify(a.ip());
                if !class.is_internal() {
                    return HostVerdict::NotInternal(a.ip(), class);
                }
            }
            HostVerdict::Internal
        }
        Err(_) => HostVerdict::Unresolvable,
    }
}

/// True for hosts that count as "local use" for plain HTTP: internal IP literals and single-label names.
/// Dotted names are not resolved here: a public DNS name must use HTTPS.
pub fn is_local_host(host: &str) -> bool {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = h.parse::<IpAddr>() {
        return classify(ip).is_internal();
    }
    !h.is_empty() && !h.contains('.') && h != Ipv6Addr::UNSPECIFIED.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        for (s, c) in [
            ("127.0.0.1", AddrClass::Loopback),
            ("10.1.2.3", AddrClass::Private),
            ("172.16.0.1", AddrClass::Private),
            ("172.31.255.255", AddrClass::Private),
            ("172.32.0.1", AddrClass::Public),
            ("192.168.1.1", AddrClass::Private),
            ("169.254.1.1", AddrClass::LinkLocal),
            ("0.0.0.0", AddrClass::Unspecified),
            ("8.8.8.8", AddrClass::Public),
            ("::1", AddrClass::Loopback),
            ("fd00::5", AddrClass::Private),
            ("fc00::5", AddrClass::Private),
            ("fe80::1", AddrClass::LinkLocal),
            ("::", AddrClass::Unspecified),
            ("2001:db8::1", AddrClass::Public),
            ("::ffff:192.168.0.1", AddrClass::Private),
            ("::ffff:8.8.8.8", AddrClass::Public),
        ] {
            assert_eq!(classify(s.parse().unwrap()), c, "{s}");
        }
    }
}
