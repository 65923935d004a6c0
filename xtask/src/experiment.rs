//! `cargo xtask experiment`: the paper's experiment end to end.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use flow_data::Dataset;

use crate::{parse_backend, parse_dataset};
use flow_lab::device::{run_job, BackendKind};
use flow_lab::experiment::{
    DataConfig, ExperimentConfig, ExperimentJob, ExperimentOptions, Preset, RUN_CONFIG_FILE,
};

/// `--preset`, parsed by clap into the enum (the message of flow-lab's error).
fn parse_preset(name: &str) -> Result<Preset, String> {
    name.parse::<Preset>().map_err(|e| e.to_string())
}

/// Arguments of `cargo xtask experiment`.
#[derive(Args)]
pub struct ExperimentArgs {
    /// Preset: quick (default; minutes on a CPU), smoke (CI), explain (negative training
    /// and the co-adaptation flow, minutes on a CPU), standard (every claim on trained
    /// flows and the OOD-scores table; docs/reproduction.md gives its wall time on 2
    /// cores), paper (GPU).
    #[arg(long, default_value = "quick", conflicts_with = "config", value_parser = parse_preset)]
    preset: Preset,
    /// An experiment TOML file instead of a preset (same fields as results.json's config).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Backend (flex, ndarray, wgpu, cuda); it must be compiled in.
    #[arg(long, default_value = "flex", value_parser = parse_backend)]
    backend: BackendKind,
    /// The built-in in-distribution dataset, fashion or mnist (the other one is the
    /// natural OOD set); replaces the configuration's [data].
    #[arg(long, value_parser = parse_dataset)]
    train: Option<Dataset>,
    /// Data folder (default: <workspace>/data or $FLOWS_OOD_DATA).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Folder for results (default: <workspace>/results).
    #[arg(long)]
    results_dir: Option<PathBuf>,
    /// Continue the run with this id from its checkpoints (results/<RUN_ID>/), with the
    /// configuration saved in its folder (runs older than that file take --preset or
    /// --config, as when they started).
    #[arg(long, value_name = "RUN_ID")]
    resume: Option<String>,
    /// Print the configuration as TOML and exit (a starting point for --config).
    #[arg(long)]
    print_config: bool,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), PathBuf::from)
}

/// Runs the experiment and prints where the report is.
pub fn run(args: ExperimentArgs) -> anyhow::Result<()> {
    let results_dir = args
        .results_dir
        .clone()
        .unwrap_or_else(|| workspace_root().join("results"));
    let saved = args
        .resume
        .as_ref()
        .map(|id| results_dir.join(id).join(RUN_CONFIG_FILE))
        .filter(|path| path.is_file());
    let mut config = match (&saved, &args.config) {
        (Some(path), _) => {
            eprintln!("resuming with the configuration in {}", path.display());
            ExperimentConfig::from_toml_file(path)?
        }
        (None, Some(path)) => ExperimentConfig::from_toml_file(path)?,
        (None, None) => args.preset.config(),
    };
    if let Some(train) = args.train {
        config.data = DataConfig::builtin(train);
    }
    if args.print_config {
        print!(
            "{}",
            toml::to_string(&config).context("serialising the configuration")?
        );
        return Ok(());
    }
    let backend = args.backend;
    let options = ExperimentOptions {
        data_dir: args.data_dir,
        results_dir,
        run_id: args.resume,
        quiet: args.quiet,
    };
    let job = ExperimentJob { config, options };
    let (dir, results) = run_job(backend, job)??;
    println!(
        "{}",
        results
            .markdown()
            .lines()
            .take_while(|l| !l.starts_with("## AUROC"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    println!("report: {}", dir.join("report.md").display());
    if let Some(path) = results.first_non_finite() {
        anyhow::bail!(
            "the results hold a non-finite number at `{path}`: see {}",
            dir.join("results.json").display()
        );
    }
    Ok(())
}
