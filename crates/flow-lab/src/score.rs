//! `cargo xtask score`: the log-likelihood of a user's images under a trained flow, and
//! every OOD score the flow (and its run) allow: input complexity always; typicality,
//! the likelihood ratio and WAIC when the run's OOD-scores table trained what they
//! need. With an in-distribution and an OOD source, each score's detection metrics.
//!
//! The images come from any source [`flow_data::formats::source::read_images`] reads;
//! the flow from a checkpoint file or a run's model. Everything that can be checked
//! before scoring is: the images' shape against the flow's, the output path's folder.
//! Scoring uses the training's preprocessing (uniform dequantization, then the flow's
//! own logit layer) and writes one row per image.

use flow_data::stream_seed;
use std::path::{Path, PathBuf};

use burn::module::AutodiffModule;
use burn::tensor::Tensor;
use flow_core::likelihood::bits_per_dim;
use flow_core::FlowNet;
use flow_data::formats::source::{read_images, NamedImages};
use flow_data::{BatchPlan, Batcher, ImageDataset};
use flow_kernels::{FlowAutodiffBackend, FlowBackend};
use flow_ood::scores::{
    input_complexity, typicality_distance, waic_of, Codec, InputComplexity, LogLikelihood, Score,
};
#[cfg(doc)]
use flow_ood::scores::{LikelihoodRatio, Typicality, Waic};
use flow_ood::units::Nats;
use flow_ood::Orientation;
use flow_ood::{evaluate, BootstrapOptions, EvaluateOptions, MetricReport};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::device::{BackendJob, BackendKind};
use crate::experiment::{ExperimentError, ExperimentResults};
use flow_train::{checkpoint_path, read_checkpoint};

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

/// The images a job scores.
#[derive(Debug, Clone)]
pub enum ScoreInputs {
    /// One source (a folder, `.npy`, IDX or CIFAR-10 binary file): one row per image.
    Images(PathBuf),
    /// An in-distribution and an OOD source: the rows of both (with a `set` column) and
    /// every score's detection metrics, the in-distribution images positive.
    InAndOod {
        /// The in-distribution images.
        in_images: PathBuf,
        /// The out-of-distribution images.
        ood_images: PathBuf,
    },
}

impl ScoreInputs {
    /// Each source with its set label (`None` for a single source).
    fn sources(&self) -> Vec<(Option<&'static str>, &Path)> {
        match self {
            Self::Images(path) => vec![(None, path.as_path())],
            Self::InAndOod {
                in_images,
                ood_images,
            } => vec![
                (Some("in"), in_images.as_path()),
                (Some("ood"), ood_images.as_path()),
            ],
        }
    }
}

/// What to score and where the rows go.
#[derive(Debug, Clone)]
pub struct ScoreJob {
    /// The flow.
    pub model: ScoreModel,
    /// The images.
    pub images: ScoreInputs,
    /// Where the rows go: `.csv` (name, then one column per score) or `.npy` (`[N, K]`
    /// float64, the scores' columns); `None` prints the CSV.
    pub out: Option<PathBuf>,
    /// Images per forward pass.
    pub batch_size: usize,
    /// Seed of the dequantization noise.
    pub seed: u64,
    /// Bootstrap resamples of the metrics' intervals (with [`ScoreInputs::InAndOod`]).
    pub bootstrap_resamples: usize,
    /// Hide the progress bar.
    pub quiet: bool,
}

/// One scored image.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredImage {
    /// Its file name, or `#<index>`.
    pub name: String,
    /// `in` or `ood` when the job scored two sets.
    pub set: Option<&'static str>,
    /// `log p(x)` in nats.
    pub log_likelihood: f64,
    /// Bits per dimension.
    pub bits_per_dim: f64,
    /// The other scores, in [`ScoreOutput::columns`]' order after the first two.
    pub others: Vec<f64>,
}

/// What [`ScoreJob`] gives back.
#[derive(Debug, Clone)]
pub struct ScoreOutput {
    /// The scores' column names: `log_likelihood_nats`, `bits_per_dim` (from the
    /// log-likelihood, `-log p / (D ln 2)`), then the other scores the flow (and its run)
    /// allow.
    pub columns: Vec<String>,
    /// One row per image, in the source's order (the in-distribution source first).
    pub rows: Vec<ScoredImage>,
    /// Every score's detection metrics (bits/dim left out: it ranks as the
    /// log-likelihood does), for [`ScoreInputs::InAndOod`].
    pub detection: Vec<ScoreDetection>,
    /// Where they were written (`None` when printed).
    pub written: Option<PathBuf>,
}

