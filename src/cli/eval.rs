//! `onramp eval`: one profile, or a stream of NDJSON profiles.

use super::{closed_status, load, write_failure, write_stderr, write_stdout, Failure};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use onramp::summary::Summary;
use onramp::{Context, Program};
use rayon::prelude::*;
use serde_json::{json, Value as Json};
use std::io::{BufRead, BufWriter, IsTerminal, Write};
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
                if !onramp::time::in_range(ms) {
                    return Err(Failure::Usage(format!(
                        "--now {t:?} is outside years 0000–9999"
                    )));
                }
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

/// Reads a JSON file (a profile or an event), with a message naming it.
pub fn read_json_file(path: &PathBuf, what: &str) -> Result<Json, Failure> {
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
        let mut text = serde_json::to_string_pretty(&result.to_json()).unwrap_or_default();
        text.push('\n');
        return closed_status(write_stdout(&text), !result.errors().is_empty());
    }
    let Some(source) = args.profiles.as_ref() else {
        return Err(Failure::Usage(
            "eval needs --profile FILE or --profiles FILE".into(),
        ));
    };
    stream(&program, source, &ctx, args.events, mode, args.json)
}

/// How many lines are evaluated together: large enough to keep every core
/// busy, small enough that memory stays flat on any input size.
const BATCH_LINES: usize = 2048;

/// Lines a worker evaluates in one go: their results are written into one
/// string, so no allocation crosses threads per line.
const CHUNK_LINES: usize = 64;

/// Numbered input lines, all in one buffer that is reused from batch to
/// batch.
#[derive(Default)]
struct Batch {
    text: Vec<u8>,
    /// Line number and the line's bytes in `text`.
    lines: Vec<(usize, std::ops::Range<usize>)>,
    /// Bytes read (for the progress bar).
    bytes: u64,
}

/// What one input line produced, besides its output line.
struct LineOutcome {
    /// The result, for the summary (absent for unreadable lines).
    result: Option<onramp::EvalResult>,
    /// Unreadable, or evaluated with errors.
    failed: bool,
    unreadable: bool,
}

/// What a chunk of consecutive lines produced: their output lines (absent
/// with `--summary-only`), in order, and per line what the summary needs.
#[derive(Default)]
struct ChunkOutcome {
    text: String,
    lines: Vec<LineOutcome>,
}

/// Evaluates NDJSON in batches on all cores: one result line per input
/// line, written in input order; a bad line becomes an error record and
/// the run goes on.
fn stream(
    program: &Program,
    source: &PathBuf,
    ctx: &Context,
    with_events: bool,
    mode: SummaryMode,
    json_summary: bool,
) -> Result<ExitCode, Failure> {
    let (mut input, total_bytes): (Box<dyn BufRead + Send>, Option<u64>) = if source.as_os_str()
        == "-"
    {
        (
            Box::new(std::io::BufReader::with_capacity(1 << 16, std::io::stdin())),
            None,
        )
    } else {
        let f = std::fs::File::open(source)
            .map_err(|e| Failure::Data(format!("error: cannot read {}: {e}", source.display())))?;
        let size = f.metadata().ok().map(|m| m.len());
        (
            Box::new(std::io::BufReader::with_capacity(1 << 16, f)),
            size,
        )
    };
    // Not locked: the writer moves to whichever thread writes a batch.
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout());
    let mut failed = false;
    let mut line_no = 0usize;
    let mut summary = (mode != SummaryMode::None).then(|| Summary::new(program));
    let print_results = mode != SummaryMode::Only;
    let want_result = summary.is_some();
    let progress = progress_bar(total_bytes);
    // The next batch is read while the current one is evaluated, so the
    // reading thread is never the bottleneck of a run on all cores.
    let read_batch = |input: &mut Box<dyn BufRead + Send>,
                      first_line: usize,
                      batch: &mut Batch|
     -> Result<(), Failure> {
        batch.text.clear();
        batch.lines.clear();
        batch.bytes = 0;
        while batch.lines.len() < BATCH_LINES {
            let start = batch.text.len();
            let n = input
                .read_until(b'\n', &mut batch.text)
                .map_err(|e| Failure::Data(format!("error: reading {}: {e}", source.display())))?;
            if n == 0 {
                break;
            }
            batch.bytes += n as u64;
            let line = first_line + batch.lines.len() + 1;
            batch.lines.push((line, start..batch.text.len()));
        }
        Ok(())
    };
    let mut batch = Batch::default();
    let mut next = Batch::default();
    read_batch(&mut input, 0, &mut batch)?;
    // Results of the previous batch, written while the next one is read
    // and the current one evaluated: nothing serial is left between
    // batches but the join.
    let mut pending: Vec<ChunkOutcome> = Vec::new();
    loop {
        if batch.lines.is_empty() {
            break;
        }
        line_no += batch.lines.len();
        let ((read, written), outcomes) = rayon::join(
            || {
                let written = emit(&mut out, summary.as_mut(), &mut failed, &mut pending);
                (read_batch(&mut input, line_no, &mut next), written)
            },
            || -> Vec<ChunkOutcome> {
                batch
                    .lines
                    .par_chunks(CHUNK_LINES)
                    .map_init(
                        || program.evaluator(),
                        |evaluator, lines| {
                            let mut chunk = ChunkOutcome {
                                text: String::with_capacity(if print_results {
                                    lines.len() * 512
                                } else {
                                    0
                                }),
                                lines: Vec::with_capacity(lines.len()),
                            };
                            for (n, range) in lines {
                                let outcome = evaluate_line(
                                    evaluator,
                                    *n,
                                    &batch.text[range.clone()],
                                    ctx,
                                    with_events,
                                    print_results.then_some(&mut chunk.text),
                                    want_result,
                                );
                                chunk.lines.extend(outcome);
                            }
                            chunk
                        },
                    )
                    .collect()
            },
        );
        if let Err(e) = written {
            // A reader that stopped (`| head`): stop evaluating.
            progress.finish_and_clear();
            return closed_status(Err(write_failure(e)), failed);
        }
        pending = outcomes;
        progress.inc(if total_bytes.is_some() {
            batch.bytes
        } else {
            batch.lines.len() as u64
        });
        progress.set_message(format!("{line_no} lines"));
        read?;
        std::mem::swap(&mut batch, &mut next);
    }
    if let Err(e) = emit(&mut out, summary.as_mut(), &mut failed, &mut pending) {
        progress.finish_and_clear();
        return closed_status(Err(write_failure(e)), failed);
    }
    progress.finish_and_clear();
    if let Some(s) = &summary {
        let text = if json_summary {
            let mut t = serde_json::to_string_pretty(&s.to_json()).unwrap_or_default();
            t.push('\n');
            t
        } else {
            s.render_table()
        };
        if mode == SummaryMode::Only {
            if let Err(e) = out.write_all(text.as_bytes()) {
                return closed_status(Err(write_failure(e)), failed);
            }
        } else {
            // Flushing the results first keeps the two streams in the
            // order a terminal user expects.
            if let Err(e) = out.flush() {
                return closed_status(Err(write_failure(e)), failed);
            }
            write_stderr(&text);
        }
    }
    closed_status(out.flush().map_err(write_failure), failed)
}

