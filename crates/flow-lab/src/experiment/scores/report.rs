//! The OOD-scores section of the Markdown report.

use std::fmt::Write as _;

use super::result::{DirectionScores, ScoreRow, ScoresResults};
use crate::experiment::report::headline;
use crate::experiment::{OodByRole, OodResult};

impl ScoresResults {
    /// The section: one table per direction, with the background grid.
    pub fn markdown(&self, md: &mut String) {
        let _ = writeln!(md, "\n## OOD scores on the same flow\n");
        let _ = writeln!(
            md,
            "Each score below is computed from one trained pixel flow (and, for the \
             likelihood ratio and WAIC, the flows it needs, trained the same way). \
             Hyper-parameters are chosen on the validation pair named under each table, \
             never on the natural OOD set or a test image; the background grid's oracle \
             column shows what a choice on the natural OOD set would have given and is \
             not used. The in-distribution test set is the positive class; intervals are \
             95% percentile bootstrap. Extra time is beyond one likelihood pass over the \
             sets. Rows marked *batch* judge batches of M inputs, not single inputs.\n"
        );
        for direction in &self.directions {
            direction.markdown(md);
        }
    }
}

impl DirectionScores {
    /// The direction's main table: every score's AUROC, AUPR-In and FPR@95 on the
    /// natural OOD set with intervals, its kind, extra cost and validated choice.
    pub fn summary_table(&self) -> String {
        let mut md = String::new();
        let natural = self.natural_name();
        let _ = writeln!(
            md,
            "| score | kind | {natural} AUROC | AUPR-In | FPR@95 | extra time | chosen on validation; notes |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---:|---|");
        for row in &self.rows {
            let kind = match (row.single_sample, row.images_per_set) {
                (false, _) => "batch".to_string(),
                (true, Some(n)) => format!("single, {n} images per set"),
                (true, None) => "single".to_string(),
            };
            let (auroc, aupr, fpr) = headline(&row.ood);
            let _ = writeln!(
                md,
                "| {} | {kind} | {auroc} | {aupr} | {fpr} | {:.2} s | {} |",
                row.score,
                row.extra_seconds,
                row.chosen.as_deref().unwrap_or("")
            );
        }
        md
    }

    /// The natural OOD set's name, as the rows give it.
    fn natural_name(&self) -> String {
        self.rows
            .first()
            .and_then(|r| r.natural_ood())
            .map_or("natural OOD".to_string(), |o| o.set.clone())
    }

    /// The single-sample score with the highest AUROC on the natural OOD set, and that
    /// AUROC.
    pub fn best_single_sample(&self) -> Option<(&ScoreRow, &OodResult)> {
        self.rows
            .iter()
            .filter(|r| r.single_sample)
            .filter_map(|r| r.natural_ood().map(|o| (r, o)))
            .max_by(|a, b| a.1.metrics.auroc.value.total_cmp(&b.1.metrics.auroc.value))
    }

    fn markdown(&self, md: &mut String) {
        let _ = writeln!(
            md,
            "### {} -> {} (flow `{}`, {} steps)\n",
            self.in_distribution, self.out_of_distribution, self.model, self.steps
        );
        md.push_str(&self.summary_table());
        let natural = self.natural_name();
        let _ = writeln!(
            md,
            "\nValidation pair: {}. One likelihood pass over every set took {:.1} s.\n",
            self.validation, self.base_seconds
        );
        let synthetic: Vec<&str> = self
            .rows
            .first()
            .map(|r| r.further_ood().iter().map(|o| o.set.as_str()).collect())
            .unwrap_or_default();
        if !synthetic.is_empty() {
            let _ = writeln!(md, "AUROC on the synthetic sets:\n");
            let _ = writeln!(md, "| score | {} |", synthetic.join(" | "));
            let _ = writeln!(md, "|---|{}", "---|".repeat(synthetic.len()));
            for row in &self.rows {
                let cells: Vec<String> = row
                    .further_ood()
                    .iter()
                    .map(|o| format!("{:.3}", o.metrics.auroc.value))
                    .collect();
                let _ = writeln!(md, "| {} | {} |", row.score, cells.join(" | "));
            }
        }
        if !self.background_grid.is_empty() {
            let _ = writeln!(
                md,
                "\nLikelihood-ratio backgrounds (the chosen one has the highest validation \
                 AUROC; AUROCs within 0.001 count as tied and the larger separation, the gap \
                 between the validation pair's mean ratios in pooled standard deviations, \
                 wins):\n"
            );
            let _ = writeln!(
                md,
                "| background | validation AUROC | separation (sd) | {natural} AUROC (oracle, not used) |"
            );
            let _ = writeln!(md, "|---|---:|---:|---:|");
            for point in &self.background_grid {
                let _ = writeln!(
                    md,
                    "| {} | {:.3} | {} | {:.3} |",
                    point.setting,
                    point.validation_auroc,
                    point
                        .validation_separation
                        .map_or("-".to_string(), |s| format!("{s:.2}")),
                    point.oracle_natural_auroc
                );
            }
        }
        let _ = writeln!(md);
    }
}
