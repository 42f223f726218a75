//! Stage 2: AST → checked program.
//!
//! Resolves names across all files of a program (rules, element binders,
//! profile fields), turns field paths into slots, infers and checks types
//! against the optional schema, detects cycles, and reports every error and
//! warning it finds rather than stopping at the first. The result
//! ([`CheckedProgram`]) is what the compiler consumes; it does not re-check.

mod expr;
pub mod ir;
pub mod schema;
pub mod suggest;
pub mod test_blocks;
pub mod types;

pub use expr::FUNCTION_NAMES;
use expr::{non_null_facts, ExprCtx};
use ir::*;
use schema::Schema;
use types::{Type, TypeKind};

use crate::diagnostic::Diagnostic;
use crate::limits::Limits;
use crate::span::{FileId, Span};
use crate::syntax::ast::{self, ExprKind, HitPolicy, ItemKind};
use crate::syntax::LostItem;
use crate::value::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// How deeply rules may depend on each other (`a` reads `b` reads `c` …);
/// bounds the recursion of the checker and of the VM's memoised reads.
pub const MAX_RULE_DEPTH: usize = 200;

/// The declared signature of a host function.
#[derive(Clone, Debug)]
pub struct HostSignature {
    /// Name rules call it by.
    pub name: String,
    /// Parameter types (nullable ones receive `null`; others make the call
    /// `null` when given `null`).
    pub params: Vec<Type>,
    /// Return type.
    pub ret: Type,
}

/// A profile field path the program reads, bound before evaluation.
#[derive(Clone, Debug)]
pub struct SlotInfo {
    /// Path segments from the profile's root.
    pub path: Vec<Arc<str>>,
    /// The schema's type for it (`Any` without a schema).
    pub ty: Type,
}

impl SlotInfo {
    /// The dotted path, as errors name it.
    pub fn dotted(&self) -> String {
        self.path.join(".")
    }
}

/// A test block as written, with where it stands, for checking.
#[derive(Clone, Copy, Debug)]
pub struct TestBlock<'a> {
    /// The file holding it (`given file` paths are relative to it).
    pub file: FileId,
    /// The test.
    pub def: &'a ast::TestDef,
    /// The whole item.
    pub span: Span,
}

/// The output of the checker, input of the compiler.
#[derive(Debug)]
pub struct CheckedProgram {
    /// Lets, segments, decisions and experiments in program source order.
    pub rules: Vec<CheckedRule>,
    /// Triggers in program source order.
    pub triggers: Vec<CheckedTrigger>,
    /// Profile paths read.
    pub slots: Vec<SlotInfo>,
    /// Compiled regexes, indexed by `IrKind::Matches`.
    pub regexes: Vec<regex::Regex>,
    /// The merged schema.
    pub schema: Schema,
    /// Test blocks, checked.
    pub tests: Vec<test_blocks::CheckedTest>,
    /// The type of `event` inside triggers.
    pub event_type: Type,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Unchecked,
    InProgress,
    Done,
}

/// Checks a whole program: the modules of every file, in program order.
/// Returns the checked program (when there are no errors) and every
/// diagnostic, warnings included.
pub fn check(
    modules: &[(FileId, ast::Module)],
    host: &[HostSignature],
    limits: &Limits,
) -> (Option<CheckedProgram>, Vec<Diagnostic>) {
    check_partial(modules, &[], host, limits)
}

/// Checks the items that parsed of a program some of whose items did not
/// (`lost`, see [`crate::syntax::parse_recovering`]). What their absence
/// alone would cause is not reported: reading a lost rule's name, fields
/// and events a lost `schema` may have declared, and `let`s that only a lost
/// item may have read. The caller holds the syntax errors, so a program
/// with lost items never checks clean.
pub fn check_partial(
    modules: &[(FileId, ast::Module)],
    lost: &[LostItem],
    host: &[HostSignature],
    limits: &Limits,
) -> (Option<CheckedProgram>, Vec<Diagnostic>) {
    let mut checker = Checker::new(modules, host, limits);
    checker.lost_names = lost.iter().filter_map(|l| l.name.clone()).collect();
    checker.schema_lost = lost.iter().any(|l| l.keyword == "schema");
    checker.anything_lost = !lost.is_empty();
    checker.run();
    let has_errors = checker.diags.iter().any(Diagnostic::is_error);
    let mut diags = std::mem::take(&mut checker.diags);
    diags.sort_by_key(|d| {
        let s = d.primary_span().unwrap_or_default();
        (s.file, s.start, d.severity)
    });
    if has_errors {
        return (None, diags);
    }
    let rules = checker
        .checked
        .into_iter()
        .map(|r| r.expect("every rule is checked when there are no errors"))
        .collect();
    let program = CheckedProgram {
        rules,
        triggers: checker.triggers,
        slots: checker.slots,
        regexes: checker.regexes,
        schema: checker.schema,
        tests: checker.tests,
        event_type: checker.event_type,
    };
    (Some(program), diags)
}

