//! Population summaries: what a program did to many profiles at once
//! (`onramp eval --profiles FILE --summary`, LANGUAGE.md §12).
//!
//! A [`Summary`] counts, per evaluated profile, segment memberships,
//! decision values, experiment variants and run-time errors, and checks
//! every experiment for a sample ratio mismatch: a chi-square
//! goodness-of-fit test of the assigned units against the configured
//! weights. Memory stays bounded whatever the population size: only
//! counters are kept, and at most [`MAX_DISTINCT_VALUES`] distinct values
//! per decision.

use crate::check::ir::RuleKind;
use crate::compile::RuleCode;
use crate::program::{EvalResult, Evaluator, Program};
use crate::value::Value;
use serde_json::{json, Map as JsonMap, Value as Json};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

/// How many distinct values of one decision are counted one by one; any
/// further new value is only counted as "other". A decision whose value
/// embeds a user id would otherwise hold one entry per profile.
pub const MAX_DISTINCT_VALUES: usize = 10_000;

/// How many of a decision's values are listed before "other".
pub const TOP_VALUES: usize = 10;

/// The p-value below which an experiment is flagged as a sample ratio
/// mismatch. Deliberately strict: the check runs on every experiment of
/// every summary, so a looser threshold would cry wolf regularly.
pub const SRM_THRESHOLD: f64 = 0.001;

/// The smallest expected count per variant for the chi-square
/// approximation to be trusted (the usual rule of thumb).
const MIN_EXPECTED: f64 = 5.0;

/// Longest decision value shown in the table; longer ones are cut.
const MAX_VALUE_WIDTH: usize = 64;

/// Longest example error message shown in the table.
const MAX_MESSAGE_WIDTH: usize = 100;

#[derive(Debug, Clone)]
struct SegmentStat {
    name: String,
    label: Option<String>,
    rule: u32,
    members: u64,
}

#[derive(Debug, Clone)]
struct DecisionStat {
    name: String,
    label: Option<String>,
    rule: u32,
    values: HashMap<String, u64>,
    /// Profiles whose value was new once `values` was full.
    overflow: u64,
}

#[derive(Debug, Clone)]
struct ExperimentStat {
    name: String,
    label: Option<String>,
    rule: u32,
    variants: Vec<Arc<str>>,
    weights: Vec<f64>,
    counts: Vec<u64>,
    not_assigned: u64,
    /// Values that are neither a declared variant nor null; only a host
    /// forcing an unknown variant can produce them.
    unknown: u64,
}

#[derive(Debug, Clone, Default)]
struct ErrorStat {
    errors: u64,
    profiles: u64,
    example: String,
}

/// The outcome of a sample ratio mismatch check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleRatio {
    /// The chi-square statistic.
    pub chi2: f64,
    /// Degrees of freedom: variants with a positive weight, minus one.
    pub df: u32,
    /// The probability of a deviation at least this large if assignment
    /// follows the weights.
    pub p_value: f64,
    /// `p_value < SRM_THRESHOLD`.
    pub mismatch: bool,
}

/// Aggregated results of evaluating a population of profiles.
#[derive(Debug, Clone)]
pub struct Summary {
    profiles: u64,
    unreadable: u64,
    profiles_with_errors: u64,
    segments: Vec<SegmentStat>,
    decisions: Vec<DecisionStat>,
    experiments: Vec<ExperimentStat>,
    errors: HashMap<String, ErrorStat>,
    /// Rules already counted for the current profile (reused buffer).
    seen: Vec<String>,
}

