//! Shared fixtures of the training tests: a tiny flow, a synthetic dataset, and
//! backend-independent views of model and optimiser state for exact comparisons.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use burn::backend::{Autodiff, Flex};
use burn::module::{Module, ModuleVisitor, Param};
use burn::record::{FullPrecisionSettings, Record};
use burn::tensor::Tensor;
use flow_core::{FlowConfig, FlowNet};
use flow_data::{ImageDataset, ImageShape};
use flow_masks::MaskSchedule;
use flow_train::{
    OptimConfig, OptimizerRecord, RunOptions, TrainConfig, Training, CHECKPOINT_FILE,
};
use serde_json::Value;

/// The backend of every training test.
pub type B = Autodiff<Flex>;

/// A single-scale flow of two checkerboard couplings on 1x4x4 images, ResNet
/// st-networks with one block of 4 channels (BatchNorm included).
pub fn tiny_flow() -> FlowConfig {
    FlowConfig::single_scale([1, 4, 4], MaskSchedule::checkerboard(2), 1, 4)
}

/// `n` 1x4x4 images: two smooth templates (a ramp and its mirror) with a small
/// deterministic jitter, so there is structure to learn.
pub fn synthetic_images(n: usize) -> ImageDataset {
    let mut pixels = Vec::with_capacity(n * 16);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let template = i % 2;
        for p in 0..16usize {
            let ramp = (p * 15) as u8;
            let base = if template == 0 { ramp } else { 225 - ramp };
            let jitter = ((i * 7 + p * 3) % 5) as u8;
            pixels.push(base + jitter);
        }
        labels.push(template as u32);
    }
    ImageDataset::new(ImageShape::new(1, 4, 4), pixels, labels).unwrap()
}

/// A training configuration for the tiny flow: batch 8, a learning rate that moves
/// the parameters visibly within a few steps.
pub fn train_config(seed: u64, epochs: Option<u64>, max_steps: Option<u64>) -> TrainConfig {
    TrainConfig {
        seed,
        batch_size: 8,
        epochs,
        max_steps,
        optim: OptimConfig {
            learning_rate: 1e-3,
            ..OptimConfig::default()
        },
    }
}

fn strip_ids(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("id");
            map.values_mut().for_each(strip_ids);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_ids),
        _ => {}
    }
}

/// Every parameter and buffer (BatchNorm running statistics included) of `model`,
/// exactly, without the parameter ids (which differ between independently built
/// models).
pub fn model_state(model: &FlowNet<B>) -> Value {
    let item = model
        .clone()
        .into_record()
        .into_item::<FullPrecisionSettings>();
    let mut value = serde_json::to_value(item).unwrap();
    strip_ids(&mut value);
    value
}

struct ParamPaths {
    path: Vec<String>,
    by_id: BTreeMap<String, String>,
    values: BTreeMap<String, Vec<u32>>,
}

impl ModuleVisitor<B> for ParamPaths {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let path = self.path.join(".");
        self.by_id.insert(param.id.serialize(), path.clone());
        let bits = param
            .val()
            .into_data()
            .convert::<f32>()
            .to_vec::<f32>()
            .unwrap()
            .into_iter()
            .map(f32::to_bits)
            .collect();
        self.values.insert(path, bits);
    }
}

fn param_paths(model: &FlowNet<B>) -> ParamPaths {
    let mut visitor = ParamPaths {
        path: Vec::new(),
        by_id: BTreeMap::new(),
        values: BTreeMap::new(),
    };
    model.visit(&mut visitor);
    visitor
}

/// Every trainable parameter of `model` by its module path, as raw `f32` bits.
pub fn parameter_bits(model: &FlowNet<B>) -> BTreeMap<String, Vec<u32>> {
    param_paths(model).values
}

/// The optimiser's state per parameter path of `model` (moments and step counts),
/// exactly.
pub fn optimizer_state(model: &FlowNet<B>, record: OptimizerRecord<B>) -> BTreeMap<String, Value> {
    let paths = param_paths(model).by_id;
    let items: Vec<(String, Value)> = match record {
        OptimizerRecord::Adam(r) => r
            .into_item::<FullPrecisionSettings>()
            .into_iter()
            .map(|(id, item)| (id, serde_json::to_value(item).unwrap()))
            .collect(),
        OptimizerRecord::RmsProp(r) => r
            .into_item::<FullPrecisionSettings>()
            .into_iter()
            .map(|(id, item)| (id, serde_json::to_value(item).unwrap()))
            .collect(),
    };
    items
        .into_iter()
        .map(|(id, item)| {
            let path = paths
                .get(&id)
                .cloned()
                .unwrap_or_else(|| panic!("optimizer state for unknown parameter {id}"));
            (path, item)
        })
        .collect()
}

/// A finished 3-step run of [`tiny_flow`] on 16 [`synthetic_images`], its checkpoint in
/// a fresh folder (kept alive by the returned guard).
pub fn trained_checkpoint() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let options = RunOptions {
        checkpoint_dir: Some(dir.path().to_path_buf()),
        quiet: true,
        ..RunOptions::default()
    };
    let outcome = Training::new(
        &tiny_flow(),
        &train_config(3, None, Some(3)),
        &synthetic_images(16),
    )
    .options(options.clone())
    .start::<B>(&Default::default())
    .unwrap();
    let path = dir.path().join(CHECKPOINT_FILE);
    assert_eq!(outcome.checkpoint.as_deref(), Some(path.as_path()));
    (dir, path)
}
