//! One entry point for a user's images, whatever they are kept in: a folder of PNG or
//! JPEG files, a `.npy` array, an IDX image file or a CIFAR-10 binary batch.

use std::path::Path;

use crate::dataset::{ImageDataset, ImageShape};
use crate::error::{DataError, FormatError, Result};

use super::cifar::{parse_cifar10, CIFAR10_RECORD_BYTES};
use super::idx::parse_idx_bytes;
use super::image_folder::{read_image_folder, ColorMode};
use super::npy::{parse_npy, NpyData};
use super::read_limited;

/// Images read from a user's source, with a name for each (its file, or its index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedImages {
    /// The images (labels as the source gives them; 0 where it has none).
    pub dataset: ImageDataset,
    /// One name per image: the file's path relative to the folder, or `#<index>`.
    pub names: Vec<String>,
    /// What the source was recognised as.
    pub kind: SourceKind,
}

/// The kinds of image source [`read_images`] recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// A folder of PNG or JPEG files (flat or one subfolder per class).
    ImageFolder,
    /// A `.npy` array `(N, H, W)` or `(N, C, H, W)` of `uint8`, or of floats in `[0, 1]`.
    Npy,
    /// An IDX file of unsigned bytes `(N, H, W)`, raw or gzipped.
    Idx,
    /// A CIFAR-10 binary batch (records of a label byte and 3x32x32 pixels).
    Cifar10Binary,
}

/// Reads the images at `path`: a folder is an image folder (converted to `channels`, 1
/// or 3, when given); a file is recognised from its contents as `.npy`, IDX or a
/// CIFAR-10 batch.
///
/// # Errors
/// A [`DataError`] naming the file and what was expected: an empty folder, images of
/// mixed sizes, a file that is none of the formats, an array of another rank or values
/// outside `[0, 1]`.
pub fn read_images(path: &Path, channels: Option<usize>) -> Result<NamedImages> {
    if path.is_dir() {
        let mode = match channels {
            Some(1) => ColorMode::Gray,
            Some(3) => ColorMode::Rgb,
            _ => ColorMode::Auto,
        };
        let folder = read_image_folder(path, mode)?;
        let names = folder
            .files
            .iter()
            .map(|f| {
                f.strip_prefix(path)
                    .unwrap_or(f)
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        return Ok(NamedImages {
            dataset: folder.dataset,
            names,
            kind: SourceKind::ImageFolder,
        });
    }
    let bytes = read_limited(path)?;
    let (dataset, kind) = if bytes.starts_with(b"\x93NUMPY") {
        (npy_images(&bytes, path)?, SourceKind::Npy)
    } else if looks_like_idx(&bytes) {
        (idx_images(&bytes, path)?, SourceKind::Idx)
    } else if !bytes.is_empty() && bytes.len() % CIFAR10_RECORD_BYTES == 0 {
        (parse_cifar10(&bytes, path)?, SourceKind::Cifar10Binary)
    } else {
        return Err(DataError::format(
            path,
            FormatError::BadMagic {
                expected: "a folder of PNG/JPEG images, a .npy array, an IDX image file \
                           or a CIFAR-10 binary batch"
                    .into(),
                found: format!("{} bytes of something else", bytes.len()),
            },
        ));
    };
    let names = (0..dataset.len()).map(|i| format!("#{i}")).collect();
    Ok(NamedImages {
        dataset,
        names,
        kind,
    })
}

/// Whether `bytes` start like an IDX file of unsigned bytes (raw or gzipped).
fn looks_like_idx(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b]) || (bytes.len() >= 4 && bytes[..3] == [0, 0, 0x08])
}

fn idx_images(bytes: &[u8], path: &Path) -> Result<ImageDataset> {
    let idx = parse_idx_bytes(bytes, path)?;
    let [n, h, w] = idx.dims[..] else {
        return Err(DataError::format(
            path,
            FormatError::ShapeMismatch(format!(
                "an IDX image file has 3 dimensions (N, H, W), this one {:?}",
                idx.dims
            )),
        ));
    };
    ImageDataset::new(ImageShape::new(1, h, w), idx.data, vec![0; n])
}

