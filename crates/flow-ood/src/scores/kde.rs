//! One-dimensional Gaussian kernel density estimates.

use std::f64::consts::PI;

use super::ScoreError;

/// How a [`GaussianKde`] chooses its bandwidth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bandwidth {
    /// Scott's rule, `σ n^(-1/5)` (σ the sample standard deviation), times a factor
    /// (1 for the rule itself; other factors for a validated choice).
    Scott(f64),
    /// A fixed bandwidth.
    Fixed(f64),
}

/// A Gaussian kernel density estimate over samples of one statistic.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianKde {
    samples: Vec<f64>,
    bandwidth: f64,
}

impl GaussianKde {
    /// Fits the estimate to the finite values of `samples`.
    ///
    /// # Errors
    /// [`ScoreError::Fit`] when fewer than two values are finite, or the bandwidth is
    /// not positive and finite (for Scott's rule: the values do not vary).
    pub fn fit(samples: &[f64], bandwidth: Bandwidth) -> Result<Self, ScoreError> {
        let samples: Vec<f64> = samples.iter().copied().filter(|v| v.is_finite()).collect();
        let fail = |reason: String| ScoreError::Fit {
            score: "kernel density estimate".into(),
            reason,
        };
        let n = samples.len();
        if n < 2 {
            return Err(fail(format!("needs 2 finite samples or more, got {n}")));
        }
        let bandwidth = match bandwidth {
            Bandwidth::Fixed(h) => h,
            Bandwidth::Scott(factor) => {
                let mean = samples.iter().sum::<f64>() / n as f64;
                let var = samples.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
                factor * var.sqrt() * (n as f64).powf(-0.2)
            }
        };
        if !(bandwidth.is_finite() && bandwidth > 0.0) {
            return Err(fail(format!(
                "the bandwidth must be positive and finite, got {bandwidth} (do the samples \
                 vary?)"
            )));
        }
        Ok(Self { samples, bandwidth })
    }

    /// The bandwidth in use.
    pub fn bandwidth(&self) -> f64 {
        self.bandwidth
    }

    /// `log p̂(x)`: the log of the mean of the kernels at `x`, computed with the
    /// log-sum-exp shift so that far tails stay finite.
    pub fn log_density(&self, x: f64) -> f64 {
        let h = self.bandwidth;
        let exponents = self.samples.iter().map(|s| -0.5 * ((x - s) / h).powi(2));
        let max = exponents.clone().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = exponents.map(|e| (e - max).exp()).sum();
        max + sum.ln() - (self.samples.len() as f64).ln() - (h * (2.0 * PI).sqrt()).ln()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_density_integrates_to_one() {
        let samples = [-2.0, -1.5, 0.0, 0.3, 1.0, 4.0, 4.5];
        let kde = GaussianKde::fit(&samples, Bandwidth::Scott(1.0)).unwrap();
        let (lo, hi, steps) = (-20.0, 25.0, 90_000);
        let dx = (hi - lo) / f64::from(steps);
        let integral: f64 = (0..steps)
            .map(|i| kde.log_density(lo + (f64::from(i) + 0.5) * dx).exp() * dx)
            .sum();
        assert!((integral - 1.0).abs() < 1e-6, "{integral}");
    }

    #[test]
    fn one_sample_pair_gives_the_mean_of_two_normal_densities() {
        let kde = GaussianKde::fit(&[0.0, 2.0], Bandwidth::Fixed(1.0)).unwrap();
        let normal = |x: f64| (-0.5 * x * x).exp() / (2.0 * PI).sqrt();
        let expected = 0.5 * (normal(1.0) + normal(-1.0));
        assert!((kde.log_density(1.0) - expected.ln()).abs() < 1e-12);
        // Far out the log density is still finite and falls like a Gaussian's.
        assert!(kde.log_density(1e4).is_finite());
    }

    #[test]
    fn constant_or_too_few_samples_are_refused() {
        assert!(GaussianKde::fit(&[1.0, 1.0, 1.0], Bandwidth::Scott(1.0)).is_err());
        assert!(GaussianKde::fit(&[1.0, f64::NAN], Bandwidth::Scott(1.0)).is_err());
        assert!(GaussianKde::fit(&[1.0, 2.0], Bandwidth::Fixed(0.0)).is_err());
    }
}
