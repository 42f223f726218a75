//! `onramp repl`: evaluate expressions and rules against a profile,
//! interactively (rustyline) or from a script on standard input.
//!
//! Each input is compiled together with the loaded program and the session's
//! `let`s, as the value of a hidden decision, then evaluated against the
//! current profile at the current `now`. Errors are shown as diagnostics and
//! never end the session. Results and diagnostics both go to standard output:
//! in a REPL they are the conversation.

use super::eval::parse_now;
use super::{write_stdout, Failure};
use onramp::check::types::Type;
use onramp::{
    collect_files, diagnostic, Context, Diagnostic, Engine, FileId, Limits, Program, SourceMap,
};
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Editor, Helper};
use serde_json::Value as Json;
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

const RESULT: &str = "__repl_result";
/// The name diagnostics give what the user just typed.
const INPUT: &str = "<repl>";
/// The file holding the hidden result decision; diagnostics and run-time
/// errors in it are moved onto the typed expression, as `<repl>`.
const RESULT_FILE: &str = "<repl result>";
/// What precedes the expression in the result file, on a line of its own.
const RESULT_HEAD: &str = "decision __repl_result { else =>\n";
const COMMANDS: [&str; 10] = [
    ":profile", ":now", ":explain", ":disasm", ":reload", ":type", ":help", ":quit", ":event",
    ":actions",
];

const HELP: &str = "\
Type an expression or a rule name to evaluate it against the current profile.
  let name = expr      define a session-local name (also `segment`, `decision`)
  :profile FILE        load a profile (JSON file), or :profile { literal }
  :event FILE          set the incoming event (for triggers), or :event { literal }
  :actions             what the triggers emit for the event, on the current profile
  :now TIME            set the evaluation instant (RFC 3339 or epoch ms)
  :explain NAME        why a segment, decision or experiment came out as it did
  :disasm NAME         the bytecode of a rule
  :type EXPR           the static type of an expression
  :reload              recompile the rule files (keeps profile, now and lets)
  :help                this text
  :quit                leave (also Ctrl-D)
Input continues on the next line while brackets are open.";

/// The state of a REPL session.
pub struct Session {
    path: Option<PathBuf>,
    files: SourceMap,
    lets: Vec<(String, String)>,
    profile: Json,
    event: Option<Json>,
    now: i64,
    program: Option<Program>,
    color: bool,
}

impl Session {
    /// A session over the program at `path` (or none).
    pub fn new(path: Option<PathBuf>, now: i64, color: bool) -> (Session, String) {
        let mut s = Session {
            path,
            files: SourceMap::new(),
            lets: Vec::new(),
            profile: Json::Object(Default::default()),
            event: None,
            now,
            program: None,
            color,
        };
        let msg = s.reload();
        (s, msg)
    }

    /// Re-reads the rule files.
    fn reload(&mut self) -> String {
        self.files = SourceMap::new();
        let Some(path) = &self.path else {
            self.program = self.compile_with("null").ok();
            return String::new();
        };
        let files = match collect_files(path) {
            Ok(f) => f,
            Err(e) => return format!("error: {e}"),
        };
        for f in files {
            match std::fs::read_to_string(&f) {
                Ok(text) => {
                    self.files.add(f.to_string_lossy(), text);
                }
                Err(e) => return format!("error: {}: {e}", f.display()),
            }
        }
        match self.compile_with("null") {
            Ok(p) => {
                let n = p.checked().rules.len();
                self.program = Some(p);
                format!("loaded {} ({n} rules)", path.display())
            }
            Err(text) => text,
        }
    }

    /// Compiles the program plus the session's lets plus `expr` as the
    /// value of the hidden result decision; `expr` is what the user typed.
    fn compile_with(&self, expr: &str) -> Result<Program, String> {
        self.compile_input(expr, None)
    }

