//! The abstract syntax tree of a rule file.
//!
//! Produced by [`crate::syntax::parse`], read by the checker. Every node
//! carries its [`Span`]. Names are not resolved here: a bare name is just a
//! [`ExprKind::Name`]; the checker decides whether it is a rule or a field.

use crate::span::Span;

/// One parsed `.ramp` file.
#[derive(Clone, Debug, PartialEq)]
pub struct Module {
    /// Top-level items in source order.
    pub items: Vec<Item>,
}

/// A name with its span (item names, field names, variant names).
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name as written.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// A string literal in a position that does not interpolate (labels, event
/// names, test names, file paths): escapes are processed, braces are text.
#[derive(Clone, Debug, PartialEq)]
pub struct StrLit {
    /// The string's value.
    pub value: String,
    /// Span including the quotes.
    pub span: Span,
}

/// A top-level item.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// What kind of item.
    pub kind: ItemKind,
    /// The whole item.
    pub span: Span,
}

/// The kinds of top-level item (LANGUAGE.md §1).
#[derive(Clone, Debug, PartialEq)]
pub enum ItemKind {
    /// `schema { ... }`
    Schema(Schema),
    /// `let name = expr`
    Let(LetDef),
    /// `segment name "Label"? = expr`
    Segment(SegmentDef),
    /// `decision name "Label"? (first|collect)? { ... }`
    Decision(DecisionDef),
    /// `experiment name "Label"? { ... }`
    Experiment(ExperimentDef),
    /// `trigger name on "event" (when expr)? => emit ...`
    Trigger(TriggerDef),
    /// `test "description" { ... }`
    Test(TestDef),
}

// ---------------------------------------------------------------- schema

/// `schema { entry* }`
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    /// Entries in source order.
    pub entries: Vec<SchemaEntry>,
}

/// One schema line.
#[derive(Clone, Debug, PartialEq)]
pub enum SchemaEntry {
    /// `user.age: int`, `user."first-name": string`
    Field {
        /// The dotted path; a quoted segment is a key that is not a name.
        path: Vec<Ident>,
        /// The declared type.
        ty: TypeExpr,
        /// The whole entry.
        span: Span,
    },
    /// `event "feature_used" { feature: string }`
    Event {
        /// The event name.
        name: StrLit,
        /// Declared `props` fields (empty when no braces were written).
        props: Vec<(Ident, TypeExpr)>,
        /// The whole entry.
        span: Span,
    },
}

/// A type written in a schema.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    /// The type.
    pub kind: TypeExprKind,
    /// `T?`
    pub nullable: bool,
    /// Where it was written.
    pub span: Span,
}

/// The shapes a schema type can take.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeExprKind {
    /// `bool`, `int`, `float`, `string`, `time`, `duration`, `map`, or any
    /// other word (the checker rejects unknown ones).
    Named(Ident),
    /// `list<T>`
    List(Box<TypeExpr>),
    /// `{ name: T, ... }`
    Record(Vec<(Ident, TypeExpr)>),
    /// `"trial" | "starter" | "pro"`
    Enum(Vec<StrLit>),
}

// ---------------------------------------------------------------- rules

/// `let name = expr`
#[derive(Clone, Debug, PartialEq)]
pub struct LetDef {
    /// The let's name.
    pub name: Ident,
    /// Its value.
    pub value: Expr,
}

/// `segment name "Label"? = expr`
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentDef {
    /// The segment's name.
    pub name: Ident,
    /// Optional human label.
    pub label: Option<StrLit>,
    /// The membership condition.
    pub body: Expr,
}

/// How a decision combines its branches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HitPolicy {
    /// The first matching branch wins (default).
    First,
    /// Every matching branch's value, as a list.
    Collect,
}

/// `decision name "Label"? policy? { branch* }`
#[derive(Clone, Debug, PartialEq)]
pub struct DecisionDef {
    /// The decision's name.
    pub name: Ident,
    /// Optional human label.
    pub label: Option<StrLit>,
    /// The hit policy as written, with its span; `None` means `first`.
    pub policy: Option<(HitPolicy, Span)>,
    /// Branches in source order, `else` included where it was written (the
    /// checker reports an `else` that is not last or appears twice).
    pub branches: Vec<Branch>,
}

/// `when cond => value` or `else => value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Branch {
    /// `None` for `else`.
    pub condition: Option<Expr>,
    /// The branch's value.
    pub value: Expr,
    /// The whole branch.
    pub span: Span,
}

