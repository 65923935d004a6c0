//! The training loop: seeded maximum-likelihood training of a [`FlowNet`] on an
//! [`ImageDataset`], with checkpoints, resumption and the NaN/Inf guard.
//!
//! The determinism and reporting rules are documented in the [crate] docs.

use flow_data::stream_seed;
use flow_kernels::FlowAutodiffBackend;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use burn::tensor::Tensor;
use flow_core::models::FlowStep;
use flow_core::{FlowConfig, FlowNet};
use flow_data::{Batcher, ImageDataset};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::checkpoint::{
    checkpoint_path, read_checkpoint, write_checkpoint, CheckpointError, CheckpointMeta,
    DataFingerprint, NegativeMeta,
};
use crate::guard::locate_non_finite;
use crate::negative::{NegativeConfig, NegativeData};
use crate::order::StepOrder;
use crate::step::{FlowTrainer, NonFiniteQuantity, OptimConfig, OptimizerRecord, TrainError};

/// What to train for and how: the part of a run that decides its result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Seeds the parameters, the batch order and the dequantization noise.
    pub seed: u64,
    /// Images per step.
    pub batch_size: usize,
    /// Passes over the data; with `max_steps` too, the run stops at whichever comes
    /// first.
    #[serde(default)]
    pub epochs: Option<u64>,
    /// Steps in total.
    #[serde(default)]
    pub max_steps: Option<u64>,
    /// The optimiser (Adam or RMSprop, clip, weight decay, learning rate).
    #[serde(default)]
    pub optim: OptimConfig,
}

impl Default for TrainConfig {
    /// The reference's settings for one epoch: batch 32, seed 0, [`OptimConfig`]'s
    /// defaults.
    fn default() -> Self {
        Self {
            seed: 0,
            batch_size: 32,
            epochs: Some(1),
            max_steps: None,
            optim: OptimConfig::default(),
        }
    }
}

impl TrainConfig {
    /// Steps per epoch on a dataset of `len` images (the last batch may be partial).
    pub fn steps_per_epoch(&self, len: usize) -> Result<u64, TrainError> {
        if self.batch_size == 0 {
            return Err(TrainError::Config("batch size must be positive".into()));
        }
        if len == 0 {
            return Err(TrainError::Config("the training set is empty".into()));
        }
        Ok(len.div_ceil(self.batch_size) as u64)
    }

    /// Steps the whole run takes on a dataset of `len` images.
    pub fn total_steps(&self, len: usize) -> Result<u64, TrainError> {
        let per_epoch = self.steps_per_epoch(len)?;
        let by_epochs = self.epochs.map(|e| e.saturating_mul(per_epoch));
        match (by_epochs, self.max_steps) {
            (None, None) => Err(TrainError::Config(
                "give a number of epochs, a number of steps, or both".into(),
            )),
            (Some(a), Some(b)) => Ok(a.min(b)),
            (Some(n), None) | (None, Some(n)) => Ok(n),
        }
    }
}

/// How a run behaves without changing its result: checkpoints, output, early stops.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Folder for the run's checkpoint (see [`crate::checkpoint`]); none when `None`.
    pub checkpoint_dir: Option<PathBuf>,
    /// Write a checkpoint every this many steps (and always when the run stops);
    /// `None`: only when it stops.
    pub checkpoint_every: Option<u64>,
    /// No progress bar and no log lines.
    pub quiet: bool,
    /// A name shown in the bar and the log lines (e.g. the model's).
    pub label: Option<String>,
    /// Stop (with a checkpoint) once this many steps are complete, before the planned
    /// total; [`Training::resume`] continues from there. For budgets and interruption tests.
    pub stop_after_steps: Option<u64>,
    /// Stop (with a checkpoint) before the first step that would start after this much
    /// wall time in this session. Where a run stops then depends on speed, not the seed.
    pub time_limit: Option<Duration>,
}

/// One step of the training curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HistoryPoint {
    /// The step (0-based).
    pub step: u64,
    /// The batch's mean loss in bits per dimension, before the update.
    pub bits_per_dim: f64,
    /// The global gradient norm before clipping.
    pub grad_norm: f64,
}

