//! Atomic file writes shared by reports and checkpoints.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A hidden name beside `path` (so the rename stays on one file system), unique per
/// process so that two runs writing the same file do not clobber each other's temporary.
pub(crate) fn temporary_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Writes `bytes` to `temp`, flushes it to disk and renames it over `path`, so that a
/// process killed at any moment leaves either the old file or the new one. On failure
/// the temporary file is removed (best effort) and the error returned.
pub(crate) fn write_via(temp: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let written = File::create(temp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| fs::rename(temp, path));
    if written.is_err() {
        // The temporary file is ours alone; a failed clean-up changes nothing for the caller.
        let _ = fs::remove_file(temp);
    }
    written
}

/// [`write_via`] through [`temporary_path`].
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_via(&temporary_path(path), path, bytes)
}