impl Summary {
    /// An empty summary for the outputs of this program.
    pub fn new(program: &Program) -> Summary {
        let mut s = Summary {
            profiles: 0,
            unreadable: 0,
            profiles_with_errors: 0,
            segments: Vec::new(),
            decisions: Vec::new(),
            experiments: Vec::new(),
            errors: HashMap::new(),
            seen: Vec::new(),
        };
        let code = &program.bytecode().rules;
        for (i, rule) in program.checked().rules.iter().enumerate() {
            let Ok(index) = u32::try_from(i) else { break };
            let name = rule.name.clone();
            let label = rule.label.clone();
            match rule.kind {
                RuleKind::Let => {}
                RuleKind::Segment => s.segments.push(SegmentStat {
                    name,
                    label,
                    rule: index,
                    members: 0,
                }),
                RuleKind::Decision => s.decisions.push(DecisionStat {
                    name,
                    label,
                    rule: index,
                    values: HashMap::new(),
                    overflow: 0,
                }),
                RuleKind::Experiment => {
                    let (variants, weights) = match code.get(i) {
                        Some(RuleCode::Experiment(e)) => (e.variants.clone(), e.weights.clone()),
                        _ => (Vec::new(), Vec::new()),
                    };
                    s.experiments.push(ExperimentStat {
                        name,
                        label,
                        rule: index,
                        counts: vec![0; variants.len()],
                        variants,
                        weights,
                        not_assigned: 0,
                        unknown: 0,
                    });
                }
            }
        }
        s
    }

    /// Counts one evaluated profile from its result.
    pub fn add(&mut self, result: &EvalResult) {
        self.profiles += 1;
        for seg in &mut self.segments {
            if result.segment(&seg.name) == Some(true) {
                seg.members += 1;
            }
        }
        for dec in &mut self.decisions {
            let key = match result.decision(&dec.name) {
                Some(v) => v.to_string(),
                None => "null".to_string(),
            };
            dec.count(key);
        }
        for exp in &mut self.experiments {
            match result.experiment(&exp.name) {
                Some(Json::String(v)) => exp.count(Some(v)),
                Some(Json::Null) | None => exp.count(None),
                Some(_) => exp.unknown += 1,
            }
        }
        self.count_errors(
            result
                .errors()
                .iter()
                .map(|e| (e.rule.as_str(), e.message.as_str())),
        );
    }

    /// Counts the profile an evaluator has just evaluated, straight from
    /// its values (cheaper than building an [`EvalResult`]).
    pub fn add_evaluation(&mut self, evaluator: &Evaluator<'_>) {
        self.profiles += 1;
        for seg in &mut self.segments {
            if evaluator.value_at(seg.rule).is_some_and(Value::is_true) {
                seg.members += 1;
            }
        }
        for dec in &mut self.decisions {
            let key = match evaluator.value_at(dec.rule) {
                Some(v) => v.to_json().to_string(),
                None => "null".to_string(),
            };
            dec.count(key);
        }
        for exp in &mut self.experiments {
            match evaluator.value_at(exp.rule) {
                Some(Value::Str(v)) => exp.count(Some(v)),
                Some(Value::Null) | None => exp.count(None),
                Some(_) => exp.unknown += 1,
            }
        }
        self.count_errors(evaluator.errors());
    }

    /// Counts an input line that could not be evaluated at all (not JSON,
    /// not an object).
    pub fn add_unreadable(&mut self) {
        self.unreadable += 1;
    }

