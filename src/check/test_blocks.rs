//! Checking of `test` blocks (LANGUAGE.md §10, §14 "Tests").
//!
//! Each block becomes a [`CheckedTest`]: its `now`, the profile it is given
//! (a literal or a file, with overrides), forced variants, the incoming
//! event, and its expectations with their direct sub-expressions (shown when
//! an expectation fails).

use super::expr::ExprCtx;
use super::ir::{Anchor, Builtin, Ir, IrKind, RuleBody, RuleId};
use super::schema::Lookup;
use super::suggest::closest;
use super::types::{Type, TypeKind};
use super::{Checker, TestBlock};
use crate::diagnostic::Diagnostic;
use crate::span::{FileId, Span};
use crate::syntax::ast::{self, TestStmtKind};
use crate::value::Value;

/// Where a test's profile comes from.
#[derive(Clone, Debug)]
pub enum GivenProfile {
    /// `given { ... }`: a map expression (may read `now`).
    Literal(Ir),
    /// `given file "p.json"`: the path as written, relative to the file
    /// holding the test.
    File(String, Span),
    /// No `given`: an empty profile.
    Empty,
}

/// One `expect`.
#[derive(Clone, Debug)]
pub struct CheckedExpect {
    /// The expectation.
    pub ir: Ir,
    /// Its direct sub-expressions, labelled, shown when it fails.
    pub parts: Vec<(String, Ir)>,
}

/// A checked `test` block.
#[derive(Clone, Debug)]
pub struct CheckedTest {
    /// The description.
    pub name: String,
    /// The file holding it.
    pub file: FileId,
    /// The whole block.
    pub span: Span,
    /// The test's `now` (epoch ms), if stated.
    pub now: Option<i64>,
    /// The profile.
    pub given: GivenProfile,
    /// `with { path: value }` overrides, in order.
    pub overrides: Vec<(Vec<String>, Ir)>,
    /// `given variant` pins: experiment name and variant.
    pub variants: Vec<(String, String)>,
    /// `given event { ... }`.
    pub event: Option<Ir>,
    /// The expectations.
    pub expects: Vec<CheckedExpect>,
}

