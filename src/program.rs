//! The embedding API (LANGUAGE.md §13): [`Engine`], [`Program`],
//! [`Context`], [`Evaluator`] and [`EvalResult`].
//!
//! This module wires the stages together; it owns no language semantics.

use crate::check::ir::RuleKind;
use crate::check::types::Type;
use crate::check::{self, CheckedProgram, HostSignature};
use crate::compile::{self, Bytecode};
use crate::diagnostic::{self, Diagnostic};
use crate::limits::Limits;
use crate::span::SourceMap;
use crate::syntax;
use crate::value::Value;
use crate::vm::bind::{self, BindBuffers, Binder, Bound};
use crate::vm::bind_text::{self, BindPlan};
use crate::vm::plan::RunPlan;
use crate::vm::{Action, Machine, Origin, RawError};
use serde_json::{json, Map as JsonMap, Value as Json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

/// A host function: receives its arguments, returns a value or an error
/// message (a §9 run-time error).
pub type HostFunction = Arc<dyn Fn(&[Value]) -> Result<Value, String> + Send + Sync>;

/// A registered host function.
#[derive(Clone)]
pub struct HostFn {
    pub(crate) signature: HostSignature,
    pub(crate) function: HostFunction,
}

impl std::fmt::Debug for HostFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostFn")
            .field("signature", &self.signature)
            .finish_non_exhaustive()
    }
}

/// Compiles programs: holds host functions and limits.
#[derive(Clone, Debug, Default)]
pub struct Engine {
    host: Vec<HostFn>,
    limits: Limits,
}

/// A program that did not compile: every diagnostic, with the sources to
/// render them.
#[derive(Debug, thiserror::Error)]
#[error("{}", diagnostic::render(&self.diagnostics, &self.sources, false))]
pub struct CompileError {
    /// Errors and warnings.
    pub diagnostics: Vec<Diagnostic>,
    /// The program's files.
    pub sources: SourceMap,
}

/// Why a profile could not be evaluated at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EvalError {
    /// The profile is not a JSON object.
    #[error("a profile must be a JSON object, but this is {0}")]
    NotAnObject(&'static str),
    /// The profile text is not JSON.
    #[error("the profile is not valid JSON: {0}")]
    Json(String),
}

impl Engine {
    /// An engine with only the built-in functions and default limits.
    pub fn new() -> Engine {
        Engine::default()
    }

