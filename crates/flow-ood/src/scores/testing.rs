//! Fixtures of the score tests: tiny flows and random dequantized images.

use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};
use flow_core::{FlowConfig, FlowNet};
use flow_masks::MaskSchedule;
use rand::Rng;

use crate::Xoshiro256PlusPlus;

/// The backend of the score tests.
pub type B = Flex;

/// A fresh single-scale flow on 1x4x4 images (two checkerboard couplings), seeded.
pub fn tiny_flow(seed: u64) -> FlowNet<B> {
    FlowConfig::single_scale([1, 4, 4], MaskSchedule::checkerboard(2), 1, 4)
        .init::<B>(seed, &Default::default())
        .unwrap()
}

/// `n` 1x4x4 images of 8-bit pixels dequantized into `[0, 1)`, seeded.
pub fn random_images(n: usize, seed: u64) -> Tensor<B, 4> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let values: Vec<f32> = (0..n * 16)
        .map(|_| (f32::from(rng.random::<u8>()) + 0.5) / 256.0)
        .collect();
    Tensor::from_data(TensorData::new(values, [n, 1, 4, 4]), &Default::default())
}

/// `n` 1x4x4 images, every pixel the 8-bit value `pixel`, dequantized at its centre.
pub fn constant_images(n: usize, pixel: u8) -> Tensor<B, 4> {
    let value = (f32::from(pixel) + 0.5) / 256.0;
    Tensor::from_data(
        TensorData::new(vec![value; n * 16], [n, 1, 4, 4]),
        &Default::default(),
    )
}
