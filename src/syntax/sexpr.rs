//! A compact S-expression rendering of the AST, for snapshot tests and
//! debugging: `(and (< user.age 30) (> behavior.feature_usage 0.5))`.
//!
//! One item per line (clauses of block items indented below it). Field
//! chains print dotted (`user.age`, `.props.plan`), literals as written in
//! the language where that is unambiguous (`@2026-11-20T12:00:00Z`; durations
//! in the largest exact unit, as results print them: `24h` shows as `1d`),
//! operators and calls in prefix position (`(count events)`; special forms
//! use reserved words or symbols, `(where …)`, `([] xs 0)`, so they cannot be
//! mistaken for calls). Spans are not shown.

use std::fmt::Write;

use super::ast::*;

/// Renders a module, one item per line.
pub fn module_to_sexpr(m: &Module) -> String {
    let mut out = String::new();
    for item in &m.items {
        item_sexpr(&mut out, item);
        out.push('\n');
    }
    out
}

/// Renders one expression on one line.
pub fn expr_to_sexpr(e: &Expr) -> String {
    let mut out = String::new();
    expr(&mut out, e);
    out
}

fn item_sexpr(out: &mut String, item: &Item) {
    match &item.kind {
        ItemKind::Schema(s) => {
            out.push_str("(schema");
            for entry in &s.entries {
                out.push_str("\n  ");
                match entry {
                    SchemaEntry::Field { path, ty, .. } => {
                        out.push('(');
                        path_sexpr(out, path);
                        out.push(' ');
                        type_sexpr(out, ty);
                        out.push(')');
                    }
                    SchemaEntry::Event { name, props, .. } => {
                        out.push_str("(event ");
                        quote(out, &name.value);
                        for (field, ty) in props {
                            let _ = write!(out, " ({} ", field.name);
                            type_sexpr(out, ty);
                            out.push(')');
                        }
                        out.push(')');
                    }
                }
            }
            out.push(')');
        }
        ItemKind::Let(l) => {
            let _ = write!(out, "(let {} ", l.name.name);
            expr(out, &l.value);
            out.push(')');
        }
        ItemKind::Segment(s) => {
            let _ = write!(out, "(segment {} ", s.name.name);
            label(out, &s.label);
            expr(out, &s.body);
            out.push(')');
        }
        ItemKind::Decision(d) => {
            let _ = write!(out, "(decision {}", d.name.name);
            if let Some(l) = &d.label {
                out.push(' ');
                quote(out, &l.value);
            }
            match d.policy {
                Some((HitPolicy::First, _)) => out.push_str(" first"),
                Some((HitPolicy::Collect, _)) => out.push_str(" collect"),
                None => {}
            }
            for b in &d.branches {
                out.push_str("\n  ");
                match &b.condition {
                    Some(c) => {
                        out.push_str("(when ");
                        expr(out, c);
                        out.push(' ');
                    }
                    None => out.push_str("(else "),
                }
                expr(out, &b.value);
                out.push(')');
            }
            out.push(')');
        }
        ItemKind::Experiment(x) => {
            let _ = write!(out, "(experiment {}", x.name.name);
            if let Some(l) = &x.label {
                out.push(' ');
                quote(out, &l.value);
            }
            for c in &x.clauses {
                out.push_str("\n  ");
                match &c.kind {
                    ExperimentClauseKind::Unit(e) => tagged(out, "unit", e),
                    ExperimentClauseKind::Salt(s) => {
                        out.push_str("(salt ");
                        quote(out, &s.value);
                        out.push(')');
                    }
                    ExperimentClauseKind::Eligible(e) => tagged(out, "eligible", e),
                    ExperimentClauseKind::Coverage(e) => tagged(out, "coverage", e),
                    ExperimentClauseKind::Variants(vs) => {
                        out.push_str("(variants");
                        for (name, weight) in vs {
                            let _ = write!(out, " ({} ", name.name);
                            expr(out, weight);
                            out.push(')');
                        }
                        out.push(')');
                    }
                    ExperimentClauseKind::Force(fs) => {
                        out.push_str("(force");
                        for (unit, variant) in fs {
                            out.push_str(" (");
                            quote(out, &unit.value);
                            let _ = write!(out, " {})", variant.name);
                        }
                        out.push(')');
                    }
                }
            }
            out.push(')');
        }
        ItemKind::Trigger(t) => {
            let _ = write!(out, "(trigger {} ", t.name.name);
            quote(out, &t.on.value);
            if let Some(c) = &t.condition {
                out.push_str("\n  ");
                tagged(out, "when", c);
            }
            for e in &t.actions {
                out.push_str("\n  (emit ");
                quote(out, &e.action.value);
                if let Some(p) = &e.payload {
                    out.push(' ');
                    expr(out, p);
                }
                out.push(')');
            }
            out.push(')');
        }
        ItemKind::Test(t) => {
            out.push_str("(test ");
            quote(out, &t.name.value);
            for s in &t.body {
                out.push_str("\n  ");
                match &s.kind {
                    TestStmtKind::Now(e) => tagged(out, "now", e),
                    TestStmtKind::Expect(e) => tagged(out, "expect", e),
                    TestStmtKind::GivenLiteral { profile, with } => {
                        out.push_str("(given ");
                        expr(out, profile);
                        with_sexpr(out, with);
                        out.push(')');
                    }
                    TestStmtKind::GivenFile { path, with } => {
                        out.push_str("(given-file ");
                        quote(out, &path.value);
                        with_sexpr(out, with);
                        out.push(')');
                    }
                    TestStmtKind::GivenVariant {
                        experiment,
                        variant,
                    } => {
                        let _ = write!(out, "(given-variant {} ", experiment.name);
                        quote(out, &variant.value);
                        out.push(')');
                    }
                    TestStmtKind::GivenEvent(e) => tagged(out, "given-event", e),
                }
            }
            out.push(')');
        }
    }
}

