//! Throughput of training and scoring, in images per second.
//!
//! Each configuration is timed on random inputs in `[0, 1)` of its input shape: the
//! work per image does not depend on the pixel values. Training is the full step
//! (forward, backward, global clip, Adam); scoring is the log-likelihood of a batch of
//! 256 in evaluation mode. Every timed step reads its result back to the host, so
//! asynchronous backends are measured to completion.

use std::time::{Duration, Instant};

use burn::module::AutodiffModule;
use burn::tensor::{Distribution, ElementConversion, Tensor};
use flow_core::params::trainable_params;
use flow_core::FlowConfig;
use flow_data::{ImageDataset, ImageShape};
use flow_embed::{fit_classifier, ClassifierConfig, ClassifierTrainConfig};
use flow_kernels::FlowAutodiffBackend;
use serde::{Deserialize, Serialize};

mod rounds;

pub use rounds::{merge_rounds, paired_ratios, RoundThroughput};

use crate::device::{BackendJob, BackendKind};
use crate::provenance::Provenance;
use flow_train::{FlowTrainer, OptimConfig, TrainError};

/// What a configuration trains and scores.
#[derive(Debug, Clone)]
pub enum BenchModel {
    /// A flow: training is the full optimiser step, scoring the log-likelihood.
    Flow(FlowConfig),
    /// The embedding classifier: training is `fit_classifier` over one batch (forward,
    /// cross-entropy, backward, clip, Adam), scoring the forward pass.
    Classifier(ClassifierConfig),
}

/// One configuration to time.
#[derive(Debug, Clone)]
pub struct BenchCase {
    /// Name in the output.
    pub name: String,
    /// The model.
    pub model: BenchModel,
    /// Training batch size.
    pub train_batch: usize,
    /// Scoring batch size.
    pub score_batch: usize,
}

impl BenchCase {
    /// Every configuration: the two RealNVPs of the performance issue on 1x28x28,
    /// `small` (2 scales, 2 blocks, 32 channels, batch 64) and `paper` (2 scales, 6
    /// blocks, 64 channels, batch 32), both scoring batches of 256, and the embedding
    /// `classifier` (training batch 128 as the experiment trains it, scoring batches of
    /// 500 as it embeds).
    pub fn presets() -> Vec<BenchCase> {
        vec![
            BenchCase {
                name: "small".into(),
                model: BenchModel::Flow(FlowConfig::realnvp([1, 28, 28], 2, 2, 32)),
                train_batch: 64,
                score_batch: 256,
            },
            BenchCase {
                name: "paper".into(),
                model: BenchModel::Flow(FlowConfig::paper_realnvp()),
                train_batch: 32,
                score_batch: 256,
            },
            BenchCase {
                name: "classifier".into(),
                model: BenchModel::Classifier(ClassifierConfig::fashion_mnist()),
                train_batch: 128,
                score_batch: 500,
            },
        ]
    }

    /// The names of [`presets`](BenchCase::presets), in order.
    pub fn preset_names() -> Vec<String> {
        Self::presets().into_iter().map(|c| c.name).collect()
    }
}

/// How long to time each measurement.
#[derive(Debug, Clone, Copy)]
pub struct BenchBudget {
    /// Untimed warm-up iterations.
    pub warmup: usize,
    /// At least this many timed iterations.
    pub min_iters: usize,
    /// Keep timing until this much time has passed (after `min_iters`).
    pub min_time: Duration,
    /// Which measurements to take (both by default; one alone to profile it).
    pub phase: BenchPhase,
}

/// Which of a configuration's two measurements to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BenchPhase {
    /// Training steps, then scoring batches.
    #[default]
    Both,
    /// Training steps only (scoring reported as 0 batches, 0 images/s).
    Train,
    /// Scoring batches only, on the untrained model (training reported as 0).
    Score,
}

impl BenchPhase {
    fn trains(self) -> bool {
        self != Self::Score
    }

    fn scores(self) -> bool {
        self != Self::Train
    }
}

impl Default for BenchBudget {
    fn default() -> Self {
        Self {
            warmup: 1,
            min_iters: 3,
            min_time: Duration::from_secs(10),
            phase: BenchPhase::Both,
        }
    }
}

