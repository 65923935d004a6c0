//! A sequence of mask kinds for a stack of coupling layers.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::{CouplingMask, Half, MaskError, MaskKind, MaskShape, Quadrant};

/// The mask kind of each layer of a stack of couplings, in order.
///
/// In serde form it is a table with a `layers` array, so in TOML:
///
/// ```toml
/// [[layers]]
/// kind = "checkerboard"
/// parity = 0
///
/// [[layers]]
/// kind = "checkerboard"
/// parity = 1
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct MaskSchedule {
    layers: Vec<MaskKind>,
}

impl MaskSchedule {
    /// A schedule of the given kinds, layer 0 first.
    pub fn new(layers: Vec<MaskKind>) -> Self {
        Self { layers }
    }

    /// `n` checkerboard layers with parities 0, 1, 0, 1, ...
    pub fn checkerboard(n: usize) -> Self {
        Self::from_fn(n, |i| MaskKind::Checkerboard {
            parity: u8::from(!i.is_multiple_of(2)),
        })
    }

    /// `n` channel-wise layers transforming the first, second, first, ... half.
    pub fn channel_wise(n: usize) -> Self {
        Self::from_fn(n, |i| MaskKind::ChannelWise {
            transform: Half::alternating(i),
        })
    }

    /// `n` horizontal layers transforming the top, bottom, top, ... half.
    pub fn horizontal(n: usize) -> Self {
        Self::horizontal_from(n, Half::First)
    }

    /// `n` horizontal layers alternating from `first`: `horizontal_from(3, Half::Second)`
    /// transforms the bottom, top, bottom half, the order of the reference's 3-layer
    /// co-adaptation flow (its first layer conditions on the top half).
    pub fn horizontal_from(n: usize, first: Half) -> Self {
        Self::from_fn(n, |i| MaskKind::Horizontal {
            transform: if i.is_multiple_of(2) {
                first
            } else {
                first.other()
            },
        })
    }

    /// `n` vertical layers transforming the left, right, left, ... half.
    pub fn vertical(n: usize) -> Self {
        Self::from_fn(n, |i| MaskKind::Vertical {
            transform: Half::alternating(i),
        })
    }

    /// `n` tabular layers transforming the first, second, first, ... half of the features.
    pub fn tabular(n: usize) -> Self {
        Self::from_fn(n, |i| MaskKind::TabularHalves {
            transform: Half::alternating(i),
        })
    }

    /// `n` cycle layers 0->1, 1->2, 2->3, 3->0, 0->1, ...; `cycle(8)` is the paper's
    /// cycle-mask flow (the cycle twice).
    pub fn cycle(n: usize) -> Self {
        Self::from_fn(n, |i| MaskKind::Cycle {
            from: Quadrant::from_index(i),
        })
    }

    fn from_fn(n: usize, kind: impl Fn(usize) -> MaskKind) -> Self {
        Self::new((0..n).map(kind).collect())
    }

    /// Number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether the schedule has no layers.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The kinds, layer 0 first.
    pub fn kinds(&self) -> &[MaskKind] {
        &self.layers
    }

    /// The kind of layer `i`, or `None` past the end.
    pub fn layer(&self, i: usize) -> Option<MaskKind> {
        self.layers.get(i).copied()
    }

    /// The mask of layer `i` laid over `shape`.
    ///
    /// # Errors
    /// [`MaskError::LayerOutOfRange`] past the end, or the layer kind's error for `shape`.
    pub fn mask(&self, i: usize, shape: MaskShape) -> Result<CouplingMask, MaskError> {
        let kind = self.layer(i).ok_or(MaskError::LayerOutOfRange {
            index: i,
            len: self.len(),
            shape,
        })?;
        kind.build(shape)
    }

    /// The masks of every layer over `shape`, layer 0 first; checks a whole model
    /// configuration at once.
    ///
    /// # Errors
    /// The first layer's [`MaskError`] whose kind cannot split `shape`.
    pub fn masks(&self, shape: MaskShape) -> Result<Vec<CouplingMask>, MaskError> {
        self.layers.iter().map(|kind| kind.build(shape)).collect()
    }

    /// Every layer's [`CouplingMask::render`] picture, each headed `layer i: <kind>` and
    /// separated by a blank line.
    ///
    /// # Errors
    /// The first layer's [`MaskError`] whose kind cannot split `shape`.
    pub fn render(&self, shape: MaskShape) -> Result<String, MaskError> {
        let mut out = String::new();
        for (i, mask) in self.masks(shape)?.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            // Writing to a String cannot fail.
            let _ = writeln!(out, "layer {i}: {}", mask.kind());
            out.push_str(&mask.render());
        }
        Ok(out)
    }
}

impl From<Vec<MaskKind>> for MaskSchedule {
    fn from(layers: Vec<MaskKind>) -> Self {
        Self::new(layers)
    }
}

impl FromIterator<MaskKind> for MaskSchedule {
    fn from_iter<I: IntoIterator<Item = MaskKind>>(iter: I) -> Self {
        Self::new(iter.into_iter().collect())
    }
}
