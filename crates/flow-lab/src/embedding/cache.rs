//! The classifier cache: a trained feature extractor is kept under a name derived from
//! everything that determines it (architecture, training settings, training data), so a
//! second run with the same inputs loads it instead of training again, and a run with
//! different inputs can never pick up a stale one.

use std::path::{Path, PathBuf};

use flow_data::ImageDataset;
use flow_embed::{ClassifierConfig, ClassifierTrainConfig};
use serde::Serialize;

use flow_train::DataFingerprint;

#[derive(Serialize)]
struct CacheKey<'a> {
    classifier: &'a ClassifierConfig,
    train: &'a ClassifierTrainConfig,
    data: DataFingerprint,
    /// The model file format, so a format change invalidates old entries.
    format: u32,
}

/// The cache key of a classifier trained with `train` on `data`: FNV-1a 64 of the
/// JSON of the architecture, the training settings, the data's fingerprint and the
/// model file version, as 16 hex digits.
pub fn classifier_cache_key(
    classifier: &ClassifierConfig,
    train: &ClassifierTrainConfig,
    data: &ImageDataset,
) -> String {
    let key = CacheKey {
        classifier,
        train,
        data: DataFingerprint::of(data),
        format: flow_embed::MODEL_FILE_VERSION,
    };
    // Serialising plain data to a Vec cannot fail; an empty key would still be stable.
    let bytes = serde_json::to_vec(&key).unwrap_or_default();
    format!("{:016x}", flow_fs::container::fnv64(&bytes))
}

/// Where the classifier with cache key `key` lives under `cache_dir`.
pub fn classifier_cache_path(cache_dir: &Path, key: &str) -> PathBuf {
    cache_dir.join(format!("classifier-{key}.embcls"))
}
