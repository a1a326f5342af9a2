//! The `kerchunk` command: index NetCDF4/HDF5 files into kerchunk reference sets, combine
//! them, pick the latest OPERA products, inspect files. Thin: argument parsing, storage,
//! outputs and progress live here; all format logic is in the libraries.

mod args;
mod commands;
mod error;
mod log;
mod output;
mod progress;
mod secrets;
mod storage;
mod wiring;

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::error::{CliError, Result, EXIT_OK, EXIT_USAGE};
use crate::progress::Progress;
use crate::storage::{Storage, StoreOptions};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    log::set_verbosity(cli.global.verbose);
    storage::register_env_secrets();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kerchunk: error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kerchunk: error: {e}");
            if e.usage {
                eprintln!("For more information, try '--help'.");
            }
            ExitCode::from(e.exit_code())
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    let g = cli.global;
    let data = StoreOptions::parse(&g.data_options, "--data-option")?;
    let refs = StoreOptions::parse(&g.refs_options, "--refs-option")?;
    let storage = Arc::new(Storage::new(data, refs));
    let progress = Progress::new(g.quiet);
    match cli.command {
        Command::Index(a) => commands::index::run(a, storage, progress, g.quiet).await,
        Command::Combine(a) => commands::combine::run(a, storage, progress, g.quiet).await,
        Command::Latest(a) => commands::latest::run(a, g.quiet),
        Command::Inspect(a) => commands::inspect::run(a, storage).await,
    }
    .map_err(|e: CliError| e)
}