/// One score's detection of the OOD images.
#[derive(Debug, Clone)]
pub struct ScoreDetection {
    /// The score's name.
    pub score: String,
    /// Its metrics, the in-distribution images positive.
    pub metrics: MetricReport,
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

    /// The images of `path`, checked against the flow's shape.
    fn read_checked(
        &self,
        path: &Path,
        [c, h, w]: [usize; 3],
        checkpoint: &Path,
    ) -> Result<NamedImages, ExperimentError> {
        let images = read_images(path, Some(c))?;
        let shape = images.dataset.shape();
        if [shape.channels, shape.height, shape.width] != [c, h, w] {
            return Err(ExperimentError::Config {
                path: path.to_path_buf(),
                message: format!(
                    "images of {}x{}x{}, but the flow in {} takes {c}x{h}x{w}",
                    shape.channels,
                    shape.height,
                    shape.width,
                    checkpoint.display()
                ),
            });
        }
        Ok(images)
    }
}

#[derive(Debug, Clone, Copy)]
enum OutFormat {
    Csv,
    Npy,
}

/// What a run's OOD-scores table recorded for a model: the entropy estimate, the
/// chosen background flow and the ensemble.
#[derive(Debug, Clone, Default)]
struct RunExtras {
    entropy_nats: Option<f64>,
    background: Option<PathBuf>,
    ensemble: Vec<PathBuf>,
}

impl RunExtras {
    /// The extras of `model` in the run folder `dir` (none when the run has no
    /// OOD-scores table for it, or no results yet).
    fn of(dir: &Path, model: &str) -> Result<Self, ExperimentError> {
        let path = dir.join("results.json");
        if !path.is_file() {
            return Ok(Self::default());
        }
        let results = ExperimentResults::read(&path)?;
        let direction = results
            .scores
            .iter()
            .flat_map(|s| &s.directions)
            .find(|d| d.model == model);
        let checkpoint = |name: &str| checkpoint_path(&dir.join("checkpoints").join(name));
        Ok(match direction {
            Some(d) => Self {
                entropy_nats: Some(d.entropy_nats),
                background: d.background.as_deref().map(checkpoint),
                ensemble: d.ensemble.iter().map(|n| checkpoint(n)).collect(),
            },
            None => Self::default(),
        })
    }
}

/// A column name from a score's name: `input complexity (PNG)` -> `input_complexity_png`.
fn column_name(score: &str) -> String {
    let mut name = String::new();
    for c in score.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('_') && !name.is_empty() {
            name.push('_');
        }
    }
    name.trim_end_matches('_').to_string()
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
        let load = |path: &Path, label: String| {
            read_checkpoint::<B>(path, &device)
                .map(|c| c.model.valid())
                .map_err(|e| ExperimentError::Train {
                    model: label,
                    source: e.into(),
                })
        };
        let model = load(&path, self.model.label())?;
        let shape = model.input_shape();
        let sources = self
            .images
            .sources()
            .into_iter()
            .map(|(set, source)| Ok((set, self.read_checked(source, shape, &path)?)))
            .collect::<Result<Vec<_>, ExperimentError>>()?;
        let extras = match &self.model {
            ScoreModel::Run { dir, model } => RunExtras::of(dir, model)?,
            ScoreModel::Checkpoint(_) => RunExtras::default(),
        };
        let background = match &extras.background {
            Some(p) => Some(load(p, "background flow".into())?),
            None => None,
        };
        let members = extras
            .ensemble
            .iter()
            .map(|p| load(p, "ensemble member".into()))
            .collect::<Result<Vec<_>, _>>()?;

        let scores = Scores {
            model: &model,
            entropy: extras.entropy_nats,
            background: background.as_ref(),
            members: if members.len() >= 2 {
                members.iter().collect()
            } else {
                Vec::new()
            },
        };

        let dims = model.dims();
        let total: usize = sources.iter().map(|(_, s)| s.dataset.len()).sum();
        let bar = progress_bar(total as u64, self.quiet);
        let mut rows = Vec::with_capacity(total);
        let mut per_set: Vec<Vec<Vec<f64>>> = Vec::new();
        for (set, source) in &sources {
            let values = self.score_source(&scores, &source.dataset, &device, &bar)?;
            for (i, name) in source.names.iter().enumerate() {
                let log_likelihood = values[0][i];
                rows.push(ScoredImage {
                    name: name.clone(),
                    set: *set,
                    log_likelihood,
                    bits_per_dim: bits_per_dim(log_likelihood, dims),
                    others: values[1..].iter().map(|column| column[i]).collect(),
                });
            }
            per_set.push(values);
        }
        bar.finish_and_clear();
        let columns: Vec<String> = ["log_likelihood_nats", "bits_per_dim"]
            .into_iter()
            .map(String::from)
            .chain(
                scores
                    .columns()
                    .iter()
                    .skip(1)
                    .map(|c| column_name(c.name())),
            )
            .collect();
        let detection = match per_set.as_slice() {
            [in_values, ood_values] => self.detection(&scores, in_values, ood_values)?,
            _ => Vec::new(),
        };
        let written = match (format, &self.out) {
            (Some(format), Some(out)) => {
                write_rows(out, format, &columns, &rows)?;
                Some(out.clone())
            }
            _ => {
                print!("{}", csv(&columns, &rows));
                None
            }
        };
        Ok(ScoreOutput {
            columns,
            rows,
            detection,
            written,
        })
    }
}

