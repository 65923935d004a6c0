//! The IDX format of the original MNIST and FashionMNIST files (`*-idx3-ubyte`,
//! `*-idx1-ubyte`), raw or gzipped.
//!
//! Layout: two zero bytes, a type code (0x08 = unsigned byte, the only type read here), the
//! number of dimensions d, then d big-endian `u32` sizes, then the data, row-major.

use std::io::{Read, Write};
use std::path::Path;

use crate::dataset::{ImageDataset, ImageShape};
use crate::error::{DataError, FormatError, Result};
use crate::fsutil::{read_up_to, write_atomic};

use super::open::{is_gzip, open_maybe_gzip};

/// The IDX type code of unsigned bytes.
const UBYTE: u8 = 0x08;

/// The contents of an IDX file of unsigned bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxArray {
    /// Sizes of the dimensions, outermost first.
    pub dims: Vec<usize>,
    /// The values, row-major.
    pub data: Vec<u8>,
}

/// Reads an IDX file of unsigned bytes; gzip is detected from the contents.
pub fn read_idx(path: &Path) -> Result<IdxArray> {
    let (reader, _) = open_maybe_gzip(path)?;
    parse_idx(reader, path)
}

/// Parses IDX bytes from `bytes` (raw or gzipped); `path` only names the source in errors.
pub fn parse_idx_bytes(bytes: &[u8], path: &Path) -> Result<IdxArray> {
    if is_gzip(bytes) {
        parse_idx(flate2::read::MultiGzDecoder::new(bytes), path)
    } else {
        parse_idx(bytes, path)
    }
}

/// Parses an uncompressed IDX stream; `path` only names the source in errors.
pub fn parse_idx(mut reader: impl Read, path: &Path) -> Result<IdxArray> {
    let fail = |kind| DataError::format(path, kind);
    let read_err = |e: std::io::Error| DataError::io(path, e);

    let mut magic = [0u8; 4];
    let got = read_up_to(&mut reader, &mut magic).map_err(read_err)?;
    if got < 4 {
        return Err(fail(FormatError::Truncated {
            expected: 4,
            found: got as u64,
        }));
    }
    if magic[0] != 0 || magic[1] != 0 {
        return Err(fail(FormatError::BadMagic {
            expected: "00 00 <type> <ndim>".into(),
            found: format!("{:02x} {:02x} ..", magic[0], magic[1]),
        }));
    }
    if magic[2] != UBYTE {
        return Err(fail(FormatError::UnsupportedDtype(format!(
            "{} (type code 0x{:02x}); only unsigned bytes (0x08) are read",
            type_name(magic[2]),
            magic[2]
        ))));
    }
    let ndim = usize::from(magic[3]);
    if ndim == 0 {
        return Err(fail(FormatError::InvalidHeader("zero dimensions".into())));
    }

    let mut dim_bytes = vec![0u8; 4 * ndim];
    let got = read_up_to(&mut reader, &mut dim_bytes).map_err(read_err)?;
    if got < dim_bytes.len() {
        return Err(fail(FormatError::Truncated {
            expected: (4 + dim_bytes.len()) as u64,
            found: (4 + got) as u64,
        }));
    }
    let dims: Vec<usize> = dim_bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    // A forged header must not make the reader try to load more than the limit.
    let declared = dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
        .ok_or_else(|| {
            fail(FormatError::InvalidHeader(format!(
                "dimensions {dims:?} overflow a 64-bit size"
            )))
        })?;
    super::check_load_size(declared, path)?;

    // Grow with the data actually present rather than trusting the header's size.
    let mut data = Vec::with_capacity(declared.min(1 << 26) as usize);
    (&mut reader)
        .take(declared)
        .read_to_end(&mut data)
        .map_err(read_err)?;
    if (data.len() as u64) < declared {
        let header = 4 + dim_bytes.len() as u64;
        return Err(fail(FormatError::Truncated {
            expected: header + declared,
            found: header + data.len() as u64,
        }));
    }
    let mut extra = [0u8; 1];
    if read_up_to(&mut reader, &mut extra).map_err(read_err)? > 0 {
        return Err(fail(FormatError::TrailingBytes { declared }));
    }
    Ok(IdxArray { dims, data })
}

fn type_name(code: u8) -> &'static str {
    match code {
        0x09 => "signed byte",
        0x0B => "i16",
        0x0C => "i32",
        0x0D => "f32",
        0x0E => "f64",
        _ => "unknown type",
    }
}

/// Reads an image file (`N x H x W`, one channel) and its label file (`N`) into a dataset.
pub fn read_idx_dataset(images: &Path, labels: &Path) -> Result<ImageDataset> {
    let image_array = read_idx(images)?;
    let label_array = read_idx(labels)?;
    idx_dataset(image_array, images, label_array, labels)
}

