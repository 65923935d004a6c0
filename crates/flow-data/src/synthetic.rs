//! Synthetic out-of-distribution sets derived from any image dataset.
//!
//! Each set has as many images as its source, of the same shape, and image `i` keeps the
//! label of source image `i` (meaningless for the noise and constant sets, but it keeps
//! indices aligned). Everything random comes from a ChaCha8 generator seeded by the caller.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use crate::dataset::ImageDataset;
use crate::error::{DataError, Result};

/// The kinds of synthetic OOD set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SyntheticOod {
    /// Every pixel uniform on `0..=255`, independently.
    UniformNoise,
    /// Every pixel `round(N(mean, std))` clipped to `0..=255`, in 0..=255 units.
    /// [`SyntheticOod::GAUSSIAN_DEFAULT`] or [`SyntheticOod::gaussian_matching`] give the
    /// usual choices.
    GaussianNoise {
        /// Mean, in pixel units.
        mean: f64,
        /// Standard deviation before clipping, in pixel units.
        std: f64,
    },
    /// Each image one value, uniform on `0..=255`, in every pixel and channel.
    Constant,
    /// `255 - pixel`.
    Inverted,
    /// Each row reversed (mirror about the vertical axis).
    FlipHorizontal,
    /// Row order reversed (mirror about the horizontal axis).
    FlipVertical,
}

impl SyntheticOod {
    /// Gaussian noise centred in the pixel range: mean 127.5 and std 63.75 (a quarter of
    /// the range, so about 95% of draws need no clipping).
    pub const GAUSSIAN_DEFAULT: SyntheticOod = SyntheticOod::GaussianNoise {
        mean: 127.5,
        std: 63.75,
    };

    /// Gaussian noise with the mean and standard deviation of all pixels of `data`
    /// (population std over every pixel and channel).
    pub fn gaussian_matching(data: &ImageDataset) -> Self {
        SyntheticOod::GaussianNoise {
            mean: data.mean_pixel(),
            std: data.pixel_std(),
        }
    }

