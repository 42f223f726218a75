//! Stage 4: the virtual machine.
//!
//! Evaluation has two phases: [`bind`] puts the profile's values into the
//! program's slots, then the machine (`Machine::evaluate`) runs the
//! bytecode of every rule in source order, memoising each rule's value so
//! a rule read five times is computed once. Run-time errors never escape
//! a rule: they are recorded with the rule, the location and a message
//! (§9), and the rule's result falls back to `false` / skipped branch /
//! `null`.

pub mod bind;
pub mod bind_text;
pub mod fast;
mod json_reader;
pub mod ops;
pub mod plan;
pub mod reuse;
pub mod strings;

use crate::bucket;
use crate::check::ir::{AggKind, RuleKind};
use crate::compile::branch::{Operand, Test, ANSWER_FALSE, ANSWER_TRUE};
use crate::compile::opcode::{Accepts, BinOp, Op, WindowKind};
use crate::compile::{ChunkId, RuleCode};
use crate::program::Program;
use crate::span::Span;
use crate::syntax::ast::HitPolicy;
use crate::value::{article, Value};
use bind::Bound;
use plan::{FastTest, PlanBranch, PlanStep};
use std::sync::Arc;

/// Where a run-time error arose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// In a rule (index into the program's rules).
    Rule(u32),
    /// In a trigger.
    Trigger(u32),
}

/// A run-time error, before it is rendered for people.
#[derive(Clone, Debug, PartialEq)]
pub struct RawError {
    /// The rule or trigger it arose in.
    pub origin: Origin,
    /// Where in the source.
    pub span: Span,
    /// What went wrong (never quotes profile data).
    pub message: Arc<str>,
    /// The profile field path involved, for data errors.
    pub path: Option<Arc<str>>,
}

/// Why a chunk stopped. Small (the error's details are boxed), so that
/// every `Result<_, Fault>` of the hot paths stays in registers.
#[derive(Debug)]
pub(crate) enum Fault {
    /// A new error, to be reported by the rule that catches it.
    Error(Box<ErrorInfo>),
    /// A failure already reported where it arose (reading a failed rule).
    Reported,
    /// The step budget ran out.
    Budget,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RuleState {
    Pending,
    Running,
    Done,
    Failed,
    /// Failed because the step budget ran out (reported per top-level rule).
    OutOfSteps,
}

/// A new run-time error: where, what, and the profile field involved.
#[derive(Debug)]
pub(crate) struct ErrorInfo {
    span: Span,
    message: Arc<str>,
    path: Option<Arc<str>>,
}

impl Fault {
    fn error(span: Span, message: Arc<str>, path: Option<Arc<str>>) -> Fault {
        Fault::Error(Box::new(ErrorInfo {
            span,
            message,
            path,
        }))
    }
}

/// What a fused aggregate's share of a pass produced.
#[derive(Debug, Default)]
struct FusedOutcome {
    value: Value,
    /// Steps a separate pass would have counted.
    steps: u64,
    /// The error a separate pass would have raised.
    error: Option<(Span, Arc<str>, Option<Arc<str>>)>,
    /// It ran past the budget left when the pass started.
    out_of_steps: bool,
    /// It already knows its answer (exists, first, all) or failed.
    done: bool,
}

/// One running aggregate.
#[derive(Debug)]
struct IterFrame {
    kind: AggKind,
    list: Option<Arc<Vec<Value>>>,
    next: usize,
    done: bool,
    current: Value,
    count: i64,
    acc: Value,
    float_sum: f64,
    items: Vec<Value>,
}

/// An action emitted by a trigger.
#[derive(Clone, Debug)]
pub struct Action {
    /// Index of the trigger.
    pub trigger: u32,
    /// The action's name.
    pub action: Arc<str>,
    /// Its payload (a map).
    pub payload: Value,
}

impl Action {
    /// The action as a test's `expect actions == [...]` sees it:
    /// `{trigger, action, payload}`.
    pub(crate) fn to_value(&self, program: &Program) -> Value {
        Value::Map(Arc::new(vec![
            (
                Arc::from("trigger"),
                Value::str(&program.checked.triggers[self.trigger as usize].name),
            ),
            (Arc::from("action"), Value::Str(self.action.clone())),
            (Arc::from("payload"), self.payload.clone()),
        ]))
    }
}

/// The per-thread state of evaluations, reused across profiles so that
/// steady-state evaluation allocates nothing for scalar results.
#[derive(Debug, Default)]
pub struct Machine {
    stack: Vec<Value>,
    iters: Vec<IterFrame>,
    /// Bound slots.
    pub(crate) slots: Vec<Bound>,
    /// Which slots the text binder has filled (a reused buffer).
    pub(crate) seen: Vec<bool>,
    /// The whole profile, when the program reads `profile`.
    pub(crate) profile: Value,
    /// The incoming event, if any.
    pub(crate) event: Option<Bound>,
    state: Vec<RuleState>,
    /// Each rule's value (valid once evaluated).
    pub values: Vec<Value>,
    /// Errors of this evaluation.
    pub errors: Vec<RawError>,
    /// Actions of this evaluation.
    pub actions: Vec<Action>,
    /// Steps used so far.
    pub steps: u64,
    budget: u64,
    now: i64,
    /// Variants forced by a test (`given variant`), by rule index.
    pub(crate) forced: Vec<(u32, Arc<str>)>,
    /// Per fused group: whether its shared pass has run this evaluation.
    groups_done: Vec<bool>,
    /// Per fused aggregate: its outcome from the shared pass.
    fused: Vec<FusedOutcome>,
    /// Accumulators of a shared pass, kept between evaluations so the
    /// pass allocates nothing in steady state.
    frame_pool: Vec<IterFrame>,
    /// When set (by `onramp test --coverage`), every decision branch
    /// condition's outcome is logged: (rule, branch, matched).
    pub(crate) branch_log: Option<Vec<(u32, u32, bool)>>,
    args: Vec<Value>,
}

impl Machine {
    /// Drops what the last run left in its scratch state (unread until
    /// the next run resets it), so that binding the next profile finds
    /// the old lists and maps held alone and can refill them.
    pub(crate) fn release_scratch(&mut self) {
        self.stack.clear();
        self.iters.clear();
        self.args.clear();
        for outcome in &mut self.fused {
            store(&mut outcome.value, Value::Null);
        }
    }

