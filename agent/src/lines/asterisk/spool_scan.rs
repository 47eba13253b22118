//! The Asterisk line's spool scan: received TIFFs whose result event the agent never saw (it was down, or AMI
//! was disconnected when `faxin` raised it) are found by [`orphans`] and delivered once [`settled`] says they
//! are completely received.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::engine::inbound::{InboundQueue, QueueError};
use crate::engine::spool::is_valid_job_token;

/// A received TIFF in the incoming spool that the queue does not know (never queued, delivered or set aside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Orphan {
    /// The receive id from the file name (the dialplan's `in_<uniqueid>`, as in its result event).
    pub id: String,
    pub file: PathBuf,
    /// Time since the file was last written.
    pub idle: Duration,
    /// ISO 8601, from the file name's UTC stamp.
    pub received_at: String,
}

/// The receive id and ISO time of a file named by the generated `faxin` dialplan,
/// `<YYYYmmddTHHMMSSZ>-in_<uniqueid>.tif`; `None` for any other name.
pub fn receive_file_id(name: &str) -> Option<(String, String)> {
    let stem = name.strip_suffix(".tif")?;
    let (stamp, id) = stem.split_once('-')?;
    let b = stamp.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' || !digits(0..8) || !digits(9..15) {
        return None;
    }
    if !id.starts_with("in_") || !is_valid_job_token(id) {
        return None;
    }
    let iso = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &stamp[0..4],
        &stamp[4..6],
        &stamp[6..8],
        &stamp[9..11],
        &stamp[11..13],
        &stamp[13..15]
    );
    Some((id.to_owned(), iso))
}

/// The receive id the `faxin` dialplan derives from a channel's Uniqueid (`in_` +
/// `FILTER(0-9A-Za-z_, REPLACE(UNIQUEID, ., _))`).
pub fn receive_id_of_uniqueid(uniqueid: &str) -> String {
    let body: String = uniqueid
        .chars()
        .map(|c| if c == '.' { '_' } else { c })
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    format!("in_{body}")
}

/// What the agent knows about the calls Asterisk is running right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Liveness {
    /// The receive ids of every live channel (from a `Status` list taken AFTER the spool was listed).
    Channels(HashSet<String>),
    /// Asterisk cannot be asked (not logged in, or the list failed).
    Unknown,
}

/// Whether an orphan is completely received and may be delivered (sans-IO).
///
/// The file is written by `ReceiveFAX` on the inbound channel whose Uniqueid is in its name, and that channel
/// raises the result event from its hangup handler. So:
/// - when Asterisk's channel list is known (taken after the directory was read), the file is final once no
///   channel with that Uniqueid exists AND it has not been written for `settle` (the settle time lets the
///   result event of a call that just ended arrive first, with its caller id and status);
/// - otherwise only the file's age can tell: it is final when it has not been written for longer than any
///   call may last (`max_call`: the dialplan's hard limit plus ring time and result grace), because a page
///   can take minutes to arrive but no call outlives that limit.
///
/// Both err on the side of waiting: a file taken too early would be delivered truncated, one taken late is
/// only delivered late.
pub fn settled(orphan: &Orphan, live: &Liveness, settle: Duration, max_call: Duration) -> bool {
    match live {
        Liveness::Channels(ids) => !ids.contains(&orphan.id) && orphan.idle >= settle,
        Liveness::Unknown => orphan.idle > max_call,
    }
}

