//! Regression tests for bugs found by fuzzing (`fuzz/`) and by the bad
//! input matrix (`tests/robustness.rs`). Each test names the input that
//! once failed and what went wrong; inputs too large to write inline live
//! under `tests/cases/regressions/`.

use onramp::{Context, Program};
use std::time::{Duration, Instant};

/// Did-you-mean compared every unknown name with every item name by a full
/// edit-distance matrix: two 20,000-character names took over a minute and
/// 3 GB (100,000 characters: 10^10 cells). Names longer than 64 characters
/// now get no suggestion, and candidates whose length alone rules them out
/// are skipped.
#[test]
fn did_you_mean_on_long_names_is_fast() {
    let name = "a".repeat(20_000);
    let near = format!("{}b", &name[..name.len() - 1]);
    let source = format!("segment {name} = true\nsegment b = {near}\n");
    let start = Instant::now();
    let program = Program::compile(&source).expect("a bare name is a profile field");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    // No suggestion for such a name; the short-name suggestion still works.
    assert!(program.warnings().is_empty(), "{:?}", program.warnings());
    let program = Program::compile("segment engaged = true\nsegment b = egnaged\n").unwrap();
    assert!(
        program
            .warnings()
            .iter()
            .any(|w| format!("{w:?}").contains("engaged")),
        "{:?}",
        program.warnings()
    );
}

/// A syntax error at a NUL byte printed the NUL itself between backticks
/// ("found `␀`", invisible in a terminal). Invisible characters are now
/// named by code point.
#[test]
fn a_syntax_error_at_an_invisible_character_names_it() {
    for (text, code) in [
        ("segment a = true\0\n", "U+0000"),
        ("segment a = true\u{7}\n", "U+0007"),
        ("segment a = true \u{feff}\n", "U+FEFF"),
    ] {
        let err = Program::compile(text).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(code), "{msg}");
        assert!(msg.contains("<input>:1:"), "{msg}");
    }
}

/// A byte order mark at the start of a rule file counted as a column, so
/// every error on line 1 was reported one column to the right.
#[test]
fn a_byte_order_mark_does_not_shift_columns() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("regressions-bom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bom.ramp");
    std::fs::write(&path, b"\xef\xbb\xbfsegment a = 1 > \"x\"\n").unwrap();
    let err = Program::load(&path).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("bom.ramp:1:13"), "{msg}");
    std::fs::write(&path, b"\xef\xbb\xbfsegment a = true\n").unwrap();
    let program = Program::load(&path).unwrap();
    let result = program
        .evaluate(&serde_json::json!({}), &Context::at_millis(0))
        .unwrap();
    assert_eq!(result.segment("a"), Some(true));
}

/// Found by the `generated_programs` fuzz target: `fmt` is not idempotent
/// on a trigger whose header does not fit on one line and whose payload
/// breaks. The first pass puts `=> emit …` on a continuation line and
/// indents the payload's fields under the `emit` (column 10); formatting
/// that output again indented them from the continuation (column 7), so
/// `onramp fmt --check` rejected a file `onramp fmt` had just written. The
/// emit indentation now applies whether or not the emit group breaks.
#[test]
fn fmt_is_idempotent_on_a_broken_trigger_payload() {
    let source = "trigger t1 on \"session_start\" => emit \"send_email\" \
                  { v: [\"trial\", if true then user.country else \"UTC\"], \
                  ev: event.props.plan ?? \"none\" }\n";
    let once = onramp::fmt::format_source(source).unwrap();
    let twice = onramp::fmt::format_source(&once).unwrap();
    assert_eq!(once, twice);
}

/// Found by the `evaluate_profile` fuzz target with the input `[]`: for a
/// profile that is not a JSON object, the reference evaluator said "this
/// is list" where `Program::evaluate` says "this is a list" (it used the
/// bare type name instead of the phrase with an article).
#[test]
fn reference_and_vm_word_a_non_object_profile_alike() {
    let program = Program::compile("segment a = true\n").unwrap();
    let ctx = Context::at_millis(0);
    for profile in [
        serde_json::json!([]),
        serde_json::json!(1),
        serde_json::json!(1.5),
        serde_json::json!("x"),
        serde_json::json!(null),
        serde_json::json!(true),
    ] {
        let vm = program.evaluate(&profile, &ctx).map(|r| r.to_json());
        let reference = onramp::reference::evaluate(&program, &profile, &ctx).map(|r| r.to_json());
        assert_eq!(vm, reference, "{profile}");
    }
    let err = program
        .evaluate(&serde_json::json!([]), &ctx)
        .unwrap_err()
        .to_string();
    assert_eq!(err, "a profile must be a JSON object, but this is a list");
}

/// A unit of the wrong type is a data error, and data errors carry the
/// field path (LANGUAGE.md §14); the experiment's error had neither the
/// path nor the field's name in its message (found by a spec audit).
#[test]
fn a_bad_experiment_unit_names_its_field() {
    let program =
        Program::compile("experiment e {\n  unit user.id\n  variants { x: 100% }\n}\n").unwrap();
    let profile = serde_json::json!({"user": {"id": true}});
    let result = program
        .evaluate(&profile, &Context::at(std::time::UNIX_EPOCH))
        .unwrap();
    let json = result.to_json();
    let error = &json["errors"][0];
    assert_eq!(error["path"], "user.id", "{json}");
    assert_eq!(
        error["message"],
        "`user.id`: type error: an experiment unit must be a string or an int, but this is a bool"
    );
    assert_eq!(json["experiments"]["e"], serde_json::Value::Null);
}

/// A reused evaluator keeps rule values between runs (only lets are
/// cleared); a rule the budget stopped before it ran showed the previous
/// profile's value instead of its fallback. Found by the
/// `generated_programs` fuzz target (text and Value binding disagreed
/// after a first evaluation on the same evaluator).
#[test]
fn a_rule_stopped_by_the_budget_does_not_show_the_last_value() {
    let program = Program::compile(
        "segment s = true\ndecision d { else => \"x\" }\nexperiment e {\n  unit user.id\n  variants { a: 100% }\n}\n",
    )
    .unwrap();
    let profile = serde_json::json!({"user": {"id": "u-1"}});
    let mut ev = program.evaluator();
    let ctx = Context::at(std::time::UNIX_EPOCH);
    ev.evaluate(&profile, &ctx).unwrap();
    assert_eq!(ev.segment("s"), Some(true));
    assert_eq!(ev.result().to_json()["decisions"]["d"], "x");
    ev.evaluate(&profile, &ctx.clone().with_step_budget(0))
        .unwrap();
    let json = ev.result().to_json();
    assert_eq!(json["segments"]["s"], false, "{json}");
    assert_eq!(json["decisions"]["d"], serde_json::Value::Null, "{json}");
    assert_eq!(json["experiments"]["e"], serde_json::Value::Null, "{json}");
    assert_eq!(ev.error_count(), 3, "{json}");
}
