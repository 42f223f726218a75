//! One function per engine. Each returns a `Report`.

use crate::driver::{drive, Input, Out, Report, Timing};
use crate::harness::{measure, Cfg, Ratio};
use crate::native::{self, NOut, Profile};
use crate::rules;
use std::hint::black_box;

fn nout(n: NOut) -> Out {
    match n {
        NOut::B(b) => Out::B(b),
        NOut::S(s) => Out::S(s.to_string()),
    }
}

// ---------------------------------------------------------------------
// Native: typed struct
// ---------------------------------------------------------------------

fn time_typed<R>(cfg: &Cfg, p: &Profile, json: &str, f: impl Fn(&Profile) -> R) -> Timing {
    let eval = measure(cfg, || f(black_box(p)));
    let e2e = measure(cfg, || {
        let p: Profile = serde_json::from_str(black_box(json)).unwrap();
        f(&p)
    });
    Timing {
        compile: None,
        eval,
        e2e,
    }
}

pub fn native_typed(inp: &Input) -> Report {
    let name = "native (typed struct)";
    let parse = |j: &str| serde_json::from_str::<Profile>(j).unwrap();
    // Main 20-rule number: one hand-written function, literal constants.
    // Extra: spec-driven closures with constants captured at runtime.
    let twenty_captured: Vec<native::TypedFn> =
        inp.twenty.iter().map(native::typed_closure).collect();
    for (pi, pj) in inp.verify_profiles.iter().enumerate() {
        let p = parse(pj);
        for ri in 0..5 {
            let got = nout(native::typed_literal(ri)(&p));
            if got != inp.expected_base[pi][ri] {
                return Report::failed(
                    name,
                    format!("literal R{} mismatch on profile {pi}", ri + 1),
                );
            }
        }
        for (ri, o) in native::t_twenty(&p).into_iter().enumerate() {
            if nout(o) != inp.expected_twenty[pi][ri] {
                return Report::failed(
                    name,
                    format!("literal 20-set rule {ri} mismatch on profile {pi}"),
                );
            }
        }
        for (ri, f) in twenty_captured.iter().enumerate() {
            if nout(f(&p)) != inp.expected_twenty[pi][ri] {
                return Report::failed(
                    name,
                    format!("closure 20-set rule {ri} mismatch on profile {pi}"),
                );
            }
        }
        // the zero-copy struct must agree too
        let pr: native::ProfileRef = serde_json::from_str(pj).unwrap();
        if Out::B(native::r_r4(&pr)) != inp.expected_base[pi][3] {
            return Report::failed(name, format!("zero-copy R4 mismatch on profile {pi}"));
        }
    }
    let cfg = &inp.cfg;
    let json = inp.profile;
    let p = parse(json);
    let ctx = measure(cfg, || parse(black_box(json)));
    let rules = vec![
        time_typed(cfg, &p, json, native::t_r1),
        time_typed(cfg, &p, json, native::t_r2),
        time_typed(cfg, &p, json, native::t_r3),
        time_typed(cfg, &p, json, native::t_r4),
        time_typed(cfg, &p, json, native::t_r5),
    ];
    let eval20 = measure(cfg, || native::t_twenty(black_box(&p)));
    let e2e20 = measure(cfg, || {
        let p = parse(black_box(json));
        native::t_twenty(&p)
    });
    eprintln!("  [{name}] ctx {ctx:.0} ns, 20-rule eval {eval20:.1} ns, e2e {e2e20:.0} ns");
    let eval20c = measure(cfg, || {
        for f in &twenty_captured {
            black_box(f(black_box(&p)));
        }
    });
    let ctx_ref = measure(cfg, || {
        serde_json::from_str::<native::ProfileRef>(black_box(json)).unwrap()
    });
    let e2e_ref = measure(cfg, || {
        let p: native::ProfileRef = serde_json::from_str(black_box(json)).unwrap();
        native::r_r4(&p)
    });
    Report {
        name: name.into(),
        status: Ok(()),
        ctx,
        rules,
        twenty: Timing {
            compile: None,
            eval: eval20,
            e2e: e2e20,
        },
        extras: vec![
            (
                "20 rules eval, constants captured at runtime (data-driven closures)".into(),
                eval20c,
            ),
            ("ctx build, zero-copy struct (&str fields)".into(), ctx_ref),
            ("R4 e2e, zero-copy struct (&str fields)".into(), e2e_ref),
        ],
    }
}

