//! What the OOD-scores table measured, as stored in `results.json`.

use serde::{Deserialize, Serialize};

use crate::experiment::OodResult;

/// The table of every direction the run scored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScoresResults {
    /// One table per direction: the run's own first, then the swapped one.
    pub directions: Vec<DirectionScores>,
}

/// The scores of one flow against the OOD sets of one direction.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DirectionScores {
    /// The in-distribution dataset.
    pub in_distribution: String,
    /// The natural OOD dataset.
    pub out_of_distribution: String,
    /// The model whose flow the scores use (with `_reverse` for the swapped direction's
    /// twin).
    pub model: String,
    /// Its training steps.
    pub steps: u64,
    /// Seconds to score every set with the flow once (the log-likelihood row's cost;
    /// the other rows' costs come on top).
    pub base_seconds: f64,
    /// How the hyper-parameters were chosen: the validation pair, in words.
    pub validation: String,
    /// The entropy estimate `H` of the typicality scores: the mean log-likelihood of
    /// the scored training images, in nats.
    pub entropy_nats: f64,
    /// The checkpoint folder (under the run's `checkpoints/`) of the background flow
    /// the likelihood ratio chose, if the table has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<String>,
    /// The checkpoint folders of the WAIC ensemble's flows, if the table has one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ensemble: Vec<String>,
    /// One row per score, the log-likelihood first.
    pub rows: Vec<ScoreRow>,
    /// The likelihood ratio's background grid, each point's validation AUROC and its
    /// (oracle) AUROC on the natural OOD set.
    pub background_grid: Vec<GridPoint>,
}

/// One score's detection of every OOD set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScoreRow {
    /// The score (`likelihood ratio`, `typicality (batch test, M = 5)`, ...).
    pub score: String,
    /// Whether the score judges one input at a time (false for the batch test).
    pub single_sample: bool,
    /// The hyper-parameters chosen on the validation pair, if the score has any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chosen: Option<String>,
    /// Set when the score was computed on the first images of each set only (the
    /// gradient scores and the combination): how many per set, at most.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images_per_set: Option<usize>,
    /// Seconds the score cost beyond one likelihood pass over the sets (training its
    /// extra flows included).
    pub extra_seconds: f64,
    /// Metrics against each OOD set, the natural one first.
    pub ood: Vec<OodResult>,
}

/// One point of a hyper-parameter grid.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GridPoint {
    /// The setting, e.g. `mu 0.1, weight decay 0`.
    pub setting: String,
    /// AUROC on the validation pair (what the choice used).
    pub validation_auroc: f64,
    /// Gap between the validation pair's mean ratios in pooled standard deviations (what
    /// breaks a tie in AUROC).
    /// `None` when undefined (constant or non-finite values) and in older results files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_separation: Option<f64>,
    /// AUROC on the natural OOD set's scored subset: what an oracle choosing on the
    /// test OOD set would see; reported, never used.
    pub oracle_natural_auroc: f64,
}

impl crate::experiment::OodByRole for ScoreRow {
    fn ood_results(&self) -> &[OodResult] {
        &self.ood
    }
}
