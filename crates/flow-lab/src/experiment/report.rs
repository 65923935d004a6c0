//! The results of a run, as JSON and as a Markdown report.

use std::fmt::Write as _;
use std::path::Path;

use flow_ood::{MetricReport, MetricValue};
use serde::{Deserialize, Serialize};

use super::embedding_rows::{DetectorResult, EmbeddingResults};
use super::sets::ScoredSets;
use super::ExperimentError;

/// Mean bits/dim of one scored set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetSummary {
    /// The set.
    pub name: String,
    /// Images scored.
    pub images: usize,
    /// Mean bits/dim over the images whose likelihood is finite.
    pub mean_bits_per_dim: f64,
    /// Mean log-likelihood in nats over the same images.
    pub mean_log_likelihood: f64,
    /// Images left out of both means because their likelihood is NaN or infinite
    /// (zero in results written before it was counted, which had no such images or
    /// said so nowhere).
    #[serde(default)]
    pub non_finite: usize,
    /// Its mean terms per layer and the prior.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layers: Option<super::explain::LayerBreakdown>,
}

/// Detection of one OOD set against the in-distribution test set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OodResult {
    /// The OOD set.
    pub set: String,
    /// Every metric, with its convention and bootstrap interval.
    pub metrics: MetricReport,
}

/// Detection results by role. Results files keep one list per row, the natural OOD set
/// first (then the synthetic sets, then any further named set of the data); this is the
/// one place that knows the order.
pub trait OodByRole {
    /// Every OOD set's detection, in the file's order.
    fn ood_results(&self) -> &[OodResult];

    /// The natural OOD set's detection (MNIST for a FashionMNIST run).
    fn natural_ood(&self) -> Option<&OodResult> {
        self.ood_results().first()
    }

    /// The detection of every OOD set after the natural one.
    fn further_ood(&self) -> &[OodResult] {
        self.ood_results().get(1..).unwrap_or(&[])
    }
}

impl OodByRole for ModelResult {
    fn ood_results(&self) -> &[OodResult] {
        &self.ood
    }
}

/// Everything measured for one model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelResult {
    /// Short name.
    pub name: String,
    /// What the model is.
    pub description: String,
    /// Trainable parameters.
    pub params: usize,
    /// Optimiser steps taken.
    pub steps: u64,
    /// Batch size.
    pub batch_size: usize,
    /// Learning rate.
    pub learning_rate: f64,
    /// Training wall time in seconds.
    pub train_seconds: f64,
    /// Training throughput.
    pub train_images_per_sec: f64,
    /// Mean training loss (bits/dim) over the last 10% of steps.
    pub final_train_bits_per_dim: f64,
    /// Mean bits/dim of each scored set.
    pub sets: ScoredSets<SetSummary>,
    /// Detection of each OOD set (the natural OOD set first).
    pub ood: Vec<OodResult>,
    /// Figures, relative to the run directory.
    pub figures: Vec<String>,
    /// For negative training: what it trained against and how a plain model does on
    /// the same held-out images.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub negative: Option<NegativeResult>,
}

/// Negative training of one model beside a plain baseline.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NegativeResult {
    /// The hinge, in nats.
    pub hinge_nats: f64,
    /// OOD images trained against.
    pub ood_train_images: usize,
    /// The held-out OOD set the model is evaluated on (its first OOD set).
    pub held_out_set: String,
    /// Images in it.
    pub held_out_images: usize,
    /// The plain model compared with.
    pub baseline: Option<String>,
    /// The baseline's AUROC on the same held-out images (its own in-distribution test
    /// scores positive).
    pub baseline_auroc: Option<MetricValue>,
    /// The baseline's mean bits/dim on the held-out images.
    pub baseline_held_out_bits_per_dim: Option<f64>,
}

