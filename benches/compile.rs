//! Target 5 of the performance issue: compile time.
//!
//! * `rules_dir`: the example program in `rules/` (every `.ramp` file, read
//!   from disk once) — source text → checked, compiled `Program`. Bound: 1 ms.
//! * `generated_2000`: a generated program of 2,000 rules (lets, segments
//!   and decisions over a 40-field schema with events, each referring to
//!   earlier rules) compiled from one source text. Bound: 1 s.
//!
//! Run: `cargo bench --bench compile`

mod common;

use common::{estimate_ns, fmt_ns};
use criterion::Criterion;
use onramp::{Engine, SourceMap};
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

/// The `rules/` directory's files as (name, text), read once.
fn rules_dir() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
    onramp::collect_files(std::path::Path::new(dir))
        .expect("rules/")
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p.to_string_lossy().into_owned(), text)
        })
        .collect()
}

/// A generated program of `n` rules (plus its schema).
pub fn generated(n: usize) -> String {
    let mut s = String::from("schema {\n");
    for k in 0..10 {
        let _ = writeln!(
            s,
            "  user.n{k}: int\n  user.x{k}: float\n  user.s{k}: string?\n  user.b{k}: bool"
        );
    }
    s.push_str(
        "  tags: list<string>?\n  events: list<{ name: string, at: time, props: map? }>\n  \
         event \"session_start\"\n  event \"purchase\" { amount: float }\n}\n\n",
    );
    for i in 0..n {
        let k = i % 10;
        let c = i % 97;
        match i % 5 {
            0 => {
                let _ = writeln!(s, "let l{i} = user.n{k} * 2 + user.x{k} * {c}");
            }
            1 => {
                let _ = writeln!(
                    s,
                    "segment s{i} = user.n{k} > {c} and user.s{k} in [\"a{c}\", \"b\", \"c\", \"d\"]"
                );
            }
            2 => {
                let _ = writeln!(
                    s,
                    "segment s{i} \"Generated {i}\" = s{} or (l{} > {c}.5 and \"beta\" in tags)",
                    i - 1,
                    i - 2
                );
            }
            3 => {
                let _ = writeln!(
                    s,
                    "decision d{i} {{\n  when s{} => \"x{c}\"\n  \
                     when user.b{k} and count(\"session_start\", .at within 7d) >= {} => \"y\"\n  \
                     when user.x{k} between 0.1 and 0.5 => \"z\"\n  \
                     when sum(\"purchase\", .props.amount) > {c} => \"Hi {{user.s{k}}}\"\n  \
                     else => \"w\"\n}}",
                    i - 2,
                    c % 7 + 1
                );
            }
            _ => {
                let _ = writeln!(
                    s,
                    "segment s{i} = d{} == \"y\" or lower(user.s{k}) starts_with \"fi\" or not s{}",
                    i - 1,
                    i - 3
                );
            }
        }
    }
    s
}

fn benches(c: &mut Criterion) {
    let files = rules_dir();
    let engine = Engine::new();
    let build = |files: &[(String, String)]| {
        let mut map = SourceMap::new();
        for (name, text) in files {
            map.add(name.clone(), text.clone());
        }
        map
    };
    engine
        .compile_sources(build(&files))
        .unwrap_or_else(|e| panic!("rules/: {e}"));
    let gen = generated(2000);
    let p = engine
        .compile(&gen)
        .unwrap_or_else(|e| panic!("generated: {e}"));
    println!(
        "compile: rules/ = {} files, {} bytes; generated = {} rules, {} bytes",
        files.len(),
        files.iter().map(|f| f.1.len()).sum::<usize>(),
        p.checked().rules.len(),
        gen.len()
    );

    let mut g = c.benchmark_group("compile");
    g.bench_function("rules_dir", |b| {
        b.iter(|| engine.compile_sources(build(black_box(&files))).unwrap())
    });
    g.sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(200));
    g.bench_function("generated_2000", |b| {
        b.iter(|| engine.compile(black_box(&gen)).unwrap())
    });
    g.finish();
}

fn summary() {
    let r = estimate_ns("compile", "rules_dir");
    let g = estimate_ns("compile", "generated_2000");
    let met = |x: Option<f64>, bound_ns: f64| match x {
        None => "— (not measured in this run)",
        Some(x) if x < bound_ns => "met",
        Some(_) => "NOT met",
    };
    println!("\n## compile bench summary (criterion estimates: the `time:` point estimate)\n");
    println!("| program | time | bound | target 5 |\n|---|---:|---:|---|");
    println!(
        "| rules/ (example program) | {} µs | 1 ms | {} |",
        fmt_ns(r.map(|x| x / 1e3)),
        met(r, 1e6)
    );
    println!(
        "| generated, 2,000 rules | {} ms | 1 s | {} |",
        fmt_ns(g.map(|x| x / 1e6)),
        met(g, 1e9)
    );
}

fn main() {
    let mut c = common::criterion();
    benches(&mut c);
    c.final_summary();
    summary();
}
