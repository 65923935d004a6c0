//! Counting what an optimiser trains.
//!
//! burn's `Module::num_params` also counts running statistics (BatchNorm's running mean
//! and variance), which no optimiser touches; parameter counts reported next to
//! PyTorch's (`sum(p.numel() for p in model.parameters())`) must leave them out.

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::Tensor;

/// Adds up the elements of the visited parameters that require gradients.
struct TrainableCount(usize);

impl<B: AutodiffBackend> ModuleVisitor<B> for TrainableCount {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let value = param.val();
        if value.is_require_grad() {
            self.0 += value.shape().num_elements();
        }
    }
}

/// The number of trainable values of `module`: every parameter that requires
/// gradients, without running statistics (a module on an autodiff backend, as training
/// holds it; on an inner backend nothing requires gradients).
pub fn trainable_params<B: AutodiffBackend, M: Module<B>>(module: &M) -> usize {
    let mut count = TrainableCount(0);
    module.visit(&mut count);
    count.0
}
