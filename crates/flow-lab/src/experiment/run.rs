//! The experiment job: data, training, scoring, metrics, figures, report.

use flow_data::stream_seed;
use flow_kernels::{FlowAutodiffBackend, FlowBackend};
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::AutodiffModule;
use flow_core::FlowNet;
use flow_data::{ConsoleProgress, DataCache, Dataset, ImageDataset, Split};
use flow_plot::{Curve, Image, Normalise, Series};

use super::config::{ExperimentConfig, ModelSpec};
use super::detect::{detect, Detection};
use super::embedding_rows::run_embedding_rows;
use super::eval::{evenly_spaced, score_set, ScoredSet};
use super::explain::{write_mask_figure, write_scored_model_figures};
use super::negative::NegativeSetup;
use super::report::{ExperimentResults, ModelResult, SetSummary};
use super::scores::{held_out_problem, StudyContext};
use super::sets::{NamedSet, ScoredSets};
use super::ExperimentError;
use super::OodByRole;
use crate::device::{BackendJob, BackendKind};
use flow_train::{
    NegativeData, RunOptions as TrainRunOptions, TrainConfig, TrainOutcome, Training,
};

/// Where a run reads and writes.
#[derive(Debug, Clone)]
pub struct ExperimentOptions {
    /// The data folder (default: `<workspace>/data` or `$FLOWS_OOD_DATA`).
    pub data_dir: Option<PathBuf>,
    /// The folder under which `<run-id>/` is created.
    pub results_dir: PathBuf,
    /// The run to continue from its checkpoints (`results_dir/<run_id>/`, which must
    /// exist); `None` starts a new run in a new folder `<preset>-<UTC date and time>`
    /// (suffixed `-2`, `-3`, ... when a run started in the same second holds the name).
    pub run_id: Option<String>,
    /// No progress bars.
    pub quiet: bool,
}

/// An experiment to run on some backend.
pub struct ExperimentJob {
    /// What to run.
    pub config: ExperimentConfig,
    /// Where.
    pub options: ExperimentOptions,
}

/// The name of the file in a run folder that holds the run's configuration, written when
/// the run starts so that `--resume` continues with the same one.
pub const RUN_CONFIG_FILE: &str = "config.toml";

/// The run's id and folder: the existing folder of `options.run_id` when resuming, else
/// a new folder that no other run holds, with the configuration written into it.
fn run_folder(
    config: &ExperimentConfig,
    options: &ExperimentOptions,
) -> Result<(String, PathBuf), ExperimentError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExperimentError::Io { path, source }
    };
    if let Some(id) = &options.run_id {
        let dir = options.results_dir.join(id);
        if !dir.is_dir() {
            return Err(ExperimentError::UnknownRun {
                id: id.clone(),
                results_dir: options.results_dir.clone(),
            });
        }
        return Ok((id.clone(), dir));
    }
    std::fs::create_dir_all(&options.results_dir).map_err(io(&options.results_dir))?;
    let stem = format!("{}-{}", config.name, crate::provenance::utc_compact());
    let mut attempt = 1u64;
    loop {
        let id = if attempt == 1 {
            stem.clone()
        } else {
            format!("{stem}-{attempt}")
        };
        let dir = options.results_dir.join(&id);
        // `create_dir` (not `_all`) fails when the folder exists: the claim is atomic,
        // so two runs started in the same second never share a folder.
        match std::fs::create_dir(&dir) {
            Ok(()) => {
                let text = toml::to_string(config).map_err(|e| ExperimentError::Config {
                    path: dir.join(RUN_CONFIG_FILE),
                    message: e.to_string(),
                })?;
                let path = dir.join(RUN_CONFIG_FILE);
                flow_fs::write_atomic(&path, text.as_bytes()).map_err(io(&path))?;
                return Ok((id, dir));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => attempt += 1,
            Err(e) => return Err(io(&dir)(e)),
        }
    }
}

/// The wall time of the sessions that worked on the run in `dir` before this one, as
/// its last saved `results.json` records them (none when it saved no results yet).
fn earlier_session_seconds(dir: &Path) -> Vec<f64> {
    let path = dir.join("results.json");
    if !path.exists() {
        return Vec::new();
    }
    match ExperimentResults::read(&path) {
        Ok(earlier) if !earlier.session_seconds.is_empty() => earlier.session_seconds,
        Ok(earlier) => vec![earlier.wall_seconds],
        Err(e) => {
            eprintln!("warning: the earlier sessions' wall time is not counted: {e}");
            Vec::new()
        }
    }
}

