//! Stage 1 snapshots: every `tests/cases/syntax/ok/*.ramp` file parses and
//! its AST is pinned as an S-expression; every `err/*.ramp` file fails and
//! its rendered diagnostics (exactly what a user sees, colour off) are pinned.
//! Plus the depth guard, which must answer with a diagnostic on a small stack.

use std::path::Path;

use onramp::diagnostic::render;
use onramp::syntax::{self, sexpr};
use onramp::{Limits, SourceMap};

/// The file's name as shown in diagnostics: stable across machines.
fn display_name(path: &Path) -> String {
    let dir = path
        .parent()
        .and_then(|p| p.file_name())
        .unwrap_or_default();
    let file = path.file_name().unwrap_or_default();
    format!("{}/{}", dir.to_string_lossy(), file.to_string_lossy())
}

#[test]
fn ok_cases() {
    insta::glob!("cases/syntax/ok/*.ramp", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let mut sources = SourceMap::new();
        let file = sources.add(display_name(path), text.clone());
        match syntax::parse(file, &text, &Limits::default()) {
            Ok(module) => insta::assert_snapshot!(sexpr::module_to_sexpr(&module)),
            Err(diags) => panic!(
                "{} should parse:\n{}",
                path.display(),
                render(&diags, &sources, false)
            ),
        }
    });
}

#[test]
fn err_cases() {
    insta::glob!("cases/syntax/err/*.ramp", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let mut sources = SourceMap::new();
        let file = sources.add(display_name(path), text.clone());
        match syntax::parse(file, &text, &Limits::default()) {
            Ok(module) => panic!(
                "{} should not parse, but gave:\n{}",
                path.display(),
                sexpr::module_to_sexpr(&module)
            ),
            Err(diags) => insta::assert_snapshot!(render(&diags, &sources, false)),
        }
    });
}

/// Parses `text` on a thread with a 256 KiB stack and returns the messages.
fn messages_on_small_stack(text: String) -> Vec<String> {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let result = syntax::parse(onramp::FileId(0), &text, &Limits::default());
            let diags = result.expect_err("too deep to parse");
            diags.into_iter().map(|d| d.message).collect::<Vec<_>>()
        })
        .unwrap()
        .join()
        .expect("no stack overflow")
}

#[test]
fn deep_nesting_is_a_diagnostic_not_a_stack_overflow() {
    let n = 100_000;
    let cases = [
        format!("let x = {}1{}", "(".repeat(n), ")".repeat(n)),
        format!("let x = {}1{}", "[".repeat(n), "]".repeat(n)),
        format!("let x = {}1{}", "{a: ".repeat(n), "}".repeat(n)),
        format!("let x = {}1{}", "\"{".repeat(n), "}\"".repeat(n)),
        format!("let x = {}1", "not ".repeat(n)),
        format!("let x = {}1", "- ".repeat(n)),
        format!("let x = {}1", "if a then b else ".repeat(n)),
        format!("let x = {}1", "x == not ".repeat(n)),
        // Flat for pest, deep as a tree (fewer, since pest is slow unoptimised).
        format!("let x = 1{}", " + 1".repeat(n / 10)),
        format!("let x = a{}", " and b".repeat(n / 10)),
        format!("let x = a{}", ".b".repeat(n / 10)),
        format!("schema {{ a: {}int{} }}", "list<".repeat(n), ">".repeat(n)),
        // Unclosed: the guard still answers first.
        "let x = ".to_string() + &"(".repeat(n),
    ];
    for text in cases {
        let head: String = text.chars().take(30).collect();
        let messages = messages_on_small_stack(text);
        assert!(
            messages.iter().any(|m| m.contains("too deep")),
            "{head}…: {messages:?}"
        );
    }
}

#[test]
fn source_size_limit() {
    let limits = Limits {
        max_source_bytes: 10,
        ..Limits::default()
    };
    let err = syntax::parse(onramp::FileId(0), "let x = 12345", &limits).unwrap_err();
    assert!(err[0].message.contains("file too large"), "{err:?}");
}

#[test]
fn parse_expression_accepts_where_and_comments() {
    let limits = Limits::default();
    let e = syntax::parse_expression(
        onramp::FileId(0),
        "  # leading comment\n events as e where .at > e.at  # trailing\n",
        &limits,
    )
    .unwrap();
    assert_eq!(sexpr::expr_to_sexpr(&e), "(where events as e (> .at e.at))");
    assert!(syntax::parse_expression(onramp::FileId(0), "1 2", &limits).is_err());
    assert!(syntax::parse_expression(onramp::FileId(0), "", &limits).is_err());
}
