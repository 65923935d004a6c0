//! The mask strategies and how each one splits a shape.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{CouplingMask, MaskError, MaskGrid, MaskShape, Role};

/// One half of a dimension: the first (top, left, lower-index) or the second.
///
/// For an odd number of features (only [`MaskKind::TabularHalves`] allows one) the first
/// half is the smaller: `0..d/2` and `d/2..d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Half {
    /// The first half: lower channel indices, the top rows, the left columns.
    First,
    /// The second half: higher channel indices, the bottom rows, the right columns.
    Second,
}

impl Half {
    /// The other half.
    pub fn other(self) -> Half {
        match self {
            Half::First => Half::Second,
            Half::Second => Half::First,
        }
    }

    /// Whether index `i` of a dimension of size `n` lies in this half.
    fn contains(self, i: usize, n: usize) -> bool {
        (i < n / 2) == (self == Half::First)
    }

    /// `First` for even `i`, `Second` for odd: the alternation schedules use.
    pub(crate) fn alternating(i: usize) -> Half {
        if i.is_multiple_of(2) {
            Half::First
        } else {
            Half::Second
        }
    }
}

/// A quadrant of an image, numbered 0 to 3 clockwise from the top-left as in the paper's
/// cycle-mask flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quadrant {
    /// Quadrant 0: rows `0..H/2`, columns `0..W/2`.
    TopLeft,
    /// Quadrant 1: rows `0..H/2`, columns `W/2..W`.
    TopRight,
    /// Quadrant 2: rows `H/2..H`, columns `W/2..W`.
    BottomRight,
    /// Quadrant 3: rows `H/2..H`, columns `0..W/2`.
    BottomLeft,
}

impl Quadrant {
    /// All four quadrants in clockwise order from the top-left.
    pub const ALL: [Quadrant; 4] = [
        Quadrant::TopLeft,
        Quadrant::TopRight,
        Quadrant::BottomRight,
        Quadrant::BottomLeft,
    ];

    /// The quadrant's number, 0 to 3 clockwise from the top-left.
    pub fn index(self) -> usize {
        match self {
            Quadrant::TopLeft => 0,
            Quadrant::TopRight => 1,
            Quadrant::BottomRight => 2,
            Quadrant::BottomLeft => 3,
        }
    }

    /// The quadrant numbered `index` modulo 4, so any integer names a quadrant.
    pub fn from_index(index: usize) -> Quadrant {
        Self::ALL[index % 4]
    }

    /// The next quadrant clockwise (3 wraps around to 0).
    pub fn next(self) -> Quadrant {
        Self::from_index(self.index() + 1)
    }

    /// Whether pixel `(h, w)` of a `height x width` image lies in this quadrant.
    ///
    /// Assumes even `height` and `width`, which [`MaskKind::build`] checks.
    fn contains(self, h: usize, w: usize, height: usize, width: usize) -> bool {
        let top = h < height / 2;
        let left = w < width / 2;
        match self {
            Quadrant::TopLeft => top && left,
            Quadrant::TopRight => top && !left,
            Quadrant::BottomRight => !top && !left,
            Quadrant::BottomLeft => !top && left,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Quadrant::TopLeft => "top-left",
            Quadrant::TopRight => "top-right",
            Quadrant::BottomRight => "bottom-right",
            Quadrant::BottomLeft => "bottom-left",
        }
    }
}

impl fmt::Display for Quadrant {
    /// Writes the quadrant's number and position, e.g. `0 (top-left)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.index(), self.name())
    }
}

/// A mask strategy: which entries a coupling layer conditions on and which it transforms.
///
/// A kind is independent of the shape; [`MaskKind::build`] lays it over one. In serde
/// form it is tagged by `kind`, so a TOML config reads
///
/// ```toml
/// kind = "cycle"
/// from = "top_left"
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MaskKind {
    /// Spatial checkerboard, the same on every channel. Parity 0 transforms entry (0, 0)
    /// and every pixel with `h + w` even (as in the reference RealNVP); parity 1 the others.
    /// Everything not transformed is conditioned on.
    Checkerboard {
        /// 0 or 1.
        parity: u8,
    },
    /// Transforms one half of the channels (every pixel) and conditions on the other.
    ChannelWise {
        /// The half of the channels that is transformed.
        transform: Half,
    },
    /// Transforms one half of the rows and conditions on the other. `First` transforms
    /// the top half.
    Horizontal {
        /// The half of the rows that is transformed.
        transform: Half,
    },
    /// Transforms one half of the columns and conditions on the other. `First` transforms
    /// the left half.
    Vertical {
        /// The half of the columns that is transformed.
        transform: Half,
    },
    /// The paper's quadrant cycle: conditions only on quadrant `from` and transforms only
    /// quadrant `from.next()`. The other two quadrants are in neither mask, so the layer
    /// passes them through unchanged and they do not influence it.
    Cycle {
        /// The quadrant conditioned on.
        from: Quadrant,
    },
    /// For vectors ([`MaskShape::vector`]): transforms one half of the features and
    /// conditions on the other.
    TabularHalves {
        /// The half of the features that is transformed.
        transform: Half,
    },
}

