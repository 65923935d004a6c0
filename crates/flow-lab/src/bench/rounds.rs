//! Several alternating rounds of one sitting folded into one result per configuration.
//!
//! Throughput on a shared machine drifts by 5-10% over minutes, and PyTorch's moved by
//! 11% between two sittings of the same day: one measurement of each side, one after
//! the other, puts that drift into the ratio. `cargo xtask bench --rounds N` runs ours
//! and the twin in turn N times; each side's result is then the median of its rounds,
//! with every round kept next to it.

use serde::{Deserialize, Serialize};

use super::BenchResult;

/// One round's throughputs of one configuration on one side.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RoundThroughput {
    /// Training images per second in that round.
    pub train_images_per_sec: f64,
    /// Scoring images per second in that round.
    pub score_images_per_sec: f64,
}

/// The results of several rounds (each a list from one side, in the same
/// configuration order) as one list: per configuration and backend, the median
/// training and scoring throughputs, the timed steps and batches of all rounds added
/// up, each round's throughputs in `rounds`, and the first round's provenance. A
/// single round comes back as it was, without `rounds`.
pub fn merge_rounds(rounds: &[Vec<BenchResult>]) -> Vec<BenchResult> {
    if rounds.len() == 1 {
        return rounds[0].clone();
    }
    let Some(first) = rounds.first() else {
        return Vec::new();
    };
    first
        .iter()
        .map(|result| {
            let same: Vec<&BenchResult> = rounds
                .iter()
                .flatten()
                .filter(|r| r.name == result.name && r.backend == result.backend)
                .collect();
            let train: Vec<f64> = same.iter().map(|r| r.train_images_per_sec).collect();
            let score: Vec<f64> = same.iter().map(|r| r.score_images_per_sec).collect();
            BenchResult {
                train_steps: same.iter().map(|r| r.train_steps).sum(),
                train_images_per_sec: median(&train),
                score_batches: same.iter().map(|r| r.score_batches).sum(),
                score_images_per_sec: median(&score),
                rounds: same
                    .iter()
                    .map(|r| RoundThroughput {
                        train_images_per_sec: r.train_images_per_sec,
                        score_images_per_sec: r.score_images_per_sec,
                    })
                    .collect(),
                ..result.clone()
            }
        })
        .collect()
}

/// The median (the mean of the middle two for an even count; 0 for none).
fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Per round, ours over the twin's `(train, score)` ratio for one configuration: both
/// sides' rounds taken in order, round `i` of ours against round `i` of the twin (run
/// right after it). Empty when either side has no rounds or their counts differ.
pub fn paired_ratios(ours: &BenchResult, twin: &BenchResult) -> Vec<(f64, f64)> {
    if ours.rounds.len() != twin.rounds.len() {
        return Vec::new();
    }
    ours.rounds
        .iter()
        .zip(&twin.rounds)
        .map(|(a, b)| {
            (
                a.train_images_per_sec / b.train_images_per_sec,
                a.score_images_per_sec / b.score_images_per_sec,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::test_result as result;

    #[test]
    fn rounds_fold_into_medians_per_configuration_and_side() {
        let rounds = vec![
            vec![
                result("small", "flex", 10.0, 100.0),
                result("small", "torch", 9.0, 90.0),
            ],
            vec![
                result("small", "flex", 30.0, 300.0),
                result("small", "torch", 8.0, 95.0),
            ],
            vec![
                result("small", "flex", 20.0, 50.0),
                result("small", "torch", 7.0, 80.0),
            ],
        ];
        let merged = merge_rounds(&rounds);
        assert_eq!(merged.len(), 2);
        let (ours, twin) = (&merged[0], &merged[1]);
        assert_eq!(
            (ours.train_images_per_sec, ours.score_images_per_sec),
            (20.0, 100.0)
        );
        assert_eq!(
            (twin.train_images_per_sec, twin.score_images_per_sec),
            (8.0, 90.0)
        );
        assert_eq!((ours.train_steps, ours.score_batches), (9, 9));
        assert_eq!(ours.rounds.len(), 3);
        assert_eq!(ours.rounds[1].train_images_per_sec, 30.0);
        let ratios = paired_ratios(ours, twin);
        assert_eq!(ratios[0], (10.0 / 9.0, 100.0 / 90.0));
        assert_eq!(ratios.len(), 3);
    }

    #[test]
    fn one_round_is_kept_as_it_was() {
        let one = vec![vec![result("paper", "flex", 5.0, 20.0)]];
        let merged = merge_rounds(&one);
        assert!(merged[0].rounds.is_empty());
        assert_eq!(merged[0].train_images_per_sec, 5.0);
        assert!(merge_rounds(&[]).is_empty());
    }

    #[test]
    fn the_median_of_an_even_count_is_the_middle_mean() {
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }
}