    /// Prepares for a new evaluation (slots must be bound separately).
    pub(crate) fn reset(&mut self, program: &Program, now: i64, budget: u64) {
        let rules = program.checked.rules.len();
        // A run ends with empty stacks; clearing them only after a fault.
        if !self.stack.is_empty() {
            self.stack.clear();
        }
        self.iters.clear();
        if self.state.len() != rules {
            self.state.resize(rules, RuleState::Pending);
            self.values.resize(rules, Value::Null);
        }
        self.state.fill(RuleState::Pending);
        // Every rule but a `let` is evaluated (and its value overwritten)
        // by each run, so only lets need clearing: a let no rule read
        // this time must not show the last profile's value.
        for &id in &program.bytecode.lets {
            self.values[id as usize] = Value::Null;
        }
        if !self.errors.is_empty() {
            self.errors.clear();
        }
        if !self.actions.is_empty() {
            self.actions.clear();
        }
        self.steps = 0;
        self.budget = budget;
        self.now = now;
        self.groups_done.clear();
    }

    /// Runs every output rule in source order, then the triggers listening
    /// to the incoming event, by the name it was supplied with.
    pub(crate) fn evaluate(&mut self, program: &Program, event_name: Option<&str>) {
        if self.branch_log.is_some() {
            // Coverage logs every branch outcome: the general path does.
            for &id in &program.bytecode.outputs {
                if self.state[id as usize] == RuleState::Pending {
                    let _ = self.rule(program, id);
                }
            }
        } else {
            self.run_plan(program);
        }
        // An event that does not fit the event type (a required field
        // missing, say) still reaches the triggers listening to its name:
        // a trigger that reads `event` then fails with why, as a rule
        // reading a bad profile field does, and the others fire.
        if let Some(name) = event_name {
            for (i, trigger) in program.bytecode.triggers.iter().enumerate() {
                if *trigger.on == *name {
                    self.trigger(program, i as u32);
                }
            }
        }
    }

    /// Runs the output rules by the program's plan: the fast loop decides
    /// what it can from the bound slots; each rule it leaves, and each
    /// rule not planned, takes the general path.
    fn run_plan(&mut self, program: &Program) {
        let steps = &program.run_plan.steps;
        let mut next = 0;
        while let Some(step) = steps.get(next) {
            if !matches!(step, PlanStep::General(_)) {
                // Before the first general rule nothing but the fast loop
                // has run, so every rule it meets is still pending.
                next = if next == 0 {
                    self.run_fast::<true>(program, next)
                } else {
                    self.run_fast::<false>(program, next)
                };
            }
            let Some(step) = steps.get(next) else {
                break;
            };
            let id = step.rule();
            if self.state[id as usize] == RuleState::Pending {
                let _ = self.rule(program, id);
            }
            next += 1;
        }
    }

    /// Decides planned rules from step `from` on for as long as typed
    /// slots decide their tests; returns the first step it leaves to the
    /// general path (or the number of steps). A rule is committed only
    /// once it is decided entirely within the budget; a rule left behind
    /// is untouched (fast tests change nothing but a local step count),
    /// so the general path evaluates it from the start, exactly as it
    /// would have anyway. The machine's vectors are borrowed apart so
    /// that the loop's state stays in registers. `FRESH` says that no
    /// rule has been evaluated yet, so none needs its state checked.
    #[inline(never)]
    fn run_fast<const FRESH: bool>(&mut self, program: &Program, from: usize) -> usize {
        let plan = &program.run_plan;
        let consts = &program.bytecode.consts[..];
        let mut run = FastRun {
            slots: &self.slots,
            tests: &plan.fast,
            steps: self.steps,
            budget: self.budget,
        };
        let values = &mut self.values[..];
        // One length for both, so one bounds check serves the two.
        let state = &mut self.state[..values.len()];
        let mut at = from;
        while let Some(step) = plan.steps.get(at) {
            match *step {
                // Already evaluated (read by an earlier rule): nothing to do.
                PlanStep::Segment { rule, .. } | PlanStep::Decision { rule, .. }
                    if !FRESH && state[rule as usize] != RuleState::Pending => {}
                PlanStep::Segment { rule, entry } => {
                    let Some((truth, steps)) = run.walk(entry, run.steps) else {
                        break;
                    };
                    set_bool(&mut values[rule as usize], truth);
                    state[rule as usize] = RuleState::Done;
                    run.steps = steps;
                }
                PlanStep::Decision { rule, start, end } => {
                    let branches = &plan.branches[start as usize..end as usize];
                    let value = &mut values[rule as usize];
                    let Some(steps) = run.first_match(branches, consts, value) else {
                        break;
                    };
                    state[rule as usize] = RuleState::Done;
                    run.steps = steps;
                }
                PlanStep::General(_) => break,
            }
            at += 1;
        }
        self.steps = run.steps;
        at
    }

    fn trigger(&mut self, program: &Program, index: u32) {
        let code = &program.bytecode.triggers[index as usize];
        let origin = Origin::Trigger(index);
        if let Some(c) = code.condition {
            match self.condition(program, c) {
                Ok(true) => {}
                Ok(false) => return,
                Err(f) => {
                    self.report(program, origin, f);
                    return;
                }
            }
        }
        let mark = self.actions.len();
        for (name, payload) in &code.actions {
            let value = match payload {
                Some(chunk) => match self.run(program, *chunk) {
                    Ok(v) => v,
                    Err(f) => {
                        // A trigger that cannot build its payloads emits nothing.
                        self.actions.truncate(mark);
                        self.report(program, origin, f);
                        return;
                    }
                },
                None => Value::Map(Arc::new(Vec::new())),
            };
            self.actions.push(Action {
                trigger: index,
                action: name.clone(),
                payload: value,
            });
        }
    }

    fn truthy(&self, v: &Value, program: &Program, chunk: ChunkId) -> Result<bool, Fault> {
        ops::condition(v).map_err(|m| {
            Fault::error(
                program.bytecode.chunks[chunk as usize].root,
                Arc::from(m),
                None,
            )
        })
    }

