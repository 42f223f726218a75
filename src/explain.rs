//! `explain`: why a rule came out as it did for one profile (§12).
//!
//! Built on the reference evaluator (`crate::reference`) run with tracing:
//! the whole profile is evaluated exactly as `eval` would (so the explained
//! value is the value `eval` reports), and the outcome of every expression
//! node is recorded. This module turns the outcomes of one rule's nodes
//! into a tree — segments and lets as their expression, decisions branch
//! by branch, experiments step by step through the assignment — rendered
//! for people ([`Explanation::render`]) or tools ([`Explanation::to_json`]).

use crate::bucket;
use crate::check::ir::{CheckedExperiment, Ir, IrKind, RuleBody, RuleKind};
use crate::program::{Context, EvalError, EvalResult, Program};
use crate::reference::{self, Outcome, Run};
use crate::syntax::ast::HitPolicy;
use crate::value::Value;
use serde_json::{json, Value as Json};
use std::fmt::Write as _;

/// Why a rule could not be explained.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExplainError {
    /// No segment, decision, experiment or let has this name.
    #[error("no rule named `{name}` in this program{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownRule {
        /// The name asked for.
        name: String,
        /// The closest rule name, if one is close.
        suggestion: Option<String>,
    },
    /// The profile could not be evaluated at all.
    #[error(transparent)]
    Eval(#[from] EvalError),
}

/// What one expression node came to.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeValue {
    /// Its value, as in §11 JSON.
    Value(Json),
    /// It raised a run-time error.
    Error(String),
    /// It read a rule that had failed.
    RuleFailed,
    /// The step budget ran out while evaluating it.
    BudgetExhausted,
    /// Short-circuited: never evaluated.
    NotEvaluated,
}

/// One node of an explained expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The source text of the sub-expression.
    pub text: String,
    /// What it came to.
    pub value: NodeValue,
    /// Its explained parts (constants are left out: their text is their value).
    pub children: Vec<Node>,
}

/// One decision branch.
#[derive(Clone, Debug, PartialEq)]
pub struct Branch {
    /// The condition, `None` for `else`.
    pub condition: Option<Node>,
    /// The value expression.
    pub value: Node,
    /// Whether this branch's value is (part of) the result.
    pub chosen: bool,
}

/// How an experiment assigned (or did not assign) a variant.
#[derive(Clone, Debug, PartialEq)]
pub struct ExperimentSteps {
    /// The unit expression and its value.
    pub unit: Node,
    /// `"context"` when the caller forced the variant, `"force"` when the
    /// experiment's `force` list pins this unit, `None` otherwise.
    pub forced: Option<&'static str>,
    /// The eligibility condition, if any.
    pub eligible: Option<Node>,
    /// Share of eligible units included.
    pub coverage: f64,
    /// The hash seed.
    pub salt: String,
    /// The unit's bucket in `[0, 1)` (`bucket::hash(salt, unit, 2)`), when
    /// the unit was hashed.
    pub bucket: Option<f64>,
    /// Each variant with its weight and `[start, end)` bucket range.
    pub variants: Vec<(String, f64, (f64, f64))>,
}

/// The body of an explanation, by kind of rule.
#[derive(Clone, Debug, PartialEq)]
pub enum Detail {
    /// A segment or a let: its expression.
    Expr(Node),
    /// A decision: every branch in order.
    Decision {
        /// `first` or `collect`.
        collect: bool,
        /// The branches, `else` last.
        branches: Vec<Branch>,
    },
    /// An experiment.
    Experiment(Box<ExperimentSteps>),
}

/// Why one rule came out as it did.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    /// The rule's name.
    pub name: String,
    /// Its kind.
    pub kind: RuleKind,
    /// Its label, if any.
    pub label: Option<String>,
    /// Its value as `eval` reports it (a let, which `eval` does not
    /// report, as it is computed).
    pub value: Json,
    /// The explained parts.
    pub detail: Detail,
    /// Run-time errors reported for this rule, as §11 error objects.
    pub errors: Vec<Json>,
}

