//! Mask strategies for the coupling layers of normalizing flows.
//!
//! A coupling layer splits its input in two: the entries it *conditions on* feed a
//! network that predicts a scale and shift for the entries it *transforms*. Which entries
//! go where is the layer's inductive bias, and the central question of Kirichenko,
//! Izmailov & Wilson, "Why Normalizing Flows Fail to Detect Out-of-Distribution Data"
//! (NeurIPS 2020). This crate owns that choice and nothing else:
//!
//! - [`MaskKind`]: checkerboard (both parities), channel-wise, horizontal, vertical, the
//!   quadrant cycle, and tabular halves for vectors;
//! - [`MaskKind::build`] lays a kind over a [`MaskShape`] and gives a [`CouplingMask`]:
//!   separate condition and transform [`MaskGrid`]s (separate because the cycle mask's
//!   do not cover the image), convertible to burn tensors;
//! - [`MaskSchedule`]: the kind of each layer of a stack;
//! - [`CouplingMask::render`] and [`MaskSchedule::render`]: plain-text pictures.
//!
//! Architecture invariant: the crate depends on burn only to hand masks over as tensors;
//! it holds no model code and no backend.
//!
//! ```
//! use flow_masks::{MaskKind, MaskShape, Quadrant};
//!
//! let mask = MaskKind::Cycle { from: Quadrant::TopLeft }.build(MaskShape::image(1, 4, 4))?;
//! assert_eq!(mask.render(), "cctt\ncctt\n....\n....\n");
//! # Ok::<(), flow_masks::MaskError>(())
//! ```

mod coupling;
mod error;
mod grid;
mod kind;
mod schedule;
mod shape;

pub use coupling::{CouplingMask, Role};
pub use error::MaskError;
pub use grid::MaskGrid;
pub use kind::{Half, MaskKind, Quadrant};
pub use schedule::MaskSchedule;
pub use shape::MaskShape;

// Compiles and runs the README's example as a doctest, so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
