//! What the OOD-scores table computes, and on which flows.

use serde::{Deserialize, Serialize};

use crate::experiment::config::SyntheticSet;

/// A score of the table beyond the log-likelihood (which is always its first row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreKind {
    /// `log p_θ(x) - log p_θ0(x)` against a background flow trained on mutated pixels.
    LikelihoodRatio,
    /// `-log2 p(x)` less the PNG and DEFLATE lengths (two rows).
    InputComplexity,
    /// `|log p(x) - H|`, one input at a time.
    Typicality,
    /// The typicality test on batches of `M` inputs (one row per `M`).
    TypicalityBatch,
    /// `‖∇_θ log p(x)‖`.
    GradientNorm,
    /// `∇ᵀ F⁻¹ ∇`, a diagonal Fisher from training images.
    ScoreStatistic,
    /// Kernel densities over the flow's traced statistics.
    Dose,
    /// Mean minus variance of `log p` over an ensemble.
    Waic,
    /// Fisher's combination of the typicality, score-statistic and DoSE p-values.
    FisherCombination,
}

impl ScoreKind {
    /// Every score, in table order.
    pub const ALL: [ScoreKind; 9] = [
        ScoreKind::LikelihoodRatio,
        ScoreKind::InputComplexity,
        ScoreKind::Typicality,
        ScoreKind::TypicalityBatch,
        ScoreKind::GradientNorm,
        ScoreKind::ScoreStatistic,
        ScoreKind::Dose,
        ScoreKind::Waic,
        ScoreKind::FisherCombination,
    ];
}

/// The presets' validation OOD set: held-out training images with a fifth of their
/// pixels replaced by noise. Up-down flips, the other candidate, leave every setting near
/// AUROC 0.5 on FashionMNIST (a flow cannot tell them apart), so the choice would be
/// noise; mutated images are told apart by every setting, and the tie is broken by the
/// separation (see the study's validation module). The rate is the middle of Ren et al.'s
/// grid, so that at the CPU sizes no background trained on exactly this noise.
pub const VALIDATION_MUTATION_RATE: f64 = 0.2;

/// The out-of-distribution half of the validation pair: a transform of held-out
/// in-distribution training images. In a configuration either a synthetic set's name
/// (`validation = "flip_vertical"`) or `validation = { mutation_rate = 0.2 }`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ValidationOod {
    /// The images under one of the synthetic transforms (flips, inversion, ...).
    Synthetic(SyntheticSet),
    /// The images with each pixel, with this probability, replaced by a uniform draw
    /// (`flow_data::mutate_pixels`): Ren et al.'s validation set when no OOD data is at
    /// hand.
    Mutated {
        /// The probability that a pixel is replaced.
        mutation_rate: f64,
    },
}

impl ValidationOod {
    /// What the transform does, for reports (`flipped up-down`).
    pub fn label(self) -> String {
        match self {
            ValidationOod::Synthetic(set) => set.label().to_string(),
            ValidationOod::Mutated { mutation_rate } => {
                format!("with each pixel replaced by noise with probability {mutation_rate}")
            }
        }
    }
}

