//! Targets 1 and 2 of the performance issue: evaluation of R1–R5 and of
//! the 20-rule program, (a) `bound_run`: `Evaluator::run` on a profile
//! already bound with `bind_str` (the bound-profile evaluation of target 1),
//! (b) `eval_from_value`: `Evaluator::evaluate(&serde_json::Value)` = bind +
//! run, and (c) `end_to_end` from JSON text (`evaluate_str`), next to the
//! native baselines the targets are stated against:
//!
//! * `native_typed`: hand-written Rust over a serde-derived struct, literal
//!   constants (20 rules: one inlined function);
//! * `native_closures`: the boxed-closure floor — 20 data-driven boxed
//!   closures with their constants captured at run time;
//! * `native_value`: hand-written lookups on `serde_json::Value`.
//!
//! Rules, profile and native code are the peer harness's own
//! (`peerbench/src/{rules,native,profiles}.rs`, included below), so these
//! figures line up with `cargo run -p peerbench --release`, which also has
//! the peer engines (datalogic-rs etc.). After the runs, a summary prints
//! the target ratios from criterion's estimates, then targets 1 and 2 (20
//! rules) measured **paired**: Onramp and its yardstick timed in
//! alternating batches, 11 rounds, as the peer harness does. Criterion
//! times each row at its own moment, so on a shared machine a change of
//! load between two rows moves their ratio; the paired median is the
//! verdict. (`ONRAMP_BENCH_PAIRED=0` skips the paired part.)
//!
//! Run: `cargo bench --bench eval`

mod common;
#[allow(dead_code)]
#[path = "../peerbench/src/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "../peerbench/src/native.rs"]
mod native;
#[path = "../peerbench/src/paired.rs"]
mod paired;
#[allow(dead_code)]
#[path = "../peerbench/src/profiles.rs"]
mod profiles;
#[allow(dead_code)]
#[path = "../peerbench/src/rules.rs"]
mod rules;

use common::{estimate_ns, fmt_ns, ratio, verdict};
use criterion::{BenchmarkId, Criterion};
use native::{NOut, Profile};
use onramp::{Context, Program, Value};
use profiles::{PROFILE, VERIFY_EXTRA};
use std::hint::black_box;

const NOW_MS: i64 = 1_764_000_000_000;

/// A compiled Onramp program and the rule indices of its answers.
struct Compiled {
    program: Program,
    idx: Vec<u32>,
}

