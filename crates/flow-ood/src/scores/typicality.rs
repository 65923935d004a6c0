//! The typicality test of Nalisnick et al., "Detecting Out-of-Distribution Inputs to
//! Deep Generative Models Using Typicality" (2019): in-distribution inputs have a
//! log-likelihood near the model's entropy, not necessarily a high one.

use burn::tensor::Tensor;
use flow_core::FlowNet;
use flow_kernels::FlowBackend;

use super::likelihood::log_likelihood_nats;
use super::{Score, ScoreError};
use crate::metrics::uniform_below;
use crate::{Orientation, Xoshiro256PlusPlus};

/// The entropy estimate `H`: the mean training log-likelihood in nats (finite values
/// only).
///
/// # Errors
/// [`ScoreError::Fit`] when no training value is finite.
pub fn entropy_estimate(train_log_likelihood: &[f64]) -> Result<f64, ScoreError> {
    let finite: Vec<f64> = train_log_likelihood
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    if finite.is_empty() {
        return Err(ScoreError::Fit {
            score: "typicality".into(),
            reason: "no finite training log-likelihood to estimate the entropy from".into(),
        });
    }
    Ok(finite.iter().sum::<f64>() / finite.len() as f64)
}

/// `|log p(x) - H|`: how far an input's log-likelihood is from the entropy estimate.
pub fn typicality_distance(log_p: f64, entropy: f64) -> f64 {
    (log_p - entropy).abs()
}

/// The single-input typicality distance `|log p(x) - H|` in nats, `H` the mean training
/// log-likelihood ([`entropy_estimate`]). Higher means more out-of-distribution: an
/// input far above the typical likelihood (MNIST under a FashionMNIST flow) is as
/// atypical as one far below.
#[derive(Debug, Clone, Copy)]
pub struct Typicality<'a, B: FlowBackend> {
    model: &'a FlowNet<B>,
    entropy: f64,
}

impl<'a, B: FlowBackend> Typicality<'a, B> {
    /// Typicality under `model`, with `entropy` its mean training log-likelihood.
    pub fn new(model: &'a FlowNet<B>, entropy: f64) -> Self {
        Self { model, entropy }
    }

    /// The entropy estimate `H` in nats.
    pub fn entropy(&self) -> f64 {
        self.entropy
    }
}

impl<B: FlowBackend> Score<B> for Typicality<'_, B> {
    fn name(&self) -> &str {
        "typicality"
    }

    fn orientation(&self) -> Orientation {
        Orientation::HigherIsOutOfDistribution
    }

    fn score(&self, x: Tensor<B, 4>) -> Result<Vec<f64>, ScoreError> {
        let log_p = log_likelihood_nats(self.model, self.name(), x)?;
        Ok(log_p
            .iter()
            .map(|&v| typicality_distance(v, self.entropy))
            .collect())
    }
}

/// The batch form of the test: the statistic of a batch of `M` inputs is
/// `|mean log p - H|`, and a batch is rejected as OOD when it exceeds a threshold
/// bootstrapped from training batches. It judges batches, not single inputs: reports
/// label it as a batch test with its `M`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchTypicality {
    /// The entropy estimate `H` in nats.
    pub entropy: f64,
    /// Inputs per batch.
    pub batch_size: usize,
}

impl BatchTypicality {
    /// The statistic of `batches` random batches of `self.batch_size` inputs drawn
    /// (without replacement within a batch) from `log_likelihood`, seeded.
    ///
    /// # Errors
    /// [`ScoreError::Fit`] when the set has fewer inputs than a batch, or the batch
    /// size is 0.
    pub fn statistics(
        &self,
        log_likelihood: &[f64],
        batches: usize,
        seed: u64,
    ) -> Result<Vec<f64>, ScoreError> {
        let m = self.batch_size;
        if m == 0 || log_likelihood.len() < m {
            return Err(ScoreError::Fit {
                score: "typicality batch test".into(),
                reason: format!(
                    "batches of {m} inputs need a set of at least {m} (and at least 1), \
                     got {}",
                    log_likelihood.len()
                ),
            });
        }
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut pool: Vec<usize> = (0..log_likelihood.len()).collect();
        Ok((0..batches)
            .map(|_| {
                // A partial Fisher-Yates shuffle: the first m of the pool are the batch.
                for i in 0..m {
                    let j = i + uniform_below(&mut rng, (pool.len() - i) as u64) as usize;
                    pool.swap(i, j);
                }
                let mean = pool[..m].iter().map(|&i| log_likelihood[i]).sum::<f64>() / m as f64;
                (mean - self.entropy).abs()
            })
            .collect())
    }

