//! peerbench: Onramp against the engines a Rust team would embed instead.
//!
//! Measures Onramp, peer expression/rules engines and native Rust baselines
//! on the same five rules plus a 20-rule set, against one JSON user profile.
//! Prints markdown tables to stdout; progress goes to stderr.
//!
//! Env knobs: PEERBENCH_BATCH_MS (default 200), PEERBENCH_BATCHES
//! (default 5), PEERBENCH_ENGINES (comma-separated substrings to select
//! engines, e.g. `native,zen`).

mod driver;
mod engines;
mod harness;
mod native;
mod paired;
mod profiles;
mod rules;

use driver::{Input, Out, Report};
use harness::Cfg;
use profiles::{PROFILE, VERIFY_EXTRA};

fn expected(rules: &[rules::Rule], profiles: &[&str]) -> Vec<Vec<Out>> {
    let fs: Vec<native::TypedFn> = rules.iter().map(native::typed_closure).collect();
    profiles
        .iter()
        .map(|j| {
            let p: native::Profile = serde_json::from_str(j).unwrap();
            fs.iter()
                .map(|f| match f(&p) {
                    native::NOut::B(b) => Out::B(b),
                    native::NOut::S(s) => Out::S(s.to_string()),
                })
                .collect()
        })
        .collect()
}

fn lock_version(name: &str) -> String {
    let lock = include_str!("../../Cargo.lock");
    let needle = format!("name = \"{name}\"\nversion = \"");
    lock.find(&needle)
        .map(|i| {
            let rest = &lock[i + needle.len()..];
            rest[..rest.find('"').unwrap_or(0)].to_string()
        })
        .unwrap_or_else(|| "?".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn fmt_ns(x: f64) -> String {
    if x.is_nan() {
        "—".into()
    } else if x < 100.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.0}")
    }
}

fn fmt_ratio(x: f64, base: f64) -> String {
    if x.is_nan() || base.is_nan() || base <= 0.0 {
        "—".into()
    } else {
        let q = x / base;
        if q < 0.1 {
            format!("{q:.3}×")
        } else if q < 10.0 {
            format!("{q:.2}×")
        } else {
            format!("{q:.0}×")
        }
    }
}