    fn count_errors<'a>(&mut self, errors: impl Iterator<Item = (&'a str, &'a str)>) {
        self.seen.clear();
        for (rule, message) in errors {
            let stat = match self.errors.get_mut(rule) {
                Some(s) => s,
                None => self
                    .errors
                    .entry(rule.to_string())
                    .or_insert_with(|| ErrorStat {
                        example: message.to_string(),
                        ..ErrorStat::default()
                    }),
            };
            stat.errors += 1;
            if !self.seen.iter().any(|r| r == rule) {
                stat.profiles += 1;
                self.seen.push(rule.to_string());
            }
        }
        if !self.seen.is_empty() {
            self.profiles_with_errors += 1;
        }
    }

    /// Profiles evaluated (unreadable lines not included).
    pub fn profiles(&self) -> u64 {
        self.profiles
    }

    /// Input lines that could not be evaluated.
    pub fn unreadable(&self) -> u64 {
        self.unreadable
    }

    /// Profiles whose evaluation reported at least one run-time error.
    pub fn profiles_with_errors(&self) -> u64 {
        self.profiles_with_errors
    }

    /// The sample ratio check of an experiment: `None` for an unknown
    /// name, or when there are too few assigned units (or variants with a
    /// positive weight) for the test to mean anything.
    pub fn sample_ratio(&self, experiment: &str) -> Option<SampleRatio> {
        self.experiments
            .iter()
            .find(|e| e.name == experiment)
            .and_then(ExperimentStat::sample_ratio)
    }

    /// The summary as a human-readable report with aligned columns.
    pub fn render_table(&self) -> String {
        let mut out = String::new();
        out.push_str("Population summary\n");
        let mut overview = vec![vec![
            "Profiles evaluated".to_string(),
            thousands(self.profiles),
            String::new(),
        ]];
        overview.push(vec![
            "Unreadable lines".to_string(),
            thousands(self.unreadable),
            String::new(),
        ]);
        overview.push(vec![
            "Profiles with errors".to_string(),
            thousands(self.profiles_with_errors),
            percent(self.profiles_with_errors, self.profiles),
        ]);
        table(
            &mut out,
            None,
            &[Align::Left, Align::Right, Align::Right],
            &overview,
        );

        if !self.segments.is_empty() {
            out.push_str("\nSegments\n");
            let rows: Vec<Vec<String>> = self
                .segments
                .iter()
                .map(|s| {
                    vec![
                        s.name.clone(),
                        s.label.clone().unwrap_or_default(),
                        thousands(s.members),
                        percent(s.members, self.profiles),
                    ]
                })
                .collect();
            table(
                &mut out,
                Some(&["segment", "label", "profiles", "share"]),
                &[Align::Left, Align::Left, Align::Right, Align::Right],
                &rows,
            );
        }

        for dec in &self.decisions {
            let _ = writeln!(out, "\nDecision {}{}", dec.name, label_suffix(&dec.label));
            let (top, other, other_distinct) = dec.top();
            let mut rows: Vec<Vec<String>> = top
                .iter()
                .map(|(v, n)| {
                    vec![
                        shorten(v, MAX_VALUE_WIDTH),
                        thousands(*n),
                        percent(*n, self.profiles),
                    ]
                })
                .collect();
            if other > 0 {
                let what = if dec.overflow > 0 {
                    format!("other ({}+ distinct values)", thousands(other_distinct))
                } else {
                    format!("other ({} distinct values)", thousands(other_distinct))
                };
                rows.push(vec![what, thousands(other), percent(other, self.profiles)]);
            }
            if rows.is_empty() {
                out.push_str("  (no profiles)\n");
            } else {
                table(
                    &mut out,
                    Some(&["value", "profiles", "share"]),
                    &[Align::Left, Align::Right, Align::Right],
                    &rows,
                );
            }
        }

        for exp in &self.experiments {
            let _ = writeln!(out, "\nExperiment {}{}", exp.name, label_suffix(&exp.label));
            let assigned = exp.assigned();
            let total_weight = exp.total_weight();
            let mut rows: Vec<Vec<String>> = exp
                .variants
                .iter()
                .zip(&exp.counts)
                .zip(&exp.weights)
                .map(|((v, n), w)| {
                    let expected = if total_weight > 0.0 {
                        format!("{:.1}%", w / total_weight * 100.0)
                    } else {
                        "-".to_string()
                    };
                    vec![
                        v.to_string(),
                        thousands(*n),
                        percent(*n, self.profiles),
                        percent(*n, assigned),
                        expected,
                    ]
                })
                .collect();
            rows.push(vec![
                "null (not assigned)".to_string(),
                thousands(exp.not_assigned),
                percent(exp.not_assigned, self.profiles),
                String::new(),
                String::new(),
            ]);
            if exp.unknown > 0 {
                rows.push(vec![
                    "other (not a declared variant)".to_string(),
                    thousands(exp.unknown),
                    percent(exp.unknown, self.profiles),
                    String::new(),
                    String::new(),
                ]);
            }
            table(
                &mut out,
                Some(&["variant", "profiles", "share", "of assigned", "expected"]),
                &[
                    Align::Left,
                    Align::Right,
                    Align::Right,
                    Align::Right,
                    Align::Right,
                ],
                &rows,
            );
            match exp.sample_ratio() {
                Some(srm) if srm.mismatch => {
                    let _ = writeln!(
                        out,
                        "  SAMPLE RATIO MISMATCH: chi-square {:.2}, df {}, p = {} < {}.\n  \
                         Assignment does not follow the configured weights; do not trust\n  \
                         this experiment's results until the cause is found.",
                        srm.chi2,
                        srm.df,
                        p_value(srm.p_value),
                        SRM_THRESHOLD
                    );
                }
                Some(srm) => {
                    let _ = writeln!(
                        out,
                        "  Sample ratio check: ok (chi-square {:.2}, df {}, p = {})",
                        srm.chi2,
                        srm.df,
                        p_value(srm.p_value)
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "  Sample ratio check: not enough assigned units (needs at least {MIN_EXPECTED} expected per variant)"
                    );
                }
            }
        }

        out.push_str("\nErrors by rule\n");
        let errors = self.sorted_errors();
        if errors.is_empty() {
            out.push_str("  none\n");
        } else {
            let rows: Vec<Vec<String>> = errors
                .iter()
                .map(|(rule, e)| {
                    vec![
                        rule.to_string(),
                        thousands(e.errors),
                        thousands(e.profiles),
                        percent(e.profiles, self.profiles),
                        shorten(&e.example, MAX_MESSAGE_WIDTH),
                    ]
                })
                .collect();
            table(
                &mut out,
                Some(&["rule", "errors", "profiles", "share", "example"]),
                &[
                    Align::Left,
                    Align::Right,
                    Align::Right,
                    Align::Right,
                    Align::Left,
                ],
                &rows,
            );
        }
        out
    }

    /// The summary as JSON: the same numbers as the table, with shares as
    /// fractions (`null` when nothing was evaluated) and decision values
    /// as JSON values.
    pub fn to_json(&self) -> Json {
        let share = |n: u64, of: u64| -> Json {
            if of == 0 {
                Json::Null
            } else {
                json!(n as f64 / of as f64)
            }
        };
        let mut segments = JsonMap::new();
        for s in &self.segments {
            segments.insert(
                s.name.clone(),
                json!({"label": s.label, "count": s.members, "share": share(s.members, self.profiles)}),
            );
        }
        let mut decisions = JsonMap::new();
        for d in &self.decisions {
            let (top, other, other_distinct) = d.top();
            let values: Vec<Json> = top
                .iter()
                .map(|(v, n)| {
                    let value = serde_json::from_str::<Json>(v)
                        .unwrap_or_else(|_| Json::String(v.to_string()));
                    json!({"value": value, "count": n, "share": share(*n, self.profiles)})
                })
                .collect();
            decisions.insert(
                d.name.clone(),
                json!({
                    "label": d.label,
                    "distinct": d.values.len(),
                    "distinct_capped": d.overflow > 0,
                    "values": values,
                    "other": {"count": other, "distinct": other_distinct, "share": share(other, self.profiles)},
                }),
            );
        }
        let mut experiments = JsonMap::new();
        for e in &self.experiments {
            let assigned = e.assigned();
            let total_weight = e.total_weight();
            let mut counts = JsonMap::new();
            let variants: Vec<Json> = e
                .variants
                .iter()
                .zip(&e.counts)
                .zip(&e.weights)
                .map(|((v, n), w)| {
                    counts.insert(v.to_string(), json!(n));
                    let expected = if total_weight > 0.0 {
                        json!(w / total_weight)
                    } else {
                        Json::Null
                    };
                    json!({
                        "variant": v.as_ref(),
                        "count": n,
                        "share": share(*n, self.profiles),
                        "share_of_assigned": share(*n, assigned),
                        "expected_share": expected,
                    })
                })
                .collect();
            counts.insert("null".to_string(), json!(e.not_assigned));
            let srm = match e.sample_ratio() {
                Some(s) => json!({
                    "chi2": finite(s.chi2),
                    "df": s.df,
                    "p_value": finite(s.p_value),
                    "mismatch": s.mismatch,
                }),
                None => Json::Null,
            };
            experiments.insert(
                e.name.clone(),
                json!({
                    "label": e.label,
                    "assigned": assigned,
                    "not_assigned": e.not_assigned,
                    "other": e.unknown,
                    "counts": counts,
                    "variants": variants,
                    "sample_ratio": srm,
                }),
            );
        }
        let errors: Vec<Json> = self
            .sorted_errors()
            .iter()
            .map(|(rule, e)| {
                json!({
                    "rule": rule,
                    "errors": e.errors,
                    "profiles": e.profiles,
                    "share": share(e.profiles, self.profiles),
                    "example": e.example,
                })
            })
            .collect();
        json!({
            "profiles": self.profiles,
            "unreadable": self.unreadable,
            "profiles_with_errors": self.profiles_with_errors,
            "segments": segments,
            "decisions": decisions,
            "experiments": experiments,
            "errors": errors,
        })
    }

    /// Errors by rule, most profiles affected first (ties by name, so the
    /// report does not depend on hash order).
    fn sorted_errors(&self) -> Vec<(&str, &ErrorStat)> {
        let mut v: Vec<(&str, &ErrorStat)> =
            self.errors.iter().map(|(k, e)| (k.as_str(), e)).collect();
        v.sort_by(|a, b| {
            b.1.profiles
                .cmp(&a.1.profiles)
                .then(b.1.errors.cmp(&a.1.errors))
                .then(a.0.cmp(b.0))
        });
        v
    }
}

