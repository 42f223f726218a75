//! The hand-written reader (`src/syntax/descent.rs`) against pest.
//!
//! `parse` tries the hand-written reader first and asks pest only where it
//! defers. That is sound only if, whenever the hand-written reader reads a
//! text, pest reads it too, to the very same tree (spans included). These
//! tests hold it to that on:
//! - every rule file in `rules/` and `tests/`;
//! - generated programs (the differential tests' generator);
//! - damaged copies of all of them (bytes cut, doubled, replaced);
//! - expressions, as the REPL and `with` overrides read them.
//!
//! They also pin the speed-up: every file pest reads without a complaint
//! must be read by the hand-written reader, not deferred.

use onramp::limits::Limits;
use onramp::population::Rng;
use onramp::syntax::readers;
use serde_json::{json, Value as Json};
use std::path::{Path, PathBuf};

const NOW: &str = "2026-11-20T12:00:00Z";

/// How a text was read, when the two readers agree.
#[derive(Debug, PartialEq, Eq)]
enum Read {
    /// By the hand-written reader, to pest's tree.
    Descent,
    /// Left to pest, which read it.
    DeferredOk,
    /// Left to pest, which rejected it.
    DeferredErr,
}

fn compare_module(text: &str) -> Result<Read, String> {
    let limits = Limits::default();
    compare(
        text,
        readers::descent(text, &limits),
        readers::pest(text, &limits),
    )
}

fn compare_expression(text: &str) -> Result<Read, String> {
    let limits = Limits::default();
    compare(
        text,
        readers::descent_expression(text, &limits),
        readers::pest_expression(text, &limits),
    )
}

/// How the hand-written reader's reading of `text` (`None`: deferred to
/// pest) stands to pest's, or what differs.
fn compare<T: PartialEq + std::fmt::Debug, E: PartialEq + std::fmt::Debug>(
    text: &str,
    descent: Option<Result<T, E>>,
    pest: Result<T, E>,
) -> Result<Read, String> {
    match (descent, pest) {
        (None, Ok(_)) => Ok(Read::DeferredOk),
        (None, Err(_)) => Ok(Read::DeferredErr),
        (Some(Ok(mine)), Ok(theirs)) if mine == theirs => Ok(Read::Descent),
        (Some(Ok(mine)), Ok(theirs)) => Err(format!(
            "the trees differ\n--- text ---\n{text}\n--- descent ---\n{mine:#?}\n--- pest ---\n{theirs:#?}"
        )),
        (Some(Ok(_)), Err(e)) => Err(format!(
            "the hand-written reader read a text pest rejects\n--- text ---\n{text}\n--- pest ---\n{e:?}"
        )),
        // The shared pre-checks (size, nesting) answered for both.
        (Some(Err(mine)), Err(theirs)) if mine == theirs => Ok(Read::DeferredErr),
        (Some(Err(mine)), theirs) => Err(format!(
            "pre-checks differ\n--- text ---\n{text}\n--- descent ---\n{mine:?}\n--- pest ---\n{theirs:?}"
        )),
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rule_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rule_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "ramp") {
            out.push(path);
        }
    }
}

/// The text of every `.ramp` file in `rules/` and `tests/`.
fn corpus() -> Vec<(PathBuf, String)> {
    let mut paths = Vec::new();
    rule_files(&root().join("rules"), &mut paths);
    rule_files(&root().join("tests"), &mut paths);
    assert!(paths.len() > 100, "found only {} rule files", paths.len());
    paths
        .into_iter()
        .map(|p| {
            let text =
                std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, text)
        })
        .collect()
}

#[test]
fn every_rule_file_reads_the_same_both_ways() {
    let mut deferred_but_fine = Vec::new();
    let mut read = 0;
    for (path, text) in corpus() {
        match compare_module(&text) {
            Err(e) => panic!("{}: {e}", path.display()),
            Ok(Read::Descent) => read += 1,
            Ok(Read::DeferredOk) => deferred_but_fine.push(path),
            Ok(Read::DeferredErr) => {}
        }
    }
    assert!(
        deferred_but_fine.is_empty(),
        "pest reads these without a complaint, but the hand-written reader defers: {deferred_but_fine:?}"
    );
    assert!(
        read > 80,
        "only {read} files read by the hand-written reader"
    );
}

#[test]
fn the_example_rules_are_read_without_pest() {
    let mut paths = Vec::new();
    rule_files(&root().join("rules"), &mut paths);
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            compare_module(&text),
            Ok(Read::Descent),
            "{}",
            path.display()
        );
    }
}

/// Snippets that damage a text in the ways typing does.
const SNIPPETS: &[&str] = &[
    "\"",
    "{",
    "}",
    "{{",
    "}}",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    "=",
    "==",
    "=>",
    "<",
    ">",
    "?",
    "??",
    ".",
    "-",
    "+",
    "*",
    "/",
    "%",
    "#",
    "\\",
    "\n",
    " ",
    "\t",
    "@",
    "_",
    "0",
    "1.5",
    "1e",
    "24h",
    "not",
    "not in",
    "in",
    "is",
    "is not null",
    "and",
    "or",
    "if",
    "then",
    "else",
    "where",
    "as",
    "between",
    "within",
    "within next",
    "after",
    "matches",
    "\"x{y}\"",
    "\"\\u{41}\"",
    "event",
    "now",
    "it",
    "null",
    "list<",
    "|",
    "given",
    "with",
    "emit",
    "when",
    "segment x = ",
    "é",
    "\u{FEFF}",
];

