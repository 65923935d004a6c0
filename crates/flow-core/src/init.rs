//! Seeded parameter initialisation on the host.
//!
//! Every parameter of every model is drawn here, from one seeded RNG, and then uploaded.
//! Drawing on the host rather than with the backend's own RNG makes a model built with
//! the same seed identical on every backend (flex, ndarray, wgpu, cuda), which is what
//! lets the same checkpoint and the same property test mean the same thing everywhere.
//!
//! A seed also means the same model in every release of `rand`: the stream is ChaCha8
//! (specified bit for bit; `rand`'s `StdRng` promises no such thing), and the draws
//! from it (uniform, normal, permutation) are written out here rather than taken from
//! `rand`'s distributions, whose algorithms may change.

use burn::module::Param;
use burn::tensor::{backend::Backend, Shape, Tensor, TensorData};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A seeded source of initial parameter values: ChaCha8 with fixed conversions to
/// uniform and normal values.
#[derive(Debug, Clone)]
pub struct ParamInit {
    rng: ChaCha8Rng,
}

impl ParamInit {
    /// A source seeded with `seed`; the same seed gives the same parameters.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// A value uniform in `[0, 1)`: the top 53 bits of the next word, so every value is
    /// a multiple of 2^-53.
    fn unit(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Host values drawn uniformly from `[-bound, bound)`.
    pub fn uniform_values(&mut self, len: usize, bound: f64) -> Vec<f32> {
        (0..len)
            .map(|_| ((2.0 * self.unit() - 1.0) * bound) as f32)
            .collect()
    }

    /// Host values drawn from `N(0, std^2)` (Box-Muller: each pair of uniforms gives
    /// two independent normals).
    pub fn normal_values(&mut self, len: usize, std: f64) -> Vec<f64> {
        let mut values = Vec::with_capacity(len + 1);
        while values.len() < len {
            // 1 - u lies in (0, 1], so the logarithm is finite.
            let radius = (-2.0 * (1.0 - self.unit()).ln()).sqrt();
            let angle = std::f64::consts::TAU * self.unit();
            values.push(radius * angle.cos() * std);
            values.push(radius * angle.sin() * std);
        }
        values.truncate(len);
        values
    }

    /// A uniformly random permutation of `0..n` (Fisher-Yates; each index drawn by
    /// rejection, so no index is favoured).
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = self.below(i as u64 + 1) as usize;
            order.swap(i, j);
        }
        order
    }

    /// A value uniform in `0..bound` (`bound > 0`): words from the top of the range that
    /// would favour small values are drawn again.
    fn below(&mut self, bound: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % bound;
        loop {
            let word = self.rng.next_u64();
            if word < zone {
                return word % bound;
            }
        }
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

#[cfg(test)]
mod tests {
    use super::ParamInit;

    #[test]
    fn a_seed_gives_the_same_values_in_every_release() {
        // Pinned: a change here changes every model a seed builds.
        let mut init = ParamInit::new(0);
        let uniform = init.uniform_values(2, 1.0);
        let normal = init.normal_values(3, 1.0);
        let order = init.permutation(6);
        let again = {
            let mut init = ParamInit::new(0);
            (
                init.uniform_values(2, 1.0),
                init.normal_values(3, 1.0),
                init.permutation(6),
            )
        };
        assert_eq!((uniform.clone(), normal.clone(), order.clone()), again);
        assert_eq!(PINNED, format!("{uniform:?} {normal:?} {order:?}"));
    }

    /// Seed 0: two uniforms in [-1, 1), three standard normals, a permutation of 6.
    const PINNED: &str = "[0.41815084, -0.068156555] \
        [1.4404617263059913, 0.5721119196680132, -1.956916367593472] [1, 5, 4, 0, 3, 2]";

    #[test]
    fn draws_have_their_distributions() {
        let mut init = ParamInit::new(42);
        let n = 200_000;
        let uniform = init.uniform_values(n, 2.0);
        assert!(uniform.iter().all(|v| (-2.0..2.0).contains(v)));
        let mean = uniform.iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.02, "uniform mean {mean}");
        let normal = init.normal_values(n + 1, 3.0);
        assert_eq!(normal.len(), n + 1);
        let mean = normal.iter().sum::<f64>() / normal.len() as f64;
        let var = normal.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / normal.len() as f64;
        assert!(mean.abs() < 0.03, "normal mean {mean}");
        assert!((var.sqrt() - 3.0).abs() < 0.03, "normal sd {}", var.sqrt());
        // Every position of a permutation of 3 takes every value about equally often.
        let mut counts = [[0usize; 3]; 3];
        for _ in 0..30_000 {
            for (position, value) in init.permutation(3).into_iter().enumerate() {
                counts[position][value] += 1;
            }
        }
        for row in counts {
            for count in row {
                assert!((9_000..11_000).contains(&count), "{counts:?}");
            }
        }
        assert!(init.permutation(0).is_empty());
    }
}
