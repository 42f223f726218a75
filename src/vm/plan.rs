//! The run plan: a program's output rules and conditions laid out for a
//! fast loop.
//!
//! Most programs are segments and first-match decisions with constant
//! values whose conditions are condition code ([`crate::compile::branch`])
//! over typed slots. The plan says once, per output rule in source order,
//! how such a rule is decided, so that the VM can decide it from the bound
//! slots alone in one loop, without the general rule path's calls and
//! `Result<Value, Fault>`s; whatever that loop cannot decide by itself it
//! leaves to the general path.
//!
//! The tests of every condition of the program sit in one array, with a
//! compact copy of what the fast path needs (the typed check, and the next
//! test and steps for either outcome, the test's and its exit's steps
//! summed once here). The plan changes how tests are reached, never what
//! they do: they are the compiled ones, but for their renumbered exits,
//! and for the negations of their fast checks, which swap their exits
//! instead ([`Check`]).

use super::fast::Check;
use crate::compile::branch::{Test, ANSWER_FALSE};
use crate::compile::{Bytecode, ChunkId, RuleCode};
use crate::syntax::ast::HitPolicy;

/// No condition (an `else` branch, or a chunk without condition code),
/// or no constant value.
pub const NONE: u32 = u32::MAX;

/// How each output rule of a program runs, and every condition's tests.
#[derive(Clone, Debug, Default)]
pub struct RunPlan {
    /// One step per output rule, in source order.
    pub steps: Vec<PlanStep>,
    /// The branches of planned decisions.
    pub branches: Vec<PlanBranch>,
    /// The tests of every condition chunk; exits index this array.
    pub tests: Vec<Test>,
    /// Per test (parallel to `tests`), its fast path.
    pub fast: Vec<FastTest>,
    /// Per chunk, the first test of its condition code ([`NONE`] without).
    pub entries: Vec<u32>,
}

/// How one output rule runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PlanStep {
    /// A segment decided by the tests from `entry`.
    Segment {
        /// The rule.
        rule: u32,
        /// Its first test.
        entry: u32,
    },
    /// A first-match decision whose conditions are all condition code:
    /// its branches are `branches[start..end]`.
    Decision {
        /// The rule.
        rule: u32,
        /// Its first branch.
        start: u32,
        /// One past its last branch.
        end: u32,
    },
    /// Any other rule: the general path.
    General(u32),
}

impl PlanStep {
    /// The rule of this step.
    pub fn rule(self) -> u32 {
        match self {
            PlanStep::Segment { rule, .. }
            | PlanStep::Decision { rule, .. }
            | PlanStep::General(rule) => rule,
        }
    }
}

/// One branch of a planned decision.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlanBranch {
    /// The first test of its condition, or [`NONE`] for `else`.
    pub condition: u32,
    /// When its value is one constant (most decision values): its index
    /// in the constant pool, else [`NONE`].
    pub constant: u32,
    /// The steps of that constant.
    pub constant_cost: u32,
}

/// What the fast path of a test needs, in one place.
#[derive(Clone, Debug)]
pub struct FastTest {
    /// The typed check ([`Check::No`]: always the exact path).
    pub check: Check,
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
            let entry = match chunk.condition.as_deref() {
                Some(code) => plan.add_tests(&code.tests, code.entry),
                None => NONE,
            };
            plan.entries.push(entry);
        }
        for &id in &bytecode.outputs {
            let step = match &bytecode.rules[id as usize] {
                RuleCode::Segment(chunk) => match plan.entries[*chunk as usize] {
                    NONE => PlanStep::General(id),
                    entry => PlanStep::Segment { rule: id, entry },
                },
                RuleCode::Decision {
                    policy: HitPolicy::First,
                    branches,
                } => plan.add_decision(bytecode, id, branches),
                _ => PlanStep::General(id),
            };
            plan.steps.push(step);
        }
        plan
    }

    /// A first-match decision, planned when every condition has
    /// condition code.
    fn add_decision(
        &mut self,
        bytecode: &Bytecode,
        id: u32,
        branches: &[(Option<ChunkId>, ChunkId)],
    ) -> PlanStep {
        let entry = |c: Option<ChunkId>| c.map_or(NONE, |c| self.entries[c as usize]);
        if branches
            .iter()
            .any(|(c, _)| c.is_some() && entry(*c) == NONE)
        {
            return PlanStep::General(id);
        }
        let start = self.branches.len() as u32;
        for &(c, value) in branches {
            let (constant, constant_cost) = bytecode.constant_of(value).unwrap_or((NONE, 0));
            let condition = entry(c);
            self.branches.push(PlanBranch {
                condition,
                constant,
                constant_cost,
            });
        }
        PlanStep::Decision {
            rule: id,
            start,
            end: self.branches.len() as u32,
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
            let (check, negated) = Check::of(&t.fast);
            let (mut next, mut cost) =
                (t.exits.map(|e| e.to), t.exits.map(|e| t.fast_cost + e.cost));
            if negated {
                next.swap(0, 1);
                cost.swap(0, 1);
            }
            self.fast.push(FastTest { check, next, cost });
            self.tests.push(t);
        }
        base + entry
    }
}
