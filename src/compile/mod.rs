//! Stage 3: checked program → bytecode.
//!
//! Each expression of a rule becomes a [`Chunk`] of [`Op`]s. Field paths are
//! already slots (the checker resolved them), constant subexpressions are
//! folded here (an overflow found while folding is a compile error), `and`,
//! `or`, `if` and `??` become jumps, and the commonest condition shape
//! (`slot <op> constant`) becomes one superinstruction.

pub mod branch;
mod disasm;
pub mod opcode;

pub use disasm::disassemble;
use opcode::{BinOp, Op, WindowKind};

use crate::check::ir::{AggKind, Anchor, Ir, IrKind, RuleBody, RuleKind};
use crate::check::CheckedProgram;
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::syntax::ast::{BinaryOp, HitPolicy, UnaryOp};
use crate::value::Value;
use crate::vm::ops;
use std::sync::Arc;

/// Index of a chunk in [`Bytecode::chunks`].
pub type ChunkId = u32;

/// A straight piece of bytecode. Its instructions and their side tables
/// sit in the bytecode's shared tables at `start..end`, so a program's
/// hundreds of chunks cost four allocations, not four each.
#[derive(Clone, Debug, Default)]
pub struct Chunk {
    /// Its first instruction in [`Bytecode`]'s tables.
    pub start: u32,
    /// One past its last instruction.
    pub end: u32,
    /// The span of the slot a `SlotCmpConst` reads, by instruction index
    /// (within the chunk), for errors in the data it reads (looked up only
    /// on error; empty, so unallocated, in most chunks).
    pub operand_spans: Vec<(u32, Span)>,
    /// The span of the whole expression the chunk computes: errors about
    /// its value as a whole (a condition that is not a bool) point here.
    pub root: Span,
    /// For a condition: the same condition as a graph of tests, which the
    /// VM runs instead of the instructions.
    pub condition: Option<Box<branch::ConditionCode>>,
}

/// A chunk with its instructions and side tables, as slices indexed by
/// the chunk's own instruction numbers (jumps are chunk-relative).
#[derive(Clone, Copy, Debug)]
pub struct ChunkRef<'a> {
    /// The instructions.
    pub code: &'a [Op],
    /// Source-level steps each instruction accounts for (LANGUAGE.md §14:
    /// the budget counts source nodes, so folding does not change it).
    pub costs: &'a [u32],
    /// The source span of each instruction, for run-time errors.
    pub spans: &'a [Span],
    /// The profile slot an instruction's operand was read from, if any
    /// (`u32::MAX` for none), so a run-time error can name the field path.
    pub subjects: &'a [u32],
    /// See [`Chunk::operand_spans`].
    pub operand_spans: &'a [(u32, Span)],
    /// See [`Chunk::root`].
    pub root: Span,
    /// See [`Chunk::condition`].
    pub condition: Option<&'a branch::ConditionCode>,
}

/// The chunk being compiled: its tables grow here and are appended to the
/// bytecode's when it is finished, so the buffers serve every chunk.
#[derive(Default)]
struct ChunkBuilder {
    code: Vec<Op>,
    costs: Vec<u32>,
    spans: Vec<Span>,
    subjects: Vec<u32>,
    operand_spans: Vec<(u32, Span)>,
    root: Span,
}

impl ChunkBuilder {
    /// Appends the chunk built so far to `out` and returns its id; `self`
    /// is left empty for the next chunk.
    fn finish_into(&mut self, out: &mut Bytecode) -> ChunkId {
        let start = out.code.len() as u32;
        out.code.append(&mut self.code);
        out.costs.append(&mut self.costs);
        out.spans.append(&mut self.spans);
        out.subjects.append(&mut self.subjects);
        out.chunks.push(Chunk {
            start,
            end: out.code.len() as u32,
            // Exactly sized, and no allocation at all when empty.
            operand_spans: self.operand_spans.as_slice().to_vec(),
            root: self.root,
            condition: None,
        });
        self.operand_spans.clear();
        out.chunks.len() as ChunkId - 1
    }
}

/// How a rule is evaluated.
#[derive(Clone, Debug)]
pub enum RuleCode {
    /// A let: one chunk.
    Expr(ChunkId),
    /// A segment: one condition chunk.
    Segment(ChunkId),
    /// A decision.
    Decision {
        /// Hit policy.
        policy: HitPolicy,
        /// (condition, value) chunks; `None` condition for `else`.
        branches: Vec<(Option<ChunkId>, ChunkId)>,
    },
    /// An experiment.
    Experiment(Box<ExperimentCode>),
}

