//! OOD scores computed by a trained flow (feature `flow`).
//!
//! A [`Score`] turns a batch of inputs into one number per input and says which way it
//! points ([`Orientation`]). The score owns whatever it needs (one model, two models for
//! a likelihood ratio, several for an ensemble, training-set statistics for a typicality
//! test), so callers score every kind the same way: [`score_all`] over batches, then the
//! metrics of this crate on the resulting [`OrientedScores`].

mod likelihood;

pub use likelihood::{BitsPerDim, LogLikelihood};

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use thiserror::Error;

use crate::{Orientation, OrientedScores};

/// Why a batch could not be scored.
#[derive(Debug, Error)]
pub enum ScoreError {
    /// The model rejected the batch (for example, a wrong shape).
    #[error("score `{score}`: {source}")]
    Flow {
        /// The score's name.
        score: String,
        /// The model's error.
        #[source]
        source: flow_core::FlowError,
    },
    /// The backend returned data of an unexpected type.
    #[error("score `{score}`: could not read the scores back: {message}")]
    Readback {
        /// The score's name.
        score: String,
        /// What went wrong.
        message: String,
    },
}

/// A per-input OOD score.
pub trait Score<B: Backend> {
    /// The name used in reports, e.g. `log-likelihood`.
    fn name(&self) -> &str;

    /// Which way the score points.
    fn orientation(&self) -> Orientation;

    /// One score per input of `x` (`[N, C, H, W]`; dequantized pixels in `[0, 1)` for
    /// image flows).
    fn score(&self, x: Tensor<B, 4>) -> Result<Vec<f64>, ScoreError>;
}

/// Scores every batch and collects the results with the score's orientation.
pub fn score_all<B: Backend, S: Score<B> + ?Sized>(
    score: &S,
    batches: impl IntoIterator<Item = Tensor<B, 4>>,
) -> Result<OrientedScores, ScoreError> {
    let mut values = Vec::new();
    for batch in batches {
        values.extend(score.score(batch)?);
    }
    Ok(OrientedScores::new(values, score.orientation()))
}

/// Reads a `[N]` tensor back as `f64`s.
pub(crate) fn to_host<B: Backend>(score: &str, t: Tensor<B, 1>) -> Result<Vec<f64>, ScoreError> {
    t.into_data()
        .convert::<f64>()
        .to_vec()
        .map_err(|e| ScoreError::Readback {
            score: score.to_string(),
            message: format!("{e:?}"),
        })
}
