//! Errors of an experiment run.

use std::path::PathBuf;

use thiserror::Error;

/// Why an experiment stopped.
#[derive(Debug, Error)]
pub enum ExperimentError {
    /// No preset has this name.
    #[error("unknown preset `{0}`: expected smoke, quick, explain, standard or paper")]
    UnknownPreset(String),
    /// A configuration file that does not parse.
    #[error("{path}: {message}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A configuration that cannot run, with every problem found (checked before
    /// anything is loaded, trained or written).
    #[error("invalid experiment configuration: {}", .0.join("; "))]
    InvalidConfig(Vec<String>),
    /// `--resume` named a run that has no folder.
    #[error("no run `{id}` in {results_dir}: --resume continues a run that exists")]
    UnknownRun {
        /// The run id asked for.
        id: String,
        /// Where it was looked for.
        results_dir: PathBuf,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The data could not be fetched or loaded.
    #[error(transparent)]
    Data(#[from] flow_data::DataError),
    /// A data source is not what the configuration declares, or does not fit the run.
    #[error("{}: {message}", path.display())]
    Source {
        /// The file or folder.
        path: PathBuf,
        /// What was expected and what was found.
        message: String,
    },
    /// A model could not be built.
    #[error("model `{model}`: {source}")]
    Model {
        /// The model's name.
        model: String,
        /// The error.
        #[source]
        source: flow_core::FlowError,
    },
    /// Training failed (divergence, a bad checkpoint).
    #[error("model `{model}`: {source}")]
    Train {
        /// The model's name.
        model: String,
        /// The error.
        #[source]
        source: flow_train::TrainError,
    },
    /// Scoring failed.
    #[error(transparent)]
    Score(#[from] flow_ood::scores::ScoreError),
    /// The metrics rejected the scores (for example, non-finite log-likelihoods).
    #[error("model `{model}`, {set}: {source}")]
    Metric {
        /// The model's name.
        model: String,
        /// The OOD set.
        set: String,
        /// The error.
        #[source]
        source: flow_ood::MetricError,
    },
    /// An explanation figure could not be drawn from what the model produced.
    #[error("model `{model}`: explanation figures: {reason}")]
    Explain {
        /// The model's name.
        model: String,
        /// What went wrong.
        reason: String,
    },
    /// The embedding study failed.
    #[error("embedding rows: {0}")]
    Embedding(#[from] crate::embedding::EmbeddingStudyError),
    /// A figure could not be written.
    #[error(transparent)]
    Figure(#[from] flow_plot::FigureError),

    /// A tensor could not be read back from the backend.
    #[error("{what}: reading the values back from the backend failed: {message}")]
    Readback {
        /// What was being read.
        what: String,
        /// The backend's error.
        message: String,
    },
    /// The backend is not available.
    #[error(transparent)]
    Device(#[from] crate::device::DeviceError),
}