/// What a run produced.
pub struct TrainOutcome<B: FlowAutodiffBackend> {
    /// The trained model (in training mode; `model.valid()` gives the inference model).
    pub model: FlowNet<B>,
    /// The optimiser's state at the end.
    pub optimizer: OptimizerRecord<B>,
    /// Every step so far, earlier sessions of a resumed run included.
    pub history: Vec<HistoryPoint>,
    /// Steps completed.
    pub steps: u64,
    /// Steps the configuration plans.
    pub total_steps: u64,
    /// Steps per epoch.
    pub steps_per_epoch: u64,
    /// Training wall time (checkpoint writing included), summed over resumed sessions.
    pub wall_time: Duration,
    /// Images trained on, summed over resumed sessions.
    pub images_seen: u64,
    /// The checkpoint written last, if the run writes them.
    pub checkpoint: Option<PathBuf>,
}

impl<B: FlowAutodiffBackend> TrainOutcome<B> {
    /// Whether the run completed its planned steps (false after an early stop).
    pub fn finished(&self) -> bool {
        self.steps >= self.total_steps
    }

    /// Mean training throughput over the whole run, images per second.
    pub fn images_per_sec(&self) -> f64 {
        let secs = self.wall_time.as_secs_f64();
        if secs > 0.0 {
            self.images_seen as f64 / secs
        } else {
            0.0
        }
    }

    /// Whole epochs completed.
    pub fn epochs_completed(&self) -> u64 {
        self.steps / self.steps_per_epoch.max(1)
    }
}

/// What a run reports as it goes, to a callback given to [`Training::on_progress`]
/// (without one, a progress bar and a line per epoch on stderr, unless
/// [`RunOptions::quiet`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TrainEvent {
    /// A step finished.
    Step {
        /// Steps completed, this one included.
        done: u64,
        /// Steps the run plans.
        total: u64,
        /// The step's loss in bits per dimension.
        bits_per_dim: f64,
        /// Images per second in this session so far.
        images_per_sec: f64,
    },
    /// An epoch finished.
    Epoch {
        /// Epochs completed (1-based).
        epoch: u64,
        /// Epochs the run plans.
        epochs: u64,
        /// The epoch's mean loss in bits per dimension.
        bits_per_dim: f64,
        /// Images per second within the epoch.
        images_per_sec: f64,
        /// Training time so far, earlier sessions included.
        elapsed: Duration,
    },
}

/// The caller's receiver of a run's [`TrainEvent`]s.
type ProgressCallback<'a> = Box<dyn FnMut(&TrainEvent) + 'a>;

/// One training run of a flow: what is trained ([`FlowConfig`], [`TrainConfig`]), on
/// what (the images, and an OOD set for negative training), and how the run behaves
/// ([`RunOptions`], a progress callback). [`start`](Self::start),
/// [`resume`](Self::resume) and [`start_or_resume`](Self::start_or_resume) run it.
///
/// ```no_run
/// # use burn::backend::{Autodiff, Flex};
/// # use flow_core::FlowConfig;
/// # use flow_train::{RunOptions, TrainConfig, Training};
/// # fn train(flow: &FlowConfig, data: &flow_data::ImageDataset) -> Result<(), flow_train::TrainError> {
/// let config = TrainConfig::default();
/// let outcome = Training::new(flow, &config, data)
///     .options(RunOptions {
///         checkpoint_dir: Some("runs/flow".into()),
///         ..RunOptions::default()
///     })
///     .start_or_resume::<Autodiff<Flex>>(&Default::default())?;
/// println!("{} steps, {:.1} images/s", outcome.steps, outcome.images_per_sec());
/// # Ok(())
/// # }
/// ```
pub struct Training<'a> {
    flow: &'a FlowConfig,
    train: &'a TrainConfig,
    data: &'a ImageDataset,
    negative: Option<NegativeData<'a>>,
    options: RunOptions,
    progress: Option<ProgressCallback<'a>>,
}

impl<'a> Training<'a> {
    /// A run of a model built from `flow` with `train`'s seed, trained on `data`
    /// (images of the flow's input shape), with default options.
    pub fn new(flow: &'a FlowConfig, train: &'a TrainConfig, data: &'a ImageDataset) -> Self {
        Self {
            flow,
            train,
            data,
            negative: None,
            options: RunOptions::default(),
            progress: None,
        }
    }

