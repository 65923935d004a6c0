//! CIFAR-10 binary batches (`data_batch_1.bin` ... `data_batch_5.bin`, `test_batch.bin`).
//!
//! Each record is 3,073 bytes: the label (0..=9), then 1,024 red, 1,024 green and 1,024
//! blue bytes of a 32 x 32 image, rows top to bottom. That is already the C x H x W order
//! of [`ImageDataset`], so records are copied as they are.

use std::path::Path;

use crate::dataset::{ImageDataset, ImageShape};
use crate::error::{DataError, FormatError, Result};

/// The shape of a CIFAR-10 image.
pub const CIFAR10_SHAPE: ImageShape = ImageShape::new(3, 32, 32);

/// Bytes per record: one label byte and one image.
pub const CIFAR10_RECORD_BYTES: usize = 1 + 3 * 32 * 32;

/// Class names, indexed by label.
pub const CIFAR10_CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// Reads one CIFAR-10 binary batch file.
pub fn read_cifar10_batch(path: &Path) -> Result<ImageDataset> {
    let bytes = super::read_limited(path)?;
    parse_cifar10(&bytes, path)
}

/// Reads several batch files, in the order given, into one dataset
/// (e.g. the five training batches).
pub fn read_cifar10_batches<P: AsRef<Path>>(paths: &[P]) -> Result<ImageDataset> {
    let parts = paths
        .iter()
        .map(|p| read_cifar10_batch(p.as_ref()))
        .collect::<Result<Vec<_>>>()?;
    ImageDataset::concat(&parts)
}

/// Parses the bytes of a batch file; `path` only names the source in errors.
pub fn parse_cifar10(bytes: &[u8], path: &Path) -> Result<ImageDataset> {
    let fail = |kind| DataError::format(path, kind);
    if bytes.is_empty() {
        return Err(fail(FormatError::Truncated {
            expected: CIFAR10_RECORD_BYTES as u64,
            found: 0,
        }));
    }
    let remainder = bytes.len() % CIFAR10_RECORD_BYTES;
    if remainder != 0 {
        return Err(fail(FormatError::Truncated {
            expected: (bytes.len() - remainder + CIFAR10_RECORD_BYTES) as u64,
            found: bytes.len() as u64,
        }));
    }
    let n = bytes.len() / CIFAR10_RECORD_BYTES;
    let mut pixels = Vec::with_capacity(n * (CIFAR10_RECORD_BYTES - 1));
    let mut labels = Vec::with_capacity(n);
    for (i, record) in bytes.chunks_exact(CIFAR10_RECORD_BYTES).enumerate() {
        let label = record[0];
        if usize::from(label) >= CIFAR10_CLASSES.len() {
            return Err(fail(FormatError::InvalidValue(format!(
                "record {i} has label {label}; CIFAR-10 labels are 0..=9"
            ))));
        }
        labels.push(u32::from(label));
        pixels.extend_from_slice(&record[1..]);
    }
    ImageDataset::new(CIFAR10_SHAPE, pixels, labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A batch in the real layout: record i has label i % 10 and pixel bytes
    /// (channel * 7 + i + position) mod 256.
    fn batch(n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..n {
            out.push((i % 10) as u8);
            for c in 0..3 {
                for p in 0..1024 {
                    out.push(((c * 7 + i + p) % 256) as u8);
                }
            }
        }
        out
    }

    #[test]
    fn reads_records_in_channel_major_order() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (
            dir.path().join("data_batch_1.bin"),
            dir.path().join("b.bin"),
        );
        std::fs::write(&a, batch(3)).unwrap();
        std::fs::write(&b, batch(12)).unwrap();
        let d = read_cifar10_batches(&[&a, &b]).unwrap();
        assert_eq!(d.len(), 15);
        assert_eq!(d.shape(), CIFAR10_SHAPE);
        assert_eq!(d.labels()[..4], [0, 1, 2, 0]);
        assert_eq!(d.labels()[14], 1);
        let image = d.image(1).unwrap();
        // Green channel (c = 1), pixel 5 of record 1: 7 + 1 + 5.
        assert_eq!(image[1024 + 5], 13);
    }

    #[test]
    fn rejects_truncated_files_and_bad_labels_naming_the_file() {
        let p = Path::new("test_batch.bin");
        let mut bytes = batch(2);
        bytes.pop();
        let err = parse_cifar10(&bytes, p).unwrap_err().to_string();
        assert!(err.starts_with("test_batch.bin: truncated"), "{err}");
        let mut bytes = batch(2);
        bytes[CIFAR10_RECORD_BYTES] = 10;
        let err = parse_cifar10(&bytes, p).unwrap_err().to_string();
        assert!(err.contains("record 1 has label 10"), "{err}");
        assert!(parse_cifar10(&[], p).is_err());
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..8000)) {
            let _ = parse_cifar10(&bytes, Path::new("random"));
        }

        #[test]
        fn every_truncation_is_an_error(n in 1usize..3, cut in 1usize..3073) {
            let bytes = batch(n);
            prop_assert!(parse_cifar10(&bytes, Path::new("f")).is_ok());
            prop_assert!(parse_cifar10(&bytes[..bytes.len() - cut], Path::new("f")).is_err());
        }

        #[test]
        fn well_formed_records_with_corrupt_labels_or_extra_bytes(
            n in 1usize..4,
            pixels in any::<u8>(),
            bad_record in 0usize..4,
            bad_label in 10u8..=255,
            extra in 0usize..CIFAR10_RECORD_BYTES,
        ) {
            let mut bytes = batch(n);
            for (i, b) in bytes.iter_mut().enumerate() {
                if i % CIFAR10_RECORD_BYTES != 0 {
                    *b = b.wrapping_add(pixels);
                }
            }
            let parsed = parse_cifar10(&bytes, Path::new("f")).unwrap();
            prop_assert_eq!(parsed.len(), n);
            if bad_record < n {
                let mut corrupt = bytes.clone();
                corrupt[bad_record * CIFAR10_RECORD_BYTES] = bad_label;
                let err = parse_cifar10(&corrupt, Path::new("f")).unwrap_err().to_string();
                let expected = format!("record {bad_record} has label {bad_label}");
                prop_assert!(err.contains(&expected), "{}", err);
            }
            if extra > 0 {
                bytes.extend(std::iter::repeat_n(pixels, extra));
                let parsed = parse_cifar10(&bytes, Path::new("f"));
                let truncated = matches!(
                    parsed,
                    Err(DataError::Format { kind: FormatError::Truncated { .. }, .. })
                );
                prop_assert!(truncated, "{:?}", parsed.map(|d| d.len()));
            }
        }
    }
}
