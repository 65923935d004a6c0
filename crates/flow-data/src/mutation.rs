//! Pixel mutation: the input perturbation under which the background model of a
//! likelihood ratio is trained (Ren et al., "Likelihood Ratios for Out-of-Distribution
//! Detection", NeurIPS 2019). Each pixel, independently with probability `rate`, is
//! replaced by a value drawn uniformly from `0..=255`; the perturbation destroys the
//! semantic content while keeping the population-level background statistics, which is
//! what the background model should learn.
//!
//! The mutated set is drawn once (seeded ChaCha8), not per epoch: a background model
//! trained for less than an epoch sees every mutated image at most once either way.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::dataset::ImageDataset;
use crate::error::{DataError, Result};

/// `source` with each pixel replaced, with probability `rate`, by a uniform draw from
/// `0..=255` (labels and shape kept).
///
/// # Errors
/// [`DataError::InvalidDataset`] when `rate` is not in `[0, 1]`.
pub fn mutate_pixels(source: &ImageDataset, rate: f64, seed: u64) -> Result<ImageDataset> {
    if !(0.0..=1.0).contains(&rate) {
        return Err(DataError::InvalidDataset(format!(
            "a pixel mutation rate is a probability in [0, 1], got {rate}"
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pixels = source
        .pixels()
        .iter()
        .map(|&p| {
            if rng.random_bool(rate) {
                rng.random::<u8>()
            } else {
                p
            }
        })
        .collect();
    ImageDataset::new(source.shape(), pixels, source.labels().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::ImageShape;

    fn grey(n: usize) -> ImageDataset {
        let shape = ImageShape {
            channels: 1,
            height: 10,
            width: 10,
        };
        ImageDataset::new(shape, vec![128; n * 100], vec![0; n]).unwrap()
    }

    #[test]
    fn rate_zero_keeps_the_images_and_the_changed_share_follows_the_rate() {
        let source = grey(50);
        assert_eq!(mutate_pixels(&source, 0.0, 1).unwrap(), source);
        for rate in [0.1, 0.3, 1.0] {
            let mutated = mutate_pixels(&source, rate, 7).unwrap();
            assert_eq!(mutated.shape(), source.shape());
            assert_eq!(mutated.labels(), source.labels());
            let changed = mutated.pixels().iter().filter(|&&p| p != 128).count() as f64;
            // A replaced pixel keeps its value with probability 1/256.
            let expected = rate * 255.0 / 256.0;
            let share = changed / 5000.0;
            assert!((share - expected).abs() < 0.03, "rate {rate}: {share}");
        }
        assert_eq!(
            mutate_pixels(&source, 0.2, 3).unwrap(),
            mutate_pixels(&source, 0.2, 3).unwrap()
        );
    }

    #[test]
    fn a_rate_outside_zero_one_is_refused() {
        for rate in [-0.1, 1.5, f64::NAN] {
            assert!(mutate_pixels(&grey(1), rate, 0).is_err(), "{rate}");
        }
    }
}
