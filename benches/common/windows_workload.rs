//! The workload of target 3 (event windows), shared by `benches/windows.rs`
//! (criterion) and `examples/vm_profile.rs` (`windows10`, `windows1`:
//! instruction counts): a profile of 1,000 events and the programs that
//! read it.

use serde_json::{json, Value as Json};

/// The evaluation instant: 2025-11-24T16:00:00Z.
pub const NOW_MS: i64 = 1_764_000_000_000;
pub const DAY_MS: i64 = 86_400_000;
pub const EVENTS: usize = 1_000;

pub const SCHEMA: &str = r#"schema {
  user.id: string
  events: list<{ name: string, at: time, props: map? }>
  event "session_start"
  event "feature_used" { feature: string }
  event "login"
  event "purchase" { amount: float }
  event "invited_teammate"
  event "page_view"
}
"#;

/// The 10 window aggregates.
pub const TEN: &str = r#"
segment w01 = count("session_start", .at within 24h) >= 2
segment w02 = count("session_start", .at within 7d) >= 10
segment w03 = count("feature_used", .at within 30d) >= 50
segment w04 = count("login", .at within 24h) >= 1
segment w05 = count("page_view", .at within 7d) > 20
segment w06 = count("purchase", .at within 30d) >= 3
segment w07 = sum("purchase", .props.amount) > 100.0
segment w08 = exists("invited_teammate")
segment w09 = last("login").at within 24h
segment w10 = count(events where .at within 7d) > 100
"#;

/// The baseline: one filtered count over the same list.
pub const ONE: &str = r#"
segment w01 = count("session_start", .at within 24h) >= 2
"#;

/// Fixed cost: a program that declares the same schema but reads no event.
pub const NONE: &str = r#"
segment w01 = user.id == "u-1"
"#;

/// Deterministic event history: 1,000 events over 30 days, oldest first.
pub fn profile(rfc3339: bool) -> Json {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut ats: Vec<i64> = (0..EVENTS)
        .map(|_| NOW_MS - (next() % (30 * DAY_MS as u64)) as i64)
        .collect();
    ats.sort_unstable();
    let events: Vec<Json> = ats
        .into_iter()
        .map(|at| {
            let r = next() % 100;
            let at_json = if rfc3339 {
                json!(onramp::time::format_time(at))
            } else {
                json!(at)
            };
            match r {
                0..35 => json!({"name": "page_view", "at": at_json}),
                35..55 => json!({"name": "session_start", "at": at_json}),
                55..75 => json!({"name": "feature_used", "at": at_json, "props": {"feature": "export"}}),
                75..90 => json!({"name": "login", "at": at_json}),
                90..95 => json!({"name": "purchase", "at": at_json, "props": {"amount": (r as f64) * 1.5}}),
                _ => json!({"name": "invited_teammate", "at": at_json}),
            }
        })
        .collect();
    json!({"user": {"id": "u-1"}, "events": events})
}
