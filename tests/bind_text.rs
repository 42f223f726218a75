//! Binding from JSON text must give exactly what binding from a parsed
//! `serde_json::Value` gives: same results, same errors.

use onramp::{Context, Program};

fn both(program: &Program, text: &str) -> (String, String) {
    let ctx = Context::at_millis(onramp::time::parse_time("2026-11-20T12:00:00Z").unwrap());
    let mut a = program.evaluator();
    let from_text = match a.evaluate_str(text, &ctx) {
        Ok(()) => a.result().to_json().to_string(),
        Err(e) => format!("error: {e}"),
    };
    let from_value = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(json) => {
            let mut b = program.evaluator();
            match b.evaluate(&json, &ctx) {
                Ok(()) => b.result().to_json().to_string(),
                Err(e) => format!("error: {e}"),
            }
        }
        Err(e) => format!("error: the profile is not valid JSON: {e}"),
    };
    (from_text, from_value)
}

#[test]
fn text_and_value_binding_agree_on_the_example_profiles() {
    let program = Program::load(concat!(env!("CARGO_MANIFEST_DIR"), "/rules")).unwrap();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules/profiles");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let (a, b) = both(&program, &text);
        assert_eq!(a, b);
        n += 1;
    }
    assert!(n >= 6);
}

#[test]
fn text_and_value_binding_agree_on_odd_shapes() {
    let program = Program::compile(
        "segment a = user.age > 3\nsegment b = user.name == \"x\"\nlet u = user\nsegment c = u.age > 1 and count(tags) > 0\n",
    )
    .unwrap();
    for text in [
        r#"{}"#,
        r#"{"user": null}"#,
        r#"{"user": 5}"#,
        r#"{"user": [1, 2]}"#,
        r#"{"user": "text"}"#,
        r#"{"user": {"age": 5, "name": "x"}, "tags": ["a"]}"#,
        r#"{"user": {"age": "5"}}"#,
        r#"{"user": {"age": 1}, "user": {"age": 9}}"#,
        r#"{"other": {"deep": [1, {"x": 2}]}, "user": {"age": 4}}"#,
        r#"{"user": {"age": 1e400}}"#,
        r#"{"user": {"age": 9223372036854775808}}"#,
        r#"[1, 2]"#,
        r#"5"#,
        r#"{"user": {"#,
        r#"{"user": {"age": 4}} trailing"#,
        r#"{"user":{"name":"\u00e9x"}}"#,
    ] {
        let (a, b) = both(&program, text);
        if a.starts_with("error") && b.starts_with("error") {
            continue;
        }
        assert_eq!(a, b, "{text}");
    }
}

#[test]
fn a_key_seen_again_binds_as_its_last_occurrence() {
    // serde_json keeps the last of duplicate keys; the text binder must
    // too, at every depth, whether the slots sit below an object or on
    // the key itself.
    let program = Program::compile(
        "segment a = user.age > 3\nsegment b = user.name == \"x\"\nsegment c = user.plan.tier == \"pro\"\nsegment d = count(tags) > 1\n",
    )
    .unwrap();
    for text in [
        r#"{"user": {"age": 5, "name": "x"}, "user": {"age": 1}}"#,
        r#"{"user": {"age": 1}, "user": {"age": 5, "name": "x"}}"#,
        r#"{"user": {"age": 5, "age": 1, "name": "x", "name": "y"}}"#,
        r#"{"user": {"plan": {"tier": "pro"}, "plan": {}}}"#,
        r#"{"user": {"plan": {"tier": "pro"}, "plan": 5}}"#,
        r#"{"user": {"plan": 5, "plan": {"tier": "pro"}}}"#,
        r#"{"user": {"age": 9}, "user": null}"#,
        r#"{"tags": ["a", "b"], "tags": ["a"]}"#,
        r#"{"tags": ["a"], "tags": ["a", "b"]}"#,
    ] {
        let (a, b) = both(&program, text);
        assert_eq!(a, b, "{text}");
    }
}

