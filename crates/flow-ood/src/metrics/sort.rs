//! Sorting scores, most in-distribution first, as integer keys.
//!
//! Finite doubles map to `u64` keys whose unsigned order is the doubles' descending order;
//! sorting those is markedly faster than sorting `f64` with `total_cmp` (measured: ~23 ms
//! against ~38 ms for 10^6 scores on the development machine; an LSD radix sort was no
//! faster there, being bound by memory bandwidth).

use super::error::{validate_sets, MetricError, ScoreSet};
use crate::orientation::Orientation;

/// Checks both sets (non-empty, finite) and returns their sorted keys, in-distribution
/// first: the common start of every metric that walks the merged score order.
pub(crate) fn validated_sorted_keys(
    in_scores: &[f64],
    ood_scores: &[f64],
    orientation: Orientation,
) -> Result<(Vec<u64>, Vec<u64>), MetricError> {
    validate_sets(&[
        (ScoreSet::InDistribution, in_scores),
        (ScoreSet::OutOfDistribution, ood_scores),
    ])?;
    Ok((
        sorted_descending_keys(in_scores, orientation),
        sorted_descending_keys(ood_scores, orientation),
    ))
}

/// The scores mapped to the internal scale (larger = more in-distribution, `-0.0` folded
/// into `0.0`), as keys sorted so that the most in-distribution score comes first. Scores
/// must be finite. Decode a key with [`score_of_key`].
pub(crate) fn sorted_descending_keys(scores: &[f64], orientation: Orientation) -> Vec<u64> {
    let mut keys: Vec<u64> = scores
        .iter()
        .map(|&s| descending_key(orientation.to_in_distribution_scale(s)))
        .collect();
    keys.sort_unstable();
    keys
}

/// A key whose unsigned ascending order is the float's descending order: flip all bits of
/// negatives and set the sign bit of positives (ascending order), then complement.
fn descending_key(x: f64) -> u64 {
    let bits = x.to_bits();
    let ascending = if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    };
    !ascending
}

/// The score a key was made from.
pub(crate) fn score_of_key(key: u64) -> f64 {
    let ascending = !key;
    let bits = if ascending >> 63 == 1 {
        ascending & !(1 << 63)
    } else {
        !ascending
    };
    f64::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_reverse_the_order() {
        let xs = [-1e300, -2.5, -1e-310, 0.0, 1e-310, 1.0, 3.5, 1e300];
        for w in xs.windows(2) {
            assert!(descending_key(w[0]) > descending_key(w[1]));
        }
        for x in xs {
            assert_eq!(score_of_key(descending_key(x)).to_bits(), x.to_bits());
        }
    }

    #[test]
    fn agrees_with_comparison_sort() {
        let scores = [3.0, -0.0, 0.0, -7.25, 1e-300, 3.0, -1e300, 2.0];
        for o in [
            Orientation::HigherIsInDistribution,
            Orientation::HigherIsOutOfDistribution,
        ] {
            let got: Vec<f64> = sorted_descending_keys(&scores, o)
                .into_iter()
                .map(score_of_key)
                .collect();
            let mut want: Vec<f64> = scores
                .iter()
                .map(|&s| o.to_in_distribution_scale(s))
                .collect();
            want.sort_unstable_by(|x, y| y.total_cmp(x));
            assert_eq!(got, want);
        }
    }
}