impl MaskKind {
    /// Lays the mask over `shape`.
    ///
    /// # Errors
    /// [`MaskError`] when the shape is empty or the kind cannot split it: channel-wise
    /// needs an even number of channels, horizontal an even height, vertical an even
    /// width, cycle an even height and width, tabular halves a vector shape of at least
    /// 2 features, checkerboard at least 2 pixels and a parity of 0 or 1.
    pub fn build(&self, shape: MaskShape) -> Result<CouplingMask, MaskError> {
        let kind = *self;
        if shape.is_empty() {
            return Err(MaskError::EmptyShape { kind, shape });
        }
        let cannot_split = |requirement| MaskError::CannotSplit {
            kind,
            shape,
            requirement,
        };
        let (height, width) = (shape.height, shape.width);
        // Each arm checks the shape, then yields the role of entry (c, h, w).
        let role: Box<dyn Fn(usize, usize, usize) -> Role> = match kind {
            MaskKind::Checkerboard { parity } => {
                if parity > 1 {
                    return Err(MaskError::InvalidParity { kind, shape });
                }
                if height * width < 2 {
                    return Err(cannot_split("at least 2 pixels (height * width >= 2)"));
                }
                let parity = usize::from(parity);
                Box::new(move |_, h, w| Role::split((h + w) % 2 == parity))
            }
            MaskKind::ChannelWise { transform } => {
                if !shape.channels.is_multiple_of(2) {
                    return Err(cannot_split("an even number of channels, at least 2"));
                }
                let channels = shape.channels;
                Box::new(move |c, _, _| Role::split(transform.contains(c, channels)))
            }
            MaskKind::Horizontal { transform } => {
                if !height.is_multiple_of(2) {
                    return Err(cannot_split("an even height"));
                }
                Box::new(move |_, h, _| Role::split(transform.contains(h, height)))
            }
            MaskKind::Vertical { transform } => {
                if !width.is_multiple_of(2) {
                    return Err(cannot_split("an even width"));
                }
                Box::new(move |_, _, w| Role::split(transform.contains(w, width)))
            }
            MaskKind::Cycle { from } => {
                if !height.is_multiple_of(2) || !width.is_multiple_of(2) {
                    return Err(cannot_split("an even height and an even width"));
                }
                let to = from.next();
                Box::new(move |_, h, w| {
                    if from.contains(h, w, height, width) {
                        Role::Condition
                    } else if to.contains(h, w, height, width) {
                        Role::Transform
                    } else {
                        Role::Neither
                    }
                })
            }
            MaskKind::TabularHalves { transform } => {
                if !shape.is_vector() || shape.channels < 2 {
                    return Err(cannot_split(
                        "a vector shape (height = width = 1) of at least 2 features",
                    ));
                }
                let features = shape.channels;
                Box::new(move |c, _, _| Role::split(transform.contains(c, features)))
            }
        };
        let condition = MaskGrid::from_fn(shape, |c, h, w| role(c, h, w) == Role::Condition);
        let transform = MaskGrid::from_fn(shape, |c, h, w| role(c, h, w) == Role::Transform);
        Ok(CouplingMask::from_parts(kind, condition, transform))
    }

    /// Whether the kind's condition and transform masks together cover every entry
    /// (true for every kind but [`MaskKind::Cycle`]).
    pub fn covers_all(&self) -> bool {
        !matches!(self, MaskKind::Cycle { .. })
    }
}

impl fmt::Display for MaskKind {
    /// A short human description, e.g. `cycle (0 (top-left) -> 1 (top-right))`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let half = |h: &Half, first: &'static str, second: &'static str| match h {
            Half::First => first,
            Half::Second => second,
        };
        match self {
            MaskKind::Checkerboard { parity } => write!(f, "checkerboard (parity {parity})"),
            MaskKind::ChannelWise { transform } => write!(
                f,
                "channel-wise (transforms the {} half of the channels)",
                half(transform, "first", "second")
            ),
            MaskKind::Horizontal { transform } => write!(
                f,
                "horizontal (transforms the {} half)",
                half(transform, "top", "bottom")
            ),
            MaskKind::Vertical { transform } => write!(
                f,
                "vertical (transforms the {} half)",
                half(transform, "left", "right")
            ),
            MaskKind::Cycle { from } => write!(f, "cycle ({from} -> {})", from.next()),
            MaskKind::TabularHalves { transform } => write!(
                f,
                "tabular halves (transforms the {} half of the features)",
                half(transform, "first", "second")
            ),
        }
    }
}
