//! The meaning of every operator and built-in function on run-time values.
//!
//! Shared by the VM and by constant folding in the compiler, so a folded
//! constant always equals what the VM would have computed. Errors are
//! messages that name types, never values (profiles hold personal data).

use crate::check::ir::{AggKind, Builtin};
use crate::compile::opcode::{Accepts, BinOp, WindowKind};
use crate::time;
use crate::value::{article, Value};
use std::cmp::Ordering;
use std::sync::Arc;

/// An operation's error message.
pub type OpResult = Result<Value, String>;

const MS_PER_DAY: f64 = 86_400_000.0;
const MS_PER_HOUR: f64 = 3_600_000.0;
const MS_PER_MINUTE: f64 = 60_000.0;

/// Reads a value in a condition position: `null` is false; anything but a
/// bool is a type error.
#[inline]
pub fn condition(v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Null => Ok(false),
        other => Err(format!(
            "type error: a condition must be a bool, but this is {}",
            article(other)
        )),
    }
}

/// Checks a float result: non-finite results are errors (§14).
fn finite(f: f64) -> OpResult {
    if f.is_finite() {
        Ok(Value::Float(f))
    } else {
        Err("the result is not a finite number".into())
    }
}

fn overflow(op: &str) -> String {
    format!("integer overflow in `{op}`")
}

/// Unary minus.
pub fn neg(v: &Value) -> OpResult {
    match v {
        Value::Null => Ok(Value::Null),
        Value::Int(i) => i.checked_neg().map(Value::Int).ok_or_else(|| overflow("-")),
        Value::Float(f) => Ok(Value::Float(-f)),
        Value::Duration(d) => d
            .checked_neg()
            .map(Value::Duration)
            .ok_or_else(|| overflow("-")),
        other => Err(format!("type error: cannot negate {}", article(other))),
    }
}

/// A value where a time is expected: times as they are, and (for data no
/// schema typed) RFC 3339 strings and epoch milliseconds (§14).
pub fn as_time(v: &Value) -> Result<Option<i64>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Time(t) => Ok(Some(*t)),
        Value::Int(ms) if time::in_range(*ms) => Ok(Some(*ms)),
        Value::Int(_) => Err(
            "type error: expected a time, but these epoch milliseconds are outside years 0000–9999"
                .into(),
        ),
        Value::Str(s) => time::parse_time(s).map(Some).map_err(|_| {
            "type error: expected a time, but this string is not an RFC 3339 time".into()
        }),
        other => Err(format!(
            "type error: expected a time, but this is {}",
            article(other)
        )),
    }
}

/// A value where a duration is expected: durations, and untyped duration
/// literals (`"90s"`) or milliseconds.
pub fn as_duration(v: &Value) -> Result<Option<i64>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Duration(d) => Ok(Some(*d)),
        Value::Int(ms) => Ok(Some(*ms)),
        Value::Str(s) => time::parse_duration(s).map(Some).map_err(|_| {
            "type error: expected a duration, but this string is not a duration literal".into()
        }),
        other => Err(format!(
            "type error: expected a duration, but this is {}",
            article(other)
        )),
    }
}

/// Whether an untyped value should be read as a time next to `other`.
fn is_loose_time(v: &Value) -> bool {
    matches!(v, Value::Str(_) | Value::Int(_))
}

