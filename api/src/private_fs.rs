//! Owner-only files: the data directory (database, server secret, spool) is 0700 and the files the
//! API writes there are 0600, because they hold every document and received fax. Applied at start
//! to what already exists too, so an installation made by an older version is tightened.

use std::io;
use std::path::Path;

/// Creates `dir` (and parents) if needed and makes it owner-only (0700).
pub fn private_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

/// Creates `path` empty if missing, then makes it owner-only (0600).
pub fn private_file(path: &Path) -> io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    drop(opts.open(path)?);
    restrict(path)
}

/// Makes an existing file owner-only (0600); a missing file is fine.
pub fn restrict(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            r => r,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

/// An SQLite database and its companions (`-wal`, `-shm`, `-journal`), owner-only. SQLite creates
/// the companions with the database file's mode, so a 0600 database keeps them 0600.
pub fn private_sqlite(db: &Path) -> io::Result<()> {
    private_file(db)?;
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        restrict(Path::new(&p))?;
    }
    Ok(())
}
