//! Training lowers the loss on data with structure to learn, and the bookkeeping of a
//! run (history, epochs, throughput, early stops) adds up.

mod train_support;

use std::time::Duration;

use burn::module::AutodiffModule;
use burn::tensor::ElementConversion;
use flow_data::{BatchPlan, Batcher};
use flow_train::{RunOptions, TrainError, TrainEvent, Training};
use train_support::{synthetic_images, tiny_flow, train_config, B};

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    sum / n as f64
}

#[test]
fn the_loss_goes_down_on_a_learnable_dataset() {
    let device = Default::default();
    let data = synthetic_images(64);
    let mut train = train_config(9, None, Some(48));
    train.optim.learning_rate = 3e-3;
    let quiet = RunOptions {
        quiet: true,
        ..RunOptions::default()
    };
    let outcome = Training::new(&tiny_flow(), &train, &data)
        .options(quiet.clone())
        .start::<B>(&device)
        .unwrap();
    assert_eq!(outcome.history.len(), 48);
    let start = mean(outcome.history[..6].iter().map(|p| p.bits_per_dim));
    let end = mean(outcome.history[42..].iter().map(|p| p.bits_per_dim));
    assert!(end < start - 0.5, "bits/dim went from {start} to {end}");

    // The trained model, in inference mode, scores the whole training set better than
    // the untrained one.
    let score = |model: &flow_core::FlowNet<burn::backend::Flex>| -> f64 {
        let plan = BatchPlan::sequential(data.len(), 64).unwrap();
        let mut batcher = Batcher::dequantized(0);
        let x = batcher
            .batch(&data, plan.batches().next().unwrap(), &device)
            .unwrap()
            .images;
        let likelihood = model.log_likelihood(x).unwrap();
        likelihood.bits_per_dim().mean().into_scalar().elem()
    };
    let untrained = tiny_flow().init::<B>(9, &device).unwrap().valid();
    let trained = outcome.model.valid();
    assert!(score(&trained) < score(&untrained));
}

#[test]
fn epochs_visit_every_image_once_and_early_stops_are_reported() {
    let device = Default::default();
    let data = synthetic_images(20);
    let train = train_config(2, Some(2), None);
    let quiet = RunOptions {
        quiet: true,
        ..RunOptions::default()
    };
    let outcome = Training::new(&tiny_flow(), &train, &data)
        .options(quiet.clone())
        .start::<B>(&device)
        .unwrap();
    assert_eq!(outcome.steps_per_epoch, 3);
    assert_eq!(outcome.steps, 6);
    assert_eq!(outcome.epochs_completed(), 2);
    assert_eq!(outcome.images_seen, 40);
    assert!(outcome.finished());
    assert!(outcome.images_per_sec() > 0.0);
    let steps: Vec<u64> = outcome.history.iter().map(|p| p.step).collect();
    assert_eq!(steps, (0..6).collect::<Vec<_>>());

    // A zero time limit stops before the first step, without error.
    let stopped = Training::new(&tiny_flow(), &train, &data)
        .options(RunOptions {
            time_limit: Some(Duration::ZERO),
            ..quiet.clone()
        })
        .start::<B>(&device)
        .unwrap();
    assert_eq!(stopped.steps, 0);
    assert!(!stopped.finished());

    // Configurations that cannot run are errors, not panics.
    let mut bad = train.clone();
    bad.batch_size = 0;
    assert!(matches!(
        Training::new(&tiny_flow(), &bad, &data)
            .options(quiet.clone())
            .start::<B>(&device),
        Err(TrainError::Config(_))
    ));
    let mut unbounded = train;
    unbounded.epochs = None;
    assert!(matches!(
        Training::new(&tiny_flow(), &unbounded, &data)
            .options(quiet.clone())
            .start::<B>(&device),
        Err(TrainError::Config(_))
    ));
    let wrong_shape = flow_core::FlowConfig::single_scale(
        [1, 8, 8],
        flow_masks::MaskSchedule::checkerboard(2),
        1,
        4,
    );
    assert!(matches!(
        Training::new(&wrong_shape, &train_config(0, Some(1), None), &data)
            .options(quiet.clone())
            .start::<B>(&device),
        Err(TrainError::Config(_))
    ));
}

#[test]
fn progress_reaches_the_callback_step_by_step_and_epoch_by_epoch() {
    let data = synthetic_images(16); // 2 steps per epoch at batch 8
    let train = train_config(3, Some(3), None);
    let mut events = Vec::new();
    let outcome = Training::new(&tiny_flow(), &train, &data)
        .on_progress(|event| events.push(*event))
        .start::<B>(&Default::default())
        .unwrap();
    let steps: Vec<(u64, u64)> = events
        .iter()
        .filter_map(|e| match *e {
            TrainEvent::Step { done, total, .. } => Some((done, total)),
            TrainEvent::Epoch { .. } => None,
        })
        .collect();
    assert_eq!(steps, (1..=6).map(|d| (d, 6)).collect::<Vec<_>>());
    let epochs: Vec<(u64, u64, f64)> = events
        .iter()
        .filter_map(|e| match *e {
            TrainEvent::Epoch {
                epoch,
                epochs,
                bits_per_dim,
                ..
            } => Some((epoch, epochs, bits_per_dim)),
            TrainEvent::Step { .. } => None,
        })
        .collect();
    assert_eq!(epochs.len(), 3);
    for (k, (epoch, of, bits)) in epochs.into_iter().enumerate() {
        assert_eq!((epoch, of), (k as u64 + 1, 3));
        // The epoch's mean is the mean of its two steps' losses.
        let pair = &outcome.history[2 * k..2 * k + 2];
        assert_eq!(bits, (pair[0].bits_per_dim + pair[1].bits_per_dim) / 2.0);
    }
    // The step events carry the losses the history records.
    let losses: Vec<f64> = events
        .iter()
        .filter_map(|e| match *e {
            TrainEvent::Step { bits_per_dim, .. } => Some(bits_per_dim),
            TrainEvent::Epoch { .. } => None,
        })
        .collect();
    let history: Vec<f64> = outcome.history.iter().map(|p| p.bits_per_dim).collect();
    assert_eq!(losses, history);
}
