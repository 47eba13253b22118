//! A model of Asterisk's own UDPTL datagram arithmetic (main/udptl.c), so we can predict what an
//! Asterisk peer will do with the values we advertise and check that it never has to truncate.
//!
//! Asterisk works in floating point and truncates: the far maximum IFP is the raw room × 0.95,
//! the advertised datagram is the room needed × 1.05, capped at 1400. This module reproduces that
//! arithmetic (written from the behaviour described in telephony.md §3.2, not copied); our own
//! sizing is in [`super::negotiate`] and is exact instead.

use super::negotiate::{DEFAULT_FAR_MAX_DATAGRAM, FAR_MAX_DATAGRAM_LIMIT};

/// Asterisk's error-correction setting for a UDPTL stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsteriskEc {
    /// `t38_udptl_ec=none`
    None,
    /// `t38_udptl_ec=redundancy` with this many entries (Asterisk's default is 3).
    Redundancy {
        /// Configured redundancy entries.
        entries: u32,
    },
    /// `t38_udptl_ec=fec`
    Fec,
}

/// The far maximum datagram Asterisk uses: the endpoint override when set, else the SDP value,
/// with 0 or anything above 1400 replaced by 400.
pub fn far_max_datagram(sdp_value: Option<u32>, endpoint_override: Option<u32>) -> u32 {
    match endpoint_override.filter(|&v| v != 0).or(sdp_value) {
        Some(v) if v != 0 && v <= FAR_MAX_DATAGRAM_LIMIT => v,
        _ => DEFAULT_FAR_MAX_DATAGRAM,
    }
}

/// The largest IFP Asterisk will send to a far end with this maximum datagram (larger IFPs are
/// truncated by Asterisk), and the redundancy entries it ends up using: while the room per copy
/// is below 80 bytes and more than one entry is configured it drops one entry.
pub fn far_max_ifp(far_max_datagram: u32, ec: AsteriskEc) -> (u32, u32) {
    let far = i64::from(far_max_datagram);
    let (room, entries) = match ec {
        AsteriskEc::None => (far - 5, 0),
        AsteriskEc::Redundancy { entries } => {
            let mut entries = entries;
            loop {
                let room = (far - 8) / (i64::from(entries) + 1);
                if room < 80 && entries > 1 {
                    entries -= 1;
                } else {
                    break (room, entries);
                }
            }
        }
        AsteriskEc::Fec => ((far - 10) / 2, 0),
    };
    // Unsigned in C: a negative room would wrap; clamp to 0 here instead.
    let ifp = (room.max(0) as f64 * 0.95) as u32;
    (ifp, entries)
}

/// The `T38FaxMaxDatagram` Asterisk advertises when it will hand its side IFPs of at most
/// `local_max_ifp` bytes (a res_fax terminal uses 400; a bridge uses the other leg's far max IFP).
/// Note Asterisk always budgets three secondaries for redundancy, whatever its entries setting.
pub fn local_max_datagram(local_max_ifp: u32, ec: AsteriskEc) -> u32 {
    let ifp = f64::from(local_max_ifp);
    let needed = match ec {
        AsteriskEc::None => 5.0 + ifp,
        AsteriskEc::Redundancy { .. } => 5.0 + ifp + 2.0 + 3.0 * ifp,
        AsteriskEc::Fec => 5.0 + ifp + 4.0 + ifp,
    };
    (needed * 1.05).min(f64::from(FAR_MAX_DATAGRAM_LIMIT)) as u32
}
