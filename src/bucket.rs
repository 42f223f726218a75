//! Deterministic experiment assignment, compatible with GrowthBook: the
//! FNV-1a hash, hash versions 1 and 2, equal weights, bucket ranges shrunk by
//! coverage, variation choice and namespaces (LANGUAGE.md §7,
//! `shared/conformance/README.md` §1).
//!
//! Compatibility is the point: a team moving from GrowthBook keeps its users
//! in their buckets. So strings are hashed as UTF-16 code units, as
//! GrowthBook's JavaScript SDK does with `charCodeAt`, and the numeric
//! results are exactly the doubles the SDK computes. `tests/growthbook.rs`
//! runs GrowthBook's own cases against this module.
//!
//! Hashing is on the hot path of every experiment read, so it never
//! allocates: concatenations are fed to the hash as chained iterators, and
//! the decimal text of the inner v2 hash is written to a stack buffer.

/// FNV-1a 32-bit offset basis.
const FNV_OFFSET: u32 = 0x811C_9DC5;
/// FNV-1a 32-bit prime.
const FNV_PRIME: u32 = 0x0100_0193;

/// FNV-1a over 16-bit units; wrapping multiplication is the `mod 2^32` of
/// the algorithm.
fn fnv_units(units: impl Iterator<Item = u16>) -> u32 {
    units.fold(FNV_OFFSET, |h, unit| {
        (h ^ u32::from(unit)).wrapping_mul(FNV_PRIME)
    })
}

/// 32-bit FNV-1a of `s` over its UTF-16 code units (GrowthBook's `fnv32a`).
///
/// For ASCII this equals FNV-1a over the bytes; for other text it follows
/// JavaScript's `charCodeAt`, so non-ASCII ids hash as in GrowthBook's SDKs.
pub fn fnv32a(s: &str) -> u32 {
    fnv_units(s.encode_utf16())
}

/// GrowthBook's `hash(seed, value, version)`: a number in `[0, 1)`.
///
/// - Version 1 (legacy): `fnv32a(value ++ seed) % 1000 / 1000`.
/// - Version 2: `fnv32a(decimal(fnv32a(seed ++ value))) % 10000 / 10000`.
/// - Any other version: `None`.
///
/// Note the opposite concatenation orders of the two versions; both match
/// the SDK.
pub fn hash(seed: &str, value: &str, version: u32) -> Option<f64> {
    match version {
        1 => {
            let h = fnv_units(value.encode_utf16().chain(seed.encode_utf16()));
            Some(f64::from(h % 1000) / 1000.0)
        }
        2 => {
            let inner = fnv_units(seed.encode_utf16().chain(value.encode_utf16()));
            let mut buf = [0u8; 10]; // u32::MAX has 10 decimal digits
            let digits = decimal(inner, &mut buf);
            let outer = fnv_units(digits.iter().map(|&b| u16::from(b)));
            Some(f64::from(outer % 10_000) / 10_000.0)
        }
        _ => None,
    }
}

