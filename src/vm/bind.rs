//! Binding: profile JSON → the program's slots.
//!
//! The first phase of an evaluation. Only the paths the program reads are
//! visited; each is converted once, checked against its schema type, and
//! stored in its slot. Data that contradicts the schema does not stop the
//! binding: the slot remembers the error and raises it when a rule reads it
//! (§4, §14), so everything else still evaluates.

use crate::check::types::{Type, TypeKind};
use crate::check::SlotInfo;
use crate::limits::Limits;
use crate::value::{number_from_json, type_name, Value};
use serde_json::Value as Json;
use std::sync::Arc;

/// A slot's content: its value, or why the data could not be used.
pub type Bound = Result<Value, Arc<str>>;

/// Binds every slot from a profile object.
pub fn bind_profile(
    profile: &serde_json::Map<String, Json>,
    slots: &[SlotInfo],
    limits: &Limits,
    out: &mut Vec<Bound>,
) {
    out.clear();
    for slot in slots {
        out.push(bind_slot(profile, slot, limits));
    }
}

fn bind_slot(profile: &serde_json::Map<String, Json>, slot: &SlotInfo, limits: &Limits) -> Bound {
    bind_below(profile.get(&*slot.path[0]), 1, slot, limits)
}

/// Binds a slot from `start`, the profile's value at the first `depth`
/// segments of the slot's path (`None` when absent), walking the rest.
/// Shared by both binders, so they agree on every shape of data.
pub fn bind_below(start: Option<&Json>, depth: usize, slot: &SlotInfo, limits: &Limits) -> Bound {
    let mut current = start;
    for (i, seg) in slot.path.iter().enumerate().skip(depth) {
        current = match current {
            Some(Json::Object(m)) => m.get(&**seg),
            None | Some(Json::Null) => None,
            Some(other) => {
                return Err(Arc::from(format!(
                    "type error: cannot read field `{seg}` of `{}`, which is {} in the profile",
                    slot.path[..i].join("."),
                    json_article(other)
                )))
            }
        };
    }
    convert(
        current.unwrap_or(&Json::Null),
        &slot.ty,
        &|| slot.dotted(),
        limits,
    )
}

/// The type name of a JSON value with its article ("an int").
pub fn json_article(j: &Json) -> &'static str {
    match json_type_name(j) {
        "int" => "an int",
        "null" => "null",
        "bool" => "a bool",
        "float" => "a float",
        "string" => "a string",
        "list" => "a list",
        _ => "a map",
    }
}

/// The type name of a JSON value as the language calls it.
pub fn json_type_name(j: &Json) -> &'static str {
    match j {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(n) => {
            if n.is_i64() {
                "int"
            } else {
                "float"
            }
        }
        Json::String(_) => "string",
        Json::Array(_) => "list",
        Json::Object(_) => "map",
    }
}

/// The field path of a value being converted, built only when an error
/// needs it (binding runs per profile; formatting paths would allocate).
pub type PathFn<'a> = &'a dyn Fn() -> String;

