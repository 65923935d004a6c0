//! The tables of docs/reproduction.md, written from one run's `results.json`.
//!
//! Every table starts with a line naming the run, its commit, machine and date, and
//! every verdict in a table ("MNIST more likely", "raises AUROC") is read off the
//! bootstrap intervals, so a rerun that changes a conclusion changes the text too.

use std::fmt::Write as _;

use flow_ood::MetricValue;

use super::DocsError;
use crate::experiment::with_interval;
use crate::experiment::{ExperimentResults, ModelResult, OodByRole, OodResult, SetSummary};

/// The pairs of claim 3, `(baseline, changed)`: the checkerboard stack against the
/// cycle-mask stack of the same depth, and the RealNVP without against with an
/// st-network bottleneck. The RealNVP baseline is `realnvp_short` where the run has
/// one (the main RealNVP trained on the comparison's budget), else `realnvp`.
const BIAS_PAIRS: [(&[&str], &str, &str); 2] = [
    (&["checker8"], "cycle8", "cycle mask"),
    (
        &["realnvp_short", "realnvp"],
        "realnvp_bottleneck",
        "st-network bottleneck",
    ),
];

/// Every generated section of one run, by section name (`<prefix>-<table>`).
pub struct ClaimTables<'a> {
    results: &'a ExperimentResults,
    command: &'a str,
}

impl<'a> ClaimTables<'a> {
    /// The tables of `results`, whose run was made by `command` (as a user types it).
    pub fn new(results: &'a ExperimentResults, command: &'a str) -> Self {
        Self { results, command }
    }

    /// The section `table` (`run`, `training`, `likelihood`, `bias`, `synthetic`,
    /// `layers`, `negative`, `embedding`, `scores`), each but `run` under the run's
    /// stamp.
    ///
    /// # Errors
    /// [`DocsError::NoResults`] when the run holds nothing for the table or `table` is
    /// not one of these names.
    pub fn section(&self, table: &str) -> Result<String, DocsError> {
        let r = self.results;
        let body = match table {
            "run" => return Ok(run_stamp(r, self.command)),
            "training" => training_table(r),
            "likelihood" => likelihood_table(r)?,
            "bias" => bias_table(r)?,
            "synthetic" => synthetic_table(r)?,
            "layers" => layer_terms_table(r)?,
            "negative" => negative_table(r)?,
            "embedding" => embedding_table(r)?,
            "scores" => scores_table(r)?,
            other => return Err(DocsError::NoResults(other.to_string())),
        };
        Ok(format!("*{}*\n\n{body}", short_stamp(r)))
    }
}

/// A paragraph naming the run: its id and command, commit, machine, start date, backend
/// and wall time.
pub fn run_stamp(results: &ExperimentResults, command: &str) -> String {
    let origin = results.provenance.as_ref().map_or_else(
        || "commit, machine and date not recorded".to_string(),
        |p| {
            format!(
                "commit `{}`, {}, started {} UTC",
                p.commit, p.machine, p.date
            )
        },
    );
    format!(
        "Run `{}`: `{command}` ({origin}; backend {}): {:.1} minutes of wall time for the \
         whole run, training, scoring, figures and embedding rows included.\n",
        results.run_id,
        results.backend,
        results.wall_seconds / 60.0
    )
}

/// The one-line stamp above each table.
fn short_stamp(results: &ExperimentResults) -> String {
    match &results.provenance {
        Some(p) => format!("Run `{}`, {p}.", results.run_id),
        None => format!("Run `{}`.", results.run_id),
    }
}

/// The interval of `value`, or the point itself when none was computed.
fn bounds(value: &MetricValue) -> (f64, f64) {
    value
        .interval
        .map_or((value.value, value.value), |ci| (ci.lower, ci.upper))
}

/// The set called `name` among a model's scored sets.
fn set<'m>(model: &'m ModelResult, name: &str) -> Option<&'m SetSummary> {
    model.sets.iter().find(|s| s.name == name)
}

/// Mean bits/dim of the set called `name`, or `n/a`.
fn bits(model: &ModelResult, name: &str) -> String {
    set(model, name).map_or_else(|| "n/a".into(), |s| format!("{:.3}", s.mean_bits_per_dim))
}

