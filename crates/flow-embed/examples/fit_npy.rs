//! Fits a tabular flow on one `.npy` of embeddings and scores others.
//!
//! `cargo run -p flow-embed --example fit_npy -- TRAIN.npy [OTHER.npy ...]`
//!
//! Prints the mean log-likelihood of each file and writes the fitted flow (with its
//! standardisation) to `TRAIN.embflow` beside the training file.

use std::path::PathBuf;

use burn::backend::{Autodiff, Flex};
use burn::module::AutodiffModule;
use flow_embed::{
    fit_flow, log_prob_embeddings, Embeddings, FlowFitConfig, TabularFlow, TabularFlowConfig,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    type B = Autodiff<Flex>;
    let device = Default::default();
    let paths: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    let (train_path, others) = paths
        .split_first()
        .ok_or("usage: fit_npy TRAIN.npy [OTHER.npy ...]")?;
    let train = Embeddings::read_npy(train_path, None)?;
    println!(
        "{}: {} x {}",
        train_path.display(),
        train.len(),
        train.dim()
    );
    let config = TabularFlowConfig {
        couplings: 6,
        hidden: 128,
        hidden_layers: 0,
        ..TabularFlowConfig::new(train.dim())
    };
    let fit = FlowFitConfig {
        epochs: 8,
        ..FlowFitConfig::default()
    };
    let flow = fit_flow::<B>(&config, &fit, &train, &device, |p| {
        if p.step % 100 == 0 || p.step == p.total_steps {
            println!("step {}/{}: {:.3} nats", p.step, p.total_steps, p.loss);
        }
    })?;
    let model_path = train_path.with_extension("embflow");
    flow.valid().save(&model_path)?;
    let flow = TabularFlow::<Flex>::load(&model_path, &device)?;
    println!("saved {}", model_path.display());
    for path in std::iter::once(train_path).chain(others) {
        let data = Embeddings::read_npy(path, None)?;
        let scores = log_prob_embeddings(&flow, &data, 512, &device)?;
        let mean = scores.iter().sum::<f64>() / scores.len().max(1) as f64;
        println!(
            "{}: mean log p {mean:.2} nats over {}",
            path.display(),
            scores.len()
        );
    }
    Ok(())
}