    /// Replaces the limits.
    pub fn with_limits(mut self, limits: Limits) -> Engine {
        self.limits = limits;
        self
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Registers a pure host function that rules call like a built-in.
    /// A parameter whose type is not nullable never receives `null`: the
    /// call yields `null` instead.
    pub fn register_function(
        &mut self,
        name: &str,
        params: Vec<Type>,
        ret: Type,
        function: impl Fn(&[Value]) -> Result<Value, String> + Send + Sync + 'static,
    ) -> &mut Engine {
        self.host.retain(|h| h.signature.name != name);
        self.host.push(HostFn {
            signature: HostSignature {
                name: name.to_string(),
                params,
                ret,
            },
            function: Arc::new(function),
        });
        self
    }

    /// Loads a `.ramp` file, or every `.ramp` file below a directory (in
    /// sorted path order), as one program.
    pub fn load(&self, path: impl AsRef<Path>) -> Result<Program, CompileError> {
        let mut sources = SourceMap::new();
        let files = collect_files(path.as_ref()).map_err(|message| CompileError {
            diagnostics: vec![Diagnostic::bare_error(message)],
            sources: SourceMap::new(),
        })?;
        let mut diagnostics = Vec::new();
        for file in files {
            let name = file.to_string_lossy().into_owned();
            match std::fs::read(&file) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => {
                        // A byte order mark marks the encoding; it is not
                        // part of the text (and must not shift columns).
                        let text = match text.strip_prefix('\u{feff}') {
                            Some(rest) => rest.to_string(),
                            None => text,
                        };
                        sources.add(name, text);
                    }
                    Err(e) => diagnostics.push(Diagnostic::bare_error(format!(
                        "{name}: not valid UTF-8 (first bad byte at offset {})",
                        e.utf8_error().valid_up_to()
                    ))),
                },
                Err(e) => diagnostics.push(Diagnostic::bare_error(format!(
                    "{name}: cannot read the file: {e}"
                ))),
            }
        }
        if !diagnostics.is_empty() {
            return Err(CompileError {
                diagnostics,
                sources,
            });
        }
        self.compile_sources(sources)
    }

    /// Compiles one rule file given as text (named `<input>`).
    pub fn compile(&self, source: &str) -> Result<Program, CompileError> {
        let mut sources = SourceMap::new();
        sources.add("<input>", source);
        self.compile_sources(sources)
    }

    /// Compiles every file of a source map as one program.
    pub fn compile_sources(&self, sources: SourceMap) -> Result<Program, CompileError> {
        let (program, diagnostics) = self.check_sources(&sources);
        match program {
            Some(checked) => match compile::compile(&checked) {
                Ok(bytecode) => Ok(Program::new(
                    sources,
                    checked,
                    bytecode,
                    self.host.clone(),
                    self.limits.clone(),
                    diagnostics,
                )),
                Err(mut errs) => {
                    errs.extend(diagnostics);
                    Err(CompileError {
                        diagnostics: errs,
                        sources,
                    })
                }
            },
            None => Err(CompileError {
                diagnostics,
                sources,
            }),
        }
    }

    /// Parses and checks without compiling: every diagnostic of the program.
    ///
    /// Items that do not parse give their syntax errors, and the items that
    /// did are still checked (quietly about the lost ones), so one run shows
    /// every error, in file and position order. Any syntax error makes the
    /// program fail.
    pub fn check_sources(&self, sources: &SourceMap) -> (Option<CheckedProgram>, Vec<Diagnostic>) {
        let mut modules = Vec::new();
        let mut diagnostics = Vec::new();
        let mut lost = Vec::new();
        for (id, file) in sources.files() {
            let parsed = syntax::parse_recovering(id, &file.text, &self.limits);
            diagnostics.extend(parsed.errors);
            lost.extend(parsed.lost);
            modules.push((id, parsed.module));
        }
        let signatures: Vec<HostSignature> =
            self.host.iter().map(|h| h.signature.clone()).collect();
        let (program, check_diags) =
            check::check_partial(&modules, &lost, &signatures, &self.limits);
        diagnostics.extend(check_diags);
        // Stable: syntax errors stay in their order, and before check
        // diagnostics at the same place.
        diagnostics.sort_by_key(|d| {
            let s = d.primary_span().unwrap_or_default();
            (s.file, s.start)
        });
        if diagnostics.iter().any(Diagnostic::is_error) {
            return (None, diagnostics);
        }
        (program, diagnostics)
    }
}

