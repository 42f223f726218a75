//! Shared by the criterion benches: short, 2-core-friendly criterion
//! settings and a summary that reads criterion's own estimates back and
//! prints the ratios the performance targets are stated in.

#![allow(dead_code)]

use criterion::Criterion;
use std::path::PathBuf;
use std::time::Duration;

/// Criterion settings: 20 samples, short warm-up and measurement, so a whole
/// `cargo bench` finishes in a few minutes on a 2-core machine.
pub fn criterion() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500))
        .without_plots()
        .configure_from_args()
}

/// Where criterion writes its results (`CRITERION_HOME`, else
/// `$CARGO_TARGET_DIR/criterion`, else `<target>/criterion` derived from the
/// bench executable's path `<target>/<profile>/deps/<bench>`).
fn criterion_home() -> Option<PathBuf> {
    if let Some(h) = std::env::var_os("CRITERION_HOME") {
        return Some(PathBuf::from(h));
    }
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        return Some(PathBuf::from(t).join("criterion"));
    }
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.parent()?.join("criterion"))
}

/// ns per iteration of `group/id` from this run's criterion output: the
/// point estimate criterion prints as `time:` (the slope when it has one,
/// else the mean). `None` when the benchmark was filtered out or never ran.
pub fn estimate_ns(group: &str, id: &str) -> Option<f64> {
    let dir = criterion_home()?.join(group).join(id).join("new");
    let text = std::fs::read_to_string(dir.join("estimates.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let point = |k: &str| v.get(k)?.get("point_estimate")?.as_f64();
    point("slope").or_else(|| point("mean"))
}

/// `ns` formatted like the peer table.
pub fn fmt_ns(x: Option<f64>) -> String {
    match x {
        None => "—".into(),
        Some(x) if x < 100.0 => format!("{x:.1}"),
        Some(x) => format!("{x:.0}"),
    }
}

/// `a / b` as `1.23×`.
pub fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// A ratio and whether it meets `≤ bound` (or `< bound` when `strict`).
pub fn verdict(q: Option<f64>, bound: f64, strict: bool) -> String {
    match q {
        None => "— (not measured in this run)".into(),
        Some(q) => {
            let met = if strict { q < bound } else { q <= bound };
            format!("{q:.2}× — {}", if met { "met" } else { "NOT met" })
        }
    }
}
