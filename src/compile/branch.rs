//! Condition code: the jumping form of a condition chunk.
//!
//! Segment bodies and `when`/`eligible`/trigger conditions are `and`/`or`/
//! `not` trees over a few comparisons. On the stack machine each of them
//! pushes a value, converts it to a bool, and jumps over the rest; here the
//! same condition becomes a small graph of tests — "compare this slot with
//! this constant, then go to test 3 if true, answer `false` if not" — so
//! the VM decides a condition without a stack, without `Value` results, and
//! with one dispatch per comparison.
//!
//! The graph is derived from the same IR as the chunk and keeps its
//! observable behaviour exactly: every test charges the steps the chunk's
//! instructions would have charged, in the same order relative to errors
//! and budget checks, and raises the same errors at the same spans. The
//! differential tests hold the VM to the reference evaluator, so any
//! deviation shows there.
//!
//! Each test's operand is compiled into a chunk of its own. When the bound
//! slot has the type the test expects ([`Fast`]: `int_slot < 30`,
//! `str_slot in [...]`, `"x" in list_slot`, a bool slot, `is null`, a
//! constant), the VM decides the test from the slot alone; otherwise
//! `slot op const` and a segment read run inline from their single
//! instruction, and any other operand runs its chunk.

use super::opcode::{Accepts, BinOp, Op};
use super::{fold, ChunkId, Compiler};
use crate::check::ir::{Ir, IrKind};
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::syntax::ast::{BinaryOp, UnaryOp};
use crate::value::Value;
use std::sync::Arc;

/// An exit that answers `true`.
pub const ANSWER_TRUE: u32 = u32::MAX;
/// An exit that answers `false`.
pub const ANSWER_FALSE: u32 = u32::MAX - 1;

/// A condition as a graph of tests.
#[derive(Clone, Debug)]
pub struct ConditionCode {
    /// The tests; `entry` is the first one run.
    pub tests: Vec<Test>,
    /// Index of the first test.
    pub entry: u32,
}

/// One test: evaluate an operand, read it as a condition, go on.
#[derive(Clone, Debug)]
pub struct Test {
    /// How to evaluate the operand.
    pub operand: Operand,
    /// The operand's own bytecode (also the source of its error spans).
    pub chunk: ChunkId,
    /// What reads the operand's value as a condition: the `and`/`or`/`not`
    /// (or the rule, for the whole condition) whose instruction would have
    /// done so on the stack machine. Its steps, span and subject.
    pub reader: Reader,
    /// Where to go when the operand is false or null (`[0]`) and when it
    /// is true (`[1]`).
    pub exits: [Exit; 2],
    /// The common typed case of the operand, decided without building a
    /// value (anything else takes the exact path of `operand`).
    pub fast: Fast,
    /// Steps of the operand and its reader, charged at once on the fast
    /// path (which cannot fail between them).
    pub fast_cost: u32,
}

/// A test the VM can decide straight from a bound slot when the slot holds
/// the type the constant suggests; otherwise it falls back to the exact
/// instructions.
#[derive(Clone, Debug, PartialEq)]
pub enum Fast {
    /// No fast path.
    No,
    /// `int_slot op int` (an ordering or equality), as a range.
    Int(u32, IntRange),
    /// `float_slot op float`.
    Float(u32, Accepts, f64),
    /// `string_slot == "s"` (or `!=` when the flag is false).
    StrEq(u32, bool, Arc<str>),
    /// `bool_slot == b` (or `!=` when the flag is false).
    BoolEq(u32, bool, bool),
    /// `string_slot in ["a", "b", …]`.
    StrIn(u32, Arc<[Arc<str>]>),
    /// `"s" in list_slot` over a list of strings.
    StrInList(u32, Arc<str>),
    /// A bool slot.
    Bool(u32),
    /// A constant operand (`true`, or what folding left).
    Constant(bool),
    /// `slot is null` (or `is not null` when the flag is true).
    IsNull(u32, bool),
}

/// The ints an `int op k` comparison admits, as one range: `x` is in it
/// when `x - lo` (wrapping) is at most `span`, or out of it when
/// `outside`. Every ordering or equality operator is then one subtraction
/// and one comparison, instead of an ordering and a mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntRange {
    lo: i64,
    span: u64,
    outside: bool,
}

