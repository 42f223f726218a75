//! Static types of the checker.
//!
//! `Any` is the type of data nobody declared: it is compatible with
//! everything and checked at run time instead (LANGUAGE.md §4, "without a
//! schema the program still compiles").

use std::fmt;
use std::sync::Arc;

/// The shape of a type, without nullability.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeKind {
    /// Unknown until run time.
    Any,
    /// Only `null` (the literal).
    Null,
    /// `bool`
    Bool,
    /// `int`
    Int,
    /// `float`
    Float,
    /// `string`
    Str,
    /// A string from a fixed set (`"trial" | "pro"`).
    Enum(Arc<[String]>),
    /// `time`
    Time,
    /// `duration`
    Duration,
    /// `semver(...)`
    Version,
    /// `list<T>`
    List(Box<Type>),
    /// An untyped map (`map`, map values whose keys vary).
    Map,
    /// A record with known fields (`{ name: string, at: time }`).
    Record(Arc<[(Arc<str>, Type)]>),
}

/// A type and whether it may be `null`.
#[derive(Clone, Debug, PartialEq)]
pub struct Type {
    /// The shape.
    pub kind: TypeKind,
    /// Whether `null` is possible.
    pub nullable: bool,
}

impl Type {
    /// A non-nullable type of this kind.
    pub const fn of(kind: TypeKind) -> Type {
        Type {
            kind,
            nullable: false,
        }
    }
    /// The unknown type (nullable: anything goes).
    pub const ANY: Type = Type {
        kind: TypeKind::Any,
        nullable: true,
    };
    /// `bool`
    pub const BOOL: Type = Type::of(TypeKind::Bool);
    /// `int`
    pub const INT: Type = Type::of(TypeKind::Int);
    /// `float`
    pub const FLOAT: Type = Type::of(TypeKind::Float);
    /// `string`
    pub const STR: Type = Type::of(TypeKind::Str);
    /// `time`
    pub const TIME: Type = Type::of(TypeKind::Time);
    /// `duration`
    pub const DURATION: Type = Type::of(TypeKind::Duration);
    /// `null`
    pub const NULL: Type = Type {
        kind: TypeKind::Null,
        nullable: true,
    };

    /// The same type, nullable.
    pub fn nullable(mut self) -> Type {
        self.nullable = true;
        self
    }

    /// The same type, nullable when `yes`.
    pub fn nullable_if(mut self, yes: bool) -> Type {
        self.nullable |= yes;
        self
    }

    /// The same type, not nullable.
    pub fn non_null(mut self) -> Type {
        self.nullable = false;
        self
    }

    /// `list<T>`
    pub fn list(element: Type) -> Type {
        Type::of(TypeKind::List(Box::new(element)))
    }

    /// Whether nothing is known about it.
    pub fn is_any(&self) -> bool {
        matches!(self.kind, TypeKind::Any)
    }

    /// Whether it is int or float.
    pub fn is_number(&self) -> bool {
        matches!(self.kind, TypeKind::Int | TypeKind::Float)
    }

    /// Whether it is a string (enums included).
    pub fn is_string(&self) -> bool {
        matches!(self.kind, TypeKind::Str | TypeKind::Enum(_))
    }

