//! Reliability: no input crashes, hangs or fools the engine.
//!
//! - The bad input matrix (`docs/LANGUAGE-NOTES.md`, "Bad input"): each
//!   case drives the built binary and/or the library and pins its
//!   documented outcome — exit status 1 (never 101, never a panic), a
//!   diagnostic naming where and what, and for NDJSON the surrounding lines
//!   still evaluated in order.
//! - Limits, each set through `Engine::with_limits`: source size, nesting
//!   depth (100,000 nested parentheses and lists on a thread with a small
//!   stack), item count, string and list sizes in profiles, the step budget
//!   (an aggregate over ten million elements), regex size.
//! - Concurrency: one `Program` evaluated from 8 threads at once gives the
//!   sequential results.
//! - Determinism: `onramp eval --profiles` output is byte-identical across
//!   runs and thread counts, map key order included.

use onramp::{Context, Engine, Limits, Program};
use serde_json::{json, Value as Json};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const NOW: &str = "2026-11-20T12:00:00Z";
/// `NOW` in epoch milliseconds.
const NOW_MS: i64 = 1_795_176_000_000;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// What a run of the binary produced.
struct Out {
    stdout: String,
    stderr: String,
    code: i32,
}

/// Runs the binary with a deadline (a hang is a failure, not a stuck test).
fn onramp_env(args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_onramp"));
    cmd.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run onramp");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.map(<[u8]>::to_vec);
    let writer = std::thread::spawn(move || {
        if let Some(d) = data {
            let _ = input.write_all(&d);
        }
    });
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = so.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("onramp {args:?} did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    writer.join().unwrap();
    Out {
        stdout: String::from_utf8_lossy(&out_reader.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned(),
        code: status.code().unwrap_or(-1),
    }
}

fn onramp(args: &[&str]) -> Out {
    onramp_env(args, None, &[])
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("robustness-{}", std::process::id()))
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_string_lossy().into_owned()
}

/// Exit status 1, no panic, and every needle in the diagnostics.
#[track_caller]
fn assert_fails(out: &Out, needles: &[&str]) {
    assert_eq!(
        out.code, 1,
        "expected exit status 1\nstdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    for n in needles {
        assert!(
            out.stderr.contains(n),
            "diagnostics lack {n:?}:\n{}",
            out.stderr
        );
    }
}

#[track_caller]
fn assert_ok(out: &Out) {
    assert_eq!(
        out.code, 0,
        "expected success\nstdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
}

/// Runs `f` on a thread with a 512 KiB stack (smaller than a test
/// thread's 2 MiB): deep input must be rejected, not overflow.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
}

fn compile_error(engine: &Engine, source: &str) -> String {
    match engine.compile(source) {
        Ok(_) => panic!("compiled, but should not have"),
        Err(e) => {
            // The rendered form names file:line:column.
            let rendered = onramp::diagnostic::render(&e.diagnostics, &e.sources, false);
            assert!(e.diagnostics.iter().any(|d| d.is_error()), "{rendered}");
            rendered
        }
    }
}

fn eval_one(program: &Program, profile: &str) -> Json {
    let mut ev = program.evaluator();
    ev.evaluate_str(profile, &Context::at_millis(NOW_MS))
        .expect("an object");
    ev.result().to_json()
}

// ---------------------------------------------------------------------------
// Bad input matrix: rule files
// ---------------------------------------------------------------------------

#[test]
fn rule_file_with_invalid_utf8_names_the_file_and_offset() {
    let dir = scratch("utf8");
    let path = write(&dir, "bad.ramp", b"segment a = true\n\xff\xfe\n");
    let profile = write(&dir, "p.json", "{}");
    for out in [
        onramp(&["check", &path]),
        onramp(&["eval", &path, "--profile", &profile, "--now", NOW]),
    ] {
        assert_fails(&out, &["bad.ramp", "not valid UTF-8", "offset 17"]);
    }
    // A directory: the bad file is named, the good one is not blamed.
    write(&dir, "good.ramp", "segment b = true\n");
    let out = onramp(&["check", dir.to_str().unwrap()]);
    assert_fails(&out, &["bad.ramp: not valid UTF-8"]);
}

#[test]
fn nul_bytes_are_named_outside_strings_and_kept_inside() {
    let dir = scratch("nul");
    let path = write(&dir, "nul.ramp", b"segment a = true\0\n");
    let out = onramp(&["check", &path]);
    assert_fails(&out, &["nul.ramp:1:17", "U+0000"]);
    // Inside a string literal a NUL is a character like any other, and the
    // result escapes it.
    let path = write(
        &dir,
        "inside.ramp",
        b"decision d { else => \"a\0b\" }\nsegment s = \"a\0b\" == \"a\0b\"\n",
    );
    let profile = write(&dir, "p.json", "{}");
    let out = onramp(&["eval", &path, "--profile", &profile, "--now", NOW]);
    assert_ok(&out);
    let result: Json = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(result["decisions"]["d"], json!("a\u{0}b"));
    assert_eq!(result["segments"]["s"], json!(true));
}

#[test]
fn a_byte_order_mark_is_ignored_and_does_not_shift_columns() {
    let dir = scratch("bom");
    let good = write(&dir, "good.ramp", b"\xef\xbb\xbfsegment a = true\n");
    let profile = write(&dir, "p.json", "{}");
    let out = onramp(&["eval", &good, "--profile", &profile, "--now", NOW]);
    assert_ok(&out);
    assert!(out.stdout.contains("\"a\": true"), "{}", out.stdout);
    let bad = write(&dir, "bad.ramp", b"\xef\xbb\xbfsegment a = 1 > \"x\"\n");
    assert_fails(&onramp(&["check", &bad]), &["bad.ramp:1:13"]);
    // The library accepts a BOM in source text too.
    assert!(Program::compile("\u{feff}segment a = true\n").is_ok());
}

#[test]
fn crlf_line_endings_and_tabs_are_whitespace() {
    let dir = scratch("crlf");
    let good = write(
        &dir,
        "crlf.ramp",
        "# a comment\r\nsegment a = true\r\nsegment b = a and\r\n    true\r\n",
    );
    let profile = write(&dir, "p.json", "{}");
    let out = onramp(&["eval", &good, "--profile", &profile, "--now", NOW]);
    assert_ok(&out);
    assert!(out.stdout.contains("\"b\": true"), "{}", out.stdout);
    // Lines are counted across CRLF.
    let bad = write(
        &dir,
        "bad.ramp",
        "segment a = true\r\nsegment b = 1 > \"x\"\r\n",
    );
    assert_fails(&onramp(&["check", &bad]), &["bad.ramp:2:13"]);
    // A tab is one column (columns count characters).
    let tabs = write(
        &dir,
        "tabs.ramp",
        "segment\ta =\ttrue\n\tsegment b = 1 > \"x\"\n",
    );
    assert_fails(&onramp(&["check", &tabs]), &["tabs.ramp:2:14"]);
}

#[test]
fn extremely_long_lines_and_identifiers() {
    let dir = scratch("long");
    // One line of about 340 KB: a flat list of 50,000 numbers, then an error
    // at its very end, which is located by column.
    let items: Vec<String> = (0..50_000).map(|i| i.to_string()).collect();
    let prefix = format!("segment a = user.x in [{}] and ", items.join(", "));
    let col = prefix.chars().count() + 1;
    let line = format!("{prefix}1 > \"x\"\n");
    let path = write(&dir, "line.ramp", &line);
    assert_fails(&onramp(&["check", &path]), &[&format!("line.ramp:1:{col}")]);
    let good = write(
        &dir,
        "line_ok.ramp",
        format!("segment a = user.x in [{}]\n", items.join(", ")),
    );
    assert_ok(&onramp(&["check", &good]));

    // A 100,000-character name, read by another rule, and a near miss of it
    // (which once made did-you-mean compare 10^10 character pairs).
    let name = "a".repeat(100_000);
    let near = format!("{}b", &name[..name.len() - 1]);
    let text = format!("segment {name} = true\nsegment b = {name}\nsegment c = {near}\n");
    let path = write(&dir, "ident.ramp", &text);
    let start = Instant::now();
    let profile = write(&dir, "p.json", "{}");
    let out = onramp(&["eval", &path, "--profile", &profile, "--now", NOW]);
    assert_ok(&out);
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
    let result: Json = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(result["segments"]["b"], json!(true));
    assert_eq!(result["segments"]["c"], json!(false));
    // An unknown long name with a schema is an error naming the place.
    let text = format!("schema {{ user.x: int }}\nsegment {name} = true\nsegment b = {near}\n");
    let path = write(&dir, "ident_err.ramp", &text);
    assert_fails(&onramp(&["check", &path]), &["ident_err.ramp:3:13"]);
}

#[test]
fn numbers_out_of_range_in_rules() {
    let dir = scratch("numbers");
    let cases: [(&str, &[&str]); 4] = [
        (
            "segment a = 9223372036854775808 > 1\n",
            &["n.ramp:1:13", "integer literal out of range"],
        ),
        (
            "segment a = -9223372036854775809 < 1\n",
            &["n.ramp:1:14", "integer literal out of range"],
        ),
        (
            "segment a = 1e400 > 1\n",
            &["n.ramp:1:13", "number literal out of range"],
        ),
        (
            "segment a = 9223372036854775807 + 1 > 0\n",
            &["n.ramp:1:13", "overflow"],
        ),
    ];
    for (text, needles) in cases {
        let path = write(&dir, "n.ramp", text);
        assert_fails(&onramp(&["check", &path]), needles);
    }
    // The extremes that do fit, and negative zero.
    let p = Program::compile(
        "segment min = -9223372036854775808 < 0\nsegment max = 9223372036854775807 > 0\n\
         segment z = -0 == 0\nsegment zf = -0.0 == 0.0\nsegment tiny = 1e-400 == 0.0\n",
    )
    .unwrap();
    let r = eval_one(&p, "{}");
    for s in ["min", "max", "z", "zf", "tiny"] {
        assert_eq!(r["segments"][s], json!(true), "{s}: {r}");
    }
}

#[test]
fn times_out_of_range_in_rules() {
    let dir = scratch("times");
    for lit in [
        "@10000-01-01",
        "@2026-13-01",
        "@2026-02-30",
        "@2026-11-20T12:00:60Z",
    ] {
        let path = write(&dir, "t.ramp", format!("segment a = {lit} > now\n"));
        assert_fails(
            &onramp(&["check", &path]),
            &["t.ramp:1:13", &format!("bad time literal `{lit}`")],
        );
    }
    let path = write(
        &dir,
        "d.ramp",
        "segment a = now > now - 9999999999999999d\n",
    );
    assert_fails(
        &onramp(&["check", &path]),
        &["d.ramp:1:25", "duration literal out of range"],
    );
}

#[test]
fn empty_files_and_directories() {
    let dir = scratch("empty");
    let empty = write(&dir, "empty.ramp", "");
    let profile = write(&dir, "p.json", "{}");
    // An empty file is an empty program: valid, with empty results.
    let out = onramp(&["eval", &empty, "--profile", &profile, "--now", NOW]);
    assert_ok(&out);
    let result: Json = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        result,
        json!({"segments": {}, "decisions": {}, "experiments": {}, "actions": [], "errors": []})
    );
    // An empty directory, and one holding no `.ramp` file, are errors.
    let none = dir.join("none");
    std::fs::create_dir_all(&none).unwrap();
    let other = dir.join("other");
    std::fs::create_dir_all(&other).unwrap();
    write(&other, "README.md", "# rules\n");
    write(&other, "rules.json", "{}");
    write(&other, "rules.ramp.bak", "segment a = \n");
    for d in [&none, &other] {
        let d = d.to_str().unwrap();
        for out in [
            onramp(&["check", d]),
            onramp(&["eval", d, "--profile", &profile, "--now", NOW]),
        ] {
            assert_fails(&out, &[d, "no .ramp files in this directory"]);
        }
    }
    // Next to a `.ramp` file, other files are ignored.
    write(&other, "a.ramp", "segment a = true\n");
    let out = onramp(&[
        "eval",
        other.to_str().unwrap(),
        "--profile",
        &profile,
        "--now",
        NOW,
    ]);
    assert_ok(&out);
    // An empty profile file is not JSON.
    let empty_profile = write(&dir, "empty.json", "");
    let out = onramp(&["eval", &empty, "--profile", &empty_profile, "--now", NOW]);
    assert_fails(&out, &["empty.json is not valid JSON", "line 1 column 0"]);
    // An empty NDJSON file has no lines: no output, success.
    let out = onramp(&["eval", &empty, "--profiles", &empty_profile, "--now", NOW]);
    assert_ok(&out);
    assert_eq!(out.stdout, "");
}

