//! `cargo xtask score`: the log-likelihood of a user's images under a trained flow.
//!
//! The images come from any source [`flow_data::formats::source::read_images`] reads;
//! the flow from a checkpoint file or a run's model. Everything that can be checked
//! before scoring is: the images' shape against the flow's, the output path's folder.
//! Scoring uses the training's preprocessing (uniform dequantization, then the flow's
//! own logit layer) and writes one row per image.

use std::path::{Path, PathBuf};

use burn::module::AutodiffModule;
use flow_data::formats::source::{read_images, NamedImages};
use flow_kernels::FlowAutodiffBackend;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::device::{BackendJob, BackendKind};
use crate::experiment::{score_set, ExperimentError};
use crate::train::{checkpoint_path, read_checkpoint};

/// Images per scoring call between progress updates (a fixed size, so the
/// dequantization draws, seeded per chunk, do not depend on the machine).
const CHUNK_IMAGES: usize = 2048;

/// Which flow to score with.
#[derive(Debug, Clone)]
pub enum ScoreModel {
    /// A checkpoint file (`checkpoint.flowckpt`).
    Checkpoint(PathBuf),
    /// A model of a run: `results/<run>/checkpoints/<model>/`.
    Run {
        /// The run folder.
        dir: PathBuf,
        /// The model's name in the run.
        model: String,
    },
}

impl ScoreModel {
    /// What errors call it: the run's model name, or "checkpoint".
    fn label(&self) -> String {
        match self {
            Self::Checkpoint(_) => "checkpoint".into(),
            Self::Run { model, .. } => model.clone(),
        }
    }

    /// The checkpoint file.
    pub fn checkpoint(&self) -> PathBuf {
        match self {
            Self::Checkpoint(path) => path.clone(),
            Self::Run { dir, model } => checkpoint_path(&dir.join("checkpoints").join(model)),
        }
    }
}

/// What to score and where the rows go.
#[derive(Debug, Clone)]
pub struct ScoreJob {
    /// The flow.
    pub model: ScoreModel,
    /// The images: a folder, `.npy`, IDX or CIFAR-10 binary file.
    pub images: PathBuf,
    /// Where the rows go: `.csv` (name, nats, bits/dim) or `.npy` (`[N, 2]` float64:
    /// nats and bits/dim); `None` prints the CSV.
    pub out: Option<PathBuf>,
    /// Images per forward pass.
    pub batch_size: usize,
    /// Seed of the dequantization noise.
    pub seed: u64,
    /// Hide the progress bar.
    pub quiet: bool,
}

/// One scored image.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredImage {
    /// Its file name, or `#<index>`.
    pub name: String,
    /// `log p(x)` in nats.
    pub log_likelihood: f64,
    /// Bits per dimension.
    pub bits_per_dim: f64,
}

/// What [`ScoreJob`] gives back.
#[derive(Debug, Clone)]
pub struct ScoreOutput {
    /// One row per image, in the source's order.
    pub rows: Vec<ScoredImage>,
    /// Where they were written (`None` when printed).
    pub written: Option<PathBuf>,
}

impl ScoreJob {
    /// The output format, from the extension.
    fn out_format(&self) -> Result<Option<OutFormat>, ExperimentError> {
        let Some(out) = &self.out else {
            return Ok(None);
        };
        let format = match out.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("csv") => OutFormat::Csv,
            Some(e) if e.eq_ignore_ascii_case("npy") => OutFormat::Npy,
            _ => {
                return Err(ExperimentError::Config {
                    path: out.clone(),
                    message: "the output is a .csv or .npy file".into(),
                })
            }
        };
        let folder = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !folder.is_dir() {
            return Err(ExperimentError::Io {
                path: out.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("its folder {} does not exist", folder.display()),
                ),
            });
        }
        if out.is_dir() {
            return Err(ExperimentError::Io {
                path: out.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::IsADirectory,
                    "is a folder, not a file",
                ),
            });
        }
        Ok(Some(format))
    }
}

#[derive(Debug, Clone, Copy)]
enum OutFormat {
    Csv,
    Npy,
}

