//! Checking and lowering of expressions: name resolution, field paths to
//! slots, types, and the static errors and warnings of LANGUAGE.md.

use super::ir::{AggKind, Anchor, Builtin, Ir, IrKind, RuleKind};
use super::schema::Lookup;
use super::suggest::closest;
use super::types::{Type, TypeKind};
use super::Checker;
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::syntax::ast::{BinaryOp, Expr, ExprKind, Ident, StrPart, UnaryOp, WindowAnchor};
use crate::value::Value;
use std::sync::Arc;

/// Deepest expression the checker accepts; deeper trees (long operator
/// chains in generated rules) get a diagnostic instead of a deep recursion
/// in every later stage.
pub const MAX_EXPR_DEPTH: usize = 512;

/// Something whose nullness a guard can establish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NarrowKey {
    /// A profile path.
    Slot(u32),
    /// A rule.
    Rule(u32),
}

/// One `where`/aggregate scope.
#[derive(Clone, Debug)]
pub struct Scope {
    /// `as e` name.
    pub binder: Option<String>,
    /// The element's type.
    pub element: Type,
}

/// Where an expression is being checked.
#[derive(Clone, Debug, Default)]
pub struct ExprCtx {
    /// Element scopes, innermost last.
    pub scopes: Vec<Scope>,
    /// The type of `event`, inside a trigger.
    pub event: Option<Type>,
    /// Paths known to be non-null here.
    pub narrowed: Vec<NarrowKey>,
    /// The current nesting depth.
    pub depth: usize,
    /// Inside a test's `expect`: `actions` names the emitted actions.
    pub actions: bool,
}

const AGGREGATES: [&str; 12] = [
    "count", "exists", "any", "all", "sum", "avg", "min", "max", "first", "last", "distinct",
    "where",
];

/// Every function name rules can call (for completion and did-you-mean).
pub const FUNCTION_NAMES: [&str; 38] = [
    "count",
    "exists",
    "any",
    "all",
    "sum",
    "avg",
    "min",
    "max",
    "first",
    "last",
    "distinct",
    "lower",
    "upper",
    "trim",
    "len",
    "title",
    "abs",
    "round",
    "floor",
    "ceil",
    "semver",
    "int",
    "float",
    "string",
    "time",
    "duration",
    "days",
    "hours",
    "minutes",
    "ago",
    "days_since",
    "hours_since",
    "days_until",
    "hours_until",
    "weekday",
    "hour_of_day",
    "date",
    "contains",
];

fn builtin_by_name(name: &str) -> Option<Builtin> {
    Some(match name {
        "lower" => Builtin::Lower,
        "upper" => Builtin::Upper,
        "trim" => Builtin::Trim,
        "len" => Builtin::Len,
        "title" => Builtin::Title,
        "abs" => Builtin::Abs,
        "round" => Builtin::Round,
        "floor" => Builtin::Floor,
        "ceil" => Builtin::Ceil,
        "semver" => Builtin::Semver,
        "min" => Builtin::Min2,
        "max" => Builtin::Max2,
        "int" => Builtin::ToInt,
        "float" => Builtin::ToFloat,
        "string" => Builtin::ToString,
        "time" => Builtin::ToTime,
        "duration" => Builtin::ToDuration,
        "days" => Builtin::Days,
        "hours" => Builtin::Hours,
        "minutes" => Builtin::Minutes,
        "ago" => Builtin::Ago,
        "days_since" => Builtin::DaysSince,
        "hours_since" => Builtin::HoursSince,
        "days_until" => Builtin::DaysUntil,
        "hours_until" => Builtin::HoursUntil,
        "weekday" => Builtin::Weekday,
        "hour_of_day" => Builtin::HourOfDay,
        "date" => Builtin::Date,
        _ => return None,
    })
}