fn tagged(out: &mut String, tag: &str, e: &Expr) {
    let _ = write!(out, "({tag} ");
    expr(out, e);
    out.push(')');
}

fn label(out: &mut String, l: &Option<StrLit>) {
    if let Some(l) = l {
        quote(out, &l.value);
        out.push(' ');
    }
}

fn with_sexpr(out: &mut String, with: &[(Vec<Ident>, Expr)]) {
    if with.is_empty() {
        return;
    }
    out.push_str(" (with");
    for (path, value) in with {
        out.push_str(" (");
        path_sexpr(out, path);
        out.push(' ');
        expr(out, value);
        out.push(')');
    }
    out.push(')');
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn path_sexpr(out: &mut String, path: &[Ident]) {
    for (i, seg) in path.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        if is_name(&seg.name) {
            out.push_str(&seg.name);
        } else {
            quote(out, &seg.name);
        }
    }
}

fn type_sexpr(out: &mut String, ty: &TypeExpr) {
    match &ty.kind {
        TypeExprKind::Named(n) => out.push_str(&n.name),
        TypeExprKind::List(inner) => {
            out.push_str("list<");
            type_sexpr(out, inner);
            out.push('>');
        }
        TypeExprKind::Record(fields) => {
            out.push('{');
            for (i, (name, t)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "{}: ", name.name);
                type_sexpr(out, t);
            }
            out.push('}');
        }
        TypeExprKind::Enum(members) => {
            for (i, m) in members.iter().enumerate() {
                if i > 0 {
                    out.push_str(" | ");
                }
                quote(out, &m.value);
            }
        }
    }
    if ty.nullable {
        out.push('?');
    }
}

fn quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Whether an expression prints as a dotted chain (`user.age`, `.props.plan`).
fn is_path(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Name(_)
        | ExprKind::ElementField(_)
        | ExprKind::It
        | ExprKind::Now
        | ExprKind::Event
        | ExprKind::Profile => true,
        ExprKind::Field(base, _) => is_path(base),
        _ => false,
    }
}

fn duration(out: &mut String, ms: i64) {
    const UNITS: [(i64, &str); 6] = [
        (604_800_000, "w"),
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1_000, "s"),
        (1, "ms"),
    ];
    if ms == 0 {
        out.push_str("0s");
        return;
    }
    let (unit, suffix) = UNITS
        .iter()
        .find(|(u, _)| ms % u == 0)
        .copied()
        .unwrap_or((1, "ms"));
    let _ = write!(out, "{}{suffix}", ms / unit);
}

/// Epoch milliseconds as `@YYYY-MM-DDTHH:MM:SS[.mmm]Z`.
fn time(out: &mut String, ms: i64) {
    let days = ms.div_euclid(86_400_000);
    let rest = ms.rem_euclid(86_400_000);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s, milli) = (
        rest / 3_600_000,
        rest / 60_000 % 60,
        rest / 1_000 % 60,
        rest % 1_000,
    );
    let _ = write!(out, "@{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}");
    if milli != 0 {
        let _ = write!(out, ".{milli:03}");
    }
    out.push('Z');
}