/// The whole run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExperimentResults {
    /// Run id (directory name).
    pub run_id: String,
    /// The configuration that ran.
    pub config: super::ExperimentConfig,
    /// Backend used.
    pub backend: String,
    /// In-distribution dataset.
    pub in_distribution: String,
    /// Natural OOD dataset.
    pub out_of_distribution: String,
    /// Per model.
    pub models: Vec<ModelResult>,
    /// The embedding rows, if the run had them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedding: Option<EmbeddingResults>,
    /// The OOD-scores table, if the run had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<super::scores::ScoresResults>,
    /// Figures of the whole run (the mask schedules), relative to the run directory.
    pub figures: Vec<String>,
    /// Wall time of the whole run, in seconds: the sum of `session_seconds`.
    pub wall_seconds: f64,
    /// Wall time of each session that worked on the run, in seconds: one, or more
    /// when it was resumed. An interrupted session counts up to the last time it saved
    /// its results (after each model); empty in results written before it was kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub session_seconds: Vec<f64>,
    /// The commit, machine and UTC time of the run (absent in results written before
    /// it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<crate::provenance::Provenance>,
}

/// AUROC, AUPR-In and FPR@95 against the first (natural) OOD set, with intervals.
pub(super) fn headline(ood: &[OodResult]) -> (String, String, String) {
    match ood.first() {
        Some(o) => (
            with_interval(&o.metrics.auroc),
            with_interval(&o.metrics.aupr_in),
            o.metrics
                .fpr_at_tpr
                .first()
                .map_or_else(|| "n/a".into(), with_interval),
        ),
        None => ("n/a".into(), "n/a".into(), "n/a".into()),
    }
}

/// `MNIST, 10000 images`: which set a cell is about.
fn set_label(name: &str, images: usize) -> String {
    format!("{name}, {images} images")
}

/// A set's mean bits/dim, saying how many images it leaves out.
fn bits_cell(set: &SetSummary) -> String {
    match set.non_finite {
        0 => format!("{:.3}", set.mean_bits_per_dim),
        n => format!("{:.3} ({n} non-finite left out)", set.mean_bits_per_dim),
    }
}

/// Formats a metric as `0.123 [0.100, 0.150]`.
pub fn with_interval(value: &MetricValue) -> String {
    match &value.interval {
        Some(ci) => format!("{:.3} [{:.3}, {:.3}]", value.value, ci.lower, ci.upper),
        None => format!("{:.3}", value.value),
    }
}

impl ExperimentResults {
    /// Where the first non-finite number in the results sits (e.g.
    /// `models[1].sets[2].mean_bits_per_dim`), or `None` when every number that
    /// `results.json` holds is finite; the walk covers the serialized file, so a field
    /// added later is covered without being named here.
    pub fn first_non_finite(&self) -> Option<String> {
        super::finite::first_non_finite(self)
    }

    /// Whether every number in `results.json` is finite (CI checks this).
    pub fn all_finite(&self) -> bool {
        self.first_non_finite().is_none()
    }

    /// Records the wall time: the earlier sessions' and this one's so far.
    pub fn set_wall_time(&mut self, earlier_sessions: &[f64], this_session: std::time::Duration) {
        self.session_seconds = earlier_sessions.to_vec();
        self.session_seconds.push(this_session.as_secs_f64());
        self.wall_seconds = self.session_seconds.iter().sum();
    }

    /// The run's wall time, and over how many sessions when it was resumed.
    fn wall_time(&self) -> String {
        match self.session_seconds.len() {
            0 | 1 => format!("{:.0} s", self.wall_seconds),
            n => format!(
                "{:.0} s over {n} sessions (resumed; an interrupted session counts up to its \
                 last saved result)",
                self.wall_seconds
            ),
        }
    }

    /// The embedding rows' detectors (none if the run had no embedding rows).
    fn detectors(&self) -> &[DetectorResult] {
        self.embedding.as_ref().map_or(&[], |e| &e.detectors)
    }

