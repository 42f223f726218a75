//! Binding straight from JSON text: the profile is read once, and only the
//! paths the program reads are turned into values; every other field is
//! skipped by the reader without building anything.
//!
//! The [`BindPlan`] is a trie of the program's slot paths, built once per
//! program. The walk follows it through the profile's objects with
//! `json_reader::JsonReader`; a slot's own value is converted while it is
//! read, exactly as [`super::bind`] converts a `serde_json::Value`, so
//! both entry points give the same slots, errors included. When the reader
//! gives up, the caller falls back to that `Value` path.

use super::bind::{convert, take_value, BindBuffers, Binder, Bound};
use super::json_reader::{Bail, JsonReader, KeyProbe, Token};
use super::reuse::Refill;
use crate::check::SlotInfo;
use crate::limits::Limits;
use serde::Deserialize;
use serde_json::Value as Json;
use std::borrow::Cow;
use std::sync::Arc;

/// One node of the path trie.
#[derive(Clone, Debug, Default)]
struct Node {
    /// Child keys and their node indexes.
    children: Vec<(Box<str>, usize)>,
    /// The child keys, prepared for the reader to recognise in place.
    probes: Vec<KeyProbe>,
    /// The slot whose path ends here.
    slot: Option<u32>,
    /// Every slot at or below this node (to reset or fail them together).
    below: Vec<u32>,
    /// How many keys lead here.
    depth: usize,
}

/// The paths a program reads, as a trie over keys.
#[derive(Clone, Debug, Default)]
pub struct BindPlan {
    nodes: Vec<Node>,
    /// Per slot: the string constants the program compares it with. A
    /// profile string equal to one of them is bound as that constant (a
    /// reference count, not an allocation); values are compared by
    /// content, so only the allocation changes.
    strings: Vec<Vec<Arc<str>>>,
}

impl BindPlan {
    /// Builds the trie for a program's slots.
    pub fn new(slots: &[SlotInfo], strings: Vec<Vec<Arc<str>>>) -> BindPlan {
        let mut plan = BindPlan {
            nodes: vec![Node::default()],
            strings,
        };
        for (id, slot) in slots.iter().enumerate() {
            let mut node = 0;
            plan.nodes[0].below.push(id as u32);
            for seg in &slot.path {
                let next = plan.nodes[node]
                    .children
                    .iter()
                    .find(|(k, _)| **k == **seg)
                    .map(|(_, n)| *n);
                node = match next {
                    Some(n) => n,
                    None => {
                        let depth = plan.nodes[node].depth + 1;
                        plan.nodes.push(Node {
                            depth,
                            ..Node::default()
                        });
                        let n = plan.nodes.len() - 1;
                        plan.nodes[node].children.push((Box::from(&**seg), n));
                        plan.nodes[node].probes.push(KeyProbe::new(seg));
                        n
                    }
                };
                plan.nodes[node].below.push(id as u32);
            }
            plan.nodes[node].slot = Some(id as u32);
        }
        plan
    }
}

/// Binds every slot from a profile given as JSON text, reading it with
/// `json_reader::JsonReader`. `Err` means the reader gave up (the text is
/// not JSON, not an object, or has a shape the reader leaves to
/// serde_json): the caller then parses it with serde_json, whose error
/// message or `Value` binding stands, so the two paths cannot disagree.
pub fn bind_text(
    text: &str,
    plan: &BindPlan,
    slots: &[SlotInfo],
    limits: &Limits,
    out: &mut Vec<Bound>,
    seen: &mut Vec<bool>,
    buffers: &mut BindBuffers,
) -> Result<(), Bail> {
    // Every slot is overwritten (from the profile, or as missing at the
    // end); what it held is the old value its new one is rebuilt in.
    if out.len() != slots.len() {
        out.clear();
        out.resize(slots.len(), Ok(Value::Null));
    }
    seen.clear();
    seen.resize(slots.len(), false);
    let mut reader = JsonReader::new(text);
    if !reader.begin_object()? {
        return Err(Bail);
    }
    // Left over only if the last read gave up half-way.
    buffers.fields.clear();
    buffers.entries.clear();
    let mut walk = Walk {
        plan,
        slots,
        limits,
        out,
        seen,
        buffers,
    };
    walk.entries(&mut reader, 0)?;
    reader.end()?;
    // Fields the profile does not have read as null (and fail when the
    // schema says they may not be).
    for (i, slot) in slots.iter().enumerate() {
        if !seen[i] {
            out[i] = convert(&Json::Null, &slot.ty, &|| slot.dotted(), limits);
        }
    }
    Ok(())
}

