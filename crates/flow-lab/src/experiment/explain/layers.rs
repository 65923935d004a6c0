//! Where `log p(x)` comes from: the mean contribution of each layer's log-determinant
//! and of the prior, per scored set, gathered while the sets are scored (no extra
//! forward pass), and drawn as a grouped bar chart.

use std::path::Path;

use flow_ood::scores::FlowStatistics;
use flow_plot::Series;
use serde::{Deserialize, Serialize};

use super::super::ExperimentError;

/// The mean terms of `log p(x)` over one set of images, in nats per image:
/// `log p(x) = sum(log_det) + prior + constant`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerBreakdown {
    /// The traced layers, in forward order (the preprocessing first).
    pub layers: Vec<String>,
    /// Mean `log|det J|` of each layer.
    pub log_det: Vec<f64>,
    /// Mean `log N(z; 0, I)`.
    pub prior: f64,
    /// The constant term (`-D log 256` and any preprocessing convention).
    pub constant: f64,
    /// Images (times dequantization draws) averaged.
    pub samples: usize,
}

impl LayerBreakdown {
    /// The mean `log p(x)` these terms add up to.
    pub fn total(&self) -> f64 {
        self.log_det.iter().sum::<f64>() + self.prior + self.constant
    }
}

/// Sums per-layer terms set by set (one set per dequantization draw); [`LayerSums::finish`] gives the means.
#[derive(Debug, Clone, Default)]
pub struct LayerSums {
    layers: Vec<String>,
    log_det: Vec<f64>,
    prior: f64,
    constant: f64,
    samples: usize,
}

impl LayerSums {
    /// Adds the statistics of a set of images (flow-ood's traced forward passes): each
    /// layer's per-image log-det, the prior term and the constant. The layer names must
    /// be the same, in the same order, on every call.
    pub fn add(&mut self, stats: &FlowStatistics) -> Result<(), String> {
        if self.layers.is_empty() && self.samples == 0 {
            self.layers = stats.layers().map(|(name, _)| name.to_string()).collect();
            self.log_det = vec![0.0; self.layers.len()];
        }
        let same = self.layers.len() == stats.layers().count()
            && self
                .layers
                .iter()
                .zip(stats.layers())
                .all(|(a, (b, _))| a == b);
        if !same {
            return Err("the traced layers differ from batch to batch".into());
        }
        let images = stats.prior().len();
        if let Some((name, v)) = stats.layers().find(|(_, v)| v.len() != images) {
            return Err(format!(
                "layer {name} has {} values for {images} images",
                v.len()
            ));
        }
        for (sum, (_, values)) in self.log_det.iter_mut().zip(stats.layers()) {
            *sum += values.iter().sum::<f64>();
        }
        self.prior += stats.prior().iter().sum::<f64>();
        self.constant = stats.constant;
        self.samples += images;
        Ok(())
    }

    /// The means, or `None` before any sample was added.
    pub fn finish(&self) -> Option<LayerBreakdown> {
        if self.samples == 0 {
            return None;
        }
        let n = self.samples as f64;
        Some(LayerBreakdown {
            layers: self.layers.clone(),
            log_det: self.log_det.iter().map(|s| s / n).collect(),
            prior: self.prior / n,
            constant: self.constant,
            samples: self.samples,
        })
    }
}

/// The bars of the per-layer chart: categories (each layer, then the prior) and one
/// series per set. Sets whose layers differ from the first set's are an error.
pub fn layer_bars(sets: &[(String, LayerBreakdown)]) -> Result<(Vec<String>, Vec<Series>), String> {
    let Some((_, first)) = sets.first() else {
        return Err("no scored sets".into());
    };
    let mut categories: Vec<String> = first.layers.clone();
    categories.push("prior log N(z)".into());
    let mut series = Vec::with_capacity(sets.len());
    for (name, b) in sets {
        if b.layers != first.layers {
            return Err(format!("set {name} was traced through other layers"));
        }
        let mut values = b.log_det.clone();
        values.push(b.prior);
        series.push(Series::new(name.clone(), values));
    }
    Ok((categories, series))
}

/// The same bars as differences from the first set (the in-distribution test set):
/// positive where a set gains likelihood over it.
pub fn layer_gain_bars(
    sets: &[(String, LayerBreakdown)],
) -> Result<(Vec<String>, Vec<Series>), String> {
    let (categories, series) = layer_bars(sets)?;
    let Some(base) = series.first().map(|s| s.values.clone()) else {
        return Err("no scored sets".into());
    };
    let gains = series
        .into_iter()
        .skip(1)
        .map(|s| {
            let values = s.values.iter().zip(&base).map(|(v, b)| v - b).collect();
            Series::new(s.label, values)
        })
        .collect();
    Ok((categories, gains))
}

