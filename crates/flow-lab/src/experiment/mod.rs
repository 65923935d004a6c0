//! `cargo xtask experiment`: train flows, score in- and out-of-distribution images,
//! measure how well the likelihood separates them, and write a report with figures.

pub mod compare;
mod config;
pub mod data;
mod detect;
mod embedding_rows;
mod error;
mod eval;
pub mod explain;
mod finite;
mod negative;
mod report;
mod run;
pub mod scores;
mod sets;
mod validate;

pub use config::{
    EvalSpec, ExperimentConfig, ModelSpec, NegativeSpec, Preset, SyntheticSet, TrainSpec,
};
pub use data::{BuiltinSplit, DataConfig, DataSource, Files, NamedSource};
pub use embedding_rows::{DetectorResult, EmbeddingResults, ScoreSummary};
pub use error::ExperimentError;
pub use eval::{evenly_spaced, score_set, ScoredSet};
pub use report::with_interval;
pub use report::{
    ExperimentResults, ModelResult, NegativeResult, OodByRole, OodResult, SetSummary,
};
pub use run::{ExperimentJob, ExperimentOptions, RUN_CONFIG_FILE};
pub use sets::{NamedSet, ScoredSets};
pub use validate::validate;
