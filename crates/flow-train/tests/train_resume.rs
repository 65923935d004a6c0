//! A run interrupted and resumed from its checkpoint reaches bit for bit the state of
//! the same run never interrupted.

mod train_support;

use std::fs;

use flow_train::{
    read_checkpoint, CheckpointError, RunOptions, TrainError, Training, CHECKPOINT_FILE,
};
use train_support::{
    model_state, optimizer_state, parameter_bits, synthetic_images, tiny_flow, train_config, B,
};

fn quiet(dir: &std::path::Path, every: Option<u64>) -> RunOptions {
    RunOptions {
        checkpoint_dir: Some(dir.to_path_buf()),
        checkpoint_every: every,
        quiet: true,
        ..RunOptions::default()
    }
}

#[test]
fn interrupted_and_resumed_equals_uninterrupted() {
    let device = Default::default();
    let data = synthetic_images(20); // 3 steps per epoch at batch 8, the last one partial
    let flow = tiny_flow();
    let train = train_config(11, Some(3), None); // 9 steps
    let whole_dir = tempfile::tempdir().unwrap();
    let parts_dir = tempfile::tempdir().unwrap();

    let whole = Training::new(&flow, &train, &data)
        .options(quiet(whole_dir.path(), Some(2)))
        .start::<B>(&device)
        .unwrap();
    assert!(whole.finished());
    assert_eq!(whole.steps, 9);
    assert_eq!(whole.history.len(), 9);

    // Stop after 4 steps (mid-epoch, between two periodic checkpoints' schedule) and
    // drop everything in memory.
    let first = Training::new(&flow, &train, &data)
        .options(RunOptions {
            stop_after_steps: Some(4),
            ..quiet(parts_dir.path(), Some(3))
        })
        .start::<B>(&device)
        .unwrap();
    assert_eq!(first.steps, 4);
    assert!(!first.finished());
    drop(first);
    // A writer killed mid-write leaves a temporary file behind; it must not matter.
    fs::write(
        parts_dir.path().join(".checkpoint.flowckpt.tmp-99999"),
        b"partial",
    )
    .unwrap();

    // Resume twice: to step 7, then to the end.
    let second = Training::new(&flow, &train, &data)
        .options(RunOptions {
            checkpoint_dir: Some(parts_dir.path().to_path_buf()),
            ..RunOptions {
                stop_after_steps: Some(7),
                quiet: true,
                ..RunOptions::default()
            }
        })
        .resume::<B>(&device)
        .unwrap();
    assert_eq!(second.steps, 7);
    drop(second);
    let resumed = Training::new(&flow, &train, &data)
        .options(RunOptions {
            checkpoint_dir: Some(parts_dir.path().to_path_buf()),
            ..quiet(parts_dir.path(), None)
        })
        .resume::<B>(&device)
        .unwrap();
    assert!(resumed.finished());
    assert_eq!(resumed.steps, 9);

    // Every parameter and BatchNorm running statistic, bit for bit.
    let whole_params = parameter_bits(&whole.model);
    assert!(!whole_params.is_empty());
    assert_eq!(whole_params, parameter_bits(&resumed.model));
    // And every buffer (BatchNorm running statistics).
    assert_eq!(model_state(&whole.model), model_state(&resumed.model));
    // Adam's moments and step counts, per parameter.
    let whole_optim = optimizer_state(&whole.model, whole.optimizer.clone());
    // Every trainable parameter has Adam state; only BatchNorm's running statistics
    // (visited like parameters, but not trained by gradient) have none.
    let untrained: Vec<_> = whole_params
        .keys()
        .filter(|k| !whole_optim.contains_key(*k))
        .collect();
    assert!(!whole_optim.is_empty());
    assert!(
        untrained
            .iter()
            .all(|k| k.ends_with("running_mean") || k.ends_with("running_var")),
        "{untrained:?}"
    );
    assert_eq!(
        whole_optim,
        optimizer_state(&resumed.model, resumed.optimizer.clone())
    );
    // The training curve, including the losses measured before the interruption.
    assert_eq!(whole.history, resumed.history);
    assert_eq!(whole.images_seen, resumed.images_seen);
    assert_eq!(whole.images_seen, 3 * 20);

    // The final checkpoints hold the same state as the outcomes.
    let from_disk = read_checkpoint::<B>(&parts_dir.path().join(CHECKPOINT_FILE), &device).unwrap();
    assert_eq!(from_disk.meta.step, 9);
    assert!(from_disk.meta.finished());
    assert_eq!(parameter_bits(&from_disk.model), whole_params);
    assert_eq!(model_state(&from_disk.model), model_state(&whole.model));
    assert_eq!(
        optimizer_state(&from_disk.model, from_disk.optimizer),
        whole_optim
    );
    assert!(!parts_dir
        .path()
        .join(".checkpoint.flowckpt.tmp-99999")
        .exists());
}

#[test]
fn a_different_seed_gives_different_parameters() {
    // Guards the test above against comparing states that cannot differ.
    let device = Default::default();
    let data = synthetic_images(16);
    let options = RunOptions {
        quiet: true,
        ..RunOptions::default()
    };
    let a = Training::new(&tiny_flow(), &train_config(1, None, Some(3)), &data)
        .options(options.clone())
        .start::<B>(&device)
        .unwrap();
    let b = Training::new(&tiny_flow(), &train_config(2, None, Some(3)), &data)
        .options(options.clone())
        .start::<B>(&device)
        .unwrap();
    let again = Training::new(&tiny_flow(), &train_config(1, None, Some(3)), &data)
        .options(options.clone())
        .start::<B>(&device)
        .unwrap();
    assert_ne!(parameter_bits(&a.model), parameter_bits(&b.model));
    assert_eq!(parameter_bits(&a.model), parameter_bits(&again.model));
    assert_eq!(a.history, again.history);
}