fn print_tables(reports: &[Report]) {
    let ok: Vec<&Report> = reports.iter().filter(|r| r.status.is_ok()).collect();
    let native = ok.iter().find(|r| r.name.starts_with("native (typed"));
    let hdr = "| engine | R1 | R2 | R3 | R4 | R5 | 20 rules |";
    let sep = "|---|---:|---:|---:|---:|---:|---:|";

    println!("\n### (b) Evaluation, context pre-built — ns per eval (20 rules: ns per profile for all 20)\n");
    println!("{hdr}\n{sep}");
    for r in &ok {
        let cells: Vec<String> = r.rules.iter().map(|t| fmt_ns(t.eval)).collect();
        println!(
            "| {} | {} | {} |",
            r.name,
            cells.join(" | "),
            fmt_ns(r.twenty.eval)
        );
    }

    if ok.iter().any(|r| r.name.starts_with("onramp")) {
        println!(
            "\n*onramp rows:* \"eval\" = `Evaluator::run(&Context)` on a profile already bound with \
             `Evaluator::bind_str` (the bound-profile evaluation, like the peers' pre-built context) + \
             reading the answers with `value_at`. \"eval from serde_json::Value\" (`evaluate` = bind + run) \
             is in the extra table. Single rule = a program holding only that rule; 20 rules = **one** \
             program of 20 rules evaluated once (peers: 20 separately compiled expressions on one context). \
             \"schema\" = the program declares the profile's `schema` (typed binding); \"no schema\" = \
             run-time typing, like the peers."
        );
    }

    println!("\n### (a) Compile / parse once — ns per rule (20 rules: ns for all 20)\n");
    println!("{hdr}\n{sep}");
    for r in &ok {
        let cells: Vec<String> = r
            .rules
            .iter()
            .map(|t| t.compile.map_or("n/a".into(), fmt_ns))
            .collect();
        println!(
            "| {} | {} | {} |",
            r.name,
            cells.join(" | "),
            r.twenty.compile.map_or("n/a".into(), fmt_ns)
        );
    }

    println!("\n### (c) End-to-end — ns per profile: JSON string → engine context → eval (20 rules: context built once, 20 evals)\n");
    println!("| engine | ctx build only | R1 | R2 | R3 | R4 | R5 | 20 rules | ctx share of 20-rule e2e |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &ok {
        let cells: Vec<String> = r.rules.iter().map(|t| fmt_ns(t.e2e)).collect();
        println!(
            "| {} | {} | {} | {} | {:.0}% |",
            r.name,
            fmt_ns(r.ctx),
            cells.join(" | "),
            fmt_ns(r.twenty.e2e),
            100.0 * r.ctx / r.twenty.e2e
        );
    }

    if ok.iter().any(|r| r.name.starts_with("onramp")) {
        println!(
            "\n*onramp rows:* \"ctx build only\" = JSON text → bound slots (`Evaluator::bind_str`, for the \
             20-rule program); R1–R5 / 20 rules = `Evaluator::evaluate_str(text, &Context)` (bind from \
             text + run) + reading every answer. Compile (a) includes the `schema` item for the \
             \"schema\" rows."
        );
    }

    print_targets(&ok);

    if let Some(d) = ok.iter().find(|r| r.name.starts_with("datalogic-rs")) {
        println!("\n### Ratio to datalogic-rs — eval (b) (< 1.0× = faster than datalogic-rs)\n");
        println!("{hdr}\n{sep}");
        for r in &ok {
            let cells: Vec<String> = r
                .rules
                .iter()
                .zip(&d.rules)
                .map(|(t, b)| fmt_ratio(t.eval, b.eval))
                .collect();
            println!(
                "| {} | {} | {} |",
                r.name,
                cells.join(" | "),
                fmt_ratio(r.twenty.eval, d.twenty.eval)
            );
        }
    }

    if let Some(n) = native {
        println!("\n### Ratio to native (typed struct) — eval (b)\n");
        println!("{hdr}\n{sep}");
        for r in &ok {
            let cells: Vec<String> = r
                .rules
                .iter()
                .zip(&n.rules)
                .map(|(t, b)| fmt_ratio(t.eval, b.eval))
                .collect();
            println!(
                "| {} | {} | {} |",
                r.name,
                cells.join(" | "),
                fmt_ratio(r.twenty.eval, n.twenty.eval)
            );
        }
        println!("\n### Ratio to native (typed struct) — end-to-end (c)\n");
        println!("| engine | ctx build | R1 | R2 | R3 | R4 | R5 | 20 rules |");
        println!("|---|---:|---:|---:|---:|---:|---:|---:|");
        for r in &ok {
            let cells: Vec<String> = r
                .rules
                .iter()
                .zip(&n.rules)
                .map(|(t, b)| fmt_ratio(t.e2e, b.e2e))
                .collect();
            println!(
                "| {} | {} | {} | {} |",
                r.name,
                fmt_ratio(r.ctx, n.ctx),
                cells.join(" | "),
                fmt_ratio(r.twenty.e2e, n.twenty.e2e)
            );
        }
    }

    let extras: Vec<_> = ok
        .iter()
        .flat_map(|r| r.extras.iter().map(move |e| (r, e)))
        .collect();
    if !extras.is_empty() {
        println!("\n### Extra reference measurements\n");
        println!("| engine | what | ns |\n|---|---|---:|");
        for (r, (what, ns)) in extras {
            println!("| {} | {} | {} |", r.name, what, fmt_ns(*ns));
        }
    }

    let failed: Vec<&Report> = reports.iter().filter(|r| r.status.is_err()).collect();
    if !failed.is_empty() {
        println!("\n### Engines that failed\n");
        for r in failed {
            println!("- **{}**: {}", r.name, r.status.as_ref().unwrap_err());
        }
    }
}