impl ScoreJob {
    /// Every score's values on `dataset`, `[score][image]`: chunks of
    /// [`CHUNK_IMAGES`], each dequantized with its own seed, in batches.
    fn score_source<B: FlowBackend>(
        &self,
        scores: &Scores<'_, B>,
        dataset: &ImageDataset,
        device: &B::Device,
        bar: &ProgressBar,
    ) -> Result<Vec<Vec<f64>>, ExperimentError> {
        let mut values = vec![Vec::with_capacity(dataset.len()); scores.columns().len()];
        let all: Vec<usize> = (0..dataset.len()).collect();
        for (k, chunk) in all.chunks(CHUNK_IMAGES).enumerate() {
            let part = dataset.select(chunk)?;
            let mut batcher = Batcher::dequantized(stream_seed(self.seed, &format!("chunk/{k}")));
            let plan = BatchPlan::sequential(part.len(), self.batch_size)?;
            for indices in plan.batches() {
                let batch = batcher.batch::<B>(&part, indices, device)?;
                for (column, more) in values.iter_mut().zip(scores.of_batch(batch.images)?) {
                    column.extend(more);
                }
                bar.inc(indices.len() as u64);
            }
        }
        Ok(values)
    }

    /// Every score's metrics, the in-distribution images positive.
    fn detection<B: FlowBackend>(
        &self,
        scores: &Scores<'_, B>,
        in_values: &[Vec<f64>],
        ood_values: &[Vec<f64>],
    ) -> Result<Vec<ScoreDetection>, ExperimentError> {
        let options = EvaluateOptions {
            bootstrap: Some(BootstrapOptions {
                resamples: self.bootstrap_resamples.max(1),
                seed: self.seed,
                ..BootstrapOptions::default()
            }),
            ..EvaluateOptions::default()
        };
        scores
            .columns()
            .iter()
            .zip(in_values.iter().zip(ood_values))
            .map(|(score, (i, o))| {
                let metrics = evaluate(i, o, score.orientation(), &options).map_err(|source| {
                    ExperimentError::Metric {
                        model: score.name().to_string(),
                        set: "the OOD images".into(),
                        source,
                    }
                })?;
                Ok(ScoreDetection {
                    score: score.name().to_string(),
                    metrics,
                })
            })
            .collect()
    }
}

/// The scores a flow (and its run) allow, computed from one likelihood pass of each
/// flow per batch (the flow, its background, its ensemble members) rather than one per
/// score: with every extra flow present, 2 + K passes instead of 6 + K.
struct Scores<'a, B: FlowBackend> {
    /// The flow.
    model: &'a FlowNet<B>,
    /// The training entropy estimate, for typicality.
    entropy: Option<f64>,
    /// The likelihood ratio's background flow.
    background: Option<&'a FlowNet<B>>,
    /// WAIC's ensemble (empty below 2 members).
    members: Vec<&'a FlowNet<B>>,
}

/// One output column: its name and orientation are those of the `flow_ood::scores`
/// type that defines it, its values derived from the shared passes.
enum Column {
    /// `log p(x)` in nats ([`LogLikelihood`]).
    LogLikelihood,
    /// [`InputComplexity`] with this codec.
    Complexity(Codec),
    /// [`Typicality`] against this entropy.
    Typicality(f64),
    /// [`LikelihoodRatio`] against the background.
    Ratio,
    /// [`Waic`] over the members.
    Waic,
}

