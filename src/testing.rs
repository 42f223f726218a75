//! Running the `test` blocks of a program (LANGUAGE.md §10, `onramp test`).
//!
//! Each test builds its profile (literal or file, with overrides), pins its
//! variants and event, evaluates the program at its `now`, and checks every
//! `expect`. A failing expectation carries the values of its direct
//! sub-expressions so the report can say *why* (`left was "simplified"`).

use crate::check::ir::{RuleBody, RuleKind};
use crate::check::test_blocks::GivenProfile;
use crate::program::{Context, Program};
use crate::span::Span;
use crate::value::Value;
use crate::vm::Machine;
use serde_json::{Map as JsonMap, Value as Json};
use std::path::Path;

/// Why one expectation failed.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectFailure {
    /// The `expect` expression.
    pub span: Span,
    /// What it evaluated to (`false`, `null`, …) or the error it raised.
    pub outcome: String,
    /// Its direct sub-expressions: label, source text, value (or error).
    pub parts: Vec<(String, String, String)>,
}

/// The outcome of one test block.
#[derive(Clone, Debug, PartialEq)]
pub struct TestOutcome {
    /// The test's description.
    pub name: String,
    /// Where the test is.
    pub span: Span,
    /// A problem setting the test up (unreadable `given file`), if any.
    pub setup_error: Option<String>,
    /// Failed expectations (empty when the test passed).
    pub failures: Vec<ExpectFailure>,
    /// How many expectations it checked.
    pub expectations: usize,
}

impl TestOutcome {
    /// Whether every expectation held.
    pub fn passed(&self) -> bool {
        self.setup_error.is_none() && self.failures.is_empty()
    }
}

/// Which ways a segment or a decision branch was exercised by the tests.
#[derive(Clone, Debug, PartialEq)]
pub struct CoverageEntry {
    /// `segment engaged` or `decision path, branch 2 (when …)`.
    pub what: String,
    /// Seen true / matched.
    pub as_true: bool,
    /// Seen false / not matched (always true for `else` branches, which
    /// have no condition).
    pub as_false: bool,
}

/// Everything `onramp test` reports.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TestReport {
    /// One entry per test that ran, in program order.
    pub outcomes: Vec<TestOutcome>,
    /// Coverage, when asked for.
    pub coverage: Vec<CoverageEntry>,
}

impl TestReport {
    /// How many tests passed.
    pub fn passed(&self) -> usize {
        self.outcomes.iter().filter(|o| o.passed()).count()
    }

    /// How many tests failed.
    pub fn failed(&self) -> usize {
        self.outcomes.len() - self.passed()
    }
}

