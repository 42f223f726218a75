//! The reference evaluator: a plain tree-walking interpreter over the
//! checked IR, written to be obviously right rather than fast.
//!
//! It exists to be compared with the VM (`tests/differential.rs`) and to
//! explain results (`crate::explain`). It owns its own control flow — rule
//! memoisation, short-circuiting, §9 error handling, aggregates, decisions,
//! experiments, triggers and step counting — and borrows from the VM only
//! the meaning of operators and built-ins on values (`vm::ops`), profile
//! binding (`vm::bind`) and the rendering of results.

use crate::bucket;
use crate::check::ir::{AggKind, Anchor, CheckedRule, Ir, IrKind, RuleBody, RuleKind};
use crate::compile::bin_op;
use crate::compile::opcode::WindowKind;
use crate::program::{Context, EvalError, EvalResult, Program};
use crate::span::Span;
use crate::syntax::ast::{BinaryOp, HitPolicy, UnaryOp};
use crate::value::{article, Value};
use crate::vm::bind::{self, Bound};
use crate::vm::ops;
use crate::vm::{Action, Origin, RawError};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::sync::Arc;

/// Evaluates one profile the slow, obvious way. Returns exactly what
/// [`Program::evaluate`] returns for the same inputs.
pub fn evaluate(program: &Program, profile: &Json, ctx: &Context) -> Result<EvalResult, EvalError> {
    let run = run(program, profile, ctx, false)?;
    Ok(EvalResult::from_raw(
        program,
        &run.values,
        &run.actions,
        &run.errors,
    ))
}

/// What one node's evaluation came to, as recorded for explaining.
#[derive(Clone, Debug)]
pub(crate) enum Outcome {
    /// It produced this value.
    Value(Value),
    /// It raised a run-time error with this message.
    Error(String),
    /// It read a rule that had already failed.
    Failed,
    /// The step budget ran out while evaluating it.
    Budget,
}

/// A whole evaluation, with every rule's value and state and (when traced)
/// the outcome of every expression node evaluated, keyed by node address.
#[derive(Debug)]
pub(crate) struct Run {
    /// Each rule's value (the §9 fallback for failed rules).
    pub(crate) values: Vec<Value>,
    /// Errors, in the order they arose.
    pub(crate) errors: Vec<RawError>,
    /// Emitted actions.
    pub(crate) actions: Vec<Action>,
    /// Outcomes by node address (empty unless traced). A node evaluated
    /// several times (inside an aggregate) keeps its last outcome.
    pub(crate) trace: HashMap<usize, Outcome>,
}

impl Run {
    /// The recorded outcome of a node, `None` when it was not evaluated.
    pub(crate) fn outcome(&self, ir: &Ir) -> Option<&Outcome> {
        self.trace.get(&node_key(ir))
    }
}

/// The life of a rule during one evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RuleState {
    /// Not read yet (lets nobody read stay here).
    Pending,
    /// Being evaluated.
    Running,
    /// Evaluated.
    Done,
    /// Failed with a run-time error.
    Failed,
    /// Failed because the step budget ran out.
    OutOfSteps,
}

/// Runs a whole evaluation; with `tracing`, records every node's outcome.
pub(crate) fn run(
    program: &Program,
    profile: &Json,
    ctx: &Context,
    tracing: bool,
) -> Result<Run, EvalError> {
    run_inner(program, profile, ctx, tracing, None)
}

/// A traced evaluation that also evaluates rule `id` if nothing read it
/// (a let is not an output, but it can be explained). The outputs are
/// computed first, so they are exactly those of a plain evaluation.
pub(crate) fn run_with_let(
    program: &Program,
    profile: &Json,
    ctx: &Context,
    id: usize,
) -> Result<Run, EvalError> {
    run_inner(program, profile, ctx, true, Some(id))
}

