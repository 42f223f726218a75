//! `onramp gen-profiles` piped into `onramp eval --summary` / `--summary-only`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const NOW: &str = "2026-11-20T12:00:00Z";

fn onramp() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_onramp"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn rules() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/rules"))
}

fn generate(n: u32, seed: u32) -> Vec<u8> {
    let out = onramp()
        .args([
            "gen-profiles",
            &n.to_string(),
            "--seed",
            &seed.to_string(),
            "--now",
            NOW,
        ])
        .output()
        .expect("run onramp gen-profiles");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Runs `onramp eval rules/ --profiles - ...` with `input` on stdin.
fn eval_stdin(input: &[u8], extra: &[&str]) -> Output {
    let mut child = onramp()
        .arg("eval")
        .arg(rules())
        .args(["--profiles", "-", "--now", NOW])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run onramp eval");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = input.to_vec();
    // Write from another thread: the child may fill its stdout pipe before
    // it has read all of its input.
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("wait for onramp eval");
    // A child that stops early (a usage error) closes its stdin: not a
    // failure of the test.
    let _ = writer.join();
    out
}

#[test]
fn generated_profiles_are_ndjson_and_deterministic() {
    let a = generate(500, 7);
    let text = String::from_utf8(a.clone()).expect("UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 500);
    let mut ids = std::collections::HashSet::new();
    for line in &lines {
        let v: serde_json::Value = serde_json::from_str(line).expect("every line is JSON");
        assert!(ids.insert(v["user"]["id"].as_str().unwrap_or("").to_string()));
    }
    assert_eq!(a, generate(500, 7));
    assert_ne!(a, generate(500, 8));
}

#[test]
fn summary_only_prints_the_report_on_stdout() {
    let input = generate(500, 7);
    let out = eval_stdin(&input, &["--summary-only"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Exit status as for any --profiles run: 1 when some profile had errors.
    let json = eval_stdin(&input, &["--summary-only", "--json"]);
    let summary: serde_json::Value =
        serde_json::from_slice(&json.stdout).expect("the JSON summary parses");
    let had_errors = summary["profiles_with_errors"].as_u64() != Some(0);
    assert_eq!(
        out.status.code(),
        Some(if had_errors { 1 } else { 0 }),
        "{stderr}"
    );
    assert_eq!(json.status.code(), out.status.code());
    assert_eq!(summary["profiles"], 500);
    for title in [
        "Population summary",
        "Segments",
        "Decision onboarding_path \"Onboarding path\"",
        "Decision welcome_message",
        "Decision tips",
        "Experiment welcome_test \"Personalised welcome\"",
        "Experiment holdout",
        "Errors by rule",
        "Sample ratio check",
    ] {
        assert!(stdout.contains(title), "missing {title:?} in:\n{stdout}");
    }
    // No result lines.
    assert!(!stdout.contains("\"segments\""), "{stdout}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn summary_keeps_stdout_pure_ndjson() {
    let mut input = generate(200, 3);
    input.extend_from_slice(b"this is not json\n[1, 2]\n");
    let out = eval_stdin(&input, &["--summary"]);
    assert_eq!(out.status.code(), Some(1), "bad lines make the run fail");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 202);
    for line in &lines {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Population summary"), "{stderr}");
    assert!(stderr.contains("Profiles evaluated"), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("  Unreadable lines") && l.trim_end().ends_with(" 2")),
        "{stderr}"
    );
}

#[test]
fn json_summary_goes_to_stderr_with_summary() {
    let input = generate(100, 1);
    let out = eval_stdin(&input, &["--summary", "--json"]);
    let summary: serde_json::Value =
        serde_json::from_slice(&out.stderr).expect("stderr is the JSON summary");
    assert_eq!(summary["profiles"], 100);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 100);
}

#[test]
fn json_without_a_summary_is_a_usage_error() {
    let out = eval_stdin(b"{}\n", &["--json"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn gen_profiles_survives_a_closed_pipe() {
    let mut child = onramp()
        .args(["gen-profiles", "100000", "--now", NOW])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run onramp gen-profiles");
    let mut stdout = child.stdout.take().expect("piped");
    let mut first = [0u8; 100];
    std::io::Read::read_exact(&mut stdout, &mut first).expect("some output");
    drop(stdout);
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
