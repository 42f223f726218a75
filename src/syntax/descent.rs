//! A hand-written reader for the grammar of `grammar/onramp.pest`, tried
//! before pest because it reads a rule file about ten times faster.
//!
//! It reads the same language as the grammar, token for token (the same
//! implicit whitespace and comments, the same ordered choices), and builds
//! the tree through the same [`Builder`], so every span, literal and check
//! comes out as pest's path makes it. What it does not do is explain
//! mistakes: at the first thing it does not expect, or anything pest would
//! have to backtrack over, it gives up, and the caller reads the text again
//! with pest, whose errors are worded from the grammar. A diagnostic from
//! the builder (a bad literal, a capitalised name) sends the text to pest
//! too, so no message depends on which reader ran. A text either gives the
//! same tree both ways or is read by pest alone; the tests in
//! `tests/descent.rs` hold it to that on the example rules, every rule
//! file in the tests and generated and damaged programs.
//!
//! Changing the grammar means changing this reader too. Until it is, text
//! that uses new syntax is read by pest alone (correct, only slower), and
//! `tests/descent.rs` fails on the first rule file in the tests that uses
//! it; text whose meaning changed gives a different tree here and fails the
//! same tests.
//!
//! The expression grammar is flat in pest (`prefix* operand postfix*
//! (infix prefix* operand postfix*)*`) with precedence applied afterwards
//! by pest's Pratt parser; here the same binding powers drive precedence
//! climbing directly, with the same outcome for every operator sequence.

use super::ast::*;
use super::build::{raw_pattern, Builder, Node};
use super::parser::RESERVED;
use crate::limits::Limits;
use crate::span::FileId;

/// The items of `text` (an item region at offset `base` of its file), or
/// `None` where pest must read it.
pub(super) fn module(file: FileId, base: usize, text: &str, limits: &Limits) -> Option<Vec<Item>> {
    shallow_module(file, base, text, limits, usize::MAX)
}

/// [`module`], giving up as well past `max_nesting` levels of nesting,
/// counted as the pre-check scanner counts them: one per open bracket or
/// interpolation (and type inside a type), plus one per prefix operator
/// (`-`, `not`, `if`) until the expression it is in ends at a `,`, a `:`,
/// a closing bracket or the next part of an item. Every cycle of the
/// reader's recursion passes a bracket or a prefix, so it then recurses
/// only so deep; and it counts every level the scanner counts but for at
/// most [`UNCOUNTED`].
pub(super) fn shallow_module(
    file: FileId,
    base: usize,
    text: &str,
    limits: &Limits,
    max_nesting: usize,
) -> Option<Vec<Item>> {
    let builder = Builder::new(file, base, limits);
    let mut descent = Descent::new(text, &builder);
    descent.max_nesting = max_nesting;
    let items = descent.items().ok()?;
    builder.finish(items).ok()
}

/// How many levels the scanner may count that [`shallow_module`] does
/// not: the braces of an item and of a block inside it (`experiment {
/// variants { … } }`), which the reader does not count as brackets.
pub(super) const UNCOUNTED: usize = 2;

/// One expression that is all of `text`, or `None` where pest must read it.
pub(super) fn expression(file: FileId, text: &str, limits: &Limits) -> Option<Expr> {
    let builder = Builder::new(file, 0, limits);
    let mut d = Descent::new(text, &builder);
    d.skip_bom();
    let node = d.full_expr().ok()?;
    d.skip();
    if d.pos != text.len() {
        return None;
    }
    let expr = builder.take(node);
    builder.finish(expr).ok()
}

/// The reader met something it leaves to pest.
struct GaveUp;

type Read<T> = Result<T, GaveUp>;

/// Binding powers, as pest's `PrattParser` numbers the levels of
/// `parser::pratt()` (loosest first, from 20 in steps of 10).
const IF: u8 = 20;
const OR: u8 = 30;
const AND: u8 = 40;
const NOT: u8 = 50;
const COMPARE: u8 = 60;
const COALESCE: u8 = 70;
const SUM: u8 = 80;
const PRODUCT: u8 = 90;
const NEG: u8 = 100;
const ACCESS: u8 = 110;

/// Which operators an expression may use: all of them (`expr`), or those
/// of the bounds of `between` and `within` (`additive`: arithmetic,
/// unary minus, `.field` and `[index]`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Full,
    Additive,
}

/// An operator that can follow an operand.
#[derive(Clone, Copy)]
enum After {
    /// An infix operator and the length of its text.
    Infix(BinaryOp, usize),
    Field,
    Index,
    IsNull,
    Between,
    Within,
    Matches,
}

impl After {
    fn binding_power(self) -> u8 {
        match self {
            After::Infix(op, _) => infix_power(op),
            After::Field | After::Index => ACCESS,
            After::IsNull | After::Between | After::Within | After::Matches => COMPARE,
        }
    }
}

fn infix_power(op: BinaryOp) -> u8 {
    use BinaryOp::*;
    match op {
        Or => OR,
        And => AND,
        Coalesce => COALESCE,
        Add | Sub => SUM,
        Mul | Div | Rem => PRODUCT,
        _ => COMPARE,
    }
}

