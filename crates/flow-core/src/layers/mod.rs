//! The invertible layers flows are built from.

mod actnorm;
mod coupling;
mod invconv;
mod logit;
mod permutation;
mod squeeze;

pub use actnorm::ActNorm;
pub use coupling::{AffineCoupling, ChannelSplit};
pub use invconv::InvConv1x1;
pub use logit::LogitPreprocess;
pub use permutation::Permutation;
pub use squeeze::{squeeze, unsqueeze};