/// Where a run writes and what it computes on: what every stage of a run shares.
pub(super) struct RunContext<'a, D> {
    /// The run's folder.
    pub dir: &'a Path,
    /// No progress bars.
    pub quiet: bool,
    /// The device.
    pub device: &'a D,
}

/// The evaluation sets of a run, loaded once and shared by every model.
pub(super) type EvalSets = ScoredSets<NamedSet>;

/// The data a run loads.
pub(super) struct RunData {
    /// In-distribution training split.
    pub train: ImageDataset,
    /// In-distribution test split.
    pub test: ImageDataset,
    /// The natural OOD set: all of MNIST, or FashionMNIST's test split, or the
    /// configuration's first OOD source.
    pub ood: ImageDataset,
    /// The configuration's further OOD sources, by name.
    pub more_ood: Vec<NamedSet>,
    /// The OOD dataset's training split, for negative training (loaded only when a
    /// model uses it).
    pub ood_train: Option<ImageDataset>,
    /// The OOD dataset's test split: what negative-training models are evaluated on.
    pub ood_test: Option<ImageDataset>,
}

/// Fetches (if needed) and loads the data of `config`.
pub(super) fn load_data(
    config: &ExperimentConfig,
    data_dir: Option<&Path>,
) -> Result<RunData, ExperimentError> {
    let sources = &config.data;
    // Only built-in sources need the data cache: a run on a user's own files works
    // from any folder.
    let builtin = sources.builtin_datasets();
    let cache = match builtin.is_empty() {
        true => None,
        false => Some(DataCache::locate(data_dir)?),
    };
    if let Some(cache) = &cache {
        let progress = ConsoleProgress::new();
        for &dataset in &builtin {
            cache.ensure(dataset, &progress)?;
        }
    }
    let cache = cache.as_ref();
    let mut ood_sources = sources.ood.iter();
    let Some(natural) = ood_sources.next() else {
        return Err(ExperimentError::InvalidConfig(vec![
            "data.ood: at least one OOD set".into(),
        ]));
    };
    let more_ood = ood_sources
        .map(|set| {
            Ok(NamedSet {
                name: set.name.clone(),
                images: set.source.load(cache)?,
            })
        })
        .collect::<Result<_, ExperimentError>>()?;
    // Negative training needs the OOD dataset's own splits: only a built-in pair has
    // them (validation refuses negative models on other sources).
    let negative = config.models.iter().any(|m| m.train.negative.is_some());
    let ood_dataset = sources.builtin_pair().map(Dataset::other);
    let ood_split = |split: Split| -> Result<Option<ImageDataset>, ExperimentError> {
        match (ood_dataset.filter(|_| negative), cache) {
            (Some(dataset), Some(cache)) => Ok(Some(cache.load(dataset, split)?)),
            _ => Ok(None),
        }
    };
    let data = RunData {
        train: sources.train.load(cache)?,
        test: sources.test.load(cache)?,
        ood: natural.source.load(cache)?,
        more_ood,
        ood_train: ood_split(Split::Train)?,
        ood_test: ood_split(Split::Test)?,
    };
    check_against_data(config, &data)?;
    Ok(data)
}

