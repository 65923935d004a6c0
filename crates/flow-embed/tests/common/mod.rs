//! Shared helpers of the flow-embed integration tests.
#![allow(dead_code)]

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Device, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Adds uniform noise of standard deviation `std` to every trainable parameter, so that
/// tests see layers far from their (often identity) initialisation.
pub struct Perturb {
    rng: StdRng,
    std: f64,
}

impl<B: Backend> ModuleMapper<B> for Perturb {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
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
    model.map(&mut Perturb {
        rng: StdRng::seed_from_u64(seed),
        std,
    })
}

/// The device of `B` with f64 as its default float type (set once per process).
pub fn device_f64<B: Backend>() -> Device<B> {
    let device = Device::<B>::default();
    // Fails harmlessly when another test of this binary already set it.
    let _ = burn::tensor::set_default_dtypes::<B>(&device, DType::F64, DType::I64);
    let probe = Tensor::<B, 1>::zeros([1], &device);
    assert_eq!(probe.dtype(), DType::F64, "these tests need f64");
    device
}

/// Values in `[lo, hi)` drawn from `seed`.
pub fn uniform(n: usize, lo: f64, hi: f64, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(lo..hi)).collect()
}

/// Host copy of a tensor as `f64`.
pub fn host<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f64> {
    t.into_data().convert::<f64>().to_vec().expect("float data")
}

/// log|det| of a row-major `n x n` matrix by LU with partial pivoting.
pub fn log_abs_det(mut a: Vec<f64>, n: usize) -> f64 {
    let mut total = 0.0;
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&x, &y| a[x * n + col].abs().total_cmp(&a[y * n + col].abs()))
            .unwrap();
        for k in 0..n {
            a.swap(col * n + k, pivot * n + k);
        }
        let d = a[col * n + col];
        assert!(d != 0.0, "singular Jacobian");
        total += d.abs().ln();
        for row in col + 1..n {
            let f = a[row * n + col] / d;
            for k in col..n {
                a[row * n + k] -= f * a[col * n + k];
            }
        }
    }
    total
}