    /// Like [`Session::compile_with`]; `defined` names the session rule the
    /// user just typed (its text, not `expr`, is then the input).
    ///
    /// Each session rule is a file of its own (`<repl: name>`, or `<repl>`
    /// for the one just typed), so diagnostics point into the text as it
    /// was entered; the expression's are moved out of the hidden decision.
    fn compile_input(&self, expr: &str, defined: Option<&str>) -> Result<Program, String> {
        if defined.is_none() {
            // Syntax errors of the expression on its own, so none of them
            // is about the hidden decision around it.
            let mut alone = SourceMap::new();
            let id = alone.add(INPUT, expr);
            if let Err(diags) = onramp::syntax::parse_expression(id, expr, &Limits::default()) {
                return Err(diagnostic::render(&diags, &alone, self.color));
            }
        }
        let mut sources = self.files.clone();
        for (name, text) in &self.lets {
            let file = if defined == Some(name.as_str()) {
                INPUT.to_string()
            } else {
                format!("<repl: {name}>")
            };
            sources.add(file, text.as_str());
        }
        // The expression on lines of its own, so it starts a line.
        let result_file = sources.add(RESULT_FILE, format!("{RESULT_HEAD}{expr}\n}}\n"));
        Engine::new().compile_sources(sources).map_err(|e| {
            // Only what this input got wrong; the files' own problems were
            // shown when they were loaded.
            let mine: Vec<_> = e
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .cloned()
                .collect();
            if defined.is_some() {
                // The result only names the new rule: its errors follow
                // from the rule's own.
                let own: Vec<_> = mine
                    .into_iter()
                    .filter(|d| d.primary_span().is_none_or(|s| s.file != result_file))
                    .collect();
                return diagnostic::render(&own, &e.sources, self.color);
            }
            let (mine, sources) = onto_input(mine, &e.sources, result_file, expr);
            diagnostic::render(&mine, &sources, self.color)
        })
    }

    fn context(&self) -> Context {
        let ctx = Context::at_millis(self.now);
        match &self.event {
            Some(e) => ctx.with_event(e.clone()),
            None => ctx,
        }
    }

    /// Handles one complete input; returns the text to show and whether
    /// the session ends.
    pub fn handle(&mut self, input: &str) -> (String, bool) {
        // Blank lines before the input go, but not the indentation of its
        // first line, so diagnostics give the columns as typed.
        let trimmed = input.trim();
        let first_line = input[..input.len() - input.trim_start().len()]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let typed = input[first_line..].trim_end();
        let input = trimmed;
        if input.is_empty() || input.starts_with('#') {
            return (String::new(), false);
        }
        if let Some(rest) = input.strip_prefix(':') {
            let (cmd, arg) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            return self.command(cmd, arg.trim());
        }
        // `let`, `segment` and `decision` define session-local rules.
        let keyword = input.split_whitespace().next().unwrap_or("");
        if matches!(keyword, "let" | "segment" | "decision") {
            return (self.define(keyword, typed), false);
        }
        (self.evaluate(typed), false)
    }

    fn define(&mut self, keyword: &str, text: &str) -> String {
        let name: String = text.trim_start()[keyword.len()..]
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() {
            return format!("error: write `{keyword} name ...`");
        }
        let previous = self.lets.clone();
        self.lets.retain(|(n, _)| *n != name);
        self.lets.push((name.clone(), text.to_string()));
        match self.compile_input(&name, Some(&name)) {
            Ok(p) => {
                let out = self.run(&p);
                self.program = Some(p);
                format!("{name} = {out}")
            }
            Err(e) => {
                self.lets = previous;
                e
            }
        }
    }

    fn run(&self, program: &Program) -> String {
        match program.evaluate(&self.profile, &self.context()) {
            Ok(result) => {
                let value = result.decision(RESULT).cloned().unwrap_or(Json::Null);
                let mut out = value.to_string();
                for e in result.errors() {
                    if e.at.starts_with("<repl") {
                        out = format!("error: {} (at {})", e.message, input_location(&e.at));
                    }
                }
                out
            }
            Err(e) => format!("error: {e}"),
        }
    }

    fn evaluate(&mut self, expr: &str) -> String {
        match self.compile_with(expr) {
            Ok(p) => self.run(&p),
            Err(e) => e,
        }
    }

