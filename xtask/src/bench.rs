//! `cargo xtask bench`: training and scoring throughput of the RealNVP configurations and
//! the embedding classifier, alone or side by side with their PyTorch twins.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use crate::parse_backend;
use flow_lab::bench::{
    merge_rounds, paired_ratios, BenchBudget, BenchCase, BenchJob, BenchPhase, BenchResult,
};
use flow_lab::device::{run_job, BackendKind};

/// The PyTorch twin of the benchmarked models, relative to the workspace root.
const TWIN_SCRIPT: &str = "bench/pytorch_twin.py";

/// Arguments of `cargo xtask bench`.
#[derive(Args)]
pub struct BenchArgs {
    /// Backend to run on (flex, ndarray, wgpu, cuda); it must be compiled in.
    #[arg(long, default_value = "flex", value_parser = parse_backend)]
    backend: BackendKind,
    /// Only these configurations (small, paper, classifier); all by default.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Seconds to keep timing each measurement (after at least 3 iterations).
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Also write the results as JSON here (a list; with --compare-pytorch, PyTorch's
    /// results follow ours, marked by their `backend`).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Run the PyTorch twin (bench/pytorch_twin.py) with this Python interpreter right
    /// after ours, on the same configurations and threads, and print the ratios.
    #[arg(long, value_name = "PYTHON")]
    compare_pytorch: Option<PathBuf>,
    /// Repeat the measurements (ours, then the twin's with --compare-pytorch) this many
    /// times in turn and report each side's median, with every round in the JSON:
    /// throughput drifts by more than the gaps being measured.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    rounds: u32,
    /// Time only training or only scoring (e.g. to profile one under perf); the other
    /// is reported as 0.
    #[arg(
        long,
        value_enum,
        default_value = "both",
        conflicts_with = "compare_pytorch"
    )]
    phase: PhaseArg,
}

/// `--phase`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum PhaseArg {
    Both,
    Train,
    Score,
}

/// The time budget per measurement, or why `seconds` cannot be one.
fn budget(seconds: f64) -> anyhow::Result<BenchBudget> {
    anyhow::ensure!(
        seconds.is_finite() && seconds >= 0.0,
        "--seconds must be a finite number of seconds, at least 0 (got {seconds})"
    );
    Ok(BenchBudget {
        min_time: Duration::from_secs_f64(seconds),
        ..BenchBudget::default()
    })
}

