//! Seeded shuffling and batching of an [`ImageDataset`] into burn tensors.
//!
//! Two pixel forms are offered, both as `f32` values laid out `N x C x H x W`:
//!
//! - [`PixelForm::Scaled`]: `x = pixel / 255`, in `[0, 1]`. This is the `x` of the
//!   project's preprocessing formula `u = (255 x + U[0,1)) / 256`; a model that adds its own
//!   dequantization noise takes this form.
//! - [`PixelForm::Dequantized`]: `x = (pixel + U[0,1)) / 256`, in `[0, 1)`. This *is* that
//!   `u`, with the noise already drawn here from a seeded ChaCha8 generator; what remains for
//!   the model is `p = 0.05 + 0.9 u`, `y = logit(p)`.
//!
//! The two are related exactly by `dequantized = (255 * scaled + U) / 256`.

use burn::tensor::{backend::Backend, Int, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::dataset::ImageDataset;
use crate::error::{DataError, Result};

/// How pixel bytes become tensor values (see the module docs for the formulas).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelForm {
    /// `pixel / 255`, in `[0, 1]`, no noise.
    Scaled,
    /// `(pixel + U[0,1)) / 256`, in `[0, 1)`, with seeded uniform noise.
    Dequantized,
}

/// A batch of images and their labels as tensors on one device.
#[derive(Debug, Clone)]
pub struct ImageBatch<B: Backend> {
    /// `N x C x H x W` pixel values in the batcher's [`PixelForm`].
    pub images: Tensor<B, 4>,
    /// `N` labels.
    pub labels: Tensor<B, 1, Int>,
    /// The dataset index of each image in the batch, in batch order.
    pub indices: Vec<usize>,
}

/// The order in which one epoch visits a dataset, cut into batches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchPlan {
    order: Vec<usize>,
    batch_size: usize,
}

impl BatchPlan {
    /// Visits `0..len` in order.
    pub fn sequential(len: usize, batch_size: usize) -> Result<Self> {
        Self::with_order((0..len).collect(), batch_size)
    }

    /// Visits `0..len` in a random order fixed by `(seed, epoch)`: the same pair gives the
    /// same order on every machine (ChaCha8 stream `epoch` of key `seed`, Fisher-Yates).
    pub fn shuffled(len: usize, batch_size: usize, seed: u64, epoch: u64) -> Result<Self> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(epoch);
        let mut order: Vec<usize> = (0..len).collect();
        for i in (1..len).rev() {
            let j = rng.random_range(0..=i);
            order.swap(i, j);
        }
        Self::with_order(order, batch_size)
    }

    /// Visits the given indices in the given order.
    pub fn with_order(order: Vec<usize>, batch_size: usize) -> Result<Self> {
        if batch_size == 0 {
            return Err(DataError::InvalidDataset(
                "batch size must be positive".into(),
            ));
        }
        Ok(Self { order, batch_size })
    }

    /// The whole visiting order.
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// The batches: consecutive chunks of the order, the last one possibly shorter.
    pub fn batches(&self) -> std::slice::Chunks<'_, usize> {
        self.order.chunks(self.batch_size)
    }

    /// Number of batches.
    pub fn len(&self) -> usize {
        self.order.len().div_ceil(self.batch_size)
    }

    /// Whether there are no batches.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// Turns dataset images into tensors, drawing dequantization noise from its own seeded
/// generator: the same seed and the same sequence of calls give the same tensors.
#[derive(Clone, Debug)]
pub struct Batcher {
    form: PixelForm,
    rng: ChaCha8Rng,
}

impl Batcher {
    /// A batcher producing `pixel / 255`.
    pub fn scaled() -> Self {
        Self {
            form: PixelForm::Scaled,
            rng: ChaCha8Rng::seed_from_u64(0),
        }
    }

    /// A batcher producing `(pixel + U[0,1)) / 256` with noise seeded by `seed`.
    pub fn dequantized(seed: u64) -> Self {
        Self {
            form: PixelForm::Dequantized,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// The pixel form this batcher produces.
    pub fn form(&self) -> PixelForm {
        self.form
    }

    /// The pixel values of the images at `indices`, in batch order, as a flat
    /// `N x C x H x W` vector (what [`Batcher::batch`] puts in a tensor).
    pub fn values(&mut self, data: &ImageDataset, indices: &[usize]) -> Result<Vec<f32>> {
        if indices.is_empty() {
            return Err(DataError::InvalidDataset(
                "a batch needs at least one image".into(),
            ));
        }
        let per_image = data.shape().len();
        let mut values = Vec::with_capacity(indices.len().saturating_mul(per_image));
        for &i in indices {
            let image = data.image(i).ok_or_else(|| {
                DataError::InvalidDataset(format!(
                    "index {i} is out of range for a dataset of {} images",
                    data.len()
                ))
            })?;
            match self.form {
                PixelForm::Scaled => {
                    values.extend(image.iter().map(|&p| f32::from(p) / 255.0));
                }
                PixelForm::Dequantized => {
                    for &p in image {
                        let noise: f64 = self.rng.random::<f64>();
                        values.push(below_one((f64::from(p) + noise) / 256.0));
                    }
                }
            }
        }
        Ok(values)
    }

    /// The images at `indices` as one batch on `device`.
    pub fn batch<B: Backend>(
        &mut self,
        data: &ImageDataset,
        indices: &[usize],
        device: &B::Device,
    ) -> Result<ImageBatch<B>> {
        let values = self.values(data, indices)?;
        let shape = data.shape();
        let dims = [indices.len(), shape.channels, shape.height, shape.width];
        let images = Tensor::from_data(TensorData::new(values, dims), device);
        let labels: Vec<i64> = indices
            .iter()
            .map(|&i| i64::from(data.labels()[i]))
            .collect();
        let labels = Tensor::from_data(TensorData::new(labels, [indices.len()]), device);
        Ok(ImageBatch {
            images,
            labels,
            indices: indices.to_vec(),
        })
    }

    /// Every batch of `plan`, in order, as an iterator.
    pub fn iter<'a, B: Backend>(
        &'a mut self,
        data: &'a ImageDataset,
        plan: &'a BatchPlan,
        device: &'a B::Device,
    ) -> impl Iterator<Item = Result<ImageBatch<B>>> + 'a {
        plan.batches()
            .map(move |indices| self.batch::<B>(data, indices, device))
    }
}