/// `ident_char`, as a table: words are most of what the reader reads.
static IDENT_CHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        table[c] = b.is_ascii_alphanumeric() || b == b'_';
        c += 1;
    }
    table
};

fn is_ident_char(c: u8) -> bool {
    IDENT_CHAR[c as usize]
}

struct Descent<'t, 'b, 'l> {
    text: &'t str,
    bytes: &'t [u8],
    pos: usize,
    /// Where the last token read ends: a span runs from its first token
    /// to here, never over the whitespace after it.
    last_end: usize,
    b: &'b Builder<'l>,
    /// Levels of nesting open at the cursor (see [`shallow_module`]).
    nesting: usize,
    /// Past this many, the reader gives up.
    max_nesting: usize,
}

impl<'t, 'b, 'l> Descent<'t, 'b, 'l> {
    fn new(text: &'t str, b: &'b Builder<'l>) -> Self {
        Descent {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            last_end: 0,
            b,
            nesting: 0,
            max_nesting: usize::MAX,
        }
    }

    /// One level deeper (an opening bracket or a prefix operator), or
    /// gives up past the limit.
    fn deeper(&mut self) -> Read<()> {
        if self.nesting >= self.max_nesting {
            return Err(GaveUp);
        }
        self.nesting += 1;
        Ok(())
    }

    /// A bracketed part, after its opening bracket: one level deeper,
    /// with whatever its prefix operators added, until it is read.
    fn bracketed<T>(&mut self, read: impl FnOnce(&mut Self) -> Read<T>) -> Read<T> {
        self.element(|d| {
            d.deeper()?;
            read(d)
        })
    }

    /// An expression ended by a `,`, a `:`, a bracket or the next part of
    /// an item: the levels of its prefix operators end with it.
    fn element<T>(&mut self, read: impl FnOnce(&mut Self) -> Read<T>) -> Read<T> {
        let outside = self.nesting;
        let r = read(self);
        self.nesting = outside;
        r
    }

    // -------------------------------------------------------------- tokens

    /// Whitespace and `#` comments, as pest skips them between tokens.
    fn skip(&mut self) {
        while let Some(&c) = self.bytes.get(self.pos) {
            match c {
                b' ' | b'\t' | b'\r' | b'\n' => self.pos += 1,
                b'#' => {
                    self.pos += self.bytes[self.pos..]
                        .iter()
                        .position(|&c| c == b'\n')
                        .unwrap_or(self.bytes.len() - self.pos);
                }
                _ => return,
            }
        }
    }

    /// `SOI ~ BOM?` with the whitespace pest allows around it.
    fn skip_bom(&mut self) {
        self.skip();
        if self.text[self.pos..].starts_with('\u{FEFF}') {
            self.pos += '\u{FEFF}'.len_utf8();
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn peek_at(&self, at: usize) -> Option<u8> {
        self.bytes.get(at).copied()
    }

    /// The first byte at or after `at` that is not whitespace or a
    /// comment; the cursor stays where it is (a one-token lookahead).
    fn byte_after(&mut self, at: usize) -> Option<u8> {
        let here = self.pos;
        self.pos = at;
        self.skip();
        let next = self.peek();
        self.pos = here;
        next
    }

    /// The word (`[A-Za-z_][A-Za-z0-9_]*`) starting at `at`, if any.
    fn word_at(&self, at: usize) -> Option<&'t str> {
        let first = self.peek_at(at)?;
        if !(first.is_ascii_alphabetic() || first == b'_') {
            return None;
        }
        let mut end = at + 1;
        while end < self.bytes.len() && is_ident_char(self.bytes[end]) {
            end += 1;
        }
        Some(&self.text[at..end])
    }

    /// The word at the cursor, after whitespace, without reading it.
    fn word(&mut self) -> Option<&'t str> {
        self.skip();
        self.word_at(self.pos)
    }

    /// Reads `len` bytes as one token; returns where it starts.
    fn token(&mut self, len: usize) -> usize {
        let start = self.pos;
        self.pos += len;
        self.last_end = self.pos;
        start
    }

    /// Reads the keyword `kw` if it is the word at the cursor.
    fn keyword(&mut self, kw: &str) -> bool {
        if self.word() == Some(kw) {
            self.token(kw.len());
            true
        } else {
            false
        }
    }

    /// Reads the keyword `kw`; returns where it starts.
    fn expect_keyword(&mut self, kw: &str) -> Read<usize> {
        if self.keyword(kw) {
            Ok(self.last_end - kw.len())
        } else {
            Err(GaveUp)
        }
    }

    /// Reads the punctuation `p` if it is next.
    fn punct(&mut self, p: &str) -> bool {
        self.skip();
        if self.text[self.pos..].starts_with(p) {
            self.token(p.len());
            true
        } else {
            false
        }
    }

    fn expect_punct(&mut self, p: &str) -> Read<()> {
        if self.punct(p) {
            Ok(())
        } else {
            Err(GaveUp)
        }
    }

    /// `assign = { "=" ~ !("=" | ">") }`: pest skips whitespace before the
    /// lookahead, so `= =` is no assignment either.
    fn assign(&mut self) -> Read<()> {
        self.expect_punct("=")?;
        if matches!(self.byte_after(self.pos), Some(b'=' | b'>')) {
            return Err(GaveUp);
        }
        Ok(())
    }

