//! The tabular flow: RealNVP over vectors.
//!
//! `standardise -> ([ActNorm] -> coupling -> [permutation]) x K -> N(0, I)`, where the
//! couplings are flow-core's [`AffineCoupling`] with an MLP st-network over inputs shaped
//! `[N, D, 1, 1]`, transforming the first, second, first, ... half of the features
//! ([`MaskSchedule::tabular`]); the optional permutations are fixed, drawn once from a
//! seed, so that over several layers every feature is conditioned on every other.

use burn::module::Module;
use burn::tensor::{Int, Tensor, TensorData};
use flow_core::init::{tensor_from_f64, ParamInit};
use flow_core::layers::{ActNorm, AffineCoupling};
use flow_core::st_nets::StNetConfig;
use flow_core::{Flow, FlowError, FlowOutput, LayerRecord, Trace};
use flow_kernels::FlowBackend;
use flow_masks::{MaskSchedule, MaskShape};
use serde::{Deserialize, Serialize};

use crate::error::{EmbedError, Result};
use crate::standardize::Standardizer;

/// The tabular flow's architecture.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TabularFlowConfig {
    /// Dimension D of the vectors (at least 2).
    pub dim: usize,
    /// Number of coupling layers.
    pub couplings: usize,
    /// Width of the st-networks' hidden layers.
    pub hidden: usize,
    /// Hidden-to-hidden layers of each st-network after the first (0 gives one hidden
    /// layer).
    pub hidden_layers: usize,
    /// An ActNorm before each coupling (initialised from the first batch).
    pub actnorm: bool,
    /// A fixed random permutation of the features after each coupling but the last,
    /// drawn from this seed; `None` for none.
    pub permutation_seed: Option<u64>,
}

impl TabularFlowConfig {
    /// A flow on `dim`-dimensional vectors with the defaults the embedding study uses:
    /// 8 couplings, st-networks of two hidden layers of 256, ActNorm, permutations.
    pub fn new(dim: usize) -> Self {
        Self {
            dim,
            couplings: 8,
            hidden: 256,
            hidden_layers: 1,
            actnorm: true,
            permutation_seed: Some(0),
        }
    }

    /// Checks that the configuration can be built.
    ///
    /// # Errors
    /// [`EmbedError::Config`] for fewer than 2 dimensions, no couplings or a zero width.
    pub fn validate(&self) -> Result<()> {
        if self.dim < 2 {
            return Err(EmbedError::Config(format!(
                "tabular flow: dimension {}; at least 2 are needed to split in halves",
                self.dim
            )));
        }
        if self.couplings == 0 || self.hidden == 0 {
            return Err(EmbedError::Config(
                "tabular flow: couplings and hidden width must be positive".into(),
            ));
        }
        Ok(())
    }

    /// Builds the flow with parameters drawn from `seed`, standardising with
    /// `standardizer` (fitted on the training embeddings; see [`Standardizer::fit`]).
    ///
    /// # Errors
    /// [`EmbedError::Config`] for a bad configuration or a standardiser of another
    /// dimension.
    pub fn init<B: FlowBackend>(
        &self,
        seed: u64,
        standardizer: Standardizer,
        device: &B::Device,
    ) -> Result<TabularFlow<B>> {
        self.validate()?;
        if standardizer.dim() != self.dim {
            return Err(EmbedError::Config(format!(
                "standardiser of dimension {} for a flow of dimension {}",
                standardizer.dim(),
                self.dim
            )));
        }
        let mut rng = ParamInit::new(seed);
        let shape = MaskShape::vector(self.dim);
        let schedule = MaskSchedule::tabular(self.couplings);
        let st_net = StNetConfig::Mlp {
            hidden: self.hidden,
            layers: self.hidden_layers,
        };
        let mut permutation_rng = self.permutation_seed.map(ParamInit::new);
        let mut steps = Vec::new();
        for i in 0..self.couplings {
            if self.actnorm {
                steps.push(TabularStep::ActNorm(ActNorm::new(
                    format!("actnorm{i}"),
                    self.dim,
                    device,
                )));
            }
            let name = format!("coupling{i}");
            let mask = schedule
                .mask(i, shape)
                .map_err(|source| flow_core::FlowError::Mask {
                    layer: name.clone(),
                    source,
                })?;
            steps.push(TabularStep::Coupling(AffineCoupling::new(
                name, &mask, &st_net, &mut rng, device,
            )?));
            if let Some(prng) = permutation_rng.as_mut() {
                if i + 1 < self.couplings {
                    let order = prng.permutation(self.dim);
                    steps.push(TabularStep::Permute(Permutation::new(
                        format!("permutation{i}"),
                        &order,
                        device,
                    )?));
                }
            }
        }
        let mean = tensor_from_f64(standardizer.mean().to_vec(), [self.dim], device);
        let inv_std = tensor_from_f64(
            standardizer.std().iter().map(|s| 1.0 / s).collect(),
            [self.dim],
            device,
        );
        Ok(TabularFlow {
            steps,
            mean,
            inv_std,
            standardizer,
            config: self.clone(),
        })
    }