fn run_inner(
    program: &Program,
    profile: &Json,
    ctx: &Context,
    tracing: bool,
    extra: Option<usize>,
) -> Result<Run, EvalError> {
    let Json::Object(map) = profile else {
        return Err(EvalError::NotAnObject(bind::json_article(profile)));
    };
    let checked = &program.checked;
    let mut slots = Vec::new();
    bind::bind_profile(map, &checked.slots, &program.limits, &mut slots);
    let forced = ctx
        .forced_variants
        .iter()
        .filter_map(|(exp, variant)| {
            let i = checked.rules.iter().position(|r| r.name == *exp)?;
            Some((i, Arc::from(variant.as_str())))
        })
        .collect();
    let mut ev = Eval {
        program,
        profile_json: profile,
        profile: None,
        slots,
        event: ctx.event.as_ref().map(|e| {
            bind::convert(
                e,
                &checked.event_type,
                &|| "event".to_string(),
                &program.limits,
            )
        }),
        event_name: ctx.event_name(),
        now: ctx.now_ms,
        budget: ctx.max_steps.unwrap_or(program.limits.max_steps),
        steps: 0,
        states: vec![RuleState::Pending; checked.rules.len()],
        values: vec![Value::Null; checked.rules.len()],
        errors: Vec::new(),
        actions: Vec::new(),
        elements: Vec::new(),
        forced,
        trace: tracing.then(HashMap::new),
    };
    // §14: top-level rules in source order; lets only when read.
    for (id, rule) in checked.rules.iter().enumerate() {
        if rule.kind != RuleKind::Let {
            let _ = ev.rule(id);
        }
    }
    ev.triggers();
    if let Some(id) = extra.filter(|&i| i < ev.states.len()) {
        let _ = ev.rule(id);
    }
    Ok(Run {
        values: ev.values,
        errors: ev.errors,
        actions: ev.actions,
        trace: ev.trace.unwrap_or_default(),
    })
}

/// Why evaluating something stopped.
enum Stop {
    /// A new run-time error, reported by the rule (or trigger) it escapes.
    Error {
        span: Span,
        message: String,
        path: Option<String>,
    },
    /// A read of a rule that failed; its error was reported where it arose.
    Reported,
    /// The step budget ran out.
    Budget,
}

struct Eval<'p> {
    program: &'p Program,
    profile_json: &'p Json,
    /// The whole profile as a value, converted on first use of `profile`.
    profile: Option<Value>,
    slots: Vec<Bound>,
    event: Option<Bound>,
    /// The incoming event's name as supplied, which triggers listen to.
    event_name: Option<&'p str>,
    now: i64,
    budget: u64,
    steps: u64,
    states: Vec<RuleState>,
    values: Vec<Value>,
    errors: Vec<RawError>,
    actions: Vec<Action>,
    /// Elements of the enclosing aggregates, innermost last.
    elements: Vec<Value>,
    forced: Vec<(usize, Arc<str>)>,
    trace: Option<HashMap<usize, Outcome>>,
}

fn node_key(ir: &Ir) -> usize {
    ir as *const Ir as usize
}