/// A compiled experiment.
#[derive(Clone, Debug)]
pub struct ExperimentCode {
    /// Computes the unit.
    pub unit: ChunkId,
    /// Computes eligibility.
    pub eligible: Option<ChunkId>,
    /// Hash seed.
    pub salt: String,
    /// Variant names, in declaration order.
    pub variants: Vec<Arc<str>>,
    /// Bucket ranges per variant (GrowthBook's `getBucketRange`).
    pub ranges: Vec<(f64, f64)>,
    /// Coverage, for explaining.
    pub coverage: f64,
    /// Weights, for explaining.
    pub weights: Vec<f64>,
    /// QA overrides: unit → variant index.
    pub force: Vec<(String, usize)>,
}

/// A compiled trigger.
#[derive(Clone, Debug)]
pub struct TriggerCode {
    /// Event name it listens to.
    pub on: Arc<str>,
    /// Condition chunk.
    pub condition: Option<ChunkId>,
    /// (action name, payload chunk) pairs.
    pub actions: Vec<(Arc<str>, Option<ChunkId>)>,
}

/// A compiled `test` block's expressions.
#[derive(Clone, Debug)]
pub struct TestCode {
    /// The profile literal, if `given { ... }`.
    pub given: Option<ChunkId>,
    /// `with` overrides: path and value.
    pub overrides: Vec<(Vec<String>, ChunkId)>,
    /// `given event { ... }`.
    pub event: Option<ChunkId>,
    /// Each `expect` and its labelled sub-expressions.
    pub expects: Vec<(ChunkId, Vec<(String, ChunkId)>)>,
}

/// An aggregate computed in a shared pass over its list together with the
/// other aggregates over the same profile list (see [`FusedGroup`]).
#[derive(Clone, Debug)]
pub struct FusedAgg {
    /// Its group.
    pub group: u32,
    /// What it computes.
    pub kind: AggKind,
    /// `Some(name)` when the filter starts with `.name == "name"`: elements
    /// with another name are rejected without running any code.
    pub name: Option<Arc<str>>,
    /// Steps the `.name == "…"` test accounts for (it is not run).
    pub name_cost: u32,
    /// 1 when the name test is the left side of an `and`.
    pub and_cost: u32,
    /// The filter after the name test (or the whole filter without one).
    pub rest: Option<ChunkId>,
    /// The whole filter, for elements that are not maps (where `.name`
    /// itself may fail).
    pub full_filter: Option<ChunkId>,
    /// The per-element projection.
    pub projection: Option<ChunkId>,
    /// Where the aggregate is, for errors about its list.
    pub span: Span,
    /// Where its list operand is, for errors reading it.
    pub list_span: Span,
}

/// Aggregates over one profile list, all computed in one pass the first
/// time any of them is read. Each keeps its own step count, error and
/// early exit, so the result (budget included) is what separate passes
/// would have given.
#[derive(Clone, Debug)]
pub struct FusedGroup {
    /// The list's slot.
    pub slot: u32,
    /// Its aggregates.
    pub aggs: Vec<u32>,
    /// Whether any member dispatches on `.name`.
    pub by_name: bool,
}

/// The whole compiled program.
#[derive(Clone, Debug, Default)]
pub struct Bytecode {
    /// Constant pool.
    pub consts: Vec<Value>,
    /// Key lists of map literals.
    pub key_lists: Vec<Vec<Arc<str>>>,
    /// All chunks.
    pub chunks: Vec<Chunk>,
    /// Every chunk's instructions, each chunk's at its `start..end`.
    pub code: Vec<Op>,
    /// Per instruction: the steps it accounts for.
    pub costs: Vec<u32>,
    /// Per instruction: its source span.
    pub spans: Vec<Span>,
    /// Per instruction: the profile slot its operand was read from.
    pub subjects: Vec<u32>,
    /// One entry per rule, indexed like `CheckedProgram::rules`.
    pub rules: Vec<RuleCode>,
    /// One entry per trigger.
    pub triggers: Vec<TriggerCode>,
    /// One entry per test block.
    pub tests: Vec<TestCode>,
    /// Aggregates computed in shared passes.
    pub fused: Vec<FusedAgg>,
    /// Their groups.
    pub groups: Vec<FusedGroup>,
    /// The rules a run evaluates, in source order (all but lets).
    pub outputs: Vec<u32>,
    /// The lets, evaluated only when read.
    pub lets: Vec<u32>,
}

