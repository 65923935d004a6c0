//! `cargo xtask explain`: the explanation figures (latent space, coupling layers,
//! per-layer likelihood, co-adaptation, masks) for saved checkpoints.

use std::path::PathBuf;

use clap::Args;
use flow_data::Dataset;

use crate::{parse_backend, parse_dataset};
use flow_lab::device::{run_job, BackendKind};
use flow_lab::experiment::explain::{ExplainJob, ExplainTarget};

/// Arguments of `cargo xtask explain`.
#[derive(Args)]
pub struct ExplainArgs {
    /// A run directory (results/<run-id>): figures for its models.
    #[arg(
        long,
        conflicts_with = "checkpoint",
        required_unless_present = "checkpoint"
    )]
    run: Option<PathBuf>,
    /// Only this model of the run.
    #[arg(long, requires = "run")]
    model: Option<String>,
    /// One checkpoint file (checkpoint.flowckpt) instead of a run.
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// The checkpoint's name in titles and file names (default: its folder's name).
    #[arg(long, requires = "checkpoint")]
    name: Option<String>,
    /// The dataset the checkpoint was trained on: fashion or mnist.
    #[arg(long, default_value = "fashion", value_parser = parse_dataset, requires = "checkpoint")]
    train: Dataset,
    /// Where the figures go (default: <run>/explain/ for --run, which never replaces the
    /// run's own figures, or the checkpoint's folder).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Data folder (default: <workspace>/data or $FLOWS_OOD_DATA).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Backend (flex, ndarray, wgpu, cuda); it must be compiled in.
    #[arg(long, default_value = "flex", value_parser = parse_backend)]
    backend: BackendKind,
}

/// Draws the figures and lists them.
pub fn run(args: ExplainArgs) -> anyhow::Result<()> {
    let target = match (args.run, args.checkpoint) {
        (Some(dir), _) => ExplainTarget::Run {
            dir,
            model: args.model,
        },
        (None, Some(path)) => {
            let name = args.name.unwrap_or_else(|| {
                path.parent()
                    .and_then(|p| p.file_name())
                    .map_or_else(|| "model".into(), |n| n.to_string_lossy().into_owned())
            });
            ExplainTarget::Checkpoint {
                path,
                name,
                train: args.train,
            }
        }
        (None, None) => anyhow::bail!("give --run DIR or --checkpoint FILE"),
    };
    let backend = args.backend;
    let job = ExplainJob {
        target,
        data_dir: args.data_dir,
        out_dir: args.out,
    };
    let (dir, files) = run_job(backend, job)??;
    for file in files {
        println!("{}", dir.join(file).display());
    }
    Ok(())
}
