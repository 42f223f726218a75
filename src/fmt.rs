//! `onramp fmt`: the one canonical layout of a rule file.
//!
//! The formatter parses a file, prints its AST again in a fixed layout and
//! puts every comment back where it was. It never changes what a program
//! means: before returning, it parses its own output and checks that the
//! syntax tree (spans aside) and the sequence of comments are unchanged, and
//! reports an internal error instead of returning text that differs.
//!
//! # Layout
//!
//! - Indentation is 2 spaces per block (`schema`, `decision`, `experiment`,
//!   `test` bodies, broken lists and maps); continuation lines of a rule are
//!   indented 4 spaces (`=` bodies, `=> value`, `when`/`=>` of triggers,
//!   broken `and`/`or` chains inside conditions).
//! - One schema entry, decision branch, experiment clause and test statement
//!   per line.
//! - Lines are at most [`WIDTH`] columns where a break is possible. Breaks
//!   happen only at these places, each a *group* that is either entirely on
//!   one line or broken at every one of its places: after `=` of a `let` or
//!   `segment`; before `=>` of a branch; before `when` and `=>` of a trigger
//!   and between its emits; before every `and`/`or` of a chain (the operator
//!   leads the new line); inside brackets of lists, maps, calls, records,
//!   `variants`, `force` and `with` (one element per line, no trailing comma).
//!   A group breaks when it does not fit, when a comment needs it to, or when
//!   the source already had a line break at one of its places — so the
//!   author's choice to spread a rule over several lines is kept (this is
//!   what makes the layout both canonical and stable: the formatter's own
//!   output always reproduces itself). A broken chain or trigger part also
//!   breaks the rule around it; brackets may stay on the line they open.
//!   When a `let`, `segment` or branch is too long and ends in brackets that
//!   would not fit on a continuation line either, the rule stays on its line
//!   and only the brackets break (`let xs = [` … `]`); otherwise it breaks
//!   first (`when c` / `=> { … }` on the next line).
//! - `=>` is not aligned across branches.
//! - Spacing: one space around binary operators and after `,` and `:`;
//!   `{ k: v }` maps have spaces inside the braces, `[1, 2]` lists and calls
//!   do not.
//! - Literals: numbers, durations, times and `matches` patterns are kept
//!   exactly as written (re-rendering a float could change its exact
//!   value); other strings are re-escaped canonically (`\"`, `\\`, `\n`,
//!   `\t`, `{{`/`}}` where strings interpolate, `\u{..}` for other control
//!   characters). Map keys, schema paths and `with` paths are bare where
//!   they are names and quoted otherwise. Redundant commas disappear.
//! - Parentheses appear exactly where precedence or (non-)associativity
//!   needs them, and also around an `if` or `where` used as an operand, and
//!   around integer literals under a unary minus (`-(5)` stays distinct from
//!   the literal `-5`).
//! - Blank lines: top-level items are separated by one blank line, except
//!   that consecutive one-line items of the same kind (a run of `let`s or
//!   `segment`s) that the source wrote without a blank line stay together.
//!   Inside blocks and between comments, one blank line is kept where the
//!   source had one or more; never at the start of a block.
//! - Trailing comments of sibling lines (same indentation, no blank or
//!   comment line between them) are aligned two spaces after the longest
//!   code among those lines that carry one.
//!
//! # Comments
//!
//! The AST keeps no comments, so [`comments`] finds them in the source
//! (outside strings, but inside interpolations) with their byte offsets.
//! While printing, every token that can be located in the source flushes the
//! comments that come before it. A comment alone on its line is a *leading*
//! comment: it is printed on its own line just before that token. A comment
//! after code on its line is a *trailing* comment: it goes to the end of the
//! output line of the last token printed before it, and whatever follows
//! starts a new line. Either way it makes the innermost group around it break
//! at the right place, so a comment never glues code to its end.

use std::collections::HashSet;

use crate::diagnostic::Diagnostic;
use crate::limits::Limits;
use crate::span::{FileId, Span};
use crate::syntax::{self, ast::*};

/// The line width the layout aims for.
pub const WIDTH: usize = 100;

/// Indentation of a block's contents.
const BLOCK: usize = 2;
/// Indentation of a rule's continuation lines.
const CONT: usize = 4;

/// Formats one rule file. A file that does not parse is reported, not
/// formatted; the result always ends with exactly one newline.
pub fn format_source(text: &str) -> Result<String, Vec<Diagnostic>> {
    let limits = Limits::default();
    let module = syntax::parse(FileId(0), text, &limits)?;
    let comments = scan_comments(text, &plain_string_starts(text, &module));
    let out = Printer::new(text, comments.clone()).module(&module);

    // The safety net: the output must mean exactly what the input meant
    // and keep every comment, or the file is left alone.
    let same = match syntax::parse(FileId(0), &out, &limits) {
        Ok(again) => {
            let texts = |c: &[Comment]| c.iter().map(|c| c.text.clone()).collect::<Vec<_>>();
            syntax::sexpr::module_to_sexpr(&again) == syntax::sexpr::module_to_sexpr(&module)
                && texts(&scan_comments(&out, &plain_string_starts(&out, &again)))
                    == texts(&comments)
        }
        Err(_) => false,
    };
    if same {
        Ok(out)
    } else {
        Err(vec![Diagnostic::error(
            "internal error: formatting would change this file, so it was left unchanged",
            Span::new(FileId(0), 0, 0),
            "in this file",
        )
        .with_note(
            "this is a bug in `onramp fmt`; please report it with the file",
        )])
    }
}

// ====================================================================
// Comments
// ====================================================================

/// A comment: its byte offset and its text from `#` (trailing whitespace
/// removed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    /// Byte offset of the `#`.
    pub start: usize,
    /// The text, `#` included.
    pub text: String,
}

/// Every comment of a rule file, in order (the file must parse: only its
/// syntax tree tells which `#` stand inside strings).
pub fn comments(text: &str) -> Result<Vec<Comment>, Vec<Diagnostic>> {
    let module = syntax::parse(FileId(0), text, &Limits::default())?;
    Ok(scan_comments(text, &plain_string_starts(text, &module)))
}