impl Checker<'_> {
    pub(crate) fn check_test(&mut self, block: &TestBlock<'_>) -> CheckedTest {
        let def = block.def;
        let mut test = CheckedTest {
            name: def.name.value.clone(),
            file: block.file,
            span: block.span,
            now: None,
            given: GivenProfile::Empty,
            overrides: Vec::new(),
            variants: Vec::new(),
            event: None,
            expects: Vec::new(),
        };
        let mut given_span: Option<Span> = None;
        // Where each `expect` stands, for "depends on the clock" below.
        let mut expect_spans: Vec<Span> = Vec::new();
        for stmt in &def.body {
            let mut ctx = ExprCtx::default();
            match &stmt.kind {
                TestStmtKind::Now(e) => {
                    let ir = self.expr(e, &mut ctx);
                    match crate::compile::constant_value(&ir) {
                        Some(Value::Time(t)) => test.now = Some(t),
                        _ => self.error(
                            Diagnostic::error(
                                "a test's `now` must be a time literal",
                                e.span,
                                "not a constant time",
                            )
                            .with_help("write e.g. `now @2026-11-20T12:00:00Z`"),
                        ),
                    }
                }
                TestStmtKind::GivenLiteral { profile, with } => {
                    self.once(&mut given_span, stmt.span);
                    let ir = self.constant_expr(profile, &mut ctx);
                    self.check_against_schema(&ir, &[]);
                    test.given = GivenProfile::Literal(ir);
                    self.overrides(with, &mut test);
                }
                TestStmtKind::GivenFile { path, with } => {
                    self.once(&mut given_span, stmt.span);
                    test.given = GivenProfile::File(path.value.clone(), path.span);
                    self.overrides(with, &mut test);
                }
                TestStmtKind::GivenVariant {
                    experiment,
                    variant,
                } => {
                    self.given_variant(experiment, variant, &mut test);
                }
                TestStmtKind::GivenEvent(e) => {
                    let ir = self.constant_expr(e, &mut ctx);
                    test.event = Some(ir);
                }
                TestStmtKind::Expect(e) => {
                    let mut ctx = ExprCtx {
                        actions: true,
                        ..ExprCtx::default()
                    };
                    let ir = self.condition(e, &mut ctx);
                    expect_spans.push(e.span);
                    let parts = sub_expressions(&ir);
                    test.expects.push(CheckedExpect { ir, parts });
                }
            }
        }
        // Only a test without `now` is asked whether it reads the clock: the
        // walk goes through every rule an expectation reaches.
        if test.now.is_none() {
            let reads_clock = test
                .expects
                .iter()
                .zip(&expect_spans)
                .find(|(e, _)| self.reads_clock(&e.ir, &mut Vec::new()))
                .map(|(_, span)| *span);
            let uses_now_in_data = test.overrides.iter().any(|(_, ir)| uses_now(ir))
                || matches!(&test.given, GivenProfile::Literal(ir) if uses_now(ir))
                || test.event.as_ref().is_some_and(uses_now);
            if let Some(span) = reads_clock.or(uses_now_in_data.then_some(def.name.span)) {
                self.error(
                    Diagnostic::error(
                        format!("test \"{}\" depends on the clock but does not state `now`", def.name.value),
                        span,
                        "this reads `now`, directly or through a rule",
                    )
                    .with_label(def.name.span, "in this test")
                    .with_help("add e.g. `now @2026-11-20T12:00:00Z` so the test gives the same answer every day"),
                );
            }
        }
        test
    }

    fn once(&mut self, seen: &mut Option<Span>, span: Span) {
        if let Some(prev) = *seen {
            self.error(
                Diagnostic::error(
                    "a test has at most one `given` profile",
                    span,
                    "second `given`",
                )
                .with_label(prev, "first `given`")
                .with_help("put overrides in `with { ... }` after the first one"),
            );
        }
        *seen = Some(span);
    }

    fn overrides(&mut self, with: &[(Vec<ast::Ident>, ast::Expr)], test: &mut CheckedTest) {
        for (path, e) in with {
            let mut ctx = ExprCtx::default();
            let ir = self.constant_expr(e, &mut ctx);
            let names: Vec<String> = path.iter().map(|p| p.name.clone()).collect();
            let refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
            self.check_path_value(&refs, path.last().map(|p| p.span).unwrap_or(ir.span), &ir);
            test.overrides.push((names, ir));
        }
    }

    fn given_variant(
        &mut self,
        experiment: &ast::Ident,
        variant: &ast::StrLit,
        test: &mut CheckedTest,
    ) {
        let Some(&id) = self.rule_index.get(experiment.name.as_str()) else {
            if self.lost_names.contains(&experiment.name) {
                return;
            }
            let mut d = Diagnostic::error(
                format!("no experiment named `{}`", experiment.name),
                experiment.span,
                "unknown experiment",
            );
            if let Some(s) = closest(&experiment.name, self.rule_names.iter().map(|s| s.as_str())) {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
            self.error(d);
            return;
        };
        self.rule_type(id, experiment.span);
        let variants: Option<Vec<String>> =
            self.checked[id as usize]
                .as_ref()
                .and_then(|r| match &r.body {
                    RuleBody::Experiment(e) => {
                        Some(e.variants.iter().map(|(n, _)| n.clone()).collect())
                    }
                    _ => None,
                });
        match variants {
            None => self.error(Diagnostic::error(
                format!("`{}` is not an experiment", experiment.name),
                experiment.span,
                "only experiments can be pinned to a variant",
            )),
            Some(vs) if !vs.contains(&variant.value) => {
                let mut d = Diagnostic::error(
                    format!(
                        "\"{}\" is not a variant of `{}`",
                        variant.value, experiment.name
                    ),
                    variant.span,
                    format!("variants: {}", vs.join(", ")),
                );
                if let Some(s) = closest(&variant.value, vs.iter().map(|s| s.as_str())) {
                    d = d.with_help(format!("did you mean \"{s}\"?"));
                }
                self.error(d);
            }
            Some(_) => test
                .variants
                .push((experiment.name.clone(), variant.value.clone())),
        }
    }

    /// A `given` value: any expression over constants and `now`.
    fn constant_expr(&mut self, e: &ast::Expr, ctx: &mut ExprCtx) -> Ir {
        let errors_before = self.error_count();
        let ir = self.expr(e, ctx);
        if self.error_count() == errors_before {
            if let Some(span) = first_non_constant(&ir) {
                self.error(
                    Diagnostic::error(
                        "a `given` value must be a constant",
                        span,
                        "this reads the profile or a rule",
                    )
                    .with_note(
                        "`given` data may use literals and `now` (e.g. `signup_at: now - 3d`)",
                    ),
                );
            }
        }
        ir
    }

    /// Checks a profile literal's fields against the schema.
    fn check_against_schema(&mut self, ir: &Ir, prefix: &[&str]) {
        if !self.schema.has_fields {
            return;
        }
        let IrKind::Map(entries) = &ir.kind else {
            return;
        };
        for (key, value) in entries {
            let mut path: Vec<&str> = prefix.to_vec();
            path.push(key);
            self.check_path_value(&path, value.span, value);
        }
    }

    fn check_path_value(&mut self, path: &[&str], span: Span, value: &Ir) {
        if !self.schema.has_fields {
            return;
        }
        match self.schema.lookup(path) {
            Lookup::Found(t) => {
                if matches!(t.kind, TypeKind::Record(_)) && matches!(value.kind, IrKind::Map(_)) {
                    // An implied object (`user`): check its fields one by one.
                    if let IrKind::Map(_) = value.kind {
                        if matches!(self.schema.lookup(path), Lookup::Found(_))
                            && is_implied_object(&t)
                        {
                            self.check_against_schema(value, path);
                            return;
                        }
                    }
                }
                if !value_fits(&value.ty, &t) {
                    self.error(Diagnostic::error(
                        format!(
                            "`{}` is declared as {}, but this is {}",
                            path.join("."),
                            t.a(),
                            value.ty.a()
                        ),
                        value.span,
                        "does not match the schema",
                    ));
                }
            }
            Lookup::Missing { .. } if self.schema_lost => {}
            Lookup::Missing {
                valid_prefix,
                candidates,
            } => {
                let bad = path.get(valid_prefix).copied().unwrap_or("");
                let mut d = Diagnostic::error(
                    format!("`{}` is not in the schema", path.join(".")),
                    span,
                    "unknown field",
                );
                if let Some(s) = closest(bad, candidates.names()) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                }
                self.error(d);
            }
            Lookup::NotAnObject { valid_prefix, ty } => self.error(Diagnostic::error(
                format!(
                    "`{}` is {}, which has no fields",
                    path[..valid_prefix].join("."),
                    ty.a()
                ),
                span,
                "no such field",
            )),
        }
    }

    /// Whether an expectation reaches the clock, directly or through rules.
    fn reads_clock(&self, ir: &Ir, seen: &mut Vec<RuleId>) -> bool {
        let mut found = reads_clock_itself(ir);
        if !found {
            ir.for_each_child(|c| found = found || self.reads_clock(c, seen));
        }
        if let IrKind::Rule(r) = ir.kind {
            if !seen.contains(&r) {
                seen.push(r);
                if let Some(rule) = &self.checked[r as usize] {
                    found = found
                        || match &rule.body {
                            RuleBody::Expr(e) => self.reads_clock(e, seen),
                            RuleBody::Decision { branches, .. } => branches.iter().any(|b| {
                                b.condition
                                    .as_ref()
                                    .is_some_and(|c| self.reads_clock(c, seen))
                                    || self.reads_clock(&b.value, seen)
                            }),
                            RuleBody::Experiment(e) => {
                                self.reads_clock(&e.unit, seen)
                                    || e.eligible
                                        .as_ref()
                                        .is_some_and(|c| self.reads_clock(c, seen))
                            }
                        };
                }
            }
        }
        found
    }
}

