//! Arbitrary bytes as a profile for the example program in `rules/`:
//! `Evaluator::evaluate_str` on the text and `Program::evaluate` on what
//! serde_json makes of it must never panic or hang, and must agree. When
//! the bytes are a JSON object the VM is also compared with the reference
//! evaluator, and the bytes are tried as the incoming event of a trigger.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onramp::{Context, Evaluator, Program, SourceMap};
use serde_json::Value as Json;
use std::cell::RefCell;
use std::sync::OnceLock;

/// The files of `rules/`, in the sorted path order `Program::load` uses.
const RULES: &[(&str, &str)] = &[
    (
        "rules/decisions.ramp",
        include_str!("../../rules/decisions.ramp"),
    ),
    (
        "rules/experiments.ramp",
        include_str!("../../rules/experiments.ramp"),
    ),
    ("rules/schema.ramp", include_str!("../../rules/schema.ramp")),
    (
        "rules/segments.ramp",
        include_str!("../../rules/segments.ramp"),
    ),
    ("rules/tests.ramp", include_str!("../../rules/tests.ramp")),
    (
        "rules/triggers.ramp",
        include_str!("../../rules/triggers.ramp"),
    ),
];

/// 2026-11-20T12:00:00Z, the instant the example tests use.
const NOW_MS: i64 = 1_795_176_000_000;

fn program() -> &'static Program {
    static PROGRAM: OnceLock<Program> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        let mut sources = SourceMap::new();
        for (name, text) in RULES {
            sources.add(*name, *text);
        }
        onramp::Engine::new()
            .compile_sources(sources)
            .unwrap_or_else(|e| panic!("rules/ does not compile:\n{e}"))
    })
}

thread_local! {
    /// One evaluator for every input of the run: binding reuses the buffers
    /// of earlier profiles (`src/vm/reuse.rs`), so it must answer each
    /// input exactly as a fresh evaluator does.
    static REUSED: RefCell<Option<Evaluator<'static>>> = const { RefCell::new(None) };
}

fuzz_target!(|data: &[u8]| {
    let program = program();
    let ctx = Context::at_millis(NOW_MS);
    let mut evaluator = program.evaluator();
    let text = std::str::from_utf8(data).ok();
    let from_text = text.map(|text| {
        let bound = evaluator
            .evaluate_str(text, &ctx)
            .map(|()| evaluator.result().to_json())
            .map_err(|e| e.to_string());
        let mut out = String::new();
        evaluator.write_result_json(&mut out);
        bound
    });
    if let (Some(text), Some(fresh)) = (text, &from_text) {
        let reused = REUSED.with(|cell| {
            let mut cell = cell.borrow_mut();
            let ev = cell.get_or_insert_with(|| program.evaluator());
            ev.evaluate_str(text, &ctx)
                .map(|()| ev.result().to_json())
                .map_err(|e| e.to_string())
        });
        assert_eq!(&reused, fresh, "a reused evaluator answers differently");
    }
    let Ok(json) = serde_json::from_slice::<Json>(data) else {
        return;
    };
    // The text binder (its own JSON reader) must bind what serde_json's
    // Value binds, errors included.
    if let Some(from_text) = from_text {
        let from_value = program.evaluate(&json, &ctx).map(|r| r.to_json());
        assert_eq!(
            from_text,
            from_value.map_err(|e| e.to_string()),
            "text and Value binding disagree"
        );
    }
    let vm = program.evaluate(&json, &ctx).map(|r| r.to_json());
    let reference = onramp::reference::evaluate(program, &json, &ctx).map(|r| r.to_json());
    assert_eq!(vm, reference, "the VM and the reference evaluator disagree");
    // The same bytes as the incoming event of a trigger.
    let profile = serde_json::json!({"user": {"id": "u-1"}});
    let with_event = ctx.clone().with_event(json);
    let vm = program.evaluate(&profile, &with_event).map(|r| r.to_json());
    let reference =
        onramp::reference::evaluate(program, &profile, &with_event).map(|r| r.to_json());
    assert_eq!(
        vm, reference,
        "the VM and the reference evaluator disagree (event)"
    );
});