/// What one configuration measured, on our side or PyTorch's (the same keys as the
/// twin script `bench/pytorch_twin.py` writes).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchResult {
    /// The configuration's name.
    pub name: String,
    /// The backend.
    pub backend: String,
    /// Trainable parameters (running statistics left out, as PyTorch counts).
    pub params: usize,
    /// Training batch size.
    pub train_batch: usize,
    /// Timed training steps.
    pub train_steps: usize,
    /// Training throughput.
    pub train_images_per_sec: f64,
    /// Scoring batch size.
    pub score_batch: usize,
    /// Timed scoring batches.
    pub score_batches: usize,
    /// Scoring throughput.
    pub score_images_per_sec: f64,
    /// The commit, machine and date of the measurement (filled in by the command for
    /// PyTorch's side, measured in the same sitting).
    #[serde(default)]
    pub provenance: Option<Provenance>,
    /// Each round's throughputs when the throughputs above are the medians of several
    /// alternating rounds ([`merge_rounds`]); empty for a single measurement.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rounds: Vec<RoundThroughput>,
}

/// Times every case on one backend.
pub struct BenchJob {
    /// The cases.
    pub cases: Vec<BenchCase>,
    /// The time budget per measurement.
    pub budget: BenchBudget,
    /// Called with each result as it is ready.
    pub on_result: Box<dyn FnMut(&BenchResult)>,
}

/// Runs `f` until the budget is spent; returns (iterations, seconds). Runs nothing and
/// returns (0, 0) when `take` is false.
fn time_loop<E>(
    budget: BenchBudget,
    take: bool,
    mut f: impl FnMut() -> Result<(), E>,
) -> Result<(usize, f64), E> {
    if !take {
        return Ok((0, 0.0));
    }
    for _ in 0..budget.warmup {
        f()?;
    }
    let start = Instant::now();
    let mut iters = 0;
    while iters < budget.min_iters || start.elapsed() < budget.min_time {
        f()?;
        iters += 1;
    }
    Ok((iters, start.elapsed().as_secs_f64()))
}

fn bench_case<B: FlowAutodiffBackend>(
    case: &BenchCase,
    budget: BenchBudget,
    backend: BackendKind,
    device: &B::Device,
) -> Result<BenchResult, BenchError> {
    let timings = match &case.model {
        BenchModel::Flow(flow) => time_flow::<B>(flow, case, budget, device)?,
        BenchModel::Classifier(classifier) => {
            time_classifier::<B>(classifier, case, budget, device)?
        }
    };
    Ok(BenchResult {
        name: case.name.clone(),
        backend: backend.name().into(),
        params: timings.params,
        train_batch: case.train_batch,
        train_steps: timings.train_steps,
        train_images_per_sec: per_sec(timings.train_steps * case.train_batch, timings.train_secs),
        score_batch: case.score_batch,
        score_batches: timings.score_batches,
        score_images_per_sec: per_sec(timings.score_batches * case.score_batch, timings.score_secs),
        provenance: Some(Provenance::now()),
        rounds: Vec::new(),
    })
}

/// A result with these throughputs and fixed sizes, for the tests of the code that
/// reads results.
#[cfg(test)]
pub(crate) fn test_result(name: &str, backend: &str, train: f64, score: f64) -> BenchResult {
    BenchResult {
        name: name.into(),
        backend: backend.into(),
        params: 10,
        train_batch: 64,
        train_steps: 3,
        train_images_per_sec: train,
        score_batch: 256,
        score_batches: 3,
        score_images_per_sec: score,
        provenance: None,
        rounds: Vec::new(),
    }
}

/// Images per second, 0 for a measurement not taken.
fn per_sec(images: usize, secs: f64) -> f64 {
    if images == 0 {
        0.0
    } else {
        images as f64 / secs
    }
}

/// What timing one model gave.
struct Timings {
    params: usize,
    train_steps: usize,
    train_secs: f64,
    score_batches: usize,
    score_secs: f64,
}