    /// A word as an identifier, read at the cursor (already skipped to).
    fn ident_of(&mut self, word: &str) -> Ident {
        let start = self.token(word.len());
        Ident {
            name: word.to_string(),
            span: self.b.span_at(start, self.pos),
        }
    }

    /// `name`: a word that is not reserved.
    fn name(&mut self) -> Read<Ident> {
        match self.word() {
            Some(w) if !RESERVED.contains(&w) => Ok(self.ident_of(w)),
            _ => Err(GaveUp),
        }
    }

    /// `field_name`: any word.
    fn field_name(&mut self) -> Read<Ident> {
        let w = self.word().ok_or(GaveUp)?;
        Ok(self.ident_of(w))
    }

    /// `str_escape`, at its backslash, appended to `out` as what it means.
    fn escape(&mut self, out: &mut String) -> Read<()> {
        let start = self.pos;
        self.pos += 1;
        if self.text[self.pos..].starts_with("u{") {
            self.pos += 2;
            while self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
                self.pos += 1;
            }
            if self.peek() == Some(b'}') {
                self.pos += 1;
            }
        } else {
            match self.text[self.pos..].chars().next() {
                None | Some('\n') => return Err(GaveUp),
                Some(c) => self.pos += c.len_utf8(),
            }
        }
        let span = self.b.span_at(start, self.pos);
        self.b.escape(&self.text[start..self.pos], span, out);
        Ok(())
    }

    /// Moves past bytes that are none of `stops`; returns the text passed.
    fn run_until(&mut self, stops: &[u8]) -> &'t str {
        let start = self.pos;
        let len = self.bytes[start..]
            .iter()
            .position(|c| stops.contains(c))
            .unwrap_or(self.bytes.len() - start);
        self.pos += len;
        &self.text[start..self.pos]
    }

    /// `plain_string`: a string that does not interpolate.
    fn plain_string(&mut self) -> Read<StrLit> {
        self.skip();
        if self.peek() != Some(b'"') {
            return Err(GaveUp);
        }
        let start = self.pos;
        self.pos += 1;
        let mut value = String::new();
        loop {
            match self.peek() {
                Some(b'"') => break,
                None | Some(b'\n') => return Err(GaveUp),
                Some(b'\\') => self.escape(&mut value)?,
                Some(_) => value.push_str(self.run_until(b"\"\\\n")),
            }
        }
        self.token(1);
        Ok(StrLit {
            value,
            span: self.b.span_at(start, self.pos),
        })
    }

    /// `string`, at its opening quote: text, escapes, `{{`, `}}` and
    /// interpolations. Returns the parts and the deepest interpolation.
    fn string(&mut self) -> Read<(Vec<StrPart>, usize)> {
        self.pos += 1;
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut depth = 0;
        loop {
            match self.peek() {
                Some(b'"') => break,
                None | Some(b'\n') => return Err(GaveUp),
                Some(b'\\') => self.escape(&mut text)?,
                Some(b'{') if self.peek_at(self.pos + 1) == Some(b'{') => {
                    self.pos += 2;
                    text.push('{');
                }
                Some(b'}') if self.peek_at(self.pos + 1) == Some(b'}') => {
                    self.pos += 2;
                    text.push('}');
                }
                Some(b'{') => {
                    if !text.is_empty() {
                        parts.push(StrPart::Text(std::mem::take(&mut text)));
                    }
                    self.token(1);
                    let inner = self.bracketed(Self::full_expr)?;
                    self.expect_punct("}")?;
                    depth = depth.max(inner.depth);
                    parts.push(StrPart::Expr(self.b.take(inner)));
                }
                // A lone `}`: pest's path explains it.
                Some(b'}') => return Err(GaveUp),
                Some(_) => text.push_str(self.run_until(b"\"\\{}\n")),
            }
        }
        self.token(1);
        if !text.is_empty() {
            parts.push(StrPart::Text(text));
        }
        Ok((parts, depth))
    }

    /// `number`, at its first digit: digits and `_`, a fraction, an
    /// exponent if complete, then `%` or a word (a duration's unit).
    fn number(&mut self) -> Node {
        let start = self.pos;
        let digits = |d: &Self, mut i: usize| {
            while d
                .peek_at(i)
                .is_some_and(|c| c.is_ascii_digit() || c == b'_')
            {
                i += 1;
            }
            i
        };
        let mut i = digits(self, start + 1);
        if self.peek_at(i) == Some(b'.') && self.peek_at(i + 1).is_some_and(|c| c.is_ascii_digit())
        {
            i = digits(self, i + 2);
        }
        if matches!(self.peek_at(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            if matches!(self.peek_at(j), Some(b'+' | b'-')) {
                j += 1;
            }
            if self.peek_at(j).is_some_and(|c| c.is_ascii_digit()) {
                while self.peek_at(j).is_some_and(|c| c.is_ascii_digit()) {
                    j += 1;
                }
                i = j;
            }
        }
        if self.peek_at(i) == Some(b'%') {
            i += 1;
        } else {
            while self.peek_at(i).is_some_and(is_ident_char) {
                i += 1;
            }
        }
        self.token(i - start);
        self.b
            .number(&self.text[start..i], self.b.span_at(start, i))
    }

    /// `time`, at its `@`.
    fn time(&mut self) -> Node {
        let start = self.pos;
        let mut i = start + 1;
        while let Some(c) = self.peek_at(i) {
            let next_is_digit = self.peek_at(i + 1).is_some_and(|d| d.is_ascii_digit());
            let part = c.is_ascii_alphanumeric()
                || c == b':'
                || c == b'_'
                || (matches!(c, b'.' | b'+' | b'-') && next_is_digit);
            if !part {
                break;
            }
            i += 1;
        }
        self.token(i - start);
        self.b.time(&self.text[start..i], self.b.span_at(start, i))
    }

    /// `"."` then a field name with nothing between (`field_access` and
    /// `element_field`), at the dot.
    fn dotted_field(&mut self) -> Read<Ident> {
        let w = self.word_at(self.pos + 1).ok_or(GaveUp)?;
        self.pos += 1;
        Ok(self.ident_of(w))
    }

    // -------------------------------------------------------------- expressions

    /// `full_expr`: an expression, optionally filtered by `where`.
    fn full_expr(&mut self) -> Read<Node> {
        self.skip();
        let start = self.pos;
        let list = self.climb(0, Mode::Full)?;
        let binder = if self.keyword("as") {
            Some(self.name()?)
        } else {
            None
        };
        if !self.keyword("where") {
            return match binder {
                Some(_) => Err(GaveUp),
                None => Ok(list),
            };
        }
        let condition = self.climb(0, Mode::Full)?;
        let span = self.b.span_at(start, self.last_end);
        let depth = list.depth.max(condition.depth);
        let kind = ExprKind::Where {
            list: Box::new(self.b.take(list)),
            binder,
            condition: Box::new(self.b.take(condition)),
        };
        Ok(self.b.node(kind, span, depth))
    }

    /// Operators binding tighter than `min_power`, around one operand.
    fn climb(&mut self, min_power: u8, mode: Mode) -> Read<Node> {
        let mut lhs = self.prefixed(mode)?;
        loop {
            self.skip();
            let Some(op) = self.operator_after(mode) else {
                return Ok(lhs);
            };
            if op.binding_power() <= min_power {
                return Ok(lhs);
            }
            lhs = self.apply(lhs, op, mode)?;
        }
    }

    /// An operand with its prefix operators (`if … then … else`, `not`,
    /// `-`); each takes what binds tighter than itself.
    fn prefixed(&mut self, mode: Mode) -> Read<Node> {
        self.skip();
        let start = self.pos;
        match self.peek() {
            Some(b'-') => {
                self.token(1);
                let op_span = self.b.span_at(start, self.pos);
                self.deeper()?;
                let rhs = self.climb(NEG - 1, mode)?;
                Ok(self.b.unary(UnaryOp::Neg, op_span, rhs))
            }
            _ if mode == Mode::Additive => self.operand(),
            _ => match self.word_at(start) {
                Some("not") => {
                    self.token(3);
                    let op_span = self.b.span_at(start, self.pos);
                    self.deeper()?;
                    let rhs = self.climb(NOT - 1, mode)?;
                    Ok(self.b.unary(UnaryOp::Not, op_span, rhs))
                }
                Some("if") => {
                    self.token(2);
                    self.deeper()?;
                    let condition = self.full_expr()?;
                    self.expect_keyword("then")?;
                    let then = self.full_expr()?;
                    self.expect_keyword("else")?;
                    let head = self.b.span_at(start, self.last_end);
                    let otherwise = self.climb(IF - 1, mode)?;
                    Ok(self.b.if_then_else(head, condition, then, otherwise))
                }
                _ => self.operand(),
            },
        }
    }

    /// The operator at the cursor that may follow an operand, if any.
    fn operator_after(&self, mode: Mode) -> Option<After> {
        use BinaryOp::*;
        let rest = &self.bytes[self.pos..];
        let infix = |op, len| Some(After::Infix(op, len));
        match *rest.first()? {
            b'.' if self.word_at(self.pos + 1).is_some() => Some(After::Field),
            b'[' => Some(After::Index),
            b'+' => infix(Add, 1),
            b'-' => infix(Sub, 1),
            b'*' => infix(Mul, 1),
            b'/' => infix(Div, 1),
            b'%' => infix(Rem, 1),
            _ if mode == Mode::Additive => None,
            b'=' if rest.get(1) == Some(&b'=') => infix(Eq, 2),
            b'!' if rest.get(1) == Some(&b'=') => infix(Ne, 2),
            b'<' if rest.get(1) == Some(&b'=') => infix(Le, 2),
            b'>' if rest.get(1) == Some(&b'=') => infix(Ge, 2),
            b'<' => infix(Lt, 1),
            b'>' => infix(Gt, 1),
            b'?' if rest.get(1) == Some(&b'?') => infix(Coalesce, 2),
            _ => match self.word_at(self.pos)? {
                "or" => infix(Or, 2),
                "and" => infix(And, 3),
                "in" => infix(In, 2),
                "not" => self.not_in_length().map(|len| After::Infix(NotIn, len)),
                "starts_with" => infix(StartsWith, 11),
                "ends_with" => infix(EndsWith, 9),
                "contains" => infix(Contains, 8),
                "has_any" => infix(HasAny, 7),
                "has_all" => infix(HasAll, 7),
                "is" => Some(After::IsNull),
                "between" => Some(After::Between),
                "within" => Some(After::Within),
                "matches" => Some(After::Matches),
                _ => None,
            },
        }
    }

    /// `op_not_in`: `not`, whitespace (no comments), `in`, as one token.
    fn not_in_length(&self) -> Option<usize> {
        let gap = self.bytes[self.pos + 3..]
            .iter()
            .position(|c| !matches!(c, b' ' | b'\t' | b'\r' | b'\n'))?;
        let at = self.pos + 3 + gap;
        (gap > 0 && self.word_at(at) == Some("in")).then_some(3 + gap + 2)
    }

    /// Reads `op` and what it takes, and builds it around `lhs`.
    /// The right operand of an infix operator is read in the same mode:
    /// in `additive` only arithmetic is offered.
    fn apply(&mut self, lhs: Node, op: After, mode: Mode) -> Read<Node> {
        let start = self.pos;
        let b = self.b;
        match op {
            After::Infix(bin, len) => {
                self.token(len);
                let op_span = b.span_at(start, self.pos);
                let rhs = self.climb(infix_power(bin), mode)?;
                Ok(b.binary(lhs, bin, op_span, rhs))
            }
            After::Field => {
                let name = self.dotted_field()?;
                let op_span = b.span_at(start, self.last_end);
                Ok(b.postfix(lhs, op_span, None, |operand, _| {
                    ExprKind::Field(operand, name)
                }))
            }
            After::Index => {
                self.token(1);
                let index = self.bracketed(Self::full_expr)?;
                self.expect_punct("]")?;
                let op_span = b.span_at(start, self.last_end);
                Ok(b.postfix(lhs, op_span, None, |operand, depth| {
                    *depth = (*depth).max(index.depth);
                    ExprKind::Index(operand, Box::new(b.take(index)))
                }))
            }
            After::IsNull => {
                self.token(2);
                let keyword = b.span_at(start, self.pos);
                let negated = self.keyword("not");
                self.expect_keyword("null")?;
                let op_span = b.span_at(start, self.last_end);
                Ok(
                    b.postfix(lhs, op_span, Some(keyword), |operand, _| ExprKind::IsNull {
                        operand,
                        negated,
                    }),
                )
            }
            After::Between => {
                self.token("between".len());
                let keyword = b.span_at(start, self.pos);
                let low = self.climb(0, Mode::Additive)?;
                self.expect_keyword("and")?;
                let high = self.climb(0, Mode::Additive)?;
                let op_span = b.span_at(start, self.last_end);
                Ok(b.postfix(lhs, op_span, Some(keyword), |operand, depth| {
                    *depth = (*depth).max(low.depth).max(high.depth);
                    ExprKind::Between {
                        operand,
                        low: Box::new(b.take(low)),
                        high: Box::new(b.take(high)),
                    }
                }))
            }
            After::Within => {
                self.token("within".len());
                let keyword = b.span_at(start, self.pos);
                let next = self.keyword("next");
                let duration = self.climb(0, Mode::Additive)?;
                let anchor = if next {
                    None
                } else if self.keyword("after") {
                    Some((true, self.climb(0, Mode::Additive)?))
                } else if self.keyword("before") {
                    Some((false, self.climb(0, Mode::Additive)?))
                } else {
                    None
                };
                let op_span = b.span_at(start, self.last_end);
                Ok(b.postfix(lhs, op_span, Some(keyword), |operand, depth| {
                    *depth = (*depth).max(duration.depth);
                    let duration = Box::new(b.take(duration));
                    let anchor = match anchor {
                        None if next => WindowAnchor::Next,
                        None => WindowAnchor::Past,
                        Some((after, at)) => {
                            *depth = (*depth).max(at.depth);
                            let at = Box::new(b.take(at));
                            if after {
                                WindowAnchor::After(at)
                            } else {
                                WindowAnchor::Before(at)
                            }
                        }
                    };
                    ExprKind::Within {
                        operand,
                        duration,
                        anchor,
                    }
                }))
            }
            After::Matches => {
                self.token("matches".len());
                let keyword = b.span_at(start, self.pos);
                self.skip();
                if self.peek() != Some(b'"') {
                    return Err(GaveUp);
                }
                let pattern_start = self.pos;
                self.pos += 1;
                loop {
                    match self.peek() {
                        Some(b'"') => break,
                        None | Some(b'\n') => return Err(GaveUp),
                        Some(b'\\') => match self.text[self.pos + 1..].chars().next() {
                            None | Some('\n') => return Err(GaveUp),
                            Some(c) => self.pos += 1 + c.len_utf8(),
                        },
                        Some(_) => {
                            self.run_until(b"\"\\\n");
                        }
                    }
                }
                let pattern = raw_pattern(&self.text[pattern_start + 1..self.pos]);
                self.token(1);
                let pattern_span = b.span_at(pattern_start, self.pos);
                let op_span = b.span_at(start, self.pos);
                Ok(b.postfix(lhs, op_span, Some(keyword), |operand, _| {
                    ExprKind::Matches {
                        operand,
                        pattern,
                        pattern_span,
                    }
                }))
            }
        }
    }

    /// One operand: a literal, a name, a call, brackets.
    fn operand(&mut self) -> Read<Node> {
        self.skip();
        let start = self.pos;
        let b = self.b;
        match self.peek().ok_or(GaveUp)? {
            b'0'..=b'9' => Ok(self.number()),
            b'@' => Ok(self.time()),
            b'"' => {
                let (parts, depth) = self.string()?;
                Ok(b.node(ExprKind::Str(parts), b.span_at(start, self.pos), depth))
            }
            b'(' => {
                self.token(1);
                let inner = self.bracketed(Self::full_expr)?;
                self.expect_punct(")")?;
                Ok(b.paren(inner, b.span_at(start, self.last_end)))
            }
            b'[' => {
                self.token(1);
                let (items, depth) = self.exprs_until("]")?;
                let span = b.span_at(start, self.last_end);
                Ok(b.node(ExprKind::List(items), span, depth))
            }
            b'{' => self.map(),
            b'.' => {
                let name = self.dotted_field()?;
                let span = b.span_at(start, self.last_end);
                Ok(b.leaf(ExprKind::ElementField(name), span))
            }
            _ => {
                let word = self.word_at(start).ok_or(GaveUp)?;
                let keyword = match word {
                    "null" => Some(ExprKind::Null),
                    "true" => Some(ExprKind::Bool(true)),
                    "false" => Some(ExprKind::Bool(false)),
                    "it" => Some(ExprKind::It),
                    "now" => Some(ExprKind::Now),
                    "event" => Some(ExprKind::Event),
                    "profile" => Some(ExprKind::Profile),
                    _ => None,
                };
                if let Some(kind) = keyword {
                    self.token(word.len());
                    return Ok(b.leaf(kind, b.span_at(start, self.pos)));
                }
                let name = self.name()?;
                if self.byte_after(self.pos) != Some(b'(') {
                    let span = name.span;
                    return Ok(b.leaf(ExprKind::Name(name), span));
                }
                self.expect_punct("(")?;
                let (args, depth) = self.exprs_until(")")?;
                let span = b.span_at(start, self.last_end);
                Ok(b.node(
                    ExprKind::Call {
                        function: name,
                        args,
                    },
                    span,
                    depth,
                ))
            }
        }
    }

    /// `(full_expr ~ (comma ~ full_expr)* ~ comma?)? ~ close`, after the
    /// opening bracket; also the deepest of them.
    fn exprs_until(&mut self, close: &str) -> Read<(Vec<Expr>, usize)> {
        self.bracketed(|d| d.exprs_until_here(close))
    }

    fn exprs_until_here(&mut self, close: &str) -> Read<(Vec<Expr>, usize)> {
        let mut items = Vec::new();
        let mut depth = 0;
        while !self.punct(close) {
            let n = self.element(Self::full_expr)?;
            depth = depth.max(n.depth);
            items.push(self.b.take(n));
            if self.punct(close) {
                break;
            }
            self.expect_punct(",")?;
        }
        Ok((items, depth))
    }

    /// `map`: `{ key: value, … }`, keys words or strings.
    fn map(&mut self) -> Read<Node> {
        self.skip();
        if self.peek() != Some(b'{') {
            return Err(GaveUp);
        }
        let start = self.token(1);
        let (entries, depth) = self.bracketed(Self::map_entries)?;
        let span = self.b.span_at(start, self.last_end);
        Ok(self.b.node(ExprKind::Map(entries), span, depth))
    }

    /// A map's entries, after its `{`; also the deepest value.
    fn map_entries(&mut self) -> Read<(Vec<(Ident, Expr)>, usize)> {
        let mut entries = Vec::new();
        let mut depth = 0;
        while !self.punct("}") {
            self.skip();
            let key = if self.peek() == Some(b'"') {
                let key_start = self.pos;
                let (parts, _) = self.string()?;
                self.b
                    .string_key(parts, self.b.span_at(key_start, self.pos))
            } else {
                self.field_name()?
            };
            self.expect_punct(":")?;
            let n = self.element(Self::full_expr)?;
            depth = depth.max(n.depth);
            entries.push((key, self.b.take(n)));
            if self.punct("}") {
                break;
            }
            self.expect_punct(",")?;
        }
        Ok((entries, depth))
    }

    /// A finished `full_expr`.
    fn expr(&mut self) -> Read<Expr> {
        let n = self.element(Self::full_expr)?;
        Ok(self.b.take(n))
    }

    /// A finished map operand (`emit` payloads, `given` profiles).
    fn map_expr(&mut self) -> Read<Expr> {
        let n = self.map()?;
        Ok(self.b.take(n))
    }

    // -------------------------------------------------------------- items

    fn items(&mut self) -> Read<Vec<Item>> {
        self.skip_bom();
        let mut items = Vec::new();
        loop {
            self.skip();
            if self.pos == self.bytes.len() {
                return Ok(items);
            }
            items.push(self.item()?);
        }
    }

    fn item(&mut self) -> Read<Item> {
        let keyword = self.word().ok_or(GaveUp)?;
        let start = self.token(keyword.len());
        let kind = match keyword {
            "schema" => ItemKind::Schema(self.schema()?),
            "let" => {
                let name = self.item_name()?;
                self.assign()?;
                let value = self.expr()?;
                ItemKind::Let(LetDef { name, value })
            }
            "segment" => {
                let name = self.item_name()?;
                let label = self.label()?;
                self.assign()?;
                let body = self.expr()?;
                ItemKind::Segment(SegmentDef { name, label, body })
            }
            "decision" => ItemKind::Decision(self.decision()?),
            "experiment" => ItemKind::Experiment(self.experiment()?),
            "trigger" => ItemKind::Trigger(self.trigger()?),
            "test" => ItemKind::Test(self.test()?),
            _ => return Err(GaveUp),
        };
        Ok(Item {
            kind,
            span: self.b.span_at(start, self.last_end),
        })
    }

    fn item_name(&mut self) -> Read<Ident> {
        let name = self.name()?;
        Ok(self.b.item_name(name))
    }

    /// An item's optional label string.
    fn label(&mut self) -> Read<Option<StrLit>> {
        self.skip();
        if self.peek() == Some(b'"') {
            Ok(Some(self.plain_string()?))
        } else {
            Ok(None)
        }
    }

    fn schema(&mut self) -> Read<Schema> {
        self.expect_punct("{")?;
        let mut entries = Vec::new();
        while !self.punct("}") {
            self.skip();
            let start = self.pos;
            let event = self.word_at(start) == Some("event")
                && self.byte_after(start + "event".len()) == Some(b'"');
            let entry = if event {
                self.token("event".len());
                let name = self.plain_string()?;
                let mut props = Vec::new();
                if self.punct("{") {
                    props = self.props_until_rbrace()?;
                }
                let span = self.b.span_at(start, self.last_end);
                SchemaEntry::Event { name, props, span }
            } else {
                let path = self.path_of(Self::schema_path_segment)?;
                self.expect_punct(":")?;
                let ty = self.type_expr()?;
                let span = self.b.span_at(start, self.last_end);
                SchemaEntry::Field { path, ty, span }
            };
            entries.push(entry);
            self.punct(",");
        }
        Ok(Schema { entries })
    }

    /// A segment of a schema path: a field name or a plain string.
    fn schema_path_segment(&mut self) -> Read<Ident> {
        self.skip();
        if self.peek() == Some(b'"') {
            let lit = self.plain_string()?;
            Ok(Ident {
                name: lit.value,
                span: lit.span,
            })
        } else {
            self.field_name()
        }
    }

    /// `first ~ ("." ~ segment)*`, whitespace allowed around the dots.
    fn path_of(&mut self, first: fn(&mut Self) -> Read<Ident>) -> Read<Vec<Ident>> {
        let mut path = vec![first(self)?];
        while self.punct(".") {
            path.push(self.schema_path_segment()?);
        }
        Ok(path)
    }

    /// `(prop_decl ~ comma?)* ~ rbrace`, after the opening brace.
    fn props_until_rbrace(&mut self) -> Read<Vec<(Ident, TypeExpr)>> {
        let mut props = Vec::new();
        while !self.punct("}") {
            let name = self.field_name()?;
            self.expect_punct(":")?;
            props.push((name, self.type_expr()?));
            self.punct(",");
        }
        Ok(props)
    }

    fn type_expr(&mut self) -> Read<TypeExpr> {
        self.bracketed(Self::type_expr_here)
    }

    fn type_expr_here(&mut self) -> Read<TypeExpr> {
        self.skip();
        let start = self.pos;
        let kind = match self.peek() {
            Some(b'{') => {
                self.token(1);
                TypeExprKind::Record(self.props_until_rbrace()?)
            }
            Some(b'"') => {
                let mut cases = vec![self.plain_string()?];
                while self.punct("|") {
                    cases.push(self.plain_string()?);
                }
                TypeExprKind::Enum(cases)
            }
            _ => {
                let word = self.word_at(start).ok_or(GaveUp)?;
                let list = word == "list" && self.byte_after(start + word.len()) == Some(b'<');
                if list {
                    self.token(word.len());
                    self.expect_punct("<")?;
                    let element = self.type_expr()?;
                    self.expect_punct(">")?;
                    TypeExprKind::List(Box::new(element))
                } else {
                    TypeExprKind::Named(self.ident_of(word))
                }
            }
        };
        let nullable = self.punct("?");
        Ok(TypeExpr {
            kind,
            nullable,
            span: self.b.span_at(start, self.last_end),
        })
    }

    fn decision(&mut self) -> Read<DecisionDef> {
        let name = self.item_name()?;
        let label = self.label()?;
        let policy = match self.word() {
            Some(w @ ("first" | "collect")) => {
                let start = self.token(w.len());
                let policy = if w == "collect" {
                    HitPolicy::Collect
                } else {
                    HitPolicy::First
                };
                Some((policy, self.b.span_at(start, self.pos)))
            }
            _ => None,
        };
        self.expect_punct("{")?;
        let mut branches = Vec::new();
        while !self.punct("}") {
            let start = self.pos;
            let condition = match self.word_at(start) {
                Some("when") => {
                    self.token(4);
                    Some(self.expr()?)
                }
                Some("else") => {
                    self.token(4);
                    None
                }
                _ => return Err(GaveUp),
            };
            self.expect_punct("=>")?;
            let value = self.expr()?;
            branches.push(Branch {
                condition,
                value,
                span: self.b.span_at(start, self.last_end),
            });
        }
        Ok(DecisionDef {
            name,
            label,
            policy,
            branches,
        })
    }

    fn experiment(&mut self) -> Read<ExperimentDef> {
        let name = self.item_name()?;
        let label = self.label()?;
        self.expect_punct("{")?;
        let mut clauses = Vec::new();
        while !self.punct("}") {
            let keyword = self.word().ok_or(GaveUp)?;
            let start = self.token(keyword.len());
            let kind = match keyword {
                "unit" => ExperimentClauseKind::Unit(self.expr()?),
                "salt" => ExperimentClauseKind::Salt(self.plain_string()?),
                "eligible" => ExperimentClauseKind::Eligible(self.expr()?),
                "coverage" => ExperimentClauseKind::Coverage(self.expr()?),
                "variants" => {
                    self.expect_punct("{")?;
                    ExperimentClauseKind::Variants(self.entries_until_rbrace(|d| {
                        let name = d.name()?;
                        d.expect_punct(":")?;
                        Ok((name, d.expr()?))
                    })?)
                }
                "force" => {
                    self.expect_punct("{")?;
                    ExperimentClauseKind::Force(self.entries_until_rbrace(|d| {
                        let unit = d.plain_string()?;
                        d.expect_punct(":")?;
                        Ok((unit, d.name()?))
                    })?)
                }
                _ => return Err(GaveUp),
            };
            clauses.push(ExperimentClause {
                kind,
                span: self.b.span_at(start, self.last_end),
            });
        }
        Ok(ExperimentDef {
            name,
            label,
            clauses,
        })
    }

    /// `(entry ~ (comma ~ entry)* ~ comma?)? ~ rbrace`, after the brace.
    fn entries_until_rbrace<T>(&mut self, entry: impl Fn(&mut Self) -> Read<T>) -> Read<Vec<T>> {
        let mut out = Vec::new();
        while !self.punct("}") {
            out.push(entry(self)?);
            if self.punct("}") {
                break;
            }
            self.expect_punct(",")?;
        }
        Ok(out)
    }

    fn trigger(&mut self) -> Read<TriggerDef> {
        let name = self.item_name()?;
        self.expect_keyword("on")?;
        let on = self.plain_string()?;
        let condition = if self.keyword("when") {
            Some(self.expr()?)
        } else {
            None
        };
        self.expect_punct("=>")?;
        let mut actions = vec![self.emit()?];
        while self.punct(",") {
            actions.push(self.emit()?);
        }
        Ok(TriggerDef {
            name,
            on,
            condition,
            actions,
        })
    }

    fn emit(&mut self) -> Read<Emit> {
        let start = self.expect_keyword("emit")?;
        let action = self.plain_string()?;
        self.skip();
        let payload = if self.peek() == Some(b'{') {
            Some(self.map_expr()?)
        } else {
            None
        };
        Ok(Emit {
            action,
            payload,
            span: self.b.span_at(start, self.last_end),
        })
    }

    fn test(&mut self) -> Read<TestDef> {
        let name = self.plain_string()?;
        self.expect_punct("{")?;
        let mut body = Vec::new();
        while !self.punct("}") {
            let keyword = self.word().ok_or(GaveUp)?;
            let start = self.token(keyword.len());
            let kind = match keyword {
                "now" => TestStmtKind::Now(self.expr()?),
                "expect" => TestStmtKind::Expect(self.expr()?),
                "given" => self.given()?,
                _ => return Err(GaveUp),
            };
            body.push(TestStmt {
                kind,
                span: self.b.span_at(start, self.last_end),
            });
        }
        Ok(TestDef { name, body })
    }

    /// What follows `given` in a test.
    fn given(&mut self) -> Read<TestStmtKind> {
        if self.keyword("variant") {
            let experiment = self.name()?;
            self.assign()?;
            let variant = self.plain_string()?;
            return Ok(TestStmtKind::GivenVariant {
                experiment,
                variant,
            });
        }
        if self.keyword("file") {
            let path = self.plain_string()?;
            let with = self.with_clause()?;
            return Ok(TestStmtKind::GivenFile { path, with });
        }
        if self.keyword("event") {
            return Ok(TestStmtKind::GivenEvent(self.map_expr()?));
        }
        let profile = self.map_expr()?;
        let with = self.with_clause()?;
        Ok(TestStmtKind::GivenLiteral { profile, with })
    }

    /// An optional `with { path: value, … }`.
    fn with_clause(&mut self) -> Read<Vec<(Vec<Ident>, Expr)>> {
        if !self.keyword("with") {
            return Ok(Vec::new());
        }
        self.expect_punct("{")?;
        self.entries_until_rbrace(|d| {
            let path = d.path_of(Self::field_name)?;
            d.expect_punct(":")?;
            Ok((path, d.expr()?))
        })
    }
}
