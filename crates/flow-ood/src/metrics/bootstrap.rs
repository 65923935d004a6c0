//! Percentile bootstrap confidence intervals for any [`Metric`], from a seeded RNG.
//!
//! Resampling is stratified: each resample draws `n_in` in-distribution and `n_ood`
//! out-of-distribution scores with replacement from their own sets, so both sets keep their
//! sizes. A draw is a uniform position in the set sorted by decreasing in-distribution-ness
//! (which position holds which of two equal scores does not matter), and the resample is
//! the table's tie groups re-weighted by how often each was drawn. Nothing is re-sorted,
//! so a resample costs O(n_in + n_ood).
//!
//! Draw order, fixed so other implementations can reproduce intervals exactly: for each
//! resample, `n_in` calls of `uniform_below(n_in)`, then `n_ood` calls of
//! `uniform_below(n_ood)`, on one [`Xoshiro256PlusPlus`] stream seeded with
//! [`BootstrapOptions::seed`].

use super::error::{check_unit_interval, MetricError};
use super::metric::Metric;
use super::rng::{uniform_below, Xoshiro256PlusPlus};
use super::table::{ScoreTable, TieGroup};
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// How many resamples, at which confidence level, from which seed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BootstrapOptions {
    /// Number of resamples (at least 1; 1000 by default).
    pub resamples: usize,
    /// Two-sided confidence level in (0, 1) (0.95 by default): the interval runs from the
    /// `(1 - level) / 2` to the `(1 + level) / 2` quantile of the resampled values.
    pub level: f64,
    /// Seed of the xoshiro256++ stream (0 by default).
    pub seed: u64,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        BootstrapOptions {
            resamples: 1000,
            level: 0.95,
            seed: 0,
        }
    }
}

impl BootstrapOptions {
    /// Checks `resamples >= 1` and `0 < level < 1`.
    pub fn validate(&self) -> Result<(), MetricError> {
        if self.resamples == 0 {
            return Err(MetricError::InvalidOption {
                option: "resamples",
                reason: "at least one resample is needed".into(),
            });
        }
        check_unit_interval("level", self.level, true, true)
    }
}

/// A two-sided percentile bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConfidenceInterval {
    /// The `(1 - level) / 2` quantile of the resampled values.
    pub lower: f64,
    /// The `(1 + level) / 2` quantile of the resampled values.
    pub upper: f64,
    /// The confidence level.
    pub level: f64,
}

/// Percentile intervals for each of `metrics` on `table`, one per metric, in order, using
/// the RNG seeded with `options.seed`. Quantiles interpolate linearly between order
/// statistics (NumPy's default `linear` method, Hyndman & Fan type 7).
pub fn bootstrap_intervals(
    table: &ScoreTable,
    metrics: &[Metric],
    options: &BootstrapOptions,
) -> Result<Vec<ConfidenceInterval>, MetricError> {
    options.validate()?;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(options.seed);
    let samples = bootstrap_samples(table, metrics, options.resamples, &mut rng)?;
    samples
        .iter()
        .map(|values| percentile_interval(values, options.level))
        .collect()
}

/// The raw bootstrap distribution: `result[m][r]` is metric `m` on resample `r`. Any RNG
/// may be used; with [`Xoshiro256PlusPlus`] results are reproducible everywhere.
pub fn bootstrap_samples<R: RngCore + ?Sized>(
    table: &ScoreTable,
    metrics: &[Metric],
    resamples: usize,
    rng: &mut R,
) -> Result<Vec<Vec<f64>>, MetricError> {
    for m in metrics {
        m.validate()?;
    }
    let mut resampler = Resampler::new(table)?;
    let mut out = vec![Vec::with_capacity(resamples); metrics.len()];
    for _ in 0..resamples {
        let resampled = resampler.draw(rng);
        for (values, v) in out
            .iter_mut()
            .zip(Metric::compute_all(metrics, &resampled)?)
        {
            values.push(v);
        }
        resampler.recycle(resampled);
    }
    Ok(out)
}

/// The percentile interval of `values` at `level` (see [`bootstrap_intervals`]).
pub fn percentile_interval(values: &[f64], level: f64) -> Result<ConfidenceInterval, MetricError> {
    check_unit_interval("level", level, true, true)?;
    if values.is_empty() {
        return Err(MetricError::InvalidOption {
            option: "values",
            reason: "no bootstrap values to take quantiles of".into(),
        });
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    Ok(ConfidenceInterval {
        lower: quantile_sorted(&sorted, tail),
        upper: quantile_sorted(&sorted, 1.0 - tail),
        level,
    })
}

/// Type-7 quantile of a non-empty sorted slice.
fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor();
    let i = lo as usize;
    match sorted.get(i + 1) {
        Some(&next) => sorted[i] + (h - lo) * (next - sorted[i]),
        None => sorted[i],
    }
}