#[test]
fn start_or_resume_continues_the_matching_run_and_refuses_another() {
    let device = Default::default();
    let data = synthetic_images(16);
    let flow = tiny_flow();
    let train = train_config(5, None, Some(4));
    let dir = tempfile::tempdir().unwrap();
    let stopped = Training::new(&flow, &train, &data)
        .options(RunOptions {
            stop_after_steps: Some(2),
            ..quiet(dir.path(), None)
        })
        .start_or_resume::<B>(&device)
        .unwrap();
    assert_eq!(stopped.steps, 2);
    let done = Training::new(&flow, &train, &data)
        .options(quiet(dir.path(), None))
        .start_or_resume::<B>(&device)
        .unwrap();
    assert_eq!(done.steps, 4);
    assert_eq!(done.history.len(), 4);

    let other = train_config(6, None, Some(4));
    let err = Training::new(&flow, &other, &data)
        .options(quiet(dir.path(), None))
        .start_or_resume::<B>(&device)
        .err()
        .unwrap();
    assert!(
        matches!(
            err,
            TrainError::Checkpoint(CheckpointError::Mismatch { .. })
        ),
        "{err}"
    );
    // Resuming on a different dataset is refused too.
    let err = Training::new(&flow, &train, &synthetic_images(17))
        .options(RunOptions {
            checkpoint_dir: Some(dir.path().to_path_buf()),
            ..quiet(dir.path(), None)
        })
        .resume::<B>(&device)
        .err()
        .unwrap();
    assert!(err.to_string().contains("does not match"), "{err}");
}

/// Runs `flow` for 5 steps in one go and as 2 + 3 with a resume in between, and
/// compares the final states exactly.
fn assert_resume_is_exact(flow: &flow_core::FlowConfig, data: &flow_data::ImageDataset) {
    assert_resume_is_exact_with(flow, data, train_config(21, None, Some(5)));
}

fn assert_resume_is_exact_with(
    flow: &flow_core::FlowConfig,
    data: &flow_data::ImageDataset,
    train: flow_train::TrainConfig,
) {
    let device = Default::default();
    let whole_dir = tempfile::tempdir().unwrap();
    let parts_dir = tempfile::tempdir().unwrap();
    let whole = Training::new(flow, &train, data)
        .options(quiet(whole_dir.path(), None))
        .start::<B>(&device)
        .unwrap();
    let first = Training::new(flow, &train, data)
        .options(RunOptions {
            stop_after_steps: Some(2),
            ..quiet(parts_dir.path(), None)
        })
        .start::<B>(&device)
        .unwrap();
    assert_eq!(first.steps, 2);
    drop(first);
    let resumed = Training::new(flow, &train, data)
        .options(RunOptions {
            checkpoint_dir: Some(parts_dir.path().to_path_buf()),
            ..quiet(parts_dir.path(), None)
        })
        .resume::<B>(&device)
        .unwrap();
    assert_eq!(resumed.steps, 5);
    assert_eq!(parameter_bits(&whole.model), parameter_bits(&resumed.model));
    assert_eq!(model_state(&whole.model), model_state(&resumed.model));
    assert_eq!(
        optimizer_state(&whole.model, whole.optimizer.clone()),
        optimizer_state(&resumed.model, resumed.optimizer.clone())
    );
    assert_eq!(whole.history, resumed.history);
}

#[test]
fn resume_is_exact_for_glow_with_actnorm_initialisation() {
    let flow = flow_core::FlowConfig {
        input_shape: [1, 4, 4],
        preprocess: Some(flow_core::layers::LogitPreprocess::default()),
        architecture: flow_core::models::Architecture::Glow(flow_core::models::GlowConfig {
            scales: 1,
            steps_per_scale: 2,
            st_net: flow_core::st_nets::StNetConfig::Highway {
                mid_channels: 8,
                layers: 1,
            },
        }),
        init_zeros: false,
    };
    let data = synthetic_images(16);
    // The ActNorm layers start from the first batch, not from the identity.
    let options = RunOptions {
        quiet: true,
        stop_after_steps: Some(0),
        ..RunOptions::default()
    };
    let initialised = Training::new(&flow, &train_config(21, None, Some(5)), &data)
        .options(options.clone())
        .start::<B>(&Default::default())
        .unwrap();
    let identity = flow.init::<B>(21, &Default::default()).unwrap();
    let actnorm_changed = parameter_bits(&initialised.model)
        .iter()
        .zip(parameter_bits(&identity))
        .any(|((path, a), (_, b))| path.contains("ActNorm") && *a != b);
    assert!(actnorm_changed, "ActNorm was not initialised from data");
    assert_resume_is_exact(&flow, &data);
}

#[test]
fn resume_is_exact_for_a_multi_scale_realnvp() {
    let flow = flow_core::FlowConfig::realnvp([1, 4, 4], 2, 1, 4);
    assert_resume_is_exact(&flow, &synthetic_images(16));
}

#[test]
fn resume_is_exact_under_rmsprop_and_keeps_its_state() {
    let flow = flow_core::FlowConfig::realnvp([1, 4, 4], 2, 1, 4);
    let mut train = train_config(21, None, Some(5));
    train.optim = flow_train::OptimConfig {
        learning_rate: 1e-3,
        ..flow_train::OptimConfig::reference_glow()
    };
    let data = synthetic_images(16);
    let dir = tempfile::tempdir().unwrap();
    let outcome = Training::new(&flow, &train, &data)
        .options(quiet(dir.path(), None))
        .start::<B>(&Default::default())
        .unwrap();
    assert_eq!(outcome.optimizer.kind(), flow_train::OptimizerKind::RmsProp);
    assert_resume_is_exact_with(&flow, &data, train);
}
