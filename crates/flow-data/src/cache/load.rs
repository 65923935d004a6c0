//! Loading splits from a verified cache.

use std::path::Path;

use crate::dataset::ImageDataset;
use crate::error::{DataError, Result};
use crate::formats::idx::{idx_dataset, parse_idx_bytes};
use crate::splits::{mnist_train_count, Dataset, Split};

use super::manifest::{FileEntry, Manifest, Part};
use super::DataCache;

/// See [`DataCache::load`].
pub(crate) fn load(cache: &DataCache, dataset: Dataset, split: Split) -> Result<ImageDataset> {
    let dir = cache.dataset_dir(dataset);
    let manifest = Manifest::read(&dir, dataset)?;
    let part = |name: &str| -> Result<ImageDataset> {
        let part = manifest
            .parts
            .get(name)
            .ok_or_else(|| DataError::CacheMissing {
                path: dir.clone(),
                reason: format!("the manifest lists no '{name}' part"),
            })?;
        read_part(&dir, part)
    };
    match (dataset, split) {
        (Dataset::FashionMnist, Split::Train) => part("train"),
        (Dataset::FashionMnist, Split::Test) => part("test"),
        (Dataset::FashionMnist, Split::All) => {
            ImageDataset::concat(&[part("train")?, part("test")?])
        }
        (Dataset::Mnist, Split::All) => part("all"),
        (Dataset::Mnist, split) => {
            let all = part("all")?;
            all.select(&mnist_split_indices(&all, split))
        }
    }
}

/// MNIST's 80/20 split: per class, the first `floor(0.8 n)` images (in stored order) are
/// train, the rest test.
pub(crate) fn mnist_split_indices(all: &ImageDataset, split: Split) -> Vec<usize> {
    all.indices_by_class()
        .into_iter()
        .flat_map(|class| {
            let cut = mnist_train_count(class.len());
            match split {
                Split::Train => class[..cut].to_vec(),
                Split::Test => class[cut..].to_vec(),
                Split::All => class,
            }
        })
        .collect()
}

/// Reads a part's two files once each, checking them against the manifest before parsing.
fn read_part(dir: &Path, part: &Part) -> Result<ImageDataset> {
    let read = |entry: &FileEntry| -> Result<_> {
        let path = dir.join(&entry.file);
        let bytes = std::fs::read(&path).map_err(|e| DataError::io(&path, e))?;
        entry.verify_bytes(&path, &bytes)?;
        let array = parse_idx_bytes(&bytes, &path)?;
        Ok((array, path))
    };
    let (images, images_path) = read(&part.images)?;
    let (labels, labels_path) = read(&part.labels)?;
    idx_dataset(images, &images_path, labels, &labels_path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::ImageShape;

    #[test]
    fn mnist_split_is_per_class_and_complementary() {
        // Class 0: 10 images, class 1: 6 images, interleaved.
        let labels: Vec<u32> = (0..16).map(|i| u32::from(i % 8 >= 5)).collect();
        let data = ImageDataset::new(ImageShape::new(1, 1, 1), (0..16).collect(), labels).unwrap();
        let train = mnist_split_indices(&data, Split::Train);
        let test = mnist_split_indices(&data, Split::Test);
        let zeros: Vec<usize> = (0..16).filter(|i| i % 8 < 5).collect();
        let ones: Vec<usize> = (0..16).filter(|i| i % 8 >= 5).collect();
        assert_eq!(train, [&zeros[..8], &ones[..4]].concat());
        assert_eq!(test, [&zeros[8..], &ones[4..]].concat());
    }
}
