//! `cargo xtask bench`: training and scoring throughput of the RealNVP configurations.

use std::time::Duration;

use anyhow::Context;
use clap::Args;
use flow_lab::bench::{BenchBudget, BenchCase, BenchJob, BenchResult};
use flow_lab::device::{run_job, BackendKind};

/// Arguments of `cargo xtask bench`.
#[derive(Args)]
pub struct BenchArgs {
    /// Backend to run on (flex, ndarray, wgpu, cuda); it must be compiled in.
    #[arg(long, default_value = "flex")]
    backend: String,
    /// Only these configurations (small, paper); all by default.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Seconds to keep timing each measurement (after at least 3 iterations).
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Also write the results as JSON here.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

fn print_row(r: &BenchResult) {
    println!(
        "{:<6} {:<8} {:>10} {:>6} {:>8.1} {:>6} {:>8.1}",
        r.name,
        r.backend,
        r.params,
        r.train_batch,
        r.train_images_per_sec,
        r.score_batch,
        r.score_images_per_sec
    );
}

/// Runs the benchmark.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let backend: BackendKind = args.backend.parse()?;
    let mut cases = BenchCase::realnvp_presets();
    if !args.only.is_empty() {
        cases.retain(|c| args.only.contains(&c.name));
        anyhow::ensure!(
            !cases.is_empty(),
            "--only matched no configuration (small, paper)"
        );
    }
    let budget = BenchBudget {
        min_time: Duration::from_secs_f64(args.seconds.max(0.0)),
        ..BenchBudget::default()
    };
    println!(
        "RealNVP on 1x28x28, backend {backend}, {} threads available",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "{:<6} {:<8} {:>10} {:>6} {:>8} {:>6} {:>8}",
        "config", "backend", "params", "batch", "train/s", "batch", "score/s"
    );
    let job = BenchJob {
        cases,
        budget,
        on_result: Box::new(print_row),
    };
    let results = run_job(backend, job)??;
    if let Some(path) = args.json {
        let text = serde_json::to_string_pretty(&results)?;
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