/// Writes `<name>_layers.png`: the mean terms of `log p(x)` per set, and the gain of
/// each OOD set over the in-distribution test set (the first of `sets`) in a second
/// chart `<name>_layer_gain.png`. Returns the file names.
pub fn write_layer_figures(
    dir: &Path,
    name: &str,
    sets: &[(String, LayerBreakdown)],
) -> Result<Vec<String>, ExperimentError> {
    let invalid = |reason: String| ExperimentError::Explain {
        model: name.to_string(),
        reason,
    };
    let (categories, series) = layer_bars(sets).map_err(invalid)?;
    let constant = sets.first().map_or(0.0, |(_, b)| b.constant);
    let file = format!("{name}_layers.png");
    flow_plot::bar_png(
        &dir.join(&file),
        &format!(
            "{name}: mean contribution of each layer's log-det and of the prior to log p(x) \
             (constant {constant:.0} nats not shown)"
        ),
        "nats per image",
        &categories,
        &series,
    )?;
    let mut written = vec![file];
    if sets.len() > 1 {
        let (categories, gains) = layer_gain_bars(sets).map_err(invalid)?;
        let file = format!("{name}_layer_gain.png");
        let base = sets.first().map_or("", |(n, _)| n.as_str());
        // Colours continue from the first chart's, so each set keeps its colour.
        flow_plot::bar_png_from_colour(
            &dir.join(&file),
            &format!("{name}: per-layer gain in log p(x) of each OOD set over {base}"),
            "nats per image (> 0: the OOD set gains here)",
            &categories,
            &gains,
            1,
        )?;
        written.push(file);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Statistics of images whose `preprocess` and `coupling0` log-dets are `a` and `b`.
    fn stats(a: Vec<f64>, b: Vec<f64>, prior: Vec<f64>, constant: f64) -> FlowStatistics {
        let log_p = (0..prior.len())
            .map(|i| a[i] + b[i] + prior[i] + constant)
            .collect();
        FlowStatistics {
            names: ["log p(x)", "log N(z)", "preprocess", "coupling0"]
                .map(String::from)
                .to_vec(),
            values: vec![log_p, prior, a, b],
            constant,
        }
    }

    #[test]
    fn means_add_up_to_the_mean_log_likelihood() {
        let mut sums = LayerSums::default();
        assert!(sums.finish().is_none());
        sums.add(&stats(
            vec![1.0, 3.0],
            vec![-2.0, 0.0],
            vec![-10.0, -12.0],
            -5.0,
        ))
        .unwrap();
        sums.add(&stats(vec![5.0], vec![2.0], vec![-8.0], -5.0))
            .unwrap();
        let b = sums.finish().unwrap();
        assert_eq!(b.samples, 3);
        assert_eq!(b.log_det, vec![3.0, 0.0]);
        assert_eq!(b.prior, -10.0);
        // Per-sample log p: (1 - 2 - 10 - 5), (3 + 0 - 12 - 5), (5 + 2 - 8 - 5).
        let mean = ((1.0 - 2.0 - 10.0 - 5.0) + (3.0 - 12.0 - 5.0) + (5.0 + 2.0 - 8.0 - 5.0)) / 3.0;
        assert!((b.total() - mean).abs() < 1e-12);
    }

    #[test]
    fn mismatched_sets_are_refused() {
        let mut sums = LayerSums::default();
        sums.add(&stats(vec![1.0], vec![1.0], vec![0.0], 0.0))
            .unwrap();
        let mut fewer_layers = stats(vec![1.0], vec![1.0], vec![0.0], 0.0);
        fewer_layers.names.pop();
        fewer_layers.values.pop();
        assert!(sums.add(&fewer_layers).is_err());
        let mut short_column = stats(vec![1.0, 2.0], vec![1.0, 1.0], vec![0.0, 0.0], 0.0);
        short_column.values[3].pop();
        assert!(sums.add(&short_column).is_err());
    }

    #[test]
    fn bars_list_layers_then_the_prior_and_gains_subtract_the_first_set() {
        let b = |ld: Vec<f64>, prior: f64| LayerBreakdown {
            layers: vec!["preprocess".into(), "coupling0".into()],
            log_det: ld,
            prior,
            constant: -100.0,
            samples: 1,
        };
        let sets = vec![
            ("in test".to_string(), b(vec![10.0, 1.0], -50.0)),
            ("OOD".to_string(), b(vec![30.0, 2.0], -60.0)),
        ];
        let (cats, series) = layer_bars(&sets).unwrap();
        assert_eq!(cats, vec!["preprocess", "coupling0", "prior log N(z)"]);
        assert_eq!(series[1].values, vec![30.0, 2.0, -60.0]);
        let (_, gains) = layer_gain_bars(&sets).unwrap();
        assert_eq!(gains.len(), 1);
        assert_eq!(gains[0].label, "OOD");
        assert_eq!(gains[0].values, vec![20.0, 1.0, -10.0]);
        let mut other = sets.clone();
        other[1].1.layers[1] = "coupling9".into();
        assert!(layer_bars(&other).is_err());
        assert!(layer_bars(&[]).is_err());
    }
}