    fn report(&mut self, program: &Program, origin: Origin, fault: Fault) {
        match fault {
            Fault::Error(e) => self.errors.push(RawError {
                origin,
                span: e.span,
                message: e.message,
                path: e.path,
            }),
            Fault::Reported => {}
            Fault::Budget => {
                let span = match origin {
                    Origin::Rule(r) => program.checked.rules[r as usize].name_span,
                    Origin::Trigger(t) => program.checked.triggers[t as usize].span,
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

    /// Evaluates a rule once; later reads return the memoised value. The
    /// common path (a pending rule that succeeds) is kept small; the rest
    /// is out of line.
    #[inline]
    fn rule(&mut self, program: &Program, id: u32) -> Result<(), Fault> {
        if self.state[id as usize] != RuleState::Pending {
            return self.settled(id);
        }
        if self.steps > self.budget {
            return self.out_of_steps(program, id);
        }
        self.state[id as usize] = RuleState::Running;
        let result = self.rule_body(program, id);
        self.finish(program, id, result)
    }

    /// Memoises a running rule's outcome.
    #[inline(always)]
    fn finish(
        &mut self,
        program: &Program,
        id: u32,
        result: Result<Value, Fault>,
    ) -> Result<(), Fault> {
        match result {
            Ok(v) => {
                store(&mut self.values[id as usize], v);
                self.state[id as usize] = RuleState::Done;
                Ok(())
            }
            Err(f) => self.failed(program, id, f),
        }
    }

    /// Reading a rule that already ran (or is running).
    #[cold]
    fn settled(&self, id: u32) -> Result<(), Fault> {
        match self.state[id as usize] {
            RuleState::Done | RuleState::Pending => Ok(()),
            RuleState::OutOfSteps => Err(Fault::Budget),
            // Running: the checker rejects cycles; this guards the invariant.
            RuleState::Failed | RuleState::Running => Err(Fault::Reported),
        }
    }

    /// A rule reached after the budget ran out.
    #[cold]
    fn out_of_steps(&mut self, program: &Program, id: u32) -> Result<(), Fault> {
        let kind = program.checked.rules[id as usize].kind;
        // Values outlive a run (reset clears only lets): the fallback
        // replaces what the last profile left here.
        self.values[id as usize] = fallback(kind);
        self.state[id as usize] = RuleState::OutOfSteps;
        if kind != RuleKind::Let {
            self.report(program, Origin::Rule(id), Fault::Budget);
        }
        Err(Fault::Budget)
    }

    /// A rule whose evaluation failed: its fallback value (§9), reported
    /// once here.
    #[cold]
    fn failed(&mut self, program: &Program, id: u32, fault: Fault) -> Result<(), Fault> {
        let kind = program.checked.rules[id as usize].kind;
        self.values[id as usize] = fallback(kind);
        match fault {
            Fault::Budget => {
                self.state[id as usize] = RuleState::OutOfSteps;
                if kind != RuleKind::Let {
                    self.report(program, Origin::Rule(id), Fault::Budget);
                }
                Err(Fault::Budget)
            }
            f => {
                self.state[id as usize] = RuleState::Failed;
                self.report(program, Origin::Rule(id), f);
                Err(Fault::Reported)
            }
        }
    }

    #[inline]
    fn rule_body(&mut self, program: &Program, id: u32) -> Result<Value, Fault> {
        match &program.bytecode.rules[id as usize] {
            RuleCode::Segment(chunk) => Ok(Value::Bool(self.condition(program, *chunk)?)),
            RuleCode::Expr(chunk) => self.run(program, *chunk),
            RuleCode::Decision {
                policy: HitPolicy::First,
                branches,
            } => {
                for (index, (cond, value)) in branches.iter().enumerate() {
                    if self.branch_matches(program, id, index, *cond)? {
                        return self.decision_value(program, id, *value);
                    }
                }
                Ok(Value::Null)
            }
            RuleCode::Decision {
                policy: HitPolicy::Collect,
                branches,
            } => self.collect_decision(program, id, branches),
            RuleCode::Experiment(e) => self.experiment(program, id, e),
        }
    }

    /// A `collect` decision: every matching branch's value, in order.
    #[inline(never)]
    fn collect_decision(
        &mut self,
        program: &Program,
        id: u32,
        branches: &[(Option<ChunkId>, ChunkId)],
    ) -> Result<Value, Fault> {
        let mut collected = Vec::new();
        for (index, (cond, value)) in branches.iter().enumerate() {
            // A collect decision's `else` applies only when no
            // `when` matched.
            if cond.is_none() && !collected.is_empty() {
                continue;
            }
            if self.branch_matches(program, id, index, *cond)? {
                collected.push(self.run(program, *value)?);
            }
        }
        Ok(Value::List(collected.into()))
    }

    /// An experiment's variant (or null).
    #[inline(never)]
    fn experiment(
        &mut self,
        program: &Program,
        id: u32,
        e: &crate::compile::ExperimentCode,
    ) -> Result<Value, Fault> {
        if let Some((_, v)) = self.forced.iter().find(|(r, _)| *r == id) {
            return Ok(Value::Str(v.clone()));
        }
        let unit = self.run(program, e.unit)?;
        let unit_text: Arc<str> = match &unit {
            Value::Str(s) if !s.is_empty() => s.clone(),
            Value::Int(i) => Arc::from(i.to_string()),
            Value::Null | Value::Str(_) => return Ok(Value::Null),
            other => {
                // A data error: name the field when the unit is one.
                let chunk = program.bytecode.chunk(e.unit);
                let subject = match *chunk.code {
                    [Op::Slot(s)] => s,
                    _ => u32::MAX,
                };
                return Err(located_fault(
                    program,
                    chunk.root,
                    subject,
                    format!(
                        "type error: an experiment unit must be a string or an int, but this is {}",
                        article(other)
                    ),
                    None,
                ));
            }
        };
        if let Some((_, idx)) = e.force.iter().find(|(u, _)| **u == *unit_text) {
            return Ok(Value::Str(e.variants[*idx].clone()));
        }
        if let Some(c) = e.eligible {
            if !self.condition(program, c)? {
                return Ok(Value::Null);
            }
        }
        let n = bucket::hash(&e.salt, &unit_text, 2).unwrap_or(-1.0);
        Ok(match bucket::choose_variation(n, &e.ranges) {
            Some(i) => Value::Str(e.variants[i].clone()),
            None => Value::Null,
        })
    }

    /// A first-match decision's value. A constant that the decision
    /// already holds from the last profile is kept as it is: no
    /// reference-count traffic for the commonest decision.
    fn decision_value(
        &mut self,
        program: &Program,
        id: u32,
        chunk: ChunkId,
    ) -> Result<Value, Fault> {
        if let Some((k, cost)) = program.bytecode.constant_of(chunk) {
            let held = &self.values[id as usize];
            if let (Value::Str(held), Value::Str(k)) = (held, &program.bytecode.consts[k as usize])
            {
                if Arc::ptr_eq(held, k) {
                    self.charge(cost)?;
                    return Ok(std::mem::take(&mut self.values[id as usize]));
                }
            }
        }
        self.run(program, chunk)
    }

    /// Whether a decision branch applies (an `else` always does). An error
    /// in its condition is reported and skips the branch (§9); only the
    /// budget running out stops the decision.
    fn branch_matches(
        &mut self,
        program: &Program,
        rule: u32,
        index: usize,
        condition: Option<ChunkId>,
    ) -> Result<bool, Fault> {
        let outcome = match condition {
            Some(c) => self.condition(program, c),
            None => Ok(true),
        };
        if self.branch_log.is_some() {
            self.log_branch(rule, index, &outcome);
        }
        match outcome {
            Ok(hit) => Ok(hit),
            Err(f) => self.branch_failed(program, rule, f),
        }
    }

    /// Coverage (`onramp test --coverage`): a branch condition's outcome.
    #[cold]
    fn log_branch(&mut self, rule: u32, index: usize, outcome: &Result<bool, Fault>) {
        if let (Some(log), Ok(hit)) = (&mut self.branch_log, outcome) {
            log.push((rule, index as u32, *hit));
        }
    }

    /// A branch condition that failed: reported, and the branch skipped;
    /// only the budget running out stops the decision.
    #[cold]
    fn branch_failed(&mut self, program: &Program, rule: u32, fault: Fault) -> Result<bool, Fault> {
        match fault {
            Fault::Budget => Err(Fault::Budget),
            f => {
                self.report(program, Origin::Rule(rule), f);
                Ok(false)
            }
        }
    }

    /// Runs a chunk to its value; on a fault, the stacks are restored.
    pub(crate) fn run(&mut self, program: &Program, chunk: ChunkId) -> Result<Value, Fault> {
        // A constant (most decision values) needs no stack.
        if let Some((k, cost)) = program.bytecode.constant_of(chunk) {
            self.charge(cost)?;
            return Ok(program.bytecode.consts[k as usize].clone());
        }
        let base = self.stack.len();
        let iter_base = self.iters.len();
        let r = self.exec(program, chunk);
        self.stack.truncate(base);
        self.iters.truncate(iter_base);
        r
    }

    /// Runs a chunk outside any rule (test expressions), turning a fault
    /// into the message a test report shows.
    pub(crate) fn run_detached(
        &mut self,
        program: &Program,
        chunk: ChunkId,
    ) -> Result<Value, String> {
        self.run(program, chunk).map_err(|f| match f {
            Fault::Error(e) => e.message.to_string(),
            Fault::Budget => "step budget exhausted".to_string(),
            Fault::Reported => match self.errors.last() {
                Some(e) => format!("a rule it reads failed: {}", e.message),
                None => "a rule it reads failed".to_string(),
            },
        })
    }

    fn pop(&mut self) -> Value {
        self.stack.pop().unwrap_or_default()
    }

    fn exec(&mut self, program: &Program, chunk_id: ChunkId) -> Result<Value, Fault> {
        // Per-element chunks run once per list element: only the tables
        // every instruction needs are looked up here, the rest on error.
        let (code, costs) = program.bytecode.code_and_costs(chunk_id);
        let consts = &program.bytecode.consts;
        let mut pc = 0usize;
        let error = |pc: usize, message: String, path: Option<Arc<str>>| {
            fault_at(program, chunk_id, pc, message, path)
        };
        while pc < code.len() {
            self.steps += u64::from(costs[pc]);
            if self.steps > self.budget {
                return Err(Fault::Budget);
            }
            let op = code[pc];
            pc += 1;
            match op {
                Op::Const(i) => self.stack.push(consts[i as usize].clone()),
                Op::Slot(i) => {
                    let v = self.slot(program, i).map_err(|f| {
                        with_span(f, program.bytecode.chunk(chunk_id).spans[pc - 1])
                    })?;
                    self.stack.push(v);
                }
                Op::Profile => self.stack.push(self.profile.clone()),
                Op::Rule(r) => {
                    self.rule(program, r)?;
                    self.stack.push(self.values[r as usize].clone());
                }
                Op::Element(depth) => {
                    let v = self
                        .iters
                        .len()
                        .checked_sub(1 + depth as usize)
                        .map(|i| self.iters[i].current.clone())
                        .unwrap_or_default();
                    self.stack.push(v);
                }
                Op::Now => self.stack.push(Value::Time(self.now)),
                Op::Actions => {
                    let list: Vec<Value> =
                        self.actions.iter().map(|a| a.to_value(program)).collect();
                    self.stack.push(Value::List(list.into()));
                }
                Op::Event => match &self.event {
                    Some(Ok(v)) => self.stack.push(v.clone()),
                    Some(Err(m)) => {
                        return Err(error(pc - 1, m.to_string(), Some(Arc::from("event"))))
                    }
                    None => self.stack.push(Value::Null),
                },
                Op::Field(k) => {
                    let base = self.pop();
                    let Value::Str(key) = &consts[k as usize] else {
                        return Err(error(
                            pc - 1,
                            "internal: field key is not a string".into(),
                            None,
                        ));
                    };
                    let v = ops::field(&base, key).map_err(|m| error(pc - 1, m, None))?;
                    self.stack.push(v);
                }
                Op::Index => {
                    let idx = self.pop();
                    let base = self.pop();
                    let v = ops::index(&base, &idx).map_err(|m| error(pc - 1, m, None))?;
                    self.stack.push(v);
                }
                Op::Neg => {
                    let x = self.pop();
                    let v = ops::neg(&x).map_err(|m| error(pc - 1, m, None))?;
                    self.stack.push(v);
                }
                Op::Not => {
                    let x = self.pop();
                    let b = ops::condition(&x).map_err(|m| error(pc - 1, m, None))?;
                    self.stack.push(Value::Bool(!b));
                }
                // Conditions are bools almost always: look at the top of
                // the stack in place instead of popping and pushing.
                Op::ToBool => match self.stack.last_mut() {
                    Some(Value::Bool(_)) => {}
                    Some(top @ Value::Null) => *top = Value::Bool(false),
                    _ => {
                        let x = self.pop();
                        let b = ops::condition(&x).map_err(|m| error(pc - 1, m, None))?;
                        self.stack.push(Value::Bool(b));
                    }
                },
                Op::AndJump(target) | Op::OrJump(target) => {
                    let b = match self.stack.last_mut() {
                        Some(Value::Bool(b)) => *b,
                        Some(top @ Value::Null) => {
                            *top = Value::Bool(false);
                            false
                        }
                        _ => {
                            let x = self.pop();
                            let b = ops::condition(&x).map_err(|m| error(pc - 1, m, None))?;
                            self.stack.push(Value::Bool(b));
                            b
                        }
                    };
                    // `false and …` / `true or …` keep the bool and skip
                    // the rest; otherwise the right side replaces it.
                    if matches!(op, Op::AndJump(_)) != b {
                        pc = target as usize;
                    } else {
                        self.stack.pop();
                    }
                }
                Op::JumpIfFalse(target) => {
                    let b = match self.stack.pop() {
                        Some(Value::Bool(b)) => b,
                        Some(Value::Null) | None => false,
                        Some(x) => ops::condition(&x).map_err(|m| error(pc - 1, m, None))?,
                    };
                    if !b {
                        pc = target as usize;
                    }
                }
                Op::JumpIfNotNull(target) => {
                    if self.stack.last().is_some_and(|v| !v.is_null()) {
                        pc = target as usize;
                    } else {
                        self.pop();
                    }
                }
                Op::Jump(target) => pc = target as usize,
                Op::Binary(bin) => {
                    let b = self.pop();
                    let a = self.pop();
                    let v = ops::binary(bin, &a, &b).map_err(|m| error(pc - 1, m, None))?;
                    self.stack.push(v);
                }
                Op::Fused(id) => {
                    let v = self.fused_value(program, id)?;
                    self.stack.push(v);
                }
                Op::SlotCmpConst(slot, bin, c, after) => {
                    let v = self.slot_cmp_const(program, chunk_id, pc - 1, slot, bin, c, after)?;
                    self.stack.push(v);
                }
                Op::IsNull(negated) => {
                    let x = self.pop();
                    self.stack.push(Value::Bool(x.is_null() != negated));
                }
                Op::Between => {
                    let hi = self.pop();
                    let lo = self.pop();
                    let x = self.pop();
                    let v = ops::between(&x, &lo, &hi).map_err(|m| error(pc - 1, m, None))?;
                    self.stack.push(v);
                }
                Op::Within(kind) => {
                    let anchor = match kind {
                        WindowKind::After | WindowKind::Before => Some(self.pop()),
                        _ => None,
                    };
                    let d = self.pop();
                    let t = self.pop();
                    let v = ops::within(kind, &t, &d, anchor.as_ref(), self.now)
                        .map_err(|m| error(pc - 1, m, None))?;
                    self.stack.push(v);
                }
                Op::Matches(re) => {
                    let s = self.pop();
                    let v = match &s {
                        Value::Null => Value::Null,
                        Value::Str(text) => {
                            Value::Bool(program.checked.regexes[re as usize].is_match(text))
                        }
                        other => {
                            return Err(error(
                                pc - 1,
                                format!(
                                    "type error: `matches` needs a string, but this is {}",
                                    article(other)
                                ),
                                None,
                            ))
                        }
                    };
                    self.stack.push(v);
                }
                Op::Interpolate(n) => {
                    let start = self.stack.len().saturating_sub(n as usize);
                    let v = ops::interpolate(&self.stack[start..]);
                    self.stack.truncate(start);
                    self.stack.push(v);
                }
                Op::MakeList(n) => {
                    let start = self.stack.len().saturating_sub(n as usize);
                    let items: Vec<Value> = self.stack.drain(start..).collect();
                    self.stack.push(Value::List(Arc::new(items)));
                }
                Op::MakeMap(keys) => {
                    let keys = &program.bytecode.key_lists[keys as usize];
                    let start = self.stack.len().saturating_sub(keys.len());
                    let entries: Vec<(Arc<str>, Value)> = keys
                        .iter()
                        .cloned()
                        .zip(self.stack.drain(start..))
                        .collect();
                    self.stack.push(Value::Map(Arc::new(entries)));
                }
                Op::Call(b, n) => {
                    let start = self.stack.len().saturating_sub(n as usize);
                    let v = ops::call(b, &self.stack[start..], self.now)
                        .map_err(|m| error(pc - 1, m, None))?;
                    self.stack.truncate(start);
                    self.stack.push(v);
                }
                Op::HostCall(h, n) => {
                    let start = self.stack.len().saturating_sub(n as usize);
                    let host = &program.host[h as usize];
                    self.args.clear();
                    self.args.extend(self.stack.drain(start..));
                    let null_for_required = self
                        .args
                        .iter()
                        .zip(host.signature.params.iter())
                        .any(|(a, p)| a.is_null() && !p.nullable);
                    let v = if null_for_required {
                        Value::Null
                    } else {
                        (host.function)(&self.args).map_err(|m| error(pc - 1, m, None))?
                    };
                    self.stack.push(v);
                }
                Op::IterBegin(kind) => {
                    let list = match self.pop() {
                        Value::Null => None,
                        Value::List(items) => Some(items),
                        other => {
                            return Err(error(
                                pc - 1,
                                format!(
                                    "type error: `{}` needs a list, but this is {}",
                                    kind.name(),
                                    article(&other)
                                ),
                                None,
                            ))
                        }
                    };
                    self.iters.push(new_frame(kind, list));
                }
                Op::IterNext(exit) => {
                    let Some(frame) = self.iters.last_mut() else {
                        pc = exit as usize;
                        continue;
                    };
                    let len = frame.list.as_ref().map_or(0, |l| l.len());
                    if frame.done || frame.next >= len {
                        pc = exit as usize;
                        continue;
                    }
                    if let Some(list) = &frame.list {
                        frame.current = list[frame.next].clone();
                    }
                    frame.next += 1;
                    // One step per element visited (§14).
                    self.steps += 1;
                    if self.steps > self.budget {
                        return Err(Fault::Budget);
                    }
                }
                Op::IterStep => {
                    let takes_value = matches!(
                        self.iters.last().map(|f| f.kind),
                        Some(
                            AggKind::All
                                | AggKind::Sum
                                | AggKind::Avg
                                | AggKind::Min
                                | AggKind::Max
                                | AggKind::Distinct
                        )
                    );
                    let v = if takes_value { self.pop() } else { Value::Null };
                    if let Some(frame) = self.iters.last_mut() {
                        step(frame, v).map_err(|m| error(pc - 1, m, None))?;
                    }
                }
                Op::IterEnd => {
                    let v = match self.iters.pop() {
                        Some(frame) => finish(frame),
                        None => Value::Null,
                    };
                    self.stack.push(v);
                }
            }
        }
        Ok(self.pop())
    }

    /// `slot op const` at instruction `pc` of `chunk`, after the
    /// instruction's own step was charged. Borrows the bound value: no
    /// reference-count traffic on the commonest condition.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn slot_cmp_const(
        &mut self,
        program: &Program,
        chunk: ChunkId,
        pc: usize,
        slot: u32,
        bin: BinOp,
        c: u32,
        after: u16,
    ) -> Result<Value, Fault> {
        if let Some(Err(_)) = self.slots.get(slot as usize) {
            let f = self.slot(program, slot).err().unwrap_or(Fault::Reported);
            let at = pc as u32;
            let chunk = program.bytecode.chunk(chunk);
            let span = chunk
                .operand_spans
                .iter()
                .find(|(i, _)| *i == at)
                .map_or(chunk.spans[pc], |(_, s)| *s);
            return Err(with_span(f, span));
        }
        // The constant and the comparison, counted once the field was
        // read, before comparing.
        self.charge(u32::from(after))?;
        let a = match self.slots.get(slot as usize) {
            Some(Ok(a)) => a,
            _ => &Value::Null,
        };
        compare_fast(bin, a, &program.bytecode.consts[c as usize])
            .map_err(|m| fault_at(program, chunk, pc, m, None))
    }

    /// Counts steps; fails once the budget is exceeded.
    #[inline]
    fn charge(&mut self, steps: u32) -> Result<(), Fault> {
        self.steps += u64::from(steps);
        if self.steps > self.budget {
            Err(Fault::Budget)
        } else {
            Ok(())
        }
    }

    /// Decides a condition chunk: by its condition code when it has one,
    /// else by running it and reading the value as a condition.
    #[inline]
    fn condition(&mut self, program: &Program, chunk: ChunkId) -> Result<bool, Fault> {
        match program.run_plan.entries.get(chunk as usize) {
            Some(&entry) if entry != plan::NONE => self.run_tests(program, entry),
            _ => self
                .run(program, chunk)
                .and_then(|v| self.truthy(&v, program, chunk)),
        }
    }

    /// Runs condition code (see [`crate::compile::branch`]) from its
    /// entry in the plan's tests: each test charges and fails exactly as
    /// the chunk's instructions would.
    fn run_tests(&mut self, program: &Program, entry: u32) -> Result<bool, Fault> {
        let plan = &program.run_plan;
        // Fast tests cannot fail and change nothing but the step count, so
        // their steps are summed here and checked against the budget before
        // the next exact test and at the answer: the outcome is the same as
        // checking after each.
        let mut steps = self.steps;
        let mut at = entry;
        loop {
            let fast = &plan.fast[at as usize];
            let next = match fast.check.truth(&self.slots) {
                Some(truth) => {
                    steps += u64::from(fast.cost[usize::from(truth)]);
                    fast.next[usize::from(truth)]
                }
                None => {
                    self.steps = steps;
                    if steps > self.budget {
                        return Err(Fault::Budget);
                    }
                    let test = &plan.tests[at as usize];
                    let truth = self.exact_truth(program, test)?;
                    let exit = test.exits[usize::from(truth)];
                    steps = self.steps + u64::from(exit.cost);
                    exit.to
                }
            };
            if next >= ANSWER_FALSE {
                self.steps = steps;
                if steps > self.budget {
                    return Err(Fault::Budget);
                }
                return Ok(next == ANSWER_TRUE);
            }
            at = next;
        }
    }

    /// A test's operand evaluated and read exactly as its instructions
    /// would: same steps, same checks, same errors. Kept out of line so
    /// the loop of [`Self::run_tests`] stays small.
    #[inline(never)]
    fn exact_truth(&mut self, program: &Program, test: &Test) -> Result<bool, Fault> {
        let (_, costs) = program.bytecode.code_and_costs(test.chunk);
        Ok(match test.operand {
            Operand::SlotCmpConst(slot, bin, c, after) => {
                self.charge(costs[0])?;
                let v = self.slot_cmp_const(program, test.chunk, 0, slot, bin, c, after)?;
                self.read(test, read_condition(program, &v, test))?
            }
            // A segment read by another: evaluated (or memoised) as the
            // `Rule` instruction would.
            Operand::Rule(r) => {
                self.charge(costs[0])?;
                self.rule(program, r)?;
                let truth = read_condition(program, &self.values[r as usize], test);
                self.read(test, truth)?
            }
            // The rest (a slot or list of another type, a data error, any
            // other operand) runs the operand's own instructions.
            Operand::Slot(_) | Operand::ConstInSlot(..) | Operand::Chunk => {
                let v = self.run(program, test.chunk)?;
                self.read(test, read_condition(program, &v, test))?
            }
        })
    }

    /// A test's reader charges its steps, then reads the operand's value
    /// (`truth`, computed from a borrow of the machine) as a condition.
    #[inline]
    fn read(&mut self, test: &Test, truth: Result<bool, Fault>) -> Result<bool, Fault> {
        self.charge(test.reader.cost)?;
        truth
    }

    /// The value of a fused aggregate, running its group's pass first if
    /// needed, and charging the steps its own pass would have taken.
    fn fused_value(&mut self, program: &Program, id: u32) -> Result<Value, Fault> {
        let agg = &program.bytecode.fused[id as usize];
        let group = agg.group as usize;
        if self.groups_done.len() < program.bytecode.groups.len() {
            self.groups_done
                .resize(program.bytecode.groups.len(), false);
        }
        if !self.groups_done[group] {
            self.run_group(program, group);
            self.groups_done[group] = true;
        }
        let outcome = &mut self.fused[id as usize];
        self.steps = self.steps.saturating_add(outcome.steps);
        if outcome.out_of_steps || self.steps > self.budget {
            return Err(Fault::Budget);
        }
        if let Some((span, message, path)) = &outcome.error {
            return Err(Fault::error(*span, message.clone(), path.clone()));
        }
        Ok(outcome.value.clone())
    }

    /// One pass over a profile list for every aggregate of a group.
    fn run_group(&mut self, program: &Program, group: usize) {
        let g = &program.bytecode.groups[group];
        let fused = &program.bytecode.fused;
        if self.fused.len() < fused.len() {
            self.fused.resize_with(fused.len(), FusedOutcome::default);
        }
        // Each aggregate may spend at most what is left now; the pass stops
        // an aggregate there instead of running on (§14 budget).
        let allowance = self.budget.saturating_sub(self.steps);
        let list = self.slot(program, g.slot);
        for &a in &g.aggs {
            let agg = &fused[a as usize];
            let o = &mut self.fused[a as usize];
            *o = FusedOutcome::default();
            // The aggregate node and its list operand.
            o.steps = 2;
            match &list {
                Err(Fault::Error(e)) => {
                    o.steps = 1;
                    o.error = Some((agg.list_span, e.message.clone(), e.path.clone()));
                    o.done = true;
                }
                Err(_) => o.done = true,
                Ok(Value::Null | Value::List(_)) => {}
                Ok(other) => {
                    let path = program.checked.slots[g.slot as usize].dotted();
                    o.error = Some((
                        agg.span,
                        Arc::from(format!(
                            "`{path}`: type error: `{}` needs a list, but this is {}",
                            agg.kind.name(),
                            article(other)
                        )),
                        Some(Arc::from(path)),
                    ));
                    o.done = true;
                }
            }
            if !o.done {
                o.value = Value::Null;
            }
        }
        let Ok(Value::List(items)) = list else {
            self.finish_group(program, g);
            return;
        };
        // Accumulators live in iteration frames, as in a separate pass; the
        // frame on top of the iteration stack also provides the element to
        // the per-element chunks (`Element(0)`).
        let mut frames = std::mem::take(&mut self.frame_pool);
        frames.clear();
        frames.extend(
            g.aggs
                .iter()
                .map(|&a| new_frame(fused[a as usize].kind, None)),
        );
        let saved_budget = self.budget;
        self.budget = u64::MAX;
        self.iters.push(new_frame(AggKind::Count, None));
        let top = self.iters.len() - 1;
        for item in items.iter() {
            let name = if g.by_name {
                match item {
                    Value::Map(_) => Some(item.get("name")),
                    _ => None,
                }
            } else {
                None
            };
            self.iters[top].current = item.clone();
            let mut all_done = true;
            for (k, &a) in g.aggs.iter().enumerate() {
                let agg = &fused[a as usize];
                if self.fused[a as usize].done {
                    continue;
                }
                all_done = false;
                let before = self.steps;
                let result = self.fused_element(program, agg, name, &mut frames[k]);
                let spent = self.steps - before;
                let o = &mut self.fused[a as usize];
                o.steps += 1 + spent;
                match result {
                    Ok(()) => {}
                    Err(Fault::Error(e)) => {
                        let ErrorInfo {
                            span,
                            message,
                            path,
                        } = *e;
                        o.error = Some((span, message, path));
                        o.done = true;
                    }
                    Err(_) => o.done = true,
                }
                if frames[k].done {
                    o.done = true;
                }
                if o.steps > allowance {
                    o.out_of_steps = true;
                    o.done = true;
                }
                self.steps = before;
            }
            if all_done {
                break;
            }
        }
        self.iters.truncate(top);
        self.budget = saved_budget;
        for (k, &a) in g.aggs.iter().enumerate() {
            let frame = std::mem::replace(&mut frames[k], new_frame(AggKind::Count, None));
            let o = &mut self.fused[a as usize];
            if o.error.is_none() && !o.out_of_steps {
                o.value = finish(frame);
            }
        }
        self.frame_pool = frames;
    }

    /// An empty or unusable list: every aggregate that did not fail gets
    /// its empty result.
    fn finish_group(&mut self, program: &Program, g: &crate::compile::FusedGroup) {
        for &a in &g.aggs {
            let kind = program.bytecode.fused[a as usize].kind;
            let o = &mut self.fused[a as usize];
            if o.error.is_none() && !o.out_of_steps && !o.done {
                o.value = finish(new_frame(kind, None));
            }
        }
    }

    /// One element for one fused aggregate.
    fn fused_element(
        &mut self,
        program: &Program,
        agg: &crate::compile::FusedAgg,
        name: Option<Option<&Value>>,
        frame: &mut IterFrame,
    ) -> Result<(), Fault> {
        let passes = match (&agg.name, name) {
            // A map element: test its name without running code, but count
            // the steps the test stands for.
            (Some(want), Some(have)) => {
                let matched = matches!(have, Some(Value::Str(s)) if **s == **want);
                self.steps += u64::from(agg.name_cost) + u64::from(agg.and_cost);
                if !matched {
                    false
                } else if let Some(rest) = agg.rest {
                    let v = self.run(program, rest)?;
                    self.truthy(&v, program, rest)?
                } else {
                    true
                }
            }
            // Anything else runs the whole filter as a separate pass would.
            _ => match agg.full_filter {
                Some(f) => {
                    let v = self.run(program, f)?;
                    self.truthy(&v, program, f)?
                }
                None => true,
            },
        };
        if !passes {
            return Ok(());
        }
        // The element, for the aggregates that keep it (first, last, the
        // filtered list) or fold it: taken only for elements that pass.
        frame.current = self
            .iters
            .last()
            .map(|f| f.current.clone())
            .unwrap_or_default();
        let value = match (agg.projection, agg.kind) {
            (Some(p), _) => self.run(program, p)?,
            (
                None,
                AggKind::Sum
                | AggKind::Avg
                | AggKind::Min
                | AggKind::Max
                | AggKind::Distinct
                | AggKind::All,
            ) => frame.current.clone(),
            _ => Value::Null,
        };
        step(frame, value).map_err(|m| Fault::error(agg.span, Arc::from(m), None))
    }

    fn slot(&self, program: &Program, i: u32) -> Result<Value, Fault> {
        match self.slots.get(i as usize) {
            Some(Ok(v)) => Ok(v.clone()),
            Some(Err(message)) => Err(Fault::error(
                Span::default(),
                message.clone(),
                Some(Arc::from(program.checked.slots[i as usize].dotted())),
            )),
            None => Ok(Value::Null),
        }
    }
}

fn new_frame(kind: AggKind, list: Option<Arc<Vec<Value>>>) -> IterFrame {
    IterFrame {
        kind,
        list,
        next: 0,
        done: false,
        current: Value::Null,
        count: 0,
        acc: Value::Null,
        float_sum: 0.0,
        items: Vec::new(),
    }
}

/// The fast loop's view of the machine: the bound slots, the planned
/// tests, the steps so far and the budget.
struct FastRun<'a> {
    slots: &'a [Bound],
    tests: &'a [FastTest],
    steps: u64,
    budget: u64,
}

impl FastRun<'_> {
    /// Walks the tests from `entry`, after `steps` steps: the answer and
    /// the steps after it, or `None` when a test needs the exact path or
    /// the budget runs out.
    #[inline(always)]
    fn walk(&self, entry: u32, mut steps: u64) -> Option<(bool, u64)> {
        let mut at = entry;
        while at < ANSWER_FALSE {
            let t = &self.tests[at as usize];
            // A branch, not an index: the next test's address then waits
            // for a prediction, not for this test's comparison.
            (steps, at) = if t.check.truth(self.slots)? {
                (steps + u64::from(t.cost[1]), t.next[1])
            } else {
                (steps + u64::from(t.cost[0]), t.next[0])
            };
        }
        (steps <= self.budget).then_some((at == ANSWER_TRUE, steps))
    }

    /// A first-match decision: stores the value of its first branch whose
    /// condition holds (null if none) and returns the steps after it, or
    /// `None` (storing nothing) when a test needs the exact path, the
    /// budget runs out or the value is not a constant.
    #[inline(always)]
    fn first_match(
        &self,
        branches: &[PlanBranch],
        consts: &[Value],
        held: &mut Value,
    ) -> Option<u64> {
        let mut steps = self.steps;
        for b in branches {
            let hit = b.condition == plan::NONE || {
                let (hit, after) = self.walk(b.condition, steps)?;
                steps = after;
                hit
            };
            if hit {
                let k = consts.get(b.constant as usize)?;
                steps += u64::from(b.constant_cost);
                if steps > self.budget {
                    return None;
                }
                // The decision usually holds this constant from the last
                // profile: no reference-count traffic then.
                if !matches!((&*held, k), (Value::Str(h), Value::Str(k)) if Arc::ptr_eq(h, k)) {
                    store(held, k.clone());
                }
                return Some(steps);
            }
        }
        store(held, Value::Null);
        Some(steps)
    }
}

/// Overwrites a segment's value with its truth. The segment holds a bool
/// from the last profile almost always: overwritten in place, without
/// moving a whole `Value`.
#[inline(always)]
fn set_bool(held: &mut Value, truth: bool) {
    match held {
        Value::Bool(b) => *b = truth,
        other => store(other, Value::Bool(truth)),
    }
}

/// An error raised by instruction `pc` of `chunk`, naming the profile
/// field the instruction read (§3: errors name the field path and the
/// type, never the value).
fn fault_at(
    program: &Program,
    chunk: ChunkId,
    pc: usize,
    message: String,
    path: Option<Arc<str>>,
) -> Fault {
    let chunk = program.bytecode.chunk(chunk);
    located_fault(program, chunk.spans[pc], chunk.subjects[pc], message, path)
}

fn located_fault(
    program: &Program,
    span: Span,
    subject: u32,
    message: String,
    path: Option<Arc<str>>,
) -> Fault {
    let (message, path) = match (path, program.checked.slots.get(subject as usize)) {
        (None, Some(slot)) => {
            let p = slot.dotted();
            (format!("`{p}`: {message}"), Some(Arc::from(p)))
        }
        (path, _) => (message, path),
    };
    Fault::error(span, Arc::from(message), path)
}

/// A test operand's value read as a condition, as the stack machine's
/// `AndJump`/`OrJump`/`ToBool`/`Not` (or the rule) would read it.
#[inline]
fn read_condition(program: &Program, v: &Value, test: &Test) -> Result<bool, Fault> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Null => Ok(false),
        other => ops::condition(other).map_err(|m| {
            let r = &test.reader;
            located_fault(program, r.span, r.subject, m, None)
        }),
    }
}