/// The walk of the profile's objects along the trie.
struct Walk<'a> {
    plan: &'a BindPlan,
    slots: &'a [SlotInfo],
    limits: &'a Limits,
    out: &'a mut Vec<Bound>,
    seen: &'a mut Vec<bool>,
    /// The evaluator's string cache and work stacks.
    buffers: &'a mut BindBuffers,
}

impl Walk<'_> {
    /// Reads the entries of an object whose `{` is consumed, at trie
    /// node `node`, through its `}`.
    fn entries(&mut self, r: &mut JsonReader<'_>, node: usize) -> Result<(), Bail> {
        let plan = self.plan;
        let mut first = true;
        while let Some(found) = r.next_key_among(first, &plan.nodes[node].probes)? {
            first = false;
            match found.map(|i| plan.nodes[node].children[i].1) {
                Some(child) => {
                    // A key seen again replaces what the first occurrence
                    // bound, as a JSON object built in full would. A node
                    // with a slot binds every slot below it from the new
                    // value anyway; an object's entries bind only the keys
                    // present, so the others must read as missing again.
                    if plan.nodes[child].slot.is_none() {
                        for &s in &plan.nodes[child].below {
                            self.seen[s as usize] = false;
                        }
                    }
                    self.value(r, child)?;
                }
                None => r.skip_value()?,
            }
        }
        r.close()
    }

    /// Reads the value at trie node `node` (not the root) into the slots
    /// at and below it.
    fn value(&mut self, r: &mut JsonReader<'_>, node: usize) -> Result<(), Bail> {
        let n = &self.plan.nodes[node];
        match n.slot {
            Some(id) if n.below.len() == 1 => {
                // Only this slot reads the value: convert it while reading.
                let slot = &self.slots[id as usize];
                let constants = self.plan.strings.get(id as usize).map_or(&[][..], |v| v);
                // (A slot's value is at depth 0: never too deep to read.)
                let token = r.token()?;
                // The common case, a scalar of the slot's own type, as
                // `ValueRead::convert` converts it, but without building the
                // `ValueRead` and taking the old value out (−680
                // instructions of the 20-rule program's ~10,000 end to end).
                let bound = match (&slot.ty.kind, token) {
                    (TypeKind::Int, Token::I64(i)) => Ok(Value::Int(i)),
                    (TypeKind::Int, Token::U64(u)) if i64::try_from(u).is_ok() => {
                        Ok(Value::Int(u as i64))
                    }
                    (TypeKind::Float, Token::F64(f)) if f.is_finite() => Ok(Value::Float(f)),
                    (TypeKind::Bool, Token::Bool(b)) => Ok(Value::Bool(b)),
                    (TypeKind::Str, Token::Str(Some(text)))
                        if text.len() <= self.limits.max_string_bytes =>
                    {
                        Ok(interned(constants, text, &mut self.buffers.reuse.strings))
                    }
                    (_, token) => {
                        let old = take_value(&mut self.out[id as usize]);
                        ValueRead {
                            ty: &slot.ty,
                            path: &PathCtx::Slot(slot),
                            limits: self.limits,
                            strings: constants,
                            depth: 0,
                        }
                        .convert(token, r, self.buffers, old)?
                    }
                };
                self.seen[id as usize] = true;
                self.out[id as usize] = bound;
                Ok(())
            }
            // Other slots read below this one: build the value once and
            // bind them all from it.
            Some(_) => {
                let json = Json::deserialize(&mut *r)?;
                self.bind_from_value(node, &json);
                Ok(())
            }
            None if r.begin_object()? => self.entries(r, node),
            // Not an object, so the slots below read null or fail on it;
            // an array's elements do not matter to them.
            None => {
                let json = match r.peek_token()? {
                    b'[' => {
                        r.skip_value()?;
                        Json::Array(Vec::new())
                    }
                    _ => Json::deserialize(&mut *r)?,
                };
                self.bind_from_value(node, &json);
                Ok(())
            }
        }
    }

    /// Binds the slots at and below `node` from the value found there.
    fn bind_from_value(&mut self, node: usize, json: &Json) {
        let node = &self.plan.nodes[node];
        let mut binder = Binder::new(self.limits, &mut self.buffers.reuse);
        for &s in &node.below {
            let slot = &self.slots[s as usize];
            self.seen[s as usize] = true;
            let old = take_value(&mut self.out[s as usize]);
            self.out[s as usize] = binder.bind_below(Some(json), node.depth, slot, old);
        }
    }
}