/// Combines already-parsed image and label arrays; the paths name them in errors.
pub fn idx_dataset(
    images: IdxArray,
    images_path: &Path,
    labels: IdxArray,
    labels_path: &Path,
) -> Result<ImageDataset> {
    let &[n, height, width] = images.dims.as_slice() else {
        return Err(DataError::format(
            images_path,
            FormatError::ShapeMismatch(format!(
                "image files have 3 dimensions (N x H x W), this one has {:?}",
                images.dims
            )),
        ));
    };
    let &[n_labels] = labels.dims.as_slice() else {
        return Err(DataError::format(
            labels_path,
            FormatError::ShapeMismatch(format!(
                "label files have 1 dimension, this one has {:?}",
                labels.dims
            )),
        ));
    };
    if n_labels != n {
        return Err(DataError::format(
            labels_path,
            FormatError::ShapeMismatch(format!(
                "{n_labels} labels for the {n} images in {}",
                images_path.display()
            )),
        ));
    }
    let labels = labels.data.into_iter().map(u32::from).collect();
    ImageDataset::new(ImageShape::new(1, height, width), images.data, labels)
        .map_err(|e| DataError::format(images_path, FormatError::ShapeMismatch(e.to_string())))
}

/// Encodes an IDX file of unsigned bytes.
pub fn encode_idx(dims: &[usize], data: &[u8], out: &mut impl Write) -> std::io::Result<()> {
    let bad = |msg: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, msg);
    let ndim = u8::try_from(dims.len())
        .ok()
        .filter(|&d| d > 0)
        .ok_or_else(|| bad(format!("IDX needs 1 to 255 dimensions, got {}", dims.len())))?;
    let count = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    if count != Some(data.len()) {
        return Err(bad(format!(
            "dimensions {dims:?} do not match {} values",
            data.len()
        )));
    }
    out.write_all(&[0, 0, UBYTE, ndim])?;
    for &d in dims {
        let d = u32::try_from(d).map_err(|_| bad(format!("dimension {d} exceeds u32")))?;
        out.write_all(&d.to_be_bytes())?;
    }
    out.write_all(data)
}

/// Writes an uncompressed IDX file of unsigned bytes, atomically.
pub fn write_idx(path: &Path, dims: &[usize], data: &[u8]) -> Result<()> {
    write_atomic(path, |w| encode_idx(dims, data, w))
}

