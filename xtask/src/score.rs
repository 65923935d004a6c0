//! `cargo xtask score`: the log-likelihood, bits/dim and OOD scores of every image of a
//! folder, `.npy`, IDX or CIFAR-10 file under a trained flow, one row per image; with
//! `--in` and `--ood`, every score's detection metrics.

use std::path::PathBuf;

use clap::Args;

use crate::parse_backend;
use flow_lab::device::{run_job, BackendKind};
use flow_lab::experiment::with_interval;
use flow_lab::score::{ScoreInputs, ScoreJob, ScoreModel};

/// Arguments of `cargo xtask score`.
#[derive(Args)]
pub struct ScoreArgs {
    /// The flow: a checkpoint file (checkpoint.flowckpt).
    #[arg(long, conflicts_with = "run", required_unless_present = "run")]
    checkpoint: Option<PathBuf>,
    /// The flow: a run folder (results/<run>), with --model.
    #[arg(long, requires = "model")]
    run: Option<PathBuf>,
    /// The model's name in the run.
    #[arg(long, requires = "run")]
    model: Option<String>,
    /// The images: a folder of PNG/JPEG files, a .npy array (N,H,W) or (N,C,H,W) of
    /// uint8 or floats in [0, 1], an IDX image file, or a CIFAR-10 binary batch.
    #[arg(long, required_unless_present = "in_images", conflicts_with_all = ["in_images", "ood_images"])]
    images: Option<PathBuf>,
    /// In-distribution images (any source --images takes), with --ood: both are
    /// scored and every score's AUROC, AUPR-In/Out and FPR@95 printed.
    #[arg(long = "in", requires = "ood_images")]
    in_images: Option<PathBuf>,
    /// Out-of-distribution images, with --in.
    #[arg(long = "ood", requires = "in_images")]
    ood_images: Option<PathBuf>,
    /// Bootstrap resamples of the metrics' 95% intervals (with --in and --ood).
    #[arg(long, default_value_t = 1000)]
    bootstrap: usize,
    /// Write the rows here (.csv: image, nats, bits/dim; .npy: [N, 2] float64) instead
    /// of printing them.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Images per forward pass.
    #[arg(long, default_value_t = 256)]
    batch_size: usize,
    /// Seed of the dequantization noise (the training's uniform dequantization).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Backend (flex, ndarray, wgpu, cuda); it must be compiled in.
    #[arg(long, default_value = "flex", value_parser = parse_backend)]
    backend: BackendKind,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// Scores the images and says where the rows went.
pub fn run(args: ScoreArgs) -> anyhow::Result<()> {
    let model = match (args.checkpoint, args.run, args.model) {
        (Some(path), _, _) => ScoreModel::Checkpoint(path),
        (None, Some(dir), Some(model)) => ScoreModel::Run { dir, model },
        _ => anyhow::bail!("give --checkpoint FILE, or --run DIR with --model NAME"),
    };
    let images = match (args.images, args.in_images, args.ood_images) {
        (Some(images), _, _) => ScoreInputs::Images(images),
        (None, Some(in_images), Some(ood_images)) => ScoreInputs::InAndOod {
            in_images,
            ood_images,
        },
        _ => anyhow::bail!("give --images PATH, or --in PATH with --ood PATH"),
    };
    let job = ScoreJob {
        model,
        images,
        out: args.out,
        batch_size: args.batch_size,
        seed: args.seed,
        bootstrap_resamples: args.bootstrap,
        quiet: args.quiet,
    };
    let output = run_job(args.backend, job)??;
    let finite: Vec<f64> = output
        .rows
        .iter()
        .map(|r| r.bits_per_dim)
        .filter(|v| v.is_finite())
        .collect();
    let mean = finite.iter().sum::<f64>() / finite.len().max(1) as f64;
    let left_out = output.rows.len() - finite.len();
    eprintln!(
        "{} images, mean {mean:.3} bits/dim{}",
        output.rows.len(),
        if left_out > 0 {
            format!(" ({left_out} non-finite left out)")
        } else {
            String::new()
        }
    );
    if let Some(path) = output.written {
        eprintln!(
            "rows: {} (columns: image, {})",
            path.display(),
            output.columns.join(", ")
        );
    }
    if !output.detection.is_empty() {
        println!("\n| score | AUROC | AUPR-In | AUPR-Out | FPR@95 |\n|---|---|---|---|---|");
        for d in &output.detection {
            let m = &d.metrics;
            println!(
                "| {} | {} | {} | {} | {} |",
                d.score,
                with_interval(&m.auroc),
                with_interval(&m.aupr_in),
                with_interval(&m.aupr_out),
                m.fpr_at_tpr
                    .first()
                    .map_or_else(|| "n/a".into(), with_interval)
            );
        }
        if let Some(m) = output.detection.first().map(|d| &d.metrics) {
            println!(
                "\n{} in-distribution and {} OOD images; in-distribution positive; 95% \
                 percentile bootstrap intervals; AUROC: {}; FPR@95: {}",
                m.n_in,
                m.n_ood,
                m.auroc.convention,
                m.fpr_at_tpr
                    .first()
                    .map_or("n/a", |f| f.convention.as_str())
            );
        }
    }
    Ok(())
}