// ---------------------------------------------------------------------
// Native: serde_json::Value
// ---------------------------------------------------------------------

fn time_json<R>(
    cfg: &Cfg,
    v: &serde_json::Value,
    json: &str,
    f: impl Fn(&serde_json::Value) -> R,
) -> Timing {
    let eval = measure(cfg, || f(black_box(v)));
    let e2e = measure(cfg, || {
        let v: serde_json::Value = serde_json::from_str(black_box(json)).unwrap();
        f(&v)
    });
    Timing {
        compile: None,
        eval,
        e2e,
    }
}

pub fn native_json(inp: &Input) -> Report {
    let name = "native (serde_json::Value)";
    let parse = |j: &str| serde_json::from_str::<serde_json::Value>(j).unwrap();
    let twenty: Vec<native::JsonFn> = inp.twenty.iter().map(native::json_closure).collect();
    for (pi, pj) in inp.verify_profiles.iter().enumerate() {
        let v = parse(pj);
        for ri in 0..5 {
            let got = nout(native::json_literal(ri)(&v));
            if got != inp.expected_base[pi][ri] {
                return Report::failed(
                    name,
                    format!("literal R{} mismatch on profile {pi}", ri + 1),
                );
            }
        }
        for (ri, f) in twenty.iter().enumerate() {
            if nout(f(&v)) != inp.expected_twenty[pi][ri] {
                return Report::failed(name, format!("closure {ri} mismatch on profile {pi}"));
            }
        }
    }
    let cfg = &inp.cfg;
    let json = inp.profile;
    let v = parse(json);
    let ctx = measure(cfg, || parse(black_box(json)));
    let rules = vec![
        time_json(cfg, &v, json, native::j_r1),
        time_json(cfg, &v, json, native::j_r2),
        time_json(cfg, &v, json, native::j_r3),
        time_json(cfg, &v, json, native::j_r4),
        time_json(cfg, &v, json, native::j_r5),
    ];
    let eval20 = measure(cfg, || {
        for f in &twenty {
            black_box(f(black_box(&v)));
        }
    });
    let e2e20 = measure(cfg, || {
        let v = parse(black_box(json));
        for f in &twenty {
            black_box(f(&v));
        }
    });
    eprintln!("  [{name}] ctx {ctx:.0} ns, 20-rule eval {eval20:.1} ns, e2e {e2e20:.0} ns");
    Report {
        name: name.into(),
        status: Ok(()),
        ctx,
        rules,
        twenty: Timing {
            compile: None,
            eval: eval20,
            e2e: e2e20,
        },
        extras: vec![],
    }
}

// ---------------------------------------------------------------------
// cel-interpreter
// ---------------------------------------------------------------------

fn cel_build<'r>(
    root: &'r cel_interpreter::Context<'_>,
    j: &str,
) -> Result<cel_interpreter::Context<'r>, String> {
    let m: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(j).map_err(|e| e.to_string())?;
    let mut c = root.new_inner_scope();
    for (k, v) in m {
        c.add_variable(k, v).map_err(|e| format!("{e:?}"))?;
    }
    Ok(c)
}

pub fn cel(inp: &Input) -> Report {
    use cel_interpreter::{Context, Program, Value};
    // Root context with the standard function registry is built once;
    // each profile gets a cheap child scope holding its variables.
    let root = Context::default();
    let mut rep = drive(
        "cel-interpreter",
        inp,
        rules::cel,
        |t| Program::compile(t).map_err(|e| format!("{e:?}")),
        |j| cel_build(&root, j),
        |p: &Program, x: &mut Context| p.execute(x).unwrap(),
        |p, x| match p.execute(x) {
            Ok(Value::Bool(b)) => Ok(Out::B(b)),
            Ok(Value::String(s)) => Ok(Out::S(s.to_string())),
            Ok(v) => Err(format!("unexpected {v:?}")),
            Err(e) => Err(format!("{e:?}")),
        },
    );
    if rep.status.is_ok() {
        // For reference: building a fresh Context::default() per profile
        // (what most examples do) instead of a child scope.
        let json = inp.profile;
        let fresh = measure(&inp.cfg, || {
            let m: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(black_box(json)).unwrap();
            let mut c = Context::default();
            for (k, v) in m {
                c.add_variable(k, v).unwrap();
            }
            c
        });
        rep.extras.push((
            "ctx build with fresh Context::default() per profile".into(),
            fresh,
        ));
    }
    rep
}

