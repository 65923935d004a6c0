//! A boolean grid over a shape, and its conversion to burn tensors.

use burn::tensor::{backend::Backend, Tensor, TensorData};

use crate::MaskShape;

/// Which entries of a `channels x height x width` sample a mask selects.
///
/// Stored as one `bool` per entry in (C, H, W) row-major order, the layout of a burn
/// tensor `[batch, C, H, W]` without its batch dimension.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MaskGrid {
    shape: MaskShape,
    entries: Vec<bool>,
}

impl MaskGrid {
    /// A grid whose entry `(c, h, w)` is `select(c, h, w)`.
    pub fn from_fn(shape: MaskShape, select: impl Fn(usize, usize, usize) -> bool) -> Self {
        let mut entries = Vec::with_capacity(shape.len());
        for c in 0..shape.channels {
            for h in 0..shape.height {
                for w in 0..shape.width {
                    entries.push(select(c, h, w));
                }
            }
        }
        Self { shape, entries }
    }

    /// The shape the grid covers.
    pub fn shape(&self) -> MaskShape {
        self.shape
    }

    /// Whether entry `(c, h, w)` is selected. Entries outside the shape belong to no mask,
    /// so they read as `false`; use [`MaskGrid::try_get`] to tell them apart.
    pub fn get(&self, c: usize, h: usize, w: usize) -> bool {
        self.try_get(c, h, w).unwrap_or(false)
    }

    /// Whether entry `(c, h, w)` is selected, or `None` outside the shape.
    pub fn try_get(&self, c: usize, h: usize, w: usize) -> Option<bool> {
        self.shape
            .offset(c, h, w)
            .and_then(|i| self.entries.get(i).copied())
    }

    /// All entries in (C, H, W) row-major order.
    pub fn as_slice(&self) -> &[bool] {
        &self.entries
    }

    /// Number of selected entries.
    pub fn count(&self) -> usize {
        self.entries.iter().filter(|&&e| e).count()
    }

    /// The entries of channel `c` in (H, W) row-major order, or `None` past the last one.
    pub fn channel(&self, c: usize) -> Option<&[bool]> {
        let plane = self.shape.height * self.shape.width;
        self.entries.get(c * plane..(c + 1) * plane)
    }

    /// The grid that selects exactly the entries this one does not.
    pub fn complement(&self) -> MaskGrid {
        Self {
            shape: self.shape,
            entries: self.entries.iter().map(|&e| !e).collect(),
        }
    }

    /// Whether no entry is selected by both grids (false when the shapes differ).
    pub fn is_disjoint(&self, other: &MaskGrid) -> bool {
        self.shape == other.shape
            && self
                .entries
                .iter()
                .zip(&other.entries)
                .all(|(&a, &b)| !(a && b))
    }

    /// The entries as floats, 1.0 where selected and 0.0 elsewhere.
    pub fn to_f32_vec(&self) -> Vec<f32> {
        self.entries
            .iter()
            .map(|&e| if e { 1.0 } else { 0.0 })
            .collect()
    }

    /// The grid as a float tensor `[1, C, H, W]`, 1.0 where selected and 0.0 elsewhere,
    /// ready to broadcast against a batch of images.
    pub fn to_tensor<B: Backend>(&self, device: &B::Device) -> Tensor<B, 4> {
        let s = self.shape;
        let data = TensorData::new(self.to_f32_vec(), [1, s.channels, s.height, s.width]);
        Tensor::from_data(data, device)
    }

    /// The grid as a float tensor `[1, C * H * W]`, 1.0 where selected and 0.0 elsewhere,
    /// for flows on vectors (batch x features).
    pub fn to_tensor_2d<B: Backend>(&self, device: &B::Device) -> Tensor<B, 2> {
        let data = TensorData::new(self.to_f32_vec(), [1, self.shape.len()]);
        Tensor::from_data(data, device)
    }
}
