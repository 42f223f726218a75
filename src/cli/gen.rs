//! `onramp gen-profiles`: a synthetic population as NDJSON on standard
//! output, for trying `eval --profiles ... --summary` and for load tests.

use super::eval::parse_now;
use super::Failure;
use clap::Args;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct GenArgs {
    /// How many profiles to write.
    count: u64,
    /// The random seed: the same seed and --now give the same profiles.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The instant the population is observed at (RFC 3339 or epoch
    /// milliseconds); sign-ups fall in the 30 days before it. Default: now.
    #[arg(long)]
    now: Option<String>,
}

pub fn run(args: GenArgs) -> Result<ExitCode, Failure> {
    let now = parse_now(args.now.as_deref())?.now_millis();
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let written = onramp::population::write_ndjson(&mut out, args.count, args.seed, now)
        .and_then(|_| out.flush());
    // A reader that stops early (`| head`) is not a failure.
    super::closed_status(written.map_err(super::write_failure), false)
}