impl Column {
    fn name(&self) -> &'static str {
        match self {
            Column::LogLikelihood => "log-likelihood",
            Column::Complexity(Codec::Png) => "input complexity (PNG)",
            Column::Complexity(Codec::Deflate) => "input complexity (DEFLATE)",
            Column::Typicality(_) => "typicality",
            Column::Ratio => "likelihood ratio",
            Column::Waic => "WAIC",
        }
    }

    fn orientation(&self) -> Orientation {
        match self {
            Column::Complexity(_) | Column::Typicality(_) => Orientation::HigherIsOutOfDistribution,
            Column::LogLikelihood | Column::Ratio | Column::Waic => {
                Orientation::HigherIsInDistribution
            }
        }
    }
}

impl<B: FlowBackend> Scores<'_, B> {
    /// The columns, log-likelihood first.
    fn columns(&self) -> Vec<Column> {
        let mut columns = vec![
            Column::LogLikelihood,
            Column::Complexity(Codec::Png),
            Column::Complexity(Codec::Deflate),
        ];
        columns.extend(self.entropy.map(Column::Typicality));
        if self.background.is_some() {
            columns.push(Column::Ratio);
        }
        if !self.members.is_empty() {
            columns.push(Column::Waic);
        }
        columns
    }

    /// Every column's values on the batch `x`, `[column][image]`.
    fn of_batch(&self, x: Tensor<B, 4>) -> Result<Vec<Vec<f64>>, ExperimentError> {
        let nats = |flow: &FlowNet<B>| LogLikelihood::new(flow).score(x.clone());
        let log_p = nats(self.model)?;
        let background = self.background.map(nats).transpose()?;
        let members = self
            .members
            .iter()
            .map(|m| nats(m))
            .collect::<Result<Vec<_>, _>>()?;
        self.columns()
            .iter()
            .map(|column| -> Result<Vec<f64>, ExperimentError> {
                Ok(match column {
                    Column::LogLikelihood => log_p.clone(),
                    Column::Complexity(codec) => InputComplexity::new(self.model, *codec)
                        .lengths(x.clone())?
                        .into_iter()
                        .zip(&log_p)
                        .map(|(bits, &l)| input_complexity(Nats(l), bits).value())
                        .collect(),
                    Column::Typicality(entropy) => log_p
                        .iter()
                        .map(|&l| typicality_distance(l, *entropy))
                        .collect(),
                    // Listed only when the background is there.
                    Column::Ratio => match &background {
                        Some(b) => log_p.iter().zip(b).map(|(f, b)| f - b).collect(),
                        None => {
                            return Err(ExperimentError::InvalidConfig(vec![
                                "the likelihood ratio needs its background flow".into(),
                            ]))
                        }
                    },
                    Column::Waic => waic_of(&members),
                })
            })
            .collect()
    }
}

/// A bar over `total` images (hidden when `quiet`).
fn progress_bar(total: u64, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("scoring [{elapsed_precise}] {bar:30} {pos}/{len} images")
    {
        bar.set_style(style);
    }
    bar
}

/// The rows as CSV: `image`, `set` (when two sets were scored), then `columns`; names
/// quoted.
pub fn csv(columns: &[String], rows: &[ScoredImage]) -> String {
    let with_set = rows.iter().any(|r| r.set.is_some());
    let mut out = String::from("image");
    if with_set {
        out.push_str(",set");
    }
    for column in columns {
        out.push(',');
        out.push_str(column);
    }
    out.push('\n');
    for row in rows {
        out.push_str(&format!("\"{}\"", row.name.replace('"', "\"\"")));
        if let Some(set) = row.set {
            out.push_str(&format!(",{set}"));
        }
        for value in row_values(row) {
            out.push_str(&format!(",{value}"));
        }
        out.push('\n');
    }
    out
}

/// A row's scores in column order.
fn row_values(row: &ScoredImage) -> impl Iterator<Item = f64> + '_ {
    [row.log_likelihood, row.bits_per_dim]
        .into_iter()
        .chain(row.others.iter().copied())
}

fn write_rows(
    out: &Path,
    format: OutFormat,
    columns: &[String],
    rows: &[ScoredImage],
) -> Result<(), ExperimentError> {
    let bytes = match format {
        OutFormat::Csv => csv(columns, rows).into_bytes(),
        OutFormat::Npy => {
            let values = rows.iter().flat_map(row_values).collect();
            let array = flow_data::formats::npy::NpyArray::new(
                vec![rows.len(), columns.len()],
                flow_data::formats::npy::NpyData::F64(values),
            )?;
            flow_data::formats::npy::encode_npy(&array)
        }
    };
    flow_fs::write_atomic(out, &bytes).map_err(|source| ExperimentError::Io {
        path: out.to_path_buf(),
        source,
    })
}