/// A binary operator (`and`, `or`, `??` are control flow, not here).
pub fn binary(op: BinOp, a: &Value, b: &Value) -> OpResult {
    match op {
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => arithmetic(op, a, b),
        BinOp::Eq => Ok(Value::Bool(loose_equals(a, b))),
        BinOp::Ne => Ok(Value::Bool(!loose_equals(a, b))),
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let Some(ord) = order(a, b, op.symbol())? else {
                return Ok(Value::Null);
            };
            Ok(Value::Bool(Accepts::of(op).is_some_and(|a| a.admits(ord))))
        }
        BinOp::In => membership(a, b, "in"),
        BinOp::NotIn => membership(a, b, "not in").map(|v| Value::Bool(!v.is_true())),
        BinOp::Contains => match a {
            Value::List(_) => membership(b, a, "contains"),
            Value::Null => Ok(Value::Null),
            Value::Str(s) => match b {
                Value::Str(t) => Ok(Value::Bool(s.contains(&**t))),
                Value::Null => Ok(Value::Null),
                other => Err(format!(
                    "type error: `contains` on a string needs a string, but this is {}",
                    article(other)
                )),
            },
            other => Err(format!(
                "type error: `contains` needs a string or a list, but this is {}",
                article(other)
            )),
        },
        BinOp::StartsWith | BinOp::EndsWith => match (a, b) {
            (Value::Null, _) | (_, Value::Null) => Ok(Value::Null),
            (Value::Str(s), Value::Str(t)) => Ok(Value::Bool(if op == BinOp::StartsWith {
                s.starts_with(&**t)
            } else {
                s.ends_with(&**t)
            })),
            (x, y) => Err(format!(
                "type error: `{}` needs two strings, but these are {} and {}",
                op.symbol(),
                article(x),
                article(y)
            )),
        },
        BinOp::HasAny | BinOp::HasAll => {
            let xs = list_or_empty(a, op.symbol())?;
            let ys = list_or_empty(b, op.symbol())?;
            let hit = |y: &Value| xs.iter().any(|x| x.equals(y));
            Ok(Value::Bool(if op == BinOp::HasAny {
                ys.iter().any(hit)
            } else {
                ys.iter().all(hit)
            }))
        }
    }
}

fn list_or_empty<'a>(v: &'a Value, op: &str) -> Result<&'a [Value], String> {
    match v {
        Value::Null => Ok(&[]),
        Value::List(items) => Ok(items),
        other => Err(format!(
            "type error: `{op}` needs lists, but this is {}",
            article(other)
        )),
    }
}

fn membership(x: &Value, list: &Value, op: &str) -> OpResult {
    match list {
        Value::Null => Ok(Value::Bool(false)),
        Value::List(items) => Ok(Value::Bool(items.iter().any(|i| loose_equals(x, i)))),
        other => Err(format!(
            "type error: `{op}` needs a list, but this is {}",
            article(other)
        )),
    }
}

/// `==` with untyped time data read as times next to a time.
pub fn loose_equals(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Time(t), x) | (x, Value::Time(t)) if is_loose_time(x) => {
            matches!(as_time(x), Ok(Some(u)) if u == *t)
        }
        _ => a.equals(b),
    }
}

/// Orders two values; `Ok(None)` when either is null.
pub fn order(a: &Value, b: &Value, op: &str) -> Result<Option<Ordering>, String> {
    if a.is_null() || b.is_null() {
        return Ok(None);
    }
    if let Some(o) = a.compare(b) {
        return Ok(Some(o));
    }
    match (a, b) {
        (Value::Time(t), x) if is_loose_time(x) => Ok(as_time(x)?.map(|u| t.cmp(&u))),
        (x, Value::Time(t)) if is_loose_time(x) => Ok(as_time(x)?.map(|u| u.cmp(t))),
        _ => Err(format!(
            "type error: cannot compare {} with {} using `{op}`",
            article(a),
            article(b)
        )),
    }
}