// ---------------------------------------------------------------------
// zen-expression
// ---------------------------------------------------------------------

fn zen_out(v: zen_expression::Variable) -> Result<Out, String> {
    use zen_expression::Variable;
    match v {
        Variable::Bool(b) => Ok(Out::B(b)),
        Variable::String(s) => Ok(Out::S(s.as_str().to_string())),
        other => Err(format!("unexpected {other:?}")),
    }
}

pub fn zen(inp: &Input) -> Report {
    use zen_expression::expression::Standard;
    use zen_expression::vm::VM;
    use zen_expression::{Expression, Isolate, Scope, Variable};
    let mut iso = Isolate::new();
    let mut vm1 = VM::new();
    let mut vm2 = VM::new();
    drive(
        "zen-expression",
        inp,
        rules::zen,
        |t| iso.compile_standard(t).map_err(|e| format!("{e:?}")),
        |j| {
            serde_json::from_str::<Variable>(j)
                .map(Scope::new)
                .map_err(|e| e.to_string())
        },
        move |c: &Expression<Standard>, x: &mut Scope| c.evaluate_with_scope(x, &mut vm1).unwrap(),
        move |c, x| {
            zen_out(
                c.evaluate_with_scope(x, &mut vm2)
                    .map_err(|e| format!("{e:?}"))?,
            )
        },
    )
}

// ---------------------------------------------------------------------
// evalexpr
// ---------------------------------------------------------------------

type EvCtx = evalexpr::HashMapContext<evalexpr::DefaultNumericTypes>;
type EvVal = evalexpr::Value<evalexpr::DefaultNumericTypes>;

fn ev_value(v: serde_json::Value) -> Result<EvVal, String> {
    use serde_json::Value as J;
    Ok(match v {
        J::Null => EvVal::Empty,
        J::Bool(b) => EvVal::Boolean(b),
        J::Number(n) => match n.as_i64() {
            Some(i) => EvVal::Int(i),
            None => EvVal::Float(n.as_f64().ok_or("bad number")?),
        },
        J::String(s) => EvVal::String(s),
        J::Array(a) => EvVal::Tuple(a.into_iter().map(ev_value).collect::<Result<_, _>>()?),
        J::Object(_) => return Err("nested object inside array not representable".into()),
    })
}

/// evalexpr has no nested objects: flatten to dotted identifiers.
fn ev_flatten(prefix: String, v: serde_json::Value, ctx: &mut EvCtx) -> Result<(), String> {
    use evalexpr::ContextWithMutableVariables;
    match v {
        serde_json::Value::Object(m) => {
            for (k, vv) in m {
                let key = if prefix.is_empty() {
                    k
                } else {
                    format!("{prefix}.{k}")
                };
                ev_flatten(key, vv, ctx)?;
            }
            Ok(())
        }
        other => ctx
            .set_value(prefix, ev_value(other)?)
            .map_err(|e| e.to_string()),
    }
}

fn ev_build(j: &str) -> Result<EvCtx, String> {
    let v: serde_json::Value = serde_json::from_str(j).map_err(|e| e.to_string())?;
    let mut ctx = EvCtx::new();
    ev_flatten(String::new(), v, &mut ctx)?;
    Ok(ctx)
}

pub fn evalexpr(inp: &Input) -> Report {
    use evalexpr::{build_operator_tree, DefaultNumericTypes, Node};
    drive(
        "evalexpr",
        inp,
        rules::evalexpr,
        |t| build_operator_tree::<DefaultNumericTypes>(t).map_err(|e| e.to_string()),
        ev_build,
        |n: &Node<DefaultNumericTypes>, x: &mut EvCtx| n.eval_with_context(x).unwrap(),
        |n, x| match n.eval_with_context(x) {
            Ok(EvVal::Boolean(b)) => Ok(Out::B(b)),
            Ok(EvVal::String(s)) => Ok(Out::S(s)),
            Ok(v) => Err(format!("unexpected {v:?}")),
            Err(e) => Err(e.to_string()),
        },
    )
}

