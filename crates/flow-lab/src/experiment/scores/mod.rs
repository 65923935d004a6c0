//! The OOD-scores table: the scores that work where the likelihood fails, each computed
//! from the same trained pixel flow through `flow_ood::scores`, with the flows they need
//! trained through the same loop, hyper-parameters chosen on a validation pair that is
//! neither the natural OOD set nor a test image, in both directions.

mod config;
mod report;
mod result;
mod study;
mod validation;

pub use config::{ScoreKind, ScoresStudyConfig, StudySize, ValidationOod};
pub use result::{DirectionScores, GridPoint, ScoreRow, ScoresResults};
pub(in crate::experiment) use study::StudyContext;
pub(in crate::experiment) use validation::held_out_problem;
