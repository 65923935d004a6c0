//! Shared helpers of the flow-core integration tests; the general ones live in
//! `flow_core::testing`.
#![allow(dead_code)]

use burn::tensor::{Tensor, TensorData};
use flow_core::layers::LogitPreprocess;
use flow_core::models::{FlowNet, FlowStep, ScaleBlock};
use flow_core::testing::uniform;
use flow_kernels::FlowBackend;

/// A flow made of one step, for testing layers through the [`flow_core::Flow`] contract.
pub fn single_step<B: FlowBackend>(step: FlowStep<B>, shape: [usize; 3]) -> FlowNet<B> {
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
pub fn squeeze_only<B: FlowBackend>(shape: [usize; 3], factor_out: bool) -> FlowNet<B> {
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
pub fn logit_only<B: FlowBackend>(shape: [usize; 3]) -> FlowNet<B> {
    FlowNet::new(Vec::new(), Some(LogitPreprocess::default()), shape, None)
}

/// A batch of values in `[lo, hi)` drawn from `seed`.
pub fn random_input<B: FlowBackend>(
    shape: [usize; 4],
    lo: f64,
    hi: f64,
    seed: u64,
    device: &B::Device,
) -> Tensor<B, 4> {
    let values = uniform(shape.iter().product(), lo, hi, seed);
    Tensor::from_data(TensorData::new(values, shape), device)
}
