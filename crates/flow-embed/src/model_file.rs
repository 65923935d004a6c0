//! Saving and loading fitted models: one self-checking file per model, written
//! atomically.
//!
//! # Layout
//!
//! flow-fs's `container` (the checkpoints' too) with magic "FLOWEMBD" and two
//! sections:
//!
//! ```text
//! JSON   header: {"kind": ..., "config": ..., "standardizer": ...}
//! bytes  burn record (named MessagePack, full precision)
//! ```
//!
//! The header holds what rebuilds the model's structure (its configuration, and for a
//! flow the standardiser, floats written so that they read back exactly); the record
//! holds the trained parameters. A file is written to a temporary name beside the
//! target, flushed, and renamed over it, so a reader sees the old file or the new one,
//! never half of one.

use flow_kernels::FlowBackend;
use std::fs;
use std::path::Path;

use burn::module::Module;
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Recorder};
use flow_fs::container::{self, Format};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::classifier::{Classifier, ClassifierConfig};
use crate::error::{EmbedError, Result};
use crate::standardize::Standardizer;
use crate::tabular::{TabularFlow, TabularFlowConfig};

/// The file format version this build writes and reads (2: the tabular flow's steps
/// are a flow-core `FlowNet`, so its record has another shape than version 1's).
pub const MODEL_FILE_VERSION: u32 = 2;

const FORMAT: Format = Format {
    magic: *b"FLOWEMBD",
    version: MODEL_FILE_VERSION,
};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FlowHeader {
    kind: String,
    config: TabularFlowConfig,
    standardizer: Standardizer,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassifierHeader {
    kind: String,
    config: ClassifierConfig,
}

const FLOW_KIND: &str = "tabular flow";
const CLASSIFIER_KIND: &str = "classifier";

impl<B: FlowBackend> TabularFlow<B> {
    /// Writes the flow (configuration, standardiser, parameters) to `path`, atomically.
    ///
    /// # Errors
    /// [`EmbedError::Io`] naming the file.
    pub fn save(&self, path: &Path) -> Result<()> {
        let header = FlowHeader {
            kind: FLOW_KIND.into(),
            config: self.config().clone(),
            standardizer: self.standardizer().clone(),
        };
        write_model(path, FLOW_KIND, &header, self.clone())
    }

    /// Reads a flow written by [`TabularFlow::save`] onto `device`.
    ///
    /// # Errors
    /// [`EmbedError::Io`] when the file cannot be read; [`EmbedError::ModelFile`] when it
    /// is truncated, damaged, of another kind or version, or its record does not fit
    /// its configuration.
    pub fn load(path: &Path, device: &B::Device) -> Result<Self> {
        let (header, record): (FlowHeader, _) = read_model(path, FLOW_KIND)?;
        check_kind(path, FLOW_KIND, &header.kind)?;
        let model = header
            .config
            .init::<B>(0, header.standardizer, device)
            .map_err(|e| {
                bad(
                    path,
                    FLOW_KIND,
                    format!("its configuration cannot be built: {e}"),
                )
            })?;
        load_record(path, FLOW_KIND, model, record, device)
    }
}

impl<B: FlowBackend> Classifier<B> {
    /// Writes the classifier (configuration and parameters, BatchNorm statistics
    /// included) to `path`, atomically.
    ///
    /// # Errors
    /// [`EmbedError::Io`] naming the file.
    pub fn save(&self, path: &Path) -> Result<()> {
        let header = ClassifierHeader {
            kind: CLASSIFIER_KIND.into(),
            config: self.config().clone(),
        };
        write_model(path, CLASSIFIER_KIND, &header, self.clone())
    }

    /// Reads a classifier written by [`Classifier::save`] onto `device`.
    ///
    /// # Errors
    /// As [`TabularFlow::load`].
    pub fn load(path: &Path, device: &B::Device) -> Result<Self> {
        let (header, record): (ClassifierHeader, _) = read_model(path, CLASSIFIER_KIND)?;
        check_kind(path, CLASSIFIER_KIND, &header.kind)?;
        let model = header.config.init::<B>(0, device).map_err(|e| {
            bad(
                path,
                CLASSIFIER_KIND,
                format!("its configuration cannot be built: {e}"),
            )
        })?;
        load_record(path, CLASSIFIER_KIND, model, record, device)
    }
}

fn bad(path: &Path, kind: &'static str, reason: String) -> EmbedError {
    EmbedError::ModelFile {
        path: path.to_path_buf(),
        kind,
        reason,
    }
}

fn check_kind(path: &Path, kind: &'static str, found: &str) -> Result<()> {
    if found == kind {
        Ok(())
    } else {
        Err(bad(path, kind, format!("it holds a {found}")))
    }
}

fn write_model<B: FlowBackend, M: Module<B>>(
    path: &Path,
    kind: &'static str,
    header: &impl Serialize,
    model: M,
) -> Result<()> {
    let header = serde_json::to_vec(header)
        .map_err(|e| bad(path, kind, format!("cannot encode the header: {e}")))?;
    let recorder = NamedMpkBytesRecorder::<FullPrecisionSettings>::default();
    let record = Recorder::<B>::record(&recorder, model.into_record(), ())
        .map_err(|e| bad(path, kind, format!("cannot encode the record: {e}")))?;
    let bytes = container::encode(&FORMAT, &[&header, &record]);
    write_atomic(path, &bytes)
}

/// The header and the record bytes of a model file, checked.
fn read_model<H: DeserializeOwned>(path: &Path, kind: &'static str) -> Result<(H, Vec<u8>)> {
    let bytes = fs::read(path).map_err(|e| EmbedError::io(path, e))?;
    let fail = |reason: String| bad(path, kind, reason);
    let sections = container::decode(&FORMAT, &bytes, 2).map_err(|e| fail(e.to_string()))?;
    let header = serde_json::from_slice(sections[0])
        .map_err(|e| fail(format!("its header cannot be read: {e}")))?;
    Ok((header, sections[1].to_vec()))
}

fn load_record<B: FlowBackend, M: Module<B>>(
    path: &Path,
    kind: &'static str,
    model: M,
    record: Vec<u8>,
    device: &B::Device,
) -> Result<M> {
    let recorder = NamedMpkBytesRecorder::<FullPrecisionSettings>::default();
    let record = Recorder::<B>::load::<M::Record>(&recorder, record, device).map_err(|e| {
        bad(
            path,
            kind,
            format!("its record does not fit its configuration: {e}"),
        )
    })?;
    Ok(model.load_record(record))
}

/// Writes through `flow_fs::write_atomic`, creating the folder first.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| EmbedError::io(dir, e))?;
    }
    flow_fs::write_atomic(path, bytes).map_err(|e| EmbedError::io(path, e))
}
