//! Histograms of several score sets over one shared set of bins, for overlaid plots.

use super::error::{validate_sets, MetricError, ScoreSet};
use serde::Serialize;

/// How to bin.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HistogramOptions {
    /// Number of equal-width bins (at least 1; 50 by default).
    pub bins: usize,
    /// The range `(low, high)` covered by the bins. `None` (the default) spans the smallest
    /// to the largest score over all sets. Scores outside a given range are not binned but
    /// counted in [`SharedHistogram::outside`].
    pub range: Option<(f64, f64)>,
}

impl Default for HistogramOptions {
    fn default() -> Self {
        HistogramOptions {
            bins: 50,
            range: None,
        }
    }
}

/// Counts of several score sets over the same bins, binned as NumPy's
/// `np.histogram(scores, bins, range)` does.
///
/// Bin `k` holds scores `x` with `edges[k] <= x < edges[k + 1]`; the last bin also holds
/// `x == edges[bins]`. Edges are `low + k * ((high - low) / bins)` with the last set to
/// `high` exactly (NumPy's `linspace`); a zero-width range is widened to
/// `(low - 0.5, high + 0.5)`, also as NumPy does. Scores are binned as given: orientation
/// plays no part.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SharedHistogram {
    /// `bins + 1` increasing bin edges.
    pub edges: Vec<f64>,
    /// `counts[s][k]`: scores of set `s` in bin `k`.
    pub counts: Vec<Vec<u64>>,
    /// `outside[s]`: scores of set `s` outside the range (always 0 without a range).
    pub outside: Vec<u64>,
}

impl SharedHistogram {
    /// Bins every set over common edges. Errors: an empty set, a NaN/infinite score
    /// (named by the set's position, [`ScoreSet::Histogram`]), `bins == 0`, or a range that
    /// is not finite or has `low > high`.
    pub fn new(sets: &[&[f64]], options: HistogramOptions) -> Result<Self, MetricError> {
        if options.bins == 0 {
            return Err(MetricError::InvalidOption {
                option: "bins",
                reason: "at least one bin is needed".into(),
            });
        }
        if sets.is_empty() {
            return Err(MetricError::InvalidOption {
                option: "sets",
                reason: "no score sets to bin".into(),
            });
        }
        let named: Vec<(ScoreSet, &[f64])> = sets
            .iter()
            .enumerate()
            .map(|(i, s)| (ScoreSet::Histogram(i), *s))
            .collect();
        validate_sets(&named)?;
        let (mut low, mut high) = match options.range {
            Some((l, h)) => {
                if !(l.is_finite() && h.is_finite() && l <= h) {
                    return Err(MetricError::InvalidOption {
                        option: "range",
                        reason: format!("({l}, {h}) is not a finite range with low <= high"),
                    });
                }
                (l, h)
            }
            None => sets
                .iter()
                .flat_map(|s| s.iter())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| {
                    (l.min(x), h.max(x))
                }),
        };
        if low == high {
            low -= 0.5;
            high += 0.5;
        }
        let edges = linspace_edges(low, high, options.bins);
        let mut counts = vec![vec![0u64; options.bins]; sets.len()];
        let mut outside = vec![0u64; sets.len()];
        for (s, scores) in sets.iter().enumerate() {
            for &x in scores.iter() {
                match bin_of(x, &edges) {
                    Some(k) => counts[s][k] += 1,
                    None => outside[s] += 1,
                }
            }
        }
        Ok(SharedHistogram {
            edges,
            counts,
            outside,
        })
    }

    /// Number of bins.
    pub fn bins(&self) -> usize {
        self.edges.len() - 1
    }

    /// Set `set`'s counts as a probability density (`count / (total * width)`, NumPy's
    /// `density=True`), or `None` if there is no such set. All zeros if every score of the
    /// set fell outside the range.
    pub fn density(&self, set: usize) -> Option<Vec<f64>> {
        let counts = self.counts.get(set)?;
        let total: u64 = counts.iter().sum();
        Some(
            counts
                .iter()
                .zip(self.edges.windows(2))
                .map(|(&c, w)| {
                    if total == 0 {
                        0.0
                    } else {
                        c as f64 / total as f64 / (w[1] - w[0])
                    }
                })
                .collect(),
        )
    }
}

/// NumPy's `linspace(low, high, bins + 1)`.
fn linspace_edges(low: f64, high: f64, bins: usize) -> Vec<f64> {
    let delta = high - low;
    let step = delta / bins as f64;
    let mut edges: Vec<f64> = (0..=bins)
        .map(|i| {
            if step == 0.0 {
                i as f64 / bins as f64 * delta + low
            } else {
                i as f64 * step + low
            }
        })
        .collect();
    edges[bins] = high;
    edges
}

/// The bin of `x`, judged against the edges themselves so that rounding in the initial
/// guess cannot put a score on the wrong side of an edge.
fn bin_of(x: f64, edges: &[f64]) -> Option<usize> {
    let bins = edges.len() - 1;
    let (low, high) = (edges[0], edges[bins]);
    if !(x >= low && x <= high) {
        return None;
    }
    let guess = ((x - low) / (high - low) * bins as f64) as usize;
    let mut k = guess.min(bins - 1);
    while k > 0 && x < edges[k] {
        k -= 1;
    }
    while k + 1 < bins && x >= edges[k + 1] {
        k += 1;
    }
    Some(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_edges_and_closes_last_bin() {
        let h = SharedHistogram::new(
            &[&[0.0, 1.0, 2.0], &[4.0, 4.0]],
            HistogramOptions {
                bins: 4,
                range: None,
            },
        )
        .unwrap();
        assert_eq!(h.edges, vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(h.counts, vec![vec![1, 1, 1, 0], vec![0, 0, 0, 2]]);
        assert_eq!(h.density(1).unwrap(), vec![0.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn counts_outside_and_widens_flat_range() {
        let h = SharedHistogram::new(
            &[&[-1.0, 0.5, 9.0]],
            HistogramOptions {
                bins: 2,
                range: Some((0.0, 1.0)),
            },
        )
        .unwrap();
        assert_eq!((h.counts[0].clone(), h.outside[0]), (vec![0, 1], 2));
        let flat = SharedHistogram::new(&[&[3.0, 3.0]], HistogramOptions::default()).unwrap();
        assert_eq!(flat.edges[0], 2.5);
        assert_eq!(flat.counts[0].iter().sum::<u64>(), 2);
    }

    #[test]
    fn rejects_bad_input() {
        let o = HistogramOptions::default();
        assert!(SharedHistogram::new(&[], o).is_err());
        assert!(SharedHistogram::new(&[&[1.0], &[f64::NAN]], o).is_err());
        let zero = HistogramOptions {
            bins: 0,
            range: None,
        };
        assert!(SharedHistogram::new(&[&[1.0]], zero).is_err());
        let back = HistogramOptions {
            bins: 3,
            range: Some((1.0, 0.0)),
        };
        assert!(SharedHistogram::new(&[&[1.0]], back).is_err());
    }
}
