//! The two baselines a flow on embeddings should beat: one Gaussian fitted to all
//! training embeddings, and class-conditional Gaussians with a shared covariance.
//!
//! Both score with the squared Mahalanobis distance `d^2(x) = (x - mu)^T S^{-1} (x - mu)`
//! and report **scores oriented so that higher means more in-distribution**:
//! `score = -d^2`, the same orientation as a log-likelihood, so that they drop into the
//! same AUROC code as the flows.
//!
//! All arithmetic is `f64` on the host; covariances are the maximum-likelihood ones
//! (divided by N) plus a ridge of `ridge * mean(diag S)` on the diagonal before the
//! Cholesky factorisation.

use serde::{Deserialize, Serialize};

use crate::embeddings::Embeddings;
use crate::error::{EmbedError, Result};
use crate::linalg::{cholesky, inverse_quadratic_form, log_det_from_cholesky};

/// The default relative ridge added to covariance diagonals.
pub const DEFAULT_RIDGE: f64 = 1e-6;

/// One Gaussian `N(mu, S)` fitted to all training embeddings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GaussianFit {
    mean: Vec<f64>,
    /// Row-major lower Cholesky factor of the ridged covariance.
    cholesky: Vec<f64>,
    dim: usize,
}

impl GaussianFit {
    /// Fits mean and covariance to `data` (labels are ignored).
    ///
    /// # Errors
    /// [`EmbedError::Shape`] for fewer than 2 embeddings; [`EmbedError::Singular`] when
    /// the covariance is not positive definite even with the ridge.
    pub fn fit(data: &Embeddings, ridge: f64) -> Result<Self> {
        check_ridge(ridge)?;
        let n = data.len();
        if n < 2 {
            return Err(EmbedError::Shape(format!(
                "a Gaussian fit needs at least 2 embeddings, got {n}"
            )));
        }
        let d = data.dim();
        let mean = column_means(data.rows(), d);
        let mut scatter = vec![0.0; d * d];
        accumulate_scatter(data.rows(), &mean, &mut scatter);
        let cholesky = factor(scatter, n, d, ridge, "gaussian")?;
        Ok(Self {
            mean,
            cholesky,
            dim: d,
        })
    }

    /// The dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The fitted mean.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// The squared Mahalanobis distance of one embedding from the mean.
    ///
    /// # Errors
    /// [`EmbedError::Shape`] when `x` has another dimension.
    pub fn mahalanobis_sq(&self, x: &[f32]) -> Result<f64> {
        check_dim(x.len(), self.dim)?;
        let mut v: Vec<f64> = x
            .iter()
            .zip(&self.mean)
            .map(|(&a, m)| f64::from(a) - m)
            .collect();
        Ok(inverse_quadratic_form(&self.cholesky, self.dim, &mut v))
    }

    /// The Gaussian's log-density at `x`, in nats.
    ///
    /// # Errors
    /// [`EmbedError::Shape`] when `x` has another dimension.
    pub fn log_density(&self, x: &[f32]) -> Result<f64> {
        let d2 = self.mahalanobis_sq(x)?;
        let d = self.dim as f64;
        Ok(-0.5
            * (d2
                + d * (2.0 * std::f64::consts::PI).ln()
                + log_det_from_cholesky(&self.cholesky, self.dim)))
    }

    /// `-d^2` of every embedding of `data` (higher = more in-distribution).
    ///
    /// # Errors
    /// [`EmbedError::Shape`] when `data` has another dimension.
    pub fn scores(&self, data: &Embeddings) -> Result<Vec<f64>> {
        check_dim(data.dim(), self.dim)?;
        data.rows().map(|x| Ok(-self.mahalanobis_sq(x)?)).collect()
    }
}

/// Class-conditional Gaussians with one shared covariance (Lee et al., NeurIPS 2018,
/// "A Simple Unified Framework for Detecting Out-of-Distribution Samples and Adversarial
/// Attacks"), scored by the distance to the **closest** class mean:
/// `score = -min_c d_c^2`. This is their confidence score on one layer's features,
/// without their input preprocessing or feature ensemble.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassConditionalGaussian {
    /// The labels that had training embeddings, in increasing order.
    classes: Vec<u32>,
    /// One mean per class in `classes`, row-major.
    means: Vec<f64>,
    cholesky: Vec<f64>,
    dim: usize,
}

