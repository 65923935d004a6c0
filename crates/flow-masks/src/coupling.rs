//! A mask laid over a shape: the condition and transform grids of one coupling layer.

use std::fmt::Write as _;
use std::ops::Range;

use crate::{MaskGrid, MaskKind, MaskShape};

/// The part an entry plays in one coupling layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The st-network sees the entry; the layer copies it unchanged.
    Condition,
    /// The layer transforms the entry.
    Transform,
    /// Neither: the layer copies the entry and the st-network never sees it (only the
    /// cycle mask has such entries).
    Neither,
}

impl Role {
    /// The character [`CouplingMask::render`] draws for this role: `c`, `t` or `.`.
    pub fn symbol(self) -> char {
        match self {
            Role::Condition => 'c',
            Role::Transform => 't',
            Role::Neither => '.',
        }
    }

    /// `Transform` when `transformed`, else `Condition`: the two-way split most kinds make.
    pub(crate) fn split(transformed: bool) -> Role {
        if transformed {
            Role::Transform
        } else {
            Role::Condition
        }
    }
}

/// The masks of one coupling layer over one shape, built by [`MaskKind::build`].
///
/// The two grids are disjoint. For every kind but [`MaskKind::Cycle`] they cover every
/// entry; the cycle's leave two quadrants in neither.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CouplingMask {
    kind: MaskKind,
    condition: MaskGrid,
    transform: MaskGrid,
}

impl CouplingMask {
    /// Assembles a mask; callers guarantee disjoint grids of the same shape.
    pub(crate) fn from_parts(kind: MaskKind, condition: MaskGrid, transform: MaskGrid) -> Self {
        Self {
            kind,
            condition,
            transform,
        }
    }

    /// The kind this mask was built from.
    pub fn kind(&self) -> MaskKind {
        self.kind
    }

    /// The shape the mask covers.
    pub fn shape(&self) -> MaskShape {
        self.condition.shape()
    }

    /// The entries the st-network conditions on.
    pub fn condition(&self) -> &MaskGrid {
        &self.condition
    }

    /// The entries the layer transforms.
    pub fn transform(&self) -> &MaskGrid {
        &self.transform
    }

    /// The role of entry `(c, h, w)`; entries outside the shape play none.
    pub fn role(&self, c: usize, h: usize, w: usize) -> Role {
        if self.transform.get(c, h, w) {
            Role::Transform
        } else if self.condition.get(c, h, w) {
            Role::Condition
        } else {
            Role::Neither
        }
    }

    /// For a channel-wise mask, the channel ranges `(condition, transform)`, so a layer
    /// can slice channels instead of multiplying by a mask; `None` for other kinds.
    pub fn channel_split(&self) -> Option<(Range<usize>, Range<usize>)> {
        match self.kind {
            MaskKind::ChannelWise { transform } => {
                let channels = self.shape().channels;
                let first = 0..channels / 2;
                let second = channels / 2..channels;
                Some(match transform {
                    crate::Half::First => (second, first),
                    crate::Half::Second => (first, second),
                })
            }
            _ => None,
        }
    }

    /// Whether every entry is conditioned on or transformed.
    pub fn covers_all(&self) -> bool {
        self.condition
            .as_slice()
            .iter()
            .zip(self.transform.as_slice())
            .all(|(&c, &t)| c || t)
    }

    /// A plain-text picture of the mask, one character per entry:
    ///
    /// - `c`: conditioned on,
    /// - `t`: transformed,
    /// - `.`: neither (only the cycle mask has these).
    ///
    /// An image is drawn one row per line. When every channel has the same pattern it is
    /// drawn once; otherwise each channel gets a block headed `channel k:`. A vector shape
    /// (`height == width == 1`) is drawn as one line of its features. Every line ends with
    /// a newline.
    pub fn render(&self) -> String {
        let shape = self.shape();
        let mut out = String::new();
        if shape.is_vector() {
            out.extend((0..shape.channels).map(|c| self.role(c, 0, 0).symbol()));
            out.push('\n');
            return out;
        }
        let uniform = (1..shape.channels).all(|c| {
            self.condition.channel(c) == self.condition.channel(0)
                && self.transform.channel(c) == self.transform.channel(0)
        });
        if uniform {
            self.render_channel(0, &mut out);
        } else {
            for c in 0..shape.channels {
                // Writing to a String cannot fail.
                let _ = writeln!(out, "channel {c}:");
                self.render_channel(c, &mut out);
            }
        }
        out
    }

    fn render_channel(&self, c: usize, out: &mut String) {
        let shape = self.shape();
        for h in 0..shape.height {
            out.extend((0..shape.width).map(|w| self.role(c, h, w).symbol()));
            out.push('\n');
        }
    }
}
