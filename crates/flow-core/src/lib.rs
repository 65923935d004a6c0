//! The math of normalizing flows on burn, generic over the backend.
//!
//! A flow is an invertible map `x -> z` with a tractable `log|det J|`; with a standard
//! normal prior it gives exact log-likelihoods. This crate holds:
//!
//! - the [`Flow`] contract (forward with per-sample log-det, inverse, and a [`Trace`] of
//!   each layer's contribution and the couplings' `s` and `t`);
//! - the layers: [`layers::AffineCoupling`] in the reference convention over any mask
//!   from `flow-masks`, [`layers::squeeze`], [`layers::ActNorm`],
//!   [`layers::InvConv1x1`] (LU), [`layers::LogitPreprocess`];
//! - the st-networks ([`st_nets`]): the reference ResNet with weight norm and BatchNorm,
//!   the bottleneck variants, Glow's highway network, an MLP;
//! - the architectures ([`models`]): RealNVP multi-scale, Glow, single-scale stacks over
//!   any mask schedule, all built from a serde [`models::FlowConfig`] into a
//!   [`models::FlowNet`];
//! - the prior and the likelihood in nats and bits/dim ([`likelihood`]);
//! - global gradient-norm clipping for training any of them ([`grads`]) and the count of
//!   what training updates ([`params`]);
//! - with the `testing` feature, `testing`: the brute-force Jacobian check of a
//!   reported log-determinant and other helpers for tests of flows.
//!
//! Conventions follow Kirichenko, Izmailov & Wilson (NeurIPS 2020) and their reference
//! code exactly; where the reference does something unusual, a flag says so (see
//! [`layers::LogitPreprocess`]).
//!
//! Architecture invariant: no code here names a backend; every module is generic over
//! `B: Backend`, and parameters come from a seeded host RNG so that a seed means the same
//! model on every backend.
//!
//! ```
//! use burn::backend::NdArray;
//! use flow_core::{models::FlowConfig, Flow};
//! use flow_masks::MaskSchedule;
//!
//! let config = FlowConfig::single_scale([1, 4, 4], MaskSchedule::checkerboard(2), 1, 4);
//! let device = Default::default();
//! let flow = config.init::<NdArray>(7, &device)?;
//! let x = burn::tensor::Tensor::<NdArray, 4>::full([3, 1, 4, 4], 0.5, &device);
//! let out = flow.forward(x.clone())?;
//! let back = flow.inverse(out.z)?;
//! assert!((back - x).abs().max().into_scalar() < 1e-4);
//! # Ok::<(), flow_core::FlowError>(())
//! ```

pub mod batch_norm;
pub mod broadcast;
mod error;
mod flow;
pub mod grads;
pub mod grid;
pub mod init;
pub mod layers;
pub mod likelihood;
mod linalg;
pub mod models;
pub mod nn;
pub mod params;
pub mod schedule;
pub mod st_nets;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::FlowError;
pub use flow::{sum_per_sample, CouplingRecord, Flow, FlowOutput, LayerRecord, Trace};
pub use models::{FlowConfig, FlowNet};

// Runs the README's example as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
