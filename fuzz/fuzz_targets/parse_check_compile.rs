//! Arbitrary bytes as a rule file: parse → check → compile must never
//! panic, overflow the stack or hang, whatever the input. A program that
//! compiles is also run once against an empty profile with a small step
//! budget.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onramp::{Context, Engine, SourceMap};

fuzz_target!(|data: &[u8]| {
    // The CLI rejects invalid UTF-8 before parsing (a diagnostic naming the
    // offset); the library takes `&str`. Lossy conversion keeps every input
    // useful to the parser.
    let text = String::from_utf8_lossy(data);
    let engine = Engine::new();
    let mut sources = SourceMap::new();
    sources.add("fuzz.ramp", text.as_ref());
    let (_, diagnostics) = engine.check_sources(&sources);
    // Rendering diagnostics (ariadne, source excerpts) must not panic either.
    let _ = onramp::diagnostic::render(&diagnostics, &sources, false);
    if let Ok(program) = engine.compile_sources(sources) {
        let ctx = Context::at_millis(1_763_640_000_000).with_step_budget(10_000);
        let _ = program.evaluate(&serde_json::json!({}), &ctx);
    }
});
