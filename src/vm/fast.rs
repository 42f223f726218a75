//! The fast path's form of a test: its typed check with every negation
//! folded into its exits.
//!
//! A compiled [`Fast`] check may be negated (`!=`, `is not null`, a range
//! taken from outside). On the fast path the negation would cost each
//! such test a flip of its truth before the branch on it; instead the
//! plan swaps the test's two exits, once, and the check here answers the
//! positive question, which the branch then takes straight from the
//! comparison.

use super::bind::Bound;
use crate::compile::branch::{within_span, Fast};
use crate::compile::opcode::Accepts;
use crate::value::Value;
use std::sync::Arc;

/// A test decided from a bound slot of the expected type.
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    /// No fast path.
    No,
    /// An int slot in `lo..=lo + span` (by wrapping subtraction).
    Int(u32, i64, u64),
    /// `float_slot op float`.
    Float(u32, Accepts, f64),
    /// A string slot equal to the constant.
    StrEq(u32, Arc<str>),
    /// A bool slot equal to the constant.
    BoolIs(u32, bool),
    /// A string slot equal to one of the constants.
    StrIn(u32, Arc<[Arc<str>]>),
    /// The constant in a list-of-strings slot.
    StrInList(u32, Arc<str>),
    /// A bool slot read as a condition (null is false).
    Bool(u32),
    /// A constant operand.
    Constant(bool),
    /// A null slot.
    IsNull(u32),
}

impl Check {
    /// The check of a compiled test, and whether its exits swap to
    /// answer for the negation it dropped.
    pub fn of(fast: &Fast) -> (Check, bool) {
        match fast {
            Fast::No => (Check::No, false),
            Fast::Int(s, range) => {
                let (lo, span, outside) = range.parts();
                (Check::Int(*s, lo, span), outside)
            }
            Fast::Float(s, accepts, k) => (Check::Float(*s, *accepts, *k), false),
            Fast::StrEq(s, eq, k) => (Check::StrEq(*s, k.clone()), !eq),
            // `x != k` is `x == !k` for bools: never negated.
            Fast::BoolEq(s, eq, k) => (Check::BoolIs(*s, *k == *eq), false),
            Fast::StrIn(s, set) => (Check::StrIn(*s, set.clone()), false),
            Fast::StrInList(s, k) => (Check::StrInList(*s, k.clone()), false),
            Fast::Bool(s) => (Check::Bool(*s), false),
            Fast::Constant(b) => (Check::Constant(*b), false),
            Fast::IsNull(s, negated) => (Check::IsNull(*s), *negated),
        }
    }

    /// The check's answer from a bound slot of the expected type, or
    /// `None` for anything else (a null, another type, a data error).
    /// Inlined into the test loops: a call per test would cost more than
    /// most tests.
    #[inline(always)]
    pub fn truth(&self, slots: &[Bound]) -> Option<bool> {
        let slot = |s: u32| match slots.get(s as usize) {
            Some(Ok(v)) => Some(v),
            _ => None,
        };
        match self {
            Check::No => None,
            Check::Int(s, lo, span) => match slot(*s)? {
                Value::Int(x) => Some(within_span(*x, *lo, *span)),
                _ => None,
            },
            Check::Float(s, mask, k) => match slot(*s)? {
                Value::Float(x) => Some(mask.admits(x.partial_cmp(k)?)),
                _ => None,
            },
            Check::StrEq(s, k) => match slot(*s)? {
                Value::Str(x) => Some(same_text(x, k)),
                _ => None,
            },
            Check::BoolIs(s, k) => match slot(*s)? {
                Value::Bool(x) => Some(x == k),
                _ => None,
            },
            Check::StrIn(s, set) => match slot(*s)? {
                Value::Str(x) => Some(set.iter().any(|k| same_text(x, k))),
                _ => None,
            },
            Check::StrInList(s, k) => match slot(*s)? {
                Value::List(items) => {
                    let mut found = false;
                    for item in items.iter() {
                        match item {
                            Value::Str(x) => found |= same_text(x, k),
                            _ => return None,
                        }
                    }
                    Some(found)
                }
                _ => None,
            },
            Check::Constant(b) => Some(*b),
            Check::IsNull(s) => Some(slot(*s)?.is_null()),
            Check::Bool(s) => match slots.get(*s as usize) {
                Some(Ok(Value::Bool(b))) => Some(*b),
                Some(Ok(Value::Null)) | None => Some(false),
                _ => None,
            },
        }
    }
}

/// String equality for the fast tests: profile strings equal to a constant
/// are usually that constant (binding shares it), and the rest are short,
/// so pointer equality first, then bytes without a `memcmp` call.
#[inline]
fn same_text(a: &Arc<str>, b: &Arc<str>) -> bool {
    if Arc::ptr_eq(a, b) {
        return true;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len()
        && if a.len() <= 16 {
            a.iter().zip(b).all(|(x, y)| x == y)
        } else {
            a == b
        }
}