impl Bytecode {
    /// Chunk `id` with its tables.
    pub fn chunk(&self, id: ChunkId) -> ChunkRef<'_> {
        let c = &self.chunks[id as usize];
        let range = c.start as usize..c.end as usize;
        ChunkRef {
            code: &self.code[range.clone()],
            costs: &self.costs[range.clone()],
            spans: &self.spans[range.clone()],
            subjects: &self.subjects[range],
            operand_spans: &c.operand_spans,
            root: c.root,
            condition: c.condition.as_deref(),
        }
    }

    /// Chunk `id`'s instructions and their steps: all that running it
    /// needs until something fails (see [`Bytecode::chunk`] for the rest).
    pub fn code_and_costs(&self, id: ChunkId) -> (&[Op], &[u32]) {
        let c = &self.chunks[id as usize];
        let range = c.start as usize..c.end as usize;
        (&self.code[range.clone()], &self.costs[range])
    }

    /// The constant chunk `id` computes and the steps it accounts for,
    /// when the chunk is just that (most decision values).
    pub fn constant_of(&self, id: ChunkId) -> Option<(u32, u32)> {
        match self.code_and_costs(id) {
            ([Op::Const(k)], [cost]) => Some((*k, *cost)),
            _ => None,
        }
    }

    /// Every chunk with its tables, in id order.
    pub fn chunk_refs(&self) -> impl Iterator<Item = ChunkRef<'_>> {
        (0..self.chunks.len() as ChunkId).map(|id| self.chunk(id))
    }

    /// Per slot (of `slots`), the string constants the program compares
    /// it with directly (`slot == "s"`, `slot in ["a", "b"]`, `"s" in
    /// slot`): what binding can share instead of allocating.
    pub fn strings_by_slot(&self, slots: usize) -> Vec<Vec<Arc<str>>> {
        let mut out: Vec<Vec<Arc<str>>> = vec![Vec::new(); slots];
        let mut add = |slot: u32, v: &Value| {
            let Some(list) = out.get_mut(slot as usize) else {
                return;
            };
            let mut push = |s: &Arc<str>| {
                if !list.iter().any(|x| x == s) {
                    list.push(s.clone());
                }
            };
            match v {
                Value::Str(s) => push(s),
                Value::List(items) => items.iter().for_each(|i| {
                    if let Value::Str(s) = i {
                        push(s)
                    }
                }),
                _ => {}
            }
        };
        for chunk in self.chunk_refs() {
            for (i, op) in chunk.code.iter().enumerate() {
                match (op, chunk.code.get(i + 1), chunk.code.get(i + 2)) {
                    (Op::SlotCmpConst(slot, _, k, _), _, _) => {
                        add(*slot, &self.consts[*k as usize])
                    }
                    (Op::Const(k), Some(Op::Slot(slot)), Some(Op::Binary(BinOp::In))) => {
                        add(*slot, &self.consts[*k as usize])
                    }
                    _ => {}
                }
            }
        }
        out
    }
}

/// Compiles a checked program. Fails only when folding constants finds an
/// error (overflow, division by zero) in an expression every profile would
/// hit.
pub fn compile(program: &CheckedProgram) -> Result<Bytecode, Vec<Diagnostic>> {
    let mut c = Compiler::default();
    let mut diags = Vec::new();
    c.plan_fusion(program, &mut diags);
    for (id, rule) in program.rules.iter().enumerate() {
        match rule.kind {
            RuleKind::Let => c.out.lets.push(id as u32),
            _ => c.out.outputs.push(id as u32),
        }
        let code = match &rule.body {
            RuleBody::Expr(ir) if rule.kind == RuleKind::Segment => {
                RuleCode::Segment(c.condition_chunk(ir, &mut diags))
            }
            RuleBody::Expr(ir) => RuleCode::Expr(c.chunk(ir, &mut diags)),
            RuleBody::Decision { policy, branches } => RuleCode::Decision {
                policy: *policy,
                branches: branches
                    .iter()
                    .map(|b| {
                        let cond = b
                            .condition
                            .as_ref()
                            .map(|ir| c.condition_chunk(ir, &mut diags));
                        (cond, c.chunk(&b.value, &mut diags))
                    })
                    .collect(),
            },
            RuleBody::Experiment(e) => {
                let weights: Vec<f64> = e.variants.iter().map(|(_, w)| *w).collect();
                RuleCode::Experiment(Box::new(ExperimentCode {
                    unit: c.chunk(&e.unit, &mut diags),
                    eligible: e
                        .eligible
                        .as_ref()
                        .map(|ir| c.condition_chunk(ir, &mut diags)),
                    salt: e.salt.clone(),
                    variants: e
                        .variants
                        .iter()
                        .map(|(n, _)| Arc::from(n.as_str()))
                        .collect(),
                    ranges: crate::bucket::bucket_ranges(
                        weights.len(),
                        Some(e.coverage),
                        Some(&weights),
                    ),
                    coverage: e.coverage,
                    weights,
                    force: e.force.clone(),
                }))
            }
        };
        c.out.rules.push(code);
    }
    for t in &program.triggers {
        let condition = t
            .condition
            .as_ref()
            .map(|ir| c.condition_chunk(ir, &mut diags));
        let actions = t
            .actions
            .iter()
            .map(|a| {
                let payload = a.payload.as_ref().map(|ir| c.chunk(ir, &mut diags));
                (Arc::from(a.action.as_str()), payload)
            })
            .collect();
        c.out.triggers.push(TriggerCode {
            on: Arc::from(t.on.as_str()),
            condition,
            actions,
        });
    }
    for t in &program.tests {
        let given = match &t.given {
            crate::check::test_blocks::GivenProfile::Literal(ir) => Some(c.chunk(ir, &mut diags)),
            _ => None,
        };
        let overrides = t
            .overrides
            .iter()
            .map(|(path, ir)| (path.clone(), c.chunk(ir, &mut diags)))
            .collect();
        let event = t.event.as_ref().map(|ir| c.chunk(ir, &mut diags));
        let expects = t
            .expects
            .iter()
            .map(|e| {
                let main = c.chunk(&e.ir, &mut diags);
                let parts = e
                    .parts
                    .iter()
                    .map(|(label, ir)| (label.clone(), c.chunk(ir, &mut diags)))
                    .collect();
                (main, parts)
            })
            .collect();
        c.out.tests.push(TestCode {
            given,
            overrides,
            event,
            expects,
        });
    }
    if diags.is_empty() {
        Ok(c.out)
    } else {
        Err(diags)
    }
}

