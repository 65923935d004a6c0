//! `cargo xtask <command>`: the flows-ood command line.
//!
//! This file only parses arguments and dispatches; each subcommand lives in its own
//! module and calls into the library crates, which hold all the logic.

use clap::{Parser, Subcommand};

mod bench;
mod data;
mod docs;
mod experiment;
mod explain;

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
    /// Training and scoring throughput (images/s) of the RealNVP configurations and the
    /// embedding classifier, optionally side by side with their PyTorch twins.
    Bench(bench::BenchArgs),
    /// Rewrite the docs' generated tables from the results committed under docs/results.
    Docs(docs::DocsArgs),
}

fn main() -> std::process::ExitCode {
    let result = match Cli::parse().command {
        Command::Data(args) => data::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Docs(args) => docs::run(args),
        Command::Experiment(args) => experiment::run(args),
        Command::Explain(args) => explain::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` prints the whole cause chain on one line, without the backtrace that
            // returning the error from main would print under RUST_BACKTRACE=1.
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
