//! Errors of the embedding study.

use std::path::PathBuf;

use thiserror::Error;

/// Why the embedding study failed; each variant says at which stage.
#[derive(Debug, Error)]
pub enum EmbeddingStudyError {
    /// A configuration that cannot run, with the reason.
    #[error("embedding study configuration: {0}")]
    Config(String),
    /// Training, loading or using the classifier failed.
    #[error("embedding study, classifier: {0}")]
    Classifier(#[source] flow_embed::EmbedError),
    /// Extracting or writing the embeddings of a set failed.
    #[error("embedding study, embeddings of {set}: {source}")]
    Embeddings {
        /// The set.
        set: String,
        /// What went wrong.
        #[source]
        source: flow_embed::EmbedError,
    },
    /// Fitting the tabular flow failed (a diverging fit names its step).
    #[error("embedding study, tabular flow: {0}")]
    Flow(#[source] flow_embed::EmbedError),
    /// Fitting a Gaussian baseline failed.
    #[error("embedding study, {detector} baseline: {source}")]
    Baseline {
        /// The baseline.
        detector: &'static str,
        /// What went wrong.
        #[source]
        source: flow_embed::EmbedError,
    },
    /// Selecting a subset of a dataset failed.
    #[error("embedding study: {0}")]
    Data(#[from] flow_data::DataError),
    /// A folder could not be created or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The folder or file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}