fn npy_images(bytes: &[u8], path: &Path) -> Result<ImageDataset> {
    let array = parse_npy(bytes, path)?;
    let (n, shape) = match array.shape[..] {
        [n, h, w] => (n, ImageShape::new(1, h, w)),
        [n, c, h, w] => (n, ImageShape::new(c, h, w)),
        _ => {
            return Err(DataError::format(
                path,
                FormatError::ShapeMismatch(format!(
                    "images are (N, H, W) or (N, C, H, W), this array is {:?}",
                    array.shape
                )),
            ))
        }
    };
    let pixels =
        match &array.data {
            NpyData::U8(values) => values.clone(),
            NpyData::F32(_) | NpyData::F64(_) => {
                let values = array.data.to_f64();
                if let Some((i, v)) = values
                    .iter()
                    .enumerate()
                    .find(|(_, v)| !(0.0..=1.0).contains(*v))
                {
                    return Err(DataError::format(
                        path,
                        FormatError::InvalidValue(format!(
                            "float images hold values in [0, 1]; value {i} is {v}"
                        )),
                    ));
                }
                values.iter().map(|v| (v * 255.0).round() as u8).collect()
            }
            NpyData::I32(_) | NpyData::I64(_) => return Err(DataError::format(
                path,
                FormatError::UnsupportedDtype(
                    "integer images other than uint8; save them as uint8 or as floats in [0, 1]"
                        .into(),
                ),
            )),
        };
    ImageDataset::new(shape, pixels, vec![0; n])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::idx::encode_idx;
    use crate::formats::npy::{encode_npy, NpyArray};

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn recognises_each_kind_from_the_contents() {
        let dir = tempfile::tempdir().unwrap();
        let u8s = NpyArray::new(vec![2, 3, 4], NpyData::U8((0..24).collect())).unwrap();
        let got = read_images(&write(dir.path(), "a.npy", &encode_npy(&u8s)), None).unwrap();
        assert_eq!(got.kind, SourceKind::Npy);
        assert_eq!(got.dataset.shape(), ImageShape::new(1, 3, 4));
        assert_eq!(got.names, ["#0", "#1"]);

        let floats = NpyArray::new(vec![1, 3, 2, 2], NpyData::F32(vec![0.5; 12])).unwrap();
        let got = read_images(&write(dir.path(), "f.npy", &encode_npy(&floats)), None).unwrap();
        assert_eq!(got.dataset.shape(), ImageShape::new(3, 2, 2));
        assert!(got.dataset.pixels().iter().all(|&p| p == 128));

        let mut idx = Vec::new();
        encode_idx(&[2, 2, 2], &[1, 2, 3, 4, 5, 6, 7, 8], &mut idx).unwrap();
        let got = read_images(&write(dir.path(), "images-idx3-ubyte", &idx), None).unwrap();
        assert_eq!(got.kind, SourceKind::Idx);
        assert_eq!(got.dataset.len(), 2);

        let mut cifar = vec![3u8];
        cifar.extend(std::iter::repeat_n(7u8, CIFAR10_RECORD_BYTES - 1));
        let got = read_images(&write(dir.path(), "data_batch_1.bin", &cifar), None).unwrap();
        assert_eq!(got.kind, SourceKind::Cifar10Binary);
        assert_eq!(got.dataset.shape(), ImageShape::new(3, 32, 32));
    }

    #[test]
    fn bad_sources_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let text = write(dir.path(), "notes.txt", b"not images");
        let err = read_images(&text, None).unwrap_err().to_string();
        assert!(
            err.contains("notes.txt") && err.contains(".npy array"),
            "{err}"
        );

        let out_of_range = NpyArray::new(vec![1, 1, 2], NpyData::F64(vec![0.5, 2.0])).unwrap();
        let path = write(dir.path(), "big.npy", &encode_npy(&out_of_range));
        let err = read_images(&path, None).unwrap_err().to_string();
        assert!(err.contains("value 1 is 2"), "{err}");

        let matrix = NpyArray::new(vec![4, 4], NpyData::U8(vec![0; 16])).unwrap();
        let path = write(dir.path(), "m.npy", &encode_npy(&matrix));
        let err = read_images(&path, None).unwrap_err().to_string();
        assert!(err.contains("(N, H, W)"), "{err}");

        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        let err = read_images(&empty, None).unwrap_err().to_string();
        assert!(err.contains("no PNG or JPEG images"), "{err}");
    }
}