/// Converts JSON into a value of the given type; the error names the path
/// and the types, never the value.
pub fn convert(json: &Json, ty: &Type, path: PathFn<'_>, limits: &Limits) -> Bound {
    let mismatch = |want: &str| -> Bound {
        let path = path();
        Err(Arc::from(format!(
            "type error: profile field `{path}` should be {want}, but it is {}",
            json_article(json)
        )))
    };
    if json.is_null() {
        return if ty.nullable || ty.is_any() {
            Ok(Value::Null)
        } else {
            Err(Arc::from(format!(
                "profile field `{}` is required by the schema, but it is missing or null",
                path()
            )))
        };
    }
    match &ty.kind {
        TypeKind::Any | TypeKind::Null => untyped(json, path, limits, 0),
        TypeKind::Bool => match json {
            Json::Bool(b) => Ok(Value::Bool(*b)),
            _ => mismatch("a bool"),
        },
        TypeKind::Int => match json {
            Json::Number(n) if n.is_i64() => Ok(Value::Int(n.as_i64().unwrap_or_default())),
            _ => mismatch("an int"),
        },
        TypeKind::Float => match json {
            Json::Number(n) => match number_from_json(n) {
                Value::Int(i) => Ok(Value::Float(i as f64)),
                Value::Float(f) => Ok(Value::Float(f)),
                _ => mismatch("a finite float"),
            },
            _ => mismatch("a float"),
        },
        TypeKind::Str => match json {
            Json::String(s) => string(s, path, limits),
            _ => mismatch("a string"),
        },
        TypeKind::Enum(members) => match json {
            Json::String(s) if members.iter().any(|m| m == s) => Ok(Value::str(s)),
            Json::String(_) => Err(Arc::from(format!(
                "profile field `{}` is not one of the values the schema allows",
                path()
            ))),
            _ => mismatch("a string"),
        },
        TypeKind::Time => match json {
            Json::String(s) => crate::time::parse_time(s).map(Value::Time).map_err(|_| {
                Arc::from(format!(
                    "type error: profile field `{}` should be a time, but the string is not RFC 3339",
                    path()
                ))
            }),
            Json::Number(n) if n.is_i64() => {
                let ms = n.as_i64().unwrap_or_default();
                if crate::time::in_range(ms) {
                    Ok(Value::Time(ms))
                } else {
                    Err(Arc::from(format!(
                        "type error: profile field `{}` is a time outside years 0000–9999",
                        path()
                    )))
                }
            }
            _ => mismatch("a time (RFC 3339 string or epoch milliseconds)"),
        },
        TypeKind::Duration => match json {
            Json::String(s) => crate::time::parse_duration(s)
                .map(Value::Duration)
                .map_err(|_| {
                    Arc::from(format!(
                        "type error: profile field `{}` should be a duration, but the string is not a duration literal",
                        path()
                    ))
                }),
            Json::Number(n) if n.is_i64() => Ok(Value::Duration(n.as_i64().unwrap_or_default())),
            _ => mismatch("a duration (literal such as \"90s\" or milliseconds)"),
        },
        TypeKind::Version => mismatch("a version"),
        TypeKind::List(elem) => match json {
            Json::Array(items) => {
                if items.len() > limits.max_list_len {
                    return Err(Arc::from(format!(
                        "profile field `{}` has {} elements, more than the limit of {}",
                        path(),
                        items.len(),
                        limits.max_list_len
                    )));
                }
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    // A bad element invalidates the whole list (§14); the
                    // path names the element so the data can be fixed.
                    match convert(item, elem, &|| format!("{}[{i}]", path()), limits) {
                        Ok(v) => out.push(v),
                        Err(e) => return Err(e),
                    }
                }
                Ok(Value::List(Arc::new(out)))
            }
            _ => mismatch("a list"),
        },
        TypeKind::Map => match json {
            Json::Object(_) => untyped(json, path, limits, 0),
            _ => mismatch("a map"),
        },
        TypeKind::Record(fields) => match json {
            Json::Object(map) => {
                let mut out = Vec::with_capacity(fields.len());
                for (name, fty) in fields.iter() {
                    let v = map.get(&**name).unwrap_or(&Json::Null);
                    let child = convert(v, fty, &|| format!("{}.{name}", path()), limits)?;
                    out.push((name.clone(), child));
                }
                Ok(Value::Map(Arc::new(out)))
            }
            _ => mismatch("an object"),
        },
    }
}

fn string(s: &str, path: PathFn<'_>, limits: &Limits) -> Bound {
    if s.len() > limits.max_string_bytes {
        return Err(Arc::from(format!(
            "profile field `{}` is a string of {} bytes, more than the limit of {}",
            path(),
            s.len(),
            limits.max_string_bytes
        )));
    }
    Ok(Value::str(s))
}

/// JSON with no schema type: structural conversion, within the limits.
pub fn untyped(json: &Json, path: PathFn<'_>, limits: &Limits, depth: usize) -> Bound {
    if depth > limits.max_nesting_depth {
        return Err(Arc::from(format!(
            "profile field `{}` nests deeper than the limit of {}",
            path(),
            limits.max_nesting_depth
        )));
    }
    Ok(match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match number_from_json(n) {
            Value::Null => {
                return Err(Arc::from(format!(
                    "profile field `{}` is a number out of range",
                    path()
                )))
            }
            v => v,
        },
        Json::String(s) => string(s, path, limits)?,
        Json::Array(items) => {
            if items.len() > limits.max_list_len {
                return Err(Arc::from(format!(
                    "profile field `{}` has {} elements, more than the limit of {}",
                    path(),
                    items.len(),
                    limits.max_list_len
                )));
            }
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(untyped(item, path, limits, depth + 1)?);
            }
            Value::List(Arc::new(out))
        }
        Json::Object(map) => {
            let mut out = Vec::with_capacity(map.len());
            for (k, v) in map {
                out.push((Arc::from(k.as_str()), untyped(v, path, limits, depth + 1)?));
            }
            Value::Map(Arc::new(out))
        }
    })
}

/// The type name of a bound value (re-exported for error messages).
pub fn value_type(v: &Value) -> &'static str {
    type_name(v)
}
