//! The fits learn: the tabular flow approaches the entropy of a known Gaussian, the
//! classifier separates a synthetic two-class image set. No network, no real data.

use burn::backend::{Autodiff, Flex};
use burn::module::AutodiffModule;
use flow_data::{ImageDataset, ImageShape};
use flow_embed::{
    accuracy, embed_images, fit_classifier, fit_flow, log_prob_embeddings, ClassifierConfig,
    ClassifierTrainConfig, EmbedError, Embeddings, FlowFitConfig, GaussianFit, TabularFlowConfig,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

type B = Autodiff<Flex>;

/// `n` draws of a correlated 3-d Gaussian with very different scales per dimension
/// (so standardisation matters), and its entropy in nats.
fn gaussian_data(n: usize, seed: u64) -> (Embeddings, f64) {
    // x = A e with A lower triangular; log det of the covariance = 2 sum log diag(A).
    let a = [[100.0, 0.0, 0.0], [30.0, 0.5, 0.0], [-0.01, 0.002, 0.01]];
    let mut rng = StdRng::seed_from_u64(seed);
    let mut values = Vec::with_capacity(n * 3);
    for _ in 0..n {
        let e: [f64; 3] = std::array::from_fn(|_| StandardNormal.sample(&mut rng));
        for row in &a {
            values.push((row[0] * e[0] + row[1] * e[1] + row[2] * e[2] + 5.0) as f32);
        }
    }
    let log_det_cov: f64 = 2.0 * (100.0f64.ln() + 0.5f64.ln() + 0.01f64.ln());
    let entropy = 0.5 * (3.0 * (1.0 + (2.0 * std::f64::consts::PI).ln()) + log_det_cov);
    (Embeddings::new(values, 3, None).unwrap(), entropy)
}

#[test]
fn the_flow_fits_a_known_gaussian() {
    let device = Default::default();
    let (train, entropy) = gaussian_data(3000, 1);
    let (test, _) = gaussian_data(1000, 2);
    let config = TabularFlowConfig {
        couplings: 4,
        hidden: 32,
        ..TabularFlowConfig::new(3)
    };
    let fit = FlowFitConfig {
        epochs: 25,
        batch_size: 128,
        learning_rate: 3e-3,
        ..FlowFitConfig::default()
    };
    let mut losses = Vec::new();
    let flow = fit_flow::<B>(&config, &fit, &train, &device, |p| losses.push(p.loss)).unwrap();
    assert_eq!(losses.len() as u64, 25 * 3000u64.div_ceil(128));
    let scores = log_prob_embeddings(&flow.valid(), &test, 256, &device).unwrap();
    let mean_nll = -scores.iter().sum::<f64>() / scores.len() as f64;
    // The Gaussian is the best possible model; the flow should come close on held-out data.
    let gaussian = GaussianFit::fit(&train, 0.0).unwrap();
    let gaussian_nll = -test
        .rows()
        .map(|r| gaussian.log_density(r).unwrap())
        .sum::<f64>()
        / test.len() as f64;
    assert!(
        (gaussian_nll - entropy).abs() < 0.15,
        "{gaussian_nll} vs {entropy}"
    );
    assert!(
        mean_nll < entropy + 0.1,
        "held-out NLL {mean_nll:.3} nats, entropy {entropy:.3}"
    );
}

#[test]
fn a_diverging_fit_names_the_step() {
    let device = Default::default();
    let (train, _) = gaussian_data(256, 3);
    let fit = FlowFitConfig {
        learning_rate: 1e9,
        grad_clip_norm: None,
        epochs: 50,
        batch_size: 64,
        cosine_decay: false,
        ..FlowFitConfig::default()
    };
    let config = TabularFlowConfig {
        couplings: 2,
        hidden: 8,
        actnorm: false,
        ..TabularFlowConfig::new(3)
    };
    match fit_flow::<B>(&config, &fit, &train, &device, |_| {}) {
        Err(e @ EmbedError::Diverged { step, what, .. }) => {
            assert!(step > 0);
            assert_eq!(what, flow_embed::Trained::TabularFlow);
            let message = e.to_string();
            assert!(
                message.contains(&format!("tabular flow step {step}")),
                "{e}"
            );
        }
        other => panic!("expected divergence, got {:?}", other.map(|_| ())),
    }
}

/// 8x8 images: class 0 bright on the left half, class 1 on the right, with noise.
fn two_halves(n: usize, seed: u64) -> ImageDataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut pixels = Vec::with_capacity(n * 64);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let label = (i % 2) as u32;
        for _ in 0..8 {
            for w in 0..8 {
                let bright = (w < 4) == (label == 0);
                let base = if bright { 150.0 } else { 60.0 };
                pixels.push((base + rng.random_range(-60.0..60.0f64)) as u8);
            }
        }
        labels.push(label);
    }
    ImageDataset::new(ImageShape::new(1, 8, 8), pixels, labels).unwrap()
}

#[test]
fn the_classifier_learns_and_embeds() {
    let device = Default::default();
    let train = two_halves(256, 1);
    let test = two_halves(200, 2);
    let config = ClassifierConfig {
        input_shape: [1, 8, 8],
        classes: 2,
        channels: vec![4],
        embedding_dim: 6,
        batch_norm: true,
    };
    let fit = ClassifierTrainConfig {
        epochs: 4,
        batch_size: 32,
        learning_rate: 3e-3,
        ..ClassifierTrainConfig::default()
    };
    let before = accuracy(
        &config.init::<Flex>(fit.seed, &device).unwrap(),
        &test,
        64,
        &device,
    )
    .unwrap();
    let mut last = None;
    let model = fit_classifier::<B>(&config, &fit, &train, &device, |p| last = Some(*p)).unwrap();
    let last = last.unwrap();
    assert_eq!(last.step, last.total_steps);
    let model = model.valid();
    let after = accuracy(&model, &test, 64, &device).unwrap();
    assert!(
        after > 0.95,
        "test accuracy {after} (before training {before})"
    );
    let emb = embed_images(&model, &test, 64, &device).unwrap();
    assert_eq!((emb.len(), emb.dim()), (200, 6));
    assert_eq!(emb.labels(), Some(test.labels()));

    // Labels outside the classes and images of another shape are refused.
    let bad = ImageDataset::new(ImageShape::new(1, 8, 8), vec![0; 64], vec![5]).unwrap();
    assert!(matches!(
        fit_classifier::<B>(&config, &fit, &bad, &device, |_| {}),
        Err(EmbedError::Shape(_))
    ));
    let other = ImageDataset::new(ImageShape::new(1, 4, 4), vec![0; 16], vec![0]).unwrap();
    assert!(matches!(
        accuracy(&model, &other, 8, &device),
        Err(EmbedError::Shape(_))
    ));
}