impl Eval<'_> {
    /// Counts `n` steps; exceeding the budget stops everything.
    fn charge(&mut self, n: u64) -> Result<(), Stop> {
        self.steps += n;
        if self.steps > self.budget {
            Err(Stop::Budget)
        } else {
            Ok(())
        }
    }

    fn record(&mut self, ir: &Ir, r: &Result<Value, Stop>) {
        if let Some(trace) = &mut self.trace {
            let o = match r {
                Ok(v) => Outcome::Value(v.clone()),
                Err(Stop::Error { message, .. }) => Outcome::Error(message.clone()),
                Err(Stop::Reported) => Outcome::Failed,
                Err(Stop::Budget) => Outcome::Budget,
            };
            trace.insert(node_key(ir), o);
        }
    }

    // ----- rules -----------------------------------------------------------

    fn rule_def(&self, id: usize) -> &CheckedRule {
        &self.program.checked.rules[id]
    }

    /// Evaluates a rule once; later reads see the memoised outcome.
    fn rule(&mut self, id: usize) -> Result<(), Stop> {
        match self.states[id] {
            RuleState::Done => return Ok(()),
            RuleState::Failed | RuleState::Running => return Err(Stop::Reported),
            RuleState::OutOfSteps => return Err(Stop::Budget),
            RuleState::Pending => {}
        }
        let kind = self.rule_def(id).kind;
        if self.steps > self.budget {
            // Exhausted before this rule started: it fails without running.
            self.states[id] = RuleState::OutOfSteps;
            if kind != RuleKind::Let {
                self.report(Origin::Rule(id as u32), Stop::Budget);
            }
            return Err(Stop::Budget);
        }
        self.states[id] = RuleState::Running;
        let result = self.rule_body(id);
        let fallback = if kind == RuleKind::Segment {
            Value::Bool(false)
        } else {
            Value::Null
        };
        match result {
            Ok(v) => {
                self.values[id] = v;
                self.states[id] = RuleState::Done;
                Ok(())
            }
            Err(Stop::Budget) => {
                self.values[id] = fallback;
                self.states[id] = RuleState::OutOfSteps;
                // Budget exhaustion is reported per output rule (§14); a
                // let fails silently and its readers report.
                if kind != RuleKind::Let {
                    self.report(Origin::Rule(id as u32), Stop::Budget);
                }
                Err(Stop::Budget)
            }
            Err(stop) => {
                self.values[id] = fallback;
                self.states[id] = RuleState::Failed;
                self.report(Origin::Rule(id as u32), stop);
                Err(Stop::Reported)
            }
        }
    }

    fn report(&mut self, origin: Origin, stop: Stop) {
        match stop {
            Stop::Error {
                span,
                message,
                path,
            } => self.errors.push(RawError {
                origin,
                span,
                message: Arc::from(message),
                path: path.map(Arc::from),
            }),
            Stop::Reported => {}
            Stop::Budget => {
                let span = match origin {
                    Origin::Rule(r) => self.program.checked.rules[r as usize].name_span,
                    Origin::Trigger(t) => self.program.checked.triggers[t as usize].span,
                };
                self.errors.push(RawError {
                    origin,
                    span,
                    message: Arc::from("step budget exhausted"),
                    path: None,
                });
            }
        }
    }

    /// Reads a value in a condition position (`null` is false). A value
    /// that is not a bool is an error located where the VM locates it: the
    /// first instruction of the condition's code (see [`first_span`]).
    fn truthy(&self, v: &Value, ir: &Ir) -> Result<bool, Stop> {
        ops::condition(v).map_err(|message| Stop::Error {
            span: ir.span,
            message,
            path: None,
        })
    }

    fn rule_body(&mut self, id: usize) -> Result<Value, Stop> {
        let program = self.program;
        let rule = &program.checked.rules[id];
        match &rule.body {
            RuleBody::Expr(ir) => {
                let v = self.eval(ir)?;
                if rule.kind == RuleKind::Segment {
                    Ok(Value::Bool(self.truthy(&v, ir)?))
                } else {
                    Ok(v)
                }
            }
            RuleBody::Decision { policy, branches } => {
                let mut collected = Vec::new();
                for b in branches {
                    match &b.condition {
                        Some(c) => {
                            let holds = self.eval(c).and_then(|v| self.truthy(&v, c));
                            match holds {
                                Ok(true) => {}
                                Ok(false) => continue,
                                Err(Stop::Budget) => return Err(Stop::Budget),
                                Err(stop) => {
                                    // §9: an error in a condition skips the branch.
                                    self.report(Origin::Rule(id as u32), stop);
                                    continue;
                                }
                            }
                        }
                        // A collect decision's `else` counts only when no
                        // `when` matched (§14).
                        None if *policy == HitPolicy::Collect && !collected.is_empty() => continue,
                        None => {}
                    }
                    let v = self.eval(&b.value)?;
                    match policy {
                        HitPolicy::First => return Ok(v),
                        HitPolicy::Collect => collected.push(v),
                    }
                }
                Ok(match policy {
                    HitPolicy::First => Value::Null,
                    HitPolicy::Collect => Value::List(collected.into()),
                })
            }
            RuleBody::Experiment(e) => {
                if let Some((_, v)) = self.forced.iter().find(|(r, _)| *r == id) {
                    return Ok(Value::Str(v.clone()));
                }
                let unit = self.eval(&e.unit)?;
                let unit_text = match &unit {
                    Value::Str(s) if !s.is_empty() => s.to_string(),
                    Value::Int(i) => i.to_string(),
                    Value::Null | Value::Str(_) => return Ok(Value::Null),
                    other => {
                        let message = format!(
                            "type error: an experiment unit must be a string or an int, but this is {}",
                            article(other)
                        );
                        // A data error: name the field when the unit is one.
                        return Err(match e.unit.kind {
                            IrKind::Slot(s) => {
                                let p = self.program.checked.slots[s as usize].dotted();
                                Stop::Error {
                                    span: e.unit.span,
                                    message: format!("`{p}`: {message}"),
                                    path: Some(p),
                                }
                            }
                            _ => Stop::Error {
                                span: e.unit.span,
                                message,
                                path: None,
                            },
                        });
                    }
                };
                if let Some((_, i)) = e.force.iter().find(|(u, _)| *u == unit_text) {
                    return Ok(Value::str(&e.variants[*i].0));
                }
                if let Some(c) = &e.eligible {
                    let v = self.eval(c)?;
                    if !self.truthy(&v, c)? {
                        return Ok(Value::Null);
                    }
                }
                Ok(match assign(e, &unit_text) {
                    Some(i) => Value::str(&e.variants[i].0),
                    None => Value::Null,
                })
            }
        }
    }

    // ----- triggers --------------------------------------------------------

    fn triggers(&mut self) {
        // Even an event that does not fit its type: a trigger that reads
        // it fails with why.
        let Some(name) = self.event_name else {
            return;
        };
        let program = self.program;
        for (i, t) in program.checked.triggers.iter().enumerate() {
            if *t.on != *name {
                continue;
            }
            let origin = Origin::Trigger(i as u32);
            if let Some(c) = &t.condition {
                match self.eval(c).and_then(|v| self.truthy(&v, c)) {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(stop) => {
                        self.report(origin, stop);
                        continue;
                    }
                }
            }
            let mut emitted = Vec::new();
            let mut failed = None;
            for a in &t.actions {
                let payload = match &a.payload {
                    Some(p) => match self.eval(p) {
                        Ok(v) => v,
                        Err(stop) => {
                            failed = Some(stop);
                            break;
                        }
                    },
                    None => Value::Map(Arc::new(Vec::new())),
                };
                emitted.push(Action {
                    trigger: i as u32,
                    action: Arc::from(a.action.as_str()),
                    payload,
                });
            }
            match failed {
                // A trigger that cannot build all its payloads emits nothing.
                Some(stop) => self.report(origin, stop),
                None => self.actions.extend(emitted),
            }
        }
    }

    // ----- expressions -----------------------------------------------------

    fn eval(&mut self, ir: &Ir) -> Result<Value, Stop> {
        let r = self.eval_node(ir);
        self.record(ir, &r);
        r
    }

    /// An error raised by the operation of `ir` itself. Like the VM, it
    /// names the profile field the operation read directly, if any.
    fn op_error(&self, ir: &Ir, message: String) -> Stop {
        let mut subject = None;
        ir.for_each_child(|c| {
            if let (None, IrKind::Slot(s)) = (subject, &c.kind) {
                subject = Some(*s);
            }
        });
        match subject.and_then(|s| self.program.checked.slots.get(s as usize)) {
            Some(slot) => {
                let p = slot.dotted();
                Stop::Error {
                    span: ir.span,
                    message: format!("`{p}`: {message}"),
                    path: Some(p),
                }
            }
            None => Stop::Error {
                span: ir.span,
                message,
                path: None,
            },
        }
    }

    fn slot(&self, s: u32, span: Span) -> Result<Value, Stop> {
        match self.slots.get(s as usize) {
            Some(Ok(v)) => Ok(v.clone()),
            Some(Err(message)) => Err(Stop::Error {
                span,
                message: message.to_string(),
                path: Some(self.program.checked.slots[s as usize].dotted()),
            }),
            None => Ok(Value::Null),
        }
    }

    fn eval_node(&mut self, ir: &Ir) -> Result<Value, Stop> {
        let program = self.program;
        match &ir.kind {
            IrKind::Const(v) => {
                self.charge(1)?;
                Ok(v.clone())
            }
            IrKind::Slot(s) => {
                self.charge(1)?;
                self.slot(*s, ir.span)
            }
            IrKind::Profile => {
                self.charge(1)?;
                let limits = &program.limits;
                let json = self.profile_json;
                Ok(self
                    .profile
                    .get_or_insert_with(|| {
                        bind::untyped(json, &|| "profile".to_string(), limits, 0)
                            .unwrap_or(Value::Null)
                    })
                    .clone())
            }
            IrKind::Rule(r) => {
                self.charge(1)?;
                self.rule(*r as usize)?;
                Ok(self.values[*r as usize].clone())
            }
            IrKind::Element(depth) => {
                self.charge(1)?;
                let at = self.elements.len().checked_sub(1 + *depth as usize);
                Ok(at.map(|i| self.elements[i].clone()).unwrap_or_default())
            }
            IrKind::Now => {
                self.charge(1)?;
                Ok(Value::Time(self.now))
            }
            IrKind::Event => {
                self.charge(1)?;
                match &self.event {
                    Some(Ok(v)) => Ok(v.clone()),
                    Some(Err(m)) => Err(Stop::Error {
                        span: ir.span,
                        message: m.to_string(),
                        path: Some("event".into()),
                    }),
                    None => Ok(Value::Null),
                }
            }
            IrKind::Actions => {
                self.charge(1)?;
                let list: Vec<Value> = self.actions.iter().map(|a| a.to_value(program)).collect();
                Ok(Value::List(list.into()))
            }
            IrKind::Field(base, name) => {
                let b = self.eval(base)?;
                self.charge(1)?;
                ops::field(&b, name).map_err(|m| self.op_error(ir, m))
            }
            IrKind::Index(base, index) => {
                let b = self.eval(base)?;
                let i = self.eval(index)?;
                self.charge(1)?;
                ops::index(&b, &i).map_err(|m| self.op_error(ir, m))
            }
            IrKind::Unary(UnaryOp::Neg, x) => {
                let v = self.eval(x)?;
                self.charge(1)?;
                ops::neg(&v).map_err(|m| self.op_error(ir, m))
            }
            IrKind::Unary(UnaryOp::Not, x) => {
                let v = self.eval(x)?;
                self.charge(1)?;
                let b = ops::condition(&v).map_err(|m| self.op_error(ir, m))?;
                Ok(Value::Bool(!b))
            }
            IrKind::Binary(op @ (BinaryOp::And | BinaryOp::Or), a, b) => {
                let va = self.eval(a)?;
                self.charge(1)?;
                let ca = ops::condition(&va).map_err(|message| Stop::Error {
                    span: ir.span,
                    message,
                    path: None,
                })?;
                let decided = if *op == BinaryOp::And { !ca } else { ca };
                if decided {
                    return Ok(Value::Bool(ca));
                }
                let vb = self.eval(b)?;
                let cb = ops::condition(&vb).map_err(|message| Stop::Error {
                    span: b.span,
                    message,
                    path: None,
                })?;
                Ok(Value::Bool(cb))
            }
            IrKind::Binary(BinaryOp::Coalesce, a, b) => {
                let va = self.eval(a)?;
                self.charge(1)?;
                if va.is_null() {
                    self.eval(b)
                } else {
                    Ok(va)
                }
            }
            IrKind::Binary(op, a, b) => {
                let bin = bin_op(*op);
                let va = self.eval(a)?;
                let vb = self.eval(b)?;
                self.charge(1)?;
                ops::binary(bin, &va, &vb).map_err(|m| self.op_error(ir, m))
            }
            IrKind::IsNull(x, negated) => {
                let v = self.eval(x)?;
                self.charge(1)?;
                Ok(Value::Bool(v.is_null() != *negated))
            }
            IrKind::Between(x, lo, hi) => {
                let vx = self.eval(x)?;
                let vlo = self.eval(lo)?;
                let vhi = self.eval(hi)?;
                self.charge(1)?;
                ops::between(&vx, &vlo, &vhi).map_err(|m| self.op_error(ir, m))
            }
            IrKind::Within {
                operand,
                duration,
                anchor,
            } => {
                let t = self.eval(operand)?;
                let d = self.eval(duration)?;
                let (kind, x) = match anchor {
                    Anchor::Past => (WindowKind::Past, None),
                    Anchor::Next => (WindowKind::Next, None),
                    Anchor::After(x) => (WindowKind::After, Some(self.eval(x)?)),
                    Anchor::Before(x) => (WindowKind::Before, Some(self.eval(x)?)),
                };
                self.charge(1)?;
                ops::within(kind, &t, &d, x.as_ref(), self.now).map_err(|m| self.op_error(ir, m))
            }
            IrKind::Matches(s, re) => {
                let v = self.eval(s)?;
                self.charge(1)?;
                match &v {
                    Value::Null => Ok(Value::Null),
                    Value::Str(text) => Ok(Value::Bool(
                        program
                            .checked
                            .regexes
                            .get(*re as usize)
                            .is_some_and(|r| r.is_match(text)),
                    )),
                    other => Err(self.op_error(
                        ir,
                        format!(
                            "type error: `matches` needs a string, but this is {}",
                            article(other)
                        ),
                    )),
                }
            }
            IrKind::If(c, a, b) => {
                let vc = self.eval(c)?;
                self.charge(1)?;
                let holds = ops::condition(&vc).map_err(|message| Stop::Error {
                    span: ir.span,
                    message,
                    path: None,
                })?;
                if holds {
                    self.eval(a)
                } else {
                    self.eval(b)
                }
            }
            IrKind::Interpolate(parts) => {
                let vals = self.eval_all(parts)?;
                self.charge(1)?;
                Ok(ops::interpolate(&vals))
            }
            IrKind::List(items) => {
                let vals = self.eval_all(items)?;
                self.charge(1)?;
                Ok(Value::List(vals.into()))
            }
            IrKind::Map(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    out.push((k.clone(), self.eval(v)?));
                }
                self.charge(1)?;
                Ok(Value::Map(Arc::new(out)))
            }
            IrKind::Call(b, args) => {
                let vals = self.eval_all(args)?;
                self.charge(1)?;
                ops::call(*b, &vals, self.now).map_err(|m| self.op_error(ir, m))
            }
            IrKind::HostCall(h, args) => {
                let vals = self.eval_all(args)?;
                self.charge(1)?;
                let Some(host) = program.host.get(*h as usize) else {
                    return Ok(Value::Null);
                };
                // A null for a parameter that is not nullable makes the
                // call null without calling the host (§14).
                let null_for_required = vals
                    .iter()
                    .zip(host.signature.params.iter())
                    .any(|(a, p)| a.is_null() && !p.nullable);
                if null_for_required {
                    return Ok(Value::Null);
                }
                (host.function)(&vals).map_err(|m| self.op_error(ir, m))
            }
            IrKind::Aggregate {
                kind,
                list,
                filter,
                projection,
            } => self.aggregate(ir, *kind, list, filter.as_deref(), projection.as_deref()),
        }
    }

    fn eval_all(&mut self, irs: &[Ir]) -> Result<Vec<Value>, Stop> {
        let mut out = Vec::with_capacity(irs.len());
        for i in irs {
            out.push(self.eval(i)?);
        }
        Ok(out)
    }

    fn aggregate(
        &mut self,
        ir: &Ir,
        kind: AggKind,
        list: &Ir,
        filter: Option<&Ir>,
        projection: Option<&Ir>,
    ) -> Result<Value, Stop> {
        let lv = self.eval(list)?;
        self.charge(1)?;
        let items: Arc<Vec<Value>> = match lv {
            // A missing list is an empty one (§2).
            Value::Null => Arc::new(Vec::new()),
            Value::List(items) => items,
            other => {
                return Err(self.op_error(
                    ir,
                    format!(
                        "type error: `{}` needs a list, but this is {}",
                        kind.name(),
                        article(&other)
                    ),
                ))
            }
        };
        let mut agg = Agg::new(kind);
        for item in items.iter() {
            self.charge(1)?;
            self.elements.push(item.clone());
            let r = self.visit(ir, &mut agg, item, filter, projection);
            self.elements.pop();
            if r? {
                break;
            }
        }
        Ok(agg.finish())
    }

    /// One element of an aggregate; `Ok(true)` when the answer is known
    /// and the rest of the list need not be visited.
    fn visit(
        &mut self,
        ir: &Ir,
        agg: &mut Agg,
        item: &Value,
        filter: Option<&Ir>,
        projection: Option<&Ir>,
    ) -> Result<bool, Stop> {
        if let Some(f) = filter {
            let v = self.eval(f)?;
            let keep = ops::condition(&v).map_err(|message| Stop::Error {
                span: f.span,
                message,
                path: None,
            })?;
            if !keep {
                return Ok(false);
            }
        }
        let value = match projection {
            Some(p) => self.eval(p)?,
            None => item.clone(),
        };
        agg.add(item, value).map_err(|message| Stop::Error {
            span: ir.span,
            message,
            path: None,
        })
    }
}

