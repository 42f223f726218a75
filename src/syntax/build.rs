//! Building the AST: the part of parsing that does not depend on how the
//! text was read.
//!
//! Both readers of the grammar, pest ([`super::parser`]) and the
//! hand-written descent ([`super::descent`]), hand their tokens to one
//! [`Builder`]. It makes the nodes, with their spans, and owns the checks
//! that are clearer after parsing than in a grammar:
//! - literals: numbers, durations, times and escapes;
//! - snake_case item names;
//! - chained comparisons;
//! - the depth of the expression tree itself (a chain of 100,000 `+` is
//!   flat for a parser but 100,000 deep as a tree).
//!
//! Guarantee to later stages: no [`Expr`] is nested deeper than
//! `limits.max_nesting_depth`, so recursive passes over the AST are safe.

use std::cell::{Cell, RefCell};

use super::ast::*;
use crate::diagnostic::Diagnostic;
use crate::limits::Limits;
use crate::span::{FileId, Span};

/// An expression under construction, with what its parent needs to know.
pub(super) struct Node {
    pub(super) expr: Expr,
    /// Height of the tree (a leaf is 1).
    pub(super) depth: usize,
    /// An unparenthesised comparison, for the non-associativity check.
    pub(super) comparison: bool,
    /// An integer literal token as written (its magnitude), so that a unary
    /// minus can fold into it; values above `i64::MAX` wait here for a minus.
    pub(super) int_literal: Option<u128>,
    /// The source the operand occupies, brackets included: `expr.span` of a
    /// parenthesised expression leaves its brackets out, but the span of a
    /// node built around it must cover them, or its text would start or end
    /// inside them (`a + 1) * (b`).
    pub(super) outer: Span,
}

pub(super) struct Builder<'l> {
    file: FileId,
    /// Offset in the file of the text pest parsed (an item region's start).
    base: usize,
    limits: &'l Limits,
    diags: RefCell<Vec<Diagnostic>>,
    depth_reported: Cell<bool>,
}

const MAX_I64: u128 = i64::MAX as u128;

impl<'l> Builder<'l> {
    pub(super) fn new(file: FileId, base: usize, limits: &'l Limits) -> Builder<'l> {
        Builder {
            file,
            base,
            limits,
            diags: RefCell::new(Vec::new()),
            depth_reported: Cell::new(false),
        }
    }

    pub(super) fn finish<T>(self, value: T) -> Result<T, Vec<Diagnostic>> {
        let diags = self.diags.into_inner();
        if diags.is_empty() {
            Ok(value)
        } else {
            Err(diags)
        }
    }

    fn error(&self, d: Diagnostic) {
        self.diags.borrow_mut().push(d);
    }

    /// An item's name: snake_case (§1).
    pub(super) fn item_name(&self, id: Ident) -> Ident {
        let ok = id
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            let mut suggestion = String::new();
            for (i, c) in id.name.chars().enumerate() {
                if c.is_ascii_uppercase() {
                    if i > 0 && !suggestion.ends_with('_') {
                        suggestion.push('_');
                    }
                    suggestion.push(c.to_ascii_lowercase());
                } else {
                    suggestion.push(c);
                }
            }
            self.error(
                Diagnostic::error(
                    "item names are snake_case",
                    id.span,
                    "this name has capital letters",
                )
                .with_help(format!("write `{suggestion}`")),
            );
        }
        id
    }

    /// Hands a node to its parent, reporting an integer literal too large
    /// for `i64` that no minus sign claimed.
    pub(super) fn take(&self, n: Node) -> Expr {
        if n.int_literal.is_some_and(|v| v > MAX_I64) {
            self.error(
                Diagnostic::error(
                    "integer literal out of range",
                    n.expr.span,
                    "does not fit in a 64-bit signed integer",
                )
                .with_help("integers range from -9223372036854775808 to 9223372036854775807"),
            );
        }
        n.expr
    }