/// Compiles one expression into a chunk of an existing bytecode (the REPL
/// evaluates ad-hoc expressions this way).
pub fn compile_expression(bytecode: &mut Bytecode, ir: &Ir) -> Result<ChunkId, Vec<Diagnostic>> {
    let mut c = Compiler {
        out: std::mem::take(bytecode),
        ..Compiler::default()
    };
    let mut diags = Vec::new();
    let id = c.chunk(ir, &mut diags);
    *bytecode = c.out;
    if diags.is_empty() {
        Ok(id)
    } else {
        Err(diags)
    }
}

#[derive(Default)]
struct Compiler {
    out: Bytecode,
    chunk: ChunkBuilder,
    /// Aggregate nodes (by address) that are computed in a fused pass.
    fused_at: std::collections::HashMap<usize, u32>,
    /// Above 0 while compiling a part of an expression that might not run
    /// (the right side of `and`/`or`/`??`, an `if` branch, a per-element
    /// condition or projection): a constant error there is left to run
    /// time instead of failing the compile.
    might_not_run: u32,
}

/// Whether an aggregate can join a shared pass: its list is a profile
/// slot, and per element it reads only the element, constants, `now`, the
/// event and other slots (no rules, nested iterations or host calls, whose
/// order of evaluation would become visible).
fn fusable(ir: &Ir) -> Option<u32> {
    let IrKind::Aggregate {
        list,
        filter,
        projection,
        ..
    } = &ir.kind
    else {
        return None;
    };
    let IrKind::Slot(slot) = list.kind else {
        return None;
    };
    fn element_level(ir: &Ir) -> bool {
        let ok = !matches!(
            ir.kind,
            IrKind::Rule(_)
                | IrKind::Aggregate { .. }
                | IrKind::HostCall(..)
                | IrKind::Actions
                | IrKind::Element(1..)
        );
        let mut all = ok;
        ir.for_each_child(|c| all = all && element_level(c));
        all
    }
    let parts_ok = filter.as_deref().is_none_or(element_level)
        && projection.as_deref().is_none_or(element_level);
    parts_ok.then_some(slot)
}

/// `.name == "x"` (as the shorthands write it): the literal.
fn name_test(ir: &Ir) -> Option<Arc<str>> {
    let IrKind::Binary(BinaryOp::Eq, a, b) = &ir.kind else {
        return None;
    };
    let IrKind::Field(base, field) = &a.kind else {
        return None;
    };
    if !matches!(base.kind, IrKind::Element(0)) || &**field != "name" {
        return None;
    }
    match &b.kind {
        IrKind::Const(Value::Str(s)) => Some(s.clone()),
        _ => None,
    }
}

fn collect_aggregates<'a>(ir: &'a Ir, out: &mut Vec<&'a Ir>) {
    if fusable(ir).is_some() {
        out.push(ir);
    }
    ir.for_each_child(|c| collect_aggregates(c, out));
}

