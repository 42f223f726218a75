//! Engine-agnostic measurement driver and report types.

use crate::harness::{measure, Cfg};
use crate::rules::Rule;
use std::hint::black_box;

/// Engine-neutral result used only for cross-engine verification.
#[derive(Clone, Debug, PartialEq)]
pub enum Out {
    B(bool),
    S(String),
}

#[derive(Clone, Debug, Default)]
pub struct Timing {
    /// ns to compile/parse the rule text (None for native code).
    pub compile: Option<f64>,
    /// ns per evaluation with the context already built.
    pub eval: f64,
    /// ns per profile: JSON string -> engine context -> evaluation.
    pub e2e: f64,
}

#[derive(Clone, Debug)]
pub struct Report {
    pub name: String,
    pub status: Result<(), String>,
    /// ns to build the engine's context from the JSON string (alone).
    pub ctx: f64,
    pub rules: Vec<Timing>,
    /// 20-rule scenario: compile = all 20, eval = all 20 on a built
    /// context, e2e = build context once + all 20 evaluations.
    pub twenty: Timing,
    /// Extra one-off measurements worth reporting (label, ns).
    pub extras: Vec<(String, f64)>,
}

impl Report {
    pub fn failed(name: &str, why: String) -> Self {
        Report {
            name: name.to_string(),
            status: Err(why),
            ctx: f64::NAN,
            rules: vec![],
            twenty: Timing::default(),
            extras: vec![],
        }
    }
}

pub struct Input {
    pub cfg: Cfg,
    pub profile: &'static str,
    pub verify_profiles: Vec<&'static str>,
    pub base: Vec<Rule>,
    pub twenty: Vec<Rule>,
    /// expected[profile][rule] for base rules and for the twenty rules.
    pub expected_base: Vec<Vec<Out>>,
    pub expected_twenty: Vec<Vec<Out>>,
}

/// Generic driver for interpreted engines.
///
/// * `to_text`  – rule spec -> engine source text (not timed)
/// * `compile`  – source text -> compiled program
/// * `build`    – JSON string -> engine context (the "native value form")
/// * `eval`     – timed evaluation, returns the engine's own result value
/// * `eval_out` – evaluation converted to `Out` (verification only)
#[allow(clippy::too_many_arguments)]
pub fn drive<C, X, R>(
    name: &str,
    inp: &Input,
    to_text: fn(&Rule) -> String,
    mut compile: impl FnMut(&str) -> Result<C, String>,
    build: impl Fn(&str) -> Result<X, String>,
    mut eval: impl FnMut(&C, &mut X) -> R,
    mut eval_out: impl FnMut(&C, &mut X) -> Result<Out, String>,
) -> Report {
    let cfg = inp.cfg;
    let base_txt: Vec<String> = inp.base.iter().map(to_text).collect();
    let twenty_txt: Vec<String> = inp.twenty.iter().map(to_text).collect();

    // ---- compile everything once (fail early with a reason) ----
    let mut base_c = Vec::new();
    for t in &base_txt {
        match compile(t) {
            Ok(c) => base_c.push(c),
            Err(e) => return Report::failed(name, format!("compile failed for `{t}`: {e}")),
        }
    }
    let mut twenty_c = Vec::new();
    for t in &twenty_txt {
        match compile(t) {
            Ok(c) => twenty_c.push(c),
            Err(e) => return Report::failed(name, format!("compile failed for `{t}`: {e}")),
        }
    }

    // ---- verify answers on every verification profile ----
    for (pi, pj) in inp.verify_profiles.iter().enumerate() {
        let mut x = match build(pj) {
            Ok(x) => x,
            Err(e) => return Report::failed(name, format!("context build failed: {e}")),
        };
        for (ri, c) in base_c.iter().enumerate() {
            let got = eval_out(c, &mut x);
            let want = &inp.expected_base[pi][ri];
            if got.as_ref() != Ok(want) {
                return Report::failed(
                    name,
                    format!(
                        "verification failed: profile {pi}, rule `{}`: got {got:?}, want {want:?}",
                        base_txt[ri]
                    ),
                );
            }
        }
        for (ri, c) in twenty_c.iter().enumerate() {
            let got = eval_out(c, &mut x);
            let want = &inp.expected_twenty[pi][ri];
            if got.as_ref() != Ok(want) {
                return Report::failed(
                    name,
                    format!(
                        "verification failed: profile {pi}, rule `{}`: got {got:?}, want {want:?}",
                        twenty_txt[ri]
                    ),
                );
            }
        }
    }
    eprintln!(
        "  [{name}] verified {} profiles x {} rules",
        inp.verify_profiles.len(),
        25
    );

    let json = inp.profile;
    let ctx = measure(&cfg, || build(black_box(json)).unwrap());
    eprintln!("  [{name}] ctx build {ctx:.0} ns");

    let mut rules = Vec::new();
    let mut x = build(json).unwrap();
    for (ri, c) in base_c.iter().enumerate() {
        let t = &base_txt[ri];
        let compile_ns = measure(&cfg, || compile(black_box(t)).unwrap());
        let eval_ns = measure(&cfg, || eval(c, black_box(&mut x)));
        let e2e_ns = measure(&cfg, || {
            let mut x = build(black_box(json)).unwrap();
            eval(c, &mut x)
        });
        eprintln!(
            "  [{name}] R{}: compile {compile_ns:.0} ns, eval {eval_ns:.1} ns, e2e {e2e_ns:.0} ns",
            ri + 1
        );
        rules.push(Timing {
            compile: Some(compile_ns),
            eval: eval_ns,
            e2e: e2e_ns,
        });
    }

    let compile20 = measure(&cfg, || {
        twenty_txt
            .iter()
            .map(|t| compile(black_box(t)).unwrap())
            .collect::<Vec<_>>()
    });
    let eval20 = measure(&cfg, || {
        for c in &twenty_c {
            black_box(eval(c, black_box(&mut x)));
        }
    });
    let e2e20 = measure(&cfg, || {
        let mut x = build(black_box(json)).unwrap();
        for c in &twenty_c {
            black_box(eval(c, &mut x));
        }
    });
    eprintln!(
        "  [{name}] 20 rules: compile {compile20:.0} ns, eval {eval20:.0} ns, e2e {e2e20:.0} ns"
    );

    Report {
        name: name.to_string(),
        status: Ok(()),
        ctx,
        rules,
        twenty: Timing {
            compile: Some(compile20),
            eval: eval20,
            e2e: e2e20,
        },
        extras: vec![],
    }
}
