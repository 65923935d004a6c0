//! `cargo xtask <command>`: the flows-ood command line.
//!
//! This file only parses arguments and dispatches; each subcommand lives in its own
//! module and calls into the library crates, which hold all the logic.

use clap::{Parser, Subcommand};

mod data;

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
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Data(args) => data::run(args),
    }
}
