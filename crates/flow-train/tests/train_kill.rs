//! Killing a training process at any moment never leaves a checkpoint that cannot be
//! loaded: the test runs a checkpoint-every-step training in a child process (this
//! test binary, running the ignored `checkpointing_child`), kills it with SIGKILL at a
//! spread of moments, and loads and resumes whatever checkpoint is left.

mod train_support;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use flow_core::FlowConfig;
use flow_masks::MaskSchedule;
use flow_train::{read_checkpoint, RunOptions, Training, CHECKPOINT_FILE};
use train_support::{train_config, B};

const CHILD_DIR: &str = "FLOW_LAB_TEST_CHECKPOINT_CHILD_DIR";

/// Large enough that writing a checkpoint (model and Adam state) takes a while, so
/// kills land during writes as well as between them.
fn flow() -> FlowConfig {
    FlowConfig::single_scale([1, 8, 8], MaskSchedule::checkerboard(2), 2, 32)
}

fn data() -> flow_data::ImageDataset {
    let n = 32;
    let pixels = (0..n * 64).map(|i| ((i * 37) % 251) as u8).collect();
    flow_data::ImageDataset::new(flow_data::ImageShape::new(1, 8, 8), pixels, vec![0; n]).unwrap()
}

/// The child: trains for a long time, writing a checkpoint after every step, until it
/// is killed. Run only by the test below.
#[test]
#[ignore = "a helper process for killing_a_run_at_any_moment_leaves_a_loadable_checkpoint"]
fn checkpointing_child() {
    let dir = PathBuf::from(std::env::var(CHILD_DIR).expect("run by the kill test"));
    let options = RunOptions {
        checkpoint_dir: Some(dir),
        checkpoint_every: Some(1),
        quiet: true,
        ..RunOptions::default()
    };
    Training::new(&flow(), &train_config(0, None, Some(1_000_000)), &data())
        .options(options.clone())
        .start::<B>(&Default::default())
        .unwrap();
}

#[test]
fn killing_a_run_at_any_moment_leaves_a_loadable_checkpoint() {
    let exe = std::env::current_exe().unwrap();
    let device = Default::default();
    let mut with_checkpoint = 0;
    let mut killed_mid_write = 0;
    for delay_ms in [
        40u64, 90, 150, 230, 320, 410, 530, 670, 800, 950, 1200, 1600,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(&exe)
            .args([
                "checkpointing_child",
                "--exact",
                "--ignored",
                "--test-threads=1",
            ])
            .env(CHILD_DIR, dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap();
        child.wait().unwrap();

        let path = dir.path().join(CHECKPOINT_FILE);
        let mid_write = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().contains(".tmp-"));
        if mid_write {
            killed_mid_write += 1;
        }
        if !path.exists() {
            continue; // killed before the first checkpoint was complete
        }
        with_checkpoint += 1;
        let checkpoint = read_checkpoint::<B>(&path, &device)
            .unwrap_or_else(|e| panic!("killed after {delay_ms} ms: {e}"));
        let step = checkpoint.meta.step;
        assert_eq!(checkpoint.history.len() as u64, step);
        // And the run continues from it.
        let resumed = Training::new(&flow(), &train_config(0, None, Some(1_000_000)), &data())
            .options(RunOptions {
                checkpoint_dir: Some(dir.path().to_path_buf()),
                ..RunOptions {
                    quiet: true,
                    stop_after_steps: Some(step + 1),
                    ..RunOptions::default()
                }
            })
            .resume::<B>(&device)
            .unwrap();
        assert_eq!(resumed.steps, step + 1);
    }
    eprintln!(
        "{with_checkpoint} of 12 kills left a checkpoint; {killed_mid_write} landed mid-write"
    );
    assert!(
        with_checkpoint > 0,
        "no child lived long enough to write a checkpoint"
    );
}