// ---------------------------------------------------------------------
// rhai
// ---------------------------------------------------------------------

pub fn rhai(inp: &Input) -> Report {
    use rhai::{Dynamic, Engine, Map, Scope, AST};
    let engine = Engine::new();
    let e = &engine;
    // Context from JSON via serde (`serde` feature: Dynamic implements
    // Deserialize); the built-in Engine::parse_json is reported as an extra.
    let mut rep = drive(
        "rhai",
        inp,
        rules::rhai,
        |t| e.compile(t).map_err(|err| err.to_string()),
        |j| {
            let d: Dynamic = serde_json::from_str(j).map_err(|err| err.to_string())?;
            let m: Map = d.try_cast::<Map>().ok_or("profile is not an object")?;
            let mut s = Scope::new();
            for (k, v) in m {
                s.push_dynamic(k, v);
            }
            Ok(s)
        },
        |ast: &AST, x: &mut Scope<'static>| e.eval_ast_with_scope::<Dynamic>(x, ast).unwrap(),
        |ast, x| {
            let d = e
                .eval_ast_with_scope::<Dynamic>(x, ast)
                .map_err(|err| err.to_string())?;
            if let Ok(b) = d.as_bool() {
                Ok(Out::B(b))
            } else if d.is_string() {
                Ok(Out::S(d.into_string().unwrap()))
            } else {
                Err(format!("unexpected {d:?}"))
            }
        },
    );
    if rep.status.is_ok() {
        let json = inp.profile;
        let t = measure(&inp.cfg, || {
            let m = e.parse_json(black_box(json), true).unwrap();
            let mut s = Scope::new();
            for (k, v) in m {
                s.push_dynamic(k, v);
            }
            s
        });
        rep.extras
            .push(("ctx build via built-in Engine::parse_json".into(), t));
    }
    rep
}

// ---------------------------------------------------------------------
// datalogic-rs (JsonLogic)
// ---------------------------------------------------------------------

pub fn datalogic(inp: &Input) -> Report {
    use datalogic_rs::bumpalo::Bump;
    use datalogic_rs::{Engine, Logic, ParsedData};
    let engine = Engine::new();
    let e = &engine;
    // Result arenas, reset after every evaluation (bounded memory, the
    // documented hot-loop pattern).
    let mut a1 = Bump::new();
    let mut a2 = Bump::new();
    let mut rep = drive(
        "datalogic-rs",
        inp,
        rules::jsonlogic,
        |t| e.compile(t).map_err(|err| err.to_string()),
        |j| ParsedData::from_json(j).map_err(|err| err.to_string()),
        move |c: &Logic, x: &mut ParsedData| {
            let v = e.evaluate(c, &*x, &a1).unwrap();
            let r = match v.as_bool() {
                Some(b) => b as usize,
                None => v.as_str().map_or(usize::MAX, |s| s.len()),
            };
            a1.reset();
            r
        },
        move |c, x| {
            let out = match e.evaluate(c, &*x, &a2) {
                Ok(v) => match (v.as_bool(), v.as_str()) {
                    (Some(b), _) => Ok(Out::B(b)),
                    (None, Some(s)) => Ok(Out::S(s.to_string())),
                    _ => Err(format!("unexpected {v:?}")),
                },
                Err(err) => Err(err.to_string()),
            };
            a2.reset();
            out
        },
    );
    if rep.status.is_ok() {
        // For reference: single-rule end-to-end passing the JSON &str
        // straight to evaluate() (parsed into a reused arena) instead of
        // building a ParsedData handle.
        let logic = engine
            .compile(rules::jsonlogic(&inp.base[3]).as_str())
            .unwrap();
        let json = inp.profile;
        let mut arena = Bump::new();
        let t = measure(&inp.cfg, || {
            let r = engine
                .evaluate(&logic, black_box(json), &arena)
                .unwrap()
                .as_bool();
            arena.reset();
            r
        });
        rep.extras
            .push(("R4 e2e with &str input into a reused arena".into(), t));
    }
    rep
}