    /// Negative training against `negative`'s OOD images when given (see
    /// [`crate::negative`]); the checkpoints record it, and resuming needs the same OOD
    /// images (and none for a run that had none).
    pub fn negative(self, negative: impl Into<Option<NegativeData<'a>>>) -> Self {
        Self {
            negative: negative.into(),
            ..self
        }
    }

    /// Checkpoints, output and early stops.
    pub fn options(self, options: RunOptions) -> Self {
        Self { options, ..self }
    }

    /// Reports progress to `callback` instead of the console.
    pub fn on_progress(self, callback: impl FnMut(&TrainEvent) + 'a) -> Self {
        Self {
            progress: Some(Box::new(callback)),
            ..self
        }
    }

    /// Trains a fresh model. A checkpoint already in the checkpoint folder is replaced
    /// by this run's first one; [`start_or_resume`](Self::start_or_resume) continues it
    /// instead.
    ///
    /// # Errors
    /// A configuration that cannot train on this data, a checkpoint that cannot be
    /// written, or a non-finite step ([`TrainError::NonFinite`] names the step, the
    /// layer and the last good checkpoint).
    pub fn start<B: FlowAutodiffBackend>(
        self,
        device: &B::Device,
    ) -> Result<TrainOutcome<B>, TrainError> {
        let plan = RunPlan::new(self.flow, self.train, self.data, self.negative)?;
        let mut model = self.flow.init::<B>(self.train.seed, device)?;
        if has_actnorm(&model) {
            // Glow's data-dependent initialisation, on the first step's batch.
            let x = plan.batch::<B>(0, &mut plan.order()?, self.data, device)?;
            model = model.initialize_actnorm(x)?;
        }
        let state = RunState {
            trainer: FlowTrainer::new(model, self.train.optim.clone()),
            history: Vec::new(),
            elapsed_before: Duration::ZERO,
            images_before: 0,
            checkpoint: None,
        };
        self.drive(&plan, state, device)
    }

    /// Continues the run whose checkpoint is in the options' checkpoint folder, on the
    /// same data, until its planned end (or an early stop in the options). The result
    /// equals, bit for bit, that of the run never interrupted.
    ///
    /// # Errors
    /// As [`start`](Self::start); [`CheckpointError::Missing`] without a checkpoint,
    /// [`CheckpointError::Mismatch`] when the checkpoint is another run's (other
    /// configurations, training set or negative-training settings).
    pub fn resume<B: FlowAutodiffBackend>(
        self,
        device: &B::Device,
    ) -> Result<TrainOutcome<B>, TrainError> {
        let Some(dir) = self.options.checkpoint_dir.clone() else {
            return Err(TrainError::Config(
                "resuming needs RunOptions::checkpoint_dir".into(),
            ));
        };
        let path = checkpoint_path(&dir);
        if !path.is_file() {
            return Err(CheckpointError::Missing { dir }.into());
        }
        let checkpoint = read_checkpoint::<B>(&path, device)?;
        let meta = checkpoint.meta;
        if &meta.flow != self.flow {
            return Err(mismatch(&path, "its flow configuration differs".into()));
        }
        if &meta.train != self.train {
            return Err(mismatch(&path, "its training configuration differs".into()));
        }
        let plan = RunPlan::new(&meta.flow, &meta.train, self.data, self.negative)?;
        if plan.negative_meta() != meta.negative {
            return Err(mismatch(
                &path,
                "its negative-training settings or OOD images differ from this run's".into(),
            ));
        }
        if plan.fingerprint != meta.data {
            return Err(mismatch(
                &path,
                format!(
                    "it was trained on {} images of {:?} (hash {:016x}), this dataset has {} of {:?} (hash {:016x})",
                    meta.data.len,
                    meta.data.shape,
                    meta.data.hash,
                    plan.fingerprint.len,
                    plan.fingerprint.shape,
                    plan.fingerprint.hash
                ),
            ));
        }
        if checkpoint.history.len() as u64 != meta.step {
            return Err(CheckpointError::Corrupt {
                path,
                reason: format!(
                    "{} history points for {} steps",
                    checkpoint.history.len(),
                    meta.step
                ),
            }
            .into());
        }
        let state = RunState {
            trainer: FlowTrainer::with_state(
                checkpoint.model,
                meta.train.optim.clone(),
                checkpoint.optimizer,
                meta.step,
            )?,
            history: checkpoint.history,
            elapsed_before: Duration::from_secs_f64(meta.elapsed_secs.max(0.0)),
            images_before: meta.images_seen,
            checkpoint: Some(path),
        };
        self.drive(&plan, state, device)
    }

