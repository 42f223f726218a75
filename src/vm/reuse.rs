//! Rebuilding a bound value in the allocations of the one it replaces.
//!
//! Binding the next profile into a slot finds there the value of an
//! earlier profile, usually of the same shape: a list of events, each a
//! record. When nothing else holds that value's `Arc` (no rule result,
//! no caller), its buffer is taken out, refilled with the new elements,
//! and put back: no allocation once capacities have grown to the data.
//! The old elements are handed down as the old values of the new ones at
//! the same index, so nested lists and records are reused too. When the
//! `Arc` is shared, the new value gets fresh buffers: the holder keeps
//! seeing the old one. What is bound never depends on the old value, only
//! where it is stored.
//!
//! Lists change length from profile to profile. The elements a shorter
//! list leaves over are kept as [`Spares`] for the next list that runs
//! longer than its old value, rather than freed and allocated again.

use super::strings::Strings;
use crate::value::{MapEntries, Value};
use std::sync::Arc;

/// How many spare lists, and how many spare maps, an evaluator keeps:
/// enough for event histories of varying length, bounded so that one
/// huge profile does not pin its memory for good.
const SPARES: usize = 4096;

/// What binding shares across values and profiles to spare allocations:
/// the string table and the spare containers. `Reuse::default()` keeps
/// nothing (one-off conversions cost what they did); an evaluator's
/// [`Reuse::kept`] keeps both.
#[derive(Debug, Default)]
pub struct Reuse {
    pub(crate) strings: Strings,
    pub(crate) spares: Spares,
}

impl Reuse {
    /// The reuse of an evaluator, kept from one profile to the next.
    pub fn kept() -> Reuse {
        Reuse {
            strings: Strings::caching(),
            spares: Spares {
                limit: SPARES,
                ..Spares::default()
            },
        }
    }
}

/// Lists and maps held by nothing else, left over from shorter lists.
#[derive(Debug, Default)]
pub struct Spares {
    /// How many of each are kept (0 for one-off binders).
    limit: usize,
    lists: Vec<Arc<Vec<Value>>>,
    maps: Vec<Arc<MapEntries>>,
}

impl Spares {
    /// Keeps a value's list or map for later, if it is held alone and
    /// there is room (anything else is dropped).
    #[inline]
    fn keep(&mut self, v: Value) {
        match v {
            Value::List(a) if self.lists.len() < self.limit && alone(&a) => self.lists.push(a),
            Value::Map(a) if self.maps.len() < self.limit && alone(&a) => self.maps.push(a),
            _ => {}
        }
    }
}

/// Whether nothing else holds this `Arc` (what `Arc::get_mut` checks).
fn alone<T>(a: &Arc<T>) -> bool {
    Arc::strong_count(a) == 1 && Arc::weak_count(a) == 0
}

/// The buffer of an old list or map, refilled and then put back.
pub struct Refill<T> {
    /// The old value's `Arc`, held alone (its content moved to `items`).
    arc: Option<Arc<Vec<T>>>,
    /// The old elements, overwritten in place by the new ones.
    pub items: Vec<T>,
}

impl<T> Refill<T> {
    /// The buffer of `arc`, if nothing else holds it.
    #[inline]
    fn of(mut arc: Arc<Vec<T>>) -> Option<Refill<T>> {
        let items = std::mem::take(Arc::get_mut(&mut arc)?);
        Some(Refill {
            items,
            arc: Some(arc),
        })
    }

    /// Nothing to reuse: the buffers are allocated as elements arrive.
    fn fresh() -> Refill<T> {
        Refill {
            arc: None,
            items: Vec::new(),
        }
    }

    /// Room for `n` elements in all (not just `n` more: `items` holds the
    /// old ones until they are overwritten).
    pub fn reserve(&mut self, n: usize) {
        self.items.reserve(n.saturating_sub(self.items.len()));
    }

