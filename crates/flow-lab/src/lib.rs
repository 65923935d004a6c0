//! The flows-ood application layer: everything between the libraries and the command
//! line.
//!
//! - [`device`]: the only module that names a concrete backend; it picks one by cargo
//!   feature and runtime flag and runs a backend-generic job on it.
//! - [`train`]: the optimiser step of the reference (Adam, global gradient-norm clip,
//!   weight decay on the weight-norm scales only).
//! - [`bench`]: training and scoring throughput of the RealNVP configurations.
//! - [`provenance`]: the commit, machine and date every committed result names.
//!
//! Architecture invariant: model code stays generic; this crate composes the library
//! crates and owns files on disk (checkpoints, reports), never the math.

pub mod bench;
pub mod device;
pub mod docs;
pub mod embedding;
pub mod experiment;
pub mod provenance;
pub mod score;

// Compiles the README's example as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
