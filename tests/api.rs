//! The embedding API of LANGUAGE.md §13.

use onramp::{Context, Engine, Program, Type, Value};
use serde_json::json;
use std::sync::Arc;

const RULES: &str = r#"
segment adult = user.age >= 18
decision greeting {
  when adult => "Hello {user.name}"
  else => "Hi"
}
experiment color {
  unit user.id
  variants { red: 50%, blue: 50% }
}
"#;

#[test]
fn program_is_send_and_sync_and_gives_the_same_results_from_many_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Program>();
    let program = Arc::new(Program::compile(RULES).unwrap());
    let profiles: Vec<serde_json::Value> = (0..400)
        .map(|i| json!({"user": {"id": format!("u{i}"), "age": i % 40, "name": format!("N{i}")}}))
        .collect();
    let ctx = Context::at_millis(0);
    let sequential: Vec<serde_json::Value> = profiles
        .iter()
        .map(|p| program.evaluate(p, &ctx).unwrap().to_json())
        .collect();
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let program = program.clone();
            let profiles = profiles.clone();
            std::thread::spawn(move || {
                let mut ev = program.evaluator();
                profiles
                    .iter()
                    .map(|p| {
                        ev.evaluate(p, &Context::at_millis(0)).unwrap();
                        ev.result().to_json()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), sequential);
    }
}

#[test]
fn typed_accessors() {
    let program = Program::compile(RULES).unwrap();
    let r = program
        .evaluate(
            &json!({"user": {"id": "u1", "age": 30, "name": "Ada"}}),
            &Context::at_millis(0),
        )
        .unwrap();
    assert_eq!(r.segment("adult"), Some(true));
    assert_eq!(r.segment("nope"), None);
    assert_eq!(r.segment("greeting"), None, "a decision is not a segment");
    assert_eq!(r.decision("greeting"), Some(&json!("Hello Ada")));
    assert!(r.experiment("color").unwrap().is_string());
    let r = program
        .evaluate(&json!({}), &Context::at_millis(0))
        .unwrap();
    assert_eq!(r.experiment("color"), Some(&serde_json::Value::Null));
}

#[test]
fn evaluate_rejects_only_non_objects() {
    let program = Program::compile(RULES).unwrap();
    assert!(program
        .evaluate(&json!([1]), &Context::at_millis(0))
        .is_err());
    assert!(program
        .evaluate(&json!({"user": 5}), &Context::at_millis(0))
        .is_ok());
}

#[test]
fn host_functions_are_called_like_builtins() {
    let mut engine = Engine::new();
    engine.register_function(
        "churn_score",
        vec![Type::STR],
        Type::FLOAT,
        |args| match &args[0] {
            Value::Str(s) => Ok(Value::Float(s.len() as f64 / 10.0)),
            _ => Err("expected a user id".into()),
        },
    );
    let program = engine
        .compile("segment likely_churn = churn_score(user.id) > 0.3\n")
        .unwrap();
    let r = program
        .evaluate(&json!({"user": {"id": "abcd"}}), &Context::at_millis(0))
        .unwrap();
    assert_eq!(r.segment("likely_churn"), Some(true));
    // A null argument for a non-nullable parameter makes the call null.
    let r = program
        .evaluate(&json!({}), &Context::at_millis(0))
        .unwrap();
    assert_eq!(r.segment("likely_churn"), Some(false));
    assert!(r.errors().is_empty());
}

#[test]
fn step_budget_stops_long_aggregates_with_an_error() {
    let program = Program::compile("segment busy = count(events where .n > 0) > 5\n").unwrap();
    let events: Vec<serde_json::Value> = (0..10_000).map(|i| json!({"n": i})).collect();
    let profile = json!({"events": events});
    let r = program
        .evaluate(&profile, &Context::at_millis(0).with_step_budget(1_000))
        .unwrap();
    assert_eq!(r.segment("busy"), Some(false));
    assert_eq!(r.errors()[0].message, "step budget exhausted");
    let r = program.evaluate(&profile, &Context::at_millis(0)).unwrap();
    assert_eq!(r.segment("busy"), Some(true));
}

#[test]
fn a_segment_used_five_times_is_evaluated_once() {
    // Each evaluation of `expensive` visits 1,000 elements; five reads would
    // cost five times the steps.
    let once = Program::compile(
        "segment expensive = count(xs where it > 0) > 0\nsegment uses = expensive\n",
    )
    .unwrap();
    let five = Program::compile(
        "segment expensive = count(xs where it > 0) > 0\nsegment uses = expensive and expensive and expensive and expensive and expensive\n",
    )
    .unwrap();
    let profile = json!({"xs": (1..=1000).collect::<Vec<i64>>()});
    let mut a = once.evaluator();
    a.evaluate(&profile, &Context::at_millis(0)).unwrap();
    let mut b = five.evaluator();
    b.evaluate(&profile, &Context::at_millis(0)).unwrap();
    // Only the four extra reads (and their `and`s) add steps.
    assert!(
        b.steps_used() - a.steps_used() < 20,
        "{} vs {}",
        a.steps_used(),
        b.steps_used()
    );
}

/// The README's hot loop, as written there: one evaluator, profiles as
/// JSON text, a rule read by its index.
#[test]
fn the_readme_hot_loop_runs_as_written() -> Result<(), onramp::EvalError> {
    let program = Program::compile(RULES).unwrap();
    let ctx = Context::at_millis(0);
    let ndjson =
        "{\"user\": {\"id\": \"a\", \"age\": 30}}\n{\"user\": {\"id\": \"b\", \"age\": 9}}\n";
    let mut seen = Vec::new();
    let mut ev = program.evaluator();
    let adult = program.rule_index("adult").unwrap();
    for line in ndjson.lines() {
        ev.evaluate_str(line, &ctx)?;
        seen.push(ev.value_at(adult).is_some_and(|v| v.is_true()));
    }
    assert_eq!(seen, [true, false]);
    Ok(())
}