// ------------------------------------------------------------------------
// Typed values straight from the text.
//
// A slot that nothing else reads below is converted while it is read: no
// `serde_json::Value` (and no hash map per object) is built. The
// conversion rules, messages and error precedence are exactly those of
// `bind::convert`; the tests below and `tests/bind_text.rs` compare the
// two on many shapes.

use super::strings::Strings;
use crate::check::types::{Type, TypeKind};
use crate::value::Value;

/// The string as a value, sharing a program constant equal to it (the
/// fast tests compare pointers first), or else the evaluator's cached copy
/// of it.
fn interned(constants: &[Arc<str>], s: &str, strings: &mut Strings) -> Value {
    match constants.iter().find(|c| ***c == *s) {
        Some(c) => Value::Str(c.clone()),
        None => Value::Str(strings.get(s)),
    }
}

/// Where a value sits in the profile, turned into text only for errors.
#[derive(Clone, Copy)]
enum PathCtx<'a> {
    Slot(&'a SlotInfo),
    Key(&'a PathCtx<'a>, &'a str),
    Index(&'a PathCtx<'a>, usize),
}

impl PathCtx<'_> {
    fn text(&self) -> String {
        match self {
            PathCtx::Slot(s) => s.dotted(),
            PathCtx::Key(p, k) => format!("{}.{k}", p.text()),
            PathCtx::Index(p, i) => format!("{}[{i}]", p.text()),
        }
    }
}

/// What the schema wanted, in the words of `bind::convert`'s messages.
fn wanted(ty: &Type) -> &'static str {
    match ty.kind {
        TypeKind::Bool => "a bool",
        TypeKind::Int => "an int",
        TypeKind::Float => "a float",
        TypeKind::Str | TypeKind::Enum(_) => "a string",
        TypeKind::Time => "a time (RFC 3339 string or epoch milliseconds)",
        TypeKind::Duration => "a duration (literal such as \"90s\" or milliseconds)",
        TypeKind::Version => "a version",
        TypeKind::List(_) => "a list",
        TypeKind::Map => "a map",
        TypeKind::Record(_) => "an object",
        TypeKind::Any | TypeKind::Null => "anything",
    }
}

/// One value to read and convert to its type.
struct ValueRead<'a> {
    ty: &'a Type,
    path: &'a PathCtx<'a>,
    limits: &'a Limits,
    /// Constants a string here is likely to equal (see `BindPlan::strings`).
    strings: &'a [Arc<str>],
    /// Nesting depth inside untyped data (`bind::untyped`'s depth).
    depth: usize,
}