    /// [`resume`](Self::resume)s when the checkpoint folder holds a checkpoint, else
    /// [`start`](Self::start)s. A checkpoint of other configurations is an error rather
    /// than being overwritten.
    ///
    /// # Errors
    /// As [`start`](Self::start) and [`resume`](Self::resume).
    pub fn start_or_resume<B: FlowAutodiffBackend>(
        self,
        device: &B::Device,
    ) -> Result<TrainOutcome<B>, TrainError> {
        let has_checkpoint = self
            .options
            .checkpoint_dir
            .as_deref()
            .is_some_and(|dir| checkpoint_path(dir).is_file());
        if has_checkpoint {
            self.resume(device)
        } else {
            self.start(device)
        }
    }
}

fn mismatch(path: &Path, reason: String) -> TrainError {
    CheckpointError::Mismatch {
        path: path.to_path_buf(),
        reason,
    }
    .into()
}

/// The fixed schedule of a run: how steps map to batches and noise.
struct RunPlan {
    seed: u64,
    batch_size: usize,
    len: usize,
    steps_per_epoch: u64,
    total_steps: u64,
    fingerprint: DataFingerprint,
    negative: Option<NegativePlan>,
}

/// How steps map to OOD batches in negative training: the OOD set is cycled through
/// in its own seeded epochs, independent of the in-distribution ones.
struct NegativePlan {
    config: NegativeConfig,
    len: usize,
    fingerprint: DataFingerprint,
}

impl RunPlan {
    fn new(
        flow: &FlowConfig,
        train: &TrainConfig,
        data: &ImageDataset,
        negative: Option<NegativeData<'_>>,
    ) -> Result<Self, TrainError> {
        let shape = data.shape();
        let data_shape = [shape.channels, shape.height, shape.width];
        if data_shape != flow.input_shape {
            return Err(TrainError::Config(format!(
                "the training images are {data_shape:?} but the flow takes {:?}",
                flow.input_shape
            )));
        }
        let negative = match negative {
            None => None,
            Some(neg) => {
                let ood_shape = neg.images.shape();
                if [ood_shape.channels, ood_shape.height, ood_shape.width] != flow.input_shape {
                    return Err(TrainError::Config(format!(
                        "the negative-training images are {:?} but the flow takes {:?}",
                        [ood_shape.channels, ood_shape.height, ood_shape.width],
                        flow.input_shape
                    )));
                }
                if neg.config.batch_size == 0 || neg.images.is_empty() {
                    return Err(TrainError::Config(
                        "negative training needs OOD images and a positive OOD batch size".into(),
                    ));
                }
                if !neg.config.hinge_nats.is_finite() {
                    return Err(TrainError::Config(format!(
                        "the negative-training hinge must be finite, not {}",
                        neg.config.hinge_nats
                    )));
                }
                Some(NegativePlan {
                    config: neg.config.clone(),
                    len: neg.images.len(),
                    fingerprint: DataFingerprint::of(neg.images),
                })
            }
        };
        Ok(Self {
            seed: train.seed,
            batch_size: train.batch_size,
            len: data.len(),
            steps_per_epoch: train.steps_per_epoch(data.len())?,
            total_steps: train.total_steps(data.len())?,
            fingerprint: DataFingerprint::of(data),
            negative,
        })
    }

    /// What the checkpoint records of the negative-training part.
    fn negative_meta(&self) -> Option<NegativeMeta> {
        self.negative.as_ref().map(|n| NegativeMeta {
            config: n.config.clone(),
            data: n.fingerprint,
        })
    }

