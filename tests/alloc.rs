//! Target 4 of the performance issue: zero heap allocations per evaluation
//! in steady state.
//!
//! A counting `#[global_allocator]` (a wrapper over `std::alloc::System`)
//! counts allocations (alloc, alloc_zeroed, realloc) made by the current
//! thread while counting is switched on. A program whose results are
//! booleans, numbers and constant strings (R1–R5 of the peer benchmark, the
//! 20-rule set, and `count(events where ...)` rules) is evaluated with a
//! reused `Evaluator`, bind and run both counted: from a pre-parsed
//! `serde_json::Value` (`evaluate`) and from JSON text serialised once
//! beforehand (`evaluate_str`), with and without a schema. After a few
//! warm-up evaluations, 100 counted ones allocate nothing: binding shares
//! recurring strings through the evaluator's string table and rebuilds
//! lists, records and maps in the buffers of the profile bound before
//! (see `onramp::vm::reuse`). Further tests show that profiles of varying
//! length allocate nothing either, that a `let` holding a bound list does
//! not defeat the reuse, that values a caller keeps are never refilled,
//! and that running on a bound profile allocates nothing.
//!
//! Steady state means the profiles' strings recur (event names, keys,
//! enum-like values): a string not seen in recent profiles (a new user
//! id) is one allocation, as is a list outgrowing every buffer so far.
//!
//! Tracing: `ONRAMP_ALLOC_TRACE=1 cargo test --test alloc -- --nocapture
//! --test-threads=1` captures a backtrace per allocation and prints the
//! allocation sites (the innermost `onramp::` frames) with their counts.
//!
//! (`unsafe impl GlobalAlloc` is allowed here: the crate's
//! `forbid(unsafe_code)` covers the library only.)

#[allow(dead_code)]
#[path = "../peerbench/src/rules.rs"]
mod rules;

use onramp::{Context, Evaluator, Program, Value};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Mutex;

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static TRACING: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

/// Backtraces of counted allocations (tracing mode only).
static TRACES: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn note() {
    if !COUNTING.try_with(Cell::get).unwrap_or(false) {
        return;
    }
    let _ = COUNT.try_with(|c| c.set(c.get() + 1));
    if TRACING.try_with(Cell::get).unwrap_or(false) {
        // Capturing and formatting allocate: stop counting meanwhile.
        COUNTING.with(|c| c.set(false));
        let bt = std::backtrace::Backtrace::force_capture().to_string();
        TRACES.lock().unwrap().push(bt);
        COUNTING.with(|c| c.set(true));
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by `f` on this thread.
fn count_allocations(trace: bool, f: impl FnOnce()) -> usize {
    COUNT.with(|c| c.set(0));
    TRACING.with(|t| t.set(trace));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    TRACING.with(|t| t.set(false));
    COUNT.with(Cell::get)
}

fn tracing_requested() -> bool {
    std::env::var_os("ONRAMP_ALLOC_TRACE").is_some_and(|v| !v.is_empty() && v != "0")
}

/// The allocation site of a backtrace: the first few `onramp` frames
/// (library or this test), innermost first, each with its source line.
fn site(bt: &str) -> String {
    let lines: Vec<&str> = bt.lines().map(str::trim).collect();
    let mut frames = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some((n, f)) = l.split_once(": ") else {
            continue;
        };
        if !n.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        if !(f.starts_with("onramp::") || f.starts_with("<onramp::")) {
            continue;
        }
        let at = lines
            .get(i + 1)
            .and_then(|n| n.strip_prefix("at "))
            .map(|p| p.rsplit_once("/src/").map_or(p, |(_, r)| r))
            .unwrap_or("?");
        frames.push(format!("{f} (src/{at})"));
        if frames.len() == 3 {
            break;
        }
    }
    if frames.is_empty() {
        "(no onramp frame)".into()
    } else {
        frames.join("  <-  ")
    }
}

fn print_sites(label: &str, evaluations: usize) {
    let traces = std::mem::take(&mut *TRACES.lock().unwrap());
    let mut sites: HashMap<String, usize> = HashMap::new();
    for t in &traces {
        *sites.entry(site(t)).or_default() += 1;
    }
    let mut sites: Vec<_> = sites.into_iter().collect();
    sites.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    println!("\n{label}: allocation sites over {evaluations} evaluations (count, innermost onramp frames):");
    for (s, n) in sites {
        println!("{n:>7}  ({:.1}/eval)  {s}", n as f64 / evaluations as f64);
    }
    if let Some(t) = traces.first() {
        println!("\nfirst full backtrace:\n{t}");
    }
}

const NOW_MS: i64 = 1_764_000_000_000;
const HOUR_MS: i64 = 3_600_000;

/// The peer benchmark's profile plus 50 events.
fn profile() -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(
        r#"{"user": {"id": "u-123", "age": 27, "country": "DE", "industry": "finance", "plan": "trial"}, "onboarding": {"completed": true, "steps_done": 5, "days_to_complete": 2}, "behavior": {"sessions_last_week": 4, "feature_usage": 0.62, "sessions_24h": 3}, "tags": ["beta", "mobile"]}"#,
    )
    .unwrap();
    let names = [
        "session_start",
        "feature_used",
        "login",
        "invited_teammate",
        "session_start",
    ];
    let events: Vec<serde_json::Value> = (0..50)
        .map(|i| {
            let at = NOW_MS - (50 - i) * 7 * HOUR_MS;
            serde_json::json!({"name": names[i as usize % names.len()], "at": at})
        })
        .collect();
    v["events"] = serde_json::Value::Array(events);
    v
}