impl Checker<'_> {
    /// Checks an expression used as a condition (`null` reads as false).
    pub(crate) fn condition(&mut self, e: &Expr, ctx: &mut ExprCtx) -> Ir {
        let ir = self.expr(e, ctx);
        self.expect_condition(&ir);
        ir
    }

    fn expect_condition(&mut self, ir: &Ir) {
        if !matches!(ir.ty.kind, TypeKind::Bool | TypeKind::Any | TypeKind::Null) {
            self.error(
                Diagnostic::error(
                    format!("a condition must be a bool, but this is {}", ir.ty.a()),
                    ir.span,
                    format!("this is {}", ir.ty.a()),
                )
                .with_help("compare it with something, e.g. `x > 0` or `x is not null`"),
            );
        }
    }

    /// Checks and lowers one expression.
    pub(crate) fn expr(&mut self, e: &Expr, ctx: &mut ExprCtx) -> Ir {
        ctx.depth += 1;
        let ir = if ctx.depth > MAX_EXPR_DEPTH {
            self.error(Diagnostic::error(
                format!("expression nests too deeply (limit {MAX_EXPR_DEPTH})"),
                e.span,
                "split it into `let`s",
            ));
            Ir::new(IrKind::Const(Value::Null), Type::ANY, e.span)
        } else {
            self.expr_inner(e, ctx)
        };
        ctx.depth -= 1;
        ir
    }

    fn expr_inner(&mut self, e: &Expr, ctx: &mut ExprCtx) -> Ir {
        let span = e.span;
        let konst = |v: Value, t: Type| Ir::new(IrKind::Const(v), t, span);
        match &e.kind {
            ExprKind::Null => konst(Value::Null, Type::NULL),
            ExprKind::Bool(b) => konst(Value::Bool(*b), Type::BOOL),
            ExprKind::Int(i) => konst(Value::Int(*i), Type::INT),
            ExprKind::Float(f, _) => konst(Value::Float(*f), Type::FLOAT),
            ExprKind::Time(t) => konst(Value::Time(*t), Type::TIME),
            ExprKind::Duration(d) => konst(Value::Duration(*d), Type::DURATION),
            ExprKind::Str(parts) => self.string(parts, span, ctx),
            ExprKind::List(items) => {
                let items: Vec<Ir> = items.iter().map(|i| self.expr(i, ctx)).collect();
                let mut elem: Option<Type> = None;
                let mut mixed = false;
                for i in &items {
                    elem = match elem {
                        None => Some(i.ty.clone()),
                        Some(e) => match e.join(&i.ty) {
                            Some(t) => Some(t),
                            None => {
                                mixed = true;
                                Some(e)
                            }
                        },
                    };
                }
                let elem = match elem {
                    Some(t) if !mixed => t,
                    _ => Type::ANY,
                };
                Ir::new(IrKind::List(items), Type::list(elem), span)
            }
            ExprKind::Map(entries) => {
                let mut fields: Vec<(Arc<str>, Type)> = Vec::new();
                let mut out = Vec::new();
                for (k, v) in entries {
                    if fields.iter().any(|(n, _)| **n == *k.name) {
                        self.error(Diagnostic::error(
                            format!("key `{}` appears twice in this map", k.name),
                            k.span,
                            "repeated key",
                        ));
                        continue;
                    }
                    let v = self.expr(v, ctx);
                    let name: Arc<str> = Arc::from(k.name.as_str());
                    fields.push((name.clone(), v.ty.clone()));
                    out.push((name, v));
                }
                Ir::new(
                    IrKind::Map(out),
                    Type::of(TypeKind::Record(fields.into())),
                    span,
                )
            }
            ExprKind::Name(id) => self.name(id, ctx),
            ExprKind::It => match ctx.scopes.last() {
                Some(s) => Ir::new(IrKind::Element(0), s.element.clone(), span),
                None => {
                    self.error(Diagnostic::error(
                        "`it` is only meaningful inside a `where` condition or an aggregate",
                        span,
                        "no list element here",
                    ).with_help("`it` is the current element in e.g. `count(tags where it == \"beta\")`"));
                    konst(Value::Null, Type::ANY)
                }
            },
            ExprKind::ElementField(field) => {
                let Some(scope) = ctx.scopes.last() else {
                    self.error(Diagnostic::error(
                        format!("`.{}` reads a field of a list element, but there is no list here", field.name),
                        span,
                        "no list element here",
                    ).with_help("use it inside `where` or an aggregate, e.g. `count(events where .name == \"login\")`; for a profile field drop the dot"));
                    return konst(Value::Null, Type::ANY);
                };
                let base_ty = scope.element.clone();
                let base = Ir::new(IrKind::Element(0), base_ty, field.span);
                self.field_of(base, field, span)
            }
            ExprKind::Now => Ir::new(IrKind::Now, Type::TIME, span),
            ExprKind::Event => match &ctx.event {
                Some(t) => Ir::new(IrKind::Event, t.clone(), span),
                None => {
                    self.error(Diagnostic::error(
                        "`event` is only available inside a trigger",
                        span,
                        "no incoming event here",
                    ));
                    konst(Value::Null, Type::ANY)
                }
            },
            ExprKind::Profile => Ir::new(IrKind::Profile, Type::of(TypeKind::Map), span),
            ExprKind::Field(base, field) => {
                if let Some(path) = self.profile_path(e, ctx) {
                    return self.slot_for_path(&path, span, &ctx.narrowed);
                }
                let base = self.expr(base, ctx);
                self.field_of(base, field, span)
            }
            ExprKind::Index(base, index) => {
                if let Some(path) = self.profile_path(e, ctx) {
                    return self.slot_for_path(&path, span, &ctx.narrowed);
                }
                let base = self.expr(base, ctx);
                let index = self.expr(index, ctx);
                let ty = match (&base.ty.kind, &index.ty.kind) {
                    (TypeKind::List(t), TypeKind::Int | TypeKind::Any) => (**t).clone().nullable(),
                    (TypeKind::Map | TypeKind::Record(_), TypeKind::Str | TypeKind::Any) => {
                        if let (TypeKind::Record(fields), IrKind::Const(Value::Str(k))) =
                            (&base.ty.kind, &index.kind)
                        {
                            fields
                                .iter()
                                .find(|(n, _)| **n == **k)
                                .map(|(_, t)| t.clone())
                                .unwrap_or(Type::NULL)
                        } else {
                            Type::ANY
                        }
                    }
                    (TypeKind::Any | TypeKind::Null, _) => Type::ANY,
                    (TypeKind::List(_), _) | (TypeKind::Map | TypeKind::Record(_), _) => {
                        let want = if matches!(base.ty.kind, TypeKind::List(_)) {
                            "an int"
                        } else {
                            "a string"
                        };
                        self.error(Diagnostic::error(
                            format!("this index must be {want}, but it is {}", index.ty.a()),
                            index.span,
                            index.ty.a(),
                        ));
                        Type::ANY
                    }
                    _ => {
                        self.error(Diagnostic::error(
                            format!("{} cannot be indexed", base.ty.a()),
                            base.span,
                            "only lists and maps take `[...]`",
                        ));
                        Type::ANY
                    }
                };
                let ty = ty.nullable_if(base.ty.nullable);
                Ir::new(IrKind::Index(Box::new(base), Box::new(index)), ty, span)
            }
            ExprKind::Call { function, args } => self.call(function, args, span, ctx),
            ExprKind::Unary(UnaryOp::Not, inner) => {
                if let ExprKind::Binary(op, lhs, _) = &inner.kind {
                    if matches!(
                        op,
                        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
                    ) {
                        let l = self.peek_nullable_path(lhs, ctx);
                        if l {
                            self.warn(Diagnostic::warning(
                                "`not` of an ordering comparison on a nullable value is also true when the value is missing",
                                e.span,
                                "true when the value is null, too",
                            ).with_help("flip the comparison instead (e.g. `x >= 30` rather than `not x < 30`), or guard with `x is not null`"));
                        }
                    }
                }
                let inner = self.condition(inner, ctx);
                Ir::new(
                    IrKind::Unary(UnaryOp::Not, Box::new(inner)),
                    Type::BOOL,
                    span,
                )
            }
            ExprKind::Unary(UnaryOp::Neg, inner) => {
                let inner = self.expr(inner, ctx);
                let ok = matches!(
                    inner.ty.kind,
                    TypeKind::Int
                        | TypeKind::Float
                        | TypeKind::Duration
                        | TypeKind::Any
                        | TypeKind::Null
                );
                if !ok {
                    self.error(Diagnostic::error(
                        format!("cannot negate {}", inner.ty.a()),
                        inner.span,
                        inner.ty.a(),
                    ));
                }
                let ty = if ok { inner.ty.clone() } else { Type::ANY };
                Ir::new(IrKind::Unary(UnaryOp::Neg, Box::new(inner)), ty, span)
            }
            ExprKind::Binary(op, lhs, rhs) => self.binary(*op, lhs, rhs, span, ctx),
            ExprKind::IsNull { operand, negated } => {
                let inner = self.expr(operand, ctx);
                self.warn_never_null(&inner, span);
                Ir::new(IrKind::IsNull(Box::new(inner), *negated), Type::BOOL, span)
            }
            ExprKind::Between { operand, low, high } => {
                let x = self.expr(operand, ctx);
                let lo = self.expr(low, ctx);
                let hi = self.expr(high, ctx);
                self.check_ordering(&x, &lo, span);
                self.check_ordering(&x, &hi, span);
                let nullable = x.ty.nullable || lo.ty.nullable || hi.ty.nullable;
                Ir::new(
                    IrKind::Between(Box::new(x), Box::new(lo), Box::new(hi)),
                    Type::BOOL.nullable_if(nullable),
                    span,
                )
            }
            ExprKind::Within {
                operand,
                duration,
                anchor,
            } => {
                let t = self.expr(operand, ctx);
                self.expect_kind(&t, TypeKind::Time, "a time");
                let d = self.expr(duration, ctx);
                self.expect_kind(&d, TypeKind::Duration, "a duration");
                let mut nullable = t.ty.nullable || d.ty.nullable;
                let anchor = match anchor {
                    WindowAnchor::Past => Anchor::Past,
                    WindowAnchor::Next => Anchor::Next,
                    WindowAnchor::After(x) | WindowAnchor::Before(x) => {
                        let x_ir = self.expr(x, ctx);
                        self.expect_kind(&x_ir, TypeKind::Time, "a time");
                        nullable |= x_ir.ty.nullable;
                        if matches!(anchor, WindowAnchor::After(_)) {
                            Anchor::After(Box::new(x_ir))
                        } else {
                            Anchor::Before(Box::new(x_ir))
                        }
                    }
                };
                Ir::new(
                    IrKind::Within {
                        operand: Box::new(t),
                        duration: Box::new(d),
                        anchor,
                    },
                    Type::BOOL.nullable_if(nullable),
                    span,
                )
            }
            ExprKind::Matches {
                operand,
                pattern,
                pattern_span,
            } => {
                let s = self.expr(operand, ctx);
                self.expect_string(&s);
                let id = self.regex(pattern, *pattern_span);
                let nullable = s.ty.nullable;
                Ir::new(
                    IrKind::Matches(Box::new(s), id),
                    Type::BOOL.nullable_if(nullable),
                    span,
                )
            }
            ExprKind::If {
                condition,
                then,
                otherwise,
            } => {
                let c = self.condition(condition, ctx);
                let facts = non_null_facts(&c);
                let mark = ctx.narrowed.len();
                ctx.narrowed.extend(facts);
                let a = self.expr(then, ctx);
                ctx.narrowed.truncate(mark);
                let b = self.expr(otherwise, ctx);
                let ty = match a.ty.join(&b.ty) {
                    Some(t) => t,
                    None => {
                        self.error(
                            Diagnostic::error(
                                format!(
                                    "the branches of this `if` have different types: {} and {}",
                                    a.ty, b.ty
                                ),
                                span,
                                "both branches must give the same type",
                            )
                            .with_label(a.span, a.ty.a())
                            .with_label(b.span, b.ty.a()),
                        );
                        Type::ANY
                    }
                };
                Ir::new(IrKind::If(Box::new(c), Box::new(a), Box::new(b)), ty, span)
            }
            ExprKind::Where {
                list,
                binder,
                condition,
            } => {
                let (list_ir, name_filter) = self.list_operand(list, ctx);
                let element = self.element_type(&list_ir, name_filter.as_ref(), Some(condition));
                ctx.scopes.push(Scope {
                    binder: binder.as_ref().map(|b| b.name.clone()),
                    element: element.clone(),
                });
                let cond = self.condition(condition, ctx);
                ctx.scopes.pop();
                let filter = and_filters(name_filter, Some(cond));
                let ty = Type::list(element);
                Ir::new(
                    IrKind::Aggregate {
                        kind: AggKind::Filter,
                        list: Box::new(list_ir),
                        filter: filter.map(Box::new),
                        projection: None,
                    },
                    ty,
                    span,
                )
            }
        }
    }

    fn expect_kind(&mut self, ir: &Ir, want: TypeKind, words: &str) {
        if ir.ty.kind != want && !matches!(ir.ty.kind, TypeKind::Any | TypeKind::Null) {
            self.error(Diagnostic::error(
                format!("expected {words}, but this is {}", ir.ty.a()),
                ir.span,
                ir.ty.a(),
            ));
        }
    }

    fn expect_string(&mut self, ir: &Ir) {
        if !ir.ty.is_string() && !matches!(ir.ty.kind, TypeKind::Any | TypeKind::Null) {
            self.error(Diagnostic::error(
                format!("expected a string, but this is {}", ir.ty.a()),
                ir.span,
                ir.ty.a(),
            ));
        }
    }

    fn string(&mut self, parts: &[StrPart], span: Span, ctx: &mut ExprCtx) -> Ir {
        if let [StrPart::Text(text)] = parts {
            return Ir::new(IrKind::Const(Value::str(text)), Type::STR, span);
        }
        if parts.iter().all(|p| matches!(p, StrPart::Text(_))) {
            let text: String = parts
                .iter()
                .map(|p| match p {
                    StrPart::Text(t) => t.as_str(),
                    StrPart::Expr(_) => "",
                })
                .collect();
            return Ir::new(IrKind::Const(Value::str(&text)), Type::STR, span);
        }
        let mut out = Vec::new();
        let mut nullable = false;
        for p in parts {
            match p {
                StrPart::Text(t) if t.is_empty() => {}
                StrPart::Text(t) => {
                    out.push(Ir::new(IrKind::Const(Value::str(t)), Type::STR, span))
                }
                StrPart::Expr(e) => {
                    let ir = self.expr(e, ctx);
                    if ir.ty.nullable && !matches!(ir.ty.kind, TypeKind::Any) {
                        self.warn(Diagnostic::warning(
                            "this value may be null, which makes the whole string null",
                            ir.span,
                            ir.ty.a(),
                        ).with_help("give a fallback with `??`, e.g. `{x ?? \"there\"}`, or guard the branch with `x is not null`"));
                    }
                    nullable |= ir.ty.nullable;
                    out.push(ir);
                }
            }
        }
        Ir::new(
            IrKind::Interpolate(out),
            Type::STR.nullable_if(nullable),
            span,
        )
    }

    /// Whether an AST expression is a chain of fields from a bare name that
    /// resolves to the profile; returns the path segments.
    fn profile_path(&self, e: &Expr, ctx: &ExprCtx) -> Option<Vec<(String, Span)>> {
        match &e.kind {
            ExprKind::Name(id) => {
                if self.is_local_name(&id.name, ctx) {
                    return None;
                }
                Some(vec![(id.name.clone(), id.span)])
            }
            ExprKind::Field(base, f) => {
                let mut p = self.profile_path(base, ctx)?;
                p.push((f.name.clone(), f.span));
                Some(p)
            }
            ExprKind::Index(base, idx) => {
                let ExprKind::Str(parts) = &idx.kind else {
                    return None;
                };
                let [StrPart::Text(key)] = parts.as_slice() else {
                    return None;
                };
                let mut p = self.profile_path(base, ctx)?;
                p.push((key.clone(), idx.span));
                Some(p)
            }
            _ => None,
        }
    }

    fn is_local_name(&self, name: &str, ctx: &ExprCtx) -> bool {
        ctx.scopes.iter().any(|s| s.binder.as_deref() == Some(name))
            || self.rule_index.contains_key(name)
    }

    fn peek_nullable_path(&mut self, e: &Expr, ctx: &ExprCtx) -> bool {
        match self.profile_path(e, ctx) {
            Some(path) if self.schema.has_fields => {
                let segs: Vec<&str> = path.iter().map(|(s, _)| s.as_str()).collect();
                matches!(self.schema.lookup(&segs), Lookup::Found(t) if t.nullable && !t.is_any())
            }
            _ => false,
        }
    }

    /// A slot for a profile path, with its schema type (errors for paths
    /// the schema does not have).
    pub(crate) fn slot_for_path(
        &mut self,
        path: &[(String, Span)],
        span: Span,
        narrowed: &[NarrowKey],
    ) -> Ir {
        let names: Vec<&str> = path.iter().map(|(s, _)| s.as_str()).collect();
        let ty = if names.first().is_some_and(|n| self.lost_names.contains(*n)) {
            // A rule that did not parse: its syntax error says enough.
            Type::ANY
        } else if self.schema.has_fields {
            match self.schema.lookup(&names) {
                Lookup::Found(t) => t,
                Lookup::Missing { .. } if self.schema_lost => Type::ANY,
                Lookup::Missing {
                    valid_prefix,
                    candidates,
                } => {
                    let (bad, bad_span) = &path[valid_prefix];
                    let full = names.join(".");
                    let mut cands: Vec<&str> = candidates.names().collect();
                    if valid_prefix == 0 {
                        cands.extend(self.rule_names.iter().map(|s| s.as_str()));
                    }
                    let mut d = Diagnostic::error(
                        format!("unknown field `{full}`"),
                        *bad_span,
                        if valid_prefix == 0 {
                            format!("`{bad}` is not a rule name and not in the schema")
                        } else {
                            format!(
                                "`{}` has no field `{bad}` in the schema",
                                names[..valid_prefix].join(".")
                            )
                        },
                    );
                    if let Some(s) = closest(bad, cands) {
                        let mut fixed: Vec<&str> = names.clone();
                        fixed[valid_prefix] = s;
                        d = d.with_help(format!(
                            "did you mean `{}`?",
                            fixed[..=valid_prefix].join(".")
                        ));
                    } else {
                        d = d.with_note("every field a rule reads must be declared in the schema");
                    }
                    self.error(d);
                    Type::ANY
                }
                Lookup::NotAnObject { valid_prefix, ty } => {
                    let (_, bad_span) = &path[valid_prefix];
                    self.error(Diagnostic::error(
                        format!(
                            "`{}` is {}, which has no fields",
                            names[..valid_prefix].join("."),
                            ty.a()
                        ),
                        *bad_span,
                        "no such field",
                    ));
                    Type::ANY
                }
            }
        } else {
            if path.len() == 1 {
                let name = &path[0].0;
                if let Some(s) = closest(name, self.rule_names.iter().map(|s| s.as_str())) {
                    self.warn(
                        Diagnostic::warning(
                            format!("`{name}` is read from the profile, but a rule is named `{s}`"),
                            path[0].1,
                            "read as a profile field",
                        )
                        .with_help(format!("did you mean `{s}`?")),
                    );
                }
            }
            Type::ANY
        };
        let id = self.slot(&names, ty.clone());
        let ty = if narrowed.contains(&NarrowKey::Slot(id)) {
            ty.non_null()
        } else {
            ty
        };
        Ir::new(IrKind::Slot(id), ty, span)
    }

    fn name(&mut self, id: &Ident, ctx: &mut ExprCtx) -> Ir {
        let span = id.span;
        // `as e` binders, innermost first.
        for (depth, scope) in ctx.scopes.iter().rev().enumerate() {
            if scope.binder.as_deref() == Some(id.name.as_str()) {
                return Ir::new(IrKind::Element(depth as u32), scope.element.clone(), span);
            }
        }
        if ctx.actions && id.name == "actions" && !self.rule_index.contains_key("actions") {
            let action = Type::of(TypeKind::Record(Arc::from(vec![
                (Arc::from("trigger"), Type::STR),
                (Arc::from("action"), Type::STR),
                (Arc::from("payload"), Type::of(TypeKind::Map)),
            ])));
            return Ir::new(IrKind::Actions, Type::list(action), span);
        }
        if let Some(&rule) = self.rule_index.get(id.name.as_str()) {
            let ty = self.rule_type(rule, span);
            let narrowed = ctx.narrowed.contains(&NarrowKey::Rule(rule));
            let ty = if narrowed { ty.non_null() } else { ty };
            return Ir::new(IrKind::Rule(rule), ty, span);
        }
        self.slot_for_path(&[(id.name.clone(), span)], span, &ctx.narrowed)
    }

    fn field_of(&mut self, base: Ir, field: &Ident, span: Span) -> Ir {
        let ty = match base.ty.field(&field.name) {
            Some(t) => t,
            None => {
                let mut d = Diagnostic::error(
                    format!("{} has no field `{}`", base.ty.a(), field.name),
                    field.span,
                    "no such field",
                );
                if let TypeKind::Record(fields) = &base.ty.kind {
                    if let Some(s) = closest(&field.name, fields.iter().map(|(n, _)| &**n)) {
                        d = d.with_help(format!("did you mean `{s}`?"));
                    } else {
                        let names: Vec<&str> = fields.iter().map(|(n, _)| &**n).collect();
                        d = d.with_note(format!("its fields are: {}", names.join(", ")));
                    }
                }
                self.error(d);
                Type::ANY
            }
        };
        Ir::new(
            IrKind::Field(Box::new(base), Arc::from(field.name.as_str())),
            ty,
            span,
        )
    }

    fn warn_never_null(&mut self, ir: &Ir, span: Span) {
        if let IrKind::Slot(s) = ir.kind {
            if self.schema.has_fields && !ir.ty.nullable {
                let path = self.slots[s as usize].path.join(".");
                self.warn(
                    Diagnostic::warning(
                        format!("`{path}` is never null: the schema declares it non-nullable"),
                        span,
                        "this test is always the same",
                    )
                    .with_help(format!(
                        "declare it as nullable (`{path}: {}?`) if it can be missing",
                        ir.ty
                    )),
                );
            }
        }
    }

    fn check_ordering(&mut self, a: &Ir, b: &Ir, span: Span) {
        let (fa, fb) = (a.ty.family(), b.ty.family());
        if let (Some(x), Some(y)) = (fa, fb) {
            if x != y || !a.ty.is_ordered() {
                self.error(
                    Diagnostic::error(
                        format!("cannot order {} against {}", a.ty.a(), b.ty.a()),
                        span,
                        "these are not comparable",
                    )
                    .with_label(a.span, a.ty.a())
                    .with_label(b.span, b.ty.a()),
                );
            }
        } else if let Some(x) = fa.or(fb) {
            let t = if fa.is_some() { &a.ty } else { &b.ty };
            if !t.is_ordered() {
                self.error(Diagnostic::error(
                    format!("{} has no order", t.a()),
                    span,
                    format!("only numbers, strings, times, durations and versions are ordered, not {x}s"),
                ));
            }
        }
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        lhs: &Expr,
        rhs: &Expr,
        span: Span,
        ctx: &mut ExprCtx,
    ) -> Ir {
        match op {
            BinaryOp::And | BinaryOp::Or => {
                let a = self.condition(lhs, ctx);
                let mark = ctx.narrowed.len();
                if op == BinaryOp::And {
                    ctx.narrowed.extend(non_null_facts(&a));
                }
                let b = self.condition(rhs, ctx);
                ctx.narrowed.truncate(mark);
                if op == BinaryOp::And {
                    self.check_contradiction(&a, &b, span);
                }
                return Ir::new(
                    IrKind::Binary(op, Box::new(a), Box::new(b)),
                    Type::BOOL,
                    span,
                );
            }
            BinaryOp::Coalesce => {
                let a = self.expr(lhs, ctx);
                let b = self.expr(rhs, ctx);
                let ty = match a.ty.join(&b.ty) {
                    Some(t) => t.nullable_if(false).non_null().nullable_if(b.ty.nullable),
                    None => {
                        self.error(
                            Diagnostic::error(
                                format!(
                                    "`??` needs a fallback of the same type: {} and {}",
                                    a.ty, b.ty
                                ),
                                span,
                                "types differ",
                            )
                            .with_label(a.span, a.ty.a())
                            .with_label(b.span, b.ty.a()),
                        );
                        Type::ANY
                    }
                };
                return Ir::new(IrKind::Binary(op, Box::new(a), Box::new(b)), ty, span);
            }
            _ => {}
        }
        let a = self.expr(lhs, ctx);
        let b = self.expr(rhs, ctx);
        let nullable = a.ty.nullable || b.ty.nullable;
        let ty = match op {
            BinaryOp::Eq | BinaryOp::Ne => {
                self.check_equality(&a, &b, span);
                if matches!(a.ty.kind, TypeKind::Null) {
                    self.warn_never_null(&b, span);
                } else if matches!(b.ty.kind, TypeKind::Null) {
                    self.warn_never_null(&a, span);
                }
                Type::BOOL
            }
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                self.check_ordering(&a, &b, span);
                Type::BOOL.nullable_if(nullable)
            }
            BinaryOp::In | BinaryOp::NotIn => {
                self.check_membership(&a, &b, span);
                Type::BOOL
            }
            BinaryOp::Contains => match &a.ty.kind {
                TypeKind::List(_) => {
                    self.check_membership(&b, &a, span);
                    Type::BOOL
                }
                _ => {
                    self.expect_string(&a);
                    if !matches!(a.ty.kind, TypeKind::Any) {
                        self.expect_string(&b);
                    }
                    Type::BOOL.nullable_if(nullable)
                }
            },
            BinaryOp::StartsWith | BinaryOp::EndsWith => {
                self.expect_string(&a);
                self.expect_string(&b);
                Type::BOOL.nullable_if(nullable)
            }
            BinaryOp::HasAny | BinaryOp::HasAll => {
                for x in [&a, &b] {
                    if !matches!(
                        x.ty.kind,
                        TypeKind::List(_) | TypeKind::Any | TypeKind::Null
                    ) {
                        self.error(Diagnostic::error(
                            format!(
                                "`{}` takes lists on both sides, but this is {}",
                                op.symbol(),
                                x.ty.a()
                            ),
                            x.span,
                            x.ty.a(),
                        ));
                    }
                }
                Type::BOOL
            }
            _ => match arithmetic_type(op, &a.ty, &b.ty) {
                Ok(t) => t.nullable_if(nullable),
                Err(msg) => {
                    let mut d = Diagnostic::error(
                        msg,
                        span,
                        format!("`{}` does not apply here", op.symbol()),
                    )
                    .with_label(a.span, a.ty.a())
                    .with_label(b.span, b.ty.a());
                    if op == BinaryOp::Add && (a.ty.is_string() || b.ty.is_string()) {
                        d = d.with_help("`+` does not join strings; use interpolation: \"{a}{b}\"");
                    }
                    self.error(d);
                    Type::ANY
                }
            },
        };
        Ir::new(IrKind::Binary(op, Box::new(a), Box::new(b)), ty, span)
    }

    fn check_equality(&mut self, a: &Ir, b: &Ir, span: Span) {
        if let (Some(x), Some(y)) = (a.ty.family(), b.ty.family()) {
            if x != y {
                self.error(
                    Diagnostic::error(
                        format!("comparing {} with {} is always false", a.ty.a(), b.ty.a()),
                        span,
                        "different types never compare equal",
                    )
                    .with_label(a.span, a.ty.a())
                    .with_label(b.span, b.ty.a()),
                );
                return;
            }
        }
        self.check_literal_member(a, b);
        self.check_literal_member(b, a);
        // `.name == "sesion_start"` over events: the name must be declared.
        for (field, literal) in [(a, b), (b, a)] {
            if let IrKind::Const(Value::Str(name)) = &literal.kind {
                if self.reads_event_name(field) {
                    self.check_event_name(name, literal.span);
                }
            }
        }
    }

    /// Whether `ir` reads the `name` of an event: `.name` in a filter,
    /// `event.name`, `first(events).name`, `events[0].name`, `e.name` with
    /// `as e`, ... — any `name` field of a value of the events' element type
    /// (§4: every event name a rule compares `.name` with must be declared).
    fn reads_event_name(&self, ir: &Ir) -> bool {
        let IrKind::Field(base, f) = &ir.kind else {
            return false;
        };
        if &**f != "name" {
            return false;
        }
        // A list element or the incoming event has the events' element type
        // whenever it is one (without a typed `events`, both are untyped or
        // the default record); any other expression must be the record.
        let element = matches!(base.kind, IrKind::Element(_) | IrKind::Event);
        (element || matches!(base.ty.kind, TypeKind::Record(_))) && self.is_event_type(&base.ty)
    }

    /// Whether `ty` is the events' element type, possibly with `props` typed
    /// for one declared event (inside a trigger on it, or after
    /// `.name == "x"`).
    fn is_event_type(&self, ty: &Type) -> bool {
        let without_props = |t: &Type| match &t.kind {
            TypeKind::Record(fields) => Some(
                fields
                    .iter()
                    .filter(|(n, _)| &**n != "props")
                    .cloned()
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        };
        match (without_props(ty), without_props(&self.event_type)) {
            (Some(x), Some(y)) => x == y,
            _ => ty.clone().non_null() == self.event_type.clone().non_null(),
        }
    }

    /// A string literal compared with an enum-typed value (schema enum,
    /// experiment, decision with literal values) must be one of its members.
    fn check_literal_member(&mut self, typed: &Ir, literal: &Ir) {
        let TypeKind::Enum(members) = &typed.ty.kind else {
            return;
        };
        let IrKind::Const(Value::Str(s)) = &literal.kind else {
            return;
        };
        if members.iter().any(|m| **m == **s) {
            return;
        }
        let list = members
            .iter()
            .map(|m| format!("\"{m}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let suggestion = closest(s, members.iter().map(|m| m.as_str()));
        match typed.kind {
            IrKind::Rule(r) => {
                let what = match self.rule_kinds[r as usize] {
                    RuleKind::Experiment => "variant of this experiment",
                    _ => "value this decision can return",
                };
                let mut d = Diagnostic::warning(
                    format!("\"{s}\" is not a {what}, so this comparison is never true"),
                    literal.span,
                    format!("possible values: {list}"),
                );
                if let Some(x) = suggestion {
                    d = d.with_help(format!("did you mean \"{x}\"?"));
                }
                self.warn(d);
            }
            _ => {
                let mut d = Diagnostic::error(
                    format!("\"{s}\" is not one of the allowed values"),
                    literal.span,
                    format!("allowed: {list}"),
                );
                if let Some(x) = suggestion {
                    d = d.with_help(format!("did you mean \"{x}\"?"));
                }
                self.error(d);
            }
        }
    }

    fn check_membership(&mut self, x: &Ir, list: &Ir, span: Span) {
        match &list.ty.kind {
            TypeKind::List(elem) => {
                if let (Some(a), Some(b)) = (x.ty.family(), elem.family()) {
                    if a != b {
                        self.error(
                            Diagnostic::error(
                                format!("{} is never in a list<{}>", x.ty.a(), elem),
                                span,
                                "element types differ",
                            )
                            .with_label(x.span, x.ty.a())
                            .with_label(list.span, format!("a list<{elem}>")),
                        );
                        return;
                    }
                }
                if let IrKind::List(items) = &list.kind {
                    let event_name = self.reads_event_name(x);
                    for item in items {
                        self.check_literal_member(x, item);
                        if let (true, IrKind::Const(Value::Str(name))) = (event_name, &item.kind) {
                            self.check_event_name(name, item.span);
                        }
                    }
                }
            }
            TypeKind::Any | TypeKind::Null => {}
            _ => {
                self.error(Diagnostic::error(
                    format!(
                        "`in` needs a list on its right, but this is {}",
                        list.ty.a()
                    ),
                    list.span,
                    list.ty.a(),
                ));
            }
        }
    }

    /// `x < 18 and x > 65`: constant comparisons on one path that cannot
    /// both hold.
    fn check_contradiction(&mut self, a: &Ir, b: &Ir, span: Span) {
        fn bound(ir: &Ir) -> Option<(u32, BinaryOp, f64)> {
            let IrKind::Binary(op, l, r) = &ir.kind else {
                return None;
            };
            let IrKind::Slot(s) = l.kind else { return None };
            let c = match &r.kind {
                IrKind::Const(Value::Int(i)) => *i as f64,
                IrKind::Const(Value::Float(f)) => *f,
                _ => return None,
            };
            Some((s, *op, c))
        }
        let (Some((sa, oa, ca)), Some((sb, ob, cb))) = (bound(a), bound(b)) else {
            return;
        };
        if sa != sb {
            return;
        }
        let upper = |op: BinaryOp, c: f64| match op {
            BinaryOp::Lt => Some((c, false)),
            BinaryOp::Le => Some((c, true)),
            BinaryOp::Eq => Some((c, true)),
            _ => None,
        };
        let lower = |op: BinaryOp, c: f64| match op {
            BinaryOp::Gt => Some((c, false)),
            BinaryOp::Ge => Some((c, true)),
            BinaryOp::Eq => Some((c, true)),
            _ => None,
        };
        let empty = |up: Option<(f64, bool)>, lo: Option<(f64, bool)>| match (up, lo) {
            (Some((u, ui)), Some((l, li))) => u < l || (u == l && !(ui && li)),
            _ => false,
        };
        if empty(upper(oa, ca), lower(ob, cb)) || empty(upper(ob, cb), lower(oa, ca)) {
            self.warn(
                Diagnostic::warning(
                    "this condition can never be true",
                    span,
                    "the two comparisons do not overlap",
                )
                .with_label(a.span, "this")
                .with_label(b.span, "and this cannot both hold"),
            );
        }
    }

    fn regex(&mut self, pattern: &str, span: Span) -> u32 {
        if let Some(&i) = self.regex_index.get(pattern) {
            return i;
        }
        match regex::RegexBuilder::new(pattern)
            .size_limit(self.limits.max_regex_bytes)
            .build()
        {
            Ok(re) => {
                self.regexes.push(re);
                let id = self.regexes.len() as u32 - 1;
                self.regex_index.insert(pattern.to_string(), id);
                id
            }
            Err(err) => {
                let msg = match err {
                    regex::Error::CompiledTooBig(limit) => {
                        format!("this pattern is too large (limit {limit} bytes compiled)")
                    }
                    regex::Error::Syntax(s) => s
                        .lines()
                        .last()
                        .unwrap_or("")
                        .trim_start_matches("error: ")
                        .to_string(),
                    _ => "invalid pattern".to_string(),
                };
                self.error(Diagnostic::error(
                    "invalid regex pattern",
                    span,
                    msg,
                ).with_note("patterns use the syntax of Rust's `regex` crate; only `\\\"` is an escape of the string itself"));
                // A never-matching placeholder keeps indices valid.
                self.regexes
                    .push(regex::Regex::new("[^\\s\\S]").expect("valid"));
                self.regexes.len() as u32 - 1
            }
        }
    }

    /// The type of a list's elements inside a filter or projection. Over
    /// `events`, a filter on one declared event name (`"feature_used"`, or
    /// `.name == "feature_used"` first in the condition) types `.props` as
    /// that event declares them (§4).
    fn element_type(&self, list: &Ir, filter: Option<&Ir>, condition: Option<&Expr>) -> Type {
        let element = list.ty.element();
        let IrKind::Slot(s) = list.kind else {
            return element;
        };
        if self.slots[s as usize].path.len() != 1 || &*self.slots[s as usize].path[0] != "events" {
            return element;
        }
        let name = filter
            .and_then(name_of_filter)
            .or_else(|| condition.and_then(name_of_condition));
        let Some(decl) = name.as_deref().and_then(|n| self.schema.event(n)) else {
            return element;
        };
        if decl.props.is_empty() {
            return element;
        }
        let TypeKind::Record(fields) = &element.kind else {
            return element;
        };
        let props = Type {
            kind: TypeKind::Record(Arc::from(decl.props.clone())),
            nullable: fields
                .iter()
                .find(|(n, _)| &**n == "props")
                .is_none_or(|(_, t)| t.nullable),
        };
        let mut fields: Vec<(Arc<str>, Type)> = fields.to_vec();
        match fields.iter_mut().find(|(n, _)| &**n == "props") {
            Some(f) => f.1 = props,
            None => fields.push((Arc::from("props"), props)),
        }
        Type {
            kind: TypeKind::Record(Arc::from(fields)),
            nullable: element.nullable,
        }
    }

    /// The list operand of an aggregate or `where`: a string literal means
    /// the events of that name (§3 shorthands).
    fn list_operand(&mut self, e: &Expr, ctx: &mut ExprCtx) -> (Ir, Option<Ir>) {
        if let ExprKind::Str(parts) = &e.kind {
            if let [StrPart::Text(name)] | [StrPart::Text(name), StrPart::Text(_)] =
                parts.as_slice()
            {
                self.check_event_name(name, e.span);
                let events = self.slot_for_path(&[("events".to_string(), e.span)], e.span, &[]);
                let elem = events.ty.element();
                let name_field = Ir::new(
                    IrKind::Field(
                        Box::new(Ir::new(IrKind::Element(0), elem.clone(), e.span)),
                        Arc::from("name"),
                    ),
                    elem.field("name").unwrap_or(Type::ANY),
                    e.span,
                );
                let filter = Ir::new(
                    IrKind::Binary(
                        BinaryOp::Eq,
                        Box::new(name_field),
                        Box::new(Ir::new(IrKind::Const(Value::str(name)), Type::STR, e.span)),
                    ),
                    Type::BOOL,
                    e.span,
                );
                if !matches!(events.ty.kind, TypeKind::List(_) | TypeKind::Any) {
                    self.error(Diagnostic::error(
                        format!("an event name here means `events where .name == \"{name}\"`, but `events` is {}", events.ty.a()),
                        e.span,
                        "needs `events: list<{ name: string, ... }>`",
                    ));
                }
                return (events, Some(filter));
            }
        }
        let ir = self.expr(e, ctx);
        if !matches!(
            ir.ty.kind,
            TypeKind::List(_) | TypeKind::Any | TypeKind::Null
        ) {
            self.error(Diagnostic::error(
                format!("expected a list, but this is {}", ir.ty.a()),
                ir.span,
                ir.ty.a(),
            ));
        }
        (ir, None)
    }

    pub(crate) fn check_event_name(&mut self, name: &str, span: Span) {
        if !self.schema.declares_events() || self.schema.event(name).is_some() || self.schema_lost {
            return;
        }
        let mut d = Diagnostic::error(
            format!("event \"{name}\" is not declared in the schema"),
            span,
            "undeclared event",
        );
        if let Some(s) = closest(name, self.schema.events.iter().map(|e| e.name.as_str())) {
            d = d.with_help(format!("did you mean \"{s}\"?"));
        } else {
            d = d.with_help(format!(
                "declare it: `event \"{name}\"` inside `schema {{ ... }}`"
            ));
        }
        self.error(d);
    }

    fn call(&mut self, function: &Ident, args: &[Expr], span: Span, ctx: &mut ExprCtx) -> Ir {
        let name = function.name.as_str();
        let is_two_number_minmax =
            (name == "min" || name == "max") && args.len() == 2 && !uses_element(&args[1]);
        if AGGREGATES.contains(&name) && name != "where" && !is_two_number_minmax {
            return self.aggregate(function, args, span, ctx);
        }
        if let Some(idx) = self.host.iter().position(|h| h.name == name) {
            let sig = &self.host[idx];
            let params = sig.params.clone();
            let ret = sig.ret.clone();
            if args.len() != params.len() {
                self.error(Diagnostic::error(
                    format!(
                        "`{name}` takes {} argument{}, but {} were given",
                        params.len(),
                        if params.len() == 1 { "" } else { "s" },
                        args.len()
                    ),
                    span,
                    "wrong number of arguments",
                ));
            }
            let irs: Vec<Ir> = args.iter().map(|a| self.expr(a, ctx)).collect();
            for (ir, p) in irs.iter().zip(params.iter()) {
                if ir.ty.join(p).is_none()
                    || (ir.ty.family().is_some()
                        && p.family().is_some()
                        && ir.ty.family() != p.family())
                {
                    self.error(Diagnostic::error(
                        format!("`{name}` expects a {p} here, but this is {}", ir.ty.a()),
                        ir.span,
                        ir.ty.a(),
                    ));
                }
            }
            let ty = ret.nullable();
            return Ir::new(IrKind::HostCall(idx as u32, irs), ty, span);
        }
        let Some(b) = builtin_by_name(name) else {
            let mut names: Vec<&str> = FUNCTION_NAMES.to_vec();
            names.extend(self.host.iter().map(|h| h.name.as_str()));
            let mut d = Diagnostic::error(
                format!("unknown function `{name}`"),
                function.span,
                "not a function",
            );
            if let Some(s) = closest(name, names) {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
            self.error(d);
            for a in args {
                self.expr(a, ctx);
            }
            return Ir::new(IrKind::Const(Value::Null), Type::ANY, span);
        };
        let b = match (name, b) {
            ("min", _) => Builtin::Min2,
            ("max", _) => Builtin::Max2,
            _ => b,
        };
        let irs: Vec<Ir> = args.iter().map(|a| self.expr(a, ctx)).collect();
        let ty = self.builtin_type(b, &irs, span);
        Ir::new(IrKind::Call(b, irs), ty, span)
    }

    fn arity(&mut self, name: &str, irs: &[Ir], min: usize, max: usize, span: Span) -> bool {
        if irs.len() < min || irs.len() > max {
            let want = if min == max {
                format!("{min}")
            } else {
                format!("{min} or {max}")
            };
            self.error(Diagnostic::error(
                format!(
                    "`{name}` takes {want} argument{}, but {} {} given",
                    if max == 1 { "" } else { "s" },
                    irs.len(),
                    if irs.len() == 1 { "was" } else { "were" }
                ),
                span,
                "wrong number of arguments",
            ));
            return false;
        }
        true
    }

    fn arg_is(&mut self, name: &str, ir: &Ir, ok: bool, want: &str) {
        if !ok && !matches!(ir.ty.kind, TypeKind::Any | TypeKind::Null) {
            self.error(Diagnostic::error(
                format!("`{name}` expects {want}, but this is {}", ir.ty.a()),
                ir.span,
                ir.ty.a(),
            ));
        }
    }

    fn builtin_type(&mut self, b: Builtin, irs: &[Ir], span: Span) -> Type {
        let name = b.name();
        let nullable = irs.iter().any(|i| i.ty.nullable);
        let k = |i: usize| {
            irs.get(i)
                .map(|x| x.ty.kind.clone())
                .unwrap_or(TypeKind::Any)
        };
        let ty = match b {
            Builtin::Lower | Builtin::Upper | Builtin::Trim | Builtin::Title => {
                if self.arity(name, irs, 1, 1, span) {
                    let ok = irs[0].ty.is_string();
                    self.arg_is(name, &irs[0], ok, "a string");
                }
                Type::STR
            }
            Builtin::Len => {
                if self.arity(name, irs, 1, 1, span) {
                    let ok = irs[0].ty.is_string() || matches!(k(0), TypeKind::List(_));
                    self.arg_is(name, &irs[0], ok, "a string or a list");
                }
                Type::INT
            }
            Builtin::Abs => {
                if self.arity(name, irs, 1, 1, span) {
                    let ok = irs[0].ty.is_number() || k(0) == TypeKind::Duration;
                    self.arg_is(name, &irs[0], ok, "a number");
                    irs[0].ty.clone().non_null()
                } else {
                    Type::ANY
                }
            }
            Builtin::Round | Builtin::Floor | Builtin::Ceil => {
                if self.arity(name, irs, 1, 1, span) {
                    let ok = irs[0].ty.is_number();
                    self.arg_is(name, &irs[0], ok, "a number");
                }
                Type::INT
            }
            Builtin::Min2 | Builtin::Max2 => {
                if self.arity(name, irs, 2, 2, span) {
                    self.check_ordering(&irs[0], &irs[1], span);
                    irs[0].ty.join(&irs[1].ty).unwrap_or(Type::ANY).non_null()
                } else {
                    Type::ANY
                }
            }
            Builtin::Semver => {
                if self.arity(name, irs, 1, 1, span) {
                    let ok = irs[0].ty.is_string();
                    self.arg_is(name, &irs[0], ok, "a string");
                }
                Type::of(TypeKind::Version)
            }
            Builtin::ToInt => {
                self.arity(name, irs, 1, 1, span);
                Type::INT
            }
            Builtin::ToFloat => {
                self.arity(name, irs, 1, 1, span);
                Type::FLOAT
            }
            Builtin::ToString => {
                self.arity(name, irs, 1, 1, span);
                Type::STR
            }
            Builtin::ToTime => {
                self.arity(name, irs, 1, 1, span);
                Type::TIME
            }
            Builtin::ToDuration => {
                self.arity(name, irs, 1, 1, span);
                Type::DURATION
            }
            Builtin::Days | Builtin::Hours | Builtin::Minutes => {
                if self.arity(name, irs, 1, 1, span) {
                    let ok = k(0) == TypeKind::Duration;
                    self.arg_is(name, &irs[0], ok, "a duration");
                }
                Type::FLOAT
            }
            Builtin::Ago => {
                if self.arity(name, irs, 1, 1, span) {
                    let ok = k(0) == TypeKind::Duration;
                    self.arg_is(name, &irs[0], ok, "a duration");
                }
                Type::TIME
            }
            Builtin::DaysSince | Builtin::HoursSince | Builtin::DaysUntil | Builtin::HoursUntil => {
                if self.arity(name, irs, 1, 1, span) {
                    let ok = k(0) == TypeKind::Time;
                    self.arg_is(name, &irs[0], ok, "a time");
                }
                Type::FLOAT
            }
            Builtin::Weekday | Builtin::HourOfDay | Builtin::Date => {
                if self.arity(name, irs, 1, 2, span) {
                    let ok = k(0) == TypeKind::Time;
                    self.arg_is(name, &irs[0], ok, "a time");
                    if irs.len() == 2 {
                        let ok = irs[1].ty.is_string();
                        self.arg_is(
                            name,
                            &irs[1],
                            ok,
                            "an IANA time zone name such as \"Europe/Berlin\"",
                        );
                    }
                }
                match b {
                    Builtin::Weekday => Type::of(TypeKind::Enum(Arc::from(
                        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
                            .map(String::from)
                            .to_vec(),
                    ))),
                    Builtin::HourOfDay => Type::INT,
                    _ => Type::TIME,
                }
            }
        };
        ty.nullable_if(nullable || irs.iter().any(|i| i.ty.is_any()))
    }

    fn aggregate(&mut self, function: &Ident, args: &[Expr], span: Span, ctx: &mut ExprCtx) -> Ir {
        let name = function.name.as_str();
        let kind = match name {
            "count" => AggKind::Count,
            "exists" | "any" => AggKind::Exists,
            "all" => AggKind::All,
            "sum" => AggKind::Sum,
            "avg" => AggKind::Avg,
            "min" => AggKind::Min,
            "max" => AggKind::Max,
            "first" => AggKind::First,
            "last" => AggKind::Last,
            _ => AggKind::Distinct,
        };
        let (second_is_condition, max_args, needs_second) = match kind {
            AggKind::Count | AggKind::Exists => (true, 2, false),
            AggKind::All => (true, 2, true),
            AggKind::First | AggKind::Last => (true, 2, false),
            _ => (false, 2, false),
        };
        if args.is_empty() || args.len() > max_args || (needs_second && args.len() < 2) {
            let want = if needs_second {
                "a list and a condition"
            } else {
                "a list and optionally one more argument"
            };
            self.error(Diagnostic::error(
                format!(
                    "`{name}` takes {want}, but {} argument{} given",
                    args.len(),
                    if args.len() == 1 { " was" } else { "s were" }
                ),
                span,
                "wrong number of arguments",
            ));
            return Ir::new(IrKind::Const(Value::Null), Type::ANY, span);
        }
        // The list, with an optional filter from `where` or an event name.
        let (list_ir, mut filter, binder) = match &args[0].kind {
            ExprKind::Where {
                list,
                binder,
                condition,
            } => {
                let (l, name_filter) = self.list_operand(list, ctx);
                let element = self.element_type(&l, name_filter.as_ref(), Some(condition));
                ctx.scopes.push(Scope {
                    binder: binder.as_ref().map(|b| b.name.clone()),
                    element,
                });
                let c = self.condition(condition, ctx);
                ctx.scopes.pop();
                (
                    l,
                    and_filters(name_filter, Some(c)),
                    binder.as_ref().map(|b| b.name.clone()),
                )
            }
            _ => {
                let (l, f) = self.list_operand(&args[0], ctx);
                (l, f, None)
            }
        };
        let element = self.element_type(&list_ir, filter.as_ref(), None);
        let mut projection = None;
        if let Some(second) = args.get(1) {
            ctx.scopes.push(Scope {
                binder,
                element: element.clone(),
            });
            if second_is_condition {
                let c = self.condition(second, ctx);
                filter = match kind {
                    // `all(xs where f, cond)`: the filter selects, the condition must hold.
                    AggKind::All => {
                        ctx.scopes.pop();
                        let ty = Type::BOOL;
                        return Ir::new(
                            IrKind::Aggregate {
                                kind,
                                list: Box::new(list_ir),
                                filter: filter.map(Box::new),
                                projection: Some(Box::new(c)),
                            },
                            ty,
                            span,
                        );
                    }
                    _ => and_filters(filter, Some(c)),
                };
            } else {
                projection = Some(self.expr(second, ctx));
            }
            ctx.scopes.pop();
        }
        let value_ty = projection
            .as_ref()
            .map(|p| p.ty.clone())
            .unwrap_or_else(|| element.clone());
        let ty = match kind {
            AggKind::Count => Type::INT,
            AggKind::Exists | AggKind::All => Type::BOOL,
            AggKind::Sum => {
                if !(value_ty.is_number()
                    || value_ty.is_any()
                    || value_ty.kind == TypeKind::Duration)
                {
                    self.error(
                        Diagnostic::error(
                            format!(
                                "`sum` adds numbers or durations, but the values here are {}",
                                value_ty
                            ),
                            projection.as_ref().map(|p| p.span).unwrap_or(span),
                            "not summable",
                        )
                        .with_help("give a projection: `sum(xs, .amount)`"),
                    );
                }
                value_ty.non_null().nullable()
            }
            AggKind::Avg => {
                if !(value_ty.is_number() || value_ty.is_any()) {
                    self.error(Diagnostic::error(
                        format!(
                            "`avg` averages numbers, but the values here are {}",
                            value_ty
                        ),
                        projection.as_ref().map(|p| p.span).unwrap_or(span),
                        "not numbers",
                    ));
                }
                Type::FLOAT.nullable()
            }
            AggKind::Min | AggKind::Max => {
                if !value_ty.is_ordered() {
                    self.error(Diagnostic::error(
                        format!("`{name}` needs ordered values, but these are {}", value_ty),
                        projection.as_ref().map(|p| p.span).unwrap_or(span),
                        "not ordered",
                    ));
                }
                value_ty.nullable()
            }
            AggKind::First | AggKind::Last => element.clone().nullable(),
            AggKind::Distinct => Type::list(value_ty.non_null()),
            AggKind::Filter => Type::list(element.clone()),
        };
        Ir::new(
            IrKind::Aggregate {
                kind,
                list: Box::new(list_ir),
                filter: filter.map(Box::new),
                projection: projection.map(Box::new),
            },
            ty,
            span,
        )
    }
}

/// Result type of an arithmetic operator on known types.
pub fn arithmetic_type(op: BinaryOp, a: &Type, b: &Type) -> Result<Type, String> {
    use TypeKind::*;
    let any = |t: &Type| matches!(t.kind, Any | Null);
    if any(a) && any(b) {
        return Ok(match op {
            BinaryOp::Div => Type::ANY,
            _ => Type::ANY,
        });
    }
    let (ka, kb) = (&a.kind, &b.kind);
    let t = match (op, ka, kb) {
        (_, Any | Null, _) | (_, _, Any | Null) => {
            let known = if any(a) { b } else { a };
            let fits = matches!(known.kind, Int | Float | Time | Duration);
            if !fits {
                return Err(format!("`{}` does not apply to {}", op.symbol(), known.a()));
            }
            Type::ANY
        }
        (BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul, Int, Int) => Type::INT,
        (BinaryOp::Rem, Int, Int) => Type::INT,
        (
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Rem,
            Int | Float,
            Int | Float,
        ) => Type::FLOAT,
        (BinaryOp::Div, Int | Float, Int | Float) => Type::FLOAT,
        (BinaryOp::Add, Time, Duration)
        | (BinaryOp::Add, Duration, Time)
        | (BinaryOp::Sub, Time, Duration) => Type::TIME,
        (BinaryOp::Sub, Time, Time) => Type::DURATION,
        (BinaryOp::Add | BinaryOp::Sub, Duration, Duration) => Type::DURATION,
        (BinaryOp::Mul, Duration, Int | Float) | (BinaryOp::Mul, Int | Float, Duration) => {
            Type::DURATION
        }
        (BinaryOp::Div, Duration, Int | Float) => Type::DURATION,
        (BinaryOp::Div, Duration, Duration) => Type::FLOAT,
        _ => {
            return Err(format!(
                "cannot apply `{}` to {} and {}",
                op.symbol(),
                a.a(),
                b.a()
            ))
        }
    };
    Ok(t)
}

/// Paths a condition proves non-null when it is true.
pub fn non_null_facts(ir: &Ir) -> Vec<NarrowKey> {
    let key = |x: &Ir| match x.kind {
        IrKind::Slot(s) => Some(NarrowKey::Slot(s)),
        IrKind::Rule(r) => Some(NarrowKey::Rule(r)),
        _ => None,
    };
    match &ir.kind {
        IrKind::IsNull(x, true) => key(x).into_iter().collect(),
        IrKind::Binary(BinaryOp::Ne, a, b) => match (&a.kind, &b.kind) {
            (_, IrKind::Const(Value::Null)) => key(a).into_iter().collect(),
            (IrKind::Const(Value::Null), _) => key(b).into_iter().collect(),
            _ => Vec::new(),
        },
        IrKind::Binary(BinaryOp::And, a, b) => {
            let mut v = non_null_facts(a);
            v.extend(non_null_facts(b));
            v
        }
        IrKind::Unary(UnaryOp::Not, x) => match &x.kind {
            IrKind::IsNull(y, false) => key(y).into_iter().collect(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// `.name == "x"` (possibly first in an `and`) in checked form.
fn name_of_filter(ir: &Ir) -> Option<String> {
    match &ir.kind {
        IrKind::Binary(BinaryOp::And, a, _) => name_of_filter(a),
        IrKind::Binary(BinaryOp::Eq, a, b) => match (&a.kind, &b.kind) {
            (IrKind::Field(base, f), IrKind::Const(Value::Str(v)))
                if &**f == "name" && matches!(base.kind, IrKind::Element(0)) =>
            {
                Some(v.to_string())
            }
            _ => None,
        },
        _ => None,
    }
}

/// `.name == "x"` (possibly first in an `and`) as written.
fn name_of_condition(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Binary(BinaryOp::And, a, _) => name_of_condition(a),
        ExprKind::Binary(BinaryOp::Eq, a, b) => match (&a.kind, &b.kind) {
            (ExprKind::ElementField(f), ExprKind::Str(parts)) if f.name == "name" => {
                match parts.as_slice() {
                    [StrPart::Text(t)] => Some(t.clone()),
                    _ => None,
                }
            }
            _ => None,
        },
        _ => None,
    }
}

fn and_filters(a: Option<Ir>, b: Option<Ir>) -> Option<Ir> {
    match (a, b) {
        (Some(a), Some(b)) => {
            let span = a.span.to(b.span);
            Some(Ir::new(
                IrKind::Binary(BinaryOp::And, Box::new(a), Box::new(b)),
                Type::BOOL,
                span,
            ))
        }
        (a, None) => a,
        (None, b) => b,
    }
}

/// Whether an expression reads the current element (a leading dot or `it`)
/// outside any nested `where`.
fn uses_element(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::It | ExprKind::ElementField(_) => true,
        ExprKind::Field(b, _) => uses_element(b),
        ExprKind::Index(a, b) => uses_element(a) || uses_element(b),
        ExprKind::Call { args, .. } => args.iter().any(uses_element),
        ExprKind::Unary(_, a) => uses_element(a),
        ExprKind::Binary(_, a, b) => uses_element(a) || uses_element(b),
        ExprKind::IsNull { operand, .. } => uses_element(operand),
        ExprKind::Between { operand, low, high } => {
            uses_element(operand) || uses_element(low) || uses_element(high)
        }
        ExprKind::Within {
            operand, duration, ..
        } => uses_element(operand) || uses_element(duration),
        ExprKind::Matches { operand, .. } => uses_element(operand),
        ExprKind::If {
            condition,
            then,
            otherwise,
        } => uses_element(condition) || uses_element(then) || uses_element(otherwise),
        ExprKind::List(xs) => xs.iter().any(uses_element),
        ExprKind::Map(xs) => xs.iter().any(|(_, v)| uses_element(v)),
        ExprKind::Str(parts) => parts
            .iter()
            .any(|p| matches!(p, StrPart::Expr(e) if uses_element(e))),
        ExprKind::Where { list, .. } => uses_element(list),
        _ => false,
    }
}