    /// The in-distribution batch order: the stream `"batch order"` of the run's seed.
    fn order(&self) -> Result<StepOrder, TrainError> {
        StepOrder::new(
            self.len,
            self.batch_size,
            stream_seed(self.seed, "batch order"),
        )
    }

    /// The OOD batch order of negative training (the stream `"negative batch order"`),
    /// or `None` without it.
    fn ood_order(&self) -> Result<Option<StepOrder>, TrainError> {
        self.negative
            .as_ref()
            .map(|neg| {
                StepOrder::new(
                    neg.len,
                    neg.config.batch_size,
                    stream_seed(self.seed, "negative batch order"),
                )
            })
            .transpose()
    }

    /// The dequantized OOD batch of `step` with the hinge, or `None` without negative
    /// training.
    fn ood_batch<B: FlowAutodiffBackend>(
        &self,
        step: u64,
        order: Option<&mut StepOrder>,
        images: &ImageDataset,
        device: &B::Device,
    ) -> Result<Option<(Tensor<B, 4>, f64)>, TrainError> {
        let (Some(neg), Some(order)) = (&self.negative, order) else {
            return Ok(None);
        };
        let mut batcher =
            Batcher::dequantized(stream_seed(self.seed, &format!("negative noise/{step}")));
        let x = batcher
            .batch::<B>(images, order.batch(step)?, device)?
            .images;
        Ok(Some((x, neg.config.hinge_nats)))
    }

    /// The dequantized batch of `step`, from the run's order.
    fn batch<B: FlowAutodiffBackend>(
        &self,
        step: u64,
        order: &mut StepOrder,
        data: &ImageDataset,
        device: &B::Device,
    ) -> Result<Tensor<B, 4>, TrainError> {
        let mut batcher = Batcher::dequantized(stream_seed(
            self.seed,
            &format!("dequantization noise/{step}"),
        ));
        Ok(batcher.batch::<B>(data, order.batch(step)?, device)?.images)
    }
}

fn has_actnorm<B: FlowAutodiffBackend>(model: &FlowNet<B>) -> bool {
    model.scales().iter().any(|scale| {
        scale
            .pre
            .iter()
            .chain(&scale.post)
            .any(|step| matches!(step, FlowStep::ActNorm(_)))
    })
}

/// What moves during a run.
struct RunState<B: FlowAutodiffBackend> {
    trainer: FlowTrainer<B>,
    history: Vec<HistoryPoint>,
    elapsed_before: Duration,
    images_before: u64,
    checkpoint: Option<PathBuf>,
}

/// What a run was set up with: the flow, the training configuration and the plan
/// derived from them and the data.
#[derive(Clone, Copy)]
struct RunSetup<'a> {
    flow: &'a FlowConfig,
    train: &'a TrainConfig,
    plan: &'a RunPlan,
}

