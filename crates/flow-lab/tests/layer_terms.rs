//! The per-layer terms the figures and results.json report (`ScoredSet::layers`) add up
//! to the mean log-likelihood of the same scoring pass, on a real multi-scale flow.

// The training tests' fixtures, shared with flow-train.
#[path = "../../flow-train/tests/train_support/mod.rs"]
mod train_support;

use flow_core::FlowConfig;
use flow_lab::experiment::score_set;
use train_support::synthetic_images;

type Cpu = burn::backend::Flex;

#[test]
fn the_reported_layer_terms_sum_to_the_mean_log_likelihood() {
    let device = Default::default();
    let flow = FlowConfig::realnvp([1, 4, 4], 2, 1, 4)
        .init::<Cpu>(3, &device)
        .unwrap();
    let scored =
        score_set::<Cpu>(&flow, "synthetic", &synthetic_images(20), 8, 2, 5, &device).unwrap();
    let layers = scored.layers.as_ref().unwrap();
    let mean = scored.log_likelihood.iter().sum::<f64>() / scored.log_likelihood.len() as f64;
    assert!(
        (layers.total() - mean).abs() < 1e-4 * mean.abs().max(1.0),
        "layer terms add up to {}, the mean log p(x) is {mean}",
        layers.total()
    );
    // Every coupling and the preprocessing have a term, and the constant is the
    // dequantization's -D log 256 with the reference's D log(255/256).
    assert_eq!(
        layers.layers.first().map(String::as_str),
        Some("preprocess")
    );
    assert_eq!(layers.layers.len(), 1 + 3 + 3 + 4);
    let d = 16.0;
    let constant = -d * 256f64.ln() + d * (255.0f64 / 256.0).ln();
    assert!(
        (layers.constant - constant).abs() < 1e-9,
        "{}",
        layers.constant
    );
}