/// Whether an expression reads the clock anywhere inside (not through
/// rules).
fn uses_now(ir: &Ir) -> bool {
    let mut found = reads_clock_itself(ir);
    if !found {
        ir.for_each_child(|c| found = found || uses_now(c));
    }
    found
}

/// Whether this node itself, not its children, reads the clock.
fn reads_clock_itself(ir: &Ir) -> bool {
    match &ir.kind {
        IrKind::Now => true,
        IrKind::Within {
            anchor: Anchor::Past | Anchor::Next,
            ..
        } => true,
        IrKind::Call(b, _) => matches!(
            b,
            Builtin::Ago
                | Builtin::DaysSince
                | Builtin::HoursSince
                | Builtin::DaysUntil
                | Builtin::HoursUntil
        ),
        _ => false,
    }
}

fn first_non_constant(ir: &Ir) -> Option<Span> {
    if matches!(
        ir.kind,
        IrKind::Slot(_)
            | IrKind::Rule(_)
            | IrKind::Profile
            | IrKind::Event
            | IrKind::Actions
            | IrKind::HostCall(..)
    ) {
        return Some(ir.span);
    }
    let mut found = None;
    ir.for_each_child(|c| {
        if found.is_none() {
            found = first_non_constant(c);
        }
    });
    found
}