impl Training<'_> {
    /// The loop from `state` to the planned end or an early stop.
    fn drive<B: FlowAutodiffBackend>(
        self,
        plan: &RunPlan,
        mut state: RunState<B>,
        device: &B::Device,
    ) -> Result<TrainOutcome<B>, TrainError> {
        let Training {
            flow,
            train,
            data,
            negative,
            options,
            progress,
        } = self;
        let setup = RunSetup { flow, train, plan };
        let mut report = match progress {
            Some(callback) => Reporter::Callback(callback, ReportPlan::of(plan)),
            None => Reporter::console(&options, plan, state.trainer.steps()),
        };
        let started = Instant::now();
        let stop_at = options
            .stop_after_steps
            .map_or(plan.total_steps, |s| s.min(plan.total_steps));
        let mut images_now: u64 = 0;
        let mut order = plan.order()?;
        let mut ood_order = plan.ood_order()?;
        let mut epoch_clock = EpochClock::new(started);
        let mut written_at = None;

        while state.trainer.steps() < stop_at {
            if options
                .time_limit
                .is_some_and(|limit| started.elapsed() >= limit)
            {
                break;
            }
            let step = state.trainer.steps();
            let epoch = step / plan.steps_per_epoch;
            let x = plan.batch::<B>(step, &mut order, data, device)?;
            let batch = x.dims()[0] as u64;
            let ood = match negative {
                Some(neg) => plan.ood_batch::<B>(step, ood_order.as_mut(), neg.images, device)?,
                None => None,
            };
            let result = match ood {
                Some((ood, hinge)) => state.trainer.step_negative(x.clone(), ood, hinge),
                None => state.trainer.step(x.clone()),
            };
            let stats = match result {
                Ok(stats) => stats,
                Err(TrainError::NonFinite {
                    step,
                    what,
                    value,
                    site,
                    ..
                }) => {
                    report.abandon();
                    let site = if what == NonFiniteQuantity::Loss {
                        locate_non_finite(state.trainer.model(), x)
                    } else {
                        site
                    };
                    return Err(TrainError::NonFinite {
                        step,
                        what,
                        value,
                        site,
                        checkpoint: state.checkpoint,
                    });
                }
                Err(other) => {
                    report.abandon();
                    return Err(other);
                }
            };
            state.history.push(HistoryPoint {
                step,
                bits_per_dim: stats.loss_bits_per_dim,
                grad_norm: stats.grad_norm,
            });
            images_now += batch;
            epoch_clock.images += batch;
            report.step(
                step + 1,
                stats.loss_bits_per_dim,
                images_now as f64 / started.elapsed().as_secs_f64().max(1e-9),
            );
            if (step + 1).is_multiple_of(plan.steps_per_epoch) {
                let first = epoch * plan.steps_per_epoch;
                let epoch_points = state.history.iter().rev().take_while(|p| p.step >= first);
                let (sum, n) =
                    epoch_points.fold((0.0, 0u64), |(s, n), p| (s + p.bits_per_dim, n + 1));
                report.epoch_line(
                    epoch + 1,
                    sum / n.max(1) as f64,
                    epoch_clock.images_per_sec(),
                    state.elapsed_before + started.elapsed(),
                );
                epoch_clock = EpochClock::new(Instant::now());
            }
            let due = options
                .checkpoint_every
                .is_some_and(|every| every > 0 && (step + 1).is_multiple_of(every));
            if due {
                if let Some(dir) = &options.checkpoint_dir {
                    state.checkpoint = Some(save(dir, setup, &state, started, images_now)?);
                    written_at = Some(step + 1);
                }
            }
        }
        report.finish();

        if let Some(dir) = &options.checkpoint_dir {
            if written_at != Some(state.trainer.steps()) {
                state.checkpoint = Some(save(dir, setup, &state, started, images_now)?);
            }
        }
        let steps = state.trainer.steps();
        let (model, optimizer) = state.trainer.into_parts();
        Ok(TrainOutcome {
            model,
            optimizer,
            history: state.history,
            steps,
            total_steps: plan.total_steps,
            steps_per_epoch: plan.steps_per_epoch,
            wall_time: state.elapsed_before + started.elapsed(),
            images_seen: state.images_before + images_now,
            checkpoint: state.checkpoint,
        })
    }
}

fn save<B: FlowAutodiffBackend>(
    dir: &Path,
    RunSetup { flow, train, plan }: RunSetup<'_>,
    state: &RunState<B>,
    started: Instant,
    images_now: u64,
) -> Result<PathBuf, TrainError> {
    let meta = CheckpointMeta {
        flow: flow.clone(),
        train: train.clone(),
        step: state.trainer.steps(),
        steps_per_epoch: plan.steps_per_epoch,
        total_steps: plan.total_steps,
        data: plan.fingerprint,
        elapsed_secs: (state.elapsed_before + started.elapsed()).as_secs_f64(),
        images_seen: state.images_before + images_now,
        negative: plan.negative_meta(),
    };
    Ok(write_checkpoint(
        dir,
        &meta,
        &state.history,
        state.trainer.model(),
        state.trainer.optimizer_record(),
    )?)
}

/// Throughput within one epoch.
struct EpochClock {
    started: Instant,
    images: u64,
}

impl EpochClock {
    fn new(started: Instant) -> Self {
        Self { started, images: 0 }
    }

    fn images_per_sec(&self) -> f64 {
        self.images as f64 / self.started.elapsed().as_secs_f64().max(1e-9)
    }
}