/// The running state of one aggregate, folded element by element.
struct Agg {
    kind: AggKind,
    count: i64,
    found: bool,
    holds: bool,
    acc: Value,
    sum: f64,
    items: Vec<Value>,
}

impl Agg {
    fn new(kind: AggKind) -> Agg {
        Agg {
            kind,
            count: 0,
            found: false,
            holds: true,
            acc: Value::Null,
            sum: 0.0,
            items: Vec::new(),
        }
    }

    /// Adds an element that passed the filter (`value` is its projection,
    /// or the element itself). `Ok(true)` when the result is settled.
    fn add(&mut self, item: &Value, value: Value) -> Result<bool, String> {
        match self.kind {
            AggKind::Count => self.count += 1,
            AggKind::Exists => {
                self.found = true;
                return Ok(true);
            }
            AggKind::First => {
                self.acc = item.clone();
                return Ok(true);
            }
            AggKind::Last => self.acc = item.clone(),
            AggKind::Filter => self.items.push(item.clone()),
            AggKind::All => {
                if !ops::condition(&value)? {
                    self.holds = false;
                    return Ok(true);
                }
            }
            // The value aggregates skip nulls (§14).
            _ if value.is_null() => {}
            AggKind::Sum | AggKind::Min | AggKind::Max => {
                ops::accumulate(self.kind, &mut self.acc, value)?
            }
            AggKind::Avg => {
                self.sum += ops::avg_term(&value)?;
                self.count += 1;
            }
            AggKind::Distinct => {
                if !self.items.iter().any(|x| x.equals(&value)) {
                    self.items.push(value);
                }
            }
        }
        Ok(false)
    }

