//! The `onramp` command: a thin layer over the library (LANGUAGE.md §12).
//!
//! Exit status: 0 success, 1 the rules or data are at fault, 2 bad usage.
//! A reader that closes standard output early (`| head`) ends the run
//! quietly, with the status of what was found until then.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(cli::Failure::Usage(msg)) => {
            cli::write_stderr(&format!("error: {msg}\n"));
            ExitCode::from(2)
        }
        Err(cli::Failure::Data(msg)) => {
            if !msg.is_empty() {
                cli::write_stderr(&format!("{msg}\n"));
            }
            ExitCode::from(1)
        }
        Err(cli::Failure::Closed) => ExitCode::SUCCESS,
    }
}
