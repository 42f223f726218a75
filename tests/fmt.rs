//! `onramp fmt`: the layout of a messy file (snapshot), and the three
//! promises of the formatter on every rule file we have and on generated
//! programs: it is idempotent, it keeps every comment in order, and the
//! program compiles to the same bytecode before and after.

use std::path::{Path, PathBuf};
use std::process::Command;

use onramp::fmt::{comments, format_source};
use onramp::{Engine, Program, SourceMap};
use proptest::prelude::*;

// ------------------------------------------------------------ helpers

/// Everything of a program's bytecode but source positions.
fn fingerprint(p: &Program) -> String {
    let bc = p.bytecode();
    let chunks: Vec<_> = bc.chunk_refs().map(|c| (c.code, c.costs)).collect();
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        bc.consts, bc.key_lists, chunks, bc.rules, bc.triggers, bc.tests
    )
}

/// Compiles files (name, text) as one program.
fn compile(files: &[(String, String)]) -> Option<Program> {
    let mut sources = SourceMap::new();
    for (name, text) in files {
        sources.add(name.clone(), text.clone());
    }
    Engine::new().compile_sources(sources).ok()
}

fn comment_texts(text: &str) -> Vec<String> {
    comments(text)
        .unwrap_or_else(|d| panic!("{d:?}"))
        .into_iter()
        .map(|c| c.text)
        .collect()
}

/// Formats, checks idempotency and comments, returns the formatted text.
fn format_checked(name: &str, text: &str) -> String {
    let out = format_source(text).unwrap_or_else(|d| panic!("{name}: {d:?}"));
    let again = format_source(&out).unwrap_or_else(|d| panic!("{name} (formatted): {d:?}"));
    assert_eq!(again, out, "{name}: formatting is not idempotent");
    assert_eq!(
        comment_texts(&out),
        comment_texts(text),
        "{name}: comments changed"
    );
    out
}

/// Both versions of a program compile to the same bytecode (when the
/// original compiles at all).
fn assert_same_meaning(
    name: &str,
    before: &[(String, String)],
    after: &[(String, String)],
) -> bool {
    let Some(original) = compile(before) else {
        return false;
    };
    let formatted = compile(after)
        .unwrap_or_else(|| panic!("{name}: the formatted program no longer compiles"));
    assert_eq!(
        fingerprint(&formatted),
        fingerprint(&original),
        "{name}: formatting changed the bytecode"
    );
    true
}

fn ramp_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "ramp"))
            .collect();
    files.sort();
    files
}

fn read(path: &Path) -> (String, String) {
    (
        path.display().to_string(),
        std::fs::read_to_string(path).unwrap(),
    )
}

// ------------------------------------------------------------ layout

