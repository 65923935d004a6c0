//! Out-of-distribution detection metrics you can trust number for number.
//!
//! OOD papers silently disagree on which class is positive, how ties count, how FPR@95TPR
//! is read off a curve and how AUPR is integrated. Every function here takes an explicit
//! [`Orientation`] and names its convention; the values are checked against scikit-learn
//! and the OpenOOD v1.5 formulas to 1e-12 (`tests/golden.rs`).
//!
//! The metrics need nothing but `f64` slices; no tensor library is involved.
//!
//! ```
//! use flow_ood::{evaluate, EvaluateOptions, Orientation};
//! let in_ll = [-3.1, -2.9, -3.4, -2.7]; // log-likelihoods of in-distribution samples
//! let ood_ll = [-2.0, -3.3, -2.2];      // ... and of out-of-distribution samples
//! let report = evaluate(&in_ll, &ood_ll, Orientation::HigherIsInDistribution,
//!                       &EvaluateOptions::default())?;
//! assert!(report.auroc.value < 0.5); // the OOD set looks *more* likely
//! # Ok::<(), flow_ood::MetricError>(())
//! ```

#![deny(missing_docs)]

pub mod metrics;
mod orientation;
#[cfg(feature = "flow")]
pub mod scores;
pub mod units;

pub use metrics::*;

// Compiles and runs the README's example as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExample;
pub use orientation::{Orientation, OrientedScores, PositiveClass};