/// `experiment name "Label"? { clause* }`
#[derive(Clone, Debug, PartialEq)]
pub struct ExperimentDef {
    /// The experiment's name.
    pub name: Ident,
    /// Optional human label.
    pub label: Option<StrLit>,
    /// Clauses as written (the checker reports duplicates and missing ones).
    pub clauses: Vec<ExperimentClause>,
}

/// One clause of an experiment.
#[derive(Clone, Debug, PartialEq)]
pub struct ExperimentClause {
    /// What the clause says.
    pub kind: ExperimentClauseKind,
    /// The whole clause.
    pub span: Span,
}

/// The clauses of §7.
#[derive(Clone, Debug, PartialEq)]
pub enum ExperimentClauseKind {
    /// `unit expr`
    Unit(Expr),
    /// `salt "text"`
    Salt(StrLit),
    /// `eligible expr`
    Eligible(Expr),
    /// `coverage expr` (a number or percentage literal)
    Coverage(Expr),
    /// `variants { name: weight, ... }`
    Variants(Vec<(Ident, Expr)>),
    /// `force { "unit": variant, ... }`
    Force(Vec<(StrLit, Ident)>),
}

/// `trigger name on "event" (when cond)? => emit ..., emit ...`
#[derive(Clone, Debug, PartialEq)]
pub struct TriggerDef {
    /// The trigger's name.
    pub name: Ident,
    /// The event name it listens to.
    pub on: StrLit,
    /// Optional condition.
    pub condition: Option<Expr>,
    /// Actions in source order.
    pub actions: Vec<Emit>,
}

/// `emit "action" { payload }?`
#[derive(Clone, Debug, PartialEq)]
pub struct Emit {
    /// The action name.
    pub action: StrLit,
    /// The payload map literal, if written.
    pub payload: Option<Expr>,
    /// The whole emit.
    pub span: Span,
}

/// `test "description" { statement* }`
#[derive(Clone, Debug, PartialEq)]
pub struct TestDef {
    /// The test's description.
    pub name: StrLit,
    /// Statements in source order.
    pub body: Vec<TestStmt>,
}

/// A statement inside a test block.
#[derive(Clone, Debug, PartialEq)]
pub struct TestStmt {
    /// What it says.
    pub kind: TestStmtKind,
    /// The whole statement.
    pub span: Span,
}

/// The statements of §10.
#[derive(Clone, Debug, PartialEq)]
pub enum TestStmtKind {
    /// `now @2026-11-20T12:00:00Z`
    Now(Expr),
    /// `given { ... }` with optional `with { path: value }`
    GivenLiteral {
        /// The profile literal (a map expression).
        profile: Expr,
        /// Overrides.
        with: Vec<(Vec<Ident>, Expr)>,
    },
    /// `given file "p.json"` with optional `with { path: value }`
    GivenFile {
        /// Path relative to the rule file.
        path: StrLit,
        /// Overrides.
        with: Vec<(Vec<Ident>, Expr)>,
    },
    /// `given variant experiment = "variant"`
    GivenVariant {
        /// The experiment.
        experiment: Ident,
        /// The forced variant.
        variant: StrLit,
    },
    /// `given event { ... }`
    GivenEvent(Expr),
    /// `expect expr`
    Expect(Expr),
}

// ---------------------------------------------------------------- expressions

/// An expression with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// The expression.
    pub kind: ExprKind,
    /// Its source range (for a parenthesised expression, the parentheses'
    /// content; parentheses leave no node of their own).
    pub span: Span,
}

/// An exact decimal as written in the source: `digits / 10^scale`. Used for
/// experiment weights and coverage, which must sum exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decimal {
    /// The digits as an integer.
    pub digits: i128,
    /// How many of them are after the decimal point.
    pub scale: u32,
}

/// One piece of an interpolated string.
#[derive(Clone, Debug, PartialEq)]
pub enum StrPart {
    /// Literal text, escapes already processed (`{{` is already `{`).
    Text(String),
    /// `{expr}`
    Expr(Expr),
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-x`
    Neg,
    /// `not x`
    Not,
}

/// Binary operators (LANGUAGE.md §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in`
    In,
    /// `not in`
    NotIn,
    /// `starts_with`
    StartsWith,
    /// `ends_with`
    EndsWith,
    /// `contains` (substring on strings, membership on lists)
    Contains,
    /// `has_any`
    HasAny,
    /// `has_all`
    HasAll,
    /// `??`
    Coalesce,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
}

