//! The run plan: a program's output rules and conditions laid out for one
//! loop.
//!
//! Most programs are segments and first-match decisions whose conditions
//! are condition code ([`crate::compile::branch`]). Through the general
//! rule path each of them costs a call, a `Result<Value, Fault>` and a
//! dispatch on its `RuleCode`, and each decision branch another call; the
//! plan says once, per output rule in source order, how it runs, so that
//! [`super::Machine::evaluate`] decides them in its own loop. Rules of any
//! other shape keep the general path.
//!
//! The tests of every condition of the program sit in one array, with a
//! compact copy of what the fast path needs (the typed check, and the next
//! test and steps for either outcome, the test's and its exit's steps
//! summed once here). The plan changes how tests are reached, never what
//! they do: they are the compiled ones, but for their renumbered exits.

use crate::compile::branch::{Fast, Test, ANSWER_FALSE};
use crate::compile::{Bytecode, ChunkId, RuleCode};
use crate::syntax::ast::HitPolicy;

/// No condition: an `else` branch (always taken), or a chunk without
/// condition code.
pub const NONE: u32 = u32::MAX;

/// The value of a segment's only branch: whether its condition holds.
pub const TRUTH: ChunkId = u32::MAX;

/// How each output rule of a program runs, and every condition's tests.
#[derive(Clone, Debug, Default)]
pub struct RunPlan {
    /// One step per output rule, in source order.
    pub steps: Vec<PlanStep>,
    /// The branches of planned rules.
    pub branches: Vec<PlanBranch>,
    /// The tests of every condition chunk; exits index this array.
    pub tests: Vec<Test>,
    /// Per test (parallel to `tests`), its fast path.
    pub fast: Vec<FastTest>,
    /// Per chunk, the first test of its condition code ([`NONE`] without).
    pub entries: Vec<u32>,
}

/// How one output rule runs: by its planned branches
/// `branches[start..end]`, or by the general path when there are none.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlanStep {
    /// The rule.
    pub rule: u32,
    /// Its first branch.
    pub start: u32,
    /// One past its last branch (`start` for the general path).
    pub end: u32,
}

/// One branch of a planned rule. A segment is one branch whose value is
/// its condition's truth ([`TRUTH`]); a first-match decision has one per
/// `when` and `else`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlanBranch {
    /// The first test of its condition, or [`NONE`] for `else`.
    pub condition: u32,
    /// Its value's chunk, or [`TRUTH`].
    pub value: ChunkId,
    /// When the value is one constant (most decision values): its index
    /// in the constant pool, else [`NONE`].
    pub constant: u32,
    /// The steps of that constant.
    pub constant_cost: u32,
}

/// What the fast path of a test needs, in one place.
#[derive(Clone, Debug)]
pub struct FastTest {
    /// The typed check ([`Fast::No`]: always the exact path).
    pub fast: Fast,
    /// The next test (or answer) when the check is false (`[0]`) or true.
    pub next: [u32; 2],
    /// The steps charged on the fast path for either outcome: the test's
    /// operand and reader, and its exit.
    pub cost: [u32; 2],
}

impl RunPlan {
    /// The plan of a compiled program.
    pub fn new(bytecode: &Bytecode) -> RunPlan {
        let mut plan = RunPlan::default();
        for chunk in &bytecode.chunks {
            let entry = match &chunk.condition {
                Some(code) => plan.add_tests(&code.tests, code.entry),
                None => NONE,
            };
            plan.entries.push(entry);
        }
        for &id in &bytecode.outputs {
            let start = plan.branches.len() as u32;
            match &bytecode.rules[id as usize] {
                RuleCode::Segment(chunk) => {
                    let condition = plan.entries[*chunk as usize];
                    if condition != NONE {
                        plan.branches.push(PlanBranch {
                            condition,
                            value: TRUTH,
                            constant: NONE,
                            constant_cost: 0,
                        });
                    }
                }
                RuleCode::Decision {
                    policy: HitPolicy::First,
                    branches,
                } => plan.add_decision(bytecode, branches),
                _ => {}
            }
            plan.steps.push(PlanStep {
                rule: id,
                start,
                end: plan.branches.len() as u32,
            });
        }
        plan
    }

    /// A first-match decision's branches, planned when every condition
    /// has condition code.
    fn add_decision(&mut self, bytecode: &Bytecode, branches: &[(Option<ChunkId>, ChunkId)]) {
        let condition = |c: Option<ChunkId>| c.map_or(NONE, |c| self.entries[c as usize]);
        let planned = |c: Option<ChunkId>| c.is_none() || condition(c) != NONE;
        if !branches.iter().all(|(c, _)| planned(*c)) {
            return;
        }
        for &(c, value) in branches {
            let chunk = &bytecode.chunks[value as usize];
            let (constant, constant_cost) = match chunk.code[..] {
                [crate::compile::opcode::Op::Const(k)] => (k, chunk.costs[0]),
                _ => (NONE, 0),
            };
            let condition = condition(c);
            self.branches.push(PlanBranch {
                condition,
                value,
                constant,
                constant_cost,
            });
        }
    }

    /// Adds a condition's tests; returns the index of its entry test.
    fn add_tests(&mut self, tests: &[Test], entry: u32) -> u32 {
        let base = self.tests.len() as u32;
        let renumber = |to: u32| if to >= ANSWER_FALSE { to } else { to + base };
        for t in tests {
            let mut t = t.clone();
            for e in &mut t.exits {
                e.to = renumber(e.to);
            }
            self.fast.push(FastTest {
                fast: t.fast.clone(),
                next: t.exits.map(|e| e.to),
                cost: t.exits.map(|e| t.fast_cost + e.cost),
            });
            self.tests.push(t);
        }
        base + entry
    }
}