fn arithmetic(op: BinOp, a: &Value, b: &Value) -> OpResult {
    use Value::*;
    let sym = op.symbol();
    match (a, b) {
        (Null, _) | (_, Null) => Ok(Null),
        (Int(x), Int(y)) => match op {
            BinOp::Add => x.checked_add(*y).map(Int).ok_or_else(|| overflow(sym)),
            BinOp::Sub => x.checked_sub(*y).map(Int).ok_or_else(|| overflow(sym)),
            BinOp::Mul => x.checked_mul(*y).map(Int).ok_or_else(|| overflow(sym)),
            BinOp::Div => {
                if *y == 0 {
                    Err("division by zero".into())
                } else {
                    finite(*x as f64 / *y as f64)
                }
            }
            _ => {
                if *y == 0 {
                    Err("division by zero (remainder)".into())
                } else {
                    Ok(Int(x.wrapping_rem(*y)))
                }
            }
        },
        (Int(_) | Float(_), Int(_) | Float(_)) => {
            let (x, y) = (num(a), num(b));
            match op {
                BinOp::Add => finite(x + y),
                BinOp::Sub => finite(x - y),
                BinOp::Mul => finite(x * y),
                BinOp::Div => {
                    if y == 0.0 {
                        Err("division by zero".into())
                    } else {
                        finite(x / y)
                    }
                }
                _ => {
                    if y == 0.0 {
                        Err("division by zero (remainder)".into())
                    } else {
                        finite(x % y)
                    }
                }
            }
        }
        (Time(t), d) if matches!(op, BinOp::Add) || (op == BinOp::Sub && !matches!(d, Time(_))) => {
            time_shift(op, *t, d)
        }
        (Time(t), Time(u)) if op == BinOp::Sub => {
            t.checked_sub(*u).map(Duration).ok_or_else(|| overflow(sym))
        }
        (Duration(d), Time(t)) if op == BinOp::Add => t
            .checked_add(*d)
            .filter(|t| time::in_range(*t))
            .map(Time)
            .ok_or_else(|| "the resulting time is out of range (years 0000–9999)".into()),
        (Duration(x), Duration(y)) => match op {
            BinOp::Add => x.checked_add(*y).map(Duration).ok_or_else(|| overflow(sym)),
            BinOp::Sub => x.checked_sub(*y).map(Duration).ok_or_else(|| overflow(sym)),
            BinOp::Div => {
                if *y == 0 {
                    Err("division by zero".into())
                } else {
                    finite(*x as f64 / *y as f64)
                }
            }
            _ => Err(format!("type error: cannot apply `{sym}` to two durations")),
        },
        (Duration(d), Int(_) | Float(_)) if matches!(op, BinOp::Mul | BinOp::Div) => {
            scale_duration(op, *d, b)
        }
        (Int(_) | Float(_), Duration(d)) if op == BinOp::Mul => scale_duration(op, *d, a),
        // Untyped data next to a time or a duration (§14).
        (x, Time(u)) if op == BinOp::Sub && is_loose_time(x) => match as_time(x)? {
            Some(t) => t.checked_sub(*u).map(Duration).ok_or_else(|| overflow(sym)),
            None => Ok(Null),
        },
        (Str(s), y) if matches!(op, BinOp::Add | BinOp::Sub) && matches!(y, Duration(_)) => {
            match time::parse_time(s) {
                Ok(t) => time_shift(op, t, y),
                Err(_) => Err(format!(
                    "type error: expected a time before `{sym}`, but this string is not an RFC 3339 time"
                )),
            }
        }
        (Int(t), Duration(_)) if matches!(op, BinOp::Add | BinOp::Sub) => time_shift(op, *t, b),
        (x, y) => Err(format!(
            "type error: cannot apply `{sym}` to {} and {}",
            article(x),
            article(y)
        )),
    }
}

/// `time ± x` where x should be a duration; untyped strings that are times
/// make `time - time`.
fn time_shift(op: BinOp, t: i64, d: &Value) -> OpResult {
    if op == BinOp::Sub {
        if let Value::Str(s) = d {
            if let Ok(u) = time::parse_time(s) {
                return t
                    .checked_sub(u)
                    .map(Value::Duration)
                    .ok_or_else(|| overflow("-"));
            }
        }
        if let Value::Int(u) = d {
            return t
                .checked_sub(*u)
                .map(Value::Duration)
                .ok_or_else(|| overflow("-"));
        }
    }
    let Some(ms) = as_duration(d)? else {
        return Ok(Value::Null);
    };
    let r = if op == BinOp::Add {
        t.checked_add(ms)
    } else {
        t.checked_sub(ms)
    };
    r.filter(|t| time::in_range(*t))
        .map(Value::Time)
        .ok_or_else(|| "the resulting time is out of range (years 0000–9999)".into())
}