/// `text` with one random edit: a cut, a doubled slice, or a snippet.
fn damage(text: &str, rng: &mut Rng) -> String {
    let cut = |i: usize| {
        let mut i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let len = text.len() as i64;
    let a = cut(rng.range(0, len) as usize);
    let b = cut((a as i64 + rng.range(0, 12)).min(len) as usize);
    match rng.range(0, 2) {
        0 => format!("{}{}", &text[..a], &text[b..]),
        1 => format!("{}{}{}", &text[..b], &text[a..b], &text[b..]),
        _ => {
            let snippet = SNIPPETS[rng.range(0, SNIPPETS.len() as i64 - 1) as usize];
            let end = if rng.chance(0.5) { a } else { b };
            format!("{}{}{}", &text[..a], snippet, &text[end..])
        }
    }
}

/// Damaged copies per file, generated programs: `ONRAMP_DESCENT_ROUNDS=N`
/// multiplies both for a longer search.
fn rounds() -> usize {
    std::env::var("ONRAMP_DESCENT_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

#[test]
fn damaged_rule_files_read_the_same_both_ways() {
    let mut rng = Rng::new(20261129);
    let mut outcomes = [0usize; 3];
    for (path, text) in corpus() {
        for _ in 0..12 * rounds() {
            let mut damaged = damage(&text, &mut rng);
            if rng.chance(0.3) {
                damaged = damage(&damaged, &mut rng);
            }
            match compare_module(&damaged) {
                Err(e) => panic!("damaged {}: {e}", path.display()),
                Ok(read) => outcomes[read as usize] += 1,
            }
        }
    }
    // Most damage breaks the text, but a good share still reads.
    assert!(outcomes[Read::Descent as usize] > 100, "{outcomes:?}");
    assert!(outcomes[Read::DeferredErr as usize] > 100, "{outcomes:?}");
}

// ---------------------------------------------------------------------------
// Generated programs
// ---------------------------------------------------------------------------

struct Tape<'a> {
    rng: &'a mut Rng,
}

impl Tape<'_> {
    fn pick(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.rng.next_u64() % n as u64) as usize
        }
    }
}

include!("support/program_gen.rs");

#[test]
fn generated_programs_read_the_same_both_ways() {
    let mut rng = Rng::new(7);
    let mut read = 0;
    for i in 0..600 * rounds() {
        let mut g = Gen {
            t: Tape { rng: &mut rng },
            schema: i % 2 == 0,
            rules: Vec::new(),
            elem: Elem::None,
            counter: 0,
        };
        let source = g.program(6);
        match compare_module(&source) {
            Err(e) => panic!("{e}"),
            Ok(Read::Descent) => read += 1,
            Ok(Read::DeferredOk) => panic!("deferred a program pest reads:\n{source}"),
            Ok(Read::DeferredErr) => {}
        }
        let damaged = damage(&source, &mut rng);
        if let Err(e) = compare_module(&damaged) {
            panic!("{e}");
        }
    }
    assert!(read > 300, "only {read} generated programs read");
    // The generator's profile and event builders are not needed here.
    let _ = (profile, event, NOW, json!(null), Json::Null);
}

// ---------------------------------------------------------------------------
// Expressions
// ---------------------------------------------------------------------------

const EXPRESSIONS: &[&str] = &[
    "user.age < 30 and behavior.feature_usage > 0.5",
    "-5",
    "-9223372036854775808",
    "--x.y[0]",
    "not a == b and not c or d",
    "if a then b else c ?? d + 1",
    "if a then if b then 1 else 2 else 3",
    "x between 1 + 2 and y * 3 and z",
    "x between -1 and 2",
    "t within 7d",
    "t within next 3d",
    "t within 3d after user.signup_at + 1h",
    "t within 3d before now",
    "t within next",
    "9223372036854775808",
    "name matches \"^a\\\"b\\\\d$\"",
    "x is null or y is not null",
    "a not in [1, 2,]",
    "a not\n in b",
    "a not # c\n in b",
    "events where .name == \"x\"",
    "events as e where e.at > now - 1d",
    "count(events where it.name == \"a\") >= 2",
    "f (x, y)",
    "{ a: 1, \"b c\": [1, 2], null: {} }",
    "\"hi {user.name}, {{braces}} \\u{1F600} \\n\"",
    "\"{ {a: 1}.a }\"",
    "\"}\"",
    "\"\\q\"",
    "1.5e3 + 2E-2 + 50% + 1_000 + 90s + 1.x",
    "5x",
    "1e400",
    "@2026-11-20T12:00:00Z < @2026-11-20",
    "@2026-02-30",
    "a < b < c",
    "a == b is null",
    "(a < b) < c",
    "a.b.c[d][e].f",
    "x ?? y ?? z",
    "a - -b * c / d % e",
    "  # comment\n  a  # trailing\n",
    "\u{FEFF}a",
    "profile.x + event.y + it + now",
    "a as b",
    "segment",
    "",
];

#[test]
fn expressions_read_the_same_both_ways() {
    let mut rng = Rng::new(11);
    for text in EXPRESSIONS {
        compare_expression(text).unwrap_or_else(|e| panic!("{e}"));
        for _ in 0..40 {
            let damaged = damage(text, &mut rng);
            compare_expression(&damaged).unwrap_or_else(|e| panic!("{e}"));
        }
    }
    // The common shapes do not need pest.
    for text in &EXPRESSIONS[..12] {
        assert_eq!(compare_expression(text), Ok(Read::Descent), "{text}");
    }
}
