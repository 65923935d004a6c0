//! Damaged checkpoints are typed errors that name the file, never panics or silent
//! garbage.

mod train_support;

use std::fs;
use std::path::Path;

use flow_train::{
    read_checkpoint, read_checkpoint_meta, CheckpointError, RunOptions, TrainError, Training,
    CHECKPOINT_FILE,
};
use train_support::{
    parameter_bits, synthetic_images, tiny_flow, train_config, trained_checkpoint, B,
};

fn assert_names_file(err: &CheckpointError, path: &Path) {
    let message = err.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "error does not name {}: {message}",
        path.display()
    );
}

#[test]
fn an_intact_checkpoint_round_trips() {
    let (_dir, path) = trained_checkpoint();
    let checkpoint = read_checkpoint::<B>(&path, &Default::default()).unwrap();
    assert_eq!(checkpoint.meta.step, 3);
    assert_eq!(checkpoint.meta.flow, tiny_flow());
    assert_eq!(checkpoint.history.len(), 3);
    let (meta, history) = read_checkpoint_meta(&path).unwrap();
    assert_eq!(meta, checkpoint.meta);
    assert_eq!(history, checkpoint.history);
    // The loaded model differs from a fresh one with the same seed: the record loaded.
    let fresh = tiny_flow().init::<B>(3, &Default::default()).unwrap();
    assert_ne!(parameter_bits(&fresh), parameter_bits(&checkpoint.model));
}

#[test]
fn every_truncation_is_a_corrupt_checkpoint_error_naming_the_file() {
    let (dir, path) = trained_checkpoint();
    let bytes = fs::read(&path).unwrap();
    let len = bytes.len();
    // Every cut inside the fixed-size head and the last section lengths, and a spread
    // of cuts through the sections.
    let mut cuts: Vec<usize> = (0..64).collect();
    cuts.extend((64..len).step_by(len / 50 + 1));
    cuts.extend(len - 30..len);
    for cut in cuts {
        fs::write(&path, &bytes[..cut]).unwrap();
        let err = read_checkpoint::<B>(&path, &Default::default())
            .err()
            .unwrap_or_else(|| panic!("a checkpoint cut to {cut} of {len} bytes loaded"));
        assert!(
            matches!(err, CheckpointError::Corrupt { .. }),
            "cut {cut}: {err}"
        );
        assert_names_file(&err, &path);
        assert!(read_checkpoint_meta(&path).is_err());
    }
    // Through resume the error is the same, wrapped.
    fs::write(&path, &bytes[..len / 2]).unwrap();
    let err = resume_error(dir.path(), 16);
    match err {
        TrainError::Checkpoint(inner) => assert_names_file(&inner, &path),
        other => panic!("expected a checkpoint error, got {other}"),
    }
}

#[test]
fn a_flipped_byte_or_trailing_garbage_is_detected() {
    let (_dir, path) = trained_checkpoint();
    let bytes = fs::read(&path).unwrap();
    for at in [9, 20, bytes.len() / 2, bytes.len() - 20, bytes.len() - 1] {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x10;
        fs::write(&path, &damaged).unwrap();
        let err = read_checkpoint::<B>(&path, &Default::default())
            .err()
            .unwrap();
        assert!(
            matches!(
                err,
                CheckpointError::Corrupt { .. } | CheckpointError::Version { .. }
            ),
            "flip at {at}: {err}"
        );
        assert_names_file(&err, &path);
    }
    let mut longer = bytes.clone();
    longer.extend_from_slice(b"extra");
    fs::write(&path, &longer).unwrap();
    let err = read_checkpoint::<B>(&path, &Default::default())
        .err()
        .unwrap();
    assert!(matches!(err, CheckpointError::Corrupt { .. }), "{err}");

    let mut other_version = bytes;
    other_version[8] = 99;
    fs::write(&path, &other_version).unwrap();
    let err = read_checkpoint::<B>(&path, &Default::default())
        .err()
        .unwrap();
    assert!(
        matches!(err, CheckpointError::Version { found: 99, .. }),
        "{err}"
    );
}

#[test]
fn a_missing_checkpoint_names_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let err = resume_error(dir.path(), 8);
    match err {
        TrainError::Checkpoint(CheckpointError::Missing { dir: missing }) => {
            assert_eq!(missing, dir.path())
        }
        other => panic!("expected a missing-checkpoint error, got {other}"),
    }
    let not_there = dir.path().join(CHECKPOINT_FILE);
    let err = read_checkpoint::<B>(&not_there, &Default::default())
        .err()
        .unwrap();
    assert!(matches!(err, CheckpointError::Io { .. }), "{err}");
    assert_names_file(&err, &not_there);
}

#[test]
fn configuration_floats_survive_the_checkpoint_exactly() {
    // A learning rate whose shortest decimal form serde_json's default parser reads
    // back one ulp off; a resumed run must still use exactly this value.
    let lr: f64 = "0.00021650300390268918".parse().unwrap();
    let mut train = train_config(3, None, Some(2));
    train.optim.learning_rate = lr;
    train.optim.beta_2 = 0.1 + 0.2;
    let dir = tempfile::tempdir().unwrap();
    let options = RunOptions {
        checkpoint_dir: Some(dir.path().to_path_buf()),
        quiet: true,
        stop_after_steps: Some(1),
        ..RunOptions::default()
    };
    let data = synthetic_images(16);
    Training::new(&tiny_flow(), &train, &data)
        .options(options.clone())
        .start::<B>(&Default::default())
        .unwrap();
    let (meta, _) = read_checkpoint_meta(&dir.path().join(CHECKPOINT_FILE)).unwrap();
    assert_eq!(meta.train.optim.learning_rate.to_bits(), lr.to_bits());
    assert_eq!(meta.train, train);
    assert_eq!(meta.flow, tiny_flow());
    // So the same configuration continues its run rather than being refused.
    let done = Training::new(&tiny_flow(), &train, &data)
        .options(RunOptions {
            stop_after_steps: None,
            ..options
        })
        .start_or_resume::<B>(&Default::default())
        .unwrap();
    assert_eq!(done.steps, 2);
}

/// The error of resuming the tiny flow from `dir` on `images` synthetic images.
fn resume_error(dir: &std::path::Path, images: usize) -> TrainError {
    Training::new(
        &tiny_flow(),
        &train_config(0, None, Some(4)),
        &synthetic_images(images),
    )
    .options(RunOptions {
        checkpoint_dir: Some(dir.to_path_buf()),
        ..RunOptions::default()
    })
    .resume::<B>(&Default::default())
    .err()
    .expect("resuming fails")
}