/// That every set has the shape every model's flow takes (a 3x32x32 set into a
/// 1x28x28 flow would otherwise fail inside the first batch), and that the scores table
/// has held-out training images for its validation pair.
fn check_against_data(config: &ExperimentConfig, data: &RunData) -> Result<(), ExperimentError> {
    let sources = &config.data;
    let mut sets: Vec<(String, &ImageDataset, Option<&Path>)> = vec![
        ("data.train".into(), &data.train, sources.train.path()),
        ("data.test".into(), &data.test, sources.test.path()),
    ];
    let ood = std::iter::once(&data.ood).chain(data.more_ood.iter().map(|s| &s.images));
    for (source, images) in sources.ood.iter().zip(ood) {
        let field = format!("data.ood `{}`", source.name);
        sets.push((field, images, source.source.path()));
    }
    let mut problems = Vec::new();
    for (field, images, path) in sets {
        let shape = images.shape();
        let dims = [shape.channels, shape.height, shape.width];
        if images.is_empty() {
            problems.push(format!("{field}: no images"));
        }
        for model in &config.models {
            if model.flow.input_shape != dims {
                let what = path.map_or(String::new(), |p| format!(" ({})", p.display()));
                problems.push(format!(
                    "{field}{what} holds {}x{}x{} images but model `{}` takes {:?}",
                    dims[0], dims[1], dims[2], model.name, model.flow.input_shape
                ));
            }
        }
    }
    // The scores' validation pair is drawn from training images the table does not
    // score.
    if config.scores.is_some() {
        problems.extend(held_out_problem(
            data.train.len(),
            config.eval.in_train_limit,
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ExperimentError::InvalidConfig(problems))
    }
}

impl BackendJob for ExperimentJob {
    type Output = Result<(PathBuf, ExperimentResults), ExperimentError>;

    fn run<B: FlowAutodiffBackend>(self, backend: BackendKind, device: B::Device) -> Self::Output {
        let started = Instant::now();
        // Taken at the start: the commit and machine the run was launched from.
        let provenance = crate::provenance::Provenance::now();
        let config = self.config;
        super::validate(&config)?;
        // Loaded (and checked against the flows) before the run folder exists, so that
        // bad data leaves no folder behind.
        let data = load_data(&config, self.options.data_dir.as_deref())?;
        let (run_id, dir) = run_folder(&config, &self.options)?;
        // A resumed run adds this session to the wall time of the earlier ones.
        let earlier_sessions = match &self.options.run_id {
            Some(_) => earlier_session_seconds(&dir),
            None => Vec::new(),
        };

        let train = &data.train;
        let sets = eval_sets(&config, &data)?;
        let run_figures = vec![write_mask_figure(&dir)?];
        eprintln!(
            "{}: {} training images; scoring {} train, {} test, {} OOD sets",
            config.name,
            train.len(),
            sets.in_train.images.len(),
            sets.in_test.images.len(),
            sets.ood().count()
        );

        // Rewritten (atomically) after every model, so that a failure late in a run
        // keeps what was computed before it.
        let mut results = ExperimentResults {
            run_id,
            in_distribution: config.data.name.clone(),
            out_of_distribution: config.data.natural_ood_name().to_string(),
            config: config.clone(),
            backend: backend.name().into(),
            models: Vec::with_capacity(config.models.len()),
            embedding: None,
            scores: None,
            figures: run_figures,
            wall_seconds: 0.0,
            session_seconds: Vec::new(),
            provenance: Some(provenance),
        };
        let context = RunContext {
            dir: &dir,
            quiet: self.options.quiet,
            device: &device,
        };
        // Each model's seed and in-distribution test scores, for later comparisons.
        let mut in_test_scores: Vec<(String, u64, Vec<f64>)> = Vec::new();
        for (k, spec) in config.models.iter().enumerate() {
            let seed = model_seed(config.seed, &spec.name);
            eprintln!(
                "[{}/{}] {}: {}",
                k + 1,
                config.models.len(),
                spec.name,
                spec.description
            );
            let (result, in_test) =
                run_model::<B>(&config, spec, seed, &data, &sets, &in_test_scores, &context)?;
            in_test_scores.push((spec.name.clone(), seed, in_test));
            eprintln!(
                "    {:.0} s training; bits/dim {} {:.3}, {} {:.3}; AUROC {:.3}",
                result.train_seconds,
                config.data.name,
                result.sets.in_test.mean_bits_per_dim,
                result.sets.natural_ood.name,
                result.sets.natural_ood.mean_bits_per_dim,
                result
                    .ood
                    .first()
                    .map_or(f64::NAN, |o| o.metrics.auroc.value),
            );
            results.models.push(result);
            results.set_wall_time(&earlier_sessions, started.elapsed());
            results.write(&dir)?;
        }
        let embedding = match &config.embedding {
            Some(study) => {
                eprintln!("[embedding] classifier embeddings: tabular flow and Gaussian baselines");
                let rows = run_embedding_rows::<B>(
                    study,
                    &config,
                    &data,
                    &sets,
                    &self.options.results_dir.join("cache"),
                    &context,
                )?;
                for d in &rows.detectors {
                    eprintln!(
                        "    {}: AUROC {:.3}",
                        d.name,
                        d.natural_ood().map_or(f64::NAN, |o| o.metrics.auroc.value)
                    );
                }
                Some(rows)
            }
            None => None,
        };
        results.embedding = embedding;
        results.set_wall_time(&earlier_sessions, started.elapsed());
        results.write(&dir)?;
        if let Some(study) = &config.scores {
            eprintln!("[scores] OOD scores on `{}`", study.model);
            let context = StudyContext::<B> {
                study,
                config: &config,
                checkpoints: dir.join("checkpoints"),
                quiet: self.options.quiet,
                device: &device,
            };
            let scores = context.run_all(&data, &sets, self.options.data_dir.as_deref(), &dir)?;
            for direction in &scores.directions {
                for row in &direction.rows {
                    eprintln!(
                        "    {} -> {}: {}: AUROC {:.3}",
                        direction.in_distribution,
                        direction.out_of_distribution,
                        row.score,
                        row.natural_ood()
                            .map_or(f64::NAN, |o| o.metrics.auroc.value)
                    );
                }
            }
            results.scores = Some(scores);
            results.set_wall_time(&earlier_sessions, started.elapsed());
            results.write(&dir)?;
        }
        Ok((dir, results))
    }
}

/// The subsets of `data` that `config.eval` scores, and the synthetic sets.
pub(super) fn eval_sets(
    config: &ExperimentConfig,
    data: &RunData,
) -> Result<EvalSets, ExperimentError> {
    let (train, test, ood) = (&data.train, &data.test, &data.ood);
    let eval = &config.eval;
    let in_train = train.select(&evenly_spaced(train.len(), eval.in_train_limit))?;
    let in_test = test.select(&evenly_spaced(test.len(), eval.in_test_limit))?;
    let natural = ood.select(&evenly_spaced(ood.len(), eval.ood_limit))?;
    let synthetic = eval
        .synthetic
        .iter()
        .map(|synthetic| {
            let made = synthetic.generator().generate(
                &in_test,
                stream_seed(config.seed, &format!("synthetic/{}", synthetic.label())),
            )?;
            Ok(NamedSet {
                name: synthetic.label().to_string(),
                images: made.select(&evenly_spaced(made.len(), Some(eval.synthetic_limit)))?,
            })
        })
        .collect::<Result<_, ExperimentError>>()?;
    let in_name = &config.data.name;
    let mut further_ood: Vec<NamedSet> = synthetic;
    for set in &data.more_ood {
        let images = &set.images;
        further_ood.push(NamedSet {
            name: set.name.clone(),
            images: images.select(&evenly_spaced(images.len(), eval.ood_limit))?,
        });
    }
    Ok(ScoredSets {
        in_train: NamedSet {
            name: format!("{in_name} train"),
            images: in_train,
        },
        in_test: NamedSet {
            name: format!("{in_name} test"),
            images: in_test,
        },
        natural_ood: NamedSet {
            name: config.data.natural_ood_name().to_string(),
            images: natural,
        },
        further_ood,
    })
}

/// Trains, scores and draws one model; returns its results and its in-distribution
/// test scores.
fn run_model<B: FlowAutodiffBackend>(
    config: &ExperimentConfig,
    spec: &ModelSpec,
    seed: u64,
    data: &RunData,
    sets: &EvalSets,
    earlier: &[(String, u64, Vec<f64>)],
    context: &RunContext<'_, B::Device>,
) -> Result<(ModelResult, Vec<f64>), ExperimentError> {
    let (dir, device) = (context.dir, context.device);
    let train = &data.train;
    let negative = NegativeSetup::new(spec, config, data, sets)?;
    let sets = negative.as_ref().map_or(sets, |n| &n.sets);
    let model_error = |source| ExperimentError::Model {
        model: spec.name.clone(),
        source,
    };
    let params = spec.flow.num_params::<B>(device).map_err(model_error)?;
    let outcome = train_model::<B>(
        spec,
        seed,
        train,
        negative.as_ref().map(NegativeSetup::train_data),
        context,
    )?;
    let history: Vec<(f64, f64)> = outcome
        .history
        .iter()
        .map(|p| (p.step as f64, p.bits_per_dim))
        .collect();
    let train_seconds = outcome.wall_time.as_secs_f64();
    let images_seen = outcome.images_seen;
    let model = outcome.model.valid();
    let inner = device.clone();

    let eval = &config.eval;
    let score = |name: &str, data: &ImageDataset| {
        score_set::<B::InnerBackend>(
            &model,
            name,
            data,
            eval.batch_size,
            eval.dequant_draws,
            evaluation_seed(seed),
            &inner,
        )
    };
    let scored = sets.try_map(|set| score(&set.name, &set.images))?;

    let Detection { ood, roc_curves } = detect(
        &spec.name,
        &scored.in_test.log_likelihood,
        scored
            .ood()
            .map(|set| (set.name.as_str(), set.log_likelihood.as_slice())),
        flow_ood::Orientation::HigherIsInDistribution,
        config,
        seed,
    )?;

    let curves = Curves {
        roc: roc_curves,
        history: &history,
    };
    let mut figures =
        write_figures::<B::InnerBackend>(spec, &model, &scored, curves, config, seed, context)?;
    // Why the model scores as it does: latent space, couplings, per-layer terms.
    figures.extend(write_scored_model_figures::<B::InnerBackend>(
        &model, spec, &scored, sets, seed, context,
    )?);
    let negative = match &negative {
        Some(setup) => Some(setup.result::<B>(spec, config, earlier, dir, device)?),
        None => None,
    };
    let tail = (history.len() / 10).max(1);
    let final_train_bits_per_dim = history.iter().rev().take(tail).map(|(_, b)| b).sum::<f64>()
        / tail.min(history.len()).max(1) as f64;
    let result = ModelResult {
        name: spec.name.clone(),
        description: spec.description.clone(),
        params,
        steps: spec.train.steps,
        batch_size: spec.train.batch_size,
        learning_rate: spec.train.optim.learning_rate,
        train_seconds,
        train_images_per_sec: images_seen as f64 / train_seconds.max(1e-9),
        final_train_bits_per_dim,
        sets: scored.map(summary),
        ood,
        figures,
        negative,
    };
    Ok((result, scored.in_test.log_likelihood))
}

/// Trains `spec` on `train` (with negative training when `negative` is given), or
/// continues it from its checkpoint in `dir/checkpoints/<name>`, or loads it there when
/// it finished.
pub(super) fn train_model<B: FlowAutodiffBackend>(
    spec: &ModelSpec,
    seed: u64,
    train: &ImageDataset,
    negative: Option<NegativeData<'_>>,
    context: &RunContext<'_, B::Device>,
) -> Result<TrainOutcome<B>, ExperimentError> {
    let RunContext { dir, quiet, device } = *context;
    let train_config = TrainConfig {
        seed,
        batch_size: spec.train.batch_size,
        epochs: None,
        max_steps: Some(spec.train.steps),
        optim: spec.train.optim.clone(),
    };
    let train_options = TrainRunOptions {
        checkpoint_dir: Some(dir.join("checkpoints").join(&spec.name)),
        checkpoint_every: Some(checkpoint_every(spec.train.steps)),
        quiet,
        label: Some(spec.name.clone()),
        ..TrainRunOptions::default()
    };
    Training::new(&spec.flow, &train_config, train)
        .negative(negative)
        .options(train_options)
        .start_or_resume::<B>(device)
        .map_err(|source| ExperimentError::Train {
            model: spec.name.clone(),
            source,
        })
}

/// The seed of the model named `name` in a run seeded `run_seed` (its parameters; its
/// batch order and training noise are streams of it). By name, so that adding or
/// reordering models leaves every other model as it was.
pub(super) fn model_seed(run_seed: u64, name: &str) -> u64 {
    stream_seed(run_seed, &format!("model/{name}"))
}

/// The seed of the dequantization noise with which a model seeded `model_seed` is
/// scored (the same for every set and every score, so a likelihood means the same in
/// the main table and in the scores table).
pub(super) fn evaluation_seed(model_seed: u64) -> u64 {
    stream_seed(model_seed, "evaluation noise")
}

/// Checkpoints about every 10% of a run, and at least every 500 steps.
fn checkpoint_every(steps: u64) -> u64 {
    (steps / 10).clamp(1, 500)
}

fn summary(set: &ScoredSet) -> SetSummary {
    SetSummary {
        name: set.name.clone(),
        images: set.log_likelihood.len(),
        mean_bits_per_dim: set.mean_bits_per_dim(),
        mean_log_likelihood: set.mean_log_likelihood(),
        non_finite: set.non_finite(),
        layers: set.layers.clone(),
    }
}

/// A model's curves to draw: ROC per OOD set, and the training loss per step.
struct Curves<'a> {
    roc: Vec<Curve>,
    history: &'a [(f64, f64)],
}

