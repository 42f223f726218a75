//! Structure-aware fuzzing: generated, well-typed programs evaluated
//! against generated profiles.
//!
//! The fuzzer's bytes drive a typed generator (through
//! `arbitrary::Unstructured`) that walks the language's grammar — items,
//! typed expressions, aggregates with their element scopes, decisions,
//! experiments, triggers — and renders source text; the same bytes then
//! build a profile (plausible data with missing fields, nulls and wrong
//! types), an incoming event and a step budget. The generator is the one
//! of `tests/differential.rs`, with `Unstructured` in place of proptest's
//! tape, so libFuzzer's coverage feedback steers it.
//!
//! Oracles, for every compiled program:
//! - the VM and the reference evaluator (`onramp::reference::evaluate`)
//!   give the same §11 document, at the default budget and at a small one;
//! - binding from JSON text (`evaluate_str`) and from a `serde_json::Value`
//!   (`evaluate`) give the same result, and a reused evaluator gives what a
//!   fresh one gives;
//! - `onramp::fmt::format_source` accepts the program, is idempotent, and
//!   the formatted program evaluates to the same values.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use onramp::{Context, Program};
use serde_json::{json, Value as Json};

const NOW: &str = "2026-11-20T12:00:00Z";

fn now_ms() -> i64 {
    onramp::time::parse_time(NOW).unwrap()
}

/// Where generation reads its choices: the fuzzer's bytes, then zeros
/// (choice 0 is always the simplest option).
struct Tape<'a> {
    u: Unstructured<'a>,
}

impl Tape<'_> {
    /// A choice in `0..n`.
    fn pick(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        self.u.choose_index(n).unwrap_or(0)
    }
}

include!("../../tests/support/program_gen.rs");

/// Knobs read before the program.
#[derive(Arbitrary, Debug)]
struct Knobs {
    schema: bool,
    max_rules: u8,
    small_budget: u16,
    force_variant: bool,
}

/// A result without source locations, to compare a program with its
/// formatted self (locations move, values must not).
fn without_locations(mut doc: Json) -> Json {
    if let Some(errors) = doc.get_mut("errors").and_then(Json::as_array_mut) {
        for e in errors {
            if let Some(o) = e.as_object_mut() {
                o.remove("at");
            }
        }
    }
    doc
}

fn check(program: &Program, profile: &Json, ctx: &Context, source: &str) {
    let vm = program.evaluate(profile, ctx).map(|r| r.to_json());
    let reference = onramp::reference::evaluate(program, profile, ctx).map(|r| r.to_json());
    assert_eq!(
        vm, reference,
        "VM and reference disagree\n--- program ---\n{source}\n--- profile ---\n{profile}\n--- context ---\n{ctx:?}"
    );
    // Binding from text must see exactly what binding from a value sees.
    let text = profile.to_string();
    let mut ev = program.evaluator();
    // A different profile first: buffers reused across profiles must not
    // leak into the next result.
    let _ = ev.evaluate(
        &json!({"user": {"id": "u-2", "age": 3}, "tags": ["a"]}),
        ctx,
    );
    ev.evaluate_str(&text, ctx)
        .expect("a generated profile is an object");
    let mut from_text = String::new();
    ev.write_result_json(&mut from_text);
    let from_value = vm.as_ref().map(|j| j.to_string()).unwrap_or_default();
    assert_eq!(
        from_text, from_value,
        "evaluate_str and evaluate disagree\n--- program ---\n{source}\n--- profile ---\n{profile}"
    );
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(knobs) = Knobs::arbitrary(&mut u) else {
        return;
    };
    let mut g = Gen {
        t: Tape { u },
        schema: knobs.schema,
        rules: Vec::new(),
        elem: Elem::None,
        counter: 0,
    };
    let source = g.program(1 + knobs.max_rules as usize % 6);
    let mut t = g.t;
    let Ok(program) = Program::compile(&source) else {
        return;
    };

    // fmt: accepted, idempotent, meaning-preserving.
    let formatted = onramp::fmt::format_source(&source)
        .unwrap_or_else(|d| panic!("fmt rejected a compiled program: {d:?}\n{source}"));
    let again = onramp::fmt::format_source(&formatted)
        .unwrap_or_else(|d| panic!("fmt rejected its own output: {d:?}\n{formatted}"));
    // `ONRAMP_FUZZ_SKIP_FMT_IDEMPOTENCE=1` skips this one check while a
    // known idempotence bug is open (tests/regressions.rs), so that a run
    // keeps exercising the other oracles.
    if std::env::var_os("ONRAMP_FUZZ_SKIP_FMT_IDEMPOTENCE").is_none() {
        assert_eq!(
            formatted, again,
            "fmt is not idempotent\n--- input ---\n{source}"
        );
    }
    let reformatted = Program::compile(&formatted)
        .unwrap_or_else(|e| panic!("formatted program does not compile:\n{e}\n{formatted}"));

    for _ in 0..2 {
        let profile = profile(&mut t);
        let mut ctx = Context::at_millis(now_ms());
        if let Some(e) = event(&mut t) {
            ctx = ctx.with_event(e);
        }
        if knobs.force_variant {
            ctx = ctx.with_variant("x1", "treatment");
        }
        check(&program, &profile, &ctx, &source);
        let small = ctx
            .clone()
            .with_step_budget(u64::from(knobs.small_budget % 512));
        check(&program, &profile, &small, &source);

        let a = program
            .evaluate(&profile, &ctx)
            .map(|r| without_locations(r.to_json()));
        let b = reformatted
            .evaluate(&profile, &ctx)
            .map(|r| without_locations(r.to_json()));
        assert_eq!(
            a, b,
            "the formatted program means something else\n--- input ---\n{source}\n--- formatted ---\n{formatted}\n--- profile ---\n{profile}"
        );
    }
});
