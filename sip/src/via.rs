//! Via corrections the SIP library does not make itself (RFC 3261 §17.1.1.3, §18.2.1), sans-IO over
//! header values.
//!
//! - The ACK for a non-2xx final response belongs to the INVITE's transaction and must carry the
//!   INVITE's top Via exactly; rsipstack builds it from the response, whose Via the far end extended
//!   with `received`/`rport=` values. [`InviteVias`] remembers our INVITEs' top Via by branch so the
//!   ACK can be given it back.
//! - A server adds `received` to a request's Via only when the sent-by host differs from the packet's
//!   source address; rsipstack also adds it when only the port differs (or is implied).
//!   [`tidy_received`] removes such a `received` from the Via we answer with.

use std::collections::VecDeque;

/// How many INVITEs' Vias are remembered: the ACK follows its final response within seconds, and a
/// line has at most a few dozen calls ringing, so older entries are long answered.
const REMEMBERED: usize = 256;

/// The top Via of INVITEs we sent, by branch (bounded: the oldest are forgotten first).
#[derive(Debug, Default)]
pub struct InviteVias {
    entries: VecDeque<(String, String)>,
}

impl InviteVias {
    /// Remembers the top Via value of an INVITE we send.
    pub fn sent_invite(&mut self, top_via: &str) {
        let Some(branch) = branch(top_via) else {
            return;
        };
        if self.entries.iter().any(|(b, _)| b == branch) {
            return;
        }
        if self.entries.len() == REMEMBERED {
            self.entries.pop_front();
        }
        self.entries
            .push_back((branch.to_owned(), top_via.trim().to_owned()));
    }

    /// The INVITE's top Via for an ACK whose top Via is `ack_via`, if they share a branch (an ACK for a
    /// 2xx has a branch of its own and keeps its Via). Kept for the ACK's retransmissions.
    pub fn for_ack(&self, ack_via: &str) -> Option<&str> {
        let branch = branch(ack_via)?;
        self.entries
            .iter()
            .find(|(b, _)| b == branch)
            .map(|(_, via)| via.as_str())
    }
}

/// The top value of a Via header value (`a, b` → `a`).
pub fn top_value(via: &str) -> &str {
    via.split(',').next().unwrap_or_default().trim()
}

/// The `branch` parameter of one Via value.
pub fn branch(via: &str) -> Option<&str> {
    params(via).find_map(|(name, value)| {
        name.eq_ignore_ascii_case("branch")
            .then_some(value)
            .flatten()
    })
}

/// One Via value without a `received` parameter that names the sent-by host itself; `None` when there
/// is nothing to remove.
pub fn tidy_received(via: &str) -> Option<String> {
    let via = via.trim();
    let (head, _) = via.split_once(';')?;
    let sent_by = head.split_whitespace().nth(1)?;
    let host = sent_by_host(sent_by);
    let redundant = params(via).any(|(name, value)| {
        name.eq_ignore_ascii_case("received")
            && value.is_some_and(|v| v.trim_matches(['[', ']']).eq_ignore_ascii_case(host))
    });
    if !redundant {
        return None;
    }
    let kept: Vec<&str> = via
        .split(';')
        .skip(1)
        .filter(|p| {
            !p.split('=')
                .next()
                .is_some_and(|n| n.trim().eq_ignore_ascii_case("received"))
        })
        .collect();
    let mut out = head.to_owned();
    for p in kept {
        out.push(';');
        out.push_str(p);
    }
    Some(out)
}

/// The host of a sent-by (`host`, `host:port`, `[v6]:port`), without brackets.
fn sent_by_host(sent_by: &str) -> &str {
    if let Some(rest) = sent_by.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    sent_by.split(':').next().unwrap_or_default()
}

fn params(via: &str) -> impl Iterator<Item = (&str, Option<&str>)> {
    via.split(';').skip(1).map(|p| match p.split_once('=') {
        Some((n, v)) => (n.trim(), Some(v.trim())),
        None => (p.trim(), None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &str = "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc;rport";

    #[test]
    fn the_ack_for_a_failure_gets_the_invites_via_back() {
        let mut vias = InviteVias::default();
        vias.sent_invite(INVITE);
        let from_response =
            "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc;rport=5070;received=192.0.2.1";
        assert_eq!(vias.for_ack(from_response), Some(INVITE));
        // A 2xx ACK has its own branch.
        assert_eq!(
            vias.for_ack("SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKother;rport"),
            None
        );
        assert_eq!(vias.for_ack("SIP/2.0/UDP 127.0.0.1:5070"), None);
    }

    #[test]
    fn memory_is_bounded() {
        let mut vias = InviteVias::default();
        for i in 0..REMEMBERED + 10 {
            vias.sent_invite(&format!("SIP/2.0/UDP h:1;branch=z9hG4bK{i}"));
        }
        assert_eq!(vias.entries.len(), REMEMBERED);
        assert_eq!(vias.for_ack("SIP/2.0/UDP h:1;branch=z9hG4bK0"), None);
        assert!(vias.for_ack("SIP/2.0/UDP h:1;branch=z9hG4bK265").is_some());
    }

    #[test]
    fn received_stays_only_when_the_host_differs() {
        // Only the port differed: the host is the same, so no `received` (rport carries the port).
        assert_eq!(
            tidy_received("SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx;received=127.0.0.1;rport=5080")
                .as_deref(),
            Some("SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx;rport=5080")
        );
        assert_eq!(
            tidy_received("SIP/2.0/UDP [::1]:5062;received=[::1];branch=z9hG4bKx").as_deref(),
            Some("SIP/2.0/UDP [::1]:5062;branch=z9hG4bKx")
        );
        // Behind NAT the host differs: kept.
        assert_eq!(
            tidy_received(
                "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKx;received=198.51.100.7;rport=1024"
            ),
            None
        );
        assert_eq!(
            tidy_received("SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKx"),
            None
        );
        assert_eq!(tidy_received("garbage"), None);
        assert_eq!(top_value("a;branch=1, b;branch=2"), "a;branch=1");
        assert_eq!(branch("SIP/2.0/UDP h;BRANCH=z9hG4bKq"), Some("z9hG4bKq"));
    }
}