    /// The number of trainable parameters.
    pub fn num_params(&self) -> usize {
        let d = self.dim;
        let h = self.hidden;
        let mlp = (d + 1) * h + self.hidden_layers * (h + 1) * h + (h + 1) * 2 * d;
        // Each coupling: its MLP and the tanh rescale per feature; ActNorm: bias and scale.
        self.couplings * (mlp + d + if self.actnorm { 2 * d } else { 0 })
    }
}

/// A fixed permutation of the features: `y[i] = x[order[i]]`, log-determinant 0.
#[derive(Module, Debug)]
pub struct Permutation<B: FlowBackend> {
    forward: Tensor<B, 1, Int>,
    inverse: Tensor<B, 1, Int>,
    name: String,
}

impl<B: FlowBackend> Permutation<B> {
    /// The permutation `order` of `0..D`.
    ///
    /// # Errors
    /// [`EmbedError::Config`] when `order` is not a permutation of `0..order.len()`.
    pub fn new(name: impl Into<String>, order: &[usize], device: &B::Device) -> Result<Self> {
        let mut inverse = vec![None; order.len()];
        for (i, &o) in order.iter().enumerate() {
            match inverse.get_mut(o) {
                Some(slot @ None) => *slot = Some(i as i64),
                _ => {
                    return Err(EmbedError::Config(format!(
                        "{order:?} is not a permutation of 0..{}",
                        order.len()
                    )))
                }
            }
        }
        let inverse: Vec<i64> = inverse.into_iter().flatten().collect();
        let forward: Vec<i64> = order.iter().map(|&o| o as i64).collect();
        let n = order.len();
        Ok(Self {
            forward: Tensor::from_data(TensorData::new(forward, [n]), device),
            inverse: Tensor::from_data(TensorData::new(inverse, [n]), device),
            name: name.into(),
        })
    }

    fn forward(
        &self,
        x: Tensor<B, 4>,
        trace: Option<&mut Trace<B>>,
    ) -> (Tensor<B, 4>, Tensor<B, 1>) {
        let n = x.dims()[0];
        let log_det = Tensor::zeros([n], &x.device());
        let y = x.select(1, self.forward.clone());
        if let Some(trace) = trace {
            trace.push(LayerRecord {
                name: self.name.clone(),
                log_det: log_det.clone(),
                coupling: None,
            });
        }
        (y, log_det)
    }

    fn inverse(&self, y: Tensor<B, 4>) -> (Tensor<B, 4>, Tensor<B, 1>) {
        let n = y.dims()[0];
        let log_det = Tensor::zeros([n], &y.device());
        (y.select(1, self.inverse.clone()), log_det)
    }
}

/// One invertible step of the tabular flow.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum TabularStep<B: FlowBackend> {
    /// An affine coupling with an MLP st-network.
    Coupling(AffineCoupling<B>),
    /// ActNorm over the features.
    ActNorm(ActNorm<B>),
    /// A fixed permutation of the features.
    Permute(Permutation<B>),
}

