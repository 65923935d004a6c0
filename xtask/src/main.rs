//! `cargo xtask <command>`: the flows-ood command line.
//!
//! This file only parses arguments and dispatches; each subcommand lives in its own
//! module and calls into the library crates, which hold all the logic.

use clap::{Parser, Subcommand};

mod bench;
mod compare;
mod data;
mod docs;
mod experiment;
mod explain;
mod heap;
mod score;
mod workers;

/// The flows-ood command line.
#[derive(Parser)]
#[command(name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fetch FashionMNIST and MNIST into the checksummed cache (does nothing if valid).
    Data(data::DataArgs),
    /// The paper's experiment: train flows, score OOD sets, write results/<run>/report.md.
    Experiment(experiment::ExperimentArgs),
    /// Explanation figures (latent space, couplings, per-layer likelihood, co-adaptation,
    /// masks) for the models of a run or for one checkpoint.
    Explain(explain::ExplainArgs),
    /// The log-likelihood and bits/dim of your own images (a folder, .npy, IDX or
    /// CIFAR-10 file) under a trained flow, one row per image.
    Score(score::ScoreArgs),
    /// Training and scoring throughput (images/s) of the RealNVP configurations and the
    /// embedding classifier, optionally side by side with their PyTorch twins.
    Bench(bench::BenchArgs),
    /// Rewrite the docs' generated tables from the results committed under docs/results.
    Docs(docs::DocsArgs),
    /// Whether two runs gave the same results (every score exactly; timings and names
    /// ignored); fails when they differ.
    Compare(compare::CompareArgs),
}

/// `--backend`, parsed by clap into the enum, so a wrong name fails before anything runs.
pub(crate) fn parse_backend(
    name: &str,
) -> Result<flow_lab::device::BackendKind, flow_lab::device::DeviceError> {
    name.parse()
}

/// `--train`, parsed into flow-data's dataset enum: `fashion` (or `fashion-mnist`,
/// `fashion_mnist`) or `mnist`.
pub(crate) fn parse_dataset(name: &str) -> Result<flow_data::Dataset, String> {
    flow_data::Dataset::parse(name)
        .ok_or_else(|| format!("unknown dataset `{name}`: expected fashion or mnist"))
}

fn main() -> std::process::ExitCode {
    heap::keep_freed_memory();
    let command = Cli::parse().command;
    let result = workers::run_on_worker(|| match command {
        Command::Data(args) => data::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Docs(args) => docs::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Experiment(args) => experiment::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Score(args) => score::run(args),
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // The whole cause chain on one line, without the backtrace that returning the
            // error from main would print under RUST_BACKTRACE=1.
            eprintln!("error: {}", cause_chain(&error));
            std::process::ExitCode::FAILURE
        }
    }
}

/// Each cause of `error` once, outermost first, joined by `: `. Library errors often
/// name their source in their own message too ("{path}: {source}"), which anyhow's
/// `{:#}` would then print twice; a cause already in the text is left out.
fn cause_chain(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let message = cause.to_string();
        if text.contains(&message) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&message);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_named_in_its_wrapper_prints_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let wrapped = flow_lab::experiment::ExperimentError::Io {
            path: "my.toml".into(),
            source: io,
        };
        let error = anyhow::Error::new(wrapped).context("reading the configuration");
        assert_eq!(
            cause_chain(&error),
            "reading the configuration: my.toml: no such file"
        );
        assert_eq!(format!("{error:#}").matches("no such file").count(), 2);
    }
}