impl IntRange {
    /// The range of `x op k`, where `accepts` is `op`'s mask.
    pub fn of(accepts: Accepts, k: i64) -> IntRange {
        use std::cmp::Ordering::{Equal, Greater, Less};
        let (less, equal, greater) = (
            accepts.admits(Less),
            accepts.admits(Equal),
            accepts.admits(Greater),
        );
        let within = |lo: i64, hi: i64| IntRange {
            lo,
            span: hi.wrapping_sub(lo) as u64,
            outside: false,
        };
        // No int at all: outside the range of every int.
        let none = IntRange {
            outside: true,
            ..within(i64::MIN, i64::MAX)
        };
        match (less, equal, greater) {
            (true, true, true) => within(i64::MIN, i64::MAX),
            (false, false, false) => none,
            (true, false, true) => IntRange {
                outside: true,
                ..within(k, k)
            },
            (false, true, false) => within(k, k),
            (true, _, false) => match if equal { Some(k) } else { k.checked_sub(1) } {
                Some(hi) => within(i64::MIN, hi),
                None => none,
            },
            (false, _, true) => match if equal { Some(k) } else { k.checked_add(1) } {
                Some(lo) => within(lo, i64::MAX),
                None => none,
            },
        }
    }

    /// The range as `(lo, span, outside)`: `x` is admitted when
    /// `x - lo` (wrapping) is at most `span`, unless `outside`.
    pub fn parts(self) -> (i64, u64, bool) {
        (self.lo, self.span, self.outside)
    }

    /// Whether `x` is admitted.
    #[inline(always)]
    pub fn admits(self, x: i64) -> bool {
        within_span(x, self.lo, self.span) != self.outside
    }
}

/// Whether `x` is in `lo..=lo + span`, by one wrapping subtraction and
/// one comparison (the inside of an [`IntRange`]).
#[inline(always)]
pub fn within_span(x: i64, lo: i64, span: u64) -> bool {
    x.wrapping_sub(lo) as u64 <= span
}

/// The operand of a test, by how the VM evaluates it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Operand {
    /// `slot op const` (the chunk's single `SlotCmpConst`).
    SlotCmpConst(u32, BinOp, u32, u16),
    /// A slot read as a condition.
    Slot(u32),
    /// A rule (a segment, usually) read as a condition.
    Rule(u32),
    /// `const in slot` (`"beta" in tags`).
    ConstInSlot(u32, u32),
    /// Anything else: run the chunk.
    Chunk,
}

/// What reads an operand's value as a condition (a stack-machine
/// `AndJump`, `OrJump`, `ToBool` or `Not`, or the rule itself).
#[derive(Clone, Copy, Debug)]
pub struct Reader {
    /// Steps it charges before reading.
    pub cost: u32,
    /// Where a value that is not a bool is reported.
    pub span: Span,
    /// The slot named in that error (`u32::MAX` for none).
    pub subject: u32,
}

/// A successor: another test, or an answer; with the steps charged on the
/// way (the enclosing `and`/`or`/`not` that read the result).
#[derive(Clone, Copy, Debug)]
pub struct Exit {
    /// A test index, [`ANSWER_TRUE`] or [`ANSWER_FALSE`].
    pub to: u32,
    /// Steps charged before going there.
    pub cost: u32,
}

impl Exit {
    fn plus(self, cost: u32) -> Exit {
        Exit {
            to: self.to,
            cost: self.cost + cost,
        }
    }
}

impl Compiler {
    /// The condition code of `ir`, whose stack-machine chunk is `whole`;
    /// `None` when the condition is one operand that would only run its
    /// chunk anyway, or when compiling it reported a problem.
    pub(super) fn condition_code(&mut self, ir: &Ir, whole: ChunkId) -> Option<ConditionCode> {
        let mut tests = Vec::new();
        let mut diags: Vec<Diagnostic> = Vec::new();
        let root = Reader {
            cost: 0,
            span: self.out.chunks[whole as usize].root,
            subject: u32::MAX,
        };
        let entry = self.wire(
            ir,
            root,
            Exit {
                to: ANSWER_TRUE,
                cost: 0,
            },
            Exit {
                to: ANSWER_FALSE,
                cost: 0,
            },
            &mut tests,
            &mut diags,
        );
        let only_runs_a_chunk = tests.len() == 1 && tests[0].operand == Operand::Chunk;
        if !diags.is_empty() || only_runs_a_chunk {
            return None;
        }
        // The right side of an `and`/`or` is built before the left (its
        // entry is the left's exit): reversed, the tests read in source
        // order and jump forwards.
        let last = tests.len() as u32 - 1;
        let renumber = |to: u32| if to >= ANSWER_FALSE { to } else { last - to };
        tests.reverse();
        for t in &mut tests {
            for e in &mut t.exits {
                e.to = renumber(e.to);
            }
        }
        Some(ConditionCode {
            tests,
            entry: renumber(entry),
        })
    }