/// Rounds to `f32` while keeping the value strictly below 1: `(255 + 0.9999999) / 256`
/// would round up to exactly 1.0 in `f32`, which the `[0, 1)` contract excludes.
fn below_one(x: f64) -> f32 {
    const LARGEST_BELOW_ONE: f32 = 1.0 - f32::EPSILON / 2.0;
    (x as f32).min(LARGEST_BELOW_ONE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::ImageShape;
    use burn::backend::Flex;

    fn data() -> ImageDataset {
        let pixels: Vec<u8> = (0..5 * 2 * 2).map(|i| (i * 13 % 256) as u8).collect();
        ImageDataset::new(ImageShape::new(1, 2, 2), pixels, vec![0, 1, 2, 3, 4]).unwrap()
    }

    #[test]
    fn shuffled_plan_is_a_permutation_fixed_by_seed_and_epoch() {
        let a = BatchPlan::shuffled(100, 32, 7, 0).unwrap();
        let mut sorted = a.order().to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_eq!(a, BatchPlan::shuffled(100, 32, 7, 0).unwrap());
        assert_ne!(a, BatchPlan::shuffled(100, 32, 7, 1).unwrap());
        assert_ne!(a, BatchPlan::shuffled(100, 32, 8, 0).unwrap());
        assert_eq!(a.len(), 4);
        assert_eq!(
            a.batches().map(<[usize]>::len).collect::<Vec<_>>(),
            [32, 32, 32, 4]
        );
        assert!(BatchPlan::sequential(3, 0).is_err());
    }

    #[test]
    fn scaled_and_dequantized_forms_follow_their_formulas() {
        let d = data();
        let scaled = Batcher::scaled().values(&d, &[1]).unwrap();
        let pixels = d.image(1).unwrap();
        for (&v, &p) in scaled.iter().zip(pixels) {
            assert_eq!(v, f32::from(p) / 255.0);
        }
        let mut b = Batcher::dequantized(3);
        let deq = b.values(&d, &[1, 1]).unwrap();
        for (k, &v) in deq.iter().enumerate() {
            let p = f32::from(pixels[k % 4]);
            // u lies in [p/256, (p+1)/256).
            assert!(v >= p / 256.0 && v < (p + 1.0) / 256.0, "{v} for pixel {p}");
        }
        // Fresh noise for the second copy, the same noise for the same seed.
        assert_ne!(deq[..4], deq[4..]);
        assert_eq!(deq, Batcher::dequantized(3).values(&d, &[1, 1]).unwrap());
        assert!(b.values(&d, &[5]).is_err());
        assert!(b.values(&d, &[]).is_err());
    }

    #[test]
    fn the_top_pixel_stays_below_one() {
        assert!(below_one((255.0 + (1.0 - 1e-12)) / 256.0) < 1.0);
        let top = ImageDataset::new(ImageShape::new(1, 1, 1), vec![255], vec![0]).unwrap();
        let mut b = Batcher::dequantized(0);
        for _ in 0..1000 {
            assert!(b.values(&top, &[0]).unwrap()[0] < 1.0);
        }
    }

    #[test]
    fn batches_become_tensors_with_the_dataset_layout() {
        let d = data();
        let device = Default::default();
        let plan = BatchPlan::with_order(vec![4, 0, 2], 2).unwrap();
        let mut batcher = Batcher::scaled();
        let batches: Vec<ImageBatch<Flex>> = batcher
            .iter::<Flex>(&d, &plan, &device)
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[0].images.dims(), [2, 1, 2, 2]);
        assert_eq!(batches[1].images.dims(), [1, 1, 2, 2]);
        let labels: Vec<i64> = batches[0]
            .labels
            .to_data()
            .convert::<i64>()
            .to_vec()
            .unwrap();
        assert_eq!(labels, vec![4, 0]);
        let values: Vec<f32> = batches[0]
            .images
            .to_data()
            .convert::<f32>()
            .to_vec()
            .unwrap();
        let expected: Vec<f32> = d
            .image(4)
            .unwrap()
            .iter()
            .chain(d.image(0).unwrap())
            .map(|&p| f32::from(p) / 255.0)
            .collect();
        assert_eq!(values, expected);
    }
}
