//! Binding straight from JSON text: the profile is read once, and only the
//! paths the program reads are turned into values; every other field is
//! skipped by the parser without building anything.
//!
//! The [`BindPlan`] is a trie of the program's slot paths, built once per
//! program. A slot's own subtree is parsed into a `serde_json::Value` and
//! converted exactly as [`super::bind`] converts it, so both entry points
//! give the same slots, errors included.

use super::bind::{convert, json_article, Bound};
use crate::check::SlotInfo;
use crate::limits::Limits;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::Value as Json;
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// One node of the path trie.
#[derive(Clone, Debug, Default)]
struct Node {
    /// Child keys and their node indexes.
    children: Vec<(Box<str>, usize)>,
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
}

impl BindPlan {
    /// Builds the trie for a program's slots.
    pub fn new(slots: &[SlotInfo]) -> BindPlan {
        let mut plan = BindPlan {
            nodes: vec![Node::default()],
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

/// Why a text profile could not be bound at all.
pub enum TextError {
    /// Not JSON (the parser's message, with line and column).
    Json(String),
    /// JSON, but not an object.
    NotAnObject(&'static str),
}

/// Binds every slot from a profile given as JSON text.
pub fn bind_text(
    text: &str,
    plan: &BindPlan,
    slots: &[SlotInfo],
    limits: &Limits,
    out: &mut Vec<Bound>,
    seen: &mut Vec<bool>,
) -> Result<(), TextError> {
    out.clear();
    out.resize(slots.len(), Ok(crate::value::Value::Null));
    seen.clear();
    seen.resize(slots.len(), false);
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = NodeSeed {
        plan,
        node: 0,
        slots,
        limits,
        out,
        seen,
        top: true,
    };
    seed.deserialize(&mut de).map_err(|e| {
        let msg = e.to_string();
        match msg.strip_prefix(NOT_OBJECT) {
            Some(rest) => TextError::NotAnObject(match rest.split_whitespace().next().unwrap_or("") {
                "null" => "null",
                "bool" => "a bool",
                "number" => "a number",
                "string" => "a string",
                _ => "a list",
            }),
            None => TextError::Json(msg),
        }
    })?;
    de.end().map_err(|e| TextError::Json(e.to_string()))?;
    // Fields the profile does not have read as null (and fail when the
    // schema says they may not be).
    for (i, slot) in slots.iter().enumerate() {
        if !seen[i] {
            out[i] = convert(&Json::Null, &slot.ty, &|| slot.dotted(), limits);
        }
    }
    Ok(())
}

const NOT_OBJECT: &str = "onramp:not-an-object:";

struct NodeSeed<'a> {
    plan: &'a BindPlan,
    node: usize,
    slots: &'a [SlotInfo],
    limits: &'a Limits,
    out: &'a mut Vec<Bound>,
    seen: &'a mut Vec<bool>,
    top: bool,
}

impl NodeSeed<'_> {
    /// The value at this node is not an object: slots below it cannot be
    /// read (a type error, §14), the node's own slot gets the value.
    fn not_an_object(&mut self, json: &Json) {
        let node = &self.plan.nodes[self.node];
        for &s in &node.below {
            let slot = &self.slots[s as usize];
            self.seen[s as usize] = true;
            self.out[s as usize] = if Some(s) == node.slot {
                convert(json, &slot.ty, &|| slot.dotted(), self.limits)
            } else if json.is_null() {
                convert(&Json::Null, &slot.ty, &|| slot.dotted(), self.limits)
            } else {
                let depth = node.depth;
                Err(Arc::from(format!(
                    "type error: cannot read field `{}` of `{}`, which is {} in the profile",
                    slot.path[depth],
                    slot.path[..depth].join("."),
                    json_article(json)
                )))
            };
        }
    }
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let node = &self.plan.nodes[self.node];
        if node.slot.is_some() && !self.top {
            // The program reads this value itself: build it (and bind the
            // slots below it from the built value).
            let json = Json::deserialize_value(d)?;
            let mut me = self;
            me.bind_from_value(&json);
            return Ok(());
        }
        d.deserialize_any(self)
    }
}

/// Deserialising a whole `serde_json::Value` through any deserializer.
trait DeserializeValue {
    fn deserialize_value<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Json, D::Error>;
}

impl DeserializeValue for Json {
    fn deserialize_value<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        serde::Deserialize::deserialize(d)
    }
}

impl NodeSeed<'_> {
    /// Binds this node's slot and every slot below it from a built value,
    /// walking the rest of each path as [`super::bind`] does.
    fn bind_from_value(&mut self, json: &Json) {
        let node = &self.plan.nodes[self.node];
        for &s in &node.below {
            let slot = &self.slots[s as usize];
            self.seen[s as usize] = true;
            let mut current: Option<&Json> = Some(json);
            let mut failed = None;
            for (i, seg) in slot.path.iter().enumerate().skip(node.depth) {
                current = match current {
                    Some(Json::Object(m)) => m.get(&**seg),
                    None | Some(Json::Null) => None,
                    Some(other) => {
                        failed = Some(format!(
                            "type error: cannot read field `{seg}` of `{}`, which is {} in the profile",
                            slot.path[..i].join("."),
                            json_article(other)
                        ));
                        break;
                    }
                };
            }
            self.out[s as usize] = match failed {
                Some(message) => Err(Arc::from(message)),
                None => convert(current.unwrap_or(&Json::Null), &slot.ty, &|| slot.dotted(), self.limits),
            };
        }
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let plan = self.plan;
        let node = &plan.nodes[self.node];
        // A key seen again replaces what the first occurrence bound, as a
        // JSON object built in full would.
        let NodeSeed {
            slots,
            limits,
            out,
            seen,
            ..
        } = self;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match node.children.iter().find(|(k, _)| **k == *key) {
                Some((_, child)) => {
                    for &s in &plan.nodes[*child].below {
                        seen[s as usize] = false;
                    }
                    map.next_value_seed(NodeSeed {
                        plan,
                        node: *child,
                        slots,
                        limits,
                        out,
                        seen,
                        top: false,
                    })?;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.scalar(Json::Null)
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        self.scalar(Json::Bool(v))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        self.scalar(Json::from(v))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        self.scalar(Json::from(v))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        self.scalar(serde_json::Number::from_f64(v).map_or(Json::Null, Json::Number))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.scalar(Json::String(v.to_string()))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.scalar(Json::Array(Vec::new()))
    }
}

impl NodeSeed<'_> {
    fn scalar<E: serde::de::Error>(mut self, json: Json) -> Result<(), E> {
        if self.top {
            let kind = match json {
                Json::Null => "null",
                Json::Bool(_) => "bool",
                Json::Number(_) => "number",
                Json::String(_) => "string",
                _ => "list",
            };
            return Err(E::custom(format!("{NOT_OBJECT}{kind}")));
        }
        self.not_an_object(&json);
        Ok(())
    }
}
