//! Measures the classifier's training speed and test accuracy on FashionMNIST (flex).
//!
//! `cargo run -p flow-embed --example classifier_speed -- <channels,comma> <embedding> <epochs> [batch] [lr] [train_limit]`

use std::time::Instant;

use burn::backend::{Autodiff, Flex};
use burn::module::AutodiffModule;
use flow_data::{DataCache, Dataset, Split};
use flow_embed::{accuracy, fit_classifier, ClassifierConfig, ClassifierTrainConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    type B = Autodiff<Flex>;
    let args: Vec<String> = std::env::args().collect();
    let channels: Vec<usize> = args
        .get(1)
        .map_or("16,32", |s| s.as_str())
        .split(',')
        .map(|c| c.parse())
        .collect::<Result<_, _>>()?;
    let embedding_dim = args.get(2).map_or(Ok(64), |s| s.parse())?;
    let epochs = args.get(3).map_or(Ok(1), |s| s.parse())?;
    let batch_size = args.get(4).map_or(Ok(128), |s| s.parse())?;
    let learning_rate = args.get(5).map_or(Ok(2e-3), |s| s.parse())?;
    let limit: Option<usize> = args.get(6).map(|s| s.parse()).transpose()?;
    let device = Default::default();
    let cache = DataCache::locate(None)?;
    let mut train = cache.load(Dataset::FashionMnist, Split::Train)?;
    if let Some(limit) = limit {
        let stride = (train.len() / limit.max(1)).max(1);
        let idx: Vec<usize> = (0..train.len()).step_by(stride).take(limit).collect();
        train = train.select(&idx)?;
    }
    let test = cache.load(Dataset::FashionMnist, Split::Test)?;
    let config = ClassifierConfig {
        channels,
        embedding_dim,
        batch_norm: std::env::var("NO_BN").is_err(),
        ..ClassifierConfig::fashion_mnist()
    };
    let train_config = ClassifierTrainConfig {
        epochs,
        batch_size,
        learning_rate,
        ..ClassifierTrainConfig::default()
    };
    println!("{config:?} params {}", config.num_params());
    let started = Instant::now();
    let model = fit_classifier::<B>(&config, &train_config, &train, &device, |p| {
        if p.step % 50 == 0 || p.step == p.total_steps {
            println!(
                "step {}/{} loss {:.3} acc {:.3} {:.0} img/s",
                p.step,
                p.total_steps,
                p.loss,
                p.batch_accuracy.unwrap_or(0.0),
                p.samples_per_sec
            );
        }
    })?;
    let train_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let acc = accuracy(&model.valid(), &test, 500, &device)?;
    println!(
        "train {train_secs:.1} s; test accuracy {acc:.4} ({:.1} s for {} images)",
        started.elapsed().as_secs_f64(),
        test.len()
    );
    Ok(())
}