/// Writes a dataset as an IDX image file (`N x H x W`) and label file (`N`).
/// Only single-channel datasets with labels below 256 fit IDX.
pub fn write_idx_dataset(dataset: &ImageDataset, images: &Path, labels: &Path) -> Result<()> {
    let shape = dataset.shape();
    if shape.channels != 1 {
        return Err(DataError::InvalidDataset(format!(
            "IDX image files hold one channel; this dataset has {}",
            shape.channels
        )));
    }
    let label_bytes = dataset
        .labels()
        .iter()
        .map(|&l| u8::try_from(l))
        .collect::<std::result::Result<Vec<u8>, _>>()
        .map_err(|_| DataError::InvalidDataset("IDX labels must be below 256".into()))?;
    write_idx(
        images,
        &[dataset.len(), shape.height, shape.width],
        dataset.pixels(),
    )?;
    write_idx(labels, &[dataset.len()], &label_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::fuzz_support::parsed_if_body_fits;
    use flate2::write::GzEncoder;
    use proptest::prelude::*;

    fn encoded(dims: &[usize], data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_idx(dims, data, &mut out).unwrap();
        out
    }

    fn gzipped(bytes: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn reads_raw_and_gzipped_files_written_in_the_real_layout() {
        let dir = tempfile::tempdir().unwrap();
        let pixels: Vec<u8> = (0..2 * 3 * 4).map(|i| i as u8 * 10).collect();
        let images = encoded(&[2, 3, 4], &pixels);
        // The header bytes of the real train-images file for 2 images of 3x4.
        assert_eq!(
            &images[..16],
            &[0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4]
        );
        let img_path = dir.path().join("train-images-idx3-ubyte.gz");
        let lbl_path = dir.path().join("train-labels-idx1-ubyte");
        std::fs::write(&img_path, gzipped(&images)).unwrap();
        std::fs::write(&lbl_path, encoded(&[2], &[7, 9])).unwrap();
        let d = read_idx_dataset(&img_path, &lbl_path).unwrap();
        assert_eq!(d.shape(), ImageShape::new(1, 3, 4));
        assert_eq!(d.pixels(), &pixels[..]);
        assert_eq!(d.labels(), &[7, 9]);
    }

    #[test]
    fn dataset_round_trips_through_write_idx_dataset() {
        let dir = tempfile::tempdir().unwrap();
        let d = ImageDataset::new(ImageShape::new(1, 2, 2), (0..8).collect(), vec![1, 2]).unwrap();
        let (i, l) = (dir.path().join("i"), dir.path().join("l"));
        write_idx_dataset(&d, &i, &l).unwrap();
        assert_eq!(read_idx_dataset(&i, &l).unwrap(), d);
    }

    #[test]
    fn errors_name_the_file_and_the_fault() {
        let p = Path::new("x-idx3-ubyte");
        let msg = |b: &[u8]| parse_idx_bytes(b, p).unwrap_err().to_string();
        assert!(msg(&[1, 0, 8, 1]).contains("bad magic number"));
        assert!(msg(&[0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0]).contains("f32"));
        assert!(msg(&[0, 0, 8, 1, 0, 0, 0, 3, 1, 2]).contains("expected 11 bytes, found 10"));
        assert!(msg(&[0, 0, 8, 1, 0, 0, 0, 1, 1, 2]).contains("unexpected bytes"));
        assert!(msg(&[0, 0, 8, 0]).contains("zero dimensions"));
        assert!(
            msg(&[0, 0, 8, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255])
                .contains("overflow a 64-bit size")
        );
        assert!(msg(&[0, 0, 8]).starts_with("x-idx3-ubyte: truncated"));

        let dir = tempfile::tempdir().unwrap();
        let (i, l) = (dir.path().join("img"), dir.path().join("lbl"));
        std::fs::write(&i, encoded(&[2, 1, 1], &[0, 1])).unwrap();
        std::fs::write(&l, encoded(&[3], &[0, 1, 2])).unwrap();
        let err = read_idx_dataset(&i, &l).unwrap_err().to_string();
        assert!(err.contains("3 labels for the 2 images"), "{err}");
        assert!(read_idx_dataset(&l, &l)
            .unwrap_err()
            .to_string()
            .contains("3 dimensions"));
        let missing = read_idx(&dir.path().join("nope")).unwrap_err().to_string();
        assert!(missing.contains("nope"), "{missing}");
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_idx_bytes(&bytes, Path::new("random"));
        }

        #[test]
        fn random_bytes_after_a_valid_prefix_never_panic(
            ndim in 1u8..4,
            rest in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let mut bytes = vec![0, 0, 8, ndim];
            bytes.extend(rest);
            let _ = parse_idx_bytes(&bytes, Path::new("random"));
            let _ = parse_idx_bytes(&gzipped(&bytes), Path::new("random.gz"));
        }

        #[test]
        fn every_truncation_is_an_error_and_the_whole_round_trips(
            dims in proptest::collection::vec(1usize..5, 1..4),
            seed in any::<u8>(),
            cut_fraction in 0.0f64..1.0,
            gz in any::<bool>(),
        ) {
            let n: usize = dims.iter().product();
            let data: Vec<u8> = (0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect();
            let bytes = encoded(&dims, &data);
            let whole = if gz { gzipped(&bytes) } else { bytes.clone() };
            let parsed = parse_idx_bytes(&whole, Path::new("f")).unwrap();
            prop_assert_eq!(&parsed.dims, &dims);
            prop_assert_eq!(&parsed.data, &data);
            let cut = ((bytes.len() as f64) * cut_fraction) as usize;
            let truncated = if gz { gzipped(&bytes[..cut]) } else { bytes[..cut].to_vec() };
            prop_assert!(parse_idx_bytes(&truncated, Path::new("f")).is_err());
            // A cut gzip stream (not a gzip of a cut file) must fail too, not panic.
            if gz {
                let cut_gz = &whole[..(whole.len() as f64 * cut_fraction) as usize];
                prop_assert!(parse_idx_bytes(cut_gz, Path::new("f")).is_err());
            }
        }

        #[test]
        fn well_formed_headers_with_bodies_of_any_length(
            dims in proptest::collection::vec(1usize..6, 1..4),
            body in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let declared: usize = dims.iter().product();
            let mut bytes = encoded(&dims, &vec![0; declared]);
            bytes.truncate(bytes.len() - declared);
            bytes.extend_from_slice(&body);
            let parsed = parse_idx_bytes(&bytes, Path::new("f"));
            if let Some(parsed) = parsed_if_body_fits(parsed, body.len(), declared)? {
                prop_assert_eq!(parsed.dims, dims);
                prop_assert_eq!(parsed.data, body);
            }
        }
    }

    #[test]
    fn a_header_declaring_more_than_the_load_limit_is_refused_before_reading() {
        // 2^17 x 2^17 bytes = 16 GiB declared, over a 4-byte body.
        let mut bytes = vec![0, 0, 8, 2];
        bytes.extend_from_slice(&(1u32 << 17).to_be_bytes());
        bytes.extend_from_slice(&(1u32 << 17).to_be_bytes());
        bytes.extend_from_slice(&[1, 2, 3, 4]);
        let err = parse_idx_bytes(&bytes, Path::new("huge")).unwrap_err();
        assert!(
            matches!(&err, DataError::Format { kind: FormatError::TooLarge { bytes, .. }, .. } if *bytes == 1 << 34),
            "{err}"
        );
    }
}