/// The detection of the natural OOD set: the first entry (negative-training models put
/// their held-out split there).
fn natural(model: &ModelResult) -> Option<&OodResult> {
    model.natural_ood()
}

/// The models trained by maximum likelihood alone.
fn plain_models(results: &ExperimentResults) -> impl Iterator<Item = &ModelResult> {
    results.models.iter().filter(|m| m.negative.is_none())
}

fn model<'r>(results: &'r ExperimentResults, name: &str) -> Option<&'r ModelResult> {
    results.models.iter().find(|m| m.name == name)
}

/// What each model is and how it was trained.
pub fn training_table(results: &ExperimentResults) -> String {
    let mut table = String::from(
        "| model | what it is | trainable params | steps x batch | learning rate | train time | \
         images/s | train bits/dim, last 10% of steps |\n|---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for m in &results.models {
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} x {} | {} | {:.0} s | {:.1} | {:.3} |",
            m.name,
            m.description,
            m.params,
            m.steps,
            m.batch_size,
            m.learning_rate,
            m.train_seconds,
            m.train_images_per_sec,
            m.final_train_bits_per_dim
        );
    }
    table
}

/// Whether the OOD set is more likely than the in-distribution test set, read off the
/// AUROC interval (in-distribution positive).
fn ood_preferred(auroc: &MetricValue) -> &'static str {
    match bounds(auroc) {
        (_, hi) if hi < 0.5 => "**yes** (interval below 0.5)",
        (lo, _) if lo > 0.5 => "no (interval above 0.5)",
        _ => "undecided (interval holds 0.5)",
    }
}

/// Claim 1: bits/dim of the in-distribution train and test sets and of the natural OOD
/// set, and the detection of the latter by log-likelihood, for every plainly trained
/// model.
///
/// # Errors
/// [`DocsError::NoResults`] when no model was trained by maximum likelihood alone.
pub fn likelihood_table(results: &ExperimentResults) -> Result<String, DocsError> {
    let (id, ood) = (&results.in_distribution, &results.out_of_distribution);
    let mut table = format!(
        "| model | bits/dim {id} train | bits/dim {id} test | bits/dim {ood} | AUROC | \
         AUPR-In | FPR@95 | {ood} more likely? |\n|---|---:|---:|---:|---|---|---|---|\n"
    );
    let mut rows = 0;
    for m in plain_models(results) {
        let Some(o) = natural(m) else { continue };
        let fpr = o
            .metrics
            .fpr_at_tpr
            .first()
            .map_or_else(|| "n/a".into(), with_interval);
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} | {} | {} | {fpr} | {} |",
            m.name,
            bits(m, &format!("{id} train")),
            bits(m, &format!("{id} test")),
            bits(m, &o.set),
            with_interval(&o.metrics.auroc),
            with_interval(&o.metrics.aupr_in),
            ood_preferred(&o.metrics.auroc)
        );
        rows += 1;
    }
    if rows == 0 {
        return Err(DocsError::NoResults("likelihood".into()));
    }
    let _ = write!(
        table,
        "\nImages per set: {}.\n",
        set_sizes(results.models.first())
    );
    Ok(table)
}

/// `name: images` for every set a model scored.
fn set_sizes(model: Option<&ModelResult>) -> String {
    model.map_or_else(
        || "n/a".into(),
        |m| {
            m.sets
                .iter()
                .map(|s| format!("{} {}", s.name, s.images))
                .collect::<Vec<_>>()
                .join(", ")
        },
    )
}

/// How the changed model's AUROC compares with the baseline's, read off the intervals.
fn auroc_change(baseline: &MetricValue, changed: &MetricValue) -> &'static str {
    let (base_lo, base_hi) = bounds(baseline);
    let (lo, hi) = bounds(changed);
    if lo > base_hi {
        "**raises AUROC** (intervals apart)"
    } else if hi < base_lo {
        "lowers AUROC (intervals apart)"
    } else {
        "no clear change (intervals overlap)"
    }
}

