//! Binding: profile JSON → the program's slots.
//!
//! The first phase of an evaluation. Only the paths the program reads are
//! visited; each is converted once, checked against its schema type, and
//! stored in its slot. Data that contradicts the schema does not stop the
//! binding: the slot remembers the error and raises it when a rule reads it
//! (§4, §14), so everything else still evaluates.

use super::reuse::{Refill, Reuse};
use crate::check::types::{Type, TypeKind};
use crate::check::SlotInfo;
use crate::limits::Limits;
use crate::value::{number_from_json, type_name, Value};
use serde_json::Value as Json;
use std::sync::Arc;

/// A slot's content: its value, or why the data could not be used.
pub type Bound = Result<Value, Arc<str>>;

/// Binds every slot from a profile object, once (no cache kept).
pub fn bind_profile(
    profile: &serde_json::Map<String, Json>,
    slots: &[SlotInfo],
    limits: &Limits,
    out: &mut Vec<Bound>,
) {
    Binder::new(limits, &mut Reuse::default()).bind_profile(profile, slots, out)
}

/// Binds one slot from `start`, once (no cache kept): see
/// [`Binder::bind_below`].
pub fn bind_below(start: Option<&Json>, depth: usize, slot: &SlotInfo, limits: &Limits) -> Bound {
    Binder::new(limits, &mut Reuse::default()).bind_below(start, depth, slot, Value::Null)
}

/// Converts JSON into a value of the given type, once (no cache kept).
pub fn convert(json: &Json, ty: &Type, path: PathFn<'_>, limits: &Limits) -> Bound {
    Binder::new(limits, &mut Reuse::default()).convert(json, ty, path, Value::Null)
}

/// JSON with no schema type, converted once (no cache kept).
pub fn untyped(json: &Json, path: PathFn<'_>, limits: &Limits, depth: usize) -> Bound {
    Binder::new(limits, &mut Reuse::default()).untyped(json, path, depth, Value::Null)
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

/// Converts profile data into values: the limits it checks, and what it
/// reuses to spare allocations (the evaluator's, or nothing for one-off
/// conversions).
///
/// Each conversion takes `old`, the value its result replaces (`Null` if
/// none): lists and maps are rebuilt in its buffers when nothing else
/// holds them (see [`super::reuse`]). The result never depends on `old`.
pub struct Binder<'a> {
    limits: &'a Limits,
    reuse: &'a mut Reuse,
}