/// Explains one rule (segment, decision, experiment or let) for a profile.
///
/// The profile is evaluated in full, as `eval` does, so the value shown is
/// the value `eval` reports. A let is not an output, so `eval` may never
/// compute it; here it is computed after the outputs if nothing read it.
pub fn explain(
    program: &Program,
    profile: &Json,
    ctx: &Context,
    name: &str,
) -> Result<Explanation, ExplainError> {
    let checked = program.checked();
    let Some(id) = checked.rules.iter().position(|r| r.name == name) else {
        return Err(ExplainError::UnknownRule {
            name: name.to_string(),
            suggestion: crate::check::suggest::closest(
                name,
                checked.rules.iter().map(|r| r.name.as_str()),
            )
            .map(str::to_string),
        });
    };
    let run = reference::run_with_let(program, profile, ctx, id)?;
    let rule = &checked.rules[id];
    let result = EvalResult::from_raw(program, &run.values, &run.actions, &run.errors);
    let errors = result
        .to_json()
        .get("errors")
        .and_then(Json::as_array)
        .map(|errs| errs.iter().filter(|e| e["rule"] == name).cloned().collect())
        .unwrap_or_default();
    let value = match rule.kind {
        RuleKind::Segment => Json::Bool(run.values[id].is_true()),
        _ => run.values[id].to_json(),
    };
    let x = Explainer { program, run: &run };
    let detail = match &rule.body {
        RuleBody::Expr(ir) => Detail::Expr(x.node(ir)),
        RuleBody::Decision { policy, branches } => {
            let collect = *policy == HitPolicy::Collect;
            let mut out = Vec::new();
            let mut done = false;
            for b in branches {
                let condition = b.condition.as_ref().map(|c| x.node(c));
                let value_node = x.node(&b.value);
                let holds = match &b.condition {
                    Some(c) => matches!(run.outcome(c), Some(Outcome::Value(Value::Bool(true)))),
                    None => true,
                };
                // A branch is chosen when it held and its value was computed
                // (in a first decision, only the first such branch).
                let chosen = !done && holds && run.outcome(&b.value).is_some();
                if chosen && !collect {
                    done = true;
                }
                out.push(Branch {
                    condition,
                    value: value_node,
                    chosen,
                });
            }
            Detail::Decision {
                collect,
                branches: out,
            }
        }
        RuleBody::Experiment(e) => Detail::Experiment(Box::new(x.experiment(e, ctx, name))),
    };
    Ok(Explanation {
        name: rule.name.clone(),
        kind: rule.kind,
        label: rule.label.clone(),
        value,
        detail,
        errors,
    })
}

struct Explainer<'a> {
    program: &'a Program,
    run: &'a Run,
}