/// Claim 3: each change of the couplings' bias against its baseline of the same depth,
/// width and budget.
///
/// # Errors
/// [`DocsError::NoResults`] when the run holds neither pair.
pub fn bias_table(results: &ExperimentResults) -> Result<String, DocsError> {
    let id = &results.in_distribution;
    let mut table = format!(
        "| change | baseline | its bits/dim {id} test | its AUROC | with the change | bits/dim | \
         AUROC | bits/dim cost | verdict |\n|---|---|---:|---|---|---:|---|---:|---|\n"
    );
    let mut rows = 0;
    for (baselines, changed_name, change) in BIAS_PAIRS {
        let Some(base) = baselines.iter().find_map(|name| model(results, name)) else {
            continue;
        };
        let Some(changed) = model(results, changed_name) else {
            continue;
        };
        let (Some(base_ood), Some(changed_ood)) = (natural(base), natural(changed)) else {
            continue;
        };
        let test = format!("{id} test");
        let cost = match (set(base, &test), set(changed, &test)) {
            (Some(b), Some(c)) => format!("{:+.3}", c.mean_bits_per_dim - b.mean_bits_per_dim),
            _ => "n/a".into(),
        };
        let _ = writeln!(
            table,
            "| {change} | {} ({} steps) | {} | {} | {} ({} steps) | {} | {} | {cost} | {} |",
            base.name,
            base.steps,
            bits(base, &test),
            with_interval(&base_ood.metrics.auroc),
            changed.name,
            changed.steps,
            bits(changed, &test),
            with_interval(&changed_ood.metrics.auroc),
            auroc_change(&base_ood.metrics.auroc, &changed_ood.metrics.auroc)
        );
        rows += 1;
    }
    if rows == 0 {
        return Err(DocsError::NoResults("bias".into()));
    }
    Ok(table)
}

/// AUROC of the log-likelihood against every OOD set beyond the natural one, per plainly
/// trained model.
///
/// # Errors
/// [`DocsError::NoResults`] when no model scored a synthetic set.
pub fn synthetic_table(results: &ExperimentResults) -> Result<String, DocsError> {
    let Some(first) = plain_models(results).find(|m| !m.further_ood().is_empty()) else {
        return Err(DocsError::NoResults("synthetic".into()));
    };
    let names: Vec<&str> = first.further_ood().iter().map(|o| o.set.as_str()).collect();
    let mut table = format!("| model | {} |\n|---|", names.join(" | "));
    table.push_str(&"---|".repeat(names.len()));
    table.push('\n');
    for m in plain_models(results) {
        let _ = writeln!(table, "| {} | {} |", m.name, auroc_cells(&m.ood, &names));
    }
    Ok(table)
}

/// The traced layers that are not couplings: Glow's ActNorm and invertible 1x1
/// convolutions (flow-core names them `...actnorm` and `...invconv`).
const NON_COUPLING_LAYERS: [&str; 2] = ["actnorm", "invconv"];