impl Compiler {
    /// Finds the aggregates that share a list and compiles their
    /// per-element parts, before any rule is compiled.
    fn plan_fusion(&mut self, program: &CheckedProgram, diags: &mut Vec<Diagnostic>) {
        let mut found: Vec<&Ir> = Vec::new();
        for rule in &program.rules {
            match &rule.body {
                RuleBody::Expr(ir) => collect_aggregates(ir, &mut found),
                RuleBody::Decision { branches, .. } => {
                    for b in branches {
                        if let Some(c) = &b.condition {
                            collect_aggregates(c, &mut found);
                        }
                        collect_aggregates(&b.value, &mut found);
                    }
                }
                RuleBody::Experiment(e) => {
                    collect_aggregates(&e.unit, &mut found);
                    if let Some(c) = &e.eligible {
                        collect_aggregates(c, &mut found);
                    }
                }
            }
        }
        let mut by_slot: Vec<(u32, Vec<&Ir>)> = Vec::new();
        for ir in found {
            let Some(slot) = fusable(ir) else { continue };
            match by_slot.iter_mut().find(|(s, _)| *s == slot) {
                Some((_, v)) => v.push(ir),
                None => by_slot.push((slot, vec![ir])),
            }
        }
        for (slot, aggs) in by_slot {
            // One aggregate gains nothing from a shared pass.
            if aggs.len() < 2 {
                continue;
            }
            let group = self.out.groups.len() as u32;
            let mut members = Vec::new();
            let mut by_name = false;
            for ir in aggs {
                let IrKind::Aggregate {
                    kind,
                    list,
                    filter,
                    projection,
                } = &ir.kind
                else {
                    continue;
                };
                let (name, name_cost, and_cost, rest) = match filter.as_deref() {
                    Some(f) => match (&f.kind, name_test(f)) {
                        (_, Some(n)) => (Some(n), f.node_count(), 0, None),
                        (IrKind::Binary(BinaryOp::And, a, b), None) => match name_test(a) {
                            Some(n) => (Some(n), a.node_count(), 1, Some(&**b)),
                            None => (None, 0, 0, Some(f)),
                        },
                        _ => (None, 0, 0, Some(f)),
                    },
                    None => (None, 0, 0, None),
                };
                by_name |= name.is_some();
                // Per-element parts run only for a non-empty list.
                self.might_not_run += 1;
                let rest = rest.map(|r| self.chunk(r, diags));
                let full_filter = filter.as_deref().map(|f| self.chunk(f, diags));
                let projection = projection.as_deref().map(|p| self.chunk(p, diags));
                self.might_not_run -= 1;
                let id = self.out.fused.len() as u32;
                self.out.fused.push(FusedAgg {
                    group,
                    kind: *kind,
                    name,
                    name_cost,
                    and_cost,
                    rest,
                    full_filter,
                    projection,
                    span: ir.span,
                    list_span: list.span,
                });
                self.fused_at.insert(ir as *const Ir as usize, id);
                members.push(id);
            }
            self.out.groups.push(FusedGroup {
                slot,
                aggs: members,
                by_name,
            });
        }
    }

    fn chunk(&mut self, ir: &Ir, diags: &mut Vec<Diagnostic>) -> ChunkId {
        self.chunk.root = ir.span;
        if let Err(d) = self.emit(ir) {
            diags.push(d);
        }
        self.chunk.finish_into(&mut self.out)
    }

    /// A chunk for a condition, with its condition code when that helps.
    fn condition_chunk(&mut self, ir: &Ir, diags: &mut Vec<Diagnostic>) -> ChunkId {
        let before = diags.len();
        let id = self.chunk(ir, diags);
        if diags.len() == before {
            self.out.chunks[id as usize].condition = self.condition_code(ir, id).map(Box::new);
        }
        id
    }

    fn push(&mut self, op: Op, cost: u32, span: Span) -> usize {
        self.chunk.code.push(op);
        self.chunk.costs.push(cost);
        self.chunk.spans.push(span);
        self.chunk.subjects.push(u32::MAX);
        self.chunk.code.len() - 1
    }

    /// Pushes an operation on the values of `ir`'s children, remembering
    /// which profile field it reads for error messages.
    fn push_op(&mut self, op: Op, ir: &Ir) -> usize {
        let at = self.push(op, 1, ir.span);
        let mut subject = u32::MAX;
        ir.for_each_child(|c| {
            if let (u32::MAX, IrKind::Slot(s)) = (subject, &c.kind) {
                subject = *s;
            }
        });
        self.chunk.subjects[at] = subject;
        at
    }

    fn here(&self) -> u32 {
        self.chunk.code.len() as u32
    }