fn is_implied_object(t: &Type) -> bool {
    matches!(t.kind, TypeKind::Record(_)) && !t.nullable
}

/// Whether a literal's static type can stand where the schema declares `want`.
fn value_fits(have: &Type, want: &Type) -> bool {
    if matches!(have.kind, TypeKind::Null) {
        return true;
    }
    if want.is_any() || have.is_any() || matches!(want.kind, TypeKind::Map) {
        return true;
    }
    match (&have.kind, &want.kind) {
        (TypeKind::Int, TypeKind::Float) => true,
        (TypeKind::Str | TypeKind::Enum(_), TypeKind::Enum(_)) => true,
        (TypeKind::List(h), TypeKind::List(w)) => value_fits(h, w),
        (TypeKind::Record(h), TypeKind::Record(w)) => h.iter().all(|(n, t)| {
            w.iter()
                .find(|(m, _)| m == n)
                .is_some_and(|(_, wt)| value_fits(t, wt))
        }),
        _ => have.family() == want.family(),
    }
}

/// The direct sub-expressions of an expectation, labelled for the report
/// (`left`, `right`, or the argument's source text).
fn sub_expressions(ir: &Ir) -> Vec<(String, Ir)> {
    let parts: Vec<(String, Ir)> = match &ir.kind {
        IrKind::Binary(_, a, b) => vec![
            ("left".into(), (**a).clone()),
            ("right".into(), (**b).clone()),
        ],
        IrKind::Unary(_, a) | IrKind::IsNull(a, _) | IrKind::Matches(a, _) => {
            vec![("operand".into(), (**a).clone())]
        }
        IrKind::Between(x, lo, hi) => vec![
            ("value".into(), (**x).clone()),
            ("low".into(), (**lo).clone()),
            ("high".into(), (**hi).clone()),
        ],
        IrKind::Within {
            operand, duration, ..
        } => {
            vec![
                ("time".into(), (**operand).clone()),
                ("window".into(), (**duration).clone()),
            ]
        }
        IrKind::Call(_, args) => args
            .iter()
            .enumerate()
            .map(|(i, a)| (format!("argument {}", i + 1), a.clone()))
            .collect(),
        _ => Vec::new(),
    };
    // A literal's value is plain to see in the source; listing it is noise.
    parts
        .into_iter()
        .filter(|(_, ir)| !matches!(ir.kind, IrKind::Const(_)))
        .collect()
}
