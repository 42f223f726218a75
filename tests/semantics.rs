//! Data-driven semantics tests.
//!
//! `tests/semantics/*.table`: one behaviour per row, `EXPR ;; PROFILE ;;
//! EXPECTED`, evaluated as `decision result { else => EXPR }` at
//! 2026-11-20T12:00:00Z after the file's optional `.prelude.ramp`.
//! `tests/programs/*.ramp`: whole programs with a profile and a (partial)
//! expected §11 result.
//!
//! Every failing row is listed, not just the first.

use onramp::{Context, Engine, SourceMap};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

const NOW: &str = "2026-11-20T12:00:00Z";

fn now() -> Context {
    Context::at_millis(onramp::time::parse_time(NOW).unwrap())
}

fn files(dir: &str, ext: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(ext))
        .collect();
    v.sort();
    v
}

/// Runs one row; `Err` describes how it failed.
fn run_row(prelude: &str, expr: &str, profile: &str, expected: &str) -> Result<(), String> {
    let source = format!("{prelude}\ndecision result {{ else => {expr} }}\n");
    let mut sources = SourceMap::new();
    sources.add("row.ramp", source);
    let compiled = Engine::new().compile_sources(sources);
    if let Some(want) = expected.strip_prefix("compile error:") {
        let want = want.trim().to_lowercase();
        return match compiled {
            Ok(_) => Err(format!(
                "expected a compile error containing {want:?}, but it compiled"
            )),
            Err(e) => {
                let all: Vec<String> = e
                    .diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .map(|d| {
                        let mut s = d.message.clone();
                        for l in &d.labels {
                            s.push_str(" | ");
                            s.push_str(&l.message);
                        }
                        s
                    })
                    .collect();
                if all.iter().any(|m| m.to_lowercase().contains(&want)) {
                    Ok(())
                } else {
                    Err(format!("compile errors {all:?} do not mention {want:?}"))
                }
            }
        };
    }
    let program = compiled.map_err(|e| format!("does not compile:\n{e}"))?;
    let profile: Json =
        serde_json::from_str(profile).map_err(|e| format!("bad profile JSON in the table: {e}"))?;
    let result = program
        .evaluate(&profile, &now())
        .map_err(|e| format!("evaluate failed: {e}"))?;
    let actual = result.decision("result").cloned().unwrap_or(Json::Null);
    if let Some(want) = expected.strip_prefix("error:") {
        let want = want.trim().to_lowercase();
        let msgs: Vec<String> = result.errors().iter().map(|e| e.message.clone()).collect();
        if !msgs.iter().any(|m| m.to_lowercase().contains(&want)) {
            return Err(format!(
                "expected a run-time error containing {want:?}; got value {actual} and errors {msgs:?}"
            ));
        }
        if !actual.is_null() {
            return Err(format!("expected null after the error, got {actual}"));
        }
        return Ok(());
    }
    let want: Json = serde_json::from_str(expected)
        .map_err(|e| format!("bad expected JSON in the table: {e}"))?;
    if !result.errors().is_empty() {
        let msgs: Vec<String> = result.errors().iter().map(|e| e.message.clone()).collect();
        return Err(format!(
            "expected {want}, got {actual} with errors {msgs:?}"
        ));
    }
    if actual != want {
        return Err(format!("expected {want}, got {actual}"));
    }
    Ok(())
}