/// Every comment of a parsed file, in order. `plain` holds the offsets of
/// the string literals that do not interpolate (labels, event names,
/// `matches` patterns, …): only the AST knows which strings those are, and
/// a `{` means something else inside them.
fn scan_comments(text: &str, plain: &HashSet<usize>) -> Vec<Comment> {
    enum Frame {
        Str,
        Interp(usize),
    }
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if let Some(Frame::Str) = stack.last() {
            match b[i] {
                b'"' | b'\n' => {
                    stack.pop();
                    i += 1;
                }
                b'\\' => {
                    if b.get(i + 1) == Some(&b'u') && b.get(i + 2) == Some(&b'{') {
                        i += 3;
                        while i < b.len() && b[i].is_ascii_alphanumeric() {
                            i += 1;
                        }
                        if b.get(i) == Some(&b'}') {
                            i += 1;
                        }
                    } else {
                        i += 2;
                    }
                }
                b'{' if b.get(i + 1) == Some(&b'{') => i += 2,
                b'}' if b.get(i + 1) == Some(&b'}') => i += 2,
                b'{' => {
                    stack.push(Frame::Interp(0));
                    i += 1;
                }
                _ => i += 1,
            }
            continue;
        }
        match b[i] {
            b'#' => {
                let start = i;
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                out.push(Comment {
                    start,
                    text: text[start..i].trim_end().to_string(),
                });
            }
            b'"' if plain.contains(&i) => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'"' => {
                stack.push(Frame::Str);
                i += 1;
            }
            b'{' => {
                if let Some(Frame::Interp(depth)) = stack.last_mut() {
                    *depth += 1;
                }
                i += 1;
            }
            b'}' => {
                match stack.last_mut() {
                    Some(Frame::Interp(0)) => {
                        stack.pop();
                    }
                    Some(Frame::Interp(depth)) => *depth -= 1,
                    _ => {}
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// Offsets of the opening quotes of every string that does not interpolate.
fn plain_string_starts(text: &str, m: &Module) -> HashSet<usize> {
    let mut set = HashSet::new();
    let mut add = |s: Span| {
        set.insert(s.start as usize);
    };
    let quoted = |id: &Ident| text.as_bytes().get(id.span.start as usize) == Some(&b'"');
    let mut exprs: Vec<&Expr> = Vec::new();
    fn types(t: &TypeExpr, add: &mut dyn FnMut(Span)) {
        match &t.kind {
            TypeExprKind::Named(_) => {}
            TypeExprKind::List(inner) => types(inner, add),
            TypeExprKind::Record(props) => props.iter().for_each(|(_, t)| types(t, add)),
            TypeExprKind::Enum(members) => members.iter().for_each(|m| add(m.span)),
        }
    }
    for item in &m.items {
        match &item.kind {
            ItemKind::Schema(s) => {
                for e in &s.entries {
                    match e {
                        SchemaEntry::Field { path, ty, .. } => {
                            path.iter().filter(|p| quoted(p)).for_each(|p| add(p.span));
                            types(ty, &mut add);
                        }
                        SchemaEntry::Event { name, props, .. } => {
                            add(name.span);
                            props.iter().for_each(|(_, t)| types(t, &mut add));
                        }
                    }
                }
            }
            ItemKind::Let(l) => exprs.push(&l.value),
            ItemKind::Segment(s) => {
                s.label.iter().for_each(|l| add(l.span));
                exprs.push(&s.body);
            }
            ItemKind::Decision(d) => {
                d.label.iter().for_each(|l| add(l.span));
                for b in &d.branches {
                    exprs.extend(b.condition.iter());
                    exprs.push(&b.value);
                }
            }
            ItemKind::Experiment(x) => {
                x.label.iter().for_each(|l| add(l.span));
                for c in &x.clauses {
                    match &c.kind {
                        ExperimentClauseKind::Unit(e)
                        | ExperimentClauseKind::Eligible(e)
                        | ExperimentClauseKind::Coverage(e) => exprs.push(e),
                        ExperimentClauseKind::Salt(s) => add(s.span),
                        ExperimentClauseKind::Variants(vs) => {
                            exprs.extend(vs.iter().map(|(_, w)| w))
                        }
                        ExperimentClauseKind::Force(fs) => fs.iter().for_each(|(u, _)| add(u.span)),
                    }
                }
            }
            ItemKind::Trigger(t) => {
                add(t.on.span);
                exprs.extend(t.condition.iter());
                for a in &t.actions {
                    add(a.action.span);
                    exprs.extend(a.payload.iter());
                }
            }
            ItemKind::Test(t) => {
                add(t.name.span);
                for s in &t.body {
                    match &s.kind {
                        TestStmtKind::Now(e)
                        | TestStmtKind::Expect(e)
                        | TestStmtKind::GivenEvent(e) => exprs.push(e),
                        TestStmtKind::GivenLiteral { profile, with } => {
                            exprs.push(profile);
                            for (path, v) in with {
                                path.iter().filter(|p| quoted(p)).for_each(|p| add(p.span));
                                exprs.push(v);
                            }
                        }
                        TestStmtKind::GivenFile { path, with } => {
                            add(path.span);
                            for (path, v) in with {
                                path.iter().filter(|p| quoted(p)).for_each(|p| add(p.span));
                                exprs.push(v);
                            }
                        }
                        TestStmtKind::GivenVariant { variant, .. } => add(variant.span),
                    }
                }
            }
        }
    }
    // Patterns may stand anywhere an expression does; walk with an explicit
    // stack (the parser bounds the depth, but a loop needs no bound).
    while let Some(e) = exprs.pop() {
        match &e.kind {
            ExprKind::Matches {
                operand,
                pattern_span,
                ..
            } => {
                add(*pattern_span);
                exprs.push(operand);
            }
            ExprKind::Str(parts) => exprs.extend(parts.iter().filter_map(|p| match p {
                StrPart::Expr(e) => Some(e),
                StrPart::Text(_) => None,
            })),
            ExprKind::List(items) => exprs.extend(items.iter()),
            ExprKind::Map(entries) => exprs.extend(entries.iter().map(|(_, v)| v)),
            ExprKind::Field(x, _) | ExprKind::Unary(_, x) => exprs.push(x),
            ExprKind::IsNull { operand, .. } => exprs.push(operand),
            ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => exprs.extend([&**a, &**b]),
            ExprKind::Call { args, .. } => exprs.extend(args.iter()),
            ExprKind::Between { operand, low, high } => exprs.extend([&**operand, &**low, &**high]),
            ExprKind::Within {
                operand,
                duration,
                anchor,
            } => {
                exprs.extend([&**operand, &**duration]);
                if let WindowAnchor::After(x) | WindowAnchor::Before(x) = anchor {
                    exprs.push(x);
                }
            }
            ExprKind::If {
                condition,
                then,
                otherwise,
            } => exprs.extend([&**condition, &**then, &**otherwise]),
            ExprKind::Where {
                list, condition, ..
            } => exprs.extend([&**list, &**condition]),
            _ => {}
        }
    }
    set
}

// ====================================================================
// The token stream
// ====================================================================

/// One element of the layout, in printing order.
#[derive(Clone, Debug)]
enum Tok {
    /// Text printed as is.
    Text(String),
    /// A space between tokens (dropped where a line ends).
    Space,
    /// A place where the innermost group may break: its flat text, or a
    /// new line.
    Line(&'static str),
    /// A new line, always (between block entries).
    Hard,
    /// An empty line.
    Blank,
    /// Start of a group (index into `groups`).
    Open(usize),
    /// End of the innermost group.
    Close,
    /// More indentation for what follows; with `true`, only when the
    /// innermost group is broken.
    Indent(usize, bool),
    /// Undo the last `Indent`.
    Dedent,
    /// A comment: trailing (end of the current line) or leading (own line,
    /// with a blank line before it when `blank`).
    Comment {
        text: String,
        trailing: bool,
        blank: bool,
    },
    /// Between two top-level items: a blank line when `blank`, or unless
    /// both are one-line items of the same kind.
    ItemSep { blank: bool, same_kind: bool },
}

#[derive(Clone, Copy, Debug, Default)]
struct Group {
    /// Breaks whatever the width: the source broke it, or a comment needs it.
    forced: bool,
    /// A bracketed group: may stay on the line it opens on even when broken.
    hug: bool,
    /// A rule head (`let x =`, `when c =>`): rather than break it, keep it
    /// on one line and break the brackets that end it, when those would not
    /// fit on a line of their own either.
    tail: bool,
}

fn width(s: &str) -> usize {
    s.chars().count()
}

fn is_word(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\u{FEFF}')
}

/// A string literal's text with canonical escapes.
fn quote(s: &str, interpolating: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '{' if interpolating => out.push_str("{{"),
            '}' if interpolating => out.push_str("}}"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Builds the token stream from the AST.
struct Printer<'a> {
    src: &'a str,
    comments: Vec<Comment>,
    /// The next comment not yet printed.
    next: usize,
    /// Where the last located token ends in the source.
    cursor: usize,
    toks: Vec<Tok>,
    groups: Vec<Group>,
    /// Open groups while building.
    open: Vec<usize>,
    /// `Line`s since the last located token: their group and where the
    /// source gap they stand for starts.
    pending: Vec<(usize, usize)>,
    /// Inside an interpolation: no line breaks but those comments force.
    in_string: usize,
}

impl<'a> Printer<'a> {
    fn new(src: &'a str, comments: Vec<Comment>) -> Printer<'a> {
        Printer {
            src,
            comments,
            next: 0,
            cursor: 0,
            toks: Vec::new(),
            groups: Vec::new(),
            open: Vec::new(),
            pending: Vec::new(),
            in_string: 0,
        }
    }

    // ------------------------------------------------------------ source

    fn line_start(&self, at: usize) -> usize {
        self.src[..at].rfind('\n').map_or(0, |i| i + 1)
    }

    /// Nothing but whitespace before `at` on its line.
    fn own_line(&self, at: usize) -> bool {
        self.src[self.line_start(at)..at].chars().all(is_space)
    }

    /// The line above the one holding `at` is empty.
    fn blank_before(&self, at: usize) -> bool {
        let start = self.line_start(at);
        if start == 0 {
            return false;
        }
        let prev = self.line_start(start - 1);
        self.src[prev..start - 1].chars().all(is_space)
    }

    /// Where `tok` stands in the source, if it is the next thing after the
    /// cursor (skipping whitespace, comments, and parentheses and commas
    /// that the layout drops).
    fn locate(&self, tok: &str) -> Option<usize> {
        let b = self.src.as_bytes();
        let mut i = self.cursor;
        while let Some(&c) = b.get(i) {
            match c {
                b' ' | b'\t' | b'\r' | b'\n' => i += 1,
                b'#' => {
                    while i < b.len() && b[i] != b'\n' {
                        i += 1;
                    }
                }
                b'(' | b')' | b',' if !tok.as_bytes().starts_with(&[c]) => i += 1,
                _ => break,
            }
        }
        let rest = self.src.get(i..)?.strip_prefix(tok)?;
        let is_word_char = |c: char| c.is_ascii_alphanumeric() || c == '_';
        let glued = tok.ends_with(is_word_char) && rest.starts_with(is_word_char);
        (!glued).then_some(i)
    }

    // ------------------------------------------------------------ emitting

    /// Text that stands at `start..end` of the source.
    fn at(&mut self, text: impl Into<String>, start: usize, end: usize) {
        self.flush(start, false);
        for (g, from) in std::mem::take(&mut self.pending) {
            if self
                .src
                .get(from..start)
                .is_some_and(|gap| gap.contains('\n'))
            {
                self.groups[g].forced = true;
            }
        }
        self.toks.push(Tok::Text(text.into()));
        self.cursor = self.cursor.max(end);
    }

    fn span_text(&mut self, text: impl Into<String>, span: Span) {
        self.at(text, span.start as usize, span.end as usize);
    }

    /// A keyword or punctuation: located in the source when it is there.
    fn word(&mut self, tok: &str) {
        match self.locate(tok) {
            Some(i) => self.at(tok, i, i + tok.len()),
            None => self.text(tok),
        }
    }

    fn text(&mut self, s: &str) {
        self.toks.push(Tok::Text(s.to_string()));
    }

    fn space(&mut self) {
        self.toks.push(Tok::Space);
    }

    fn line(&mut self, flat: &'static str) {
        match self.open.last() {
            Some(&g) if self.in_string == 0 => {
                self.pending.push((g, self.cursor));
                self.toks.push(Tok::Line(flat));
            }
            _ => self.text(flat),
        }
    }

    fn open(&mut self, hug: bool) {
        self.groups.push(Group {
            forced: false,
            hug,
            tail: false,
        });
        self.open.push(self.groups.len() - 1);
        self.toks.push(Tok::Open(self.groups.len() - 1));
    }

    /// A group for a rule head, see [`Group::tail`].
    fn open_head(&mut self) {
        self.open(false);
        if let Some(g) = self.groups.last_mut() {
            g.tail = true;
        }
    }

    fn close(&mut self) {
        self.open.pop();
        self.toks.push(Tok::Close);
    }

    fn indent(&mut self, n: usize, if_broken: bool) {
        self.toks.push(Tok::Indent(n, if_broken));
    }

    fn dedent(&mut self) {
        self.toks.push(Tok::Dedent);
    }

    /// Prints the comments that come before `at`. With `first`, the first
    /// leading comment starts a block and gets no blank line before it.
    /// Returns whether a leading comment was printed.
    fn flush(&mut self, at: usize, first: bool) -> bool {
        let mut leading = false;
        while let Some(c) = self.comments.get(self.next) {
            if c.start >= at {
                break;
            }
            let text = c.text.clone();
            let start = c.start;
            self.next += 1;
            if !self.own_line(start) {
                // After the last text printed, before any break that follows.
                let mut k = self.toks.len();
                while k > 0 && !matches!(self.toks[k - 1], Tok::Text(_) | Tok::Comment { .. }) {
                    k -= 1;
                }
                let trailing = k > 0 && matches!(self.toks[k - 1], Tok::Text(_));
                let tok = Tok::Comment {
                    text,
                    trailing,
                    blank: false,
                };
                if trailing {
                    self.toks.insert(k, tok);
                } else {
                    // Nothing printed to trail (the code before it on its
                    // line was dropped): it leads what follows, as it will
                    // once formatted.
                    self.toks.push(tok);
                }
            } else {
                let blank = (leading || !first) && self.blank_before(start);
                leading = true;
                self.toks.push(Tok::Comment {
                    text,
                    trailing: false,
                    blank,
                });
            }
        }
        leading
    }

    // ------------------------------------------------------------ items

    fn module(mut self, m: &Module) -> String {
        for (i, item) in m.items.iter().enumerate() {
            let start = item.span.start as usize;
            if i > 0 {
                let blank = self.first_gap_blank(start);
                let same_kind = std::mem::discriminant(&m.items[i - 1].kind)
                    == std::mem::discriminant(&item.kind);
                self.toks.push(Tok::ItemSep { blank, same_kind });
            }
            let leading = self.flush(start, true);
            if leading && self.own_line(start) && self.blank_before(start) {
                self.toks.push(Tok::Blank);
            }
            self.item(item);
        }
        self.toks.push(Tok::Hard);
        self.flush(usize::MAX, m.items.is_empty());
        render(&self.toks, &mut self.groups)
    }

    /// Whether the source has a blank line between the previous item (and
    /// its trailing comments) and what comes next before the item at `start`.
    fn first_gap_blank(&self, start: usize) -> bool {
        let next_own = self.comments[self.next..]
            .iter()
            .take_while(|c| c.start < start)
            .find(|c| self.own_line(c.start));
        match next_own {
            Some(c) => self.blank_before(c.start),
            None => self.own_line(start) && self.blank_before(start),
        }
    }

    fn item(&mut self, item: &Item) {
        match &item.kind {
            ItemKind::Schema(s) => {
                self.word("schema");
                self.space();
                self.block(
                    &s.entries,
                    |e| schema_entry_span(e).start as usize,
                    |p, e| p.schema_entry(e),
                );
            }
            ItemKind::Let(l) => {
                self.open_head();
                self.word("let");
                self.space();
                self.ident(&l.name);
                self.space();
                self.word("=");
                self.indent(CONT, true);
                self.line(" ");
                self.body(&l.value, 0);
                self.dedent();
                self.close();
            }
            ItemKind::Segment(s) => {
                self.open_head();
                self.word("segment");
                self.space();
                self.ident(&s.name);
                if let Some(l) = &s.label {
                    self.space();
                    self.str_lit(l);
                }
                self.space();
                self.word("=");
                self.indent(CONT, true);
                self.line(" ");
                self.body(&s.body, 0);
                self.dedent();
                self.close();
            }
            ItemKind::Decision(d) => {
                self.word("decision");
                self.space();
                self.ident(&d.name);
                if let Some(l) = &d.label {
                    self.space();
                    self.str_lit(l);
                }
                if let Some((policy, _)) = d.policy {
                    self.space();
                    self.word(match policy {
                        HitPolicy::First => "first",
                        HitPolicy::Collect => "collect",
                    });
                }
                self.space();
                self.block(&d.branches, |b| b.span.start as usize, |p, b| p.branch(b));
            }
            ItemKind::Experiment(x) => {
                self.word("experiment");
                self.space();
                self.ident(&x.name);
                if let Some(l) = &x.label {
                    self.space();
                    self.str_lit(l);
                }
                self.space();
                self.block(&x.clauses, |c| c.span.start as usize, |p, c| p.clause(c));
            }
            ItemKind::Trigger(t) => self.trigger(t),
            ItemKind::Test(t) => {
                self.word("test");
                self.space();
                self.str_lit(&t.name);
                self.space();
                self.block(&t.body, |s| s.span.start as usize, |p, s| p.test_stmt(s));
            }
        }
    }

    /// `{ entry per line }`, keeping blank lines between entries.
    fn block<T>(
        &mut self,
        entries: &[T],
        start: impl Fn(&T) -> usize,
        mut each: impl FnMut(&mut Self, &T),
    ) {
        self.word("{");
        let close = self.locate("}");
        let comment_inside =
            close.is_some_and(|c| self.comments.get(self.next).is_some_and(|x| x.start < c));
        if entries.is_empty() && !comment_inside {
            self.word("}");
            return;
        }
        self.indent(BLOCK, false);
        for (i, e) in entries.iter().enumerate() {
            let at = start(e);
            self.toks.push(Tok::Hard);
            let leading = self.flush(at, i == 0);
            if (i > 0 || leading) && self.own_line(at) && self.blank_before(at) {
                self.toks.push(Tok::Blank);
            }
            each(self, e);
        }
        self.toks.push(Tok::Hard);
        if let Some(c) = self.locate("}") {
            self.flush(c, entries.is_empty());
        }
        self.dedent();
        self.toks.push(Tok::Hard);
        self.word("}");
    }

    fn schema_entry(&mut self, e: &SchemaEntry) {
        match e {
            SchemaEntry::Field { path, ty, .. } => {
                self.path(path);
                self.word(":");
                self.space();
                self.ty(ty);
            }
            SchemaEntry::Event { name, props, .. } => {
                self.word("event");
                self.space();
                self.str_lit(name);
                if !props.is_empty() {
                    self.space();
                    self.props(props);
                }
            }
        }
    }

    fn props(&mut self, props: &[(Ident, TypeExpr)]) {
        self.seq("{", "}", true, props, |p, (name, ty)| {
            p.ident(name);
            p.word(":");
            p.space();
            p.ty(ty);
        });
    }

    fn ty(&mut self, t: &TypeExpr) {
        match &t.kind {
            TypeExprKind::Named(n) => self.ident(n),
            TypeExprKind::List(inner) => {
                self.word("list");
                self.word("<");
                self.ty(inner);
                self.word(">");
            }
            TypeExprKind::Record(props) => self.props(props),
            TypeExprKind::Enum(members) => {
                for (i, m) in members.iter().enumerate() {
                    if i > 0 {
                        self.space();
                        self.word("|");
                        self.space();
                    }
                    self.str_lit(m);
                }
            }
        }
        if t.nullable {
            self.word("?");
        }
    }

    /// A dotted path of names and quoted keys.
    fn path(&mut self, path: &[Ident]) {
        for (i, seg) in path.iter().enumerate() {
            if i > 0 {
                self.word(".");
            }
            if is_word(&seg.name) {
                self.span_text(seg.name.clone(), seg.span);
            } else {
                self.span_text(quote(&seg.name, false), seg.span);
            }
        }
    }

    fn branch(&mut self, b: &Branch) {
        self.open_head();
        match &b.condition {
            Some(c) => {
                self.word("when");
                self.space();
                self.body(c, CONT);
            }
            None => self.word("else"),
        }
        self.indent(CONT, true);
        self.line(" ");
        self.word("=>");
        self.space();
        self.body(&b.value, CONT);
        self.dedent();
        self.close();
    }

    fn clause(&mut self, c: &ExperimentClause) {
        match &c.kind {
            ExperimentClauseKind::Unit(e) => {
                self.word("unit");
                self.space();
                self.body(e, CONT);
            }
            ExperimentClauseKind::Salt(s) => {
                self.word("salt");
                self.space();
                self.str_lit(s);
            }
            ExperimentClauseKind::Eligible(e) => {
                self.word("eligible");
                self.space();
                self.body(e, CONT);
            }
            ExperimentClauseKind::Coverage(e) => {
                self.word("coverage");
                self.space();
                self.body(e, CONT);
            }
            ExperimentClauseKind::Variants(vs) => {
                self.word("variants");
                self.space();
                self.seq("{", "}", true, vs, |p, (name, w)| {
                    p.ident(name);
                    p.word(":");
                    p.space();
                    p.expr(w, 0);
                });
            }
            ExperimentClauseKind::Force(fs) => {
                self.word("force");
                self.space();
                self.seq("{", "}", true, fs, |p, (unit, variant)| {
                    p.str_lit(unit);
                    p.word(":");
                    p.space();
                    p.ident(variant);
                });
            }
        }
    }

    fn trigger(&mut self, t: &TriggerDef) {
        self.open(false);
        self.word("trigger");
        self.space();
        self.ident(&t.name);
        self.space();
        self.word("on");
        self.space();
        self.str_lit(&t.on);
        self.indent(CONT, true);
        if let Some(c) = &t.condition {
            self.line(" ");
            self.word("when");
            self.space();
            self.body(c, CONT);
        }
        self.line(" ");
        self.word("=>");
        self.space();
        self.open(false);
        // Later emits, and a payload broken over lines, line up under the
        // first `emit`, after `=> `: always, so that a payload the author
        // broke and one broken for width come out the same (idempotence).
        self.indent(3, false);
        for (i, a) in t.actions.iter().enumerate() {
            if i > 0 {
                self.word(",");
                self.line(" ");
            }
            self.word("emit");
            self.space();
            self.str_lit(&a.action);
            if let Some(p) = &a.payload {
                self.space();
                self.expr(p, 0);
            }
        }
        self.dedent();
        self.close();
        self.dedent();
        self.close();
    }

    fn test_stmt(&mut self, s: &TestStmt) {
        match &s.kind {
            TestStmtKind::Now(e) => {
                self.word("now");
                self.space();
                self.body(e, CONT);
            }
            TestStmtKind::Expect(e) => {
                self.word("expect");
                self.space();
                self.body(e, CONT);
            }
            TestStmtKind::GivenLiteral { profile, with } => {
                self.word("given");
                self.space();
                self.expr(profile, 0);
                self.with(with);
            }
            TestStmtKind::GivenFile { path, with } => {
                self.word("given");
                self.space();
                self.word("file");
                self.space();
                self.str_lit(path);
                self.with(with);
            }
            TestStmtKind::GivenVariant {
                experiment,
                variant,
            } => {
                self.word("given");
                self.space();
                self.word("variant");
                self.space();
                self.ident(experiment);
                self.space();
                self.word("=");
                self.space();
                self.str_lit(variant);
            }
            TestStmtKind::GivenEvent(e) => {
                self.word("given");
                self.space();
                self.word("event");
                self.space();
                self.expr(e, 0);
            }
        }
    }

    fn with(&mut self, with: &[(Vec<Ident>, Expr)]) {
        if with.is_empty() {
            return;
        }
        self.space();
        self.word("with");
        self.space();
        self.seq("{", "}", true, with, |p, (path, value)| {
            p.path(path);
            p.word(":");
            p.space();
            p.expr(value, 0);
        });
    }

    // ------------------------------------------------------------ pieces

    fn ident(&mut self, id: &Ident) {
        self.span_text(id.name.clone(), id.span);
    }

    fn str_lit(&mut self, s: &StrLit) {
        self.span_text(quote(&s.value, false), s.span);
    }

    /// `open items close`, one item per line when broken.
    fn seq<T>(
        &mut self,
        open: &str,
        close: &str,
        spaced: bool,
        items: &[T],
        mut each: impl FnMut(&mut Self, &T),
    ) {
        self.word(open);
        if items.is_empty() {
            self.word(close);
            return;
        }
        let pad = if spaced { " " } else { "" };
        self.open(true);
        self.indent(BLOCK, true);
        self.line(pad);
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.word(",");
                self.line(" ");
            }
            each(self, item);
        }
        // Comments after the last item belong inside the brackets.
        if let Some(c) = self.locate(close) {
            self.flush(c, false);
        }
        self.dedent();
        self.line(pad);
        self.close();
        self.word(close);
    }

    // ------------------------------------------------------------ expressions

    /// How tightly an expression binds (LANGUAGE.md §3, loosest first).
    fn level(&self, e: &Expr) -> u8 {
        match &e.kind {
            ExprKind::Where { .. } => 0,
            ExprKind::If { .. } => 1,
            ExprKind::Binary(op, ..) => match op {
                BinaryOp::Or => 2,
                BinaryOp::And => 3,
                BinaryOp::Coalesce => 6,
                BinaryOp::Add | BinaryOp::Sub => 7,
                BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => 8,
                _ => 5,
            },
            ExprKind::Unary(UnaryOp::Not, _) => 4,
            ExprKind::IsNull { .. }
            | ExprKind::Between { .. }
            | ExprKind::Within { .. }
            | ExprKind::Matches { .. } => 5,
            ExprKind::Unary(UnaryOp::Neg, _) => 9,
            ExprKind::Int(_) if self.source(e.span).starts_with('-') => 9,
            _ => 10,
        }
    }

    fn source(&self, span: Span) -> &'a str {
        self.src.get(span.range()).unwrap_or("")
    }

    /// A rule body or condition: an `and`/`or` chain may break, its
    /// continuation lines indented by `indent`.
    fn body(&mut self, e: &Expr, indent: usize) {
        match &e.kind {
            ExprKind::Binary(BinaryOp::And | BinaryOp::Or, ..) => self.chain(e, indent),
            _ => self.expr(e, 0),
        }
    }

    /// `e`, parenthesised when it binds more loosely than `min`.
    fn expr(&mut self, e: &Expr, min: u8) {
        if self.level(e) < min {
            self.parens(e);
        } else {
            self.bare(e);
        }
    }

    fn parens(&mut self, e: &Expr) {
        self.word("(");
        self.body(e, CONT);
        self.word(")");
    }

    fn chain(&mut self, e: &Expr, indent: usize) {
        let ExprKind::Binary(op, ..) = &e.kind else {
            return self.expr(e, 0);
        };
        let op = *op;
        let level = self.level(e);
        let mut operands = Vec::new();
        let mut cur = e;
        while let ExprKind::Binary(o, l, r) = &cur.kind {
            if *o != op {
                break;
            }
            operands.push(&**r);
            cur = l;
        }
        operands.push(cur);
        operands.reverse();
        self.open(false);
        self.indent(indent, true);
        for (i, x) in operands.into_iter().enumerate() {
            if i == 0 {
                self.expr(x, level);
            } else {
                self.line(" ");
                self.word(op.symbol());
                self.space();
                self.expr(x, level + 1);
            }
        }
        self.dedent();
        self.close();
    }

    fn bare(&mut self, e: &Expr) {
        let span = e.span;
        match &e.kind {
            ExprKind::Null => self.span_text("null", span),
            ExprKind::Bool(b) => self.span_text(if *b { "true" } else { "false" }, span),
            ExprKind::Int(_) => {
                // A minus folded into the literal may be followed by spaces
                // or comments; the digits are the last word.
                let src = self.source(span);
                let digits = src
                    .rsplit(|c: char| c.is_whitespace())
                    .next()
                    .unwrap_or(src);
                let digits = digits.trim_start_matches('-');
                let text = if src.starts_with('-') {
                    format!("-{digits}")
                } else {
                    digits.to_string()
                };
                self.span_text(text, span);
            }
            ExprKind::Float(..) | ExprKind::Time(_) | ExprKind::Duration(_) => {
                let text = self.source(span).to_string();
                self.span_text(text, span);
            }
            ExprKind::Str(parts) => self.string(parts, span),
            ExprKind::List(items) => self.seq("[", "]", false, items, |p, x| p.body(x, CONT)),
            ExprKind::Map(entries) => self.seq("{", "}", true, entries, |p, (k, v)| {
                let key = if is_word(&k.name) {
                    k.name.clone()
                } else {
                    quote(&k.name, true)
                };
                p.span_text(key, k.span);
                p.word(":");
                p.space();
                p.body(v, CONT);
            }),
            ExprKind::Name(id) => self.ident(id),
            ExprKind::It => self.span_text("it", span),
            ExprKind::Now => self.span_text("now", span),
            ExprKind::Event => self.span_text("event", span),
            ExprKind::Profile => self.span_text("profile", span),
            ExprKind::ElementField(id) => self.span_text(format!(".{}", id.name), span),
            ExprKind::Field(base, name) => {
                self.expr(base, 10);
                self.word(".");
                self.ident(name);
            }
            ExprKind::Index(base, index) => {
                self.expr(base, 10);
                self.word("[");
                self.body(index, CONT);
                self.word("]");
            }
            ExprKind::Call { function, args } => {
                self.ident(function);
                self.seq("(", ")", false, args, |p, x| p.body(x, CONT));
            }
            ExprKind::Unary(UnaryOp::Neg, x) => {
                self.word("-");
                // `-(5)` is not the literal `-5`, and `-(-x)` reads better
                // than `--x`.
                if matches!(x.kind, ExprKind::Int(_)) || self.level(x) < 10 {
                    self.parens(x);
                } else {
                    self.bare(x);
                }
            }
            ExprKind::Unary(UnaryOp::Not, x) => {
                self.word("not");
                self.space();
                self.expr(x, 4);
            }
            ExprKind::Binary(BinaryOp::And | BinaryOp::Or, ..) => self.chain(e, CONT),
            ExprKind::Binary(op, l, r) => {
                let level = self.level(e);
                // Comparisons do not chain; the others associate left.
                let (lmin, rmin) = if level == 5 {
                    (6, 6)
                } else {
                    (level, level + 1)
                };
                self.expr(l, lmin);
                self.space();
                if *op == BinaryOp::NotIn {
                    self.word("not");
                    self.space();
                    self.word("in");
                } else {
                    self.word(op.symbol());
                }
                self.space();
                self.expr(r, rmin);
            }
            ExprKind::IsNull { operand, negated } => {
                self.expr(operand, 6);
                self.space();
                self.word("is");
                self.space();
                if *negated {
                    self.word("not");
                    self.space();
                }
                self.word("null");
            }
            ExprKind::Between { operand, low, high } => {
                self.expr(operand, 6);
                self.space();
                self.word("between");
                self.space();
                self.expr(low, 7);
                self.space();
                self.word("and");
                self.space();
                self.expr(high, 7);
            }
            ExprKind::Within {
                operand,
                duration,
                anchor,
            } => {
                self.expr(operand, 6);
                self.space();
                self.word("within");
                self.space();
                if let WindowAnchor::Next = anchor {
                    self.word("next");
                    self.space();
                    self.expr(duration, 7);
                } else if matches!(&duration.kind, ExprKind::Name(n) if n.name == "next") {
                    // A field called `next` would read as `within next …`.
                    self.parens(duration);
                } else {
                    self.expr(duration, 7);
                }
                match anchor {
                    WindowAnchor::After(x) | WindowAnchor::Before(x) => {
                        self.space();
                        self.word(if matches!(anchor, WindowAnchor::After(_)) {
                            "after"
                        } else {
                            "before"
                        });
                        self.space();
                        self.expr(x, 7);
                    }
                    WindowAnchor::Past | WindowAnchor::Next => {}
                }
            }
            ExprKind::Matches {
                operand,
                pattern_span,
                ..
            } => {
                self.expr(operand, 6);
                self.space();
                self.word("matches");
                self.space();
                let text = self.source(*pattern_span).to_string();
                self.span_text(text, *pattern_span);
            }
            ExprKind::If {
                condition,
                then,
                otherwise,
            } => {
                self.word("if");
                self.space();
                self.expr(condition, 1);
                self.space();
                self.word("then");
                self.space();
                self.expr(then, 1);
                self.space();
                self.word("else");
                self.space();
                self.expr(otherwise, 1);
            }
            ExprKind::Where {
                list,
                binder,
                condition,
            } => {
                self.expr(list, 1);
                if let Some(b) = binder {
                    self.space();
                    self.word("as");
                    self.space();
                    self.ident(b);
                }
                self.space();
                self.word("where");
                self.space();
                self.body(condition, CONT);
            }
        }
    }

    /// A string that interpolates: text re-escaped, holes formatted.
    fn string(&mut self, parts: &[StrPart], span: Span) {
        let start = span.start as usize;
        self.at("\"", start, start + 1);
        self.in_string += 1;
        for part in parts {
            match part {
                StrPart::Text(t) => {
                    let q = quote(t, true);
                    self.text(&q[1..q.len() - 1]);
                }
                StrPart::Expr(x) => {
                    // Never located: `{` belongs to the string's text.
                    let brace = self.toks.len();
                    self.text("{");
                    self.body(x, CONT);
                    // `{{` would be a literal brace.
                    let starts_with_brace = self.toks[brace + 1..]
                        .iter()
                        .find_map(|t| match t {
                            Tok::Text(s) if !s.is_empty() => Some(s.starts_with('{')),
                            _ => None,
                        })
                        .unwrap_or(false);
                    if starts_with_brace {
                        self.toks[brace] = Tok::Text("{ ".into());
                    }
                    self.word("}");
                }
            }
        }
        self.in_string -= 1;
        self.text("\"");
        self.cursor = self.cursor.max(span.end as usize);
    }
}

fn schema_entry_span(e: &SchemaEntry) -> Span {
    match e {
        SchemaEntry::Field { span, .. } | SchemaEntry::Event { span, .. } => *span,
    }
}

// ====================================================================
// Rendering
// ====================================================================

/// Decides which groups are forced to break, then prints the stream.
fn render(toks: &[Tok], groups: &mut [Group]) -> String {
    force_groups(toks, groups);
    // Which items print on one line (for the blank lines between them).
    let mut bounds = vec![0];
    bounds.extend(
        toks.iter()
            .enumerate()
            .filter(|(_, t)| matches!(t, Tok::ItemSep { .. }))
            .map(|(i, _)| i),
    );
    bounds.push(toks.len());
    let one_line: Vec<bool> = bounds
        .windows(2)
        .map(|w| {
            let mut r = Renderer::new(toks, groups, &[], true);
            r.run(w[0]..w[1]);
            !r.out.contains('\n')
        })
        .collect();
    let mut r = Renderer::new(toks, groups, &one_line, false);
    r.run(0..toks.len());
    r.finish()
}

/// Marks the groups that must break: those the source broke (already set),
/// the innermost group around a comment that has a break on the comment's
/// side, and the parents of broken groups that are not bracketed.
fn force_groups(toks: &[Tok], groups: &mut [Group]) {
    let mut lines: Vec<Vec<usize>> = vec![Vec::new(); groups.len()];
    let mut stack: Vec<usize> = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        match t {
            Tok::Open(g) => stack.push(*g),
            Tok::Close => {
                stack.pop();
            }
            Tok::Line(_) => {
                if let Some(&g) = stack.last() {
                    lines[g].push(i);
                }
            }
            _ => {}
        }
    }
    stack.clear();
    for (i, t) in toks.iter().enumerate() {
        match t {
            Tok::Open(g) => stack.push(*g),
            Tok::Close => {
                if let Some(g) = stack.pop() {
                    if groups[g].forced && !groups[g].hug {
                        if let Some(&parent) = stack.last() {
                            groups[parent].forced = true;
                        }
                    }
                }
            }
            Tok::Comment { trailing, .. } => {
                let needs = |g: usize| {
                    if *trailing {
                        lines[g].iter().any(|&l| l > i)
                    } else {
                        lines[g].iter().any(|&l| l < i)
                    }
                };
                if let Some(&g) = stack.iter().rev().find(|&&g| needs(g)) {
                    groups[g].forced = true;
                }
            }
            _ => {}
        }
    }
}

struct Renderer<'t> {
    toks: &'t [Tok],
    groups: &'t [Group],
    one_line: &'t [bool],
    /// A dry run that ignores comments (deciding one-line items).
    dry: bool,
    out: String,
    col: usize,
    /// Nothing but indentation on the current line yet.
    fresh: bool,
    indents: Vec<usize>,
    /// Open groups: broken, and the bracketed group a flat one hugs.
    modes: Vec<(bool, Option<usize>)>,
    /// New lines owed before the next text (2: with a blank line).
    want: usize,
    line_no: usize,
    items_seen: usize,
    /// Lines ending in a trailing comment: (line, column where code ends).
    trailing: Vec<(usize, usize)>,
}

impl<'t> Renderer<'t> {
    fn new(toks: &'t [Tok], groups: &'t [Group], one_line: &'t [bool], dry: bool) -> Renderer<'t> {
        Renderer {
            toks,
            groups,
            one_line,
            dry,
            out: String::new(),
            col: 0,
            fresh: true,
            indents: Vec::new(),
            modes: Vec::new(),
            want: 0,
            line_no: 0,
            items_seen: 0,
            trailing: Vec::new(),
        }
    }

    fn indent(&self) -> usize {
        self.indents.last().copied().unwrap_or(0)
    }

    fn write(&mut self, s: &str) {
        if self.want > 0 && !self.out.is_empty() {
            let trimmed = self.out.trim_end_matches(' ').len();
            self.out.truncate(trimmed);
            for _ in 0..self.want {
                self.out.push('\n');
            }
            self.line_no += self.want;
            let ind = self.indent();
            self.out.extend(std::iter::repeat_n(' ', ind));
            self.col = ind;
            self.fresh = true;
        }
        self.want = 0;
        if !s.is_empty() {
            self.out.push_str(s);
            self.col += width(s);
            self.fresh = false;
        }
    }

    fn run(&mut self, range: std::ops::Range<usize>) {
        for i in range {
            match &self.toks[i] {
                Tok::Text(s) => self.write(s),
                Tok::Space => {
                    if self.want == 0 {
                        self.write(" ");
                    }
                }
                Tok::Line(flat) => {
                    if self.modes.last().is_none_or(|m| m.0) {
                        self.want = self.want.max(1);
                    } else if self.want == 0 {
                        self.out.push_str(flat);
                        self.col += flat.len();
                    }
                }
                Tok::Hard => self.want = self.want.max(1),
                Tok::Blank => self.want = self.want.max(2),
                Tok::Open(g) => {
                    let forced = self.groups[*g].forced;
                    let mut hugged = None;
                    let broken = match self.modes.last() {
                        // A flat group's groups are flat, except the
                        // brackets it hugs, which break if they must.
                        Some(&(false, h)) if h != Some(*g) => forced,
                        _ => {
                            forced
                                || !self.fits(i, None) && {
                                    hugged = self.hug_tail(i);
                                    hugged.is_none()
                                }
                        }
                    };
                    self.modes.push((broken, hugged));
                }
                Tok::Close => {
                    self.modes.pop();
                }
                Tok::Indent(n, if_broken) => {
                    let applies = !if_broken || self.modes.last().is_none_or(|m| m.0);
                    let ind = self.indent() + if applies { *n } else { 0 };
                    self.indents.push(ind);
                }
                Tok::Dedent => {
                    self.indents.pop();
                }
                Tok::Comment {
                    text,
                    trailing,
                    blank,
                } => {
                    if self.dry {
                        continue;
                    }
                    if *trailing && self.want == 0 && !self.out.is_empty() {
                        self.trailing.push((self.line_no, self.col));
                        self.out.push(' ');
                        self.out.push_str(text);
                    } else {
                        if !self.fresh {
                            self.want = self.want.max(1);
                        }
                        if *blank {
                            self.want = self.want.max(2);
                        }
                        self.write(text);
                    }
                    self.want = 1;
                }
                Tok::ItemSep { blank, same_kind } => {
                    let k = self.items_seen;
                    self.items_seen += 1;
                    let together = *same_kind
                        && self.one_line.get(k).copied().unwrap_or(false)
                        && self.one_line.get(k + 1).copied().unwrap_or(false);
                    self.want = self.want.max(if *blank || !together { 2 } else { 1 });
                }
            }
        }
    }

    /// Whether the group opening at `i` fits on the current line (up to its
    /// end and whatever is glued to it), nested groups that must break
    /// counting only up to their first break.
    fn fits(&self, i: usize, as_broken: Option<usize>) -> bool {
        let mut col = if self.want > 0 {
            self.indent()
        } else {
            self.col
        };
        let mut stack: Vec<bool> = vec![false];
        let mut after = false;
        for t in &self.toks[i + 1..] {
            match t {
                Tok::Text(s) => col += width(s),
                Tok::Space => col += 1,
                Tok::Line(flat) => match stack.last() {
                    Some(false) if !after => col += flat.len(),
                    _ => return col <= WIDTH,
                },
                Tok::Open(g) => {
                    if !after {
                        stack.push(self.groups[*g].forced || as_broken == Some(*g));
                    }
                }
                Tok::Close => {
                    if !after {
                        stack.pop();
                        after = stack.is_empty();
                    }
                }
                Tok::Hard | Tok::Blank | Tok::Comment { .. } | Tok::ItemSep { .. } => {
                    return col <= WIDTH
                }
                Tok::Indent(..) | Tok::Dedent => {}
            }
            if col > WIDTH {
                return false;
            }
        }
        col <= WIDTH
    }

    /// For a rule head that does not fit on one line: whether to keep it on
    /// one line anyway and break only the brackets it ends with, because
    /// those would not fit on a continuation line of their own either
    /// (`let xs = [` rather than `let xs =` and a broken list below).
    fn hug_tail(&self, i: usize) -> Option<usize> {
        let Tok::Open(g) = self.toks[i] else {
            return None;
        };
        if !self.groups[g].tail {
            return None;
        }
        // The end of the head, and the bracketed group just before it with
        // nothing but closing text after.
        let mut depth = 0;
        let mut end = None;
        for (j, t) in self.toks.iter().enumerate().skip(i) {
            match t {
                Tok::Open(_) => depth += 1,
                Tok::Close => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(j);
                        break;
                    }
                }
                _ => {}
            }
        }
        let end = end?;
        let mut j = end;
        let inner_close = loop {
            j -= 1;
            match &self.toks[j] {
                Tok::Text(_) | Tok::Space | Tok::Dedent => {}
                Tok::Close => break j,
                _ => return None,
            }
        };
        let mut depth = 0;
        let mut inner_open = None;
        for k in (i + 1..=inner_close).rev() {
            match self.toks[k] {
                Tok::Close => depth += 1,
                Tok::Open(h) => {
                    depth -= 1;
                    if depth == 0 {
                        inner_open = Some((k, h));
                        break;
                    }
                }
                _ => {}
            }
        }
        let (open_at, h) = inner_open?;
        if !self.groups[h].hug {
            return None;
        }
        // The continuation line the brackets would start if the head broke.
        let last_line = (i + 1..open_at)
            .rev()
            .find(|&k| matches!(self.toks[k], Tok::Line(_)))?;
        let mut w = self.indent() + CONT;
        for t in &self.toks[last_line + 1..end] {
            match t {
                Tok::Text(s) => w += width(s),
                Tok::Space => w += 1,
                Tok::Line(flat) => w += flat.len(),
                Tok::Comment { .. } | Tok::Hard | Tok::Blank => return None,
                _ => {}
            }
        }
        (w > WIDTH && self.fits(i, Some(h))).then_some(h)
    }

    /// The text, with trailing comments of sibling lines aligned.
    fn finish(self) -> String {
        let mut lines: Vec<String> = self.out.split('\n').map(str::to_string).collect();
        let indent_of = |l: &str| l.len() - l.trim_start_matches(' ').len();
        let mut k = 0;
        while k < self.trailing.len() {
            let mut end = k + 1;
            // Siblings: same indentation, with only code lines of that
            // indentation between them (a blank line or a comment line
            // starts a new paragraph).
            let indent = indent_of(&lines[self.trailing[k].0]);
            while end < self.trailing.len()
                && (self.trailing[end - 1].0 + 1..=self.trailing[end].0).all(|l| {
                    let line = &lines[l];
                    indent_of(line) == indent
                        && !line.trim().is_empty()
                        && !line.trim_start().starts_with('#')
                })
            {
                end += 1;
            }
            let column = self.trailing[k..end].iter().map(|t| t.1).max().unwrap_or(0) + 2;
            for &(line, code) in &self.trailing[k..end] {
                let l = &lines[line];
                let split = l.char_indices().nth(code).map_or(l.len(), |(b, _)| b);
                let (code_part, comment) = l.split_at(split);
                lines[line] = format!(
                    "{code_part}{}{}",
                    " ".repeat(column - code),
                    comment.trim_start()
                );
            }
            k = end;
        }
        let mut out = lines.join("\n");
        let trimmed = out.trim_end().len();
        out.truncate(trimmed);
        if !out.is_empty() {
            out.push('\n');
        }
        out
    }
}