    fn command(&mut self, cmd: &str, arg: &str) -> (String, bool) {
        let out = match cmd {
            "quit" | "q" | "exit" => return (String::new(), true),
            "help" | "h" => HELP.to_string(),
            "reload" => self.reload(),
            "now" => match parse_now(Some(arg)) {
                Ok(ctx) => {
                    self.now = ctx.now_millis();
                    format!("now = {}", onramp::time::format_time(self.now))
                }
                Err(Failure::Usage(m) | Failure::Data(m)) => format!("error: {m}"),
                Err(Failure::Closed) => String::new(),
            },
            "profile" | "event" => self.set_json(cmd, arg).unwrap_or_else(|e| e),
            "type" => match self.compile_with(arg) {
                Ok(p) => p
                    .checked()
                    .rules
                    .iter()
                    .find(|r| r.name == RESULT)
                    .map(|r| type_text(&r.ty))
                    .unwrap_or_default(),
                Err(e) => e,
            },
            "disasm" => self.disasm(arg),
            "explain" => self.explain(arg),
            "actions" => self.actions(),
            other => format!("error: unknown command `:{other}` (try :help)"),
        };
        (out, false)
    }

    /// `:profile` or `:event` (`what`) from a JSON file or a literal.
    fn set_json(&mut self, what: &str, arg: &str) -> Result<String, String> {
        let json = self.load_json(arg)?;
        let Some(n) = json.as_object().map(|o| o.len()) else {
            return Err(format!("error: the {what} must be a JSON object"));
        };
        if what == "profile" {
            self.profile = json;
            Ok(format!(
                "profile loaded ({n} top-level field{})",
                if n == 1 { "" } else { "s" }
            ))
        } else {
            self.event = Some(json);
            Ok("event set".to_string())
        }
    }

    fn load_json(&self, arg: &str) -> Result<Json, String> {
        if arg.starts_with('{') {
            if let Ok(json) = serde_json::from_str(arg) {
                return Ok(json);
            }
            // A literal in the language's own syntax (`{ user: { age: 3 } }`).
            let p = self.compile_with(arg)?;
            return match p.evaluate(&Json::Object(Default::default()), &self.context()) {
                Ok(r) => Ok(r.decision(RESULT).cloned().unwrap_or(Json::Null)),
                Err(e) => Err(format!("error: {e}")),
            };
        }
        let text =
            std::fs::read_to_string(arg).map_err(|e| format!("error: cannot read {arg}: {e}"))?;
        serde_json::from_str(&text).map_err(|e| format!("error: {arg} is not valid JSON: {e}"))
    }

    fn explain(&self, name: &str) -> String {
        let Some(p) = &self.program else {
            return "error: no program loaded".into();
        };
        match onramp::explain::explain(p, &self.profile, &self.context(), name) {
            Ok(e) => e.render(),
            Err(e) => format!("error: {e}"),
        }
    }

    /// `:actions`: the actions the triggers listening to the current
    /// event emit, one per line in the order a result lists them, then any
    /// run-time error a trigger raised.
    fn actions(&self) -> String {
        let Some(p) = &self.program else {
            return "error: no program loaded".into();
        };
        let Some(event) = &self.event else {
            return "no event set (set one with :event FILE or :event { literal })".into();
        };
        let result = match p.evaluate(&self.profile, &self.context()) {
            Ok(result) => result,
            Err(e) => return format!("error: {e}"),
        };
        let triggers = &p.checked().triggers;
        let mut lines: Vec<String> = result
            .actions()
            .iter()
            .map(|a| format!("{}: {} {}", a.trigger, a.action, a.payload))
            .collect();
        lines.extend(
            result
                .errors()
                .iter()
                .filter(|e| triggers.iter().any(|t| t.name == e.rule))
                .map(|e| format!("error in trigger {}: {} (at {})", e.rule, e.message, e.at)),
        );
        if lines.is_empty() {
            let name = event
                .get("name")
                .map_or("(no name)".into(), |n| n.to_string());
            return format!("no trigger emitted anything for event {name}");
        }
        lines.join("\n")
    }

