//! `onramp eval`: one profile, or a stream of NDJSON profiles.

use super::{load, Failure};
use clap::Args;
use onramp::summary::Summary;
use onramp::{Context, Program};
use serde_json::{json, Value as Json};
use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// A `.ramp` file or a directory of them.
    path: PathBuf,
    /// One profile (a JSON object in a file).
    #[arg(long, conflicts_with = "profiles")]
    profile: Option<PathBuf>,
    /// Many profiles, one JSON object per line (`-` reads standard input).
    #[arg(long)]
    profiles: Option<PathBuf>,
    /// With --profiles: each line is `{"profile": {...}, "event": {...}}`.
    #[arg(long, requires = "profiles")]
    events: bool,
    /// The incoming event (a JSON object in a file), for triggers.
    #[arg(long, requires = "profile")]
    event: Option<PathBuf>,
    /// The evaluation instant (RFC 3339 or epoch milliseconds); default: now.
    #[arg(long)]
    now: Option<String>,
    /// With --profiles: after the results, print a population summary
    /// (segment sizes, decision values, experiment variants with a sample
    /// ratio check, errors by rule) to standard error.
    #[arg(long, requires = "profiles")]
    summary: bool,
    /// With --profiles: print only the summary, to standard output,
    /// instead of the results.
    #[arg(long, requires = "profiles")]
    summary_only: bool,
    /// Print the summary as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Where the population summary goes, if anywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SummaryMode {
    None,
    /// Results on stdout, summary on stderr: pipes keep clean NDJSON.
    Stderr,
    /// Summary on stdout, no results.
    Only,
}

/// Parses `--now`: RFC 3339 (or a bare date) or integer epoch milliseconds.
pub fn parse_now(text: Option<&str>) -> Result<Context, Failure> {
    match text {
        None => Ok(Context::at(std::time::SystemTime::now())),
        Some(t) => {
            if let Ok(ms) = t.trim().parse::<i64>() {
                return Ok(Context::at_millis(ms));
            }
            onramp::time::parse_time(t.trim())
                .map(Context::at_millis)
                .map_err(|_| {
                    Failure::Usage(format!(
                        "--now {t:?} is not a time: use RFC 3339 such as 2026-11-20T12:00:00Z, a date such as 2026-11-20, or epoch milliseconds"
                    ))
                })
        }
    }
}

fn read_json_file(path: &PathBuf, what: &str) -> Result<Json, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Data(format!("error: cannot read {what} {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        Failure::Data(format!(
            "error: {what} {} is not valid JSON: {e}",
            path.display()
        ))
    })
}