    /// A new node over children of the given height; enforces the depth
    /// guarantee of this module.
    pub(super) fn node(&self, kind: ExprKind, span: Span, child_depth: usize) -> Node {
        let depth = child_depth + 1;
        if depth > self.limits.max_nesting_depth {
            if !self.depth_reported.replace(true) {
                self.error(
                    Diagnostic::error(
                        format!(
                            "expression nested too deeply (limit {})",
                            self.limits.max_nesting_depth
                        ),
                        span,
                        "this expression is too deep",
                    )
                    .with_help("split it into several `let`s"),
                );
            }
            return self.leaf(ExprKind::Null, span);
        }
        Node {
            expr: Expr::new(kind, span),
            depth,
            comparison: false,
            int_literal: None,
            outer: span,
        }
    }

    pub(super) fn leaf(&self, kind: ExprKind, span: Span) -> Node {
        Node {
            expr: Expr::new(kind, span),
            depth: 1,
            comparison: false,
            int_literal: None,
            outer: span,
        }
    }

    fn chained(&self, op_span: Span) {
        self.error(
            Diagnostic::error(
                "comparisons cannot be chained",
                op_span,
                "this compares the result of another comparison",
            )
            .with_help("parenthesise, or write `a < b and b < c`"),
        );
    }

    /// A span in the file from offsets in the text being parsed.
    pub(super) fn span_at(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, self.base + start, self.base + end)
    }

    /// `( inner )`: the node keeps the inner expression, and remembers the
    /// brackets in `outer`.
    pub(super) fn paren(&self, inner: Node, outer: Span) -> Node {
        Node {
            depth: inner.depth,
            expr: self.take(inner),
            comparison: false,
            int_literal: None,
            outer,
        }
    }

    /// A time token (`@2026-11-20T12:00:00Z`) as a node.
    pub(super) fn time(&self, text: &str, span: Span) -> Node {
        // The same instants as profile data (LANGUAGE.md §14); a literal's
        // token has no spaces, so the form with a space never reaches here.
        match crate::time::parse_time(&text[1..]).ok() {
            Some(ms) => self.leaf(ExprKind::Time(ms), span),
            None => {
                self.error(
                    Diagnostic::error(
                        format!("bad time literal `{text}`"),
                        span,
                        "not a valid instant",
                    )
                    .with_help(
                        "write an RFC 3339 instant with seconds and a zone, \
                         `@2026-11-20T12:00:00Z` or `@2026-11-20T12:00:00+01:00`, \
                         or a date, `@2026-11-20`",
                    ),
                );
                self.leaf(ExprKind::Time(0), span)
            }
        }
    }

    /// A `}` alone in an interpolating string.
    pub(super) fn lone_rbrace(&self, span: Span) {
        self.error(
            Diagnostic::error(
                "unmatched `}` in string",
                span,
                "no `{` opened an interpolation here",
            )
            .with_help("write `}}` for a literal brace"),
        );
    }

    /// A map key written as a string: its text, or an error for each
    /// interpolation in it.
    pub(super) fn string_key(&self, parts: Vec<StrPart>, span: Span) -> Ident {
        let mut name = String::new();
        for part in parts {
            match part {
                StrPart::Text(t) => name.push_str(&t),
                StrPart::Expr(e) => self.error(
                    Diagnostic::error(
                        "a map key cannot be interpolated",
                        e.span,
                        "interpolation in a key",
                    )
                    .with_help("write `{{` for a literal brace"),
                ),
            }
        }
        Ident { name, span }
    }

    /// `lhs op rhs`; `op_span` is the operator's own text.
    pub(super) fn binary(&self, lhs: Node, bin: BinaryOp, op_span: Span, rhs: Node) -> Node {
        let comparison = bin.is_comparison();
        if comparison && (lhs.comparison || rhs.comparison) {
            self.chained(op_span);
        }
        let span = lhs.outer.to(rhs.outer);
        let depth = lhs.depth.max(rhs.depth);
        let kind = ExprKind::Binary(bin, Box::new(self.take(lhs)), Box::new(self.take(rhs)));
        let mut n = self.node(kind, span, depth);
        n.comparison = comparison;
        n
    }

    /// `-rhs` or `not rhs`. A minus folds into an integer literal, which is
    /// how `-9223372036854775808` can be written at all.
    pub(super) fn unary(&self, op: UnaryOp, op_span: Span, rhs: Node) -> Node {
        let span = op_span.to(rhs.outer);
        if op == UnaryOp::Neg {
            if let Some(v) = rhs.int_literal {
                if v <= MAX_I64 + 1 {
                    let value = (-(v as i128)) as i64;
                    return self.leaf(ExprKind::Int(value), span);
                }
            }
        }
        let depth = rhs.depth;
        self.node(ExprKind::Unary(op, Box::new(self.take(rhs))), span, depth)
    }

    /// `if condition then then else otherwise`; `head` runs from `if` to
    /// `else`.
    pub(super) fn if_then_else(
        &self,
        head: Span,
        condition: Node,
        then: Node,
        otherwise: Node,
    ) -> Node {
        let span = head.to(otherwise.outer);
        let depth = condition.depth.max(then.depth).max(otherwise.depth);
        let kind = ExprKind::If {
            condition: Box::new(self.take(condition)),
            then: Box::new(self.take(then)),
            otherwise: Box::new(self.take(otherwise)),
        };
        self.node(kind, span, depth)
    }

    /// A postfix operator applied to `lhs`, ending where `op_span` ends.
    /// `comparison_at` is the operator keyword of a comparison (`is`,
    /// `between`, …), which may not follow another comparison; `kind`
    /// builds the node around the finished operand and raises `depth` by
    /// whatever else the operator holds.
    pub(super) fn postfix(
        &self,
        lhs: Node,
        op_span: Span,
        comparison_at: Option<Span>,
        kind: impl FnOnce(Box<Expr>, &mut usize) -> ExprKind,
    ) -> Node {
        let span = lhs.outer.to(op_span);
        if let Some(at) = comparison_at {
            if lhs.comparison {
                self.chained(at);
            }
        }
        let mut depth = lhs.depth;
        let operand = Box::new(self.take(lhs));
        let kind = kind(operand, &mut depth);
        let mut n = self.node(kind, span, depth);
        n.comparison = comparison_at.is_some();
        n
    }

    /// A number token (`42`, `1.5e3`, `50%`, `90s`, …) as a node.
    pub(super) fn number(&self, text: &str, span: Span) -> Node {
        let lit = split_number(text);
        if !lit.suffix.is_empty() && lit.suffix != "%" {
            return self.duration(text, &lit, span);
        }
        let percent = lit.suffix == "%";
        if lit.frac.is_empty() && lit.exp.is_none() && !percent {
            // An integer; magnitudes beyond u128 saturate (still out of range).
            let v = lit.int.bytes().fold(0u128, |acc, d| {
                acc.saturating_mul(10).saturating_add((d - b'0') as u128)
            });
            let mut n = self.leaf(ExprKind::Int(if v <= MAX_I64 { v as i64 } else { 0 }), span);
            n.int_literal = Some(v);
            return n;
        }
        let mantissa = format!("{}{}", lit.int, lit.frac);
        let exp: i64 = lit.exp.unwrap_or(0).clamp(-100_000, 100_000);
        let shift = exp - lit.frac.len() as i64 - if percent { 2 } else { 0 };
        let value: f64 = format!("{mantissa}e{shift}")
            .parse()
            .unwrap_or(f64::INFINITY);
        if !value.is_finite() {
            self.error(Diagnostic::error(
                "number literal out of range",
                span,
                "too large for a float",
            ));
        }
        let decimal = exact_decimal(&mantissa, shift);
        self.leaf(ExprKind::Float(value, decimal), span)
    }

    fn duration(&self, text: &str, lit: &NumberParts, span: Span) -> Node {
        let unit_ms: Option<i64> = match lit.suffix.as_str() {
            "ms" => Some(1),
            "s" => Some(1_000),
            "m" => Some(60_000),
            "h" => Some(3_600_000),
            "d" => Some(86_400_000),
            "w" => Some(604_800_000),
            _ => None,
        };
        let whole = lit.frac.is_empty() && lit.exp.is_none();
        let Some(unit) = unit_ms.filter(|_| whole) else {
            self.error(
                Diagnostic::error(
                    format!("bad duration literal `{text}`"),
                    span,
                    "not a duration",
                )
                .with_help(
                    "a duration is a whole number followed by one of the units \
                     ms, s, m, h, d, w: `90s`, `30m`, `24h`, `7d`",
                ),
            );
            return self.leaf(ExprKind::Duration(0), span);
        };
        let ms = lit
            .int
            .parse::<i64>()
            .ok()
            .and_then(|n| n.checked_mul(unit));
        match ms {
            Some(ms) => self.leaf(ExprKind::Duration(ms), span),
            None => {
                self.error(Diagnostic::error(
                    "duration literal out of range",
                    span,
                    "too long to count in milliseconds",
                ));
                self.leaf(ExprKind::Duration(0), span)
            }
        }
    }

    /// Appends the character escape `raw` (`\n`, `\u{1F600}`, …) stands for.
    pub(super) fn escape(&self, raw: &str, span: Span, out: &mut String) {
        let c = match raw {
            "\\n" => Some('\n'),
            "\\t" => Some('\t'),
            "\\\"" => Some('"'),
            "\\\\" => Some('\\'),
            _ => raw
                .strip_prefix("\\u{")
                .and_then(|r| r.strip_suffix('}'))
                .filter(|h| !h.is_empty() && h.len() <= 6)
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => out.push(c),
            None => self.error(
                Diagnostic::error(
                    format!("bad escape `{raw}` in string"),
                    span,
                    "unknown escape",
                )
                .with_help(
                    "the escapes are `\\n`, `\\t`, `\\\"`, `\\\\` and `\\u{…}` (1–6 hex digits)",
                ),
            ),
        }
    }
}