impl BinaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::In => "in",
            BinaryOp::NotIn => "not in",
            BinaryOp::StartsWith => "starts_with",
            BinaryOp::EndsWith => "ends_with",
            BinaryOp::Contains => "contains",
            BinaryOp::HasAny => "has_any",
            BinaryOp::HasAll => "has_all",
            BinaryOp::Coalesce => "??",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }

    /// Whether this is one of the non-associative comparison operators.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq
                | BinaryOp::Ne
                | BinaryOp::Lt
                | BinaryOp::Le
                | BinaryOp::Gt
                | BinaryOp::Ge
                | BinaryOp::In
                | BinaryOp::NotIn
                | BinaryOp::StartsWith
                | BinaryOp::EndsWith
                | BinaryOp::Contains
                | BinaryOp::HasAny
                | BinaryOp::HasAll
        )
    }
}

/// Where a `within` window is anchored.
#[derive(Clone, Debug, PartialEq)]
pub enum WindowAnchor {
    /// `t within 24h`: from `now - d` to `now`.
    Past,
    /// `t within next 2d`: from `now` to `now + d`.
    Next,
    /// `t within 3d after x`: from `x` to `x + d`.
    After(Box<Expr>),
    /// `t within 1h before x`: from `x - d` to `x`.
    Before(Box<Expr>),
}

/// The expression forms of §3.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// `null`
    Null,
    /// `true`, `false`
    Bool(bool),
    /// An integer literal. A unary minus written directly before an integer
    /// literal is folded into it by the parser, so `-9223372036854775808`
    /// is representable.
    Int(i64),
    /// A float or percentage literal (`0.5`, `1e-3`, `50%` is `0.5`), with
    /// its exact decimal value where it has one.
    Float(f64, Option<Decimal>),
    /// A string literal, possibly interpolated.
    Str(Vec<StrPart>),
    /// `@2026-11-20T12:00:00Z`: epoch milliseconds.
    Time(i64),
    /// `90s`, `24h`: milliseconds.
    Duration(i64),
    /// `[a, b, c]`
    List(Vec<Expr>),
    /// `{ key: value, "other key": value }`: keys in source order.
    Map(Vec<(Ident, Expr)>),
    /// A bare name: a rule, `now`-like constant, or profile field.
    Name(Ident),
    /// `it`
    It,
    /// `now`
    Now,
    /// `event` (inside a trigger)
    Event,
    /// `profile` (the whole profile as a map)
    Profile,
    /// A leading-dot field of the current element: `.name`.
    ElementField(Ident),
    /// `expr.name`
    Field(Box<Expr>, Ident),
    /// `expr[index]`
    Index(Box<Expr>, Box<Expr>),
    /// `f(args)`
    Call {
        /// The function's name.
        function: Ident,
        /// Arguments (each may be a `where` expression).
        args: Vec<Expr>,
    },
    /// `-x`, `not x`
    Unary(UnaryOp, Box<Expr>),
    /// `a op b`
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `x is null` (`negated: false`), `x is not null` (`negated: true`)
    IsNull {
        /// The tested value.
        operand: Box<Expr>,
        /// `is not null`.
        negated: bool,
    },
    /// `x between a and b` (inclusive)
    Between {
        /// The tested value.
        operand: Box<Expr>,
        /// Lower bound.
        low: Box<Expr>,
        /// Upper bound.
        high: Box<Expr>,
    },
    /// `t within d`, `t within next d`, `t within d after x`, `t within d before x`
    Within {
        /// The instant tested.
        operand: Box<Expr>,
        /// The window's length.
        duration: Box<Expr>,
        /// Where the window sits.
        anchor: WindowAnchor,
    },
    /// `s matches "regex"`: the pattern is a raw literal (only `\"` is an
    /// escape), validated by the checker.
    Matches {
        /// The string tested.
        operand: Box<Expr>,
        /// The pattern text.
        pattern: String,
        /// The pattern literal's span (quotes included).
        pattern_span: Span,
    },
    /// `if c then a else b`
    If {
        /// Condition.
        condition: Box<Expr>,
        /// Value when true.
        then: Box<Expr>,
        /// Value otherwise.
        otherwise: Box<Expr>,
    },
    /// `xs where cond`, `xs as e where cond`
    Where {
        /// The list filtered.
        list: Box<Expr>,
        /// The element's name, when `as e` was written.
        binder: Option<Ident>,
        /// The filter.
        condition: Box<Expr>,
    },
}

impl Expr {
    /// A new expression node.
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }
}