/// The `.ramp` files of a path: the file itself, or every `.ramp` file
/// below a directory in sorted path order.
pub fn collect_files(path: &Path) -> Result<Vec<PathBuf>, String> {
    let meta =
        std::fs::metadata(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    walk(path, &mut out, 0)?;
    out.sort();
    if out.is_empty() {
        return Err(format!(
            "{}: no .ramp files in this directory",
            path.display()
        ));
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> Result<(), String> {
    if depth > 64 {
        return Err(format!("{}: directories nest too deeply", dir.display()));
    }
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("{}: cannot read: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: cannot read: {e}", dir.display()))?;
        let path = entry.path();
        let ty = entry
            .file_type()
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        if ty.is_dir() {
            walk(&path, out, depth + 1)?;
        } else if path.extension().is_some_and(|e| e == "ramp") && !is_special(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// A FIFO, socket or device named like a rule file: it holds no rules,
/// and reading a FIFO would wait for a writer forever. (A dangling link
/// is kept, so that reading it reports the error.)
fn is_special(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// The names of a program's outputs, shared by its results.
#[derive(Debug, Default)]
pub(crate) struct OutputNames {
    pub(crate) segments: Vec<(Arc<str>, u32)>,
    pub(crate) decisions: Vec<(Arc<str>, u32)>,
    pub(crate) experiments: Vec<(Arc<str>, u32)>,
    pub(crate) position: HashMap<Arc<str>, usize>,
}

/// A compiled program: immutable, `Send + Sync`, cheap to share.
#[derive(Debug)]
pub struct Program {
    pub(crate) sources: SourceMap,
    pub(crate) checked: CheckedProgram,
    pub(crate) bytecode: Bytecode,
    pub(crate) host: Vec<HostFn>,
    pub(crate) limits: Limits,
    pub(crate) warnings: Vec<Diagnostic>,
    pub(crate) names: Arc<OutputNames>,
    pub(crate) reads_profile: bool,
    pub(crate) bind_plan: BindPlan,
    pub(crate) run_plan: RunPlan,
}

impl Program {
    fn new(
        sources: SourceMap,
        checked: CheckedProgram,
        bytecode: Bytecode,
        host: Vec<HostFn>,
        limits: Limits,
        warnings: Vec<Diagnostic>,
    ) -> Program {
        let mut names = OutputNames::default();
        for (i, r) in checked.rules.iter().enumerate() {
            let name: Arc<str> = Arc::from(r.name.as_str());
            let list = match r.kind {
                RuleKind::Segment => &mut names.segments,
                RuleKind::Decision => &mut names.decisions,
                RuleKind::Experiment => &mut names.experiments,
                RuleKind::Let => continue,
            };
            names.position.insert(name.clone(), list.len());
            list.push((name, i as u32));
        }
        let bind_plan = BindPlan::new(
            &checked.slots,
            bytecode.strings_by_slot(checked.slots.len()),
        );
        let reads_profile = bytecode
            .code
            .iter()
            .any(|op| matches!(op, compile::opcode::Op::Profile));
        let run_plan = RunPlan::new(&bytecode);
        Program {
            sources,
            checked,
            run_plan,
            bytecode,
            host,
            limits,
            warnings,
            bind_plan,
            names: Arc::new(names),
            reads_profile,
        }
    }

    /// Loads a program with the default engine (built-ins only).
    pub fn load(path: impl AsRef<Path>) -> Result<Program, CompileError> {
        Engine::new().load(path)
    }

    /// Compiles one rule file's text with the default engine.
    pub fn compile(source: &str) -> Result<Program, CompileError> {
        Engine::new().compile(source)
    }

    /// Warnings found while compiling.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// The program's source files.
    pub fn sources(&self) -> &SourceMap {
        &self.sources
    }

    /// The checked program (names, types, IR) the bytecode was built from.
    pub fn checked(&self) -> &CheckedProgram {
        &self.checked
    }

    /// The compiled bytecode.
    pub fn bytecode(&self) -> &Bytecode {
        &self.bytecode
    }

    /// The limits the program was compiled with.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// A reusable evaluator for hot loops (one per thread).
    pub fn evaluator(&self) -> Evaluator<'_> {
        Evaluator {
            program: self,
            machine: Machine::default(),
            buffers: BindBuffers::default(),
        }
    }

    /// Evaluates one profile. `Err` only when the profile is not a JSON
    /// object; everything else is reported inside the result.
    pub fn evaluate(&self, profile: &Json, ctx: &Context) -> Result<EvalResult, EvalError> {
        let mut ev = self.evaluator();
        ev.evaluate(profile, ctx)?;
        Ok(ev.result())
    }

    /// Where a rule of this name is, and what kind it is.
    pub fn rule_kind(&self, name: &str) -> Option<RuleKind> {
        self.checked
            .rules
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.kind)
    }

    /// Index of a rule by name.
    pub fn rule_index(&self, name: &str) -> Option<u32> {
        self.checked
            .rules
            .iter()
            .position(|r| r.name == name)
            .map(|i| i as u32)
    }
}

/// What an evaluation knows of the world: the instant `now`, the incoming
/// event, and the step budget.
#[derive(Clone, Debug, PartialEq)]
pub struct Context {
    pub(crate) now_ms: i64,
    pub(crate) event: Option<Json>,
    pub(crate) max_steps: Option<u64>,
    pub(crate) forced_variants: Vec<(String, String)>,
}

impl Context {
    /// A context at this instant.
    pub fn at(now: SystemTime) -> Context {
        let ms = match now.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
        };
        Context::at_millis(ms)
    }

    /// A context at this instant, in epoch milliseconds.
    pub fn at_millis(now_ms: i64) -> Context {
        Context {
            now_ms,
            event: None,
            max_steps: None,
            forced_variants: Vec::new(),
        }
    }

    /// The incoming event, for triggers.
    pub fn with_event(mut self, event: Json) -> Context {
        self.event = Some(event);
        self
    }

    /// The step budget of one evaluation (default: the engine's limit).
    pub fn with_step_budget(mut self, steps: u64) -> Context {
        self.max_steps = Some(steps);
        self
    }

    /// Forces an experiment to a variant (`given variant` in tests).
    pub fn with_variant(mut self, experiment: &str, variant: &str) -> Context {
        self.forced_variants
            .push((experiment.to_string(), variant.to_string()));
        self
    }

    /// The instant, in epoch milliseconds.
    pub fn now_millis(&self) -> i64 {
        self.now_ms
    }

    /// The incoming event's `name` as supplied, which triggers listen to
    /// (even when the event does not fit the event type).
    pub(crate) fn event_name(&self) -> Option<&str> {
        self.event.as_ref()?.get("name")?.as_str()
    }
}

/// A reusable per-thread evaluator: binds a profile into the program's
/// slots and runs the bytecode, reusing its buffers across profiles.
#[derive(Debug)]
pub struct Evaluator<'p> {
    pub(crate) program: &'p Program,
    pub(crate) machine: Machine,
    /// What binding reuses from one profile to the next.
    buffers: BindBuffers,
}

impl<'p> Evaluator<'p> {
    /// Evaluates a profile given as JSON text.
    pub fn evaluate_str(&mut self, profile: &str, ctx: &Context) -> Result<(), EvalError> {
        self.bind_str(profile)?;
        self.run(ctx);
        Ok(())
    }

    /// Evaluates a profile given as a `serde_json::Value`.
    pub fn evaluate(&mut self, profile: &Json, ctx: &Context) -> Result<(), EvalError> {
        self.bind(profile)?;
        self.run(ctx);
        Ok(())
    }

    /// Phase one, from JSON text: reads only the fields the program uses
    /// into its slots, skipping the rest of the text without building it.
    pub fn bind_str(&mut self, profile: &str) -> Result<(), EvalError> {
        let program = self.program;
        // `profile` needs the whole document anyway.
        if !program.reads_profile {
            self.begin_binding();
            let m = &mut self.machine;
            let read = bind_text::bind_text(
                profile,
                &program.bind_plan,
                &program.checked.slots,
                &program.limits,
                &mut m.slots,
                &mut m.seen,
                &mut self.buffers,
            );
            if read.is_ok() {
                m.profile = Value::Null;
                return Ok(());
            }
            // The last profile's slots are current again.
            self.buffers.swap_generations(&mut m.slots, &mut m.profile);
        }
        // serde_json reads the document instead (the fast reader gave up,
        // so it is likely not JSON or not an object): its error message
        // stands, or the profile binds from its `Value`.
        match serde_json::from_str::<Json>(profile) {
            Ok(json) => self.bind(&json),
            Err(e) => {
                // No half-read profile is left behind.
                let m = &mut self.machine;
                m.slots.iter_mut().for_each(|b| *b = Ok(Value::Null));
                Err(EvalError::Json(e.to_string()))
            }
        }
    }

    /// Phase one, from a `serde_json::Value`: binds the fields the program
    /// reads into its slots.
    pub fn bind(&mut self, profile: &Json) -> Result<(), EvalError> {
        let Json::Object(map) = profile else {
            return Err(EvalError::NotAnObject(bind::json_article(profile)));
        };
        let program = self.program;
        self.begin_binding();
        let m = &mut self.machine;
        let mut binder = Binder::new(&program.limits, &mut self.buffers.reuse);
        binder.bind_profile(map, &program.checked.slots, &mut m.slots);
        m.profile = if program.reads_profile {
            let old = std::mem::take(&mut m.profile);
            binder
                .untyped(profile, &|| "profile".to_string(), 0, old)
                .unwrap_or(Value::Null)
        } else {
            Value::Null
        };
        Ok(())
    }

    /// Makes the slots bound before last the ones the next profile is
    /// bound into (see `BindBuffers`), free of the last run's scratch.
    fn begin_binding(&mut self) {
        let m = &mut self.machine;
        m.release_scratch();
        self.buffers.swap_generations(&mut m.slots, &mut m.profile);
    }

    /// Phase two: runs every rule against the bound profile. Running again
    /// with another context re-evaluates the same profile.
    pub fn run(&mut self, ctx: &Context) {
        let program = self.program;
        let m = &mut self.machine;
        m.reset(
            program,
            ctx.now_ms,
            ctx.max_steps.unwrap_or(program.limits.max_steps),
        );
        m.event = ctx.event.as_ref().map(|e| -> Bound {
            bind::convert(
                e,
                &program.checked.event_type,
                &|| "event".to_string(),
                &program.limits,
            )
        });
        m.forced.clear();
        for (exp, variant) in &ctx.forced_variants {
            if let Some(i) = program.rule_index(exp) {
                m.forced.push((i, Arc::from(variant.as_str())));
            }
        }
        m.evaluate(program, ctx.event_name());
    }

    /// The membership of a segment in the last evaluation.
    pub fn segment(&self, name: &str) -> Option<bool> {
        let i = self.program.rule_index(name)?;
        match self.program.checked.rules[i as usize].kind {
            RuleKind::Segment => Some(self.machine.values[i as usize].is_true()),
            _ => None,
        }
    }

    /// The value of any rule (segment, decision, experiment, let) in the
    /// last evaluation, as the VM holds it.
    pub fn value(&self, name: &str) -> Option<&Value> {
        let i = self.program.rule_index(name)?;
        self.machine.values.get(i as usize)
    }

    /// The value of the rule with this index.
    pub fn value_at(&self, index: u32) -> Option<&Value> {
        self.machine.values.get(index as usize)
    }

    /// How many run-time errors the last evaluation reported.
    pub fn error_count(&self) -> usize {
        self.machine.errors.len()
    }

    /// The run-time errors of the last evaluation as (rule or trigger name,
    /// message) pairs, without building a whole [`EvalResult`].
    pub fn errors(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let checked = &self.program.checked;
        self.machine.errors.iter().map(move |e| {
            let rule = match e.origin {
                Origin::Rule(r) => checked.rules.get(r as usize).map(|r| r.name.as_str()),
                Origin::Trigger(t) => checked.triggers.get(t as usize).map(|t| t.name.as_str()),
            };
            (rule.unwrap_or("?"), e.message.as_ref())
        })
    }

    /// Steps the last evaluation used.
    pub fn steps_used(&self) -> u64 {
        self.machine.steps
    }

    /// The last evaluation as an [`EvalResult`].
    pub fn result(&self) -> EvalResult {
        let m = &self.machine;
        EvalResult::from_raw(self.program, &m.values, &m.actions, &m.errors)
    }

    /// The last evaluation's §11 document as compact JSON text, byte for
    /// byte `result().to_json().to_string()`, written straight from the
    /// VM's values (the batch path's hot spot).
    pub fn write_result_json(&self, out: &mut String) {
        use crate::value::write_json_str;
        let program = self.program;
        let m = &self.machine;
        let names = &program.names;
        let value = |r: u32| m.values.get(r as usize).unwrap_or(&Value::Null);
        let section = |out: &mut String,
                       key: &str,
                       list: &[(Arc<str>, u32)],
                       write: &dyn Fn(&mut String, u32)| {
            write_json_str(key, out);
            out.push_str(":{");
            for (i, (name, r)) in list.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_str(name, out);
                out.push(':');
                write(out, *r);
            }
            out.push('}');
        };
        out.push('{');
        section(out, "segments", &names.segments, &|o, r| {
            o.push_str(if value(r).is_true() { "true" } else { "false" })
        });
        out.push(',');
        section(out, "decisions", &names.decisions, &|o, r| {
            value(r).write_json(o)
        });
        out.push(',');
        section(out, "experiments", &names.experiments, &|o, r| {
            value(r).write_json(o)
        });
        out.push_str(",\"actions\":[");
        for (i, a) in m.actions.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"trigger\":");
            write_json_str(&program.checked.triggers[a.trigger as usize].name, out);
            out.push_str(",\"action\":");
            write_json_str(&a.action, out);
            out.push_str(",\"payload\":");
            a.payload.write_json(out);
            out.push('}');
        }
        out.push_str("],\"errors\":[");
        for (i, e) in m.errors.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let rule = match e.origin {
                Origin::Rule(r) => &program.checked.rules[r as usize].name,
                Origin::Trigger(t) => &program.checked.triggers[t as usize].name,
            };
            out.push_str("{\"rule\":");
            write_json_str(rule, out);
            out.push_str(",\"at\":");
            write_json_str(&program.sources.location(e.span).to_string(), out);
            out.push_str(",\"message\":");
            write_json_str(&e.message, out);
            if let Some(p) = &e.path {
                out.push_str(",\"path\":");
                write_json_str(p, out);
            }
            out.push('}');
        }
        out.push_str("]}");
    }
}