    fn disasm(&self, name: &str) -> String {
        let Some(p) = &self.program else {
            return "error: no program loaded".into();
        };
        let Some(i) = p.rule_index(name) else {
            return format!("error: no rule named `{name}`");
        };
        let slots: Vec<String> = p.checked().slots.iter().map(|s| s.dotted()).collect();
        let rules: Vec<String> = p.checked().rules.iter().map(|r| r.name.clone()).collect();
        let chunks: Vec<u32> = match &p.bytecode().rules[i as usize] {
            onramp::compile::RuleCode::Expr(c) | onramp::compile::RuleCode::Segment(c) => {
                vec![*c]
            }
            onramp::compile::RuleCode::Decision { branches, .. } => branches
                .iter()
                .flat_map(|(c, v)| c.iter().copied().chain(std::iter::once(*v)))
                .collect(),
            onramp::compile::RuleCode::Experiment(e) => e
                .eligible
                .into_iter()
                .chain(std::iter::once(e.unit))
                .collect(),
        };
        chunks
            .iter()
            .map(|c| onramp::compile::disassemble(p.bytecode(), *c, p.sources(), &slots, &rules))
            .collect::<Vec<_>>()
            .join("--\n")
    }

    /// Words to complete: commands, rule and let names, functions, paths.
    fn candidates(&self) -> Vec<String> {
        let mut out: Vec<String> = COMMANDS.iter().map(|s| s.to_string()).collect();
        out.extend(onramp::check::FUNCTION_NAMES.iter().map(|s| s.to_string()));
        out.extend(
            [
                "now", "profile", "true", "false", "null", "where", "within", "and", "or", "not",
            ]
            .map(String::from),
        );
        if let Some(p) = &self.program {
            out.extend(
                p.checked()
                    .rules
                    .iter()
                    .filter(|r| r.name != RESULT)
                    .map(|r| r.name.clone()),
            );
            out.extend(p.checked().schema.paths());
            out.extend(p.checked().slots.iter().map(|s| s.dotted()));
        }
        out.extend(self.lets.iter().map(|(n, _)| n.clone()));
        out.sort();
        out.dedup();
        out
    }
}

fn type_text(t: &Type) -> String {
    t.to_string()
}

/// Moves diagnostics from the hidden result decision (file `result`) onto
/// the typed expression, shown alone as `<repl>`: a place in the decision
/// around it becomes the expression's start or the end of its text.
fn onto_input(
    diags: Vec<Diagnostic>,
    sources: &SourceMap,
    result: FileId,
    expr: &str,
) -> (Vec<Diagnostic>, SourceMap) {
    let mut shown = SourceMap::new();
    for (id, f) in sources.files() {
        if id == result {
            shown.add(INPUT, expr);
        } else {
            shown.add(f.name.clone(), f.text.clone());
        }
    }
    let end = expr.trim_end().len();
    let place = |at: u32| (at as usize).saturating_sub(RESULT_HEAD.len()).min(end);
    let diags = diags
        .into_iter()
        .map(|mut d| {
            for l in &mut d.labels {
                if l.span.file == result {
                    l.span = onramp::Span::new(result, place(l.span.start), place(l.span.end));
                }
            }
            d
        })
        .collect();
    (diags, shown)
}

/// A run-time error's `file:line:column`, with a place in the hidden
/// result decision given in the typed expression (one line further up).
fn input_location(at: &str) -> String {
    let moved = at
        .strip_prefix(RESULT_FILE)
        .and_then(|rest| rest.strip_prefix(':'))
        .and_then(|rest| rest.split_once(':'))
        .and_then(|(line, col)| Some((line.parse::<usize>().ok()?, col)));
    match moved {
        Some((line, col)) => format!("{INPUT}:{}:{col}", line.saturating_sub(1).max(1)),
        None => at.to_string(),
    }
}

/// Whether an input is complete: brackets closed outside strings.
fn is_complete(text: &str) -> bool {
    let mut depth = 0i32;
    let mut in_string = false;
    let mut escaped = false;
    let mut comment = false;
    for c in text.chars() {
        if comment {
            comment = c != '\n';
            continue;
        }
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '#' => comment = true,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
    }
    depth <= 0 && !in_string
}

