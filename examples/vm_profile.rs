//! A fixed workload for instruction-count profiling of the VM, e.g.
//! `valgrind --tool=callgrind target/release/examples/vm_profile twenty 20000`.
//! Instruction counts are repeatable on a busy machine where timings are
//! not, so VM changes are compared with this before the criterion benches.
//!
//! Workloads: `r1` … `r5` (one peer-harness rule), `twenty` (the 20-rule
//! program), each bound once and run N times; `e2e` binds the 20-rule
//! program from JSON text and runs it, N times; `native` is the typed
//! struct baseline of the same (serde_json into a struct, 20 inlined
//! rules), the yardstick of target 2; `closures` runs the 20 rules as
//! boxed closures over the parsed struct, the floor of target 1;
//! `compile` compiles `rules/`
//! (target 5); `events` binds a profile of 1,000 events from JSON text;
//! `windows10` and `windows1` evaluate target 3's 10 window aggregates and
//! its single count on its 1,000-event profile (from a `Value`, RFC 3339
//! times, as `cargo bench --bench windows` does). Add `untyped` to drop the
//! schema; add `print` to print the program instead.

#[allow(dead_code)]
#[path = "../peerbench/src/native.rs"]
mod native;
#[allow(dead_code)]
#[path = "../peerbench/src/profiles.rs"]
mod profiles;
#[allow(dead_code)]
#[path = "../peerbench/src/rules.rs"]
mod rules;
#[allow(dead_code)]
#[path = "../benches/common/windows_workload.rs"]
mod windows_workload;

use onramp::{Context, Program};
use std::hint::black_box;
use std::time::{Duration, Instant, UNIX_EPOCH};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which = args.first().map_or("twenty", String::as_str);
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let schema = !args.iter().any(|a| a == "untyped");
    let rules = match which {
        "twenty" | "e2e" | "native" | "closures" | "compile" | "events" | "windows10"
        | "windows1" => rules::twenty_rules(),
        r => {
            let i: usize = r
                .trim_start_matches('r')
                .parse()
                .expect("r1..r5, twenty, e2e, native, compile, events, windows10 or windows1");
            vec![rules::base_rules()[i - 1].clone()]
        }
    };
    if which == "compile" {
        // Target 5: parse, check and compile the example program in `rules/`.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
        let mut sources = onramp::SourceMap::new();
        for path in onramp::collect_files(std::path::Path::new(dir)).expect("rules/") {
            let text = std::fs::read_to_string(&path).expect("rules/ reads");
            sources.add(path.to_string_lossy(), text);
        }
        let mut fold = 0usize;
        for _ in 0..n {
            let program = onramp::Engine::new()
                .compile_sources(black_box(sources.clone()))
                .expect("rules/ compiles");
            fold += program.evaluator().value_at(0).is_some() as usize;
        }
        println!("{which}: {fold}");
        return;
    }
    if let Some(rules) = match which {
        "windows10" => Some(windows_workload::TEN),
        "windows1" => Some(windows_workload::ONE),
        _ => None,
    } {
        // Target 3: the ratio of these two is what `benches/windows.rs` times.
        let program = Program::compile(&format!("{}{rules}", windows_workload::SCHEMA))
            .unwrap_or_else(|e| panic!("{e}"));
        let profile = windows_workload::profile(true);
        let ctx = Context::at(UNIX_EPOCH + Duration::from_millis(windows_workload::NOW_MS as u64));
        let mut ev = program.evaluator();
        let mut fold = 0usize;
        for _ in 0..n {
            ev.evaluate(black_box(&profile), &ctx)
                .expect("profile binds");
            fold += ev.value_at(0).map_or(0, |v| v.is_true() as usize);
        }
        println!("{which}: {fold}");
        return;
    }
    if which == "events" {
        // Text binding of an event history: one profile of 1,000 events
        // (three shapes), read from JSON text by a one-segment program.
        let events: Vec<serde_json::Value> = (0..1000)
            .map(|i| match i % 3 {
                0 => serde_json::json!({"name": "page_view", "at": "2026-11-20T10:00:00Z"}),
                1 => serde_json::json!({"name": "feature_used", "at": "2026-11-19T10:00:00Z",
                                        "props": {"feature": "export"}}),
                _ => serde_json::json!({"name": "login", "at": "2026-11-18T10:00:00Z"}),
            })
            .collect();
        let text = serde_json::json!({"user": {"id": "u-1"}, "events": events}).to_string();
        let program = Program::compile(
            "schema {\n user.id: string\n events: list<{ name: string, at: time, props: map? }>\n}\n\
             segment a = count(events where .name == \"login\" and .at within 7d) > 3\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let ctx = Context::at(UNIX_EPOCH + Duration::from_millis(1_795_176_000_000));
        let mut ev = program.evaluator();
        let mut fold = 0usize;
        for _ in 0..n {
            ev.evaluate_str(black_box(&text), &ctx)
                .expect("profile binds");
            fold += ev.value_at(0).map_or(0, |v| v.is_true() as usize);
        }
        println!("{which}: {fold}");
        return;
    }
    if which == "closures" {
        // The floor of target 1: 20 boxed closures with run-time constants
        // over the typed struct, the profile parsed once.
        let closures: Vec<native::TypedFn> = rules.iter().map(native::typed_closure).collect();
        let p: native::Profile = serde_json::from_str(profiles::PROFILE).expect("profile parses");
        let mut fold = 0usize;
        for _ in 0..n {
            for c in &closures {
                fold += (black_box(c)(black_box(&p)) == native::NOut::B(true)) as usize;
            }
        }
        println!("{which}: {fold}");
        return;
    }
    if which == "native" {
        // The yardstick of target 2: serde_json into the typed struct, then
        // the 20 rules inlined.
        let mut fold = 0usize;
        for _ in 0..n {
            let p: native::Profile =
                serde_json::from_str(black_box(profiles::PROFILE)).expect("profile parses");
            fold += native::t_twenty(black_box(&p))
                .iter()
                .filter(|o| **o == native::NOut::B(true))
                .count();
        }
        println!("{which}: {fold}");
        return;
    }
    let text = rules::onramp_program(&rules, schema);
    if args.iter().any(|a| a == "print") {
        print!("{text}");
        return;
    }
    let program = Program::compile(&text).unwrap_or_else(|e| panic!("{e}"));
    let ctx = Context::at(UNIX_EPOCH + Duration::from_millis(1_764_000_000_000));
    let mut ev = program.evaluator();
    ev.bind_str(profiles::PROFILE).expect("profile binds");
    let start = Instant::now();
    let mut fold = 0usize;
    for _ in 0..n {
        if which == "e2e" {
            ev.bind_str(black_box(profiles::PROFILE))
                .expect("profile binds");
        }
        ev.run(black_box(&ctx));
        fold += ev.value_at(0).map_or(0, |v| v.is_true() as usize);
    }
    let per = start.elapsed().as_nanos() as f64 / n as f64;
    println!("{which}: {per:.1} ns per evaluation ({fold})");
}