/// The received TIFFs in `incoming` (named by the `faxin` dialplan) that `queue` does not know, with how long
/// each has been idle. Also forgets delivered markers whose TIFF is gone for a week.
pub fn orphans(
    queue: &InboundQueue,
    incoming: &Path,
    now: SystemTime,
) -> Result<Vec<Orphan>, QueueError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| QueueError::Io { path, source }
    };
    let mut present = HashSet::new();
    let mut out = Vec::new();
    for e in std::fs::read_dir(incoming)
        .map_err(io(incoming))?
        .filter_map(Result::ok)
    {
        let Some((id, received_at)) = e.file_name().to_str().and_then(receive_file_id) else {
            continue;
        };
        present.insert(id.clone());
        let Ok(meta) = e.metadata() else { continue };
        if !meta.is_file() || queue.knows(&id) {
            continue;
        }
        let idle = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .unwrap_or(Duration::ZERO);
        out.push(Orphan {
            id,
            file: e.path(),
            idle,
            received_at,
        });
    }
    queue.forget_old_markers(&present, now)?;
    out.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::inbound::InboundItem;

    fn item(id: &str) -> InboundItem {
        InboundItem::sample(id)
    }

    #[test]
    fn file_names_of_the_faxin_dialplan() {
        assert_eq!(
            receive_file_id("20261122T120542Z-in_1795349142_7.tif"),
            Some(("in_1795349142_7".into(), "2026-11-22T12:05:42Z".into()))
        );
        for bad in [
            "20261122T120542Z-in_1.tiff",
            "2026112T120542Z-in_1.tif",
            "20261122T120542Z-job_1.tif",
            "20261122T120542Z-in_../x.tif",
            "x.tif",
            ".tmpAbc",
        ] {
            assert_eq!(receive_file_id(bad), None, "{bad}");
        }
        assert_eq!(receive_id_of_uniqueid("1795349142.7"), "in_1795349142_7");
        assert_eq!(
            receive_id_of_uniqueid("pbx-1.1795349142.7"),
            "in_pbx1_1795349142_7"
        );
    }

    #[test]
    fn orphans_are_the_unknown_files_and_settle_safely() {
        let dir = tempfile::tempdir().unwrap();
        let incoming = dir.path().join("in");
        std::fs::create_dir_all(&incoming).unwrap();
        let q = InboundQueue::open(dir.path().join("queue")).unwrap();
        for name in [
            "20261122T120542Z-in_1_1.tif",
            "20261122T120543Z-in_1_2.tif",
            "20261122T120544Z-in_1_3.tif",
            "20261122T120545Z-in_1_4.tif",
            "notes.txt",
        ] {
            std::fs::write(incoming.join(name), b"II*\0").unwrap();
        }
        let mut queued = item("in_1_2");
        queued.file = incoming.join("20261122T120543Z-in_1_2.tif");
        q.enqueue(&queued).unwrap();
        q.enqueue(&item("in_1_3")).unwrap();
        q.done("in_1_3").unwrap();
        q.enqueue(&item("in_1_4")).unwrap();
        q.set_aside("in_1_4", "bad").unwrap();
        let now = SystemTime::now() + Duration::from_secs(120);
        let o = orphans(&q, &incoming, now).unwrap();
        assert_eq!(o.len(), 1, "{o:?}");
        assert_eq!(o[0].id, "in_1_1");
        assert_eq!(o[0].received_at, "2026-11-22T12:05:42Z");
        assert!(o[0].idle >= Duration::from_secs(119));

        let settle = Duration::from_secs(60);
        let max_call = Duration::from_secs(3600);
        let mut orphan = o[0].clone();
        let live = Liveness::Channels(["in_1_1".to_owned()].into());
        let none = Liveness::Channels(HashSet::new());
        // Its channel still runs: never, however old.
        orphan.idle = Duration::from_secs(7200);
        assert!(!settled(&orphan, &live, settle, max_call));
        // No channel: after the settle time.
        assert!(settled(&orphan, &none, settle, max_call));
        orphan.idle = Duration::from_secs(10);
        assert!(!settled(&orphan, &none, settle, max_call));
        // Asterisk not reachable: only when older than any call can be.
        orphan.idle = Duration::from_secs(600);
        assert!(!settled(&orphan, &Liveness::Unknown, settle, max_call));
        orphan.idle = Duration::from_secs(3601);
        assert!(settled(&orphan, &Liveness::Unknown, settle, max_call));
    }
}