impl<B: FlowBackend> TabularStep<B> {
    fn forward(
        &self,
        x: Tensor<B, 4>,
        trace: Option<&mut Trace<B>>,
    ) -> (Tensor<B, 4>, Tensor<B, 1>) {
        match self {
            TabularStep::Coupling(layer) => layer.forward(x, trace),
            TabularStep::ActNorm(layer) => layer.forward(x, trace),
            TabularStep::Permute(layer) => layer.forward(x, trace),
        }
    }

    fn inverse(&self, y: Tensor<B, 4>) -> (Tensor<B, 4>, Tensor<B, 1>) {
        match self {
            TabularStep::Coupling(layer) => layer.inverse(y),
            TabularStep::ActNorm(layer) => layer.inverse(y),
            TabularStep::Permute(layer) => layer.inverse(y),
        }
    }
}

/// The tabular flow (see the module docs). Its standardisation is part of the map, so
/// [`TabularFlow::log_prob`] is a density on the raw embeddings.
#[derive(Module, Debug)]
pub struct TabularFlow<B: FlowBackend> {
    steps: Vec<TabularStep<B>>,
    /// The standardiser's mean, a constant (not trained, not in the record).
    mean: Tensor<B, 1>,
    /// `1 / std` of the standardiser, likewise.
    inv_std: Tensor<B, 1>,
    #[module(skip)]
    standardizer: Standardizer,
    #[module(skip)]
    config: TabularFlowConfig,
}

impl<B: FlowBackend> TabularFlow<B> {
    /// The architecture.
    pub fn config(&self) -> &TabularFlowConfig {
        &self.config
    }

    /// The standardisation fitted on the training embeddings.
    pub fn standardizer(&self) -> &Standardizer {
        &self.standardizer
    }

    /// The dimension D.
    pub fn dim(&self) -> usize {
        self.config.dim
    }

    /// The steps after the standardisation, in forward order.
    pub fn steps(&self) -> &[TabularStep<B>] {
        &self.steps
    }

    /// Sets every ActNorm from the batch `x` (`[N, D]` raw embeddings) so that its
    /// output has zero mean and unit variance per feature (Glow's data-dependent
    /// initialisation), in forward order.
    ///
    /// # Errors
    /// [`EmbedError::Shape`] when `x` does not have D columns.
    pub fn initialize_actnorm(self, x: Tensor<B, 2>) -> Result<Self> {
        self.check_rows(&x)?;
        let mut y = self.standardize(as_4d(x)).0;
        let mut steps = Vec::with_capacity(self.steps.len());
        for step in self.steps {
            let step = match step {
                TabularStep::ActNorm(layer) => TabularStep::ActNorm(layer.initialize(&y)),
                other => other,
            };
            y = step.forward(y, None).0;
            steps.push(step);
        }
        Ok(Self { steps, ..self })
    }

    /// Checks that `x` is `[N, D]` with the flow's D.
    fn check_rows(&self, x: &Tensor<B, 2>) -> Result<()> {
        let [_, d] = x.dims();
        if d != self.dim() {
            return Err(EmbedError::Shape(format!(
                "vectors of dimension {d}, but the flow has dimension {}",
                self.dim()
            )));
        }
        Ok(())
    }

    fn standardize(&self, x: Tensor<B, 4>) -> (Tensor<B, 4>, Tensor<B, 1>) {
        let [n, d, _, _] = x.dims();
        let y = (x - self.mean.clone().reshape([1, d, 1, 1]))
            * self.inv_std.clone().reshape([1, d, 1, 1]);
        let log_det = Tensor::full([n], self.standardizer.log_det(), &y.device());
        (y, log_det)
    }

