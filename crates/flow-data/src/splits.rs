//! The datasets this crate caches, and their deterministic splits.
//!
//! | dataset | split | definition |
//! |---|---|---|
//! | FashionMNIST | `Train` | the first 6,000 images of each class file (60,000) |
//! | FashionMNIST | `Test` | the last 1,000 images of each class file (10,000) |
//! | FashionMNIST | `All` | `Train` followed by `Test` (70,000) |
//! | MNIST | `All` | all 10,000 digits: the OOD set for FashionMNIST-trained models |
//! | MNIST | `Train` | the first `floor(0.8 n_c)` images of each class `c` (7,996) |
//! | MNIST | `Test` | the remaining images of each class (2,004) |
//!
//! Images are stored and returned class by class (class 0 first), each class in the
//! order of its source file; shuffle with [`BatchPlan::shuffled`](crate::BatchPlan::shuffled).

use serde::{Deserialize, Serialize};

use crate::dataset::ImageShape;

/// A dataset that `flow-data` can fetch and cache: the one enum of the built-in
/// datasets (in configurations `fashion_mnist` and `mnist`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dataset {
    /// FashionMNIST: 70,000 28x28 grayscale images of clothing, 10 classes.
    FashionMnist,
    /// MNIST: 10,000 28x28 grayscale handwritten digits, 10 classes.
    Mnist,
}

/// Which part of a dataset to load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Split {
    /// The training split.
    Train,
    /// The test split.
    Test,
    /// Every image.
    All,
}

/// FashionMNIST class names, indexed by label.
pub const FASHION_MNIST_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// MNIST class names (the digits), indexed by label.
pub const MNIST_CLASSES: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// Images per class in the FashionMNIST source files.
pub(crate) const FASHION_MNIST_PER_CLASS: usize = 7_000;
/// Of which the first this many are training images.
pub(crate) const FASHION_MNIST_TRAIN_PER_CLASS: usize = 6_000;

impl Dataset {
    /// Both datasets.
    pub const ALL: [Dataset; 2] = [Dataset::FashionMnist, Dataset::Mnist];

    /// The short name used for folders and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Dataset::FashionMnist => "fashion-mnist",
            Dataset::Mnist => "mnist",
        }
    }

    /// The dataset with this [`name`](Dataset::name).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }

    /// The dataset a user means by `name`: its [`name`](Dataset::name), its name in
    /// configurations (`fashion_mnist`), or the short `fashion`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "fashion" | "fashion_mnist" => Some(Dataset::FashionMnist),
            _ => Self::from_name(name),
        }
    }

    /// How reports name it (`FashionMNIST`, `MNIST`).
    pub fn display_name(self) -> &'static str {
        match self {
            Dataset::FashionMnist => "FashionMNIST",
            Dataset::Mnist => "MNIST",
        }
    }

    /// The other built-in dataset: the natural OOD set of a flow trained on this one.
    pub fn other(self) -> Self {
        match self {
            Dataset::FashionMnist => Dataset::Mnist,
            Dataset::Mnist => Dataset::FashionMnist,
        }
    }

    /// Class names, indexed by label.
    pub fn class_names(self) -> [&'static str; 10] {
        match self {
            Dataset::FashionMnist => FASHION_MNIST_CLASSES,
            Dataset::Mnist => MNIST_CLASSES,
        }
    }

    /// The shape of every image.
    pub fn image_shape(self) -> ImageShape {
        ImageShape::new(1, 28, 28)
    }

    /// The parts stored in the cache, each as an image and a label file.
    pub(crate) fn stored_parts(self) -> &'static [&'static str] {
        match self {
            Dataset::FashionMnist => &["train", "test"],
            Dataset::Mnist => &["all"],
        }
    }
}

impl std::fmt::Display for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Split::Train => "train",
            Split::Test => "test",
            Split::All => "all",
        })
    }
}

/// Number of training images of a class of `n` images in the MNIST 80/20 split.
pub(crate) fn mnist_train_count(n: usize) -> usize {
    n * 4 / 5
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mnist_split_takes_the_floor_of_80_percent() {
        assert_eq!(mnist_train_count(1001), 800);
        assert_eq!(mnist_train_count(1127), 901);
        assert_eq!(mnist_train_count(10), 8);
        let counts = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
        let train: usize = counts.iter().map(|&n| mnist_train_count(n)).sum();
        assert_eq!(train, 7_996);
    }

    #[test]
    fn names_round_trip() {
        for d in Dataset::ALL {
            assert_eq!(Dataset::from_name(d.name()), Some(d));
        }
        assert_eq!(Dataset::from_name("cifar"), None);
    }

    #[test]
    fn every_spelling_a_user_types_and_the_configurations_name() {
        for (name, dataset) in [
            ("fashion", Dataset::FashionMnist),
            ("fashion-mnist", Dataset::FashionMnist),
            ("fashion_mnist", Dataset::FashionMnist),
            ("mnist", Dataset::Mnist),
        ] {
            assert_eq!(Dataset::parse(name), Some(dataset), "{name}");
        }
        assert_eq!(Dataset::parse("svhn"), None);
        assert_eq!(
            serde_json::to_string(&Dataset::FashionMnist).unwrap(),
            "\"fashion_mnist\""
        );
        for d in Dataset::ALL {
            assert_eq!(d.other().other(), d);
            assert_ne!(d.other(), d);
        }
        assert_eq!(Dataset::Mnist.display_name(), "MNIST");
    }
}
