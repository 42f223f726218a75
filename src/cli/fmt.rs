//! `onramp fmt [--check] PATH`: rewrite rule files in the canonical layout
//! (the layout itself is `onramp::fmt`).
//!
//! Files are handled one by one, so one file that does not parse does not
//! keep the others from being formatted; it is reported and makes the run
//! exit 1. A file is written only when its text changes, so timestamps of
//! tidy files stay put.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{closed_status, print_diagnostics, write_stderr, write_stdout, Failure};

/// Arguments of `onramp fmt`.
#[derive(clap::Args, Debug)]
pub struct FmtArgs {
    /// A `.ramp` file or a directory of them.
    path: PathBuf,
    /// Write nothing; list the files that would change and exit 1 if any
    /// would.
    #[arg(long)]
    check: bool,
}

/// Runs `onramp fmt`.
pub fn run(args: FmtArgs) -> Result<ExitCode, Failure> {
    let files = onramp::collect_files(&args.path).map_err(Failure::Data)?;
    let mut failed = false;
    let mut changed = 0;
    for path in &files {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::Data(format!("{}: cannot read: {e}", path.display())))?;
        match onramp::fmt::format_source(&text) {
            Err(diags) => {
                let mut sources = onramp::SourceMap::new();
                sources.add(path.display().to_string(), text);
                print_diagnostics(&diags, &sources);
                failed = true;
            }
            Ok(formatted) if formatted != text => {
                changed += 1;
                let listed = write_stdout(&format!("{}\n", path.display()));
                if matches!(listed, Err(Failure::Closed)) {
                    // The reader stopped listening (`| head`): stop here,
                    // before this file, like any writer to a closed pipe.
                    return closed_status(listed, failed || args.check);
                }
                listed?;
                if !args.check {
                    std::fs::write(path, formatted).map_err(|e| {
                        Failure::Data(format!("{}: cannot write: {e}", path.display()))
                    })?;
                }
            }
            Ok(_) => {}
        }
    }
    if args.check && changed > 0 {
        write_stderr(&format!(
            "{changed} file{} not formatted (run `onramp fmt` to fix)\n",
            if changed == 1 { " is" } else { "s are" }
        ));
        failed = true;
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