/// R1–R5, the 20-rule set, and event counts; results are bools, ints and
/// constant strings only.
fn program_text(schema: bool) -> String {
    let mut s = String::new();
    if schema {
        let base = rules::ONRAMP_SCHEMA.trim_end().trim_end_matches('}');
        s.push_str(base);
        s.push_str(
            "  events: list<{ name: string, at: time, props: map? }>\n  event \"session_start\"\n  \
             event \"feature_used\"\n  event \"login\"\n  event \"invited_teammate\"\n}\n",
        );
    }
    let mut all = rules::base_rules();
    all.extend(rules::twenty_rules());
    for (i, r) in all.iter().enumerate() {
        s.push_str(&rules::onramp(r, &rules::onramp_name(i)));
    }
    s.push_str(
        "let sessions_7d = count(events where .name == \"session_start\" and .at within 7d)\n\
         segment active = sessions_7d >= 2\n\
         segment recent_login = count(\"login\", .at within 24h) >= 1\n\
         segment invited = exists(\"invited_teammate\")\n\
         decision activity {\n  when sessions_7d >= 10 => \"high\"\n  when active => \"some\"\n  else => \"none\"\n}\n",
    );
    s
}

/// How the profile reaches the evaluator.
#[derive(Clone, Copy, Debug)]
enum Input {
    /// A pre-parsed `serde_json::Value` (`Evaluator::evaluate`).
    Value,
    /// JSON text, serialised once beforehand (`Evaluator::evaluate_str`).
    Text,
}

fn steady_state_allocations(schema: bool, input: Input) -> usize {
    let text = program_text(schema);
    let program = Program::compile(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let ctx = Context::at_millis(NOW_MS);
    let profile = profile();
    let profile_text = profile.to_string();
    let mut ev = program.evaluator();
    let evaluate = |ev: &mut Evaluator<'_>| match input {
        Input::Value => ev.evaluate(std::hint::black_box(&profile), &ctx).unwrap(),
        Input::Text => ev
            .evaluate_str(std::hint::black_box(&profile_text), &ctx)
            .unwrap(),
    };
    for _ in 0..5 {
        evaluate(&mut ev);
    }
    assert_eq!(ev.error_count(), 0, "{:?}", ev.result().errors());
    // The answers are what the rules say (sanity, outside the counted part).
    assert_eq!(ev.segment("rule_1"), Some(true));
    assert!(matches!(ev.value("rule_5"), Some(Value::Str(s)) if &**s == "advanced"));
    assert!(matches!(ev.value("sessions_7d"), Some(Value::Int(n)) if *n > 0));
    const N: usize = 100;
    let trace = tracing_requested();
    let n = count_allocations(trace, || {
        for _ in 0..N {
            evaluate(&mut ev);
        }
    });
    let label = format!(
        "{:?} input, {}",
        input,
        if schema {
            "with schema"
        } else {
            "without schema"
        }
    );
    println!(
        "{label}: {n} allocations in {N} evaluations ({:.1} per evaluation)",
        n as f64 / N as f64
    );
    if trace {
        print_sites(&label, N);
    }
    n
}

#[test]
fn steady_state_evaluation_with_schema_does_not_allocate() {
    assert_eq!(steady_state_allocations(true, Input::Value), 0);
}

#[test]
fn steady_state_evaluation_without_schema_does_not_allocate() {
    assert_eq!(steady_state_allocations(false, Input::Value), 0);
}

#[test]
fn steady_state_evaluation_from_text_with_schema_does_not_allocate() {
    assert_eq!(steady_state_allocations(true, Input::Text), 0);
}

#[test]
fn steady_state_evaluation_from_text_without_schema_does_not_allocate() {
    assert_eq!(steady_state_allocations(false, Input::Text), 0);
}

