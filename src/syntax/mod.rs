//! Stage 1: text → AST.
//!
//! Owns the grammar (`grammar/onramp.pest`) and its two readers: a
//! hand-written one for speed, and pest, which reads whatever the first
//! gives up on and words every syntax error. Both build the [`ast`]
//! through one builder. No pest type leaves this module. Parse errors are
//! turned into our own [`Diagnostic`]s ("expected X, found Y").

pub mod ast;
mod build;
mod descent;
mod parser;
pub mod sexpr;

use crate::diagnostic::Diagnostic;
use crate::limits::Limits;
use crate::span::{FileId, Span};

/// Parses one rule file. `file` is the id spans will carry. Any syntax
/// error fails the whole file; the errors are those of every item that
/// does not parse (see [`parse_recovering`]).
///
/// Input nested deeper than `limits.max_nesting_depth` is rejected before
/// any recursive stage runs, so no input can overflow the stack.
pub fn parse(file: FileId, text: &str, limits: &Limits) -> Result<ast::Module, Vec<Diagnostic>> {
    parser::parse_module(file, text, limits)
}

/// Parses one rule file, keeping what parsed when something did not.
///
/// After a syntax error, parsing resumes at the next line that starts, at
/// column 1, with an item keyword (`schema`, `let`, `segment`, `decision`,
/// `experiment`, `trigger`, `test`): each broken item gives one error, and
/// the module holds the items that parsed. A file that is too large gives
/// one error and no items.
pub fn parse_recovering(file: FileId, text: &str, limits: &Limits) -> Parsed {
    parser::parse_module_recovering(file, text, limits)
}

/// The result of [`parse_recovering`].
#[derive(Debug)]
pub struct Parsed {
    /// The items that parsed (all of them when `errors` is empty).
    pub module: ast::Module,
    /// Syntax errors, in file order.
    pub errors: Vec<Diagnostic>,
    /// The items that did not parse, as far as their text shows.
    pub lost: Vec<LostItem>,
}

/// An item that did not parse, read from the line it starts on, so that
/// checking the rest of the program can stay quiet about its absence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LostItem {
    /// Its keyword (`segment`, `schema`, …).
    pub keyword: &'static str,
    /// Its name, for the kinds that have one (not `schema` or `test`), when
    /// the line shows one.
    pub name: Option<String>,
    /// Where its keyword stands.
    pub span: Span,
}

/// Parses a single expression (the REPL and `given` overrides use this).
pub fn parse_expression(
    file: FileId,
    text: &str,
    limits: &Limits,
) -> Result<ast::Expr, Vec<Diagnostic>> {
    parser::parse_expression(file, text, limits)
}

/// The two readers of the grammar, each alone: pest, and the hand-written
/// reader that [`parse`] tries first. Not part of the API: it exists for
/// the tests and the fuzz target that hold the two to the same trees.
#[doc(hidden)]
pub mod readers {
    use super::*;

    /// `text` as one file read by the hand-written reader alone: `None`
    /// where it leaves the text to pest (any syntax error among them).
    pub fn descent(text: &str, limits: &Limits) -> Option<Result<ast::Module, Vec<Diagnostic>>> {
        parser::read_whole_with(false, FileId(0), text, limits)
            .map(|read| read.map(|items| ast::Module { items }))
    }

    /// `text` as one file read by the hand-written reader without the
    /// pre-check scan, as parsing tries first: `None` where it gives up
    /// (too deep, or anything `descent` gives up on). Whatever it reads,
    /// `descent` must read alike.
    pub fn shallow(text: &str, limits: &Limits) -> Option<ast::Module> {
        parser::read_shallow(FileId(0), text, limits).map(|items| ast::Module { items })
    }

    /// `text` as one file read by pest alone, without recovery.
    pub fn pest(text: &str, limits: &Limits) -> Result<ast::Module, Vec<Diagnostic>> {
        parser::read_whole_with(true, FileId(0), text, limits)
            .expect("pest reads every text")
            .map(|items| ast::Module { items })
    }

    /// One expression read by the hand-written reader alone.
    pub fn descent_expression(
        text: &str,
        limits: &Limits,
    ) -> Option<Result<ast::Expr, Vec<Diagnostic>>> {
        parser::read_expression_with(false, FileId(0), text, limits)
    }

    /// One expression read by pest alone.
    pub fn pest_expression(text: &str, limits: &Limits) -> Result<ast::Expr, Vec<Diagnostic>> {
        parser::read_expression_with(true, FileId(0), text, limits).expect("pest reads every text")
    }
}