    /// The rejection threshold: the `1 - alpha` quantile of the statistic over
    /// `resamples` bootstrap batches of held-out in-distribution log-likelihoods.
    ///
    /// # Errors
    /// As [`statistics`](Self::statistics); also when `alpha` is not in `(0, 1)` or
    /// `resamples` is 0.
    pub fn threshold(
        &self,
        held_out: &[f64],
        resamples: usize,
        alpha: f64,
        seed: u64,
    ) -> Result<f64, ScoreError> {
        if !(alpha > 0.0 && alpha < 1.0) || resamples == 0 {
            return Err(ScoreError::Fit {
                score: "typicality batch test".into(),
                reason: format!(
                    "a threshold needs alpha in (0, 1) and resamples > 0, got {alpha} and \
                     {resamples}"
                ),
            });
        }
        let mut stats = self.statistics(held_out, resamples, seed)?;
        stats.sort_by(f64::total_cmp);
        let index = (((1.0 - alpha) * resamples as f64).ceil() as usize).clamp(1, resamples) - 1;
        Ok(stats[index])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scores::testing::{random_images, tiny_flow};

    #[test]
    fn an_input_whose_log_likelihood_is_the_entropy_has_distance_zero() {
        let model = tiny_flow(2);
        let x = random_images(3, 4);
        let log_p = log_likelihood_nats(&model, "ll", x.clone()).unwrap();
        let typicality = Typicality::new(&model, log_p[1]);
        let d = typicality.score(x).unwrap();
        assert_eq!(d[1], 0.0);
        assert!((d[0] - (log_p[0] - log_p[1]).abs()).abs() < 1e-9);
    }

    #[test]
    fn the_entropy_is_the_mean_of_the_finite_training_values() {
        assert_eq!(entropy_estimate(&[-1.0, -3.0, f64::NAN]).unwrap(), -2.0);
        assert!(entropy_estimate(&[f64::INFINITY]).is_err());
    }

    #[test]
    fn batches_of_one_are_single_inputs_and_larger_batches_average() {
        let ll = [-10.0, -12.0, -14.0, -16.0];
        let one = BatchTypicality {
            entropy: -13.0,
            batch_size: 1,
        };
        let stats = one.statistics(&ll, 200, 1).unwrap();
        assert!(stats.iter().all(|s| [1.0, 3.0].contains(s)), "{stats:?}");
        // The whole set as one batch: its mean is the entropy.
        let all = BatchTypicality {
            entropy: -13.0,
            batch_size: 4,
        };
        assert!(all.statistics(&ll, 5, 2).unwrap().iter().all(|&s| s == 0.0));
        assert!(all.statistics(&ll[..3], 1, 0).is_err());
    }

    #[test]
    fn the_threshold_rejects_about_alpha_of_in_distribution_batches() {
        // Held-out values spread around the entropy.
        let held_out: Vec<f64> = (0..1000)
            .map(|i| -1000.0 + f64::from(i % 41) - 20.0)
            .collect();
        let test = BatchTypicality {
            entropy: -1000.0,
            batch_size: 5,
        };
        let threshold = test.threshold(&held_out, 2000, 0.05, 7).unwrap();
        let fresh = test.statistics(&held_out, 4000, 8).unwrap();
        let rejected = fresh.iter().filter(|&&s| s > threshold).count() as f64 / 4000.0;
        assert!((0.02..=0.08).contains(&rejected), "{rejected}");
        // A shifted set is rejected almost always.
        let shifted: Vec<f64> = held_out.iter().map(|v| v + 40.0).collect();
        let far = test.statistics(&shifted, 1000, 9).unwrap();
        assert!(far.iter().filter(|&&s| s > threshold).count() > 990);
        assert!(test.threshold(&held_out, 10, 1.5, 0).is_err());
    }
}