// ---------------------------------------------------------------------
// Onramp (this repository)
// ---------------------------------------------------------------------

/// Fixed evaluation instant (rules here do not read `now`).
const ONRAMP_NOW_MS: i64 = 1_764_000_000_000;

fn onramp_out(v: Option<&onramp::Value>) -> Result<Out, String> {
    match v {
        Some(onramp::Value::Bool(b)) => Ok(Out::B(*b)),
        Some(onramp::Value::Str(s)) => Ok(Out::S(s.to_string())),
        other => Err(format!("unexpected {other:?}")),
    }
}

/// Cheap, allocation-free fold of one answer (what the timed loops return,
/// so reading the results stays inside the measurement).
#[inline(always)]
fn onramp_fold(v: Option<&onramp::Value>) -> usize {
    match v {
        Some(onramp::Value::Bool(b)) => *b as usize,
        Some(onramp::Value::Str(s)) => s.len(),
        _ => usize::MAX,
    }
}

fn onramp_compile(text: &str) -> Result<onramp::Program, String> {
    onramp::Program::compile(text).map_err(|e| e.to_string())
}

/// Onramp with the profile's `schema` declared (typed binding), the way the
/// language is meant to be used.
pub fn onramp_schema(inp: &Input) -> Report {
    onramp_run("onramp (schema)", inp, true)
}

/// Onramp without a schema (types checked at run time), like the peers.
pub fn onramp_untyped(inp: &Input) -> Report {
    onramp_run("onramp (no schema)", inp, false)
}

