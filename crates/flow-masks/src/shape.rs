//! The shape a mask is laid over.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The shape of one sample a mask covers: `channels x height x width`.
///
/// Images use all three dimensions; vectors (embeddings, tabular data) are the shape
/// `d x 1 x 1`, built with [`MaskShape::vector`]. The batch dimension is never part of a
/// mask: the same mask applies to every sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MaskShape {
    /// Number of channels (or features, for a vector).
    pub channels: usize,
    /// Number of rows.
    pub height: usize,
    /// Number of columns.
    pub width: usize,
}

impl MaskShape {
    /// The shape of an image with `channels` channels of `height x width` pixels.
    pub fn image(channels: usize, height: usize, width: usize) -> Self {
        Self {
            channels,
            height,
            width,
        }
    }

    /// The shape of a vector of `dim` features, stored as `dim x 1 x 1`.
    pub fn vector(dim: usize) -> Self {
        Self::image(dim, 1, 1)
    }

    /// Number of entries, `channels * height * width`.
    pub fn len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Whether the shape has no entries (some dimension is zero).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether this is a vector shape (`height == width == 1`).
    pub fn is_vector(&self) -> bool {
        self.height == 1 && self.width == 1
    }

    /// The row-major (C, H, W) offset of an entry, or `None` outside the shape.
    pub fn offset(&self, c: usize, h: usize, w: usize) -> Option<usize> {
        if c < self.channels && h < self.height && w < self.width {
            Some((c * self.height + h) * self.width + w)
        } else {
            None
        }
    }
}

impl fmt::Display for MaskShape {
    /// Writes the shape as `CxHxW`, e.g. `1x28x28`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}x{}", self.channels, self.height, self.width)
    }
}
