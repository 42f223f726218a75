//! Command-line parsing and the commands of §12. Each command loads the
//! program through the library and prints what the library returns.

mod eval;
mod explain;
mod fmt;
mod gen;
mod repl;
mod test;

use clap::{Parser, Subcommand, ValueEnum};
use onramp::compile::RuleCode;
use onramp::{diagnostic, Diagnostic, Engine, Program};
use std::io::{ErrorKind, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Onramp: segments, decisions, experiments and triggers for onboarding.
#[derive(Parser, Debug)]
#[command(name = "onramp", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Parse and check a program; print every error and warning.
    Check {
        /// A `.ramp` file or a directory of them.
        path: PathBuf,
        /// Output format of the diagnostics.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Evaluate profiles against a program and print the results as JSON.
    Eval(eval::EvalArgs),
    /// Show why a segment, decision, experiment or let came out as it did.
    Explain(explain::ExplainArgs),
    /// Rewrite rule files in the canonical layout (comments kept).
    Fmt(fmt::FmtArgs),
    /// Write N synthetic profiles (NDJSON) matching the example schema.
    GenProfiles(gen::GenArgs),
    /// Evaluate expressions and rules interactively against a profile.
    Repl {
        /// A `.ramp` file or a directory of them (optional).
        path: Option<PathBuf>,
        /// The evaluation instant (RFC 3339 or epoch milliseconds); default: now.
        #[arg(long)]
        now: Option<String>,
        /// The incoming event (a JSON object in a file), for triggers and
        /// `event`; like `:event FILE`.
        #[arg(long)]
        event: Option<PathBuf>,
    },
    /// Run the `test` blocks of a program.
    Test {
        /// A `.ramp` file or a directory of them.
        path: PathBuf,
        /// Only tests whose description contains this text.
        #[arg(long)]
        filter: Option<String>,
        /// Report which segments and decision branches the tests exercised.
        #[arg(long)]
        coverage: bool,
    },
    /// Print the bytecode of a program, or of one rule.
    Disasm {
        /// A `.ramp` file or a directory of them.
        path: PathBuf,
        /// Only this rule.
        name: Option<String>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

/// Why a command failed.
pub enum Failure {
    /// Bad usage (exit 2).
    Usage(String),
    /// The rules or data are at fault (exit 1); the message may be empty
    /// when diagnostics were already printed.
    Data(String),
    /// Standard output was closed by its reader (`| head`): the run stops
    /// quietly, with status 0 unless the command already knew of a fault
    /// (it then returns `Ok(1)` instead of this).
    Closed,
}

/// Writes `text` to standard output and flushes it. A reader that went away
/// gives [`Failure::Closed`], never a panic; other write errors (a full
/// disk) are reported.
pub fn write_stdout(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(write_failure)
}

/// What a failed write to standard output means for the run.
pub fn write_failure(e: std::io::Error) -> Failure {
    if e.kind() == ErrorKind::BrokenPipe {
        Failure::Closed
    } else {
        Failure::Data(format!("error: writing to standard output: {e}"))
    }
}

/// Writes `text` to standard error. Errors are ignored: there is nowhere
/// left to report them, and a closed stderr (`2>&1 | head`) must not panic.
pub fn write_stderr(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// The status of a run whose output was cut short by its reader: what the
/// command had found so far (`faulty`: a fault in the rules or data).
pub fn closed_status(result: Result<(), Failure>, faulty: bool) -> Result<ExitCode, Failure> {
    match result {
        Ok(()) | Err(Failure::Closed) => Ok(if faulty {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }),
        Err(e) => Err(e),
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode, Failure> {
    match cli.command {
        Command::Check { path, format } => check(&path, format),
        Command::Eval(args) => eval::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Fmt(args) => fmt::run(args),
        Command::GenProfiles(args) => gen::run(args),
        Command::Disasm { path, name } => disasm(&path, name.as_deref()),
        Command::Repl { path, now, event } => repl::run(path, now.as_deref(), event.as_ref()),
        Command::Test {
            path,
            filter,
            coverage,
        } => test::run(&path, filter.as_deref(), coverage),
    }
}

/// Renders diagnostics to stderr (colour only on a terminal).
pub fn print_diagnostics(diags: &[Diagnostic], sources: &onramp::SourceMap) {
    if diags.is_empty() {
        return;
    }
    let color = std::io::stderr().is_terminal();
    write_stderr(&diagnostic::render(diags, sources, color));
}

/// Loads a program, printing its diagnostics on failure.
pub fn load(path: &PathBuf) -> Result<Program, Failure> {
    match Engine::new().load(path) {
        Ok(p) => Ok(p),
        Err(e) => {
            print_diagnostics(&e.diagnostics, &e.sources);
            Err(Failure::Data(summary_line(&e.diagnostics)))
        }
    }
}

fn summary_line(diags: &[Diagnostic]) -> String {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}

fn check(path: &PathBuf, format: Format) -> Result<ExitCode, Failure> {
    let engine = Engine::new();
    let (diags, sources, files) = match onramp::collect_files(path) {
        Err(msg) => (
            vec![Diagnostic::bare_error(msg)],
            onramp::SourceMap::new(),
            0,
        ),
        Ok(_) => match engine.load(path) {
            Ok(p) => (
                p.warnings().to_vec(),
                p.sources().clone(),
                p.sources().files().count(),
            ),
            Err(e) => {
                let n = e.sources.files().count();
                (e.diagnostics, e.sources, n)
            }
        },
    };
    let has_errors = diags.iter().any(Diagnostic::is_error);
    let written = match format {
        Format::Json => {
            let mut out = String::new();
            for d in &diags {
                out.push_str(&d.to_json(&sources).to_string());
                out.push('\n');
            }
            write_stdout(&out)
        }
        Format::Human => {
            print_diagnostics(&diags, &sources);
            let verdict = if has_errors { "failed" } else { "ok" };
            write_stderr(&format!(
                "{verdict}: {} file{} checked, {}\n",
                files,
                if files == 1 { "" } else { "s" },
                summary_line(&diags)
            ));
            Ok(())
        }
    };
    closed_status(written, has_errors)
}

fn disasm(path: &PathBuf, name: Option<&str>) -> Result<ExitCode, Failure> {
    let program = load(path)?;
    let checked = program.checked();
    let bc = program.bytecode();
    let slot_names: Vec<String> = checked.slots.iter().map(|s| s.dotted()).collect();
    let rule_names: Vec<String> = checked.rules.iter().map(|r| r.name.clone()).collect();
    if let Some(n) = name {
        let known = checked.rules.iter().any(|r| r.name == n)
            || checked.triggers.iter().any(|t| t.name == n);
        if !known {
            let mut msg = format!("no rule named `{n}` in this program");
            if let Some(s) =
                onramp::check::suggest::closest(n, rule_names.iter().map(|s| s.as_str()))
            {
                msg.push_str(&format!(" (did you mean `{s}`?)"));
            }
            return Err(Failure::Data(msg));
        }
    }
    let listing = |chunk: u32| {
        onramp::compile::disassemble(bc, chunk, program.sources(), &slot_names, &rule_names)
    };
    let mut out = String::new();
    for (i, rule) in checked.rules.iter().enumerate() {
        if name.is_some_and(|n| n != rule.name) {
            continue;
        }
        out.push_str(&format!("== {} {} ==\n", rule.kind.keyword(), rule.name));
        match &bc.rules[i] {
            RuleCode::Expr(c) | RuleCode::Segment(c) => out.push_str(&listing(*c)),
            RuleCode::Decision { branches, .. } => {
                for (j, (cond, value)) in branches.iter().enumerate() {
                    match cond {
                        Some(c) => {
                            out.push_str(&format!("-- branch {} condition\n", j + 1));
                            out.push_str(&listing(*c));
                        }
                        None => out.push_str(&format!("-- branch {} (else)\n", j + 1)),
                    }
                    out.push_str(&format!("-- branch {} value\n", j + 1));
                    out.push_str(&listing(*value));
                }
            }
            RuleCode::Experiment(e) => {
                out.push_str("-- unit\n");
                out.push_str(&listing(e.unit));
                if let Some(c) = e.eligible {
                    out.push_str("-- eligible\n");
                    out.push_str(&listing(c));
                }
                let ranges: Vec<String> = e
                    .variants
                    .iter()
                    .zip(e.ranges.iter())
                    .map(|(v, (a, b))| format!("{v} [{a}, {b})"))
                    .collect();
                out.push_str(&format!(
                    "-- buckets (salt {:?}): {}\n",
                    e.salt,
                    ranges.join(", ")
                ));
            }
        }
        out.push('\n');
    }
    for (i, t) in checked.triggers.iter().enumerate() {
        if name.is_some_and(|n| n != t.name) {
            continue;
        }
        let code = &bc.triggers[i];
        out.push_str(&format!("== trigger {} on {:?} ==\n", t.name, t.on));
        if let Some(c) = code.condition {
            out.push_str("-- when\n");
            out.push_str(&listing(c));
        }
        for (action, payload) in &code.actions {
            out.push_str(&format!("-- emit {action:?}\n"));
            if let Some(p) = payload {
                out.push_str(&listing(*p));
            }
        }
        out.push('\n');
    }
    write_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}
