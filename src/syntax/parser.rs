//! Reading rule files: the pre-check, the two readers, recovery, and the
//! wording of syntax errors.
//!
//! This is the only file that knows about pest: the grammar lives in
//! `grammar/onramp.pest`, and everything that leaves this module is our own
//! AST or our own [`Diagnostic`]s. The passes:
//!
//! 1. [`precheck`]: a small iterative scanner that bounds nesting (brackets,
//!    interpolations, `if`, prefix `not`/`-`) and finds unclosed strings and
//!    interpolations, *before* any recursive reader sees the text. Every
//!    later pass recurses at most as deep as this allows.
//! 2. The hand-written reader ([`descent`]), which reads clean text about
//!    ten times faster than pest and gives up on anything else.
//! 3. pest, where the hand-written reader gave up, with one diagnostic for
//!    its first syntax error, worded from the rules it expected ("expected
//!    `=>` or an operator, found `engaged`"). A file that fails is parsed
//!    again region by region, a region starting at each line that begins
//!    (column 1) with an item keyword, so each broken item gives its own
//!    error and the others are kept ([`parse_module_recovering`]).
//! 4. Both readers hand their tokens to one [`Builder`] (`build.rs`), which
//!    makes the AST and owns the checks that are clearer after parsing
//!    than in a grammar; pest's pairs go through its PrattParser first.
//!
//! Guarantee to later stages: no [`Expr`] is nested deeper than
//! `limits.max_nesting_depth`, so recursive passes over the AST are safe.

use std::sync::OnceLock;

use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser;
use pest_derive::Parser;

use super::ast::*;
use super::build::{raw_pattern, Builder, Node};
use super::descent;
use super::{LostItem, Parsed};
use crate::diagnostic::Diagnostic;
use crate::limits::Limits;
use crate::span::{FileId, Span};

#[derive(Parser)]
#[grammar = "grammar/onramp.pest"]
struct OnrampParser;

/// Parses a whole rule file; every syntax error fails it.
pub(super) fn parse_module(
    file: FileId,
    text: &str,
    limits: &Limits,
) -> Result<Module, Vec<Diagnostic>> {
    let parsed = parse_module_recovering(file, text, limits);
    if parsed.errors.is_empty() {
        Ok(parsed.module)
    } else {
        Err(parsed.errors)
    }
}

/// Parses a whole rule file, recovering at item boundaries: a line that
/// starts, at column 1, with an item keyword begins a new region, and each
/// region that does not parse gives its own errors while the items of the
/// others are kept.
///
/// The whole file is parsed first; only when that fails is it parsed region
/// by region, so a file without errors is read exactly as before.
pub(super) fn parse_module_recovering(file: FileId, text: &str, limits: &Limits) -> Parsed {
    let failed = |errors| Parsed {
        module: Module { items: Vec::new() },
        errors,
        lost: lost_items(file, text, 0),
    };
    if let Err(d) = check_size(file, text, limits) {
        return failed(vec![d]);
    }
    let whole_errors = match parse_region(file, text, 0..text.len(), limits) {
        Ok(items) => {
            return Parsed {
                module: Module { items },
                errors: Vec::new(),
                lost: Vec::new(),
            }
        }
        Err(errors) => errors,
    };
    let regions = item_regions(text);
    if regions.len() < 2 {
        return failed(whole_errors);
    }
    let mut items = Vec::new();
    let mut errors = Vec::new();
    let mut lost = Vec::new();
    for region in regions {
        let base = region.start;
        match parse_region(file, text, region.clone(), limits) {
            Ok(mut more) => items.append(&mut more),
            Err(e) => {
                errors.extend(e);
                lost.extend(lost_items(file, &text[region], base));
            }
        }
    }
    if errors.is_empty() {
        // Every region parsed on its own but the file did not (a keyword at
        // column 1 inside an item, say): keep the file's own errors.
        return failed(whole_errors);
    }
    Parsed {
        module: Module { items },
        errors,
        lost,
    }
}

/// The keywords that start an item.
const ITEM_KEYWORDS: &[&str] = &[
    "schema",
    "let",
    "segment",
    "decision",
    "experiment",
    "trigger",
    "test",
];

/// The item keyword `line` starts with, if any (followed by a non-word
/// character or the end of the line).
fn item_keyword(line: &str) -> Option<&'static str> {
    ITEM_KEYWORDS.iter().copied().find(|kw| {
        line.strip_prefix(kw)
            .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
    })
}

/// The file cut before every line that starts, at column 1, with an item
/// keyword. Strings and comments end with their line, so no such line is
/// inside either.
fn item_regions(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut starts = vec![0];
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if at > 0 && item_keyword(line).is_some() {
            starts.push(at);
        }
        at += line.len();
    }
    let mut ends: Vec<usize> = starts[1..].to_vec();
    ends.push(text.len());
    starts.into_iter().zip(ends).map(|(s, e)| s..e).collect()
}

/// The items a text that did not parse seems to hold, read from the lines
/// that start (indented or not) with an item keyword; `base` is the text's
/// offset in the file.
fn lost_items(file: FileId, text: &str, base: usize) -> Vec<LostItem> {
    let mut out = Vec::new();
    let mut at = base;
    for line in text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start().len();
        let rest = &line[indent..];
        if let Some(keyword) = item_keyword(rest) {
            let after = rest[keyword.len()..].trim_start();
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            let name = &after[..len];
            let named = !matches!(keyword, "schema" | "test")
                && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && !RESERVED.contains(&name);
            out.push(LostItem {
                keyword,
                name: named.then(|| name.to_string()),
                span: Span::new(file, at + indent, at + indent + keyword.len()),
            });
        }
        at += line.len();
    }
    out
}

/// Parses `text[region]` as a sequence of items: pre-check, then the
/// hand-written reader, then pest where that one defers. Spans and
/// diagnostics are offsets in the whole `text`.
fn parse_region(
    file: FileId,
    text: &str,
    region: std::ops::Range<usize>,
    limits: &Limits,
) -> Result<Vec<Item>, Vec<Diagnostic>> {
    let base = region.start;
    let part = &text[region];
    // Nearly every rule file is shallow: read by the descent alone, kept
    // too shallow to need a larger stack or to pass the nesting limit, it
    // needs no pre-check scan. Whatever it gives up on is read as before.
    if let Some(shallow) = shallow_nesting(limits) {
        if let Some(items) = descent::shallow_module(file, base, part, limits, shallow) {
            return Ok(items);
        }
    }
    let depth = Scanner::new(file, base, part, limits.max_nesting_depth)
        .run()
        .map_err(|d| vec![d])?;
    with_stack_for(depth, || match descent::module(file, base, part, limits) {
        Some(items) => Ok(items),
        None => pest_items(file, text, base, part, limits),
    })
}

/// The nesting up to which text may be read without the pre-check scan:
/// shallow enough for any thread's stack, and short enough of the limit
/// that the scan, counting [`descent::UNCOUNTED`] levels more, would pass
/// too. `None` when the limit leaves no room for that.
fn shallow_nesting(limits: &Limits) -> Option<usize> {
    let room = limits.max_nesting_depth.checked_sub(descent::UNCOUNTED)?;
    Some(room.min(IN_PLACE_DEPTH))
}

/// `part` (at offset `base` of `text`) read by pest and turned into items.
fn pest_items(
    file: FileId,
    text: &str,
    base: usize,
    part: &str,
    limits: &Limits,
) -> Result<Vec<Item>, Vec<Diagnostic>> {
    let mut pairs = OnrampParser::parse(Rule::module, part)
        .map_err(|e| vec![translate_error(file, text, base, limits, e)])?;
    let builder = Builder::new(file, base, limits);
    let module = pairs.next().expect("pest yields the module rule");
    let items = module
        .into_inner()
        .filter(|p| p.as_rule() != Rule::EOI)
        .map(|p| builder.item(p))
        .collect();
    builder.finish(items)
}

/// A whole file read by one of the two readers alone, without recovery,
/// for the tests that hold them to the same trees: `None` where the
/// hand-written reader defers to pest.
pub(super) fn read_whole_with(
    pest: bool,
    file: FileId,
    text: &str,
    limits: &Limits,
) -> Option<Result<Vec<Item>, Vec<Diagnostic>>> {
    let depth = match precheck(file, text, limits) {
        Ok(depth) => depth,
        Err(d) => return Some(Err(vec![d])),
    };
    with_stack_for(depth, || {
        if pest {
            Some(pest_items(file, text, 0, text, limits))
        } else {
            descent::module(file, 0, text, limits).map(Ok)
        }
    })
}

/// A whole file read the way [`parse_region`] tries first, without the
/// pre-check scan: `None` where that reader gives up.
pub(super) fn read_shallow(file: FileId, text: &str, limits: &Limits) -> Option<Vec<Item>> {
    descent::shallow_module(file, 0, text, limits, shallow_nesting(limits)?)
}