    /// `log p(x)` in nats of each row of `x` (`[N, D]` raw embeddings): the standard
    /// normal log-density of the latent plus `log|det J|` of the whole map,
    /// standardisation included.
    ///
    /// # Errors
    /// [`EmbedError::Shape`] when `x` does not have D columns.
    pub fn log_prob(&self, x: Tensor<B, 2>) -> Result<Tensor<B, 1>> {
        self.check_rows(&x)?;
        let out = self.forward_unchecked(as_4d(x), None);
        Ok(standard_normal_log_density(out.z) + out.log_det)
    }

    /// `n` samples of raw embeddings, `[n, D]`: `z ~ N(0, T^2 I)` drawn on the host from
    /// `seed`, through the inverse.
    pub fn sample(
        &self,
        n: usize,
        temperature: f64,
        seed: u64,
        device: &B::Device,
    ) -> Tensor<B, 2> {
        let d = self.dim();
        let z = ParamInit::new(seed).normal_values(n * d, temperature);
        // z is built in the flow's own shape, so the unchecked pass is safe here.
        let x = self
            .inverse_unchecked(tensor_from_f64(z, [n, d, 1, 1], device))
            .0;
        x.reshape([n, d])
    }
}

/// `[N, D]` as `[N, D, 1, 1]`, the layout of vectors in flow-core.
pub(crate) fn as_4d<B: FlowBackend>(x: Tensor<B, 2>) -> Tensor<B, 4> {
    let [n, d] = x.dims();
    x.reshape([n, d, 1, 1])
}

/// `log N(z; 0, I)` per sample of `[N, D, 1, 1]`.
pub(crate) fn standard_normal_log_density<B: FlowBackend>(z: Tensor<B, 4>) -> Tensor<B, 1> {
    let [n, d, _, _] = z.dims();
    let half_log_two_pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
    z.reshape([n, d])
        .square()
        .sum_dim(1)
        .reshape([n])
        .mul_scalar(-0.5)
        .sub_scalar(half_log_two_pi * d as f64)
}

impl<B: FlowBackend> Flow<B> for TabularFlow<B> {
    fn input_shape(&self) -> [usize; 3] {
        [self.dim(), 1, 1]
    }

    fn forward_traced(
        &self,
        x: Tensor<B, 4>,
        trace: Option<&mut Trace<B>>,
    ) -> std::result::Result<FlowOutput<B>, FlowError> {
        self.check_input(x.dims())?;
        Ok(self.forward_unchecked(x, trace))
    }

    fn inverse_with_log_det(
        &self,
        z: Tensor<B, 4>,
    ) -> std::result::Result<(Tensor<B, 4>, Tensor<B, 1>), FlowError> {
        self.check_input(z.dims())?;
        Ok(self.inverse_unchecked(z))
    }
}

/// The passes themselves, for callers that have checked the shape.
impl<B: FlowBackend> TabularFlow<B> {
    fn forward_unchecked(
        &self,
        x: Tensor<B, 4>,
        mut trace: Option<&mut Trace<B>>,
    ) -> FlowOutput<B> {
        let (mut y, mut log_det) = self.standardize(x);
        if let Some(trace) = trace.as_deref_mut() {
            trace.push(LayerRecord {
                name: "standardize".into(),
                log_det: log_det.clone(),
                coupling: None,
            });
        }
        for step in &self.steps {
            let (next, ld) = step.forward(y, trace.as_deref_mut());
            y = next;
            log_det = log_det + ld;
        }
        FlowOutput { z: y, log_det }
    }

    fn inverse_unchecked(&self, z: Tensor<B, 4>) -> (Tensor<B, 4>, Tensor<B, 1>) {
        let [n, d, _, _] = z.dims();
        let mut x = z;
        let mut log_det = Tensor::<B, 1>::zeros([n], &x.device());
        for step in self.steps.iter().rev() {
            let (prev, ld) = step.inverse(x);
            x = prev;
            log_det = log_det + ld;
        }
        let raw = x / self.inv_std.clone().reshape([1, d, 1, 1])
            + self.mean.clone().reshape([1, d, 1, 1]);
        (raw, log_det.sub_scalar(self.standardizer.log_det()))
    }
}