pub fn run(args: EvalArgs) -> Result<ExitCode, Failure> {
    let ctx = parse_now(args.now.as_deref())?;
    if args.profile.is_none() && args.profiles.is_none() {
        return Err(Failure::Usage(
            "eval needs --profile FILE or --profiles FILE (use - for standard input)".into(),
        ));
    }
    if args.json && !(args.summary || args.summary_only) {
        return Err(Failure::Usage(
            "--json formats the summary: use it with --summary or --summary-only".into(),
        ));
    }
    let mode = if args.summary_only {
        SummaryMode::Only
    } else if args.summary {
        SummaryMode::Stderr
    } else {
        SummaryMode::None
    };
    let program = load(&args.path)?;
    if let Some(path) = &args.profile {
        let profile = read_json_file(path, "profile")?;
        let ctx = match &args.event {
            Some(e) => ctx.with_event(read_json_file(e, "event")?),
            None => ctx,
        };
        let result = program
            .evaluate(&profile, &ctx)
            .map_err(|e| Failure::Data(format!("error: {}: {e}", path.display())))?;
        let json = result.to_json();
        println!(
            "{}",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        );
        return Ok(if result.errors().is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    let Some(source) = args.profiles.as_ref() else {
        return Err(Failure::Usage(
            "eval needs --profile FILE or --profiles FILE".into(),
        ));
    };
    stream(&program, source, &ctx, args.events, mode, args.json)
}

/// Evaluates NDJSON line by line: one result line per input line, in
/// order; a bad line becomes an error record and the run goes on.
fn stream(
    program: &Program,
    source: &PathBuf,
    ctx: &Context,
    with_events: bool,
    mode: SummaryMode,
    json_summary: bool,
) -> Result<ExitCode, Failure> {
    let input: Box<dyn BufRead> = if source.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(source)
            .map_err(|e| Failure::Data(format!("error: cannot read {}: {e}", source.display())))?;
        Box::new(std::io::BufReader::new(f))
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut failed = false;
    let mut evaluator = program.evaluator();
    let mut buf = Vec::new();
    let mut input = input;
    let mut line_no = 0usize;
    let mut summary = (mode != SummaryMode::None).then(|| Summary::new(program));
    let print_results = mode != SummaryMode::Only;
    loop {
        buf.clear();
        let n = input
            .read_until(b'\n', &mut buf)
            .map_err(|e| Failure::Data(format!("error: reading {}: {e}", source.display())))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let text = match std::str::from_utf8(&buf) {
            Ok(t) => t.trim(),
            Err(_) => {
                failed = true;
                if let Some(s) = summary.as_mut() {
                    s.add_unreadable();
                }
                if print_results {
                    write_line(&mut out, &bad_line(line_no, "the line is not valid UTF-8"))?;
                }
                continue;
            }
        };
        if text.is_empty() {
            continue;
        }
        let record = match serde_json::from_str::<Json>(text) {
            Err(e) => Err(format!("not valid JSON: {e}")),
            Ok(json) => {
                if with_events {
                    match json {
                        Json::Object(mut o) => {
                            let profile = o.remove("profile").unwrap_or(Json::Null);
                            let line_ctx = match o.remove("event") {
                                Some(Json::Null) | None => ctx.clone(),
                                Some(ev) => ctx.clone().with_event(ev),
                            };
                            evaluator
                                .evaluate(&profile, &line_ctx)
                                .map_err(|e| format!("`profile`: {e}"))
                        }
                        _ => Err("a line must be an object with `profile` and `event`".into()),
                    }
                } else {
                    evaluator.evaluate(&json, ctx).map_err(|e| e.to_string())
                }
            }
        };
        match record {
            Ok(()) => {
                failed |= evaluator.error_count() > 0;
                if let Some(s) = summary.as_mut() {
                    s.add_evaluation(&evaluator);
                }
                if print_results {
                    write_line(&mut out, &evaluator.result().to_json())?;
                }
            }
            Err(msg) => {
                failed = true;
                if let Some(s) = summary.as_mut() {
                    s.add_unreadable();
                }
                if print_results {
                    write_line(&mut out, &bad_line(line_no, &msg))?;
                }
            }
        }
    }
    if let Some(s) = &summary {
        let text = if json_summary {
            let mut t = serde_json::to_string_pretty(&s.to_json()).unwrap_or_default();
            t.push('\n');
            t
        } else {
            s.render_table()
        };
        if mode == SummaryMode::Only {
            out.write_all(text.as_bytes())
                .map_err(|e| Failure::Data(format!("error: writing the summary: {e}")))?;
        } else {
            // Flushing the results first keeps the two streams in the
            // order a terminal user expects.
            out.flush()
                .map_err(|e| Failure::Data(format!("error: writing results: {e}")))?;
            eprint!("{text}");
        }
    }
    out.flush()
        .map_err(|e| Failure::Data(format!("error: writing results: {e}")))?;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn bad_line(line: usize, message: &str) -> Json {
    json!({"line": line, "errors": [{"message": message}]})
}

fn write_line(out: &mut impl Write, json: &Json) -> Result<(), Failure> {
    serde_json::to_writer(&mut *out, json)
        .and_then(|_| out.write_all(b"\n").map_err(serde_json::Error::io))
        .map_err(|e| Failure::Data(format!("error: writing results: {e}")))
}