impl ValueRead<'_> {
    /// Reads the next value from the text, rebuilding `old` (see
    /// [`Binder`]). `Err` only when the reader gives up; bad data is an
    /// `Err` inside the `Bound`.
    fn read(
        &self,
        r: &mut JsonReader<'_>,
        buffers: &mut BindBuffers,
        old: Value,
    ) -> Result<Bound, Bail> {
        if self.too_deep() {
            r.skip_value()?;
            return Ok(self.too_deep_error());
        }
        let token = r.token()?;
        self.convert(token, r, buffers, old)
    }

    /// Converts a value whose first token is read. Inlined into
    /// [`Self::read`], which every list element and record field goes
    /// through.
    #[inline(always)]
    fn convert(
        &self,
        token: Token<'_>,
        r: &mut JsonReader<'_>,
        buffers: &mut BindBuffers,
        old: Value,
    ) -> Result<Bound, Bail> {
        Ok(match token {
            Token::Null => self.null(),
            Token::Bool(v) => match self.ty.kind {
                TypeKind::Bool | TypeKind::Any | TypeKind::Null => Ok(Value::Bool(v)),
                _ => self.mismatch("a bool"),
            },
            Token::I64(i) => self.int(i),
            Token::U64(u) => match i64::try_from(u) {
                Ok(i) => self.int(i),
                // Beyond i64 a JSON integer is a float (§14).
                Err(_) => self.float(u as f64),
            },
            Token::F64(f) => self.float(f),
            Token::Str(Some(s)) => self.text(s, &mut buffers.reuse.strings),
            Token::Str(None) => self.text(r.scratch(), &mut buffers.reuse.strings),
            Token::Array => self.list(r, buffers, old)?,
            Token::Object => self.object(r, buffers, old)?,
        })
    }

    fn untyped(&self) -> bool {
        matches!(self.ty.kind, TypeKind::Any | TypeKind::Null)
    }

    /// Untyped data nested past the limit (checked for every value, so
    /// the test is inline and the message is not).
    #[inline]
    fn too_deep(&self) -> bool {
        self.depth > self.limits.max_nesting_depth && self.untyped()
    }

    #[cold]
    fn too_deep_error(&self) -> Bound {
        Err(Arc::from(format!(
            "profile field `{}` nests deeper than the limit of {}",
            self.path.text(),
            self.limits.max_nesting_depth
        )))
    }

    fn mismatch(&self, found: &str) -> Bound {
        Err(Arc::from(format!(
            "type error: profile field `{}` should be {}, but it is {found}",
            self.path.text(),
            wanted(self.ty)
        )))
    }

    fn null(&self) -> Bound {
        if self.ty.nullable || self.ty.is_any() {
            Ok(Value::Null)
        } else {
            Err(Arc::from(format!(
                "profile field `{}` is required by the schema, but it is missing or null",
                self.path.text()
            )))
        }
    }

    fn int(&self, i: i64) -> Bound {
        match self.ty.kind {
            TypeKind::Int | TypeKind::Any | TypeKind::Null => Ok(Value::Int(i)),
            TypeKind::Float => Ok(Value::Float(i as f64)),
            TypeKind::Time if crate::time::in_range(i) => Ok(Value::Time(i)),
            TypeKind::Time => Err(Arc::from(format!(
                "type error: profile field `{}` is a time outside years 0000–9999",
                self.path.text()
            ))),
            TypeKind::Duration => Ok(Value::Duration(i)),
            _ => self.mismatch("an int"),
        }
    }

    fn float(&self, f: f64) -> Bound {
        match self.ty.kind {
            TypeKind::Float | TypeKind::Any | TypeKind::Null if f.is_finite() => {
                Ok(Value::Float(f))
            }
            TypeKind::Any | TypeKind::Null => Err(Arc::from(format!(
                "profile field `{}` is a number out of range",
                self.path.text()
            ))),
            _ => self.mismatch("a float"),
        }
    }

    fn text(&self, s: &str, strings: &mut Strings) -> Bound {
        match &self.ty.kind {
            TypeKind::Str | TypeKind::Any | TypeKind::Null => self.string(s, strings),
            TypeKind::Enum(members) => {
                if members.iter().any(|m| m == s) {
                    Ok(self.interned(s, strings))
                } else {
                    Err(Arc::from(format!(
                        "profile field `{}` is not one of the values the schema allows",
                        self.path.text()
                    )))
                }
            }
            TypeKind::Time => crate::time::parse_time(s).map(Value::Time).map_err(|_| {
                Arc::from(format!(
                    "type error: profile field `{}` should be a time, but the string is not RFC 3339",
                    self.path.text()
                ))
            }),
            TypeKind::Duration => crate::time::parse_duration(s).map(Value::Duration).map_err(|_| {
                Arc::from(format!(
                    "type error: profile field `{}` should be a duration, but the string is not a duration literal",
                    self.path.text()
                ))
            }),
            _ => self.mismatch("a string"),
        }
    }

    fn string(&self, s: &str, strings: &mut Strings) -> Bound {
        if s.len() > self.limits.max_string_bytes {
            return Err(Arc::from(format!(
                "profile field `{}` is a string of {} bytes, more than the limit of {}",
                self.path.text(),
                s.len(),
                self.limits.max_string_bytes
            )));
        }
        Ok(self.interned(s, strings))
    }

    fn interned(&self, s: &str, strings: &mut Strings) -> Value {
        interned(self.strings, s, strings)
    }

    fn too_long(&self, n: usize) -> Bound {
        Err(Arc::from(format!(
            "profile field `{}` has {n} elements, more than the limit of {}",
            self.path.text(),
            self.limits.max_list_len
        )))
    }

    /// The read of one field of this record.
    fn field<'b>(&'b self, ty: &'b Type, path: &'b PathCtx<'b>) -> ValueRead<'b> {
        ValueRead {
            ty,
            path,
            limits: self.limits,
            strings: &[],
            depth: 0,
        }
    }

    /// The elements of a list whose `[` is read, each rebuilt in the old
    /// list's element at its index.
    fn list(
        &self,
        r: &mut JsonReader<'_>,
        buffers: &mut BindBuffers,
        old: Value,
    ) -> Result<Bound, Bail> {
        let element = match &self.ty.kind {
            TypeKind::List(e) => Some(&**e),
            TypeKind::Any | TypeKind::Null => None,
            _ => {
                r.skip_rest(false)?;
                return Ok(self.mismatch("a list"));
            }
        };
        let mut items = Refill::list(old, &mut buffers.reuse.spares);
        let mut first_error: Option<Arc<str>> = None;
        let mut n = 0usize;
        while r.next_element(n == 0)? {
            // Past the limit or an error, elements are only counted (for
            // the message).
            if n >= self.limits.max_list_len || first_error.is_some() {
                r.skip_value()?;
                n += 1;
                continue;
            }
            let index = PathCtx::Index(self.path, n);
            let read = match element {
                Some(ty) => ValueRead {
                    ty,
                    path: &index,
                    limits: self.limits,
                    strings: self.strings,
                    depth: 0,
                },
                // Untyped elements keep the list's path, as `bind::untyped` does.
                None => ValueRead {
                    ty: self.ty,
                    path: self.path,
                    limits: self.limits,
                    strings: self.strings,
                    depth: self.depth + 1,
                },
            };
            let old = items.take(n);
            match read.read(r, buffers, old)? {
                Ok(v) => items.put(n, v),
                Err(e) => first_error = Some(e),
            }
            n += 1;
        }
        r.close()?;
        if n > self.limits.max_list_len {
            return Ok(self.too_long(n));
        }
        Ok(match first_error {
            Some(e) => Err(e),
            None => Ok(Value::List(items.finish(n, &mut buffers.reuse.spares))),
        })
    }

    /// The entries of an object whose `{` is read.
    fn object(
        &self,
        r: &mut JsonReader<'_>,
        buffers: &mut BindBuffers,
        old: Value,
    ) -> Result<Bound, Bail> {
        match &self.ty.kind {
            TypeKind::Record(fields) => self.record(r, buffers, fields, old),
            TypeKind::Map | TypeKind::Any | TypeKind::Null => self.map(r, buffers, old),
            _ => {
                r.skip_rest(true)?;
                Ok(self.mismatch("a map"))
            }
        }
    }

    /// A record's fields, read in any order onto the `fields` stack, then
    /// put in declared order into the old record's buffer; the first bad
    /// one (in that order) decides.
    fn record(
        &self,
        r: &mut JsonReader<'_>,
        buffers: &mut BindBuffers,
        fields: &[(Arc<str>, Type)],
        old: Value,
    ) -> Result<Bound, Bail> {
        let mut entries = Refill::map(old, &mut buffers.reuse.spares);
        let start = buffers.fields.len();
        buffers.fields.resize_with(start + fields.len(), || None);
        let mut first = true;
        while let Some(key) = r.next_key(first)? {
            first = false;
            let key = key.unwrap_or_else(|| r.scratch());
            match fields.iter().position(|(n, _)| **n == *key) {
                Some(i) => {
                    let (name, fty) = &fields[i];
                    let path = PathCtx::Key(self.path, name);
                    let old = entries.take(i);
                    let v = self.field(fty, &path).read(r, buffers, old)?;
                    buffers.fields[start + i] = Some(v);
                }
                None => r.skip_value()?,
            }
        }
        r.close()?;
        let mut error = None;
        for (i, (name, fty)) in fields.iter().enumerate() {
            let got = buffers.fields[start + i]
                .take()
                .unwrap_or_else(|| self.field(fty, &PathCtx::Key(self.path, name)).null());
            match got {
                Ok(v) => entries.put_entry(i, name, v),
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        buffers.fields.truncate(start);
        Ok(match error {
            Some(e) => Err(e),
            None => Ok(Value::Map(
                entries.finish(fields.len(), &mut buffers.reuse.spares),
            )),
        })
    }

    /// An untyped map's entries, gathered on the `entries` stack (a
    /// repeated key keeps its first place and its last value, as a JSON
    /// object built by serde_json does), then moved into the old map's
    /// buffer; the first bad value decides.
    fn map(
        &self,
        r: &mut JsonReader<'_>,
        buffers: &mut BindBuffers,
        old: Value,
    ) -> Result<Bound, Bail> {
        let mut out = Refill::map(old, &mut buffers.reuse.spares);
        let start = buffers.entries.len();
        let depth = if matches!(self.ty.kind, TypeKind::Map) {
            0
        } else {
            self.depth
        };
        let mut first = true;
        while let Some(key) = r.next_key(first)? {
            first = false;
            let key = match key {
                Some(borrowed) => Cow::Borrowed(borrowed),
                None => Cow::Owned(r.scratch().to_owned()),
            };
            let seen = buffers.entries[start..]
                .iter()
                .position(|(k, _)| **k == *key);
            // A new key's value is rebuilt in the old map's entry at its
            // place.
            let old = match seen {
                Some(_) => Value::Null,
                None => out.take(buffers.entries.len() - start),
            };
            let v = ValueRead {
                ty: &Type::ANY,
                path: self.path,
                limits: self.limits,
                strings: &[],
                depth: depth + 1,
            }
            .read(r, buffers, old)?;
            match seen {
                Some(i) => buffers.entries[start + i].1 = v,
                None => {
                    let key = buffers.reuse.strings.get(&key);
                    buffers.entries.push((key, v));
                }
            }
        }
        r.close()?;
        let mut n = 0;
        let mut error = None;
        for (key, v) in buffers.entries.drain(start..) {
            match v {
                Ok(v) => out.put_entry(n, &key, v),
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
            n += 1;
        }
        Ok(match error {
            Some(e) => Err(e),
            None => Ok(Value::Map(out.finish(n, &mut buffers.reuse.spares))),
        })
    }
}

#[cfg(test)]
mod tests {
    //! The fast reader against serde_json's, on the same seeds: for every
    //! document both bind the same slots or fail with the same error.

    use super::*;
    use crate::population::Rng;
    use crate::program::Program;
    use crate::vm::reuse::Reuse;
    use proptest::prelude::*;
    use serde_json::json;

    fn rules() -> &'static Program {
        static PROGRAM: std::sync::OnceLock<Program> = std::sync::OnceLock::new();
        PROGRAM
            .get_or_init(|| Program::load(concat!(env!("CARGO_MANIFEST_DIR"), "/rules")).unwrap())
    }

    fn untyped() -> &'static Program {
        static PROGRAM: std::sync::OnceLock<Program> = std::sync::OnceLock::new();
        PROGRAM.get_or_init(|| {
            Program::compile(
                "segment a = user.age > 3 and user.country in [\"DE\", \"FR\"]\n\
                 segment b = count(events where .name == \"login\") > 1\n\
                 segment c = behavior.feature_usage > 0.5 or \"beta\" in tags\n\
                 let u = user\n\
                 segment d = u.plan == \"trial\" and onboarding.completed_at is not null\n\
                 segment e = extra.deep[0] == 1\n",
            )
            .unwrap()
        })
    }

    /// Binds with the fast reader (`None` if it gave up) and from the
    /// `Value` serde_json makes of the text (`Err` if it is not a JSON
    /// object), and renders both for comparison. Each is bound twice:
    /// afresh, and into the values of the last document bound on this
    /// thread (as an evaluator does), which must give the same slots.
    fn both_readers(program: &Program, text: &str) -> (Option<String>, Result<String, String>) {
        let (plan, slots, limits) = (
            &program.bind_plan,
            &program.checked.slots[..],
            &program.limits,
        );
        let (mut out, mut seen) = (Vec::new(), Vec::new());
        let fast = bind_text(
            text,
            plan,
            slots,
            limits,
            &mut out,
            &mut seen,
            &mut BindBuffers::default(),
        )
        .ok()
        .map(|()| format!("{out:?}"));
        let json = serde_json::from_str::<Json>(text);
        let slow = match &json {
            Ok(Json::Object(map)) => {
                let mut out = Vec::new();
                super::super::bind::bind_profile(map, slots, limits, &mut out);
                Ok(format!("{out:?}"))
            }
            Ok(other) => Err(format!("not an object: {other}")),
            Err(e) => Err(e.to_string()),
        };
        REUSED.with(|reused| {
            let mut reused = reused.borrow_mut();
            let r = reused
                .entry(program as *const Program as usize)
                .or_default();
            let held = format!("{:?}", r.held);
            let (out, seen, buffers) = &mut r.text;
            let again = bind_text(text, plan, slots, limits, out, seen, buffers)
                .ok()
                .map(|()| format!("{out:?}"));
            assert_eq!(again, fast, "text bound into the last values: {text}");
            if let Ok(Json::Object(map)) = &json {
                let (out, reuse) = &mut r.value;
                Binder::new(limits, reuse).bind_profile(map, slots, out);
                assert_eq!(
                    Ok(format!("{out:?}")),
                    slow,
                    "bound into the last values: {text}"
                );
            }
            // What a rule result or a caller still held is untouched.
            assert_eq!(
                format!("{:?}", r.held),
                held,
                "a held value changed: {text}"
            );
            // Some of these values are held on to while the next document
            // is bound: those must not be refilled.
            r.held = r
                .text
                .0
                .iter()
                .chain(&r.value.0)
                .step_by(2)
                .cloned()
                .collect();
        });
        (fast, slow)
    }

    /// The binding state of an evaluator, per program, kept from one
    /// document to the next on this thread.
    struct Reused {
        text: (Vec<Bound>, Vec<bool>, BindBuffers),
        value: (Vec<Bound>, Reuse),
        held: Vec<Bound>,
    }

    impl Default for Reused {
        fn default() -> Reused {
            Reused {
                text: Default::default(),
                value: (Vec::new(), Reuse::kept()),
                held: Vec::new(),
            }
        }
    }

    thread_local! {
        static REUSED: std::cell::RefCell<std::collections::HashMap<usize, Reused>> =
            Default::default();
    }

    /// A number in `0..n` from the population generator (deterministic,
    /// so a failing seed replays exactly).
    trait Below {
        fn below(&mut self, n: u64) -> u64;
    }

    impl Below for Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.next_u64() % n
        }
    }

    /// Writes `v` as JSON text in one of many equivalent spellings:
    /// whitespace anywhere, escapes for plain characters, numbers with
    /// exponents and trailing zeros.
    fn spell(v: &Json, rng: &mut Rng, out: &mut String) {
        let ws = |rng: &mut Rng, out: &mut String| {
            for _ in 0..rng.below(4).saturating_sub(2) {
                out.push([' ', '\n', '\t', '\r'][rng.below(4) as usize]);
            }
        };
        ws(rng, out);
        match v {
            Json::String(s) => {
                out.push('"');
                for c in s.chars() {
                    match (c, rng.below(8)) {
                        ('"', _) => out.push_str("\\\""),
                        ('\\', _) => out.push_str("\\\\"),
                        (c, _) if (c as u32) < 0x20 => {
                            out.push_str(&format!("\\u{:04x}", c as u32))
                        }
                        (c, 0) if (c as u32) < 0x10000 => {
                            out.push_str(&format!("\\u{:04X}", c as u32))
                        }
                        (c, 0) => {
                            let mut units = [0u16; 2];
                            for u in c.encode_utf16(&mut units) {
                                out.push_str(&format!("\\u{u:04x}"));
                            }
                        }
                        ('/', 1) => out.push_str("\\/"),
                        (c, _) => out.push(c),
                    }
                }
                out.push('"');
            }
            Json::Number(n) => match (n.as_f64(), rng.below(4)) {
                (Some(f), 0) if n.is_f64() => out.push_str(&format!("{f:e}")),
                (Some(f), 1) if n.is_f64() && !format!("{f:?}").contains('e') => {
                    out.push_str(&format!("{f:?}0"))
                }
                _ => out.push_str(&n.to_string()),
            },
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        ws(rng, out);
                        out.push(',');
                    }
                    spell(item, rng, out);
                }
                ws(rng, out);
                out.push(']');
            }
            Json::Object(entries) => {
                out.push('{');
                for (i, (k, item)) in entries.iter().enumerate() {
                    if i > 0 {
                        ws(rng, out);
                        out.push(',');
                    }
                    spell(&Json::String(k.clone()), rng, out);
                    ws(rng, out);
                    out.push(':');
                    spell(item, rng, out);
                }
                ws(rng, out);
                out.push('}');
            }
            other => out.push_str(&other.to_string()),
        }
        ws(rng, out);
    }

    /// Odd values the generated profiles lack, put at random places.
    fn oddity(rng: &mut Rng) -> Json {
        match rng.below(12) {
            0 => json!(null),
            1 => json!(-0.0),
            2 => json!(u64::MAX),
            3 => json!(i64::MIN),
            4 => json!("caf\u{e9} \u{1f600} \"q\" \\ \n"),
            5 => json!([[[[1, [2, {"x": []}]]]]]),
            6 => json!({"": {"a": "b"}, "age": "7"}),
            7 => json!(1.5e300),
            8 => json!([1, "two", 3.25, false, null, {}]),
            9 => json!("2026-11-20T12:00:00Z"),
            10 => json!(12345678901234567u64),
            _ => json!(0.1),
        }
    }

    /// Puts an oddity somewhere in the document (a new key, or in place of
    /// an existing value).
    fn perturb(v: &mut Json, rng: &mut Rng) {
        match v {
            Json::Object(entries) if !entries.is_empty() && rng.below(3) > 0 => {
                let i = rng.below(entries.len() as u64) as usize;
                if let Some((_, child)) = entries.iter_mut().nth(i) {
                    perturb(child, rng);
                }
            }
            Json::Array(items) if !items.is_empty() && rng.below(3) > 0 => {
                let i = rng.below(items.len() as u64) as usize;
                perturb(&mut items[i], rng);
            }
            Json::Object(entries) => {
                let key =
                    ["age", "name", "plan", "extra", "tags", "at", "zz"][rng.below(7) as usize];
                entries.insert(key.to_string(), oddity(rng));
            }
            other => *other = oddity(rng),
        }
    }

    /// Breaks the text in a small way (most such texts are not JSON).
    fn damage(text: &mut String, rng: &mut Rng) {
        let mut bytes = std::mem::take(text).into_bytes();
        let at = rng.below(bytes.len() as u64 + 1) as usize;
        let junk = [
            b'"', b'\\', b',', b']', b'}', b'{', b'0', b'-', b'e', b'.', b'\n', 0x01,
        ];
        match rng.below(3) {
            0 if at < bytes.len() => {
                bytes.remove(at);
            }
            1 if at < bytes.len() => bytes[at] = junk[rng.below(junk.len() as u64) as usize],
            _ => bytes.insert(at, junk[rng.below(junk.len() as u64) as usize]),
        }
        *text = String::from_utf8_lossy(&bytes).into_owned();
    }

    /// One generated document through both readers, for both programs;
    /// how many of the two the fast reader bound itself.
    fn check(seed: u64) -> Result<usize, TestCaseError> {
        let mut rng = Rng::new(seed);
        let now = crate::time::parse_time("2026-11-20T12:00:00Z").unwrap();
        let mut profile = crate::population::generate(1, seed, now).next().unwrap();
        for _ in 0..rng.below(3) {
            perturb(&mut profile, &mut rng);
        }
        let mut text = String::new();
        spell(&profile, &mut rng, &mut text);
        let damaged = rng.below(4) == 0;
        if damaged {
            damage(&mut text, &mut rng);
        }
        let mut fast_reads = 0;
        for program in [rules(), untyped()] {
            let (fast, slow) = both_readers(program, &text);
            match (fast, slow) {
                (Some(fast), Ok(slow)) => {
                    prop_assert_eq!(fast, slow, "{}", text);
                    fast_reads += 1;
                }
                // Only the range of a number no rule reads goes unchecked.
                (Some(_), Err(e)) => prop_assert!(
                    e.starts_with("number out of range"),
                    "read what serde_json rejects ({}): {}",
                    e,
                    text
                ),
                // Giving up is allowed, but not on an undamaged document,
                // or every such profile would take the slow path.
                (None, _) => prop_assert!(damaged, "the fast reader gave up on {}", text),
            }
        }
        Ok(fast_reads)
    }

    #[test]
    fn the_comparison_exercises_the_fast_reader() {
        let reads: usize = (0..300).map(|seed| check(seed).unwrap()).sum();
        // Three in four documents are undamaged: those are all read fast.
        assert!(reads > 400, "{reads}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(600))]
        #[test]
        fn the_fast_reader_binds_as_serde_json_does(seed in any::<u64>()) {
            check(seed)?;
        }
    }
}
