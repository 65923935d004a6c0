//! The per-input statistics a flow's traced forward pass gives: what DoSE fits its
//! densities on, and what a report's per-layer breakdown of `log p(x)` sums.

use burn::tensor::Tensor;
use flow_core::{FlowNet, Trace};
use flow_kernels::FlowBackend;

use super::{to_host, ScoreError};

/// What errors name.
const NAME: &str = "flow statistics";

/// Per-input statistics a flow's forward pass already computes: the log-likelihood, the
/// prior term `log N(z)`, and each layer's `log|det J|` (all in nats), as columns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FlowStatistics {
    /// Statistic names: `log p(x)`, `log N(z)`, then the layers' names.
    pub names: Vec<String>,
    /// `values[j][i]`: statistic `j` of input `i`.
    pub values: Vec<Vec<f64>>,
    /// The constant term of `log p(x)`, the same for every input: `-D log 256` for 8-bit
    /// data plus the preprocessing's convention (flow-core's `LogLikelihood::constant`).
    /// With it, `log p(x) = log N(z) + Σ layers' log-dets + constant`.
    pub constant: f64,
}

impl FlowStatistics {
    /// The statistics of every input of `x` under `model` (one traced forward pass).
    pub fn of<B: FlowBackend>(model: &FlowNet<B>, x: Tensor<B, 4>) -> Result<Self, ScoreError> {
        let mut trace = Trace::new();
        let terms = model
            .log_likelihood_traced(x, &mut trace)
            .map_err(|source| ScoreError::Flow {
                score: NAME.into(),
                source,
            })?;
        let mut names = vec!["log p(x)".to_string(), "log N(z)".to_string()];
        let mut values = vec![to_host(NAME, terms.nats())?, to_host(NAME, terms.prior)?];
        for layer in trace.into_layers() {
            names.push(layer.name);
            values.push(to_host(NAME, layer.log_det)?);
        }
        Ok(Self {
            names,
            values,
            constant: terms.constant,
        })
    }

    /// Appends the inputs of `other` (the same statistics, another batch).
    ///
    /// # Errors
    /// [`ScoreError::Fit`] when the two name different statistics.
    pub fn extend(&mut self, other: FlowStatistics) -> Result<(), ScoreError> {
        if self.names.is_empty() {
            *self = other;
            return Ok(());
        }
        if self.names != other.names || self.constant != other.constant {
            return Err(ScoreError::Fit {
                score: NAME.into(),
                reason: "batches traced different layers or constants".into(),
            });
        }
        for (column, more) in self.values.iter_mut().zip(other.values) {
            column.extend(more);
        }
        Ok(())
    }

    /// The log-likelihood column, `log p(x)` in nats (empty before any input).
    pub fn log_likelihood(&self) -> &[f64] {
        self.values.first().map_or(&[], Vec::as_slice)
    }

    /// The prior column, `log N(z)` in nats (empty before any input).
    pub fn prior(&self) -> &[f64] {
        self.values.get(1).map_or(&[], Vec::as_slice)
    }

    /// Each traced layer's name and its `log|det J|` column.
    pub fn layers(&self) -> impl Iterator<Item = (&str, &[f64])> {
        self.names
            .iter()
            .zip(&self.values)
            .skip(2)
            .map(|(name, column)| (name.as_str(), column.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scores::testing::{random_images, tiny_flow};

    #[test]
    fn the_columns_add_up_to_the_log_likelihood() {
        let flow = tiny_flow(3);
        let mut stats = FlowStatistics::of(&flow, random_images(3, 1)).unwrap();
        stats
            .extend(FlowStatistics::of(&flow, random_images(2, 2)).unwrap())
            .unwrap();
        assert_eq!(stats.log_likelihood().len(), 5);
        assert!(stats.layers().count() >= 2, "{:?}", stats.names);
        for i in 0..5 {
            let layers: f64 = stats.layers().map(|(_, column)| column[i]).sum();
            let sum = stats.prior()[i] + layers + stats.constant;
            let log_p = stats.log_likelihood()[i];
            assert!(
                (sum - log_p).abs() < 1e-3 * (1.0 + log_p.abs()),
                "{sum} against {log_p}"
            );
        }
        assert!(stats.constant < 0.0, "-D log 256 dominates");
    }
}