impl DecisionStat {
    fn count(&mut self, key: String) {
        if let Some(n) = self.values.get_mut(&key) {
            *n += 1;
        } else if self.values.len() < MAX_DISTINCT_VALUES {
            self.values.insert(key, 1);
        } else {
            self.overflow += 1;
        }
    }

    /// The most frequent values (ties by value text, for stable output),
    /// the count of all the others and how many distinct ones they are
    /// (a lower bound when values overflowed).
    fn top(&self) -> (Vec<(&str, u64)>, u64, u64) {
        let mut all: Vec<(&str, u64)> = self.values.iter().map(|(k, n)| (k.as_str(), *n)).collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let rest = all.split_off(all.len().min(TOP_VALUES));
        let other = rest.iter().map(|(_, n)| n).sum::<u64>() + self.overflow;
        let distinct = rest.len() as u64 + u64::from(self.overflow > 0);
        (all, other, distinct)
    }
}

impl ExperimentStat {
    fn count(&mut self, variant: Option<&str>) {
        match variant {
            None => self.not_assigned += 1,
            Some(v) => match self.variants.iter().position(|x| x.as_ref() == v) {
                Some(i) => self.counts[i] += 1,
                None => self.unknown += 1,
            },
        }
    }

    fn assigned(&self) -> u64 {
        self.counts.iter().sum()
    }