/// Onramp runner. Unlike the peers, Onramp evaluates a whole *program* per
/// profile, so:
/// * single rule Rn = a program holding only that rule (plus the schema);
/// * 20 rules = ONE program holding all 20 rules, evaluated once, all 20
///   answers read (peers: 20 separately compiled expressions);
/// * "ctx build" = JSON text → bound slots (`Evaluator::bind_str`, 20-rule
///   program);
/// * "eval" = `Evaluator::run(&Context)` on an already-bound profile +
///   reading the answers via `value_at` (the bound-profile evaluation);
/// * extras: "eval from Value" = `Evaluator::evaluate(&serde_json::Value)`
///   (bind + run);
/// * "e2e" = `Evaluator::evaluate_str(text, &Context)` + reading the answers.
fn onramp_run(name: &str, inp: &Input, schema: bool) -> Report {
    use onramp::Context;
    let cfg = inp.cfg;
    let ctx = Context::at_millis(ONRAMP_NOW_MS);
    let base_txt: Vec<String> = inp
        .base
        .iter()
        .map(|r| rules::onramp_program(std::slice::from_ref(r), schema))
        .collect();
    let twenty_txt = rules::onramp_program(&inp.twenty, schema);

    let mut base_p = Vec::new();
    for t in &base_txt {
        match onramp_compile(t) {
            Ok(p) => base_p.push(p),
            Err(e) => return Report::failed(name, format!("compile failed for `{t}`: {e}")),
        }
    }
    let twenty_p = match onramp_compile(&twenty_txt) {
        Ok(p) => p,
        Err(e) => return Report::failed(name, format!("compile failed for 20-rule program: {e}")),
    };
    let index = |p: &onramp::Program, i: usize| p.rule_index(&rules::onramp_name(i));
    let Some(base_idx) = base_p
        .iter()
        .map(|p| index(p, 0))
        .collect::<Option<Vec<u32>>>()
    else {
        return Report::failed(name, "rule_1 missing from a single-rule program".into());
    };
    let Some(twenty_idx) = (0..20)
        .map(|i| index(&twenty_p, i))
        .collect::<Option<Vec<u32>>>()
    else {
        return Report::failed(name, "a rule is missing from the 20-rule program".into());
    };

    // ---- verify: both entry points, every profile, all 25 rules ----
    for (pi, pj) in inp.verify_profiles.iter().enumerate() {
        let v: serde_json::Value = serde_json::from_str(pj).unwrap();
        for (ri, (p, &idx)) in base_p.iter().zip(&base_idx).enumerate() {
            let mut ev = p.evaluator();
            for from_text in [false, true] {
                let r = if from_text {
                    ev.evaluate_str(pj, &ctx)
                } else {
                    ev.evaluate(&v, &ctx)
                };
                if let Err(e) = r {
                    return Report::failed(name, format!("evaluate failed: {e}"));
                }
                if ev.error_count() != 0 {
                    return Report::failed(
                        name,
                        format!("run-time errors: profile {pi}: {:?}", ev.result().errors()),
                    );
                }
                let got = onramp_out(ev.value_at(idx));
                let want = &inp.expected_base[pi][ri];
                if got.as_ref() != Ok(want) {
                    return Report::failed(
                        name,
                        format!(
                            "verification failed: profile {pi}, rule `{}`: got {got:?}, want {want:?}",
                            base_txt[ri].trim()
                        ),
                    );
                }
            }
        }
        let mut ev = twenty_p.evaluator();
        for from_text in [false, true] {
            let r = if from_text {
                ev.evaluate_str(pj, &ctx)
            } else {
                ev.evaluate(&v, &ctx)
            };
            if let Err(e) = r {
                return Report::failed(name, format!("evaluate failed: {e}"));
            }
            if ev.error_count() != 0 {
                return Report::failed(
                    name,
                    format!("run-time errors: profile {pi}: {:?}", ev.result().errors()),
                );
            }
            for (ri, &idx) in twenty_idx.iter().enumerate() {
                let got = onramp_out(ev.value_at(idx));
                let want = &inp.expected_twenty[pi][ri];
                if got.as_ref() != Ok(want) {
                    return Report::failed(
                        name,
                        format!("verification failed: profile {pi}, 20-rule program rule {}: got {got:?}, want {want:?}", ri + 1),
                    );
                }
            }
        }
    }
    eprintln!(
        "  [{name}] verified {} profiles x {} rules",
        inp.verify_profiles.len(),
        25
    );

    let json = inp.profile;
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    // ctx build = JSON text -> bound slots (`Evaluator::bind_str`) of the
    // 20-rule program (binding reads only the fields a program uses).
    let mut bev = twenty_p.evaluator();
    let ctx_ns = measure(&cfg, || bev.bind_str(black_box(json)).unwrap());
    eprintln!("  [{name}] ctx build (bind_str, 20-rule program) {ctx_ns:.0} ns");

    let mut rules_t = Vec::new();
    let mut from_value = Vec::new();
    for (ri, (p, &idx)) in base_p.iter().zip(&base_idx).enumerate() {
        let t = &base_txt[ri];
        let compile_ns = measure(&cfg, || onramp_compile(black_box(t)).unwrap());
        let mut ev = p.evaluator();
        ev.bind_str(json).unwrap();
        let eval_ns = measure(&cfg, || {
            ev.run(black_box(&ctx));
            onramp_fold(ev.value_at(idx))
        });
        let value_ns = measure(&cfg, || {
            ev.evaluate(black_box(&v), &ctx).unwrap();
            onramp_fold(ev.value_at(idx))
        });
        let e2e_ns = measure(&cfg, || {
            ev.evaluate_str(black_box(json), &ctx).unwrap();
            onramp_fold(ev.value_at(idx))
        });
        eprintln!(
            "  [{name}] R{}: compile {compile_ns:.0} ns, eval (run, bound) {eval_ns:.1} ns, \
             eval from Value (bind+run) {value_ns:.0} ns, e2e {e2e_ns:.0} ns",
            ri + 1
        );
        rules_t.push(Timing {
            compile: Some(compile_ns),
            eval: eval_ns,
            e2e: e2e_ns,
        });
        from_value.push(value_ns);
    }

    let compile20 = measure(&cfg, || onramp_compile(black_box(&twenty_txt)).unwrap());
    let mut ev = twenty_p.evaluator();
    ev.bind_str(json).unwrap();
    let eval20 = measure(&cfg, || {
        ev.run(black_box(&ctx));
        twenty_idx
            .iter()
            .map(|&i| onramp_fold(ev.value_at(i)))
            .sum::<usize>()
    });
    let value20 = measure(&cfg, || {
        ev.evaluate(black_box(&v), &ctx).unwrap();
        twenty_idx
            .iter()
            .map(|&i| onramp_fold(ev.value_at(i)))
            .sum::<usize>()
    });
    from_value.push(value20);
    let e2e20 = measure(&cfg, || {
        ev.evaluate_str(black_box(json), &ctx).unwrap();
        twenty_idx
            .iter()
            .map(|&i| onramp_fold(ev.value_at(i)))
            .sum::<usize>()
    });
    eprintln!(
        "  [{name}] 20 rules: compile {compile20:.0} ns, eval (run, bound) {eval20:.0} ns, \
         eval from Value {value20:.0} ns, e2e {e2e20:.0} ns"
    );

    // Extras: the fixed cost of one evaluation (reset + bind, no real rule
    // work) and the convenience API that builds an EvalResult.
    let trivial_txt = if schema {
        format!("{}\nsegment rule_1 = true\n", rules::ONRAMP_SCHEMA)
    } else {
        "segment rule_1 = true\n".to_string()
    };
    let mut extras: Vec<(String, f64)> = from_value
        .iter()
        .enumerate()
        .map(|(i, ns)| {
            let what = if i < 5 {
                format!("R{}", i + 1)
            } else {
                "20 rules".into()
            };
            (
                format!("{what}: eval from serde_json::Value (`evaluate` = bind + run)"),
                *ns,
            )
        })
        .collect();
    if let Ok(trivial) = onramp_compile(&trivial_txt) {
        let i0 = trivial.rule_index("rule_1").unwrap_or(0);
        let mut tev = trivial.evaluator();
        tev.bind_str(json).unwrap();
        let t = measure(&cfg, || {
            tev.run(black_box(&ctx));
            onramp_fold(tev.value_at(i0))
        });
        extras.push(("fixed cost: run (bound) of a program with one constant segment `segment rule_1 = true`".into(), t));
    }
    let t = measure(&cfg, || {
        ev.evaluate(black_box(&v), &ctx).unwrap();
        ev.result()
    });
    extras.push((
        "20 rules: eval from Value + `Evaluator::result()` (EvalResult with names)".into(),
        t,
    ));

    Report {
        name: name.to_string(),
        status: Ok(()),
        ctx: ctx_ns,
        rules: rules_t,
        twenty: Timing {
            compile: Some(compile20),
            eval: eval20,
            e2e: e2e20,
        },
        extras,
    }
}