    fn finish(self) -> Value {
        match self.kind {
            AggKind::Count => Value::Int(self.count),
            AggKind::Exists => Value::Bool(self.found),
            AggKind::All => Value::Bool(self.holds),
            AggKind::Avg if self.count == 0 => Value::Null,
            AggKind::Avg => Value::Float(self.sum / self.count as f64),
            AggKind::Filter | AggKind::Distinct => Value::List(self.items.into()),
            AggKind::First | AggKind::Last | AggKind::Sum | AggKind::Min | AggKind::Max => self.acc,
        }
    }
}

/// The index of the variant a unit is assigned to, or `None` when it falls
/// outside the coverage (GrowthBook's hash v2 and bucket ranges, §7).
pub(crate) fn assign(e: &crate::check::ir::CheckedExperiment, unit: &str) -> Option<usize> {
    let n = bucket::hash(&e.salt, unit, 2)?;
    let ranges = variant_ranges(e);
    bucket::choose_variation(n, &ranges)
}

/// The `[start, end)` bucket range of each variant of an experiment.
pub(crate) fn variant_ranges(e: &crate::check::ir::CheckedExperiment) -> Vec<(f64, f64)> {
    let weights: Vec<f64> = e.variants.iter().map(|(_, w)| *w).collect();
    bucket::bucket_ranges(weights.len(), Some(e.coverage), Some(&weights))
}
