//! `explain` must not change results: for every segment, decision and
//! experiment of `rules/` and every profile of `rules/profiles/`, the
//! explained value is the value `eval` reports. Snapshots pin the
//! human-readable output for each kind of rule.

use onramp::check::ir::RuleKind;
use onramp::explain::{explain, ExplainError};
use onramp::{Context, Program};
use serde_json::{json, Value as Json};
use std::path::{Path, PathBuf};

fn now() -> Context {
    Context::at_millis(onramp::time::parse_time("2026-11-20T12:00:00Z").unwrap())
}

fn load() -> Program {
    // A relative path, so that locations in snapshots do not depend on
    // where the repository is checked out (tests run in the crate root).
    Program::load("rules").expect("rules/ compiles")
}

fn profile(name: &str) -> Json {
    let path = Path::new("rules/profiles").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn profiles() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("rules/profiles")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

#[test]
fn explained_values_equal_evaluated_values() {
    let program = load();
    let mut checked = 0;
    for path in profiles() {
        let p: Json = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for ctx in [now(), now().with_step_budget(40)] {
            let result = program.evaluate(&p, &ctx).unwrap();
            for rule in &program.checked().rules {
                let want = match rule.kind {
                    RuleKind::Segment => json!(result.segment(&rule.name).unwrap()),
                    RuleKind::Decision => result.decision(&rule.name).unwrap().clone(),
                    RuleKind::Experiment => result.experiment(&rule.name).unwrap().clone(),
                    RuleKind::Let => continue,
                };
                let e = explain(&program, &p, &ctx, &rule.name).unwrap();
                assert_eq!(e.value, want, "{} for {}", rule.name, path.display());
                // The errors shown are the rule's errors in the result.
                let errors: Vec<Json> = result.to_json()["errors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|x| x["rule"] == rule.name.as_str())
                    .cloned()
                    .collect();
                assert_eq!(e.errors, errors, "{} for {}", rule.name, path.display());
                checked += 1;
            }
        }
    }
    assert!(checked > 50);
}

#[test]
fn unknown_names_suggest_the_closest() {
    let program = load();
    let err = explain(&program, &profile("power_user.json"), &now(), "engagd").unwrap_err();
    assert_eq!(
        err,
        ExplainError::UnknownRule {
            name: "engagd".into(),
            suggestion: Some("engaged".into())
        }
    );
    assert!(err.to_string().contains("did you mean `engaged`?"));
}

#[test]
fn profiles_that_are_not_objects_are_errors() {
    let program = load();
    assert!(matches!(
        explain(&program, &json!([1]), &now(), "engaged"),
        Err(ExplainError::Eval(_))
    ));
}

fn rendered(name: &str, profile_file: &str) -> String {
    explain(&load(), &profile(profile_file), &now(), name)
        .unwrap()
        .render()
}

#[test]
fn snapshot_segment() {
    insta::assert_snapshot!("explain_segment", rendered("at_risk", "at_risk.json"));
}

#[test]
fn snapshot_decision() {
    insta::assert_snapshot!(
        "explain_decision",
        rendered("onboarding_path", "power_user.json")
    );
}

#[test]
fn snapshot_collect_decision() {
    insta::assert_snapshot!(
        "explain_collect_decision",
        rendered("tips", "power_user.json")
    );
}

#[test]
fn snapshot_experiment() {
    insta::assert_snapshot!(
        "explain_experiment",
        rendered("welcome_test", "power_user.json")
    );
}

#[test]
fn snapshot_forced_experiment() {
    insta::assert_snapshot!(
        "explain_forced_experiment",
        rendered("welcome_test", "qa_forced.json")
    );
}

#[test]
fn snapshot_let() {
    insta::assert_snapshot!(
        "explain_let",
        rendered("days_to_onboard", "slow_onboarder.json")
    );
}

#[test]
fn snapshot_json() {
    let e = explain(&load(), &profile("power_user.json"), &now(), "engaged").unwrap();
    insta::assert_snapshot!(
        "explain_json",
        serde_json::to_string_pretty(&e.to_json()).unwrap()
    );
}

/// A parenthesised operand at either end of an expression belongs to the
/// text shown for it: the text neither starts nor ends inside the brackets.
#[test]
fn parenthesised_operands_keep_their_brackets() {
    let program =
        Program::compile("segment s = (user.a + 1) * (user.b + 2) > 100 and not (user.a > 3)\n")
            .unwrap();
    let profile = json!({"user": {"a": 1, "b": 2}});
    let text = explain(&program, &profile, &now(), "s").unwrap().render();
    assert_eq!(
        text,
        "segment s = false
  ✗ (user.a + 1) * (user.b + 2) > 100 and not (user.a > 3) = false
    ✗ (user.a + 1) * (user.b + 2) > 100 = false
      • (user.a + 1) * (user.b + 2) = 8
        • user.a + 1 = 2
          • user.a = 1
        • user.b + 2 = 4
          • user.b = 2
    - not (user.a > 3) = not evaluated
"
    );
}
