//! The checked program: names resolved, field paths turned into slots,
//! types attached. The compiler trusts it and does not re-check.

use super::types::Type;
use crate::span::Span;
use crate::syntax::ast::{BinaryOp, HitPolicy, UnaryOp};
use crate::value::Value;
use std::sync::Arc;

/// Index of a top-level rule (let, segment, decision, experiment).
pub type RuleId = u32;
/// Index of a profile field path the program reads.
pub type SlotId = u32;

/// A checked expression.
#[derive(Clone, Debug)]
pub struct Ir {
    /// What it computes.
    pub kind: IrKind,
    /// Its static type.
    pub ty: Type,
    /// Where it was written.
    pub span: Span,
}

/// Built-in functions (not aggregates).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Builtin {
    Lower,
    Upper,
    Trim,
    Len,
    Title,
    Abs,
    Round,
    Floor,
    Ceil,
    Min2,
    Max2,
    Semver,
    ToInt,
    ToFloat,
    ToString,
    ToTime,
    ToDuration,
    Days,
    Hours,
    Minutes,
    Ago,
    DaysSince,
    HoursSince,
    DaysUntil,
    HoursUntil,
    Weekday,
    HourOfDay,
    Date,
}

impl Builtin {
    /// The function's name in rules.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Lower => "lower",
            Builtin::Upper => "upper",
            Builtin::Trim => "trim",
            Builtin::Len => "len",
            Builtin::Title => "title",
            Builtin::Abs => "abs",
            Builtin::Round => "round",
            Builtin::Floor => "floor",
            Builtin::Ceil => "ceil",
            Builtin::Min2 => "min",
            Builtin::Max2 => "max",
            Builtin::Semver => "semver",
            Builtin::ToInt => "int",
            Builtin::ToFloat => "float",
            Builtin::ToString => "string",
            Builtin::ToTime => "time",
            Builtin::ToDuration => "duration",
            Builtin::Days => "days",
            Builtin::Hours => "hours",
            Builtin::Minutes => "minutes",
            Builtin::Ago => "ago",
            Builtin::DaysSince => "days_since",
            Builtin::HoursSince => "hours_since",
            Builtin::DaysUntil => "days_until",
            Builtin::HoursUntil => "hours_until",
            Builtin::Weekday => "weekday",
            Builtin::HourOfDay => "hour_of_day",
            Builtin::Date => "date",
        }
    }
}

/// What an aggregate computes over a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AggKind {
    /// `count`: how many elements pass the filter.
    Count,
    /// `exists` / `any`: whether any element passes.
    Exists,
    /// `all(xs, cond)`: whether every element satisfies the condition
    /// (the condition is the aggregate's filter).
    All,
    /// `sum`
    Sum,
    /// `avg`
    Avg,
    /// `min` (one-argument or projected form)
    Min,
    /// `max`
    Max,
    /// `first`
    First,
    /// `last`
    Last,
    /// `distinct`
    Distinct,
    /// `xs where cond` as a list value.
    Filter,
}

impl AggKind {
    /// The name as written in rules.
    pub fn name(self) -> &'static str {
        match self {
            AggKind::Count => "count",
            AggKind::Exists => "exists",
            AggKind::All => "all",
            AggKind::Sum => "sum",
            AggKind::Avg => "avg",
            AggKind::Min => "min",
            AggKind::Max => "max",
            AggKind::First => "first",
            AggKind::Last => "last",
            AggKind::Distinct => "distinct",
            AggKind::Filter => "where",
        }
    }
}

/// Where a `within` window sits.
#[derive(Clone, Debug)]
pub enum Anchor {
    /// Back from `now`.
    Past,
    /// Forward from `now`.
    Next,
    /// From `x` forward.
    After(Box<Ir>),
    /// From `x` back.
    Before(Box<Ir>),
}

/// The checked expression forms.
#[derive(Clone, Debug)]
pub enum IrKind {
    /// A literal (also what constant folding produces).
    Const(Value),
    /// A profile field path, bound before evaluation.
    Slot(SlotId),
    /// The whole profile (`profile`).
    Profile,
    /// A rule's value (memoised per profile).
    Rule(RuleId),
    /// The element of an enclosing `where`/aggregate; 0 is the innermost.
    Element(u32),
    /// `now`
    Now,
    /// The incoming event (inside triggers).
    Event,
    /// The actions emitted so far (only in a test's `expect`).
    Actions,
    /// A field of a computed value.
    Field(Box<Ir>, Arc<str>),
    /// `x[i]`
    Index(Box<Ir>, Box<Ir>),
    /// `-x`, `not x`
    Unary(UnaryOp, Box<Ir>),
    /// Binary operators, `and`/`or` included (they short-circuit).
    Binary(BinaryOp, Box<Ir>, Box<Ir>),
    /// `x is null` (false) / `x is not null` (true)
    IsNull(Box<Ir>, bool),
    /// `x between a and b`
    Between(Box<Ir>, Box<Ir>, Box<Ir>),
    /// `t within d ...`
    Within {
        /// The instant.
        operand: Box<Ir>,
        /// The window's length.
        duration: Box<Ir>,
        /// Where the window sits.
        anchor: Anchor,
    },
    /// `s matches "re"`: index into the program's regex table.
    Matches(Box<Ir>, u32),
    /// `if c then a else b`
    If(Box<Ir>, Box<Ir>, Box<Ir>),
    /// An interpolated string: the parts' renderings concatenated.
    Interpolate(Vec<Ir>),
    /// `[a, b]`
    List(Vec<Ir>),
    /// `{k: v}`
    Map(Vec<(Arc<str>, Ir)>),
    /// A built-in function.
    Call(Builtin, Vec<Ir>),
    /// A host function registered on the engine.
    HostCall(u32, Vec<Ir>),
    /// An aggregate or filter over a list.
    Aggregate {
        /// What it computes.
        kind: AggKind,
        /// The list (evaluated in the enclosing scope).
        list: Box<Ir>,
        /// Elements failing it are skipped (for `all`: the condition).
        filter: Option<Box<Ir>>,
        /// Per-element value aggregated instead of the element.
        projection: Option<Box<Ir>>,
    },
}

