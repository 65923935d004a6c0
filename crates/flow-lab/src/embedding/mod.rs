//! The embedding study: the paper's positive result, a flow on embeddings from a network
//! trained with labels, next to two Gaussian baselines on the same embeddings.
//!
//! [`run_embedding_study`] trains the feature extractor (or loads it from a cache keyed by
//! its configuration and the training data), reports its test accuracy, extracts the
//! embeddings of the in-distribution and OOD sets, writes them as `.npy`, fits the
//! tabular flow, and scores every set with three detectors (see [`Detector`]), all scores
//! oriented so that higher means more in-distribution. The library side is `flow-embed`;
//! this module owns the files and the progress output.

mod cache;
mod config;
mod error;
mod study;

pub use cache::{classifier_cache_key, classifier_cache_path};
pub use config::EmbeddingStudyConfig;
pub use error::EmbeddingStudyError;
pub use study::{
    run_embedding_study, ClassifierSummary, Detector, DetectorScores, EmbeddingStudy,
    EmbeddingStudySummary, FlowSummary, StageTimings, StudyData,
};

#[cfg(all(test, feature = "flex"))]
mod tests;