fn print_row(r: &BenchResult) {
    println!(
        "{:<10} {:<14} {:>10} {:>6} {:>8.1} {:>6} {:>8.1}",
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
    let backend = args.backend;
    let mut budget = budget(args.seconds)?;
    budget.phase = match args.phase {
        PhaseArg::Both => BenchPhase::Both,
        PhaseArg::Train => BenchPhase::Train,
        PhaseArg::Score => BenchPhase::Score,
    };
    let mut cases = BenchCase::presets();
    if !args.only.is_empty() {
        let known = BenchCase::preset_names();
        if let Some(unknown) = args.only.iter().find(|name| !known.contains(name)) {
            anyhow::bail!(
                "--only {unknown}: no such configuration (have {})",
                known.join(", ")
            );
        }
        cases.retain(|c| args.only.contains(&c.name));
    }
    let names: Vec<String> = cases.iter().map(|c| c.name.clone()).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("backend {backend}, {threads} threads available");
    println!(
        "{:<10} {:<14} {:>10} {:>6} {:>8} {:>6} {:>8}",
        "config", "backend", "params", "batch", "train/s", "batch", "score/s"
    );
    let mut rounds = Vec::new();
    for round in 1..=args.rounds {
        if args.rounds > 1 {
            println!("round {round} of {}", args.rounds);
        }
        let job = BenchJob {
            cases: cases.clone(),
            budget,
            on_result: Box::new(print_row),
        };
        let mut results = run_job(backend, job)??;
        if let Some(python) = &args.compare_pytorch {
            let twin = run_twin(python, &names, args.seconds, threads)?;
            twin.iter().for_each(print_row);
            results.extend(twin);
        }
        rounds.push(results);
    }
    let results = merge_rounds(&rounds);
    if args.compare_pytorch.is_some() {
        print_ratios(&results);
    }
    if let Some(path) = args.json {
        let text = serde_json::to_string_pretty(&results)?;
        std::fs::write(&path, text + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Runs the PyTorch twin on `names` and reads its results, stamped with the same
/// provenance as ours (one sitting, one machine).
fn run_twin(
    python: &Path,
    names: &[String],
    seconds: f64,
    threads: usize,
) -> anyhow::Result<Vec<BenchResult>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("the xtask crate has no parent folder")?;
    let script = root.join(TWIN_SCRIPT);
    anyhow::ensure!(
        script.is_file(),
        "the PyTorch twin {} is missing",
        script.display()
    );
    let out = std::env::temp_dir().join(format!("flows-ood-twin-{}.json", std::process::id()));
    println!("running the PyTorch twin with {}", python.display());
    let status = Command::new(python)
        .arg(&script)
        .args(["--only", &names.join(",")])
        .args(["--seconds", &seconds.to_string()])
        .args(["--threads", &threads.to_string()])
        .arg("--json")
        .arg(&out)
        .status()
        .with_context(|| format!("starting {}", python.display()))?;
    anyhow::ensure!(status.success(), "the PyTorch twin failed ({status})");
    let text =
        std::fs::read_to_string(&out).with_context(|| format!("reading {}", out.display()))?;
    // The file was only ours to read; a leftover in the temp folder is harmless.
    let _ = std::fs::remove_file(&out);
    let mut twin: Vec<BenchResult> = serde_json::from_str(&text)
        .with_context(|| format!("parsing the twin's results in {}", out.display()))?;
    let stamp = flow_lab::provenance::Provenance::now();
    for result in &mut twin {
        result.provenance = Some(stamp.clone());
    }
    Ok(twin)
}

/// Ours over PyTorch's, per configuration and measurement (of the medians, with each
/// round's own ratios after them when there were several).
fn print_ratios(results: &[BenchResult]) {
    let is_twin = |r: &BenchResult| r.backend.starts_with("pytorch");
    let (twin, ours): (Vec<&BenchResult>, Vec<&BenchResult>) =
        results.iter().partition(|r| is_twin(r));
    println!(
        "\n{:<10} {:>10} {:>10} {:>9} {:>9} {:>7} {:>9} {:>9} {:>7}",
        "config", "params", "torch", "train/s", "torch", "ratio", "score/s", "torch", "ratio"
    );
    for ours in ours {
        let Some(theirs) = twin.iter().find(|t| t.name == ours.name) else {
            continue;
        };
        let per_round = paired_ratios(ours, theirs);
        println!(
            "{:<10} {:>10} {:>10} {:>9.1} {:>9.1} {:>7.2} {:>9.1} {:>9.1} {:>7.2}",
            ours.name,
            ours.params,
            theirs.params,
            ours.train_images_per_sec,
            theirs.train_images_per_sec,
            ours.train_images_per_sec / theirs.train_images_per_sec,
            ours.score_images_per_sec,
            theirs.score_images_per_sec,
            ours.score_images_per_sec / theirs.score_images_per_sec,
        );
        if !per_round.is_empty() {
            let show = |pick: fn(&(f64, f64)) -> f64| {
                per_round
                    .iter()
                    .map(|r| format!("{:.2}", pick(r)))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            println!(
                "{:<10} rounds: train {}; score {}",
                "",
                show(|r| r.0),
                show(|r| r.1)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_must_be_finite_and_not_negative() {
        for bad in [f64::INFINITY, f64::NAN, -1.0] {
            let message = budget(bad).unwrap_err().to_string();
            assert!(message.contains("--seconds"), "{message}");
        }
        assert!(budget(0.0).is_ok());
    }
}
