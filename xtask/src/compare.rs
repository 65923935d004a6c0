//! `cargo xtask compare`: whether two runs gave the same results.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use flow_lab::experiment::compare::{result_differences, RUN_SPECIFIC_KEYS};

/// Arguments of `cargo xtask compare`.
#[derive(Args)]
pub struct CompareArgs {
    /// The first run: its folder or its results.json.
    first: PathBuf,
    /// The second run, likewise.
    second: PathBuf,
}

/// The parsed results.json of a run folder or file.
fn load(path: &Path) -> anyhow::Result<serde_json::Value> {
    let file = if path.is_dir() {
        path.join("results.json")
    } else {
        path.to_path_buf()
    };
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", file.display()))
}

/// Prints the differences; fails when there are any.
pub fn run(args: CompareArgs) -> anyhow::Result<()> {
    let differences = result_differences(&load(&args.first)?, &load(&args.second)?);
    if differences.is_empty() {
        println!(
            "identical results (ignoring {})",
            RUN_SPECIFIC_KEYS.join(", ")
        );
        return Ok(());
    }
    for line in &differences {
        println!("{line}");
    }
    anyhow::bail!(
        "{} and {} differ (the first {} differences are listed above)",
        args.first.display(),
        args.second.display(),
        differences.len()
    )
}
