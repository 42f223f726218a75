//! `onramp test` as a product manager runs it: the built binary on real
//! rule files.

use std::process::Command;

fn onramp(args: &[&str]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_onramp"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run onramp");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn failing_tests_show_the_expectation_and_its_values() {
    let (stdout, _, code) = onramp(&["test", "tests/cases/test_runner/failing.ramp"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(stdout);
}

#[test]
fn filter_runs_only_matching_tests() {
    let (stdout, _, code) = onramp(&[
        "test",
        "tests/cases/test_runner/failing.ramp",
        "--filter",
        "an adult",
    ]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("PASS an adult is an adult"));
    assert!(
        stdout.trim_end().ends_with("1 passed, 0 failed"),
        "{stdout}"
    );
}

#[test]
fn the_example_rules_pass_their_tests_with_full_coverage() {
    let (stdout, stderr, code) = onramp(&["test", "rules/", "--coverage"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("every segment and decision branch was exercised both ways"),
        "{stdout}"
    );
    assert!(stdout.contains(" passed, 0 failed"));
}

#[test]
fn a_test_reading_the_clock_must_state_now() {
    let dir = std::env::temp_dir().join(format!("onramp-now-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("clock.ramp");
    std::fs::write(
        &file,
        "segment recent = last_seen within 24h\ntest \"recent\" {\n  given { last_seen: @2026-11-20 }\n  expect recent\n}\n",
    )
    .unwrap();
    let (_, stderr, code) = onramp(&["test", file.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(stderr.contains("does not state `now`"), "{stderr}");

    // The error points at the first expectation that reads the clock.
    std::fs::write(
        &file,
        "segment recent = last_seen within 24h\nsegment yes = true\ntest \"recent\" {\n  given { last_seen: @2026-11-20 }\n  expect yes\n  expect recent\n}\n",
    )
    .unwrap();
    let (_, stderr, code) = onramp(&["test", file.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(stderr.contains("clock.ramp:6:10"), "{stderr}");
}

#[test]
fn a_failing_expectation_quotes_parenthesised_operands_whole() {
    let dir = std::env::temp_dir().join(format!("onramp-parens-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("parens.ramp");
    std::fs::write(&file, "test \"t\" {\n  expect (1 + 2) * (3 + 4) == 20\n}\n").unwrap();
    let (stdout, stderr, code) = onramp(&["test", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("left `(1 + 2) * (3 + 4)` was 21"),
        "{stdout}"
    );
    // The underline starts at the opening bracket, column 10.
    assert!(stdout.contains("parens.ramp:2:10 ]"), "{stdout}");
}