    fn total_weight(&self) -> f64 {
        self.weights.iter().filter(|w| **w > 0.0).sum()
    }

    /// Chi-square goodness of fit of the assigned units against the
    /// weights. Zero-weight variants are left out: they expect nobody, and
    /// only forced QA units can land there.
    fn sample_ratio(&self) -> Option<SampleRatio> {
        let total_weight = self.total_weight();
        let assigned: u64 = self
            .counts
            .iter()
            .zip(&self.weights)
            .filter(|(_, w)| **w > 0.0)
            .map(|(n, _)| n)
            .sum();
        let k = self.weights.iter().filter(|w| **w > 0.0).count();
        if k < 2 || assigned == 0 || !total_weight.is_finite() {
            return None;
        }
        let mut chi2 = 0.0;
        for (n, w) in self.counts.iter().zip(&self.weights) {
            if *w <= 0.0 {
                continue;
            }
            let expected = assigned as f64 * w / total_weight;
            if expected < MIN_EXPECTED {
                return None;
            }
            let d = *n as f64 - expected;
            chi2 += d * d / expected;
        }
        let df = u32::try_from(k - 1).unwrap_or(u32::MAX);
        let p = chi_square_p_value(chi2, f64::from(df));
        Some(SampleRatio {
            chi2,
            df,
            p_value: p,
            mismatch: p < SRM_THRESHOLD,
        })
    }
}

// ---------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------

/// The p-value of a chi-square statistic with `df` degrees of freedom:
/// the probability of a value at least this large, `Q(df/2, chi2/2)`.
pub fn chi_square_p_value(chi2: f64, df: f64) -> f64 {
    gamma_q(df / 2.0, chi2 / 2.0)
}

/// The regularized upper incomplete gamma function `Q(a, x)`, for `a > 0`
/// and `x >= 0` (NaN outside), after Numerical Recipes §6.2: the series
/// converges fast below `a + 1`, the continued fraction above it.
pub fn gamma_q(a: f64, x: f64) -> f64 {
    if a.is_nan() || x.is_nan() || a <= 0.0 || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return 1.0;
    }
    if x.is_infinite() {
        return 0.0;
    }
    if x < a + 1.0 {
        (1.0 - gamma_p_series(a, x)).clamp(0.0, 1.0)
    } else {
        gamma_q_fraction(a, x).clamp(0.0, 1.0)
    }
}