impl Explainer<'_> {
    fn text(&self, ir: &Ir) -> String {
        self.program
            .sources()
            .snippet(ir.span)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn value(&self, ir: &Ir) -> NodeValue {
        match self.run.outcome(ir) {
            None => NodeValue::NotEvaluated,
            Some(Outcome::Value(v)) => NodeValue::Value(v.to_json()),
            Some(Outcome::Error(m)) => NodeValue::Error(m.clone()),
            Some(Outcome::Failed) => NodeValue::RuleFailed,
            Some(Outcome::Budget) => NodeValue::BudgetExhausted,
        }
    }

    fn node(&self, ir: &Ir) -> Node {
        let mut children = Vec::new();
        match &ir.kind {
            // The condition and projection run once per element: no single
            // value to show, so only the list is explained.
            IrKind::Aggregate { list, .. } => children.push(self.node(list)),
            // The text parts of a string carry the whole string's span.
            IrKind::Interpolate(parts) => {
                for p in parts.iter().filter(|p| !matches!(p.kind, IrKind::Const(_))) {
                    children.push(self.node(p));
                }
            }
            _ => ir.for_each_child(|c| {
                if !matches!(c.kind, IrKind::Const(_)) {
                    children.push(self.node(c));
                }
            }),
        }
        Node {
            text: self.text(ir),
            value: self.value(ir),
            children,
        }
    }

    fn experiment(&self, e: &CheckedExperiment, ctx: &Context, name: &str) -> ExperimentSteps {
        let unit = self.node(&e.unit);
        let unit_text = match self.run.outcome(&e.unit) {
            Some(Outcome::Value(Value::Str(s))) if !s.is_empty() => Some(s.to_string()),
            Some(Outcome::Value(Value::Int(i))) => Some(i.to_string()),
            _ => None,
        };
        let forced = if ctx.forced_variants.iter().any(|(x, _)| x == name) {
            Some("context")
        } else if unit_text
            .as_ref()
            .is_some_and(|u| e.force.iter().any(|(f, _)| f == u))
        {
            Some("force")
        } else {
            None
        };
        let eligible = e.eligible.as_ref().map(|c| self.node(c));
        let eligible_held = match &e.eligible {
            None => true,
            Some(c) => matches!(self.run.outcome(c), Some(Outcome::Value(Value::Bool(true)))),
        };
        let bucket = match (&unit_text, forced, eligible_held) {
            (Some(u), None, true) => bucket::hash(&e.salt, u, 2),
            _ => None,
        };
        let ranges = reference::variant_ranges(e);
        let variants = e
            .variants
            .iter()
            .zip(ranges)
            .map(|((n, w), r)| (n.clone(), *w, r))
            .collect();
        ExperimentSteps {
            unit,
            forced,
            eligible,
            coverage: e.coverage,
            salt: e.salt.clone(),
            bucket,
            variants,
        }
    }
}

impl NodeValue {
    fn to_json(&self) -> Json {
        match self {
            NodeValue::Value(v) => json!({ "value": v }),
            NodeValue::Error(m) => json!({ "error": m }),
            NodeValue::RuleFailed => json!({ "error": "the rule it reads failed" }),
            NodeValue::BudgetExhausted => json!({ "error": "step budget exhausted" }),
            NodeValue::NotEvaluated => json!({ "evaluated": false }),
        }
    }

    /// Compact text for people, with a ✓/✗ marker for bools.
    fn show(&self) -> (String, &'static str) {
        match self {
            NodeValue::Value(Json::Bool(true)) => ("true".into(), "✓"),
            NodeValue::Value(Json::Bool(false)) => ("false".into(), "✗"),
            NodeValue::Value(Json::Null) => ("null".into(), "✗"),
            NodeValue::Value(v) => (shorten(v.to_string()), "•"),
            NodeValue::Error(m) => (format!("error: {m}"), "!"),
            NodeValue::RuleFailed => ("failed (its error is reported where it arose)".into(), "!"),
            NodeValue::BudgetExhausted => ("step budget exhausted".into(), "!"),
            NodeValue::NotEvaluated => ("not evaluated".into(), "-"),
        }
    }
}

impl Node {
    /// The node as JSON: `{text, value | error | evaluated: false, children}`.
    pub fn to_json(&self) -> Json {
        let mut o = self.value.to_json();
        o["text"] = json!(self.text);
        if !self.children.is_empty() {
            o["children"] = Json::Array(self.children.iter().map(Node::to_json).collect());
        }
        o
    }

    fn render(&self, out: &mut String, indent: usize, prefix: &str) {
        let (value, marker) = self.value.show();
        let _ = writeln!(
            out,
            "{:indent$}{marker} {prefix}{} = {value}",
            "", self.text
        );
        // The parts of something not evaluated are not evaluated either.
        if self.value == NodeValue::NotEvaluated {
            return;
        }
        for c in &self.children {
            c.render(out, indent + 2, "");
        }
    }
}

