//! Seeded parameter initialisation on the host.
//!
//! Every parameter of every model is drawn here, from one seeded RNG, and then uploaded.
//! Drawing on the host rather than with the backend's own RNG makes a model built with
//! the same seed identical on every backend (flex, ndarray, wgpu, cuda), which is what
//! lets the same checkpoint and the same property test mean the same thing everywhere.

use burn::module::Param;
use burn::tensor::{backend::Backend, Shape, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

/// A seeded source of initial parameter values (rand's `StdRng`).
#[derive(Debug, Clone)]
pub struct ParamInit {
    rng: StdRng,
}

impl ParamInit {
    /// A source seeded with `seed`; the same seed gives the same parameters.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// Host values drawn uniformly from `[-bound, bound)`.
    pub fn uniform_values(&mut self, len: usize, bound: f64) -> Vec<f32> {
        (0..len)
            .map(|_| self.rng.random_range(-bound..bound) as f32)
            .collect()
    }

    /// Host values drawn from `N(0, std^2)`.
    pub fn normal_values(&mut self, len: usize, std: f64) -> Vec<f64> {
        (0..len)
            .map(|_| {
                let v: f64 = StandardNormal.sample(&mut self.rng);
                v * std
            })
            .collect()
    }

    /// A parameter drawn uniformly from `[-bound, bound)`.
    pub fn uniform<B: Backend, const D: usize>(
        &mut self,
        shape: [usize; D],
        bound: f64,
        device: &B::Device,
    ) -> Param<Tensor<B, D>> {
        let len = shape.iter().product();
        let values = self.uniform_values(len, bound);
        Param::from_tensor(tensor_from_f32(values, shape, device))
    }

    /// A parameter drawn from `N(0, std^2)`.
    pub fn normal<B: Backend, const D: usize>(
        &mut self,
        shape: [usize; D],
        std: f64,
        device: &B::Device,
    ) -> Param<Tensor<B, D>> {
        let len = shape.iter().product();
        let values = self
            .normal_values(len, std)
            .into_iter()
            .map(|v| v as f32)
            .collect();
        Param::from_tensor(tensor_from_f32(values, shape, device))
    }

    /// Direct access to the RNG, for layers that need structured draws (orthogonal
    /// matrices, permutations).
    pub fn rng(&mut self) -> &mut StdRng {
        &mut self.rng
    }
}

/// A parameter filled with `value`.
pub fn constant_param<B: Backend, const D: usize>(
    shape: [usize; D],
    value: f32,
    device: &B::Device,
) -> Param<Tensor<B, D>> {
    let len: usize = shape.iter().product();
    Param::from_tensor(tensor_from_f32(vec![value; len], shape, device))
}

/// A tensor of the device's default float dtype from host `f32` values.
pub fn tensor_from_f32<B: Backend, const D: usize>(
    values: Vec<f32>,
    shape: [usize; D],
    device: &B::Device,
) -> Tensor<B, D> {
    Tensor::from_data(TensorData::new(values, Shape::new(shape)), device)
}

/// A tensor of the device's default float dtype from host `f64` values (kept in `f64`
/// when the device's default is `f64`, as in the Jacobian tests).
pub fn tensor_from_f64<B: Backend, const D: usize>(
    values: Vec<f64>,
    shape: [usize; D],
    device: &B::Device,
) -> Tensor<B, D> {
    Tensor::from_data(TensorData::new(values, Shape::new(shape)), device)
}
