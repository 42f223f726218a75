//! The REPL end to end: scripted sessions with expected transcripts, and
//! one interactive session under a pseudo-terminal (tmux) that uses tab
//! completion.

use std::io::Write;
use std::process::{Command, Stdio};

fn script(name: &str) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let input = std::fs::read_to_string(format!("{root}/tests/cases/repl/{name}.txt")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_onramp"))
        .args(["repl", "rules/", "--now", "2026-11-20T12:00:00Z"])
        .current_dir(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn scripted_tour() {
    insta::assert_snapshot!(script("tour"));
}

#[test]
fn errors_never_end_the_session() {
    let out = script("errors");
    assert!(out.trim_end().ends_with("\"still alive\""), "{out}");
    insta::assert_snapshot!(out);
}

/// Types into a real terminal: a partial rule name, Tab, Enter.
#[test]
fn interactive_session_with_tab_completion() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("tmux is not installed; skipping the pseudo-terminal test");
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let session = format!("onramp-repl-{}", std::process::id());
    let home = std::env::temp_dir().join(&session);
    std::fs::create_dir_all(&home).unwrap();
    let cmd = format!(
        "cd {root} && HOME={} XDG_DATA_HOME={} {} repl rules/ --now 2026-11-20T12:00:00Z",
        home.display(),
        home.display(),
        env!("CARGO_BIN_EXE_onramp")
    );
    let tmux = |args: &[&str]| Command::new("tmux").args(args).output().unwrap();
    let started = tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "120",
        "-y",
        "30",
        &cmd,
    ]);
    assert!(
        started.status.success(),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );
    let screen = || {
        String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", &session]).stdout).into_owned()
    };
    let wait_for = |needle: &str| {
        for _ in 0..100 {
            let s = screen();
            if s.contains(needle) {
                return s;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let s = screen();
        tmux(&["kill-session", "-t", &session]);
        panic!("{needle:?} never appeared; screen:\n{s}");
    };
    wait_for("onramp>");
    tmux(&[
        "send-keys",
        "-t",
        &session,
        ":profile rules/profiles/power_user.json",
        "Enter",
    ]);
    wait_for("profile loaded");
    tmux(&["send-keys", "-t", &session, "onboarding_pa", "Tab"]);
    wait_for("onramp> onboarding_path");
    tmux(&["send-keys", "-t", &session, ".flow", "Enter"]);
    let s = wait_for("\"advanced\"");
    tmux(&["send-keys", "-t", &session, ":quit", "Enter"]);
    std::thread::sleep(std::time::Duration::from_millis(200));
    tmux(&["kill-session", "-t", &session]);
    assert!(s.contains("onboarding_path.flow"), "{s}");
}
