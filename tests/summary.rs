//! Population summaries (`onramp::summary`) over generated populations
//! (`onramp::population`) and the example program in `rules/`.

use onramp::population;
use onramp::summary::{chi_square_p_value, gamma_q, Summary};
use onramp::{Context, Program};

/// 2026-11-20T12:00:00Z
const NOW: i64 = 1_795_176_000_000;

fn rules() -> Program {
    match Program::load(concat!(env!("CARGO_MANIFEST_DIR"), "/rules")) {
        Ok(p) => p,
        Err(e) => panic!("rules/ does not compile:\n{e}"),
    }
}

fn summarize(program: &Program, n: u64, seed: u64) -> Summary {
    let ctx = Context::at_millis(NOW);
    let mut summary = Summary::new(program);
    let mut ev = program.evaluator();
    for p in population::generate(n, seed, NOW) {
        ev.evaluate(&p, &ctx)
            .expect("generated profiles are objects");
        summary.add_evaluation(&ev);
    }
    summary
}

#[test]
fn table_of_a_generated_population() {
    let program = rules();
    let summary = summarize(&program, 2000, 42);
    insta::assert_snapshot!(summary.render_table());
}

#[test]
fn json_summary_agrees_with_the_table_numbers() {
    let program = rules();
    let summary = summarize(&program, 500, 1);
    let j = summary.to_json();
    assert_eq!(j["profiles"], 500);
    assert_eq!(j["unreadable"], 0);
    let exp = &j["experiments"]["holdout"];
    let total = exp["counts"]["holdout"].as_u64().unwrap_or(0)
        + exp["counts"]["treatment"].as_u64().unwrap_or(0)
        + exp["counts"]["null"].as_u64().unwrap_or(0);
    assert_eq!(total, 500);
    let values = j["decisions"]["onboarding_path"]["values"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!values.is_empty());
    // Values are JSON again, not their text.
    assert!(values[0]["value"].is_object(), "{}", values[0]);
}

#[test]
fn results_and_evaluations_count_the_same() {
    let program = rules();
    let ctx = Context::at_millis(NOW);
    let mut from_results = Summary::new(&program);
    let mut from_evaluator = Summary::new(&program);
    let mut ev = program.evaluator();
    for p in population::generate(300, 5, NOW) {
        ev.evaluate(&p, &ctx).expect("object");
        from_evaluator.add_evaluation(&ev);
        from_results.add(&program.evaluate(&p, &ctx).expect("object"));
    }
    from_results.add_unreadable();
    from_evaluator.add_unreadable();
    assert_eq!(from_results.to_json(), from_evaluator.to_json());
    assert_eq!(from_results.render_table(), from_evaluator.render_table());
}

#[test]
fn an_empty_population_renders() {
    let program = rules();
    let mut summary = Summary::new(&program);
    summary.add_unreadable();
    let table = summary.render_table();
    assert!(table.contains("Unreadable lines"));
    assert!(table.contains("not enough assigned units"));
    assert_eq!(
        summary.to_json()["segments"]["engaged"]["share"],
        serde_json::Value::Null
    );
}

/// Keeps every unit the experiment put in `keep_all` (and every unit it
/// did not assign) but only the `k`-th units of its other variants for
/// which `keep(k)` holds: what a logging bug that loses one variant's
/// events looks like.
fn skewed(
    program: &Program,
    n: u64,
    experiment: &str,
    keep_all: &str,
    keep: impl Fn(u64) -> bool,
) -> Summary {
    let ctx = Context::at_millis(NOW);
    let mut summary = Summary::new(program);
    let mut ev = program.evaluator();
    let mut others = 0u64;
    for p in population::generate(n, 11, NOW) {
        ev.evaluate(&p, &ctx).expect("object");
        let variant = ev.value(experiment).and_then(|v| match v {
            onramp::Value::Str(s) => Some(s.to_string()),
            _ => None,
        });
        match variant.as_deref() {
            Some(v) if v == keep_all => summary.add_evaluation(&ev),
            Some(_) => {
                others += 1;
                if keep(others) {
                    summary.add_evaluation(&ev);
                }
            }
            None => summary.add_evaluation(&ev),
        }
    }
    summary
}