fn with_span(f: Fault, span: Span) -> Fault {
    match f {
        Fault::Error(mut e) => {
            e.span = span;
            Fault::Error(e)
        }
        other => other,
    }
}

/// Overwrites a rule's value. The old value is usually a bool from the
/// last profile: forgetting a scalar (which owns nothing) skips the drop
/// glue call on the hot path.
#[inline(always)]
fn store(slot: &mut Value, v: Value) {
    let old = std::mem::replace(slot, v);
    match old {
        Value::Null
        | Value::Bool(_)
        | Value::Int(_)
        | Value::Float(_)
        | Value::Time(_)
        | Value::Duration(_) => std::mem::forget(old),
        other => drop(other),
    }
}

/// The result a rule shows when it failed (§9).
fn fallback(kind: RuleKind) -> Value {
    match kind {
        RuleKind::Segment => Value::Bool(false),
        _ => Value::Null,
    }
}

/// `slot op const` without touching the stack; the common int/float/string
/// cases avoid the generic path.
#[inline]
fn compare_fast(op: BinOp, a: &Value, c: &Value) -> Result<Value, String> {
    let ord = match (a, c) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        (Value::Str(x), Value::Str(y)) if matches!(op, BinOp::Eq | BinOp::Ne) => {
            let eq = x == y;
            return Ok(Value::Bool(eq == (op == BinOp::Eq)));
        }
        _ => return ops::binary(op, a, c),
    };
    match (ord, Accepts::of(op)) {
        (Some(o), Some(accepts)) => Ok(Value::Bool(accepts.admits(o))),
        _ => ops::binary(op, a, c),
    }
}

