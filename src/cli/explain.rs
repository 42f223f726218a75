//! `onramp explain`: why one rule came out as it did for one profile.
//! The library (`onramp::explain`) does the work; this file reads the
//! arguments and files and prints.

use super::{load, Failure};
use clap::Args;
use serde_json::Value as Json;
use std::io::Write;
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

fn read_json(path: &PathBuf, what: &str) -> Result<Json, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Data(format!("error: cannot read {what} {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        Failure::Data(format!(
            "error: {what} {} is not valid JSON: {e}",
            path.display()
        ))
    })
}

pub fn run(args: ExplainArgs) -> Result<ExitCode, Failure> {
    let ctx = super::eval::parse_now(args.now.as_deref())?;
    let program = load(&args.path)?;
    let profile = read_json(&args.profile, "profile")?;
    let ctx = match &args.event {
        Some(e) => ctx.with_event(read_json(e, "event")?),
        None => ctx,
    };
    let explanation = onramp::explain::explain(&program, &profile, &ctx, &args.name)
        .map_err(|e| Failure::Data(format!("error: {e}")))?;
    let text = if args.json {
        serde_json::to_string_pretty(&explanation.to_json()).unwrap_or_default() + "\n"
    } else {
        explanation.render()
    };
    // A closed pipe (`explain ... | head`) is not worth a panic.
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
    Ok(ExitCode::SUCCESS)
}