    /// The fast path of `slot op consts[k]`, for constants whose typed
    /// comparison cannot fail.
    fn fast_comparison(&self, slot: u32, op: BinOp, k: u32) -> Option<Fast> {
        let accepts = Accepts::of(op);
        let equality = matches!(op, BinOp::Eq | BinOp::Ne);
        match &self.out.consts[k as usize] {
            Value::Int(i) => Some(Fast::Int(slot, IntRange::of(accepts?, *i))),
            Value::Float(f) => Some(Fast::Float(slot, accepts?, *f)),
            Value::Str(s) if equality => Some(Fast::StrEq(slot, op == BinOp::Eq, s.clone())),
            Value::Bool(b) if equality => Some(Fast::BoolEq(slot, op == BinOp::Eq, *b)),
            Value::List(items) if op == BinOp::In => {
                let strings: Option<Vec<Arc<str>>> = items
                    .iter()
                    .map(|v| match v {
                        Value::Str(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect();
                strings.map(|s| Fast::StrIn(slot, s.into()))
            }
            _ => None,
        }
    }

    /// Adds the tests of `ir`, whose value `reader` reads, going to
    /// `on_true` / `on_false` afterwards; returns the entry test.
    fn wire(
        &mut self,
        ir: &Ir,
        reader: Reader,
        on_true: Exit,
        on_false: Exit,
        tests: &mut Vec<Test>,
        diags: &mut Vec<Diagnostic>,
    ) -> u32 {
        // A constant subtree is one `Const` on the stack machine too.
        let folds = !matches!(fold(ir), Ok(None));
        match &ir.kind {
            IrKind::Binary(op @ (BinaryOp::And | BinaryOp::Or), a, b) if !folds => {
                // The whole `and`/`or` is a bool; whoever reads it charges
                // its steps on every way out.
                let (t, f) = (on_true.plus(reader.cost), on_false.plus(reader.cost));
                // The right side is read by the `ToBool` after it; it
                // might not run.
                self.might_not_run += 1;
                let right = self.wire(
                    b,
                    Reader {
                        cost: 0,
                        span: b.span,
                        subject: u32::MAX,
                    },
                    t,
                    f,
                    tests,
                    diags,
                );
                self.might_not_run -= 1;
                let right = Exit { to: right, cost: 0 };
                // The left side is read by the `AndJump`/`OrJump`.
                let jump = Reader {
                    cost: 1,
                    span: ir.span,
                    subject: u32::MAX,
                };
                if *op == BinaryOp::And {
                    self.wire(a, jump, right, f, tests, diags)
                } else {
                    self.wire(a, jump, t, right, tests, diags)
                }
            }
            IrKind::Unary(UnaryOp::Not, x) if !folds => {
                let subject = match x.kind {
                    IrKind::Slot(s) => s,
                    _ => u32::MAX,
                };
                let not = Reader {
                    cost: 1,
                    span: ir.span,
                    subject,
                };
                let (t, f) = (on_true.plus(reader.cost), on_false.plus(reader.cost));
                self.wire(x, not, f, t, tests, diags)
            }
            _ => {
                let chunk = self.chunk(ir, diags);
                let (code, costs) = self.out.code_and_costs(chunk);
                let operand = match *code {
                    [Op::SlotCmpConst(s, op, k, after)] => Operand::SlotCmpConst(s, op, k, after),
                    [Op::Slot(s)] => Operand::Slot(s),
                    [Op::Rule(r)] => Operand::Rule(r),
                    [Op::Const(k), Op::Slot(s), Op::Binary(BinOp::In)] => {
                        Operand::ConstInSlot(k, s)
                    }
                    _ => Operand::Chunk,
                };
                let fast_cost = costs.iter().sum::<u32>() + reader.cost;
                let fast = match operand {
                    Operand::SlotCmpConst(slot, op, k, after) => self
                        .fast_comparison(slot, op, k)
                        .map(|f| (f, fast_cost + u32::from(after))),
                    Operand::ConstInSlot(k, slot) => match &self.out.consts[k as usize] {
                        Value::Str(s) => Some((Fast::StrInList(slot, s.clone()), fast_cost)),
                        _ => None,
                    },
                    Operand::Slot(slot) => Some((Fast::Bool(slot), fast_cost)),
                    Operand::Chunk => match *code {
                        [Op::Const(k)] => match &self.out.consts[k as usize] {
                            Value::Bool(b) => Some((Fast::Constant(*b), fast_cost)),
                            Value::Null => Some((Fast::Constant(false), fast_cost)),
                            _ => None,
                        },
                        [Op::Slot(s), Op::IsNull(negated)] => {
                            Some((Fast::IsNull(s, negated), fast_cost))
                        }
                        _ => None,
                    },
                    Operand::Rule(_) => None,
                };
                let (fast, fast_cost) = fast.unwrap_or((Fast::No, 0));
                tests.push(Test {
                    operand,
                    chunk,
                    reader,
                    exits: [on_false, on_true],
                    fast,
                    fast_cost,
                });
                tests.len() as u32 - 1
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::RuleCode;
    use crate::Program;

    const SCHEMA: &str = "schema {
  user.age: int
  user.plan: string
  user.country: string
  behavior.feature_usage: float
  onboarding.completed: bool
  tags: list<string>
}
";

    fn condition_of(program: &Program, rule: &str) -> ConditionCode {
        let id = program.rule_index(rule).expect("rule exists");
        let RuleCode::Segment(chunk) = &program.bytecode().rules[id as usize] else {
            panic!("{rule} is not a segment");
        };
        let code = program.bytecode().chunks[*chunk as usize].condition.clone();
        *code.expect("the segment has condition code")
    }

    /// The peer-benchmark shapes must all be decided on the fast path: a
    /// change that silently sends them back to the stack machine would
    /// only show as a slowdown.
    #[test]
    fn common_condition_shapes_take_the_fast_path() {
        let source = format!(
            "{SCHEMA}
segment r1 = user.age < 30 and behavior.feature_usage > 0.5
segment r2 = onboarding.completed == true and not (user.age >= 65)
segment r3 = user.country in [\"DE\", \"FR\"] and user.plan == \"trial\"
segment r4 = \"beta\" in tags or onboarding.completed
segment r5 = user.plan is not null and true
"
        );
        let program = Program::compile(&source).unwrap();
        for rule in ["r1", "r2", "r3", "r4", "r5"] {
            let code = condition_of(&program, rule);
            assert_eq!(code.tests.len(), 2, "{rule}: {code:?}");
            for test in &code.tests {
                assert_ne!(test.fast, Fast::No, "{rule}: {test:?}");
            }
        }
    }

    /// An int comparison's range admits exactly what its operator does,
    /// at the edges of the int range too.
    #[test]
    fn int_ranges_agree_with_their_operators() {
        let edges = [
            i64::MIN,
            i64::MIN + 1,
            -2,
            -1,
            0,
            1,
            2,
            i64::MAX - 1,
            i64::MAX,
        ];
        for op in [
            BinOp::Lt,
            BinOp::Le,
            BinOp::Eq,
            BinOp::Ne,
            BinOp::Ge,
            BinOp::Gt,
        ] {
            let accepts = Accepts::of(op).unwrap();
            for k in edges {
                let range = IntRange::of(accepts, k);
                for x in edges {
                    let expected = accepts.admits(x.cmp(&k));
                    assert_eq!(range.admits(x), expected, "{x} {} {k}", op.symbol());
                }
            }
        }
    }

    /// `a and not b`: a false `a` answers false; a true `a` goes on to
    /// `b`, whose answer `not` swaps. Steps: each comparison is 3 (slot,
    /// constant, operator), the `and` 1 when it reads `a`, the `not` 1.
    #[test]
    fn and_and_not_become_jumps_with_their_steps() {
        let source = format!("{SCHEMA}segment s = user.age < 30 and not (user.age >= 65)\n");
        let program = Program::compile(&source).unwrap();
        let code = condition_of(&program, "s");
        let first = &code.tests[code.entry as usize];
        let [on_false, on_true] = first.exits;
        assert_eq!((on_false.to, on_false.cost), (ANSWER_FALSE, 0));
        assert_eq!(first.fast_cost, 3 + 1);
        let second = &code.tests[on_true.to as usize];
        let [on_false, on_true] = second.exits;
        assert_eq!(on_false.to, ANSWER_TRUE);
        assert_eq!(on_true.to, ANSWER_FALSE);
        assert_eq!(second.fast_cost, 3 + 1);
    }
}
