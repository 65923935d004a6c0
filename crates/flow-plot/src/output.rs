//! Writing a finished picture to disk: encoded in memory, then written through
//! `flow_fs::write_atomic` (temporary file, sync, rename, folder sync), so that a run
//! killed at any moment leaves either the old file or the new one, never half a PNG.

use std::path::Path;

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
    flow_fs::write_atomic(path, bytes.get_ref()).map_err(|source| FigureError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

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
