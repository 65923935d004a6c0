//! Writing a finished picture to disk atomically: encode in memory, write a temporary file
//! beside the target, flush it, rename it over the target, then flush the directory so
//! the rename itself survives a crash. A run killed at any moment leaves either the old
//! file or the new one, never half a PNG.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use image::{ImageFormat, RgbImage};

use crate::FigureError;

/// Encodes `image` as PNG and moves it into place at `path`.
pub(crate) fn write_png(path: &Path, image: &RgbImage) -> Result<(), FigureError> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, ImageFormat::Png)
        .map_err(|source| FigureError::Encode {
            path: path.to_path_buf(),
            source,
        })?;
    write_atomic(path, bytes.get_ref()).map_err(|source| FigureError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// A hidden name beside `path` (so the rename stays on one file system), unique per
/// process and call so that two writers of the same file, in one process or two, do not
/// clobber each other's temporary file.
fn temporary_path(path: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map_or_else(|| "figure".into(), |n| n.to_string_lossy().into_owned());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

/// Writes `bytes` through a temporary file, renames it over `path` and syncs the
/// directory. On failure the temporary file is removed (best effort).
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temp = temporary_path(path);
    let written = File::create(&temp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| fs::rename(&temp, path));
    if written.is_err() {
        // The temporary file is ours alone; a failed clean-up changes nothing for the caller.
        let _ = fs::remove_file(&temp);
    }
    written?;
    sync_directory(path)
}

/// Flushes the directory entry of `path`, so that a crash right after the rename cannot
/// bring back the old file (or no file). Only Unix lets a directory be opened for this.
#[cfg(unix)]
fn sync_directory(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_directory(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_decodable_png_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        let img = RgbImage::from_pixel(3, 2, image::Rgb([10, 20, 30]));
        write_png(&path, &img).unwrap();
        let back = image::open(&path).unwrap().to_rgb8();
        assert_eq!(back, img);
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.png")]);
    }

    #[test]
    fn overwriting_replaces_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        write_png(&path, &RgbImage::new(1, 1)).unwrap();
        write_png(&path, &RgbImage::new(4, 2)).unwrap();
        let back = image::open(&path).unwrap();
        assert_eq!((back.width(), back.height()), (4, 2));
    }

    #[test]
    fn missing_directory_is_an_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no-such-dir").join("a.png");
        let err = write_png(&path, &RgbImage::new(1, 1)).unwrap_err();
        assert!(matches!(err, FigureError::Io { .. }));
        assert!(err.to_string().contains("no-such-dir"), "{err}");
    }
}