    /// The Markdown report.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# flows-ood experiment `{}`\n", self.run_id);
        let _ = writeln!(
            md,
            "In-distribution: **{}** (trained on its training split, scored on its test \
             split). Out-of-distribution: **{}** and synthetic sets made from the {} test \
             images. Backend: {}. Wall time: {}.\n",
            self.in_distribution,
            self.out_of_distribution,
            self.in_distribution,
            self.backend,
            self.wall_time()
        );
        if let Some(p) = &self.provenance {
            let _ = writeln!(
                md,
                "Run from commit `{}` on {}, started {} UTC.\n",
                p.commit, p.machine, p.date
            );
        }
        let _ = writeln!(
            md,
            "Score: log-likelihood; in-distribution is the positive class; AUROC below 0.5 \
             means the flow gives the OOD set *higher* likelihood. Intervals: 95% percentile \
             bootstrap ({} resamples). FPR@95: {}.\n",
            self.config.eval.bootstrap_resamples,
            self.models
                .first()
                .and_then(|m| m.natural_ood())
                .and_then(|o| o.metrics.fpr_at_tpr.first())
                .map_or_else(|| "n/a".to_string(), |v| v.convention.clone())
        );
        let _ = writeln!(
            md,
            "## {} vs {}\n",
            self.in_distribution, self.out_of_distribution
        );
        let _ = writeln!(
            md,
            "| model | description | params | train time | in-distribution set | bits/dim | OOD set | bits/dim | AUROC | AUPR-In | FPR@95 |"
        );
        let _ = writeln!(md, "|---|---|---:|---:|---|---:|---|---:|---|---|---|");
        for m in &self.models {
            let (auroc, aupr, fpr) = headline(&m.ood);
            let (test, ood) = (&m.sets.in_test, &m.sets.natural_ood);
            let _ = writeln!(
                md,
                "| {} | {} | {} | {:.0} s | {} | {} | {} | {} | {} | {} | {} |",
                m.name,
                m.description,
                m.params,
                m.train_seconds,
                set_label(&test.name, test.images),
                bits_cell(test),
                set_label(&ood.name, ood.images),
                bits_cell(ood),
                auroc,
                aupr,
                fpr
            );
        }
        if let Some(embedding) = &self.embedding {
            let train_seconds = embedding.summary.timings.total;
            for d in &embedding.detectors {
                let (auroc, aupr, fpr) = headline(&d.ood);
                let (test, ood) = (&d.sets.in_test, &d.sets.natural_ood);
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {:.0} s (whole study) | {} | n/a | {} | n/a | {} | {} | {} |",
                    d.name,
                    d.description,
                    d.params,
                    train_seconds,
                    set_label(&test.name, test.images),
                    set_label(&ood.name, ood.images),
                    auroc,
                    aupr,
                    fpr
                );
            }
        }
        let _ = writeln!(md, "\n## AUROC against every OOD set\n");
        if let Some(first) = self.models.first() {
            let header: Vec<&OodResult> = first.ood.iter().collect();
            let names: Vec<&str> = header.iter().map(|o| o.set.as_str()).collect();
            let _ = writeln!(
                md,
                "A cell names its set where a row scored another one than the column's.\n"
            );
            let _ = writeln!(md, "| model | {} |", names.join(" | "));
            let _ = writeln!(md, "|---|{}", "---|".repeat(names.len()));
            let rows = self
                .models
                .iter()
                .map(|m| (&m.name, &m.ood))
                .chain(self.detectors().iter().map(|d| (&d.name, &d.ood)));
            for (name, ood) in rows {
                let cells: Vec<String> = ood
                    .iter()
                    .enumerate()
                    .map(|(i, o)| {
                        let value = with_interval(&o.metrics.auroc);
                        if names.get(i) == Some(&o.set.as_str()) {
                            value
                        } else {
                            format!("{value} ({})", o.set)
                        }
                    })
                    .collect();
                let _ = writeln!(md, "| {} | {} |", name, cells.join(" | "));
            }
        }
        self.embedding_section(&mut md);
        if let Some(scores) = &self.scores {
            scores.markdown(&mut md);
        }
        let _ = writeln!(md, "\n## Mean bits/dim of every scored set\n");
        if let Some(first) = self.models.first() {
            let header: Vec<&SetSummary> = first.sets.iter().collect();
            let labels: Vec<String> = header
                .iter()
                .map(|s| set_label(&s.name, s.images))
                .collect();
            let _ = writeln!(
                md,
                "A cell names its set and size where a row scored another one than the \
                 column's; means leave out images whose likelihood is not finite and say how \
                 many.\n"
            );
            let _ = writeln!(md, "| model | {} |", labels.join(" | "));
            let _ = writeln!(md, "|---|{}", "---:|".repeat(labels.len()));
            for m in &self.models {
                let cells: Vec<String> = m
                    .sets
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let same = header
                            .get(i)
                            .is_some_and(|h| h.name == s.name && h.images == s.images);
                        if same {
                            bits_cell(s)
                        } else {
                            format!("{} ({})", bits_cell(s), set_label(&s.name, s.images))
                        }
                    })
                    .collect();
                let _ = writeln!(md, "| {} | {} |", m.name, cells.join(" | "));
            }
        }
        let _ = writeln!(md, "\n## Training\n");
        let _ = writeln!(
            md,
            "| model | steps | batch | lr | images/s | final train bits/dim |"
        );
        let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|");
        for m in &self.models {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {:e} | {:.1} | {:.3} |",
                m.name,
                m.steps,
                m.batch_size,
                m.learning_rate,
                m.train_images_per_sec,
                m.final_train_bits_per_dim
            );
        }
        self.negative_section(&mut md);
        if !self.figures.is_empty() {
            let _ = writeln!(md, "\n## Mask schedules\n");
            for figure in &self.figures {
                let _ = writeln!(md, "![{figure}]({figure})\n");
            }
        }
        let _ = writeln!(
            md,
            "\n## Reading the figures\n\n\
             Per model: `histogram` (bits/dim of every set, shared bins), `roc`, `training`, \
             `samples`; and why it scores as it does: `latent` (z laid back on the pixel \
             grid, one dequantization draw and the mean of 16), `couplings` (each \
             coupling's s, t and output for one in- and one OOD image; white = 0, untouched), \
             `layers` and `layer_gain` (mean contribution of each layer's log-det and of the \
             prior to log p(x), and each OOD set's gain over the in-distribution test set), \
             `coadaptation` (single-scale flows: what each layer predicts for the part it \
             transforms). docs/reproduction.md discusses them."
        );
        let figure_lists = self
            .models
            .iter()
            .map(|m| (&m.name, &m.figures))
            .chain(self.detectors().iter().map(|d| (&d.name, &d.figures)));
        for (name, figures) in figure_lists {
            let _ = writeln!(md, "\n## {name}: figures\n");
            for figure in figures {
                let _ = writeln!(md, "![{figure}]({figure})\n");
            }
        }
        md
    }

    /// The embedding study: the classifier, the flow, the sets, the time of each stage.
    fn embedding_section(&self, md: &mut String) {
        let Some(embedding) = &self.embedding else {
            return;
        };
        let s = &embedding.summary;
        let sets = embedding.detectors.first().map(|d| &d.sets);
        let in_test_images = sets.map_or(0, |s| s.in_test.images);
        let natural_images = sets.map_or(0, |s| s.natural_ood.images);
        let _ = writeln!(md, "\n## Embedding rows\n");
        let _ = writeln!(
            md,
            "A CNN classifier ({} parameters) trained with labels on {} {} training images \
             ({} epoch(s){}) reaches **{:.2}% test accuracy**; its {}-dimensional penultimate \
             layer is the embedding. The tabular flow ({} parameters) and the Gaussians are \
             fitted on the embeddings of {} training images. The embedding rows score all \
             {} {} test images and all {} images of {}; the synthetic sets are the pixel \
             flows'. \
             Embeddings are in `embeddings/*.npy`.\n",
            s.classifier.params,
            s.classifier.train_images,
            self.in_distribution,
            s.classifier.train.epochs,
            if s.classifier.cached {
                ", loaded from the cache"
            } else {
                ""
            },
            100.0 * s.classifier.test_accuracy,
            s.classifier.config.embedding_dim,
            s.flow.params,
            s.flow.fit_embeddings,
            in_test_images,
            self.in_distribution,
            natural_images,
            self.out_of_distribution,
        );
        let t = &s.timings;
        let _ = writeln!(
            md,
            "Time: classifier {:.0} s, embeddings {:.0} s, flow fit {:.0} s, baselines {:.1} s, \
             scoring {:.1} s; {:.0} s in all.",
            t.classifier, t.embed, t.flow_fit, t.baselines_fit, t.scoring, t.total
        );
    }

    /// The negative-training table, if a model was trained that way.
    fn negative_section(&self, md: &mut String) {
        let rows: Vec<(&ModelResult, &NegativeResult)> = self
            .models
            .iter()
            .filter_map(|m| m.negative.as_ref().map(|n| (m, n)))
            .collect();
        if rows.is_empty() {
            return;
        }
        let _ = writeln!(md, "\n## Negative training (appendix B)\n");
        let _ = writeln!(
            md,
            "Trained to maximise the {} likelihood and to minimise the likelihood of {} \
             training images while above the hinge; evaluated on {} test images it never \
             saw (its first OOD column in the tables above is this held-out set), beside a \
             plain model of the same run on the same images.\n",
            self.in_distribution, self.out_of_distribution, self.out_of_distribution
        );
        if self.in_distribution != "FashionMNIST"
            && rows
                .iter()
                .any(|(_, n)| n.hinge_nats == flow_train::FASHION_MNIST_HINGE_NATS)
        {
            let _ = writeln!(
                md,
                "The hinge of {:.0} nats is the paper's value for a FashionMNIST flow \
                 against MNIST; the paper gives none for {} against {}.\n",
                flow_train::FASHION_MNIST_HINGE_NATS,
                self.in_distribution,
                self.out_of_distribution
            );
        }
        let _ = writeln!(
            md,
            "| model | hinge (nats) | OOD images trained against | held-out set | AUROC | baseline | baseline AUROC (same images) | bits/dim held out (model / baseline) |"
        );
        let _ = writeln!(md, "|---|---:|---:|---|---|---|---|---|");
        for (m, n) in rows {
            let auroc = m
                .ood
                .first()
                .map_or_else(|| "n/a".into(), |o| with_interval(&o.metrics.auroc));
            let held_out_bpd = m.sets.natural_ood.mean_bits_per_dim;
            let _ = writeln!(
                md,
                "| {} | {:.0} | {} | {}, {} images | {} | {} | {} | {:.3} / {} |",
                m.name,
                n.hinge_nats,
                n.ood_train_images,
                n.held_out_set,
                n.held_out_images,
                auroc,
                n.baseline.as_deref().unwrap_or("none"),
                n.baseline_auroc
                    .as_ref()
                    .map_or_else(|| "n/a".into(), with_interval),
                held_out_bpd,
                n.baseline_held_out_bits_per_dim
                    .map_or_else(|| "n/a".into(), |b| format!("{b:.3}")),
            );
        }
    }

    /// Reads the results a run wrote ([`write`](Self::write)), e.g. a run folder's
    /// `results.json` or a summary committed under `docs/results/`.
    ///
    /// # Errors
    /// [`ExperimentError::Io`] when the file cannot be read,
    /// [`ExperimentError::Config`] when it is not a run's results.
    pub fn read(path: &Path) -> Result<Self, ExperimentError> {
        let text = std::fs::read_to_string(path).map_err(|source| ExperimentError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| ExperimentError::Config {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// Writes `results.json` and `report.md` into `dir`, each atomically.
    pub fn write(&self, dir: &Path) -> Result<(), ExperimentError> {
        let json = serde_json::to_string_pretty(self).map_err(|e| ExperimentError::Io {
            path: dir.join("results.json"),
            source: std::io::Error::other(e),
        })?;
        write_atomic(&dir.join("results.json"), json.as_bytes())?;
        write_atomic(&dir.join("report.md"), self.markdown().as_bytes())
    }
}

/// Writes `bytes` to `path` atomically (temporary file, sync, rename).
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ExperimentError> {
    flow_fs::write_atomic(path, bytes).map_err(|source| ExperimentError::Io {
        path: path.to_path_buf(),
        source,
    })
}
