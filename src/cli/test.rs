//! `onramp test`: runs the `test` blocks and reports each failure with its
//! source.

use super::{closed_status, load, write_stdout, Failure};
use onramp::diagnostic::{render, Diagnostic};
use onramp::testing::{run_tests, TestReport};
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

pub fn run(path: &PathBuf, filter: Option<&str>, coverage: bool) -> Result<ExitCode, Failure> {
    let program = load(path)?;
    let report = run_tests(&program, filter, coverage);
    let color = std::io::stdout().is_terminal();
    let (ok, bad) = if color {
        ("\x1b[32mPASS\x1b[0m", "\x1b[31mFAIL\x1b[0m")
    } else {
        ("PASS", "FAIL")
    };
    // The report is built whole, then written once: a reader that stops
    // early (`| head`) cuts it short without a panic.
    let mut out = String::new();
    if report.outcomes.is_empty() {
        match filter {
            Some(f) => out.push_str(&format!("no test matches {f:?}\n")),
            None => out.push_str(&format!("no tests in {}\n", path.display())),
        }
    }
    for outcome in &report.outcomes {
        if outcome.passed() {
            out.push_str(&format!("{ok} {}\n", outcome.name));
            continue;
        }
        out.push_str(&format!("{bad} {}\n", outcome.name));
        if let Some(e) = &outcome.setup_error {
            let d = Diagnostic::error(
                format!("test \"{}\" could not run", outcome.name),
                outcome.span,
                e.clone(),
            );
            out.push_str(&render(&[d], program.sources(), color));
        }
        for f in &outcome.failures {
            let mut d = Diagnostic::error(
                format!("expectation failed in \"{}\"", outcome.name),
                f.span,
                format!("this {}", f.outcome),
            );
            for (label, source, value) in &f.parts {
                d = d.with_note(format!("{label} `{source}` was {value}"));
            }
            out.push_str(&render(&[d], program.sources(), color));
        }
    }
    if coverage {
        write_coverage(&mut out, &report);
    }
    out.push_str(&format!(
        "\n{} passed, {} failed\n",
        report.passed(),
        report.failed()
    ));
    closed_status(write_stdout(&out), report.failed() > 0)
}

fn write_coverage(out: &mut String, report: &TestReport) {
    out.push_str("\ncoverage (true / false seen in some test):\n");
    let mark = |b: bool| if b { "yes" } else { "NO " };
    for c in &report.coverage {
        let _ = writeln!(
            out,
            "  true: {}  false: {}  {}",
            mark(c.as_true),
            mark(c.as_false),
            c.what
        );
    }
    let missing: Vec<&str> = report
        .coverage
        .iter()
        .filter(|c| !(c.as_true && c.as_false))
        .map(|c| c.what.as_str())
        .collect();
    if missing.is_empty() {
        out.push_str("every segment and decision branch was exercised both ways\n");
    } else {
        out.push_str("never exercised both ways:\n");
        for m in missing {
            let _ = writeln!(out, "  {m}");
        }
    }
}