impl EvalResult {
    /// Renders an evaluation's raw output (every rule's value, the actions,
    /// the errors) as a result. Shared by the VM and the reference
    /// evaluator, so that the two can only differ in what they compute,
    /// never in how it is written.
    pub(crate) fn from_raw(
        program: &Program,
        values: &[Value],
        actions: &[Action],
        errors: &[RawError],
    ) -> EvalResult {
        let names = &program.names;
        let value = |r: u32| values.get(r as usize).cloned().unwrap_or_default();
        let segments = names
            .segments
            .iter()
            .map(|(_, r)| value(*r).is_true())
            .collect();
        let decisions = names
            .decisions
            .iter()
            .map(|(_, r)| value(*r).to_json())
            .collect();
        let experiments = names
            .experiments
            .iter()
            .map(|(_, r)| value(*r).to_json())
            .collect();
        let actions = actions
            .iter()
            .map(|a| ActionResult {
                trigger: program.checked.triggers[a.trigger as usize].name.clone(),
                action: a.action.to_string(),
                payload: a.payload.to_json(),
            })
            .collect();
        let errors = errors
            .iter()
            .map(|e| RuntimeError {
                rule: match e.origin {
                    Origin::Rule(r) => program.checked.rules[r as usize].name.clone(),
                    Origin::Trigger(t) => program.checked.triggers[t as usize].name.clone(),
                },
                at: program.sources.location(e.span).to_string(),
                message: e.message.to_string(),
                path: e.path.as_ref().map(|p| p.to_string()),
            })
            .collect();
        EvalResult {
            names: program.names.clone(),
            segments,
            decisions,
            experiments,
            actions,
            errors,
        }
    }
}

