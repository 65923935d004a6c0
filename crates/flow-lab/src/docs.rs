//! Tables in the docs written from committed results, never by hand.
//!
//! A generated section of a Markdown file sits between two marker comments,
//! `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`; [`replace_section`] swaps
//! what lies between them, so `cargo xtask docs` can rewrite it and a test can check
//! that the committed text is what the committed results give.

use thiserror::Error;

use crate::bench::BenchResult;

/// Why a generated section could not be written.
#[derive(Debug, Error, PartialEq)]
pub enum DocsError {
    /// The file lacks the opening or closing marker of a section.
    #[error("no `<!-- generated:{0} -->` ... `<!-- /generated:{0} -->` markers")]
    MissingMarkers(String),
    /// The results hold no row for the table.
    #[error("the results hold nothing for the `{0}` table")]
    NoResults(String),
}

/// `doc` with the section `name` replaced by `content` (markers kept).
///
/// # Errors
/// [`DocsError::MissingMarkers`] when either marker is missing or out of order.
pub fn replace_section(doc: &str, name: &str, content: &str) -> Result<String, DocsError> {
    let open = format!("<!-- generated:{name} -->");
    let close = format!("<!-- /generated:{name} -->");
    let missing = || DocsError::MissingMarkers(name.to_string());
    let start = doc.find(&open).ok_or_else(missing)? + open.len();
    let end = start + doc[start..].find(&close).ok_or_else(missing)?;
    Ok(format!(
        "{}\n{}\n{}",
        &doc[..start],
        content.trim_end(),
        &doc[end..]
    ))
}

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
        |p| format!("commit `{}`, {}, {} UTC", p.commit, p.machine, p.date),
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

    #[test]
    fn a_section_is_replaced_between_its_markers_only() {
        let doc = "a\n<!-- generated:t -->\nold\n<!-- /generated:t -->\nb\n";
        let new = replace_section(doc, "t", "new\n").unwrap();
        assert_eq!(
            new,
            "a\n<!-- generated:t -->\nnew\n<!-- /generated:t -->\nb\n"
        );
        assert_eq!(replace_section(&new, "t", "new").unwrap(), new);
        assert_eq!(
            replace_section("a", "t", "x"),
            Err(DocsError::MissingMarkers("t".into()))
        );
    }

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