/// Steps and epochs a run plans, for its reports.
#[derive(Debug, Clone, Copy)]
struct ReportPlan {
    total_steps: u64,
    epochs: u64,
}

impl ReportPlan {
    fn of(plan: &RunPlan) -> Self {
        Self {
            total_steps: plan.total_steps,
            epochs: plan.total_steps.div_ceil(plan.steps_per_epoch.max(1)),
        }
    }
}

/// Where a run's progress goes: the console (a progress bar and a line per epoch), or
/// the caller's callback.
enum Reporter<'a> {
    Console {
        bar: ProgressBar,
        quiet: bool,
        label: String,
        plan: ReportPlan,
    },
    Callback(ProgressCallback<'a>, ReportPlan),
}

impl Reporter<'_> {
    fn console(options: &RunOptions, plan: &RunPlan, start_step: u64) -> Self {
        let visible = !options.quiet && std::io::stderr().is_terminal();
        let bar = if visible {
            ProgressBar::with_draw_target(Some(plan.total_steps), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        let style = ProgressStyle::with_template(
            "{prefix}[{elapsed_precise}] {bar:30} step {pos}/{len} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        let label = options.label.clone().unwrap_or_default();
        if !label.is_empty() {
            bar.set_prefix(format!("{label} "));
        }
        bar.set_position(start_step);
        Reporter::Console {
            bar,
            quiet: options.quiet,
            label,
            plan: ReportPlan::of(plan),
        }
    }

    fn step(&mut self, done: u64, bits_per_dim: f64, images_per_sec: f64) {
        match self {
            Reporter::Console { bar, .. } => {
                bar.set_position(done);
                bar.set_message(format!(
                    "{bits_per_dim:.3} bits/dim, {images_per_sec:.1} images/s"
                ));
            }
            Reporter::Callback(callback, plan) => callback(&TrainEvent::Step {
                done,
                total: plan.total_steps,
                bits_per_dim,
                images_per_sec,
            }),
        }
    }

    fn epoch_line(
        &mut self,
        epoch: u64,
        bits_per_dim: f64,
        images_per_sec: f64,
        elapsed: Duration,
    ) {
        match self {
            Reporter::Console {
                bar,
                quiet,
                label,
                plan,
            } => {
                if *quiet {
                    return;
                }
                let prefix = if label.is_empty() {
                    String::new()
                } else {
                    format!("{label}: ")
                };
                let line = format!(
                    "{prefix}epoch {epoch}/{}: {bits_per_dim:.4} bits/dim, {images_per_sec:.1} images/s, elapsed {}",
                    plan.epochs,
                    format_duration(elapsed)
                );
                if bar.is_hidden() {
                    eprintln!("{line}");
                } else {
                    bar.println(line);
                }
            }
            Reporter::Callback(callback, plan) => callback(&TrainEvent::Epoch {
                epoch,
                epochs: plan.epochs,
                bits_per_dim,
                images_per_sec,
                elapsed,
            }),
        }
    }

    fn abandon(&self) {
        if let Reporter::Console { bar, .. } = self {
            bar.abandon();
        }
    }

    fn finish(&self) {
        if let Reporter::Console { bar, .. } = self {
            bar.finish_and_clear();
        }
    }
}

fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..60 => format!("{:.1}s", d.as_secs_f64()),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m{:02}s", secs / 3600, secs / 60 % 60, secs % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_steps_take_the_earlier_limit() {
        let mut config = TrainConfig {
            batch_size: 4,
            epochs: Some(3),
            max_steps: None,
            ..TrainConfig::default()
        };
        assert_eq!(config.steps_per_epoch(10).unwrap(), 3);
        assert_eq!(config.total_steps(10).unwrap(), 9);
        config.max_steps = Some(5);
        assert_eq!(config.total_steps(10).unwrap(), 5);
        config.epochs = None;
        assert_eq!(config.total_steps(10).unwrap(), 5);
        config.max_steps = None;
        assert!(config.total_steps(10).is_err());
        config.batch_size = 0;
        assert!(config.steps_per_epoch(10).is_err());
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format_duration(Duration::from_secs(125)), "2m05s");
        assert_eq!(format_duration(Duration::from_secs(3725)), "1h02m05s");
    }
}
