//! The embedding rows of a run: the study of [`crate::embedding`] (a classifier's
//! embeddings, a tabular flow and two Gaussian baselines on them) measured with the same
//! metrics as the pixel flows, and drawn with the same histogram and ROC figures.

use flow_kernels::FlowAutodiffBackend;
use std::path::Path;

use flow_plot::Series;
use serde::{Deserialize, Serialize};

use super::config::ExperimentConfig;
use super::detect::{detect, Detection};
use super::run::{EvalSets, RunContext, RunData};
use super::sets::ScoredSets;
use super::{ExperimentError, OodByRole, OodResult};
use crate::embedding::{
    run_embedding_study, Detector, DetectorScores, EmbeddingStudyConfig, EmbeddingStudySummary,
    StudyData,
};

/// The embedding rows of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmbeddingResults {
    /// The study: classifier (accuracy, cache), flow, timings, embedding files.
    pub summary: EmbeddingStudySummary,
    /// One row per detector.
    pub detectors: Vec<DetectorResult>,
}

/// One detector on the embeddings, scored like a pixel flow.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DetectorResult {
    /// Short name (table row and file names).
    pub name: String,
    /// What its score is.
    pub description: String,
    /// Parameters fitted on the embeddings (the classifier's are in the summary).
    pub params: usize,
    /// Mean score of each scored set.
    pub sets: ScoredSets<ScoreSummary>,
    /// Detection of each OOD set (the natural OOD set first).
    pub ood: Vec<OodResult>,
    /// Figures, relative to the run directory.
    pub figures: Vec<String>,
}

/// The mean score of one set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScoreSummary {
    /// The set.
    pub name: String,
    /// Images scored.
    pub images: usize,
    /// Mean score (higher = more in-distribution).
    pub mean_score: f64,
}

/// Runs the study on the run's data and scores its detectors against the in-distribution
/// test set: the natural OOD set in full, the synthetic sets as the pixel flows see them.
pub(super) fn run_embedding_rows<B: FlowAutodiffBackend>(
    study: &EmbeddingStudyConfig,
    config: &ExperimentConfig,
    data: &RunData,
    sets: &EvalSets,
    cache_dir: &Path,
    context: &RunContext<'_, B::Device>,
) -> Result<EmbeddingResults, ExperimentError> {
    let RunContext { dir, quiet, device } = *context;
    let natural = config.data.natural_ood_name();
    let mut ood = vec![(natural, &data.ood)];
    ood.extend(
        sets.further_ood
            .iter()
            .map(|set| (set.name.as_str(), &set.images)),
    );
    let study = &study.under_run_seed(config.seed);
    let study_result = run_embedding_study::<B>(
        study,
        StudyData {
            train: &data.train,
            test: &data.test,
            ood: &ood,
        },
        cache_dir,
        dir,
        quiet,
        device,
    )?;
    let classes = study.classifier.classes;
    let dim = study.classifier.embedding_dim;
    let gaussian = dim + dim * (dim + 1) / 2;
    let mut detectors = Vec::with_capacity(study_result.detectors.len());
    for scores in &study_result.detectors {
        let params = match scores.detector {
            Detector::EmbeddingFlow => study_result.summary.flow.params,
            Detector::Mahalanobis => gaussian,
            Detector::ClassConditionalMahalanobis => gaussian + (classes - 1) * dim,
        };
        detectors.push(detector_result(scores, params, config, dir)?);
    }
    Ok(EmbeddingResults {
        summary: study_result.summary,
        detectors,
    })
}

fn detector_result(
    scores: &DetectorScores,
    params: usize,
    config: &ExperimentConfig,
    dir: &Path,
) -> Result<DetectorResult, ExperimentError> {
    let name = scores.detector.name();
    let in_name = &config.data.name;
    let mut named: Vec<(String, &[f64])> = vec![
        (format!("{in_name} train"), &scores.in_train),
        (format!("{in_name} test"), &scores.in_test),
    ];
    named.extend(scores.ood.iter().map(|(n, s)| (n.clone(), s.as_slice())));
    let Detection { ood, roc_curves } = detect(
        name,
        &scores.in_test,
        scores.ood.iter().map(|(n, s)| (n.as_str(), s.as_slice())),
        flow_ood::Orientation::HigherIsInDistribution,
        config,
        config.seed,
    )?;

    let histogram = format!("{name}_histogram.png");
    let series: Vec<Series> = named
        .iter()
        .map(|(n, s)| Series::new(n.clone(), s.to_vec()))
        .collect();
    flow_plot::histogram_png(
        &dir.join(&histogram),
        &format!("{name}: score per image"),
        score_axis(scores.detector),
        &series,
        60,
    )?;
    let roc = format!("{name}_roc.png");
    flow_plot::roc_png(
        &dir.join(&roc),
        &format!("{name}: ROC, {in_name} test positive"),
        &roc_curves,
    )?;
    Ok(DetectorResult {
        name: name.to_string(),
        description: scores.detector.description().to_string(),
        params,
        sets: ScoredSets::try_from(
            named
                .iter()
                .map(|(n, s)| ScoreSummary {
                    name: n.clone(),
                    images: s.len(),
                    mean_score: s.iter().sum::<f64>() / s.len().max(1) as f64,
                })
                .collect::<Vec<_>>(),
        )
        .map_err(|reason| ExperimentError::Explain {
            model: name.to_string(),
            reason,
        })?,
        ood,
        figures: vec![histogram, roc],
    })
}

fn score_axis(detector: Detector) -> &'static str {
    match detector {
        Detector::EmbeddingFlow => "log-likelihood of the embedding, nats (higher = more likely)",
        Detector::Mahalanobis | Detector::ClassConditionalMahalanobis => {
            "-(squared Mahalanobis distance) (higher = closer)"
        }
    }
}

impl OodByRole for DetectorResult {
    fn ood_results(&self) -> &[OodResult] {
        &self.ood
    }
}