/// Onramp's two tightest targets, each timed against its yardstick in
/// alternating batches (see [`measure_ratio`]): the 20-rule bound
/// evaluation over the boxed-closure floor (target 1), and the 20-rule
/// end-to-end evaluation over the typed struct (target 2). Verified on
/// every profile first, like the runners above.
pub fn onramp_paired(inp: &Input, schema: bool) -> Result<[Ratio; 2], String> {
    use onramp::Context;
    let ctx = Context::at_millis(ONRAMP_NOW_MS);
    let program = onramp_compile(&rules::onramp_program(&inp.twenty, schema))?;
    let idx = (0..20)
        .map(|i| program.rule_index(&rules::onramp_name(i)))
        .collect::<Option<Vec<u32>>>()
        .ok_or("a rule is missing from the 20-rule program")?;
    let closures: Vec<native::TypedFn> = inp.twenty.iter().map(native::typed_closure).collect();
    let parse = |j: &str| serde_json::from_str::<Profile>(j).unwrap();
    let mut ev = program.evaluator();
    for (pi, pj) in inp.verify_profiles.iter().enumerate() {
        ev.evaluate_str(pj, &ctx).map_err(|e| e.to_string())?;
        let p = parse(pj);
        for (ri, &i) in idx.iter().enumerate() {
            let want = &inp.expected_twenty[pi][ri];
            let got = onramp_out(ev.value_at(i))?;
            if &got != want
                || &nout(closures[ri](&p)) != want
                || &nout(native::t_twenty(&p)[ri]) != want
            {
                return Err(format!("20-set rule {ri} disagrees on profile {pi}"));
            }
        }
    }
    let rounds = 2 * inp.cfg.batches + 1;
    crate::paired::onramp_ratios(
        &program,
        &idx,
        &inp.twenty,
        inp.profile,
        &ctx,
        &inp.cfg,
        rounds,
    )
}