/// The targets 1 and 2 as ratios measured in this run.
fn print_targets(ok: &[&Report]) {
    let onramps: Vec<&&Report> = ok.iter().filter(|r| r.name.starts_with("onramp")).collect();
    let dl = ok.iter().find(|r| r.name.starts_with("datalogic-rs"));
    let nt = ok.iter().find(|r| r.name.starts_with("native (typed"));
    if onramps.is_empty() {
        return;
    }
    let floor = nt.and_then(|n| {
        n.extras
            .iter()
            .find(|(w, _)| w.starts_with("20 rules eval, constants captured"))
            .map(|e| e.1)
    });
    let verdict = |x: f64, base: Option<f64>, limit: f64, strict: bool| -> String {
        match base {
            Some(b) if b > 0.0 && !x.is_nan() && !b.is_nan() => {
                let q = x / b;
                let met = if strict { q < limit } else { q <= limit };
                format!("{q:.2}× — {}", if met { "met" } else { "**not met**" })
            }
            _ => "— (peer not run)".into(),
        }
    };
    println!("\n### Targets (issue): Onramp ratios measured in this run\n");
    print!("| target | bound |");
    for r in &onramps {
        print!(" {} |", r.name);
    }
    println!();
    print!("|---|---|");
    for _ in &onramps {
        print!("---|");
    }
    println!();
    let row = |label: &str, bound: &str, f: &dyn Fn(&Report) -> String| {
        print!("| {label} | {bound} |");
        for r in &onramps {
            print!(" {} |", f(r));
        }
        println!();
    };
    for ri in 0..5 {
        row(
            &format!("1. eval R{} vs datalogic-rs eval", ri + 1),
            "< 1×",
            &|r: &Report| verdict(r.rules[ri].eval, dl.map(|d| d.rules[ri].eval), 1.0, true),
        );
    }
    row(
        "1. eval 20 rules vs boxed-closure floor (native typed, 20 data-driven closures)",
        "≤ 2×",
        &|r: &Report| verdict(r.twenty.eval, floor, 2.0, false),
    );
    row(
        "2. end-to-end R1 vs datalogic-rs end-to-end R1",
        "< 1×",
        &|r: &Report| verdict(r.rules[0].e2e, dl.map(|d| d.rules[0].e2e), 1.0, true),
    );
    row(
        "2. end-to-end 20 rules vs native typed struct end-to-end 20 rules",
        "≤ 1.5×",
        &|r: &Report| verdict(r.twenty.e2e, nt.map(|n| n.twenty.e2e), 1.5, false),
    );
    println!(
        "\n(Onramp's \"eval\" is `run` on a bound profile; datalogic-rs's starts from its pre-parsed \
         `ParsedData`. The same 2-core machine is noisy: treat ratios within ~1.5× of a bound as \
         unsettled until repeated.)"
    );
}

