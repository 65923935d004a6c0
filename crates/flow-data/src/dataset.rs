//! The in-memory image dataset: N images of C x H x W bytes, with a label each.

use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};

/// The shape of one image: channels, height, width (the order of the stored bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImageShape {
    /// Number of channels: 1 for grayscale, 3 for RGB.
    pub channels: usize,
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
}

impl ImageShape {
    /// A shape of `channels` x `height` x `width`.
    pub const fn new(channels: usize, height: usize, width: usize) -> Self {
        Self {
            channels,
            height,
            width,
        }
    }

    /// Bytes per image, or `None` if the product overflows `usize`.
    pub fn checked_len(&self) -> Option<usize> {
        self.channels
            .checked_mul(self.height)?
            .checked_mul(self.width)
    }

    /// Bytes per image (C * H * W). Every [`ImageDataset`] has a shape whose product fits.
    pub fn len(&self) -> usize {
        self.checked_len().unwrap_or(usize::MAX)
    }

    /// Whether an image of this shape holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Display for ImageShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}x{}", self.channels, self.height, self.width)
    }
}

/// N images, each `shape.channels x shape.height x shape.width` bytes stored contiguously
/// in that order (N x C x H x W, row-major), and one label per image.
///
/// Invariants, checked by [`ImageDataset::new`]: the shape has no zero dimension and
/// `pixels.len() == labels.len() * shape.len()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageDataset {
    shape: ImageShape,
    pixels: Vec<u8>,
    labels: Vec<u32>,
}

impl ImageDataset {
    /// Wraps pixels and labels, checking that their sizes agree with `shape`.
    pub fn new(shape: ImageShape, pixels: Vec<u8>, labels: Vec<u32>) -> Result<Self> {
        let per_image = shape
            .checked_len()
            .filter(|&n| n > 0)
            .ok_or_else(|| DataError::InvalidDataset(format!("image shape {shape} is empty")))?;
        let expected = labels.len().checked_mul(per_image);
        if expected != Some(pixels.len()) {
            return Err(DataError::InvalidDataset(format!(
                "{} labels of {shape} images need {} pixel bytes, got {}",
                labels.len(),
                expected.map_or("more than usize::MAX".to_string(), |n| n.to_string()),
                pixels.len()
            )));
        }
        Ok(Self {
            shape,
            pixels,
            labels,
        })
    }

    /// The shape of each image.
    pub fn shape(&self) -> ImageShape {
        self.shape
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// All pixel bytes, N x C x H x W.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// All labels, one per image.
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }

    /// The bytes of image `index` (C x H x W), or `None` past the end.
    pub fn image(&self, index: usize) -> Option<&[u8]> {
        let n = self.shape.len();
        self.pixels
            .get(index.checked_mul(n)?..index.checked_mul(n)?.checked_add(n)?)
    }

    /// The label of image `index`, or `None` past the end.
    pub fn label(&self, index: usize) -> Option<u32> {
        self.labels.get(index).copied()
    }

    /// Takes the pixels and labels apart.
    pub fn into_parts(self) -> (ImageShape, Vec<u8>, Vec<u32>) {
        (self.shape, self.pixels, self.labels)
    }