impl ClassConditionalGaussian {
    /// Fits one mean per label present in `data` and the covariance of the embeddings
    /// around their class means.
    ///
    /// # Errors
    /// [`EmbedError::Shape`] without labels or with fewer embeddings than classes + 1;
    /// [`EmbedError::Singular`] when the shared covariance is not positive definite even
    /// with the ridge.
    pub fn fit(data: &Embeddings, ridge: f64) -> Result<Self> {
        check_ridge(ridge)?;
        let labels = data.labels().ok_or_else(|| {
            EmbedError::Shape("class-conditional Gaussians need labelled embeddings".into())
        })?;
        let d = data.dim();
        let mut classes: Vec<u32> = labels.to_vec();
        classes.sort_unstable();
        classes.dedup();
        if data.len() <= classes.len() {
            return Err(EmbedError::Shape(format!(
                "{} embeddings cannot fit {} class means and a covariance",
                data.len(),
                classes.len()
            )));
        }
        let slot = |label: u32| classes.binary_search(&label).unwrap_or(0);
        let mut sums = vec![0.0; classes.len() * d];
        let mut counts = vec![0usize; classes.len()];
        for (row, &label) in data.rows().zip(labels) {
            let c = slot(label);
            counts[c] += 1;
            for (s, &v) in sums[c * d..(c + 1) * d].iter_mut().zip(row) {
                *s += f64::from(v);
            }
        }
        let means: Vec<f64> = sums
            .chunks(d)
            .zip(&counts)
            .flat_map(|(s, &n)| s.iter().map(move |v| v / n as f64))
            .collect();
        let mut scatter = vec![0.0; d * d];
        let mut centred = vec![0.0; d];
        for (row, &label) in data.rows().zip(labels) {
            let c = slot(label);
            for ((o, &v), m) in centred.iter_mut().zip(row).zip(&means[c * d..(c + 1) * d]) {
                *o = f64::from(v) - m;
            }
            add_outer(&mut scatter, &centred, d);
        }
        let cholesky = factor(scatter, data.len(), d, ridge, "class-conditional gaussian")?;
        Ok(Self {
            classes,
            means,
            cholesky,
            dim: d,
        })
    }

    /// The dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The labels with a fitted mean, in increasing order.
    pub fn classes(&self) -> &[u32] {
        &self.classes
    }

    /// The squared Mahalanobis distance of `x` to each class mean, in the order of
    /// [`ClassConditionalGaussian::classes`].
    ///
    /// # Errors
    /// [`EmbedError::Shape`] when `x` has another dimension.
    pub fn mahalanobis_sq(&self, x: &[f32]) -> Result<Vec<f64>> {
        check_dim(x.len(), self.dim)?;
        let d = self.dim;
        Ok(self
            .means
            .chunks(d)
            .map(|mean| {
                let mut v: Vec<f64> = x.iter().zip(mean).map(|(&a, m)| f64::from(a) - m).collect();
                inverse_quadratic_form(&self.cholesky, d, &mut v)
            })
            .collect())
    }

    /// The closest class (by Mahalanobis distance) and its squared distance.
    ///
    /// # Errors
    /// [`EmbedError::Shape`] when `x` has another dimension.
    pub fn nearest(&self, x: &[f32]) -> Result<(u32, f64)> {
        let distances = self.mahalanobis_sq(x)?;
        let (i, d2) = distances
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map_or((0, f64::INFINITY), |(i, &d)| (i, d));
        Ok((self.classes.get(i).copied().unwrap_or(0), d2))
    }

    /// `-min_c d_c^2` of every embedding of `data` (higher = more in-distribution).
    ///
    /// # Errors
    /// [`EmbedError::Shape`] when `data` has another dimension.
    pub fn scores(&self, data: &Embeddings) -> Result<Vec<f64>> {
        check_dim(data.dim(), self.dim)?;
        data.rows().map(|x| Ok(-self.nearest(x)?.1)).collect()
    }
}

fn check_ridge(ridge: f64) -> Result<()> {
    if ridge.is_finite() && ridge >= 0.0 {
        Ok(())
    } else {
        Err(EmbedError::Config(format!(
            "ridge {ridge} is not a non-negative number"
        )))
    }
}

fn check_dim(got: usize, expected: usize) -> Result<()> {
    if got == expected {
        Ok(())
    } else {
        Err(EmbedError::Shape(format!(
            "embeddings of dimension {got}, but the fit has dimension {expected}"
        )))
    }
}

fn column_means<'a>(rows: impl Iterator<Item = &'a [f32]>, d: usize) -> Vec<f64> {
    let mut sum = vec![0.0; d];
    let mut n = 0usize;
    for row in rows {
        n += 1;
        for (s, &v) in sum.iter_mut().zip(row) {
            *s += f64::from(v);
        }
    }
    sum.iter().map(|s| s / n.max(1) as f64).collect()
}

fn accumulate_scatter<'a>(
    rows: impl Iterator<Item = &'a [f32]>,
    mean: &[f64],
    scatter: &mut [f64],
) {
    let d = mean.len();
    let mut centred = vec![0.0; d];
    for row in rows {
        for ((o, &v), m) in centred.iter_mut().zip(row).zip(mean) {
            *o = f64::from(v) - m;
        }
        add_outer(scatter, &centred, d);
    }
}

/// Adds `v v^T` to the lower triangle of `a` (the upper is filled in by [`factor`]).
fn add_outer(a: &mut [f64], v: &[f64], d: usize) {
    for i in 0..d {
        let vi = v[i];
        for (j, vj) in v.iter().enumerate().take(i + 1) {
            a[i * d + j] += vi * vj;
        }
    }
}

/// Covariance = scatter / n plus the ridge, then its Cholesky factor.
fn factor(
    mut scatter: Vec<f64>,
    n: usize,
    d: usize,
    ridge: f64,
    what: &'static str,
) -> Result<Vec<f64>> {
    for i in 0..d {
        for j in 0..=i {
            let v = scatter[i * d + j] / n as f64;
            scatter[i * d + j] = v;
            scatter[j * d + i] = v;
        }
    }
    let mean_diag = (0..d).map(|i| scatter[i * d + i]).sum::<f64>() / d as f64;
    let added = ridge * mean_diag;
    for i in 0..d {
        scatter[i * d + i] += added;
    }
    cholesky(&scatter, d).map_err(|e| EmbedError::Singular {
        what,
        pivot: e.pivot,
        value: e.value,
        ridge: added,
    })
}