#[test]
fn the_direct_json_writer_matches_serde_json() {
    let program = Program::load(concat!(env!("CARGO_MANIFEST_DIR"), "/rules")).unwrap();
    let ctx = Context::at_millis(onramp::time::parse_time("2026-11-20T12:00:00Z").unwrap())
        .with_event(
            serde_json::json!({"name": "onboarding_completed", "at": "2026-11-20T11:00:00Z"}),
        );
    let mut ev = program.evaluator();
    let mut checked = 0;
    for profile in onramp::population::generate(300, 9, ctx.now_millis()) {
        ev.evaluate(&profile, &ctx).unwrap();
        let mut direct = String::new();
        ev.write_result_json(&mut direct);
        assert_eq!(direct, ev.result().to_json().to_string());
        checked += 1;
    }
    let odd = Program::compile(
        "decision d { else => {\"a\\\"b\": \"x\\n\\u{1}y\", k: [1.5, 2.0, -0.0, 1e300, 7d, @2026-01-01], k2: semver(\"v1.2\")} }\n",
    )
    .unwrap();
    let mut ev = odd.evaluator();
    ev.evaluate(&serde_json::json!({}), &ctx).unwrap();
    let mut direct = String::new();
    ev.write_result_json(&mut direct);
    assert_eq!(direct, ev.result().to_json().to_string());
    assert!(checked == 300);
}

/// Profiles with every kind of wrong data, through a schema: the two
/// binding paths must report the same errors in the same places.
#[test]
fn typed_binding_agrees_on_corrupted_profiles() {
    let program = Program::load(concat!(env!("CARGO_MANIFEST_DIR"), "/rules")).unwrap();
    let now = onramp::time::parse_time("2026-11-20T12:00:00Z").unwrap();
    let replacements: &[(&str, &str)] = &[
        ("\"age\":", "\"age\":\"x\",\"_a\":"),
        ("\"at\":\"", "\"at\":5.5,\"_at\":\""),
        ("\"events\":[", "\"events\":{\"a\":1},\"_e\":["),
        (
            "\"feature_usage\":",
            "\"feature_usage\":null,\"feature_usage\":",
        ),
        ("\"plan\":\"", "\"plan\":\"platinum\",\"_p\":\""),
        ("\"name\":\"", "\"name\":7,\"_n\":\""),
        ("\"signup_at\":\"", "\"signup_at\":\"yesterday\",\"_s\":\""),
        ("\"props\":{", "\"props\":[1,2],\"_pr\":{"),
        ("\"tags\":[", "\"tags\":[null,1,"),
        ("\"user\":{", "\"user\":{\"age\":1e5,"),
        ("\"behavior\":{", "\"behavior\":[],\"_b\":{"),
        ("\"completed_at\":", "\"completed_at\":-5,\"_c\":"),
    ];
    let mut compared = 0;
    let mut with_data_errors = 0;
    for (i, profile) in onramp::population::generate(240, 3, now).enumerate() {
        let text = profile.to_string();
        let (from, to) = replacements[i % replacements.len()];
        let corrupted = text.replacen(from, to, 1);
        let (a, b) = both(&program, &corrupted);
        assert_eq!(a, b, "{corrupted}");
        if a.contains("\"path\"") {
            with_data_errors += 1;
        }
        compared += 1;
    }
    assert_eq!(compared, 240);
    // The corruptions must really reach the rules, or this proves nothing.
    assert!(with_data_errors > 100, "{with_data_errors}");
}

/// From text, a number out of range matters only where a rule reads it
/// (docs/LANGUAGE-NOTES.md, "1e400 in JSON").
#[test]
fn an_out_of_range_number_no_rule_reads_is_skipped() {
    let program = Program::compile("segment a = user.age > 3\n").unwrap();
    let ctx = Context::at_millis(0);
    let mut ev = program.evaluator();
    ev.evaluate_str(r#"{"other": 1e400, "user": {"age": 5}}"#, &ctx)
        .unwrap();
    assert_eq!(ev.segment("a"), Some(true));
    let err = ev
        .evaluate_str(r#"{"user": {"age": 1e400}}"#, &ctx)
        .unwrap_err();
    assert!(err.to_string().contains("number out of range"), "{err}");
}