/// Writes `n` in decimal (no sign, no padding) to the end of `buf` and
/// returns the written digits.
fn decimal(mut n: u32, buf: &mut [u8; 10]) -> &[u8] {
    let mut start = buf.len();
    loop {
        start -= 1;
        // `n % 10` < 10, so the cast cannot truncate.
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[start..]
}

/// `n` equal weights of `1/n` each (GrowthBook's `getEqualWeights`); empty
/// for `n == 0` (the SDK's `n <= 0`).
pub fn equal_weights(n: usize) -> Vec<f64> {
    if n == 0 {
        return Vec::new();
    }
    // Precision loss converting huge counts is irrelevant: n is a number of
    // variants.
    vec![1.0 / n as f64; n]
}

/// The `[start, end)` range of each of `n` variations (GrowthBook's
/// `getBucketRange`).
///
/// `coverage` defaults to 1 and is clamped to `[0, 1]`; a NaN coverage counts
/// as 0 (no traffic), so that a bad value can only exclude users. `weights`
/// are replaced by [`equal_weights`] when absent, of a length other than `n`,
/// or summing outside `[0.99, 1.01]` (a NaN sum included; the SDK would keep
/// NaN weights, which then match no one). Within that tolerance they are used
/// unchanged. Each variation keeps the start of its full-weight range and
/// coverage shortens its end, so excluded traffic sits in the gaps.
pub fn bucket_ranges(n: usize, coverage: Option<f64>, weights: Option<&[f64]>) -> Vec<(f64, f64)> {
    let coverage = match coverage {
        None => 1.0,
        Some(c) if c.is_nan() => 0.0,
        Some(c) => c.clamp(0.0, 1.0),
    };
    let equal;
    let weights = match weights {
        Some(w) if w.len() == n && (0.99..=1.01).contains(&w.iter().sum::<f64>()) => w,
        _ => {
            equal = equal_weights(n);
            &equal
        }
    };
    let mut cumulative = 0.0;
    weights
        .iter()
        .map(|&w| {
            let start = cumulative;
            cumulative += w;
            (start, start + coverage * w)
        })
        .collect()
}

/// The index of the first range with `start <= n < end` (GrowthBook's
/// `chooseVariation`, `-1` there being `None` here). Ranges are half-open,
/// so zero-width ranges never match.
pub fn choose_variation(n: f64, ranges: &[(f64, f64)]) -> Option<usize> {
    ranges
        .iter()
        .position(|&(start, end)| start <= n && n < end)
}

/// Whether a unit falls in the `[start, end)` slice of a namespace
/// (GrowthBook's `inNamespace`): `hash("__" ++ namespace, hash_value, 1)`,
/// always hash version 1 as the SDK does.
pub fn in_namespace(hash_value: &str, namespace: &str, start: f64, end: f64) -> bool {
    // Version 1 hashes value ++ seed, and the seed is "__" ++ namespace.
    let h = fnv_units(
        hash_value
            .encode_utf16()
            .chain("__".encode_utf16())
            .chain(namespace.encode_utf16()),
    );
    let n = f64::from(h % 1000) / 1000.0;
    start <= n && n < end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_check_values() {
        assert_eq!(fnv32a(""), 2_166_136_261);
        assert_eq!(fnv32a("a"), 3_826_002_220);
        assert_eq!(fnv32a("seeda"), 717_764_279);
        assert_eq!(fnv32a("717764279"), 2_503_390_505);
    }

    #[test]
    fn fnv_uses_utf16_code_units() {
        // Expected values computed over UTF-16 code units, as JS does.
        assert_eq!(fnv32a("\u{e9}"), 1_812_687_940);
        assert_eq!(fnv32a("user-\u{e9}"), 2_639_561_196);
        assert_eq!(fnv32a("\u{fc}-1"), 1_462_444_521);
        // A character outside the BMP is two surrogate units.
        assert_eq!(fnv32a("\u{1F600}"), 3_409_036_472);
        assert_eq!(hash("exp", "\u{1F600}", 2), Some(0.7506));
        assert_eq!(hash("exp", "user-\u{e9}", 2), Some(0.3915));
    }

    #[test]
    fn hash_versions() {
        assert_eq!(hash("", "a", 1), Some(0.22));
        assert_eq!(hash("b", "a", 1), Some(0.946)); // hashes "ab"
        assert_eq!(hash("seed", "a", 2), Some(0.0505));
        assert_eq!(hash("abc", "def", 99), None);
        assert_eq!(hash("abc", "def", 0), None);
        assert_eq!(hash("abc", "def", 3), None);
    }

    #[test]
    fn chained_hash_equals_concatenation() {
        for (seed, value) in [
            ("", ""),
            ("s", ""),
            ("", "v"),
            ("welcome-2026-11", "user-42"),
            ("\u{e9}", "\u{1F600}"),
        ] {
            let v1 = fnv32a(&format!("{value}{seed}"));
            assert_eq!(hash(seed, value, 1), Some(f64::from(v1 % 1000) / 1000.0));
            let inner = fnv32a(&format!("{seed}{value}"));
            let outer = fnv32a(&inner.to_string());
            assert_eq!(
                hash(seed, value, 2),
                Some(f64::from(outer % 10_000) / 10_000.0)
            );
        }
    }

    #[test]
    fn decimal_rendering() {
        let mut buf = [0u8; 10];
        for n in [0, 7, 10, 99, 100, 717_764_279, u32::MAX] {
            assert_eq!(decimal(n, &mut buf), n.to_string().as_bytes());
        }
    }

    #[test]
    fn hashes_stay_in_unit_interval() {
        for i in 0..10_000 {
            let id = format!("u{i}");
            for version in [1, 2] {
                let n = hash("seed", &id, version).unwrap_or(-1.0);
                assert!((0.0..1.0).contains(&n));
            }
        }
    }

    #[test]
    fn equal_weights_cases() {
        assert!(equal_weights(0).is_empty());
        assert_eq!(equal_weights(1), vec![1.0]);
        assert_eq!(equal_weights(2), vec![0.5, 0.5]);
        assert_eq!(equal_weights(4), vec![0.25; 4]);
        assert_eq!(equal_weights(3).len(), 3);
    }

    #[test]
    fn bucket_ranges_cases() {
        assert_eq!(bucket_ranges(2, None, None), vec![(0.0, 0.5), (0.5, 1.0)]);
        assert_eq!(
            bucket_ranges(2, Some(0.5), None),
            vec![(0.0, 0.25), (0.5, 0.75)]
        );
        assert_eq!(
            bucket_ranges(2, Some(0.0), None),
            vec![(0.0, 0.0), (0.5, 0.5)]
        );
        assert_eq!(
            bucket_ranges(2, Some(-0.2), None),
            vec![(0.0, 0.0), (0.5, 0.5)]
        );
        assert_eq!(
            bucket_ranges(2, Some(1.5), None),
            vec![(0.0, 0.5), (0.5, 1.0)]
        );
        assert_eq!(
            bucket_ranges(2, Some(f64::NAN), None),
            vec![(0.0, 0.0), (0.5, 0.5)]
        );
        assert_eq!(
            bucket_ranges(2, Some(f64::INFINITY), None),
            vec![(0.0, 0.5), (0.5, 1.0)]
        );
        // Weights inside the tolerance are used unchanged.
        assert_eq!(
            bucket_ranges(2, None, Some(&[0.4, 0.5999])),
            vec![(0.0, 0.4), (0.4, 0.9999)]
        );
        // Wrong length, bad sum or NaN: equal weights instead.
        assert_eq!(
            bucket_ranges(2, None, Some(&[1.0])),
            vec![(0.0, 0.5), (0.5, 1.0)]
        );
        assert_eq!(
            bucket_ranges(2, None, Some(&[0.7, 0.7])),
            vec![(0.0, 0.5), (0.5, 1.0)]
        );
        assert_eq!(
            bucket_ranges(2, None, Some(&[0.2, 0.2])),
            vec![(0.0, 0.5), (0.5, 1.0)]
        );
        assert_eq!(
            bucket_ranges(2, None, Some(&[f64::NAN, 0.5])),
            vec![(0.0, 0.5), (0.5, 1.0)]
        );
        assert!(bucket_ranges(0, None, None).is_empty());
        assert!(bucket_ranges(0, None, Some(&[])).is_empty());
    }

    #[test]
    fn choose_variation_cases() {
        let even = [(0.0, 0.5), (0.5, 1.0)];
        assert_eq!(choose_variation(0.0, &even), Some(0));
        assert_eq!(choose_variation(0.4999, &even), Some(0));
        assert_eq!(choose_variation(0.5, &even), Some(1));
        assert_eq!(choose_variation(1.0, &even), None);
        assert_eq!(choose_variation(-0.1, &even), None);
        assert_eq!(choose_variation(f64::NAN, &even), None);
        assert_eq!(
            choose_variation(0.5, &[(0.0, 0.5), (0.5, 0.5), (0.5, 1.0)]),
            Some(2)
        );
        assert_eq!(choose_variation(0.4, &[(0.0, 0.25), (0.5, 0.75)]), None);
        assert_eq!(choose_variation(0.3, &[]), None);
    }

    #[test]
    fn namespaces() {
        // User "1" hashes to 0.68 in namespace1.
        assert!(in_namespace("1", "namespace1", 0.4, 1.0));
        assert!(!in_namespace("1", "namespace1", 0.0, 0.4));
        assert!(in_namespace("1", "namespace1", 0.68, 0.69));
        assert!(!in_namespace("1", "namespace1", 0.0, 0.68));
        assert_eq!(hash("__namespace1", "1", 1), Some(0.68));
    }
}
