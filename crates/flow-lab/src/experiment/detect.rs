//! Detection metrics and ROC curves of one scorer's in-distribution test scores against
//! each OOD set: the same for a pixel flow and for a detector on embeddings.

use flow_ood::{evaluate, roc_curve, BootstrapOptions, EvaluateOptions, Orientation, RocOptions};
use flow_plot::Curve;

use super::config::ExperimentConfig;
use super::{ExperimentError, OodResult};

/// Every OOD set's metrics, and its ROC curve ready to draw.
pub(super) struct Detection {
    /// Metrics per OOD set, in the order given.
    pub ood: Vec<OodResult>,
    /// ROC curves labelled with their AUROC.
    pub roc_curves: Vec<Curve>,
}

/// Scores of the given orientation; the in-distribution test set is the positive class;
/// bootstrap intervals with `config`'s resamples, seeded by `seed`.
pub(super) fn detect<'a>(
    model: &str,
    in_scores: &[f64],
    ood_sets: impl IntoIterator<Item = (&'a str, &'a [f64])>,
    orientation: Orientation,
    config: &ExperimentConfig,
    seed: u64,
) -> Result<Detection, ExperimentError> {
    let options = EvaluateOptions {
        bootstrap: Some(BootstrapOptions {
            resamples: config.eval.bootstrap_resamples,
            seed,
            ..BootstrapOptions::default()
        }),
        ..EvaluateOptions::default()
    };
    let mut ood = Vec::new();
    let mut roc_curves = Vec::new();
    for (set, scores) in ood_sets {
        let metric_error = |source| ExperimentError::Metric {
            model: model.to_string(),
            set: set.to_string(),
            source,
        };
        let metrics = evaluate(in_scores, scores, orientation, &options).map_err(metric_error)?;
        let curve = roc_curve(in_scores, scores, orientation, RocOptions::default())
            .map_err(metric_error)?;
        roc_curves.push(Curve::new(
            format!("{set} (AUROC {:.3})", metrics.auroc.value),
            curve.points.iter().map(|p| (p.fpr, p.tpr)).collect(),
        ));
        ood.push(OodResult {
            set: set.to_string(),
            metrics,
        });
    }
    Ok(Detection { ood, roc_curves })
}