fn main() {
    let cfg = Cfg::from_env();
    let mut verify_profiles = vec![PROFILE];
    verify_profiles.extend_from_slice(VERIFY_EXTRA);
    let base = rules::base_rules();
    let twenty = rules::twenty_rules();
    let inp = Input {
        cfg,
        profile: PROFILE,
        expected_base: expected(&base, &verify_profiles),
        expected_twenty: expected(&twenty, &verify_profiles),
        verify_profiles,
        base,
        twenty,
    };

    // (display name, crates.io crate for the version label, runner)
    type Runner = fn(&Input) -> Report;
    let all: Vec<(&str, Option<&str>, Runner)> = vec![
        ("onramp (schema)", None, engines::onramp_schema),
        ("onramp (no schema)", None, engines::onramp_untyped),
        ("native (typed struct)", None, engines::native_typed),
        ("native (serde_json::Value)", None, engines::native_json),
        ("cel-interpreter", Some("cel-interpreter"), engines::cel),
        ("zen-expression", Some("zen-expression"), engines::zen),
        ("evalexpr", Some("evalexpr"), engines::evalexpr),
        ("rhai", Some("rhai"), engines::rhai),
        ("datalogic-rs", Some("datalogic-rs"), engines::datalogic),
    ];
    let filter: Option<Vec<String>> = std::env::var("PEERBENCH_ENGINES").ok().map(|s| {
        s.split(',')
            .map(|x| x.trim().to_lowercase())
            .filter(|x| !x.is_empty())
            .collect()
    });

    println!("## peerbench results\n");
    println!(
        "- machine: {} ({} logical CPUs visible); 2-core shared VM, noisy — ratios matter more than absolute ns",
        cpu_model(),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    println!(
        "- harness: calibrate/warm-up, then median of {} batches × ~{:.0} ms each; ns = median batch mean",
        cfg.batches,
        cfg.batch_ns / 1e6
    );
    println!(
        "- versions (Cargo.lock): cel-interpreter {}, zen-expression {}, evalexpr {}, rhai {}, datalogic-rs {}, serde_json {}",
        lock_version("cel-interpreter"),
        lock_version("zen-expression"),
        lock_version("evalexpr"),
        lock_version("rhai"),
        lock_version("datalogic-rs"),
        lock_version("serde_json"),
    );
    println!(
        "- all engines verified to return identical answers for 25 rules on {} profiles before timing",
        inp.verify_profiles.len()
    );

    let mut reports = Vec::new();
    for (name, krate, f) in all {
        if let Some(fl) = &filter {
            if !fl.iter().any(|x| name.to_lowercase().contains(x)) {
                continue;
            }
        }
        eprintln!("running {name} ...");
        let t = std::time::Instant::now();
        let mut r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&inp)))
            .unwrap_or_else(|_| Report::failed(name, "panicked (see stderr)".into()));
        if let Some(k) = krate {
            r.name = format!("{} {}", r.name, lock_version(k));
        }
        if let Err(e) = &r.status {
            eprintln!("  [{name}] FAILED: {e}");
        }
        eprintln!("  [{name}] done in {:.1}s", t.elapsed().as_secs_f64());
        reports.push(r);
    }
    // The two tightest targets again, each against its yardstick in
    // alternating batches, when both sides were run.
    let ran = |prefix: &str| {
        reports
            .iter()
            .any(|r| r.name.starts_with(prefix) && r.status.is_ok())
    };
    let mut paired = Vec::new();
    if ran("native (typed") {
        for (name, schema) in [("onramp (schema)", true), ("onramp (no schema)", false)] {
            if ran(name) {
                eprintln!("pairing {name} with native (typed struct) ...");
                paired.push((name, engines::onramp_paired(&inp, schema)));
            }
        }
    }
    print_tables(&reports);
    print_paired(&paired);
}

/// The paired (alternating-batch) ratios of targets 1 and 2.
fn print_paired(paired: &[(&str, Result<[harness::Ratio; 2], String>)]) {
    if paired.is_empty() {
        return;
    }
    println!("\n### Targets 1 and 2 (20 rules), paired: alternating batches\n");
    println!(
        "Each ratio is Onramp's batch over the yardstick's batch run right beside it, {} rounds; \
         the median and the range of the rounds. A change of load on the machine weighs on both \
         sides of each ratio, where the tables above time each engine at its own moment.\n",
        paired
            .iter()
            .find_map(|(_, r)| r.as_ref().ok().map(|r| r[0].rounds))
            .unwrap_or(0)
    );
    println!("| target | bound | engine | median | range |");
    println!("|---|---|---|---:|---|");
    let targets = [
        ("1. eval 20 rules vs boxed-closure floor", 2.0),
        ("2. end-to-end 20 rules vs native typed struct", 1.5),
    ];
    for (t, (label, bound)) in targets.iter().enumerate() {
        for (name, result) in paired {
            match result {
                Ok(r) => {
                    let r = r[t];
                    let met = if r.median <= *bound {
                        "met"
                    } else {
                        "**not met**"
                    };
                    println!(
                        "| {label} | ≤ {bound}× | {name} | {:.2}× — {met} | {:.2}–{:.2}× |",
                        r.median, r.min, r.max
                    );
                }
                Err(e) => println!("| {label} | ≤ {bound}× | {name} | failed: {e} | |"),
            }
        }
    }
}