    /// The comparison family a known type belongs to: values of different
    /// families never compare equal and never order.
    pub fn family(&self) -> Option<&'static str> {
        Some(match &self.kind {
            TypeKind::Any | TypeKind::Null => return None,
            TypeKind::Bool => "bool",
            TypeKind::Int | TypeKind::Float => "number",
            TypeKind::Str | TypeKind::Enum(_) => "string",
            TypeKind::Time => "time",
            TypeKind::Duration => "duration",
            TypeKind::Version => "version",
            TypeKind::List(_) => "list",
            TypeKind::Map | TypeKind::Record(_) => "map",
        })
    }

    /// Whether values of this type are ordered (`<`, `min`, `max`).
    pub fn is_ordered(&self) -> bool {
        matches!(
            self.family(),
            None | Some("number" | "string" | "time" | "duration" | "version")
        )
    }

    /// The element type of a list (Any for unknown).
    pub fn element(&self) -> Type {
        match &self.kind {
            TypeKind::List(t) => (**t).clone(),
            _ => Type::ANY,
        }
    }

    /// The type of a field read from a value of this type, `None` when the
    /// type has no such field (or no fields at all).
    pub fn field(&self, name: &str) -> Option<Type> {
        match &self.kind {
            TypeKind::Any | TypeKind::Map => Some(Type::ANY),
            TypeKind::Null => Some(Type::NULL),
            TypeKind::Record(fields) => fields
                .iter()
                .find(|(n, _)| **n == *name)
                .map(|(_, t)| t.clone().nullable_if(self.nullable)),
            _ => None,
        }
    }

    /// The least type holding both (for `if`, `??`, decision branches),
    /// `None` when they do not fit together.
    pub fn join(&self, other: &Type) -> Option<Type> {
        let nullable = self.nullable || other.nullable;
        let kind = match (&self.kind, &other.kind) {
            (TypeKind::Null, k) | (k, TypeKind::Null) => k.clone(),
            (TypeKind::Any, _) | (_, TypeKind::Any) => TypeKind::Any,
            (a, b) if a == b => a.clone(),
            (TypeKind::Int, TypeKind::Float) | (TypeKind::Float, TypeKind::Int) => TypeKind::Float,
            (TypeKind::Enum(_) | TypeKind::Str, TypeKind::Enum(_) | TypeKind::Str) => TypeKind::Str,
            (TypeKind::List(a), TypeKind::List(b)) => TypeKind::List(Box::new(a.join(b)?)),
            (TypeKind::Map, TypeKind::Record(_)) | (TypeKind::Record(_), TypeKind::Map) => {
                TypeKind::Map
            }
            (TypeKind::Record(a), TypeKind::Record(b)) => {
                if a.len() != b.len() {
                    return None;
                }
                let mut fields = Vec::with_capacity(a.len());
                for (name, ta) in a.iter() {
                    let (_, tb) = b.iter().find(|(n, _)| n == name)?;
                    fields.push((name.clone(), ta.join(tb)?));
                }
                TypeKind::Record(fields.into())
            }
            _ => return None,
        };
        Some(Type { kind, nullable })
    }
}

impl Type {
    /// The type with its indefinite article, for messages ("an int").
    pub fn a(&self) -> String {
        let text = self.to_string();
        let article = match text.chars().next() {
            Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
            Some('"') => "one of",
            _ => "a",
        };
        if matches!(self.kind, TypeKind::Null) {
            return text;
        }
        format!("{article} {text}")
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            TypeKind::Any => return write!(f, "any"),
            TypeKind::Null => return write!(f, "null"),
            TypeKind::Bool => write!(f, "bool")?,
            TypeKind::Int => write!(f, "int")?,
            TypeKind::Float => write!(f, "float")?,
            TypeKind::Str => write!(f, "string")?,
            TypeKind::Enum(members) => {
                let parts: Vec<String> = members.iter().map(|m| format!("{m:?}")).collect();
                write!(f, "{}", parts.join(" | "))?;
                if self.nullable {
                    return write!(f, " (or null)");
                }
                return Ok(());
            }
            TypeKind::Time => write!(f, "time")?,
            TypeKind::Duration => write!(f, "duration")?,
            TypeKind::Version => write!(f, "version")?,
            TypeKind::List(t) => write!(f, "list<{t}>")?,
            TypeKind::Map => write!(f, "map")?,
            TypeKind::Record(fields) => {
                write!(f, "{{ ")?;
                for (i, (n, t)) in fields.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{n}: {t}")?;
                }
                write!(f, " }}")?;
            }
        }
        if self.nullable {
            write!(f, "?")?;
        }
        Ok(())
    }
}
