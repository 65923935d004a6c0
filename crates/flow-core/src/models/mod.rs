//! Architectures: RealNVP (multi-scale), Glow, single-scale stacks, all as [`FlowNet`].

mod config;
mod net;

pub use config::{
    Architecture, FlowConfig, GlowConfig, RealNvpConfig, RealNvpStNet, SingleScaleConfig,
};
pub use net::{FlowNet, FlowStep, ScaleBlock};
