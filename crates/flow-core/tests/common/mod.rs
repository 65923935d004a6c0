//! Shared helpers of the flow-core integration tests.
#![allow(dead_code)]

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use flow_core::layers::LogitPreprocess;
use flow_core::models::{FlowNet, FlowStep, ScaleBlock};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Adds `N(0, std^2)`-like noise (uniform, same variance) to every trainable parameter,
/// so that tests see a layer far from its (often identity) initialisation. Fixed
/// parameters (the 1x1 convolution's permutation and signs) are left alone.
pub struct Perturb {
    rng: StdRng,
    std: f64,
}

impl Perturb {
    pub fn new(seed: u64, std: f64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            std,
        }
    }
}

impl<B: Backend> ModuleMapper<B> for Perturb {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        if !param.is_require_grad() {
            return param;
        }
        let (id, tensor, mapper) = param.consume();
        let shape = tensor.shape();
        let device = tensor.device();
        let bound = self.std * 3f64.sqrt();
        let noise: Vec<f64> = (0..shape.num_elements())
            .map(|_| self.rng.random_range(-bound..bound))
            .collect();
        let noise = Tensor::<B, D>::from_data(TensorData::new(noise, shape), &device);
        Param::from_mapped_value(id, tensor + noise, mapper)
    }
}

/// `model` with every trainable parameter perturbed.
pub fn perturbed<B: Backend, M: Module<B>>(model: M, seed: u64, std: f64) -> M {
    model.map(&mut Perturb::new(seed, std))
}

/// A flow made of one step, for testing layers through the [`flow_core::Flow`] contract.
pub fn single_step<B: Backend>(step: FlowStep<B>, shape: [usize; 3]) -> FlowNet<B> {
    FlowNet::new(
        vec![ScaleBlock {
            pre: vec![step],
            squeeze: false,
            post: Vec::new(),
            factor_out: false,
        }],
        None,
        shape,
        None,
    )
}

/// A flow that only squeezes (and unsqueezes its latent back), to test the squeeze
/// and factor-out bookkeeping.
pub fn squeeze_only<B: Backend>(shape: [usize; 3], factor_out: bool) -> FlowNet<B> {
    FlowNet::new(
        vec![ScaleBlock {
            pre: Vec::new(),
            squeeze: true,
            post: Vec::new(),
            factor_out,
        }],
        None,
        shape,
        None,
    )
}

/// A flow of logit preprocessing alone.
pub fn logit_only<B: Backend>(shape: [usize; 3]) -> FlowNet<B> {
    FlowNet::new(Vec::new(), Some(LogitPreprocess::default()), shape, None)
}

/// A batch of values in `[lo, hi)` drawn from `seed`.
pub fn random_input<B: Backend>(
    shape: [usize; 4],
    lo: f64,
    hi: f64,
    seed: u64,
    device: &B::Device,
) -> Tensor<B, 4> {
    let mut rng = StdRng::seed_from_u64(seed);
    let values: Vec<f64> = (0..shape.iter().product::<usize>())
        .map(|_| rng.random_range(lo..hi))
        .collect();
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// Host copy of a tensor as `f64`.
pub fn host<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f64> {
    t.into_data().convert::<f64>().to_vec().expect("float data")
}

/// Largest absolute difference.
pub fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}
