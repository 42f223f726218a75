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

use crate::value::Value;
use std::sync::Arc;

/// The buffer of an old list or map, refilled and then put back.
pub struct Refill<T> {
    /// The old value's `Arc`, held alone (its content moved to `items`).
    arc: Option<Arc<Vec<T>>>,
    /// The old elements, overwritten in place by the new ones.
    pub items: Vec<T>,
}

impl<T> Refill<T> {
    /// Takes the buffer out of `arc` if nothing else holds it.
    fn of(mut arc: Arc<Vec<T>>) -> Refill<T> {
        match Arc::get_mut(&mut arc) {
            Some(items) => Refill {
                items: std::mem::take(items),
                arc: Some(arc),
            },
            None => Refill::fresh(),
        }
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

    /// The refilled buffer behind an `Arc` (the old one when it had one),
    /// ending after `len` elements.
    pub fn finish(self, len: usize) -> Arc<Vec<T>> {
        let Refill { arc, mut items } = self;
        items.truncate(len);
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

impl Refill<Value> {
    /// The buffer of an old list value.
    pub fn list(old: Value) -> Refill<Value> {
        match old {
            Value::List(arc) => Refill::of(arc),
            _ => Refill::fresh(),
        }
    }

    /// The old element `i`, to rebuild the new one in its buffers.
    #[inline]
    pub fn take(&mut self, i: usize) -> Value {
        self.items
            .get_mut(i)
            .map(std::mem::take)
            .unwrap_or_default()
    }
}

impl Refill<(Arc<str>, Value)> {
    /// The buffer of an old map or record value.
    pub fn map(old: Value) -> Refill<(Arc<str>, Value)> {
        match old {
            Value::Map(arc) => Refill::of(arc),
            _ => Refill::fresh(),
        }
    }

    /// The old value of entry `i`, to rebuild the new one in its buffers.
    #[inline]
    pub fn take(&mut self, i: usize) -> Value {
        self.items
            .get_mut(i)
            .map(|(_, v)| std::mem::take(v))
            .unwrap_or_default()
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
        let mut r = Refill::list(old);
        assert!(r.take(1).equals(&Value::Int(2)));
        for (i, n) in [7, 8].into_iter().enumerate() {
            r.put(i, Value::Int(n));
        }
        let new = Value::List(r.finish(2));
        assert_eq!(ptr(&new), at);
        assert!(new.equals(&list(&[7, 8])));
    }

    #[test]
    fn a_shared_list_is_left_alone() {
        let old = list(&[1, 2, 3]);
        let kept = old.clone();
        let mut r = Refill::list(old);
        assert!(r.take(0).is_null());
        r.put(0, Value::Int(9));
        let new = Value::List(r.finish(1));
        assert_ne!(ptr(&new), ptr(&kept));
        assert!(kept.equals(&list(&[1, 2, 3])));
        assert!(new.equals(&list(&[9])));
    }

    #[test]
    fn entries_keep_an_equal_key_and_replace_another() {
        let (a, b) = (Arc::<str>::from("a"), Arc::<str>::from("b"));
        let old = Value::Map(Arc::new(vec![(a.clone(), Value::Int(1))]));
        let mut r = Refill::map(old);
        assert!(r.take(0).equals(&Value::Int(1)));
        r.put_entry(0, &a, Value::Int(2));
        r.put_entry(1, &b, Value::Int(3));
        let new = r.finish(2);
        assert!(Arc::ptr_eq(&new[0].0, &a) && Arc::ptr_eq(&new[1].0, &b));
        assert!(new[0].1.equals(&Value::Int(2)) && new[1].1.equals(&Value::Int(3)));
    }
}
