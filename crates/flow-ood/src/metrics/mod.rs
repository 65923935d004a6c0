//! OOD detection metrics on plain `f64` slices, each with its convention declared.
//!
//! Build a [`ScoreTable`] once (it validates, orients and sorts) and ask it for metrics, or
//! call the free functions, which build one each time. [`evaluate`] computes all of them.

mod aupr;
mod auroc;
mod bootstrap;
mod detection;
mod error;
mod fpr;
mod histogram;
mod metric;
mod pass;
mod report;
mod rng;
mod roc;
mod sort;
mod sum;
mod table;

pub use aupr::{aupr, AuprMethod};
pub use auroc::auroc;
pub use bootstrap::{
    bootstrap_intervals, bootstrap_samples, percentile_interval, BootstrapOptions,
    ConfidenceInterval,
};
pub use detection::detection_error;
pub use error::{MetricError, NonFiniteScores, ScoreSet, MAX_REPORTED_INDICES};
pub use fpr::{fpr_at_tpr, FprConvention, DEFAULT_TPR_LEVEL};
pub use histogram::{HistogramOptions, SharedHistogram};
pub use metric::Metric;
pub use report::{
    evaluate, evaluate_oriented, evaluate_table, BootstrapSummary, EvaluateOptions, MetricReport,
    MetricValue,
};
#[cfg(feature = "flow")]
pub(crate) use rng::uniform_below;
pub use rng::Xoshiro256PlusPlus;
pub use roc::{roc_curve, RocCurve, RocOptions, RocPoint};
pub use table::{ScoreTable, TieGroup};
