//! The embedding study on the real data, FashionMNIST -> MNIST, with AUROC and its
//! bootstrap interval for each detector.
//!
//! `cargo run -p flow-lab --example embedding_study -- [quick|smoke] [out_dir] [seed]`
//! (the classifier cache is `<out_dir>/cache`; a second run loads the classifier).

use flow_kernels::FlowAutodiffBackend;
use std::path::PathBuf;

use flow_data::{ConsoleProgress, DataCache, Dataset, Split};
use flow_lab::device::{run_job, BackendJob, BackendKind};
use flow_lab::embedding::{run_embedding_study, EmbeddingStudyConfig, StudyData};
use flow_ood::{evaluate, BootstrapOptions, EvaluateOptions, Orientation};

struct Study {
    config: EmbeddingStudyConfig,
    out: PathBuf,
}

impl BackendJob for Study {
    type Output = Result<(), Box<dyn std::error::Error>>;

    fn run<B: FlowAutodiffBackend>(self, backend: BackendKind, device: B::Device) -> Self::Output {
        let cache = DataCache::locate(None)?;
        cache.ensure(Dataset::FashionMnist, &ConsoleProgress::new())?;
        cache.ensure(Dataset::Mnist, &ConsoleProgress::new())?;
        let train = cache.load(Dataset::FashionMnist, Split::Train)?;
        let test = cache.load(Dataset::FashionMnist, Split::Test)?;
        let mnist = cache.load(Dataset::Mnist, Split::All)?;
        let study = run_embedding_study::<B>(
            &self.config,
            StudyData {
                train: &train,
                test: &test,
                ood: &[("MNIST", &mnist)],
            },
            &self.out.join("cache"),
            &self.out,
            false,
            &device,
        )?;
        let s = &study.summary;
        println!("backend {}", backend.name());
        println!(
            "classifier: {} params, test accuracy {:.4}, cached {}, {:.1} s training ({:.0} images/s)",
            s.classifier.params,
            s.classifier.test_accuracy,
            s.classifier.cached,
            s.classifier.train_seconds,
            s.classifier.train_images_per_sec
        );
        println!(
            "flow: {} params on {} embeddings, final loss {:.2} nats, test log-likelihood {:.2}",
            s.flow.params,
            s.flow.fit_embeddings,
            s.flow.final_loss_nats,
            s.flow.test_log_likelihood
        );
        println!("timings (s): {:?}", s.timings);
        let options = EvaluateOptions {
            bootstrap: Some(BootstrapOptions {
                resamples: 1000,
                seed: 0,
                ..BootstrapOptions::default()
            }),
            ..EvaluateOptions::default()
        };
        for d in &study.detectors {
            for (name, ood) in &d.ood {
                let m = evaluate(
                    &d.in_test,
                    ood,
                    Orientation::HigherIsInDistribution,
                    &options,
                )?;
                let ci = m.auroc.interval.map_or(String::new(), |i| {
                    format!(" [{:.4}, {:.4}]", i.lower, i.upper)
                });
                println!(
                    "{:<28} vs {name}: AUROC {:.4}{ci}",
                    d.detector.name(),
                    m.auroc.value
                );
            }
        }
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let mut config = match args.get(1).map(String::as_str) {
        Some("smoke") => EmbeddingStudyConfig::smoke(),
        _ => EmbeddingStudyConfig::default(),
    };
    if let Some(seed) = args.get(3) {
        let seed: u64 = seed.parse()?;
        config.classifier_train.seed = seed;
        config.flow_fit.seed = seed;
    }
    let out = PathBuf::from(args.get(2).map_or("target/embedding-study", String::as_str));
    let kind = BackendKind::preferred().ok_or("no backend compiled in")?;
    run_job(kind, Study { config, out })?
}
