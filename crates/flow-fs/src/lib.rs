//! Crash-safe file writes: a reader, or the machine after a crash, sees the old file or
//! the new one, never a part of either.
//!
//! Every crate of the workspace that writes a file a later run trusts (caches,
//! checkpoints, model files, results, figures) writes it through here, so that the
//! sequence (temporary file beside the target, sync, rename, folder sync) is written
//! once. Binary files (checkpoints, embedding model files) share one self-checking
//! layout, [`container`]: magic bytes, version, length-prefixed sections, checksum.
//!
//! ```
//! use std::io::Write;
//!
//! let dir = std::env::temp_dir().join(format!("flow-fs-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let results = dir.join("results.json");
//! flow_fs::write_atomic(&results, b"{\"auroc\": 0.5}")?;
//! // Large files are streamed through a buffered writer.
//! flow_fs::write_atomic_with(&results, |out| out.write_all(b"{\"auroc\": 0.9}"))?;
//! assert_eq!(std::fs::read(&results)?, b"{\"auroc\": 0.9}");
//! std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), std::io::Error>(())
//! ```

pub mod container;

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `bytes` to `path` atomically and durably. The folder must exist.
///
/// # Errors
/// The I/O error of creating, writing, syncing or renaming; the old file, if any, is
/// then unchanged and the temporary file removed (best effort).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_via(&temporary_path(path), path, |out| out.write_all(bytes))
}

/// Like [`write_atomic`], the contents streamed by `write` through a buffered writer.
///
/// # Errors
/// As [`write_atomic`], or the error `write` returns.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    write_atomic_via(&temporary_path(path), path, write)
}

/// Like [`write_atomic_with`], through the temporary file `temp`, which must be in the
/// same folder as `path`: for callers that recognise and clean up what a killed writer
/// left (a checkpoint folder's own prefix).
///
/// # Errors
/// As [`write_atomic_with`].
pub fn write_atomic_via(
    temp: &Path,
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    let written = (|| {
        let mut out = BufWriter::new(File::create(temp)?);
        write(&mut out)?;
        let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()?;
        fs::rename(temp, path)
    })();
    if written.is_err() {
        // The temporary file is ours alone; a failed clean-up changes nothing here.
        let _ = fs::remove_file(temp);
    }
    written?;
    sync_folder_of(path)
}

/// A hidden name beside `path` (`dir/.name.<pid>.<n>.tmp`): in the same folder, so the
/// rename stays on one file system, and unique per process and per call, so concurrent
/// writers of the same file never share a temporary.
pub fn temporary_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

/// Syncs the folder holding `path`, so that a rename into it survives a crash. Only
/// Unix lets a folder be opened for this; elsewhere it does nothing.
///
/// # Errors
/// The I/O error of opening or syncing the folder.
pub fn sync_folder_of(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_write_replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(entries(dir.path()), ["a.txt"]);
    }

    #[test]
    fn a_failed_write_keeps_the_old_file_and_removes_its_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        write_atomic(&path, b"old").unwrap();
        let failed = write_atomic_with(&path, |out| {
            out.write_all(b"half")?;
            Err(io::Error::other("interrupted"))
        });
        assert_eq!(failed.unwrap_err().to_string(), "interrupted");
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(entries(dir.path()), ["a.txt"]);
    }

    #[test]
    fn a_missing_folder_is_an_error_not_a_new_folder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("a.txt");
        assert!(write_atomic(&path, b"x").is_err());
        assert!(!dir.path().join("missing").exists());
    }

    #[test]
    fn temporaries_are_hidden_beside_the_file_and_never_repeat() {
        let path = Path::new("out/figure.png");
        let (a, b) = (temporary_path(path), temporary_path(path));
        assert_ne!(a, b);
        assert_eq!(a.parent(), Some(Path::new("out")));
        let name = a.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with(".figure.png.") && name.ends_with(".tmp"),
            "{name}"
        );
    }

    #[test]
    fn a_named_temporary_is_used_and_cleaned_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checkpoint.bin");
        let temp = dir.path().join(".partial-checkpoint");
        write_atomic_via(&temp, &path, |out| out.write_all(b"state")).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"state");
        assert!(!temp.exists());
    }
}
