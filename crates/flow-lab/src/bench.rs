//! Throughput of training and scoring, in images per second.
//!
//! Each configuration is timed on random inputs in `[0, 1)` of its input shape: the
//! work per image does not depend on the pixel values. Training is the full step
//! (forward, backward, global clip, Adam); scoring is the log-likelihood of a batch of
//! 256 in evaluation mode. Every timed step reads its result back to the host, so
//! asynchronous backends are measured to completion.

use std::time::{Duration, Instant};

use burn::module::{AutodiffModule, Module};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Distribution, ElementConversion, Tensor};
use flow_core::FlowConfig;
use serde::Serialize;

use crate::device::{BackendJob, BackendKind};
use crate::train::{FlowTrainer, OptimConfig, TrainError};

/// One configuration to time.
#[derive(Debug, Clone)]
pub struct BenchCase {
    /// Name in the output.
    pub name: String,
    /// The model.
    pub flow: FlowConfig,
    /// Training batch size.
    pub train_batch: usize,
    /// Scoring batch size.
    pub score_batch: usize,
}

impl BenchCase {
    /// The two RealNVP configurations of the issue on 1x28x28: `small` (2 scales, 2
    /// blocks, 32 channels, batch 64) and `paper` (2 scales, 6 blocks, 64 channels,
    /// batch 32); both score batches of 256.
    pub fn realnvp_presets() -> Vec<BenchCase> {
        vec![
            BenchCase {
                name: "small".into(),
                flow: FlowConfig::realnvp([1, 28, 28], 2, 2, 32),
                train_batch: 64,
                score_batch: 256,
            },
            BenchCase {
                name: "paper".into(),
                flow: FlowConfig::paper_realnvp(),
                train_batch: 32,
                score_batch: 256,
            },
        ]
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
}

impl Default for BenchBudget {
    fn default() -> Self {
        Self {
            warmup: 1,
            min_iters: 3,
            min_time: Duration::from_secs(10),
        }
    }
}

/// What one configuration measured.
#[derive(Debug, Clone, Serialize)]
pub struct BenchResult {
    /// The configuration's name.
    pub name: String,
    /// The backend.
    pub backend: String,
    /// Trainable parameters.
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

/// Runs `f` until the budget is spent; returns (iterations, seconds).
fn time_loop<E>(
    budget: BenchBudget,
    mut f: impl FnMut() -> Result<(), E>,
) -> Result<(usize, f64), E> {
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

fn bench_case<B: AutodiffBackend>(
    case: &BenchCase,
    budget: BenchBudget,
    backend: BackendKind,
    device: &B::Device,
) -> Result<BenchResult, TrainError> {
    let [c, h, w] = case.flow.input_shape;
    let model = case.flow.init::<B>(0, device)?;
    let params = model.num_params();
    let uniform = Distribution::Uniform(0.0, 1.0);

    let train_input = Tensor::<B, 4>::random([case.train_batch, c, h, w], uniform, device);
    let mut trainer = FlowTrainer::new(model, OptimConfig::default());
    let (train_steps, train_secs) =
        time_loop(budget, || trainer.step(train_input.clone()).map(|_| ()))?;

    let model = trainer.into_model().valid();
    let inner_device = device.clone();
    let score_input =
        Tensor::<B::InnerBackend, 4>::random([case.score_batch, c, h, w], uniform, &inner_device);
    let (score_batches, score_secs) = time_loop(budget, || {
        let likelihood = model.log_likelihood(score_input.clone())?;
        let _: f64 = likelihood.nats().sum().into_scalar().elem();
        Ok::<(), TrainError>(())
    })?;

    Ok(BenchResult {
        name: case.name.clone(),
        backend: backend.name().into(),
        params,
        train_batch: case.train_batch,
        train_steps,
        train_images_per_sec: (train_steps * case.train_batch) as f64 / train_secs,
        score_batch: case.score_batch,
        score_batches,
        score_images_per_sec: (score_batches * case.score_batch) as f64 / score_secs,
    })
}

impl BackendJob for BenchJob {
    type Output = Result<Vec<BenchResult>, TrainError>;

    fn run<B: AutodiffBackend>(mut self, backend: BackendKind, device: B::Device) -> Self::Output {
        let mut results = Vec::with_capacity(self.cases.len());
        for case in &self.cases {
            let result = bench_case::<B>(case, self.budget, backend, &device)?;
            (self.on_result)(&result);
            results.push(result);
        }
        Ok(results)
    }
}