fn compile(rules: &[rules::Rule], schema: bool) -> Compiled {
    let text = rules::onramp_program(rules, schema);
    let program = Program::compile(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let idx = (0..rules.len())
        .map(|i| {
            program
                .rule_index(&rules::onramp_name(i))
                .expect("rule index")
        })
        .collect();
    Compiled { program, idx }
}

#[inline(always)]
fn fold(v: Option<&Value>) -> usize {
    match v {
        Some(Value::Bool(b)) => *b as usize,
        Some(Value::Str(s)) => s.len(),
        _ => usize::MAX,
    }
}

fn nout_eq(v: Option<&Value>, n: NOut) -> bool {
    match (v, n) {
        (Some(Value::Bool(a)), NOut::B(b)) => *a == b,
        (Some(Value::Str(a)), NOut::S(b)) => a.as_ref() == b,
        _ => false,
    }
}

/// Onramp must agree with the native answers on every profile before
/// anything is timed (as in the peer harness).
fn verify(base: &[Compiled], twenty: &[&Compiled], ctx: &Context) {
    let base_rules = rules::base_rules();
    let twenty_rules = rules::twenty_rules();
    let mut profiles = vec![PROFILE];
    profiles.extend_from_slice(VERIFY_EXTRA);
    for (pi, pj) in profiles.iter().enumerate() {
        let p: Profile = serde_json::from_str(pj).unwrap();
        let v: serde_json::Value = serde_json::from_str(pj).unwrap();
        for (ri, c) in base.iter().enumerate() {
            let want = native::typed_closure(&base_rules[ri])(&p);
            let mut ev = c.program.evaluator();
            ev.evaluate(&v, ctx).unwrap();
            assert_eq!(ev.error_count(), 0, "profile {pi} R{}", ri + 1);
            assert!(
                nout_eq(ev.value_at(c.idx[0]), want),
                "profile {pi} R{}: {:?} vs {want:?}",
                ri + 1,
                ev.value_at(c.idx[0])
            );
        }
        for c in twenty {
            let mut ev = c.program.evaluator();
            ev.evaluate_str(pj, ctx).unwrap();
            assert_eq!(ev.error_count(), 0, "profile {pi} 20 rules");
            for (ri, r) in twenty_rules.iter().enumerate() {
                let want = native::typed_closure(r)(&p);
                assert!(
                    nout_eq(ev.value_at(c.idx[ri]), want),
                    "profile {pi} 20-rule #{}",
                    ri + 1
                );
            }
        }
    }
}

fn benches(c: &mut Criterion) {
    let ctx = Context::at_millis(NOW_MS);
    let base_rules = rules::base_rules();
    let twenty_rules = rules::twenty_rules();
    let base: Vec<Compiled> = base_rules
        .iter()
        .map(|r| compile(std::slice::from_ref(r), true))
        .collect();
    let base_ns: Vec<Compiled> = base_rules
        .iter()
        .map(|r| compile(std::slice::from_ref(r), false))
        .collect();
    let twenty = compile(&twenty_rules, true);
    let twenty_ns = compile(&twenty_rules, false);
    verify(&base, &[&twenty, &twenty_ns], &ctx);
    verify(&base_ns, &[], &ctx);

    let json = PROFILE;
    let value: serde_json::Value = serde_json::from_str(json).unwrap();
    let typed: Profile = serde_json::from_str(json).unwrap();
    let closures: Vec<native::TypedFn> = twenty_rules.iter().map(native::typed_closure).collect();

    // ---- target 1: evaluation from an already-parsed profile ----
    let mut g = c.benchmark_group("eval_from_value");
    for ri in 0..5 {
        let r = format!("R{}", ri + 1);
        for (label, set) in [("onramp_schema", &base), ("onramp_no_schema", &base_ns)] {
            let cp = &set[ri];
            let mut ev = cp.program.evaluator();
            let i = cp.idx[0];
            g.bench_function(BenchmarkId::new(label, &r), |b| {
                b.iter(|| {
                    ev.evaluate(black_box(&value), &ctx).unwrap();
                    fold(ev.value_at(i))
                })
            });
        }
        // Direct calls (not through fn pointers), as in the peer harness.
        let id = BenchmarkId::new("native_typed", &r);
        match ri {
            0 => g.bench_function(id, |b| b.iter(|| native::t_r1(black_box(&typed)))),
            1 => g.bench_function(id, |b| b.iter(|| native::t_r2(black_box(&typed)))),
            2 => g.bench_function(id, |b| b.iter(|| native::t_r3(black_box(&typed)))),
            3 => g.bench_function(id, |b| b.iter(|| native::t_r4(black_box(&typed)))),
            _ => g.bench_function(id, |b| b.iter(|| native::t_r5(black_box(&typed)))),
        };
        let id = BenchmarkId::new("native_value", &r);
        match ri {
            0 => g.bench_function(id, |b| b.iter(|| native::j_r1(black_box(&value)))),
            1 => g.bench_function(id, |b| b.iter(|| native::j_r2(black_box(&value)))),
            2 => g.bench_function(id, |b| b.iter(|| native::j_r3(black_box(&value)))),
            3 => g.bench_function(id, |b| b.iter(|| native::j_r4(black_box(&value)))),
            _ => g.bench_function(id, |b| b.iter(|| native::j_r5(black_box(&value)))),
        };
    }
    for (label, cp) in [("onramp_schema", &twenty), ("onramp_no_schema", &twenty_ns)] {
        let mut ev = cp.program.evaluator();
        g.bench_function(BenchmarkId::new(label, "20_rules"), |b| {
            b.iter(|| {
                ev.evaluate(black_box(&value), &ctx).unwrap();
                cp.idx.iter().map(|&i| fold(ev.value_at(i))).sum::<usize>()
            })
        });
    }
    g.bench_function(BenchmarkId::new("native_typed", "20_rules"), |b| {
        b.iter(|| native::t_twenty(black_box(&typed)))
    });
    g.bench_function(BenchmarkId::new("native_closures", "20_rules"), |b| {
        b.iter(|| {
            for f in &closures {
                black_box(f(black_box(&typed)));
            }
        })
    });
    g.finish();

    // ---- target 1 proper: run on an already-bound profile ----
    let mut g = c.benchmark_group("bound_run");
    for ri in 0..5 {
        let r = format!("R{}", ri + 1);
        for (label, set) in [("onramp_schema", &base), ("onramp_no_schema", &base_ns)] {
            let cp = &set[ri];
            let mut ev = cp.program.evaluator();
            ev.bind_str(json).unwrap();
            let i = cp.idx[0];
            g.bench_function(BenchmarkId::new(label, &r), |b| {
                b.iter(|| {
                    ev.run(black_box(&ctx));
                    fold(ev.value_at(i))
                })
            });
        }
    }
    for (label, cp) in [("onramp_schema", &twenty), ("onramp_no_schema", &twenty_ns)] {
        let mut ev = cp.program.evaluator();
        ev.bind_str(json).unwrap();
        g.bench_function(BenchmarkId::new(label, "20_rules"), |b| {
            b.iter(|| {
                ev.run(black_box(&ctx));
                cp.idx.iter().map(|&i| fold(ev.value_at(i))).sum::<usize>()
            })
        });
    }
    g.finish();

    // ---- target 2: end to end, JSON text in, all answers out ----
    let mut g = c.benchmark_group("end_to_end");
    for ri in 0..5 {
        let r = format!("R{}", ri + 1);
        let cp = &base[ri];
        let mut ev = cp.program.evaluator();
        let i = cp.idx[0];
        g.bench_function(BenchmarkId::new("onramp_schema", &r), |b| {
            b.iter(|| {
                ev.evaluate_str(black_box(json), &ctx).unwrap();
                fold(ev.value_at(i))
            })
        });
        let tf = native::typed_literal(ri);
        g.bench_function(BenchmarkId::new("native_typed", &r), |b| {
            b.iter(|| {
                let p: Profile = serde_json::from_str(black_box(json)).unwrap();
                tf(&p)
            })
        });
        let mut ev = base_ns[ri].program.evaluator();
        let i = base_ns[ri].idx[0];
        g.bench_function(BenchmarkId::new("onramp_no_schema", &r), |b| {
            b.iter(|| {
                ev.evaluate_str(black_box(json), &ctx).unwrap();
                fold(ev.value_at(i))
            })
        });
    }
    for (label, cp) in [("onramp_schema", &twenty), ("onramp_no_schema", &twenty_ns)] {
        let mut ev = cp.program.evaluator();
        g.bench_function(BenchmarkId::new(label, "20_rules"), |b| {
            b.iter(|| {
                ev.evaluate_str(black_box(json), &ctx).unwrap();
                cp.idx.iter().map(|&i| fold(ev.value_at(i))).sum::<usize>()
            })
        });
    }
    g.bench_function(BenchmarkId::new("native_typed", "20_rules"), |b| {
        b.iter(|| {
            let p: Profile = serde_json::from_str(black_box(json)).unwrap();
            native::t_twenty(&p)
        })
    });
    g.bench_function(
        BenchmarkId::new("serde_json_value_parse_only", "profile"),
        |b| b.iter(|| serde_json::from_str::<serde_json::Value>(black_box(json)).unwrap()),
    );
    g.finish();
}

fn summary() {
    let m = estimate_ns;
    println!("\n## eval bench summary (criterion estimates: the `time:` point estimate, ns per profile)\n");
    println!("| | R1 | R2 | R3 | R4 | R5 | 20 rules |\n|---|---:|---:|---:|---:|---:|---:|");
    let rows = [
        ("bound_run", "onramp_schema"),
        ("bound_run", "onramp_no_schema"),
        ("eval_from_value", "onramp_schema"),
        ("eval_from_value", "onramp_no_schema"),
        ("eval_from_value", "native_typed"),
        ("eval_from_value", "native_value"),
        ("eval_from_value", "native_closures"),
        ("end_to_end", "onramp_schema"),
        ("end_to_end", "onramp_no_schema"),
        ("end_to_end", "native_typed"),
    ];
    for (g, e) in rows {
        let cells: Vec<String> = (1..=5)
            .map(|i| fmt_ns(m(g, &format!("{e}/R{i}"))))
            .chain([fmt_ns(m(g, &format!("{e}/20_rules")))])
            .collect();
        println!("| {g} / {e} | {} |", cells.join(" | "));
    }
    println!(
        "\n| target (same run, unpaired: rows timed at their own moments) | bound | onramp_schema | onramp_no_schema |\n|---|---|---|---|"
    );
    let row = |label: &str, bound: f64, f: &dyn Fn(&str) -> Option<f64>| {
        println!(
            "| {label} | ≤ {bound}× | {} | {} |",
            verdict(f("onramp_schema"), bound, false),
            verdict(f("onramp_no_schema"), bound, false)
        );
    };
    row("1. bound run, 20 rules / boxed-closure floor", 2.0, &|e| {
        ratio(
            m("bound_run", &format!("{e}/20_rules")),
            m("eval_from_value", "native_closures/20_rules"),
        )
    });
    // For reference only: target 1 starts from a bound profile, as the
    // peers' eval starts from their own pre-built context.
    let from_value = |e: &str| {
        ratio(
            m("eval_from_value", &format!("{e}/20_rules")),
            m("eval_from_value", "native_closures/20_rules"),
        )
        .map_or("—".to_string(), |q| format!("{q:.2}×"))
    };
    println!(
        "| (reference, not a target: eval from Value = bind + run, 20 rules / boxed-closure floor) | — | {} | {} |",
        from_value("onramp_schema"),
        from_value("onramp_no_schema")
    );
    row(
        "2. end-to-end 20 rules / native typed end-to-end 20 rules",
        1.5,
        &|e| {
            ratio(
                m("end_to_end", &format!("{e}/20_rules")),
                m("end_to_end", "native_typed/20_rules"),
            )
        },
    );
    println!(
        "\n(The datalogic-rs comparisons of targets 1 and 2 need the peer engines: \
         `cargo run -p peerbench --release`.)"
    );
}

/// Targets 1 and 2 for the 20-rule program, each ratio measured in
/// alternating batches of Onramp and its yardstick (see the module docs).
fn paired() {
    let ctx = Context::at_millis(NOW_MS);
    let twenty_rules = rules::twenty_rules();
    let cfg = harness::Cfg {
        batch_ns: 100e6,
        batches: 1,
    };
    const ROUNDS: usize = 11;
    println!(
        "\n## Targets 1 and 2 (20 rules), paired: alternating batches, {ROUNDS} rounds\n\n\
         | target | bound | engine | median | range |\n|---|---|---|---:|---|"
    );
    for (label, schema) in [("onramp_schema", true), ("onramp_no_schema", false)] {
        let cp = compile(&twenty_rules, schema);
        let [bound, end_to_end] = paired::onramp_ratios(
            &cp.program,
            &cp.idx,
            &twenty_rules,
            PROFILE,
            &ctx,
            &cfg,
            ROUNDS,
        )
        .unwrap_or_else(|e| panic!("paired measurement: {e}"));
        for (target, limit, r) in [
            ("1. bound run / boxed-closure floor", 2.0, bound),
            ("2. end to end / native typed end to end", 1.5, end_to_end),
        ] {
            println!(
                "| {target} | ≤ {limit}× | {label} | {} | {:.2}–{:.2}× |",
                verdict(Some(r.median), limit, false),
                r.min,
                r.max
            );
        }
    }
}

fn main() {
    let mut c = common::criterion();
    benches(&mut c);
    c.final_summary();
    summary();
    if std::env::var("ONRAMP_BENCH_PAIRED").as_deref() != Ok("0") {
        paired();
    }
}