impl Explanation {
    /// The explanation as JSON, for tools.
    pub fn to_json(&self) -> Json {
        let detail = match &self.detail {
            Detail::Expr(n) => json!({ "expression": n.to_json() }),
            Detail::Decision { collect, branches } => json!({
                "policy": if *collect { "collect" } else { "first" },
                "branches": branches.iter().map(|b| json!({
                    "condition": b.condition.as_ref().map(Node::to_json),
                    "value": b.value.to_json(),
                    "chosen": b.chosen,
                })).collect::<Vec<_>>(),
            }),
            Detail::Experiment(e) => json!({
                "unit": e.unit.to_json(),
                "forced": e.forced,
                "eligible": e.eligible.as_ref().map(Node::to_json),
                "coverage": e.coverage,
                "salt": e.salt,
                "bucket": e.bucket,
                "variants": e.variants.iter().map(|(n, w, (a, b))| json!({
                    "name": n, "weight": w, "range": [a, b],
                })).collect::<Vec<_>>(),
            }),
        };
        json!({
            "rule": self.name,
            "kind": self.kind.keyword(),
            "label": self.label,
            "value": self.value,
            "explanation": detail,
            "errors": self.errors,
        })
    }

    /// The explanation for people: an indented tree with each part's source
    /// text and value.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let label = self
            .label
            .as_ref()
            .map(|l| format!(" {l:?}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{} {}{label} = {}",
            self.kind.keyword(),
            self.name,
            self.value
        );
        match &self.detail {
            Detail::Expr(n) => n.render(&mut out, 2, ""),
            Detail::Decision { collect, branches } => {
                if *collect {
                    out.push_str("  collect: every branch that holds adds its value\n");
                }
                for (i, b) in branches.iter().enumerate() {
                    let verdict = if b.chosen { "  ← chosen" } else { "" };
                    match &b.condition {
                        Some(c) => {
                            let _ = writeln!(out, "  branch {}{verdict}", i + 1);
                            c.render(&mut out, 4, "when ");
                        }
                        None => {
                            let reached = if b.value.value == NodeValue::NotEvaluated {
                                " (not reached)"
                            } else {
                                ""
                            };
                            let _ = writeln!(out, "  else{verdict}{reached}");
                        }
                    }
                    if b.value.value != NodeValue::NotEvaluated {
                        b.value.render(&mut out, 4, "=> ");
                    }
                }
            }
            Detail::Experiment(e) => {
                e.unit.render(&mut out, 2, "unit ");
                match e.forced {
                    Some("context") => out
                        .push_str("  forced by the caller: eligibility and coverage are skipped\n"),
                    Some(_) => {
                        out.push_str("  forced by the experiment's `force` list for this unit\n")
                    }
                    None => {}
                }
                if let Some(c) = &e.eligible {
                    c.render(&mut out, 2, "eligible ");
                }
                let _ = writeln!(out, "  coverage {}%", trim(e.coverage * 100.0));
                match e.bucket {
                    Some(b) => {
                        let _ = writeln!(
                            out,
                            "  bucket {b} (hash of the unit with salt {:?})",
                            e.salt
                        );
                    }
                    None => {
                        let _ = writeln!(out, "  bucket: not hashed (salt {:?})", e.salt);
                    }
                }
                for (n, w, (a, z)) in &e.variants {
                    let hit = e.bucket.is_some_and(|b| *a <= b && b < *z);
                    let marker = if hit { "→" } else { " " };
                    let _ = writeln!(out, "  {marker} {n} {}% [{a}, {z})", trim(w * 100.0));
                }
            }
        }
        for e in &self.errors {
            let _ = writeln!(
                out,
                "  error at {}: {}",
                e["at"].as_str().unwrap_or(""),
                e["message"].as_str().unwrap_or("")
            );
        }
        out
    }
}

/// Long values (whole event lists) are cut for people; `--json` has them
/// in full.
fn shorten(s: String) -> String {
    const MAX: usize = 100;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

fn trim(f: f64) -> String {
    let s = format!("{f:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
