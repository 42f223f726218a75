//! Run-time values and their JSON form.
//!
//! A [`Value`] is what the VM computes with: small, cheap to clone (shared
//! payloads behind `Arc`). Conversion to and from `serde_json::Value`
//! follows LANGUAGE.md §11 (times as RFC 3339, durations as literals).

use crate::semver::Version;
use std::cmp::Ordering;
use std::fmt::Write as _;
use std::sync::Arc;

/// An ordered map value: keys keep their insertion order (map literals keep
/// their key order in results).
pub type MapEntries = Vec<(Arc<str>, Value)>;

/// A value at run time.
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// Absent data.
    #[default]
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// 64-bit signed integer.
    Int(i64),
    /// Finite 64-bit float.
    Float(f64),
    /// Text.
    Str(Arc<str>),
    /// An instant, epoch milliseconds UTC.
    Time(i64),
    /// A span of time in milliseconds.
    Duration(i64),
    /// A semantic version.
    Version(Arc<Version>),
    /// A list. A `Vec` behind the `Arc` (not a slice) so that binding can
    /// refill the last profile's list in place, keeping its capacity.
    List(Arc<Vec<Value>>),
    /// A map with ordered keys.
    Map(Arc<MapEntries>),
}

/// The name of a value's type, for error messages (never the value itself:
/// profiles hold personal data).
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Float(_) => "float",
        Value::Str(_) => "string",
        Value::Time(_) => "time",
        Value::Duration(_) => "duration",
        Value::Version(_) => "version",
        Value::List(_) => "list",
        Value::Map(_) => "map",
    }
}

/// The type's name with its article ("an int", "a string"), for messages.
pub fn article(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Int(_) => "an int",
        Value::Float(_) => "a float",
        Value::Str(_) => "a string",
        Value::Time(_) => "a time",
        Value::Duration(_) => "a duration",
        Value::Version(_) => "a version",
        Value::List(_) => "a list",
        Value::Map(_) => "a map",
    }
}

impl Value {
    /// A string value.
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value read in a condition position: `true` only for `true`.
    pub fn is_true(&self) -> bool {
        matches!(self, Value::Bool(true))
    }

