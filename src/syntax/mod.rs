//! Stage 1: text → AST.
//!
//! Owns the pest grammar (`grammar/onramp.pest`) and the translation of pest
//! pairs into [`ast`] nodes. No pest type leaves this module. Parse errors are
//! turned into our own [`Diagnostic`]s ("expected X, found Y").

pub mod ast;
mod parser;
pub mod sexpr;

use crate::diagnostic::Diagnostic;
use crate::limits::Limits;
use crate::span::FileId;

/// Parses one rule file. `file` is the id spans will carry.
///
/// Input nested deeper than `limits.max_nesting_depth` is rejected before
/// any recursive stage runs, so no input can overflow the stack.
pub fn parse(file: FileId, text: &str, limits: &Limits) -> Result<ast::Module, Vec<Diagnostic>> {
    parser::parse_module(file, text, limits)
}

/// Parses a single expression (the REPL and `given` overrides use this).
pub fn parse_expression(
    file: FileId,
    text: &str,
    limits: &Limits,
) -> Result<ast::Expr, Vec<Diagnostic>> {
    parser::parse_expression(file, text, limits)
}
