//! The REPL end to end: scripted sessions with expected transcripts, and
//! one interactive session under a pseudo-terminal (tmux) that uses tab
//! completion.

#[path = "support/run.rs"]
mod run;

use std::process::Command;

fn script(name: &str) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let input = std::fs::read_to_string(format!("{root}/tests/cases/repl/{name}.txt")).unwrap();
    let (stdout, stderr, status) = repl(&["rules/", "--now", "2026-11-20T12:00:00Z"], &input);
    assert_eq!(status, 0, "{stderr}");
    stdout
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

/// `onramp repl ARGS` with `input` on standard input.
fn repl(args: &[&str], input: &str) -> (String, String, i32) {
    let args: Vec<&str> = std::iter::once("repl")
        .chain(args.iter().copied())
        .collect();
    run::run(&args, Some(input))
}

/// Diagnostics give lines and columns within the text as it was typed,
/// not within the hidden decision the REPL wraps it in (which once put
/// every error at `<repl>:2:1` or further down, after each `let`).
#[test]
fn diagnostics_point_into_the_typed_text() {
    let out = script("locations");
    let places: Vec<&str> = out
        .lines()
        .filter_map(|l| {
            let at = l.find("<repl")?;
            Some(l[at..].trim_end_matches([' ', ']', ')']))
        })
        .collect();
    assert_eq!(
        places,
        [
            "<repl>:1:9",         // 1 + 2 + zz, after a `let`
            "<repl>:1:19",        // let bad = 1 + 2 + zz
            "<repl>:2:10",        // .nme on the second line of the input
            "<repl>:1:9",         // an indented first line keeps its columns
            "<repl>:1:8",         // 1 + 2 + (the end of the input)
            "<repl>:1:5",         // run time: 1 + 10 / user.age
            "<repl>:1:17",        // run time, in the `let` being defined
            "<repl: ratio>:1:17", // run time, in an earlier `let`
        ],
        "{out}"
    );
    insta::assert_snapshot!(out);
}

/// `:actions` shows what the triggers emit for the current event on the
/// current profile, and a trigger's run-time error, in the REPL's words.
#[test]
fn actions_show_what_the_triggers_emit() {
    let input = r#":actions
:profile rules/profiles/holdout_user.json
:event {"name": "onboarding_completed", "at": "2026-11-20T11:00:00Z"}
:actions
:profile rules/profiles/new_user.json
:event {"name": "feature_used", "props": {"feature": "export"}}
:actions
:event {"name": "nobody_listens"}
:actions
"#;
    let (out, err, code) = repl(&["rules/", "--now", "2026-11-20T12:00:00Z"], input);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "loaded rules/ (15 rules)",
            "no event set (set one with :event FILE or :event { literal })",
            "profile loaded (5 top-level fields)",
            "event set",
            r#"onboarding_followup: send_email {"template":"tips_marketing","delay":"1h"}"#,
            "profile loaded (5 top-level fields)",
            "event set",
            // The event lacks the `at` the schema requires, and the
            // trigger's toast reads the event.
            "error in trigger first_feature: profile field `event.at` is required by the \
             schema, but it is missing or null (at rules/triggers.ramp:21:55)",
            "event set",
            r#"no trigger emitted anything for event "nobody_listens""#,
        ]
    );
}

/// `--event FILE` does what `:event FILE` does (LANGUAGE.md §14).
#[test]
fn event_option_sets_the_incoming_event() {
    let dir = std::env::temp_dir().join(format!("onramp-repl-event-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let event = dir.join("event.json");
    std::fs::write(&event, r#"{"name": "onboarding_completed", "at": 1}"#).unwrap();
    let event = event.to_string_lossy().into_owned();
    let now = ["rules/", "--now", "2026-11-20T12:00:00Z"];
    let (out, err, code) = repl(&[&now[..], &["--event", &event]].concat(), "\"ok\"\n");
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "loaded rules/ (15 rules)\n\"ok\"\n");
    // The same reading as `:event FILE`: its messages, but fatal up front.
    let list = dir.join("list.json");
    std::fs::write(&list, "[1]").unwrap();
    let list = list.to_string_lossy().into_owned();
    let (in_session, _, _) = repl(&now, &format!(":event {list}\n"));
    let (out, err, code) = repl(&[&now[..], &["--event", &list]].concat(), "");
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("the event must be a JSON object"), "{err}");
    assert!(
        in_session.contains("the event must be a JSON object"),
        "{in_session}"
    );
    let (_, err, code) = repl(&["--event", "no-such-event.json"], "");
    assert_eq!(code, 1);
    assert!(err.contains("cannot read no-such-event.json"), "{err}");
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