    /// Element `i` is `item`, past the end appended.
    #[inline]
    pub fn put(&mut self, i: usize, item: T) {
        match self.items.get_mut(i) {
            Some(old) => *old = item,
            None => self.items.push(item),
        }
    }

    /// The refilled buffer behind an `Arc` (the old one when it had one).
    #[inline]
    fn into_arc(self) -> Arc<Vec<T>> {
        let Refill { arc, items } = self;
        match arc {
            Some(mut arc) => match Arc::get_mut(&mut arc) {
                Some(slot) => {
                    *slot = items;
                    arc
                }
                // Not reached: the `Arc` was held alone and never shared.
                None => Arc::new(items),
            },
            None => Arc::new(items),
        }
    }
}

/// What a refillable buffer holds: the elements of a list, or the entries
/// of a map or record. The two differ only in where their value sits and
/// which `Value` variant and spares hold them.
pub trait Element: Sized {
    /// The buffer of `old` if it has this shape, or `old` back.
    fn buffer(old: Value) -> Result<Arc<Vec<Self>>, Value>;
    /// The spare buffers of this shape.
    fn spares(spares: &mut Spares) -> &mut Vec<Arc<Vec<Self>>>;
    /// The element's value, taken out (to rebuild the new one in it).
    fn take_value(&mut self) -> Value;
    /// The element's value.
    fn into_value(self) -> Value;
}

impl Element for Value {
    fn buffer(old: Value) -> Result<Arc<Vec<Value>>, Value> {
        match old {
            Value::List(arc) => Ok(arc),
            other => Err(other),
        }
    }
    fn spares(spares: &mut Spares) -> &mut Vec<Arc<Vec<Value>>> {
        &mut spares.lists
    }
    fn take_value(&mut self) -> Value {
        std::mem::take(self)
    }
    fn into_value(self) -> Value {
        self
    }
}

impl Element for (Arc<str>, Value) {
    fn buffer(old: Value) -> Result<Arc<MapEntries>, Value> {
        match old {
            Value::Map(arc) => Ok(arc),
            other => Err(other),
        }
    }
    fn spares(spares: &mut Spares) -> &mut Vec<Arc<MapEntries>> {
        &mut spares.maps
    }
    fn take_value(&mut self) -> Value {
        std::mem::take(&mut self.1)
    }
    fn into_value(self) -> Value {
        self.1
    }
}

impl<T: Element> Refill<T> {
    /// The buffer of the old value if it has this shape and nothing else
    /// holds it, or else of a spare one (the old value kept as a spare
    /// when it has the other shape).
    #[inline]
    pub fn from_old(old: Value, spares: &mut Spares) -> Refill<T> {
        match T::buffer(old) {
            Ok(arc) => Refill::of(arc).unwrap_or_else(|| Refill::spare(spares)),
            Err(other) => {
                spares.keep(other);
                Refill::spare(spares)
            }
        }
    }

    /// A spare buffer, or none.
    fn spare(spares: &mut Spares) -> Refill<T> {
        T::spares(spares)
            .pop()
            .and_then(Refill::of)
            .unwrap_or_else(Refill::fresh)
    }

    /// The old value at `i`, to rebuild the new one in its buffers.
    #[inline]
    pub fn take(&mut self, i: usize) -> Value {
        self.items
            .get_mut(i)
            .map(Element::take_value)
            .unwrap_or_default()
    }

    /// The buffer of the first `len` elements; old values past them are
    /// kept as spares.
    #[inline]
    pub fn finish(mut self, len: usize, spares: &mut Spares) -> Arc<Vec<T>> {
        if self.items.len() > len {
            self.items
                .drain(len..)
                .for_each(|e| spares.keep(e.into_value()));
        }
        self.into_arc()
    }
}

impl Refill<Value> {
    /// The buffer of the old list value, or else of a spare one.
    #[inline]
    pub fn list(old: Value, spares: &mut Spares) -> Refill<Value> {
        Refill::from_old(old, spares)
    }
}

