//! Training checkpoints: one self-checking file per run folder, replaced atomically.
//!
//! A checkpoint holds everything a run needs to continue bit for bit: the flow's
//! configuration, the training configuration, the step reached, the model record
//! (parameters and BatchNorm running statistics), the optimiser's state, and the history so far.
//! No random-number state is saved because the run draws none that carries over: the
//! batch order of an epoch and the dequantization noise of a step are both derived from
//! the seed and the step (see the [crate] docs).
//!
//! # File layout (`checkpoint.flowckpt`)
//!
//! flow-fs's [`container`] with magic "FLOWCKPT" and four sections:
//!
//! ```text
//! JSON   {"meta": CheckpointMeta, "float_bits": exact bits of its floats}
//! bytes  model record (burn named MessagePack, full precision)
//! bytes  optimizer record (likewise)
//! bytes  history: per point u64 step, f64 bits/dim, f64 grad norm (little-endian)
//! ```
//!
//! # Atomicity
//!
//! A new checkpoint is written to a temporary file in the same folder, flushed to disk
//! (`fsync`), and renamed over the old one; the folder is then synced so the rename
//! itself is durable. A rename within one file system is atomic, so at every moment the
//! folder holds either the old complete checkpoint or the new complete one. A process
//! killed mid-write leaves at most a stray temporary file, removed by the next write.
//! The checksum catches anything else (a truncated copy, a flipped byte) with an error
//! that names the file.

use flow_kernels::FlowAutodiffBackend;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Recorder};
use flow_core::{FlowConfig, FlowNet};
use flow_data::ImageDataset;
use flow_fs::container::{self, ContainerError, Fnv64, Format};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::negative::NegativeConfig;
use crate::run::{HistoryPoint, TrainConfig};
use crate::step::{OptimizerKind, OptimizerRecord};

/// The checkpoint's file name inside a run's checkpoint folder.
pub const CHECKPOINT_FILE: &str = "checkpoint.flowckpt";

/// The format version this build writes and reads.
pub const CHECKPOINT_VERSION: u32 = 1;

/// Magic bytes and version of the checkpoint's container.
const FORMAT: Format = Format {
    magic: *b"FLOWCKPT",
    version: CHECKPOINT_VERSION,
};
const TEMP_PREFIX: &str = ".checkpoint.flowckpt.tmp-";
const HISTORY_POINT_BYTES: usize = 24;

/// Why a checkpoint could not be written or read; every variant names the file or
/// folder.
#[derive(Debug, Error)]
pub enum CheckpointError {
    /// Reading or writing failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a complete, intact checkpoint (truncated, corrupted, or not a
    /// checkpoint at all).
    #[error("{}: not a loadable checkpoint: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A checkpoint written by a different format version.
    #[error("{}: checkpoint format version {found}; this build reads version {expected}", path.display())]
    Version {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },
    /// No checkpoint in a folder that should hold one.
    #[error("{}: no checkpoint ({CHECKPOINT_FILE}) in this folder", dir.display())]
    Missing {
        /// The folder.
        dir: PathBuf,
    },
    /// An intact checkpoint that does not belong to the run asking for it.
    #[error("{}: the checkpoint does not match this run: {reason}", path.display())]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// What differs.
        reason: String,
    },
}

/// What identifies a training set, so that a resumed run can refuse a different one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFingerprint {
    /// Number of images.
    pub len: usize,
    /// `[C, H, W]` of each image.
    pub shape: [usize; 3],
    /// FNV-1a 64 of the pixel bytes followed by the labels.
    pub hash: u64,
}

impl DataFingerprint {
    /// The fingerprint of `data`.
    pub fn of(data: &ImageDataset) -> Self {
        let shape = data.shape();
        let mut hash = Fnv64::new();
        hash.update(data.pixels());
        for label in data.labels() {
            hash.update(&label.to_le_bytes());
        }
        Self {
            len: data.len(),
            shape: [shape.channels, shape.height, shape.width],
            hash: hash.finish(),
        }
    }
}