    /// A short name for reports, e.g. `uniform-noise`.
    pub fn name(&self) -> &'static str {
        match self {
            SyntheticOod::UniformNoise => "uniform-noise",
            SyntheticOod::GaussianNoise { .. } => "gaussian-noise",
            SyntheticOod::Constant => "constant",
            SyntheticOod::Inverted => "inverted",
            SyntheticOod::FlipHorizontal => "flip-horizontal",
            SyntheticOod::FlipVertical => "flip-vertical",
        }
    }

    /// The set derived from `source`; `seed` fixes the random draws (unused by the
    /// deterministic transforms).
    pub fn generate(&self, source: &ImageDataset, seed: u64) -> Result<ImageDataset> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let shape = source.shape();
        let pixels: Vec<u8> = match *self {
            SyntheticOod::UniformNoise => (0..source.pixels().len())
                .map(|_| rng.random::<u8>())
                .collect(),
            SyntheticOod::GaussianNoise { mean, std } => {
                let valid = mean.is_finite() && std.is_finite() && std >= 0.0;
                let normal = Normal::new(mean, std)
                    .ok()
                    .filter(|_| valid)
                    .ok_or_else(|| {
                        DataError::InvalidDataset(format!(
                            "Gaussian noise needs a finite mean and a finite std >= 0, got \
                             mean {mean} and std {std}"
                        ))
                    })?;
                (0..source.pixels().len())
                    .map(|_| normal.sample(&mut rng).round().clamp(0.0, 255.0) as u8)
                    .collect()
            }
            SyntheticOod::Constant => {
                let mut out = Vec::with_capacity(source.pixels().len());
                for _ in 0..source.len() {
                    let value: u8 = rng.random();
                    out.extend(std::iter::repeat_n(value, shape.len()));
                }
                out
            }
            SyntheticOod::Inverted => source.pixels().iter().map(|&p| 255 - p).collect(),
            SyntheticOod::FlipHorizontal => source
                .pixels()
                .chunks_exact(shape.width)
                .flat_map(|row| row.iter().rev().copied())
                .collect(),
            SyntheticOod::FlipVertical => source
                .pixels()
                .chunks_exact(shape.height * shape.width)
                .flat_map(|plane| plane.chunks_exact(shape.width).rev().flatten().copied())
                .collect(),
        };
        ImageDataset::new(shape, pixels, source.labels().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::ImageShape;
    use proptest::prelude::*;

    /// Two 2-channel 2x3 images with distinct bytes.
    fn source() -> ImageDataset {
        ImageDataset::new(ImageShape::new(2, 2, 3), (0..24).collect(), vec![5, 6]).unwrap()
    }

    #[test]
    fn flips_mirror_each_channel_plane() {
        let s = source();
        let h = SyntheticOod::FlipHorizontal.generate(&s, 0).unwrap();
        assert_eq!(&h.image(0).unwrap()[..6], &[2, 1, 0, 5, 4, 3]);
        let v = SyntheticOod::FlipVertical.generate(&s, 0).unwrap();
        assert_eq!(
            &v.image(0).unwrap()[..12],
            &[3, 4, 5, 0, 1, 2, 9, 10, 11, 6, 7, 8]
        );
        assert_eq!(v.labels(), s.labels());
        let inv = SyntheticOod::Inverted.generate(&s, 0).unwrap();
        assert_eq!(inv.pixels()[3], 252);
    }

    #[test]
    fn random_sets_are_seeded_and_have_their_stated_distribution() {
        let big =
            ImageDataset::new(ImageShape::new(1, 100, 100), vec![0; 40_000], vec![0; 4]).unwrap();
        let u = SyntheticOod::UniformNoise.generate(&big, 1).unwrap();
        assert_eq!(u, SyntheticOod::UniformNoise.generate(&big, 1).unwrap());
        assert_ne!(u, SyntheticOod::UniformNoise.generate(&big, 2).unwrap());
        // Mean of U{0..255} is 127.5, std 73.9; 40,000 draws give a standard error of 0.37.
        assert!((u.mean_pixel() - 127.5).abs() < 2.0, "{}", u.mean_pixel());
        let g = SyntheticOod::GaussianNoise {
            mean: 100.0,
            std: 20.0,
        }
        .generate(&big, 1)
        .unwrap();
        assert!((g.mean_pixel() - 100.0).abs() < 1.0);
        assert!((g.pixel_std() - 20.0).abs() < 1.0);
        let c = SyntheticOod::Constant.generate(&big, 3).unwrap();
        for i in 0..4 {
            let img = c.image(i).unwrap();
            assert!(img.iter().all(|&p| p == img[0]));
        }
        assert!(SyntheticOod::GaussianNoise {
            mean: 0.0,
            std: -1.0
        }
        .generate(&big, 0)
        .is_err());
        assert!(SyntheticOod::GaussianNoise {
            mean: f64::NAN,
            std: 1.0
        }
        .generate(&big, 0)
        .is_err());
    }

    #[test]
    fn gaussian_matching_uses_the_source_statistics() {
        let s = source();
        let SyntheticOod::GaussianNoise { mean, std } = SyntheticOod::gaussian_matching(&s) else {
            panic!("not Gaussian");
        };
        assert_eq!(mean, 11.5);
        assert!((std - (575.0f64 / 12.0).sqrt()).abs() < 1e-12);
    }

    proptest! {
        #[test]
        fn flips_and_inversion_are_involutions(
            c in 1usize..4, h in 1usize..6, w in 1usize..6, n in 0usize..3, seed in any::<u64>(),
        ) {
            let shape = ImageShape::new(c, h, w);
            let noise = ImageDataset::new(shape, vec![0; n * c * h * w], vec![0; n]).unwrap();
            let d = SyntheticOod::UniformNoise.generate(&noise, seed).unwrap();
            for kind in [SyntheticOod::Inverted, SyntheticOod::FlipHorizontal, SyntheticOod::FlipVertical] {
                let twice = kind.generate(&kind.generate(&d, 0).unwrap(), 0).unwrap();
                prop_assert_eq!(&twice, &d);
            }
        }
    }
}
