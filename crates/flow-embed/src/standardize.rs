//! Per-dimension standardisation fitted on training embeddings.
//!
//! Classifier embeddings have dimensions whose scales differ by orders of magnitude; a
//! flow fitted on them raw starts far from its prior and diverges (the reference's
//! tabular flow does). Standardising first puts every dimension at mean 0 and standard
//! deviation 1. The map is affine, so it is part of the flow: its log-determinant,
//! `-sum(log std)`, is counted and the flow's density stays a density on the raw
//! embeddings.

use serde::{Deserialize, Serialize};

use crate::embeddings::Embeddings;
use crate::error::{EmbedError, Result};

/// The smallest standard deviation a dimension is divided by. A dimension that is
/// (nearly) constant on the training set would otherwise be blown up without bound.
pub const STD_FLOOR: f64 = 1e-6;

/// `x -> (x - mean) / std` per dimension, with mean and std fitted in `f64`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Standardizer {
    mean: Vec<f64>,
    std: Vec<f64>,
}

impl Standardizer {
    /// Fits mean and (population) standard deviation per dimension, the latter floored
    /// at [`STD_FLOOR`].
    ///
    /// # Errors
    /// [`EmbedError::Shape`] for fewer than 2 embeddings.
    pub fn fit(data: &Embeddings) -> Result<Self> {
        let n = data.len();
        if n < 2 {
            return Err(EmbedError::Shape(format!(
                "standardisation needs at least 2 embeddings, got {n}"
            )));
        }
        let d = data.dim();
        let mut mean = vec![0.0; d];
        for row in data.rows() {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += f64::from(v);
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let mut var = vec![0.0; d];
        for row in data.rows() {
            for ((s, &v), m) in var.iter_mut().zip(row).zip(&mean) {
                let c = f64::from(v) - m;
                *s += c * c;
            }
        }
        let std = var
            .into_iter()
            .map(|s| (s / n as f64).sqrt().max(STD_FLOOR))
            .collect();
        Ok(Self { mean, std })
    }

    /// A standardiser with the given mean and standard deviation per dimension.
    ///
    /// # Errors
    /// [`EmbedError::Shape`] when the lengths differ or are zero; [`EmbedError::NonFinite`]
    /// for a non-finite value or a standard deviation below [`STD_FLOOR`].
    pub fn new(mean: Vec<f64>, std: Vec<f64>) -> Result<Self> {
        if mean.len() != std.len() || mean.is_empty() {
            return Err(EmbedError::Shape(format!(
                "standardiser of {} means and {} standard deviations",
                mean.len(),
                std.len()
            )));
        }
        if mean.iter().any(|m| !m.is_finite())
            || std.iter().any(|s| !(s.is_finite() && *s >= STD_FLOOR))
        {
            return Err(EmbedError::NonFinite(
                "standardiser means must be finite and standard deviations at least the floor"
                    .into(),
            ));
        }
        Ok(Self { mean, std })
    }

    /// The identity on `dim` dimensions.
    pub fn identity(dim: usize) -> Self {
        Self {
            mean: vec![0.0; dim],
            std: vec![1.0; dim],
        }
    }

    /// The dimension.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// Mean per dimension.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// Standard deviation per dimension.
    pub fn std(&self) -> &[f64] {
        &self.std
    }

    /// `log|det|` of the map: `-sum(log std)`, the same for every input.
    pub fn log_det(&self) -> f64 {
        -self.std.iter().map(|s| s.ln()).sum::<f64>()
    }

    /// Standardises one embedding.
    pub fn apply(&self, x: &[f32]) -> Vec<f64> {
        x.iter()
            .zip(self.mean.iter().zip(&self.std))
            .map(|(&v, (m, s))| (f64::from(v) - m) / s)
            .collect()
    }
}