/// An action emitted by a trigger (§8).
#[derive(Clone, Debug, PartialEq)]
pub struct ActionResult {
    /// The trigger's name.
    pub trigger: String,
    /// The action's name.
    pub action: String,
    /// The payload.
    pub payload: Json,
}

/// A run-time error (§9), as results report it.
#[derive(Clone, Debug, PartialEq)]
pub struct RuntimeError {
    /// The rule (or trigger) it arose in.
    pub rule: String,
    /// `file:line:column`.
    pub at: String,
    /// What went wrong.
    pub message: String,
    /// The profile field path, for data errors.
    pub path: Option<String>,
}

/// The result of one evaluation (§11).
#[derive(Clone, Debug)]
pub struct EvalResult {
    names: Arc<OutputNames>,
    segments: Vec<bool>,
    decisions: Vec<Json>,
    experiments: Vec<Json>,
    actions: Vec<ActionResult>,
    errors: Vec<RuntimeError>,
}

impl EvalResult {
    /// A segment's membership (`None` for an unknown name).
    pub fn segment(&self, name: &str) -> Option<bool> {
        let i = *self.names.position.get(name)?;
        (self.names.segments.get(i)?.0.as_ref() == name).then(|| self.segments[i])
    }

    /// A decision's value (`Some(&Null)` when it yields null).
    pub fn decision(&self, name: &str) -> Option<&Json> {
        let i = *self.names.position.get(name)?;
        (self.names.decisions.get(i)?.0.as_ref() == name).then(|| &self.decisions[i])
    }

