//! The `onramp` binary on real files: exit codes, outputs, and bad input
//! that must never lose the rest of the work.

#[path = "support/run.rs"]
mod run;

use std::io::Write;

const NOW: &str = "2026-11-20T12:00:00Z";

fn onramp(args: &[&str], stdin: Option<&str>) -> (String, String, i32) {
    run::run(args, stdin)
}

fn temp_file(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("onramp-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn check_accepts_the_example_rules() {
    let (_, stderr, code) = onramp(&["check", "rules/"], None);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("ok: 6 files checked, 0 errors"), "{stderr}");
}

#[test]
fn check_reports_every_error_with_exit_1() {
    let bad = temp_file(
        "bad.ramp",
        "schema { user.age: int }\nsegment a = user.agee > 1\nsegment b = user.aeg > 2\n",
    );
    let (_, stderr, code) = onramp(&["check", &bad], None);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("user.agee") && stderr.contains("user.aeg"),
        "{stderr}"
    );
    assert!(stderr.contains("2 errors"), "{stderr}");
}

#[test]
fn check_json_prints_one_object_per_diagnostic() {
    let bad = temp_file("bad_json.ramp", "segment a = 1 +\n");
    let (stdout, _, code) = onramp(&["check", &bad, "--format", "json"], None);
    assert_eq!(code, 1);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["severity"], "error");
    assert_eq!(
        (&lines[0]["line"], &lines[0]["column"]),
        (&1.into(), &16.into()),
        "the end of the last line, where the right side is missing"
    );
}

/// Two items that do not parse and one that does not type-check: `check`
/// reports all three (one syntax error per broken item, and the items that
/// parsed still checked), and every command that compiles refuses the file.
const BROKEN_ITEMS: &str =
    "segment a = 1 +\n\nsegment b = true\n\nsegment c = 2 * * 3\n\nsegment d = \"x\" < 1\n";