    fn patch(&mut self, at: usize, target: u32) {
        self.chunk.code[at] = match self.chunk.code[at] {
            Op::Jump(_) => Op::Jump(target),
            Op::JumpIfFalse(_) => Op::JumpIfFalse(target),
            Op::JumpIfNotNull(_) => Op::JumpIfNotNull(target),
            Op::AndJump(_) => Op::AndJump(target),
            Op::OrJump(_) => Op::OrJump(target),
            Op::IterNext(_) => Op::IterNext(target),
            other => other,
        };
    }

    fn constant(&mut self, v: Value) -> u32 {
        // Small pools: a linear search keeps identical constants shared.
        if let Some(i) = self.out.consts.iter().position(|c| same_constant(c, &v)) {
            return i as u32;
        }
        self.out.consts.push(v);
        self.out.consts.len() as u32 - 1
    }

    /// Emits a part that might not run (see `might_not_run`).
    fn emit_maybe(&mut self, ir: &Ir) -> Result<(), Diagnostic> {
        self.might_not_run += 1;
        let r = self.emit(ir);
        self.might_not_run -= 1;
        r
    }

    fn emit(&mut self, ir: &Ir) -> Result<(), Diagnostic> {
        match fold(ir) {
            Ok(Some((v, steps))) => {
                let c = self.constant(v);
                self.push(Op::Const(c), steps, ir.span);
                return Ok(());
            }
            Ok(None) => {}
            // Compiled as written: it fails if and when it runs.
            Err(_) if self.might_not_run > 0 => {}
            Err(message) => {
                return Err(Diagnostic::error(
                    format!("this expression always fails: {message}"),
                    ir.span,
                    message,
                )
                .with_note(
                    "it is computed from constants only, so every profile would hit the error",
                ));
            }
        }
        let span = ir.span;
        match &ir.kind {
            IrKind::Const(v) => {
                let c = self.constant(v.clone());
                self.push(Op::Const(c), 1, span);
            }
            IrKind::Slot(s) => {
                self.push(Op::Slot(*s), 1, span);
            }
            IrKind::Profile => {
                self.push(Op::Profile, 1, span);
            }
            IrKind::Rule(r) => {
                self.push(Op::Rule(*r), 1, span);
            }
            IrKind::Element(d) => {
                self.push(Op::Element(*d), 1, span);
            }
            IrKind::Now => {
                self.push(Op::Now, 1, span);
            }
            IrKind::Actions => {
                self.push(Op::Actions, 1, span);
            }
            IrKind::Event => {
                self.push(Op::Event, 1, span);
            }
            IrKind::Field(base, name) => {
                self.emit(base)?;
                let k = self.constant(Value::Str(name.clone()));
                self.push_op(Op::Field(k), ir);
            }
            IrKind::Index(base, index) => {
                self.emit(base)?;
                self.emit(index)?;
                self.push_op(Op::Index, ir);
            }
            IrKind::Unary(op, x) => {
                self.emit(x)?;
                let op = match op {
                    UnaryOp::Neg => Op::Neg,
                    UnaryOp::Not => Op::Not,
                };
                self.push_op(op, ir);
            }
            IrKind::Binary(BinaryOp::And, a, b) | IrKind::Binary(BinaryOp::Or, a, b) => {
                let is_and = matches!(ir.kind, IrKind::Binary(BinaryOp::And, ..));
                self.emit(a)?;
                let j = self.push(
                    if is_and {
                        Op::AndJump(0)
                    } else {
                        Op::OrJump(0)
                    },
                    1,
                    span,
                );
                self.emit_maybe(b)?;
                self.push(Op::ToBool, 0, b.span);
                let end = self.here();
                self.patch(j, end);
            }
            IrKind::Binary(BinaryOp::Coalesce, a, b) => {
                self.emit(a)?;
                let j = self.push(Op::JumpIfNotNull(0), 1, span);
                self.emit_maybe(b)?;
                let end = self.here();
                self.patch(j, end);
            }
            IrKind::Binary(op, a, b) => {
                let bin = bin_op(*op);
                // Superinstruction: `slot op constant`.
                // The VM counts the slot before reading it and the
                // constant's steps and the comparison's after, as separate
                // instructions would.
                if let (IrKind::Slot(s), Ok(Some((v, steps)))) = (&a.kind, fold(b)) {
                    if let (true, Ok(after)) = (is_comparison(bin), u16::try_from(steps + 1)) {
                        let c = self.constant(v);
                        let at = self.push(Op::SlotCmpConst(*s, bin, c, after), 1, span);
                        self.chunk.subjects[at] = *s;
                        self.chunk.operand_spans.push((at as u32, a.span));
                        return Ok(());
                    }
                }
                self.emit(a)?;
                self.emit(b)?;
                self.push_op(Op::Binary(bin), ir);
            }
            IrKind::IsNull(x, negated) => {
                self.emit(x)?;
                self.push(Op::IsNull(*negated), 1, span);
            }
            IrKind::Between(x, lo, hi) => {
                self.emit(x)?;
                self.emit(lo)?;
                self.emit(hi)?;
                self.push_op(Op::Between, ir);
            }
            IrKind::Within {
                operand,
                duration,
                anchor,
            } => {
                self.emit(operand)?;
                self.emit(duration)?;
                let kind = match anchor {
                    Anchor::Past => WindowKind::Past,
                    Anchor::Next => WindowKind::Next,
                    Anchor::After(x) => {
                        self.emit(x)?;
                        WindowKind::After
                    }
                    Anchor::Before(x) => {
                        self.emit(x)?;
                        WindowKind::Before
                    }
                };
                self.push_op(Op::Within(kind), ir);
            }
            IrKind::Matches(s, re) => {
                self.emit(s)?;
                self.push_op(Op::Matches(*re), ir);
            }
            IrKind::If(c, a, b) => {
                self.emit(c)?;
                let j_else = self.push(Op::JumpIfFalse(0), 1, span);
                self.emit_maybe(a)?;
                let j_end = self.push(Op::Jump(0), 0, span);
                let else_at = self.here();
                self.patch(j_else, else_at);
                self.emit_maybe(b)?;
                let end = self.here();
                self.patch(j_end, end);
            }
            IrKind::Interpolate(parts) => {
                for p in parts {
                    self.emit(p)?;
                }
                self.push(Op::Interpolate(parts.len() as u32), 1, span);
            }
            IrKind::List(items) => {
                for i in items {
                    self.emit(i)?;
                }
                self.push(Op::MakeList(items.len() as u32), 1, span);
            }
            IrKind::Map(entries) => {
                for (_, v) in entries {
                    self.emit(v)?;
                }
                self.out
                    .key_lists
                    .push(entries.iter().map(|(k, _)| k.clone()).collect());
                let keys = self.out.key_lists.len() as u32 - 1;
                self.push(Op::MakeMap(keys), 1, span);
            }
            IrKind::Call(b, args) => {
                for a in args {
                    self.emit(a)?;
                }
                self.push_op(Op::Call(*b, args.len() as u8), ir);
            }
            IrKind::HostCall(h, args) => {
                for a in args {
                    self.emit(a)?;
                }
                self.push_op(Op::HostCall(*h, args.len() as u8), ir);
            }
            IrKind::Aggregate { .. } if self.fused_at.contains_key(&(ir as *const Ir as usize)) => {
                let id = self.fused_at[&(ir as *const Ir as usize)];
                // Its steps are charged when it is read (see the VM).
                self.push(Op::Fused(id), 0, span);
            }
            IrKind::Aggregate {
                kind,
                list,
                filter,
                projection,
            } => {
                self.emit(list)?;
                self.push_op(Op::IterBegin(*kind), ir);
                let next = self.push(Op::IterNext(0), 0, span);
                if let Some(f) = filter {
                    self.emit_maybe(f)?;
                    self.push(Op::JumpIfFalse(next as u32), 0, f.span);
                }
                match (kind, projection) {
                    (_, Some(p)) => self.emit_maybe(p)?,
                    (
                        AggKind::Sum
                        | AggKind::Avg
                        | AggKind::Min
                        | AggKind::Max
                        | AggKind::Distinct,
                        None,
                    ) => {
                        self.push(Op::Element(0), 0, span);
                    }
                    _ => {}
                }
                self.push(Op::IterStep, 0, span);
                self.push(Op::Jump(next as u32), 0, span);
                let end = self.here();
                self.patch(next, end);
                self.push(Op::IterEnd, 0, span);
            }
        }
        Ok(())
    }
}