/// The scalar state of a run at a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointMeta {
    /// The flow's architecture (the model is rebuilt from it before its record loads).
    pub flow: FlowConfig,
    /// The training configuration.
    pub train: TrainConfig,
    /// Steps completed.
    pub step: u64,
    /// Steps in one epoch (batches per pass over the data).
    pub steps_per_epoch: u64,
    /// Steps the run plans in total.
    pub total_steps: u64,
    /// The training set.
    pub data: DataFingerprint,
    /// Training wall time so far, in seconds, summed over resumed sessions.
    pub elapsed_secs: f64,
    /// Images seen so far.
    pub images_seen: u64,
    /// For negative training: its settings and the OOD training set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negative: Option<NegativeMeta>,
}

/// What identifies the negative-training part of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NegativeMeta {
    /// The objective's settings.
    pub config: NegativeConfig,
    /// The OOD training set.
    pub data: DataFingerprint,
}

impl CheckpointMeta {
    /// Whole epochs completed.
    pub fn epochs_completed(&self) -> u64 {
        self.step / self.steps_per_epoch.max(1)
    }

    /// Whether the run reached its planned number of steps.
    pub fn finished(&self) -> bool {
        self.step >= self.total_steps
    }
}

/// A loaded checkpoint: the model and optimiser state ready to continue training.
pub struct Checkpoint<B: FlowAutodiffBackend> {
    /// The scalar state.
    pub meta: CheckpointMeta,
    /// Per-step history up to `meta.step`.
    pub history: Vec<HistoryPoint>,
    /// The model, rebuilt from `meta.flow` with the saved record loaded.
    pub model: FlowNet<B>,
    /// The optimiser's state (of the kind its configuration names).
    pub optimizer: OptimizerRecord<B>,
}

/// The checkpoint file of the run folder `dir`.
pub fn checkpoint_path(dir: &Path) -> PathBuf {
    dir.join(CHECKPOINT_FILE)
}

/// Writes a checkpoint into `dir` (created if missing), atomically replacing the one
/// there; returns the checkpoint's path.
pub fn write_checkpoint<B: FlowAutodiffBackend>(
    dir: &Path,
    meta: &CheckpointMeta,
    history: &[HistoryPoint],
    model: &FlowNet<B>,
    optimizer: OptimizerRecord<B>,
) -> Result<PathBuf, CheckpointError> {
    let path = checkpoint_path(dir);
    let recorder = NamedMpkBytesRecorder::<FullPrecisionSettings>::default();
    let model_bytes = Recorder::<B>::record(&recorder, model.clone().into_record(), ())
        .map_err(|e| corrupt(&path, format!("cannot encode the model record: {e}")))?;
    let optim_bytes = match optimizer {
        OptimizerRecord::Adam(record) => Recorder::<B>::record(&recorder, record, ()),
        OptimizerRecord::RmsProp(record) => Recorder::<B>::record(&recorder, record, ()),
    }
    .map_err(|e| corrupt(&path, format!("cannot encode the optimizer record: {e}")))?;
    let header =
        encode_meta(meta).map_err(|e| corrupt(&path, format!("cannot encode the header: {e}")))?;

    let history = encode_history(history);
    let bytes = container::encode(&FORMAT, &[&header, &model_bytes, &optim_bytes, &history]);

    fs::create_dir_all(dir).map_err(|source| io_error(dir, source))?;
    remove_stale_temporaries(dir);
    write_atomic(dir, &path, &bytes)?;
    Ok(path)
}

