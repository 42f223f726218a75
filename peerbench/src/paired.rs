//! Targets 1 and 2 of the performance issue for the 20-rule program, each
//! timed against its yardstick in alternating batches
//! ([`measure_ratio`]): Onramp's bound run over the boxed-closure floor,
//! and Onramp end to end over the typed struct end to end. Shared by the
//! peer harness and the root crate's `benches/eval.rs` (which includes it
//! by path, with `harness`, `native` and `rules`), so both measure the
//! same thing.

use crate::harness::{measure_ratio, Cfg, Ratio};
use crate::native::{self, Profile};
use crate::rules::Rule;
use onramp::{Context, Evaluator, Program};
use std::hint::black_box;

/// `[bound run / closure floor, end to end / typed struct]` for
/// `program`, which holds `rules` and answers them at rule indices
/// `answers`, on the profile `json`.
pub fn onramp_ratios(
    program: &Program,
    answers: &[u32],
    rules: &[Rule],
    json: &str,
    ctx: &Context,
    cfg: &Cfg,
    rounds: usize,
) -> Result<[Ratio; 2], String> {
    let closures: Vec<native::TypedFn> = rules.iter().map(native::typed_closure).collect();
    let parse = |j: &str| serde_json::from_str::<Profile>(j).map_err(|e| e.to_string());
    let typed = parse(json)?;
    let read = |ev: &Evaluator| {
        answers
            .iter()
            .map(|&i| ev.value_at(i).map_or(0, |v| v.is_true() as usize))
            .sum::<usize>()
    };
    let mut ev = program.evaluator();
    ev.bind_str(json).map_err(|e| e.to_string())?;
    let bound = measure_ratio(
        cfg,
        rounds,
        || {
            ev.run(black_box(ctx));
            read(&ev)
        },
        || {
            for f in &closures {
                black_box(f(black_box(&typed)));
            }
        },
    );
    let end_to_end = measure_ratio(
        cfg,
        rounds,
        || {
            ev.evaluate_str(black_box(json), ctx).unwrap();
            read(&ev)
        },
        || native::t_twenty(&parse(black_box(json)).unwrap()),
    );
    Ok([bound, end_to_end])
}
