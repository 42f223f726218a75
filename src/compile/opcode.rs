//! The instruction set of the VM.
//!
//! A stack machine: each instruction's doc comment gives its stack effect.
//! Instructions are small `Copy` values with integer operands (indexes into
//! the program's constant pool, slot table, rule table …). Source spans and
//! step costs live in tables parallel to the code, not inside instructions.

use crate::check::ir::{AggKind, Builtin};

/// One VM instruction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    /// `→ c`: push constant `consts[i]`.
    Const(u32),
    /// `→ v`: push the bound value of profile slot `i` (raises its data
    /// error if binding found one).
    Slot(u32),
    /// `→ profile`: the whole profile as a map.
    Profile,
    /// `→ v`: the value of rule `i`, evaluated on first read.
    Rule(u32),
    /// `→ e`: the current element of the iteration `i` levels out.
    Element(u32),
    /// `→ now`
    Now,
    /// `→ event`: the incoming event.
    Event,
    /// `→ actions`: the actions emitted so far, as a list of maps (tests).
    Actions,
    /// `m → m.k`: field `consts[i]` (a string) of a map; null for null.
    Field(u32),
    /// `x i → x[i]`
    Index,
    /// `x → -x`
    Neg,
    /// `c → not c` (c read as a condition)
    Not,
    /// `c → bool`: read the top as a condition (null is false).
    ToBool,
    /// `c → false` and jump when the condition is false, else `c →` (and
    /// continue with the right side).
    AndJump(u32),
    /// `c → true` and jump when the condition is true, else `c →`.
    OrJump(u32),
    /// `c →`: jump when the condition is false.
    JumpIfFalse(u32),
    /// `x → x` and jump when x is not null, else `x →`.
    JumpIfNotNull(u32),
    /// `→`: jump.
    Jump(u32),
    /// `a b → a op b`
    Binary(BinOp),
    /// `x → x is null` (or `is not null` when the flag is true)
    IsNull(bool),
    /// `x lo hi → lo <= x <= hi`
    Between,
    /// `t d → t within d` (past), `t within next d`; `t d x → …` for
    /// after/before.
    Within(WindowKind),
    /// `s → s matches regexes[i]`
    Matches(u32),
    /// `p1 … pn → string`: render and join n parts (null if any is null).
    Interpolate(u32),
    /// `v1 … vn → [v1 … vn]`
    MakeList(u32),
    /// `v1 … vn → {k1: v1 …}` with keys `key_lists[i]`.
    MakeMap(u32),
    /// `a1 … an → f(a1 … an)`
    Call(Builtin, u8),
    /// `a1 … an → host[i](a1 … an)`
    HostCall(u32, u8),
    /// `xs →`: start iterating a list (null is empty) for an aggregate.
    IterBegin(AggKind),
    /// `→`: move to the next element, or jump to the given address when
    /// there is none (or the aggregate already knows its answer).
    IterNext(u32),
    /// `→` (count, exists, first, last, filter: the element passed the
    /// filter) or `v →` (sum, avg, min, max, distinct: the projected
    /// value; all: the condition).
    IterStep,
    /// `→ result`: finish the innermost iteration.
    IterEnd,
    /// `→ result`: the value of fused aggregate `i`, computed with the
    /// other aggregates over the same list in one pass on first use.
    Fused(u32),
    /// `slot op const`: compare a profile slot with a constant, the
    /// commonest condition shape (`user.age < 30`), in one dispatch.
    /// The last operand is the steps counted after the slot was read (the
    /// constant's and the comparison's).
    SlotCmpConst(u32, BinOp, u32, u16),
}

/// Binary operators (`and`, `or` and `??` compile to jumps instead).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    StartsWith,
    EndsWith,
    Contains,
    HasAny,
    HasAll,
}

impl BinOp {
    /// The operator as written in rules.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::In => "in",
            BinOp::NotIn => "not in",
            BinOp::StartsWith => "starts_with",
            BinOp::EndsWith => "ends_with",
            BinOp::Contains => "contains",
            BinOp::HasAny => "has_any",
            BinOp::HasAll => "has_all",
        }
    }
}

/// Which outcomes of an ordering make a comparison operator true: bit 0
/// less, bit 1 equal, bit 2 greater (`<=` is `0b011`). The one place that
/// says what `<`, `<=`, `==`, … mean once two values are ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accepts(u8);

impl Accepts {
    /// The mask of an ordering or equality operator (`None` for others).
    pub fn of(op: BinOp) -> Option<Accepts> {
        Some(Accepts(match op {
            BinOp::Lt => 0b001,
            BinOp::Le => 0b011,
            BinOp::Eq => 0b010,
            BinOp::Ne => 0b101,
            BinOp::Ge => 0b110,
            BinOp::Gt => 0b100,
            _ => return None,
        }))
    }

    /// Whether the operator holds for this outcome.
    #[inline]
    pub fn admits(self, o: std::cmp::Ordering) -> bool {
        self.0 >> (o as i8 + 1) & 1 != 0
    }
}

/// Which `within` form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowKind {
    /// `t within d`
    Past,
    /// `t within next d`
    Next,
    /// `t within d after x`
    After,
    /// `t within d before x`
    Before,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_stay_small() {
        assert!(
            std::mem::size_of::<Op>() <= 16,
            "{}",
            std::mem::size_of::<Op>()
        );
    }
}
