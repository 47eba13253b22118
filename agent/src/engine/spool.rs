//! The spool on disk: durable file writes (temp file in the same directory, fsync, rename, fsync of the directory;
//! a crash leaves either the old file or the new one, never half of one) and the permissions that let Asterisk,
//! another user in the spool's group, read what the agent writes and the agent read what Asterisk receives.
//!
//! Layout shared with Asterisk (docker-compose: agent 10001:10000, Asterisk 10010:10000): `out/` and `in/` are
//! [`SHARED_DIR_MODE`] (group read/write, setgid so every file stays in the spool's group), files are
//! [`FILE_MODE`], and the agent runs with [`UMASK`].

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Files the agent writes: Asterisk reads the outgoing TIFFs through the group (a temp file alone would be 0600,
/// and every send would fail with res_fax's `FILE_ERROR`).
pub const FILE_MODE: u32 = 0o640;
/// Directories shared with Asterisk (`out/`, `in/`): the group reads and writes, setgid keeps new files in the
/// directory's group.
pub const SHARED_DIR_MODE: u32 = 0o2770;
/// The agent's umask: nothing for others, the group never writes what the agent creates.
pub const UMASK: u32 = 0o027;

/// Sets the process umask to [`UMASK`] (the agent's files and directories are never world-readable).
pub fn set_umask() {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(UMASK));
}

/// Creates a directory shared with Asterisk and gives it [`SHARED_DIR_MODE`] (`mkdir` ignores the setgid bit).
/// A directory this process does not own keeps its mode when it already lets the group in; otherwise the
/// failed `chmod` is an error, so a layout Asterisk cannot use is reported at start, not at the first send.
pub fn prepare_shared_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mode = std::fs::metadata(dir)?.permissions().mode() & 0o7777;
    if mode == SHARED_DIR_MODE {
        return Ok(());
    }
    match std::fs::set_permissions(dir, std::fs::Permissions::from_mode(SHARED_DIR_MODE)) {
        Ok(()) => Ok(()),
        Err(e) if mode & 0o070 == 0o070 => {
            tracing::warn!(dir = %dir.display(), mode = format!("{mode:o}"), error = %e, "cannot set the spool directory's mode; its group can use it");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// For `--check`: why Asterisk (another user in the spool's group) could not use a shared directory as it is
/// now, or `None`. The daemon sets [`SHARED_DIR_MODE`] itself at start when it owns the directory.
pub fn shared_dir_problem(dir: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let m = match std::fs::metadata(dir) {
        Ok(m) => m,
        Err(e) => return Some(format!("cannot read its mode: {e}")),
    };
    let mode = m.mode() & 0o7777;
    (mode & 0o2070 != 0o2070).then(|| {
        format!(
            "mode {mode:o}, group {}: Asterisk reads and writes it through the spool's group; it needs {SHARED_DIR_MODE:o} \
             (the agent sets it at start when it owns the directory)",
            m.gid()
        )
    })
}

/// Writes `bytes` to `path` atomically and durably, with [`FILE_MODE`] whatever the umask.
pub fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("path has no directory"))?;
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(FILE_MODE))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// A new private temporary file in `dir` (created if needed) with [`FILE_MODE`], removed when
/// dropped unless [`persist_durably`] puts it in place: where a download is written as it arrives.
pub fn temp_in(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    std::fs::create_dir_all(dir)?;
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(FILE_MODE))?;
    Ok(tmp)
}

/// Puts a written temporary file (from [`temp_in`], same directory) at `path` atomically and
/// durably: fsynced, renamed, the directory fsynced.
pub fn persist_durably(tmp: tempfile::NamedTempFile, path: &Path) -> std::io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("path has no directory"))?;
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

/// A valid job token (a job id, or `<job>_<attempt>`): it names spool files and journal records, and lines pass
/// it on (the Asterisk dialplan checks the same rule), so it is letters, digits and `_`, at most 64.
pub fn is_valid_job_token(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn spool_files_are_group_readable_and_shared_dirs_setgid() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out/job_1.tif");
        super::write_durably(&p, b"II*\0").unwrap();
        let mode =
            |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&p), 0o640);
        let shared = dir.path().join("in");
        super::prepare_shared_dir(&shared).unwrap();
        assert_eq!(mode(&shared), 0o2770);
        // Idempotent, and it repairs a directory created with the wrong mode.
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o700)).unwrap();
        super::prepare_shared_dir(&shared).unwrap();
        assert_eq!(mode(&shared), 0o2770);
        assert_eq!(super::shared_dir_problem(&shared), None);
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).unwrap();
        let problem = super::shared_dir_problem(&shared).unwrap();
        assert!(problem.starts_with("mode 755, group "), "{problem}");
    }

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