impl Ir {
    /// A new node.
    pub fn new(kind: IrKind, ty: Type, span: Span) -> Ir {
        Ir { kind, ty, span }
    }

    /// The number of source-level steps this node and its children count
    /// when every part is evaluated (used for folded constants).
    pub fn node_count(&self) -> u32 {
        let mut n = 1u32;
        self.for_each_child(|c| n = n.saturating_add(c.node_count()));
        n
    }

    /// Calls `f` on every direct child.
    pub fn for_each_child<'a>(&'a self, mut f: impl FnMut(&'a Ir)) {
        match &self.kind {
            IrKind::Const(_)
            | IrKind::Slot(_)
            | IrKind::Profile
            | IrKind::Rule(_)
            | IrKind::Element(_)
            | IrKind::Now
            | IrKind::Event
            | IrKind::Actions => {}
            IrKind::Field(a, _)
            | IrKind::Unary(_, a)
            | IrKind::IsNull(a, _)
            | IrKind::Matches(a, _) => f(a),
            IrKind::Index(a, b) | IrKind::Binary(_, a, b) => {
                f(a);
                f(b)
            }
            IrKind::Between(a, b, c) | IrKind::If(a, b, c) => {
                f(a);
                f(b);
                f(c)
            }
            IrKind::Within {
                operand,
                duration,
                anchor,
            } => {
                f(operand);
                f(duration);
                if let Anchor::After(x) | Anchor::Before(x) = anchor {
                    f(x)
                }
            }
            IrKind::Interpolate(xs)
            | IrKind::List(xs)
            | IrKind::Call(_, xs)
            | IrKind::HostCall(_, xs) => xs.iter().for_each(f),
            IrKind::Map(entries) => entries.iter().for_each(|(_, v)| f(v)),
            IrKind::Aggregate {
                list,
                filter,
                projection,
                ..
            } => {
                f(list);
                if let Some(x) = filter {
                    f(x)
                }
                if let Some(x) = projection {
                    f(x)
                }
            }
        }
    }
}

/// What kind of rule an item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleKind {
    /// `let`
    Let,
    /// `segment`
    Segment,
    /// `decision`
    Decision,
    /// `experiment`
    Experiment,
}

impl RuleKind {
    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            RuleKind::Let => "let",
            RuleKind::Segment => "segment",
            RuleKind::Decision => "decision",
            RuleKind::Experiment => "experiment",
        }
    }
}

/// One decision branch.
#[derive(Clone, Debug)]
pub struct CheckedBranch {
    /// `None` for `else`.
    pub condition: Option<Ir>,
    /// The value.
    pub value: Ir,
    /// The whole branch.
    pub span: Span,
}

/// A checked experiment.
#[derive(Clone, Debug)]
pub struct CheckedExperiment {
    /// The hashed unit.
    pub unit: Ir,
    /// The hash seed.
    pub salt: String,
    /// Targeting, `None` meaning everyone.
    pub eligible: Option<Ir>,
    /// Share of eligible units included, 0..=1.
    pub coverage: f64,
    /// Variant names and weights (0..=1, summing to exactly 1).
    pub variants: Vec<(String, f64)>,
    /// QA overrides: unit → variant index.
    pub force: Vec<(String, usize)>,
}

/// The body of a rule.
#[derive(Clone, Debug)]
pub enum RuleBody {
    /// A `let` or a segment: one expression.
    Expr(Ir),
    /// A decision.
    Decision {
        /// Hit policy.
        policy: HitPolicy,
        /// Branches, `else` last.
        branches: Vec<CheckedBranch>,
    },
    /// An experiment.
    Experiment(Box<CheckedExperiment>),
}

/// A checked top-level rule.
#[derive(Clone, Debug)]
pub struct CheckedRule {
    /// Its kind.
    pub kind: RuleKind,
    /// Its name.
    pub name: String,
    /// Its label, if any.
    pub label: Option<String>,
    /// The span of its name.
    pub name_span: Span,
    /// The whole item.
    pub span: Span,
    /// The value's type.
    pub ty: Type,
    /// What it computes.
    pub body: RuleBody,
}

/// A checked emit.
#[derive(Clone, Debug)]
pub struct CheckedAction {
    /// The action's name.
    pub action: String,
    /// The payload (a map expression), `None` for `{}`.
    pub payload: Option<Ir>,
    /// Where it was written.
    pub span: Span,
}

/// A checked trigger.
#[derive(Clone, Debug)]
pub struct CheckedTrigger {
    /// Its name.
    pub name: String,
    /// The event name it listens to.
    pub on: String,
    /// Optional condition.
    pub condition: Option<Ir>,
    /// Actions in order.
    pub actions: Vec<CheckedAction>,
    /// The whole item.
    pub span: Span,
}