/// Writes a batch's result lines in input order and adds them to the
/// summary; `failed` records whether any line failed.
fn emit(
    out: &mut impl Write,
    mut summary: Option<&mut Summary>,
    failed: &mut bool,
    chunks: &mut Vec<ChunkOutcome>,
) -> std::io::Result<()> {
    for chunk in chunks.drain(..) {
        for outcome in &chunk.lines {
            *failed |= outcome.failed;
            if let Some(s) = summary.as_deref_mut() {
                match &outcome.result {
                    Some(r) => s.add(r),
                    None if outcome.unreadable => s.add_unreadable(),
                    None => {}
                }
            }
        }
        out.write_all(chunk.text.as_bytes())?;
    }
    Ok(())
}

/// A progress bar with rate and ETA on stderr, only when it is a terminal.
fn progress_bar(total_bytes: Option<u64>) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let target = ProgressDrawTarget::stderr();
    match total_bytes {
        Some(total) => {
            let bar = ProgressBar::with_draw_target(Some(total), target);
            if let Ok(style) = ProgressStyle::with_template(
                "{bar:30} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {msg}",
            ) {
                bar.set_style(style);
            }
            bar
        }
        None => {
            let bar = ProgressBar::with_draw_target(None, target);
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} {pos} profiles, {per_sec} {msg}")
            {
                bar.set_style(style);
            }
            bar
        }
    }
}

/// One NDJSON line: `None` for a blank line.
/// Evaluates one input line; its output line (with the newline) is
/// appended to `out` when results are printed. `None` for a blank line.
fn evaluate_line(
    evaluator: &mut onramp::Evaluator<'_>,
    line_no: usize,
    raw: &[u8],
    ctx: &Context,
    with_events: bool,
    out: Option<&mut String>,
    want_result: bool,
) -> Option<LineOutcome> {
    let unreadable = |msg: &str, out: Option<&mut String>| {
        if let Some(out) = out {
            out.push_str(&bad_line(line_no, msg).to_string());
            out.push('\n');
        }
        LineOutcome {
            result: None,
            failed: true,
            unreadable: true,
        }
    };
    let Ok(text) = std::str::from_utf8(raw) else {
        return Some(unreadable("the line is not valid UTF-8", out));
    };
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let evaluated = if with_events {
        match serde_json::from_str::<Json>(text) {
            Err(e) => Err(format!("not valid JSON: {e}")),
            Ok(Json::Object(mut o)) => {
                let profile = o.remove("profile").unwrap_or(Json::Null);
                let line_ctx = match o.remove("event") {
                    Some(Json::Null) | None => ctx.clone(),
                    Some(ev) => ctx.clone().with_event(ev),
                };
                evaluator
                    .evaluate(&profile, &line_ctx)
                    .map_err(|e| format!("`profile`: {e}"))
            }
            Ok(_) => Err("a line must be an object with `profile` and `event`".into()),
        }
    } else {
        // Straight from the text: only the fields the rules read are built.
        evaluator.evaluate_str(text, ctx).map_err(|e| e.to_string())
    };
    Some(match evaluated {
        Err(msg) => unreadable(&msg, out),
        Ok(()) => {
            if let Some(out) = out {
                evaluator.write_result_json(out);
                out.push('\n');
            }
            LineOutcome {
                failed: evaluator.error_count() > 0,
                result: want_result.then(|| evaluator.result()),
                unreadable: false,
            }
        }
    })
}

fn bad_line(line: usize, message: &str) -> Json {
    json!({"line": line, "errors": [{"message": message}]})
}
