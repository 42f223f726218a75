//! The merged `schema` of a program: declared field paths, their types, and
//! declared events.

use super::types::{Type, TypeKind};
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::syntax::ast::{self, TypeExpr, TypeExprKind};
use std::sync::Arc;

/// A node of the schema tree.
#[derive(Clone, Debug)]
enum Node {
    /// An object implied by dotted paths (`user.age` implies `user`).
    Object(Vec<(String, Node)>),
    /// A declared type.
    Leaf(Type, Span),
}

/// A declared event.
#[derive(Clone, Debug)]
pub struct EventDecl {
    /// Its name.
    pub name: String,
    /// Its `props` fields.
    pub props: Vec<(Arc<str>, Type)>,
    /// Where it was declared.
    pub span: Span,
}

/// What a path lookup found.
pub enum Lookup<'s> {
    /// The path's declared (or implied) type.
    Found(Type),
    /// The path runs into something that has no such field; carries the
    /// prefix that exists and the names that would have been valid there.
    Missing {
        /// How many path segments exist.
        valid_prefix: usize,
        /// Field names available at the failing point.
        candidates: Candidates<'s>,
    },
    /// The path reads a field of a declared scalar or list.
    NotAnObject {
        /// How many path segments lead to the scalar.
        valid_prefix: usize,
        /// Its type.
        ty: Type,
    },
}

/// The program's schema (all `schema` blocks merged).
#[derive(Clone, Debug, Default)]
pub struct Schema {
    root: Vec<(String, Node)>,
    /// Declared events in declaration order.
    pub events: Vec<EventDecl>,
    /// Whether any `schema` block declared a field.
    pub has_fields: bool,
}

impl Schema {
    /// Whether any event was declared (then every used name must be).
    pub fn declares_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// Adds the entries of one `schema` block.
    pub fn add_block(&mut self, block: &ast::Schema, diags: &mut Vec<Diagnostic>) {
        for entry in &block.entries {
            match entry {
                ast::SchemaEntry::Field { path, ty, span } => {
                    self.has_fields = true;
                    let ty = lower_type(ty, diags);
                    self.add_field(path, ty, *span, diags);
                }
                ast::SchemaEntry::Event { name, props, span } => {
                    if let Some(prev) = self.events.iter().find(|e| e.name == name.value) {
                        diags.push(
                            Diagnostic::error(
                                format!("event \"{}\" is declared twice", name.value),
                                name.span,
                                "declared again here",
                            )
                            .with_label(prev.span, "first declared here"),
                        );
                        continue;
                    }
                    let props = props
                        .iter()
                        .map(|(n, t)| (Arc::from(n.name.as_str()), lower_type(t, diags)))
                        .collect();
                    self.events.push(EventDecl {
                        name: name.value.clone(),
                        props,
                        span: *span,
                    });
                }
            }
        }
    }

    fn add_field(
        &mut self,
        path: &[ast::Ident],
        ty: Type,
        span: Span,
        diags: &mut Vec<Diagnostic>,
    ) {
        let mut level = &mut self.root;
        for (i, seg) in path.iter().enumerate() {
            let last = i + 1 == path.len();
            let pos = level.iter().position(|(n, _)| *n == seg.name);
            match pos {
                None => {
                    if last {
                        level.push((seg.name.clone(), Node::Leaf(ty, span)));
                        return;
                    }
                    level.push((seg.name.clone(), Node::Object(Vec::new())));
                    let idx = level.len() - 1;
                    let Node::Object(next) = &mut level[idx].1 else {
                        return;
                    };
                    level = next;
                }
                Some(p) => {
                    match &mut level[p].1 {
                        Node::Leaf(prev_ty, prev_span) => {
                            let prefix = dotted(&path[..=i]);
                            let d = if last {
                                Diagnostic::error(
                                    format!("schema path `{prefix}` is declared twice"),
                                    span,
                                    "declared again here",
                                )
                            } else {
                                Diagnostic::error(
                                format!("schema path `{}` is declared under `{prefix}`, which is {}", dotted(path), prev_ty.a()),
                                span,
                                format!("`{prefix}` has no fields of its own"),
                            )
                            };
                            diags.push(d.with_label(*prev_span, "first declared here"));
                            return;
                        }
                        Node::Object(children) => {
                            if last {
                                diags.push(Diagnostic::error(
                                    format!(
                                        "schema path `{}` is declared both as an object and as {}",
                                        dotted(path),
                                        ty.a()
                                    ),
                                    span,
                                    "fields below it are declared elsewhere",
                                ));
                                return;
                            }
                            level = children;
                        }
                    }
                }
            }
        }
    }