/// Reads the checkpoint at `path` and rebuilds its model on `device`.
pub fn read_checkpoint<B: FlowAutodiffBackend>(
    path: &Path,
    device: &B::Device,
) -> Result<Checkpoint<B>, CheckpointError> {
    let bytes = fs::read(path).map_err(|source| io_error(path, source))?;
    let sections = parse(path, &bytes)?;
    let meta = decode_meta(path, sections.header)?;
    let history = decode_history(path, sections.history)?;
    let recorder = NamedMpkBytesRecorder::<FullPrecisionSettings>::default();
    let model_record = Recorder::<B>::load::<<FlowNet<B> as Module<B>>::Record>(
        &recorder,
        sections.model.to_vec(),
        device,
    )
    .map_err(|e| corrupt(path, format!("cannot decode the model record: {e}")))?;
    // The configuration in the header says whose state the section holds.
    let optimizer_bytes = sections.optimizer.to_vec();
    let optimizer = match meta.train.optim.optimizer {
        OptimizerKind::Adam => {
            Recorder::<B>::load(&recorder, optimizer_bytes, device).map(OptimizerRecord::Adam)
        }
        OptimizerKind::RmsProp => {
            Recorder::<B>::load(&recorder, optimizer_bytes, device).map(OptimizerRecord::RmsProp)
        }
    }
    .map_err(|e| corrupt(path, format!("cannot decode the optimizer record: {e}")))?;
    let model = meta
        .flow
        .init::<B>(meta.train.seed, device)
        .map_err(|e| corrupt(path, format!("its flow configuration cannot be built: {e}")))?
        .load_record(model_record);
    Ok(Checkpoint {
        meta,
        history,
        model,
        optimizer,
    })
}

/// Reads only the scalar state and the history of the checkpoint at `path` (for
/// reports and training curves); the file's checksum is still verified.
pub fn read_checkpoint_meta(
    path: &Path,
) -> Result<(CheckpointMeta, Vec<HistoryPoint>), CheckpointError> {
    let bytes = fs::read(path).map_err(|source| io_error(path, source))?;
    let sections = parse(path, &bytes)?;
    Ok((
        decode_meta(path, sections.header)?,
        decode_history(path, sections.history)?,
    ))
}

struct Sections<'a> {
    header: &'a [u8],
    model: &'a [u8],
    optimizer: &'a [u8],
    history: &'a [u8],
}

fn parse<'a>(path: &Path, bytes: &'a [u8]) -> Result<Sections<'a>, CheckpointError> {
    let sections = container::decode(&FORMAT, bytes, 4).map_err(|e| match e {
        ContainerError::Version { found, expected } => CheckpointError::Version {
            path: path.to_path_buf(),
            found,
            expected,
        },
        other => corrupt(path, other.to_string()),
    })?;
    Ok(Sections {
        header: sections[0],
        model: sections[1],
        optimizer: sections[2],
        history: sections[3],
    })
}

/// The header: the metadata as JSON plus the exact bits of each of its floats.
///
/// serde_json's default float parser is not exact (about one in ten arbitrary `f64`s
/// comes back one unit in the last place off), and a learning rate or a preprocessing
/// constant that moves by one ulp breaks bit-for-bit resumption. So the floats also
/// travel as their bits, in the order a walk of the JSON value meets them, and replace
/// the parsed ones on reading.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    meta: serde_json::Value,
    float_bits: Vec<u64>,
}

fn encode_meta(meta: &CheckpointMeta) -> Result<Vec<u8>, serde_json::Error> {
    let meta = serde_json::to_value(meta)?;
    let mut float_bits = Vec::new();
    visit_floats(&meta, &mut |x| float_bits.push(x.to_bits()));
    serde_json::to_vec(&Header { meta, float_bits })
}