fn is_comparison(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Eq
            | BinOp::Ne
            | BinOp::Lt
            | BinOp::Le
            | BinOp::Gt
            | BinOp::Ge
            | BinOp::In
            | BinOp::NotIn
    )
}

/// Whether two constants can share a pool entry (same type and value: `1`
/// and `1.0` are equal but not interchangeable).
fn same_constant(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
        && a.equals(b)
        && !matches!(a, Value::Float(x) if x.to_bits() != match b { Value::Float(y) => y.to_bits(), _ => 0 })
}

/// Maps an AST operator to a VM binary operator (`and`, `or`, `??` are
/// compiled to jumps and never reach here).
pub fn bin_op(op: BinaryOp) -> BinOp {
    match op {
        BinaryOp::Add => BinOp::Add,
        BinaryOp::Sub => BinOp::Sub,
        BinaryOp::Mul => BinOp::Mul,
        BinaryOp::Div => BinOp::Div,
        BinaryOp::Rem => BinOp::Rem,
        BinaryOp::Eq => BinOp::Eq,
        BinaryOp::Ne => BinOp::Ne,
        BinaryOp::Lt => BinOp::Lt,
        BinaryOp::Le => BinOp::Le,
        BinaryOp::Gt => BinOp::Gt,
        BinaryOp::Ge => BinOp::Ge,
        BinaryOp::In => BinOp::In,
        BinaryOp::NotIn => BinOp::NotIn,
        BinaryOp::StartsWith => BinOp::StartsWith,
        BinaryOp::EndsWith => BinOp::EndsWith,
        BinaryOp::Contains => BinOp::Contains,
        BinaryOp::HasAny => BinOp::HasAny,
        BinaryOp::HasAll => BinOp::HasAll,
        BinaryOp::And | BinaryOp::Or | BinaryOp::Coalesce => BinOp::Eq,
    }
}

