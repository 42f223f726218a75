//! `onramp test`: runs the `test` blocks and reports each failure with its
//! source.

use super::{load, Failure};
use onramp::diagnostic::{render, Diagnostic};
use onramp::testing::{run_tests, TestReport};
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
    if report.outcomes.is_empty() {
        match filter {
            Some(f) => println!("no test matches {f:?}"),
            None => println!("no tests in {}", path.display()),
        }
    }
    for outcome in &report.outcomes {
        if outcome.passed() {
            println!("{ok} {}", outcome.name);
            continue;
        }
        println!("{bad} {}", outcome.name);
        if let Some(e) = &outcome.setup_error {
            let d = Diagnostic::error(
                format!("test \"{}\" could not run", outcome.name),
                outcome.span,
                e.clone(),
            );
            print!("{}", render(&[d], program.sources(), color));
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
            print!("{}", render(&[d], program.sources(), color));
        }
    }
    if coverage {
        print_coverage(&report);
    }
    println!();
    println!("{} passed, {} failed", report.passed(), report.failed());
    Ok(if report.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_coverage(report: &TestReport) {
    println!();
    println!("coverage (true / false seen in some test):");
    let mark = |b: bool| if b { "yes" } else { "NO " };
    for c in &report.coverage {
        println!(
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
        println!("every segment and decision branch was exercised both ways");
    } else {
        println!("never exercised both ways:");
        for m in missing {
            println!("  {m}");
        }
    }
}
