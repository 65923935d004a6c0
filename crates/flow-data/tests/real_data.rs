//! The real FashionMNIST and MNIST, as cached by `cargo xtask data`.
//!
//! Without a cache these tests print a SKIPPED line and pass, unless the environment sets
//! `FLOWS_OOD_REQUIRE_DATA=1` (CI does, after `cargo xtask data`): then a missing cache
//! fails. A cache that is present but corrupt always fails.

use std::io::Write;
use std::time::Instant;

use flow_data::{DataCache, DataError, Dataset, Split};

const REQUIRE_ENV: &str = "FLOWS_OOD_REQUIRE_DATA";

/// The cache if `dataset` is in it; `None` (after saying so) if it is absent and not
/// required.
fn cache_with(dataset: Dataset) -> Option<DataCache> {
    let cache = DataCache::locate(None).unwrap();
    match cache.verify(dataset) {
        Ok(_) => Some(cache),
        Err(DataError::CacheMissing { path, reason }) => {
            let message = format!(
                "no {dataset} cache in {} ({reason}); run `cargo xtask data` first",
                path.display()
            );
            if std::env::var(REQUIRE_ENV).as_deref() == Ok("1") {
                panic!("{message} ({REQUIRE_ENV}=1 requires the real data)");
            }
            // Straight to stderr: libtest captures print!/eprint! of passing tests, and a
            // skip must be visible.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED real-data check: {message} (set {REQUIRE_ENV}=1 to fail instead)"
            );
            None
        }
        Err(e) => panic!("the {dataset} cache is present but invalid: {e}"),
    }
}

#[test]
fn fashion_mnist_has_the_published_split_sizes_and_train_mean() {
    let Some(cache) = cache_with(Dataset::FashionMnist) else {
        return;
    };
    let start = Instant::now();
    let train = cache.load(Dataset::FashionMnist, Split::Train).unwrap();
    let elapsed = start.elapsed();
    let _ = writeln!(
        std::io::stderr(),
        "loaded the cached FashionMNIST train split ({} images, checksum verified) in {:.1} ms",
        train.len(),
        elapsed.as_secs_f64() * 1e3
    );
    let test = cache.load(Dataset::FashionMnist, Split::Test).unwrap();
    assert_eq!(train.len(), 60_000);
    assert_eq!(test.len(), 10_000);
    assert_eq!(train.class_counts(), vec![6_000; 10]);
    assert_eq!(test.class_counts(), vec![1_000; 10]);
    assert_eq!(train.shape(), Dataset::FashionMnist.image_shape());
    // The published FashionMNIST training mean is 0.2860 (on the [0, 1] scale).
    let mean = train.mean_pixel() / 255.0;
    assert_eq!(format!("{mean:.4}"), "0.2860", "train mean {mean}");
    assert_eq!(
        cache.load(Dataset::FashionMnist, Split::All).unwrap().len(),
        70_000
    );
}

#[test]
fn mnist_has_ten_thousand_digits_with_the_checked_mean() {
    let Some(cache) = cache_with(Dataset::Mnist) else {
        return;
    };
    let all = cache.load(Dataset::Mnist, Split::All).unwrap();
    assert_eq!(all.len(), 10_000);
    let mean = all.mean_pixel();
    assert!(
        (mean - 33.437).abs() < 1e-3,
        "MNIST mean pixel {mean}, expected 33.437 (of 255)"
    );
    let train = cache.load(Dataset::Mnist, Split::Train).unwrap();
    let test = cache.load(Dataset::Mnist, Split::Test).unwrap();
    assert_eq!(train.len() + test.len(), 10_000);
    let counts = all.class_counts();
    let expected_train: Vec<usize> = counts.iter().map(|&n| n * 4 / 5).collect();
    assert_eq!(train.class_counts(), expected_train);
}

#[test]
fn the_cache_was_built_from_the_pinned_package_tarballs() {
    for dataset in Dataset::ALL {
        let Some(cache) = cache_with(dataset) else {
            continue;
        };
        let manifest = cache.verify(dataset).unwrap();
        if let flow_data::cache::manifest::Source::NpmPackage { tarball_sha256, .. } =
            &manifest.source
        {
            assert_eq!(
                tarball_sha256,
                dataset.npm_package().tarball_sha256,
                "{dataset}: the cache came from another tarball than the pinned one"
            );
        }
    }
}