/// The value of an expression made of constants only (`None` when it reads
/// anything that varies, or fails).
pub fn constant_value(ir: &Ir) -> Option<Value> {
    fold(ir).ok().flatten().map(|(v, _)| v)
}

/// The value of an expression made of constants only, with the number of
/// steps evaluating it would have counted (short-circuited parts do not
/// count); `Ok(None)` when it reads anything that varies per profile.
fn fold(ir: &Ir) -> Result<Option<(Value, u32)>, String> {
    let mut steps = 1u32;
    macro_rules! val {
        ($e:expr) => {
            match fold($e)? {
                Some((v, n)) => {
                    steps += n;
                    v
                }
                None => return Ok(None),
            }
        };
    }
    // Short-circuiting forms: an error in a part that might not run is not
    // an error of the whole, so such parts fold only when clean.
    macro_rules! lazy {
        ($e:expr) => {
            match fold($e) {
                Ok(Some(v)) => v,
                _ => return Ok(None),
            }
        };
    }
    let v = match &ir.kind {
        IrKind::Const(v) => v.clone(),
        IrKind::Unary(UnaryOp::Neg, x) => ops::neg(&val!(x))?,
        IrKind::Unary(UnaryOp::Not, x) => Value::Bool(!ops::condition(&val!(x))?),
        IrKind::Binary(op @ (BinaryOp::And | BinaryOp::Or), a, b) => {
            let a = ops::condition(&val!(a))?;
            let (b, nb) = lazy!(b);
            let b = ops::condition(&b)?;
            let decided = if *op == BinaryOp::And { !a } else { a };
            if decided {
                Value::Bool(a)
            } else {
                steps += nb;
                Value::Bool(b)
            }
        }
        IrKind::Binary(BinaryOp::Coalesce, a, b) => {
            let a = val!(a);
            let (b, nb) = lazy!(b);
            if a.is_null() {
                steps += nb;
                b
            } else {
                a
            }
        }
        IrKind::Binary(op, a, b) => {
            let a = val!(a);
            let b = val!(b);
            ops::binary(bin_op(*op), &a, &b)?
        }
        IrKind::IsNull(x, negated) => Value::Bool(val!(x).is_null() != *negated),
        IrKind::Interpolate(parts) => {
            let mut vals = Vec::with_capacity(parts.len());
            for p in parts {
                vals.push(val!(p));
            }
            ops::interpolate(&vals)
        }
        IrKind::List(items) => {
            let mut vals = Vec::with_capacity(items.len());
            for i in items {
                vals.push(val!(i));
            }
            Value::List(vals.into())
        }
        IrKind::Map(entries) => {
            let mut out = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                out.push((k.clone(), val!(v)));
            }
            Value::Map(Arc::new(out))
        }
        IrKind::If(c, a, b) => {
            let c = ops::condition(&val!(c))?;
            let (a, na) = lazy!(a);
            let (b, nb) = lazy!(b);
            if c {
                steps += na;
                a
            } else {
                steps += nb;
                b
            }
        }
        IrKind::Between(x, lo, hi) => {
            let (x, lo, hi) = (val!(x), val!(lo), val!(hi));
            ops::between(&x, &lo, &hi)?
        }
        IrKind::Call(b, args) if ops::is_pure_builtin(*b) => {
            let mut vals = Vec::with_capacity(args.len());
            for a in args {
                vals.push(val!(a));
            }
            ops::call_pure(*b, &vals)?
        }
        _ => return Ok(None),
    };
    Ok(Some((v, steps)))
}
