//! Target 3 of the performance issue: event windows. A profile with 1,000
//! events (6 event names over the last 30 days, oldest first) evaluated by
//! a program of 10 window aggregates — counts within 24h / 7d / 30d of
//! different event names, a sum, an `exists`, a `last` — against a program
//! with a single filtered `count` over the same list. Both are "eval from
//! Value" (bind the already-parsed profile + run), ns per profile.
//!
//! Two encodings of `at`: RFC 3339 text (what most event pipelines send) and
//! epoch milliseconds (§2 accepts both).
//!
//! Run: `cargo bench --bench windows`

mod common;

use common::{estimate_ns, fmt_ns, ratio, verdict};
use criterion::{BenchmarkId, Criterion};
use onramp::{Context, Program, Value};
use serde_json::Value as Json;
use std::hint::black_box;

#[path = "common/windows_workload.rs"]
mod workload;

use workload::{profile, DAY_MS, EVENTS, NONE, NOW_MS, ONE, SCHEMA, TEN};

fn compile(rules: &str) -> Program {
    let text = format!("{SCHEMA}{rules}");
    Program::compile(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Native answer for the checks: the 10 aggregates written by hand.
fn native_ten(p: &Json, rfc3339: bool) -> [bool; 10] {
    let evs = p["events"].as_array().unwrap();
    let at = |e: &Json| -> i64 {
        if rfc3339 {
            e["at"]
                .as_str()
                .unwrap()
                .parse::<jiff::Timestamp>()
                .unwrap()
                .as_millisecond()
        } else {
            e["at"].as_i64().unwrap()
        }
    };
    let within = |e: &Json, d: i64| {
        let t = at(e);
        NOW_MS - d <= t && t <= NOW_MS
    };
    let count = |name: &str, d: i64| {
        evs.iter()
            .filter(|e| e["name"] == name && within(e, d))
            .count()
    };
    let sum: f64 = evs
        .iter()
        .filter(|e| e["name"] == "purchase")
        .map(|e| e["props"]["amount"].as_f64().unwrap())
        .sum();
    let last_login = evs.iter().rev().find(|e| e["name"] == "login");
    [
        count("session_start", DAY_MS) >= 2,
        count("session_start", 7 * DAY_MS) >= 10,
        count("feature_used", 30 * DAY_MS) >= 50,
        count("login", DAY_MS) >= 1,
        count("page_view", 7 * DAY_MS) > 20,
        count("purchase", 30 * DAY_MS) >= 3,
        sum > 100.0,
        evs.iter().any(|e| e["name"] == "invited_teammate"),
        last_login.is_some_and(|e| within(e, DAY_MS)),
        evs.iter().filter(|e| within(e, 7 * DAY_MS)).count() > 100,
    ]
}

fn benches(c: &mut Criterion) {
    let ctx = Context::at_millis(NOW_MS);
    let ten = compile(TEN);
    let one = compile(ONE);
    let none = compile(NONE);
    let mut g = c.benchmark_group("windows");
    for (enc, rfc) in [("rfc3339", true), ("epoch_ms", false)] {
        let p = profile(rfc);
        // Check the answers against native code before timing.
        let mut ev = ten.evaluator();
        ev.evaluate(&p, &ctx).unwrap();
        assert_eq!(ev.error_count(), 0, "{:?}", ev.result().errors());
        let want = native_ten(&p, rfc);
        for (k, w) in want.iter().enumerate() {
            let name = format!("w{:02}", k + 1);
            assert_eq!(ev.segment(&name), Some(*w), "{enc}: {name}");
        }
        if enc == "rfc3339" {
            println!("windows: 10-aggregate answers {want:?} (checked against native code)");
        }
        // Hand-written Rust over the same serde_json::Value, for scale.
        g.bench_function(BenchmarkId::new("native_value_ten_aggregates", enc), |b| {
            b.iter(|| native_ten(black_box(&p), rfc))
        });
        for (label, prog) in [
            ("ten_aggregates", &ten),
            ("single_count", &one),
            ("no_event_rule", &none),
        ] {
            let mut ev = prog.evaluator();
            let n = prog.checked().rules.len() as u32;
            g.bench_function(BenchmarkId::new(label, enc), |b| {
                b.iter(|| {
                    ev.evaluate(black_box(&p), &ctx).unwrap();
                    (0..n)
                        .filter(|&i| matches!(ev.value_at(i), Some(Value::Bool(true))))
                        .count()
                })
            });
        }
    }
    // End to end for reference: the 1,000-event profile as JSON text.
    let text = profile(true).to_string();
    let mut ev = ten.evaluator();
    g.bench_function(
        BenchmarkId::new("ten_aggregates_from_text", "rfc3339"),
        |b| {
            b.iter(|| {
                ev.evaluate_str(black_box(&text), &ctx).unwrap();
                ev.value_at(0).is_some()
            })
        },
    );
    g.finish();
}

fn summary() {
    let m = |id: &str| estimate_ns("windows", id);
    println!("\n## windows bench summary (criterion estimates: the `time:` point estimate, ns per profile of {EVENTS} events)\n");
    println!("| encoding of `at` | 10 aggregates | single count | no event rule (fixed cost) | ratio 10 / 1 | target 3 (≤ 2×) |");
    println!("|---|---:|---:|---:|---:|---|");
    for enc in ["rfc3339", "epoch_ms"] {
        let t = m(&format!("ten_aggregates/{enc}"));
        let o = m(&format!("single_count/{enc}"));
        let n = m(&format!("no_event_rule/{enc}"));
        let q = ratio(t, o);
        println!(
            "| {enc} | {} | {} | {} | {} | {} |",
            fmt_ns(t),
            fmt_ns(o),
            fmt_ns(n),
            q.map_or("—".into(), |q| format!("{q:.2}×")),
            verdict(q, 2.0, false)
        );
    }
    println!(
        "\n10 aggregates end to end from JSON text (rfc3339): {} ns; hand-written Rust, 10 aggregates \
         over the same serde_json::Value (one pass each): {} ns (rfc3339), {} ns (epoch_ms)",
        fmt_ns(m("ten_aggregates_from_text/rfc3339")),
        fmt_ns(m("native_value_ten_aggregates/rfc3339")),
        fmt_ns(m("native_value_ten_aggregates/epoch_ms"))
    );
}

fn main() {
    let mut c = common::criterion();
    benches(&mut c);
    c.final_summary();
    summary();
}