/// Parses one expression (`where` allowed), surrounded by optional
/// whitespace and comments.
pub(super) fn parse_expression(
    file: FileId,
    text: &str,
    limits: &Limits,
) -> Result<Expr, Vec<Diagnostic>> {
    let depth = precheck(file, text, limits).map_err(|d| vec![d])?;
    with_stack_for(depth, || match descent::expression(file, text, limits) {
        Some(expr) => Ok(expr),
        None => pest_expression(file, text, limits),
    })
}

fn pest_expression(file: FileId, text: &str, limits: &Limits) -> Result<Expr, Vec<Diagnostic>> {
    let mut pairs = OnrampParser::parse(Rule::expression_input, text)
        .map_err(|e| vec![translate_error(file, text, 0, limits, e)])?;
    let builder = Builder::new(file, 0, limits);
    let input = pairs.next().expect("pest yields the expression rule");
    let full = input
        .into_inner()
        .find(|p| p.as_rule() == Rule::full_expr)
        .expect("an expression");
    let node = builder.full_expr(full);
    let expr = builder.take(node);
    builder.finish(expr)
}

/// One expression read by one of the two readers alone (see
/// [`read_whole_with`]).
pub(super) fn read_expression_with(
    pest: bool,
    file: FileId,
    text: &str,
    limits: &Limits,
) -> Option<Result<Expr, Vec<Diagnostic>>> {
    let depth = match precheck(file, text, limits) {
        Ok(depth) => depth,
        Err(d) => return Some(Err(vec![d])),
    };
    with_stack_for(depth, || {
        if pest {
            Some(pest_expression(file, text, limits))
        } else {
            descent::expression(file, text, limits).map(Ok)
        }
    })
}

/// Nesting (as the pre-check scanner counts it) that any thread's stack
/// holds.
const IN_PLACE_DEPTH: usize = 8;

/// Runs `parse` where the stack is sure to hold `depth` levels of nesting.
///
/// pest and the Pratt parser spend a few KiB of stack per level (over
/// 10 KiB unoptimised), so the 128 levels the default limits allow need more
/// than some threads have. Shallow text — nearly every real rule file — is
/// parsed in place; deeper text on a scoped thread whose stack is sized for
/// it. (pest's own stack guard stays a second line of defence.)
fn with_stack_for<T: Send>(depth: usize, parse: impl Fn() -> T + Sync) -> T {
    const PER_LEVEL: usize = 64 * 1024;
    if depth <= IN_PLACE_DEPTH {
        return parse();
    }
    let size = depth
        .saturating_mul(PER_LEVEL)
        .saturating_add(1 << 20)
        .min(1 << 30);
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name("onramp-parse".into())
            .stack_size(size)
            .spawn_scoped(scope, &parse);
        match spawned {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // No thread to be had: parse here; pest's stack guard still
            // turns what does not fit into a diagnostic.
            Err(_) => parse(),
        }
    })
}

// ====================================================================
// 1. The pre-check scanner
// ====================================================================

