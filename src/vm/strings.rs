//! The strings of recent profiles, so that binding the same text again
//! shares its allocation instead of making a new one.
//!
//! Profiles of one program repeat their strings: event names, map keys,
//! plans and countries recur in every profile. A small table per
//! evaluator turns each recurrence into a reference count: a hit clones
//! the cached `Arc<str>`, a miss allocates and keeps it. The table is
//! open-addressed (linear probing, at most half full), so strings whose
//! hashes collide do not evict each other; when it is full it starts over
//! empty, and the strings in use come back on their next read. Memory is
//! bounded, nothing grows, and the outcome is deterministic. Values compare
//! strings by content, so sharing changes only where the bytes live.

use std::sync::Arc;

/// Slots of the table (a power of two).
const SLOTS: usize = 512;

/// Strings kept before the table starts over: half the slots, so probes
/// stay short.
const MAX_ENTRIES: usize = SLOTS / 2;

/// Strings longer than this are not cached: they are rarely repeated
/// (identifiers, free text), and comparing them costs more.
const MAX_LEN: usize = 64;

/// A bounded table of short strings. `Strings::default()` caches nothing
/// (for one-off conversions, which then cost what they did);
/// `Strings::caching()` caches, its slots allocated on first use.
#[derive(Debug, Default)]
pub struct Strings {
    caching: bool,
    /// `SLOTS` long once in use.
    slots: Vec<Option<Arc<str>>>,
    /// Occupied slots.
    len: usize,
}

impl Strings {
    /// A cache for an evaluator (allocates nothing until used).
    pub fn caching() -> Strings {
        Strings {
            caching: true,
            ..Strings::default()
        }
    }

    /// The string as an `Arc`, shared with an earlier equal one when the
    /// table still holds it.
    #[inline]
    pub fn get(&mut self, s: &str) -> Arc<str> {
        if s.len() > MAX_LEN || !self.caching {
            return Arc::from(s);
        }
        if self.slots.is_empty() {
            self.slots.resize(SLOTS, None);
        }
        let mut i = slot_of(s.as_bytes());
        while let Some(cached) = &self.slots[i] {
            if same_bytes(cached.as_bytes(), s.as_bytes()) {
                return cached.clone();
            }
            i = (i + 1) % SLOTS;
        }
        self.insert(i, s)
    }

    /// Keeps a new string in the free slot `i` (its probe's end).
    fn insert(&mut self, mut i: usize, s: &str) -> Arc<str> {
        if self.len == MAX_ENTRIES {
            // Starting over is simpler than evicting one by one, and rare:
            // only profiles with many distinct short strings fill it.
            self.slots.fill(None);
            self.len = 0;
            i = slot_of(s.as_bytes());
        }
        let new: Arc<str> = Arc::from(s);
        self.slots[i] = Some(new.clone());
        self.len += 1;
        new
    }
}

/// The first slot to probe for a string: a multiplicative hash of its
/// length and of words made of its first and last bytes (all of them up to
/// 16 bytes; longer strings that differ only in the middle start from the
/// same slot). Fixed-size reads, so no `memcpy` call on the hot path.
#[inline]
fn slot_of(b: &[u8]) -> usize {
    let (head, tail) = ends(b);
    let h = (head ^ tail.rotate_left(29) ^ b.len() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> (64 - SLOTS.trailing_zeros())) as usize
}

/// Two words that together hold every byte of a string of up to 16 bytes
/// (the first and last 8, or 4, or the first, middle and last byte).
#[inline]
fn ends(b: &[u8]) -> (u64, u64) {
    let n = b.len();
    if n >= 8 {
        (word8(&b[..8]), word8(&b[n - 8..]))
    } else if n >= 4 {
        (u64::from(word4(&b[..4])), u64::from(word4(&b[n - 4..])))
    } else if n > 0 {
        let w = u64::from(b[0]) << 16 | u64::from(b[n / 2]) << 8 | u64::from(b[n - 1]);
        (w, 0)
    } else {
        (0, 0)
    }
}

#[inline]
fn word8(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(b);
    u64::from_le_bytes(w)
}

#[inline]
fn word4(b: &[u8]) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(b);
    u32::from_le_bytes(w)
}

/// Byte equality; strings of up to 16 bytes (most cached ones) by their
/// two end words instead of a `memcmp` call.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && if a.len() <= 16 {
            ends(a) == ends(b)
        } else {
            a == b
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_string_shares_its_allocation() {
        let mut cache = Strings::caching();
        let a = cache.get("session_start");
        let b = cache.get("session_start");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(&*cache.get("login"), "login");
    }

    #[test]
    fn long_strings_and_the_empty_cache_always_allocate() {
        let long = "x".repeat(MAX_LEN + 1);
        let mut cache = Strings::caching();
        assert!(!Arc::ptr_eq(&cache.get(&long), &cache.get(&long)));
        let mut none = Strings::default();
        assert!(!Arc::ptr_eq(&none.get("a"), &none.get("a")));
    }

    #[test]
    fn strings_with_one_hash_are_both_kept() {
        let mut cache = Strings::caching();
        // Differing only in the middle: the same first slot.
        let (a, b) = ("abcdefgh-1-abcdefgh", "abcdefgh-2-abcdefgh");
        assert_eq!(slot_of(a.as_bytes()), slot_of(b.as_bytes()));
        let (a1, b1) = (cache.get(a), cache.get(b));
        assert_eq!((&*a1, &*b1), (a, b));
        assert!(Arc::ptr_eq(&a1, &cache.get(a)));
        assert!(Arc::ptr_eq(&b1, &cache.get(b)));
    }

    #[test]
    fn equality_by_end_words_is_byte_equality() {
        let short = [
            "", "a", "ab", "abc", "abd", "abcd", "abce", "abcdefg", "abcdefh",
        ];
        let long = ["0123456789abcdef", "0123456789abcdeF", "0123456789abcdex"];
        for words in [&short[..], &long[..]] {
            for a in words {
                for b in words {
                    assert_eq!(
                        same_bytes(a.as_bytes(), b.as_bytes()),
                        a == b,
                        "{a:?} {b:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_full_table_starts_over_and_stays_correct() {
        let mut cache = Strings::caching();
        let words: Vec<String> = (0..MAX_ENTRIES).map(|i| format!("w{i}")).collect();
        let first: Vec<Arc<str>> = words.iter().map(|w| cache.get(w)).collect();
        // All kept: a second round shares every one.
        for (w, a) in words.iter().zip(&first) {
            assert!(Arc::ptr_eq(a, &cache.get(w)), "{w}");
        }
        // One more starts over; everything still reads back right.
        assert_eq!(&*cache.get("one more"), "one more");
        assert_eq!(cache.len, 1);
        for w in &words {
            assert_eq!(&*cache.get(w), w.as_str());
        }
    }
}
