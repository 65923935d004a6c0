//! The tabular flow: RealNVP over vectors.
//!
//! `standardise -> ([ActNorm] -> coupling -> [permutation]) x K -> N(0, I)`, where the
//! couplings are flow-core's [`AffineCoupling`] with an MLP st-network over inputs shaped
//! `[N, D, 1, 1]`, transforming the first, second, first, ... half of the features
//! ([`MaskSchedule::tabular`]); the optional permutations are fixed, drawn once from a
//! seed, so that over several layers every feature is conditioned on every other.

use burn::module::Module;
use burn::tensor::Tensor;
use flow_core::init::{tensor_from_f64, ParamInit};
use flow_core::layers::{ActNorm, AffineCoupling, Permutation};
use flow_core::models::{FlowNet, FlowStep};
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
                steps.push(FlowStep::ActNorm(ActNorm::new(
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
            steps.push(FlowStep::Coupling(AffineCoupling::new(
                name, &mask, &st_net, &mut rng, device,
            )?));
            if let Some(prng) = permutation_rng.as_mut() {
                if i + 1 < self.couplings {
                    let order = prng.permutation(self.dim);
                    steps.push(FlowStep::Permute(Permutation::new(
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
            net: FlowNet::stack(steps, [self.dim, 1, 1]),
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

/// The tabular flow (see the module docs). Its standardisation is part of the map, so
/// [`TabularFlow::log_prob`] is a density on the raw embeddings.
#[derive(Module, Debug)]
pub struct TabularFlow<B: FlowBackend> {
    /// The steps after the standardisation: one scale of flow-core's steps.
    net: FlowNet<B>,
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
    pub fn steps(&self) -> &[FlowStep<B>] {
        self.net.scales().first().map_or(&[], |scale| &scale.pre)
    }

    /// Sets every ActNorm from the batch `x` (`[N, D]` raw embeddings) so that its
    /// output has zero mean and unit variance per feature (Glow's data-dependent
    /// initialisation), in forward order.
    ///
    /// # Errors
    /// [`EmbedError::Shape`] when `x` does not have D columns.
    pub fn initialize_actnorm(self, x: Tensor<B, 2>) -> Result<Self> {
        self.check_rows(&x)?;
        let y = self.standardize(as_4d(x)).0;
        let net = self.net.initialize_actnorm(y)?;
        Ok(Self { net, ..self })
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

    /// The inverse of [`Self::standardize`]'s map.
    fn unstandardize(&self, y: Tensor<B, 4>) -> Tensor<B, 4> {
        let d = self.dim();
        y / self.inv_std.clone().reshape([1, d, 1, 1]) + self.mean.clone().reshape([1, d, 1, 1])
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
        let out = self.forward(as_4d(x))?;
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
        let x = self.net.sample(n, temperature, seed, device);
        self.unstandardize(x).reshape([n, d])
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
        mut trace: Option<&mut Trace<B>>,
    ) -> std::result::Result<FlowOutput<B>, FlowError> {
        self.check_input(x.dims())?;
        let (y, standardize_log_det) = self.standardize(x);
        if let Some(trace) = trace.as_deref_mut() {
            trace.push(LayerRecord {
                name: "standardize".into(),
                log_det: standardize_log_det.clone(),
                coupling: None,
            });
        }
        let out = self.net.forward_traced(y, trace)?;
        Ok(FlowOutput {
            z: out.z,
            log_det: standardize_log_det + out.log_det,
        })
    }

    fn inverse_with_log_det(
        &self,
        z: Tensor<B, 4>,
    ) -> std::result::Result<(Tensor<B, 4>, Tensor<B, 1>), FlowError> {
        self.check_input(z.dims())?;
        let (y, log_det) = self.net.inverse_with_log_det(z)?;
        Ok((
            self.unstandardize(y),
            log_det.sub_scalar(self.standardizer.log_det()),
        ))
    }
}