/// Words that may follow an operand without ending its expression. (A
/// `match` on strings compiles to a switch on length, then one compare:
/// the scanner asks this of nearly every word.)
fn continues_expr(w: &str) -> bool {
    matches!(
        w,
        "and"
            | "or"
            | "not"
            | "in"
            | "is"
            | "between"
            | "within"
            | "matches"
            | "starts_with"
            | "ends_with"
            | "contains"
            | "has_any"
            | "has_all"
            | "where"
            | "as"
            | "then"
            | "else"
            | "after"
            | "before"
    )
}
/// Words that always start something new: an item (`ITEM_KEYWORDS`), or a
/// branch or trigger part.
fn starts_anew(w: &str) -> bool {
    matches!(
        w,
        "schema"
            | "let"
            | "segment"
            | "decision"
            | "experiment"
            | "trigger"
            | "test"
            | "when"
            | "emit"
            | "on"
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    Base,
    Paren,
    Bracket,
    Brace,
    Angle,
    Interp,
}

struct Frame {
    open: Open,
    /// Byte offset of the opening character.
    at: usize,
    /// Inside `schema { … }` or `force { … }`: strings do not interpolate
    /// and `<`/`>` bracket list types.
    plain: bool,
    /// Pending prefix operators (`if`, `not`, unary `-`) of the expression
    /// being read at this level: each one costs a level of recursion until
    /// the expression ends.
    prefix: usize,
    /// For `Interp`: where the enclosing string started.
    string_start: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tok<'a> {
    None,
    Word(&'a str),
    Punct(&'a str),
    /// A literal, a field name after `.`, or a closing bracket: ends an operand.
    Operand,
}

impl Tok<'_> {
    fn ends_operand(self) -> bool {
        match self {
            Tok::Operand => true,
            // After these words an operand is still to come, or they are
            // structure.
            Tok::Word(w) => !(continues_expr(w) || starts_anew(w) || matches!(w, "next" | "if")),
            _ => false,
        }
    }
}

/// Whether a string starting after these tokens is one that does not
/// interpolate (mirrors every `plain_string`/`pattern` use in the grammar).
fn plain_string_follows(t1: Tok, t2: Tok, t3: Tok) -> bool {
    match (t1, t2, t3) {
        (Tok::Punct("."), _, _) => true,
        (Tok::Word(w), _, _) if ["on", "emit", "test", "salt", "matches", "file"].contains(&w) => {
            true
        }
        (Tok::Word(_), Tok::Word(k), _) if ["segment", "decision", "experiment"].contains(&k) => {
            true
        }
        (Tok::Punct("="), _, Tok::Word("variant")) => true,
        _ => false,
    }
}

/// Size limit, nesting limit, unclosed strings and interpolations. Returns
/// the deepest nesting seen.
fn precheck(file: FileId, text: &str, limits: &Limits) -> Result<usize, Diagnostic> {
    check_size(file, text, limits)?;
    Scanner::new(file, 0, text, limits.max_nesting_depth).run()
}

fn check_size(file: FileId, text: &str, limits: &Limits) -> Result<(), Diagnostic> {
    if text.len() > limits.max_source_bytes {
        return Err(Diagnostic::error(
            format!(
                "file too large ({} bytes, limit {})",
                text.len(),
                limits.max_source_bytes
            ),
            Span::new(file, 0, 0),
            "the file starts here",
        ));
    }
    Ok(())
}

struct Scanner<'a> {
    file: FileId,
    /// Offset of `text` in the file (non-zero for an item region).
    base: usize,
    text: &'a str,
    bytes: &'a [u8],
    limit: usize,
    frames: Vec<Frame>,
    depth: usize,
    max_depth: usize,
    toks: [Tok<'a>; 3],
}

impl<'a> Scanner<'a> {
    fn new(file: FileId, base: usize, text: &'a str, limit: usize) -> Scanner<'a> {
        Scanner {
            file,
            base,
            text,
            bytes: text.as_bytes(),
            limit,
            frames: vec![Frame {
                open: Open::Base,
                at: 0,
                plain: false,
                prefix: 0,
                string_start: 0,
            }],
            depth: 0,
            max_depth: 0,
            toks: [Tok::None; 3],
        }
    }

    fn push_tok(&mut self, t: Tok<'a>) {
        self.toks = [t, self.toks[0], self.toks[1]];
    }

    fn top(&mut self) -> &mut Frame {
        self.frames.last_mut().expect("base frame")
    }

    fn deeper(&mut self, at: usize, len: usize) -> Result<(), Diagnostic> {
        self.depth += 1;
        self.max_depth = self.max_depth.max(self.depth);
        if self.depth > self.limit {
            return Err(Diagnostic::error(
                format!("nesting too deep (limit {})", self.limit),
                Span::new(self.file, self.base + at, self.base + at + len),
                "nested too deeply here",
            )
            .with_help("split the rule into several `let`s"));
        }
        Ok(())
    }

    fn add_prefix(&mut self, at: usize, len: usize) -> Result<(), Diagnostic> {
        self.top().prefix += 1;
        self.deeper(at, len)
    }

    /// The expression at this level ended: its prefix operators are done.
    fn end_expression(&mut self) {
        let p = std::mem::take(&mut self.top().prefix);
        self.depth -= p;
    }

    fn open(
        &mut self,
        open: Open,
        at: usize,
        plain: bool,
        string_start: usize,
    ) -> Result<(), Diagnostic> {
        self.frames.push(Frame {
            open,
            at,
            plain,
            prefix: 0,
            string_start,
        });
        self.deeper(at, 1)
    }

    fn pop(&mut self) -> Frame {
        let f = self.frames.pop().expect("not the base frame");
        self.depth -= 1 + f.prefix;
        f
    }

    fn unclosed_string(&self, start: usize) -> Diagnostic {
        if let Some(f) = self.frames.iter().rev().find(|f| f.open == Open::Interp) {
            return self.unclosed_interpolation(f.at);
        }
        Diagnostic::error(
            "unclosed string literal",
            Span::new(self.file, self.base + start, self.base + start + 1),
            "this string is never closed",
        )
        .with_note("a string ends on the line it starts on; write `\\n` for a line break")
    }

    fn unclosed_interpolation(&self, at: usize) -> Diagnostic {
        Diagnostic::error(
            "unclosed interpolation",
            Span::new(self.file, self.base + at, self.base + at + 1),
            "this `{` has no matching `}`",
        )
        .with_help("write `{{` for a literal brace")
    }

    fn run(mut self) -> Result<usize, Diagnostic> {
        let b = self.bytes;
        let mut i = if self.text.starts_with('\u{FEFF}') {
            3
        } else {
            0
        };
        // Some((start, interpolates)) while inside a string's text.
        let mut string: Option<(usize, bool)> = None;
        while i <= b.len() {
            if let Some((start, interpolates)) = string {
                match b.get(i) {
                    None | Some(b'\n') => return Err(self.unclosed_string(start)),
                    Some(b'"') => {
                        string = None;
                        self.push_tok(Tok::Operand);
                        i += 1;
                    }
                    Some(b'\\') => {
                        i += 1;
                        match b.get(i) {
                            None | Some(b'\n') => return Err(self.unclosed_string(start)),
                            Some(b'u') if b.get(i + 1) == Some(&b'{') => {
                                i += 2;
                                while i < b.len() && b[i].is_ascii_alphanumeric() {
                                    i += 1;
                                }
                                if b.get(i) == Some(&b'}') {
                                    i += 1;
                                }
                            }
                            Some(_) => i += char_len(self.text, i),
                        }
                    }
                    Some(b'{') if interpolates => {
                        if b.get(i + 1) == Some(&b'{') {
                            i += 2;
                        } else {
                            self.open(Open::Interp, i, false, start)?;
                            self.toks = [Tok::None; 3];
                            string = None;
                            i += 1;
                        }
                    }
                    Some(b'}') if interpolates && b.get(i + 1) == Some(&b'}') => i += 2,
                    // Plain text: on to the next byte that means anything.
                    Some(_) => {
                        i += 1;
                        i += b[i..]
                            .iter()
                            .position(|c| matches!(c, b'\n' | b'"' | b'\\' | b'{' | b'}'))
                            .unwrap_or(b.len() - i);
                    }
                }
                continue;
            }
            let Some(&c) = b.get(i) else { break };
            match c {
                b' ' | b'\t' | b'\r' | b'\n' => i += 1,
                b'#' => {
                    i += b[i..]
                        .iter()
                        .position(|&c| c == b'\n')
                        .unwrap_or(b.len() - i);
                }
                b'"' => {
                    let [t1, t2, t3] = self.toks;
                    let plain = self.top().plain || plain_string_follows(t1, t2, t3);
                    if t1.ends_operand() {
                        self.end_expression();
                    }
                    string = Some((i, !plain));
                    i += 1;
                }
                b'(' | b'[' | b'{' => {
                    let open = match c {
                        b'(' => Open::Paren,
                        b'[' => Open::Bracket,
                        _ => Open::Brace,
                    };
                    let plain = self.top().plain
                        || (c == b'{' && matches!(self.toks[0], Tok::Word("schema" | "force")));
                    self.open(open, i, plain, 0)?;
                    self.push_tok(Tok::Punct("("));
                    i += 1;
                }
                b'<' if self.top().plain => {
                    self.open(Open::Angle, i, true, 0)?;
                    self.push_tok(Tok::Punct("<"));
                    i += 1;
                }
                b'>' if self.top().plain && self.top().open == Open::Angle => {
                    self.pop();
                    self.push_tok(Tok::Punct(">"));
                    i += 1;
                }
                b')' | b']' | b'}' => {
                    let want = match c {
                        b')' => Open::Paren,
                        b']' => Open::Bracket,
                        _ => Open::Brace,
                    };
                    let top = self.top().open;
                    if top == want {
                        self.pop();
                    } else if c == b'}' && top == Open::Interp {
                        let f = self.pop();
                        string = Some((f.string_start, true));
                    } else if let Some(k) = self.frames.iter().rposition(|f| f.open == want) {
                        // Mismatched brackets: pest will report them; keep
                        // the count conservative by closing what they close.
                        if k > 0 {
                            while self.frames.len() > k {
                                self.pop();
                            }
                        }
                    }
                    self.push_tok(Tok::Operand);
                    i += 1;
                }
                b'0'..=b'9' => {
                    if self.toks[0].ends_operand() {
                        self.end_expression();
                    }
                    i += 1;
                    while i < b.len() {
                        let d = b[i];
                        let exponent_sign = (d == b'+' || d == b'-')
                            && matches!(b[i - 1], b'e' | b'E')
                            && b.get(i + 1).is_some_and(u8::is_ascii_digit);
                        if d.is_ascii_alphanumeric() || d == b'_' || d == b'.' || exponent_sign {
                            i += 1;
                        } else if d == b'%' {
                            i += 1;
                            break;
                        } else {
                            break;
                        }
                    }
                    self.push_tok(Tok::Operand);
                }
                b'@' => {
                    if self.toks[0].ends_operand() {
                        self.end_expression();
                    }
                    i += 1;
                    while i < b.len() && (b[i].is_ascii_alphanumeric() || b"_:.+-".contains(&b[i]))
                    {
                        i += 1;
                    }
                    self.push_tok(Tok::Operand);
                }
                c if c.is_ascii_alphabetic() || c == b'_' => {
                    let start = i;
                    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                        i += 1;
                    }
                    let w = &self.text[start..i];
                    let prev = self.toks[0];
                    if prev == Tok::Punct(".") {
                        // A field name, whatever the word.
                        self.push_tok(Tok::Operand);
                        continue;
                    }
                    if starts_anew(w) || (prev.ends_operand() && !continues_expr(w)) {
                        self.end_expression();
                    }
                    if w == "if" || (w == "not" && !prev.ends_operand()) {
                        self.add_prefix(start, i - start)?;
                    }
                    self.push_tok(Tok::Word(w));
                }
                b'-' => {
                    if !self.toks[0].ends_operand() {
                        self.add_prefix(i, 1)?;
                    }
                    self.push_tok(Tok::Punct("-"));
                    i += 1;
                }
                b',' | b':' => {
                    self.end_expression();
                    self.push_tok(Tok::Punct(","));
                    i += 1;
                }
                b'.' => {
                    self.push_tok(Tok::Punct("."));
                    i += 1;
                }
                b'=' | b'<' | b'>' | b'!' | b'?' => {
                    let start = i;
                    i += 1;
                    if i < b.len() && b"=<>!?".contains(&b[i]) {
                        i += 1;
                    }
                    let op = &self.text[start..i];
                    if op == "=" || op == "=>" {
                        self.end_expression();
                    }
                    self.push_tok(Tok::Punct(op));
                }
                _ => {
                    self.push_tok(Tok::Punct("?"));
                    i += char_len(self.text, i);
                }
            }
        }
        if let Some(f) = self.frames.iter().rev().find(|f| f.open == Open::Interp) {
            return Err(self.unclosed_interpolation(f.at));
        }
        Ok(self.max_depth)
    }
}

/// Length in bytes of the character starting at `i` (1 inside a character).
fn char_len(text: &str, i: usize) -> usize {
    text.get(i..)
        .and_then(|s| s.chars().next())
        .map_or(1, char::len_utf8)
}

// ====================================================================
// 2. Syntax errors
// ====================================================================

/// The phrase an expected rule reads as, and its place in the list.
fn expected_phrase(rule: Rule) -> Option<(u8, &'static str)> {
    use Rule::*;
    Some(match rule {
        arrow => (0, "`=>`"),
        assign => (0, "`=`"),
        colon => (0, "`:`"),
        comma => (1, "`,`"),
        lbrace => (0, "`{`"),
        rbrace => (2, "`}`"),
        rbracket => (2, "`]`"),
        rparen => (2, "`)`"),
        langle => (0, "`<`"),
        rangle => (2, "`>`"),
        pipe => (1, "`|`"),
        kw_then => (0, "`then`"),
        kw_else => (0, "`else`"),
        kw_and => (0, "`and`"),
        kw_on => (0, "`on`"),
        kw_emit => (0, "`emit`"),
        kw_when => (0, "`when`"),
        kw_null => (0, "`null`"),
        kw_first | kw_collect => (0, "`first` or `collect`"),
        kw_unit => (0, "`unit`"),
        kw_salt => (0, "`salt`"),
        kw_eligible => (0, "`eligible`"),
        kw_coverage => (0, "`coverage`"),
        kw_variants => (0, "`variants`"),
        kw_force => (0, "`force`"),
        kw_now | now_stmt => (0, "`now`"),
        kw_given => (0, "`given`"),
        kw_expect => (0, "`expect`"),
        kw_variant => (0, "`variant`"),
        kw_file => (0, "`file`"),
        kw_event => (0, "`event`"),
        kw_with => (0, "`with`"),
        kw_after | kw_before | window_anchor => (3, "`after` or `before`"),
        name => (0, "a name"),
        field_name | element_field => (0, "a field name"),
        plain_string | string => (0, "a string"),
        pattern => (0, "a pattern string (`matches` takes a literal)"),
        number | time | kw_true | kw_false | kw_it | kw_profile | paren | list | call | if_head
        | op_not | op_neg | expr | full_expr | additive => (0, "an expression"),
        op_or | op_and | op_eq | op_ne | op_le | op_ge | op_lt | op_gt | op_not_in | op_in
        | op_starts_with | op_ends_with | op_contains | op_has_any | op_has_all | op_coalesce
        | op_add | op_sub | op_mul | op_div | op_rem | field_access | index_access | is_null
        | between_op | within_op | matches_op | kw_where | kw_as | binder => (3, "an operator"),
        map_entry => (0, "a key"),
        map => (0, "`{`"),
        module => (4, "a new item"),
        expression_input => (0, "an expression"),
        variant => (0, "a variant (`name: weight`)"),
        force_entry => (0, "a forced unit (`\"unit\": variant`)"),
        with_entry | with_path => (0, "a field path"),
        prop_decl => (0, "a field (`name: type`)"),
        event_decl | field_decl | schema_path => (0, "a schema entry"),
        type_expr | type_name | list_type | record_type | enum_type | kw_list => (0, "a type"),
        nullable => (3, "`?`"),
        kw_schema | kw_let | kw_segment | kw_decision | kw_experiment | kw_trigger | kw_test
        | schema | let_item | segment | decision | experiment | trigger | test => (4, "a new item"),
        EOI => (5, "end of file"),
        _ => return None,
    })
}

pub(super) const RESERVED: &[&str] = &[
    "segment",
    "let",
    "decision",
    "experiment",
    "trigger",
    "test",
    "schema",
    "event",
    "when",
    "else",
    "and",
    "or",
    "not",
    "in",
    "is",
    "null",
    "true",
    "false",
    "if",
    "then",
    "where",
    "between",
    "within",
    "matches",
    "starts_with",
    "ends_with",
    "contains",
    "has_any",
    "has_all",
    "emit",
    "on",
    "it",
    "now",
    "profile",
];

/// What the parser found at `pos`: a phrase and the span to point at.
fn found_at(text: &str, pos: usize) -> (String, std::ops::Range<usize>, Option<&str>) {
    let rest = &text[pos..];
    let Some(c) = rest.chars().next() else {
        // At the end of the last line with content: a place both the text
        // and the JSON renderings show alike (the very end, after a final
        // newline, has no line of its own in the excerpt).
        let end = text.trim_end().len();
        return ("end of file".into(), end..end, None);
    };
    if c.is_ascii_alphanumeric() || c == '_' {
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let w = &rest[..len];
        return (format!("`{w}`"), pos..pos + len, Some(w));
    }
    if c == '"' {
        return ("a string".into(), pos..pos + 1, None);
    }
    let ops = ["==", "!=", "<=", ">=", "=>", "??"];
    if let Some(op) = ops.iter().find(|op| rest.starts_with(*op)) {
        return (format!("`{op}`"), pos..pos + 2, None);
    }
    let len = c.len_utf8();
    let shown = match c {
        '\n' | '\r' => "end of line".to_string(),
        '\t' => "a tab".to_string(),
        // Invisible characters are named, not shown.
        c if c.is_control() || c == '\u{feff}' => {
            format!("the invisible character U+{:04X}", c as u32)
        }
        c => format!("`{c}`"),
    };
    (shown, pos..pos + len, None)
}

/// The last word before `pos` that is not inside a comment or a string,
/// with its offset. A forward scan, since `#` may stand inside strings.
fn word_before(text: &str, pos: usize) -> Option<(&str, usize)> {
    let b = text.as_bytes();
    let mut last = None;
    let mut i = 0;
    while i < pos {
        match b[i] {
            b'#' => {
                while i < pos && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < pos && b[i] != b'"' && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                last = None;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' => {
                let start = i;
                while i < pos && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                last = Some(start..i);
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                last = None;
                i += 1;
            }
        }
    }
    last.map(|r| (&text[r.clone()], r.start))
}

fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// One diagnostic, in our words, for pest's first syntax error in the
/// text from `base` on (an item region, or the whole file when `base` is 0).
/// `text` is the whole file: what follows a region is what the parser
/// "found" at its end (the next item's keyword).
fn translate_error(
    file: FileId,
    text: &str,
    base: usize,
    limits: &Limits,
    err: pest::error::Error<Rule>,
) -> Diagnostic {
    let pos = base
        + match err.location {
            InputLocation::Pos(p) => p,
            InputLocation::Span((s, _)) => s,
        };
    let positives = match err.variant {
        ErrorVariant::ParsingError { positives, .. } => positives,
        ErrorVariant::CustomError { .. } => {
            // pest's own call or stack limit: the thread parsing this has
            // less stack than the nesting allowed by the limits needs.
            return Diagnostic::error(
                format!(
                    "nesting too deep for the parser's stack (limit {})",
                    limits.max_nesting_depth
                ),
                Span::new(file, pos, pos),
                "nested too deeply here",
            );
        }
    };
    let (found, range, word) = found_at(text, pos);
    let span = Span::new(file, range.start, range.end);
    let mut phrases: Vec<(u8, &str)> = positives
        .iter()
        .filter_map(|r| expected_phrase(*r))
        .collect();
    phrases.sort();
    phrases.dedup_by(|a, b| a.1 == b.1);
    if phrases.len() > 1 {
        phrases.retain(|p| p.1 != "end of file");
    }
    // Names, strings, maps, `now`… are kinds of expression.
    if phrases.iter().any(|p| p.1 == "an expression") {
        let kinds = [
            "a name",
            "a field name",
            "a string",
            "`{`",
            "`event`",
            "`now`",
            "`null`",
        ];
        phrases.retain(|p| !kinds.contains(&p.1));
    }
    let has = |s: &str| phrases.iter().any(|p| p.1 == s);
    let list: Vec<&str> = phrases.iter().map(|p| p.1).collect();
    let expected = join_or(&list);

    // Tailored messages for the mistakes people make most.
    if let Some(w) = word {
        if RESERVED.contains(&w) && (list == ["a name"] || list == ["a field name"]) {
            return Diagnostic::error(
                format!("`{w}` is a reserved word and cannot be used as a name"),
                span,
                "reserved word",
            )
            .with_help("choose another name");
        }
    }
    if has("an expression") {
        let before = word_before(&text[base..], pos - base).map(|(w, at)| (w, base + at));
        if let Some((w @ ("and" | "or" | "not"), at)) = before {
            return Diagnostic::error(
                format!("`{w}` needs a condition on its right side"),
                Span::new(file, at, at + w.len()),
                format!("nothing follows this `{w}`"),
            )
            .with_label(span, format!("found {found}"));
        }
    }
    if has("`else`") && !has("a new item") && !has("`when`") {
        return Diagnostic::error(
            "`if` without `else`",
            span,
            format!("expected `else`, found {found}"),
        )
        .with_help("an `if` always needs an `else`: `if c then a else b`");
    }
    if has("`=>`") {
        return Diagnostic::error(
            format!("expected `=>`, found {found}"),
            span,
            "expected `=>` here",
        )
        .with_note("a branch is written `when condition => value` or `else => value`");
    }
    let mut d = Diagnostic::error(
        format!("expected {expected}, found {found}"),
        span,
        format!("expected {expected}"),
    );
    if has("a new item") {
        d = d.with_help(
            "items start with `segment`, `let`, `decision`, `experiment`, `trigger`, `test` or `schema`",
        );
    }
    if text[pos..].starts_with('=') && !text[pos..].starts_with("==") && has("an operator") {
        d = d.with_help("use `==` to compare values");
    }
    if pos > 0
        && text[..pos].ends_with('%')
        && word.is_some_and(|w| w.starts_with(|c: char| c.is_ascii_digit()))
    {
        d = d.with_help(
            "a number directly followed by `%` is a percentage; write `7 % 2` for the remainder",
        );
    }
    if list.is_empty() {
        d = Diagnostic::error(format!("unexpected {found}"), span, "not expected here");
    }
    d
}

// ====================================================================
// 3. Pairs → AST
// ====================================================================

fn pratt() -> &'static PrattParser<Rule> {
    static PRATT: OnceLock<PrattParser<Rule>> = OnceLock::new();
    PRATT.get_or_init(|| {
        use Assoc::Left;
        use Rule::*;
        // Loosest first; each `.op` binds tighter than the one before.
        PrattParser::new()
            .op(Op::prefix(if_head))
            .op(Op::infix(op_or, Left))
            .op(Op::infix(op_and, Left))
            .op(Op::prefix(op_not))
            .op(Op::infix(op_eq, Left)
                | Op::infix(op_ne, Left)
                | Op::infix(op_lt, Left)
                | Op::infix(op_le, Left)
                | Op::infix(op_gt, Left)
                | Op::infix(op_ge, Left)
                | Op::infix(op_in, Left)
                | Op::infix(op_not_in, Left)
                | Op::infix(op_starts_with, Left)
                | Op::infix(op_ends_with, Left)
                | Op::infix(op_contains, Left)
                | Op::infix(op_has_any, Left)
                | Op::infix(op_has_all, Left)
                | Op::postfix(is_null)
                | Op::postfix(between_op)
                | Op::postfix(within_op)
                | Op::postfix(matches_op))
            .op(Op::infix(op_coalesce, Left))
            .op(Op::infix(op_add, Left) | Op::infix(op_sub, Left))
            .op(Op::infix(op_mul, Left) | Op::infix(op_div, Left) | Op::infix(op_rem, Left))
            .op(Op::prefix(op_neg))
            .op(Op::postfix(field_access) | Op::postfix(index_access))
    })
}

fn is_punct(rule: Rule) -> bool {
    use Rule::*;
    matches!(
        rule,
        arrow
            | assign
            | colon
            | comma
            | lbrace
            | rbrace
            | rbracket
            | rparen
            | langle
            | rangle
            | pipe
    )
}

/// Children of a pair, without punctuation.
fn kids(p: Pair<'_, Rule>) -> impl Iterator<Item = Pair<'_, Rule>> {
    p.into_inner().filter(|p| !is_punct(p.as_rule()))
}

/// Where a pair's last token ends. pest lets a rule that ends in `x*` or
/// `x?` keep the whitespace it skipped looking for one more `x`, so a pair's
/// own end may lie past trailing whitespace and comments; its last child's
/// does not. (Rules that are compound-atomic skip nothing and end exactly.)
fn end_of(p: &Pair<'_, Rule>) -> usize {
    use Rule::*;
    let exact = matches!(
        p.as_rule(),
        string | plain_string | pattern | field_access | element_field | op_not_in
    );
    match p.clone().into_inner().last() {
        Some(last) if !exact => end_of(&last),
        _ => p.as_span().end(),
    }
}

impl Builder<'_> {
    fn span(&self, p: &Pair<'_, Rule>) -> Span {
        self.span_at(p.as_span().start(), end_of(p))
    }

    fn ident(&self, p: &Pair<'_, Rule>) -> Ident {
        Ident {
            name: p.as_str().to_string(),
            span: self.span(p),
        }
    }

    /// An item's name, checked for snake_case.
    fn item_name_of(&self, p: &Pair<'_, Rule>) -> Ident {
        self.item_name(self.ident(p))
    }

    // ------------------------------------------------------------ items

    fn item(&self, p: Pair<'_, Rule>) -> Item {
        let span = self.span(&p);
        let kind = match p.as_rule() {
            Rule::schema => ItemKind::Schema(self.schema(p)),
            Rule::let_item => {
                let mut it = kids(p).skip(1);
                let name = self.item_name_of(&it.next().expect("name"));
                let value = self.expr_of(it.next().expect("value"));
                ItemKind::Let(LetDef { name, value })
            }
            Rule::segment => {
                let mut it = kids(p).skip(1).peekable();
                let name = self.item_name_of(&it.next().expect("name"));
                let label = it
                    .next_if(|p| p.as_rule() == Rule::plain_string)
                    .map(|p| self.str_lit(p));
                let body = self.expr_of(it.next().expect("body"));
                ItemKind::Segment(SegmentDef { name, label, body })
            }
            Rule::decision => ItemKind::Decision(self.decision(p)),
            Rule::experiment => ItemKind::Experiment(self.experiment(p)),
            Rule::trigger => ItemKind::Trigger(self.trigger(p)),
            Rule::test => ItemKind::Test(self.test(p)),
            r => unreachable!("not an item: {r:?}"),
        };
        Item { kind, span }
    }

    fn schema(&self, p: Pair<'_, Rule>) -> Schema {
        let mut entries = Vec::new();
        for e in kids(p).skip(1) {
            let span = self.span(&e);
            match e.as_rule() {
                Rule::event_decl => {
                    let mut it = kids(e).skip(1);
                    let name = self.str_lit(it.next().expect("event name"));
                    let props = it.map(|p| self.prop_decl(p)).collect();
                    entries.push(SchemaEntry::Event { name, props, span });
                }
                Rule::field_decl => {
                    let mut it = kids(e);
                    let path = self.path(it.next().expect("path"));
                    let ty = self.type_expr(it.next().expect("type"));
                    entries.push(SchemaEntry::Field { path, ty, span });
                }
                r => unreachable!("not a schema entry: {r:?}"),
            }
        }
        Schema { entries }
    }

    /// A dotted path whose segments are names or (plain) strings.
    fn path(&self, p: Pair<'_, Rule>) -> Vec<Ident> {
        kids(p)
            .map(|seg| match seg.as_rule() {
                Rule::plain_string => {
                    let lit = self.str_lit(seg);
                    Ident {
                        name: lit.value,
                        span: lit.span,
                    }
                }
                _ => self.ident(&seg),
            })
            .collect()
    }

    fn prop_decl(&self, p: Pair<'_, Rule>) -> (Ident, TypeExpr) {
        let mut it = kids(p);
        let name = self.ident(&it.next().expect("field"));
        let ty = self.type_expr(it.next().expect("type"));
        (name, ty)
    }

    fn type_expr(&self, p: Pair<'_, Rule>) -> TypeExpr {
        let span = self.span(&p);
        let mut it = kids(p);
        let base = it.next().expect("type");
        let nullable = it.next().is_some();
        let kind = match base.as_rule() {
            Rule::type_name => TypeExprKind::Named(self.ident(&base)),
            Rule::list_type => {
                let inner = kids(base).nth(1).expect("element type");
                TypeExprKind::List(Box::new(self.type_expr(inner)))
            }
            Rule::record_type => {
                TypeExprKind::Record(kids(base).map(|p| self.prop_decl(p)).collect())
            }
            Rule::enum_type => TypeExprKind::Enum(kids(base).map(|p| self.str_lit(p)).collect()),
            r => unreachable!("not a type: {r:?}"),
        };
        TypeExpr {
            kind,
            nullable,
            span,
        }
    }

    fn decision(&self, p: Pair<'_, Rule>) -> DecisionDef {
        let mut it = kids(p).skip(1).peekable();
        let name = self.item_name_of(&it.next().expect("name"));
        let label = it
            .next_if(|p| p.as_rule() == Rule::plain_string)
            .map(|p| self.str_lit(p));
        let policy = it.next_if(|p| p.as_rule() == Rule::hit_policy).map(|p| {
            let policy = if p.as_str() == "collect" {
                HitPolicy::Collect
            } else {
                HitPolicy::First
            };
            (policy, self.span(&p))
        });
        let branches = it
            .map(|b| {
                let span = self.span(&b);
                let is_else = b.as_rule() == Rule::else_branch;
                let mut parts = kids(b).skip(1);
                let condition = if is_else {
                    None
                } else {
                    Some(self.expr_of(parts.next().expect("condition")))
                };
                let value = self.expr_of(parts.next().expect("value"));
                Branch {
                    condition,
                    value,
                    span,
                }
            })
            .collect();
        DecisionDef {
            name,
            label,
            policy,
            branches,
        }
    }

    fn experiment(&self, p: Pair<'_, Rule>) -> ExperimentDef {
        let mut it = kids(p).skip(1).peekable();
        let name = self.item_name_of(&it.next().expect("name"));
        let label = it
            .next_if(|p| p.as_rule() == Rule::plain_string)
            .map(|p| self.str_lit(p));
        let clauses = it
            .map(|c| {
                let span = self.span(&c);
                let rule = c.as_rule();
                let mut parts = kids(c).skip(1);
                let kind = match rule {
                    Rule::unit_clause => {
                        ExperimentClauseKind::Unit(self.expr_of(parts.next().expect("unit")))
                    }
                    Rule::salt_clause => {
                        ExperimentClauseKind::Salt(self.str_lit(parts.next().expect("salt")))
                    }
                    Rule::eligible_clause => ExperimentClauseKind::Eligible(
                        self.expr_of(parts.next().expect("eligible")),
                    ),
                    Rule::coverage_clause => ExperimentClauseKind::Coverage(
                        self.expr_of(parts.next().expect("coverage")),
                    ),
                    Rule::variants_clause => ExperimentClauseKind::Variants(
                        parts
                            .map(|v| {
                                let mut vp = kids(v);
                                let name = self.ident(&vp.next().expect("variant"));
                                let weight = self.expr_of(vp.next().expect("weight"));
                                (name, weight)
                            })
                            .collect(),
                    ),
                    Rule::force_clause => ExperimentClauseKind::Force(
                        parts
                            .map(|f| {
                                let mut fp = kids(f);
                                let unit = self.str_lit(fp.next().expect("unit"));
                                let variant = self.ident(&fp.next().expect("variant"));
                                (unit, variant)
                            })
                            .collect(),
                    ),
                    r => unreachable!("not a clause: {r:?}"),
                };
                ExperimentClause { kind, span }
            })
            .collect();
        ExperimentDef {
            name,
            label,
            clauses,
        }
    }

    fn trigger(&self, p: Pair<'_, Rule>) -> TriggerDef {
        let mut it = kids(p).skip(1).peekable();
        let name = self.item_name_of(&it.next().expect("name"));
        it.next(); // `on`
        let on = self.str_lit(it.next().expect("event name"));
        let condition = it
            .next_if(|p| p.as_rule() == Rule::trigger_when)
            .map(|w| self.expr_of(kids(w).nth(1).expect("condition")));
        let actions = it
            .map(|e| {
                let span = self.span(&e);
                let mut parts = kids(e).skip(1);
                let action = self.str_lit(parts.next().expect("action"));
                let payload = parts.next().map(|m| {
                    let node = self.operand(m);
                    self.take(node)
                });
                Emit {
                    action,
                    payload,
                    span,
                }
            })
            .collect();
        TriggerDef {
            name,
            on,
            condition,
            actions,
        }
    }

    fn test(&self, p: Pair<'_, Rule>) -> TestDef {
        let mut it = kids(p).skip(1);
        let name = self.str_lit(it.next().expect("test name"));
        let body = it
            .map(|s| {
                let span = self.span(&s);
                let rule = s.as_rule();
                let mut parts = kids(s).skip(1);
                let kind = match rule {
                    Rule::now_stmt => TestStmtKind::Now(self.expr_of(parts.next().expect("now"))),
                    Rule::expect_stmt => {
                        TestStmtKind::Expect(self.expr_of(parts.next().expect("expect")))
                    }
                    Rule::given_variant => {
                        parts.next(); // `variant`
                        let experiment = self.ident(&parts.next().expect("experiment"));
                        let variant = self.str_lit(parts.next().expect("variant"));
                        TestStmtKind::GivenVariant {
                            experiment,
                            variant,
                        }
                    }
                    Rule::given_file => {
                        parts.next(); // `file`
                        let path = self.str_lit(parts.next().expect("path"));
                        let with = parts
                            .next()
                            .map(|w| self.with_clause(w))
                            .unwrap_or_default();
                        TestStmtKind::GivenFile { path, with }
                    }
                    Rule::given_event => {
                        parts.next(); // `event`
                        let node = self.operand(parts.next().expect("event map"));
                        TestStmtKind::GivenEvent(self.take(node))
                    }
                    Rule::given_literal => {
                        let node = self.operand(parts.next().expect("profile map"));
                        let profile = self.take(node);
                        let with = parts
                            .next()
                            .map(|w| self.with_clause(w))
                            .unwrap_or_default();
                        TestStmtKind::GivenLiteral { profile, with }
                    }
                    r => unreachable!("not a test statement: {r:?}"),
                };
                TestStmt { kind, span }
            })
            .collect();
        TestDef { name, body }
    }

    fn with_clause(&self, p: Pair<'_, Rule>) -> Vec<(Vec<Ident>, Expr)> {
        kids(p)
            .skip(1)
            .map(|e| {
                let mut it = kids(e);
                let path = self.path(it.next().expect("path"));
                let value = self.expr_of(it.next().expect("value"));
                (path, value)
            })
            .collect()
    }

    // ------------------------------------------------------------ expressions

    /// A finished expression from a `full_expr` pair.
    fn expr_of(&self, p: Pair<'_, Rule>) -> Expr {
        let node = self.full_expr(p);
        self.take(node)
    }

    fn full_expr(&self, p: Pair<'_, Rule>) -> Node {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let list = self.expr(it.next().expect("expression"));
        let Some(next) = it.next() else { return list };
        let binder = if next.as_rule() == Rule::binder {
            let name = kids(next).nth(1).expect("binder name");
            it.next(); // `where`
            Some(self.ident(&name))
        } else {
            None
        };
        let condition = self.expr(it.next().expect("condition"));
        let depth = list.depth.max(condition.depth);
        let kind = ExprKind::Where {
            list: Box::new(self.take(list)),
            binder,
            condition: Box::new(self.take(condition)),
        };
        self.node(kind, span, depth)
    }

    /// An `expr` or `additive` pair, through the Pratt parser.
    fn expr(&self, p: Pair<'_, Rule>) -> Node {
        pratt()
            .map_primary(|p| self.operand(p))
            .map_prefix(|op, rhs| self.prefix_pair(op, rhs))
            .map_postfix(|lhs, op| self.postfix_pair(lhs, op))
            .map_infix(|lhs, op, rhs| self.infix_pair(lhs, op, rhs))
            .parse(p.into_inner())
    }

    fn infix_pair(&self, lhs: Node, op: Pair<'_, Rule>, rhs: Node) -> Node {
        use Rule::*;
        let bin = match op.as_rule() {
            op_or => BinaryOp::Or,
            op_and => BinaryOp::And,
            op_eq => BinaryOp::Eq,
            op_ne => BinaryOp::Ne,
            op_lt => BinaryOp::Lt,
            op_le => BinaryOp::Le,
            op_gt => BinaryOp::Gt,
            op_ge => BinaryOp::Ge,
            op_in => BinaryOp::In,
            op_not_in => BinaryOp::NotIn,
            op_starts_with => BinaryOp::StartsWith,
            op_ends_with => BinaryOp::EndsWith,
            op_contains => BinaryOp::Contains,
            op_has_any => BinaryOp::HasAny,
            op_has_all => BinaryOp::HasAll,
            op_coalesce => BinaryOp::Coalesce,
            op_add => BinaryOp::Add,
            op_sub => BinaryOp::Sub,
            op_mul => BinaryOp::Mul,
            op_div => BinaryOp::Div,
            op_rem => BinaryOp::Rem,
            r => unreachable!("not an infix operator: {r:?}"),
        };
        self.binary(lhs, bin, self.span(&op), rhs)
    }

    fn prefix_pair(&self, op: Pair<'_, Rule>, rhs: Node) -> Node {
        let op_span = self.span(&op);
        match op.as_rule() {
            Rule::op_neg => self.unary(UnaryOp::Neg, op_span, rhs),
            Rule::op_not => self.unary(UnaryOp::Not, op_span, rhs),
            Rule::if_head => {
                let mut it = kids(op).skip(1);
                let condition = self.full_expr(it.next().expect("condition"));
                let then = self.full_expr(it.nth(1).expect("then"));
                self.if_then_else(op_span, condition, then, rhs)
            }
            r => unreachable!("not a prefix operator: {r:?}"),
        }
    }

    fn postfix_pair(&self, lhs: Node, op: Pair<'_, Rule>) -> Node {
        let op_span = self.span(&op);
        let rule = op.as_rule();
        let comparison_at = match rule {
            Rule::field_access | Rule::index_access => None,
            _ => Some(
                op.clone()
                    .into_inner()
                    .next()
                    .map_or(op_span, |k| self.span(&k)),
            ),
        };
        self.postfix(lhs, op_span, comparison_at, |operand, depth| match rule {
            Rule::field_access => {
                let name = op.into_inner().next().expect("field name");
                ExprKind::Field(operand, self.ident(&name))
            }
            Rule::index_access => {
                let index = self.full_expr(kids(op).next().expect("index"));
                *depth = (*depth).max(index.depth);
                ExprKind::Index(operand, Box::new(self.take(index)))
            }
            Rule::is_null => ExprKind::IsNull {
                operand,
                negated: op.into_inner().any(|k| k.as_rule() == Rule::kw_not),
            },
            Rule::between_op => {
                let mut it = kids(op).filter(|p| p.as_rule() == Rule::additive);
                let low = self.expr(it.next().expect("low"));
                let high = self.expr(it.next().expect("high"));
                *depth = (*depth).max(low.depth).max(high.depth);
                ExprKind::Between {
                    operand,
                    low: Box::new(self.take(low)),
                    high: Box::new(self.take(high)),
                }
            }
            Rule::within_op => {
                let mut next = false;
                let mut duration = None;
                let mut anchor = WindowAnchor::Past;
                for part in kids(op) {
                    match part.as_rule() {
                        Rule::kw_next => next = true,
                        Rule::additive => {
                            let d = self.expr(part);
                            *depth = (*depth).max(d.depth);
                            duration = Some(self.take(d));
                        }
                        Rule::window_anchor => {
                            let mut ap = kids(part);
                            let after =
                                ap.next().expect("after/before").as_rule() == Rule::kw_after;
                            let at = self.expr(ap.next().expect("anchor"));
                            *depth = (*depth).max(at.depth);
                            let at = Box::new(self.take(at));
                            anchor = if after {
                                WindowAnchor::After(at)
                            } else {
                                WindowAnchor::Before(at)
                            };
                        }
                        _ => {}
                    }
                }
                if next {
                    anchor = WindowAnchor::Next;
                }
                ExprKind::Within {
                    operand,
                    duration: Box::new(duration.expect("window length")),
                    anchor,
                }
            }
            Rule::matches_op => {
                let pat = kids(op).nth(1).expect("pattern");
                let pattern_span = self.span(&pat);
                let text = pat.into_inner().next().map_or("", |t| t.as_str());
                ExprKind::Matches {
                    operand,
                    pattern: raw_pattern(text),
                    pattern_span,
                }
            }
            r => unreachable!("not a postfix operator: {r:?}"),
        })
    }

    fn operand(&self, p: Pair<'_, Rule>) -> Node {
        let span = self.span(&p);
        match p.as_rule() {
            Rule::number => self.number(p.as_str(), span),
            Rule::time => self.time(p.as_str(), span),
            Rule::string => {
                let mut depth = 0;
                let parts = self.string_parts(p, &mut depth);
                self.node(ExprKind::Str(parts), span, depth)
            }
            Rule::kw_null => self.leaf(ExprKind::Null, span),
            Rule::kw_true => self.leaf(ExprKind::Bool(true), span),
            Rule::kw_false => self.leaf(ExprKind::Bool(false), span),
            Rule::kw_it => self.leaf(ExprKind::It, span),
            Rule::kw_now => self.leaf(ExprKind::Now, span),
            Rule::kw_event => self.leaf(ExprKind::Event, span),
            Rule::kw_profile => self.leaf(ExprKind::Profile, span),
            Rule::name => self.leaf(ExprKind::Name(self.ident(&p)), span),
            Rule::element_field => {
                let name = p.into_inner().next().expect("field name");
                self.leaf(ExprKind::ElementField(self.ident(&name)), span)
            }
            Rule::paren => {
                let inner = self.full_expr(kids(p).next().expect("inner"));
                self.paren(inner, span)
            }
            Rule::list => {
                let mut depth = 0;
                let items = kids(p)
                    .map(|e| {
                        let n = self.full_expr(e);
                        depth = depth.max(n.depth);
                        self.take(n)
                    })
                    .collect();
                self.node(ExprKind::List(items), span, depth)
            }
            Rule::map => {
                let mut depth = 0;
                let entries = kids(p)
                    .map(|e| {
                        let mut it = kids(e);
                        let key = self.map_key(it.next().expect("key"));
                        let n = self.full_expr(it.next().expect("value"));
                        depth = depth.max(n.depth);
                        (key, self.take(n))
                    })
                    .collect();
                self.node(ExprKind::Map(entries), span, depth)
            }
            Rule::call => {
                let mut it = kids(p);
                let function = self.ident(&it.next().expect("function"));
                let mut depth = 0;
                let args = it
                    .map(|e| {
                        let n = self.full_expr(e);
                        depth = depth.max(n.depth);
                        self.take(n)
                    })
                    .collect();
                self.node(ExprKind::Call { function, args }, span, depth)
            }
            r => unreachable!("not an operand: {r:?}"),
        }
    }

    fn map_key(&self, p: Pair<'_, Rule>) -> Ident {
        if p.as_rule() == Rule::field_name {
            return self.ident(&p);
        }
        let span = self.span(&p);
        let mut depth = 0;
        let parts = self.string_parts(p, &mut depth);
        self.string_key(parts, span)
    }

    /// The parts of an interpolating string; `depth` gets the deepest
    /// interpolated expression.
    fn string_parts(&self, p: Pair<'_, Rule>, depth: &mut usize) -> Vec<StrPart> {
        let mut parts = Vec::new();
        let mut text = String::new();
        for piece in p.into_inner() {
            match piece.as_rule() {
                Rule::str_text => text.push_str(piece.as_str()),
                Rule::str_escape => self.escape(piece.as_str(), self.span(&piece), &mut text),
                Rule::str_lbrace => text.push('{'),
                Rule::str_rbrace => text.push('}'),
                Rule::str_lone_rbrace => self.lone_rbrace(self.span(&piece)),
                Rule::interpolation => {
                    if !text.is_empty() {
                        parts.push(StrPart::Text(std::mem::take(&mut text)));
                    }
                    let inner = kids(piece).next().expect("interpolated expression");
                    let n = self.full_expr(inner);
                    *depth = (*depth).max(n.depth);
                    parts.push(StrPart::Expr(self.take(n)));
                }
                r => unreachable!("not part of a string: {r:?}"),
            }
        }
        if !text.is_empty() {
            parts.push(StrPart::Text(text));
        }
        parts
    }

    /// A string that does not interpolate.
    fn str_lit(&self, p: Pair<'_, Rule>) -> StrLit {
        let span = self.span(&p);
        let mut value = String::new();
        for piece in p.into_inner() {
            match piece.as_rule() {
                Rule::plain_text => value.push_str(piece.as_str()),
                Rule::str_escape => self.escape(piece.as_str(), self.span(&piece), &mut value),
                r => unreachable!("not part of a plain string: {r:?}"),
            }
        }
        StrLit { value, span }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(text: &str) -> Expr {
        parse_expression(FileId(0), text, &Limits::default()).unwrap_or_else(|d| panic!("{d:?}"))
    }

    fn expr_err(text: &str) -> Vec<Diagnostic> {
        parse_expression(FileId(0), text, &Limits::default()).expect_err("should not parse")
    }

    /// Programs nested every way the scanner counts, from a seed: each
    /// expression wraps another in one of the forms that nest.
    fn nested_programs(count: usize) -> Vec<String> {
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        let mut out = Vec::new();
        for _ in 0..count {
            let mut e = ["x", "[]", "f()", "{}", "\"s\"", "1"][next(6) as usize].to_string();
            for _ in 0..next(12) {
                e = match next(12) {
                    0 => format!("({e})"),
                    1 => format!("[{e}, []]"),
                    2 => format!("f({e})"),
                    3 => format!("{{a: {e}, b: {{}}}}"),
                    4 => format!("\"t{{{e}}}\""),
                    5 => format!("not {e}"),
                    6 => format!("-{e}"),
                    7 => format!("if {e} then {e} else {e}"),
                    8 => format!("y[{e}]"),
                    9 => format!("count(xs where {e})"),
                    10 => format!("{e} and a or b"),
                    _ => format!("z between {e} and 3"),
                };
            }
            out.push(match next(6) {
                0 => format!("segment s = {e}"),
                1 => format!("decision d {{ when {e} => {e}\n else => {e} }}"),
                2 => format!(
                    "experiment e {{ unit {e} force {{ \"q\": a }} \
                     variants {{ a: 50%, b: 50% }} eligible {e} }}"
                ),
                3 => format!("test \"t\" {{ given {{ a: {e}, b: {{}} }} expect {e} }}"),
                4 => format!("trigger t on \"x\" when {e} => emit \"a\" {{ p: {e} }}"),
                _ => format!("let l = {e}\nsegment s \"Label {{x\" = l"),
            });
        }
        out.push("schema { a: list<list<{ b: list<{}> }>>, c: { d: { e: list<int> } } }".into());
        out
    }

    /// The reader skips the pre-check scan only where the scan would pass
    /// (LANGUAGE.md's nesting limit included) and reads what the full
    /// path reads; checked at every small limit, where the two counts of
    /// nesting are closest.
    #[test]
    fn the_shallow_reader_reads_only_what_the_scanner_accepts() {
        let mut texts = nested_programs(4_000);
        let dirs = ["rules", "fuzz/corpus/parse_check_compile"];
        for dir in dirs {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            for entry in std::fs::read_dir(&dir).expect("the directory exists") {
                let path = entry.expect("an entry").path();
                if let Ok(text) = std::fs::read_to_string(&path) {
                    texts.push(text);
                }
            }
        }
        let mut read = 0;
        for text in &texts {
            for limit in (0..=12).chain([128]) {
                let limits = Limits {
                    max_nesting_depth: limit,
                    ..Limits::default()
                };
                let Some(cap) = shallow_nesting(&limits) else {
                    continue;
                };
                let Some(items) = descent::shallow_module(FileId(0), 0, text, &limits, cap) else {
                    continue;
                };
                read += 1;
                let depth = Scanner::new(FileId(0), 0, text, limit)
                    .run()
                    .unwrap_or_else(|d| panic!("limit {limit}: {text}\n{d:?}"));
                assert!(depth <= IN_PLACE_DEPTH + descent::UNCOUNTED, "{text}");
                let full = descent::module(FileId(0), 0, text, &limits).expect("reads");
                assert_eq!(format!("{items:?}"), format!("{full:?}"), "{text}");
            }
        }
        // Most texts are read at the default limit, so the test tests.
        assert!(read > texts.len() / 2, "{read} of {}", texts.len());
    }

    #[test]
    fn every_item_keyword_starts_anew() {
        for kw in ITEM_KEYWORDS {
            assert!(starts_anew(kw), "{kw}");
        }
    }

    /// Time literals are read by `crate::time::parse_time`, as profile data.
    fn parse_time(s: &str) -> Option<i64> {
        crate::time::parse_time(s).ok()
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("1970-01-01"), Some(0));
        assert_eq!(parse_time("2026-11-20T12:00:00Z"), Some(1_795_176_000_000));
        assert_eq!(
            parse_time("2026-11-20T13:00:00+01:00"),
            Some(1_795_176_000_000)
        );
        assert_eq!(
            parse_time("2026-11-20t12:00:00.1239z"),
            Some(1_795_176_000_123)
        );
        assert_eq!(parse_time("1969-12-31T23:59:59.5Z"), Some(-500));
        assert_eq!(parse_time("2024-02-29"), Some(19_782 * 86_400_000));
        for bad in [
            "2026-11-20T12:00Z",
            "2026-11-20T12:00:00",
            "2025-02-29",
            "2026-13-01",
            "2026-11-20T24:00:00Z",
            "2026-11-20T12:00:00.Z",
            "2026-11-20T12:00:00+0100",
            "2026-11-2",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn numbers_and_decimals() {
        let float = |t: &str| match expr(t).kind {
            ExprKind::Float(f, d) => (f, d),
            k => panic!("{k:?}"),
        };
        assert_eq!(
            float("50%"),
            (
                0.5,
                Some(Decimal {
                    digits: 50,
                    scale: 2
                })
            )
        );
        assert_eq!(
            float("12.5%"),
            (
                0.125,
                Some(Decimal {
                    digits: 125,
                    scale: 3
                })
            )
        );
        assert_eq!(
            float("0.1"),
            (
                0.1,
                Some(Decimal {
                    digits: 1,
                    scale: 1
                })
            )
        );
        assert_eq!(
            float("1e-3"),
            (
                0.001,
                Some(Decimal {
                    digits: 1,
                    scale: 3
                })
            )
        );
        assert_eq!(
            float("2.5E+3"),
            (
                2500.0,
                Some(Decimal {
                    digits: 2500,
                    scale: 0
                })
            )
        );
        assert_eq!(float("33.3%").0, 0.333);
        assert_eq!(expr("1_000").kind, ExprKind::Int(1000));
        assert_eq!(expr("-9223372036854775808").kind, ExprKind::Int(i64::MIN));
        assert_eq!(expr("- 5").kind, ExprKind::Int(-5));
        assert_eq!(expr("500ms").kind, ExprKind::Duration(500));
        assert_eq!(expr("2w").kind, ExprKind::Duration(1_209_600_000));
        assert!(expr_err("9223372036854775808")[0]
            .message
            .contains("out of range"));
        assert!(expr_err("-(9223372036854775808)")[0]
            .message
            .contains("out of range"));
        assert!(expr_err("3days")[0].message.contains("bad duration"));
        assert!(expr_err("1.5h")[0].message.contains("bad duration"));
    }

    #[test]
    fn spans_are_byte_offsets_in_the_original_text() {
        let e = expr("\u{FEFF}  a + 1");
        assert_eq!(e.span, Span::new(FileId(0), 5, 10));
        let m = parse_module(FileId(3), "\u{FEFF}let x = é\r\n", &Limits::default());
        assert!(m.is_err(), "é is not a name");
        let m = parse_module(FileId(3), "\u{FEFF}let x =\r\n\t1\r\n", &Limits::default()).unwrap();
        assert_eq!(m.items[0].span, Span::new(FileId(3), 3, 14));
        let m = parse_module(
            FileId(0),
            "let x = a.b # c\n\nlet y = [1] ",
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(m.items[0].span, Span::new(FileId(0), 0, 11));
        assert_eq!(m.items[1].span, Span::new(FileId(0), 17, 28));
    }

    #[test]
    fn recovery_resumes_at_the_next_item_keyword_at_column_one() {
        let text = "# head\nsegment a = 1 +\n  # still a\n\nlet b = \"x\n\nsegment c = true\n\
                    decision Bad_name { else => 1 }\ntest \"t\" { expect c }\n\
                    experiment e {\n  unit user.id\n  variants { x: 100% }\nsegment f = 1 2\n";
        let parsed = parse_module_recovering(FileId(2), text, &Limits::default());
        let at = |d: &Diagnostic| {
            let s = d.primary_span().unwrap();
            assert_eq!(s.file, FileId(2));
            &text[s.range()]
        };
        let errors: Vec<(&str, &str)> = parsed
            .errors
            .iter()
            .map(|d| (d.message.as_str(), at(d)))
            .collect();
        assert_eq!(
            errors,
            [
                ("expected an expression, found `let`", "let"),
                ("unclosed string literal", "\""),
                ("item names are snake_case", "Bad_name"),
                (
                    "expected `coverage`, `eligible`, `force`, `salt`, `unit`, `variants` or `}`, \
                     found `segment`",
                    "segment",
                ),
                ("expected an operator or a new item, found `2`", "2"),
            ]
            .as_slice(),
            "{:#?}",
            parsed.errors
        );
        let kept: Vec<&str> = parsed
            .module
            .items
            .iter()
            .map(|i| &text[i.span.range()])
            .collect();
        assert_eq!(kept, ["segment c = true", "test \"t\" { expect c }"]);
        let lost: Vec<(&str, Option<&str>)> = parsed
            .lost
            .iter()
            .map(|l| (l.keyword, l.name.as_deref()))
            .collect();
        assert_eq!(
            lost,
            [
                ("segment", Some("a")),
                ("let", Some("b")),
                ("decision", Some("Bad_name")),
                ("experiment", Some("e")),
                ("segment", Some("f")),
            ]
        );
        assert_eq!(&text[parsed.lost[1].span.range()], "let");
        // The strict entry point fails with the same errors.
        let strict = parse_module(FileId(2), text, &Limits::default()).unwrap_err();
        assert_eq!(strict, parsed.errors);
    }

    #[test]
    fn a_file_without_errors_is_parsed_whole() {
        // `segment` at column 1 as a map key: not an item boundary for a
        // file that parses.
        let text = "let m = {\nsegment: 1\n}\nsegment s = m.segment == 1\n";
        let parsed = parse_module_recovering(FileId(0), text, &Limits::default());
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert!(parsed.lost.is_empty());
        assert_eq!(parsed.module.items.len(), 2);
    }

    #[test]
    fn strings() {
        let e = expr(r#""a\tb\u{1F600}{{x}} {1 + 2}""#);
        let ExprKind::Str(parts) = e.kind else {
            panic!()
        };
        assert_eq!(parts[0], StrPart::Text("a\tb\u{1F600}{x} ".into()));
        assert!(matches!(parts[1], StrPart::Expr(_)));
        let e = expr(r#"s matches "^\d+\"$""#);
        let ExprKind::Matches { pattern, .. } = e.kind else {
            panic!()
        };
        assert_eq!(pattern, "^\\d+\"$");
    }

    #[test]
    fn moderately_deep_input_parses_on_an_ordinary_stack() {
        let depth = 120;
        let text = format!("{}1{}", "(".repeat(depth), ")".repeat(depth));
        expr(&text);
        let text = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        expr(&text);
        let text = format!("{}x", "not ".repeat(depth));
        expr(&text);
    }

    #[test]
    fn depth_guard_counts_prefix_chains_and_long_operator_chains() {
        let err = expr_err(&format!("{}x", "not ".repeat(1000)));
        assert!(err[0].message.contains("nesting too deep"), "{err:?}");
        let err = expr_err(&format!("{}x", "- ".repeat(1000)));
        assert!(err[0].message.contains("nesting too deep"), "{err:?}");
        let err = expr_err(&format!("x{}", " + 1".repeat(1000)));
        assert!(err[0].message.contains("nested too deeply"), "{err:?}");
        let err = expr_err(&format!("{}1{}", "if x then 1 else ".repeat(1000), ""));
        assert!(err[0].message.contains("nesting too deep"), "{err:?}");
        let err = expr_err(&"x == not ".repeat(1000));
        assert!(err[0].message.contains("nesting too deep"), "{err:?}");
    }

    #[test]
    fn plain_strings_keep_braces() {
        let m = parse_module(
            FileId(0),
            r#"segment a "{not interpolated" = true
               schema { user."{odd": string }
               trigger t on "x{" => emit "y}" { k: "v{1}" }"#,
            &Limits::default(),
        )
        .unwrap_or_else(|d| panic!("{d:?}"));
        assert_eq!(m.items.len(), 3);
        let m = parse_module(
            FileId(0),
            r#"experiment e "{" { unit x salt "{s" variants { a: 100% } force { "{u": a } }
               test "{t" {
                 given file "{f" with { a."{b": "{1}" }
                 given variant e = "{v"
                 expect s matches "{\"}\d{2}"
               }
               decision d "{" collect { else => 1 }"#,
            &Limits::default(),
        )
        .unwrap_or_else(|d| panic!("{d:?}"));
        assert_eq!(m.items.len(), 3);
        let ItemKind::Test(t) = &m.items[1].kind else {
            panic!()
        };
        let TestStmtKind::Expect(e) = &t.body[2].kind else {
            panic!()
        };
        let ExprKind::Matches { pattern, .. } = &e.kind else {
            panic!()
        };
        assert_eq!(pattern, "{\"}\\d{2}");
        let m = parse_module(
            FileId(0),
            r#"segment a "{not interpolated" = true"#,
            &Limits::default(),
        )
        .unwrap();
        let ItemKind::Segment(s) = &m.items[0].kind else {
            panic!()
        };
        assert_eq!(s.label.as_ref().unwrap().value, "{not interpolated");
    }
}