#[test]
fn a_messy_file_in_the_canonical_layout() {
    let (name, text) =
        read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/fmt/messy.ramp"));
    let out = format_checked(&name, &text);
    assert!(
        assert_same_meaning(
            &name,
            &[(name.clone(), text.clone())],
            &[(name.clone(), out.clone())]
        ),
        "messy.ramp should compile"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn small_layout_rules() {
    let cases = [
        // Spacing, and literals kept as written.
        ("let   x=1_000+0.50*2", "let x = 1_000 + 0.50 * 2\n"),
        // Minimal parentheses, but the ones that matter stay.
        ("let x = ((a + b)) * (c)", "let x = (a + b) * c\n"),
        ("let x = a - (b - c)", "let x = a - (b - c)\n"),
        ("let x = (a < b) == c", "let x = (a < b) == c\n"),
        ("let x = not (a and b)", "let x = not (a and b)\n"),
        ("let x = (not a) == b", "let x = (not a) == b\n"),
        ("let x = -(5)", "let x = -(5)\n"),
        ("let x = - 5", "let x = -5\n"),
        ("let x = (-5).abs", "let x = (-5).abs\n"),
        (
            "let x = count((events where .a))",
            "let x = count(events where .a)\n",
        ),
        (
            "let x = (xs where .a) == ys",
            "let x = (xs where .a) == ys\n",
        ),
        (
            "let x = 1 + if a then 1 else 2",
            "let x = 1 + (if a then 1 else 2)\n",
        ),
        ("let x = t within (next)", "let x = t within (next)\n"),
        (
            "let x = a between (b ?? 1) and c + 1",
            "let x = a between (b ?? 1) and c + 1\n",
        ),
        // Strings: canonical escapes; a hole starting with `{` keeps its space.
        (
            "let s = \"a\\u{9}b{{c}}\\u{41}\"",
            "let s = \"a\\tb{{c}}A\"\n",
        ),
        ("let s = \"{ {k: 1}.k }\"", "let s = \"{ { k: 1 }.k}\"\n"),
        (
            "let s = \"# not a comment {x # a comment\n}\"",
            "let s = \"# not a comment {x  # a comment\n}\"\n",
        ),
        // Blank lines: one-line items of a kind stay together.
        (
            "let a = 1\nlet b = 2\nsegment c = a\n\n\n\nsegment d = b",
            "let a = 1\nlet b = 2\n\nsegment c = a\n\nsegment d = b\n",
        ),
        // A bracket the source broke stays broken and hugs its rule.
        ("let xs = [\n1, 2]", "let xs = [\n  1,\n  2\n]\n"),
        // Comments: trailing ones are aligned, leading ones keep their line.
        (
            "schema {\n  a: int # one\n  bb: int     # two\n\n\n  # three\n  c: int\n}",
            "schema {\n  a: int   # one\n  bb: int  # two\n\n  # three\n  c: int\n}\n",
        ),
        ("let a = [1, # one\n 2]", "let a = [\n  1,  # one\n  2\n]\n"),
        ("decision d {}", "decision d {}\n"),
        ("decision d { # why\n}", "decision d {  # why\n}\n"),
    ];
    for (input, want) in cases {
        let out = format_checked(input, input);
        assert_eq!(out, want, "formatting {input:?}");
    }
}

#[test]
fn long_rules_break_where_the_layout_allows() {
    let long = format!(
        "segment s = {}",
        (0..12)
            .map(|i| format!("field_{i} > {i}"))
            .collect::<Vec<_>>()
            .join(" and ")
    );
    let out = format_checked("long", &long);
    assert!(
        out.starts_with("segment s =\n    field_0 > 0\n    and field_1 > 1\n"),
        "{out}"
    );
    assert!(out.lines().all(|l| l.len() <= onramp::fmt::WIDTH), "{out}");

    // A value that fits on a line of its own goes there; one that would not
    // stays after `=>` and breaks inside its brackets instead.
    let branch = |n: usize| {
        let text = format!(
            "decision d {{ when aaaa => {{ flow: \"{}\", steps: [\"x\"] }} else => null }}",
            "f".repeat(n)
        );
        format_checked("branch", &text)
    };
    let out = branch(62);
    assert!(out.contains("  when aaaa\n      => { flow: "), "{out}");
    let out = branch(80);
    assert!(out.contains("  when aaaa => {\n    flow: \"fff"), "{out}");
    assert!(out.contains("\n    steps: [\"x\"]\n  }\n"), "{out}");
}

#[test]
fn a_file_that_does_not_parse_is_reported() {
    let err = format_source("segment s = a and").unwrap_err();
    assert!(err[0].message.contains("needs a condition"), "{err:?}");
}

// ------------------------------------------------------------ corpora

#[test]
fn the_example_rules_format_stably_and_keep_their_meaning() {
    let files: Vec<(String, String)> = ramp_files("rules").iter().map(|p| read(p)).collect();
    assert!(files.len() >= 5);
    let formatted: Vec<(String, String)> = files
        .iter()
        .map(|(n, t)| (n.clone(), format_checked(n, t)))
        .collect();
    assert!(
        assert_same_meaning("rules/", &files, &formatted),
        "rules/ should compile"
    );
}

#[test]
fn every_example_file_formats_stably_and_keeps_its_meaning() {
    let mut formatted = 0;
    let mut compiled = 0;
    for dir in ["tests/cases/syntax/ok", "tests/programs", "tests/cases/fmt"] {
        for path in ramp_files(dir) {
            let (name, text) = read(&path);
            let out = format_checked(&name, &text);
            formatted += 1;
            if assert_same_meaning(&name, &[(name.clone(), text)], &[(name.clone(), out)]) {
                compiled += 1;
            }
        }
    }
    assert!(
        formatted > 40 && compiled > 20,
        "{formatted} formatted, {compiled} compiled"
    );
}

// ------------------------------------------------------------ the command

fn onramp(args: &[&str]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_onramp"))
        .args(args)
        .output()
        .expect("run onramp");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("onramp-fmt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn fmt_check_lists_files_that_would_change_and_fmt_rewrites_them() {
    let dir = temp_dir("check");
    let messy = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/fmt/messy.ramp"),
    )
    .unwrap();
    let tidy = format_source(&messy).unwrap();
    std::fs::write(dir.join("messy.ramp"), &messy).unwrap();
    std::fs::write(dir.join("tidy.ramp"), &tidy).unwrap();
    let d = dir.to_str().unwrap();

    let (stdout, _, code) = onramp(&["fmt", "--check", d]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("messy.ramp"), "{stdout}");
    assert!(!stdout.contains("tidy.ramp"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(dir.join("messy.ramp")).unwrap(),
        messy,
        "--check wrote"
    );

    let (stdout, stderr, code) = onramp(&["fmt", d]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.join("messy.ramp")).unwrap(),
        tidy
    );

    let (stdout, _, code) = onramp(&["fmt", "--check", d]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.is_empty(), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fmt_reports_files_that_do_not_parse_and_formats_the_others() {
    let dir = temp_dir("broken");
    std::fs::write(dir.join("a_broken.ramp"), "segment s = a and\n").unwrap();
    std::fs::write(dir.join("b_fine.ramp"), "let   x=1\n").unwrap();
    let (_, stderr, code) = onramp(&["fmt", dir.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(stderr.contains("a_broken.ramp"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.join("a_broken.ramp")).unwrap(),
        "segment s = a and\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("b_fine.ramp")).unwrap(),
        "let x = 1\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// ------------------------------------------------------------ generated programs

/// An expression tree rendered with whatever parentheses the generator
/// chose: some trees then parse differently from how they were built (or
/// not at all), which is fine — the formatter must keep what the parser
/// read.
#[derive(Clone, Debug)]
enum E {
    Leaf(&'static str),
    Paren(Box<E>),
    Unary(&'static str, Box<E>),
    Binary(&'static str, Box<E>, Box<E>),
    Postfix(&'static str, Box<E>),
    Between(Box<E>, Box<E>, Box<E>),
    Within(Box<E>, &'static str, Option<Box<E>>),
    If(Box<E>, Box<E>, Box<E>),
    Call(&'static str, Vec<E>),
    Where(&'static str, &'static str),
    List(Vec<E>),
    Map(Vec<E>),
    Str(Box<E>),
}

const FIELDS: &[&str] = &[
    "a",
    "b",
    "score",
    "user.age",
    "user.name",
    "tags",
    "user.signup_at",
];
const LITERALS: &[&str] = &[
    "1",
    "1_000",
    "-3",
    "0.50",
    "50%",
    "2.5e3",
    "\"x\"",
    "\"a\\\"b # c\"",
    "\"{{lit}}\"",
    "null",
    "24h",
    "90s",
    "@2026-11-20",
    "now",
];
const COND_LEAVES: &[&str] = &["a", "b", "flag", "true", "false", "user.active"];
const COMPARISONS: &[&str] = &[
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "in",
    "not in",
    "starts_with",
    "contains",
];
const ARITHMETIC: &[&str] = &["??", "+", "-", "*", "/", "%"];
const POSTFIX: &[&str] = &["is null", "is not null", "matches \"^#{1}a+\\\"$\""];
const CALLS: &[&str] = &["lower", "abs", "days", "len", "round"];
const CONDITIONS: &[&str] = &[
    ".name == \"x\"",
    ".at within 24h",
    "it > 1",
    ".props.k ?? 0 > 2",
];
const WINDOWS: &[&str] = &["24h", "next 2d", "3d after", "1h before"];

/// Conditions and values, generated together so that each can hold the
/// other (`if c then v else v`, `v == v`).
fn exprs() -> impl Strategy<Value = (E, E)> {
    let value_leaf =
        prop_oneof![3 => prop::sample::select(FIELDS), 1 => prop::sample::select(LITERALS)];
    let leaf =
        (prop::sample::select(COND_LEAVES), value_leaf).prop_map(|(c, v)| (E::Leaf(c), E::Leaf(v)));
    leaf.prop_recursive(4, 32, 3, |inner| {
        let c = || inner.clone().prop_map(|p| Box::new(p.0));
        let v = || inner.clone().prop_map(|p| Box::new(p.1));
        let cond = prop_oneof![
            c().prop_map(E::Paren),
            c().prop_map(|x| E::Unary("not", x)),
            (prop::sample::select(&["and", "or"][..]), c(), c())
                .prop_map(|(o, l, r)| E::Binary(o, l, r)),
            (prop::sample::select(&["and", "or"][..]), c(), c())
                .prop_map(|(o, l, r)| E::Binary(o, l, r)),
            (prop::sample::select(COMPARISONS), v(), v()).prop_map(|(o, l, r)| E::Binary(o, l, r)),
            (prop::sample::select(POSTFIX), v()).prop_map(|(o, x)| E::Postfix(o, x)),
            (v(), v(), v()).prop_map(|(x, l, h)| E::Between(x, l, h)),
            (v(), prop::sample::select(WINDOWS), v()).prop_map(|(x, w, anchor)| {
                let anchored = w.ends_with("after") || w.ends_with("before");
                E::Within(x, w, anchored.then_some(anchor))
            }),
            (c(), c(), c()).prop_map(|(x, t, o)| E::If(x, t, o)),
            prop::sample::select(CONDITIONS).prop_map(|w| E::Where("exists", w)),
        ];
        let value = prop_oneof![
            v().prop_map(E::Paren),
            v().prop_map(|x| E::Unary("-", x)),
            (prop::sample::select(ARITHMETIC), v(), v()).prop_map(|(o, l, r)| E::Binary(o, l, r)),
            (prop::sample::select(ARITHMETIC), v(), v()).prop_map(|(o, l, r)| E::Binary(o, l, r)),
            (c(), v(), v()).prop_map(|(x, t, o)| E::If(x, t, o)),
            (prop::sample::select(CALLS), v()).prop_map(|(f, x)| E::Call(f, vec![*x])),
            (v(), v()).prop_map(|(a, b)| E::Call("max", vec![*a, *b])),
            prop::sample::select(CONDITIONS).prop_map(|w| E::Where("count", w)),
            prop::collection::vec(inner.clone().prop_map(|p| p.1), 0..4).prop_map(E::List),
            prop::collection::vec(inner.clone().prop_map(|p| p.1), 0..3).prop_map(E::Map),
            v().prop_map(E::Str),
        ];
        (cond, value)
    })
}

fn cond() -> impl Strategy<Value = E> {
    exprs().prop_map(|p| p.0)
}

fn value() -> impl Strategy<Value = E> {
    exprs().prop_map(|p| p.1)
}

/// Renders an expression as tokens; `sep` marks a place where whitespace
/// (and comments) may go.
fn tokens(e: &E, out: &mut Vec<String>) {
    let t = |out: &mut Vec<String>, s: &str| out.push(s.to_string());
    match e {
        E::Leaf(s) => t(out, s),
        E::Paren(x) => {
            t(out, "(");
            tokens(x, out);
            t(out, ")");
        }
        E::Unary(op, x) => {
            t(out, op);
            tokens(x, out);
        }
        E::Binary(op, l, r) => {
            tokens(l, out);
            t(out, op);
            tokens(r, out);
        }
        E::Postfix(op, x) => {
            tokens(x, out);
            match op.strip_prefix("matches ") {
                Some(pattern) => {
                    t(out, "matches");
                    t(out, pattern);
                }
                None => op.split(' ').for_each(|w| t(out, w)),
            }
        }
        E::Between(x, l, h) => {
            tokens(x, out);
            t(out, "between");
            tokens(l, out);
            t(out, "and");
            tokens(h, out);
        }
        E::Within(x, w, anchor) => {
            tokens(x, out);
            t(out, "within");
            for word in w.split(' ') {
                t(out, word);
            }
            if let Some(a) = anchor {
                tokens(a, out);
            }
        }
        E::If(c, a, b) => {
            t(out, "if");
            tokens(c, out);
            t(out, "then");
            tokens(a, out);
            t(out, "else");
            tokens(b, out);
        }
        E::Call(f, args) => {
            t(out, f);
            t(out, "(");
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    t(out, ",");
                }
                tokens(a, out);
            }
            t(out, ")");
        }
        E::Where(f, cond) => {
            t(out, f);
            t(out, "(");
            t(out, "events");
            t(out, "where");
            t(out, cond);
            t(out, ")");
        }
        E::List(items) => {
            t(out, "[");
            for (i, a) in items.iter().enumerate() {
                if i > 0 {
                    t(out, ",");
                }
                tokens(a, out);
            }
            t(out, "]");
        }
        E::Map(values) => {
            t(out, "{");
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    t(out, ",");
                }
                t(out, &format!("k{i}"));
                t(out, ":");
                tokens(v, out);
            }
            t(out, "}");
        }
        E::Str(x) => {
            // The hole's tokens are glued with single spaces here; the
            // outer separators never reach inside a string's text.
            let mut inner = Vec::new();
            tokens(x, &mut inner);
            out.push(format!("\"Hi {{ {} }}!\"", inner.join(" ")));
        }
    }
}

#[derive(Clone, Debug)]
enum Item {
    Segment(bool, E),
    Let(E),
    Decision(bool, Vec<(E, E)>, Option<E>),
    Trigger(Option<E>, Vec<E>),
    Experiment(E),
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        (any::<bool>(), cond()).prop_map(|(l, e)| Item::Segment(l, e)),
        prop_oneof![value(), cond()].prop_map(Item::Let),
        (
            any::<bool>(),
            prop::collection::vec((cond(), value()), 0..3),
            prop::option::of(value())
        )
            .prop_map(|(c, b, e)| Item::Decision(c, b, e)),
        (
            prop::option::of(cond()),
            prop::collection::vec(value(), 1..3)
        )
            .prop_map(|(c, a)| Item::Trigger(c, a)),
        cond().prop_map(Item::Experiment),
    ]
}

fn item_tokens(i: usize, item: &Item, out: &mut Vec<String>) {
    let t = |out: &mut Vec<String>, s: &str| out.push(s.to_string());
    match item {
        Item::Segment(label, e) => {
            t(out, "segment");
            t(out, &format!("s{i}"));
            if *label {
                t(out, "\"Label #{i} {x}\"");
            }
            t(out, "=");
            tokens(e, out);
        }
        Item::Let(e) => {
            t(out, "let");
            t(out, &format!("l{i}"));
            t(out, "=");
            tokens(e, out);
        }
        Item::Decision(collect, branches, otherwise) => {
            t(out, "decision");
            t(out, &format!("d{i}"));
            if *collect {
                t(out, "collect");
            }
            t(out, "{");
            for (c, v) in branches {
                t(out, "when");
                tokens(c, out);
                t(out, "=>");
                tokens(v, out);
            }
            if let Some(v) = otherwise {
                t(out, "else");
                t(out, "=>");
                tokens(v, out);
            }
            t(out, "}");
        }
        Item::Trigger(condition, payloads) => {
            t(out, "trigger");
            t(out, &format!("t{i}"));
            t(out, "on");
            t(out, "\"ev#1\"");
            if let Some(c) = condition {
                t(out, "when");
                tokens(c, out);
            }
            t(out, "=>");
            for (k, p) in payloads.iter().enumerate() {
                if k > 0 {
                    t(out, ",");
                }
                t(out, "emit");
                t(out, "\"act\"");
                t(out, "{");
                t(out, "v");
                t(out, ":");
                tokens(p, out);
                t(out, "}");
            }
        }
        Item::Experiment(eligible) => {
            t(out, "experiment");
            t(out, &format!("x{i}"));
            t(out, "{");
            t(out, "unit");
            t(out, "user.id");
            t(out, "salt");
            t(out, "\"s#{1}\"");
            t(out, "eligible");
            tokens(eligible, out);
            t(out, "variants");
            t(out, "{");
            t(out, "a: 50%, b: 50%");
            t(out, "}");
            t(out, "}");
        }
    }
}

/// Whitespace between tokens: spaces, tabs, line breaks and comments.
const SEPARATORS: &[&str] = &[
    " ",
    " ",
    " ",
    "  ",
    "\n",
    "\n  ",
    "\t",
    " # note\n",
    "\n# own line\n",
    "\n\n",
];

fn program() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(item(), 1..5),
        prop::collection::vec(0..SEPARATORS.len(), 400),
    )
        .prop_map(|(items, seps)| {
            let mut toks = Vec::new();
            for (i, it) in items.iter().enumerate() {
                item_tokens(i, it, &mut toks);
            }
            let mut text = String::from("# generated\n");
            for (k, tok) in toks.iter().enumerate() {
                text.push_str(tok);
                // `not in` is one token: only plain spaces inside.
                let sep = if tok == "not" && toks.get(k + 1).is_some_and(|n| n == "in") {
                    " "
                } else {
                    SEPARATORS[seps[k % seps.len()]]
                };
                text.push_str(sep);
            }
            text.push('\n');
            text
        })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 400,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn generated_programs_format_stably_and_keep_their_meaning(text in program()) {
        if onramp::syntax::parse(onramp::FileId(0), &text, &onramp::Limits::default()).is_err() {
            return Ok(());
        }
        let out = format_checked(&text, &text);
        let files = |t: &str| vec![("gen.ramp".to_string(), t.to_string())];
        assert_same_meaning(&text, &files(&text), &files(&out));
    }

    #[test]
    fn any_text_is_formatted_or_reported_without_panicking(
        text in "[a-z \n#\"{}()\\[\\]=<>!?.,:+*/%0-9-]{0,80}"
    ) {
        let _ = format_source(&text);
    }
}

#[test]
fn deeply_nested_input_formats_on_an_ordinary_stack() {
    let depth = 120;
    let cases = [
        format!("let x = {}1{}", "(".repeat(depth), ")".repeat(depth)),
        format!("let x = {}1{}", "[".repeat(depth), "]".repeat(depth)),
        format!("let x = {}1{}", "{ k: ".repeat(depth), " }".repeat(depth)),
        format!("segment x = {}a", "not ".repeat(depth)),
        format!("let x = {}1", "if a then 1 else ".repeat(depth / 2)),
        format!("let x = a{}", " + 1".repeat(depth)),
        format!("let x = {}1{}", "f(".repeat(depth), ")".repeat(depth)),
        format!(
            "let x = {}a{}",
            "\"{".repeat(depth / 2),
            "}\"".repeat(depth / 2)
        ),
        format!(
            "let x = {}a{}",
            "(b or ".repeat(depth / 2),
            ")".repeat(depth / 2)
        ),
    ];
    // The parser accepts all of them (its limit is 128 levels); the
    // formatter recurses over the tree it built.
    for text in cases {
        format_checked("deep", &text);
    }
}