/// Profiles that differ (event counts, numbers, which of the recurring
/// strings) allocate nothing either once the buffers have grown to the
/// largest of them: a list or record keeps its capacity.
#[test]
fn steady_state_over_varying_profiles_does_not_allocate() {
    let profiles: Vec<serde_json::Value> = [(50, "trial"), (12, "pro"), (33, "free")]
        .into_iter()
        .enumerate()
        .map(|(k, (events, plan))| {
            let mut p = profile();
            p["events"].as_array_mut().unwrap().truncate(events);
            p["user"]["age"] = serde_json::json!(20 + 9 * k);
            p["user"]["plan"] = serde_json::json!(plan);
            p["tags"].as_array_mut().unwrap().truncate(2 - k % 2);
            p
        })
        .collect();
    let texts: Vec<String> = profiles.iter().map(|p| p.to_string()).collect();
    for schema in [true, false] {
        let text = program_text(schema);
        let program = Program::compile(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let ctx = Context::at_millis(NOW_MS);
        let mut ev = program.evaluator();
        let round = |ev: &mut Evaluator<'_>| {
            for (p, t) in profiles.iter().zip(&texts) {
                ev.evaluate(std::hint::black_box(p), &ctx).unwrap();
                assert_eq!(ev.error_count(), 0);
                ev.evaluate_str(std::hint::black_box(t), &ctx).unwrap();
                assert_eq!(ev.error_count(), 0);
            }
        };
        for _ in 0..3 {
            round(&mut ev);
        }
        let n = count_allocations(tracing_requested(), || {
            for _ in 0..30 {
                round(&mut ev);
            }
        });
        if tracing_requested() {
            print_sites("varying profiles", 180);
        }
        assert_eq!(n, 0, "schema: {schema}");
    }
}

/// A `let` that holds the profile's list (as `let evs = events` does)
/// shares it with the bound slot until the next run. Binding refills the
/// slots bound before last, which nothing holds by then, so steady state
/// still allocates nothing, on both inputs.
#[test]
fn a_let_holding_a_bound_list_does_not_stop_reuse() {
    let program = Program::compile(
        "let evs = events\n\
         segment some_login = count(evs where .name == \"login\") >= 1\n\
         segment invited = exists(evs where .name == \"invited_teammate\")\n",
    )
    .unwrap();
    let ctx = Context::at_millis(NOW_MS);
    let profile = profile();
    let text = profile.to_string();
    let mut ev = program.evaluator();
    for _ in 0..5 {
        ev.evaluate(&profile, &ctx).unwrap();
        ev.evaluate_str(&text, &ctx).unwrap();
    }
    assert_eq!(ev.segment("some_login"), Some(true));
    assert!(matches!(ev.value("evs"), Some(Value::List(l)) if l.len() == 50));
    let n = count_allocations(false, || {
        for _ in 0..50 {
            ev.evaluate(std::hint::black_box(&profile), &ctx).unwrap();
            ev.evaluate_str(std::hint::black_box(&text), &ctx).unwrap();
        }
    });
    assert_eq!(n, 0);
}

/// Values the caller keeps from earlier evaluations are never refilled by
/// later ones: binding reuses only what nothing else holds.
#[test]
fn values_the_caller_keeps_are_left_as_they_were() {
    let program = Program::compile("decision all { else => events }\n").unwrap();
    let ctx = Context::at_millis(NOW_MS);
    let first = profile();
    let mut second = profile();
    second["events"] = serde_json::json!([{"name": "other", "at": 1}]);
    let mut ev = program.evaluator();
    let mut kept: Vec<(Value, serde_json::Value)> = Vec::new();
    for (i, input) in [&first, &second, &first, &second, &first]
        .into_iter()
        .enumerate()
    {
        if i % 2 == 0 {
            ev.evaluate(input, &ctx).unwrap();
        } else {
            ev.evaluate_str(&input.to_string(), &ctx).unwrap();
        }
        let all = ev.value("all").cloned().unwrap();
        assert_eq!(all.to_json(), input["events"]);
        for (value, json) in &kept {
            assert_eq!(&value.to_json(), json, "a kept value changed");
        }
        kept.push((all, input["events"].clone()));
    }
}

/// Target 4 as the issue's first table frames evaluation: the profile is
/// already in engine form (bound into the evaluator's slots), and running
/// the program on it allocates nothing at all.
fn bound_profile_allocations(schema: bool) -> usize {
    let text = program_text(schema);
    let program = Program::compile(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let ctx = Context::at_millis(NOW_MS);
    let mut ev = program.evaluator();
    ev.bind(&profile()).unwrap();
    for _ in 0..5 {
        ev.run(&ctx);
    }
    assert_eq!(ev.error_count(), 0, "{:?}", ev.result().errors());
    assert_eq!(ev.segment("rule_1"), Some(true));
    assert!(matches!(ev.value("sessions_7d"), Some(Value::Int(n)) if *n > 0));
    let trace = tracing_requested();
    let n = count_allocations(trace, || {
        for _ in 0..100 {
            ev.run(std::hint::black_box(&ctx));
        }
    });
    if trace {
        print_sites("bound profile", 100);
    }
    n
}

#[test]
fn running_on_a_bound_profile_does_not_allocate() {
    assert_eq!(bound_profile_allocations(true), 0, "with a schema");
    assert_eq!(bound_profile_allocations(false), 0, "without a schema");
}

/// The counter itself works (so a 0 above means something).
#[test]
fn the_counting_allocator_counts() {
    let n = count_allocations(false, || {
        let v: Vec<u64> = std::hint::black_box(vec![1, 2, 3]);
        drop(v);
    });
    assert_eq!(n, 1);
}