impl Refill<(Arc<str>, Value)> {
    /// The buffer of the old map or record value, or else of a spare one.
    #[inline]
    pub fn map(old: Value, spares: &mut Spares) -> Refill<(Arc<str>, Value)> {
        Refill::from_old(old, spares)
    }

    /// Entry `i` is `key: value`. A record's keys are the schema's field
    /// names, the same `Arc` each time: it is kept rather than replaced
    /// (two reference count updates less per field).
    #[inline]
    pub fn put_entry(&mut self, i: usize, key: &Arc<str>, value: Value) {
        match self.items.get_mut(i) {
            Some((k, v)) => {
                if !Arc::ptr_eq(k, key) {
                    *k = key.clone();
                }
                *v = value;
            }
            None => self.items.push((key.clone(), value)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[i64]) -> Value {
        Value::List(Arc::new(items.iter().map(|&i| Value::Int(i)).collect()))
    }

    fn ptr(v: &Value) -> *const Vec<Value> {
        match v {
            Value::List(a) => Arc::as_ptr(a),
            _ => std::ptr::null(),
        }
    }

    #[test]
    fn a_list_held_alone_is_refilled_in_place() {
        let old = list(&[1, 2, 3]);
        let at = ptr(&old);
        let mut r = Refill::list(old, &mut Spares::default());
        assert!(r.take(1).equals(&Value::Int(2)));
        for (i, n) in [7, 8].into_iter().enumerate() {
            r.put(i, Value::Int(n));
        }
        let new = Value::List(r.finish(2, &mut Spares::default()));
        assert_eq!(ptr(&new), at);
        assert!(new.equals(&list(&[7, 8])));
    }

    #[test]
    fn a_shared_list_is_left_alone() {
        let old = list(&[1, 2, 3]);
        let kept = old.clone();
        let mut r = Refill::list(old, &mut Spares::default());
        assert!(r.take(0).is_null());
        r.put(0, Value::Int(9));
        let new = Value::List(r.finish(1, &mut Spares::default()));
        assert_ne!(ptr(&new), ptr(&kept));
        assert!(kept.equals(&list(&[1, 2, 3])));
        assert!(new.equals(&list(&[9])));
    }

    #[test]
    fn entries_keep_an_equal_key_and_replace_another() {
        let (a, b) = (Arc::<str>::from("a"), Arc::<str>::from("b"));
        let old = Value::Map(Arc::new(vec![(a.clone(), Value::Int(1))]));
        let mut r = Refill::map(old, &mut Spares::default());
        assert!(r.take(0).equals(&Value::Int(1)));
        r.put_entry(0, &a, Value::Int(2));
        r.put_entry(1, &b, Value::Int(3));
        let new = r.finish(2, &mut Spares::default());
        assert!(Arc::ptr_eq(&new[0].0, &a) && Arc::ptr_eq(&new[1].0, &b));
        assert!(new[0].1.equals(&Value::Int(2)) && new[1].1.equals(&Value::Int(3)));
    }

    #[test]
    fn elements_a_shorter_list_leaves_over_serve_a_longer_one() {
        let mut spares = Reuse::kept().spares;
        let inner = list(&[1]);
        let at = ptr(&inner);
        let old = Value::List(Arc::new(vec![list(&[0]), inner]));
        // Binds shorter: the second element is left over, kept.
        let mut r = Refill::list(old, &mut spares);
        let first = r.take(0);
        r.put(0, first);
        let _ = r.finish(1, &mut spares);
        // A list with no old value of its own gets the spare.
        let r = Refill::list(Value::Null, &mut spares);
        assert_eq!(ptr(&Value::List(r.finish(0, &mut spares))), at);
        // A one-off binder keeps nothing.
        let mut none = Spares::default();
        none.keep(list(&[1]));
        assert!(none.lists.is_empty());
    }
}
