//! The side-by-side benchmark table of DEVELOPERS.md.

use super::DocsError;
use crate::bench::BenchResult;

/// The side-by-side table of a `cargo xtask bench --compare-pytorch` run: per
/// configuration, ours and PyTorch's throughputs and their ratio, under a line naming
/// the commit, machine and date.
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
    let mut table = format!(
        "Measured by `cargo xtask bench --compare-pytorch` ({} against {}, one sitting): \
         {stamp}.\n\n",
        first.backend, twin.backend
    );
    table.push_str(
        "| config | params (ours / PyTorch) | train batch | train images/s (ours / PyTorch) | \
         ratio | score batch | score images/s (ours / PyTorch) | ratio |\n",
    );
    table.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (ours, theirs) in pairs {
        table.push_str(&format!(
            "| {} | {} / {} | {} | {:.1} / {:.1} | {:.2} | {} | {:.1} / {:.1} | {:.2} |\n",
            ours.name,
            ours.params,
            theirs.params,
            ours.train_batch,
            ours.train_images_per_sec,
            theirs.train_images_per_sec,
            ours.train_images_per_sec / theirs.train_images_per_sec,
            ours.score_batch,
            ours.score_images_per_sec,
            theirs.score_images_per_sec,
            ours.score_images_per_sec / theirs.score_images_per_sec,
        ));
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(name: &str, backend: &str, train: f64, score: f64) -> BenchResult {
        BenchResult {
            name: name.into(),
            backend: backend.into(),
            params: 10,
            train_batch: 64,
            train_steps: 3,
            train_images_per_sec: train,
            score_batch: 256,
            score_batches: 3,
            score_images_per_sec: score,
            provenance: None,
        }
    }

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
}