/// The OOD-scores table of a run: every chosen score computed from one trained pixel
/// flow (and the flows it needs: backgrounds, ensemble members), in both directions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoresStudyConfig {
    /// The model (a name in `models`) whose flow the scores use; background flows and
    /// ensemble members copy its architecture and optimiser.
    pub model: String,
    /// The scores, beyond the log-likelihood.
    pub scores: Vec<ScoreKind>,
    /// Likelihood ratio: the background flows' pixel-mutation rates to choose from.
    pub mutation_rates: Vec<f64>,
    /// Likelihood ratio: the background flows' weight decays to choose from (L2 on every
    /// parameter, PyTorch's convention: the gradient of `λ/2 ‖θ‖²`).
    pub weight_decays: Vec<f64>,
    /// Training steps of the model's twin for the other direction (the model's own
    /// budget when unset). The background flows and ensemble members of a direction
    /// train as long as its flow: a ratio or an ensemble of flows trained to different
    /// budgets would measure the budget.
    #[serde(default)]
    pub twin_steps: Option<u64>,
    /// Flows of the WAIC ensemble: the direction's flow and `ensemble_size - 1` more,
    /// each trained from its own seed.
    pub ensemble_size: usize,
    /// DoSE: factors of Scott's bandwidth to choose from.
    pub kde_bandwidth_factors: Vec<f64>,
    /// Batch sizes `M` of the typicality batch test.
    pub typicality_batch_sizes: Vec<usize>,
    /// Images per set for the gradient scores and the combination (one backward pass
    /// per image).
    pub gradient_limit: usize,
    /// The validation OOD set for every choice of hyper-parameter: this transform of
    /// held-out in-distribution training images (never the natural OOD set, never a
    /// test image).
    pub validation: ValidationOod,
    /// In-distribution training images in the validation pair (and the calibration set
    /// of the combination's p-values).
    pub validation_size: usize,
    /// Also run the table with the datasets swapped (MNIST in, FashionMNIST out for a
    /// FashionMNIST run). The swapped table scores at most as many training images as
    /// leave `validation_size` of them held out.
    pub both_directions: bool,
}

impl ScoresStudyConfig {
    /// The table on `model` with every score, the grids and sizes given, validated on
    /// held-out training images mutated at [`VALIDATION_MUTATION_RATE`], in both
    /// directions.
    pub fn every_score(model: &str, twin_steps: Option<u64>, size: StudySize) -> Self {
        let (mutation_rates, weight_decays, ensemble_size) = match size {
            StudySize::Tiny | StudySize::Cpu => (vec![0.1, 0.3], vec![0.0], 2),
            StudySize::Quick => (vec![0.2], vec![0.0], 2),
            StudySize::Reference => (vec![0.1, 0.2, 0.3], vec![0.0, 10.0, 100.0], 5),
        };
        let (gradient_limit, validation_size) = match size {
            StudySize::Tiny => (20, 100),
            StudySize::Quick => (100, 500),
            StudySize::Cpu => (200, 1000),
            StudySize::Reference => (1000, 2000),
        };
        Self {
            model: model.to_string(),
            scores: ScoreKind::ALL.to_vec(),
            mutation_rates,
            weight_decays,
            twin_steps,
            ensemble_size,
            kde_bandwidth_factors: vec![0.5, 1.0, 2.0],
            typicality_batch_sizes: vec![1, 2, 5, 10],
            gradient_limit,
            validation: ValidationOod::Mutated {
                mutation_rate: VALIDATION_MUTATION_RATE,
            },
            validation_size,
            both_directions: true,
        }
    }

    /// Whether `kind` is in the table.
    pub fn has(&self, kind: ScoreKind) -> bool {
        self.scores.contains(&kind)
    }

