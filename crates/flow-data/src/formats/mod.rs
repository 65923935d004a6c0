//! Readers (and writers) for the file formats users keep image data and embeddings in.
//!
//! Every reader takes untrusted bytes: it returns a [`DataError`](crate::DataError) naming the
//! file and what is wrong, and never panics or allocates more than the input justifies.

pub mod cifar;
pub mod idx;
pub mod image_folder;
pub mod npy;
mod open;
pub mod source;

use std::io::Read;
use std::path::Path;

use crate::error::{DataError, FormatError, Result};

/// The most bytes a reader loads from one file, or accepts as the size an IDX or `.npy`
/// header declares (8 GiB: every image set the project reads is far smaller, and a
/// forged or mistaken header must fail with a clear error, not exhaust memory).
pub const MAX_LOAD_BYTES: u64 = 1 << 33;

/// [`FormatError::TooLarge`] for `bytes` above [`MAX_LOAD_BYTES`].
pub(crate) fn check_load_size(bytes: u64, path: &Path) -> Result<()> {
    if bytes > MAX_LOAD_BYTES {
        return Err(DataError::format(
            path,
            FormatError::TooLarge {
                bytes,
                limit: MAX_LOAD_BYTES,
            },
        ));
    }
    Ok(())
}

/// Reads the whole of `path`, refusing a file above [`MAX_LOAD_BYTES`] before reading
/// it (and, for a file whose size the metadata does not tell, once it has read more).
pub(crate) fn read_limited(path: &Path) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let size = file.metadata().map_err(|e| DataError::io(path, e))?.len();
    check_load_size(size, path)?;
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(MAX_LOAD_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| DataError::io(path, e))?;
    check_load_size(bytes.len() as u64, path)?;
    Ok(bytes)
}

/// Checks shared by the readers' fuzzers.
#[cfg(test)]
pub(crate) mod fuzz_support {
    use proptest::prelude::*;
    use proptest::test_runner::TestCaseError;

    use crate::error::{DataError, FormatError};

    /// The outcome of parsing a well-formed header over a body of `found` bytes when it
    /// declares `declared`: the parsed value when the two agree, else a check that the
    /// error is `Truncated` (short body) or `TrailingBytes` (long body).
    pub(crate) fn parsed_if_body_fits<T: std::fmt::Debug>(
        parsed: Result<T, DataError>,
        found: usize,
        declared: usize,
    ) -> Result<Option<T>, TestCaseError> {
        match found.cmp(&declared) {
            std::cmp::Ordering::Equal => match parsed {
                Ok(value) => Ok(Some(value)),
                Err(e) => Err(TestCaseError::fail(format!(
                    "a body of the declared length: {e}"
                ))),
            },
            std::cmp::Ordering::Less => {
                let truncated = matches!(
                    parsed,
                    Err(DataError::Format {
                        kind: FormatError::Truncated { .. },
                        ..
                    })
                );
                prop_assert!(truncated, "{:?}", parsed);
                Ok(None)
            }
            std::cmp::Ordering::Greater => {
                let trailing = matches!(
                    parsed,
                    Err(DataError::Format {
                        kind: FormatError::TrailingBytes { .. },
                        ..
                    })
                );
                prop_assert!(trailing, "{:?}", parsed);
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_over_the_load_limit_is_refused_without_being_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.npy");
        // A sparse file: its size is over the limit, its blocks never written.
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(MAX_LOAD_BYTES + 1).unwrap();
        for err in [
            npy::read_npy(&path).unwrap_err(),
            cifar::read_cifar10_batch(&path).unwrap_err(),
        ] {
            assert!(
                matches!(&err, DataError::Format { kind: FormatError::TooLarge { bytes, .. }, .. } if *bytes == MAX_LOAD_BYTES + 1),
                "{err}"
            );
            assert!(err.to_string().contains("huge.npy"), "{err}");
        }
    }
}