impl BackendJob for ScoreJob {
    type Output = Result<ScoreOutput, ExperimentError>;

    fn run<B: FlowAutodiffBackend>(self, _backend: BackendKind, device: B::Device) -> Self::Output {
        // Everything a user can get wrong is checked before the flow runs.
        if self.batch_size == 0 {
            return Err(ExperimentError::InvalidConfig(vec![
                "the batch size must be at least 1".into(),
            ]));
        }
        let format = self.out_format()?;
        let path = self.model.checkpoint();
        let checkpoint =
            read_checkpoint::<B>(&path, &device).map_err(|e| ExperimentError::Train {
                model: self.model.label(),
                source: e.into(),
            })?;
        let model = checkpoint.model.valid();
        let [c, h, w] = model.input_shape();
        let NamedImages { dataset, names, .. } = read_images(&self.images, Some(c))?;
        let shape = dataset.shape();
        if [shape.channels, shape.height, shape.width] != [c, h, w] {
            return Err(ExperimentError::Config {
                path: self.images.clone(),
                message: format!(
                    "images of {}x{}x{}, but the flow in {} takes {c}x{h}x{w}",
                    shape.channels,
                    shape.height,
                    shape.width,
                    path.display()
                ),
            });
        }
        let bar = if self.quiet {
            ProgressBar::hidden()
        } else {
            let bar = ProgressBar::with_draw_target(
                Some(dataset.len() as u64),
                ProgressDrawTarget::stderr(),
            );
            if let Ok(style) = ProgressStyle::with_template(
                "scoring [{elapsed_precise}] {bar:30} {pos}/{len} images",
            ) {
                bar.set_style(style);
            }
            bar
        };
        let all: Vec<usize> = (0..dataset.len()).collect();
        let mut rows = Vec::with_capacity(dataset.len());
        for (k, chunk) in all.chunks(CHUNK_IMAGES).enumerate() {
            let part = dataset.select(chunk)?;
            let scored = score_set::<B::InnerBackend>(
                &model,
                "images",
                &part,
                self.batch_size,
                1,
                self.seed.wrapping_add(k as u64),
                &device,
            )?;
            for ((&i, ll), bpd) in chunk
                .iter()
                .zip(&scored.log_likelihood)
                .zip(&scored.bits_per_dim)
            {
                rows.push(ScoredImage {
                    name: names[i].clone(),
                    log_likelihood: *ll,
                    bits_per_dim: *bpd,
                });
            }
            bar.inc(chunk.len() as u64);
        }
        bar.finish_and_clear();
        let written = match (format, &self.out) {
            (Some(format), Some(out)) => {
                write_rows(out, format, &rows)?;
                Some(out.clone())
            }
            _ => {
                print!("{}", csv(&rows));
                None
            }
        };
        Ok(ScoreOutput { rows, written })
    }
}

/// The rows as CSV: `image,log_likelihood_nats,bits_per_dim`, names quoted.
pub fn csv(rows: &[ScoredImage]) -> String {
    let mut out = String::from("image,log_likelihood_nats,bits_per_dim\n");
    for row in rows {
        out.push_str(&format!(
            "\"{}\",{},{}\n",
            row.name.replace('"', "\"\""),
            row.log_likelihood,
            row.bits_per_dim
        ));
    }
    out
}

fn write_rows(out: &Path, format: OutFormat, rows: &[ScoredImage]) -> Result<(), ExperimentError> {
    let bytes = match format {
        OutFormat::Csv => csv(rows).into_bytes(),
        OutFormat::Npy => {
            let values = rows
                .iter()
                .flat_map(|r| [r.log_likelihood, r.bits_per_dim])
                .collect();
            let array = flow_data::formats::npy::NpyArray::new(
                vec![rows.len(), 2],
                flow_data::formats::npy::NpyData::F64(values),
            )?;
            flow_data::formats::npy::encode_npy(&array)
        }
    };
    crate::fsutil::write_atomic(out, &bytes).map_err(|source| ExperimentError::Io {
        path: out.to_path_buf(),
        source,
    })
}
