//! OOD scores computed by a trained flow (feature `flow`).
//!
//! A [`Score`] turns a batch of inputs into one number per input and says which way it
//! points ([`Orientation`]). The score owns whatever it needs (one model, two models for
//! a likelihood ratio, several for an ensemble, training-set statistics for a typicality
//! test), so callers score every kind the same way: [`score_all`] over batches, then the
//! metrics of this crate on the resulting [`OrientedScores`].
//!
//! ```
//! use burn::backend::Flex;
//! use burn::tensor::{Tensor, TensorData};
//! use flow_core::FlowConfig;
//! use flow_masks::MaskSchedule;
//! use flow_ood::scores::{score_all, Codec, InputComplexity, Typicality};
//! use flow_ood::{evaluate_oriented, EvaluateOptions};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Any trained flow: here a fresh one on 1x4x4 images.
//! let flow = FlowConfig::single_scale([1, 4, 4], MaskSchedule::checkerboard(2), 1, 4)
//!     .init::<Flex>(0, &Default::default())?;
//! // Dequantized 8-bit images, (pixel + 0.5) / 256.
//! let images = |pixels: Vec<f32>, n: usize| {
//!     let values = pixels.iter().map(|p| (p + 0.5) / 256.0).collect::<Vec<f32>>();
//!     Tensor::<Flex, 4>::from_data(TensorData::new(values, [n, 1, 4, 4]), &Default::default())
//! };
//! let ramps = images((0..64).map(|i| (i * 16 % 256) as f32).collect(), 4);
//! let flat = images(vec![200.0; 64], 4);
//!
//! let complexity = InputComplexity::new(&flow, Codec::Png);
//! let in_scores = score_all(&complexity, [ramps.clone()])?;
//! let ood_scores = score_all(&complexity, [flat])?;
//! let report = evaluate_oriented(&in_scores, &ood_scores, &EvaluateOptions::default())?;
//! assert!((0.0..=1.0).contains(&report.auroc.value));
//!
//! // A typicality score needs the mean training log-likelihood (here: of the ramps).
//! let train = score_all(&flow_ood::scores::LogLikelihood::new(&flow), [ramps])?;
//! let entropy = flow_ood::scores::entropy_estimate(&train.values)?;
//! let _typicality = Typicality::new(&flow, entropy);
//! # Ok(())
//! # }
//! ```
//!
//! | score | formula | higher means | source |
//! |---|---|---|---|
//! | [`LogLikelihood`] | `log p(x)` (nats) | in-distribution | the paper |
//! | [`BitsPerDim`] | `-log p(x) / (D ln 2)` | OOD | the paper |
//! | [`LikelihoodRatio`] | `log p_θ(x) - log p_θ0(x)`, `θ0` trained on mutated pixels | in-distribution | Ren et al. 2019 |
//! | [`InputComplexity`] | `-log2 p(x) - L(x)` (bits), `L` a lossless codec's length | OOD | Serrà et al. 2020 |
//! | [`Typicality`] | `\|log p(x) - H\|`, `H` the mean training log-likelihood | OOD | Nalisnick et al. 2019 |
//! | [`BatchTypicality`] | `\|mean log p - H\|` over a batch of `M` (a batch test) | OOD | Nalisnick et al. 2019 |
//! | [`GradientScore`] | `‖∇_θ log p(x)‖`, or `∇ᵀF⁻¹∇` with a diagonal Fisher | OOD | Bergamin et al. 2022 |
//! | [`Dose`] | `Σ_j log p̂_j(T_j(x))`, KDEs over the flow's traced statistics | in-distribution | Morningstar et al. 2021 |
//! | [`Waic`] | `E_θ[log p] - Var_θ[log p]` over flows from different seeds | in-distribution | Choi et al. 2018 |
//! | [`FisherCombination`] | `-2 Σ_j ln p_j(x)`, empirical p-values of several scores | OOD | Bergamin et al. 2022 |

mod combination;
mod complexity;
mod dose;
mod ensemble;
mod gradient;
mod kde;
mod likelihood;
mod ratio;
mod statistics;
#[cfg(test)]
mod testing;
mod typicality;

pub use combination::{fisher_statistic, EmpiricalPValue, FisherCombination};
pub use complexity::{input_complexity, Codec, InputComplexity};
pub use dose::Dose;
pub use ensemble::{waic_of, Waic};
pub use gradient::{per_input_gradients, DiagonalFisher, FisherAccumulator, GradientScore};
pub use kde::{Bandwidth, GaussianKde};
pub use likelihood::{BitsPerDim, LogLikelihood};
pub use ratio::LikelihoodRatio;
pub use statistics::FlowStatistics;
pub use typicality::{entropy_estimate, typicality_distance, BatchTypicality, Typicality};

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
    /// The score could not be fitted (calibrated) on the data it was given.
    #[error("score `{score}`: {reason}")]
    Fit {
        /// The score's name.
        score: String,
        /// What was wrong with the fitting data.
        reason: String,
    },
    /// An image could not be compressed.
    #[error("{codec} compression: {message}")]
    Compress {
        /// The codec.
        codec: &'static str,
        /// What went wrong.
        message: String,
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