/// Runs the program's tests whose name contains `filter` (all when `None`).
pub fn run_tests(program: &Program, filter: Option<&str>, coverage: bool) -> TestReport {
    let mut report = TestReport::default();
    let checked = &program.checked;
    let mut segment_seen: Vec<[bool; 2]> = vec![[false; 2]; checked.rules.len()];
    let mut branch_seen: Vec<Vec<[bool; 2]>> = checked
        .rules
        .iter()
        .map(|r| match &r.body {
            RuleBody::Decision { branches, .. } => vec![[false; 2]; branches.len()],
            _ => Vec::new(),
        })
        .collect();
    let mut evaluator = program.evaluator();
    for (i, test) in checked.tests.iter().enumerate() {
        if filter.is_some_and(|f| !test.name.contains(f)) {
            continue;
        }
        let code = &program.bytecode.tests[i];
        let now = test.now.unwrap_or(0);
        let mut outcome = TestOutcome {
            name: test.name.clone(),
            span: test.span,
            setup_error: None,
            failures: Vec::new(),
            expectations: test.expects.len(),
        };
        let setup = build_inputs(program, i, now);
        let (profile, event) = match setup {
            Ok(x) => x,
            Err(e) => {
                // Point at the `given file` path when that is what failed.
                if let GivenProfile::File(_, span) = &test.given {
                    outcome.span = *span;
                }
                outcome.setup_error = Some(e);
                report.outcomes.push(outcome);
                continue;
            }
        };
        let mut ctx = Context::at_millis(now);
        if let Some(ev) = event {
            ctx = ctx.with_event(ev);
        }
        for (exp, variant) in &test.variants {
            ctx = ctx.with_variant(exp, variant);
        }
        evaluator.machine.branch_log = coverage.then(Vec::new);
        if let Err(e) = evaluator.evaluate(&profile, &ctx) {
            outcome.setup_error = Some(e.to_string());
            report.outcomes.push(outcome);
            continue;
        }
        for (expect, (chunk, parts)) in test.expects.iter().zip(&code.expects) {
            let result = evaluator.machine.run_detached(program, *chunk);
            let outcome_text = match &result {
                Ok(Value::Bool(true)) => continue,
                Ok(v) => format!("was {}", render(v)),
                Err(e) => format!("raised an error: {e}"),
            };
            let parts = expect
                .parts
                .iter()
                .zip(parts)
                .map(|((label, ir), (_, part_chunk))| {
                    let value = match evaluator.machine.run_detached(program, *part_chunk) {
                        Ok(v) => render(&v),
                        Err(e) => format!("error: {e}"),
                    };
                    (
                        label.clone(),
                        program.sources.snippet(ir.span).to_string(),
                        value,
                    )
                })
                .collect();
            outcome.failures.push(ExpectFailure {
                span: expect.ir.span,
                outcome: outcome_text,
                parts,
            });
        }
        if coverage {
            for (r, rule) in checked.rules.iter().enumerate() {
                if rule.kind == RuleKind::Segment {
                    let v = evaluator.machine.values[r].is_true();
                    segment_seen[r][usize::from(v)] = true;
                }
            }
            for (rule, branch, hit) in evaluator.machine.branch_log.take().unwrap_or_default() {
                if let Some(b) = branch_seen
                    .get_mut(rule as usize)
                    .and_then(|v| v.get_mut(branch as usize))
                {
                    b[usize::from(hit)] = true;
                }
            }
        }
        report.outcomes.push(outcome);
    }
    if coverage {
        for (r, rule) in checked.rules.iter().enumerate() {
            match (&rule.kind, &rule.body) {
                (RuleKind::Segment, _) => report.coverage.push(CoverageEntry {
                    what: format!("segment {}", rule.name),
                    as_true: segment_seen[r][1],
                    as_false: segment_seen[r][0],
                }),
                (RuleKind::Decision, RuleBody::Decision { branches, .. }) => {
                    for (b, branch) in branches.iter().enumerate() {
                        let seen = branch_seen[r][b];
                        let what = match &branch.condition {
                            Some(c) => format!(
                                "decision {}, branch {} (when {})",
                                rule.name,
                                b + 1,
                                one_line(program.sources.snippet(c.span))
                            ),
                            None => format!("decision {}, branch {} (else)", rule.name, b + 1),
                        };
                        report.coverage.push(CoverageEntry {
                            what,
                            as_true: seen[1],
                            as_false: seen[0] || branch.condition.is_none(),
                        });
                    }
                }
                _ => {}
            }
        }
    }
    report
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn render(v: &Value) -> String {
    v.to_json().to_string()
}

/// The profile and event of test `index`, at its `now`.
fn build_inputs(program: &Program, index: usize, now: i64) -> Result<(Json, Option<Json>), String> {
    let test = &program.checked.tests[index];
    let code = &program.bytecode.tests[index];
    let mut machine = Machine::default();
    machine.reset(program, now, program.limits.max_steps);
    let mut constant = |chunk| machine.run_detached(program, chunk).map(|v| v.to_json());
    let mut profile = match (&test.given, code.given) {
        (GivenProfile::Literal(_), Some(chunk)) => constant(chunk)?,
        (GivenProfile::File(path, _), _) => {
            let base = Path::new(&program.sources.file(test.file).name)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let full = base.join(path);
            let text = std::fs::read_to_string(&full)
                .map_err(|e| format!("cannot read `given file` {}: {e}", full.display()))?;
            serde_json::from_str(&text)
                .map_err(|e| format!("`given file` {} is not valid JSON: {e}", full.display()))?
        }
        _ => Json::Object(JsonMap::new()),
    };
    for (path, chunk) in &code.overrides {
        let value = constant(*chunk)?;
        set_path(&mut profile, path, value)?;
    }
    let event = match code.event {
        Some(chunk) => Some(constant(chunk)?),
        None => None,
    };
    Ok((profile, event))
}

/// Sets `path` in a JSON object, creating intermediate objects.
fn set_path(root: &mut Json, path: &[String], value: Json) -> Result<(), String> {
    let mut cur = root;
    for (i, key) in path.iter().enumerate() {
        if !cur.is_object() {
            if cur.is_null() {
                *cur = Json::Object(JsonMap::new());
            } else {
                return Err(format!(
                    "cannot set `{}`: `{}` is not an object in the given profile",
                    path.join("."),
                    path[..i].join(".")
                ));
            }
        }
        let Json::Object(map) = cur else {
            return Err("internal: expected an object".into());
        };
        if i + 1 == path.len() {
            map.insert(key.clone(), value);
            return Ok(());
        }
        cur = map.entry(key.clone()).or_insert(Json::Null);
    }
    Ok(())
}