fn write_figures<B: FlowBackend>(
    spec: &ModelSpec,
    model: &FlowNet<B>,
    scored: &ScoredSets<ScoredSet>,
    Curves {
        roc: roc_curves,
        history,
    }: Curves<'_>,
    config: &ExperimentConfig,
    seed: u64,
    context: &RunContext<'_, B::Device>,
) -> Result<Vec<String>, ExperimentError> {
    let (dir, device) = (context.dir, context.device);
    let name = &spec.name;
    let mut written = Vec::new();

    let file = format!("{name}_histogram.png");
    let series: Vec<Series> = scored
        .iter()
        .map(|s| Series::new(s.name.clone(), s.bits_per_dim.clone()))
        .collect();
    flow_plot::histogram_png(
        &dir.join(&file),
        &format!("{name}: bits/dim per image"),
        "bits/dim (lower = more likely)",
        &series,
        60,
    )?;
    written.push(file);

    let file = format!("{name}_roc.png");
    flow_plot::roc_png(
        &dir.join(&file),
        &format!("{name}: ROC, {} test positive", config.data.name),
        &roc_curves,
    )?;
    written.push(file);

    let file = format!("{name}_training.png");
    flow_plot::line_png(
        &dir.join(&file),
        &format!("{name}: training loss"),
        "step",
        "bits/dim",
        &[Curve::new("training batch loss", history.to_vec())],
    )?;
    written.push(file);

    if config.eval.samples > 0 {
        let file = format!("{name}_samples.png");
        let [c, h, w] = model.input_shape();
        let samples = model.sample(
            config.eval.samples,
            config.eval.temperature,
            stream_seed(seed, "samples"),
            device,
        );
        let values: Vec<f32> = samples
            .clamp(0.0, 1.0)
            .into_data()
            .convert::<f32>()
            .to_vec()
            .map_err(|e| ExperimentError::Readback {
                what: format!("{name}'s samples"),
                message: format!("{e:?}"),
            })?;
        let per = c * h * w;
        let images: Vec<Image> = values
            .chunks(per)
            .filter(|chunk| chunk.len() == per)
            .map(|chunk| Image {
                width: w,
                height: h,
                channels: c,
                pixels: chunk.to_vec(),
            })
            .collect();
        let columns = (images.len() as f64).sqrt().ceil() as usize;
        flow_plot::image_grid_png(
            &dir.join(&file),
            &images,
            columns.max(1),
            3,
            Normalise::Fixed(0.0, 1.0),
        )?;
        written.push(file);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(results_dir: &Path, run_id: Option<&str>) -> ExperimentOptions {
        ExperimentOptions {
            data_dir: None,
            results_dir: results_dir.to_path_buf(),
            run_id: run_id.map(str::to_string),
            quiet: true,
        }
    }

    #[test]
    fn new_runs_never_share_a_folder_and_keep_their_configuration() {
        let results = tempfile::tempdir().unwrap();
        let config = ExperimentConfig::smoke();
        // Runs started within the same second: each gets its own folder.
        let (a, dir_a) = run_folder(&config, &options(results.path(), None)).unwrap();
        let (b, dir_b) = run_folder(&config, &options(results.path(), None)).unwrap();
        let (c, _) = run_folder(&config, &options(results.path(), None)).unwrap();
        assert!(a != b && b != c && a != c, "{a} {b} {c}");
        assert!(dir_a.is_dir() && dir_b.is_dir());
        let saved = ExperimentConfig::from_toml_file(&dir_a.join(RUN_CONFIG_FILE)).unwrap();
        assert_eq!(saved, config);

        // Resuming finds the existing folder, and refuses one that does not exist.
        let (id, dir) = run_folder(&config, &options(results.path(), Some(&a))).unwrap();
        assert_eq!((id.as_str(), dir.as_path()), (a.as_str(), dir_a.as_path()));
        let missing = run_folder(&config, &options(results.path(), Some("smoke-1999")));
        assert!(matches!(missing, Err(ExperimentError::UnknownRun { .. })));
        assert!(!results.path().join("smoke-1999").exists());
    }
}
