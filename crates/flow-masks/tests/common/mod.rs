//! Strategies shared by the integration tests.

// Each test binary compiles this module and uses only some of it.
#![allow(dead_code)]

use flow_masks::{Half, MaskKind, MaskShape, Quadrant};
use proptest::prelude::*;

pub fn half() -> impl Strategy<Value = Half> {
    prop_oneof![Just(Half::First), Just(Half::Second)]
}

pub fn quadrant() -> impl Strategy<Value = Quadrant> {
    (0usize..4).prop_map(Quadrant::from_index)
}

/// Every kind with every valid parameter (checkerboard parity 0 or 1).
pub fn kind() -> impl Strategy<Value = MaskKind> {
    prop_oneof![
        (0u8..2).prop_map(|parity| MaskKind::Checkerboard { parity }),
        half().prop_map(|transform| MaskKind::ChannelWise { transform }),
        half().prop_map(|transform| MaskKind::Horizontal { transform }),
        half().prop_map(|transform| MaskKind::Vertical { transform }),
        quadrant().prop_map(|from| MaskKind::Cycle { from }),
        half().prop_map(|transform| MaskKind::TabularHalves { transform }),
    ]
}

/// Any image or vector shape, odd sizes and zeros included.
pub fn any_shape() -> impl Strategy<Value = MaskShape> {
    prop_oneof![
        (0usize..7, 0usize..10, 0usize..10).prop_map(|(c, h, w)| MaskShape::image(c, h, w)),
        (0usize..20).prop_map(MaskShape::vector),
    ]
}

/// Whether the crate's documented requirements allow `kind` on `shape`, written from the
/// documentation rather than from the implementation.
pub fn allowed(kind: MaskKind, shape: MaskShape) -> bool {
    let MaskShape {
        channels: c,
        height: h,
        width: w,
    } = shape;
    if c == 0 || h == 0 || w == 0 {
        return false;
    }
    match kind {
        MaskKind::Checkerboard { parity } => parity <= 1 && h * w >= 2,
        MaskKind::ChannelWise { .. } => c % 2 == 0,
        MaskKind::Horizontal { .. } => h % 2 == 0,
        MaskKind::Vertical { .. } => w % 2 == 0,
        MaskKind::Cycle { .. } => h % 2 == 0 && w % 2 == 0,
        MaskKind::TabularHalves { .. } => h == 1 && w == 1 && c >= 2,
    }
}