    /// A new dataset holding the images at `indices`, in that order (repeats allowed).
    pub fn select(&self, indices: &[usize]) -> Result<Self> {
        let n = self.shape.len();
        let mut pixels = Vec::with_capacity(indices.len().saturating_mul(n));
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            let image = self.image(i).ok_or_else(|| {
                DataError::InvalidDataset(format!(
                    "index {i} is out of range for a dataset of {} images",
                    self.len()
                ))
            })?;
            pixels.extend_from_slice(image);
            labels.push(self.labels[i]);
        }
        Self::new(self.shape, pixels, labels)
    }

    /// The datasets one after another. All must have the same image shape.
    pub fn concat(parts: &[ImageDataset]) -> Result<Self> {
        let first = parts
            .first()
            .ok_or_else(|| DataError::InvalidDataset("nothing to concatenate".into()))?;
        let mut pixels = Vec::with_capacity(parts.iter().map(|p| p.pixels.len()).sum());
        let mut labels = Vec::with_capacity(parts.iter().map(|p| p.labels.len()).sum());
        for part in parts {
            if part.shape != first.shape {
                return Err(DataError::InvalidDataset(format!(
                    "cannot concatenate {} images with {} images",
                    first.shape, part.shape
                )));
            }
            pixels.extend_from_slice(&part.pixels);
            labels.extend_from_slice(&part.labels);
        }
        Self::new(first.shape, pixels, labels)
    }

    /// Mean of all pixel bytes, in 0..=255 units (divide by 255 for the [0, 1] scale).
    /// `NaN` for an empty dataset.
    pub fn mean_pixel(&self) -> f64 {
        // Integer sum: exact, and u64 cannot overflow below 7e16 pixels.
        let sum: u64 = self.pixels.iter().map(|&p| u64::from(p)).sum();
        sum as f64 / self.pixels.len() as f64
    }

    /// Standard deviation of all pixel bytes, in 0..=255 units. `NaN` when empty.
    pub fn pixel_std(&self) -> f64 {
        let mut histogram = [0u64; 256];
        for &p in &self.pixels {
            histogram[usize::from(p)] += 1;
        }
        let mean = self.mean_pixel();
        let sum_sq: f64 = histogram
            .iter()
            .enumerate()
            .map(|(v, &count)| count as f64 * (v as f64 - mean).powi(2))
            .sum();
        (sum_sq / self.pixels.len() as f64).sqrt()
    }

    /// How many images carry each label: entry `k` counts label `k`; the vector is as
    /// long as the largest label plus one.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = Vec::new();
        for &label in &self.labels {
            let k = label as usize;
            if counts.len() <= k {
                counts.resize(k + 1, 0);
            }
            counts[k] += 1;
        }
        counts
    }

    /// Indices of the images of each class, in dataset order (entry `k` for label `k`).
    pub fn indices_by_class(&self) -> Vec<Vec<usize>> {
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for (i, &label) in self.labels.iter().enumerate() {
            let k = label as usize;
            if groups.len() <= k {
                groups.resize_with(k + 1, Vec::new);
            }
            groups[k].push(i);
        }
        groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> ImageDataset {
        // Three 1x1x2 images: [0,1], [2,3], [4,5] with labels 2, 0, 2.
        ImageDataset::new(
            ImageShape::new(1, 1, 2),
            vec![0, 1, 2, 3, 4, 5],
            vec![2, 0, 2],
        )
        .unwrap()
    }

    #[test]
    fn new_rejects_sizes_that_disagree() {
        let err = ImageDataset::new(ImageShape::new(1, 2, 2), vec![0; 7], vec![0, 1]).unwrap_err();
        assert!(
            err.to_string().contains("need 8 pixel bytes, got 7"),
            "{err}"
        );
        assert!(ImageDataset::new(ImageShape::new(0, 2, 2), vec![], vec![]).is_err());
        let huge = ImageShape::new(usize::MAX, 2, 1);
        assert!(ImageDataset::new(huge, vec![], vec![]).is_err());
    }

    #[test]
    fn image_select_and_concat_keep_pixels_with_their_labels() {
        let d = tiny();
        assert_eq!(d.image(1), Some(&[2u8, 3][..]));
        assert_eq!(d.image(3), None);
        assert_eq!(d.image(usize::MAX), None);
        let s = d.select(&[2, 0, 2]).unwrap();
        assert_eq!(s.pixels(), &[4, 5, 0, 1, 4, 5]);
        assert_eq!(s.labels(), &[2, 2, 2]);
        assert!(d.select(&[3]).is_err());
        let c = ImageDataset::concat(&[d.clone(), s]).unwrap();
        assert_eq!(c.len(), 6);
        assert_eq!(c.label(3), Some(2));
        let other = ImageDataset::new(ImageShape::new(2, 1, 1), vec![0, 1], vec![0]).unwrap();
        assert!(ImageDataset::concat(&[d, other]).is_err());
    }

    #[test]
    fn statistics_match_hand_computation() {
        let d = tiny();
        assert_eq!(d.mean_pixel(), 2.5);
        // Population variance of 0..=5 is 35/12.
        assert!((d.pixel_std() - (35.0f64 / 12.0).sqrt()).abs() < 1e-12);
        assert_eq!(d.class_counts(), vec![1, 0, 2]);
        assert_eq!(d.indices_by_class(), vec![vec![1], vec![], vec![0, 2]]);
    }
}
