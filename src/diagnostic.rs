//! Diagnostics: plain data produced by every stage, rendered in one place.
//!
//! Stages never format for a terminal; they return [`Diagnostic`] values.
//! [`render`] turns them into the text a person reads (with ariadne), and
//! [`Diagnostic::to_json`] into the JSON lines of `onramp check --format json`.

use crate::span::{SourceMap, Span};
use serde_json::json;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Stops the program from compiling.
    Error,
    /// Worth a look; the program still compiles.
    Warning,
}

/// A span with a message pointing at it.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What about it.
    pub message: String,
}

/// A problem found in a program, with where and what.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// One-line summary.
    pub message: String,
    /// The first label is the primary location.
    pub labels: Vec<Label>,
    /// Extra lines of explanation.
    pub notes: Vec<String>,
    /// A suggestion ("did you mean ...").
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error with a primary label.
    pub fn error(message: impl Into<String>, span: Span, label: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            labels: vec![Label {
                span,
                message: label.into(),
            }],
            notes: Vec::new(),
            help: None,
        }
    }

    /// A warning with a primary label.
    pub fn warning(message: impl Into<String>, span: Span, label: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message, span, label)
        }
    }

    /// An error that points at no source (a file that cannot be read).
    pub fn bare_error(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            labels: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    /// Adds a secondary label.
    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Sets the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Whether this is an error (as opposed to a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The primary span, if any.
    pub fn primary_span(&self) -> Option<Span> {
        self.labels.first().map(|l| l.span)
    }

    /// One JSON object for editors and CI (`check --format json`).
    pub fn to_json(&self, sources: &SourceMap) -> serde_json::Value {
        let mut value = json!({
            "severity": match self.severity { Severity::Error => "error", Severity::Warning => "warning" },
            "message": self.message,
        });
        if let Some(span) = self.primary_span() {
            let start = sources.location(span);
            let end = sources.location(Span {
                start: span.end,
                ..span
            });
            value["file"] = json!(start.file);
            value["line"] = json!(start.line);
            value["column"] = json!(start.column);
            value["end_line"] = json!(end.line);
            value["end_column"] = json!(end.column);
        }
        value["labels"] = self
            .labels
            .iter()
            .map(|l| {
                let at = sources.location(l.span);
                json!({"at": at.to_string(), "message": l.message})
            })
            .collect();
        if !self.notes.is_empty() {
            value["notes"] = json!(self.notes);
        }
        if let Some(help) = &self.help {
            value["help"] = json!(help);
        }
        value
    }
}

/// Renders diagnostics as a person reads them: source excerpt, labels,
/// notes. `color` should be true only when the output is a terminal.
pub fn render(diagnostics: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    use ariadne::{Config, Label as ALabel, Report, ReportKind};
    let mut out = Vec::new();
    let cache_sources: Vec<(String, String)> = sources
        .files()
        .map(|(_, f)| (f.name.clone(), f.text.clone()))
        .collect();
    let mut cache = ariadne::sources(cache_sources);
    for d in diagnostics {
        let kind = match d.severity {
            Severity::Error => ReportKind::Error,
            Severity::Warning => ReportKind::Warning,
        };
        let Some(primary) = d.primary_span() else {
            let word = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            out.extend_from_slice(format!("{word}: {}\n", d.message).as_bytes());
            for n in &d.notes {
                out.extend_from_slice(format!("  note: {n}\n").as_bytes());
            }
            continue;
        };
        let file_name = sources.file(primary.file).name.clone();
        let mut report = Report::build(kind, (file_name.clone(), char_range(sources, primary)))
            .with_config(
                Config::default()
                    .with_color(color)
                    .with_index_type(ariadne::IndexType::Char),
            )
            .with_message(&d.message);
        for (i, l) in d.labels.iter().enumerate() {
            let name = sources.file(l.span.file).name.clone();
            let mut label = ALabel::new((name, char_range(sources, l.span))).with_order(i as i32);
            if !l.message.is_empty() {
                label = label.with_message(&l.message);
            }
            if color {
                let c = if i == 0 {
                    match d.severity {
                        Severity::Error => ariadne::Color::Red,
                        Severity::Warning => ariadne::Color::Yellow,
                    }
                } else {
                    ariadne::Color::Blue
                };
                label = label.with_color(c);
            }
            report = report.with_label(label);
        }
        for n in &d.notes {
            report = report.with_note(n);
        }
        if let Some(h) = &d.help {
            report = report.with_help(h);
        }
        let _ = report.finish().write(&mut cache, &mut out);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// ariadne counts characters; spans count bytes.
fn char_range(sources: &SourceMap, span: Span) -> std::ops::Range<usize> {
    let text = &sources.file(span.file).text;
    let to_chars = |byte: usize| {
        let mut b = byte.min(text.len());
        while !text.is_char_boundary(b) {
            b -= 1;
        }
        text[..b].chars().count()
    };
    let start = to_chars(span.start as usize);
    let end = to_chars(span.end as usize).max(start);
    start..end
}