#[test]
fn sample_ratio_mismatch_is_flagged() {
    let program = rules();
    // Losing one in five `personalized` units.
    let summary = skewed(&program, 6000, "welcome_test", "control", |k| k % 5 != 0);
    let srm = summary.sample_ratio("welcome_test").expect("enough units");
    assert!(srm.mismatch, "{srm:?}");
    assert!(srm.p_value < 0.001);
    assert_eq!(srm.df, 1);
    assert!(summary.render_table().contains("SAMPLE RATIO MISMATCH"));
    assert_eq!(
        summary.to_json()["experiments"]["welcome_test"]["sample_ratio"]["mismatch"],
        true
    );
    // The other experiment was not tampered with more than by chance.
    let holdout = summary.sample_ratio("holdout").expect("enough units");
    assert!(holdout.p_value > 0.0, "{holdout:?}");
}

#[test]
fn a_balanced_population_passes_the_sample_ratio_check() {
    let program = rules();
    let summary = summarize(&program, 6000, 11);
    for exp in ["welcome_test", "holdout"] {
        let srm = summary.sample_ratio(exp).expect("enough units");
        assert!(!srm.mismatch, "{exp}: {srm:?}");
    }
    assert!(!summary.render_table().contains("SAMPLE RATIO MISMATCH"));
}

#[test]
fn a_ninety_ten_split_observed_as_fifty_fifty_is_a_mismatch() {
    // Keep every holdout unit and one in nine treatment units.
    let program = rules();
    let summary = skewed(&program, 6000, "holdout", "holdout", |k| k % 9 == 0);
    let srm = summary.sample_ratio("holdout").expect("enough units");
    assert!(srm.mismatch && srm.p_value < 1e-12, "{srm:?}");
}

fn close(actual: f64, expected: f64, tolerance: f64) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "got {actual}, expected {expected} ± {tolerance}"
    );
}

#[test]
fn chi_square_p_values_match_the_tables() {
    // Critical values from standard chi-square tables.
    close(chi_square_p_value(3.841, 1.0), 0.05, 1e-4);
    close(chi_square_p_value(6.635, 1.0), 0.01, 1e-4);
    close(chi_square_p_value(10.828, 1.0), 0.001, 1e-5);
    close(chi_square_p_value(5.991, 2.0), 0.05, 1e-4);
    close(chi_square_p_value(9.210, 2.0), 0.01, 1e-4);
    close(chi_square_p_value(7.815, 3.0), 0.05, 1e-4);
    close(chi_square_p_value(18.307, 10.0), 0.05, 1e-4);
    close(chi_square_p_value(124.342, 100.0), 0.05, 1e-4);
    // df = 2 is exactly exp(-x/2).
    for x in [0.5, 2.0, 13.0, 40.0] {
        close(chi_square_p_value(x, 2.0), (-x / 2.0f64).exp(), 1e-13);
    }
    // No deviation at all cannot be significant.
    close(chi_square_p_value(0.0, 1.0), 1.0, 0.0);
    // Far tails stay positive and tiny instead of underflowing to junk.
    let p = chi_square_p_value(100.0, 1.0);
    assert!(p > 0.0 && p < 1e-20, "{p}");
}

#[test]
fn incomplete_gamma_handles_bad_input() {
    assert!(gamma_q(0.0, 1.0).is_nan());
    assert!(gamma_q(1.0, -1.0).is_nan());
    assert!(gamma_q(f64::NAN, 1.0).is_nan());
    assert_eq!(gamma_q(3.0, f64::INFINITY), 0.0);
    // Q(a, x) for integer a is a Poisson tail: Q(3, 2) = e^-2 (1 + 2 + 2).
    close(gamma_q(3.0, 2.0), (-2.0f64).exp() * 5.0, 1e-13);
}