#[test]
fn semantics_tables() {
    let mut failures = Vec::new();
    let mut rows = 0;
    for table in files("tests/semantics", ".table") {
        let text = std::fs::read_to_string(&table).unwrap();
        let prelude_path = table.with_extension("prelude.ramp");
        let prelude = std::fs::read_to_string(&prelude_path).unwrap_or_default();
        let name = table.file_name().unwrap().to_string_lossy().into_owned();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let parts: Vec<&str> = line.split(" ;; ").collect();
            if parts.len() != 3 {
                failures.push(format!("{name}:{}: malformed row", i + 1));
                continue;
            }
            rows += 1;
            if let Err(e) = run_row(&prelude, parts[0], parts[1], parts[2].trim()) {
                failures.push(format!("{name}:{}: `{}`: {e}", i + 1, parts[0]));
            }
        }
    }
    assert!(rows > 0, "no semantics rows found");
    assert!(
        failures.is_empty(),
        "{} of {rows} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every entry of `want` must equal the same entry of `got` (objects are
/// compared key by key, recursively only at the top two levels).
fn compare_partial(want: &Json, got: &Json, path: &str, out: &mut Vec<String>) {
    match (want, got) {
        (Json::Object(w), Json::Object(g)) if path.matches('.').count() < 2 => {
            for (k, v) in w {
                let p = format!("{path}.{k}");
                match g.get(k) {
                    Some(gv) => compare_partial(v, gv, &p, out),
                    None => out.push(format!("{p}: missing in the result")),
                }
            }
        }
        _ => {
            if path.ends_with(".errors") {
                compare_errors(want, got, path, out);
            } else if want != got {
                out.push(format!("{path}: expected {want}, got {got}"));
            }
        }
    }
}

/// Errors compare by rule and by message substring.
fn compare_errors(want: &Json, got: &Json, path: &str, out: &mut Vec<String>) {
    let (Some(w), Some(g)) = (want.as_array(), got.as_array()) else {
        out.push(format!("{path}: expected {want}, got {got}"));
        return;
    };
    if w.len() != g.len() {
        out.push(format!("{path}: expected {} errors, got {got}", w.len()));
        return;
    }
    for (a, b) in w.iter().zip(g) {
        if a.get("rule") != b.get("rule") {
            out.push(format!(
                "{path}: expected an error in {:?}, got {b}",
                a.get("rule")
            ));
        }
        if let Some(Json::String(m)) = a.get("message") {
            let actual = b.get("message").and_then(Json::as_str).unwrap_or("");
            if !actual.to_lowercase().contains(&m.to_lowercase()) {
                out.push(format!("{path}: message {actual:?} does not contain {m:?}"));
            }
        }
        if let Some(p) = a.get("path") {
            if b.get("path") != Some(p) {
                out.push(format!("{path}: expected path {p}, got {b}"));
            }
        }
    }
}

#[test]
fn whole_programs() {
    let mut failures = Vec::new();
    let programs = files("tests/programs", ".ramp");
    assert!(!programs.is_empty());
    for rules in &programs {
        let base = rules.with_extension("");
        let name = base.file_name().unwrap().to_string_lossy().into_owned();
        let expected: Json = serde_json::from_str(
            &std::fs::read_to_string(base.with_extension("expected.json")).unwrap(),
        )
        .unwrap_or_else(|e| panic!("{name}.expected.json: {e}"));
        let compiled = Engine::new().load(rules);
        if let Some(Json::String(want)) = expected.get("compile_error") {
            match compiled {
                Ok(_) => failures.push(format!(
                    "{name}: expected a compile error containing {want:?}"
                )),
                Err(e) => {
                    let text = e.to_string().to_lowercase();
                    if !text.contains(&want.to_lowercase()) {
                        failures.push(format!(
                            "{name}: compile errors do not mention {want:?}:\n{e}"
                        ));
                    }
                }
            }
            continue;
        }
        let program = match compiled {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("{name}: does not compile:\n{e}"));
                continue;
            }
        };
        let profile: Json = serde_json::from_str(
            &std::fs::read_to_string(base.with_extension("profile.json")).unwrap(),
        )
        .unwrap();
        let now_text = expected.get("now").and_then(Json::as_str).unwrap_or(NOW);
        let mut ctx = Context::at_millis(onramp::time::parse_time(now_text).unwrap());
        if let Some(ev) = expected.get("event") {
            ctx = ctx.with_event(ev.clone());
        }
        let result = program.evaluate(&profile, &ctx).unwrap().to_json();
        let mut diffs = Vec::new();
        compare_partial(&expected["result"], &result, "result", &mut diffs);
        if !diffs.is_empty() {
            failures.push(format!("{name}:\n  {}", diffs.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