const GAMMA_EPS: f64 = 1e-15;
const GAMMA_TINY: f64 = 1e-300;
const GAMMA_ITERATIONS: u32 = 1000;

/// `P(a, x)` by its series.
fn gamma_p_series(a: f64, x: f64) -> f64 {
    let mut ap = a;
    let mut del = 1.0 / a;
    let mut sum = del;
    for _ in 0..GAMMA_ITERATIONS {
        ap += 1.0;
        del *= x / ap;
        sum += del;
        if del.abs() < sum.abs() * GAMMA_EPS {
            break;
        }
    }
    sum * (-x + a * x.ln() - ln_gamma(a)).exp()
}

/// `Q(a, x)` by its continued fraction (modified Lentz).
fn gamma_q_fraction(a: f64, x: f64) -> f64 {
    let mut b = x + 1.0 - a;
    let mut c = 1.0 / GAMMA_TINY;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..=GAMMA_ITERATIONS {
        let i = f64::from(i);
        let an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        if d.abs() < GAMMA_TINY {
            d = GAMMA_TINY;
        }
        c = b + an / c;
        if c.abs() < GAMMA_TINY {
            c = GAMMA_TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < GAMMA_EPS {
            break;
        }
    }
    (-x + a * x.ln() - ln_gamma(a)).exp() * h
}

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, nine coefficients; about 15
/// significant digits).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection keeps the approximation in its accurate range.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = G[0];
    for (i, g) in G.iter().enumerate().skip(1) {
        sum += g / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

// ---------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum Align {
    Left,
    Right,
}

/// Writes rows as columns indented by two spaces and separated by three,
/// widths measured in characters so labels with accents still line up.
fn table(out: &mut String, headers: Option<&[&str]>, align: &[Align], rows: &[Vec<String>]) {
    let columns = align.len();
    let mut widths = vec![0usize; columns];
    let header_row: Option<Vec<String>> =
        headers.map(|h| h.iter().map(|s| s.to_string()).collect());
    for row in header_row.iter().chain(rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in header_row.iter().chain(rows) {
        let mut line = String::from("  ");
        for (i, cell) in row.iter().enumerate().take(columns) {
            if i > 0 {
                line.push_str("   ");
            }
            let pad = widths[i].saturating_sub(cell.chars().count());
            match align[i] {
                Align::Left => {
                    line.push_str(cell);
                    line.extend(std::iter::repeat_n(' ', pad));
                }
                Align::Right => {
                    line.extend(std::iter::repeat_n(' ', pad));
                    line.push_str(cell);
                }
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

fn label_suffix(label: &Option<String>) -> String {
    match label {
        Some(l) => format!(" \"{l}\""),
        None => String::new(),
    }
}

/// `1234567` → `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn percent(n: u64, of: u64) -> String {
    if of == 0 {
        "-".to_string()
    } else {
        format!("{:.1}%", n as f64 / of as f64 * 100.0)
    }
}

fn p_value(p: f64) -> String {
    if p >= 0.0001 {
        format!("{p:.4}")
    } else {
        format!("{p:.1e}")
    }
}

fn finite(x: f64) -> Json {
    serde_json::Number::from_f64(x).map_or(Json::Null, Json::Number)
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn ln_gamma_known_values() {
        assert!((ln_gamma(1.0)).abs() < 1e-13);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-13);
        assert!((ln_gamma(10.0) - 362_880f64.ln()).abs() < 1e-11);
    }

    #[test]
    fn gamma_q_edges() {
        assert_eq!(gamma_q(1.0, 0.0), 1.0);
        assert_eq!(gamma_q(1.0, f64::INFINITY), 0.0);
        assert!(gamma_q(-1.0, 1.0).is_nan());
        // Q(1, x) = e^-x on both sides of the series/fraction switch.
        for x in [0.1, 1.0, 1.9, 2.1, 10.0, 50.0] {
            assert!((gamma_q(1.0, x) - (-x).exp()).abs() < 1e-12, "x = {x}");
        }
    }
}
