//! `cargo xtask docs`: rewrites the generated tables of the docs from the results
//! committed under `docs/results/` (`--check`: fail instead when they differ).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use flow_lab::bench::BenchResult;
use flow_lab::docs::{bench_table, profile_table, replace_section, ClaimTables, ProfileBreakdown};
use flow_lab::experiment::ExperimentResults;

/// The committed side-by-side benchmark, relative to the workspace root.
pub const BENCH_RESULTS: &str = "docs/results/bench.json";

/// The committed per-operation profiles (`tools/perf_breakdown.py --json`).
pub const PROFILE_RESULTS: &str = "docs/results/profile.json";

/// The runs behind docs/reproduction.md: the prefix of their sections, their committed
/// `results.json` (relative to the workspace root) and the command that made them.
const REPRODUCTION_RUNS: [(&str, &str, &str); 2] = [
    (
        "standard",
        "docs/results/standard/results.json",
        "cargo xtask experiment --preset standard",
    ),
    (
        "quick",
        "docs/results/quick/results.json",
        "cargo xtask experiment",
    ),
];

/// The tables a run can give, by the suffix of their section name.
const REPRODUCTION_TABLES: [&str; 9] = [
    "run",
    "training",
    "likelihood",
    "bias",
    "synthetic",
    "layers",
    "negative",
    "embedding",
    "scores",
];

/// Arguments of `cargo xtask docs`.
#[derive(Args)]
pub struct DocsArgs {
    /// Only check that every generated table matches the committed results.
    #[arg(long)]
    check: bool,
    /// First commit a run's summary: copy RUN_DIR/results.json (compact; checkpoints,
    /// embeddings and figures stay behind) to docs/results/<NAME>/results.json, NAME
    /// being the run's preset (`standard` or `quick`).
    #[arg(long, value_name = "RUN_DIR")]
    import: Option<PathBuf>,
}

/// The workspace root (the parent of the xtask crate).
fn workspace_root() -> anyhow::Result<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .context("the xtask crate has no parent folder")
}

/// Each generated file with its text as the committed results give it.
pub fn generated(root: &Path) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let bench_path = root.join(BENCH_RESULTS);
    let bench_text = std::fs::read_to_string(&bench_path)
        .with_context(|| format!("reading {}", bench_path.display()))?;
    let bench: Vec<BenchResult> = serde_json::from_str(&bench_text)
        .with_context(|| format!("parsing {}", bench_path.display()))?;
    let developers = root.join("DEVELOPERS.md");
    let text = std::fs::read_to_string(&developers)
        .with_context(|| format!("reading {}", developers.display()))?;
    let text = replace_section(&text, "bench", &bench_table(&bench)?)
        .with_context(|| format!("in {}", developers.display()))?;
    let profile_path = root.join(PROFILE_RESULTS);
    let profile_text = std::fs::read_to_string(&profile_path)
        .with_context(|| format!("reading {}", profile_path.display()))?;
    let profiles: Vec<ProfileBreakdown> = serde_json::from_str(&profile_text)
        .with_context(|| format!("parsing {}", profile_path.display()))?;
    let text = replace_section(&text, "profile", &profile_table(&profiles)?)
        .with_context(|| format!("in {}", developers.display()))?;
    let reproduction = root.join("docs/reproduction.md");
    let reproduction_text = reproduction_tables(root, &reproduction)?;
    Ok(vec![(developers, text), (reproduction, reproduction_text)])
}

/// Copies the summary of the run in `run_dir` to where docs/reproduction.md reads it.
fn import(root: &Path, run_dir: &Path) -> anyhow::Result<()> {
    let source = run_dir.join("results.json");
    let results = ExperimentResults::read(&source)?;
    let name = results.config.name.as_str();
    let Some((_, file, _)) = REPRODUCTION_RUNS
        .iter()
        .find(|(prefix, _, _)| *prefix == name)
    else {
        anyhow::bail!(
            "{} is a `{name}` run; docs/reproduction.md reads {} runs",
            source.display(),
            REPRODUCTION_RUNS
                .iter()
                .map(|(prefix, _, _)| format!("`{prefix}`"))
                .collect::<Vec<_>>()
                .join(" and ")
        );
    };
    let target = root.join(file);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let compact = serde_json::to_string(&results).context("serialising the results")?;
    std::fs::write(&target, compact + "\n")
        .with_context(|| format!("writing {}", target.display()))?;
    println!("{}: imported from {}", target.display(), source.display());
    Ok(())
}

/// docs/reproduction.md with every generated section it holds rewritten from the run
/// it names (`<!-- generated:standard-likelihood -->` is the `likelihood` table of the
/// `standard` run).
fn reproduction_tables(root: &Path, path: &Path) -> anyhow::Result<String> {
    let mut text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    for (prefix, file, command) in REPRODUCTION_RUNS {
        let wanted: Vec<&str> = REPRODUCTION_TABLES
            .into_iter()
            .filter(|table| text.contains(&format!("<!-- generated:{prefix}-{table} -->")))
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let results_path = root.join(file);
        let results = ExperimentResults::read(&results_path)?;
        let tables = ClaimTables::new(&results, command);
        for table in wanted {
            let section = tables
                .section(table)
                .with_context(|| format!("the {prefix} run ({})", results_path.display()))?;
            text = replace_section(&text, &format!("{prefix}-{table}"), &section)
                .with_context(|| format!("in {}", path.display()))?;
        }
    }
    Ok(text)
}

/// Runs the command.
pub fn run(args: DocsArgs) -> anyhow::Result<()> {
    let root = workspace_root()?;
    if let Some(run_dir) = &args.import {
        import(&root, run_dir)?;
    }
    for (path, text) in generated(&root)? {
        let current = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        if current == text {
            println!("{}: up to date", path.display());
        } else if args.check {
            anyhow::bail!(
                "{} differs from what the committed results give: run `cargo xtask docs`",
                path.display()
            );
        } else {
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            println!("{}: rewritten", path.display());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed docs say what the committed results give.
    #[test]
    fn committed_tables_match_committed_results() {
        let root = workspace_root().unwrap();
        for (path, text) in generated(&root).unwrap() {
            let current = std::fs::read_to_string(&path).unwrap();
            assert!(
                current == text,
                "{} differs from the committed results: run `cargo xtask docs`",
                path.display()
            );
        }
    }
}