struct ReplHelper {
    words: Vec<String>,
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let start = line[..pos]
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == ':'))
            .map_or(0, |i| i + 1);
        let word = &line[start..pos];
        if word.is_empty() {
            return Ok((pos, Vec::new()));
        }
        let pairs = self
            .words
            .iter()
            .filter(|w| w.starts_with(word) && w.as_str() != word)
            .map(|w| Pair {
                display: w.clone(),
                replacement: w.clone(),
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}

impl Highlighter for ReplHelper {}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        Ok(if is_complete(ctx.input()) {
            ValidationResult::Valid(None)
        } else {
            ValidationResult::Incomplete
        })
    }
}

impl Helper for ReplHelper {}

fn history_file() -> Option<PathBuf> {
    let dir = dirs::data_dir()?.join("onramp");
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir.join("repl-history.txt"))
}

/// Runs the REPL: interactive on a terminal, a script otherwise.
pub fn run(
    path: Option<PathBuf>,
    now: Option<&str>,
    event: Option<&PathBuf>,
) -> Result<ExitCode, Failure> {
    let ctx = parse_now(now)?;
    let interactive = std::io::stdin().is_terminal();
    let (mut session, banner) = Session::new(
        path,
        ctx.now_millis(),
        interactive && std::io::stdout().is_terminal(),
    );
    if let Some(file) = event {
        // What `:event FILE` does, before the first input.
        session
            .set_json("event", &file.to_string_lossy())
            .map_err(Failure::Data)?;
    }
    if !banner.is_empty() {
        show(&banner)?;
    }
    if !interactive {
        return script(&mut session);
    }
    show("onramp repl — :help for commands, :quit to leave")?;
    let mut editor: Editor<ReplHelper, rustyline::history::DefaultHistory> = Editor::new()
        .map_err(|e| Failure::Data(format!("error: cannot start the line editor: {e}")))?;
    editor.set_helper(Some(ReplHelper {
        words: session.candidates(),
    }));
    let history = history_file();
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    loop {
        match editor.readline("onramp> ") {
            Ok(line) => {
                let _ = editor.add_history_entry(line.as_str());
                let (out, quit) = session.handle(&line);
                if !out.is_empty() {
                    show(&out)?;
                }
                if quit {
                    break;
                }
                if let Some(h) = editor.helper_mut() {
                    h.words = session.candidates();
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(Failure::Data(format!("error: {e}"))),
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    Ok(ExitCode::SUCCESS)
}

/// Non-interactive mode: the same inputs from standard input, each result
/// printed on its own line.
fn script(session: &mut Session) -> Result<ExitCode, Failure> {
    let stdin = std::io::stdin();
    let mut pending = String::new();
    for line in stdin.lock().lines() {
        let line = line.map_err(|e| Failure::Data(format!("error: reading input: {e}")))?;
        pending.push_str(&line);
        pending.push('\n');
        if !is_complete(&pending) {
            continue;
        }
        let (out, quit) = session.handle(&pending);
        pending.clear();
        if !out.is_empty() {
            show(&out)?;
        }
        if quit {
            return Ok(ExitCode::SUCCESS);
        }
    }
    if !pending.trim().is_empty() {
        let (out, _) = session.handle(&pending);
        show(&out)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints one answer on its own line; a closed output ends the session.
fn show(text: &str) -> Result<(), Failure> {
    write_stdout(&format!("{}\n", text.trim_end()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_and_strings_decide_completeness() {
        assert!(is_complete("1 + 2"));
        assert!(!is_complete("count(events where"));
        assert!(is_complete("\"a ( b\""));
        assert!(!is_complete("{ a: 1,"));
        assert!(is_complete("x # (comment"));
    }

    #[test]
    fn places_in_the_result_decision_move_onto_the_input() {
        assert!(RESULT_HEAD.starts_with(&format!("decision {RESULT} ")));
        assert_eq!(input_location("<repl result>:2:5"), "<repl>:1:5");
        assert_eq!(input_location("<repl: x>:1:9"), "<repl: x>:1:9");
        assert_eq!(input_location("rules/a.ramp:2:5"), "rules/a.ramp:2:5");
    }
}