    /// Reads a key of a map value (`None` for a missing key).
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(m) => m.iter().find(|(k, _)| &**k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// `==` of LANGUAGE.md: numbers compare across int/float, lists
    /// element-wise, maps by keys and values regardless of order; values of
    /// different types are unequal.
    pub fn equals(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::Int(a), Value::Float(b)) | (Value::Float(b), Value::Int(a)) => {
                int_float_cmp(*a, *b) == Some(Ordering::Equal)
            }
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Time(a), Value::Time(b)) => a == b,
            (Value::Duration(a), Value::Duration(b)) => a == b,
            (Value::Version(a), Value::Version(b)) => a == b,
            (Value::List(a), Value::List(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.equals(y))
            }
            (Value::Map(a), Value::Map(b)) => {
                a.len() == b.len()
                    && a.iter().all(|(k, v)| {
                        b.iter()
                            .find(|(k2, _)| k2 == k)
                            .is_some_and(|(_, v2)| v.equals(v2))
                    })
            }
            _ => false,
        }
    }

    /// Ordering of LANGUAGE.md: numbers, strings (by code point), times,
    /// durations and versions; `None` for values that are not ordered
    /// against each other.
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
            (Value::Float(a), Value::Float(b)) => a.partial_cmp(b),
            (Value::Int(a), Value::Float(b)) => int_float_cmp(*a, *b),
            (Value::Float(a), Value::Int(b)) => int_float_cmp(*b, *a).map(Ordering::reverse),
            (Value::Str(a), Value::Str(b)) => Some(a.as_ref().cmp(b.as_ref())),
            (Value::Time(a), Value::Time(b)) => Some(a.cmp(b)),
            (Value::Duration(a), Value::Duration(b)) => Some(a.cmp(b)),
            (Value::Version(a), Value::Version(b)) => Some(a.as_ref().cmp(b.as_ref())),
            _ => None,
        }
    }

    /// The JSON form of §11.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.to_string()),
            Value::Time(t) => J::String(crate::time::format_time(*t)),
            Value::Duration(d) => J::String(crate::time::format_duration(*d)),
            Value::Version(v) => J::String(v.to_string()),
            Value::List(items) => J::Array(items.iter().map(Value::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// A value from plain JSON with no type information: numbers become int
    /// or float (§14), everything else maps structurally. `None` for a
    /// float that is not finite (cannot come from standard JSON).
    pub fn from_json(json: &serde_json::Value) -> Value {
        use serde_json::Value as J;
        match json {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => number_from_json(n),
            J::String(s) => Value::str(s),
            J::Array(items) => Value::List(Arc::new(items.iter().map(Value::from_json).collect())),
            J::Object(map) => Value::Map(Arc::new(
                map.iter()
                    .map(|(k, v)| (Arc::from(k.as_str()), Value::from_json(v)))
                    .collect(),
            )),
        }
    }

    /// Renders the value as interpolation shows it: like its JSON form,
    /// strings without quotes.
    pub fn render_into(&self, out: &mut String) {
        match self {
            Value::Str(s) => out.push_str(s),
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Time(t) => out.push_str(&crate::time::format_time(*t)),
            Value::Duration(d) => out.push_str(&crate::time::format_duration(*d)),
            Value::Version(v) => {
                let _ = write!(out, "{v}");
            }
            other => out.push_str(&other.to_json().to_string()),
        }
    }
}

/// A JSON number as a value: `int` exactly when it has no fraction or
/// exponent and fits in i64 (§14).
pub fn number_from_json(n: &serde_json::Number) -> Value {
    if let Some(i) = n.as_i64() {
        // serde_json keeps "1.0" and "1e2" as floats, so as_i64 only
        // succeeds for integer syntax.
        return Value::Int(i);
    }
    match n.as_f64() {
        Some(f) if f.is_finite() => Value::Float(f),
        _ => Value::Null,
    }
}

/// Exact comparison of an int with a float (no rounding through f64).
pub fn int_float_cmp(i: i64, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    // Outside i64's range the float wins outright; inside it, its integral
    // part converts exactly and the fraction breaks ties.
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    if f >= TWO_POW_63 {
        return Some(Ordering::Less);
    }
    if f < -TWO_POW_63 {
        return Some(Ordering::Greater);
    }
    let t = f.trunc();
    let ti = t as i64;
    match i.cmp(&ti) {
        Ordering::Equal => {
            let frac = f - t;
            if frac > 0.0 {
                Some(Ordering::Less)
            } else if frac < 0.0 {
                Some(Ordering::Greater)
            } else {
                Some(Ordering::Equal)
            }
        }
        o => Some(o),
    }
}

/// Writes a JSON string literal (quotes and escapes as serde_json does).
pub fn write_json_str(s: &str, out: &mut String) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            0..=0x1f => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match escape {
            Some(e) => out.push_str(e),
            None => {
                let _ = write!(out, "\\u{:04x}", b);
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

impl Value {
    /// Appends the compact JSON text of [`Value::to_json`] without building
    /// a `serde_json::Value` (the batch path writes millions of these).
    pub fn write_json(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(_) | Value::Version(_) => out.push_str(&self.to_json().to_string()),
            Value::Str(s) => write_json_str(s, out),
            Value::Time(t) => write_json_str(&crate::time::format_time(*t), out),
            Value::Duration(d) => write_json_str(&crate::time::format_duration(*d), out),
            Value::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Value::Map(entries) => {
                out.push('{');
                // Keys are unique: map literals reject repeats and profile
                // objects come from JSON maps.
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_str(k, out);
                    out.push(':');
                    v.write_json(out);
                }
                out.push('}');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_stays_small() {
        assert!(std::mem::size_of::<Value>() <= 24);
    }

    #[test]
    fn int_and_float_compare_exactly() {
        assert!(Value::Int(1).equals(&Value::Float(1.0)));
        assert!(!Value::Int(9007199254740993).equals(&Value::Float(9007199254740992.0)));
        assert_eq!(
            Value::Int(2).compare(&Value::Float(2.5)),
            Some(Ordering::Less)
        );
        assert_eq!(
            Value::Float(-0.5).compare(&Value::Int(0)),
            Some(Ordering::Less)
        );
    }

    #[test]
    fn maps_compare_by_keys_and_values() {
        let a = Value::from_json(&serde_json::json!({"a": 1, "b": [1, 2]}));
        let b = Value::from_json(&serde_json::json!({"b": [1, 2.0], "a": 1}));
        assert!(a.equals(&b));
    }
}
