//! `onramp explain`: why one rule came out as it did for one profile.
//! The library (`onramp::explain`) does the work; this file reads the
//! arguments and files and prints.

use super::{load, Failure};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// A `.ramp` file or a directory of them.
    path: PathBuf,
    /// The profile (a JSON object in a file).
    #[arg(long)]
    profile: PathBuf,
    /// The evaluation instant (RFC 3339 or epoch milliseconds); default: now.
    #[arg(long)]
    now: Option<String>,
    /// The incoming event (a JSON object in a file), for triggers.
    #[arg(long)]
    event: Option<PathBuf>,
    /// Print the explanation as JSON, for tools.
    #[arg(long)]
    json: bool,
    /// The segment, decision, experiment or let to explain.
    name: String,
}

pub fn run(args: ExplainArgs) -> Result<ExitCode, Failure> {
    let ctx = super::eval::parse_now(args.now.as_deref())?;
    let program = load(&args.path)?;
    let profile = super::eval::read_json_file(&args.profile, "profile")?;
    let ctx = match &args.event {
        Some(e) => ctx.with_event(super::eval::read_json_file(e, "event")?),
        None => ctx,
    };
    let explanation = onramp::explain::explain(&program, &profile, &ctx, &args.name)
        .map_err(|e| Failure::Data(format!("error: {e}")))?;
    let text = if args.json {
        serde_json::to_string_pretty(&explanation.to_json()).unwrap_or_default() + "\n"
    } else {
        explanation.render()
    };
    super::write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}