/// The pattern of `matches`: `\"` is a quote, every other backslash stays.
pub(super) fn raw_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('"') => out.push('"'),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A number token taken apart; `_` separators removed.
struct NumberParts {
    int: String,
    frac: String,
    exp: Option<i64>,
    /// `%`, a duration unit, or anything else written after the digits.
    suffix: String,
}

fn split_number(text: &str) -> NumberParts {
    let b = text.as_bytes();
    let mut i = 0;
    let mut int = String::new();
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        if b[i] != b'_' {
            int.push(b[i] as char);
        }
        i += 1;
    }
    let mut frac = String::new();
    if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            if b[i] != b'_' {
                frac.push(b[i] as char);
            }
            i += 1;
        }
    }
    let mut exp = None;
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        let negative = b.get(j) == Some(&b'-');
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if b.get(j).is_some_and(u8::is_ascii_digit) {
            let mut e: i64 = 0;
            while j < b.len() && b[j].is_ascii_digit() {
                e = e.saturating_mul(10).saturating_add((b[j] - b'0') as i64);
                j += 1;
            }
            exp = Some(if negative { -e } else { e });
            i = j;
        }
    }
    NumberParts {
        int,
        frac,
        exp,
        suffix: text[i..].to_string(),
    }
}

/// `mantissa × 10^shift` as digits / 10^scale, when it fits an i128.
fn exact_decimal(mantissa: &str, shift: i64) -> Option<Decimal> {
    let digits: i128 = mantissa.parse().ok()?;
    if shift <= 0 {
        let scale = u32::try_from(-shift).ok()?;
        if scale > 38 && digits != 0 {
            return None;
        }
        Some(Decimal { digits, scale })
    } else {
        let factor = 10i128.checked_pow(u32::try_from(shift).ok()?)?;
        Some(Decimal {
            digits: digits.checked_mul(factor)?,
            scale: 0,
        })
    }
}
