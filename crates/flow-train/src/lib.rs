//! Training flows-ood's pixel flows: the reference's optimiser step, the seeded training
//! loop, checkpoints and the NaN/Inf guard.
//!
//! - [`Training`]: one run of a flow from a [`FlowConfig`] on an
//!   [`ImageDataset`](flow_data::ImageDataset) under a [`TrainConfig`], with
//!   [`RunOptions`] for checkpoints, output and early stops and an optional progress
//!   callback ([`TrainEvent`]); [`Training::start`], [`Training::resume`] and
//!   [`Training::start_or_resume`] run it;
//! - [`checkpoint`]: the atomic, self-checking checkpoint file;
//! - [`guard`]: where a diverging step's non-finite values first appear;
//! - [`negative`]: negative training (paper, appendix B), through
//!   [`Training::negative`], with the same checkpoints, resumption and guard;
//! - [`RowFit`]: a fit to rows held in memory (flow-embed's tabular flow and
//!   classifier), on the same batch order ([`StepOrder`]) and step ([`Trainer`]);
//! - [`FlowTrainer`]: one optimiser step (Adam or RMSprop after the reference's
//!   gradient clipping and weight decay; see [`OptimConfig`]).
//!
//! # Determinism
//!
//! Everything random is a pure function of the configuration's `seed` and the step:
//!
//! - the parameters: `FlowConfig::init(seed)`;
//! - the batch order of epoch `e`: `BatchPlan::shuffled` with the seed of the stream
//!   `"batch order"` and epoch `e`; step `s` takes batch `s mod steps_per_epoch` of
//!   epoch `s / steps_per_epoch` (the last batch of an epoch may be smaller, as with
//!   PyTorch's `DataLoader`);
//! - the dequantization noise of step `s`: a fresh `Batcher::dequantized` seeded from
//!   the stream `"dequantization noise/s"` (streams by `flow_data::stream_seed`).
//!
//! So no random-number state needs saving: a checkpoint at step `k` plus the seed
//! determine every later batch, and [`Training::resume`] reaches bit for bit the parameters of an
//! uninterrupted run (on the same backend and machine; the tests check this on flex
//! for single-scale, RealNVP and Glow flows).
//!
//! # Reporting
//!
//! By default an indicatif bar on stderr shows step, loss in bits/dim and images/s
//! (hidden when stderr is not a terminal or [`RunOptions::quiet`] is set), and each
//! completed epoch logs one line to stderr (unless quiet) with its mean bits/dim,
//! images/s and the elapsed time. [`Training::on_progress`] sends the same to a
//! callback instead.
//!
//! [`FlowConfig`]: flow_core::FlowConfig

#![warn(missing_docs)]

pub mod checkpoint;
mod fit;
mod grads;
pub mod guard;
pub mod negative;
mod order;
mod run;
mod step;

pub use checkpoint::{
    checkpoint_path, read_checkpoint, read_checkpoint_meta, write_checkpoint, Checkpoint,
    CheckpointError, CheckpointMeta, DataFingerprint, NegativeMeta, CHECKPOINT_FILE,
};
pub use fit::{RowFit, RowStep};
pub use flow_core::schedule::LrSchedule;
pub use grads::{clip_and_decay, global_grad_norm, ClipScope, DecayScope, GradientRule};
pub use guard::{locate_non_finite, NonFiniteSite};
pub use negative::{negative_loss, NegativeConfig, NegativeData, FASHION_MNIST_HINGE_NATS};
pub use order::StepOrder;
pub use run::{HistoryPoint, RunOptions, TrainConfig, TrainEvent, TrainOutcome, Training};
pub use step::{
    AdamOptimizer, FlowTrainer, GradientStep, ModelOptimizer, NonFiniteQuantity, OptimConfig,
    OptimizerKind, OptimizerRecord, RmsPropOptimizer, StepStats, TrainError, Trainer,
    RMSPROP_ALPHA,
};

// Runs the README's example as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