/// Folds one element (or its projected value) into an aggregate.
fn step(frame: &mut IterFrame, v: Value) -> Result<(), String> {
    match frame.kind {
        AggKind::Count => frame.count += 1,
        AggKind::Exists => {
            frame.count = 1;
            frame.done = true;
        }
        AggKind::First => {
            frame.acc = frame.current.clone();
            frame.done = true;
        }
        AggKind::Last => frame.acc = frame.current.clone(),
        AggKind::Filter => frame.items.push(frame.current.clone()),
        AggKind::All => {
            if !ops::condition(&v)? {
                frame.count = 1;
                frame.done = true;
            }
        }
        // Aggregates skip null values (§14).
        _ if v.is_null() => {}
        AggKind::Sum | AggKind::Min | AggKind::Max => {
            ops::accumulate(frame.kind, &mut frame.acc, v)?
        }
        AggKind::Avg => {
            frame.float_sum += ops::avg_term(&v)?;
            frame.count += 1;
        }
        AggKind::Distinct => {
            if !frame.items.iter().any(|x| x.equals(&v)) {
                frame.items.push(v);
            }
        }
    }
    Ok(())
}

fn finish(frame: IterFrame) -> Value {
    match frame.kind {
        AggKind::Count => Value::Int(frame.count),
        AggKind::Exists => Value::Bool(frame.count > 0),
        AggKind::All => Value::Bool(frame.count == 0),
        AggKind::First | AggKind::Last | AggKind::Sum | AggKind::Min | AggKind::Max => frame.acc,
        AggKind::Avg => {
            if frame.count == 0 {
                Value::Null
            } else {
                Value::Float(frame.float_sum / frame.count as f64)
            }
        }
        AggKind::Filter | AggKind::Distinct => Value::List(frame.items.into()),
    }
}