fn scale_duration(op: BinOp, d: i64, factor: &Value) -> OpResult {
    let r = match (op, factor) {
        (BinOp::Mul, Value::Int(k)) => d.checked_mul(*k),
        (BinOp::Div, Value::Int(0)) => return Err("division by zero".into()),
        (BinOp::Div, Value::Int(k)) => d.checked_div(*k),
        (BinOp::Div, Value::Float(f)) if *f == 0.0 => return Err("division by zero".into()),
        (_, other) => {
            let f = num(other);
            let x = if op == BinOp::Mul {
                d as f64 * f
            } else {
                d as f64 / f
            };
            // Truncated to whole milliseconds (§14).
            if x.is_finite() && x.abs() < 9.2e18 {
                Some(x.trunc() as i64)
            } else {
                None
            }
        }
    };
    r.map(Value::Duration)
        .ok_or_else(|| "the resulting duration is out of range".into())
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        _ => f64::NAN,
    }
}

/// Folds one non-null value into the accumulator of `sum`, `min` or `max`
/// (`acc` is null before the first value). What these aggregates mean on
/// values; iterating, filtering and skipping nulls is the caller's.
pub fn accumulate(kind: AggKind, acc: &mut Value, v: Value) -> Result<(), String> {
    match kind {
        AggKind::Sum => {
            *acc = if acc.is_null() {
                match v {
                    Value::Int(_) | Value::Float(_) | Value::Duration(_) => v,
                    other => {
                        return Err(format!(
                            "type error: `sum` adds numbers, but an element is {}",
                            article(&other)
                        ))
                    }
                }
            } else {
                binary(BinOp::Add, acc, &v).map_err(|m| format!("`sum`: {m}"))?
            };
        }
        AggKind::Min | AggKind::Max => {
            if acc.is_null() {
                if !matches!(
                    v,
                    Value::Int(_)
                        | Value::Float(_)
                        | Value::Str(_)
                        | Value::Time(_)
                        | Value::Duration(_)
                        | Value::Version(_)
                ) {
                    return Err(format!(
                        "type error: `{}` needs ordered values, but an element is {}",
                        kind.name(),
                        article(&v)
                    ));
                }
                *acc = v;
            } else {
                let better = if kind == AggKind::Min {
                    Ordering::Less
                } else {
                    Ordering::Greater
                };
                if order(&v, acc, kind.name())? == Some(better) {
                    *acc = v;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// One value of `avg`, as a float.
pub fn avg_term(v: &Value) -> Result<f64, String> {
    match v {
        Value::Int(i) => Ok(*i as f64),
        Value::Float(f) => Ok(*f),
        other => Err(format!(
            "type error: `avg` averages numbers, but an element is {}",
            article(other)
        )),
    }
}

/// `x between lo and hi` (inclusive).
pub fn between(x: &Value, lo: &Value, hi: &Value) -> OpResult {
    let (Some(a), Some(b)) = (order(lo, x, "between")?, order(x, hi, "between")?) else {
        return Ok(Value::Null);
    };
    Ok(Value::Bool(
        a != Ordering::Greater && b != Ordering::Greater,
    ))
}

/// The `within` forms (bounds inclusive; a negative duration is false).
pub fn within(
    kind: WindowKind,
    t: &Value,
    d: &Value,
    anchor: Option<&Value>,
    now: i64,
) -> OpResult {
    let (Some(t), Some(d)) = (as_time(t)?, as_duration(d)?) else {
        return Ok(Value::Null);
    };
    let x = match anchor {
        Some(a) => match as_time(a)? {
            Some(x) => x,
            None => return Ok(Value::Null),
        },
        None => now,
    };
    if d < 0 {
        return Ok(Value::Bool(false));
    }
    let (lo, hi) = match kind {
        WindowKind::Past | WindowKind::Before => (x.saturating_sub(d), x),
        WindowKind::Next | WindowKind::After => (x, x.saturating_add(d)),
    };
    Ok(Value::Bool(lo <= t && t <= hi))
}

/// `x[i]` and `m["k"]`.
pub fn index(base: &Value, idx: &Value) -> OpResult {
    match (base, idx) {
        (Value::Null, _) | (_, Value::Null) => Ok(Value::Null),
        (Value::List(items), Value::Int(i)) => {
            let len = items.len() as i64;
            let i = if *i < 0 { len + i } else { *i };
            Ok(if (0..len).contains(&i) {
                items[i as usize].clone()
            } else {
                Value::Null
            })
        }
        (Value::Map(_), Value::Str(k)) => Ok(base.get(k).cloned().unwrap_or(Value::Null)),
        (Value::List(_), other) => Err(format!(
            "type error: a list index must be an int, but this is {}",
            article(other)
        )),
        (Value::Map(_), other) => Err(format!(
            "type error: a map key must be a string, but this is {}",
            article(other)
        )),
        (other, _) => Err(format!("type error: {} cannot be indexed", article(other))),
    }
}

/// `x.k`
pub fn field(base: &Value, key: &str) -> OpResult {
    match base {
        Value::Map(_) => Ok(base.get(key).cloned().unwrap_or(Value::Null)),
        Value::Null => Ok(Value::Null),
        other => Err(format!(
            "type error: cannot read field `{key}` of {}",
            article(other)
        )),
    }
}

/// Joins the renderings of interpolated parts; `null` if any part is null.
pub fn interpolate(parts: &[Value]) -> Value {
    if parts.iter().any(Value::is_null) {
        return Value::Null;
    }
    let mut out = String::new();
    for p in parts {
        p.render_into(&mut out);
    }
    Value::Str(Arc::from(out))
}

/// Whether a built-in's result depends only on its arguments (not on
/// `now`), so constant arguments can be folded.
pub fn is_pure_builtin(b: Builtin) -> bool {
    !matches!(
        b,
        Builtin::Ago
            | Builtin::DaysSince
            | Builtin::HoursSince
            | Builtin::DaysUntil
            | Builtin::HoursUntil
    )
}

fn text_arg<'a>(name: &str, v: &'a Value) -> Result<Option<&'a str>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Str(s) => Ok(Some(s)),
        other => Err(format!(
            "type error: `{name}` expects a string, but this is {}",
            article(other)
        )),
    }
}

fn float_to_int(f: f64) -> OpResult {
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
        Ok(Value::Int(f as i64))
    } else {
        Err("the number is out of the int range".into())
    }
}

/// Whether `s` is JSON number syntax (`-?digits(.digits)?([eE][+-]?digits)?`).
fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if b.get(i) == Some(&b'0') {
        i += 1;
    } else if !digits(&mut i) {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

fn parse_number(s: &str) -> Result<Value, String> {
    let t = s.trim();
    if !is_json_number(t) {
        return Err("type error: this string is not a number".into());
    }
    if let Ok(i) = t.parse::<i64>() {
        return Ok(Value::Int(i));
    }
    match t.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(Value::Float(f)),
        _ => Err("this number is out of range".into()),
    }
}

fn title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut at_word_start = true;
    for c in s.chars() {
        if c.is_whitespace() {
            at_word_start = true;
            out.push(c);
        } else if at_word_start {
            out.extend(c.to_uppercase());
            at_word_start = false;
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Calls a built-in that does not read `now`.
pub fn call_pure(b: Builtin, args: &[Value]) -> OpResult {
    call(b, args, 0)
}

/// Calls a built-in function.
pub fn call(b: Builtin, args: &[Value], now: i64) -> OpResult {
    let name = b.name();
    let arg = |i: usize| args.get(i).unwrap_or(&Value::Null);
    let x = arg(0);
    if x.is_null() {
        return Ok(Value::Null);
    }
    match b {
        Builtin::Lower | Builtin::Upper | Builtin::Trim | Builtin::Title => {
            let Some(s) = text_arg(name, x)? else {
                return Ok(Value::Null);
            };
            let r = match b {
                Builtin::Lower => s.to_lowercase(),
                Builtin::Upper => s.to_uppercase(),
                Builtin::Trim => s.trim().to_string(),
                _ => title_case(s),
            };
            Ok(Value::Str(Arc::from(r)))
        }
        Builtin::Len => match x {
            Value::Str(s) => Ok(Value::Int(s.chars().count() as i64)),
            Value::List(items) => Ok(Value::Int(items.len() as i64)),
            other => Err(format!(
                "type error: `len` expects a string or a list, but this is {}",
                article(other)
            )),
        },
        Builtin::Abs => match x {
            Value::Int(i) => i
                .checked_abs()
                .map(Value::Int)
                .ok_or_else(|| overflow("abs")),
            Value::Float(f) => Ok(Value::Float(f.abs())),
            Value::Duration(d) => d
                .checked_abs()
                .map(Value::Duration)
                .ok_or_else(|| overflow("abs")),
            other => Err(format!(
                "type error: `abs` expects a number, but this is {}",
                article(other)
            )),
        },
        Builtin::Round | Builtin::Floor | Builtin::Ceil => match x {
            Value::Int(i) => Ok(Value::Int(*i)),
            Value::Float(f) => float_to_int(match b {
                // f64::round rounds half away from zero, as §14 asks.
                Builtin::Round => f.round(),
                Builtin::Floor => f.floor(),
                _ => f.ceil(),
            }),
            other => Err(format!(
                "type error: `{name}` expects a number, but this is {}",
                article(other)
            )),
        },
        Builtin::Min2 | Builtin::Max2 => {
            let y = arg(1);
            let Some(o) = order(x, y, name)? else {
                return Ok(Value::Null);
            };
            let pick_x = if b == Builtin::Min2 {
                o != Ordering::Greater
            } else {
                o != Ordering::Less
            };
            Ok(if pick_x { x.clone() } else { y.clone() })
        }
        Builtin::Semver => {
            let Some(s) = text_arg(name, x)? else {
                return Ok(Value::Null);
            };
            crate::semver::parse(s)
                .map(|v| Value::Version(Arc::new(v)))
                .map_err(|_| "type error: this string is not a semantic version".into())
        }
        Builtin::ToInt => match x {
            Value::Int(i) => Ok(Value::Int(*i)),
            Value::Float(f) if f.fract() == 0.0 => float_to_int(*f),
            Value::Float(_) => {
                Err("type error: cannot convert a float with a fraction to an int".into())
            }
            Value::Str(s) => match parse_number(s)? {
                Value::Int(i) => Ok(Value::Int(i)),
                Value::Float(f) if f.fract() == 0.0 => float_to_int(f),
                _ => Err("type error: this string is not a whole number".into()),
            },
            other => Err(format!(
                "type error: cannot convert {} to an int",
                article(other)
            )),
        },
        Builtin::ToFloat => match x {
            Value::Int(i) => Ok(Value::Float(*i as f64)),
            Value::Float(f) => Ok(Value::Float(*f)),
            Value::Str(s) => match parse_number(s)? {
                Value::Int(i) => Ok(Value::Float(i as f64)),
                f => Ok(f),
            },
            other => Err(format!(
                "type error: cannot convert {} to a float",
                article(other)
            )),
        },
        Builtin::ToString => {
            let mut out = String::new();
            x.render_into(&mut out);
            Ok(Value::Str(Arc::from(out)))
        }
        Builtin::ToTime => match x {
            Value::Time(t) => Ok(Value::Time(*t)),
            Value::Int(ms) if time::in_range(*ms) => Ok(Value::Time(*ms)),
            Value::Int(_) => {
                Err("type error: these epoch milliseconds are outside years 0000–9999".into())
            }
            Value::Str(s) => time::parse_time(s)
                .map(Value::Time)
                .map_err(|_| "type error: this string is not an RFC 3339 time".into()),
            other => Err(format!(
                "type error: cannot convert {} to a time",
                article(other)
            )),
        },
        Builtin::ToDuration => match x {
            Value::Duration(d) => Ok(Value::Duration(*d)),
            Value::Int(ms) => Ok(Value::Duration(*ms)),
            Value::Str(s) => time::parse_duration(s)
                .map(Value::Duration)
                .map_err(|_| "type error: this string is not a duration literal".into()),
            other => Err(format!(
                "type error: cannot convert {} to a duration",
                article(other)
            )),
        },
        Builtin::Days | Builtin::Hours | Builtin::Minutes => {
            let Some(d) = as_duration(x)? else {
                return Ok(Value::Null);
            };
            let unit = match b {
                Builtin::Days => MS_PER_DAY,
                Builtin::Hours => MS_PER_HOUR,
                _ => MS_PER_MINUTE,
            };
            Ok(Value::Float(d as f64 / unit))
        }
        Builtin::Ago => {
            let Some(d) = as_duration(x)? else {
                return Ok(Value::Null);
            };
            now.checked_sub(d)
                .filter(|t| time::in_range(*t))
                .map(Value::Time)
                .ok_or_else(|| "the resulting time is out of range (years 0000–9999)".into())
        }
        Builtin::DaysSince | Builtin::HoursSince | Builtin::DaysUntil | Builtin::HoursUntil => {
            let Some(t) = as_time(x)? else {
                return Ok(Value::Null);
            };
            let diff = match b {
                Builtin::DaysSince | Builtin::HoursSince => now as f64 - t as f64,
                _ => t as f64 - now as f64,
            };
            let unit = if matches!(b, Builtin::DaysSince | Builtin::DaysUntil) {
                MS_PER_DAY
            } else {
                MS_PER_HOUR
            };
            Ok(Value::Float(diff / unit))
        }
        Builtin::Weekday | Builtin::HourOfDay | Builtin::Date => {
            let Some(t) = as_time(x)? else {
                return Ok(Value::Null);
            };
            let zone = match args.get(1) {
                None => None,
                Some(Value::Null) => return Ok(Value::Null),
                Some(Value::Str(z)) => Some(&**z),
                Some(other) => {
                    return Err(format!(
                        "type error: a time zone must be a string, but this is {}",
                        article(other)
                    ))
                }
            };
            let r = match b {
                Builtin::Weekday => time::weekday(t, zone).map(Value::str),
                Builtin::HourOfDay => time::hour_of_day(t, zone).map(Value::Int),
                _ => time::start_of_day(t, zone).map(Value::Time),
            };
            r.map_err(|e| e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remainder_takes_the_sign_of_the_dividend() {
        assert!(binary(BinOp::Rem, &Value::Int(-7), &Value::Int(3))
            .unwrap()
            .equals(&Value::Int(-1)));
        assert!(binary(BinOp::Rem, &Value::Int(i64::MIN), &Value::Int(-1))
            .unwrap()
            .equals(&Value::Int(0)));
    }

    #[test]
    fn overflow_is_an_error() {
        assert!(binary(BinOp::Add, &Value::Int(i64::MAX), &Value::Int(1)).is_err());
        assert!(neg(&Value::Int(i64::MIN)).is_err());
        assert!(call_pure(Builtin::Round, &[Value::Float(1e300)]).is_err());
    }

    #[test]
    fn json_number_syntax() {
        for ok in ["0", "-1", "1.5", "1e3", "-0.5E-2"] {
            assert!(is_json_number(ok), "{ok}");
        }
        for bad in ["", "01", "1.", ".5", "+1", "1e", "abc", "NaN"] {
            assert!(!is_json_number(bad), "{bad}");
        }
    }
}