#[test]
fn unreadable_files() {
    let dir = scratch("unreadable");
    let profile = write(&dir, "p.json", "{}");
    // A missing path.
    let missing = dir.join("missing.ramp");
    let missing = missing.to_str().unwrap();
    assert_fails(&onramp(&["check", missing]), &["missing.ramp: cannot read"]);
    // A `.ramp` entry that cannot be read (a dangling link: unreadable even
    // to root), next to a good file.
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    write(&rules, "good.ramp", "segment a = true\n");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(dir.join("nowhere"), rules.join("broken.ramp")).unwrap();
        let out = onramp(&["check", rules.to_str().unwrap()]);
        assert_fails(&out, &["broken.ramp: cannot read the file"]);
        // Without permission (only meaningful when not running as root).
        use std::os::unix::fs::PermissionsExt;
        let locked = write(&dir, "locked.ramp", "segment a = true\n");
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::read(&locked).is_err() {
            assert_fails(
                &onramp(&["check", &locked]),
                &["locked.ramp: cannot read the file"],
            );
        }
        let _ = std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o644));
        // A FIFO named like a rule file is not one: skipped, where reading
        // it would wait for a writer forever.
        let piped = dir.join("piped");
        std::fs::create_dir_all(&piped).unwrap();
        write(&piped, "good.ramp", "segment a = true\n");
        let made = std::process::Command::new("mkfifo")
            .arg(piped.join("pipe.ramp"))
            .status();
        if made.is_ok_and(|s| s.success()) {
            assert_ok(&onramp(&["check", piped.to_str().unwrap()]));
        }
    }
    // Missing profile files.
    let good = rules.join("good.ramp");
    let good = good.to_str().unwrap();
    let nope = dir.join("nope.json");
    let nope = nope.to_str().unwrap();
    assert_fails(
        &onramp(&["eval", good, "--profile", nope, "--now", NOW]),
        &["cannot read profile", "nope.json"],
    );
    assert_fails(
        &onramp(&["eval", good, "--profiles", nope, "--now", NOW]),
        &["cannot read", "nope.json"],
    );
    // A directory given as a profile.
    assert_fails(
        &onramp(&[
            "eval",
            good,
            "--profile",
            dir.to_str().unwrap(),
            "--now",
            NOW,
        ]),
        &["cannot read profile"],
    );
    let _ = profile;
}

