//! The study end to end on a small synthetic set: files written, classifier cached and
//! reused, scores identical on the second run.

use burn::backend::{Autodiff, Flex};
use flow_data::{ImageDataset, ImageShape};
use flow_embed::{ClassifierConfig, TabularFlowConfig};

use super::*;

/// 8x8 images, bright on one half: left/right for the two classes when `vertical`,
/// top/bottom (an OOD pattern) otherwise.
fn halves(n: usize, vertical: bool, seed: u64) -> ImageDataset {
    let mut pixels = Vec::with_capacity(n * 64);
    let mut labels = Vec::with_capacity(n);
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    for i in 0..n {
        let label = (i % 2) as u32;
        for h in 0..8 {
            for w in 0..8 {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let noise = (state >> 58) as i32 * 4;
                let first = if vertical { w < 4 } else { h < 4 };
                let bright = first == (label == 0);
                pixels.push((if bright { 170 } else { 50 } + noise) as u8);
            }
        }
        labels.push(label);
    }
    ImageDataset::new(ImageShape::new(1, 8, 8), pixels, labels).unwrap()
}

fn tiny_config() -> EmbeddingStudyConfig {
    let classifier = ClassifierConfig {
        input_shape: [1, 8, 8],
        classes: 2,
        channels: vec![4],
        embedding_dim: 4,
        batch_norm: true,
    };
    let quick = EmbeddingStudyConfig::default();
    EmbeddingStudyConfig {
        classifier,
        classifier_train: flow_embed::ClassifierTrainConfig {
            epochs: 2,
            batch_size: 32,
            ..quick.classifier_train.clone()
        },
        flow: TabularFlowConfig {
            couplings: 2,
            hidden: 8,
            ..TabularFlowConfig::new(4)
        },
        flow_fit: flow_embed::FlowFitConfig {
            epochs: 2,
            batch_size: 64,
            ..quick.flow_fit.clone()
        },
        fit_limit: None,
        in_train_scored: 20,
        ..quick
    }
}

#[test]
fn runs_writes_caches_and_repeats() {
    type B = Autodiff<Flex>;
    let device = Default::default();
    let train = halves(256, true, 1);
    let test = halves(64, true, 2);
    let ood = halves(48, false, 3);
    let dir = tempfile::tempdir().unwrap();
    let (cache, out) = (dir.path().join("cache"), dir.path().join("run"));
    let config = tiny_config();
    let run = || {
        run_embedding_study::<B>(
            &config,
            StudyData {
                train: &train,
                test: &test,
                ood: &[("Top / bottom", &ood)],
            },
            &cache,
            &out,
            true,
            &device,
        )
        .unwrap()
    };
    let first = run();
    assert!(!first.summary.classifier.cached);
    assert!(first.summary.classifier.file.exists());
    assert_eq!(first.detectors.len(), 3);
    for d in &first.detectors {
        assert_eq!(d.in_train.len(), 20);
        assert_eq!(d.in_test.len(), 64);
        assert_eq!(d.ood[0].0, "Top / bottom");
        assert_eq!(d.ood[0].1.len(), 48);
        assert!(d.in_test.iter().chain(&d.ood[0].1).all(|s| s.is_finite()));
    }
    for file in ["train", "test", "top-bottom"] {
        let values = out.join(format!("embeddings/{file}.npy"));
        let labels = out.join(format!("embeddings/{file}_labels.npy"));
        let emb = flow_embed::Embeddings::read_npy(&values, Some(&labels)).unwrap();
        assert_eq!(emb.dim(), 4);
    }
    assert_eq!(first.summary.embedding_files.len(), 6);

    let second = run();
    assert!(second.summary.classifier.cached);
    assert_eq!(
        second.summary.classifier.test_accuracy,
        first.summary.classifier.test_accuracy
    );
    assert_eq!(second.detectors, first.detectors);

    // Another training configuration is another cache entry.
    let mut other = config.clone();
    other.classifier_train.seed = 9;
    assert_ne!(
        classifier_cache_key(&other.classifier, &other.classifier_train, &train),
        classifier_cache_key(&config.classifier, &config.classifier_train, &train)
    );
}

#[test]
fn mismatched_dimensions_are_refused_before_any_work() {
    let mut config = tiny_config();
    config.flow.dim = 5;
    assert!(matches!(
        config.validate(),
        Err(EmbeddingStudyError::Config(_))
    ));
    assert!(EmbeddingStudyConfig::default().validate().is_ok());
    assert!(EmbeddingStudyConfig::smoke().validate().is_ok());
}