/// The AUROC against each set of `names`, with its interval, as table cells.
fn auroc_cells(ood: &[OodResult], names: &[&str]) -> String {
    names
        .iter()
        .map(|name| {
            ood.iter()
                .find(|o| o.set == *name)
                .map_or_else(|| "n/a".into(), |o| with_interval(&o.metrics.auroc))
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

/// The mean terms of `log p(x)` of one set, grouped: the preprocessing (the layer
/// traced as `preprocess`), the couplings, the other layers ([`NON_COUPLING_LAYERS`]), the prior and the
/// constant.
fn grouped_terms(set: &SetSummary) -> Option<[f64; 5]> {
    let layers = set.layers.as_ref()?;
    let mut terms = [0.0, 0.0, 0.0, layers.prior, layers.constant];
    for (name, log_det) in layers.layers.iter().zip(&layers.log_det) {
        let group = if name == "preprocess" {
            0
        } else if NON_COUPLING_LAYERS.iter().any(|kind| name.ends_with(kind)) {
            2
        } else {
            1
        };
        terms[group] += log_det;
    }
    Some(terms)
}

/// Claim 2's accounting: for every plainly trained model, the mean of each group of
/// terms of `log p(x)` on the natural OOD set minus on the in-distribution test set, in
/// nats per image (positive: the OOD set gains likelihood there).
///
/// # Errors
/// [`DocsError::NoResults`] when no model traced its layers.
pub fn layer_terms_table(results: &ExperimentResults) -> Result<String, DocsError> {
    let test = format!("{} test", results.in_distribution);
    let mut table = String::from(
        "| model | preprocessing (logit) | all couplings | other layers | prior log N(z) | \
         total | couplings' share of the total |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut rows = 0;
    for m in plain_models(results) {
        let Some(o) = natural(m) else { continue };
        let (Some(a), Some(b)) = (
            set(m, &o.set).and_then(grouped_terms),
            set(m, &test).and_then(grouped_terms),
        ) else {
            continue;
        };
        let d: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x - y).collect();
        let total: f64 = d.iter().sum();
        let share = if total.abs() > f64::EPSILON {
            format!("{:.0}%", 100.0 * d[1] / total)
        } else {
            "n/a".into()
        };
        let _ = writeln!(
            table,
            "| {} | {:+.0} | {:+.0} | {:+.0} | {:+.0} | {:+.0} | {share} |",
            m.name, d[0], d[1], d[2], d[3], total
        );
        rows += 1;
    }
    if rows == 0 {
        return Err(DocsError::NoResults("layers".into()));
    }
    Ok(table)
}

/// Appendix B: each negatively trained model beside its plain baseline, on the
/// held-out OOD images neither trained on.
///
/// # Errors
/// [`DocsError::NoResults`] when no model was trained negatively.
pub fn negative_table(results: &ExperimentResults) -> Result<String, DocsError> {
    let test = format!("{} test", results.in_distribution);
    let mut table = String::from(
        "| model | bits/dim in-distribution test | held-out OOD set | bits/dim held out | \
         AUROC, held out |\n|---|---:|---|---:|---|\n",
    );
    let mut rows = 0;
    for m in &results.models {
        let (Some(n), Some(o)) = (&m.negative, natural(m)) else {
            continue;
        };
        let held_out = format!("{}, {} images", n.held_out_set, n.held_out_images);
        if let Some(base) = n.baseline.as_deref().and_then(|b| model(results, b)) {
            let _ = writeln!(
                table,
                "| {} (plain, {} steps) | {} | {held_out} | {} | {} |",
                base.name,
                base.steps,
                bits(base, &test),
                n.baseline_held_out_bits_per_dim
                    .map_or_else(|| "n/a".into(), |b| format!("{b:.3}")),
                n.baseline_auroc
                    .as_ref()
                    .map_or_else(|| "n/a".into(), with_interval),
            );
        }
        let _ = writeln!(
            table,
            "| {} (negative, hinge {} nats, against {} OOD training images, {} steps) | {} | \
             {held_out} | {} | {} |",
            m.name,
            n.hinge_nats,
            n.ood_train_images,
            m.steps,
            bits(m, &test),
            bits(m, &o.set),
            with_interval(&o.metrics.auroc),
        );
        rows += 1;
    }
    if rows == 0 {
        return Err(DocsError::NoResults("negative".into()));
    }
    Ok(table)
}

/// The AUROC a single-sample score must reach on the natural OOD set for claim 5's goal.
const CLAIM5_GOAL_AUROC: f64 = 0.95;

/// Claim 5: every OOD score on the same flow, in both directions, with the best
/// single-sample score and whether its interval clears the goal.
///
/// # Errors
/// [`DocsError::NoResults`] when the run had no OOD-scores table.
pub fn scores_table(results: &ExperimentResults) -> Result<String, DocsError> {
    let Some(scores) = results.scores.as_ref().filter(|s| !s.directions.is_empty()) else {
        return Err(DocsError::NoResults("scores".into()));
    };
    let mut text = String::new();
    for direction in &scores.directions {
        let _ = writeln!(
            text,
            "**{} -> {}** (flow `{}`, {} steps; validation: {}):\n",
            direction.in_distribution,
            direction.out_of_distribution,
            direction.model,
            direction.steps,
            direction.validation
        );
        text.push_str(&direction.summary_table());
        if let Some((row, best)) = direction.best_single_sample() {
            let (lower, _) = bounds(&best.metrics.auroc);
            let verdict = if lower >= CLAIM5_GOAL_AUROC {
                "reaches the goal of 0.95 (its whole interval is above it)"
            } else if best.metrics.auroc.value >= CLAIM5_GOAL_AUROC {
                "reaches 0.95, but its interval reaches below"
            } else {
                "stays below the goal of 0.95"
            };
            let _ = writeln!(
                text,
                "\nBest single-sample score on {}: {}, AUROC {}: it {verdict}.\n",
                best.set,
                row.score,
                with_interval(&best.metrics.auroc)
            );
        }
    }
    Ok(text)
}

/// Claim 4: the classifier, and every detector on its embeddings against every OOD set
/// (AUROC), with the natural set's AUPR-In and FPR@95.
///
/// # Errors
/// [`DocsError::NoResults`] when the run had no embedding rows.
pub fn embedding_table(results: &ExperimentResults) -> Result<String, DocsError> {
    let Some(embedding) = &results.embedding else {
        return Err(DocsError::NoResults("embedding".into()));
    };
    let c = &embedding.summary.classifier;
    let f = &embedding.summary.flow;
    let mut table = format!(
        "Classifier: {} trainable parameters, trained on {} images, **{:.2}% test \
         accuracy**. Tabular flow: {} parameters, fitted on {} embeddings.\n\n",
        c.params,
        c.train_images,
        100.0 * c.test_accuracy,
        f.params,
        f.fit_embeddings
    );
    let Some(first) = embedding.detectors.first() else {
        return Err(DocsError::NoResults("embedding".into()));
    };
    let names: Vec<&str> = first.ood.iter().map(|o| o.set.as_str()).collect();
    let _ = write!(
        table,
        "| detector | AUPR-In, {0} | FPR@95, {0} | AUROC: {1} |\n|---|---|---|",
        results.out_of_distribution,
        names.join(" | ")
    );
    table.push_str(&"---|".repeat(names.len()));
    table.push('\n');
    for d in &embedding.detectors {
        let natural = d.natural_ood();
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} |",
            d.description,
            natural.map_or_else(|| "n/a".into(), |o| with_interval(&o.metrics.aupr_in)),
            natural
                .and_then(|o| o.metrics.fpr_at_tpr.first())
                .map_or_else(|| "n/a".into(), with_interval),
            auroc_cells(&d.ood, &names)
        );
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::explain::LayerBreakdown;
    use flow_ood::{ConfidenceInterval, Metric};

    fn auroc(value: f64, lower: f64, upper: f64) -> MetricValue {
        MetricValue {
            name: "auroc".into(),
            metric: Metric::Auroc,
            convention: String::new(),
            value,
            interval: Some(ConfidenceInterval {
                lower,
                upper,
                level: 0.95,
            }),
        }
    }

    #[test]
    fn verdicts_follow_the_intervals() {
        assert!(ood_preferred(&auroc(0.1, 0.08, 0.12)).contains("yes"));
        assert!(ood_preferred(&auroc(0.9, 0.88, 0.92)).starts_with("no"));
        assert!(ood_preferred(&auroc(0.48, 0.45, 0.51)).starts_with("undecided"));
        let base = auroc(0.10, 0.08, 0.12);
        assert!(auroc_change(&base, &auroc(0.2, 0.15, 0.25)).contains("raises"));
        assert!(auroc_change(&base, &auroc(0.05, 0.03, 0.07)).starts_with("lowers"));
        assert!(auroc_change(&base, &auroc(0.13, 0.11, 0.15)).starts_with("no clear"));
    }

    #[test]
    fn layer_terms_are_grouped_by_kind_and_keep_the_total() {
        let layers = LayerBreakdown {
            layers: vec![
                "preprocess".into(),
                "scale0.step0.actnorm".into(),
                "scale0.step0.invconv".into(),
                "scale0.step0.coupling".into(),
                "scale0.checkerboard0".into(),
            ],
            log_det: vec![100.0, 1.0, 2.0, 30.0, 40.0],
            prior: -500.0,
            constant: -7.0,
            samples: 4,
        };
        let set = SetSummary {
            name: "x".into(),
            images: 4,
            mean_bits_per_dim: 0.0,
            mean_log_likelihood: layers.total(),
            non_finite: 0,
            layers: Some(layers.clone()),
        };
        let terms = grouped_terms(&set).unwrap();
        assert_eq!(terms, [100.0, 70.0, 3.0, -500.0, -7.0]);
        assert!((terms.iter().sum::<f64>() - layers.total()).abs() < 1e-12);
    }
}