fn list(out: &mut String, items: &[Expr]) {
    out.push('[');
    for (i, e) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        expr(out, e);
    }
    out.push(']');
}

fn args(out: &mut String, head: &str, parts: &[&Expr]) {
    let _ = write!(out, "({head}");
    for p in parts {
        out.push(' ');
        expr(out, p);
    }
    out.push(')');
}

fn expr(out: &mut String, e: &Expr) {
    match &e.kind {
        ExprKind::Null => out.push_str("null"),
        ExprKind::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        ExprKind::Int(i) => {
            let _ = write!(out, "{i}");
        }
        ExprKind::Float(f, d) => {
            let _ = write!(out, "{f:?}");
            if d.is_none() {
                out.push('~');
            }
        }
        ExprKind::Str(parts) => match parts.as_slice() {
            [] => out.push_str("\"\""),
            [StrPart::Text(t)] => quote(out, t),
            parts => {
                // An interpolated string prints as a template whose holes
                // hold S-expressions: `"Hi {(title user.name)}!"`.
                out.push('"');
                for p in parts {
                    match p {
                        StrPart::Text(t) => {
                            let mut q = String::new();
                            quote(&mut q, t);
                            out.push_str(&q[1..q.len() - 1].replace('{', "{{").replace('}', "}}"));
                        }
                        StrPart::Expr(e) => {
                            out.push('{');
                            expr(out, e);
                            out.push('}');
                        }
                    }
                }
                out.push('"');
            }
        },
        ExprKind::Time(ms) => time(out, *ms),
        ExprKind::Duration(ms) => duration(out, *ms),
        ExprKind::List(items) => list(out, items),
        ExprKind::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                if is_name(&k.name) {
                    out.push_str(&k.name);
                } else {
                    quote(out, &k.name);
                }
                out.push_str(": ");
                expr(out, v);
            }
            out.push('}');
        }
        ExprKind::Name(n) => out.push_str(&n.name),
        ExprKind::It => out.push_str("it"),
        ExprKind::Now => out.push_str("now"),
        ExprKind::Event => out.push_str("event"),
        ExprKind::Profile => out.push_str("profile"),
        ExprKind::ElementField(n) => {
            let _ = write!(out, ".{}", n.name);
        }
        ExprKind::Field(base, name) => {
            if is_path(base) {
                expr(out, base);
                let _ = write!(out, ".{}", name.name);
            } else {
                out.push_str("(. ");
                expr(out, base);
                let _ = write!(out, " {})", name.name);
            }
        }
        ExprKind::Index(base, index) => args(out, "[]", &[base, index]),
        ExprKind::Call { function, args: a } => {
            let parts: Vec<&Expr> = a.iter().collect();
            args(out, &function.name, &parts);
        }
        ExprKind::Unary(UnaryOp::Neg, x) => args(out, "-", &[x]),
        ExprKind::Unary(UnaryOp::Not, x) => args(out, "not", &[x]),
        ExprKind::Binary(BinaryOp::NotIn, l, r) => args(out, "not-in", &[l, r]),
        ExprKind::Binary(op, l, r) => args(out, op.symbol(), &[l, r]),
        ExprKind::IsNull { operand, negated } => args(
            out,
            if *negated { "is-not-null" } else { "is-null" },
            &[operand],
        ),
        ExprKind::Between { operand, low, high } => args(out, "between", &[operand, low, high]),
        ExprKind::Within {
            operand,
            duration,
            anchor,
        } => match anchor {
            WindowAnchor::Past => args(out, "within", &[operand, duration]),
            WindowAnchor::Next => args(out, "within-next", &[operand, duration]),
            WindowAnchor::After(x) => args(out, "within-after", &[operand, duration, x]),
            WindowAnchor::Before(x) => args(out, "within-before", &[operand, duration, x]),
        },
        ExprKind::Matches {
            operand, pattern, ..
        } => {
            out.push_str("(matches ");
            expr(out, operand);
            out.push_str(" \"");
            out.push_str(&pattern.replace('"', "\\\""));
            out.push_str("\")");
        }
        ExprKind::If {
            condition,
            then,
            otherwise,
        } => args(out, "if", &[condition, then, otherwise]),
        ExprKind::Where {
            list,
            binder,
            condition,
        } => {
            out.push_str("(where ");
            expr(out, list);
            if let Some(b) = binder {
                let _ = write!(out, " as {}", b.name);
            }
            out.push(' ');
            expr(out, condition);
            out.push(')');
        }
    }
}