/// Reusable buffers for drawing resamples of one table.
///
/// Draws are tallied per sorted position (a compact `u32` array per set, so the random
/// increments stay in cache far better than per-group tallies would), then summed over each
/// tie group's run of positions in one sequential sweep.
struct Resampler<'a> {
    table: &'a ScoreTable,
    /// `draws_in[p]`: how often in-distribution position `p` was drawn in this resample.
    draws_in: Vec<u32>,
    draws_ood: Vec<u32>,
    spare: Vec<TieGroup>,
}

impl<'a> Resampler<'a> {
    fn new(table: &'a ScoreTable) -> Result<Self, MetricError> {
        let fits = |n: u64| u32::try_from(n).is_ok();
        if !(fits(table.n_in()) && fits(table.n_ood())) {
            return Err(MetricError::InvalidOption {
                option: "resamples",
                reason: "the bootstrap tallies draws in u32; a set has more than 2^32 - 1 \
                         scores"
                    .into(),
            });
        }
        Ok(Resampler {
            table,
            draws_in: vec![0; table.n_in() as usize],
            draws_ood: vec![0; table.n_ood() as usize],
            spare: Vec::new(),
        })
    }

    fn draw<R: RngCore + ?Sized>(&mut self, rng: &mut R) -> ScoreTable {
        for draws in [&mut self.draws_in, &mut self.draws_ood] {
            draws.iter_mut().for_each(|c| *c = 0);
            let n = draws.len() as u64;
            for _ in 0..n {
                draws[uniform_below(rng, n) as usize] += 1;
            }
        }
        let mut groups = std::mem::take(&mut self.spare);
        groups.clear();
        let (mut at_in, mut at_ood) = (0usize, 0usize);
        for g in self.table.groups() {
            let (end_in, end_ood) = (at_in + g.n_in as usize, at_ood + g.n_ood as usize);
            let n_in: u64 = self.draws_in[at_in..end_in]
                .iter()
                .map(|&c| u64::from(c))
                .sum();
            let n_ood: u64 = self.draws_ood[at_ood..end_ood]
                .iter()
                .map(|&c| u64::from(c))
                .sum();
            if n_in + n_ood > 0 {
                groups.push(TieGroup {
                    score: g.score,
                    n_in,
                    n_ood,
                });
            }
            (at_in, at_ood) = (end_in, end_ood);
        }
        ScoreTable::from_sorted_groups(groups, self.table.orientation())
    }

    fn recycle(&mut self, table: ScoreTable) {
        self.spare = table.into_groups();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orientation::Orientation;

    #[test]
    fn type_seven_quantiles() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile_sorted(&v, 0.0), 1.0);
        assert_eq!(quantile_sorted(&v, 1.0), 5.0);
        assert_eq!(quantile_sorted(&v, 0.5), 3.0);
        assert_eq!(quantile_sorted(&v, 0.1), 1.4);
        assert_eq!(quantile_sorted(&[7.0], 0.3), 7.0);
    }

    #[test]
    fn resamples_keep_set_sizes_and_seed_repeats() {
        let t = ScoreTable::new(
            &[1.0, 2.0, 2.0, 5.0],
            &[0.0, 2.0, 3.0],
            Orientation::HigherIsInDistribution,
        )
        .unwrap();
        let mut r = Resampler::new(&t).unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        for _ in 0..20 {
            let s = r.draw(&mut rng);
            assert_eq!((s.n_in(), s.n_ood()), (4, 3));
            r.recycle(s);
        }
        let o = BootstrapOptions {
            resamples: 50,
            ..BootstrapOptions::default()
        };
        let a = bootstrap_intervals(&t, &[Metric::Auroc], &o).unwrap();
        let b = bootstrap_intervals(&t, &[Metric::Auroc], &o).unwrap();
        assert_eq!(a, b);
        assert!(a[0].lower <= t.auroc() && t.auroc() <= a[0].upper);
    }

    #[test]
    fn rejects_bad_options() {
        let t = ScoreTable::new(&[1.0], &[0.0], Orientation::default()).unwrap();
        let zero = BootstrapOptions {
            resamples: 0,
            ..BootstrapOptions::default()
        };
        assert!(bootstrap_intervals(&t, &[Metric::Auroc], &zero).is_err());
        let full = BootstrapOptions {
            level: 1.0,
            ..BootstrapOptions::default()
        };
        assert!(bootstrap_intervals(&t, &[Metric::Auroc], &full).is_err());
    }
}
