//! Durable file writes: temp file in the same directory, fsync, rename, fsync of the directory. A crash leaves
//! either the old file or the new one, never half of one.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically and durably.
pub fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("path has no directory"))?;
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// Removes `path` (absent is fine) and makes the removal durable.
pub fn remove_durably(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    }
    match path.parent() {
        Some(dir) => sync_dir(dir),
        None => Ok(()),
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Checks that `dir` exists (created if needed) and is writable, by writing and removing a probe file.
pub fn check_writable(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = dir.join(format!(".faxline-probe-{}", std::process::id()));
    write_durably(&probe, b"probe")?;
    remove_durably(&probe)
}

#[cfg(test)]
mod tests {
    #[test]
    fn writes_and_removes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b.json");
        super::write_durably(&p, b"one").unwrap();
        super::write_durably(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path().join("a")).unwrap().count(), 1);
        super::remove_durably(&p).unwrap();
        super::remove_durably(&p).unwrap();
        assert!(!p.exists());
        super::check_writable(dir.path()).unwrap();
    }
}