    /// An experiment's variant (`Some(&Null)` when it assigns none).
    pub fn experiment(&self, name: &str) -> Option<&Json> {
        let i = *self.names.position.get(name)?;
        (self.names.experiments.get(i)?.0.as_ref() == name).then(|| &self.experiments[i])
    }

    /// Actions emitted by triggers, in order.
    pub fn actions(&self) -> &[ActionResult] {
        &self.actions
    }

    /// Run-time errors, in the order they arose.
    pub fn errors(&self) -> &[RuntimeError] {
        &self.errors
    }

    /// The §11 document.
    pub fn to_json(&self) -> Json {
        let pairs = |names: &[(Arc<str>, u32)], values: &mut dyn Iterator<Item = Json>| -> Json {
            let mut m = JsonMap::new();
            for ((n, _), v) in names.iter().zip(values) {
                m.insert(n.to_string(), v);
            }
            Json::Object(m)
        };
        json!({
            "segments": pairs(&self.names.segments, &mut self.segments.iter().map(|b| Json::Bool(*b))),
            "decisions": pairs(&self.names.decisions, &mut self.decisions.iter().cloned()),
            "experiments": pairs(&self.names.experiments, &mut self.experiments.iter().cloned()),
            "actions": self.actions.iter().map(|a| json!({
                "trigger": a.trigger, "action": a.action, "payload": a.payload,
            })).collect::<Vec<_>>(),
            "errors": self.errors.iter().map(|e| {
                let mut o = json!({"rule": e.rule, "at": e.at, "message": e.message});
                if let Some(p) = &e.path {
                    o["path"] = json!(p);
                }
                o
            }).collect::<Vec<_>>(),
        })
    }
}
