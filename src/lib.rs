//! Onramp: a rules language for onboarding personalisation.
//!
//! Rule files are parsed ([`syntax`]), checked ([`check`]), compiled to
//! bytecode ([`compile`]) and run against profiles by a virtual machine
//! ([`vm`]). Embedders use [`Program`], [`Context`] and [`Evaluator`]:
//!
//! ```
//! let program = onramp::Program::compile(
//!     "segment adult = user.age >= 18\n",
//! ).unwrap();
//! let profile = serde_json::json!({"user": {"age": 30}});
//! let result = program.evaluate(&profile, &onramp::Context::at_millis(0)).unwrap();
//! assert_eq!(result.segment("adult"), Some(true));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bucket;
pub mod check;
pub mod compile;
pub mod diagnostic;
pub mod explain;
pub mod fmt;
pub mod limits;
pub mod population;
mod program;
pub mod reference;
pub mod semver;
pub mod span;
pub mod summary;
pub mod syntax;
pub mod testing;
pub mod time;
pub mod value;
pub mod vm;

pub use check::types::{Type, TypeKind};
pub use diagnostic::{Diagnostic, Severity};
pub use limits::Limits;
pub use program::{
    collect_files, ActionResult, CompileError, Context, Engine, EvalError, EvalResult, Evaluator,
    HostFunction, Program, RuntimeError,
};
pub use span::{FileId, SourceMap, Span};
pub use value::Value;