fn decode_meta(path: &Path, header: &[u8]) -> Result<CheckpointMeta, CheckpointError> {
    let invalid = |e: String| corrupt(path, format!("its header is not valid: {e}"));
    let header: Header = serde_json::from_slice(header).map_err(|e| invalid(e.to_string()))?;
    let mut meta = header.meta;
    let mut exact = header.float_bits.into_iter();
    let mut missing = false;
    restore_floats(&mut meta, &mut || {
        let bits = exact.next();
        missing |= bits.is_none();
        bits.map(f64::from_bits)
    });
    if missing || exact.next().is_some() {
        return Err(invalid(
            "its float table does not match its metadata".into(),
        ));
    }
    serde_json::from_value(meta).map_err(|e| invalid(e.to_string()))
}

/// Calls `f` on every float of `value`, in a fixed order (objects are sorted maps).
fn visit_floats(value: &serde_json::Value, f: &mut impl FnMut(f64)) {
    match value {
        serde_json::Value::Number(n) if n.is_f64() => {
            if let Some(x) = n.as_f64() {
                f(x);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| visit_floats(v, f)),
        serde_json::Value::Object(map) => map.values().for_each(|v| visit_floats(v, f)),
        _ => {}
    }
}

/// Replaces every float of `value`, in [`visit_floats`]'s order, by what `next` gives.
fn restore_floats(value: &mut serde_json::Value, next: &mut impl FnMut() -> Option<f64>) {
    match value {
        serde_json::Value::Number(n) if n.is_f64() => {
            if let Some(exact) = next().and_then(serde_json::Number::from_f64) {
                *n = exact;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| restore_floats(v, next)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| restore_floats(v, next)),
        _ => {}
    }
}

fn encode_history(history: &[HistoryPoint]) -> Vec<u8> {
    let mut out = Vec::with_capacity(history.len() * HISTORY_POINT_BYTES);
    for point in history {
        out.extend_from_slice(&point.step.to_le_bytes());
        out.extend_from_slice(&point.bits_per_dim.to_le_bytes());
        out.extend_from_slice(&point.grad_norm.to_le_bytes());
    }
    out
}

fn decode_history(path: &Path, bytes: &[u8]) -> Result<Vec<HistoryPoint>, CheckpointError> {
    if !bytes.len().is_multiple_of(HISTORY_POINT_BYTES) {
        return Err(corrupt(
            path,
            format!(
                "its history section has {} bytes, not a multiple of {HISTORY_POINT_BYTES}",
                bytes.len()
            ),
        ));
    }
    Ok(bytes
        .chunks_exact(HISTORY_POINT_BYTES)
        .map(|chunk| HistoryPoint {
            step: u64::from_le_bytes(le_array(&chunk[..8])),
            bits_per_dim: f64::from_le_bytes(le_array(&chunk[8..16])),
            grad_norm: f64::from_le_bytes(le_array(&chunk[16..24])),
        })
        .collect())
}

/// The first `N` bytes of `bytes` as an array (callers pass slices of at least `N`).
fn le_array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[..N]);
    out
}

fn write_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
    // The prefix lets `remove_stale_temporaries` find what a killed writer left.
    let temp = dir.join(format!("{TEMP_PREFIX}{}", std::process::id()));
    flow_fs::write_atomic_via(&temp, path, |out| out.write_all(bytes))
        .map_err(|source| io_error(path, source))
}

/// Removes temporary files left by writers that were killed mid-write.
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn io_error(path: &Path, source: std::io::Error) -> CheckpointError {
    CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn corrupt(path: &Path, reason: String) -> CheckpointError {
    CheckpointError::Corrupt {
        path: path.to_path_buf(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_round_trips_and_rejects_ragged_sections() {
        let history = vec![
            HistoryPoint {
                step: 0,
                bits_per_dim: 3.5,
                grad_norm: 12.25,
            },
            HistoryPoint {
                step: 1,
                bits_per_dim: f64::MIN_POSITIVE,
                grad_norm: 1e300,
            },
        ];
        let bytes = encode_history(&history);
        let path = Path::new("x");
        assert_eq!(decode_history(path, &bytes).unwrap(), history);
        assert!(decode_history(path, &bytes[..bytes.len() - 1]).is_err());
    }
}