impl<'a> Binder<'a> {
    /// A binder checking these limits and reusing through `reuse`.
    pub fn new(limits: &'a Limits, reuse: &'a mut Reuse) -> Binder<'a> {
        Binder { limits, reuse }
    }

    /// Binds every slot from a profile object, each into what `out` held
    /// for it.
    pub fn bind_profile(
        &mut self,
        profile: &serde_json::Map<String, Json>,
        slots: &[SlotInfo],
        out: &mut Vec<Bound>,
    ) {
        if out.len() != slots.len() {
            out.clear();
            out.resize(slots.len(), Ok(Value::Null));
        }
        for (slot, bound) in slots.iter().zip(out.iter_mut()) {
            let old = take_value(bound);
            *bound = self.bind_below(profile.get(&*slot.path[0]), 1, slot, old);
        }
    }

    /// Binds a slot from `start`, the profile's value at the first `depth`
    /// segments of the slot's path (`None` when absent), walking the rest.
    /// Shared by both binders, so they agree on every shape of data.
    pub fn bind_below(
        &mut self,
        start: Option<&Json>,
        depth: usize,
        slot: &SlotInfo,
        old: Value,
    ) -> Bound {
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
        self.convert(
            current.unwrap_or(&Json::Null),
            &slot.ty,
            &|| slot.dotted(),
            old,
        )
    }

    /// Converts JSON into a value of the given type; the error names the
    /// path and the types, never the value.
    pub fn convert(&mut self, json: &Json, ty: &Type, path: PathFn<'_>, old: Value) -> Bound {
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
            TypeKind::Any | TypeKind::Null => self.untyped(json, path, 0, old),
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
                Json::String(s) => self.string(s, path),
                _ => mismatch("a string"),
            },
            TypeKind::Enum(members) => match json {
                Json::String(s) if members.iter().any(|m| m == s) => {
                    Ok(Value::Str(self.reuse.strings.get(s)))
                }
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
                Json::Number(n) if n.is_i64() => {
                    Ok(Value::Duration(n.as_i64().unwrap_or_default()))
                }
                _ => mismatch("a duration (literal such as \"90s\" or milliseconds)"),
            },
            TypeKind::Version => mismatch("a version"),
            TypeKind::List(elem) => match json {
                Json::Array(items) => self.list(items, elem, path, old),
                _ => mismatch("a list"),
            },
            TypeKind::Map => match json {
                Json::Object(_) => self.untyped(json, path, 0, old),
                _ => mismatch("a map"),
            },
            TypeKind::Record(fields) => match json {
                Json::Object(map) => self.record(map, fields, path, old),
                _ => mismatch("an object"),
            },
        }
    }

    /// A list of the element type; a bad element invalidates the whole
    /// list (§14), and the path names the element so the data can be fixed.
    fn list(&mut self, items: &[Json], elem: &Type, path: PathFn<'_>, old: Value) -> Bound {
        self.check_len(items.len(), path)?;
        let mut out = Refill::list(old, &mut self.reuse.spares);
        out.reserve(items.len());
        for (i, item) in items.iter().enumerate() {
            let old = out.take(i);
            let v = self.convert(item, elem, &|| format!("{}[{i}]", path()), old)?;
            out.put(i, v);
        }
        Ok(Value::List(out.finish(items.len(), &mut self.reuse.spares)))
    }

    /// A record: its fields in declared order; the first bad one decides.
    fn record(
        &mut self,
        map: &serde_json::Map<String, Json>,
        fields: &[(Arc<str>, Type)],
        path: PathFn<'_>,
        old: Value,
    ) -> Bound {
        let mut out = Refill::map(old, &mut self.reuse.spares);
        out.reserve(fields.len());
        for (i, (name, fty)) in fields.iter().enumerate() {
            let v = map.get(&**name).unwrap_or(&Json::Null);
            let old = out.take(i);
            let child = self.convert(v, fty, &|| format!("{}.{name}", path()), old)?;
            out.put_entry(i, name, child);
        }
        Ok(Value::Map(out.finish(fields.len(), &mut self.reuse.spares)))
    }

    fn string(&mut self, s: &str, path: PathFn<'_>) -> Bound {
        if s.len() > self.limits.max_string_bytes {
            return Err(Arc::from(format!(
                "profile field `{}` is a string of {} bytes, more than the limit of {}",
                path(),
                s.len(),
                self.limits.max_string_bytes
            )));
        }
        Ok(Value::Str(self.reuse.strings.get(s)))
    }

    /// A list longer than the limit is an error (checked before its
    /// elements are converted).
    fn check_len(&self, len: usize, path: PathFn<'_>) -> Result<(), Arc<str>> {
        if len > self.limits.max_list_len {
            return Err(Arc::from(format!(
                "profile field `{}` has {} elements, more than the limit of {}",
                path(),
                len,
                self.limits.max_list_len
            )));
        }
        Ok(())
    }

    /// JSON with no schema type: structural conversion, within the limits.
    pub fn untyped(&mut self, json: &Json, path: PathFn<'_>, depth: usize, old: Value) -> Bound {
        if depth > self.limits.max_nesting_depth {
            return Err(Arc::from(format!(
                "profile field `{}` nests deeper than the limit of {}",
                path(),
                self.limits.max_nesting_depth
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
            Json::String(s) => self.string(s, path)?,
            Json::Array(items) => {
                self.check_len(items.len(), path)?;
                let mut out = Refill::list(old, &mut self.reuse.spares);
                out.reserve(items.len());
                for (i, item) in items.iter().enumerate() {
                    let old = out.take(i);
                    let v = self.untyped(item, path, depth + 1, old)?;
                    out.put(i, v);
                }
                Value::List(out.finish(items.len(), &mut self.reuse.spares))
            }
            Json::Object(map) => {
                let mut out = Refill::map(old, &mut self.reuse.spares);
                out.reserve(map.len());
                for (i, (k, v)) in map.iter().enumerate() {
                    let old = out.take(i);
                    let v = self.untyped(v, path, depth + 1, old)?;
                    let key = self.reuse.strings.get(k);
                    out.put_entry(i, &key, v);
                }
                Value::Map(out.finish(map.len(), &mut self.reuse.spares))
            }
        })
    }
}

/// The value a slot held, moved out (to be rebuilt in its buffers).
pub(crate) fn take_value(bound: &mut Bound) -> Value {
    match bound {
        Ok(v) => std::mem::take(v),
        Err(_) => Value::Null,
    }
}

/// The type name of a bound value (re-exported for error messages).
pub fn value_type(v: &Value) -> &'static str {
    type_name(v)
}

/// What binding keeps from one profile to the next in an evaluator, so
/// that steady state allocates nothing: the string table and spare
/// containers, the text binder's work stacks (records and maps being
/// read, nested ones on top), and the slots of the profile bound before
/// the current one.
#[derive(Debug)]
pub struct BindBuffers {
    pub(crate) reuse: Reuse,
    /// The fields of the records being read, by declared index.
    pub(crate) fields: Vec<Option<Bound>>,
    /// The entries of the untyped maps being read.
    pub(crate) entries: Vec<(Arc<str>, Bound)>,
    /// The slots bound before the current ones. The next binding refills
    /// these, not the current slots: the last run's rule values may share
    /// lists and maps of the current slots (a let holding `events`), and
    /// must read as they are until the next run replaces them. By then
    /// nothing holds these any more, so their buffers can be reused.
    spare_slots: Vec<Bound>,
    /// The `profile` value bound before the current one (as `spare_slots`).
    spare_profile: Value,
}

impl BindBuffers {
    /// Swaps the current slots and `profile` with those bound before: done
    /// before binding (the older ones are refilled), and again to undo
    /// that when the profile could not be read.
    pub(crate) fn swap_generations(&mut self, slots: &mut Vec<Bound>, profile: &mut Value) {
        std::mem::swap(slots, &mut self.spare_slots);
        std::mem::swap(profile, &mut self.spare_profile);
    }
}

impl Default for BindBuffers {
    /// Empty buffers, and reuse kept from one profile to the next.
    fn default() -> BindBuffers {
        BindBuffers {
            reuse: Reuse::kept(),
            fields: Vec::new(),
            entries: Vec::new(),
            spare_slots: Vec::new(),
            spare_profile: Value::Null,
        }
    }
}
