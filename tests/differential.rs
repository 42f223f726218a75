//! Differential tests: the VM (`Program::evaluate`) against the reference
//! evaluator (`onramp::reference::evaluate`), which must agree on every
//! §11 document — segments, decisions, experiments, actions and errors
//! (rule, location, message, path) — including when the step budget runs
//! out part-way.
//!
//! Two sources of cases:
//! - the checked-in corpora (`rules/` with its profiles, `tests/programs/`,
//!   the rows of `tests/semantics/*.table`), at every step budget;
//! - generated programs and profiles (proptest). Generation reads its
//!   choices from a tape of numbers that proptest shrinks, so a failure
//!   shrinks toward the simplest program (choice 0 is always the simplest
//!   option). `ONRAMP_DIFF_CASES=N` runs N generated cases instead of the
//!   default.

use onramp::{Context, Program};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use serde_json::{json, Value as Json};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

const NOW: &str = "2026-11-20T12:00:00Z";

fn now_ms() -> i64 {
    onramp::time::parse_time(NOW).unwrap()
}

/// Evaluates with both engines and returns a description of the first
/// disagreement, if any.
fn compare(program: &Program, profile: &Json, ctx: &Context) -> Result<(), String> {
    let vm = program.evaluate(profile, ctx).map(|r| r.to_json());
    let reference = onramp::reference::evaluate(program, profile, ctx).map(|r| r.to_json());
    // A reused evaluator must not leak anything from its last profile: run
    // the same profile without a budget first, then as asked.
    let mut reused = program.evaluator();
    let unlimited = ctx.clone().with_step_budget(u64::MAX);
    let _ = reused.evaluate(profile, &unlimited);
    let again = reused
        .evaluate(profile, ctx)
        .map(|()| reused.result().to_json());
    if vm != again {
        return Err(format!(
            "a reused evaluator disagrees with a fresh one\nfresh:  {}\nreused: {}",
            show(&vm),
            show(&again)
        ));
    }
    if vm == reference {
        Ok(())
    } else {
        Err(format!(
            "VM and reference disagree\nVM:        {}\nreference: {}",
            show(&vm),
            show(&reference)
        ))
    }
}

fn show(r: &Result<Json, onramp::EvalError>) -> String {
    match r {
        Ok(j) => serde_json::to_string_pretty(j).unwrap_or_default(),
        Err(e) => format!("Err({e})"),
    }
}

/// Steps the VM uses for a full evaluation (so budgets can cut it anywhere).
fn steps_used(program: &Program, profile: &Json, ctx: &Context) -> u64 {
    let mut ev = program.evaluator();
    match ev.evaluate(profile, ctx) {
        Ok(()) => ev.steps_used(),
        Err(_) => 0,
    }
}

/// Compares at the default budget and at every budget up to the steps a
/// full evaluation uses (every point where exhaustion can strike).
fn compare_all_budgets(program: &Program, profile: &Json, ctx: &Context) -> Result<(), String> {
    compare(program, profile, ctx)?;
    let used = steps_used(program, profile, ctx);
    for budget in 0..=used + 1 {
        compare(program, profile, &ctx.clone().with_step_budget(budget))
            .map_err(|e| format!("with a step budget of {budget}: {e}"))?;
    }
    Ok(())
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| p.to_string_lossy().ends_with(suffix));
    v.sort();
    v
}

