//! The side-by-side benchmark table of DEVELOPERS.md.

use super::DocsError;
use crate::bench::{paired_ratios, BenchResult};

/// The side-by-side table of a `cargo xtask bench --compare-pytorch` run: per
/// configuration, ours and PyTorch's throughputs and their ratio, under a line naming
/// the commit, machine and date. For a run of several rounds the throughputs are each
/// side's medians and each ratio is followed by the range of the rounds' own ratios.
///
/// # Errors
/// [`DocsError::NoResults`] when no configuration has both sides.
pub fn bench_table(results: &[BenchResult]) -> Result<String, DocsError> {
    let is_twin = |r: &BenchResult| r.backend.starts_with("pytorch");
    let pairs: Vec<(&BenchResult, &BenchResult)> = results
        .iter()
        .filter(|r| !is_twin(r))
        .filter_map(|ours| {
            results
                .iter()
                .find(|t| is_twin(t) && t.name == ours.name)
                .map(|theirs| (ours, theirs))
        })
        .collect();
    let Some((first, twin)) = pairs.first() else {
        return Err(DocsError::NoResults("bench".into()));
    };
    let stamp = first.provenance.as_ref().map_or_else(
        || "unknown commit, machine and date".to_string(),
        ToString::to_string,
    );
    let rounds = match first.rounds.len() {
        0 | 1 => String::new(),
        n => format!(", the median of {n} alternating rounds"),
    };
    let mut table = format!(
        "Measured by `cargo xtask bench --compare-pytorch` ({} against {}, one sitting{rounds}): \
         {stamp}.\n\n",
        first.backend, twin.backend
    );
    table.push_str(
        "| config | params (ours / PyTorch) | train batch | train images/s (ours / PyTorch) | \
         ratio | score batch | score images/s (ours / PyTorch) | ratio |\n",
    );
    table.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (ours, theirs) in pairs {
        let per_round = paired_ratios(ours, theirs);
        let ratio = |median: f64, pick: fn(&(f64, f64)) -> f64| {
            let lowest = per_round.iter().map(pick).fold(f64::INFINITY, f64::min);
            let highest = per_round.iter().map(pick).fold(f64::NEG_INFINITY, f64::max);
            if per_round.is_empty() {
                format!("{median:.2}")
            } else {
                format!("{median:.2} ({lowest:.2}-{highest:.2})")
            }
        };
        table.push_str(&format!(
            "| {} | {} / {} | {} | {:.1} / {:.1} | {} | {} | {:.1} / {:.1} | {} |\n",
            ours.name,
            ours.params,
            theirs.params,
            ours.train_batch,
            ours.train_images_per_sec,
            theirs.train_images_per_sec,
            ratio(
                ours.train_images_per_sec / theirs.train_images_per_sec,
                |r| r.0
            ),
            ours.score_batch,
            ours.score_images_per_sec,
            theirs.score_images_per_sec,
            ratio(
                ours.score_images_per_sec / theirs.score_images_per_sec,
                |r| r.1
            ),
        ));
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::test_result as result;

    #[test]
    fn the_bench_table_pairs_each_configuration_with_its_twin() {
        let table = bench_table(&[
            result("small", "flex", 50.0, 300.0),
            result("paper", "flex", 5.0, 20.0),
            result("small", "pytorch-2.9.1", 100.0, 200.0),
        ])
        .unwrap();
        assert!(
            table.contains(
                "| small | 10 / 10 | 64 | 50.0 / 100.0 | 0.50 | 256 | 300.0 / 200.0 | 1.50 |"
            ),
            "{table}"
        );
        assert!(!table.contains("| paper"), "{table}");
        assert!(bench_table(&[result("small", "flex", 1.0, 1.0)]).is_err());
    }

    #[test]
    fn rounds_show_as_medians_with_the_range_of_their_ratios() {
        let rounds = [
            vec![
                result("small", "flex", 10.0, 100.0),
                result("small", "pytorch-2", 10.0, 50.0),
            ],
            vec![
                result("small", "flex", 12.0, 90.0),
                result("small", "pytorch-2", 10.0, 100.0),
            ],
            vec![
                result("small", "flex", 11.0, 80.0),
                result("small", "pytorch-2", 20.0, 80.0),
            ],
        ];
        let table = bench_table(&crate::bench::merge_rounds(&rounds)).unwrap();
        assert!(
            table.contains("the median of 3 alternating rounds"),
            "{table}"
        );
        assert!(
            table.contains(
                "| 11.0 / 10.0 | 1.10 (0.55-1.20) | 256 | 90.0 / 80.0 | 1.12 (0.90-2.00) |"
            ),
            "{table}"
        );
    }
}
