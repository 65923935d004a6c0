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

    /// The statistics of every input of every batch, in order: [`of`](Self::of) over a
    /// set, as [`score_all`](super::score_all) is for a [`Score`](super::Score). The
    /// batches may fail (a data loader's error); the error type `E` takes both theirs and
    /// a [`ScoreError`].
    ///
    /// # Errors
    /// The first failing batch's error, or the [`ScoreError`] of a forward pass.
    pub fn of_batches<B: FlowBackend, E: From<ScoreError>>(
        model: &FlowNet<B>,
        batches: impl IntoIterator<Item = Result<Tensor<B, 4>, E>>,
    ) -> Result<Self, E> {
        let mut stats = Self::default();
        for batch in batches {
            stats.extend(Self::of(model, batch?)?)?;
        }
        Ok(stats)
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

    /// The log-likelihood column, taken out (empty before any input).
    pub fn into_log_likelihood(mut self) -> Vec<f64> {
        if self.values.is_empty() {
            return Vec::new();
        }
        self.values.swap_remove(0)
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

    #[test]
    fn statistics_of_batches_are_those_of_each_batch_in_order() {
        let flow = tiny_flow(3);
        let (a, b) = (random_images(3, 1), random_images(2, 2));
        let mut expected = FlowStatistics::of(&flow, a.clone()).unwrap();
        expected
            .extend(FlowStatistics::of(&flow, b.clone()).unwrap())
            .unwrap();
        let batches = [Ok::<_, ScoreError>(a.clone()), Ok(b)];
        let stats = FlowStatistics::of_batches(&flow, batches).unwrap();
        assert_eq!(stats, expected);
        assert_eq!(
            stats.clone().into_log_likelihood(),
            stats.log_likelihood().to_vec()
        );
        assert!(FlowStatistics::default().into_log_likelihood().is_empty());

        // A failing batch stops the pass with its own error.
        let failing = [
            Ok(a),
            Err(ScoreError::Readback {
                score: "loader".into(),
                message: "disk".into(),
            }),
        ];
        let error = FlowStatistics::of_batches(&flow, failing).unwrap_err();
        assert!(error.to_string().contains("disk"), "{error}");
    }
}