/// The state of one checking run.
pub(crate) struct Checker<'a> {
    modules: &'a [(FileId, ast::Module)],
    pub(crate) host: &'a [HostSignature],
    pub(crate) limits: &'a Limits,
    pub(crate) schema: Schema,
    /// Rule name → id.
    pub(crate) rule_index: HashMap<String, RuleId>,
    pub(crate) rule_names: Vec<String>,
    pub(crate) rule_kinds: Vec<RuleKind>,
    rule_items: Vec<&'a ast::Item>,
    state: Vec<State>,
    in_cycle: Vec<bool>,
    checked: Vec<Option<CheckedRule>>,
    stack: Vec<(RuleId, Span)>,
    pub(crate) slots: Vec<SlotInfo>,
    slot_index: HashMap<Vec<Arc<str>>, SlotId>,
    pub(crate) regexes: Vec<regex::Regex>,
    pub(crate) regex_index: HashMap<String, u32>,
    triggers: Vec<CheckedTrigger>,
    tests: Vec<test_blocks::CheckedTest>,
    event_type: Type,
    diags: Vec<Diagnostic>,
    /// Names of rules that did not parse: reading one is not an error.
    pub(crate) lost_names: HashSet<String>,
    /// A `schema` item did not parse: the schema may lack fields and events.
    pub(crate) schema_lost: bool,
    /// Some item did not parse.
    anything_lost: bool,
}

impl<'a> Checker<'a> {
    fn new(
        modules: &'a [(FileId, ast::Module)],
        host: &'a [HostSignature],
        limits: &'a Limits,
    ) -> Self {
        Checker {
            modules,
            host,
            limits,
            schema: Schema::default(),
            rule_index: HashMap::new(),
            rule_names: Vec::new(),
            rule_kinds: Vec::new(),
            rule_items: Vec::new(),
            state: Vec::new(),
            in_cycle: Vec::new(),
            checked: Vec::new(),
            stack: Vec::new(),
            slots: Vec::new(),
            slot_index: HashMap::new(),
            regexes: Vec::new(),
            regex_index: HashMap::new(),
            triggers: Vec::new(),
            tests: Vec::new(),
            event_type: Type::ANY,
            diags: Vec::new(),
            lost_names: HashSet::new(),
            schema_lost: false,
            anything_lost: false,
        }
    }