fn time_flow<B: FlowAutodiffBackend>(
    flow: &FlowConfig,
    case: &BenchCase,
    budget: BenchBudget,
    device: &B::Device,
) -> Result<Timings, BenchError> {
    let [c, h, w] = flow.input_shape;
    let model = flow.init::<B>(0, device).map_err(TrainError::from)?;
    let params = trainable_params(&model);
    let uniform = Distribution::Uniform(0.0, 1.0);

    let train_input = Tensor::<B, 4>::random([case.train_batch, c, h, w], uniform, device);
    let mut trainer = FlowTrainer::new(model, OptimConfig::default());
    let (train_steps, train_secs) = time_loop(budget, budget.phase.trains(), || {
        trainer.step(train_input.clone()).map(|_| ())
    })?;

    let model = trainer.into_model().valid();
    let score_input =
        Tensor::<B::InnerBackend, 4>::random([case.score_batch, c, h, w], uniform, device);
    let (score_batches, score_secs) = time_loop(budget, budget.phase.scores(), || {
        let likelihood = model.log_likelihood(score_input.clone())?;
        let _: f64 = likelihood.nats().sum().into_scalar().elem();
        Ok::<(), TrainError>(())
    })?;
    Ok(Timings {
        params,
        train_steps,
        train_secs,
        score_batches,
        score_secs,
    })
}

/// `n` images of `shape` with pixels from a fixed pseudo-random sequence, all labelled
/// with class `n mod classes`.
fn random_images(shape: [usize; 3], n: usize, classes: usize) -> Result<ImageDataset, BenchError> {
    let [c, h, w] = shape;
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let pixels = (0..n * c * h * w)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 56) as u8
        })
        .collect();
    let labels = (0..n).map(|i| (i % classes.max(1)) as u32).collect();
    let shape = ImageShape {
        channels: c,
        height: h,
        width: w,
    };
    Ok(ImageDataset::new(shape, pixels, labels)?)
}

fn time_classifier<B: FlowAutodiffBackend>(
    config: &ClassifierConfig,
    case: &BenchCase,
    budget: BenchBudget,
    device: &B::Device,
) -> Result<Timings, BenchError> {
    let shape = config.input_shape;
    let one_batch = random_images(shape, case.train_batch, config.classes)?;
    let train = ClassifierTrainConfig {
        batch_size: case.train_batch,
        epochs: 1,
        cosine_decay: false,
        learning_rate: 3e-3,
        ..ClassifierTrainConfig::default()
    };
    let mut model = None;
    let (train_steps, train_secs) = time_loop(budget, budget.phase.trains(), || {
        model = Some(fit_classifier::<B>(
            config,
            &train,
            &one_batch,
            device,
            |_| {},
        )?);
        Ok::<(), BenchError>(())
    })?;
    let model = match model {
        Some(model) => model.valid(),
        None => config.init::<B::InnerBackend>(0, device)?,
    };
    let [c, h, w] = shape;
    let uniform = Distribution::Uniform(0.0, 1.0);
    let score_input =
        Tensor::<B::InnerBackend, 4>::random([case.score_batch, c, h, w], uniform, device);
    let (score_batches, score_secs) = time_loop(budget, budget.phase.scores(), || {
        let (_, logits) = model.forward(score_input.clone());
        let _: f64 = logits.sum().into_scalar().elem();
        Ok::<(), BenchError>(())
    })?;
    Ok(Timings {
        params: config.num_params(),
        train_steps,
        train_secs,
        score_batches,
        score_secs,
    })
}

/// Why a benchmark stopped.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// Building or training a flow failed.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// Building or training the classifier failed.
    #[error(transparent)]
    Embed(#[from] flow_embed::EmbedError),
    /// The random images could not be made.
    #[error(transparent)]
    Data(#[from] flow_data::DataError),
}

impl BackendJob for BenchJob {
    type Output = Result<Vec<BenchResult>, BenchError>;

    fn run<B: FlowAutodiffBackend>(
        mut self,
        backend: BackendKind,
        device: B::Device,
    ) -> Self::Output {
        let mut results = Vec::with_capacity(self.cases.len());
        for case in &self.cases {
            let result = bench_case::<B>(case, self.budget, backend, &device)?;
            (self.on_result)(&result);
            results.push(result);
        }
        Ok(results)
    }
}