    /// Looks up a field path from the profile's root.
    pub fn lookup(&self, path: &[&str]) -> Lookup<'_> {
        let mut level: &[(String, Node)] = &self.root;
        for (i, seg) in path.iter().enumerate() {
            let Some((_, node)) = level.iter().find(|(n, _)| n == seg) else {
                return Lookup::Missing {
                    valid_prefix: i,
                    candidates: Candidates(CandidateSource::Level(level)),
                };
            };
            match node {
                Node::Object(children) => level = children,
                Node::Leaf(ty, _) => {
                    return lookup_in_type(ty, &path[i + 1..], i + 1);
                }
            }
        }
        Lookup::Found(object_type(level))
    }

    /// Every declared path, dotted, parents before children (for
    /// completion in the REPL).
    pub fn paths(&self) -> Vec<String> {
        fn walk(level: &[(String, Node)], prefix: &str, out: &mut Vec<String>) {
            for (name, node) in level {
                let path = if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}.{name}")
                };
                out.push(path.clone());
                match node {
                    Node::Object(children) => walk(children, &path, out),
                    Node::Leaf(ty, _) => {
                        if let TypeKind::Record(fields) = &ty.kind {
                            for (f, _) in fields.iter() {
                                out.push(format!("{path}.{f}"));
                            }
                        }
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.root, "", &mut out);
        out
    }

    /// The declared event of this name.
    pub fn event(&self, name: &str) -> Option<&EventDecl> {
        self.events.iter().find(|e| e.name == name)
    }
}

fn lookup_in_type<'s>(ty: &'s Type, rest: &[&str], depth: usize) -> Lookup<'s> {
    let mut ty = ty;
    // A field of a nullable record is nullable.
    let mut inherited_null = false;
    for (i, seg) in rest.iter().enumerate() {
        match &ty.kind {
            TypeKind::Map | TypeKind::Any => return Lookup::Found(Type::ANY),
            TypeKind::Record(fields) => match fields.iter().find(|(n, _)| **n == **seg) {
                Some((_, t)) => {
                    inherited_null |= ty.nullable;
                    ty = t;
                }
                None => {
                    return Lookup::Missing {
                        valid_prefix: depth + i,
                        candidates: Candidates(CandidateSource::Fields(fields)),
                    }
                }
            },
            _ => {
                return Lookup::NotAnObject {
                    valid_prefix: depth + i,
                    ty: ty.clone().nullable_if(inherited_null),
                }
            }
        }
    }
    Lookup::Found(ty.clone().nullable_if(inherited_null))
}

/// The field names that were valid where a path went missing. Most
/// lookups that miss are probes (does a rule name shadow a field?), so
/// the names are listed only when a diagnostic asks for them.
#[derive(Clone, Copy, Debug)]
pub struct Candidates<'s>(CandidateSource<'s>);

#[derive(Clone, Copy, Debug)]
enum CandidateSource<'s> {
    /// The fields of a level of the schema.
    Level(&'s [(String, Node)]),
    /// The fields of a record type.
    Fields(&'s [(Arc<str>, Type)]),
}

impl<'s> Candidates<'s> {
    /// The names.
    pub fn names(self) -> impl Iterator<Item = &'s str> {
        let (level, fields) = match self.0 {
            CandidateSource::Level(l) => (l, &[][..]),
            CandidateSource::Fields(f) => (&[][..], f),
        };
        level
            .iter()
            .map(|(n, _)| n.as_str())
            .chain(fields.iter().map(|(n, _)| &**n))
    }
}

fn object_type(level: &[(String, Node)]) -> Type {
    let fields: Vec<(Arc<str>, Type)> = level
        .iter()
        .map(|(n, node)| {
            let t = match node {
                Node::Leaf(t, _) => t.clone(),
                Node::Object(children) => object_type(children),
            };
            (Arc::from(n.as_str()), t)
        })
        .collect();
    Type::of(TypeKind::Record(fields.into()))
}

fn dotted(path: &[ast::Ident]) -> String {
    path.iter()
        .map(|p| p.name.as_str())
        .collect::<Vec<_>>()
        .join(".")
}

/// Turns a written schema type into a checker type.
pub fn lower_type(t: &TypeExpr, diags: &mut Vec<Diagnostic>) -> Type {
    let kind = match &t.kind {
        TypeExprKind::Named(name) => match name.name.as_str() {
            "bool" => TypeKind::Bool,
            "int" => TypeKind::Int,
            "float" => TypeKind::Float,
            "string" => TypeKind::Str,
            "time" => TypeKind::Time,
            "duration" => TypeKind::Duration,
            "map" => TypeKind::Map,
            other => {
                const KNOWN: [&str; 7] =
                    ["bool", "int", "float", "string", "time", "duration", "map"];
                let mut d = Diagnostic::error(
                    format!("unknown type `{other}`"),
                    name.span,
                    "not a type",
                )
                .with_note("types are bool, int, float, string, time, duration, map, list<T>, { field: T, ... } and \"a\" | \"b\" enumerations");
                if let Some(s) = super::suggest::closest(other, KNOWN.iter().copied()) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                }
                diags.push(d);
                TypeKind::Any
            }
        },
        TypeExprKind::List(inner) => TypeKind::List(Box::new(lower_type(inner, diags))),
        TypeExprKind::Record(fields) => {
            let mut out: Vec<(Arc<str>, Type)> = Vec::new();
            for (name, ty) in fields {
                if out.iter().any(|(n, _)| **n == *name.name) {
                    diags.push(Diagnostic::error(
                        format!("field `{}` is declared twice in this record", name.name),
                        name.span,
                        "declared again here",
                    ));
                    continue;
                }
                out.push((Arc::from(name.name.as_str()), lower_type(ty, diags)));
            }
            TypeKind::Record(out.into())
        }
        TypeExprKind::Enum(members) => {
            let names: Vec<String> = members.iter().map(|m| m.value.clone()).collect();
            TypeKind::Enum(Arc::from(names))
        }
    };
    Type {
        kind,
        nullable: t.nullable,
    }
}