    /// Every problem of the configuration (empty when it can run).
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let rates_ok = self.mutation_rates.iter().all(|r| (0.0..=1.0).contains(r));
        if self.has(ScoreKind::LikelihoodRatio) && (self.mutation_rates.is_empty() || !rates_ok) {
            problems.push("scores.mutation_rates: one or more rates in [0, 1]".to_string());
        }
        let decays_ok = self
            .weight_decays
            .iter()
            .all(|d| d.is_finite() && *d >= 0.0);
        if self.has(ScoreKind::LikelihoodRatio) && (self.weight_decays.is_empty() || !decays_ok) {
            problems.push("scores.weight_decays: one or more finite decays >= 0".to_string());
        }
        if self.has(ScoreKind::Waic) && self.ensemble_size < 2 {
            problems.push("scores.ensemble_size: at least 2 flows for WAIC".to_string());
        }
        let factors_ok = self
            .kde_bandwidth_factors
            .iter()
            .all(|f| f.is_finite() && *f > 0.0);
        if self.has(ScoreKind::Dose) && (self.kde_bandwidth_factors.is_empty() || !factors_ok) {
            problems.push("scores.kde_bandwidth_factors: one or more positive factors".into());
        }
        if self.typicality_batch_sizes.contains(&0) {
            problems.push("scores.typicality_batch_sizes: batches of at least 1".into());
        }
        if self.gradient_limit < 2 {
            problems.push("scores.gradient_limit: at least 2 images".into());
        }
        if self.validation_size < 2 {
            problems.push("scores.validation_size: at least 2 images".into());
        }
        if let ValidationOod::Mutated { mutation_rate } = self.validation {
            if !(0.0..=1.0).contains(&mutation_rate) {
                problems.push("scores.validation: a mutation rate in [0, 1]".into());
            }
        }
        if self.twin_steps == Some(0) {
            problems.push("scores.twin_steps: at least 1 when set".into());
        }
        problems
    }
}

/// How large a preset's table is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StudySize {
    /// CI: a handful of images per set.
    Tiny,
    /// The default preset: one background setting, the flow and one more in the
    /// ensemble, a hundred images per set for the gradients.
    Quick,
    /// A 2-core CPU: small grids and subsets.
    Cpu,
    /// The published grids (a GPU).
    Reference,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preset_tables_can_run_and_bad_grids_are_named() {
        for size in [
            StudySize::Tiny,
            StudySize::Quick,
            StudySize::Cpu,
            StudySize::Reference,
        ] {
            let config = ScoresStudyConfig::every_score("realnvp", Some(10), size);
            assert!(
                config.problems().is_empty(),
                "{size:?}: {:?}",
                config.problems()
            );
        }
        let mut bad = ScoresStudyConfig::every_score("realnvp", Some(0), StudySize::Tiny);
        bad.mutation_rates = vec![1.5];
        bad.weight_decays = vec![];
        bad.ensemble_size = 1;
        bad.kde_bandwidth_factors = vec![0.0];
        bad.typicality_batch_sizes = vec![0, 5];
        let problems = bad.problems().join("; ");
        for field in [
            "mutation_rates",
            "weight_decays",
            "ensemble_size",
            "kde_bandwidth_factors",
            "typicality_batch_sizes",
            "twin_steps",
        ] {
            assert!(problems.contains(field), "{field} missing from: {problems}");
        }
        bad.validation = ValidationOod::Mutated { mutation_rate: 2.0 };
        assert!(bad.problems().join("; ").contains("scores.validation"));
        bad.validation = ValidationOod::Mutated { mutation_rate: 0.2 };
        // A grid the table does not use is not a problem.
        bad.scores = vec![ScoreKind::Typicality];
        bad.twin_steps = None;
        bad.typicality_batch_sizes = vec![5];
        assert!(bad.problems().is_empty(), "{:?}", bad.problems());
    }
}

#[cfg(test)]
mod validation_tests {
    use super::*;

    #[test]
    fn the_validation_set_reads_as_a_synthetic_name_or_a_mutation_rate() {
        #[derive(Deserialize, Serialize)]
        struct Holder {
            validation: ValidationOod,
        }
        let flips: Holder = toml::from_str("validation = \"flip_vertical\"").unwrap();
        assert_eq!(
            flips.validation,
            ValidationOod::Synthetic(SyntheticSet::FlipVertical)
        );
        let mutated: Holder = toml::from_str("validation = { mutation_rate = 0.2 }").unwrap();
        assert_eq!(
            mutated.validation,
            ValidationOod::Mutated { mutation_rate: 0.2 }
        );
        // Written back the same way (the committed results' shape).
        assert_eq!(
            serde_json::to_string(&flips.validation).unwrap(),
            "\"flip_vertical\""
        );
        assert!(toml::from_str::<Holder>("validation = \"sideways\"").is_err());
    }
}