    pub(crate) fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    pub(crate) fn warn(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    pub(crate) fn error_count(&self) -> usize {
        self.diags.iter().filter(|d| d.is_error()).count()
    }

    /// The slot for a path, created on first use.
    pub(crate) fn slot(&mut self, path: &[&str], ty: Type) -> SlotId {
        let key: Vec<Arc<str>> = path.iter().map(|s| Arc::from(*s)).collect();
        if let Some(&id) = self.slot_index.get(&key) {
            return id;
        }
        let id = self.slots.len() as SlotId;
        self.slots.push(SlotInfo {
            path: key.clone(),
            ty,
        });
        self.slot_index.insert(key, id);
        id
    }

    fn run(&mut self) {
        self.collect_items();
        self.event_type = self.compute_event_type();
        for id in 0..self.rule_items.len() as RuleId {
            if self.state[id as usize] == State::Unchecked {
                self.check_rule(id);
            }
        }
        let modules = self.modules;
        for (file, module) in modules {
            for item in &module.items {
                match &item.kind {
                    ItemKind::Trigger(t) => {
                        let checked = self.check_trigger(t, item.span);
                        self.triggers.push(checked);
                    }
                    ItemKind::Test(t) => {
                        let block = TestBlock {
                            file: *file,
                            def: t,
                            span: item.span,
                        };
                        let checked = self.check_test(&block);
                        self.tests.push(checked);
                    }
                    _ => {}
                }
            }
        }
        // A lost item may be the one that read a `let`.
        if !self.anything_lost {
            self.lint_unused_lets();
        }
        self.lint_identical_segments();
    }

    /// Segments and decisions are outputs; a `let` nobody reads is dead.
    fn lint_unused_lets(&mut self) {
        let mut used = vec![false; self.checked.len()];
        let mut mark = |ir: &Ir| mark_rules(ir, &mut used);
        for rule in self.checked.iter().flatten() {
            match &rule.body {
                RuleBody::Expr(e) => mark(e),
                RuleBody::Decision { branches, .. } => {
                    for b in branches {
                        if let Some(c) = &b.condition {
                            mark(c);
                        }
                        mark(&b.value);
                    }
                }
                RuleBody::Experiment(e) => {
                    mark(&e.unit);
                    if let Some(c) = &e.eligible {
                        mark(c);
                    }
                }
            }
        }
        for t in &self.triggers {
            if let Some(c) = &t.condition {
                mark(c);
            }
            for a in &t.actions {
                if let Some(p) = &a.payload {
                    mark(p);
                }
            }
        }
        for t in &self.tests {
            for e in &t.expects {
                mark(&e.ir);
            }
        }
        for (i, rule) in self.checked.iter().enumerate() {
            let Some(rule) = rule else { continue };
            if rule.kind == RuleKind::Let && !used[i] {
                let d = Diagnostic::warning(
                    format!("`{}` is never used", rule.name),
                    rule.name_span,
                    "no rule, trigger or test reads this `let`",
                )
                .with_help("remove it, or read it from a segment or decision");
                self.diags.push(d);
            }
        }
    }

    /// Two segments with the same condition are usually a copy-paste slip.
    fn lint_identical_segments(&mut self) {
        let mut seen: Vec<(String, usize)> = Vec::new();
        let mut found = Vec::new();
        for (i, item) in self.rule_items.iter().enumerate() {
            let ItemKind::Segment(seg) = &item.kind else {
                continue;
            };
            let text = crate::syntax::sexpr::expr_to_sexpr(&seg.body);
            if let Some((_, first)) = seen.iter().find(|(t, _)| *t == text) {
                found.push((*first, i));
            } else {
                seen.push((text, i));
            }
        }
        for (first, again) in found {
            let name = |i: usize| self.rule_names[i].clone();
            let d = Diagnostic::warning(
                format!(
                    "segment `{}` is identical to segment `{}`",
                    name(again),
                    name(first)
                ),
                name_span(self.rule_items[again]),
                "same condition",
            )
            .with_label(name_span(self.rule_items[first]), "defined first here")
            .with_help(format!(
                "read `{}` instead of repeating its condition",
                name(first)
            ));
            self.diags.push(d);
        }
    }

    /// First pass: the schema and the names of every rule.
    fn collect_items(&mut self) {
        let modules = self.modules;
        let mut item_names: HashMap<String, Span> = HashMap::new();
        let mut total_items = 0usize;
        for (_, module) in modules {
            for item in &module.items {
                total_items += 1;
                let (name, kind) = match &item.kind {
                    ItemKind::Schema(s) => {
                        let mut diags = Vec::new();
                        self.schema.add_block(s, &mut diags);
                        self.diags.extend(diags);
                        continue;
                    }
                    ItemKind::Let(d) => (&d.name, RuleKind::Let),
                    ItemKind::Segment(d) => (&d.name, RuleKind::Segment),
                    ItemKind::Decision(d) => (&d.name, RuleKind::Decision),
                    ItemKind::Experiment(d) => (&d.name, RuleKind::Experiment),
                    ItemKind::Trigger(t) => {
                        if let Some(prev) = item_names.insert(t.name.name.clone(), t.name.span) {
                            self.duplicate(&t.name, prev);
                        }
                        continue;
                    }
                    ItemKind::Test(_) => continue,
                };
                if let Some(prev) = item_names.insert(name.name.clone(), name.span) {
                    self.duplicate(name, prev);
                    continue;
                }
                let id = self.rule_items.len() as RuleId;
                self.rule_index.insert(name.name.clone(), id);
                self.rule_names.push(name.name.clone());
                self.rule_kinds.push(kind);
                self.rule_items.push(item);
                self.state.push(State::Unchecked);
                self.in_cycle.push(false);
                self.checked.push(None);
            }
        }
        if total_items > self.limits.max_items {
            self.error(Diagnostic::bare_error(format!(
                "the program has {total_items} items, more than the limit of {}",
                self.limits.max_items
            )));
        }
        if self.schema.has_fields {
            for (i, name) in self.rule_names.clone().iter().enumerate() {
                if matches!(
                    self.schema.lookup(&[name.as_str()]),
                    schema::Lookup::Found(_)
                ) {
                    let span = name_span(self.rule_items[i]);
                    self.warn(
                        Diagnostic::warning(
                            format!("`{name}` shadows the schema field of the same name"),
                            span,
                            "this rule hides the profile field",
                        )
                        .with_help(format!(
                            "rename the rule, or read the field as `profile[\"{name}\"]`"
                        )),
                    );
                }
            }
        }
    }

    fn duplicate(&mut self, name: &ast::Ident, prev: Span) {
        self.error(
            Diagnostic::error(
                format!("`{}` is defined twice", name.name),
                name.span,
                "defined again here",
            )
            .with_label(prev, "first defined here")
            .with_help("segments, decisions, experiments, lets and triggers share one namespace; rename one of them"),
        );
    }

    fn compute_event_type(&mut self) -> Type {
        if self.schema.has_fields {
            if let schema::Lookup::Found(t) = self.schema.lookup(&["events"]) {
                if let TypeKind::List(elem) = t.kind {
                    return elem.non_null();
                }
            }
        }
        Type::of(TypeKind::Record(Arc::from(vec![
            (Arc::from("name"), Type::STR),
            (Arc::from("at"), Type::TIME.nullable()),
            (Arc::from("props"), Type::of(TypeKind::Map).nullable()),
        ])))
    }

    /// The type of `event` in a trigger on `name`: the events' element type,
    /// with `props` as that event declares them.
    fn trigger_event_type(&self, name: &str) -> Type {
        let base = self.event_type.clone();
        let Some(decl) = self.schema.event(name).filter(|d| !d.props.is_empty()) else {
            return base;
        };
        let TypeKind::Record(fields) = &base.kind else {
            return base;
        };
        let mut fields: Vec<(Arc<str>, Type)> = fields.to_vec();
        let props = Type::of(TypeKind::Record(Arc::from(decl.props.clone()))).nullable();
        match fields.iter_mut().find(|(n, _)| &**n == "props") {
            Some(f) => f.1 = props,
            None => fields.push((Arc::from("props"), props)),
        }
        Type::of(TypeKind::Record(Arc::from(fields)))
    }

    /// The type of a rule read at `use_span`, checking it first if needed.
    pub(crate) fn rule_type(&mut self, id: RuleId, use_span: Span) -> Type {
        match self.state[id as usize] {
            State::Done => self.checked[id as usize]
                .as_ref()
                .map(|r| r.ty.clone())
                .unwrap_or(Type::ANY),
            State::InProgress => {
                self.report_cycle(id, use_span);
                Type::ANY
            }
            State::Unchecked => {
                if self.stack.len() >= MAX_RULE_DEPTH {
                    self.error(Diagnostic::error(
                        format!("rules depend on each other too deeply (more than {MAX_RULE_DEPTH} levels)"),
                        use_span,
                        "one level too many",
                    ));
                    return Type::ANY;
                }
                self.stack.push((id, use_span));
                self.check_rule(id);
                self.stack.pop();
                self.checked[id as usize]
                    .as_ref()
                    .map(|r| r.ty.clone())
                    .unwrap_or(Type::ANY)
            }
        }
    }

    fn report_cycle(&mut self, id: RuleId, use_span: Span) {
        if self.in_cycle[id as usize] {
            return;
        }
        // The stack holds (rule being checked, where it was read from);
        // the cycle starts where `id` was entered.
        let Some(start) = self.stack.iter().position(|(r, _)| *r == id) else {
            return;
        };
        let members: Vec<RuleId> = self.stack[start..].iter().map(|(r, _)| *r).collect();
        for &m in &members {
            self.in_cycle[m as usize] = true;
        }
        let mut names: Vec<&str> = members
            .iter()
            .map(|&m| self.rule_names[m as usize].as_str())
            .collect();
        names.push(self.rule_names[id as usize].as_str());
        let chain = names.join(" → ");
        let mut d = Diagnostic::error(
            format!(
                "`{}` depends on itself: {chain}",
                self.rule_names[id as usize]
            ),
            use_span,
            format!(
                "`{}` is read here, closing the cycle",
                self.rule_names[id as usize]
            ),
        );
        for (r, span) in self.stack[start + 1..].iter() {
            d = d.with_label(
                *span,
                format!("`{}` is read here", self.rule_names[*r as usize]),
            );
        }
        d = d.with_note("rules are evaluated once per profile and cannot refer to themselves, directly or through others");
        self.error(d);
    }

    fn check_rule(&mut self, id: RuleId) {
        self.state[id as usize] = State::InProgress;
        if self.stack.last().map(|(r, _)| *r) != Some(id) {
            self.stack
                .push((id, name_span(self.rule_items[id as usize])));
            self.check_rule_body(id);
            self.stack.pop();
        } else {
            self.check_rule_body(id);
        }
        self.state[id as usize] = State::Done;
    }

    fn check_rule_body(&mut self, id: RuleId) {
        let item = self.rule_items[id as usize];
        let mut ctx = ExprCtx::default();
        let rule = match &item.kind {
            ItemKind::Let(d) => {
                let ir = self.expr(&d.value, &mut ctx);
                CheckedRule {
                    kind: RuleKind::Let,
                    name: d.name.name.clone(),
                    label: None,
                    name_span: d.name.span,
                    span: item.span,
                    ty: ir.ty.clone(),
                    body: RuleBody::Expr(ir),
                }
            }
            ItemKind::Segment(d) => {
                let ir = self.condition(&d.body, &mut ctx);
                CheckedRule {
                    kind: RuleKind::Segment,
                    name: d.name.name.clone(),
                    label: d.label.as_ref().map(|l| l.value.clone()),
                    name_span: d.name.span,
                    span: item.span,
                    ty: Type::BOOL,
                    body: RuleBody::Expr(ir),
                }
            }
            ItemKind::Decision(d) => self.check_decision(d, item.span),
            ItemKind::Experiment(d) => self.check_experiment(d, item.span),
            _ => return,
        };
        self.checked[id as usize] = Some(rule);
    }

    fn check_decision(&mut self, d: &ast::DecisionDef, span: Span) -> CheckedRule {
        let policy = d.policy.map(|(p, _)| p).unwrap_or(HitPolicy::First);
        let mut branches = Vec::new();
        let mut else_seen: Option<Span> = None;
        let mut unconditional: Option<Span> = None;
        let mut seen_conditions: Vec<(String, Span)> = Vec::new();
        let mut value_ty: Option<Type> = None;
        let mut literal_values: Option<Vec<String>> = Some(Vec::new());
        let mut all_unconditional = true;
        for b in &d.branches {
            let mut ctx = ExprCtx::default();
            if let Some(prev_else) = else_seen {
                let msg = if b.condition.is_none() {
                    "a decision has at most one `else`"
                } else {
                    "`else` must be the last branch"
                };
                self.error(
                    Diagnostic::error(msg, b.span, "this branch comes after `else`")
                        .with_label(prev_else, "`else` is here"),
                );
            }
            let condition = match &b.condition {
                None => {
                    else_seen = Some(b.span);
                    None
                }
                Some(c) => {
                    // The S-expression ignores spans and layout: "the same
                    // condition, verbatim".
                    let text = crate::syntax::sexpr::expr_to_sexpr(c);
                    if let Some(u) = unconditional {
                        if policy == HitPolicy::First {
                            self.warn(
                                Diagnostic::warning(
                                    "this branch can never be reached",
                                    b.span,
                                    "unreachable",
                                )
                                .with_label(u, "this branch always matches first"),
                            );
                        }
                    } else if let Some((_, prev)) = seen_conditions.iter().find(|(t, _)| *t == text)
                    {
                        if policy == HitPolicy::First {
                            self.warn(
                                Diagnostic::warning(
                                    "this branch can never be reached: the same condition is tested above",
                                    b.span,
                                    "unreachable",
                                )
                                .with_label(*prev, "same condition here"),
                            );
                        }
                    }
                    seen_conditions.push((text, c.span));
                    let ir = self.condition(c, &mut ctx);
                    if matches!(ir.kind, IrKind::Const(Value::Bool(true))) {
                        unconditional.get_or_insert(b.span);
                    } else {
                        all_unconditional = false;
                    }
                    ctx.narrowed = non_null_facts(&ir);
                    Some(ir)
                }
            };
            let value = self.expr(&b.value, &mut ctx);
            match &value.kind {
                IrKind::Const(Value::Str(s)) => {
                    if let Some(v) = &mut literal_values {
                        if !v.iter().any(|x| **x == **s) {
                            v.push(s.to_string());
                        }
                    }
                }
                IrKind::Const(Value::Null) => {}
                _ => literal_values = None,
            }
            value_ty = Some(match value_ty {
                None => value.ty.clone(),
                Some(t) => match t.join(&value.ty) {
                    Some(j) => j,
                    None => {
                        self.error(
                            Diagnostic::error(
                                format!("all branches of a decision must give one type, but this one is {}", value.ty.a()),
                                value.span,
                                value.ty.a(),
                            )
                            .with_note(format!("the branches above give {t}")),
                        );
                        t
                    }
                },
            });
            branches.push(CheckedBranch {
                condition,
                value,
                span: b.span,
            });
        }
        if policy == HitPolicy::Collect
            && all_unconditional
            && !d.branches.is_empty()
            && d.branches.iter().any(|b| b.condition.is_some())
        {
            self.warn(
                Diagnostic::warning(
                    "every branch of this `collect` decision is unconditional",
                    d.name.span,
                    "it always returns the same list",
                )
                .with_help("use a `let` with a list literal instead"),
            );
        }
        // `else` goes last for evaluation even when misplaced (already an error).
        branches.sort_by_key(|b| b.condition.is_none());
        let mut ty = value_ty.unwrap_or(Type::NULL);
        if let Some(values) = literal_values {
            if !values.is_empty() && ty.is_string() {
                ty = Type {
                    kind: TypeKind::Enum(Arc::from(values)),
                    nullable: ty.nullable,
                };
            }
        }
        let has_else = else_seen.is_some();
        let ty = match policy {
            HitPolicy::First => ty.nullable_if(!has_else),
            HitPolicy::Collect => Type::list(ty),
        };
        CheckedRule {
            kind: RuleKind::Decision,
            name: d.name.name.clone(),
            label: d.label.as_ref().map(|l| l.value.clone()),
            name_span: d.name.span,
            span,
            ty,
            body: RuleBody::Decision { policy, branches },
        }
    }

    fn check_experiment(&mut self, d: &ast::ExperimentDef, span: Span) -> CheckedRule {
        use ast::ExperimentClauseKind as C;
        let mut unit = None;
        let mut salt = None;
        let mut eligible = None;
        let mut coverage = None;
        let mut variants: Option<(Vec<(String, f64)>, Span)> = None;
        let mut force_clause = None;
        let mut seen: HashMap<&'static str, Span> = HashMap::new();
        for clause in &d.clauses {
            let key = match &clause.kind {
                C::Unit(_) => "unit",
                C::Salt(_) => "salt",
                C::Eligible(_) => "eligible",
                C::Coverage(_) => "coverage",
                C::Variants(_) => "variants",
                C::Force(_) => "force",
            };
            if let Some(prev) = seen.insert(key, clause.span) {
                self.error(
                    Diagnostic::error(
                        format!("`{key}` appears twice in this experiment"),
                        clause.span,
                        "again here",
                    )
                    .with_label(prev, "first here"),
                );
                continue;
            }
            let mut ctx = ExprCtx::default();
            match &clause.kind {
                C::Unit(e) => {
                    let ir = self.expr(e, &mut ctx);
                    if !matches!(
                        ir.ty.kind,
                        TypeKind::Str
                            | TypeKind::Enum(_)
                            | TypeKind::Int
                            | TypeKind::Any
                            | TypeKind::Null
                    ) {
                        self.error(Diagnostic::error(
                            format!(
                                "the unit must be a string or an int, but this is {}",
                                ir.ty.a()
                            ),
                            ir.span,
                            ir.ty.a(),
                        ));
                    }
                    unit = Some(ir);
                }
                C::Salt(s) => salt = Some(s.value.clone()),
                C::Eligible(e) => eligible = Some(self.condition(e, &mut ctx)),
                C::Coverage(e) => {
                    coverage = self.share(e, "coverage").map(|(f, _)| f);
                }
                C::Variants(list) => {
                    let mut out: Vec<(String, f64)> = Vec::new();
                    let mut total: Option<(i128, u32)> = Some((0, 0));
                    for (name, w) in list {
                        if out.iter().any(|(n, _)| *n == name.name) {
                            self.error(Diagnostic::error(
                                format!("variant `{}` is listed twice", name.name),
                                name.span,
                                "duplicate variant",
                            ));
                            // The sum is meaningless with a duplicate; one error is enough.
                            total = None;
                            continue;
                        }
                        let Some((f, dec)) = self.share(w, "weight") else {
                            total = None;
                            continue;
                        };
                        total = match (total, dec) {
                            (Some(t), Some(d)) => add_decimal(t, (d.digits, d.scale)),
                            _ => None,
                        };
                        out.push((name.name.clone(), f));
                    }
                    if out.is_empty() {
                        self.error(Diagnostic::error(
                            "an experiment needs at least one variant",
                            clause.span,
                            "no variants",
                        ));
                    } else if let Some((digits, scale)) = total {
                        let one = 10i128.checked_pow(scale).unwrap_or(i128::MAX);
                        if digits != one {
                            let pct = digits as f64 / one as f64 * 100.0;
                            self.error(
                                Diagnostic::error(
                                    format!("variant weights must add up to 100%, but these add up to {}%", trim_float(pct)),
                                    clause.span,
                                    "weights do not sum to 100%",
                                )
                                .with_help("adjust the weights so they sum to exactly 100%"),
                            );
                        }
                    }
                    variants = Some((out, clause.span));
                }
                C::Force(_) => force_clause = Some(clause),
            }
        }
        let Some(unit) = unit else {
            self.error(
                Diagnostic::error(
                    format!("experiment `{}` has no `unit`", d.name.name),
                    d.name.span,
                    "which value is hashed to assign a variant?",
                )
                .with_help("add e.g. `unit user.id`"),
            );
            return self.placeholder_experiment(d, span);
        };
        let Some((variants, _)) = variants else {
            self.error(
                Diagnostic::error(
                    format!("experiment `{}` has no `variants`", d.name.name),
                    d.name.span,
                    "no variants to assign",
                )
                .with_help("add e.g. `variants { control: 50%, treatment: 50% }`"),
            );
            return self.placeholder_experiment(d, span);
        };
        let mut force = Vec::new();
        if let Some(clause) = force_clause {
            if let C::Force(entries) = &clause.kind {
                for (unit_key, variant) in entries {
                    match variants.iter().position(|(n, _)| *n == variant.name) {
                        Some(i) => force.push((unit_key.value.clone(), i)),
                        None => {
                            let mut dg = Diagnostic::error(
                                format!("`{}` is not a variant of this experiment", variant.name),
                                variant.span,
                                "unknown variant",
                            );
                            if let Some(s) = suggest::closest(
                                &variant.name,
                                variants.iter().map(|(n, _)| n.as_str()),
                            ) {
                                dg = dg.with_help(format!("did you mean `{s}`?"));
                            }
                            self.error(dg);
                        }
                    }
                }
            }
        }
        let names: Vec<String> = variants.iter().map(|(n, _)| n.clone()).collect();
        CheckedRule {
            kind: RuleKind::Experiment,
            name: d.name.name.clone(),
            label: d.label.as_ref().map(|l| l.value.clone()),
            name_span: d.name.span,
            span,
            ty: Type {
                kind: TypeKind::Enum(Arc::from(names)),
                nullable: true,
            },
            body: RuleBody::Experiment(Box::new(CheckedExperiment {
                unit,
                salt: salt.unwrap_or_else(|| d.name.name.clone()),
                eligible,
                coverage: coverage.unwrap_or(1.0),
                variants,
                force,
            })),
        }
    }

    fn placeholder_experiment(&self, d: &ast::ExperimentDef, span: Span) -> CheckedRule {
        CheckedRule {
            kind: RuleKind::Experiment,
            name: d.name.name.clone(),
            label: None,
            name_span: d.name.span,
            span,
            ty: Type::STR.nullable(),
            body: RuleBody::Expr(Ir::new(IrKind::Const(Value::Null), Type::NULL, span)),
        }
    }

    /// A weight or coverage: a literal number between 0 and 1 (`50%`).
    fn share(&mut self, e: &ast::Expr, what: &str) -> Option<(f64, Option<ast::Decimal>)> {
        let (f, dec) = match &e.kind {
            ExprKind::Float(f, d) => (*f, *d),
            ExprKind::Int(i) => (
                *i as f64,
                Some(ast::Decimal {
                    digits: *i as i128,
                    scale: 0,
                }),
            ),
            _ => {
                self.error(
                    Diagnostic::error(
                        format!("a {what} must be a literal percentage"),
                        e.span,
                        "not a literal",
                    )
                    .with_help("write e.g. `50%` or `0.5`"),
                );
                return None;
            }
        };
        if !(0.0..=1.0).contains(&f) {
            self.error(
                Diagnostic::error(
                    format!("a {what} must be between 0% and 100%"),
                    e.span,
                    "out of range",
                )
                .with_help("`1` means 100%; write `50%` or `0.5` for one half"),
            );
            return None;
        }
        Some((f, dec))
    }

    fn check_trigger(&mut self, t: &ast::TriggerDef, span: Span) -> CheckedTrigger {
        self.check_event_name(&t.on.value, t.on.span);
        let mut ctx = ExprCtx {
            event: Some(self.trigger_event_type(&t.on.value)),
            ..ExprCtx::default()
        };
        let condition = t.condition.as_ref().map(|c| self.condition(c, &mut ctx));
        let actions = t
            .actions
            .iter()
            .map(|a| {
                let payload = a.payload.as_ref().map(|p| {
                    let ir = self.expr(p, &mut ctx);
                    if !matches!(
                        ir.ty.kind,
                        TypeKind::Record(_) | TypeKind::Map | TypeKind::Any
                    ) {
                        self.error(Diagnostic::error(
                            format!(
                                "an action's payload must be a map, but this is {}",
                                ir.ty.a()
                            ),
                            ir.span,
                            "not a map",
                        ));
                    }
                    ir
                });
                CheckedAction {
                    action: a.action.value.clone(),
                    payload,
                    span: a.span,
                }
            })
            .collect();
        CheckedTrigger {
            name: t.name.name.clone(),
            on: t.on.value.clone(),
            condition,
            actions,
            span,
        }
    }
}

fn mark_rules(ir: &Ir, used: &mut [bool]) {
    if let IrKind::Rule(r) = ir.kind {
        if let Some(u) = used.get_mut(r as usize) {
            *u = true;
        }
    }
    ir.for_each_child(|c| mark_rules(c, used));
}

fn name_span(item: &ast::Item) -> Span {
    match &item.kind {
        ItemKind::Let(d) => d.name.span,
        ItemKind::Segment(d) => d.name.span,
        ItemKind::Decision(d) => d.name.span,
        ItemKind::Experiment(d) => d.name.span,
        ItemKind::Trigger(d) => d.name.span,
        _ => item.span,
    }
}

fn add_decimal(a: (i128, u32), b: (i128, u32)) -> Option<(i128, u32)> {
    let scale = a.1.max(b.1);
    let x = a.0.checked_mul(10i128.checked_pow(scale - a.1)?)?;
    let y = b.0.checked_mul(10i128.checked_pow(scale - b.1)?)?;
    Some((x.checked_add(y)?, scale))
}

fn trim_float(f: f64) -> String {
    let s = format!("{f:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