#[test]
fn check_reports_a_syntax_error_per_item_and_checks_the_others() {
    let bad = temp_file("broken_items.ramp", BROKEN_ITEMS);
    let (stdout, _, code) = onramp(&["check", &bad, "--format", "json"], None);
    assert_eq!(code, 1);
    let found: Vec<(String, u64, u64)> = stdout
        .lines()
        .map(|l| {
            let d: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(d["severity"], "error", "{d}");
            (
                d["message"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected = [
        ("expected an expression, found `segment`", 3, 1),
        ("expected an expression, found `*`", 5, 17),
        ("cannot order a string against an int", 7, 13),
    ];
    let expected: Vec<(String, u64, u64)> = expected
        .iter()
        .map(|(m, l, c)| (m.to_string(), *l, *c))
        .collect();
    assert_eq!(found, expected, "{stdout}");

    let (_, stderr, code) = onramp(&["check", &bad], None);
    assert_eq!(code, 1);
    for (message, line, column) in &expected {
        assert!(stderr.contains(&format!("Error: {message}")), "{stderr}");
        assert!(
            stderr.contains(&format!("{bad}:{line}:{column}")),
            "{stderr}"
        );
    }
    assert!(
        stderr.contains("failed: 1 file checked, 3 errors, 0 warnings"),
        "{stderr}"
    );

    let profile = temp_file("broken_items_profile.json", "{}");
    let refusals: [&[&str]; 4] = [
        &["eval", &bad, "--profile", &profile, "--now", NOW],
        &["explain", &bad, "b", "--profile", &profile, "--now", NOW],
        &["test", &bad],
        &["fmt", &bad],
    ];
    for args in refusals {
        let (stdout, stderr, code) = onramp(args, None);
        assert_eq!(code, 1, "{args:?}: {stdout}{stderr}");
        let all = format!("{stdout}{stderr}");
        assert!(
            all.contains("found `segment`") && all.contains("found `*`"),
            "{args:?}: {all}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(&bad).unwrap(),
        BROKEN_ITEMS,
        "fmt left it alone"
    );
}

/// `file:line:column` in the header of the first text diagnostic.
fn text_location(stderr: &str) -> &str {
    let start = stderr.find("─[ ").expect("an excerpt header") + "─[ ".len();
    let len = stderr[start..].find(" ]").unwrap();
    &stderr[start..start + len]
}

/// An error at the end of the file is at the end of its last line with
/// content, in the text and the JSON rendering alike (with a final newline
/// the text once said 1:17, a column past the line, and JSON 2:1).
#[test]
fn an_error_at_the_end_of_the_file_is_at_the_same_place_in_text_and_json() {
    let cases = [
        ("eof_newline.ramp", "segment x = 1 +\n", 1, 16),
        ("eof_bare.ramp", "segment x = 1 +", 1, 16),
        (
            "eof_blank_lines.ramp",
            "let a = 1\nsegment x = 1 +  \n\n\n",
            2,
            16,
        ),
        ("eof_comment.ramp", "segment x = 1 + # more later\n", 1, 29),
    ];
    for (name, text, line, column) in cases {
        let file = temp_file(name, text);
        let (stdout, _, code) = onramp(&["check", &file, "--format", "json"], None);
        assert_eq!(code, 1, "{name}");
        let json: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
        assert_eq!(
            (json["line"].as_u64(), json["column"].as_u64()),
            (Some(line), Some(column)),
            "{name}: {json}"
        );
        let (_, stderr, _) = onramp(&["check", &file], None);
        assert_eq!(
            text_location(&stderr),
            format!("{file}:{line}:{column}"),
            "{name}: {stderr}"
        );
    }
}

/// Runs onramp the way `onramp ... | head -1` does: one line of standard
/// output is read, then the pipe is closed while onramp still writes.
fn onramp_head(args: &[&str], stdin: Option<&str>) -> (String, String, i32) {
    use std::io::{BufRead, Read};
    let mut child = run::spawn(args);
    let mut input = child.stdin.take().unwrap();
    let text = stdin.unwrap_or("").to_string();
    // A writer thread, so a child that stops reading cannot block us.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(text.as_bytes());
    });
    let mut first = String::new();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    out.read_line(&mut first).unwrap();
    drop(out);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    writer.join().unwrap();
    (first, stderr, status.code().unwrap_or(-1))
}

/// A reader that stops early (`| head -1`) ends the run quietly: no panic
/// ("failed printing to stdout: Broken pipe", exit 101), no message; the
/// status is what was found until then.
#[test]
fn a_closed_standard_output_ends_the_run_quietly() {
    let profile: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("rules/profiles/power_user.json").unwrap())
            .unwrap();
    // Far more output than a pipe holds, so writing must fail.
    let profiles = format!("{profile}\n").repeat(5000);
    let many = temp_file("many.ndjson", &profiles);
    let bad_rules = temp_file(
        "many_errors.ramp",
        &"segment s = user.nope > 1\n".repeat(2000),
    );
    let runs: [(&[&str], Option<&str>, i32); 5] = [
        (
            &["eval", "rules/", "--profiles", &many, "--now", NOW],
            None,
            0,
        ),
        (
            &["eval", "rules/", "--profiles", "-", "--now", NOW],
            Some(&profiles),
            0,
        ),
        (&["gen-profiles", "20000", "--now", NOW], None, 0),
        // The errors are known before anything is written: still exit 1.
        (&["check", &bad_rules, "--format", "json"], None, 1),
        (&["repl"], Some(&":help\n".repeat(500)), 0),
    ];
    for (args, stdin, expected) in runs {
        let (first, stderr, code) = onramp_head(args, stdin);
        assert!(!first.is_empty(), "{args:?}: no output at all; {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{args:?}: {stderr}"
        );
        assert_eq!(code, expected, "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
}

#[test]
fn eval_prints_the_result_document() {
    let (stdout, stderr, code) = onramp(
        &[
            "eval",
            "rules/",
            "--profile",
            "rules/profiles/power_user.json",
            "--now",
            NOW,
        ],
        None,
    );
    assert_eq!(code, 0, "{stderr}");
    let result: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("rules/expected/power_user.json").unwrap())
            .unwrap();
    assert_eq!(result, expected);
}

#[test]
fn eval_exits_1_when_the_data_has_errors_but_still_prints_the_result() {
    let (stdout, _, code) = onramp(
        &[
            "eval",
            "rules/",
            "--profile",
            "rules/profiles/schema_violation.json",
            "--now",
            NOW,
        ],
        None,
    );
    assert_eq!(code, 1);
    let result: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(result["errors"][0]["path"], "user.age");
    assert!(result["segments"]["engaged"].is_boolean());
}

#[test]
fn ndjson_keeps_order_and_survives_a_malformed_line() {
    let input = "{\"user\": {\"id\": \"a\"}}\n{not json\n\n[1, 2]\n{\"user\": {\"id\": \"b\"}}\n";
    let (stdout, _, code) = onramp(
        &["eval", "rules/", "--profiles", "-", "--now", NOW],
        Some(input),
    );
    assert_eq!(code, 1, "a bad line makes the run exit 1");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(lines[0].get("segments").is_some());
    assert_eq!(lines[1]["line"], 2);
    assert!(lines[1]["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("JSON"));
    assert_eq!(lines[2]["line"], 4);
    assert!(lines[3].get("segments").is_some());
}

#[test]
fn events_mode_runs_triggers_per_line() {
    let input = format!(
        "{}\n",
        serde_json::json!({
            "profile": serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/profiles/power_user.json")).unwrap()).unwrap(),
            "event": {"name": "onboarding_completed", "at": NOW}
        })
    );
    let (stdout, stderr, code) = onramp(
        &[
            "eval",
            "rules/",
            "--profiles",
            "-",
            "--events",
            "--now",
            NOW,
        ],
        Some(&input),
    );
    assert_eq!(code, 0, "{stderr}");
    let line: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(line["actions"][0]["action"], "send_email");
}

#[test]
fn bad_usage_exits_2() {
    let (_, _, code) = onramp(
        &[
            "eval",
            "rules/",
            "--profile",
            "x.json",
            "--now",
            "yesterday",
        ],
        None,
    );
    assert_eq!(code, 2);
    let (_, _, code) = onramp(&["frobnicate"], None);
    assert_eq!(code, 2);
}

#[test]
fn missing_files_exit_1_with_a_message() {
    let (_, stderr, code) = onramp(&["check", "no/such/dir"], None);
    assert_eq!(code, 1);
    assert!(stderr.contains("no/such/dir"), "{stderr}");
    let (_, stderr, code) = onramp(
        &["eval", "rules/", "--profile", "nope.json", "--now", NOW],
        None,
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("nope.json"), "{stderr}");
}

#[test]
fn disasm_lists_one_rule() {
    let (stdout, stderr, code) = onramp(&["disasm", "rules/", "engaged"], None);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("== segment engaged =="), "{stdout}");
    let (_, _, code) = onramp(&["disasm", "rules/", "engagd"], None);
    assert_eq!(code, 1);
}