// ---------------------------------------------------------------------------
// Bad input matrix: profiles
// ---------------------------------------------------------------------------

const PROFILE_RULES: &str = "schema {
  user.age: int?
  user.score: float?
  user.signup_at: time?
  user.meta: map?
}
decision age { else => user.age }
decision score { else => user.score }
decision signup { else => user.signup_at }
decision meta { else => user.meta }
";

#[test]
fn bad_ndjson_lines_are_reported_and_the_rest_evaluated_in_order() {
    let dir = scratch("ndjson");
    let rules = write(&dir, "r.ramp", PROFILE_RULES);
    let deep_read = format!(
        "{{\"user\":{{\"meta\":{{\"x\":{}{}}}}}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let deep_unread = format!(
        "{{\"user\":{{\"age\":7}},\"other\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    // (line, what to expect: Ok(age) for an evaluated line with no errors,
    // Err(needle) for an error record or a result error).
    let lines: Vec<(Vec<u8>, Result<Json, &str>)> = vec![
        (br#"{"user":{"age":1}}"#.to_vec(), Ok(json!(1))),
        (
            br#"{"user":{"age":1e400}}"#.to_vec(),
            Err("not valid JSON: number out of range at line 1 column"),
        ),
        (
            br#"{"user":{"age":9223372036854775808}}"#.to_vec(),
            Err("profile field `user.age` should be an int, but it is a float"),
        ),
        // §14 makes `-0` an int; serde_json reads it as the float -0.0,
        // so an `int` field rejects it (reported as a known deviation).
        (
            br#"{"user":{"age":-0}}"#.to_vec(),
            Err("profile field `user.age` should be an int, but it is a float"),
        ),
        (
            br#"{"user":{"score":NaN}}"#.to_vec(),
            Err("not valid JSON: expected value at line 1 column 18"),
        ),
        (
            br#"{"user":{"score":Infinity}}"#.to_vec(),
            Err("not valid JSON: expected value at line 1 column 18"),
        ),
        // Duplicate keys: the last occurrence wins, at every level.
        (
            br#"{"user":{"age":20},"user":{"age":10}}"#.to_vec(),
            Ok(json!(10)),
        ),
        (br#"{"user":{"age":20,"age":30}}"#.to_vec(), Ok(json!(30))),
        (
            deep_read.into_bytes(),
            Err("recursion limit exceeded at line 1 column"),
        ),
        // Deep data the program does not read is skipped, not refused.
        (deep_unread.into_bytes(), Ok(json!(7))),
        (
            br#"{"user":{"signup_at":"10000-01-01T00:00:00Z"}}"#.to_vec(),
            Err("`user.signup_at` should be a time, but the string is not RFC 3339"),
        ),
        (
            br#"{"user":{"signup_at":"2026-02-30T00:00:00Z"}}"#.to_vec(),
            Err("`user.signup_at` should be a time, but the string is not RFC 3339"),
        ),
        (
            b"{\"user\":{\"age\":\"\xff\"}}".to_vec(),
            Err("not valid UTF-8"),
        ),
        (
            b"[1]".to_vec(),
            Err("must be a JSON object, but this is a list"),
        ),
        (br#"{"user":{"age":1}"#.to_vec(), Err("EOF while parsing")),
        (b"\0".to_vec(), Err("not valid JSON")),
        (br#"{"user":{"age":2}}"#.to_vec(), Ok(json!(2))),
    ];
    let mut input = Vec::new();
    for (l, _) in &lines {
        input.extend_from_slice(l);
        input.extend_from_slice(b"\r\n");
    }
    let ndjson = write(&dir, "p.ndjson", &input);
    let out = onramp(&["eval", &rules, "--profiles", &ndjson, "--now", NOW]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    let results: Vec<Json> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(results.len(), lines.len(), "{}", out.stdout);
    for (i, ((_, want), got)) in lines.iter().zip(&results).enumerate() {
        let n = i + 1;
        match want {
            Ok(age) => {
                assert_eq!(&got["decisions"]["age"], age, "line {n}: {got}");
                assert_eq!(got["errors"], json!([]), "line {n}: {got}");
            }
            Err(needle) => {
                let text = got.to_string();
                assert!(text.contains(needle), "line {n}: want {needle:?} in {text}");
                if got.get("line").is_some() {
                    // An unreadable line names its number.
                    assert_eq!(got["line"], json!(n), "{text}");
                } else {
                    // A data error names the rule, the place and the path.
                    let e = &got["errors"][0];
                    assert!(e["at"].as_str().unwrap().starts_with(&rules), "{text}");
                    assert!(e["path"].is_string(), "{text}");
                }
            }
        }
    }
    // Negative zero as a float, and epoch milliseconds at the end of i64:
    // outside years 0000–9999, a data error naming the field (the line is
    // still evaluated, so the run exits 1 with every result written).
    let extra = write(
        &dir,
        "extra.ndjson",
        "{\"user\":{\"score\":-0}}\n{\"user\":{\"signup_at\":9223372036854775807}}\n",
    );
    let out = onramp(&["eval", &rules, "--profiles", &extra, "--now", NOW]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let r: Vec<Json> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(r[0]["decisions"]["score"], json!(-0.0));
    assert_eq!(r[1]["decisions"]["signup"], Json::Null);
    assert_eq!(r[1]["errors"][0]["path"], "user.signup_at");
    assert!(r[1]["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("outside years 0000"));
}

#[test]
fn bad_profile_files_fail_with_the_json_position() {
    let dir = scratch("profile");
    let rules = write(&dir, "r.ramp", PROFILE_RULES);
    let cases: [(&str, String, &str); 5] = [
        (
            "big.json",
            r#"{"user":{"age":1e400}}"#.into(),
            "number out of range at line 1 column 20",
        ),
        (
            "nan.json",
            r#"{"user":{"score":NaN}}"#.into(),
            "expected value at line 1 column 18",
        ),
        (
            "inf.json",
            r#"{"user":{"score":-Infinity}}"#.into(),
            "line 1 column 19",
        ),
        (
            "deep.json",
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
            "recursion limit exceeded at line 1 column 128",
        ),
        (
            "list.json",
            "[]".into(),
            "a profile must be a JSON object, but this is a list",
        ),
    ];
    for (name, text, needle) in cases {
        let p = write(&dir, name, text);
        let out = onramp(&["eval", &rules, "--profile", &p, "--now", NOW]);
        assert_fails(&out, &[name, needle]);
    }
    // Duplicate keys: the last wins, as in `--profiles`.
    let p = write(&dir, "dup.json", r#"{"user":{"age":20},"user":{"age":10}}"#);
    let out = onramp(&["eval", &rules, "--profile", &p, "--now", NOW]);
    assert_ok(&out);
    assert!(out.stdout.contains("\"age\": 10"), "{}", out.stdout);
}

#[test]
fn deep_json_on_a_small_stack() {
    on_small_stack(|| {
        // Untyped data that is read: the nesting limit, as a data error.
        let p = Program::compile("decision d { else => len(user.meta) }\n").unwrap();
        let mut text = String::from("{\"user\":{\"meta\":");
        text.push_str(&"[".repeat(100_000));
        text.push_str(&"]".repeat(100_000));
        text.push_str("}}");
        let mut ev = p.evaluator();
        let r = ev.evaluate_str(&text, &Context::at_millis(NOW_MS));
        assert!(
            matches!(&r, Err(onramp::EvalError::Json(m)) if m.contains("recursion limit")),
            "{r:?}"
        );
        // Within serde_json's limit but over the engine's (set lower).
        let engine = Engine::new().with_limits(Limits {
            max_nesting_depth: 20,
            ..Limits::default()
        });
        let p = engine
            .compile("decision d { else => len(user.meta) }\n")
            .unwrap();
        let text = format!(
            "{{\"user\":{{\"meta\":{}{}}}}}",
            "[".repeat(50),
            "]".repeat(50)
        );
        let r = eval_one(&p, &text);
        let msg = r["errors"][0]["message"].as_str().unwrap();
        assert!(msg.contains("nests deeper than the limit of 20"), "{r}");
        assert_eq!(r["errors"][0]["path"], json!("user.meta"));
        // The same through a `serde_json::Value`.
        let value: Json = serde_json::from_str(&text).unwrap();
        let r = p
            .evaluate(&value, &Context::at_millis(NOW_MS))
            .unwrap()
            .to_json();
        assert!(
            r["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("nests deeper than the limit of 20"),
            "{r}"
        );
        // Deep data the program does not read is skipped without recursion.
        let text = format!(
            "{{\"user\":{{\"age\":3}},\"x\":{}{}}}",
            "[".repeat(1_000_000),
            "]".repeat(1_000_000)
        );
        let p = Program::compile("decision d { else => user.age }\n").unwrap();
        assert_eq!(eval_one(&p, &text)["decisions"]["d"], json!(3));
    });
}

// ---------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------

#[test]
fn deep_nesting_in_rules_on_a_small_stack() {
    on_small_stack(|| {
        let engine = Engine::new();
        let n = 100_000;
        let parens = format!("segment a = {}true{}\n", "(".repeat(n), ")".repeat(n));
        let lists = format!("let a = {}{}\n", "[".repeat(n), "]".repeat(n));
        let nots = format!("segment a = {}true\n", "not ".repeat(n));
        let ifs = format!(
            "segment a = {}true{}\n",
            "if true then ".repeat(n),
            " else false".repeat(n)
        );
        let chain = format!("segment a = user.x{}\n", " + 1".repeat(n));
        let interp = format!(
            "decision a {{ else => {}x{} }}\n",
            "\"{".repeat(n),
            "}\"".repeat(n)
        );
        for src in [&parens, &lists, &nots, &ifs, &chain, &interp] {
            let msg = compile_error(&engine, src);
            assert!(
                msg.contains("nesting too deep") || msg.contains("nested too deeply"),
                "{}",
                &msg[..msg.len().min(500)]
            );
            assert!(msg.contains("<input>:1:"), "{}", &msg[..msg.len().min(500)]);
            // fmt refuses it the same way.
            assert!(onramp::fmt::format_source(src).is_err());
        }
        // Nesting within the default limit compiles and runs here too.
        let ok = format!(
            "let a = {}user.x{}\nsegment b = {}user.y{} == null\n",
            "[".repeat(100),
            "]".repeat(100),
            "(".repeat(100),
            ")".repeat(100)
        );
        let p = engine.compile(&ok).unwrap();
        let r = eval_one(&p, "{\"user\":{\"x\":1}}");
        assert_eq!(r["segments"]["b"], json!(true), "{r}");
    });
}

#[test]
fn nesting_limit_is_configurable() {
    let engine = Engine::new().with_limits(Limits {
        max_nesting_depth: 10,
        ..Limits::default()
    });
    let nested = |n: usize| format!("let a = {}1{}\n", "[".repeat(n), "]".repeat(n));
    assert!(engine.compile(&nested(5)).is_ok());
    let msg = compile_error(&engine, &nested(11));
    assert!(msg.contains("(limit 10)"), "{msg}");
}

#[test]
fn source_size_limit() {
    let engine = Engine::new().with_limits(Limits {
        max_source_bytes: 100,
        ..Limits::default()
    });
    let src = format!("segment a = true\n{}\n", "# padding\n".repeat(20));
    let msg = compile_error(&engine, &src);
    assert!(msg.contains("file too large"), "{msg}");
    assert!(msg.contains("limit 100"), "{msg}");
    assert!(msg.contains("<input>:1:1"), "{msg}");
    // The default limit (8 MiB) through the command line.
    let dir = scratch("size");
    let big = "# a comment line of padding\n".repeat((9 << 20) / 28);
    let path = write(&dir, "big.ramp", format!("segment a = true\n{big}"));
    assert_fails(
        &onramp(&["check", &path]),
        &["big.ramp:1:1", "file too large"],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn item_count_limit() {
    let engine = Engine::new().with_limits(Limits {
        max_items: 3,
        ..Limits::default()
    });
    let src: String = (0..4).map(|i| format!("segment s{i} = true\n")).collect();
    let msg = compile_error(&engine, &src);
    assert!(
        msg.contains("the program has 4 items, more than the limit of 3"),
        "{msg}"
    );
    let src: String = (0..3).map(|i| format!("segment s{i} = true\n")).collect();
    assert!(engine.compile(&src).is_ok());
}

#[test]
fn string_and_list_limits_in_profiles() {
    let engine = Engine::new().with_limits(Limits {
        max_string_bytes: 8,
        max_list_len: 3,
        ..Limits::default()
    });
    for schema in [
        "",
        "schema {\n user.name: string?\n user.tags: list<string>?\n}\n",
    ] {
        let p = engine
            .compile(&format!(
                "{schema}decision s {{ else => user.name }}\ndecision l {{ else => len(user.tags) }}\n"
            ))
            .unwrap();
        let text = r#"{"user":{"name":"123456789","tags":["a","b","c","d"]}}"#;
        let value: Json = serde_json::from_str(text).unwrap();
        let from_value = p
            .evaluate(&value, &Context::at_millis(NOW_MS))
            .unwrap()
            .to_json();
        for r in [eval_one(&p, text), from_value] {
            let errors = r["errors"].as_array().unwrap();
            assert_eq!(errors.len(), 2, "{r}");
            assert_eq!(errors[0]["path"], json!("user.name"), "{r}");
            assert!(errors[0]["message"]
                .as_str()
                .unwrap()
                .contains("is a string of 9 bytes, more than the limit of 8"));
            assert_eq!(errors[1]["path"], json!("user.tags"), "{r}");
            assert!(errors[1]["message"]
                .as_str()
                .unwrap()
                .contains("has 4 elements, more than the limit of 3"));
            assert_eq!(r["decisions"]["s"], Json::Null);
        }
        // At the limits: fine.
        let r = eval_one(&p, r#"{"user":{"name":"12345678","tags":["a","b","c"]}}"#);
        assert_eq!(r["errors"], json!([]), "{r}");
        assert_eq!(r["decisions"]["l"], json!(3));
    }
}

#[test]
fn regex_size_limit() {
    let msg = compile_error(
        &Engine::new(),
        "segment a = user.x matches \"\\w{1000}{1000}\"\n",
    );
    assert!(msg.contains("invalid regex pattern"), "{msg}");
    assert!(msg.contains("too large"), "{msg}");
    assert!(msg.contains("<input>:1:28"), "{msg}");
    let engine = Engine::new().with_limits(Limits {
        max_regex_bytes: 1_000,
        ..Limits::default()
    });
    let msg = compile_error(&engine, "segment a = user.x matches \"[a-z]{500}\"\n");
    assert!(
        msg.contains("too large (limit 1000 bytes compiled)"),
        "{msg}"
    );
    assert!(engine
        .compile("segment a = user.x matches \"^[a-z]+$\"\n")
        .is_ok());
}

#[test]
fn ten_million_elements_stop_at_the_step_budget() {
    // The list limit is raised so that the data binds; the step budget is
    // the default (10,000,000), which one pass over the list exceeds.
    let engine = Engine::new().with_limits(Limits {
        max_list_len: 20_000_000,
        ..Limits::default()
    });
    let p = engine
        .compile(
            "schema { xs: list<int> }\n\
             segment big = sum(xs) > 0\n\
             segment after = true\n",
        )
        .unwrap();
    let n = 10_000_000;
    let mut text = String::with_capacity(2 * n + 16);
    text.push_str("{\"xs\":[");
    for _ in 0..n - 1 {
        text.push_str("1,");
    }
    text.push_str("1]}");
    let mut ev = p.evaluator();
    ev.bind_str(&text).unwrap();
    drop(text);
    let start = Instant::now();
    ev.run(&Context::at_millis(NOW_MS));
    let elapsed = start.elapsed();
    let r = ev.result().to_json();
    assert_eq!(r["segments"]["big"], json!(false), "{r}");
    assert_eq!(r["segments"]["after"], json!(false), "{r}");
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("step budget exhausted"),
        "{r}"
    );
    assert!(ev.steps_used() <= Limits::default().max_steps + 1);
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
    // A host's smaller budget stops it at once.
    let start = Instant::now();
    ev.run(&Context::at_millis(NOW_MS).with_step_budget(1_000));
    assert!(ev.steps_used() <= 1_001);
    assert!(start.elapsed() < Duration::from_secs(1));
    assert_eq!(ev.error_count(), 2);
}

// ---------------------------------------------------------------------------
// Concurrency and determinism
// ---------------------------------------------------------------------------

fn rules_program() -> Program {
    Program::load(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")).expect("rules/ compiles")
}

#[test]
fn one_program_on_eight_threads_matches_sequential_evaluation() {
    const N: usize = 10_000;
    const THREADS: usize = 8;
    let program = rules_program();
    let profiles: Vec<Json> = onramp::population::generate(N as u64, 42, NOW_MS).collect();
    let texts: Vec<String> = profiles.iter().map(Json::to_string).collect();
    let ctx = Context::at_millis(NOW_MS);
    let sequential: Vec<String> = {
        let mut ev = program.evaluator();
        profiles
            .iter()
            .map(|p| {
                ev.evaluate(p, &ctx).unwrap();
                let mut s = String::new();
                ev.write_result_json(&mut s);
                s
            })
            .collect()
    };
    let mismatches: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (program, profiles, texts, sequential, ctx) =
                    (&program, &profiles, &texts, &sequential, &ctx);
                scope.spawn(move || {
                    let mut ev = program.evaluator();
                    let mut bad = 0;
                    // Each thread starts elsewhere, so that different
                    // profiles are in flight at once; each uses another
                    // entry point.
                    for k in 0..N {
                        let i = (k + t * N / THREADS) % N;
                        let got = match t % 3 {
                            0 => program
                                .evaluate(&profiles[i], ctx)
                                .unwrap()
                                .to_json()
                                .to_string(),
                            1 => {
                                ev.evaluate(&profiles[i], ctx).unwrap();
                                let mut s = String::new();
                                ev.write_result_json(&mut s);
                                s
                            }
                            _ => {
                                ev.evaluate_str(&texts[i], ctx).unwrap();
                                let mut s = String::new();
                                ev.write_result_json(&mut s);
                                s
                            }
                        };
                        if got != sequential[i] {
                            bad += 1;
                        }
                    }
                    bad
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(mismatches, 0);
}

#[test]
fn eval_output_is_byte_identical_across_runs_and_thread_counts() {
    let dir = scratch("determinism");
    let mut ndjson = Vec::new();
    onramp::population::write_ndjson(&mut ndjson, 3_000, 9, NOW_MS).unwrap();
    // Lines with maps whose keys are not in sorted order, and bad lines.
    for _ in 0..50 {
        ndjson.extend_from_slice(
            b"{\"user\":{\"id\":\"u-9\",\"meta\":{\"zeta\":1,\"alpha\":{\"y\":2,\"b\":3},\"mid\":[{\"k\":1,\"a\":2}]}}}\nnot json\n",
        );
    }
    let profiles = write(&dir, "p.ndjson", &ndjson);
    let maps = write(
        &dir,
        "maps.ramp",
        "decision m { else => { zeta: 1, alpha: user.meta, mid: [user.id, \"x\"] } }\n\
         decision raw { else => user.meta }\n",
    );
    let whole = write(
        &dir,
        "whole.ramp",
        "decision p { else => profile[\"user\"] }\n",
    );
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let rules = rules.to_str().unwrap();
    for program in [rules, &maps, &whole] {
        let run = |threads: &str| {
            let out = onramp_env(
                &["eval", program, "--profiles", &profiles, "--now", NOW],
                None,
                &[("RAYON_NUM_THREADS", threads)],
            );
            assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
            assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
            out.stdout
        };
        let one = run("1");
        let two = run("2");
        let again = run("2");
        assert_eq!(one.lines().count(), 3_100);
        assert!(one == two, "{program}: 1 and 2 threads differ");
        assert!(two == again, "{program}: two runs differ");
    }
    // Key order: as written in the rule, and as in the data.
    let out = onramp(&["eval", &maps, "--profiles", &profiles, "--now", NOW]);
    let line = out.stdout.lines().nth(3_000).unwrap();
    assert!(
        line.contains(
            r#""m":{"zeta":1,"alpha":{"zeta":1,"alpha":{"y":2,"b":3},"mid":[{"k":1,"a":2}]},"mid":["u-9","x"]}"#
        ),
        "{line}"
    );
    let out = onramp(&["eval", &whole, "--profiles", &profiles, "--now", NOW]);
    let line = out.stdout.lines().nth(3_000).unwrap();
    assert!(
        line.contains(r#""meta":{"zeta":1,"alpha":{"y":2,"b":3},"mid":[{"k":1,"a":2}]}"#),
        "{line}"
    );
}
