//! A fixed permutation of the channels (for vectors `[N, D, 1, 1]`: of the features).

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};

use crate::error::FlowError;
use crate::flow::{LayerRecord, Trace};

/// `y[:, i] = x[:, order[i]]`, log-determinant 0: drawn once (e.g. from
/// [`ParamInit::permutation`](crate::init::ParamInit::permutation)) and never trained,
/// so that over several couplings every channel is conditioned on every other.
#[derive(Module, Debug)]
pub struct Permutation<B: Backend> {
    forward: Tensor<B, 1, Int>,
    inverse: Tensor<B, 1, Int>,
    name: String,
}

impl<B: Backend> Permutation<B> {
    /// The permutation `order` of `0..order.len()`.
    ///
    /// # Errors
    /// [`FlowError::Config`] when `order` is not a permutation of `0..order.len()`.
    pub fn new(
        name: impl Into<String>,
        order: &[usize],
        device: &B::Device,
    ) -> Result<Self, FlowError> {
        let mut inverse = vec![None; order.len()];
        for (i, &o) in order.iter().enumerate() {
            match inverse.get_mut(o) {
                Some(slot @ None) => *slot = Some(i as i64),
                _ => {
                    return Err(FlowError::Config {
                        message: format!("{order:?} is not a permutation of 0..{}", order.len()),
                    })
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

    /// `y = x[:, order]`, with a zero log-determinant per sample.
    pub fn forward(
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

    /// The inverse map and its (zero) log-determinant.
    pub fn inverse(&self, y: Tensor<B, 4>) -> (Tensor<B, 4>, Tensor<B, 1>) {
        let n = y.dims()[0];
        let log_det = Tensor::zeros([n], &y.device());
        (y.select(1, self.inverse.clone()), log_det)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;

    #[test]
    fn only_permutations_are_accepted() {
        let device = Default::default();
        assert!(Permutation::<NdArray>::new("p", &[1, 0, 2], &device).is_ok());
        assert!(Permutation::<NdArray>::new("p", &[], &device).is_ok());
        for bad in [&[0, 0, 1][..], &[0, 3, 1]] {
            assert!(matches!(
                Permutation::<NdArray>::new("p", bad, &device),
                Err(FlowError::Config { .. })
            ));
        }
    }
}