#[test]
fn example_rules_agree_at_every_budget() {
    let program = Program::load(root().join("rules")).expect("rules/ compiles");
    let events = [
        None,
        Some(json!({"name": "onboarding_completed", "at": NOW})),
        Some(json!({"name": "session_start", "at": NOW})),
        Some(json!({"name": "feature_used", "at": NOW, "props": {"feature": "export"}})),
    ];
    let mut failures = Vec::new();
    for path in files(&root().join("rules/profiles"), ".json") {
        let profile: Json = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for event in &events {
            let mut ctx = Context::at_millis(now_ms());
            if let Some(e) = event {
                ctx = ctx.with_event(e.clone());
            }
            if let Err(e) = compare_all_budgets(&program, &profile, &ctx) {
                failures.push(format!("{} (event {event:?}): {e}", path.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn whole_program_corpus_agrees() {
    let mut failures = Vec::new();
    let mut compared = 0;
    for path in files(&root().join("tests/programs"), ".ramp") {
        let Ok(program) = Program::load(&path) else {
            continue;
        };
        let profile_path = PathBuf::from(path.to_string_lossy().replace(".ramp", ".profile.json"));
        let Ok(text) = std::fs::read_to_string(&profile_path) else {
            continue;
        };
        let Ok(profile) = serde_json::from_str::<Json>(&text) else {
            continue;
        };
        compared += 1;
        if let Err(e) = compare_all_budgets(&program, &profile, &Context::at_millis(now_ms())) {
            failures.push(format!("{}: {e}", path.display()));
        }
    }
    assert!(compared > 0, "no programs in tests/programs");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn semantics_table_rows_agree() {
    let mut failures = Vec::new();
    let mut compared = 0;
    for table in files(&root().join("tests/semantics"), ".table") {
        let prelude =
            std::fs::read_to_string(table.with_extension("prelude.ramp")).unwrap_or_default();
        let text = std::fs::read_to_string(&table).unwrap();
        for line in text.lines() {
            let parts: Vec<&str> = line.split(" ;; ").collect();
            if line.trim_start().starts_with('#') || parts.len() != 3 {
                continue;
            }
            let source = format!("{prelude}\ndecision result {{ else => {} }}\n", parts[0]);
            let Ok(program) = Program::compile(&source) else {
                continue;
            };
            let Ok(profile) = serde_json::from_str::<Json>(parts[1]) else {
                continue;
            };
            compared += 1;
            if let Err(e) = compare_all_budgets(&program, &profile, &Context::at_millis(now_ms())) {
                failures.push(format!("{}: {line}\n{e}", table.display()));
            }
        }
    }
    assert!(compared > 100, "only {compared} rows compared");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ---------------------------------------------------------------------------
// Generated programs
// ---------------------------------------------------------------------------

/// Where generation reads its choices: proptest's tape, then zeros.
struct Tape<'a> {
    tape: &'a [u32],
    pos: usize,
}

impl Tape<'_> {
    /// A choice in `0..n` (0 when the tape is used up: the simplest).
    fn pick(&mut self, n: usize) -> usize {
        let v = self.tape.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        if n == 0 {
            0
        } else {
            v as usize % n
        }
    }
}

include!("support/program_gen.rs");

static GENERATED: AtomicUsize = AtomicUsize::new(0);
static COMPILED: AtomicUsize = AtomicUsize::new(0);

/// One generated case: a program, two profiles, several budgets.
fn check_case(tape: &[u32], schema: bool) -> Result<(), TestCaseError> {
    let mut g = Gen {
        t: Tape { tape, pos: 0 },
        schema,
        rules: Vec::new(),
        elem: Elem::None,
        counter: 0,
    };
    let source = g.program(6);
    let mut t = g.t;
    GENERATED.fetch_add(1, Ordering::Relaxed);
    let program = match Program::compile(&source) {
        Ok(p) => p,
        Err(_) => return Ok(()),
    };
    COMPILED.fetch_add(1, Ordering::Relaxed);
    for _ in 0..2 {
        let profile = profile(&mut t);
        let mut ctx = Context::at_millis(now_ms());
        if let Some(e) = event(&mut t) {
            ctx = ctx.with_event(e);
        }
        if t.chance(10) {
            ctx = ctx.with_variant("x1", "treatment");
        }
        let used = steps_used(&program, &profile, &ctx);
        let budgets = [
            None,
            Some(t.pick(used as usize + 2) as u64),
            Some(t.pick(used as usize + 2) as u64),
        ];
        for b in budgets {
            let c = match b {
                Some(b) => ctx.clone().with_step_budget(b),
                None => ctx.clone(),
            };
            if let Err(e) = compare(&program, &profile, &c) {
                return Err(TestCaseError::fail(format!(
                    "{e}\n--- program ---\n{source}\n--- profile ---\n{profile}\n--- budget {b:?}, event {:?}",
                    c
                )));
            }
        }
    }
    Ok(())
}

/// Generated cases per test (two tests share the total).
fn cases() -> u32 {
    let total = std::env::var("ONRAMP_DIFF_CASES")
        .ok()
        .and_then(|s| s.parse::<u32>().ok())
        .unwrap_or(10_000);
    total.div_ceil(2).max(1)
}

fn run_generated(schema: bool) {
    let config = Config {
        cases: cases(),
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel(
            "proptest-regressions",
        ))),
        // Shrinking a tape is cheap per step but can take many steps.
        max_shrink_iters: 2_000,
        ..Config::default()
    };
    let before_generated = GENERATED.load(Ordering::Relaxed);
    let before_compiled = COMPILED.load(Ordering::Relaxed);
    let mut runner = TestRunner::new(config);
    let strategy = proptest::collection::vec(any::<u32>(), 0..768);
    let result = runner.run(&strategy, |tape| check_case(&tape, schema));
    if let Err(e) = result {
        panic!("{e}");
    }
    let generated = GENERATED.load(Ordering::Relaxed) - before_generated;
    let compiled = COMPILED.load(Ordering::Relaxed) - before_compiled;
    // Other tests in this binary share the counters; this test's own run
    // dominates them, so the ratio is still meaningful.
    assert!(
        compiled * 10 >= generated * 8,
        "only {compiled} of {generated} generated programs compiled (schema: {schema})"
    );
}

#[test]
fn generated_programs_without_schema_agree() {
    run_generated(false);
}

#[test]
fn generated_programs_with_schema_agree() {
    run_generated(true);
}

/// Prints a few generated programs with their compile errors (run with
/// `--ignored --nocapture` when tuning the generator).
#[test]
#[ignore]
fn show_generated_programs() {
    let mut runner = TestRunner::deterministic();
    let strategy = proptest::collection::vec(any::<u32>(), 0..768);
    let (mut ok, mut total) = (0, 0);
    for i in 0..400 {
        let tape = strategy.new_tree(&mut runner).unwrap().current();
        let mut g = Gen {
            t: Tape {
                tape: &tape,
                pos: 0,
            },
            schema: i % 2 == 0,
            rules: Vec::new(),
            elem: Elem::None,
            counter: 0,
        };
        let source = g.program(6);
        total += 1;
        match Program::compile(&source) {
            Ok(_) => ok += 1,
            Err(e) => {
                if i < 60 {
                    println!("---\n{}\n{e}", source.replace(SCHEMA, "<schema>\n"));
                }
            }
        }
    }
    println!("{ok} of {total} compiled");
}

/// The VM fuses `field <cmp> constant` into one instruction. When the field
/// holds bad data, the constant and the comparison are never evaluated, so
/// they must not be counted (a later rule must not run out of budget), and
/// the data error points at the field, not at the comparison (§14).
#[test]
fn fused_comparison_counts_only_evaluated_steps() {
    let program = Program::compile(
        "schema { user.age: int }\nsegment a = (user.age) < 30\nsegment c = true\n",
    )
    .unwrap();
    let profile = json!({"user": {"age": "x"}});
    let result = program
        .evaluate(&profile, &Context::at_millis(0).with_step_budget(2))
        .unwrap()
        .to_json();
    // §14: `a` evaluates one node (the field), fails on its data; `c`
    // evaluates one more node: 2 steps, within the budget.
    assert_eq!(result["segments"]["c"], json!(true), "{result:#}");
    // The data error is about the field, so it points at the field.
    assert_eq!(
        result["errors"][0]["at"],
        json!("<input>:2:14"),
        "{result:#}"
    );
}

/// The VM's fast loop decides planned segments and decisions from typed
/// slots and leaves the rest to the general path, which may evaluate a
/// later rule early (read by another). A rule that failed that way must
/// stay failed when the loop reaches it: a third rule reading it fails
/// too, rather than seeing its fallback `false` as a value. (`late` is
/// condition code, so planned, but its first test needs the exact path.)
#[test]
fn a_rule_that_failed_when_read_early_stays_failed() {
    let program = Program::compile(
        "segment early = late or user.plan == \"x\"
segment late = user.age + 1 > 2 and user.plan == \"x\"
segment after = late or user.plan == \"x\"
decision pick {
  when late => \"late\"
  when user.plan == \"x\" => \"plan\"
  else => \"none\"
}
segment last = user.plan == \"x\"
",
    )
    .unwrap();
    let ctx = Context::at_millis(now_ms());
    for profile in [
        json!({"user": {"age": "old", "plan": "x"}}),
        json!({"user": {"age": 3, "plan": "x"}}),
        json!({"user": {"age": 3, "plan": "y"}}),
    ] {
        if let Err(e) = compare_all_budgets(&program, &profile, &ctx) {
            panic!("{profile}: {e}");
        }
    }
}
